"""Information flow between neurons: delayed information, transfer entropy (pairwise and
multivariate), the flow graph, each neuron's trophic level, and networks with a known answer.

Ivanovic, Kha & Muruganantham ("Analyzing Information in RNNs", CS 294-131 report, §4) record
every neuron of a recurrent network (inputs, hidden, outputs) over time and ask two questions:
is there a general direction of information flow, and does the network form layer-like
structures? Their measure is the time-delayed mutual information between every ordered pair of
neurons minus the undelayed one; they draw a directed flow graph and place each neuron by its
"progression along the network". DESIGN §12 and §18 add the principled forms beside it:

* ``delayed_information`` — the source's measure, ``I(s[t−ℓ]; u[t]) − I(s[t]; u[t])`` (bits);
* ``transfer_entropy`` — ``I(s[t−ℓ]; u[t] | u[t−1 … t−history], c)``: conditioned on the target's
  own past and on chosen neurons c (the input, to remove its common drive) taken at the source's
  time t − ℓ or at the target's time t (``condition_time``); edges from or to those neurons are
  conditioned on the target's past only;
* ``flow_significance`` — any of the three measures (``"delayed"``, ``"transfer"``,
  ``"multivariate"``) against time-shifted surrogates of the source (circular shifts keep each
  series' autocorrelation), one p-value per edge, Benjamini–Hochberg across the edges of the
  network (``correction="bh"``);
* ``"multivariate"`` transfer entropy — the greedy algorithm of Lizier & Rubinov (2012) and
  Novelli et al. (Network Neuroscience 3:827, 2019) as IDTxl runs it, written here on ``irn.ksg``
  (IDTxl is GPL): per target, add the candidate source with the largest transfer entropy
  conditioned on the sources already chosen while it beats the maximum over candidates of its
  surrogates (max statistic), prune chosen sources that no longer beat the minimum statistic given
  the rest, then test all chosen sources together (omnibus); the false-discovery rate is
  controlled over the targets' omnibus p-values. Indirect links (a → b → c seen as a → c) drop out;
* ``flow_graph`` — the directed weighted graph of the significant positive edges (edges into
  exogenous neurons, such as an input clamped to data, can be dropped);
* ``trophic_levels`` — improved trophic levels of MacKay, Johnson & Sansom (R. Soc. Open Sci.
  7:201138, 2020): solve ``(diag(u) − W − Wᵀ) h = v`` with ``u`` = in + out strength and ``v`` =
  in − out strength, and the trophic incoherence ``F₀ = Σ w_mn (h_n − h_m − 1)² / Σ w_mn``
  (0: every edge climbs exactly one level, a perfect hierarchy; 1: no direction at all);
* ``level_clustering`` — do levels fall into layers? The graph's trophic incoherence against
  degree-preserving rewirings of it (a layered graph is coherent: its levels sit on a few values
  one step apart), with the best exact one-dimensional k-means split of the levels as a description;
* ``Choices`` / ``replicate_flow`` / ``direction_tests`` / ``direction_sensitivity`` — the whole
  pipeline (significance → graph → levels → layers) for every replicate of a network under one set
  of analysis choices, the direction test over replicates, and the same verdict under every
  defensible variation of the choices;
* ``driven_chain``, ``planted_layers``, ``known_network`` and ``edge_recovery`` — positive
  controls: simulated tanh networks whose connections, direction and layers are known;
* ``neuron_entropy`` and ``hidden_io_information`` — the source's per-neuron entropy and its
  information-bottleneck test (across hidden neurons, is I(h; input) correlated with I(h; output)?);
* ``sequence_flow`` and ``path_nodes`` — lag-1 transfer entropy on many short sequences, and which
  neurons lie on a flow path from an input to an output.

Hand-written because networkx's ``trophic_levels`` is the older definition (Levine 1980), which
needs a node without incoming edges and fails on strongly connected recurrent graphs; the
improved definition is a few lines of linear algebra. The estimators are ``irn.ksg``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats as sps

from irn import ksg, params

__all__ = [
    "ROLES",
    "MEASURES",
    "NULLS",
    "CORRECTIONS",
    "CONDITION_TIMES",
    "neuron_entropy",
    "delayed_information",
    "transfer_entropy",
    "flow_significance",
    "flow_graph",
    "trophic_levels",
    "TrophicLevels",
    "level_clustering",
    "LevelClustering",
    "Choices",
    "replicate_flow",
    "ReplicateFlow",
    "direction_tests",
    "direction_verdict",
    "direction_sensitivity",
    "Sensitivity",
    "Simulated",
    "driven_chain",
    "planted_layers",
    "known_network",
    "graded_copies",
    "edge_recovery",
    "EdgeRecovery",
    "positive_controls",
    "Controls",
    "hidden_io_information",
    "io_correlation",
    "sequence_flow",
    "path_nodes",
    "network_activity",
    "NetworkActivity",
    "path_groups",
]

ROLES = ("input", "hidden", "output")
MEASURES = ("delayed", "transfer", "multivariate")
NULLS = ("edge", "target")
CORRECTIONS = ("bh", None)
CONDITION_TIMES = ("source", "target")
COLUMNS = ["lag", "source", "target", "source_role", "target_role", "value", "null_mean", "p_value",
           "p_adjusted", "significant"]


# -- checks -------------------------------------------------------------------------------------------
def _activity(activity, name: str = "activity") -> np.ndarray:
    array = params.array(activity, name, ndim=2, min_samples=10)
    params.require(array.shape[1], f"the number of neurons (columns) of {name}", params.integer(low=2))
    return array


def _roles(roles, neurons: int) -> np.ndarray:
    if roles is None:
        return np.array(["hidden"] * neurons)
    listed = np.asarray(roles).tolist()
    params.require(listed, "roles", params.rule(
        lambda v: isinstance(v, list) and len(v) == neurons and all(r in ROLES for r in v),
        f"one of {ROLES} for each of the {neurons} neurons"))
    return np.asarray(listed)


def _lags(lags) -> list[int]:
    values = params.require(list(np.atleast_1d(np.asarray(lags, dtype=object)).reshape(-1)), "lags",
                            params.sequence(params.integer(low=1), min_length=1))
    return sorted(set(int(v) for v in values))


def _neurons(values, name: str, neurons: int) -> np.ndarray:
    if values is None:
        return np.zeros(0, dtype=np.int64)
    array = params.array(np.atleast_1d(values), name, ndim=1, kind="integer") if len(np.atleast_1d(values)) \
        else np.zeros(0, dtype=np.int64)
    for v in array:
        params.require(int(v), name, params.integer(0, neurons - 1))
    return np.unique(array).astype(np.int64)


def _common_options(k, history, theiler, noise, seed):
    params.require(k, "k", params.integer(low=1))
    params.require(history, "history", params.integer(low=1))
    params.require(theiler, "theiler", params.integer(low=0))
    params.require(noise, "noise", params.number(low=0))
    params.require(seed, "seed", params.SEED)


def _pairs(values: np.ndarray, lags, roles, name: str) -> pd.DataFrame:
    """(lags, S, T) array → tidy rows lag, source, target, their roles, ``name``."""
    lag, source, target = np.meshgrid(np.asarray(lags), np.arange(values.shape[1]), np.arange(values.shape[2]),
                                      indexing="ij")
    frame = pd.DataFrame({"lag": lag.ravel(), "source": source.ravel(), "target": target.ravel(),
                          name: values.ravel()})
    frame["source_role"] = roles[frame["source"]]
    frame["target_role"] = roles[frame["target"]]
    return frame[frame["source"] != frame["target"]].reset_index(drop=True)


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


# -- significance -------------------------------------------------------------------------------------
def _p_values(value: np.ndarray, nulls: np.ndarray) -> np.ndarray:
    """(1 + #null ≥ value) / (1 + null count), per column of nulls (null count, rows)."""
    return (1 + (nulls >= value[None, :]).sum(axis=0)) / (1 + len(nulls))


def _bh(p: np.ndarray) -> np.ndarray:
    return sps.false_discovery_control(p, method="bh") if len(p) else p


def _finish(table: pd.DataFrame, alpha: float, correction) -> pd.DataFrame:
    """p_adjusted (Benjamini–Hochberg over the network's edges, or p itself) and significant."""
    table["p_adjusted"] = _bh(table["p_value"].to_numpy()) if correction == "bh" else table["p_value"]
    table["significant"] = (table["p_adjusted"] <= alpha) & (table["value"] > table["null_mean"])
    return table


def _shifts(samples: int, count: int, min_shift: int, rng) -> np.ndarray:
    return ksg.surrogate_offsets(samples, count, min_shift, rng)


def _chunks(surrogates: int) -> list[int]:
    """Surrogates in rounds (19, then 20 at a time): an edge leaves once it cannot reach p ≤ alpha."""
    sizes, done = [], 0
    while done < surrogates:
        size = min(19 if not done else 20, surrogates - done)
        sizes.append(size)
        done += size
    return sizes


def _hopeless(alpha: float, surrogates: int) -> int:
    """The count of surrogates ≥ the value at which p = (1 + count) / (1 + surrogates) > alpha
    whatever the remaining surrogates give (Besag & Clifford's sequential stopping)."""
    return int(np.floor(alpha * (1 + surrogates) - 1 + 1e-9)) + 1


def _lag_part(activity, lag, top, history, conditions, condition_time):
    """The rows the lag needs for the common range t = top … samples − 1, with the conditions at
    the target's time appended as columns (column[t − ℓ] = c[t]); returns (part, condition columns)."""
    part = activity[top - max(lag, history):]
    if conditions.size and condition_time == "target":
        n = activity.shape[1]
        return (np.concatenate([part, np.roll(part[:, conditions], -lag, axis=0)], axis=1),
                np.arange(n, n + conditions.size))
    return part, conditions


def _edges_into(data, columns, neuron_of, target, measure, lag, history, conditions, cond_cols, k, theiler,
                noise, seed) -> np.ndarray:
    """The measure from each source column of ``data`` into neuron ``target`` at ``lag``."""
    columns = np.asarray(columns)
    kwargs = {"k": k, "theiler": theiler, "noise": noise, "seed": seed}
    if measure == "delayed":
        m = ksg.mutual_information_matrix(data, [0, lag], sources=columns, targets=[target], **kwargs)
        return m[1, :, 0] - m[0, :, 0]
    out = np.empty(len(columns))
    plain = np.isin(np.asarray(neuron_of), conditions) | (target in conditions)  # the target's past only
    for group, cond in ((plain, None), (~plain, cond_cols if len(cond_cols) else None)):
        if group.any():
            out[group] = ksg.mutual_information_matrix(data, [lag], sources=columns[group], targets=[target],
                                                       history=history, conditions=cond, **kwargs)[0, :, 0]
    return out


def _pairwise_nulls(activity, measure, lags, conditions, k, history, condition_time, theiler, noise, seed,
                    shifts, alpha, sequential, table):
    """Surrogate values of every edge: (surrogates, rows of ``table``, in the order of ``_pairs``),
    NaN where an edge stopped early (``sequential``: once it cannot reach p ≤ alpha)."""
    neurons = activity.shape[1]
    observed_of = table.set_index(["lag", "source", "target"])["value"]
    top = max(max(lags), 0 if measure == "delayed" else history)
    values = {}
    for lag in lags:
        part, cond_cols = _lag_part(activity, lag, top, history, conditions, condition_time)
        for u in range(neurons):
            sources = np.array([s for s in range(neurons) if s != u])
            observed = observed_of.loc[[(lag, s, u) for s in sources]].to_numpy()
            null = np.full((len(shifts), len(sources)), np.nan)
            open_ = np.ones(len(sources), dtype=bool)
            done = 0
            for size in (_chunks(len(shifts)) if sequential else [len(shifts)]):
                chunk = shifts[done:done + size]
                members = np.flatnonzero(open_)
                rolled = [np.roll(part[:, sources[j]], int(shift)) for shift in chunk for j in members]
                both = np.concatenate([part, np.column_stack(rolled)], axis=1)
                columns = np.arange(part.shape[1], both.shape[1])
                got = _edges_into(both, columns, np.tile(sources[members], size), u, measure, lag, history,
                                  conditions, cond_cols, k, theiler, noise, seed)
                null[done:done + size, members] = got.reshape(size, len(members))
                done += size
                if sequential:
                    exceed = (null[:done] >= observed[None, :]).sum(axis=0)
                    open_ &= exceed < _hopeless(alpha, len(shifts))
                    if not open_.any():
                        break
            values[lag, u] = (sources, observed, null)
    order = [(lag, s, u) for lag in lags for s in range(neurons) for u in range(neurons) if s != u]
    columns = []
    for lag, s, u in order:
        sources, _, null = values[lag, u]
        columns.append(null[:, int(np.flatnonzero(sources == s)[0])])
    return np.stack(columns, axis=1)


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
        1 / (surrogates + 1). An edge stops drawing surrogates once it cannot reach p ≤ alpha.
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
    shifts = _shifts(samples, surrogates, min_shift, np.random.default_rng(seed))
    flat = _pairwise_nulls(activity, measure, lags, conditions, k, history, condition_time, theiler, noise, seed,
                           shifts, alpha, null == "edge", table)  # (surrogates, rows)
    value = table["value"].to_numpy()
    if null == "target":  # every surrogate of every other source of the same target, per edge
        keys = table["lag"].astype(str) + ":" + table["target"].astype(str)
        pooled = {key: flat[:, (keys == key).to_numpy()].ravel() for key in keys.unique()}
        table["null_mean"] = [pooled[key].mean() for key in keys]
        table["p_value"] = [(1 + np.count_nonzero(pooled[key] >= v)) / (1 + pooled[key].size)
                            for key, v in zip(keys, value)]
        table["surrogates_used"] = [pooled[key].size for key in keys]
    else:
        drawn = ~np.isnan(flat)
        table["null_mean"] = np.nanmean(flat, axis=0)
        table["p_value"] = (1 + ((flat >= value[None, :]) & drawn).sum(axis=0)) / (1 + drawn.sum(axis=0))
        table["surrogates_used"] = drawn.sum(axis=0)
    return _finish(table, alpha, correction)[[c for c in table.columns if c not in ("delayed", "undelayed")]
                                             + [c for c in ("delayed", "undelayed") if c in table.columns]]


# -- multivariate transfer entropy ---------------------------------------------------------------------
def _design(activity, target, lags, history, conditions, condition_time):
    """Aligned columns for one target: candidates (source, lag) | the target's past | fixed
    conditions | the target now; rows t = start … samples − 1 with start = max(lags, history).

    Every other neuron at every lag is a candidate (an input that drives several neurons is chosen
    for each of them, which conditions its common drive away). With ``condition_time="target"``
    the condition neurons at the target's own time t are conditioned on as well (for targets that
    are not conditions themselves)."""
    samples, neurons = activity.shape
    start = max(max(lags), history)
    candidates = [(s, lag) for lag in lags for s in range(neurons) if s != target]
    cols = [activity[start - lag:samples - lag, s] for s, lag in candidates]
    cols += [activity[start - h:samples - h, target] for h in range(1, history + 1)]
    if condition_time == "target" and target not in conditions:
        cols += [activity[start:, c] for c in conditions]
    cols.append(activity[start:, target])
    return np.column_stack(cols), candidates


def _cmi(data, sources, target, given, k, theiler, noise, seed) -> np.ndarray:
    """I(data[:, s]; data[:, target] | data[:, given]) for every s of ``sources`` (aligned columns)."""
    return ksg.mutual_information_matrix(data, [0], k, sources=np.asarray(sources), targets=[target],
                                         conditions=np.asarray(given, dtype=np.int64) if len(given) else None,
                                         theiler=theiler, noise=noise, seed=seed)[0, :, 0]


def _surrogate_values(data, columns, target, givens, k, theiler, noise, seed, rng, surrogates, min_shift):
    """(surrogates, len(columns)): column j rotated by its own random shift in every surrogate and
    conditioned on ``givens[j]``; one kernel call per distinct conditioning set."""
    n = data.shape[0]
    shifts = rng.integers(min_shift, n - min_shift + 1, size=(surrogates, len(columns)))
    out = np.empty((surrogates, len(columns)))
    groups: dict[tuple, list[int]] = {}
    for j in range(len(columns)):
        groups.setdefault(tuple(givens[j]), []).append(j)
    for given, members in groups.items():
        rolled = [np.roll(data[:, columns[j]], shifts[i, j]) for i in range(surrogates) for j in members]
        both = np.concatenate([data, np.column_stack(rolled)], axis=1)
        values = _cmi(both, np.arange(data.shape[1], both.shape[1]), target, list(given), k, theiler, noise, seed)
        out[:, members] = values.reshape(surrogates, len(members))
    return out


@dataclass
class _Round:
    remaining: list
    value: np.ndarray
    surrogate: np.ndarray
    p_value: np.ndarray


def _multivariate_target(activity, target, lags, history, conditions, condition_time, surrogates, min_shift,
                         alpha, k, theiler, noise, seed):
    """One target's greedy source selection (Novelli et al. 2019, as IDTxl runs it).

    Returns candidates [(source, lag)], value, null_mean, p_value (n_candidates,), chosen (bool) and
    the target's omnibus p-value (the first round's max-statistic p when nothing was chosen)."""
    data, candidates = _design(activity, target, lags, history, conditions, condition_time)
    n_c = len(candidates)
    y = data.shape[1] - 1
    base = list(range(n_c, y))  # the target's past and the fixed conditions
    rng = np.random.default_rng([seed, target])
    opts = (k, theiler, noise, seed)

    def select_round(selected):
        remaining = [c for c in range(n_c) if c not in selected]
        given = base + list(selected)
        v = _cmi(data, remaining, y, given, *opts)
        parts = []
        for size in _chunks(surrogates):  # stop once the best candidate cannot reach p ≤ alpha
            parts.append(_surrogate_values(data, remaining, y, [given] * len(remaining), *opts, rng, size,
                                           min_shift))
            maxima = np.concatenate(parts).max(axis=1)  # the max statistic: the best candidate of each surrogate
            if np.count_nonzero(maxima >= v.max()) >= _hopeless(alpha, surrogates):
                break
        p = (1 + (maxima[:, None] >= v[None, :]).sum(axis=0)) / (1 + len(maxima))
        return _Round(remaining, v, np.concatenate(parts), p)

    selected: list[int] = []
    last, first_p = None, 1.0
    while len(selected) < n_c:
        last = select_round(selected)
        best = int(np.argmax(last.value))
        if not selected:
            first_p = float(last.p_value[best])
        if last.p_value[best] > alpha:
            break
        selected.append(last.remaining[best])
    value, null_mean, p_value = np.zeros(n_c), np.zeros(n_c), np.ones(n_c)
    while selected:  # prune the weakest chosen source while it fails the min statistic given the rest
        givens = [base + [s for s in selected if s != c] for c in selected]
        v = np.array([_cmi(data, [c], y, g, *opts)[0] for c, g in zip(selected, givens)])
        sur = _surrogate_values(data, selected, y, givens, *opts, rng, surrogates, min_shift)
        weakest = int(np.argmin(v))
        if (1 + np.count_nonzero(sur.min(axis=1) >= v[weakest])) / (1 + surrogates) <= alpha:
            value[selected], null_mean[selected] = v, sur.mean(axis=0)
            p_value[selected] = _p_values(v, sur)  # each chosen source against its own surrogates
            break
        selected.pop(weakest)
    unchosen = [c for c in range(n_c) if c not in selected]
    if unchosen:  # the candidates left out, given the final choice
        if last is None or set(last.remaining) != set(unchosen):
            last = select_round(selected)
        value[last.remaining], null_mean[last.remaining] = last.value, last.surrogate.mean(axis=0)
        p_value[last.remaining] = last.p_value
    omnibus = first_p if not selected else float(p_value[selected[0]])  # one source: its own test
    if len(selected) > 1:  # all chosen sources together against jointly shifted surrogates
        x = data[:, selected]
        z = data[:, base] if base else None
        kwargs = dict(k=k, theiler=theiler, noise=noise, seed=seed)

        def joint(xs):
            if z is None:
                return ksg.mutual_information(xs, data[:, y], **kwargs)
            return ksg.conditional_mutual_information(xs, data[:, y], z, **kwargs)

        observed = joint(x)
        null = [joint(np.roll(x, int(s), axis=0)) for s in _shifts(len(data), surrogates, min_shift, rng)]
        omnibus = (1 + np.count_nonzero(np.asarray(null) >= observed)) / (1 + surrogates)
    chosen = np.zeros(n_c, dtype=bool)
    chosen[selected] = True
    return candidates, value, null_mean, p_value, chosen, float(omnibus)


def _multivariate(activity, roles, lags, conditions, k, history, condition_time, surrogates, min_shift, alpha,
                  correction, theiler, noise, seed) -> pd.DataFrame:
    neurons = activity.shape[1]
    rows, omnibus = [], np.ones(neurons)
    for u in range(neurons):
        candidates, value, null_mean, p_value, chosen, omnibus[u] = _multivariate_target(
            activity, u, lags, history, conditions, condition_time, surrogates, min_shift, alpha, k, theiler,
            noise, seed)
        rows += [(lag, s, u, v, m, p, bool(c)) for (s, lag), v, m, p, c in zip(candidates, value, null_mean,
                                                                               p_value, chosen)]
    table = pd.DataFrame(rows, columns=["lag", "source", "target", "value", "null_mean", "p_value", "selected"])
    table["source_role"] = roles[table["source"]]
    table["target_role"] = roles[table["target"]]
    adjusted = _bh(omnibus) if correction == "bh" else omnibus  # IDTxl's network FDR: over the targets
    table["target_p"] = omnibus[table["target"]]
    table["p_adjusted"] = np.where(table["selected"], adjusted[table["target"]], 1.0)
    table["significant"] = table["selected"] & (table["p_adjusted"] <= alpha)
    table = table.sort_values(["lag", "source", "target"], ignore_index=True)
    return table[[*COLUMNS, "selected", "target_p"]]


# -- the graph, its levels and layers ------------------------------------------------------------------
def flow_graph(table: pd.DataFrame, neurons: int, weight: str = "excess", *, exogenous=None) -> np.ndarray:
    """The directed flow graph as a weight matrix W[source, target].

    Parameters
    ----------
    table : ``flow_significance`` output. An edge exists when any of its lags is significant; its
        weight is the largest over those lags of ``weight``.
    neurons : int, the number of neurons (rows and columns of W)
    weight : "excess" (value − null_mean, bits) or "value"
    exogenous : neuron indices whose incoming edges are dropped (e.g. an input clamped to data,
        which nothing in the network can drive).

    Returns
    -------
    ndarray, shape (neurons, neurons), non-negative; non-edges are 0.
    """
    needed = {"source", "target", "value", "null_mean", "significant"}
    if not isinstance(table, pd.DataFrame) or not needed <= set(table.columns):
        raise ValueError(f"table must be flow_significance output with columns {sorted(needed)}")
    params.require(weight, "weight", params.one_of(("excess", "value")))
    neurons = params.check_count(neurons, "neurons", 1)
    if len(table) and max(table["source"].max(), table["target"].max()) >= neurons:
        raise ValueError(f"neurons must exceed every source and target index, got {neurons}")
    exogenous = _neurons(exogenous, "exogenous", neurons)
    edges = table[table["significant"] & ~table["target"].isin(exogenous)]
    w = (edges["value"] - edges["null_mean"]) if weight == "excess" else edges["value"]
    best = pd.DataFrame({"s": edges["source"], "t": edges["target"], "w": w}).groupby(["s", "t"])["w"].max()
    out = np.zeros((neurons, neurons))
    if len(best):
        out[best.index.get_level_values(0), best.index.get_level_values(1)] = np.maximum(best.to_numpy(), 0)
    return out


def _weights(weights, name: str = "weights") -> np.ndarray:
    w = params.array(weights, name, ndim=2)
    if w.shape[0] != w.shape[1] or w.shape[0] == 0:
        raise ValueError(f"{name} must be a square (nodes, nodes) matrix, got shape {w.shape}")
    if np.any(w < 0):
        raise ValueError(f"{name} must be non-negative")
    return w


@dataclass(frozen=True)
class TrophicLevels:
    """Improved trophic levels of a weighted directed graph (MacKay, Johnson & Sansom 2020).

    Attributes
    ----------
    levels : ndarray, shape (nodes,)
        The lowest node of each weakly connected component at 0; NaN for a node with no edges.
    incoherence : float
        F₀ in [0, 1] (NaN for a graph without edges).
    """

    levels: np.ndarray
    incoherence: float


def trophic_levels(weights) -> TrophicLevels:
    """Solve (diag(u) − W − Wᵀ) h = v per weakly connected component.

    Parameters
    ----------
    weights : ndarray, shape (nodes, nodes), non-negative; W[m, n] = weight of the edge m → n
        (self-loops allowed; they cancel out of both sides). u = in + out strength, v = in − out.

    Returns
    -------
    TrophicLevels
    """
    w = _weights(weights)
    n = w.shape[0]
    w_in, w_out = w.sum(axis=0), w.sum(axis=1)
    u, v = w_in + w_out, w_in - w_out
    laplacian = np.diag(u) - w - w.T
    levels = np.full(n, np.nan)
    sym = (w + w.T) > 0  # weakly connected components by a search of the undirected adjacency
    seen = np.zeros(n, dtype=bool)
    for start in range(n):
        if seen[start] or not sym[start].any() and not sym[:, start].any():
            continue
        component, frontier = {start}, [start]
        while frontier:
            node = frontier.pop()
            for nxt in np.flatnonzero(sym[node]):
                if nxt not in component:
                    component.add(int(nxt))
                    frontier.append(int(nxt))
        idx = np.array(sorted(component))
        seen[idx] = True
        h = np.linalg.lstsq(laplacian[np.ix_(idx, idx)], v[idx], rcond=None)[0]
        levels[idx] = h - h.min()
    total = w.sum()
    if total == 0:
        return TrophicLevels(levels, float("nan"))
    h = np.nan_to_num(levels)
    diff = h[None, :] - h[:, None] - 1.0
    return TrophicLevels(levels, float((w * diff ** 2).sum() / total))


@dataclass(frozen=True)
class LevelClustering:
    """Do the levels of a flow graph fall into layers?

    Layers, in the trophic picture (Johnson et al., PNAS 111:17923, 2014; MacKay et al. 2020), are
    levels that fall onto a few well-separated values with edges climbing one level: a coherent
    graph. The test: the graph's trophic incoherence F₀ against graphs rewired with every node's
    in- and out-degree kept (each edge keeps its weight); layers when few rewirings are as coherent.

    Attributes
    ----------
    incoherence : float
        F₀ of the graph.
    null : ndarray, shape (permutations,)
        F₀ of the rewired graphs.
    p_value : float
        (1 + #null ≤ incoherence) / (1 + permutations) (NaN for a graph without edges).
    groups : int
        Descriptive: the number of groups (2…max_groups) of the exact one-dimensional k-means split of
        the levels with the best silhouette.
    silhouette : float
        Its score (NaN with fewer than 3 distinct levels).
    labels : ndarray of int, shape (nodes,)
        Group of each node (−1 for a node without a level).
    """

    incoherence: float
    null: np.ndarray
    p_value: float
    groups: int
    silhouette: float
    labels: np.ndarray


def _groups_1d(x: np.ndarray, groups: int) -> np.ndarray:
    """The exact k-means split of x (n,) into ``groups`` contiguous groups (in one dimension the
    optimal groups are intervals): every choice of cut points is tried."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    n = len(xs)
    cuts = np.array(list(itertools.combinations(range(1, n), groups - 1)))  # (choices, groups − 1)
    bounds = np.column_stack([np.zeros(len(cuts), int), cuts, np.full(len(cuts), n)])
    s1 = np.concatenate([[0.0], np.cumsum(xs)])
    s2 = np.concatenate([[0.0], np.cumsum(xs ** 2)])
    lo, hi = bounds[:, :-1], bounds[:, 1:]
    sse = (s2[hi] - s2[lo] - (s1[hi] - s1[lo]) ** 2 / (hi - lo)).sum(axis=1)
    best = bounds[int(np.argmin(sse))]
    labels = np.empty(n, dtype=int)
    for g in range(groups):
        labels[order[best[g]:best[g + 1]]] = g
    return labels


def _silhouette(x: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette of 1-D values x with their group labels (as sklearn's silhouette_score)."""
    d = np.abs(x[:, None] - x[None, :])
    same = labels[:, None] == labels[None, :]
    size = same.sum(axis=1)
    a = np.where(size > 1, (d * same).sum(axis=1) / np.maximum(size - 1, 1), 0.0)
    b = np.full(len(x), np.inf)
    for g in np.unique(labels):
        member = labels == g
        b = np.where(~member, np.minimum(b, d[:, member].mean(axis=1)), b)
    s = np.where(size > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-300), 0.0)
    return float(s.mean())


