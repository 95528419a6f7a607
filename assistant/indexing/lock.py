"""The writers' lock: one ingest at a time per index; readers never take it.

An ingest holds an exclusive lock (``flock`` on POSIX, a ``msvcrt`` byte lock on Windows) on a
lock file for its whole run: ids are allocated, leftover chunks cleaned up and papers
committed while no other writer can interleave. The lock lives in the store folder (embedded Chroma) or, for a Chroma server, in the cache folder
under a name derived from the server and collection, so it serialises writers on this
machine only. The kernel drops it when the process dies, so a killed ingest never leaves it
held.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import StoreLockedError
from ..settings import Settings

__all__ = ["lock_path", "writer_lock"]

log = logging.getLogger(__name__)

LOCK_NAME = "review.lock"
PLATFORM = sys.platform  # which lock primitive writer_lock uses (a test sets it)


def lock_path(settings: Settings) -> tuple[Path, str]:
    """The lock file for the configured index, and how to name that index to a user."""
    if settings.store.backend == "chroma":
        store = Path(settings.paths.store).expanduser().absolute()
        return store / LOCK_NAME, str(store)
    where = f"{settings.store.url} (collection {settings.store.collection})"
    key = hashlib.sha256(f"{settings.store.url}|{settings.store.collection}".encode()).hexdigest()[:12]
    return Path(settings.paths.cache).expanduser() / "locks" / f"{key}.lock", where


def _lock_functions() -> tuple[Callable[[int], bool], Callable[[int], None]]:
    """(try to lock without waiting -> held?, lock waiting) for this platform.

    POSIX: ``flock`` on the whole file. Windows: ``msvcrt.locking`` on the file's first byte
    (a byte lock; like flock it is dropped when the process dies); its blocking mode gives up
    after 10 tries, so waiting is a loop of non-blocking tries."""
    if PLATFORM == "win32":
        import msvcrt

        def try_lock(fd: int) -> bool:
            os.lseek(fd, 0, os.SEEK_SET)
            try:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            except OSError:
                return False
            return True

        def lock(fd: int) -> None:
            while not try_lock(fd):
                time.sleep(0.2)

        return try_lock, lock

    import fcntl

    def try_lock_posix(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    return try_lock_posix, lambda fd: fcntl.flock(fd, fcntl.LOCK_EX)


@contextmanager
def writer_lock(
    settings: Settings, *, wait: bool = True, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the index's writer lock; wait for it (saying so once through ``on_wait``) or fail fast."""
    try_lock, lock = _lock_functions()
    path, where = lock_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not try_lock(fd):
            if not wait:
                raise StoreLockedError(
                    f"another ingest holds the lock on {where}: wait for it to finish, or rerun without --no-wait"
                ) from None
            (on_wait or log.warning)(
                f"another ingest holds the lock on {where}; waiting... (--no-wait to fail instead)"
            )
            lock(fd)
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode())  # for a curious user; the lock is what counts
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
