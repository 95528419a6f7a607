"""Retrieval quality on SciFact (train claims): BM25 alone, dense alone and the hybrid default.

    python benchmarks/retrieval_scifact.py [--scifact DIR] [--chunk-configs 3/1,100/0,5/1]

Indexes the 5,183 SciFact abstracts (title + abstract sentences, id ``d<doc_id>``) with the
project's own ``Index.ingest`` into a temporary store, queries with each of the 809 train claims
and scores nDCG@10 and recall@100 against ``qrels_train.tsv``.

1. Main table: the real ``Index.search`` with retrieval.dense_weight=0 (BM25), lexical_weight=0
   (dense) and the defaults (hybrid), one index; nDCG@10 from k=10, recall@100 from k=100.
2. Fusion sweep: each query's dense and BM25 chunk rankings are fetched once (deep), then the
   project's own ``retrieval.fuse`` is rerun on them for every (weights, rrf_k, candidates)
   variant. A check line shows how often the sweep's default reproduces the real search.
3. Chunk-size variants (chunks.sentences/overlap; each is a re-ingest into its own store).

Encoding 5K abstracts takes minutes on a small CPU: document vectors are remembered on disk
(``--emb-cache``), so a rerun or a second chunk config only encodes texts it has not seen.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    MemoEmbedder,
    Ticker,
    add_scifact_arg,
    add_threads_arg,
    apply_threads,
    ndcg_at,
    quiet_logs,
    recall_at,
    scifact_or_skip,
    scifact_papers,
    scifact_queries,
    table,
)

DEEP = 1000  # chunks fetched per retriever for the "deep" variants; deeper than any variant uses
CANDIDATES = (20, 50, 100, 200, 400)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_scifact_arg(p)
    p.add_argument("--workdir", type=Path, help="Keep stores here (default: a temporary dir, removed at the end).")
    p.add_argument(
        "--emb-cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "review-bench-embeddings",
        help="Remembered document vectors (default: %(default)s); --emb-cache '' to encode everything.",
    )
    p.add_argument(
        "--chunk-configs",
        default="3/1,100/0,5/1",
        help="sentences/overlap per re-ingest; the first is the main index (default: %(default)s; 3/1 is the project default).",
    )
    p.add_argument("--queries", type=int, default=0, help="Use only the first N claims (quick runs).")
    p.add_argument(
        "--papers", type=int, default=0, help="Index only the first N abstracts (smoke tests; figures meaningless)."
    )
    p.add_argument("--no-sweep", action="store_true", help="Skip the fusion sweep.")
    add_threads_arg(p)
    p.add_argument("--json", type=Path, help="Also write every figure to this JSON file.")
    return p.parse_args()


# -- index ----------------------------------------------------------------------------------------


def build_index(papers, workdir: Path, sentences: int, overlap: int, embedder):
    """A fresh store for one chunk config, filled by the project's Index.ingest."""
    from assistant.indexing import Index
    from assistant.settings import Settings

    settings = Settings(
        paths={"store": workdir / f"store-{sentences}-{overlap}", "cache": workdir / "cache"},
        chunks={"sentences": sentences, "overlap": overlap},
    )
    index = Index(settings, embedder=embedder, create=True, rebuild=True)
    before = (embedder.encoded, embedder.reused)
    started = time.perf_counter()
    report = index.ingest(papers, progress=Ticker(f"ingest {sentences}/{overlap}"))
    lexical_started = time.perf_counter()
    index.lexical()
    info = {
        "chunks": f"{sentences}/{overlap}",
        "papers": report.papers_seen,
        "chunk_count": report.chunks_embedded,
        "encoded": embedder.encoded - before[0],
        "reused": embedder.reused - before[1],
        "ingest_s": round(lexical_started - started, 1),
        "bm25_build_s": round(time.perf_counter() - lexical_started, 1),
    }
    return index, info


# -- evaluation ---------------------------------------------------------------------------------


def score(runs: dict[str, tuple[list[str], list[str]]], queries, qrels) -> dict[str, float]:
    """Mean nDCG@10 (from the k=10 list) and recall@100 (from the k=100 list)."""
    ndcg = [ndcg_at(runs[qid][0], qrels[qid], 10) for qid, _ in queries]
    recall = [recall_at(runs[qid][1], qrels[qid], 100) for qid, _ in queries]
    return {"nDCG@10": sum(ndcg) / len(ndcg), "R@100": sum(recall) / len(recall)}


def real_search(index, queries, **retrieval) -> dict[str, tuple[list[str], list[str]]]:
    """Each query through retrieval.search with these retrieval settings, at k=10 and k=100."""
    from assistant.retrieval import search

    base = index.settings
    index.settings = base.model_copy(update={"retrieval": base.retrieval.model_copy(update=retrieval)})
    try:
        return {
            qid: ([h.paper_id for h in search(index, q, 10)], [h.paper_id for h in search(index, q, 100)])
            for qid, q in queries
        }
    finally:
        index.settings = base


