"""The ONNX Runtime path of the cross-encoders gives the torch reference's numbers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

PREMISES = [
    "We find that RL fine-tuning improves knowledge recall by 27% on factual QA benchmarks.",
    "Task arithmetic merges fine-tuned models by adding their task vectors to the base weights.",
    "The 7B model is trained on 2 trillion tokens. It outperforms a 13B baseline on 9 of 12 tasks.",
] * 4
HYPOTHESES = [
    "RL hurts knowledge recall.",
    "Models can be merged by adding task vectors.",
    "The 7B model underperforms the 13B baseline on most tasks, a much longer statement " + "x " * 40,
] * 4


def test_onnxrun_import_is_light():
    code = "import sys, assistant.onnxrun; print(any(m in sys.modules for m in ('torch', 'transformers')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.mark.slow
@pytest.mark.parametrize("which", ["judge", "relevance"])
def test_onnx_logits_match_torch(which, cache):
    from assistant.bundled import bundled_embedder_path
    from assistant.judge.nli import ARTIFACT_DIR, RETRAIN, NLICrossEncoder
    from assistant.judge.relevance import RELEVANCE_DIR, RETRAIN_RELEVANCE
    from assistant.onnxrun import OnnxCrossEncoder, cross_encoder

    directory, labels, retrain = (
        (ARTIFACT_DIR, NLICrossEncoder.LABELS, RETRAIN)
        if which == "judge"
        else (RELEVANCE_DIR, ("relevant",), RETRAIN_RELEVANCE)
    )
    base = bundled_embedder_path()
    fast = cross_encoder(base, directory, labels, retrain, cache=cache)
    assert isinstance(fast, OnnxCrossEncoder)
    ref = cross_encoder(base, directory, labels, retrain, backend="torch")
    a = fast.logits(PREMISES, HYPOTHESES, batch_size=5, max_length=64)
    b = ref.logits(PREMISES, HYPOTHESES, batch_size=5, max_length=64).numpy()
    assert a.shape == b.shape == (len(PREMISES), len(labels))
    assert np.abs(a - b).max() < 1e-3
    # The exported file is reused, not written again.
    path = fast.path
    stamp = path.stat().st_ino
    again = cross_encoder(base, directory, labels, retrain, cache=cache)
    assert again.path == path and path.stat().st_ino == stamp


@pytest.mark.slow
def test_judge_scores_match_between_backends(cache):
    from assistant.judge import CrossEncoderJudge

    pairs = list(zip(PREMISES[:3], HYPOTHESES[:3], strict=True))
    fast = CrossEncoderJudge(backend="onnx", cache=cache).score(pairs)
    ref = CrossEncoderJudge(backend="torch").score(pairs)
    assert max(abs(x - y) for x, y in zip(fast, ref, strict=True)) < 1e-3


@pytest.mark.slow
def test_a_broken_cache_file_is_a_model_error_and_is_removed(tmp_path):
    from assistant.bundled import bundled_embedder_path
    from assistant.errors import ModelError
    from assistant.judge.relevance import RELEVANCE_DIR, RETRAIN_RELEVANCE
    from assistant.onnxrun import cross_encoder, onnx_path

    base = bundled_embedder_path()
    path = onnx_path(base, RELEVANCE_DIR, ("relevant",), tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="run the command again"):
        cross_encoder(base, RELEVANCE_DIR, ("relevant",), RETRAIN_RELEVANCE, cache=tmp_path)
    assert not path.exists()
    assert cross_encoder(base, RELEVANCE_DIR, ("relevant",), RETRAIN_RELEVANCE, cache=tmp_path).path == path


def test_unknown_backend_is_a_model_error(tmp_path):
    from assistant.errors import ModelError
    from assistant.onnxrun import cross_encoder

    with pytest.raises(ModelError, match="unknown model backend"):
        cross_encoder(tmp_path, tmp_path, ("x",), "retrain", backend="tpu")


@pytest.mark.slow
def test_int8_twin_is_made_once_and_ranks_like_fp32(cache):
    """``onnx-int8``: the dynamic-quantized twin sits beside the fp32 export, is made once, and
    orders pairs the way fp32 does (its logits are not equal: that is the point of int8)."""
    from assistant.bundled import bundled_embedder_path
    from assistant.judge.nli import ARTIFACT_DIR, RETRAIN, NLICrossEncoder
    from assistant.onnxrun import OnnxCrossEncoder, cross_encoder

    base = bundled_embedder_path()
    fp32 = cross_encoder(base, ARTIFACT_DIR, NLICrossEncoder.LABELS, RETRAIN, cache=cache)
    int8 = cross_encoder(base, ARTIFACT_DIR, NLICrossEncoder.LABELS, RETRAIN, backend="onnx-int8", cache=cache)
    assert isinstance(int8, OnnxCrossEncoder)
    assert int8.path == fp32.path.with_name(fp32.path.stem + "-int8pc.onnx")  # per-channel scales
    assert int8.path.stat().st_size < fp32.path.stat().st_size / 2
    stamp = int8.path.stat().st_ino
    again = cross_encoder(base, ARTIFACT_DIR, NLICrossEncoder.LABELS, RETRAIN, backend="onnx-int8", cache=cache)
    assert again.path.stat().st_ino == stamp

    def margins(model):
        x = model.logits(PREMISES[:3], HYPOTHESES[:3], batch_size=3, max_length=64)
        return x[:, 0] - x[:, 1:].max(axis=1)

    a, b = margins(fp32), margins(int8)
    assert list(np.argsort(a)) == list(np.argsort(b))
    assert np.abs(a - b).max() < 1.5


@pytest.mark.slow
def test_int8_is_the_default_and_reaches_the_judges_cosine_feature(cache):
    """``judge.backend`` defaults to ``onnx-int8``; with it the judge's cosine feature embeds with
    the embedder's per-channel int8 twin too (the same AUC on the tuning half, half the time)."""
    from assistant.judge import CrossEncoderJudge
    from assistant.settings import JudgeSettings

    assert JudgeSettings().backend == "onnx-int8"
    judge = CrossEncoderJudge(backend="onnx-int8", cache=cache)
    assert judge.model.path.name.endswith("-int8pc.onnx")
    assert judge.similarity.model.path.name.endswith("-int8pc.onnx")
    fp32 = CrossEncoderJudge(backend="onnx", cache=cache)
    assert not fp32.similarity.model.path.name.endswith("int8pc.onnx")


