"""The library surface: injected backends win, a missing index is its own error, where the
index lives by default, and every public return type is exported."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import HashEmbedder, KeywordJudge, MemoryStore, ScriptedLLM
from typer.testing import CliRunner

import assistant
from assistant import Assistant, NoIndexError, StoreError
from assistant.errors import QueryError
from assistant.models import Paper

PAPERS = [
    Paper(id="alpha-2024", title="Alpha merging", abstract="Alpha merges fine-tuned models. It improves accuracy."),
    Paper(
        id="beta-2024", title="Beta recall", abstract="Reinforcement learning improves knowledge recall. It is cheap."
    ),
]


def test_injected_backends_win_over_settings(settings_factory):
    embedder, store, llm, judge = HashEmbedder(), MemoryStore(), ScriptedLLM(), KeywordJudge()
    a = Assistant(settings_factory(), embedder=embedder, store=store, llm=llm, judge=judge)
    a.index.ingest(PAPERS)
    assert a.index.embedder is embedder and a.index.store is store
    assert a.llm is llm and a.judge is judge
    assert a.search("knowledge recall", k=1).hits[0].paper_id == "beta-2024"
    assert a.stats().papers == 2 and a.stats().store == store.location


def test_ask_goes_through_the_injected_llm_and_judge(make_assistant):
    llm = ScriptedLLM("- Reinforcement learning improves knowledge recall [1]\n")
    a = make_assistant(PAPERS, llm=llm, ask={"min_relevance": 0.05})
    answer = a.ask("does reinforcement learning improve knowledge recall?", mode="generative")
    assert llm.calls == 1 and not answer.refused
    assert answer.references[0].paper_id == "beta-2024" and answer.judge == "keyword"


def test_a_named_store_that_does_not_exist_is_an_error_not_a_build(settings_factory, tmp_path):
    missing = tmp_path / "nowhere"
    a = Assistant(settings_factory(paths={"store": str(missing)}), embedder=HashEmbedder())
    with pytest.raises(NoIndexError, match=r"no index at .*nowhere.*review ingest"):
        a.search("anything")
    assert isinstance(NoIndexError("x"), StoreError)
    assert not (missing / "chroma.sqlite3").exists()


def test_only_ingest_creates_an_index(settings_factory, tmp_path):
    a = Assistant(settings_factory(paths={"store": str(tmp_path / "new")}), embedder=HashEmbedder())
    src = tmp_path / "p.jsonl"
    src.write_text('{"title": "Gamma study", "abstract": "Gamma rays. They are bright."}\n')
    assert a.ingest([src]).added == 1
    assert a.stats().papers == 1


def test_cli_search_on_a_missing_store_is_one_line(tmp_path, monkeypatch):
    from assistant.cli import app

    monkeypatch.setenv("REVIEW_CONFIG", str(tmp_path / "absent.toml"))
    result = CliRunner().invoke(app, ["--store", str(tmp_path / "nope"), "search", "merging"])
    assert result.exit_code == 1
    assert "no index at" in result.output and "review ingest" in result.output
    assert "Traceback" not in result.output


def test_default_store_is_the_checkout_store_or_the_user_data_folder(tmp_path, monkeypatch):
    from assistant.settings import _default_store

    monkeypatch.setenv("REVIEW_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert _default_store() == tmp_path / "home" / "store"
    (tmp_path / "store").mkdir()
    assert _default_store() == tmp_path / "home" / "store"  # a store/ folder alone is not a checkout
    (tmp_path / "assistant").mkdir()
    (tmp_path / "assistant" / "__init__.py").write_text("")
    assert _default_store() == Path("store")


def test_stats_prints_an_absolute_store_path(settings_factory, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    a = Assistant(settings_factory(paths={"store": "rel-store"}), embedder=HashEmbedder())
    a.ingest([_jsonl(tmp_path)])
    assert Path(a.stats().store).is_absolute() and a.stats().store.endswith("rel-store")


def _jsonl(tmp_path: Path) -> Path:
    src = tmp_path / "one.jsonl"
    src.write_text('{"title": "Delta study", "abstract": "Delta waves. They are slow."}\n')
    return src


def test_every_public_type_is_exported():
    for name in assistant.__all__:
        assert getattr(assistant, name) is not None, name
    for name in ("Answer", "Statement", "Outline", "OutlineNode", "SearchResult", "IngestReport", "IndexStats"):
        assert name in assistant.__all__
    assert "EvalReport" in assistant.__all__ and "NoIndexError" in assistant.__all__


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda a: a.ask("  "), "the question is empty"),
        (lambda a: a.search(""), "the query is empty"),
        (lambda a: a.outline("\n"), "the topic is empty"),
    ],
)
def test_empty_text_is_refused_before_the_index_is_opened(settings_factory, monkeypatch, call, message):
    # On a fresh machine the first use builds the bundled index (a progress bar, half a minute):
    # an empty question must fail at once, not after that.
    def no_index(self):
        raise AssertionError("the index was opened for an empty text")

    monkeypatch.setattr(Assistant, "index", property(no_index))
    a = Assistant(settings_factory(), embedder=HashEmbedder())
    with pytest.raises(QueryError, match=message):
        call(a)


def test_a_paper_with_only_a_year_shows_the_year(settings_factory, tmp_path):
    a = Assistant(settings_factory(), embedder=HashEmbedder())
    src = tmp_path / "p.jsonl"
    src.write_text(
        '{"title": "Quokka pruning", "abstract": "Quokka pruning removes heads.", "year": 2020}\n'
        '{"title": "Wombat pruning", "abstract": "Wombat pruning removes layers.", "date": "Jan 15"}\n'
    )
    a.ingest([src])
    hits = {h.title: h for h in a.search("pruning removes", 2).hits}
    assert hits["Quokka pruning"].date == "2020" and hits["Wombat pruning"].date == "Jan 15"
    assert a.papers()[0].when in ("2020", "Jan 15")
