"""Papers out of the index: BibTeX (keys are the paper ids) and JSON Lines.

    papers_to_bibtex(papers) -> str    # read back by `review ingest refs.bib`, every field kept

The BibTeX is written for two readers. For LaTeX users it is ordinary ``@misc`` entries: the
title double-braced so styles keep its capitals, ``& % $ # _ { } ~ \\`` escaped, ``year`` and
``month`` beside the free-form ``date``, unicode left as UTF-8. For ``assistant.corpus.bibtex``
it is exact: every text value decodes back to the very string it came from, and the fields no
BibTeX style knows (``author_count``, ``upvotes``, ``sources``) are written too, since styles
ignore unknown fields. Two values come back normalised: a ``date`` that was missing reads back
as the year (BibTeX has no year without a date), and the .bib file is added to ``sources``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable

from assistant.models import Answer, Outline, Paper

__all__ = ["cited_ids", "latex_escape", "papers_to_bibtex", "papers_to_jsonl"]

log = logging.getLogger(__name__)

# What LaTeX (and pylatexenc, which reads the values back) would not take as plain text.
_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
}
_SPECIALS = re.compile(r"[\\{}$%&#_~]")
# Pairs LaTeX turns into one character (-- is an en dash, `` a quote, !` an inverted !): an
# empty group between them keeps both characters.
_LIGATURE = re.compile(r"(?<=-)(?=-)|(?<=`)(?=`)|(?<=')(?=')|(?<=[!?])(?=`)")
# A BibTeX key must not hold what ends or splits an entry head.
_BAD_KEY = re.compile(r"[\s,{}()\"#%'=\\]")
_ISO_MONTH = re.compile(r"(\d{4})-(\d{2})(?:-\d{2})?")
_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()


def latex_escape(text: str) -> str:
    """Plain text as a BibTeX/LaTeX value that decodes back to exactly ``text``."""
    escaped = _SPECIALS.sub(lambda m: _SPECIAL[m.group()], text.replace("\0", ""))
    return _LIGATURE.sub("{}", escaped)


def _verbatim(value: str) -> bool:
    """True when ``{value}`` ends at its last brace as the importer reads it (a backslash escapes the next character)."""
    depth = 0
    for m in re.finditer(r"\\.|[{}]", value + "}", re.DOTALL):
        if depth == 0 and m.group() == "}":
            return m.start() == len(value)
        depth += {"{": 1, "}": -1}.get(m.group(), 0)
    return False


def _raw(value: str, field: str, paper_id: str) -> str:
    """A value the importer reads verbatim (url, date), braced; braces and backslashes that would end it early are replaced."""
    value = value.replace("\0", "")
    if not _verbatim(value):
        # URLs have an escape for these characters; dates do not need them.
        if field == "url":
            fixed = value.replace("\\", "%5C").replace("{", "%7B").replace("}", "%7D")
        else:
            fixed = re.sub(r"[{}\\]", "", value)
        log.warning("paper %r: its %s cannot be written verbatim in BibTeX; written as %r", paper_id, field, fixed)
        value = fixed
    return "{" + value + "}"


def _authors(paper: Paper) -> str:
    """The ``author`` value: names as BibTeX parses them, each braced whole when it would not read back."""
    from assistant.corpus.bibtex import parse_authors

    # bibtexparser counts braces in names, escaped or not: a literal brace is a macro here.
    escaped = [latex_escape(a).replace(r"\{", r"\lbrace{}").replace(r"\}", r"\rbrace{}") for a in paper.authors]
    # "Jane Q. Doe" stays plain so styles can abbreviate it; "Doe, Jane" or "R and D Team" would be
    # reordered or split, so braces keep them as written.
    alone = [parse_authors(e) == [a] for a, e in zip(paper.authors, escaped)]
    # Names that read back alone can still read differently beside others (a macro right after
    # "and"): brace those with macros next, then every name.
    for keep in (alone, [ok and "\\" not in e for ok, e in zip(alone, escaped)], [False] * len(escaped)):
        value = " and ".join(e if plain else "{" + e + "}" for e, plain in zip(escaped, keep))
        if parse_authors(value) == paper.authors:
            break
    else:
        log.warning("paper %r: its authors will not read back exactly from BibTeX", paper.id)
    return "{" + value + "}"


def _fields(paper: Paper) -> list[tuple[str, str]]:
    """(field, enclosed value) pairs of one entry, in the order a reader expects them."""
    fields = [("title", "{{" + latex_escape(paper.title) + "}}")]
    if paper.authors:
        fields.append(("author", _authors(paper)))
    if paper.year is not None:
        fields.append(("year", str(paper.year)))
        m = _ISO_MONTH.fullmatch(paper.date or "")
        if m and int(m.group(1)) == paper.year and 1 <= int(m.group(2)) <= 12:
            fields.append(("month", _MONTHS[int(m.group(2)) - 1]))  # a macro, as BibTeX styles expect
    if paper.date:
        fields.append(("date", _raw(paper.date, "date", paper.id)))
    if paper.url:
        fields.append(("url", _raw(paper.url, "url", paper.id)))
    if paper.organization:
        fields.append(("organization", "{" + latex_escape(paper.organization) + "}"))
    fields.append(("abstract", "{" + latex_escape(paper.abstract) + "}"))
    if paper.author_count is not None:
        fields.append(("author_count", str(paper.author_count)))
    if paper.upvotes is not None:
        fields.append(("upvotes", str(paper.upvotes)))
    if paper.sources:
        fields.append(("sources", "{" + "; ".join(latex_escape(s) for s in paper.sources) + "}"))
    return fields


def papers_to_bibtex(papers: Iterable[Paper]) -> str:
    """BibTeX entries for ``papers`` in the order given, keyed by paper id (a repeated id is written once)."""
    import bibtexparser
    from bibtexparser import model

    library = bibtexparser.Library()
    seen: set[str] = set()
    for paper in papers:
        if paper.id in seen:
            continue
        if not paper.id or _BAD_KEY.search(paper.id):
            raise ValueError(f"paper id {paper.id!r} cannot be a BibTeX key (no spaces, commas, braces or quotes)")
        seen.add(paper.id)
        fields = [model.Field(key, value) for key, value in _fields(paper)]
        library.add(model.Entry("misc", paper.id, fields))
    if not library.entries:
        return ""
    fmt = bibtexparser.BibtexFormat()
    fmt.indent = "  "
    fmt.block_separator = "\n"
    # The values are enclosed above: bibtexparser's default middleware would brace them again.
    return bibtexparser.write_string(library, unparse_stack=[], bibtex_format=fmt)


def papers_to_jsonl(papers: Iterable[Paper]) -> str:
    """One JSON object per paper and line: every ``Paper`` field, as `review ingest` reads JSON Lines."""
    return "".join(json.dumps(p.model_dump(mode="json"), ensure_ascii=False) + "\n" for p in papers)


def cited_ids(result: Answer | Outline) -> list[str]:
    """Ids of the papers an answer or an outline cites, in the order of its numbered references."""
    return [r.paper_id for r in result.references]
