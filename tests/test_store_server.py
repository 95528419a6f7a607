"""Server mode: a real `chroma run` on 127.0.0.1, started by the test, with the bundled embedder."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
from conftest import free_port

pytestmark = [pytest.mark.slow, pytest.mark.server]


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    exe = shutil.which("chroma")
    if exe is None:
        pytest.skip("the chroma CLI is not installed")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen(
        [exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("chroma server did not start")
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def test_ingest_and_search_through_a_chroma_server(chroma_url, tmp_path):
    from assistant import Assistant, Settings
    from assistant.corpus import bundled_corpus_paths

    settings = Settings(
        store={"backend": "chroma-http", "url": chroma_url},
        paths={"store": str(tmp_path / "unused"), "cache": str(tmp_path / "cache")},
    )
    a = Assistant(settings)
    a.ingest(bundled_corpus_paths()[:1])
    stats = a.stats()
    assert stats.store == chroma_url and stats.size_bytes is None
    assert stats.papers > 20
    hits = a.search("sparse masks for multi-task weights", k=3).hits
    assert hits[0].paper_id == "breadcrumbs-2023"
    # a second client (another process in real life) sees the same index, incrementally
    again = Assistant(settings).ingest(bundled_corpus_paths()[:1])
    assert again.unchanged == again.papers_seen and again.chunks_embedded == 0
    assert not (tmp_path / "unused").exists()


def test_unreachable_server_is_a_clear_error(tmp_path):
    from assistant import Assistant, Settings
    from assistant.errors import StoreError

    settings = Settings(
        store={"backend": "chroma-http", "url": f"http://127.0.0.1:{free_port()}"},
        paths={"cache": str(tmp_path / "cache")},
    )
    with pytest.raises(StoreError, match="cannot open the Chroma store"):
        Assistant(settings).stats()


def _machine(url: str, tmp_path, name: str):
    """Settings of one writer machine: the same server, a cache (and so a lock file) of its own."""
    from assistant import Settings

    return Settings(
        store={"backend": "chroma-http", "url": url, "collection": "leased"},
        paths={"store": str(tmp_path / name / "unused"), "cache": str(tmp_path / name / "cache")},
    )


def test_writers_on_two_machines_share_a_lease_on_the_server(chroma_url, tmp_path, monkeypatch):
    import threading

    from assistant.errors import StoreLockedError
    from assistant.indexing import lock

    monkeypatch.setattr(lock, "SETTLE_SECONDS", 0.1)
    one, two = _machine(chroma_url, tmp_path, "one"), _machine(chroma_url, tmp_path, "two")
    messages: list[str] = []
    acquired = threading.Event()
    with lock.writer_lock(one):  # no lock file in common: only the server's lease stands between them
        with pytest.raises(StoreLockedError, match=r"another ingest \(.+\) holds the lease on .*--no-wait"):
            with lock.writer_lock(two, wait=False):
                pass

        def second() -> None:
            with lock.writer_lock(two, on_wait=messages.append):
                acquired.set()

        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(1.5)
        assert not acquired.is_set()
    thread.join(20)
    assert acquired.is_set()
    assert len(messages) == 1 and "waiting... (--no-wait to fail instead)" in messages[0]
    # released at the end: a third writer takes it at once
    with lock.server_lease(one, wait=False) as owner:
        assert owner


def test_a_dead_writers_lease_expires(chroma_url, tmp_path, monkeypatch):
    from assistant.indexing import lock

    monkeypatch.setattr(lock, "SETTLE_SECONDS", 0.1)
    settings = _machine(chroma_url, tmp_path, "one")
    collection = lock._lease_collection(settings)
    collection.upsert(  # what a killed writer leaves: its lease, renewed no more
        ids=[lock.LEASE_ID], embeddings=[[0.0]], metadatas=[{"owner": "gone:1:x", "expires": time.time() - 1}]
    )
    with lock.server_lease(settings, wait=False) as owner:
        assert lock._holder(collection)["owner"] == owner
    assert lock._holder(collection) is None


def test_an_ingest_waits_for_another_machines_lease(chroma_url, tmp_path, monkeypatch):
    from assistant import Assistant
    from assistant.corpus import bundled_corpus_paths
    from assistant.errors import StoreLockedError
    from assistant.indexing import lock

    monkeypatch.setattr(lock, "SETTLE_SECONDS", 0.1)
    one, two = _machine(chroma_url, tmp_path, "one"), _machine(chroma_url, tmp_path, "two")
    with lock.server_lease(one), pytest.raises(StoreLockedError):
        Assistant(two).ingest(bundled_corpus_paths()[:1], wait=False)
