"""The writers' lock: one ingest at a time per index; readers never take it.

An ingest holds an exclusive ``flock`` on a lock file for its whole run: ids are allocated,
leftover chunks cleaned up and papers committed while no other writer can interleave. The
lock lives in the store folder (embedded Chroma) or, for a Chroma server, in the cache folder
under a name derived from the server and collection, so it serialises writers on this
machine only. The kernel drops it when the process dies, so a killed ingest never leaves it
held.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import StoreLockedError
from ..settings import Settings

__all__ = ["lock_path", "writer_lock"]

log = logging.getLogger(__name__)

LOCK_NAME = "review.lock"


def lock_path(settings: Settings) -> tuple[Path, str]:
    """The lock file for the configured index, and how to name that index to a user."""
    if settings.store.backend == "chroma":
        store = Path(settings.paths.store).expanduser().absolute()
        return store / LOCK_NAME, str(store)
    where = f"{settings.store.url} (collection {settings.store.collection})"
    key = hashlib.sha256(f"{settings.store.url}|{settings.store.collection}".encode()).hexdigest()[:12]
    return Path(settings.paths.cache).expanduser() / "locks" / f"{key}.lock", where


@contextmanager
def writer_lock(
    settings: Settings, *, wait: bool = True, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the index's writer lock; wait for it (saying so once through ``on_wait``) or fail fast."""
    import fcntl

    path, where = lock_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise StoreLockedError(
                    f"another ingest holds the lock on {where}: wait for it to finish, or rerun without --no-wait"
                ) from None
            (on_wait or log.warning)(
                f"another ingest holds the lock on {where}; waiting... (--no-wait to fail instead)"
            )
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())  # for a curious user; the flock is what counts
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
