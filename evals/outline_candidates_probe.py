"""How well does the outline's candidate cut pick a topic's papers? Candidate-level coverage and precision.

    python evals/outline_candidates_probe.py                       # the tuning half, shipped settings
    python evals/outline_candidates_probe.py --grid                # evidence_weight x cut, as chosen

For every topic of the tuning half (``evals/data/outline_gold.json``; the test half is never read)
this runs only the candidate stage of ``review outline`` (``candidates.candidate_pool``: no claims,
clustering or labels, about a second a topic) and prints how many papers it keeps, the share of the
gold studies among them (coverage, an upper bound of the outline's) and the share of them that are
gold studies (precision, the outline's on-topic precision before "Other"). ``--grid`` sweeps
``outline.evidence_weight`` and ``outline.cut``: the values shipped were chosen on this table.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from assistant.evaluation.outline_metrics import studies_under  # noqa: E402

GOLD = HERE / "data" / "outline_gold.json"


def score(settings, index, topics: list[dict], labels: bool = False, relevance=None) -> list[dict]:
    """Per topic: kept, coverage and precision of the candidate set (``labels``: the topic's short
    label as the query, e.g. "reasoning" for "reasoning and chain of thought")."""
    from assistant.outline.candidates import candidate_pool

    rows = []
    for t in topics:
        gold = studies_under(t["tree"])
        pool = candidate_pool(settings, index, t["topic"] if labels else t["query"], relevance)
        kept = {p.id for p, _ in pool.kept}
        hit = len(kept & gold)
        rows.append(
            {
                "topic": t["topic"],
                "kept": len(kept),
                "gold": len(gold),
                "coverage": hit / len(gold),
                "precision": hit / len(kept) if kept else 0.0,
                "terms": sorted(pool.evidence.terms) if pool.evidence else [],
                "phrases": pool.evidence.phrases if pool.evidence else [],
                "feedback": {q.seed: q.terms[:8] for q in pool.feedback},
                "missed": sorted(gold - kept),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    """Print the table (or the grid) for the tuning topics."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", action="store_true", help="sweep outline.evidence_weight and outline.cut")
    parser.add_argument(
        "--labels", action="store_true", help="query each topic by its short label (short-topic feedback applies)"
    )
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="an outline setting")
    parser.add_argument("-v", "--verbose", action="store_true", help="also print the gold studies missed")
    args = parser.parse_args(argv)

    from assistant import Assistant, Settings

    overrides = dict(kv.split("=", 1) for kv in args.set)
    assistant = Assistant(Settings(outline=overrides))
    topics = json.loads(GOLD.read_text())["topics"]
    if not args.grid:
        rows = score(assistant.settings, assistant.index, topics, args.labels, assistant.relevance)
        for r in rows:
            print(
                f"{r['topic']:<32} kept {r['kept']:>3} gold {r['gold']:>3} cov {r['coverage']:.2f} prec {r['precision']:.2f}"
            )
            print(f"{'':<32} terms {r['terms']} expansion {r['phrases']}")
            if r["feedback"]:
                print(f"{'':<32} feedback {r['feedback']}")
            if args.verbose:
                print(f"{'':<32} missed {r['missed']}")
        n = len(rows)
        print(
            f"{'mean':<32} cov {sum(r['coverage'] for r in rows) / n:.3f} prec {sum(r['precision'] for r in rows) / n:.3f}"
        )
        return 0
    print(f"{'evidence_weight':>15} {'cut':>5} {'cov':>6} {'prec':>6}  kept per topic")
    for weight, cut in itertools.product((0.0, 1.0, 1.5, 2.0, 3.0), (0.75, 1.0, 1.25, 1.5, 1.75, 2.0)):
        settings = Settings(outline={**overrides, "evidence_weight": weight, "cut": cut})
        rows = score(settings, assistant.index, topics, args.labels, assistant.relevance)
        n = len(rows)
        cov, prec = sum(r["coverage"] for r in rows) / n, sum(r["precision"] for r in rows) / n
        print(f"{weight:>15} {cut:>5} {cov:>6.3f} {prec:>6.3f}  {[r['kept'] for r in rows]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
