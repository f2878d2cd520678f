"""Benchmark of irn.ksg (issue 21): the all-pairs KSG matrix and its conditional (transfer-entropy)
form against per-pair loops of ``ennemi``, against the kernel they replaced, and how they scale.

Run from the repository root: ``python benchmarks/bench_ksg.py [--neurons 40] [--samples 2000]
[--threads 1] [--quick]``. Prints, side by side in one run on the same data (a random recurrent
network's activity: ``neurons`` coupled tanh units):

1. **mutual information** — ``irn.ksg.mutual_information_matrix`` for every lag (0, 1, 2) ×
   source × target in one call, against ``ennemi.estimate_mi`` in a loop over ordered pairs (one
   call per pair with all lags, as a user computing a flow matrix pair by pair would), ennemi's
   own vectorised form (one call per target), scikit-learn's ``mutual_info_regression`` (clips at
   0) and the previous irn kernel (kept verbatim below);
2. **transfer entropy** — the same call with ``history=1`` (I(s[t−1]; u[t] | u[t−1])), and with
   one more condition column (``conditions=[0]``), against ennemi's ``estimate_mi(..., cond=...)``
   per pair and the previous kernel;
3. **surrogates** — ``irn.ksg.conditional_scan``: one target, every other neuron as a candidate
   source at lag 1 given the target's past, 99 time-shift surrogates each (the call multivariate
   transfer entropy makes at each greedy step), per estimate against ennemi's per-estimate cost;
4. **scaling** — time of the matrix and of the transfer-entropy matrix against samples and
   against neurons, with the log–log slope.

Every ratio is CPU seconds of this process (``time.process_time``) with every thread pool
pinned (``harness.pin``: numba, BLAS, ennemi's ``max_threads``) to ``--threads`` (default 1);
the header prints the machine's load and which side ran first; each side is timed after a
warm-up call. Every side reads the same prepared series (``irn.ksg.prepare``: z-scored, 1e-10
tie-breaking noise), so the differences are the estimators' own: irn against the previous
kernel in bits (the issue's bar: ≤ 1e-6), irn against ennemi in nats (bar: ≤ 1e-3); the lag-0
diagonal (a neuron with itself) and, in the conditional form, pairs whose
source is the target or the condition are left out of the differences.
"""

from __future__ import annotations

import argparse
import math

import numba
import numpy as np
from harness import cpu, header, pin, ratio_line
from scipy.special import digamma

# ----------------------------------------------------------------------------------------
# the previous kernel (irn.ksg before issue 21), verbatim apart from cache=False


@numba.njit(cache=False, inline="always")
def _distance(points, i, j, lo, hi):
    d = 0.0
    for c in range(lo, hi):
        v = abs(points[i, c] - points[j, c])
        if v > d:  # noqa: PLR1730 (verbatim)
            d = v
    return d


@numba.njit(cache=False)
def _sorted_by(points, column):
    n = points.shape[0]
    values = points[:, column].copy()
    order = np.argsort(values)
    rank = np.empty(n, np.int64)
    for p in range(n):
        rank[order[p]] = p
    return values[order], order, rank


@numba.njit(cache=False)
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


@numba.njit(cache=False)
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


@numba.njit(cache=False)
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


@numba.njit(cache=False)
def _entropy_nats(points, k, theiler, psi):
    n, d = points.shape
    eps = _kth_distance(points, 0, d, k, theiler)
    total = 0.0
    for i in range(n):
        total += math.log(2.0 * eps[i])
    return psi[max(n - 2 * theiler, 2)] - psi[k] + d * total / n


@numba.njit(parallel=True, cache=False)
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


def previous_matrix(series, lags, history=0, conditions=()):
    """The previous ``mutual_information_matrix`` on already prepared series (normalize=False,
    noise=0), in bits."""
    data = np.array(series, dtype=np.float64, copy=True)
    lags = np.asarray(lags, dtype=np.int64)
    start = int(max(lags.max(), history))
    used = data.shape[0] - start
    psi = np.zeros(used + 2)
    psi[1:] = digamma(np.arange(1, used + 2))
    every = np.arange(data.shape[1])
    return _matrix_kernel(np.ascontiguousarray(data), every, every, lags, history,
                          np.asarray(conditions, dtype=np.int64), start, 3, 0, psi) / np.log(2)


# ----------------------------------------------------------------------------------------


def activity(neurons: int, samples: int, seed: int = 0) -> np.ndarray:
    """(samples, neurons) of x[t] = tanh(W x[t−1] + noise): a small random recurrent network."""
    rng = np.random.default_rng(seed)
    w = rng.normal(scale=1.2 / np.sqrt(neurons), size=(neurons, neurons))
    x = np.zeros((samples + 100, neurons))
    for t in range(1, len(x)):
        x[t] = np.tanh(w @ x[t - 1] + 0.5 * rng.normal(size=neurons))
    return x[100:]


