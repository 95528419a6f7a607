"""`review eval`: the citation-faithfulness suite, run against an Assistant on the bundled corpus.

Parts (each can run alone with ``only``):

- ``judge``: the support judge against labelled (statement, source) pairs: this project's and,
  when present, SciFact train. Every judge-scored metric in the report is printed next to it.
- ``retrieval``: recall@5/10/20, nDCG@10, MRR of `search` on the answerable gold questions.
- ``relevance``: the relevance model as a reranker of the hybrid top ``retrieval.rerank_top``:
  nDCG@10, MRR and recall@10 per split (the frozen test half is the headline) against the
  first-stage order and against cosine similarity reranking the same hits.
- ``citations``: `ask` on the gold questions: citation validity, ALCE citation recall and
  precision (on the answer a user sees, and on the model's statements before the check),
  unsupported-statement rate, refusal accuracy, false refusals, key-fact coverage.
- ``outline``: node-path P/R/F1, coverage and sibling coherence against the gold hierarchies.
"""

from __future__ import annotations

import hashlib
import math
import platform
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import ConfigError, QueryError
from . import gold
from .metrics import accuracies, alce, mean, retrieval_metrics, roc_auc
from .outline_metrics import score_outline

__all__ = ["PARTS", "SCHEMA", "check_thresholds", "run_eval"]

PARTS = ("judge", "retrieval", "relevance", "citations", "outline")
SCHEMA = "review-eval/1"
#: Metrics computed with the support judge: the report prints the judge's validation beside them.
JUDGED = {"alce_recall", "alce_precision", "alce_recall_before_check", "alce_precision_before_check",
          "unsupported_rate", "key_fact_coverage", "test_key_fact_coverage", "tune_key_fact_coverage",
          "test_on_point_rate", "tune_on_point_rate"}  # fmt: skip

Progress = Callable[[str, int, int], None]
#: Citation failures, most serious first.
FAILURE_ORDER = ("invalid_citation", "answered_unanswerable", "refused_answerable", "alce_recall",
                 "imprecise_citation", "removed_by_check", "key_fact_missed")  # fmt: skip


def _sha256(path: Path | None) -> str | None:
    if path is None or not Path(path).is_file():
        return None
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def _meta(assistant, mode: str, parts: list[str]) -> dict[str, Any]:
    """Settings fingerprint, model names and file hashes, corpus size."""
    from importlib.metadata import PackageNotFoundError, version

    s = assistant.settings
    stats = assistant.stats()
    embedder = assistant.index.embedder
    # The model's own folder (an ONNX embedder's path is its export in the cache).
    emb_path = Path(getattr(embedder, "model_dir", None) or getattr(embedder, "path", "") or "")
    emb_file = next(iter(sorted(emb_path.glob("*.safetensors"))), None) if emb_path.is_dir() else None
    meta: dict[str, Any] = {
        "fingerprint": s.fingerprint(),
        "mode": mode,
        "embedder": {
            "name": getattr(embedder, "name", s.embedding.model),
            "file": str(emb_file) if emb_file else None,
            "sha256": _sha256(emb_file),
        },  # fmt: skip
        "judge": {"kind": s.judge.kind, "threshold": s.judge.threshold},
        "corpus": {"papers": stats.papers, "chunks": stats.chunks},
        "python": platform.python_version(),
    }
    try:
        meta["review"] = version("review")
    except PackageNotFoundError:
        meta["review"] = None
    if s.judge.kind == "cross-encoder":
        from ..judge import ARTIFACT_DIR

        meta["judge"]["sha256"] = _sha256(Path(ARTIFACT_DIR) / "adapter.safetensors")
    if "citations" in parts or "outline" in parts:
        if mode == "extractive":
            meta["llm"] = None
        elif s.llm.url:
            meta["llm"] = {"url": s.llm.url, "name": s.llm.api_model}
        else:
            llm = assistant.llm
            path = getattr(llm, "path", None)
            meta["llm"] = {"name": getattr(llm, "name", None), "file": str(path) if path else None, "sha256": _sha256(path),
                           "gpu_offload": getattr(llm, "gpu", None)}  # fmt: skip
    return meta


