"""The data: pydantic models shared by the library, the CLI (``--json``) and the evals."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Limits every Paper must meet (checked when a corpus is read, so nothing stored can break a
# later read): far above real papers, far below what would strain the store or the terminal.
MAX_TITLE = 1_000
MAX_ABSTRACT = 50_000
MAX_COUNT = 2**31 - 1
_Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
_Short = Annotated[str, Field(max_length=1_000)]


class Paper(BaseModel):
    """One paper of the corpus: a stable id a user can type and cite, and its abstract."""

    id: str = Field(max_length=200, description="Short, stable, human-readable id, e.g. 'breadcrumbs-2023'.")
    title: str = Field(max_length=MAX_TITLE)
    abstract: str = Field(max_length=MAX_ABSTRACT)
    date: str | None = Field(
        None, max_length=100, description="As precise as the source gives it: '2023-12-11', '2022-04', 'Jan 23'."
    )
    year: int | None = Field(None, ge=1000, le=2100, description="Only when the source states it.")
    authors: list[_Short] = Field(default_factory=list, max_length=10_000)
    author_count: _Count | None = None
    organization: _Short | None = None
    upvotes: _Count | None = None
    url: str | None = Field(None, max_length=2_000)
    sources: list[_Short] = Field(default_factory=list, description="Files (and lines) this paper was read from.")

    def content_hash(self) -> str:
        """Hash of what gets embedded: a changed title or abstract means new chunks."""
        return hashlib.sha256(f"{self.title}\n{self.abstract}".encode()).hexdigest()[:16]

    @property
    def when(self) -> str | None:
        """The date to show: the source's own date, else its year ("2020"), else None."""
        return self.date or (str(self.year) if self.year else None)

    def _repr_markdown_(self) -> str:
        meta = ", ".join(x for x in (self.when, self.organization) if x)
        return f"**{self.title}** (`{self.id}`{', ' + meta if meta else ''})\n\n{self.abstract}"


class Chunk(BaseModel):
    """A sentence-aware window of one abstract; sentences are 0-based, end exclusive."""

    id: str
    paper_id: str
    text: str
    sentence_start: int
    sentence_end: int


class Passage(BaseModel):
    """A retrieved chunk as shown to the user."""

    text: str
    sentence_start: int
    sentence_end: int
    score: float = 0.0


class Hit(BaseModel):
    """A paper found by search, best passages first."""

    paper_id: str
    title: str
    score: float
    date: str | None = None
    similarity: float | None = Field(None, description="Best cosine similarity of its chunks to the query.")
    dense_rank: int | None = None
    lexical_rank: int | None = None
    relevance: float | None = Field(None, description="P(relevant) from the relevance model, when reranked.")
    passages: list[Passage] = Field(default_factory=list)


class SearchResult(BaseModel):
    """Hits for one query, best first."""

    query: str
    hits: list[Hit]

    def _repr_markdown_(self) -> str:
        lines = [f"**{self.query}**", ""]
        for i, h in enumerate(self.hits, 1):
            lines.append(f"{i}. **{h.title}** `{h.paper_id}` ({h.score:.3f})")
            if h.passages:
                lines.append(f"   > {h.passages[0].text}")
        return "\n".join(lines)


class IndexStats(BaseModel):
    """What the index holds."""

    papers: int
    chunks: int
    embedder: str
    dimension: int | None
    store: str
    size_bytes: int | None = None


class IngestReport(BaseModel):
    """What an ingest did."""

    papers_seen: int
    added: int
    updated: int
    unchanged: int
    repaired: int = Field(
        0, description="Committed papers re-embedded: chunks that did not match their content hash, or rechunked."
    )
    rechunked: int = Field(0, description="Of the repaired: chunks made with other chunk settings (chunks.*).")
    chunks_embedded: int
    seconds: float


