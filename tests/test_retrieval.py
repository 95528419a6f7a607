from assistant.models import Chunk, Paper
from assistant.retrieval import fuse
from assistant.settings import RetrievalSettings


def _setup():
    chunks = {}
    papers = {}
    for pid in ("a", "b", "c"):
        papers[pid] = Paper(id=pid, title=pid.upper(), abstract="x")
        for i in range(2):
            chunks[f"{pid}#{i}"] = Chunk(
                id=f"{pid}#{i}", paper_id=pid, text=f"{pid}{i}", sentence_start=i, sentence_end=i + 1
            )
    return chunks, papers


def test_paper_in_both_rankings_wins():
    chunks, papers = _setup()
    dense = [("a#0", 0.9), ("b#0", 0.8), ("a#1", 0.7)]
    lexical = [("b#1", 5.0), ("c#0", 4.0)]
    hits = fuse(dense, lexical, chunks, papers, RetrievalSettings(), k=3)
    assert [h.paper_id for h in hits] == ["b", "a", "c"]
    assert hits[0].dense_rank == 2 and hits[0].lexical_rank == 1
    # a paper's many chunks count once per ranking
    assert hits[1].lexical_rank is None


def test_passages_ordered_by_their_own_fused_score_and_capped():
    chunks, papers = _setup()
    hits = fuse([("a#1", 1.0), ("a#0", 0.5)], [("a#0", 3.0)], chunks, papers, RetrievalSettings(passages=1), k=1)
    assert [p.text for p in hits[0].passages] == ["a0"]


def test_uncommitted_papers_are_ignored():
    chunks, papers = _setup()
    del papers["a"]
    hits = fuse([("a#0", 1.0), ("b#0", 0.5)], [], chunks, papers, RetrievalSettings(), k=5)
    assert [h.paper_id for h in hits] == ["b"]


def test_weights_shift_the_order():
    chunks, papers = _setup()
    dense, lexical = [("a#0", 1.0), ("b#0", 0.9)], [("b#0", 2.0), ("a#0", 1.0)]
    hits = fuse(dense, lexical, chunks, papers, RetrievalSettings(lexical_weight=0.0), k=2)
    assert [h.paper_id for h in hits] == ["a", "b"]
    hits = fuse(dense, lexical, chunks, papers, RetrievalSettings(dense_weight=0.0), k=2)
    assert [h.paper_id for h in hits] == ["b", "a"]


def test_a_code_release_window_is_not_the_passage_shown_first():
    from assistant.models import Chunk, Paper
    from assistant.retrieval import fuse
    from assistant.settings import RetrievalSettings

    chunks = {
        "a#0": Chunk(
            id="a#0", paper_id="a", text="LoRA adapts models. It freezes weights.", sentence_start=0, sentence_end=2
        ),
        "a#1": Chunk(
            id="a#1",
            paper_id="a",
            text="We release our code at https://github.com/x/y.",
            sentence_start=2,
            sentence_end=3,
        ),
    }
    papers = {"a": Paper(id="a", title="LoRA", abstract="LoRA adapts models. It freezes weights. We release our code.")}
    # the tail window ranks first in both retrievers, yet the finding window is shown first
    hits = fuse(
        [("a#1", 0.9), ("a#0", 0.8)], [("a#1", 5.0), ("a#0", 4.0)], chunks, papers, RetrievalSettings(passages=2), k=1
    )
    assert [p.text for p in hits[0].passages][0].startswith("LoRA adapts")
    assert len(hits[0].passages) == 2
