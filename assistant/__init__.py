"""review: a local literature-review assistant over paper abstracts.

    from assistant import Assistant
    a = Assistant()
    a.search("methods that merge fine-tuned models")

Every type a public call returns is exported here; the errors form one tree under
``ReviewError`` (see ``assistant.errors``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "Answer",
    "Assignment",
    "Assistant",
    "ConfigError",
    "CorpusError",
    "EvalPart",
    "EvalReport",
    "Hit",
    "IndexMismatchError",
    "IndexStats",
    "IngestReport",
    "ModelError",
    "NoIndexError",
    "Outline",
    "OutlineNode",
    "OutlineStudy",
    "Paper",
    "Passage",
    "QueryError",
    "Reference",
    "RenderError",
    "ReviewError",
    "SearchResult",
    "Settings",
    "Statement",
    "StoreError",
    "StoreLockedError",
    "ThresholdCheck",
]

_MODELS = (
    "Answer Assignment EvalPart EvalReport Hit IndexStats IngestReport Outline OutlineNode OutlineStudy Paper "
    "Passage Reference SearchResult Statement ThresholdCheck"
).split()
_LOCATIONS = {"Assistant": ".api", "Settings": ".settings"} | {name: ".models" for name in _MODELS}

if TYPE_CHECKING:
    from .api import Assistant
    from .models import (
        Answer,
        Assignment,
        EvalPart,
        EvalReport,
        Hit,
        IndexStats,
        IngestReport,
        Outline,
        OutlineNode,
        OutlineStudy,
        Paper,
        Passage,
        Reference,
        SearchResult,
        Statement,
        ThresholdCheck,
    )
    from .settings import Settings

from .errors import (
    ConfigError,
    CorpusError,
    IndexMismatchError,
    ModelError,
    NoIndexError,
    QueryError,
    RenderError,
    ReviewError,
    StoreError,
    StoreLockedError,
)


def __getattr__(name: str) -> Any:
    # Lazy: `review --help` must not pay for pydantic models it does not use.
    if name in _LOCATIONS:
        import importlib

        return getattr(importlib.import_module(_LOCATIONS[name], __name__), name)
    raise AttributeError(name)
