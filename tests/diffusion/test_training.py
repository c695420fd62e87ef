import numpy as np
import pytest
import torch

from sciddm._core.io import CheckpointError, load_checkpoint, save_checkpoint
from sciddm.diffusion import (
    DDPMLoss,
    EDMLoss,
    EDMPrecond,
    EpsMLP,
    GaussianDenoiser,
    MLPDenoiser,
    UNetDenoiser,
    ddpm_betas,
    train_denoiser,
)


def test_edm_preconditioning_coefficients():
    # F = 1 everywhere: D = c_skip x + c_out
    D = EDMPrecond(lambda x, c: torch.ones_like(x), sigma_data=0.5)
    x = torch.tensor([[2.0]], dtype=torch.float64)
    s = 1.5
    c_skip = 0.25 / (s**2 + 0.25)
    c_out = s * 0.5 / np.sqrt(s**2 + 0.25)
    assert float(D(x, torch.tensor([s], dtype=torch.float64))) == pytest.approx(2 * c_skip + c_out)
    seen = {}

    def F(xin, c):
        seen["xin"], seen["c"] = xin, c
        return xin

    EDMPrecond(F, sigma_data=0.5)(x, torch.tensor([s], dtype=torch.float64))
    assert float(seen["xin"]) == pytest.approx(2 / np.sqrt(s**2 + 0.25))
    assert float(seen["c"]) == pytest.approx(np.log(s) / 4)


