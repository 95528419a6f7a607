"""`review eval`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .common import command, console_err, fail, print_json, progress_bar, state

THRESHOLD_EXIT = 3


def eval_(
    reports: Annotated[
        list[Path] | None, typer.Argument(help="With --compare: saved JSON reports to compare.", show_default=False)
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="A small subset (2 questions per type, 1 outline topic).")
    ] = False,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="A .gguf file to evaluate (default: the configured model).")
    ] = None,
    url: Annotated[str | None, typer.Option(help="Evaluate an OpenAI-compatible server instead.")] = None,
    mode: Annotated[
        str | None, typer.Option(help="auto | generative | extractive (default: llm.mode = auto).", show_default=False)
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(help="Run one part: judge, retrieval, citations, outline (repeatable).", show_default=False),
    ] = None,
    report: Annotated[Path | None, typer.Option(help="Write the Markdown report to this file.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON instead of Markdown.")] = False,
    json_file: Annotated[
        Path | None, typer.Option("--json-file", help="Also write the JSON report to this file.", show_default=False)
    ] = None,
    compare: Annotated[bool, typer.Option("--compare", help="Compare saved JSON reports instead of running.")] = False,
) -> None:
    """Measure citation faithfulness, retrieval, outline quality and the support judge.

    Prints the Markdown report (stdout) with progress bars (stderr). Exit code 3 when a
    metric misses its threshold (eval.min / eval.max in settings), 1 on errors, 0 otherwise.

    Examples:

      review eval                       # full suite, bundled corpus, configured model

      review eval --quick               # the CI subset

      review eval --model other.gguf --report eval.md --json-file eval.json
      review eval --quick --json           # the report as JSON on stdout

      review eval --only citations --mode extractive

      review eval --compare base.json other.json
    """
    from ..evaluation import compare_markdown, load_report

    if compare:
        if not reports or len(reports) < 2:
            fail("--compare needs two or more JSON reports: review eval --compare a.json b.json")
        loaded = [(p.stem, load_report(p)) for p in reports]
        typer.echo(compare_markdown(loaded), nl=False)
        return
    if reports:
        fail(f"unexpected argument {reports[0]}: report files are read only with --compare")
    state.override("llm", "model", model)
    state.override("llm", "url", url)
    a = state.assistant()
    bars: dict[str, object] = {}

    def progress(part: str, done: int, total: int) -> None:
        bar = bars.setdefault(part, progress_bar(f"eval {part}"))
        bar(done, total)

    result = a.evaluate(quick=quick, only=only, mode=mode, progress=progress)
    markdown = result.to_markdown()
    if report:
        report.write_text(markdown, encoding="utf-8")
        console_err().print(f"wrote {report}", style="dim", markup=False, highlight=False)
    if json_file:
        json_file.write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        console_err().print(f"wrote {json_file}", style="dim", markup=False, highlight=False)
    if json_out:
        print_json(result)
    else:
        typer.echo(markdown)
    if not result.passed:
        failed = ", ".join(f"{r.metric}={r.value}" for r in result.thresholds if not r.passed)
        console_err().print(f"[red]below threshold:[/red] {failed}", highlight=False)
        raise typer.Exit(THRESHOLD_EXIT)


def register(app: typer.Typer) -> None:
    app.command("eval")(command(eval_))