def _best_silhouette(levels: np.ndarray, max_groups: int):
    """(score, groups, labels) of the best exact k-means split of the finite levels into
    2…max_groups groups; (nan, 0, None) when no split is defined (fewer than 3 distinct levels)."""
    x = levels[np.isfinite(levels)]
    distinct = len(np.unique(np.round(x, 12)))
    best = (np.nan, 0, None)
    for g in range(2, min(max_groups, len(x) - 1) + 1):
        if distinct < g:
            break
        labels = _groups_1d(x, g)
        if not 2 <= len(np.unique(labels)) < len(x):
            continue
        score = _silhouette(x, labels)
        if not score <= best[0]:  # also replaces the initial nan
            best = (score, g, labels)
    return best


def _rewired(w: np.ndarray, rng, factor: int = 10) -> np.ndarray:
    """A degree-preserving rewiring: ``factor`` × edges attempted swaps (a → b, c → d) → (a → d, c → b)
    that create no self-loop and no double edge; each edge keeps its weight."""
    w = w.copy()
    src, dst = np.nonzero(w)
    edges = len(src)
    for i, j in rng.integers(edges, size=(factor * edges, 2)) if edges > 1 else []:
        a, b, c, d = src[i], dst[i], src[j], dst[j]
        if i == j or a == d or c == b or w[a, d] > 0 or w[c, b] > 0:
            continue
        w[a, d], w[c, b], w[a, b], w[c, d] = w[a, b], w[c, d], 0.0, 0.0
        dst[i], dst[j] = d, b
    return w


