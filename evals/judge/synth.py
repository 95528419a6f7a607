"""Synthetic (premise, statement, label) pairs for the citation-support judge.

    python evals/judge/synth.py --n 2000 --out /tmp/synth.jsonl
    python evals/judge/synth.py --n 2000 --out /tmp/pqa.jsonl --sources pubmedqa

    from synth import read_scifact_abstracts, read_pubmedqa_contexts, synthetic_pairs

A pair is (premise, hypothesis, label, kind). The premise is the window of an abstract the
statement is about: its source sentence, sometimes with a neighbour, so the judge also sees
2-sentence windows. label 1 = the premise supports the statement, 0 = it does not.

Supported kinds restate the window: framing trimmed ("We show that ..."), a clause dropped, two
sentences fused, a number in another surface form, a few safe synonyms. Unsupported kinds change
ONE detail (a number, a direction word, a negation, an entity taken from another abstract), join
a false clause to a true one, come from another paper with many shared words, or fuse a second
sentence the premise does not hold (FactCC, Kryscinski et al. 2020; FRANK typology, Pagnoni et al.
2021; MiniCheck, Tang et al. 2024). Negatives are built on the same surface forms as positives
(trimmed, clause-dropped, verbatim), so "is it verbatim" is no shortcut, and every edit is checked
to have changed the text.

Sources, read from ../shared/benchmarks (skipped with a note when absent):
- SciFact ``corpus.jsonl``: abstracts only, never the claims files;
- PubMedQA PQA-L ``ori_pqal.json``: CONTEXTS paragraphs + LONG_ANSWER, split into sentences.
The bundled corpus (assistant/data/corpus) is never read: it is reserved for held-out test cases.
Caveat: ../shared/benchmarks/scifact/README.md says to use SciFact to measure and not to train a
shipped artifact on it, and validate_judge.py scores the judge on SciFact claims against these same
abstracts; ``--sources pubmedqa`` keeps SciFact out of a training set.

Stdlib only; deterministic for a seed (no set iteration reaches the output).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT.parent / "shared" / "benchmarks"
DEFAULT_SCIFACT = BENCHMARKS / "scifact" / "corpus.jsonl"
DEFAULT_PUBMEDQA = BENCHMARKS / "pubmedqa" / "ori_pqal.json"

SUPPORTED_KINDS = ("verbatim_trimmed", "clause_dropped", "fused", "number_reformatted", "synonym")
UNSUPPORTED_KINDS = (
    "number_changed",
    "reversed",
    "negated",
    "entity_swapped",
    "true_plus_false",
    "other_paper",
    "partial_premise",
)
KINDS = SUPPORTED_KINDS + UNSUPPORTED_KINDS

Pair = tuple[str, str, int, str]

MIN_WORDS, MAX_WORDS = 8, 60
TWO_SENTENCE_SHARE = 0.4  # premises that are the source sentence plus a neighbour
# negatives get more 2-sentence windows, since every "fused" positive has one: the premise's length
# then says nothing about the label
TWO_SENTENCE_SHARE_NEGATIVE = 0.52
OTHER_ABSTRACTS = 200  # abstracts searched for an "other_paper" hard negative (half sharing a rarer word)
FALSE_CLAUSE_ABSTRACTS = 200  # abstracts searched for a "true_plus_false" clause
MAX_TRIES = 300  # source sentences tried per pair before another kind of the label stands in
DEAD_AFTER = 500  # a kind with no hit in this many tries is given up for the corpus

__all__ = [
    "KINDS",
    "Pair",
    "SUPPORTED_KINDS",
    "UNSUPPORTED_KINDS",
    "change_number",
    "drop_clause",
    "fuse",
    "is_usable",
    "main",
    "negate",
    "read_pubmedqa_contexts",
    "read_scifact_abstracts",
    "reformat_number",
    "reverse_direction",
    "substitute_synonyms",
    "synthetic_pairs",
    "trim_framing",
]


# ---------------------------------------------------------------- readers


def _split_sentences() -> Callable[[str], list[str]]:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from assistant.text import split_sentences

    return split_sentences


def read_scifact_abstracts(path: Path | str | None = None) -> list[list[str]]:
    """SciFact corpus abstracts (lists of sentences); never the claims files (licence)."""
    path = Path(path) if path is not None else DEFAULT_SCIFACT
    if "claims" in path.name:
        raise ValueError(f"{path}: only the SciFact corpus (abstracts) may be read, never the claims")
    if not path.is_file():
        print(f"synth: {path} not found, SciFact skipped")
        return []
    abstracts: list[list[str]] = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            doc = json.loads(line)
            sentences = [" ".join(str(s).split()) for s in doc.get("abstract") or []]
            sentences = [s for s in sentences if s]
            if sentences:
                abstracts.append(sentences)
    return abstracts


def read_pubmedqa_contexts(path: Path | str | None = None) -> list[list[str]]:
    """PubMedQA PQA-L abstracts: the sentences of CONTEXTS plus LONG_ANSWER (the conclusion)."""
    path = Path(path) if path is not None else DEFAULT_PUBMEDQA
    if not path.is_file():
        print(f"synth: {path} not found, PubMedQA skipped")
        return []
    split = _split_sentences()
    data = json.loads(path.read_text(encoding="utf-8"))
    abstracts: list[list[str]] = []
    for key in data:
        entry = data[key]
        sentences: list[str] = []
        for paragraph in entry.get("CONTEXTS") or []:
            sentences += split(paragraph)
        sentences += split(entry.get("LONG_ANSWER") or "")
        if sentences:
            abstracts.append(sentences)
    return abstracts


# ---------------------------------------------------------------- sentences

_HEADING_WORDS = frozenset(
    """BACKGROUND CONTEXT OBJECTIVE OBJECTIVES AIM AIMS PURPOSE DESIGN SETTING SETTINGS PATIENTS PARTICIPANTS
    SUBJECTS METHODS METHOD MATERIALS AND RESULTS RESULT CONCLUSION CONCLUSIONS INTERVENTION INTERVENTIONS MAIN
    OUTCOME OUTCOMES MEASURE MEASURES MEASUREMENTS INTRODUCTION FINDINGS INTERPRETATION FUNDING STUDY SELECTION
    DATA SOURCES SOURCE EXTRACTION SYNTHESIS REVIEW TRIAL REGISTRATION IMPORTANCE EXPOSURE EXPOSURES RATIONALE
    SIGNIFICANCE UNLABELLED SUMMARY ABSTRACT DISCUSSION LIMITATIONS EVIDENCE ACQUISITION POPULATION CASE
    PRESENTATION HYPOTHESIS PRINCIPAL KEY ANIMALS PROCEDURES PROCEDURE ANALYSIS ANALYSES STATISTICAL CLINICAL
    RELEVANCE IMPLICATIONS PRACTICE SAMPLE STATEMENT OF THE""".split()
)
_HEADING_FILLERS = frozenset({"AND", "OF", "THE"})
# JAMA-style title-case headings without a colon: "Design, Setting, and Participants Retrospective ..."
_TITLE_HEADING_WORDS = frozenset(
    """Background Context Objective Objectives Aim Aims Purpose Design Setting Settings Participants Methods Results
    Conclusions Conclusion Relevance Importance Interventions Intervention Main Outcomes Outcome Measures Exposure
    Exposures Findings Interpretation Evidence Review Statement Significance""".split()
)
_BRACKET_HEADING = re.compile(r"^\[[A-Za-z][A-Za-z /&-]{1,40}\]\s*")
_COLON_HEADING = re.compile(r"^([A-Za-z]+(?:[ /&,-]+[A-Za-z]+){0,4})\s*:\s+")


def _strip_heading(s: str) -> str:
    """Drop a section heading at the start: "[Purpose] ", "Methods: ", "MAIN OUTCOME MEASURES "."""
    s = _BRACKET_HEADING.sub("", s)
    m = _COLON_HEADING.match(s)
    if m and all(w.upper() in _HEADING_WORDS for w in re.findall(r"[A-Za-z]+", m.group(1))):
        s = s[m.end() :]
    words = s.split(" ")
    k = 0
    while (
        k < len(words)
        and re.fullmatch(r"[A-Z]{2,}(?:/[A-Z]{2,})*[:,]?", words[k])
        and all(part in _HEADING_WORDS for part in words[k].rstrip(":,").split("/"))
    ):
        k += 1
    if (
        k
        and k < len(words)
        and (words[k][:1].isupper() or words[k][:1].isdigit())
        and any(w.rstrip(":,") not in _HEADING_FILLERS for w in words[:k])
    ):
        s = " ".join(words[k:])
    words = s.split(" ")
    k = 0
    while k < len(words) and (
        words[k].rstrip(",:") in _TITLE_HEADING_WORDS or (k and words[k] in ("and", "of", "the"))
    ):
        k += 1
    if k and k < len(words) and re.match(r"[A-Z0-9]", words[k]) and words[k - 1] not in ("and", "of", "the"):
        s = " ".join(words[k:])
    return s


_GLUED_HEADING = re.compile(
    r"^(?:Abstract|Introduction|Background|Objectives?|Methods|Results|Conclusions?)(?=[A-Z][a-z])"
)


def _clean(sentence: str) -> str:
    return _strip_heading(_GLUED_HEADING.sub("", " ".join(sentence.split())))


_STOP = frozenset(
    """a an the of to in on for and or with by as at from is are was were be been being this that these those
    it its their our we they which while than then into over under can may might also both such via using use
    used based not no nor has have had do does did will would should could there here who whom whose what when
    where how after before between among during within without all any each other more most less least some
    only very well per""".split()
)
_AUX = frozenset(
    "is are was were be been being has have had can could may might will would should must did does do".split()
)
_VERBS = frozenset(
    """show shows suggest suggests indicate indicates remain remains occur occurs exist exists require requires
    contain contains lead leads result results cause causes increase increases decrease decreases reduce reduces
    improve improves affect affects depend depends appear appears seem seems play plays provide provides involve
    involves represent represents differ differs correlate correlates predict predicts promote promotes inhibit
    inhibits regulate regulates induce induces mediate mediates enhance enhances prevent prevents protect protects
    bind binds act acts account accounts develop develops express expresses demonstrate demonstrates reveal
    reveals support supports confirm confirms help helps allow allows enable enables underlie underlies lack lacks
    need needs contribute contributes exhibit exhibits display displays undergo undergoes form forms produce
    produces activate activates block blocks target targets control controls encode encodes drive drives limit
    limits modulate modulates trigger triggers facilitate facilitates impair impairs outperform outperforms
    achieve achieves yield yields offer offers raise raises lower lowers persist persists vary varies rise rises
    fall falls""".split()
)
_NOT_VERB_ED = frozenset("hundred indeed speed breed based related called combined advanced embed".split())
_BACKREF = frozenset("this these it its they their those such he she them thereby".split())


def _has_verb(text: str) -> bool:
    for w in re.findall(r"[A-Za-z]+(?:-[A-Za-z]+)*", text):
        lw = w.lower()
        if lw in _AUX or lw in _VERBS:
            return True
        if "-" not in lw and len(lw) > 4 and lw.endswith("ed") and lw not in _NOT_VERB_ED:
            return True
    return False


_PARTICIPLES = frozenset("compared based related associated including adjusted matched aged treated".split())


def _has_finite_verb(text: str) -> bool:
    """Stricter than _has_verb: an -ed word counts only after a word that can end a subject."""
    words = re.findall(r"[A-Za-z]+(?:-[A-Za-z]+)*", text)
    for k, w in enumerate(words):
        lw = w.lower()
        if lw in _AUX or lw in _VERBS:
            return True
        if (
            k
            and lw.endswith("ed")
            and len(lw) > 4
            and lw not in _NOT_VERB_ED | _PARTICIPLES
            and words[k - 1].lower() not in _STOP
        ):
            return True
    return False


def _balanced(s: str) -> bool:
    depth = 0
    for ch in s:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _content(s: str) -> frozenset[str]:
    """Crude content stems (6-letter prefixes of non-stopwords) for word overlap."""
    return frozenset(w[:6] for w in re.findall(r"[a-z][a-z0-9-]+", s.lower()) if len(w) > 2 and w not in _STOP)


def _upper_first(s: str) -> str:
    first = s.split(" ", 1)[0]
    if first[:1].islower() and re.fullmatch(r"[a-z][a-z'-]*[,;:]?", first):
        return s[0].upper() + s[1:]
    return s


def _lower_first(s: str, names: frozenset[str] = frozenset()) -> str:
    """Lower-case the first letter unless the first word is an acronym ("DNA", "p53") or a known name.

    ``names``: words the corpus writes capitalised mid-sentence and never in lower case ("Alzheimer").
    """
    first = s.split(" ", 1)[0]
    core = re.sub(r"[^A-Za-z'-]", "", first)
    if not re.fullmatch(r"[A-Z][a-z'-]*", core) or core in names or core.split("'")[0] in names:
        return s
    return s[0].lower() + s[1:]


def _drop_period(s: str) -> str:
    return s.rstrip().rstrip(".").rstrip()


def _end_period(s: str) -> str:
    s = s.rstrip().rstrip(",;:").rstrip()
    return s if s.endswith((".", "!", ".)")) else s + "."


_ADVERB_LEAD = (
    r"(?:In conclusion|In summary|In sum|Overall|Taken together|Collectively|Together|In addition|Additionally|"
    r"Furthermore|Moreover|Importantly|Most importantly|Notably|Interestingly|Finally|Thus|Therefore|"
    r"Consequently|Hence|However|Here|Specifically|In particular|As expected|Surprisingly|Strikingly|Remarkably|"
    r"Unexpectedly|In contrast|By contrast|Conversely|Similarly|Likewise|Accordingly|First|Second|Third|Further|"
    r"Indeed|Nevertheless|Nonetheless|Besides|In this study|In the present study|In this work|In this report|"
    r"In this paper)"
)
_CLAIM_LEAD = (
    r"(?:(?:[Ww]e|[Oo]ur (?:results|data|findings|study|analyses|analysis)|"
    r"(?:[Tt]he )?(?:results|data|findings|analyses|analysis|present study)|"
    r"[Tt]hese (?:results|data|findings|analyses|observations|studies|experiments)|[Tt]his (?:study|analysis|work)|"
    r"[Ii]t was)\s+(?:also\s+|further\s+|clearly\s+|now\s+|here\s+)?"
    r"(?:show|showed|shows|shown|demonstrate|demonstrated|demonstrates|find|found|finds|observed|observe|report|"
    r"reported|reveal|revealed|reveals|confirm|confirmed|confirms|establish|established|establishes|noted)"
    r"\s+that\s+)"
)
_FRAMING = re.compile(rf"^(?:{_ADVERB_LEAD},\s+|Here\s+(?=we\b))?{_CLAIM_LEAD}?")


def trim_framing(sentence: str) -> str:
    """Drop a leading "We show that" / "Results showed that" / "In conclusion," (never a hedge)."""
    m = _FRAMING.match(sentence)
    if not m or not m.end():
        return sentence
    rest = sentence[m.end() :]
    if len(rest.split()) < 5 or re.search(r"\b(?:and|or|but) that\b", rest):
        return sentence  # "show that A and that B": the rest does not stand alone
    return _upper_first(rest)


_DIGIT_WORD = re.compile(r"(?<!\S)[^\s\d]*\d")


def is_usable(sentence: str) -> bool:
    """8-60 words that state something: no table row, heading, question or back-reference."""
    s = sentence
    words = s.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        return False
    if not s[:1].isupper() or not s.endswith(".") or "?" in s:
        return False
    if s.endswith((" al.", " vs.", " e.g.", " i.e.", " no.", " Fig.")) or not _balanced(s):
        return False
    if len(_DIGIT_WORD.findall(s)) > 0.3 * len(words):
        return False
    if sum(map(str.isalpha, s)) < 0.6 * (len(s) - s.count(" ")):
        return False
    first = trim_framing(s).split()[0].strip(",;:").lower()
    if first in _BACKREF or first == "to":
        return False
    return _has_verb(s)


# ---------------------------------------------------------------- supported edits


_NEGATION = re.compile(
    r"\b(?:not|no|nor|neither|never|none|only|except|unless|without|fail|failed|fails|lack|lacked|limited|"
    r"attenuated|disappeared|abolished|lost|however|although|though|but|whether|unclear|unknown|may|might|"
    r"after adjustment|adjusted|respectively)\b|n't",
    re.I,
)
_CUT_KEEP_LEFT = (", and ", "; ", ", which ", ", while ", " whereas ", ", suggesting ", ", indicating ", ", with ")
_CUT_KEEP_RIGHT = ("; ", ", whereas ", " whereas ", ", while ")
_UNIT_START = re.compile(r"^(?:%|mg|g|kg|ml|mL|l|L|cm|mm|m|km|h|hr|min|s|ms|µg|μg|ng|mmol|µmol|nm|nM|µM|mM|IU|U)\b")


def _depth_zero_positions(s: str, sep: str) -> list[int]:
    out = []
    start = s.find(sep)
    while start != -1:
        if _balanced(s[:start]) and _balanced(s[start + len(sep) :]):
            out.append(start)
        start = s.find(sep, start + 1)
    return out


def drop_clause(sentence: str, rng: random.Random | None = None) -> str | None:
    """A long sentence cut at a clause boundary, keeping a part that stands alone; None when unsafe.

    The dropped part must hold no negation, hedge or qualifier ("not", "only", "after adjustment",
    "respectively"), the cut is outside brackets, and no number loses its unit.
    """
    rng = rng or random.Random(0)
    s = sentence.rstrip()
    if re.search(r"\b(?:respectively|not only|neither|either|both|between)\b", s, re.I):
        return None
    options: list[str] = []
    for sep in _CUT_KEEP_LEFT:
        for pos in _depth_zero_positions(s, sep):
            left, right = s[:pos], s[pos + len(sep) :]
            if len(left.split()) < 6 or len(right.split()) < 3 or not _has_verb(left):
                continue
            if _NEGATION.search(right) or re.search(r"\d$", left) or _UNIT_START.match(right):
                continue
            if sep in (", and ", "; ") and not _has_finite_verb(right):
                continue  # ", and" joining list items, not clauses
            if (
                sep == ", and "
                and ", " in left
                and (left.count(", ") >= 2 or len(left.rsplit(", ", 1)[1].split()) <= 4)
            ):
                continue  # "had A, B, and C": the cut would split a list
            if re.search(r"\b(?:and|or|of|the|a|an|to|with|in|for|than|by)$", left, re.I):
                continue
            options.append(_end_period(trim_framing(left)))
    for sep in _CUT_KEEP_RIGHT:
        for pos in _depth_zero_positions(s, sep):
            left, right = s[:pos], s[pos + len(sep) :]
            right = trim_framing(_upper_first(right.strip()))
            words = right.split()
            if len(words) < 6 or len(left.split()) < 3 or not _has_verb(right):
                continue
            if words[0].lower().strip(",") in _STOP | _BACKREF or re.search(
                r"\b(?:it|they|them|this|these|those)\b", right, re.I
            ):
                continue
            if _NEGATION.search(left.split(",")[-1]) and sep != "; ":
                continue
            options.append(_end_period(right))
    options = [o for o in dict.fromkeys(options) if o.rstrip(".") != s.rstrip(".") and len(o.split()) >= 6]
    return rng.choice(options) if options else None


def fuse(first: str, second: str, names: frozenset[str] = frozenset()) -> str:
    """ "A, and b": both trimmed of framing, the second's first letter lower-cased unless a name."""
    a = _drop_period(trim_framing(first))
    b = _lower_first(trim_framing(second).strip(), names)
    return _end_period(f"{a}, and {b}")


