"""Benchmark of the greedy relay ordering (irn.relay) against the authors' style of computing it.

Run from the repository root: ``python benchmarks/bench_relay.py [--threads 1]``. Prints,
measured side by side in one run:

1. one greedy run at H=12 N=1000, H=12 N=10000, H=32 N=1000, H=64 N=1000: a straightforward
   reference (all 8 joint entropies of DESIGN §7 per candidate, each from ``np.unique`` on
   packed codes, as in the authors' notebook) vs ``irn.relay.greedy``, with the ratio and a
   check that both give the same order;
2. the paper workload: 720 networks x 3 concepts x 15 time steps of greedy runs (H=12,
   N=1000) with ``irn.relay.greedy_many``, one call per network.

numba compile time is excluded: every kernel is called once before timing (warm-up). Times are
CPU seconds of this process (``harness.cpu``) with every thread pool pinned to ``--threads``
(``harness.pin``, both sides); the header prints the machine's load and which side runs first.
"""

from __future__ import annotations

import argparse

import numpy as np
from harness import cpu, header, pin

from irn.relay import TIE_TOLERANCE, binarize, greedy, greedy_many

CASES = ((12, 1000), (12, 10000), (32, 1000), (64, 1000))
NETWORKS, CONCEPTS, STEPS, NODES, SAMPLES = 720, 3, 15, 12, 1000


# ----------------------------------------------------------------------------------------
# reference: 8 entropies per candidate with np.unique on packed codes


def _packed(columns: np.ndarray) -> np.ndarray:
    """One code per row of a (samples, k) 0/1 array: an int64 when it fits, else raw bytes."""
    if columns.shape[1] <= 62:
        return columns.astype(np.int64) @ (1 << np.arange(columns.shape[1], dtype=np.int64))
    packed = np.ascontiguousarray(np.packbits(columns.astype(np.uint8), axis=1))
    return packed.view(np.dtype((np.void, packed.shape[1]))).ravel()


