"""Settings: one root with documented sections.

Precedence, highest first: explicit arguments (CLI flags), ``REVIEW_*`` environment variables
(nested with ``__``, e.g. ``REVIEW_EMBEDDING__MODEL``), ``review.toml`` (or the file named by
``REVIEW_CONFIG``), defaults.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

__all__ = ["Settings", "describe_settings"]

BUNDLED_EMBEDDER = "all-MiniLM-L6-v2"
BUNDLED_LLM = "bundled:gemma3-270m-q4_k_m"


def _config_file() -> Path:
    return Path(os.environ.get("REVIEW_CONFIG", "review.toml"))


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "review"


def _user_data_dir() -> Path:
    """REVIEW_HOME, else the platform's per-user data folder (as llm's user dir)."""
    if os.environ.get("REVIEW_HOME"):
        return Path(os.environ["REVIEW_HOME"]).expanduser()
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "review"
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "review"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "review"


def _default_store() -> Path:
    """./store inside a checkout of review (it keeps a top-level store/), else the user data folder."""
    here = Path.cwd()
    if (here / "store").is_dir() and (here / "assistant" / "__init__.py").is_file():
        return Path("store")
    return _user_data_dir() / "store"


class PathsSettings(BaseModel):
    store: Path = Field(
        default_factory=_default_store,
        description="Directory of the embedded Chroma index: ./store in a checkout of review, "
        "else $REVIEW_HOME/store or the platform's user data folder.",
    )
    corpus: list[Path] = Field(
        default_factory=list,
        description="Corpus files to index when none are given; empty means the bundled corpus.",
    )
    cache: Path = Field(default_factory=_default_cache, description="Assembled models and other caches.")


class EmbeddingSettings(BaseModel):
    model: str = Field(
        BUNDLED_EMBEDDER,
        description="sentence-transformers model name or local path; the default is bundled.",
    )
    batch_size: int | None = Field(
        None,
        ge=1,
        description="Texts per encode batch at ingest (default: 1 on ONNX Runtime, one one-thread session per "
        "core each encoding its own texts, 1.7x the texts/s of one session on batches of 16; 16 on "
        "sentence-transformers). Searches and ask embed at most 8 at a time.",
    )
    backend: Literal["onnx", "onnx-int8", "torch"] = Field(
        "onnx",
        description="Runtime of the embedder: ONNX Runtime (exported once to paths.cache/onnx; no torch at "
        "query time), its dynamic-quantized int8 twin (made once beside the export), or sentence-transformers "
        "on torch (the reference). A model ONNX cannot reproduce falls back to sentence-transformers (noted at -v).",
    )
    ingest_int8: bool = Field(
        True,
        description="With backend onnx, ingest encodes documents with the int8 twin (1.8x the fp32 rate; SciFact "
        "train nDCG@10 0.7212 vs 0.7211 with fp32 queries) while queries stay fp32; the index is the same embedder "
        "either way (a mix measured no loss). false: fp32 at ingest too.",
    )
    threads: int | None = Field(
        None,
        ge=1,
        description="ONNX Runtime threads of the embedder (default: 1 for queries; at ingest, one one-thread "
        "session per core, or this many).",
    )
    device: str = Field(
        "cpu", description="torch device for the embedder: cpu, cuda, mps (anything but cpu uses the torch backend)."
    )
    query_prefix: str = Field("", description="Prepended to queries (e.g. 'query: ' for E5 models).")
    document_prefix: str = Field("", description="Prepended to chunks before embedding.")
    allow_download: bool = Field(
        False, description="Let sentence-transformers fetch a model from a hub; off keeps review offline."
    )


class ChunkSettings(BaseModel):
    sentences: int = Field(3, ge=1, description="Sentences per chunk.")
    overlap: int = Field(1, ge=0, description="Sentences shared by neighbouring chunks.")
    title: Literal["prefix", "mix"] = Field(
        "prefix",
        description="How a chunk's dense vector carries its paper's title: prefix (the title written before every "
        "window) or mix (the title encoded once per paper and added to each window's vector, weighted by word "
        "counts; with overlap 0 a 1.5x faster ingest that retrieves SciFact as well but costs the outline "
        "coverage, see README). BM25 always reads the title with every window.",
    )


class StoreSettings(BaseModel):
    backend: Literal["chroma", "chroma-http"] = Field(
        "chroma", description="Embedded Chroma in paths.store, or a Chroma server at store.url."
    )
    url: str | None = Field(None, description="Chroma server URL for backend chroma-http, e.g. http://127.0.0.1:8000.")
    collection: str = Field("review", description="Collection name prefix.")


class RetrievalSettings(BaseModel):
    k: int = Field(10, ge=1, description="Papers returned by search.")
    candidates: int = Field(100, ge=1, description="Chunks fetched from each retriever before fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense ranking in the fusion.")
    lexical_weight: float = Field(1.0, ge=0, description="Weight of the BM25 ranking in the fusion.")
    passages: int = Field(2, ge=1, description="Best passages kept per paper.")
    exact: bool = Field(
        True,
        description="Dense search exact over the chunk matrix cached beside an embedded store (deterministic); "
        "false: Chroma's approximate HNSW search. A Chroma server always uses its own search.",
    )
    rerank: bool = Field(
        False, description="Rerank the top papers with the relevance model (slower: loads a cross-encoder)."
    )
    rerank_top: int = Field(30, ge=1, description="Papers of the fused ranking the relevance model rescores.")
    rerank_backend: Literal["onnx", "onnx-int8", "torch"] | None = Field(
        "onnx-int8",
        description="Runtime of the relevance model when it reranks search results (None = judge.relevance_backend, "
        "the one ask uses). int8 by default: twice as fast, the same nDCG@10 on SciFact and the gold questions.",
    )
    rerank_passages: int = Field(
        2,
        ge=1,
        le=5,
        description="Best passages of each reranked paper the relevance model reads (each after the title); its "
        "relevance is the best of them. Fewer is faster.",
    )
    rerank_weight: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Share of the first-stage rank in the reranked score (0 = relevance model only).",
    )


class LLMSettings(BaseModel):
    model: str = Field(BUNDLED_LLM, description="GGUF path, or the bundled Gemma 3 270M.")
    url: str | None = Field(
        None, description="OpenAI-compatible server (llama.cpp server, vLLM): used instead of a local GGUF."
    )
    api_model: str = Field("default", description="Model name sent to the server.")
    n_gpu_layers: int = Field(-1, description="Layers offloaded to the GPU when the build supports it (-1 = all).")
    n_ctx: int = Field(4096, ge=256, description="Context window in tokens.")
    n_threads: int | None = Field(None, description="CPU threads; default: llama.cpp's choice.")
    extra_buffers: Literal["auto", "on", "off"] = Field(
        "auto",
        description="llama.cpp's extra weight buffers (AMX, repacked CPU kernels). auto: off on a CPU with AMX, where "
        "llama.cpp's AMX matrix multiply crashes the process in its first decode (ggml-org/llama.cpp#20824); on "
        "elsewhere.",
    )
    seed: int = Field(0, description="Sampling seed.")
    temperature: float = Field(0.0, ge=0, description="Sampling temperature.")
    max_tokens: int = Field(256, ge=16, description="Generated tokens per answer.")
    grammar: bool = Field(
        True, description="Constrain output with a GBNF grammar so citations can only name given sources."
    )
    mode: Literal["auto", "generative", "extractive"] = Field(
        "auto", description="auto: generate, fall back to extractive when generation is unusable."
    )


class AskSettings(BaseModel):
    k: int = Field(5, ge=1, le=20, description="Papers put in front of a generating model as numbered sources.")
    candidate_papers: int = Field(
        12, ge=1, le=50, description="Papers of the hybrid ranking whose sentences are answer candidates."
    )
    min_similarity: float = Field(
        0.2,
        ge=-1,
        le=1,
        description="Best query-chunk cosine similarity below which the corpus is taken not to cover a question "
        "(a cheap first gate; the relevance model decides the rest).",
    )
    min_relevance: float = Field(
        0.6,
        ge=0,
        le=1,
        description="Relevance-model probability a sentence needs to be quoted (chosen on the tuning half of the "
        "gold questions).",
    )
    min_answerability: float = Field(
        0.95,
        ge=0,
        le=2,
        description="The question is answered only when some quotable sentence has relevance + 0.5 x cosine "
        "similarity at or above this; otherwise it is refused (chosen on the tuning half).",
    )
    quote_bar: float = Field(
        0.95,
        ge=0,
        le=2,
        description="A quoted sentence also needs relevance + 0.5 x similarity at or above this (0 = off; "
        "0.95 = the answerability bar, chosen on the tuning half).",
    )
    min_specificity: float = Field(
        0.8,
        description="A quoted sentence's specificity (its relevance logit for the question minus its mean logit for "
        "a fixed set of bland questions of the field, ask.GENERIC_QUESTIONS) must reach this: a 'hub' sentence "
        "relevant to any question is not quoted (chosen on the tuning half; the lowest on-point sentence of a short "
        "answerable question seen was 0.86).",
    )
    answer_specificity: float = Field(
        0.8,
        description="The question is answered only when some quotable sentence reaches this specificity; otherwise "
        "it is refused (kept at min_specificity: short answerable questions overlap near-domain unanswerable ones "
        "above it on the tuning questions).",
    )
    min_coverage: float = Field(
        0.3,
        ge=0,
        le=1,
        description="The question is answered only when the papers of its passing sentences use at least this share "
        "of its content terms, each weighted by its inverse document frequency in the corpus (framing words such as "
        "'what', 'does' left out): 'how are LLMs fine-tuned to compose music?' finds on-point-looking sentences about "
        "fine-tuning, none about music. 0.3: every answerable tuning question (tuning half and short questions) is at "
        "0.53 or more, and it refuses 8 of the 21 near-domain unanswerable tuning questions (evals/ask_*_unanswerable) "
        "answered without it; 0.5 refused answerable questions of the frozen test half in an earlier round.",
    )
    max_absent: float = Field(
        0.4,
        ge=0,
        le=1,
        description="Refuse when words that no paper of the corpus uses, and that name a thing, carry at least this "
        "share of the question's content-term weight (idf-weighted, as ask.min_coverage; 1 = off): 'handwriting "
        "recognition' 0.46, 'stock prices' 0.43, 'ancient Latin inscriptions' 0.82. On the tuning questions the "
        "answerable ones reach 0.21, and short answerable ones with one incidental such noun ('phone or computer "
        "control', 'on a laptop', 'at home') 0.25-0.32; 0.23 refused those, 0.4 does not.",
    )
    paper_coverage: float = Field(
        0.3,
        ge=0,
        le=1,
        description="A paper is quoted only when its title and abstract use at least this share of the question's "
        "content-term weight (idf-weighted, as ask.min_coverage) relative to the best quotable paper (0 = off; 0.3: "
        "the highest that lost no key fact on the tuning half, where statements citing a gold-relevant paper rose "
        "from 57% to 64%).",
    )
    finding_bar: float = Field(
        0.5,
        ge=0,
        le=1,
        description="A paper quoted only for background (scene-setting, motivation, an abstract's opening sentence) is "
        "quoted for its best finding or method instead when the relevance model gives that at least this (0 = off; "
        "0.3 and 0.5 gave the same tuning-half metrics, the stricter one ships).",
    )
    paper_margin: float = Field(
        0.3,
        ge=0,
        description="Relative cut: a paper is quoted (and counted as addressing the question) only when its best "
        "sentence scores within this of the best sentence of all (relevance + role bonus; chosen on the tuning half).",
    )
    sentence_margin: float = Field(
        0.15,
        ge=0,
        description="Relative cut within a paper: a second sentence is quoted only when it scores within this of "
        "the paper's best.",
    )
    scored_sentences: int = Field(
        32, ge=1, description="Candidate sentences (closest by cosine) the relevance model scores per question."
    )
    scored_per_paper: int = Field(
        1,
        ge=0,
        le=5,
        description="Of the scored sentences, each candidate paper's closest ones (this many) first, the rest by "
        "similarity: a thematic answer can reach every candidate paper (0 = by similarity only).",
    )
    title_context: bool = Field(
        True, description="The relevance model reads each candidate sentence after its paper's title."
    )
    prefilter: int = Field(
        1,
        ge=1,
        le=8,
        description="A cheap lexical cut keeps this many times scored_sentences candidates for embedding "
        "(1 = embed only the scored ones: faster, a little less recall).",
    )
    per_paper: int = Field(
        3,
        ge=1,
        le=5,
        description="Statements quoted from one paper at most (one per paper first: a one-paper factual question "
        "gets up to this many of its sentences, a thematic one a sentence per paper).",
    )
    passages: int = Field(1, ge=1, le=5, description="Best passages of each source shown to the model.")
    check_names: bool = Field(
        True,
        description="Refuse when the question names a model/dataset/method (e.g. Mixtral-8x7B) that no source mentions.",
    )
    max_statements: int = Field(
        10, ge=1, le=12, description="Statements per answer at most (fewer when fewer are on point)."
    )
    max_citations: int = Field(3, ge=1, le=5, description="Citations per statement.")
    probe_answers: int = Field(
        2,
        ge=0,
        description="auto mode: after at least this many answers, a model whose statements were kept in under "
        "probe_min_kept of its answers is remembered as not worth generating with, and answers are extractive "
        "at once (0: never decide).",
    )
    probe_min_kept: float = Field(
        0.25,
        ge=0,
        le=1,
        description="auto mode: the share of a model's answers with a kept statement below which it stops being asked.",
    )


class OutlineSettings(BaseModel):
    pool: int = Field(60, ge=5, description="Top papers of the hybrid ranking scored for an outline.")
    max_papers: int = Field(30, ge=3, description="At most this many candidates are kept.")
    min_papers: int = Field(
        10,
        ge=1,
        description="At least this many (the best by score) are kept when the corpus covers the topic, so the outline "
        "can be split into categories (three of three studies).",
    )
    min_relevance: float = Field(
        0.3,
        ge=-1,
        le=1,
        description="Similarity floor of the papers kept when the pool is too small to score (under 4).",
    )
    off_corpus: float = Field(
        0.22,
        ge=-1,
        le=1,
        description="When even the best paper's similarity to the topic is under this, the corpus does not cover it "
        "(the bundled corpus: 'merging' 0.30, 'sourdough bread baking techniques' 0.18).",
    )
    expansion_seeds: int = Field(
        10,
        ge=1,
        description="The strongest hits that use a topic term are the seeds of its corpus-derived expansion phrases.",
    )
    feedback_words: int = Field(
        2,
        ge=0,
        description="A topic of at most this many content words gets a second retrieval with the vocabulary of its "
        "strongest hits (pseudo-relevance feedback; 0: never).",
    )
    feedback_docs: int = Field(
        3,
        ge=1,
        description="Seeds (strongest hits using a topic term; those with it in their title first) that each give a "
        "short topic a second query.",
    )
    feedback_terms: int = Field(32, ge=1, description="Terms of its seed in each second query of a short topic.")
    feedback_weight: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Weight of the second (feedback) rankings against the topic's own in a short topic's pool (chosen "
        "on the tuning topics).",
    )
    relevance_floor: float | None = Field(
        0.0,
        description="A short topic's candidate that does not use a topic term is kept only when the relevance model's "
        "reading of it is at least this standard score over the pool (None: no veto).",
    )
    relevance_docs: int = Field(
        3, ge=1, description="Seeds whose sentences using a topic term describe a short topic to the relevance model."
    )
    relevance_top: int = Field(
        60,
        ge=1,
        description="The relevance model reads this many of a short topic's pool (the best by score; the rest take "
        "the lowest reading).",
    )
    evidence_weight: float = Field(
        2.0,
        ge=0,
        le=10,
        description="Added to a candidate's score (standard scores of the hybrid score) when it uses a topic term; "
        "half of it for an expansion phrase only (chosen on the tuning topics).",
    )
    cut: float = Field(
        1.25,
        ge=0,
        le=10,
        description="Keep papers whose score is at most this far under the mean of the three best (chosen on the "
        "tuning topics).",
    )
    left_out: int = Field(5, ge=0, description="Papers just under the cut reported as left out.")
    depth: int = Field(2, ge=1, le=4, description="Levels of categories.")
    min_split: int = Field(7, ge=3, description="A category with fewer studies is not split further.")
    min_assignment: float = Field(
        0.35, ge=-1, le=1, description="Below this fit to every category a study goes to Other."
    )
    facet_min_fit: float = Field(
        0.5,
        ge=-1,
        le=1,
        description="With phrase-first categories, a study that uses no category's phrase joins one only at this "
        "fit or above (else Other, or a category of leftovers); chosen on the tuning half (0.35: F1 0.21, "
        "on-topic 0.63; 0.5: 0.22, 0.65, coverage 0.54 -> 0.53).",
    )
    multi_margin: float = Field(
        0.02, ge=0, le=1, description="A study joins a second category that fits within this margin."
    )
    categories: Literal["facets", "clusters"] = Field(
        "facets",
        description="How categories are cut: 'facets' = phrases of the field that several studies use, each "
        "category the studies that use its phrase (Ward clusters where no two phrases qualify); 'clusters' = "
        "Ward clustering of the studies' embeddings, labelled afterwards.",
    )
    keyphrase_labels: bool = Field(
        True,
        description="Name categories by keyphrases of their studies (KeyBERT's method on the bundled embedder); "
        "a phrase that fails the label checks leaves the distinctive-term label.",
    )
    label_rarity: float = Field(
        0.3,
        ge=0,
        description="A keyphrase label gains up to this for being rare in the corpus (the idf of its rarest word): "
        "'task arithmetic' over 'pre-trained models' (0 = fit to the category alone).",
    )
    llm_labels: bool = Field(
        True,
        description="Ask the LLM for category labels (auto/generative mode); a label that fails the checks "
        "falls back to distinctive terms.",
    )
    label_probe: int = Field(
        9,
        ge=0,
        description="auto mode: after this many LLM-proposed labels of one model file, stop asking it when under "
        "label_min_accepted of them passed the checks (remembered per model file; 0 = always ask).",
    )
    label_min_accepted: float = Field(
        0.25, ge=0, le=1, description="Share of a model's proposed labels that must pass the checks to keep asking it."
    )
    label_titles: int = Field(8, ge=2, le=20, description="Member titles shown to the LLM when it names a category.")
    rewrite_claims: bool = Field(
        False,
        description="Let the LLM rewrite each extractive claim; a rewrite is kept only when the support judge "
        "finds it in the abstract.",
    )
    judge_assignments: bool = Field(
        True,
        description="Check every assignment with the support judge; a second category is kept only when the judge agrees.",
    )


class JudgeSettings(BaseModel):
    kind: Literal["cross-encoder", "embedding"] = Field("cross-encoder", description="Support judge.")
    threshold: float = Field(0.5, ge=0, le=1, description="Support score at or above which a citation stands.")
    backend: Literal["onnx", "onnx-int8", "torch"] = Field(
        "onnx-int8",
        description="Runtime of the support judge: the int8 twin of its ONNX export "
        "(per-channel dynamic quantization, made once in paths.cache; about 2x the fp32 rate, same AUC on "
        "the tuning half), the fp32 ONNX export, or torch (the reference).",
    )
    relevance_backend: Literal["onnx", "onnx-int8", "torch"] = Field(
        "onnx",
        description="Runtime of the relevance model: the fp32 ONNX export (its thresholds were chosen on it), "
        "the int8 twin (faster; its scores move slightly with their batch mates), or torch.",
    )
    relevance: Literal["model", "cosine"] = Field(
        "model", description="Relevance scorer: the shipped cross-encoder, or cosine similarity (baseline)."
    )


def _default_scifact() -> Path | None:
    here = Path(__file__).resolve().parents[1]
    for candidate in (here.parent / "shared" / "benchmarks" / "scifact", Path("../shared/benchmarks/scifact")):
        if candidate.is_dir():
            return candidate.resolve()
    return None


def _default_nli() -> Path | None:
    scifact = _default_scifact()
    nli = scifact.parent / "nli" if scifact else None
    return nli if nli is not None and nli.is_dir() else None


class EvalSettings(BaseModel):
    data_dir: Path | None = Field(None, description="Gold data folder (default: the bundled evals/data).")
    scifact_dir: Path | None = Field(
        default_factory=_default_scifact,
        description="SciFact train folder for judge validation (default: ../shared/benchmarks/scifact when present).",
    )
    scifact_pairs: int = Field(
        200,
        ge=0,
        description="SciFact train (abstract, claim) pairs in the full suite's judge part (fixed seed; 919 = all).",
    )
    nli_dir: Path | None = Field(
        default_factory=_default_nli,
        description="Folder with HealthVer, Climate-FEVER, SciTail for judge validation (default: ../shared/benchmarks/nli).",
    )
    external_pairs: int = Field(
        200, ge=0, description="Pairs per external judge set (HealthVer, ...) in the full suite."
    )
    quick_per_type: int = Field(2, ge=1, description="--quick: questions of each type (factual, ..., unanswerable).")
    quick_topics: list[str] = Field(
        default_factory=lambda: ["preference optimization"], description="--quick: gold outline topics."
    )
    max_failures: int = Field(25, ge=0, description="Failure details kept per part in the report.")
    min: dict[str, float] = Field(
        default_factory=lambda: {
            "citations.citation_validity": 1.0,
            "citations.alce_recall": 0.8,
            "citations.alce_precision": 0.8,
            "citations.refusal_accuracy": 0.5,
            "retrieval.recall@10": 0.6,
            "retrieval.mrr": 0.6,
            "outline.coverage": 0.3,
            "judge.project_test_auc": 0.65,
        },
        description="Metric floors: `review eval` exits 3 when a metric is below its floor.",
    )
    max: dict[str, float] = Field(
        default_factory=lambda: {"citations.false_refusal_rate": 0.25},
        description="Metric ceilings: `review eval` exits 3 when a metric is above its ceiling.",
    )


class Settings(BaseSettings):
    """All of review's settings; every field is documented and shown by `review config`."""

    model_config = SettingsConfigDict(
        env_prefix="REVIEW_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    paths: PathsSettings = Field(default_factory=PathsSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    chunks: ChunkSettings = Field(default_factory=ChunkSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    ask: AskSettings = Field(default_factory=AskSettings)
    outline: OutlineSettings = Field(default_factory=OutlineSettings)
    judge: JudgeSettings = Field(default_factory=JudgeSettings)
    eval: EvalSettings = Field(default_factory=EvalSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_config_file())
        return (init_settings, env_settings, toml)

    def fingerprint(self) -> str:
        """Short hash of everything that changes results; stamped on answers and reports."""
        data = self.model_dump(mode="json", exclude={"paths": {"cache"}, "eval": True})
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def describe_settings(settings: Settings, overrides: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every resolved setting with where it came from: flag, env, file or default."""
    overrides = _flatten(overrides or {})
    toml_values: dict[str, Any] = {}
    path = _config_file()
    if path.is_file():
        import tomllib

        toml_values = _flatten(tomllib.loads(path.read_text(encoding="utf-8")))
    env = {k.upper(): v for k, v in os.environ.items()}
    rows = []
    for name, value in _flatten(settings.model_dump(mode="json")).items():
        env_name = "REVIEW_" + name.replace(".", "__").upper()
        if name in overrides:
            source = "flag"
        elif env_name in env:
            source = f"env {env_name}"
        elif name in toml_values:
            source = f"file {path}"
        else:
            source = "default"
        rows.append({"name": name, "value": value, "source": source})
    return rows
