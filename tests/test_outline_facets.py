"""Phrase-first categories (assistant/outline/facets.py): the noun-phrase check, the choice of
facets on hand-made pools, and placement by phrase."""

from __future__ import annotations

from collections import Counter

import pytest

from assistant.outline.facets import _acronym, _truncated, choose_facets, facet_keys, is_noun_phrase


@pytest.mark.parametrize(
    "phrase",
    ["Task arithmetic", "Low-rank adaptation", "Prefix tuning", "Model merging", "Reward models", "DPO",
     "Chain-of-thought", "Diffusion models", "Human values", "Weight averaging"],
)  # fmt: skip
def test_noun_phrases_of_the_field_pass(phrase):
    assert is_noun_phrase(phrase.split())


@pytest.mark.parametrize(
    "phrase",
    ["Selected", "Regarding", "Robustly", "Diverse array", "More sensitive", "Involves instruction",
     "Tasks described", "Practitioners seeking", "Large pre-trained", "Whether instruction-tuned",
     "Accessible", "Detrimental", "Survey aims", "Note", "Step towards"],
)  # fmt: skip
def test_fragments_verbs_and_adjectives_fail(phrase):
    assert not is_noun_phrase(phrase.split())


def test_facet_keys_merge_inflections_and_skip_the_topic():
    keys = facet_keys("Task vectors (TVs) edit models. A task vector is added.", {"edit"})
    assert keys["task vector"] == "Task vectors"  # one key for both, first written form kept
    assert not any("edit" in k for k in keys)
    assert "vectors tvs" not in " ".join(keys)  # never across punctuation


def test_a_phrase_usually_followed_by_a_noun_is_truncated():
    assert _truncated(Counter({"models": 5, "": 1}))
    assert not _truncated(Counter({"": 3, "has": 1, "models": 1}))


def test_an_acronym_of_the_parent_is_no_subcategory():
    assert _acronym(["CoT"], "Chain-of-thought")
    assert _acronym(["PEFTs"], "parameter efficient fine tuning")
    assert not _acronym(["DPO"], "Chain-of-thought")
    assert not _acronym(["CoT", "prompts"], "Chain-of-thought")


def _pool():
    texts = [
        "Task arithmetic adds task vectors. We study task arithmetic in the tangent space.",
        "Model breadcrumbs: sparse masks for task arithmetic across many tasks.",
        "Editing with task arithmetic and negation of task vectors.",
        "Checkpoint averaging improves cross-lingual transfer. Weight averaging of checkpoints helps.",
        "Weight averaging of fine-tuned checkpoints gives robust models.",
        "Logit fusion of small experts guides a large model.",
    ]
    titles = ["Task arithmetic in the tangent space", "Model breadcrumbs", "Editing models with task arithmetic",
              "Free lunch: checkpoint averaging", "Model soups", "Dynamic logit fusion"]  # fmt: skip
    # The corpus: the pool plus 200 abstracts that use none of these phrases.
    df = Counter()
    for t in texts:
        df.update(set(facet_keys(t)))
    return texts, titles, (df, 206)


def test_facets_cover_the_pool_with_distinct_phrases():
    texts, titles, background = _pool()
    facets = choose_facets(texts, titles, 4, background, avoid={"merging"})
    labels = [f.label.lower() for f in facets]
    assert labels[0] == "task arithmetic" and facets[0].members == {0, 1, 2}
    assert "weight averaging" in labels
    assert all(len(f.members) >= 2 for f in facets)
    # no facet repeats another's studies: "task vectors" (studies 0 and 2) is a synonym here
    assert "task vectors" not in labels


def test_a_phrase_most_studies_use_is_the_topic_not_a_category():
    texts = [f"Model merging of experts, study {i}. It uses topic words." for i in range(5)]
    texts += ["Task arithmetic merges.", "Task arithmetic again."]
    background = (Counter({k: 3 for t in texts for k in facet_keys(t)}), 240)
    facets = choose_facets(texts, ["t"] * len(texts), 4, background)
    assert "model merging" not in [f.label.lower() for f in facets]


