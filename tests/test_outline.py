"""`outline` on the real bundled embedder and index: invariants, formats, clear errors."""

from __future__ import annotations

import json
import re

import pytest
from conftest import ScriptedLLM
from typer.testing import CliRunner

from assistant.errors import QueryError
from assistant.outline import OutlineBuilder, clean_label, distinctive_labels, label_problem

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
    # A repeated label names the group after its central study, not "X (2)".
    named = distinctive_labels(
        [["fine-tuning data", "fine-tuning data"], ["fine-tuning data", "fine-tuning data"]],
        taken={"pre-trained language model"},
        fallbacks=["SSToken and related", "Get more for less and related"],
    )
    assert named[0].lower() != named[1].lower() and named[1] == "Get more for less and related"
    assert not any("(2)" in x for x in named)


def test_distinctive_labels_take_no_adverb():
    groups = [
        ["Multi-task merging improves significantly", "Multi-task models gain significantly from merging"],
        ["Low-rank adapters for fine-tuning", "LoRA adapters reduce fine-tuning memory"],
    ]
    label = distinctive_labels(groups)[0].lower()
    assert "significantly" not in label and "multi-task" in label


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
    paths = {tuple(p) for p in _paths(outline.tree)}
    for s in outline.studies:
        for a in s.assignments:
            assert -1 <= a.fit <= 1 and (a.judge is None or 0 <= a.judge <= 1)
            assert tuple(a.path) in paths and a.path[-1] == a.label  # points at a node holding the study
        if len(s.assignments) > 1:
            assert all(a.agreed for a in s.assignments[1:])  # a second category needs the judge's agreement


def _paths(node, path=()):
    for c in node.children:
        yield (*path, c.label)
        yield from _paths(c, (*path, c.label))


MEMBERS = ["Task arithmetic edits models with task vectors", "Merging task vectors by sparse masks"]


@pytest.mark.parametrize(
    ("label", "problem"),
    [
        ("Task vector merging", None),
        ("", "empty"),
        ("A very long label that goes on and on forever", "too long"),
        ("Diffusion models", "copied from the prompt's example"),
        ("Studies", "generic"),
        ("Model merging", "same as a sibling, parent or the topic"),
        ("Merging models", "says nothing the topic or parent does not"),
        ("Protein folding", "no word of it occurs in its studies"),
        ("Task <b>", "unexpected characters"),
        ("task task task", "repetitive"),
        ("Task vectors notably", "not a noun phrase: it ends in an adverb"),
        ("Task vector family", None),
    ],
)
def test_label_problem(label, problem):
    assert label_problem(label, MEMBERS, taken={"model merging"}, avoid={"model", "merging"}) == problem


def test_label_must_set_its_studies_apart_from_siblings():
    siblings = ["Task vectors for instruction data", "Task vectors in RLHF", "Task vectors for code"]
    assert "apart" in label_problem("Task vectors", MEMBERS, set(), set(), siblings)
    assert label_problem("Sparse masks", MEMBERS, set(), set(), siblings) is None


def test_label_too_general_for_the_corpus_or_mostly_ungrounded():
    common = {"fine", "tunin", "llm"}
    assert label_problem("Fine-tuning LLMs", MEMBERS, set(), set(), common=common).startswith("too general")
    assert label_problem("Sparse audio speech transformers", MEMBERS, set(), set()).startswith("most of its words")


def test_background_frequency_demotes_corpus_wide_terms():
    from collections import Counter

    groups = [["fine-tuning sparse masks", "fine-tuning sparse masks"], ["fine-tuning adapters", "adapters"]]
    plain = distinctive_labels(groups)
    assert "fine-tuning" in plain[0].lower()
    from assistant.outline.labels import _terms

    docs = ["fine-tuning of models"] * 95 + ["fine-tuning sparse masks"] * 2 + ["adapters"] * 3
    background = (Counter(t for d in docs for t in set(_terms(d))), len(docs))
    assert "fine-tuning" not in distinctive_labels(groups, background=background)[0].lower()


