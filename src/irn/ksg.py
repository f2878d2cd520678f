"""Continuous information: k-nearest-neighbour (KSG) estimates of entropy, mutual information and
conditional mutual information of real-valued samples, in bits.

``irn.info`` is the discrete core (plug-in estimates on integer codes, used by the relay method);
this module is its continuous counterpart, for the information-flow analysis of Ivanovic, Kha &
Muruganantham ("Analyzing Information in RNNs", CS 294-131 report, §3–4): time-delayed mutual
information between real-valued neurons. DESIGN §12 fixes the estimators:

* ``mutual_information`` — Kraskov, Stögbauer & Grassberger (Phys. Rev. E 69, 066138, 2004),
  algorithm 1: ``I = ψ(k) + ψ(N) − ⟨ψ(n_x + 1) + ψ(n_y + 1)⟩``, where ``ε_i`` is the max-norm
  distance from sample i to its k-th neighbour in the joint space and ``n_x`` counts the samples
  *strictly* closer than ``ε_i`` in the x space (likewise ``n_y``).
* ``conditional_mutual_information`` — Frenzel & Pompe (Phys. Rev. Lett. 99, 204101, 2007):
  ``I(X;Y|Z) = ψ(k) − ⟨ψ(n_xz + 1) + ψ(n_yz + 1) − ψ(n_z + 1)⟩``.
* ``entropy`` — Kozachenko & Leonenko (1987) with the max-norm (KSG Eq. 20):
  ``H = ψ(N) − ψ(k) + d ⟨log 2ε_i⟩`` (a differential entropy: it depends on the units).
* ``mutual_information_matrix`` — the vectorised routine: every (lag, source, target) of a set of
  series in one compiled, parallel loop; with ``history`` or ``conditions`` it gives transfer
  entropy (conditional MI given the target's own past and other series).
* ``surrogate_test`` — a null distribution from time-shifted (circularly rotated) or shuffled
  sources, and a permutation p-value.

Conventions, the same in every function:

* a variable is ``(samples,)`` or ``(samples, dims)`` (a multivariate argument is one joint
  variable; distances are max-norms over its dimensions);
* ``normalize=True`` z-scores every column first (the max-norm is not scale invariant); a
  constant column stays constant (all zeros);
* ``noise`` (default 1e-10, times each column's standard deviation after scaling) is added from
  a generator seeded with ``seed`` to break exact ties (saturated tanh units and rounded
  temperatures have many; without it ε can be 0 and the estimate ±∞). Same seed, same number;
* ``lag`` ℓ pairs ``x[t − ℓ]`` with ``y[t]`` (x leads y by ℓ steps; negative ℓ: y leads);
* ``theiler`` w excludes the samples within w steps of sample i (|i − j| ≤ w) from its
  neighbours and counts (Theiler's window for autocorrelated series); the ψ(N) term then uses
  the N − 2w candidates;
* estimates are never clipped: small negative values are estimation noise, and differences of
  estimates (the flow measure) need them unclipped. Results are in bits.

Why hand-written: the neighbour search and the counts run in one numba kernel (sorted by the
first coordinate, scanning outward and stopping at the current radius), so the all-pairs × lags
matrix is a single parallel loop rather than a Python loop over pairs of cKDTree/sklearn calls;
sklearn's ``mutual_info_regression`` clips at 0 and has no lags, conditions or Theiler window;
``ennemi`` (MIT) is used as the test reference but loops in Python; IDTxl/JIDT (GPL, Java) and
infomeasure (AGPL) are not dependencies we can take.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
from scipy.special import digamma

from irn import params

__all__ = [
    "entropy",
    "mutual_information",
    "conditional_mutual_information",
    "mutual_information_matrix",
    "surrogate_test",
    "SurrogateTest",
    "SURROGATE_METHODS",
    "prepare",
]

LN2 = math.log(2.0)
DEFAULT_NOISE = 1e-10
SURROGATE_METHODS = ("shift", "shuffle")


# -- compiled kernels ------------------------------------------------------------------------
# A sample set is ``points`` (samples, dims) with its columns laid out x | z | y, so that every
# space the estimators need (joint, x, y, xz, zy, z) is one contiguous column range [lo, hi).


@numba.njit(cache=True, inline="always")
def _distance(points, i, j, lo, hi):
    d = 0.0
    for c in range(lo, hi):
        v = abs(points[i, c] - points[j, c])
        if v > d:
            d = v
    return d


@numba.njit(cache=True)
def _sorted_by(points, column):
    n = points.shape[0]
    values = points[:, column].copy()
    order = np.argsort(values)
    rank = np.empty(n, np.int64)
    for p in range(n):
        rank[order[p]] = p
    return values[order], order, rank


@numba.njit(cache=True)
def _kth_distance(points, lo, hi, k, theiler):
    """Max-norm distance from every sample to its k-th neighbour in columns [lo, hi) (samples
    with |i − j| ≤ theiler excluded). Scans outward along column lo's order and stops once the
    gap in that column exceeds the current k-th distance."""
    n = points.shape[0]
    values, order, rank = _sorted_by(points, lo)
    out = np.empty(n)
    best = np.empty(k)
    for i in range(n):
        for q in range(k):
            best[q] = np.inf
        xi = points[i, lo]
        down = rank[i] - 1
        up = rank[i] + 1
        while down >= 0 or up < n:
            gap_down = xi - values[down] if down >= 0 else np.inf
            gap_up = values[up] - xi if up < n else np.inf
            if gap_down <= gap_up:
                if gap_down > best[k - 1]:
                    break
                j = order[down]
                down -= 1
            else:
                if gap_up > best[k - 1]:
                    break
                j = order[up]
                up += 1
            if abs(i - j) <= theiler:
                continue
            d = _distance(points, i, j, lo, hi)
            if d < best[k - 1]:
                q = k - 1
                while q > 0 and best[q - 1] > d:
                    best[q] = best[q - 1]
                    q -= 1
                best[q] = d
        out[i] = best[k - 1]
    return out


@numba.njit(cache=True)
def _count_closer(points, lo, hi, eps, theiler):
    """For every sample i, how many samples j (|i − j| > theiler) lie strictly closer than
    eps[i] in the max-norm over columns [lo, hi). One column: two binary searches."""
    n = points.shape[0]
    values, order, rank = _sorted_by(points, lo)
    out = np.zeros(n, np.int64)
    for i in range(n):
        xi = points[i, lo]
        e = eps[i]
        if hi - lo == 1:
            # samples with |x_j − xi| < e (binary search, then settle the rounding of xi ± e with
            # the same subtraction the distances use), minus i itself and its window
            hi_ = np.searchsorted(values, xi + e, side="left")
            while hi_ < n and values[hi_] - xi < e:
                hi_ += 1
            while hi_ > 0 and values[hi_ - 1] - xi >= e:
                hi_ -= 1
            lo_ = np.searchsorted(values, xi - e, side="right")
            while lo_ > 0 and xi - values[lo_ - 1] < e:
                lo_ -= 1
            while lo_ < n and xi - values[lo_] >= e:
                lo_ += 1
            count = max(hi_ - lo_ - 1, 0)
            for j in range(max(0, i - theiler), min(n, i + theiler + 1)):
                if j != i and abs(points[j, lo] - xi) < e:
                    count -= 1
            out[i] = count
            continue
        count = 0
        p = rank[i] - 1
        while p >= 0 and xi - values[p] < e:
            j = order[p]
            if abs(i - j) > theiler and _distance(points, i, j, lo, hi) < e:
                count += 1
            p -= 1
        p = rank[i] + 1
        while p < n and values[p] - xi < e:
            j = order[p]
            if abs(i - j) > theiler and _distance(points, i, j, lo, hi) < e:
                count += 1
            p += 1
        out[i] = count
    return out


@numba.njit(cache=True)
def _estimate(points, nx, ny, k, theiler, psi):
    """KSG (no z columns) or Frenzel–Pompe estimate in nats.

    points: (samples, nx + nz + ny), columns laid out x | z | y; psi[m] = ψ(m) for
    m = 0…samples + 1 (psi[0] unused)."""
    n, d = points.shape
    nz = d - nx - ny
    eps = _kth_distance(points, 0, d, k, theiler)
    if nz == 0:
        cx = _count_closer(points, 0, nx, eps, theiler)
        cy = _count_closer(points, nx, d, eps, theiler)
        total = 0.0
        for i in range(n):
            total += psi[cx[i] + 1] + psi[cy[i] + 1]
        return psi[k] + psi[max(n - 2 * theiler, 2)] - total / n
    cxz = _count_closer(points, 0, nx + nz, eps, theiler)
    czy = _count_closer(points, nx, d, eps, theiler)
    cz = _count_closer(points, nx, nx + nz, eps, theiler)
    total = 0.0
    for i in range(n):
        total += psi[cxz[i] + 1] + psi[czy[i] + 1] - psi[cz[i] + 1]
    return psi[k] - total / n


@numba.njit(cache=True)
def _entropy_nats(points, k, theiler, psi):
    n, d = points.shape
    eps = _kth_distance(points, 0, d, k, theiler)
    total = 0.0
    for i in range(n):
        total += math.log(2.0 * eps[i])
    return psi[max(n - 2 * theiler, 2)] - psi[k] + d * total / n


@numba.njit(parallel=True, cache=True)
def _matrix_kernel(data, sources, targets, lags, history, conditions, start, k, theiler, psi):
    n_all = data.shape[0]
    n = n_all - start
    n_l, n_s, n_t = lags.shape[0], sources.shape[0], targets.shape[0]
    nz = history + conditions.shape[0]
    out = np.empty(n_l * n_s * n_t)
    for job in numba.prange(n_l * n_s * n_t):
        li = job // (n_s * n_t)
        si = (job // n_t) % n_s
        ti = job % n_t
        lag = lags[li]
        points = np.empty((n, 2 + nz))  # x | z | y
        points[:, 0] = data[start - lag:n_all - lag, sources[si]]
        for h in range(history):
            points[:, 1 + h] = data[start - 1 - h:n_all - 1 - h, targets[ti]]
        for c in range(conditions.shape[0]):
            points[:, 1 + history + c] = data[start - lag:n_all - lag, conditions[c]]
        points[:, 1 + nz] = data[start:n_all, targets[ti]]
        out[job] = _estimate(points, 1, 1, k, theiler, psi)
    return out.reshape((n_l, n_s, n_t))


# -- checks and preparation -------------------------------------------------------------------
def _as_columns(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim not in (1, 2) or array.shape[0] == 0 or (array.ndim == 2 and array.shape[1] == 0):
        raise ValueError(f"{name} must be a (samples,) or (samples, dims) array of real numbers, "
                         f"got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must hold finite numbers (no NaN or inf)")
    return array.reshape(array.shape[0], -1)


def _check_int(value, name: str, low: int, high: int | None = None) -> int:
    return int(params.require(value, name, params.integer(low, high)))


def _check_noise(noise) -> float:
    return float(params.require(noise, "noise", params.number(low=0)))  # relative tie-breaking noise


def prepare(columns: np.ndarray, normalize: bool = True, noise: float = DEFAULT_NOISE,
            seed: int = 0) -> np.ndarray:
    """The columns every estimator works on: z-scored (``normalize``) and with tie-breaking noise.

    columns: (samples, dims) float; returns a new float64 array of the same shape. The noise has
    standard deviation ``noise`` × the column's standard deviation (1 for a constant column) and
    comes from ``numpy.random.default_rng(seed)``.
    """
    out = np.array(columns, dtype=np.float64, copy=True)
    if out.ndim != 2:
        raise ValueError(f"columns must be a (samples, dims) array, got shape {out.shape}")
    out -= out.mean(axis=0) if normalize else 0.0
    sd = out.std(axis=0)
    if normalize:
        out /= np.where(sd > 0, sd, 1.0)
        sd = np.where(sd > 0, 1.0, 0.0)
    scale = np.where(sd > 0, sd, 1.0)
    if noise > 0:
        out += noise * scale * np.random.default_rng(seed).standard_normal(out.shape)
    return out


def _psi(n: int) -> np.ndarray:
    table = np.zeros(n + 2)
    table[1:] = digamma(np.arange(1, n + 2))
    return table


def _align(arrays, lag: int):
    """Pair x[t − lag] with the others at t: the first array is x."""
    if lag == 0:
        return arrays
    n = arrays[0].shape[0]
    x = arrays[0][:n - lag] if lag > 0 else arrays[0][-lag:]
    rest = [a[lag:] if lag > 0 else a[:n + lag] for a in arrays[1:]]
    return [x, *rest]


def _common(arrays, names, k, lag, theiler, noise, seed, normalize):
    n = arrays[0].shape[0]
    for a, name in zip(arrays[1:], names[1:]):
        if a.shape[0] != n:
            raise ValueError(f"{name} has {a.shape[0]} samples but {names[0]} has {n}; "
                             "all variables need the same number of samples")
    k = _check_int(k, "k", 1)
    if isinstance(lag, bool) or not isinstance(lag, (int, np.integer)) or abs(lag) >= n:
        raise ValueError(f"lag must be an integer with |lag| < samples ({n}), got {lag!r}")
    theiler = _check_int(theiler, "theiler", 0)
    noise = _check_noise(noise)
    if not isinstance(normalize, (bool, np.bool_)):
        raise ValueError(f"normalize must be True or False, got {normalize!r}")
    seed = _check_int(seed, "seed", 0)
    arrays = _align(arrays, int(lag))
    used = arrays[0].shape[0]
    if used - 2 * theiler - 1 < k + 1:
        raise ValueError(f"k must leave neighbours to find: with {used} paired samples and "
                         f"theiler={theiler}, k must be < {used - 2 * theiler - 1}, got {k}")
    widths = [a.shape[1] for a in arrays]
    points = prepare(np.concatenate(arrays, axis=1), normalize, noise, seed)
    return points, widths, k, theiler


# -- public estimators -----------------------------------------------------------------------
def entropy(x, k: int = 3, *, theiler: int = 0, noise: float = DEFAULT_NOISE, seed: int = 0) -> float:
    """Kozachenko–Leonenko differential entropy of ``x`` in bits (max-norm, k-th neighbour).

    x: (samples,) or (samples, dims). Not z-scored (entropy depends on the scale: a Gaussian of
    standard deviation σ has ½ log₂(2πeσ²) bits per dimension); tie-breaking noise is relative to
    each column's standard deviation, so a column of exact ties gives a large negative, finite value.
    """
    x = _as_columns(x, "x")
    points, _, k, theiler = _common([x], ["x"], k, 0, theiler, noise, seed, False)
    return float(_entropy_nats(points, k, theiler, _psi(points.shape[0])) / LN2)


def mutual_information(x, y, k: int = 3, *, lag: int = 0, theiler: int = 0, normalize: bool = True,
                       noise: float = DEFAULT_NOISE, seed: int = 0) -> float:
    """KSG (algorithm 1) mutual information I(x[t − lag]; y[t]) in bits.

    x: (samples,) or (samples, dx); y: (samples,) or (samples, dy), same samples.
    """
    x, y = _as_columns(x, "x"), _as_columns(y, "y")
    points, (dx, dy), k, theiler = _common([x, y], ["x", "y"], k, lag, theiler, noise, seed, normalize)
    return float(_estimate(points, dx, dy, k, theiler, _psi(points.shape[0])) / LN2)


def conditional_mutual_information(x, y, z, k: int = 3, *, lag: int = 0, theiler: int = 0,
                                   normalize: bool = True, noise: float = DEFAULT_NOISE,
                                   seed: int = 0) -> float:
    """Frenzel–Pompe conditional mutual information I(x[t − lag]; y[t] | z[t]) in bits.

    x, y, z: (samples,) or (samples, dims), same samples (z is aligned with y; to condition on
    the past of y, pass the shifted series as z).
    """
    x, y, z = _as_columns(x, "x"), _as_columns(y, "y"), _as_columns(z, "z")
    points, (dx, dy, dz), k, theiler = _common([x, y, z], ["x", "y", "z"], k, lag, theiler,
                                               noise, seed, normalize)
    points = np.ascontiguousarray(np.concatenate(  # x | z | y
        [points[:, :dx], points[:, dx + dy:], points[:, dx:dx + dy]], axis=1))
    return float(_estimate(points, dx, dy, k, theiler, _psi(points.shape[0])) / LN2)


def _index_list(values, name: str, limit: int) -> np.ndarray:
    if values is None:
        return np.zeros(0, dtype=np.int64)
    array = np.asarray(values).reshape(-1)
    if array.size and (array.dtype.kind not in "iu" or np.any((array < 0) | (array >= limit))):
        raise ValueError(f"{name} must list column indices in 0…{limit - 1}, got {array.tolist()}")
    return array.astype(np.int64)


def mutual_information_matrix(series, lags=(0,), k: int = 3, *, sources=None, targets=None,
                              history: int = 0, conditions=None, theiler: int = 0,
                              normalize: bool = True, noise: float = DEFAULT_NOISE,
                              seed: int = 0) -> np.ndarray:
    """Every lag × source × target estimate in one compiled parallel loop, in bits.

    series: (samples, variables) — e.g. every neuron of a network over time, one column each.
    lags: non-negative ints ℓ; entry [l, s, t] is I(source_s[t − ℓ]; target_t[t] | Z) with
    Z = the target's own past ``target_t[t − 1 … t − history]`` and ``conditions`` columns at the
    source's time t − ℓ (Z empty: KSG mutual information; ``history=1``: transfer entropy).
    sources, targets: column indices (default: all columns); conditions: column indices or None.
    Every entry uses the same time range t = max(lags, history) … samples − 1, so entries at
    different lags (e.g. lag ℓ minus lag 0) compare like with like. Columns are prepared
    (z-scored, noise from ``seed``) once, so a column gets the same noise in every entry.
    Returns (len(lags), len(sources), len(targets)) float64.
    """
    data = _as_columns(series, "series")
    n, v = data.shape
    lags_arr = np.asarray(lags).reshape(-1)
    if lags_arr.size == 0 or lags_arr.dtype.kind not in "iu" or np.any(lags_arr < 0):
        raise ValueError(f"lags must be a non-empty list of integers ≥ 0, got {lags!r}")
    lags_arr = lags_arr.astype(np.int64)
    src = np.arange(v) if sources is None else _index_list(sources, "sources", v)
    tgt = np.arange(v) if targets is None else _index_list(targets, "targets", v)
    if src.size == 0 or tgt.size == 0:
        raise ValueError("sources and targets must each list at least one column")
    cond = _index_list(conditions, "conditions", v)
    history = _check_int(history, "history", 0)
    k = _check_int(k, "k", 1)
    theiler = _check_int(theiler, "theiler", 0)
    noise = _check_noise(noise)
    seed = _check_int(seed, "seed", 0)
    if not isinstance(normalize, (bool, np.bool_)):
        raise ValueError(f"normalize must be True or False, got {normalize!r}")
    start = int(max(lags_arr.max(), history))
    used = n - start
    if used - 2 * theiler - 1 < k + 1:
        raise ValueError(f"k must leave neighbours to find: with {used} usable samples "
                         f"(samples − max(lags, history)) and theiler={theiler}, k must be "
                         f"< {used - 2 * theiler - 1}, got {k}")
    data = prepare(data, normalize, noise, seed)
    out = _matrix_kernel(np.ascontiguousarray(data), src, tgt, lags_arr, history, cond, start,
                         k, theiler, _psi(used))
    return out / LN2


@dataclass(frozen=True)
class SurrogateTest:
    """An estimate with its surrogate null.

    value: the estimate (bits); null: (surrogates,) estimates with x time-shifted or shuffled;
    p_value: (1 + #{null ≥ value}) / (1 + surrogates); method: "shift" or "shuffle".
    """

    value: float
    null: np.ndarray
    p_value: float
    method: str

    @property
    def excess(self) -> float:
        """value − mean of the null (bits): the estimate above what chance alignment gives."""
        return float(self.value - self.null.mean())


def surrogate_offsets(samples: int, surrogates: int, min_shift: int, rng) -> np.ndarray:
    """``surrogates`` circular shifts in min_shift … samples − min_shift (drawn from ``rng``)."""
    if samples - 2 * min_shift < 1:
        raise ValueError(f"min_shift must be < samples / 2 ({samples / 2:g}), got {min_shift}")
    return rng.integers(min_shift, samples - min_shift + 1, size=surrogates)


def surrogate_test(x, y, z=None, k: int = 3, *, lag: int = 0, surrogates: int = 99,
                   method: str = "shift", min_shift: int | None = None, theiler: int = 0,
                   normalize: bool = True, noise: float = DEFAULT_NOISE, seed: int = 0) -> SurrogateTest:
    """Is I(x[t − lag]; y[t] [| z[t]]) above chance? Compare it with estimates on surrogate x.

    method: "shift" rotates x circularly by a random offset of at least ``min_shift`` steps
    (default: samples // 10) — it keeps x's autocorrelation, so autocorrelated series do not look
    dependent; "shuffle" permutes x (only for series without autocorrelation).
    surrogates: how many null estimates (≥ 1). Returns a ``SurrogateTest``.
    """
    if method not in SURROGATE_METHODS:
        raise ValueError(f"method must be one of {SURROGATE_METHODS}, got {method!r}")
    surrogates = _check_int(surrogates, "surrogates", 1)
    x = _as_columns(x, "x")
    n = x.shape[0]
    if min_shift is None:
        min_shift = max(1, n // 10)
    min_shift = _check_int(min_shift, "min_shift", 1, max(1, (n - 1) // 2))
    kwargs = dict(k=k, lag=lag, theiler=theiler, normalize=normalize, noise=noise, seed=seed)

    def estimate(xs):
        if z is None:
            return mutual_information(xs, y, **kwargs)
        return conditional_mutual_information(xs, y, z, **kwargs)

    value = estimate(x)
    rng = np.random.default_rng(seed)
    if method == "shift":
        null = [estimate(np.roll(x, s, axis=0)) for s in surrogate_offsets(n, surrogates, min_shift, rng)]
    else:
        null = [estimate(x[rng.permutation(n)]) for _ in range(surrogates)]
    null = np.asarray(null)
    p = (1 + np.count_nonzero(null >= value)) / (1 + surrogates)
    return SurrogateTest(float(value), null, float(p), method)
