"""Paper ids: readable, unique, and frozen once a paper is in the index."""

from __future__ import annotations

import pytest

from assistant.corpus import bundled_corpus_paths, read_papers
from assistant.corpus.ids import assign_ids, base_id, is_valid_id, normalize_title, slugify
from assistant.models import Paper


def paper(title: str, year: int | None = None, id: str = "") -> Paper:
    return Paper(id=id, title=title, abstract="An abstract.", year=year)


@pytest.mark.parametrize(
    ("title", "year", "expected"),
    [
        ("Model Breadcrumbs: Scaling Multi-Task Model Merging with Sparse Masks", 2023, "breadcrumbs-2023"),
        ("HFT: Half Fine-Tuning for Large Language Models", 2024, "hft-2024"),
        ("TÜLU 3: Pushing Frontiers in Open Language Model Post-Training", 2024, "tulu-3-2024"),
        ("Free Lunch: Robust Cross-Lingual Transfer via Model Checkpoint Averaging", None, "free-lunch"),
        ("Language Models are Few-Shot Learners", None, "few-shot-learners"),
        (
            "Understanding Catastrophic Forgetting in Language Models via Implicit Inference",
            None,
            "catastrophic-forgetting",
        ),
        ("Don't Stop Pretraining? Make Prompt-based Fine-tuning Powerful Learner", None, "dont-stop"),
        ("Large Language Models", 2020, "large-language-2020"),
        ("大型语言模型", None, "paper-" + "x" * 8),
    ],
)
def test_base_id(title: str, year: int | None, expected: str) -> None:
    got = base_id(title, year)
    if expected.startswith("paper-"):
        assert got.startswith("paper-") and len(got) == len(expected)
    else:
        assert got == expected
    assert is_valid_id(got)


def test_normalize_title_ignores_case_punctuation_accents_and_spacing() -> None:
    assert normalize_title("  Fine-Tuning:   the  TÜLU way! ") == normalize_title("fine tuning the tulu way")
    assert normalize_title("Don't Stop") == normalize_title("Dont stop")
    assert normalize_title("BERT") != normalize_title("BART")


def test_slugify() -> None:
    assert slugify("In-BoXBART") == "in-boxbart"
    assert slugify("Über  Model!") == "uber-model"


def test_collisions_add_a_title_word_then_a_letter() -> None:
    papers = [
        paper("Breadcrumbs: One", 2023),
        paper("Breadcrumbs: Two", 2023),
        paper("Breadcrumbs", 2023),
        paper("Breadcrumbs", 2023),  # not deduplicated on purpose: still unique ids
    ]
    ids = [p.id for p in assign_ids(papers)]
    assert sorted(ids) == ["breadcrumbs-2023", "breadcrumbs-2023b", "breadcrumbs-one-2023", "breadcrumbs-two-2023"]
    assert ids[2] == "breadcrumbs-2023"  # sorted by title, the bare name comes first


def test_yearless_collisions_get_a_separate_letter() -> None:
    ids = [p.id for p in assign_ids([paper("Quick Learners"), paper("Quick Learners!")])]
    assert ids == ["quick-learners", "quick-learners-b"]


def test_existing_ids_never_change_when_the_corpus_grows() -> None:
    first = assign_ids([paper("Zeta: Second Paper", 2023)])
    assert first[0].id == "zeta-2023"
    existing = {normalize_title(p.title): p.id for p in first}
    # "Zeta: A First Paper" sorts before and would win the bare slug in a fresh run.
    grown = assign_ids([paper("Zeta: A First Paper", 2023), paper("Zeta: Second Paper", 2023)], existing)
    assert {p.title: p.id for p in grown} == {
        "Zeta: Second Paper": "zeta-2023",
        "Zeta: A First Paper": "zeta-first-2023",
    }
    fresh = assign_ids([paper("Zeta: A First Paper", 2023), paper("Zeta: Second Paper", 2023)])
    assert fresh[0].id == "zeta-2023"


def test_existing_id_follows_the_title_even_if_the_year_changes() -> None:
    existing = {normalize_title("Some Paper"): "some-paper"}
    (p,) = assign_ids([paper("Some paper", 2024)], existing)
    assert p.id == "some-paper"


def test_user_ids() -> None:
    papers = [paper("Alpha", 2020, id="Devlin2019BERT"), paper("Beta", id="not valid!"), paper("Gamma", id="taken")]
    ids = [p.id for p in assign_ids(papers, {"something else": "taken"})]
    assert ids == ["devlin2019bert", "beta", "gamma"]


def test_generated_id_does_not_steal_a_user_id() -> None:
    ids = [p.id for p in assign_ids([paper("Alpha Beta", 2020), paper("Other", id="alpha-beta-2020")])]
    assert ids == ["alpha-beta-2020b", "alpha-beta-2020"]


def test_bundled_corpus_ids_are_unique_stable_and_readable() -> None:
    first = read_papers(bundled_corpus_paths())
    second = read_papers(list(reversed(bundled_corpus_paths())))
    ids = [p.id for p in first]
    assert len(ids) == len(set(ids)) == 240
    assert {p.title: p.id for p in first} == {p.title: p.id for p in second}
    assert all(is_valid_id(i) and len(i) <= 40 for i in ids)
    assert "breadcrumbs-2023" in ids
    by_id = {p.id: p for p in first}
    assert by_id["breadcrumbs-2023"].title.startswith("Model Breadcrumbs")


def test_bundled_ids_survive_a_new_colliding_paper() -> None:
    before = read_papers(bundled_corpus_paths())
    existing = {normalize_title(p.title): p.id for p in before}
    newcomer = paper("Model Breadcrumbs: A Sequel That Sorts First", 2023)
    after = assign_ids([*before, newcomer], existing)
    assert {p.title: p.id for p in after if p.title != newcomer.title} == {p.title: p.id for p in before}
    (new,) = [p for p in after if p.title == newcomer.title]
    assert new.id == "breadcrumbs-sequel-2023"
