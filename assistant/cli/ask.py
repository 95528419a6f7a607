"""`review ask`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from .common import clean, command, console_err, fail, print_json, state


def ask(
    question: Annotated[str, typer.Argument(help="Your question, in your own words.")],
    k: Annotated[
        int | None,
        typer.Option(
            "-k", "--k", help="Papers given to the model as sources (default: ask.k = 5).", show_default=False, min=1
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", "-m", help="A .gguf file to answer with (default: bundled Gemma 3 270M).", show_default=False
        ),
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1.", show_default=False)
    ] = None,
    mode: Annotated[
        str | None, typer.Option(help="auto | generative | extractive (default: llm.mode = auto).", show_default=False)
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="markdown | json | bibtex (BibTeX of the cited papers).")
    ] = "markdown",
) -> None:
    """Answer a question from the indexed papers, with checked citations.

    The relevance model picks the sentences that answer the question (findings first, one per
    paper first, as many as are on point); a capable model writes statements from them, each
    checked by the support judge against the abstract it cites; otherwise they are quoted.
    When no sentence answers the question, it says so and lists the closest papers.

    Examples:

      review ask "how does RL affect knowledge recall?"

      review ask "which methods merge fine-tuned models?" -k 8 --json

      review ask "which methods merge fine-tuned models?" --format bibtex > cited.bib

      review ask "..." --model ~/models/qwen2.5-7b-instruct-q4_k_m.gguf

      REVIEW_LLM__URL=http://127.0.0.1:8080/v1 review ask "..."
    """
    fmt = "json" if json_out else {"md": "markdown", "bib": "bibtex"}.get(fmt.lower(), fmt.lower())
    if fmt not in ("markdown", "json", "bibtex"):
        fail(f"unknown format {fmt!r}: use markdown, json or bibtex")
    state.override("llm", "model", model)
    state.override("llm", "url", url)
    state.override("llm", "mode", mode)
    a = state.assistant()
    on_text = None
    streaming = fmt == "markdown" and sys.stdout.isatty()
    drafted: list[bool] = []  # the header goes out with the first streamed piece: no draft, no header
    if streaming:
        err = console_err()

        def on_text(piece: str) -> None:
            if not drafted:
                err.print("[dim]draft (checking follows):[/dim]")
                drafted.append(True)
            err.print(piece, end="", style="dim", highlight=False, markup=False)

    answer = a.ask(question, k=k, on_text=on_text)
    if drafted:
        console_err().print()
    if fmt == "json":
        print_json(answer)
        return
    if fmt == "bibtex":
        typer.echo(a.export_bibtex(answer), nl=False)
        if not answer.references:
            console_err().print(
                f"no cited papers: {answer.reason or 'the answer cites none'}", style="dim", markup=False
            )
        return
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(clean(answer.to_markdown())))
    else:
        typer.echo(clean(answer.to_markdown()))
    if answer.refused and answer.reason:
        console_err().print(answer.reason, style="dim", markup=False, highlight=False)
    elif answer.mode == "extractive":
        why = answer.reason or "extractive mode"
        console_err().print(
            f"extractive answer: quoted source sentences ({why})", style="dim", markup=False, highlight=False
        )


def register(app: typer.Typer) -> None:
    app.command()(command(ask))
