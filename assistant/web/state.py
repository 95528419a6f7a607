"""What one server keeps warm: the Assistant, its locks, caches and the ingest jobs.

Readers (search, paper, ask, outline, map) share the index; an ingest is the one writer. In
this process a readers-writer lock keeps a search from seeing an ingest half done; across
processes the ingest also takes the store's writer lock (``indexing.lock``). The LLM is not
re-entrant, so ask and outline also take ``llm_lock``: one generation at a time.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..api import Assistant
    from ..models import Outline

__all__ = ["IngestJob", "RWLock", "Warm", "error_line"]

log = logging.getLogger(__name__)


def error_line(exc: BaseException) -> str:
    """The one line the CLI prints for this error (without its red ``error:`` prefix)."""
    from ..cli.common import clean
    from ..errors import ReviewError

    if isinstance(exc, ReviewError):
        message = str(exc)
    elif isinstance(exc, RecursionError):
        message = "input nested too deeply to process (RecursionError); rerun with --debug for the traceback"
    else:
        message = f"unexpected {type(exc).__name__}: {exc} (a bug in review: rerun with --debug for the traceback)"
    return " ".join(clean(message).split())


class RWLock:
    """Many readers or one writer; a waiting writer holds new readers back (no writer starvation)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._waiting_writers = 0

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._waiting_writers:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._waiting_writers += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._waiting_writers -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


@dataclass
class IngestJob:
    """An upload being ingested in the background; the page polls it for progress."""

    id: str
    filename: str
    state: str = "queued"  # queued | reading | waiting | embedding | done | error
    done: int = 0
    total: int = 0
    skipped: list[str] = field(default_factory=list)
    report: dict[str, Any] | None = None
    error: str | None = None
    started: float = field(default_factory=time.time)

    def view(self) -> dict[str, Any]:
        """The JSON the page polls."""
        return {
            "id": self.id,
            "filename": self.filename,
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "skipped": self.skipped,
            "report": self.report,
            "error": self.error,
        }


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class Warm:
    """One Assistant kept warm for the server's lifetime, with the locks and caches around it."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.rw = RWLock()
        self.llm_lock = threading.Lock()
        self.judge_lock = threading.Lock()
        self.jobs: dict[str, IngestJob] = {}
        self._outlines: OrderedDict[tuple, Outline] = OrderedDict()
        self._vectors: tuple[str, list[str], Any] | None = None
        self._map: tuple[str, Any] | None = None
        self._cache_lock = threading.Lock()

    def warm_up(self) -> None:
        """Open the index and load the embedder and the BM25 index now, not on the first request."""
        index = self.assistant.index
        index.lexical()
        index.embedder.embed_query("warm up")

    # -- caches ---------------------------------------------------------------------------

    def generation(self) -> str:
        """Token that changes whenever the index content changes (caches are keyed by it)."""
        return str(self.assistant.index.generation())

    def outline(self, topic: str, depth: int | None, mode: str | None) -> Outline:
        """An outline, built once per (topic, depth, mode, index generation): building one costs a minute."""
        key = (topic.strip().lower(), depth, mode, self.generation())
        with self._cache_lock:
            if key in self._outlines:
                self._outlines.move_to_end(key)
                return self._outlines[key]
        with self.llm_lock:
            result = self.assistant.outline(topic, depth=depth, mode=mode)
        with self._cache_lock:
            self._outlines[key] = result
            while len(self._outlines) > 8:
                self._outlines.popitem(last=False)
        return result

    def cached_outline(self, topic: str) -> Outline | None:
        """The most recent outline built for ``topic`` (any depth or mode), if any."""
        with self._cache_lock:
            for key in reversed(self._outlines):
                if key[0] == topic.strip().lower():
                    return self._outlines[key]
        return None

    def paper_vectors(self) -> tuple[list[str], Any]:
        """Paper ids and their unit embeddings (rows), cached per index generation."""
        from .corpusmap import paper_vectors

        generation = self.generation()
        with self._cache_lock:
            if self._vectors is not None and self._vectors[0] == generation:
                return self._vectors[1], self._vectors[2]
        ids, matrix = paper_vectors(self.assistant.index)
        with self._cache_lock:
            self._vectors = (generation, ids, matrix)
        return ids, matrix

    def corpus_map(self) -> Any:
        """The corpus map (projection, clusters, labels), cached per index generation."""
        from .corpusmap import build_map

        generation = self.generation()
        with self._cache_lock:
            if self._map is not None and self._map[0] == generation:
                return self._map[1]
        ids, matrix = self.paper_vectors()
        papers = {p.id: p for p in self.assistant.index.papers()}
        built = build_map(
            [papers[i] for i in ids if i in papers], matrix[[k for k, i in enumerate(ids) if i in papers]]
        )
        with self._cache_lock:
            self._map = (generation, built)
        return built

    def support(self, abstract: str, statement: str) -> float:
        """P(the abstract supports the statement) from the support judge."""
        with self.judge_lock:
            return float(self.assistant.judge.score([(abstract, statement)])[0])

    # -- ingest ---------------------------------------------------------------------------

    def uploads_dir(self) -> Path:
        """Where uploaded files are kept (papers name the file they were read from): beside the
        embedded index, else (a Chroma server) in the cache folder."""
        settings = self.assistant.settings
        base = settings.paths.store if settings.store.backend == "chroma" else settings.paths.cache
        return Path(base).expanduser() / "uploads"

    def save_upload(self, filename: str, data: bytes) -> Path:
        """Keep an upload under a unique, safe name that ends as the original did."""
        base = _SAFE_NAME.sub("_", Path(filename or "upload").name).strip("._") or "upload"
        folder = self.uploads_dir() / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / base
        path.write_bytes(data)
        return path

    def start_ingest(self, path: Path, *, strict: bool = True) -> IngestJob:
        """Ingest one saved upload in a background thread; the job reports progress."""
        job = IngestJob(id=uuid.uuid4().hex[:12], filename=path.name)
        self.jobs[job.id] = job
        threading.Thread(target=self.run_ingest, args=(job, path, strict), daemon=True, name=f"ingest-{job.id}").start()
        return job

    def run_ingest(self, job: IngestJob, path: Path, strict: bool) -> IngestJob:
        """Validate, then index the file under both writer locks; errors become the CLI's one line."""
        from ..corpus import read_file
        from ..errors import CorpusError

        folder = str(path.parent) + "/"
        try:
            job.state = "reading"
            problems: list[CorpusError] | None = None if strict else []
            read_file(path, problems)  # a bad file fails here, before any lock is taken
            job.skipped = [_relative(str(p), folder) for p in problems or []]

            def progress(done: int, total: int) -> None:
                job.state, job.done, job.total = "embedding", done, total

            job.state = "waiting"
            with self.rw.write():
                job.state = "embedding"
                report = self.assistant.ingest([path], progress=progress, strict=strict)
            job.report = report.model_dump(mode="json")
            job.done = job.total = max(job.total, report.papers_seen)
            job.state = "done"
        except Exception as exc:  # shown to the user as the CLI would show it
            log.debug("ingest of %s failed", path, exc_info=True)
            job.error = _relative(error_line(exc), folder)
            job.state = "error"
        return job


def _relative(message: str, folder: str) -> str:
    # The upload's folder is the server's business: the user sees the name of the file they sent.
    return message.replace(folder, "")
