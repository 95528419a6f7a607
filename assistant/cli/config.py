"""`review config`."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import command, print_json, state


def config(json_out: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False) -> None:
    """Resolved settings and where each came from (flag, env, review.toml, default).

    Every setting can be set as REVIEW_<SECTION>__<NAME>, e.g. REVIEW_LLM__MODEL=~/m.gguf,
    or in review.toml under \\[section].
    """
    from ..settings import describe_settings

    settings = state.settings()
    rows = describe_settings(settings, state.overrides)
    if json_out:
        print_json({"fingerprint": settings.fingerprint(), "settings": rows})
        return
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        typer.echo(f"{r['name']:<{width}}  {r['value']!s:<40}  {r['source']}")
    typer.echo(f"\nfingerprint: {settings.fingerprint()}")


def register(app: typer.Typer) -> None:
    app.command()(command(config))
