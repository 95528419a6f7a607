"""Cheap signals the NLI model misses, and the source windows a statement is checked against.

- sentence windows: every sentence and every pair of neighbouring sentences of a source;
- numbers: a quantity the statement states that the source never mentions (a swapped figure);
- direction: a statement that flips a direction word of its aligned window (improves/degrades);
- negation: exactly one of statement and window negated.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from ..text import content_stems, split_sentences

__all__ = [
    "DIRECTION_PENALTY",
    "NUMBER_PENALTY",
    "aligned_window",
    "direction_conflicts",
    "extract_numbers",
    "missing_numbers",
    "negation_mismatch",
    "sentence_windows",
    "signal_flags",
    "signal_penalty",
    "statement_parts",
    "top_windows",
]

NUMBER_PENALTY = 3.0
DIRECTION_PENALTY = 2.0


# ---------------------------------------------------------------- sentence windows


def sentence_windows(text: str, size: int = 2, max_chars: int = 1200) -> list[str]:
    """Every sentence plus every run of ``size`` consecutive sentences (deduplicated, in order).

    Single sentences keep a precise premise for short claims; pairs catch a claim whose two
    halves sit in neighbouring sentences. A window longer than ``max_chars`` is dropped unless
    it is a single sentence (which the tokenizer truncates).
    """
    sentences = split_sentences(text)
    if not sentences:
        return [text.strip()] if text.strip() else []
    windows: list[str] = []
    seen: set[str] = set()
    for i in range(len(sentences)):
        for n in range(1, max(1, size) + 1):
            if i + n > len(sentences) or (n > 1 and len(sentences) == 1):
                break
            window = " ".join(sentences[i : i + n])
            if n > 1 and len(window) > max_chars:
                continue
            if window not in seen:
                seen.add(window)
                windows.append(window)
    return windows


# ---------------------------------------------------------------- cheap signals

# Number words a statement can assert: from "three" up ("one" is mostly a pronoun and "two"
# mostly a determiner). A source may state more loosely ("a single", "twice", "half").
_NUMBER_WORDS = {
    "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
}  # fmt: skip
_SOURCE_NUMBER_WORDS = _NUMBER_WORDS | {
    "one": 1,
    "single": 1,
    "two": 2,
    "both": 2,
    "pair": 2,
    "twice": 2,
    "double": 2,
    "half": 0.5,
}
# A digit run not glued to a preceding letter or digit ("Llama2" and "A100" are names, not
# quantities); "7B", "24pp", "10x", "4k", "3.0%" and "1,000" all yield their leading number.
_NUMBER = re.compile(r"(?<![A-Za-z0-9.+])(\d+(?:,\d{3})+|\d+(?:\.\d+)?)")
# "9K samples", "320k queries", "770M", "11 billion": the number also stands for its scaled value, so
# "9,000" and "9K" (or "11B" and "11 billion") are the same quantity.
_SCALE = re.compile(r"\s?(?:(k|K)|(M)|(B)|(T))\b|\s(thousand|million|billion|trillion)\b")
_SCALES = {"k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12, "thousand": 1e3, "million": 1e6, "billion": 1e9,
           "trillion": 1e12}  # fmt: skip
# "one hundred and forty", "twenty-five": number words read together as one quantity.
_CARDINALS = sorted({*_NUMBER_WORDS, "one", "two", "thousand", "million", "billion"}, key=len, reverse=True)
_WORD_NUMBER = re.compile(rf"\b(?:(?:{'|'.join(_CARDINALS)})(?:[\s-]+(?:and[\s-]+)?|\b))+", re.IGNORECASE)
# "COVID-19", "GPT-4", "IL-6", "Llama2-70B": a number hyphenated onto a word is part of a name.
_NAME_PREFIX = re.compile(r"(?:^|[\s(/\[-])[A-Za-z][\w.]*-$")


def _word_value(phrase: str) -> float | None:
    """The value of a run of number words ("one hundred and forty" = 140), None for a lone word."""
    words = [w for w in re.split(r"[\s-]+", phrase.lower()) if w and w != "and"]
    if len(words) < 2:
        return None
    total = current = 0.0
    for w in words:
        if w == "hundred":
            current = (current or 1) * 100
        elif w in ("thousand", "million", "billion"):
            total += (current or 1) * _SCALES[w]
            current = 0.0
        elif w in _SOURCE_NUMBER_WORDS:
            current += _SOURCE_NUMBER_WORDS[w]
        else:
            return None
    return total + current


def _quantities(text: str, words: dict[str, float]) -> list[list[tuple[float, float]]]:
    """Each quantity a text states, as its readings (value, relative tolerance): "9K" reads as 9 or
    as 9000 give or take 1% (a scaled figure is rounded: "about 609K" for 609,432)."""
    out: list[list[tuple[float, float]]] = []
    for match in _NUMBER.finditer(text):
        if _NAME_PREFIX.search(text[max(0, match.start() - 40) : match.start()]):
            continue
        value = float(match.group(1).replace(",", ""))
        readings = [(value, 1e-9)]
        scale = _SCALE.match(text, match.end())
        if scale:
            readings.append((value * _SCALES[next(g for g in scale.groups() if g)], 0.01))
        out.append(readings)
    for match in _WORD_NUMBER.finditer(text):
        phrase = match.group(0).strip().lower()
        value = _word_value(phrase)
        if value is not None:
            out.append([(value, 1e-9)])
        elif phrase in words:
            out.append([(float(words[phrase]), 1e-9)])
    # The looser words a source may state a number with ("a single", "both", "twice", "half").
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in words and not _WORD_NUMBER.fullmatch(word):
            out.append([(float(words[word]), 1e-9)])
    return out


def extract_numbers(text: str, words: dict[str, float] | None = None) -> set[float]:
    """Quantities a text states, as floats: digits ("1,000", "7.9", "24pp"), scaled digits ("9K" is
    9 and 9000, "11 billion" 11 and 1.1e10), number words and runs of them ("one hundred and forty")."""
    words = _NUMBER_WORDS if words is None else words
    return {value for readings in _quantities(text, words) for value, _ in readings}


def missing_numbers(source: str, statement: str) -> set[float]:
    """Numbers the statement states that the source never mentions (a swapped figure); a quantity
    counts as mentioned when any of its readings matches any of the source's ("9,000" and "9K")."""
    wanted = _quantities(statement, _NUMBER_WORDS)
    if not wanted:
        return set()
    have = [r for readings in _quantities(source, _SOURCE_NUMBER_WORDS) for r in readings]
    missing = set()
    for readings in wanted:
        if not any(math.isclose(x, y, rel_tol=max(tx, ty)) for x, tx in readings for y, ty in have):
            missing.add(readings[0][0])
    return missing


