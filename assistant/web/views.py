"""Turning results into what a page shows: highlighted passages, cited answers, supporting
sentences. Everything from the corpus is escaped here or by Jinja's autoescape; text is data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from ..text import content_stems, split_sentences

if TYPE_CHECKING:
    from ..models import Answer, Hit, Paper

__all__ = ["answer_blocks", "highlight_terms", "hit_year", "paper_year", "supporting_sentences"]

_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d|2100)\b")
_CITE = re.compile(r"\[(\d+)\]")


def paper_year(paper: Paper) -> int | None:
    """The paper's year: stated, else read from its date."""
    if paper.year:
        return paper.year
    m = _YEAR.search(paper.date or "")
    return int(m.group(1)) if m else None


def hit_year(hit: Hit) -> int | None:
    """A hit's year, read from its date."""
    m = _YEAR.search(hit.date or "")
    return int(m.group(1)) if m else None


def highlight_terms(text: str, query: str) -> Markup:
    """``text`` escaped, with the words that share a stem with the query's content words marked."""
    stems = content_stems(query, 5)
    out = []
    for piece in re.split(r"([A-Za-z][A-Za-z-]+)", text):
        word = piece.lower()
        if piece and piece[0].isalpha() and len(word) > 2 and word[:5] in stems:
            out.append(Markup("<mark>") + escape(piece) + Markup("</mark>"))
        else:
            out.append(escape(piece))
    return Markup("").join(out)


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", text.lower()).split())


def supporting_sentences(abstract: str, statement: str) -> list[int]:
    """Indices of the abstract's sentences that support a statement: those quoted in it, else the
    one sharing the most content words with it (a quoted statement is found verbatim)."""
    sentences = split_sentences(abstract)
    said = _norm(statement)
    quoted = [i for i, s in enumerate(sentences) if _norm(s) and _norm(s) in said]
    if quoted:
        return quoted
    want = content_stems(statement)
    if not want or not sentences:
        return []
    scores = [len(want & content_stems(s)) / (len(want | content_stems(s)) or 1) for s in sentences]
    best = max(range(len(sentences)), key=lambda i: scores[i])
    return [best] if scores[best] > 0 else []


@dataclass
class Cite:
    """One [n] marker of an answer: the paper it names and the sentence that supports it."""

    n: int
    paper_id: str
    title: str
    sentence: str
    statement: str


@dataclass
class Line:
    """A line of an answer: plain text pieces and citations, in order."""

    pieces: list[str | Cite] = field(default_factory=list)
    bullet: bool = False
    emphasis: bool = False


def answer_blocks(answer: Answer, papers: dict[str, Paper]) -> list[list[Line]]:
    """The answer as paragraphs of lines, each [n] resolved to its paper and supporting sentence.

    Bullet lines are the supported statements, in order (as ``ask`` composes them)."""
    refs = {r.n: r for r in answer.references}
    statements = iter([s for s in answer.statements if s.supported])
    blocks = []
    for para in answer.answer.split("\n\n"):
        lines = []
        for raw in para.split("\n"):
            line = Line(bullet=raw.startswith("- "))
            text = raw[2:] if line.bullet else raw
            if text.startswith("_") and text.endswith("_") and len(text) > 1:
                line.emphasis, text = True, text[1:-1]
            statement = next(statements, None) if line.bullet else None
            said = statement.text if statement is not None else text
            pos = 0
            for m in _CITE.finditer(text):
                ref = refs.get(int(m.group(1)))
                if ref is None:
                    continue
                line.pieces.append(text[pos : m.start()])
                paper = papers.get(ref.paper_id)
                sentence = ""
                if paper is not None:
                    found = supporting_sentences(paper.abstract, said)
                    sentence = " ".join(split_sentences(paper.abstract)[i] for i in found)
                line.pieces.append(Cite(ref.n, ref.paper_id, ref.title, sentence, said))
                pos = m.end()
            line.pieces.append(text[pos:])
            lines.append(line)
        blocks.append(lines)
    return blocks
