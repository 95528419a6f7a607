"""JSON Lines corpora: one paper per line, ``{"title": ..., "abstract": ...}``.

Required: ``title`` and ``abstract`` (non-empty strings). Optional: ``id``, ``year``, ``date``,
``authors`` (a list, or one string "A; B" / "A, B and C"), ``url``, and the other ``Paper``
fields (``author_count``, ``organization``, ``upvotes``), so ``review --json`` output reads
back in. Unknown keys are ignored. A ``.json`` file holding one JSON array is accepted too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from assistant.corpus.records import Problems, new_paper, report
from assistant.errors import CorpusError
from assistant.models import Paper

__all__ = ["parse"]

_OPTIONAL_STR = ("id", "date", "url", "organization")
_OPTIONAL_INT = ("year", "author_count", "upvotes")


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _required_str(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        got = "missing" if key not in obj else f"got {_type_name(value)} {value!r}"[:80]
        raise ValueError(f"'{key}' must be a non-empty string ({got})")
    return " ".join(value.split())


def _optional_int(obj: dict[str, Any], key: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    # bool is an int subclass; "2023" from a spreadsheet export is fine.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise ValueError(f"'{key}' must be an integer (got {_type_name(value)} {value!r})")


def _authors(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        # "Last, First; Last, First" keeps its commas; otherwise commas and "and" separate.
        parts = value.split(";") if ";" in value else re.split(r",|\band\b", value)
        return [" ".join(p.split()) for p in parts if p.strip()]
    if isinstance(value, list) and all(isinstance(a, str) for a in value):
        return [" ".join(a.split()) for a in value if a.strip()]
    raise ValueError(f"'authors' must be a list of strings or a string (got {_type_name(value)})")


def paper_from_object(obj: object, source: str) -> Paper:
    """One ``Paper`` from a decoded JSON object; ValueError says which field is wrong."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object with 'title' and 'abstract', got {_type_name(obj)}")
    fields: dict[str, Any] = {"title": _required_str(obj, "title"), "abstract": _required_str(obj, "abstract")}
    for key in _OPTIONAL_STR:
        value = obj.get(key)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"'{key}' must be a string (got {_type_name(value)} {value!r})")
        if value is not None and value.strip():
            fields[key] = value.strip()
    for key in _OPTIONAL_INT:
        fields[key] = _optional_int(obj, key)
    if fields["year"] is None and (m := re.search(r"\b(1[89]\d\d|2\d\d\d)\b", fields.get("date", ""))):
        # "2023-12-11" or "Dec 11, 2023" states its year; "Jan 23" does not, and stays year-less.
        fields["year"] = int(m.group(1))
    fields["authors"] = _authors(obj.get("authors"))
    return new_paper(id=fields.pop("id", ""), sources=[source], **fields)


def _decode_error(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "malformed JSON: nested too deeply"
    if isinstance(exc, json.JSONDecodeError):
        return f"malformed JSON ({exc.msg}, column {exc.colno})"  # its msg may end in "at" already
    return f"malformed JSON ({exc})"  # ValueError: e.g. an integer with thousands of digits


def _parse_array(text: str, path: Path, problems: Problems = None) -> list[Paper]:
    """A JSON array of paper objects, decoded item by item so errors can name the line."""
    decoder, papers = json.JSONDecoder(), []
    pos = text.index("[") + 1

    def line(at: int) -> int:
        return text.count("\n", 0, at) + 1

    def skip_ws(at: int) -> int:
        while at < len(text) and text[at].isspace():
            at += 1
        return at

    pos = skip_ws(pos)
    while not text.startswith("]", pos):
        try:
            obj, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            raise CorpusError(f"malformed JSON: {e.msg}", path=path, line=e.lineno) from None
        except (RecursionError, ValueError) as e:
            raise CorpusError(_decode_error(e), path=path, line=line(pos)) from None
        try:
            papers.append(paper_from_object(obj, f"{path.name}:{line(pos)}"))
        except ValueError as e:
            report(CorpusError(str(e), path=path, line=line(pos)), problems)
        pos = skip_ws(end)
        if text.startswith(",", pos):
            pos = skip_ws(pos + 1)
        elif not text.startswith("]", pos):
            raise CorpusError("malformed JSON: expected ',' or ']' between items", path=path, line=line(pos))
    if text[pos + 1 :].strip():
        raise CorpusError("malformed JSON: extra data after the closing ']'", path=path, line=line(pos + 1))
    return papers


def _first_line_is_json(text: str) -> bool:
    """A JSON Lines file whose first record is an array ("[1, 2]" then objects), not one JSON array
    spread over lines: its first line decodes on its own and more lines follow."""
    lines = [line for line in text.split("\n") if line.strip()]
    if len(lines) < 2:
        return False
    try:
        json.loads(lines[0])
    except (RecursionError, ValueError):
        return False
    return True


def parse(text: str, path: Path, problems: Problems = None) -> list[Paper]:
    """Papers of one JSON Lines file (or one JSON array), with ``id`` as the file gives it.

    A bad record fails the file, or is skipped and added to ``problems`` when that is a list."""
    path = Path(path)
    if text.lstrip().startswith("[") and not _first_line_is_json(text):
        return _parse_array(text, path, problems)
    papers = []
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (RecursionError, ValueError) as e:  # JSONDecodeError is a ValueError
            report(CorpusError(f"{_decode_error(e)}; expected one object per line", path=path, line=n), problems)
            continue
        try:
            papers.append(paper_from_object(obj, f"{path.name}:{n}"))
        except ValueError as e:
            report(CorpusError(str(e), path=path, line=n), problems)
    return papers
