"""irn.ksg against closed forms (Gaussians), invariances, ties, and the ennemi package.

Tolerances are stated per test: at N = 2000 samples the KSG estimate of a Gaussian MI has a
standard deviation of about 0.015 bits and a bias well below that (Kraskov et al. 2004, Fig. 4),
so 0.05 bits is about three standard deviations.
"""

import numpy as np
import pytest

from irn import ksg

N = 2000
TOL = 0.05  # bits, at N = 2000


def gaussian(cov, n=N, seed=0):
    return np.random.default_rng(seed).multivariate_normal(np.zeros(len(cov)), cov, size=n)


def mi_closed(cov, ix, iy):
    c = np.asarray(cov)
    sub = lambda idx: np.linalg.det(c[np.ix_(idx, idx)])  # noqa: E731
    return 0.5 * np.log2(sub(ix) * sub(iy) / sub(ix + iy))


@pytest.mark.parametrize("rho", [0.0, 0.3, 0.6, 0.9])
def test_bivariate_gaussian(rho):
    data = gaussian([[1, rho], [rho, 1]])
    expected = -0.5 * np.log2(1 - rho ** 2)
    assert ksg.mutual_information(data[:, 0], data[:, 1]) == pytest.approx(expected, abs=TOL)


def test_multivariate_gaussian_by_determinants():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(4, 4))
    cov = a @ a.T + 0.5 * np.eye(4)
    data = gaussian(cov, seed=2)
    expected = mi_closed(cov, [0, 1], [2, 3])
    assert expected > 0.2
    assert ksg.mutual_information(data[:, :2], data[:, 2:]) == pytest.approx(expected, abs=2 * TOL)


def test_cmi_by_partial_correlation():
    cov = np.array([[1.0, 0.6, 0.5], [0.6, 1.0, 0.4], [0.5, 0.4, 1.0]])
    data = gaussian(cov, seed=3)
    p = np.linalg.inv(cov)
    partial = -p[0, 1] / np.sqrt(p[0, 0] * p[1, 1])
    expected = -0.5 * np.log2(1 - partial ** 2)
    got = ksg.conditional_mutual_information(data[:, 0], data[:, 1], data[:, 2])
    assert got == pytest.approx(expected, abs=TOL)
    # chain rule: I(X;Y|Z) = I(X;YZ) − I(X;Z), both by determinants
    assert expected == pytest.approx(mi_closed(cov, [0], [1, 2]) - mi_closed(cov, [0], [2]))


def test_independent_is_near_zero_and_not_clipped():
    sets = [np.random.default_rng(seed).normal(size=(N, 3)) for seed in range(40, 45)]
    mi = [ksg.mutual_information(d[:, 0], d[:, 1]) for d in sets]
    cmi = [ksg.conditional_mutual_information(d[:, 0], d[:, 1], d[:, 2]) for d in sets]
    assert max(np.abs(mi + cmi)) < TOL
    assert abs(np.mean(mi)) < 0.02 and abs(np.mean(cmi)) < 0.02  # five sets: sd of the mean ≈ 0.01
    # unclipped: independent pairs give estimates of both signs around 0
    many = ksg.mutual_information_matrix(np.random.default_rng(5).normal(size=(500, 12)))[0]
    off = many[~np.eye(12, dtype=bool)]
    assert off.min() < 0 < off.max()


def test_invariant_under_monotone_maps():
    data = gaussian([[1, 0.7], [0.7, 1]], seed=6)
    base = ksg.mutual_information(data[:, 0], data[:, 1])
    mapped = ksg.mutual_information(np.exp(data[:, 0]), data[:, 1] ** 3 + 2 * data[:, 1])
    assert mapped == pytest.approx(base, abs=TOL)
    # invariant under affine maps (z-scoring) up to float rounding, which can move a few counts
    affine = ksg.mutual_information(3 * data[:, 0] - 7, 0.01 * data[:, 1])
    assert affine == pytest.approx(base, abs=1e-3)


def test_rounded_data_with_ties():
    rho = 0.6
    data = np.round(gaussian([[1, rho], [rho, 1]], seed=7), 1)  # ~60 distinct values per column
    assert len(np.unique(data[:, 0])) < 100
    got = ksg.mutual_information(data[:, 0], data[:, 1])
    assert np.isfinite(got)
    assert got == pytest.approx(-0.5 * np.log2(1 - rho ** 2), abs=TOL)


