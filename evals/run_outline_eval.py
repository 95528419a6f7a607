"""Score `review outline` against the hand-written gold hierarchies.

    python evals/run_outline_eval.py                        # index in ./store
    python evals/run_outline_eval.py --store /tmp/clitest/store --json outline_eval.json

For every topic of ``evals/data/outline_gold.json`` this builds ``Assistant(settings).outline(query)``
with the real bundled models over the whole index (not over the gold papers only), then prints
node-path P/R/F1 (see ``outline_metrics``), coverage, on-topic precision (placed studies outside
"Other" that belong to the topic), sibling coherence, invariant violations and seconds per topic,
and the macro average. The frozen test half (``outline_gold_test.json``) is read only with
``--final``: tune on the default tuning half, measure the test half once. ``--mode extractive`` is the clustering-only
outline (no LLM: term labels); ``--mode auto`` (the default setting) lets the configured LLM
propose labels, each checked before use. A topic that raises ``QueryError`` is recorded and
scores 0 on P/R/F1/coverage in the macro average (coherence is averaged over built outlines only).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from assistant.evaluation.outline_metrics import score_outline, studies_under  # noqa: E402

GOLD = HERE / "data" / "outline_gold.json"
COLUMNS = ("topic", "gold", "pred", "other", "P", "R", "F1", "cov", "ontop", "coh", "inv", "s")


def evaluate_topic(assistant, topic: dict, mode: str | None = None) -> dict:
    """Build the outline for one gold topic and score it."""
    from assistant.errors import QueryError

    gold = topic["tree"]
    row: dict = {"topic": topic["topic"], "query": topic["query"], "gold": len(studies_under(gold))}
    t = time.perf_counter()
    try:
        outline = assistant.outline(topic["query"], mode=mode)
    except QueryError as exc:
        row.update(error=str(exc), seconds=round(time.perf_counter() - t, 2))
        return row
    row["seconds"] = round(time.perf_counter() - t, 2)
    pred = outline.tree.tree_dict()
    row.update(score_outline(pred, gold, in_scope=topic.get("in_scope"), borderline=topic.get("borderline")))
    row.update(pred=row.pop("placed"), timings=outline.timings, checks=outline.checks, tree=pred)
    return row


def macro(rows: list[dict]) -> dict:
    """Macro average over topics; a failed topic scores 0 on P/R/F1/coverage."""
    n = len(rows) or 1
    built = [r for r in rows if "error" not in r]
    avg = {
        k: sum(r.get(k, 0.0) for r in rows) / n for k in ("precision", "recall", "f1", "coverage", "on_topic_precision")
    }
    avg["precision_in_gold"] = sum(r.get("precision_in_gold", 0.0) for r in rows) / n
    avg["coherence"] = sum(r["coherence"] for r in built) / len(built) if built else 0.0
    avg["invariants"] = sum(len(r.get("invariants", [])) for r in rows) / n
    avg["seconds"] = sum(r["seconds"] for r in rows) / n
    avg["failed"] = len(rows) - len(built)
    return avg


def render(rows: list[dict], avg: dict) -> str:
    """The table: one line per topic, then the macro average."""
    head = f"{'topic':<32} {'gold':>4} {'pred':>4} {'other':>5} {'P':>5} {'R':>5} {'F1':>5} {'cov':>5} {'ontop':>5} {'coh':>5} {'inv':>3} {'s':>6}"
    lines = [head, "-" * len(head)]
    for r in rows:
        if "error" in r:
            lines.append(f"{r['topic']:<32} {r['gold']:>4}  QueryError: {r['error'][:80]}")
            continue
        lines.append(
            f"{r['topic']:<32} {r['gold']:>4} {r['pred']:>4} {r['other']:>5} {r['precision']:>5.2f} {r['recall']:>5.2f} "
            f"{r['f1']:>5.2f} {r['coverage']:>5.2f} {r['on_topic_precision']:>5.2f} {r['coherence']:>5.2f} {len(r['invariants']):>3} {r['seconds']:>6.1f}"
        )
    lines.append("-" * len(head))
    lines.append(
        f"{'macro average':<32} {'':>4} {'':>4} {'':>5} {avg['precision']:>5.2f} {avg['recall']:>5.2f} {avg['f1']:>5.2f} "
        f"{avg['coverage']:>5.2f} {avg['on_topic_precision']:>5.2f} {avg['coherence']:>5.2f} {avg['invariants']:>3.1f} {avg['seconds']:>6.1f}"
    )
    lines.append(
        f"P over all predicted placements; precision on gold studies only (assignment without retrieval): "
        f"{avg['precision_in_gold']:.2f}. failed topics: {avg['failed']}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="index directory (default: the settings' paths.store, ./store)")
    parser.add_argument("--gold", type=Path, default=GOLD, help="gold hierarchies (default: %(default)s)")
    parser.add_argument("--topic", action="append", help="only this topic (repeatable)")
    parser.add_argument("--json", type=Path, dest="json_path", help="also save rows, trees and averages here")
    parser.add_argument("--mode", choices=["auto", "extractive"], help="outline mode (default: llm.mode, auto)")
    parser.add_argument("--final", action="store_true", help="allow the frozen test half as --gold (measure once)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each topic's problems and matches")
    args = parser.parse_args(argv)

    from assistant import Assistant
    from assistant.settings import Settings

    settings = Settings(paths={"store": args.store}) if args.store else Settings()
    if not Path(settings.paths.store).exists():
        print(f"no index at {settings.paths.store}: pass --store DIR or run `review ingest` first", file=sys.stderr)
        return 2
    if "test" in args.gold.name and not args.final:
        print(
            f"{args.gold} is the frozen test half: tune on {GOLD.name}; pass --final to measure it once",
            file=sys.stderr,
        )
        return 2
    topics = json.loads(args.gold.read_text())["topics"]
    if args.topic:
        topics = [t for t in topics if t["topic"] in args.topic]
    assistant = Assistant(settings)
    rows = []
    for topic in topics:
        print(f"... {topic['topic']}", file=sys.stderr)
        rows.append(evaluate_topic(assistant, topic, args.mode))
    avg = macro(rows)
    print(render(rows, avg))
    if args.verbose:
        for r in rows:
            print(f"\n## {r['topic']}")
            for key in ("invariants", "coherence_problems", "missed", "off_topic"):
                if r.get(key):
                    print(f"{key}: {r[key]}")
            for m in r.get("matches", []):
                print(f"  {' > '.join(m['gold'])}  <->  {' > '.join(m['pred'])}  ({m['overlap']})")
    if args.json_path:
        args.json_path.write_text(json.dumps({"topics": rows, "macro": avg}, indent=2) + "\n")
        print(f"saved {args.json_path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
