"""Lexical retrieval: BM25 (bm25s) over the same chunks as the dense index.

The BM25 index is derived data: built from the store's chunks and cached on disk (``cachedir``),
keyed by the store's generation token, so it is rebuilt only after the index content changed.
"""

from __future__ import annotations

import logging
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


class LexicalIndex:
    """BM25 over chunk ids."""

    def __init__(self, retriever, chunks: list[Chunk], generation: str) -> None:
        self._retriever = retriever
        self.chunks = chunks
        self.chunk_ids = [c.id for c in chunks]
        self.generation = generation
        self._stemmer = _stemmer()

    @classmethod
    def build(cls, chunks: Sequence[Chunk], texts: Sequence[str], generation: str) -> LexicalIndex:
        """Index texts (one per chunk)."""
        import bm25s

        retriever = bm25s.BM25()
        if texts:
            tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=_stemmer(), show_progress=False)
            retriever.index(tokens, show_progress=False)
        return cls(retriever, list(chunks), generation)

    def search(self, query: str, n: int) -> list[tuple[str, float]]:
        """Chunk ids with BM25 scores, best first (only chunks sharing a term with the query)."""
        import bm25s

        if not self.chunk_ids:
            return []
        tokens = bm25s.tokenize([query], stopwords="en", stemmer=self._stemmer, show_progress=False)
        if not tokens.ids or not tokens.ids[0]:
            return []
        docs, scores = self._retriever.retrieve(tokens, k=min(n, len(self.chunk_ids)), show_progress=False, n_threads=1)
        return [(self.chunk_ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]

    def save(self, directory: Path) -> None:
        """Write to ``directory`` atomically (see ``cachedir``: a half-written cache is never read)."""
        if not self.chunks:
            return
        meta = {"generation": self.generation, "chunks": [c.model_dump() for c in self.chunks]}
        write_cache_dir(directory, meta, lambda tmp: self._retriever.save(str(tmp)))

    @classmethod
    def load(cls, directory: Path, generation: str) -> LexicalIndex | None:
        """The cached index if it matches ``generation``, else None."""
        meta = read_meta(directory, generation)
        if meta is None:
            return None
        try:
            import bm25s

            retriever = bm25s.BM25.load(str(directory))
            chunks = [Chunk(**c) for c in meta["chunks"]]
        except Exception as exc:  # a broken cache is rebuilt, never fatal
            log.warning("ignoring lexical cache in %s: %s", directory, exc)
            return None
        return cls(retriever, chunks, generation)
