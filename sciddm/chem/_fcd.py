r"""Fréchet ChemNet distance through the ChemNet weights shipped in ``fcd_torch``.

ChemNet (Preuer et al. 2018) is a network trained to predict biological activities
from SMILES; the FCD fits a Gaussian to its penultimate-layer activations on each set
and reports the Fréchet distance between the two Gaussians,

.. math:: d^2 = \lVert \mu_1 - \mu_2 \rVert^2
   + \operatorname{Tr}\big(\Sigma_1 + \Sigma_2 - 2 (\Sigma_1 \Sigma_2)^{1/2}\big).

The activations come from ``fcd_torch`` (extra ``chem``; its wheel holds the weights,
so nothing is downloaded); the statistics and the distance are computed here, so
that a reference set's statistics are computed once and reused.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from sciddm._core.extras import require

__all__ = ["fcd"]


@functools.lru_cache(maxsize=2)
def _chemnet(device: str) -> Any:
    mod = require("fcd_torch", "chem", purpose="the Fréchet ChemNet distance")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.load defaults, per version
        return mod.FCD(device=device, n_jobs=1, batch_size=512)


def chemnet_activations(canonical: Sequence[str], *, device: str = "cpu") -> np.ndarray:
    """ChemNet penultimate activations (n, 512) of valid canonical SMILES."""
    model = _chemnet(str(device))
    with warnings.catch_warnings():
        # fcd_torch stacks its batches with numpy's deprecated row_stack alias
        warnings.filterwarnings("ignore", message=".*row_stack.*", category=DeprecationWarning)
        acts = model.get_predictions(list(canonical))
    return np.asarray(acts, dtype=np.float64)


def gaussian_statistics(acts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (n - 1)-normalised covariance of activations, one row per molecule."""
    if acts.shape[0] < 2:
        raise ValueError(f"the FCD needs at least 2 valid molecules per set, got {acts.shape[0]}")
    return acts.mean(axis=0), np.cov(acts, rowvar=False)


def frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray
) -> float:
    r"""Fréchet distance between two Gaussians (the squared form of the module docstring).

    :math:`\operatorname{Tr}(\Sigma_1\Sigma_2)^{1/2}` is computed as the sum of the square
    roots of the eigenvalues of the symmetric :math:`\Sigma_1^{1/2}\Sigma_2\Sigma_1^{1/2}`
    (similar to :math:`\Sigma_1\Sigma_2`), which is stable for singular covariances.
    """
    w1, v1 = np.linalg.eigh((sigma1 + sigma1.T) / 2)
    root1 = (v1 * np.sqrt(np.clip(w1, 0, None))) @ v1.T
    middle = root1 @ sigma2 @ root1
    lam = np.linalg.eigvalsh((middle + middle.T) / 2)
    tr_covmean = float(np.sqrt(np.clip(lam, 0, None)).sum())
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * tr_covmean)


def fcd(smiles: Sequence[str], reference: Sequence[str], *, device: str = "cpu") -> float:
    r"""Fréchet ChemNet distance between the valid molecules of two sets.

    Parameters
    ----------
    smiles : sequence of str
        Generated SMILES; invalid ones are dropped (MOSES: FCD of the valid set).
    reference : sequence of str
        Reference SMILES (MOSES: the test split).
    device : str, default "cpu"
        Where ChemNet runs (``"cuda"`` for a GPU).

    Returns
    -------
    float
        :math:`d^2 \ge 0` of the module docstring (lower is closer).

    Raises
    ------
    ImportError
        If ``fcd_torch`` (extra ``chem``) is not installed.
    ValueError
        If either set holds fewer than two valid molecules.

    Notes
    -----
    Equals ``fcd_torch.FCD()(reference, valid_smiles)`` up to rounding (the trace of
    the matrix square root is computed from a symmetric eigen-decomposition).

    References
    ----------
    .. [1] Preuer K., Renz P., Unterthiner T., Hochreiter S., Klambauer G.,
       "Fréchet ChemNet Distance: A Metric for Generative Models for Molecules in
       Drug Discovery", J. Chem. Inf. Model. 58(9):1736-1741 (2018).

    Examples
    --------
    >>> from sciddm.chem import fcd
    >>> a = ["CCO", "CCN", "c1ccccc1", "CC(=O)O"]
    >>> round(fcd(a, a), 6)
    0.0
    """
    from sciddm.chem._metrics import _batch, _valid_canonical

    gen = _valid_canonical(_batch(smiles))
    ref = _valid_canonical(_batch(reference, "reference"))
    for name, valid in (("smiles", gen), ("reference", ref)):
        if len(valid) < 2:
            raise ValueError(f"`{name}` holds {len(valid)} valid molecule(s); the FCD needs 2")
    if not isinstance(device, str):
        raise TypeError(f"`device` must be a str such as 'cpu' or 'cuda', got {device!r}")
    mu1, s1 = gaussian_statistics(chemnet_activations(gen, device=device))
    mu2, s2 = gaussian_statistics(chemnet_activations(ref, device=device))
    return max(frechet_distance(mu1, s1, mu2, s2), 0.0)
