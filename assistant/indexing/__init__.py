"""Indexing: chunking, embedding, the vector store, the lexical index, and ingest."""

from __future__ import annotations

from .index import Index

__all__ = ["Index"]
