"""Short topics: the second retrieval with the vocabulary of the topic's strongest hits (outline.feedback)."""

from __future__ import annotations

from collections import Counter

import pytest

from assistant.models import Hit, Outline, OutlineNode, Paper, TopicExpansion
from assistant.outline.evidence import grams, topic_evidence
from assistant.outline.feedback import feedback, is_short, seed_query
from assistant.settings import Settings

MERGING = Paper(
    id="crumbs",
    title="Scaling multi-task model merging with sparse masks",
    abstract="Foundation models are fine-tuned for many tasks. We study merging fine-tuned models in the weight "
    "space of a pre-trained model. Merging keeps the sparse masks. Our work focuses on vision.",
)
PASSING = Paper(
    id="finance",
    title="Instruction tuning for financial text classification",
    abstract="Financial texts are hard. We tune models on financial tasks. Model merging helps a little.",
)
ARITHMETIC = Paper(
    id="arithmetic",
    title="Task arithmetic in the tangent space",
    abstract="Adding fine-tuned weights in weight space edits pre-trained models; sparse masks help too.",
)
FILLER = [
    Paper(id=f"p{i}", title=f"Tool use {i}", abstract="Agents call tools with language models for tasks.")
    for i in range(30)
]
FILLER[0] = FILLER[0].model_copy(update={"abstract": "Our work focuses on agents and financial tools."})
CORPUS = [MERGING, PASSING, ARITHMETIC, *FILLER]


def _stats(papers=CORPUS):
    per = {p.id: grams(f"{p.title}. {p.abstract}") for p in papers}
    return per, Counter(g for s in per.values() for g in s)


def test_short_topics_are_one_or_two_content_words():
    assert is_short("merging", 2) and is_short("model merging", 2) and is_short("RAG", 2)
    assert not is_short("parameter-efficient fine-tuning", 2)  # four words once the hyphens split
    assert not is_short("reasoning and chain of thought", 2)
    assert not is_short("the of", 2) and not is_short("merging", 0)


def test_seed_terms_are_its_shared_vocabulary_not_the_topic_or_chance():
    per, df = _stats()
    terms = topic_evidence("merging", [p.id for p in CORPUS], per, df).terms
    q = seed_query("merging", terms, MERGING, df, len(per), k=32)
    assert q.seed == "crumbs" and q.query.startswith("merging ")
    # Phrases another paper uses too are the bridge to it ("weight space", "sparse masks").
    assert "weight space" in q.terms and "sparse masks" in q.terms
    assert not any("merg" in t for t in q.terms)  # the topic itself (and "model merging") is not feedback
    assert "vision" not in q.terms  # no other paper uses it: it retrieves nothing
    assert "tasks" not in q.terms  # every filler paper uses it: it names nothing
    assert "work focuses" in q.terms  # two papers share it: it passes the corpus checks (a known weak spot)


def test_seeds_whose_title_uses_the_topic_speak_first():
    per, df = _stats()
    terms = topic_evidence("merging", [p.id for p in CORPUS], per, df).terms
    # The finance paper is the stronger hit, but only mentions merging in passing.
    queries = feedback("merging", terms, [PASSING, MERGING], df, len(per), docs=1)
    assert [q.seed for q in queries] == ["crumbs"]
    # Without a titled seed, the hits' order decides.
    queries = feedback("merging", terms, [PASSING], df, len(per), docs=3)
    assert [q.seed for q in queries] == ["finance"]
    # A word inside a chosen bigram is not chosen again.
    q = queries[0]
    assert "financial" in q.terms or "financial tasks" in q.terms
    assert not ({"weight", "space"} & set(q.terms))


class _Index:
    def __init__(self, papers):
        self._papers = papers

    def papers(self, ids=None):
        return self._papers if ids is None else [p for p in self._papers if p.id in ids]

    def generation(self):
        return "g-feedback"


def _hits(ids, start=1.0):
    return [Hit(paper_id=pid, title=pid, score=start - 0.01 * i, similarity=0.5) for i, pid in enumerate(ids)]


def _pool(topic, monkeypatch, settings=None, relevance=None):
    """candidate_pool over the fake corpus: the topic finds the two merging abstracts and filler; any
    longer (expanded) query finds the task-arithmetic paper first."""
    from assistant.outline import candidates as mod

    queries = []

    def search(index, query, k):
        queries.append(query)
        if query == topic:
            return _hits(["crumbs", "finance", *[p.id for p in FILLER]])[:k]
        return _hits(["arithmetic", "crumbs", *[p.id for p in FILLER[::-1]]])[:k]

    monkeypatch.setattr(mod, "search", search)
    settings = settings or Settings(outline={"min_papers": 3, "feedback_docs": 2})
    return mod.candidate_pool(settings, _Index(CORPUS), topic, relevance), queries


def test_a_short_topic_admits_what_its_seeds_vocabulary_finds(monkeypatch):
    pool, queries = _pool("merging", monkeypatch)
    kept = [p.id for p, _ in pool.kept]
    assert "arithmetic" in kept and {"crumbs", "finance"} <= set(kept)
    # One second query per seed (titled seed first), each recorded with its terms.
    assert [q.seed for q in pool.feedback] == ["crumbs"]
    assert queries[0] == "merging" and queries[1] == pool.feedback[0].query
    assert "weight space" in pool.feedback[0].terms


def test_no_feedback_when_off_or_for_a_long_topic(monkeypatch):
    off = Settings(outline={"min_papers": 3, "feedback_words": 0})
    pool, queries = _pool("merging", monkeypatch, off)
    assert pool.feedback == [] and queries == ["merging"] and "arithmetic" not in {p.id for p, _ in pool.kept}
    pool, queries = _pool("merging sparse fine-tuned foundation models", monkeypatch)
    assert pool.feedback == [] and len(queries) == 1


