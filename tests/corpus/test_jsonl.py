"""JSON Lines corpora: the happy path and every way a line can be wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.corpus.jsonl import parse
from assistant.errors import CorpusError

PATH = Path("papers.jsonl")


def lines(*objects: object) -> str:
    return "\n".join(o if isinstance(o, str) else json.dumps(o) for o in objects) + "\n"


def test_happy_path_with_all_fields() -> None:
    text = lines(
        {
            "id": "bert",
            "title": "BERT:  Pre-training\nof Deep Transformers",
            "abstract": " We introduce BERT. ",
            "year": 2019,
            "authors": ["Jacob Devlin", "Ming-Wei Chang"],
            "url": "https://example.org/bert",
            "date": "2018-10-11",
            "unknown": "ignored",
        },
        "",
        "   ",
        {"title": "Second", "abstract": "Two.", "authors": "Ada Lovelace, Alan Turing and Grace Hopper"},
    )
    first, second = parse(text, PATH)
    assert first.id == "bert"
    assert first.title == "BERT: Pre-training of Deep Transformers"
    assert first.abstract == "We introduce BERT."
    assert (first.year, first.date, first.url) == (2019, "2018-10-11", "https://example.org/bert")
    assert first.authors == ["Jacob Devlin", "Ming-Wei Chang"]
    assert first.sources == ["papers.jsonl:1"]
    assert second.id == ""
    assert second.authors == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
    assert second.year is None
    assert second.sources == ["papers.jsonl:4"]


def test_semicolons_keep_last_first_names_whole() -> None:
    (paper,) = parse(lines({"title": "T", "abstract": "A.", "authors": "Devlin, Jacob; Chang, Ming-Wei"}), PATH)
    assert paper.authors == ["Devlin, Jacob", "Chang, Ming-Wei"]


def test_year_comes_from_a_date_that_states_it_and_only_then() -> None:
    stated, yearless, as_string = parse(
        lines(
            {"title": "A", "abstract": "A.", "date": "Dec 11, 2023"},
            {"title": "B", "abstract": "B.", "date": "Jan 23"},
            {"title": "C", "abstract": "C.", "year": "2021"},
        ),
        PATH,
    )
    assert stated.year == 2023
    assert (yearless.year, yearless.date) == (None, "Jan 23")
    assert as_string.year == 2021


def test_paper_dump_reads_back() -> None:
    dumped = {"id": "x-2020", "title": "X", "abstract": "Y.", "author_count": 3, "organization": "Org",
              "upvotes": 5, "sources": ["elsewhere.txt:1"]}  # fmt: skip
    (paper,) = parse(lines(dumped), PATH)
    assert (paper.author_count, paper.organization, paper.upvotes) == (3, "Org", 5)
    assert paper.sources == ["papers.jsonl:1"]


def test_json_array_file() -> None:
    text = '[\n  {"title": "A", "abstract": "A."},\n  {"title": "B", "abstract": "B."}\n]\n'
    papers = parse(text, Path("papers.json"))
    assert [(p.title, p.sources) for p in papers] == [("A", ["papers.json:2"]), ("B", ["papers.json:3"])]


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ('{"title": "T", "abstract": ', "malformed JSON"),
        ("not json at all", "malformed JSON"),
        ('["a list"]', "expected a JSON object"),
        ('{"abstract": "A."}', "'title' must be a non-empty string \\(missing\\)"),
        ('{"title": "T"}', "'abstract' must be a non-empty string \\(missing\\)"),
        ('{"title": "T", "abstract": "   "}', "'abstract' must be a non-empty string"),
        ('{"title": 42, "abstract": "A."}', "'title' must be a non-empty string \\(got int 42\\)"),
        ('{"title": "T", "abstract": "A.", "year": "twenty"}', "'year' must be an integer"),
        ('{"title": "T", "abstract": "A.", "year": true}', "'year' must be an integer"),
        ('{"title": "T", "abstract": "A.", "authors": [1, 2]}', "'authors' must be a list of strings"),
        ('{"title": "T", "abstract": "A.", "url": 5}', "'url' must be a string"),
        ('{"title": "T", "abstract": "A.", "id": ["x"]}', "'id' must be a string"),
    ],
)
def test_errors_name_file_and_line(bad_line: str, message: str) -> None:
    text = lines({"title": "Good", "abstract": "Fine."}, "", bad_line)
    with pytest.raises(CorpusError, match=rf"^papers\.jsonl:3: .*{message}") as info:
        parse(text, PATH)
    assert info.value.line == 3
    assert info.value.path == PATH


def test_array_errors_name_the_line() -> None:
    text = '[\n  {"title": "A", "abstract": "A."},\n  {"title": "B"}\n]\n'
    with pytest.raises(CorpusError, match=r"^papers\.json:3: 'abstract' must be"):
        parse(text, Path("papers.json"))
    with pytest.raises(CorpusError, match=r"^papers\.json:1: malformed JSON"):
        parse('[{"title": "A", "abstract": "A."} {}]', Path("papers.json"))


def test_a_first_line_that_is_an_array_is_one_bad_line_not_a_bad_file() -> None:
    problems: list = []
    papers = parse('[1, 2, 3]\n{"title": "T", "abstract": "A."}\n', PATH, problems)
    assert [p.title for p in papers] == ["T"]
    assert len(problems) == 1 and "papers.jsonl:1:" in str(problems[0]) and "got list" in str(problems[0])
    # one JSON array over several lines, or on one line alone, is still an array file
    assert len(parse('[\n{"title": "T", "abstract": "A."}\n]\n', PATH)) == 1
    assert len(parse('[{"title": "T", "abstract": "A."}]', PATH)) == 1


def test_a_decode_error_names_its_column_once() -> None:
    problems: list = []
    parse('{"title": "T", "abstract": "unterminated}\n', PATH, problems)
    message = str(problems[0])
    assert "column" in message and "at at" not in message
