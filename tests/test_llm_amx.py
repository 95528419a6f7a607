"""llm.extra_buffers: llama.cpp's AMX weight buffers crash the first decode on AMX CPUs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import types

import pytest

from assistant.llm import cpu_has_amx, llama_model_params, use_extra_buffers


def test_amx_is_read_from_the_cpu_flags(tmp_path):
    amx = tmp_path / "amx"
    amx.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f amx_bf16 amx_tile amx_int8\n\n")
    plain = tmp_path / "plain"
    plain.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f\nmodel name\t: amx_int8 in a name\n")
    assert cpu_has_amx(amx) and not cpu_has_amx(plain)
    assert not cpu_has_amx(tmp_path / "absent")  # not Linux: nothing to say


def test_the_setting_forces_either_way(monkeypatch):
    monkeypatch.setattr("assistant.llm.cpu_has_amx", lambda: True)
    assert use_extra_buffers("auto") is False and use_extra_buffers("on") is True
    monkeypatch.setattr("assistant.llm.cpu_has_amx", lambda: False)
    assert use_extra_buffers("auto") is True and use_extra_buffers("off") is False


def test_the_params_are_patched_only_while_a_model_loads():
    low = types.SimpleNamespace()
    low.llama_model_default_params = lambda: types.SimpleNamespace(use_extra_bufts=True, n_gpu_layers=0)
    original = low.llama_model_default_params
    package = types.SimpleNamespace(llama_cpp=low)
    with llama_model_params(package, extra_buffers=False):
        assert low.llama_model_default_params().use_extra_bufts is False
    assert low.llama_model_default_params is original and original().use_extra_bufts is True
    with pytest.raises(RuntimeError), llama_model_params(package, extra_buffers=False):
        raise RuntimeError("a load that fails")
    assert low.llama_model_default_params is original  # restored on errors too
    with llama_model_params(package, extra_buffers=True):
        assert low.llama_model_default_params is original


@pytest.mark.slow
def test_the_bundled_model_generates_in_a_child_process(tmp_path):
    # A crash in llama.cpp kills the process: run the real model in a child and check its exit code.
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from assistant.llm import LlamaCppLLM
        from assistant.settings import LLMSettings
        llm = LlamaCppLLM(LLMSettings(n_ctx=512), Path({str(tmp_path)!r}))
        out = llm.complete("Model merging combines", max_tokens=8)
        print("OK", llm.extra_buffers, repr(out.text))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-500:]}"
    assert done.stdout.startswith("OK ")
    if cpu_has_amx():
        assert "OK False" in done.stdout
