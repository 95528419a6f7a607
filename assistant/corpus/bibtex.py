"""BibTeX corpora, split into blocks by bibtexparser and decoded to plain text by pylatexenc.

Every entry type (``@article``, ``@inproceedings``, ``@misc`` ...) is a paper and must have a
``title`` and an ``abstract``; ``year``, ``month``, ``date``, ``author``, ``doi``, ``url`` and
``organization`` are read when present, and so are the fields `review export` adds so that a round
trip keeps every ``Paper`` field: ``author_count``, ``upvotes`` and ``sources`` (the files the
paper was first read from, ``;``-separated; the .bib file read now is added after them).
``@comment`` and ``@preamble`` are skipped; ``@string`` macros are expanded, ``#`` concatenates.
Text outside entries is a comment, as in BibTeX itself; so is an ``@`` on a line starting with
``%``. LaTeX markup is reduced to plain text: ``{BERT}`` -> ``BERT``,
``{\\"u}`` -> ``ü``, ``\\emph{x}`` -> ``x``, ``$\\alpha$`` -> ``alpha``.

bibtexparser only splits the file (``parse_stack=[]``): its middlewares resolve a macro only when
it is a field's whole value, know no ``#``, skip entries with a duplicate key, and would
LaTeX-decode URLs; values are read here, so every entry is read alike and every mistake
becomes one ``CorpusError`` naming the file and line.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import bibtexparser
from bibtexparser import model
from bibtexparser.middlewares.names import parse_single_name_into_parts, split_multiple_persons_names
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, SpecialsTextSpec, get_default_latex_context_db
from pylatexenc.latexwalker import LatexMacroNode
from pylatexenc.latexwalker import get_default_latex_context_db as get_default_walker_context_db
from pylatexenc.macrospec import MacroSpec

from assistant.corpus.records import Problems, new_paper, report
from assistant.errors import CorpusError
from assistant.models import Paper

__all__ = ["latex_to_text", "parse", "parse_authors"]

_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_COMMENT_LINE = re.compile(r"^[ \t]*%.*$", re.MULTILINE)
# bibtexparser reads '@type' not followed by '{' as comment text; BibTeX users meant an entry.
_STRAY_ENTRY = re.compile(r"^[ \t]*@([A-Za-z]+)", re.MULTILINE)
_HEAD = re.compile(r"@(\w*)\s*([{(])\s*([^\s,{}()]*)")
_FOUND = re.compile(r"found (?:the end of the entry \()?`?([^`\s])")
_NAME = re.compile(r"[A-Za-z0-9_\-:.+/]+")
_PIECE = re.compile(r'\s*(?:([{"])|([A-Za-z0-9_\-:.+/]+))')
_BRACE_OR_QUOTE = re.compile(r'\\.|[{}"]', re.DOTALL)
_PERCENT = re.compile(r"(?<!\\)%")
# What pylatexenc would change; text without any of it skips pylatexenc, which is slow (~10 µs a character).
_MARKUP = re.compile(r"[\\{}$~%&]|``|''|--|[!?]`")


class _Decoder(LatexNodes2Text):
    """pylatexenc's decoder, but a macro it has no text for gives its argument, or else its name.

    In math every macro does: ``$\\alpha$`` is found by "alpha" and ``$\\mathbf{v}$`` reads "v".
    Unknown to pylatexenc, ``\\mbox{x}`` would lose its "x" and ``\\OURS`` would vanish.
    """

    def macro_node_to_text(self, node: LatexMacroNode) -> str:
        """The macro's text: pylatexenc's where it has one, else its argument or name."""
        if not node.parsing_state.in_math_mode and self.latex_context.get_macro_spec(node.macroname):
            return super().macro_node_to_text(node)
        args = [a for a in (node.nodeargd.argnlist or []) if a is not None] if node.nodeargd else []
        if args:
            return "".join(self.node_to_text(a) for a in args)
        if node.parsing_state.s.startswith("{", node.pos + node.len):
            return ""  # \foo{x} with an argument pylatexenc did not expect: the group that follows is the text
        return node.macroname + node.macro_post_space


# Font switches like {\it text} and spacing commands carry no text of their own.
_NO_TEXT = "it bf em sc rm tt sf sl small large Large normalfont itshape bfseries scshape relax protect xspace".split()
# Set up as bibtexparser's LatexDecodingMiddleware sets up its decoder, plus the few characters
# whose LaTeX meaning is not what a BibTeX value means: ``quotes'' and a bare &.
_CONTEXT = get_default_latex_context_db()
_CONTEXT.add_context_category(
    "review",
    prepend=True,
    macros=[MacroTextSpec("url", "%s"), MacroTextSpec("LaTeX", "LaTeX"), MacroTextSpec("TeX", "TeX")]
    + [MacroTextSpec(name, discard=False) for name in ("title", "author", "date")]  # not saved for \maketitle
    + [MacroTextSpec(name, discard=True) for name in _NO_TEXT],
    specials=[SpecialsTextSpec("``", '"'), SpecialsTextSpec("''", '"'), SpecialsTextSpec("&", "&")],
)
# pylatexenc's parser does not know \href takes two arguments, and its text for \href crashes without them.
_MACROS = get_default_walker_context_db()
_MACROS.add_context_category("review", prepend=True, macros=[MacroSpec("href", "{{")])
_DECODER = _Decoder(latex_context=_CONTEXT, math_mode="text")
# Each block bibtexparser gives up on becomes a CorpusError; its own multi-line warning would say it twice.
logging.getLogger("bibtexparser.splitter").setLevel(logging.ERROR)


def latex_to_text(value: str) -> str:
    """Plain text from a BibTeX field value: accents resolved, commands and braces dropped."""
    if not _MARKUP.search(value):
        return " ".join(value.split())
    # In BibTeX a bare % is a percent sign ("5% better"); to LaTeX it starts a comment.
    return " ".join(_DECODER.latex_to_text(_PERCENT.sub(r"\\%", value), latex_context=_MACROS).split())


def parse_authors(raw: str) -> list[str]:
    """Plain-text names from a BibTeX ``author`` value ('A and B', 'Last, First', braces kept together)."""
    # Not strict: "Smith, J., Jones, K." is a sloppy name, not a reason to refuse the file.
    parts = (parse_single_name_into_parts(name, strict=False) for name in split_multiple_persons_names(raw))
    names = [latex_to_text(p.merge_first_name_first) for p in parts]
    return [n for n in names if n and n.lower() != "others"]


class _BadValue(Exception):
    def __init__(self, message: str, raw: str, pos: int) -> None:
        super().__init__(message + (f", found {raw[pos]!r}" if pos < len(raw) else ""))
        self.newlines = raw.count("\n", 0, pos)


def _closing(raw: str, start: int, close: str) -> int:
    """Index of the ``close`` (brace or quote) that ends the piece opened before ``start``."""
    depth = 0
    for m in _BRACE_OR_QUOTE.finditer(raw, start):
        if depth == 0 and m.group() == close:
            return m.start()
        depth += {"{": 1, "}": -1}.get(m.group(), 0)
        if depth < 0:
            raise _BadValue("unbalanced '}'", raw, m.start())
    raise _BadValue(f"no closing {close!r}", raw, start - 1)


def _value(raw: str, strings: dict[str, str], name: str, close: str) -> str:
    """One field value: pieces ({...}, "...", number, macro) joined by '#'."""
    pieces, pos = [], 0
    while True:
        m = _PIECE.match(raw, pos)
        if m is None:
            raise _BadValue("expected a value", raw, len(raw) - len(raw[pos:].lstrip()))
        if m.group(2):
            word, pos = m.group(2), m.end()
            pieces.append(word if word.isdigit() else strings.get(word.lower(), word))
        else:
            end = _closing(raw, m.end(), "}" if m.group(1) == "{" else '"')
            pieces.append(raw[m.end() : end])
            pos = end + 1
        rest = raw[pos:].lstrip()
        if not rest:
            return "".join(pieces)
        if not rest.startswith("#"):
            raise _BadValue(f"expected ',' or '{close}' after field '{name}'", raw, len(raw) - len(rest))
        pos = len(raw) - len(rest) + 1


def _label(block: model.Block) -> tuple[str, str]:
    """``@article{key}`` (``@comment`` for blocks without a key) and the closing delimiter."""
    m = _HEAD.match(block.raw or "")
    kind, close, key = (m.group(1).lower(), ")" if m.group(2) == "(" else "}", m.group(3)) if m else ("", "}", "")
    return (f"@{kind}" if kind in ("comment", "preamble", "string") else f"@{kind}{{{key}}}"), close


def _failure(block: model.ParsingFailedBlock, path: Path) -> CorpusError:
    """One line in review's own words for a block that bibtexparser's splitter gave up on."""
    label, _ = _label(block)
    raw, start = block.raw or "", (block.start_line or 0) + 1
    line = start + raw.count("\n")  # the splitter stops right at the mistake
    reason = str(getattr(block.error, "abort_reason", block.error))
    found = f", found {m.group(1)!r}" if (m := _FOUND.search(reason)) else ""
    if reason.startswith("Unexpectedly reached end of file"):
        return CorpusError(f"unterminated entry {label}: the file ends before its closing brace", path=path, line=start)
    if reason.startswith("Unexpected block start"):
        message = f"unterminated entry {label}: a new entry starts on a later line before its closing brace"
        return CorpusError(message, path=path, line=start)
    if "`=`" in reason or "equals sign" in reason:
        words = re.split(r"[,{(]", raw.rstrip("})"))[-1].split()  # 'title' or 'title}' or 'ti tle'
        found = f", found {words[1][0]!r}" if len(words) > 1 else found
        what = f"'=' after field '{words[0]}'" if words else "a field name"
        return CorpusError(f"{label}: expected {what}{found}", path=path, line=line)
    if "comma after entry key" in reason:
        return CorpusError(f"{label}: expected ',' after the entry key{found}", path=path, line=line)
    return CorpusError(f"{label}: {' '.join(reason.split())}", path=path, line=line)


def _read(key: str, raw: str, strings: dict[str, str], block: model.Block, line: int, path: Path) -> str:
    """The value of field (or macro) ``key``; ``line`` is where its ``=`` stands."""
    label, close = _label(block)
    if not _NAME.fullmatch(key):
        raise CorpusError(f"{label}: expected a field name, found {key[:1] or '='!r}", path=path, line=line)
    try:
        return _value(raw, strings, key, close)
    except _BadValue as e:
        raise CorpusError(f"{label}: {e}", path=path, line=line + e.newlines) from None


def _paper(entry: model.Entry, strings: dict[str, str], path: Path) -> Paper:
    fields: dict[str, str] = {}
    for f in entry.fields:  # the first of repeated fields wins, as in BibTeX
        fields.setdefault(f.key.lower(), _read(f.key, f.value, strings, entry, (f.start_line or 0) + 1, path))
    label, _ = _label(entry)
    line = (entry.start_line or 0) + 1
    # pylatexenc recurses once per nested group, and trips over e.g. an \href without its arguments.
    try:
        title, abstract = latex_to_text(fields.get("title", "")), latex_to_text(fields.get("abstract", ""))
        authors = parse_authors(fields.get("author", ""))
        organization = latex_to_text(fields.get("organization", "")) or None
        earlier = [x for x in (latex_to_text(v) for v in fields.get("sources", "").split(";")) if x]
    except Exception as e:
        message = f"entry {label}: cannot turn its LaTeX into text ({type(e).__name__}); simplify the markup"
        raise CorpusError(message, path=path, line=line) from None
    if not title:
        raise CorpusError(f"entry {label} has no title; add a title field", path=path, line=line)
    if not abstract:
        raise CorpusError(
            f"entry {label} has no abstract; add an abstract field or remove the entry", path=path, line=line
        )
    year_match = re.search(r"\d{4}", fields.get("year", "") or fields.get("date", ""))
    year = int(year_match.group()) if year_match else None
    date = fields.get("date", "").strip() or _year_month(year, fields.get("month", ""))
    url = fields.get("url", "").strip() or (f"https://doi.org/{_doi(fields['doi'])}" if fields.get("doi") else None)
    try:
        return new_paper(
            id=entry.key,
            title=title,
            abstract=abstract,
            year=year,
            date=date,
            authors=authors,
            url=url,
            organization=organization,
            # Checked by the Paper model: a value that is not a whole number fails the entry, as in JSONL.
            author_count=fields.get("author_count", "").strip() or None,
            upvotes=fields.get("upvotes", "").strip() or None,
            sources=[*earlier, f"{path.name}:{line}"],
        )
    except ValueError as e:
        raise CorpusError(f"entry {label}: {e}", path=path, line=line) from None


def _doi(value: str) -> str:
    return re.sub(r"^(https?://(dx\.)?doi\.org/|doi:)", "", value.strip(), flags=re.IGNORECASE)


def _year_month(year: int | None, month: str) -> str | None:
    """'2023-12' from year 2023 and month 'dec' / 'December' / '12'; '2023' from the year alone."""
    if year is None:
        return None
    month = month.strip().lower()
    number = int(month) if month.isdecimal() and len(month) <= 2 else _MONTHS.get(month[:3])
    return f"{year}-{number:02d}" if number and 1 <= number <= 12 else str(year)


def parse(text: str, path: Path, problems: Problems = None) -> list[Paper]:
    """Papers of one BibTeX file, in file order, with ``id`` set to the entry key.

    A bad entry fails the file, or is skipped and added to ``problems`` when that is a list."""
    path = Path(path)
    if (nul := text.find("\0")) != -1:
        line = text.count("\n", 0, nul) + 1
        raise CorpusError("NUL byte: this is not a text file; re-save it as UTF-8 text", path=path, line=line)
    text = _COMMENT_LINE.sub(lambda m: m.group().replace("@", " "), text)  # same length: lines keep their numbers
    strings: dict[str, str] = {}
    papers = []
    for block in bibtexparser.parse_string(text, parse_stack=[]).blocks:
        if isinstance(block, model.DuplicateBlockKeyBlock | model.DuplicateFieldKeyBlock):
            # A repeated key is no error: the first field wins, and read_papers sorts out repeated ids.
            block = block.ignore_error_block
        if isinstance(block, model.ParsingFailedBlock):
            report(_failure(block, path), problems)
            continue
        if isinstance(block, model.ImplicitComment) and (m := _STRAY_ENTRY.search(block.comment)):
            line = (block.start_line or 0) + 1 + block.comment.count("\n", 0, m.start())
            raise CorpusError(f"@{m.group(1)}: expected '{{' after the entry type", path=path, line=line)
        if isinstance(block, model.String):
            strings[block.key.lower()] = _read(
                block.key, block.value, strings, block, (block.start_line or 0) + 1, path
            )
        elif isinstance(block, model.Entry):
            try:
                papers.append(_paper(block, strings, path))
            except CorpusError as e:
                report(e, problems)
    return papers
