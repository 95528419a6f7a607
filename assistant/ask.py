"""`ask`: retrieve -> numbered sources -> constrained generation -> support check -> cited answer.

Faithfulness is structural: the grammar lets a citation name only a given source, parsed
citations are validated again (servers may ignore grammars), every (statement, cited source)
pair is scored by the support judge, unsupported citations and statements are dropped, and
when nothing relevant is retrieved or nothing survives, the answer says the corpus does not
cover the question. With a weak model, an extractive answer (verbatim source sentences, each
cited) replaces generation.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from .errors import QueryError
from .models import Answer, Hit, Paper, Reference, Statement
from .prompts import render
from .retrieval import search
from .settings import Settings
from .text import is_degenerate, looks_like_instruction, split_sentences

__all__ = ["NOT_COVERED", "AskPipeline", "build_grammar", "missing_names", "parse_statements"]

log = logging.getLogger(__name__)

NOT_COVERED = "The indexed papers do not cover this question."

_LINE = re.compile(r"^\s*(?:[-*•]|\d+[.)])?\s*(?P<text>.*?)\s*(?P<cites>(?:\[\d+\]\s*)+)[.\s]*$")


_NAMED = re.compile(
    r"\b(?=[A-Za-z0-9.-]*[A-Za-z])(?=[A-Za-z0-9.-]*(?:\d|[a-z][A-Z]|[A-Z]{2}))[A-Za-z0-9][A-Za-z0-9.-]*[A-Za-z0-9]\b"
)
_NAME_SUFFIX = re.compile(r"-(based|style|parameter|scale|level|like|specific|shot|tuned|only|free|aware)$")


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


class AskPipeline:
    """One question in, one checked Answer out."""

    def __init__(self, settings: Settings, index, llm_factory: Callable, judge_factory: Callable) -> None:
        self.settings = settings
        self.index = index
        self._llm_factory = llm_factory
        self._judge_factory = judge_factory

    def run(self, question: str, *, k: int | None = None, mode: str | None = None, on_text=None) -> Answer:
        """Answer ``question`` from the index, or say that the corpus does not cover it."""
        question = " ".join((question or "").split())
        if not question:
            raise QueryError(
                'the question is empty: ask something, e.g. review ask "how does RL affect knowledge recall?"'
            )
        cfg = self.settings.ask
        mode = mode or self.settings.llm.mode
        timings: dict[str, float] = {}
        started = time.perf_counter()
        hits = search(self.index, question, k or cfg.k)
        timings["retrieval"] = time.perf_counter() - started
        answer = Answer(question=question, answer=NOT_COVERED, refused=True, fingerprint=self.settings.fingerprint())
        best = max((h.similarity or -1.0 for h in hits), default=-1.0)
        if not hits or best < cfg.min_relevance:
            answer.reason = (
                f"no indexed passage is close to the question (best similarity {best:.2f} < {cfg.min_relevance})"
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
        statements: list[Statement] = []
        if mode in ("auto", "generative"):
            statements = self._generate(question, sources, timings, on_text, answer)
            if not any(s.supported for s in statements):
                answer.reason = "no generated statement was supported by the sources it cites"
        if not any(s.supported for s in statements) and mode in ("auto", "extractive"):
            t = time.perf_counter()
            extracted = self._extract(question, sources)
            timings["extraction"] = time.perf_counter() - t
            if extracted:
                statements = [s for s in statements if not s.supported] + extracted
                answer.mode = "extractive"
        return self._finish(self._compose(answer, statements, sources, hits), timings, started)

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
            lines = " ".join(s.sentences[i] for i in sorted(shown) if not looks_like_instruction(s.sentences[i]))
            title = s.paper.title.replace("\n", " ")
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

    def _extract(self, question: str, sources: list[_Source]) -> list[Statement]:
        """The most relevant source sentences, each cited, de-duplicated, best first."""
        import numpy as np

        cfg = self.settings.ask
        candidates = [
            (s, i, sentence)
            for s in sources
            for i, sentence in enumerate(s.sentences)
            if len(sentence.split()) >= 5 and not looks_like_instruction(sentence)
        ]
        if not candidates:
            return []
        embedder = self.index.embedder
        vectors = embedder.embed_documents([c[2] for c in candidates])
        query = embedder.embed_query(question)
        scores = vectors @ query
        for j, (s, i, _) in enumerate(candidates):
            if any(p.sentence_start <= i < p.sentence_end for p in s.hit.passages):
                scores[j] += 0.05  # retrieval already preferred this window
        order = np.argsort(-scores)
        chosen: list[int] = []
        per_paper: dict[str, int] = {}
        floor = cfg.min_relevance * 0.8
        for j in order:
            s = candidates[j][0]
            if scores[j] < floor or len(chosen) >= cfg.extractive_sentences:
                break
            if per_paper.get(s.paper.id, 0) >= 2:
                continue
            if chosen and float(np.max(vectors[chosen] @ vectors[j])) > 0.85:
                continue
            chosen.append(int(j))
            per_paper[s.paper.id] = per_paper.get(s.paper.id, 0) + 1
        # Verbatim sentences of the cited abstract: supported by construction.
        return [
            Statement(
                text=candidates[j][2],
                citations=[candidates[j][0].paper.id],
                supported=True,
                support=1.0,
                source="extracted",
            )
            for j in chosen
        ]

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
        dropped = sum(1 for s in statements if not s.supported)
        note = f"\n\n_{dropped} statement(s) removed: not supported by the sources they cite._" if dropped else ""
        answer.answer = "\n".join(lines) + note
        answer.refused = False
        answer.references = [
            Reference(n=n, paper_id=pid, title=by_id[pid].paper.title, date=by_id[pid].paper.date)
            for pid, n in numbers.items()
        ]
        return answer

    def _finish(self, answer: Answer, timings: dict, started: float) -> Answer:
        timings["total"] = time.perf_counter() - started
        answer.timings = {k: round(float(v), 4) for k, v in timings.items()}
        return answer
