"""BLAS threading policy of the least-squares samplers.

The chain rule of the projection DPP is a long sequence of small products (one
matrix-vector update of the proposal pool per acceptance, small triangular
solves, rank-one Householder updates). With several BLAS threads each of these
calls pays a thread wake-up and synchronisation, and on a busy machine the
threads oversubscribe the cores: the sampler was measured to use 6.7 s of CPU
instead of 0.28 s with two OpenBLAS threads at m = 1000. The chain rule therefore
runs under a one-thread BLAS limit (threadpoolctl, restored on exit); its few large
products (a pool's projection, the complement basis) lose little by it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["one_blas_thread"]

_CONTROLLER: Any = None


def one_blas_thread() -> Any:
    """A context manager limiting BLAS to one thread (a cached threadpoolctl controller).

    Creating a controller scans the loaded libraries (milliseconds); entering the
    cached controller's limit costs tens of microseconds.

    Returns
    -------
    contextlib.AbstractContextManager
        The limit; BLAS threads are restored on exit.

    Examples
    --------
    >>> import numpy as np
    >>> from sciddm.leastsquares._threads import one_blas_thread
    >>> with one_blas_thread():
    ...     float(np.ones(3) @ np.ones(3))
    3.0
    """
    global _CONTROLLER
    if _CONTROLLER is None:
        import scipy.linalg  # noqa: F401  (load scipy's BLAS before the scan)
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")