def ennemi_pairs(data, lags, threads, cond=None):
    """ennemi.estimate_mi once per ordered pair (source, target): (lags, sources, targets) nats.
    cond: None, "history" (the target's own past, lag 1) or ("history", c) (and column c, lag 1)."""
    import ennemi

    v = data.shape[1]
    out = np.full((len(lags), v, v), np.nan)
    for source in range(v):
        for target in range(v):
            if cond is None:
                out[:, source, target] = ennemi.estimate_mi(data[:, target], data[:, source], lag=lags, k=3,
                                                            preprocess=False, max_threads=threads)[:, 0]
            elif source != target:
                z = data[:, target] if cond == "history" else np.column_stack([data[:, target], data[:, cond[1]]])
                out[:, source, target] = ennemi.estimate_mi(data[:, target], data[:, source], lag=lags, k=3,
                                                            cond=z, cond_lag=1, preprocess=False,
                                                            max_threads=threads)[:, 0]
    return out


def ennemi_targets(data, lags, threads):
    import ennemi

    v = data.shape[1]
    out = np.empty((len(lags), v, v))
    for target in range(v):
        out[:, :, target] = ennemi.estimate_mi(data[:, target], data, lag=lags, k=3, preprocess=False,
                                               max_threads=threads)
    return out


def sklearn_loop(data, lags):
    from sklearn.feature_selection import mutual_info_regression

    n, v = data.shape
    start = max(lags)
    out = np.empty((len(lags), v, v))
    for li, lag in enumerate(lags):
        sources = data[start - lag:n - lag]
        for target in range(v):
            out[li, :, target] = mutual_info_regression(sources, data[start:, target], n_neighbors=3,
                                                        random_state=0)
    return out


#: Every side reads the same prepared series (irn.ksg.prepare: z-scored, 1e-10 noise from seed 0),
#: so differences are the estimators' own: irn with normalize=False, noise=0; ennemi with
#: preprocess=False; the previous kernel as is.
PREPARED = {"normalize": False, "noise": 0.0}


def largest(a, b, keep):
    return float(np.nanmax(np.abs(a - b)[keep]))


def mutual_information_section(data, lags, threads, quick):
    from irn import ksg

    v = data.shape[1]
    keep = np.ones((len(lags), v, v), dtype=bool)
    if 0 in lags:
        keep[lags.index(0)][np.eye(v, dtype=bool)] = False
    ksg.mutual_information_matrix(data[:300, :3], lags=lags)  # warm-up: numba compile / cache load
    ours, t_irn = cpu(ksg.mutual_information_matrix, data, lags, **PREPARED)
    print(f"\n1. mutual information: {len(lags)} lags × {v} sources × {v} targets = {ours.size} estimates, k = 3")
    print(f"   irn.ksg.mutual_information_matrix      {t_irn:8.2f} s")
    if not quick:
        previous_matrix(data[:300, :3], lags)
        old, t_old = cpu(previous_matrix, data, lags)
        print("   " + ratio_line("previous irn kernel", t_old, t_irn)
              + f"   max |difference| {largest(old, ours, keep):.1e} bits (same noise draw)")
    nats = ours * np.log(2)
    loop, t_loop = cpu(ennemi_pairs, data, lags, threads)
    print("   " + ratio_line("ennemi, loop over pairs", t_loop, t_irn)
          + f"   max |difference| {largest(loop, nats, keep):.1e} nats")
    if not quick:
        vector, t_vec = cpu(ennemi_targets, data, lags, threads)
        print("   " + ratio_line("ennemi, one call per target", t_vec, t_irn)
              + f"   max |difference| {largest(vector, nats, keep):.1e} nats")
        sk, t_sk = cpu(sklearn_loop, data, lags)
        both = (sk > 0) & (nats > 0) & keep
        print("   " + ratio_line("sklearn mutual_info_regression loop", t_sk, t_irn)
              + f"   max |difference| where both > 0 {largest(sk, nats, both):.1e} nats "
              f"({(sk == 0).mean():.0%} of its entries clipped to 0)")
    return t_loop / ours.size