_PERCENT_OF = {"50": "half of", "25": "a quarter of", "75": "three quarters of", "20": "a fifth of"}
_PERCENT_OF |= {"10": "a tenth of", "33.3": "a third of", "66.7": "two thirds of", "100": "all of"}
_BY_PERCENT = {"50": "by half", "25": "by a quarter", "75": "by three quarters", "20": "by a fifth", "10": "by a tenth"}
_SMALL = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
_SMALL_INDEX = {w: i for i, w in enumerate(_SMALL)}
_UNITS = frozenset(
    """mg g kg ml l cm mm m km h hr hrs min s ms µg μg ng pg mol mmol µmol μmol nm µm μm mm2 mm3 iu u hz khz db gy
    msv sv kcal cal bpm x mmhg kda bp kb mb""".split()
)
_NUMBER_CONTEXT_SKIP = frozenset(
    """type types phase phases fig fig. figs figure figures table tables chromosome chromosomes step steps section
    version experiment experiments study studies cohort model lead generation class grade stage stages group groups
    arm arms day days week weeks month months year years visit level levels trial trials no. number patient""".split()
)


def _prev_word(s: str, start: int) -> str:
    before = s[:start].split()
    return before[-1].lower().strip("([,;:") if before else ""


def _small_int_spans(s: str) -> list[tuple[int, int, str]]:
    """Digits 1-12 before a plain word ("3 groups"), not in ranges, ratios, units or identifiers."""
    out = []
    for m in re.finditer(r"(?<![\w.,/=<>±:%+\-−–])(1[0-2]|[1-9])(?= ([a-z][a-z-]*))", s):
        nxt = m.group(2)
        if nxt in _UNITS or nxt in ("to", "and", "or", "vs", "versus", "times", "x") or nxt.startswith("-"):
            continue
        if _prev_word(s, m.start()) in _NUMBER_CONTEXT_SKIP or re.search(r"\d\s+(?:and|to|or)\s+$", s[: m.start()]):
            continue  # "8 and 11 years": the pair stays in one form
        out.append((m.start(1), m.end(1), m.group(1)))
    return out


