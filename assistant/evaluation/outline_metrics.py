"""Metrics that compare a generated outline tree with a gold one (pure functions, no model).

Both trees are plain dicts in the JSON shape ``{label, description, papers, children}``: the
gold ones from ``evals/data/outline_gold.json``, the predicted one from
``outline.tree.tree_dict()``. The root of each tree stands for the topic and is always
matched to the other root.

``node_path_prf``: study-assignment precision / recall / F1 with node-path aggregation, in the
manner of CHIME (Hsu et al. 2024, arXiv 2407.16148), who score the studies an LLM assigns to
categories against expert-corrected hierarchies. What is computed here, exactly:

1. Node matching, top-down. The roots are matched. For every matched pair (gold node g,
   predicted node p), the children of g are matched one-to-one with the children of p by the
   maximum total overlap |S(g') & S(p')|, where S(n) is the set of papers on n or anywhere
   below it. The assignment is the Hungarian one (``scipy.optimize.linear_sum_assignment``),
   not a greedy one: greedy takes the single biggest overlap first and can leave another gold
   category without the only predicted category that overlaps it, while Hungarian maximises
   the total overlap, so the result does not depend on the order of the children. Ties are
   broken by the word Jaccard of the labels (weighted below one shared paper, so it never
   overrides an overlap). A pair with no shared paper is left unmatched. Recursion happens only
   inside matched pairs, so a matched node's matched ancestors are exactly the path from the
   root to it: a node whose parent is unmatched is unmatched too.
2. Placements. Every (study, category) pair with the study on the category's ``papers`` is
   one placement of that study at the category's root path (normally a leaf; a study on two
   leaves is two placements). The root is not a category: studies listed on the root itself
   are not placements. A top-level predicted node labelled "Other" (any case) is left out of
   the predicted tree: its studies are neither placements nor matched, i.e. not placed.
3. A gold placement (s, g) is recovered when every node on the root path of g is matched (the
   whole path matches) and s is placed at the match of g or anywhere below it. A predicted
   placement (s, p) is correct when every node on its root path is matched and s is placed in
   the gold tree at the gold match of p or below it. "Or below it" makes depth differences
   count one way each: a prediction coarser than the gold (a leaf where the gold splits
   further) keeps precision and loses recall; a finer one keeps recall and loses precision.
4. precision = correct predicted placements / predicted placements; recall = recovered gold
   placements / gold placements; F1 their harmonic mean (0 when both are 0). Predicted
   placements of papers outside the gold topic are wrong, so precision also pays for
   retrieving off-topic papers; ``precision_in_gold`` counts only the predicted placements of
   gold studies, which isolates the assignment from the retrieval.

The other metrics: ``coverage`` (gold studies placed anywhere, "Other" excluded),
``sibling_coherence`` (share of sibling groups with distinct labels at a similar level of
generality, see its docstring) and ``tree_invariants`` (the gold set's structural rules).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "coverage",
    "node_path_prf",
    "on_topic_precision",
    "score_outline",
    "sibling_coherence",
    "sibling_problems",
    "studies_under",
    "tree_invariants",
]

Tree = dict[str, Any]

#: Siblings whose label lengths in content words differ by more than this factor are not at
#: the same level of generality ("Adapters" vs "Low-rank adapters for multilingual code
#: generation"). 4, not 3: the gold's "Surveys" sits beside "Domain- and task-specific
#: instruction tuning" (1 vs 4 content words) and the gold is by construction acceptable.
LABEL_LENGTH_FACTOR = 4.0
#: Not counted as words of a label when comparing lengths.
_LABEL_STOP = frozenset("a an the and or of for to in on with by from via vs its their".split())
#: The dominance check (off by default) applies only to groups of at least this many studies.
DOMINANT_MIN_STUDIES = 5


def _is_other(node: Tree) -> bool:
    return node.get("label", "").strip().lower() == "other"


def _without_other(tree: Tree) -> Tree:
    """The tree without its top-level "Other" node."""
    return {**tree, "children": [c for c in tree.get("children", []) if not _is_other(c)]}


def studies_under(node: Tree) -> set[str]:
    """Papers on the node or anywhere below it."""
    out = set(node.get("papers", []))
    for c in node.get("children", []):
        out |= studies_under(c)
    return out


def _norm(label: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", label.lower()))


def _words(label: str) -> set[str]:
    return set(_norm(label).split())


def _content_length(label: str) -> int:
    """Words of a label without stop words; hyphenated compounds are one word."""
    words = [w.strip("()[],.:;-'\"") for w in re.split(r"[\s/]+", label.lower())]
    return max(1, sum(1 for w in words if w and w not in _LABEL_STOP))


def _jaccard(a: str, b: str) -> float:
    wa, wb = _words(a), _words(b)
    return len(wa & wb) / len(wa | wb) if wa | wb else 0.0


def _match_children(gold: Tree, pred: Tree) -> list[tuple[int, int]]:
    """Hungarian one-to-one match of gold's children to pred's by shared papers."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    gc, pc = gold.get("children", []), pred.get("children", [])
    if not gc or not pc:
        return []
    gu, pu = [studies_under(c) for c in gc], [studies_under(c) for c in pc]
    overlap = np.array([[len(g & p) for p in pu] for g in gu], dtype=float)
    tie = np.array([[_jaccard(g["label"], p["label"]) for p in pc] for g in gc])
    rows, cols = linear_sum_assignment(overlap + 0.5 * tie, maximize=True)
    return [(int(r), int(c)) for r, c in zip(rows, cols) if overlap[r, c] > 0]


