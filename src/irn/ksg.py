"""Continuous information: k-nearest-neighbour (KSG) estimates of entropy, mutual information and
conditional mutual information of real-valued samples, in bits.

``irn.info`` is the discrete core (plug-in estimates on integer codes, used by the relay method);
this module is its continuous counterpart, for the information-flow analysis of Ivanovic, Kha &
Muruganantham ("Analyzing Information in RNNs", CS 294-131 report, §3–4) and for transfer entropy
(Schreiber, Phys. Rev. Lett. 85, 461, 2000). The estimators:

* ``mutual_information`` — Kraskov, Stögbauer & Grassberger (Phys. Rev. E 69, 066138, 2004),
  algorithm 1: ``I = ψ(k) + ψ(N) − ⟨ψ(n_x + 1) + ψ(n_y + 1)⟩``, where ``ε_i`` is the max-norm
  distance from sample i to its k-th neighbour in the joint space and ``n_x`` counts the samples
  *strictly* closer than ``ε_i`` in the x space (likewise ``n_y``).
* ``conditional_mutual_information`` — Frenzel & Pompe (Phys. Rev. Lett. 99, 204101, 2007):
  ``I(X;Y|Z) = ψ(k) − ⟨ψ(n_xz + 1) + ψ(n_yz + 1) − ψ(n_z + 1)⟩``.
* ``entropy`` — Kozachenko & Leonenko (1987) with the max-norm (KSG Eq. 20):
  ``H = ψ(N) − ψ(k) + d ⟨log 2ε_i⟩`` (a differential entropy: it depends on the units).
* ``mutual_information_matrix`` — every (lag, source, target) of a set of series in one compiled
  call; with ``history`` or ``conditions`` it gives transfer entropy (conditional MI given the
  target's own past and other series).
* ``surrogate_test`` — one estimate against a null from time-shifted (circularly rotated) or
  shuffled copies of x, and its permutation p-value.
* ``conditional_scan`` — the call multivariate transfer entropy is built on (Lizier & Rubinov
  2012; Novelli et al., Network Neuroscience 2019): for ONE target, the conditional
  MI of each of many candidate sources (a column at a lag, or a group of them as one joint
  variable) given ONE shared conditioning set (the target's past, the sources chosen so far),
  each with the same ``surrogates`` rotations of the candidate. Returns a ``Scan`` with the
  values, the null (surrogates × candidates), per-candidate p-values and the max/min-statistic
  p-values a greedy selection and its pruning test. Example, the first greedy step for target 5
  with candidates at lags 1–2 given the target's own past::

      scan = ksg.conditional_scan(activity, target=5,
                                  sources=[(s, lag) for s in range(n) if s != 5 for lag in (1, 2)],
                                  conditioning=[(5, 1)], start=2, surrogates=199, seed=0)
      if scan.max_p_value() <= alpha: chosen.append(scan.sources[scan.best])

  Pass the same ``start`` (the largest lag the whole search may use) at every step, so every
  estimate of the search uses the same time range.

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
* surrogates rotate (``"shift"``: ``np.roll`` by an offset of at least ``min_shift``, default a
  tenth of the samples used) or permute (``"shuffle"``) the candidate's samples *within the time
  range the estimate uses*, after preparation, so the value and its null see the same numbers;
  p = (1 + #{null ≥ value}) / (1 + surrogates);
* estimates are never clipped: small negative values are estimation noise, and differences of
  estimates (the flow measure) need them unclipped. Results are in bits;
* every public function checks its arguments through ``irn.params`` (finite numeric arrays of
  the right shape, enough samples for k and the Theiler window, lags inside the series) and
  raises one ``ValueError`` naming the parameter before any work.

How it is fast (all compiled with numba, one core is enough): each column is argsorted once over
its full length and every time window of it (a lag, the target's past) is read off that order
in one pass; the k-th joint neighbour comes from a grid binned at each column's rank quantiles
(cells visited ring by ring, pruned by their distance); the marginal counts are two binary
searches in a sorted column (several columns: the narrowest strip is scanned). In the matrix the
target's columns and their sorted views are built once per (target, lag) and shared by every
source; in the surrogate paths the target, its past and its conditions are built once and a
surrogate only rotates the candidate's ranks (its sorted values do not change). Measured in
``benchmarks/bench_ksg.py`` against a per-pair ``ennemi`` loop on one core.

Why hand-written: sklearn's ``mutual_info_regression`` clips at 0 and has no lags, conditions or
Theiler window; ``ennemi`` (MIT) is the test reference but builds k-d trees pair by pair in
Python; IDTxl/JIDT (GPL, Java) and infomeasure (AGPL) are not dependencies we can take.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
from scipy.special import digamma

from irn import params

__all__ = [
    "SURROGATE_METHODS",
    "Scan",
    "SurrogateTest",
    "conditional_mutual_information",
    "conditional_scan",
    "entropy",
    "mutual_information",
    "mutual_information_matrix",
    "p_values",
    "prepare",
    "surrogate_offsets",
    "surrogate_test",
]

LN2 = math.log(2.0)
DEFAULT_NOISE = 1e-10
SURROGATE_METHODS = ("shift", "shuffle")
#: Samples per cell the k-th-neighbour grid and the counting grids of several-column marginal
#: spaces aim at (measured fastest on one core for 2–4 joint columns; any values give the same
#: estimates).
CELL_POINTS = 2.0
COUNT_POINTS = 2.0


# -- compiled kernels ------------------------------------------------------------------------
# One estimate works on ``pts`` (samples, d), columns laid out x | z | y (dx, dz, dy columns; z
# empty for plain MI), so every space the estimators need (joint, x, y, xz, zy, z) is one
# contiguous column range [lo, hi). Beside it, its *views*: for every column c the sorted values
# sv[c], the sample at each sorted position so[c], each sample's position rk[c] (its rank), and
# a bucket index of sv[c] (tab[c], tlo[c], tsc[c]: the first sorted position of each of n
# equal-width value buckets), all within the estimate's time window.


@numba.njit(cache=True)
def _views(d, n):
    """Empty views of d columns of n samples: (sv, so, rk, tab, tlo, tsc)."""
    return (np.empty((d, n)), np.empty((d, n), np.int64), np.empty((d, n), np.int64),
            np.empty((d, n + 1), np.int64), np.empty(d), np.empty(d))


@numba.njit(cache=True, inline="always")
def _bucket(v, lo, scale, buckets):
    b = (v - lo) * scale
    if b < 1.0:
        return 0
    if b >= buckets - 1:
        return buckets - 1
    return int(b)


@numba.njit(cache=True)
def _index(views, c):
    """The bucket index of column c: tab[c, b] = how many sorted values fall in buckets < b."""
    sv, _, _, tab, tlo, tsc = views
    n = sv.shape[1]
    buckets = tab.shape[1] - 1
    lo = sv[c, 0]
    span = sv[c, n - 1] - lo
    scale = buckets / span if span > 0 else 0.0
    tlo[c] = lo
    tsc[c] = scale
    filled = 0
    for p in range(n):
        b = _bucket(sv[c, p], lo, scale, buckets)
        while filled <= b:
            tab[c, filled] = p
            filled += 1
    while filled <= buckets:
        tab[c, filled] = n
        filled += 1


@numba.njit(cache=True, inline="always")
def _fill(values, order, offset, n, pts, views, col):
    """Column ``col`` of an estimate ← values[offset : offset + n]; its sorted view is read off
    ``order`` (the argsort of the full ``values``) in one pass."""
    sv, so, rk, _, _, _ = views
    for i in range(n):
        pts[i, col] = values[offset + i]
    p = 0
    for q in range(order.shape[0]):
        j = order[q] - offset
        if j >= 0 and j < n:
            sv[col, p] = values[order[q]]
            so[col, p] = j
            rk[col, j] = p
            p += 1
    _index(views, col)


@numba.njit(cache=True, inline="always")
def _fill_rotated(base, bso, brk, shift, pts, views, col):
    """Column ``col`` ← np.roll(base, shift) (0 ≤ shift < n): its sorted values and bucket
    index are base's (left as they are); order and ranks rotate."""
    _, so, rk, _, _, _ = views
    n = base.shape[0]
    for i in range(n):
        src = i - shift
        if src < 0:
            src += n
        pts[i, col] = base[src]
        rk[col, i] = brk[src]
    for p in range(n):
        j = bso[p] + shift
        if j >= n:
            j -= n
        so[col, p] = j


