"""Answer selection logic: antecedents, roles, no padding, spread over papers, grouping."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.ask import question_parts
from assistant.selection import Candidate, addressing, candidates, group, is_comparative, needs_antecedent, role, select
from assistant.text import split_sentences


@pytest.mark.parametrize(
    ("sentence", "flag"),
    [
        ("This approach improves accuracy by 3 points.", True),
        ("To address this issue, we propose a sparse mask.", True),
        ("These models forget less.", True),
        ("However, merging hurts on code.", True),
        ("We propose a sparse mask for merging.", False),
        ("Task arithmetic adds task vectors.", False),
        ("Thisbe is a name, not a pronoun.", False),
    ],
)
def test_needs_antecedent(sentence, flag):
    assert needs_antecedent(sentence) is flag


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Recently, large language models have attracted increasing attention.", "background"),
        ("How to merge models remains an open problem.", "background"),
        ("In this paper, we study model merging.", "background"),
        ("We show that RL improves recall by 27% on factual QA.", "finding"),
        ("Our method outperforms TIES-merging on eight tasks.", "finding"),
        ("We propose a sparse mask for merging fine-tuned models.", "method"),
    ],
)
def test_role(sentence, expected):
    assert role(sentence) == expected


@pytest.mark.parametrize(
    ("sentence", "index", "expected"),
    [
        # An abstract's opening sentence sets the scene unless it is about the authors' own work.
        ("Retrieval-augmented generation reduces hallucination in large language models.", 0, "background"),
        ("Retrieval-augmented generation reduces hallucination in large language models.", 3, "finding"),
        ("We present QLoRA, which reduces memory use enough to finetune a 65B model.", 0, "finding"),
        ("Retrieval-Augmented Generation (RAG) has proven to be an effective method for mitigating hallucination.", 4,
         "background"),
        ("Parameter-efficient tuning is gaining increasing attention in vision.", 2, "background"),
        ("We find that RAG has become more robust than fine-tuning under noise.", 5, "finding"),
        # A percentage is a result ("\b" after "%" never matched, so these were background).
        ("In doing so, we boost accuracy from 49.6% to 93.7% on the Colored Objects task.", 3, "finding"),
        ("When we apply proxy-tuning to Llama2-70B, we can close 88% of the gap to its tuned version.", 2, "finding"),
        ("We name our models In-Context LoRA (IC-LoRA).", 4, "method"),
    ],
)  # fmt: skip
def test_role_by_place_and_opener(sentence, index, expected):
    assert role(sentence, index) == expected


def test_a_third_person_sentence_after_the_authors_turn_describes_their_work():
    abstract = (
        "Long contexts are expensive to train. Typically, training LLMs with long context sizes is computationally "
        "expensive. We present LongLoRA, an efficient fine-tuning approach. The proposed shift short attention "
        "effectively enables context extension with similar performance. LongLoRA demonstrates strong empirical "
        "results on various tasks."
    )
    roles = {c.index: c.role for c in candidates([("p", abstract)])}
    assert roles[1] == "background"  # before the authors' own work: scene-setting
    assert roles[3] == "method" and roles[4] == "method"  # after it: about LongLoRA, not background
    assert role("LongLoRA demonstrates strong empirical results on various tasks.", 4) == "background"  # no context


def test_a_papers_background_is_not_quoted_beside_its_own_finding():
    cands = [
        _c("a", 0, 0.95, [1, 0, 0], "background"),
        _c("a", 3, 0.80, [0, 1, 0]),
        _c("b", 0, 0.9, [0, 0, 1], "background"),
    ]
    chosen = [(c.paper_id, c.index) for c in select(cands, 0.5, limit=8, per_paper=2)]
    assert ("a", 0) not in chosen and ("a", 3) in chosen
    assert ("b", 0) in chosen  # a paper with nothing but background keeps it


@pytest.mark.parametrize(
    "sentence",
    [
        "Through these, each transformer block contains a shared expert across all tasks.",
        "By doing so, the model keeps its general abilities.",
        "With this, the model keeps its general abilities.",
    ],
)
def test_more_openers_refer_back(sentence):
    assert needs_antecedent(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "To achieve this, we employ a sparse mixture-of-experts within each block.",
        "To this end, we collect a new dataset.",
    ],
)
def test_purpose_openers_refer_back_only_when_strict(sentence):
    assert not needs_antecedent(sentence) and needs_antecedent(sentence, strict=True)


def test_candidates_give_an_antecedent_or_skip():
    abstract = (
        "This paper is about merging. Merging fine-tuned models is popular for multi-task learning. "
        "To address this, we propose Breadcrumbs. Is merging always good? Code is available at https://x.y/z now."
    )
    cands = candidates([("p", abstract)])
    texts = [c.text for c in cands]
    assert "This paper is about merging." not in " ".join(texts)  # first sentence refers back: skipped
    assert (
        "Merging fine-tuned models is popular for multi-task learning. To address this, we propose Breadcrumbs."
        in texts
    )
    assert not any(t.endswith("?") for t in texts)
    assert not any("https://" in t for t in texts)


def _c(pid, i, rel, vec, role_="finding"):
    c = Candidate(pid, i, f"{pid} sentence {i}", f"{pid} sentence {i}", role_, relevance=rel)
    c.vector = np.asarray(vec, dtype=np.float32) / np.linalg.norm(vec)
    return c


def test_select_does_not_pad_spreads_over_papers_and_drops_duplicates():
    cands = [
        _c("a", 0, 0.95, [1, 0, 0]),
        _c("a", 1, 0.90, [0, 1, 0]),
        _c("a", 2, 0.89, [0, 0, 1]),
        _c("b", 0, 0.80, [1, 0.01, 0]),  # a near-duplicate of a/0
        _c("c", 0, 0.70, [0, 0.3, 1]),
        _c("d", 0, 0.20, [1, 1, 1]),  # under the bar: never quoted
    ]
    chosen = select(cands, 0.5, limit=8, per_paper=2)
    ids = [(c.paper_id, c.index) for c in chosen]
    assert ("d", 0) not in ids and ("b", 0) not in ids
    assert len([1 for p, _ in ids if p == "a"]) == 2  # per-paper cap
    assert ("c", 0) in ids  # one per paper first: c before a's second sentence would crowd it out
    assert select(cands, 0.99) == []


def test_background_loses_to_a_finding_of_equal_relevance():
    finding = _c("a", 0, 0.7, [1, 0], "finding")
    background = _c("b", 0, 0.7, [0, 1], "background")
    assert select([background, finding], 0.5, limit=1)[0] is finding


def test_group_puts_similar_statements_together():
    cands = [_c("a", 0, 0.9, [1, 0]), _c("b", 0, 0.8, [0, 1]), _c("c", 0, 0.7, [1, 0.1])]
    groups = group(cands, similar=0.9)
    assert [[c.paper_id for c in g] for g in groups] == [["a", "c"], ["b"]]


def test_comparative_and_question_parts():
    assert is_comparative("How does RAG compare with fine-tuning?")
    assert not is_comparative("Which methods merge models?")
    assert question_parts("What memory does QLoRA need, and how close does Guanaco get to ChatGPT?") == [
        "What memory does QLoRA need",
        "how close does Guanaco get to ChatGPT",
    ]
    assert question_parts("Which methods merge fine-tuned models?") == ["Which methods merge fine-tuned models?"]


@pytest.mark.parametrize(
    "sentence",
    [
        "We show that this method consistently improves robustness.",
        "Third, for the fine-tuning setting, we find gains.",
    ],
)
def test_more_sentences_that_refer_back(sentence):
    assert needs_antecedent(sentence)


def test_framing_with_this_paper_does_not_need_an_antecedent():
    assert not needs_antecedent("In this paper, we find that merging hurts code tasks.")


def _sc(pid, i, relevance, specificity=3.0, role="finding"):
    c = Candidate(pid, i, f"{pid} sentence {i}.", f"{pid} sentence {i}.", role, relevance=relevance)
    c.specificity = specificity
    return c


def test_hub_sentences_are_not_selected_however_relevant():
    hub = _sc("a", 0, 0.97, specificity=0.2)
    on_point = _sc("b", 0, 0.8, specificity=2.5)
    assert select([hub, on_point], 0.6, min_specificity=1.0) == [on_point]
    assert select([hub, on_point], 0.6) == [hub, on_point]  # no bar: both


def test_relative_cut_keeps_papers_near_the_best():
    best = _sc("a", 0, 0.95)
    near = _sc("b", 0, 0.8)
    padding = [_sc(p, 0, 0.65) for p in "cdefg"]  # over the absolute bar, far below the best
    chosen = select([best, near, *padding], 0.6, margin=0.2)
    assert chosen == [best, near]
    assert addressing([best, near, *padding], 0.6, margin=0.2) == ["a", "b"]
    assert len(select([best, near, *padding], 0.6)) == 7  # no cut: padding


def test_sentence_margin_limits_second_sentences_of_a_paper():
    first, close, far = _sc("a", 0, 0.9), _sc("a", 1, 0.85), _sc("a", 2, 0.7)
    assert select([first, close, far], 0.6, per_paper=3, sentence_margin=0.1) == [first, close]


def test_background_is_quoted_after_the_findings():
    motivation = _sc("a", 0, 0.97, role="background")  # restates the question: very relevant
    finding = _sc("b", 0, 0.8, role="finding")
    assert select([motivation, finding], 0.6) == [finding, motivation]


def test_availability_notes_are_not_quotable():
    abstract = (
        "We present Breadcrumbs, a merging method for fine-tuned models. Breadcrumbs improves accuracy by 3 points "
        "on eight tasks. We will release our code and data soon. Our models and dataset are available to the "
        "community. We release AndroidControl, a dataset of 15,283 demonstrations."
    )
    texts = [c.sentence for c in candidates([("p", abstract)])]
    assert "We will release our code and data soon." not in texts
    assert "Our models and dataset are available to the community." not in texts
    assert "We release AndroidControl, a dataset of 15,283 demonstrations." in texts  # a dataset is a finding
    more = candidates(
        [
            (
                "q",
                "We present QLoRA for efficient finetuning of large models. We release all of our models and code, "
                "including CUDA kernels for 4-bit training. It supports 1) Domain-specific Fine-Tuning, which tailors "
                "pretrained models to a single domain, and 2. Universal adaptation to many domains at once works well.",
            )
        ]
    )
    kept = " ".join(c.sentence for c in more)
    assert "We release all of our models and code" not in kept
    # a list is not cut after its item numbers (split_sentences keeps it one sentence)
    assert not any(c.sentence.endswith("and 2.") for c in more)
    listed = "It supports two modes: 1. Domain-specific Fine-Tuning, which tailors models, and 2. Universal adaptation."
    assert split_sentences(listed) == [listed]
