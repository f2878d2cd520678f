"""Every edge of a network against time-shifted surrogates of its source, with Benjamini–Hochberg
over the network's edges: ``flow_significance`` for the source's measure, pairwise and
multivariate transfer entropy."""

from __future__ import annotations

import numpy as np
import pandas as pd

from irn import ksg, params
from irn.flow._shared import (CONDITION_TIMES, CORRECTIONS, MEASURES, NULLS, _activity, _chunks, _common_options,
                              _finish, _hopeless, _lags, _neurons, _p_settled, _roles, _scan, _settled)
from irn.flow.measures import delayed_information, transfer_entropy
from irn.flow.multivariate import _multivariate


def _pairwise_nulls(activity, measure, lags, conditions, k, history, condition_time, theiler, noise, seed,
                    surrogates, min_shift, alpha, sequential, table):
    """Surrogate values of every edge, (surrogates, rows of ``table``, in the order of ``_pairs``), NaN
    where an edge stopped early (``sequential``: once it cannot reach p ≤ alpha or is settled), and
    which edges are settled (rows,).

    Every estimate covers the table's time range t = top … samples − 1; the columns are prepared once
    (z-scored, the tie-breaking noise of ``seed``) as the table's estimates were."""
    neurons = activity.shape[1]
    prepared = ksg.prepare(activity, True, noise, seed)
    observed_of = table.set_index(["lag", "source", "target"])["value"]
    top = max(max(lags), 0 if measure == "delayed" else history)
    options = {"start": top, "k": k, "theiler": theiler, "min_shift": min_shift, "alpha": alpha}
    found = {}
    for lag in lags:
        for u in range(neurons):
            sources = np.array([s for s in range(neurons) if s != u])
            observed = observed_of.loc[[(lag, s, u) for s in sources]].to_numpy()
            null = np.full((surrogates, len(sources)), np.nan)
            settled = np.zeros(len(sources), dtype=bool)
            if measure == "delayed":
                null[:], settled[:] = _delayed_null(prepared, u, sources, lag, observed, surrogates, seed * 31 + u,
                                                    sequential, **options)
            else:
                past = [(u, h) for h in range(1, history + 1)]
                given = [(c, 0 if condition_time == "target" else lag) for c in conditions]
                plain = np.isin(sources, conditions) | (u in conditions)  # the target's past only
                for group, conditioning in ((plain, past), (~plain, past + given)):
                    if group.any():
                        _, got, done = _scan(prepared, u, [(int(s), lag) for s in sources[group]], conditioning,
                                             surrogates=surrogates, seed=seed * 31 + u + 7 * lag,
                                             stop="each" if sequential else None, **options)
                        null[:len(got), group] = got
                        settled[group] = done
            found[lag, u] = (sources, null, settled)
    columns, flags = [], []
    for lag, s, u in [(lag, s, u) for lag in lags for s in range(neurons) for u in range(neurons) if s != u]:
        sources, null, settled = found[lag, u]
        j = int(np.flatnonzero(sources == s)[0])
        columns.append(null[:, j])
        flags.append(settled[j])
    return np.stack(columns, axis=1), np.asarray(flags)


def _delayed_null(prepared, target, sources, lag, observed, surrogates, seed, sequential, *, start, k, theiler,
                  min_shift, alpha):
    """The source's measure, I(s[t − lag]; u[t]) − I(s[t]; u[t]), with each source rotated: both
    terms of a surrogate rotate it by the same offset (same seed, same rounds). Returns the null
    (surrogates, sources) and which sources are settled."""
    null = np.full((surrogates, len(sources)), np.nan)
    active = np.ones(len(sources), dtype=bool)
    settled = np.zeros(len(sources), dtype=bool)
    done = 0
    for round_, size in enumerate(_chunks(surrogates) if sequential else [surrogates]):
        members = np.flatnonzero(active)
        terms = [ksg.conditional_scan(prepared, target, [(int(s), shift) for s in sources[members]], [], k,
                                      surrogates=size, min_shift=min_shift, start=start, theiler=theiler,
                                      normalize=False, noise=0.0, seed=seed * 1009 + round_).null
                 for shift in (lag, 0)]
        null[done:done + size, members] = terms[0] - terms[1]
        done += size
        if sequential:
            settled |= active & _settled(observed, null[:done], surrogates)
            active &= ~settled & ((null[:done] >= observed[None, :]).sum(axis=0) < _hopeless(alpha, surrogates))
            if not active.any():
                break
    return null, settled


