"""Lexical retrieval: BM25 (bm25s) over the same chunks as the dense index.

The BM25 index is derived data: built from the store's chunks and cached on disk, keyed by
the store's generation token, so it is rebuilt only after the index content changed.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ..models import Chunk

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
        """Write to ``directory`` atomically (a half-written cache is never read).

        Each process writes its own temporary folder and renames it into place, so concurrent
        searches never delete each other's files; a folder that is not a cache of ours is left alone.
        """
        if not self.chunks:
            return
        if _foreign_folder(directory):
            raise OSError(f"{directory} holds files that are not a review cache; not replacing it")
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.tmp-", dir=directory.parent))
        try:
            self._retriever.save(str(tmp))
            (tmp / "review.json").write_text(
                json.dumps({"generation": self.generation, "chunks": [c.model_dump() for c in self.chunks]})
            )
            os.chmod(tmp, 0o755)  # mkdtemp makes it private; the store folder's other readers need it
            old = None
            if directory.exists():
                # Renamed aside, not deleted in place: a reader sees the old cache or the new one.
                old = Path(tempfile.mkdtemp(prefix=f".{directory.name}.old-", dir=directory.parent))
                try:
                    os.rename(directory, old / "cache")
                except FileNotFoundError:  # another process moved it first
                    pass
            try:
                os.rename(tmp, directory)
            except OSError:  # another process put its (equally fresh) cache there first
                log.debug("lexical cache in %s written by another process", directory)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path, generation: str) -> LexicalIndex | None:
        """The cached index if it matches ``generation``, else None."""
        meta_path = directory / "review.json"
        if not meta_path.is_file():
            return None
        try:
            meta = json.loads(meta_path.read_text())
            if meta.get("generation") != generation:
                return None
            import bm25s

            retriever = bm25s.BM25.load(str(directory))
        except Exception as exc:  # a broken cache is rebuilt, never fatal
            log.warning("ignoring lexical cache in %s: %s", directory, exc)
            return None
        return cls(retriever, [Chunk(**c) for c in meta["chunks"]], generation)


def _foreign_folder(directory: Path) -> bool:
    """True if ``directory`` holds files and no cache marker (another writer may move it meanwhile)."""
    try:
        entries = os.listdir(directory)  # one listing: two checks could see two different folders
    except (FileNotFoundError, NotADirectoryError):
        return False
    return bool(entries) and "review.json" not in entries
