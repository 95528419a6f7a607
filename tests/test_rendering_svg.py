"""Outlines drawn by Graphviz: DOT escaping and links on a hand-built outline, the real `dot`
for SVG and PNG, a clear error without it, and the CLI's --format svg|png|dot and --output."""

from __future__ import annotations

import os
import re
import stat
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from assistant import rendering
from assistant.cli import app
from assistant.cli.common import state
from assistant.errors import RenderError
from assistant.models import Outline, OutlineNode, OutlineStudy, Reference

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

NASTY_TITLE = 'Say "merge" \\ not\nsplit: [/x] [bold]Über-Modelle 合并[/bold] <b> & &copy; \\n'
SHOWN_NASTY_TITLE = 'Say "merge" \\ not split: [/x] [bold]Über-Modelle 合并[/bold] <b> & &copy; \\n'


def _outline() -> Outline:
    studies = {
        "ties-2023": "TIES-Merging: resolving interference when merging models",
        "dare-2023": "Language models are Super Mario: absorbing abilities from homologous models",
        "nasty-2024": NASTY_TITLE,
        "lora-2021": "LoRA: low-rank adaptation of large language models",
    }
    tree = OutlineNode(
        label='Model "merging" \\ 2024',
        label_source="topic",
        papers=["lora-2021"],
        children=[
            OutlineNode(
                label="Interference [/x] resolution",
                description='Sign conflicts & "trimming"',
                children=[
                    OutlineNode(label="Sign election", papers=["ties-2023", "nasty-2024"]),
                    OutlineNode(label="Drop and rescale", papers=["dare-2023"]),
                ],
            ),
            OutlineNode(label="Über\nmerging <all>", papers=["nasty-2024"]),
        ],
    )
    return Outline(
        topic="model merging",
        tree=tree,
        studies=[OutlineStudy(paper_id=pid, title=title, claim=f"{title} works.") for pid, title in studies.items()],
        references=[Reference(n=i, paper_id=pid, title=title) for i, (pid, title) in enumerate(studies.items(), 1)],
    )


def _unescape(raw: str, *, label: bool) -> str:
    """What Graphviz shows for a DOT quoted string: escapes resolved, ``\\n`` a line break in labels."""
    out = []
    for m in re.finditer(r"\\(.)|[^\\]", raw):
        esc = m.group(1)
        out.append(m.group(0) if esc is None else "\n" if esc == "n" and label else esc)
    return "".join(out).replace("&amp;", "&")


def _statements(dot: str) -> dict[str, dict[str, str]]:
    """Node statements of our DOT: name -> attributes as shown; fails on unbalanced quoting."""
    nodes = {}
    attr = r'(\w+)="((?:[^"\\]|\\.)*)"'
    for line in dot.splitlines()[4:-1]:
        if "->" in line:
            assert re.fullmatch(r"  \w+ -> \w+;", line), line
            continue
        m = re.fullmatch(rf"  (\w+) \[{attr}(?:, {attr})*\];", line)
        assert m, f"not one well-quoted node statement: {line!r}"
        nodes[m.group(1)] = {k: _unescape(v, label=k == "label") for k, v in re.findall(attr, line)}
    return nodes


def _edges(dot: str) -> list[tuple[str, str]]:
    return re.findall(r"^  (\w+) -> (\w+);$", dot, flags=re.M)


def test_dot_escapes_every_user_string():
    dot = _outline().to_dot()
    assert dot.startswith("digraph outline {\n") and "rankdir=LR" in dot
    assert "\n\n" not in dot.strip()  # a newline in a title never breaks a statement
    nodes = _statements(dot)
    assert nodes["topic"]["label"] == 'Model "merging" \\ 2024'
    nasty = next(n for n in nodes.values() if n.get("id") == "nasty-2024")
    assert nasty["tooltip"] == SHOWN_NASTY_TITLE
    assert nasty["label"].endswith("\nnasty-2024") and "…" in nasty["label"]
    labels = {n["label"] for n in nodes.values()}
    assert "Interference [/x] resolution\n3 studies" in labels
    assert "Über merging <all>\n1 study" in labels
    # Graphviz would read \n, \N and &copy; as escapes: they must reach it doubled
    assert "&amp;copy;" in dot and "\\\\n" in dot


def test_every_study_is_one_node_linked_to_its_id():
    outline = _outline()
    dot = outline.to_dot()
    nodes = _statements(dot)
    studies = {attrs["id"]: name for name, attrs in nodes.items() if "URL" in attrs}
    assert set(studies) == {s.paper_id for s in outline.studies}
    for pid, name in studies.items():
        assert nodes[name]["URL"] == f"#{pid}"
        assert nodes[name]["tooltip"] == " ".join(next(s.title for s in outline.studies if s.paper_id == pid).split())
    edges = _edges(dot)
    assert ("topic", studies["lora-2021"]) in edges  # placed at the root
    assert sum(1 for _, b in edges if b == studies["nasty-2024"]) == 2  # placed twice: one node, two edges
    categories = [name for name, attrs in nodes.items() if attrs.get("shape") == "box" and "URL" not in attrs]
    assert len(categories) == 4 and all(sum(1 for _, b in edges if b == c) == 1 for c in categories)


