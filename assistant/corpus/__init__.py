"""Reading corpora: files in any supported format -> deduplicated ``Paper`` records with ids.

    read_papers([Path("refs.bib"), Path("more.jsonl")], existing=index_ids) -> list[Paper]

Formats go by file extension: ``.txt`` Daily Papers dumps, ``.jsonl``/``.json`` JSON Lines,
``.bib`` BibTeX. The same paper read from several files (matched by normalized title and
normalized abstract) becomes one record that lists every place it came from. Every problem
with a file is a ``CorpusError`` naming the file, and the line when there is one; a bad record
is skipped with a warning naming it, or fails its file when ``strict``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from assistant.corpus import bibtex, dailypapers, jsonl
from assistant.corpus.ids import assign_ids, base_id, dedup_key, normalize_title
from assistant.corpus.records import Problems
from assistant.errors import CorpusError
from assistant.models import Paper

__all__ = [
    "SUPPORTED_SUFFIXES",
    "assign_ids",
    "base_id",
    "bundled_corpus_paths",
    "merge_duplicates",
    "normalize_title",
    "read_file",
    "read_papers",
    "read_records",
]

logger = logging.getLogger(__name__)

_PARSERS: dict[str, Callable[[str, Path, Problems], list[Paper]]] = {
    ".txt": dailypapers.parse,
    ".jsonl": jsonl.parse,
    ".json": jsonl.parse,
    ".bib": bibtex.parse,
}
SUPPORTED_SUFFIXES = tuple(_PARSERS)
_FORMATS = ".txt (Daily Papers dump), .jsonl/.json (JSON Lines), .bib (BibTeX)"
_BUNDLED = Path(__file__).resolve().parent.parent / "data" / "corpus"


def bundled_corpus_paths() -> list[Path]:
    """The Daily Papers dumps shipped with the package, sorted by name."""
    return sorted(_BUNDLED.glob("*.txt"))


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CorpusError("file not found; check the path", path=path) from None
    except OSError as e:
        raise CorpusError(f"cannot read the file: {e.strerror}", path=path) from None
    try:
        return data.decode("utf-8-sig")  # -sig: editors on Windows like to add a BOM
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise CorpusError(
            f"not UTF-8 text (byte 0x{data[e.start]:02x}); re-save the file as UTF-8", path=path, line=line
        ) from None


def read_file(path: Path, problems: Problems = None) -> list[Paper]:
    """Papers of one file, in file order, duplicates and ids not yet resolved.

    A bad record fails the file, or is skipped and added to ``problems`` when that is a list."""
    path = Path(path)
    parser = _PARSERS.get(path.suffix.lower())
    if not path.exists():
        raise CorpusError("file not found; check the path", path=path)
    if parser is None:
        raise CorpusError(f"unsupported file type {path.suffix or '(none)'!r}; supported: {_FORMATS}", path=path)
    return parser(_read_text(path), path, problems)


def _expand(paths: Iterable[Path]) -> list[Path]:
    """Directories stand for the supported files directly inside them."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in _PARSERS)
            if not inside:
                raise CorpusError(f"no corpus files in this directory; supported: {_FORMATS}", path=path)
            files.extend(inside)
        else:
            files.append(path)
    return files


def _richness(paper: Paper) -> tuple[int, ...]:
    # A date with a year beats one without, which beats none; then the most other metadata.
    extras = (paper.authors or paper.author_count, paper.organization, paper.upvotes, paper.url)
    return (paper.year is not None, paper.date is not None, sum(x is not None and x != [] for x in extras))


def _merge(group: Sequence[Paper]) -> Paper:
    best = max(group, key=_richness)  # max() keeps the first of equals: file order decides
    where = ", ".join(s for p in group for s in p.sources)
    if len({(p.title, p.abstract) for p in group}) > 1:
        # Not the very same text: say so, a user may not want these to be one paper.
        logger.warning(
            "merged %d entries as one paper %r (%s): titles and abstracts match once normalised",
            len(group),
            best.title[:80],
            where,
        )
    else:
        logger.info("merged %d copies of %r (%s)", len(group), best.title[:80], where)
    update: dict[str, object] = {}
    for field in ("id", "authors", "author_count", "organization", "url"):
        if not getattr(best, field):
            update[field] = next((getattr(p, field) for p in group if getattr(p, field)), getattr(best, field))
    # Upvotes only grow; the highest count is the most recent page.
    upvotes = [p.upvotes for p in group if p.upvotes is not None]
    update["upvotes"] = max(upvotes) if upvotes else None
    update["sources"] = list(dict.fromkeys(s for p in group for s in p.sources))
    return best.model_copy(update=update)


def merge_duplicates(papers: Iterable[Paper]) -> list[Paper]:
    """One record per normalized title and abstract, in first-seen order, keeping all sources."""
    groups: dict[str, list[Paper]] = {}
    for paper in papers:
        groups.setdefault(dedup_key(paper), []).append(paper)
    return [_merge(group) if len(group) > 1 else group[0] for group in groups.values()]


def read_records(paths: Sequence[Path], *, strict: bool = False) -> list[Paper]:
    """Read, validate and deduplicate every paper of ``paths``, ids not yet assigned.

    A bad record is skipped with a warning naming its file and line; ``strict`` fails its file instead.
    """
    files = _expand(paths)
    problems: list[CorpusError] | None = None if strict else []
    per_file = [read_file(path, problems) for path in files]
    records = [paper for papers in per_file for paper in papers]
    for problem in problems or []:
        logger.warning("skipped %s", problem)
    for path, papers in zip(files, per_file, strict=True):
        # A file that gave nothing, beside files that did (all empty: the error below says it once).
        if records and not papers and not any(getattr(e, "path", None) == path for e in problems or []):
            logger.warning("%s: no papers in this file", path)
    if not records:
        names = ", ".join(str(p) for p in files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
        why = "every record was skipped (see above)" if problems else "empty"
        raise CorpusError(f"no papers to ingest in {names}: {why}; nothing was changed")
    papers = merge_duplicates(records)
    logger.info("read %d entries from %d files: %d papers", len(records), len(files), len(papers))
    return papers


def read_papers(paths: Sequence[Path], existing: dict[str, str] | None = None, *, strict: bool = False) -> list[Paper]:
    """Read, validate, deduplicate and id every paper of ``paths``; sorted by id.

    ``existing`` maps keys to ids for papers already indexed (``ids.id_map``): they keep that id.
    """
    papers = assign_ids(read_records(paths, strict=strict), existing)
    return sorted(papers, key=lambda p: p.id)
