"""Pseudo-relevance feedback for short topics: a second retrieval with the vocabulary of the
topic's strongest hits (RM3's idea on the hybrid search; no hand-written synonyms).

A one- or two-word topic ("merging") means what the field means by it, and the few abstracts
that use the word say what that is: "merging multiple fine-tunings of the same foundation
model", "the weight space of a pre-trained model". Papers on task arithmetic or checkpoint
averaging never use the word, and the embedder does not put them near it; they share that
vocabulary instead. So:

- Feedback documents: the seeds of ``evidence.topic_evidence`` (the strongest hybrid hits that
  use a topic term, where the lexical and the dense ranking agree), those whose title uses a
  topic term first (a paper that mentions "model merging" once, for financial text
  classification, is about finance), at most ``docs`` of them.
- Terms, per seed: its words and adjacent-word bigrams, weighed by tf x idf (idf over the whole
  corpus), a word in the title or in a sentence that uses a topic term counting ``LOCAL`` times
  (what the abstract says *about the topic*, not its setting). A term must occur in at least one
  other paper (else it retrieves nothing) and in under ``MAX_DF`` of the corpus (else it names
  nothing: "fine-tuning" in this corpus), and be no function word.
- One second retrieval per seed: the topic followed by the seed's ``k`` best terms, as the user
  would type them (the commonest surface form), through the same hybrid search. One query per
  seed, not one for all: one seed's setting (finance) does not steer another's query.

``candidates`` fuses these rankings with the topic's own and admits papers by the same score and
cut as before; the terms are recorded on the Outline (``Outline.expansion``) so a reader sees
what the topic was read as. Chance bigrams that two abstracts share ("work focuses") still get
in: harmless in a query of 32 terms, visible in the record.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from ..text import STOPWORDS, split_sentences
from .evidence import _STOP, _stem, grams

__all__ = ["Feedback", "describe", "feedback", "is_short", "topic_words"]

#: A word in the title or in a sentence that uses a topic term counts this many times.
LOCAL = 2.0
#: A term fewer papers use is chance (a bigram two abstracts happen to share: "work focuses").
MIN_DF = 2
#: A term in this share of the corpus or more retrieves everything: not a feedback term.
MAX_DF = 0.1
#: A bigram is a phrase of the field more often than a single word is ("weight space", "task vectors").
BIGRAM = 1.5

# Function words (beyond evidence's stop list) that make a chance bigram ("context some", "rendering them").
_FUNCTION = (
    STOPWORDS
    | _STOP
    | frozenset(
        """about above across after again against all almost along already although always am among
        another any anyone anything around because before being below between beyond but could did
        do does doing done down during each either else enough especially even ever every few
        further had having here how i if just least less let like likely many may might most much
        must namely near nearly neither no nor now often once one only onto other others otherwise
        per perhaps rather same several should since so some still then there thereby therefore
        though through throughout thus too toward towards under unlike until upon us very was
        were what whatever when where whereas whether who whom whose why will within without would
        yet you your""".split()
    )
)
_WORD = re.compile(r"[a-z][a-z0-9]+")


@dataclass
class Feedback:
    """One second retrieval of a short topic: the seed it reads, the terms it added, the query."""

    seed: str
    terms: list[str] = field(default_factory=list)
    grams: list[str] = field(default_factory=list)
    query: str = ""


def topic_words(topic: str) -> list[str]:
    """The content words of a topic (hyphenated words split: "fine-tuning" is two)."""
    return [w for w in _WORD.findall(topic.lower().replace("-", " ")) if w not in _FUNCTION]


def is_short(topic: str, max_words: int) -> bool:
    """A topic of at most ``max_words`` content words (and at least one)."""
    return 0 < len(topic_words(topic)) <= max_words


def _terms(text: str) -> list[tuple[str, str]]:
    """(gram, surface form) of each content word and adjacent content-word bigram, in order, with
    the grams ``evidence.grams`` makes of the same text."""
    words = _WORD.findall(text.lower().replace("-", " "))
    out = [(_stem(w), w) for w in words if w not in _FUNCTION and len(w) > 2]
    out += [
        (f"{_stem(a)} {_stem(b)}", f"{a} {b}")
        for a, b in zip(words, words[1:])
        if a not in _FUNCTION and b not in _FUNCTION and len(a) > 2 and len(b) > 2
    ]
    return out


def feedback(
    topic: str, terms: set[str], seeds: list, df: Counter, n: int, docs: int = 3, k: int = 32
) -> list[Feedback]:
    """One feedback query per seed (Papers, best first) for a topic whose own grams are ``terms``:
    the seeds whose title uses a topic term (all seeds when none does), at most ``docs``; ``df`` is
    the corpus's gram document frequency over ``n`` papers."""
    titled = [p for p in seeds if grams(p.title) & terms]
    return [q for q in (seed_query(topic, terms, p, df, n, k) for p in (titled or seeds)[:docs]) if q.terms]


def seed_query(topic: str, terms: set[str], paper, df: Counter, n: int, k: int = 32) -> Feedback:
    """The topic followed by the ``k`` best feedback terms of one seed paper (see the module doc)."""
    tf: Counter = Counter()
    surface: dict[str, Counter] = {}
    for i, sentence in enumerate([paper.title, *split_sentences(paper.abstract)]):
        local = LOCAL if i == 0 or grams(sentence) & terms else 1.0
        for gram, form in _terms(sentence):
            tf[gram] += local
            surface.setdefault(gram, Counter())[form] += 1
    weight = {
        g: c * math.log(n / df[g]) * (BIGRAM if " " in g else 1.0)
        for g, c in tf.items()
        if g not in terms and MIN_DF <= df[g] < MAX_DF * n and not _names_topic(g, terms)
    }
    best: list[str] = []
    for g in sorted(weight, key=lambda g: (-weight[g], g)):
        # A word already inside a chosen bigram adds nothing ("weight" after "weight space").
        if " " not in g and any(g in b.split(" ") for b in best):
            continue
        best.append(g)
        if len(best) == k:
            break
    forms = [surface[g].most_common(1)[0][0] for g in best]
    return Feedback(seed=paper.id, terms=forms, grams=best, query=" ".join([topic, *forms]) if forms else "")


def _names_topic(gram: str, terms: set[str]) -> bool:
    """A bigram made of a topic word and another ("model merging" for "merging") restates the topic."""
    return " " in gram and any(w in terms for w in gram.split(" "))


def describe(topic: str, terms: set[str], seeds: list, docs: int = 3) -> str:
    """The topic as its strongest hits use it: "merging: <title and sentences of the ``docs`` best
    seeds that use a topic term>", what the relevance model reads a short topic as (the bare word
    tells it little: "merging" could be anything)."""
    said = [s for p in seeds[:docs] for s in [p.title, *split_sentences(p.abstract)] if grams(s) & terms]
    return f"{topic}: {' '.join(said)}" if said else topic