def test_edm_loss_optimum_is_posterior_mean():
    # For N(0, v) data the loss-minimising denoiser is the Gaussian one: its loss is lower
    # than that of a perturbed denoiser (same noise draws).
    y = torch.randn(4096, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 0.5
    g = GaussianDenoiser([0.0, 0.0], [[0.25, 0.0], [0.0, 0.25]])

    class Wrap(torch.nn.Module):
        sigma_data = 0.5

        def __init__(self, scale):
            super().__init__()
            self.scale = scale

        def forward(self, x, s):
            return g(x, s) * self.scale

    losses = [
        float(EDMLoss()(Wrap(k), y, torch.Generator().manual_seed(1))) for k in (1.0, 0.9, 1.1)
    ]
    assert losses[0] < min(losses[1:])


def test_train_recovers_gaussian_denoiser():
    rng = np.random.default_rng(0)
    X = rng.normal(0.3, 0.4, size=(2048, 1))
    res = train_denoiser(
        MLPDenoiser(1, hidden=64, depth=2),
        X,
        steps=600,
        batch_size=256,
        lr=2e-3,
        ema=0.99,
        rng=1,
    )
    g = GaussianDenoiser([X.mean()], [[X.var()]])
    x = torch.linspace(-2, 2, 21).reshape(-1, 1)
    for s in (0.3, 1.0):
        err = (res.model(x, torch.full((21,), s)) - g(x.double(), s).float()).abs().max()
        assert float(err) < 0.1, (s, float(err))
    assert res.losses[-100:].mean() < res.losses[:20].mean()


def test_resume_equals_uninterrupted(tmp_path):
    X = np.random.default_rng(2).normal(size=(300, 3))
    kw = dict(batch_size=16, lr=1e-3, ema=0.9, rng=5)
    full = train_denoiser(MLPDenoiser(3, hidden=16, rng=0), X, steps=12, **kw)
    ck = tmp_path / "ck.pt"
    train_denoiser(MLPDenoiser(3, hidden=16, rng=0), X, steps=6, checkpoint=ck, **kw)
    assert ck.exists()
    state = load_checkpoint(ck, kind="denoiser checkpoint")
    assert state["step"] == 6
    # a different init is overwritten by the checkpoint
    res = train_denoiser(MLPDenoiser(3, hidden=16, rng=123), X, steps=12, checkpoint=ck, **kw)
    assert res.resumed_from == 6 and res.steps == 12
    np.testing.assert_array_equal(res.losses, full.losses)
    for a, b in zip(res.ema.parameters(), full.ema.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_custom_loss_gets_tuple_batch():
    y = np.random.default_rng(0).normal(size=(100, 2))
    sig = np.abs(np.random.default_rng(1).normal(size=100))
    seen = []

    def loss(net, batch, rng):
        seen.append(batch)
        yy, ss = batch
        return ((net(yy, ss + 0.1) - yy) ** 2).mean()

    train_denoiser(MLPDenoiser(2, hidden=8), (y, sig), steps=3, batch_size=7, loss=loss, rng=0)
    assert len(seen) == 3 and isinstance(seen[0], tuple)
    assert seen[0][0].shape == (7, 2) and seen[0][1].shape == (7,)
    # rows of the two arrays stay paired
    yy, ss = seen[0]
    for row, s in zip(yy, ss):
        i = int(np.argmin(np.abs(y - row.numpy()).sum(1)))
        assert abs(sig[i] - float(s)) < 1e-6


def test_ddpm_loss_trains_eps_mlp():
    X = np.random.default_rng(0).choice([-1.0, 1.0], size=(1000, 1))
    res = train_denoiser(
        EpsMLP(1, hidden=32),
        X,
        steps=200,
        batch_size=128,
        loss=DDPMLoss(ddpm_betas(100)),
        ema=0.0,
        rng=0,
    )
    assert res.ema is None and res.model is res.net
    assert res.losses[-50:].mean() < 0.8 * res.losses[:10].mean()


def test_unet_trains_a_step():
    X = np.random.default_rng(0).normal(size=(8, 1, 8, 8))
    res = train_denoiser(UNetDenoiser(base=8), X, steps=2, batch_size=4, rng=0)
    assert np.all(np.isfinite(res.losses))
    with pytest.raises(ValueError, match="divisible by 4"):
        res.net(torch.zeros(1, 1, 6, 6), torch.ones(1))


def test_train_bad_input():
    X = np.zeros((10, 2))
    net = MLPDenoiser(2, hidden=4)
    with pytest.raises(ValueError, match="NaN"):
        train_denoiser(net, np.full((10, 2), np.nan), steps=1)
    with pytest.raises(ValueError, match="same length"):
        train_denoiser(net, (X, np.zeros(9)), steps=1)
    with pytest.raises(ValueError, match="`ema`"):
        train_denoiser(net, X, steps=1, ema=1.0)
    with pytest.raises(ValueError, match="`batch_size`"):
        train_denoiser(net, X, steps=1, batch_size=0)
    with pytest.raises(TypeError, match="`net`"):
        train_denoiser(lambda x, s: x, X, steps=1)
    with pytest.raises(TypeError, match="`rng`"):
        train_denoiser(net, X, steps=1, rng="0")
    with pytest.raises(ValueError, match="`nonfinite`"):
        train_denoiser(net, X, steps=1, nonfinite="ignore")
    with pytest.raises(TypeError, match="`loss` must return a scalar tensor"):
        train_denoiser(net, X, steps=1, loss=lambda n, b, r: 1.0)


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_training_and_sampling_on_cuda(dtype):
    from sciddm.diffusion import karras_sigmas, sample_heun

    X = np.random.default_rng(0).normal(size=(256, 2))
    net = MLPDenoiser(2, hidden=16).to(dtype)
    res = train_denoiser(net, X, steps=5, batch_size=32, device="cuda", rng=0)
    x = 80 * torch.randn(4, 2, device="cuda", dtype=dtype)
    out = sample_heun(res.model, x, karras_sigmas(5)).samples
    assert out.device.type == "cuda" and out.dtype == dtype


def test_unet_shapes_28x28_and_preconditioning_limit():
    net = UNetDenoiser(base=8).eval()
    x = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        assert net(x, torch.ones(2)).shape == (2, 1, 28, 28)
        # sigma -> 0: c_skip -> 1 and c_out -> 0, so D(x, sigma) -> x
        torch.testing.assert_close(net(x, torch.full((2,), 1e-6)), x, rtol=0, atol=1e-4)


def _weights(module):
    return torch.cat([p.detach().reshape(-1) for p in module.state_dict().values()])


def test_same_rng_gives_bit_identical_weights_without_global_seeding():
    X = np.random.default_rng(0).normal(size=(200, 2))
    before = torch.random.get_rng_state()
    runs = [
        train_denoiser(MLPDenoiser(2, hidden=16, rng=0), X, steps=15, batch_size=32, rng=0)
        for _ in range(2)
    ]
    assert torch.equal(torch.random.get_rng_state(), before)  # torch's global stream untouched
    assert torch.equal(_weights(runs[0].net), _weights(runs[1].net))
    assert torch.equal(_weights(runs[0].ema), _weights(runs[1].ema))
    np.testing.assert_array_equal(runs[0].losses, runs[1].losses)
    other = train_denoiser(MLPDenoiser(2, hidden=16, rng=0), X, steps=15, batch_size=32, rng=1)
    assert not torch.equal(_weights(runs[0].net), _weights(other.net))
    assert runs[0].wall_time > 0 and runs[0].n_skipped == 0


@pytest.mark.parametrize(
    "cls,kw", [(MLPDenoiser, {"dim": 3}), (EpsMLP, {"dim": 3}), (UNetDenoiser, {"base": 4})]
)
def test_networks_take_rng_for_their_initial_weights(cls, kw):
    before = torch.random.get_rng_state()
    a, b, c = cls(**kw, rng=7), cls(**kw, rng=7), cls(**kw, rng=np.random.default_rng(8))
    assert torch.equal(torch.random.get_rng_state(), before)
    assert torch.equal(_weights(a), _weights(b)) and not torch.equal(_weights(a), _weights(c))
    with pytest.raises(TypeError, match="`rng`"):
        cls(**kw, rng=1.5)


def test_train_rng_accepts_numpy_and_torch_generators():
    X = np.random.default_rng(0).normal(size=(50, 2))
    for rng in (np.random.default_rng(3), torch.Generator().manual_seed(3), None):
        res = train_denoiser(MLPDenoiser(2, hidden=4, rng=0), X, steps=2, batch_size=8, rng=rng)
        assert np.all(np.isfinite(res.losses))


def test_generator_keyword_is_deprecated():
    X = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.warns(DeprecationWarning, match="`generator` is deprecated"):
        train_denoiser(
            MLPDenoiser(2, hidden=4, rng=0),
            X,
            steps=2,
            batch_size=8,
            rng=0,
            generator=torch.Generator().manual_seed(0),
        )


def test_divergence_stops_early_and_keeps_the_last_finite_checkpoint(tmp_path):
    X = np.random.default_rng(0).normal(size=(256, 2))
    ck = tmp_path / "ck.pt"
    with pytest.raises(FloatingPointError) as err:
        train_denoiser(
            MLPDenoiser(2, hidden=32, rng=0),
            X,
            steps=200,
            batch_size=64,
            lr=1e6,
            rng=0,
            checkpoint=ck,
            checkpoint_every=1,
        )
    msg = str(err.value)
    step = int(msg.split(" at step ")[1].split(".")[0])
    assert step <= 10, msg
    assert "`lr` (now 1e+06)" in msg and "`grad_clip`" in msg and str(ck) in msg
    state = load_checkpoint(ck, kind="denoiser checkpoint")
    assert state["step"] == step - 1
    assert all(torch.isfinite(v).all() for v in state["net"].values())
    assert np.all(np.isfinite(state["losses"].numpy())) and len(state["losses"]) == step - 1


def test_nonfinite_skip_mode_skips_bad_steps():
    X = np.random.default_rng(0).normal(size=(64, 2))
    calls = []

    def flaky(net, batch, rng):
        calls.append(1)
        value = ((net(batch, torch.ones(batch.shape[0])) - batch) ** 2).mean()
        return value * float("nan") if len(calls) in (2, 3) else value

    net = MLPDenoiser(2, hidden=8, rng=0)
    res = train_denoiser(net, X, steps=6, batch_size=8, loss=flaky, rng=0, nonfinite="skip")
    assert res.n_skipped == 2 and np.isnan(res.losses[1:3]).all()
    assert np.isfinite(res.losses[[0, 3, 4, 5]]).all() and torch.isfinite(_weights(res.net)).all()
    with pytest.raises(FloatingPointError, match="at step 2"):
        calls.clear()
        train_denoiser(MLPDenoiser(2, hidden=8, rng=0), X, steps=6, batch_size=8, loss=flaky, rng=0)


def test_foreign_or_mismatched_checkpoint_is_refused(tmp_path):
    X = np.random.default_rng(0).normal(size=(64, 2))
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="is not a readable sciddm denoiser checkpoint"):
        train_denoiser(MLPDenoiser(2, hidden=4, rng=0), X, steps=2, checkpoint=bad)
    other = tmp_path / "other.pt"
    save_checkpoint({"step": 1}, other, kind="discrete model")
    with pytest.raises(CheckpointError, match="'discrete model' file"):
        train_denoiser(MLPDenoiser(2, hidden=4, rng=0), X, steps=2, checkpoint=other)
    ck = tmp_path / "ck.pt"
    train_denoiser(MLPDenoiser(2, hidden=4, rng=0), X, steps=2, batch_size=8, checkpoint=ck)
    with pytest.raises(ValueError, match="does not fit this network"):
        train_denoiser(MLPDenoiser(2, hidden=8, rng=0), X, steps=4, batch_size=8, checkpoint=ck)