class Statement(BaseModel):
    """One statement of an answer, its citations (paper ids) and the judge's verdict."""

    text: str
    citations: list[str] = Field(default_factory=list, description="Paper ids whose abstracts support the statement.")
    supported: bool = False
    support: float = Field(0.0, description="Best support score among the cited sources (0-1).")
    dropped_citations: list[str] = Field(default_factory=list, description="Cited ids the judge rejected.")
    source: Literal["generated", "extracted"] = "generated"
    relevance: float | None = Field(None, description="P(it helps answer the question) from the relevance model.")
    role: str | None = Field(None, description="finding, method or background (extracted statements).")
    group: int | None = Field(None, description="Statements with the same group say related things.")


class Reference(BaseModel):
    """A numbered reference of an answer."""

    n: int
    paper_id: str
    title: str
    date: str | None = None


class Answer(BaseModel):
    """A cited answer; ``answer`` carries [n] markers that resolve to ``references``."""

    question: str
    answer: str
    statements: list[Statement] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    refused: bool = False
    reason: str | None = Field(None, description="Why the answer was refused or fell back.")
    mode: Literal["generative", "extractive", "none"] = "none"
    closest: list[Hit] = Field(default_factory=list, description="Closest papers, shown when refusing.")
    sources: list[str] = Field(default_factory=list, description="Ids of the candidate papers.")
    addressing: list[str] = Field(
        default_factory=list, description="Ids of the papers with at least one sentence that clears the relevance bar."
    )
    uncovered: list[str] = Field(default_factory=list, description="Parts of the question no paper answers.")
    unmentioned: list[str] = Field(
        default_factory=list, description="Content words of the question that no indexed paper uses."
    )
    timings: dict[str, float] = Field(default_factory=dict)
    model: str | None = None
    judge: str | None = None
    fingerprint: str | None = None

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def to_markdown(self) -> str:
        """The answer, then its references."""
        from .rendering import answer_markdown

        return answer_markdown(self)


class Assignment(BaseModel):
    """A study placed in a category, with the two checks it was put through."""

    label: str
    path: list[str] = Field(default_factory=list, description="Labels from the top-level category down to this one.")
    fit: float = Field(description="Cosine of the study to the category's centroid (without the study itself).")
    judge: float | None = Field(
        None, description="Support judge: does the study's title and claim entail 'This study is about <label>'?"
    )
    agreed: bool = Field(True, description="Embedding fit and judge agree that the study belongs here.")


class OutlineStudy(BaseModel):
    """A candidate study of an outline: its claim and where it was placed, with scores."""

    paper_id: str
    title: str
    claim: str = Field(description="One sentence stating the study's main finding (extracted from its abstract).")
    claim_source: Literal["extractive", "llm"] = "extractive"
    relevance: float = 0.0
    assignments: list[Assignment] = Field(default_factory=list)


class OutlineNode(BaseModel):
    """A category: label, one-line description, its papers and sub-categories."""

    label: str
    description: str = ""
    papers: list[str] = Field(default_factory=list)
    children: list[OutlineNode] = Field(default_factory=list)
    draft: str | None = Field(None, description="A short cited paragraph (with --draft).")
    label_source: Literal["topic", "facet", "llm", "keyphrase", "terms", "other"] = "terms"

    def tree_dict(self) -> dict:
        """The JSON tree: {label, description, papers, children} (+ draft when present)."""
        out = {
            "label": self.label,
            "description": self.description,
            "papers": list(self.papers),
            "children": [c.tree_dict() for c in self.children],
            "label_source": self.label_source,
        }
        if self.draft:
            out["draft"] = self.draft
        return out


class FeedbackQuery(BaseModel):
    """A second retrieval of a short topic: the seed paper whose vocabulary it used, and the terms."""

    seed: str
    terms: list[str] = Field(default_factory=list, description="Added to the topic, best first.")


class TopicExpansion(BaseModel):
    """How the candidates read the topic from the corpus (no hand-written synonyms): why a paper is in."""

    terms: list[str] = Field(default_factory=list, description="The topic's own words and bigrams (stemmed).")
    phrases: list[str] = Field(
        default_factory=list, description="Phrases the seeds use with the topic terms (half the topic's evidence)."
    )
    seeds: list[str] = Field(default_factory=list, description="The strongest hits that use a topic term.")
    feedback: list[FeedbackQuery] = Field(
        default_factory=list, description="A short topic's second retrievals, one per seed (pseudo-relevance feedback)."
    )
    read_as: str = Field(
        "",
        description="A short topic as the relevance model read it (the topic and its seeds' sentences that use a topic "
        "term); a candidate without a topic term was kept only when it read as about this.",
    )
    vetoed: list[str] = Field(
        default_factory=list, description="Papers over the cut that the relevance model did not read as about it."
    )


