"""Sentence-aware chunk windows over an abstract."""

from __future__ import annotations

from ..models import Chunk, Paper
from ..text import split_sentences

__all__ = ["chunk_paper"]


def chunk_paper(paper: Paper, sentences_per_chunk: int = 3, overlap: int = 1) -> list[Chunk]:
    """Windows of ``sentences_per_chunk`` sentences sharing ``overlap`` with the previous one.

    (Without overlap the last window may be one sentence. Joining a short tail to the window before
    it was measured and not kept: SciFact train nDCG@10 0.7184 -> 0.7137.)"""
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
