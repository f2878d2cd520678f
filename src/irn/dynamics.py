"""Relay over time: where a concept sits, whether it stays there, and how it is smeared
(paper §III, Fig 6–11).

Everything starts from ``irn.analysis.relay_frame``: one row per network (arch, task, delay,
replicate) × time step × concept × node with the node's greedy ``contribution``. At one step the
contributions form the network's *relay matrix* (concepts × nodes, 3 × 12).

* **Carriers** (:func:`carriers`). The paper turns a relay matrix into "node carries concept"
  bits with k-means, k = 2. Here that is the exact one-dimensional two-means split of the matrix's
  36 values (every split point between distinct sorted values is scanned and the one with the
  least within-cluster sum of squares kept; near-ties go to the lowest threshold), computed by
  ``irn.relay.binarize(..., "kmeans")`` — deterministic, no random restarts. A value in the upper
  cluster means "carries". A constant matrix (e.g. all zeros before any input) has no split and
  no carriers. ``within="concept"`` splits each concept's 12 values separately instead (not in
  the paper; it shows how much the joint split hides concepts with small contributions).
* **Arrival** (:func:`arrival_step`). For data other than irn's two tasks (``task`` not in
  ``irn.tasks.TASKS``, e.g. a data set of ``irn.datasets``) every step counts as arrived. A memory concept arrives at its input step
  (``irn.tasks.MEMORY_STEPS``: A at 0-based step 3, B at 6, C at 9). A block concept is only
  fully defined once the whole movement has been seen, so every block concept arrives at the last
  input step, ``INPUT_STEPS - 1`` (step 9).
* **Stability** (:func:`stability`, Fig 8 and 9) between consecutive steps t → t + 1 of one
  concept in one network: ``r`` is the Pearson correlation of the concept's 12 node
  contributions at t and at t + 1 (undefined, NaN, when either vector is constant); ``overlap``
  is the Jaccard index |S_t ∩ S_t+1| / |S_t ∪ S_t+1| of the carrier sets (undefined, NaN, when
  both are empty; 0 when exactly one is). Pairs with t at or after the concept's arrival count as
  *arrived*; :func:`stability_by_replicate` averages the defined values of those pairs over
  concepts and steps and counts the undefined ones.
* **Tests over replicates**: :func:`compare_architectures` (RNN against each gated network per
  task and delay regime) and :func:`compare_regimes` (random against fixed delays per
  architecture), Mann–Whitney U on the per-replicate means.
* **Smearing** (:func:`smearing`, Fig 10 and 11): at one step (default ``RELAY_STEP``, right after
  all inputs), the number of concepts each node carries (0–3) and of nodes carrying each concept
  (0–12), as a normalised histogram per network.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from irn import analysis, relay, stats, tasks
from irn.analysis import RELAY_STEP

NETWORK = ["arch", "task", "delay", "replicate"]
CUSTOM_TASK = analysis.CUSTOM_TASK
MEASURES = ("r", "overlap")
CARRIER_SCOPES = ("matrix", "concept")
SMEARING_MEASURES = ("concepts per node", "nodes per concept")
#: Contribution vectors whose range is at most this are constant: their correlation is undefined.
CONSTANT_TOLERANCE = relay.TIE_TOLERANCE
_FRAME_COLUMNS = NETWORK + ["step", "concept", "node", "contribution"]


def arrival_step(task: str, concept: str) -> int:
    """The 0-based step from which a concept is fully present in the input.

    Parameters
    ----------
    task : str
        "memory", "block" or "custom" (data of your own, recorded with
        `irn.analysis.record_model`).
    concept : str
        The concept's name.

    Returns
    -------
    int
        memory: the concept's input step (A 3, B 6, C 9); block: ``INPUT_STEPS - 1`` for every
        concept; custom: 0, so every step counts (irn cannot know when your data presents a
        concept).
    """
    if task == CUSTOM_TASK:
        return 0
    tasks.check_task(task)
    names = tasks.CONCEPTS[task]
    if concept not in names:
        raise ValueError(f"concept must be one of {names} for task {task!r}, got {concept!r}")
    if task == "memory":
        return tasks.MEMORY_STEPS[names.index(concept)]
    return tasks.INPUT_STEPS - 1


def _arrivals(task: pd.Series, concept: pd.Series) -> np.ndarray:
    pairs = pd.DataFrame({"task": task.to_numpy(), "concept": concept.to_numpy()})
    # data other than irn's tasks (real data, irn.datasets) is presented from the first step on
    lookup = {(t, c): arrival_step(t, c) if t in tasks.TASKS else 0
              for t, c in pairs.drop_duplicates().itertuples(index=False)}
    return np.fromiter((lookup[k] for k in zip(pairs.task, pairs.concept)), dtype=np.int64, count=len(pairs))


def _blocks(frame: pd.DataFrame, name: str = "frame") -> tuple[pd.DataFrame, int, int]:
    """Sort a relay table into whole relay matrices; return it with concepts and nodes per matrix."""
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame from irn.analysis.relay_frame")
    missing = [c for c in _FRAME_COLUMNS if c not in frame]
    if missing:
        raise ValueError(f"{name} lacks columns {missing}; expected those of irn.analysis.relay_frame "
                         f"({_FRAME_COLUMNS})")
    if frame.empty:
        raise ValueError(f"{name} must hold at least one relay matrix, got no rows")
    values = frame["contribution"].to_numpy()
    if values.dtype.kind not in "biuf" or not np.all(np.isfinite(values)):
        raise ValueError(f"{name}['contribution'] must hold finite numbers")
    ordered = frame.sort_values(NETWORK + ["step", "concept", "node"], kind="stable").reset_index(drop=True)
    n_nodes = ordered["node"].nunique()
    g = ordered.groupby(NETWORK + ["step"], sort=False, observed=True)
    sizes, concepts = g.size().to_numpy(), g["concept"].nunique().to_numpy()
    n_concepts = int(concepts[0])
    if ((sizes != n_concepts * n_nodes) | (concepts != n_concepts)).any() \
            or ordered.duplicated(NETWORK + ["step", "concept", "node"]).any():
        raise ValueError(f"{name} must hold complete relay matrices: every network and step needs one "
                         f"row per concept × node ({n_concepts} × {n_nodes}), without duplicates")
    return ordered, n_concepts, n_nodes


def carriers(frame: pd.DataFrame, within: str = "matrix") -> pd.DataFrame:
    """Which nodes carry which concept, from two-means on each relay matrix.

    Parameters
    ----------
    frame : pandas.DataFrame
        `irn.analysis.relay_frame` output (any subset of networks and steps, but complete matrices:
        every concept × node at each network and step).
    within : {"matrix", "concept"}, optional
        "matrix" (the paper: one split of all concepts × nodes values of a network at a step) or
        "concept" (a separate split of each concept's node values).

    Returns
    -------
    pandas.DataFrame
        ``frame`` sorted by network, step, concept, node with a boolean column ``carries`` (the
        node's contribution is in the upper of the two clusters).
    """
    return _carriers(frame, within)[0]


def _carriers(frame: pd.DataFrame, within: str) -> tuple[pd.DataFrame, int, int]:
    if within not in CARRIER_SCOPES:
        raise ValueError(f"within must be one of {CARRIER_SCOPES}, got {within!r}")
    ordered, n_concepts, n_nodes = _blocks(frame)
    size = n_concepts * n_nodes if within == "matrix" else n_nodes
    values = ordered["contribution"].to_numpy(np.float64).reshape(-1, size, 1)
    ordered["carries"] = relay.binarize(values, method="kmeans").reshape(-1).astype(bool)
    return ordered, n_concepts, n_nodes


def _row_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson r of matching rows of a and b: (pairs, nodes) → (pairs,), NaN if a row is constant."""
    constant = (np.ptp(a, axis=1) <= CONSTANT_TOLERANCE) | (np.ptp(b, axis=1) <= CONSTANT_TOLERANCE)
    da, db = a - a.mean(axis=1, keepdims=True), b - b.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (da * db).sum(axis=1) / np.sqrt((da**2).sum(axis=1) * (db**2).sum(axis=1))
    return np.where(constant, np.nan, np.clip(r, -1.0, 1.0))


def stability(frame: pd.DataFrame, within: str = "matrix") -> pd.DataFrame:
    """Correlation and carrier overlap of each concept between consecutive steps t → t + 1.

    Parameters
    ----------
    frame : pandas.DataFrame
        `irn.analysis.relay_frame` output (complete relay matrices, see `carriers`).
    within : {"matrix", "concept"}, optional
        How carrier sets are found, see `carriers`.

    Returns
    -------
    pandas.DataFrame
        One row per network × concept × pair of consecutive steps present in ``frame``: arch, task,
        delay, replicate, concept, step (t), arrival (the concept's arrival step), arrived
        (t ≥ arrival), r (Pearson r of the node contributions, NaN if either is constant), overlap
        (Jaccard index of the carrier sets, NaN if both are empty), carriers_before, carriers_after
        (sizes of the two carrier sets).
    """
    marked, _, n_nodes = _carriers(frame, within)
    rows = marked.sort_values(NETWORK + ["concept", "step", "node"], kind="stable")
    values = rows["contribution"].to_numpy(np.float64).reshape(-1, n_nodes)
    carry = rows["carries"].to_numpy().reshape(-1, n_nodes)
    keys = rows.iloc[::n_nodes][NETWORK + ["concept", "step"]].reset_index(drop=True)
    same = np.ones(len(keys) - 1, dtype=bool)
    for column in NETWORK + ["concept"]:
        k = keys[column].to_numpy()
        same &= k[1:] == k[:-1]
    step = keys["step"].to_numpy()
    first = np.flatnonzero(same & (step[1:] == step[:-1] + 1))
    before, after = carry[first], carry[first + 1]
    union = (before | after).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        overlap = np.where(union > 0, (before & after).sum(axis=1) / union, np.nan)
    out = keys.iloc[first].reset_index(drop=True)
    out["arrival"] = _arrivals(out["task"], out["concept"])
    out["arrived"] = out["step"].to_numpy() >= out["arrival"].to_numpy()
    out["r"] = _row_correlation(values[first], values[first + 1])
    out["overlap"] = overlap
    out["carriers_before"] = before.sum(axis=1)
    out["carriers_after"] = after.sum(axis=1)
    return out


def stability_by_replicate(stable: pd.DataFrame, arrived_only: bool = True) -> pd.DataFrame:
    """Each network's mean r and overlap over its concepts and step pairs.

    Parameters
    ----------
    stable : pandas.DataFrame
        `stability` output.
    arrived_only : bool, optional
        Use only pairs at or after each concept's arrival (default) or all pairs.

    Returns
    -------
    pandas.DataFrame
        One row per network: arch, task, delay, replicate, r, overlap (means of the defined values;
        NaN if none is defined), pairs (pairs used), r_undefined, overlap_undefined (pairs whose
        value was undefined and left out).
    """
    needed = NETWORK + ["arrived", *MEASURES]
    if not isinstance(stable, pd.DataFrame) or any(c not in stable for c in needed):
        raise ValueError(f"stable must be the DataFrame of irn.dynamics.stability (columns {needed})")
    if not isinstance(arrived_only, (bool, np.bool_)):
        raise ValueError(f"arrived_only must be True or False, got {arrived_only!r}")
    used = stable[stable["arrived"]] if arrived_only else stable
    if used.empty:
        raise ValueError("stable holds no step pairs to average" + (" after arrival" if arrived_only else ""))
    g = used.groupby(NETWORK, sort=False, observed=True)
    out = g[list(MEASURES)].mean()
    out["pairs"] = g.size()
    for m in MEASURES:
        out[f"{m}_undefined"] = used[m].isna().groupby([used[c] for c in NETWORK], sort=False).sum()
    return out.reset_index()


def _check_per_replicate(per_replicate: pd.DataFrame, measure: str, name: str = "per_replicate"):
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
    needed = NETWORK + [measure]
    if not isinstance(per_replicate, pd.DataFrame) or any(c not in per_replicate for c in needed):
        raise ValueError(f"{name} must be the DataFrame of irn.dynamics.stability_by_replicate "
                         f"(columns {needed})")


def compare_architectures(per_replicate: pd.DataFrame, measure: str = "r", reference: str = "rnn") -> pd.DataFrame:
    """Mann–Whitney U test of one architecture against each other one, per task and delay.

    Networks whose measure is undefined are left out.

    Parameters
    ----------
    per_replicate : pandas.DataFrame
        `stability_by_replicate` output.
    measure : {"r", "overlap"}, optional
        The measure compared.
    reference : str, optional
        The architecture the others are compared with.

    Returns
    -------
    pandas.DataFrame
        One row per task × delay × other architecture: task, delay, arch (the other one), measure,
        reference (its mean), other (mean), difference (reference − other), p_value, n.
    """
    _check_per_replicate(per_replicate, measure)
    archs = list(dict.fromkeys(per_replicate["arch"]))
    if reference not in archs:
        raise ValueError(f"reference must be one of the architectures in per_replicate {archs}, got {reference!r}")
    rows = []
    for (task, delay), group in per_replicate.groupby(["task", "delay"], sort=False):
        ref = group.loc[group["arch"] == reference, measure].dropna()
        for arch in archs:
            other = group.loc[group["arch"] == arch, measure].dropna()
            if arch == reference or ref.empty or other.empty:
                continue
            c = stats.independent_test(ref, other)
            rows.append({"task": task, "delay": delay, "arch": arch, "measure": measure,
                         "reference": ref.mean(), "other": other.mean(), "difference": c.difference,
                         "p_value": c.p_value, "n": c.n})
    return pd.DataFrame(rows)


def compare_regimes(per_replicate: pd.DataFrame, measure: str = "r") -> pd.DataFrame:
    """Mann–Whitney U test of random-delay training against the fixed delays pooled, per architecture
    and task.

    Parameters
    ----------
    per_replicate : pandas.DataFrame
        `stability_by_replicate` output with delay "random" and at least one fixed delay.
    measure : {"r", "overlap"}, optional
        The measure compared.

    Returns
    -------
    pandas.DataFrame
        task, arch, measure, random (mean), fixed (mean), difference (random − fixed), p_value, n.
    """
    _check_per_replicate(per_replicate, measure)
    delay = per_replicate["delay"].astype(str)
    if not (delay == "random").any() or (delay == "random").all():
        raise ValueError("per_replicate must hold delay 'random' and at least one fixed delay")
    rows = []
    for (task, arch), group in per_replicate.groupby(["task", "arch"], sort=False):
        is_random = group["delay"].astype(str) == "random"
        rand, fixed = group.loc[is_random, measure].dropna(), group.loc[~is_random, measure].dropna()
        if rand.empty or fixed.empty:
            continue
        c = stats.independent_test(rand, fixed)
        rows.append({"task": task, "arch": arch, "measure": measure, "random": rand.mean(),
                     "fixed": fixed.mean(), "difference": c.difference, "p_value": c.p_value, "n": c.n})
    return pd.DataFrame(rows)


def smearing(frame: pd.DataFrame, step: int = RELAY_STEP, within: str = "matrix") -> pd.DataFrame:
    """Normalised histograms of concepts per node and nodes per concept at one step (the paper's
    Fig 10, 11).

    Parameters
    ----------
    frame : pandas.DataFrame
        `irn.analysis.relay_frame` output holding ``step`` for every network.
    step : int, optional
        The 0-based step.
    within : {"matrix", "concept"}, optional
        How carriers are found, see `carriers`.

    Returns
    -------
    pandas.DataFrame
        One row per network × measure × count: arch, task, delay, replicate, measure ("concepts
        per node": count 0…concepts; "nodes per concept": count 0…nodes), count, and fraction (of
        the network's nodes, resp. concepts, with that count; sums to 1 per network and measure).
        Empty bins are listed with fraction 0.
    """
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)):
        raise ValueError(f"step must be a 0-based time step (an integer), got {step!r}")
    if isinstance(frame, pd.DataFrame) and "step" in frame and not (frame["step"] == step).any():
        raise ValueError(f"step {step} is not in frame (steps present: {sorted(frame['step'].unique())})")
    at_step = frame[frame["step"] == step] if isinstance(frame, pd.DataFrame) and "step" in frame else frame
    marked, n_concepts, n_nodes = _carriers(at_step, within)
    carry = marked["carries"].to_numpy().reshape(-1, n_concepts, n_nodes)
    networks = marked.iloc[:: n_concepts * n_nodes][NETWORK].reset_index(drop=True)
    parts = []
    for measure, counts, bins in (("concepts per node", carry.sum(axis=1), n_concepts),
                                  ("nodes per concept", carry.sum(axis=2), n_nodes)):
        hist = (counts[:, :, None] == np.arange(bins + 1)).mean(axis=1)  # (networks, bins + 1)
        part = networks.loc[networks.index.repeat(bins + 1)].reset_index(drop=True)
        part["measure"] = measure
        part["count"] = np.tile(np.arange(bins + 1), len(networks))
        part["fraction"] = hist.reshape(-1)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def smearing_summary(smear: pd.DataFrame) -> pd.DataFrame:
    """Per network: how many nodes are shared, idle, and how many carry a concept.

    Parameters
    ----------
    smear : pandas.DataFrame
        `smearing` output.

    Returns
    -------
    pandas.DataFrame
        arch, task, delay, replicate, shared (fraction of nodes carrying ≥ 2 concepts), idle
        (fraction carrying none), nodes_per_concept (mean number of nodes carrying a concept).
    """
    needed = NETWORK + ["measure", "count", "fraction"]
    if not isinstance(smear, pd.DataFrame) or any(c not in smear for c in needed):
        raise ValueError(f"smear must be the DataFrame of irn.dynamics.smearing (columns {needed})")
    per_node = smear[smear["measure"] == "concepts per node"]
    per_concept = smear[smear["measure"] == "nodes per concept"]
    g = lambda df: df.groupby(NETWORK, sort=False, observed=True)  # noqa: E731
    out = pd.DataFrame({
        "shared": g(per_node[per_node["count"] >= 2])["fraction"].sum(),
        "idle": g(per_node[per_node["count"] == 0])["fraction"].sum(),
        "nodes_per_concept": g(per_concept.assign(w=per_concept["count"] * per_concept["fraction"]))["w"].sum(),
    })
    return out.reset_index()
