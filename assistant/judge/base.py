"""The seam every stage judges through: (source text, statement) -> P(the source supports it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

__all__ = ["Judge"]


class Judge(Protocol):
    """Scores whether each source text supports its statement."""

    name: str

    def score(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """P(source supports statement) in [0, 1] for each (source_text, statement) pair."""
        ...
