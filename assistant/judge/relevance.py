"""The relevance model: P(a text helps answer a question / is about a topic).

``RelevanceModel`` is the bundled all-MiniLM-L6-v2 BERT weights turned into a one-logit
cross-encoder by a LoRA adapter + head shipped in ``assistant/data/relevance/`` (rebuilt by
``evals/relevance/train_relevance.py`` from PubMedQA and inverse-cloze pairs on SciFact
abstracts). It scores sentences, passages and whole abstracts (truncated to the model's length).

Used by ``retrieval.rerank`` (the optional reranking stage of search) and answer composition and
refusal (``ask``); not by outline candidates, which it ranks worse than the hybrid search does
(``evals/outline_relevance_probe.py``). ``CosineRelevance`` is the baseline it replaced: cosine
similarity of sentence embeddings, squashed to [0, 1].

torch and transformers are imported only when the model is built.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..bundled import bundled_embedder_path
from ..onnxrun import cross_encoder, onnx_path

__all__ = ["RELEVANCE_DIR", "CosineRelevance", "Relevance", "RelevanceModel", "load_relevance"]

log = logging.getLogger(__name__)

RELEVANCE_DIR = Path(__file__).resolve().parent.parent / "data" / "relevance"
# Pairs per run: a question against a few dozen sentences of mixed length pads less (and stays in
# cache) in batches of 8: 1.4x faster than one batch of 64, same logits (README, "Speed").
# fp32 by default (``judge.relevance_backend``): its thresholds were chosen on fp32, and int8 in
# batches moved a pair's score with its batch mates (a fresh index refused the README's question),
# one pair per run ranked a background sentence over the finding (README, "ONNX Runtime ...").
BATCH = 8
RETRAIN_RELEVANCE = "rerun `python evals/relevance/train_relevance.py` to rebuild it"


@runtime_checkable
class Relevance(Protocol):
    """Scores (query, text) pairs: P(the text helps answer the query), one float per text."""

    def score(self, query: str, texts: Sequence[str]) -> list[float]: ...


class RelevanceModel:
    """The shipped relevance cross-encoder (bundled MiniLM + adapter)."""

    kind = "relevance-model"

    def __init__(
        self,
        model_path: str | Path | None = None,
        artifact_dir: str | Path | None = None,
        *,
        backend: str = "onnx",
        cache: Path | None = None,
    ) -> None:
        base = Path(model_path) if model_path else bundled_embedder_path()
        directory = Path(artifact_dir) if artifact_dir is not None else RELEVANCE_DIR
        self.model = cross_encoder(base, directory, ("relevant",), RETRAIN_RELEVANCE, backend=backend, cache=cache)
        # What the model's scores depend on, for caches of them (ask's hub scores): the ONNX export's
        # name carries the digest of base weights + adapter, so a retrained adapter is another model.
        exported = getattr(self.model, "path", None)
        self.identity = Path(exported or onnx_path(base, directory, ("relevant",), Path())).stem
        self.max_length = int(self.model.config.get("inference", {}).get("max_length", 160))

    def logits(self, query: str, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        out = self.model.logits([query] * len(texts), list(texts), batch_size=BATCH, max_length=self.max_length)
        return [float(x) for x in out[:, 0]]

    def score(self, query: str, texts: Sequence[str]) -> list[float]:
        return [1.0 / (1.0 + math.exp(-z)) for z in self.logits(query, texts)]

    def score_pairs(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """(query, text) pairs with different queries, batched together."""
        if not pairs:
            return []
        out = self.model.logits(
            [q for q, _ in pairs], [t for _, t in pairs], batch_size=BATCH, max_length=self.max_length
        )
        return [1.0 / (1.0 + math.exp(-float(z))) for z in out[:, 0]]


class CosineRelevance:
    """Baseline: cosine similarity of MiniLM sentence embeddings, clipped to [0, 1]."""

    kind = "cosine"

    def __init__(
        self, model_path: str | Path | None = None, *, backend: str = "onnx", cache: Path | None = None
    ) -> None:
        from ..indexing.embedding import load_embedder
        from ..settings import EmbeddingSettings

        model = str(model_path or bundled_embedder_path())
        runtime = "torch" if backend == "torch" else "onnx"  # int8 is for the cross-encoders only
        # All cores, as the cross-encoders: it embeds dozens of passages at a time, not one query.
        settings = EmbeddingSettings(model=model, backend=runtime, threads=os.cpu_count() or 1)  # type: ignore[arg-type]
        self.model = load_embedder(settings, cache)
        self._vectors: dict[str, Any] = {}  # text -> vector: reranking sees the same passages again and again

    def score(self, query: str, texts: Sequence[str]) -> list[float]:
        from ..indexing.embedding import embed_memo

        if not texts:
            return []
        vecs = embed_memo(self.model, [query, *texts], self._vectors)
        return [max(0.0, min(1.0, float(v @ vecs[0]))) for v in vecs[1:]]

    def score_pairs(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        return [self.score(q, [t])[0] for q, t in pairs]


@lru_cache(maxsize=4)
def load_relevance(
    kind: str = "model", model_path: str | None = None, backend: str = "onnx", cache: Path | None = None
) -> Relevance:
    """The relevance scorer of this kind ('model' or 'cosine'); loaded once per process.

    ``backend``: "onnx" (default: ONNX Runtime, exported once to ``cache``/onnx) or "torch"."""
    from ..errors import ModelError

    if kind in ("model", "relevance-model", "cross-encoder"):
        return RelevanceModel(model_path, backend=backend, cache=Path(cache) if cache else None)
    if kind == "cosine":
        return CosineRelevance(model_path, backend=backend, cache=Path(cache) if cache else None)
    raise ModelError(f"unknown relevance kind {kind!r}: use 'model' or 'cosine'")