def _select_questions(questions: list[gold.GoldQuestion], per_type: int) -> list[gold.GoldQuestion]:
    seen: Counter = Counter()
    out = []
    for q in questions:
        if seen[q.type] < per_type:
            out.append(q)
            seen[q.type] += 1
    return out


# -- parts -------------------------------------------------------------------------------------


def _cosine_baseline(judge):
    """The plain-similarity baseline every judged figure is printed beside (None for a fake judge)."""
    if hasattr(judge, "max_cosine"):
        return judge
    return getattr(judge, "similarity", None)


def _judge_part(assistant, folder: Path, quick: bool, progress: Progress) -> dict:
    s = assistant.settings
    abstracts = {p.title: p.abstract for p in assistant.index.papers()}
    project, partial = gold.judge_cases(folder, abstracts)
    # The frozen test half is the headline; the tuning half is shown apart, never mixed in.
    sets = {
        "project_test": [c for c in project if c.split == "test"],
        "project_tune": [c for c in project if c.split != "test"],
    }
    if not quick:
        sets["scifact"] = gold.scifact_pairs(s.eval.scifact_dir, s.eval.scifact_pairs)
        sets.update(gold.external_judge_sets(s.eval.nli_dir, s.eval.external_pairs))
    judge = assistant.judge
    baseline = _cosine_baseline(judge)
    metrics: dict[str, Any] = {}
    failures = []
    total = sum(len(v) for v in sets.values()) + len(partial)
    done = 0
    for name, cases in sets.items():
        if not cases:
            metrics[f"{name}_pairs"] = 0
            continue
        scores = []
        for i in range(0, len(cases), 32):
            batch = cases[i : i + 32]
            scores += judge.score([(c.source, c.statement) for c in batch])
            done += len(batch)
            progress("judge", done, total)
        y = [c.label for c in cases]
        acc, bal = accuracies(y, scores, s.judge.threshold)
        auc = roc_auc(y, scores)
        metrics.update({f"{name}_pairs": len(cases), f"{name}_accuracy": round(acc, 4),
                        f"{name}_balanced_accuracy": round(bal, 4), f"{name}_auc": None if math.isnan(auc) else round(auc, 4)})  # fmt: skip
        if baseline is not None:
            cos = baseline.max_cosine([(c.source, c.statement) for c in cases])
            cos_auc = roc_auc(y, cos)
            metrics[f"{name}_cosine_auc"] = None if math.isnan(cos_auc) else round(cos_auc, 4)
        if not name.startswith("project"):
            continue
        for c, sc in zip(cases, scores):
            if (sc >= s.judge.threshold) != bool(c.label):
                failures.append({"set": name, "statement": c.statement, "paper": c.paper, "kind": c.kind,
                                 "label": "supported" if c.label else "unsupported", "score": round(sc, 4),
                                 "why": "judge says supported" if c.label == 0 else "judge says unsupported"})  # fmt: skip
    if partial:
        ps = judge.score([(c.source, c.statement) for c in partial])
        done += len(partial)
        progress("judge", done, total)
        metrics["partial_mean_score"] = mean(ps)
    return {"metrics": metrics, "n": total, "failures": failures}


def _retrieval_part(assistant, questions: list[gold.GoldQuestion], progress: Progress) -> dict:
    rows, failures = [], []
    answerable = [q for q in questions if q.relevant]
    for i, q in enumerate(answerable, 1):
        ranked = [h.paper_id for h in assistant.search(q.question, 20).hits]
        m = retrieval_metrics(ranked, set(q.relevant))
        rows.append(m)
        if m["recall@10"] < 1:
            missed = sorted(set(q.relevant) - set(ranked[:10]))
            failures.append({"id": q.id, "question": q.question, "missed_in_top10": missed,
                             "why": f"{len(missed)} of {len(q.relevant)} relevant papers not in the top 10"})  # fmt: skip
        progress("retrieval", i, len(answerable))
    metrics = {k: mean([r[k] for r in rows]) for k in (rows[0] if rows else {})}
    return {"metrics": metrics, "n": len(rows), "failures": failures}


