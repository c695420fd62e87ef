import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from sciddm.sensitivity import leverage_scores, root_leverage_scores


def qr_leverage(A):
    Q = np.linalg.qr(np.asarray(A, dtype=float))[0]
    return np.sum(Q**2, axis=1)


def svd_leverage(A, r):
    U = np.linalg.svd(A, full_matrices=False)[0]
    return np.sum(U[:, :r] ** 2, axis=1)


@pytest.fixture
def A():
    rng = np.random.default_rng(0)
    return rng.standard_normal((500, 7)) * np.exp(rng.standard_normal(500))[:, None]


@pytest.mark.parametrize("block_size", [None, 1, 7, 499, 10_000])
def test_exact_matches_householder_qr(A, block_size):
    np.testing.assert_allclose(
        leverage_scores(A, block_size=block_size), qr_leverage(A), atol=1e-12
    )


def test_sparse_matches_dense():
    S = sp.random(300, 6, density=0.3, random_state=1, format="csc")
    S = S + sp.vstack([sp.eye(6), sp.csr_matrix((294, 6))])  # full column rank
    np.testing.assert_allclose(
        leverage_scores(S, block_size=50), qr_leverage(S.toarray()), atol=1e-12
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_memmap_streamed(A, tmp_path, dtype):
    path = tmp_path / "a.dat"
    mm = np.memmap(path, dtype=dtype, mode="w+", shape=A.shape)
    mm[:] = A
    mm.flush()
    ro = np.memmap(path, dtype=dtype, mode="r", shape=A.shape)
    ref = qr_leverage(np.asarray(ro, dtype=float))
    np.testing.assert_allclose(leverage_scores(ro, block_size=64), ref, atol=1e-12)
    # a view of a memmap (a slice) streams too
    np.testing.assert_allclose(
        leverage_scores(ro[100:], block_size=64),
        qr_leverage(np.asarray(ro[100:], float)),
        atol=1e-12,
    )


def test_ill_conditioned_uses_cholesky_qr2_or_sketch(A):
    B = A.copy()
    B[:, 1] = B[:, 0] + 1e-6 * B[:, 1]  # cond ~ 1e6: plain Cholesky would lose ~1e-4
    np.testing.assert_allclose(leverage_scores(B, rng=0), qr_leverage(B), atol=1e-9)
    B[:, 2] = B[:, 0] + 1e-10 * B[:, 2]  # cond ~ 1e10: Cholesky of the Gram fails
    np.testing.assert_allclose(leverage_scores(B, rng=0), qr_leverage(B), atol=1e-5)


def test_rank_deficient_sum_is_rank(A):
    B = A.copy()
    B[:, 3] = 2 * B[:, 0] - B[:, 1]
    B[:, 5] = 0.0
    tau = leverage_scores(B, rng=0)
    assert abs(tau.sum() - 5) < 1e-9
    np.testing.assert_allclose(tau, svd_leverage(B, 5), atol=1e-10)


def test_more_columns_than_rows():
    A = np.random.default_rng(2).standard_normal((4, 9))
    np.testing.assert_allclose(leverage_scores(A, rng=0), np.ones(4), atol=1e-10)


def test_zero_rows_get_zero(A):
    B = A.copy()
    B[[3, 17]] = 0.0
    tau = leverage_scores(B)
    assert tau[3] == 0.0 and tau[17] == 0.0


@pytest.mark.parametrize("sketch", ["sparse-sign", "countsketch", "gaussian"])
def test_sketched_constant_factor(A, sketch):
    exact = leverage_scores(A)
    approx = leverage_scores(A, method="sketch", sketch=sketch, sketch_size=200, rng=3)
    ratio = approx / exact
    # with m = 200 >> d = 7 the embedding distorts norms by a constant factor
    assert 0.25 < ratio.min() and ratio.max() < 4
    assert abs(np.median(ratio) - 1) < 0.3


def test_sketch_with_jl(A):
    exact = leverage_scores(A)
    approx = leverage_scores(A, method="sketch", jl_dim=4, sketch_size=300, rng=0)
    assert abs(approx.sum() / exact.sum() - 1) < 0.5


def test_sketch_reproducible(A):
    a = leverage_scores(A, method="sketch", rng=5)
    b = leverage_scores(A, method="sketch", rng=5)
    np.testing.assert_array_equal(a, b)


def test_root_leverage(A):
    tau = qr_leverage(A)
    np.testing.assert_allclose(root_leverage_scores(A, 1), np.sqrt(tau), atol=1e-12)
    np.testing.assert_allclose(root_leverage_scores(A, 4), 500 * tau**2, rtol=1e-10)


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.zeros((0, 3)), "`A` must be non-empty"),
        (np.zeros((3, 0)), "`A` must be non-empty"),
        (np.ones(3), "`A` must have 2 dimension"),
        (
            np.array([[1.0, np.nan], [0.0, 1.0]]),
            r"`A` must not contain NaN or inf; found nan at index \(0, 1\)",
        ),
        (
            np.array([[1.0, 0.0], [np.inf, 1.0]]),
            r"`A` must not contain NaN or inf; found inf at index \(1, 0\)",
        ),
        (sp.csr_matrix(np.array([[1.0, np.nan], [0.0, 1.0]])), "`A` must not contain NaN or inf"),
        (np.array([["a", "b"]]), "`A` must be a real numeric array"),
    ],
)
def test_bad_input(bad, match):
    with pytest.raises(ValueError, match=match):
        leverage_scores(bad)


