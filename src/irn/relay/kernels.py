"""Compiled kernels of the relay method (numba, serial): the incremental greedy, every subset at once,
pattern counts and the probe's binned conditional information.

Everything here works on validated uint8 bits and float64 weights; the public functions of
``irn.relay`` check their input and call these. The kernels check nothing: they are documented for
readers of the relay code and for benchmarks, not as an interface to call with raw data. Counts
are of rows, and ``xy`` codes a row's two bits as ``2 * x_in + x_out``. Kernels are serial numba functions: numba's
parallel mode was erratic on 2 cores, serial kernels in separate processes scale better.
Nothing here comes from a library because no information-theory package offers the
incremental greedy (``dit`` takes seconds per run at 12 nodes).
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Relay values within this distance of the best are tied (lowest node index wins); the same
#: tolerance decides "beats the greedy curve" and "null >= observed".
TIE_TOLERANCE = 1e-12

# ----------------------------------------------------------------------------------------
# compiled kernels


def clog_table(samples: int) -> np.ndarray:
    """The lookup table of ``c * log2(c)`` that every kernel sums counts with.

    Parameters
    ----------
    samples : int
        The largest count.

    Returns
    -------
    ndarray, shape (samples + 1,)
        ``c * log2(c)`` for c = 0..samples, with ``0 -> 0``.
    """
    counts = np.arange(samples + 1, dtype=np.float64)
    table = np.zeros(samples + 1)
    table[1:] = counts[1:] * np.log2(counts[1:])
    return table


@njit(cache=True)
def relabel(keys, n, lut, out):
    """Dense ids of keys, in order of first appearance.

    Parameters
    ----------
    keys : ndarray of int64
        Keys in 0..len(lut) − 1; the first ``n`` are relabelled.
    n : int
        How many keys.
    lut : ndarray of int64
        Scratch, all −1 on entry and again on return.
    out : ndarray of int64
        Receives the ids in ``out[:n]`` (may be ``keys`` itself).

    Returns
    -------
    int
        The number of distinct keys (ids are 0 up to it).
    """
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
def merge_rows(xy, bits_t, keys, ids, lut):
    """Merge identical rows of (xy, bits) into weighted rows.

    Parameters
    ----------
    xy : ndarray of int64, shape (n,)
        ``2 * x_in + x_out`` of every row.
    bits_t : ndarray of uint8, shape (nodes, n)
        The hidden bits, node-major.
    keys, ids : ndarray of int64, shape (n,)
        Scratch.
    lut : ndarray of int64, shape (2 n + 4,)
        Scratch, all −1 (as ``relabel`` needs).

    Returns
    -------
    first : ndarray of int64, shape (rows,)
        The first row of each distinct row, in order of first appearance.
    weight : ndarray of int64, shape (rows,)
        How many rows each distinct row stands for.
    """
    n_nodes, n = bits_t.shape
    for i in range(n):
        keys[i] = xy[i]
    m = relabel(keys, n, lut, ids)
    for j in range(n_nodes):
        column = bits_t[j]
        for i in range(n):
            keys[i] = ids[i] * 2 + column[i]
        m = relabel(keys, n, lut, ids)
    first = np.full(m, -1, dtype=np.int64)
    weight = np.zeros(m, dtype=np.int64)
    for i in range(n):
        if first[ids[i]] < 0:
            first[ids[i]] = i
        weight[ids[i]] += 1
    return first, weight


@njit(cache=True)
def conditional_mi(keys, n_keys, xy, weight, n, total, clog, table):
    """Plug-in ``I(X_in; X_out | Z)`` in bits over weighted rows.

    Parameters
    ----------
    keys : ndarray of int64
        Z of each row as an id in 0..n_keys − 1 (the first ``n`` are read).
    n_keys : int
        The number of ids.
    xy : ndarray of int64
        ``2 * x_in + x_out`` of each row.
    weight : ndarray of int64
        How many samples each row stands for.
    n : int
        How many rows.
    total : int
        The number of samples (the sum of the weights).
    clog : ndarray, shape (total + 1,)
        ``clog_table(total)``.
    table : ndarray of int64, shape (4 n_keys,) or longer
        Scratch, all 0 on entry and again on return.

    Returns
    -------
    float
        The conditional information in bits.
    """
    for i in range(n):
        table[keys[i] * 4 + xy[i]] += weight[i]
    return drain(table, n_keys, clog) / total


@njit(cache=True)
def drain(table, n_keys, clog):
    """``I(X_in; X_out | Z)`` times the sample count, from a filled count table, which it zeroes.

    Parameters
    ----------
    table : ndarray of int64, shape (4 n_keys,) or longer
        Counts of (Z, X_in, X_out) at ``4 * z + 2 * x_in + x_out``; all 0 on return.
    n_keys : int
        The groups of Z, 0..n_keys − 1.
    clog : ndarray
        ``clog_table`` up to the sample count.

    Returns
    -------
    float
        The sum over groups of their ``c log2 c`` terms; divided by the sample count it is the
        conditional information in bits.
    """
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
COMPACT_FRACTION = 0.125


@njit(cache=True)
def greedy_rows(xy_in, bits_in, weight_in, total, clog, order, curve, contribution):
    """Greedy ordering on weighted (possibly de-duplicated) rows.

    Written into its last three arguments; the inputs are not modified.

    Parameters
    ----------
    xy_in : ndarray of int64, shape (n,)
        ``2 * x_in + x_out`` of every row.
    bits_in : ndarray of uint8, shape (nodes, n)
        The hidden bits, node-major.
    weight_in : ndarray of int64, shape (n,)
        How many samples each row stands for.
    total : int
        The number of samples (the sum of the weights).
    clog : ndarray, shape (total + 1,)
        ``clog_table(total)``.
    order : ndarray of int64, shape (nodes,)
        Receives the removal order (``GreedyResult.order``).
    curve : ndarray, shape (nodes,)
        Receives the ``I_R`` curve in bits.
    contribution : ndarray, shape (nodes,)
        Receives each node's contribution.

    Notes
    -----
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
        m = relabel(keys, n, lut, zid)
    full = conditional_mi(zid, m, xy, weight, n, total, clog, table)
    # Y_0 empty: one group
    for i in range(n):
        zid[i] = 0
    m = 1
    curve[0] = conditional_mi(zid, 1, xy, weight, n, total, clog, table) - full
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
                values[j] = drain(table, 2 * m, clog) / total - full
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
        m = relabel(keys, live, lut, zid)
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
        if settled > 0 and settled >= COMPACT_FRACTION * live:
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
            m = relabel(keys, live, lut, zid)
    for j in range(n_nodes):
        if in_relay[j]:
            order[n_nodes - 1] = j


