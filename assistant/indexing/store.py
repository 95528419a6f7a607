"""The vector store: Chroma, embedded (default) or a server by URL.

Two collections per index: ``<name>_chunks`` (one vector per chunk) and ``<name>_papers``
(one record per paper, vector = mean of its chunk vectors). A paper record is written only
after all of its chunks, so it is the commit marker of that paper: chunks without a matching
record are leftovers of an interrupted ingest and are cleaned up by the next one.

A rebuild writes a second pair of collections (``<name>_next_*``) beside the live one and
renames it into place only when it is complete, so a failed or interrupted rebuild leaves
the old index as it was. Any error Chroma raises becomes a one-line ``StoreError``.
"""

from __future__ import annotations

import functools
import json
import logging
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import IndexMismatchError, NoIndexError, ReviewError, StoreError
from ..models import MAX_ABSTRACT, MAX_TITLE, Chunk, Paper
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

    def chunk_records(
        self, windows: dict[str, tuple[int, int, str]] | None = None
    ) -> dict[str, tuple[str, str | None]]: ...

    def delete_chunks(self, paper_ids: Sequence[str]) -> None: ...

    def add_chunks(
        self, chunks: Sequence[Chunk], embeddings: np.ndarray, hashes: dict[str, str], title: str = "prefix"
    ) -> None: ...

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


def _json_list(value: Any) -> list[str]:
    try:
        items = json.loads(value) if isinstance(value, str) else []
    except ValueError:
        return []
    return [str(x) for x in items] if isinstance(items, list) else []


def _paper_from(pid: str, document: str | None, meta: dict[str, Any] | None) -> Paper:
    """A paper record as stored; lenient, so an index written by an older, laxer version still loads."""
    from pydantic import ValidationError

    meta = meta or {}
    fields: dict[str, Any] = {k: meta[k] for k in _PAPER_FIELDS if k in meta}
    fields |= {
        "id": pid,
        "abstract": document or "",
        "sources": _json_list(meta.get("sources")),
        "authors": _json_list(meta.get("authors")),
    }
    fields.setdefault("title", "")
    try:
        return Paper(**fields)
    except ValidationError as exc:
        bad = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
    log.warning("paper %r in the index has unusable values for %s: ignoring them", pid, ", ".join(bad))
    for key in bad:
        if key in ("title", "abstract"):
            fields[key] = str(fields[key])[: MAX_TITLE if key == "title" else MAX_ABSTRACT]
        elif key in ("authors", "sources"):
            fields[key] = []
        elif key != "id":
            fields.pop(key, None)
    try:
        return Paper(**fields)
    except ValidationError:
        return Paper.model_construct(**fields)  # the id is what it is: searches must still find the paper


# An embedded reader whose view predates another process's commit fails to find new vector ids
# until it reopens the files: a read is retried on a fresh view a few times before it is an error.
_STALE_VIEW = "Error finding id"
_READ_RETRIES = 4


def _guarded(method):
    """Chroma's own exceptions (a deleted HNSW file, a server gone away) become one-line StoreErrors."""
    return _guard(method, retry=False)


def _guarded_read(method):
    """_guarded for a read: a stale view of an index another process is writing is reopened and
    the read retried (briefly backing off) before it becomes a StoreError."""
    return _guard(method, retry=True)


def _guard(method, retry: bool):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        attempt = 0
        while True:
            try:
                return method(self, *args, **kwargs)
            except ReviewError:
                raise
            except Exception as exc:
                stale = _STALE_VIEW in str(exc) and getattr(self, "_path", None) is not None
                if retry and stale and attempt < _READ_RETRIES:
                    attempt += 1
                    log.info("stale view of %s (%s); reopening, attempt %d", self.location, exc, attempt)
                    time.sleep(0.1 * attempt)
                    self._reopen()
                    continue
                detail = " ".join(str(exc).split())[:200] or type(exc).__name__
                raise StoreError(
                    f"the Chroma store at {self.location} failed ({type(exc).__name__}: {detail}); if its files "
                    "were damaged, rebuild it with `review ingest --rebuild`"
                ) from exc

    return wrapper


