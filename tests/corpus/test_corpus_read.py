"""read_papers: dispatch by extension, file errors, deduplication across files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assistant.corpus import (
    assign_ids,
    bundled_corpus_paths,
    merge_duplicates,
    normalize_title,
    read_file,
    read_papers,
)
from assistant.errors import CorpusError
from assistant.models import Paper

ABSTRACT = "We study a small thing carefully and report what we found in detail."


@pytest.fixture(scope="module")
def bundled() -> list[Paper]:
    return read_papers(bundled_corpus_paths())


def test_bundled_paths() -> None:
    paths = bundled_corpus_paths()
    assert [p.name[:3] for p in paths] == ["000", "001", "002", "003", "004"]
    assert all(p.is_file() for p in paths)


def test_bundled_corpus_is_240_papers_sorted_by_id(bundled: list[Paper]) -> None:
    assert len(bundled) == 240
    assert [p.id for p in bundled] == sorted(p.id for p in bundled)
    assert sum(len(p.sources) for p in bundled) == 281
    assert sorted(len(p.sources) for p in bundled if len(p.sources) > 1) == [2] * 26 + [3] * 6 + [4]


def test_duplicates_keep_every_source(bundled: list[Paper]) -> None:
    (paper,) = [p for p in bundled if p.title.startswith("Fine-Tuning Enhances Existing Mechanisms")]
    assert [s.split("_")[0] for s in paper.sources] == ["000", "001", "002", "003"]
    assert all(s.split(":")[1].isdigit() for s in paper.sources)


def test_duplicates_keep_the_richest_metadata(bundled: list[Paper]) -> None:
    # Read first from 003 (no metadata at all), then 004 (authors and a dated year).
    (paper,) = [p for p in bundled if p.title.startswith("Understanding the Effect of Noise in LLM Training Data")]
    assert paper.sources[0].startswith("003_")
    assert (paper.date, paper.year, paper.author_count) == ("2024-02-06", 2024, 2)


def test_merge_prefers_a_date_with_a_year() -> None:
    yearless = Paper(id="", title="T", abstract="A.", date="Jan 23", upvotes=2, sources=["a.txt:1"])
    dated = Paper(id="", title="t!", abstract="A.", date="2023-01-23", year=2023, upvotes=5, sources=["b.txt:9"])
    bare = Paper(id="t-key", title="T", abstract="A.", url="https://x", sources=["c.bib:3"])
    (merged,) = merge_duplicates([yearless, bare, dated])
    assert (merged.date, merged.year, merged.upvotes, merged.url, merged.id) == (
        "2023-01-23",
        2023,
        5,
        "https://x",
        "t-key",
    )
    assert merged.sources == ["a.txt:1", "c.bib:3", "b.txt:9"]


def test_formats_are_chosen_by_extension(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(f"Daily Papers\n\nShared Title\n\n{ABSTRACT}\n\n  • 2 authors\n·\nMar 4, 2023\n")
    (tmp_path / "b.jsonl").write_text(json.dumps({"title": "shared title", "abstract": ABSTRACT, "url": "u"}) + "\n")
    (tmp_path / "c.BIB").write_text("@article{key2020, title={Only In Bib}, abstract={An abstract.}, year=2020}\n")
    papers = read_papers([tmp_path / "a.txt", tmp_path / "b.jsonl", tmp_path / "c.BIB"])
    assert [(p.id, p.sources) for p in papers] == [
        ("key2020", ["c.BIB:1"]),
        ("shared-title-2023", ["a.txt:3", "b.jsonl:1"]),
    ]
    assert papers[1].url == "u"
    assert read_papers([tmp_path]) == papers  # a directory stands for its corpus files


def test_existing_ids_are_kept(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(json.dumps({"title": "Old Paper", "abstract": ABSTRACT}) + "\n")
    (paper,) = read_papers([tmp_path / "a.jsonl"], existing={normalize_title("Old Paper"): "my-old-id"})
    assert paper.id == "my-old-id"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"nope\.jsonl: file not found"):
        read_papers([tmp_path / "nope.jsonl"])


def test_unknown_extension_lists_supported_formats(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("# notes\n")
    with pytest.raises(
        CorpusError, match=r"notes\.md: unsupported file type '\.md'; supported: \.txt .*\.jsonl.*\.bib"
    ):
        read_file(tmp_path / "notes.md")


def test_non_utf8_names_file_and_line(tmp_path: Path) -> None:
    good = json.dumps({"title": "T", "abstract": "A."})
    (tmp_path / "latin1.jsonl").write_bytes(f"{good}\n{good}\n".encode() + b'{"title": "Caf\xe9"}\n')
    with pytest.raises(CorpusError, match=r"latin1\.jsonl:3: not UTF-8 text \(byte 0xe9\)"):
        read_papers([tmp_path / "latin1.jsonl"])


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "bom.jsonl").write_bytes(b"\xef\xbb\xbf" + json.dumps({"title": "T", "abstract": "A."}).encode())
    (paper,) = read_papers([tmp_path / "bom.jsonl"])
    assert paper.title == "T"


def test_directory_without_corpus_files(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="no corpus files in this directory"):
        read_papers([tmp_path])


def test_strict_errors_inside_files_propagate_with_their_line(tmp_path: Path) -> None:
    (tmp_path / "bad.bib").write_text("\n\n@article{x, title={T}}\n")
    with pytest.raises(CorpusError, match=r"bad\.bib:3: entry @article\{x\} has no abstract"):
        read_papers([tmp_path / "bad.bib"], strict=True)


def test_bad_records_are_skipped_with_a_warning_naming_file_and_line(tmp_path: Path, caplog) -> None:
    good = {"title": "Good Paper", "abstract": ABSTRACT}
    lines = [
        good,
        {"title": "Huge", "abstract": ABSTRACT, "upvotes": 2**63},
        "{not json",
        {"title": "Y", "abstract": ABSTRACT, "year": 10**30},
    ]
    (tmp_path / "mixed.jsonl").write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    (tmp_path / "bad.bib").write_text(
        "\n\n@article{x, title={T}}\n@article{y, title={Fine}, abstract={Fine abstract.}}\n"
    )
    with caplog.at_level("WARNING", logger="assistant.corpus"):
        papers = read_papers([tmp_path / "mixed.jsonl", tmp_path / "bad.bib"])
    assert sorted(p.title for p in papers) == ["Fine", "Good Paper"]
    skipped = [r.getMessage() for r in caplog.records if r.getMessage().startswith("skipped")]
    assert len(skipped) == 4
    assert any(
        re.search(r"mixed\.jsonl:2: 'upvotes': input should be less than or equal to 2147483647", m) for m in skipped
    )
    assert any(re.search(r"mixed\.jsonl:3: malformed JSON", m) for m in skipped)
    assert any(re.search(r"mixed\.jsonl:4: 'year': input should be less than or equal to 2100", m) for m in skipped)
    assert any(re.search(r"bad\.bib:3: entry @article\{x\} has no abstract", m) for m in skipped)
    with pytest.raises(CorpusError, match=r"mixed\.jsonl:2: 'upvotes'"):
        read_papers([tmp_path / "mixed.jsonl"], strict=True)


def test_dedup_needs_title_and_abstract_and_warns_about_each_merge(caplog) -> None:
    a, b = ABSTRACT, "A different abstract about another thing entirely, with other results."
    papers = [
        Paper(id="", title="!!!", abstract=a, sources=["x.jsonl:1"]),
        Paper(id="", title="???", abstract=b, sources=["x.jsonl:2"]),
        Paper(id="", title="Über Models", abstract=a, sources=["x.jsonl:3"]),
        Paper(id="", title="Uber Models", abstract=b, sources=["x.jsonl:4"]),
        Paper(id="", title="Uber models", abstract=b + " ", sources=["y.jsonl:1"]),  # the same paper twice
    ]
    with caplog.at_level("WARNING", logger="assistant.corpus"):
        merged = merge_duplicates(papers)
    assert [p.sources for p in merged] == [["x.jsonl:1"], ["x.jsonl:2"], ["x.jsonl:3"], ["x.jsonl:4", "y.jsonl:1"]]
    (warning,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert "merged 2 entries" in warning and "x.jsonl:4, y.jsonl:1" in warning
    ids = [p.id for p in assign_ids(merged)]
    assert len(set(ids)) == 4


def test_files_with_no_papers_are_an_error_that_changes_nothing(tmp_path: Path) -> None:
    from assistant.corpus import read_records

    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n  \n")
    with pytest.raises(CorpusError, match=r"no papers to ingest in .*empty\.jsonl: empty; nothing was changed"):
        read_records([empty])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "no abstract"}\n')
    with pytest.raises(CorpusError, match="every record was skipped"):
        read_records([bad])
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"title": "T", "abstract": ABSTRACT}) + "\n")
    assert len(read_records([empty, bad, good])) == 1  # one good file is enough
