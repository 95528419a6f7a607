"""`review search` and `review show`."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import clean, command, print_json, state


def search(
    query: Annotated[str, typer.Argument(help="What to look for, in your own words.")],
    k: Annotated[
        int | None,
        typer.Option("-k", "--k", help="Number of papers (default: retrieval.k = 10).", show_default=False, min=1),
    ] = None,
    rerank: Annotated[
        bool | None,
        typer.Option(
            "--rerank/--no-rerank",
            help="Rescore the top papers with the relevance model (default: retrieval.rerank, off).",
            show_default=False,
        ),
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON: {query, hits}, best first.")
    ] = False,
) -> None:
    """Rank papers for a query (dense + BM25, fused), with their best passages.

    Examples:

      review search "methods that merge fine-tuned models" -k 10

      review search "reward hacking in RLHF" --json

      review search "does RL help knowledge recall?" --rerank
    """
    result = state.assistant().search(query, k, rerank=rerank)
    if json_out:
        print_json(result)
        return
    if not result.hits:
        typer.echo("no matching papers")
    for i, hit in enumerate(result.hits, 1):
        date = f" ({hit.date})" if hit.date else ""
        typer.secho(clean(f"{i:>2}. {hit.title}{date}"), bold=True)
        rel = f"  relevance {hit.relevance:.2f}" if hit.relevance is not None else ""
        typer.echo(f"    {hit.paper_id}  score {hit.score:.4f}{rel}")
        for p in hit.passages[:1]:
            text = p.text if len(p.text) <= 300 else p.text[:297] + "..."
            typer.echo(clean(f"    [s{p.sentence_start + 1}-{p.sentence_end}] {text}"))


def show(
    paper_id: Annotated[str, typer.Argument(help="Paper id, as printed by search.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print the paper as JSON.")] = False,
) -> None:
    """One paper: title, date, source, abstract.

    Example: review show breadcrumbs-2023
    """
    paper = state.assistant().paper(paper_id)
    if json_out:
        print_json(paper)
        return
    # Corpus text is data: a title's escape sequences must not drive the user's terminal.
    typer.secho(clean(paper.title), bold=True)
    meta = [paper.id]
    if paper.when:
        meta.append(paper.when)
    if paper.organization:
        meta.append(paper.organization)
    elif paper.author_count:
        meta.append(f"{paper.author_count} authors")
    if paper.upvotes is not None:
        meta.append(f"{paper.upvotes} upvotes")
    typer.echo(clean(" | ".join(meta)))
    typer.echo(clean("sources: " + ", ".join(paper.sources)))
    typer.echo("")
    typer.echo(clean(paper.abstract))


def register(app: typer.Typer) -> None:
    app.command()(command(search))
    app.command()(command(show))
