"""Rendering: answers and outlines as Markdown, Mermaid and text for the terminal and notebooks."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Answer, Outline, OutlineNode

__all__ = ["answer_markdown", "check_summary", "outline_markdown", "outline_mermaid"]


def answer_markdown(answer: Answer) -> str:
    """The answer, then its references."""
    lines = [answer.answer, ""]
    if answer.references:
        lines.append("**References**")
        lines.append("")
        for ref in answer.references:
            date = f", {ref.date}" if ref.date else ""
            lines.append(f"[{ref.n}] {ref.title}{date} (`{ref.paper_id}`)")
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
        lines.append(f"[{r.n}] {r.title}{date} (`{r.paper_id}`)")
    return "\n".join(lines) + "\n"


def check_summary(outline: Outline) -> str:
    """One line on what was checked: LLM labels used/rejected, placements the judge agreed with."""
    c = outline.checks
    parts = []
    if "labels_llm" in c or "labels_llm_rejected" in c:
        parts.append(
            f"labels: {c.get('labels_llm', 0)} from the LLM, {c.get('labels_llm_rejected', 0)} LLM labels "
            "rejected by the checks (distinctive terms used instead)"
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