def test_clean_label():
    assert clean_label('  "task arithmetic."\nmore text') == "Task arithmetic"
    assert clean_label("Category: **Sparse merging**") == "Sparse merging"
    assert clean_label("") == ""


def _title_words(prompt: str) -> str:
    """A plausible label, grounded in the category's own studies: the first two words of the
    first title it is shown (a longer piece of a title is rejected as naming one study)."""
    titles = [line[2:] for line in prompt.rsplit("Titles:", 1)[1].splitlines() if line.startswith("- ")]
    head = titles[0].split(":")[0] if titles else ""
    return " " + " ".join(re.findall(r"[A-Za-z][A-Za-z-]*", head)[:2]) + "\n"


def TitleWordLLM(fixed: str | None = None) -> ScriptedLLM:  # noqa: N802 (reads as the fake it builds)
    """Names a category after its first title, or always ``fixed``."""
    return ScriptedLLM(fixed if fixed is not None else _title_words)


def _always_ask(settings, **outline):
    """These settings with the LLM asked for labels whatever its record (outline.label_probe 0)."""
    return settings.model_copy(update={"outline": settings.outline.model_copy(update={"label_probe": 0, **outline})})


@pytest.mark.slow
def test_auto_mode_stops_asking_a_model_whose_labels_never_pass(real_assistant, tmp_path):
    a = real_assistant
    settings = _always_ask(a.settings, label_probe=2).model_copy(
        update={"paths": a.settings.paths.model_copy(update={"cache": tmp_path})}
    )
    copied = TitleWordLLM(fixed=" Diffusion models")  # never passes the checks
    builder = OutlineBuilder(settings, a.index, lambda: copied, lambda: a.judge)
    builder.build("preference optimization")
    asked = copied.calls
    assert asked >= 2
    again = builder.build("preference optimization")
    assert copied.calls == asked and again.checks["labels_llm_skipped"] == asked
    assert "the LLM was not asked" in again.to_markdown()
    builder.build("preference optimization", mode="generative")  # generative mode always asks
    assert copied.calls > asked
    fresh = OutlineBuilder(_always_ask(settings), a.index, lambda: copied, lambda: a.judge)
    fresh.build("preference optimization")  # label_probe 0: always asked
    assert copied.calls > asked + 2


@pytest.mark.slow
def test_llm_labels_are_checked_and_bad_ones_fall_back_to_terms(real_assistant):
    a = real_assistant
    settings = _always_ask(a.settings)
    copied = TitleWordLLM(fixed=" Diffusion models")  # the prompt's example: never a valid label
    outline = OutlineBuilder(settings, a.index, lambda: copied, lambda: a.judge).build("preference optimization")
    assert copied.calls >= 2
    assert outline.checks["labels_llm_rejected"] == copied.calls and not outline.checks.get("labels_llm")
    assert all(n.label_source in ("topic", "facet", "keyphrase", "terms", "other") for n in outline.walk())
    plausible = TitleWordLLM()
    used_anywhere = 0
    # Whether a title's first words name a whole category depends on how the studies cluster: over
    # two topics, some pass the checks.
    for topic in ("preference optimization", "model merging"):
        outline = OutlineBuilder(settings, a.index, lambda: plausible, lambda: a.judge).build(topic)
        used = [n for n in outline.walk() if n.label_source == "llm"]
        # every LLM label in the tree was counted as accepted (pruning may drop an accepted one)
        assert outline.checks.get("labels_llm", 0) >= len(used)
        used_anywhere += len(used)
        for node in outline.walk():
            labels = [c.label.lower() for c in node.children]
            assert len(labels) == len(set(labels))
    assert used_anywhere
    extractive = OutlineBuilder(settings, a.index, lambda: copied, lambda: a.judge)
    calls = copied.calls
    assert extractive.build("preference optimization", mode="extractive").mode == "extractive"
    assert copied.calls == calls  # extractive mode never calls the LLM


