"""The corpus map: every paper as a point of a 2-D PCA projection of its embedding, coloured by
k-means cluster, each cluster labelled by its most distinctive title words; drawn as SVG."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..indexing import Index
    from ..models import Paper

__all__ = ["CorpusMap", "build_map", "kmeans", "paper_vectors", "pca_2d", "similar", "to_svg"]

# Colour-blind-safe qualitative palette (Okabe-Ito, then Tableau), enough for 12 clusters.
PALETTE = ("#0072B2 #E69F00 #009E73 #CC79A7 #56B4E9 #D55E00 #F0E442 #000000 #8c564b #7f7f7f #bcbd22 #17becf").split()


def paper_vectors(index: Index) -> tuple[list[str], np.ndarray]:
    """Committed papers' ids and unit embeddings (rows, same order).

    The embedded Chroma store keeps one vector per paper record: read those. Any other store
    (a fake, a future backend) gets its papers embedded here, title and abstract."""
    ids: list[str] = []
    rows: list = []
    collection = getattr(index.store, "_papers", None)  # ChromaStore's paper collection
    if collection is not None:
        got = collection.get(include=["embeddings"])
        ids, rows = list(got["ids"]), got["embeddings"]
    if not ids:
        papers = index.papers()
        ids = [p.id for p in papers]
        rows = index.embedder.embed_documents([f"{p.title}. {p.abstract}" for p in papers]) if papers else []
    matrix = np.asarray(rows, dtype=np.float32).reshape(len(ids), -1)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return ids, matrix / np.where(norms == 0, 1.0, norms)


def similar(ids: list[str], matrix: np.ndarray, paper_id: str, n: int = 5) -> list[tuple[str, float]]:
    """The ``n`` papers nearest to ``paper_id`` by cosine, with their similarity."""
    if paper_id not in ids:
        return []
    at = ids.index(paper_id)
    sims = matrix @ matrix[at]
    order = [i for i in np.argsort(-sims, kind="stable") if i != at][:n]
    return [(ids[i], float(sims[i])) for i in order]


def pca_2d(matrix: np.ndarray) -> np.ndarray:
    """The rows projected on their first two principal components (signs fixed for stable pictures)."""
    if len(matrix) == 0:
        return np.zeros((0, 2))
    centred = matrix - matrix.mean(axis=0)
    if len(matrix) == 1:
        return np.zeros((1, 2))
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    comps = vt[:2]
    if comps.shape[0] < 2:
        comps = np.vstack([comps, np.zeros_like(comps[0])])
    out = centred @ comps.T
    for j in range(2):  # the component's sign is arbitrary: make the largest coordinate positive
        if out[np.argmax(np.abs(out[:, j])), j] < 0:
            out[:, j] *= -1
    return out


def kmeans(matrix: np.ndarray, k: int, *, iterations: int = 50, seed: int = 0) -> np.ndarray:
    """Cluster ids of the rows: Lloyd's k-means with k-means++ seeding, deterministic for a seed."""
    n = len(matrix)
    k = max(1, min(k, n))
    if n == 0:
        return np.zeros(0, dtype=int)
    rng = np.random.default_rng(seed)
    centres = [matrix[rng.integers(n)]]
    for _ in range(1, k):
        d2 = np.min([((matrix - c) ** 2).sum(axis=1) for c in centres], axis=0)
        total = d2.sum()
        centres.append(matrix[rng.choice(n, p=d2 / total)] if total > 0 else matrix[rng.integers(n)])
    c = np.stack(centres)
    labels = np.zeros(n, dtype=int)
    for _ in range(iterations):
        dist = ((matrix[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
        new = dist.argmin(axis=1)
        if _ and np.array_equal(new, labels):
            break
        labels = new
        for j in range(k):
            members = matrix[labels == j]
            if len(members):
                c[j] = members.mean(axis=0)
    return labels


_WORD = re.compile(r"[a-z][a-z0-9-]{2,}")


def cluster_labels(titles: list[str], labels: np.ndarray, k: int) -> list[str]:
    """Each cluster named by the two title words most over-represented in it."""
    from ..text import LABEL_STOPWORDS

    docs = [{w for w in _WORD.findall(t.lower()) if w not in LABEL_STOPWORDS} for t in titles]
    overall = Counter(w for d in docs for w in d)
    names = []
    for j in range(k):
        members = [d for d, lab in zip(docs, labels) if lab == j]
        inside = Counter(w for d in members for w in d)
        ranked = sorted(
            (w for w, c in inside.items() if c >= 2 or len(members) < 3),
            key=lambda w: (-(inside[w] / len(members)) * math.log(len(docs) / overall[w] + 1), w),
        )
        chosen: list[str] = []
        for w in ranked:  # "tuning" says nothing after "fine-tuning"
            if not any(w in c or c in w for c in chosen):
                chosen.append(w)
            if len(chosen) == 2:
                break
        names.append(", ".join(chosen) or f"cluster {j + 1}")
    return names


@dataclass
class CorpusMap:
    """Points (paper, x, y, cluster) and the cluster names."""

    papers: list[Paper]
    xy: np.ndarray
    clusters: np.ndarray
    names: list[str]

    def points(self) -> list[dict]:
        """JSON rows for the API."""
        return [
            {"paper_id": p.id, "title": p.title, "x": round(float(x), 5), "y": round(float(y), 5), "cluster": int(c)}
            for p, (x, y), c in zip(self.papers, self.xy, self.clusters)
        ]


def build_map(papers: list[Paper], matrix: np.ndarray) -> CorpusMap:
    """Project and cluster the papers (k grows with the square root of the corpus, at most 12)."""
    k = max(1, min(len(PALETTE), round(math.sqrt(len(papers) / 3)))) if papers else 1
    clusters = kmeans(matrix, k)
    return CorpusMap(papers, pca_2d(matrix), clusters, cluster_labels([p.title for p in papers], clusters, k))


def to_svg(cmap: CorpusMap, width: int = 820, height: int = 560, pad: int = 24) -> str:
    """The map as an inline SVG: one linked circle per paper with its title as tooltip."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="corpus-map" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="Corpus map">',
        f'<rect width="{width}" height="{height}" fill="#fbfbfd" stroke="#ddd"/>',
    ]
    if len(cmap.papers):
        lo, hi = cmap.xy.min(axis=0), cmap.xy.max(axis=0)
        span = np.where(hi - lo == 0, 1.0, hi - lo)
        for paper, (x, y), c in zip(cmap.papers, cmap.xy, cmap.clusters):
            px = pad + (x - lo[0]) / span[0] * (width - 2 * pad)
            py = height - pad - (y - lo[1]) / span[1] * (height - 2 * pad)
            colour = PALETTE[int(c) % len(PALETTE)]
            pid = escape(paper.id, quote=True)
            parts.append(
                f'<a href="/paper/{pid}" class="point" data-id="{pid}" data-cluster="{int(c)}">'
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="5" fill="{colour}" fill-opacity="0.8" stroke="#fff">'
                f"<title>{escape(paper.title)} ({escape(cmap.names[int(c)])})</title></circle></a>"
            )
    parts.append("</svg>")
    return "".join(parts)
