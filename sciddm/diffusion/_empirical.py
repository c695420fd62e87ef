"""The exact optimal denoiser of a finite training set (a mixture of point masses)."""

from __future__ import annotations

from typing import Any

import torch

from sciddm._core.validation import check_int
from sciddm.diffusion._gaussian import _data_iv, _in, _sigma_col

__all__ = ["EmpiricalDenoiser"]


class EmpiricalDenoiser:
    r"""The exact denoiser of a finite training set (a mixture of point masses).

    .. math::

        D(x, \sigma) = \sum_i w_i x_i,\qquad
        w = \operatorname{softmax}_i\Big(-\frac{\|x - x_i\|^2}{2\sigma^2}\Big),

    the posterior mean when the data law is the empirical measure
    :math:`\frac1N\sum_i \delta_{x_i}`, i.e. the minimiser of the denoising loss
    on the training set itself. Its probability-flow ODE ends on training
    points (it memorises). At :math:`\sigma = 0` it returns the limit, the
    nearest training point.

    Parameters
    ----------
    data : array_like or torch.Tensor, shape (N, ...)
        Training points (flattened to ``(N, d)``).
    chunk_size : int, default 4096
        Training points processed at once. Memory is
        :math:`O(\text{batch}\cdot\text{chunk} + \text{batch}\cdot d)`; an
        :math:`N \times \text{batch} \times d` tensor is never formed.
    compute_dtype : torch.dtype, default torch.float64
        Precision of the distance and log-sum-exp computation (results are cast
        back to the input's dtype).

    Attributes
    ----------
    n, dim : int
        Training points and their dimension.

    Notes
    -----
    Distances use :math:`\|x - x_i\|^2 = \|x\|^2 - 2 x\cdot x_i + \|x_i\|^2` (a
    matrix product per chunk) and the weights an online (streaming)
    log-sum-exp: with running maximum :math:`m`, normaliser :math:`Z` and
    numerator :math:`S`, a chunk with logits :math:`l` updates
    :math:`m' = \max(m, \max l)`, :math:`Z' = Z e^{m - m'} + \sum e^{l - m'}`,
    :math:`S' = S e^{m - m'} + \sum e^{l - m'} x_i`. The result is exact (no
    truncation) and finite for every :math:`\sigma \ge 0`.

    References
    ----------
    .. [1] Karras et al. 2022, eq. (57) (ideal denoiser of a finite dataset);
       Wang & Vastola, TMLR 2024, Sec. 5.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.diffusion import EmpiricalDenoiser
    >>> D = EmpiricalDenoiser(np.array([[0.0], [2.0]]))
    >>> D.denoise(np.array([[1.0], [1.9]]), 0.01).round(6)
    array([[1.],
           [2.]])
    """

    def __init__(self, data: Any, *, chunk_size: int = 4096, compute_dtype: Any = torch.float64):
        if not isinstance(compute_dtype, torch.dtype) or not compute_dtype.is_floating_point:
            raise TypeError(
                f"`compute_dtype` must be a floating torch.dtype, got {compute_dtype!r}"
            )
        if isinstance(data, torch.Tensor) and data.is_floating_point() and data.ndim >= 2:
            if not bool(torch.isfinite(data).all()):
                raise ValueError("`data` must not contain NaN or inf")
            if data.shape[0] < 1:
                raise ValueError("`data` must hold at least one point")
            X = data.detach().reshape(data.shape[0], -1)
        else:
            X = torch.as_tensor(_data_iv(data, "data", min_rows=1))
        self.chunk_size = check_int(chunk_size, "chunk_size", lo=1, hi=2**31)
        self.compute_dtype = compute_dtype
        self.data = X.to(compute_dtype)
        self.n, self.dim = self.data.shape
        self._norms = (self.data**2).sum(1)

    def __repr__(self) -> str:
        return f"EmpiricalDenoiser(n={self.n}, dim={self.dim})"

    def to(self, device: Any) -> EmpiricalDenoiser:
        """Move the training set to ``device`` (in place); returns self."""
        self.data = self.data.to(device)
        self._norms = self._norms.to(device)
        return self

    def _stream(self, xf: torch.Tensor, sigma: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (D, log of the max weight) for flattened queries."""
        dev = self.data.device
        x = xf.to(device=dev, dtype=self.compute_dtype)
        s = _sigma_col(sigma, x)  # (B, 1)
        zero = (s**2)[:, 0] == 0  # sigma = 0, or so small that its square underflows
        s2 = torch.where(zero[:, None], 1.0, s**2)  # those rows are replaced below
        xn = (x**2).sum(1, keepdim=True)
        B = x.shape[0]
        m = torch.full((B, 1), -torch.inf, device=dev, dtype=self.compute_dtype)
        Z = torch.zeros((B, 1), device=dev, dtype=self.compute_dtype)
        S = torch.zeros((B, self.dim), device=dev, dtype=self.compute_dtype)
        lmax = torch.full((B, 1), -torch.inf, device=dev, dtype=self.compute_dtype)
        for a in range(0, self.n, self.chunk_size):
            Xc = self.data[a : a + self.chunk_size]
            d2 = (xn - 2.0 * x @ Xc.T + self._norms[a : a + self.chunk_size][None]).clamp_min(0)
            logits = -d2 / (2.0 * s2)
            cm = logits.max(1, keepdim=True).values
            lmax = torch.maximum(lmax, cm)
            m_new = torch.maximum(m, cm)
            scale = torch.exp(m - m_new)
            e = torch.exp(logits - m_new)
            Z = Z * scale + e.sum(1, keepdim=True)
            S = S * scale + e @ Xc
            m = m_new
        D, lw = S / Z, lmax - m - torch.log(Z)
        if bool(zero.any()):  # the limit sigma -> 0: the nearest training point, weight 1
            D[zero] = self.data[self._nearest(x[zero])]
            lw[zero] = 0.0
        return D, lw

    def _nearest(self, x: torch.Tensor) -> torch.Tensor:
        """Index of the nearest training point of each row (chunked)."""
        best = torch.full((x.shape[0],), torch.inf, device=x.device, dtype=x.dtype)
        idx = torch.zeros(x.shape[0], dtype=torch.long, device=x.device)
        xn = (x**2).sum(1, keepdim=True)
        for a in range(0, self.n, self.chunk_size):
            Xc = self.data[a : a + self.chunk_size]
            d2 = xn - 2.0 * x @ Xc.T + self._norms[a : a + self.chunk_size][None]
            v, i = d2.min(1)
            better = v < best
            best = torch.where(better, v, best)
            idx = torch.where(better, i + a, idx)
        return idx

    def denoise(self, x: Any, sigma: Any) -> Any:
        """The posterior mean ``E[x_0 | x_sigma = x]`` under the empirical measure."""
        xf, out = _in(x, self.dim)
        D, _ = self._stream(xf, sigma)
        return out(D.to(device=xf.device, dtype=xf.dtype))

    __call__ = denoise

    def score(self, x: Any, sigma: Any) -> Any:
        """``(D(x, sigma) - x) / sigma^2``."""
        xf, out = _in(x, self.dim)
        s = _sigma_col(sigma, xf)
        return out((self.denoise(xf, sigma) - xf) / s**2)

    def max_weight(self, x: Any, sigma: Any) -> Any:
        """Largest posterior weight ``max_i w_i`` (1 means the point is memorised)."""
        xf, _ = _in(x, self.dim)
        _, lw = self._stream(xf, sigma)
        w = torch.exp(lw).reshape(-1)
        return w.cpu().numpy() if not isinstance(x, torch.Tensor) else w.to(xf.device)