# Antonym pairs; each side is a regex over lower-cased words (prefix stems on purpose).
_DIRECTION_PAIRS: list[tuple[str, str]] = [
    (r"improv\w*|enhanc\w*|boost\w*|benefit\w*|gains?", r"degrad\w*|worsen\w*|hurts?|harm\w*|impair\w*"),
    (r"outperform\w*|surpass\w*|beats?|better|superior", r"underperform\w*|worse|inferior|lags?|lagging"),
    (
        r"increas\w*|rais\w*|amplif\w*|strengthen\w*|higher|more|greater|larger",
        r"decreas\w*|reduc\w*|lower\w*|weaken\w*|diminish\w*|shrink\w*|less|fewer|smaller",
    ),
    (r"consistent\w*", r"inconsistent\w*"),
    (r"effective\w*", r"ineffective\w*"),
    (r"closest|nearest", r"farthest|furthest"),
    (r"trustworthy|reliable", r"untrustworthy|unreliable"),
    (r"alleviat\w*|mitigat\w*|prevent\w*", r"exacerbat\w*|aggravat\w*|worsen\w*"),
    (r"succeed\w*|success\w*", r"fail\w*"),
    (r"retain\w*|preserv\w*|keeps?", r"los[et]\w*|forget\w*|discard\w*"),
    (r"efficient", r"inefficient"),
    (r"enables?", r"prevents?|hinders?"),
]
_DIRECTION_RE = [(re.compile(rf"\b(?:{a})\b"), re.compile(rf"\b(?:{b})\b")) for a, b in _DIRECTION_PAIRS]
_NEGATION = re.compile(r"\b(?:not|no|never|none|neither|nor|cannot|without|fails? to|failed to|unable|lacks?)\b|n't\b")