@numba.njit(cache=True, inline="always")
def _fill_permuted(base, brk, perm, pts, views, col):
    """Column ``col`` ← base[perm]: sorted values and bucket index unchanged, ranks permuted."""
    _, so, rk, _, _, _ = views
    n = base.shape[0]
    for i in range(n):
        pts[i, col] = base[perm[i]]
        r = brk[perm[i]]
        rk[col, i] = r
        so[col, r] = i


@numba.njit(cache=True)
def _views_of(cols):
    """The views of every column of ``cols`` (samples, m)."""
    n, m = cols.shape
    views = _views(m, n)
    for c in range(m):
        _sort_into(cols, views, c)
    return views


@numba.njit(cache=True)
def _sort_into(pts, views, col):
    """The sorted view and bucket index of column ``col`` of ``pts`` (an argsort of its own)."""
    sv, so, rk, _, _, _ = views
    n = pts.shape[0]
    order = np.argsort(pts[:, col], kind="mergesort")
    for p in range(n):
        i = order[p]
        sv[col, p] = pts[i, col]
        so[col, p] = i
        rk[col, i] = p
    _index(views, col)


@numba.njit(cache=True, inline="always")
def _first_not_closer(views, c, xi, e):
    """The first sorted position p of column c with sv[p] − xi ≥ e: the bucket of xi + e bounds it,
    the few values inside the bucket are counted without branching (a binary search when the
    bucket is crowded, e.g. by ties), and a final step settles the rounding of xi + e."""
    sv, _, _, tab, tlo, tsc = views
    n = sv.shape[1]
    b = _bucket(xi + e, tlo[c], tsc[c], tab.shape[1] - 1)
    lo, hi = tab[c, b], tab[c, b + 1]
    if hi - lo <= 4:  # a bucket holds two values on average: count them without a branch
        p = lo
        for q in range(4):
            r = min(lo + q, n - 1)
            p += (lo + q < hi) & (sv[c, r] - xi < e)
    else:
        while lo < hi:
            m = (lo + hi) >> 1
            if sv[c, m] - xi >= e:
                hi = m
            else:
                lo = m + 1
        p = lo
    while p > 0 and sv[c, p - 1] - xi >= e:
        p -= 1
    while p < n and not sv[c, p] - xi >= e:
        p += 1
    return p


@numba.njit(cache=True, inline="always")
def _first_closer(views, c, xi, e):
    """The first sorted position p of column c with xi − sv[p] < e (as ``_first_not_closer``)."""
    sv, _, _, tab, tlo, tsc = views
    n = sv.shape[1]
    b = _bucket(xi - e, tlo[c], tsc[c], tab.shape[1] - 1)
    lo, hi = tab[c, b], tab[c, b + 1]
    if hi - lo <= 4:
        p = lo
        for q in range(4):
            r = min(lo + q, n - 1)
            p += (lo + q < hi) & (xi - sv[c, r] >= e)
    else:
        while lo < hi:
            m = (lo + hi) >> 1
            if xi - sv[c, m] < e:
                hi = m
            else:
                lo = m + 1
        p = lo
    while p > 0 and xi - sv[c, p - 1] < e:
        p -= 1
    while p < n and not xi - sv[c, p] < e:
        p += 1
    return p


@numba.njit(cache=True)
def _grid_columns(dx, dz, dy):
    """The joint columns the neighbour grid bins on: all of them up to three, else the first x,
    the first z and the first y column (or the first two x / y columns without z)."""
    d = dx + dz + dy
    if d <= 3:
        return np.arange(d)
    if dz == 0:
        return np.array([0, 1, dx]) if dx > 1 else np.array([0, dx, dx + 1])
    return np.array([0, dx, dx + dz])


