"""The support judge: cheap signals and windows without a model, then the real bundled judge."""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import pytest

from assistant import judge as judge_mod
from assistant.errors import ModelError
from assistant.judge import (
    aligned_window,
    direction_conflicts,
    extract_numbers,
    missing_numbers,
    negation_mismatch,
    sentence_windows,
    signal_penalty,
    top_windows,
)
from assistant.judge import nli as nli_mod

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "evals" / "data" / "judge_cases.jsonl"

ABSTRACT = (
    "Task arithmetic edits pre-trained models in weight space. "
    "We show that fine-tuning models in their tangent space amplifies weight disentanglement. "
    "This leads to substantial performance improvements across multiple benchmarks. "
    "Our best model reaches 99.3% of the performance level of ChatGPT."
)


# ---------------------------------------------------------------- no model


def test_import_is_light():
    code = "import sys, assistant.judge; print(any(m in sys.modules for m in ('torch', 'transformers', 'sentence_transformers')))"
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("improvements of 3.0% on GSM8K and 7.9% on MATH", {3.0, 7.9}),
        ("a 65B parameter model on a single 48GB GPU", {65.0, 65e9, 48.0}),  # 65B also reads as 65 billion
        ("9K samples, 320,000 queries and 11 billion parameters", {9.0, 9000.0, 320000.0, 11.0, 11e9}),
        ("one hundred and forty reward models, twenty-five tasks, under fifteen percent", {140.0, 25.0, 15.0}),
        ("from 24pp to 7pp", {24.0, 7.0}),
        ("more than 1,000 models", {1000.0}),
        ("LLaMA2 on an A100 with Qwen2", set()),  # names, not quantities
        ("three distinct scenarios", {3.0}),
        ("GPT-4 and COVID-19, Llama2-70B", set()),  # a number hyphenated onto a word is a name
        ("10.2%-14.3% and 20x-200x", {10.2, 14.3, 20.0, 200.0}),
    ],
)
def test_extract_numbers(text, expected):
    assert extract_numbers(text) == expected


@pytest.mark.parametrize(
    ("source", "statement", "missing"),
    [
        ("consisting of 9K samples", "It has 9,000 samples.", set()),
        ("comprising 320,000 queries", "It has 320k queries.", set()),
        ("a benchmark with 609,432 questions", "A benchmark of about 609K questions.", set()),  # rounded
        ("scaled from 770M to 11B models", "From 770 million to 11 billion parameters.", set()),
        ("top of more than 140 reward models", "Above one hundred and forty reward models.", set()),
        ("consisting of 9K samples", "It has 90,000 samples.", {90000.0}),
        ("a benchmark with 609,432 questions", "A benchmark of about 69K questions.", {69.0}),
        ("a small fraction (< 5%) of heads", "Under fifteen percent of heads.", {15.0}),
        ("we train a single model on both tasks, twice as fast", "1 model on 2 tasks, 2x faster.", set()),
    ],
)
def test_reformatted_numbers_are_the_same_quantity(source, statement, missing):
    assert missing_numbers(source, statement) == missing


def test_missing_numbers_catches_a_swapped_figure_only():
    assert missing_numbers(ABSTRACT, "The model reaches 99.3% of ChatGPT.") == set()
    assert missing_numbers(ABSTRACT, "The model reaches 93.3% of ChatGPT.") == {93.3}
    assert missing_numbers(ABSTRACT, "No figures in this claim.") == set()
    # a source may spell small numbers out; a statement's "two" is not counted as a figure
    assert missing_numbers("water has two hydrogen atoms and one oxygen atom", "2 hydrogen, 1 oxygen") == set()
    assert missing_numbers("the boundary between air masses", "the boundary between two air masses") == set()


@pytest.mark.parametrize(
    ("window", "statement", "conflict"),
    [
        (
            "RL-enhanced models consistently outperform their base counterparts.",
            "RL-enhanced models consistently underperform their base counterparts.",
            True,
        ),
        (
            "fine-tuning in tangent space amplifies weight disentanglement",
            "fine-tuning in tangent space weakens weight disentanglement",
            True,
        ),
        ("This leads to substantial performance improvements.", "This degrades performance.", True),
        (
            "the degradation is especially pronounced for tasks closest to the fine-tuning distribution",
            "degradation is most pronounced for tasks farthest from the fine-tuning distribution",
            True,
        ),
        (
            "RL-enhanced models consistently outperform their base counterparts.",
            "Models trained with RL beat their base versions and outperform them.",
            False,
        ),
        ("an approximately 30% reduction in training time", "cuts training time by 30% (a reduction)", False),
    ],
)
def test_direction_conflicts(window, statement, conflict):
    assert bool(direction_conflicts(window, statement)) is conflict


