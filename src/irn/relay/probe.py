"""The probe remedy for high-entropy hidden states (DESIGN §14): the greedy ordering with ``Y_0``
summarised by a cross-fitted linear probe's prediction instead of its binarised patterns
(:func:`probe_greedy`), and the shuffle null of the probe's relay of all nodes (:func:`probe_null`)."""

from __future__ import annotations

import numpy as np

from irn.params import check_count
from irn.relay.data import (
    PROBE_BINS,
    TIE_TOLERANCE,
    GreedyResult,
    RelayNull,
    check_null_settings,
    check_relay_data,
)
from irn.relay.kernels import binned_cmi, clog_table, probe_values
from irn.relay.nulls import permutations, tail_p_value


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
    x_in, x_out, hidden_bits = check_relay_data(x_in, x_out, hidden_bits)
    check_count(bins, "bins", 2)
    check_null_settings(1, seed)
    samples, n_nodes = hidden_bits.shape
    if samples < 4:
        raise ValueError(f"probe_greedy needs at least 4 samples (two folds), got {samples}")
    perm = np.random.default_rng(seed).permutation(samples)
    halves = (np.sort(perm[: samples // 2]), np.sort(perm[samples // 2:]))
    xy = 2 * x_in.astype(np.int64) + x_out
    clog = clog_table(samples)
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
        return binned_cmi(pred, xy, bins, clog, table)

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
        probe_values(remaining, a["pred"], a["held_r"], coefs[0], a["xy"], b["pred"], b["held_r"],
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


def probe_null(x_in, x_out, hidden_bits, shuffles: int = 200, bins: int = PROBE_BINS, seed: int = 0) -> RelayNull:
    """Shuffle null of the probe's relay of all nodes (``probe_greedy(...).curve[0]``).

    Parameters
    ----------
    x_in, x_out : ndarray, shape (samples,)
        Binary concept bit and the network's answer bit.
    hidden_bits : ndarray, shape (samples, nodes)
        Binarised hidden states, nodes >= 2, samples >= 4.
    shuffles : int
        Permutations of ``(x_in, x_out)``, applied jointly against the hidden states (the same
        permutations as :func:`irn.relay.relay_null` with this seed).
    bins, seed : int
        As in :func:`probe_greedy` (``seed`` also draws the permutations).

    Returns
    -------
    RelayNull
        ``observed`` equals ``probe_greedy(x_in, x_out, hidden_bits, bins, seed).curve[0]``:
        ``I(X_in; X_out) - I(X_in; X_out | s(Y))`` with ``s(Y)`` the cross-fitted linear probe's
        prediction of ``X_in`` from all nodes, binned. Unlike plug-in relay it does not collapse to
        its null when every sample has its own pattern. All shuffles share one least-squares
        factorisation per fold, so the null costs little more than one fit.
    """
    x_in, x_out, hidden_bits = check_relay_data(x_in, x_out, hidden_bits)
    check_count(bins, "bins", 2)
    check_null_settings(shuffles, seed)
    samples = hidden_bits.shape[0]
    if samples < 4:
        raise ValueError(f"probe_null needs at least 4 samples (two folds), got {samples}")
    from threadpoolctl import threadpool_limits

    perm = np.random.default_rng(seed).permutation(samples)
    halves = (np.sort(perm[: samples // 2]), np.sort(perm[samples // 2:]))
    order = np.vstack([np.arange(samples), permutations(samples, shuffles, seed)])  # row 0: the data
    xy = (2 * x_in.astype(np.int64) + x_out)[order]  # (1 + shuffles, samples)
    target = x_in.astype(np.float64)[order]
    constant = np.empty((order.shape[0], samples))
    fitted = np.empty((order.shape[0], samples))
    with threadpool_limits(limits=1, user_api="blas"):
        for fit, held in (halves, halves[::-1]):
            centre = hidden_bits[fit].mean(axis=0)
            mean = target[:, fit].mean(axis=1)  # (1 + shuffles,)
            coef, *_ = np.linalg.lstsq(hidden_bits[fit] - centre, (target[:, fit] - mean[:, None]).T, rcond=None)
            constant[:, held] = mean[:, None]
            fitted[:, held] = mean[:, None] + ((hidden_bits[held] - centre) @ coef).T
    clog = clog_table(samples)
    table = np.zeros(4 * bins, dtype=np.int64)
    values = np.array([binned_cmi(constant[k], xy[k], bins, clog, table) - binned_cmi(fitted[k], xy[k], bins, clog, table)
                       for k in range(order.shape[0])])
    observed, null = float(values[0]), values[1:]
    null_mean = float(null.mean())
    return RelayNull(observed=observed, null=null, null_mean=null_mean,
                     p_value=float(tail_p_value(null, observed)), corrected=observed - null_mean)
