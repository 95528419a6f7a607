"""`review outline`."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import command, fail, print_json, state


def outline(
    topic: Annotated[str, typer.Option("--topic", "-t", help="The review topic, e.g. 'model merging'.")],
    depth: Annotated[
        int | None,
        typer.Option(help="Levels of categories (default: outline.depth = 2).", min=1, max=4, show_default=False),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="markdown | json | mermaid.")] = "markdown",
    draft: Annotated[bool, typer.Option(help="Add a short cited paragraph per category.")] = False,
    mode: Annotated[
        str | None,
        typer.Option(
            help="auto: the LLM proposes labels, each checked (default: llm.mode); extractive: no LLM.",
            show_default=False,
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
) -> None:
    """Draft a hierarchical related-work outline: categories, sub-categories, each study placed and cited.

    Examples:

      review outline --topic merging

      review outline --topic "parameter-efficient fine-tuning" --depth 3 --format json

      review outline --topic "preference optimization" --format mermaid > tree.mmd

      review outline --topic merging --draft

      review outline --topic merging --mode extractive   # no LLM: clustering and term labels
    """
    fmt = "json" if json_out else fmt.lower()
    if fmt not in ("markdown", "md", "json", "mermaid"):
        fail(f"unknown format {fmt!r}: use markdown, json or mermaid")
    if mode is not None and mode not in ("auto", "generative", "extractive"):
        fail(f"unknown mode {mode!r}: use auto or extractive")
    result = state.assistant().outline(topic, depth=depth, draft=draft, mode=mode)
    if fmt == "json":
        print_json(result)
    elif fmt == "mermaid":
        typer.echo(result.to_mermaid(), nl=False)
    else:
        typer.echo(result.to_markdown(), nl=False)


def register(app: typer.Typer) -> None:
    app.command()(command(outline))
