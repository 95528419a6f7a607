"""Exact dense search over the cached chunk matrix: real Chroma, fake embedder (fast)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import numbered_papers

from assistant.indexing import Index
from assistant.indexing.dense import DenseMatrix, top_rows
from assistant.retrieval import search


def test_top_rows_breaks_ties_by_row():
    scores = np.array([0.5, 0.9, 0.5, 0.9, 0.1, 0.5], dtype=np.float32)
    assert top_rows(scores, 3).tolist() == [1, 3, 0]
    assert top_rows(scores, 4).tolist() == [1, 3, 0, 2]
    assert top_rows(scores, 10).tolist() == [1, 3, 0, 2, 5, 4]
    assert top_rows(scores, 0).tolist() == []


def test_exact_search_is_the_brute_force_ranking(settings_factory, fake_embedder):
    settings = settings_factory()
    idx = Index(settings, embedder=fake_embedder, create=True)
    idx.ingest(numbered_papers(40))
    ids, _, vectors = idx.store.chunk_vectors()
    query = "alpha3 methods beta2 results"
    q = fake_embedder.embed_query(query)
    sims = vectors @ q
    expected = sorted(zip(ids, sims.tolist(), strict=True), key=lambda x: (-x[1], x[0]))[:15]
    got = idx.dense_search(query, 15)
    assert [cid for cid, _ in got] == [cid for cid, _ in expected]
    assert np.allclose([s for _, s in got], [s for _, s in expected], atol=1e-6)
    assert (Path(settings.paths.store) / "dense" / "vectors.npy").is_file()


def test_a_fresh_index_reads_the_cache_and_ranks_the_same(settings_factory, fake_embedder):
    settings = settings_factory()
    idx = Index(settings, embedder=fake_embedder, create=True)
    idx.ingest(numbered_papers(30))
    first = [h.model_dump() for h in search(idx, "topic 3 alpha3", k=8)]
    again = Index(settings, embedder=fake_embedder)
    loaded = DenseMatrix.load(Path(settings.paths.store) / "dense", again.store.generation())
    assert loaded is not None and isinstance(loaded.vectors, np.memmap)
    assert [h.model_dump() for h in search(again, "topic 3 alpha3", k=8)] == first


def test_dense_cache_follows_index_changes(settings_factory, fake_embedder):
    settings = settings_factory()
    idx = Index(settings, embedder=fake_embedder, create=True)
    idx.ingest(numbered_papers(5))
    assert len(idx.dense().ids) == 5
    idx.ingest(numbered_papers(3, start=100))
    assert len(idx.dense().ids) == 8
    fresh = Index(settings, embedder=fake_embedder)  # another process
    assert fresh.dense().ids == idx.dense().ids
    hits = search(fresh, "alpha101 methods", k=1)
    assert hits[0].paper_id == "paper101-2024"


def test_uncommitted_chunks_are_not_searched(settings_factory, fake_embedder):
    idx = Index(settings_factory(), embedder=fake_embedder, create=True)
    idx.ingest(numbered_papers(3))
    # chunks written, paper record never committed (what a kill between the two leaves)
    [orphan] = numbered_papers(1, start=50)
    from assistant.indexing.chunking import chunk_paper

    chunks = chunk_paper(orphan, 3, 1)
    idx.store.add_chunks(chunks, fake_embedder.embed_documents([c.text for c in chunks]), {orphan.id: "x"})
    idx.store.bump_generation()
    assert all(not cid.startswith("paper50") for cid in idx.dense().ids)
    assert all(h.paper_id != orphan.id for h in search(idx, "alpha50 methods", k=5))


def test_a_broken_dense_cache_is_rebuilt(settings_factory, fake_embedder, caplog):
    settings = settings_factory()
    idx = Index(settings, embedder=fake_embedder, create=True)
    idx.ingest(numbered_papers(4))
    idx.dense()
    (Path(settings.paths.store) / "dense" / "vectors.npy").write_bytes(b"garbage")
    fresh = Index(settings, embedder=fake_embedder)
    assert len(fresh.dense().ids) == 4
    assert "ignoring dense cache" in caplog.text


def test_an_unrelated_dense_folder_is_left_alone(settings_factory, fake_embedder):
    settings = settings_factory()
    precious = Path(settings.paths.store) / "dense" / "notes.txt"
    precious.parent.mkdir(parents=True)
    precious.write_text("mine")
    idx = Index(settings, embedder=fake_embedder, create=True)
    idx.ingest(numbered_papers(3))
    assert search(idx, "alpha1 methods", k=2)
    assert precious.read_text() == "mine"


@pytest.mark.parametrize("weights", [{"dense_weight": 0.0}, {"lexical_weight": 0.0}])
def test_a_zero_weight_retriever_is_not_run(settings_factory, fake_embedder, weights):
    idx = Index(settings_factory(retrieval=weights), embedder=fake_embedder, create=True)
    idx.ingest(numbered_papers(6))
    hits = search(idx, "alpha2 methods", k=3)
    assert hits[0].paper_id == "paper2-2024"
    if weights.get("dense_weight") == 0.0:
        assert all(h.dense_rank is None and h.similarity is None for h in hits)
    else:
        assert all(h.lexical_rank is None for h in hits)
