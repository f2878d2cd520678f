"""irn.ksg against closed forms (Gaussians, a coupled autoregressive pair), invariances, ties, a
straightforward per-pair implementation kept here (``brute_force``: every distance of every
pair, no grid, no sorting), and the ennemi package.

Tolerances are stated per test: at N = 2000 samples the KSG estimate of a Gaussian MI has a
standard deviation of about 0.015 bits and a bias well below that (Kraskov et al. 2004, Fig. 4),
so 0.05 bits is about three standard deviations. The fast kernels must equal the brute-force
reference to 1e-9 bits (the same counts; only the order of a sum differs) and ennemi to 1e-3
nats (ennemi shrinks each radius by 1e-12 instead of counting strictly).
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


GOOD = np.random.default_rng(30).normal(size=(60, 3))


@pytest.mark.parametrize("call, message", [
    (lambda: ksg.mutual_information(np.ones(10), np.ones(9)), "samples"),
    (lambda: ksg.mutual_information(np.ones(10), np.ones(10), k=0), "k must"),
    (lambda: ksg.mutual_information(np.ones(10), np.ones(10), k=9), "k must"),
    (lambda: ksg.mutual_information(np.ones(10), np.ones(10), k=2.0), "k must"),
    (lambda: ksg.mutual_information([np.nan] * 10, np.ones(10)), "finite"),
    (lambda: ksg.mutual_information(np.ones(10), [np.inf] + [1.0] * 9), "finite"),
    (lambda: ksg.mutual_information(np.ones(10), np.ones(10), lag=10), "lag must"),
    (lambda: ksg.mutual_information(np.ones(10), np.ones(10), lag=1.5), "lag must"),
    (lambda: ksg.mutual_information(np.ones(10), np.ones(10), theiler=-1), "theiler must"),
    (lambda: ksg.mutual_information(np.ones(10), np.ones(10), theiler=4), "theiler must"),
    (lambda: ksg.mutual_information(np.ones(10), np.ones(10), noise=-1), "noise must"),
    (lambda: ksg.mutual_information(np.ones(10), np.ones(10), normalize="yes"), "normalize must"),
    (lambda: ksg.mutual_information(np.ones(10), np.ones(10), seed=-1), "seed must"),
    (lambda: ksg.mutual_information(np.ones((10, 2, 2)), np.ones(10)), "x must"),
    (lambda: ksg.mutual_information(["a"] * 10, np.ones(10)), "x must hold numbers"),
    (lambda: ksg.mutual_information(np.ones(2), np.ones(2)), "samples"),
    (lambda: ksg.conditional_mutual_information(np.ones(10), np.ones(10), np.ones((10, 0))), "z must"),
    (lambda: ksg.conditional_mutual_information(np.ones(10), np.ones(10), [np.nan] * 10), "z must"),
    (lambda: ksg.entropy(np.ones((10, 0))), "x must"),
    (lambda: ksg.entropy(np.ones(0)), "x must"),
    (lambda: ksg.entropy(np.ones(10), k=20), "k must"),
    (lambda: ksg.mutual_information_matrix([["a", "b"], ["c", "d"]] * 10), "series must hold numbers"),
    (lambda: ksg.mutual_information_matrix(np.ones(50)), "series must"),
    (lambda: ksg.mutual_information_matrix(np.full((50, 3), np.nan)), "finite"),
    (lambda: ksg.mutual_information_matrix(np.ones((50, 3)), lags=[-1]), "lags must"),
    (lambda: ksg.mutual_information_matrix(np.ones((50, 3)), lags=[50]), "lags must"),
    (lambda: ksg.mutual_information_matrix(np.ones((50, 3)), lags=[]), "lags must"),
    (lambda: ksg.mutual_information_matrix(np.ones((50, 3)), lags=[0.5]), "lags must"),
    (lambda: ksg.mutual_information_matrix(np.ones((50, 3)), lags=["1"]), "lags must"),
    (lambda: ksg.mutual_information_matrix(np.ones((50, 3)), sources=[3]), "sources must"),
    (lambda: ksg.mutual_information_matrix(np.ones((50, 3)), targets=[]), "targets must"),
    (lambda: ksg.mutual_information_matrix(np.ones((50, 3)), conditions=[1.5]), "conditions must"),
    (lambda: ksg.mutual_information_matrix(np.ones((50, 3)), history=-1), "history must"),
    (lambda: ksg.mutual_information_matrix(np.ones((50, 3)), lags=[40], k=9), "k must"),
    (lambda: ksg.surrogate_test(np.ones(50), np.ones(50), method="bootstrap"), "method must"),
    (lambda: ksg.surrogate_test(np.ones(50), np.ones(50), surrogates=0), "surrogates must"),
    (lambda: ksg.surrogate_test(np.ones(50), np.ones(50), min_shift=25), "min_shift must"),
    (lambda: ksg.surrogate_test([np.inf] * 50, np.ones(50)), "finite"),
    (lambda: ksg.surrogate_offsets(100, 5, 60, np.random.default_rng(0)), "min_shift must"),
    (lambda: ksg.surrogate_offsets(100, 5, 10, 0), "rng must"),
    (lambda: ksg.prepare(np.ones(10)), "columns must"),
    (lambda: ksg.conditional_scan(GOOD, 3, [(0, 1)]), "target must"),
    (lambda: ksg.conditional_scan(GOOD, 0, []), "sources must"),
    (lambda: ksg.conditional_scan(GOOD, 0, [(1, -1)]), "sources must"),
    (lambda: ksg.conditional_scan(GOOD, 0, [(1, 1, 2)]), "sources must"),
    (lambda: ksg.conditional_scan(GOOD, 0, [(5, 1)]), "sources must"),
    (lambda: ksg.conditional_scan(GOOD, 0, ["a"]), "sources must"),
    (lambda: ksg.conditional_scan(GOOD, 0, [(1, 1)], [(0, 1.0)]), "conditioning must"),
    (lambda: ksg.conditional_scan(GOOD, 0, [(1, 2)], start=1), "start must"),
    (lambda: ksg.conditional_scan(GOOD, 0, [(1, 1)], surrogates=-1), "surrogates must"),
    (lambda: ksg.conditional_scan(GOOD, 0, [(1, 1)], method="flip"), "method must"),
    (lambda: ksg.conditional_scan(np.ones((4, 3)), 0, [(1, 1)]), "samples"),
])
def test_bad_input_is_rejected_before_any_work(call, message, monkeypatch):
    def no_work(*args, **kwargs):
        raise AssertionError("the estimator started work on a bad call")

    monkeypatch.setattr(ksg, "_prepare", no_work)
    with pytest.raises(ValueError, match=message):
        call()


# -- the fast kernels against a straightforward per-pair implementation ------------------------
def brute_force(x, y, z=None, k=3, theiler=0):
    """KSG (z None) or Frenzel–Pompe in bits, from every pairwise max-norm distance: no grid, no
    sorting, no search. x, y, z: (samples, dims) already prepared (used as given)."""
    from scipy.special import digamma

    def distances(a):
        d = np.abs(a[:, None, :] - a[None, :, :]).max(axis=2)
        n = len(a)
        near = np.abs(np.arange(n)[:, None] - np.arange(n)[None, :]) <= theiler
        d[near] = np.inf  # the sample itself and its Theiler window
        return d

    spaces = [x, y] if z is None else [np.hstack([x, z]), np.hstack([z, y]), z]
    joint = np.hstack([x, y] if z is None else [x, z, y])
    eps = np.sort(distances(joint), axis=1)[:, k - 1]
    counts = [(distances(s) < eps[:, None]).sum(axis=1) for s in spaces]
    n = len(x)
    if z is None:
        value = digamma(k) + digamma(max(n - 2 * theiler, 2)) - np.mean(digamma(counts[0] + 1) + digamma(counts[1] + 1))
    else:
        value = digamma(k) - np.mean(digamma(counts[0] + 1) + digamma(counts[1] + 1) - digamma(counts[2] + 1))
    return value / np.log(2)


def datasets(n=500):
    """Prepared (samples, 4) data sets: Gaussian, a saturated tanh (ties broken only by the 1e-10
    noise), rounded values (ties), and an autocorrelated chain."""
    rng = np.random.default_rng(20)
    g = rng.multivariate_normal(np.zeros(4), [[1, .6, .3, .2], [.6, 1, .4, .1], [.3, .4, 1, .5], [.2, .1, .5, 1]], n)
    saturated = np.tanh(np.float32(20) * g.astype(np.float32)).astype(float)  # most values exactly ±1
    rounded = np.round(g, 1)
    chain = np.zeros((n, 4))
    for t in range(1, n):
        chain[t] = 0.8 * chain[t - 1] + rng.normal(size=4)
        chain[t, 1] += 0.7 * chain[t - 1, 0]
    return {name: ksg.prepare(d, True, ksg.DEFAULT_NOISE, 0) for name, d in
            [("gaussian", g), ("saturated", saturated), ("rounded", rounded), ("chain", chain)]}


SETS = datasets()
RAW = {"normalize": False, "noise": 0.0}


@pytest.mark.parametrize("name", sorted(SETS))
@pytest.mark.parametrize("lag, theiler, k", [(0, 0, 3), (2, 0, 3), (1, 5, 4), (3, 2, 1)])
def test_fast_kernels_equal_brute_force(name, lag, theiler, k):
    d = SETS[name]
    n = len(d)
    x, y, z = d[:n - lag, :1], d[lag:, 1:2], d[lag:, 2:4]  # x[t − lag] with y[t], z[t]
    mi = ksg.mutual_information(d[:, 0], d[:, 1], k, lag=lag, theiler=theiler, **RAW)
    assert mi == pytest.approx(brute_force(x, y, k=k, theiler=theiler), abs=1e-9)
    cmi = ksg.conditional_mutual_information(d[:, 0], d[:, 1], d[:, 2:], k, lag=lag, theiler=theiler, **RAW)
    assert cmi == pytest.approx(brute_force(x, y, z, k=k, theiler=theiler), abs=1e-9)
    two = ksg.mutual_information(d[:, :2], d[:, 2:], k, lag=lag, theiler=theiler, **RAW)
    assert two == pytest.approx(brute_force(d[:n - lag, :2], d[lag:, 2:], k=k, theiler=theiler), abs=1e-9)


def test_saturated_set_has_near_ties():
    # the point of the "saturated" set: most values equal up to the tie-breaking noise
    for column in SETS["saturated"].T:
        gaps = np.diff(np.sort(column))
        assert np.mean(gaps < 1e-8) > 0.5


@pytest.mark.parametrize("name", ["gaussian", "saturated", "chain"])
def test_matrix_entries_equal_brute_force(name):
    d = SETS[name]
    n = len(d)
    lags, history, theiler = [0, 1, 2], 1, 2
    m = ksg.mutual_information_matrix(d, lags, 3, history=0, theiler=theiler, **RAW)
    te = ksg.mutual_information_matrix(d, [1, 2], 3, history=history, conditions=[3], theiler=theiler,
                                       sources=[0, 1], targets=[1, 2], **RAW)
    start = 2
    for li, lag in enumerate(lags):
        for s in range(4):
            for t in range(4):
                if lag == 0 and s == t:
                    continue
                want = brute_force(d[start - lag:n - lag, s:s + 1], d[start:, t:t + 1], theiler=theiler)
                assert m[li, s, t] == pytest.approx(want, abs=1e-9)
    for li, lag in enumerate([1, 2]):
        for si, s in enumerate([0, 1]):
            for ti, t in enumerate([1, 2]):
                z = np.column_stack([d[start - 1:n - 1, t], d[start - lag:n - lag, 3]])
                want = brute_force(d[start - lag:n - lag, s:s + 1], d[start:, t:t + 1], z, theiler=theiler)
                assert te[li, si, ti] == pytest.approx(want, abs=1e-9)


def test_entropy_equals_brute_force():
    from scipy.special import digamma

    d = SETS["gaussian"][:, :2]
    dist = np.abs(d[:, None, :] - d[None, :, :]).max(axis=2)
    np.fill_diagonal(dist, np.inf)
    eps = np.sort(dist, axis=1)[:, 2]
    want = (digamma(len(d)) - digamma(3) + 2 * np.mean(np.log(2 * eps))) / np.log(2)
    assert ksg.entropy(d, 3, noise=0) == pytest.approx(want, abs=1e-9)


def test_surrogate_test_value_equals_the_estimate():
    d = SETS["chain"]
    test = ksg.surrogate_test(d[:, 0], d[:, 1], d[:, 2], lag=1, surrogates=9, seed=4)
    assert test.value == ksg.conditional_mutual_information(d[:, 0], d[:, 1], d[:, 2], lag=1, seed=4)


# -- the conditional form: closed forms and ennemi ---------------------------------------------
def coupled_pair(n=4000, a=0.5, b=0.6, c=0.8, seed=21):
    """X[t] = a X[t−1] + e, Y[t] = b Y[t−1] + c X[t−1] + e' (unit noises): X drives Y."""
    rng = np.random.default_rng(seed)
    xy = np.zeros((n + 200, 2))
    for t in range(1, len(xy)):
        xy[t, 0] = a * xy[t - 1, 0] + rng.normal()
        xy[t, 1] = b * xy[t - 1, 1] + c * xy[t - 1, 0] + rng.normal()
    return xy[200:]


