import dataclasses
import json
import os

import numpy as np
import pytest
import torch

from sciddm._core.io import atomic_path, atomic_write_text, torch_save_atomic
from sciddm._core.results import Result
from sciddm.reproduce import chisquare_gof, mean_ci, total_variation


@dataclasses.dataclass(frozen=True, repr=False)
class _R(Result):
    x: np.ndarray
    n: int
    extra: dict


def test_result_frozen_repr_to_dict():
    r = _R(x=np.arange(12.0).reshape(3, 4), n=3, extra={"a": np.float64(1.5)})
    assert "array(shape=(3, 4), dtype=float64)" in repr(r)
    d = r.to_dict()
    assert d["x"][2][3] == 11.0 and d["extra"]["a"] == 1.5
    json.dumps(d)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.n = 4  # type: ignore[misc]
    assert r.summary().splitlines()[0] == "_R"


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "a.txt"
    atomic_write_text(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["a.txt"]


def test_torch_save_atomic_roundtrip(tmp_path):
    p = torch_save_atomic({"w": torch.ones(3)}, tmp_path / "m.pt")
    assert torch.equal(torch.load(p, weights_only=True)["w"], torch.ones(3))


def test_mean_ci_covers_mean():
    rng = np.random.default_rng(0)
    cover = 0
    for _ in range(400):
        _, lo, hi = mean_ci(rng.normal(1.0, 2.0, size=20))
        cover += lo <= 1.0 <= hi
    # 95% interval: coverage of 400 trials lies in [0.92, 0.98] with prob > 0.99
    assert 0.92 <= cover / 400 <= 0.98


def test_chisquare_detects_wrong_distribution():
    rng = np.random.default_rng(1)
    p = np.array([0.4, 0.3, 0.2, 0.1])
    assert chisquare_gof(rng.multinomial(20000, p), p) > 1e-3
    assert chisquare_gof(rng.multinomial(20000, [0.35, 0.35, 0.2, 0.1]), p) < 1e-6
    assert chisquare_gof([5, 1], [1.0, 0.0]) == 0.0
    assert total_variation([1, 0], [0.5, 0.5]) == 0.5