def reformat_number(sentence: str, rng: random.Random | None = None, allow_weak: bool = True) -> str | None:
    """The sentence with one number in another surface form of the same value; None when no safe rewrite.

    50% of -> half of, by 25% -> by a quarter, 2-fold -> twofold, increased 2-fold -> doubled,
    2 times -> twice, 3 groups -> three groups, three groups -> 3 groups; weak (purely typographic) ones,
    used only with ``allow_weak``: 1,000 <-> 1000, 45% -> 45 percent.
    """
    rng = rng or random.Random(0)
    s = sentence
    options: list[tuple[float, int, int, str]] = []  # (weight, start, end, replacement)
    for m in re.finditer(r"(?<![\d.,])(50|25|75|20|10|33\.3|66\.7|100) ?% of\b", s):
        if re.search(r"(?:[\d–-]|\bto|\band|\bor)\s*$", s[: m.start()]):
            continue  # "25-50% of", "between 25 and 50% of": a range, not a share of its own
        options.append((3.0, m.start(), m.end(), _PERCENT_OF[m.group(1)]))
    for m in re.finditer(r"\bby (50|25|75|20|10) ?%(?![\d])", s):
        options.append((3.0, m.start(), m.end(), _BY_PERCENT[m.group(1)]))
    for m in re.finditer(r"\b(?:[Hh]alf) of\b", s):
        if not re.search(r"\b(?:first|second|last|one)\s+$", s[: m.start()]):
            options.append((1.0, m.start(), m.end(), "50% of"))
    for m in re.finditer(r"\b(increased|rose|doubled) (?:by )?(?:2|two)-?fold\b", s):
        if m.group(1) != "doubled":
            options.append((3.0, m.start(), m.end(), "doubled"))
    for m in re.finditer(r"(?<![\w.])([2-9]|10)-fold\b", s):
        options.append((2.0, m.start(), m.end(), _SMALL[int(m.group(1))] + "fold"))
    for m in re.finditer(r"\b(two|three|four|five|six|seven|eight|nine|ten)-?fold\b", s):
        options.append((2.0, m.start(), m.end(), f"{_SMALL_INDEX[m.group(1)]}-fold"))
    for m in re.finditer(r"(?<![\w.])(?:2|two) times\b", s):
        options.append((2.0, m.start(), m.end(), "twice"))
    for m in re.finditer(r"\btwice\b(?! as)", s):
        options.append((1.0, m.start(), m.end(), "two times"))
    for a, b, digits in _small_int_spans(s):
        options.append((1.0, a, b, _SMALL[int(digits)]))
    for m in re.finditer(r"(?<=[a-z,] )(two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)(?= [a-z])", s):
        if s[m.end() :].startswith(" -") or _prev_word(s, m.start()) in _NUMBER_CONTEXT_SKIP:
            continue
        options.append((1.0, m.start(), m.end(), str(_SMALL_INDEX[m.group(1)])))
    # weak rewrites, used when nothing better is there (or now and then)
    for m in re.finditer(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+)(?![\d.,]\d)", s):
        options.append((0.15, m.start(), m.end(), m.group(1).replace(",", "")))
    for m in re.finditer(r"(?<![\w.,\-])(\d{5,})(?![\d.,]\d)", s):
        options.append((0.15, m.start(), m.end(), f"{int(m.group(1)):,}"))
    for m in re.finditer(r"(?<![\w.,\-])(\d{4})(?=\s+[a-z])", s):
        if not 1900 <= int(m.group(1)) <= 2030:
            options.append((0.15, m.start(), m.end(), f"{int(m.group(1)):,}"))
    for m in re.finditer(r"(?<![\w.])(\d+(?:\.\d+)?) ?%(?!\s*(?:CI|confidence|of\b))", s):
        options.append((0.15, m.start(), m.end(), f"{m.group(1)} percent"))
    if not allow_weak:
        options = [o for o in options if o[0] > 0.5]
    if not options:
        return None
    _, a, b, new = rng.choices(options, weights=[o[0] for o in options])[0]
    if a == 0:
        new = new[0].upper() + new[1:]
    out = s[:a] + new + s[b:]
    return out if out != s else None


_SYNONYMS: list[tuple[str, str]] = [
    (r"demonstrated", "showed"),
    (r"demonstrates", "shows"),
    (r"demonstrate", "show"),
    (r"demonstrating", "showing"),
    (r"utili[sz]ed", "used"),
    (r"utili[sz]es", "uses"),
    (r"utili[sz]e", "use"),
    (r"utili[sz]ing", "using"),
    (r"utili[sz]ation", "use"),
    (r"significantly", "markedly"),
    (r"approximately", "about"),
    (r"roughly", "about"),
    (r"individuals", "people"),
    (r"numerous", "many"),
    (r"in order to", "to"),
    (r"prior to", "before"),
    (r"subsequent to", "after"),
    (r"(?:the|a) majority of(?= (?:the|these|those|their|our|its|this|them|all)\b)", "most of"),
    (r"(?:the|a) majority of(?! (?:the|these|those|their|our|its|this|them|all)\b)", "most"),
    (r"due to", "because of"),
    (r"in the absence of", "without"),
    (r"frequently", "often"),
    (r"rapidly", "quickly"),
    (r"examined", "investigated"),
    (r"investigated", "examined"),
    (r"assessed", "evaluated"),
    (r"evaluated", "assessed"),
    (r"(?<!as )(?<!is )(?<!be )(?<!was )(?<!are )(?<!were )(?<!been )revealed", "showed"),
    (r"(?<=as |is |be )revealed|(?<=was |are )revealed|(?<=were |been )revealed", "shown"),
    (r"(?<!as )(?<!is )(?<!be )(?<!was )(?<!are )(?<!were )(?<!been )exhibited", "showed"),
    (r"exhibits", "shows"),
    (r"exhibit", "show"),
    (r"possesses", "has"),
    (r"administered", "given"),
    (r"predominantly", "mainly"),
    (r"primarily", "mainly"),
    (r"markedly", "substantially"),
    (r"considerably", "substantially"),
    (r"substantially", "considerably"),
    (r"therefore", "thus"),
    (r"moreover", "furthermore"),
    (r"furthermore", "moreover"),
    (r"additionally", "in addition"),
    (r"elevated", "raised"),
    (r"decreased", "reduced"),
    (r"reduced", "decreased"),
    (r"compared with", "compared to"),
    (r"compared to", "compared with"),
    (r"randomly assigned", "randomized"),
    (r"(?<=was )observed|(?<=were )observed", "seen"),
    (r"commonly", "often"),
    (r"nearly", "almost"),
    (r"whereas", "while"),
    (r"initiated", "started"),
    (r"terminated", "ended"),
    (r"commenced", "began"),
    (r"sufficient", "enough"),
]
_SYNONYM_RES = [(re.compile(rf"(?<![\w-])(?:{p})(?![\w-])", re.I), r) for p, r in _SYNONYMS]


