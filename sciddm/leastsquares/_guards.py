"""Size guards shared by the samplers: refuse work that cannot fit in memory.

A design of ``n`` points holds about ``n (m + d + 1)`` float64 numbers (points,
features, weights). Asking for ``10**9`` points used to sit in compiled code
for minutes, deaf to Ctrl-C, before failing for lack of memory; the guard
refuses it at once with the largest size that fits.
"""

from __future__ import annotations

#: float64 numbers one call may allocate for its result (2 GiB)
MAX_ENTRIES = 2**28
#: points drawn per chunk by the i.i.d. samplers (Ctrl-C is honoured between chunks)
CHUNK = 1 << 16


def check_size(n: int, name: str, *, per_item: int) -> int:
    """Return ``n`` after checking that ``n * per_item`` numbers fit the memory guard.

    Parameters
    ----------
    n : int
        Requested number of items (points, nodes, draws).
    name : str
        The argument that asked for them, named in the message.
    per_item : int
        float64 numbers held per item.

    Returns
    -------
    int
        ``n``.

    Raises
    ------
    ValueError
        Naming ``name``, the memory asked for and the largest allowed value.

    Examples
    --------
    >>> from sciddm.leastsquares._guards import check_size
    >>> check_size(10, "n", per_item=3)
    10
    >>> check_size(10**9, "n", per_item=12)
    Traceback (most recent call last):
    ...
    ValueError: `n` = 1000000000 asks for 1.2e+10 float64 numbers (96 GB); at most 22369621 fit the 2 GiB limit of one call: draw several smaller designs
    """
    per_item = max(int(per_item), 1)
    if n * per_item > MAX_ENTRIES:
        gb = n * per_item * 8 / 1e9
        raise ValueError(
            f"`{name}` = {n} asks for {n * per_item:.2g} float64 numbers ({gb:.3g} GB); at most "
            f"{MAX_ENTRIES // per_item} fit the 2 GiB limit of one call: draw several smaller "
            "designs"
        )
    return n
