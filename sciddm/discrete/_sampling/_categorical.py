"""Per-row random streams and exact categorical sampling.

A masked-diffusion sampler draws, at every step, one categorical variable per
masked position. Two details decide whether the samples are exactly the ones
the model defines, and whether they are reproducible:

* **Precision.** Gumbel-max sampling in float32 (the implementation of MDLM)
  draws uniforms on the grid ``k * 2**-24``; the Gumbel noise
  ``-log(-log u)`` is then bounded above, and a category whose probability is
  below roughly ``2**-24`` times that of the winner can never win. Over many
  steps this lowers the effective temperature (Zheng et al. 2024, Sec. 4).
  :func:`categorical` samples by inverse CDF with float64 uniforms (53 random
  bits) by default, and keeps the float32 Gumbel path to demonstrate the bias.
* **Per-row streams.** :class:`RowGenerator` gives every row (sample) its own
  counter-based stream: the ``j``-th number of the ``c``-th draw of row ``i``
  is a SplitMix64 hash of ``(seed_i, c, j)``. A sample therefore depends only
  on its seed, never on the batch it is drawn in or on the device (the hash
  is integer arithmetic, identical on CPU and GPU).

References
----------
.. [1] K. Zheng, Y. Chen, H. Mao, M.-Y. Liu, J. Zhu, Q. Zhang, "Masked
   diffusion models are secretly time-agnostic masked models and exploit
   inaccurate categorical sampling", arXiv:2409.02908 (2024), Sec. 4.
.. [2] G. L. Steele, D. Lea, C. H. Flood, "Fast splittable pseudorandom number
   generators", OOPSLA 2014 (SplitMix64).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from sciddm._core.rng import (
    UNSET,
    RNGLike,
    as_generator,
    as_torch_generator,
    check_rng,
    renamed_rng,
)
from sciddm._core.validation import check_choice, check_int

__all__ = [
    "RowGenerator",
    "categorical",
    "draw_seeds",
    "gumbel_argmax32",
    "gumbel_norm32",
    "inverse_cdf",
]

_U64 = 1 << 64


def _signed(c: int) -> int:
    return c - _U64 if c >= 1 << 63 else c


_GOLDEN = _signed(0x9E3779B97F4A7C15)
_M1 = _signed(0xBF58476D1CE4E5B9)
_M2 = _signed(0x94D049BB133111EB)
_PRECISIONS = ("float64", "float32")


def _mix64(z: torch.Tensor) -> torch.Tensor:
    """SplitMix64 finaliser on int64 tensors (arithmetic modulo 2**64)."""
    z = z ^ ((z >> 30) & ((1 << 34) - 1))
    z = z * _M1
    z = z ^ ((z >> 27) & ((1 << 37) - 1))
    z = z * _M2
    return z ^ ((z >> 31) & ((1 << 33) - 1))


def _mix64_int(z: int) -> int:
    """SplitMix64 finaliser on a Python int in [0, 2**64)."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % _U64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % _U64
    return z ^ (z >> 31)