def transfer_entropy_closed_form(a=0.5, b=0.6, c=0.8):
    """I(X[t−1]; Y[t] | Y[t−1]) in bits for ``coupled_pair``: ½ log₂ Var(Y[t] | Y[t−1]) / Var(e')."""
    from scipy.linalg import solve_discrete_lyapunov

    sigma = solve_discrete_lyapunov(np.array([[a, 0.0], [c, b]]), np.eye(2))  # stationary covariance
    var_y = sigma[1, 1]
    cov_lag = c * sigma[0, 1] + b * sigma[1, 1]  # Cov(Y[t], Y[t−1])
    return 0.5 * np.log2((var_y - cov_lag ** 2 / var_y) / 1.0)


def test_transfer_entropy_of_a_coupled_pair_matches_its_closed_form():
    xy = coupled_pair()
    expected = transfer_entropy_closed_form()
    assert expected > 0.25
    te = ksg.mutual_information_matrix(xy, [1], history=1)[0]
    assert te[0, 1] == pytest.approx(expected, abs=TOL)
    assert abs(te[1, 0]) < 0.03  # Y does not drive X
    scan = ksg.conditional_scan(xy, 1, [(0, 1)], [(1, 1)])
    assert scan.values[0] == pytest.approx(te[0, 1], abs=1e-12)  # the same estimate, the same range