def _relevance_part(assistant, questions: list[gold.GoldQuestion], progress: Progress) -> dict:
    from ..retrieval import rerank, search

    cfg = assistant.settings.retrieval
    model = assistant.reranker  # what search --rerank runs
    baseline = None
    if getattr(model, "kind", "") == "relevance-model":
        from ..judge.relevance import load_relevance

        baseline = load_relevance("cosine")
    answerable = [q for q in questions if q.relevant]
    rows: dict[tuple[str, str], list[dict]] = {}
    failures = []
    for i, q in enumerate(answerable, 1):
        hits = search(assistant.index, q.question, cfg.rerank_top)
        rankings = {"first_stage": hits, "reranked": rerank(q.question, hits, model, cfg, cfg.rerank_top)}
        if baseline is not None:
            rankings["cosine_reranked"] = rerank(q.question, hits, baseline, cfg, cfg.rerank_top)
        for name, ranked in rankings.items():
            m = retrieval_metrics([h.paper_id for h in ranked], set(q.relevant))
            for split in (q.split, "all"):
                rows.setdefault((split, name), []).append({**m, "type": q.type})
        top = [h.paper_id for h in rankings["reranked"][:10]]
        missed = sorted(set(q.relevant) - set(top))
        if missed:
            failures.append({"id": q.id, "split": q.split, "question": q.question, "missed_in_top10": missed,
                             "why": f"{len(missed)} of {len(q.relevant)} relevant papers not in the reranked top 10"})  # fmt: skip
        progress("relevance", i, len(answerable))
    metrics: dict[str, Any] = {"rerank_top": cfg.rerank_top, "rerank_weight": cfg.rerank_weight}
    for (split, name), rs in sorted(rows.items()):
        metrics[f"{split}_{name}_questions"] = len(rs)
        for key in ("ndcg@10", "mrr", "recall@10"):
            metrics[f"{split}_{name}_{key}"] = round(mean([r[key] for r in rs]), 4)
        broad = [r["recall@10"] for r in rs if r["type"] in ("thematic", "comparative")]
        if broad:
            metrics[f"{split}_{name}_recall@10_thematic_comparative"] = round(mean(broad), 4)
    return {"metrics": metrics, "n": len(answerable), "failures": failures}


def _answer_metrics(split: str, rows: list[dict]) -> dict[str, Any]:
    """Per split: refusals, key facts, statements per answer, on-point rate, papers covered."""
    if not rows:
        return {}
    answerable = [r for r in rows if r["type"] != "unanswerable"]
    unanswerable = [r for r in rows if r["type"] == "unanswerable"]
    answered = [r for r in answerable if not r["refused"]]
    facts = sum(r["key_facts"] for r in answerable)
    rated = [r for r in answered if r["on_point"] is not None and r["statements"]]
    broad = [r for r in answered if r["type"] in ("thematic", "comparative") and r["relevant"]]

    def ratio(a: float, b: float) -> float | None:
        return round(a / b, 4) if b else None

    return {
        f"{split}_questions": len(rows),
        f"{split}_refusal_accuracy": ratio(sum(r["refused"] for r in unanswerable), len(unanswerable)),
        f"{split}_false_refusal_rate": ratio(sum(r["refused"] for r in answerable), len(answerable)),
        f"{split}_key_fact_coverage": ratio(sum(r["key_facts_hit"] or 0 for r in answerable), facts),
        f"{split}_statements_per_answer": ratio(sum(r["statements"] for r in answered), len(answered)),
        f"{split}_on_point_rate": ratio(sum(r["on_point"] for r in rated), sum(r["statements"] for r in rated)),
        f"{split}_answers_with_off_point_statement": sum(r["on_point"] < r["statements"] for r in rated),
        f"{split}_broad_relevant_cited": ratio(sum(r["relevant_cited"] / r["relevant"] for r in broad), len(broad)),
        # Padding, measured against the gold lists (a reader's check, not the model's): the share of
        # statements that cite a paper the gold question lists as relevant.
        f"{split}_relevant_paper_precision": ratio(
            sum(r.get("from_relevant", 0) for r in answered if r["relevant"]),
            sum(r["statements"] for r in answered if r["relevant"]),
        ),
    }


