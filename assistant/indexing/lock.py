"""The writers' lock: one ingest at a time per index; readers never take it.

An ingest holds an exclusive lock (``flock`` on POSIX, a ``msvcrt`` byte lock on Windows) on a
lock file for its whole run: ids are allocated, leftover chunks cleaned up and papers
committed while no other writer can interleave. The lock lives in the store folder (embedded Chroma) or, for a Chroma server, in the cache folder
under a name derived from the server and collection. The kernel drops it when the process
dies, so a killed ingest never leaves it held.

A Chroma server can have writers on several machines, which share no lock file, so there the
writer also takes a lease kept on the server itself: one record in the ``<collection>_writer``
collection naming its holder and an expiry (``LEASE_SECONDS``), renewed while the ingest runs
and deleted at the end. Chroma has no compare-and-set, so a lease is taken by writing it,
waiting ``SETTLE_SECONDS`` and reading it back: of two writers that raced, the one whose record
is there goes on and the other waits. A holder that died leaves a lease that expires. This is
as strong as Chroma allows, not a consensus protocol; ingest's commits are idempotent (a rerun
repairs a paper whose chunks do not match its hash), so the rare lost race costs a rerun, not
data.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import StoreError, StoreLockedError
from ..settings import Settings

__all__ = ["lock_path", "server_lease", "writer_lock"]

log = logging.getLogger(__name__)

LOCK_NAME = "review.lock"
PLATFORM = sys.platform  # which lock primitive writer_lock uses (a test sets it)
LEASE_SECONDS = 60.0  # a server lease not renewed for this long is free
SETTLE_SECONDS = 0.5  # between writing a lease and reading it back
LEASE_ID = "writer"


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
        if settings.store.backend == "chroma-http":
            with server_lease(settings, wait=wait, on_wait=on_wait):
                yield
        else:
            yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _lease_collection(settings: Settings):  # noqa: ANN202 - a chromadb Collection
    from .store import http_client

    return http_client(settings.store.url).get_or_create_collection(
        f"{settings.store.collection}_writer", embedding_function=None
    )


def _holder(collection) -> dict | None:  # noqa: ANN001
    got = collection.get(ids=[LEASE_ID], include=["metadatas"])
    return (got["metadatas"] or [None])[0] if got["ids"] else None


def _acquire(collection, me: str, where: str, wait: bool, on_wait: Callable[[str], None] | None) -> None:  # noqa: ANN001
    """Write our lease, let it settle, read it back; wait (or fail fast) while another holds it."""
    told = False
    while True:
        holder = _holder(collection)
        if holder and holder.get("owner") != me and float(holder.get("expires", 0)) > time.time():
            if not wait:
                raise StoreLockedError(
                    f"another ingest ({holder.get('owner')}) holds the lease on {where}: wait for it to finish, "
                    "or rerun without --no-wait"
                )
            if not told:
                (on_wait or log.warning)(
                    f"another ingest ({holder.get('owner')}) holds the lease on {where}; waiting... "
                    "(--no-wait to fail instead)"
                )
                told = True
            time.sleep(1.0)
            continue
        collection.upsert(
            ids=[LEASE_ID], embeddings=[[0.0]], metadatas=[{"owner": me, "expires": time.time() + LEASE_SECONDS}]
        )
        time.sleep(SETTLE_SECONDS)
        holder = _holder(collection)
        if holder and holder.get("owner") == me:
            break


@contextmanager
def server_lease(
    settings: Settings, *, wait: bool = True, on_wait: Callable[[str], None] | None = None
) -> Iterator[str]:
    """Hold the writer's lease on a Chroma server (see the module's docstring); yields its owner tag."""
    where = f"{settings.store.url} (collection {settings.store.collection})"
    try:
        collection = _lease_collection(settings)
    except StoreError:
        raise
    except Exception as exc:  # noqa: BLE001 - the server is down or refuses: one line
        raise StoreError(f"cannot take the writer's lease on {where}: {exc}") from exc
    me = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    try:
        _acquire(collection, me, where, wait, on_wait)
    except StoreLockedError:
        raise
    except Exception as exc:  # noqa: BLE001 - the server went away while we waited: one line
        raise StoreError(f"cannot take the writer's lease on {where}: {exc}") from exc
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(LEASE_SECONDS / 3):
            try:
                holder = _holder(collection)
                if not holder or holder.get("owner") != me:
                    log.error("the writer's lease on %s was taken over by %s", where, holder and holder.get("owner"))
                    return
                collection.upsert(
                    ids=[LEASE_ID],
                    embeddings=[[0.0]],
                    metadatas=[{"owner": me, "expires": time.time() + LEASE_SECONDS}],
                )
            except Exception as exc:  # noqa: BLE001 - the ingest itself will meet a dead server
                log.warning("could not renew the writer's lease on %s: %s", where, exc)

    renewer = threading.Thread(target=renew, name="review-lease", daemon=True)
    renewer.start()
    try:
        yield me
    finally:
        stop.set()
        renewer.join(5)
        try:
            holder = _holder(collection)
            if holder and holder.get("owner") == me:
                collection.delete(ids=[LEASE_ID])
        except Exception as exc:  # noqa: BLE001 - it expires on its own
            log.warning(
                "could not release the writer's lease on %s (%s): it expires in %.0f s", where, exc, LEASE_SECONDS
            )
