"""The MOSES benchmark: its test split, its published baselines, and tables beside them.

The baseline figures are constants copied from the MOSES paper (facts, with their
source in :data:`MOSES_BASELINES_SOURCE`), so that a model's :class:`MoleculeReport`
can be printed beside them without running the baselines.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sciddm._core.rng import SeedLike, as_generator
from sciddm._core.validation import check_int
from sciddm.chem._report import MoleculeReport
from sciddm.chem.data import read_moses_smiles

__all__ = [
    "MOSES_BASELINES",
    "MOSES_BASELINES_SOURCE",
    "MOSES_COLUMNS",
    "load_moses_test",
    "moses_table",
    "moses_table_rows",
]

#: The MOSES table's columns against the random test split, in the paper's order.
MOSES_COLUMNS = (
    "Valid",
    "Unique@1k",
    "Unique@10k",
    "FCD",
    "SNN",
    "Frag",
    "Scaf",
    "IntDiv",
    "IntDiv2",
    "Filters",
    "Novelty",
)

#: Where :data:`MOSES_BASELINES` come from.
MOSES_BASELINES_SOURCE = (
    "Polykovskiy et al. 2020, 'Molecular Sets (MOSES): A Benchmarking Platform for "
    "Molecular Generation Models', Front. Pharmacol. 11:565644, table of baseline "
    "metrics (mean and standard deviation over three independent runs; FCD, SNN, Frag and "
    "Scaf against the random test split 'Test'); the same figures as the results table "
    "of the molecularsets/moses README (commit ffbc4db)."
)

_B: dict[str, list[Any]] = {
    # model: Valid, Unique@1k, Unique@10k, FCD, SNN, Frag, Scaf, IntDiv, IntDiv2, Filters,
    # Novelty, each (mean, std); the Train row has no std.
    "Train": [1.0, 1.0, 1.0, 0.008, 0.6419, 1.0, 0.9907, 0.8567, 0.8508, 1.0, 1.0],
    "CharRNN": [(0.9748, 0.0264), (1.0, 0.0), (0.9994, 0.0003), (0.0732, 0.0247),
                (0.6015, 0.0206), (0.9998, 0.0002), (0.9242, 0.0058), (0.8562, 0.0005),
                (0.8503, 0.0005), (0.9943, 0.0034), (0.8419, 0.0509)],
    "AAE": [(0.9368, 0.0341), (1.0, 0.0), (0.9973, 0.002), (0.5555, 0.2033),
            (0.6081, 0.0043), (0.991, 0.0051), (0.9022, 0.0375), (0.8557, 0.0031),
            (0.8499, 0.003), (0.996, 0.0006), (0.7931, 0.0285)],
    "VAE": [(0.9767, 0.0012), (1.0, 0.0), (0.9984, 0.0005), (0.099, 0.0125),
            (0.6257, 0.0005), (0.9994, 0.0001), (0.9386, 0.0021), (0.8558, 0.0004),
            (0.8498, 0.0004), (0.997, 0.0002), (0.6949, 0.0069)],
    "JTN-VAE": [(1.0, 0.0), (1.0, 0.0), (0.9996, 0.0003), (0.3954, 0.0234),
                (0.5477, 0.0076), (0.9965, 0.0003), (0.8964, 0.0039), (0.8551, 0.0034),
                (0.8493, 0.0035), (0.976, 0.0016), (0.9143, 0.0058)],
    "LatentGAN": [(0.8966, 0.0029), (1.0, 0.0), (0.9968, 0.0002), (0.2968, 0.0087),
                  (0.5371, 0.0004), (0.9986, 0.0004), (0.8867, 0.0009), (0.8565, 0.0007),
                  (0.8505, 0.0006), (0.9735, 0.0006), (0.9498, 0.0006)],
}  # fmt: skip

#: Published MOSES metrics: model -> column -> (mean, std) (std 0.0 for the Train row,
#: the training set scored as if generated). Source: :data:`MOSES_BASELINES_SOURCE`.
MOSES_BASELINES: dict[str, dict[str, tuple[float, float]]] = {
    model: {
        col: (v, 0.0) if isinstance(v, float) else (float(v[0]), float(v[1]))
        for col, v in zip(MOSES_COLUMNS, values)
    }
    for model, values in _B.items()
}


def load_moses_test(n: int | None = None, *, rng: SeedLike = None) -> list[str]:
    """SMILES of the MOSES random test split, or a uniform random subset of it.

    Parameters
    ----------
    n : int, optional
        Size of the subset (drawn without replacement with ``rng``, kept in file
        order); None returns all 176,074 molecules.
    rng : numpy.random.Generator, int or None
        For the subset.

    Returns
    -------
    list of str

    Raises
    ------
    ImportError
        If ``molsets`` is missing (install it with ``pip install --no-deps molsets``;
        its wheel ships the data, nothing is downloaded).
    ValueError
        If ``n`` is below 1.

    References
    ----------
    .. [1] Polykovskiy et al., "Molecular Sets (MOSES)", Front. Pharmacol. 11 (2020).

    Examples
    --------
    >>> from sciddm.chem import load_moses_test
    >>> sample = load_moses_test(3, rng=0)
    >>> len(sample), load_moses_test(3, rng=0) == sample
    (3, True)
    """
    if n is not None:
        n = check_int(n, "n", lo=1)
    g = as_generator(rng)
    test = read_moses_smiles("test")
    if n is None or n >= len(test):
        return test
    idx = np.sort(g.choice(len(test), size=n, replace=False))
    return [test[i] for i in idx]


def _as_row(name: str, value: Any) -> dict[str, float | None]:
    if isinstance(value, MoleculeReport):
        return value.row()
    if isinstance(value, Mapping):
        return {str(k): (None if v is None else float(v)) for k, v in value.items()}
    raise TypeError(
        f"`rows[{name!r}]` must be a MoleculeReport or a mapping column -> value, "
        f"got {type(value).__name__}"
    )


def _fmt(v: float | None, std: float | None = None, digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    s = f"{v:.{digits}f}"
    return s if not std else f"{s} ± {std:.{digits}f}"


def moses_table_rows(
    rows: Mapping[str, MoleculeReport | Mapping[str, float | None]],
    *,
    baselines: Sequence[str] = ("Train", "CharRNN", "VAE", "AAE", "JTN-VAE", "LatentGAN"),
    digits: int = 4,
) -> list[dict[str, str]]:
    """MOSES table rows: the published baselines, then the given models, as strings.

    Parameters
    ----------
    rows : mapping of name -> MoleculeReport or mapping of column -> value
        The models to show (e.g. ``{"MDLM (ours)": report}``).
    baselines : sequence of str, default all of :data:`MOSES_BASELINES`
        Which published rows to put first (``()`` for none).
    digits : int, default 4
        Decimals.

    Returns
    -------
    list of dict of str -> str
        One dict per row, keys ``"model"`` then :data:`MOSES_COLUMNS`; baselines show
        ``"mean ± std"``, missing values "-".

    Raises
    ------
    ValueError
        If a baseline name is unknown.

    Examples
    --------
    >>> from sciddm.chem import moses_table_rows
    >>> rows = moses_table_rows({"mine": {"Valid": 0.91, "FCD": 1.2}}, baselines=["VAE"])
    >>> rows[0]["Valid"], rows[1]["Valid"], rows[1]["SNN"]
    ('0.9767 ± 0.0012', '0.9100', '-')
    """
    digits = check_int(digits, "digits", lo=0, hi=10)
    if not isinstance(rows, Mapping):
        raise TypeError(f"`rows` must be a mapping name -> report, got {type(rows).__name__}")
    out: list[dict[str, str]] = []
    for b in baselines:
        if b not in MOSES_BASELINES:
            raise ValueError(
                f"`baselines` entries must be among {', '.join(MOSES_BASELINES)}, got {b!r}"
            )
        row = {"model": f"{b} (MOSES paper)"}
        row.update({c: _fmt(*MOSES_BASELINES[b][c], digits=digits) for c in MOSES_COLUMNS})
        out.append(row)
    for name, value in rows.items():
        vals = _as_row(str(name), value)
        row = {"model": str(name)}
        row.update({c: _fmt(vals.get(c), digits=digits) for c in MOSES_COLUMNS})
        out.append(row)
    return out


def moses_table(
    rows: Mapping[str, MoleculeReport | Mapping[str, float | None]],
    *,
    baselines: Sequence[str] = ("Train", "CharRNN", "VAE", "AAE", "JTN-VAE", "LatentGAN"),
    digits: int = 4,
) -> str:
    """A Markdown table of models beside the published MOSES baselines.

    Parameters
    ----------
    rows : mapping of name -> MoleculeReport or mapping of column -> value
        The models to show.
    baselines : sequence of str, default all of :data:`MOSES_BASELINES`
        Which published rows to put first.
    digits : int, default 4
        Decimals.

    Returns
    -------
    str
        A Markdown table with a header line, then one line per row, and the source
        of the baseline figures as a final note.

    Examples
    --------
    >>> from sciddm.chem import moses_table
    >>> print(moses_table({"mine": {"Valid": 0.5}}, baselines=["CharRNN"]).splitlines()[2][:40])
    | CharRNN (MOSES paper) | 0.9748 ± 0.0
    """
    table = moses_table_rows(rows, baselines=baselines, digits=digits)
    cols = ["model", *MOSES_COLUMNS]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(r[c] for c in cols) + " |" for r in table]
    if baselines:
        lines.append("")
        lines.append(f"Baselines: {MOSES_BASELINES_SOURCE}")
    return "\n".join(lines)
