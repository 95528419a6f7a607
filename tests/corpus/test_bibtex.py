"""The hand-written BibTeX parser: fields, LaTeX clean-up, and errors with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.corpus.bibtex import latex_to_text, parse
from assistant.errors import CorpusError

PATH = Path("refs.bib")

BIB = r"""% A comment line that mentions @article{fake, title={no}} is ignored.
@string{acl = "Proceedings of ACL"}
@comment{ a {nested} comment with @misc{inside} }
@preamble{ "\newcommand{\noop}[1]{}" }

Free text between entries is a comment too, even with an email: me@example.org.

@Article{Devlin2019BERT,
  title    = {{BERT}: Pre-training of Deep {B}idirectional Transformers},
  abstract = "We introduce {BERT}, a ``new'' model with {"}quoted{"} words and 5\% more {\it style}.",
  author   = {Devlin, Jacob and Chang, Ming-Wei and {Barnes and Noble} and others},
  year     = 2019,
  month    = jun,
  booktitle = acl # " 2019",
  doi      = {https://doi.org/10.18653/v1/N19-1423},
}

@inproceedings(mueller-2020,
  title = "M{\"u}ller's {\textbf{Nested {Braces}}} Paper",
  abstract = {An abstract {with {deeply {nested}}} braces.},
  date = {2020-05-04},
  url = {https://example.org/paper}
)
"""


def test_entries_and_fields() -> None:
    bert, mueller = parse(BIB, PATH)
    assert bert.id == "Devlin2019BERT"
    assert bert.title == "BERT: Pre-training of Deep Bidirectional Transformers"
    assert bert.abstract == 'We introduce BERT, a "new" model with "quoted" words and 5% more style.'
    assert bert.authors == ["Jacob Devlin", "Ming-Wei Chang", "Barnes and Noble"]
    assert (bert.year, bert.date) == (2019, "2019-06")
    assert bert.url == "https://doi.org/10.18653/v1/N19-1423"
    assert bert.sources == ["refs.bib:8"]
    assert mueller.title == "Müller's Nested Braces Paper"
    assert mueller.abstract == "An abstract with deeply nested braces."
    assert (mueller.year, mueller.date, mueller.url) == (2020, "2020-05-04", "https://example.org/paper")
    assert mueller.sources == ["refs.bib:18"]


def test_year_only_and_no_year() -> None:
    text = "@misc{a, title={A}, abstract={A.}, year={2021}}\n@misc{b, title={B}, abstract={B.}}\n"
    a, b = parse(text, PATH)
    assert (a.year, a.date) == (2021, "2021")
    assert (b.year, b.date) == (None, None)


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        ("{BERT}", "BERT"),
        (r"\emph{Deep} {\bf Learning}", "Deep Learning"),
        (r"Na\"{\i}ve \"Ozg\"ur {\O}rsted \c{c}a \v{S}", "Naïve Özgür Ørsted ça Š"),
        (r"\& \% \$ \_ \{x\}", "& % $ _ {x}"),
        (r"$\alpha$-Nets~and \textbf{\emph{nested}} commands", "alpha-Nets and nested commands"),
    ],
)
def test_latex_to_text(latex: str, text: str) -> None:
    assert latex_to_text(latex) == text


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("@misc{ok, title={T}, abstract={A.}}\n\n@article{k,\n  abstract = {A.}\n}\n", 3, "@article{k} has no title"),
        ("\n@article{k,\n  title = {T},\n}\n", 2, "@article{k} has no abstract"),
        ("@article{k, title = {   }, abstract={A.}}", 1, "has no title"),
        ("@article{k}", 1, "has no title"),
        ("\n\n@article{k,\n  title = {T},\n  abstract = {never closed\n", 3, "unterminated entry @article{k}"),
        ("@article{k,\n  title = {T},\n  abstract = {A.}\n", 1, "unterminated entry"),
        ("@article{k,\n  title {T}}", 2, "expected '=' after field 'title'"),
        ("@article{k,\n  title = {T} abstract = {A.}}", 2, "expected ',' or '}' after field 'title'"),
        ("@article{k,\n  title = ,}", 2, "expected a value"),
        ('@article{k, title = "T}", abstract={A.}}', 1, "unbalanced '}'"),
        ("\n@article k, title={T}}", 2, "expected '{' after the entry type"),
        ("@comment{never closed\n", 1, "unterminated entry @comment"),
    ],
)
def test_errors_name_file_and_line(text: str, line: int, message: str) -> None:
    with pytest.raises(CorpusError, match=rf"^refs\.bib:{line}: ") as info:
        parse(text, PATH)
    assert message in str(info.value)
    assert info.value.line == line


def test_empty_file_has_no_papers() -> None:
    assert parse("% nothing but a comment\n", PATH) == []


def test_nul_byte_is_one_error_line() -> None:
    # A NUL followed by digits once became chr(<digits>) in the old LaTeX clean-up: a traceback.
    for text in (
        "@misc{k, title={T}, abstract={A}}\n\x0099999999999999\x00\n",
        "@misc{k, title={T\x001\x00}, abstract={A}}",
    ):
        with pytest.raises(CorpusError, match=r"^refs\.bib:\d+: NUL byte") as info:
            parse(text, PATH)
        assert "\n" not in str(info.value)
    with pytest.raises(CorpusError, match=r"^refs\.bib:2: "):
        parse("@misc{k, title={T}, abstract={A}}\n\x0012\n", PATH)


def test_concatenation_macros_and_case() -> None:
    text = r"""@string{pre = "Pre"}
@STRING{both = pre # "fix"}
@ARTICLE{k, TITLE = both # { and } # "more", Abstract = {Improves by 5% and 3\%.}, Year = "2021", month = dec}
"""
    (paper,) = parse(text, PATH)
    assert (paper.title, paper.abstract, paper.date) == ("Prefix and more", "Improves by 5% and 3%.", "2021-12")


def test_repeated_keys_and_fields_are_not_errors() -> None:
    text = "@misc{k, title={First}, title={Second}, abstract={A}}\n@misc{k, title={Other}, abstract={B}}\n"
    first, second = parse(text, PATH)
    assert (first.id, first.title, second.id, second.title) == ("k", "First", "k", "Other")
    assert second.sources == ["refs.bib:2"]


def test_url_doi_and_names() -> None:
    text = r"""@misc{k, title={T}, abstract={A},
  url = {https://example.org/a_b%20c},
  author = {van Beethoven, Jr., Ludwig and M{\"u}ller, Hans and Lamport, Leslie and others}}
@misc{j, title={U}, abstract={B}, doi = {doi:10.1/x}}
"""
    k, j = parse(text, PATH)
    assert k.url == "https://example.org/a_b%20c"
    assert k.authors == ["Ludwig van Beethoven Jr.", "Hans Müller", "Leslie Lamport"]
    assert j.url == "https://doi.org/10.1/x"


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        (r"\mbox{BERT} and \OURS and \mycommand{arg}", "BERT and OURS and arg"),
        (r"R&D, $\mathbf{v}_i \leq \frac{a}{b}$ and {\sc caps}", "R&D, v_i leq ab and caps"),
        (r"\href{https://x.org}{code}", "code <https://x.org>"),
        ("plain   text\nacross lines", "plain text across lines"),
    ],
)
def test_latex_to_text_more(latex: str, text: str) -> None:
    assert latex_to_text(latex) == text


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "@misc{k, title={T}, abstract={A}}\n@article{j,\n  title = {T},\n  abstract = {A\n@misc{x, title={T}}",
            2,
            "unterminated entry @article{j}",
        ),
        ("@article{k title={T}}", 1, "expected ',' after the entry key"),
        ("@article{k,\n  title}", 2, "expected '=' after field 'title'"),
        ('@string{x = "a" b}', 1, "expected ',' or '}' after field 'x'"),
        (
            "@article{k, title={T}, abstract={" + "{" * 400 + "A" + "}" * 400 + "}}",
            1,
            "cannot turn its LaTeX into text",
        ),
        ("% @misc{commented, out}\n@article{k, title={T}}\n", 2, "@article{k} has no abstract"),
    ],
)
def test_more_errors_name_file_and_line(text: str, line: int, message: str) -> None:
    with pytest.raises(CorpusError, match=rf"^refs\.bib:{line}: ") as info:
        parse(text, PATH)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