def test_without_dot_a_one_line_error_and_no_notebook_svg(monkeypatch):
    monkeypatch.setattr(rendering.shutil, "which", lambda name: None)
    outline = _outline()
    with pytest.raises(RenderError) as err:
        outline.to_svg()
    message = str(err.value)
    assert "\n" not in message and "apt-get install graphviz" in message and "--format mermaid" in message
    with pytest.raises(RenderError):
        outline.to_png()
    assert outline._repr_svg_() is None
    assert outline.to_dot().startswith("digraph")  # DOT itself needs no Graphviz


def test_cli_without_dot_fails_before_building_the_outline(monkeypatch):
    monkeypatch.setattr(rendering.shutil, "which", lambda name: None)
    monkeypatch.setattr(state, "assistant", lambda: pytest.fail("the outline was built"))
    result = CliRunner().invoke(app, ["outline", "--topic", "merging", "--format", "svg"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Graphviz `dot` is not installed" in result.stderr


def test_dot_failure_is_one_line_with_its_first_stderr_line(tmp_path, monkeypatch):
    fake = tmp_path / "dot"
    fake.write_text(
        "#!/bin/sh\ncat >/dev/null\necho '' >&2\necho 'Error: <stdin>: syntax error in line 3' >&2\necho 'more' >&2\nexit 1\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(
        RenderError, match=r"^Graphviz `dot` could not draw the outline: Error: <stdin>: syntax error in line 3$"
    ):
        _outline().to_svg()


def test_unknown_image_format_is_a_clear_error():
    with pytest.raises(RenderError, match="use svg or png"):
        rendering.render_outline(_outline(), "gif")


def test_real_dot_svg_links_every_study_and_keeps_text_verbatim():
    outline = _outline()
    svg = outline.to_svg()
    root = ET.fromstring(svg.encode())
    assert root.tag == f"{SVG}svg"
    groups = {g.get("id"): g for g in root.iter(f"{SVG}g")}
    for study in outline.studies:
        node = groups[study.paper_id]
        assert node.get("class") == "node"
        link = node.find(f".//{SVG}a")
        assert link.get(f"{XLINK}href") == f"#{study.paper_id}"
        assert link.get(f"{XLINK}title") == " ".join(study.title.split())
        texts = [t.text for t in node.iter(f"{SVG}text")]
        assert texts[-1] == study.paper_id
    topic = [t.text for t in groups["outline-topic"].iter(f"{SVG}text")]
    assert topic == ['Model "merging" \\ 2024']
    shown = " ".join(t.text for t in groups["nasty-2024"].iter(f"{SVG}text"))
    assert shown.startswith('Say "merge" \\ not split: [/x]')
    assert ET.fromstring(outline._repr_svg_()).tag == f"{SVG}svg"  # bare element, for notebooks


def test_real_dot_png():
    png = _outline().to_png()
    assert png.startswith(PNG_MAGIC) and len(png) > 1000


class _FakeAssistant:
    def outline(self, topic, **kwargs):
        return _outline()


@pytest.mark.parametrize("fmt", ["svg", "png", "dot", "markdown", "json", "mermaid"])
def test_cli_writes_every_format_to_output(fmt, tmp_path, monkeypatch):
    monkeypatch.setattr(state, "assistant", _FakeAssistant)
    out = tmp_path / f"outline.{fmt}"
    result = CliRunner().invoke(app, ["outline", "--topic", "merging", "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and f"wrote {out}" in result.stderr
    data = out.read_bytes()
    if fmt == "png":
        assert data.startswith(PNG_MAGIC)
    elif fmt == "svg":
        assert ET.fromstring(data).tag == f"{SVG}svg"
    elif fmt == "dot":
        assert data.decode() == _outline().to_dot()


def test_cli_png_and_svg_to_stdout(monkeypatch):
    monkeypatch.setattr(state, "assistant", _FakeAssistant)
    runner = CliRunner()
    png = runner.invoke(app, ["outline", "--topic", "merging", "--format", "png"])
    assert png.exit_code == 0 and png.stdout_bytes.startswith(PNG_MAGIC)
    svg = runner.invoke(app, ["outline", "--topic", "merging", "-f", "svg"])
    assert svg.exit_code == 0 and "ties-2023" in svg.stdout
    ET.fromstring(svg.stdout_bytes)
    bad = runner.invoke(app, ["outline", "--topic", "merging", "--format", "gif"])
    assert bad.exit_code == 1 and "use markdown, json, mermaid, dot, svg, png or bibtex" in bad.stderr


@pytest.mark.slow
def test_real_outline_as_svg(real_assistant, tmp_path):
    s = real_assistant.settings
    env = {"REVIEW_PATHS__STORE": str(s.paths.store), "REVIEW_PATHS__CACHE": str(s.paths.cache)}
    out = tmp_path / "merging.svg"
    result = CliRunner().invoke(
        app, ["outline", "--topic", "model merging", "--format", "svg", "-o", str(out)], env=env
    )
    assert result.exit_code == 0, result.output
    root = ET.parse(out).getroot()
    links = [a for a in root.iter(f"{SVG}a") if a.get(f"{XLINK}href", "").startswith("#")]
    assert len(links) >= 3
    for a in links:
        paper = real_assistant.paper(a.get(f"{XLINK}href")[1:])
        assert a.get(f"{XLINK}title") == " ".join(paper.title.split())
    categories = [g for g in root.iter(f"{SVG}g") if (g.get("id") or "").startswith("outline-category-")]
    assert len(categories) >= 2
