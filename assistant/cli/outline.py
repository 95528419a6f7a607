"""`review outline`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from .common import command, console_err, fail, state

FORMATS = ("markdown", "json", "mermaid", "dot", "svg", "png", "bibtex")


def outline(
    topic: Annotated[str, typer.Option("--topic", "-t", help="The review topic, e.g. 'model merging'.")],
    depth: Annotated[
        int | None,
        typer.Option(help="Levels of categories (default: outline.depth = 2).", min=1, max=4, show_default=False),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="markdown | json | mermaid | dot | svg | png | bibtex (svg and png are drawn by Graphviz `dot`;"
            " bibtex: the outline's studies).",
        ),
    ] = "markdown",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write to this file instead of stdout (needed for png on a terminal).",
            dir_okay=False,
        ),
    ] = None,
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

      review outline --topic merging --format svg -o merging.svg   # needs Graphviz; studies link to their ids

      review outline --topic merging --format png -o merging.png

      review outline --topic merging --format bibtex -o merging.bib   # the studies it places

      review outline --topic merging --draft

      review outline --topic merging --mode extractive   # no LLM: clustering and term labels
    """
    fmt = "json" if json_out else fmt.lower()
    fmt = "markdown" if fmt == "md" else fmt
    if fmt not in FORMATS:
        fail(f"unknown format {fmt!r}: use markdown, json, mermaid, dot, svg, png or bibtex")
    if mode is not None and mode not in ("auto", "generative", "extractive"):
        fail(f"unknown mode {mode!r}: use auto or extractive")
    if fmt == "png" and output is None and sys.stdout.isatty():
        fail("png is binary: write it to a file with --output FILE (or redirect stdout)")
    if fmt in ("svg", "png"):
        from ..rendering import dot_executable

        dot_executable()  # before the outline is built: a missing Graphviz should not cost a minute
    a = state.assistant()
    result = a.outline(topic, depth=depth, draft=draft, mode=mode)
    if fmt == "json":
        data: str | bytes = json.dumps(result.model_dump(mode="json", by_alias=True), indent=2, ensure_ascii=False)
        data += "\n"
    elif fmt == "mermaid":
        data = result.to_mermaid()
    elif fmt == "dot":
        data = result.to_dot()
    elif fmt == "svg":
        data = result.to_svg()
    elif fmt == "png":
        data = result.to_png()
    elif fmt == "bibtex":
        data = a.export_bibtex(result)
    else:
        data = result.to_markdown()
    _write(data, output)


def _write(data: str | bytes, output: Path | None) -> None:
    """To the file named by --output, else to stdout (bytes to its binary buffer)."""
    if output is not None:
        try:
            if isinstance(data, bytes):
                output.write_bytes(data)
            else:
                output.write_text(data, encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {output}: {exc.strerror or exc}")
        console_err().print(f"wrote {output}", highlight=False, markup=False, soft_wrap=True)
    elif isinstance(data, bytes):
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        typer.echo(data, nl=False)


def register(app: typer.Typer) -> None:
    app.command()(command(outline))