@pytest.mark.slow
def test_draft_cites_only_the_nodes_studies(real_assistant):
    outline = real_assistant.outline("model merging", draft=True, mode="extractive")
    assert outline.checks["draft_sentences"] >= 2  # every draft sentence went through the judge
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


def test_judge_check_of_an_unsplit_outline_names_the_topic():
    """Too few studies to split: the root is the only leaf, and the judge is asked about the topic."""
    from assistant.models import Assignment, OutlineNode, OutlineStudy
    from assistant.outline.run import OutlineRun
    from assistant.outline.tree import check_assignments
    from assistant.settings import Settings

    asked: list[tuple[str, str]] = []

    class Judge:
        def score(self, pairs):
            asked.extend(pairs)
            return [0.9] * len(pairs)

    studies = [
        OutlineStudy(paper_id=f"p{i}", title=f"Paper {i}", claim="We merge models.", relevance=0.5) for i in range(3)
    ]
    for s in studies:
        s.assignments.append(Assignment(label="model merging", path=[], fit=0.5))
    root = OutlineNode(label="model merging", papers=[s.paper_id for s in studies], label_source="topic")
    run = OutlineRun(settings=Settings(), index=None, topic="model merging", judge_factory=Judge)
    check_assignments(run, root, studies)
    assert asked and all(h == "This study is about model merging." for _, h in asked)
    assert all(a.agreed for s in studies for a in s.assignments)


def test_keyphrases_are_multiword_shared_and_distinct():
    from assistant.outline.phrases import candidate_phrases

    assert "task vectors" in candidate_phrases("We add task vectors to merge models.", avoid={"merging"})
    assert not any(len(p.split()) < 2 for p in candidate_phrases("Weight averaging of fine-tuned checkpoints.", set()))
    assert not any("merg" in p for p in candidate_phrases("Model merging with merged weights.", {"merging"}))
    # How a study reports is not what it is about ("Extensive experiments" once named a category).
    reported = candidate_phrases("Extensive experiments and comprehensive evaluation show superior results.", set())
    assert not any(w in p for p in reported for w in ("experiments", "comprehensive evaluation", "superior"))
    assert not any(
        "github" in p or "https" in p for p in candidate_phrases("Code: https://github.com/x/y here.", set())
    )
    # nor how it reports ("Has shown" named an unlearning category in a trial)
    from assistant.outline.labels import label_problem

    assert label_problem("Has shown", ["recent work has shown that tuning helps"], set()) == "generic"
    assert not any("shown" in p for p in candidate_phrases("Recent work has shown that it helps.", set()))


def test_a_rare_phrase_names_a_category_before_a_common_one():
    from collections import Counter

    from assistant.outline.phrases import _rarity, phrase_labels

    background = (Counter({"pre-trained": 46, "models": 225, "task": 127, "arithmetic": 3}), 240)
    assert _rarity("task arithmetic", background) > _rarity("pre-trained models", background) > 0
    assert _rarity("task arithmetic", None) == 0.0

    def embed(texts):  # every phrase equally close to the group: only rarity can decide
        import numpy as np

        return np.ones((len(texts), 4), dtype=np.float32) / 2

    groups = [["Task arithmetic edits pre-trained models.", "Task arithmetic on pre-trained models helps."]]
    cents = [embed(["x"])[0]]
    assert phrase_labels(embed, groups, cents, set(), background=background, rarity=0.3)[0].startswith(
        "Task arithmetic"
    )
    assert phrase_labels(embed, groups, cents, set(), background=background, rarity=0)[0].startswith("Pre-trained")

    def embed(texts):  # bag of letters: enough to tell the two groups apart
        import numpy as np

        out = np.zeros((len(texts), 26), dtype=np.float32)
        for i, t in enumerate(texts):
            for ch in t.lower():
                if "a" <= ch <= "z":
                    out[i, ord(ch) - 97] += 1
        return out / (np.linalg.norm(out, axis=1, keepdims=True) + 1e-9)

    groups = [
        ["Task vectors let us edit models.", "Adding task vectors composes skills."],
        ["Weight averaging of checkpoints helps.", "Uniform weight averaging is robust."],
    ]
    cents = [embed([" ".join(g)])[0] for g in groups]
    labels = phrase_labels(embed, groups, cents, avoid=set())
    assert labels[0].lower().startswith("task vectors") and labels[1].lower().startswith("weight averaging")
    assert phrase_labels(embed, [["alpha"], ["beta"]], cents, avoid=set()) == [None, None]


