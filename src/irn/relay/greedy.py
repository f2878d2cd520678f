"""Relay information of a node subset, the greedy ordering (one run or many in one compiled loop), the
exhaustive search over every subset and the greedy curve's gap to it (Hintze, Najam & Schossau,
arXiv 2510.01271, §II.C, Eq. 1; the greedy search and the exhaustive check after Hintze & Adami,
Entropy 25:401, 2023)."""

from __future__ import annotations

import numpy as np

from irn.info import conditional_mutual_information
from irn.relay.data import (MAX_EXHAUSTIVE_NODES, TIE_TOLERANCE, ExhaustiveResult, GreedyBatch, GreedyResult,
                            binary, check_nodes, check_relay_data, guard, popcount)
from irn.relay.kernels import all_subsets, clog_table, greedy_runs

# ----------------------------------------------------------------------------------------
# relay information of one subset


def relay_information(x_in, x_out, hidden_bits, nodes) -> float:
    """``I_R`` of one node subset ``Y_R``; the other nodes are ``Y_0``.

    Parameters
    ----------
    x_in : array_like, shape (samples,)
        The concept's bit, 0/1.
    x_out : array_like, shape (samples,)
        The network's output bit for the concept, 0/1.
    hidden_bits : array_like, shape (samples, nodes)
        Binarised hidden states, 0/1, at least 2 nodes.
    nodes : array_like of int
        The distinct node indices of ``Y_R``.

    Returns
    -------
    float
        ``I(X_in; X_out | Y_0) - I(X_in; X_out | Y)`` in bits (may be negative).
    """
    x_in, x_out, hidden_bits = check_relay_data(x_in, x_out, hidden_bits)
    relay = check_nodes(nodes, hidden_bits.shape[1])
    guard(hidden_bits)
    rest = np.setdiff1d(np.arange(hidden_bits.shape[1]), relay)
    return conditional_mutual_information(
        x_in, x_out, hidden_bits[:, rest]
    ) - conditional_mutual_information(x_in, x_out, hidden_bits)


# ----------------------------------------------------------------------------------------
# greedy


def greedy(x_in, x_out, hidden_bits) -> GreedyResult:
    """Greedy relay ordering of the hidden nodes for one concept at one time step.

    Starting from ``Y_R`` = all nodes, repeatedly moves to ``Y_0`` the node whose removal
    leaves the largest ``I_R``; values within ``TIE_TOLERANCE`` (1e-12) of the best are tied and
    the lowest node index wins.

    Parameters
    ----------
    x_in : array_like, shape (samples,)
        The concept's bit, 0/1.
    x_out : array_like, shape (samples,)
        The network's output bit for the concept, 0/1.
    hidden_bits : array_like, shape (samples, nodes)
        Binarised hidden states, 0/1, at least 2 nodes.

    Returns
    -------
    GreedyResult
        The removal order, the ``I_R`` curve and each node's contribution.
    """
    x_in, x_out, hidden_bits = check_relay_data(x_in, x_out, hidden_bits)
    guard(hidden_bits)
    batch = greedy_batch(x_in[None], x_out[None], hidden_bits[None], deduplicate=True)
    return batch.at(0)


def greedy_batch(x_in, x_out, hidden_bits, deduplicate: bool) -> GreedyBatch:
    """Greedy orderings of already validated data: the loop behind :func:`greedy_many`.

    Parameters
    ----------
    x_in : ndarray of uint8, shape (..., samples)
        Validated concept bits.
    x_out : ndarray of uint8, shape (..., samples)
        Validated output bits.
    hidden_bits : ndarray of uint8, shape (..., samples, nodes)
        Validated hidden bits; the leading axes of the three broadcast against each other.
    deduplicate : bool
        Merge repeated rows into weighted rows first.

    Returns
    -------
    GreedyBatch
        Arrays of shape (batch..., nodes), batch the broadcast leading shape.
    """
    shape = np.broadcast_shapes(x_in.shape[:-1], x_out.shape[:-1], hidden_bits.shape[:-2])
    samples, n_nodes = hidden_bits.shape[-2:]

    def flat_index(batch_shape):
        index = np.arange(int(np.prod(batch_shape)), dtype=np.int64).reshape(batch_shape)
        return np.ascontiguousarray(np.broadcast_to(index, shape).ravel())

    runs = int(np.prod(shape))
    order = np.empty((runs, n_nodes), dtype=np.int64)
    curve = np.empty((runs, n_nodes))
    contribution = np.empty((runs, n_nodes))
    greedy_runs(
        x_in.reshape(-1, samples),
        x_out.reshape(-1, samples),
        hidden_bits.reshape(-1, samples, n_nodes),
        flat_index(x_in.shape[:-1]),
        flat_index(x_out.shape[:-1]),
        flat_index(hidden_bits.shape[:-2]),
        deduplicate,
        clog_table(samples),
        order,
        curve,
        contribution,
    )
    full = shape + (n_nodes,)
    return GreedyBatch(order.reshape(full), curve.reshape(full), contribution.reshape(full))


