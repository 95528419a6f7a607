"""The CLI on the real bundled embedder and a real Chroma store: commands, JSON contract, errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from assistant.cli import app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    base = tmp_path_factory.mktemp("cli")
    return {
        "REVIEW_PATHS__STORE": str(base / "store"),
        "REVIEW_PATHS__CACHE": str(base / "cache"),
        "REVIEW_CONFIG": str(base / "absent.toml"),
    }


def run(env, *args):
    result = CliRunner().invoke(app, list(args), env=env)
    return result


def test_search_on_a_named_store_needs_an_ingest_then_prints_json(env):
    missing = run(env, "search", "merging")
    assert missing.exit_code == 1 and "no index at" in missing.output and "review ingest" in missing.output
    assert run(env, "ingest").exit_code == 0
    result = run(
        env,
        "search",
        "combining the weights of several fine-tuned models into one multi-task model",
        "-k",
        "10",
        "--json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["query"].startswith("combining the weights")
    hits = data["hits"]
    assert len(hits) == 10
    for hit in hits:
        assert {"paper_id", "title", "score", "passages"} <= hit.keys()
        for p in hit["passages"]:
            assert {"text", "sentence_start", "sentence_end"} <= p.keys()
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)
    # the merging papers, found without the word "merge"
    found = {h["paper_id"] for h in hits}
    assert {"breadcrumbs-2023", "knowledge-composition-2024", "task-arithmetic-2023"} <= found


def test_ingest_again_is_incremental(env):
    result = run(env, "ingest", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["papers_seen"] == 240 and report["unchanged"] == 240 and report["chunks_embedded"] == 0


def test_stats_and_show(env):
    stats = json.loads(run(env, "stats", "--json").stdout)
    assert stats["papers"] == 240 and stats["embedder"] == "all-MiniLM-L6-v2" and stats["dimension"] == 384
    shown = run(env, "show", "breadcrumbs-2023")
    assert shown.exit_code == 0 and "Model Breadcrumbs" in shown.stdout and "2023-12-11" in shown.stdout
    paper = json.loads(run(env, "show", "breadcrumbs-2023", "--json").stdout)
    assert paper["id"] == "breadcrumbs-2023" and paper["abstract"].startswith("The rapid development")


def test_user_corpus_added_incrementally(env, tmp_path):
    jsonl = tmp_path / "mine.jsonl"
    jsonl.write_text(
        json.dumps(
            {
                "title": "Quokka Pruning of Transformers",
                "abstract": "We prune transformers with quokkas. It works well.",
                "year": 2025,
            }
        )
        + "\n"
    )
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@article{wombat2024,\n  title = {Wombat Distillation},\n  abstract = {Wombats distil large models into small ones.},\n  year = {2024}\n}\n"
    )
    result = run(env, "ingest", str(jsonl), str(bib), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["added"] == 2
    hits = json.loads(run(env, "search", "quokka pruning", "-k", "1", "--json").stdout)["hits"]
    assert hits[0]["title"] == "Quokka Pruning of Transformers"
    assert json.loads(run(env, "stats", "--json").stdout)["papers"] == 242


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"title": "A", "abstract": "B."}\n{not json\n', ":2:"),
        ('{"title": "A"}\n', ":1:"),
    ],
)
def test_bad_jsonl_is_one_clear_line_and_writes_nothing(env, tmp_path, content, expected):
    before = json.loads(run(env, "stats", "--json").stdout)["papers"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content)
    result = run(env, "ingest", "--strict", str(bad))
    assert result.exit_code == 1
    assert "error:" in result.stderr and str(bad) in result.stderr and expected in result.stderr
    assert "Traceback" not in result.output
    assert json.loads(run(env, "stats", "--json").stdout)["papers"] == before


def test_bibtex_without_abstract(env, tmp_path):
    bib = tmp_path / "x.bib"
    bib.write_text("@article{a,\n  title = {Only a title}\n}\n")
    result = run(env, "ingest", "--strict", str(bib))
    assert result.exit_code == 1 and "abstract" in result.stderr and f"{bib}:1" in result.stderr
    # Without --strict the entry is skipped, with a warning naming it; with nothing left to ingest
    # that is an error (exit 1) that says so, not a silent success.
    result = run(env, "ingest", str(bib))
    assert result.exit_code == 1 and f"skipped {bib}:1: entry @article{{a}} has no abstract" in result.stderr
    assert "no papers to ingest" in result.stderr and "every record was skipped" in result.stderr


def test_missing_and_non_utf8_files(env, tmp_path):
    result = run(env, "ingest", str(tmp_path / "nope.jsonl"))
    assert result.exit_code == 1 and "not found" in result.stderr
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes('{"title": "Caf\xe9", "abstract": "x."}\n'.encode("latin-1"))
    result = run(env, "ingest", str(latin))
    assert result.exit_code == 1 and "UTF-8" in result.stderr and str(latin) in result.stderr


def test_empty_query(env):
    result = run(env, "search", "  ")
    assert result.exit_code == 1 and "query is empty" in result.stderr


def test_unknown_paper(env):
    result = run(env, "show", "no-such-paper")
    assert result.exit_code == 1 and "no-such-paper" in result.stderr


def test_other_embedder_is_refused_with_rebuild_hint(env, tmp_path):
    import shutil

    from assistant.bundled import bundled_embedder_path

    # the same weights under another name count as another embedder
    other = tmp_path / "renamed-minilm"
    shutil.copytree(bundled_embedder_path(), other)
    result = run(env, "--embedder", str(other), "search", "merging")
    assert result.exit_code == 1 and "--rebuild" in result.stderr and "all-MiniLM-L6-v2" in result.stderr


def test_missing_embedder_model(env):
    result = run(env, "--embedder", "/nonexistent/model-dir", "search", "merging")
    assert result.exit_code == 1 and "cannot load embedder" in result.stderr


def test_config_shows_sources(env):
    result = run({**env, "REVIEW_RETRIEVAL__K": "7"}, "config", "--json")
    rows = {r["name"]: r for r in json.loads(result.stdout)["settings"]}
    assert rows["retrieval.k"]["value"] == 7 and rows["retrieval.k"]["source"] == "env REVIEW_RETRIEVAL__K"
    assert rows["paths.store"]["source"] == "env REVIEW_PATHS__STORE"


def test_invalid_setting_is_one_line(env):
    result = run({**env, "REVIEW_RETRIEVAL__K": "zero"}, "search", "x")
    assert result.exit_code == 1 and "retrieval.k" in result.stderr


def test_ask_on_a_terminal_prints_no_draft_header_when_nothing_is_drafted(env):
    """On a terminal the draft streams to stderr under a header; an extractive answer drafts
    nothing, so neither header nor draft appears (stdout is a real pty here, stderr a pipe)."""
    import os
    import subprocess
    import sys

    assert run(env, "ingest").exit_code == 0  # the module's store (usually there already)
    leader, follower = os.openpty()
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "assistant",
                "ask",
                "which methods merge fine-tuned models?",
                "--mode",
                "extractive",
            ],
            stdout=follower,
            stderr=subprocess.PIPE,
            env={**os.environ, **env},
            timeout=300,
            check=False,
        )
        os.set_blocking(leader, False)
        shown = b""
        try:
            while chunk := os.read(leader, 65536):
                shown += chunk
        except (BlockingIOError, OSError):
            pass
    finally:
        os.close(leader)
        os.close(follower)
    stderr = proc.stderr.decode()
    assert proc.returncode == 0, stderr
    assert "draft (checking follows)" not in stderr
    assert "extractive answer" in stderr
    assert b"[1]" in shown


def test_a_closed_pipe_is_not_an_error(capsys):
    """`review search ... | head -1`: the reader going away ends the command quietly, exit 0."""
    import typer

    from assistant.cli.common import command

    @command
    def writes_to_a_closed_pipe():
        raise BrokenPipeError(32, "Broken pipe")

    with pytest.raises(typer.Exit) as exit_info:
        writes_to_a_closed_pipe()
    assert exit_info.value.exit_code == 0
    assert "unexpected" not in capsys.readouterr().err


def test_help_paragraphs_are_wrapped_by_the_terminal_not_the_docstring():
    from assistant.cli.common import unwrap_help

    doc = """First line.

    A paragraph written
    over two lines.

    Examples:

      review ask "x"
      review ask "y"
    """
    assert unwrap_help(doc) == 'First line.\n\nA paragraph written over two lines.\n\nExamples:\n\n  review ask "x"\n  review ask "y"'
    out = CliRunner().invoke(app, ["config", "--help"], env={"COLUMNS": "200"}).output
    assert "under [section]" in out  # not eaten as rich markup
    out = CliRunner().invoke(app, ["ask", "--help"], env={"COLUMNS": "200"}).output
    assert "(findings first, one per paper first, as many as are on point)" in out