def test_cmi_of_several_columns_by_partial_correlation():
    rng = np.random.default_rng(22)
    a = rng.normal(size=(5, 5))
    cov = a @ a.T + np.eye(5)
    data = gaussian(cov, seed=23)
    # I(X0; X1 | X2, X3, X4) from the precision matrix of the five
    sub = np.linalg.inv(cov)
    partial = -sub[0, 1] / np.sqrt(sub[0, 0] * sub[1, 1])
    expected = -0.5 * np.log2(1 - partial ** 2)
    got = ksg.conditional_mutual_information(data[:, 0], data[:, 1], data[:, 2:])
    assert got == pytest.approx(expected, abs=2 * TOL)


def test_conditional_forms_agree_with_ennemi():
    ennemi = pytest.importorskip("ennemi")
    d = ksg.prepare(coupled_pair(n=1500)[:, [0, 1]], True, ksg.DEFAULT_NOISE, 0)
    extra = ksg.prepare(np.random.default_rng(24).normal(size=(1500, 1)) + d[:, :1], True, 0.0, 0)
    series = np.column_stack([d, extra])
    te = ksg.mutual_information_matrix(series, [1], history=1, conditions=[2], **RAW)[0] * np.log(2)
    for s, t in [(0, 1), (1, 0)]:
        theirs = ennemi.estimate_mi(series[:, t], series[:, s], lag=1, k=3, preprocess=False,
                                    cond=np.column_stack([series[:, t], series[:, 2]]), cond_lag=1)
        assert te[s, t] == pytest.approx(float(np.squeeze(theirs)), abs=1e-3)
    scan = ksg.conditional_scan(series, 1, [(0, 1), (2, 1)], [(1, 1)], **RAW)  # t = 1 …, as ennemi's
    for (s, lag), ours in zip(scan.sources, scan.values * np.log(2)):
        theirs = ennemi.estimate_mi(series[:, 1], series[:, s], lag=lag, k=3, preprocess=False,
                                    cond=series[:, 1], cond_lag=1)
        assert ours == pytest.approx(float(np.squeeze(theirs)), abs=1e-3)