def _match_case(old: str, new: str) -> str:
    return new[0].upper() + new[1:] if old[:1].isupper() else new


def substitute_synonyms(sentence: str, rng: random.Random | None = None, max_subs: int = 3) -> str | None:
    """1-3 safe word substitutions ("demonstrate" -> "show", "approximately" -> "about"); None if none apply."""
    rng = rng or random.Random(0)
    spans: list[tuple[int, int, str]] = []
    for rx, rep in _SYNONYM_RES:
        for m in rx.finditer(sentence):
            if all(m.end() <= a or m.start() >= b for a, b, _ in spans):
                spans.append((m.start(), m.end(), _match_case(m.group(), rep)))
    if not spans:
        return None
    chosen = rng.sample(spans, rng.randint(1, min(max_subs, len(spans))))
    out = sentence
    for a, b, rep in sorted(chosen, reverse=True):
        out = out[:a] + rep + out[b:]
    return out if out != sentence else None


# ---------------------------------------------------------------- unsupported edits

_NUM = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|(?<![\d])\.\d+")
_UP_CONTEXT = re.compile(
    r"(?:more than|greater than|higher than|over|above|at least|exceeding|exceeded|in excess of|>|≥|>=)\s*$", re.I
)
_DOWN_CONTEXT = re.compile(
    r"(?:less than|fewer than|lower than|under|below|at most|up to|within|no more than|<|≤|<=)\s*$", re.I
)
_APPROX_CONTEXT = re.compile(r"(?:approximately|about|nearly|almost|around|roughly|approx\.?|~|≈)\s*$", re.I)
_P_CONTEXT = re.compile(r"\b[Pp](?:\s*-?\s*values?)?\s*(<|>|=|≤|≥|<or=|less than|of)\s*$")
_NUM_WORDS = ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "twenty"]


# words before a number that make it a label; a time or a count after them is still a quantity
_LABEL_PREV = _NUMBER_CONTEXT_SKIP - frozenset(
    "day days week weeks month months year years level levels grade stage stages number patient".split()
)


def _number_spans(s: str) -> list[tuple[int, int, str]]:
    """Numbers that are quantities: not inside identifiers (IL-6, COVID-19, CD4), references or "95% CI"."""
    out = []
    for m in _NUM.finditer(s):
        a, b = m.span()
        before = s[a - 1] if a else " "
        after = s[b] if b < len(s) else " "
        if before.isalpha() or before in "_[" or after.isalpha() or after in "_]":
            continue
        if before in "-–" and a >= 2 and s[a - 2].isalpha():
            continue
        start = s.rfind(" ", 0, a) + 1
        if re.search(r"[A-Za-z]", s[start:a]) or re.match(r"[)\]][A-Za-z]|\+\)", s[b:]):
            continue  # inside a name: MCM2-7, Ca(2+), (14)C-EF3, thick>4
        if after == "-" and b + 1 < len(s) and s[b + 1].isalpha():
            if not re.match(r"-(?:fold|year|month|week|day|hour|min|point|item|dose)", s[b:], re.I):
                continue  # 5-HT, 3-methyladenine
        if _prev_word(s, a) in _LABEL_PREV:
            continue  # a label (Table 2, phase 3, type 2), not a quantity
        if re.match(r"\s?%?\s*(?:CI|confidence)\b", s[b:]) and m.group() in ("90", "95", "99"):
            continue
        if _prev_word(s, a) in _UNITS or _prev_word(s, a).endswith("/m") or before == "^":
            continue  # an exponent ("kg/m 2"), not a quantity
        out.append((a, b, m.group()))
    return out


def _value(text: str) -> float:
    return float(text.replace(",", ""))


def _format_like(value: float, like: str) -> str:
    decimals = len(like.split(".")[1]) if "." in like else 0
    if decimals:
        text = f"{value:,.{decimals}f}" if "," in like else f"{value:.{decimals}f}"
    else:
        text = f"{round(value):,}" if "," in like and abs(value) >= 1000 else str(round(value))
    if like.startswith(".") and text.startswith("0."):
        text = text[1:]
    return text


def _format_p(value: float, like: str) -> str:
    text = f"{value:.6f}".rstrip("0")
    if text.endswith("."):
        text += "0"
    if like.startswith(".") and text.startswith("0."):
        text = text[1:]
    return text


def _swap_digits(text: str, rng: random.Random) -> str | None:
    digits = [i for i, c in enumerate(text) if c.isdigit()]
    pairs = [
        (i, j) for i, j in zip(digits, digits[1:]) if text[i] != text[j] and not (i == digits[0] and text[j] == "0")
    ]
    if not pairs:
        return None
    i, j = rng.choice(pairs)
    chars = list(text)
    chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


def change_number(
    sentence: str,
    rng: random.Random | None = None,
    abstract_numbers: Sequence[str] = (),
    premise: str = "",
) -> str | None:
    """One number altered so the statement no longer follows; None when there is no number.

    Scaled, digits swapped or shifted, or replaced by another number of the same abstract; p-values
    and bounds ("more than 50%", "P < 0.05") move the strict way, years by a few years, counts
    written as words ("three") to another word. The new number never appears in the premise.
    """
    rng = rng or random.Random(0)
    s = sentence
    premise_numbers = {t for _, _, t in _number_spans(premise)} if premise else set()
    spans = _number_spans(s)
    rng.shuffle(spans)
    for a, b, text in spans:
        value = _value(text)
        head = s[:a]
        tail = s[b:]
        is_percent = bool(re.match(r"\s?%|\s?percent", tail))
        candidates: list[str] = []
        p = _P_CONTEXT.search(head)
        if p and value < 1:
            op = p.group(1)
            if op in ("<", "≤", "<or=", "less than"):
                candidates.append(_format_p(value / 10, text))
            elif op in (">", "≥"):
                if value * 10 < 1:
                    candidates.append(_format_p(value * 10, text))
            else:
                candidates.append(_format_p(value * 10 if value * 10 < 1 else value / 10, text))
                swapped = _swap_digits(text, rng)
                if swapped:
                    candidates.append(swapped)
        elif "." not in text and "," not in text and 1900 <= value <= 2030 and not is_percent:
            delta = rng.choice([1, 2, 3, 4, 5, 6]) * rng.choice([-1, 1])
            candidates.append(str(int(min(value + delta, 2024) if value + delta <= 2024 else value - abs(delta))))
        elif _UP_CONTEXT.search(head) or _DOWN_CONTEXT.search(head):
            up = bool(_UP_CONTEXT.search(head))
            factor = rng.choice([1.5, 2, 3]) if up else rng.choice([0.25, 0.5, 0.6])
            new = value * factor if value else (rng.choice([2, 5, 10]) if up else None)
            if new is not None and not (is_percent and new > 100):
                candidates.append(_format_like(new, text))
        else:
            approx = bool(_APPROX_CONTEXT.search(head))
            factors = [0.25, 0.5, 2, 3] if approx else [0.25, 0.5, 0.6, 0.75, 1.5, 2, 3]
            if "." not in text and value <= 3:
                candidates.append(str(int(value) + rng.choice([2, 3, 4])))
            else:
                new = value * rng.choice(factors)
                if is_percent and new > 100:
                    new = value * rng.choice([0.5, 0.6])
                candidates.append(_format_like(new, text))
            if not approx:
                swapped = _swap_digits(text, rng)
                if swapped and not (is_percent and _value(swapped) > 100):
                    candidates.append(swapped)
                if "." in text and not is_percent:
                    candidates.append(_format_like(value * 10, text))
            shape = [
                t
                for t in abstract_numbers
                if ("." in t) == ("." in text) and _value(t) != value and (_value(t) <= 100 or not is_percent)
            ]
            if shape:
                candidates.append(rng.choice(shape))
        # a range stays ordered: "10-20" does not become "25-20"
        upper = re.match(r"\s*%?\s*(?:-|–|to)\s*(\d[\d,]*(?:\.\d+)?)", tail)
        lower = re.search(r"(\d[\d,]*(?:\.\d+)?)\s*%?\s*(?:-|–|to)\s*$", head)
        if re.search(r"\bbetween\s*$", head):
            upper = upper or re.match(r"\s*%?\s*and\s+(\d[\d,]*(?:\.\d+)?)", tail)
        lower = lower or re.search(r"\bbetween\s+(\d[\d,]*(?:\.\d+)?)\s*%?\s*and\s*$", head)
        rng.shuffle(candidates)
        for new in candidates:
            try:
                new_value = _value(new)
            except ValueError:
                continue
            if new == text or new_value == value or new in premise_numbers or (new_value == 0 and value >= 1):
                continue
            if upper and new_value >= _value(upper.group(1)):
                continue
            if lower and new_value <= _value(lower.group(1)):
                continue
            return s[:a] + new + s[b:]
    # a count spelled out ("three groups")
    words = [
        m
        for m in re.finditer(r"\b(" + "|".join(_NUM_WORDS) + r")\b(?![-‐])", s, re.I)
        if not s[: m.start()].endswith("-")
    ]
    if words:
        m = rng.choice(words)
        current = m.group(1).lower()
        others = [w for w in _NUM_WORDS if w != current and w not in premise.lower().split()]
        if others:
            new = _match_case(m.group(1), rng.choice(others))
            return s[: m.start()] + new + s[m.end() :]
    return None


