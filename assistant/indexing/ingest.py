"""Ingest: new papers added, changed ones replaced, unchanged ones skipped; safe to interrupt.

A paper record is written only after all of its chunks (the store's commit marker), so a
killed run leaves at worst orphan chunks, which the next run removes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..models import IngestReport, Paper
from .chunking import chunk_paper
from .lexical import chunk_text_for_index

if TYPE_CHECKING:
    from .index import Index

__all__ = ["Progress", "ingest_papers"]

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called as progress(papers_done, papers_total)."""

_BATCH_CHUNKS = 256


def ingest_papers(index: Index, papers: Sequence[Paper], progress: Progress | None = None) -> IngestReport:
    """Add new papers, replace changed ones, skip unchanged ones; safe to interrupt and rerun."""
    started = time.perf_counter()
    store = index.store
    committed = store.paper_hashes()
    todo = [p for p in papers if committed.get(p.id) != p.content_hash()]
    incoming = {p.id for p in papers}
    # Chunks whose paper record is missing are leftovers of an interrupted run.
    orphans = {pid for pid in set(store.chunk_paper_ids().values()) if pid not in committed and pid not in incoming}
    report = IngestReport(
        papers_seen=len(papers),
        added=sum(1 for p in todo if p.id not in committed),
        updated=sum(1 for p in todo if p.id in committed),
        unchanged=len(papers) - len(todo),
        chunks_embedded=0,
        seconds=0.0,
    )
    if progress:
        progress(0, len(todo))
    if todo or orphans:
        store.bump_generation()
        if orphans:
            store.delete_chunks(sorted(orphans))
        done = 0
        for batch in _batches(todo, index.settings.chunks.sentences):
            report.chunks_embedded += _ingest_batch(index, batch)
            done += len(batch)
            log.info("indexed %d/%d papers", done, len(todo))
            if progress:
                progress(done, len(todo))
        store.bump_generation()
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _ingest_batch(index: Index, papers: list[Paper]) -> int:
    import numpy as np

    cfg = index.settings.chunks
    # Drop old chunks first: a changed abstract may now have fewer windows.
    index.store.delete_chunks([p.id for p in papers])
    chunks = [c for p in papers for c in chunk_paper(p, cfg.sentences, cfg.overlap)]
    titles = {p.id: p.title for p in papers}
    vectors = index.embedder.embed_documents([chunk_text_for_index(titles[c.paper_id], c) for c in chunks])
    hashes = {p.id: p.content_hash() for p in papers}
    index.store.add_chunks(chunks, vectors, hashes)
    paper_vectors = []
    for p in papers:
        rows = [i for i, c in enumerate(chunks) if c.paper_id == p.id]
        mean = vectors[rows].mean(axis=0)
        paper_vectors.append(mean / (np.linalg.norm(mean) or 1.0))
    # The paper record commits the paper: written last, after all its chunks.
    index.store.put_papers(papers, np.asarray(paper_vectors))
    return len(chunks)


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
