"""The flow measures between neurons: the source's delayed − undelayed mutual information,
transfer entropy (conditioned on the target's past and on chosen neurons at the source's or the
target's time), each neuron's entropy, and each hidden neuron's information about the input and
the output (Ivanovic, Kha & Muruganantham, report §4)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from irn import ksg, params
from irn.flow._shared import CONDITION_TIMES, _activity, _common_options, _lags, _neurons, _pairs, _roles


# -- the measures ------------------------------------------------------------------------------------
def neuron_entropy(activity, roles=None, k: int = 3, *, noise: float = ksg.DEFAULT_NOISE,
                   seed: int = 0) -> pd.DataFrame:
    """Kozachenko–Leonenko entropy of every neuron (bits, in the neuron's own units).

    Parameters
    ----------
    activity : ndarray, shape (samples, neurons)
    roles : sequence of str, optional
        One of ``ROLES`` per neuron (default all "hidden").
    k : int
        Neighbours of the estimator.
    noise : float
        Relative tie-breaking noise.
    seed : int
        Of the tie-breaking noise.

    Returns
    -------
    DataFrame
        neuron, role, entropy (bits; a differential entropy, so it depends on the units: a Gaussian
        of standard deviation σ has ½ log₂(2πeσ²)).
    """
    activity = _activity(activity)
    roles = _roles(roles, activity.shape[1])
    values = [ksg.entropy(activity[:, j], k, noise=noise, seed=seed) for j in range(activity.shape[1])]
    return pd.DataFrame({"neuron": np.arange(activity.shape[1]), "role": roles, "entropy": values})


def delayed_information(activity, lags=(1,), k: int = 3, *, roles=None, theiler: int = 0,
                        noise: float = ksg.DEFAULT_NOISE, seed: int = 0) -> pd.DataFrame:
    """The source's flow measure for every ordered pair of neurons and every lag.

    Parameters
    ----------
    activity : ndarray, shape (samples, neurons)
    lags : sequence of int
        Lags ≥ 1.
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

    Returns
    -------
    DataFrame
        One row per lag × ordered pair (source ≠ target): lag, source, target, source_role,
        target_role, delayed (I(source[t−ℓ]; target[t]), bits), undelayed (I(source[t];
        target[t])) and value = delayed − undelayed, all on the same time range.
    """
    activity = _activity(activity)
    roles = _roles(roles, activity.shape[1])
    lags = _lags(lags)
    _common_options(k, 1, theiler, noise, seed)
    matrix = ksg.mutual_information_matrix(activity, [0, *lags], k, theiler=theiler, noise=noise, seed=seed)
    frame = _pairs(matrix[1:], lags, roles, "delayed")
    frame["undelayed"] = np.tile(matrix[0][~np.eye(matrix.shape[1], dtype=bool)], len(lags))
    frame["value"] = frame["delayed"] - frame["undelayed"]
    return frame


def _transfer(data, sources, targets, lags, conditions, k, theiler, noise, seed, *, history=1,
              condition_time="source", source_neurons=None):
    """Transfer-entropy array (lags, sources, targets) on one common time range; entries whose
    source or target neuron is a condition are conditioned on the target's past only.

    data: (samples, columns); sources, targets: column indices; source_neurons: the neuron each
    source column shows (differs from ``sources`` for surrogate columns)."""
    sources, targets = np.asarray(sources), np.asarray(targets)
    source_neurons = sources if source_neurons is None else np.asarray(source_neurons)
    cond = np.zeros(0, dtype=np.int64) if conditions is None else np.asarray(conditions, dtype=np.int64)
    top = max(max(lags), history)
    out = np.empty((len(lags), len(sources), len(targets)))
    kwargs = dict(k=k, history=history, theiler=theiler, noise=noise, seed=seed)
    for i, lag in enumerate(lags):
        # the same time range t = top … samples − 1 for every lag: drop the first rows this lag does not need
        part = data[top - max(lag, history):]
        columns = cond
        if cond.size and condition_time == "target":  # the condition at the target's time t: column[t − ℓ] = c[t]
            part = np.concatenate([part, np.roll(part[:, cond], -lag, axis=0)], axis=1)
            columns = np.arange(data.shape[1], data.shape[1] + cond.size)
        m = ksg.mutual_information_matrix(part, [lag], sources=sources, targets=targets,
                                          conditions=columns if cond.size else None, **kwargs)[0]
        if cond.size:
            src_hit = np.flatnonzero(np.isin(source_neurons, cond))
            tgt_hit = np.flatnonzero(np.isin(targets, cond))
            if src_hit.size:
                m[src_hit, :] = ksg.mutual_information_matrix(part, [lag], sources=sources[src_hit],
                                                              targets=targets, **kwargs)[0]
            if tgt_hit.size:
                m[:, tgt_hit] = ksg.mutual_information_matrix(part, [lag], sources=sources,
                                                              targets=targets[tgt_hit], **kwargs)[0]
        out[i] = m
    return out


def transfer_entropy(activity, lags=(1,), k: int = 3, *, roles=None, conditions=None, history: int = 1,
                     condition_time: str = "source", theiler: int = 0, noise: float = ksg.DEFAULT_NOISE,
                     seed: int = 0) -> pd.DataFrame:
    """Transfer entropy I(source[t−ℓ]; target[t] | target[t−1 … t−history], conditions).

    Parameters
    ----------
    activity : ndarray, shape (samples, neurons)
    lags : sequence of int
        Lags ≥ 1.
    k : int
        Neighbours of the KSG estimator.
    roles : sequence of str, optional
        One of ``ROLES`` per neuron (default all "hidden").
    theiler : int
        Theiler window (steps): samples this close in time are not each other's neighbours.
    noise : float
        Relative tie-breaking noise (``irn.ksg``).
    conditions : sequence of int, optional
        Neurons conditioned on (e.g. the input neurons, to remove the input's common drive). Pairs whose
        source or target is one of them are conditioned on the target's past only (conditioning on the
        source itself would leave nothing to transfer).
    history : int
        Steps of the target's own past conditioned on.
    condition_time : str
        "source": the conditions at the source's time t − ℓ; "target": at the target's time t (in a
        network whose state at t is driven by the input at t, that is the input that drives it).
    seed : int
        Of the tie-breaking noise.

    Returns
    -------
    DataFrame
        lag, source, target, source_role, target_role, value (bits), one row per lag × ordered pair,
        all on one time range.
    """
    activity = _activity(activity)
    neurons = activity.shape[1]
    roles = _roles(roles, neurons)
    lags = _lags(lags)
    _common_options(k, history, theiler, noise, seed)
    params.require(condition_time, "condition_time", params.one_of(CONDITION_TIMES))
    conditions = _neurons(conditions, "conditions", neurons)
    all_ = np.arange(neurons)
    matrix = _transfer(activity, all_, all_, lags, conditions, k, theiler, noise, seed, history=history,
                       condition_time=condition_time)
    return _pairs(matrix, lags, roles, "value")


# -- the source's per-neuron measures ------------------------------------------------------------------
def hidden_io_information(activity, roles, k: int = 3, *, noise: float = ksg.DEFAULT_NOISE,
                          seed: int = 0) -> pd.DataFrame:
    """Each hidden neuron's information about the input and about the output, at the same time step.

    The source (report §4) finds "a slight positive correlation between the hidden neurons and the
    inputs and outputs": across hidden neurons, those that know more about the input also know more
    about the output. ``io_correlation`` tests it per network.

    Parameters
    ----------
    activity : ndarray, shape (samples, neurons)
        One input and one output neuron (the first of each role is used when there are several).
    roles : sequence of str
    k : int
        Neighbours of the KSG estimator.
    noise : float
        Relative tie-breaking noise.
    seed : int

    Returns
    -------
    DataFrame
        neuron, entropy (bits, Kozachenko–Leonenko), i_input (I(h[t]; input[t]), bits), i_output
        (I(h[t]; output[t]), bits), one row per hidden neuron.
    """
    activity = _activity(activity)
    roles = _roles(roles, activity.shape[1])
    if not {"input", "hidden", "output"} <= set(roles.tolist()):
        raise ValueError("roles must name at least one 'input', one 'hidden' and one 'output' neuron")
    x, y = np.flatnonzero(roles == "input")[0], np.flatnonzero(roles == "output")[0]
    hidden = np.flatnonzero(roles == "hidden")
    m = ksg.mutual_information_matrix(activity, [0], k, sources=hidden, targets=[x, y], noise=noise, seed=seed)[0]
    entropy = [ksg.entropy(activity[:, h], k, noise=noise, seed=seed) for h in hidden]
    return pd.DataFrame({"neuron": hidden, "entropy": entropy, "i_input": m[:, 0], "i_output": m[:, 1]})


def io_correlation(table: pd.DataFrame, by=()) -> pd.DataFrame:
    """Spearman's rank correlation of I(h; input) with I(h; output) across hidden neurons.

    Parameters
    ----------
    table : DataFrame
        ``hidden_io_information`` rows.
    by : sequence of str
        Columns telling networks apart (none: the whole table is one network).

    Returns
    -------
    DataFrame
        ``by`` + neurons, rho, p_value (two-sided; NaN with fewer than 3 neurons or a constant column).
    """
    needed = {*by, "i_input", "i_output"}
    if not isinstance(table, pd.DataFrame) or not needed <= set(table.columns):
        raise ValueError(f"table must be hidden_io_information output with columns {sorted(needed)}")
    rows = []
    for key, g in table.groupby(list(by), sort=False) if by else [((), table)]:
        ok = len(g) >= 3 and np.ptp(g["i_input"]) > 0 and np.ptp(g["i_output"]) > 0
        rho, p = sps.spearmanr(g["i_input"], g["i_output"]) if ok else (np.nan, np.nan)
        rows.append((*(key if isinstance(key, tuple) else (key,)), len(g), float(rho), float(p)))
    return pd.DataFrame(rows, columns=[*by, "neurons", "rho", "p_value"])
