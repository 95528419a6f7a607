"""Support-judge throughput (pairs per second), side by side in one process.

Scores the same (abstract, statement) pairs, the project's judge cases against their full
abstracts, with the shipped judge at several window budgets, and the cosine baseline, warm
(after one untimed pass), and prints pairs/s and the speed ratio to the shipped setting.
Run: python benchmarks/judge_speed.py [--artifact DIR] [--pairs N] [--threads N] [--windows 8 4 2]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import apply_threads, quiet_logs  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifact", type=Path, default=None, help="judge artifact dir (default: the shipped one)")
    parser.add_argument("--pairs", type=int, default=120)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--windows", type=int, nargs="+", default=[8, 4, 2], help="max_windows settings to compare")
    args = parser.parse_args()
    quiet_logs()
    threads = apply_threads(args.threads)

    from assistant.corpus import bundled_corpus_paths, read_papers
    from assistant.evaluation import gold
    from assistant.judge import CrossEncoderJudge

    abstracts = {p.title: p.abstract for p in read_papers(bundled_corpus_paths())}
    cases, _ = gold.judge_cases(gold.data_dir(), abstracts)
    pairs = [(c.source, c.statement) for c in cases][: args.pairs]
    judge = CrossEncoderJudge(artifact_dir=args.artifact)
    shipped = judge.max_windows
    print(f"{len(pairs)} pairs (full abstracts), torch threads {threads}, shipped max_windows {shipped}")
    rows = []
    for windows in [shipped, *[w for w in args.windows if w != shipped]]:
        judge.max_windows = windows
        judge.score(pairs[:16])  # warm
        t = time.perf_counter()
        judge.score(pairs)
        rows.append((f"cross-encoder, {windows} windows", len(pairs) / (time.perf_counter() - t)))
    judge.max_windows = shipped
    sim = judge.similarity
    sim.max_cosine(pairs[:16])
    t = time.perf_counter()
    sim.max_cosine(pairs)
    rows.append(("cosine baseline", len(pairs) / (time.perf_counter() - t)))
    base = rows[0][1]
    for name, rate in rows:
        print(f"{name:<28} {rate:7.1f} pairs/s   x{rate / base:.2f}")


if __name__ == "__main__":
    main()
