"""Does the relevance model tell the papers of a topic from the rest of an outline's pool?

    python evals/outline_relevance_probe.py            # the tuning half, index in ./store

For every topic of the tuning half (``evals/data/outline_gold.json``; the test half is never
read) this takes the hybrid search's top ``outline.pool`` papers, the pool ``review outline``
chooses its candidates from, and prints the ROC AUC with which each signal separates the
topic's gold studies from the rest of the pool: the hybrid score, the best chunk's cosine, and
the relevance model's P(about the topic) read on "title. abstract" (and on the title alone).
An AUC of 0.5 is chance. Issue 12 asked for the relevance model as the candidates' aboutness
gate; this is the measurement that decided against it (the README's outline section).
"""

from __future__ import annotations

import argparse
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


def auc(scores: list[float], positive: list[bool]) -> float:
    """ROC AUC by pair counting (ties count half); 0.5 when one class is empty."""
    pos = [s for s, y in zip(scores, positive) if y]
    neg = [s for s, y in zip(scores, positive) if not y]
    if not pos or not neg:
        return 0.5
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def probe(assistant, topic: dict) -> dict:
    """The AUC of each signal over one topic's pool, and how many gold studies the pool holds."""
    from assistant.retrieval import search

    index = assistant.index
    hits = search(index, topic["query"], assistant.settings.outline.pool)
    by_id = {p.id: p for p in index.papers([h.paper_id for h in hits])}
    hits = [h for h in hits if h.paper_id in by_id]
    papers = [by_id[h.paper_id] for h in hits]
    gold = studies_under(topic["tree"])
    positive = [p.id in gold for p in papers]
    relevance = assistant.relevance
    signals = {
        "hybrid": [h.score for h in hits],
        "cosine": [h.similarity or 0.0 for h in hits],
        "rel_abstract": relevance.score(topic["query"], [f"{p.title}. {p.abstract}" for p in papers]),
        "rel_title": relevance.score(topic["query"], [p.title for p in papers]),
    }
    row = {"topic": topic["topic"], "pool": len(papers), "gold_in_pool": sum(positive), "gold": len(gold)}
    row.update({k: round(auc(v, positive), 3) for k, v in signals.items()})
    return row


def main(argv: list[str] | None = None) -> int:
    """Print one line per tuning topic and the mean AUC of each signal."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, dest="json_path", help="also save the rows here")
    args = parser.parse_args(argv)

    from assistant import Assistant, Settings

    assistant = Assistant(Settings())
    rows = [probe(assistant, t) for t in json.loads(GOLD.read_text())["topics"]]
    keys = ("hybrid", "cosine", "rel_abstract", "rel_title")
    print(f"{'topic':<32} {'gold':>4} {'in pool':>7} " + " ".join(f"{k:>12}" for k in keys))
    for r in rows:
        print(f"{r['topic']:<32} {r['gold']:>4} {r['gold_in_pool']:>7} " + " ".join(f"{r[k]:>12.3f}" for k in keys))
    print(f"{'mean AUC':<45} " + " ".join(f"{sum(r[k] for r in rows) / len(rows):>12.3f}" for k in keys))
    if args.json_path:
        args.json_path.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
