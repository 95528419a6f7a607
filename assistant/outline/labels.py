"""Category labels: cleaning and checking an LLM's label, distinctive-term labels, the LLM
label step, and the corpus statistics (background term frequencies) the checks weigh against.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections import Counter

from ..models import OutlineStudy
from ..prompts import render
from ..text import LABEL_STOPWORDS, PHRASE_BREAK, prefix_stem, prompt_data
from .run import OutlineRun

__all__ = ["background", "cased", "clean_label", "distinctive_labels", "label_problem", "llm_labels"]

log = logging.getLogger(__name__)


def _terms(text: str) -> list[str]:
    """Candidate label terms of a text: its content words and adjacent content-word bigrams."""
    words, bigrams = [], []
    for segment in PHRASE_BREAK.split(text.lower()):  # a bigram never spans punctuation: no "models plms"
        tokens = re.findall(r"[a-z][a-z0-9-]+", segment)
        ok = [w not in LABEL_STOPWORDS and len(w) > 2 for w in tokens]
        words += [w for w, good in zip(tokens, ok) if good]
        # Bigrams of words adjacent in the text, so "sequence to sequence" never becomes one.
        bigrams += [f"{a} {b}" for a, b, ga, gb in zip(tokens, tokens[1:], ok, ok[1:]) if ga and gb and a != b]
    return words + bigrams


_GENERIC = {
    "other", "others", "miscellaneous", "misc", "category", "categories", "papers", "paper", "studies", "study",
    "research", "general", "various", "none", "unknown", "topic", "topics", "titles", "title", "review", "survey",
}  # fmt: skip
# The labels of the prompt's own examples: a small model copies them.
_EXAMPLE_LABELS = {"structure prediction", "diffusion models"}
_LABEL_CHARS = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ,&/'+:-]*")
# Words in -ly that end a noun phrase; any other last word in -ly is an adverb ("Model notably").
_LY_NOUNS = {"family", "anomaly", "assembly", "supply", "reply", "monopoly", "butterfly", "ally", "rally", "italy"}


def clean_label(text: str) -> str:
    """The first line of an LLM's label, without quotes, markup or a trailing full stop."""
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    line = re.sub(r"^(category|label)\s*:\s*", "", line.strip(), flags=re.IGNORECASE)
    line = line.strip(" \t*_`\"'-").rstrip(".;:")
    line = " ".join(line.split())
    return line[:1].upper() + line[1:]


def cased(label: str, texts: list[str]) -> str:
    """A term or keyphrase label (built lowercase) with each word as its studies write it when they
    write it with capitals inside a word ("LLM agents", "PLMs", "LoRA", "GPT-4"; not a title's
    "Fine-Tuning"), its first letter upper."""
    forms: dict[str, Counter] = {}
    for text in texts:
        for w in re.findall(r"[A-Za-z][A-Za-z0-9-]*", text):
            forms.setdefault(w.lower(), Counter())[w] += 1
    out = []
    for word in label.split(" "):
        seen = forms.get(word.lower())
        best = seen.most_common(1)[0][0] if seen else word
        # Capitals inside a part ("LLM-based", "LoRA"), not a title's capitals ("Fine-Tuning").
        out.append(best if any(ch.isupper() for part in best.split("-") for ch in part[1:]) else word)
    text = " ".join(out)
    return text[:1].upper() + text[1:]


def _stems(text: str) -> set[str]:
    """The prefix stems of a text's content words, generic label words left out."""
    return {
        prefix_stem(w)
        for w in re.findall(r"[a-z][a-z0-9]+", text.lower())
        if w not in LABEL_STOPWORDS and w not in _GENERIC
    }


def _adverb(word: str) -> bool:
    """``word`` is an adverb in -ly ("significantly"), not a noun in -ly ("family")."""
    word = word.lower().strip(",:")
    return word.endswith("ly") and len(word) > 4 and word not in _LY_NOUNS