def test_saturated_unit_carries_one_bit():
    x = np.random.default_rng(8).normal(size=N)
    saturated = np.tanh(np.float32(50) * x.astype(np.float32))  # most values exactly ±1
    assert np.mean(np.abs(saturated) == 1) > 0.5
    got = ksg.mutual_information(x, np.sign(x))
    assert np.isfinite(got) and got == pytest.approx(1.0, abs=TOL)
    both = ksg.mutual_information(saturated, np.random.default_rng(9).choice([-1.0, 1.0], N))
    assert np.isfinite(both) and abs(both) < 0.03
    assert np.isfinite(ksg.entropy(np.sign(x)))


@pytest.mark.parametrize("sd", [0.5, 2.0])
def test_gaussian_entropy(sd):
    x = np.random.default_rng(10).normal(scale=sd, size=(N, 2))
    expected = 2 * 0.5 * np.log2(2 * np.pi * np.e * sd ** 2)
    assert ksg.entropy(x) == pytest.approx(expected, abs=TOL)


def test_lag_pairs_past_x_with_present_y():
    rng = np.random.default_rng(11)
    x = rng.normal(size=N + 2)
    y = np.roll(x, 2) + 0.5 * rng.normal(size=N + 2)  # y[t] = x[t − 2] + noise
    x, y = x[2:], y[2:]
    expected = -0.5 * np.log2(1 - 1 / 1.25)
    assert ksg.mutual_information(x, y, lag=2) == pytest.approx(expected, abs=TOL)
    assert abs(ksg.mutual_information(x, y, lag=0)) < 0.03
    assert abs(ksg.mutual_information(x, y, lag=-2)) < 0.03


def test_theiler_window_removes_autocorrelation_bias():
    # two independent, strongly autocorrelated AR(1) series: without a window neighbours are
    # temporal neighbours and the estimate is biased upward
    rng = np.random.default_rng(12)
    a = np.zeros((N, 2))
    for t in range(1, N):
        a[t] = 0.99 * a[t - 1] + rng.normal(size=2)
    plain = ksg.mutual_information(a[:, 0], a[:, 1])
    windowed = ksg.mutual_information(a[:, 0], a[:, 1], theiler=50)
    assert abs(windowed) < abs(plain)


def test_matrix_equals_pairwise_calls():
    rng = np.random.default_rng(13)
    s = rng.normal(size=(600, 4))
    s[1:, 1] += 0.8 * s[:-1, 0]
    s[2:, 2] += 0.6 * s[:-2, 1]
    m = ksg.mutual_information_matrix(s, lags=[0, 1, 2], seed=3)
    assert m.shape == (3, 4, 4)
    start = 2
    prepared = ksg.prepare(s, True, ksg.DEFAULT_NOISE, 3)
    for li, lag in enumerate([0, 1, 2]):
        for i in range(4):
            for j in range(4):
                x, y = prepared[start - lag:600 - lag, i], prepared[start:, j]
                assert m[li, i, j] == pytest.approx(
                    ksg.mutual_information(x, y, noise=0, normalize=False), abs=1e-12)
    assert m[1, 0, 1] > 0.3 and m[2, 1, 2] > 0.1
    prepared0 = ksg.prepare(s, True, ksg.DEFAULT_NOISE, 0)
    te0 = ksg.mutual_information_matrix(s, lags=[1], history=1, conditions=[3], sources=[0],
                                        targets=[1], seed=0)
    x, y = prepared0[0:-1, 0], prepared0[1:, 1]
    z = np.column_stack([prepared0[0:-1, 1], prepared0[0:-1, 3]])
    assert te0[0, 0, 0] == pytest.approx(
        ksg.conditional_mutual_information(x, y, z, noise=0, normalize=False), abs=1e-12)


