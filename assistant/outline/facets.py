"""Phrase-first categories: a category is a phrase of the field that several of the topic's
studies use, and its studies are the ones that use it.

This is the label-first idea of Lingo and suffix-tree clustering (Osiński & Weiss 2005; Zamir &
Etzioni 1998) on a small pool. Every 1-3 word phrase of the studies' titles and abstracts that
uses no topic or parent word is a candidate facet. Its worth is the product of its idf in the
corpus, the square root of the share of its corpus uses that are in this pool ("task arithmetic":
all of them; "diverse array": few), the squared rarity of its rarest non-field word ("diffusion
models" over "diverse tasks"), and, for the best 40, how much closer it is to the studies that
use it than to the rest of the pool (KeyBERT's test, on the bundled embedder). Facets are taken
greedily by worth times the studies they newly cover (a title use counting half again), each
covering at least two studies not yet covered, none used by more than 60% of the pool (that is the
topic), none a synonym of one before it (containing it, sharing over half its studies, or its
acronym: "RAG" beside "Retrieval-augmented generation"), until the split's number of categories.
A category's label is the phrase as its studies write it: every study placed there by its phrase
uses it.

A phrase must read as a noun phrase of the field, checked with the part-of-speech lexicon of
``lemminflect`` (no tagger, no model): the last word can be a noun or is unknown to the lexicon
("LoRA", "DPO", "chain-of-thought"), or is an -ing form after a singular noun ("instruction
tuning"; not "practitioners seeking"); no adverb; no verb but a participle ("selected", "aligns",
"tend" name nothing); not an adjective on its own ("Detrimental", "High-quality"); not the front
of a longer phrase ("large language" of "large language models"). A single word must be rare and
written as a term ("DPO", "P-tuning") or be in two of the studies' titles.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from ..text import LABEL_STOPWORDS, STOPWORDS, TITLE_STOPWORDS
from ..text import parts_of_speech as _pos
from .phrases import phrase_spans, word_root

__all__ = ["Facet", "choose_facets", "facet_keys", "is_noun_phrase", "phrase_background"]

log = logging.getLogger(__name__)

# Words the part-of-speech lexicon calls nouns that never name a category on their own here.
_VAGUE_HEADS = {
    "way", "ways", "thing", "things", "aspect", "aspects", "range", "variety", "array", "number", "set", "lot",
    "kind", "kinds", "type", "types", "part", "parts", "end", "terms", "respect", "fact", "addition", "order",
    "use", "case", "cases", "level", "levels", "form", "forms", "area", "areas", "example", "examples",
    "ability", "abilities", "capability", "capabilities", "setting", "settings", "manner", "domain", "domains",
    "field", "fields", "practice", "practitioners", "researchers", "community", "paradigm", "paradigms",
    "technique", "techniques", "solution", "solutions", "problem", "problems", "challenge", "challenges",
    "gap", "gaps", "insight", "insights", "question", "questions", "factor", "factors", "scenario", "scenarios",
    "baseline", "baselines", "counterpart", "counterparts", "cost", "costs", "time", "times", "weight",
}  # fmt: skip


# Words that open or close no label, whatever the lexicon allows ("More sensitive", "Whether ...").
_NOT_LABEL_WORDS = {
    "more", "less", "most", "least", "whether", "sota", "note", "matters", "matter", "aims", "aim", "goal", "goals",
    "hand", "instance", "regard", "lack", "need", "help", "means", "rest", "sense", "light",
}  # fmt: skip
# First parts of the field's compound adjectives that the lexicon also allows as nouns.
_ADJ_PARTS = {"high", "low", "long", "short", "well", "zero", "few", "full", "cross", "non", "open", "real", "multi"}
# Adjective endings: a head word with one of them, which the lexicon also allows as an adjective,
# is read as one ("Detrimental", "More sensitive"); "task arithmetic" keeps its noun.
_ADJ_ENDINGS = ("al", "ive", "ous", "ible", "able", "ful", "less", "ent", "ant")


def is_noun_phrase(words: list[str]) -> bool:
    """True when ``words`` can be read as a noun phrase (see the module docstring)."""
    if not words:
        return False
    low = [w.lower() for w in words]
    head, first = low[-1], low[0]
    if head in _VAGUE_HEADS or head in _NOT_LABEL_WORDS or first in _NOT_LABEL_WORDS or head.endswith("ly"):
        return False
    if head in TITLE_STOPWORDS or first in TITLE_STOPWORDS:  # "Step towards", "Within ..."
        return False
    if head.endswith("ed"):  # "Large pre-trained", "Instruction-tuned": a modifier without its noun
        return False
    for i, w in enumerate(low):
        pos = _pos(w)
        if "ADV" in pos and not (pos & {"NOUN", "ADJ"}):
            return False
        if pos == {"VERB"} and not w.endswith(("ing", "ed")) or (i and pos == {"VERB"} and i < len(low) - 1):
            return False  # "Involves instruction", "Tasks described"
    if first in LABEL_STOPWORDS and not (_pos(first) & {"NOUN", "ADJ"}):  # "across ..."
        return False
    if len(low) == 1 and "-" in head:
        part = head.split("-")[0]
        if part in _ADJ_PARTS or ("ADJ" in _pos(part) and "NOUN" not in _pos(part)):
            return False  # a compound adjective on its own: "High-quality", "Zero-shot", "Fine-grained"
    head_pos = _pos(head)
    if "ADJ" in head_pos and head.endswith(_ADJ_ENDINGS):
        return False
    if not head_pos:
        return not (head.isalpha() and head.endswith(_ADJ_ENDINGS + ("ic",)))  # "accessible"
    if "NOUN" in head_pos:
        return not (len(low) == 1 and "ADJ" in head_pos)
    if head.endswith("ing") and len(low) > 1:  # "instruction tuning", not "practitioners seeking"
        before = low[-2]
        return not (before.endswith("s") and not before.endswith("ss")) and (not _pos(before) or "NOUN" in _pos(before))
    return False


def _spans(text: str, avoid_roots: set[str]):
    """(key, words as written, the next word or "") of every candidate facet occurrence in ``text``."""
    for span, after in phrase_spans(text, avoid_roots, (1, 2, 3)):
        yield " ".join(word_root(w.lower()) for w in span), " ".join(span), after


def facet_keys(text: str, avoid_roots: set[str] = frozenset()) -> dict[str, str]:
    """The candidate facets of ``text``: {key: the words as written}. A key is the phrase's word
    roots ("task vectors" and "task vector" share one); a phrase never spans punctuation, has no
    function word, no ``avoid_roots`` word (the topic's, the parents'), no weak word at either
    end and not only field words ("large language models")."""
    out: dict[str, str] = {}
    for key, words, _ in _spans(text, avoid_roots):
        out.setdefault(key, words)
    return out


def _truncated(after: Counter) -> bool:
    """A phrase most often followed by a noun is the front of a longer one ("large language" of
    "large language models", "instruction-tuned large language" of "... models")."""
    total = sum(after.values())
    nouny = sum(n for w, n in after.items() if w and w not in STOPWORDS and "NOUN" in _pos(w))
    return total > 0 and nouny > 0.6 * total


def _acronym(words: list[str], parent: str) -> bool:
    """A one-word phrase that abbreviates the parent's label ("CoT" under "Chain-of-thought")."""
    if len(words) != 1 or not parent:
        return False
    initials = "".join(part[0] for part in re.split(r"[\s-]+", parent.lower()) if part)
    short = words[0].lower().rstrip("s")
    return len(short) >= 2 and short in initials