_FLIP_PAIRS = [
    ("increase", "decrease"),
    ("increases", "decreases"),
    ("increased", "decreased"),
    ("increasing", "decreasing"),
    ("higher", "lower"),
    ("highest", "lowest"),
    ("high", "low"),
    ("improve", "worsen"),
    ("improves", "worsens"),
    ("improved", "worsened"),
    ("improving", "worsening"),
    ("improvement", "deterioration"),
    ("better", "worse"),
    ("best", "worst"),
    ("positive", "negative"),
    ("positively", "negatively"),
    ("outperforms", "underperforms"),
    ("outperformed", "underperformed"),
    ("outperform", "underperform"),
    ("enhanced", "impaired"),
    ("enhances", "impairs"),
    ("enhance", "impair"),
    ("enhancement", "impairment"),
    ("gain", "loss"),
    ("gains", "losses"),
    ("upregulated", "downregulated"),
    ("up-regulated", "down-regulated"),
    ("upregulation", "downregulation"),
    ("up-regulation", "down-regulation"),
    ("activates", "inhibits"),
    ("activated", "inhibited"),
    ("activation", "inhibition"),
    ("promotes", "suppresses"),
    ("promoted", "suppressed"),
    ("promote", "suppress"),
    ("beneficial", "harmful"),
    ("larger", "smaller"),
    ("largest", "smallest"),
    ("longer", "shorter"),
    ("earlier", "later"),
    ("early", "late"),
    ("before", "after"),
    ("above", "below"),
    ("maximum", "minimum"),
    ("effective", "ineffective"),
    ("efficient", "inefficient"),
    ("susceptible", "resistant"),
    ("presence", "absence"),
    ("stronger", "weaker"),
    ("strong", "weak"),
    ("strongly", "weakly"),
    ("majority", "minority"),
    ("success", "failure"),
    ("agonist", "antagonist"),
    ("agonists", "antagonists"),
    ("most", "least"),
    ("rose", "fell"),
    ("accelerated", "delayed"),
    ("preserved", "impaired"),
]
# directed flips (the reverse direction is covered by a pair above)
_FLIP = {a: b for a, b in _FLIP_PAIRS} | {b: a for a, b in _FLIP_PAIRS}
_FLIP |= {
    "more": "less",
    "less": "more",
    "fewer": "more",
    "greater": "lower",
    "reduced": "increased",
    "reduces": "increases",
    "reduce": "increase",
    "reducing": "increasing",
    "reduction": "increase",
    "reductions": "increases",
    "elevated": "reduced",
    "inhibits": "promotes",
    "inhibited": "promoted",
    "inhibition": "activation",
    "harmful": "beneficial",
    "detrimental": "beneficial",
}
_FLIP_RE = re.compile(
    r"(?<![\w-])(" + "|".join(sorted(map(re.escape, _FLIP), key=len, reverse=True)) + r")(?![\w-])", re.I
)
_NO_FLIP_NEXT = re.compile(
    r"^[\s-]*(?:study|studies|work|report|paper|analysis|review|throughput|order|resolution|quality|income)\b", re.I
)


_BETTER_VERB = re.compile(
    r"\s+(?:understand|characteri[sz]e|define|predict|describe|identify|assess|evaluate|explain|inform|target|"
    r"manage|guide|select|stratify|elucidate|determine|estimate|reflect|capture|tolerated|known)\b"
)


def reverse_direction(sentence: str, rng: random.Random | None = None) -> str | None:
    """One direction word flipped (increased -> decreased, higher -> lower, associated -> not associated)."""
    rng = rng or random.Random(0)
    s = sentence
    options: list[str] = []
    for m in _FLIP_RE.finditer(s):
        word = m.group(1)
        low = word.lower()
        prev = s[: m.start()].split()[-1:] or [""]
        if prev[0].lower() in ("not", "no", "non", "than") or s[: m.start()].endswith(("non-", "non ")):
            continue
        if _NO_FLIP_NEXT.match(s[m.end() :]):
            continue
        if low in ("most", "least") and prev[0].lower() == "at":
            continue  # "at least in part" is an idiom
        if low == "better" and (prev[0].lower() == "to" or _BETTER_VERB.match(s[m.end() :])):
            continue  # "to better understand" says nothing about a result
        new = _FLIP[low]
        if low == "most" and re.match(r"\s+[a-z]+[^s]s\b", s[m.end() :]) and not re.match(r"\s+\w+ous\b", s[m.end() :]):
            new = "few"  # "most tumors" -> "few tumors", "most common" -> "least common"
        if (
            low == "more"
            and re.match(r"\s+[a-z]+s\b", s[m.end() :])
            and not re.match(r"\s+(?:likely|less|is|was|has|as)\b", s[m.end() :])
        ):
            new = "fewer"
        options.append(s[: m.start()] + _match_case(word, new) + s[m.end() :])
    aux = r"(?:is|are|was|were|be|been)"
    for m in re.finditer(
        rf"\b({aux})(\s+(?:significantly|strongly|independently|positively|negatively|inversely|also)?\s*)associated\b",
        s,
    ):
        options.append(s[: m.end(1)] + " not" + s[m.end(1) :])
    for m in re.finditer(rf"\b({aux})\s+(?:statistically\s+)?significant(ly)?\b", s):
        options.append(s[: m.end(1)] + " not" + s[m.end(1) :])
    for m in re.finditer(r"\b([Aa]) (statistically )?significant\b", s):
        options.append(s[: m.start()] + m.group(1) + " " + (m.group(2) or "") + "non-significant" + s[m.end() :])
    options = [o for o in dict.fromkeys(options) if o != s]
    return rng.choice(options) if options else None


_PAST_TO_BASE = {
    "increased": "increase",
    "decreased": "decrease",
    "reduced": "reduce",
    "improved": "improve",
    "showed": "show",
    "revealed": "reveal",
    "predicted": "predict",
    "affected": "affect",
    "altered": "alter",
    "differed": "differ",
    "correlated": "correlate",
    "prevented": "prevent",
    "induced": "induce",
    "inhibited": "inhibit",
    "caused": "cause",
    "enhanced": "enhance",
    "lowered": "lower",
    "promoted": "promote",
    "suppressed": "suppress",
    "led": "lead",
    "resulted": "result",
    "had": "have",
    "developed": "develop",
    "required": "require",
    "occurred": "occur",
    "remained": "remain",
    "changed": "change",
    "exhibited": "exhibit",
    "contributed": "contribute",
    "decreases": "decrease",
    "increases": "increase",
    "reduces": "reduce",
    "improves": "improve",
    "predicts": "predict",
    "affects": "affect",
    "requires": "require",
    "causes": "cause",
    "prevents": "prevent",
    "inhibits": "inhibit",
    "promotes": "promote",
    "has": "have",
    "differs": "differ",
    "contributes": "contribute",
}
_NOT_BEFORE_VERB = frozenset(
    """a an the of with and or to in on for by from at as than that which who be been being is are was were has have
    had did does do not no this these its their our his her more most less very also significantly greatly markedly
    further highly newly previously recently well how why when where whether if what while whereas because since
    although after before under over into via without both""".split()
)
_NEG_REMOVE = [
    (
        re.compile(r"\b([Nn])o (statistically )?significant\b"),
        lambda m: ("A" if m.group(1) == "N" else "a") + " " + (m.group(2) or "") + "significant",
    ),
    (re.compile(r"\bnot (statistically )?significantly\b"), lambda m: (m.group(1) or "") + "significantly"),
    (
        re.compile(r"\b(is|are|was|were|did|does|do|could|can|has|have|had|would|should|will) not\b(?! only)"),
        lambda m: m.group(1),
    ),
    (re.compile(r"\bcannot\b"), lambda m: "can"),
    (
        re.compile(
            r"\b([Nn])o (difference|association|correlation|relationship|effect|change|increase|decrease|benefit|improvement|reduction|risk|role)\b"
        ),
        lambda m: _match_case(m.group(1), "an" if m.group(2)[0] in "aeiou" else "a") + " " + m.group(2),
    ),
    (
        re.compile(r"\b([Nn])o (evidence|differences|changes|effects|associations|signs)\b"),
        lambda m: _match_case(m.group(1), m.group(2)),
    ),
    (re.compile(r"\b(?:non-significant|nonsignificant|insignificant)\b"), lambda m: "significant"),
    (re.compile(r"\bfailed to\b"), lambda m: "did"),
    (re.compile(r"\bwithout(?= [a-z]+[^g\s]\b)"), lambda m: "with"),
    (re.compile(r"\bunchanged\b"), lambda m: "changed"),
]


