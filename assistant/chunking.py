"""Sentence splitting and sentence-aware chunk windows over an abstract."""

from __future__ import annotations

import re

from .models import Chunk, Paper

__all__ = ["chunk_paper", "split_sentences"]

# Tokens ending in '.' that rarely end a sentence in abstracts.
_ABBREVIATIONS = {
    "e.g",
    "i.e",
    "et al",
    "al",
    "etc",
    "vs",
    "fig",
    "figs",
    "eq",
    "eqs",
    "sec",
    "ref",
    "refs",
    "approx",
    "cf",
    "resp",
    "no",
    "dr",
    "mr",
    "ms",
    "prof",
    "st",
    "u.s",
    "inc",
    "ltd",
}
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    """Split an abstract into sentences; abbreviations and decimals do not end one."""
    text = " ".join(text.split())
    if not text:
        return []
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        candidate = text[start : match.start()].rstrip()
        last_word = candidate.rsplit(" ", 1)[-1].rstrip(".!?\"')]").lower()
        if last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
            continue
        sentences.append(text[start : match.end()].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def chunk_paper(paper: Paper, sentences_per_chunk: int = 3, overlap: int = 1) -> list[Chunk]:
    """Windows of ``sentences_per_chunk`` sentences sharing ``overlap`` with the previous one."""
    if overlap >= sentences_per_chunk:
        overlap = sentences_per_chunk - 1
    sentences = split_sentences(paper.abstract) or [paper.title]
    step = sentences_per_chunk - overlap
    chunks: list[Chunk] = []
    start = 0
    while True:
        end = min(start + sentences_per_chunk, len(sentences))
        chunks.append(
            Chunk(
                id=f"{paper.id}#{len(chunks)}",
                paper_id=paper.id,
                text=" ".join(sentences[start:end]),
                sentence_start=start,
                sentence_end=end,
            )
        )
        if end >= len(sentences):
            return chunks
        start += step
