import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sciddm.dna import (  # noqa: E402
    ArsOracle,
    encode_dna,
    load_oracle,
    read_ars,
    save_oracle,
    train_ars_oracles,
)

TINY = dict(n_train=200, n_test=100, epochs=1, channels=4, batch_size=64)


@pytest.fixture(scope="module")
def ars():
    return read_ars()


def _params(model):
    return torch.cat([p.detach().flatten() for p in model.state_dict().values()])


def test_training_reproducible_by_seed(ars):
    # the same rng gives bit-identical weights, whatever torch's global generator does
    # in between, and training never touches (reads or reseeds) the global generator
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = train_ars_oracles(rng=7, data=ars, **TINY)
    assert torch.equal(torch.get_rng_state(), before)
    torch.rand(1000)  # move the global stream
    b = train_ars_oracles(rng=7, data=ars, **TINY)
    c = train_ars_oracles(rng=8, data=ars, **TINY)
    assert torch.equal(_params(a.guidance), _params(b.guidance))
    assert torch.equal(_params(a.evaluation), _params(b.evaluation))
    assert a.pearson == b.pearson and a.test_sequences == b.test_sequences
    assert not torch.equal(_params(a.guidance), _params(c.guidance))
    # the two oracles are different networks trained on different data
    assert not torch.equal(_params(a.guidance), _params(a.evaluation))
    for v in list(a.pearson.values()) + list(a.spearman.values()):
        assert -1.0 <= v <= 1.0


def test_splits_are_disjoint(ars, monkeypatch):
    import sciddm.dna._oracle as mod

    seen = []
    real_fit = mod._fit

    def spy(x, y, rng, knobs, name):
        seen.append({bytes(row) for row in x})
        return real_fit(x, y, rng, knobs, name)

    monkeypatch.setattr(mod, "_fit", spy)
    fit = train_ars_oracles(rng=1, data=ars, **TINY)
    test = {bytes(row) for row in encode_dna(fit.test_sequences, n_policy="neutral")}
    assert len(seen[0]) == len(seen[1]) == 200
    assert not (seen[0] & seen[1]) and not (seen[0] & test) and not (seen[1] & test)


def test_network_init_from_rng_only():
    torch.manual_seed(0)
    a = ArsOracle(5, rng=3)
    torch.manual_seed(1)
    b = ArsOracle(5, rng=3)
    c = ArsOracle(5, rng=4)
    assert torch.equal(_params(a), _params(b))
    assert not torch.equal(_params(a), _params(c))
    # a torch.Generator and a numpy Generator are accepted too
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(_params(ArsOracle(3, rng=g1)), _params(ArsOracle(3, rng=g2)))
    n1, n2 = np.random.default_rng(6), np.random.default_rng(6)
    assert torch.equal(_params(ArsOracle(3, rng=n1)), _params(ArsOracle(3, rng=n2)))
    with pytest.raises(TypeError, match="`rng` must be"):
        ArsOracle(3, rng="seed")
    with pytest.raises(ValueError, match="`channels` must be an integer >= 1"):
        ArsOracle(0)


def test_divergence_stops_with_a_clear_error(ars):
    with pytest.raises(FloatingPointError, match=r"diverged at epoch 0, step \d+.*lower `lr`"):
        train_ars_oracles(rng=0, data=ars, **{**TINY, "channels": 8}, lr=1e6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the skipped run may predict a constant
        fit = train_ars_oracles(
            rng=0, data=ars, **{**TINY, "channels": 8}, lr=1e6, on_nonfinite="skip"
        )
    for model in (fit.guidance, fit.evaluation):
        assert all(torch.isfinite(p).all() for p in model.state_dict().values())


def test_save_load_weights_only(tmp_path, ars):
    from sciddm._core.io import CheckpointError

    fit = train_ars_oracles(rng=2, data=ars, **TINY)
    path = tmp_path / "oracle.pt"
    save_oracle(fit.guidance, path)
    blob = torch.load(path, weights_only=True)  # plain tensors and ints only
    assert blob["channels"] == 4 and blob["kind"] == "ARS oracle"
    for bad in (b"", b"garbage", path.read_bytes()[:100]):
        (tmp_path / "bad.pt").write_bytes(bad)
        with pytest.raises(CheckpointError, match="is not a readable sciddm ARS oracle file"):
            load_oracle(tmp_path / "bad.pt")
    with pytest.raises(TypeError, match="`oracle` must be an ArsOracle"):
        save_oracle(torch.nn.Linear(2, 2), tmp_path / "x.pt")
    loaded = load_oracle(path)
    seqs = fit.test_sequences[:20]
    np.testing.assert_array_equal(loaded.predict(seqs), fit.guidance.predict(seqs))
    assert np.array_equal(loaded(seqs), loaded.predict(seqs))


def test_oracle_forward_shapes():
    model = ArsOracle(channels=3)
    out = model.predict(["ACGT" * 10, "N" * 40])
    assert out.shape == (2,) and np.isfinite(out).all()
    with pytest.raises(ValueError, match="same length"):
        model.predict(["ACGT", "ACG"])


def test_bad_arguments(ars):
    with pytest.raises(ValueError, match="`n_train` must be <="):
        train_ars_oracles(n_train=10**7, data=ars)
    with pytest.raises(ValueError, match="`epochs` must be an integer >= 1"):
        train_ars_oracles(epochs=0, data=ars)
    with pytest.raises(ValueError, match="lower `min_reads`"):
        train_ars_oracles(min_reads=10**9, data=ars)
