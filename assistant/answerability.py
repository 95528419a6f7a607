"""Does the corpus answer *this* question, or only something that shares its field's words?

The relevance model scores a sentence against the whole question; a question about a topic
the corpus lacks ("knowledge distillation of speech recognizers for phones") still finds
sentences that match its generic half ("knowledge ... must be augmented"). What such an answer
never has is the question's *content* terms: the words that are rare in the corpus ("speech",
"phones") weigh most, the field's own vocabulary ("model", "fine-tuning", used by a good share
of the abstracts) weighs little, and the question's framing ("what", "how much", "does")
nothing.

- ``query_terms``: the question's content terms (stemmed, framing words left out).
- ``TermStats``: document frequencies of stems over an index's papers (one pass, remembered per
  index generation), so a term's weight is its inverse document frequency.
- ``coverage``: the share of the question's term weight that a set of texts (the sentences an
  answer would quote, with their papers' titles) uses, and the terms it leaves out, heaviest first.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .text import STOPWORDS

__all__ = ["Coverage", "TermStats", "coverage", "query_terms", "stem", "term_stats", "unmentioned"]

# How a question asks, not what about: interrogatives, auxiliaries, quantifiers and light verbs
# ("what happens", "how much", "does X give"). General English, not tuned on any question.
FRAMING = frozenset(
    """what whats which who whom whose how why when where whether does do did done doing is are was were
    be been being can could should would will shall may might must have has had having there here
    any some much many more most less least few fewer each every other others another same such
    kind kinds type types way ways sort one ones thing things part parts aspect aspects
    happen happens happened get gets got give gives given make makes made take takes come comes
    go goes become becomes seem seems exist exists existing keep keeps put let lets
    main major key mainly typical typically usually generally really actually often still also
    just only even very well far enough whole rather instead
    good better best bad worse worst big bigger small smaller large larger high higher low lower
    known recent recently current currently new old common commonly
    use uses used using work works worked working help helps role roles affect affects effect effects
    impact impacts compare compared comparison versus vs across about between among within without into
    researchers research studies study paper papers work works approach approaches method methods technique
    techniques propose proposed proposes
    e.g eg i.e ie etc""".split()
)

_WORD = re.compile(r"[a-z][a-z0-9]*(?:'[a-z]+)?")


def _stemmer():
    try:
        import Stemmer

        return Stemmer.Stemmer("english")
    except ImportError:  # a cruder stem, same use
        return None


_STEMMER = _stemmer()
_STEMS: dict[str, str] = {}


def stem(word: str) -> str:
    """The word's stem (Snowball English when PyStemmer is installed, else its first six letters)."""
    out = _STEMS.get(word)
    if out is None:
        out = _STEMMER.stemWord(word) if _STEMMER is not None else word[:6]
        if len(_STEMS) < 200_000:
            _STEMS[word] = out
    return out


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("-", " "))


def stems(text: str) -> set[str]:
    """Stems of every word of ``text`` (hyphenated compounds split)."""
    return {stem(w) for w in _words(text)}


def query_terms(question: str) -> list[str]:
    """The question's content terms, as stems, in order: no stopword, framing word or one-letter word."""
    out: list[str] = []
    for w in _words(question):
        if len(w) < 2 or w in STOPWORDS or w in FRAMING or w.isdigit():
            continue
        s = stem(w)
        if s not in out:
            out.append(s)
    return out


@dataclass
class TermStats:
    """Document frequencies of stems over a corpus of ``n`` papers (title + abstract)."""

    n: int
    df: Counter = field(default_factory=Counter)

    def idf(self, term: str) -> float:
        """Inverse document frequency (a term no paper uses weighs most)."""
        return math.log((self.n + 1) / (self.df.get(term, 0) + 0.5))


_STATS: dict[str, TermStats] = {}


def term_stats(papers: Iterable, key: str | None = None) -> TermStats:
    """Document frequencies of the papers' stems; remembered under ``key`` (an index generation)."""
    if key is not None and key in _STATS:
        return _STATS[key]
    df: Counter = Counter()
    n = 0
    for p in papers:
        n += 1
        df.update(stems(f"{p.title} {p.abstract}"))
    stats = TermStats(n, df)
    if key is not None:
        if len(_STATS) > 4:
            _STATS.clear()
        _STATS[key] = stats
    return stats


@dataclass
class Coverage:
    """How much of a question's content term weight some texts use."""

    share: float
    terms: list[str]
    missing: list[str]  # stems, heaviest first
    words: dict[str, str] = field(default_factory=dict)  # stem -> the question's own word for it


def coverage(question: str, texts: Sequence[str], stats: TermStats) -> Coverage:
    """The idf-weighted share of ``question``'s content terms that ``texts`` use (1.0 for a question
    with none), and the terms they leave out, heaviest first."""
    terms = query_terms(question)
    words = {}
    for w in _words(question):
        words.setdefault(stem(w), w)
    if not terms:
        return Coverage(1.0, [], [], {})
    have: set[str] = set()
    for t in texts:
        have |= stems(t)
    weight = {t: stats.idf(t) for t in terms}
    total = sum(weight.values()) or 1.0
    share = sum(v for t, v in weight.items() if t in have) / total
    missing = sorted((t for t in terms if t not in have), key=lambda t: -weight[t])
    return Coverage(round(share, 4), terms, missing, {t: words.get(t, t) for t in terms})


def unmentioned(question: str, stats: TermStats, min_length: int = 4) -> list[str]:
    """The question's content terms (``query_terms``) whose stem no paper of the corpus uses, as the
    question spells them, in its order; only alphabetic words of at least ``min_length`` letters."""
    spelled: dict[str, str] = {}
    for w in _words(question):
        spelled.setdefault(stem(w), w)
    words = [spelled[t] for t in query_terms(question) if stats.df.get(t, 0) == 0]
    return [w for w in words if len(w) >= min_length and w.isalpha()]


def absent(question: str, stats: TermStats) -> tuple[float, list[str]]:
    """The share of ``question``'s content-term weight (idf, as ``coverage``) carried by terms that no
    paper of the corpus uses and that name a thing (a noun or a word the part-of-speech lexicon does
    not know, not "quickly" or "stretched"), and those terms as the question spells them, heaviest first: "How
    well do fine-tuned language models translate ancient Latin inscriptions?" 0.82 ("ancient",
    "latin", "inscriptions")."""
    terms = query_terms(question)
    if not terms:
        return 0.0, []
    spelled: dict[str, str] = {}
    for w in _words(question):
        spelled.setdefault(stem(w), w)
    weight = {t: stats.idf(t) for t in terms}
    missing = sorted(
        (t for t in terms if stats.df.get(t, 0) == 0 and _names_a_thing(spelled.get(t, t))), key=lambda t: -weight[t]
    )
    share = sum(weight[t] for t in missing) / (sum(weight.values()) or 1.0)
    return round(share, 4), [spelled.get(t, t) for t in missing]


def _names_a_thing(word: str) -> bool:
    """A word that can be a noun, or that the part-of-speech lexicon does not know (a name, a
    coinage): what a question is about. "quickly", "stretched", "erode" only say how."""
    from .text import parts_of_speech

    pos = parts_of_speech(word)
    return not pos or "NOUN" in pos
