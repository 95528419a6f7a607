"""The gold data of `review eval`: questions, labelled (statement, paper) pairs, outline trees.

It is written for the bundled corpus and ships with the package (``evals/data`` in the
repository, ``assistant/evals_data`` in a wheel). SciFact pairs are read from
``../shared/benchmarks/scifact`` (or ``eval.scifact_dir``) when present and skipped otherwise.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

__all__ = [
    "GoldQuestion",
    "JudgeCase",
    "data_dir",
    "external_judge_sets",
    "is_heldout",
    "judge_cases",
    "outline_topics",
    "questions",
    "question_split",
    "scifact_pairs",
]


@dataclass
class GoldQuestion:
    id: str
    question: str
    type: str  # factual | thematic | comparative | unanswerable
    relevant: list[str]
    key_facts: list[dict]
    split: str = "tune"  # "tune" (settings may be chosen on it) or "test" (frozen, never tuned on)

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable"


@dataclass
class JudgeCase:
    source: str  # the text the statement is checked against
    statement: str
    label: int  # 1 supported, 0 not
    kind: str
    origin: str  # "project" | "scifact" | "healthver" | ...
    paper: str = ""
    split: str = ""  # project cases: "tune" (thresholds may be chosen on it) or "test" (frozen)


def data_dir(override: str | Path | None = None) -> Path:
    """The gold-data folder: ``override``, else the wheel's copy, else the repository's evals/data."""
    if override:
        path = Path(override).expanduser()
        if not (path / "questions.jsonl").is_file():
            raise ConfigError(f"{path} has no questions.jsonl: point eval.data_dir at a folder like evals/data")
        return path
    here = Path(__file__).resolve().parents[1]
    for candidate in (here / "evals_data", here.parent / "evals" / "data"):
        if (candidate / "questions.jsonl").is_file():
            return candidate
    raise ConfigError(f"the eval gold data is missing next to {here}: reinstall review")


def _jsonl(path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}:{n}: malformed JSON ({exc.msg})") from exc
    return rows


def question_split(qid: str) -> str:
    """The team's questions: a fixed, hash-chosen half is the frozen test half."""
    return "test" if int(hashlib.md5(qid.encode()).hexdigest()[:8], 16) % 2 else "tune"


def questions(folder: Path) -> list[GoldQuestion]:
    """The gold questions, in file order: ``questions.jsonl`` (split by ``question_split``
    unless a row names its split), then the held-out ``questions_test.jsonl`` when present."""
    rows = _jsonl(folder / "questions.jsonl")
    if (folder / "questions_test.jsonl").is_file():
        rows += [{"split": "test", **r} for r in _jsonl(folder / "questions_test.jsonl")]
    return [
        GoldQuestion(
            id=q["id"],
            question=q["question"],
            type=q["type"],
            relevant=q.get("relevant", []),
            key_facts=q.get("key_facts", []),
            split=q.get("split") or question_split(q["id"]),
        )
        for q in rows
    ]


def judge_cases(folder: Path, abstracts_by_title: dict[str, str]) -> tuple[list[JudgeCase], list[JudgeCase]]:
    """(binary cases, partial cases) of the project: supported = 1, unsupported = 0; the
    partially supported ones are kept apart (reported as a mean score, not a label)."""
    binary, partial = [], []
    rows = _jsonl(folder / "judge_cases.jsonl")
    for extra in ("judge_cases_test.jsonl", "judge_cases_numbers.jsonl"):
        if (folder / extra).is_file():
            rows += _jsonl(folder / extra)
    for row in rows:
        source = abstracts_by_title.get(row["paper_title"])
        if source is None:
            continue
        case = JudgeCase(
            source=source,
            statement=row["statement"],
            label=int(row["label"] == "supported"),
            kind=row.get("kind", ""),
            origin="project",
            paper=row["paper_title"],
            split=row.get("split", "tune"),
        )
        (partial if row["label"] == "partial" else binary).append(case)
    return binary, partial


