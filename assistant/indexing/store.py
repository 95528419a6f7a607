"""The vector store: Chroma, embedded (default) or a server by URL.

Two collections per index: ``<name>_chunks`` (one vector per chunk) and ``<name>_papers``
(one record per paper, vector = mean of its chunk vectors). A paper record is written only
after all of its chunks, so it is the commit marker of that paper: chunks without a matching
record are leftovers of an interrupted ingest and are cleaned up by the next one.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import IndexMismatchError, NoIndexError, StoreError
from ..models import Chunk, Paper
from ..settings import Settings

if TYPE_CHECKING:
    import numpy as np

__all__ = ["ChromaStore", "VectorStore", "open_store"]

log = logging.getLogger(__name__)

_PAPER_FIELDS = ("title", "date", "year", "author_count", "organization", "upvotes", "url")


class VectorStore(Protocol):
    """What the index needs from a vector database."""

    location: str

    def info(self) -> dict[str, Any]: ...

    def paper_hashes(self) -> dict[str, str]: ...

    def chunk_paper_ids(self) -> dict[str, str]: ...

    def delete_chunks(self, paper_ids: Sequence[str]) -> None: ...

    def add_chunks(self, chunks: Sequence[Chunk], embeddings: np.ndarray, hashes: dict[str, str]) -> None: ...

    def put_papers(self, papers: Sequence[Paper], embeddings: np.ndarray) -> None: ...

    def get_papers(self, paper_ids: Sequence[str] | None = None) -> list[Paper]: ...

    def all_chunks(self) -> list[Chunk]: ...

    def query_chunks(self, embedding: np.ndarray, n: int) -> list[tuple[Chunk, float]]: ...

    def bump_generation(self) -> str: ...

    def generation(self) -> str: ...

    def size_bytes(self) -> int | None: ...


def _paper_metadata(paper: Paper) -> dict[str, Any]:
    meta: dict[str, Any] = {k: getattr(paper, k) for k in _PAPER_FIELDS if getattr(paper, k) is not None}
    meta["content_hash"] = paper.content_hash()
    meta["sources"] = json.dumps(paper.sources)
    meta["authors"] = json.dumps(paper.authors)
    return meta


def _paper_from(pid: str, document: str, meta: dict[str, Any]) -> Paper:
    fields = {k: meta[k] for k in _PAPER_FIELDS if k in meta}
    return Paper(
        id=pid,
        abstract=document,
        sources=json.loads(meta.get("sources", "[]")),
        authors=json.loads(meta.get("authors", "[]")),
        **fields,
    )


def _chunk_from(cid: str, document: str, meta: dict[str, Any]) -> Chunk:
    return Chunk(
        id=cid,
        paper_id=meta["paper_id"],
        text=document,
        sentence_start=meta["sentence_start"],
        sentence_end=meta["sentence_end"],
    )


class ChromaStore:
    """Chroma through its embedded PersistentClient or an HttpClient."""

    def __init__(
        self, settings: Settings, embedder_name: str, dimension: int, *, create: bool, rebuild: bool = False
    ) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        cfg = settings.store
        try:
            if cfg.backend == "chroma-http":
                if not cfg.url:
                    raise StoreError("store.backend is chroma-http but store.url is empty: set REVIEW_STORE__URL")
                from urllib.parse import urlparse

                url = urlparse(cfg.url)
                self.location = cfg.url
                self._client = chromadb.HttpClient(
                    host=url.hostname or "127.0.0.1",
                    port=url.port or (443 if url.scheme == "https" else 8000),
                    ssl=url.scheme == "https",
                    settings=chroma_settings,
                )
                self._client.heartbeat()
                self._path: Path | None = None
            else:
                self._path = Path(settings.paths.store).expanduser().absolute()
                self.location = str(self._path)
                if not create and not (self._path / "chroma.sqlite3").exists():
                    raise NoIndexError(f"no index at {self._path}/: run `review ingest`")
                self._path.mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(self._path), settings=chroma_settings)
        except StoreError:  # NoIndexError included
            raise
        except Exception as exc:
            raise StoreError(
                f"cannot open the Chroma store at {self.location if hasattr(self, 'location') else cfg.url}: {exc}"
            ) from exc
        self._chunks_name = f"{cfg.collection}_chunks"
        self._papers_name = f"{cfg.collection}_papers"
        if rebuild:
            self.reset()
        self._open(embedder_name, dimension, create=create)

    def _open(self, embedder: str, dimension: int, *, create: bool) -> None:
        names = {c if isinstance(c, str) else c.name for c in self._client.list_collections()}
        if self._chunks_name not in names and not create:
            raise NoIndexError(f"no index in {self.location}: run `review ingest`")
        meta = {"embedder": embedder, "dimension": dimension, "hnsw:space": "cosine"}
        self._chunks = self._client.get_or_create_collection(self._chunks_name, metadata=meta, embedding_function=None)
        self._papers = self._client.get_or_create_collection(self._papers_name, metadata=meta, embedding_function=None)
        found = self._chunks.metadata or {}
        if found.get("embedder") != embedder or int(found.get("dimension", -1)) != dimension:
            raise IndexMismatchError(
                f"the index in {self.location} was built with embedder {found.get('embedder')!r} "
                f"(dimension {found.get('dimension')}), not {embedder!r} (dimension {dimension}): "
                f"rebuild it with `review ingest --rebuild`, or set REVIEW_EMBEDDING__MODEL={found.get('embedder')}"
            )

    def info(self) -> dict[str, Any]:
        """Embedder, dimension and counts recorded in the store."""
        meta = self._chunks.metadata or {}
        return {
            "embedder": meta.get("embedder"),
            "dimension": meta.get("dimension"),
            "chunks": self._chunks.count(),
            "papers": self._papers.count(),
        }

    def generation(self) -> str:
        """Token that changes whenever the index content may have changed."""
        return str((self._chunks.metadata or {}).get("generation", ""))

    def bump_generation(self) -> str:
        """Mark the content as changed (invalidates the lexical index cache)."""
        token = uuid.uuid4().hex
        meta = {k: v for k, v in (self._chunks.metadata or {}).items() if k != "hnsw:space"}
        meta["generation"] = token
        self._chunks.modify(metadata=meta)
        return token

    def paper_hashes(self) -> dict[str, str]:
        """Committed papers: id -> content hash."""
        got = self._papers.get(include=["metadatas"])
        return {pid: str(m.get("content_hash")) for pid, m in zip(got["ids"], got["metadatas"] or [])}

    def chunk_paper_ids(self) -> dict[str, str]:
        """Every chunk id -> its paper id."""
        got = self._chunks.get(include=["metadatas"])
        return {cid: str(m["paper_id"]) for cid, m in zip(got["ids"], got["metadatas"] or [])}

    def delete_chunks(self, paper_ids: Sequence[str]) -> None:
        """Remove every chunk of these papers."""
        for i in range(0, len(paper_ids), 200):
            self._chunks.delete(where={"paper_id": {"$in": list(paper_ids[i : i + 200])}})

    def add_chunks(self, chunks: Sequence[Chunk], embeddings: np.ndarray, hashes: dict[str, str]) -> None:
        """Upsert chunks with their vectors (ids are deterministic, so reruns do not duplicate)."""
        if not chunks:
            return
        self._chunks.upsert(
            ids=[c.id for c in chunks],
            embeddings=embeddings,
            documents=[c.text for c in chunks],
            metadatas=[
                {
                    "paper_id": c.paper_id,
                    "sentence_start": c.sentence_start,
                    "sentence_end": c.sentence_end,
                    "content_hash": hashes[c.paper_id],
                }
                for c in chunks
            ],
        )

    def put_papers(self, papers: Sequence[Paper], embeddings: np.ndarray) -> None:
        """Commit paper records (after their chunks)."""
        if not papers:
            return
        self._papers.upsert(
            ids=[p.id for p in papers],
            embeddings=embeddings,
            documents=[p.abstract for p in papers],
            metadatas=[_paper_metadata(p) for p in papers],
        )

    def get_papers(self, paper_ids: Sequence[str] | None = None) -> list[Paper]:
        """Paper records, all or by id (missing ids are skipped)."""
        if paper_ids is not None and not paper_ids:
            return []
        got = self._papers.get(
            ids=list(paper_ids) if paper_ids is not None else None, include=["documents", "metadatas"]
        )
        return [_paper_from(i, d, m) for i, d, m in zip(got["ids"], got["documents"] or [], got["metadatas"] or [])]

    def all_chunks(self) -> list[Chunk]:
        """Every chunk (for the lexical index)."""
        got = self._chunks.get(include=["documents", "metadatas"])
        return [_chunk_from(i, d, m) for i, d, m in zip(got["ids"], got["documents"] or [], got["metadatas"] or [])]

    def query_chunks(self, embedding: np.ndarray, n: int) -> list[tuple[Chunk, float]]:
        """Nearest chunks with cosine similarity, best first."""
        count = self._chunks.count()
        if count == 0:
            return []
        got = self._chunks.query(
            query_embeddings=[embedding], n_results=min(n, count), include=["documents", "metadatas", "distances"]
        )
        out = []
        for i, d, m, dist in zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0]):
            out.append((_chunk_from(i, d, m), 1.0 - float(dist)))
        return out

    def size_bytes(self) -> int | None:
        """Disk size of an embedded store."""
        if self._path is None:
            return None
        return sum(f.stat().st_size for f in self._path.rglob("*") if f.is_file())

    def reset(self) -> None:
        """Drop both collections (for --rebuild)."""
        for name in (self._chunks_name, self._papers_name):
            try:
                self._client.delete_collection(name)
            except Exception:  # already gone
                log.debug("collection %s absent", name)


def open_store(
    settings: Settings, embedder_name: str, dimension: int, *, create: bool = False, rebuild: bool = False
) -> ChromaStore:
    """Open the configured store; ``create`` makes an empty index, ``rebuild`` drops the old one."""
    return ChromaStore(settings, embedder_name, dimension, create=create or rebuild, rebuild=rebuild)