def _match(gold: Tree, pred: Tree, path: tuple[int, ...], ppath: tuple[int, ...], out: dict) -> None:
    out[path] = ppath
    for gi, pi in _match_children(gold, pred):
        _match(gold["children"][gi], pred["children"][pi], path + (gi,), ppath + (pi,), out)


def _nodes(tree: Tree, path: tuple[int, ...] = ()):
    """(index path, node) for every node, root first."""
    yield path, tree
    for i, c in enumerate(tree.get("children", [])):
        yield from _nodes(c, path + (i,))


def _placements(tree: Tree) -> list[tuple[str, tuple[int, ...]]]:
    """(study, index path) for every study on a category; the root is not one."""
    return [(pid, path) for path, node in _nodes(tree) if path for pid in node.get("papers", [])]


def _label_path(tree: Tree, path: tuple[int, ...]) -> list[str]:
    labels, node = [], tree
    for i in path:
        node = node["children"][i]
        labels.append(node["label"])
    return labels


def _placed_under(placements: set[tuple[str, tuple[int, ...]]], study: str, node: tuple[int, ...]) -> bool:
    return any(s == study and p[: len(node)] == node for s, p in placements)


def node_path_prf(pred_tree: Tree, gold_tree: Tree) -> dict:
    """CHIME-style study-assignment P/R/F1 where a placement counts only if its whole node path matches."""
    pred = _without_other(pred_tree)
    g2p: dict[tuple[int, ...], tuple[int, ...]] = {}
    _match(gold_tree, pred, (), (), g2p)
    p2g = {p: g for g, p in g2p.items()}

    gold_pl, pred_pl = _placements(gold_tree), _placements(pred)
    gold_set, pred_set = set(gold_pl), set(pred_pl)
    gold_studies = studies_under(gold_tree)

    def recovered(study: str, gpath: tuple[int, ...]) -> bool:
        return gpath in g2p and _placed_under(pred_set, study, g2p[gpath])

    def correct(study: str, ppath: tuple[int, ...]) -> bool:
        return ppath in p2g and _placed_under(gold_set, study, p2g[ppath])

    tp_gold = sum(recovered(s, p) for s, p in gold_pl)
    tp_pred = sum(correct(s, p) for s, p in pred_pl)
    in_gold = [(s, p) for s, p in pred_pl if s in gold_studies]
    precision = tp_pred / len(pred_pl) if pred_pl else 0.0
    recall = tp_gold / len(gold_pl) if gold_pl else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "precision_in_gold": sum(correct(s, p) for s, p in in_gold) / len(in_gold) if in_gold else 0.0,
        "pred_placements": len(pred_pl),
        "gold_placements": len(gold_pl),
        "correct_pred": tp_pred,
        "recovered_gold": tp_gold,
        "matches": [
            {
                "gold": _label_path(gold_tree, g),
                "pred": _label_path(pred, p),
                "overlap": len(studies_under(_at(gold_tree, g)) & studies_under(_at(pred, p))),
            }
            for g, p in sorted(g2p.items())
            if g
        ],
    }


def _at(tree: Tree, path: tuple[int, ...]) -> Tree:
    for i in path:
        tree = tree["children"][i]
    return tree


def coverage(pred_tree: Tree, gold_tree: Tree) -> float:
    """Share of the gold studies placed anywhere in the predicted tree (its top-level "Other" excluded)."""
    gold = studies_under(gold_tree)
    if not gold:
        return 0.0
    return len(gold & studies_under(_without_other(pred_tree))) / len(gold)


def sibling_problems(tree: Tree, *, dominant_share: float | None = None) -> list[str]:
    """Why each failing sibling group fails sibling_coherence, one line per group."""
    problems = []
    for path, node in _nodes(tree):
        group = [c for c in node.get("children", []) if not (path == () and _is_other(c))]
        if len(group) < 2:
            continue
        why = _group_problems(group, dominant_share)
        if why:
            where = " > ".join([tree.get("label", "root"), *_label_path(tree, path)])
            problems.append(f"{where}: {'; '.join(why)}")
    return problems


