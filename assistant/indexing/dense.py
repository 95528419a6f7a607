"""Exact dense search: the chunk-embedding matrix cached as a memory-mapped float32 ``.npy``.

Chroma stays the store of record; this is derived data like the BM25 cache (``cachedir``,
keyed by the store's generation). Rows are sorted by chunk id and ties are broken by row, so
every process that reads the same cache gives the same ranking (Chroma's HNSW answers differ
slightly between loads of one store). An exact matrix-vector product over 20K x 384 float32
takes about a millisecond; see the README for where it stops being cheap.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .cachedir import read_meta, write_cache_dir

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["DenseMatrix", "top_rows"]

log = logging.getLogger(__name__)

_VECTORS = "vectors.npy"
_IDS = "ids.json"


def top_rows(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` highest scores, best first, ties by lower index (deterministic)."""
    n = min(n, len(scores))
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    if n < len(scores):
        part = np.argpartition(-scores, n - 1)[:n]
        # argpartition picks arbitrarily among ties at the cut: take every row tied with the nth best.
        cut = scores[part].min()
        part = np.flatnonzero(scores >= cut)
    else:
        part = np.arange(len(scores))
    order = np.lexsort((part, -scores[part].astype(np.float64)))
    return part[order][:n]


class DenseMatrix:
    """Unit vectors of the committed chunks, one row per chunk id (sorted), searched exactly."""

    def __init__(self, ids: Sequence[str], vectors: np.ndarray, generation: str) -> None:
        self.ids = list(ids)
        self.vectors = vectors
        self.generation = generation

    @classmethod
    def build(cls, ids: Sequence[str], vectors: np.ndarray, generation: str) -> DenseMatrix:
        """A matrix of these rows, reordered by chunk id."""
        order = sorted(range(len(ids)), key=lambda i: ids[i])
        matrix = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32).reshape(len(ids), -1)[order])
        return cls([ids[i] for i in order], matrix, generation)

    def search(self, query: np.ndarray, n: int) -> list[tuple[str, float]]:
        """Chunk ids with cosine similarity, best first."""
        if not self.ids:
            return []
        # einsum, not BLAS: one thread, same summation order in every process, and on a busy
        # 2-core machine 4x faster than BLAS's two threads on this memory-bound product.
        scores = np.einsum("ij,j->i", self.vectors, np.asarray(query, dtype=np.float32))
        return [(self.ids[i], float(scores[i])) for i in top_rows(scores, n)]

    def save(self, directory: Path) -> None:
        """Write to ``directory`` atomically (see ``cachedir``)."""
        if not self.ids:
            return

        def write(tmp: Path) -> None:
            np.save(tmp / _VECTORS, self.vectors)
            (tmp / _IDS).write_text(json.dumps(self.ids))

        meta = {"generation": self.generation, "rows": len(self.ids), "dimension": int(self.vectors.shape[1])}
        write_cache_dir(directory, meta, write)

    @classmethod
    def load(cls, directory: Path, generation: str) -> DenseMatrix | None:
        """The cached matrix (memory-mapped) if it matches ``generation``, else None."""
        meta = read_meta(directory, generation)
        if meta is None:
            return None
        try:
            vectors = np.load(directory / _VECTORS, mmap_mode="r")
            ids = json.loads((directory / _IDS).read_text())
            if vectors.dtype != np.float32 or vectors.shape != (len(ids), meta["dimension"]):
                raise ValueError(f"matrix {vectors.shape} {vectors.dtype} does not fit {len(ids)} ids")
        except Exception as exc:  # a broken cache is rebuilt, never fatal
            log.warning("ignoring dense cache in %s: %s", directory, exc)
            return None
        return cls(ids, vectors, generation)
