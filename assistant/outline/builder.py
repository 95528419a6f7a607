"""OutlineBuilder: runs the outlining stages in order for one topic and times each of them.

The builder holds only what it is constructed with; each build gets its own OutlineRun, so one
builder can build several outlines, even concurrently.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..errors import EMPTY_TOPIC, QueryError, require_text
from ..models import FeedbackQuery, Outline, OutlineNode, OutlineStudy, Paper, Reference, TopicExpansion
from ..settings import Settings
from . import tree
from .candidates import candidate_pool, candidates
from .claims import extract_claims, rewrite_claims, with_antecedents
from .clustering import split
from .labels import LabelVerdicts, background
from .run import OutlineRun

__all__ = ["OutlineBuilder"]

log = logging.getLogger(__name__)


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    """Record the seconds the block takes as ``timings[stage]``."""
    t = time.perf_counter()
    yield
    timings[stage] = time.perf_counter() - t


class OutlineBuilder:
    """Builds an Outline for a topic from an open Index."""

    def __init__(
        self,
        settings: Settings,
        index,
        llm_factory: Callable | None = None,
        judge_factory: Callable | None = None,
        relevance_factory: Callable | None = None,
    ) -> None:
        self.settings = settings
        self.index = index
        self._llm_factory = llm_factory
        self._judge_factory = judge_factory
        self._relevance_factory = relevance_factory

    def candidates(self, topic: str) -> list[tuple[Paper, float]]:
        """Papers relevant to the topic with their relevance (see candidates.candidates)."""
        return candidates(self.settings, self.index, topic, self._relevance_factory)

    def build(self, topic: str, depth: int | None = None, draft: bool = False, mode: str | None = None) -> Outline:
        """The outline tree for ``topic``; QueryError when the corpus has nothing on it.

        ``mode`` (default ``llm.mode``): "extractive" uses no LLM (clustering and term labels);
        "auto"/"generative" ask the LLM for labels (and claim rewrites when
        ``outline.rewrite_claims``), each checked before it is used.
        """
        import numpy as np

        topic = require_text(topic, EMPTY_TOPIC)
        cfg = self.settings.outline
        depth = depth or cfg.depth
        mode = mode or self.settings.llm.mode
        if mode not in ("auto", "generative", "extractive"):
            raise QueryError(f"unknown mode {mode!r}: use auto, generative or extractive")
        run = OutlineRun(
            settings=self.settings,
            index=self.index,
            topic=topic,
            use_llm=mode != "extractive" and self._llm_factory is not None,
            llm_factory=self._llm_factory,
            judge_factory=self._judge_factory,
        )
        run.llm_labels = run.use_llm and cfg.llm_labels
        verdicts = LabelVerdicts(self.settings) if run.llm_labels else None
        skipped = verdicts.not_worth_it() if verdicts is not None and mode == "auto" else 0
        if skipped:
            run.llm_labels = False
            run.checks["labels_llm_skipped"] = skipped
        timings: dict[str, float] = {}
        with _timed(timings, "candidates"):
            pool = candidate_pool(self.settings, self.index, topic, self._relevance_factory)
            found = pool.kept
        if len(found) < 2:
            closest = ", ".join(p.id for p, _ in found) or "none"
            raise QueryError(
                f"the indexed papers do not cover the topic {topic!r} (papers above the relevance threshold: {closest}); "
                "try broader words, or `review search` to see what is there"
            )
        papers = [p for p, _ in found]
        # After the off-corpus check: a topic the corpus does not cover costs no corpus scan.
        with _timed(timings, "background"):
            run.background, run.common = background(self.index)
        with _timed(timings, "claims"):
            claims, about = extract_claims(self.index, papers)
            studies = [
                OutlineStudy(paper_id=p.id, title=p.title, claim=c, relevance=round(r, 4))
                for (p, r), c in zip(found, claims)
            ]
        if run.use_llm and cfg.rewrite_claims:
            with _timed(timings, "claim_rewrites"):
                rewrite_claims(run, papers, studies)
        with _timed(timings, "hierarchy"):
            vectors = self.index.embedder.embed_documents([f"{s.title}. {a}" for s, a in zip(studies, about)])
            vectors = np.asarray(vectors, dtype=np.float32)
            root = OutlineNode(
                label=topic,
                description=f"Studies on {topic} in the indexed corpus ({len(studies)} papers).",
                label_source="topic",
            )
            if len(studies) < cfg.min_split:
                root.description += (
                    f" Only {len(studies)} papers clear the relevance threshold, too few to split into categories;"
                    " a fuller topic phrase (e.g. 'merging the weights of fine-tuned models') may find more."
                )
            split(run, root, list(range(len(studies))), studies, vectors, level=1, depth=depth, taken=set())
        # LLM labelling is reported on its own, not as hierarchy time.
        timings["hierarchy"] -= run.label_seconds
        if run.llm_labels:
            timings["llm_labels"] = run.label_seconds
        with _timed(timings, "assignment"):
            tree.assign(run, root, studies, vectors)  # may ask for labels too (leftovers regrouped)
        if run.llm_labels and verdicts is not None and mode == "auto":
            verdicts.record(run.checks.get("labels_llm", 0), run.checks.get("labels_llm_rejected", 0))
        if self._judge_factory is not None and cfg.judge_assignments:
            with _timed(timings, "assignment_judge"):
                tree.check_assignments(run, root, studies)
        with_antecedents(papers, studies)
        tree.prune(root)
        tree.rename_stale_related(root, studies, vectors)
        tree.settle_paths(root, studies)
        tree.recount(root)
        outline = Outline(topic=topic, tree=root, studies=studies, mode="extractive" if not run.use_llm else mode)
        if run.use_llm:
            outline.model = getattr(self._llm_factory(), "name", None)
        by_id = {p.id: p for p in papers}
        outline.references = tree.references(outline, by_id)
        outline.left_out = [
            Reference(n=n, paper_id=p.id, title=p.title, date=p.when) for n, (p, _) in enumerate(pool.left_out, 1)
        ]
        if draft:
            with _timed(timings, "draft"):
                tree.draft(run, outline, by_id)
        outline.expansion = _expansion(pool)
        if outline.expansion and outline.expansion.feedback:
            for q in outline.expansion.feedback:
                log.info("outline %r: second retrieval from %s: %s", topic, q.seed, ", ".join(q.terms))
            if outline.expansion.vetoed:
                log.info(
                    "outline %r: not about it, by the relevance model: %s", topic, ", ".join(outline.expansion.vetoed)
                )
        outline.checks = dict(sorted(run.checks.items()))
        outline.timings = {k: round(v, 4) for k, v in timings.items()}
        return outline


def _expansion(pool) -> TopicExpansion | None:
    """What the candidate stage read the topic as, for the Outline (None when it scored no pool)."""
    if pool.evidence is None:
        return None
    return TopicExpansion(
        terms=sorted(pool.evidence.terms),
        phrases=list(pool.evidence.phrases),
        seeds=list(pool.evidence.seeds),
        feedback=[FeedbackQuery(seed=q.seed, terms=list(q.terms)) for q in pool.feedback],
        read_as=pool.description,
        vetoed=list(pool.vetoed),
    )