@njit(cache=True)
def greedy_runs(x_in, x_out, hidden_bits, in_index, out_index, hidden_index, deduplicate,
                 clog, order, curve, contribution):
    """Many greedy runs, each on rows of the three data arrays, written into the last three arguments.

    Run r reads ``(x_in[in_index[r]], x_out[out_index[r]], hidden_bits[hidden_index[r]])``.

    Parameters
    ----------
    x_in : ndarray of uint8, shape (a, samples)
        Concept bits.
    x_out : ndarray of uint8, shape (b, samples)
        Output bits.
    hidden_bits : ndarray of uint8, shape (c, samples, nodes)
        Hidden bits.
    in_index, out_index, hidden_index : ndarray of int64, shape (runs,)
        The row of ``x_in``, ``x_out`` and ``hidden_bits`` each run reads.
    deduplicate : bool
        Merge repeated rows into weighted rows first (``merge_rows``).
    clog : ndarray, shape (samples + 1,)
        ``clog_table(samples)``.
    order : ndarray of int64, shape (runs, nodes)
        Receives the removal orders.
    curve : ndarray, shape (runs, nodes)
        Receives the ``I_R`` curves.
    contribution : ndarray, shape (runs, nodes)
        Receives the contributions.
    """
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
            first, weight = merge_rows(xy, bits_t, keys, ids, lut)
            rows = first.shape[0]
            row_xy = np.empty(rows, dtype=np.int64)
            row_bits = np.empty((n_nodes, rows), dtype=np.uint8)
            for k in range(rows):
                row_xy[k] = xy[first[k]]
                for j in range(n_nodes):
                    row_bits[j, k] = bits_t[j, first[k]]
            greedy_rows(row_xy, row_bits, weight, samples, clog, order[r], curve[r],
                         contribution[r])
        else:
            greedy_rows(xy, bits_t, ones, samples, clog, order[r], curve[r], contribution[r])


