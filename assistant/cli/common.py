"""Shared CLI plumbing: settings from flags, errors as one line, JSON and progress output."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import typer

__all__ = ["State", "clean", "command", "console_err", "fail", "print_json", "progress_bar", "state"]

# Terminal escape sequences (CSI, OSC, and the other ESC forms), then any control character
# left, and the bidirectional overrides that reorder what a terminal shows.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[0-~]?|\x9b[0-?]*[ -/]*[@-~]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(text: object) -> str:
    """Corpus or user text made safe for a terminal: escape sequences and control characters removed."""
    return _CONTROLS.sub("", _ESCAPES.sub("", str(text)))


class State:
    """Global options, shared by every command."""

    def __init__(self) -> None:
        self.overrides: dict[str, Any] = {}
        self.verbose = 0
        self.debug = False

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
        except Exception as exc:  # review.toml that is not TOML, a REVIEW_* value that is not JSON
            import os

            config = os.environ.get("REVIEW_CONFIG", "review.toml")
            raise ConfigError(
                f"cannot read the settings ({type(exc).__name__}: {exc}): fix {config} or the REVIEW_* variables"
            ) from exc

    def assistant(self):
        """An Assistant on the resolved settings, with a progress bar for index builds."""
        from ..api import Assistant

        return Assistant(self.settings(), progress=progress_bar("indexing"))


state = State()


def unwrap_help(doc: str | None) -> str | None:
    """A docstring with each prose paragraph on one line, so the terminal's width wraps it (typer
    keeps single line breaks: at 80 columns a paragraph written at 100 broke mid-sentence).
    Indented lines (examples) and paragraphs of them keep their breaks."""
    import inspect

    if not doc:
        return doc
    paragraphs = inspect.cleandoc(doc).split("\n\n")
    out = []
    for para in paragraphs:
        lines = para.split("\n")
        if any(line.startswith((" ", "\t")) for line in lines) or para.startswith("\b"):
            out.append(para)
        else:
            out.append(" ".join(line.strip() for line in lines))
    return "\n\n".join(out)


def command(func):
    """Wrap a command: every error becomes one red line on stderr and exit code 1 (``--debug``: the traceback)."""
    import functools

    import click
    import typer

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from ..errors import ReviewError

        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, click.exceptions.Exit, click.ClickException, click.Abort):
            raise  # typer's Exit/Abort are not click's in typer >= 0.16: the exit code they carry stands
        except KeyboardInterrupt:
            fail("interrupted: the index is consistent; rerun the command to finish it", 130)
        except BrokenPipeError:
            # The reader went away (`review search ... | head`): not an error. stdout is pointed at
            # devnull so the interpreter's final flush does not complain a second time.
            import os

            try:
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            except (OSError, ValueError):  # stdout is not a file (captured): nothing to flush
                pass
            raise typer.Exit(0) from None
        except Exception as exc:
            if state.debug:
                raise
            if isinstance(exc, ReviewError):
                fail(str(exc))
            if isinstance(exc, RecursionError):
                fail("input nested too deeply to process (RecursionError); rerun with --debug for the traceback")
            fail(f"unexpected {type(exc).__name__}: {exc} (a bug in review: rerun with --debug for the traceback)")

    wrapper.__doc__ = unwrap_help(func.__doc__)
    return wrapper


def console_err():
    """A rich console on stderr; a message is one line however narrow the terminal (the terminal
    wraps it, rich does not cut it in two, so a piped or logged message stays one line)."""
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 1) -> None:
    """One red line on stderr, then exit non-zero (the message is text, never markup)."""
    from rich.text import Text

    line = " ".join(clean(message).split())
    console_err().print(Text.assemble(("error:", "red"), " ", line), highlight=False, soft_wrap=True)
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
