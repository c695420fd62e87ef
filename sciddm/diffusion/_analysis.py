"""Analysis of trained denoisers: Gaussian explained variance and memorisation."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from sciddm._core.results import Result
from sciddm._core.rng import SeedLike, torch_generator
from sciddm._core.validation import check_array, check_int, check_scalar
from sciddm.diffusion._gaussian import _data_iv

__all__ = [
    "ExplainedVarianceResult",
    "MemorizationResult",
    "explained_variance",
    "memorization",
    "nearest_neighbor_distances",
]


@dataclasses.dataclass(frozen=True, repr=False)
class ExplainedVarianceResult(Result):
    """Fraction of a denoiser's output variance explained by reference denoisers.

    Attributes
    ----------
    sigmas : numpy.ndarray, shape (S,)
    names : list of str
        Reference names.
    ev : numpy.ndarray, shape (R, S)
        Explained variance of reference ``r`` at ``sigmas[s]`` (see
        :func:`explained_variance`).
    mse : numpy.ndarray, shape (R, S)
        ``E||D - D_r||^2`` per dimension.
    target : str
        ``"score"`` or ``"denoiser"``.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.diffusion import explained_variance, fit_gaussian
    >>> X = np.random.default_rng(0).normal(size=(200, 2))
    >>> r = explained_variance(fit_gaussian(X), {"gaussian": fit_gaussian(X)}, X, [1.0], n=50, rng=0)
    >>> r.names, r.ev.shape
    (['gaussian'], (1, 1))
    """

    sigmas: np.ndarray
    names: list[str]
    ev: np.ndarray
    mse: np.ndarray
    target: str

    def plot(self, ax: Any = None) -> Any:
        """Explained variance against sigma (log axis), one line per reference."""
        from sciddm._core.plotting import get_ax

        ax = get_ax(ax)
        for name, row in zip(self.names, self.ev):
            ax.semilogx(self.sigmas, row, marker="o", label=name)
        ax.set_xlabel("noise level sigma")
        ax.set_ylabel(f"explained variance ({self.target})")
        ax.set_ylim(min(0.0, float(np.nanmin(self.ev))), 1.02)
        ax.legend()
        return ax


@torch.no_grad()
def explained_variance(
    denoiser: Callable[..., Any],
    references: Mapping[str, Any],
    data: Any,
    sigmas: Any,
    *,
    n: int = 1000,
    batch_size: int = 1000,
    target: str = "score",
    rng: SeedLike = None,
    dtype: Any = torch.float32,
    device: Any = "cpu",
) -> ExplainedVarianceResult:
    r"""How much of ``denoiser``'s output the reference (e.g. Gaussian) denoisers explain.

    Parameters
    ----------
    denoiser : callable
        The (trained) denoiser ``D(x, sigma)``.
    references : dict of callables
        Reference denoisers by name (e.g. ``{"gaussian": fit_gaussian(X), ...}``).
    data : array_like, shape (N, ...)
        Clean points ``x_0``; noisy inputs are ``x_0 + sigma z``.
    sigmas : sequence of float
        Noise levels.
    n : int, default 1000
        Noisy inputs per level (``x_0`` drawn with replacement).
    batch_size : int, default 1000
        Inputs per denoiser call.
    target : {"score", "denoiser"}, default "score"
        Whose variance is explained: the score ``(D - x)/sigma^2`` (as in the paper) or
        the denoiser output ``D``.
    rng : numpy.random.Generator, int or None
    dtype, device
        Of the inputs given to the denoisers.

    Returns
    -------
    ExplainedVarianceResult

    Notes
    -----
    Over :math:`x = x_0 + \sigma z`, for the score target

    .. math::

        EV_r(\sigma) = 1 - \frac{E\|s(x) - s_r(x)\|^2}{E\|s(x) - E s\|^2}
        = 1 - \frac{E\|D - D_r\|^2}{E\|(D - x) - E(D - x)\|^2},
        \qquad s = \frac{D - x}{\sigma^2}

    (the :math:`1/\sigma^2` cancels); for the denoiser target the denominator is
    :math:`E\|D - E D\|^2`. It is 1 when the reference reproduces the network
    and 0 when it does no better than a constant. At high noise the denoiser
    output barely varies (:math:`\operatorname{Var} D = O(\sigma^{-2})`), so
    the denoiser-target EV magnifies small network errors there; the score
    target does not.

    References
    ----------
    .. [1] Wang & Vastola, TMLR 2024, Sec. 4 and Fig. 2 (fraction of the learned
       denoiser's variance explained by the Gaussian model versus noise level).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.diffusion import explained_variance, fit_gaussian
    >>> X = np.random.default_rng(0).normal(size=(500, 2))
    >>> g = fit_gaussian(X)
    >>> r = explained_variance(g, {"gaussian": g}, X, [0.5, 5.0], n=200, rng=0)
    >>> r.ev
    array([[1., 1.]])
    """
    if not callable(denoiser):
        raise TypeError(f"`denoiser` must be a callable D(x, sigma), got {type(denoiser).__name__}")
    X = _data_iv(data, "data", min_rows=1)
    sig = check_array(sigmas, "sigmas", ndim=1, min_rows=1)
    if np.any(sig <= 0) or np.any(sig > 1e100):
        raise ValueError("`sigmas` must be positive noise levels (at most 1e100)")
    n = check_int(n, "n", lo=2, hi=10**7)
    batch_size = check_int(batch_size, "batch_size", lo=1, hi=10**7)
    from sciddm._core.validation import check_choice

    target = check_choice(target, "target", ("score", "denoiser"))
    if not isinstance(references, Mapping) or not references:
        raise TypeError("`references` must be a non-empty dict {name: denoiser}")
    for key, ref in references.items():
        if not callable(ref):
            raise TypeError(f"`references[{key!r}]` must be a callable, got {type(ref).__name__}")
    shape = np.asarray(data).shape[1:] if not isinstance(data, torch.Tensor) else data.shape[1:]
    gen = torch_generator(rng, "cpu")
    Xt = torch.as_tensor(X)
    names = list(references)
    ev = np.zeros((len(names), sig.size))
    mse = np.zeros_like(ev)
    for j, s in enumerate(sig):
        idx = torch.randint(0, X.shape[0], (n,), generator=gen)
        x = Xt[idx] + float(s) * torch.randn(n, X.shape[1], generator=gen, dtype=Xt.dtype)
        x = x.to(device=device, dtype=dtype).reshape(n, *shape)
        outs: dict[str, list[torch.Tensor]] = {k: [] for k in ["__d", "__x", *names]}
        for a in range(0, n, batch_size):
            xb = x[a : a + batch_size]
            sb = torch.full((xb.shape[0],), float(s), device=device, dtype=dtype)
            outs["__d"].append(torch.as_tensor(denoiser(xb, sb)).reshape(xb.shape[0], -1).double())
            outs["__x"].append(xb.reshape(xb.shape[0], -1).double())
            for k in names:
                outs[k].append(
                    torch.as_tensor(references[k](xb, sb)).reshape(xb.shape[0], -1).double()
                )
        D = torch.cat(outs["__d"]).cpu()
        V = D - torch.cat(outs["__x"]).cpu() if target == "score" else D
        var = ((V - V.mean(0)) ** 2).sum(1).mean()
        for r, k in enumerate(names):
            err = ((D - torch.cat(outs[k]).cpu()) ** 2).sum(1).mean()
            ev[r, j] = float(1 - err / var)
            mse[r, j] = float(err) / D.shape[1]
    return ExplainedVarianceResult(sigmas=sig, names=names, ev=ev, mse=mse, target=target)


def nearest_neighbor_distances(
    samples: Any, train: Any, *, k: int = 2, chunk_size: int = 4096
) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean distances and indices of the ``k`` nearest training points of each sample.

    Chunked over the training set (memory ``O(n_samples * chunk_size)``).

    Parameters
    ----------
    samples : array_like of shape (m, ...)
        Query points (flattened to vectors).
    train : array_like of shape (n, ...)
        Training points, with the same number of entries per point.
    k : int, default 2
        Neighbours, ``1 <= k <= n``.
    chunk_size : int, default 4096
        Training points compared at once.

    Returns
    -------
    dist, idx : numpy.ndarray, shape (n_samples, k)
        Sorted ascending.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.diffusion import nearest_neighbor_distances
    >>> d, i = nearest_neighbor_distances([[0.0], [2.9]], [[0.0], [1.0], [3.0]])
    >>> d.round(3), i
    (array([[0. , 1. ],
           [0.1, 1.9]]), array([[0, 1],
           [2, 1]]))
    """
    S = torch.as_tensor(_data_iv(samples, "samples", min_rows=1))
    T = torch.as_tensor(_data_iv(train, "train", min_rows=1))
    if S.shape[1] != T.shape[1]:
        raise ValueError(
            f"`samples` and `train` must have the same dimension, got {S.shape[1]} and {T.shape[1]}"
        )
    k = check_int(k, "k", lo=1, hi=T.shape[0])
    chunk_size = check_int(chunk_size, "chunk_size", lo=1, hi=2**31)
    sn = (S**2).sum(1, keepdim=True)
    best_d = torch.full((S.shape[0], 0), 0.0, dtype=S.dtype)
    best_i = torch.zeros((S.shape[0], 0), dtype=torch.long)
    for a in range(0, T.shape[0], chunk_size):
        Tc = T[a : a + chunk_size]
        d2 = (sn - 2 * S @ Tc.T + (Tc**2).sum(1)[None]).clamp_min(0)
        dd = torch.cat([best_d, d2], 1)
        ii = torch.cat([best_i, torch.arange(a, a + Tc.shape[0]).expand(S.shape[0], -1)], 1)
        kk = min(k, dd.shape[1])
        best_d, pos = dd.topk(kk, dim=1, largest=False)
        best_i = ii.gather(1, pos)
    return best_d.sqrt().numpy(), best_i.numpy()


@dataclasses.dataclass(frozen=True, repr=False)
class MemorizationResult(Result):
    """Nearest-training-neighbour memorisation statistics of generated samples.

    Returned by :func:`memorization`.

    Attributes
    ----------
    d1, d2 : numpy.ndarray
        Distances to the nearest and second-nearest training points.
    ratio : numpy.ndarray
        ``d1 / d2``.
    fraction : float
        Fraction of samples with ``ratio < threshold`` (memorised copies).
    threshold : float
        The ratio below which a sample counts as a copy.
    nearest : numpy.ndarray
        Index of each sample's nearest training point.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.diffusion import memorization
    >>> r = memorization([[0.0, 0.01]], [[0.0, 0.0], [1.0, 0.0]])
    >>> r.fraction, r.nearest.tolist()
    (1.0, [0])
    """

    d1: np.ndarray
    d2: np.ndarray
    ratio: np.ndarray
    fraction: float
    threshold: float
    nearest: np.ndarray


def memorization(samples: Any, train: Any, *, threshold: float = 1 / 3) -> MemorizationResult:
    r"""Flag samples that copy a training point: :math:`d_1/d_2 <` ``threshold``.

    :math:`d_1` and :math:`d_2` are the distances of a sample to its nearest
    and second-nearest training points.

    Parameters
    ----------
    samples : array_like of shape (m, ...)
        Generated samples.
    train : array_like of shape (n, ...)
        Training set, ``n >= 2``.
    threshold : float, default 1/3
        Ratio in (0, 1] below which a sample is a copy.

    Returns
    -------
    MemorizationResult

    References
    ----------
    .. [1] Yoon et al., "Diffusion probabilistic models generalize when they fail to
       memorize", 2023; Gu et al., "On memorization in diffusion models", 2023
       (the 1/3 ratio criterion).

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.diffusion import memorization
    >>> train = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> memorization([[0.01, 0.0], [0.5, 0.5]], train).fraction
    0.5
    """
    threshold = check_scalar(threshold, "threshold", lo=0.0, hi=1.0, closed="right")
    d, i = nearest_neighbor_distances(samples, train, k=2)
    ratio = d[:, 0] / np.maximum(d[:, 1], 1e-300)
    return MemorizationResult(
        d1=d[:, 0],
        d2=d[:, 1],
        ratio=ratio,
        fraction=float(np.mean(ratio < threshold)),
        threshold=threshold,
        nearest=i[:, 0],
    )
