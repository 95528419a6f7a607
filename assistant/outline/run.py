"""The state of one outline build, handed to every stage.

Everything a build learns or counts (the topic, whether the LLM may be used, the corpus
statistics, the checks, the time spent labelling) lives here and not on the OutlineBuilder, so
one builder can build several outlines, even at the same time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from ..settings import Settings

__all__ = ["OutlineRun"]


@dataclass
class OutlineRun:
    """Per-build context: inputs, corpus statistics and the counters the stages fill in."""

    settings: Settings
    index: object
    topic: str
    use_llm: bool = False
    # Ask the LLM for category labels (outline.llm_labels, unless auto mode has found that this
    # model file's labels do not pass the checks; see labels.LabelVerdicts).
    llm_labels: bool = False
    llm_factory: Callable | None = None
    judge_factory: Callable | None = None
    # Corpus document frequency of label terms and corpus size (see labels.background).
    background: tuple[Counter, int] | None = None
    # Stems in over a quarter of the corpus: a label made only of them names nothing.
    common: set[str] = field(default_factory=set)
    checks: Counter = field(default_factory=Counter)
    # Phrase-first categories (see facets.py): id of the category node -> the studies that use its phrase.
    facet_members: dict[int, set[str]] = field(default_factory=dict)
    # ... and the phrase's key (facets.facet_keys), to find the sentence where a study uses it.
    facet_keys: dict[int, str] = field(default_factory=dict)
    # LLM labelling time, taken out of the hierarchy's time and reported on its own.
    label_seconds: float = 0.0

    def complete(self, prompt: str, max_tokens: int) -> str:
        """One line of LLM output for ``prompt``."""
        return self.llm_factory().complete(prompt, max_tokens=max_tokens, stop=["\n"]).text
