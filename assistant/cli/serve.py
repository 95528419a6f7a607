"""`review serve`."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import clean, command, console_err, state


def serve(
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8765,
    open_browser: Annotated[bool, typer.Option("--open", help="Open the page in the default browser.")] = False,
    allow_remote: Annotated[
        bool, typer.Option("--allow-remote", help="Allow a non-loopback --host (the page has no login).")
    ] = False,
) -> None:
    """Serve a local web page (search, ask, outline, papers, corpus map, ingest) and a JSON API.

    The index and models stay loaded between requests. Pages at http://127.0.0.1:8765/, the
    API under /api/ (described at /docs and /openapi.json).

    Examples:

      review serve

      review serve --port 9000 --open

      review serve --host 0.0.0.0 --allow-remote   # reachable from other machines: no login!
    """
    from ..web.server import check_host
    from ..web.server import serve as run

    err = console_err()
    warned: list[str] = []

    def warn(message: str) -> None:
        if message not in warned:  # checked here, before minutes of loading, and again by serve()
            warned.append(message)
            err.print(f"[yellow]warning:[/yellow] {clean(message)}", highlight=False)

    check_host(host, allow_remote, warn)
    a = state.assistant()
    a.index  # noqa: B018  # opened (or built) before the first request, with its progress bar
    shown = f"[{host}]" if ":" in host else host
    err.print(f"review: serving on http://{shown}:{port}/ (Ctrl+C to stop)", highlight=False, markup=False)
    run(a, host=host, port=port, open_browser=open_browser, allow_remote=allow_remote, warn=warn)


def register(app: typer.Typer) -> None:
    app.command()(command(serve))
