"""Rendering: answers and outlines as Markdown, Mermaid, Graphviz DOT and SVG/PNG, for the
terminal, files and notebooks."""

from __future__ import annotations

import re
import shutil
import subprocess
import textwrap
from typing import TYPE_CHECKING

from .errors import RenderError

if TYPE_CHECKING:
    from .models import Answer, Outline, OutlineNode

__all__ = [
    "answer_markdown",
    "check_summary",
    "dot_executable",
    "outline_dot",
    "outline_markdown",
    "outline_mermaid",
    "render_outline",
]

IMAGE_FORMATS = ("svg", "png")
DOT_TIMEOUT = 30.0
NO_DOT = "Graphviz `dot` is not installed: apt-get install graphviz (or brew install graphviz), or use --format mermaid"


def answer_markdown(answer: Answer) -> str:
    """The answer, then its references."""
    lines = [answer.answer, ""]
    if answer.references:
        lines.append("**References**")
        lines.append("")
        for ref in answer.references:
            date = f", {ref.date}" if ref.date else ""
            # a list item each: plain lines would run together into one paragraph in Markdown
            lines.append(f"- [{ref.n}] {ref.title}{date} (`{ref.paper_id}`)")
    elif answer.closest:
        lines.append("**Closest papers in the index**")
        lines.append("")
        for hit in answer.closest:
            lines.append(f"- {hit.title} (`{hit.paper_id}`)")
    return "\n".join(lines).rstrip() + "\n"


def outline_markdown(outline: Outline) -> str:
    """Numbered headings, a bullet per study with its claim and citation, References."""
    numbers = {r.paper_id: r.n for r in outline.references}
    claims = {s.paper_id: s.claim for s in outline.studies}
    titles = {s.paper_id: s.title for s in outline.studies}
    lines = [f"# Related work: {outline.tree.label}", "", outline.tree.description, ""]

    def emit(node: OutlineNode, prefix: str, level: int) -> None:
        for i, child in enumerate(node.children, 1):
            num = f"{prefix}{i}."
            lines.append(f"{'#' * min(6, level + 1)} {num} {child.label}")
            lines.append("")
            if child.description:
                lines.append(f"_{child.description}_")
                lines.append("")
            if child.draft:
                lines.append(child.draft)
                lines.append("")
            for pid in child.papers:
                # with a draft paragraph the claims are already there: the bullets name the studies
                text = titles.get(pid, pid) if child.draft else claims.get(pid, pid)
                lines.append(f"- {text} [{numbers[pid]}]")
            if child.papers:
                lines.append("")
            emit(child, num, level + 1)

    for pid in outline.tree.papers:
        lines.append(f"- {claims.get(pid, pid)} [{numbers[pid]}]")
    emit(outline.tree, "", 1)
    summary = check_summary(outline)
    if summary:
        lines.append(f"_{summary}_")
        lines.append("")
    lines.append("## References")
    lines.append("")
    for r in outline.references:
        date = f", {r.date}" if r.date else ""
        lines.append(f"- [{r.n}] {r.title}{date} (`{r.paper_id}`)")  # a list: plain lines run together
    if outline.left_out:
        lines.append("")
        vetoed = set(outline.expansion.vetoed) if outline.expansion is not None else set()
        heading = (
            "Left out (just under the cut, or turned away by the relevance model)"
            if vetoed
            else ("Just under the relevance cut (not in this outline)")
        )
        lines.append(f"_{heading}:_")
        lines.append("")
        for r in outline.left_out:
            why = (
                " - scored over the cut, but the relevance model does not read it as about the topic"
                if (r.paper_id in vetoed)
                else ""
            )
            lines.append(f"- {r.title} (`{r.paper_id}`){why}")
    if outline.expansion is not None and outline.expansion.feedback:
        lines.append("")
        lines.append(f"_{expansion_summary(outline)}_")
    return "\n".join(lines) + "\n"


def expansion_summary(outline: Outline, shown: int = 8) -> str:
    """One line on a short topic's second retrievals: which seeds, which of their terms."""
    parts = [
        f"`{q.seed}` ({', '.join(q.terms[:shown])}{', ...' if len(q.terms) > shown else ''})"
        for q in (outline.expansion.feedback if outline.expansion else [])
    ]
    return "Also searched with the vocabulary of " + "; ".join(parts) + "." if parts else ""


def check_summary(outline: Outline) -> str:
    """One line on what was checked: LLM labels used/rejected, placements the judge agreed with."""
    c = outline.checks
    parts = []
    if "labels_llm" in c or "labels_llm_rejected" in c:
        parts.append(
            f"labels: {c.get('labels_llm', 0)} from the LLM, {c.get('labels_llm_rejected', 0)} LLM labels "
            "rejected by the checks (distinctive terms used instead)"
        )
    if c.get("labels_llm_skipped"):
        parts.append(
            f"labels: the LLM was not asked (too few of its first {c['labels_llm_skipped']} labels passed the "
            "checks; remembered per model file, --mode generative asks it)"
        )
    if c.get("assignments"):
        parts.append(
            f"placements: the support judge agrees with {c.get('assignments_agreed', 0)} of {c['assignments']}"
        )
    if c.get("second_categories_withdrawn"):
        parts.append(f"{c['second_categories_withdrawn']} second categories withdrawn")
    if c.get("draft_sentences"):
        parts.append(
            f"draft: {c['draft_sentences'] - c.get('draft_sentences_rejected', 0)} of {c['draft_sentences']} sentences "
            "passed the judge"
        )
    return "; ".join(parts) + "." if parts else ""


