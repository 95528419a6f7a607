"""llama-cpp-python's OpenAI-compatible server with ``llm.extra_buffers`` applied.

    python -m assistant.llama_server --model model.gguf --host 127.0.0.1 --port 8080

Takes llama_cpp.server's own arguments. On a CPU with AMX a native llama.cpp build crashes in the
first decode when it puts weights in AMX buffers (see ``llm.use_extra_buffers``); ``python -m
llama_cpp.server`` has no switch for that, so this starts the same server with the extra buffers
off there (``llm.extra_buffers``: review.toml or ``REVIEW_LLM__EXTRA_BUFFERS`` = auto | on | off).
"""

from __future__ import annotations

import runpy


def main() -> None:
    import llama_cpp

    from .llm import llama_model_params, use_extra_buffers
    from .settings import Settings

    with llama_model_params(llama_cpp, use_extra_buffers(Settings().llm.extra_buffers)):
        runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