def _mix64_numpy(z: np.ndarray) -> np.ndarray:
    """Reference SplitMix64 finaliser in uint64 (used by the tests)."""
    z = np.asarray(z, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = z ^ (z >> np.uint64(30))
        z = z * np.uint64(0xBF58476D1CE4E5B9)
        z = z ^ (z >> np.uint64(27))
        z = z * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


class RowGenerator:
    """Independent, counter-based random streams, one per row (sample).

    Parameters
    ----------
    seeds : sequence of int
        One non-negative seed (< 2**63) per row.
    device : str or torch.device, default "cpu"
        Device of the drawn tensors. The numbers do not depend on it.

    Notes
    -----
    The ``c``-th call of :meth:`uniform` (``c = 0, 1, ...``, shared by all
    rows) draws for row ``i`` and word ``j`` the 64-bit integer
    ``h = mix(mix(k_i ^ mix(c + g)) + (j + 1) g)`` where ``k_i = mix(seed_i + g)``,
    ``g`` is the golden-ratio constant and ``mix`` the SplitMix64 finaliser
    (arithmetic modulo 2**64). A float64 uniform uses the top 53 bits of its
    word (``j`` = row-major element index), ``((h >> 11) + 0.5) 2**-53`` in
    (0, 1); float32 uniforms take two 24-bit fields of one word (elements
    ``2w`` and ``2w + 1`` of each vector along the last axis), ``k 2**-24`` in
    [0, 1), the grid of ``torch.rand``. Hence row
    ``i`` depends only on ``seed_i`` and on the sequence of shapes requested,
    which the samplers keep identical for every row.

    Examples
    --------
    >>> from sciddm.discrete import RowGenerator
    >>> a = RowGenerator([7, 8]).uniform(3)
    >>> b = RowGenerator([5, 7]).uniform(3)
    >>> bool((a[0] == b[1]).all())       # row with seed 7, whatever its neighbours
    True
    >>> a.shape, a.dtype
    (torch.Size([2, 3]), torch.float64)
    """

    def __init__(self, seeds: Sequence[int] | np.ndarray | torch.Tensor, device: Any = "cpu"):
        arr = np.asarray(
            seeds.cpu().numpy() if isinstance(seeds, torch.Tensor) else seeds, dtype=object
        ).ravel()
        vals = []
        for s in arr:
            if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer)):
                raise ValueError(f"`seeds` must be integers, got {s!r}")
            if not 0 <= int(s) < 1 << 63:
                raise ValueError(f"`seeds` must be in [0, 2**63), got {int(s)}")
            vals.append(int(s))
        try:
            self.device = torch.device(device)
        except (RuntimeError, TypeError) as exc:
            raise ValueError(f"`device` must be a torch device, got {device!r}") from exc
        self.seeds = np.asarray(vals, dtype=np.int64)
        base = torch.as_tensor(self.seeds, dtype=torch.int64, device=self.device)
        self._keys = _mix64(base + _GOLDEN)
        self.counter = 0

    @property
    def n_rows(self) -> int:
        """Number of rows (streams)."""
        return int(self._keys.shape[0])

    def __len__(self) -> int:
        return self.n_rows

    def __getitem__(self, rows: Any) -> RowGenerator:
        """Streams of a subset of rows, at the same counter (a view, not a copy)."""
        sub = RowGenerator.__new__(RowGenerator)
        sub.device = self.device
        idx = rows.cpu().numpy() if isinstance(rows, torch.Tensor) else rows
        sub.seeds = self.seeds[idx]
        sub._keys = self._keys[torch.as_tensor(idx, device=self.device)]
        sub.counter = self.counter
        return sub

    def _call_key(self) -> torch.Tensor:
        c = _signed(_mix64_int((self.counter + _GOLDEN) % _U64))
        self.counter += 1
        return _mix64(self._keys ^ c)

    def uniform(self, *shape: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """Uniforms of shape ``(n_rows, *shape)``; advances the shared counter.

        float64: 53 random bits, values in the open interval (0, 1).
        float32: 24 random bits, values ``k * 2**-24`` in [0, 1) like ``torch.rand``.
        """
        if dtype == torch.float64:  # fast path of uniform_where for all rows
            key = self._call_key()
            m = int(np.prod(shape)) if shape else 1
            e = torch.arange(1, m + 1, dtype=torch.int64, device=self.device) * _GOLDEN
            h = _mix64(key[:, None] + e)
            u = (((h >> 11) & ((1 << 53) - 1)).to(torch.float64) + 0.5) * 2.0**-53
            return u.reshape(self.n_rows, *shape)
        sel = torch.ones(self.n_rows, dtype=torch.bool, device=self.device)
        return self.uniform_where(sel, *shape, dtype=dtype).reshape(self.n_rows, *shape)

    def uniform_where(
        self, select: torch.Tensor, *trailing: int, dtype: torch.dtype = torch.float64
    ) -> torch.Tensor:
        """The entries ``[select]`` of ``uniform(*select.shape[1:], *trailing)``, computed alone.

        ``select`` is a boolean tensor of shape ``(n_rows, *prefix)``; the
        result has shape ``(select.sum(), *trailing)`` and equals
        ``self.uniform(*prefix, *trailing, dtype=dtype)[select]`` (the streams
        are counter-based, so unselected entries need not be computed).
        """
        if dtype not in (torch.float64, torch.float32):
            raise ValueError(f"`dtype` must be torch.float64 or torch.float32, got {dtype}")
        if select.shape[0] != self.n_rows:
            raise ValueError(f"`select` must have {self.n_rows} rows, got {tuple(select.shape)}")
        key = self._call_key()
        flat = select.reshape(self.n_rows, -1)
        rows, pre = flat.nonzero(as_tuple=True)
        tshape = tuple(int(s) for s in trailing)
        n_tr = int(np.prod(tshape)) if tshape else 1
        if dtype == torch.float64:
            e = pre[:, None] * n_tr + torch.arange(n_tr, device=self.device)
            h = _mix64(key[rows][:, None] + (e + 1) * _GOLDEN)
            u = (((h >> 11) & ((1 << 53) - 1)).to(torch.float64) + 0.5) * 2.0**-53
            return u.reshape(-1, *tshape)
        # float32: two 24-bit uniforms per 64-bit word, paired along the last axis
        v = tshape[-1] if tshape else 1
        n_vec = n_tr // v if v else 0
        half = (v + 1) // 2
        vec = pre[:, None] * n_vec + torch.arange(n_vec, device=self.device)
        w = vec[:, :, None] * half + torch.arange(half, device=self.device)
        h = _mix64(key[rows][:, None, None] + (w + 1) * _GOLDEN)
        hi = (h >> 40) & ((1 << 24) - 1)
        lo = (h >> 8) & ((1 << 24) - 1)
        u32 = torch.stack([hi, lo], -1).reshape(*h.shape[:2], 2 * half)[..., :v]
        return (u32.to(torch.float32) * 2.0**-24).reshape(-1, *tshape)

    @classmethod
    def from_rng(cls, n: int, *, rng: Any = None, device: Any = "cpu") -> RowGenerator:
        """``n`` streams whose seeds are drawn from ``rng`` (see :func:`draw_seeds`)."""
        return cls(draw_seeds(n, rng), device=device)

    def __repr__(self) -> str:
        return f"RowGenerator(n_rows={self.n_rows}, counter={self.counter}, device={self.device})"


def draw_seeds(n: int, rng: Any = None) -> np.ndarray:
    """``n`` seeds in [0, 2**63) drawn from ``rng``.

    ``rng`` is ``None``, an int, a :class:`numpy.random.Generator`, a
    :class:`torch.Generator`, or a list of ``n`` torch generators (seed ``i``
    is drawn from generator ``i``, so row ``i`` depends only on it).
    """
    n = check_int(n, "n", lo=0)
    check_rng(rng, per_row=True)
    if isinstance(rng, (list, tuple)):
        if len(rng) != n:
            raise ValueError(
                f"`rng` is a list of {len(rng)} torch generators; one per row needs {n}"
            )
        return np.array(
            [int(torch.randint(0, 2**62, (1,), generator=g, device=g.device)) for g in rng],
            dtype=np.int64,
        ).reshape(n)
    if isinstance(rng, torch.Generator):
        return torch.randint(0, 2**62, (n,), generator=rng, device=rng.device).cpu().numpy()
    return as_generator(rng).integers(0, 2**63 - 1, size=n, dtype=np.int64)


def inverse_cdf(probs: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Index ``i`` with ``F(i-1) <= u * F(V-1) < F(i)`` (float64, never a zero-probability one)."""
    p = probs.to(torch.float64)
    cdf = torch.cumsum(p, dim=-1)
    total = cdf[..., -1:]
    target = torch.minimum(
        u.to(torch.float64)[..., None] * total, torch.nextafter(total, 0 * total)
    )
    idx = torch.searchsorted(cdf.contiguous(), target.contiguous(), right=True)
    return idx[..., 0].clamp_max(p.shape[-1] - 1)


def gumbel_norm32(u: torch.Tensor) -> torch.Tensor:
    """MDLM's float32 exponential noise ``1e-10 - log(u + 1e-10)`` for u on the 2**-24 grid."""
    u = u.to(torch.float32)
    return 1e-10 - (u + 1e-10).log()


def gumbel_argmax32(probs: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """MDLM's float32 Gumbel-max: ``argmax(p / (1e-10 - log(u + 1e-10)))``."""
    return (probs.to(torch.float32) / gumbel_norm32(u)).argmax(dim=-1)


def categorical(
    probs: torch.Tensor,
    *,
    rng: RowGenerator | RNGLike = None,
    precision: str = "float64",
    generator: Any = UNSET,
) -> torch.Tensor:
    """Draw one index per row of non-negative, possibly unnormalised, ``probs``.

    Parameters
    ----------
    probs : Tensor of shape (n, ..., V)
        Non-negative weights; each slice along the last axis must have a
        positive sum. They need not be normalised.
    rng : RowGenerator, torch.Generator, numpy.random.Generator, int or None
        A :class:`RowGenerator` with ``n`` rows (row ``i`` of ``probs`` uses
        stream ``i``: reproducible per sample); otherwise one stream for the
        whole tensor: a :class:`torch.Generator` on ``probs``' device is used
        in place, an int or a numpy generator seeds one, ``None`` draws fresh
        entropy.
    precision : {"float64", "float32"}
        ``"float64"``: inverse CDF with a float64 uniform of 53 random bits
        (exact up to a relative 2**-53). ``"float32"``: Gumbel-max with float32
        uniforms as in MDLM, which under-samples categories whose weight is
        below about 2**-24 times that of the winner.
    generator : optional
        Deprecated spelling of ``rng``.

    Returns
    -------
    Tensor of int64, shape ``probs.shape[:-1]``

    Notes
    -----
    Inverse CDF: with ``F`` the cumulative sum, the draw is the first ``i``
    with ``F(i) > u F(V-1)``, ``u ~ U(0, 1)``, so ``P(i) = p_i / sum(p)``.
    Gumbel-max: ``argmax_i p_i / E_i`` with ``E_i = -log u_i`` i.i.d.
    exponential, equivalently ``argmax_i log p_i + G_i`` with Gumbel ``G_i``.

    References
    ----------
    .. [1] Zheng et al. (2024), arXiv:2409.02908, Sec. 4 and Thm 4.1.

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import RowGenerator, categorical
    >>> p = torch.tensor([[0.0, 1.0, 3.0]]).expand(2000, 3)
    >>> x = categorical(p, rng=RowGenerator(range(2000)))
    >>> int((x == 0).sum()), round(float((x == 2).float().mean()), 1)
    (0, 0.8)
    """
    rng = renamed_rng(rng, generator, "generator", func="categorical")
    if not isinstance(rng, RowGenerator):
        check_rng(rng, torch_ok=True)
    check_choice(precision, "precision", _PRECISIONS)
    if not isinstance(probs, torch.Tensor):
        probs = torch.as_tensor(probs)
    if probs.ndim < 1 or probs.shape[-1] < 1:
        raise ValueError(f"`probs` must have a non-empty last axis, got shape {tuple(probs.shape)}")
    pf = probs.to(torch.float64)
    if not torch.isfinite(pf).all() or (pf < 0).any():
        raise ValueError("`probs` must be finite and non-negative")
    if (pf.sum(-1) <= 0).any():
        raise ValueError("`probs` must have a positive sum in every row")
    if isinstance(rng, RowGenerator):
        if probs.ndim < 2 or rng.n_rows != probs.shape[0]:
            raise ValueError(
                f"`rng` has {rng.n_rows} rows but `probs` has shape "
                f"{tuple(probs.shape)}; the first axis must index the rows"
            )
        if precision == "float64":
            u = rng.uniform(*probs.shape[1:-1]).to(probs.device)
        else:
            u = rng.uniform(*probs.shape[1:], dtype=torch.float32).to(probs.device)
    else:
        gen = as_torch_generator(rng, probs.device)
        shape = probs.shape[:-1] if precision == "float64" else probs.shape
        dt = torch.float64 if precision == "float64" else torch.float32
        u = torch.rand(shape, generator=gen, dtype=dt, device=probs.device)
        if precision == "float64":
            u = u.clamp_min(2.0**-54)
    if precision == "float64":
        return inverse_cdf(pf, u)
    return gumbel_argmax32(probs, u)
