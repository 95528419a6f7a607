"""`outline`: CHIME-style hierarchical related-work outlines that do not trust the LLM.

topic -> candidate studies (hybrid search + embedding expansion, kept above a relevance
threshold) -> one extractive claim per study -> hierarchical clustering of study embeddings
with a size-balanced cut -> labels from distinctive terms (an LLM label only when it is short,
valid and distinct) -> assignment checked against each category's centroid, a study placed in
a second category only when it fits it about as well -> "Other" for the rest -> cited output.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections import Counter

from .chunking import split_sentences
from .errors import QueryError
from .models import Outline, OutlineNode, OutlineStudy, Paper, Reference
from .settings import Settings

__all__ = ["OutlineBuilder", "distinctive_labels"]

log = logging.getLogger(__name__)

_FINDING = re.compile(
    r"\b(we (propose|introduce|present|show|find|demonstrate|develop)|our (results|experiments|findings|analysis)|"
    r"results (show|demonstrate|indicate|reveal)|outperform|improv|achiev|significantly|state-of-the-art)",
    re.IGNORECASE,
)
_VAGUE = re.compile(
    r"\b(these|this|such) (challenges|issues|problems|limitations|gaps)\b|^(however|in this work|in this paper)\b",
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
    high higher low lower small smaller larger need needs often still while whether thus therefore i.e e.g""".split()
)


def _terms(text: str) -> list[str]:
    tokens = re.findall(r"[a-z][a-z0-9-]+", text.lower())
    ok = [w not in _STOP and len(w) > 2 for w in tokens]
    words = [w for w, good in zip(tokens, ok) if good]
    # Bigrams of words adjacent in the text, so "sequence to sequence" never becomes one.
    bigrams = [f"{a} {b}" for a, b, ga, gb in zip(tokens, tokens[1:], ok, ok[1:]) if ga and gb and a != b]
    return words + bigrams


def distinctive_labels(
    groups: list[list[str]], taken: set[str] | None = None, avoid: set[str] | None = None
) -> list[str]:
    """One label per group of texts: its most distinctive terms (class-based TF-IDF), never
    made of the ``avoid`` words (the topic and the parent labels say those already)."""
    avoid = {w.rstrip("s") for w in (avoid or set())}
    counts = [
        Counter(t for text in g for t in set(_terms(text)) if not any(w.rstrip("s") in avoid for w in t.split()))
        for g in groups
    ]
    df = Counter(t for c in counts for t in c)
    taken = set(taken or ())
    labels = []
    for group, c in zip(groups, counts):
        size = max(1, len(group))
        scored = sorted(
            ((n / size) * math.log(1 + len(groups) / df[t]) * (1.3 if " " in t else 1.0), t)
            for t, n in c.items()
            if n >= min(2, size)
        )
        picked: list[str] = []
        for _, term in reversed(scored):
            if any(term in p or p in term for p in picked):
                continue
            picked.append(term)
            if len(picked) == 2:
                break
        label = " / ".join(picked) if picked else "miscellaneous"
        label = label[0].upper() + label[1:]
        n = 2
        base = label
        while label.lower() in taken:
            label = f"{base} ({n})"
            n += 1
        taken.add(label.lower())
        labels.append(label)
    return labels


class OutlineBuilder:
    """Builds an Outline for a topic from an open Index."""

    def __init__(self, settings: Settings, index, llm_factory=None) -> None:
        self.settings = settings
        self.index = index
        self._llm_factory = llm_factory

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

    def build(self, topic: str, depth: int | None = None, draft: bool = False) -> Outline:
        """The outline tree for ``topic``; QueryError when the corpus has nothing on it."""
        import numpy as np

        topic = " ".join((topic or "").split())
        if not topic:
            raise QueryError('the topic is empty: e.g. review outline --topic "model merging"')
        cfg = self.settings.outline
        depth = depth or cfg.depth
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
        claims = self._claims([p for p, _ in found])
        studies = [
            OutlineStudy(paper_id=p.id, title=p.title, claim=c, relevance=round(r, 4))
            for (p, r), c in zip(found, claims)
        ]
        timings["claims"] = time.perf_counter() - t
        t = time.perf_counter()
        vectors = self.index.embedder.embed_documents([f"{s.title}. {s.claim}" for s in studies])
        vectors = np.asarray(vectors, dtype=np.float32)
        root = OutlineNode(
            label=topic, description=f"Studies on {topic} in the indexed corpus ({len(studies)} papers)."
        )
        self._split(root, list(range(len(studies))), studies, vectors, level=1, depth=depth, taken=set())
        timings["hierarchy"] = time.perf_counter() - t
        t = time.perf_counter()
        self._assign(root, studies, vectors)
        _prune(root)
        timings["assignment"] = time.perf_counter() - t
        outline = Outline(topic=topic, tree=root, studies=studies)
        outline.references = _references(outline, {p.id: p for p, _ in found})
        if draft:
            t = time.perf_counter()
            _draft(outline.tree, {s.paper_id: s for s in studies}, {r.paper_id: r.n for r in outline.references})
            timings["draft"] = time.perf_counter() - t
        outline.timings = {k: round(v, 4) for k, v in timings.items()}
        return outline

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
                float(v @ title) + 0.15 * min(2, len(_FINDING.findall(x))) - (0.2 if _VAGUE.search(x) else 0.0)
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
        labels = distinctive_labels(texts, taken={node.label.lower()} | {s.lower() for s in taken}, avoid=avoid)
        for group, label in zip(groups, labels):
            child = OutlineNode(label=label, description=_describe(label, [studies[i] for i in group]))
            node.children.append(child)
            self._split(child, group, studies, vectors, level + 1, depth, taken | {label.lower()})

    def _assign(self, root: OutlineNode, studies, vectors) -> None:
        """Score every study against every leaf; add a second leaf when it fits it about as well."""
        import numpy as np

        cfg = self.settings.outline
        index = {s.paper_id: i for i, s in enumerate(studies)}
        leaves = [leaf for leaf in _leaves(root) if leaf.papers]
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
                s.assignments[leaves[j].label] = round(float(sims[i, j]), 4)
        if other:
            root.children.append(
                OutlineNode(label="Other", description="Studies that fit no category well.", papers=other)
            )


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


def _describe(label: str, studies) -> str:
    return f"{len(studies)} studies on {label.lower()}."


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


def _draft(node: OutlineNode, studies: dict, numbers: dict[str, int]) -> None:
    """A short paragraph per category from its own studies' claims, each cited (extractive)."""
    for c in node.children:
        _draft(c, studies, numbers)
    if node.papers:
        parts = [f"{studies[p].claim.rstrip('.')} [{numbers[p]}]." for p in node.papers[:4]]
        node.draft = " ".join(parts)
