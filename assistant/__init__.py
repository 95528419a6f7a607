"""review: a local literature-review assistant over paper abstracts.

from assistant import Assistant
a = Assistant()
a.search("methods that merge fine-tuned models")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "Assistant",
    "ConfigError",
    "CorpusError",
    "Hit",
    "IndexMismatchError",
    "ModelError",
    "Paper",
    "Passage",
    "QueryError",
    "ReviewError",
    "SearchResult",
    "Settings",
    "StoreError",
]

_LOCATIONS = {
    "Assistant": ".api",
    "Settings": ".settings",
    "Hit": ".models",
    "Paper": ".models",
    "Passage": ".models",
    "SearchResult": ".models",
}

if TYPE_CHECKING:
    from .api import Assistant
    from .models import Hit, Paper, Passage, SearchResult
    from .settings import Settings

from .errors import ConfigError, CorpusError, IndexMismatchError, ModelError, QueryError, ReviewError, StoreError


def __getattr__(name: str) -> Any:
    # Lazy: `review --help` must not pay for pydantic models it does not use.
    if name in _LOCATIONS:
        import importlib

        return getattr(importlib.import_module(_LOCATIONS[name], __name__), name)
    raise AttributeError(name)
