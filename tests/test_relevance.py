"""The relevance model and the reranking stage of search: logic on fakes, then the real model."""

from __future__ import annotations

import pytest

from assistant.models import Hit, Paper, Passage
from assistant.retrieval import hit_text, rerank
from assistant.settings import RetrievalSettings
from tests.conftest import OverlapRelevance


def _hit(pid: str, title: str, text: str) -> Hit:
    return Hit(
        paper_id=pid, title=title, score=0.0, passages=[Passage(text=text, sentence_start=0, sentence_end=1, score=0.0)]
    )


def test_rerank_moves_the_relevant_hit_up_and_records_its_score():
    hits = [
        _hit("a", "Speaker verification", "We study speaker embeddings."),
        _hit("b", "Model merging", "Merging fine-tuned models by averaging their weights."),
    ]
    out = rerank(
        "how does weight averaging merge models", hits, OverlapRelevance(), RetrievalSettings(rerank_weight=0.2), 2
    )
    assert [h.paper_id for h in out] == ["b", "a"]
    assert out[0].relevance is not None and out[0].relevance > out[1].relevance


def test_rerank_weight_one_keeps_the_first_stage_order_and_the_tail():
    hits = [_hit(p, p.upper(), f"text {p}") for p in "abcd"]
    cfg = RetrievalSettings(rerank_weight=1.0, rerank_top=2)
    out = rerank("text d", hits, OverlapRelevance(), cfg, 4)
    assert [h.paper_id for h in out] == ["a", "b", "c", "d"]  # c and d were not rescored: they stay after


def test_hit_text_reads_the_title_with_each_passage():
    hit = _hit("a", "Title", "Body.")
    assert hit_text(hit) == ["Title. Body."]
    assert hit_text(Hit(paper_id="x", title="Only", score=0)) == ["Only"]


def test_rerank_reads_only_the_first_rerank_passages():
    two = [Passage(text=t, sentence_start=0, sentence_end=1, score=0.0) for t in ("First.", "Second merging.")]
    hits = [Hit(paper_id="a", title="A", score=0.0, passages=two), _hit("b", "B", "Other text.")]
    assert hit_text(hits[0], 1) == ["A. First."] and len(hit_text(hits[0])) == 2
    seen: list[str] = []

    class Recording(OverlapRelevance):
        def score(self, query, texts):
            seen.extend(texts)
            return super().score(query, texts)

    rerank("merging", hits, Recording(), RetrievalSettings(rerank_passages=1), 2)
    assert seen == ["A. First.", "B. Other text."]


def test_search_with_rerank_through_the_assistant(make_assistant):
    papers = [
        Paper(id="merge", title="Merging models", abstract="We merge fine-tuned models by weight averaging. It works."),
        Paper(
            id="speech", title="Speech synthesis", abstract="A text-to-speech model for speakers. Voices sound natural."
        ),
    ]
    a = make_assistant(papers, retrieval={"rerank": True})
    result = a.search("weight averaging of fine-tuned models", 2)
    assert result.hits[0].paper_id == "merge" and result.hits[0].relevance is not None
    plain = a.search("weight averaging of fine-tuned models", 2, rerank=False)
    assert all(h.relevance is None for h in plain.hits)


def test_relevance_part_of_eval_reports_each_split(make_assistant, tmp_path):
    import json

    from assistant.evaluation.gold import GoldQuestion
    from assistant.evaluation.suite import _relevance_part

    papers = [
        Paper(id="merge", title="Merging models", abstract="We merge fine-tuned models by weight averaging."),
        Paper(id="speech", title="Speech synthesis", abstract="A text-to-speech model."),
    ]
    a = make_assistant(papers)
    qs = [
        GoldQuestion("q1", "merging fine-tuned models", "thematic", ["merge"], [], split="tune"),
        GoldQuestion("q2", "speech synthesis model", "factual", ["speech"], [], split="test"),
        GoldQuestion("q3", "football", "unanswerable", [], [], split="test"),
    ]
    out = _relevance_part(a, qs, lambda *args: None)
    m = out["metrics"]
    assert out["n"] == 2
    assert m["test_reranked_ndcg@10"] == 1.0 and m["tune_first_stage_mrr"] == 1.0
    assert m["tune_reranked_recall@10_thematic_comparative"] == 1.0
    assert "test_cosine_reranked_ndcg@10" not in m  # no cosine baseline beside a fake
    json.dumps(out)


def test_unknown_relevance_kind_is_a_model_error():
    from assistant.errors import ModelError
    from assistant.judge.relevance import load_relevance

    with pytest.raises(ModelError):
        load_relevance("nope")


def test_relevance_artifact_is_small_and_documented():
    import json

    from assistant.judge.relevance import RELEVANCE_DIR

    adapter = RELEVANCE_DIR / "adapter.safetensors"
    assert adapter.stat().st_size < 3_000_000
    config = json.loads((RELEVANCE_DIR / "config.json").read_text())
    assert config["labels"] == ["relevant"] and "PubMedQA" in config["training"]["data"]


# -- the real model --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model():
    from assistant.judge.relevance import load_relevance

    return load_relevance("model")


@pytest.mark.slow
def test_real_model_prefers_the_finding_that_answers(model):
    q = "Does reinforcement learning improve knowledge recall in language models?"
    texts = [
        "We find that RL fine-tuning improves the recall of parametric knowledge by 27% on factual QA.",
        "Large language models are increasingly used in many applications.",
        "We propose a new text-to-speech system with natural prosody.",
    ]
    s = model.score(q, texts)
    assert all(0.0 <= x <= 1.0 for x in s)
    assert s[0] > s[1] and s[0] > s[2]
    assert model.score(q, texts) == s  # deterministic


@pytest.mark.slow
def test_real_rerank_keeps_the_right_paper_on_top(real_assistant):
    result = real_assistant.search("merging fine-tuned models by averaging their weights", 10, rerank=True)
    assert result.hits and all(h.relevance is not None for h in result.hits)
    titles = " ".join(h.title.lower() for h in result.hits[:3])
    assert "merg" in titles


def test_reranker_runs_on_its_own_backend_unless_it_is_asks(monkeypatch, tmp_path):
    from assistant import Assistant, Settings
    from assistant.judge import relevance as rel

    loaded = []
    monkeypatch.setattr(
        rel, "load_relevance", lambda kind, backend="onnx", cache=None: loaded.append(backend) or backend
    )
    paths = {"store": str(tmp_path / "s"), "cache": str(tmp_path / "c")}
    a = Assistant(Settings(paths=paths))  # ask: fp32 onnx; rerank: int8
    assert a.reranker == "onnx-int8" and a.relevance == "onnx" and loaded == ["onnx-int8", "onnx"]
    same = Assistant(Settings(paths=paths, retrieval={"rerank_backend": None}))
    assert same.reranker is same.relevance
    given = OverlapRelevance()
    assert Assistant(Settings(paths=paths), relevance=given).reranker is given  # a scorer passed in is used for both
