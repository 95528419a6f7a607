"""Choosing the candidate studies of an outline: the papers relevant enough to the topic."""

from __future__ import annotations

from ..models import Paper
from ..retrieval import search
from ..settings import Settings

__all__ = ["candidates"]


def candidates(settings: Settings, index, topic: str) -> list[tuple[Paper, float]]:
    """Papers relevant to the topic: hybrid search for the topic and for the topic expanded
    with its best passages (pseudo-relevance feedback), kept above a relevance threshold."""
    cfg = settings.outline
    hits = search(index, topic, cfg.max_papers)
    if not hits:
        return []
    relevance = {h.paper_id: h.similarity or 0.0 for h in hits}
    if cfg.expansion_weight > 0:
        seeds = " ".join(h.passages[0].text for h in hits[: cfg.expansion_seeds] if h.passages)
        for h in search(index, f"{topic}. {seeds}", cfg.max_papers):
            relevance[h.paper_id] = max(relevance.get(h.paper_id, 0.0), cfg.expansion_weight * (h.similarity or 0.0))
    best = max(relevance.values())
    floor = max(cfg.min_relevance, cfg.relative_relevance * best)
    # A paper the lexical ranking puts at the top names the topic outright: keep it even
    # when the small embedder scores it a little under the floor.
    lexical_top = {h.paper_id for h in hits if h.lexical_rank is not None and h.lexical_rank <= cfg.lexical_keep}
    keep = {pid: r for pid, r in relevance.items() if r >= floor or (pid in lexical_top and r >= 0.8 * floor)}
    papers = index.papers(sorted(keep))
    return sorted(((p, keep[p.id]) for p in papers), key=lambda x: (-x[1], x[0].id))