def level_clustering(weights, max_groups: int = 4, permutations: int = 99, seed: int = 0) -> LevelClustering:
    """The layer test: trophic incoherence against degree-preserving rewirings, and the groups of levels.

    Parameters
    ----------
    weights : ndarray, shape (nodes, nodes), as for ``trophic_levels``
    max_groups : int ≥ 2, most groups of the descriptive k-means split
    permutations : int ≥ 1, rewired graphs (p ≥ 1 / (permutations + 1))
    seed : int, of the rewiring

    Returns
    -------
    LevelClustering
    """
    w = _weights(weights).copy()
    max_groups = params.check_count(max_groups, "max_groups", 2)
    permutations = params.check_count(permutations, "permutations", 1)
    params.require(seed, "seed", params.SEED)
    np.fill_diagonal(w, 0.0)  # self-loops cancel out of the levels; rewiring keeps none
    trophic = trophic_levels(w)
    score, groups, labels = _best_silhouette(trophic.levels, max_groups)
    rng = np.random.default_rng(seed)
    null = np.array([trophic_levels(_rewired(w, rng)).incoherence for _ in range(permutations)])
    full = np.full(w.shape[0], -1)
    if labels is not None:
        full[np.isfinite(trophic.levels)] = labels
    p_value = np.nan if np.isnan(trophic.incoherence) else \
        (1 + np.count_nonzero(null <= trophic.incoherence + 1e-12)) / (1 + permutations)
    return LevelClustering(trophic.incoherence, null, float(p_value), int(groups), float(score), full)


