"""`review export`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import command, console_err, fail, state

FORMATS = ("bibtex", "jsonl")


def export(
    ids: Annotated[
        list[str] | None, typer.Argument(help="Paper ids (default: every paper in the index).", show_default=False)
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="bibtex | jsonl (both read back by `review ingest`).")] = (
        "bibtex"
    ),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.", dir_okay=False)
    ] = None,
) -> None:
    """Export papers as BibTeX (keys are the paper ids) or JSON Lines; `review ingest` reads either back.

    Examples:

      review export breadcrumbs-2023 task-arithmetic-2023

      review export -o corpus.bib                # every paper in the index

      review export --format jsonl -o corpus.jsonl
    """
    fmt = {"bib": "bibtex", "json": "jsonl"}.get(fmt.lower(), fmt.lower())
    if fmt not in FORMATS:
        fail(f"unknown format {fmt!r}: use bibtex or jsonl")
    from ..export import papers_to_bibtex, papers_to_jsonl

    papers = state.assistant().papers(ids or None)
    write_text(papers_to_bibtex(papers) if fmt == "bibtex" else papers_to_jsonl(papers), output, len(papers))


def write_text(text: str, output: Path | None, entries: int) -> None:
    """To the file named by --output (saying so on stderr), else to stdout."""
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    console_err().print(f"wrote {entries} papers to {output}", highlight=False, markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command()(command(export))
