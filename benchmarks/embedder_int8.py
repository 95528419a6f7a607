"""The embedder's int8 twin next to its fp32 ONNX export, side by side in one run (issue 14).

    python benchmarks/embedder_int8.py [--scifact DIR] [--papers N] [--ingest-papers 1000]
        [--fp32-store DIR --timing-texts 2048] [--json out.json]

1. Encode: the chunk texts ``Index.ingest`` embeds for the SciFact corpus (default chunks, each
   distinct text once), encoded by both backends in blocks of 512, alternating which goes first,
   so a drifting machine load hits both alike. Texts/s of each and the ratio. Encoding 21K texts
   twice takes over an hour on 2 busy cores: ``--fp32-store`` takes the fp32 vectors from the
   dense cache of a SciFact store built by the ONNX path (``store/dense``, by chunk id), times
   both backends on ``--timing-texts`` texts spread over the corpus (and checks the stored
   vectors against fresh fp32 ones there), and encodes the rest with int8 only.
2. Agreement: cosine of each text's int8 vector to its fp32 vector (all chunk texts, and the
   train claims as queries): min, 1st and 5th percentile, mean.
3. Retrieval: each backend's vectors go through the project's own ``Index.ingest`` (a lookup
   embedder hands over the vectors of step 1; queries are embedded by that backend) into a fresh
   store, and the real search scores nDCG@10 (k=10 list) and recall@100 (k=100 list) on the train
   claims: hybrid default and dense alone. Two more stores answer whether an index that mixes
   the two is harmless: int8 documents searched with fp32 queries, and every second chunk text
   int8, the others fp32.
4. Ingest (``--ingest-papers N``, 0 to skip): a real ``Assistant.ingest`` of the first N
   abstracts with each backend, fp32 first then int8, fresh store each.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    Ticker,
    add_scifact_arg,
    ndcg_at,
    quiet_logs,
    recall_at,
    scifact_or_skip,
    scifact_papers,
    scifact_queries,
    table,
    write_jsonl,
)

BACKENDS = ("onnx", "onnx-int8")
BLOCK = 512


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_scifact_arg(p)
    p.add_argument("--papers", type=int, default=0, help="Only the first N abstracts (smoke runs).")
    p.add_argument("--ingest-papers", type=int, default=1000, help="Abstracts for the real-ingest timing (0: skip).")
    p.add_argument("--workdir", type=Path, help="Keep stores here (default: a temporary dir, removed at the end).")
    p.add_argument(
        "--fp32-store", type=Path, help="A SciFact store (default chunks) whose dense cache has fp32 vectors."
    )
    p.add_argument("--timing-texts", type=int, default=2048, help="Texts timed on both backends with --fp32-store.")
    p.add_argument("--json", type=Path, help="Also write every figure to this JSON file.")
    return p.parse_args()


class Lookup:
    """An Embedder that returns precomputed document vectors; queries go to the real embedder."""

    def __init__(self, inner, vectors: dict[str, object]) -> None:
        self.inner, self.vectors = inner, vectors
        self.name, self.dimension = inner.name, inner.dimension

    def embed_documents(self, texts):
        import numpy as np

        return np.asarray([self.vectors[t] for t in texts], dtype=np.float32)

    def embed_query(self, text: str):
        return self.inner.embed_query(text)


def chunk_texts(papers, settings) -> dict[str, str]:
    """Chunk id -> text of what Index.ingest embeds for these papers (ingest.py builds them the same way)."""
    from assistant.indexing.chunking import chunk_paper
    from assistant.indexing.lexical import chunk_text_for_index

    cfg = settings.chunks
    return {c.id: chunk_text_for_index(p.title, c) for p in papers for c in chunk_paper(p, cfg.sentences, cfg.overlap)}


def stored_vectors(store: Path, by_id: dict[str, str]) -> dict[str, object]:
    """Text -> vector from a store's dense cache (ids.json + vectors.npy), for the chunks in ``by_id``."""
    import numpy as np

    ids = json.loads((store / "dense" / "ids.json").read_text())
    matrix = np.load(store / "dense" / "vectors.npy", mmap_mode="r")
    out = {by_id[cid]: np.array(matrix[i]) for i, cid in enumerate(ids) if cid in by_id}
    missing = len(set(by_id.values()) - set(out))
    if missing:
        sys.exit(f"{store} lacks {missing} of the chunk texts: was it built with other papers or chunks?")
    return out


