"""Outlining: CHIME-style hierarchical related-work outlines that do not trust the LLM.

topic -> candidate studies (hybrid search score plus lexical evidence of the topic, cut relative to
the best papers; see ``candidates`` and ``evidence``) -> one extractive
claim per study (an LLM rewrite only when the support judge finds it in the abstract) ->
hierarchical clustering of study embeddings with a size-balanced cut -> labels from the LLM when
a label is short, grounded in the category's titles, distinct from its siblings and closer to its
own category than to theirs, else from distinctive terms -> assignment by fit to each
category's centroid, checked by the support judge (a second category only when the judge agrees)
-> "Other" for the rest -> cited output; --draft sentences are judged against their abstracts.

One module per stage: ``candidates`` (with ``evidence``), ``claims``, ``clustering``, ``labels``, ``tree``;
``builder`` runs them in order and ``run`` holds the state of one build.
"""

from __future__ import annotations

from .builder import OutlineBuilder
from .labels import clean_label, distinctive_labels, label_problem
from .run import OutlineRun

__all__ = ["OutlineBuilder", "OutlineRun", "clean_label", "distinctive_labels", "label_problem"]
