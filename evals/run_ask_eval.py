"""Faithfulness of `review ask` on the project's gold questions (evals/data/questions.jsonl).

Prints, per mode (auto = bundled model with extractive fallback, extractive): citation validity
(every cited id is a corpus paper that was among the sources in the prompt), ALCE citation
recall and precision as the support judge scores them (Gao et al. 2023), unsupported-statement
rate before the check, refusal accuracy on unanswerable questions, false refusals on answerable
ones, key-fact coverage; and retrieval recall@5/10/20, nDCG@10, MRR against the gold papers.
Run: python evals/run_ask_eval.py [--store DIR] [--modes auto,extractive] [--limit N] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def alce(statements, sources: dict[str, str], judge, threshold: float) -> tuple[list[float], list[float]]:
    """Per-statement ALCE recall (cited sources together support it) and per-citation precision."""
    recall, precision = [], []
    for st in statements:
        cited = [c for c in st["citations"] if c in sources]
        if not cited:
            recall.append(0.0)
            continue
        joint = judge.score([(" ".join(sources[c] for c in cited), st["text"])])[0] >= threshold
        recall.append(1.0 if joint else 0.0)
        alone = judge.score([(sources[c], st["text"]) for c in cited])
        for i, c in enumerate(cited):
            others = [sources[o] for o in cited if o != c]
            if alone[i] >= threshold:
                precision.append(1.0)
            elif others and judge.score([(" ".join(others), st["text"])])[0] >= threshold and joint:
                precision.append(0.0)  # irrelevant: it adds nothing the others do not
            else:
                precision.append(1.0 if joint else 0.0)
    return recall, precision


def retrieval_metrics(ranked: list[str], relevant: set[str]) -> dict[str, float]:
    """recall@5/10/20, nDCG@10, MRR for one query."""
    out = {f"recall@{k}": len(set(ranked[:k]) & relevant) / len(relevant) for k in (5, 10, 20)}
    dcg = sum(1 / math.log2(i + 2) for i, p in enumerate(ranked[:10]) if p in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(10, len(relevant))))
    out["ndcg@10"] = dcg / ideal
    out["mrr"] = next((1 / (i + 1) for i, p in enumerate(ranked) if p in relevant), 0.0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="index directory (default: settings)")
    parser.add_argument("--questions", default=str(HERE / "data" / "questions.jsonl"))
    parser.add_argument("--modes", default="auto,extractive")
    parser.add_argument("--limit", type=int, default=0, help="first N questions only")
    parser.add_argument("--json", help="write results here")
    args = parser.parse_args()

    from assistant import Assistant, Settings

    settings = Settings(paths={"store": args.store}) if args.store else Settings()
    a = Assistant(settings)
    questions = [json.loads(line) for line in Path(args.questions).read_text().splitlines() if line.strip()]
    if args.limit:
        questions = questions[: args.limit]
    corpus = {p.id: p for p in a.index.papers()}
    judge = a.judge
    threshold = settings.judge.threshold
    results: dict = {"questions": len(questions), "modes": {}}

    ret = [
        retrieval_metrics([h.paper_id for h in a.search(q["question"], 20).hits], set(q["relevant"]))
        for q in questions
        if q["relevant"]
    ]
    results["retrieval"] = {k: round(sum(r[k] for r in ret) / len(ret), 4) for k in ret[0]}
    print("retrieval on", len(ret), "answerable questions:", results["retrieval"])

    for mode in args.modes.split(","):
        valid = total_cites = 0
        recall: list[float] = []
        precision: list[float] = []
        raw_unsupported = raw_total = 0
        refusals_ok = unanswerable = false_refusals = answerable = 0
        facts_hit = facts = 0
        modes_used: dict[str, int] = {}
        started = time.perf_counter()
        for q in questions:
            ans = a.ask(q["question"], mode=mode)
            prompt_ids = {h.paper_id for h in a.search(q["question"], settings.ask.k).hits}
            for r in ans.references:
                total_cites += 1
                valid += r.paper_id in corpus and r.paper_id in prompt_ids
            modes_used[ans.mode] = modes_used.get(ans.mode, 0) + 1
            raw_total += len(ans.statements)
            raw_unsupported += sum(1 for s in ans.statements if not s.supported)
            kept = [s.model_dump() for s in ans.statements if s.supported]
            sources = {pid: corpus[pid].abstract for pid in {c for s in kept for c in s["citations"]} if pid in corpus}
            r_, p_ = alce(kept, sources, judge, threshold)
            recall += r_
            precision += p_
            if q["type"] == "unanswerable":
                unanswerable += 1
                refusals_ok += ans.refused
            else:
                answerable += 1
                false_refusals += ans.refused
                if not ans.refused and q["key_facts"]:
                    scores = judge.score([(" ".join(s["text"] for s in kept), f["fact"]) for f in q["key_facts"]])
                    facts_hit += sum(sc >= threshold for sc in scores)
                facts += len(q["key_facts"])
        seconds = time.perf_counter() - started
        row = {
            "citation_validity": round(valid / total_cites, 4) if total_cites else None,
            "citations": total_cites,
            "alce_citation_recall": round(sum(recall) / len(recall), 4) if recall else None,
            "alce_citation_precision": round(sum(precision) / len(precision), 4) if precision else None,
            "statements_kept": len(recall),
            "unsupported_before_check": round(raw_unsupported / raw_total, 4) if raw_total else None,
            "refusal_accuracy_unanswerable": round(refusals_ok / unanswerable, 4) if unanswerable else None,
            "false_refusal_rate_answerable": round(false_refusals / answerable, 4) if answerable else None,
            "key_fact_coverage": round(facts_hit / facts, 4) if facts else None,
            "answer_modes": modes_used,
            "seconds_per_question": round(seconds / len(questions), 2),
        }
        results["modes"][mode] = row
        print(f"\nmode={mode}")
        for k, v in row.items():
            print(f"  {k:<32} {v}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
