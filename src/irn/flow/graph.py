"""The flow graph of significant edges, its improved trophic levels (MacKay, Johnson & Sansom, R. Soc.
Open Sci. 7:201138, 2020), the layer test (trophic coherence against degree-preserving rewirings)
and the flow paths from inputs to outputs. Hand-written because networkx's ``trophic_levels`` is the
older definition, which fails on strongly connected recurrent graphs."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from irn import params
from irn.flow._shared import _neurons, _roles


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