# -- the pipeline over replicates, under named choices ---------------------------------------------------
@dataclass(frozen=True)
class Choices:
    """Every choice the flow analysis makes, named (the defaults are the book's main analysis).

    Attributes
    ----------
    measure : str
        One of ``MEASURES``.
    lags : tuple of int
        Source lags (steps).
    k : int
        KSG neighbours.
    history : int
        Steps of the target's past conditioned on.
    input_time : str
        The inputs are conditioned on at the "source"'s or the "target"'s time.
    into_inputs : bool
        Keep edges *into* input neurons (False: drop them — nothing in the network drives an input
        clamped to data).
    theiler : int
        Theiler window (steps).
    surrogates : int
        Per edge.
    null : str
        "edge" or "target" (pooled over a target's sources).
    correction : str or None
        "bh" or None.
    alpha : float
        The false-discovery rate.
    permutations : int
        Rewirings of the layer test.
    """

    measure: str = "transfer"
    lags: tuple = (1,)
    k: int = 3
    history: int = 1
    input_time: str = "target"
    into_inputs: bool = False
    theiler: int = 0
    surrogates: int = 99
    null: str = "edge"
    correction: str | None = "bh"
    alpha: float = params.ALPHA
    permutations: int = 99

    def __post_init__(self):
        params.require(self.measure, "measure", params.one_of(MEASURES))
        object.__setattr__(self, "lags", tuple(_lags(self.lags)))
        for name, low in (("k", 1), ("history", 1), ("theiler", 0), ("surrogates", 1), ("permutations", 1)):
            params.require(getattr(self, name), name, params.integer(low=low))
        params.require(self.input_time, "input_time", params.one_of(CONDITION_TIMES))
        params.require(self.into_inputs, "into_inputs", params.boolean())
        params.require(self.null, "null", params.one_of(NULLS))
        params.require(self.correction, "correction", params.one_of(CORRECTIONS))
        params.require(self.alpha, "alpha", params.SIGNIFICANCE)

    def describe(self) -> str:
        """The choices in words, e.g. for a table row.

        Returns
        -------
        str
        """
        return (f"{self.measure}, lags {list(self.lags)}, k = {self.k}, history {self.history}, input at the "
                f"{self.input_time}'s time, edges into inputs {'kept' if self.into_inputs else 'dropped'}, "
                f"Theiler {self.theiler}, {self.surrogates} surrogates ({self.null} null), "
                f"{'BH' if self.correction else 'no correction'}")


@dataclass(frozen=True)
class ReplicateFlow:
    """The flow analysis of several replicates of one network under one set of ``Choices``.

    Attributes
    ----------
    edges : DataFrame
        ``flow_significance`` rows with a replicate column.
    levels : DataFrame
        replicate, neuron, role, level (trophic level in the flow graph of significant edges; NaN for
        a neuron without edges).
    graphs : DataFrame
        One row per replicate: edges (significant, after dropping edges into inputs when chosen),
        incoherence, null_incoherence (median over the layer test's rewirings), groups, silhouette,
        layers_p (``level_clustering``).
    choices : Choices
        The choices used.
    """

    edges: pd.DataFrame
    levels: pd.DataFrame
    graphs: pd.DataFrame
    choices: Choices


