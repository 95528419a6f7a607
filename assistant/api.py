"""The library entry point: ``Assistant(settings).search(...)`` and friends."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import EMPTY_QUERY, EMPTY_QUESTION, EMPTY_TOPIC, NoIndexError, QueryError, require_text
from .models import Answer, EvalReport, IndexStats, IngestReport, Outline, Paper, SearchResult
from .settings import Settings

if TYPE_CHECKING:
    from .indexing import Index
    from .indexing.embedding import Embedder
    from .indexing.store import VectorStore
    from .judge import Judge
    from .judge.relevance import Relevance
    from .llm import LLM

__all__ = ["Assistant"]

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


class Assistant:
    """A literature-review assistant over one index; models load on first use.

    Every backend can be passed in, and an object passed in wins over the one the settings
    would build (the way httpx's client takes a ``transport``)::

        Assistant(settings, embedder=my_embedder, store=my_store, llm=my_llm, judge=my_judge,
                  relevance=my_relevance)

    Keyword ``overrides`` build the settings when none are given: ``Assistant(retrieval={"k": 5})``.
    ``progress(done, total)`` is called while an index is built.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        store: VectorStore | None = None,
        llm: LLM | None = None,
        judge: Judge | None = None,
        relevance: Relevance | None = None,
        progress: Progress | None = None,
        **overrides: Any,
    ) -> None:
        self.settings = settings or Settings(**overrides)
        self._relevance = relevance
        self._given_relevance = relevance is not None
        self._reranker: Relevance | None = None
        self._embedder = embedder
        self._store = store
        self._llm = llm
        self._judge = judge
        self._progress = progress
        self._index: Index | None = None

    # -- index ----------------------------------------------------------------------------

    def _open_index(self, *, create: bool = False, rebuild: bool = False) -> Index:
        from .indexing import Index

        embedder = self._index.embedder if self._index is not None else self._embedder
        if rebuild and self._store is not None and hasattr(self._store, "reset"):
            self._store.reset()
        self._index = Index(self.settings, embedder=embedder, store=self._store, create=create, rebuild=rebuild)
        return self._index

    def _is_default_store(self) -> bool:
        """True when the index lives where the settings put it by default (not a chosen path)."""
        paths = self.settings.paths
        return self.settings.store.backend == "chroma" and "store" not in paths.model_fields_set

    @property
    def index(self) -> Index:
        """The open index. The default store is built from the configured corpus on first use;
        a store the user named must exist (``NoIndexError``: run `review ingest`)."""
        if self._index is None:
            try:
                self._open_index()
            except NoIndexError:
                if self._store is not None or not self._is_default_store():
                    raise
                log.info("no index yet: building it from the configured corpus")
                self.ingest()
        assert self._index is not None
        return self._index

    def read_corpus(self, paths: Sequence[str | Path] | None = None) -> list[Paper]:
        """Papers from files (default: the configured corpus, else the bundled one)."""
        from .corpus import bundled_corpus_paths, read_papers

        chosen = [Path(p) for p in (paths or self.settings.paths.corpus)] or bundled_corpus_paths()
        existing = self._index.existing_ids() if self._index is not None else None
        return read_papers(chosen, existing=existing)

    def ingest(
        self,
        paths: Sequence[str | Path] | None = None,
        *,
        rebuild: bool = False,
        progress: Progress | None = None,
        strict: bool = False,
        wait: bool = True,
        on_wait: Callable[[str], None] | None = None,
    ) -> IngestReport:
        """Index papers from files (default: configured/bundled corpus); incremental.

        Every file is read and validated before the index is touched: a bad record is skipped
        with a warning (``strict``: its file is refused). One writer at a time: the writers'
        lock is held from id allocation to the last commit; another ingest makes this one wait
        (``on_wait`` is told once) or, with ``wait=False``, fail with ``StoreLockedError``.
        ``rebuild`` builds a new index beside the old one and swaps it in when complete."""
        from contextlib import nullcontext

        from .corpus import assign_ids, bundled_corpus_paths, read_records
        from .indexing.lock import writer_lock

        chosen = [Path(p) for p in (paths or self.settings.paths.corpus)] or bundled_corpus_paths()
        records = read_records(chosen, strict=strict)
        from .indexing.embedding import load_embedder

        for_ingest = self._index is None and self._embedder is None
        if for_ingest:
            # slow: loaded before taking the lock
            self._embedder = load_embedder(self.settings.embedding, self.settings.paths.cache, batch=True)
        # An injected store is this process's own; the lock is for the stores other processes can open.
        lock = nullcontext() if self._store is not None else writer_lock(self.settings, wait=wait, on_wait=on_wait)
        with lock:
            if self._index is None or rebuild:
                self._open_index(create=True, rebuild=rebuild)
            assert self._index is not None
            papers = sorted(assign_ids(records, self._index.existing_ids()), key=lambda p: p.id)
            report = self._index.ingest(papers, progress=progress or self._progress)
        if for_ingest:
            # The ingest embedder (all cores, int8 by default) is for documents. Later searches and
            # outlines in this process embed as a fresh process does (fp32, one thread), so the same
            # question gets the same answer here and from the CLI.
            self._embedder = self._index.embedder = load_embedder(self.settings.embedding, self.settings.paths.cache)
        return report

    def search(self, query: str, k: int | None = None, *, rerank: bool | None = None) -> SearchResult:
        """Papers for a query, best first, with their best passages.

        ``rerank`` (default: ``retrieval.rerank``) rescores the top papers with the relevance model."""
        from .retrieval import search

        require_text(query, EMPTY_QUERY)  # before the index is opened (or the bundled one built)
        if rerank is None:
            rerank = self.settings.retrieval.rerank
        relevance = self.reranker if rerank else None
        return SearchResult(query=query, hits=search(self.index, query, k, relevance=relevance))

    def paper(self, paper_id: str) -> Paper:
        """One paper by id."""
        found = self.index.papers([paper_id])
        if not found:
            raise QueryError(f"no paper with id {paper_id!r} in the index: `review search` shows ids")
        return found[0]

    def papers(self, ids: Sequence[str] | None = None) -> list[Paper]:
        """Papers in the order of ``ids`` (None: every paper, by id); QueryError lists the ids not in the index."""
        if ids is None:
            return sorted(self.index.papers(), key=lambda p: p.id)
        wanted = list(dict.fromkeys(ids))
        found = {p.id: p for p in self.index.papers(wanted)} if wanted else {}
        missing = [i for i in wanted if i not in found]
        if missing:
            which = f"id {missing[0]!r}" if len(missing) == 1 else "ids " + ", ".join(map(repr, missing))
            raise QueryError(f"no paper with {which} in the index: `review search` shows ids")
        return [found[i] for i in wanted]

    def export_bibtex(self, ids: str | Sequence[str] | Answer | Outline | None = None) -> str:
        """BibTeX of papers by id, of the papers an Answer or an Outline cites, or (None) of the whole index."""
        from .export import cited_ids, papers_to_bibtex

        if isinstance(ids, Answer | Outline):
            ids = cited_ids(ids)
        elif isinstance(ids, str):
            ids = [ids]
        return papers_to_bibtex(self.papers(ids))

    def stats(self) -> IndexStats:
        """What the index holds."""
        return self.index.stats()

    # -- models ---------------------------------------------------------------------------

    @property
    def llm(self) -> LLM:
        """The LLM backend: the one passed in, else the configured one (loaded on first use)."""
        if self._llm is None:
            from .llm import load_llm

            self._llm = load_llm(self.settings.llm, self.settings.paths.cache)
        return self._llm

    @property
    def judge(self) -> Judge:
        """The support judge: the one passed in, else the configured one (loaded on first use)."""
        if self._judge is None:
            from .judge import load_judge

            j = self.settings.judge
            self._judge = load_judge(j.kind, backend=j.backend, cache=self.settings.paths.cache)
        return self._judge

    @property
    def relevance(self) -> Relevance:
        """The relevance scorer: the one passed in, else the configured one (loaded on first use)."""
        if self._relevance is None:
            from .judge.relevance import load_relevance

            j = self.settings.judge
            self._relevance = load_relevance(j.relevance, backend=j.relevance_backend, cache=self.settings.paths.cache)
        return self._relevance

    @property
    def reranker(self) -> Relevance:
        """The relevance scorer of ``search --rerank``: the relevance model on ``retrieval.rerank_backend``
        (int8 by default: the rerank of 30 papers is the slow part of a search), the same object as
        ``relevance`` when that backend is the one ``ask`` uses or a scorer was passed in."""
        backend = self.settings.retrieval.rerank_backend
        j = self.settings.judge
        if self._given_relevance or backend is None or backend == j.relevance_backend or j.relevance != "model":
            return self.relevance
        if self._reranker is None:
            from .judge.relevance import load_relevance

            self._reranker = load_relevance(j.relevance, backend=backend, cache=self.settings.paths.cache)
        return self._reranker

    def _check_llm(self, mode: str | None) -> None:
        # A missing or broken model is reported before any work, even when the corpus is silent.
        if (mode or self.settings.llm.mode) != "extractive":
            self.llm  # noqa: B018

    # -- ask ------------------------------------------------------------------------------

    def ask(
        self,
        question: str,
        *,
        k: int | None = None,
        mode: str | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> Answer:
        """A cited answer, checked against the cited abstracts; refuses when the corpus is silent."""
        from .ask import AskPipeline

        require_text(question, EMPTY_QUESTION)  # before the index is opened (or the bundled one built)
        # A model remembered as not worth generating with is not even loaded (auto mode answers extractively).
        remembered = (mode or self.settings.llm.mode) == "auto" and self._llm is None
        if not (remembered and AskPipeline(self.settings, None, None, None).remembered_extractive()):  # type: ignore[arg-type]
            self._check_llm(mode)
        pipeline = AskPipeline(self.settings, self.index, lambda: self.llm, lambda: self.judge, lambda: self.relevance)
        answer = pipeline.run(question, k=k, mode=mode, on_text=on_text)
        answer.judge = getattr(self._judge, "name", None) if self._judge is not None else None
        return answer

    # -- outline --------------------------------------------------------------------------

    def outline(self, topic: str, *, depth: int | None = None, draft: bool = False, mode: str | None = None) -> Outline:
        """A CHIME-style hierarchy of the studies on ``topic``, each placed and cited.

        ``mode="extractive"`` uses no LLM; "auto" (default) lets it propose labels, each checked."""
        from .outline import OutlineBuilder

        require_text(topic, EMPTY_TOPIC)  # before the index is opened (or the bundled one built)
        self._check_llm(mode)
        builder = OutlineBuilder(
            self.settings, self.index, lambda: self.llm, lambda: self.judge, lambda: self.relevance
        )
        return builder.build(topic, depth=depth, draft=draft, mode=mode)

    # -- serve ----------------------------------------------------------------------------

    def serve(self, *, host: str = "127.0.0.1", port: int = 8765, open_browser: bool = False, block: bool = False):
        """The web page over this assistant (`review serve`), in a background thread for notebooks.

        Returns the uvicorn server: ``server.should_exit = True`` stops it. ``block`` serves until interrupted."""
        from .web import serve

        return serve(self, host=host, port=port, open_browser=open_browser, background=not block)

    # -- eval -----------------------------------------------------------------------------

    def evaluate(
        self,
        *,
        quick: bool = False,
        only: Sequence[str] | None = None,
        mode: str | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> EvalReport:
        """Run the `review eval` suite and return its report.

        The gold data is written for the bundled corpus: when this index does not hold it, the
        suite runs on an index of the bundled corpus in the cache (built on first use)."""
        from .evaluation import PARTS, run_eval

        if {"citations", "outline"} & set(only or PARTS):
            self._check_llm(mode)
        report = run_eval(self._eval_assistant(), quick=quick, only=list(only or []), mode=mode, progress=progress)
        return EvalReport.model_validate(report)

    def _eval_assistant(self) -> Assistant:
        from .evaluation.gold import data_dir, questions

        needed = {pid for q in questions(data_dir(self.settings.eval.data_dir)) for pid in q.relevant}
        have = {p.id for p in self.index.papers()}
        if needed <= have:
            return self
        store = Path(self.settings.paths.cache) / "eval-index"
        log.warning("this index does not hold the bundled corpus: evaluating on %s (built from it on first use)", store)
        paths = self.settings.paths.model_copy(update={"store": store, "corpus": []})
        other = Assistant(
            self.settings.model_copy(update={"paths": paths}),
            embedder=self.index.embedder,
            llm=self._llm,
            judge=self._judge,
            relevance=self._relevance,
            progress=self._progress,
        )
        try:
            other._open_index()
        except NoIndexError:
            other.ingest()
        return other