def flow_significance(activity, measure: str = "transfer", lags=(1,), k: int = 3, *, roles=None,
                      conditions=None, history: int = 1, condition_time: str = "source",
                      surrogates: int = 99, null: str = "edge", correction: str | None = "bh",
                      min_shift: int | None = None, alpha: float = params.ALPHA, theiler: int = 0,
                      noise: float = ksg.DEFAULT_NOISE, seed: int = 0) -> pd.DataFrame:
    """A flow measure for every edge with its time-shift surrogate null and the network's
    false-discovery-rate control.

    Parameters
    ----------
    activity : ndarray, shape (samples, neurons)
    measure : str
        "delayed" (the source's delayed − undelayed MI), "transfer" (pairwise transfer entropy) or
        "multivariate" (multivariate transfer entropy: each target's sources chosen greedily,
        conditioning on those already chosen, with max/min-statistic and omnibus tests).
    lags : sequence of int
        Lags ≥ 1 (for "multivariate", the candidate lags of every source).
    k : int
        Neighbours of the KSG estimator.
    roles : sequence of str, optional
        One of ``ROLES`` per neuron (default all "hidden").
    theiler : int
        Theiler window (steps): samples this close in time are not each other's neighbours.
    noise : float
        Relative tie-breaking noise (``irn.ksg``).
    seed : int
        Of the tie-breaking noise (and of the surrogates).
    conditions, history, condition_time
        As for ``transfer_entropy`` (not used by "delayed"; for "multivariate", conditions at the
        target's time are conditioned on for every target, and every neuron is a candidate source).
    surrogates : int
        Time-shifted surrogates per edge (per test for "multivariate"); the smallest p-value is
        1 / (surrogates + 1). An edge stops drawing surrogates once it cannot reach p ≤ alpha, or once
        its estimate lies so far above them (``SETTLED_Z`` standard deviations) that more could only
        confirm that smallest p-value, which it then gets.
    null : str
        "edge" compares each edge with its own surrogates; "target" pools the surrogates of every
        source of the same target (surrogates · (neurons − 1) null values per edge). Not used by
        "multivariate".
    correction : str or None
        "bh" (Benjamini–Hochberg across every edge and lag of the network; for "multivariate", across
        the targets' omnibus p-values, as IDTxl does) or None.
    min_shift : int, optional
        Smallest circular shift (default samples // 10).
    alpha : float
        The false-discovery rate (or the per-edge level without correction).

    Returns
    -------
    DataFrame
        One row per lag × ordered pair: lag, source, target, source_role, target_role, value (bits),
        null_mean, p_value ((1 + #null ≥ value) / (1 + nulls)), p_adjusted (after ``correction``),
        significant (p_adjusted ≤ alpha and value > null_mean; for "multivariate": chosen for its target
        and the target's omnibus test survives the correction), surrogates_used (pairwise measures).
        "multivariate" adds selected and target_p (the omnibus p-value).
    """
    params.require(measure, "measure", params.one_of(MEASURES))
    params.require(null, "null", params.one_of(NULLS))
    params.require(correction, "correction", params.one_of(CORRECTIONS))
    params.require(alpha, "alpha", params.SIGNIFICANCE)
    activity = _activity(activity)
    samples, neurons = activity.shape
    roles = _roles(roles, neurons)
    lags = _lags(lags)
    _common_options(k, history, theiler, noise, seed)
    params.require(condition_time, "condition_time", params.one_of(CONDITION_TIMES))
    surrogates = params.check_count(surrogates, "surrogates", 1)
    conditions = _neurons(conditions, "conditions", neurons)
    min_shift = max(1, samples // 10) if min_shift is None else int(params.require(
        min_shift, "min_shift", params.integer(1, max(1, (samples - 1) // 2))))
    if measure == "multivariate":
        return _multivariate(activity, roles, lags, conditions, k, history, condition_time, surrogates,
                             min_shift, alpha, correction, theiler, noise, seed)
    kwargs = dict(k=k, theiler=theiler, noise=noise, seed=seed)
    if measure == "delayed":
        table = delayed_information(activity, lags, roles=roles, **kwargs)
    else:
        table = transfer_entropy(activity, lags, roles=roles, conditions=conditions, history=history,
                                 condition_time=condition_time, **kwargs)
    flat, settled = _pairwise_nulls(activity, measure, lags, conditions, k, history, condition_time, theiler,
                                    noise, seed, surrogates, min_shift, alpha, null == "edge", table)
    value = table["value"].to_numpy()
    if null == "target":  # every surrogate of every other source of the same target, per edge
        keys = table["lag"].astype(str) + ":" + table["target"].astype(str)
        pooled = {key: flat[:, (keys == key).to_numpy()].ravel() for key in keys.unique()}
        table["null_mean"] = [pooled[key].mean() for key in keys]
        table["p_value"] = [(1 + np.count_nonzero(pooled[key] >= v)) / (1 + pooled[key].size)
                            for key, v in zip(keys, value)]
        table["surrogates_used"] = [pooled[key].size for key in keys]
    else:
        table["null_mean"] = np.nanmean(flat, axis=0)
        table["p_value"] = _p_settled(value, flat, settled, surrogates)
        table["surrogates_used"] = (~np.isnan(flat)).sum(axis=0)
    return _finish(table, alpha, correction)[[c for c in table.columns if c not in ("delayed", "undelayed")]
                                             + [c for c in ("delayed", "undelayed") if c in table.columns]]