def replicate_flow(activity, roles, choices: Choices | None = None, *, seed: int = 0, **changes) -> ReplicateFlow:
    """``flow_significance`` → ``flow_graph`` → ``trophic_levels`` and ``level_clustering`` for every
    replicate.

    Parameters
    ----------
    activity : ndarray, shape (replicates, samples, neurons)
    roles : sequence of str
        One of ``ROLES`` per neuron; the "input" neurons are the conditions of the transfer-entropy
        measures and the exogenous neurons of the graph.
    choices : Choices, optional
        Default ``Choices()``.
    seed : int
        Replicate r uses seed + r.
    **changes
        Fields of ``choices`` to replace, e.g. ``replicate_flow(a, r, measure="delayed")``.

    Returns
    -------
    ReplicateFlow
    """
    choices = replace(choices or Choices(), **changes)
    activity = params.array(activity, "activity", ndim=3)
    roles = _roles(roles, activity.shape[2])
    params.require(seed, "seed", params.SEED)
    inputs = np.flatnonzero(roles == "input")
    edges, levels, graphs = [], [], []
    for r, values in enumerate(activity):
        table = flow_significance(values, choices.measure, list(choices.lags), choices.k, roles=roles,
                                  conditions=inputs, history=choices.history, condition_time=choices.input_time,
                                  surrogates=choices.surrogates, null=choices.null, correction=choices.correction,
                                  alpha=choices.alpha, theiler=choices.theiler, seed=seed + r)
        weights = flow_graph(table, len(roles), exogenous=None if choices.into_inputs else inputs)
        trophic = trophic_levels(weights)
        layers = level_clustering(weights, permutations=choices.permutations, seed=seed + r)
        edges.append(table.assign(replicate=r))
        levels.append(pd.DataFrame({"replicate": r, "neuron": np.arange(len(roles)), "role": roles,
                                    "level": trophic.levels}))
        graphs.append({"replicate": r, "edges": int((weights > 0).sum()), "incoherence": trophic.incoherence,
                       "null_incoherence": float(np.median(layers.null)) if len(layers.null) else np.nan,
                       "groups": layers.groups, "silhouette": layers.silhouette, "layers_p": layers.p_value})
    return ReplicateFlow(pd.concat(edges, ignore_index=True), pd.concat(levels, ignore_index=True),
                         pd.DataFrame(graphs), choices)


COMPARISONS = (("output", "hidden"), ("hidden", "input"))


