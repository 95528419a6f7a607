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
Then the relevance model reads the pool against the topic as its strongest hits use it ("merging:
<the seeds' title and sentences that use the word>", ``feedback.describe``; the bare word tells it
little), and a candidate that does not use a topic term is kept only when its reading (logit, as a
standard score over the pool) is at least ``outline.relevance_floor`` (0: the pool's mean). The
chain of evidence: a task-vector paper is in "merging" because it reads like the merging abstracts,
not because MiniLM puts "multi-task" near the word. The vetoed papers are recorded
(``Outline.expansion.vetoed``) and listed first under the cut. Measured (tuning half): it changes
nothing where most of the pool uses the topic's terms; adding the reading to the score instead
(any weight, AUC 0.873 -> 0.909 over the short topics' pools) lost coverage at the cut.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..models import Paper
from ..retrieval import search
from ..settings import Settings
from .evidence import TopicEvidence, corpus_grams, topic_evidence
from .feedback import Feedback, describe, feedback, is_short

__all__ = ["CandidatePool", "ScoredPool", "candidate_pool", "candidates", "cut", "scored_pool"]

#: The cut is measured from the mean score of this many best papers (one outlier is not the top).
TOP = 3


@dataclass
class CandidatePool:
    """The papers kept for an outline and the ones just under the cut, each with its score."""

    kept: list[tuple[Paper, float]] = field(default_factory=list)
    left_out: list[tuple[Paper, float]] = field(default_factory=list)
    evidence: TopicEvidence | None = None
    feedback: list[Feedback] = field(default_factory=list)
    description: str = ""
    vetoed: list[str] = field(default_factory=list)


def candidates(settings: Settings, index, topic: str, relevance=None) -> list[tuple[Paper, float]]:
    """Papers that belong to the topic, best first, with their topic similarity."""
    return candidate_pool(settings, index, topic, relevance).kept


def cut(score, below_best: float, top: int = TOP) -> list[int]:
    """Indices whose score is at most ``below_best`` under the mean of the ``top`` best, best first."""
    order = sorted(range(len(score)), key=lambda i: -score[i])
    best = [score[i] for i in order[:top]]
    line = sum(best) / len(best) - below_best if best else 0.0
    return [i for i in order if score[i] >= line]


def candidate_pool(settings: Settings, index, topic: str, relevance=None) -> CandidatePool:
    """Score the hybrid search's top ``outline.pool`` papers against the topic and keep those over
    the cut (see the module doc); ``relevance`` (a Relevance, or a callable returning one) reads a
    short topic's pool."""
    cfg = settings.outline
    pool = scored_pool(settings, index, topic, relevance)
    if pool is None:
        return CandidatePool()
    papers, sim, score = pool.papers, pool.sim, pool.score
    if score is None:  # too few to have a spread: the similarity floor alone decides
        return CandidatePool(kept=[(p, float(s)) for p, s in zip(papers, sim) if s >= cfg.min_relevance])
    order = sorted(range(len(papers)), key=lambda i: (-score[i], papers[i].id))
    ok = set(order)
    if pool.read is not None and cfg.relevance_floor is not None:
        # The relevance model's veto: a paper that does not use a topic term is kept only when it
        # reads as about the topic (its standard score over the pool at least the floor).
        ok = {i for i in order if pool.read[i] >= cfg.relevance_floor or pool.own[i]}
    kept_idx = _keep(score, order, ok, cfg)
    vetoed = [i for i in _keep(score, order, set(order), cfg) if i not in ok]
    taken = set(kept_idx)
    left = [i for i in order if i not in taken][: cfg.left_out]
    return CandidatePool(
        kept=[(papers[i], round(float(sim[i]), 4)) for i in kept_idx],
        left_out=[(papers[i], round(float(sim[i]), 4)) for i in left],
        evidence=pool.evidence,
        feedback=pool.feedback,
        description=pool.description,
        vetoed=[papers[i].id for i in vetoed],
    )


def _keep(score, order: list[int], ok: set[int], cfg) -> list[int]:
    """The cut over the papers in ``ok``, at most ``max_papers``, filled up to ``min_papers``."""
    kept = [i for i in cut(score, cfg.cut) if i in ok][: cfg.max_papers]
    # Never fewer than min_papers (the best by score): an outline needs enough studies to split, and a
    # narrow topic ("merging": two abstracts use the word) is the one that needs its neighbours most.
    return kept + [i for i in order if i not in kept and i in ok][: max(0, cfg.min_papers - len(kept))]


@dataclass
class ScoredPool:
    """The pool an outline's candidates are cut from: papers, their similarity and score (None when
    the pool is too small to score), and the evidence and feedback queries behind the score."""

    papers: list[Paper]
    sim: Any
    score: Any = None
    evidence: TopicEvidence | None = None
    feedback: list[Feedback] = field(default_factory=list)
    description: str = ""
    read: Any = None
    own: Any = None


def scored_pool(settings: Settings, index, topic: str, relevance=None) -> ScoredPool | None:
    """The scored pool of a topic (see the module doc); None when the corpus does not cover it."""
    import numpy as np

    cfg = settings.outline
    hits = search(index, topic, cfg.pool)
    if not hits:
        return None
    by_id = {p.id: p for p in index.papers([h.paper_id for h in hits])}
    hits = [h for h in hits if h.paper_id in by_id]
    papers = [by_id[h.paper_id] for h in hits]
    sim = np.asarray([h.similarity or 0.0 for h in hits], dtype=np.float64)
    if not len(sim) or sim.max() < cfg.off_corpus:  # not even the best hit is close: the corpus does not cover it
        return None
    if len(papers) < 4:
        return ScoredPool(papers=papers, sim=sim)
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
    description, read = "", None
    if queries and relevance is not None and cfg.relevance_floor is not None:
        relevance = relevance() if callable(relevance) and not hasattr(relevance, "score") else relevance
        seeds = [by_id[pid] for pid in found.seeds if pid in by_id]
        description = describe(topic, found.terms, seeds, cfg.relevance_docs)
        read = _read(relevance, description, papers, score, cfg.relevance_top)
    return ScoredPool(
        papers=papers,
        sim=sim,
        score=score,
        evidence=found,
        feedback=queries,
        description=description,
        read=read,
        own=evidence >= 1.0,
    )


def _read(relevance, description: str, papers: list[Paper], score, top: int):
    """Standard scores of the relevance model's P(about the description) of the ``top`` best papers
    by ``score`` (the only ones near a cut); the rest take the lowest."""
    import numpy as np

    best = np.argsort(-score, kind="stable")[:top]
    texts = [f"{papers[i].title}. {papers[i].abstract}" for i in best]
    # Logits, not probabilities: a long description puts most of a pool at P 0.91-0.96, where the
    # probability scale squeezes the differences the standard score should keep.
    if hasattr(relevance, "logits"):
        read = np.asarray(relevance.logits(description, texts), dtype=np.float64)
    else:
        p = np.clip(np.asarray(relevance.score(description, texts), dtype=np.float64), 1e-6, 1 - 1e-6)
        read = np.log(p / (1 - p))
    out = np.full(len(papers), 0.0)
    z = _z(read)
    out[best] = z
    if len(best) < len(papers):
        out[np.setdiff1d(np.arange(len(papers)), best)] = z.min()
    return out


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
