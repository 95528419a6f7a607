"""Measure the support judges against labelled data nobody on this project trained on.

    python evals/judge/validate_judge.py                     # 300 pairs per dataset
    python evals/judge/validate_judge.py --sample 200 --data-dir ../shared/benchmarks

Prints, per dataset, accuracy / balanced accuracy / ROC AUC of CrossEncoderJudge as shipped,
its bare NLI margin, and EmbeddingJudge side by side, then an ablation of each part of the
score (similarity term, number and direction signals, and the unshipped negation signal).

Positives: SciFact SUPPORT (CONTRADICT and not-enough-info are negatives; claim vs each cited
abstract), SciTail entailment, HealthVer Supports, Climate-FEVER SUPPORTS (claim vs one
evidence sentence), the project's supported cases. Project ``partial`` cases are excluded from
the metrics and their mean score is printed on its own. "subtle" = supported vs reversed,
swapped-number and overclaim cases of the same abstracts.

Thresholds: for each judge, the one with the best balanced accuracy on held-out SNLI/MultiNLI
pairs (the 10% train_judge.py never trains on), applied unchanged everywhere else.
Big datasets are sub-sampled with a fixed seed; a missing dataset is skipped with a message.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_judge import load_nli  # noqa: E402

from assistant.evaluation import gold  # noqa: E402
from assistant.evaluation.metrics import accuracies, roc_auc  # noqa: E402

Pair = tuple[str, str, int]  # (source, statement, 1 = supported)
SUBTLE_KINDS = {"reversed", "swapped_number", "overclaim"}


# ---------------------------------------------------------------- metrics


def best_threshold(y: list[int], s: list[float]) -> float:
    candidates = sorted(set(s))
    best, best_t = -1.0, 0.5
    for t in candidates[:: max(1, len(candidates) // 400)]:
        bal = accuracies(y, s, t)[1]
        if bal > best:
            best, best_t = bal, t
    return best_t


# ---------------------------------------------------------------- datasets


def _sample(rows: list[Pair], n: int, seed: int) -> list[Pair]:
    rows = list(rows)
    if len(rows) > n:
        rows = random.Random(seed).sample(rows, n)
    return rows


def nli_heldout(nli: Path) -> list[Pair]:
    _, held = load_nli(nli)
    return [(p, h, int(y == "entailment")) for p, h, y in held]


def _pairs(cases) -> list[Pair]:
    return [(c.source, c.statement, c.label) for c in cases]


def scifact(bench: Path) -> list[Pair]:
    """Every (cited abstract, claim) pair of SciFact train, read as `review eval` reads it."""
    return _pairs(gold.scifact_pairs(bench / "scifact", 10**9))


def external(nli: Path, name: str) -> list[Pair]:
    """One external set (healthver, climate_fever, scitail_heldout), whole, read as `review eval` reads it."""
    return _pairs(gold.external_judge_sets(nli, 10**9).get(name, []))


def _abstracts_by_title() -> dict[str, str]:
    try:
        from assistant.corpus import bundled_corpus_paths, read_papers

        return {p.title: p.abstract for p in read_papers(bundled_corpus_paths())}
    except ImportError:  # the corpus package is not there yet: a minimal parse of the dumps
        out: dict[str, str] = {}
        for path in sorted((ROOT / "assistant" / "data" / "corpus").glob("*.txt")):
            lines = [x.strip() for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
            for title, abstract in zip(lines, lines[1:]):
                if len(abstract) > 200 and 10 < len(title) < 300 and not title.startswith("•"):
                    out.setdefault(title, abstract)
        return out


def project_cases(path: Path) -> list[dict]:
    abstracts = _abstracts_by_title()
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            case = json.loads(line)
            case["source"] = abstracts.get(case["paper_title"])
            if case["source"] is None:
                print(f"  ! no abstract for {case['paper_title']!r}", file=sys.stderr)
                continue
            cases.append(case)
    return cases


# ---------------------------------------------------------------- scoring


def score_all(judge, emb, pairs: list[Pair]) -> dict[str, list[float]]:
    """Scores of every judge variant for the pairs; one cross-encoder pass serves all variants.

    Each variant drops features from the shipped combination (weights as calibrated), so the
    table shows what each part of the score adds."""
    from assistant.judge.judges import _sigmoid

    st = [(s, h) for s, h, _ in pairs]
    feats = judge.features(st, with_similarity=True, with_parts=True)
    keep = {
        "ce": None,  # as shipped: every feature, and quoted sentences stand
        "ce_nli": (0,),
        "ce_parts": (0, 1),
        "ce_no_sim": (0, 1, 3, 4),
        "ce_no_signals": (0, 1, 2),
    }
    out: dict[str, list[float]] = {k: [] for k in VARIANTS}
    for (src, hyp), f in zip(st, feats):
        for name, idx in keep.items():
            out[name].append(_sigmoid(judge.fuse(src, hyp, f, idx)))
    out["emb"] = emb.max_cosine(st)
    return out


VARIANTS = ("ce", "ce_nli", "ce_parts", "ce_no_sim", "ce_no_signals", "emb")
ABLATION = (
    ("ce_nli", "margin only"),
    ("ce_parts", "+clauses"),
    ("ce_no_sim", "all but cosine"),
    ("ce_no_signals", "all but signals"),
    ("ce", "shipped"),
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--data-dir", type=Path, default=ROOT.parent / "shared" / "benchmarks", help="folder holding nli/ and scifact/"
    )
    ap.add_argument("--sample", type=int, default=300, help="pairs per dataset (fixed seed)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--cases",
        type=Path,
        nargs="+",
        default=[
            ROOT / "evals" / "data" / f
            for f in ("judge_cases.jsonl", "judge_cases_test.jsonl", "judge_cases_numbers.jsonl")
        ],
        help="project case files; each case's split (tune/test) is reported apart",
    )
    ap.add_argument("--artifact", type=Path, default=None, help="judge artifact dir (default: the shipped one)")
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    ap.add_argument(
        "--backend",
        default="onnx",
        choices=("onnx", "onnx-int8", "torch"),
        help="cross-encoder runtime (judge.backend)",
    )
    ap.add_argument(
        "--max-windows", type=int, default=None, help="windows scored per statement (default: the artifact's)"
    )
    ap.add_argument("--threads", type=int, default=1, help="torch threads for this process")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)

    from assistant.judge import CrossEncoderJudge, EmbeddingJudge

    t0 = time.time()
    emb = EmbeddingJudge()
    judge = CrossEncoderJudge(artifact_dir=args.artifact, similarity=emb, backend=args.backend)
    if args.max_windows:
        judge.max_windows = args.max_windows
    print(f"judge: {args.backend}, max_windows {judge.max_windows}", file=sys.stderr)
    nli, bench = args.data_dir / "nli", args.data_dir

    datasets: dict[str, list[Pair]] = {}
    loaders = [
        ("SciFact train", lambda: scifact(bench), bench / "scifact" / "claims_train.jsonl"),
        ("SciTail held-out", lambda: external(nli, "scitail_heldout"), nli / "scitail"),
        ("HealthVer", lambda: external(nli, "healthver"), nli / "healthver"),
        ("Climate-FEVER", lambda: external(nli, "climate_fever"), nli / "climate_fever"),
    ]
    heldout: list[Pair] = []
    if (nli / "snli_via_esnli").exists():
        heldout = _sample(nli_heldout(nli), min(args.sample * 2, 1000), args.seed)
    else:
        print(f"skip threshold selection: no {nli / 'snli_via_esnli'} (thresholds fall back to 0.5)")
    for name, load, where in loaders:
        if not where.exists():
            print(f"skip {name}: {where} is absent")
            continue
        datasets[name] = _sample(load(), args.sample, args.seed)

    cases = [c for path in args.cases if path.exists() for c in project_cases(path)]
    graded = [c for c in cases if c["label"] in ("supported", "unsupported")]
    for split in ("test", "tune"):
        chosen = [c for c in graded if c.get("split", "tune") == split]
        if chosen:
            datasets[f"project {split}"] = [
                (c["source"], c["statement"], int(c["label"] == "supported")) for c in chosen
            ]

    variants = VARIANTS
    thresholds = {v: 0.5 for v in variants}
    results: dict[str, dict] = {}
    if heldout:
        s = score_all(judge, emb, heldout)
        y = [t for *_, t in heldout]
        thresholds = {v: best_threshold(y, s[v]) for v in variants}
        thresholds["ce"] = 0.5  # the shipped threshold, as the product uses it
        results["SNLI/MNLI held-out"] = {"n": len(y), "pos": sum(y), "y": y, "scores": s}
    for name, pairs in datasets.items():
        t = time.time()
        results[name] = {
            "n": len(pairs),
            "pos": sum(p[2] for p in pairs),
            "y": [p[2] for p in pairs],
            "scores": score_all(judge, emb, pairs),
        }
        print(f"  scored {name}: {len(pairs)} pairs in {time.time() - t:.0f}s", file=sys.stderr, flush=True)

    print(
        (
            "\nthresholds (best balanced accuracy on SNLI/MNLI held-out): "
            if heldout
            else "\nthresholds (no held-out NLI data: 0.5): "
        )
        + ", ".join(f"{v}={thresholds[v]:.3f}" for v in ("ce", "emb"))
    )
    head = f"{'dataset':<20} {'n':>4} {'pos':>4} | {'CE acc':>6} {'bal':>5} {'AUC':>5} | {'nli-only AUC':>12} | {'Emb acc':>7} {'bal':>5} {'AUC':>5}"
    print(head)
    print("-" * len(head))
    table = {}
    for name, r in results.items():
        y, s = r["y"], r["scores"]
        row = {}
        for v in variants:
            acc, bal = accuracies(y, s[v], thresholds[v])
            row[v] = {"accuracy": round(acc, 3), "balanced_accuracy": round(bal, 3), "auc": round(roc_auc(y, s[v]), 3)}
        table[name] = {"n": r["n"], "positives": r["pos"], **row}
        ce, nli_only, em = row["ce"], row["ce_nli"], row["emb"]
        print(
            f"{name:<20} {r['n']:>4} {r['pos']:>4} | {ce['accuracy']:>6.3f} {ce['balanced_accuracy']:>5.3f} {ce['auc']:>5.3f} | "
            f"{nli_only['auc']:>12.3f} | {em['accuracy']:>7.3f} {em['balanced_accuracy']:>5.3f} {em['auc']:>5.3f}"
        )

    print("\nablation, AUC (balanced accuracy); nli = cross-encoder margin, sim = + max sentence cosine")
    print(f"{'dataset':<20} " + " | ".join(f"{label:>15}" for _, label in ABLATION))
    for name, row in table.items():
        cells = [f"{row[v]['auc']:.3f} ({row[v]['balanced_accuracy']:.3f})" for v, _ in ABLATION]
        print(f"{name:<20} " + " | ".join(f"{c:>15}" for c in cells))

    partial = [c for c in cases if c["label"] == "partial"]
    if partial:
        s = score_all(judge, emb, [(c["source"], c["statement"], 0) for c in partial])
        print(
            f"\nproject partial cases (excluded above): n={len(partial)}, mean score CE {sum(s['ce']) / len(partial):.3f}, "
            f"embedding {sum(s['emb']) / len(partial):.3f}"
        )
    test = [c for c in graded if c.get("split", "tune") == "test"]
    if test:
        by_kind: dict[str, list[float]] = {}
        for c, x in zip(test, results["project test"]["scores"]["ce"]):
            by_kind.setdefault(f"{c['label'][:5]}/{c['kind']}", []).append(x)
        print(
            "project test cases, mean score by label/kind: "
            + ", ".join(f"{k} {sum(v) / len(v):.2f} (n={len(v)})" for k, v in sorted(by_kind.items()))
        )
    print(f"\ntotal {time.time() - t0:.0f}s")
    if args.json:
        report = {
            "command": "python evals/judge/validate_judge.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "sample": args.sample,
            "seed": args.seed,
            "positives": "SciFact SUPPORT; SciTail entailment; HealthVer Supports; Climate-FEVER SUPPORTS; "
            "project supported (partial excluded)",
            "thresholds": thresholds,
            "table": table,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
