"""The category hierarchy: size-balanced clustering of study embeddings, split recursively into
labelled categories."""

from __future__ import annotations

import math
import re

from ..models import OutlineNode, OutlineStudy
from .labels import cased, distinctive_labels, label_problem, llm_labels
from .phrases import phrase_labels
from .run import OutlineRun

__all__ = ["central", "short_title", "split"]


def split(
    run: OutlineRun,
    node: OutlineNode,
    members: list[int],
    studies: list[OutlineStudy],
    vectors,
    level: int,
    depth: int,
    taken: set[str],
) -> None:
    """Cluster members into 2-6 children (size-balanced), recursing while groups are large."""
    cfg = run.settings.outline
    n = len(members)
    if level > depth or n < cfg.min_split:
        node.papers = [studies[i].paper_id for i in members]
        return
    k = max(2, min(6 if level == 1 else 4, round(math.sqrt(n / 2)) + (1 if level == 1 else 0)))
    avoid = {w for label in (node.label, *taken) for w in re.findall(r"[a-z][a-z0-9-]+", label.lower())}
    if cfg.categories == "facets" and _facet_split(run, node, members, studies, vectors, k, avoid, level, depth, taken):
        return
    groups = _balanced_clusters(vectors[members], k)
    groups = [[members[i] for i in g] for g in groups if g]
    if len(groups) < 2:
        node.papers = [studies[i].paper_id for i in members]
        return
    # Titles twice: they name what a study is about better than its finding sentence.
    texts = [[f"{studies[i].title} {studies[i].title} {studies[i].claim}" for i in g] for g in groups]
    taken_all = {node.label.lower(), run.topic.lower()} | {s.lower() for s in taken}
    centrals = [central(g, vectors) for g in groups]
    fallbacks = [f"{short_title(studies[i].title)} and related" for i in centrals]
    labels = distinctive_labels(
        texts, taken=set(taken_all), avoid=avoid, background=run.background, fallbacks=fallbacks
    )
    sources = ["terms"] * len(labels)
    if cfg.keyphrase_labels:
        labels, sources = _keyphrase_labels(run, groups, studies, vectors, labels, sources, taken_all, avoid)
    if run.llm_labels:
        llm = llm_labels(run, groups, studies, vectors, labels, taken_all, avoid)
        sources = ["llm" if a != b else s for a, b, s in zip(llm, labels, sources)]
        labels = llm
    for group, label, source in zip(groups, labels, sources):
        if source in ("terms", "keyphrase"):
            label = cased(label, [f"{studies[i].title} {studies[i].claim}" for i in group])
        child = OutlineNode(label=label, label_source=source)
        node.children.append(child)
        split(run, child, group, studies, vectors, level + 1, depth, taken | {label.lower()})


