"""Shuffle nulls of relay information (beyond the paper): ``X_in`` and ``X_out`` permuted jointly against
the hidden states give a bias estimate and a p-value for a subset (``relay_null``) or a whole greedy
run (``greedy_null``)."""

from __future__ import annotations

import functools
import warnings

import numpy as np

from irn.relay.data import (
    TIE_TOLERANCE,
    GreedyNull,
    RelayEntropyWarning,
    RelayNull,
    check_nodes,
    check_null_settings,
    check_relay_data,
    frozen,
    guard,
)
from irn.relay.greedy import greedy, greedy_batch
from irn.relay.kernels import clog_table

# ----------------------------------------------------------------------------------------
# shuffle nulls


@functools.lru_cache(maxsize=16)
def permutations(samples: int, shuffles: int, seed: int) -> np.ndarray:
    """(shuffles, samples) permutations from ``numpy.random.default_rng(seed)`` (read-only; kept,
    since a table of nulls asks for the same permutations once per replicate, step and concept)."""
    rng = np.random.default_rng(seed)
    return frozen(np.stack([rng.permutation(samples) for _ in range(shuffles)]))


def tail_p_value(null: np.ndarray, observed) -> np.ndarray:
    """``(1 + #(null >= observed)) / (1 + shuffles)`` along axis 0, ties within 1e-12 count."""
    return (1 + np.sum(null >= np.asarray(observed) - TIE_TOLERANCE, axis=0)) / (1 + len(null))


def relay_null(x_in, x_out, hidden_bits, nodes=None, shuffles: int = 200, seed: int = 0):
    """Shuffle null of ``I_R`` for one node subset (default: all nodes).

    x_in, x_out: (samples,) binary; hidden_bits: (samples, nodes) binary; nodes: indices of
    ``Y_R`` or None for all nodes. Each shuffle applies one permutation to both ``x_in`` and
    ``x_out`` (their joint statistics stay intact) against the hidden states.
    Returns a :class:`RelayNull`.
    """
    x_in, x_out, hidden_bits = check_relay_data(x_in, x_out, hidden_bits)
    n_nodes = hidden_bits.shape[1]
    relay = np.arange(n_nodes) if nodes is None else check_nodes(nodes, n_nodes)
    check_null_settings(shuffles, seed)
    guard(hidden_bits)
    rest = np.setdiff1d(np.arange(n_nodes), relay)
    # dense codes of Y_0 and Y, once; each shuffle only permutes (x_in, x_out)
    code_rest = _pattern_code(hidden_bits[:, rest])
    code_all = _pattern_code(hidden_bits)
    xy = 2 * x_in.astype(np.int64) + x_out
    clog = clog_table(xy.size)

    observed = _relay_from_codes(xy, code_rest, code_all, clog)
    shuffled = xy[permutations(xy.size, shuffles, seed)]  # (shuffles, samples), all at once
    null = _conditional_mi_of_shuffles(shuffled, code_rest, clog) - _conditional_mi_of_shuffles(shuffled, code_all, clog)
    null_mean = float(null.mean())
    return RelayNull(
        observed=observed,
        null=null,
        null_mean=null_mean,
        p_value=float(tail_p_value(null, observed)),
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
    x_in, x_out, hidden_bits = check_relay_data(x_in, x_out, hidden_bits)
    check_null_settings(shuffles, seed)
    guard(hidden_bits)
    with warnings.catch_warnings():  # warned once above
        warnings.simplefilter("ignore", RelayEntropyWarning)
        observed = greedy(x_in, x_out, hidden_bits)
    perms = permutations(x_in.size, shuffles, seed)
    null = greedy_batch(x_in[perms], x_out[perms], hidden_bits[None], deduplicate=True)
    return GreedyNull(
        observed=observed,
        null_curve=null.curve,
        null_contribution=null.contribution,
        curve_p_value=tail_p_value(null.curve, observed.curve),
        contribution_p_value=tail_p_value(null.contribution, observed.contribution),
        corrected_curve=observed.curve - null.curve.mean(axis=0),
        corrected_contribution=observed.contribution - null.contribution.mean(axis=0),
    )