class Rankings:
    """Dense and BM25 chunk rankings per query, for rerunning ``fuse`` offline.

    Fetched at every depth n a variant uses, exactly as Index.search asks for them: Chroma's
    HNSW search is approximate and its result for n=100 is not the first 100 of n=1000. The
    deep (n=1000) lists, truncated, stand for a near-exact dense search ("deep" variants).
    """

    def __init__(self, index, queries, depths, tag: str = "") -> None:
        lexical = index.lexical()
        self.tag = tag
        self.chunks = {tag + c.id: c.model_copy(update={"id": tag + c.id}) for c in lexical.chunks}
        self.papers = {p.id: p for p in index.papers()}
        self.dense: dict[tuple[str, int], list[tuple[str, float]]] = {}
        self.lexical: dict[tuple[str, int], list[tuple[str, float]]] = {}
        for qid, q in queries:
            vector = index.embedder.embed_query(q)
            for n in sorted({*depths, DEEP}):
                found = index.store.query_chunks(vector, n)
                for c, _ in found:  # chunks the lexical cache lacks (there should be none)
                    self.chunks.setdefault(tag + c.id, c.model_copy(update={"id": tag + c.id}))
                self.dense[qid, n] = [(tag + c.id, s) for c, s in found]
                self.lexical[qid, n] = [(tag + cid, s) for cid, s in lexical.search(q, n)]

    def get(self, which: str, qid: str, n: int, deep: bool = False) -> list[tuple[str, float]]:
        lists = self.dense if which == "dense" else self.lexical
        if deep or (qid, n) not in lists:
            return lists[qid, DEEP][:n]
        return lists[qid, n]


def depths_for(candidates) -> set[int]:
    """The n Index.search asks each retriever for, at k=10 and k=100."""
    return {max(c, k * 4) for c in candidates for k in (10, 100)}


def simulate(dense_r: Rankings, lexical_r: Rankings, queries, settings, *, pure: bool = False, deep: bool = False):
    """What Index.search would return with these retrieval settings, from stored rankings.

    ``pure`` drops a zero-weight retriever's list entirely (the real search still lets its
    papers in with score 0, where they can fill the tail of a k=100 list). ``deep`` uses
    the truncated n=1000 dense list instead (a near-exact nearest-neighbour search).
    """
    from assistant.retrieval import fuse

    chunks = {**dense_r.chunks, **lexical_r.chunks}
    runs = {}
    for qid, _ in queries:
        lists = []
        for k in (10, 100):
            n = max(settings.candidates, k * 4)
            dense = dense_r.get("dense", qid, n, deep) if not (pure and settings.dense_weight == 0) else []
            lexical = lexical_r.get("lexical", qid, n) if not (pure and settings.lexical_weight == 0) else []
            sub = {cid: chunks[cid] for cid, _ in dense + lexical}
            lists.append([h.paper_id for h in fuse(dense, lexical, sub, dense_r.papers, settings, k)])
        runs[qid] = (lists[0], lists[1])
    return runs


def agreement(a, b) -> float:
    """Share of queries whose top-10 lists are identical."""
    return sum(a[q][0] == b[q][0] for q in a) / len(a)


# -- main -----------------------------------------------------------------------------------------


