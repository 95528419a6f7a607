"""Tree surgery and bookkeeping on the outline: placing studies in leaves (and leftovers in
categories of their own or in Other), the judge's check of each placement, pruning, paths,
counts, references and the judged draft paragraphs."""

from __future__ import annotations

import re

from ..models import Assignment, Outline, OutlineNode, OutlineStudy, Paper, Reference
from .clustering import central, short_title
from .labels import cased, distinctive_labels, llm_labels
from .run import OutlineRun

__all__ = [
    "assign",
    "check_assignments",
    "draft",
    "leaf_paths",
    "prune",
    "recount",
    "references",
    "rename_stale_related",
    "settle_paths",
]


def assign(run: OutlineRun, root: OutlineNode, studies: list[OutlineStudy], vectors) -> None:
    """Score every study against every leaf; add a second leaf when it fits it about as well."""
    import numpy as np

    cfg = run.settings.outline
    index = {s.paper_id: i for i, s in enumerate(studies)}
    located = [(leaf, path) for leaf, path in leaf_paths(root) if leaf.papers]
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
    uses = _facet_uses(run, root, leaves)
    placed: dict[int, list[int]] = {}
    for i in range(len(studies)):
        order = np.argsort(-sims[i])
        # A study that uses a category's phrase goes to one of those categories: the phrase is the
        # evidence that it is about it (the deepest facets it uses; none: every leaf).
        using = uses(studies[i].paper_id)
        if using:
            order = np.asarray([j for j in order if j in using])
        best = int(order[0])
        # Without its phrase, a study joins a phrase-first category only when it fits it well: the
        # label names what the category's studies use, and "Online shopping" held four studies
        # that never mention it at 0.35.
        floor = cfg.facet_min_fit if run.facet_members else cfg.min_assignment
        if sims[i, best] < floor and not using:
            continue
        chosen = [best]
        if len(order) > 1:
            second = int(order[1])
            if sims[i, second] >= sims[i, best] - cfg.multi_margin and sims[i, second] >= cfg.min_assignment:
                chosen.append(second)
        placed[i] = chosen
    tops = [path[0] if path else "" for _, path in located]
    if len(set(tops)) >= 2 and len({tops[j] for js in placed.values() for j in js}) < 2:
        # A big category's centroid is close to every study (an average of many is close to the
        # field's mean), so in a small outline it can take all of them and undo the split: the
        # clustering's own categories stand instead.
        placed = {i: [j] for j, m in enumerate(members) for i in sorted(m)}
        run.checks["assignment_kept_clusters"] += 1
    other: list[str] = []
    for leaf in leaves:
        leaf.papers = []
    for i, s in enumerate(studies):
        if i not in placed:
            other.append(s.paper_id)
            continue
        for j in placed[i]:
            leaves[j].papers.append(s.paper_id)
            s.assignments.append(Assignment(label=leaves[j].label, path=located[j][1], fit=round(float(sims[i, j]), 4)))
    other += _dissolve_singletons(run, leaves, located, studies)
    other = _regroup_leftovers(run, root, other, studies, vectors)
    if other:
        root.children.append(
            OutlineNode(
                label="Other", description="Studies that fit no category well.", papers=other, label_source="other"
            )
        )


def _facet_uses(run: OutlineRun, root: OutlineNode, leaves: list[OutlineNode]):
    """``uses(paper_id)``: the leaves (indices into ``leaves``) whose own phrase the study uses,
    else those under a phrase-first category whose phrase it uses, else an empty set."""
    if not run.facet_members:
        return lambda pid: set()
    under: dict[int, set[int]] = {}  # id of a category -> leaves at or below it

    def walk(node: OutlineNode) -> set[int]:
        if not node.children:
            found = {j for j, leaf in enumerate(leaves) if leaf is node}
        else:
            found = set().union(*(walk(c) for c in node.children))
        under[id(node)] = found
        return found

    walk(root)
    own = {j: run.facet_members.get(id(leaf), set()) for j, leaf in enumerate(leaves)}

    def uses(pid: str) -> set[int]:
        direct = {j for j, members in own.items() if pid in members}
        if direct:
            return direct
        return set().union(*(under.get(node, set()) for node, members in run.facet_members.items() if pid in members))

    return uses


def _dissolve_singletons(run: OutlineRun, leaves, located, studies: list[OutlineStudy]) -> list[str]:
    """A top-level category left with one study is no category ("Fine-grained Contract NER and
    related" in an outline on hallucination): its study goes to Other (or stays only in its
    second category), while a real category remains."""
    out: list[str] = []
    by_id = {s.paper_id: s for s in studies}
    for leaf, (_, path) in zip(leaves, located):
        if len(path) != 1 or len(leaf.papers) != 1 or not any(len(lf.papers) >= 2 for lf in leaves):
            continue
        pid = leaf.papers.pop()
        study = by_id[pid]
        study.assignments = [a for a in study.assignments if a.path != path]
        if not study.assignments:
            out.append(pid)
        run.checks["assignment_singletons_to_other"] += 1
    return out


