"""Lazy matplotlib access for the ``plot_*(..., ax=None)`` helpers."""

from __future__ import annotations

from typing import Any

__all__ = ["get_ax"]


def get_ax(ax: Any = None, *, figsize: tuple[float, float] = (5.0, 3.5)) -> Any:
    """Return ``ax``, or the axes of a new figure when ``ax`` is None."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize)
    return ax