def _citations_part(assistant, questions: list[gold.GoldQuestion], mode: str, progress: Progress) -> dict:
    s = assistant.settings
    threshold = s.judge.threshold
    corpus = {p.id: p.abstract for p in assistant.index.papers()}
    judge = assistant.judge
    valid = cites = 0
    recall: list[float] = []
    precision: list[float] = []
    recall_raw: list[float] = []
    precision_raw: list[float] = []
    before = unsupported = generated = fallbacks = 0
    refused_ok = unanswerable = false_refusals = answerable = 0
    facts_hit = facts = 0
    modes: Counter = Counter()
    failures: list[dict] = []
    per_question: list[dict] = []
    relevance = assistant.relevance
    for i, q in enumerate(questions, 1):
        t = time.perf_counter()
        ans = assistant.ask(q.question, mode=mode)
        prompt = set(ans.sources)
        modes["refused" if ans.refused else ans.mode] += 1
        kept = [st for st in ans.statements if st.supported]
        # validity: every id the answer cites (and every id the model cited before the check)
        for st in ans.statements:
            for c in [*st.citations, *st.dropped_citations]:
                cites += 1
                ok = c in corpus and c in prompt
                valid += ok
                if not ok:
                    failures.append({"kind": "invalid_citation", "id": q.id, "statement": st.text, "citation": c,
                                     "why": "cites a paper that was not among the sources in the prompt"})  # fmt: skip
        before += len(ans.statements)
        generated += sum(st.source == "generated" for st in ans.statements)
        fallbacks += ans.mode == "extractive" and mode != "extractive"
        unsupported += sum(not st.supported for st in ans.statements)
        final = alce([(st.text, st.citations) for st in kept], corpus, judge, threshold)
        raw = alce(
            [(st.text, [*st.citations, *st.dropped_citations]) for st in ans.statements], corpus, judge, threshold
        )
        recall += [v.recall for v in final]
        precision += [float(c.precise) for v in final for c in v.citations]
        recall_raw += [v.recall for v in raw]
        precision_raw += [float(c.precise) for v in raw for c in v.citations]
        for v in final:
            if not v.recall:
                failures.append(
                    {"kind": "alce_recall", "id": q.id, "statement": v.text, "why": f"ALCE recall 0: {v.why}"}
                )
            for c in v.citations if v.recall else []:  # an unsupported statement is reported once, above
                if not c.precise:
                    failures.append(
                        {
                            "kind": "imprecise_citation",
                            "id": q.id,
                            "statement": v.text,
                            "citation": c.paper_id,
                            "why": c.why,
                        }
                    )
        for st in ans.statements:
            if not st.supported:
                failures.append({"kind": "removed_by_check", "id": q.id, "statement": st.text, "citation": ",".join(st.dropped_citations),
                                 "why": f"removed by the check (support {st.support:.2f} < {threshold})"})  # fmt: skip
        hit = None
        if q.answerable:
            answerable += 1
            false_refusals += ans.refused
            if ans.refused:
                failures.append(
                    {
                        "kind": "refused_answerable",
                        "id": q.id,
                        "question": q.question,
                        "why": f"refused an answerable question: {ans.reason}",
                    }
                )
            elif q.key_facts:
                text = " ".join(st.text for st in kept)
                scores = judge.score([(text, f["fact"]) for f in q.key_facts])
                hit = sum(sc >= threshold for sc in scores)
                facts_hit += hit
                for f, sc in zip(q.key_facts, scores):
                    if sc < threshold:
                        failures.append(
                            {
                                "kind": "key_fact_missed",
                                "id": q.id,
                                "key_fact": f["fact"],
                                "why": f"key fact not in the answer (judge {sc:.2f})",
                            }
                        )
            facts += len(q.key_facts)
        else:
            unanswerable += 1
            refused_ok += ans.refused
            if not ans.refused:
                failures.append({"kind": "answered_unanswerable", "id": q.id, "question": q.question, "answer": ans.answer[:300],
                                 "why": "answered a question the corpus does not answer"})  # fmt: skip
        on_point = None
        if kept and relevance is not None:
            rel = [st.relevance for st in kept]
            if any(r is None for r in rel):
                rel = relevance.score(q.question, [st.text for st in kept])
            on_point = sum(r >= s.ask.min_relevance for r in rel)
        cited = {c for st in kept for c in st.citations}
        per_question.append({"id": q.id, "type": q.type, "split": q.split, "mode": ans.mode, "refused": ans.refused,
                             "statements": len(kept), "on_point": on_point, "key_facts": len(q.key_facts),
                             "key_facts_hit": hit, "relevant": len(q.relevant),
                             "relevant_cited": len(cited & set(q.relevant)),
                             "from_relevant": sum(bool(set(st.citations) & set(q.relevant)) for st in kept),
                             "seconds": round(time.perf_counter() - t, 2)})  # fmt: skip
        progress("citations", i, len(questions))
    metrics = {
        "citation_validity": round(valid / cites, 4) if cites else None,
        "citations": cites,
        "alce_recall": mean(recall),
        "alce_precision": mean(precision),
        "alce_recall_before_check": mean(recall_raw),
        "alce_precision_before_check": mean(precision_raw),
        "statements": len(recall),
        "generated_statements": generated,
        "extractive_fallbacks": fallbacks,
        "unsupported_rate": round(unsupported / before, 4) if before else None,
        "refusal_accuracy": round(refused_ok / unanswerable, 4) if unanswerable else None,
        "false_refusal_rate": round(false_refusals / answerable, 4) if answerable else None,
        "key_fact_coverage": round(facts_hit / facts, 4) if facts else None,
        "answer_modes": dict(modes),
    }
    for split in ("test", "tune"):
        metrics.update(_answer_metrics(split, [r for r in per_question if r["split"] == split]))
    order = {k: i for i, k in enumerate(FAILURE_ORDER)}
    failures.sort(key=lambda f: order.get(f["kind"], len(order)))  # the worst first: the report keeps the top
    return {"metrics": metrics, "n": len(questions), "failures": failures, "items": per_question}


