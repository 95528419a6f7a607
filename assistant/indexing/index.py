"""The index: a vector store, its embedder and its lexical (BM25) cache, opened together."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

from ..corpus.ids import id_map
from ..models import Chunk, IndexStats, IngestReport, Paper
from ..settings import Settings
from .dense import DenseMatrix
from .embedding import Embedder, load_embedder
from .ingest import Progress, ingest_papers
from .lexical import LexicalIndex, chunk_text_for_index
from .store import VectorStore, open_store

__all__ = ["Index"]

log = logging.getLogger(__name__)


class Index:
    """A store, its embedder and its lexical index; a passed-in embedder or store wins over the settings'."""

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        store: VectorStore | None = None,
        create: bool = False,
        rebuild: bool = False,
    ) -> None:
        self.settings = settings
        self.embedder = embedder or load_embedder(settings.embedding, settings.paths.cache)
        self.store: VectorStore = store or open_store(
            settings, self.embedder.name, self.embedder.dimension, create=create, rebuild=rebuild
        )
        self._lexical: LexicalIndex | None = None
        self._dense: DenseMatrix | None = None
        self.chunks: dict[str, Chunk] = {}
        """Chunk id -> chunk, for every chunk of the current lexical index."""

    def existing_ids(self) -> dict[str, str]:
        """Dedup key (and unambiguous normalised title) -> id of every committed paper (ids never change)."""
        return id_map(self.store.get_papers())

    def ingest(self, papers: Sequence[Paper], progress: Progress | None = None) -> IngestReport:
        """Add new papers, replace changed ones, skip unchanged ones (see ``ingest_papers``)."""
        report = ingest_papers(self, papers, progress)
        self._lexical = self._dense = None
        if getattr(self.store, "rebuilding", False):
            self.store.commit_rebuild()  # only now, complete, does the rebuilt index replace the old one
        return report

    def _cache_dir(self, kind: str) -> Path:
        if self.settings.store.backend == "chroma":
            return Path(self.settings.paths.store).expanduser() / kind
        key = hashlib.sha256(f"{self.store.location}|{self.settings.store.collection}".encode()).hexdigest()[:12]
        return Path(self.settings.paths.cache).expanduser() / kind / key

    def _lexical_dir(self) -> Path:
        return self._cache_dir("lexical")

    def exact_dense(self) -> bool:
        """True when dense search runs over the cached matrix (an embedded store that can list its vectors);
        a Chroma server keeps its own (HNSW) search."""
        return (
            self.settings.retrieval.exact
            and self.settings.store.backend == "chroma"
            and hasattr(self.store, "chunk_vectors")
        )

    def dense(self, generation: str | None = None) -> DenseMatrix:
        """The chunk-embedding matrix of the committed chunks for the current store content (cached on
        disk); ``generation`` when the caller read it already (one read per search)."""
        generation = generation if generation is not None else self.store.generation()
        if self._dense is not None and self._dense.generation == generation:
            return self._dense
        directory = self._cache_dir("dense")
        cached = DenseMatrix.load(directory, generation)
        if cached is None:
            committed = self.store.paper_hashes()
            ids, paper_ids, vectors = self.store.chunk_vectors()  # type: ignore[attr-defined]
            keep = [i for i, pid in enumerate(paper_ids) if pid in committed]
            rows = vectors[keep] if len(keep) else vectors.reshape(0, self.embedder.dimension)
            cached = DenseMatrix.build([ids[i] for i in keep], rows, generation)
            try:
                cached.save(directory)
            except OSError as exc:  # read-only store: search still works, just slower
                log.warning("cannot cache the dense matrix in %s: %s", directory, exc)
        self._dense = cached
        return cached

    def dense_search(self, query: str, n: int, generation: str | None = None) -> list[tuple[str, float]]:
        """Chunk ids nearest to the query with cosine similarity, best first: exact over the cached
        matrix for an embedded store, the store's own search otherwise (chunks join ``self.chunks``)."""
        vector = self.embedder.embed_query(query)
        if self.exact_dense():
            return self.dense(generation).search(vector, n)
        found = self.store.query_chunks(vector, n)
        self.chunks.update({c.id: c for c, _ in found})
        return [(c.id, s) for c, s in found]

    def lexical(self, generation: str | None = None) -> LexicalIndex:
        """The BM25 index for the current store content (cached on disk); ``generation`` as for dense()."""
        generation = generation if generation is not None else self.store.generation()
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
        self.chunks = {c.id: c for c in cached.chunks}
        return cached

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
