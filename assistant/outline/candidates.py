"""Choosing the candidate studies of an outline: the papers that belong to the topic.

Each paper of the hybrid search's top ``outline.pool`` is scored by

    score = z(log hybrid score) + outline.evidence_weight * evidence

where z is the standard score over the pool and ``evidence`` (see ``evidence``) is 1 when the
paper uses one of the topic's own terms, 0.5 when it uses only a phrase that the corpus's
abstracts on the topic use with them (a one-word topic means what those abstracts talk about;
no hand-written synonyms), 0 otherwise. The hybrid (dense + BM25) score is the best single
signal measured (tuning topics, mean ROC AUC over the pool: hybrid 0.84, best-chunk cosine
0.72, similarity to the centroid of the topic's lexical hits 0.72, relevance model 0.66); the
evidence term keeps a paper that shares the field's vocabulary but not the topic's out.

The cut is relative to the best papers, not to the pool: a paper is kept when its score is at
most ``outline.cut`` below the mean of the three best. A narrow topic (few papers far above the
rest) keeps few, a broad one many; the pool's mean says nothing about either. At least
``outline.min_papers`` are kept (the best by score) so an outline can be split into categories,
at most ``outline.max_papers``; the papers just under the cut are reported as left out.

A short topic (at most ``outline.feedback_words`` content words) also gets second retrievals with
the vocabulary of its strongest hits (see ``feedback``): their rankings are fused with the topic's
(``outline.feedback_weight``) before scoring, and the papers they find pass the same score and cut.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..models import Paper
from ..retrieval import search
from ..settings import Settings
from .evidence import TopicEvidence, corpus_grams, topic_evidence
from .feedback import Feedback, feedback, is_short

__all__ = ["CandidatePool", "candidate_pool", "candidates", "cut"]

#: The cut is measured from the mean score of this many best papers (one outlier is not the top).
TOP = 3


@dataclass
class CandidatePool:
    """The papers kept for an outline and the ones just under the cut, each with its score."""

    kept: list[tuple[Paper, float]] = field(default_factory=list)
    left_out: list[tuple[Paper, float]] = field(default_factory=list)
    evidence: TopicEvidence | None = None
    feedback: list[Feedback] = field(default_factory=list)


def candidates(settings: Settings, index, topic: str) -> list[tuple[Paper, float]]:
    """Papers that belong to the topic, best first, with their topic similarity."""
    return candidate_pool(settings, index, topic).kept


def cut(score, below_best: float, top: int = TOP) -> list[int]:
    """Indices whose score is at most ``below_best`` under the mean of the ``top`` best, best first."""
    order = sorted(range(len(score)), key=lambda i: -score[i])
    best = [score[i] for i in order[:top]]
    line = sum(best) / len(best) - below_best if best else 0.0
    return [i for i in order if score[i] >= line]


def candidate_pool(settings: Settings, index, topic: str) -> CandidatePool:
    """Score the hybrid search's top ``outline.pool`` papers against the topic and keep those over
    the cut (see the module doc)."""
    import numpy as np

    cfg = settings.outline
    hits = search(index, topic, cfg.pool)
    if not hits:
        return CandidatePool()
    by_id = {p.id: p for p in index.papers([h.paper_id for h in hits])}
    hits = [h for h in hits if h.paper_id in by_id]
    papers = [by_id[h.paper_id] for h in hits]
    sim = np.asarray([h.similarity or 0.0 for h in hits], dtype=np.float64)
    if not len(sim) or sim.max() < cfg.off_corpus:  # not even the best hit is close: the corpus does not cover it
        return CandidatePool()
    if len(papers) < 4:  # too few to have a spread: the similarity floor alone decides
        kept = [(p, float(s)) for p, s in zip(papers, sim) if s >= cfg.min_relevance]
        return CandidatePool(kept=kept)
    per, df = corpus_grams(index)
    found = topic_evidence(topic, [h.paper_id for h in hits[: cfg.expansion_seeds]], per, df)
    queries: list[Feedback] = []
    if cfg.feedback_words and is_short(topic, cfg.feedback_words) and found.seeds:
        seeds = [by_id[pid] for pid in found.seeds if pid in by_id]
        queries = feedback(topic, found.terms, seeds, df, len(per), cfg.feedback_docs, cfg.feedback_terms)
    if queries:
        # One ranking per seed, fused equally (one seed's setting does not steer another's query),
        # then with the topic's own ranking; the pool stays ``outline.pool`` papers.
        second: list = []
        for i, query in enumerate(queries, 1):
            more = search(index, query.query, cfg.pool)
            by_id.update({p.id: p for p in index.papers([h.paper_id for h in more if h.paper_id not in by_id])})
            more = [h for h in more if h.paper_id in by_id]
            second = _fuse(second, more, 1.0 / i) if second else more
        hits = _fuse(hits, second, cfg.feedback_weight)[: cfg.pool]
        papers = [by_id[h.paper_id] for h in hits]
        sim = np.asarray([h.similarity or 0.0 for h in hits], dtype=np.float64)
    evidence = np.asarray([found.score(per.get(p.id, frozenset())) for p in papers])
    fused = np.log(np.asarray([h.score for h in hits], dtype=np.float64) + 1e-9)
    score = _z(fused) + cfg.evidence_weight * evidence
    order = sorted(range(len(papers)), key=lambda i: (-score[i], papers[i].id))
    kept_idx = cut(score, cfg.cut)[: cfg.max_papers]
    # Never fewer than min_papers (the best by score): an outline needs enough studies to split, and a
    # narrow topic ("merging": two abstracts use the word) is the one that needs its neighbours most.
    kept_idx += [i for i in order if i not in kept_idx][: max(0, cfg.min_papers - len(kept_idx))]
    taken = set(kept_idx)
    left = [i for i in order if i not in taken][: cfg.left_out]
    return CandidatePool(
        kept=[(papers[i], round(float(sim[i]), 4)) for i in kept_idx],
        left_out=[(papers[i], round(float(sim[i]), 4)) for i in left],
        evidence=found,
        feedback=queries,
    )


def _fuse(first: list, second: list, weight: float) -> list:
    """The union of two rankings (Hits) by ``(1 - weight) * first + weight * second`` score, a paper
    missing from one ranking taking that ranking's lowest score (it ranks below all of it); each
    keeps its best similarity. Best first."""
    low = [min((h.score for h in hits), default=0.0) for hits in (first, second)]
    a, b = {h.paper_id: h for h in first}, {h.paper_id: h for h in second}
    out = []
    for pid in dict.fromkeys([*a, *b]):
        x, y = a.get(pid), b.get(pid)
        score = (1 - weight) * (x.score if x else low[0]) + weight * (y.score if y else low[1])
        sims = [h.similarity for h in (x, y) if h is not None and h.similarity is not None]
        out.append((x or y).model_copy(update={"score": score, "similarity": max(sims) if sims else None}))
    return sorted(out, key=lambda h: (-h.score, h.paper_id))


def _z(x):
    """Standard scores over the pool."""
    return (x - x.mean()) / (x.std() or 1.0)