# -- surrogates: the batched path and the one-at-a-time path -----------------------------------
@pytest.mark.parametrize("method", ["shift", "shuffle"])
def test_batched_surrogates_equal_one_at_a_time(method):
    d = SETS["chain"]
    n = len(d)
    start, surrogates, seed = 2, 19, 7
    sources = [(0, 1), (2, 2), (3, 1)]
    scan = ksg.conditional_scan(d, 1, sources, [(1, 1)], surrogates=surrogates, method=method, start=start,
                                seed=seed, **RAW)
    y, z = d[start:, 1], d[start - 1:n - 1, 1]
    rng = np.random.default_rng(seed)
    used = n - start
    if method == "shift":
        draws = [np.roll(np.arange(used), s) for s in ksg.surrogate_offsets(used, surrogates, used // 10, rng)]
    else:
        draws = [rng.permutation(used) for _ in range(surrogates)]
    for ci, (s, lag) in enumerate(sources):
        x = d[start - lag:n - lag, s]
        one = ksg.surrogate_test(x, y, z, surrogates=surrogates, method=method, seed=seed, **RAW)
        loop = np.array([ksg.conditional_mutual_information(x[order], y, z, **RAW) for order in draws])
        assert scan.values[ci] == one.value
        np.testing.assert_allclose(scan.null[:, ci], loop, atol=1e-12)
        np.testing.assert_allclose(one.null, loop, atol=1e-12)
        p = (1 + np.count_nonzero(loop >= scan.values[ci])) / (1 + surrogates)
        assert scan.p_values[ci] == p == one.p_value


def test_scan_selects_the_driver_and_its_max_statistic():
    xy = coupled_pair(n=1500)
    noise = np.random.default_rng(25).normal(size=(1500, 2))
    series = np.column_stack([xy, noise])
    scan = ksg.conditional_scan(series, 1, [(0, 1), (2, 1), (3, 1), (0, 2)], [(1, 1)], start=2, surrogates=49)
    assert scan.sources[scan.best] == (0, 1)
    assert scan.max_p_value() == pytest.approx(1 / 50)
    assert scan.p_values[0] == pytest.approx(1 / 50)
    weak = ksg.conditional_scan(series, 1, [(2, 1), (3, 1)], [(1, 1), (0, 1)], start=2, surrogates=49)
    assert weak.max_p_value() > 0.05 and weak.min_p_value() > 0.05
    joint = ksg.conditional_scan(series, 1, [[(0, 1), (2, 1)]], [(1, 1)], start=2, surrogates=19)
    assert joint.values[0] > 0.2 and joint.p_values[0] == pytest.approx(1 / 20)  # a joint candidate


def test_p_values_against_a_hand_count():
    """(1 + surrogates at or above the value) / (1 + surrogates), per column or against one shared column."""
    null = np.array([[0.1, 0.5], [0.3, 0.2], [0.3, 0.9], [0.0, 0.1]])
    np.testing.assert_allclose(ksg.p_values(np.array([0.3, 0.6]), null), [(1 + 2) / 5, (1 + 1) / 5])
    np.testing.assert_allclose(ksg.p_values(np.array([0.25, 1.0]), null.max(axis=1)[:, None]), [(1 + 3) / 5, 1 / 5])
    with pytest.raises(ValueError, match="^values "):
        ksg.p_values(np.zeros((2, 2)), null)
    with pytest.raises(ValueError, match="^null "):
        ksg.p_values(np.zeros(3), null)
