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
