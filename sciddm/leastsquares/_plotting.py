"""Plots: designs and error-versus-n curves (matplotlib imported lazily)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sciddm._core.plotting import get_ax
from sciddm._core.validation import check_array

from ._bases import Basis

__all__ = ["plot_design", "plot_error_curves"]


def plot_design(design: Any, basis: Basis | None = None, *, ax: Any = None, **kw: Any) -> Any:
    r"""Plot a design: a scatter of 2-D points, or a histogram of 1-D points.

    In 2-D the marker area is proportional to the weight; in 1-D the histogram
    is drawn against the optimal density :math:`(K_m/m)\,\mu` when ``basis`` is
    given.

    Parameters
    ----------
    design : Design or array_like of shape (n, d)
        The points (and weights, for a :class:`Design`).
    basis : Basis, optional
        Needed for the density curve of a 1-D design.
    ax : matplotlib Axes, optional
        Axes to draw on (a new figure by default).
    **kw
        Passed to :meth:`~matplotlib.axes.Axes.scatter` or
        :meth:`~matplotlib.axes.Axes.hist` (``bins`` for the latter).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from sciddm.leastsquares import Legendre, TensorBasis, plot_design, sample_optimal, total_degree
    >>> b = TensorBasis(Legendre(), total_degree(2, 3))
    >>> ax = plot_design(sample_optimal(b, 30, rng=0))
    >>> ax.get_xlabel()
    '$x_1$'
    """
    pts = check_array(getattr(design, "points", design), "design", ndim=(1, 2), min_rows=1)
    pts = pts.reshape(len(pts), -1)
    if pts.shape[1] > 2:
        raise ValueError(f"`design` must hold 1-D or 2-D points, got shape {pts.shape}")
    ax = get_ax(ax)
    w = getattr(design, "weights", None)
    if pts.shape[1] == 1:
        ax.hist(pts[:, 0], bins=kw.pop("bins", 40), density=True, alpha=0.5, label="points", **kw)
        if basis is not None:
            x, qw = basis.measure.quadrature(400)
            xs = np.linspace(float(pts.min()), float(pts.max()), 400)
            meas = basis.measure
            pdf = getattr(meas, "factors", [meas])[0]
            t = pdf.to_standard(xs)
            dens = pdf.std_pdf(t) / pdf.scale * basis.christoffel(xs.reshape(-1, 1)) / basis.m
            ax.plot(xs, dens, "k-", lw=1.5, label=r"$K_m/m\cdot\mu$")
            ax.legend()
        ax.set_xlabel("$x$")
        ax.set_ylabel("density")
        return ax
    sizes = 12.0 if w is None else 12.0 * np.asarray(w) / np.mean(w)
    ax.scatter(pts[:, 0], pts[:, 1], s=sizes, alpha=0.7, **kw)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_aspect("equal", adjustable="datalim")
    return ax


def plot_error_curves(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    ax: Any = None,
    xlabel: str = "$n/m$",
    ylabel: str = r"$\|f-\hat f\| / \|f-P_mf\|$",
    logy: bool = True,
) -> Any:
    r"""Plot one curve per method, e.g. the error ratio against :math:`n/m`.

    Parameters
    ----------
    curves : mapping
        ``curves[name] = (x values, y values)``, one line per name.
    ax : matplotlib Axes, optional
        Axes to draw on (a new figure by default).
    xlabel, ylabel : str
        Axis labels.
    logy : bool, default True
        Logarithmic y axis.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from sciddm.leastsquares import plot_error_curves
    >>> ax = plot_error_curves({"iid": ([1, 2, 4], [30.0, 3.0, 1.5])})
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['iid']
    """
    if not isinstance(curves, Mapping):
        raise ValueError(f"`curves` must be a dict name -> (x, y), got {type(curves).__name__}")
    data = {}
    for name, xy in curves.items():
        if not (isinstance(xy, (tuple, list)) and len(xy) == 2):
            raise ValueError(f"`curves[{name!r}]` must be a pair (x values, y values)")
        x = check_array(xy[0], f"curves[{name!r}][0]", ndim=1, finite=False)
        y = check_array(xy[1], f"curves[{name!r}][1]", ndim=1, shape=(x.size,), finite=False)
        data[name] = (x, y)
    ax = get_ax(ax)
    for name, (x, y) in data.items():
        ax.plot(x, y, "o-", label=name, ms=4)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    return ax
