"""The MOSES table of a trained molecule model: sample it, score the samples, print the table.

:func:`moses_benchmark` samples a model of SMILES or SELFIES, computes the MOSES
metrics of the samples against a MOSES test sample (:func:`sciddm.chem.molecule_report`)
and puts them beside the published MOSES baselines and beside the training data's own
row (a sample of training molecules scored the same way: the floor of FCD and the
ceiling of SNN that the set sizes allow). Needs the extra ``chem`` and ``molsets``.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sciddm._core.results import Result
from sciddm._core.rng import RNGLike, as_generator, check_rng, seed_from
from sciddm._core.validation import check_choice, check_int
from sciddm.discrete._model import MDLM, load_model
from sciddm.discrete._sampling import METHODS, SampleResult, sample

if TYPE_CHECKING:
    from sciddm.chem import MoleculeReport, ReferenceStats

__all__ = ["MosesBenchmark", "moses_benchmark"]

#: MOSES's test split has this many molecules (``n_reference=None`` uses them all).
MOSES_TEST_SIZE = 176_074


@dataclasses.dataclass(frozen=True, repr=False)
class MosesBenchmark(Result):
    """What :func:`moses_benchmark` returns: the samples, their MOSES metrics and the table.

    Attributes
    ----------
    report : MoleculeReport
        MOSES metrics of the samples (novelty against the training molecules).
    data_report : MoleculeReport or None
        The same metrics of ``n`` training molecules taken as if generated (the
        training data's own row; its novelty is 0 by definition).
    samples : SampleResult
        The samples (tokens, cost).
    smiles : list of str
        The decoded samples ("" for a SELFIES row without an atom symbol).
    table : str
        Markdown table: the published MOSES baselines, the training data's row
        and the model's row.
    name : str
        The model's row label.
    n_reference : int
        Size of the reference (MOSES test) sample.
    sample_time, metrics_time : float
        Seconds spent sampling and scoring.

    Examples
    --------
    >>> import dataclasses
    >>> from sciddm.discrete import MosesBenchmark
    >>> [f.name for f in dataclasses.fields(MosesBenchmark)][:3]
    ['report', 'data_report', 'samples']
    """

    report: MoleculeReport
    data_report: MoleculeReport | None
    samples: SampleResult
    smiles: list[str] = dataclasses.field(repr=False)
    table: str = dataclasses.field(repr=False)
    name: str
    n_reference: int
    sample_time: float
    metrics_time: float

    @property
    def wall_time(self) -> float:
        """Seconds of sampling and scoring together."""
        return self.sample_time + self.metrics_time

    def rows(self) -> dict[str, dict[str, float | None]]:
        """The MOSES columns of the computed rows (training data first, then the model).

        Returns
        -------
        dict of str -> dict of str -> float
        """
        out: dict[str, dict[str, float | None]] = {}
        if self.data_report is not None:
            out[f"training data ({self.data_report.n})"] = self.data_report.row()
        out[self.name] = self.report.row()
        return out


def _model_iv(model: Any, device: Any) -> MDLM:
    if isinstance(model, (str, os.PathLike)):
        model = load_model(model, map_location="cpu" if device is None else device)
    if not isinstance(model, MDLM):
        raise TypeError(f"`model` must be an MDLM or the path of one, got {type(model).__name__}")
    kind = getattr(model.tokenizer, "kind", None)
    if kind not in ("smiles", "selfies"):
        raise ValueError(
            f"`model` must be a molecule model (SMILES or SELFIES tokenizer), got tokenizer "
            f"kind {kind!r}"
        )
    return model


def _novelty(canonical: set[str], train: frozenset[str]) -> float:
    return len(canonical - train) / len(canonical) if canonical else float("nan")


def _train_set(train: Sequence[str] | None) -> tuple[frozenset[str], list[str]]:
    """Canonical training molecules for novelty, and the training molecules as given.

    The MOSES training split is already canonical (as MOSES does, its strings are used as
    they are: RDKit's current canonical form differs for about 1 in 5,000 of them); a
    user's ``train`` is canonicalised.
    """
    if train is None:
        from sciddm.chem import read_moses_smiles

        raw = read_moses_smiles("train")
        return frozenset(raw), raw
    if isinstance(train, (str, bytes)) or not np.iterable(train):
        raise TypeError(f"`train` must be a sequence of SMILES, got {type(train).__name__}")
    raw = list(train)
    for i, s in enumerate(raw):
        if not isinstance(s, str):
            raise TypeError(f"`train[{i}]` must be a str, got {type(s).__name__}")
    if not raw:
        raise ValueError("`train` must not be empty")
    return frozenset(_canonical_set(raw)), raw


def _reference(
    reference: Any, n_reference: int | None, g: np.random.Generator, fcd: bool | None
) -> ReferenceStats:
    from sciddm.chem import ReferenceStats, load_moses_test, reference_statistics

    if isinstance(reference, ReferenceStats):
        return reference
    if reference is None:
        smiles = load_moses_test(n_reference, rng=g)
        return reference_statistics(smiles, name="MOSES test", fcd=fcd)
    if isinstance(reference, (str, bytes)) or not np.iterable(reference):
        raise TypeError(
            "`reference` must be None, a ReferenceStats or a sequence of SMILES, got "
            f"{type(reference).__name__}"
        )
    return reference_statistics(list(reference), name="reference", fcd=fcd)


def _canonical_set(smiles: list[str]) -> set[str]:
    from sciddm.chem import canonical_smiles

    out = {canonical_smiles(s) for s in smiles if s}
    out.discard(None)
    return out  # type: ignore[return-value]


def moses_benchmark(
    model: MDLM | str | os.PathLike[str],
    *,
    n: int = 10_000,
    method: str = "fhs",
    k: int = 1,
    batch_size: int = 500,
    reference: Sequence[str] | ReferenceStats | None = None,
    n_reference: int | None = 10_000,
    train: Sequence[str] | None = None,
    data_row: bool = True,
    name: str = "MDLM (sciddm)",
    fcd: bool | None = None,
    device: Any = None,
    rng: RNGLike = None,
    progress: bool = False,
) -> MosesBenchmark:
    """Sample a molecule model and compute its MOSES table beside the published baselines.

    Parameters
    ----------
    model : MDLM or path
        A trained model with a SMILES or SELFIES tokenizer, or its file / training
        folder (:func:`~sciddm.discrete.load_model`).
    n : int, default 10000
        Molecules to sample.
    method : {"fhs", "ancestral", "cached", "fhs-parallel"}, default "fhs"
        Sampler (:func:`~sciddm.discrete.sample`); ``k`` tokens per call for
        ``"fhs-parallel"``.
    k : int, default 1
        Tokens per call of ``"fhs-parallel"``.
    batch_size : int, default 500
        Samples per batch.
    reference : sequence of str or ReferenceStats, optional
        The reference set of FCD, SNN, Frag, Scaf and the property distances;
        default a uniform sample of ``n_reference`` molecules of the MOSES test split.
    n_reference : int or None, default 10000
        Size of that sample; None uses the whole split (176,074 molecules; the
        MOSES paper's setting, which takes long on a CPU).
    train : sequence of str, optional
        Training molecules, for novelty and the training data's row; default the
        MOSES training split (its strings are canonical and compared as they are, as
        in MOSES; a given ``train`` is canonicalised first).
    data_row : bool, default True
        Also score ``n`` training molecules as if they were samples (the row that
        the set sizes allow at best).
    name : str, default "MDLM (sciddm)"
        Label of the model's row.
    fcd : bool or None, default None
        Compute the FCD (None: when ``fcd_torch`` is installed).
    device : str or torch.device, optional
        Where the model samples (default: where its weights are).
    rng : None, int, numpy.random.Generator
        Random source of the reference and training subsets and of the samples'
        seeds.
    progress : bool, default False
        Show the sampler's progress bar.

    Returns
    -------
    MosesBenchmark
        ``.table`` is the Markdown table, ``.report`` the model's metrics.

    Raises
    ------
    TypeError
        If ``model`` is not an MDLM (or a path), or ``train``/``reference`` are not
        sequences of SMILES.
    ValueError
        If the model is not a molecule model, or a size is out of range.

    Notes
    -----
    FCD carries a positive bias that falls with the sizes of both sets, and SNN
    rises with the reference size; the MOSES rows were computed with 30,000
    samples against the whole test split, so compare with them at those sizes
    (``n=30000, n_reference=None``); the training data's row, computed at the
    sizes used here, is the like-for-like yardstick.

    References
    ----------
    .. [1] D. Polykovskiy et al., "Molecular Sets (MOSES): A Benchmarking Platform
       for Molecular Generation Models", Front. Pharmacol. 11:565644 (2020).

    Examples
    --------
    >>> import torch
    >>> from sciddm.discrete import MDLM, MDLMConfig, SelfiesTokenizer, moses_benchmark
    >>> tok = SelfiesTokenizer.from_smiles(["CCO", "c1ccccc1", "CC(=O)N"], length=8)
    >>> cfg = MDLMConfig.preset("tiny", vocab_size=tok.vocab_size, length=8)
    >>> model = MDLM(cfg, tokenizer=tok, rng=0)
    >>> res = moses_benchmark(model, n=20, reference=["CCO", "CCN", "c1ccccc1O"],
    ...                       train=["CCO"], data_row=False, fcd=False, rng=0)
    >>> res.report.validity, res.table.splitlines()[0][:14]
    (1.0, '| model | Vali')
    """
    n = check_int(n, "n", lo=1, hi=10_000_000)
    check_choice(method, "method", METHODS)
    batch_size = check_int(batch_size, "batch_size", lo=1)
    if n_reference is not None:
        n_reference = check_int(n_reference, "n_reference", lo=2)
    if not isinstance(data_row, (bool, np.bool_)):
        raise TypeError(f"`data_row` must be True or False, got {data_row!r}")
    if not isinstance(name, str) or not name:
        raise TypeError(f"`name` must be a non-empty str, got {name!r}")
    check_rng(rng)
    model = _model_iv(model, device)
    from sciddm.chem import molecule_report, moses_table

    g = as_generator(rng)
    t0 = time.perf_counter()
    res = sample(
        model, n, method=method, k=k, batch_size=batch_size, rng=seed_from(g),
        device=device, progress=progress,
    )  # fmt: skip
    sample_time = time.perf_counter() - t0
    smiles = list(res.texts or [])
    t1 = time.perf_counter()
    train_set, train_list = _train_set(train)
    ref = _reference(reference, n_reference, g, fcd)
    report = molecule_report(smiles, ref, k=(1000, 10000), fcd=fcd, rng=g)
    report = dataclasses.replace(report, novelty=_novelty(_canonical_set(smiles), train_set))
    data_report = None
    rows: dict[str, Any] = {}
    if data_row:
        idx = np.sort(g.choice(len(train_list), size=min(n, len(train_list)), replace=False))
        data = [train_list[i] for i in idx]
        data_report = molecule_report(data, ref, k=(1000, 10000), fcd=fcd, rng=g)
        data_report = dataclasses.replace(
            data_report, novelty=_novelty(_canonical_set(data), train_set)
        )
        rows[f"training data ({len(data)})"] = data_report
    rows[f"{name} ({n} samples)"] = report
    table = moses_table(rows)
    note = (
        f"\n\nComputed rows: {n} samples ({method}), reference {ref.n} MOSES test molecules"
        f" ({ref.name}); novelty against {len(train_set)} training molecules. The MOSES rows "
        "used 30,000 samples against the whole test split (176,074): FCD and SNN depend on "
        "the set sizes, so the training-data row is the like-for-like yardstick."
    )
    return MosesBenchmark(
        report=report,
        data_report=data_report,
        samples=res,
        smiles=smiles,
        table=table + note,
        name=name,
        n_reference=ref.n,
        sample_time=sample_time,
        metrics_time=time.perf_counter() - t1,
    )