def test_nan_in_memmap_located(tmp_path):
    path = tmp_path / "nan.dat"
    mm = np.memmap(path, dtype=np.float64, mode="w+", shape=(100, 3))
    mm[:] = 1.0
    mm[:, 1] = np.arange(100)
    mm[77, 2] = np.nan
    mm.flush()
    with pytest.raises(ValueError, match=r"at index \(77, 2\)"):
        leverage_scores(np.memmap(path, dtype=np.float64, mode="r", shape=(100, 3)), block_size=10)


def test_bad_options(A):
    with pytest.raises(ValueError, match="`method` must be one of"):
        leverage_scores(A, method="qr")
    with pytest.raises(ValueError, match="`sketch` must be one of"):
        leverage_scores(A, sketch="srht")
    with pytest.raises(ValueError, match="`block_size` must be an integer >= 1"):
        leverage_scores(A, block_size=0)
    with pytest.raises(ValueError, match="`sketch_size` must be an integer >= 1"):
        leverage_scores(A, method="sketch", sketch_size=0)
    with pytest.raises(ValueError, match="`p` must be in"):
        root_leverage_scores(A, 0.5)


def test_all_zero_matrix_is_an_error():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="`A` has rank 0"):
            leverage_scores(np.zeros((5, 2)))


@pytest.mark.slow
def test_memmap_pages_are_released(tmp_path):
    """Streaming a 320 MB memmap keeps the child's peak RSS far below the file size."""
    import sys
    from pathlib import Path

    from tests._proc import run_bounded

    n, d = 2_000_000, 20
    path = tmp_path / "big.f64"
    rng = np.random.default_rng(0)
    with open(path, "wb") as f:
        for _ in range(n // 500_000):
            f.write(rng.standard_normal((500_000, d)).tobytes())
    root = Path(__file__).resolve().parents[2]
    code = (
        "import resource, sys, numpy as np\n"
        f"sys.path.insert(0, {str(root)!r})\n"
        "from sciddm.sensitivity import leverage_scores\n"
        "import resource\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        f"A = np.memmap({str(path)!r}, dtype=np.float64, mode='r', shape=({n}, {d}))\n"
        "tau = leverage_scores(A)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base, tau.sum())\n"
    )
    out = run_bounded([sys.executable, "-c", code], timeout=300, check=True)
    grown_kib, total = out.stdout.split()
    assert abs(float(total) - d) < 1e-8
    assert int(grown_kib) < 120 * 1024  # tau (16 MB) + blocks, not the 320 MB file


def test_sketch_is_exact_when_n_is_below_the_sketch_size(A):
    np.testing.assert_allclose(
        leverage_scores(A, method="sketch", sketch_size=600, jl_dim=50, rng=0),
        qr_leverage(A),
        atol=1e-12,
    )
    wide = np.random.default_rng(4).standard_normal((3, 5))
    np.testing.assert_allclose(leverage_scores(wide, method="sketch", rng=0), 1.0, atol=1e-12)