def encode_paired(embedders: dict, texts: list[str]) -> tuple[dict, dict]:
    """Vectors and encode seconds per backend, blocks alternating which backend goes first."""
    import numpy as np

    seconds = dict.fromkeys(embedders, 0.0)
    parts: dict[str, list] = {b: [] for b in embedders}
    tick = Ticker("encode")
    for n, start in enumerate(range(0, len(texts), BLOCK)):
        block = texts[start : start + BLOCK]
        for b in list(embedders)[:: 1 if n % 2 == 0 else -1]:
            t0 = time.perf_counter()
            parts[b].append(embedders[b].embed_documents(block))
            seconds[b] += time.perf_counter() - t0
        tick(start + len(block), len(texts))
    return {b: np.concatenate(v) for b, v in parts.items()}, seconds


def cosines(a, b) -> dict[str, float]:
    import numpy as np

    c = (a * b).sum(axis=1)
    return {
        "n": len(c),
        "min": float(c.min()),
        "p1": float(np.percentile(c, 1)),
        "p5": float(np.percentile(c, 5)),
        "mean": float(c.mean()),
        ">=0.99 %": float(100 * (c >= 0.99).mean()),
    }


def retrieval(papers, settings, embedder, queries, qrels) -> dict[str, float]:
    """Ingest through the project's Index, then the real search: hybrid default and dense alone."""
    from assistant.indexing import Index
    from assistant.retrieval import search

    index = Index(settings, embedder=embedder, create=True, rebuild=True)
    t0 = time.perf_counter()
    index.ingest(papers, progress=Ticker("ingest (lookup)"))
    out: dict[str, float] = {"store+bm25 s (no encode)": time.perf_counter() - t0}
    base = settings.retrieval
    for label, update in (("hybrid", {}), ("dense", {"lexical_weight": 0.0})):
        index.settings = settings.model_copy(update={"retrieval": base.model_copy(update=update)})
        ndcg, recall = [], []
        for qid, q in queries:
            ndcg.append(ndcg_at([h.paper_id for h in search(index, q, 10)], qrels[qid], 10))
            recall.append(recall_at([h.paper_id for h in search(index, q, 100)], qrels[qid], 100))
        out[f"{label} nDCG@10"] = sum(ndcg) / len(ndcg)
        out[f"{label} R@100"] = sum(recall) / len(recall)
    return out


def real_ingest(papers, workdir: Path, cache: Path) -> list[dict]:
    """A whole Assistant.ingest of ``papers`` per backend (embedder load included), fresh stores."""
    from assistant import Assistant, Settings

    jsonl = write_jsonl(papers, workdir / "ingest.jsonl")
    rows = []
    for backend in BACKENDS:
        settings = Settings(
            paths={"store": workdir / f"ingest-{backend}", "cache": cache},
            embedding={"backend": backend, "ingest_int8": False},
        )
        t0 = time.perf_counter()
        report = Assistant(settings).ingest([jsonl])
        rows.append(
            {
                "backend": backend,
                "papers": report.papers_seen,
                "chunks": report.chunks_embedded,
                "ingest s": report.seconds,
                "end-to-end s": time.perf_counter() - t0,
                "papers/s": report.papers_seen / report.seconds,
            }
        )
        print(f"  ingest {backend}: {report.seconds:.1f}s", file=sys.stderr, flush=True)
    return rows