def outline_topics(folder: Path) -> list[dict]:
    """[{topic, query, tree, split, in_scope, borderline}] gold hierarchies: ``outline_gold.json``
    (the tuning half) then ``outline_gold_test.json`` (the frozen test half) when present.
    ``in_scope`` defaults to the studies of the tree; ``borderline`` ids count neither way."""
    topics = []
    for name, split in (("outline_gold.json", "tune"), ("outline_gold_test.json", "test")):
        path = folder / name
        if not path.is_file():
            continue
        for topic in json.loads(path.read_text(encoding="utf-8"))["topics"]:
            topic.setdefault("split", split)
            topic.setdefault("borderline", [])
            if "in_scope" not in topic:
                from .outline_metrics import studies_under

                topic["in_scope"] = sorted(studies_under(topic["tree"]))
            topics.append(topic)
    return topics


def scifact_pairs(folder: Path | None, n: int, seed: int = 0) -> list[JudgeCase]:
    """Up to ``n`` (cited abstract, claim) pairs of SciFact train, SUPPORT = 1; [] when absent."""
    if folder is None or not (folder / "claims_train.jsonl").is_file() or not (folder / "corpus.jsonl").is_file():
        return []
    corpus = {}
    for d in _jsonl(folder / "corpus.jsonl"):
        corpus[d["doc_id"]] = " ".join(d["abstract"])
    rows = []
    for c in _jsonl(folder / "claims_train.jsonl"):
        for doc in c.get("cited_doc_ids", []):
            if doc in corpus:
                labels = {e["label"] for e in c.get("evidence", {}).get(str(doc), [])}
                rows.append(
                    JudgeCase(corpus[doc], c["claim"], int("SUPPORT" in labels), "scifact", "scifact", str(doc))
                )
    if len(rows) > n:
        rows = random.Random(seed).sample(rows, n)
    return rows


def is_heldout(premise: str, hypothesis: str) -> bool:
    """The deterministic 10% of a labelled set the judge never trains on (evals/judge/train_judge.py uses it)."""
    return int(hashlib.md5(f"{premise}\t{hypothesis}".encode()).hexdigest()[:8], 16) % 10 == 0


def _csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def external_judge_sets(nli_dir: Path | None, n: int, seed: int = 0) -> dict[str, list[JudgeCase]]:
    """Labelled (evidence, claim) sets the judge never trained on, up to ``n`` pairs each (fixed
    seed): HealthVer, Climate-FEVER (validation only: no stated licence) and SciTail's held-out
    10%. Absent folders are skipped."""
    out: dict[str, list[JudgeCase]] = {}
    if nli_dir is None:
        return out
    hv = nli_dir / "healthver"
    if hv.is_dir():
        rows = [
            r for name in ("healthver_dev.csv", "healthver_test.csv") if (hv / name).is_file() for r in _csv(hv / name)
        ]
        out["healthver"] = [
            JudgeCase(r["evidence"], r["claim"], int(r["label"] == "Supports"), "", "healthver") for r in rows
        ]
    cf = nli_dir / "climate_fever" / "climate-fever.jsonl"
    if cf.is_file():
        out["climate_fever"] = [
            JudgeCase(e["evidence"], c["claim"], int(e["evidence_label"] == "SUPPORTS"), "", "climate_fever")
            for c in _jsonl(cf)
            for e in c["evidences"]
        ]
    st = nli_dir / "scitail" / "scitail_test_as_dev.csv"
    if st.is_file():
        out["scitail_heldout"] = [
            JudgeCase(r["premise"], r["hypothesis"], int(r["label"] == "entailment"), "", "scitail")
            for r in _csv(st)
            if is_heldout(r["premise"].strip(), r["hypothesis"].strip())
        ]
    for name, rows in out.items():
        if len(rows) > n:
            out[name] = random.Random(seed).sample(rows, n)
    return out
