"""Ingest: new papers added, changed ones replaced, unchanged ones skipped; safe to interrupt.

A paper record is written only after all of its chunks (the store's commit marker), so a
killed run leaves at worst orphan chunks, which the next run removes. Every chunk carries
its paper's content hash: a committed paper whose chunks are missing, extra or of another
hash is re-embedded by the next run. Callers hold the writers' lock (``lock.writer_lock``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..models import Chunk, IngestReport, Paper
from .chunking import chunk_paper
from .lexical import chunk_text_for_index

if TYPE_CHECKING:
    from .index import Index

__all__ = ["Progress", "ingest_papers"]

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called as progress(papers_done, papers_total)."""

_BATCH_CHUNKS = 256


def _chunk_hashes(store, windows: dict[str, tuple[int, int, str]]) -> dict[str, dict[str, str | None]]:
    """Paper id -> {chunk id: content hash written with the chunk}; ``windows`` gets each chunk's
    sentence window where the store keeps it (one pass over the chunk metadata)."""
    rows = store.chunk_records(windows) if hasattr(store, "chunk_records") else {}
    if not rows:  # a store without hashes on its chunks: ids alone can still be checked
        rows = {cid: (pid, None) for cid, pid in store.chunk_paper_ids().items()}
    out: dict[str, dict[str, str | None]] = {}
    for cid, (pid, h) in rows.items():
        out.setdefault(pid, {})[cid] = h
    return out


def _state(
    paper: Paper,
    content_hash: str,
    chunks: dict[str, str | None],
    windows: dict[str, tuple[int, int, str]],
    sentences: int,
    overlap: int,
    title: str = "prefix",
) -> str:
    """ "ok" when the stored chunks are exactly the ones this paper's text makes with these chunk
    settings; "hash" when a chunk is missing or of another text (a crash, a concurrent writer of
    an older version); "settings" when they are of this text but other chunk settings (another
    window count, or "#1" covering sentences 2-4 with overlap 1 and 3-4 without, or vectors that
    carry the title another way)."""
    expected = {c.id: (c.sentence_start, c.sentence_end, title) for c in chunk_paper(paper, sentences, overlap)}
    if not chunks or not all(h in (None, content_hash) for h in chunks.values()):
        return "hash"
    if set(chunks) != set(expected):
        return "settings" if all(h == content_hash for h in chunks.values()) else "hash"
    if any(windows.get(cid, w) != w for cid, w in expected.items()):
        return "settings"
    return "ok"


def ingest_papers(index: Index, papers: Sequence[Paper], progress: Progress | None = None) -> IngestReport:
    """Add new papers, replace changed ones, repair broken ones, skip unchanged ones; safe to interrupt."""
    started = time.perf_counter()
    store = index.store
    cfg = index.settings.chunks
    committed = store.paper_hashes()
    windows: dict[str, tuple[int, int, str]] = {}
    stored = _chunk_hashes(store, windows)
    todo = [p for p in papers if committed.get(p.id) != p.content_hash()]
    incoming = {p.id for p in papers}
    # A committed paper whose chunks do not match its hash (a crash, a concurrent writer of an
    # older version): re-embedded from the incoming record, or else from the stored one.
    others = [pid for pid in committed if pid not in incoming]
    candidates = [p for p in papers if committed.get(p.id) == p.content_hash()]
    candidates += store.get_papers(others) if others else []
    state = {
        p.id: _state(p, committed[p.id], stored.get(p.id, {}), windows, cfg.sentences, cfg.overlap, cfg.title)
        for p in candidates
    }
    broken = [p for p in candidates if state[p.id] == "hash"]
    if broken:
        log.warning("repairing %d papers whose chunks do not match their content hash", len(broken))
    rechunk = [p for p in candidates if state[p.id] == "settings"]
    if rechunk:
        log.info(
            "re-embedding %d papers whose chunks were made with other chunk settings (now chunks.sentences=%d, "
            "chunks.overlap=%d, chunks.title=%s)",
            len(rechunk),
            cfg.sentences,
            cfg.overlap,
            cfg.title,
        )
        broken += rechunk
    # Chunks whose paper record is missing are leftovers of an interrupted run.
    orphans = {pid for pid in stored if pid not in committed and pid not in incoming}
    report = IngestReport(
        papers_seen=len(papers),
        added=sum(1 for p in todo if p.id not in committed),
        updated=sum(1 for p in todo if p.id in committed),
        unchanged=len(papers) - len(todo) - sum(1 for p in broken if p.id in incoming),
        repaired=len(broken),
        rechunked=len(rechunk),
        chunks_embedded=0,
        seconds=0.0,
    )
    todo += broken
    if progress:
        progress(0, len(todo))
    if todo or orphans:
        store.bump_generation()
        if orphans:
            store.delete_chunks(sorted(orphans))
        done = 0
        for batch in _batches(todo, index.settings.chunks.sentences):
            report.chunks_embedded += _ingest_batch(index, batch)
            # A new token per commit: a search cache built during this run must not outlive it if
            # the run dies (kill, Ctrl-C) before its end, when nothing would be left to bump it.
            store.bump_generation()
            done += len(batch)
            log.info("indexed %d/%d papers", done, len(todo))
            if progress:
                progress(done, len(todo))
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _ingest_batch(index: Index, papers: list[Paper]) -> int:
    import numpy as np

    cfg = index.settings.chunks
    # Drop old chunks first: a changed abstract may now have fewer windows.
    index.store.delete_chunks([p.id for p in papers])
    chunks = [c for p in papers for c in chunk_paper(p, cfg.sentences, cfg.overlap)]
    titles = {p.id: p.title for p in papers}
    vectors = chunk_vectors(index.embedder, chunks, titles, cfg.title)
    hashes = {p.id: p.content_hash() for p in papers}
    index.store.add_chunks(chunks, vectors, hashes, cfg.title)
    paper_vectors = []
    for p in papers:
        rows = [i for i, c in enumerate(chunks) if c.paper_id == p.id]
        mean = vectors[rows].mean(axis=0)
        paper_vectors.append(mean / (np.linalg.norm(mean) or 1.0))
    # The paper record commits the paper: written last, after all its chunks.
    index.store.put_papers(papers, np.asarray(paper_vectors))
    return len(chunks)


