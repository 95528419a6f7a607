"""Search latency: warm in-process search on SciFact (5K papers), and CLI cold starts.

    python benchmarks/search_latency.py [--scifact DIR] [--store DIR] [--queries 200] [--runs 5]

1. Warm: ``Assistant.search`` over N SciFact claims after one warm-up search (model loaded,
   BM25 cache read): p50/p95/mean/max, then the same queries stage by stage (the steps of
   ``Index.search``, timed one by one) to show where the time goes. ``--profile`` adds cProfile.
   The SciFact index comes from ``--store`` (e.g. a ``--workdir`` store left by
   retrieval_scifact.py) or is built here through ``Index.ingest`` (slow on a small CPU unless
   the embedding memo of retrieval_scifact.py already holds the vectors).
2. Cold: wall time of fresh processes, median of ``--runs``: ``review --help`` (through PATH,
   e.g. a pyenv shim, and the console script itself), interpreter and import baselines, and
   ``review search`` on an index of the bundled corpus built in a temporary store.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    MemoEmbedder,
    add_scifact_arg,
    percentile,
    quiet_logs,
    scifact_or_skip,
    scifact_papers,
    scifact_queries,
    table,
)

QUERY = "weight averaging of fine-tuned models"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_scifact_arg(p)
    p.add_argument("--store", type=Path, help="An existing SciFact store (default: build one in a temporary dir).")
    p.add_argument(
        "--emb-cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "review-bench-embeddings",
        help="Embedding memo used when building the SciFact store (default: %(default)s).",
    )
    p.add_argument("--queries", type=int, default=200, help="Warm searches to time (default: %(default)s).")
    p.add_argument("--runs", type=int, default=5, help="Runs per cold-start command (default: %(default)s).")
    p.add_argument("--bundled-store", type=Path, help="An existing index of the bundled corpus (default: build one).")
    p.add_argument("--skip-warm", action="store_true")
    p.add_argument("--skip-cold", action="store_true")
    p.add_argument("--profile", action="store_true", help="cProfile the warm searches.")
    return p.parse_args()


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def summary(name: str, times: list[float]) -> dict:
    return {
        "what": name,
        "n": len(times),
        "p50 ms": ms(percentile(times, 50)),
        "p95 ms": ms(percentile(times, 95)),
        "mean ms": ms(statistics.fmean(times)),
        "max ms": ms(max(times)),
    }


# -- warm ---------------------------------------------------------------------------------------


def scifact_store(args, scifact: Path, tmp: Path) -> Path:
    if args.store:
        return args.store
    from assistant.indexing import Index
    from assistant.indexing.embedding import load_embedder
    from assistant.settings import Settings

    settings = Settings(paths={"store": tmp / "scifact", "cache": tmp / "cache"})
    print("building the SciFact index (slow unless the embedding memo has it) ...", file=sys.stderr, flush=True)
    embedder = MemoEmbedder(load_embedder(settings.embedding), args.emb_cache or None)
    Index(settings, embedder=embedder, create=True).ingest(scifact_papers(scifact))
    return tmp / "scifact"


def stages(index, query: str, clock: dict[str, list[float]]) -> None:
    """The steps of ``retrieval.search``, each timed (same calls, same order)."""
    from assistant.retrieval import _hits, _rank

    cfg = index.settings.retrieval
    n = max(cfg.candidates, cfg.k * 4)
    marks = [time.perf_counter()]
    generation = index.generation()
    marks.append(time.perf_counter())
    lex_index = index.lexical(generation)
    lexical = lex_index.search(query, n)
    marks.append(time.perf_counter())
    vector = index.embedder.embed_query(query)
    marks.append(time.perf_counter())
    dense = index.dense(generation).search(vector, n) if index.exact_dense() else index.dense_search(query, n)
    marks.append(time.perf_counter())
    chunks = {cid: index.chunks[cid] for cid, _ in dense + lexical if cid in index.chunks}
    ranked = _rank(dense, lexical, {cid: c.paper_id for cid, c in chunks.items()}, cfg, lambda pid: True)
    marks.append(time.perf_counter())
    papers = {p.id: p for p in index.papers([pid for pid, _ in ranked[: cfg.k]])}
    marks.append(time.perf_counter())
    _hits(ranked[: cfg.k], chunks, papers, cfg)
    marks.append(time.perf_counter())
    names = [
        "generation read",
        "BM25 search",
        "embed query",
        "dense search (exact matrix)",
        "rank (fusion)",
        "paper records of the k hits",
        "hits",
    ]
    for name, x, y in zip(names, marks, marks[1:]):
        clock.setdefault(name, []).append(y - x)
    clock.setdefault("total (stages)", []).append(marks[-1] - marks[0])
    clock.setdefault("papers fetched", []).append(len(papers))


def warm(args, scifact: Path, tmp: Path) -> None:
    from assistant import Assistant, Settings

    store = scifact_store(args, scifact, tmp)
    assistant = Assistant(Settings(paths={"store": store, "cache": tmp / "cache"}))
    queries = [q for _, q in scifact_queries(scifact)[0]][: args.queries + 1]
    started = time.perf_counter()
    assistant.search(queries[0])
    first = time.perf_counter() - started
    index = assistant.index
    stats = index.stats()
    times: list[float] = []
    clock: dict[str, list[float]] = {}
    for q in queries[1:]:
        started = time.perf_counter()
        assistant.search(q)
        times.append(time.perf_counter() - started)
        stages(index, q, clock)
    print(f"\n## Warm search, {stats.papers} papers / {stats.chunks} chunks, {args.queries} SciFact claims, k=10")
    print(f"first search (loads embedder + caches): {first:.2f} s; load average {os.getloadavg()[0]:.1f}")
    print(table([summary("Assistant.search", times)]))
    print("\n### Stage by stage: retrieval.search's steps timed one by one, same queries")
    print(table([summary(name, values) for name, values in clock.items() if name != "papers fetched"]))
    print(f"papers fetched per search: mean {statistics.fmean(clock['papers fetched']):.0f}")
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for q in queries[1:]:
            assistant.search(q)
        profiler.disable()
        print(f"\n### cProfile of {len(queries) - 1} warm searches, by cumulative time")
        pstats.Stats(profiler, stream=sys.stdout).strip_dirs().sort_stats("cumulative").print_stats(30)


# -- cold ---------------------------------------------------------------------------------------


def wall(cmd: list[str], runs: int, env: dict[str, str] | None = None) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            print(f"  {' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()[-300:]}", file=sys.stderr)
    return times


def cold(args, tmp: Path) -> None:
    direct = Path(sys.executable).with_name("review")
    # What a user's shell runs: the first `review` on PATH outside this interpreter's bin/
    # (pyenv exec puts that dir first for us; the user's shell finds the pyenv shim instead).
    here = str(direct.parent)
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p.rstrip("/") != here)
    review = shutil.which("review", path=path) or (str(direct) if direct.exists() else None)
    if not review:
        print("skipped cold starts: no `review` on PATH (pip install -e .)")
        return
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEW_")}
    store = args.bundled_store
    if store is None:
        from assistant import Assistant, Settings

        store = tmp / "bundled"
        print("building the bundled index ...", file=sys.stderr, flush=True)
        report = Assistant(Settings(paths={"store": store, "cache": tmp / "cache"})).ingest()
        print(
            f"  bundled: {report.papers_seen} papers, {report.chunks_embedded} chunks in {report.seconds:.0f}s",
            file=sys.stderr,
        )
    search = [review, "--store", str(store), "search", QUERY]
    first = wall(search, 1, env)[0]  # builds and saves the BM25 cache when the store is new
    py = sys.executable
    commands = [
        ("python -c pass (interpreter + site)", [py, "-c", "pass"], env),
        ("review --help (PATH: " + review + ")", [review, "--help"], env),
        ("review --help (console script " + str(direct) + ")", [str(direct), "--help"], env),
        ("  same with TYPER_USE_RICH=0 (plain click help)", [str(direct), "--help"], {**env, "TYPER_USE_RICH": "0"}),
        ("python -c 'import torch'", [py, "-c", "import torch"], env),
        ("python -c 'import chromadb'", [py, "-c", "import chromadb"], env),
        ("python -c 'import sentence_transformers'", [py, "-c", "import sentence_transformers"], env),
        (f"review search '{QUERY}' (PATH, bundled index)", search, env),
        ("review search (console script)", [str(direct), *search[1:]], env),
    ]
    rows = []
    for name, cmd, e in commands:
        times = wall(cmd, args.runs, e)
        rows.append(
            {
                "command": name,
                "runs": len(times),
                "median s": f"{statistics.median(times):.2f}",
                "min s": f"{min(times):.2f}",
                "max s": f"{max(times):.2f}",
            }
        )
    print(f"\n## Cold starts (fresh processes), load average {os.getloadavg()[0]:.1f}")
    print(f"first `review search` on the new bundled index (builds the BM25 cache): {first:.2f} s")
    print(table(rows))


def main() -> None:
    args = parse_args()
    quiet_logs()
    tmp = Path(tempfile.mkdtemp(prefix="review-latency-"))
    print(
        f"search latency {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.1f}"
    )
    try:
        if not args.skip_warm:
            scifact = scifact_or_skip(args.scifact, required=False)
            if scifact:
                warm(args, scifact, tmp)
        if not args.skip_cold:
            cold(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