def _facet_split(
    run: OutlineRun,
    node: OutlineNode,
    members: list[int],
    studies: list[OutlineStudy],
    vectors,
    k: int,
    avoid: set[str],
    level: int,
    depth: int,
    taken: set[str],
) -> bool:
    """Cut ``members`` into phrase-first categories (see facets.py); False, touching nothing,
    when fewer than two phrases qualify (the caller clusters instead).

    A study goes to the category whose phrase it uses (of several, the one whose studies it is
    closest to); a study that uses none goes to the closest category here and is placed for good
    (or sent to Other) by ``tree.assign``."""
    import numpy as np

    from .facets import choose_facets, phrase_background

    abstracts = {p.id: p.abstract for p in run.index.papers([studies[i].paper_id for i in members])}
    texts = [f"{studies[i].title}. {abstracts.get(studies[i].paper_id, studies[i].claim)}" for i in members]
    titles = [studies[i].title for i in members]
    avoid = avoid | set(re.findall(r"[a-z][a-z0-9-]+", run.topic.lower()))
    facets = choose_facets(
        texts,
        titles,
        k,
        phrase_background(run.index),
        avoid,
        embed=run.index.embedder.embed_documents,
        vectors=vectors[members],
        parent=node.label,
    )
    facets = [f for f in facets if f.label.lower() not in taken]
    if len(facets) < 2:
        run.checks["facets_too_few"] += 1
        return False
    cents = []
    for f in facets:
        c = vectors[[members[j] for j in f.members]].mean(axis=0)
        cents.append(c / (np.linalg.norm(c) or 1.0))
    cents = np.asarray(cents)
    groups: list[list[int]] = [[] for _ in facets]
    for j, i in enumerate(members):
        sims = cents @ vectors[i]
        using = [g for g, f in enumerate(facets) if j in f.members]
        best = max(using, key=lambda g: sims[g]) if using else int(np.argmax(sims))
        groups[best].append(i)
    # As the studies write the phrase, capitals inside a word kept ("DPO", "LLMs"), a title's not.
    labels = [cased(f.label.lower(), [f.label]) for f in facets]
    sources = ["facet"] * len(labels)
    if run.llm_labels:  # an LLM may name a category better, behind the same checks as ever
        taken_all = {node.label.lower(), run.topic.lower()} | {s.lower() for s in taken}
        proposed = llm_labels(run, groups, studies, vectors, labels, taken_all, avoid)
        sources = ["llm" if a != b else s for a, b, s in zip(proposed, labels, sources)]
        labels = proposed
    for f, group, label, source in zip(facets, groups, labels, sources):
        child = OutlineNode(label=label, label_source=source)
        run.facet_members[id(child)] = {studies[members[j]].paper_id for j in f.members}
        run.facet_keys[id(child)] = f.key
        run.checks["labels_facet"] += source == "facet"
        node.children.append(child)
        split(run, child, group, studies, vectors, level + 1, depth, taken | {label.lower()})
    return True


def _keyphrase_labels(
    run: OutlineRun,
    groups: list[list[int]],
    studies: list[OutlineStudy],
    vectors,
    labels: list[str],
    sources: list[str],
    taken: set[str],
    avoid: set[str],
) -> tuple[list[str], list[str]]:
    """Replace term labels with keyphrases (see phrases.phrase_labels) that pass the same checks
    as an LLM's label; a group whose phrase fails keeps its term label."""
    texts = [[f"{studies[i].title}. {studies[i].claim}" for i in g] for g in groups]
    # Phrases come from whole abstracts: two studies of a category share more of them than claims do.
    abstracts = {p.id: p.abstract for p in run.index.papers([s.paper_id for s in studies])}
    sources_text = [
        [f"{studies[i].title}. {abstracts.get(studies[i].paper_id, studies[i].claim)}" for i in g] for g in groups
    ]
    centroids = [vectors[g].mean(axis=0) for g in groups]
    proposed = phrase_labels(
        run.index.embedder.embed_documents,
        sources_text,
        centroids,
        avoid,
        run.common,
        background=run.background,
        rarity=run.settings.outline.label_rarity,
    )
    labels, sources = list(labels), list(sources)
    for j, label in enumerate(proposed):
        if label is None:
            continue
        siblings = {x.lower() for k, x in enumerate(labels) if k != j}
        others = [t for k, g in enumerate(texts) if k != j for t in g]
        problem = label_problem(label, texts[j], taken | siblings, avoid, others, run.common)
        if problem is None:
            labels[j], sources[j] = label, "keyphrase"
            run.checks["labels_keyphrase"] += 1
        else:
            run.checks["labels_keyphrase_rejected"] += 1
    return labels, sources


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


def central(group: list[int], vectors) -> int:
    """The member closest to the group's centroid."""
    import numpy as np

    cent = vectors[group].mean(axis=0)
    return group[int(np.argmax(vectors[group] @ cent))]


_DANGLING = {
    "a", "an", "the", "and", "or", "of", "for", "with", "using", "via", "in", "on", "to", "by", "from",
    "through", "towards", "toward", "as", "at", "is", "are", "be", "can", "do", "does", "what", "how", "when",
    "your", "our", "its", "their", "this", "these", "that",
}  # fmt: skip


def short_title(title: str) -> str:
    """A study's name: the part of its title before a colon when short, else its first words."""
    head = title.split(":")[0].strip()
    words = head.split()
    if len(words) <= 5:
        return head
    words = words[:4]
    while len(words) > 1 and words[-1].lower().strip(",;-") in _DANGLING:  # "Contract NER using" -> "Contract NER"
        words.pop()
    return " ".join(words).rstrip(",;-")
