"""`ask`: retrieve -> on-point sentences (relevance model) -> answer or refuse -> cited answer.

1. The hybrid ranking's top ``ask.candidate_papers`` papers give candidate sentences
   (``selection.candidates``: a sentence that refers back is quoted with its antecedent).
2. The relevance model scores the ``ask.scored_sentences`` closest of them for *this*
   question. None above ``ask.min_relevance``: the corpus does not answer it (refusal, with
   the closest papers). Those above it also get a specificity (relevance logit for the question
   minus the mean for ``GENERIC_QUESTIONS``, cached per sentence on disk): a "hub" sentence that
   suits any question of the field is not quoted, and none specific enough is a refusal too.
   Nor is a question answered when the papers of the sentences over every bar do not use its
   content terms (``answerability.coverage``: each term weighted by how rare it is in the
   corpus, under ``ask.min_coverage``): "knowledge distillation of speech recognizers for phones"
   finds sentences about knowledge, none about speech or phones. A question part that no
   sentence answers is named ("not covered"). Each candidate paper gets its best sentence
   scored (after the best half overall), so a thematic answer can reach all of them.
3. With a capable model the on-point sentences' papers are numbered sources and the model
   writes statements, each citing them; the grammar lets a citation name only a given source,
   citations are validated again, and every (statement, cited abstract) pair is checked by the
   support judge. In ``auto`` mode a model whose statements were kept in under
   ``ask.probe_min_kept`` of its answers (after at least ``ask.probe_answers``) is remembered
   (per model file) and not asked again.
4. Otherwise the answer quotes the on-point sentences (``selection.select``: findings before
   background, one per paper first, no padding: only papers within ``ask.paper_margin`` of the best), grouped by what they say, under a lead line
   that says how many papers address the question.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import EMPTY_QUESTION, require_text
from .models import Answer, Hit, Paper, Reference, Statement
from .prompts import render
from .retrieval import search
from .selection import Candidate, addressing, candidates, group, select
from .settings import Settings
from .text import STOPWORDS, is_degenerate, looks_like_instruction, prompt_data, split_sentences

__all__ = ["NOT_COVERED", "AskPipeline", "build_grammar", "missing_names", "parse_statements"]

log = logging.getLogger(__name__)

NOT_COVERED = "The indexed papers do not cover this question."

_LINE = re.compile(r"^\s*(?:[-*•]|\d+[.)])?\s*(?P<text>.*?)\s*(?P<cites>(?:\[\d+\]\s*)+)[.\s]*$")


_NAMED = re.compile(
    r"\b(?=[A-Za-z0-9.-]*[A-Za-z])(?=[A-Za-z0-9.-]*(?:\d|[a-z][A-Z]|[A-Z]{2}))[A-Za-z0-9][A-Za-z0-9.-]*[A-Za-z0-9]\b"
)
_NAME_SUFFIX = re.compile(
    r"-(based|style|parameter|scale|level|like|specific|shot|tuned|only|free|aware|family|families|series|class|type|sized?)$"
)


def missing_names(question: str, texts: list[str]) -> list[str]:
    """Names in the question (GSM8K, Mixtral-8x7B, FlashAttention-3) that no source text mentions.

    A question about a named model, dataset or method that none of the retrieved papers
    mentions is about something the corpus does not cover, however similar its wording.
    """
    haystack = " ".join(texts).lower()
    missing = []
    for match in _NAMED.finditer(question):
        name = _NAME_SUFFIX.sub("", match.group(0))
        if re.fullmatch(r"[A-Z0-9]+s", name):
            name = name[:-1]  # GPUs -> GPU
        if any(c.isupper() for c in name) and name.lower() not in haystack and name not in missing:
            missing.append(name)
    return missing


def build_grammar(n_sources: int, max_statements: int, max_citations: int) -> str:
    """GBNF: up to ``max_statements`` bullet lines, each ending in citations of sources 1..n only."""
    numbers = " | ".join(f'"{i}"' for i in range(1, n_sources + 1))
    more = ""
    for _ in range(max_statements - 1):
        more = f'("\\n- " stmt {more})?'
    cite_seq = "cite" + " cite?" * (max_citations - 1)
    return "\n".join(
        [
            f'root ::= "- " stmt {more} "\\n"',
            f'stmt ::= [A-Za-z] [^\\[\\]\\n]+ " " {cite_seq}',
            f'cite ::= "[" ({numbers}) "]"',
        ]
    )


def parse_statements(text: str, n_sources: int) -> list[tuple[str, list[int]]]:
    """(statement, cited source numbers) per line; numbers outside 1..n are dropped."""
    out = []
    for line in text.splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        body = match.group("text").strip().rstrip(".,;:").strip()
        numbers = [int(n) for n in re.findall(r"\[(\d+)\]", match.group("cites"))]
        valid = list(dict.fromkeys(n for n in numbers if 1 <= n <= n_sources))
        if len(body.split()) >= 3:
            out.append((body + ".", valid))
    return out


_PART_BREAK = re.compile(
    r",?\s+and\s+(?=(?:how|what|which|why|whether|when|where|does|do|is|are|can|did)\b)|;\s+|\?\s+(?=[A-Z])",
    re.IGNORECASE,
)


def question_parts(question: str) -> list[str]:
    """The sub-questions of "A, and how B?" / "A; B" / "A? B?" (the question itself when single)."""
    parts = [p.strip(" ,;?") for p in _PART_BREAK.split(question) if p and p.strip(" ,;?")]
    parts = [p for p in parts if len([w for w in re.findall(r"[a-z]+", p.lower()) if w not in STOPWORDS]) >= 2]
    return parts if len(parts) > 1 else [question.strip()]


def _near(text: str, phrase: str, before: int = 3, after: int = 4) -> set[str]:
    """Content stems of the words around each occurrence of ``phrase`` in ``text`` (lowercased)."""
    from .text import content_stems

    out: set[str] = set()
    for m in re.finditer(rf"\b{re.escape(phrase)}\b", text):
        head = text[: m.start()].split()[-before:]
        tail = text[m.end() :].split()[:after]
        out |= content_stems(" ".join(head + tail))
    return out


def _opposite_about_the_same(a: str, b: str) -> bool:
    """The two statements go opposite ways (improves / hurts, more / less ...) about the same thing:
    the words around the two direction words share a content word ("improves recall" against
    "hurts recall", not "improves zero-shot accuracy" against "rely less on surface features")."""
    from .judge.signals import direction_conflicts

    la, lb = a.lower(), b.lower()
    for said, opposite in direction_conflicts(la, lb):  # said: in b, opposite: in a
        if _near(lb, said) & _near(la, opposite):
            return True
    return False


def _disagreements(statements: list[Statement], numbers: dict[str, int]) -> list[str]:
    """Pairs of statements of different papers on the same thing that go opposite ways."""
    from .text import content_stems

    out = []
    for i, a in enumerate(statements):
        for b in statements[i + 1 :]:
            if not a.citations or not b.citations or a.citations[0] == b.citations[0]:
                continue
            if a.group is None or a.group != b.group:  # only statements that say related things
                continue
            shared = content_stems(a.text) & content_stems(b.text)
            if len(shared) >= 5 and _opposite_about_the_same(a.text, b.text):
                na, nb = numbers.get(a.citations[0]), numbers.get(b.citations[0])
                if na and nb:
                    out.append(f"The papers disagree here: [{na}] and [{nb}] report opposite directions.")
    return list(dict.fromkeys(out))[:2]


#: Answerability of a question = max over its on-point sentences of relevance + this x cosine:
#: short questions ("how does RL affect knowledge recall?") get lower relevance than long ones,
#: the sentence's plain similarity to the question evens that out.
ANSWERABILITY_COSINE = 0.5

_VECTORS: dict[str, dict[str, Any]] = {}  # embedder name -> text -> vector


def _sentence_vectors(embedder, texts: list[str]):
    """Document vectors of candidate sentences, remembered per process (a warm ``ask`` re-reads
    the same abstracts often)."""
    import numpy as np

    from .indexing.embedding import embed_memo

    memo = _VECTORS.setdefault(getattr(embedder, "name", type(embedder).__name__), {})
    return np.stack(embed_memo(embedder, texts, memo, limit=20_000)).astype(np.float32, copy=False)


def _lexical_cut(
    question: str, cands: list[Candidate], sources: list[_Source], n: int, per_paper: int = 0
) -> list[Candidate]:
    """The ``n`` candidates sharing most content words with the question, those inside a
    retrieved passage and of better-ranked papers first (each paper's best ``per_paper`` before
    the rest; order kept)."""
    from .text import content_stems

    if len(cands) <= n:
        return cands
    want = content_stems(question) or {""}
    rank = {s.paper.id: i for i, s in enumerate(sources)}
    spans = {s.paper.id: [(p.sentence_start, p.sentence_end) for p in s.hit.passages] for s in sources}

    def cheap(c: Candidate) -> float:
        inside = any(a <= c.index < b for a, b in spans.get(c.paper_id, []))
        return len(content_stems(c.text) & want) / len(want) + 0.3 * inside + 0.2 * (1 - rank[c.paper_id] / len(rank))

    ranked = sorted(range(len(cands)), key=lambda i: -cheap(cands[i]))
    keep = set(_depth_then_breadth(ranked, [c.paper_id for c in cands], n, per_paper))
    return [c for i, c in enumerate(cands) if i in keep]


def _depth_then_breadth(ranked: list[int], paper_of: list[str], n: int, per_paper: int) -> list[int]:
    """``n`` of the ``ranked`` indices: the best half whatever their paper (a one-paper question
    keeps its paper's sentences), then each paper's ``per_paper`` best not yet in (a thematic
    question's answer can reach every candidate paper), then the best of the rest; in rank order."""
    chosen = set(ranked[: n // 2])
    per: dict[str, int] = {}
    for i in chosen:
        per[paper_of[i]] = per.get(paper_of[i], 0) + 1
    for i in ranked:
        if len(chosen) >= n:
            break
        if i not in chosen and per.get(paper_of[i], 0) < per_paper:
            chosen.add(i)
            per[paper_of[i]] = per.get(paper_of[i], 0) + 1
    for i in ranked:
        if len(chosen) >= n:
            break
        chosen.add(i)
    return [i for i in ranked if i in chosen]


#: Bland questions of the corpus's field. A sentence's relevance to them is its "hub" score: a
#: sentence that would be quoted for any of them ("We don't assume access to a stronger LLM",
#: "Somewhat counterintuitively, ...") says little about the question at hand.
GENERIC_QUESTIONS = (
    "How can large language models be improved?",
    "What are the limitations of current language models?",
    "How are language models trained?",
    "How should language models be evaluated?",
    "How can models be fine-tuned efficiently?",
    "What makes a training method work better?",
    "Why do neural networks fail?",
    "What do experiments on benchmarks show?",
)

_GENERIC: dict[str, dict[str, float]] = {}  # cache file -> {scored text: mean generic logit}


#: An answer whose papers use under this share of the question's content-term weight covers only part of
#: it: the question's words that no indexed paper uses are named in its lead line. (Over it, such a word is
#: a rewording the corpus says otherwise, "stretched" for "extends"; on the tuning questions every near-domain
#: unanswerable one answered was under 0.62 and every answerable one but one over 0.6.)
PARTIAL_COVERAGE = 0.6


def _logit(p: float) -> float:
    p = min(max(float(p), 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _generic_path(settings: Settings, relevance) -> Any:
    """The on-disk cache of hub scores, one file per relevance model and question bank."""
    import hashlib
    from pathlib import Path

    kind = getattr(relevance, "kind", type(relevance).__name__)
    identity = getattr(relevance, "identity", "")  # the adapter's digest: a retrained model scores afresh
    name = f"{kind}|{identity}|{settings.judge.relevance_backend}|{'|'.join(GENERIC_QUESTIONS)}"
    digest = hashlib.sha1(name.encode()).hexdigest()[:12]
    return Path(settings.paths.cache) / f"ask-generic-{digest}.json"


def generic_relevance(settings: Settings, relevance, texts: list[str]) -> list[float]:
    """Mean relevance logit of each text over ``GENERIC_QUESTIONS`` (its "hub" score).

    Remembered per text, in memory and in a file under ``paths.cache``: a warm ``ask`` over
    sentences seen before scores nothing; new texts are scored in one batch (8 pairs each)."""
    import json
    import os
    import tempfile

    path = _generic_path(settings, relevance)
    cache = _GENERIC.get(str(path))
    if cache is None:
        try:
            cache = {str(t): float(v) for t, v in json.loads(path.read_text(encoding="utf-8")).items()}
        except (OSError, ValueError, AttributeError, TypeError):
            cache = {}
        _GENERIC[str(path)] = cache
    missing = list(dict.fromkeys(t for t in texts if t not in cache))
    if missing:
        pairs = [(g, t) for t in missing for g in GENERIC_QUESTIONS]
        if hasattr(relevance, "score_pairs"):
            values = list(relevance.score_pairs(pairs))
        else:
            values = [v for q, t in pairs for v in relevance.score(q, [t])]
        n = len(GENERIC_QUESTIONS)
        for i, t in enumerate(missing):
            cache[t] = round(sum(_logit(v) for v in values[i * n : (i + 1) * n]) / n, 4)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(cache, f)
            os.replace(tmp, path)
        except OSError as exc:  # a read-only cache costs the scoring again next time, nothing else
            log.debug("could not store the generic relevance cache: %s", exc)
    return [cache[t] for t in texts]


MAX_STATEMENT_WORDS = 32


def _runaway(text: str) -> bool:
    """A statement that goes on for MAX_STATEMENT_WORDS words without a citation will not get one."""
    current = text.rsplit("\n", 1)[-1]
    return "[" not in current and len(current.split()) > MAX_STATEMENT_WORDS


@dataclass
class _Source:
    n: int
    hit: Hit
    paper: Paper
    sentences: list[str]


def verdict_key(settings: Settings) -> str:
    """The model a verdict is about: the GGUF file (path, size, mtime) or the server's model."""
    from pathlib import Path

    llm = settings.llm
    if llm.url:
        return f"{llm.api_model}@{llm.url}"
    path = Path(llm.model).expanduser()
    if path.is_file():
        stat = path.stat()
        return f"{path.resolve()}:{stat.st_size}:{int(stat.st_mtime)}"
    return llm.model


def read_verdicts(settings: Settings) -> tuple[dict, Any]:
    """The remembered verdicts on models (``<cache>/llm-verdicts.json``) and that file's path."""
    import json
    from pathlib import Path

    path = Path(settings.paths.cache) / "llm-verdicts.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    return (data if isinstance(data, dict) else {}), path


def write_verdicts(data: dict, path) -> None:
    """Write the verdicts atomically; a read-only cache only costs the memory of them."""
    import json
    import os
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1)
        os.replace(tmp, path)
    except OSError as exc:
        log.debug("could not remember the model verdict: %s", exc)


class AskPipeline:
    """One question in, one checked Answer out."""

    def __init__(
        self,
        settings: Settings,
        index,
        llm_factory: Callable,
        judge_factory: Callable,
        relevance_factory: Callable | None = None,
    ) -> None:
        self.settings = settings
        self.index = index
        self._llm_factory = llm_factory
        self._judge_factory = judge_factory
        self._relevance_factory = relevance_factory
        self.scored: list[Candidate] = []  # the last question's scored candidates (for probes)
        self._specific = False  # specificity computed (a relevance model scored the candidates)

    def run(self, question: str, *, k: int | None = None, mode: str | None = None, on_text=None) -> Answer:
        """Answer ``question`` from the index, or say that the corpus does not cover it."""
        question = require_text(question, EMPTY_QUESTION)
        cfg = self.settings.ask
        mode = mode or self.settings.llm.mode
        timings: dict[str, float] = {}
        started = time.perf_counter()
        hits = search(self.index, question, max(cfg.candidate_papers, k or cfg.k))
        timings["retrieval"] = time.perf_counter() - started
        answer = Answer(question=question, answer=NOT_COVERED, refused=True, fingerprint=self.settings.fingerprint())
        best = max((h.similarity or -1.0 for h in hits), default=-1.0)
        if not hits or best < cfg.min_similarity:
            answer.reason = (
                f"no indexed passage is close to the question (best similarity {best:.2f} < {cfg.min_similarity})"
            )
            answer.closest = hits[:5]
            return self._finish(answer, timings, started)
        sources = self._sources(hits)
        answer.sources = [s.paper.id for s in sources]
        unknown = (
            missing_names(question, [f"{s.paper.title} {s.paper.abstract}" for s in sources]) if cfg.check_names else []
        )
        if unknown:
            answer.reason = f"no retrieved paper mentions {', '.join(unknown)}"
            answer.closest = hits[:5]
            return self._finish(answer, timings, started)
        if cfg.max_absent < 1:
            from .answerability import absent

            share, words = absent(question, self._term_stats())
            if share >= cfg.max_absent:
                answer.reason = (
                    f"no indexed paper mentions {', '.join(words[:4])}: {share:.0%} of the question's content-term "
                    f"weight (ask.max_absent {cfg.max_absent})"
                )
                answer.closest = hits[:5]
                return self._finish(answer, timings, started)
        t = time.perf_counter()
        on_point = self._on_point(question, sources)
        timings["relevance"] = time.perf_counter() - t
        on_point = self._topical(question, on_point, sources)
        strength = {c: c.relevance + ANSWERABILITY_COSINE * c.cosine for c in on_point}
        answerability = max(strength.values(), default=0.0)
        strong = [c for c in on_point if strength[c] >= cfg.min_answerability]
        min_specificity = cfg.min_specificity if self._specific else None
        specificity = max((c.specificity for c in strong), default=float("-inf")) if self._specific else float("inf")
        # Papers that address the question: a sentence over the answerability and specificity
        # bars, and within the relative cut of the best paper.
        answer.addressing = addressing(
            strong, cfg.min_relevance, min_specificity=min_specificity, margin=cfg.paper_margin
        )
        # What the answer would stand on: the papers of the sentences over every bar. A question whose
        # content terms (the rare ones weigh most) those papers do not use is about something else.
        cover = self._coverage(question, strong, sources)
        if on_point and answerability >= cfg.min_answerability and specificity >= cfg.answer_specificity:
            if cover is not None and cover.share < cfg.min_coverage:
                missing = ", ".join(cover.words[t] for t in cover.missing[:4])
                answer.reason = (
                    f"the papers whose sentences clear the relevance bar do not mention {missing}: they use "
                    f"{cover.share:.0%} of the question's content-term weight (ask.min_coverage {cfg.min_coverage})"
                )
                answer.addressing = []
                answer.closest = hits[:5]
                return self._finish(answer, timings, started)
        if not on_point or answerability < cfg.min_answerability or specificity < cfg.answer_specificity:
            answer.reason = (
                f"no sentence of the {len(sources)} closest papers answers the question "
                f"(relevance below {cfg.min_relevance}, or relevance + {ANSWERABILITY_COSINE} x similarity "
                f"{answerability:.2f} below {cfg.min_answerability}"
            )
            if strong and specificity < cfg.answer_specificity:
                answer.reason += (
                    f", or specificity {specificity:.2f} below {cfg.answer_specificity}: the closest sentences "
                    "are as relevant to any question of the field as to this one"
                )
            answer.reason += ")"
            answer.addressing = []
            answer.closest = hits[:5]
            return self._finish(answer, timings, started)
        answer.uncovered = self._uncovered(question, on_point)
        if cover is not None and cover.share < PARTIAL_COVERAGE:
            from .answerability import unmentioned

            answer.unmentioned = unmentioned(question, self._term_stats())
        statements: list[Statement] = []
        generate = mode == "generative" or (mode == "auto" and self._worth_generating(answer))
        if generate:
            chosen = {c.paper_id for c in on_point}
            gen_sources = [s for s in sources if s.paper.id in chosen][: k or cfg.k]
            gen_sources = [_Source(i, s.hit, s.paper, s.sentences) for i, s in enumerate(gen_sources, 1)]
            statements = self._generate(question, gen_sources, timings, on_text, answer)
            kept = any(s.supported for s in statements)
            if mode == "auto":
                self._record_generation(kept)
            if not kept:
                answer.reason = "no generated statement was supported by the sources it cites"
            else:
                sources = gen_sources
        if not any(s.supported for s in statements) and mode in ("auto", "extractive"):
            t = time.perf_counter()
            extracted = self._extract(question, on_point)
            timings["extraction"] = time.perf_counter() - t
            if extracted:
                statements = [s for s in statements if not s.supported] + extracted
                answer.mode = "extractive"
        return self._finish(self._compose(answer, statements, sources, hits), timings, started)

    # -- relevance -------------------------------------------------------------------------

    def _on_point(self, question: str, sources: list[_Source]) -> list[Candidate]:
        """Candidate sentences that clear the relevance bar, best first, each with its vector."""
        import numpy as np

        cfg = self.settings.ask
        every = candidates([(s.paper.id, s.paper.abstract) for s in sources])
        if not every:
            return []
        # Cheap first cut (words shared with the question, retrieved passage, paper rank; each
        # paper's best first); cosine orders the scored ones; the relevance model decides.
        cands = _lexical_cut(question, every, sources, cfg.prefilter * cfg.scored_sentences, cfg.scored_per_paper)
        embedder = self.index.embedder
        query = np.asarray(embedder.embed_query(question), dtype=np.float32)
        self._embed(cands, query)
        cosine = np.array([c.cosine for c in cands], dtype=np.float32)
        by_cosine = [int(j) for j in np.argsort(-cosine)]
        order = _depth_then_breadth(by_cosine, [c.paper_id for c in cands], cfg.scored_sentences, cfg.scored_per_paper)
        scored = [cands[int(j)] for j in order]
        self._every, self._query = every, query
        relevance = self._relevance_factory() if self._relevance_factory else None
        self._specific = relevance is not None
        # The relevance model reads a candidate after its paper's title (``_relevance_texts``).
        self._titles = {s.paper.id: s.paper.title for s in sources}
        self._score(question, scored, relevance)
        self.scored = scored
        return sorted((c for c in scored if c.relevance >= cfg.min_relevance), key=lambda c: -c.relevance)

    def _embed(self, cands: list[Candidate], query) -> None:
        vectors = _sentence_vectors(self.index.embedder, [c.text for c in cands])
        cosine = vectors @ query
        for c, v, cos in zip(cands, vectors, cosine, strict=True):
            c.vector, c.cosine = v, round(float(cos), 4)

    def _relevance_texts(self, cands: list[Candidate]) -> list[str]:
        """What the relevance model reads for each candidate: the sentence, after its paper's title."""
        if not self.settings.ask.title_context:
            return [c.text for c in cands]
        return [f"{self._titles[c.paper_id]}. {c.text}" for c in cands]

    def _score(self, question: str, scored: list[Candidate], relevance) -> None:
        """Relevance (and specificity, for those over the bar) of each candidate, in place."""
        cfg = self.settings.ask
        if relevance is None:  # no relevance model: cosine similarity stands in (no specificity)
            values = [c.cosine for c in scored]
        else:
            texts = self._relevance_texts(scored)
            values = relevance.score(question, texts)
            # Specificity only matters for sentences over the relevance bar: only they are scored
            # against the generic questions (the rest keep -inf: never quoted anyway).
            over = [i for i, v in enumerate(values) if v >= cfg.min_relevance]
            hubs = generic_relevance(self.settings, relevance, [texts[i] for i in over])
            for i, hub in zip(over, hubs, strict=True):
                scored[i].specificity = round(_logit(values[i]) - hub, 4)
        for c, value in zip(scored, values, strict=True):
            c.relevance = round(float(value), 4)

    def _term_stats(self):
        """Document frequencies of the index's stems (remembered per index generation)."""
        from .answerability import term_stats

        try:
            key = f"{id(self.index)}:{self.index.generation()}"
        except Exception:  # an index without a generation token: counted again each time
            key = None
        return term_stats(self.index.papers(), key)

    def _passing_papers(self, cands: list[Candidate]) -> set[str]:
        """Papers with a candidate over every bar: relevance, answerability (relevance + 0.5 x
        similarity) and, with a relevance model, specificity."""
        cfg = self.settings.ask
        return {
            c.paper_id
            for c in cands
            if c.relevance >= cfg.min_relevance
            and c.relevance + ANSWERABILITY_COSINE * c.cosine >= cfg.min_answerability
            and (not self._specific or c.specificity >= cfg.min_specificity)
        }

    def _coverage(self, question: str, strong: list[Candidate], sources: list[_Source]):
        """How much of the question's content-term weight the papers of the passing sentences use
        (their titles and abstracts); None when nothing passes. It decides a refusal (``ask.min_coverage``)
        and whether an answer is partial (``PARTIAL_COVERAGE``)."""
        from .answerability import coverage

        passing = self._passing_papers(strong)
        if not passing:
            return None
        texts = [f"{s.paper.title}. {s.paper.abstract}" for s in sources if s.paper.id in passing]
        return coverage(question, texts, self._term_stats())

    def _topical(self, question: str, on_point: list[Candidate], sources: list[_Source]) -> list[Candidate]:
        """Drop the candidates of papers that use much less of the question's content-term weight than
        the best paper that would be quoted (``ask.paper_coverage`` x its share): a generic
        fine-tuning sentence of a paper that never mentions rerankers does not answer a question about
        them, however relevant the model finds it. The best such paper always stays, so this never
        turns an answer into a refusal."""
        from .answerability import coverage

        cfg = self.settings.ask
        if cfg.paper_coverage <= 0 or not on_point:
            return on_point
        quotable = self._passing_papers(on_point)
        if not quotable:
            return on_point
        stats = self._term_stats()
        papers = {s.paper.id: s.paper for s in sources}
        share = {
            pid: coverage(question, [f"{papers[pid].title}. {papers[pid].abstract}"], stats).share
            for pid in {c.paper_id for c in on_point}
        }
        bar = cfg.paper_coverage * max(share[pid] for pid in quotable)
        return [c for c in on_point if share[c.paper_id] >= bar]

    def _uncovered(self, question: str, on_point: list[Candidate]) -> list[str]:
        """Parts of a multi-part question ("..., and how ...?") that no on-point sentence answers."""
        parts = question_parts(question)
        if len(parts) < 2 or self._relevance_factory is None:
            return []
        relevance = self._relevance_factory()
        top = [c.text for c in on_point[:12]]
        out = []
        for part in parts:
            if max(relevance.score(part, top), default=0.0) < self.settings.ask.min_relevance:
                out.append(part)
        return out if len(out) < len(parts) else []

    # -- generation verdicts ---------------------------------------------------------------

    def _verdict_key(self) -> str:
        return verdict_key(self.settings)

    def _verdicts(self) -> tuple[dict, Any]:
        return read_verdicts(self.settings)

    def remembered_extractive(self) -> int:
        """The answers this model file has had, when too few of them kept a statement to go on
        generating with it (``ask.probe_answers``, ``ask.probe_min_kept``); else 0.

        A share, not "never kept": the bundled 270M model once had a statement pass the check in
        its first two answers and then generated, and failed, for every later question (2 answers
        kept of 74 in a full eval, 7 s each)."""
        cfg = self.settings.ask
        record = self._verdicts()[0].get(self._verdict_key(), {})
        tried, kept = int(record.get("answers", 0)), int(record.get("kept", 0))
        if not cfg.probe_answers or tried < cfg.probe_answers:
            return 0
        return tried if kept / tried < cfg.probe_min_kept else 0

    def _worth_generating(self, answer: Answer) -> bool:
        """auto mode: False once too few of this model file's answers kept a statement."""
        tried = self.remembered_extractive()
        if tried:
            kept = int(self._verdicts()[0].get(self._verdict_key(), {}).get("kept", 0))
            answer.reason = (
                f"answered extractively: the model's statements passed the check in {kept} of its first {tried} "
                f"answers (under ask.probe_min_kept = {self.settings.ask.probe_min_kept:g}; remembered per model "
                "file; --mode generative forces generation)"
            )
            return False
        return True

    def _record_generation(self, kept: bool) -> None:
        data, path = self._verdicts()
        record = data.setdefault(self._verdict_key(), {"answers": 0, "kept": 0})
        record["answers"] = int(record.get("answers", 0)) + 1
        record["kept"] = int(record.get("kept", 0)) + int(kept)
        write_verdicts(data, path)

    # -- sources ---------------------------------------------------------------------------

    def _sources(self, hits: list[Hit]) -> list[_Source]:
        papers = {p.id: p for p in self.index.papers([h.paper_id for h in hits])}
        out = []
        for hit in hits:
            paper = papers.get(hit.paper_id)
            if paper is not None:
                sentences = split_sentences(paper.abstract)
                out.append(_Source(len(out) + 1, hit, paper, sentences))
        return out

    def _source_block(self, sources: list[_Source]) -> str:
        blocks = []
        for s in sources:
            shown: set[int] = set()
            for p in s.hit.passages[: self.settings.ask.passages]:
                shown.update(range(p.sentence_start, min(p.sentence_end, len(s.sentences))))
            # Sentence spans stay in the hits; labels in the prompt only invite tiny models to copy them.
            # Corpus text is data (text.prompt_data): one line, no sentence that addresses the
            # model, and a title that gives orders is not shown at all.
            lines = prompt_data(" ".join(s.sentences[i] for i in sorted(shown)))
            title = prompt_data(s.paper.title, "(title withheld)", whole=True)
            blocks.append(f"[{s.n}] {title}\n{lines}")
        return "\n".join(blocks)

    # -- generation ------------------------------------------------------------------------

    def _generate(
        self, question: str, sources: list[_Source], timings: dict, on_text, answer: Answer
    ) -> list[Statement]:
        cfg = self.settings.ask
        t = time.perf_counter()
        llm = self._llm_factory()
        timings["model_load"] = time.perf_counter() - t
        answer.model = llm.name
        prompt = render("ask", sources=self._source_block(sources), question=question)
        grammar = build_grammar(len(sources), cfg.max_statements, cfg.max_citations)
        completion = llm.complete(
            prompt,
            max_tokens=self.settings.llm.max_tokens,
            stop=["\n\n", "\nQuestion:", "\nSources:"],
            grammar=grammar if self.settings.llm.grammar else None,
            on_text=on_text,
            should_stop=_runaway,
        )
        for key, value in completion.timings.items():
            timings[key] = value
        timings["completion_tokens"] = completion.completion_tokens
        timings["prompt_tokens"] = completion.prompt_tokens
        parsed = parse_statements(completion.text, len(sources))[: cfg.max_statements]
        seen: set[str] = set()
        candidates = []
        for text, numbers in parsed:
            key = text.lower()
            if key in seen or is_degenerate(text) or looks_like_instruction(text):
                continue
            seen.add(key)
            candidates.append((text, numbers[: cfg.max_citations]))
        t = time.perf_counter()
        statements = self._check(candidates, sources)
        timings["checking"] = time.perf_counter() - t
        return statements

    def _check(self, candidates: list[tuple[str, list[int]]], sources: list[_Source]) -> list[Statement]:
        """Judge every (statement, cited abstract); keep citations that support their statement."""
        pairs = [(sources[n - 1].paper.abstract, text) for text, numbers in candidates for n in numbers]
        scores = iter(self._judge_factory().score(pairs) if pairs else [])
        threshold = self.settings.judge.threshold
        out = []
        for text, numbers in candidates:
            kept, dropped, best = [], [], 0.0
            for n in numbers:
                score = float(next(scores))
                best = max(best, score)
                (kept if score >= threshold else dropped).append(sources[n - 1].paper.id)
            out.append(
                Statement(
                    text=text, citations=kept, supported=bool(kept), support=round(best, 4), dropped_citations=dropped
                )
            )
        return out

    # -- extraction ------------------------------------------------------------------------

    def _extract(self, question: str, on_point: list[Candidate]) -> list[Statement]:
        """The on-point sentences to quote, grouped by what they say (verbatim: supported by construction)."""
        cfg = self.settings.ask
        pool = on_point
        if cfg.quote_bar > 0:  # quote only sentences whose relevance + 0.5 x similarity clears this bar
            pool = [c for c in on_point if c.relevance + ANSWERABILITY_COSINE * c.cosine >= cfg.quote_bar]
        chosen = select(
            pool,
            cfg.min_relevance,
            limit=cfg.max_statements,
            per_paper=cfg.per_paper,
            min_specificity=cfg.min_specificity if self._specific else None,
            margin=cfg.paper_margin,
            sentence_margin=cfg.sentence_margin,
        )
        chosen = self._prefer_findings(question, chosen)
        out = []
        for g, members in enumerate(group(chosen)):
            for c in members:
                out.append(
                    Statement(
                        text=c.text,
                        citations=[c.paper_id],
                        supported=True,
                        support=1.0,
                        source="extracted",
                        relevance=c.relevance,
                        role=c.role,
                        group=g,
                    )
                )
        return out

    def _prefer_findings(self, question: str, chosen: list[Candidate]) -> list[Candidate]:
        """Right paper, wrong sentence: a paper quoted only for its background (the sentence that
        restates the question's topic) is quoted for its best finding or method instead, when the
        relevance model puts that at ``ask.finding_bar`` or above."""
        cfg = self.settings.ask
        relevance = self._relevance_factory() if self._relevance_factory else None
        if cfg.finding_bar <= 0 or relevance is None or not chosen:
            return chosen
        papers = list(dict.fromkeys(c.paper_id for c in chosen))
        only_background = [p for p in papers if all(c.role == "background" for c in chosen if c.paper_id == p)]
        if not only_background:
            return chosen
        scored = {id(c) for c in self.scored}
        pool = [c for c in getattr(self, "_every", []) if c.paper_id in only_background and c.role != "background"]
        fresh = [c for c in pool if id(c) not in scored]
        if fresh:
            for c, value in zip(fresh, relevance.score(question, self._relevance_texts(fresh)), strict=True):
                c.relevance = round(float(value), 4)
            self._embed(fresh, self._query)
        best: dict[str, Candidate] = {}
        for c in pool:
            if c.relevance >= cfg.finding_bar and (c.paper_id not in best or c.relevance > best[c.paper_id].relevance):
                best[c.paper_id] = c
        out: list[Candidate] = []
        for c in chosen:
            if c.paper_id in best:
                if best[c.paper_id] not in out:
                    out.append(best[c.paper_id])
            else:
                out.append(c)
        return out

    # -- answer ----------------------------------------------------------------------------

    def _compose(self, answer: Answer, statements: list[Statement], sources: list[_Source], hits: list[Hit]) -> Answer:
        by_id = {s.paper.id: s for s in sources}
        numbers: dict[str, int] = {}
        lines = []
        for st in statements:
            if not st.supported:
                continue
            marks = []
            for pid in st.citations:
                if pid not in by_id:  # cannot happen: citations come from the numbered sources
                    continue
                numbers.setdefault(pid, len(numbers) + 1)
                marks.append(f"[{numbers[pid]}]")
            text = st.text.rstrip()
            end = text[-1] if text and text[-1] in ".!?" else "."
            lines.append(f"- {text.rstrip('.!?')} {''.join(marks)}{end}")
        answer.statements = statements
        if not lines:
            answer.refused = True
            answer.answer = NOT_COVERED
            answer.reason = answer.reason or "no source sentence was relevant enough to quote"
            answer.closest = hits[:5]
            return answer
        if answer.mode != "extractive":
            answer.mode = "generative"
        cited = len(numbers)
        # A generated statement may cite a paper under the answerability bar that the judge found
        # supports it: that paper addresses the question too (the lead never counts fewer than are cited).
        n = len(set(answer.addressing) | set(numbers))
        verb = "quoted" if answer.mode == "extractive" else "cited"
        lead = f"{n} of the {len(answer.sources)} closest papers {'addresses' if n == 1 else 'address'} this question"
        lead += f"; {cited} {'is' if cited == 1 else 'are'} {verb} below." if cited != n else "."
        if answer.unmentioned:
            words = ", ".join(f'"{w}"' for w in answer.unmentioned)
            lead += f" No indexed paper mentions {words}: the quotes below are about the rest of the question."
        tail = []
        disagreements = _disagreements([s for s in statements if s.supported], numbers)
        if disagreements:
            tail.append("\n".join(disagreements))
        if answer.uncovered:
            tail.append("Not covered by these papers: " + "; ".join(answer.uncovered) + ".")
        dropped = sum(1 for s in statements if not s.supported)
        if dropped:
            tail.append(f"_{dropped} statement(s) removed: not supported by the sources they cite._")
        answer.answer = "\n\n".join([lead, "\n".join(lines).strip("\n"), *tail])
        answer.refused = False
        answer.references = [
            Reference(n=n, paper_id=pid, title=by_id[pid].paper.title, date=by_id[pid].paper.when)
            for pid, n in numbers.items()
        ]
        return answer

    def _finish(self, answer: Answer, timings: dict, started: float) -> Answer:
        timings["total"] = time.perf_counter() - started
        answer.timings = {k: round(float(v), 4) for k, v in timings.items()}
        return answer
