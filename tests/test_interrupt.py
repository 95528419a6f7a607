"""A real `review ingest` killed mid-way (SIGKILL) leaves a consistent index; a rerun finishes it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def _review(env, *args, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def test_killed_ingest_recovers(tmp_path):
    env = {
        **os.environ,
        "REVIEW_PATHS__STORE": str(tmp_path / "store"),
        "REVIEW_PATHS__CACHE": str(tmp_path / "cache"),
        "REVIEW_CONFIG": str(tmp_path / "none.toml"),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "-v", "ingest"], env=env, stderr=subprocess.PIPE, text=True
    )
    for line in proc.stderr:  # kill right after the first batch of papers is committed
        if "indexed" in line:
            break
    killed_mid_way = proc.poll() is None
    if killed_mid_way:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    partial = json.loads(_review(env, "stats", "--json").stdout)
    if killed_mid_way:
        assert 0 < partial["papers"] <= 240

    rerun = _review(env, "ingest", "--json")
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert report["unchanged"] == partial["papers"]
    assert report["added"] == 240 - partial["papers"]
    final = json.loads(_review(env, "stats", "--json").stdout)
    assert final["papers"] == 240
    # no duplicate or missing chunks: exactly the windows of the 240 abstracts
    from assistant.corpus import bundled_corpus_paths, read_papers
    from assistant.indexing.chunking import chunk_paper

    assert final["chunks"] == sum(len(chunk_paper(p)) for p in read_papers(bundled_corpus_paths()))
    hits = json.loads(_review(env, "search", "sparse masks for merging", "-k", "1", "--json").stdout)["hits"]
    assert hits[0]["paper_id"] == "breadcrumbs-2023"
