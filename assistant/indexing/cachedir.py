"""Derived-data cache folders (BM25 index, dense matrix): written atomically, keyed by generation.

A cache folder holds its files and a ``review.json`` marker with the store's generation token;
it is rebuilt only after the index content changed. Each process writes its own temporary
folder and renames it into place, so concurrent searches never delete each other's files and a
reader sees the old cache or the new one, never half of one; a folder that is not a cache of
ours is left alone.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["MARKER", "read_meta", "write_cache_dir"]

log = logging.getLogger(__name__)

MARKER = "review.json"


def write_cache_dir(directory: Path, meta: dict[str, Any], write: Callable[[Path], None]) -> None:
    """Fill a fresh folder with ``write(folder)`` and ``meta`` (as the marker), then swap it in."""
    if _foreign_folder(directory):
        raise OSError(f"{directory} holds files that are not a review cache; not replacing it")
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.tmp-", dir=directory.parent))
    try:
        write(tmp)
        (tmp / MARKER).write_text(json.dumps(meta))
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
            log.debug("cache in %s written by another process", directory)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_meta(directory: Path, generation: str) -> dict[str, Any] | None:
    """The marker of the cache in ``directory`` if it was built for ``generation``, else None."""
    try:
        meta = json.loads((directory / MARKER).read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:  # a broken cache is rebuilt, never fatal
        log.warning("ignoring the cache in %s: %s", directory, exc)
        return None
    return meta if isinstance(meta, dict) and meta.get("generation") == generation else None


def _foreign_folder(directory: Path) -> bool:
    """True if ``directory`` holds files and no cache marker.

    Another writer may move the folder aside and delete it while it is being listed: a listing
    taken from a folder that is no longer the one at ``directory`` (its inode changed, or it is
    gone) says nothing about what is there, so it is taken again. A foreign folder stays put."""
    for _ in range(10):
        try:
            before = os.stat(directory)
            entries = os.listdir(directory)  # one listing: two checks could see two different folders
            after = os.stat(directory)
        except (FileNotFoundError, NotADirectoryError):
            return False
        if (before.st_dev, before.st_ino) == (after.st_dev, after.st_ino):
            return bool(entries) and MARKER not in entries
    return False  # replaced ten times while we looked: only caches are written this busily
