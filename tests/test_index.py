"""Index logic on a real Chroma store with a fake embedder (fast), plus the embedder check."""

from __future__ import annotations

import pytest

from assistant.errors import IndexMismatchError, NoIndexError, QueryError
from assistant.indexing import Index
from assistant.models import Paper
from assistant.retrieval import search


def _papers(n: int, tag: str = "") -> list[Paper]:
    return [
        Paper(
            id=f"paper{i}-2024",
            title=f"Paper {i} title",
            abstract=f"Topic {i} studies alpha{i} methods{tag}. It finds beta{i} results. Gamma{i} follows. Delta{i} ends. Epsilon{i} closes.",
        )
        for i in range(n)
    ]


class Boom(Exception):
    pass


def test_reingest_unchanged_does_no_embedding(settings_factory, fake_embedder):
    idx = Index(settings_factory(), embedder=fake_embedder, create=True)
    first = idx.ingest(_papers(5))
    assert (first.added, first.unchanged, first.chunks_embedded) == (5, 0, 10)
    texts = fake_embedder.texts
    again = idx.ingest(_papers(5))
    assert (again.added, again.updated, again.unchanged, again.chunks_embedded) == (0, 0, 5, 0)
    assert fake_embedder.texts == texts


def test_changed_abstract_replaces_its_chunks(settings_factory, fake_embedder):
    idx = Index(settings_factory(), embedder=fake_embedder, create=True)
    idx.ingest(_papers(3))
    changed = _papers(3)
    changed[1] = changed[1].model_copy(update={"abstract": "One short sentence now."})
    report = idx.ingest(changed)
    assert (report.updated, report.unchanged) == (1, 2)
    chunk_papers = list(idx.store.chunk_paper_ids().values())
    assert chunk_papers.count("paper1-2024") == 1
    assert idx.stats().chunks == 5
    assert idx.papers(["paper1-2024"])[0].abstract == "One short sentence now."


def test_interrupted_ingest_recovers_without_duplicates(settings_factory, fake_embedder):
    settings = settings_factory()

    class Flaky(type(fake_embedder)):
        def embed_documents(self, texts):
            if self.calls == 2:  # the third ingest batch (one embedding call per batch)
                self.calls += 1
                raise Boom("killed mid-way")
            return super().embed_documents(texts)

    flaky = Flaky()
    papers = _papers(300)
    idx = Index(settings, embedder=flaky, create=True)
    with pytest.raises(Boom):
        idx.ingest(papers)
    partial = idx.stats()
    assert 0 < partial.papers < 300
    # the store is consistent: every committed paper has all of its chunks
    assert partial.chunks >= partial.papers * 2
    idx2 = Index(settings, embedder=fake_embedder)
    report = idx2.ingest(papers)
    assert report.unchanged == partial.papers and report.added == 300 - partial.papers
    stats = idx2.stats()
    assert (stats.papers, stats.chunks) == (300, 600)


def test_orphan_chunks_from_a_killed_run_are_cleaned(settings_factory, fake_embedder):
    idx = Index(settings_factory(), embedder=fake_embedder, create=True)
    idx.ingest(_papers(2))
    # chunks written, paper record never committed (what a kill between the two leaves)
    from assistant.indexing.chunking import chunk_paper

    ghost = Paper(id="ghost-2020", title="Ghost", abstract="Never committed. Really not.")
    chunks = chunk_paper(ghost)
    idx.store.add_chunks(chunks, fake_embedder.embed_documents([c.text for c in chunks]), {"ghost-2020": "x"})
    assert "ghost-2020" not in {h.paper_id for h in search(idx, "ghost never committed")}
    idx.ingest(_papers(2))
    assert "ghost-2020" not in idx.store.chunk_paper_ids().values()


def test_search_finds_and_rejects_empty(settings_factory, fake_embedder):
    idx = Index(settings_factory(), embedder=fake_embedder, create=True)
    idx.ingest(_papers(20))
    hits = search(idx, "beta7 results", k=3)
    assert hits[0].paper_id == "paper7-2024"
    assert hits[0].passages and hits[0].passages[0].sentence_end > hits[0].passages[0].sentence_start
    with pytest.raises(QueryError):
        search(idx, "   ")


def test_lexical_cache_follows_index_changes(settings_factory, fake_embedder):
    settings = settings_factory()
    idx = Index(settings, embedder=fake_embedder, create=True)
    idx.ingest(_papers(3))
    assert search(idx, "alpha2", k=1)[0].paper_id == "paper2-2024"
    extra = Paper(id="zeta-2024", title="Zeta", abstract="Zebra quokka methods.")
    Index(settings, embedder=fake_embedder).ingest([extra])
    # a fresh process (new Index) must see the new paper lexically
    assert search(Index(settings, embedder=fake_embedder), "quokka", k=1)[0].paper_id == "zeta-2024"