def _server(url: str) -> tuple[str, int, bool]:
    """(host, port, ssl) of a Chroma server URL; 'host:port' without a scheme means http."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        port = parts.port
    except ValueError as exc:
        raise StoreError(f"store.url {url!r} is not a valid URL ({exc}): use e.g. http://127.0.0.1:8000") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StoreError(f"store.url {url!r} is not an http(s) URL with a host: use e.g. http://127.0.0.1:8000")
    ssl = parts.scheme == "https"
    return parts.hostname, port or (443 if ssl else 8000), ssl


def http_client(url: str) -> Any:
    """A Chroma HttpClient for ``store.url`` (no telemetry)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    host, port, ssl = _server(url)
    return chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=ChromaSettings(anonymized_telemetry=False))


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
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        cfg = settings.store
        try:
            if cfg.backend == "chroma-http":
                if not cfg.url:
                    raise StoreError("store.backend is chroma-http but store.url is empty: set REVIEW_STORE__URL")
                self.location = cfg.url
                self._client = http_client(cfg.url)
                self._client.heartbeat()
                self._path: Path | None = None
            else:
                self._path = Path(settings.paths.store).expanduser().absolute()
                self.location = str(self._path)
                if not create and not (self._path / "chroma.sqlite3").exists():
                    raise NoIndexError(f"no index at {self._path}/: run `review ingest`")
                self._path.mkdir(parents=True, exist_ok=True)
                self._chroma_settings = chroma_settings
                self._connect()
        except StoreError:  # NoIndexError included
            raise
        except Exception as exc:
            # (Chroma's own message about a server says to check that it runs.)
            hint = (
                ""
                if cfg.backend == "chroma-http"
                else "; if its files were damaged, rebuild it with `review ingest --rebuild`"
            )
            raise StoreError(
                f"cannot open the Chroma store at {self.location if hasattr(self, 'location') else cfg.url}: "
                f"{' '.join(str(exc).split())[:200]}{hint}"
            ) from exc
        self._final = (f"{cfg.collection}_chunks", f"{cfg.collection}_papers")
        self._chunks_name, self._papers_name = self._final
        self.rebuilding = rebuild
        if rebuild:
            # Built beside the live index; a leftover of an interrupted rebuild is dropped first.
            self._chunks_name, self._papers_name = f"{cfg.collection}_next_chunks", f"{cfg.collection}_next_papers"
            self.reset()
        self._open(embedder_name, dimension, create=create)

    def _connect(self) -> None:
        """An embedded client with a view of its own. Chroma shares one per folder within a process,
        and that one never sees what other processes commit later (reading their vectors fails with
        'Error finding id'), so each store, and each reopen, starts from the files."""
        import chromadb
        from chromadb.api.shared_system_client import SharedSystemClient

        getattr(SharedSystemClient, "_identifier_to_system", {}).pop(str(self._path), None)
        self._client = chromadb.PersistentClient(path=str(self._path), settings=self._chroma_settings)

    def _reopen(self) -> None:
        """See another process's commits (an embedded client reads them only when reopened)."""
        log.info("the index in %s changed in another process; reopening it", self.location)
        self._connect()
        self._chunks = self._client.get_collection(self._chunks_name, embedding_function=None)
        self._papers = self._client.get_collection(self._papers_name, embedding_function=None)

    @_guarded
    def commit_rebuild(self) -> None:
        """Swap a complete rebuild in for the live index (readers see one or the other)."""
        if not self.rebuilding:
            return
        self._chunks_name, self._papers_name = self._final
        self.reset()
        self._chunks.modify(name=self._final[0])
        self._papers.modify(name=self._final[1])
        self.rebuilding = False
        log.info("rebuilt index swapped in as %s", self._final)

    @_guarded
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
        self._seen = str(found.get("generation", ""))

    @_guarded_read
    def info(self) -> dict[str, Any]:
        """Embedder, dimension and counts recorded in the store."""
        meta = self._chunks.metadata or {}
        return {
            "embedder": meta.get("embedder"),
            "dimension": meta.get("dimension"),
            "chunks": self._chunks.count(),
            "papers": self._papers.count(),
        }

    @_guarded_read
    def generation(self) -> str:
        """Token that changes whenever the index content may have changed; read afresh, since another
        process may have ingested meanwhile (an embedded client is then reopened to see its commits)."""
        meta = self._client.get_collection(self._chunks_name, embedding_function=None).metadata or {}
        token = str(meta.get("generation", ""))
        if token != self._seen and self._path is not None:
            self._reopen()
        self._seen = token
        return token

    @_guarded
    def bump_generation(self) -> str:
        """Mark the content as changed (invalidates the lexical index cache)."""
        token = uuid.uuid4().hex
        meta = {k: v for k, v in (self._chunks.metadata or {}).items() if k != "hnsw:space"}
        meta["generation"] = token
        self._chunks.modify(metadata=meta)
        self._seen = token  # our own change: nothing to reopen for
        return token

    @_guarded_read
    def paper_hashes(self) -> dict[str, str]:
        """Committed papers: id -> content hash."""
        got = self._papers.get(include=["metadatas"])
        return {pid: str(m.get("content_hash")) for pid, m in zip(got["ids"], got["metadatas"] or [])}

    def chunk_paper_ids(self) -> dict[str, str]:
        """Every chunk id -> its paper id."""
        return {cid: pid for cid, (pid, _) in self.chunk_records().items()}

    @_guarded_read
    def chunk_records(
        self, windows: dict[str, tuple[int, int, str]] | None = None
    ) -> dict[str, tuple[str, str | None]]:
        """Every chunk id -> (its paper id, the content hash of the paper text it was made from).
        ``windows``, when given, is filled in the same pass: chunk id -> the (first, end) sentence
        window of its paper's abstract the chunk covers and how its vector carries the title
        (``chunks.title``; "prefix" for chunks written before the setting existed)."""
        got = self._chunks.get(include=["metadatas"])
        out = {}
        for cid, m in zip(got["ids"], got["metadatas"] or []):
            m = m or {}
            h = m.get("content_hash")
            out[cid] = (str(m.get("paper_id", "")), str(h) if h is not None else None)
            if windows is not None and "sentence_start" in m and "sentence_end" in m:
                windows[cid] = (int(m["sentence_start"]), int(m["sentence_end"]), str(m.get("title", "prefix")))
        return out

    @_guarded
    def delete_chunks(self, paper_ids: Sequence[str]) -> None:
        """Remove every chunk of these papers."""
        for i in range(0, len(paper_ids), 200):
            self._chunks.delete(where={"paper_id": {"$in": list(paper_ids[i : i + 200])}})

    @_guarded
    def add_chunks(
        self, chunks: Sequence[Chunk], embeddings: np.ndarray, hashes: dict[str, str], title: str = "prefix"
    ) -> None:
        """Upsert chunks with their vectors (ids are deterministic, so reruns do not duplicate);
        ``title`` records how the vectors carry the paper's title (``chunks.title``)."""
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
                    "title": title,
                }
                for c in chunks
            ],
        )

    @_guarded
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

    @_guarded_read
    def get_papers(self, paper_ids: Sequence[str] | None = None) -> list[Paper]:
        """Paper records, all or by id (missing ids are skipped)."""
        if paper_ids is not None and not paper_ids:
            return []
        got = self._papers.get(
            ids=list(paper_ids) if paper_ids is not None else None, include=["documents", "metadatas"]
        )
        return [_paper_from(i, d, m) for i, d, m in zip(got["ids"], got["documents"] or [], got["metadatas"] or [])]

    @_guarded_read
    def all_chunks(self) -> list[Chunk]:
        """Every chunk (for the lexical index)."""
        got = self._chunks.get(include=["documents", "metadatas"])
        return [_chunk_from(i, d, m) for i, d, m in zip(got["ids"], got["documents"] or [], got["metadatas"] or [])]

    @_guarded_read
    def chunk_vectors(self) -> tuple[list[str], list[str], np.ndarray]:
        """(chunk ids, their paper ids, their vectors as one float32 matrix) of every chunk."""
        import numpy as np

        got = self._chunks.get(include=["embeddings", "metadatas"])
        ids = list(got["ids"])
        papers = [str((m or {}).get("paper_id", "")) for m in got["metadatas"] or []]
        vectors = got["embeddings"]
        matrix = np.asarray(vectors if vectors is not None and len(ids) else np.zeros((0, 0)), dtype=np.float32)
        return ids, papers, matrix

    @_guarded_read
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
        """Drop both collections this store writes to (the ``_next`` pair while rebuilding)."""
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
