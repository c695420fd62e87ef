"""Reproducible randomness (SPEC 7).

Every stochastic function in sciddm takes a keyword-only ``rng`` that may be a
:class:`numpy.random.Generator`, an integer seed or ``None``; it is normalised
by :func:`as_generator`. There is no global state. Parallel work draws one
child generator per task with :func:`spawn`, so results do not depend on the
number of workers. Torch code takes a :class:`torch.Generator`, which
:func:`torch_generator` derives from the same ``rng``.

References
----------
.. [1] Scientific Python SPEC 7, "Seeding pseudo-random number generation",
   https://scientific-python.org/specs/spec-0007/
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import torch

SeedLike = np.random.Generator | int | np.integer | None

__all__ = ["SeedLike", "as_generator", "seed_from", "spawn", "torch_generator"]


def as_generator(rng: SeedLike = None) -> np.random.Generator:
    """Normalise ``rng`` to a :class:`numpy.random.Generator`.

    Parameters
    ----------
    rng : numpy.random.Generator, int or None
        A generator is returned unchanged (so its state advances for the
        caller); an integer seeds a fresh PCG64 generator; ``None`` draws fresh
        entropy from the operating system.

    Returns
    -------
    numpy.random.Generator

    Examples
    --------
    >>> from sciddm._core.rng import as_generator
    >>> g = as_generator(0)
    >>> float(g.random()) == float(as_generator(0).random())
    True
    >>> as_generator(g) is g
    True
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        if rng is not None and int(rng) < 0:
            raise ValueError(f"`rng` seed must be a non-negative integer, got {rng}")
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.RandomState):
        raise TypeError(
            "`rng` must be a numpy.random.Generator, an int or None; the legacy "
            "RandomState is not supported: use numpy.random.default_rng(seed)"
        )
    raise TypeError(
        f"`rng` must be a numpy.random.Generator, an int or None, got {type(rng).__name__}"
    )


def spawn(rng: SeedLike, n: int) -> list[np.random.Generator]:
    """Return ``n`` independent child generators of ``rng``.

    Children are derived with :meth:`numpy.random.Generator.spawn`, i.e. from
    the parent's :class:`~numpy.random.SeedSequence`, so child ``i`` is the same
    whatever the worker that consumes it.

    Examples
    --------
    >>> from sciddm._core.rng import spawn
    >>> a = [float(g.random()) for g in spawn(1, 3)]
    >>> b = [float(g.random()) for g in spawn(1, 3)]
    >>> a == b and len(set(a)) == 3
    True
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"`n` must be a non-negative integer, got {n!r}")
    return list(as_generator(rng).spawn(int(n)))


def seed_from(rng: SeedLike) -> int:
    """Draw a 63-bit integer seed from ``rng`` (for libraries that want an int)."""
    return int(as_generator(rng).integers(0, 2**63 - 1))


def torch_generator(rng: SeedLike = None, device: Any = "cpu") -> torch.Generator:
    """A :class:`torch.Generator` on ``device`` seeded from ``rng``.

    Parameters
    ----------
    rng : numpy.random.Generator, int or None
        Source of the seed. An ``int`` gives the same torch stream every time.
    device : str or torch.device, default "cpu"
        Device of the generator; it must match the device of the tensors it
        draws (``torch.randn(..., generator=g, device=device)``).

    Examples
    --------
    >>> import torch
    >>> from sciddm._core.rng import torch_generator
    >>> a = torch.randn(2, generator=torch_generator(3))
    >>> b = torch.randn(2, generator=torch_generator(3))
    >>> bool(torch.equal(a, b))
    True
    """
    import torch

    g = torch.Generator(device=torch.device(device))
    g.manual_seed(seed_from(rng))
    return g
