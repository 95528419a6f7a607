"""ONNX Runtime for the cross-encoders (support judge, relevance model): no torch at run time.

The first use exports the torch model (bundled MiniLM + the shipped adapter, merged) to an ONNX
file in the cache, named by a hash of the base weights, the adapter and its config, so a new
adapter or base model gets a new file. Later processes only load that file with onnxruntime and
tokenize with ``tokenizers`` (both installed with chromadb): neither torch nor transformers is
imported. The export is written to a temporary file and renamed, so two processes exporting at
once both end with a whole file.

``OnnxCrossEncoder.logits`` gives the same numbers as ``NLICrossEncoder.logits`` (to float
rounding); ``tests/test_onnx.py`` checks it on real pairs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ModelError

__all__ = [
    "OnnxCrossEncoder",
    "Sessions",
    "cross_encoder",
    "export_atomic",
    "export_cross_encoder",
    "fuse_attention",
    "onnx_path",
    "prune",
    "quantized",
    "session",
]

log = logging.getLogger(__name__)

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OPSET = 17


def _file_digest(h: Any, path: Path) -> None:
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)


def onnx_path(base: Path, artifact_dir: Path, labels: Sequence[str], cache: Path) -> Path:
    """Where the exported model of (base weights, adapter, labels) lives in the cache."""
    h = hashlib.sha256()
    for name in ("config.json", "tokenizer.json"):
        if (base / name).is_file():
            _file_digest(h, base / name)
    weights = base / "model.safetensors"
    if weights.is_file():
        stat = weights.stat()
        h.update(f"{stat.st_size}:{int(stat.st_mtime)}".encode())
    for name in ("adapter.safetensors", "config.json"):
        _file_digest(h, artifact_dir / name)
    h.update(("|".join(labels) + f"|opset{OPSET}|eager").encode())
    return Path(cache) / "onnx" / f"{artifact_dir.name}-{h.hexdigest()[:16]}.onnx"


def export_atomic(
    module: Any,
    args: tuple,
    path: Path,
    inputs: list[str],
    outputs: list[str],
    axes: dict[str, dict[int, str]],
    *,
    fuse: dict | None = None,
) -> Path:
    """``torch.onnx.export`` to a temporary file renamed to ``path``: a reader sees no file or a whole one.

    ``fuse``: the model's ``{"heads", "hidden", "layers"}``, to run ``fuse_attention`` on the
    export before it is renamed into place."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.stem, suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the legacy exporter's deprecation notes and tracer warnings
            torch.onnx.export(
                module,
                args,
                tmp,
                input_names=inputs,
                output_names=outputs,
                dynamic_axes=axes,
                opset_version=OPSET,
                dynamo=False,
            )
        if fuse:
            fuse_attention(Path(tmp), **fuse)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    prune(path.parent, path)
    return path


def fuse_attention(path: Path, heads: int, hidden: int, layers: int) -> bool:
    """Rewrite the BERT export at ``path`` in place with ONNX Runtime's transformer fusions: one
    ``Attention`` op per layer, ``EmbedLayerNormalization``, ``SkipLayerNormalization``, ``BiasGelu``.
    Its int8 twin then quantizes the attention projections as one op (``QAttention``) and encodes
    ingest's chunks about 1.2x faster, same vectors (``benchmarks/ingest_speed.py``). The fusion
    only matches the eager attention graph (``attn_implementation="eager"``). Returns False, file
    unchanged, when not every layer fused (another architecture) or the optimizer failed."""
    root = logging.getLogger()
    level = root.level
    try:
        root.setLevel(logging.ERROR)  # the optimizer logs its fusion counts on the root logger
        from onnxruntime.transformers.optimizer import optimize_model

        model = optimize_model(str(path), model_type="bert", num_heads=heads, hidden_size=hidden)
        fused = model.get_fused_operator_statistics().get("Attention", 0)
        if fused != layers:
            log.info("attention fusion matched %d of %d layers of %s: keeping the plain export", fused, layers, path)
            return False
        model.save_model_to_file(str(path))
        return True
    except Exception as exc:  # noqa: BLE001 - an optimisation: the plain export still works
        log.info("attention fusion of %s failed (%s): keeping the plain export", path, exc)
        return False
    finally:
        root.setLevel(level)


