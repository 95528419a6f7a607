"""Paper ids: short slugs a user can type and cite, e.g. ``breadcrumbs-2023``.

An id is built from the title alone (plus the year when known), so the same paper gets the
same id on every machine. Once a paper is in the index its id is frozen: ``assign_ids`` takes
the index's ``normalized title -> id`` map and never hands out an id it already holds, which
is what keeps citations in old answers valid when the corpus grows.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence

from assistant.models import Paper
from assistant.text import TITLE_STOPWORDS

__all__ = ["assign_ids", "base_id", "dedup_key", "id_map", "is_valid_id", "normalize_title", "slugify"]

logger = logging.getLogger(__name__)

_VALID_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")

# Words that appear in half the titles of an ML corpus; alone they would collide constantly.
_GENERIC = frozenset(
    """language languages large llm llms lm lms model models neural network networks
    paper study survey approach method methods new beyond
    improving enhancing exploring evaluating understanding investigating""".split()
)
# A prefix before ':' longer than this is a sentence, not a name like "Model Breadcrumbs".
_MAX_NAME_WORDS = 4
_MAX_WORDS = 2
_MAX_LEN = 24


def normalize_title(title: str) -> str:
    """Key for deduplication: casefolded, accents and punctuation dropped, single spaces."""
    text = unicodedata.normalize("NFKD", title.casefold())
    text = re.sub(r"(?<=\w)['\u2019](?=\w)", "", text)  # "Don't" == "Dont"
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(re.split(r"[\W_]+", text)).strip()


def dedup_key(paper: Paper) -> str:
    """Key for deduplication: the normalised title and the normalised abstract (a newline apart)."""
    return f"{normalize_title(paper.title)}\n{normalize_title(paper.abstract)}"


def id_map(papers: Iterable[Paper]) -> dict[str, str]:
    """What ``assign_ids`` takes as ``existing``: each paper's dedup key -> its id, and its
    normalised title -> its id when no other paper has that title (so a changed abstract keeps its id)."""
    out: dict[str, str] = {}
    by_title: dict[str, list[str]] = {}
    for p in papers:
        out[dedup_key(p)] = p.id
        by_title.setdefault(normalize_title(p.title), []).append(p.id)
    out.update({title: ids[0] for title, ids in by_title.items() if len(ids) == 1})
    return out


def slugify(text: str) -> str:
    """Lowercase ascii slug: runs of anything but letters and digits become one '-'."""
    # "Don't" -> "dont", not "don-t".
    text = re.sub(r"(?<=[A-Za-z])['\u2019](?=[A-Za-z])", "", text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def is_valid_id(value: str) -> bool:
    """True when ``value`` (already lowercased) is usable as a paper id."""
    return _VALID_ID.fullmatch(value) is not None


def _words(text: str) -> list[str]:
    return [w for w in (slugify(tok) for tok in text.split()) if w]


def _distinctive(words: Iterable[str]) -> list[str]:
    return [w for w in words if w not in TITLE_STOPWORDS and w not in _GENERIC]


def _name_words(title: str) -> tuple[list[str], list[str]]:
    """The words that name the paper, and further title words to break ties with."""
    head, sep, _ = title.partition(":")
    everything = _distinctive(_words(title))
    if sep and len(_words(head)) <= _MAX_NAME_WORDS:
        name = _distinctive(_words(head))[:_MAX_WORDS]
        if name:
            return name, [w for w in everything if w not in name]
    if everything:
        return everything[:_MAX_WORDS], everything[_MAX_WORDS:]
    # A title made only of common words still needs a name: use its words as they are.
    words = [w for w in _words(title) if w not in TITLE_STOPWORDS] or _words(title)
    return words[:_MAX_WORDS], words[_MAX_WORDS:]


def _stem(name: Sequence[str]) -> tuple[str, list[str]]:
    """Join name words into a slug short enough to type; also return the words left out."""
    words = list(name)
    while len(words) > 1 and len("-".join(words)) > _MAX_LEN:
        words.pop()
    slug = "-".join(words)
    if len(slug) > _MAX_LEN and "-" in slug[1 : _MAX_LEN + 1]:
        # One very long hyphenated word: cut at a hyphen so the id still reads as words.
        slug = slug[: slug.rfind("-", 0, _MAX_LEN + 1)]
    return slug, list(name[len(words) :])


def _with_year(stem: str, year: int | None) -> str:
    return f"{stem}-{year}" if year is not None else stem


def _fallback(title: str) -> str:
    # Titles with no latin letters or digits at all still need a typable, stable id; a title of
    # punctuation alone ("???") normalises to nothing, so its own characters make the hash.
    return "paper-" + hashlib.sha1((normalize_title(title) or title).encode()).hexdigest()[:8]


def base_id(title: str, year: int | None = None) -> str:
    """The id a paper gets when nothing collides with it: ``breadcrumbs-2023``."""
    name, _ = _name_words(title)
    return _with_year(_stem(name)[0] if name else _fallback(title), year)


def _candidates(title: str, year: int | None) -> Iterable[str]:
    """Ids to try in order: the base id, then with one more title word, then lettered."""
    name, extras = _name_words(title)
    stem, left_out = _stem(name) if name else (_fallback(title), [])
    extras = left_out + extras
    yield _with_year(stem, year)
    if extras:
        # No length cap here: a longer id beats an arbitrary letter.
        yield _with_year(f"{stem}-{extras[0]}", year)
    lettered = f"{stem}-{year}" if year is not None else f"{stem}-"  # -2023b, but quick-learners-b
    for letter in "bcdefghijklmnopqrstuvwxyz":
        yield lettered + letter
    n = 2
    while True:
        yield f"{lettered.rstrip('-')}-{n}"
        n += 1


def _user_id(paper: Paper) -> str | None:
    given = paper.id.strip().lower()
    return given if given and is_valid_id(given) else None


def assign_ids(papers: Sequence[Paper], existing: dict[str, str] | None = None) -> list[Paper]:
    """Copies of ``papers`` with ids: kept from ``existing``, else user-given, else generated."""
    existing = existing or {}
    taken = set(existing.values())
    ids: dict[int, str] = {}

    # Order matters only among new papers fighting over one slug; sorting by title makes the
    # winner independent of file order. Known papers first (same title and abstract, then the
    # same title alone: an edited abstract keeps its id), then user ids, then generated.
    order = sorted(range(len(papers)), key=lambda i: (normalize_title(papers[i].title), i))
    kept: set[str] = set()
    for key in (dedup_key, lambda p: normalize_title(p.title)):
        for i in order:
            known = existing.get(key(papers[i]))
            if i not in ids and known is not None and known not in kept:
                ids[i] = known
                kept.add(known)
    for i in order:
        if i in ids or not papers[i].id.strip():
            continue
        given = _user_id(papers[i])
        if given is not None and given not in taken:
            ids[i] = given
            taken.add(given)
        else:
            why = "is not a valid id" if given is None else "is already taken"
            logger.warning("id %r of %r %s; generating one", papers[i].id, papers[i].title, why)
    for i in order:
        if i in ids:
            continue
        for candidate in _candidates(papers[i].title, papers[i].year):
            if candidate not in taken:
                ids[i] = candidate
                taken.add(candidate)
                break
    return [p.model_copy(update={"id": ids[i]}) for i, p in enumerate(papers)]
