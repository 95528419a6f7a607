"""The lean embedder: a sentence-transformers model run by ONNX Runtime, without torch.

The first use exports the model's transformer to ONNX (``paths.cache/onnx``, beside the
cross-encoders' exports, named by a hash of its config, tokenizer and weights); later
processes load that file with onnxruntime and tokenize with ``tokenizers``, so embedding a
query imports neither torch, transformers nor sentence-transformers. Pooling and
normalisation are done here in numpy the way sentence-transformers does them (mean over the
attention mask, L2 norm), so vectors match it to float rounding; ``tests/test_embedding_onnx.py``
checks cosine >= 0.999 on 100 texts.

Models this cannot reproduce (no ``tokenizer.json``, modules other than Transformer + Pooling
[+ Normalize], a pooling mode other than mean/cls/max) are ``Unsupported``: the caller falls back
to sentence-transformers with a note in the log.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError
from ..onnxrun import OPSET, Sessions, _file_digest, export_atomic

__all__ = ["OnnxEmbedder", "Unsupported", "embedder_onnx_path", "export_embedder", "model_layout"]

log = logging.getLogger(__name__)

_MODULES = {
    "sentence_transformers.models.Transformer": "transformer",
    "sentence_transformers.models.Pooling": "pooling",
    "sentence_transformers.models.Normalize": "normalize",
}
_POOLING = ("mean", "cls", "max")


class Unsupported(Exception):
    """The model cannot be run by OnnxEmbedder (the reason is the message)."""


def model_layout(model_dir: Path) -> dict[str, Any]:
    """What the ONNX path needs to know of a local sentence-transformers model directory.

    Raises ``Unsupported`` when the model uses anything this module does not reproduce."""
    modules_file = model_dir / "modules.json"
    if not modules_file.is_file():
        raise Unsupported(f"no modules.json in {model_dir}")
    modules = json.loads(modules_file.read_text(encoding="utf-8"))
    kinds = [_MODULES.get(m.get("type", "")) for m in modules]
    if kinds not in (["transformer", "pooling"], ["transformer", "pooling", "normalize"]):
        raise Unsupported(f"modules {[m.get('type') for m in modules]} are not Transformer + Pooling [+ Normalize]")
    transformer = model_dir / modules[0].get("path", "")
    pooling_cfg = json.loads((model_dir / modules[1]["path"] / "config.json").read_text(encoding="utf-8"))
    modes = [
        m for m in _POOLING if pooling_cfg.get(f"pooling_mode_{m}_token" if m == "cls" else f"pooling_mode_{m}_tokens")
    ]
    others = [k for k, v in pooling_cfg.items() if k.startswith("pooling_mode_") and v]
    if len(modes) != 1 or len(others) != 1:
        raise Unsupported(f"pooling {others} is not one of mean, cls, max")
    if not (transformer / "tokenizer.json").is_file():
        raise Unsupported(f"no tokenizer.json in {transformer} (a fast tokenizer is needed)")
    st_cfg_file = transformer / "sentence_bert_config.json"
    st_cfg = json.loads(st_cfg_file.read_text(encoding="utf-8")) if st_cfg_file.is_file() else {}
    config = json.loads((transformer / "config.json").read_text(encoding="utf-8"))
    max_len = int(st_cfg.get("max_seq_length") or config.get("max_position_embeddings", 512))
    tok_cfg_file = transformer / "tokenizer_config.json"
    if tok_cfg_file.is_file():  # sentence-transformers caps max_seq_length at the tokenizer's own limit
        limit = json.loads(tok_cfg_file.read_text(encoding="utf-8")).get("model_max_length")
        if isinstance(limit, int) and 0 < limit < max_len:
            max_len = limit
    return {
        "transformer": transformer,
        "pooling": modes[0],
        "dimension": int(pooling_cfg.get("word_embedding_dimension") or config["hidden_size"]),
        "max_length": max_len,
        "lower": bool(st_cfg.get("do_lower_case", False)),
    }


def embedder_onnx_path(model_dir: Path, cache: Path) -> Path:
    """Where the export of this model lives in the cache (a new model or new weights: a new file)."""
    layout = model_layout(model_dir)
    transformer = layout["transformer"]
    h = hashlib.sha256()
    for f in ("config.json", "tokenizer.json", "modules.json", "sentence_bert_config.json"):
        for d in {model_dir, transformer}:
            if (d / f).is_file():
                _file_digest(h, d / f)
    for weights in ("model.safetensors", "pytorch_model.bin"):
        if (transformer / weights).is_file():
            stat = (transformer / weights).stat()
            h.update(f"{weights}:{stat.st_size}:{int(stat.st_mtime)}".encode())
    h.update(f"hidden|opset{OPSET}|fused".encode())
    # Named by content only: the bundled model reached by name or by path shares one export.
    return Path(cache) / "onnx" / f"embedder-{h.hexdigest()[:16]}.onnx"


def export_embedder(model_dir: Path, path: Path) -> Path:
    """Export the transformer of a sentence-transformers model (token states out) to ``path``."""
    import torch
    import transformers
    from transformers import AutoModel, AutoTokenizer

    from .embedding import force_offline

    force_offline()  # the model is a local directory; nothing is fetched
    transformers.utils.logging.disable_progress_bar()
    transformer = model_layout(model_dir)["transformer"]
    tokenizer = AutoTokenizer.from_pretrained(str(transformer))
    # eager attention: the graph ONNX Runtime's fusion recognises (sdpa's does not fuse)
    model = AutoModel.from_pretrained(str(transformer), attn_implementation="eager").eval()
    enc = tokenizer(["a sentence to trace", "another"], padding=True, return_tensors="pt")
    accepted = inspect.signature(model.forward).parameters
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in enc and n in accepted]

    class Graph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *args):
            return self.model(**dict(zip(names, args, strict=True))).last_hidden_state

    axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"hidden": {0: "batch", 1: "tokens"}}
    cfg = model.config
    fuse = None
    if getattr(cfg, "model_type", "") == "bert":  # the fusion is written for BERT's graph
        fuse = {"heads": cfg.num_attention_heads, "hidden": cfg.hidden_size, "layers": cfg.num_hidden_layers}
    return export_atomic(Graph().eval(), tuple(enc[n] for n in names), path, names, ["hidden"], axes, fuse=fuse)


class OnnxEmbedder:
    """A sentence-transformers model exported to ONNX: normalised vectors, no torch."""

    def __init__(
        self,
        path: Path,
        model_dir: Path,
        name: str,
        *,
        batch_size: int = 64,
        query_prefix: str = "",
        document_prefix: str = "",
        threads: int | None = None,
        workers: int = 1,
    ) -> None:
        from tokenizers import Tokenizer

        layout = model_layout(model_dir)
        self.name = name
        self.dimension = layout["dimension"]
        self.pooling = layout["pooling"]
        self.lower = layout["lower"]
        self.batch_size = batch_size
        self.query_prefix, self.document_prefix = query_prefix, document_prefix
        self.path = path
        self.model_dir = model_dir  # the sentence-transformers model it was exported from
        try:
            # ``workers`` > 1 (ingest): that many one-thread sessions, each running its own batches
            # side by side; otherwise one session of ``threads`` threads.
            self.sessions = Sessions(path, threads, workers)
        except Exception as exc:  # noqa: BLE001 - a broken cache file: export again next time
            path.unlink(missing_ok=True)
            raise ModelError(f"could not load {path} ({exc}): run the command again to re-export it") from exc
        self.session = self.sessions.first
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.tokenizer = Tokenizer.from_file(str(layout["transformer"] / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(layout["max_length"])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of ``texts`` (float32, one row each, in input order)."""
        texts = [t.strip() for t in texts]  # sentence-transformers strips, then tokenizes
        if self.lower:
            texts = [t.lower() for t in texts]
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # batches of similar length pad less
        batches = [order[start : start + self.batch_size] for start in range(0, len(order), self.batch_size)]

        def run(s: Any, idx: list[int]) -> None:
            out[idx] = self._run([texts[i] for i in idx], s)

        self.sessions.map(run, batches)
        return out

    def _run(self, texts: list[str], run_session: Any = None) -> np.ndarray:
        encs = self.tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for i, e in enumerate(encs):
            n = len(e.ids)
            ids[i, :n], mask[i, :n], types[i, :n] = e.ids, e.attention_mask, e.type_ids
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        hidden = (run_session or self.session).run(["hidden"], {k: feed[k] for k in self.inputs})[0]
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        elif self.pooling == "max":
            pooled = np.where(mask[..., None] > 0, hidden, -1e9).max(axis=1)
        else:
            m = mask[..., None].astype(hidden.dtype)
            pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed chunk texts (with the document prefix), normalised."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.encode([self.document_prefix + t for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one query (with the query prefix), normalised."""
        return self.encode([self.query_prefix + text])[0]