def _outline_part(assistant, topics: list[dict], mode: str, progress: Progress) -> dict:
    rows, failures = [], []
    for i, topic in enumerate(topics, 1):
        t = time.perf_counter()
        split = topic.get("split", "tune")
        try:
            outline = assistant.outline(topic["query"], mode=mode)
        except QueryError as exc:
            rows.append({"topic": topic["topic"], "split": split, "precision": 0.0, "recall": 0.0, "f1": 0.0,
                         "coverage": 0.0, "on_topic_precision": 0.0})  # fmt: skip
            failures.append({"topic": topic["topic"], "split": split, "why": str(exc)})
            progress("outline", i, len(topics))
            continue
        scores = score_outline(
            outline.tree.tree_dict(), topic["tree"], in_scope=topic.get("in_scope"), borderline=topic.get("borderline")
        )
        rows.append(
            {
                "topic": topic["topic"],
                "split": split,
                **{k: scores[k] for k in ("precision", "recall", "f1", "coverage", "on_topic_precision", "coherence")},
                "placed": scores["placed"],
                "other": scores["other"],
                "categories": len([c for c in outline.tree.children if c.label_source != "other"]),
                "invariant_violations": len(scores["invariants"]),
                "seconds": round(time.perf_counter() - t, 2),
                "llm_labels": outline.checks.get("labels_llm", 0),
                "llm_labels_rejected": outline.checks.get("labels_llm_rejected", 0),
            }
        )
        if scores["missed"]:
            failures.append({"topic": topic["topic"], "split": split, "missed": scores["missed"],
                             "why": f"{len(scores['missed'])} gold studies not placed"})  # fmt: skip
        if scores["off_topic"]:
            failures.append({"topic": topic["topic"], "split": split, "off_topic": scores["off_topic"],
                             "why": f"{len(scores['off_topic'])} placed studies are not on the topic"})  # fmt: skip
        for problem in [*scores["invariants"], *scores["coherence_problems"]]:
            failures.append({"topic": topic["topic"], "split": split, "why": problem})
        progress("outline", i, len(topics))
    keys = ("precision", "recall", "f1", "coverage", "on_topic_precision")
    built = [r for r in rows if "coherence" in r]
    metrics = {k: mean([r[k] for r in rows]) for k in keys}
    metrics["coherence"] = mean([r["coherence"] for r in built])
    metrics["invariant_violations"] = sum(r.get("invariant_violations", 0) for r in rows)
    for split in ("test", "tune"):
        part = [r for r in rows if r["split"] == split]
        if part:
            metrics[f"{split}_topics"] = len(part)
            metrics.update({f"{split}_{k}": mean([r[k] for r in part]) for k in keys})
    return {"metrics": metrics, "n": len(rows), "failures": failures, "items": rows}