@numba.njit(cache=True)
def _grid(n, m, gcols, cell_points):
    """Buffers of a grid over m columns of an estimate's points, binned on ``gcols`` (absolute
    column indices; none: an empty grid): (gcols, bins, start, members, cpts, bmin, bmax, cell_of,
    bin_of) with cpts (m, n) the members' values column by column and bin_of[r] the bin of rank r."""
    g = gcols.shape[0]
    if g == 0:
        return (gcols, 1, np.zeros(1, np.int64), np.empty(0, np.int64), np.empty((m, 0)), np.empty((0, 1)),
                np.empty((0, 1)), np.empty(0, np.int64), np.empty(0, np.int64))
    bins = max(1, min(n, int((n / cell_points) ** (1.0 / g))))
    return (gcols, bins, np.zeros(bins ** g + 1, np.int64), np.empty(n, np.int64), np.empty((m, n)),
            np.empty((g, bins)), np.empty((g, bins)), np.empty(n, np.int64), (np.arange(n) * bins) // n)


@numba.njit(cache=True)
def _build(pts, views, grid, lo):
    """Fill ``grid`` with the columns lo … lo + m − 1 of ``pts``: bin every sample by its rank in
    each grid column (bins at the rank quantiles, so every slab holds the same number of samples
    however skewed the values); members of a cell are contiguous in ``members`` / ``cpts`` (a
    counting sort; cells in row-major order of their bins, the last grid column innermost);
    bmin/bmax: each bin's smallest and largest value."""
    sv, _, rk, _, _, _ = views
    gcols, bins, start, members, cpts, bmin, bmax, cell_of, bin_of = grid
    g = gcols.shape[0]
    if g == 0:
        return
    n = pts.shape[0]
    m = cpts.shape[0]
    cells = bins ** g
    for c in range(cells + 1):
        start[c] = 0
    for i in range(n):
        c = 0
        for a in range(g):
            c = c * bins + bin_of[rk[gcols[a], i]]
        cell_of[i] = c
        start[c + 1] += 1
    for c in range(cells):
        start[c + 1] += start[c]
    for i in range(n):
        c = cell_of[i]
        p = start[c]
        members[p] = i
        for col in range(m):
            cpts[col, p] = pts[i, lo + col]
        start[c] = p + 1
    for c in range(cells, 0, -1):
        start[c] = start[c - 1]
    start[0] = 0
    for a in range(g):
        col = gcols[a]
        for b in range(bins):
            bmin[a, b] = sv[col, (b * n + bins - 1) // bins]
            bmax[a, b] = sv[col, ((b + 1) * n + bins - 1) // bins - 1]


@numba.njit(cache=True, inline="always")
def _gap(q, lo, hi):
    if q < lo:
        return lo - q
    if q > hi:
        return q - hi
    return 0.0


@numba.njit(cache=True, inline="always")
def _offer(a, b, i, q, members, cpts, d, k, theiler, best):
    """Offer the grid members a … b − 1 (contiguous cells) as neighbours of sample i at q."""
    for p in range(a, b):
        j = members[p]
        if abs(i - j) <= theiler:
            continue
        dist = 0.0
        for col in range(d):
            v = abs(cpts[col, p] - q[col])
            dist = max(dist, v)
        if dist < best[k - 1]:
            m = k - 1
            while m > 0 and best[m - 1] > dist:
                best[m] = best[m - 1]
                m -= 1
            best[m] = dist


@numba.njit(cache=True)
def _rings(i, q, home, grid, k, theiler, best, r):
    """Continue the k-th-neighbour search of sample i at q from ring r outwards (the cells r bins
    away, Chebyshev, from its own) until the nearest bin r steps away in any grid column is no
    closer than the current k-th distance best[k − 1]. The cells of a ring that share all but the
    last grid column form one contiguous run; runs and cells already too far are skipped."""
    gcols, bins, start, members, cpts, bmin, bmax, _, _ = grid
    d = q.shape[0]
    g = gcols.shape[0]
    inner = g - 1
    hz = home[inner]
    qz = q[gcols[inner]]
    while True:
        bound = np.inf
        for a in range(g):
            b = home[a] - r
            if b >= 0:
                bound = min(bound, q[gcols[a]] - bmax[a, b])
            b = home[a] + r
            if b < bins:
                bound = min(bound, bmin[a, b] - q[gcols[a]])
        if bound >= best[k - 1]:
            return
        r0 = r if g >= 2 else 0
        r1 = r if g >= 3 else 0
        for o0 in range(-r0, r0 + 1):
            b0 = home[0] + o0 if g >= 2 else 0
            gap0 = 0.0
            if g >= 2:
                if b0 < 0 or b0 >= bins:
                    continue
                gap0 = _gap(q[gcols[0]], bmin[0, b0], bmax[0, b0])
                if gap0 >= best[k - 1]:
                    continue
            for o1 in range(-r1, r1 + 1):
                b1 = home[1] + o1 if g >= 3 else 0
                if g >= 3:
                    if b1 < 0 or b1 >= bins:
                        continue
                    if max(gap0, _gap(q[gcols[1]], bmin[1, b1], bmax[1, b1])) >= best[k - 1]:
                        continue
                base = (b0 * bins + b1) * bins if g == 3 else (b0 * bins if g == 2 else 0)
                if o0 == r or o0 == -r or o1 == r or o1 == -r:
                    lo = max(0, hz - r)
                    hi = min(bins - 1, hz + r)
                    while lo <= hi and _gap(qz, bmin[inner, lo], bmax[inner, lo]) >= best[k - 1]:
                        lo += 1
                    while hi >= lo and _gap(qz, bmin[inner, hi], bmax[inner, hi]) >= best[k - 1]:
                        hi -= 1
                    if lo <= hi:
                        _offer(start[base + lo], start[base + hi + 1], i, q, members, cpts, d, k, theiler, best)
                else:
                    for bz in (hz - r, hz + r):
                        if bz >= 0 and bz < bins and _gap(qz, bmin[inner, bz], bmax[inner, bz]) < best[k - 1]:
                            _offer(start[base + bz], start[base + bz + 1], i, q, members, cpts, d, k, theiler, best)
        r += 1


@numba.njit(cache=True, inline="always")
def _keep4(b0, b1, b2, b3, v):
    """The four smallest of b0 ≤ b1 ≤ b2 ≤ b3 and v, sorted (a min/max network, no branch)."""
    t0 = min(b0, v)
    v = max(b0, v)
    t1 = min(b1, v)
    v = max(b1, v)
    t2 = min(b2, v)
    v = max(b2, v)
    return t0, t1, t2, min(b3, v)


@numba.njit(cache=True, inline="always")
def _nearest2(cx, cy, members, a, b, q0, q1, i, theiler, b0, b1, b2, b3):
    for t in range(a, b):
        v = max(abs(cx[t] - q0), abs(cy[t] - q1))
        if abs(members[t] - i) <= theiler:
            v = np.inf
        b0, b1, b2, b3 = _keep4(b0, b1, b2, b3, v)
    return b0, b1, b2, b3


@numba.njit(cache=True, inline="always")
def _nearest3(cx, cy, cz, members, a, b, q0, q1, q2, i, theiler, b0, b1, b2, b3):
    for t in range(a, b):
        v = max(abs(cx[t] - q0), abs(cy[t] - q1), abs(cz[t] - q2))
        if abs(members[t] - i) <= theiler:
            v = np.inf
        b0, b1, b2, b3 = _keep4(b0, b1, b2, b3, v)
    return b0, b1, b2, b3


@numba.njit(cache=True, inline="always")
def _nearest(cpts, members, a, b, q, i, theiler, b0, b1, b2, b3):
    d = q.shape[0]
    for t in range(a, b):
        v = abs(cpts[0, t] - q[0])
        for c in range(1, d):
            v = max(v, abs(cpts[c, t] - q[c]))
        if abs(members[t] - i) <= theiler:
            v = np.inf
        b0, b1, b2, b3 = _keep4(b0, b1, b2, b3, v)
    return b0, b1, b2, b3


@numba.njit(cache=True)
def _kth_distances(pts, grid, k, theiler, eps, best):
    """eps[i] = max-norm distance from sample i to its k-th neighbour (samples with
    |i − j| ≤ theiler excluded), from the joint ``grid`` (built by ``_build``).

    Cell by cell: the cells within one bin of a cell (rings 0 and 1 of each of its samples) are
    1, 3 or 9 contiguous runs of the grid's members; each sample of the cell takes its k nearest
    from them in one pass (for k ≤ 4 a branchless min/max network keeps the four smallest). The
    k-th distance is final when the bins two steps away are no closer (almost always); otherwise
    ``_rings`` continues from ring 2."""
    gcols, bins, start, members, cpts, bmin, bmax, _, _ = grid
    n, d = pts.shape
    g = gcols.shape[0]
    inner = g - 1
    run_a = np.empty(9, np.int64)
    run_b = np.empty(9, np.int64)
    q = np.empty(d)
    home = np.zeros(3, np.int64)
    cx = cpts[0]
    cy = cpts[1] if d > 1 else cpts[0]
    cz = cpts[2] if d > 2 else cpts[0]
    for cell in range(bins ** g):
        s, e = start[cell], start[cell + 1]
        if s == e:
            continue
        rest = cell
        for a in range(g - 1, -1, -1):
            home[a] = rest % bins
            rest //= bins
        lo = max(0, home[inner] - 1)
        hi = min(bins - 1, home[inner] + 1)
        r0 = 1 if g >= 2 else 0
        r1 = 1 if g >= 3 else 0
        runs = 0
        for b0 in range(max(0, home[0] - r0), min(bins, home[0] + r0 + 1)):
            for b1 in range(max(0, home[1] - r1), min(bins, home[1] + r1 + 1)):
                base = (b0 * bins + b1) * bins if g == 3 else (b0 * bins if g == 2 else 0)
                run_a[runs] = start[base + lo]
                run_b[runs] = start[base + hi + 1]
                runs += 1
        for p in range(s, e):
            i = members[p]
            for c in range(d):
                q[c] = cpts[c, p]
            if k <= 4:
                b0 = b1 = b2 = b3 = np.inf
                for r in range(runs):
                    if d == 2:
                        b0, b1, b2, b3 = _nearest2(cx, cy, members, run_a[r], run_b[r], q[0], q[1], i, theiler,
                                                   b0, b1, b2, b3)
                    elif d == 3:
                        b0, b1, b2, b3 = _nearest3(cx, cy, cz, members, run_a[r], run_b[r], q[0], q[1], q[2], i,
                                                   theiler, b0, b1, b2, b3)
                    else:
                        b0, b1, b2, b3 = _nearest(cpts, members, run_a[r], run_b[r], q, i, theiler, b0, b1, b2, b3)
                best[0] = b0
                if k > 1:
                    best[1] = b1
                if k > 2:
                    best[2] = b2
                if k > 3:
                    best[3] = b3
            else:
                for a in range(k):
                    best[a] = np.inf
                for r in range(runs):
                    _offer(run_a[r], run_b[r], i, q, members, cpts, d, k, theiler, best)
            limit = best[k - 1]
            bound = np.inf
            for a in range(g):
                b = home[a] - 2
                if b >= 0:
                    bound = min(bound, q[gcols[a]] - bmax[a, b])
                b = home[a] + 2
                if b < bins:
                    bound = min(bound, bmin[a, b] - q[gcols[a]])
            if bound < limit:
                _rings(i, q, home, grid, k, theiler, best, 2)
            eps[i] = best[k - 1]


@numba.njit(cache=True)
def _space(n, lo, hi, cell_points):
    """A marginal space, the columns [lo, hi): (lo, hi, grid) with a grid over its first (up to
    three) columns; one column needs none (its counts are searches in the sorted column)."""
    m = hi - lo
    gcols = lo + np.arange(min(m, 3)) if m > 1 else np.zeros(0, np.int64)
    return lo, hi, _grid(n if m > 1 else 0, m, gcols, cell_points)


@numba.njit(cache=True)
def _count(pts, views, space, eps, theiler, out):
    """out[i] = #{j : |i − j| > theiler, max over the space's columns of |pts[j] − pts[i]| < eps[i]}.

    One column: the samples closer than eps[i] are a strip of the sorted column, found by a
    bucket lookup and a short gallop (predicates written with the same subtraction as the
    distances, so rounding cannot move a sample across the radius). Several columns: the space's
    grid; along each grid column the bins within reach are found by stepping out from the
    sample's own, and their cells (contiguous runs along the last grid column) are checked."""
    lo, hi, grid = space
    n = pts.shape[0]
    m = hi - lo
    if m == 1:
        for i in range(n):
            e = eps[i]
            if not e > 0.0:
                out[i] = 0
                continue
            xi = pts[i, lo]
            count = _first_not_closer(views, lo, xi, e) - _first_closer(views, lo, xi, e) - 1
            for j in range(max(0, i - theiler), min(n, i + theiler + 1)):
                if j != i and abs(pts[j, lo] - xi) < e:
                    count -= 1
            out[i] = count
        return
    _, _, rk, _, _, _ = views
    gcols, bins, start, _, cpts, bmin, bmax, _, bin_of = grid
    g = gcols.shape[0]
    inner = g - 1
    q = np.empty(m)
    bl = np.zeros(3, np.int64)
    bh = np.zeros(3, np.int64)
    for i in range(n):
        e = eps[i]
        if not e > 0.0:
            out[i] = 0
            continue
        for c in range(m):
            q[c] = pts[i, lo + c]
        for a in range(g):  # the bins holding the strip |v − q| < e of each grid column
            qa = q[gcols[a] - lo]
            bl[a] = bin_of[_first_closer(views, gcols[a], qa, e)]
            bh[a] = bin_of[_first_not_closer(views, gcols[a], qa, e) - 1]
        count = 0
        b1_lo = bl[1] if g == 3 else 0
        b1_hi = bh[1] if g == 3 else 0
        for b0 in range(bl[0], bh[0] + 1):
            for b1 in range(b1_lo, b1_hi + 1):
                base = (b0 * bins + b1) * bins if g == 3 else b0 * bins
                a, b = start[base + bl[inner]], start[base + bh[inner] + 1]
                if m == 2:
                    q0, q1 = q[0], q[1]
                    for p in range(a, b):
                        count += (abs(cpts[0, p] - q0) < e) & (abs(cpts[1, p] - q1) < e)
                elif m == 3:
                    q0, q1, q2 = q[0], q[1], q[2]
                    for p in range(a, b):
                        count += (abs(cpts[0, p] - q0) < e) & (abs(cpts[1, p] - q1) < e) & (abs(cpts[2, p] - q2) < e)
                else:
                    for p in range(a, b):
                        inside = True
                        for c in range(m):
                            if not abs(cpts[c, p] - q[c]) < e:
                                inside = False
                        if inside:
                            count += 1
        count -= 1  # the sample itself
        for j in range(max(0, i - theiler), min(n, i + theiler + 1)):
            if j != i:
                near = True
                for c in range(m):
                    if not abs(pts[j, lo + c] - q[c]) < e:
                        near = False
                if near:
                    count -= 1
        out[i] = count


@numba.njit(cache=True)
def _parts(n, dx, dz, dy, k, cell_points, count_points):
    """Everything one estimate writes: (grid, xs, ys, zs, eps, c1, c2, c3, best). grid: the
    joint k-th-neighbour grid; MI (dz = 0): xs = x, ys = y; CMI: xs = x | z, ys = z | y, zs = z
    (the spaces of Frenzel–Pompe's counts). ys and zs involve only the target's side."""
    d = dx + dz + dy
    grid = _grid(n, d, _grid_columns(dx, dz, dy), cell_points)
    if dz == 0:
        xs, ys, zs = _space(n, 0, dx, count_points), _space(n, dx, d, count_points), _space(n, 0, 0, count_points)
    else:
        xs = _space(n, 0, dx + dz, count_points)
        ys = _space(n, dx, d, count_points)
        zs = _space(n, dx, dx + dz, count_points)
    return (grid, xs, ys, zs, np.empty(n), np.empty(n, np.int64), np.empty(n, np.int64),
            np.empty(n, np.int64), np.empty(k))


@numba.njit(cache=True)
def _estimate(pts, views, dx, dz, k, theiler, psi, parts, target_ready):
    """KSG (dz = 0) or Frenzel–Pompe estimate in nats of ``pts`` (columns x | z | y) with its
    ``views``; psi[m] = ψ(m). The grid and the spaces involving x are rebuilt here; those of the
    target's side (ys, zs) only when ``target_ready`` is False."""
    grid, xs, ys, zs, eps, c1, c2, c3, best = parts
    n = pts.shape[0]
    _build(pts, views, grid, 0)
    _build(pts, views, xs[2], xs[0])
    if not target_ready:
        _build(pts, views, ys[2], ys[0])
        _build(pts, views, zs[2], zs[0])
    _kth_distances(pts, grid, k, theiler, eps, best)
    _count(pts, views, xs, eps, theiler, c1)
    _count(pts, views, ys, eps, theiler, c2)
    total = 0.0
    if dz == 0:
        for i in range(n):
            total += psi[c1[i] + 1] + psi[c2[i] + 1]
        return psi[k] + psi[max(n - 2 * theiler, 2)] - total / n
    _count(pts, views, zs, eps, theiler, c3)
    for i in range(n):
        total += psi[c1[i] + 1] + psi[c2[i] + 1] - psi[c3[i] + 1]
    return psi[k] - total / n


@numba.njit(cache=True)
def _estimate_points(pts, dx, dz, k, theiler, psi, cell_points, count_points):
    """One estimate (nats) of ``pts`` (samples, dx + dz + dy), columns x | z | y."""
    n, d = pts.shape
    views = _views(d, n)
    for c in range(d):
        _sort_into(pts, views, c)
    parts = _parts(n, dx, dz, d - dx - dz, k, cell_points, count_points)
    return _estimate(pts, views, dx, dz, k, theiler, psi, parts, False)


@numba.njit(cache=True)
def _entropy_points(pts, k, theiler, psi, cell_points):
    """Kozachenko–Leonenko entropy (nats) of ``pts`` (samples, d), max-norm."""
    n, d = pts.shape
    views = _views(d, n)
    for c in range(d):
        _sort_into(pts, views, c)
    grid = _grid(n, d, _grid_columns(d, 0, 0), cell_points)
    _build(pts, views, grid, 0)
    eps = np.empty(n)
    _kth_distances(pts, grid, k, theiler, eps, np.empty(k))
    total = 0.0
    for i in range(n):
        total += math.log(2.0 * eps[i])
    return psi[max(n - 2 * theiler, 2)] - psi[k] + d * total / n


@numba.njit(parallel=True, cache=True)
def _matrix_kernel(columns, orders, slot, sources, targets, lags, history, conditions, start, k, theiler, psi,
                   cell_points, count_points):
    """Every lag × source × target estimate (nats).

    columns: (variables, samples_all) prepared series, one row per column; orders: argsorts of
    the rows listed by slot (slot[v] = row of ``orders`` for column v). Entry [l, s, t] pairs
    source[t − lag_l] with target[t], conditioned on target[t − 1 … t − history] and
    conditions[t − lag_l], for t = start … samples_all − 1. One job per (target, lag): the
    target's columns, their views and spaces are built once and every source reuses them."""
    n_l, n_s, n_t = lags.shape[0], sources.shape[0], targets.shape[0]
    out = np.empty((n_l, n_s, n_t))
    for job in numba.prange(n_t * n_l):
        _matrix_job(columns, orders, slot, sources, targets[job // n_l], lags[job % n_l], history, conditions,
                    start, k, theiler, psi, cell_points, count_points, out[job % n_l, :, job // n_l])
    return out


@numba.njit(cache=True)
def _matrix_job(columns, orders, slot, sources, tgt, lag, history, conditions, start, k, theiler, psi,
                cell_points, count_points, out):
    """out[s] = the estimate of every source for one (target, lag) of ``_matrix_kernel``."""
    n = columns.shape[1] - start
    n_c = conditions.shape[0]
    nz = history + n_c
    d = 2 + nz
    pts = np.empty((n, d))
    views = _views(d, n)
    parts = _parts(n, 1, nz, 1, k, cell_points, count_points)
    _fill(columns[tgt], orders[slot[tgt]], start, n, pts, views, d - 1)
    for h in range(history):
        _fill(columns[tgt], orders[slot[tgt]], start - 1 - h, n, pts, views, 1 + h)
    for c in range(n_c):
        v = conditions[c]
        _fill(columns[v], orders[slot[v]], start - lag, n, pts, views, 1 + history + c)
    for si in range(sources.shape[0]):
        v = sources[si]
        _fill(columns[v], orders[slot[v]], start - lag, n, pts, views, 0)
        out[si] = _estimate(pts, views, 1, nz, k, theiler, psi, parts, si > 0)


@numba.njit(cache=True)
def _surrogate_chunk(pts0, views0, dx, dz, shifts, perms, k, theiler, psi, cell_points, count_points, chunk,
                     chunks, out):
    """Estimates chunk, chunk + chunks, … of ``_surrogate_kernel`` (one thread's share)."""
    n, d = pts0.shape
    use_perms = perms.shape[0] > 0
    total = perms.shape[0] if use_perms else shifts.shape[0]
    pts = pts0.copy()
    views = (views0[0].copy(), views0[1].copy(), views0[2].copy(), views0[3].copy(), views0[4].copy(),
             views0[5].copy())
    parts = _parts(n, dx, dz, d - dx - dz, k, cell_points, count_points)
    for job in range(chunk, total + 1, chunks):
        if job > 0:
            for c in range(dx):
                if use_perms:
                    _fill_permuted(pts0[:, c], views0[2][c], perms[job - 1], pts, views, c)
                else:
                    _fill_rotated(pts0[:, c], views0[1][c], views0[2][c], shifts[job - 1] % n, pts, views, c)
        out[job] = _estimate(pts, views, dx, dz, k, theiler, psi, parts, job != chunk)


@numba.njit(parallel=True, cache=True)
def _surrogate_kernel(x, zy, zviews, dz, shifts, perms, k, theiler, psi, cell_points, count_points, threads):
    """The estimate (nats) of x against the fixed z | y columns, then of every surrogate x.

    x: (samples, dx); zy: (samples, dz + dy) with its views ``zviews`` (``_views_of``, built
    once per target and shared by every candidate); shifts: (S,) circular shifts (``np.roll`` of
    x's rows), used when perms is empty; perms: (S, samples) row permutations of x (shuffle
    surrogates) or (0, samples); threads: how many shares the estimates are split into. Returns
    (S + 1,): [0] is the estimate, [1:] the surrogates. Every column is sorted once; a surrogate
    only rotates or permutes x's order and ranks (its sorted values and bucket index stay), and
    the target's spaces are built once per share."""
    n, dx = x.shape
    d = dx + zy.shape[1]
    pts0 = np.empty((n, d))
    for i in range(n):
        for c in range(dx):
            pts0[i, c] = x[i, c]
        for c in range(d - dx):
            pts0[i, dx + c] = zy[i, c]
    views0 = _views(d, n)
    for c in range(dx):
        _sort_into(pts0, views0, c)
    sv0, so0, rk0, tab0, tlo0, tsc0 = views0
    zsv, zso, zrk, ztab, ztlo, ztsc = zviews
    for c in range(d - dx):
        sv0[dx + c] = zsv[c]
        so0[dx + c] = zso[c]
        rk0[dx + c] = zrk[c]
        tab0[dx + c] = ztab[c]
        tlo0[dx + c] = ztlo[c]
        tsc0[dx + c] = ztsc[c]
    total = perms.shape[0] if perms.shape[0] > 0 else shifts.shape[0]
    out = np.empty(total + 1)
    chunks = min(total + 1, max(1, threads))
    for chunk in numba.prange(chunks):
        _surrogate_chunk(pts0, views0, dx, dz, shifts, perms, k, theiler, psi, cell_points, count_points, chunk,
                         chunks, out)
    return out


# -- checks and preparation -------------------------------------------------------------------
def _variable(values, name: str) -> np.ndarray:
    """A (samples,) or (samples, dims) array of finite numbers as (samples, dims) float64."""
    array = params.array(values, name, ndim=(1, 2), min_samples=1)
    params.require(array.shape, name, params.rule(
        lambda s: s[-1] >= 1, "shaped (samples,) or (samples, dims) with at least one dimension"))
    return array.reshape(array.shape[0], -1)


def _same_samples(arrays, names) -> int:
    n = arrays[0].shape[0]
    for array, name in zip(arrays[1:], names[1:]):
        params.require(array.shape[0], f"{name}'s number of samples",
                       params.rule(lambda m: m == n, f"{n}, as many as {names[0]} has"))
    return n


def _options(k, theiler, normalize, noise, seed):
    params.require(k, "k", params.integer(low=1))
    params.require(theiler, "theiler", params.integer(low=0))
    params.require(normalize, "normalize", params.boolean())
    params.require(noise, "noise", params.number(low=0))  # relative tie-breaking noise
    params.require(seed, "seed", params.SEED)
    return int(k), int(theiler), float(noise), int(seed)


def _neighbours(k: int, theiler: int, used: int, where: str) -> None:
    """k must leave neighbours to find among ``used`` samples outside the Theiler window."""
    if used - 2 * theiler - 2 < 1:
        params.require(theiler, "theiler", params.rule(
            lambda w: used - 2 * w - 2 >= 1,
            f"small enough to leave neighbours: with {used} {where}, at most {(used - 3) // 2}"
            if used >= 3 else f"anything: {used} {where} are too few for any estimate (at least 3)"))
    high = used - 2 * theiler - 2
    params.require(k, "k", params.rule(
        lambda v: 1 <= v <= high,
        f"an integer in 1…{high} (k must leave neighbours to find: {used} {where}, theiler={theiler})"))


def _index_list(values, name: str, limit: int) -> np.ndarray:
    """Column indices in 0…limit − 1 (None: none) as int64, checked through ``irn.params``."""
    if values is None:
        return np.zeros(0, dtype=np.int64)
    array = params.array(values, name, ndim=(0, 1), kind="integer").reshape(-1)
    params.require(array.tolist(), name, params.sequence(params.index(limit - 1)))
    return array.astype(np.int64)


def _check_int(value, name: str, low: int, high: int | None = None) -> int:
    """``params.require(value, name, params.integer(low, high))`` as an int (irn.flow uses it)."""
    return int(params.require(value, name, params.integer(low, high)))


def _prepare(out: np.ndarray, normalize: bool, noise: float, seed: int) -> np.ndarray:
    out -= out.mean(axis=0) if normalize else 0.0
    sd = out.std(axis=0)
    if normalize:
        out /= np.where(sd > 0, sd, 1.0)
        sd = np.where(sd > 0, 1.0, 0.0)
    scale = np.where(sd > 0, sd, 1.0)
    if noise > 0:
        out += noise * scale * np.random.default_rng(seed).standard_normal(out.shape)
    return out


def prepare(columns, normalize: bool = True, noise: float = DEFAULT_NOISE, seed: int = 0) -> np.ndarray:
    """The columns every estimator works on: z-scored (``normalize``) and with tie-breaking noise.

    Parameters
    ----------
    columns : array_like, shape (samples, dims)
        Finite numbers.
    normalize : bool
        Subtract each column's mean and divide by its standard deviation (a constant column
        becomes all zeros).
    noise : float
        Standard deviation of the added noise, relative to the column's standard deviation
        (1 for a constant column); drawn from ``numpy.random.default_rng(seed)``.
    seed : int
        Seed of the noise.

    Returns
    -------
    ndarray, shape (samples, dims)
        A new float64 array.
    """
    out = np.array(params.array(columns, "columns", ndim=2, min_samples=1), dtype=np.float64, copy=True)
    params.require(normalize, "normalize", params.boolean())
    params.require(noise, "noise", params.number(low=0))
    params.require(seed, "seed", params.SEED)
    return _prepare(out, normalize, float(noise), int(seed))


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


def _common(values, names, k, lag, theiler, noise, seed, normalize):
    """Check every argument of a single estimate, align by ``lag`` and prepare: the prepared
    (samples, dims) points with the variables' columns side by side, their widths, k, theiler."""
    k, theiler, noise, seed = _options(k, theiler, normalize, noise, seed)
    arrays = [_variable(v, name) for v, name in zip(values, names)]
    n = _same_samples(arrays, names)
    params.require(lag, "lag", params.integer(-(n - 1), n - 1))
    used = n - abs(int(lag))
    _neighbours(k, theiler, used, "paired samples")
    arrays = _align(arrays, int(lag))
    widths = [a.shape[1] for a in arrays]
    points = _prepare(np.concatenate(arrays, axis=1).astype(np.float64), normalize, noise, seed)
    return points, widths, k, theiler


def _xzy(points, dx, dy):
    """Columns x | y | z (as prepared) → x | z | y (as the kernels read them)."""
    return np.ascontiguousarray(np.concatenate([points[:, :dx], points[:, dx + dy:], points[:, dx:dx + dy]], axis=1))


# -- public estimators -----------------------------------------------------------------------
def entropy(x, k: int = 3, *, theiler: int = 0, noise: float = DEFAULT_NOISE, seed: int = 0) -> float:
    """Kozachenko–Leonenko differential entropy of ``x`` in bits (max-norm, k-th neighbour).

    Parameters
    ----------
    x : array_like, shape (samples,) or (samples, dims)
        Not z-scored (entropy depends on the scale: a Gaussian of standard deviation σ has
        ½ log₂(2πeσ²) bits per dimension); the tie-breaking noise is relative to each column's
        standard deviation, so a column of exact ties gives a large negative, finite value.
    k, theiler, noise, seed
        As in the module's conventions.

    Returns
    -------
    float
        Bits.
    """
    points, _, k, theiler = _common([x], ["x"], k, 0, theiler, noise, seed, False)
    n = points.shape[0]
    return float(_entropy_points(points, k, theiler, _psi(n), CELL_POINTS) / LN2)


def mutual_information(x, y, k: int = 3, *, lag: int = 0, theiler: int = 0, normalize: bool = True,
                       noise: float = DEFAULT_NOISE, seed: int = 0) -> float:
    """KSG (algorithm 1) mutual information I(x[t − lag]; y[t]) in bits.

    Parameters
    ----------
    x : array_like, shape (samples,) or (samples, dx)
    y : array_like, shape (samples,) or (samples, dy)
        Same samples as x.
    k, lag, theiler, normalize, noise, seed
        As in the module's conventions.

    Returns
    -------
    float
        Bits.
    """
    points, (dx, _), k, theiler = _common([x, y], ["x", "y"], k, lag, theiler, noise, seed, normalize)
    n = points.shape[0]
    return float(_estimate_points(points, dx, 0, k, theiler, _psi(n), CELL_POINTS, COUNT_POINTS) / LN2)


def conditional_mutual_information(x, y, z, k: int = 3, *, lag: int = 0, theiler: int = 0,
                                   normalize: bool = True, noise: float = DEFAULT_NOISE,
                                   seed: int = 0) -> float:
    """Frenzel–Pompe conditional mutual information I(x[t − lag]; y[t] | z[t]) in bits.

    Parameters
    ----------
    x, y, z : array_like, shape (samples,) or (samples, dims)
        Same samples. z is aligned with y: to condition on the past of y, pass the shifted
        series as z.
    k, lag, theiler, normalize, noise, seed
        As in the module's conventions.

    Returns
    -------
    float
        Bits.
    """
    points, (dx, dy, dz), k, theiler = _common([x, y, z], ["x", "y", "z"], k, lag, theiler, noise, seed,
                                               normalize)
    n = points.shape[0]
    return float(_estimate_points(_xzy(points, dx, dy), dx, dz, k, theiler, _psi(n), CELL_POINTS,
                                  COUNT_POINTS) / LN2)


def mutual_information_matrix(series, lags=(0,), k: int = 3, *, sources=None, targets=None,
                              history: int = 0, conditions=None, theiler: int = 0,
                              normalize: bool = True, noise: float = DEFAULT_NOISE,
                              seed: int = 0) -> np.ndarray:
    """Every lag × source × target estimate in one compiled call, in bits.

    Entry [l, s, t] is I(source_s[t − ℓ_l]; target_t[t] | Z) with Z = the target's own past
    ``target_t[t − 1 … t − history]`` and the ``conditions`` columns at the source's time t − ℓ
    (Z empty: KSG mutual information; ``history=1``: transfer entropy). Every entry uses the same
    time range t = max(lags, history) … samples − 1, so entries at different lags (e.g. lag ℓ
    minus lag 0) compare like with like. Columns are prepared (z-scored, noise from ``seed``)
    once over their full length, so a column gets the same noise in every entry.

    Parameters
    ----------
    series : array_like, shape (samples, variables)
        E.g. every neuron of a network over time, one column each.
    lags : sequence of int
        Non-negative lags ℓ.
    sources, targets : sequence of int, optional
        Column indices (default: every column).
    history : int
        How many past steps of the target to condition on.
    conditions : sequence of int, optional
        Columns conditioned on at the source's time.
    k, theiler, normalize, noise, seed
        As in the module's conventions.

    Returns
    -------
    ndarray, shape (len(lags), len(sources), len(targets))
        Bits.
    """
    k, theiler, noise, seed = _options(k, theiler, normalize, noise, seed)
    data = params.array(series, "series", ndim=2, min_samples=1)
    n, v = data.shape
    params.require(v, "series' number of columns", params.integer(low=1))
    lag_values = params.array(lags, "lags", ndim=(0, 1), kind="integer").reshape(-1)
    params.require(lag_values.tolist(), "lags", params.sequence(params.index(n - 1), min_length=1))
    src = np.arange(v) if sources is None else _index_list(sources, "sources", v)
    tgt = np.arange(v) if targets is None else _index_list(targets, "targets", v)
    params.require(src.tolist(), "sources", params.sequence(min_length=1))
    params.require(tgt.tolist(), "targets", params.sequence(min_length=1))
    cond = _index_list(conditions, "conditions", v)
    params.require(history, "history", params.integer(0, n - 1))
    start = int(max(lag_values.max(), history))
    _neighbours(k, theiler, n - start, "usable samples (samples − max(lags, history))")
    columns = np.ascontiguousarray(_prepare(data.copy(), normalize, noise, seed).T)
    used = np.unique(np.concatenate([src, tgt, cond]))
    slot = np.full(v, -1, dtype=np.int64)
    slot[used] = np.arange(used.size)
    orders = np.argsort(columns[used], axis=1, kind="stable")
    out = _matrix_kernel(columns, orders, slot, src.astype(np.int64), tgt.astype(np.int64),
                         lag_values.astype(np.int64), int(history), cond, start, k, theiler, _psi(n - start),
                         CELL_POINTS, COUNT_POINTS)
    return out / LN2


# -- surrogates ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SurrogateTest:
    """An estimate with its surrogate null.

    Attributes
    ----------
    value : float
        The estimate (bits).
    null : numpy.ndarray, shape (surrogates,)
        Estimates with x time-shifted or shuffled.
    p_value : float
        (1 + #{null ≥ value}) / (1 + surrogates).
    method : {"shift", "shuffle"}
        How the surrogates were made.
    """

    value: float
    null: np.ndarray
    p_value: float
    method: str

    @property
    def excess(self) -> float:
        """The estimate above what chance alignment gives.

        Returns
        -------
        float
            value − mean of the null (bits).
        """
        return float(self.value - self.null.mean())


def surrogate_offsets(samples: int, surrogates: int, min_shift: int, rng) -> np.ndarray:
    """Circular shifts for time-shift surrogates.

    Parameters
    ----------
    samples : int
        Length of the series being rotated.
    surrogates : int
        How many shifts (≥ 1).
    min_shift : int
        Smallest shift, ≥ 1 and < samples / 2; shifts are drawn uniformly from
        min_shift … samples − min_shift.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray, shape (surrogates,)
    """
    params.require(samples, "samples", params.integer(low=3))
    params.require(surrogates, "surrogates", params.integer(low=1))
    params.require(min_shift, "min_shift", params.integer(1, (samples - 1) // 2))
    params.require(rng, "rng", params.rule(lambda g: isinstance(g, np.random.Generator), "a numpy.random.Generator"))
    return rng.integers(min_shift, samples - min_shift + 1, size=surrogates)


def _surrogate_options(surrogates, method, min_shift, used, low=1):
    params.require(surrogates, "surrogates", params.integer(low=low))
    params.require(method, "method", params.one_of(SURROGATE_METHODS))
    if min_shift is not None:
        params.require(min_shift, "min_shift", params.integer(1, max(1, (used - 1) // 2)))
    return int(surrogates)


def _draws(used, surrogates, method, min_shift, seed):
    """(shifts, permutations) for ``surrogates`` surrogates from ``default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    if surrogates == 0:
        return np.zeros(0, np.int64), np.zeros((0, used), np.int64)
    if method == "shift":
        shift = max(1, used // 10) if min_shift is None else int(min_shift)
        return surrogate_offsets(used, surrogates, shift, rng).astype(np.int64), np.zeros((0, used), np.int64)
    return np.zeros(0, np.int64), np.stack([rng.permutation(used) for _ in range(surrogates)]).astype(np.int64)


def p_values(values, null) -> np.ndarray:
    """Permutation p-values of estimates against their surrogate nulls.

    Parameters
    ----------
    values : ndarray, shape (candidates,)
        The estimates.
    null : ndarray, shape (surrogates, candidates) or (surrogates, 1)
        Each candidate's null estimates, one column per candidate; or one column every candidate
        is compared with (e.g. the largest estimate of each surrogate, a max statistic).

    Returns
    -------
    ndarray, shape (candidates,)
        (1 + #{null ≥ value}) / (1 + surrogates), per candidate.
    """
    values, null = np.asarray(values, dtype=float), np.asarray(null, dtype=float)
    if values.ndim != 1:
        raise ValueError(f"values must be a 1-D array (candidates,), got shape {values.shape}")
    if null.ndim != 2 or null.shape[1] not in (1, len(values)):
        raise ValueError(f"null must be a 2-D array (surrogates, {len(values)}) or (surrogates, 1), "
                         f"got shape {null.shape}")
    return (1 + (null >= values[None, :]).sum(axis=0)) / (1 + null.shape[0])


def surrogate_test(x, y, z=None, k: int = 3, *, lag: int = 0, surrogates: int = 99,
                   method: str = "shift", min_shift: int | None = None, theiler: int = 0,
                   normalize: bool = True, noise: float = DEFAULT_NOISE, seed: int = 0) -> SurrogateTest:
    """Is I(x[t − lag]; y[t] [| z[t]]) above chance? Compare it with estimates on surrogate x.

    The value equals ``mutual_information`` (or ``conditional_mutual_information``) with the
    same arguments. Surrogates are built from the same prepared, lag-aligned samples: "shift"
    rotates x circularly by a random offset of at least ``min_shift`` steps (default: a tenth of
    the paired samples) — it keeps x's autocorrelation, so autocorrelated series do not look
    dependent; "shuffle" permutes x (only for series without autocorrelation). y and z, their
    sorted views and the workspace are built once for every surrogate.

    Parameters
    ----------
    x, y : array_like, shape (samples,) or (samples, dims)
    z : array_like, shape (samples,) or (samples, dims), optional
        The condition (aligned with y).
    surrogates : int
        How many null estimates (≥ 1).
    method : {"shift", "shuffle"}
    min_shift : int, optional
        Smallest rotation ("shift").
    k, lag, theiler, normalize, noise, seed
        As in the module's conventions; ``seed`` also draws the surrogates.

    Returns
    -------
    SurrogateTest
    """
    values, names = ([x, y], ["x", "y"]) if z is None else ([x, y, z], ["x", "y", "z"])
    n = params.array(x, "x", ndim=(1, 2), min_samples=1).shape[0]
    params.require(lag, "lag", params.integer(-(n - 1), n - 1))
    surrogates = _surrogate_options(surrogates, method, min_shift, n - abs(int(lag)))
    points, widths, k, theiler = _common(values, names, k, lag, theiler, noise, seed, normalize)
    dx, dy = widths[0], widths[1]
    points = _xzy(points, dx, dy)
    used = points.shape[0]
    shifts, perms = _draws(used, surrogates, method, min_shift, seed)
    zy = np.ascontiguousarray(points[:, dx:])
    dz = points.shape[1] - dx - dy
    out = _surrogate_kernel(np.ascontiguousarray(points[:, :dx]), zy, _views_of(zy), dz, shifts, perms, k, theiler,
                            _psi(used), CELL_POINTS, COUNT_POINTS, numba.get_num_threads()) / LN2
    null = out[1:]
    return SurrogateTest(float(out[0]), null, float(p_values(out[:1], null[:, None])[0]), method)


@dataclass(frozen=True, eq=False)
class Scan:
    """Conditional MI of one target against many candidate sources given one conditioning set.

    Attributes
    ----------
    sources : tuple
        The candidates as given: each a (column, lag) pair or a tuple of pairs (a joint variable).
    values : ndarray, shape (candidates,)
        I(candidate; target[t] | conditioning) in bits.
    null : ndarray, shape (surrogates, candidates)
        The same estimate with the candidate rotated (or shuffled) by surrogate i's offset; every
        candidate gets the same offsets.
    p_values : ndarray, shape (candidates,)
        (1 + #{null ≥ value}) / (1 + surrogates), per candidate (nan without surrogates).
    method : str
        "shift" or "shuffle".
    start : int
        The first time step used (every estimate covers t = start … samples − 1).
    """

    sources: tuple
    values: np.ndarray
    null: np.ndarray
    p_values: np.ndarray
    method: str
    start: int

    @property
    def best(self) -> int:
        """Index of the candidate with the largest value."""
        return int(np.argmax(self.values))

    def max_p_value(self) -> float:
        """p-value of the largest value against the largest null value of each surrogate.

        The max statistic of a greedy selection step; it controls the family of candidates.

        Returns
        -------
        float
            (1 + surrogates whose largest null value reaches the largest value) / (1 + surrogates);
            NaN without surrogates.
        """
        if self.null.shape[0] == 0:
            return float("nan")
        return float(p_values(self.values.max()[None], self.null.max(axis=1)[:, None])[0])

    def min_p_value(self) -> float:
        """p-value of the smallest value against the smallest null value of each surrogate.

        The min statistic of the pruning step: is even the weakest candidate significant?

        Returns
        -------
        float
            (1 + surrogates whose smallest null value reaches the smallest value) / (1 + surrogates);
            NaN without surrogates.
        """
        if self.null.shape[0] == 0:
            return float("nan")
        return float(p_values(self.values.min()[None], self.null.min(axis=1)[:, None])[0])


def _is_pair(value, columns: int, samples: int) -> bool:
    return (isinstance(value, (tuple, list)) and len(value) == 2
            and all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in value)
            and 0 <= value[0] < columns and 0 <= value[1] < samples)


def conditional_scan(series, target: int, sources, conditioning=(), k: int = 3, *, surrogates: int = 0,
                     method: str = "shift", min_shift: int | None = None, start: int | None = None,
                     theiler: int = 0, normalize: bool = True, noise: float = DEFAULT_NOISE,
                     seed: int = 0) -> Scan:
    """I(candidate; target[t] | conditioning) for many candidates, each with its surrogate null.

    The series is prepared once (z-scored, noise from ``seed``, as in
    ``mutual_information_matrix``), so a candidate (s, ℓ) with ``conditioning=[(target, 1)]``
    gives the matrix's transfer entropy entry with ``history=1`` on the same time range. The
    target's column, the conditioning columns and their sorted views are built once for every
    candidate and surrogate; each candidate is sorted once and its surrogates rotate (or
    permute) its ranks.

    Parameters
    ----------
    series : array_like, shape (samples, variables)
    target : int
        Column of the target (at time t).
    sources : sequence
        The candidates: each a pair (column, lag) — the column at t − lag — or a list of pairs,
        one joint variable (e.g. every chosen source at once, for an omnibus test). lag ≥ 0.
    conditioning : sequence of (column, lag) pairs
        The conditioning set shared by every candidate (empty: plain KSG mutual information).
    surrogates : int
        Null estimates per candidate (0: none). Surrogate i rotates every candidate by the same
        offset (drawn from ``default_rng(seed)``, at least ``min_shift``, default a tenth of the
        samples used) or, with ``method="shuffle"``, permutes it by the same permutation.
    method : {"shift", "shuffle"}
        How a surrogate breaks the candidate's link to the target: a circular shift (keeps its
        autocorrelation) or a permutation.
    min_shift : int, optional
        Smallest circular shift of a ``"shift"`` surrogate (default a tenth of the samples used).
    start : int, optional
        First time step (default: the largest lag among sources and conditioning). Pass the
        largest lag a whole search may use so every estimate covers the same time range.
    k, theiler, normalize, noise, seed
        As in the module's conventions.

    Returns
    -------
    Scan
    """
    k, theiler, noise, seed = _options(k, theiler, normalize, noise, seed)
    data = params.array(series, "series", ndim=2, min_samples=1)
    n, v = data.shape
    params.require(target, "target", params.index(v - 1))
    pair = params.rule(lambda p: _is_pair(p, v, n), f"a (column, lag) pair with column in 0…{v - 1} and lag in 0…{n - 1}")
    candidate = params.either(pair, params.sequence(pair, min_length=1))
    params.require(sources, "sources", params.sequence(candidate, min_length=1))
    params.require(conditioning, "conditioning", params.sequence(pair))
    groups = [[tuple(int(a) for a in s)] if _is_pair(s, v, n) else [tuple(int(a) for a in p) for p in s]
              for s in sources]
    cond = [tuple(int(a) for a in p) for p in conditioning]
    largest = max([lag for g in groups for _, lag in g] + [lag for _, lag in cond] + [0])
    params.require(start, "start", params.optional(params.integer(largest, n - 1)))
    start = largest if start is None else int(start)
    used = n - start
    _neighbours(k, theiler, used, "usable samples (samples − start)")
    surrogates = _surrogate_options(surrogates, method, min_shift, used, low=0)
    columns = _prepare(data.copy(), normalize, noise, seed)

    def window(column, lag):
        return columns[start - lag:n - lag, column]

    zy = np.ascontiguousarray(np.column_stack([window(c, lag) for c, lag in cond] + [window(int(target), 0)]))
    zviews = _views_of(zy)
    shifts, perms = _draws(used, surrogates, method, min_shift, seed)
    psi = _psi(used)
    dz = len(cond)
    out = np.empty((1 + surrogates, len(groups)))
    for i, group in enumerate(groups):
        x = np.ascontiguousarray(np.column_stack([window(c, lag) for c, lag in group]))
        out[:, i] = _surrogate_kernel(x, zy, zviews, dz, shifts, perms, k, theiler, psi,
                                      CELL_POINTS, COUNT_POINTS, numba.get_num_threads()) / LN2
    values, null = out[0], out[1:]
    p = p_values(values, null) if surrogates else np.full(len(groups), np.nan)
    return Scan(tuple(sources), values, null, p, method, start)