def test_other_embedder_is_a_clear_error(settings_factory, fake_embedder):
    settings = settings_factory()
    Index(settings, embedder=fake_embedder, create=True).ingest(_papers(1))

    class Other(type(fake_embedder)):
        name = "other-model"
        dimension = 32

    with pytest.raises(IndexMismatchError, match="review ingest --rebuild"):
        Index(settings, embedder=Other())
    rebuilt = Index(settings, embedder=Other(), rebuild=True)
    assert rebuilt.stats().papers == 0 and rebuilt.stats().embedder == "other-model"


def test_missing_index_says_how_to_build(settings_factory, fake_embedder):
    with pytest.raises(NoIndexError, match="review ingest"):
        Index(settings_factory(), embedder=fake_embedder)


def test_changed_chunk_settings_re_embed_papers_whose_chunk_ids_stay_the_same(settings_factory, fake_embedder, caplog):
    # Five sentences: 3/1 makes windows [0,3) [2,5), 3/0 makes [0,3) [3,5): the same two chunk ids.
    idx = Index(settings_factory(chunks={"sentences": 3, "overlap": 1}), embedder=fake_embedder, create=True)
    idx.ingest(_papers(3))
    before = {cid: t for cid, t in zip(*_chunk_texts(idx))}
    caplog.set_level("INFO", logger="assistant.indexing.ingest")
    again = Index(settings_factory(chunks={"sentences": 3, "overlap": 0}), embedder=fake_embedder)
    report = again.ingest(_papers(3))
    assert report.repaired == 3 and report.chunks_embedded == 6
    assert report.rechunked == 3
    after = {cid: t for cid, t in zip(*_chunk_texts(again))}
    assert set(after) == set(before) and after != before
    assert after["paper0-2024#1"] == "Delta0 ends. Epsilon0 closes."
    assert "other chunk settings" in caplog.text and "do not match their content hash" not in caplog.text
    assert again.ingest(_papers(3)).chunks_embedded == 0  # and a rerun is a no-op
    caplog.clear()
    whole = Index(settings_factory(chunks={"sentences": 5, "overlap": 0}), embedder=fake_embedder)
    assert whole.ingest(_papers(3)).repaired == 3  # fewer windows: other ids, the same message
    assert "other chunk settings" in caplog.text and "content hash" not in caplog.text
    assert whole.stats().chunks == 3


def _chunk_texts(idx):
    got = idx.store._chunks.get(include=["documents"])
    return got["ids"], got["documents"]


def test_changed_title_mode_re_embeds_and_the_vectors_follow_it(settings_factory, fake_embedder, caplog):
    import numpy as np

    prefix = Index(settings_factory(chunks={"title": "prefix"}), embedder=fake_embedder, create=True)
    prefix.ingest(_papers(2))
    caplog.set_level("INFO", logger="assistant.indexing.ingest")
    mixed = Index(settings_factory(chunks={"title": "mix"}), embedder=fake_embedder)
    report = mixed.ingest(_papers(2))
    assert report.repaired == report.rechunked == 2  # same chunk ids, other vectors: re-embedded
    assert "chunks.title=mix" in caplog.text and "content hash" not in caplog.text
    assert mixed.ingest(_papers(2)).chunks_embedded == 0
    got = mixed.store._chunks.get(ids=["paper0-2024#0"], include=["embeddings", "documents", "metadatas"])
    window, title = got["documents"][0], "Paper 0 title"
    assert got["metadatas"][0]["title"] == "mix"
    w, t = fake_embedder.embed_documents([window, title])
    expected = len(window.split()) * w + len(title.split()) * t
    expected /= np.linalg.norm(expected)
    assert np.allclose(got["embeddings"][0], expected, atol=1e-5)
    # and back: an index written before the setting existed reads as "prefix"
    back = Index(settings_factory(chunks={"title": "prefix"}), embedder=fake_embedder)
    assert back.ingest(_papers(2)).rechunked == 2
    got = back.store._chunks.get(ids=["paper0-2024#0"], include=["embeddings"])
    assert np.allclose(got["embeddings"][0], fake_embedder.embed_documents([f"{title}. {window}"])[0], atol=1e-5)


def test_an_index_without_title_metadata_counts_as_prefix(settings_factory, fake_embedder):
    idx = Index(settings_factory(chunks={"title": "prefix"}), embedder=fake_embedder, create=True)
    idx.ingest(_papers(2))
    got = idx.store._chunks.get(include=["metadatas"])
    for cid, meta in zip(got["ids"], got["metadatas"]):  # as an older version wrote them
        idx.store._chunks.update(
            ids=[cid], metadatas=[{k: v for k, v in meta.items() if k != "title"} | {"title": None}]
        )
    again = Index(settings_factory(chunks={"title": "prefix"}), embedder=fake_embedder)
    assert again.ingest(_papers(2)).chunks_embedded == 0