def _group_problems(group: list[Tree], dominant_share: float | None = None) -> list[str]:
    labels = [c.get("label", "") for c in group]
    norm = [_norm(x) for x in labels]
    why = []
    for i in range(len(group)):
        for j in range(i + 1, len(group)):
            a, b = norm[i], norm[j]
            if a == b:
                why.append(f"duplicate labels {labels[i]!r} / {labels[j]!r}")
            elif f" {a} " in f" {b} " or f" {b} " in f" {a} ":
                why.append(f"one label contains the other: {labels[i]!r} / {labels[j]!r}")
    lengths = [_content_length(x) for x in labels]
    if max(lengths) > LABEL_LENGTH_FACTOR * min(lengths):
        short, long_ = labels[lengths.index(min(lengths))], labels[lengths.index(max(lengths))]
        why.append(f"labels of unlike length: {short!r} ({min(lengths)} words) / {long_!r} ({max(lengths)})")
    if dominant_share is None:
        return why
    sizes = [len(studies_under(c)) for c in group]
    total = len(set().union(*(studies_under(c) for c in group)))
    if total >= DOMINANT_MIN_STUDIES and max(sizes) > dominant_share * total:
        big = labels[sizes.index(max(sizes))]
        why.append(f"{big!r} holds {max(sizes)} of the group's {total} studies")
    return why


def sibling_coherence(tree: Tree, *, dominant_share: float | None = None) -> float:
    """Share of sibling groups with distinct, similarly general labels and no dominant member (1.0 if none).

    A sibling group is the children of one node, when there are at least two (the top-level
    "Other" is a catch-all, not a category, and is left out). A group passes when:
    - its labels are distinct: no two equal after lower-casing and dropping punctuation, and
      none contained in another as a whole-word phrase ("Task vectors" / "Task vectors (2)",
      "LoRA" / "LoRA variants": the longer is a kind of the shorter, not its peer);
    - its labels are of like length: the longest has at most LABEL_LENGTH_FACTOR (4) times
      the content words of the shortest (stop words dropped, hyphenated compounds one word).
      Length is a crude proxy for generality, but a label four times longer than its
      sibling's is nearly always a narrower concept or a sentence rather than a peer;
    - with ``dominant_share`` set (e.g. 0.7): when the group holds at least 5 studies, no
      sibling holds more than that share of them. Off by default because a sibling that is
      itself subdivided legitimately holds most studies: the gold PEFT tree's "PEFT method
      families" (4 sub-categories) holds 17 of 24.
    All gold hierarchies pass the default checks; ``sibling_problems`` says why a group fails.
    """
    total = failed = 0
    for path, node in _nodes(tree):
        group = [c for c in node.get("children", []) if not (path == () and _is_other(c))]
        if len(group) < 2:
            continue
        total += 1
        failed += bool(_group_problems(group, dominant_share))
    return 1.0 - failed / total if total else 1.0


def tree_invariants(tree: Tree) -> list[str]:
    """Violations of the gold rules: empty categories, single-child chains, duplicate sibling labels."""
    out = []
    for path, node in _nodes(tree):
        where = " > ".join([tree.get("label", "root"), *_label_path(tree, path)])
        children = node.get("children", [])
        if path and not children and not node.get("papers"):
            out.append(f"empty category: {where}")
        if len(children) == 1:
            out.append(f"single-child chain: {where} has only {children[0].get('label', '')!r}")
        seen: dict[str, str] = {}
        for c in children:
            key = _norm(c.get("label", ""))
            if key in seen:
                out.append(f"duplicate sibling labels under {where}: {seen[key]!r} / {c.get('label', '')!r}")
            else:
                seen[key] = c.get("label", "")
    return out


def on_topic_precision(pred_tree: Tree, in_scope: set[str], borderline: set[str] = frozenset()) -> float:
    """Share of the studies placed in the predicted tree (its top-level "Other" excluded) that
    belong to the topic; ``borderline`` studies count neither way."""
    placed = studies_under(_without_other(pred_tree)) - set(borderline)
    if not placed:
        return 0.0
    return len(placed & set(in_scope)) / len(placed)


def score_outline(
    pred_tree: Tree, gold_tree: Tree, *, in_scope: list[str] | None = None, borderline: list[str] | None = None
) -> dict[str, Any]:
    """Every metric of one predicted tree against its gold tree, plus what the scores rest on:
    {precision, recall, f1, precision_in_gold, coverage, coherence, coherence_problems,
    invariants, matches, placed, other, missed, off_topic}. "Other" is the predicted top-level
    node of that label; ``placed`` counts the studies outside it. ``in_scope`` (default: the gold
    tree's studies) is every study that belongs to the topic, ``borderline`` the ones that count
    neither way in on-topic precision."""
    prf = node_path_prf(pred_tree, gold_tree)
    gold = studies_under(gold_tree)
    scope = set(in_scope) if in_scope is not None else gold
    border = set(borderline or ())
    placed = studies_under(_without_other(pred_tree))
    other = studies_under(pred_tree) - placed
    return {
        "precision": prf["precision"],
        "recall": prf["recall"],
        "f1": prf["f1"],
        "precision_in_gold": prf["precision_in_gold"],
        "coverage": coverage(pred_tree, gold_tree),
        "on_topic_precision": on_topic_precision(pred_tree, scope, border),
        "coherence": sibling_coherence(pred_tree),
        "coherence_problems": sibling_problems(pred_tree),
        "invariants": tree_invariants(pred_tree),
        "matches": prf["matches"],
        "placed": len(placed),
        "other": len(other),
        "missed": sorted(gold - placed),
        "off_topic": sorted(placed - scope - border),
    }
