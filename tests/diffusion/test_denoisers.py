import numpy as np
import pytest
import torch
from scipy.special import softmax

from sciddm.diffusion import (
    EmpiricalDenoiser,
    GaussianDenoiser,
    GaussianMixtureDenoiser,
    fit_gaussian,
    fit_gaussian_mixture,
    teleport,
)


def _spd(d, rng, lo=0.05, hi=3.0):
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return Q, np.geomspace(lo, hi, d)


def test_lowrank_matches_singular_full_formula():
    rng = np.random.default_rng(0)
    d, r = 6, 3
    Q, lam = _spd(d, rng)
    U, l = Q[:, :r], lam[:r]
    mu = rng.normal(size=d)
    g = GaussianDenoiser(mu, (U, l))
    S = (U * l) @ U.T  # singular covariance
    x = rng.normal(size=(5, d)) * 3
    for s in (0.1, 1.0, 10.0):
        ref = mu + (x - mu) @ np.linalg.solve(S + s**2 * np.eye(d), S).T
        np.testing.assert_allclose(g.denoise(x, s), ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g.cov_, S, atol=1e-14)


def test_per_row_sigma_and_torch_io():
    rng = np.random.default_rng(1)
    Q, lam = _spd(3, rng)
    g = GaussianDenoiser(np.zeros(3), (Q * lam) @ Q.T)
    x = rng.normal(size=(4, 3))
    s = np.array([0.1, 1.0, 2.0, 5.0])
    rows = np.stack([g.denoise(x[i : i + 1], s[i])[0] for i in range(4)])
    np.testing.assert_allclose(g.denoise(x, s), rows, rtol=1e-13)
    xt = torch.tensor(x, dtype=torch.float32).reshape(4, 1, 3)  # any trailing shape
    out = g(xt, torch.tensor(s, dtype=torch.float32))
    assert out.dtype == torch.float32 and out.shape == (4, 1, 3)
    np.testing.assert_allclose(out.reshape(4, 3).numpy(), rows, rtol=1e-5, atol=1e-6)


def test_pf_ode_solves_the_ode():
    rng = np.random.default_rng(2)
    d, r = 5, 3
    Q, lam = _spd(d, rng)
    for cov in ((Q * lam) @ Q.T, (Q[:, :r], lam[:r])):
        g = GaussianDenoiser(rng.normal(size=d), cov)
        xT = rng.normal(size=(3, d)) * 20
        for s in (0.5, 3.0, 12.0):
            h = 1e-5 * s
            deriv = (g.pf_ode(xT, 20.0, s + h) - g.pf_ode(xT, 20.0, s - h)) / (2 * h)
            x = g.pf_ode(xT, 20.0, s)
            np.testing.assert_allclose(deriv, (x - g.denoise(x, s)) / s, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(g.pf_ode(xT, 20.0, 20.0), xT, rtol=1e-13)


def test_mixture_score_is_gradient_of_log_density():
    rng = np.random.default_rng(3)
    K, d = 3, 4
    means = rng.normal(size=(K, d)) * 2
    covs = np.stack([(Q * l) @ Q.T for Q, l in (_spd(d, rng) for _ in range(K))])
    w = np.array([0.2, 0.5, 0.3])
    gm = GaussianMixtureDenoiser(means, covs, w)
    x = torch.tensor(rng.normal(size=(6, d)) * 2, requires_grad=True)
    s = 0.7
    comps = [
        torch.distributions.MultivariateNormal(
            torch.tensor(means[k]), torch.tensor(covs[k] + s**2 * np.eye(d))
        )
        for k in range(K)
    ]
    logp = torch.logsumexp(
        torch.stack([np.log(w[k]) + comps[k].log_prob(x) for k in range(K)]), 0
    ).sum()
    (grad,) = torch.autograd.grad(logp, x)
    np.testing.assert_allclose(
        gm.score(x.detach().numpy(), s), grad.numpy(), rtol=1e-10, atol=1e-12
    )
    r = gm.responsibilities(x.detach().numpy(), s)
    np.testing.assert_allclose(r.sum(1), 1.0, rtol=1e-12)


def test_mixture_lowrank_and_single_component():
    rng = np.random.default_rng(4)
    d, r = 5, 2
    Q, lam = _spd(d, rng)
    mu = rng.normal(size=d)
    g = GaussianDenoiser(mu, (Q[:, :r], lam[:r]))
    gm = GaussianMixtureDenoiser(mu[None], (Q[None, :, :r], lam[None, :r]))
    x = rng.normal(size=(7, d))
    for s in (0.2, 4.0):
        np.testing.assert_allclose(gm.denoise(x, s), g.denoise(x, s), rtol=1e-11, atol=1e-12)


def test_empirical_matches_naive_and_is_chunk_invariant():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(257, 3))
    x = rng.normal(size=(9, 3))
    for s in (0.05, 0.5, 5.0):
        w = softmax(-((x[:, None] - X[None]) ** 2).sum(-1) / (2 * s**2), axis=1)
        ref = w @ X
        for chunk in (1, 10, 4096):
            D = EmpiricalDenoiser(X, chunk_size=chunk)
            np.testing.assert_allclose(D.denoise(x, s), ref, rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(D.max_weight(x, s), w.max(1), rtol=1e-10)


def test_empirical_float32_far_and_tiny_sigma_is_finite():
    X = torch.randn(100, 4, generator=torch.Generator().manual_seed(0))
    D = EmpiricalDenoiser(X, chunk_size=16)
    x = torch.full((3, 4), 1e3)
    out = D(x, torch.full((3,), 1e-3))
    assert out.dtype == torch.float32 and torch.isfinite(out).all()
    # far away at tiny sigma: the nearest training point
    nearest = X[((X - x[0]) ** 2).sum(1).argmin()]
    torch.testing.assert_close(out[0], nearest)


def test_fitting_helpers():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(400, 4)) @ np.diag([3.0, 1.0, 0.5, 0.1])
    g = fit_gaussian(X)
    np.testing.assert_allclose(g.cov_, np.cov(X, rowvar=False), atol=1e-12)
    g2 = fit_gaussian(X, rank=2)
    assert g2.rank == 2 and np.all(g2.lam_ >= np.sort(g.lam_)[-3])
    gm = fit_gaussian_mixture(X, 3, rank=2, rng=0)
    assert gm.n_components == 3 and gm.U_.shape == (3, 4, 2)
    np.testing.assert_allclose(gm.weights_.sum(), 1.0)


