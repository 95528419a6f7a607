"""Synthetic support pairs for the judge (evals/judge/synth.py): fast, no model.

Three hand-written abstracts stand in for SciFact / PubMedQA; the parts that read the real files
skip when ../shared is absent.
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "evals" / "judge"))

import synth  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"

ABSTRACTS = [
    [
        "Obesity is a major risk factor for type 2 diabetes in adults worldwide.",
        "We enrolled 1,200 adults with obesity in a randomized trial of metformin or placebo.",
        "We show that metformin significantly reduced fasting glucose by 25% compared with placebo.",
        "In the metformin group, 50% of patients reached the target HbA1c level within 12 months.",
        "Weight loss was associated with improved insulin sensitivity in both groups of adults.",
        "Gastrointestinal side effects were not more frequent with metformin than with placebo (P = 0.21).",
        "In conclusion, metformin increased the response rate 2-fold in adults with obesity and diabetes.",
    ],
    [
        "Aspirin is widely used for the prevention of cardiovascular disease in older adults.",
        "We followed 3 cohorts of women with breast cancer for a median of 8 years.",
        "Regular aspirin use was associated with a lower risk of breast cancer recurrence (P < 0.01).",
        "Metformin use was associated with lower glucose in adults with obesity in earlier cohort studies.",
        "Women who took aspirin had higher survival than women who did not take aspirin.",
        "The benefit was larger in patients with hormone receptor positive tumors, and it persisted after adjustment.",
        "Results showed that aspirin reduced the expression of COX-2 in tumor samples from 40 patients.",
        "Bleeding events were rare and did not differ between the aspirin and control groups.",
    ],
    [
        "Asthma is the most common chronic disease in children and adolescents in Europe.",
        "We randomized 240 children with asthma to montelukast or inhaled budesonide for 6 months.",
        "Budesonide improved lung function more than montelukast in children with persistent asthma.",
        "Approximately 30% of children in the montelukast group had an exacerbation during the trial.",
        "Adherence was higher with montelukast, whereas symptom scores were lower with budesonide.",
        "We demonstrate that inhaled budesonide was not associated with reduced growth in these children.",
        "These findings support inhaled corticosteroids as first-line therapy for persistent asthma in children.",
    ],
]
SENTENCES = [s for a in ABSTRACTS for s in a]
EDIT_KINDS = ("number_changed", "reversed", "negated", "entity_swapped")


@pytest.fixture(scope="module")
def pairs() -> list[synth.Pair]:
    return synth.synthetic_pairs(ABSTRACTS, 120, seed=3)


def _words(s: str) -> list[str]:
    return re.findall(r"[\w%.,-]+", s.lower())


# ---------------------------------------------------------------- the generator


def test_deterministic_for_a_seed(pairs):
    assert synth.synthetic_pairs(ABSTRACTS, 120, seed=3) == pairs
    assert synth.synthetic_pairs(ABSTRACTS, 120, seed=4) != pairs


def test_labels_balanced_and_kinds_consistent(pairs):
    assert len(pairs) == 120
    labels = Counter(label for _, _, label, _ in pairs)
    assert labels[1] == labels[0] == 60
    for premise, hypothesis, label, kind in pairs:
        assert kind in synth.KINDS
        assert label == int(kind in synth.SUPPORTED_KINDS)
        assert premise.strip() and hypothesis.strip()


def test_every_kind_is_made(pairs):
    made = {kind for *_, kind in pairs}
    assert set(synth.UNSUPPORTED_KINDS) <= made
    assert {"verbatim_trimmed", "fused", "number_reformatted", "synonym"} <= made


def test_each_negative_changes_the_text(pairs):
    negatives = [p for p in pairs if p[2] == 0]
    assert negatives
    for premise, hypothesis, _, kind in negatives:
        assert hypothesis != premise
        assert hypothesis.rstrip(".") + "." not in premise, kind
        if kind in EDIT_KINDS:
            # one detail changed: not any sentence of the abstracts, nor its framing-trimmed form
            assert hypothesis not in SENTENCES, kind
            assert hypothesis not in {synth.trim_framing(s) for s in SENTENCES}, kind
        if kind == "partial_premise":
            assert len(hypothesis) > len(premise.split(". ")[0])
        if kind == "other_paper":
            assert not any(hypothesis in a_sentence for a_sentence in premise.split(". "))


def test_premise_is_one_or_two_sentences_of_one_abstract(pairs):
    for premise, _, _, kind in pairs:
        found = [s for s in SENTENCES if s in premise]
        assert 1 <= len(found) <= 2, (kind, premise)
        homes = {k for k, a in enumerate(ABSTRACTS) for s in found if s in a}
        assert len(homes) == 1, (kind, premise)


def test_supported_edits_stay_supported(pairs):
    for premise, hypothesis, _, kind in pairs:
        if kind == "fused":
            assert ", and " in hypothesis
            assert "Adherence" not in hypothesis.split(", and ", 1)[1][:10]  # second clause lower-cased
        if kind == "verbatim_trimmed":
            assert not hypothesis.startswith(("We show that", "In conclusion", "We demonstrate that"))
        if kind == "clause_dropped":
            assert len(hypothesis) < len(premise)


def test_no_usable_sentences_gives_nothing():
    assert synth.synthetic_pairs([["Table 1.", "12 34 56 78"]], 10) == []
    assert synth.synthetic_pairs(ABSTRACTS, 0) == []


# ---------------------------------------------------------------- the edits


def test_number_reformatted_keeps_the_meaning():
    s = "In the metformin group, 50% of patients reached the target HbA1c level within a year."
    assert synth.reformat_number(s, random.Random(0)) == s.replace("50% of", "half of")
    s = "Metformin reduced fasting glucose by 25% compared with placebo in adults."
    assert synth.reformat_number(s, random.Random(0)) == s.replace("by 25%", "by a quarter")
    s = "The response rate increased 2-fold in adults with obesity and diabetes."
    outs = {synth.reformat_number(s, random.Random(k)) for k in range(20)}
    assert outs == {s.replace("increased 2-fold", "doubled"), s.replace("2-fold", "twofold")}
    s = "We randomized children with asthma for 6 months of therapy."
    assert synth.reformat_number(s, random.Random(0)) == s.replace("6 months", "six months")
    # a share inside a range is no share of its own; purely typographic rewrites only when allowed
    s = "Foods should provide 25-50% of daily requirements for protein in all children."
    assert synth.reformat_number(s, random.Random(0), allow_weak=False) is None
    s = "We enrolled 1,200 adults with obesity in a randomized trial of metformin."
    assert synth.reformat_number(s, random.Random(0), allow_weak=False) is None
    assert synth.reformat_number(s, random.Random(0)) == s.replace("1,200", "1200")


def test_number_changed_changes_one_number():
    s = "Metformin reduced fasting glucose by 25% compared with placebo in 1,200 adults."
    for seed in range(10):
        out = synth.change_number(s, random.Random(seed))
        assert out and out != s
        diff = [(a, b) for a, b in zip(_words(s), _words(out)) if a != b]
        assert len(diff) == 1 and len(_words(s)) == len(_words(out))
    # a p-value or a bound moves the strict way: "P < 0.01" cannot become the weaker "P < 0.1"
    assert synth.change_number("Aspirin lowered the risk of recurrence (P < 0.01) in women.") == (
        "Aspirin lowered the risk of recurrence (P < 0.001) in women."
    )
    out = synth.change_number("Exposure decreased by more than 25% in all regions of Europe.", random.Random(1))
    assert float(re.search(r"than (\d+)%", out).group(1)) > 25
    # identifiers are not quantities
    assert synth.change_number("IL-6 and COX-2 were expressed in tumors of mice.") is None


def test_reversed_flips_one_direction_word():
    s = "Metformin increased insulin sensitivity in adults with obesity."
    assert synth.reverse_direction(s) == "Metformin decreased insulin sensitivity in adults with obesity."
    s = "Aspirin use was associated with a lower risk of breast cancer recurrence."
    outs = {synth.reverse_direction(s, random.Random(k)) for k in range(20)}
    assert s.replace("lower", "higher") in outs
    assert s.replace("was associated", "was not associated") in outs
    for out in outs:
        diff = [(a, b) for a, b in zip(s.split(), out.split()) if a != b]
        assert diff and (diff[0][0].lower() in synth._FLIP or "not" in out.split())
    assert synth.reverse_direction("Patients were enrolled in three hospitals in the region.") is None


def test_negated_inserts_or_removes_a_negation():
    s = "Weight loss was associated with improved insulin sensitivity."
    assert synth.negate(s) == "Weight loss was not associated with improved insulin sensitivity."
    s = "Bleeding events did not differ between the aspirin and control groups."
    assert synth.negate(s) == "Bleeding events did differ between the aspirin and control groups."
    s = "No significant difference was found between the two groups of children."
    assert synth.negate(s) == "A significant difference was found between the two groups of children."


def test_drop_clause_never_drops_a_negation_or_splits_a_list():
    assert synth.drop_clause("Glucose fell by 5% in the metformin group, which was not significant.") is None
    assert (
        synth.drop_clause("Patients had undifferentiated, diffuse type, and advanced stage cancers in Korea.") is None
    )
    out = synth.drop_clause("Adherence was higher with montelukast, whereas symptom scores were lower with budesonide.")
    assert out in ("Adherence was higher with montelukast.", "Symptom scores were lower with budesonide.")


def test_trim_framing_and_fuse():
    assert (
        synth.trim_framing("We show that metformin reduced glucose in adults.")
        == "Metformin reduced glucose in adults."
    )
    assert synth.trim_framing("Results suggest that metformin may reduce glucose.") == (
        "Results suggest that metformin may reduce glucose."
    )  # a hedge stays
    assert synth.fuse("Asthma is common in children.", "The trial enrolled 240 children.") == (
        "Asthma is common in children, and the trial enrolled 240 children."
    )
    assert synth.fuse("Asthma is common.", "DNA damage was high.") == "Asthma is common, and DNA damage was high."


def test_usable_sentences():
    assert synth.is_usable("Regular aspirin use was associated with a lower risk of breast cancer recurrence.")
    assert not synth.is_usable("These results were associated with a lower risk of breast cancer recurrence.")
    assert not synth.is_usable("It was associated with a lower risk of breast cancer recurrence in women.")
    assert not synth.is_usable("12.1 (3.4) 15.2 (2.2) 17.9 (4.1) 11.0 (1.2) 10.4 (2.2) p = 0.01.")
    assert not synth.is_usable("To assess the efficacy of sildenafil citrate in men with sexual dysfunction.")
    assert not synth.is_usable("Short sentence here.")


# ---------------------------------------------------------------- readers and script


def test_readers_skip_a_missing_path(tmp_path, capsys):
    assert synth.read_scifact_abstracts(tmp_path / "absent.jsonl") == []
    assert synth.read_pubmedqa_contexts(tmp_path / "absent.json") == []
    assert "not found" in capsys.readouterr().out
    with pytest.raises(ValueError):
        synth.read_scifact_abstracts(tmp_path / "claims_train.jsonl")


def _write_sources(tmp_path: Path) -> tuple[Path, Path]:
    scifact = tmp_path / "corpus.jsonl"
    scifact.write_text(
        "".join(json.dumps({"doc_id": k, "title": "t", "abstract": a}) + "\n" for k, a in enumerate(ABSTRACTS)),
        encoding="utf-8",
    )
    pubmedqa = tmp_path / "ori_pqal.json"
    data = {
        str(k): {"QUESTION": "q?", "CONTEXTS": [" ".join(a[:-1])], "LONG_ANSWER": a[-1], "LABELS": ["RESULTS"]}
        for k, a in enumerate(ABSTRACTS)
    }
    pubmedqa.write_text(json.dumps(data), encoding="utf-8")
    return scifact, pubmedqa


def test_readers_on_small_files(tmp_path):
    scifact, pubmedqa = _write_sources(tmp_path)
    assert synth.read_scifact_abstracts(scifact) == ABSTRACTS
    assert synth.read_pubmedqa_contexts(pubmedqa) == ABSTRACTS


def test_main_writes_an_even_mix(tmp_path, capsys):
    scifact, pubmedqa = _write_sources(tmp_path)
    out = tmp_path / "synth.jsonl"
    assert synth.main(["--n", "40", "--out", str(out), "--scifact", str(scifact), "--pubmedqa", str(pubmedqa)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 40
    assert Counter(r["source"] for r in rows) == {"scifact": 20, "pubmedqa": 20}
    assert set(rows[0]) == {"premise", "hypothesis", "label", "kind", "source"}
    printed = capsys.readouterr().out
    assert "negated" in printed and "P [" in printed


@pytest.mark.skipif(not (SHARED / "scifact" / "corpus.jsonl").is_file(), reason="../shared SciFact absent")
def test_read_scifact_corpus():
    abstracts = synth.read_scifact_abstracts()
    assert len(abstracts) > 1000
    assert all(isinstance(s, str) and s for s in abstracts[0])


@pytest.mark.skipif(not (SHARED / "pubmedqa" / "ori_pqal.json").is_file(), reason="../shared PubMedQA absent")
def test_read_pubmedqa_contexts():
    abstracts = synth.read_pubmedqa_contexts()
    assert len(abstracts) == 1000
    assert all(len(a) >= 2 for a in abstracts[:50])