class Outline(BaseModel):
    """A hierarchical related-work outline."""

    topic: str
    tree: OutlineNode
    studies: list[OutlineStudy] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict)
    mode: str = "extractive"
    model: str | None = None
    left_out: list[Reference] = Field(
        default_factory=list,
        description="Papers just under the candidate cut (closest first): what a wider outline would add.",
    )
    checks: dict[str, int] = Field(
        default_factory=dict,
        description="Counts of LLM labels/claims accepted or rejected, judged assignments, draft sentences.",
    )
    expansion: TopicExpansion | None = Field(None, description="How the candidates read the topic from the corpus.")

    def walk(self):
        """Nodes depth-first, root first."""
        stack = [self.tree]
        while stack:
            node = stack.pop(0)
            yield node
            stack[:0] = node.children

    def to_markdown(self) -> str:
        """Numbered headings, a bullet per study with its claim and citation, References."""
        from .rendering import outline_markdown

        return outline_markdown(self)

    def check_summary(self) -> str:
        """One line on what was checked: LLM labels used/rejected, placements the judge agreed with."""
        from .rendering import check_summary

        return check_summary(self)

    def to_mermaid(self) -> str:
        """A Mermaid mindmap: one line per node, papers as leaves."""
        from .rendering import outline_mermaid

        return outline_mermaid(self)

    def to_dot(self) -> str:
        """A Graphviz DOT digraph: topic, categories with study counts, studies linked by their ids."""
        from .rendering import outline_dot

        return outline_dot(self)

    def to_svg(self) -> str:
        """The outline drawn as SVG by Graphviz `dot` (RenderError when `dot` is not installed)."""
        from .rendering import render_outline

        return render_outline(self, "svg").decode("utf-8")

    def to_png(self) -> bytes:
        """The outline drawn as PNG by Graphviz `dot` (RenderError when `dot` is not installed)."""
        from .rendering import render_outline

        return render_outline(self, "png")

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_svg_(self) -> str | None:
        from .errors import RenderError

        try:
            svg = self.to_svg()
        except RenderError:
            return None  # no Graphviz: the notebook shows the Markdown
        return svg[max(svg.find("<svg"), 0) :]  # the bare element, without the XML prolog, to embed in a page


class ThresholdCheck(BaseModel):
    """One eval threshold: the metric (``part.metric``), its value, the bound and the verdict."""

    metric: str
    value: float | None
    bound: float
    direction: Literal["min", "max"]
    passed: bool


class EvalPart(BaseModel):
    """The result of one eval part: its metrics, the failures shown, how many there were, seconds."""

    model_config = ConfigDict(extra="allow")

    metrics: dict[str, Any] = Field(default_factory=dict)
    failures: list[dict[str, Any]] = Field(default_factory=list)
    failures_total: int = 0
    seconds: float = 0.0


class EvalReport(BaseModel):
    """What `review eval` measured (schema ``review-eval/1``); ``model_dump(by_alias=True)`` is its JSON."""

    model_config = ConfigDict(populate_by_name=True)

    schema_id: str = Field(alias="schema")
    created: str
    quick: bool
    parts: list[str]
    meta: dict[str, Any]
    results: dict[str, EvalPart]
    seconds: float
    thresholds: list[ThresholdCheck] = Field(default_factory=list)
    passed: bool

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready report, as written by ``review eval --json``."""
        return self.model_dump(mode="json", by_alias=True)

    def to_markdown(self) -> str:
        """The Markdown report."""
        from .evaluation.report import to_markdown

        return to_markdown(self.to_dict())

    def _repr_markdown_(self) -> str:
        return self.to_markdown()
