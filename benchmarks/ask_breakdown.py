"""Time breakdown of `review ask` with the bundled model, next to raw llama-cpp-python.

Prints, for a few questions run in one process: start-up (imports, embedder, GGUF load),
retrieval, prompt processing, generation, checking/extraction, and the total; then generation
tokens/s of the pipeline next to a raw `Llama.create_completion` on the same prompt and grammar,
and the pipeline overhead outside the model. Run: python benchmarks/ask_breakdown.py [--store DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time

QUESTIONS = [
    "how does RL affect knowledge recall?",
    "which methods merge fine-tuned models, and how do they differ?",
    "what is parameter-efficient fine-tuning and how does it compare to full fine-tuning?",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="existing index directory (default: a temporary one, built first)")
    parser.add_argument("--mode", default="generative", help="llm.mode for the pipeline runs (default generative)")
    args = parser.parse_args()

    t0 = time.perf_counter()
    from assistant import Assistant, Settings
    from assistant.ask import AskPipeline, _runaway, build_grammar
    from assistant.prompts import render

    t_import = time.perf_counter() - t0
    tmp = tempfile.mkdtemp(prefix="review-bench-")
    settings = Settings(paths={"store": args.store or f"{tmp}/store"})
    a = Assistant(settings)
    t = time.perf_counter()
    if args.store is None:
        a.ingest()
    t_ingest = time.perf_counter() - t
    t = time.perf_counter()
    a.index  # noqa: B018
    t_index = time.perf_counter() - t
    t = time.perf_counter()
    llm = a.llm
    t_llm = time.perf_counter() - t
    t = time.perf_counter()
    a.judge  # noqa: B018
    t_judge = time.perf_counter() - t
    print(
        f"start-up: imports {t_import:.2f}s, open index + embedder {t_index:.2f}s, GGUF load {t_llm:.2f}s, judge load {t_judge:.2f}s"
        + (f" (index built in {t_ingest:.1f}s)" if args.store is None else "")
    )
    print()
    header = f"{'question':<48} {'retr':>6} {'prompt':>7} {'gen':>7} {'tok':>5} {'check':>6} {'extr':>6} {'total':>7} {'overhead':>8}  mode"
    print(header)
    print("-" * len(header))
    rows = []
    for q in QUESTIONS:
        ans = a.ask(q, mode=args.mode)
        tm = ans.timings
        model_time = tm.get("prompt", 0) + tm.get("generation", 0)
        overhead = (tm["total"] - model_time) / tm["total"] if tm["total"] else 0.0
        rows.append((q, ans, tm))
        print(
            f"{q[:48]:<48} {tm.get('retrieval', 0):6.2f} {tm.get('prompt', 0):7.2f} {tm.get('generation', 0):7.2f} "
            f"{int(tm.get('completion_tokens', 0)):5d} {tm.get('checking', 0):6.2f} {tm.get('extraction', 0):6.2f} {tm['total']:7.2f} {overhead:8.1%}  {ans.mode}"
        )
    print()
    # Raw llama-cpp-python on the same prompt and grammar, same process, same Llama object.
    import llama_cpp

    print(f"{'question':<48} {'pipeline tok/s':>14} {'raw tok/s':>10} {'raw prompt s':>12} {'raw cold prompt s':>17}")
    for q, _ans, tm in rows:
        pipeline = AskPipeline(a.settings, a.index, lambda: llm, lambda: a.judge, lambda: a.relevance)
        sources = pipeline._sources(a.search(q, a.settings.ask.k).hits)
        prompt = render("ask", sources=pipeline._source_block(sources), question=q)
        grammar = llama_cpp.LlamaGrammar.from_string(build_grammar(len(sources), 4, 3), verbose=False)
        raw = llm._llm
        raw.reset()  # cold: no cached prefix
        t = time.perf_counter()
        first = None
        n = 0
        text = ""
        for chunk in raw.create_completion(
            prompt,
            max_tokens=a.settings.llm.max_tokens,
            temperature=0.0,
            seed=0,
            stop=["\n\n", "\nQuestion:", "\nSources:"],
            grammar=grammar,
            repeat_penalty=1.15,
            stream=True,
        ):
            first = first or time.perf_counter()
            n += 1
            text += chunk["choices"][0]["text"]
            if _runaway(text):
                break
        end = time.perf_counter()
        cold_prompt = (first or end) - t
        raw_tps = (n - 1) / (end - first) if first and n > 1 else 0.0
        pipe_tps = (tm.get("completion_tokens", 0) - 1) / tm["generation"] if tm.get("generation") else 0.0
        # warm: same prompt again, the whole prefix is in the KV cache
        t = time.perf_counter()
        for _ in raw.create_completion(prompt, max_tokens=1, temperature=0.0, grammar=None):
            pass
        warm_prompt = time.perf_counter() - t
        print(f"{q[:48]:<48} {pipe_tps:14.1f} {raw_tps:10.1f} {warm_prompt:12.3f} {cold_prompt:17.2f}")


if __name__ == "__main__":
    main()
