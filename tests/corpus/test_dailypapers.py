"""The Daily Papers parser, on the real bundled dumps and on small hand-made ones."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from assistant.corpus import bundled_corpus_paths, normalize_title
from assistant.corpus.dailypapers import parse
from assistant.errors import CorpusError
from assistant.models import Paper

ABSTRACT = "We study a small thing carefully and report what we found in detail."
CHROME = "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nDaily Papers\n\nbyAK and the research community\n\nDec 12\n\n"


@pytest.fixture(scope="module")
def entries() -> dict[str, list[Paper]]:
    return {p.name: parse(p.read_text(encoding="utf-8"), p) for p in bundled_corpus_paths()}


def by_title(entries: dict[str, list[Paper]], file_prefix: str, title: str) -> Paper:
    (name,) = [n for n in entries if n.startswith(file_prefix)]
    (paper,) = [p for p in entries[name] if p.title == title]
    return paper


def test_real_files_have_281_entries_and_240_unique_titles(entries: dict[str, list[Paper]]) -> None:
    counts = {name[:3]: len(papers) for name, papers in entries.items()}
    assert counts == {"000": 28, "001": 74, "002": 66, "003": 81, "004": 32}
    titles = [normalize_title(p.title) for papers in entries.values() for p in papers]
    assert len(titles) == 281
    assert len(set(titles)) == 240
    assert Counter(Counter(titles).values()) == {1: 207, 2: 26, 3: 6, 4: 1}


def test_page_chrome_is_not_an_entry(entries: dict[str, list[Paper]]) -> None:
    chrome = {"new", "Subscribe", "Daily Papers", "byAK and the research community", "Dec 12", "Mar 12"}
    for papers in entries.values():
        assert not chrome & {p.title for p in papers}
        assert all(len(p.abstract) > 1000 for p in papers)


def test_author_count_and_full_date(entries: dict[str, list[Paper]]) -> None:
    paper = by_title(entries, "000", "Model Breadcrumbs: Scaling Multi-Task Model Merging with Sparse Masks")
    assert (paper.author_count, paper.date, paper.year, paper.upvotes) == (2, "2023-12-11", 2023, None)
    assert paper.abstract.startswith("The rapid development of AI systems")
    assert paper.sources == ["000_481bcb5f20ae7f96.txt:45"]


def test_organization_line_and_yearless_date_with_upvotes(entries: dict[str, list[Paper]]) -> None:
    paper = by_title(entries, "000", "Reinforcement Learning Improves Traversal of Hierarchical Knowledge in LLMs")
    assert paper.organization == "AI-at-Meta Meta AI"
    assert paper.author_count is None
    assert (paper.date, paper.year, paper.upvotes) == ("Nov 8", None, 2)


def test_date_with_year_and_upvotes(entries: dict[str, list[Paper]]) -> None:
    paper = by_title(entries, "004", "Knowledge Composition using Task Vectors with Learned Anisotropic Scaling")
    assert (paper.date, paper.year, paper.upvotes, paper.author_count) == ("2024-07-03", 2024, 3, 5)


def test_yearless_date_never_gets_a_year(entries: dict[str, list[Paper]]) -> None:
    paper = by_title(entries, "000", "Parameter-Efficient Fine-Tuning for Foundation Models")
    assert (paper.date, paper.year) == ("Jan 23", None)
    for papers in entries.values():
        for p in papers:
            assert (p.year is None) == (p.date is None or not p.date[:4].isdigit())


def test_file_without_metadata(entries: dict[str, list[Paper]]) -> None:
    (name,) = [n for n in entries if n.startswith("003")]
    papers = entries[name]
    assert all(
        (p.date, p.year, p.author_count, p.organization, p.upvotes) == (None, None, None, None, None) for p in papers
    )
    assert papers[0].title == "Towards Probing Contact Center Large Language Models"
    assert papers[0].sources == [f"{name}:11"]


def test_entry_without_metadata_between_entries_with_it(entries: dict[str, list[Paper]]) -> None:
    paper = by_title(entries, "000", "Skill-Targeted Adaptive Training")
    assert (paper.date, paper.author_count) == (None, None)
    after = by_title(entries, "000", "Instruction Tuned Models are Quick Learners")
    assert (after.date, after.author_count) == ("2023-05-17", 7)


def test_title_that_looks_like_a_date_or_metadata(tmp_path: Path) -> None:
    text = CHROME + f"Jan 23\n\n{ABSTRACT}\n\n  • 1 author\n·\nMar 4, 2023\n\nSubscribe\n\n{ABSTRACT}\n"
    papers = parse(text, tmp_path / "x.txt")
    assert [p.title for p in papers] == ["Jan 23", "Subscribe"]
    assert (papers[0].author_count, papers[0].date, papers[0].year) == (1, "2023-03-04", 2023)
    assert papers[1].sources == ["x.txt:21"]


def test_windows_line_endings(tmp_path: Path) -> None:
    text = (CHROME + f"A Title\n\n{ABSTRACT}\n\n  • 3 authors\n·\nJul 3, 2024 3\n").replace("\n", "\r\n")
    (paper,) = parse(text, tmp_path / "x.txt")
    assert (paper.title, paper.abstract, paper.date, paper.upvotes) == ("A Title", ABSTRACT, "2024-07-03", 3)
    assert paper.sources == ["x.txt:13"]


def test_missing_abstract_names_file_and_line(tmp_path: Path) -> None:
    text = CHROME + f"First Title\n\n{ABSTRACT}\n\nTitle Without Abstract\n\nThird Title\n\n{ABSTRACT}\n"
    with pytest.raises(CorpusError, match=r"x\.txt:17: .*'Title Without Abstract' has no abstract"):
        parse(text, tmp_path / "x.txt")


def test_missing_abstract_at_end_of_file(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"x\.txt:17: .*no abstract"):
        parse(CHROME + f"First Title\n\n{ABSTRACT}\n\nLast Title\n", tmp_path / "x.txt")


def test_bad_date_after_separator(tmp_path: Path) -> None:
    text = CHROME + f"A Title\n\n{ABSTRACT}\n\n  • 3 authors\n·\nsometime soon\n"
    with pytest.raises(CorpusError, match=r"x\.txt:19: expected a date"):
        parse(text, tmp_path / "x.txt")


def test_text_without_entries_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"notes\.txt:1: no paper entries found"):
        parse("just some notes\n\nnothing like a paper here\n", tmp_path / "notes.txt")
    assert parse("\n\n", tmp_path / "empty.txt") == []