def greedy_many(x_in, x_out, hidden_bits, deduplicate: bool = True) -> GreedyBatch:
    """Many greedy orderings in one compiled loop (serial numba).

    The leading (batch) axes of the three arrays broadcast against each other as in numpy, and
    every broadcast index is one greedy run; nothing is copied for broadcasting. Example, one
    network with concepts (3, samples) and hidden bits over time steps (15, samples, 12)::

        batch = greedy_many(x_in[None], x_out[None], hidden_bits[:, None])
        batch.order.shape  # (15, 3, 12): (steps, concepts, nodes)

    Parameters
    ----------
    x_in : array_like, shape (..., samples)
        Concept bits, 0/1.
    x_out : array_like, shape (..., samples)
        Output bits, 0/1.
    hidden_bits : array_like, shape (..., samples, nodes)
        Binarised hidden states, 0/1, at least 2 nodes.
    deduplicate : bool, optional
        Merge repeated rows into weighted rows first (same results; faster when samples repeat,
        e.g. noise-free tasks).

    Returns
    -------
    GreedyBatch
        Arrays of shape (batch..., nodes), batch the broadcast leading shape.
    """
    x_in = binary(x_in, "x_in", min_ndim=1)
    x_out = binary(x_out, "x_out", min_ndim=1)
    hidden_bits = binary(hidden_bits, "hidden_bits", min_ndim=2)
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
    guard(hidden_bits)
    return greedy_batch(x_in, x_out, hidden_bits, bool(deduplicate))


# ----------------------------------------------------------------------------------------
# exhaustive check




def exhaustive(x_in, x_out, hidden_bits) -> ExhaustiveResult:
    """``I_R`` of every node subset, for at most :data:`MAX_EXHAUSTIVE_NODES` nodes.

    Cost is ``2**nodes x distinct rows``; 12 nodes and 1000 samples take a few ms.

    Parameters
    ----------
    x_in : array_like, shape (samples,)
        The concept's bit, 0/1.
    x_out : array_like, shape (samples,)
        The network's output bit for the concept, 0/1.
    hidden_bits : array_like, shape (samples, nodes)
        Binarised hidden states, 0/1, 2 to ``MAX_EXHAUSTIVE_NODES`` nodes.

    Returns
    -------
    ExhaustiveResult
        Every subset's ``I_R`` and the best subset of each size.
    """
    x_in, x_out, hidden_bits = check_relay_data(x_in, x_out, hidden_bits)
    samples, n_nodes = hidden_bits.shape
    if n_nodes > MAX_EXHAUSTIVE_NODES:
        raise ValueError(
            f"hidden_bits has {n_nodes} nodes; exhaustive checks at most "
            f"{MAX_EXHAUSTIVE_NODES} nodes (2**nodes subsets), use greedy instead"
        )
    code = hidden_bits.astype(np.int64) @ (1 << np.arange(n_nodes, dtype=np.int64))
    rows, weight = np.unique(code * 4 + 2 * x_in + x_out, return_counts=True)
    conditional = np.empty(1 << n_nodes)
    all_subsets(rows & 3, rows >> 2, weight.astype(np.int64), n_nodes, samples,
                 clog_table(samples), conditional)
    values = conditional - conditional[0]  # mask 0: Y_0 = all nodes
    sizes = popcount(np.arange(1 << n_nodes, dtype=np.int64))
    best = np.empty(n_nodes + 1)
    best_mask = np.empty(n_nodes + 1, dtype=np.int64)
    for size in range(n_nodes + 1):
        masks = np.flatnonzero(sizes == size)
        pick = masks[np.argmax(values[masks])]
        best[size], best_mask[size] = values[pick], pick
    return ExhaustiveResult(values, best, best_mask)


def greedy_gap(greedy_result: GreedyResult, exhaustive_result: ExhaustiveResult):
    """How far the greedy curve is from the best subset of each size.

    Parameters
    ----------
    greedy_result : GreedyResult
        :func:`greedy` of some data.
    exhaustive_result : ExhaustiveResult
        :func:`exhaustive` of the same data.

    Returns
    -------
    DataFrame
        One row per subset size 1..nodes: ``size``, ``greedy`` (greedy ``I_R``), ``best`` (best
        ``I_R`` of any subset), ``n_subsets``, ``n_better`` (subsets beating greedy by more than
        ``TIE_TOLERANCE``) and ``fraction_better``.
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