def _synonym(key: str, members: set[int], facet: Facet, overlap: float, surface: dict[str, Counter]) -> bool:
    """A phrase is a chosen facet's synonym when one contains the other, when it shares more than
    ``overlap`` of its studies with it, or when one abbreviates the other ("RAG" beside
    "Retrieval-augmented generation")."""
    if key in facet.key or facet.key in key or len(members & facet.members) > overlap * len(members):
        return True
    words = surface[key].most_common(1)[0][0].split()
    return _acronym(words, facet.label) or _acronym(facet.label.split(), " ".join(words))


# The phrase statistics of the last index an outline was built on: (key, (document frequency, size)).
_BACKGROUND: tuple | None = None


def phrase_background(index) -> tuple[Counter, int]:
    """Corpus document frequency of every facet key (titles + abstracts) and the corpus size,
    computed once per index generation and kept on disk beside the index's other derived data
    (counting SciFact's 5,183 abstracts takes 6.6 s; reading the counts back, a fraction of it),
    so each `review outline` process does not count them again."""
    global _BACKGROUND
    generation = index.generation()
    key = (id(index), generation)
    cached = _BACKGROUND
    if cached is None or cached[0] != key:
        directory = _cache_dir(index)
        counted = _load(directory, generation) if directory is not None else None
        if counted is None:
            docs = [f"{p.title}. {p.abstract}" for p in index.papers()]
            counted = (Counter(k for d in docs for k in facet_keys(d)), len(docs))
            if directory is not None:
                _save(directory, generation, counted)
        cached = (key, counted)
        _BACKGROUND = cached
    return cached[1]


