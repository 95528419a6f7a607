"""Daily Papers page dumps: the plain-text format of the bundled corpus.

An entry is a title line, a blank line, one abstract line, then optional metadata::

    Model Breadcrumbs: Scaling Multi-Task Model Merging with Sparse Masks

    The rapid development of AI systems ...

      • 2 authors            (or an organisation: "AI-at-Meta Meta AI")
    ·
    Dec 11, 2023             ("Jan 23" has no year; "Nov 8 2" ends with the upvote count)

Page chrome ("Subscribe", "Daily Papers", the page's own date ...) comes before the first entry.
The format has no markers for titles and abstracts, so entries are found by position; the only
guesswork is "does this line read like an abstract", used to find the first entry and to
report a missing abstract instead of silently shifting every later entry by one line.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date as Date
from pathlib import Path

from assistant.corpus.records import Problems, new_paper, report
from assistant.errors import CorpusError
from assistant.models import Paper

__all__ = ["parse"]

logger = logging.getLogger(__name__)

_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_AUTHORS = re.compile(r"•\s*(\d{1,12})\s+authors?", re.IGNORECASE)
_SEPARATOR = "·"
# "Apr 15, 2022", "Jan 23", "Nov 8 2", "Jul 3, 2024 3": the last number is the upvote count.
_DATE = re.compile(r"([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:,\s*(\d{4}))?(?:\s+(\d{1,12}))?")
# The longest real title is ~140 characters, the shortest abstract ~1,400.
_MAX_TITLE = 300
_MIN_ABSTRACT = 200


@dataclass(frozen=True)
class _Line:
    number: int
    text: str


@dataclass(frozen=True)
class _Date:
    date: str
    year: int | None
    upvotes: int | None


def _looks_like_abstract(text: str) -> bool:
    return len(text) >= _MIN_ABSTRACT or (text.endswith(".") and len(text.split()) >= 8)


def _parse_date(text: str) -> _Date | None:
    m = _DATE.fullmatch(text)
    if m is None or m.group(1)[:3].lower() not in _MONTHS:
        return None
    month, day = _MONTHS[m.group(1)[:3].lower()], int(m.group(2))
    upvotes = int(m.group(4)) if m.group(4) else None
    if m.group(3) is None:
        # No year on the page: keep what it says, never guess one.
        return _Date(f"{m.group(1)[:3].title()} {day}", None, upvotes)
    try:
        iso = Date(int(m.group(3)), month, day).isoformat()
    except ValueError:
        return None
    return _Date(iso, int(m.group(3)), upvotes)


def _first_entry(lines: list[_Line]) -> int:
    """Index of the first title: the first line followed by something that reads like an abstract."""
    for i in range(len(lines) - 1):
        if not _looks_like_abstract(lines[i].text) and _looks_like_abstract(lines[i + 1].text):
            return i
    return len(lines)


class _Parser:
    def __init__(self, text: str, path: Path, problems: Problems = None) -> None:
        self.path = path
        self.problems = problems
        raw = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self.lines = [_Line(n, s.strip()) for n, s in enumerate(raw, 1) if s.strip()]
        self.i = 0

    def error(self, message: str, line: _Line) -> CorpusError:
        return CorpusError(message, path=self.path, line=line.number)

    def peek(self, ahead: int = 0) -> _Line | None:
        j = self.i + ahead
        return self.lines[j] if j < len(self.lines) else None

    def papers(self) -> list[Paper]:
        self.i = _first_entry(self.lines)
        if self.lines and self.i == len(self.lines):
            # Text but no entry: most likely not a Daily Papers dump at all.
            raise self.error(
                "no paper entries found (expected a title line, a blank line, then an abstract line)",
                self.lines[0],
            )
        if self.i:
            skipped = [line.text for line in self.lines[: self.i]]
            logger.debug("%s: skipped page chrome %r", self.path, skipped)
        papers: list[Paper] = []
        while self.peek() is not None:
            paper = self.entry()
            if paper is not None:
                papers.append(paper)
        return papers

    def entry(self) -> Paper | None:
        title = self.lines[self.i]
        if len(title.text) > _MAX_TITLE or _is_metadata(title.text):
            raise self.error("expected a paper title here (is an abstract split over several lines?)", title)
        abstract, after = self.peek(1), self.peek(2)
        if (
            abstract is None
            or _is_metadata(abstract.text)
            or (not _looks_like_abstract(abstract.text) and after is not None and _looks_like_abstract(after.text))
        ):
            raise self.error(f"paper {title.text!r} has no abstract line; add one or delete the entry", title)
        self.i += 2
        source = f"{self.path.name}:{title.number}"
        fields = {"id": "", "title": title.text, "abstract": abstract.text, "sources": [source]}
        try:
            return new_paper(**(fields | self.metadata()))
        except ValueError as e:  # the entry is read to its end: a skipped one does not shift the next
            report(self.error(f"paper {title.text[:60]!r}: {e}", title), self.problems)
            return None

    def metadata(self) -> dict[str, object]:
        """Consume the optional author count / organisation, '·' and date lines."""
        fields: dict[str, object] = {}
        line = self.peek()
        if line is not None and (m := _AUTHORS.fullmatch(line.text)):
            fields["author_count"] = int(m.group(1))
            self.i += 1
            line = self.peek()
        nxt = self.peek(1)
        # An organisation is only recognisable by its place: the line right before '·'.
        if line is not None and nxt is not None and nxt.text == _SEPARATOR and line.text != _SEPARATOR:
            fields["organization"] = line.text
            self.i += 1
            line = self.peek()
        if line is None or line.text != _SEPARATOR:
            return fields
        self.i += 1
        date_line = self.peek()
        parsed = _parse_date(date_line.text) if date_line is not None else None
        if date_line is None or parsed is None:
            raise self.error("expected a date like 'Apr 15, 2022' or 'Jan 23' after '·'", date_line or line)
        fields.update(date=parsed.date, year=parsed.year, upvotes=parsed.upvotes)
        self.i += 1
        return fields


def _is_metadata(text: str) -> bool:
    return text == _SEPARATOR or _AUTHORS.fullmatch(text) is not None


def parse(text: str, path: Path, problems: Problems = None) -> list[Paper]:
    """Papers of one Daily Papers dump, in file order, with ``id`` left empty.

    An entry with a bad value fails the file, or is skipped and added to ``problems`` when that
    is a list; a file whose layout is broken always fails (later entries could not be trusted)."""
    papers = _Parser(text, Path(path), problems).papers()
    logger.debug("%s: %d entries", path, len(papers))
    return papers
