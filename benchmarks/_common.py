"""Shared plumbing for the benchmark scripts: SciFact loading, metrics, an embedding memo, timing.

Not part of the package: these scripts measure it from the outside, through its public and
index-level API, and print figures (no assertions).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.evaluation.metrics import ndcg_at  # noqa: F401 (re-exported for the scripts)

if TYPE_CHECKING:
    import numpy as np

    from assistant.models import Paper

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SCIFACT = REPO.parent / "shared" / "benchmarks" / "scifact"
SCIFACT_FILES = ("corpus.jsonl", "claims_train.jsonl", "qrels_train.tsv")


def add_scifact_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scifact",
        type=Path,
        default=DEFAULT_SCIFACT,
        help=f"SciFact folder with {', '.join(SCIFACT_FILES)} (default: {DEFAULT_SCIFACT})",
    )


def add_threads_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=0,
        help="torch.set_num_threads before anything runs (default: torch's choice, one per core).",
    )


def apply_threads(n: int) -> int:
    """Set torch's intra-op threads when asked; the count in force."""
    import torch

    if n:
        torch.set_num_threads(n)
    return torch.get_num_threads()


def scifact_or_skip(directory: Path, *, required: bool = True) -> Path | None:
    """The SciFact folder, or None after a skip message when its files are missing."""
    missing = [f for f in SCIFACT_FILES if not (directory / f).is_file()]
    if not missing:
        return directory
    print(f"skipped: SciFact not found at {directory} (missing {', '.join(missing)}); pass --scifact DIR")
    if required:
        sys.exit(0)
    return None


def quiet_logs() -> None:
    """Third-party loggers (bm25s sets itself to DEBUG on import) down to warnings."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.WARNING)
    for name in ("bm25s", "chromadb", "sentence_transformers", "transformers", "httpx"):
        logging.getLogger(name).setLevel(logging.WARNING)


def scifact_papers(directory: Path, limit: int | None = None) -> list[Paper]:
    """SciFact abstracts as Paper records: id ``d<doc_id>``, abstract = sentences joined."""
    from assistant.models import Paper

    papers = []
    with open(directory / "corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            papers.append(
                Paper(
                    id=f"d{doc['doc_id']}",
                    title=" ".join(doc["title"].split()),
                    abstract=" ".join(" ".join(doc["abstract"]).split()),
                    sources=[f"scifact:{doc['doc_id']}"],
                )
            )
            if limit and len(papers) >= limit:
                break
    return papers


def write_jsonl(papers: Sequence[Paper], path: Path) -> Path:
    """The papers as a JSONL corpus file (id, title, abstract), for Assistant.ingest(paths)."""
    with open(path, "w", encoding="utf-8") as f:
        for p in papers:
            f.write(json.dumps({"id": p.id, "title": p.title, "abstract": p.abstract}) + "\n")
    return path


def scifact_queries(directory: Path) -> tuple[list[tuple[str, str]], dict[str, set[str]]]:
    """[(query id, claim)] for claims with qrels, and qrels as query id -> {paper id}."""
    qrels: dict[str, set[str]] = {}
    with open(directory / "qrels_train.tsv", encoding="utf-8") as f:
        next(f)
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and float(parts[2]) > 0:
                qrels.setdefault(parts[0], set()).add(f"d{parts[1]}")
    queries = []
    with open(directory / "claims_train.jsonl", encoding="utf-8") as f:
        for line in f:
            claim = json.loads(line)
            if str(claim["id"]) in qrels:
                queries.append((str(claim["id"]), claim["claim"]))
    return queries, qrels


def recall_at(ranked: Sequence[str], relevant: set[str], k: int = 100) -> float:
    """Share of the relevant papers in the first k."""
    return len(set(ranked[:k]) & relevant) / len(relevant) if relevant else 0.0


def scifact_retrieval(assistant, directory: Path) -> tuple[float, float]:
    """Mean nDCG@10 (of a top-10 search) and recall@100 (of a top-100 search) over SciFact train claims."""
    queries, qrels = scifact_queries(directory)
    ndcg, recall = [], []
    for qid, claim in queries:
        ndcg.append(ndcg_at([h.paper_id for h in assistant.search(claim, 10).hits], qrels[qid], 10))
        recall.append(recall_at([h.paper_id for h in assistant.search(claim, 100).hits], qrels[qid], 100))
    return sum(ndcg) / len(ndcg), sum(recall) / len(recall)


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100)."""
    xs = sorted(values)
    if not xs:
        return float("nan")
    pos = (len(xs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def table(rows: list[dict], columns: Sequence[str] | None = None) -> str:
    """A plain Markdown table."""
    if not rows:
        return "(no rows)"
    columns = list(columns or rows[0].keys())
    cells = [[_fmt(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    line = lambda xs: "| " + " | ".join(x.ljust(w) for x, w in zip(xs, widths)) + " |"  # noqa: E731
    return "\n".join([line(columns), "| " + " | ".join("-" * w for w in widths) + " |", *map(line, cells)])


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


class Ticker:
    """Progress lines on stderr, at most every ``every`` seconds."""

    def __init__(self, label: str, every: float = 30.0) -> None:
        self.label, self.every = label, every
        self.start = self.last = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if done >= total or now - self.last >= self.every:
            self.last = now
            print(f"  [{self.label}] {done}/{total} after {now - self.start:.0f}s", file=sys.stderr, flush=True)


class MemoEmbedder:
    """Wraps an Embedder; remembers document vectors on disk by (model, prefix, text).

    Only for the retrieval benchmark, whose chunk-size variants re-ingest the same corpus:
    ingest still runs the project's own Index.ingest (chunking, store, lexical index), only
    texts already encoded in an earlier run are not encoded again. Never used for timing.
    """

    def __init__(self, inner, directory: Path | None) -> None:
        import numpy as np

        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.encoded = 0
        self.reused = 0
        self._queries: dict[str, np.ndarray] = {}
        self._vectors: dict[str, np.ndarray] = {}
        self._dir = directory / hashlib.sha1(inner.name.encode()).hexdigest()[:10] if directory else None
        if self._dir and self._dir.is_dir():
            for keys_file in sorted(self._dir.glob("*.keys.json")):
                vec_file = keys_file.with_name(keys_file.name.replace(".keys.json", ".npy"))
                try:
                    keys = json.loads(keys_file.read_text())
                    vectors = np.load(vec_file)
                except (OSError, ValueError):
                    continue
                self._vectors.update(zip(keys, vectors))

    def _key(self, text: str) -> str:
        prefix = self.inner.settings.document_prefix if hasattr(self.inner, "settings") else ""
        return hashlib.sha1(f"{prefix}\0{text}".encode()).hexdigest()

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        keys = [self._key(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self._vectors))
        if missing:
            by_key = {k: t for k, t in zip(keys, texts)}
            vectors = self.inner.embed_documents([by_key[k] for k in missing])
            self._vectors.update(zip(missing, vectors))
            self.encoded += len(missing)
            if self._dir:
                self._dir.mkdir(parents=True, exist_ok=True)
                stem = f"{time.time_ns()}-{os.getpid()}"
                np.save(self._dir / f"{stem}.npy", np.asarray(vectors, dtype=np.float32))
                (self._dir / f"{stem}.keys.json").write_text(json.dumps(missing))
        self.reused += len(keys) - len(missing)
        return np.asarray([self._vectors[k] for k in keys], dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        if text not in self._queries:
            self._queries[text] = self.inner.embed_query(text)
        return self._queries[text]
