"""What an extractive answer quotes: on-point sentences of many papers, chosen by relevance.

Pure logic, no model: ``ask`` scores the candidates with the relevance model and passes the
scores in.

- ``candidates``: every sentence of the candidate abstracts that can stand as a statement.
  A sentence that refers back ("This approach", "To address this", "These models") is given
  its antecedent (the sentence before it, quoted with it); the first sentence of an abstract
  cannot be, and is skipped. Rhetorical questions, availability notes and text that addresses
  the model are skipped.
- ``role``: finding (results, "we show", numbers), method ("we propose"), or background
  (motivation, "recently", "remains an open problem"); findings are preferred, background is
  only quoted when nothing better clears the bar.
- ``select``: no padding. A candidate is kept only when its relevance clears the threshold and
  its specificity (relevance to this question beyond its relevance to bland questions of the
  field, computed by ``ask``) clears its own bar, so "hub" sentences that suit any question are
  not quoted; then a relative cut: only papers whose best candidate scores within a margin of
  the best one, so the number of statements follows the number of on-point ones. One per paper
  first (a thematic or comparative answer spreads over the papers that address it), then a
  second per paper, near-duplicates dropped, at most ``limit``.
- ``addressing``: the papers that clear the same bars and cut (the answer's lead line counts them).
- ``group``: statements grouped by what they say (greedy clustering of their vectors), the
  groups in order of their best statement.
- ``is_comparative``: "X vs Y", "X or Y", "X compared with Y" questions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .text import NOT_A_FINDING, looks_like_instruction, split_sentences

__all__ = [
    "Candidate",
    "addressing",
    "candidates",
    "group",
    "is_comparative",
    "needs_antecedent",
    "role",
    "roles",
    "select",
]

_ANAPHOR = re.compile(
    r"^(?:this|these|those|such|it|its|they|their|them|both|the (?:proposed|resulting|above|latter|former)\b"
    r"|to (?:address|solve|tackle|overcome|mitigate|fill|bridge|remedy|close) (?:this|these|that|those|such|the(?:se)? "
    r"(?:issues?|problems?|challenges?|limitations?|gaps?))"
    r"|in (?:this|that|such) (?:case|setting|way|work|regard)|building on (?:this|these)|based on (?:this|these)"
    r"|through (?:this|these|that|those)\b|by doing so|with (?:this|these)\b"
    r"|moreover|furthermore|additionally|in addition|however|nevertheless|thus|therefore|hence|consequently"
    r"|as a result|specifically|in particular|for example|for instance|instead|similarly|likewise|also"
    r"|first|second|third|fourth|fifth|finally|lastly|next|then|here)\b",
    re.IGNORECASE,
)
# "We show that this method ...": a demonstrative noun phrase in the first words refers back too.
_REFERS_BACK = re.compile(
    r"^(?:\S+\s+){0,6}?(?:this|these|those|such|said) (?:\w+ )?(?:methods?|approach(?:es)?|models?|techniques?|"
    r"frameworks?|phenomen(?:on|a)|problems?|issues?|settings?|findings?|results?|strateg(?:y|ies)|process(?:es)?|"
    r"procedures?|ideas?|observations?|limitations?|gaps?|challenges?|algorithms?|systems?|pipelines?|designs?|"
    r"narratives?|views?|beliefs?|assumptions?|claims?|notions?|hypothes[ie]s|paradigms?|trends?)\b",
    re.IGNORECASE,
)
_DEMONSTRATIVE_SUBJECT = re.compile(
    r"^(?:this|these|those|such)\s+(?:\w+\s+){0,2}?(?:is|are|was|were|can|could|has|have|leads?|makes?|allows?|enables?|shows?)\b",
    re.IGNORECASE,
)

_BACKGROUND = re.compile(
    r"^(?:recently|typically|traditionally|conventionally|in recent years|over the (?:past|last)|nowadays|with the (?:rapid|recent|growing|advent|rise|success)"
    r"|despite|although|while|large language models(?: \(llms\))? (?:are|have|has)|llms (?:are|have)"
    r"|(?:existing|current|prior|previous|most|many) (?:methods|approaches|work|works|studies|models|techniques)"
    r"|a (?:key|major|central|fundamental|critical) (?:challenge|problem|question)|one (?:key|major) challenge)"
    r"|\b(?:has|have) (?:attracted|gained|received|drawn|garnered) (?:increasing|growing|significant|much|great|considerable|wide)"
    r"|\bremains? (?:an? )?(?:open|challenging|unclear|unexplored|under-?explored|largely unknown|poorly understood)"
    r"|\b(?:little|less) (?:is known|attention)|\bis (?:still )?(?:unclear|not well understood)",
    re.IGNORECASE,
)
_FINDING = re.compile(
    r"\b(?:we (?:find|found|show|showed|demonstrate|observe|reveal|report|confirm|establish)|results? (?:show|shows|demonstrate|indicate|reveal|suggest)"
    r"|experiments? (?:show|demonstrate|reveal|indicate)|outperform\w*|improv\w*|reduc\w*|increas\w*|achiev\w*|surpass\w*"
    r"|significantly|consistently|state-of-the-art|leads? to|yields?|(?:better|worse|higher|lower|faster|more|less|fewer) than"
    r"|\d+(?:\.\d+)?\s?(?:%|×|(?:x|points?|pp)\b)|on par with|comparable to|matches|fails? to|hurts?|degrad\w*"
    r"|boost\w*|clos(?:e|es|ing) (?:\d|the gap)|(?:provide|find|show) (?:\w+ )?evidence)",
    re.IGNORECASE,
)
_METHOD = re.compile(
    r"\b(?:we (?:propose|introduce|present|develop|design|train|fine-tune|release|build|construct|collect|study|investigate|explore|analy[sz]e)"
    r"|our (?:method|approach|framework|model|analysis))\b",
    re.IGNORECASE,
)
_FRAMING_ONLY = re.compile(
    r"^(?:in this (?:paper|work|study)|here),? we (?:investigate|study|explore|examine|analy[sz]e|ask|consider)\b",
    re.IGNORECASE,
)
_COMPARATIVE = re.compile(
    r"\b(?:vs\.?|versus|compared? (?:to|with)|comparison|compare|better than|worse than|rather than|differ|trade-?offs?|contrast)\b"
    r"|\bor\b",
    re.IGNORECASE,
)


@dataclass(eq=False)
class Candidate:
    """One quotable statement of one paper: a sentence, with its antecedent when it needs one."""

    paper_id: str
    index: int  # sentence index in the abstract (of the main sentence)
    text: str
    sentence: str
    role: str  # "finding" | "method" | "background"
    relevance: float = 0.0
    cosine: float = 0.0
    score: float = 0.0
    # relevance logit for this question minus its mean over bland questions of the field (ask computes it)
    specificity: float = float("-inf")
    vector: object = field(default=None, repr=False)


# Purpose openers: "To this end, we collect ..." reads on its own as a quote ("To this end we collect and
# release a new dataset, AndroidControl, consisting of 15,283 demonstrations" answers how large it is, and
# its antecedent leans back too), but not as the one claim that stands for a study in an outline.
_PURPOSE = re.compile(r"^(?:to this end|to (?:achieve|accomplish|realize|do|enable) (?:this|that|these|so))\b", re.I)


def needs_antecedent(sentence: str, strict: bool = False) -> bool:
    """True when the sentence leans on the one before it ("This approach ...", "To address this ...",
    "Through these, ..."); ``strict`` counts purpose openers ("To this end, ...", "To achieve this, ...") too."""
    s = sentence.strip()
    return bool(
        _ANAPHOR.match(s) or _DEMONSTRATIVE_SUBJECT.match(s) or _REFERS_BACK.match(s) or (strict and _PURPOSE.match(s))
    )


_OPENER = re.compile(
    r"\b(?:has|have) (?:become|emerged|proven|been (?:widely|extensively|increasingly)|shown (?:great|remarkable|"
    r"impressive|strong|promising)|achieved (?:remarkable|impressive|great|significant|substantial) (?:success|progress|"
    r"performance)|demonstrated (?:strong|remarkable|impressive|great|promising)|revolutioni[sz]ed|transformed)"
    r"|\b(?:is|are) (?:gaining|receiving|attracting) (?:increasing|growing|significant|much|wide)"
    r"|\brepresents? an? (?:substantial|significant|major|important) (?:advance|step|progress)",
    re.IGNORECASE,
)
_FIRST_PERSON = re.compile(r"\b(?:we|our|us)\b", re.IGNORECASE)
# Where an abstract turns to the authors' own work.
_OWN_WORK = re.compile(r"\b(?:we|our|us)\b|\b(?:this|the present) (?:paper|work|study|article)\b", re.IGNORECASE)


def role(sentence: str, index: int | None = None, after_own: bool = False) -> str:
    """finding, method or background (motivation, framing, open problems). ``index`` is the
    sentence's place in its abstract: an abstract's first sentence that is not about the
    authors' own work ("we", "our") sets the scene. ``after_own``: the abstract has already
    introduced the authors' own work ("we propose ...", "In this paper ..."), so a third-person
    sentence with no background pattern describes it ("LongLoRA demonstrates strong results",
    "The proposed shift short attention enables ...") and is a method sentence, not scene-setting."""
    if not _FIRST_PERSON.search(sentence) and (index == 0 or _OPENER.search(sentence)):
        return "background"
    if _BACKGROUND.search(sentence) and not re.search(r"\bwe (?:find|show|demonstrate)\b", sentence, re.IGNORECASE):
        return "background"
    if _FRAMING_ONLY.search(sentence) and not _FINDING.search(sentence):
        return "background"
    if _FINDING.search(sentence):
        return "finding"
    if _METHOD.search(sentence) or _FIRST_PERSON.search(sentence) or after_own:
        return "method"  # about the authors' own work, without a result word
    return "background"


def roles(sentences: Sequence[str]) -> list[str]:
    """The role of each sentence of one abstract, in order (see ``role``)."""
    own = next((i for i, x in enumerate(sentences) if _OWN_WORK.search(x)), len(sentences))
    return [role(x.strip(), i, after_own=i > own) for i, x in enumerate(sentences)]


def candidates(papers: Sequence[tuple[str, str]], min_words: int = 5) -> list[Candidate]:
    """Quotable statements of each (paper id, abstract)."""
    out: list[Candidate] = []
    for pid, abstract in papers:
        sentences = split_sentences(abstract)
        sentence_roles = roles(sentences)
        for i, sentence in enumerate(sentences):
            s = sentence.strip()
            if len(s.split()) < min_words or s.endswith("?") or looks_like_instruction(s) or NOT_A_FINDING.search(s):
                continue
            text = s
            if needs_antecedent(s):
                if i == 0:
                    continue
                previous = sentences[i - 1].strip()
                if previous.endswith("?") or looks_like_instruction(previous) or needs_antecedent(previous):
                    continue
                text = f"{previous} {s}"
            out.append(Candidate(pid, i, text, s, sentence_roles[i]))
    return out


ROLE_BONUS = {"finding": 0.08, "method": 0.03, "background": -0.15}


def _ranked(
    cands: Sequence[Candidate],
    threshold: float,
    min_specificity: float | None,
    margin: float | None,
    sentence_margin: float | None,
) -> list[Candidate]:
    """The candidates over the bars, best first, after the relative cut."""
    for c in cands:
        c.score = c.relevance + ROLE_BONUS.get(c.role, 0.0)
    ranked = sorted(
        (
            c
            for c in cands
            if c.relevance >= threshold and (min_specificity is None or c.specificity >= min_specificity)
        ),
        key=lambda c: (-c.score, c.paper_id, c.index),
    )
    if not ranked:
        return []
    # A paper's background (scene-setting, motivation) is quoted only when none of its findings
    # or methods clears the bars.
    own_result = {c.paper_id for c in ranked if c.role != "background"}
    ranked = [c for c in ranked if c.role != "background" or c.paper_id not in own_result]
    best_of: dict[str, float] = {}
    for c in ranked:
        best_of.setdefault(c.paper_id, c.score)
    best = ranked[0].score
    return [
        c
        for c in ranked
        if (margin is None or best_of[c.paper_id] >= best - margin)
        and (sentence_margin is None or c.score >= best_of[c.paper_id] - sentence_margin)
    ]


def addressing(
    cands: Sequence[Candidate],
    threshold: float,
    *,
    min_specificity: float | None = None,
    margin: float | None = None,
) -> list[str]:
    """The papers that address the question: those with a candidate over the bars whose best
    score is within ``margin`` of the best paper's (the relative cut ``select`` makes), best first."""
    return list(dict.fromkeys(c.paper_id for c in _ranked(cands, threshold, min_specificity, margin, None)))


