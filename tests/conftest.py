"""Shared fixtures: a tiny fake embedder for logic tests, a real bundled-model index for the rest."""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (for servers the tests start)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HashEmbedder:
    """Deterministic bag-of-words vectors: enough to test index logic without a model."""

    name = "fake-hash"
    dimension = 64

    def __init__(self) -> None:
        self.calls = 0
        self.texts = 0

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dimension, dtype=np.float32)
        for word in text.lower().split():
            v[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1.0
        return v / (np.linalg.norm(v) or 1.0)

    def embed_documents(self, texts):
        self.calls += 1
        self.texts += len(texts)
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)

    def embed_query(self, text):
        return self._vec(text)


@pytest.fixture
def fake_embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture
def settings_factory(tmp_path, monkeypatch):
    """Settings isolated from the user's environment and review.toml."""
    from assistant.settings import Settings

    for key in list(os.environ):
        if key.startswith("REVIEW_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("REVIEW_CONFIG", str(tmp_path / "absent.toml"))

    def make(**sections) -> Settings:
        sections.setdefault("paths", {})
        sections["paths"].setdefault("store", str(tmp_path / "store"))
        sections["paths"].setdefault("cache", str(tmp_path / "cache"))
        return Settings(**sections)

    return make


@pytest.fixture(scope="session")
def real_assistant(tmp_path_factory):
    """The bundled corpus indexed with the bundled embedder in a real Chroma store (built once)."""
    from assistant import Assistant, Settings

    base = tmp_path_factory.mktemp("real")
    settings = Settings(paths={"store": str(base / "store"), "cache": str(base / "cache")})
    a = Assistant(settings)
    a.ingest()
    return a