def test_negation_mismatch():
    assert negation_mismatch("The method requires tuning.", "The method does not require tuning.")
    assert not negation_mismatch("It does not require tuning.", "It doesn't need any tuning.")
    assert not negation_mismatch("It requires tuning.", "It needs tuning.")


def test_sentence_windows_cover_singles_and_neighbours():
    windows = sentence_windows(ABSTRACT, size=2)
    sentences = sentence_windows(ABSTRACT, size=1)
    assert len(sentences) == 4
    assert len(windows) == 4 + 3
    assert all(s in windows for s in sentences)
    assert f"{sentences[1]} {sentences[2]}" in windows
    assert sentence_windows("One sentence only.") == ["One sentence only."]
    assert sentence_windows("   ") == []


def test_top_windows_keeps_the_most_overlapping_in_order():
    windows = sentence_windows(ABSTRACT, size=2)
    top = top_windows(windows, "tangent space weight disentanglement", 2)
    assert len(top) == 2 and all("tangent space" in w for w in top)
    assert top == [w for w in windows if w in top]
    assert top_windows(windows, "anything", None) == windows


def test_aligned_window_and_penalty():
    windows = sentence_windows(ABSTRACT)
    statement = "Fine-tuning in the tangent space weakens weight disentanglement."
    assert "tangent space amplifies" in aligned_window(windows, statement)
    assert signal_penalty(ABSTRACT, statement) == judge_mod.DIRECTION_PENALTY
    assert signal_penalty(ABSTRACT, "Fine-tuning in the tangent space amplifies weight disentanglement.") == 0.0
    assert signal_penalty(ABSTRACT, "The best model reaches 93.3% of ChatGPT.") == judge_mod.NUMBER_PENALTY


def test_missing_artifact_raises_model_error(tmp_path):
    with pytest.raises(ModelError, match="train_judge.py"):
        judge_mod.CrossEncoderJudge(artifact_dir=tmp_path)


def test_unknown_kind_raises_model_error():
    with pytest.raises(ModelError, match="unknown judge kind"):
        judge_mod.load_judge("oracle")


# ---------------------------------------------------------------- real bundled weights + artifact


def _cases() -> list[dict]:
    from assistant.corpus import bundled_corpus_paths, read_papers

    abstracts = {p.title: p.abstract for p in read_papers(bundled_corpus_paths())}
    cases = [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line.strip()]
    for c in cases:
        c["source"] = abstracts[c["paper_title"]]
    return cases


def _auc(y: list[int], s: list[float]) -> float:
    pos = [x for x, t in zip(s, y) if t]
    neg = [x for x, t in zip(s, y) if not t]
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


@pytest.fixture(scope="module")
def cross_encoder():
    return judge_mod.load_judge("cross-encoder")


@pytest.fixture(scope="module")
def embedding_judge():
    return judge_mod.load_judge("embedding")


@pytest.fixture(scope="module")
def scored_cases(cross_encoder, embedding_judge):
    """Every project case with its cross-encoder and embedding scores (one pass each)."""
    cases = _cases()
    pairs = [(c["source"], c["statement"]) for c in cases]
    t = time.time()
    ce = cross_encoder.score(pairs)
    elapsed = time.time() - t
    for c, s, e in zip(cases, ce, embedding_judge.score(pairs)):
        c["ce"], c["emb"] = s, e
    return cases, elapsed


@pytest.mark.slow
def test_cases_file_is_well_formed():
    cases = _cases()
    labels = [c["label"] for c in cases]
    assert len(cases) >= 40
    assert labels.count("supported") >= 15
    assert sum(c["kind"] in {"reversed", "swapped_number", "other_paper", "overclaim"} for c in cases) >= 20


@pytest.mark.slow
def test_scores_are_probabilities_and_deterministic(cross_encoder):
    pairs = [(ABSTRACT, "Tangent-space fine-tuning amplifies weight disentanglement."), (ABSTRACT, "")]
    first = cross_encoder.score(pairs)
    assert first == cross_encoder.score(pairs)
    assert all(0.0 <= x <= 1.0 for x in first)
    assert cross_encoder.score([]) == []