_FILE = "phrases.json.gz"
# Bumped whenever facet_keys changes what it yields: a cache of the old keys is counted again.
_KEYS_VERSION = 2


def _cache_dir(index):
    try:
        return index.cache_dir("phrases")
    except AttributeError:  # an index without a cache folder (a fake in tests): counted in memory only
        return None


def _load(directory, generation: str) -> tuple[Counter, int] | None:
    import gzip
    import json

    from ..indexing.cachedir import read_meta

    meta = read_meta(directory, generation)
    if meta is None or meta.get("keys") != _KEYS_VERSION:
        return None
    try:
        with gzip.open(directory / _FILE, "rt", encoding="utf-8") as fh:
            return Counter(json.load(fh)), int(meta["papers"])
    except Exception as exc:  # a broken cache is counted again, never fatal
        log.warning("ignoring the phrase cache in %s: %s", directory, exc)
        return None


def _save(directory, generation: str, counted: tuple[Counter, int]) -> None:
    import gzip
    import json

    from ..indexing.cachedir import write_cache_dir

    def write(tmp) -> None:
        with gzip.open(tmp / _FILE, "wt", encoding="utf-8", compresslevel=1) as fh:
            json.dump(counted[0], fh)

    try:
        write_cache_dir(directory, {"generation": generation, "papers": counted[1], "keys": _KEYS_VERSION}, write)
    except OSError as exc:  # a read-only store: counted again next time
        log.warning("cannot cache phrase counts in %s: %s", directory, exc)


@dataclass
class Facet:
    """A chosen phrase: its key, its label (as the studies write it) and the members that use it."""

    key: str
    label: str
    members: set[int]


