"""`review eval`: metric functions on hand-made cases, the report schema, the threshold exit
code, and --quick end to end on the real bundled models."""

from __future__ import annotations

import json
import math

import pytest
from conftest import KeywordJudge
from typer.testing import CliRunner

from assistant.evaluation import alce, check_thresholds, compare_markdown, retrieval_metrics, roc_auc, to_markdown
from assistant.evaluation.metrics import accuracies

SOURCES = {"a": "AA and BB are shown.", "b": "CC is shown.", "c": "DD is shown.", "d": "BB alone."}


def _one(statement, cited):
    return alce([(statement, cited)], SOURCES, KeywordJudge(), 0.5)[0]


def test_alce_no_citation_scores_zero_recall_and_no_precision():
    v = _one("AA holds", [])
    assert v.recall == 0 and v.citations == [] and v.why == "no citation"


def test_alce_citation_that_alone_supports():
    v = _one("AA holds", ["a"])
    assert v.recall == 1 and [c.precise for c in v.citations] == [True]


def test_alce_over_citation_marks_the_irrelevant_citation():
    v = _one("AA holds", ["a", "b"])  # b adds nothing: a alone supports it
    assert v.recall == 1
    assert [c.precise for c in v.citations] == [True, False]
    assert "irrelevant" in v.citations[1].why


def test_alce_citations_needed_together_are_both_precise():
    v = _one("AA and CC hold", ["a", "b"])  # neither alone, both together
    assert v.recall == 1 and [c.precise for c in v.citations] == [True, True]


def test_alce_redundant_citations_each_supporting_alone_are_precise():
    v = _one("BB holds", ["a", "d"])
    assert v.recall == 1 and [c.precise for c in v.citations] == [True, True]


def test_alce_unsupported_statement_scores_zero_on_both():
    v = _one("EE holds", ["a", "b"])
    assert v.recall == 0 and not any(c.precise for c in v.citations)


def test_alce_citation_outside_the_sources_supports_nothing():
    v = _one("AA holds", ["zz"])
    assert v.recall == 0 and v.citations[0].why == "not a source"


def test_retrieval_metrics_known_values():
    m = retrieval_metrics(["x", "r1", "y", "r2"], {"r1", "r2"})
    assert m["recall@5"] == 1.0 and m["mrr"] == 0.5
    ideal = 1 + 1 / math.log2(3)
    assert m["ndcg@10"] == pytest.approx((1 / math.log2(3) + 1 / math.log2(5)) / ideal)
    assert retrieval_metrics(["x"], {"r"})["mrr"] == 0.0
    with pytest.raises(ValueError):
        retrieval_metrics(["x"], set())


def test_auc_and_accuracies():
    assert roc_auc([1, 0, 1, 0], [0.9, 0.1, 0.8, 0.2]) == 1.0
    assert roc_auc([1, 0], [0.5, 0.5]) == 0.5
    assert math.isnan(roc_auc([1, 1], [0.2, 0.3]))
    acc, bal = accuracies([1, 1, 1, 0], [0.9, 0.9, 0.9, 0.9], 0.5)
    assert acc == 0.75 and bal == 0.5


def _report(**metrics):
    return {
        "schema": "review-eval/1",
        "created": "2026-11-23T00:00:00+00:00",
        "quick": True,
        "parts": ["citations"],
        "meta": {
            "fingerprint": "abc",
            "mode": "auto",
            "corpus": {"papers": 240, "chunks": 1052},
            "embedder": {"name": "e", "sha256": "1"},
            "judge": {"kind": "cross-encoder", "threshold": 0.5},
            "llm": {"name": "m"},
        },
        "results": {"citations": {"metrics": metrics, "n": 1, "seconds": 1.0, "failures": [], "failures_total": 0}},
        "thresholds": [],
        "passed": True,
        "seconds": 1.0,
    }


def test_thresholds_floor_and_ceiling():
    results = _report(alce_recall=0.7, false_refusal_rate=0.5)["results"]
    rows = check_thresholds(
        results, {"citations.alce_recall": 0.8, "outline.f1": 0.1}, {"citations.false_refusal_rate": 0.25}
    )
    by = {r["metric"]: r for r in rows}
    assert set(by) == {"citations.alce_recall", "citations.false_refusal_rate"}  # parts not run are not checked
    assert not by["citations.alce_recall"]["passed"] and not by["citations.false_refusal_rate"]["passed"]
    missing = check_thresholds(results, {"citations.key_fact_coverage": 0.1}, {})
    assert not missing[0]["passed"]  # a metric that could not be measured does not pass


def test_markdown_and_compare_render():
    a, b = _report(alce_recall=0.9), _report(alce_recall=0.8)
    md = to_markdown(a)
    assert md.startswith("# review eval (quick): PASSED") and "alce_recall (judge-scored)" in md
    table = compare_markdown([("a", a), ("b", b)])
    assert "| citations.alce_recall | 0.900 | 0.800 (-0.100) |" in table