def test_surrogates_separate_dependence_from_chance():
    rng = np.random.default_rng(14)
    x = rng.normal(size=800)
    dependent = ksg.surrogate_test(x, x + rng.normal(size=800), surrogates=19)
    independent = ksg.surrogate_test(x, rng.normal(size=800), surrogates=19, method="shuffle")
    assert dependent.p_value == pytest.approx(1 / 20)
    assert dependent.excess > 0.3
    assert independent.p_value > 0.05
    assert len(independent.null) == 19


def kdtree_reference(x, y, k=3):
    """KSG algorithm 1 in bits with scipy's k-d tree (as chapter 9 writes it)."""
    from scipy.spatial import cKDTree
    from scipy.special import digamma

    xy = np.column_stack([x, y])
    eps = cKDTree(xy).query(xy, k + 1, p=np.inf)[0][:, -1]
    radius = np.nextafter(eps, 0)
    n_x = cKDTree(x[:, None]).query_ball_point(x[:, None], radius, p=np.inf, return_length=True) - 1
    n_y = cKDTree(y[:, None]).query_ball_point(y[:, None], radius, p=np.inf, return_length=True) - 1
    return (digamma(k) + digamma(len(x)) - np.mean(digamma(n_x + 1) + digamma(n_y + 1))) / np.log(2)


@pytest.mark.parametrize("decimals", [1, 2, 8])
def test_equals_a_kdtree_reference_on_tied_data(decimals):
    rng = np.random.default_rng(17)
    x = np.round(rng.normal(size=1200), decimals)
    y = np.round(x + 0.3 * rng.normal(size=1200), decimals)
    pair = ksg.prepare(np.column_stack([x, y]), True, ksg.DEFAULT_NOISE, 0)
    assert ksg.mutual_information(x, y) == pytest.approx(kdtree_reference(pair[:, 0], pair[:, 1]), abs=1e-12)


ennemi = pytest.importorskip("ennemi")


def test_agrees_with_ennemi():
    rng = np.random.default_rng(15)
    cov = np.array([[1.0, 0.5, 0.3], [0.5, 1.0, 0.6], [0.3, 0.6, 1.0]])
    data = gaussian(cov, n=1500, seed=16)
    x, y, z = data.T
    y = np.roll(y, 1) + 0.3 * rng.normal(size=1500)
    for lag in (0, 1):
        ours = ksg.mutual_information(x, y, lag=lag, noise=0)
        theirs = ennemi.estimate_mi(y, x, lag=lag, k=3, normalize=False, preprocess=True) / np.log(2)
        assert ours == pytest.approx(float(np.squeeze(theirs)), abs=1e-3)
    ours = ksg.conditional_mutual_information(x, y, z, noise=0)
    theirs = ennemi.estimate_mi(y, x, k=3, cond=z, preprocess=True) / np.log(2)
    assert ours == pytest.approx(float(np.squeeze(theirs)), abs=1e-3)


@pytest.mark.parametrize("call, message", [
    (lambda: ksg.mutual_information(np.ones(10), np.ones(9)), "samples"),
    (lambda: ksg.mutual_information(np.ones(10), np.ones(10), k=0), "k must"),
    (lambda: ksg.mutual_information(np.ones(10), np.ones(10), k=9), "k must"),
    (lambda: ksg.mutual_information([np.nan] * 10, np.ones(10)), "finite"),
    (lambda: ksg.mutual_information(np.ones(10), np.ones(10), lag=10), "lag must"),
    (lambda: ksg.mutual_information(np.ones(10), np.ones(10), theiler=-1), "theiler must"),
    (lambda: ksg.mutual_information(np.ones(10), np.ones(10), noise=-1), "noise must"),
    (lambda: ksg.entropy(np.ones((10, 0))), "x must"),
    (lambda: ksg.mutual_information_matrix(np.ones((50, 3)), lags=[-1]), "lags must"),
    (lambda: ksg.mutual_information_matrix(np.ones((50, 3)), sources=[3]), "sources must"),
    (lambda: ksg.mutual_information_matrix(np.ones((50, 3)), history=-1), "history must"),
    (lambda: ksg.surrogate_test(np.ones(50), np.ones(50), method="bootstrap"), "method must"),
    (lambda: ksg.surrogate_test(np.ones(50), np.ones(50), surrogates=0), "surrogates must"),
])
def test_bad_input_is_rejected(call, message):
    with pytest.raises(ValueError, match=message):
        call()
