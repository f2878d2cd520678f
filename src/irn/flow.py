"""Information flow between neurons: delayed information, transfer entropy, the flow graph and
each neuron's trophic level.

Ivanovic, Kha & Muruganantham ("Analyzing Information in RNNs", CS 294-131 report, §4) record
every neuron of a recurrent network (inputs, hidden, outputs) over time and ask two questions:
is there a general direction of information flow, and does the network form layer-like
structures? Their measure is the time-delayed mutual information between every ordered pair of
neurons minus the undelayed one; they draw a directed flow graph and place each neuron by its
"progression along the network". DESIGN §12 adds the principled forms beside it:

* ``delayed_information`` — the seed's measure, ``I(s[t−ℓ]; u[t]) − I(s[t]; u[t])`` (bits);
* ``transfer_entropy`` — ``I(s[t−ℓ]; u[t] | u[t−1], c[t−ℓ])``: conditioned on the target's own
  past and, optionally, on chosen neurons c (the input, to remove its common drive; edges from
  or to those neurons are conditioned on the target's past only);
* ``flow_significance`` — either measure against time-shifted surrogates of the source
  (circular shifts keep each series' autocorrelation), one p-value per edge;
* ``flow_graph`` — the directed weighted graph of the significant positive edges;
* ``trophic_levels`` — improved trophic levels of MacKay, Johnson & Sansom (R. Soc. Open Sci.
  7:201138, 2020): solve ``(diag(u) − W − Wᵀ) h = v`` with ``u`` = in + out strength and ``v`` =
  in − out strength, and the trophic incoherence ``F₀ = Σ w_mn (h_n − h_m − 1)² / Σ w_mn``
  (0: every edge climbs exactly one level, a perfect hierarchy; 1: no direction at all);
* ``level_clustering`` — do levels form separate groups (layers)? The best silhouette of an
  exact one-dimensional k-means split of the levels, against graphs whose edge weights are
  permuted.

Hand-written because networkx's ``trophic_levels`` is the older definition (Levine 1980), which
needs a node without incoming edges and fails on strongly connected recurrent graphs; the
improved definition is a few lines of linear algebra. The estimators are ``irn.ksg``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from irn import ksg

__all__ = [
    "ROLES",
    "MEASURES",
    "neuron_entropy",
    "delayed_information",
    "transfer_entropy",
    "flow_significance",
    "flow_graph",
    "trophic_levels",
    "TrophicLevels",
    "level_clustering",
    "LevelClustering",
    "replicate_flow",
    "ReplicateFlow",
    "direction_tests",
]

ROLES = ("input", "hidden", "output")
MEASURES = ("delayed", "transfer")


def _activity(activity) -> np.ndarray:
    array = np.asarray(activity, dtype=float)
    if array.ndim != 2 or array.shape[0] < 10 or array.shape[1] < 2:
        raise ValueError("activity must be a (samples, neurons) array with at least 10 samples and "
                         f"2 neurons, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError("activity must hold finite numbers")
    return array


def _roles(roles, neurons: int) -> np.ndarray:
    if roles is None:
        return np.array(["hidden"] * neurons)
    roles = np.asarray(roles)
    if roles.shape != (neurons,) or not set(roles.tolist()) <= set(ROLES):
        raise ValueError(f"roles must give one of {ROLES} for each of the {neurons} neurons")
    return roles


def _lags(lags) -> list[int]:
    values = np.asarray(lags).reshape(-1)
    if values.size == 0 or values.dtype.kind not in "iu" or np.any(values < 1):
        raise ValueError(f"lags must be a non-empty list of integers ≥ 1, got {lags!r}")
    return sorted(set(int(v) for v in values))


def _pairs(values: np.ndarray, lags, roles, name: str) -> pd.DataFrame:
    """(lags, S, T) array → tidy rows lag, source, target, their roles, ``name``."""
    n_l, n_s, n_t = values.shape
    lag, source, target = np.meshgrid(np.asarray(lags), np.arange(n_s), np.arange(n_t), indexing="ij")
    frame = pd.DataFrame({"lag": lag.ravel(), "source": source.ravel(), "target": target.ravel(),
                          name: values.ravel()})
    frame["source_role"] = roles[frame["source"]]
    frame["target_role"] = roles[frame["target"]]
    return frame[frame["source"] != frame["target"]].reset_index(drop=True)


def neuron_entropy(activity, roles=None, k: int = 3, *, noise: float = ksg.DEFAULT_NOISE,
                   seed: int = 0) -> pd.DataFrame:
    """Kozachenko–Leonenko entropy of every neuron (bits, in the neuron's own units).

    activity: (samples, neurons); roles: one of ``ROLES`` per neuron (default all "hidden").
    Returns columns neuron, role, entropy.
    """
    activity = _activity(activity)
    roles = _roles(roles, activity.shape[1])
    values = [ksg.entropy(activity[:, j], k, noise=noise, seed=seed) for j in range(activity.shape[1])]
    return pd.DataFrame({"neuron": np.arange(activity.shape[1]), "role": roles, "entropy": values})


def delayed_information(activity, lags=(1,), k: int = 3, *, roles=None, theiler: int = 0,
                        noise: float = ksg.DEFAULT_NOISE, seed: int = 0) -> pd.DataFrame:
    """The seed's flow measure for every ordered pair of neurons and every lag.

    activity: (samples, neurons); lags: integers ≥ 1. Returns one row per lag × ordered pair
    (source ≠ target): lag, source, target, source_role, target_role, delayed
    (I(source[t−ℓ]; target[t]), bits), undelayed (I(source[t]; target[t])) and
    value = delayed − undelayed. All on the same time range.
    """
    activity = _activity(activity)
    roles = _roles(roles, activity.shape[1])
    lags = _lags(lags)
    matrix = ksg.mutual_information_matrix(activity, [0, *lags], k, theiler=theiler, noise=noise, seed=seed)
    frame = _pairs(matrix[1:], lags, roles, "delayed")
    frame["undelayed"] = np.tile(matrix[0][~np.eye(matrix.shape[1], dtype=bool)], len(lags))
    frame["value"] = frame["delayed"] - frame["undelayed"]
    return frame


def _transfer(data, sources, targets, lags, conditions, k, theiler, noise, seed, source_neurons=None):
    """Transfer-entropy matrix (lags, sources, targets); entries whose source or target neuron is
    a condition are conditioned on the target's past only."""
    sources, targets = np.asarray(sources), np.asarray(targets)
    source_neurons = sources if source_neurons is None else np.asarray(source_neurons)
    kwargs = dict(k=k, history=1, theiler=theiler, noise=noise, seed=seed)
    m = ksg.mutual_information_matrix(data, lags, sources=sources, targets=targets, conditions=conditions, **kwargs)
    if conditions is not None and len(np.atleast_1d(conditions)):
        cond = np.atleast_1d(conditions)
        src_hit = np.flatnonzero(np.isin(source_neurons, cond))
        tgt_hit = np.flatnonzero(np.isin(targets, cond))
        if src_hit.size:
            m[:, src_hit, :] = ksg.mutual_information_matrix(data, lags, sources=sources[src_hit], targets=targets, **kwargs)
        if tgt_hit.size:
            m[:, :, tgt_hit] = ksg.mutual_information_matrix(data, lags, sources=sources, targets=targets[tgt_hit], **kwargs)
    return m


def transfer_entropy(activity, lags=(1,), k: int = 3, *, roles=None, conditions=None,
                     theiler: int = 0, noise: float = ksg.DEFAULT_NOISE, seed: int = 0) -> pd.DataFrame:
    """Transfer entropy I(source[t−ℓ]; target[t] | target[t−1], conditions[t−ℓ]).

    activity: (samples, neurons); conditions: neuron indices conditioned on at the source's time
    (e.g. the input neurons, to remove the input's common drive). Pairs whose source or target is
    one of them are conditioned on the target's past only (conditioning on the source itself
    would leave nothing to transfer). Returns lag, source, target, source_role, target_role,
    value (bits).
    """
    activity = _activity(activity)
    neurons = activity.shape[1]
    roles = _roles(roles, neurons)
    lags = _lags(lags)
    all_ = np.arange(neurons)
    if conditions is not None:
        conditions = ksg._index_list(conditions, "conditions", neurons)
    matrix = _transfer(activity, all_, all_, lags, conditions, k, theiler, noise, seed)
    return _pairs(matrix, lags, roles, "value")


def flow_significance(activity, measure: str = "transfer", lags=(1,), k: int = 3, *, roles=None,
                      conditions=None, surrogates: int = 19, min_shift: int | None = None,
                      alpha: float = 0.05, theiler: int = 0, noise: float = ksg.DEFAULT_NOISE,
                      seed: int = 0) -> pd.DataFrame:
    """A flow measure for every edge with its time-shift surrogate null.

    measure: "delayed" (the seed's delayed − undelayed MI) or "transfer" (transfer entropy with
    ``conditions``, history 1). Surrogate i rotates every source column by one random offset
    (≥ ``min_shift``, default samples // 10) and recomputes the whole matrix in one call.
    Returns the measure's rows plus null_mean, p_value ((1 + #null ≥ value) / (1 + surrogates))
    and significant (p_value ≤ alpha and value > null_mean).
    """
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    activity = _activity(activity)
    samples, neurons = activity.shape
    surrogates = ksg._check_int(surrogates, "surrogates", 1)
    min_shift = max(1, samples // 10) if min_shift is None else ksg._check_int(
        min_shift, "min_shift", 1, max(1, (samples - 1) // 2))
    kwargs = dict(k=k, theiler=theiler, noise=noise, seed=seed)
    if measure == "delayed":
        table = delayed_information(activity, lags, roles=roles, **kwargs)
    else:
        if conditions is not None:
            conditions = ksg._index_list(conditions, "conditions", neurons)
        table = transfer_entropy(activity, lags, roles=roles, conditions=conditions, **kwargs)
    lags = _lags(lags)
    off = ~np.eye(neurons, dtype=bool)
    rng = np.random.default_rng(seed)
    nulls = []
    for shift in ksg.surrogate_offsets(samples, surrogates, min_shift, rng):
        both = np.concatenate([activity, np.roll(activity, shift, axis=0)], axis=1)
        sources = np.arange(neurons, 2 * neurons)
        if measure == "delayed":
            m = ksg.mutual_information_matrix(both, [0, *lags], sources=sources, targets=np.arange(neurons),
                                              **kwargs)
            values = m[1:] - m[:1]
        else:
            values = _transfer(both, sources, np.arange(neurons), lags, conditions, k, theiler, noise, seed,
                               source_neurons=sources - neurons)
        nulls.append(np.concatenate([v[off] for v in values]))
    nulls = np.asarray(nulls)  # (surrogates, rows)
    value = table["value"].to_numpy()
    table["null_mean"] = nulls.mean(axis=0)
    table["p_value"] = (1 + (nulls >= value[None, :]).sum(axis=0)) / (1 + surrogates)
    table["significant"] = (table["p_value"] <= alpha) & (table["value"] > table["null_mean"])
    return table


def flow_graph(table: pd.DataFrame, neurons: int, weight: str = "excess") -> np.ndarray:
    """The directed flow graph as a weight matrix W[source, target] (neurons × neurons).

    table: ``flow_significance`` output. An edge exists when any of its lags is significant; its
    weight is the largest over those lags of ``weight``: "excess" (value − null_mean, bits) or
    "value". Non-edges are 0.
    """
    needed = {"source", "target", "value", "null_mean", "significant"}
    if not isinstance(table, pd.DataFrame) or not needed <= set(table.columns):
        raise ValueError(f"table must be flow_significance output with columns {sorted(needed)}")
    if weight not in ("excess", "value"):
        raise ValueError(f"weight must be 'excess' or 'value', got {weight!r}")
    neurons = ksg._check_int(neurons, "neurons", 1)
    if len(table) and max(table["source"].max(), table["target"].max()) >= neurons:
        raise ValueError(f"neurons must exceed every source and target index, got {neurons}")
    edges = table[table["significant"]]
    w = (edges["value"] - edges["null_mean"]) if weight == "excess" else edges["value"]
    best = pd.DataFrame({"s": edges["source"], "t": edges["target"], "w": w}).groupby(["s", "t"])["w"].max()
    out = np.zeros((neurons, neurons))
    if len(best):
        out[best.index.get_level_values(0), best.index.get_level_values(1)] = np.maximum(best.to_numpy(), 0)
    return out


@dataclass(frozen=True)
class TrophicLevels:
    """Improved trophic levels of a weighted directed graph (MacKay, Johnson & Sansom 2020).

    levels: (nodes,) — the lowest node of each weakly connected component at 0; NaN for a node
    with no edges; incoherence: F₀ in [0, 1] (NaN for a graph without edges).
    """

    levels: np.ndarray
    incoherence: float


def trophic_levels(weights) -> TrophicLevels:
    """Solve (diag(u) − W − Wᵀ) h = v per weakly connected component.

    weights: (nodes, nodes) non-negative, W[m, n] = weight of the edge m → n (self-loops allowed;
    they cancel out of both sides). u = in + out strength, v = in − out strength.
    """
    w = np.asarray(weights, dtype=float)
    if w.ndim != 2 or w.shape[0] != w.shape[1] or w.shape[0] == 0:
        raise ValueError(f"weights must be a square (nodes, nodes) matrix, got shape {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and non-negative")
    n = w.shape[0]
    w_in, w_out = w.sum(axis=0), w.sum(axis=1)
    u, v = w_in + w_out, w_in - w_out
    laplacian = np.diag(u) - w - w.T
    levels = np.full(n, np.nan)
    # weakly connected components by a union of the undirected adjacency
    sym = (w + w.T) > 0
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
    """Do the levels of a flow graph fall into separate groups (layer-like structure)?

    groups: the number of k-means groups (2…max_groups) with the best silhouette; silhouette: that
    score; null: (permutations,) the same score on graphs with permuted edge weights (NaN where
    no split exists); p_value: (1 + #null ≥ silhouette) / (1 + permutations); labels: (nodes,)
    group of each node (-1 for a node without a level). A graph with fewer than 3 distinct
    levels has no split: groups 0, silhouette and p_value NaN.
    """

    groups: int
    silhouette: float
    null: np.ndarray
    p_value: float
    labels: np.ndarray


def _groups_1d(x: np.ndarray, groups: int) -> np.ndarray:
    """The exact k-means split of sorted-able values x (n,) into ``groups`` contiguous groups
    (in one dimension the optimal groups are intervals): every choice of cut points is tried."""
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


def _best_silhouette(levels: np.ndarray, max_groups: int, seed: int = 0):
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


def level_clustering(weights, max_groups: int = 4, permutations: int = 99,
                     seed: int = 0) -> LevelClustering:
    """Best k-means silhouette of the trophic levels, against graphs with permuted weights.

    weights: (nodes, nodes) as for ``trophic_levels``; the null keeps the multiset of off-diagonal
    weights and places them at random (structure destroyed, density kept).
    """
    w = np.asarray(weights, dtype=float)
    max_groups = ksg._check_int(max_groups, "max_groups", 2)
    permutations = ksg._check_int(permutations, "permutations", 1)
    levels = trophic_levels(w).levels
    score, groups, labels = _best_silhouette(levels, max_groups, seed)
    rng = np.random.default_rng(seed)
    off = ~np.eye(w.shape[0], dtype=bool)
    null = []
    for _ in range(permutations):
        shuffled = np.zeros_like(w)
        shuffled[off] = rng.permutation(w[off])
        null.append(_best_silhouette(trophic_levels(shuffled).levels, max_groups, seed)[0])
    null = np.asarray(null)
    full = np.full(w.shape[0], -1)
    if labels is not None:
        full[np.isfinite(levels)] = labels
    p_value = np.nan if np.isnan(score) else (1 + np.count_nonzero(null >= score)) / (1 + permutations)
    return LevelClustering(int(groups), float(score), null, float(p_value), full)


@dataclass(frozen=True)
class ReplicateFlow:
    """The flow analysis of several replicates of one network.

    edges: ``flow_significance`` rows with a replicate column; levels: replicate, neuron, role,
    level (trophic level in the flow graph of significant edges; NaN for a neuron without
    edges); graphs: one row per replicate — edges (significant), incoherence, groups,
    silhouette, layers_p (``level_clustering``).
    """

    edges: pd.DataFrame
    levels: pd.DataFrame
    graphs: pd.DataFrame


def replicate_flow(activity, roles, measure: str = "transfer", lags=(1,), k: int = 3, *,
                   conditions=None, surrogates: int = 19, alpha: float = 0.05, permutations: int = 19,
                   seed: int = 0) -> ReplicateFlow:
    """``flow_significance`` → ``flow_graph`` → ``trophic_levels`` and ``level_clustering`` for
    every replicate.

    activity: (replicates, samples, neurons); roles: (neurons,) of ``ROLES``.
    """
    activity = np.asarray(activity, dtype=float)
    if activity.ndim != 3:
        raise ValueError(f"activity must be (replicates, samples, neurons), got shape {activity.shape}")
    roles = _roles(roles, activity.shape[2])
    edges, levels, graphs = [], [], []
    for r, values in enumerate(activity):
        table = flow_significance(values, measure, lags, k, roles=roles, conditions=conditions,
                                  surrogates=surrogates, alpha=alpha, seed=seed + r)
        weights = flow_graph(table, activity.shape[2])
        trophic = trophic_levels(weights)
        layers = level_clustering(weights, permutations=permutations, seed=seed + r)
        edges.append(table.assign(replicate=r))
        levels.append(pd.DataFrame({"replicate": r, "neuron": np.arange(len(roles)), "role": roles,
                                    "level": trophic.levels}))
        graphs.append({"replicate": r, "edges": int(table["significant"].sum()),
                       "incoherence": trophic.incoherence, "groups": layers.groups,
                       "silhouette": layers.silhouette, "layers_p": layers.p_value})
    return ReplicateFlow(pd.concat(edges, ignore_index=True), pd.concat(levels, ignore_index=True),
                         pd.DataFrame(graphs))


def direction_tests(levels: pd.DataFrame) -> pd.DataFrame:
    """Are outputs further along than hidden neurons, and hidden neurons than inputs?

    levels: ``ReplicateFlow.levels``. Per replicate, the mean level of each role; then a
    Wilcoxon signed-rank test over replicates (``irn.stats.paired_test``) of output − hidden and
    hidden − input. Returns comparison, difference (mean over replicates, in levels), p_value, n.
    """
    from irn.stats import paired_test

    if not isinstance(levels, pd.DataFrame) or not {"replicate", "role", "level"} <= set(levels.columns):
        raise ValueError("levels must be a DataFrame with columns replicate, role, level")
    means = levels.groupby(["replicate", "role"])["level"].mean().unstack("role").reindex(columns=list(ROLES))
    rows = []
    for upper, lower in (("output", "hidden"), ("hidden", "input")):
        pair = means[[upper, lower]].dropna()
        if len(pair) == 0:
            rows.append((f"{upper} − {lower}", np.nan, np.nan, 0))
            continue
        test = paired_test(pair[upper].to_numpy(), pair[lower].to_numpy())
        rows.append((f"{upper} − {lower}", test.difference, test.p_value, test.n))
    return pd.DataFrame(rows, columns=["comparison", "difference", "p_value", "n"])
