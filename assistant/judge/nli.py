"""The NLI cross-encoder: bundled MiniLM weights + the shipped LoRA adapter and 3-way head.

The artifact (``assistant/data/judge/``) is rebuilt by ``evals/judge/train_judge.py``; the
base weights are never copied, the LoRA deltas are folded into them at load time. torch and
transformers are imported only when a model is built.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ModelError

if TYPE_CHECKING:
    import torch

__all__ = ["ADAPTER_FILE", "ARTIFACT_DIR", "CONFIG_FILE", "RETRAIN", "NLICrossEncoder", "merge_lora"]

ARTIFACT_DIR = Path(__file__).resolve().parent.parent / "data" / "judge"
ADAPTER_FILE = "adapter.safetensors"
CONFIG_FILE = "config.json"
RETRAIN = "rerun `python evals/judge/train_judge.py` to rebuild it"


class NLICrossEncoder:
    """BERT encoder + mean pooling + linear head: 3-way (entailment, neutral, contradiction) for
    the support judge; the relevance model uses the same class with one output (``labels``)."""

    LABELS: tuple[str, ...] = ("entailment", "neutral", "contradiction")

    def __init__(
        self,
        base_path: str | Path,
        artifact_dir: str | Path | None = None,
        labels: Sequence[str] | None = None,
        retrain: str = RETRAIN,
    ) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.torch = torch
        self.labels = tuple(labels or self.LABELS)
        self.retrain = retrain
        self.tokenizer = AutoTokenizer.from_pretrained(str(base_path))
        # eager attention: the same math as sdpa, and the graph an ONNX export of it quantizes best
        # (int8 per-channel from it keeps the judge's AUC; README, "ONNX Runtime for the cross-encoders")
        self.encoder = AutoModel.from_pretrained(str(base_path), attn_implementation="eager")
        hidden = self.encoder.config.hidden_size
        self.head = torch.nn.Linear(hidden, len(self.labels))
        self.config: dict[str, Any] = {}
        if artifact_dir is not None:
            self._load_artifact(Path(artifact_dir))
        self.encoder.eval()
        self.head.eval()

    def _load_artifact(self, directory: Path) -> None:
        from safetensors.torch import load_file

        adapter, config = directory / ADAPTER_FILE, directory / CONFIG_FILE
        if not adapter.exists() or not config.exists():
            raise ModelError(f"no model artifact in {directory}: {self.retrain}")
        self.config = json.loads(config.read_text(encoding="utf-8"))
        tensors = load_file(str(adapter))
        merge_lora(self.encoder, tensors, self.config["lora"], self.retrain)
        self.head.weight.data = tensors["head.weight"].float()
        self.head.bias.data = tensors["head.bias"].float()

    def logits(
        self, premises: Sequence[str], hypotheses: Sequence[str], batch_size: int = 64, max_length: int = 256
    ) -> torch.Tensor:
        """Raw 3-way logits, batched by similar length; rows in input order."""
        torch = self.torch
        order = sorted(range(len(premises)), key=lambda i: len(premises[i]) + len(hypotheses[i]))
        out = torch.empty((len(premises), len(self.labels)))
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                enc = self.tokenizer(
                    [premises[i] for i in idx],
                    [hypotheses[i] for i in idx],
                    truncation="longest_first",
                    max_length=max_length,
                    padding=True,
                    return_tensors="pt",
                )
                out[idx] = self.forward(enc)
        return out

    def forward(self, enc: Any) -> torch.Tensor:
        """Logits for a tokenized batch (used by training too)."""
        hidden = self.encoder(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.head(pooled)


def merge_lora(encoder: Any, tensors: dict[str, Any], lora: dict[str, Any], retrain: str = RETRAIN) -> None:
    """Fold LoRA deltas (W += B @ A * alpha / r) and trained extras into the encoder in place."""
    import torch

    scale = float(lora["alpha"]) / float(lora["rank"])
    params = dict(encoder.named_parameters())
    with torch.no_grad():
        for name, value in tensors.items():
            if name.endswith(".lora_A"):
                module = name[: -len(".lora_A")]
                b = tensors[module + ".lora_B"].float()
                weight = params.get(module + ".weight")
                if weight is None:
                    raise ModelError(f"model artifact does not fit the base model ({module}): {retrain}")
                weight += (b @ value.float()) * scale
            elif name.startswith("encoder_extra."):
                target = params.get(name[len("encoder_extra.") :])
                if target is None or target.shape != value.shape:
                    raise ModelError(f"model artifact does not fit the base model ({name}): {retrain}")
                target.copy_(value.float())
