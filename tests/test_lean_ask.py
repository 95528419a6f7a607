"""`ask` loads only what it uses: a model remembered as not worth generating with is not loaded."""

from __future__ import annotations

import json

import pytest
from conftest import HashEmbedder, KeywordJudge, MemoryStore, OverlapRelevance

from assistant import Assistant
from assistant.errors import ReviewError
from assistant.models import Paper

PAPERS = [
    Paper(
        id="merge-2024",
        title="Weight averaging merges fine-tuned models",
        abstract="Weight averaging merges fine-tuned models into one model. It keeps the accuracy of each model.",
    )
]


def _assistant(settings) -> Assistant:
    a = Assistant(
        settings, embedder=HashEmbedder(), store=MemoryStore(), judge=KeywordJudge(), relevance=OverlapRelevance()
    )
    a.index.ingest(PAPERS)
    return a


@pytest.mark.parametrize("remembered", [True, False])
def test_auto_mode_skips_loading_a_model_remembered_as_extractive(settings_factory, tmp_path, remembered):
    missing = str(tmp_path / "absent.gguf")  # loading it would be an error
    settings = settings_factory(llm={"model": missing}, ask={"min_answerability": 0.0, "quote_bar": 0.0})
    if remembered:
        verdicts = {missing: {"answers": 2, "kept": 0}}
        (tmp_path / "cache").mkdir(exist_ok=True)
        (tmp_path / "cache" / "llm-verdicts.json").write_text(json.dumps(verdicts))
    a = _assistant(settings)
    if not remembered:
        with pytest.raises(ReviewError, match="GGUF model not found"):
            a.ask("how does weight averaging merge fine-tuned models?")
        return
    answer = a.ask("how does weight averaging merge fine-tuned models?")
    assert a._llm is None
    assert "answered extractively" in (answer.reason or "")
    with pytest.raises(ReviewError, match="GGUF model not found"):  # forcing generation still loads it
        a.ask("how does weight averaging merge fine-tuned models?", mode="generative")