def export_cross_encoder(model: Any, path: Path) -> Path:
    """Write ``model`` (an ``NLICrossEncoder``) as ONNX to ``path`` atomically."""
    import torch

    class Graph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder, self.head = model.encoder, model.head

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return self.head((hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0))

    enc = model.tokenizer(["a source sentence"], ["a statement"], return_tensors="pt")
    axes = {name: {0: "batch", 1: "tokens"} for name in INPUTS} | {"logits": {0: "batch"}}
    export_atomic(Graph().eval(), tuple(enc[name] for name in INPUTS), path, list(INPUTS), ["logits"], axes)
    return path


def quantized(path: Path, *, per_channel: bool = False) -> Path:
    """The int8 twin of the fp32 export at ``path`` (dynamic quantization of the MatMul weights,
    activations quantized per batch at run time), made once beside it and renamed into place.
    A failed quantization keeps the fp32 file, with a note in the log.

    ``per_channel``: one scale per output column instead of one per matrix (``-int8pc`` file). The
    embedder needs it: with per-matrix scales its vectors keep only cosine 0.95 to fp32, with
    per-column scales 0.993 (100 texts, ``benchmarks/embedder_int8.py``)."""
    target = path.with_name(path.stem + ("-int8pc.onnx" if per_channel else "-int8.onnx"))
    if target.is_file():
        return target
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fd, tmp = tempfile.mkstemp(prefix=target.stem, suffix=".tmp", dir=path.parent)
    os.close(fd)
    root = logging.getLogger()
    level = root.level
    try:
        root.setLevel(logging.ERROR)  # quantize_dynamic logs a "consider pre-processing" note on the root logger
        import onnx

        quantize_dynamic(
            str(path),
            tmp,
            weight_type=QuantType.QInt8,
            per_channel=per_channel,
            # a fused graph's contrib ops (Attention, SkipLayerNormalization) defeat shape inference
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
        prune(target.parent, target)
    except Exception as exc:  # noqa: BLE001 - any failure: the fp32 model still works
        log.warning("int8 quantization of %s failed (%s): using fp32", path.name, exc)
        return path
    finally:
        root.setLevel(level)
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


STALE_DAYS = 14  # an export not loaded for this long is removed when another one is written


def prune(directory: Path, keep: Path, days: float = STALE_DAYS) -> list[Path]:
    """Remove exports (and leftover temporary files) in ``directory`` that no process has loaded
    for ``days``: each install of a model (another virtualenv, new weights) gets its own export,
    and without this the cache only grows. ``session`` marks a file used. Returns what was removed."""
    cutoff = time.time() - days * 86400
    removed = []
    for f in directory.glob("*"):
        twin = f.name.startswith(keep.stem) or keep.name.startswith(f.stem + "-")  # fp32 file and int8 twin
        if f == keep or f.suffix not in (".onnx", ".tmp") or twin:
            continue
        try:
            if f.stat().st_mtime < cutoff:
                f.unlink()
                removed.append(f)
        except OSError:  # gone already, or not ours to remove
            continue
    if removed:
        log.info("removed %d ONNX exports unused for %d days from %s", len(removed), days, directory)
    return removed


def session(path: Path, threads: int | None = None) -> Any:
    """An onnxruntime CPU session of ``path`` (``threads``: intra-op threads, default ORT's choice)."""
    import onnxruntime as ort

    try:
        os.utime(path)  # in use: kept by ``prune``
    except OSError:  # a read-only cache
        pass

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class Sessions:
    """One session of ``threads`` threads, or ``workers`` (> 1) one-thread sessions of one model
    that run batches side by side (onnxruntime releases the GIL while it runs).

    Small int8 models on short sequences run faster this way than one multi-thread session on
    bigger batches: each run stays in cache and no core waits for another (README, "One text per
    run, one session per core")."""

    def __init__(self, path: Path, threads: int | None = None, workers: int = 1) -> None:
        self.workers = max(1, workers)
        self.first = session(path, 1 if self.workers > 1 else threads)
        self._all = [self.first] + [session(path, 1) for _ in range(self.workers - 1)]
        self._pool: Any = None

    def map(self, run: Any, batches: Sequence[Any]) -> None:
        """``run(session, batch)`` for every batch, on the free sessions in parallel (in order on one)."""
        if self.workers == 1 or len(batches) < 2:
            for batch in batches:
                run(self.first, batch)
            return
        import queue
        from concurrent.futures import ThreadPoolExecutor

        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="onnx")
        free: queue.SimpleQueue = queue.SimpleQueue()
        for s in self._all:
            free.put(s)

        def one(batch: Any) -> None:
            s = free.get()  # a session runs one batch at a time
            try:
                run(s, batch)
            finally:
                free.put(s)

        for _ in self._pool.map(one, batches):
            pass


