"""Choosing the candidate studies of an outline: the papers that belong to the topic.

A topic's own words are a weak query, a one-word topic ("merging", "RAG") most of all. So the
strongest hits of the hybrid search stand for the topic in the corpus's own vocabulary: each
paper of the pool is scored by its hybrid (dense + BM25) search score *and* its similarity to
the centroid of those hits
(pseudo-relevance feedback in embedding space, no hand-written synonyms). The seeds are the
abstracts that use the topic's words, so a task-vector paper joins "merging" because the
abstracts that say "merging" talk about task vectors. The cut is where the
combined score falls to ``outline.cut`` standard deviations above the pool's mean, not a fixed
count, and the papers just under it are reported as left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..models import Paper
from ..retrieval import search
from ..settings import Settings

__all__ = ["CandidatePool", "candidate_pool", "candidates"]


@dataclass
class CandidatePool:
    """The papers kept for an outline and the ones just under the cut, each with its score."""

    kept: list[tuple[Paper, float]] = field(default_factory=list)
    left_out: list[tuple[Paper, float]] = field(default_factory=list)


def candidates(settings: Settings, index, topic: str) -> list[tuple[Paper, float]]:
    """Papers that belong to the topic, best first, with their topic similarity."""
    return candidate_pool(settings, index, topic).kept


def candidate_pool(settings: Settings, index, topic: str) -> CandidatePool:
    """Score the hybrid search's top ``outline.pool`` papers against the topic and the centroid of
    its ``outline.expansion_seeds`` strongest lexical hits; keep those over the cut (see module doc)."""
    import numpy as np

    cfg = settings.outline
    hits = search(index, topic, cfg.pool)
    if not hits:
        return CandidatePool()
    sim = np.asarray([h.similarity or 0.0 for h in hits], dtype=np.float64)
    by_id = {p.id: p for p in index.papers([h.paper_id for h in hits])}
    papers = [by_id[h.paper_id] for h in hits if h.paper_id in by_id]
    rows = [i for i, h in enumerate(hits) if h.paper_id in by_id]
    sim = sim[rows]
    # The hybrid ranking (dense and BM25 fused) carries the lexical evidence the cosine lacks.
    fused = np.log(np.asarray([hits[i].score for i in rows], dtype=np.float64) + 1e-9)
    if sim.max() < cfg.off_corpus:  # not even the best hit is close: the corpus does not cover it
        return CandidatePool()
    if len(papers) < 4:  # too few to have a spread: the similarity floor alone decides
        kept = [(p, float(s)) for p, s in zip(papers, sim) if s >= cfg.min_relevance]
        return CandidatePool(kept=kept)
    vectors = np.asarray(index.embedder.embed_documents([f"{p.title}. {p.abstract}" for p in papers]), dtype=np.float64)
    # Seeds: the abstracts that use the topic's own words (the lexical ranking's best), which
    # is what a one-word topic means in this corpus; the hybrid ranking's best when none do.
    kept_hits = [h for h in hits if h.paper_id in by_id]
    lexical = sorted((h.lexical_rank, i) for i, h in enumerate(kept_hits) if h.lexical_rank is not None)
    seed_rows = [i for _, i in lexical[: cfg.expansion_seeds]] or list(range(min(cfg.expansion_seeds, len(papers))))
    seeds = vectors[seed_rows].mean(axis=0)
    seeds /= np.linalg.norm(seeds) or 1.0
    score = _z(sim) * cfg.topic_weight + _z(fused) * cfg.hybrid_weight + _z(vectors @ seeds)
    cut = cfg.cut * (1.0 + cfg.topic_weight + cfg.hybrid_weight) / 3
    order = sorted(range(len(papers)), key=lambda i: (-score[i], papers[i].id))
    # Never fewer than min_papers (if they clear the similarity floor), never more than max_papers.
    kept_idx = [i for i in order if score[i] >= cut][: cfg.max_papers]
    for i in order:
        if len(kept_idx) >= cfg.min_papers:
            break
        if i not in kept_idx and sim[i] >= cfg.min_relevance:
            kept_idx.append(i)
    taken = set(kept_idx)
    left = [i for i in order if i not in taken][: cfg.left_out]
    return CandidatePool(
        kept=[(papers[i], round(float(sim[i]), 4)) for i in kept_idx],
        left_out=[(papers[i], round(float(sim[i]), 4)) for i in left],
    )


def _z(x):
    """Standard scores over the pool."""
    return (x - x.mean()) / (x.std() or 1.0)
