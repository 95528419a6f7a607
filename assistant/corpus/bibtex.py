"""BibTeX corpora, parsed by hand: papers need only a handful of fields, not a dependency.

Every entry type (``@article``, ``@inproceedings``, ``@misc`` ...) is a paper and must have a
``title`` and an ``abstract``; ``year``, ``month``, ``date``, ``author``, ``doi`` and ``url``
are read when present. ``@comment`` and ``@preamble`` are skipped; ``@string`` macros are
expanded. Text outside entries is a comment, as in BibTeX itself. LaTeX markup is reduced to
plain text: ``{BERT}`` -> ``BERT``, ``{\\"u}`` -> ``ü``, ``\\emph{x}`` -> ``x``.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from pathlib import Path
from typing import NoReturn

from assistant.errors import CorpusError
from assistant.models import Paper

__all__ = ["latex_to_text", "parse"]

_ENTRY_START = re.compile(r"([A-Za-z]+)\s*([{(])")
_WORD = re.compile(r"[A-Za-z]+")
_KEY = re.compile(r"[^\s,{}()]*")
_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_NAME = re.compile(r"[A-Za-z0-9_\-:.+/]+")
# LaTeX accent commands and the Unicode combining mark each one stands for.
_ACCENTS = {
    '"': "\u0308",
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "u": "\u0306",
    "v": "\u030c",
    "H": "\u030b",
    "c": "\u0327",
    "k": "\u0328",
    "r": "\u030a",
}
_SYMBOLS = {
    "ss": "ß",
    "o": "ø",
    "O": "Ø",
    "ae": "æ",
    "AE": "Æ",
    "oe": "œ",
    "OE": "Œ",
    "aa": "å",
    "AA": "Å",
    "l": "ł",
    "L": "Ł",
    "i": "ı",
    "j": "ȷ",
    "LaTeX": "LaTeX",
    "TeX": "TeX",
}
# Font switches like {\it text} carry no text of their own.
_SWITCHES = {"it", "bf", "em", "sc", "rm", "tt", "sf", "sl", "small", "large", "Large", "normalfont"}


def _command(name: str, arg: str | None) -> str:
    if name in _ACCENTS and arg is not None:
        base = arg.strip("{} ")
        if base.startswith("\\"):  # \'{\i} is í, \"{\o} is ø̈
            base = _SYMBOLS.get(base[1:], base[1:]).replace("ı", "i").replace("ȷ", "j")
        return unicodedata.normalize("NFC", base[:1] + _ACCENTS[name] + base[1:]) if base else ""
    if name in _SYMBOLS:
        return _SYMBOLS[name] + (arg or "")
    if name in _SWITCHES:
        return arg or ""
    return arg if arg is not None else name  # \emph{x} -> x, \alpha -> alpha


_ESCAPE = re.compile(r"\\([&%$#_{}])")
_ACCENT = re.compile(r"""\\(["'`^~=.])\s*(\{\\?[A-Za-z]*\}|\\?[A-Za-z])""")
_LETTER_ACCENT = re.compile(r"\\([uvHckr])(?:\s+|(?=\{))(\{\\?[A-Za-z]*\}|\\?[A-Za-z])")
# A brace group without nested braces, with the command it is the argument of, if any.
_GROUP = re.compile(r"(?:\\([A-Za-z]+)\s*)?\{([^{}]*)\}")
_BARE_COMMAND = re.compile(r"\\([A-Za-z]+)")


def _bare_commands(text: str) -> str:
    return _BARE_COMMAND.sub(lambda m: _command(m.group(1), None), text)


def _group(m: re.Match[str]) -> str:
    if m.group(1) is not None:
        return _command(m.group(1), m.group(2))
    # Resolve commands before the braces go: {\O}rsted must not become the command \Orsted.
    return _bare_commands(m.group(2))


def latex_to_text(value: str) -> str:
    """Plain text from a BibTeX field value: accents resolved, commands and braces dropped."""
    # Escaped specials become placeholders so no later step mistakes \{ for a group.
    text = _ESCAPE.sub(lambda m: f"\x00{ord(m.group(1))}\x00", value.replace("\\\\", " "))
    text = _ACCENT.sub(lambda m: _command(m.group(1), m.group(2)), text)
    text = _LETTER_ACCENT.sub(lambda m: _command(m.group(1), m.group(2)), text)
    previous = None
    while previous != text:  # innermost groups first: \textbf{\emph{x} y}
        previous = text
        text = _GROUP.sub(_group, text)
    text = _bare_commands(text)
    text = text.replace("{", "").replace("}", "").replace("$", "").replace("~", " ")
    text = text.replace("``", '"').replace("''", '"')
    text = re.sub(r"\x00(\d+)\x00", lambda m: chr(int(m.group(1))), text)
    return " ".join(text.split())


def _author_name(raw: str) -> str:
    name = latex_to_text(raw)
    if name.count(",") == 1:  # "Vaswani, Ashish" -> "Ashish Vaswani"
        last, first = (p.strip() for p in name.split(","))
        name = f"{first} {last}".strip()
    return name


def _split_authors(raw: str) -> list[str]:
    """Split on ' and ' outside braces: {Barnes and Noble} is one name."""
    parts, depth, start = [], 0, 0
    for m in re.finditer(r"[{}]|\s+and\s+", raw, flags=re.IGNORECASE):
        token = m.group()
        if token in "{}":
            depth += 1 if token == "{" else -1
        elif depth == 0:
            parts.append(raw[start : m.start()])
            start = m.end()
    parts.append(raw[start:])
    names = [_author_name(p) for p in parts if p.strip()]
    return [n for n in names if n and n.lower() != "others"]


class _Parser:
    def __init__(self, text: str, path: Path) -> None:
        self.text, self.path, self.pos = text, path, 0
        self.newlines = [i for i, ch in enumerate(text) if ch == "\n"]
        self.strings: dict[str, str] = {m: m for m in _MONTHS}

    def line(self, pos: int) -> int:
        return bisect.bisect_left(self.newlines, pos) + 1

    def error(self, message: str, pos: int) -> CorpusError:
        return CorpusError(message, path=self.path, line=self.line(pos))

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def fail(self, what: str, entry_start: int, label: str) -> NoReturn:
        if self.pos >= len(self.text):
            raise self.error(f"unterminated entry {label}: the file ends before its closing brace", entry_start)
        raise self.error(f"{label}: expected {what}, found {self.text[self.pos]!r}", self.pos)

    def expect(self, chars: str, what: str, entry_start: int, label: str) -> str:
        self.skip_ws()
        if self.pos >= len(self.text) or self.text[self.pos] not in chars:
            self.fail(what, entry_start, label)
        self.pos += 1
        return self.text[self.pos - 1]

    def balanced(self, close: str, entry_start: int, label: str) -> str:
        """Text up to the matching ``close`` (a brace or a quote), braces nested inside."""
        depth, start = 0, self.pos
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "\\":
                self.pos += 2
                continue
            if depth == 0 and ch == close:
                self.pos += 1
                return self.text[start : self.pos - 1]
            depth += {"{": 1, "}": -1}.get(ch, 0)
            if depth < 0:
                raise self.error(f"{label}: unbalanced '}}'", self.pos)
            self.pos += 1
        raise self.error(f"unterminated entry {label}: the file ends before its closing brace", entry_start)

    def value(self, entry_start: int, label: str) -> str:
        """One field value: pieces ({...}, "...", number, macro) joined by '#'."""
        pieces = []
        while True:
            self.skip_ws()
            ch = self.text[self.pos] if self.pos < len(self.text) else ""
            if ch in ("{", '"'):
                self.pos += 1
                pieces.append(self.balanced("}" if ch == "{" else '"', entry_start, label))
            elif m := _NAME.match(self.text, self.pos):
                self.pos = m.end()
                word = m.group()
                pieces.append(word if word.isdigit() else self.strings.get(word.lower(), word))
            else:
                self.fail("a value", entry_start, label)
            self.skip_ws()
            if not self.text.startswith("#", self.pos):
                return "".join(pieces)
            self.pos += 1

    def fields(self, close: str, entry_start: int, label: str) -> dict[str, str]:
        fields: dict[str, str] = {}
        while True:
            self.skip_ws()
            if self.text.startswith(close, self.pos):
                self.pos += 1
                return fields
            m = _NAME.match(self.text, self.pos)
            if m is None:
                self.fail("a field name", entry_start, label)
            self.pos = m.end()
            self.expect("=", f"'=' after field '{m.group()}'", entry_start, label)
            fields.setdefault(m.group().lower(), self.value(entry_start, label))
            if self.expect("," + close, f"',' or '{close}' after field '{m.group()}'", entry_start, label) == close:
                return fields

    def entries(self) -> list[Paper]:
        papers = []
        while (at := self.text.find("@", self.pos)) != -1:
            self.pos = at + 1
            line_start = self.text.rfind("\n", 0, at) + 1
            before = self.text[line_start:at]
            if before.lstrip().startswith("%"):
                continue  # an '@' in a % comment line
            m = _ENTRY_START.match(self.text, self.pos)
            if m is None:
                word = _WORD.match(self.text, self.pos)
                if word and not before.strip():
                    raise self.error(f"@{word.group()}: expected '{{' after the entry type", at)
                continue  # an '@' inside the comment text between entries, e.g. an email address
            kind, close = m.group(1).lower(), "}" if m.group(2) == "{" else ")"
            self.pos = m.end()
            label = f"@{kind}"
            if kind in ("comment", "preamble"):
                self.balanced(close, at, label)
            elif kind == "string":
                for name, value in self.fields(close, at, label).items():
                    self.strings[name] = value
            else:
                papers.append(self.entry(kind, close, at))
        return papers

    def entry(self, kind: str, close: str, at: int) -> Paper:
        self.skip_ws()
        key_match = _KEY.match(self.text, self.pos)
        key = key_match.group() if key_match else ""
        self.pos += len(key)
        label = f"@{kind}{{{key}}}"
        if self.expect("," + close, "',' after the entry key", at, label) == close:
            fields: dict[str, str] = {}
        else:
            fields = self.fields(close, at, label)
        return self.paper(fields, key, label, at)

    def paper(self, fields: dict[str, str], key: str, label: str, at: int) -> Paper:
        title, abstract = latex_to_text(fields.get("title", "")), latex_to_text(fields.get("abstract", ""))
        if not title:
            raise self.error(f"entry {label} has no title; add a title field", at)
        if not abstract:
            raise self.error(f"entry {label} has no abstract; add an abstract field or remove the entry", at)
        year_match = re.search(r"\d{4}", fields.get("year", "") or fields.get("date", ""))
        year = int(year_match.group()) if year_match else None
        date = fields.get("date", "").strip() or _year_month(year, fields.get("month", ""))
        url = fields.get("url", "").strip() or (f"https://doi.org/{_doi(fields['doi'])}" if fields.get("doi") else None)
        return Paper(
            id=key,
            title=title,
            abstract=abstract,
            year=year,
            date=date,
            authors=_split_authors(fields.get("author", "")),
            url=url,
            sources=[f"{self.path.name}:{self.line(at)}"],
        )


def _doi(value: str) -> str:
    return re.sub(r"^(https?://(dx\.)?doi\.org/|doi:)", "", value.strip(), flags=re.IGNORECASE)


def _year_month(year: int | None, month: str) -> str | None:
    """'2023-12' from year 2023 and month 'dec' / 'December' / '12'; '2023' from the year alone."""
    if year is None:
        return None
    month = month.strip().lower()
    number = int(month) if month.isdigit() else _MONTHS.get(month[:3])
    return f"{year}-{number:02d}" if number and 1 <= number <= 12 else str(year)


def parse(text: str, path: Path) -> list[Paper]:
    """Papers of one BibTeX file, in file order, with ``id`` set to the entry key."""
    return _Parser(text, Path(path)).entries()
