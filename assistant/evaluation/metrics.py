"""Metric functions of `review eval` (pure; the judge is passed in).

Citation metrics follow ALCE (Gao et al., EMNLP 2023, "Enabling Large Language Models to
Generate Text with Citations"), with this project's support judge in place of ALCE's TRUE NLI
model:

- citation recall of a statement: 1 when it has at least one citation and its cited sources,
  concatenated, support it; 0 otherwise (no citation = 0).
- citation precision: over citations. A citation is *irrelevant* when it alone does not
  support its statement while the statement's other citations (without it) do; an irrelevant
  citation scores 0. Every citation of a statement its sources do not support scores 0. Any
  other citation scores 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

__all__ = [
    "CitationVerdict",
    "StatementVerdict",
    "accuracies",
    "alce",
    "mean",
    "ndcg_at",
    "retrieval_metrics",
    "roc_auc",
]


if TYPE_CHECKING:
    from ..judge.base import Judge


@dataclass
class CitationVerdict:
    paper_id: str
    alone: float  # the judge's support score for this citation on its own
    precise: bool
    why: str = ""


@dataclass
class StatementVerdict:
    text: str
    recall: float  # 1.0 when the cited sources together support the statement
    joint: float | None  # the judge's score for all cited sources together (None: no citation)
    citations: list[CitationVerdict] = field(default_factory=list)
    why: str = ""


def alce(
    statements: Sequence[tuple[str, Sequence[str]]], sources: dict[str, str], judge: Judge, threshold: float
) -> list[StatementVerdict]:
    """ALCE citation recall and precision for (statement, cited paper ids) pairs.

    ``sources`` maps a paper id to the text it is checked against (its abstract). A cited id
    missing from ``sources`` is not a source: it counts as a citation that supports nothing.
    """
    out: list[StatementVerdict] = []
    for text, cited in statements:
        cited = list(dict.fromkeys(cited))
        if not cited:
            out.append(StatementVerdict(text=text, recall=0.0, joint=None, why="no citation"))
            continue
        known = [c for c in cited if c in sources]
        joint = judge.score([(" ".join(sources[c] for c in known), text)])[0] if known else 0.0
        supported = joint >= threshold
        alone = judge.score([(sources[c], text) for c in known]) if known else []
        alone_by = dict(zip(known, alone))
        verdict = StatementVerdict(
            text=text,
            recall=float(supported),
            joint=round(joint, 4),
            why="" if supported else "cited sources do not support it",
        )
        for c in cited:
            score = alone_by.get(c, 0.0)
            if c not in sources:
                verdict.citations.append(CitationVerdict(c, 0.0, False, "not a source"))
            elif not supported:
                verdict.citations.append(CitationVerdict(c, round(score, 4), False, "statement not supported"))
            elif score >= threshold:
                verdict.citations.append(CitationVerdict(c, round(score, 4), True))
            else:
                others = [o for o in known if o != c]
                rest = judge.score([(" ".join(sources[o] for o in others), text)])[0] if others else 0.0
                if rest >= threshold:
                    verdict.citations.append(
                        CitationVerdict(c, round(score, 4), False, "irrelevant: the other citations support it alone")
                    )
                else:
                    verdict.citations.append(CitationVerdict(c, round(score, 4), True))
        out.append(verdict)
    return out


def mean(values: Sequence[float]) -> float | None:
    """The mean, or None for no values (a metric with nothing to measure is not 0)."""
    return round(sum(values) / len(values), 4) if values else None


def ndcg_at(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    """nDCG@k with binary relevance (0 when nothing is relevant)."""
    dcg = sum(1.0 / math.log2(i + 2) for i, pid in enumerate(ranked[:k]) if pid in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / ideal if ideal else 0.0


def retrieval_metrics(ranked: Sequence[str], relevant: set[str]) -> dict[str, float]:
    """recall@5/10/20, nDCG@10 (binary gains) and MRR for one query."""
    if not relevant:
        raise ValueError("retrieval metrics need at least one relevant paper")
    out = {f"recall@{k}": len(set(ranked[:k]) & relevant) / len(relevant) for k in (5, 10, 20)}
    out["ndcg@10"] = ndcg_at(ranked, relevant, 10)
    out["mrr"] = next((1 / (i + 1) for i, p in enumerate(ranked) if p in relevant), 0.0)
    return out


def roc_auc(y: Sequence[int], s: Sequence[float]) -> float:
    """Mann-Whitney ROC AUC with average ranks for ties (nan without both classes)."""
    order = sorted(range(len(s)), key=lambda i: s[i])
    ranks = [0.0] * len(s)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and s[order[j + 1]] == s[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    pos = sum(y)
    neg = len(y) - pos
    if not pos or not neg:
        return float("nan")
    return (sum(r for r, t in zip(ranks, y) if t) - pos * (pos + 1) / 2) / (pos * neg)


def accuracies(y: Sequence[int], s: Sequence[float], threshold: float) -> tuple[float, float]:
    """(accuracy, balanced accuracy) of ``score >= threshold`` against labels 1/0."""
    pred = [int(x >= threshold) for x in s]
    acc = sum(p == t for p, t in zip(pred, y)) / len(y)
    tpr = sum(p and t for p, t in zip(pred, y)) / max(1, sum(y))
    tnr = sum((not p) and (not t) for p, t in zip(pred, y)) / max(1, len(y) - sum(y))
    return acc, (tpr + tnr) / 2
