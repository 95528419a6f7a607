"""`review eval`: gold data, metric functions, the suite and its report."""

from .metrics import accuracies, alce, retrieval_metrics, roc_auc
from .report import compare_markdown, load_report, to_markdown
from .suite import PARTS, check_thresholds, run_eval

__all__ = [
    "PARTS",
    "accuracies",
    "alce",
    "check_thresholds",
    "compare_markdown",
    "load_report",
    "retrieval_metrics",
    "roc_auc",
    "run_eval",
    "to_markdown",
]
