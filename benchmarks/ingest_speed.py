"""Ingest throughput next to the raw encoder throughput on the very same chunk texts.

    python benchmarks/ingest_speed.py [--scifact DIR] [--limit N] [--profile]

For the bundled corpus (``Assistant.ingest()`` with no paths) and the SciFact abstracts (as a
JSONL file through ``Assistant.ingest([file])``), each into a fresh temporary store:

- raw encode: ``embed_documents`` of the encoder ingest uses (``load_embedder(..., batch=True)``:
  the int8 ONNX twin by default, sentence-transformers with ``REVIEW_EMBEDDING__BACKEND=torch``)
  on exactly the texts the index embeds (built the way assistant/index.py builds them:
  ``chunk_paper`` + ``chunk_text_for_index``), same batch size, one call, after a warm-up batch;
- ingest: ``Assistant.ingest``; ``report.seconds`` is ``Index.ingest`` (chunk, encode, store),
  "end to end" adds opening the store, loading the embedder and parsing the corpus;
- overhead % = ingest seconds / raw encode seconds - 1, and where the ingest spends its time:
  inside the embedder (timed around ``embed_documents``) versus everything else;
- paired overhead %: the same ratio against raw encodes of each ingest batch's texts, run right
  beside that batch (their time is subtracted from the ingest's).

On a shared machine the load drifts between phases: ``--rounds`` alternates the order (raw
first, then ingest first, ...) and a "best of" row takes each phase's fastest round; the
"other % of encode" column (time outside the encoder / time inside it, both within one ingest)
does not depend on drift at all. The ``load`` column is the 1-minute load average after a phase.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    add_scifact_arg,
    add_threads_arg,
    apply_threads,
    quiet_logs,
    scifact_or_skip,
    scifact_papers,
    table,
    write_jsonl,
)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_scifact_arg(p)
    p.add_argument("--limit", type=int, default=0, help="Only the first N SciFact abstracts (default: all 5,183).")
    p.add_argument("--skip-bundled", action="store_true")
    p.add_argument("--skip-scifact", action="store_true")
    p.add_argument(
        "--rounds", type=int, default=2, help="Raw encode + ingest pairs, alternating order (default: %(default)s)."
    )
    p.add_argument(
        "--no-paired", action="store_true", help="Skip the raw re-encode of each ingest batch (halves the run time)."
    )
    add_threads_arg(p)
    p.add_argument(
        "--profile", action="store_true", help="Also profile one bundled ingest with cProfile (a separate pass)."
    )
    return p.parse_args()


class EncodeClock:
    """Time spent inside the embedders' ``embed_documents`` while active.

    With a ``paired`` model, every batch the ingest embeds is also encoded raw right next to it
    (before or after, alternating): the two encodings of one batch are seconds apart, so a
    drifting machine load hits both alike. The paired time is subtracted from the ingest's.
    """

    def __init__(self, paired=None, batch_size: int = 64) -> None:
        self.seconds = 0.0
        self.paired_seconds = 0.0
        self.calls = 0
        self.texts = 0
        self._paired = paired
        self._batch = batch_size

    def _raw(self, texts) -> None:
        started = time.perf_counter()
        self._paired.embed_documents(list(texts))
        self.paired_seconds += time.perf_counter() - started

    @contextlib.contextmanager
    def active(self):
        from assistant.indexing.embedding import SentenceTransformerEmbedder
        from assistant.indexing.onnxembed import OnnxEmbedder

        classes = (SentenceTransformerEmbedder, OnnxEmbedder)
        originals = [cls.embed_documents for cls in classes]
        clock = self

        def timed(embedder, texts):
            original = originals[0] if isinstance(embedder, SentenceTransformerEmbedder) else originals[1]
            raw_after = clock.calls % 2 == 1
            if clock._paired is not None and not raw_after:
                clock._raw(texts)
            started = time.perf_counter()
            try:
                return original(embedder, texts)
            finally:
                clock.seconds += time.perf_counter() - started
                clock.calls += 1
                clock.texts += len(texts)
                if clock._paired is not None and raw_after:
                    clock._raw(texts)

        for cls in classes:
            cls.embed_documents = timed
        try:
            yield self
        finally:
            for cls, original in zip(classes, originals, strict=True):
                cls.embed_documents = original


def settings_for(store: Path):
    from assistant.settings import Settings

    # The user's cache: the ONNX exports are made once there, not timed inside every ingest.
    return Settings(paths={"store": store / "store"})


def index_texts(assistant, paths) -> list[str]:
    """The chunk texts Index.ingest embeds, built the same way (assistant/index.py)."""
    from assistant.indexing.chunking import chunk_paper
    from assistant.indexing.lexical import chunk_text_for_index

    cfg = assistant.settings.chunks
    papers = assistant.read_corpus(paths)
    return [chunk_text_for_index(p.title, c) for p in papers for c in chunk_paper(p, cfg.sentences, cfg.overlap)]


def raw_model(settings):
    """The document encoder an ingest loads (int8 ONNX by default), loaded once here."""
    from assistant.indexing.embedding import load_embedder

    return load_embedder(settings.embedding, settings.paths.cache, batch=True)


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def raw_encode(model, texts: list[str], batch: int) -> float:
    model.embed_documents(texts[:batch])  # warm-up
    started = time.perf_counter()
    model.embed_documents(texts)
    return time.perf_counter() - started


def ingest(settings, paths, paired=None) -> tuple[object, EncodeClock, float]:
    from assistant import Assistant

    clock = EncodeClock(paired, settings.embedding.batch_size or 16)
    started = time.perf_counter()
    with clock.active():
        report = Assistant(settings).ingest(paths)
    return report, clock, time.perf_counter() - started


def measure(name: str, paths, model, tmp: Path, rounds: int, paired: bool) -> list[dict]:
    """Raw encode and a full ingest (fresh store) of one corpus, alternating order each round."""
    from assistant import Assistant

    texts = index_texts(Assistant(settings_for(tmp / name / "texts")), paths)
    rows = []
    for r in range(rounds):
        settings = settings_for(tmp / name / f"round{r}")
        got: dict = {}
        for phase in ("raw", "ingest") if r % 2 == 0 else ("ingest", "raw"):
            if phase == "raw":
                got["raw"] = raw_encode(model, texts, getattr(model, "batch_size", None) or 16)
            else:
                got["ingest"] = ingest(settings, paths, model if paired else None)
            got[phase + " load"] = load()
            print(f"  {name} round {r + 1}: {phase} done (load {got[phase + ' load']})", file=sys.stderr, flush=True)
        encode_s = got["raw"]
        report, clock, total_s = got["ingest"]
        # The paired raw encodes ran inside the timed ingest: take them out again.
        ingest_s, total_s = report.seconds - clock.paired_seconds, total_s - clock.paired_seconds
        if report.chunks_embedded != len(texts) or clock.texts != len(texts):
            print(f"  warning: ingest embedded {report.chunks_embedded} chunks, raw encode {len(texts)} texts")
        rows.append(
            {
                "corpus": name,
                "round": f"{r + 1} ({'raw first' if r % 2 == 0 else 'ingest first'})",
                "papers": report.papers_seen,
                "chunks": report.chunks_embedded,
                "raw encode s": encode_s,
                "ingest s": ingest_s,
                "in-ingest encode s": clock.seconds,
                "paired raw s": clock.paired_seconds,
                "end-to-end s": total_s,
                "encode calls": clock.calls,
                "load raw/ingest": f"{got['raw load']}/{got['ingest load']}",
            }
        )
    best = {
        "corpus": name,
        "round": f"best of {rounds}",
        "papers": rows[0]["papers"],
        "chunks": rows[0]["chunks"],
        **{k: min(row[k] for row in rows) for k in ("raw encode s", "ingest s", "end-to-end s")},
        **{k: min(rows, key=lambda row: row["ingest s"])[k] for k in ("in-ingest encode s", "paired raw s")},
        "encode calls": rows[0]["encode calls"],
        "load raw/ingest": "",
    }
    out = []
    for row in rows + ([best] if rounds > 1 else []):
        enc, ing = row["raw encode s"], row["ingest s"]
        out.append(
            {
                **{k: v for k, v in row.items() if not k.endswith(" s")},
                "raw encode s": f"{enc:.1f}",
                "raw chunks/s": f"{row['chunks'] / enc:.1f}",
                "ingest s": f"{ing:.1f}",
                "ingest papers/s": f"{row['papers'] / ing:.2f}",
                "overhead %": f"{100 * (ing / enc - 1):.1f}",
                "in-ingest encode s": f"{row['in-ingest encode s']:.1f}",
                "other s": f"{ing - row['in-ingest encode s']:.1f}",
                "other % of encode": f"{100 * (ing - row['in-ingest encode s']) / row['in-ingest encode s']:.1f}",
                "paired raw s": f"{row['paired raw s']:.1f}" if row["paired raw s"] else "-",
                "paired overhead %": f"{100 * (ing / row['paired raw s'] - 1):.1f}" if row["paired raw s"] else "-",
                "end-to-end s": f"{row['end-to-end s']:.1f}",
            }
        )
    return out


def profile_ingest(tmp: Path) -> None:
    """cProfile of one bundled ingest; the heaviest functions by own and by cumulative time."""
    import cProfile
    import pstats

    from assistant import Assistant

    settings = settings_for(tmp / "profile")
    assistant = Assistant(settings)
    assistant.read_corpus()  # parse outside the profile, like the timed runs' report.seconds
    profiler = cProfile.Profile()
    profiler.enable()
    assistant.ingest()
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stdout).strip_dirs()
    print("\n## cProfile of one bundled ingest (incl. embedder load), by cumulative time")
    stats.sort_stats("cumulative").print_stats(30)
    print("## ... by own time")
    stats.sort_stats("tottime").print_stats(20)


def main() -> None:
    args = parse_args()
    scifact = None if args.skip_scifact else scifact_or_skip(args.scifact, required=False)
    quiet_logs()
    threads = apply_threads(args.torch_threads)
    from assistant.settings import Settings

    tmp = Path(tempfile.mkdtemp(prefix="review-ingest-"))
    rows = []
    try:
        model = raw_model(Settings())
        print(
            f"ingest speed {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cpus, torch threads {threads}, "
            f"batch {Settings().embedding.batch_size or 'default'}, chunks {Settings().chunks.sentences}/{Settings().chunks.overlap}",
            flush=True,
        )
        if not args.skip_bundled:
            rows += measure("bundled", None, model, tmp, args.rounds, not args.no_paired)
        if scifact:
            papers = scifact_papers(scifact, args.limit or None)
            jsonl = write_jsonl(papers, tmp / "scifact.jsonl")
            rows += measure(f"scifact ({len(papers)} abstracts)", [jsonl], model, tmp, args.rounds, not args.no_paired)
        if not rows:
            print("nothing measured (--skip-bundled, and no SciFact)")
            return
        print("\n## Ingest vs raw encode (same texts, same batch size, same process)")
        print(table(rows, ["corpus", "round", "papers", "chunks", "raw encode s", "raw chunks/s", "ingest s"]))
        print(table(rows, ["corpus", "round", "ingest papers/s", "overhead %", "load raw/ingest"]))
        print("\n## Where the ingest time goes (drift-free: both parts timed inside the same ingest)")
        print(table(rows, ["corpus", "round", "ingest s", "in-ingest encode s", "other s", "other % of encode"]))
        print(table(rows, ["corpus", "round", "encode calls", "end-to-end s"]))
        print("\n## Paired: each ingest batch also encoded raw right beside it (drift-free overhead)")
        print(table(rows, ["corpus", "round", "ingest s", "paired raw s", "paired overhead %"]))
        if args.profile:
            profile_ingest(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
