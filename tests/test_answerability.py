"""Answerability by content terms: which words of a question count, how they weigh, what covers them."""

from __future__ import annotations

from assistant.answerability import absent, coverage, query_terms, stem, term_stats, unmentioned
from assistant.models import Paper


def _stats(*abstracts: str):
    return term_stats([Paper(id=f"p{i}", title="", abstract=a) for i, a in enumerate(abstracts)])


def test_query_terms_leave_out_how_the_question_asks():
    assert query_terms("What does knowledge distillation give for speech recognition on phones?") == [
        stem(w) for w in ("knowledge", "distillation", "speech", "recognition", "phones")
    ]
    assert query_terms("How much does it help?") == []


def test_terms_are_stemmed_and_compounds_split():
    assert set(query_terms("merging fine-tuned models")) == {stem("merge"), stem("fine"), stem("tuned"), stem("models")}
    assert stem("merging") == stem("merged")


def test_rare_terms_weigh_more_than_the_fields_own_words():
    stats = _stats(*(["language models are fine-tuned"] * 8), "speech models", "knowledge in models")
    q = "how are fine-tuned language models used for speech?"
    assert stats.idf(stem("speech")) > stats.idf(stem("models"))
    with_speech = coverage(q, ["speech"], stats)
    with_field = coverage(q, ["fine-tuned language models"], stats)
    assert with_speech.share > 0.4 and with_field.share < 0.6
    assert with_field.missing == [stem("speech")] and with_field.words[stem("speech")] == "speech"


def test_a_term_no_paper_uses_weighs_most_and_a_question_without_terms_is_covered():
    stats = _stats("models", "models and data")
    assert stats.idf("watermark") > stats.idf(stem("data")) > stats.idf(stem("models"))
    assert coverage("What is it?", [], stats).share == 1.0


def test_term_stats_are_remembered_per_key():
    first = term_stats([Paper(id="a", title="t", abstract="alpha beta")], key="gen-1")
    again = term_stats([], key="gen-1")
    assert again is first and again.n == 1


def test_unmentioned_words_are_the_questions_content_words_no_paper_uses():
    stats = _stats("language models are fine-tuned on music", "speech models")
    q = "What is the energy use of fine-tuning language models for music on smartphones in 2024?"
    # framing words ("what", "use"), short words and numbers never count; stems match ("fine-tuning")
    assert unmentioned(q, stats) == ["energy", "smartphones"]
    assert unmentioned("how are speech models fine-tuned?", stats) == []


def test_the_weight_of_words_no_paper_uses():
    stats = _stats("fine-tuned language models translate text", "models of handwriting", "language models")
    share, words = absent("How well do fine-tuned language models translate ancient Latin inscriptions?", stats)
    assert words == ["ancient", "latin", "inscriptions"] or set(words) == {"ancient", "latin", "inscriptions"}
    assert 0.5 < share < 1
    assert absent("How do fine-tuned language models translate?", stats) == (0.0, [])
    assert absent("What is it?", stats) == (0.0, [])