# -- the suite ---------------------------------------------------------------------------------


def check_thresholds(results: dict, floors: dict[str, float], ceilings: dict[str, float]) -> list[dict]:
    """One row per threshold whose part ran: metric, value, bound, direction, passed."""
    rows = []
    for direction, bounds in (("min", floors), ("max", ceilings)):
        for name, bound in bounds.items():
            part, _, metric = name.partition(".")
            if part not in results:
                continue
            value = results[part]["metrics"].get(metric)
            passed = value is not None and (value >= bound if direction == "min" else value <= bound)
            rows.append({"metric": name, "value": value, "bound": bound, "direction": direction, "passed": passed})
    return rows


def run_eval(
    assistant,
    *,
    quick: bool = False,
    only: list[str] | None = None,
    mode: str | None = None,
    progress: Progress | None = None,
) -> dict:
    """Run the suite and return the report (a JSON-ready dict, schema ``review-eval/1``)."""
    unknown = sorted(set(only or []) - set(PARTS))
    if unknown:
        raise ConfigError(f"unknown eval part(s) {', '.join(unknown)}: choose from {', '.join(PARTS)}")
    s = assistant.settings
    parts = [p for p in PARTS if not only or p in only]
    mode = mode or s.llm.mode
    progress = progress or (lambda part, done, total: None)
    folder = gold.data_dir(s.eval.data_dir)
    questions = gold.questions(folder)
    topics = gold.outline_topics(folder)
    if quick:
        questions = _select_questions(questions, s.eval.quick_per_type)
        topics = [t for t in topics if t["topic"] in s.eval.quick_topics] or topics[:1]
    corpus_ids = {p.id for p in assistant.index.papers()}
    missing = sorted({pid for q in questions for pid in q.relevant} - corpus_ids)
    if missing and {"retrieval", "relevance", "citations"} & set(parts):
        raise ConfigError(
            f"the index lacks {len(missing)} gold papers (e.g. {missing[0]}): the gold data is written for the bundled "
            "corpus; run `review --store DIR eval` on an index of it (a new DIR is built automatically)"
        )
    started = time.perf_counter()
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "parts": parts,
        "meta": _meta(assistant, mode, parts),
        "results": {},
    }
    runners = {
        "judge": lambda: _judge_part(assistant, folder, quick, progress),
        "retrieval": lambda: _retrieval_part(assistant, questions, progress),
        "relevance": lambda: _relevance_part(assistant, questions, progress),
        "citations": lambda: _citations_part(assistant, questions, mode, progress),
        "outline": lambda: _outline_part(assistant, topics, mode, progress),
    }
    for part in parts:
        t = time.perf_counter()
        result = runners[part]()
        result["seconds"] = round(time.perf_counter() - t, 2)
        result["failures_total"] = len(result["failures"])
        result["failures"] = result["failures"][: s.eval.max_failures]
        report["results"][part] = result
    report["seconds"] = round(time.perf_counter() - started, 2)
    report["thresholds"] = check_thresholds(report["results"], s.eval.min, s.eval.max)
    report["passed"] = all(row["passed"] for row in report["thresholds"])
    return report
