"""One claim per study: the abstract's sentence that states its finding, optionally rewritten
by the LLM when the support judge finds the rewrite in the abstract."""

from __future__ import annotations

import re

from ..models import OutlineStudy, Paper
from ..prompts import render
from ..text import FINDING, NOT_A_FINDING, VAGUE, is_degenerate, looks_like_instruction, prompt_data, split_sentences
from .run import OutlineRun

__all__ = ["ROLE_BONUS", "clean_latex", "extract_claims", "rewrite_claims", "with_antecedents"]

# Added to a sentence's score as the study's shown claim, by its role (selection.role). Over 107
# studies of 11 topics this changed 28 claims; a helper blind to which was which preferred the new
# one in 22, the old in 3 (3 ties; mean 3.75 vs 2.25 out of 5).
ROLE_BONUS = {"finding": 0.1, "method": 0.0, "background": -0.2}

_CITE = re.compile(r"\\(?:cite[pt]?|citep|citet|ref|eqref|footnote|url)\*?(?:\[[^\]]*\])?\{[^}]*\}")
_MACRO_ARG = re.compile(r"\\(?:textbf|textit|emph|texttt|mathrm|mathbf|text|textsc|underline)\{([^}]*)\}")
_SIM = re.compile(r"(?:\\sim|\$\\sim\$|(?<![A-Za-z])sim)\s*(?=\d)")
# A LaTeX comment: "%" not escaped and not after a number ("50%"), to the end of the text.
_COMMENT = re.compile(r"(?<![\\\d\s])%.*$|(?<=\s)%(?!\d).*$")


def clean_latex(text: str) -> str:
    """A sentence without LaTeX residue: comments, citations, ``\\sim`` ("sim60x" -> "~60x"),
    escaped percent signs, TeX quotes and font macros; whitespace collapsed."""
    text = _CITE.sub("", text)
    text = _MACRO_ARG.sub(r"\1", text)
    text = _SIM.sub("~", text)
    text = text.replace("\\%", "\x00")
    text = _COMMENT.sub("", text)
    text = text.replace("\x00", "%").replace("``", '"').replace("''", '"').replace("$", "")
    text = re.sub(r"\\([&_#])", r"\1", text)
    text = re.sub(r"\s+([,.;:])", r"\1", " ".join(text.split()))
    return text.strip()


def extract_claims(index, papers: list[Paper]) -> tuple[list[str], list[str]]:
    """Per paper, two sentences of its abstract, without LaTeX residue (one encode call):

    - the claim shown for it: the finding-like sentence closest in meaning to its title, a
      finding preferred and background (scene-setting, motivation, an opening sentence that is not
      about the authors' work, see ``selection.role``) marked down by ``ROLE_BONUS``;
    - the sentence that says what it is about: the same without the role weights, which is what
      the categories are fitted on (with the role weights there too, the tuning half's node-path
      F1 fell from 0.22 to 0.18: a result sentence says less about the subject than the sentence
      closest to the title).

    A sentence that leans on the one before it ("This approach ...") is marked down in both (a
    stronger penalty broke the category split of "model merging")."""
    from ..selection import needs_antecedent, roles

    per_paper, per_role = [], []
    for p in papers:
        raw = split_sentences(p.abstract)
        kept = [(clean_latex(x), r) for x, r in zip(raw, roles(raw))]
        kept = [(c, r) for c, r in kept if len(c.split()) >= 6] or [(p.title, "method")]
        per_paper.append([c for c, _ in kept])
        per_role.append([r for _, r in kept])
    texts = [t for p, sents in zip(papers, per_paper) for t in (p.title, *sents)]
    vectors = index.embedder.embed_documents(texts)
    claims, about, at = [], [], 0
    for sents, sent_roles in zip(per_paper, per_role):
        title, rows = vectors[at], vectors[at + 1 : at + 1 + len(sents)]
        at += 1 + len(sents)
        scores = [
            float(v @ title)
            + 0.15 * min(2, len(FINDING.findall(x)))
            - (0.2 if VAGUE.search(x) else 0.0)
            - (1.0 if NOT_A_FINDING.search(x) else 0.0)
            - (0.3 if needs_antecedent(x, strict=True) else 0.0)
            for v, x in zip(rows, sents)
        ]
        shown = [score + ROLE_BONUS[r] for score, r in zip(scores, sent_roles)]
        about.append(sents[max(range(len(sents)), key=scores.__getitem__)])
        claims.append(sents[max(range(len(sents)), key=shown.__getitem__)])
    return claims, about


def with_antecedents(papers: list[Paper], studies: list[OutlineStudy]) -> None:
    """A claim never opens with an anaphor. An extracted claim that leans on the sentence before
    it ("Through these, each transformer block ...", "To this end, we ...") is shown after that
    sentence, as ``ask`` quotes it; one whose antecedent leans back too, or that opens its abstract,
    stays as it is. Applied once the tree is built: the categories are still made from the bare
    claim (shown after its antecedent from the start, the tuning half's node-path F1 fell from
    0.18 to 0.11, two topics to 0, because the extra sentence moves studies between clusters)."""
    from ..selection import needs_antecedent

    by_id = {p.id: p for p in papers}
    for study in studies:
        paper = by_id.get(study.paper_id)
        if paper is None or study.claim_source != "extractive" or not needs_antecedent(study.claim, strict=True):
            continue
        sentences = [clean_latex(x) for x in split_sentences(paper.abstract)]
        if study.claim not in sentences:
            continue
        i = sentences.index(study.claim)
        before = sentences[i - 1] if i > 0 else ""
        if (
            before
            and not needs_antecedent(before, strict=True)
            and not before.endswith("?")
            and not NOT_A_FINDING.search(before)
        ):
            study.claim = f"{before} {study.claim}"


def rewrite_claims(run: OutlineRun, papers: list[Paper], studies: list[OutlineStudy]) -> None:
    """An LLM rewrite of each claim, kept only when the judge finds it in the abstract."""
    proposals = []
    for paper in papers:
        # Title and abstract are data: on one line each, sentences that give orders left out.
        prompt = render(
            "outline_claim",
            title=prompt_data(paper.title, "(title withheld)", whole=True),
            abstract=prompt_data(paper.abstract),
        )
        text = " ".join(run.complete(prompt, 64).split())
        ok = 6 <= len(text.split()) <= 45 and not looks_like_instruction(text) and not is_degenerate(text)
        proposals.append(text if ok else None)
    pairs = [(p.abstract, text) for p, text in zip(papers, proposals) if text]
    scores = iter(run.judge_factory().score(pairs) if pairs and run.judge_factory else [])
    for study, text in zip(studies, proposals):
        score = float(next(scores)) if text and run.judge_factory else 0.0
        if text and score >= run.settings.judge.threshold:
            study.claim, study.claim_source = text.rstrip(".") + ".", "llm"
            run.checks["claims_llm"] += 1
        else:
            run.checks["claims_llm_rejected"] += 1
