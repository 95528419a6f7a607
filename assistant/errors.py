"""Errors raised by review.

Every error a user can cause or fix is a ``ReviewError``; its message says what went wrong
and what to do next. The CLI prints it as one line on stderr and exits non-zero.

    ReviewError
    ├── ConfigError          bad setting, missing model file, unknown backend
    ├── CorpusError          unreadable / malformed corpus file (names file and line)
    ├── StoreError           unreachable server, corrupt store
    │   ├── NoIndexError         no index where one was expected (run `review ingest`)
    │   ├── IndexMismatchError   index built by another embedder
    │   └── StoreLockedError     another ingest holds the writers' lock (--no-wait)
    ├── QueryError           empty or unusable query
    ├── ModelError           LLM or embedder failed to load or to answer
    └── RenderError          an outline could not be drawn (Graphviz `dot` missing or failing)
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "CorpusError",
    "IndexMismatchError",
    "ModelError",
    "NoIndexError",
    "QueryError",
    "RenderError",
    "ReviewError",
    "StoreError",
    "StoreLockedError",
]


class ReviewError(Exception):
    """Base class: a problem the user can act on; the message says how."""


class ConfigError(ReviewError):
    """A setting is invalid or points at something that does not exist."""


class CorpusError(ReviewError):
    """A corpus file cannot be read or parsed."""

    def __init__(self, message: str, *, path: object = None, line: int | None = None) -> None:
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)
        self.path = path
        self.line = line


class StoreError(ReviewError):
    """The index is missing, unreachable or inconsistent."""


class NoIndexError(StoreError):
    """There is no index at the configured place yet: `review ingest` builds one."""


class IndexMismatchError(StoreError):
    """The index was built with a different embedder than the configured one."""


class StoreLockedError(StoreError):
    """Another ingest is writing to this index and the caller chose not to wait."""


class QueryError(ReviewError):
    """A query is empty or otherwise unusable."""


class ModelError(ReviewError):
    """A model (embedder, LLM, judge) could not be loaded or failed to answer."""


class RenderError(ReviewError):
    """An outline could not be drawn as SVG/PNG: Graphviz `dot` is missing or failed."""


EMPTY_QUERY = 'the query is empty: say what you are looking for, e.g. review search "model merging"'
EMPTY_QUESTION = 'the question is empty: ask something, e.g. review ask "how does RL affect knowledge recall?"'
EMPTY_TOPIC = 'the topic is empty: e.g. review outline --topic "model merging"'


def require_text(text: str | None, message: str) -> str:
    """``text`` with its whitespace collapsed, or QueryError(message) when nothing is left."""
    text = " ".join((text or "").split())
    if not text:
        raise QueryError(message)
    return text
