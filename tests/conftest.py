"""Shared fixtures and the one set of small fakes every fast test uses.

Fakes (real, tiny implementations of the seams, no mock patching):
- ``HashEmbedder``: bag-of-words vectors hashed into 64 dimensions;
- ``MemoryStore``: the ``VectorStore`` protocol in memory (exact cosine search);
- ``ScriptedLLM``: replies from a script (a string, a queue of strings, or a function of the prompt);
- ``KeywordJudge``: support = the statement's keywords found in the source.

``make_assistant(papers, llm=..., judge=...)`` gives an ``Assistant`` with fakes injected and
the papers ingested. Tests that load the real bundled models are marked ``slow``.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import uuid
from collections.abc import Callable, Sequence
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


class MemoryStore:
    """The VectorStore protocol in memory: chunks and paper records, exact cosine search."""

    def __init__(self, embedder_name: str = HashEmbedder.name, dimension: int = HashEmbedder.dimension) -> None:
        self.location = f"memory:{uuid.uuid4().hex[:8]}"
        self.embedder_name, self.dimension = embedder_name, dimension
        self.reset()

    def reset(self) -> None:
        self.chunks: dict = {}  # chunk id -> (Chunk, vector, content hash)
        self.papers: dict = {}  # paper id -> (Paper, vector, content hash)
        self.titles: dict = {}  # chunk id -> how its vector carries the title (chunks.title)
        self._generation = ""

    def info(self):
        return {
            "embedder": self.embedder_name,
            "dimension": self.dimension,
            "chunks": len(self.chunks),
            "papers": len(self.papers),
        }

    def paper_hashes(self):
        return {pid: h for pid, (_, _, h) in self.papers.items()}

    def chunk_paper_ids(self):
        return {cid: c.paper_id for cid, (c, _, _) in self.chunks.items()}

    def chunk_records(self, windows=None):
        if windows is not None:
            windows.update(
                {
                    cid: (c.sentence_start, c.sentence_end, self.titles.get(cid, "prefix"))
                    for cid, (c, _, _) in self.chunks.items()
                }
            )
        return {cid: (c.paper_id, h) for cid, (c, _, h) in self.chunks.items()}

    def delete_chunks(self, paper_ids: Sequence[str]) -> None:
        gone = set(paper_ids)
        self.chunks = {cid: v for cid, v in self.chunks.items() if v[0].paper_id not in gone}

    def add_chunks(self, chunks, embeddings, hashes, title="prefix") -> None:
        for c, v in zip(chunks, embeddings):
            self.chunks[c.id] = (c, np.asarray(v, dtype=np.float32), hashes[c.paper_id])
            self.titles[c.id] = title

    def put_papers(self, papers, embeddings) -> None:
        for p, v in zip(papers, embeddings):
            self.papers[p.id] = (p, np.asarray(v, dtype=np.float32), p.content_hash())

    def get_papers(self, paper_ids=None):
        if paper_ids is None:
            return [p for p, _, _ in self.papers.values()]
        return [self.papers[i][0] for i in paper_ids if i in self.papers]

    def all_chunks(self):
        return [c for c, _, _ in self.chunks.values()]

    def query_chunks(self, embedding, n):
        if not self.chunks:
            return []
        items = list(self.chunks.values())
        sims = np.stack([v for _, v, _ in items]) @ np.asarray(embedding, dtype=np.float32)
        order = sorted(range(len(items)), key=lambda i: (-float(sims[i]), items[i][0].id))[:n]
        return [(items[i][0], float(sims[i])) for i in order]

    def bump_generation(self) -> str:
        self._generation = uuid.uuid4().hex
        return self._generation

    def generation(self) -> str:
        return self._generation

    def size_bytes(self):
        return None


class ScriptedLLM:
    """An LLM that answers from a script: one fixed reply, a queue of replies (the last one
    repeats), or a function of the prompt. Records every prompt and grammar it is given."""

    name = "scripted"

    def __init__(self, script: str | Sequence[str] | Callable[[str], str] = "") -> None:
        self.script = script
        self.prompts: list[str] = []
        self.grammar: str | None = None
        self.calls = 0

    def _reply(self, prompt: str) -> str:
        if callable(self.script):
            return self.script(prompt)
        if isinstance(self.script, str):
            return self.script
        return self.script[min(self.calls - 1, len(self.script) - 1)]

    def complete(self, prompt, *, max_tokens, stop=None, grammar=None, on_text=None, should_stop=None):
        from assistant.llm import Completion

        self.calls += 1
        self.prompts.append(prompt)
        self.grammar = grammar
        text = self._reply(prompt)
        if on_text:
            on_text(text)
        return Completion(text=text, prompt_tokens=len(prompt.split()), completion_tokens=len(text.split()))


class KeywordJudge:
    """Support from keywords: when a statement has CAPITALISED words (AA, BB), it is supported
    (1.0) only when all of them occur in the source; otherwise its score is the share of its
    words of four or more letters that occur in the source."""

    name = "keyword"

    def score(self, pairs):
        out = []
        for source, statement in pairs:
            caps = set(re.findall(r"\b[A-Z]{2,}\b", statement))
            if caps:
                out.append(1.0 if caps <= set(re.findall(r"\b[A-Z]{2,}\b", source)) else 0.0)
                continue
            words = {w for w in re.findall(r"[a-z]+", statement.lower()) if len(w) > 3}
            have = set(re.findall(r"[a-z]+", source.lower()))
            out.append(len(words & have) / max(1, len(words)))
        return out


class OverlapRelevance:
    """Relevance from word overlap: the share of the query's words of four or more letters
    (plain prefix match on 5 letters) that occur in the text."""

    kind = "overlap"

    def score(self, query, texts):
        words = {w[:5] for w in re.findall(r"[a-z]+", query.lower()) if len(w) > 3}
        out = []
        for text in texts:
            have = {w[:5] for w in re.findall(r"[a-z]+", text.lower())}
            out.append(len(words & have) / max(1, len(words)))
        return out

    def score_pairs(self, pairs):
        return [self.score(q, [t])[0] for q, t in pairs]


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


@pytest.fixture
def make_assistant(settings_factory):
    """An Assistant on fakes (hash embedder, memory store, scripted LLM, keyword judge, overlap
    relevance), papers ingested."""
    from assistant import Assistant

    def make(papers=(), *, llm=None, judge=None, embedder=None, relevance=None, **sections):
        # The fakes' scores are not calibrated: the answerability bar is off unless a test sets it.
        sections.setdefault("ask", {}).setdefault("min_answerability", 0.0)
        sections["ask"].setdefault("quote_bar", 0.0)
        a = Assistant(
            settings_factory(**sections),
            embedder=embedder or HashEmbedder(),
            store=MemoryStore(),
            llm=llm or ScriptedLLM(),
            judge=judge or KeywordJudge(),
            relevance=relevance or OverlapRelevance(),
        )
        if papers:
            a.index.ingest(list(papers))
        return a

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


def numbered_papers(n: int, start: int = 0):
    """Papers paper<i>-2024 with distinct words (alpha<i>) and shared ones (topic, beta), for store tests."""
    from assistant.models import Paper

    return [
        Paper(
            id=f"paper{i}-2024",
            title=f"Paper {i} title",
            abstract=f"Topic {i % 7} studies alpha{i} methods. It finds beta{i % 5} results. Gamma{i} follows.",
            date="2024-01-02",
            authors=["A. Author", "B. Author"],
        )
        for i in range(start, start + n)
    ]