def test_too_few_phrases_give_no_facets():
    texts = ["Alpha beta gamma.", "Delta epsilon."]
    assert choose_facets(texts, ["a", "b"], 3, (Counter(), 240)) == []


def _placed(with_facets: bool):
    import numpy as np

    from assistant.models import OutlineNode, OutlineStudy
    from assistant.outline.run import OutlineRun
    from assistant.outline.tree import assign
    from assistant.settings import Settings

    def unit(*xs):
        v = np.asarray(xs, dtype=np.float32)
        return v / np.linalg.norm(v)

    ids = ["a1", "a2", "b1", "b2", "x"]
    studies = [OutlineStudy(paper_id=p, title=p, claim=p) for p in ids]
    # x fits A at about 0.4: enough for a cluster, not for a phrase it does not use
    vectors = np.stack([unit(1, 0, 0), unit(1, 0.05, 0), unit(0, 1, 0), unit(0, 1, 0.05), unit(0.4, 0, 0.92)])
    a = OutlineNode(label="Task arithmetic", papers=["a1", "a2", "x"], label_source="facet")
    b = OutlineNode(label="Weight averaging", papers=["b1", "b2"], label_source="facet")
    root = OutlineNode(label="merging", children=[a, b], label_source="topic")
    run = OutlineRun(settings=Settings(), index=None, topic="merging")
    if with_facets:
        run.facet_members = {id(a): {"a1", "a2"}, id(b): {"b1", "b2"}}
    assign(run, root, studies, vectors)
    return {c.label: c.papers for c in root.children}


def test_a_study_without_the_phrase_needs_a_good_fit():
    assert _placed(with_facets=False)["Task arithmetic"] == ["a1", "a2", "x"]
    placed = _placed(with_facets=True)
    assert placed["Task arithmetic"] == ["a1", "a2"] and placed["Other"] == ["x"]


def test_phrase_counts_are_kept_on_disk_per_generation(make_assistant):
    import assistant.outline.facets as facets
    from assistant.models import Paper

    papers = [
        Paper(id=f"p{i}", title=f"Task arithmetic {i}", abstract="Task vectors are added. Weights.") for i in range(3)
    ]
    a = make_assistant(papers)
    facets._BACKGROUND = None
    df, n = facets.phrase_background(a.index)
    assert n == 3 and df["task arithmetic"] == 3
    folder = a.index.cache_dir("phrases")
    assert (folder / "phrases.json.gz").is_file()
    facets._BACKGROUND = None  # a new process: read back, not counted again
    assert facets.phrase_background(a.index) == (df, n)
    (folder / "phrases.json.gz").write_bytes(b"not gzip")  # a broken cache is counted again
    facets._BACKGROUND = None
    assert facets.phrase_background(a.index) == (df, n)
    a.index.ingest([Paper(id="q", title="Weight averaging", abstract="Weight averaging of checkpoints.")])
    assert facets.phrase_background(a.index)[1] == 4  # a new generation is counted anew


def test_a_phrase_placement_is_judged_on_the_sentence_that_uses_the_phrase():
    from assistant.models import OutlineNode, OutlineStudy, Paper
    from assistant.outline.run import OutlineRun
    from assistant.outline.tree import _phrase_sentences
    from assistant.settings import Settings

    abstract = "Merging is popular. We study task arithmetic in the tangent space. It works."

    class Index:
        def papers(self, ids=None):
            return [Paper(id="a", title="T", abstract=abstract)]

    leaf = OutlineNode(label="Task arithmetic", papers=["a", "b"], label_source="facet")
    other = OutlineNode(label="Weight averaging", papers=["b"], label_source="facet")
    run = OutlineRun(settings=Settings(), index=Index(), topic="merging")
    run.facet_members = {id(leaf): {"a"}, id(other): {"b"}}
    run.facet_keys = {id(leaf): "task arithmetic", id(other): "weight averag"}
    studies = [OutlineStudy(paper_id=p, title=p, claim=p) for p in ("a", "b")]
    found = _phrase_sentences(run, {("Task arithmetic",): leaf, ("Weight averaging",): other}, studies)
    assert found == {("a", ("Task arithmetic",)): "We study task arithmetic in the tangent space."}