def test_the_outline_says_what_it_searched_with():
    from assistant.models import FeedbackQuery

    outline = Outline(
        topic="merging",
        tree=OutlineNode(label="merging", label_source="topic"),
        expansion=TopicExpansion(
            terms=["merg"], seeds=["crumbs"], feedback=[FeedbackQuery(seed="crumbs", terms=[f"t{i}" for i in range(9)])]
        ),
    )
    md = outline.to_markdown()
    assert "Also searched with the vocabulary of `crumbs` (t0, t1, t2, t3, t4, t5, t6, t7, ...)." in md
    dumped = outline.model_dump()
    assert dumped["expansion"]["feedback"][0]["terms"][:2] == ["t0", "t1"]
    assert "Also searched" not in Outline(topic="x", tree=OutlineNode(label="x")).to_markdown()


@pytest.mark.slow
def test_merging_outline_includes_task_arithmetic_task_vectors_and_breadcrumbs(real_assistant):
    outline = real_assistant.outline("merging", mode="extractive")
    placed = {s.paper_id for s in outline.studies}
    # Issue 12's target: task arithmetic, task-vector composition, Model Breadcrumbs (checkpoint averaging,
    # free-lunch, reads at about the pool's mean: kept on one index build, just under the cut on another).
    assert {"task-arithmetic-2023", "knowledge-composition-2024", "breadcrumbs-2023"} <= placed
    assert outline.expansion is not None and [q.seed for q in outline.expansion.feedback] == ["breadcrumbs-2023"]
    # Multi-task papers that MiniLM puts near the word do not read as about merging.
    assert outline.expansion.vetoed and not set(outline.expansion.vetoed) & placed
    assert outline.expansion.read_as.startswith("merging: Model Breadcrumbs")


class _Reads:
    """A relevance model that reads an abstract as about the topic when it names one of ``words``."""

    def __init__(self, *words):
        self.words = words
        self.queries: list[str] = []

    def score(self, query, texts):
        self.queries.append(query)
        return [0.9 if any(w in t.lower() for w in self.words) else 0.2 for t in texts]


def test_describe_reads_a_short_topic_as_its_seeds_use_it():
    from assistant.outline.feedback import describe

    terms = topic_evidence("merging", [p.id for p in CORPUS], *_stats()).terms
    text = describe("merging", terms, [MERGING, PASSING], docs=3)
    assert text.startswith("merging: Scaling multi-task model merging with sparse masks")
    assert "We study merging fine-tuned models in the weight space" in text and "Model merging helps" in text
    assert "Foundation models are fine-tuned" not in text  # a sentence without the topic term says nothing of it
    assert describe("merging", terms, [FILLER[1]]) == "merging"


def test_the_relevance_model_vetoes_a_candidate_without_the_topic_term(monkeypatch):
    # Filler reached by the feedback query is kept by default (min_papers); the relevance model reads only
    # the task-arithmetic paper (and the merging abstracts) as about the topic.
    settings = Settings(outline={"min_papers": 4, "feedback_docs": 2, "relevance_floor": 0.0})
    reads = _Reads("merging", "weight space")
    pool, _ = _pool("merging", monkeypatch, settings, relevance=reads)
    kept = [p.id for p, _ in pool.kept]
    assert {"crumbs", "finance", "arithmetic"} <= set(kept)
    # The finance paper reads as about it, and uses the topic term anyway: never vetoed for that.
    assert not any(pid.startswith("p") for pid in kept)  # every filler paper reads below the pool's mean
    assert len(kept) == 3  # no refill with vetoed papers, even under min_papers
    assert pool.vetoed and set(pool.vetoed) <= {p.id for p in FILLER}
    assert pool.left_out and pool.left_out[0][0].id in pool.vetoed  # reported just under the cut
    assert reads.queries == [pool.description] and pool.description.startswith("merging: ")
    # A factory is called once; no floor, no reading.
    pool, _ = _pool("merging", monkeypatch, settings, relevance=lambda: reads)
    assert {p.id for p, _ in pool.kept} == set(kept)
    off = Settings(outline={"min_papers": 4, "feedback_docs": 2, "relevance_floor": None})
    pool, _ = _pool("merging", monkeypatch, off, relevance=_Reads())
    assert pool.vetoed == [] and pool.description == "" and len(pool.kept) == 4


def test_a_topic_term_paper_is_never_vetoed(monkeypatch):
    settings = Settings(outline={"min_papers": 3, "feedback_docs": 2, "relevance_floor": 0.0})
    pool, _ = _pool("merging", monkeypatch, settings, relevance=_Reads("tangent"))
    kept = {p.id for p, _ in pool.kept}
    assert {"crumbs", "finance"} <= kept  # they use "merging": the relevance model is not asked to agree
    assert "arithmetic" in kept


def test_the_markdown_says_which_papers_the_relevance_model_turned_away():
    from assistant.models import Reference

    outline = Outline(
        topic="merging",
        tree=OutlineNode(label="merging", label_source="topic"),
        left_out=[
            Reference(n=0, paper_id="multi", title="Multi-task tuning"),
            Reference(n=0, paper_id="near", title="Near"),
        ],
        expansion=TopicExpansion(terms=["merg"], read_as="merging: ...", vetoed=["multi"]),
    )
    md = outline.to_markdown()
    assert (
        "- Multi-task tuning (`multi`) - scored over the cut, but the relevance model does not read it as about the topic"
        in md
    )
    assert "_Left out (just under the cut, or turned away by the relevance model):_" in md  # the heading says both
    assert "- Near (`near`)\n" in md
