"""The index: a vector store, its embedder and its lexical (BM25) cache, opened together."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

from ..models import Chunk, IndexStats, IngestReport, Paper
from ..settings import Settings
from .dense import DenseMatrix
from .embedding import Embedder, load_embedder
from .ingest import Progress, ingest_papers
from .lean import PaperCache, collection_metadata
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
        self._store: VectorStore | None = store
        self._papers: PaperCache | None = None
        if store is None and (create or rebuild or not self._lean()):
            self._store = open_store(
                settings, self.embedder.name, self.embedder.dimension, create=create, rebuild=rebuild
            )
        self._lexical: LexicalIndex | None = None
        self._dense: DenseMatrix | None = None
        self.chunks: dict[str, Chunk] = {}
        """Chunk id -> chunk, for every chunk of the current lexical index."""

    @property
    def store(self) -> VectorStore:
        """The vector store, opened (importing chromadb) on first use when searches have not needed it."""
        if self._store is None:
            self._store = open_store(self.settings, self.embedder.name, self.embedder.dimension)
        return self._store

    def _peek(self) -> dict | None:
        """The chunk collection's metadata read without chromadb (``lean``), when this index can
        be searched that way: an embedded store with exact search, built with this embedder."""
        if self.settings.store.backend != "chroma" or not self.settings.retrieval.exact:
            return None
        meta = collection_metadata(
            Path(self.settings.paths.store).expanduser(), f"{self.settings.store.collection}_chunks"
        )
        if meta is None or meta.get("embedder") != self.embedder.name:
            return None
        try:
            return meta if int(meta.get("dimension", -1)) == self.embedder.dimension else None
        except (TypeError, ValueError):
            return None

    def _lean(self) -> bool:
        return self._peek() is not None

    def generation(self) -> str:
        """The store's generation token (changes whenever its content may have): read from the open
        store, or, until a search needs the store itself, from its SQLite file without chromadb."""
        if self._store is None:
            meta = self._peek()
            if meta is not None:
                return str(meta.get("generation") or "")
        return self.store.generation()

    def existing_ids(self) -> dict[str, str]:
        """Dedup key (and unambiguous normalised title) -> id of every committed paper (ids never change)."""
        from ..corpus.ids import id_map  # the corpus readers (bibtexparser) are for ingest, not search

        return id_map(self.store.get_papers())

    def ingest(self, papers: Sequence[Paper], progress: Progress | None = None) -> IngestReport:
        """Add new papers, replace changed ones, skip unchanged ones (see ``ingest_papers``)."""
        report = ingest_papers(self, papers, progress)
        self._lexical = self._dense = self._papers = None
        if getattr(self.store, "rebuilding", False):
            self.store.commit_rebuild()  # only now, complete, does the rebuilt index replace the old one
        if self.settings.store.backend == "chroma":
            # The caches of the new generation, made now so that the next process searches
            # without opening the store (``lean``).
            generation = self.generation()
            self.lexical(generation)
            if self.exact_dense():
                self.dense(generation)
        return report

    def cache_dir(self, kind: str) -> Path:
        """The folder of one kind of data derived from the index (kept by generation, see ``cachedir``)."""
        return self._cache_dir(kind)

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
            and (self._store is None or hasattr(self._store, "chunk_vectors"))
        )

    def dense(self, generation: str | None = None) -> DenseMatrix:
        """The chunk-embedding matrix of the committed chunks for the current store content (cached on
        disk); ``generation`` when the caller read it already (one read per search)."""
        generation = generation if generation is not None else self.generation()
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
        generation = generation if generation is not None else self.generation()
        if self._lexical is not None and self._lexical.generation == generation:
            return self._lexical
        directory = self._lexical_dir()
        cached = LexicalIndex.load(directory, generation)
        if cached is None:
            committed = self.store.paper_hashes()
            papers = self.store.get_papers()
            self._save_papers(PaperCache.build(papers, generation))
            titles = {p.id: p.title for p in papers}
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

    def _save_papers(self, cache: PaperCache) -> None:
        self._papers = cache
        if self.settings.store.backend != "chroma":
            return  # the lean path is for embedded stores only
        try:
            cache.save(self._cache_dir("papers"))
        except OSError as exc:  # read-only store: search still works, just slower
            log.warning("cannot cache the paper records in %s: %s", self._cache_dir("papers"), exc)

    def papers(self, ids: Sequence[str] | None = None, generation: str | None = None) -> list[Paper]:
        """Committed papers, all or by id: from the open store, or, on the lean path, from the
        paper cache of the current generation (written beside the BM25 cache; ``generation`` when
        the caller read it already, as for dense())."""
        if self._store is None:
            generation = generation if generation is not None else self.generation()
            if self._papers is None or self._papers.generation != generation:
                self._papers = PaperCache.load(self._cache_dir("papers"), generation)
            if self._papers is None:  # no cache of this generation yet: made from the store once
                self._save_papers(PaperCache.build(self.store.get_papers(), generation))
            assert self._papers is not None
            return self._papers.get(ids)
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