def negate(sentence: str, rng: random.Random | None = None) -> str | None:
    """A negation inserted ("was" -> "was not", "reduced" -> "did not reduce") or removed ("did not" -> "did")."""
    rng = rng or random.Random(0)
    s = sentence
    options: list[str] = []
    if not re.search(r"\b(?:nor|neither)\b", s):  # "No X ..., nor Y" breaks when one negation goes
        for rx, rep in _NEG_REMOVE:
            for m in rx.finditer(s):
                options.append(s[: m.start()] + rep(m) + s[m.end() :])
    negated_already = re.search(r"\b(?:not|no|cannot|never|neither|nor)\b|n't", s, re.I)
    if not negated_already:
        for m in re.finditer(r"\b(is|are|was|were)\b(?! (?:not|only|also|yet|just|still)\b)", s):
            options.append(s[: m.end()] + " not" + s[m.end() :])
        for m in re.finditer(r"\b(has|have|had) been\b", s):
            options.append(s[: m.end(1)] + " not" + s[m.end(1) :])
        for m in re.finditer(r"\b(can|could|will|should|would)\b(?= [a-z]+)", s):
            options.append(s[: m.start()] + ("cannot" if m.group(1) == "can" else m.group(1) + " not") + s[m.end() :])
        for m in re.finditer(r"(?<= )(" + "|".join(_PAST_TO_BASE) + r")\b(?= [a-z(])", s):
            prev = s[: m.start()].split()[-1]
            if prev.endswith((",", ";", ":")) or prev.lower() in _NOT_BEFORE_VERB or prev.lower().endswith("ly"):
                continue
            if m.group(1) in ("had", "has") and not re.match(
                r" (?:a|an|higher|lower|more|less|greater|no|significantly)\b", s[m.end() :]
            ):
                continue
            if re.match(r" (?:by|with|to|in|at|from|for|as)\b", s[m.end() :]) and m.group(1) not in (
                "resulted",
                "led",
                "contributed",
                "differed",
                "correlated",
                "occurred",
            ):
                continue  # likely a participle ("patients treated with")
            verb = m.group(1)
            aux = "does" if verb.endswith("s") and not verb.endswith("ss") else "did"
            options.append(s[: m.start()] + f"{aux} not {_PAST_TO_BASE[m.group(1)]}" + s[m.end() :])
    options = [o for o in dict.fromkeys(options) if o != s]
    return rng.choice(options) if options else None


# ---------------------------------------------------------------- entities

_DRUG_SUFFIXES = tuple(
    """mab nib statin pril sartan olol azole mycin cillin floxacin cycline vir parin dipine formin oxetine azepam
    platin rubicin taxel triptan lukast gliptin gliflozin setron tidine prazole dronate semide thiazide profen sone
    grel ifen trexate caine barbital azine apine idone ipramine glitazone fenac""".split()
)
_DRUG_EXTRA = frozenset(
    "aspirin warfarin paracetamol acetaminophen morphine ketamine lithium metformin insulin".split()
)
_DRUG_STOP = frozenset("somatostatin nystatin hormone ozone person reason season lesson cortisone".split())
_DISEASE_SUFFIXES = ("itis", "aemia", "emia", "omas", "oma", "pathy", "osis")
_DISEASE_STOP = frozenset(
    """diagnosis prognosis apoptosis mitosis meiosis osmosis symbiosis homeostasis stoma stroma aroma diploma soma
    chroma coma genoma hypothesis synthesis analysis trauma idioma anastomosis""".split()
)
_DISEASE_HEADS = "cancer|cancers|carcinoma|disease|diseases|syndrome|infection|infections|disorder|disorders|failure|injury|fever|deficiency"
_DISEASE_PHRASE = re.compile(rf"(?<![\w'-])([A-Z][a-z]+'s|[a-z][a-z-]{{2,}}) ({_DISEASE_HEADS})\b")
_MODIFIER_STOP = frozenset(
    """the a an this that of with and or in for to other any each no human common chronic acute severe mild
    advanced metastatic early late primary secondary such their its our new known underlying related associated
    existing coexisting concurrent multiple different same all several many more most overall total specific
    major minor serious rare systemic recurrent progressive stable active invasive malignant benign these those
    some which whose from by on at as both various certain clinical fatal subsequent incident prevalent previous
    treatment risk own similar higher lower""".split()
)
_CLOSED = {
    "organ": "liver kidney heart lung brain spleen pancreas stomach colon skin bone muscle retina intestine bladder thyroid ovary",
    "species_pl": "mice rats zebrafish humans monkeys pigs dogs rabbits hamsters chickens primates",
    "species_sg": "mouse rat rabbit monkey pig dog hamster chicken",
    "age": "children adults adolescents infants neonates",
    "sex": "men women",
    "sex_young": "boys girls",
    "cell": "macrophages neutrophils fibroblasts neurons astrocytes hepatocytes keratinocytes monocytes platelets "
    "erythrocytes adipocytes cardiomyocytes osteoblasts osteoclasts microglia lymphocytes",
    "country": "China Japan India Canada Brazil Germany France Italy Spain Sweden Denmark Norway Finland Australia "
    "Korea Taiwan Iran Nigeria Kenya Uganda Mexico England Scotland Europe Africa Asia Israel Switzerland Turkey",
}
_CLOSED_OF = {w: k for k, words in _CLOSED.items() for w in words.split()}
_NOT_ORGAN = frozenset(k for k in _CLOSED if k != "organ")  # an organ names a disease ("lung cancer")
_ACRONYM = re.compile(r"(?<![\w-])([A-Z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)?)(?![\w-])")
_ACRONYM_STOP = frozenset(
    """CI OR ORs HR HRs RR RRs SD SE SEM IQR AUC ROC US USA UK EU II III IV VI VII VIII IX XI XII DNA RNA PCR BMI
    NS AND THE OF NO MD PhD NA NR ICU SPSS ANOVA IV OS DFS PFS AUROC WHO ADD LDL HDL CT MRI""".split()
)
_PROPER = re.compile(r"(?<![\w-])([A-Z][a-z]{3,}(?:-[A-Z][a-z]+)?)(?![\w'-])")
_MOD_HEADS = frozenset(
    """levels level concentrations concentration expression receptor receptors gene genes mutation mutations
    activity deficiency inhibitor inhibitors supplementation intake resistance signaling signalling pathway therapy
    vaccine vaccination antibody antibodies exposure consumption users secretion metabolism transporter
    channel channels kinase knockout""".split()
)
_MOD_WORD_STOP = frozenset(
    """higher lower increased decreased elevated reduced serum plasma total mean high low normal abnormal gene
    protein mrna its their this that these those the with and combination standard usual current previous daily
    weekly blood tissue cell cellular surface baseline both which such greater overall average drug drugs patient
    patients enzyme enzymes""".split()
)
_VERB_SLOT = frozenset("to that which who not can may might will would could should did does do also".split())
_MOD_CANDIDATE = re.compile(r"[a-z][a-z0-9]{3,}")
_ADJ_END = re.compile(r"(?:ed|ly|er|est|ive|ous|al|ic|ary|ing|ble|ant|ent|ful|less)$")
_DISEASE_HEAD_RE = re.compile(rf"\b(?:{_DISEASE_HEADS})\b")


_LOWER_TOKEN = re.compile(r"(?<![\w-])([a-z]+)(?![\w-])")


def _is_acronym(tok: str) -> bool:
    letters = [c for c in tok if c.isalpha()]
    upper = sum(c.isupper() for c in letters)
    return 2 <= len(tok) <= 12 and upper >= 2 and upper * 2 >= len(letters) and tok not in _ACRONYM_STOP


