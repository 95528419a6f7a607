"""Prompt templates: files in prompts/, checked for their placeholders when loaded."""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path

from .errors import ConfigError

__all__ = ["PLACEHOLDERS", "load_prompt", "prompt_dir", "render"]

# Every prompt and the placeholders it must use, no more and no fewer.
PLACEHOLDERS: dict[str, set[str]] = {
    "ask": {"sources", "question"},
    "outline_label": {"topic", "titles"},
    "outline_claim": {"title", "abstract"},
}


def prompt_dir() -> Path:
    """prompts/ inside an installed wheel, else the repository's top-level prompts/."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "prompts", here.parent / "prompts"):
        if candidate.is_dir():
            return candidate
    raise ConfigError(f"prompt templates not found next to {here}: reinstall review")


@cache
def load_prompt(name: str) -> str:
    """The template text, after checking its placeholders."""
    path = prompt_dir() / f"{name}.txt"
    if not path.is_file():
        raise ConfigError(f"prompt template {path} is missing: reinstall review")
    text = path.read_text(encoding="utf-8")
    found = {field for _, field, _, _ in string.Formatter().parse(text) if field}
    expected = PLACEHOLDERS.get(name, set())
    if found != expected:
        raise ConfigError(f"prompt {path} has placeholders {sorted(found)}, expected {sorted(expected)}")
    return text


def render(name: str, **values: str) -> str:
    """Fill a template; braces inside the values are kept as they are."""
    return load_prompt(name).format(**values)
