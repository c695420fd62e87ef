"""The random-source contract helpers, the checkpoint loader and the dense/str checks."""

import os
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from sciddm._core.io import CheckpointError, load_checkpoint, save_checkpoint
from sciddm._core.rng import (
    UNSET,
    as_torch_generator,
    check_rng,
    renamed_rng,
    torch_init,
)
from sciddm._core.validation import check_array, check_dense, check_str


@pytest.mark.parametrize("ok", [None, 0, 5, np.int64(3), np.random.default_rng(0)])
def test_check_rng_accepts_spec7(ok):
    assert check_rng(ok) is ok


@pytest.mark.parametrize("bad", ["0", 1.5, True, np.random.RandomState(0), [0, 1], object()])
def test_check_rng_rejects_with_the_name(bad):
    with pytest.raises(TypeError, match="`rng` must be"):
        check_rng(bad)


def test_check_rng_torch_and_per_row():
    g = torch.Generator()
    with pytest.raises(TypeError, match="`rng`"):
        check_rng(g)
    assert check_rng(g, torch_ok=True) is g
    with pytest.raises(TypeError, match="one per row"):
        check_rng([g, 1], per_row=True)
    assert check_rng([g, g], per_row=True) == [g, g]
    with pytest.raises(ValueError, match="non-negative"):
        check_rng(-1)


def test_as_torch_generator_passthrough_and_device_check():
    g = torch.Generator().manual_seed(1)
    assert as_torch_generator(g) is g
    a = torch.rand(3, generator=as_torch_generator(np.random.default_rng(4)))
    b = torch.rand(3, generator=as_torch_generator(np.random.default_rng(4)))
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="device"):
        as_torch_generator(g, device="meta")


def test_torch_init_is_reproducible_and_restores_global_state():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    with torch_init(7):
        w1 = torch.nn.Linear(4, 4).weight.detach().clone()
    assert torch.equal(torch.random.get_rng_state(), before)
    with torch_init(7):
        w2 = torch.nn.Linear(4, 4).weight.detach().clone()
    with torch_init(8):
        w3 = torch.nn.Linear(4, 4).weight.detach().clone()
    assert torch.equal(w1, w2) and not torch.equal(w1, w3)
    g = torch.Generator().manual_seed(0)
    with torch_init(g):
        torch.nn.Linear(2, 2)
    assert torch.equal(torch.random.get_rng_state(), before)


def test_renamed_rng():
    assert renamed_rng(3, UNSET, "seed", func="f") == 3
    with pytest.warns(DeprecationWarning, match="`seed` is deprecated in f"):
        assert renamed_rng(None, 4, "seed", func="f") == 4
    with pytest.raises(TypeError, match="both `rng` and"):
        renamed_rng(1, 2, "seed", func="f")


def test_checkpoint_round_trip_mode_and_failures(tmp_path):
    p = save_checkpoint({"w": torch.arange(3.0), "step": 2}, tmp_path / "a.pt", kind="toy")
    blob = load_checkpoint(p, kind="toy")
    assert torch.equal(blob["w"], torch.arange(3.0)) and blob["step"] == 2
    mask = os.umask(0)
    os.umask(mask)
    assert os.stat(p).st_mode & 0o777 == 0o666 & ~mask
    data = p.read_bytes()
    (tmp_path / "half.pt").write_bytes(data[: len(data) // 2])
    (tmp_path / "empty.pt").write_bytes(b"")
    torch.save({"x": 1}, tmp_path / "foreign.pt")
    cases = {
        "half.pt": "truncated",
        "empty.pt": "empty",
        "foreign.pt": "not written by sciddm",
        "missing.pt": "no such file",
    }
    for name, reason in cases.items():
        with pytest.raises(CheckpointError, match=reason) as info:
            load_checkpoint(tmp_path / name, kind="toy")
        assert "is not a readable sciddm toy file" in str(info.value)
        assert "weights_only=False" not in str(info.value)
    with pytest.raises(CheckpointError, match="it is a sciddm 'toy' file"):
        load_checkpoint(p, kind="other")
    future = {"sciddm_format": 99, "sciddm_version": "9.0", "kind": "toy"}
    torch.save(future, tmp_path / "future.pt")
    with pytest.raises(CheckpointError, match="upgrade sciddm"):
        load_checkpoint(tmp_path / "future.pt", kind="toy")


def test_dense_and_str_checks():
    with pytest.raises(TypeError, match=r"`A` is a sparse matrix.*A.toarray\(\)"):
        check_array(sp.random(5, 3, density=0.5, format="csr"), "A")
    with pytest.raises(TypeError, match=r"to_dense"):
        check_dense(torch.eye(2).to_sparse(), "x")
    assert check_dense(np.eye(2), "x").shape == (2, 2)
    assert check_str("CCO", "smiles") == "CCO"
    with pytest.raises(TypeError, match="`seq` must be a DNA sequence"):
        check_str(None, "seq", what="a DNA sequence")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_array([1.0, 2.0], "b")
