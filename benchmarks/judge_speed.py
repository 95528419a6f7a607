"""Support-judge and relevance-model throughput (pairs per second), side by side in one process.

Scores the same (abstract, statement) pairs, the project's judge cases against their full
abstracts, with the shipped judge on ONNX Runtime (the default) and on torch (the reference) at
several window budgets, the int8 twin (``judge.backend = "onnx-int8"``), the cosine baseline, and the relevance model on
(question, sentence) pairs on the fp32 and torch backends; warm (after one untimed pass); prints pairs/s and the ratio to the first row.
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
    parser.add_argument("--windows", type=int, nargs="+", default=[8, 2], help="max_windows settings to compare")
    args = parser.parse_args()
    quiet_logs()
    threads = apply_threads(args.threads)

    from assistant.corpus import bundled_corpus_paths, read_papers
    from assistant.evaluation import gold
    from assistant.judge import CrossEncoderJudge

    abstracts = {p.title: p.abstract for p in read_papers(bundled_corpus_paths())}
    cases, _ = gold.judge_cases(gold.data_dir(), abstracts)
    pairs = [(c.source, c.statement) for c in cases][: args.pairs]
    judges = {b: CrossEncoderJudge(artifact_dir=args.artifact, backend=b) for b in ("onnx", "onnx-int8", "torch")}
    judge = judges["onnx"]
    shipped = judge.max_windows
    print(f"{len(pairs)} pairs (full abstracts), torch threads {threads}, shipped max_windows {shipped}")
    rows = []
    for windows in [shipped, *[w for w in args.windows if w != shipped]]:
        for backend, j in judges.items():
            j.max_windows = windows
            j.score(pairs[:16])  # warm
            t = time.perf_counter()
            j.score(pairs)
            rows.append((f"judge {backend}, {windows} windows", len(pairs) / (time.perf_counter() - t)))
            j.max_windows = shipped
    scifact_dir = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks" / "scifact"
    if scifact_dir.is_dir():  # new abstracts every pair: nothing cached from a previous pair
        fresh = [(s.source, s.statement) for s in gold.scifact_pairs(scifact_dir, 10**9)]
        fresh = list({src: (src, st) for src, st in fresh}.values())[: args.pairs]
        for backend in ("onnx", "onnx-int8"):
            j = judges[backend]
            t = time.perf_counter()
            j.score(fresh)
            rows.append((f"judge {backend}, {shipped} w, SciFact", len(fresh) / (time.perf_counter() - t)))
            j.similarity._vectors.clear()
    from assistant.judge.relevance import RelevanceModel
    from assistant.text import split_sentences

    sentences = [s for source, _ in pairs for s in split_sentences(source)][: len(pairs) * 2]
    for backend in ("onnx", "torch"):
        rel = RelevanceModel(backend=backend)
        rel.score("how are fine-tuned models merged?", sentences[:16])
        t = time.perf_counter()
        rel.score("how are fine-tuned models merged?", sentences)
        rows.append((f"relevance {backend} (sentences)", len(sentences) / (time.perf_counter() - t)))
    sim = judge.similarity
    sim.max_cosine(pairs[:16])
    t = time.perf_counter()
    sim.max_cosine(pairs)
    rows.append(("cosine baseline", len(pairs) / (time.perf_counter() - t)))
    base = rows[0][1]
    for name, rate in rows:
        print(f"{name:<34} {rate:7.1f} pairs/s   x{rate / base:.2f}")


if __name__ == "__main__":
    main()
