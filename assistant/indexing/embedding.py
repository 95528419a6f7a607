"""Embedders: a sentence-transformers model (the bundled all-MiniLM-L6-v2 by default), run by
ONNX Runtime (``onnxembed``, the default: no torch at query time; ingest runs its int8 twin)
or by sentence-transformers (``embedding.backend = "torch"``, the reference)."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..bundled import bundled_embedder_path
from ..errors import ModelError
from ..settings import BUNDLED_EMBEDDER, EmbeddingSettings

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Embedder", "SentenceTransformerEmbedder", "load_embedder"]

log = logging.getLogger(__name__)

_BUNDLED_ALIASES = {BUNDLED_EMBEDDER.lower(), "sentence-transformers/all-minilm-l6-v2", "bundled"}


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors."""

    name: str
    dimension: int

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def force_offline() -> None:
    """Keep Hugging Face libraries off the network, even when they were imported already."""
    import sys

    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:  # it reads the variable once, at import
        constants.HF_HUB_OFFLINE = True


def _resolve(model: str) -> tuple[str, str]:
    """(what to load, name to record in the index) for a configured model string."""
    if model.lower() in _BUNDLED_ALIASES:
        return str(bundled_embedder_path()), BUNDLED_EMBEDDER
    path = Path(model).expanduser()
    if path.exists():
        return str(path), path.name
    return model, model


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded offline unless downloads are allowed."""

    def __init__(self, settings: EmbeddingSettings) -> None:
        self.settings = settings
        target, self.name = _resolve(settings.model)
        self.path = target  # a local directory, or a hub name when the model is not local
        if not settings.allow_download:
            # Never reach a hub: a missing model is an error, not a silent download. Forced, not
            # defaulted: a user's HF_HUB_OFFLINE=0 must not override embedding.allow_download=false.
            force_offline()
        try:
            import transformers
            from sentence_transformers import SentenceTransformer

            transformers.utils.logging.disable_progress_bar()
            self._model = SentenceTransformer(target, device=settings.device)
        except Exception as exc:
            raise ModelError(
                f"cannot load embedder {settings.model!r} ({type(exc).__name__}): set "
                "REVIEW_EMBEDDING__MODEL to a local sentence-transformers model directory, or allow "
                "downloads with REVIEW_EMBEDDING__ALLOW_DOWNLOAD=true"
            ) from exc
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dim = get_dim()
        self.dimension = int(dim) if dim else len(self._model.encode(["x"])[0])

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed chunk texts (with the document prefix), normalised."""
        prefix = self.settings.document_prefix
        return self._model.encode(
            [prefix + t for t in texts],
            batch_size=self.settings.batch_size or TORCH_BATCH,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one query (with the query prefix), normalised."""
        return self._model.encode(
            [self.settings.query_prefix + text],
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )[0]


QUERY_BATCH = 8  # texts per ONNX run outside ingest (see load_embedder)
TORCH_BATCH = 16  # sentence-transformers' ingest batch when embedding.batch_size is not set


def embed_memo(embedder: Embedder, texts: Sequence[str], memo: dict[str, Any], limit: int = 50_000) -> list[Any]:
    """Document vectors of ``texts``, each distinct text embedded once and kept in ``memo``
    (text -> vector; emptied when it would pass ``limit``): an abstract judged against many
    statements, an ask's candidate sentences, reranked passages come back again and again."""
    missing = list(dict.fromkeys(t for t in texts if t not in memo))
    if missing:
        if len(memo) + len(missing) > limit:
            memo.clear()  # and so every text of this call is missing now, not only the new ones
            missing = list(dict.fromkeys(texts))
        memo.update(zip(missing, embedder.embed_documents(missing), strict=True))
    return [memo[t] for t in texts]


def load_embedder(settings: EmbeddingSettings, cache: Path | None = None, *, batch: bool = False) -> Embedder:
    """The configured embedder: ONNX Runtime (exported once to ``cache``/onnx) or sentence-transformers.

    The ONNX backend falls back to sentence-transformers, with a note in the log, for a model it
    cannot reproduce (or export). ``batch``: for ingest (all cores, and the int8 twin unless
    ``ingest_int8`` is off: its vectors keep cosine 0.994 to fp32 and retrieve as well, so an
    index may mix both); otherwise one thread, which embeds a query faster than two that wait
    for each other on a busy machine."""
    if settings.backend == "torch" or settings.device != "cpu":
        return SentenceTransformerEmbedder(settings)
    target, name = _resolve(settings.model)
    model_dir = Path(target)
    if not model_dir.is_dir():  # a hub name: sentence-transformers resolves (or refuses) it
        log.info("embedder %r is not a local directory: using sentence-transformers", settings.model)
        return SentenceTransformerEmbedder(settings)
    from .onnxembed import OnnxEmbedder, Unsupported, embedder_onnx_path, export_embedder

    if cache is None:
        from ..settings import _default_cache

        cache = _default_cache()
    try:
        path = embedder_onnx_path(model_dir, Path(cache).expanduser())
    except (Unsupported, OSError, ValueError, KeyError) as exc:
        log.info("embedder %s cannot run on ONNX Runtime (%s): using sentence-transformers", name, exc)
        return SentenceTransformerEmbedder(settings)
    if not path.is_file():
        log.info("exporting embedder %s to ONNX at %s (once)", name, path)
        try:
            export_embedder(model_dir, path)
        except Exception as exc:  # noqa: BLE001 - any export failure: keep working on sentence-transformers
            log.warning("ONNX export of embedder %s failed (%s): using sentence-transformers", name, exc)
            return SentenceTransformerEmbedder(settings)
    if settings.backend == "onnx-int8" or (batch and settings.ingest_int8):
        from ..onnxrun import quantized

        path = quantized(path, per_channel=True)  # a failure keeps the fp32 export, with a note in the log
    # Ingest (``batch``): one one-thread session per core, each encoding one text at a time (no
    # padding, and the int8 twin's activation scales are each text's own, so a text's vector does not
    # depend on what it was batched with): 1.7x the texts/s of one two-thread session on batches of
    # 16 (README, "One text per run"). A query-side process embeds a few dozen sentences of very
    # different lengths: batches of 8 pad less and stay in cache, 2.5x faster than one batch of 64.
    return OnnxEmbedder(
        path,
        model_dir,
        name,
        batch_size=(settings.batch_size or 1) if batch else min(settings.batch_size or QUERY_BATCH, QUERY_BATCH),
        query_prefix=settings.query_prefix,
        document_prefix=settings.document_prefix,
        threads=None if batch else settings.threads or 1,
        workers=(settings.threads or os.cpu_count() or 1) if batch else 1,
    )