def test_prune_removes_exports_unused_for_weeks(tmp_path):
    import os
    import time

    from assistant.onnxrun import STALE_DAYS, prune

    old = time.time() - (STALE_DAYS + 1) * 86400
    names = [
        "embedder-aaaa.onnx",  # the one just written
        "embedder-bbbb.onnx",  # another install's, unused for weeks
        "embedder-bbbb-int8pc.onnx",
        "judge-cccc.onnx",  # recently used
        "embedder-aaaa-int8pc.onnx",  # the new file's twin
        "x.onnx12.tmp",  # a crashed export's leftover
        "notes.txt",  # not ours
    ]
    for name in names:
        (tmp_path / name).write_text("x")
        if name != "judge-cccc.onnx":
            os.utime(tmp_path / name, (old, old))
    removed = prune(tmp_path, tmp_path / "embedder-aaaa.onnx")
    assert sorted(p.name for p in removed) == ["embedder-bbbb-int8pc.onnx", "embedder-bbbb.onnx", "x.onnx12.tmp"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "embedder-aaaa-int8pc.onnx",
        "embedder-aaaa.onnx",
        "judge-cccc.onnx",
        "notes.txt",
    ]
    # the fp32 file of a new int8 twin is kept too, however old
    (tmp_path / "embedder-aaaa.onnx").touch()
    os.utime(tmp_path / "embedder-aaaa.onnx", (old, old))
    assert prune(tmp_path, tmp_path / "embedder-aaaa-int8pc.onnx") == []
