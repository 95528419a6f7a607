"""LLM backends: a local GGUF through llama-cpp-python, or an OpenAI-compatible server by URL.

Both take a plain prompt and an optional GBNF grammar and return the generated text. The
local backend never falls back to a remote one: a missing model is an error.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from .bundled import bundled_gguf_path
from .errors import ConfigError, ModelError
from .settings import BUNDLED_LLM, LLMSettings

__all__ = ["LLM", "Completion", "LlamaCppLLM", "OpenAICompatibleLLM", "Request", "load_llm"]

log = logging.getLogger(__name__)

OnText = Callable[[str], None]
StopCheck = Callable[[str], bool]


@dataclass
class Completion:
    """Generated text with token counts and timings (seconds)."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class Request:
    """One completion request, as a backend receives it."""

    prompt: str
    max_tokens: int
    stop: list[str]
    grammar: str | None = None
    on_text: OnText | None = None
    should_stop: StopCheck | None = None


class LLM(Protocol):
    """A text generator. The built-in backends subclass it and implement ``_run``; any object
    with this ``complete`` method (a test's scripted fake, say) is an LLM too."""

    name: str

    def complete(
        self,
        prompt: str,
        *,
        max_tokens: int,
        stop: list[str] | None = None,
        grammar: str | None = None,
        on_text: OnText | None = None,
        should_stop: StopCheck | None = None,
    ) -> Completion:
        """Generate from a plain prompt; ``grammar`` (GBNF) constrains the output, ``on_text``
        receives text as it is produced, ``should_stop(text_so_far)`` cuts a runaway short."""
        return self._run(Request(prompt, max_tokens, stop or [], grammar, on_text, should_stop))

    def _run(self, request: Request) -> Completion:
        raise NotImplementedError


_LOG_CALLBACK = None


def _silence_llama_cpp(llama_cpp) -> None:
    """Route llama.cpp's C-level logging to nowhere (verbose=False does not cover all of it)."""
    global _LOG_CALLBACK
    if _LOG_CALLBACK is None:
        import ctypes

        @llama_cpp.llama_log_callback
        def _ignore(level, text, user_data):  # noqa: ARG001
            return None

        _LOG_CALLBACK = _ignore
        llama_cpp.llama_log_set(_LOG_CALLBACK, ctypes.c_void_p(0))