def test_an_llm_label_copied_from_a_title_is_rejected():
    import numpy as np

    from assistant.models import OutlineStudy
    from assistant.outline.labels import llm_labels
    from assistant.outline.run import OutlineRun
    from assistant.settings import Settings

    class Embedder:
        def embed_documents(self, texts):
            return np.eye(4, dtype=np.float32)[: len(texts)]

    class Index:
        embedder = Embedder()

    studies = [
        OutlineStudy(
            paper_id="a", title="Fine-tuned Large Language Models are Scalable Judges", claim="x", relevance=1
        ),
        OutlineStudy(paper_id="b", title="Judging judges with large models", claim="y", relevance=1),
    ]
    run = OutlineRun(settings=Settings(), index=Index(), topic="evaluation", use_llm=True)
    run.complete = lambda prompt, max_tokens: "Large Language Models are Scalable"
    vectors = np.eye(4, dtype=np.float32)[:2]
    out = llm_labels(run, [[0, 1]], studies, vectors, ["Judges"], set(), set())
    assert out == ["Judges"] and run.checks["labels_llm_rejected"] == 1


def test_topic_terms_leave_out_words_the_whole_corpus_uses():
    from collections import Counter

    from assistant.outline.evidence import grams, topic_evidence

    texts = {f"p{i}": "We study fine-tuning of language models." for i in range(20)}
    texts["m1"] = "Model merging of fine-tuning runs with task vectors and weight averaging."
    texts["m2"] = "Merging fine-tuned models: task vectors and weight averaging compared."
    texts["m3"] = "We merge checkpoints by weight averaging of task vectors."
    texts["v"] = "Task vectors edit models by weight averaging, without merging."
    per = {k: grams(v) for k, v in texts.items()}
    df = Counter(g for s in per.values() for g in s)
    found = topic_evidence("merging in fine-tuning", list(per), per, df)
    assert "merg" in found.terms and "fine tuning" not in found.terms and "tuning" not in found.terms
    assert found.seeds == ["m1", "m2", "v"]  # m3 says "merge", not "merging"
    assert "task vector" in found.phrases and "weight averag" in found.phrases
    assert found.score(per["m1"]) == 1.0 and found.score(per["m3"]) == 0.5 and found.score(per["p0"]) == 0.0
    # Two seeds share phrases by chance: no expansion from fewer than three.
    few = topic_evidence("merging in fine-tuning", ["m1", "m2", "p0"], per, df)
    assert few.seeds == ["m1", "m2"] and few.phrases == []
    # A topic made only of common words keeps them (there is nothing else to go on).
    assert topic_evidence("fine-tuning", list(per), per, df).terms


def test_the_cut_is_relative_to_the_best_papers():
    from assistant.outline.candidates import cut

    # Mean of the three best is 3.0: a cut 1.25 under it keeps scores >= 1.75, wherever the pool's mean is.
    assert cut([3.5, 3.0, 2.5, 2.0, 1.5, 0.0], 1.25) == [0, 1, 2, 3]
    assert cut([3.5, 3.0, 2.5, 2.0, 1.5] + [-5.0] * 50, 1.25) == [0, 1, 2, 3]
    assert cut([1.0, 0.9, 0.8, -1.0], 0.5) == [0, 1, 2]
    assert cut([], 1.0) == []