def _entropy(*parts: np.ndarray) -> float:
    columns = np.column_stack(parts)
    if columns.shape[1] == 0:
        return 0.0
    _, counts = np.unique(_packed(columns), return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def reference_relay(x_in, x_out, hidden_bits, relay) -> float:
    """``I_R`` from the 8-entropy expansion of DESIGN §7."""
    rest = [j for j in range(hidden_bits.shape[1]) if j not in set(relay)]
    y_r, y_0 = hidden_bits[:, list(relay)], hidden_bits[:, rest]
    return (
        _entropy(x_in, y_0) + _entropy(y_0, x_out) + _entropy(y_r, y_0) - _entropy(y_0)
        - _entropy(x_in, y_r, y_0) - _entropy(x_in, y_0, x_out) - _entropy(y_r, y_0, x_out)
        + _entropy(x_in, y_r, y_0, x_out)
    )


def reference_greedy(x_in, x_out, hidden_bits) -> tuple[list[int], list[float]]:
    """Greedy order and curve, same tie rule as irn (lowest node index within 1e-12)."""
    relay = list(range(hidden_bits.shape[1]))
    order, curve = [], [reference_relay(x_in, x_out, hidden_bits, relay)]
    while len(relay) > 1:
        values = [
            reference_relay(x_in, x_out, hidden_bits, [k for k in relay if k != j])
            for j in relay
        ]
        best = max(values)
        position = next(k for k, v in enumerate(values) if v >= best - TIE_TOLERANCE)
        order.append(relay.pop(position))
        curve.append(values[position])
    return order + relay, curve


# ----------------------------------------------------------------------------------------
# data: random but structured (some nodes carry the concept, the output reads them)


def structured_data(rng, samples: int, nodes: int, flip: float = 0.05):
    """One concept: x_in (samples,), x_out (samples,), hidden_bits (samples, nodes)."""
    x_in = rng.integers(0, 2, samples)
    weights = rng.normal(0.0, 1.0, nodes) * (rng.random(nodes) < 0.4)
    hidden = np.tanh(np.outer(2 * x_in - 1, weights) + rng.normal(0.0, 0.7, (samples, nodes)))
    hidden_bits = binarize(hidden)
    read = np.argmax(np.abs(weights))
    x_out = hidden_bits[:, read] ^ (rng.random(samples) < flip)
    return x_in, x_out.astype(np.uint8), hidden_bits


def network_data(rng):
    """One network: concepts (3, N), outputs (3, N), hidden (15, N, 12) as in the memory task
    (concept c enters at step 4, 7, 10 and is held with noise afterwards)."""
    concepts = rng.integers(0, 2, (CONCEPTS, SAMPLES))
    signs = 2.0 * concepts - 1.0
    arrival = np.array([4, 7, 10])
    weights = rng.normal(0.0, 1.0, (CONCEPTS, NODES)) * (rng.random((CONCEPTS, NODES)) < 0.5)
    present = (np.arange(STEPS)[:, None] >= arrival[None, :]).astype(float)  # (steps, concepts)
    drive = np.einsum("tc,cs,cn->tsn", present, signs, weights)
    hidden = np.tanh(drive + rng.normal(0.0, 0.6, (STEPS, SAMPLES, NODES)))
    outputs = concepts ^ (rng.random((CONCEPTS, SAMPLES)) < 0.02)
    return concepts.astype(np.uint8), outputs.astype(np.uint8), hidden


# ----------------------------------------------------------------------------------------


def _best_time(function, repeats: int) -> float:
    """The smallest CPU time of ``repeats`` calls."""
    return min(cpu(function)[1] for _ in range(repeats))


def single_runs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    warm = structured_data(rng, 100, 4)
    greedy(*warm)
    greedy_many(warm[0][None], warm[1][None], warm[2][None], deduplicate=False)
    print("one greedy run (CPU ms, best of repeats; irn timings exclude numba compile, warmed up first)")
    columns = f"{'H':>4} {'N':>6} {'reference ms':>13} {'irn.greedy ms':>14} {'no-dedup ms':>12}"
    print(columns + f" {'ratio':>8} {'same order':>11}")
    for nodes, samples in CASES:
        x_in, x_out, hidden_bits = structured_data(rng, samples, nodes)
        reference_repeats = 3 if nodes <= 12 else 1
        reference = _best_time(lambda: reference_greedy(x_in, x_out, hidden_bits), reference_repeats)
        fast = _best_time(lambda: greedy(x_in, x_out, hidden_bits), 20)
        plain = _best_time(
            lambda: greedy_many(x_in[None], x_out[None], hidden_bits[None], deduplicate=False), 20
        )
        order, curve = reference_greedy(x_in, x_out, hidden_bits)
        result = greedy(x_in, x_out, hidden_bits)
        same = np.array_equal(result.order, order) and np.allclose(result.curve, curve, atol=1e-9)
        print(
            f"{nodes:>4} {samples:>6} {1e3 * reference:>13.2f} {1e3 * fast:>14.3f} "
            f"{1e3 * plain:>12.3f} {reference / fast:>7.0f}x {same!s:>11}"
        )


def paper_workload(seed: int, networks: int) -> None:
    rng = np.random.default_rng(seed)
    concepts, outputs, hidden = network_data(rng)
    greedy_many(concepts[None], outputs[None], binarize(hidden)[:, None])  # warm-up
    for deduplicate in (True, False):
        rng = np.random.default_rng(seed)
        total, prepare, distinct = 0.0, 0.0, []
        for _ in range(networks):
            (concepts, outputs, hidden), made = cpu(network_data, rng)
            hidden_bits, binarized = cpu(binarize, hidden)  # (steps, samples, nodes), median per step and node
            batch, seconds = cpu(greedy_many, concepts[None], outputs[None], hidden_bits[:, None],
                                 deduplicate=deduplicate)
            total += seconds
            prepare += made + binarized
            distinct.append(np.unique(hidden_bits[-1] @ (1 << np.arange(NODES))).size)
        runs = networks * CONCEPTS * STEPS
        print(
            f"paper workload, deduplicate={deduplicate}: {networks} networks x {CONCEPTS} "
            f"concepts x {STEPS} steps = {runs} greedy runs (H={NODES}, N={SAMPLES}): "
            f"greedy_many {total:.1f} CPU s ({1e3 * total / runs:.3f} ms/run), one process; "
            f"data + binarize {prepare:.1f} s; distinct hidden patterns at the last step "
            f"≈ {np.mean(distinct):.0f}/{SAMPLES}; output shape {batch.order.shape}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--networks", type=int, default=NETWORKS)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    threads = pin(args.threads)
    header("irn.relay.greedy against the 8-entropy reference", threads, ("reference", "irn.greedy", "no-dedup"))
    single_runs(args.seed)
    print()
    paper_workload(args.seed, args.networks)


if __name__ == "__main__":
    main()
