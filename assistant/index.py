"""The index: incremental, interruption-safe ingest and hybrid search over one store."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .chunking import chunk_paper
from .corpus.ids import normalize_title
from .embedding import Embedder, load_embedder
from .errors import QueryError
from .lexical import LexicalIndex, chunk_text_for_index
from .models import Chunk, Hit, IndexStats, IngestReport, Paper
from .retrieval import fuse
from .settings import Settings
from .store import ChromaStore, open_store

__all__ = ["Index"]

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called as progress(papers_done, papers_total)."""

_BATCH_CHUNKS = 256


class Index:
    """A store, its embedder and its lexical index, opened together."""

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        create: bool = False,
        rebuild: bool = False,
    ) -> None:
        self.settings = settings
        self.embedder = embedder or load_embedder(settings.embedding)
        self.store: ChromaStore = open_store(
            settings, self.embedder.name, self.embedder.dimension, create=create, rebuild=rebuild
        )
        self._lexical: LexicalIndex | None = None
        self._chunks: dict[str, Chunk] = {}

    # -- ingest ---------------------------------------------------------------------------

    def existing_ids(self) -> dict[str, str]:
        """Normalised title -> id of every committed paper (ids never change once given)."""
        return {normalize_title(p.title): p.id for p in self.store.get_papers()}

    def ingest(self, papers: Sequence[Paper], progress: Progress | None = None) -> IngestReport:
        """Add new papers, replace changed ones, skip unchanged ones; safe to interrupt and rerun."""
        started = time.perf_counter()
        committed = self.store.paper_hashes()
        todo = [p for p in papers if committed.get(p.id) != p.content_hash()]
        incoming = {p.id for p in papers}
        # Chunks whose paper record is missing are leftovers of an interrupted run.
        orphans = {
            pid for pid in set(self.store.chunk_paper_ids().values()) if pid not in committed and pid not in incoming
        }
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
            self.store.bump_generation()
            if orphans:
                self.store.delete_chunks(sorted(orphans))
            done = 0
            for batch in _batches(todo, self.settings.chunks.sentences):
                report.chunks_embedded += self._ingest_batch(batch)
                done += len(batch)
                log.info("indexed %d/%d papers", done, len(todo))
                if progress:
                    progress(done, len(todo))
            self.store.bump_generation()
            self._lexical = None
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def _ingest_batch(self, papers: list[Paper]) -> int:
        import numpy as np

        cfg = self.settings.chunks
        # Drop old chunks first: a changed abstract may now have fewer windows.
        self.store.delete_chunks([p.id for p in papers])
        chunks = [c for p in papers for c in chunk_paper(p, cfg.sentences, cfg.overlap)]
        titles = {p.id: p.title for p in papers}
        vectors = self.embedder.embed_documents([chunk_text_for_index(titles[c.paper_id], c) for c in chunks])
        hashes = {p.id: p.content_hash() for p in papers}
        self.store.add_chunks(chunks, vectors, hashes)
        paper_vectors = []
        for p in papers:
            rows = [i for i, c in enumerate(chunks) if c.paper_id == p.id]
            mean = vectors[rows].mean(axis=0)
            paper_vectors.append(mean / (np.linalg.norm(mean) or 1.0))
        # The paper record commits the paper: written last, after all its chunks.
        self.store.put_papers(papers, np.asarray(paper_vectors))
        return len(chunks)

    # -- search ---------------------------------------------------------------------------

    def _lexical_dir(self) -> Path:
        if self.settings.store.backend == "chroma":
            return Path(self.settings.paths.store).expanduser() / "lexical"
        key = hashlib.sha256(f"{self.store.location}|{self.settings.store.collection}".encode()).hexdigest()[:12]
        return Path(self.settings.paths.cache).expanduser() / "lexical" / key

    def lexical(self) -> LexicalIndex:
        """The BM25 index for the current store content (cached on disk)."""
        generation = self.store.generation()
        if self._lexical is not None and self._lexical.generation == generation:
            return self._lexical
        directory = self._lexical_dir()
        cached = LexicalIndex.load(directory, generation)
        if cached is None:
            committed = self.store.paper_hashes()
            titles = {p.id: p.title for p in self.store.get_papers()}
            chunks = [c for c in self.store.all_chunks() if c.paper_id in committed]
            cached = LexicalIndex.build(
                chunks, [chunk_text_for_index(titles[c.paper_id], c) for c in chunks], generation
            )
            try:
                cached.save(directory)
            except OSError as exc:  # read-only store: search still works, just slower
                log.warning("cannot cache the lexical index in %s: %s", directory, exc)
        self._lexical = cached
        self._chunks = {c.id: c for c in cached.chunks}
        return cached

    def search(self, query: str, k: int | None = None) -> list[Hit]:
        """Papers for a query, best first, each with its best passages."""
        query = (query or "").strip()
        if not query:
            raise QueryError('the query is empty: say what you are looking for, e.g. review search "model merging"')
        cfg = self.settings.retrieval
        k = k or cfg.k
        n = max(cfg.candidates, k * 4)
        dense = self.store.query_chunks(self.embedder.embed_query(query), n)
        lexical = self.lexical().search(query, n)
        chunks = dict(self._chunks)
        chunks.update({c.id: c for c, _ in dense})
        wanted = {c.paper_id for c, _ in dense} | {chunks[cid].paper_id for cid, _ in lexical if cid in chunks}
        papers = {p.id: p for p in self.store.get_papers(sorted(wanted))}
        return fuse([(c.id, s) for c, s in dense], lexical, chunks, papers, cfg, k)

    def papers(self, ids: Sequence[str] | None = None) -> list[Paper]:
        """Committed papers, all or by id."""
        return self.store.get_papers(ids)

    def stats(self) -> IndexStats:
        """Counts, embedder and location."""
        info = self.store.info()
        return IndexStats(
            papers=info["papers"],
            chunks=info["chunks"],
            embedder=str(info["embedder"]),
            dimension=info["dimension"],
            store=self.store.location,
            size_bytes=self.store.size_bytes(),
        )


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