def test_teleport_is_pf_ode():
    g = GaussianDenoiser([0.0, 1.0], [[1.0, 0.3], [0.3, 0.5]])
    x = np.array([[80.0, -40.0]])
    np.testing.assert_array_equal(teleport(x, g, 80.0, 5.0), g.pf_ode(x, 80.0, 5.0))
    with pytest.raises(ValueError, match="`sigma_skip`"):
        teleport(x, g, 80.0, 90.0)
    with pytest.raises(TypeError, match="`gaussian`"):
        teleport(x, object(), 80.0, 5.0)


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: GaussianDenoiser([0.0, 0.0], [[1.0, 2.0], [2.0, 1.0]]), "positive semi-definite"),
        (lambda: GaussianDenoiser([0.0, 0.0, 0.0], np.eye(2)), r"shape \(3, 3\)"),
        (lambda: GaussianDenoiser([0.0, np.nan], np.eye(2)), "NaN"),
        (lambda: GaussianDenoiser([0.0, 0.0], (np.ones((2, 1)), [1.0])), "orthonormal"),
        (lambda: GaussianDenoiser([0.0, 0.0], (np.eye(2), [1.0, -1.0])), "non-negative"),
        (lambda: GaussianDenoiser([0.0], np.eye(1)).denoise(np.zeros((2, 3)), 1.0), "features"),
        (lambda: GaussianDenoiser([0.0], np.eye(1)).pf_ode(np.zeros((1, 1)), 0.0, 0.0), "sigma_T"),
        (lambda: GaussianMixtureDenoiser(np.zeros((2, 2)), np.stack([np.eye(2)] * 3)), "covs"),
        (
            lambda: GaussianMixtureDenoiser(np.zeros((2, 1)), np.ones((2, 1, 1)), [0.5, 0.6]),
            "weights",
        ),
        (lambda: EmpiricalDenoiser(np.array([[0.0], [np.nan]])), "NaN"),
        (lambda: EmpiricalDenoiser(torch.tensor([[0.0], [float("nan")]])), "NaN"),
        (lambda: fit_gaussian(np.zeros((5, 2)), rank=3), "`rank`"),
    ],
)
def test_bad_input(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_denoisers_on_cuda(dtype):
    X = torch.randn(1000, 8, dtype=dtype)
    x = torch.randn(5, 8, dtype=dtype)
    for D in (
        fit_gaussian(X.numpy()),
        fit_gaussian_mixture(X.numpy(), 3, rng=0),
        EmpiricalDenoiser(X.cuda()),
    ):
        out = D(x.cuda(), torch.ones(5, device="cuda", dtype=dtype))
        ref = D(x, torch.ones(5, dtype=dtype)) if not isinstance(D, EmpiricalDenoiser) else None
        assert out.device.type == "cuda" and out.dtype == dtype
        if ref is not None:
            torch.testing.assert_close(out.cpu(), ref)


def test_empirical_never_materialises_batch_by_n_by_d():
    from torch.utils._python_dispatch import TorchDispatchMode

    n, d, b, chunk = 5000, 16, 32, 512
    X = torch.randn(n, d, generator=torch.Generator().manual_seed(0))
    D = EmpiricalDenoiser(X, chunk_size=chunk)
    largest = [0]

    class Track(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for t in out if isinstance(out, (tuple, list)) else (out,):
                if isinstance(t, torch.Tensor):
                    largest[0] = max(largest[0], t.numel())
            return out

    x = torch.randn(b, d, generator=torch.Generator().manual_seed(1))
    with Track():
        D(x, torch.full((b,), 0.7))
    assert largest[0] <= max(b * chunk, b * d, n)  # never b * n * d (= 2.56M) nor b * n


@pytest.mark.slow
def test_empirical_memory_at_1e5_points(tmp_path):
    import sys

    from tests._proc import run_bounded

    code = """
import resource, torch
from sciddm.diffusion import EmpiricalDenoiser
X = torch.randn(100_000, 64)
D = EmpiricalDenoiser(X)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for _ in range(2):
    out = D(X[:512] + 0.1, torch.full((512,), 1.0))
assert torch.isfinite(out).all()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""
    proc = run_bounded([sys.executable, "-c", code], timeout=600)
    assert proc.returncode == 0, proc.stderr
    peak_mb = float(proc.stdout.strip().splitlines()[-1])
    assert peak_mb < 2048, peak_mb


def test_closed_forms_at_sigma_zero_and_bad_sigma():
    data = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    E = EmpiricalDenoiser(data)
    x = torch.tensor([[0.1, 0.2], [0.9, -0.1], [0.2, 1.5], [5.0, 5.0]], dtype=torch.float64)
    out = E(x, torch.zeros(4))
    torch.testing.assert_close(out, torch.as_tensor(data[[0, 1, 2, 2]]))  # nearest points
    np.testing.assert_array_equal(E.max_weight(x.numpy(), 0.0), np.ones(4))
    # the limit: at a tiny sigma the weights already sit on the nearest point
    torch.testing.assert_close(E(x, torch.full((4,), 1e-3)), out)
    g = GaussianDenoiser([1.0, 0.0], ([[1.0], [0.0]], [2.0]))  # rank 1: zero variance in y
    torch.testing.assert_close(
        g(x, torch.zeros(4)), torch.stack([x[:, 0], torch.zeros(4, dtype=x.dtype)], 1)
    )
    gm = GaussianMixtureDenoiser([[0.0, 0.0], [3.0, 0.0]], np.stack([np.eye(2)] * 2))
    torch.testing.assert_close(gm(x, torch.zeros(4)), x)  # full rank: D(x, 0) = x
    for den in (E, g, gm):
        with pytest.raises(ValueError, match="`sigma` must be non-negative"):
            den(x, torch.full((4,), -0.1))
        with pytest.raises(ValueError, match="`sigma` must be finite"):
            den(x, float("nan"))
        with pytest.raises(ValueError, match="`x` must not contain NaN"):
            den(x * float("nan"), 1.0)
    for den in (g, gm):
        with pytest.raises(ValueError, match="`sigma` must be positive for the score"):
            den.score(x, 0.0)
    lowrank = GaussianMixtureDenoiser([[0.0, 0.0]], ([[[1.0], [0.0]]], [[1.0]]))
    with pytest.raises(ValueError, match="`sigma` = 0 needs full-rank"):
        lowrank(x, 0.0)