class OnnxCrossEncoder:
    """A cross-encoder exported to ONNX: ``logits(premises, hypotheses)`` as a numpy array."""

    def __init__(
        self,
        path: Path,
        base: Path,
        config: dict,
        labels: Sequence[str],
        threads: int | None = None,
        workers: int = 1,
    ) -> None:
        from tokenizers import Tokenizer

        self.sessions = Sessions(path, threads, workers)
        self.session = self.sessions.first
        self.tokenizer = Tokenizer.from_file(str(base / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.config = config
        self.labels = tuple(labels)
        self.path = path

    def _encode(self, premises: Sequence[str], hypotheses: Sequence[str]) -> dict[str, np.ndarray]:
        encs = self.tokenizer.encode_batch(list(zip(premises, hypotheses, strict=True)))
        width = max(len(e.ids) for e in encs)
        out = {name: np.zeros((len(encs), width), dtype=np.int64) for name in INPUTS}
        for i, e in enumerate(encs):
            n = len(e.ids)
            out["input_ids"][i, :n] = e.ids
            out["attention_mask"][i, :n] = e.attention_mask
            out["token_type_ids"][i, :n] = e.type_ids
        return out

    def logits(
        self, premises: Sequence[str], hypotheses: Sequence[str], batch_size: int = 64, max_length: int = 256
    ) -> np.ndarray:
        """Raw logits, batched by similar length; rows in input order."""
        order = sorted(range(len(premises)), key=lambda i: len(premises[i]) + len(hypotheses[i]))
        out = np.empty((len(premises), len(self.labels)), dtype=np.float32)
        # set once, before the sessions run: the tokenizer is not changed while workers encode with it
        self.tokenizer.enable_truncation(max_length, strategy="longest_first")

        def run(s: Any, idx: list[int]) -> None:
            feed = self._encode([premises[i] for i in idx], [hypotheses[i] for i in idx])
            out[idx] = s.run(["logits"], feed)[0]

        self.sessions.map(run, [order[start : start + batch_size] for start in range(0, len(order), batch_size)])
        return out


def cross_encoder(
    base: Path,
    artifact_dir: Path,
    labels: Sequence[str],
    retrain: str,
    *,
    backend: str = "onnx",
    cache: Path | None = None,
    threads: int | None = None,
    workers: int = 1,
) -> Any:
    """The cross-encoder of (base, adapter): ONNX Runtime (exported on first use) or torch.
    ``workers`` > 1: that many one-thread sessions run its batches side by side (``Sessions``).

    ``backend="torch"`` loads the torch model (the reference). The ONNX backend falls back to
    torch, with a note in the log, when the export cannot be made."""
    from .judge.nli import CONFIG_FILE, NLICrossEncoder

    if backend == "torch":
        return NLICrossEncoder(base, artifact_dir, labels=labels, retrain=retrain)
    if backend not in ("onnx", "onnx-int8"):
        raise ModelError(f"unknown model backend {backend!r}: use 'onnx', 'onnx-int8' or 'torch'")
    if not (artifact_dir / CONFIG_FILE).is_file():
        raise ModelError(f"no model artifact in {artifact_dir}: {retrain}")
    if cache is None:
        from .settings import _default_cache

        cache = _default_cache()
    path = onnx_path(base, artifact_dir, labels, cache)
    config = json.loads((artifact_dir / CONFIG_FILE).read_text(encoding="utf-8"))
    if not path.is_file():
        log.info("exporting %s to ONNX at %s (once)", artifact_dir.name, path)
        model = NLICrossEncoder(base, artifact_dir, labels=labels, retrain=retrain)
        try:
            export_cross_encoder(model, path)
        except Exception as exc:  # noqa: BLE001 - any export failure: keep working on torch
            log.warning("ONNX export of %s failed (%s): using torch", artifact_dir.name, exc)
            return model
    if backend == "onnx-int8":
        path = quantized(path, per_channel=True)
    try:
        return OnnxCrossEncoder(path, base, config, labels, threads, workers)
    except Exception as exc:  # noqa: BLE001 - a broken cache file: export again next time
        path.unlink(missing_ok=True)
        raise ModelError(f"could not load {path} ({exc}): run the command again to re-export it") from exc