def main() -> None:
    args = parse_args()
    scifact = scifact_or_skip(args.scifact)
    quiet_logs()
    from assistant.indexing.embedding import load_embedder
    from assistant.settings import Settings

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="review-int8-"))
    workdir.mkdir(parents=True, exist_ok=True)
    cache = Settings().paths.cache  # the user's export cache: the fp32 export and its twin are reused
    papers = scifact_papers(scifact, args.papers or None)
    queries, qrels = scifact_queries(scifact)
    ids = {p.id for p in papers}
    queries = [(qid, q) for qid, q in queries if qrels[qid] & ids]
    base = Settings(paths={"cache": cache})
    # ingest_int8 off: "onnx" is the fp32 export here, at ingest as at query time.
    embedders = {
        b: load_embedder(base.embedding.model_copy(update={"backend": b, "ingest_int8": False}), cache, batch=True)
        for b in BACKENDS
    }
    by_id = chunk_texts(papers, base)
    texts = list(dict.fromkeys(by_id.values()))
    print(
        f"int8 vs fp32 embedder {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cpus, "
        f"{len(papers)} abstracts, {len(texts)} distinct chunk texts, {len(queries)} claims, "
        f"batch {base.embedding.batch_size}; files: "
        + ", ".join(f"{b}={e.path.name} ({e.path.stat().st_size >> 20} MB)" for b, e in embedders.items()),
        flush=True,
    )
    try:
        import numpy as np

        extra = []
        if args.fp32_store:
            stored = stored_vectors(args.fp32_store, by_id)
            timed = texts[:: max(1, len(texts) // args.timing_texts)][: args.timing_texts]
            got, seconds = encode_paired(embedders, timed)
            extra.append(
                {"texts": "stored fp32 vs fresh fp32", **cosines(np.asarray([stored[t] for t in timed]), got["onnx"])}
            )
            done = dict(zip(timed, got["onnx-int8"]))
            rest = [t for t in texts if t not in done]
            t0 = time.perf_counter()
            done.update(zip(rest, embedders["onnx-int8"].embed_documents(rest)))
            print(f"  int8 encoded the other {len(rest)} texts in {time.perf_counter() - t0:.0f}s", flush=True)
            vectors = {
                "onnx": np.asarray([stored[t] for t in texts]),
                "onnx-int8": np.asarray([done[t] for t in texts]),
            }
        else:
            timed = texts
            vectors, seconds = encode_paired(embedders, texts)
        encode = [
            {"backend": b, "texts": len(timed), "encode s": seconds[b], "texts/s": len(timed) / seconds[b]}
            for b in BACKENDS
        ]
        print("\n## Encode, same chunk texts, blocks alternating\n" + table(encode))
        print(f"int8 speed-up: {seconds['onnx'] / seconds['onnx-int8']:.2f}x", flush=True)

        qv = {b: e.encode([q for _, q in queries]) for b, e in embedders.items()}
        agree = [
            {"texts": "chunk texts", **cosines(vectors["onnx-int8"], vectors["onnx"])},
            {"texts": "claims (queries)", **cosines(qv["onnx-int8"], qv["onnx"])},
            *extra,
        ]
        print("\n## Cosine int8 vs fp32, per text\n" + table(agree), flush=True)

        fp32, int8 = vectors["onnx"], vectors["onnx-int8"]
        mixed = {t: (int8 if i % 2 else fp32)[i] for i, t in enumerate(texts)}
        runs = {  # name: (document vectors, query embedder)
            "fp32": (dict(zip(texts, fp32)), "onnx"),
            "int8": (dict(zip(texts, int8)), "onnx-int8"),
            "int8 docs, fp32 queries": (dict(zip(texts, int8)), "onnx"),
            "mixed docs (every 2nd text int8), fp32 queries": (mixed, "onnx"),
        }
        quality = []
        for n, (name, (docs, q)) in enumerate(runs.items()):
            settings = Settings(paths={"store": workdir / f"store-{n}", "cache": cache})
            quality.append({"vectors": name, **retrieval(papers, settings, Lookup(embedders[q], docs), queries, qrels)})
            print(f"  retrieval {name} done", file=sys.stderr, flush=True)
        print(f"\n## SciFact train, {len(queries)} claims, {len(papers)} abstracts\n" + table(quality))
        delta = quality[1]["hybrid nDCG@10"] - quality[0]["hybrid nDCG@10"]
        print(f"hybrid nDCG@10 int8 - fp32: {delta:+.4f}", flush=True)

        ingest = real_ingest(papers[: args.ingest_papers], workdir, cache) if args.ingest_papers else []
        if ingest:
            print(f"\n## Real ingest, first {len(ingest and papers[: args.ingest_papers])} abstracts\n" + table(ingest))
        if args.json:
            args.json.write_text(
                json.dumps({"encode": encode, "agreement": agree, "quality": quality, "ingest": ingest}, indent=1)
            )
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