def cpu_has_amx(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """True on a CPU with Intel AMX (Sapphire Rapids and later), as Linux reports it."""
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return False
    return any(line.startswith("flags") and " amx_int8" in f"{line} " for line in text.splitlines())


def use_extra_buffers(setting: str = "auto") -> bool:
    """Whether llama.cpp may put weights in its extra buffer types (AMX tiles, repacked CPU kernels).

    On a CPU with AMX, a native build of llama.cpp (what ``pip install llama-cpp-python`` compiles)
    repacks the weights into AMX buffers and segfaults in the first decode (llama-cpp-python
    0.3.36 with Gemma 3 270M, every prompt; ggml-org/llama.cpp#20824, #26954). Without extra
    buffers it runs the plain CPU kernels, which is what a CPU without AMX runs anyway."""
    if setting == "auto":
        return not cpu_has_amx()
    return setting == "on"


_PARAMS_LOCK = threading.Lock()


@contextmanager
def llama_model_params(llama_cpp, extra_buffers: bool):
    """While a ``llama_cpp.Llama`` is constructed inside it, the model params it starts from have
    ``use_extra_bufts`` as given (``Llama`` takes no such argument; it reads
    ``llama_model_default_params()`` and sets the rest)."""
    module = getattr(llama_cpp, "llama_cpp", llama_cpp)  # llama.py reads the low-level module's function
    original = getattr(module, "llama_model_default_params", None)
    if extra_buffers or original is None:
        yield
        return

    def defaults():
        params = original()
        if hasattr(params, "use_extra_bufts"):
            params.use_extra_bufts = False
        return params

    with _PARAMS_LOCK:
        module.llama_model_default_params = defaults
        try:
            yield
        finally:
            module.llama_model_default_params = original


class LlamaCppLLM(LLM):
    """A GGUF model in-process; all layers on the GPU when the llama.cpp build can offload."""

    def __init__(self, settings: LLMSettings, cache: Path) -> None:
        if settings.model == BUNDLED_LLM:
            path = bundled_gguf_path(cache)
        else:
            path = Path(settings.model).expanduser()
            if not path.is_file():
                raise ConfigError(
                    f"GGUF model not found: {path} (set REVIEW_LLM__MODEL or --model to an existing .gguf file)"
                )
        try:
            import llama_cpp
        except ImportError as exc:
            raise ModelError("llama-cpp-python is not installed: `pip install llama-cpp-python`") from exc
        _silence_llama_cpp(llama_cpp)
        self.gpu = bool(llama_cpp.llama_supports_gpu_offload())
        n_gpu_layers = settings.n_gpu_layers if self.gpu else 0
        if settings.n_gpu_layers and not self.gpu:
            log.info("this llama.cpp build has no GPU offload: running on the CPU")
        self.extra_buffers = use_extra_buffers(settings.extra_buffers)
        if not self.extra_buffers:
            log.info("llama.cpp extra weight buffers off (llm.extra_buffers=%s)", settings.extra_buffers)
        try:
            with llama_model_params(llama_cpp, self.extra_buffers):
                self._llm = llama_cpp.Llama(
                    model_path=str(path),
                    n_ctx=settings.n_ctx,
                    n_threads=settings.n_threads,
                    n_gpu_layers=n_gpu_layers,
                    seed=settings.seed,
                    verbose=False,
                )
        except Exception as exc:
            raise ModelError(f"cannot load GGUF model {path}: {exc} (is it a complete, valid .gguf file?)") from exc
        self._llama_cpp = llama_cpp
        self.settings = settings
        self.path = path
        self.name = self._llm.metadata.get("general.name") or path.name
        self.chat_template = self._llm.metadata.get("tokenizer.chat_template")

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` in this model's vocabulary."""
        return len(self._llm.tokenize(text.encode(), add_bos=False))

    def _format(self, prompt: str) -> str:
        # Instruct models get their own chat template; base models the plain prompt.
        if not self.chat_template:
            return prompt
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        eos = self._llm.detokenize([self._llm.token_eos()]).decode(errors="ignore")
        bos = self._llm.detokenize([self._llm.token_bos()]).decode(errors="ignore")
        instruction, _, primer = prompt.rpartition("\n\n")
        formatter = Jinja2ChatFormatter(template=self.chat_template, eos_token=eos, bos_token=bos)
        result = formatter(messages=[{"role": "user", "content": instruction}])
        return result.prompt + primer

    def _run(self, request: Request) -> Completion:
        """Generate (streamed, so time-to-first-token measures prompt processing and a
        runaway generation can be cut short by ``should_stop(text_so_far)``)."""
        grammar, on_text, should_stop = request.grammar, request.on_text, request.should_stop
        compiled = self._llama_cpp.LlamaGrammar.from_string(grammar, verbose=False) if grammar else None
        started = time.perf_counter()
        first = None
        parts: list[str] = []
        count = 0
        text = self._format(request.prompt)
        for chunk in self._llm.create_completion(
            text,
            max_tokens=request.max_tokens,
            temperature=self.settings.temperature,
            seed=self.settings.seed,
            stop=request.stop,
            grammar=compiled,
            repeat_penalty=1.15,
            stream=True,
        ):
            if first is None:
                first = time.perf_counter()
            piece = chunk["choices"][0]["text"]
            count += 1
            parts.append(piece)
            if on_text and piece:
                on_text(piece)
            if should_stop and should_stop("".join(parts)):
                break
        end = time.perf_counter()
        first = first or end
        return Completion(
            text="".join(parts),
            prompt_tokens=self.count_tokens(text),
            completion_tokens=count,
            timings={"prompt": round(first - started, 4), "generation": round(end - first, 4)},
        )


class OpenAICompatibleLLM(LLM):
    """A model served elsewhere (llama.cpp server, vLLM) through /v1/completions."""

    def __init__(self, settings: LLMSettings) -> None:
        import httpx

        self.settings = settings
        self.url = (settings.url or "").rstrip("/")
        if not self.url.endswith("/v1"):
            self.url += "/v1"
        self.name = f"{settings.api_model}@{self.url}"
        try:  # a malformed URL is a setting to fix, found before any work is done
            url = httpx.URL(self.url)
            if url.scheme not in ("http", "https") or not url.host:
                raise httpx.InvalidURL("not an http(s) URL with a host")
        except httpx.InvalidURL as exc:
            raise ConfigError(
                f"llm.url {settings.url!r} is not a valid URL ({exc}): use e.g. http://127.0.0.1:8080/v1"
            ) from None
        self._client = httpx.Client(timeout=httpx.Timeout(300.0, connect=10.0))

    def _run(self, request: Request) -> Completion:
        """POST a completion; the grammar is passed as llama.cpp servers accept it."""
        import httpx

        body: dict = {
            "model": self.settings.api_model,
            "prompt": request.prompt,
            "max_tokens": request.max_tokens,
            "temperature": self.settings.temperature,
            "seed": self.settings.seed,
            "stop": request.stop,
        }
        if request.grammar:
            body["grammar"] = request.grammar
        started = time.perf_counter()
        try:
            response = self._client.post(f"{self.url}/completions", json=body)
            response.raise_for_status()
            data = response.json()
            text = data["choices"][0]["text"]
        except httpx.HTTPError as exc:
            raise ModelError(
                f"the LLM server at {self.url} failed: {exc} (check REVIEW_LLM__URL and that the server runs)"
            ) from exc
        except (KeyError, IndexError, json.JSONDecodeError) as exc:
            raise ModelError(f"the LLM server at {self.url} sent an unexpected reply: {exc}") from exc
        if request.on_text:
            request.on_text(text)
        usage = data.get("usage") or {}
        return Completion(
            text=text,
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            timings={"generation": round(time.perf_counter() - started, 4)},
        )


def load_llm(settings: LLMSettings, cache: Path) -> LLM:
    """The configured backend: a server when llm.url is set, else the local GGUF."""
    if settings.url:
        return OpenAICompatibleLLM(settings)
    return LlamaCppLLM(settings, cache)
