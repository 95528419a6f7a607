"""The library entry point: ``Assistant(settings).search(...)`` and friends."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import StoreError
from .models import Answer, IndexStats, IngestReport, Outline, Paper, SearchResult
from .settings import Settings

__all__ = ["Assistant"]

log = logging.getLogger(__name__)


class Assistant:
    """A literature-review assistant over one index; models load on first use."""

    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        self.settings = settings or Settings(**overrides)
        self._index = None
        self._progress = None
        self._llm = None
        self._judge = None

    # -- index ----------------------------------------------------------------------------

    def _open_index(self, *, create: bool = False, rebuild: bool = False):
        from .index import Index

        embedder = self._index.embedder if self._index is not None else None
        self._index = Index(self.settings, embedder=embedder, create=create, rebuild=rebuild)
        return self._index

    @property
    def index(self):
        """The open index; built from the configured corpus when there is none yet."""
        if self._index is None:
            try:
                self._open_index()
            except StoreError as exc:
                if "no index" not in str(exc):
                    raise
                log.info("no index yet: building it from the configured corpus")
                self.ingest()
        return self._index

    def read_corpus(self, paths: Sequence[str | Path] | None = None) -> list[Paper]:
        """Papers from files (default: the configured corpus, else the bundled one)."""
        from .corpus import bundled_corpus_paths, read_papers

        chosen = [Path(p) for p in (paths or self.settings.paths.corpus)] or bundled_corpus_paths()
        existing = self._index.existing_ids() if self._index is not None else None
        return read_papers(chosen, existing=existing)

    def ingest(
        self, paths: Sequence[str | Path] | None = None, *, rebuild: bool = False, progress=None
    ) -> IngestReport:
        """Index papers from files (default: configured/bundled corpus); incremental."""
        if self._index is None or rebuild:
            self._open_index(create=True, rebuild=rebuild)
        papers = self.read_corpus(paths)  # parse everything before writing anything
        return self._index.ingest(papers, progress=progress or self._progress)

    def search(self, query: str, k: int | None = None) -> SearchResult:
        """Papers for a query, best first, with their best passages."""
        return SearchResult(query=query, hits=self.index.search(query, k))

    def paper(self, paper_id: str) -> Paper:
        """One paper by id."""
        from .errors import QueryError

        found = self.index.papers([paper_id])
        if not found:
            raise QueryError(f"no paper with id {paper_id!r} in the index: `review search` shows ids")
        return found[0]

    def stats(self) -> IndexStats:
        """What the index holds."""
        return self.index.stats()

    # -- ask ------------------------------------------------------------------------------

    @property
    def llm(self):
        """The configured LLM backend (loaded on first use)."""
        if self._llm is None:
            from .llm import load_llm

            self._llm = load_llm(self.settings.llm, self.settings.paths.cache)
        return self._llm

    @property
    def judge(self):
        """The support judge (loaded on first use)."""
        if self._judge is None:
            from .judge import load_judge

            self._judge = load_judge(self.settings.judge.kind)
        return self._judge

    def ask(self, question: str, *, k: int | None = None, mode: str | None = None, on_text=None) -> Answer:
        """A cited answer, checked against the cited abstracts; refuses when the corpus is silent."""
        from .ask import AskPipeline

        if (mode or self.settings.llm.mode) != "extractive":
            self.llm  # noqa: B018 (a missing or broken model is reported even when the corpus is silent)
        pipeline = AskPipeline(self.settings, self.index, lambda: self.llm, lambda: self.judge)
        answer = pipeline.run(question, k=k, mode=mode, on_text=on_text)
        answer.judge = getattr(self._judge, "name", None) if self._judge is not None else None
        return answer

    # -- outline --------------------------------------------------------------------------

    def outline(self, topic: str, *, depth: int | None = None, draft: bool = False, mode: str | None = None) -> Outline:
        """A CHIME-style hierarchy of the studies on ``topic``, each placed and cited.

        ``mode="extractive"`` uses no LLM; "auto" (default) lets it propose labels, each checked."""
        from .outline import OutlineBuilder

        if (mode or self.settings.llm.mode) != "extractive":
            self.llm  # noqa: B018 (a missing or broken model is reported before any work)
        builder = OutlineBuilder(self.settings, self.index, lambda: self.llm, lambda: self.judge)
        return builder.build(topic, depth=depth, draft=draft, mode=mode)

    # -- eval -----------------------------------------------------------------------------

    def evaluate(
        self, *, quick: bool = False, only: Sequence[str] | None = None, mode: str | None = None, progress=None
    ) -> dict:
        """Run the `review eval` suite; the report as a JSON-ready dict (see ``assistant.evaluation``).

        The gold data is written for the bundled corpus: when this index does not hold it, the
        suite runs on an index of the bundled corpus in the cache (built on first use)."""
        from .evaluation import PARTS, run_eval

        if (mode or self.settings.llm.mode) != "extractive" and {"citations", "outline"} & set(only or PARTS):
            self.llm  # noqa: B018 (a missing or broken model is reported before any work)
        return run_eval(self._eval_assistant(), quick=quick, only=list(only or []), mode=mode, progress=progress)

    def _eval_assistant(self) -> Assistant:
        from .evaluation.gold import data_dir, questions

        needed = {pid for q in questions(data_dir(self.settings.eval.data_dir)) for pid in q.relevant}
        have = {p.id for p in self.index.papers()}
        if needed <= have:
            return self
        store = Path(self.settings.paths.cache) / "eval-index"
        log.warning("this index does not hold the bundled corpus: evaluating on %s (built from it on first use)", store)
        paths = self.settings.paths.model_copy(update={"store": store, "corpus": []})
        other = Assistant(self.settings.model_copy(update={"paths": paths}))
        other._progress, other._llm, other._judge = self._progress, self._llm, self._judge
        return other