def _mentions(s: str, lower_vocab: frozenset[str]) -> list[tuple[tuple[str, str], str]]:
    """(pool key, term) of each swappable entity in a sentence; the key says which terms are of one kind."""
    out: list[tuple[tuple[str, str], str]] = []
    in_parens = set(re.findall(r"\(([^()\s]+)\)", s))
    for w in _LOWER_TOKEN.findall(s):
        if len(w) < 6:
            continue
        if w in _DRUG_EXTRA or (w.endswith(_DRUG_SUFFIXES) and w not in _DRUG_STOP):
            out.append((("drug", ""), w))
        elif w.endswith(_DISEASE_SUFFIXES) and w not in _DISEASE_STOP:
            suffix = next(x for x in _DISEASE_SUFFIXES if w.endswith(x))  # carcinoma <-> melanoma, not ischemia
            out.append((("disease", suffix), w))
    if _DISEASE_HEAD_RE.search(s):
        for m in _DISEASE_PHRASE.finditer(s):
            mod = m.group(1)
            if (
                mod.lower() in _MODIFIER_STOP
                or mod.endswith(("ed", "ing", "ly", "ive"))
                or _CLOSED_OF.get(mod) in _NOT_ORGAN
            ):
                continue
            if _prev_word(s, m.start()) in _VERB_SLOT or mod in _VERBS:
                continue  # "to score disease severity": a verb, not a modifier
            out.append((("dphrase", m.group(2).rstrip("s")), mod))
    raw = s.split()
    words = [w.strip(".,;:()[]\"'") for w in raw]
    for k, w in enumerate(words):
        if w in _CLOSED_OF and not (k + 1 < len(words) and _DISEASE_HEAD_RE.fullmatch(words[k + 1])):
            out.append(((_CLOSED_OF[w], ""), w))  # "lung cancer" is swapped as a disease, not an organ
        if k + 1 < len(words) and words[k + 1] in _MOD_HEADS and _MOD_CANDIDATE.fullmatch(raw[k]):
            if (
                w not in _MOD_WORD_STOP
                and w not in _STOP
                and w not in _CLOSED_OF
                and w not in _VERBS
                and w not in _PAST_TO_BASE
                and not _ADJ_END.search(w)
                and (k == 0 or words[k - 1].lower() not in _VERB_SLOT)
            ):
                out.append((("mod", words[k + 1]), w))
    for rx, tag in ((_ACRONYM, "A"), (_PROPER, "P")):
        for m in rx.finditer(s):
            term = m.group(1)
            if term in in_parens or term in _CLOSED_OF:
                continue
            if tag == "A" and not _is_acronym(term):
                continue
            if tag == "P" and (
                m.start() == 0 or term.lower() in lower_vocab or s[: m.start()].rstrip().endswith((".", ":"))
            ):
                continue
            nxt = re.match(r"\s+([a-z][a-z-]{2,})\b", s[m.end() :])
            if nxt and nxt.group(1) not in _STOP:
                out.append(((tag + "next", nxt.group(1)), term))
                continue
            prev = s[: m.start()].split()[-2:]
            if len(prev) == 2 and all(re.fullmatch(r"[a-z]+", p) for p in prev) and prev[0] not in _STOP:
                out.append(((tag + "prev", " ".join(prev)), term))
            elif tag == "A" and any(c.isdigit() for c in term):
                out.append((("gene", ""), term))
    return out


def _replace_term(s: str, term: str, new: str) -> str:
    rx = re.compile(rf"(?<![\w-]){re.escape(term)}(?![\w-])")
    return rx.sub(lambda m: new, s)


# ---------------------------------------------------------------- corpus


