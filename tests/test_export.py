"""BibTeX and JSON Lines export: keys are ids, and export -> `review ingest` keeps every field."""

from __future__ import annotations

import datetime
import json
import tempfile
from pathlib import Path

import bibtexparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.corpus import read_papers
from assistant.export import cited_ids, latex_escape, papers_to_bibtex, papers_to_jsonl
from assistant.models import MAX_COUNT, Paper

# -- strategies: papers as the loaders produce them (whitespace normalised, text non-empty) ---------

TRICKY = [
    "{", "}", "\\", "%", "&", "$", "#", "_", "^", "~", "--", "---", "``", "''", "!`", "?`", "@", ",", '"',
    "=", " and ", "and", "\\emph{x}", "{BERT}", "$\\alpha$", "é", "中文", "—", "ü", "%20", "@misc{a,", "\\\\",
    "'", "`", "-", "Ñ", "\u00a0", "\t", "}{", "\\}", "\\{",
]  # fmt: skip
_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
_piece = st.one_of(st.text(_chars, max_size=8), st.sampled_from(TRICKY))
text = st.lists(_piece, max_size=10).map(lambda xs: " ".join("".join(xs).split())).filter(bool)
name = text.filter(lambda s: s.lower() != "others")  # BibTeX's "and others" is no author
# Loader sources are "file:line"; ';' separates them in the exported field.
source = st.tuples(text.filter(lambda s: ";" not in s), st.integers(1, 10**6)).map(lambda t: f"{t[0]}:{t[1]}")
# Verbatim fields (url, date) with everything that is legal in them but braces and backslashes.
_raw_text = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Z"), blacklist_characters="{}\\"), max_size=30)
url = st.builds(lambda s: "https://example.org/" + s, _raw_text)
count = st.none() | st.integers(0, MAX_COUNT)


@st.composite
def dates(draw):
    """(date, year) as a loader gives them: an ISO date states its year, 'Jan 23' does not."""
    kind = draw(st.sampled_from(["none", "iso", "month", "yearless"]))
    explicit = draw(st.none() | st.integers(1000, 2100))
    if kind == "none":
        return None, explicit
    if kind == "yearless":
        month = draw(st.sampled_from(["Jan", "Feb", "Dec"]))
        return f"{month} {draw(st.integers(1, 31))}", explicit
    day = draw(st.dates(min_value=datetime.date(1000, 1, 1), max_value=datetime.date(2100, 12, 31)))
    date = day.isoformat() if kind == "iso" else day.isoformat()[:7]
    return date, day.year if explicit is None else explicit


@st.composite
def papers(draw, pid=None):
    date, year = draw(dates())
    return Paper(
        id=pid or draw(st.from_regex(r"[a-z0-9][a-z0-9._-]{0,30}", fullmatch=True)),
        title=draw(text),
        abstract=draw(text),
        date=date,
        year=year,
        authors=draw(st.lists(name, max_size=4)),
        author_count=draw(count),
        organization=draw(st.none() | text),
        upvotes=draw(count),
        url=draw(st.none() | url),
        sources=draw(st.lists(source, max_size=3)),
    )


