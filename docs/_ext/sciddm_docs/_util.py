"""Small helpers shared by the page generators."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path


def write_if_changed(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` unless it already holds exactly that.

    Unchanged files keep their modification time, so that an incremental
    Sphinx build does not re-read them.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    path.write_text(text, encoding="utf-8")


def copy_if_changed(src: Path, dst: Path) -> None:
    """Copy the bytes of ``src`` to ``dst`` unless ``dst`` already holds them."""
    data = src.read_bytes()
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists() and dst.read_bytes() == data:
        return
    dst.write_bytes(data)


def families() -> list[str]:
    """The families of sciddm, in the order of ``sciddm.SUBPACKAGES``."""
    import sciddm

    return list(sciddm.SUBPACKAGES)


def public_modules() -> list[str]:
    """Every documented module, relative to ``sciddm``: families, toys, reproduce."""
    out: list[str] = []
    for fam in families():
        out.append(fam)
        if importlib.util.find_spec(f"sciddm.{fam}.toys") is not None:
            out.append(f"{fam}.toys")
    out.append("reproduce")
    return out


def public_names(module: str) -> list[str]:
    """The names in ``sciddm.<module>.__all__``, in their order."""
    mod = importlib.import_module(f"sciddm.{module}")
    return list(getattr(mod, "__all__", []))


def first_line(doc: str | None) -> str:
    """The first paragraph of a docstring, joined on one line."""
    if not doc:
        return ""
    para = doc.strip().split("\n\n", 1)[0]
    return " ".join(line.strip() for line in para.splitlines())