def test_candidates_prefer_papers_that_use_the_topics_words():
    """Fake index: ranked hits, papers, a corpus; a paper without the topic's word drops under the cut."""
    from assistant.models import Hit, Paper
    from assistant.outline import candidates as mod
    from assistant.settings import Settings

    on = [Paper(id=f"on{i}", title=f"Model merging {i}", abstract="We study merging of models.") for i in range(6)]
    off = [Paper(id=f"off{i}", title=f"Tool use {i}", abstract="We study tool use of models.") for i in range(12)]
    # Off-topic papers rank as high as on-topic ones in the hybrid search; only the evidence tells them apart.
    ranked = [p for pair in zip(on, off) for p in pair] + off[6:]
    hits = [Hit(paper_id=p.id, title=p.title, score=1.0 - 0.01 * i, similarity=0.6) for i, p in enumerate(ranked)]

    class Index:
        def papers(self, ids=None):
            every = on + off
            return every if ids is None else [p for p in every if p.id in ids]

        def generation(self):
            return "g1"

    settings = Settings(outline={"min_papers": 3})
    orig = mod.search
    mod.search = lambda index, topic, k: hits[:k]
    try:
        pool = mod.candidate_pool(settings, Index(), "merging")
    finally:
        mod.search = orig
    kept = {p.id for p, _ in pool.kept}
    assert {"on0", "on1", "on2"} <= kept <= {p.id for p in on}  # off0 ranked second in the search and is out
    assert pool.left_out and "off0" in {p.id for p, _ in pool.left_out}  # reported just under the cut


def test_short_title_does_not_end_on_a_function_word():
    from assistant.outline.clustering import short_title

    assert short_title("Fine-grained Contract NER using instruction based model") == "Fine-grained Contract NER"
    assert short_title("Model Breadcrumbs: Scaling Multi-Task Model Merging with Sparse Masks") == "Model Breadcrumbs"
    assert short_title("Teaching Large Language Models to Refuse Unknown Questions") == "Teaching Large Language Models"
    assert short_title("How to Train Your Dragon Model Quickly Now") == "How to Train"


def test_a_top_level_category_left_with_one_study_goes_to_other():
    from assistant.models import Assignment, OutlineNode, OutlineStudy
    from assistant.outline.run import OutlineRun
    from assistant.outline.tree import _dissolve_singletons
    from assistant.settings import Settings

    big = OutlineNode(label="Refusal tuning", papers=["a", "b", "c"])
    lone = OutlineNode(label="Contract NER and related", papers=["x"])
    both = OutlineNode(label="Retrieval", papers=["y"])
    studies = [OutlineStudy(paper_id=p, title=p, claim=p) for p in ("a", "b", "c", "x", "y")]
    for s in studies[:3]:
        s.assignments = [Assignment(label="Refusal tuning", path=["Refusal tuning"], fit=0.6)]
    studies[3].assignments = [Assignment(label="Contract NER and related", path=["Contract NER and related"], fit=0.4)]
    studies[4].assignments = [  # y also fits Refusal tuning: it stays there only
        Assignment(label="Retrieval", path=["Retrieval"], fit=0.5),
        Assignment(label="Refusal tuning", path=["Refusal tuning"], fit=0.49),
    ]
    big.papers.append("y")
    leaves = [big, lone, both]
    located = [(leaf, [leaf.label]) for leaf in leaves]
    run = OutlineRun(settings=Settings(), index=None, topic="hallucination")
    assert _dissolve_singletons(run, leaves, located, studies) == ["x"]
    assert lone.papers == [] and both.papers == [] and big.papers == ["a", "b", "c", "y"]
    assert [a.label for a in studies[4].assignments] == ["Refusal tuning"] and studies[3].assignments == []
    # With no real category left, nothing is dissolved.
    solo = [OutlineNode(label="A", papers=["a"]), OutlineNode(label="B", papers=["b"])]
    assert _dissolve_singletons(run, solo, [(n, [n.label]) for n in solo], studies) == []


