from assistant.indexing.chunking import chunk_paper
from assistant.models import Paper
from assistant.text import split_sentences


def test_split_keeps_abbreviations_and_decimals():
    text = "We use e.g. LoRA adapters. Accuracy rises by 3.5 points vs. the baseline. It works! Does it?"
    assert split_sentences(text) == [
        "We use e.g. LoRA adapters.",
        "Accuracy rises by 3.5 points vs. the baseline.",
        "It works!",
        "Does it?",
    ]


def test_an_abbreviation_in_brackets_ends_no_sentence():
    # QLoRA's abstract: "... infeasible to run with regular finetuning (e.g. 33B and 65B parameter models)."
    text = "Too big to run (e.g. 33B and 65B parameter models). We use [i.e. twice] it. Done."
    assert split_sentences(text) == [
        "Too big to run (e.g. 33B and 65B parameter models).",
        "We use [i.e. twice] it.",
        "Done.",
    ]


def test_a_numbered_list_is_one_sentence():
    text = (
        "We employ two strategies: 1. Domain-specific Fine-Tuning, which tailors models to one domain, and 2. "
        "Universal Applicability with MoE, adapting models to many. It improves accuracy from 40 to 52. It is fast."
    )
    assert split_sentences(text) == [
        "We employ two strategies: 1. Domain-specific Fine-Tuning, which tailors models to one domain, and 2. "
        "Universal Applicability with MoE, adapting models to many.",
        "It improves accuracy from 40 to 52.",  # a number at a sentence's end still ends it
        "It is fast.",
    ]


def test_split_empty():
    assert split_sentences("   ") == []


def _paper(n: int) -> Paper:
    return Paper(id="p-2024", title="T", abstract=" ".join(f"Sentence number {i}." for i in range(n)))


def test_windows_cover_every_sentence_with_overlap():
    chunks = chunk_paper(_paper(7), sentences_per_chunk=3, overlap=1)
    assert [(c.sentence_start, c.sentence_end) for c in chunks] == [(0, 3), (2, 5), (4, 7)]
    assert chunks[1].text == "Sentence number 2. Sentence number 3. Sentence number 4."
    assert [c.id for c in chunks] == ["p-2024#0", "p-2024#1", "p-2024#2"]


def test_short_abstract_is_one_chunk():
    chunks = chunk_paper(_paper(2), sentences_per_chunk=3, overlap=1)
    assert len(chunks) == 1 and (chunks[0].sentence_start, chunks[0].sentence_end) == (0, 2)


def test_overlap_not_smaller_than_window_still_advances():
    chunks = chunk_paper(_paper(4), sentences_per_chunk=2, overlap=5)
    assert [(c.sentence_start, c.sentence_end) for c in chunks] == [(0, 2), (1, 3), (2, 4)]



def test_without_overlap_windows_tile_the_abstract():
    spans = [(c.sentence_start, c.sentence_end) for c in chunk_paper(_paper(7), 3, 0)]
    assert spans == [(0, 3), (3, 6), (6, 7)]