def main() -> None:
    args = parse_args()
    scifact = scifact_or_skip(args.scifact)
    quiet_logs()
    threads = apply_threads(args.torch_threads)
    from assistant.indexing.embedding import load_embedder
    from assistant.settings import RetrievalSettings, Settings

    configs = [tuple(int(x) for x in c.split("/")) for c in args.chunk_configs.split(",") if c.strip()]
    papers = scifact_papers(scifact, args.papers or None)
    queries, qrels = scifact_queries(scifact)
    if args.queries:
        queries = queries[: args.queries]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="review-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    defaults = Settings().retrieval
    out: dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "papers": len(papers), "queries": len(queries)}
    print(f"SciFact train: {len(papers)} abstracts, {len(queries)} claims with qrels; workdir {workdir}")
    print(f"retrieval defaults: {defaults.model_dump()}; torch threads {threads}")
    embedder = MemoEmbedder(load_embedder(Settings().embedding), args.emb_cache or None)
    try:
        # 1. main table ---------------------------------------------------------------------
        sentences, overlap = configs[0]
        index, info = build_index(papers, workdir, sentences, overlap, embedder)
        print(f"\nindex {info}")
        out["indexes"] = [info]
        started = time.perf_counter()
        real = {
            "BM25 alone (dense_weight=0)": real_search(index, queries, dense_weight=0.0),
            "dense alone (lexical_weight=0)": real_search(index, queries, lexical_weight=0.0),
            "hybrid (defaults)": real_search(index, queries),
        }
        per_search_ms = (time.perf_counter() - started) * 1000 / (len(queries) * 6)
        rows = [{"retriever": name, **score(run, queries, qrels)} for name, run in real.items()]
        print(f"\n## Main table: real Index.search, chunks {sentences}/{overlap}, {len(queries)} claims")
        print(table(rows))
        print(f"({per_search_ms:.0f} ms per search, embedding memoised per query)")
        out["main"] = rows
        if args.no_sweep:
            return

        # 2. fusion sweep -------------------------------------------------------------------
        print("\nfetching deep rankings for the sweep ...", file=sys.stderr, flush=True)
        main_r = Rankings(index, queries, depths_for(CANDIDATES))
        rs = lambda **kw: defaults.model_copy(update=kw)  # noqa: E731
        check = simulate(main_r, main_r, queries, defaults)
        print(
            f"\nsweep check: simulated default == real hybrid top-10 for {agreement(check, real['hybrid (defaults)']):.1%} of claims"
        )
        variants: list[tuple[str, RetrievalSettings, bool]] = [
            ("BM25 pure (dense list dropped)", rs(dense_weight=0.0), True),
            ("dense pure (BM25 list dropped)", rs(lexical_weight=0.0), True),
        ]
        deep_rows = [
            ("deep: dense pure, near-exact kNN", rs(lexical_weight=0.0), True),
            ("deep: hybrid defaults, near-exact kNN", defaults, False),
        ]
        for dw, lw in [(1, 1), (1, 0.5), (1, 0.75), (0.75, 1), (0.5, 1), (0.35, 1)]:
            for rrf_k in (2, 5, 10, 20, 30, 60, 100):
                variants.append(
                    (
                        f"w dense={dw} bm25={lw} rrf_k={rrf_k}",
                        rs(dense_weight=dw, lexical_weight=lw, rrf_k=rrf_k),
                        False,
                    )
                )
        sweep = []
        for name, cfg, pure in variants:
            sweep.append(
                {
                    "variant": name,
                    **score(simulate(main_r, main_r, queries, cfg, pure=pure), queries, qrels),
                    "_cfg": cfg,
                }
            )
        best = max(sweep[2:], key=lambda r: r["nDCG@10"])  # not the two pure rows
        for name, cfg, pure in deep_rows:
            sweep.append(
                {
                    "variant": name,
                    **score(simulate(main_r, main_r, queries, cfg, pure=pure, deep=True), queries, qrels),
                    "_cfg": cfg,
                }
            )
        for cand in [c for c in CANDIDATES if c != defaults.candidates]:
            cfg = best["_cfg"].model_copy(update={"candidates": cand})
            name = f"{best['variant']} candidates={cand}"
            sweep.append(
                {"variant": name, **score(simulate(main_r, main_r, queries, cfg), queries, qrels), "_cfg": cfg}
            )
        sweep.sort(key=lambda r: -r["nDCG@10"])
        print(f"\n## Fusion sweep on chunks {sentences}/{overlap} (sorted by nDCG@10; candidates=100 unless named)")
        print(table(sweep, ["variant", "nDCG@10", "R@100"]))
        out["sweep"] = [{k: v for k, v in r.items() if k != "_cfg"} for r in sweep]
        best_cfg = max(
            (r for r in sweep if not r["variant"].endswith("dropped)") and not r["variant"].startswith("deep")),
            key=lambda r: r["nDCG@10"],
        )["_cfg"]

        # 3. chunk-size variants (re-ingest) ------------------------------------------------
        rankings = {f"{sentences}/{overlap}": main_r}
        for sentences, overlap in configs[1:]:
            tag = f"{sentences}/{overlap}"
            index, info = build_index(papers, workdir, sentences, overlap, embedder)
            print(f"\nindex {info}", flush=True)
            out["indexes"].append(info)
            rankings[tag] = Rankings(
                index, queries, depths_for([defaults.candidates, best_cfg.candidates]), tag=f"[{tag}]"
            )
        rows = []
        for tag, r in rankings.items():
            for name, cfg, pure in [
                ("BM25 pure", rs(dense_weight=0.0), True),
                ("dense pure", rs(lexical_weight=0.0), True),
                ("hybrid defaults", defaults, False),
                ("hybrid best-of-sweep", best_cfg, False),
            ]:
                rows.append(
                    {"chunks": tag, "retriever": name, **score(simulate(r, r, queries, cfg, pure=pure), queries, qrels)}
                )
        # Each retriever may prefer its own chunking: dense from one index, BM25 from another.
        for dtag, dr in rankings.items():
            for ltag, lr in rankings.items():
                if dtag == ltag:
                    continue
                for name, cfg in [("hybrid defaults", defaults), ("hybrid best-of-sweep", best_cfg)]:
                    rows.append(
                        {
                            "chunks": f"dense {dtag} + BM25 {ltag}",
                            "retriever": name,
                            **score(simulate(dr, lr, queries, cfg), queries, qrels),
                        }
                    )
        print("\n## Chunk configs (sentences/overlap), rankings rerun through fuse")
        print(f"best-of-sweep = {best_cfg.model_dump()}")
        print(table(rows))
        out["chunk_configs"] = rows
        out["best_fusion"] = best_cfg.model_dump()
    finally:
        if args.json:
            args.json.write_text(json.dumps(out, indent=2))
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