def conditional_section(data, threads, quick):
    from irn import ksg

    v = data.shape[1]
    off = ~np.eye(v, dtype=bool)[None]
    ksg.mutual_information_matrix(data[:300, :3], lags=[1], history=1)
    ksg.mutual_information_matrix(data[:300, :3], lags=[1], history=1, conditions=[0])
    per_estimate = None
    for label, conditions, cond in (("transfer entropy I(s[t−1]; u[t] | u[t−1])", [], "history"),
                                    ("… | u[t−1], neuron 0 [t−1]", [0], ("history", 0))):
        ours, t_irn = cpu(ksg.mutual_information_matrix, data, [1], history=1, conditions=conditions, **PREPARED)
        keep = off.copy()
        if conditions:
            keep[:, conditions, :] = False
            keep[:, :, conditions] = False
        print(f"\n2. {label}: {ours.size} estimates ({v} × {v}, lag 1)")
        print(f"   irn.ksg.mutual_information_matrix(history=1{', conditions=[0]' if conditions else ''})"
              f"  {t_irn:8.2f} s")
        if not quick:
            previous_matrix(data[:300, :3], [1], 1, conditions)
            old, t_old = cpu(previous_matrix, data, [1], 1, conditions)
            print("   " + ratio_line("previous irn kernel", t_old, t_irn)
                  + f"   max |difference| {largest(old, ours, keep):.1e} bits (same noise draw)")
        loop, t_loop = cpu(ennemi_pairs, data, [1], threads, cond)
        print("   " + ratio_line("ennemi estimate_mi(cond=...), loop over pairs", t_loop * ours.size / (v * (v - 1)),
                                 t_irn)
              + f"   max |difference| {largest(loop, ours * np.log(2), keep):.1e} nats"
              f"   (ennemi ran {v * (v - 1)} pairs in {t_loop:.2f} s, scaled to {ours.size})")
        if per_estimate is None:
            per_estimate = t_loop / (v * (v - 1))
    return per_estimate


def surrogate_section(data, per_estimate_ennemi, surrogates):
    from irn import ksg

    v = data.shape[1]
    target = v - 1
    candidates = [(s, 1) for s in range(v) if s != target]
    ksg.conditional_scan(data[:300, :3], 2, [(0, 1)], [(2, 1)], surrogates=3)
    scan, t = cpu(ksg.conditional_scan, data, target, candidates, [(target, 1)], surrogates=surrogates, **PREPARED)
    estimates = len(candidates) * (1 + surrogates)
    print(f"\n3. surrogates: conditional_scan, target {target}, {len(candidates)} candidates at lag 1 given its past,"
          f" {surrogates} time-shift surrogates each = {estimates} estimates")
    print(f"   irn.ksg.conditional_scan               {t:8.2f} s = {1e3 * t / estimates:.2f} ms per estimate;"
          f" smallest p {scan.p_values.min():.3f}, max-statistic p {scan.max_p_value():.3f}")
    print("   " + ratio_line("ennemi per estimate (from section 2) × estimates", per_estimate_ennemi * estimates, t))


def slope(x, t):
    return float(np.polyfit(np.log(x), np.log(t), 1)[0])


def scaling_section(samples_list, neurons_list, fixed_neurons, fixed_samples):
    from irn import ksg

    print("\n4. scaling (irn alone; CPU seconds, one call each)")
    kinds = (("MI matrix, lags 0–2", {"lags": [0, 1, 2]}), ("TE matrix, lag 1, history 1", {"lags": [1], "history": 1}))
    data = activity(max(neurons_list + [fixed_neurons]), max(samples_list + [fixed_samples]), seed=1)
    for label, kw in kinds:
        times = [cpu(ksg.mutual_information_matrix, data[:n, :fixed_neurons], **kw)[1] for n in samples_list]
        rows = "  ".join(f"{n}: {t:.2f}" for n, t in zip(samples_list, times))
        print(f"   {label}, {fixed_neurons} neurons, time against samples   {rows}   slope {slope(samples_list, times):.2f}")
        times = [cpu(ksg.mutual_information_matrix, data[:fixed_samples, :v], **kw)[1] for v in neurons_list]
        rows = "  ".join(f"{v}: {t:.2f}" for v, t in zip(neurons_list, times))
        print(f"   {label}, {fixed_samples} samples, time against neurons   {rows}   slope {slope(neurons_list, times):.2f}"
              "   (pairs grow as neurons², so 2 is linear in the number of estimates)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--neurons", type=int, default=40)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--lags", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--surrogates", type=int, default=99)
    parser.add_argument("--quick", action="store_true",
                        help="skip the previous kernel, ennemi per target and sklearn (the pair loops stay)")
    parser.add_argument("--skip-scaling", action="store_true")
    args = parser.parse_args()
    threads = pin(args.threads)
    header("irn.ksg against per-pair ennemi loops (issue 21)", threads,
           ("irn", "previous irn kernel", "ennemi per pair", "ennemi per target", "sklearn") if not args.quick
           else ("irn", "ennemi per pair"))
    print(f"numba threads: {numba.get_num_threads()}; data: {args.neurons} neurons × {args.samples} samples")
    from irn import ksg

    data = ksg.prepare(activity(args.neurons, args.samples))
    mutual_information_section(data, list(args.lags), threads, args.quick)
    per_estimate = conditional_section(data, threads, args.quick)
    surrogate_section(data, per_estimate, args.surrogates)
    if not args.skip_scaling:
        scaling_section([500, 1000, 2000, 4000, 8000], [10, 20, 40, 80], 20, 2000)


if __name__ == "__main__":
    main()