def aligned_window(windows: Sequence[str], statement: str) -> str:
    """The window sharing most content words with the statement (ties: the shortest)."""
    target = content_stems(statement)
    if not windows:
        return ""
    return max(windows, key=lambda w: (len(target & content_stems(w)), -len(w)))


def direction_conflicts(window: str, statement: str) -> list[tuple[str, str]]:
    """Antonym pairs where the statement says one side and the window only the other side."""
    s, w = statement.lower(), window.lower()
    conflicts: list[tuple[str, str]] = []
    for up, down in _DIRECTION_RE:
        for said, opposite in ((up, down), (down, up)):
            m = said.search(s)
            if m and not said.search(w) and not opposite.search(s):
                o = opposite.search(w)
                if o:
                    conflicts.append((m.group(0), o.group(0)))
    return conflicts


def negation_mismatch(window: str, statement: str) -> bool:
    """True when exactly one of statement and window carries a negation cue."""
    return bool(_NEGATION.search(statement.lower())) != bool(_NEGATION.search(window.lower()))


def signal_flags(source: str, statement: str, windows: Sequence[str] | None = None) -> tuple[bool, bool]:
    """(a number of the statement is absent from the source, the statement flips a direction
    word of its aligned window)."""
    window = aligned_window(windows if windows is not None else sentence_windows(source), statement)
    return bool(missing_numbers(source, statement)), bool(window and direction_conflicts(window, statement))


def signal_penalty(source: str, statement: str, windows: Sequence[str] | None = None) -> float:
    """Logit penalty from the cheap signals at the fixed offsets (0 when they see nothing wrong)."""
    numbers, direction = signal_flags(source, statement, windows)
    return NUMBER_PENALTY * numbers + DIRECTION_PENALTY * direction


def top_windows(windows: Sequence[str], statement: str, k: int | None) -> list[str]:
    """The ``k`` windows sharing most content words with the statement (all when k is None).

    Scoring only these cuts the cross-encoder's work: the judge scores k=2 (4x fewer rows than
    k=8, the same AUC on the project tuning half, 0.854 vs 0.852, and on SNLI/MNLI held-out);
    k=8 and k=all gave the same AUC to within 0.005.
    """
    if k is None or len(windows) <= k:
        return list(windows)
    target = content_stems(statement)
    ranked = sorted(range(len(windows)), key=lambda i: (-len(target & content_stems(windows[i])), i))
    return [windows[i] for i in sorted(ranked[:k])]


# Where a statement joins independent claims: "A; B", "A, and B", "A, while B", "A whereas B".
_CLAUSE_BREAK = re.compile(r";\s+|,\s+(?:and|but|while|whereas)\s+|\s+whereas\s+")


def statement_parts(statement: str) -> list[str]:
    """The clauses of a statement that each must be supported (the statement itself when it
    has one clause, or when a piece is too short to be a claim of its own)."""
    pieces = [p.strip(" .,;") for p in _CLAUSE_BREAK.split(statement)]
    parts = [p for p in pieces if len(p.split()) >= 4]
    return parts if len(pieces) > 1 and len(parts) == len(pieces) else [statement]
