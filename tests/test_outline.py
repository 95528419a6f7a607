"""`outline` on the real bundled embedder and index: invariants, formats, clear errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from assistant.errors import QueryError
from assistant.outline import distinctive_labels

TOPICS = ["model merging", "parameter-efficient fine-tuning", "preference optimization"]


def _walk(node):
    yield node
    for c in node.children:
        yield from _walk(c)


def test_distinctive_labels_are_distinct_and_informative():
    groups = [
        ["Sparse masks for merging task vectors", "Merging task vectors with sparse masks"],
        ["Low-rank adapters for fine-tuning", "LoRA adapters reduce fine-tuning memory"],
    ]
    a, b = distinctive_labels(groups)
    assert a != b
    assert "task" in a.lower() or "sparse" in a.lower() or "masks" in a.lower()
    assert "adapters" in b.lower() or "low-rank" in b.lower()
    same = distinctive_labels([["x y"], ["x y"]])
    assert same[0].lower() != same[1].lower()


@pytest.mark.slow
@pytest.mark.parametrize("topic", TOPICS)
def test_outline_invariants(real_assistant, topic):
    outline = real_assistant.outline(topic)
    candidates = {s.paper_id for s in outline.studies}
    placed = {p for node in _walk(outline.tree) for p in node.papers}
    assert candidates and candidates == placed  # every study lands in a leaf or in Other
    numbers = {r.paper_id: r.n for r in outline.references}
    assert set(numbers) == placed
    top = [c for c in outline.tree.children if c.label != "Other"]
    assert 2 <= len(top) <= 6
    for node in _walk(outline.tree):
        labels = [c.label.lower() for c in node.children]
        assert len(labels) == len(set(labels)), labels  # distinct sibling labels
        assert node.papers or node.children  # no empty category
        assert len(node.children) != 1  # no single-child chain
        for pid in node.papers:
            assert pid in candidates
    for s in outline.studies:
        if s.assignments:
            assert all(0 <= v <= 1 for v in s.assignments.values())


@pytest.mark.slow
def test_draft_cites_only_the_nodes_studies(real_assistant):
    outline = real_assistant.outline("model merging", draft=True)
    numbers = {r.paper_id: r.n for r in outline.references}
    import re

    drafted = 0
    for node in _walk(outline.tree):
        if node.draft:
            drafted += 1
            cited = {int(n) for n in re.findall(r"\[(\d+)\]", node.draft)}
            assert cited and cited <= {numbers[p] for p in node.papers}
    assert drafted >= 2


@pytest.mark.slow
def test_formats_parse(real_assistant):
    from assistant.cli import app

    s = real_assistant.settings
    env = {"REVIEW_PATHS__STORE": str(s.paths.store), "REVIEW_PATHS__CACHE": str(s.paths.cache)}
    runner = CliRunner()
    result = runner.invoke(app, ["outline", "--topic", "preference optimization", "--format", "json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"label", "description", "papers", "children"} <= data["tree"].keys()
    assert data["references"] and {"n", "paper_id", "title"} <= data["references"][0].keys()
    mermaid = runner.invoke(
        app, ["outline", "--topic", "preference optimization", "--format", "mermaid"], env=env
    ).stdout
    lines = mermaid.splitlines()
    assert lines[0] == "mindmap" and lines[1].strip().startswith("root((")
    outline = real_assistant.outline("preference optimization")
    nodes = sum(1 for _ in _walk(outline.tree)) - 1
    papers = sum(len(n.papers) for n in _walk(outline.tree))
    assert len(lines) == 2 + nodes + papers  # one line per node and per placed study
    md = runner.invoke(app, ["outline", "--topic", "preference optimization"], env=env).stdout
    assert md.startswith("# Related work") and "## References" in md and "## 1. " in md


@pytest.mark.slow
def test_off_corpus_and_empty_topics_are_clear_errors(real_assistant):
    with pytest.raises(QueryError, match="do not cover"):
        real_assistant.outline("sourdough bread baking techniques")
    with pytest.raises(QueryError, match="empty"):
        real_assistant.outline("  ")
