"""Text utilities every stage shares: sentences, stopwords, stems, and the checks on a sentence.

One home for what reading, judging, answering and outlining all need, so each stage agrees on
what a sentence, a content word or a "finding" is.
"""

from __future__ import annotations

import re

__all__ = [
    "FINDING",
    "LABEL_STOPWORDS",
    "NOT_A_FINDING",
    "STOPWORDS",
    "TITLE_STOPWORDS",
    "VAGUE",
    "content_stems",
    "is_degenerate",
    "looks_like_instruction",
    "prefix_stem",
    "split_sentences",
]

# ---------------------------------------------------------------- sentences

# Tokens ending in '.' that rarely end a sentence in abstracts.
_ABBREVIATIONS = {
    "e.g", "i.e", "et al", "al", "etc", "vs", "fig", "figs", "eq", "eqs", "sec", "ref", "refs", "approx",
    "cf", "resp", "no", "dr", "mr", "ms", "prof", "st", "u.s", "inc", "ltd",
}  # fmt: skip
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    """Split an abstract into sentences; abbreviations and decimals do not end one."""
    text = " ".join(text.split())
    if not text:
        return []
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        candidate = text[start : match.start()].rstrip()
        last_word = candidate.rsplit(" ", 1)[-1].rstrip(".!?\"')]").lower()
        if last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
            continue
        sentences.append(text[start : match.end()].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


# ---------------------------------------------------------------- words

# Function words: they say nothing about what a statement claims.
STOPWORDS = frozenset(
    """a an the of to in on for and or with by as at from is are was were be been this that these
    those it its their our we they which while than then into over under can may also both such
    via using use used based""".split()
)
# Words that name no category of an ML corpus: function words plus the field's own vocabulary
# ("model", "results", "improves"). "may", "then" and "under" stay label words, as they always were.
LABEL_STOPWORDS = (STOPWORDS - {"may", "then", "under"}) | frozenset(
    """new novel approach approaches method methods model models
    paper work study studies results result show shows propose proposed task tasks performance large language llm
    llms data training trained learning more however not only
    across different various significant improve improves improved improving existing recent two three one first
    achieve achieves framework benchmark benchmarks experiments evaluation analysis how what why when where who find
    finds found introduce introduces present presents demonstrate demonstrates outperform outperforms outperforming
    state-of-the-art art state effective effectively efficient simple key strong better best make makes made
    many much most well further even up out all each other own without within among through them he she has
    have had do does done given provide provides provided enable enables lead leads leading despite remain remains
    high higher low lower small smaller larger need needs often still whether thus therefore i.e e.g
    issue issues finding findings strategy strategies yet research effect effects feature features impact impacts
    useful intricate multiple several certain particular overall typically usually recently widely between""".split()
)

# Title words that say nothing about which paper this is; a paper id keeps the first words after
# them. Ids never change once given, so this list is frozen: editing it would rename new papers.
TITLE_STOPWORDS = frozenset(
    """a about across after against among an and are as at be been before between but by
    can do does for from how if in into is it its let lets my of on or our over than that
    the their this to toward towards under via vs we what whats when which who why with
    within without you your""".split()
)

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def prefix_stem(word: str, length: int = 5) -> str:
    """A crude stem: the word's first ``length`` letters ("improves", "improved" -> "impro")."""
    return word[:length]


def content_stems(text: str, length: int = 6) -> set[str]:
    """Stems of the words of ``text`` that are not stopwords and longer than two letters."""
    return {prefix_stem(w, length) for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 2}


# ---------------------------------------------------------------- checks on a sentence

_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b[^.]{0,40}\b(instructions?|prompts?|rules|above|previous)\b"
    r"|\b(you must|you should|you are now|as an ai)\b"
    r"|\b(say|respond with|reply with|output|print)\s*[\"'“]"
    r"|\bcite\s*\[\d+\]",
    re.IGNORECASE,
)


def looks_like_instruction(sentence: str) -> bool:
    """True for text that addresses the model (prompt injection); such text is never shown or quoted."""
    return bool(_INSTRUCTION.search(sentence))


def is_degenerate(text: str) -> bool:
    """Repetition loops and fragments typical of tiny models."""
    words = text.lower().split()
    if len(words) < 4:
        return True
    trigrams = [tuple(words[i : i + 3]) for i in range(len(words) - 2)]
    return len(trigrams) > 6 and len(set(trigrams)) / len(trigrams) < 0.6


# A sentence that reports what a study did or found.
FINDING = re.compile(
    r"\b(we (propose|introduce|present|show|find|demonstrate|develop)|our (results|experiments|findings|analysis)|"
    r"results (show|demonstrate|indicate|reveal)|outperform|improv|achiev|significantly|state-of-the-art)",
    re.IGNORECASE,
)
# Never a finding: links and availability notes.
NOT_A_FINDING = re.compile(
    r"https?://|github\.com|\b(code|implementation|data|models?) (is|are) (publicly )?(available|released)",
    re.IGNORECASE,
)
# Background and anaphora: a sentence that leans on the one before it, or sets the scene.
VAGUE = re.compile(
    r"\b(these|this|such) (challenges|issues|problems|limitations|gaps)\b|^(however|in this work|in this paper)\b"
    r"|^(utilizing|driven by|motivated by|to (this|that) end|despite|recently|in recent years|while|although|notably)\b"
    r"|^(large )?language models( \(llms\))? (are|have)\b",
    re.IGNORECASE,
)
