"""The lean read path: a search of an embedded store with warm caches does not open it through
chromadb, ranks exactly as the opened store does, and follows other processes' ingests."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import numbered_papers

from assistant.indexing import Index
from assistant.indexing.lean import PaperCache, collection_metadata
from assistant.retrieval import search

REPO = Path(__file__).resolve().parent.parent


def _hits(index: Index, query: str) -> list[dict]:
    return [h.model_dump() for h in search(index, query, k=8)]


def test_collection_metadata_reads_what_chroma_wrote(settings_factory, fake_embedder):
    settings = settings_factory()
    idx = Index(settings, embedder=fake_embedder, create=True)
    idx.ingest(numbered_papers(5))
    meta = collection_metadata(Path(settings.paths.store), "review_chunks")
    assert meta is not None
    assert meta["embedder"] == fake_embedder.name
    assert int(meta["dimension"]) == fake_embedder.dimension
    assert meta["generation"] == idx.store.generation()
    assert collection_metadata(Path(settings.paths.store), "nope_chunks") is None


@pytest.mark.parametrize("content", [None, b"not a database at all", b""])
def test_collection_metadata_is_none_when_unreadable(tmp_path, content):
    if content is not None:
        (tmp_path / "chroma.sqlite3").write_bytes(content)
    assert collection_metadata(tmp_path, "review_chunks") is None


def test_collection_metadata_is_none_on_another_schema(tmp_path):
    con = sqlite3.connect(tmp_path / "chroma.sqlite3")
    con.execute("create table collections (id text, name text)")
    con.commit()
    con.close()
    assert collection_metadata(tmp_path, "review_chunks") is None


def test_paper_cache_round_trip(tmp_path):
    papers = numbered_papers(3)
    PaperCache.build(papers, "g1").save(tmp_path / "papers")
    assert PaperCache.load(tmp_path / "papers", "g2") is None
    cache = PaperCache.load(tmp_path / "papers", "g1")
    assert cache is not None
    assert cache.get() == papers
    assert cache.get(["paper2-2024", "absent", "paper0-2024"]) == [papers[2], papers[0]]
    (tmp_path / "papers" / "papers.json").write_text("[1, 2")
    assert PaperCache.load(tmp_path / "papers", "g1") is None  # broken: rebuilt, never fatal


def test_a_warm_search_does_not_open_the_store_and_ranks_the_same(settings_factory, fake_embedder):
    settings = settings_factory()
    idx = Index(settings, embedder=fake_embedder, create=True)
    idx.ingest(numbered_papers(30))
    opened = _hits(idx, "topic 3 alpha3")  # builds the caches (dense, BM25, papers)
    lean = Index(settings, embedder=fake_embedder)
    assert lean._store is None
    assert _hits(lean, "topic 3 alpha3") == opened
    assert lean.papers(["paper4-2024"]) == idx.papers(["paper4-2024"])
    assert sorted(p.id for p in lean.papers()) == sorted(p.id for p in idx.papers())
    assert lean._store is None  # still not opened
    assert lean.stats().papers == 30  # what needs the store opens it


def test_the_lean_path_follows_another_processes_ingest(settings_factory, fake_embedder):
    settings = settings_factory()
    writer = Index(settings, embedder=fake_embedder, create=True)
    writer.ingest(numbered_papers(5))
    reader = Index(settings, embedder=fake_embedder)
    assert {h["paper_id"] for h in _hits(reader, "alpha3 methods")} >= {"paper3-2024"}
    assert reader._store is None
    writer.ingest(numbered_papers(3, start=100))  # a new generation, its caches made by the ingest
    hits = _hits(reader, "alpha101 methods")
    assert hits[0]["paper_id"] == "paper101-2024"
    assert hits[0]["title"] == "Paper 101 title"
    assert reader._store is None


def test_a_missing_paper_cache_is_made_once(settings_factory, fake_embedder):
    settings = settings_factory()
    idx = Index(settings, embedder=fake_embedder, create=True)
    idx.ingest(numbered_papers(6))
    first = _hits(idx, "alpha2 methods")
    import shutil

    shutil.rmtree(Path(settings.paths.store) / "papers")  # an index cached by an older version
    again = Index(settings, embedder=fake_embedder)
    assert _hits(again, "alpha2 methods") == first
    assert (Path(settings.paths.store) / "papers" / "papers.json").is_file()


def test_no_index_and_another_embedder_still_fail_with_one_line(settings_factory, fake_embedder):
    from assistant.errors import IndexMismatchError, NoIndexError

    settings = settings_factory()
    with pytest.raises(NoIndexError):
        Index(settings, embedder=fake_embedder)
    Index(settings, embedder=fake_embedder, create=True).ingest(numbered_papers(2))

    class Other(type(fake_embedder)):
        name = "another-embedder"

    with pytest.raises(IndexMismatchError, match="rebuild it"):
        Index(settings, embedder=Other())


@pytest.mark.slow
def test_cli_search_does_not_import_chromadb(real_assistant):
    """Real store, real embedder, a fresh process: `review search` answers from the caches alone."""
    real_assistant.search("model merging")  # caches of the current generation exist
    code = (
        "import sys; from assistant.cli import app\n"
        "sys.argv = ['review', 'search', 'weight averaging of fine-tuned models', '--json']\n"
        "try:\n    app()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "assert 'chromadb' not in sys.modules, 'chromadb imported'\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEW_")}
    env["REVIEW_PATHS__STORE"] = str(real_assistant.settings.paths.store)
    env["REVIEW_PATHS__CACHE"] = str(real_assistant.settings.paths.cache)
    env["REVIEW_CONFIG"] = str(Path(real_assistant.settings.paths.store).parent / "absent.toml")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    expected = [h.paper_id for h in real_assistant.search("weight averaging of fine-tuned models").hits]
    import json

    assert [h["paper_id"] for h in json.loads(out.stdout)["hits"]] == expected