def test_compare_command_and_bad_report(tmp_path):
    from assistant.cli import app

    (tmp_path / "a.json").write_text(json.dumps(_report(alce_recall=0.9)))
    (tmp_path / "b.json").write_text(json.dumps(_report(alce_recall=0.95)))
    (tmp_path / "bad.json").write_text("{not json")
    runner = CliRunner()
    ok = runner.invoke(app, ["eval", "--compare", str(tmp_path / "a.json"), str(tmp_path / "b.json")])
    assert ok.exit_code == 0 and "+0.050" in ok.stdout
    bad = runner.invoke(app, ["eval", "--compare", str(tmp_path / "a.json"), str(tmp_path / "bad.json")])
    assert bad.exit_code == 1 and "is not JSON" in bad.output
    one = runner.invoke(app, ["eval", "--compare", str(tmp_path / "a.json")])
    assert one.exit_code == 1 and "two or more" in one.output


REPORT_KEYS = {"schema", "created", "quick", "parts", "meta", "results", "thresholds", "passed", "seconds"}


@pytest.mark.slow
def test_quick_end_to_end_on_the_real_bundled_models(real_assistant, tmp_path):
    """`review eval --quick` with the bundled GGUF, embedder and judge on a real Chroma index:
    the report has its schema, citation validity is 100%, and an impossible threshold exits 3."""
    from assistant.cli import app

    s = real_assistant.settings
    env = {"REVIEW_PATHS__STORE": str(s.paths.store), "REVIEW_PATHS__CACHE": str(s.paths.cache)}
    runner = CliRunner()
    out = tmp_path / "eval.json"
    md = tmp_path / "eval.md"
    result = runner.invoke(app, ["eval", "--quick", "--json-file", str(out), "--report", str(md)], env=env)
    assert result.exit_code in (0, 3), result.output
    report = json.loads(out.read_text())
    assert REPORT_KEYS <= report.keys() and report["schema"] == "review-eval/1"
    assert set(report["results"]) == {"judge", "retrieval", "relevance", "citations", "outline"}
    meta = report["meta"]
    assert meta["corpus"]["papers"] == 240 and len(meta["fingerprint"]) == 12
    assert meta["llm"]["sha256"] and len(meta["llm"]["sha256"]) == 64
    assert meta["embedder"]["sha256"] and meta["judge"]["sha256"]
    cites = report["results"]["citations"]["metrics"]
    assert cites["citation_validity"] == 1.0 and cites["citations"] > 0
    assert report["results"]["citations"]["n"] == 8  # 2 per question type
    assert report["results"]["judge"]["metrics"]["project_test_auc"] > 0.5
    for part in report["results"].values():
        assert part["seconds"] >= 0 and isinstance(part["failures"], list)
        for f in part["failures"]:
            assert f["why"]
    assert md.read_text().startswith("# review eval (quick)")
    # an impossible floor gates: exit code 3 and the metric named on stderr
    strict = {**env, "REVIEW_EVAL__MIN": json.dumps({"retrieval.mrr": 1.01})}
    gated = runner.invoke(app, ["eval", "--quick", "--only", "retrieval", "--json"], env=strict)
    assert gated.exit_code == 3, gated.output
    assert "retrieval.mrr" in gated.output


@pytest.mark.slow
def test_eval_runs_on_a_bundled_index_when_the_configured_one_lacks_the_gold_papers(real_assistant, tmp_path):
    from assistant import Assistant, Settings

    assert real_assistant._eval_assistant() is real_assistant
    corpus = tmp_path / "mine.jsonl"
    corpus.write_text(json.dumps({"title": "A study of sourdough", "abstract": "We bake bread. It rises well."}) + "\n")
    cache = real_assistant.settings.paths.cache
    mine = Assistant(Settings(paths={"store": str(tmp_path / "store"), "cache": str(cache), "corpus": [str(corpus)]}))
    mine.ingest()  # a named store is never built implicitly
    other = mine._eval_assistant()
    assert other is not mine and other.settings.paths.store == cache / "eval-index"
    assert other.settings.paths.corpus == []  # the bundled corpus


def test_missing_model_is_one_clear_line_before_any_work(tmp_path, monkeypatch):
    from assistant.cli import app

    monkeypatch.setenv("REVIEW_CONFIG", str(tmp_path / "absent.toml"))
    env = {"REVIEW_PATHS__STORE": str(tmp_path / "store"), "REVIEW_PATHS__CACHE": str(tmp_path / "cache")}
    result = CliRunner().invoke(app, ["eval", "--quick", "--model", str(tmp_path / "nope.gguf")], env=env)
    assert result.exit_code == 1
    assert "GGUF model not found" in result.output and "--model" in result.output
    assert not (tmp_path / "store").exists()  # no index was built first


def test_unknown_part_is_a_clear_error(tmp_path):
    from assistant.errors import ConfigError
    from assistant.evaluation import run_eval

    with pytest.raises(ConfigError, match="unknown eval part"):
        run_eval(object(), only=["citatons"])
