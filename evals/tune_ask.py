"""Tune `ask` on the tuning half: run it through the Python API and print the citation metrics.

    python evals/tune_ask.py                               # the tuning half, current settings
    python evals/tune_ask.py --set ask.min_specificity=0.1 --set ask.margin=0.3
    python evals/tune_ask.py --dump answers.jsonl          # every answer, to read
    python evals/tune_ask.py --file evals/ask_extra_unanswerable.jsonl   # 12 more unanswerable ones
    python evals/tune_ask.py --file evals/ask_more_unanswerable.jsonl    # 9 near-domain unanswerable ones
    python evals/tune_ask.py --file evals/ask_short_questions.jsonl      # short answerable ones

The metrics are the `review eval --only citations` ones (``suite._citations_part``, reused, not
re-implemented): refusal accuracy, false refusals, key-fact coverage, statements per answer,
relevant papers cited per thematic/comparative answer. By default only the questions of the
tuning half (``gold.question_split`` of ``questions.jsonl``) are asked: settings are chosen on
them and never on the frozen test half. ``--split test`` exists for the one final measurement.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _value(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


def _overrides(pairs: list[str]) -> dict:
    out: dict = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        section, _, name = key.partition(".")
        out.setdefault(section, {})[name] = _value(value)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=["tune", "test"], default="tune")
    parser.add_argument("--set", action="append", default=[], help="section.field=value (JSON value), repeatable")
    parser.add_argument("--dump", type=Path, help="write every answer (JSONL) here")
    parser.add_argument("--types", default="", help="only these question types (comma-separated)")
    parser.add_argument(
        "--file",
        type=Path,
        help="ask the questions of this JSONL instead (e.g. evals/ask_extra_unanswerable.jsonl: tuning questions "
        "the gold tuning half lacks); its rows count as the chosen split",
    )
    args = parser.parse_args(argv)

    from assistant import Assistant, Settings
    from assistant.evaluation import gold
    from assistant.evaluation.suite import _citations_part

    settings = Settings(**_overrides(args.set)) if args.set else Settings()
    assistant = Assistant(settings)
    if args.file:
        rows = [json.loads(line) for line in args.file.read_text(encoding="utf-8").splitlines() if line.strip()]
        questions = [
            gold.GoldQuestion(
                r["id"], r["question"], r["type"], r.get("relevant", []), r.get("key_facts", []), args.split
            )
            for r in rows
        ]
    else:
        questions = [q for q in gold.questions(gold.data_dir(settings.eval.data_dir)) if q.split == args.split]
    if args.types:
        questions = [q for q in questions if q.type in args.types.split(",")]
    answers = []
    seconds = []
    ask = assistant.ask

    def recording_ask(question: str, **kw):
        t = time.perf_counter()
        answer = ask(question, **kw)
        seconds.append(time.perf_counter() - t)
        answers.append(answer)
        return answer

    assistant.ask = recording_ask  # type: ignore[method-assign]
    assistant.ask(questions[0].question, mode="extractive")  # warm: models loaded, first answer not timed
    answers.clear()
    seconds.clear()
    part = _citations_part(assistant, questions, "extractive", lambda *_: None)
    m = part["metrics"]
    keys = ("refusal_accuracy", "false_refusal_rate", "key_fact_coverage", "statements_per_answer",
            "broad_relevant_cited", "relevant_paper_precision", "on_point_rate")  # fmt: skip
    print(f"{args.split} half: {len(questions)} questions  {' '.join(args.set)}")
    for k in keys:
        print(f"  {k:24s} {m.get(f'{args.split}_{k}')}")
    print(f"  {'alce_precision':24s} {m.get('alce_precision')}")
    relevance = [a.timings.get("relevance", 0.0) for a in answers]
    print(
        f"  {'seconds per ask':24s} {sum(seconds) / len(seconds):.3f} (relevance stage {sum(relevance) / len(relevance):.3f})"
    )
    if args.dump:
        with args.dump.open("w", encoding="utf-8") as f:
            for q, a, row in zip(questions, answers, part["items"], strict=True):
                f.write(json.dumps({"id": q.id, "type": q.type, "question": q.question, "relevant": q.relevant,
                                    "row": row, "answer": a.answer, "reason": a.reason,
                                    "statements": [s.model_dump() for s in a.statements]}) + "\n")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
