import pytest

from assistant.settings import Settings, describe_settings


def test_env_file_and_flag_precedence(tmp_path, monkeypatch):
    toml = tmp_path / "review.toml"
    toml.write_text("[retrieval]\nk = 7\n[chunks]\nsentences = 4\n")
    monkeypatch.setenv("REVIEW_CONFIG", str(toml))
    monkeypatch.setenv("REVIEW_CHUNKS__SENTENCES", "5")
    s = Settings(retrieval={"rrf_k": 10})
    assert s.retrieval.k == 7  # file
    assert s.chunks.sentences == 5  # env beats file
    assert s.retrieval.rrf_k == 10  # flag
    sources = {r["name"]: r["source"] for r in describe_settings(s, {"retrieval": {"rrf_k": 10}})}
    assert sources["retrieval.k"].startswith("file")
    assert sources["chunks.sentences"] == "env REVIEW_CHUNKS__SENTENCES"
    assert sources["retrieval.rrf_k"] == "flag"
    assert sources["llm.temperature"] == "default"


def test_invalid_value_is_rejected(monkeypatch, tmp_path):
    monkeypatch.setenv("REVIEW_CONFIG", str(tmp_path / "none.toml"))
    with pytest.raises(ValueError):
        Settings(retrieval={"k": 0})


def test_fingerprint_changes_with_results_relevant_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("REVIEW_CONFIG", str(tmp_path / "none.toml"))
    assert Settings().fingerprint() == Settings().fingerprint()
    assert Settings().fingerprint() != Settings(retrieval={"k": 3}).fingerprint()
