"""The support judge's backends side by side: AUC and pairs per second on the same pairs.

    python benchmarks/judge_backends.py [--scifact-pairs 300] [--healthver-pairs 200] [--batches 8 32]

For each judge configuration (``judge.backend`` "onnx" or "onnx-int8", the number of source
sentences the cosine feature embeds, the batch size), in one process and on the same pairs:
ROC AUC on the project's tuning half and frozen test half (``evals/data``), a fixed sample of
SciFact train pairs and of HealthVer (when ``../shared/benchmarks`` is there), and pairs per
second on the SciFact sample and on the project's pairs (warm: one untimed call first; the
cosine feature's memo is cleared before each timed call, so every source is embedded again).
Choose on the tuning half; the test half is reported, never chosen on.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import quiet_logs  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "benchmarks"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scifact-pairs", type=int, default=300)
    p.add_argument("--healthver-pairs", type=int, default=200)
    p.add_argument("--sentences", type=int, nargs="+", default=[4, 3, 2], help="cosine feature sentences to compare")
    p.add_argument("--batches", type=int, nargs="+", default=[8], help="cross-encoder batch sizes to compare")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    quiet_logs()
    sys.path.insert(0, str(ROOT))

    import assistant.judge.judges as judges
    from assistant.corpus import bundled_corpus_paths, read_papers
    from assistant.evaluation import gold
    from assistant.evaluation.metrics import roc_auc

    abstracts = {x.title: x.abstract for x in read_papers(bundled_corpus_paths())}
    cases, _ = gold.judge_cases(gold.data_dir(), abstracts)
    sets = {
        "tune": [(c.source, c.statement, c.label) for c in cases if c.split == "tune"],
        "test": [(c.source, c.statement, c.label) for c in cases if c.split != "tune"],
    }
    if (BENCH / "scifact").is_dir():
        rows = [(c.source, c.statement, c.label) for c in gold.scifact_pairs(BENCH / "scifact", 10**9)]
        sets["scifact"] = random.Random(args.seed).sample(rows, min(args.scifact_pairs, len(rows)))
    if (BENCH / "nli").is_dir():
        ext = gold.external_judge_sets(BENCH / "nli", 10**9).get("healthver", [])
        rows = [(c.source, c.statement, c.label) for c in ext]
        if rows:
            sets["healthver"] = random.Random(args.seed).sample(rows, min(args.healthver_pairs, len(rows)))
    project = sets["tune"] + sets["test"]
    speed_sets = {"project": project} | ({"scifact": sets["scifact"]} if "scifact" in sets else {})
    print("pairs: " + ", ".join(f"{k} {len(v)}" for k, v in sets.items()))

    header = ["backend", "cosine sent.", "batch", *[f"AUC {k}" for k in sets], *[f"pairs/s {k}" for k in speed_sets]]
    out = []
    for backend in ("onnx", "onnx-int8"):
        judge = judges.CrossEncoderJudge(backend=backend)
        judge.score([(s, h) for s, h, _ in project[:8]])  # warm: sessions, exports, quantized twins
        for batch in args.batches:
            judge.batch_size = batch
            for n in args.sentences:
                judges.COSINE_SENTENCES = n
                row = [backend, str(n), str(batch)]
                for pairs in sets.values():
                    scores = judge.score([(s, h) for s, h, _ in pairs])
                    row.append(f"{roc_auc([y for _, _, y in pairs], scores):.3f}")
                for pairs in speed_sets.values():
                    judge.similarity._vectors.clear()
                    t = time.perf_counter()
                    judge.score([(s, h) for s, h, _ in pairs])
                    row.append(f"{len(pairs) / (time.perf_counter() - t):.1f}")
                out.append(row)
                print("  ".join(row), flush=True)
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for row in out:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
