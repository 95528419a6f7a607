"""Time of `review outline --topic merging` with the bundled models, broken down by stage.

Runs the outline in one process, cold (first call: GGUF and judge load inside it) and then
warm (--repeat times), in auto mode (bundled Gemma labels, each checked) and in extractive
mode (clustering only), and prints seconds per stage from `Outline.timings` plus the wall time.
Run: python benchmarks/outline_stages.py [--store DIR] [--topic T] [--draft] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="existing index directory (default: a temporary one, built first)")
    parser.add_argument("--topic", default="merging")
    parser.add_argument("--draft", action="store_true", help="also time --draft (judged draft sentences)")
    parser.add_argument("--repeat", type=int, default=3, help="warm runs per mode (default 3)")
    args = parser.parse_args()

    t0 = time.perf_counter()
    from assistant import Assistant, Settings

    print(f"import: {time.perf_counter() - t0:.2f} s")
    tmp = tempfile.mkdtemp(prefix="review-bench-")
    a = Assistant(Settings(paths={"store": args.store or f"{tmp}/store"}))
    if args.store is None:
        t = time.perf_counter()
        a.ingest()
        print(f"ingest (bundled corpus): {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    a.search(args.topic)
    print(f"first search (embedder load + BM25 cache): {time.perf_counter() - t:.2f} s")
    for mode in ("auto", "extractive"):
        runs = []
        for r in range(args.repeat + 1):
            t = time.perf_counter()
            outline = a.outline(args.topic, draft=args.draft, mode=mode)
            wall = time.perf_counter() - t
            runs.append((wall, outline.timings))
            label = "cold" if r == 0 else f"warm {r}"
            stages = "  ".join(f"{k} {v:.2f}" for k, v in outline.timings.items())
            print(f"{mode:10} {label:7} wall {wall:6.2f} s | {stages}")
        warm = runs[1:] or runs
        keys = list(warm[0][1])
        med = {k: statistics.median(x[1].get(k, 0.0) for x in warm) for k in keys}
        wall = statistics.median(x[0] for x in warm)
        share = "  ".join(f"{k} {v:.2f} s ({100 * v / wall:.0f}%)" for k, v in med.items())
        print(f"{mode:10} median warm wall {wall:.2f} s | {share}")
        print(f"{mode:10} checks: {outline.checks}  studies {len(outline.studies)}")


if __name__ == "__main__":
    main()