def outline_mermaid(outline: Outline) -> str:
    """A Mermaid mindmap: one line per node, papers as leaves."""

    def clean(text: str) -> str:
        return re.sub(r"[()\[\]{}\"]", "", text).strip() or "untitled"

    lines = ["mindmap", f"  root(({clean(outline.tree.label)}))"]

    def emit(node: OutlineNode, indent: int) -> None:
        for child in node.children:
            lines.append(" " * indent + clean(child.label))
            for pid in child.papers:
                lines.append(" " * (indent + 2) + clean(pid))
            emit(child, indent + 2)

    for pid in outline.tree.papers:
        lines.append("    " + clean(pid))
    emit(outline.tree, 4)
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    """``text`` as the inside of a DOT quoted string that Graphviz shows verbatim."""
    text = "".join(ch for ch in " ".join(text.split()) if ch >= " ")  # control characters are invalid in SVG
    # Graphviz reads backslash sequences (\n, \N, \G...) and &entities; in every string attribute.
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")


def _dot_label(text: str, width: int, max_lines: int = 2) -> list[str]:
    return textwrap.wrap(" ".join(text.split()) or "untitled", width, max_lines=max_lines, placeholder=" …")


def _dot_attrs(label: list[str] | None = None, **attrs: str) -> str:
    parts = []
    if label is not None:
        parts.append('label="' + "\\n".join(_dot_text(line) for line in label) + '"')
    parts += [f'{key}="{_dot_text(value)}"' for key, value in attrs.items()]
    return "[" + ", ".join(parts) + "]"


def outline_dot(outline: Outline) -> str:
    """A Graphviz digraph, left to right: topic -> categories (boxes with study counts) -> studies.

    Each study is one node, linked to its id (``id`` and ``URL="#<paper_id>"``, full title as
    tooltip); a study placed in two categories has two incoming edges.
    """
    titles = {r.paper_id: r.title for r in outline.references} | {s.paper_id: s.title for s in outline.studies}
    lines = [
        "digraph outline {",
        '  graph [rankdir=LR, ranksep=0.35, nodesep=0.12, fontname="Helvetica"];',
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [arrowhead=none, color="#8a8a8a"];',
        "  topic "
        + _dot_attrs(
            _dot_label(outline.tree.label, 30),
            id="outline-topic",
            shape="ellipse",
            style="bold",
            tooltip=outline.tree.description or outline.topic,
        )
        + ";",
    ]
    studies: dict[str, str] = {}  # paper id -> node name, in order of first placement
    edges: list[tuple[str, str]] = []

    def subtree_papers(node: OutlineNode) -> set[str]:
        found = set(node.papers)
        for child in node.children:
            found |= subtree_papers(child)
        return found

    def place(name: str, node: OutlineNode) -> None:
        for pid in node.papers:
            study = studies.setdefault(pid, f"s{len(studies)}")
            if (name, study) not in edges:
                edges.append((name, study))

    def emit(parent: str, node: OutlineNode, prefix: str) -> None:
        for i, child in enumerate(node.children, 1):
            num = f"{prefix}{i}"
            name = "c" + num.replace(".", "_")
            count = len(subtree_papers(child))
            label = [*_dot_label(child.label, 30), f"{count} {'study' if count == 1 else 'studies'}"]
            attrs = {"id": f"outline-category-{num}", "shape": "box", "style": "filled", "fillcolor": "#e8eef7"}
            if child.description:
                attrs["tooltip"] = child.description
            lines.append(f"  {name} {_dot_attrs(label, **attrs)};")
            edges.append((parent, name))
            place(name, child)
            emit(name, child, num + ".")

    place("topic", outline.tree)
    emit("topic", outline.tree, "")
    for pid, name in studies.items():
        title = titles.get(pid, pid)
        label = [*_dot_label(title, 34), pid]
        attrs = {"id": pid, "URL": f"#{pid}", "tooltip": title, "shape": "box", "style": "rounded", "fontsize": "10"}
        lines.append(f"  {name} {_dot_attrs(label, **attrs)};")
    lines += [f"  {a} -> {b};" for a, b in edges]
    lines.append("}")
    return "\n".join(lines) + "\n"


def dot_executable() -> str:
    """The path of Graphviz `dot`, or a RenderError that says how to install it."""
    path = shutil.which("dot")
    if path is None:
        raise RenderError(NO_DOT)
    return path


def render_outline(outline: Outline, fmt: str = "svg") -> bytes:
    """The outline drawn by Graphviz `dot` as SVG or PNG bytes."""
    if fmt not in IMAGE_FORMATS:
        raise RenderError(f"unknown image format {fmt!r}: use svg or png")
    exe = dot_executable()
    try:
        proc = subprocess.run(
            [exe, f"-T{fmt}"], input=outline_dot(outline).encode(), capture_output=True, timeout=DOT_TIMEOUT
        )
    except subprocess.TimeoutExpired as exc:
        raise RenderError(
            f"Graphviz `dot` took more than {DOT_TIMEOUT:.0f} s to draw the outline: use --format mermaid"
        ) from exc
    except OSError as exc:
        raise RenderError(f"cannot run Graphviz `dot` at {exe}: {exc.strerror or exc}") from exc
    if proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", errors="replace").splitlines()
        first = next((line.strip() for line in stderr if line.strip()), f"exit code {proc.returncode}")
        raise RenderError(f"Graphviz `dot` could not draw the outline: {first}")
    return proc.stdout
