"""Shared CLI plumbing: settings from flags, errors as one line, JSON and progress output."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer

__all__ = ["State", "command", "console_err", "fail", "print_json", "progress_bar", "state"]


class State:
    """Global options, shared by every command."""

    def __init__(self) -> None:
        self.overrides: dict[str, Any] = {}
        self.verbose = 0

    def override(self, section: str, key: str, value: Any) -> None:
        """Record a flag's value as a settings override (flags beat env and file)."""
        if value is not None:
            self.overrides.setdefault(section, {})[key] = value

    def settings(self):
        """Resolved settings: flags > env > review.toml > defaults."""
        from pydantic import ValidationError

        from ..errors import ConfigError
        from ..settings import Settings

        try:
            return Settings(**self.overrides)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(x) for x in err["loc"])
            raise ConfigError(
                f"invalid setting {where}: {err['msg']} (check flags, REVIEW_* variables and review.toml)"
            ) from exc

    def assistant(self):
        """An Assistant on the resolved settings, with a progress bar for index builds."""
        from ..api import Assistant

        return Assistant(self.settings(), progress=progress_bar("indexing"))


state = State()


def command(func):
    """Wrap a command: ReviewErrors become one red line on stderr and exit code 1."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from ..errors import ReviewError

        try:
            return func(*args, **kwargs)
        except ReviewError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            fail("interrupted: the index is consistent; rerun the command to finish it", 130)

    return wrapper


def console_err():
    """A rich console on stderr."""
    from rich.console import Console

    return Console(stderr=True)


def fail(message: str, code: int = 1) -> None:
    """One red line on stderr, then exit non-zero."""
    console_err().print(f"[red]error:[/red] {message}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    """JSON on stdout: what ``--json`` means in every command (pydantic models are dumped as they are)."""
    if hasattr(data, "model_dump"):
        data = data.model_dump(mode="json", by_alias=True)
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


class _Bar:
    """A lazily started rich progress bar on stderr, driven by progress(done, total)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._progress = None
        self._task = None

    def __call__(self, done: int, total: int) -> None:
        if total == 0:
            return
        if self._progress is None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=console_err(),
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.label, total=total)
        self._progress.update(self._task, completed=done, total=total)
        if done >= total:
            self.close()

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def progress_bar(label: str) -> _Bar:
    """A progress callback that draws a bar on stderr once there is work to show."""
    return _Bar(label)