def _encode_unique(embedder, texts: list[str]):
    """Vectors of ``texts``, each distinct text encoded once (a short abstract's windows, duplicate papers)."""
    import numpy as np

    unique = list(dict.fromkeys(texts))
    encoded = np.asarray(embedder.embed_documents(unique), dtype=np.float32)
    row = {t: i for i, t in enumerate(unique)}
    return encoded[[row[t] for t in texts]] if len(texts) else encoded


def chunk_vectors(embedder, chunks: Sequence[Chunk], titles: dict[str, str], title_mode: str = "mix"):
    """The dense vectors of ``chunks`` (unit rows, input order).

    ``prefix``: each window encoded as "title. window" (the title's tokens read once per window).
    ``mix``: each window encoded alone and its paper's title once; a chunk's vector is the two
    added, weighted by their word counts (roughly what mean pooling over "title. window" weighs
    them by), and normalised: the same SciFact retrieval for about two thirds of the tokens with
    windows that do not overlap, but weaker outline candidates (README, "The lean query path").
    """
    import numpy as np

    if title_mode == "prefix":
        return _encode_unique(embedder, [chunk_text_for_index(titles[c.paper_id], c) for c in chunks])
    named = [pid for pid in dict.fromkeys(c.paper_id for c in chunks) if titles.get(pid, "").strip()]
    # windows and titles in one pass (batched by length together)
    encoded = _encode_unique(embedder, [c.text for c in chunks] + [titles[pid] for pid in named])
    windows = encoded[: len(chunks)]
    title_vec = {pid: encoded[len(chunks) + i] for i, pid in enumerate(named)}
    out = np.empty_like(windows)
    for i, c in enumerate(chunks):
        v = len(c.text.split()) * windows[i]
        if c.paper_id in title_vec:
            v = v + len(titles[c.paper_id].split()) * title_vec[c.paper_id]
        out[i] = v / (np.linalg.norm(v) or 1.0)
    return out


def _batches(papers: list[Paper], sentences_per_chunk: int) -> list[list[Paper]]:
    """Groups of papers of roughly _BATCH_CHUNKS chunks, so encode batches stay full."""
    out: list[list[Paper]] = []
    current: list[Paper] = []
    size = 0
    for p in papers:
        current.append(p)
        size += max(1, p.abstract.count(". ") // max(1, sentences_per_chunk - 1))
        if size >= _BATCH_CHUNKS:
            out.append(current)
            current, size = [], 0
    if current:
        out.append(current)
    return out