def choose_facets(
    texts: list[str],
    titles: list[str],
    k: int,
    background: tuple[Counter, int],
    avoid: set[str] = frozenset(),
    embed=None,
    vectors=None,
    parent: str = "",
    max_share: float = 0.6,
    overlap: float = 0.5,
    shortlist: int = 40,
) -> list[Facet]:
    """Up to ``k`` facets of the studies whose ``texts`` (title + abstract) and ``titles`` are
    given (see the module docstring). A facet used by more than ``max_share`` of the studies is
    the topic itself, not a category; one that shares more than ``overlap`` of its studies with
    a facet already chosen, or contains or is contained in one, is its synonym. With ``embed``
    (texts -> unit vectors) and the studies' ``vectors``, the ``shortlist`` best phrases are also
    weighed by how much closer each is to the studies that use it than to the rest (KeyBERT's
    test), and one that means the ``parent`` category's label again is dropped."""
    import numpy as np

    df, size = background
    avoid_roots = {word_root(part) for w in avoid for part in (w, *w.split("-")) if len(part) > 2}
    n = len(texts)
    docs: dict[str, set[int]] = defaultdict(set)
    in_title: dict[str, set[int]] = defaultdict(set)
    surface: dict[str, Counter] = defaultdict(Counter)
    after: dict[str, Counter] = defaultdict(Counter)
    for j, (text, title) in enumerate(zip(texts, titles)):
        for key, words, nxt in _spans(text, avoid_roots):
            docs[key].add(j)
            surface[key][words] += 1
            after[key][nxt] += 1
        for key in facet_keys(title, avoid_roots):
            in_title[key].add(j)
    scored: dict[str, float] = {}
    for key, members in docs.items():
        if len(members) < 2 or len(members) > max(2, max_share * n):
            continue
        used = max(df.get(key, 0), len(members))
        words = surface[key].most_common(1)[0][0].split()
        if len(words) == 1:
            # A single word names a category only when rare, and when written as a term ("DPO",
            # "P-tuning") or in two titles; "Synergies" in two abstracts is not one.
            written = any(ch.isupper() for ch in words[0][1:]) or "-" in words[0] or any(c.isdigit() for c in words[0])
            if used > 0.05 * size or not (written or len(in_title[key] & members) >= 2):
                continue
        if not is_noun_phrase(words) or _truncated(after[key]) or _acronym(words, parent):
            continue
        idf = math.log((size + 1) / (used + 1))
        concentration = len(members) / used
        # The rarest word that is not a field word says how technical the phrase is: "diffusion
        # models", "task arithmetic" over "diverse tasks", "pre-trained language models".
        content = [word_root(w.lower()) for w in words if w.lower() not in LABEL_STOPWORDS] or [key]
        rarest = math.log((size + 1) / (min(max(df.get(w, 0), len(members)) for w in content) + 1)) / math.log(size + 1)
        scored[key] = idf * math.sqrt(concentration) * rarest**2 * (1 + 0.15 * (len(words) - 1))
    if embed is not None and vectors is not None and scored:
        best = sorted(scored, key=scored.get, reverse=True)[:shortlist]
        names = [surface[k].most_common(1)[0][0] for k in best]
        phrase_vecs = np.asarray(embed(names + ([parent] if parent else [])), dtype=np.float32)
        if parent:
            # A sub-category that names its parent again ("CoT" under "Chain-of-thought") is none.
            parent_vec, phrase_vecs = phrase_vecs[-1], phrase_vecs[:-1]
            same = phrase_vecs @ parent_vec / (np.linalg.norm(phrase_vecs, axis=1) * np.linalg.norm(parent_vec) + 1e-9)
            best = [k for k, sim in zip(best, same) if sim < 0.7]
            phrase_vecs = phrase_vecs[same < 0.7]
        vecs = np.asarray(vectors, dtype=np.float32)
        vecs = vecs / (np.linalg.norm(vecs, axis=1, keepdims=True) + 1e-9)
        phrase_vecs = phrase_vecs / (np.linalg.norm(phrase_vecs, axis=1, keepdims=True) + 1e-9)
        sims = phrase_vecs @ vecs.T  # phrases x studies
        for row, key in enumerate(best):
            inside = sorted(docs[key])
            outside = [j for j in range(n) if j not in docs[key]]
            # Closer to the studies that use it than to the rest of the pool: "pre-trained language
            # models" is as close to every abstract of the field.
            own = float(sims[row, inside].mean())
            rest = float(sims[row, outside].mean()) if outside else 0.0
            scored[key] *= max(0.02, own - rest + 0.05)
        scored = {k: scored[k] for k in best}
    chosen: list[Facet] = []
    covered: set[int] = set()
    while len(chosen) < k:
        top, top_score = None, 0.0
        for key, worth in scored.items():
            members = docs[key]
            new = members - covered
            if len(new) < 2:
                continue
            if any(_synonym(key, members, f, overlap, surface) for f in chosen):
                continue
            score = (len(new) + 0.5 * len(in_title[key] - covered)) * worth
            if score > top_score:
                top, top_score = key, score
        if top is None:
            break
        label = surface[top].most_common(1)[0][0]
        chosen.append(Facet(key=top, label=label, members=set(docs[top])))
        covered |= docs[top]
    return chosen
