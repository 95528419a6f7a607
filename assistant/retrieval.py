"""Retrieval: dense + BM25 chunk rankings of one index, fused by weighted reciprocal rank, per paper."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import EMPTY_QUERY, require_text
from .models import Chunk, Hit, Paper, Passage
from .settings import RetrievalSettings
from .text import NOT_A_FINDING, split_sentences

if TYPE_CHECKING:
    from .indexing import Index
    from .judge.relevance import Relevance

__all__ = ["fuse", "hit_text", "rerank", "search"]


def search(index: Index, query: str, k: int | None = None, relevance: Relevance | None = None) -> list[Hit]:
    """Papers of ``index`` for a query, best first, each with its best passages.

    With a ``relevance`` scorer the top ``retrieval.rerank_top`` papers are reranked by it."""
    query = (query or "").strip()
    require_text(query, EMPTY_QUERY)
    cfg = index.settings.retrieval
    k = k or cfg.k
    if relevance is not None:
        first = search(index, query, max(k, cfg.rerank_top))
        return rerank(query, first, relevance, cfg, k)
    n = max(cfg.candidates, k * 4)
    # A retriever of weight 0 is not run; the lexical index also gives the chunk map.
    # One read of the generation: both rankings come from the same index content (and it costs a query).
    generation = index.generation()
    lex_index = index.lexical(generation)
    lexical = lex_index.search(query, n) if cfg.lexical_weight > 0 else []
    dense = index.dense_search(query, n, generation) if cfg.dense_weight > 0 else []
    chunks = {cid: index.chunks[cid] for cid, _ in dense + lexical if cid in index.chunks}
    chunk_paper = {cid: c.paper_id for cid, c in chunks.items()}
    # Paper records only for the hits: rank first, then fetch the top k; a paper without a record
    # (uncommitted, mid-ingest) is left out and the ranking redone without it.
    missing: set[str] = set()
    papers: dict[str, Paper] = {}

    def keep(pid: str) -> bool:
        return pid not in missing

    while True:
        ranked = _rank(dense, lexical, chunk_paper, cfg, keep)
        top = [pid for pid, _ in ranked[:k]]
        need = [pid for pid in top if pid not in papers]
        papers.update({p.id: p for p in index.papers(need, generation)})
        gone = {pid for pid in need if pid not in papers}
        if not gone:
            return _hits(ranked[:k], chunks, papers, cfg)
        missing |= gone


@dataclass
class _PaperScore:
    score: float = 0.0
    similarity: float | None = None
    dense_rank: int | None = None
    lexical_rank: int | None = None
    chunks: dict[str, float] = field(default_factory=dict)


def _paper_ranking(chunk_ids: list[str], chunk_paper: dict[str, str]) -> list[tuple[str, list[str]]]:
    """Papers in order of their best chunk, with their chunks in rank order."""
    order: dict[str, list[str]] = {}
    for cid in chunk_ids:
        order.setdefault(chunk_paper[cid], []).append(cid)
    return list(order.items())


def fuse(
    dense: list[tuple[str, float]],
    lexical: list[tuple[str, float]],
    chunks: dict[str, Chunk],
    papers: dict[str, Paper],
    settings: RetrievalSettings,
    k: int,
) -> list[Hit]:
    """Reciprocal-rank fusion at the paper level; each hit keeps its best passages.

    Fusing papers rather than chunks keeps one long abstract's many chunks from crowding the
    list; a chunk's own fused score orders the passages shown for its paper.
    """
    chunk_paper = {cid: c.paper_id for cid, c in chunks.items()}
    return _hits(_rank(dense, lexical, chunk_paper, settings, papers.__contains__)[:k], chunks, papers, settings)


def _rank(
    dense: list[tuple[str, float]],
    lexical: list[tuple[str, float]],
    chunk_paper: dict[str, str],
    settings: RetrievalSettings,
    keep: Callable[[str], bool],
) -> list[tuple[str, _PaperScore]]:
    """Every paper (that ``keep`` accepts) of either ranking with its fused score, best first."""
    scores: dict[str, _PaperScore] = defaultdict(_PaperScore)
    for cid, sim in dense:
        pid = chunk_paper.get(cid)
        if pid is not None and keep(pid):
            entry = scores[pid]
            entry.similarity = max(entry.similarity if entry.similarity is not None else -1.0, sim)
    for ranking, weight, attr in (
        (dense, settings.dense_weight, "dense_rank"),
        (lexical, settings.lexical_weight, "lexical_rank"),
    ):
        ids = [cid for cid, _ in ranking if cid in chunk_paper and keep(chunk_paper[cid])]
        for rank, (pid, _) in enumerate(_paper_ranking(ids, chunk_paper), 1):
            entry = scores[pid]
            entry.score += weight / (settings.rrf_k + rank)
            setattr(entry, attr, rank)
        for rank, cid in enumerate(ids, 1):
            entry = scores[chunk_paper[cid]]
            entry.chunks[cid] = entry.chunks.get(cid, 0.0) + weight / (settings.rrf_k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1].score, kv[0]))


def _boilerplate(text: str) -> bool:
    """True when every sentence of a passage is a code/data release or a link."""
    sentences = split_sentences(text)
    return bool(sentences) and all(NOT_A_FINDING.search(x) for x in sentences)


def _best_passages(scored: dict[str, float], chunks: dict[str, Chunk], n: int) -> list[tuple[str, float]]:
    """The ``n`` best-scored chunks of a paper, a window that only says where the code is ("We
    release our code at https://...") after the others: BM25's length normalisation can make such
    a one-sentence tail a paper's best chunk. Only the chunks looked at are checked."""
    kept: list[tuple[str, float]] = []
    later: list[tuple[str, float]] = []
    for cid, score in sorted(scored.items(), key=lambda kv: -kv[1]):
        (later if _boilerplate(chunks[cid].text) else kept).append((cid, score))
        if len(kept) >= n:
            break
    return (kept + later)[:n]


def _hits(
    best: list[tuple[str, _PaperScore]], chunks: dict[str, Chunk], papers: dict[str, Paper], settings: RetrievalSettings
) -> list[Hit]:
    hits = []
    for pid, entry in best:
        top = _best_passages(entry.chunks, chunks, settings.passages)
        passages = [
            Passage(
                text=chunks[cid].text,
                sentence_start=chunks[cid].sentence_start,
                sentence_end=chunks[cid].sentence_end,
                score=round(s, 6),
            )
            for cid, s in top
        ]
        paper = papers[pid]
        hits.append(
            Hit(
                paper_id=pid,
                title=paper.title,
                date=paper.when,
                score=round(entry.score, 6),
                similarity=None if entry.similarity is None else round(entry.similarity, 4),
                dense_rank=entry.dense_rank,
                lexical_rank=entry.lexical_rank,
                passages=passages,
            )
        )
    return hits


def hit_text(hit: Hit, passages: int | None = None) -> list[str]:
    """What the relevance model reads of a hit: its title with each of its best ``passages`` passages."""
    return [f"{hit.title}. {p.text}" for p in hit.passages[:passages]] or [hit.title]


def rerank(query: str, hits: list[Hit], relevance: Relevance, settings: RetrievalSettings, k: int) -> list[Hit]:
    """The top ``settings.rerank_top`` hits rescored by the relevance model and reordered.

    A hit's relevance is the best of its first ``settings.rerank_passages`` passages (each read with the title). The new score
    blends it with the first-stage rank: ``(1 - w) * relevance + w * (1 - (rank - 1) / n)``,
    ``w = settings.rerank_weight``; hits below the top n keep their order after them."""
    top, rest = hits[: settings.rerank_top], hits[settings.rerank_top :]
    if not top:
        return hits[:k]
    texts = [hit_text(h, settings.rerank_passages) for h in top]
    flat = [t for ts in texts for t in ts]
    scores = relevance.score(query, flat)
    w, n = settings.rerank_weight, len(top)
    rescored = []
    pos = 0
    for rank, (hit, ts) in enumerate(zip(top, texts, strict=True), 1):
        rel = max(scores[pos : pos + len(ts)])
        pos += len(ts)
        blended = (1 - w) * rel + w * (1 - (rank - 1) / n)
        rescored.append(
            (blended, rank, hit.model_copy(update={"score": round(blended, 6), "relevance": round(rel, 4)}))
        )
    rescored.sort(key=lambda x: (-x[0], x[1]))
    return ([h for _, _, h in rescored] + rest)[:k]
