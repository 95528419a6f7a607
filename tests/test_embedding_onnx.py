"""The lean embedder: ONNX Runtime gives sentence-transformers' vectors, and the query and ask
paths import neither torch nor transformers once the exports are cached."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import ModelError
from assistant.settings import EmbeddingSettings

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "sentence_transformers")


def test_the_bundled_model_fits_the_onnx_path():
    from assistant.bundled import bundled_embedder_path
    from assistant.indexing.onnxembed import model_layout

    layout = model_layout(bundled_embedder_path())
    assert (layout["pooling"], layout["dimension"], layout["max_length"]) == ("mean", 384, 256)


def _fake_model(tmp_path: Path, modules: list[dict]) -> Path:
    (tmp_path / "modules.json").write_text(json.dumps(modules))
    (tmp_path / "config.json").write_text(json.dumps({"hidden_size": 8}))
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_mean_tokens": True}))
    (tmp_path / "tokenizer.json").write_text("{}")
    return tmp_path


class _Reference:
    """Stands in for SentenceTransformerEmbedder: records that the fallback was taken."""

    def __init__(self, settings):
        self.settings = settings


def test_an_unsupported_model_falls_back_with_a_note(tmp_path, monkeypatch, caplog):
    from assistant.indexing import embedding

    model = _fake_model(
        tmp_path,
        [
            {"type": "sentence_transformers.models.Transformer", "path": ""},
            {"type": "sentence_transformers.models.Pooling", "path": "1_Pooling"},
            {"type": "sentence_transformers.models.Dense", "path": "2_Dense"},
        ],
    )
    monkeypatch.setattr(embedding, "SentenceTransformerEmbedder", _Reference)
    with caplog.at_level(logging.INFO, logger="assistant"):
        got = embedding.load_embedder(EmbeddingSettings(model=str(model)), tmp_path / "cache")
    assert isinstance(got, _Reference)
    assert "cannot run on ONNX Runtime" in caplog.text and "Dense" in caplog.text
    assert not (tmp_path / "cache" / "onnx").exists()


def test_torch_backend_is_sentence_transformers(monkeypatch):
    from assistant.indexing import embedding

    monkeypatch.setattr(embedding, "SentenceTransformerEmbedder", _Reference)
    assert isinstance(embedding.load_embedder(EmbeddingSettings(backend="torch")), _Reference)


def test_backend_from_the_environment(settings_factory, monkeypatch):
    assert settings_factory().embedding.backend == "onnx"
    monkeypatch.setenv("REVIEW_EMBEDDING__BACKEND", "torch")
    assert settings_factory().embedding.backend == "torch"


def test_int8_backend_is_a_setting(settings_factory, monkeypatch):
    from pydantic import ValidationError

    assert EmbeddingSettings(backend="onnx-int8").backend == "onnx-int8"
    assert settings_factory().embedding.ingest_int8 is True
    monkeypatch.setenv("REVIEW_EMBEDDING__BACKEND", "onnx-int8")
    assert settings_factory().embedding.backend == "onnx-int8"
    with pytest.raises(ValidationError, match="onnx-int8"):
        EmbeddingSettings(backend="int8")


def test_a_broken_cached_export_is_one_line_and_removed(tmp_path):
    from assistant.bundled import bundled_embedder_path
    from assistant.indexing.embedding import load_embedder
    from assistant.indexing.onnxembed import embedder_onnx_path

    path = embedder_onnx_path(bundled_embedder_path(), tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="run the command again") as err:
        load_embedder(EmbeddingSettings(), tmp_path)
    assert "\n" not in str(err.value)
    assert not path.exists()


def _texts() -> list[str]:
    from assistant.corpus import bundled_corpus_paths, read_papers
    from assistant.text import split_sentences

    papers = read_papers(bundled_corpus_paths())[:40]
    texts = [p.title for p in papers[:30]]
    texts += [s for p in papers for s in split_sentences(p.abstract)][:45]
    texts += [p.title + ". " + p.abstract for p in papers[:20]]  # long: truncated at 256 tokens
    texts += ["", "  padded  ", "RL", "Does weight averaging help?", "α-β ≥ 3.5%"]
    return texts[:100]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.mark.slow
def test_onnx_vectors_match_sentence_transformers(cache):
    from assistant.indexing.embedding import SentenceTransformerEmbedder, load_embedder
    from assistant.indexing.onnxembed import OnnxEmbedder

    texts = _texts()
    assert len(texts) == 100
    fast = load_embedder(EmbeddingSettings(batch_size=16), cache)
    assert isinstance(fast, OnnxEmbedder)
    ref = SentenceTransformerEmbedder(EmbeddingSettings(backend="torch"))
    a, b = fast.embed_documents(texts), ref.embed_documents(texts)
    assert a.shape == b.shape == (100, 384) and a.dtype == np.float32
    cosines = (a * b).sum(axis=1)
    assert cosines.min() >= 0.999
    q = "how does RL affect knowledge recall?"
    assert float(fast.embed_query(q) @ ref.embed_query(q)) >= 0.999
    # BERT's attention is fused (one Attention op per layer): the int8 twin then quantizes it whole.
    import onnx

    ops = {n.op_type for n in onnx.load(str(fast.path)).graph.node}
    assert {"Attention", "SkipLayerNormalization"} <= ops
    # The export is reused, not written again.
    stamp = fast.path.stat().st_ino
    again = load_embedder(EmbeddingSettings(), cache)
    assert again.path == fast.path and fast.path.stat().st_ino == stamp


@pytest.mark.slow
def test_int8_twin_agrees_with_fp32(cache):
    """The int8 twin (``embedding.backend = "onnx-int8"``, and ingest by default): per-column
    quantized beside the fp32 export, made once, vectors at cosine >= 0.99 to fp32 on average (the
    store treats both as one embedder: ``benchmarks/embedder_int8.py`` measured no retrieval loss
    from int8 documents, mixed with fp32 or not)."""
    from assistant.indexing.embedding import load_embedder

    texts = _texts()
    fp32 = load_embedder(EmbeddingSettings(batch_size=16), cache)
    int8 = load_embedder(EmbeddingSettings(backend="onnx-int8", batch_size=16), cache)
    assert int8.path == fp32.path.with_name(fp32.path.stem + "-int8pc.onnx")
    assert int8.path.stat().st_size < fp32.path.stat().st_size / 2
    assert int8.name == fp32.name and int8.dimension == fp32.dimension
    import onnx

    assert "QAttention" in {n.op_type for n in onnx.load(str(int8.path)).graph.node}
    a, b = fp32.embed_documents(texts), int8.embed_documents(texts)
    cosines = (a * b).sum(axis=1)
    assert cosines.mean() >= 0.99 and cosines.min() >= 0.95
    q = "how does RL affect knowledge recall?"
    assert float(fp32.embed_query(q) @ int8.embed_query(q)) >= 0.98
    # Each text's nearest other text under fp32 is among its 3 nearest under int8 (measured: all
    # 100; the very nearest for 91, the rest near-ties such as a title and its title + abstract).
    sa, sb = a @ a.T, b @ b.T
    np.fill_diagonal(sa, -2.0)
    np.fill_diagonal(sb, -2.0)
    top3 = np.argsort(-sb, axis=1)[:, :3]
    assert all(j in top3[i] for i, j in enumerate(sa.argmax(axis=1)))
    stamp = int8.path.stat().st_ino
    again = load_embedder(EmbeddingSettings(backend="onnx-int8"), cache)
    assert again.path == int8.path and int8.path.stat().st_ino == stamp
    # Ingest (batch) encodes with the twin by default, queries with fp32.
    assert load_embedder(EmbeddingSettings(), cache, batch=True).path == int8.path
    assert load_embedder(EmbeddingSettings(ingest_int8=False), cache, batch=True).path == fp32.path


@pytest.mark.slow
def test_ingest_encodes_one_text_per_run_on_a_session_per_core(cache):
    """Ingest's embedder: one one-thread session per core (``embedding.threads`` of them when set),
    one text per run. A text's int8 vector is then its own: the same from one session or two and
    whatever else is encoded with it (batches of 16 quantize activations per batch)."""
    from assistant.indexing.embedding import load_embedder

    texts = _texts()
    ingest = load_embedder(EmbeddingSettings(), cache, batch=True)
    assert ingest.batch_size == 1 and ingest.sessions.workers == (os.cpu_count() or 1)
    two = load_embedder(EmbeddingSettings(threads=2), cache, batch=True)
    one = load_embedder(EmbeddingSettings(threads=1), cache, batch=True)
    assert two.sessions.workers == 2 and one.sessions.workers == 1
    a, b = two.embed_documents(texts), one.embed_documents(texts)
    assert np.array_equal(a, b)
    alone = np.stack([one.embed_documents([t])[0] for t in texts[:5]])
    assert np.array_equal(alone, a[:5])
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    # the query side keeps one session, batches of at most 8
    query = load_embedder(EmbeddingSettings(), cache)
    assert query.sessions.workers == 1 and query.batch_size == 8
    assert load_embedder(EmbeddingSettings(batch_size=16), cache, batch=True).batch_size == 16


def test_sessions_run_every_batch_once_on_free_sessions():
    """``onnxrun.Sessions.map`` (logic, with fake sessions): every batch runs exactly once, never two
    at a time on one session, and with one worker in order."""
    import threading
    import time as _time

    from assistant.onnxrun import Sessions

    class Fake:
        def __init__(self) -> None:
            self.busy = False
            self.ran: list[int] = []

        def run(self, batch: int) -> None:
            assert not self.busy, "a session ran two batches at once"
            self.busy = True
            _time.sleep(0.002)
            self.ran.append(batch)
            self.busy = False

    pool = Sessions.__new__(Sessions)
    pool.workers, pool._pool = 3, None
    pool._all = [Fake() for _ in range(3)]
    pool.first = pool._all[0]
    lock = threading.Lock()
    seen: list[int] = []

    def run(session, batch):
        session.run(batch)
        with lock:
            seen.append(batch)

    pool.map(run, list(range(40)))
    assert sorted(seen) == list(range(40))
    assert sum(len(f.ran) for f in pool._all) == 40 and all(f.ran for f in pool._all)
    single = Sessions.__new__(Sessions)
    single.workers, single._pool, single.first = 1, None, Fake()
    single._all = [single.first]
    single.map(lambda s, b: s.run(b), [3, 1, 2])
    assert single.first.ran == [3, 1, 2]


_PROBE = """
import json, sys
from assistant import Assistant, Settings
a = Assistant(Settings(paths={{"store": {store!r}, "cache": {cache!r}}}))
hits = a.search("weight averaging of fine-tuned models", k=3).hits
after_search = [m for m in {heavy!r} if m in sys.modules]
answer = a.ask("how does weight averaging of fine-tuned models work?", mode="extractive")
print(json.dumps({{"hits": len(hits), "search": after_search, "ask": [m for m in {heavy!r} if m in sys.modules]}}))
"""


@pytest.mark.slow
def test_search_and_ask_do_not_import_torch_with_a_warm_cache(tmp_path, cache):
    from assistant import Assistant, Settings
    from assistant.corpus import bundled_corpus_paths, read_papers

    store = tmp_path / "store"
    settings = Settings(paths={"store": str(store), "cache": str(cache)})
    a = Assistant(settings)
    papers = read_papers(bundled_corpus_paths())[:30]
    (tmp_path / "few.jsonl").write_text("\n".join(p.model_dump_json() for p in papers))
    a.ingest([tmp_path / "few.jsonl"])
    a.judge.score([("A source sentence.", "A statement.")])  # exports the judge and relevance models
    a.relevance.score("a question", ["a text"])
    code = _PROBE.format(store=str(store), cache=str(cache), heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["hits"] == 3
    assert result["search"] == [] and result["ask"] == []


@pytest.mark.slow
def test_after_an_ingest_the_process_searches_as_a_fresh_one_does(real_assistant):
    """The ingest embedder (int8, all cores) embeds documents only: afterwards the same process
    embeds queries and outline candidates with the fp32 model, as the CLI's next process would
    (they differed, and `review outline` disagreed with the in-process outline)."""
    from assistant.indexing.embedding import load_embedder

    embedder = real_assistant.index.embedder
    assert "int8" not in embedder.path.name
    fresh = load_embedder(real_assistant.settings.embedding, real_assistant.settings.paths.cache)
    assert embedder.path == fresh.path


def test_a_graph_that_does_not_fuse_is_left_as_it_is(tmp_path):
    """``fuse_attention`` rewrites only a graph where every layer fuses; anything else (here a
    graph with no attention at all) keeps the plain export, byte for byte."""
    import onnx
    from onnx import TensorProto, helper

    from assistant.onnxrun import fuse_attention

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 4])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "plain", [x], [y])
    path = tmp_path / "plain.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    before = path.read_bytes()
    assert fuse_attention(path, heads=12, hidden=384, layers=6) is False
    assert path.read_bytes() == before