def direction_tests(levels: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
    """Are outputs further along than hidden neurons, and hidden neurons than inputs?

    Per replicate, the mean level of each role; then a Wilcoxon signed-rank test over replicates
    (``irn.stats.paired_test``) of output − hidden and hidden − input.

    Parameters
    ----------
    levels : DataFrame
        ``ReplicateFlow.levels`` (replicate, role, level).
    seed : int
        Of the bootstrap interval.

    Returns
    -------
    DataFrame
        One row per comparison ("output − hidden", "hidden − input"): difference (mean over
        replicates of the per-replicate difference of the roles' mean levels, in levels), low, high
        (its 95 % bootstrap interval), p_value, n (replicates where both roles have levels),
        differences (the per-replicate values, a list).
    """
    from irn.claims import bootstrap_interval
    from irn.stats import paired_test

    if not isinstance(levels, pd.DataFrame) or not {"replicate", "role", "level"} <= set(levels.columns):
        raise ValueError("levels must be a DataFrame with columns replicate, role, level")
    means = levels.groupby(["replicate", "role"])["level"].mean().unstack("role").reindex(columns=list(ROLES))
    rows = []
    for upper, lower in COMPARISONS:
        pair = means[[upper, lower]].dropna()
        name = f"{upper} − {lower}"
        if len(pair) == 0:
            rows.append((name, np.nan, np.nan, np.nan, np.nan, 0, []))
            continue
        differences = (pair[upper] - pair[lower]).to_numpy()
        test = paired_test(pair[upper].to_numpy(), pair[lower].to_numpy())
        _, low, high = bootstrap_interval(differences, seed=seed)
        rows.append((name, test.difference, low, high, test.p_value, test.n, differences.tolist()))
    return pd.DataFrame(rows, columns=["comparison", "difference", "low", "high", "p_value", "n", "differences"])


def direction_verdict(tests: pd.DataFrame, alpha: float = params.ALPHA) -> tuple[str, int, int, int]:
    """The verdict on "outputs sit further along than hidden neurons, hidden further than inputs".

    Holm-corrected within the rows, counted by ``irn.claims.verdict_of``; "no verdict" when no row
    could reach p < alpha after the correction (``claims.can_reach`` at alpha / rows).

    Parameters
    ----------
    tests : DataFrame
        ``direction_tests`` rows (any number of networks).
    alpha : float

    Returns
    -------
    verdict : str
    supported, contradicted, total : int
    """
    from irn import claims

    ok = tests.dropna(subset=["p_value"])
    if ok.empty:
        return claims.NO_VERDICT, 0, 0, 0
    counted = claims.tally(ok["difference"].to_numpy(), ok["p_value"].to_numpy(), alpha=alpha, correction="holm")
    reachable = bool(any(claims.can_reach(int(n), alpha / len(ok)) for n in ok["n"]))  # after Holm
    return (claims.verdict_of(counted.supported, counted.total, counted.contradicted, reachable=reachable,
                              alpha=alpha), counted.supported, counted.contradicted, counted.total)


@dataclass(frozen=True)
class Sensitivity:
    """The direction verdict under every examined choice.

    Attributes
    ----------
    table : DataFrame
        One row per (choice, setting, comparison): choice (the field of ``Choices`` varied, or
        "baseline"), setting (its value in words), comparison, difference, low, high, p_value, n,
        verdict (of the two comparisons together, ``direction_verdict``), same (the verdict equals the
        baseline's).
    baseline : str
        The baseline verdict.
    robust : bool
        Every setting gives it.
    depends_on : tuple of str
        The choices whose settings change it (empty when robust).
    """

    table: pd.DataFrame
    baseline: str
    robust: bool
    depends_on: tuple


def _setting(field: str, value) -> str:
    words = {"input_time": {"source": "at the source's time", "target": "at the target's time"},
             "into_inputs": {True: "kept", False: "dropped"},
             "null": {"edge": "per edge", "target": "pooled per target"}}
    if field in words:
        return words[field][value]
    if field == "lags":
        return ", ".join(map(str, value))
    return str(value)


def direction_sensitivity(activity, roles, base: Choices | None = None, variations: dict | None = None, *,
                          seed: int = 0, alpha: float = params.ALPHA) -> Sensitivity:
    """The direction verdict under the baseline choices and under each single variation.

    Parameters
    ----------
    activity : ndarray, shape (replicates, samples, neurons)
    roles : sequence of str
        One of ``ROLES`` per neuron, as for ``replicate_flow``.
    base : Choices, optional
        The baseline (default ``Choices()``).
    variations : dict, optional
        Field of ``Choices`` → list of values, each tried with the other fields at the baseline
        (default: input time, edges into inputs, history 2 and 3, lags (1, 2), Theiler 5, k 6). A
        variation of ``into_inputs`` reuses the baseline's edges (no new estimates).
    seed : int
    alpha : float
        Level of the direction tests.

    Returns
    -------
    Sensitivity
    """
    base = base or Choices()
    if variations is None:
        variations = {"input_time": ["source"], "into_inputs": [not base.into_inputs], "history": [2, 3],
                      "lags": [(1, 2)], "theiler": [5], "k": [6]}
    if not isinstance(variations, dict) or not all(f in Choices.__dataclass_fields__ for f in variations):
        raise ValueError(f"variations must map fields of Choices ({list(Choices.__dataclass_fields__)}) to lists")
    params.require(alpha, "alpha", params.SIGNIFICANCE)
    activity = params.array(activity, "activity", ndim=3)
    roles = _roles(roles, activity.shape[2])
    runs = [("baseline", "—", base, None)]
    for field, values in variations.items():
        params.require(values, f"variations[{field!r}]", params.sequence(min_length=1))
        runs += [(field, _setting(field, v), replace(base, **{field: v}), field) for v in values]
    baseline = replicate_flow(activity, roles, replace(base, permutations=1), seed=seed)
    rows = []
    for choice, setting, choices, field in runs:
        if field is None:
            result = baseline
        elif field == "into_inputs":  # the same edges in another graph: no new estimates
            result = _regraph(baseline, roles, choices)
        else:
            result = replicate_flow(activity, roles, replace(choices, permutations=1), seed=seed)
        tests = direction_tests(result.levels, seed=seed)
        verdict = direction_verdict(tests, alpha)[0]
        for t in tests.itertuples():
            rows.append((choice, setting, t.comparison, t.difference, t.low, t.high, t.p_value, t.n, verdict))
    table = pd.DataFrame(rows, columns=["choice", "setting", "comparison", "difference", "low", "high", "p_value",
                                        "n", "verdict"])
    baseline = table["verdict"].iloc[0]
    table["same"] = table["verdict"] == baseline
    depends = tuple(dict.fromkeys(table.loc[~table["same"], "choice"]))
    return Sensitivity(table, baseline, not depends, depends)


def _regraph(result: ReplicateFlow, roles, choices: Choices) -> ReplicateFlow:
    """The same edges as ``result`` with another ``into_inputs``: new graphs and levels."""
    inputs = np.flatnonzero(roles == "input")
    levels = []
    for r, table in result.edges.groupby("replicate"):
        weights = flow_graph(table, len(roles), exogenous=None if choices.into_inputs else inputs)
        levels.append(pd.DataFrame({"replicate": r, "neuron": np.arange(len(roles)), "role": roles,
                                    "level": trophic_levels(weights).levels}))
    return ReplicateFlow(result.edges, pd.concat(levels, ignore_index=True), result.graphs, choices)


# -- networks with a known answer (positive controls) ---------------------------------------------------
@dataclass(frozen=True)
class Simulated:
    """A simulated network whose answer is known.

    Attributes
    ----------
    activity : ndarray, shape (samples, neurons)
        Neuron 0 is the input.
    roles : ndarray, shape (neurons,)
    connections : ndarray of bool, shape (neurons, neurons)
        True where source → target (one step).
    layers : ndarray of int, shape (neurons,)
        The planted layer of each neuron (0 = the input; −1 for every non-input of a network without
        layers).
    """

    activity: np.ndarray
    roles: np.ndarray
    connections: np.ndarray
    layers: np.ndarray


def _input_series(samples: int, autocorrelation: float, rng) -> np.ndarray:
    x = np.empty(samples)
    x[0] = rng.normal()
    innovation = np.sqrt(1 - autocorrelation ** 2)
    for t in range(1, samples):
        x[t] = autocorrelation * x[t - 1] + innovation * rng.normal()
    return x


def _simulate(weights: np.ndarray, drive: np.ndarray, samples: int, memory: float, noise: float,
              autocorrelation: float, seed: int, burn_in: int = 100) -> np.ndarray:
    """u[t] = tanh(W u[t−1] + memory·u[t−1] + drive·x[t−1]) + noise·η, x an AR(1) input;
    returns (samples, 1 + units) with x in column 0."""
    rng = np.random.default_rng(seed)
    total = samples + burn_in
    x = _input_series(total, autocorrelation, rng)
    units = len(drive)
    u = np.zeros((total, units))
    for t in range(1, total):
        u[t] = np.tanh(u[t - 1] @ weights + memory * u[t - 1] + drive * x[t - 1]) + noise * rng.normal(size=units)
    return np.column_stack([x, u])[burn_in:]


def _check_simulation(samples, noise, autocorrelation, memory, seed):
    params.require(samples, "samples", params.integer(low=50))
    params.require(noise, "noise", params.number(0, closed=False))
    params.require(autocorrelation, "autocorrelation", params.number(0, 1, closed=True))
    params.require(memory, "memory", params.number(-1, 1))
    params.require(seed, "seed", params.SEED)
    if autocorrelation >= 1:
        raise ValueError(f"autocorrelation must be below 1, got {autocorrelation!r}")


def driven_chain(units: int = 6, samples: int = 1000, *, coupling: float = 1.5, memory: float = 0.4,
                 noise: float = 0.3, autocorrelation: float = 0.6, seed: int = 0) -> Simulated:
    """A chain of tanh units driven by an autocorrelated input: x → u₁ → u₂ → … → u_units.

    u₁[t] = tanh(coupling·x[t−1] + memory·u₁[t−1]) + noise·η and u_i[t] = tanh(coupling·u_{i−1}[t−1]
    + memory·u_i[t−1]) + noise·η; x is AR(1). The input's and each unit's own memory make a → c look
    connected to pairwise transfer entropy when a → b → c. Roles: input, hidden …, output (the last
    unit); layers 0, 1, …, units.

    Parameters
    ----------
    units : int
    samples : int
    coupling : float
        Weight of each link.
    memory : float
        Each unit's weight on its own past.
    noise : float
        Standard deviation of each unit's noise.
    autocorrelation : float
        Of the AR(1) input, in [0, 1).
    seed : int

    Returns
    -------
    Simulated
        activity shape (samples, units + 1).
    """
    params.require(units, "units", params.integer(low=2))
    params.require(coupling, "coupling", params.number(0, closed=False))
    _check_simulation(samples, noise, autocorrelation, memory, seed)
    w = np.zeros((units, units))
    for i in range(units - 1):
        w[i, i + 1] = coupling
    drive = np.zeros(units)
    drive[0] = coupling
    activity = _simulate(w, drive, samples, memory, noise, autocorrelation, seed)
    connections = np.zeros((units + 1, units + 1), dtype=bool)
    for i in range(units):
        connections[i, i + 1] = True
    roles = np.array(["input"] + ["hidden"] * (units - 1) + ["output"])
    return Simulated(activity, roles, connections, np.arange(units + 1))


def planted_layers(widths=(3, 3), samples: int = 1000, *, coupling: float = 1.2, memory: float = 0.3,
                   noise: float = 0.3, autocorrelation: float = 0.6, seed: int = 0) -> Simulated:
    """A network built in layers: input → layer 1 → … → output.

    The input drives every unit of the first layer, every unit of a layer drives every unit of the
    next, the last layer drives one output unit (all one step, tanh, weights ± coupling / √fan-in).

    Parameters
    ----------
    widths : sequence of int
        Units per hidden layer.
    samples : int
    coupling : float
    memory : float
        Each unit's weight on its own past.
    noise : float
    autocorrelation : float
        Of the AR(1) input.
    seed : int

    Returns
    -------
    Simulated
        activity shape (samples, 1 + sum(widths) + 1); layers 0 (input), 1 … len(widths), then the
        output.
    """
    widths = params.require(list(widths), "widths", params.sequence(params.integer(low=1), min_length=1))
    params.require(coupling, "coupling", params.number(0, closed=False))
    _check_simulation(samples, noise, autocorrelation, memory, seed)
    rng = np.random.default_rng([seed, 1])
    sizes = [*widths, 1]
    layer_of = np.concatenate([np.full(n, i + 1) for i, n in enumerate(sizes)])
    units = len(layer_of)
    w = np.zeros((units, units))
    for i in range(units):
        for j in range(units):
            if layer_of[j] == layer_of[i] + 1:
                fan_in = sizes[layer_of[i] - 1]
                w[i, j] = rng.choice([-1.0, 1.0]) * coupling / np.sqrt(fan_in)
    drive = np.where(layer_of == 1, coupling, 0.0)
    activity = _simulate(w, drive, samples, memory, noise, autocorrelation, seed)
    connections = np.zeros((units + 1, units + 1), dtype=bool)
    connections[0, 1:][drive > 0] = True
    connections[1:, 1:] = w != 0
    roles = np.array(["input"] + ["hidden"] * (units - 1) + ["output"])
    return Simulated(activity, roles, connections, np.concatenate([[0], layer_of]))


def known_network(units: int = 8, samples: int = 1000, *, inputs_per_unit: int = 2, coupling: float = 1.2,
                  driven: int = 2, memory: float = 0.3, noise: float = 0.3, autocorrelation: float = 0.6,
                  seed: int = 0) -> Simulated:
    """A recurrent tanh network with known sparse weights.

    Each unit receives ``inputs_per_unit`` other units (random signs, |w| = coupling /
    √inputs_per_unit, loops allowed), and the input drives ``driven`` of them; the last unit is the
    output. No layers (``layers`` is −1 off the input).

    Parameters
    ----------
    units : int
    samples : int
    inputs_per_unit : int
    coupling : float
    driven : int
        Units the input drives.
    memory : float
    noise : float
    autocorrelation : float
    seed : int

    Returns
    -------
    Simulated
        activity shape (samples, units + 1).
    """
    params.require(units, "units", params.integer(low=3))
    params.require(inputs_per_unit, "inputs_per_unit", params.integer(1, units - 1))
    params.require(driven, "driven", params.integer(1, units))
    params.require(coupling, "coupling", params.number(0, closed=False))
    _check_simulation(samples, noise, autocorrelation, memory, seed)
    rng = np.random.default_rng([seed, 2])
    w = np.zeros((units, units))
    for j in range(units):
        senders = rng.choice([i for i in range(units) if i != j], size=inputs_per_unit, replace=False)
        w[senders, j] = rng.choice([-1.0, 1.0], size=inputs_per_unit) * coupling / np.sqrt(inputs_per_unit)
    drive = np.zeros(units)
    drive[rng.choice(units, size=driven, replace=False)] = coupling
    activity = _simulate(w, drive, samples, memory, noise, autocorrelation, seed)
    connections = np.zeros((units + 1, units + 1), dtype=bool)
    connections[0, 1:] = drive > 0
    connections[1:, 1:] = w != 0
    roles = np.array(["input"] + ["hidden"] * (units - 1) + ["output"])
    return Simulated(activity, roles, connections, np.concatenate([[0], np.full(units, -1)]))


def graded_copies(units: int = 8, samples: int = 1000, *, autocorrelation: float = 0.6, seed: int = 0) -> Simulated:
    """A planted case of the source's bottleneck finding.

    Hidden units are copies of the input with graded noise (standard deviations spread over 0.2 … 3),
    and the output is a noisy tanh of the input: a unit that knows more about the input knows more
    about the output too, so across the hidden units I(h; input) and I(h; output) rise together.

    Parameters
    ----------
    units : int
        Hidden units.
    samples : int
    autocorrelation : float
        Of the AR(1) input.
    seed : int

    Returns
    -------
    Simulated
        activity shape (samples, units + 2): input, the units, output; no connections.
    """
    params.require(units, "units", params.integer(low=3))
    _check_simulation(samples, 0.3, autocorrelation, 0.0, seed)
    rng = np.random.default_rng([seed, 3])
    x = _input_series(samples, autocorrelation, rng)
    spread = np.geomspace(0.2, 3.0, units)[rng.permutation(units)]
    hidden = x[:, None] + spread[None, :] * rng.normal(size=(samples, units))
    y = np.tanh(x) + 0.3 * rng.normal(size=samples)
    roles = np.array(["input"] + ["hidden"] * units + ["output"])
    n = units + 2
    return Simulated(np.column_stack([x, hidden, y]), roles, np.zeros((n, n), dtype=bool), np.full(n, -1))


@dataclass(frozen=True)
class EdgeRecovery:
    """Significant edges against the true connections.

    Counts over ordered pairs (source ≠ target, any lag; edges into exogenous neurons left out).

    Attributes
    ----------
    true_positives, false_positives, false_negatives : int
    precision : float
        TP / (TP + FP) (NaN without a significant edge).
    recall : float
        TP / (TP + FN).
    """

    true_positives: int
    false_positives: int
    false_negatives: int
    precision: float
    recall: float


def edge_recovery(table: pd.DataFrame, connections, *, exogenous=None) -> EdgeRecovery:
    """Precision and recall of a ``flow_significance`` table's significant edges.

    Parameters
    ----------
    table : ``flow_significance`` output
    connections : ndarray of bool, shape (neurons, neurons), the true edges source → target
    exogenous : neuron indices whose incoming edges are not counted (nothing drives them)

    Returns
    -------
    EdgeRecovery
    """
    truth = params.array(connections, "connections", ndim=2, kind="binary").astype(bool)
    if not isinstance(table, pd.DataFrame) or not {"source", "target", "significant"} <= set(table.columns):
        raise ValueError("table must be flow_significance output with columns source, target, significant")
    n = truth.shape[0]
    exogenous = _neurons(exogenous, "exogenous", n)
    found = np.zeros((n, n), dtype=bool)
    hits = table[table["significant"]]
    found[hits["source"].to_numpy(), hits["target"].to_numpy()] = True
    counted = ~np.eye(n, dtype=bool)
    counted[:, exogenous] = False
    tp = int((found & truth & counted).sum())
    fp = int((found & ~truth & counted).sum())
    fn = int((~found & truth & counted).sum())
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    return EdgeRecovery(tp, fp, fn, float(precision), float(recall))


@dataclass(frozen=True)
class Controls:
    """The flow analysis on networks whose answer is known (the positive controls).

    Attributes
    ----------
    table : DataFrame
        One row per network × measure: network, measure, true_edges, found (significant edges, edges
        into the input left out), precision, recall, direction (Spearman ρ of each neuron's level
        against its planted layer or chain position; NaN for the network without layers), layers_p
        (the layer test, ``level_clustering``), groups.
    edges : DataFrame
        network, measure, source, target, outcome ("true edge found", "true edge missed", "spurious
        edge", "no edge").
    levels : DataFrame
        network, measure, neuron, role, layer, level.
    """

    table: pd.DataFrame
    edges: pd.DataFrame
    levels: pd.DataFrame


CONTROL_NAMES = ("driven chain", "planted layers", "known recurrent weights")


def positive_controls(samples: int = 600, choices: Choices | None = None, measures=("transfer", "multivariate"),
                      *, only: dict | None = None, changes: dict | None = None, seed: int = 0) -> Controls:
    """The flow analysis on networks whose answer is known.

    A driven chain of 6 tanh units (``driven_chain``), a network built in layers (``planted_layers``,
    3 + 3 units and an output) and a recurrent network with known sparse weights
    (``known_network``, 8 units).

    Parameters
    ----------
    samples : int
        Steps of each simulation.
    choices : Choices, optional
        The analysis choices (default ``Choices()``); the measure is set per run.
    measures : sequence of str
        Measures of ``MEASURES`` to run.
    only : dict, optional
        Measure → the networks (names of ``CONTROL_NAMES``) it runs on (default: every network),
        e.g. ``{"multivariate": ["driven chain"]}`` to spare the most expensive measure.
    changes : dict, optional
        Measure → fields of ``choices`` to change for it, e.g. ``{"delayed": {"surrogates": 299}}``.
    seed : int

    Returns
    -------
    Controls
    """
    choices = choices or Choices()
    params.require(samples, "samples", params.integer(low=50))
    params.require(list(measures), "measures", params.list_of(MEASURES))
    params.require(seed, "seed", params.SEED)
    only = params.require(only or {}, "only", params.rule(
        lambda v: isinstance(v, dict) and set(v) <= set(MEASURES)
        and all(set(names) <= set(CONTROL_NAMES) for names in v.values()),
        f"a dict of measure → names of {CONTROL_NAMES}"))
    changes = params.require(changes or {}, "changes", params.rule(
        lambda v: isinstance(v, dict) and set(v) <= set(MEASURES) and all(isinstance(c, dict) for c in v.values()),
        "a dict of measure → dict of Choices fields"))
    networks = dict(zip(CONTROL_NAMES, (driven_chain(6, samples, seed=seed), planted_layers((3, 3), samples, seed=seed),
                                        known_network(8, samples, seed=seed))))
    rows, edges, levels = [], [], []
    for name, sim in networks.items():
        for measure in measures:
            if name not in only.get(measure, CONTROL_NAMES):
                continue
            run = replace(choices, measure=measure, **changes.get(measure, {}))
            table = flow_significance(sim.activity, measure, list(run.lags), run.k, roles=sim.roles, conditions=[0],
                                      history=run.history, condition_time=run.input_time, surrogates=run.surrogates,
                                      null=run.null, correction=run.correction, alpha=run.alpha, theiler=run.theiler,
                                      seed=seed)
            exogenous = None if run.into_inputs else [0]
            weights = flow_graph(table, len(sim.roles), exogenous=exogenous)
            found = edge_recovery(table, sim.connections, exogenous=[0])
            level = trophic_levels(weights).levels
            layered = sim.layers >= 0
            ok = layered & np.isfinite(level)
            direction = float(sps.spearmanr(sim.layers[ok], level[ok])[0]) if ok.sum() > 2 and \
                np.ptp(sim.layers[ok]) > 0 and np.ptp(level[ok]) > 0 else float("nan")
            if not (sim.layers[1:] >= 0).any():
                direction = float("nan")
            layers = level_clustering(weights, permutations=run.permutations, seed=seed)
            rows.append((name, measure, int(sim.connections[:, 1:].sum()), found.true_positives + found.false_positives,
                         found.precision, found.recall, direction, layers.p_value, layers.groups))
            significant = np.zeros_like(sim.connections)
            hits = table[table["significant"]]
            significant[hits["source"].to_numpy(), hits["target"].to_numpy()] = True
            for s in range(len(sim.roles)):
                for u in range(1, len(sim.roles)):
                    if s != u:
                        truth, got = sim.connections[s, u], significant[s, u]
                        outcome = ("true edge found" if truth and got else "true edge missed" if truth else
                                   "spurious edge" if got else "no edge")
                        edges.append((name, measure, s, u, outcome))
            levels.append(pd.DataFrame({"network": name, "measure": measure, "neuron": np.arange(len(sim.roles)),
                                        "role": sim.roles, "layer": sim.layers, "level": level}))
    table = pd.DataFrame(rows, columns=["network", "measure", "true_edges", "found", "precision", "recall",
                                        "direction", "layers_p", "groups"])
    return Controls(table, pd.DataFrame(edges, columns=["network", "measure", "source", "target", "outcome"]),
                    pd.concat(levels, ignore_index=True))


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


# -- sequences and paths ---------------------------------------------------------------------------------
def sequence_flow(activity, roles=None, k: int = 3, *, conditions=None, surrogates: int = 19,
                  null: str = "edge", alpha: float = params.ALPHA, noise: float = ksg.DEFAULT_NOISE,
                  seed: int = 0) -> pd.DataFrame:
    """Lag-1 transfer entropy with its surrogate null on many short sequences.

    Every transition step t − 1 → t inside a sequence is one sample (sequences · (steps − 1)
    samples); none crosses a sequence boundary. Entry s → u is I(s[t−1]; u[t] | u[t−1],
    conditions[t−1]) as in ``transfer_entropy`` (pairs whose source or target is a condition are
    conditioned on the target's past only). Surrogate i rotates the sources' t − 1 values by one
    random offset (≥ samples // 10) over the list of transitions, which pairs each source with
    another transition's target.

    Parameters
    ----------
    activity : ndarray, shape (sequences, steps, neurons)
    roles : sequence of str, optional
    k : int
    conditions : sequence of int, optional
        Neurons conditioned on at t − 1.
    surrogates : int
    null : str
        "edge" compares each edge with its own surrogates (as ``flow_significance``); "target" pools
        the surrogates of every source of the same target (surrogates · (neurons − 1) null values).
    alpha : float
    noise : float
    seed : int

    Returns
    -------
    DataFrame
        The columns of ``flow_significance`` (lag is always 1; null_mean is the mean of the null the
        edge is compared with; no correction: p_adjusted = p_value).
    """
    array = params.array(activity, "activity", ndim=3)
    if array.shape[1] < 2 or array.shape[2] < 2:
        raise ValueError("activity must be a (sequences, steps, neurons) array with at least 2 steps "
                         f"and 2 neurons, got shape {array.shape}")
    params.require(alpha, "alpha", params.SIGNIFICANCE)
    params.require(null, "null", params.one_of(NULLS))
    params.require(k, "k", params.integer(low=1))
    neurons = array.shape[2]
    roles = _roles(roles, neurons)
    surrogates = params.check_count(surrogates, "surrogates", 1)
    cond = _neurons(conditions, "conditions", neurons)
    before = array[:, :-1].reshape(-1, neurons)  # per-sequence pairs: no cross-boundary transition
    after = array[:, 1:].reshape(-1, neurons)
    samples = len(before)
    if samples < 2 * k + 4:
        raise ValueError(f"activity must give more than {2 * k + 4} transitions for k={k}, got {samples}")
    rng = np.random.default_rng(seed)
    shifts = _shifts(samples, surrogates, max(1, samples // 10), rng)
    kwargs = dict(k=k, noise=noise, seed=seed)
    values = np.zeros((1 + surrogates, neurons, neurons))  # [0]: the estimate, then the nulls
    # columns: shifted sources 0…N−1 | t − 1 values N…2N−1 | t values 2N…3N−1
    for i, shift in enumerate([0, *shifts]):
        data = np.concatenate([np.roll(before, int(shift), axis=0), before, after], axis=1)
        for u in range(neurons):
            sources = np.array([s for s in range(neurons) if s != u])
            driven = np.isin(sources, cond) | (u in cond)  # conditioned on the target's past only
            for group, extra in ((sources[~driven], [neurons + c for c in cond if c != u]), (sources[driven], [])):
                if group.size:
                    m = ksg.mutual_information_matrix(data, [0], sources=group, targets=[2 * neurons + u],
                                                      conditions=[neurons + u, *extra], **kwargs)
                    values[i, group, u] = m[0, :, 0]
    table = _pairs(values[:1], [1], roles, "value")
    off = ~np.eye(neurons, dtype=bool)
    if null == "target":  # every null value of a target, for each of its edges
        pooled = [values[1:, [s for s in range(neurons) if s != u], u].ravel() for u in range(neurons)]
        nulls = np.stack([pooled[u] for s, u in zip(*np.nonzero(off))], axis=1)  # (S·(N−1), pairs)
    else:
        nulls = np.stack([v[off] for v in values[1:]])  # (surrogates, pairs), the order of _pairs
    table["null_mean"] = nulls.mean(axis=0)
    table["p_value"] = _p_values(table["value"].to_numpy(), nulls)
    return _finish(table, alpha, None)


def _widest(w: np.ndarray) -> np.ndarray:
    """All-pairs widest (maximum-bottleneck) path widths of a weighted digraph, (n, n); a path of
    no edges has width 0, a node reaches itself with width inf."""
    n = len(w)
    width = w.copy()
    np.fill_diagonal(width, np.inf)
    for m in range(n):  # Floyd–Warshall on (max, min)
        width = np.maximum(width, np.minimum(width[:, m:m + 1], width[m:m + 1, :]))
    return width


def path_nodes(weights, roles) -> pd.DataFrame:
    """Which neurons lie on a flow path from an input to an output?

    Parameters
    ----------
    weights : ndarray, shape (neurons, neurons), non-negative, W[m, n] = weight of the edge m → n
        (``flow_graph``)
    roles : sequence of ``ROLES``, at least one input and one output. A neuron is on a flow path
        when some input reaches it and it reaches some output along edges of positive weight (an
        input or output neuron itself counts as reached). Its width is the bottleneck of the widest
        such path through it: min(widest input → neuron, widest neuron → output), 0 off every path.

    Returns
    -------
    DataFrame with neuron, role, from_input, to_output, on_path, width.
    """
    w = _weights(weights)
    roles = _roles(roles, w.shape[0])
    if not {"input", "output"} <= set(roles.tolist()):
        raise ValueError("roles must name at least one 'input' and one 'output' neuron")
    width = _widest(w)
    up = width[roles == "input"].max(axis=0)  # widest path from any input to each neuron
    down = width[:, roles == "output"].max(axis=1)  # widest path from each neuron to any output
    through = np.minimum(up, down)
    on = (up > 0) & (down > 0)
    return pd.DataFrame({"neuron": np.arange(len(roles)), "role": roles, "from_input": up > 0,
                         "to_output": down > 0, "on_path": on, "width": np.where(on, through, 0.0)})


@dataclass(frozen=True)
class NetworkActivity:
    """Every neuron of every replicate of a network on a batch of sequences.

    Attributes
    ----------
    values : ndarray, shape (replicates, sequences, steps, neurons)
        The inputs, then the hidden nodes (for LSTM its h), then the outputs.
    roles : ndarray, shape (neurons,)
    """

    values: np.ndarray
    roles: np.ndarray


def network_activity(model, inputs) -> NetworkActivity:
    """Run ``model`` (an ``irn.models.Stacked``) on ``inputs`` and record every neuron.

    Parameters
    ----------
    model : irn.models.Stacked
    inputs : tensor or ndarray, shape (sequences, steps, n_inputs)

    Returns
    -------
    NetworkActivity
    """
    import torch

    x = torch.as_tensor(params.array(inputs, "inputs", ndim=3), dtype=torch.float32)
    with torch.no_grad():
        trace = model(x)
    hidden, output = trace.hidden.numpy(), trace.output.numpy()
    shown = np.broadcast_to(x.numpy(), (hidden.shape[0], *x.shape))
    roles = np.array(["input"] * x.shape[2] + ["hidden"] * hidden.shape[-1] + ["output"] * output.shape[-1])
    return NetworkActivity(np.concatenate([shown, hidden, output], axis=-1).astype(float), roles)


def path_groups(activity, roles, marked, k: int = 3, *, surrogates: int = 6, null: str = "target",
                alpha: float = params.ALPHA, seed: int = 0) -> pd.DataFrame:
    """Do the ``marked`` hidden nodes sit on wider input → output flow paths than the others?

    ``sequence_flow`` (lag-1 transfer entropy inside sequences, against time-shift surrogates) →
    ``flow_graph`` → ``path_nodes`` for one network.

    Parameters
    ----------
    activity : ndarray, shape (sequences, steps, neurons)
    roles : sequence of str
    marked : sequence of int
        Indices among the hidden nodes (0 = the first hidden node), e.g. its relay nodes.
    k : int
    surrogates : int
    null : str
        As for ``sequence_flow``.
    alpha : float
    seed : int

    Returns
    -------
    DataFrame
        One row per hidden node: neuron, hidden (its index among the hidden nodes), on_path, width
        (bits), marked, has_path (the network has any input → output path), edges (significant).
    """
    roles = _roles(roles, np.shape(activity)[-1])
    hidden = np.flatnonzero(roles == "hidden")
    marked = np.asarray(params.require(list(np.atleast_1d(marked)), "marked",
                                       params.sequence(params.index(len(hidden) - 1))), dtype=int)
    table = sequence_flow(activity, roles, k, surrogates=surrogates, null=null, alpha=alpha, seed=seed)
    paths = path_nodes(flow_graph(table, len(roles)), roles)
    has_path = bool(paths.loc[roles == "input", "on_path"].any())
    out = paths[paths.role == "hidden"].assign(hidden=np.arange(len(hidden)))
    return out.assign(marked=np.isin(out["hidden"], marked), has_path=has_path,
                      edges=int(table["significant"].sum()))[["neuron", "hidden", "on_path", "width", "marked",
                                                               "has_path", "edges"]].reset_index(drop=True)