@njit(cache=True)
def all_subsets(xy, code, weight, n_nodes, total, clog, values):
    """``I(X_in; X_out | Y_0)`` for every subset, written into ``values``.

    Parameters
    ----------
    xy : ndarray of int64, shape (n,)
        ``2 * x_in + x_out`` of every (distinct) row.
    code : ndarray of int64, shape (n,)
        The row's node bits packed into an integer (bit j = node j).
    weight : ndarray of int64, shape (n,)
        How many samples each row stands for.
    n_nodes : int
        The number of nodes.
    total : int
        The number of samples (the sum of the weights).
    clog : ndarray, shape (total + 1,)
        ``clog_table(total)``.
    values : ndarray, shape (2**n_nodes,)
        Receives, at ``mask``, the information in bits given ``Y_0`` = the nodes NOT in ``mask``.
    """
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




@njit(cache=True)
def pattern_counts(bits):
    """Distinct rows of each slice of bits.

    Parameters
    ----------
    bits : ndarray of uint8, shape (slices, samples, nodes)
        Binarised hidden states.

    Returns
    -------
    ndarray of int64, shape (slices,)
        The number of distinct rows of each (samples, nodes) slice.
    """
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
            m = relabel(keys, samples, lut, ids)
        out[s] = m
    return out


@njit(cache=True)
def binned_cmi(pred, xy, bins, clog, table):
    """Plug-in ``I(X_in; X_out | bin(pred))`` in bits.

    Parameters
    ----------
    pred : ndarray, shape (n,)
        The values binned into ``bins`` equal bins of [0, 1] (values outside go to the end bins).
    xy : ndarray of int64, shape (n,)
        ``2 * x_in + x_out`` of every sample.
    bins : int
        The number of bins.
    clog : ndarray, shape (n + 1,)
        ``clog_table(n)``.
    table : ndarray of int64, shape (4 bins,) or longer
        Scratch, all 0 on entry and again on return.

    Returns
    -------
    float
        The conditional information in bits.
    """
    n = pred.shape[0]
    for i in range(n):
        b = int(np.floor(pred[i] * bins))
        b = min(max(b, 0), bins - 1)
        table[b * 4 + xy[i]] += 1
    return drain(table, bins, clog) / n


@njit(cache=True)
def probe_values(candidates, pred_a, held_a, coef_a, xy_a, pred_b, held_b, coef_b, xy_b,
                  bins, clog, total, out):
    """The probe's ``I(X_in; X_out | s)`` for each candidate node entering ``Y_0``.

    Written into ``out``. ``s`` is the binned held-out prediction of ``X_in`` after node ``j = candidates[k]`` enters
    ``Y_0``: fold f (a or b) predicts its held-out rows as ``pred_f + coef_f[j] * held_f[j]``.

    Parameters
    ----------
    candidates : ndarray of int64, shape (k,)
        The nodes still in ``Y_R``.
    pred_a, pred_b : ndarray, shape (rows_a,) and (rows_b,)
        Each fold's current prediction of its held-out rows.
    held_a, held_b : ndarray, shape (nodes, rows_a) and (nodes, rows_b)
        Each node's held-out values, orthogonalised against ``Y_0`` on the fitting half.
    coef_a, coef_b : ndarray, shape (nodes,)
        Each node's least-squares coefficient on the fitting half's residual.
    xy_a, xy_b : ndarray of int64, shape (rows_a,) and (rows_b,)
        ``2 * x_in + x_out`` of each fold's held-out rows.
    bins : int
        Bins of the prediction over [0, 1].
    clog : ndarray, shape (total + 1,)
        ``clog_table(total)``.
    total : int
        rows_a + rows_b, the number of samples.
    out : ndarray, shape (k,) or longer
        Receives the information in bits for each candidate.
    """
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
        out[k] = drain(table, bins, clog) / total
