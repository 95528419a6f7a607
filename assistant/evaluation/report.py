"""The `review eval` report as Markdown, and a table comparing saved reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .suite import JUDGED, SCHEMA

__all__ = ["compare_markdown", "load_report", "to_markdown"]

_HEADLINES = {
    "judge": [
        "project_test_auc",
        "project_test_cosine_auc",
        "project_test_balanced_accuracy",
        "scifact_auc",
        "scifact_cosine_auc",
        "healthver_auc",
        "healthver_cosine_auc",
        "climate_fever_auc",
        "climate_fever_cosine_auc",
    ],
    "retrieval": ["recall@5", "recall@10", "recall@20", "ndcg@10", "mrr"],
    "relevance": [
        "test_first_stage_ndcg@10",
        "test_reranked_ndcg@10",
        "test_cosine_reranked_ndcg@10",
        "test_first_stage_mrr",
        "test_reranked_mrr",
        "test_cosine_reranked_mrr",
        "test_first_stage_recall@10_thematic_comparative",
        "test_reranked_recall@10_thematic_comparative",
        "test_cosine_reranked_recall@10_thematic_comparative",
    ],
    "citations": [
        "test_key_fact_coverage",
        "test_refusal_accuracy",
        "test_false_refusal_rate",
        "test_on_point_rate",
        "test_statements_per_answer",
        "test_broad_relevant_cited",
        "test_relevant_paper_precision",
        "citation_validity",
        "alce_recall",
        "alce_precision",
        "alce_recall_before_check",
        "alce_precision_before_check",
        "unsupported_rate",
        "refusal_accuracy",
        "false_refusal_rate",
        "key_fact_coverage",
    ],  # fmt: skip
    "outline": [
        "test_coverage",
        "test_on_topic_precision",
        "test_f1",
        "tune_coverage",
        "tune_on_topic_precision",
        "tune_f1",
        "precision",
        "recall",
        "f1",
        "coverage",
        "coherence",
    ],
}


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _judge_note(report: dict) -> str:
    judge = report["results"].get("judge", {}).get("metrics", {})
    bits = []
    if judge.get("project_test_auc") is not None:
        bits.append(f"AUC {judge['project_test_auc']:.2f} on {judge['project_test_pairs']} frozen project test pairs")
    if judge.get("scifact_auc") is not None:
        bits.append(f"AUC {judge['scifact_auc']:.2f} on {judge['scifact_pairs']} SciFact pairs")
    return "; ".join(bits) or "not validated in this run (add the judge part)"


def to_markdown(report: dict) -> str:
    """Headline table per part, thresholds, timings, and per-item failure detail."""
    meta = report["meta"]
    llm = meta.get("llm") or {}
    lines = [
        f"# review eval{' (quick)' if report['quick'] else ''}: {'PASSED' if report['passed'] else 'FAILED'}",
        "",
        f"- created {report['created']}, {report['seconds']:.0f} s, settings fingerprint `{meta['fingerprint']}`, mode {meta['mode']}",
        f"- corpus: {meta['corpus']['papers']} papers, {meta['corpus']['chunks']} chunks",
        f"- embedder: {meta['embedder']['name']} (sha256 {str(meta['embedder'].get('sha256'))[:12]})",
        f"- LLM: {llm.get('name', 'none (extractive)')}"
        + (f" (sha256 {str(llm.get('sha256'))[:12]})" if llm.get("sha256") else "")
        + (f" at {llm['url']}" if llm.get("url") else ""),
        f"- support judge: {meta['judge']['kind']} (sha256 {str(meta['judge'].get('sha256'))[:12]}), threshold "
        f"{meta['judge']['threshold']}; {_judge_note(report)}",
        "",
    ]
    for part, result in report["results"].items():
        lines += [f"## {part} ({result['n']} items, {result['seconds']:.1f} s)", "", "| metric | value |", "|---|---|"]
        shown = _HEADLINES.get(part, []) + [k for k in result["metrics"] if k not in _HEADLINES.get(part, [])]
        for key in shown:
            if key in result["metrics"]:
                value = result["metrics"][key]
                mark = " (judge-scored)" if key in JUDGED else ""
                lines.append(f"| {key}{mark} | {_fmt(value)} |")
        if any(k in JUDGED for k in result["metrics"]):
            lines += ["", f"_Judge-scored metrics are as trustworthy as the judge: {_judge_note(report)}._"]
        lines.append("")
    if report["thresholds"]:
        lines += ["## thresholds", "", "| metric | value | bound | |", "|---|---|---|---|"]
        for row in report["thresholds"]:
            sign = ">=" if row["direction"] == "min" else "<="
            lines.append(
                f"| {row['metric']} | {_fmt(row['value'])} | {sign} {row['bound']} | {'ok' if row['passed'] else 'FAIL'} |"
            )
        lines.append("")
    for part, result in report["results"].items():
        if not result["failures"]:
            continue
        more = result["failures_total"] - len(result["failures"])
        lines += [f"## failures: {part} ({result['failures_total']})", ""]
        for f in result["failures"]:
            where = f.get("id") or f.get("topic") or f.get("set", "")
            what = f.get("statement") or f.get("key_fact") or f.get("question") or ", ".join(f.get("missed", [])[:10])
            cite = f" [{f['citation']}]" if f.get("citation") else ""
            lines.append(f"- `{where}` {what[:160]}{cite}: {f['why']}")
        if more > 0:
            lines.append(f"- ... {more} more in the JSON report")
        lines.append("")
    return "\n".join(lines)


def load_report(path: str | Path) -> dict:
    """A saved JSON report; ConfigError when it is not one."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"no such report: {path}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not JSON ({exc.msg}): pass files written by `review eval --json`") from exc
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ConfigError(f"{path} is not a review eval report (schema {SCHEMA})")
    return data


def compare_markdown(reports: list[tuple[str, dict]]) -> str:
    """One row per metric, one column per report (with the change from the first)."""
    names = [name for name, _ in reports]
    head = "| metric | " + " | ".join(names) + " |"
    lines = [head, "|---" * (len(names) + 1) + "|"]
    lines.append("| fingerprint | " + " | ".join(f"`{r['meta']['fingerprint']}`" for _, r in reports) + " |")
    lines.append(
        "| LLM | " + " | ".join(str((r["meta"].get("llm") or {}).get("name", "none")) for _, r in reports) + " |"
    )
    lines.append(
        "| mode | " + " | ".join(r["meta"]["mode"] + (" quick" if r["quick"] else "") for _, r in reports) + " |"
    )
    keys: list[str] = []
    for _, r in reports:
        for part, result in r["results"].items():
            for k, v in result["metrics"].items():
                if isinstance(v, int | float) and f"{part}.{k}" not in keys:
                    keys.append(f"{part}.{k}")
    for key in keys:
        part, _, metric = key.partition(".")
        values = [r["results"].get(part, {}).get("metrics", {}).get(metric) for _, r in reports]
        cells = []
        for i, v in enumerate(values):
            cell = _fmt(v)
            if i and isinstance(v, int | float) and isinstance(values[0], int | float) and v != values[0]:
                delta = v - values[0]
                cell += f" ({delta:+d})" if isinstance(delta, int) else f" ({delta:+.3f})"
            cells.append(cell)
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    lines.append("| seconds | " + " | ".join(f"{r['seconds']:.0f}" for _, r in reports) + " |")
    lines.append("| passed | " + " | ".join("yes" if r["passed"] else "no" for _, r in reports) + " |")
    return "\n".join(lines) + "\n"
