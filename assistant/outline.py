"""`outline`: CHIME-style hierarchical related-work outlines that do not trust the LLM.

topic -> candidate studies (hybrid search, kept above a relevance threshold) -> one extractive
claim per study (an LLM rewrite only when the support judge finds it in the abstract) ->
hierarchical clustering of study embeddings with a size-balanced cut -> labels from the LLM when
a label is short, grounded in the category's titles, distinct from its siblings and closer to its
own category than to theirs, else from distinctive terms -> assignment by fit to each
category's centroid, checked by the support judge (a second category only when the judge agrees)
-> "Other" for the rest -> cited output; --draft sentences are judged against their abstracts.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections import Counter
from collections.abc import Callable

from .chunking import split_sentences
from .errors import QueryError
from .models import Assignment, Outline, OutlineNode, OutlineStudy, Paper, Reference
from .prompts import render
from .settings import Settings

__all__ = ["OutlineBuilder", "clean_label", "distinctive_labels", "label_problem"]

log = logging.getLogger(__name__)

_FINDING = re.compile(
    r"\b(we (propose|introduce|present|show|find|demonstrate|develop)|our (results|experiments|findings|analysis)|"
    r"results (show|demonstrate|indicate|reveal)|outperform|improv|achiev|significantly|state-of-the-art)",
    re.IGNORECASE,
)
_NOT_A_FINDING = re.compile(
    r"https?://|github\.com|\b(code|implementation|data|models?) (is|are) (publicly )?(available|released)",
    re.IGNORECASE,
)
_VAGUE = re.compile(
    r"\b(these|this|such) (challenges|issues|problems|limitations|gaps)\b|^(however|in this work|in this paper)\b"
    # background and anaphora: a sentence that leans on the one before it, or sets the scene
    r"|^(utilizing|driven by|motivated by|to (this|that) end|despite|recently|in recent years|while|although|notably)\b"
    r"|^(large )?language models( \(llms\))? (are|have)\b",
    re.IGNORECASE,
)
_STOP = set(
    """a an the and or of for to in on with by from as at is are was were be been this that these those we our
    their its it which while via using use used based new novel approach approaches method methods model models
    paper work study studies results result show shows propose proposed task tasks performance large language llm
    llms data training trained learning can also more than such both between into over however than not only
    across different various significant improve improves improved improving existing recent two three one first
    achieve achieves framework benchmark benchmarks experiments evaluation analysis how what why when where who find
    finds found introduce introduces present presents demonstrate demonstrates outperform outperforms outperforming
    state-of-the-art art state effective effectively efficient simple key novel strong better best make makes made
    many much most well further even up out all each other own without within among through them they he she has
    have had do does done given provide provides provided enable enables lead leads leading despite remain remains
    high higher low lower small smaller larger need needs often still while whether thus therefore i.e e.g
    issue issues finding findings strategy strategies yet research effect effects feature features impact impacts
    useful intricate multiple several certain particular overall typically usually recently widely""".split()
)


def _terms(text: str) -> list[str]:
    tokens = re.findall(r"[a-z][a-z0-9-]+", text.lower())
    ok = [w not in _STOP and len(w) > 2 for w in tokens]
    words = [w for w, good in zip(tokens, ok) if good]
    # Bigrams of words adjacent in the text, so "sequence to sequence" never becomes one.
    bigrams = [f"{a} {b}" for a, b, ga, gb in zip(tokens, tokens[1:], ok, ok[1:]) if ga and gb and a != b]
    return words + bigrams


_GENERIC = {
    "other", "others", "miscellaneous", "misc", "category", "categories", "papers", "paper", "studies", "study",
    "research", "general", "various", "none", "unknown", "topic", "topics", "titles", "title", "review", "survey",
}  # fmt: skip
# The labels of the prompt's own examples: a small model copies them.
_EXAMPLE_LABELS = {"structure prediction", "diffusion models"}
_LABEL_CHARS = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ,&/'+:-]*")


def clean_label(text: str) -> str:
    """The first line of an LLM's label, without quotes, markup or a trailing full stop."""
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    line = re.sub(r"^(category|label)\s*:\s*", "", line.strip(), flags=re.IGNORECASE)
    line = line.strip(" \t*_`\"'-").rstrip(".;:")
    line = " ".join(line.split())
    return line[:1].upper() + line[1:]


