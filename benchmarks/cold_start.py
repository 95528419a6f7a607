"""Cold start and search at 5K: the lean ONNX path side by side with the torch one, in one run.

    python benchmarks/cold_start.py [--runs 5] [--queries 200] [--scifact DIR] [--scifact-store DIR]
                                    [--skip-cold|--skip-warm|--skip-matrix] [--before-repo DIR]

1. Cold: whole-process wall time (median of ``--runs``) and peak RSS (``os.wait4``'s ru_maxrss of
   that child) of ``review --help``, ``review search`` and ``review ask`` on a copy of the bundled
   index, each run fresh. "before" sets ``REVIEW_EMBEDDING__BACKEND=torch`` and
   ``REVIEW_RETRIEVAL__EXACT=false`` (sentence-transformers query, Chroma's HNSW), or, with
   ``--before-repo DIR``, runs another checkout (``git worktree add /tmp/base <commit>``) with its
   defaults; "after" is this checkout's default (ONNX Runtime query, exact search over the cached
   matrix). Runs alternate
   before/after so the machine's load drifts into both alike; the ratio is after / before.
   The ONNX exports and the caches are warmed by one untimed run of each first.
2. Warm: ``Assistant.search`` p50/p95 over ``--queries`` SciFact claims on a 5,183-abstract
   index, before and after alternating query by query in one process. The index comes from
   ``--scifact-store`` or is ingested here through the ONNX path (its time is printed).
3. ``--quality``: nDCG@10 (k=10 list) and recall@100 (k=100 list) of the default hybrid search on
   all SciFact train claims, before and after, on the same index.
4. Matrix: the exact search alone (`DenseMatrix.search`: product + top 100) on synthetic unit vectors
   of 5K..500K x 384 float32, median of 50: up to what size it stays under 20 ms.
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
    REPO,
    add_scifact_arg,
    percentile,
    quiet_logs,
    scifact_or_skip,
    scifact_papers,
    scifact_queries,
    table,
)

QUERY = "weight averaging of fine-tuned models"
QUESTION = "how does RL affect knowledge recall?"
BEFORE = {"REVIEW_EMBEDDING__BACKEND": "torch", "REVIEW_RETRIEVAL__EXACT": "false"}
AFTER: dict[str, str] = {}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_scifact_arg(p)
    p.add_argument("--runs", type=int, default=5, help="Fresh processes per cold measurement (median).")
    p.add_argument("--queries", type=int, default=200, help="SciFact claims for the warm search.")
    p.add_argument("--scifact-store", type=Path, help="An existing SciFact index (default: ingest one here).")
    p.add_argument("--workdir", type=Path, help="Keep stores here (default: a temporary directory).")
    for part in ("cold", "warm", "matrix"):
        p.add_argument(f"--skip-{part}", action="store_true")
    p.add_argument("--quality", action="store_true", help="Also nDCG@10 / recall@100 before and after.")
    p.add_argument(
        "--before-repo",
        type=Path,
        help="Cold part: 'before' is this checkout of review (e.g. a `git worktree` of an older commit), run "
        "with its default settings by this Python, instead of the torch + HNSW settings of this one.",
    )
    return p.parse_args()


def review_exe() -> list[str]:
    """``python -m assistant`` run in this checkout (cwd=REPO) imports this checkout's code, whatever
    the virtualenv has installed; the ``review`` script costs the same."""
    return [sys.executable, "-m", "assistant"]


def run_once(cmd: list[str], env: dict[str, str], cwd: Path = REPO) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err.strip()[-500:]}")
    return wall, usage.ru_maxrss / 1024  # KB on Linux


def cold(args: argparse.Namespace, workdir: Path) -> list[dict]:
    store = workdir / "bundled-store"
    cache = workdir / "cache"
    base = {k: v for k, v in os.environ.items() if not k.startswith("REVIEW_")}
    base |= {"REVIEW_CONFIG": str(workdir / "absent.toml"), "REVIEW_PATHS__CACHE": str(cache)}
    base["REVIEW_PATHS__STORE"] = str(store)
    if not store.exists():
        if (REPO / "store" / "chroma.sqlite3").is_file():
            shutil.copytree(REPO / "store", store, ignore=shutil.ignore_patterns("lexical", "dense"))
        else:
            print("building the bundled index ...", file=sys.stderr)
            subprocess.run([*review_exe(), "ingest"], env=base, check=True, cwd=REPO)
    # The GGUF, ONNX exports and caches come from one untimed run of each.
    if not (cache / "models").exists() and (Path.home() / ".cache" / "review" / "models").is_dir():
        shutil.copytree(Path.home() / ".cache" / "review" / "models", cache / "models")
    if (Path.home() / ".cache" / "review" / "llm-verdicts.json").is_file():
        shutil.copy(Path.home() / ".cache" / "review" / "llm-verdicts.json", cache / "llm-verdicts.json")
    commands = {
        "review --help": ["--help"],
        f'review search "{QUERY}"': ["search", QUERY],
        f'review ask "{QUESTION}"': ["ask", QUESTION],
    }
    rows = []
    for label, words in commands.items():
        print(f"cold: {label}", file=sys.stderr)
        cmd = [*review_exe(), *words]
        # (command, env, cwd) of each side; with --before-repo, "before" is the other checkout
        # (``python -m assistant`` from its folder imports its code), with default settings.
        sides = {"before": (cmd, base | BEFORE, REPO), "after": (cmd, base | AFTER, REPO)}
        if args.before_repo:
            sides["before"] = ([sys.executable, "-m", "assistant", *words], base, args.before_repo)
        for side in sides.values():
            run_once(*side)  # warm-up: exports, caches, page cache
        times: dict[str, list[tuple[float, float]]] = {"before": [], "after": []}
        for _ in range(args.runs):
            for name, side in sides.items():
                times[name].append(run_once(*side))
        b, a = (statistics.median(t for t, _ in times[n]) for n in ("before", "after"))
        rb, ra = (max(m for _, m in times[n]) for n in ("before", "after"))
        rows.append(
            {
                "what": label,
                "before s": round(b, 2),
                "after s": round(a, 2),
                "after/before": round(a / b, 2),
                "before peak MB": round(rb),
                "after peak MB": round(ra),
            }
        )
    return rows


def warm(args: argparse.Namespace, workdir: Path) -> tuple[list[dict], str]:
    from assistant import Assistant, Settings

    directory = scifact_or_skip(args.scifact, required=False)
    if directory is None:
        return [], "warm search skipped: no SciFact"
    store = args.scifact_store or workdir / "scifact-store"
    cache = workdir / "cache"
    paths = {"store": str(store), "cache": str(cache)}
    note = f"index: {store}"
    if not (store / "chroma.sqlite3").is_file():
        from assistant.indexing.embedding import load_embedder

        papers = scifact_papers(directory)
        settings = Settings(paths=paths)
        # The document encoder `review ingest` uses (int8, all cores), not the query one.
        a = Assistant(settings, embedder=load_embedder(settings.embedding, settings.paths.cache, batch=True))
        a._open_index(create=True)
        start = time.perf_counter()
        report = a.index.ingest(papers)
        note = (
            f"ingest of {len(papers)} SciFact abstracts through the ONNX path: {time.perf_counter() - start:.0f} s "
            f"({report.chunks_embedded} chunks)"
        )
        print(note, file=sys.stderr)
    after = Assistant(Settings(paths=paths))
    before = Assistant(Settings(paths=paths, embedding={"backend": "torch"}, retrieval={"exact": False}))
    queries = [q for _, q in scifact_queries(directory)[0]][: args.queries]
    for a in (before, after):
        a.search(queries[0])  # model load, caches
    times: dict[str, list[float]] = {"before": [], "after": []}
    same = 0
    for q in queries:
        got = {}
        for name, a in (("before", before), ("after", after)):
            start = time.perf_counter()
            got[name] = [h.paper_id for h in a.search(q).hits]
            times[name].append((time.perf_counter() - start) * 1000)
        same += got["before"] == got["after"]
    rows = []
    for name in ("before", "after"):
        ts = times[name]
        rows.append({"warm search, 5,183 papers": name, "p50 ms": percentile(ts, 50), "p95 ms": percentile(ts, 95)})
    note += f"; same top-10 before and after for {same}/{len(queries)} claims"
    if args.quality:
        note += "\n\n" + table(quality(directory, before, after))
    return rows, note


def quality(directory: Path, before, after) -> list[dict]:
    from _common import scifact_retrieval

    claims = len(scifact_queries(directory)[0])
    rows = []
    for name, a in (("before", before), ("after", after)):
        ndcg, recall = scifact_retrieval(a, directory)
        rows.append({f"SciFact train, {claims} claims": name, "nDCG@10": ndcg, "R@100": recall})
    return rows


def matrix() -> list[dict]:
    import numpy as np

    from assistant.indexing.dense import DenseMatrix

    rng = np.random.default_rng(0)
    rows = []
    for n in (5_000, 20_000, 100_000, 200_000, 500_000):
        m = rng.standard_normal((n, 384), dtype=np.float32)
        m /= np.linalg.norm(m, axis=1, keepdims=True)
        q = m[0].copy()
        dense = DenseMatrix([str(i) for i in range(n)], m, "bench")
        ts = []
        for _ in range(50):
            start = time.perf_counter()
            dense.search(q, 100)
            ts.append((time.perf_counter() - start) * 1000)
        rows.append(
            {"chunks x 384 float32": f"{n:,}", "MB": round(m.nbytes / 2**20), "median ms": statistics.median(ts)}
        )
        rows[-1]["p95 ms"] = percentile(ts, 95)
        del m
    return rows


def main() -> None:
    args = parse_args()
    quiet_logs()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="review-cold-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores, workdir {workdir}")
    if not args.skip_cold:
        print("\n" + table(cold(args, workdir)))
    if not args.skip_warm:
        rows, note = warm(args, workdir)
        print("\n" + (table(rows) if rows else "") + f"\n{note}")
    if not args.skip_matrix:
        print("\n" + table(matrix()))
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
