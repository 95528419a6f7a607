"""Text utilities every stage shares: sentences, stopwords, stems, and the checks on a sentence.

One home for what reading, judging, answering and outlining all need, so each stage agrees on
what a sentence, a content word or a "finding" is.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = [
    "FINDING",
    "LABEL_STOPWORDS",
    "NOT_A_FINDING",
    "PHRASE_BREAK",
    "STOPWORDS",
    "TITLE_STOPWORDS",
    "VAGUE",
    "content_stems",
    "is_degenerate",
    "looks_like_instruction",
    "prefix_stem",
    "prompt_data",
    "split_sentences",
]

# ---------------------------------------------------------------- sentences

# Tokens ending in '.' that rarely end a sentence in abstracts.
_ABBREVIATIONS = {
    "e.g", "i.e", "et al", "al", "etc", "vs", "fig", "figs", "eq", "eqs", "sec", "ref", "refs", "approx",
    "cf", "resp", "no", "dr", "mr", "ms", "prof", "st", "u.s", "inc", "ltd",
}  # fmt: skip
# A list's item number, not a sentence's end: "strategies: 1." / "…, and 2." / "; 3."
_ENUMERATION = re.compile(r"(?:[:;,]|\band|\bor|\bthen)\s+\(?\d{1,2}\.$")
# Where a phrase or a bigram stops (outline labels): sentence and clause punctuation, brackets, quotes,
# slashes, dashes. "language models (PLMs)" has no phrase "models plms".
PHRASE_BREAK = re.compile(r"[.,;:!?()\[\]{}\"/]|--|\s-\s")
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    """Split an abstract into sentences; abbreviations and decimals do not end one."""
    text = " ".join(text.split())
    if not text:
        return []
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        candidate = text[start : match.start()].rstrip()
        last_word = candidate.rsplit(" ", 1)[-1].rstrip(".!?\"')]").lstrip("\"'([").lower()  # "(e.g." too
        if last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
            continue
        if _ENUMERATION.search(candidate):  # "two strategies: 1. Domain ..., and 2. Universal ...": an item number
            continue
        sentences.append(text[start : match.end()].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


# ---------------------------------------------------------------- words

# Function words: they say nothing about what a statement claims.
STOPWORDS = frozenset(
    """a an the of to in on for and or with by as at from is are was were be been this that these
    those it its their our we they which while than then into over under can may also both such
    via using use used based""".split()
)
# Words that name no category of an ML corpus: function words plus the field's own vocabulary
# ("model", "results", "improves"). "may", "then" and "under" stay label words, as they always were.
LABEL_STOPWORDS = (STOPWORDS - {"may", "then", "under"}) | frozenset(
    """new novel approach approaches method methods model models
    paper work study studies results result show shows propose proposed task tasks performance large language llm
    llms data training trained learning more however not only
    across different various significant improve improves improved improving existing recent two three one first
    achieve achieves framework benchmark benchmarks experiments evaluation analysis how what why when where who find
    finds found introduce introduces present presents demonstrate demonstrates outperform outperforms outperforming
    state-of-the-art art state effective effectively efficient simple key strong better best make makes made
    many much most well further even up out all each other own without within among through them he she has
    have had do does done given provide provides provided enable enables lead leads leading despite remain remains
    high higher low lower small smaller larger need needs often still whether thus therefore i.e e.g
    issue issues finding findings strategy strategies yet research effect effects feature features impact impacts
    useful intricate multiple several certain particular overall typically usually recently widely between
    shown showed demonstrated reported achieved""".split()
)

# Title words that say nothing about which paper this is; a paper id keeps the first words after
# them. Ids never change once given, so this list is frozen: editing it would rename new papers.
TITLE_STOPWORDS = frozenset(
    """a about across after against among an and are as at be been before between but by
    can do does for from how if in into is it its let lets my of on or our over than that
    the their this to toward towards under via vs we what whats when which who why with
    within without you your""".split()
)

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


@lru_cache(maxsize=8192)
def parts_of_speech(word: str) -> frozenset[str]:
    """The parts of speech (NOUN, VERB, ADJ, ADV, ...) that the lexicon of ``lemminflect`` allows for
    ``word``; empty when it does not know the word (a name, a coinage: "LoRA", "DPO")."""
    from lemminflect import getAllLemmas

    return frozenset(getAllLemmas(word.lower()))


def prefix_stem(word: str, length: int = 5) -> str:
    """A crude stem: the word's first ``length`` letters ("improves", "improved" -> "impro")."""
    return word[:length]


def content_stems(text: str, length: int = 6) -> set[str]:
    """Stems of the words of ``text`` that are not stopwords and longer than two letters."""
    return {prefix_stem(w, length) for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 2}


# ---------------------------------------------------------------- checks on a sentence

