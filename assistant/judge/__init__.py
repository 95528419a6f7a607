"""Judging: the support judge every stage uses to check a statement against its source.

- ``base``: the ``Judge`` protocol;
- ``signals``: source windows and the cheap checks (numbers, direction words, negation);
- ``nli``: the NLI cross-encoder (bundled MiniLM + shipped adapter);
- ``judges``: ``CrossEncoderJudge`` (default), ``EmbeddingJudge`` (baseline), ``load_judge``.
"""

from __future__ import annotations

from .base import Judge
from .judges import CrossEncoderJudge, EmbeddingJudge, load_judge
from .nli import ARTIFACT_DIR
from .signals import (
    DIRECTION_PENALTY,
    NUMBER_PENALTY,
    aligned_window,
    direction_conflicts,
    extract_numbers,
    missing_numbers,
    negation_mismatch,
    sentence_windows,
    signal_penalty,
    statement_parts,
    top_windows,
)

__all__ = [
    "ARTIFACT_DIR",
    "DIRECTION_PENALTY",
    "NUMBER_PENALTY",
    "CrossEncoderJudge",
    "EmbeddingJudge",
    "Judge",
    "aligned_window",
    "direction_conflicts",
    "extract_numbers",
    "load_judge",
    "missing_numbers",
    "negation_mismatch",
    "sentence_windows",
    "signal_penalty",
    "statement_parts",
    "top_windows",
]