def label_problem(
    label: str,
    member_texts: list[str],
    taken: set[str],
    avoid: set[str] = frozenset(),
    sibling_texts: list[str] | None = None,
    common: set[str] = frozenset(),
) -> str | None:
    """Why a proposed label cannot name a category (None when it can): it must be 1-6 words of
    plain characters, not end in an adverb, not generic, not the prompt's example, distinct from its siblings, parents
    and topic, say something the topic does not, have a word that is not ``common`` in the
    corpus (stems in over a quarter of it), have at least half of its words in its studies, and
    (given the siblings' studies) a word more frequent in its own studies than in theirs."""
    if not label:
        return "empty"
    words = label.split()
    if len(words) > 6 or len(label) > 60:
        return "too long"
    if not _LABEL_CHARS.fullmatch(label):
        return "unexpected characters"
    low = label.lower()
    if low in _EXAMPLE_LABELS:
        return "copied from the prompt's example"
    if Counter(words).most_common(1)[0][1] > 2:
        return "repetitive"
    if _adverb(words[-1]):
        return "not a noun phrase: it ends in an adverb"
    own = _stems(label)
    if not own:
        return "generic"
    if low in taken:
        return "same as a sibling, parent or the topic"
    if own <= {prefix_stem(w) for w in avoid}:
        return "says nothing the topic or parent does not"
    if own <= set(common) | {prefix_stem(w) for w in avoid}:
        return "too general for this corpus: all its words are common in it"
    mine = [_stems(text) for text in member_texts]
    found = own & set().union(*mine)
    if not found:
        return "no word of it occurs in its studies"
    if len(found) * 2 < len(own):
        return "most of its words do not occur in its studies"
    if sibling_texts:
        theirs = [_stems(text) for text in sibling_texts]

        def rate(stem: str, texts: list[set[str]]) -> float:
            return sum(stem in t for t in texts) / max(1, len(texts))

        if not any(rate(w, mine) >= 0.25 and rate(w, mine) > 1.5 * rate(w, theirs) for w in own):
            return "no word of it sets its studies apart from the sibling categories"
    return None


def distinctive_labels(
    groups: list[list[str]],
    taken: set[str] | None = None,
    avoid: set[str] | None = None,
    background: tuple[Counter, int] | None = None,
    fallbacks: list[str] | None = None,
) -> list[str]:
    """One label per group of texts: its most distinctive terms (class-based TF-IDF), never
    made of the ``avoid`` words (the topic and the parent labels say those already). With a
    ``background`` (document frequency of each term in the corpus, corpus size), terms common
    across the whole corpus weigh less ("fine-tuning" names nothing in a fine-tuning corpus)."""
    bg_df, bg_n = background or (Counter(), 0)
    avoid = {w.rstrip("s") for w in (avoid or set())}
    counts = [
        Counter(t for text in g for t in set(_terms(text)) if not any(w.rstrip("s") in avoid for w in t.split()))
        for g in groups
    ]
    df = Counter(t for c in counts for t in c)
    taken = set(taken or ())
    labels = []
    for k, (group, c) in enumerate(zip(groups, counts)):
        size = max(1, len(group))
        enough = {t: n for t, n in c.items() if n >= min(2, size)}
        if not enough and fallbacks:  # no term shared by two studies: name the group after its central study
            enough, c = {}, {}
            picked_label = fallbacks[k]
        else:
            enough = enough or c
            picked_label = None
        scored = sorted(
            (
                (n / size)
                * math.log(1 + len(groups) / df[t])
                * (1.3 if " " in t else 1.0)
                # a bigram is as common as its commonest word ("fine-tuning sparse" is not a phrase)
                * (math.log((1 + bg_n) / (1 + max(bg_df[w] for w in (t, *t.split())))) if bg_n else 1.0),
                t,
            )
            for t, n in enough.items()
        )
        picked: list[str] = []
        top = scored[-1][0] if scored else 0.0
        for score, term in reversed(scored):
            if any(term in p or p in term for p in picked) or any(_adverb(w) for w in term.split()):
                continue  # a repeat, or no noun phrase ("Multi-task / significantly")
            if picked and score < 0.5 * top:  # a weak second term adds noise, not meaning
                break
            picked.append(term)
            if len(picked) == 2:
                break
        label = picked_label or (" / ".join(picked) if picked else "miscellaneous")
        label = label[0].upper() + label[1:]
        if label.lower() in taken and fallbacks and fallbacks[k].lower() not in taken:
            # A sibling or parent already has this label ("Fine-tuning" twice): the group is named
            # after its central study instead of "Fine-tuning (2)".
            label = fallbacks[k][0].upper() + fallbacks[k][1:]
        n = 2
        base = label
        while label.lower() in taken:
            label = f"{base} ({n})"
            n += 1
        taken.add(label.lower())
        labels.append(label)
    return labels


# The corpus statistics of the last index an outline was built on: (key, background, common).
# Replaced as one tuple, so concurrent builds never see the key of one index with the data of another.
_BACKGROUND: tuple | None = None