class _Corpus:
    """Cleaned abstracts, their usable sentences, and the pools edits draw from."""

    def __init__(self, abstracts: Sequence[Sequence[str]]):
        self.abstracts: list[list[str]] = []
        for abstract in abstracts:
            sentences = [c for c in (_clean(s) for s in abstract) if c]
            if sentences:
                self.abstracts.append(sentences)
        self.words = [frozenset(re.findall(r"[\w'-]+", " ".join(a).lower())) for a in self.abstracts]
        self.usable = [[i for i, s in enumerate(a) if is_usable(s)] for a in self.abstracts]
        self.with_usable = [k for k, u in enumerate(self.usable) if u]
        vocab: dict[str, None] = {}
        for a in self.abstracts:
            for s in a:
                for w in re.findall(r"(?<=\s)[a-z][a-z'-]+", s):
                    vocab[w] = None
        self.lower_vocab = frozenset(vocab)
        capitalised: dict[str, None] = {}
        for a in self.abstracts:
            for s in a:
                for w in re.findall(r"(?<=[a-z,;] )[A-Z][a-z'-]+", s):
                    capitalised[w.split("'")[0]] = None
        self.names = frozenset(w for w in capitalised if w.lower() not in self.lower_vocab)
        self._contents: dict[int, list[frozenset[str]]] = {}
        self._numbers: dict[int, list[str]] = {}
        self._index: dict[str, list[int]] | None = None
        # pool key -> term -> number of abstracts it occurs in (insertion-ordered: deterministic)
        self.pools: dict[tuple[str, str], dict[str, int]] = {}
        for a in self.abstracts:
            seen: dict[tuple[tuple[str, str], str], None] = {}
            for s in a:
                for key, term in _mentions(s, self.lower_vocab):
                    seen[(key, term)] = None
            for key, term in seen:
                pool = self.pools.setdefault(key, {})
                pool[term] = pool.get(term, 0) + 1

    def contents(self, a: int) -> list[frozenset[str]]:
        if a not in self._contents:
            self._contents[a] = [_content(s) for s in self.abstracts[a]]
        return self._contents[a]

    def numbers(self, a: int) -> list[str]:
        if a not in self._numbers:
            self._numbers[a] = [t for s in self.abstracts[a] for _, _, t in _number_spans(s)]
        return self._numbers[a]

    def pick(self, rng: random.Random) -> tuple[int, int]:
        a = rng.choice(self.with_usable)
        return a, rng.choice(self.usable[a])

    def window(
        self, a: int, i: int, rng: random.Random, exclude: Sequence[int] = (), share: float = TWO_SENTENCE_SHARE
    ) -> str:
        """The source sentence, or (now and then) it and a neighbour, in text order."""
        sentences = self.abstracts[a]
        if rng.random() < share:
            neighbours = [
                j
                for j in (i - 1, i + 1)
                if 0 <= j < len(sentences) and j not in exclude and 4 <= len(sentences[j].split()) <= 70
            ]
            if neighbours:
                j = rng.choice(neighbours)
                lo, hi = min(i, j), max(i, j)
                return f"{sentences[lo]} {sentences[hi]}"
        return sentences[i]

    def bases(self, a: int, i: int, rng: random.Random) -> list[str]:
        """Surface forms a negative is edited from: the same ones positives use (verbatim, trimmed, clause-dropped)."""
        s = self.abstracts[a][i]
        forms = [s, trim_framing(s)]
        dropped = drop_clause(s, rng)
        if dropped:
            forms.append(dropped)
        forms = list(dict.fromkeys(forms))
        rng.shuffle(forms)
        return forms

    def _stem_index(self) -> dict[str, list[int]]:
        """Content stem -> the abstracts (with usable sentences) that use it; built on first use."""
        if self._index is None:
            index: dict[str, list[int]] = {}
            for b in self.with_usable:
                for stem in sorted(frozenset().union(*(self.contents(b)[j] for j in self.usable[b]))):
                    index.setdefault(stem, []).append(b)
            self._index = index
        return self._index

    def other_abstracts(self, a: int, k: int, rng: random.Random, near: frozenset[str] = frozenset()) -> list[int]:
        """k other abstracts: half (when ``near`` is given) among those sharing a rarer word with it."""
        related: list[int] = []
        if near:
            index = self._stem_index()
            max_df = max(20, len(self.with_usable) // 20)
            postings = [index.get(stem, []) for stem in sorted(near)]
            related = list(dict.fromkeys(b for post in postings if 2 <= len(post) <= max_df for b in post if b != a))
        picks = rng.sample(related, min(k // 2, len(related)))
        chosen = set(picks) | {a}
        pool = self.with_usable
        for b in rng.sample(pool, min(k + len(chosen), len(pool))):
            if len(picks) >= k:
                break
            if b not in chosen:
                picks.append(b)
                chosen.add(b)
        return picks

    def swap_entity(self, a: int, text: str, rng: random.Random) -> str | None:
        mentions = list(dict.fromkeys(_mentions(text, self.lower_vocab)))
        rng.shuffle(mentions)
        for key, term in mentions:
            pool = self.pools.get(key, {})
            words = self.words[a]
            candidates = [t for t in pool if t.lower() != term.lower() and t.lower() not in words]
            frequent = [t for t in candidates if pool[t] >= 2]
            candidates = frequent or candidates
            if not candidates:
                continue
            new = rng.choice(candidates)
            out = _replace_term(text, term, new)
            if out != text:
                return _upper_first(out)
        return None


# ---------------------------------------------------------------- pair makers


def _verbatim_trimmed(c: _Corpus, a: int, i: int, rng: random.Random) -> Pair | None:
    s = c.abstracts[a][i]
    hyp = trim_framing(s)
    if hyp == s and rng.random() < 0.6:
        return None  # prefer sentences whose framing is actually trimmed
    return c.window(a, i, rng), hyp, 1, "verbatim_trimmed"


def _clause_dropped(c: _Corpus, a: int, i: int, rng: random.Random) -> Pair | None:
    hyp = drop_clause(c.abstracts[a][i], rng)
    return (c.window(a, i, rng), hyp, 1, "clause_dropped") if hyp else None


def _fused(c: _Corpus, a: int, i: int, rng: random.Random) -> Pair | None:
    sentences = c.abstracts[a]
    partners = [j for j in (i + 1, i + 2) if j in c.usable[a]]
    if not partners:
        return None
    j = rng.choice(partners)
    hyp = fuse(sentences[i], sentences[j], c.names)
    if len(hyp.split()) > 80:
        return None
    return f"{sentences[i]} {sentences[j]}", hyp, 1, "fused"


def _number_reformatted(c: _Corpus, a: int, i: int, rng: random.Random) -> Pair | None:
    base = rng.choice([c.abstracts[a][i], trim_framing(c.abstracts[a][i])])
    hyp = reformat_number(base, rng, allow_weak=rng.random() < 0.25)
    return (c.window(a, i, rng), hyp, 1, "number_reformatted") if hyp else None


def _synonym(c: _Corpus, a: int, i: int, rng: random.Random) -> Pair | None:
    base = rng.choice([c.abstracts[a][i], trim_framing(c.abstracts[a][i])])
    hyp = substitute_synonyms(base, rng)
    return (c.window(a, i, rng), hyp, 1, "synonym") if hyp else None


def _number_edit(c: _Corpus, a: int, base: str, premise: str, rng: random.Random) -> str | None:
    others = [t for t in c.numbers(a) if t not in premise]
    return change_number(base, rng, others, premise)


def _edited(
    kind: str, edit: Callable[[_Corpus, int, str, str, random.Random], str | None]
) -> Callable[[_Corpus, int, int, random.Random], Pair | None]:
    """A maker that applies one minimal edit to a surface form of the source sentence."""

    def make(c: _Corpus, a: int, i: int, rng: random.Random) -> Pair | None:
        premise = c.window(a, i, rng, share=TWO_SENTENCE_SHARE_NEGATIVE)
        for base in c.bases(a, i, rng):
            hyp = edit(c, a, base, premise, rng)
            if hyp:
                assert hyp != base, f"{kind}: the edit did not change the text"
                return premise, hyp, 0, kind
        return None

    return make


def _true_plus_false(c: _Corpus, a: int, i: int, rng: random.Random) -> Pair | None:
    premise = c.window(a, i, rng, share=TWO_SENTENCE_SHARE_NEGATIVE)
    p_content = _content(premise)
    best: tuple[int, str] | None = None
    for b in c.other_abstracts(a, FALSE_CLAUSE_ABSTRACTS, rng, near=p_content):
        for j in c.usable[b]:
            cand = c.abstracts[b][j]
            if len(cand.split()) > 35:
                continue
            cc = c.contents(b)[j]
            shared = len(cc & p_content)
            if cc and shared >= 1 and shared / len(cc) <= 0.4 and (best is None or shared > best[0]):
                best = (shared, cand)
    if best is None:
        return None
    true_part = rng.choice(c.bases(a, i, rng))
    hyp = fuse(true_part, best[1], c.names)
    assert hyp != true_part
    return premise, hyp, 0, "true_plus_false"


def _other_paper(c: _Corpus, a: int, i: int, rng: random.Random) -> Pair | None:
    premise = c.window(a, i, rng, share=TWO_SENTENCE_SHARE_NEGATIVE)
    p_content = _content(premise)
    best: tuple[int, str] | None = None
    for b in c.other_abstracts(a, OTHER_ABSTRACTS, rng, near=p_content):
        for j in c.usable[b]:
            cc = c.contents(b)[j]
            shared = len(cc & p_content)
            # a near-copy could be supported after all: keep hard negatives, not paraphrases
            if shared >= 3 and shared / len(cc) <= 0.5 and (best is None or shared > best[0]):
                best = (shared, c.abstracts[b][j])
    if best is None:
        return None
    hyp = trim_framing(best[1])
    assert hyp not in premise
    return premise, hyp, 0, "other_paper"


def _partial_premise(c: _Corpus, a: int, i: int, rng: random.Random) -> Pair | None:
    sentences = c.abstracts[a]
    partners = [j for j in c.usable[a] if j != i]
    rng.shuffle(partners)
    for j in partners:
        premise = c.window(a, i, rng, exclude=(j,), share=TWO_SENTENCE_SHARE_NEGATIVE)
        cc = c.contents(a)[j]
        if not cc or len(cc & _content(premise)) / len(cc) > 0.5:
            continue  # the second sentence must say something the premise does not
        if any(t in premise for _, _, t in _number_spans(sentences[j]) if len(t) > 1):
            continue
        hyp = fuse(sentences[i], sentences[j], c.names)
        if len(hyp.split()) > 80:
            continue
        assert hyp != premise
        return premise, hyp, 0, "partial_premise"
    return None


_MAKERS: dict[str, Callable[[_Corpus, int, int, random.Random], Pair | None]] = {
    "verbatim_trimmed": _verbatim_trimmed,
    "clause_dropped": _clause_dropped,
    "fused": _fused,
    "number_reformatted": _number_reformatted,
    "synonym": _synonym,
    "number_changed": _edited("number_changed", _number_edit),
    "reversed": _edited("reversed", lambda c, a, base, premise, rng: reverse_direction(base, rng)),
    "negated": _edited("negated", lambda c, a, base, premise, rng: negate(base, rng)),
    "entity_swapped": _edited("entity_swapped", lambda c, a, base, premise, rng: c.swap_entity(a, base, rng)),
    "true_plus_false": _true_plus_false,
    "other_paper": _other_paper,
    "partial_premise": _partial_premise,
}


def synthetic_pairs(abstracts: Sequence[Sequence[str]], n: int, seed: int = 0) -> list[Pair]:
    """n (premise, hypothesis, label, kind) pairs, half supported, kinds evenly mixed within a label.

    Deterministic for a seed. A kind that finds no source sentence it applies to is replaced by
    another kind of the same label, so the labels stay balanced.
    """
    rng = random.Random(seed)
    corpus = _Corpus(abstracts)
    if not corpus.with_usable or n <= 0:
        return []
    n_pos = (n + 1) // 2
    plan = [SUPPORTED_KINDS[k % len(SUPPORTED_KINDS)] for k in range(n_pos)]
    plan += [UNSUPPORTED_KINDS[k % len(UNSUPPORTED_KINDS)] for k in range(n - n_pos)]
    rng.shuffle(plan)
    pairs: list[Pair] = []
    seen: set[tuple[str, str]] = set()
    tries: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    for kind in plan:
        family = SUPPORTED_KINDS if kind in SUPPORTED_KINDS else UNSUPPORTED_KINDS
        order = [kind] + [k for k in rng.sample(family, len(family)) if k != kind]
        made: Pair | None = None
        duplicate: Pair | None = None
        for k in order:
            for _ in range(MAX_TRIES):
                if tries[k] >= DEAD_AFTER and not hits[k]:
                    break  # the kind applies to nothing in this corpus
                tries[k] += 1
                a, i = corpus.pick(rng)
                pair = _MAKERS[k](corpus, a, i, rng)
                if pair is None:
                    continue
                hits[k] += 1
                if pair[2] == 0 and _end_period(pair[1]) in pair[0]:
                    continue  # the edit landed on a statement the premise makes after all
                if (pair[0], pair[1]) in seen:
                    duplicate = duplicate or pair
                    continue
                made = pair
                break
            if made:
                break
        made = made or duplicate
        if made is None:
            continue
        seen.add((made[0], made[1]))
        pairs.append(made)
    return pairs


# ---------------------------------------------------------------- script


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=2000, help="pairs to write (split evenly between the sources found)")
    ap.add_argument("--out", type=Path, default=Path("/tmp/synth.jsonl"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scifact", type=Path, default=DEFAULT_SCIFACT, help="SciFact corpus.jsonl (abstracts only)")
    ap.add_argument("--pubmedqa", type=Path, default=DEFAULT_PUBMEDQA, help="PubMedQA ori_pqal.json")
    ap.add_argument("--sources", default="scifact,pubmedqa", help="comma-separated subset of scifact,pubmedqa")
    ap.add_argument("--examples", type=int, default=3, help="examples printed per kind")
    args = ap.parse_args(argv)

    t0 = time.time()
    wanted = [s.strip() for s in args.sources.split(",") if s.strip()]
    readers = {
        "scifact": lambda: read_scifact_abstracts(args.scifact),
        "pubmedqa": lambda: read_pubmedqa_contexts(args.pubmedqa),
    }
    unknown = [s for s in wanted if s not in readers]
    if unknown:
        ap.error(f"unknown source(s): {', '.join(unknown)}")
    sources = {name: readers[name]() for name in wanted}
    sources = {name: abstracts for name, abstracts in sources.items() if abstracts}
    if not sources:
        print("synth: no source found; nothing written")
        return 1
    rows: list[dict] = []
    for k, (name, abstracts) in enumerate(sources.items()):
        share = args.n // len(sources) + (1 if k < args.n % len(sources) else 0)
        for premise, hypothesis, label, kind in synthetic_pairs(abstracts, share, seed=args.seed + k):
            rows.append({"premise": premise, "hypothesis": hypothesis, "label": label, "kind": kind, "source": name})
        print(f"{name}: {len(abstracts)} abstracts -> {sum(r['source'] == name for r in rows)} pairs")
    random.Random(args.seed).shuffle(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    elapsed = time.time() - t0

    kinds = Counter(r["kind"] for r in rows)
    labels = Counter(r["label"] for r in rows)
    print(f"\n{len(rows)} pairs -> {args.out} in {elapsed:.1f}s (supported {labels[1]}, unsupported {labels[0]})")
    for kind in KINDS:
        by_source = Counter(r["source"] for r in rows if r["kind"] == kind)
        detail = ", ".join(f"{s} {by_source[s]}" for s in sources)
        print(f"  {kind:20s} {int(kind in SUPPORTED_KINDS)}  {kinds[kind]:5d}  ({detail})")
    show = random.Random(args.seed + 1)
    for kind in KINDS:
        of_kind = [r for r in rows if r["kind"] == kind]
        if not of_kind:
            continue
        print(f"\n=== {kind} (label {of_kind[0]['label']})")
        for r in show.sample(of_kind, min(args.examples, len(of_kind))):
            print(f"  P [{r['source']}]: {r['premise']}")
            print(f"  H: {r['hypothesis']}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
