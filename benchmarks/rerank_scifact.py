"""The relevance model as a reranker on SciFact train: nDCG@10 and MRR, and its latency.

    python benchmarks/rerank_scifact.py [--workdir /tmp/scifact-index] [--queries 300]
    python benchmarks/rerank_scifact.py --variants onnx:2,onnx-int8:2,onnx-int8:1   # backend:passages, side by side

Indexes the 5,183 SciFact abstracts with the project's own ingest (kept in ``--workdir`` and
reused by a rerun), takes the hybrid top ``retrieval.rerank_top`` (30) of each train claim,
scores them once with the relevance model (and with cosine similarity, the baseline), then
reports nDCG@10 / MRR for the first-stage order and for each blend weight ``w`` of
``retrieval.rerank`` (score = (1 - w) * relevance + w * first-stage rank score). Latency is
the warm wall time of one ``search`` plus one ``rerank`` of the top 30, per query. ``--variants``
measures several relevance-model runtimes and passage counts (``retrieval.rerank_passages``) on
the same queries in one run, each query's variants timed back to back, so their speeds compare as
ratios on a noisy machine.

The relevance model never trained on SciFact claims, nor on the abstracts the train claims cite.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    MemoEmbedder,
    add_scifact_arg,
    add_threads_arg,
    apply_threads,
    ndcg_at,
    percentile,
    quiet_logs,
    scifact_or_skip,
    scifact_papers,
    scifact_queries,
    table,
)

WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def mrr(ranked: list[str], relevant: set[str]) -> float:
    for i, pid in enumerate(ranked, 1):
        if pid in relevant:
            return 1.0 / i
    return 0.0


def blended(hits, rel: list[float], w: float) -> list[str]:
    n = len(hits)
    order = sorted(range(n), key=lambda i: (-((1 - w) * rel[i] + w * (1 - i / n)), i))
    return [hits[i].paper_id for i in order]


def open_index(papers, workdir: Path, embedder):
    from assistant.indexing import Index
    from assistant.settings import Settings

    settings = Settings(paths={"store": workdir / "store-3-1", "cache": workdir / "cache"})
    if (workdir / "store-3-1" / "chroma.sqlite3").exists():
        index = Index(settings, embedder=embedder)
        if index.stats().papers == len(papers):
            return index
    index = Index(settings, embedder=embedder, create=True, rebuild=True)
    index.ingest(papers)
    return index


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_scifact_arg(p)
    add_threads_arg(p)
    p.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "review-scifact-index")
    p.add_argument("--emb-cache", type=Path, default=Path(tempfile.gettempdir()) / "review-bench-embeddings")
    p.add_argument("--queries", type=int, default=300, help="claims sampled (fixed seed); 0 = all 809")
    p.add_argument("--no-cosine", action="store_true", help="skip the cosine baseline")
    p.add_argument(
        "--variants",
        default="onnx:2",
        help="comma-separated backend:passages pairs for the relevance model (backends onnx, onnx-int8, torch); "
        "default onnx:2, the shipped settings",
    )
    args = p.parse_args()
    scifact = scifact_or_skip(args.scifact)
    quiet_logs()
    threads = apply_threads(args.torch_threads)
    from assistant.indexing.embedding import load_embedder
    from assistant.judge.relevance import CosineRelevance, RelevanceModel
    from assistant.retrieval import hit_text, rerank, search
    from assistant.settings import Settings

    papers = scifact_papers(scifact)
    queries, qrels = scifact_queries(scifact)
    if args.queries and args.queries < len(queries):
        queries = sorted(random.Random(0).sample(queries, args.queries))
    args.workdir.mkdir(parents=True, exist_ok=True)
    embedder = MemoEmbedder(load_embedder(Settings().embedding), args.emb_cache or None)
    t0 = time.perf_counter()
    index = open_index(papers, args.workdir, embedder)
    print(
        f"index of {len(papers)} abstracts ready in {time.perf_counter() - t0:.0f} s; {len(queries)} claims; torch threads {threads}"
    )
    cfg = index.settings.retrieval
    variants = []
    for spec in args.variants.split(","):
        backend, _, n = spec.strip().partition(":")
        variants.append(
            (f"relevance model ({backend}, {n or 2} passages)", RelevanceModel(backend=backend), int(n or 2))
        )
    scorers = [(name, model, n) for name, model, n in variants]
    if not args.no_cosine:
        scorers.append(("cosine (baseline)", CosineRelevance(), cfg.passages))
    first: dict[str, list] = {}
    scores: dict[str, dict[str, list[float]]] = {name: {} for name, _, _ in scorers}
    latency: dict[str, list[float]] = {name: [] for name, _, _ in variants}
    for _, model, n in variants:  # warm: sessions loaded, first batch not timed
        rerank(
            queries[0][1],
            search(index, queries[0][1], cfg.rerank_top),
            model,
            cfg.model_copy(update={"rerank_passages": n}),
            10,
        )
    for n_done, (qid, claim) in enumerate(queries, 1):
        started = time.perf_counter()
        hits = search(index, claim, cfg.rerank_top)
        searched = time.perf_counter() - started
        first[qid] = hits
        for name, model, n in variants:
            started = time.perf_counter()
            rerank(claim, hits, model, cfg.model_copy(update={"rerank_passages": n}), 10)
            latency[name].append((searched + time.perf_counter() - started) * 1000)
        for name, scorer, n in scorers:
            texts = [hit_text(h, n) for h in hits]
            flat = scorer.score(claim, [t for ts in texts for t in ts])
            per, pos = [], 0
            for ts in texts:
                per.append(max(flat[pos : pos + len(ts)]))
                pos += len(ts)
            scores[name][qid] = per
        if n_done % 25 == 0:
            print(f"  {n_done}/{len(queries)} claims", file=sys.stderr, flush=True)

    def row(label: str, ranked: dict[str, list[str]]) -> dict:
        return {
            "ranking": label,
            "nDCG@10": sum(ndcg_at(ranked[q], qrels[q], 10) for q, _ in queries) / len(queries),
            "MRR": sum(mrr(ranked[q], qrels[q]) for q, _ in queries) / len(queries),
        }

    rows = [row("hybrid first stage (today)", {q: [h.paper_id for h in first[q]] for q, _ in queries})]
    for name, _, _ in scorers:
        for w in WEIGHTS:
            rows.append(row(f"{name}, w={w}", {q: blended(first[q], scores[name][q], w) for q, _ in queries}))
    print(f"\n## SciFact train, {len(queries)} claims, rerank of the hybrid top {cfg.rerank_top}")
    print(table(rows))
    for name, values in latency.items():
        print(
            f"warm search + rerank of the top {cfg.rerank_top}, {name}: p50 {percentile(values, 50):.0f} ms, "
            f"p95 {percentile(values, 95):.0f} ms (torch threads {threads})"
        )


if __name__ == "__main__":
    main()