def _paraphrase_wins(cases: list[dict], key: str) -> tuple[int, int, list]:
    """(wins, comparisons, losses): each abstract's best paraphrase against each of its reversed
    findings and swapped numbers, by the score under ``key``."""
    wrong_kinds = {"reversed", "swapped_number"}
    titles = {c["paper_title"] for c in cases if c["kind"] == "paraphrase"} & {
        c["paper_title"] for c in cases if c["kind"] in wrong_kinds
    }
    wins, total, losses = 0, 0, []
    for title in sorted(titles):
        para = max(c[key] for c in cases if c["paper_title"] == title and c["kind"] == "paraphrase")
        for c in cases:
            if c["paper_title"] == title and c["kind"] in wrong_kinds:
                total += 1
                wins += para > c[key]
                if para <= c[key]:
                    losses.append((c["statement"][:60], round(para, 2), round(c[key], 2)))
    return wins, total, losses


@pytest.mark.slow
def test_a_pairs_score_does_not_depend_on_what_is_scored_beside_it(cross_encoder):
    """One row per run (``judge.WORKERS`` sessions): the shipped int8 judge gives a pair the same
    score alone, in a batch, and in another order (in batches of 8 it moved by up to 0.045)."""
    cases = _cases()[:24]
    pairs = [(c["source"], c["statement"]) for c in cases]
    together = cross_encoder.score(pairs)
    alone = [cross_encoder.score([p])[0] for p in pairs[:8]]
    assert alone == together[:8]
    assert cross_encoder.score(pairs[::-1])[::-1] == together


@pytest.mark.slow
def test_paraphrase_beats_reversed_finding(scored_cases):
    """Clear paraphrases outrank reversed findings and swapped numbers of the same abstract.

    The model (fp32 ONNX, the reference numerics) wins 24 of 29 comparisons; the shipped int8 twin
    (``judge.backend = "onnx-int8"``, 2.8x the pairs per second) wins 21: the comparisons it loses
    are near-ties (0.44 vs 0.46) that int8 rounding flips (README, "ONNX Runtime for the
    cross-encoders"). Both are held here, so neither can slip further unnoticed."""
    cases, _ = scored_cases
    fp32 = judge_mod.load_judge("cross-encoder", backend="onnx")
    for c, s in zip(cases, fp32.score([(c["source"], c["statement"]) for c in cases])):
        c["ce_fp32"] = s
    wins, total, losses = _paraphrase_wins(cases, "ce_fp32")
    assert total >= 20
    assert wins / total >= 0.8, losses
    shipped, _, losses = _paraphrase_wins(cases, "ce")
    assert shipped / total >= 0.72 and shipped >= wins - 3, losses
    # a few clear-cut ones, one by one
    clear = {
        "Task Arithmetic in the Tangent Space: Improved Editing of Pre-Trained Models": "reversed",
        "Tuning Language Models by Proxy": "reversed",
        "QLoRA: Efficient Finetuning of Quantized LLMs": "swapped_number",
        "Reinforcement Learning Improves Traversal of Hierarchical Knowledge in LLMs": "swapped_number",
    }
    for title, kind in clear.items():
        para = next(c for c in cases if c["paper_title"] == title and c["kind"] == "paraphrase")
        bad = next(c for c in cases if c["paper_title"] == title and c["kind"] == kind)
        assert para["ce"] > bad["ce"] + 0.2, (title, para["ce"], bad["ce"])


@pytest.mark.slow
def test_project_cases_auc_beats_embedding_baseline(scored_cases):
    cases, _ = scored_cases
    graded = [c for c in cases if c["label"] != "partial"]
    y = [int(c["label"] == "supported") for c in graded]
    auc_ce, auc_emb = _auc(y, [c["ce"] for c in graded]), _auc(y, [c["emb"] for c in graded])
    assert auc_ce > auc_emb + 0.1, (auc_ce, auc_emb)
    assert auc_ce > 0.75, auc_ce  # speed is measured by benchmarks/judge_speed.py, never asserted here


def test_missing_base_weights_raise_model_error(tmp_path):
    with pytest.raises(ModelError):
        judge_mod.CrossEncoderJudge(model_path=tmp_path)


@pytest.mark.slow
def test_artifact_from_other_base_is_rejected(tmp_path):
    """A corrupt adapter (names that fit no layer) is a ModelError, not a silent wrong model."""
    from safetensors.torch import load_file, save_file

    bad = tmp_path / "judge"
    shutil.copytree(judge_mod.ARTIFACT_DIR, bad)
    tensors = load_file(str(bad / nli_mod.ADAPTER_FILE))
    tensors = {k.replace("encoder.layer.0.", "encoder.layer.9."): v for k, v in tensors.items()}
    save_file(tensors, str(bad / nli_mod.ADAPTER_FILE))
    with pytest.raises(ModelError, match="does not fit"):
        judge_mod.CrossEncoderJudge(artifact_dir=bad)