def _regroup_leftovers(
    run: OutlineRun, root: OutlineNode, other: list[str], studies: list[OutlineStudy], vectors
) -> list[str]:
    """Studies that fit no category but fit each other (average-link cosine at least
    ``min_assignment``) become a top-level category of their own, while there are fewer
    than six; the rest stay in Other."""
    import numpy as np
    from scipy.cluster.hierarchy import fcluster, linkage

    cfg = run.settings.outline
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
    taken = {run.topic.lower()} | {c.label.lower() for c in root.children}
    avoid = set(re.findall(r"[a-z][a-z0-9-]+", run.topic.lower()))
    for group in groups[: 6 - len(root.children)]:
        texts = [[f"{studies[i].title} {studies[i].title} {studies[i].claim}" for i in g] for g in (group, rest)]
        fallback = [f"{short_title(studies[central(group, vectors)].title)} and related"]
        # Labelled against the placed studies (``rest``), whose own label is not needed.
        label, _ = distinctive_labels(
            texts, taken=set(taken), avoid=avoid, background=run.background, fallbacks=fallback
        )
        source = "terms"
        if run.llm_labels:
            proposed = llm_labels(run, [group], studies, vectors, [label], taken, avoid)[0]
            source, label = ("llm" if proposed != label else "terms"), proposed
        if source == "terms":
            label = cased(label, texts[0])
        taken.add(label.lower())
        node = OutlineNode(label=label, label_source=source)
        for i in group:
            others = [j for j in group if j != i]
            c = vectors[others].sum(axis=0)
            fit = float(vectors[i] @ c / (np.linalg.norm(c) or 1.0))
            node.papers.append(studies[i].paper_id)
            studies[i].assignments.append(Assignment(label=label, path=[label], fit=round(fit, 4)))
        root.children.append(node)
        run.checks["leftover_categories"] += 1
    return [p for p in other if not studies[index[p]].assignments]


def check_assignments(run: OutlineRun, root: OutlineNode, studies: list[OutlineStudy]) -> None:
    """Ask the support judge whether each study is about each leaf it was put in. The
    judge agrees with an assignment when that leaf is among its two best leaves for the
    study (its scores for label hypotheses are not calibrated, its ranking is usable). A
    second category the judge does not agree with is withdrawn."""
    leaves = {tuple(path): leaf for leaf, path in leaf_paths(root) if leaf.papers}
    if not leaves:
        return
    names = list(leaves)
    uses = _phrase_sentences(run, leaves, studies)
    # A tree that was not split is one leaf, the root, whose path is empty: the topic names it.
    # A study in a phrase-first category is judged on the sentence where it uses the phrase.
    pairs = [
        (
            f"{s.title}. {uses.get((s.paper_id, name), s.claim)}",
            f"This study is about {_phrase(name[-1] if name else run.topic)}.",
        )
        for s in studies
        for name in names
    ]
    scores = run.judge_factory().score(pairs)
    for i, s in enumerate(studies):
        row = dict(zip(names, scores[i * len(names) : (i + 1) * len(names)]))
        top = sorted(row, key=row.get, reverse=True)[:2]
        kept = []
        for k, a in enumerate(s.assignments):
            key = tuple(a.path)
            a.judge = round(float(row.get(key, 0.0)), 4)
            a.agreed = key in top
            run.checks["assignments"] += 1
            run.checks["assignments_agreed"] += int(a.agreed)
            if k > 0 and not a.agreed:
                leaves[key].papers.remove(s.paper_id)
                run.checks["second_categories_withdrawn"] += 1
                continue
            kept.append(a)
        s.assignments = kept


def _phrase_sentences(run: OutlineRun, leaves: dict, studies: list[OutlineStudy]) -> dict[tuple[str, tuple], str]:
    """(study, leaf path) -> the sentence of the study's abstract that uses the phrase of that
    phrase-first leaf, for the studies that use it."""
    from ..text import split_sentences
    from .claims import clean_latex
    from .facets import facet_keys

    wanted = {
        (pid, path): run.facet_keys[id(leaf)]
        for path, leaf in leaves.items()
        if id(leaf) in run.facet_keys
        for pid in run.facet_members.get(id(leaf), ())
    }
    if not wanted:
        return {}
    abstracts = {p.id: p.abstract for p in run.index.papers(sorted({pid for pid, _ in wanted}))}
    out = {}
    for (pid, path), key in wanted.items():
        for sentence in split_sentences(abstracts.get(pid, "")):
            if key in facet_keys(sentence):
                out[(pid, path)] = clean_latex(sentence)
                break
    return out