def test_a_claim_that_refers_back_is_shown_after_its_antecedent():
    from assistant.models import OutlineStudy, Paper
    from assistant.outline.claims import with_antecedents

    abstract = (
        "Multi-task diffusion suffers from conflicting denoising tasks. We propose Switch-DiT with sparse experts. "
        "Through these, each transformer block contains a shared expert across all tasks."
    )
    paper = Paper(id="p", title="Switch-DiT", abstract=abstract)
    lonely = Paper(id="q", title="Q", abstract="Through these, the first sentence refers back to nothing at all.")
    studies = [
        OutlineStudy(
            paper_id="p",
            title="Switch-DiT",
            claim="Through these, each transformer block contains a shared expert across all tasks.",
        ),
        OutlineStudy(paper_id="q", title="Q", claim="Through these, the first sentence refers back to nothing at all."),
    ]
    with_antecedents([paper, lonely], studies)
    assert studies[0].claim.startswith("We propose Switch-DiT with sparse experts. Through these,")
    assert studies[1].claim.startswith("Through these")  # no antecedent to give: left as it is


def test_a_phrase_never_spans_punctuation():
    from assistant.outline.labels import _terms
    from assistant.outline.phrases import candidate_phrases

    text = "Pre-trained language models (PLMs) use chain-of-thought (CoT) prompting. Fine-tuning helps."
    phrases = candidate_phrases(text, set())
    assert not any("plms" in p or "cot" in p or "prompting fine-tuning" in p for p in phrases)
    assert "models plms" not in _terms(text) and "prompting fine-tuning" not in _terms(text)


def test_labels_keep_the_capitals_their_studies_write():
    from assistant.outline.labels import cased

    texts = ["LLM agents plan with LoRA", "An LLM-based agent for GPT-4 tasks", "Fine-Tuning Is All You Need"]
    assert cased("Llm agents", texts) == "LLM agents"
    assert cased("Planning / llm-based", texts) == "Planning / LLM-based"
    assert cased("Fine-tuning", texts) == "Fine-tuning"  # a title's capitals are not the word's
    assert cased("task arithmetic", ["Task arithmetic"]) == "Task arithmetic"


def test_a_related_label_follows_its_study():
    import numpy as np

    from assistant.models import OutlineNode, OutlineStudy
    from assistant.outline.tree import rename_stale_related

    studies = [
        OutlineStudy(
            paper_id="a", title="Effectiveness of Data Augmentation for Parameter Efficient Tuning", claim="c"
        ),
        OutlineStudy(paper_id="b", title="Parameter-Efficient Fine-Tuning for Foundation Models", claim="c"),
        OutlineStudy(paper_id="c", title="LoRA: Low-Rank Adaptation", claim="c"),
    ]
    vectors = np.eye(3, dtype=np.float32)
    stale = OutlineNode(label="Effectiveness of Data Augmentation and related", papers=["b"], label_source="terms")
    fine = OutlineNode(label="LoRA and related", papers=["c", "a"], label_source="terms")
    facet = OutlineNode(label="Foundation models", papers=["b"], label_source="facet")
    root = OutlineNode(label="peft", children=[stale, fine, facet], label_source="topic")
    rename_stale_related(root, studies, vectors)
    assert stale.label == "Parameter-Efficient Fine-Tuning for Foundation Models and related"
    assert fine.label == "LoRA and related"  # its study is still there
    assert facet.label == "Foundation models"


def test_the_claim_is_a_finding_and_the_grouping_sentence_what_the_study_is_about():
    import numpy as np

    from assistant.models import Paper
    from assistant.outline.claims import extract_claims

    background = "Instruction tuning is a pivotal technique for aligning large language models with human intentions."
    finding = "We find that instruction tuning improves zero-shot accuracy on held-out tasks by 9 points."
    paper = Paper(id="p", title="Instruction tuning at scale", abstract=f"{background} {finding}")

    class Embedder:
        def embed_documents(self, texts):
            # the title, then the background sentence (closest to it), then the finding
            near = {paper.title: [1.0, 0.0], background: [1.0, 0.0], finding: [0.6, 0.8]}
            return np.asarray([near[t] for t in texts], dtype=np.float32)

    class Index:
        embedder = Embedder()

    claims, about = extract_claims(Index(), [paper])
    assert claims == [finding] and about == [background]
