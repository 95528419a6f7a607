"""The lean read path: search an embedded store without importing chromadb.

A search needs the store's generation token, the dense matrix and BM25 caches of that
generation, and the records of the papers it returns. The caches are ours (``cachedir``);
``PaperCache`` adds the paper records to them, keyed by generation the same way. The token is
Chroma's collection metadata, read here straight from ``chroma.sqlite3`` with the standard
library's sqlite3, read-only, in well under a millisecond (``import chromadb`` alone takes about
0.8 s and 80 MB). Anything unexpected there (no file, another schema, a locked or read-only
database) returns None and the caller opens the store through chromadb as before, so this is a
shortcut, never a second source of truth.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..models import Paper
from .cachedir import read_meta, write_cache_dir

__all__ = ["PaperCache", "collection_metadata"]

log = logging.getLogger(__name__)

_DATABASE = "default_database"  # chromadb's DEFAULT_DATABASE, where PersistentClient keeps collections
_QUERY = """
    SELECT m.key, m.str_value, m.int_value, m.float_value, m.bool_value
    FROM collections c
    JOIN databases d ON d.id = c.database_id
    JOIN collection_metadata m ON m.collection_id = c.id
    WHERE c.name = ? AND d.name = ?
"""
_PAPERS = "papers.json"


def collection_metadata(store_dir: Path, collection: str) -> dict[str, Any] | None:
    """The metadata of an embedded Chroma collection (embedder, dimension, generation), or None
    when it cannot be read without chromadb (the caller then opens the store the usual way)."""
    path = Path(store_dir) / "chroma.sqlite3"
    if not path.is_file():
        return None
    try:
        con = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=1.0)
        try:
            rows = con.execute(_QUERY, (collection, _DATABASE)).fetchall()
        finally:
            con.close()
    except sqlite3.Error as exc:
        log.debug("cannot read %s without chromadb (%s); opening the store", path, exc)
        return None
    if not rows:
        return None
    meta: dict[str, Any] = {}
    for key, *values in rows:
        meta[key] = next((v for v in values if v is not None), None)
    return meta


class PaperCache:
    """Every committed paper's record as of one generation, for the lean path (JSON, read once)."""

    def __init__(self, records: dict[str, dict[str, Any]], generation: str) -> None:
        self.records = records
        self.generation = generation

    @classmethod
    def build(cls, papers: Sequence[Paper], generation: str) -> PaperCache:
        return cls({p.id: p.model_dump(mode="json") for p in papers}, generation)

    def get(self, ids: Sequence[str] | None = None) -> list[Paper]:
        """Papers by id (missing ids skipped), or all of them."""
        wanted = self.records if ids is None else [i for i in ids if i in self.records]
        return [Paper(**self.records[i]) for i in wanted]

    def save(self, directory: Path) -> None:
        """Write to ``directory`` atomically (see ``cachedir``)."""
        if not self.records:
            return

        def write(tmp: Path) -> None:
            (tmp / _PAPERS).write_text(json.dumps(self.records))

        write_cache_dir(directory, {"generation": self.generation, "papers": len(self.records)}, write)

    @classmethod
    def load(cls, directory: Path, generation: str) -> PaperCache | None:
        """The cached records if they match ``generation``, else None."""
        if read_meta(directory, generation) is None:
            return None
        try:
            records = json.loads((directory / _PAPERS).read_text())
            if not isinstance(records, dict):
                raise ValueError("not an object of paper records")
        except Exception as exc:  # a broken cache is rebuilt, never fatal
            log.warning("ignoring the paper cache in %s: %s", directory, exc)
            return None
        return cls(records, generation)