def background(index) -> tuple[tuple[Counter, int], set[str]]:
    """Corpus-wide document frequencies of label terms and stems (titles + abstracts),
    computed once per index generation (the corpus is read and tokenised only after a change)."""
    global _BACKGROUND
    key = (id(index), index.generation())
    cached = _BACKGROUND
    if cached is None or cached[0] != key:
        docs = [f"{p.title} {p.abstract}" for p in index.papers()]
        stems = Counter(st for d in docs for st in _stems(d))
        cached = (
            key,
            (Counter(t for d in docs for t in set(_terms(d))), len(docs)),
            {st for st, n in stems.items() if n > 0.25 * len(docs)},
        )
        _BACKGROUND = cached
    return cached[1], cached[2]


def llm_labels(
    run: OutlineRun,
    groups: list[list[int]],
    studies: list[OutlineStudy],
    vectors,
    labels: list[str],
    taken: set[str],
    avoid: set[str],
) -> list[str]:
    """Replace term labels with LLM labels that pass ``label_problem`` and name their own
    group better than any sibling (label embedding closest to the group's centroid)."""
    import numpy as np

    started = time.perf_counter()
    n_titles = run.settings.outline.label_titles
    proposed = []
    for group in groups:
        # Titles are data: one line each, and a title that gives orders is left out.
        shown = [prompt_data(studies[i].title, whole=True) for i in group[:n_titles]]
        titles = "\n".join(f"- {t}" for t in shown if t)
        proposed.append(clean_label(run.complete(render("outline_label", topic=run.topic, titles=titles), 16)))
    cents = np.asarray([vectors[g].mean(axis=0) for g in groups])
    cents /= np.linalg.norm(cents, axis=1, keepdims=True) + 1e-9
    label_vecs = np.asarray(run.index.embedder.embed_documents([p or "-" for p in proposed]))
    final = list(labels)
    for j, (group, label) in enumerate(zip(groups, proposed)):
        siblings = {x.lower() for k, x in enumerate(final) if k != j}
        members = [f"{studies[i].title} {studies[i].claim}" for i in group]
        others = [f"{studies[i].title} {studies[i].claim}" for k, g in enumerate(groups) if k != j for i in g]
        problem = label_problem(label, members, taken | siblings, avoid, others, run.common)
        if (
            problem is None
            and len(label.split()) >= 3
            and any(label.lower() in studies[i].title.lower() for i in group)
        ):
            problem = "copied from a study's title"  # names one study, not the category
        if problem is None and len(groups) > 1 and int(np.argmax(cents @ label_vecs[j])) != j:
            problem = "closer to a sibling category"
        if problem is None:
            final[j] = label
            run.checks["labels_llm"] += 1
        else:
            log.debug("LLM label %r rejected: %s", label, problem)
            run.checks["labels_llm_rejected"] += 1
    run.label_seconds += time.perf_counter() - started
    return final


class LabelVerdicts:
    """auto mode: whether this model file's category labels are worth asking for. After
    ``outline.label_probe`` proposed labels of which under ``outline.label_min_accepted`` passed the
    checks, later outlines use keyphrase and term labels without spending the LLM's time (the
    bundled 270M base model: about 8-11 s of a warm outline). Remembered per model file beside
    ``ask``'s verdicts; ``--mode generative`` always asks."""

    def __init__(self, settings) -> None:
        from ..ask import verdict_key

        self.settings = settings
        self.key = f"labels|{verdict_key(settings)}"

    def _record(self) -> tuple[dict, dict, object]:
        from ..ask import read_verdicts

        data, path = read_verdicts(self.settings)
        return data, data.get(self.key, {}), path

    def not_worth_it(self) -> int:
        """The labels this model has proposed, when too few of them passed to ask it again; else 0."""
        cfg = self.settings.outline
        record = self._record()[1]
        proposed, accepted = int(record.get("proposed", 0)), int(record.get("accepted", 0))
        worthless = cfg.label_probe and proposed >= cfg.label_probe and accepted < cfg.label_min_accepted * proposed
        return proposed if worthless else 0

    def record(self, accepted: int, rejected: int) -> None:
        from ..ask import write_verdicts

        if not accepted and not rejected:
            return
        data, _, path = self._record()
        record = data.setdefault(self.key, {"proposed": 0, "accepted": 0})
        record["proposed"] = int(record.get("proposed", 0)) + accepted + rejected
        record["accepted"] = int(record.get("accepted", 0)) + accepted
        write_verdicts(data, path)
