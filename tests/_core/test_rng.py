import numpy as np
import pytest
import torch

from sciddm._core.rng import as_generator, seed_from, spawn, torch_generator


def test_as_generator_identity_and_seed():
    g = np.random.default_rng(5)
    assert as_generator(g) is g
    assert as_generator(7).random() == np.random.default_rng(7).random()
    assert isinstance(as_generator(None), np.random.Generator)


@pytest.mark.parametrize("bad", [np.random.RandomState(0), "seed", 1.5, True])
def test_as_generator_rejects(bad):
    with pytest.raises((TypeError, ValueError), match="rng"):
        as_generator(bad)


def test_negative_seed():
    with pytest.raises(ValueError, match="non-negative"):
        as_generator(-1)


def test_spawn_children_independent_and_reproducible():
    a = [g.random(3) for g in spawn(11, 4)]
    b = [g.random(3) for g in spawn(11, 4)]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert len({tuple(x) for x in a}) == 4
    with pytest.raises(ValueError, match="`n`"):
        spawn(0, -1)


def test_torch_generator_reproducible():
    x = torch.randn(5, generator=torch_generator(3))
    y = torch.randn(5, generator=torch_generator(3))
    z = torch.randn(5, generator=torch_generator(4))
    assert torch.equal(x, y) and not torch.equal(x, z)
    assert 0 <= seed_from(0) < 2**63