def test_artifact_is_small():
    files = [f for f in judge_mod.ARTIFACT_DIR.iterdir() if f.is_file()]
    assert {nli_mod.ADAPTER_FILE, nli_mod.CONFIG_FILE} <= {f.name for f in files}
    assert sum(f.stat().st_size for f in files) < 5_000_000


@pytest.mark.parametrize(
    ("statement", "parts"),
    [
        (
            "Merging improves accuracy by 3 points, and it halves the memory needed.",
            ["Merging improves accuracy by 3 points", "it halves the memory needed"],
        ),
        (
            "Adapters cut memory use; they keep accuracy on GLUE.",
            ["Adapters cut memory use", "they keep accuracy on GLUE"],
        ),
        ("Merging and pruning both help.", ["Merging and pruning both help."]),
        ("Short; clause, and here.", ["Short; clause, and here."]),
    ],
)
def test_statement_parts_split_independent_clauses_only(statement, parts):
    from assistant.judge import statement_parts

    assert statement_parts(statement) == parts


SOURCE = (
    "Large models are expensive to rank with. Surprisingly, our experiments reveal that full ranking "
    "with long-context LLMs can deliver superior performance in the supervised fine-tuning setting with "
    "a huge efficiency improvement. Furthermore, we identify two limitations of fine-tuning the full "
    "ranking model based on existing methods: (1) sliding window strategy fails to produce a full ranking "
    "list as a training label, and (2) the language modeling loss cannot emphasize top-ranked passage IDs "
    "in the label. We find no evidence that sliding windows improve recall."
)
TWO_SENTENCES = (
    "Surprisingly, our experiments reveal that full ranking with long-context LLMs can deliver superior "
    "performance in the supervised fine-tuning setting with a huge efficiency improvement. Furthermore, we "
    "identify two limitations of fine-tuning the full ranking model based on existing methods: (1) sliding "
    "window strategy fails to produce a full ranking list as a training label, and (2) the language "
    "modeling loss cannot emphasize top-ranked passage IDs in the label."
)


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("Large models are expensive to rank with.", True),  # one whole sentence
        (TWO_SENTENCES, True),  # two whole sentences
        ("  " + TWO_SENTENCES.upper().replace(". ", ".   "), True),  # case and spacing aside
        ("Sliding windows improve recall.", False),  # a fragment cut out of a negated sentence
        ("Full ranking with long-context LLMs can deliver superior performance.", False),  # a trimmed sentence
        (TWO_SENTENCES.replace("superior", "inferior"), False),  # one word changed
        ("", False),
    ],
)
def test_quoted_means_whole_sentences_of_the_source(statement, expected):
    from assistant.judge.judges import quoted

    assert quoted(SOURCE, statement) is expected


@pytest.mark.slow
def test_a_long_verbatim_quote_is_supported(cross_encoder):
    """The NLI features alone gave this two-sentence quote of its own source about 0.47."""
    assert cross_encoder.score([(SOURCE, TWO_SENTENCES)])[0] >= 0.95
    assert cross_encoder.score([(SOURCE, TWO_SENTENCES.replace("superior", "inferior"))])[0] < 0.95


@pytest.mark.slow
def test_quotes_are_not_run_through_the_model(cross_encoder, monkeypatch):
    """An extractive answer's quotes cost no NLI: only the edited statement reaches the model."""
    from assistant.judge.judges import QUOTED_LOGIT, _sigmoid

    seen: list = []
    original = cross_encoder.features

    def spy(pairs, *args, **kwargs):
        seen.extend(pairs)
        return original(pairs, *args, **kwargs)

    monkeypatch.setattr(cross_encoder, "features", spy)
    edited = TWO_SENTENCES.replace("superior", "inferior")
    scores = cross_encoder.score([(SOURCE, TWO_SENTENCES), (SOURCE, edited), (SOURCE, TWO_SENTENCES)])
    assert seen == [(SOURCE, edited)]
    assert scores[0] == scores[2] == pytest.approx(_sigmoid(QUOTED_LOGIT))
    assert scores[1] < 0.95


def test_the_embedding_memo_survives_being_emptied_mid_call():
    from assistant.indexing.embedding import embed_memo

    class Count:
        def embed_documents(self, texts):
            return [len(t) for t in texts]

    memo = {"a": 1, "bb": 2}
    # "a" is known, "ccc" is not, and adding it passes the limit: the memo is emptied, and "a" must come back
    assert embed_memo(Count(), ["a", "ccc"], memo, limit=2) == [1, 3]
