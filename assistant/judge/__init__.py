"""Judging: the support judge every stage uses to check a statement against its source.

- ``base``: the ``Judge`` protocol;
- ``signals``: source windows, statement clauses and the cheap checks (numbers, direction words);
- ``nli``: the NLI cross-encoder (bundled MiniLM + shipped adapter);
- ``judges``: ``CrossEncoderJudge`` (default), ``EmbeddingJudge`` (baseline), ``load_judge``.
"""

from __future__ import annotations

from . import signals
from .base import Judge
from .judges import CrossEncoderJudge, EmbeddingJudge, load_judge
from .nli import ARTIFACT_DIR
from .signals import *  # noqa: F403 (the signals' own __all__ is the list)

__all__ = ["ARTIFACT_DIR", "CrossEncoderJudge", "EmbeddingJudge", "Judge", "load_judge", *signals.__all__]