# Prompt injection is text that talks to the model instead of about a study. Each pattern is
# one way of doing that; any match is enough. They are written so that abstracts which merely
# study instructions ("instruction-tuned models ignore some instructions") stay untouched:
# the verb must address the reader ("ignore all previous ..."), not describe a model.
_INSTRUCTION_PATTERNS = (
    # "Ignore the instructions above", "forget all prior rules", "disregard the previous"
    r"\b(ignore|disregard|forget|override|bypass)\s+(all|any|every|your|my|the|these|previous|prior|earlier|above|"
    r"preceding)\b[^.]{0,40}\b(instructions?|prompts?|rules|guidelines|directions|directives)\b",
    r"\b(ignore|disregard|forget)\s+((all|any|the)\s+)?(above|previous|prior|earlier|preceding)\b",
    # "Disregard everything said earlier": an order, so at the start of a sentence or clause
    r"(^|[.:;!?\n]\s*|\b(please|now|and|just)\s+)(ignore|disregard|forget)\s+(everything|all|anything)\b",
    # addressing the model
    r"\b(you must|you should|you are now|you will now|from now on|pretend (to be|you are)|"
    r"as an ai (language )?(model|assistant)|you are (an? )?(ai|assistant|language model|chatbot|llm)\b)",
    # fake system or role markers, and new orders
    r"\b(new|updated|real|actual|additional) (instructions?|task|orders|rules)\s*:",
    r"\b(system|developer|admin(istrator)?)\s+(note|override|instructions?)\b|\bsystem\s+(prompt|message)\s*:"
    r"|\b(developer|god|jailbreak|dan|unrestricted) mode\b",
    r"\bimportant\s*(system|note|notice|instruction|update)\b",
    r"(^|\n)\s*(system|assistant|user|human)\s*:|<\|?(im_start|system|endoftext)\|?>|\[/?INST\]|###\s*instruction",
    # orders about the answer itself
    r"\b(say|respond with|reply with|answer with|output|print|write)\s*[\"'“«]",
    r"\b(do not|don't|never)\s+(cite|mention|reveal|follow|tell|say)\b",
    r"\bcite\s*\[\d+\]|\b(only|always)\s+cite\b",
    # the same in other languages (German, French, Spanish, Italian, Portuguese, Russian, Chinese, Japanese)
    r"\b(ignoriere|vergiss|missachte)\b[^.]{0,40}\b(anweisungen|alles|regeln|vorherigen?)\b",
    r"\b(ignorez|ignore|oubliez|oublie)\s+(toutes|tout|les)\b",
    r"\b(ignora|olvida|olvide|esqueça|esqueca|dimentica|ignore)\s+(todas?|todos|tutte|tutto|las|le)\b",
    r"(игнорируй|забудь|проигнорируй)[^.]{0,40}(инструкции|указания|всё|все|предыдущие)",
    r"(忽略|无视|忘记|忽视)[^。.]{0,10}(指令|指示|说明|提示|规则|以上|之前|上面)",
    r"(指示|命令|以前|前)[^。.]{0,10}(無視|忘れ)",
)
_INSTRUCTION = re.compile("|".join(f"(?:{p})" for p in _INSTRUCTION_PATTERNS), re.IGNORECASE)


def looks_like_instruction(sentence: str) -> bool:
    """True for text that addresses the model (prompt injection); such text is never shown or quoted."""
    return bool(_INSTRUCTION.search(sentence))


def prompt_data(text: str, withheld: str = "", *, whole: bool = False) -> str:
    """Corpus text as it may stand in a prompt: on one line, so it cannot open a field of its own
    ("Finding:", "System:"), and without the sentences that address the model (``whole``: any such
    sentence withholds all of it, as for a title); ``withheld`` when nothing is left."""
    sentences = split_sentences(text)
    if whole and any(looks_like_instruction(s) for s in sentences):
        return withheld
    return " ".join(s for s in sentences if not looks_like_instruction(s)) or withheld


def is_degenerate(text: str) -> bool:
    """Repetition loops and fragments typical of tiny models."""
    words = text.lower().split()
    if len(words) < 4:
        return True
    trigrams = [tuple(words[i : i + 3]) for i in range(len(words) - 2)]
    return len(trigrams) > 6 and len(set(trigrams)) / len(trigrams) < 0.6


# A sentence that reports what a study did or found.
FINDING = re.compile(
    r"\b(we (propose|introduce|present|show|find|demonstrate|develop)|our (results|experiments|findings|analysis)|"
    r"results (show|demonstrate|indicate|reveal)|outperform|improv|achiev|significantly|state-of-the-art)",
    re.IGNORECASE,
)
# Never a finding: links and availability notes.
NOT_A_FINDING = re.compile(
    r"https?://|github\.com|\b(code|implementation|data|models?) (is|are) (publicly )?(available|released)"
    # availability notes: "We will release our code and data soon.", "Our models and dataset are available ..."
    r"|\bwe (?:will|plan to|intend to|are going to) (?:also )?(?:publicly |openly )?(?:release|open[- ]?source|share)\b"
    r"|\b(?:our|all|the) (?:source )?(?:code|data(?:sets?)?|models?|weights|checkpoints|implementations?|resources)\b"
    r"[^.;]{0,40}?\b(?:will be|are|is)\s+(?:made\s+)?(?:publicly\s+|freely\s+|openly\s+)?"
    r"(?:available|released|open[- ]?sourced)\b"
    r"|\bavailable (?:upon|on) request\b"
    r"|\bwe (?:publicly |openly |also )?(?:release|open[- ]?source) (?:all (?:of )?)?(?:our|the) (?:source )?"
    r"(?:code|models?|data(?:sets?)?|weights|checkpoints|implementations?)\b",
    re.IGNORECASE,
)
# Background and anaphora: a sentence that leans on the one before it, or sets the scene.
VAGUE = re.compile(
    r"\b(these|this|such) (challenges|issues|problems|limitations|gaps)\b|^(however|in this work|in this paper)\b"
    r"|^(utilizing|driven by|motivated by|to (this|that) end|despite|recently|in recent years|while|although|notably)\b"
    r"|^(large )?language models( \(llms\))? (are|have)\b",
    re.IGNORECASE,
)
