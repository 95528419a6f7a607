"""Lexical retrieval: BM25 (bm25s) over the same chunks as the dense index.

The BM25 index is derived data: built from the store's chunks and cached on disk (``cachedir``),
keyed by the store's generation token, so it is rebuilt only after the index content changed.

bm25s builds and saves it; a search reads the saved score matrix (CSC arrays, vocabulary,
stopwords) with numpy alone and ranks as ``bm25s.BM25.retrieve`` does (the same sums in the same
order, the same top-k selection; ``tests/test_lexical_lean.py`` compares the two). Importing bm25s
pulls in scipy, about 0.4 s of a cold `review search`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path

from ..models import Chunk
from .cachedir import read_meta, write_cache_dir

__all__ = ["LexicalIndex", "chunk_text_for_index"]

log = logging.getLogger(__name__)


def chunk_text_for_index(title: str, chunk: Chunk) -> str:
    """What both retrievers see of a chunk: its paper's title gives every window context."""
    return f"{title}. {chunk.text}"


def _stemmer():
    try:
        import Stemmer

        return Stemmer.Stemmer("english")
    except ImportError:  # stemming is an improvement, not a requirement
        return None


_STOPWORDS = "stopwords.json"
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s.tokenize's default token_pattern


class _Scorer:
    """BM25 scores from bm25s's saved eager index: one column of the doc x term matrix per query
    term, summed (``BM25._compute_relevance_from_scores``), top k as ``bm25s.selection`` picks it."""

    def __init__(self, data, indices, indptr, vocab: dict[str, int], stopwords, num_docs: int, dtype: str) -> None:
        import numpy as np

        self.data, self.indices = data, indices
        self.indptr = np.asarray(indptr)
        self.vocab = vocab
        self.stopwords = frozenset(stopwords)
        self.num_docs = num_docs
        self.dtype = np.dtype(dtype)
        self._stemmer = _stemmer()

    @classmethod
    def from_retriever(cls, retriever, stopwords) -> _Scorer:
        sc = retriever.scores
        return cls(
            sc["data"], sc["indices"], sc["indptr"], retriever.vocab_dict, stopwords, sc["num_docs"], retriever.dtype
        )

    @classmethod
    def load(cls, directory: Path) -> _Scorer:
        import numpy as np

        params = json.loads((directory / "params.index.json").read_text())
        if params.get("method") != "lucene" or params.get("backend", "numpy") != "numpy":
            raise ValueError(f"unexpected BM25 parameters {params}")
        arrays = [np.load(directory / f"{name}.csc.index.npy", mmap_mode="r") for name in ("data", "indices", "indptr")]
        vocab = json.loads((directory / "vocab.index.json").read_text())
        stopwords = json.loads((directory / _STOPWORDS).read_text())
        return cls(*arrays, vocab, stopwords, int(params["num_docs"]), params.get("dtype", "float32"))

    def token_ids(self, query: str) -> list[int]:
        """bm25s.tokenize(query, stopwords="en", stemmer=...) mapped to the index's vocabulary."""
        words = [w for w in _TOKEN.findall(query.lower()) if w not in self.stopwords]
        if self._stemmer is not None:
            words = self._stemmer.stemWords(words)
        return [self.vocab[w] for w in words if w in self.vocab]

    def top(self, query: str, k: int) -> list[tuple[int, float]]:
        import numpy as np

        ids = np.asarray(self.token_ids(query), dtype=np.int64)
        if not len(ids) or k <= 0:
            return []
        scores = np.zeros(self.num_docs, dtype=self.dtype)
        starts, ends = self.indptr[ids], self.indptr[ids + 1]
        for start, end in zip(starts, ends):
            # A column of the CSC matrix names each document once, so a plain fancy-index add is
            # np.add.at (what bm25s does) with the same float32 sums, many times faster.
            scores[self.indices[start:end]] += self.data[start:end]
        k = min(k, self.num_docs)
        part = np.argpartition(scores, -k).take(indices=range(-k, 0))
        part_scores = np.take(scores, part)
        order = np.flip(np.argsort(part_scores))
        return [(int(d), float(s)) for d, s in zip(part[order], part_scores[order]) if s > 0]


class LexicalIndex:
    """BM25 over chunk ids."""

    def __init__(self, scorer: _Scorer | None, chunks: list[Chunk], generation: str, retriever=None) -> None:
        self._scorer = scorer
        self._retriever = retriever  # bm25s's, kept only by build() for save()
        self.chunks = chunks
        self.chunk_ids = [c.id for c in chunks]
        self.generation = generation

    @classmethod
    def build(cls, chunks: Sequence[Chunk], texts: Sequence[str], generation: str) -> LexicalIndex:
        """Index texts (one per chunk)."""
        import bm25s
        from bm25s.tokenization import _infer_stopwords

        if not texts:
            return cls(None, list(chunks), generation)
        retriever = bm25s.BM25()
        tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=_stemmer(), show_progress=False)
        retriever.index(tokens, show_progress=False)
        scorer = _Scorer.from_retriever(retriever, list(_infer_stopwords("en")))
        return cls(scorer, list(chunks), generation, retriever)

    def search(self, query: str, n: int) -> list[tuple[str, float]]:
        """Chunk ids with BM25 scores, best first (only chunks sharing a term with the query)."""
        if not self.chunk_ids or self._scorer is None:
            return []
        return [(self.chunk_ids[d], s) for d, s in self._scorer.top(query, min(n, len(self.chunk_ids)))]

    def save(self, directory: Path) -> None:
        """Write to ``directory`` atomically (see ``cachedir``: a half-written cache is never read)."""
        if not self.chunks or self._retriever is None or self._scorer is None:
            return
        meta = {"generation": self.generation, "chunks": [c.model_dump() for c in self.chunks]}
        stopwords = sorted(self._scorer.stopwords)

        def write(tmp: Path) -> None:
            self._retriever.save(str(tmp))
            (tmp / _STOPWORDS).write_text(json.dumps(stopwords))

        write_cache_dir(directory, meta, write)

    @classmethod
    def load(cls, directory: Path, generation: str) -> LexicalIndex | None:
        """The cached index if it matches ``generation``, else None (a cache without its stopwords,
        written by an older version, is rebuilt)."""
        meta = read_meta(directory, generation)
        if meta is None:
            return None
        if not (directory / _STOPWORDS).is_file():
            log.info("the lexical cache in %s predates the numpy scorer; rebuilding it", directory)
            return None
        try:
            scorer = _Scorer.load(directory)
            chunks = [Chunk(**c) for c in meta["chunks"]]
        except Exception as exc:  # a broken cache is rebuilt, never fatal
            log.warning("ignoring lexical cache in %s: %s", directory, exc)
            return None
        return cls(scorer, chunks, generation)
