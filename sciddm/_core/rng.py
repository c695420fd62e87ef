"""Reproducible randomness: the random-source contract of sciddm.

The contract
------------
1. **One name.** Every public function or constructor that draws random numbers
   takes one keyword-only argument, ``rng``. No public parameter is called
   ``generator``, ``seed`` or ``random_state`` (scikit-learn estimators'
   constructors keep ``random_state``, their own convention; per-sample seed
   lists such as ``discrete.sample(seeds=...)`` are data, not a random source,
   and are documented where they appear).
2. **What it accepts** (SPEC 7 [1]_): ``None`` (fresh entropy from the operating
   system), an ``int`` (a fresh stream seeded by it), or a
   :class:`numpy.random.Generator` (used and advanced in place). Where torch draws
   the numbers, a :class:`torch.Generator` is accepted too (used in place; it
   must live on the device of the draws), and where per-row streams exist a list
   of them, one per row. Anything else raises ``TypeError`` naming ``rng``.
3. **Normalise once**, at the top of the function: :func:`as_generator` for numpy
   draws, :func:`as_torch_generator` for torch draws, :func:`check_rng` to
   validate a value that is only passed on.
4. **No global state.** Nothing reads or reseeds numpy's or torch's global
   generators. Networks take ``rng`` for their initial weights
   (:func:`torch_init`), so that building and training a network twice with the
   same ``rng`` gives bit-identical weights. ``rng=None`` in a network
   constructor draws from torch's default generator, which is what
   :func:`torch.manual_seed` seeds.
5. **Parallel work** draws one child generator per task with :func:`spawn`, so
   results do not depend on the number of workers or the backend.
6. **Old spellings** (``generator=``, ``seed=``, ``random_state=`` in functions)
   keep working for one release through :func:`renamed_rng`, with a
   ``DeprecationWarning``.

References
----------
.. [1] Scientific Python SPEC 7, "Seeding pseudo-random number generation",
   https://scientific-python.org/specs/spec-0007/
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import torch

SeedLike = np.random.Generator | int | np.integer | None

__all__ = [
    "UNSET",
    "RNGLike",
    "SeedLike",
    "as_generator",
    "as_torch_generator",
    "check_rng",
    "renamed_rng",
    "seed_from",
    "spawn",
    "torch_generator",
    "torch_init",
]

#: What a function with a torch random source accepts (see the module's contract).
RNGLike = Any


class _Unset:
    """Sentinel of a deprecated keyword that was not passed."""

    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


#: Default of a deprecated keyword: distinguishes "not passed" from ``None``.
UNSET: Any = _Unset()


def _is_torch_generator(rng: Any) -> bool:
    return type(rng).__module__.startswith("torch") and type(rng).__name__ == "Generator"


def _type_error(rng: Any, torch_ok: bool, per_row: bool) -> TypeError:
    kinds = "a numpy.random.Generator, an int or None"
    if torch_ok:
        kinds = "a numpy.random.Generator, a torch.Generator, an int or None"
        if per_row:
            kinds += ", or a list of torch.Generator (one per row)"
    if isinstance(rng, np.random.RandomState):
        return TypeError(
            f"`rng` must be {kinds}; the legacy RandomState is not supported: "
            "use numpy.random.default_rng(seed)"
        )
    return TypeError(f"`rng` must be {kinds}, got {type(rng).__name__}")


def check_rng(rng: Any, *, torch_ok: bool = False, per_row: bool = False) -> Any:
    """Check that ``rng`` is an accepted random source and return it unchanged.

    Parameters
    ----------
    rng : object
        The value to check.
    torch_ok : bool, default False
        Whether a :class:`torch.Generator` is accepted (torch draws the numbers).
    per_row : bool, default False
        Whether a list or tuple of :class:`torch.Generator` is accepted (one
        per row); implies ``torch_ok``.

    Returns
    -------
    object
        ``rng``.

    Raises
    ------
    TypeError
        If ``rng`` is not an accepted type; the message names ``rng``.
    ValueError
        If ``rng`` is a negative integer.

    Examples
    --------
    >>> from sciddm._core.rng import check_rng
    >>> check_rng(3)
    3
    >>> check_rng("3")
    Traceback (most recent call last):
    ...
    TypeError: `rng` must be a numpy.random.Generator, an int or None, got str
    """
    torch_ok = torch_ok or per_row
    if rng is None or isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        if int(rng) < 0:
            raise ValueError(f"`rng` seed must be a non-negative integer, got {rng}")
        return rng
    if torch_ok and _is_torch_generator(rng):
        return rng
    if per_row and isinstance(rng, (list, tuple)) and all(_is_torch_generator(g) for g in rng):
        return rng
    raise _type_error(rng, torch_ok, per_row)


def renamed_rng(rng: Any, old: Any, old_name: str, *, func: str) -> Any:
    """Resolve a deprecated spelling of ``rng`` (``generator=``, ``seed=``, ...).

    Parameters
    ----------
    rng : object
        The value passed as ``rng`` (``None`` if not passed).
    old : object
        The value passed under the old name, or :data:`UNSET`.
    old_name : str
        The old keyword, e.g. ``"generator"``.
    func : str
        The public function's name, for the message.

    Returns
    -------
    object
        ``old`` (with a ``DeprecationWarning``) when it was passed, else ``rng``.

    Raises
    ------
    TypeError
        If both were passed.

    Examples
    --------
    >>> import warnings
    >>> from sciddm._core.rng import UNSET, renamed_rng
    >>> renamed_rng(1, UNSET, "seed", func="f")
    1
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     renamed_rng(None, 5, "seed", func="f"), w[0].category.__name__
    (5, 'DeprecationWarning')
    """
    if old is UNSET:
        return rng
    if rng is not None:
        raise TypeError(f"{func}() got both `rng` and its deprecated spelling `{old_name}`")
    warnings.warn(
        f"`{old_name}` is deprecated in {func}() and will be removed in the next release; "
        "pass `rng` instead",
        DeprecationWarning,
        stacklevel=3,
    )
    return old


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


def as_torch_generator(rng: RNGLike = None, device: Any = "cpu") -> torch.Generator:
    """Normalise ``rng`` to a :class:`torch.Generator` on ``device``.

    A :class:`torch.Generator` is returned unchanged (it must live on
    ``device``'s type); ``None``, an ``int`` or a numpy generator seed a new one
    with :func:`torch_generator`.

    Parameters
    ----------
    rng : None, int, numpy.random.Generator or torch.Generator
        The random source.
    device : str or torch.device, default "cpu"
        Device of the draws.

    Returns
    -------
    torch.Generator

    Raises
    ------
    TypeError
        If ``rng`` is of another type.
    ValueError
        If a torch generator lives on another device type than ``device``.

    Examples
    --------
    >>> import torch
    >>> from sciddm._core.rng import as_torch_generator
    >>> g = torch.Generator().manual_seed(0)
    >>> as_torch_generator(g) is g
    True
    >>> a = torch.rand(2, generator=as_torch_generator(7))
    >>> bool(torch.equal(a, torch.rand(2, generator=as_torch_generator(7))))
    True
    """
    import torch

    check_rng(rng, torch_ok=True)
    dev = torch.device(device)
    if _is_torch_generator(rng):
        if rng.device.type != dev.type:
            raise ValueError(
                f"`rng` is a torch.Generator on {rng.device.type!r} but the draws are on "
                f"{dev.type!r}; pass a generator of that device or an int"
            )
        return rng
    return torch_generator(rng, dev)


@contextlib.contextmanager
def torch_init(rng: RNGLike = None) -> Iterator[None]:
    """Context in which torch's CPU default generator is seeded from ``rng``.

    Build a network's layers inside it so that its initial weights depend only
    on ``rng``; torch's global generator state is restored on exit, so the
    caller's random stream is not touched. ``rng=None`` leaves torch's default
    generator as it is (seed it with :func:`torch.manual_seed`).

    Parameters
    ----------
    rng : None, int, numpy.random.Generator or torch.Generator
        The random source of the initial weights.

    Examples
    --------
    >>> import torch
    >>> from sciddm._core.rng import torch_init
    >>> with torch_init(0):
    ...     a = torch.nn.Linear(3, 2).weight.detach().clone()
    >>> with torch_init(0):
    ...     b = torch.nn.Linear(3, 2).weight.detach().clone()
    >>> bool(torch.equal(a, b))
    True
    """
    import torch

    check_rng(rng, torch_ok=True)
    if rng is None:
        yield
        return
    if _is_torch_generator(rng):
        seed = int(torch.randint(0, 2**62, (1,), generator=rng, device=rng.device).item())
    else:
        seed = seed_from(rng)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
