"""`review ingest` and `review stats`."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import clean, command, console_err, print_json, progress_bar, state


def ingest(
    files: Annotated[
        list[str] | None,
        typer.Argument(
            help="JSONL, BibTeX or Daily Papers .txt files; default: the bundled corpus.", show_default=False
        ),
    ] = None,
    rebuild: Annotated[
        bool, typer.Option(help="Drop the index and build it anew (e.g. after changing the embedder).")
    ] = False,
    strict: Annotated[
        bool, typer.Option(help="Refuse a file with any bad record (default: skip the record with a warning).")
    ] = False,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Fail at once when another ingest holds the store's lock.")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Index papers (incremental: unchanged papers cost nothing; safe to interrupt and rerun).

    Examples:

      review ingest

      review ingest my_papers.jsonl refs.bib

      review --embedder ~/models/bge-small ingest --rebuild
    """
    a = state.assistant()
    bar = progress_bar("embedding papers")

    def on_wait(message: str) -> None:
        # soft_wrap: one line however narrow the terminal (a store path broken in two cannot be pasted)
        console_err().print(clean(message), markup=False, highlight=False, soft_wrap=True)

    try:
        report = a.ingest(
            files or None, rebuild=rebuild, progress=bar, strict=strict, wait=not no_wait, on_wait=on_wait
        )
    finally:
        bar.close()
    if json_out:
        print_json(report)
        return
    console_err().print(
        f"{report.papers_seen} papers: {report.added} added, {report.updated} updated, "
        f"{report.unchanged} unchanged{f', {report.repaired} repaired' if report.repaired else ''}"
        f"{f' ({report.rechunked} for new chunk settings)' if report.rechunked else ''}; "
        f"{report.chunks_embedded} chunks embedded in {report.seconds:.1f}s",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


def stats(json_out: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False) -> None:
    """Papers, chunks, embedder, store path and size.

    Example: review stats --json
    """
    s = state.assistant().stats()
    if json_out:
        print_json(s)
        return
    size = f"{s.size_bytes / 1e6:.1f} MB" if s.size_bytes is not None else "n/a (server)"
    typer.echo(
        f"papers:   {s.papers}\nchunks:   {s.chunks}\nembedder: {s.embedder} (dim {s.dimension})\n"
        f"store:    {s.store}\nsize:     {size}"
    )


def register(app: typer.Typer) -> None:
    app.command()(command(ingest))
    app.command()(command(stats))
