"""The information relay method: which hidden nodes carry a concept from input to output.

Implements Hintze, Najam & Schossau (arXiv 2510.01271), §II.C and Eq. 1, after Hintze & Adami,
"Detecting information relays in deep neural networks", Entropy 25:401 (2023). For one concept
at one time step, ``X_in`` is the concept's true bit, ``X_out`` the network's output bit for it
and ``Y`` the binarised hidden state. For a node subset ``Y_R`` with complement ``Y_0``::

    I_R = I(X_in; X_out; Y_R | Y_0)
        = H(X_in,Y_0) + H(Y_0,X_out) + H(Y_R,Y_0) - H(Y_0)
          - H(X_in,Y_R,Y_0) - H(X_in,Y_0,X_out) - H(Y_R,Y_0,X_out) + H(X_in,Y_R,Y_0,X_out)
        = I(X_in; X_out | Y_0) - I(X_in; X_out | Y)

``I_R`` is not monotone in the subset and can be negative (synergy); it is never clipped.

* :func:`binarize` turns hidden activity into node bits (median, exact 1-D two-means, sign).
* :func:`relay_information` is ``I_R`` of one subset.
* :func:`greedy` removes, one at a time, the node whose removal keeps ``I_R`` largest, and
  accumulates per-node contributions as the authors' code does; :func:`greedy_many` runs many
  greedy orderings (concepts x time steps x networks) in one compiled loop.
* :func:`exhaustive` evaluates every subset (up to :data:`MAX_EXHAUSTIVE_NODES` nodes) and
  :func:`greedy_gap` reports how often a subset beats the greedy curve.
* :func:`relay_null` and :func:`greedy_null` are shuffle nulls (not in the paper): permute
  ``X_in`` and ``X_out`` jointly against the hidden states for a bias estimate and a p-value.
* Scale (DESIGN §14, the paper's named limitation). Plug-in information needs the binarised
  patterns to recur: with ``nodes`` bits and ``samples`` rows, once most rows have a pattern of
  their own every conditional information is 0 and the greedy order is decided by ties. The
  guard: every relay function counts the distinct patterns (:func:`pattern_count`) and warns
  (:class:`RelayEntropyWarning`) below :data:`SAMPLES_PER_PATTERN` samples per pattern. The
  remedy: :func:`probe_greedy` conditions on a cross-fitted linear probe's prediction instead
  of the patterns of ``Y_0``. :func:`planted_relays` makes test data with a known answer.

Speed (DESIGN §7): ``Y_R ∪ Y_0`` is always all nodes, so four of the eight entropies are constant
during a greedy run and only ``I(X_in; X_out | Y_0)`` is recomputed. ``Y_0`` is kept as dense
pattern ids updated as ``relabel(zid * 2 + y_j)`` (O(samples), any number of nodes), each
candidate fills one ``nZ x 2 x 2`` count table, ``c log2 c`` comes from a lookup table, and
repeated rows are merged into weighted rows first. Bits are stored node-major (a node's bits side
by side in memory), and rows whose ``Y_0`` group has a constant ``X_in`` or ``X_out`` are dropped:
such a group adds exactly 0 now and after every later split, so on high-entropy states most rows
leave after a few removals (``benchmarks/bench_scale.py``: 40x at 256 nodes and 260x at 1024
nodes, 10 000 samples, against the previous kernel, same orders). Kernels are serial numba
functions: numba's parallel mode was erratic on 2 cores, serial kernels in separate processes
scale better. Nothing here comes from a library because no information-theory package offers the
incremental greedy (``dit`` takes seconds per run at 12 nodes, DESIGN §7).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, fields

import numpy as np
from numba import njit

from irn.info import conditional_mutual_information
from irn.params import check_count

__all__ = [
    "BINARIZE_METHODS",
    "TIE_TOLERANCE",
    "MAX_EXHAUSTIVE_NODES",
    "GreedyResult",
    "GreedyBatch",
    "ExhaustiveResult",
    "RelayNull",
    "GreedyNull",
    "binarize",
    "relay_information",
    "greedy",
    "greedy_many",
    "exhaustive",
    "greedy_gap",
    "relay_null",
    "greedy_null",
    "SAMPLES_PER_PATTERN",
    "RelayEntropyWarning",
    "pattern_count",
    "PlantedRelays",
    "planted_relays",
    "PROBE_BINS",
    "probe_greedy",
]

BINARIZE_METHODS = ("median", "kmeans", "sign")
#: Relay values within this distance of the best are tied (lowest node index wins); the same
#: tolerance decides "beats the greedy curve" and "null >= observed".
TIE_TOLERANCE = 1e-12
#: ``exhaustive`` evaluates 2**nodes subsets; beyond this it refuses.
MAX_EXHAUSTIVE_NODES = 16
#: The guard: relay functions warn when the binarised hidden states have fewer than this many
#: samples per distinct pattern (DESIGN §14: plug-in conditional information then collapses).
SAMPLES_PER_PATTERN = 4
#: Bins of the probe's held-out prediction in :func:`probe_greedy`.
PROBE_BINS = 8


class RelayEntropyWarning(UserWarning):
    """The hidden states have nearly as many distinct binarised patterns as samples, so plug-in
    relay values are unreliable (see :func:`pattern_count` and :func:`probe_greedy`)."""


# ----------------------------------------------------------------------------------------
# results


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array)
    array.flags.writeable = False
    return array


class _ReadOnlyArrays:
    """Base of the result dataclasses: every field declared ``np.ndarray`` becomes a read-only copy."""

    def __post_init__(self):
        for f in fields(self):
            if f.type == "np.ndarray":
                object.__setattr__(self, f.name, _frozen(getattr(self, f.name)))


@dataclass(frozen=True)
class GreedyResult(_ReadOnlyArrays):
    """One greedy ordering of ``nodes`` hidden nodes.

    order: (nodes,) removal order, least relaying first; ``order[-1]`` is the final survivor.
    curve: (nodes,) ``I_R`` of ``Y_R`` after 0, 1, ..., nodes-1 removals; ``curve[0]`` is
        ``I_R`` of all nodes and ``curve[i]`` belongs to a set of ``nodes - i`` nodes.
    contribution: (nodes,) per node, indexed by node: after removal step ``i`` every node
        still in ``Y_R`` gains ``curve[0] - curve[i]`` (the last survivors score highest).
    """

    order: np.ndarray
    curve: np.ndarray
    contribution: np.ndarray


@dataclass(frozen=True)
class GreedyBatch(_ReadOnlyArrays):
    """Many greedy orderings; the leading ``batch`` axes follow :func:`greedy_many`'s inputs.

    order, curve, contribution: (*batch, nodes), each as in :class:`GreedyResult`.
    """

    order: np.ndarray
    curve: np.ndarray
    contribution: np.ndarray

    def at(self, *index: int) -> GreedyResult:
        """The :class:`GreedyResult` at one batch index, e.g. ``batch.at(step, concept)``."""
        if len(index) != self.order.ndim - 1:
            raise ValueError(
                f"index must give one integer per batch axis ({self.order.ndim - 1}), got {index}"
            )
        return GreedyResult(self.order[index], self.curve[index], self.contribution[index])


@dataclass(frozen=True)
class ExhaustiveResult(_ReadOnlyArrays):
    """``I_R`` of every node subset.

    values: (2**nodes,) ``values[mask]`` is ``I_R`` with ``Y_R`` = the nodes whose bit is set
        in ``mask`` (bit ``j`` is node ``j``); ``values[0] == 0``.
    best: (nodes + 1,) largest ``I_R`` among subsets of each size 0..nodes.
    best_mask: (nodes + 1,) a subset (as a mask) reaching ``best``; ties go to the lowest mask.
    """

    values: np.ndarray
    best: np.ndarray
    best_mask: np.ndarray


    @property
    def sizes(self) -> np.ndarray:
        """(2**nodes,) number of nodes in each subset mask."""
        return _popcount(np.arange(self.values.size, dtype=np.int64))


@dataclass(frozen=True)
class RelayNull(_ReadOnlyArrays):
    """Shuffle null of one relay value.

    observed: ``I_R`` of the data; null: (shuffles,) ``I_R`` with ``(X_in, X_out)`` permuted
    jointly against the hidden states; null_mean: bias estimate; p_value:
    ``(1 + #(null >= observed)) / (1 + shuffles)``; corrected: ``observed - null_mean``.
    """

    observed: float
    null: np.ndarray
    null_mean: float
    p_value: float
    corrected: float


@dataclass(frozen=True)
class GreedyNull(_ReadOnlyArrays):
    """Shuffle null of a greedy run: each shuffle is ordered greedily on its own, so the null
    of ``curve[i]`` is that of the *best greedy set* of that size (selection included).

    observed: the greedy run on the data.
    null_curve, null_contribution: (shuffles, nodes) greedy curves / contributions of the
        shuffles (contribution indexed by node).
    curve_p_value, contribution_p_value: (nodes,) ``(1 + #(null >= observed)) / (1 + shuffles)``.
    corrected_curve, corrected_contribution: (nodes,) observed minus the null mean.
    """

    observed: GreedyResult
    null_curve: np.ndarray
    null_contribution: np.ndarray
    curve_p_value: np.ndarray
    contribution_p_value: np.ndarray
    corrected_curve: np.ndarray
    corrected_contribution: np.ndarray


# ----------------------------------------------------------------------------------------
# validation


def _binary(values, name: str, ndim: int | None = None, min_ndim: int | None = None):
    """Check a 0/1 array and return it as contiguous uint8."""
    array = np.asarray(values)
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {array.shape}")
    if min_ndim is not None and array.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimensions, got {array.shape}")
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold binary values 0/1, got dtype {array.dtype}")
    if not np.all((array == 0) | (array == 1)):
        raise ValueError(f"{name} must hold binary values 0/1 only")
    return np.ascontiguousarray(array, dtype=np.uint8)


def _check_relay_data(x_in, x_out, hidden_bits):
    """Validate one (x_in, x_out, hidden_bits) triple; returns uint8 arrays."""
    x_in = _binary(x_in, "x_in", ndim=1)
    x_out = _binary(x_out, "x_out", ndim=1)
    hidden_bits = _binary(hidden_bits, "hidden_bits", ndim=2)
    if x_in.shape[0] == 0:
        raise ValueError("x_in must hold at least one sample")
    if x_out.shape[0] != x_in.shape[0]:
        raise ValueError(
            f"x_out has {x_out.shape[0]} samples but x_in has {x_in.shape[0]}; they must match"
        )
    if hidden_bits.shape[0] != x_in.shape[0]:
        raise ValueError(
            f"hidden_bits has {hidden_bits.shape[0]} samples (rows) but x_in has "
            f"{x_in.shape[0]}; hidden_bits must be (samples, nodes)"
        )
    if hidden_bits.shape[1] < 2:
        raise ValueError(
            f"hidden_bits must have at least 2 nodes (columns), got {hidden_bits.shape[1]}"
        )
    return x_in, x_out, hidden_bits


def _check_nodes(nodes, n_nodes: int) -> np.ndarray:
    array = np.asarray(nodes)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise ValueError(f"nodes must be a 1-D sequence of node indices, got {nodes!r}")
    array = array.astype(np.int64)
    if np.any(array < 0) or np.any(array >= n_nodes):
        raise ValueError(f"nodes must be indices in 0..{n_nodes - 1}, got {array.tolist()}")
    if np.unique(array).size != array.size:
        raise ValueError(f"nodes must be unique, got {array.tolist()}")
    return array


def _check_null_settings(shuffles, seed) -> None:
    check_count(shuffles, "shuffles", 1)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")


# ----------------------------------------------------------------------------------------
# binarisation


def _two_means_threshold(hidden: np.ndarray) -> np.ndarray:
    """Exact 1-D two-means threshold per node: (..., samples, nodes) -> (..., 1, nodes).

    Scans every split of the sorted values between two distinct values and keeps the one that
    minimises the within-cluster sum of squares, i.e. maximises ``n1 n2 (m1 - m2)**2``.
    Near-ties (relative 1e-12) go to the lowest threshold. Constant nodes get ``+inf``.
    """
    samples = hidden.shape[-2]
    ordered = np.sort(hidden, axis=-2)
    centred = ordered - ordered.mean(axis=-2, keepdims=True)
    prefix = np.cumsum(centred, axis=-2)[..., :-1, :]
    total = centred.sum(axis=-2, keepdims=True)
    left = np.arange(1, samples, dtype=np.float64)[:, None]
    right = samples - left
    gap = prefix / left - (total - prefix) / right
    score = left * right * gap**2
    valid = ordered[..., 1:, :] > ordered[..., :-1, :]
    score = np.where(valid, score, -np.inf)
    best = score.max(axis=-2, keepdims=True)
    near_best = valid & (score >= best - 1e-12 * np.abs(best))
    split = np.argmax(near_best, axis=-2)[..., None, :]
    threshold = np.take_along_axis(ordered[..., :-1, :], split, axis=-2)
    return np.where(valid.any(axis=-2, keepdims=True), threshold, np.inf)


def binarize(hidden, method: str = "median") -> np.ndarray:
    """Binarise hidden activity per node over all samples.

    hidden: (..., samples, nodes) float; thresholds are computed over the samples axis
        separately for every node (and every leading index, e.g. every time step).
    method: ``"median"`` (value above the node's median -> 1; the authors' RNN work — when
        many samples sit exactly at the median, as with a saturated node of a deterministic
        network, the more balanced of ``> median`` and ``>= median`` is used, so a node with
        two values never becomes constant),
        ``"kmeans"`` (exact deterministic 1-D two-means, value in the upper cluster -> 1; the
        2023 notebook) or ``"sign"`` (value > 0 -> 1).
    Returns (..., samples, nodes) uint8. A constant node gives all-zero bits for every method.
    """
    if method not in BINARIZE_METHODS:
        raise ValueError(f"method must be one of {BINARIZE_METHODS}, got {method!r}")
    hidden = np.asarray(hidden)
    if hidden.ndim < 2 or hidden.shape[-2] == 0 or hidden.shape[-1] == 0:
        raise ValueError(
            f"hidden must be a (..., samples, nodes) array with samples, nodes >= 1, "
            f"got shape {hidden.shape}"
        )
    if hidden.dtype.kind not in "biuf" or not np.all(np.isfinite(hidden)):
        raise ValueError("hidden must hold finite real numbers")
    hidden = hidden.astype(np.float64, copy=False)
    if method == "median":
        threshold = np.median(hidden, axis=-2, keepdims=True)
    elif method == "kmeans":
        threshold = _two_means_threshold(hidden)
    else:
        threshold = np.zeros(hidden.shape[:-2] + (1, hidden.shape[-1]))
    bits = hidden > threshold
    if method == "median":
        at_or_above = hidden >= threshold
        n = hidden.shape[-2]
        imbalance = lambda b: np.abs(2 * b.sum(axis=-2, keepdims=True) - n)
        bits = np.where(imbalance(at_or_above) < imbalance(bits), at_or_above, bits)
    constant = np.all(hidden == hidden[..., :1, :], axis=-2, keepdims=True)
    return (bits & ~constant).astype(np.uint8)


# ----------------------------------------------------------------------------------------
# the guard: distinct patterns against samples (DESIGN §14)


def pattern_count(hidden_bits) -> np.ndarray:
    """Distinct binarised patterns (rows) of hidden bits.

    hidden_bits: (..., samples, nodes) binary. Returns (...,) int64: the number of distinct
    rows of every (samples, nodes) slice (a plain int array of shape () for one slice).
    """
    bits = _binary(hidden_bits, "hidden_bits", min_ndim=2)
    samples, nodes = bits.shape[-2:]
    counts = _pattern_counts(bits.reshape(-1, samples, nodes))
    return counts.reshape(bits.shape[:-2])


@njit(cache=True)
def _pattern_counts(bits):
    """(slices,) distinct rows of each (samples, nodes) slice of bits (slices, samples, nodes)."""
    slices, samples, nodes = bits.shape
    keys = np.empty(samples, dtype=np.int64)
    ids = np.zeros(samples, dtype=np.int64)
    lut = np.full(2 * samples + 4, -1, dtype=np.int64)
    out = np.empty(slices, dtype=np.int64)
    for s in range(slices):
        ids[:] = 0
        m = 1
        for j in range(nodes):
            for i in range(samples):
                keys[i] = ids[i] * 2 + bits[s, i, j]
            m = _relabel(keys, samples, lut, ids)
        out[s] = m
    return out


def _guard(hidden_bits: np.ndarray, stacklevel: int = 3) -> None:
    """Warn (RelayEntropyWarning) when some slice has fewer than SAMPLES_PER_PATTERN samples
    per distinct pattern; hidden_bits is validated uint8 (..., samples, nodes)."""
    samples, nodes = hidden_bits.shape[-2:]
    if samples < SAMPLES_PER_PATTERN * 2 ** min(nodes, 62) and samples >= SAMPLES_PER_PATTERN:
        worst = int(pattern_count(hidden_bits).max())
        if worst * SAMPLES_PER_PATTERN > samples:
            warnings.warn(
                f"hidden_bits has {worst} distinct binarised patterns among {samples} samples "
                f"({samples / worst:.1f} samples per pattern, fewer than {SAMPLES_PER_PATTERN}; "
                f"{nodes} nodes): plug-in relay values collapse toward 0 and the greedy order is "
                "decided by ties (DESIGN §14). Use more samples, check the shuffle null "
                "(greedy_null), or use probe_greedy.",
                RelayEntropyWarning, stacklevel=stacklevel,
            )


# ----------------------------------------------------------------------------------------
# relay information of one subset


def relay_information(x_in, x_out, hidden_bits, nodes) -> float:
    """``I_R`` of the node subset ``nodes`` (``Y_R``); the other nodes are ``Y_0``.

    x_in, x_out: (samples,) binary; hidden_bits: (samples, nodes) binary; nodes: indices.
    Returns ``I(X_in; X_out | Y_0) - I(X_in; X_out | Y)`` in bits (may be negative).
    """
    x_in, x_out, hidden_bits = _check_relay_data(x_in, x_out, hidden_bits)
    relay = _check_nodes(nodes, hidden_bits.shape[1])
    _guard(hidden_bits)
    rest = np.setdiff1d(np.arange(hidden_bits.shape[1]), relay)
    return conditional_mutual_information(
        x_in, x_out, hidden_bits[:, rest]
    ) - conditional_mutual_information(x_in, x_out, hidden_bits)


# ----------------------------------------------------------------------------------------
# compiled kernels


def _clog_table(samples: int) -> np.ndarray:
    """(samples + 1,) lookup of ``c * log2(c)`` with ``0 -> 0``."""
    counts = np.arange(samples + 1, dtype=np.float64)
    table = np.zeros(samples + 1)
    table[1:] = counts[1:] * np.log2(counts[1:])
    return table


@njit(cache=True)
def _relabel(keys, n, lut, out):
    """Dense ids (order of first appearance) of keys[:n] into out; lut is all -1 in and out."""
    m = 0
    for i in range(n):
        key = keys[i]
        label = lut[key]
        if label < 0:
            label = m
            lut[key] = m
            m += 1
        out[i] = label
    for i in range(n):
        lut[keys[i]] = -1
    return m


@njit(cache=True)
def _deduplicate(xy, bits_t, keys, ids, lut):
    """Merge identical rows of (xy, bits). bits_t: (nodes, n) node-major.
    Returns (representative row index, weight)."""
    n_nodes, n = bits_t.shape
    for i in range(n):
        keys[i] = xy[i]
    m = _relabel(keys, n, lut, ids)
    for j in range(n_nodes):
        column = bits_t[j]
        for i in range(n):
            keys[i] = ids[i] * 2 + column[i]
        m = _relabel(keys, n, lut, ids)
    first = np.full(m, -1, dtype=np.int64)
    weight = np.zeros(m, dtype=np.int64)
    for i in range(n):
        if first[ids[i]] < 0:
            first[ids[i]] = i
        weight[ids[i]] += 1
    return first, weight


@njit(cache=True)
def _conditional_mi(keys, n_keys, xy, weight, n, total, clog, table):
    """``I(X_in; X_out | Z)`` in bits, Z given as keys[:n] in 0..n_keys-1; table is all 0."""
    for i in range(n):
        table[keys[i] * 4 + xy[i]] += weight[i]
    return _drain(table, n_keys, clog) / total


@njit(cache=True)
def _drain(table, n_keys, clog):
    """Sum of the per-group ``c log c`` terms of ``I(X_in; X_out | Z)`` (unnormalised) over
    groups 0..n_keys-1 of a filled ``n_keys x 2 x 2`` count table, zeroing it on the way."""
    acc = 0.0
    for z in range(n_keys):
        c00 = table[4 * z]
        c01 = table[4 * z + 1]
        c10 = table[4 * z + 2]
        c11 = table[4 * z + 3]
        cz = c00 + c01 + c10 + c11
        if cz > 0:
            acc += (
                clog[c00] + clog[c01] + clog[c10] + clog[c11] + clog[cz]
                - clog[c00 + c01] - clog[c10 + c11] - clog[c00 + c10] - clog[c01 + c11]
            )
            table[4 * z] = 0
            table[4 * z + 1] = 0
            table[4 * z + 2] = 0
            table[4 * z + 3] = 0
    return acc


#: Rows are compacted away once at least this fraction of the live rows sits in settled groups.
_COMPACT_FRACTION = 0.125


@njit(cache=True)
def _greedy_rows(xy_in, bits_in, weight_in, total, clog, order, curve, contribution):
    """Greedy ordering on (weighted, possibly de-duplicated) rows; fills order/curve/contribution.

    xy_in: (n,) 2*x_in + x_out; bits_in: (nodes, n) node-major bits; weight_in: (n,) counts
    summing to total.

    A group of ``Y_0`` in which ``X_in`` or ``X_out`` is constant adds exactly 0 to
    ``I(X_in; X_out | Y_0)``, and so does every group it later splits into; its rows are settled
    and are dropped (compacted away in batches). On high-entropy states most rows settle after a
    few removals, so later steps touch few rows. Values equal those of the full computation up
    to float rounding (the dropped terms are 0 up to ~1e-15).
    """
    n_nodes, n = bits_in.shape
    xy = xy_in.copy()
    weight = weight_in.copy()
    bits = bits_in.copy()
    zid = np.zeros(n, dtype=np.int64)
    keys = np.empty(n, dtype=np.int64)
    lut = np.full(2 * n + 4, -1, dtype=np.int64)
    table = np.zeros(8 * n + 16, dtype=np.int64)
    flags = np.zeros(n + 1, dtype=np.int64)
    values = np.empty(n_nodes)
    # constant part: I(X_in; X_out | Y) with Y = all nodes
    m = 1
    for j in range(n_nodes):
        column = bits[j]
        for i in range(n):
            keys[i] = zid[i] * 2 + column[i]
        m = _relabel(keys, n, lut, zid)
    full = _conditional_mi(zid, m, xy, weight, n, total, clog, table)
    # Y_0 empty: one group
    for i in range(n):
        zid[i] = 0
    m = 1
    curve[0] = _conditional_mi(zid, 1, xy, weight, n, total, clog, table) - full
    in_relay = np.ones(n_nodes, dtype=np.bool_)
    contribution[:] = 0.0
    live = n
    for step in range(1, n_nodes):
        best = -np.inf
        for j in range(n_nodes):
            if in_relay[j]:
                column = bits[j]
                for i in range(live):
                    table[(zid[i] * 2 + column[i]) * 4 + xy[i]] += weight[i]
                values[j] = _drain(table, 2 * m, clog) / total - full
                if values[j] > best:
                    best = values[j]
        chosen = -1
        for j in range(n_nodes):
            if in_relay[j] and values[j] >= best - TIE_TOLERANCE:
                chosen = j
                break
        in_relay[chosen] = False
        order[step - 1] = chosen
        curve[step] = values[chosen]
        column = bits[chosen]
        for i in range(live):
            keys[i] = zid[i] * 2 + column[i]
        m = _relabel(keys, live, lut, zid)
        gain = curve[0] - curve[step]
        for j in range(n_nodes):
            if in_relay[j]:
                contribution[j] += gain
        # settle groups in which X_in or X_out is constant (flags: seen x_in 0/1, x_out 0/1)
        for z in range(m):
            flags[z] = 0
        for i in range(live):
            flags[zid[i]] |= (1 << (xy[i] >> 1)) | (4 << (xy[i] & 1))
        settled = 0
        for i in range(live):
            if flags[zid[i]] != 15:
                settled += 1
        if settled > 0 and settled >= _COMPACT_FRACTION * live:
            kept = 0
            for i in range(live):
                if flags[zid[i]] == 15:
                    xy[kept] = xy[i]
                    weight[kept] = weight[i]
                    keys[kept] = zid[i]
                    kept += 1
            for j in range(n_nodes):
                if in_relay[j]:
                    column = bits[j]
                    k = 0
                    for i in range(live):
                        if flags[zid[i]] == 15:
                            column[k] = column[i]
                            k += 1
            live = kept
            m = _relabel(keys, live, lut, zid)
    for j in range(n_nodes):
        if in_relay[j]:
            order[n_nodes - 1] = j


@njit(cache=True)
def _greedy_runs(x_in, x_out, hidden_bits, in_index, out_index, hidden_index, deduplicate,
                 clog, order, curve, contribution):
    """Greedy runs r = 0..runs-1 on (x_in[in_index[r]], x_out[out_index[r]],
    hidden_bits[hidden_index[r]]). x_in, x_out: (a, samples), (b, samples); hidden_bits:
    (c, samples, nodes); clog: c log2 c table; order/curve/contribution: (runs, nodes)."""
    runs = in_index.shape[0]
    samples = x_in.shape[1]
    n_nodes = hidden_bits.shape[2]
    xy = np.empty(samples, dtype=np.int64)
    keys = np.empty(samples, dtype=np.int64)
    ids = np.empty(samples, dtype=np.int64)
    lut = np.full(2 * samples + 4, -1, dtype=np.int64)
    ones = np.ones(samples, dtype=np.int64)
    bits_t = np.empty((n_nodes, samples), dtype=np.uint8)
    last = -1
    for r in range(runs):
        a = x_in[in_index[r]]
        b = x_out[out_index[r]]
        if hidden_index[r] != last:  # node-major copy: a node's bits sit side by side
            last = hidden_index[r]
            bits = hidden_bits[last]
            for i in range(samples):
                for j in range(n_nodes):
                    bits_t[j, i] = bits[i, j]
        for i in range(samples):
            xy[i] = 2 * a[i] + b[i]
        if deduplicate:
            first, weight = _deduplicate(xy, bits_t, keys, ids, lut)
            rows = first.shape[0]
            row_xy = np.empty(rows, dtype=np.int64)
            row_bits = np.empty((n_nodes, rows), dtype=np.uint8)
            for k in range(rows):
                row_xy[k] = xy[first[k]]
                for j in range(n_nodes):
                    row_bits[j, k] = bits_t[j, first[k]]
            _greedy_rows(row_xy, row_bits, weight, samples, clog, order[r], curve[r],
                         contribution[r])
        else:
            _greedy_rows(xy, bits_t, ones, samples, clog, order[r], curve[r], contribution[r])


@njit(cache=True)
def _all_subsets(xy, code, weight, n_nodes, total, clog, values):
    """values[mask] = I(X_in; X_out | Y_0) for Y_0 = the nodes NOT in mask (rows weighted).

    xy, code, weight: (n,) with code the packed node bits (bit j = node j)."""
    n = xy.shape[0]
    full_mask = (1 << n_nodes) - 1
    table = np.zeros(4 << n_nodes, dtype=np.int64)
    seen = np.zeros(1 << n_nodes, dtype=np.bool_)
    for mask in range(1 << n_nodes):
        rest = full_mask ^ mask
        for i in range(n):
            table[4 * (code[i] & rest) + xy[i]] += weight[i]
        acc = 0.0
        for i in range(n):
            z = code[i] & rest
            if not seen[z]:
                seen[z] = True
                c00 = table[4 * z]
                c01 = table[4 * z + 1]
                c10 = table[4 * z + 2]
                c11 = table[4 * z + 3]
                acc += (
                    clog[c00] + clog[c01] + clog[c10] + clog[c11] + clog[c00 + c01 + c10 + c11]
                    - clog[c00 + c01] - clog[c10 + c11] - clog[c00 + c10] - clog[c01 + c11]
                )
        for i in range(n):
            z = code[i] & rest
            seen[z] = False
            table[4 * z] = 0
            table[4 * z + 1] = 0
            table[4 * z + 2] = 0
            table[4 * z + 3] = 0
        values[mask] = acc / total


# ----------------------------------------------------------------------------------------
# greedy


def greedy(x_in, x_out, hidden_bits) -> GreedyResult:
    """Greedy relay ordering of the hidden nodes for one concept at one time step.

    x_in, x_out: (samples,) binary; hidden_bits: (samples, nodes) binary, nodes >= 2.
    Starting from ``Y_R`` = all nodes, repeatedly moves to ``Y_0`` the node whose removal
    leaves the largest ``I_R``; values within 1e-12 of the best are tied and the lowest node
    index wins. See :class:`GreedyResult` for the outputs.
    """
    x_in, x_out, hidden_bits = _check_relay_data(x_in, x_out, hidden_bits)
    _guard(hidden_bits)
    batch = _greedy_batch(x_in[None], x_out[None], hidden_bits[None], deduplicate=True)
    return batch.at(0)


def _greedy_batch(x_in, x_out, hidden_bits, deduplicate: bool) -> GreedyBatch:
    """Broadcast validated uint8 arrays (..., samples) / (..., samples, nodes) and run."""
    shape = np.broadcast_shapes(x_in.shape[:-1], x_out.shape[:-1], hidden_bits.shape[:-2])
    samples, n_nodes = hidden_bits.shape[-2:]

    def flat_index(batch_shape):
        index = np.arange(int(np.prod(batch_shape)), dtype=np.int64).reshape(batch_shape)
        return np.ascontiguousarray(np.broadcast_to(index, shape).ravel())

    runs = int(np.prod(shape))
    order = np.empty((runs, n_nodes), dtype=np.int64)
    curve = np.empty((runs, n_nodes))
    contribution = np.empty((runs, n_nodes))
    _greedy_runs(
        x_in.reshape(-1, samples),
        x_out.reshape(-1, samples),
        hidden_bits.reshape(-1, samples, n_nodes),
        flat_index(x_in.shape[:-1]),
        flat_index(x_out.shape[:-1]),
        flat_index(hidden_bits.shape[:-2]),
        deduplicate,
        _clog_table(samples),
        order,
        curve,
        contribution,
    )
    full = shape + (n_nodes,)
    return GreedyBatch(order.reshape(full), curve.reshape(full), contribution.reshape(full))


def greedy_many(x_in, x_out, hidden_bits, deduplicate: bool = True) -> GreedyBatch:
    """Many greedy orderings in one compiled loop (serial numba).

    x_in, x_out: (..., samples) binary; hidden_bits: (..., samples, nodes) binary. The leading
    (batch) axes broadcast against each other as in numpy, and every broadcast index is one
    greedy run; nothing is copied for broadcasting. Example, one network with concepts
    (3, samples) and hidden bits over time steps (15, samples, 12)::

        batch = greedy_many(x_in[None], x_out[None], hidden_bits[:, None])
        batch.order.shape  # (15, 3, 12): (steps, concepts, nodes)

    deduplicate: merge repeated rows into weighted rows first (same results; faster when
        samples repeat, e.g. noise-free tasks).
    Returns a :class:`GreedyBatch` with arrays of shape (*batch, nodes).
    """
    x_in = _binary(x_in, "x_in", min_ndim=1)
    x_out = _binary(x_out, "x_out", min_ndim=1)
    hidden_bits = _binary(hidden_bits, "hidden_bits", min_ndim=2)
    samples, n_nodes = hidden_bits.shape[-2:]
    if samples == 0:
        raise ValueError("hidden_bits must hold at least one sample")
    if x_in.shape[-1] != samples:
        raise ValueError(f"x_in has {x_in.shape[-1]} samples but hidden_bits has {samples}")
    if x_out.shape[-1] != samples:
        raise ValueError(f"x_out has {x_out.shape[-1]} samples but hidden_bits has {samples}")
    if n_nodes < 2:
        raise ValueError(f"hidden_bits must have at least 2 nodes (last axis), got {n_nodes}")
    try:
        np.broadcast_shapes(x_in.shape[:-1], x_out.shape[:-1], hidden_bits.shape[:-2])
    except ValueError:
        raise ValueError(
            f"batch axes do not broadcast: x_in {x_in.shape[:-1]}, x_out {x_out.shape[:-1]}, "
            f"hidden_bits {hidden_bits.shape[:-2]}"
        ) from None
    _guard(hidden_bits)
    return _greedy_batch(x_in, x_out, hidden_bits, bool(deduplicate))


# ----------------------------------------------------------------------------------------
# exhaustive check


def _popcount(masks: np.ndarray) -> np.ndarray:
    counts = np.zeros(masks.shape, dtype=np.int64)
    for shift in range(MAX_EXHAUSTIVE_NODES + 1):
        counts += (masks >> shift) & 1
    return counts


def exhaustive(x_in, x_out, hidden_bits) -> ExhaustiveResult:
    """``I_R`` of every subset of at most :data:`MAX_EXHAUSTIVE_NODES` nodes.

    x_in, x_out: (samples,) binary; hidden_bits: (samples, nodes) binary.
    Cost is ``2**nodes x distinct rows``; 12 nodes and 1000 samples take a few ms.
    """
    x_in, x_out, hidden_bits = _check_relay_data(x_in, x_out, hidden_bits)
    samples, n_nodes = hidden_bits.shape
    if n_nodes > MAX_EXHAUSTIVE_NODES:
        raise ValueError(
            f"hidden_bits has {n_nodes} nodes; exhaustive checks at most "
            f"{MAX_EXHAUSTIVE_NODES} nodes (2**nodes subsets), use greedy instead"
        )
    code = hidden_bits.astype(np.int64) @ (1 << np.arange(n_nodes, dtype=np.int64))
    rows, weight = np.unique(code * 4 + 2 * x_in + x_out, return_counts=True)
    conditional = np.empty(1 << n_nodes)
    _all_subsets(rows & 3, rows >> 2, weight.astype(np.int64), n_nodes, samples,
                 _clog_table(samples), conditional)
    values = conditional - conditional[0]  # mask 0: Y_0 = all nodes
    sizes = _popcount(np.arange(1 << n_nodes, dtype=np.int64))
    best = np.empty(n_nodes + 1)
    best_mask = np.empty(n_nodes + 1, dtype=np.int64)
    for size in range(n_nodes + 1):
        masks = np.flatnonzero(sizes == size)
        pick = masks[np.argmax(values[masks])]
        best[size], best_mask[size] = values[pick], pick
    return ExhaustiveResult(values, best, best_mask)


def greedy_gap(greedy_result: GreedyResult, exhaustive_result: ExhaustiveResult):
    """How far the greedy curve is from the best subset of each size.

    Returns a tidy DataFrame, one row per subset size 1..nodes, with columns ``size``,
    ``greedy`` (greedy ``I_R``), ``best`` (best ``I_R`` of any subset), ``n_subsets``,
    ``n_better`` (subsets beating greedy by more than 1e-12) and ``fraction_better``.
    """
    import pandas as pd

    if not isinstance(greedy_result, GreedyResult):
        raise ValueError("greedy_result must be a GreedyResult (from greedy)")
    if not isinstance(exhaustive_result, ExhaustiveResult):
        raise ValueError("exhaustive_result must be an ExhaustiveResult (from exhaustive)")
    n_nodes = greedy_result.curve.size
    if exhaustive_result.values.size != 1 << n_nodes:
        raise ValueError(
            f"exhaustive_result covers {exhaustive_result.best.size - 1} nodes but "
            f"greedy_result has {n_nodes}; both must come from the same data"
        )
    sizes = exhaustive_result.sizes
    rows = []
    for size in range(1, n_nodes + 1):
        greedy_value = float(greedy_result.curve[n_nodes - size])
        values = exhaustive_result.values[sizes == size]
        n_better = int(np.sum(values > greedy_value + TIE_TOLERANCE))
        rows.append(
            {
                "size": size,
                "greedy": greedy_value,
                "best": float(exhaustive_result.best[size]),
                "n_subsets": values.size,
                "n_better": n_better,
                "fraction_better": n_better / values.size,
            }
        )
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------
# shuffle nulls


@functools.lru_cache(maxsize=16)
def _permutations(samples: int, shuffles: int, seed: int) -> np.ndarray:
    """(shuffles, samples) permutations from ``numpy.random.default_rng(seed)`` (read-only; kept,
    since a table of nulls asks for the same permutations once per replicate, step and concept)."""
    rng = np.random.default_rng(seed)
    return _frozen(np.stack([rng.permutation(samples) for _ in range(shuffles)]))


def _p_value(null: np.ndarray, observed) -> np.ndarray:
    """``(1 + #(null >= observed)) / (1 + shuffles)`` along axis 0, ties within 1e-12 count."""
    return (1 + np.sum(null >= np.asarray(observed) - TIE_TOLERANCE, axis=0)) / (1 + len(null))


def relay_null(x_in, x_out, hidden_bits, nodes=None, shuffles: int = 200, seed: int = 0):
    """Shuffle null of ``I_R`` for one node subset (default: all nodes).

    x_in, x_out: (samples,) binary; hidden_bits: (samples, nodes) binary; nodes: indices of
    ``Y_R`` or None for all nodes. Each shuffle applies one permutation to both ``x_in`` and
    ``x_out`` (their joint statistics stay intact) against the hidden states.
    Returns a :class:`RelayNull`.
    """
    x_in, x_out, hidden_bits = _check_relay_data(x_in, x_out, hidden_bits)
    n_nodes = hidden_bits.shape[1]
    relay = np.arange(n_nodes) if nodes is None else _check_nodes(nodes, n_nodes)
    _check_null_settings(shuffles, seed)
    _guard(hidden_bits)
    rest = np.setdiff1d(np.arange(n_nodes), relay)
    # dense codes of Y_0 and Y, once; each shuffle only permutes (x_in, x_out)
    code_rest = _pattern_code(hidden_bits[:, rest])
    code_all = _pattern_code(hidden_bits)
    xy = 2 * x_in.astype(np.int64) + x_out
    clog = _clog_table(xy.size)

    observed = _relay_from_codes(xy, code_rest, code_all, clog)
    shuffled = xy[_permutations(xy.size, shuffles, seed)]  # (shuffles, samples), all at once
    null = _conditional_mi_of_shuffles(shuffled, code_rest, clog) - _conditional_mi_of_shuffles(shuffled, code_all, clog)
    null_mean = float(null.mean())
    return RelayNull(
        observed=observed,
        null=null,
        null_mean=null_mean,
        p_value=float(_p_value(null, observed)),
        corrected=observed - null_mean,
    )


def _pattern_code(bits: np.ndarray) -> np.ndarray:
    """Dense ids of the rows of a (samples, k) binary array (k = 0 gives zeros)."""
    code = np.zeros(bits.shape[0], dtype=np.int64)
    for column in bits.T:
        _, code = np.unique(code * 2 + column, return_inverse=True)
        code = code.ravel().astype(np.int64, copy=False)
    return code


def _conditional_mi_of_codes(xy: np.ndarray, code: np.ndarray, clog: np.ndarray) -> float:
    table = np.bincount(code * 4 + xy, minlength=4 * (code.max() + 1)).reshape(-1, 2, 2)
    total = (
        clog[table].sum()
        + clog[table.sum(axis=(1, 2))].sum()
        - clog[table.sum(axis=2)].sum()
        - clog[table.sum(axis=1)].sum()
    )
    return total / xy.size


def _conditional_mi_of_shuffles(xy: np.ndarray, code: np.ndarray, clog: np.ndarray) -> np.ndarray:
    """``_conditional_mi_of_codes`` of every row of ``xy`` (shuffles, samples) in one count."""
    shuffles, n = xy.shape
    n_codes = int(code.max()) + 1
    keys = (np.arange(shuffles)[:, None] * n_codes + code[None]) * 4 + xy
    t = np.bincount(keys.ravel(), minlength=shuffles * n_codes * 4).reshape(shuffles * n_codes, 4)
    a, b, c, d = t[:, 0], t[:, 1], t[:, 2], t[:, 3]  # (x_in, x_out) = 00, 01, 10, 11
    per_code = (clog[a] + clog[b] + clog[c] + clog[d] + clog[a + b + c + d]
                - clog[a + b] - clog[c + d] - clog[a + c] - clog[b + d])
    return per_code.reshape(shuffles, n_codes).sum(axis=1) / n


def _relay_from_codes(xy, code_rest, code_all, clog) -> float:
    return float(
        _conditional_mi_of_codes(xy, code_rest, clog) - _conditional_mi_of_codes(xy, code_all, clog)
    )


def greedy_null(x_in, x_out, hidden_bits, shuffles: int = 200, seed: int = 0) -> GreedyNull:
    """Shuffle null of a whole greedy run (curve and contributions).

    x_in, x_out: (samples,) binary; hidden_bits: (samples, nodes) binary. Every shuffle
    permutes ``(x_in, x_out)`` jointly (same permutations as :func:`relay_null` for the same
    seed) and is ordered greedily on its own. Returns a :class:`GreedyNull`.
    """
    x_in, x_out, hidden_bits = _check_relay_data(x_in, x_out, hidden_bits)
    _check_null_settings(shuffles, seed)
    _guard(hidden_bits)
    with warnings.catch_warnings():  # warned once above
        warnings.simplefilter("ignore", RelayEntropyWarning)
        observed = greedy(x_in, x_out, hidden_bits)
    perms = _permutations(x_in.size, shuffles, seed)
    null = _greedy_batch(x_in[perms], x_out[perms], hidden_bits[None], deduplicate=True)
    return GreedyNull(
        observed=observed,
        null_curve=null.curve,
        null_contribution=null.contribution,
        curve_p_value=_p_value(null.curve, observed.curve),
        contribution_p_value=_p_value(null.contribution, observed.contribution),
        corrected_curve=observed.curve - null.curve.mean(axis=0),
        corrected_contribution=observed.contribution - null.contribution.mean(axis=0),
    )


# ----------------------------------------------------------------------------------------
# planted relays and the probe remedy (DESIGN §14)


@dataclass(frozen=True)
class PlantedRelays(_ReadOnlyArrays):
    """Synthetic relay data with a known answer.

    x_in: (samples,) fair bits; hidden_bits: (samples, nodes): the ``relays`` nodes are copies
    of ``x_in`` each flipped with probability ``flip``, every other node an independent fair
    bit; x_out: (samples,) the majority of the relay nodes (a tie goes to the first relay);
    relays: (relays,) the planted node indices, ascending.
    """

    x_in: np.ndarray
    x_out: np.ndarray
    hidden_bits: np.ndarray
    relays: np.ndarray


def planted_relays(samples: int, nodes: int, relays: int = 4, flip: float = 0.1,
                   seed: int = 0) -> PlantedRelays:
    """Random-bit hidden states with ``relays`` planted relay nodes at random positions (the
    DESIGN §14 test case). Returns a :class:`PlantedRelays`."""
    for name, value, low in (("samples", samples, 2), ("nodes", nodes, 2), ("relays", relays, 1)):
        check_count(value, name, low)
    if relays > nodes:
        raise ValueError(f"relays must be at most nodes ({nodes}), got {relays}")
    if not (isinstance(flip, (int, float)) and 0 <= flip < 0.5):
        raise ValueError(f"flip must be a number in [0, 0.5), got {flip!r}")
    _check_null_settings(1, seed)
    rng = np.random.default_rng(seed)
    x_in = rng.integers(0, 2, samples).astype(np.uint8)
    bits = rng.integers(0, 2, (samples, nodes)).astype(np.uint8)
    where = np.sort(rng.choice(nodes, relays, replace=False))
    copies = x_in[:, None] ^ (rng.random((samples, relays)) < flip)
    bits[:, where] = copies
    votes = 2 * copies.sum(axis=1).astype(np.int64) - relays
    x_out = np.where(votes == 0, copies[:, 0], votes > 0).astype(np.uint8)
    return PlantedRelays(x_in, x_out, bits, where)


@njit(cache=True)
def _binned_cmi(pred, xy, bins, clog, table):
    """Plug-in ``I(X_in; X_out | bin(pred))`` in bits; pred (n,) in [0, 1] bins; table zeros."""
    n = pred.shape[0]
    for i in range(n):
        b = int(np.floor(pred[i] * bins))
        b = min(max(b, 0), bins - 1)
        table[b * 4 + xy[i]] += 1
    return _drain(table, bins, clog) / n


@njit(cache=True)
def _probe_values(candidates, pred_a, held_a, coef_a, xy_a, pred_b, held_b, coef_b, xy_b,
                  bins, clog, total, out):
    """out[k] = binned ``I(X_in; X_out | s)`` with s the held-out prediction after candidate
    ``candidates[k]`` enters ``Y_0``; fold f predicts its rows as pred_f + coef_f[j] held_f[j]."""
    table = np.zeros(4 * bins, dtype=np.int64)
    for k in range(candidates.shape[0]):
        j = candidates[k]
        for pred, held, coef, xy in ((pred_a, held_a, coef_a, xy_a), (pred_b, held_b, coef_b, xy_b)):
            c = coef[j]
            row = held[j]
            for i in range(pred.shape[0]):
                b = int(np.floor((pred[i] + c * row[i]) * bins))
                b = min(max(b, 0), bins - 1)
                table[b * 4 + xy[i]] += 1
        out[k] = _drain(table, bins, clog) / total


def probe_greedy(x_in, x_out, hidden_bits, bins: int = PROBE_BINS, seed: int = 0) -> GreedyResult:
    """See :func:`_probe_greedy`; runs with one BLAS thread (the matrices are thin: a second
    thread gains little and threads collapse when the cores are shared)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _probe_greedy(x_in, x_out, hidden_bits, bins, seed)


def _probe_greedy(x_in, x_out, hidden_bits, bins: int = PROBE_BINS, seed: int = 0) -> GreedyResult:
    """Greedy relay ordering with ``Y_0`` summarised by a cross-fitted linear probe (the remedy
    for high-entropy states, DESIGN §14).

    x_in, x_out: (samples,) binary; hidden_bits: (samples, nodes) binary, nodes >= 2.

    Plug-in ``I(X_in; X_out | Y_0)`` needs every pattern of ``Y_0`` to recur; once most samples
    have their own pattern it is 0 whatever the nodes carry. Here ``Y_0`` is replaced by
    ``s(Y_0)``: the held-out least-squares prediction of ``X_in`` from the nodes of ``Y_0``
    (two folds from ``numpy.random.default_rng(seed)``; each half is predicted by the fit on the
    other half), cut into ``bins`` equal bins of [0, 1]. Then
    ``I_R = I(X_in; X_out | s(Y_0)) - I(X_in; X_out | s(Y))`` is a plug-in estimate over
    ``bins x 4`` cells, well sampled at any number of nodes: the held-out log-loss difference
    ``H(X_in | s) - H(X_in | X_out, s)`` of a histogram-calibrated linear probe. Nodes enter
    ``Y_0`` by Gram–Schmidt updates, so one run costs O(nodes² samples), like the plug-in
    greedy. Same outputs, tie rule and contribution accounting as :func:`greedy`; the guard
    does not apply (the estimate does not need patterns to recur).
    """
    x_in, x_out, hidden_bits = _check_relay_data(x_in, x_out, hidden_bits)
    check_count(bins, "bins", 2)
    _check_null_settings(1, seed)
    samples, n_nodes = hidden_bits.shape
    if samples < 4:
        raise ValueError(f"probe_greedy needs at least 4 samples (two folds), got {samples}")
    perm = np.random.default_rng(seed).permutation(samples)
    halves = (np.sort(perm[: samples // 2]), np.sort(perm[samples // 2:]))
    xy = 2 * x_in.astype(np.int64) + x_out
    clog = _clog_table(samples)
    target = x_in.astype(np.float64)
    folds = []
    for fit, held in (halves, halves[::-1]):
        centre = hidden_bits[fit].mean(axis=0)
        fit_r = np.ascontiguousarray((hidden_bits[fit] - centre).T)  # (nodes, fit rows)
        held_r = np.ascontiguousarray((hidden_bits[held] - centre).T)
        mean = target[fit].mean()
        folds.append({"fit_r": fit_r, "held_r": held_r, "residual": target[fit] - mean,
                      "pred": np.full(held.size, mean), "xy": xy[held],
                      "scale": np.maximum((fit_r ** 2).sum(axis=1), 1e-300), "held": held})
    table = np.zeros(4 * bins, dtype=np.int64)

    def cmi_now(extra=None) -> float:
        pred = np.empty(samples)
        for f, add in zip(folds, extra or (0.0, 0.0)):
            pred[f["held"]] = f["pred"] + add
        return _binned_cmi(pred, xy, bins, clog, table)

    # Y_0 = all nodes: least squares on every node, each half predicted by the other's fit
    full_add = []
    for f in folds:
        coef, *_ = np.linalg.lstsq(f["fit_r"].T, f["residual"], rcond=None)
        full_add.append(f["held_r"].T @ coef)
    full = cmi_now(full_add)
    order = np.empty(n_nodes, dtype=np.int64)
    curve = np.empty(n_nodes)
    contribution = np.zeros(n_nodes)
    curve[0] = cmi_now() - full
    remaining = np.arange(n_nodes)
    values = np.empty(n_nodes)
    for step in range(1, n_nodes):
        coefs = []
        for f in folds:
            norm2 = np.einsum("ij,ij->i", f["fit_r"], f["fit_r"])
            usable = norm2 > 1e-9 * f["scale"]
            coefs.append(np.where(usable, (f["fit_r"] @ f["residual"]) / np.where(usable, norm2, 1.0), 0.0))
        a, b = folds
        _probe_values(remaining, a["pred"], a["held_r"], coefs[0], a["xy"], b["pred"], b["held_r"],
                      coefs[1], b["xy"], bins, clog, samples, values)
        v = values[: remaining.size] - full
        pick = int(np.flatnonzero(v >= v.max() - TIE_TOLERANCE)[0])
        chosen = int(remaining[pick])
        remaining = np.delete(remaining, pick)
        order[step - 1], curve[step] = chosen, v[pick]
        contribution[remaining] += curve[0] - curve[step]
        for f in folds:  # chosen enters Y_0: one Gram–Schmidt step
            r = f["fit_r"][chosen].copy()
            norm2 = r @ r
            if norm2 <= 1e-9 * f["scale"][chosen]:
                continue  # collinear with Y_0 already
            q_fit, q_held = r / np.sqrt(norm2), f["held_r"][chosen] / np.sqrt(norm2)
            move = q_fit @ f["residual"]
            f["pred"] += move * q_held
            f["residual"] -= move * q_fit
            c = f["fit_r"] @ q_fit
            f["fit_r"] -= np.outer(c, q_fit)
            f["held_r"] -= np.outer(c, q_held)
    order[-1] = remaining[0]
    return GreedyResult(order, curve, contribution)
