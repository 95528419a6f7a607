"""Building a ``Paper`` from parsed fields, and what a parser does with a bad record.

Every field of a ``Paper`` has a type and a range (see ``assistant.models``); a record that
breaks one is refused here, when it is read, so nothing stored can break a later read.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from assistant.errors import CorpusError
from assistant.models import Paper

__all__ = ["Problems", "new_paper", "report"]

Problems = list[CorpusError] | None
"""Where a parser puts bad records it skips; None means the first one fails the file."""


def _describe(exc: ValidationError) -> str:
    err = exc.errors()[0]
    field = ".".join(str(x) for x in err["loc"][:1]) or "record"
    got = repr(err.get("input"))
    got = got if len(got) <= 40 else got[:37] + "..."
    message = err["msg"][:1].lower() + err["msg"][1:]
    if err["type"] in ("string_too_long", "too_long"):
        return f"'{field}' is too long ({message})"
    return f"'{field}': {message} (got {got})"


def new_paper(**fields: Any) -> Paper:
    """A validated ``Paper``; a field of the wrong type or out of range is a one-line ValueError naming it."""
    try:
        return Paper(**fields)
    except ValidationError as exc:
        raise ValueError(_describe(exc)) from None


def report(problem: CorpusError, problems: Problems) -> None:
    """Fail on ``problem``, or note it and go on when the caller collects problems."""
    if problems is None:
        raise problem
    problems.append(problem)