def draft(run: OutlineRun, outline: Outline, papers: dict[str, Paper]) -> None:
    """A short paragraph per category from its own studies' claims, each cited and each
    judged against the abstract it cites; a sentence the judge rejects is left out."""
    numbers = {r.paper_id: r.n for r in outline.references}
    claims = {s.paper_id: s.claim for s in outline.studies}
    nodes = [n for n in outline.walk() if n.papers and n is not outline.tree]
    picked = {id(n): n.papers[:4] for n in nodes}
    pairs = [(papers[p].abstract, claims[p]) for n in nodes for p in picked[id(n)]]
    if run.judge_factory is not None and pairs:
        scores = iter(run.judge_factory().score(pairs))
        verdict = {(id(n), p): next(scores) >= run.settings.judge.threshold for n in nodes for p in picked[id(n)]}
    else:
        verdict = {(id(n), p): True for n in nodes for p in picked[id(n)]}
    for node in nodes:
        parts = []
        for p in picked[id(node)]:
            run.checks["draft_sentences"] += 1
            if verdict[(id(node), p)]:
                parts.append(f"{claims[p].rstrip('.')} [{numbers[p]}].")
            else:
                run.checks["draft_sentences_rejected"] += 1
        node.draft = " ".join(parts) or None


def recount(node: OutlineNode) -> set[str]:
    """Each category's description: how many studies ended up under it after assignment."""
    under = set(node.papers)
    for c in node.children:
        under |= recount(c)
    if node.label_source in ("facet", "llm", "keyphrase", "terms"):
        noun = "study" if len(under) == 1 else "studies"
        label = node.label
        # "Task vectors" reads "task vectors" mid-sentence; "LLM pretraining" stays as it is.
        if not label[1:2].isupper():
            label = label[:1].lower() + label[1:]
        node.description = f"{len(under)} {noun} on {label}."
    return under


def _phrase(label: str) -> str:
    """A label as it reads inside a sentence (the judge's hypothesis)."""
    return label.replace(" / ", " and ").lower()


def leaf_paths(node: OutlineNode, path: tuple[str, ...] = ()) -> list[tuple[OutlineNode, list[str]]]:
    """Leaves under ``node`` with the labels from the top level down to them (the root is the topic)."""
    if not node.children:
        return [(node, list(path))]
    return [found for c in node.children for found in leaf_paths(c, (*path, c.label))]


def settle_paths(root: OutlineNode, studies: list[OutlineStudy]) -> None:
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


def rename_stale_related(root: OutlineNode, studies: list[OutlineStudy], vectors) -> None:
    """A "<study> and related" label names the category's central study when it was cut; when
    assignment placed that study elsewhere, the category is named after its central study now
    ("Effectiveness of Data Augmentation and related" held only the PEFT survey)."""
    index = {s.paper_id: i for i, s in enumerate(studies)}
    suffix = " and related"

    def under(node: OutlineNode) -> set[str]:
        return set(node.papers).union(*(under(c) for c in node.children))

    def walk(node: OutlineNode) -> None:
        for child in node.children:
            walk(child)
            if child.label_source != "terms" or not child.label.endswith(suffix):
                continue
            members = sorted(index[p] for p in under(child) if p in index)
            named = child.label[: -len(suffix)]
            if not members or any(short_title(studies[i].title) == named for i in members):
                continue
            label = f"{short_title(studies[central(members, vectors)].title)}{suffix}"
            if label.lower() not in {c.label.lower() for c in node.children}:
                child.label = label

    walk(root)


def prune(node: OutlineNode) -> None:
    """No empty categories, no single-child chains."""
    for c in node.children:
        prune(c)
    node.children = [c for c in node.children if c.papers or c.children]
    while len(node.children) == 1 and not node.papers and node.children[0].children:
        only = node.children[0]
        node.children = only.children
    if len(node.children) == 1 and not node.children[0].children:
        node.papers = list(dict.fromkeys(node.papers + node.children[0].papers))
        node.children = []


def references(outline: Outline, papers: dict[str, Paper]) -> list[Reference]:
    """The numbered references: each placed study once, in the order the tree first lists it."""
    order: list[str] = []
    for node in outline.walk():
        for pid in node.papers:
            if pid not in order:
                order.append(pid)
    return [
        Reference(n=i + 1, paper_id=pid, title=papers[pid].title, date=papers[pid].when) for i, pid in enumerate(order)
    ]