def _stems(text: str) -> set[str]:
    return {w[:5] for w in re.findall(r"[a-z][a-z0-9]+", text.lower()) if w not in _STOP and w not in _GENERIC}


def label_problem(
    label: str,
    member_texts: list[str],
    taken: set[str],
    avoid: set[str] = frozenset(),
    sibling_texts: list[str] | None = None,
    common: set[str] = frozenset(),
) -> str | None:
    """Why a proposed label cannot name a category (None when it can): it must be 1-6 words of
    plain characters, not generic, not the prompt's example, distinct from its siblings, parents
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
    own = _stems(label)
    if not own:
        return "generic"
    if low in taken:
        return "same as a sibling, parent or the topic"
    if own <= {w[:5] for w in avoid}:
        return "says nothing the topic or parent does not"
    if own <= set(common) | {w[:5] for w in avoid}:
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
            if any(term in p or p in term for p in picked):
                continue
            if picked and score < 0.5 * top:  # a weak second term adds noise, not meaning
                break
            picked.append(term)
            if len(picked) == 2:
                break
        label = picked_label or (" / ".join(picked) if picked else "miscellaneous")
        label = label[0].upper() + label[1:]
        n = 2
        base = label
        while label.lower() in taken:
            label = f"{base} ({n})"
            n += 1
        taken.add(label.lower())
        labels.append(label)
    return labels


# The corpus statistics of the last index an outline was built on (see OutlineBuilder._background).
_BACKGROUND: dict = {}


class OutlineBuilder:
    """Builds an Outline for a topic from an open Index."""

    def __init__(
        self, settings: Settings, index, llm_factory: Callable | None = None, judge_factory: Callable | None = None
    ) -> None:
        self.settings = settings
        self.index = index
        self._llm_factory = llm_factory
        self._judge_factory = judge_factory
        self._use_llm = False
        self._topic = ""
        self._bg: tuple[Counter, int] | None = None
        self._common: set[str] = set()
        self.checks: Counter = Counter()

    # -- candidates ------------------------------------------------------------------------

    def candidates(self, topic: str) -> list[tuple[Paper, float]]:
        """Papers relevant to the topic: hybrid search for the topic and for the topic expanded
        with its best passages (pseudo-relevance feedback), kept above a relevance threshold."""
        cfg = self.settings.outline
        hits = self.index.search(topic, cfg.max_papers)
        if not hits:
            return []
        relevance = {h.paper_id: h.similarity or 0.0 for h in hits}
        if cfg.expansion_weight > 0:
            seeds = " ".join(h.passages[0].text for h in hits[: cfg.expansion_seeds] if h.passages)
            for h in self.index.search(f"{topic}. {seeds}", cfg.max_papers):
                relevance[h.paper_id] = max(
                    relevance.get(h.paper_id, 0.0), cfg.expansion_weight * (h.similarity or 0.0)
                )
        best = max(relevance.values())
        floor = max(cfg.min_relevance, cfg.relative_relevance * best)
        # A paper the lexical ranking puts at the top names the topic outright: keep it even
        # when the small embedder scores it a little under the floor.
        lexical_top = {h.paper_id for h in hits if h.lexical_rank is not None and h.lexical_rank <= cfg.lexical_keep}
        keep = {pid: r for pid, r in relevance.items() if r >= floor or (pid in lexical_top and r >= 0.8 * floor)}
        papers = self.index.papers(sorted(keep))
        return sorted(((p, keep[p.id]) for p in papers), key=lambda x: (-x[1], x[0].id))

    # -- build -----------------------------------------------------------------------------

    def build(self, topic: str, depth: int | None = None, draft: bool = False, mode: str | None = None) -> Outline:
        """The outline tree for ``topic``; QueryError when the corpus has nothing on it.

        ``mode`` (default ``llm.mode``): "extractive" uses no LLM (clustering and term labels);
        "auto"/"generative" ask the LLM for labels (and claim rewrites when
        ``outline.rewrite_claims``), each checked before it is used.
        """
        import numpy as np

        topic = " ".join((topic or "").split())
        if not topic:
            raise QueryError('the topic is empty: e.g. review outline --topic "model merging"')
        cfg = self.settings.outline
        depth = depth or cfg.depth
        mode = mode or self.settings.llm.mode
        if mode not in ("auto", "generative", "extractive"):
            raise QueryError(f"unknown mode {mode!r}: use auto, generative or extractive")
        self._use_llm = mode != "extractive" and self._llm_factory is not None
        self._topic = topic
        self.checks = Counter()
        timings: dict[str, float] = {}
        t = time.perf_counter()
        found = self.candidates(topic)
        timings["candidates"] = time.perf_counter() - t
        if len(found) < 2:
            closest = ", ".join(p.id for p, _ in found) or "none"
            raise QueryError(
                f"the indexed papers do not cover the topic {topic!r} (papers above the relevance threshold: {closest}); "
                "try broader words, or `review search` to see what is there"
            )
        t = time.perf_counter()
        self._background()
        timings["background"] = time.perf_counter() - t
        t = time.perf_counter()
        claims = self._claims([p for p, _ in found])
        studies = [
            OutlineStudy(paper_id=p.id, title=p.title, claim=c, relevance=round(r, 4))
            for (p, r), c in zip(found, claims)
        ]
        timings["claims"] = time.perf_counter() - t
        if self._use_llm and cfg.rewrite_claims:
            t = time.perf_counter()
            self._rewrite_claims([p for p, _ in found], studies)
            timings["claim_rewrites"] = time.perf_counter() - t
        t = time.perf_counter()
        vectors = self.index.embedder.embed_documents([f"{s.title}. {s.claim}" for s in studies])
        vectors = np.asarray(vectors, dtype=np.float32)
        root = OutlineNode(
            label=topic,
            description=f"Studies on {topic} in the indexed corpus ({len(studies)} papers).",
            label_source="topic",
        )
        if len(studies) < cfg.min_split:
            root.description += (
                f" Only {len(studies)} papers clear the relevance threshold, too few to split into categories;"
                " a fuller topic phrase (e.g. 'merging the weights of fine-tuned models') may find more."
            )
        self._label_seconds = 0.0
        self._split(root, list(range(len(studies))), studies, vectors, level=1, depth=depth, taken=set())
        timings["hierarchy"] = time.perf_counter() - t - self._label_seconds
        if self._use_llm and cfg.llm_labels:
            timings["llm_labels"] = self._label_seconds
        t = time.perf_counter()
        self._assign(root, studies, vectors)
        timings["assignment"] = time.perf_counter() - t
        if self._judge_factory is not None and cfg.judge_assignments:
            t = time.perf_counter()
            self._check_assignments(root, studies)
            timings["assignment_judge"] = time.perf_counter() - t
        _prune(root)
        _settle_paths(root, studies)
        _recount(root)
        outline = Outline(topic=topic, tree=root, studies=studies, mode="extractive" if not self._use_llm else mode)
        if self._use_llm:
            outline.model = getattr(self._llm_factory(), "name", None)
        outline.references = _references(outline, {p.id: p for p, _ in found})
        if draft:
            t = time.perf_counter()
            self._draft(outline, {p.id: p for p, _ in found})
            timings["draft"] = time.perf_counter() - t
        outline.checks = dict(sorted(self.checks.items()))
        outline.timings = {k: round(v, 4) for k, v in timings.items()}
        return outline

    def _background(self) -> None:
        """Corpus-wide document frequencies of label terms and stems (titles + abstracts),
        computed once per index generation (the corpus is read and tokenised only after a change)."""
        key = (id(self.index), self.index.store.generation())
        if _BACKGROUND.get("key") != key:
            docs = [f"{p.title} {p.abstract}" for p in self.index.papers()]
            stems = Counter(st for d in docs for st in _stems(d))
            _BACKGROUND.update(
                key=key,
                bg=(Counter(t for d in docs for t in set(_terms(d))), len(docs)),
                common={st for st, n in stems.items() if n > 0.25 * len(docs)},
            )
        self._bg, self._common = _BACKGROUND["bg"], _BACKGROUND["common"]

    # -- LLM steps, each checked -----------------------------------------------------------

    def _complete(self, prompt: str, max_tokens: int) -> str:
        return self._llm_factory().complete(prompt, max_tokens=max_tokens, stop=["\n"]).text

    def _rewrite_claims(self, papers: list[Paper], studies: list[OutlineStudy]) -> None:
        """An LLM rewrite of each claim, kept only when the judge finds it in the abstract."""
        from .ask import _degenerate, looks_like_instruction

        proposals = []
        for paper in papers:
            text = " ".join(
                self._complete(render("outline_claim", title=paper.title, abstract=paper.abstract), 64).split()
            )
            ok = 6 <= len(text.split()) <= 45 and not looks_like_instruction(text) and not _degenerate(text)
            proposals.append(text if ok else None)
        pairs = [(p.abstract, text) for p, text in zip(papers, proposals) if text]
        scores = iter(self._judge_factory().score(pairs) if pairs and self._judge_factory else [])
        for study, text in zip(studies, proposals):
            score = float(next(scores)) if text and self._judge_factory else 0.0
            if text and score >= self.settings.judge.threshold:
                study.claim, study.claim_source = text.rstrip(".") + ".", "llm"
                self.checks["claims_llm"] += 1
            else:
                self.checks["claims_llm_rejected"] += 1

    def _llm_labels(self, groups, studies, vectors, labels: list[str], taken: set[str], avoid: set[str]) -> list[str]:
        """Replace term labels with LLM labels that pass ``label_problem`` and name their own
        group better than any sibling (label embedding closest to the group's centroid)."""
        import numpy as np

        started = time.perf_counter()
        n_titles = self.settings.outline.label_titles
        proposed = []
        for group in groups:
            titles = "\n".join(f"- {studies[i].title}" for i in group[:n_titles])
            proposed.append(clean_label(self._complete(render("outline_label", topic=self._topic, titles=titles), 16)))
        cents = np.asarray([vectors[g].mean(axis=0) for g in groups])
        cents /= np.linalg.norm(cents, axis=1, keepdims=True) + 1e-9
        label_vecs = np.asarray(self.index.embedder.embed_documents([p or "-" for p in proposed]))
        final = list(labels)
        for j, (group, label) in enumerate(zip(groups, proposed)):
            siblings = {x.lower() for k, x in enumerate(final) if k != j}
            members = [f"{studies[i].title} {studies[i].claim}" for i in group]
            others = [f"{studies[i].title} {studies[i].claim}" for k, g in enumerate(groups) if k != j for i in g]
            problem = label_problem(label, members, taken | siblings, avoid, others, self._common)
            if problem is None and len(groups) > 1 and int(np.argmax(cents @ label_vecs[j])) != j:
                problem = "closer to a sibling category"
            if problem is None:
                final[j] = label
                self.checks["labels_llm"] += 1
            else:
                log.debug("LLM label %r rejected: %s", label, problem)
                self.checks["labels_llm_rejected"] += 1
        self._label_seconds += time.perf_counter() - started
        return final

    def _claims(self, papers: list[Paper]) -> list[str]:
        """Per paper, the finding-like sentence closest in meaning to its title (one encode call)."""
        per_paper = [[x for x in split_sentences(p.abstract) if len(x.split()) >= 6] or [p.title] for p in papers]
        texts = [t for p, sents in zip(papers, per_paper) for t in (p.title, *sents)]
        vectors = self.index.embedder.embed_documents(texts)
        claims, at = [], 0
        for sents in per_paper:
            title, rows = vectors[at], vectors[at + 1 : at + 1 + len(sents)]
            at += 1 + len(sents)
            scores = [
                float(v @ title)
                + 0.15 * min(2, len(_FINDING.findall(x)))
                - (0.2 if _VAGUE.search(x) else 0.0)
                - (1.0 if _NOT_A_FINDING.search(x) else 0.0)
                for v, x in zip(rows, sents)
            ]
            claims.append(sents[max(range(len(sents)), key=scores.__getitem__)])
        return claims

    def _split(
        self, node: OutlineNode, members: list[int], studies, vectors, level: int, depth: int, taken: set[str]
    ) -> None:
        """Cluster members into 2-6 children (size-balanced), recursing while groups are large."""
        cfg = self.settings.outline
        n = len(members)
        if level > depth or n < cfg.min_split:
            node.papers = [studies[i].paper_id for i in members]
            return
        k = max(2, min(6 if level == 1 else 4, round(math.sqrt(n / 2)) + (1 if level == 1 else 0)))
        groups = _balanced_clusters(vectors[members], k)
        groups = [[members[i] for i in g] for g in groups if g]
        if len(groups) < 2:
            node.papers = [studies[i].paper_id for i in members]
            return
        # Titles twice: they name what a study is about better than its finding sentence.
        texts = [[f"{studies[i].title} {studies[i].title} {studies[i].claim}" for i in g] for g in groups]
        avoid = {w for label in (node.label, *taken) for w in re.findall(r"[a-z][a-z0-9-]+", label.lower())}
        taken_all = {node.label.lower(), self._topic.lower()} | {s.lower() for s in taken}
        central = [_central(g, vectors) for g in groups]
        fallbacks = [f"{_short_title(studies[i].title)} and related" for i in central]
        labels = distinctive_labels(texts, taken=set(taken_all), avoid=avoid, background=self._bg, fallbacks=fallbacks)
        sources = ["terms"] * len(labels)
        if self._use_llm and self.settings.outline.llm_labels:
            llm = self._llm_labels(groups, studies, vectors, labels, taken_all, avoid)
            sources = ["llm" if a != b else "terms" for a, b in zip(llm, labels)]
            labels = llm
        for group, label, source in zip(groups, labels, sources):
            child = OutlineNode(label=label, label_source=source)
            node.children.append(child)
            self._split(child, group, studies, vectors, level + 1, depth, taken | {label.lower()})

    def _assign(self, root: OutlineNode, studies, vectors) -> None:
        """Score every study against every leaf; add a second leaf when it fits it about as well."""
        import numpy as np

        cfg = self.settings.outline
        index = {s.paper_id: i for i, s in enumerate(studies)}
        located = [(leaf, path) for leaf, path in _leaf_paths(root) if leaf.papers]
        leaves = [leaf for leaf, _ in located]
        sums = np.asarray([vectors[[index[p] for p in leaf.papers]].sum(axis=0) for leaf in leaves])
        sizes = np.asarray([len(leaf.papers) for leaf in leaves], dtype=np.float32)
        members = [{index[p] for p in leaf.papers} for leaf in leaves]
        sims = np.zeros((len(studies), len(leaves)), dtype=np.float32)  # studies x leaves
        for j in range(len(leaves)):
            for i in range(len(studies)):
                # A study is scored against its own category without itself in the centroid,
                # so a lone or ill-fitting study can fall to Other.
                c = sums[j] - vectors[i] if i in members[j] else sums[j]
                n = sizes[j] - 1 if i in members[j] else sizes[j]
                sims[i, j] = float(vectors[i] @ c / (np.linalg.norm(c) or 1.0)) if n > 0 else 0.0
        other: list[str] = []
        for leaf in leaves:
            leaf.papers = []
        for i, s in enumerate(studies):
            order = np.argsort(-sims[i])
            best = int(order[0])
            if sims[i, best] < cfg.min_assignment:
                other.append(s.paper_id)
                continue
            chosen = [best]
            if len(order) > 1:
                second = int(order[1])
                if sims[i, second] >= sims[i, best] - cfg.multi_margin and sims[i, second] >= cfg.min_assignment:
                    chosen.append(second)
            for j in chosen:
                leaves[j].papers.append(s.paper_id)
                s.assignments.append(
                    Assignment(label=leaves[j].label, path=located[j][1], fit=round(float(sims[i, j]), 4))
                )
        other = self._regroup_leftovers(root, other, studies, vectors)
        if other:
            root.children.append(
                OutlineNode(
                    label="Other", description="Studies that fit no category well.", papers=other, label_source="other"
                )
            )

    def _regroup_leftovers(self, root: OutlineNode, other: list[str], studies, vectors) -> list[str]:
        """Studies that fit no category but fit each other (average-link cosine at least
        ``min_assignment``) become a top-level category of their own, while there are fewer
        than six; the rest stay in Other."""
        import numpy as np
        from scipy.cluster.hierarchy import fcluster, linkage

        cfg = self.settings.outline
        if len(other) < 2 or len(root.children) >= 6:
            return other
        index = {s.paper_id: i for i, s in enumerate(studies)}
        rows = [index[p] for p in other]
        cut = fcluster(
            linkage(vectors[rows], method="average", metric="cosine"), t=1 - cfg.min_assignment, criterion="distance"
        )
        groups = sorted(
            (g for g in ([rows[k] for k in np.where(cut == c)[0]] for c in set(cut)) if len(g) >= 2),
            key=len,
            reverse=True,
        )
        rest = [i for i in range(len(studies)) if i not in set(rows)]
        taken = {self._topic.lower()} | {c.label.lower() for c in root.children}
        avoid = set(re.findall(r"[a-z][a-z0-9-]+", self._topic.lower()))
        for group in groups[: 6 - len(root.children)]:
            texts = [[f"{studies[i].title} {studies[i].title} {studies[i].claim}" for i in g] for g in (group, rest)]
            fallback = [f"{_short_title(studies[_central(group, vectors)].title)} and related"]
            label = distinctive_labels(texts, taken=set(taken), avoid=avoid, background=self._bg, fallbacks=fallback)[0]
            source = "terms"
            if self._use_llm and cfg.llm_labels:
                proposed = self._llm_labels([group], studies, vectors, [label], taken, avoid)[0]
                source, label = ("llm" if proposed != label else "terms"), proposed
            taken.add(label.lower())
            node = OutlineNode(label=label, label_source=source)
            for i in group:
                others = [j for j in group if j != i]
                c = vectors[others].sum(axis=0)
                fit = float(vectors[i] @ c / (np.linalg.norm(c) or 1.0))
                node.papers.append(studies[i].paper_id)
                studies[i].assignments.append(Assignment(label=label, path=[label], fit=round(fit, 4)))
            root.children.append(node)
            self.checks["leftover_categories"] += 1
        return [p for p in other if not studies[index[p]].assignments]

    def _check_assignments(self, root: OutlineNode, studies: list[OutlineStudy]) -> None:
        """Ask the support judge whether each study is about each leaf it was put in. The
        judge agrees with an assignment when that leaf is among its two best leaves for the
        study (its scores for label hypotheses are not calibrated, its ranking is usable). A
        second category the judge does not agree with is withdrawn."""
        leaves = {tuple(path): leaf for leaf, path in _leaf_paths(root) if leaf.papers}
        if not leaves:
            return
        names = list(leaves)
        pairs = [
            (f"{s.title}. {s.claim}", f"This study is about {_phrase(name[-1])}.") for s in studies for name in names
        ]
        scores = self._judge_factory().score(pairs)
        for i, s in enumerate(studies):
            row = dict(zip(names, scores[i * len(names) : (i + 1) * len(names)]))
            top = sorted(row, key=row.get, reverse=True)[:2]
            kept = []
            for k, a in enumerate(s.assignments):
                key = tuple(a.path)
                a.judge = round(float(row.get(key, 0.0)), 4)
                a.agreed = key in top
                self.checks["assignments"] += 1
                self.checks["assignments_agreed"] += int(a.agreed)
                if k > 0 and not a.agreed:
                    leaves[key].papers.remove(s.paper_id)
                    self.checks["second_categories_withdrawn"] += 1
                    continue
                kept.append(a)
            s.assignments = kept

    def _draft(self, outline: Outline, papers: dict[str, Paper]) -> None:
        """A short paragraph per category from its own studies' claims, each cited and each
        judged against the abstract it cites; a sentence the judge rejects is left out."""
        numbers = {r.paper_id: r.n for r in outline.references}
        claims = {s.paper_id: s.claim for s in outline.studies}
        nodes = [n for n in outline.walk() if n.papers and n is not outline.tree]
        picked = {id(n): n.papers[:4] for n in nodes}
        pairs = [(papers[p].abstract, claims[p]) for n in nodes for p in picked[id(n)]]
        if self._judge_factory is not None and pairs:
            scores = iter(self._judge_factory().score(pairs))
            verdict = {(id(n), p): next(scores) >= self.settings.judge.threshold for n in nodes for p in picked[id(n)]}
        else:
            verdict = {(id(n), p): True for n in nodes for p in picked[id(n)]}
        for node in nodes:
            parts = []
            for p in picked[id(node)]:
                self.checks["draft_sentences"] += 1
                if verdict[(id(node), p)]:
                    parts.append(f"{claims[p].rstrip('.')} [{numbers[p]}].")
                else:
                    self.checks["draft_sentences_rejected"] += 1
            node.draft = " ".join(parts) or None


def _balanced_clusters(vectors, k: int) -> list[list[int]]:
    """Ward clustering cut at k, then big clusters trimmed toward balance by reassignment."""
    import numpy as np
    from scipy.cluster.hierarchy import fcluster, linkage

    n = len(vectors)
    if n <= k:
        return [[i] for i in range(n)]
    labels = fcluster(linkage(vectors, method="ward"), t=k, criterion="maxclust") - 1
    groups = [list(np.where(labels == c)[0]) for c in range(labels.max() + 1)]
    groups = [g for g in groups if g]
    cap = max(2, math.ceil(1.8 * n / len(groups)))
    for _ in range(n):
        big = max(range(len(groups)), key=lambda g: len(groups[g]))
        if len(groups[big]) <= cap:
            break
        cents = np.asarray([vectors[g].mean(axis=0) for g in groups])
        # move the member of the big group that fits another group best
        best = None
        for i in groups[big]:
            for g in range(len(groups)):
                if g != big and len(groups[g]) < cap:
                    gain = float(vectors[i] @ cents[g] - vectors[i] @ cents[big])
                    if best is None or gain > best[0]:
                        best = (gain, i, g)
        if best is None:
            break
        groups[big].remove(best[1])
        groups[best[2]].append(best[1])
    # a singleton is not a category: fold it into its closest group
    while len(groups) > 2 and min(len(g) for g in groups) < 2:
        small = min(range(len(groups)), key=lambda g: len(groups[g]))
        lone = groups.pop(small)
        cents = np.asarray([vectors[g].mean(axis=0) for g in groups])
        groups[int(np.argmax(cents @ vectors[lone].mean(axis=0)))].extend(lone)
    return [sorted(int(i) for i in g) for g in groups]


def _central(group: list[int], vectors) -> int:
    """The member closest to the group's centroid."""
    import numpy as np

    cent = vectors[group].mean(axis=0)
    return group[int(np.argmax(vectors[group] @ cent))]


def _short_title(title: str) -> str:
    """A study's name: the part of its title before a colon when short, else its first words."""
    head = title.split(":")[0].strip()
    words = head.split()
    return head if len(words) <= 5 else " ".join(words[:4])


def _recount(node: OutlineNode) -> set[str]:
    """Each category's description: how many studies ended up under it after assignment."""
    under = set(node.papers)
    for c in node.children:
        under |= _recount(c)
    if node.label_source in ("llm", "terms"):
        noun = "study" if len(under) == 1 else "studies"
        node.description = f"{len(under)} {noun} on {node.label[0].lower() + node.label[1:]}."
    return under


def _phrase(label: str) -> str:
    return label.replace(" / ", " and ").lower()


def _leaf_paths(node: OutlineNode, path: tuple[str, ...] = ()) -> list[tuple[OutlineNode, list[str]]]:
    """Leaves under ``node`` with the labels from the top level down to them (the root is the topic)."""
    if not node.children:
        return [(node, list(path))]
    return [found for c in node.children for found in _leaf_paths(c, (*path, c.label))]


def _settle_paths(root: OutlineNode, studies: list[OutlineStudy]) -> None:
    """Point each assignment at the node that holds the study after pruning (a pruned chain
    hands its studies to the parent)."""
    where: dict[str, list[list[str]]] = {}

    def walk(node: OutlineNode, path: tuple[str, ...]) -> None:
        for pid in node.papers:
            where.setdefault(pid, []).append(list(path))
        for c in node.children:
            walk(c, (*path, c.label))

    walk(root, ())
    for s in studies:
        paths = [p for p in where.get(s.paper_id, []) if p and p[0] != "Other"]
        rest = []
        for a in s.assignments:
            exact = next((p for p in paths if p == a.path), None)
            if exact is not None:
                paths.remove(exact)
            else:
                rest.append(a)
        for a, p in zip(rest, paths):
            a.path, a.label = p, p[-1]


def _leaves(node: OutlineNode) -> list[OutlineNode]:
    if not node.children:
        return [node]
    return [leaf for c in node.children for leaf in _leaves(c)]


def _prune(node: OutlineNode) -> None:
    """No empty categories, no single-child chains."""
    for c in node.children:
        _prune(c)
    node.children = [c for c in node.children if c.papers or c.children]
    while len(node.children) == 1 and not node.papers and node.children[0].children:
        only = node.children[0]
        node.children = only.children
    if len(node.children) == 1 and not node.children[0].children:
        node.papers = list(dict.fromkeys(node.papers + node.children[0].papers))
        node.children = []


def _references(outline: Outline, papers: dict[str, Paper]) -> list[Reference]:
    order: list[str] = []
    for node in outline.walk():
        for pid in node.papers:
            if pid not in order:
                order.append(pid)
    return [
        Reference(n=i + 1, paper_id=pid, title=papers[pid].title, date=papers[pid].date) for i, pid in enumerate(order)
    ]
