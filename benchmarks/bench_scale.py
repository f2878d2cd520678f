"""Benchmark of the greedy relay kernel at large H (issue 15): today's ``irn.relay`` kernel
against the kernel it replaced, kept verbatim below, side by side in one run.

Run: ``python benchmarks/bench_scale.py [--quick]``. Prints

1. H = 256 and H = 1024 nodes at N = 10 000 samples (targets: under 1.5 s and under 60 s on
   one core): seconds for the previous kernel and ``irn.relay.greedy``, their ratio, and whether
   the two give the same order;
2. growth with H (N = 10 000) and with N (H = 256) of ``irn.relay.greedy`` alone, run by the
   library's planted-relay study ``irn.relay.planted_study`` (with the share of planted relays found).

Data: ``irn.relay.planted_relays`` (random node bits with a few planted relay nodes), the
high-entropy case of DESIGN §14; "noisy" (every node a noisy function of X_in, many weak relays);
and a low-entropy case (H = 12, N = 1000, structured) to show the paper's workload did not get
slower. numba compile time is excluded (warm-up first). One
thread: numba kernels here are serial.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from numba import njit

from irn.relay import TIE_TOLERANCE, RelayEntropyWarning, greedy, planted_relays, planted_study
from irn.relay.kernels import clog_table, greedy_runs

# ----------------------------------------------------------------------------------------
# the previous kernel (irn.relay before issue 15), verbatim apart from cache=False


@njit(cache=False)
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


@njit(cache=False)
def _deduplicate(xy, bits, keys, ids, lut):
    """Merge identical rows of (xy, bits). Returns (representative row index, weight)."""
    n, n_nodes = bits.shape
    for i in range(n):
        keys[i] = xy[i]
    m = _relabel(keys, n, lut, ids)
    for j in range(n_nodes):
        for i in range(n):
            keys[i] = ids[i] * 2 + bits[i, j]
        m = _relabel(keys, n, lut, ids)
    first = np.full(m, -1, dtype=np.int64)
    weight = np.zeros(m, dtype=np.int64)
    for i in range(n):
        if first[ids[i]] < 0:
            first[ids[i]] = i
        weight[ids[i]] += 1
    return first, weight


@njit(cache=False)
def _conditional_mi(keys, n_keys, xy, weight, n, total, clog, table):
    """``I(X_in; X_out | Z)`` in bits, Z given as keys[:n] in 0..n_keys-1; table is all 0."""
    for i in range(n):
        table[keys[i] * 4 + xy[i]] += weight[i]
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
    return acc / total


@njit(cache=False)
def _greedy_rows(xy, bits, weight, total, clog, keys, zid, lut, table, values, order, curve,
                 contribution):
    """Greedy ordering on (weighted, possibly de-duplicated) rows; fills order/curve/contribution.

    xy: (n,) 2*x_in + x_out; bits: (n, nodes); weight: (n,) counts summing to total.
    """
    n, n_nodes = bits.shape
    # constant part: I(X_in; X_out | Y) with Y = all nodes
    for i in range(n):
        zid[i] = 0
    m = 1
    for j in range(n_nodes):
        for i in range(n):
            keys[i] = zid[i] * 2 + bits[i, j]
        m = _relabel(keys, n, lut, zid)
    full = _conditional_mi(zid, m, xy, weight, n, total, clog, table)
    # Y_0 empty: zid = 0 everywhere
    for i in range(n):
        zid[i] = 0
        keys[i] = 0
    m = 1
    curve[0] = _conditional_mi(keys, 1, xy, weight, n, total, clog, table) - full
    in_relay = np.ones(n_nodes, dtype=np.bool_)
    contribution[:] = 0.0
    for step in range(1, n_nodes):
        best = -np.inf
        for j in range(n_nodes):
            if in_relay[j]:
                for i in range(n):
                    keys[i] = zid[i] * 2 + bits[i, j]
                values[j] = _conditional_mi(keys, 2 * m, xy, weight, n, total, clog, table) - full
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
        for i in range(n):
            keys[i] = zid[i] * 2 + bits[i, chosen]
        m = _relabel(keys, n, lut, zid)
        gain = curve[0] - curve[step]
        for j in range(n_nodes):
            if in_relay[j]:
                contribution[j] += gain
    for j in range(n_nodes):
        if in_relay[j]:
            order[n_nodes - 1] = j


@njit(cache=False)
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
    zid = np.empty(samples, dtype=np.int64)
    lut = np.full(2 * samples + 4, -1, dtype=np.int64)
    table = np.zeros(8 * samples + 16, dtype=np.int64)
    values = np.empty(n_nodes)
    ones = np.ones(samples, dtype=np.int64)
    for r in range(runs):
        a = x_in[in_index[r]]
        b = x_out[out_index[r]]
        bits = hidden_bits[hidden_index[r]]
        for i in range(samples):
            xy[i] = 2 * a[i] + b[i]
        if deduplicate:
            first, weight = _deduplicate(xy, bits, keys, ids, lut)
            rows = first.shape[0]
            row_xy = np.empty(rows, dtype=np.int64)
            row_bits = np.empty((rows, n_nodes), dtype=np.uint8)
            for k in range(rows):
                row_xy[k] = xy[first[k]]
                row_bits[k, :] = bits[first[k], :]
            _greedy_rows(row_xy, row_bits, weight, samples, clog, keys, zid, lut, table,
                         values, order[r], curve[r], contribution[r])
        else:
            _greedy_rows(xy, bits, ones, samples, clog, keys, zid, lut, table, values,
                         order[r], curve[r], contribution[r])




def _run(kernel, x_in, x_out, hidden_bits):
    """One de-duplicated greedy run through ``kernel`` (the previous or today's ``_greedy_runs``),
    called the same way for both so the ratio compares kernels only."""
    x_in = np.ascontiguousarray(x_in, dtype=np.uint8)
    x_out = np.ascontiguousarray(x_out, dtype=np.uint8)
    hidden_bits = np.ascontiguousarray(hidden_bits, dtype=np.uint8)
    samples, nodes = hidden_bits.shape
    order = np.empty((1, nodes), dtype=np.int64)
    curve = np.empty((1, nodes))
    contribution = np.empty((1, nodes))
    index = np.zeros(1, dtype=np.int64)
    kernel(x_in[None], x_out[None], hidden_bits[None], index, index, index, True,
           clog_table(samples), order, curve, contribution)
    return order[0], curve[0]


def previous_greedy(x_in, x_out, hidden_bits):
    """The previous kernel on one run."""
    return _run(_greedy_runs, x_in, x_out, hidden_bits)


def current_greedy(x_in, x_out, hidden_bits):
    """Today's ``irn.relay`` kernel on one run, called like ``previous_greedy``."""
    return _run(greedy_runs, x_in, x_out, hidden_bits)


def _timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def _structured(rng, samples: int, nodes: int):
    """Low-entropy data like a trained network's: nodes are noisy functions of 3 concept bits."""
    concepts = rng.integers(0, 2, (samples, 3))
    weights = rng.normal(0.0, 1.0, (3, nodes))
    hidden = np.tanh((2 * concepts - 1) @ weights * 2.0)
    bits = (hidden > np.median(hidden, axis=0)).astype(np.uint8)
    return concepts[:, 0].astype(np.uint8), concepts[:, 0].astype(np.uint8), bits


def _noisy(rng, samples: int, nodes: int):
    """High-entropy data with graded information: every node a noisy tanh of X_in with its own
    weight (many weak relays instead of four strong ones); X_out reads the strongest node."""
    x_in = rng.integers(0, 2, samples)
    weights = rng.normal(0.0, 1.0, nodes)
    hidden = np.tanh(np.outer(2 * x_in - 1, weights) + rng.normal(0.0, 1.0, (samples, nodes)))
    bits = (hidden > np.median(hidden, axis=0)).astype(np.uint8)
    x_out = bits[:, np.argmax(np.abs(weights))] ^ (rng.random(samples) < 0.05)
    return x_in.astype(np.uint8), x_out.astype(np.uint8), bits


def side_by_side(cases, seed: int) -> None:
    rng = np.random.default_rng(seed)
    warm = planted_relays(200, 8, relays=2, seed=seed)
    previous_greedy(warm.x_in, warm.x_out, warm.hidden_bits)
    current_greedy(warm.x_in, warm.x_out, warm.hidden_bits)
    greedy(warm.x_in, warm.x_out, warm.hidden_bits)
    print("one greedy run: previous kernel vs today's kernel (seconds, one core; best of repeats);")
    print("'irn.greedy' adds input checks and the guard; 'same order' compares with the previous kernel")
    print(f"{'data':>10} {'H':>5} {'N':>6} {'previous s':>11} {'today s':>9} {'ratio':>7} "
          f"{'irn.greedy s':>13} {'same order':>11}")
    for kind, nodes, samples in cases:
        if kind == "planted":
            data = planted_relays(samples, nodes, relays=4, seed=seed)
            x_in, x_out, bits = data.x_in, data.x_out, data.hidden_bits
        elif kind == "noisy":
            x_in, x_out, bits = _noisy(rng, samples, nodes)
        else:
            x_in, x_out, bits = _structured(rng, samples, nodes)
        repeats = 200 if nodes <= 12 else 5 if nodes <= 64 else 1
        best = lambda f: min(_timed(lambda: f(x_in, x_out, bits))[0] for _ in range(repeats))
        before, after, public = best(previous_greedy), best(current_greedy), best(greedy)
        order, curve = previous_greedy(x_in, x_out, bits)
        result = greedy(x_in, x_out, bits)
        same = np.array_equal(order, result.order) and np.allclose(curve, result.curve, atol=1e-9)
        print(f"{kind:>10} {nodes:>5} {samples:>6} {before:>11.5f} {after:>9.5f} "
              f"{before / after:>6.1f}x {public:>13.5f} {str(same):>11}", flush=True)


def growth(seed: int, nodes_list, samples_list) -> None:
    """Growth with H and N of ``irn.relay.greedy``, timed by the library's planted-relay study
    (``irn.relay.planted_study``, the one chapter 12 draws), with the share of planted relays found."""
    print("\ngrowth of irn.relay.greedy on planted data (irn.relay.planted_study: seconds, relays recovered)")
    for nodes, samples in [(list(nodes_list), [10_000]), ([256], list(samples_list))]:
        study = planted_study(nodes, samples, seeds=1, methods=["plug-in"], seed=seed)
        for row in study.runs.to_dict("records"):
            print(f"  H={row['nodes']:>5} N={row['samples']:>6}: {row['seconds_plug-in']:8.3f} s, "
                  f"recovered {row['plug-in']:.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="skip H = 1024 (the previous kernel takes minutes)")
    args = parser.parse_args()
    warnings.simplefilter("ignore", RelayEntropyWarning)  # these data are high-entropy on purpose
    cases = [("structured", 12, 1000), ("planted", 12, 1000), ("planted", 64, 10_000),
             ("planted", 256, 10_000), ("noisy", 256, 10_000)]
    if not args.quick:
        cases.append(("planted", 1024, 10_000))
    side_by_side(cases, args.seed)
    growth(args.seed, (64, 128, 256, 512) + (() if args.quick else (1024,)),
           (1000, 3000, 10_000, 30_000))


if __name__ == "__main__":
    main()
