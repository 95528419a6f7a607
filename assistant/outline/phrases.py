"""Keyphrase labels: the phrase of a category's own studies that is closest to the category and
furthest from its siblings, in embedding space, with maximal marginal relevance for a second.

This is KeyBERT's method (candidate phrases from the documents, ranked by embedding similarity
to the document, MMR for diversity) on the project's own embedder. KeyBERT itself is not used:
importing it imports sentence-transformers and torch (6 s or more on 2 cores), which the lean
ONNX path keeps out of every command.
"""

from __future__ import annotations

import re

from ..text import LABEL_STOPWORDS, PHRASE_BREAK, STOPWORDS, prefix_stem

__all__ = ["WEAK_WORDS", "candidate_phrases", "phrase_labels", "phrase_spans", "word_root"]

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
# Words that end a phrase badly or name nothing in a label of this field.
WEAK_WORDS = {
    "approach", "approaches", "method", "methods", "based", "using", "via", "new", "novel", "results",
    "performance", "paper", "study", "work", "various", "different", "existing", "recent", "however",
    "propose", "proposed", "show", "shows", "find", "findings", "significantly", "effective", "effectively",
    # how a study reports, not what it is about ("Extensive experiments" named a merging category)
    "experiments", "experiment", "experimental", "extensive", "comprehensive", "empirical", "evaluation",
    "evaluations", "leading", "superior", "remarkable", "impressive", "promising", "substantial", "significant",
    # reporting verbs ("Has shown" named an unlearning category)
    "has", "have", "had", "shown", "showed", "demonstrate", "demonstrates", "demonstrated", "achieves", "achieved",
}  # fmt: skip


def word_root(word: str) -> str:
    """A word without its inflection: "merging", "merged" and "merge" share "merg"."""
    return re.sub(r"(ing|ed|es|s|e)$", "", word.lower())


_URL = re.compile(r"https?://\S+|www\.\S+|\S+\.(?:com|org|io|net)\S*")


def phrase_spans(text: str, avoid_roots: set[str] = frozenset(), sizes: tuple[int, ...] = (2, 3)):
    """(the words as written, the next word in lowercase or "") for every run of ``sizes`` adjacent
    words of ``text`` that may name a category: no function word, no word whose root (or a root of
    one of its hyphenated parts) is in ``avoid_roots`` (the topic's and parents' words), no weak
    word at either end, no repeated word, not only field words, never across punctuation
    ("language models (PLMs)" gives no "models plms") and never from a URL. Shared by keyphrase
    labels (``candidate_phrases``) and phrase-first categories (``facets``)."""
    for segment in PHRASE_BREAK.split(_URL.sub(" ", text)):
        tokens = _WORD.findall(segment)
        low = [t.lower() for t in tokens]
        # Field words ("task", "data", "model") may be part of a phrase ("task vectors"), function words may not.
        good = [
            w not in STOPWORDS and len(w) > 2 and not {word_root(w), *map(word_root, w.split("-"))} & avoid_roots
            for w in low
        ]
        for i in range(len(low)):
            for n in sizes:
                span = low[i : i + n]
                if len(span) < n or not all(good[i : i + n]) or len(set(span)) < n:
                    continue
                if span[0] in WEAK_WORDS or span[-1] in WEAK_WORDS or all(w in LABEL_STOPWORDS for w in span):
                    continue  # "extensive experiments"; "large language", "training data"
                yield tokens[i : i + n], (low[i + n] if i + n < len(low) else "")


def candidate_phrases(text: str, avoid: set[str]) -> set[str]:
    """2-3 adjacent words of ``text`` (lowercase) that may name a category (see ``phrase_spans``);
    a label is a noun phrase of the field, not a single word."""
    avoid_roots = {word_root(w) for w in avoid}
    return {" ".join(span).lower() for span, _ in phrase_spans(text, avoid_roots)}


def _rarity(phrase: str, background: tuple | None) -> float:
    """0 (a word of the phrase is in every abstract, or no background) to 1 (in none): the idf of its
    rarest word over the corpus, scaled by the largest possible."""
    import math

    if not background or not background[1]:
        return 0.0
    df, n = background
    fewest = min(df.get(w, n) for w in phrase.split())
    return math.log((n + 1) / (fewest + 1)) / math.log(n + 1)


def phrase_labels(
    embed,
    groups: list[list[str]],
    centroids,
    avoid: set[str],
    common: set[str] = frozenset(),
    diversity: float = 0.6,
    background: tuple | None = None,
    rarity: float = 0.3,
) -> list[str | None]:
    """One label per group of member texts, or None where no phrase is shared by two members.

    A phrase qualifies when at least two members (one, for a single-member group) use it and not
    all its words are ``common`` corpus words. Its score is its cosine to its group's centroid
    minus its best cosine to a sibling's; the label is the best phrase, joined by a second one
    chosen by maximal marginal relevance when that one scores at least 70% as well. With a
    ``background`` (corpus document frequency of each word, corpus size), a phrase that is rare in
    the corpus gains up to ``rarity``: "task arithmetic" (its rarest word in 3 of 240 abstracts)
    names a category of a merging outline better than "pre-trained models" (46 of 240), however
    close both are to the category's centroid.
    """
    import numpy as np

    per_group = []
    for texts in groups:
        counts: dict[str, int] = {}
        for text in texts:
            for p in candidate_phrases(text, avoid):
                counts[p] = counts.get(p, 0) + 1
        need = min(2, len(texts))
        per_group.append(
            sorted(p for p, n in counts.items() if n >= need and not {prefix_stem(w) for w in p.split()} <= set(common))
        )
    everything = sorted({p for ps in per_group for p in ps})
    if not everything:
        return [None] * len(groups)
    vecs = np.asarray(embed(everything), dtype=np.float32)
    row = {p: i for i, p in enumerate(everything)}
    cents = np.asarray(centroids, dtype=np.float32)
    cents = cents / (np.linalg.norm(cents, axis=1, keepdims=True) + 1e-9)
    sims = vecs @ cents.T  # phrases x groups
    labels: list[str | None] = []
    for g, phrases in enumerate(per_group):
        if not phrases:
            labels.append(None)
            continue
        rows = [row[p] for p in phrases]
        own = sims[rows, g]
        rival = np.delete(sims[rows], g, axis=1).max(axis=1) if len(groups) > 1 else np.zeros(len(rows))
        # Longer phrases name a field better than single words, at equal fit.
        length = np.asarray([0.02 * (len(p.split()) - 1) for p in phrases])
        score = own - rival + length + rarity * np.asarray([_rarity(p, background) for p in phrases])
        best = int(np.argmax(score))
        chosen = [best]
        mmr = diversity * score - (1 - diversity) * (vecs[rows] @ vecs[rows[best]])
        mmr[best] = -np.inf
        for j in np.argsort(-mmr):
            p, q = phrases[int(j)], phrases[best]
            if set(p.split()) & set(q.split()) or not np.isfinite(mmr[j]):
                continue
            if score[int(j)] >= 0.7 * score[best] > 0:
                chosen.append(int(j))
            break
        label = " and ".join(phrases[j] for j in chosen)
        labels.append(label[:1].upper() + label[1:])
    return labels
