"""Progress bars (tqdm), off by default in the library and on in the CLI."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = ["progress_bar"]


def progress_bar(
    iterable: Iterable[T],
    *,
    enabled: bool = False,
    total: int | None = None,
    desc: str | None = None,
    **kw: Any,
) -> Iterator[T]:
    """Wrap ``iterable`` in a tqdm bar when ``enabled``; otherwise return it as is."""
    if not enabled:
        return iter(iterable)
    from tqdm.auto import tqdm

    return iter(tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True, **kw))
