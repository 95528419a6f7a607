"""Whole-process `review ingest` of SciFact's 5,183 abstracts, this checkout against another, side by side.

    python benchmarks/ingest_scifact.py [--before-repo DIR] [--rounds 1] [--limit N] [--workdir DIR]

Writes SciFact's corpus as a JSONL file, then runs ``python -m assistant ingest FILE`` in a fresh
process with a fresh store (``REVIEW_PATHS__STORE``) for this checkout ("now") and, with
``--before-repo`` (e.g. ``git worktree add /tmp/before HEAD~1``), for that checkout ("before", run
from its directory so its code is imported), alternating which goes first each round. Prints wall
seconds, CPU seconds and peak RSS of each ingest, the load average after it, and then the SciFact
train retrieval (809 claims: nDCG@10 of the top 10, recall@100 of the top 100) of each store, all
searched by this checkout's code with the same query embedder, so only the indexed vectors differ.
The embedder exports in ``paths.cache`` are made before the first timed run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    add_scifact_arg,
    scifact_or_skip,
    scifact_papers,
    scifact_retrieval,
    table,
    write_jsonl,
)

ROOT = Path(__file__).resolve().parents[1]


def run_ingest(repo: Path, corpus: Path, store: Path) -> dict:
    """One ``python -m assistant ingest`` in a fresh process: its own wall, CPU and peak RSS (wait4)."""
    env = dict(os.environ, REVIEW_PATHS__STORE=str(store), PYTHONPATH=str(repo), TOKENIZERS_PARALLELISM="false")
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "ingest", str(corpus)],
            cwd=repo,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        err.seek(0)
        lines = [x for x in err.read().splitlines() if x.strip()]
    if proc.returncode != 0:
        raise SystemExit(f"ingest in {repo} failed ({proc.returncode}): {' '.join(lines[-3:])}")
    return {
        "wall s": round(wall, 1),
        "CPU s": round(usage.ru_utime + usage.ru_stime, 1),
        "peak RSS MB": round(usage.ru_maxrss / 1024),
        "load after": round(os.getloadavg()[0], 2),
        "summary": next((x for x in reversed(lines) if "papers:" in x), "")[:80],
    }


def quality(store: Path, directory: Path) -> tuple[float, float]:
    from assistant import Assistant, Settings

    return scifact_retrieval(Assistant(Settings(paths={"store": str(store)})), directory)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_scifact_arg(p)
    p.add_argument("--before-repo", type=Path, help="another checkout of review to run beside this one")
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--limit", type=int, default=0, help="only the first N abstracts")
    p.add_argument("--workdir", type=Path, help="keep the corpus file and stores here (default: a temporary dir)")
    p.add_argument("--skip-quality", action="store_true")
    args = p.parse_args()
    directory = scifact_or_skip(args.scifact)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="ingest-scifact-"))
    work.mkdir(parents=True, exist_ok=True)
    papers = scifact_papers(directory, args.limit or None)
    corpus = write_jsonl(papers, work / "scifact.jsonl")
    sides = {"now": ROOT} | ({"before": args.before_repo.resolve()} if args.before_repo else {})
    # exports and int8 twins made once, outside the timing
    warm = work / "warm.jsonl"
    write_jsonl(papers[:3], warm)
    for repo in sides.values():
        run_ingest(repo, warm, work / f"warm-{len(str(repo))}")
    print(f"{len(papers)} abstracts, {os.cpu_count()} cpus, workdir {work}", flush=True)
    rows, stores = [], {}
    for r in range(args.rounds):
        order = list(sides.items()) if r % 2 == 0 else list(reversed(sides.items()))
        for name, repo in order:
            store = work / f"store-{name}-{r}"
            got = run_ingest(repo, corpus, store)
            stores.setdefault(name, store)
            rows.append({"side": name, "round": r + 1} | got)
            print(rows[-1], flush=True)
    print(table(rows))
    if not args.skip_quality:
        q = []
        for name, store in stores.items():
            ndcg, rec = quality(store, directory)
            q.append({"index": name, "nDCG@10": round(ndcg, 4), "R@100": round(rec, 4)})
            print(q[-1], flush=True)
        print(table(q))


if __name__ == "__main__":
    main()