def reload(content: str, name: str = "export.bib") -> list[Paper]:
    """Papers read back by the loader `review ingest` uses (ids, dedup and all)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(content, encoding="utf-8")
        return read_papers([path], strict=True)


def expected(paper: Paper, line: int, name: str = "export.bib") -> Paper:
    """What a round trip promises: every field, a missing date read as the year, the .bib added to sources."""
    date = paper.date if paper.date is not None else (str(paper.year) if paper.year is not None else None)
    return paper.model_copy(update={"date": date, "sources": [*paper.sources, f"{name}:{line}"]})


# -- round trip ------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(paper=papers())
def test_round_trip_keeps_every_field(paper):
    [back] = reload(papers_to_bibtex([paper]))
    assert back == expected(paper, 1)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=papers(pid="first-2023"), second=papers(pid="second"))
def test_round_trip_of_several_entries_keeps_keys_and_order(first, second):
    content = papers_to_bibtex([first, second, first])  # a repeated id is written once
    keys = [e.key for e in bibtexparser.parse_string(content).entries]
    assert keys == ["first-2023", "second"]
    back = {p.id: p for p in reload(content)}
    if len(back) == 2:  # two papers with the same title and abstract are one paper to the loader
        line = 1 + content[: content.index("@misc{second")].count("\n")
        assert back["first-2023"] == expected(first, 1) and back["second"] == expected(second, line)


TRICKY_PAPER = Paper(
    id="breadcrumbs-2023",
    title="Model {Breadcrumbs}: 50% & more -- $x_1^2$ \\emph{not} ~ `q' ``quoted'' !` #1 Ünïcödé 中文",
    abstract="A } b { c; 100% of {BERT} & \\LaTeX{} -- ok. @misc{x, y} % not a comment",
    date="2023-12-11",
    year=2023,
    authors=["Jane Q. Doe", "Doe, John", "R and D Team", "José {Ñ} Müller", "{Brace}"],
    author_count=5,
    organization="AT&T Labs_1",
    upvotes=12,
    url="https://arxiv.org/abs/2312.06795?a=1%20b&c=#frag",
    sources=["2023-12.txt:12", "my_refs & more.jsonl:3"],
)


def test_tricky_characters_survive_and_the_entry_reads_as_bibtex():
    content = papers_to_bibtex([TRICKY_PAPER])
    [back] = reload(content)
    assert back == expected(TRICKY_PAPER, 1)
    [entry] = bibtexparser.parse_string(content, parse_stack=[]).entries  # values as written
    assert entry.entry_type == "misc" and entry.key == "breadcrumbs-2023"
    fields = entry.fields_dict
    assert fields["title"].value.startswith("{{Model \\{Breadcrumbs\\}: 50\\% \\& more -{}- \\$x\\_1")
    assert fields["year"].value == "2023" and fields["month"].value == "dec"  # for plain BibTeX styles
    assert fields["author"].value == (
        "{Jane Q. Doe and {Doe, John} and {R and D Team} and {José \\lbrace{}Ñ\\rbrace{} Müller} and {\\lbrace{}Brace\\rbrace{}}}"
    )


@pytest.mark.parametrize(
    ("value", "field", "written"),
    [("https://x.org/{a}}", "url", "https://x.org/%7Ba%7D%7D"), ("Jan 23 \\", "date", "Jan 23 ")],
)
def test_verbatim_fields_that_would_break_the_entry_are_made_safe(value, field, written):
    paper = Paper(id="p", title="T", abstract="A.", **{field: value})
    content = papers_to_bibtex([paper])
    assert f"{field} = {{{written}}}" in content
    [back] = reload(content)
    assert getattr(back, field) == written.strip()


def test_latex_escape_keeps_ligatures_apart():
    assert latex_escape("a--b ``c'' !`") == "a-{}-b `{}`c'{}' !{}`"
    assert latex_escape("\\x{}") == "\\textbackslash{}x\\{\\}"


def test_keys_must_be_usable_and_nothing_gives_nothing():
    assert papers_to_bibtex([]) == ""
    with pytest.raises(ValueError, match="cannot be a BibTeX key"):
        papers_to_bibtex([Paper(id="a b", title="T", abstract="A.")])


def test_jsonl_round_trip_keeps_every_field_but_sources():
    content = papers_to_jsonl([TRICKY_PAPER])
    assert json.loads(content)["id"] == "breadcrumbs-2023"
    [back] = reload(content, "export.jsonl")
    assert back == TRICKY_PAPER.model_copy(update={"sources": ["export.jsonl:1"]})


# -- library API on the fakes ----------------------------------------------------------------------


def test_assistant_export_bibtex_by_id_whole_index_and_cited(make_assistant):
    from assistant import QueryError
    from assistant.models import Answer, Outline, OutlineNode, Reference

    other = Paper(id="other-2024", title="Other paper", abstract="Something else entirely.", year=2024)
    a = make_assistant([TRICKY_PAPER, other])
    keys = lambda bib: [e.key for e in bibtexparser.parse_string(bib).entries]  # noqa: E731
    assert keys(a.export_bibtex()) == ["breadcrumbs-2023", "other-2024"]
    assert keys(a.export_bibtex(["other-2024", "breadcrumbs-2023"])) == ["other-2024", "breadcrumbs-2023"]
    answer = Answer(question="q", answer="x [1]", references=[Reference(n=1, paper_id="other-2024", title="Other")])
    assert cited_ids(answer) == ["other-2024"] and keys(a.export_bibtex(answer)) == ["other-2024"]
    outline = Outline(
        topic="t",
        tree=OutlineNode(label="t", papers=["other-2024", "breadcrumbs-2023"]),
        references=[
            Reference(n=1, paper_id="other-2024", title="O"),
            Reference(n=2, paper_id="breadcrumbs-2023", title="B"),
        ],
    )
    assert keys(a.export_bibtex(outline)) == ["other-2024", "breadcrumbs-2023"]
    assert keys(a.export_bibtex("other-2024")) == ["other-2024"] and a.export_bibtex([]) == ""
    with pytest.raises(QueryError, match="no paper with ids 'nope', 'nada' in the index"):
        a.export_bibtex(["nope", "other-2024", "nada"])


# -- CLI on a real Chroma store with the bundled embedder ------------------------------------------

CORPUS_BIB = r"""
@inproceedings{breadcrumbs-2023,
  title = {Model {Breadcrumbs}: Scaling Multi-Task Model Merging with Sparse Masks},
  author = {Davari, MohammadReza and Belilovsky, Eugene},
  year = 2023, month = dec, date = {2023-12-11}, url = {https://arxiv.org/abs/2312.06795},
  abstract = {We merge fine-tuned models with sparse masks that drop outliers \& tiny weights.
    Merging 8 tasks keeps 95\% of the accuracy of the separate models.}
}
@misc{cafe-2024,
  title = {Caf{\'e} {\&} Co: ``Quoted'' Merging -- of $\alpha$-Experts},
  author = {J{\"u}rgen M{\"u}ller and {OpenAI Team}},
  year = 2024,
  abstract = {Averaging the weights of experts fails when tasks conflict; we fix it with 3 tricks.}
}
"""
CORPUS_JSONL = json.dumps(
    {
        "id": "tasks-2023",
        "title": "Task Arithmetic {in} the Tangent Space: 50% & more",
        "abstract": "Editing models with task vectors works better in the tangent space of the pre-trained model.",
        "date": "Jan 23",
        "authors": ["Guillermo Ortiz-Jimenez", "Alessandro Favero"],
        "organization": "EPFL & Co",
        "upvotes": 7,
        "author_count": 3,
        "url": "https://example.org/t?a=1%20b",
    },
    ensure_ascii=False,
)


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    """Run `review` against a real store (bundled embedder, embedded Chroma) built from a small corpus."""
    from typer.testing import CliRunner

    from assistant.cli import app

    base = tmp_path_factory.mktemp("export")
    (base / "refs.bib").write_text(CORPUS_BIB, encoding="utf-8")
    (base / "more.jsonl").write_text(CORPUS_JSONL + "\n", encoding="utf-8")

    def run(*args, store="store"):
        env = {
            "REVIEW_PATHS__STORE": str(base / store),
            "REVIEW_PATHS__CACHE": str(base / "cache"),
            "REVIEW_CONFIG": str(base / "absent.toml"),
        }
        return CliRunner().invoke(app, list(args), env=env)

    result = run("ingest", str(base / "refs.bib"), str(base / "more.jsonl"))
    assert result.exit_code == 0, result.output
    run.base = base
    return run


@pytest.mark.slow
def test_cli_export_bibtex_keys_are_ids_and_ingest_reads_it_back(cli):
    everything = cli("export")
    assert everything.exit_code == 0, everything.output
    assert [e.key for e in bibtexparser.parse_string(everything.stdout).entries] == [
        "breadcrumbs-2023",
        "cafe-2024",
        "tasks-2023",
    ]
    out = cli.base / "two.bib"
    result = cli("export", "tasks-2023", "cafe-2024", "--format", "bibtex", "-o", str(out))
    assert result.exit_code == 0 and "wrote 2 papers" in result.output
    assert [e.key for e in bibtexparser.parse_string(out.read_text()).entries] == ["tasks-2023", "cafe-2024"]

    # export -> ingest into a second store -> the same papers, field by field
    assert cli("ingest", str(out), store="store2").exit_code == 0
    before = {p["id"]: p for p in map(json.loads, cli("export", "--format", "jsonl").stdout.splitlines())}
    after = {p["id"]: p for p in map(json.loads, cli("export", "-f", "jsonl", store="store2").stdout.splitlines())}
    assert after.keys() == {"tasks-2023", "cafe-2024"}
    for pid, paper in after.items():
        assert paper["sources"] == [*before[pid]["sources"], f"two.bib:{paper['sources'][-1].split(':')[1]}"]
        assert {k: v for k, v in paper.items() if k not in ("sources", "date")} == {
            k: v for k, v in before[pid].items() if k not in ("sources", "date")
        }
    assert after["tasks-2023"]["date"] == "Jan 23" and after["tasks-2023"]["organization"] == "EPFL & Co"
    assert after["cafe-2024"]["title"] == 'Café & Co: "Quoted" Merging – of alpha-Experts'


@pytest.mark.slow
def test_cli_export_unknown_ids_and_format_are_one_line(cli):
    result = cli("export", "nope", "tasks-2023", "nada")
    assert result.exit_code == 1
    assert result.output.strip() == "error: no paper with ids 'nope', 'nada' in the index: `review search` shows ids"
    bad = cli("export", "--format", "ris")
    assert bad.exit_code == 1 and bad.output.strip() == "error: unknown format 'ris': use bibtex or jsonl"


@pytest.mark.slow
def test_cli_ask_format_bibtex_gives_the_cited_papers(cli):
    result = cli("ask", "how do sparse masks help when merging models?", "--mode", "extractive", "--format", "bibtex")
    assert result.exit_code == 0, result.output
    keys = [e.key for e in bibtexparser.parse_string(result.stdout).entries]
    answer = json.loads(
        cli("ask", "how do sparse masks help when merging models?", "--mode", "extractive", "--json").stdout
    )
    assert keys == [r["paper_id"] for r in answer["references"]] and "breadcrumbs-2023" in keys
