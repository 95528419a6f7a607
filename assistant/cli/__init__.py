"""The `review` command line: thin commands over the library, one module each."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from .common import state

__all__ = ["app", "main"]

app = typer.Typer(
    name="review",
    help=(
        "review: a local literature-review assistant over paper abstracts.\n\n"
        "Examples:\n\n"
        "  review ingest                      # index the bundled corpus\n\n"
        '  review search "weight averaging of fine-tuned models" -k 5\n\n'
        "  review show breadcrumbs-2023\n\n"
        '  review ask "how does RL affect knowledge recall?"\n\n'
        "  review outline --topic merging\n\n"
        "  review eval --quick"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _global(
    store: Annotated[str | None, typer.Option(help="Index directory (default: store/).", show_default=False)] = None,
    store_url: Annotated[
        str | None, typer.Option(help="Use a Chroma server at this URL instead.", show_default=False)
    ] = None,
    embedder: Annotated[
        str | None, typer.Option(help="sentence-transformers model name or path.", show_default=False)
    ] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="-v info, -vv debug logs.")] = 0,
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback of an error.")] = False,
) -> None:
    """Global options (they override REVIEW_* variables and review.toml)."""
    state.overrides = {}
    state.override("paths", "store", store)
    if store_url:
        state.override("store", "backend", "chroma-http")
        state.override("store", "url", store_url)
    state.override("embedding", "model", embedder)
    state.verbose = verbose
    state.debug = debug
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler()
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Third-party chatter only with -vv; bm25s sets its own logger to DEBUG on import.
    if verbose < 2:
        handler.addFilter(lambda record: record.name.startswith("assistant") or record.levelno >= logging.WARNING)


def _register() -> None:
    from . import ask, config, export, ingest, outline, search, serve
    from . import eval as eval_command

    for module in (ingest, search, ask, outline, export, eval_command, config, serve):
        module.register(app)


_register()


def main() -> None:
    """Console-script entry point."""
    app()
