"""The OpenAI-compatible backend against a real llama-cpp-python server on 127.0.0.1 serving the bundled GGUF."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from conftest import free_port

pytestmark = [pytest.mark.slow, pytest.mark.server]


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    pytest.importorskip("llama_cpp.server.app", reason="llama-cpp-python[server] is not installed")
    import httpx

    from assistant.bundled import bundled_gguf_path

    gguf = bundled_gguf_path(tmp_path_factory.mktemp("cache"))
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "assistant.llama_server",  # llama_cpp.server, safe on AMX CPUs (llm.extra_buffers)
            "--model",
            str(gguf),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "4096",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("llama-cpp-python server did not start")
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def test_completion_with_grammar_over_http(server_url):
    from assistant.ask import build_grammar, parse_statements
    from assistant.llm import OpenAICompatibleLLM
    from assistant.settings import LLMSettings

    llm = OpenAICompatibleLLM(LLMSettings(url=server_url))
    out = llm.complete(
        "Sources:\n[1] Cats\nCats purr.\n[2] Dogs\nDogs bark.\nQuestion: what do cats do?\nAnswer:\n",
        max_tokens=48,
        grammar=build_grammar(2, 2, 1),
    )
    assert out.text.startswith("- ")
    assert all(n in (1, 2) for _, ns in parse_statements(out.text, 2) for n in ns)
    assert out.completion_tokens > 0


def test_ask_through_the_server(server_url, real_assistant):
    from assistant import Assistant

    settings = real_assistant.settings.model_copy(
        update={"llm": real_assistant.settings.llm.model_copy(update={"url": server_url})}
    )
    a = Assistant(settings)
    answer = a.ask("how does RL affect knowledge recall?")
    assert not answer.refused
    assert answer.model and server_url in answer.model
    retrieved = {
        h.paper_id for h in a.search("how does RL affect knowledge recall?", settings.ask.candidate_papers).hits
    }
    assert {r.paper_id for r in answer.references} <= retrieved


def test_unreachable_server_is_a_clear_error(real_assistant):
    from assistant import Assistant
    from assistant.errors import ModelError

    settings = real_assistant.settings.model_copy(
        update={
            "llm": real_assistant.settings.llm.model_copy(
                update={"url": f"http://127.0.0.1:{free_port()}/v1", "mode": "generative"}
            )
        }
    )
    with pytest.raises(ModelError, match="LLM server"):
        Assistant(settings).ask("how does RL affect knowledge recall?")
