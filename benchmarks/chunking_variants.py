"""Chunk texts for the dense index, variant by variant: tokens, encode CPU time, SciFact retrieval.

    python benchmarks/chunking_variants.py [--variants 3/1:title,3/0:none,...] [--queries N] [--json out.json]

A variant is ``sentences/overlap:title`` where title is ``title`` (the title before every
window, as built), ``none`` (no title in the dense text), ``first`` (the title before the
paper's first window only) or ``mix`` (no title in the windows; the title encoded once per paper
and added to each window's vector, both weighted by their word counts, roughly as mean pooling
over "title. window" would weigh them; normalised). For each variant, over the 5,183 SciFact abstracts:

- chunks: ``chunk_paper`` windows; tokens: what the ingest embedder's tokenizer feeds the model
  (lower-cased, truncated as it truncates), special tokens included;
- encode: the ingest embedder (``load_embedder(..., batch=True)``: int8, all cores) over each
  ingest batch's distinct texts, batch by batch as ``ingest._ingest_batch`` calls it (``mix``:
  then the batch's distinct titles); CPU seconds (``time.process_time``, all threads) and wall
  seconds. ``none`` and ``mix`` of one shape encode the same windows: the second reuses the
  first's vectors and its measured times (the same batches, so the same vectors);
- retrieval: ``assistant.retrieval.search`` itself (the product's fusion) over an in-memory
  index whose dense side is the product's exact ``DenseMatrix`` of these vectors and whose
  lexical side is the product's ``LexicalIndex`` over ``chunk_text_for_index`` (the title before
  every window: what BM25 sees whatever the dense text is); queries by the query-side embedder
  (fp32, one thread), as ``review search`` embeds them. nDCG@10 from the k=10 list, R@100 from
  the k=100 list, over all train claims with qrels; dense-only nDCG@10 with lexical_weight 0.

Nothing is written to a store; a variant costs its encode time plus about a minute of searches.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    add_scifact_arg,
    ndcg_at,
    quiet_logs,
    recall_at,
    scifact_or_skip,
    scifact_papers,
    scifact_queries,
    table,
)

DEFAULT_VARIANTS = "3/1:title,3/1:none,3/1:mix,3/0:title,3/0:none,3/0:mix,3/0:first,4/0:none,4/0:mix"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_scifact_arg(p)
    p.add_argument("--variants", default=DEFAULT_VARIANTS, help="Comma-separated (default: %(default)s).")
    p.add_argument("--queries", type=int, default=0, help="Only the first N claims (quick runs).")
    p.add_argument("--papers", type=int, default=0, help="Only the first N abstracts (smoke tests).")
    p.add_argument("--json", type=Path, help="Also write the rows to this JSON file.")
    return p.parse_args()


def dense_texts(papers, chunks, title_mode: str) -> list[str]:
    """The dense text of each chunk under a title mode (``chunks`` in paper order)."""
    from assistant.indexing.lexical import chunk_text_for_index

    titles = {p.id: p.title for p in papers}
    out = []
    for c in chunks:
        if title_mode == "title" or (title_mode == "first" and c.sentence_start == 0):
            out.append(chunk_text_for_index(titles[c.paper_id], c))
        else:
            out.append(c.text)
    return out


def token_counts(embedder, texts: list[str]) -> list[int]:
    """Tokens the model reads of each text (the embedder's own tokenizer, truncation, lower-casing)."""
    texts = [(embedder.document_prefix + t).strip() for t in texts]
    if embedder.lower:
        texts = [t.lower() for t in texts]
    return [len(e.ids) for e in embedder.tokenizer.encode_batch(texts)]


def _timed_encode(embedder, texts: list[str]):
    """(vectors of the distinct texts, text -> row, cpu s, wall s)."""
    import numpy as np

    unique = list(dict.fromkeys(texts))
    c0, w0 = time.process_time(), time.perf_counter()
    encoded = np.asarray(embedder.embed_documents(unique), dtype=np.float32)
    return encoded, {t: i for i, t in enumerate(unique)}, time.process_time() - c0, time.perf_counter() - w0


def encode_like_ingest(embedder, papers, sentences: int, overlap: int, title_mode: str, memo: dict):
    """(chunks, vectors, tokens, cpu s, wall s): batch by batch as ``_ingest_batch`` encodes.
    ``memo`` keeps the untitled windows' encodes of a shape for its other untitled variant."""
    import numpy as np

    from assistant.indexing.chunking import chunk_paper
    from assistant.indexing.ingest import _batches

    windows_mode = "none" if title_mode == "mix" else title_mode
    key = (sentences, overlap, windows_mode)
    if key not in memo:
        all_chunks, parts, batches = [], [], []
        tokens, cpu, wall = 0, 0.0, 0.0
        for batch in _batches(list(papers), sentences):
            chunks = [c for p in batch for c in chunk_paper(p, sentences, overlap)]
            texts = dense_texts(batch, chunks, windows_mode)
            encoded, row, c, w = _timed_encode(embedder, texts)
            cpu, wall = cpu + c, wall + w
            tokens += sum(token_counts(embedder, list(row)))
            parts.append(encoded[[row[t] for t in texts]])
            batches.append((batch, chunks, texts))
            all_chunks += chunks
        memo[key] = (all_chunks, np.concatenate(parts), batches, tokens, cpu, wall)
    chunks, vectors, batches, tokens, cpu, wall = memo[key]
    if title_mode != "mix":
        return chunks, vectors, tokens, cpu, wall
    # One title vector per paper, encoded per ingest batch (what a product change would do).
    mixed = []
    offset = 0
    for batch, bchunks, texts in batches:
        titles = [p.title for p in batch]
        encoded, row, c, w = _timed_encode(embedder, titles)
        cpu, wall = cpu + c, wall + w
        tokens += sum(token_counts(embedder, list(row)))
        by_paper = {p.id: p.title for p in batch}
        for i, ch in enumerate(bchunks):
            t = by_paper[ch.paper_id]
            v = len(texts[i].split()) * vectors[offset + i] + len(t.split()) * encoded[row[t]]
            mixed.append(v / (np.linalg.norm(v) or 1.0))
        offset += len(bchunks)
    return chunks, np.asarray(mixed, dtype=np.float32), tokens, cpu, wall


class MemIndex:
    """What ``retrieval.search`` reads of an ``Index``, in memory: the product's exact dense
    matrix and BM25 index, one generation, the paper records."""

    def __init__(self, settings, query_embedder, papers, chunks, vectors) -> None:
        from assistant.indexing.dense import DenseMatrix
        from assistant.indexing.lexical import LexicalIndex, chunk_text_for_index

        titles = {p.id: p.title for p in papers}
        self.settings = settings
        self.embedder = query_embedder
        self._papers = {p.id: p for p in papers}
        self._dense = DenseMatrix.build([c.id for c in chunks], vectors, "bench")
        self._lexical = LexicalIndex.build(
            chunks, [chunk_text_for_index(titles[c.paper_id], c) for c in chunks], "bench"
        )
        self.chunks = {c.id: c for c in chunks}

    def generation(self) -> str:
        return "bench"

    def lexical(self, generation=None):
        return self._lexical

    def dense_search(self, query: str, n: int, generation=None):
        return self._dense.search(self.embedder.embed_query(query), n)

    def papers(self, ids=None, generation=None):
        return [self._papers[i] for i in (ids if ids is not None else self._papers) if i in self._papers]


class QueryMemo:
    """The query embedder, each claim embedded once for all variants."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.dimension = inner, inner.name, inner.dimension
        self._memo: dict = {}

    def embed_query(self, text: str):
        if text not in self._memo:
            self._memo[text] = self.inner.embed_query(text)
        return self._memo[text]


def evaluate(index: MemIndex, queries, qrels) -> dict[str, float]:
    from assistant.retrieval import search

    ndcg, recall, dense_ndcg = [], [], []
    base = index.settings
    dense_only = base.model_copy(update={"retrieval": base.retrieval.model_copy(update={"lexical_weight": 0.0})})
    for qid, claim in queries:
        index.settings = base
        ndcg.append(ndcg_at([h.paper_id for h in search(index, claim, 10)], qrels[qid], 10))
        recall.append(recall_at([h.paper_id for h in search(index, claim, 100)], qrels[qid], 100))
        index.settings = dense_only
        dense_ndcg.append(ndcg_at([h.paper_id for h in search(index, claim, 10)], qrels[qid], 10))
    index.settings = base
    n = len(queries)
    return {"nDCG@10": sum(ndcg) / n, "R@100": sum(recall) / n, "dense nDCG@10": sum(dense_ndcg) / n}


def main() -> None:
    args = parse_args()
    scifact = scifact_or_skip(args.scifact)
    quiet_logs()
    from assistant.indexing.embedding import load_embedder
    from assistant.settings import Settings

    settings = Settings()
    papers = scifact_papers(scifact, args.papers or None)
    queries, qrels = scifact_queries(scifact)
    if args.queries:
        queries = queries[: args.queries]
    ingest_embedder = load_embedder(settings.embedding, settings.paths.cache, batch=True)
    query_embedder = QueryMemo(load_embedder(settings.embedding, settings.paths.cache))
    print(
        f"SciFact: {len(papers)} abstracts, {len(queries)} claims; ingest embedder {ingest_embedder.name} "
        f"({Path(getattr(ingest_embedder, 'path', '')).name}), retrieval {settings.retrieval.model_dump()}",
        flush=True,
    )
    rows = []
    memo: dict = {}
    for spec in [v.strip() for v in args.variants.split(",") if v.strip()]:
        shape, _, title_mode = spec.partition(":")
        sentences, overlap = (int(x) for x in shape.split("/"))
        title_mode = title_mode or "title"
        load = os.getloadavg()[0]
        chunks, vectors, tokens, cpu, wall = encode_like_ingest(
            ingest_embedder, papers, sentences, overlap, title_mode, memo
        )
        e0 = time.perf_counter()
        scores = evaluate(MemIndex(settings, query_embedder, papers, chunks, vectors), queries, qrels)
        row = {
            "variant": spec,
            "chunks": len(chunks),
            "tokens (M)": round(tokens / 1e6, 3),
            "encode CPU s": round(cpu, 1),
            "encode wall s": round(wall, 1),
            **scores,
            "load before/after": f"{load:.2f}/{os.getloadavg()[0]:.2f}",
        }
        rows.append(row)
        print(f"{row}  (searches {time.perf_counter() - e0:.0f} s)", flush=True)
    print("\n" + table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
