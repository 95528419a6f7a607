"""BM25 search without bm25s: the numpy scorer over the saved index ranks exactly as bm25s does."""

from __future__ import annotations

import random

import bm25s
import pytest

from assistant.indexing.lexical import LexicalIndex, _stemmer
from assistant.models import Chunk

WORDS = (
    "model merging weights averaging task vectors fine-tuning language models reinforcement learning "
    "knowledge recall retrieval augmented generation unlearning distillation speech the of and a in "
    "improves hurts outperforms Transformers transformer attention layers sparse dense 2024 GPT-4 "
    "LLaMA-2 zero-shot few-shot accuracy benchmark benchmarks benchmarking data dataset datasets"
).split()


def _corpus(n: int, seed: int = 0) -> tuple[list[Chunk], list[str]]:
    rng = random.Random(seed)
    chunks, texts = [], []
    for i in range(n):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 30)))
        chunks.append(Chunk(id=f"p{i}:0", paper_id=f"p{i}", text=text, sentence_start=0, sentence_end=1))
        texts.append(text)
    return chunks, texts


def _bm25s_ranking(texts: list[str], query: str, k: int) -> list[tuple[int, float]]:
    """What lexical.py did before: bm25s.tokenize + BM25.retrieve."""
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), show_progress=False), show_progress=False)
    tokens = bm25s.tokenize([query], stopwords="en", stemmer=_stemmer(), show_progress=False)
    if not tokens.ids or not tokens.ids[0]:
        return []
    docs, scores = retriever.retrieve(tokens, k=min(k, len(texts)), show_progress=False, n_threads=1)
    return [(int(d), float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]


@pytest.mark.parametrize("seed", range(4))
def test_numpy_scorer_ranks_as_bm25s_does(tmp_path, seed):
    chunks, texts = _corpus(300, seed)
    built = LexicalIndex.build(chunks, texts, "g")
    built.save(tmp_path / "lexical")
    loaded = LexicalIndex.load(tmp_path / "lexical", "g")
    assert loaded is not None
    rng = random.Random(100 + seed)
    queries = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 8))) for _ in range(40)]
    queries += ["the of and", "nothing matches here", "Merging MODELS, merged models!", "benchmark benchmarks"]
    for query in queries:
        expected = [(chunks[d].id, s) for d, s in _bm25s_ranking(texts, query, 100)]
        assert built.search(query, 100) == expected, query
        assert loaded.search(query, 100) == expected, query


def test_a_cache_without_stopwords_is_rebuilt(tmp_path):
    chunks, texts = _corpus(20)
    LexicalIndex.build(chunks, texts, "g").save(tmp_path / "lexical")
    (tmp_path / "lexical" / "stopwords.json").unlink()  # written by an older version
    assert LexicalIndex.load(tmp_path / "lexical", "g") is None


def test_empty_index_and_query(tmp_path):
    empty = LexicalIndex.build([], [], "g")
    assert empty.search("model merging", 10) == []
    chunks, texts = _corpus(10)
    idx = LexicalIndex.build(chunks, texts, "g")
    assert idx.search("", 10) == []
    assert idx.search("the and of", 10) == []
