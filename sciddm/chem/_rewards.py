"""Rewards on batches of SMILES for reward-guided generation.

A reward maps a list of SMILES strings to a float64 array. Invalid SMILES (RDKit cannot
parse them, or the string is empty) never raise: they receive the reward's
``floor`` (default :data:`INVALID_FLOOR` = 0.0, the minimum of the bounded terms
``validity``, ``qed`` and ``sa``). When a composite includes unbounded terms
(``logp``, ``penalized_logp``) or negative weights, choose a ``floor`` below the
range of valid molecules, e.g. ``floor=-10``, so that invalid strings are never
preferred. Inputs that are not SMILES strings at all (bytes, token-id tensors, numbers)
raise ``TypeError`` naming the argument: scoring them as "invalid" would silently hide a
missing decoding step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from sciddm._core.validation import check_choice, check_int, check_scalar
from sciddm.chem._props import (
    MAX_JOBS,
    PARALLEL_THRESHOLD,
    PropertyCache,
    _smiles_list,
    molecule_properties,
)

__all__ = [
    "INVALID_FLOOR",
    "REWARD_TERMS",
    "ChemReward",
    "composite_reward",
    "penalized_logp",
    "qed_reward",
    "sa_reward",
    "validity_reward",
]

#: Reward given to invalid SMILES unless ``floor`` says otherwise.
INVALID_FLOOR = 0.0

#: Terms a :class:`ChemReward` can combine.
REWARD_TERMS = (
    "validity",
    "qed",
    "sa",
    "logp",
    "mw",
    "ring_penalty",
    "size_penalty",
    "penalized_logp",
)

_NEEDS = {
    "validity": (),
    "qed": ("qed",),
    "sa": ("sa_norm",),
    "logp": ("logp",),
    "mw": ("mw",),
    "ring_penalty": ("max_ring_size",),
    "size_penalty": ("heavy_atoms",),
    "penalized_logp": ("logp", "sa", "max_ring_size"),
}


class ChemReward:
    r"""A weighted sum of molecular terms, with a floor for invalid SMILES.

    .. math:: r(x) = \sum_k w_k f_k(x) \ \text{if } x \text{ is valid, else floor}.

    Parameters
    ----------
    weights : str or mapping of str -> float, default {"qed": 0.5, "sa": 0.5}
        Terms and weights (a bare term name means weight 1). Terms:

        - ``validity``: 1 for valid molecules (so the composite separates valid from
          invalid by the weight when ``floor`` is 0);
        - ``qed``: quantitative estimate of drug-likeness in [0, 1];
        - ``sa``: normalised synthetic accessibility (10 - SA)/9 in [0, 1];
        - ``logp``: Crippen logP; ``mw``: molecular weight / 100;
        - ``ring_penalty``: max(0, largest ring size - 6) (the JT-VAE cycle score);
        - ``size_penalty``: heavy atoms outside ``size_range``, divided by 10;
        - ``penalized_logp``: logP - SA - ring_penalty (unnormalised JT-VAE objective).

        Penalties are non-negative: give them negative weights.
    floor : float, default 0.0
        Reward of invalid SMILES (see the module notes).
    size_range : (int, int), default (10, 50)
        Allowed heavy-atom counts for ``size_penalty``.
    cache : bool or PropertyCache, default True
        Memoise properties by canonical SMILES across calls (a new cache if True).
        Without a cache no canonical SMILES are built and QED + SA cost less than a
        plain ``QED.qed`` + ``sascorer`` loop, with bit-identical values; with one,
        repeated molecules (in any spelling) are free.
    n_jobs : int, default 1
        Worker processes for batches of at least ``parallel_threshold`` molecules to
        compute.
    parallel_threshold : int, default :data:`~sciddm.chem.PARALLEL_THRESHOLD`
        Smallest batch sent to the pool; below it one process is faster.

    Attributes
    ----------
    weights : dict of str -> float
    calls : int
        Reward evaluations so far (molecules scored), which guided samplers report
        as their reward cost.
    properties : tuple of str
        The RDKit properties the terms need.

    References
    ----------
    .. [1] Bickerton G. R. et al., "Quantifying the chemical beauty of drugs",
       Nature Chemistry 4:90-98 (2012).
    .. [2] Ertl P., Schuffenhauer A., J. Cheminformatics 1:8 (2009).
    .. [3] Jin W., Barzilay R., Jaakkola T., "Junction Tree Variational Autoencoder
       for Molecular Graph Generation", ICML 2018 (penalised logP).

    Examples
    --------
    >>> from sciddm.chem import ChemReward
    >>> reward = ChemReward({"qed": 1.0, "sa": 1.0})
    >>> r = reward(["CC(=O)Oc1ccccc1C(=O)O", "C1CC", ""])
    >>> [round(float(v), 3) for v in r]
    [1.485, 0.0, 0.0]
    """

    def __init__(
        self,
        weights: str | Mapping[str, float] | None = None,
        *,
        floor: float = INVALID_FLOOR,
        size_range: tuple[int, int] = (10, 50),
        cache: bool | PropertyCache = True,
        n_jobs: int = 1,
        parallel_threshold: int = PARALLEL_THRESHOLD,
    ) -> None:
        if weights is None:
            weights = {"qed": 0.5, "sa": 0.5}
        if isinstance(weights, str):
            weights = {weights: 1.0}
        if not isinstance(weights, Mapping):
            raise TypeError(
                f"`weights` must be a term name or a mapping term -> weight, got {weights!r}"
            )
        if not weights:
            raise ValueError("`weights` must name at least one term")
        self.weights = {
            check_choice(k, "weights", REWARD_TERMS): check_scalar(v, f"weights[{k!r}]")
            for k, v in dict(weights).items()
        }
        self.floor = check_scalar(floor, "floor")
        if not isinstance(size_range, (tuple, list)) or len(size_range) != 2:
            raise ValueError(f"`size_range` must be a pair (low, high), got {size_range!r}")
        lo, hi = size_range
        self.size_range = (
            check_int(lo, "size_range[0]", lo=0),
            check_int(hi, "size_range[1]", lo=0),
        )
        if self.size_range[0] > self.size_range[1]:
            raise ValueError(f"`size_range` must be increasing, got {size_range}")
        if isinstance(cache, PropertyCache):
            self.cache: PropertyCache | None = cache
        elif isinstance(cache, (bool, np.bool_)):
            self.cache = PropertyCache() if cache else None
        else:
            raise TypeError(f"`cache` must be a bool or a PropertyCache, got {cache!r}")
        self.n_jobs = check_int(n_jobs, "n_jobs", lo=1, hi=MAX_JOBS)
        self.parallel_threshold = check_int(parallel_threshold, "parallel_threshold", lo=1)
        self.calls = 0

    @property
    def properties(self) -> tuple[str, ...]:
        """The RDKit properties the terms need."""
        need: list[str] = []
        for k in self.weights:
            need.extend(_NEEDS[k])
        return tuple(dict.fromkeys(need)) or ("heavy_atoms",)

    def terms(self, smiles: str | Sequence[str]) -> dict[str, np.ndarray]:
        """Each term's value (NaN for invalid SMILES), before weighting.

        Parameters
        ----------
        smiles : str or sequence of str
            SMILES strings (a single ``str`` is one molecule).

        Returns
        -------
        dict of str -> ndarray of float64
            One array per term of ``weights``.
        """
        seq = _smiles_list(smiles, "smiles")
        props = molecule_properties(
            seq,
            self.properties,
            cache=self.cache,
            n_jobs=self.n_jobs,
            parallel_threshold=self.parallel_threshold,
        )
        v = props.values
        nan = np.where(props.valid, 0.0, np.nan)
        lo, hi = self.size_range
        out: dict[str, np.ndarray] = {}
        for k in self.weights:
            if k == "validity":
                out[k] = 1.0 + nan
            elif k == "qed":
                out[k] = v["qed"]
            elif k == "sa":
                out[k] = v["sa_norm"]
            elif k == "logp":
                out[k] = v["logp"]
            elif k == "mw":
                out[k] = v["mw"] / 100.0
            elif k == "ring_penalty":
                out[k] = np.maximum(v["max_ring_size"] - 6.0, 0.0)
            elif k == "size_penalty":
                h = v["heavy_atoms"]
                out[k] = (np.maximum(lo - h, 0.0) + np.maximum(h - hi, 0.0)) / 10.0
            elif k == "penalized_logp":
                out[k] = v["logp"] - v["sa"] - np.maximum(v["max_ring_size"] - 6.0, 0.0)
        return out

    def __call__(self, smiles: str | Sequence[str]) -> np.ndarray:
        """Rewards of a batch of SMILES (float64 array; ``floor`` where invalid).

        Parameters
        ----------
        smiles : str or sequence of str
            SMILES strings (a single ``str`` is one molecule); not token ids.

        Returns
        -------
        ndarray of float64, shape (n,)
        """
        seq = _smiles_list(smiles, "smiles")
        terms = self.terms(seq)
        self.calls += len(seq)
        total = np.zeros(len(seq))
        for k, w in self.weights.items():
            total = total + w * terms[k]
        return np.where(np.isnan(total), self.floor, total)

    def __repr__(self) -> str:
        w = ", ".join(f"{k}={v:g}" for k, v in self.weights.items())
        return f"ChemReward({w}, floor={self.floor:g})"


def _one(term: str, smiles: str | Sequence[str], floor: float, n_jobs: int) -> np.ndarray:
    return ChemReward({term: 1.0}, floor=floor, cache=False, n_jobs=n_jobs)(smiles)


def validity_reward(smiles: str | Sequence[str], *, floor: float = INVALID_FLOOR) -> np.ndarray:
    """1.0 for SMILES RDKit parses, ``floor`` otherwise.

    Parameters
    ----------
    smiles : str or sequence of str
        SMILES strings.
    floor : float, default 0.0
        Reward of invalid SMILES.

    Returns
    -------
    ndarray of float64, shape (n,)

    Raises
    ------
    TypeError
        If ``smiles`` is not a ``str`` or a sequence of ``str`` (e.g. token ids).

    Examples
    --------
    >>> from sciddm.chem import validity_reward
    >>> validity_reward(["CCO", "C(C", ""]).tolist()
    [1.0, 0.0, 0.0]
    """
    return _one("validity", smiles, floor, 1)


def qed_reward(
    smiles: str | Sequence[str], *, floor: float = INVALID_FLOOR, n_jobs: int = 1
) -> np.ndarray:
    """QED in [0, 1] (``rdkit.Chem.QED.qed``); ``floor`` for invalid SMILES.

    Parameters
    ----------
    smiles : str or sequence of str
        SMILES strings.
    floor : float, default 0.0
        Reward of invalid SMILES.
    n_jobs : int, default 1
        Worker processes for large batches (see :class:`ChemReward`).

    Returns
    -------
    ndarray of float64, shape (n,)

    Raises
    ------
    TypeError
        If ``smiles`` is not a ``str`` or a sequence of ``str`` (e.g. bytes).

    References
    ----------
    .. [1] Bickerton G. R. et al., "Quantifying the chemical beauty of drugs",
       Nature Chemistry 4:90-98 (2012).

    Examples
    --------
    >>> from sciddm.chem import qed_reward
    >>> qed_reward(["CC(=O)Oc1ccccc1C(=O)O", "xyz"]).round(3).tolist()
    [0.55, 0.0]
    """
    return _one("qed", smiles, floor, n_jobs)


def sa_reward(
    smiles: str | Sequence[str], *, floor: float = INVALID_FLOOR, n_jobs: int = 1
) -> np.ndarray:
    r"""Normalised synthetic accessibility :math:`(10 - \mathrm{SA})/9` in [0, 1].

    Parameters
    ----------
    smiles : str or sequence of str
        SMILES strings.
    floor : float, default 0.0
        Reward of invalid SMILES.
    n_jobs : int, default 1
        Worker processes for large batches (see :class:`ChemReward`).

    Returns
    -------
    ndarray of float64, shape (n,)
        Higher is easier to synthesise.

    References
    ----------
    .. [1] Ertl P., Schuffenhauer A., J. Cheminformatics 1:8 (2009).

    Examples
    --------
    >>> from sciddm.chem import sa_reward
    >>> sa_reward(["CC(=O)Oc1ccccc1C(=O)O"]).round(3).tolist()
    [0.936]
    """
    return _one("sa", smiles, floor, n_jobs)


def penalized_logp(
    smiles: str | Sequence[str], *, floor: float = -100.0, n_jobs: int = 1
) -> np.ndarray:
    r"""Penalised logP, :math:`\log P - \mathrm{SA} - \max(0, r_{\max} - 6)` (unnormalised).

    :math:`r_{\max}` is the size of the largest ring (Jin et al. 2018).

    Parameters
    ----------
    smiles : str or sequence of str
        SMILES strings.
    floor : float, default -100
        Reward of invalid SMILES (below any drug-like value).
    n_jobs : int, default 1
        Worker processes for large batches.

    Returns
    -------
    ndarray of float64, shape (n,)

    References
    ----------
    .. [1] Jin W., Barzilay R., Jaakkola T., "Junction Tree Variational Autoencoder
       for Molecular Graph Generation", ICML 2018.

    Examples
    --------
    >>> from sciddm.chem import penalized_logp
    >>> penalized_logp(["c1ccccc1", "C1CC"]).round(3).tolist()
    [0.687, -100.0]
    """
    return _one("penalized_logp", smiles, floor, n_jobs)


def composite_reward(
    smiles: str | Sequence[str],
    weights: str | Mapping[str, float] | None = None,
    *,
    floor: float = INVALID_FLOOR,
    n_jobs: int = 1,
) -> np.ndarray:
    """One-shot :class:`ChemReward` (no cache kept between calls).

    Parameters
    ----------
    smiles : str or sequence of str
        SMILES strings.
    weights : str or mapping of str -> float, optional
        As in :class:`ChemReward` (default QED and SA, half each).
    floor : float, default 0.0
        Reward of invalid SMILES.
    n_jobs : int, default 1
        Worker processes for large batches.

    Returns
    -------
    ndarray of float64, shape (n,)

    Examples
    --------
    >>> from sciddm.chem import composite_reward
    >>> r = composite_reward(["CCO", "C1CCCCCCCCC1"], {"qed": 1.0, "ring_penalty": -0.1})
    >>> r.round(3).tolist()   # cyclodecane: QED 0.478 minus 0.1 * (10 - 6)
    [0.407, 0.078]
    """
    return ChemReward(weights, floor=floor, cache=False, n_jobs=n_jobs)(smiles)