def select(
    cands: Sequence[Candidate],
    threshold: float,
    *,
    limit: int = 8,
    per_paper: int = 2,
    duplicate: float = 0.85,
    min_specificity: float | None = None,
    margin: float | None = None,
    sentence_margin: float | None = None,
) -> list[Candidate]:
    """The on-point candidates, best first: relevance >= threshold (and specificity >=
    ``min_specificity``: no hub sentences), ranked by relevance plus a bonus for findings (a
    penalty for background).

    Relative cut, so that the number of statements follows the number of on-point ones: a paper
    is quoted only when its best score is within ``margin`` of the best paper's, and a second
    sentence of a paper only within ``sentence_margin`` of that paper's best. At most
    ``per_paper`` per paper (one per paper first) and ``limit`` in all; a candidate too close to
    one already kept (cosine of ``vector`` > ``duplicate``) or overlapping its sentences is dropped.
    Background sentences come after the findings and methods, whatever their score."""
    import numpy as np

    ranked = _ranked(cands, threshold, min_specificity, margin, sentence_margin)
    chosen: list[Candidate] = []
    per: dict[str, int] = {}
    taken: set[int] = set()
    for cap in range(1, per_paper + 1):  # one per paper first, then a second ...
        for c in ranked:
            if len(chosen) >= limit:
                break
            if id(c) in taken or per.get(c.paper_id, 0) >= cap:
                continue
            if any(o.paper_id == c.paper_id and (o.sentence in c.text or c.sentence in o.text) for o in chosen):
                continue
            if c.vector is not None and any(
                o.vector is not None and float(np.dot(o.vector, c.vector)) > duplicate for o in chosen
            ):
                continue
            chosen.append(c)
            taken.add(id(c))
            per[c.paper_id] = per.get(c.paper_id, 0) + 1
    # Findings and methods first, background (motivation restating the question) after them.
    return sorted(chosen, key=lambda c: (c.role == "background", -c.score))


def group(chosen: Sequence[Candidate], similar: float = 0.55) -> list[list[Candidate]]:
    """Statements grouped by what they say: each joins the first group whose leading statement
    is within ``similar`` cosine, else starts a group; groups keep the order of their best."""
    import numpy as np

    groups: list[list[Candidate]] = []
    for c in chosen:
        for g in groups:
            if c.vector is not None and g[0].vector is not None and float(np.dot(g[0].vector, c.vector)) >= similar:
                g.append(c)
                break
        else:
            groups.append([c])
    return groups


def is_comparative(question: str) -> bool:
    """A question that contrasts approaches ("X vs Y", "compared with", "better than", "X or Y")."""
    return bool(_COMPARATIVE.search(question))
