"""The latent space: PCA of hidden states, guided by relay information (paper §III, Fig 12, 13).

The hidden state of a network at ``irn.analysis.RELAY_STEP`` (the step after all inputs) is a
point in a ``nodes``-dimensional space. Projected onto its first two principal components, the
points of the eight concept combinations (``state`` 0…7) form clusters (Fig 12). Removing nodes
before the PCA, least relaying first (the greedy order of ``irn.relay``), should keep a concept's
two values apart longer than removing them in a random order (Fig 13). Separation is scored per
concept with three cluster scores:

* ``silhouette`` — in [-1, 1], **higher** = better separated;
* ``davies_bouldin`` — ≥ 0, **lower** = better separated;
* ``calinski_harabasz`` — ≥ 0, **higher** = better separated.

(The paper's Fig 13 caption states the last two the other way round.)

Points are the hidden states on every *distinct* clean sequence of the task (8 for the memory
task, 24 for the block task), each once: a network is deterministic, so 1000 random clean
sequences would only repeat these points, and the Calinski–Harabasz score would then grow with
the number of repeats. PCA (``project``) and the scores (``cluster_scores``) are batched numpy
versions of ``sklearn.decomposition.PCA`` and ``sklearn.metrics`` (the tests check they agree),
so all replicates × orders × removal steps run in one go.

Degenerate cases: with one node left the PCA has one component; with all points identical
(no spread at all) every score is NaN; with zero spread inside the clusters but clusters apart,
the silhouette is 1 and Davies–Bouldin 0, while Calinski–Harabasz (infinite) is NaN; when two
cluster centres coincide Davies–Bouldin (infinite) is NaN. scikit-learn instead returns 1.0 or
0.0 in these cases, values that would read as poor or perfect separation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from irn import analysis, tasks
from irn.stats import mean_interval, paired_test
from irn.train import Trained

SCORES = ("silhouette", "davies_bouldin", "calinski_harabasz")
HIGHER_IS_BETTER = {"silhouette": True, "davies_bouldin": False, "calinski_harabasz": True}
ORDERS = ("relay", "random")
LOG_SCALE = ("davies_bouldin", "calinski_harabasz")  # positive scores spanning orders of magnitude
RANDOM_ORDERS = 50  # the paper's number of random removal orders
FLAT = 1e-10  # relative distance below which points (or cluster centres) count as identical


@dataclass(frozen=True)
class States:
    """Hidden states of a condition's replicates at one step, on every distinct clean sequence.

    Attributes
    ----------
    hidden : ndarray, shape (replicates, sequences, nodes)
        float hidden states.
    state : ndarray, shape (sequences,)
        The concept combination 0…7 of each sequence.
    bits : ndarray, shape (concepts, sequences)
        0/1 true value of each concept.
    concepts : tuple of str
        The concepts' names.
    labels : dict
        arch, task, delay.
    step : int
        The 0-based step recorded.
    """

    hidden: np.ndarray
    state: np.ndarray
    bits: np.ndarray
    concepts: tuple
    labels: dict
    step: int

    @property
    def replicates(self) -> int:
        """Number of replicates."""
        return self.hidden.shape[0]

    @property
    def nodes(self) -> int:
        """Number of hidden nodes."""
        return self.hidden.shape[2]


def hidden_states(trained: Trained, step: int = analysis.RELAY_STEP, state: str = "h") -> States:
    """Record a condition's replicates on the distinct clean sequences of its task and keep one step.

    The sequences have the analysis delay of the training regime (`irn.analysis.analysis_delay`).

    Parameters
    ----------
    trained : irn.train.Trained
        The replicates.
    step : int, optional
        The 0-based step kept.
    state : {"h", "c", "hc"}, optional
        Which state, as in `irn.analysis.record`.

    Returns
    -------
    States
        The hidden states at ``step``.
    """
    cond = trained.condition
    delay = analysis.analysis_delay(cond.delay)
    batch = tasks.distinct(cond.task, delay)
    n_steps = batch.inputs.shape[1]
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or not 0 <= step < n_steps:
        raise ValueError(f"step must be a 0-based time step in 0…{n_steps - 1}, got {step!r}")
    rec = analysis.record_model(trained.model, batch.inputs, batch.targets, batch.answer_step,
                                state=state, concepts=tasks.CONCEPTS[cond.task])
    return States(hidden=rec.hidden[:, :, step].astype(np.float64), state=rec.state,
                  bits=rec.x_in, concepts=rec.concepts,
                  labels={"arch": cond.arch, "task": cond.task, "delay": str(cond.delay)}, step=int(step))


def states_of(rec: analysis.Recording, step: int) -> States:
    """One step of any recording as `States`, for the PCA and removal scores of this module.

    Any nodes, layers and concepts.

    Parameters
    ----------
    rec : irn.analysis.Recording
        `irn.analysis.record_model` of your own model and data.
    step : int
        The 0-based step kept.

    Returns
    -------
    States
        The hidden states at ``step``.
    """
    if not isinstance(rec, analysis.Recording):
        raise ValueError(f"rec must be an irn.analysis.Recording, got {type(rec).__name__}")
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or not 0 <= step < rec.steps:
        raise ValueError(f"step must be a 0-based time step in 0…{rec.steps - 1}, got {step!r}")
    return States(hidden=rec.hidden[:, :, step].astype(np.float64), state=rec.state, bits=rec.x_in,
                  concepts=rec.concepts, labels=dict(rec.labels), step=int(step))


@dataclass(frozen=True)
class Projection:
    """Principal components of a batch of point clouds.

    Attributes
    ----------
    points : ndarray, shape (..., samples, components)
        Coordinates on the components.
    explained : ndarray, shape (..., components)
        Fraction of the total variance each component explains (NaN when the cloud has no spread).
    """

    points: np.ndarray
    explained: np.ndarray


def project(hidden, components: int = 2) -> Projection:
    """PCA of every point cloud in a batch.

    Equal to ``sklearn.decomposition.PCA(k).fit_transform`` up to the sign of each component.

    Parameters
    ----------
    hidden : array_like, shape (..., samples, nodes)
        The point clouds.
    components : int, optional
        Components wanted; k = min(components, nodes, samples), so one node left gives one.

    Returns
    -------
    Projection
        Points of shape (..., samples, k) and the variance each component explains.
    """
    hidden = np.asarray(hidden, dtype=np.float64)
    if hidden.ndim < 2 or hidden.shape[-2] < 2 or hidden.shape[-1] < 1:
        raise ValueError("hidden must be (..., samples, nodes) with at least 2 samples and 1 node, "
                         f"got shape {hidden.shape}")
    tasks.check_count(components, "components", 1)
    k = min(int(components), hidden.shape[-1], hidden.shape[-2])
    centred = hidden - hidden.mean(axis=-2, keepdims=True)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    total = (centred ** 2).sum(axis=(-2, -1))[..., None]
    with np.errstate(invalid="ignore", divide="ignore"):
        explained = np.where(total > 0, s[..., :k] ** 2 / total, np.nan)
    return Projection(points=u[..., :k] * s[..., None, :k], explained=explained)


@dataclass(frozen=True)
class Scores:
    """Cluster scores of a batch of labelled point clouds.

    Attributes
    ----------
    silhouette : ndarray, shape (...)
        Silhouette (higher is better separated).
    davies_bouldin : ndarray, shape (...)
        Davies–Bouldin index (lower is better separated).
    calinski_harabasz : ndarray, shape (...)
        Calinski–Harabasz index (higher is better separated).
    """

    silhouette: np.ndarray
    davies_bouldin: np.ndarray
    calinski_harabasz: np.ndarray


def cluster_scores(points, labels) -> Scores:
    """Silhouette, Davies–Bouldin and Calinski–Harabasz scores (Euclidean), batched.

    Equal to ``sklearn.metrics`` on ordinary data; degenerate data give NaN where the score is
    undefined or infinite (see the module docstring).

    Parameters
    ----------
    points : array_like, shape (..., samples, dims)
        The point clouds.
    labels : array_like, shape (samples,)
        Cluster of each sample, 2 ≤ clusters < samples.

    Returns
    -------
    Scores
        The three scores, each of shape (...).
    """
    points = np.asarray(points, dtype=np.float64)
    labels = np.asarray(labels)
    if points.ndim < 2:
        raise ValueError(f"points must be (..., samples, dims), got shape {points.shape}")
    if labels.ndim != 1 or len(labels) != points.shape[-2]:
        raise ValueError(f"labels must be (samples,) = ({points.shape[-2]},), got shape {labels.shape}")
    _, code = np.unique(labels, return_inverse=True)
    k, n = code.max() + 1, len(code)
    if not 2 <= k < n:
        raise ValueError(f"labels must name between 2 and samples − 1 = {n - 1} clusters, got {k}")
    onehot = np.eye(k)[code]  # (n, k)
    count = onehot.sum(axis=0)  # (k,)
    centre = np.einsum("...nd,nk->...kd", points, onehot) / count[:, None]  # (..., k, d)
    mean = points.mean(axis=-2, keepdims=True)
    to_centre = np.linalg.norm(points - centre[..., code, :], axis=-1)  # (..., n)
    intra = (to_centre ** 2).sum(axis=-1)
    extra = (count * ((centre - mean) ** 2).sum(axis=-1)).sum(axis=-1)
    spread = intra + extra  # total sum of squares
    # no spread beyond float rounding (distances below 1e-10 of the points' size): nothing to score
    flat = spread <= FLAT ** 2 * np.maximum(1.0, (points ** 2).sum(axis=(-2, -1)))

    with np.errstate(invalid="ignore", divide="ignore"):
        # silhouette: a = mean distance within own cluster, b = smallest mean distance to another
        dist = np.linalg.norm(points[..., :, None, :] - points[..., None, :, :], axis=-1)
        sums = dist @ onehot  # (..., n, k)
        own = count[code]
        a = (sums * onehot).sum(axis=-1) / np.maximum(own - 1, 1)
        other = np.where(onehot.astype(bool), np.inf, sums / count)
        b = other.min(axis=-1)
        s = np.nan_to_num((b - a) / np.maximum(a, b))
        silhouette = np.where(own > 1, s, 0.0).mean(axis=-1)

        # Davies–Bouldin: mean over clusters of the worst (s_i + s_j) / d(c_i, c_j)
        size = np.sqrt(np.maximum(spread, 0) / n)[..., None]  # RMS distance from the mean
        scatter = np.einsum("...n,nk->...k", to_centre, onehot) / count
        scatter = np.where(scatter <= FLAT * size, 0.0, scatter)
        gap = np.linalg.norm(centre[..., :, None, :] - centre[..., None, :, :], axis=-1)
        ratio = (scatter[..., :, None] + scatter[..., None, :]) / gap
        ratio = np.where(np.eye(k, dtype=bool), -np.inf, ratio)
        touching = ((gap <= FLAT * size[..., None]) & ~np.eye(k, dtype=bool)).any(axis=(-2, -1))
        davies = np.where(touching, np.nan, ratio.max(axis=-1).mean(axis=-1))

        tight = intra <= FLAT ** 2 * spread  # no spread inside the clusters beyond float rounding
        calinski = np.where(tight, np.nan, extra * (n - k) / (intra * (k - 1)))
    nan = np.full(flat.shape, np.nan)
    return Scores(silhouette=np.where(flat, nan, silhouette), davies_bouldin=np.where(flat, nan, davies),
                  calinski_harabasz=np.where(flat, nan, calinski))


def random_orders(replicates: int, draws: int, nodes: int, seed: int = 0) -> np.ndarray:
    """Random removal orders per replicate, each a permutation of the nodes.

    Parameters
    ----------
    replicates : int
        Replicates.
    draws : int
        Orders per replicate.
    nodes : int
        Nodes.
    seed : int, optional
        Random seed.

    Returns
    -------
    ndarray, shape (replicates, draws, nodes)
        The orders.
    """
    replicates, draws = tasks.check_count(replicates, "replicates", 1), tasks.check_count(draws, "draws", 1)
    nodes = tasks.check_count(nodes, "nodes", 1)
    rng = np.random.default_rng(seed)
    return rng.permuted(np.broadcast_to(np.arange(nodes), (replicates, draws, nodes)), axis=-1)


def relay_orders(relay: pd.DataFrame, states: States) -> np.ndarray:
    """Relay removal orders (least relaying first) of the replicates, per concept.

    Parameters
    ----------
    relay : pandas.DataFrame
        `irn.analysis.relay_frame` rows of this condition at ``states.step`` (other rows are
        ignored).
    states : States
        The replicates' states.

    Returns
    -------
    ndarray, shape (replicates, concepts, nodes)
        Node indices sorted by ``rank``.
    """
    need = ["arch", "task", "delay", "replicate", "step", "concept", "node", "rank"]
    missing = [c for c in need if c not in relay]
    if missing:
        raise ValueError(f"relay must be an irn.analysis.relay_frame table; it lacks {missing}")
    lab = states.labels
    rows = relay[(relay.arch == lab["arch"]) & (relay.task == lab["task"])
                 & (relay.delay.astype(str) == lab["delay"]) & (relay.step == states.step)]
    r, c, h = states.replicates, len(states.concepts), states.nodes
    if len(rows) != r * c * h:
        raise ValueError(f"relay must hold {r} replicates × {c} concepts × {h} nodes of "
                         f"{lab['arch']}/{lab['task']}/delay {lab['delay']} at step {states.step}; "
                         f"found {len(rows)} rows (compute it with relay_frame(..., steps=[{states.step}]))")
    concept = pd.Categorical(rows.concept, categories=list(states.concepts))
    ranks = np.full((r, c, h), -1)
    ranks[rows.replicate.to_numpy(), concept.codes, rows.node.to_numpy()] = rows["rank"].to_numpy()
    if (np.sort(ranks, axis=-1) != np.arange(h)).any():
        raise ValueError("relay ranks must be a permutation of 0…nodes−1 per replicate and concept")
    return np.argsort(ranks, axis=-1)


def removal_scores(trained: Trained | States, relay: pd.DataFrame | None = None, draws: int = RANDOM_ORDERS,
                   seed: int = 0, components: int = 2, step: int = analysis.RELAY_STEP,
                   state: str = "h", method: str = "median") -> pd.DataFrame:
    """Paper Fig 13: cluster scores of each concept as nodes are removed before the PCA.

    Nodes are removed in relay order (least relaying first, per concept: ``rank`` of ``relay``,
    computed with ``relay_frame(trained, steps=[step], method=method)`` when not given) and in
    ``draws`` random orders per replicate (shared by the concepts). After each removal the PCA
    (``components`` components, fewer when fewer nodes are left) is redone on the remaining nodes
    and the concept's two values are scored as two clusters. ``removed`` runs 0…nodes−1 (no PCA
    without nodes).

    Parameters
    ----------
    trained : irn.train.Trained or States
        The replicates, or the `States` of any model (`states_of` a recording); ``relay`` (its
        `irn.analysis.relay_of_recording` at that step) is then required and ``step``, ``state``
        are the States' own.
    relay : pandas.DataFrame or None, optional
        The relay frame at ``step``.
    draws : int, optional
        Random orders per replicate.
    seed : int, optional
        Random seed of the random orders (and of the relay frame computed here).
    components : int, optional
        Principal components kept.
    step : int, optional
        The 0-based step.
    state : {"h", "c", "hc"}, optional
        Which state, as in `irn.analysis.record`.
    method : str, optional
        Binarisation of the relay frame computed here.

    Returns
    -------
    pandas.DataFrame
        Columns arch, task, delay, replicate, concept, order ("relay"/"random"), draw (0 for
        relay), removed, score, value.
    """
    draws = tasks.check_count(draws, "draws", 1)
    if isinstance(trained, States):
        if relay is None:
            raise ValueError("relay must be given with States (relay_of_recording of the same recording)")
        states = trained
    else:
        states = hidden_states(trained, step=step, state=state)
    if relay is None:
        relay = analysis.relay_frame(trained, steps=[step], method=method, seed=seed, state=state)
    r, c, h = states.replicates, len(states.concepts), states.nodes
    orders = np.concatenate([relay_orders(relay, states),
                             random_orders(r, draws, h, seed=seed)], axis=1)  # (R, c + draws, h)
    values = np.empty((r, c + draws, c, h, len(SCORES)))  # replicate, order row, concept, removed, score
    for removed in range(h):
        keep = orders[:, :, removed:]  # (R, m, h - removed)
        cloud = np.take_along_axis(states.hidden[:, None, :, :], keep[:, :, None, :], axis=-1)
        points = project(cloud, components).points
        for j in range(c):
            sc = cluster_scores(points, states.bits[j])
            values[:, :, j, removed] = np.stack([getattr(sc, name) for name in SCORES], axis=-1)
    relay_part = values[:, np.arange(c), np.arange(c)]  # (R, c, h, scores): order row j for concept j
    random_part = values[:, c:].transpose(0, 2, 1, 3, 4)  # (R, c, draws, h, scores)
    frames = []
    for order, part in (("relay", relay_part[:, :, None]), ("random", random_part)):
        idx = np.indices(part.shape).reshape(part.ndim, -1)
        frames.append(pd.DataFrame({
            **states.labels, "replicate": idx[0], "concept": np.asarray(states.concepts)[idx[1]],
            "order": order, "draw": idx[2], "removed": idx[3],
            "score": np.asarray(SCORES)[idx[4]], "value": part.reshape(-1)}))
    return pd.concat(frames, ignore_index=True)


def projection_frame(states: States, replicates=None, components: int = 2) -> pd.DataFrame:
    """Paper Fig 12: each distinct sequence's hidden state on the first principal components.

    Parameters
    ----------
    states : States
        The hidden states.
    replicates : sequence of int or None, optional
        Which replicates (default all).
    components : int, optional
        Principal components kept (1 or 2).

    Returns
    -------
    pandas.DataFrame
        Columns arch, task, delay, replicate, sequence, state, label (e.g. "A+ B− C+"), one 0/1
        column per concept, pc1, pc2 (pc2 = 0 with one component), explained (fraction of the
        variance the shown components explain).
    """
    replicates = range(states.replicates) if replicates is None else list(replicates)
    bad = [i for i in replicates if not (isinstance(i, (int, np.integer)) and 0 <= i < states.replicates)]
    if bad or not replicates:
        raise ValueError(f"replicates must be indices in 0…{states.replicates - 1}, got {list(replicates)}")
    proj = project(states.hidden[list(replicates)], components)
    return _points_frame(states, list(replicates), proj)


def _points_frame(states: States, replicates: list, proj: Projection, **extra) -> pd.DataFrame:
    task = states.labels["task"]
    signs = np.where(states.bits.T > 0, 1, -1)
    label = [tasks.describe(task, s) for s in signs]
    frames = []
    for i, rep in enumerate(replicates):
        pts = proj.points[i]
        frame = pd.DataFrame({
            **states.labels, "replicate": rep, **extra, "sequence": np.arange(len(states.state)),
            "state": states.state, "label": label,
            **{c: states.bits[j] for j, c in enumerate(states.concepts)},
            "pc1": pts[:, 0], "pc2": pts[:, 1] if pts.shape[1] > 1 else 0.0,
            "explained": np.nansum(proj.explained[i])})
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def removal_projection(states: States, relay: pd.DataFrame, replicate: int = 0, removed=(0, 3, 6, 9),
                       components: int = 2) -> pd.DataFrame:
    """The left panels of Fig 13: one replicate's PCA after removing its least relaying nodes,
    separately for each concept's relay order.

    Parameters
    ----------
    states : States
        The hidden states.
    relay : pandas.DataFrame
        `irn.analysis.relay_frame` rows at ``states.step``.
    replicate : int, optional
        The replicate drawn.
    removed : sequence of int, optional
        Numbers of removed nodes, one panel each.
    components : int, optional
        Principal components kept.

    Returns
    -------
    pandas.DataFrame
        The columns of `projection_frame` plus concept (whose order was used), removed, value (0/1
        of that concept for each point).
    """
    if not (isinstance(replicate, (int, np.integer)) and 0 <= replicate < states.replicates):
        raise ValueError(f"replicate must be an index in 0…{states.replicates - 1}, got {replicate!r}")
    removed = [removed] if isinstance(removed, (int, np.integer)) else list(removed)
    if not removed or any(isinstance(m, bool) or not isinstance(m, (int, np.integer))
                          or not 0 <= m < states.nodes for m in removed):
        raise ValueError(f"removed must be numbers of nodes in 0…{states.nodes - 1}, got {removed}")
    orders = relay_orders(relay, states)[replicate]  # (concepts, nodes)
    frames = []
    for j, concept in enumerate(states.concepts):
        for m in removed:
            proj = project(states.hidden[replicate][:, orders[j, m:]][None], components)
            frame = _points_frame(states, [replicate], proj, concept=concept, removed=m)
            frames.append(frame.assign(value=states.bits[j]))
    return pd.concat(frames, ignore_index=True)


def state_separation(states: States, components: int = 2) -> pd.DataFrame:
    """How well the first principal components keep the concept combinations apart, per replicate.

    separation = smallest distance between two states' centres on the components divided by the
    median distance between states' centres (0: two states fall on one point; 1: all equally far).

    Parameters
    ----------
    states : States
        The hidden states.
    components : int, optional
        Principal components kept.

    Returns
    -------
    pandas.DataFrame
        Columns arch, task, delay, replicate, explained, separation.
    """
    proj = project(states.hidden, components)
    ids = np.unique(states.state)
    onehot = (states.state[:, None] == ids[None]).astype(float)
    centre = np.einsum("rnd,nk->rkd", proj.points, onehot) / onehot.sum(axis=0)[:, None]
    gap = np.linalg.norm(centre[:, :, None] - centre[:, None], axis=-1)
    upper = np.triu_indices(len(ids), 1)
    pairs = gap[:, upper[0], upper[1]]
    with np.errstate(invalid="ignore", divide="ignore"):
        separation = pairs.min(axis=-1) / np.median(pairs, axis=-1)
    return pd.DataFrame({**states.labels, "replicate": np.arange(states.replicates),
                         "explained": np.nansum(proj.explained, axis=-1), "separation": separation})


def relay_curves(relay: pd.DataFrame, step: int = analysis.RELAY_STEP, interval: str = "ci95") -> pd.DataFrame:
    """The black line of Fig 13 (right): the relay information ``I_R`` of the nodes left after
    removing 0, 1, …, nodes−1 nodes in each concept's greedy relay order (the x axis of
    `score_curves`), mean and interval over replicates.

    Parameters
    ----------
    relay : pandas.DataFrame
        `irn.analysis.relay_frame` output holding ``step`` (its ``relay`` column is the curve with
        no node removed, ``relay_after`` of the node of rank m−1 the curve after m removals).
    step : int, optional
        The 0-based step.
    interval : {"ci95", "se"}, optional
        As in `irn.stats.mean_interval`.

    Returns
    -------
    pandas.DataFrame
        Columns arch, task, delay, concept, removed, mean, lo, hi, n (bits).
    """
    need = ["arch", "task", "delay", "replicate", "step", "concept", "node", "rank", "relay", "relay_after"]
    missing = [c for c in need if c not in relay]
    if missing:
        raise ValueError(f"relay must be an irn.analysis.relay_frame table; it lacks {missing}")
    rows = relay[relay.step == step]
    if rows.empty:
        raise ValueError(f"step {step} is not in relay (steps present: {sorted(relay.step.unique())})")
    nodes = int(rows["rank"].max()) + 1
    keys = ["arch", "task", "delay", "replicate", "concept"]
    start = rows[rows["rank"] == 0][keys].assign(removed=0, bits=rows.loc[rows["rank"] == 0, "relay"])
    later = rows[rows["rank"] <= nodes - 2][keys].assign(
        removed=rows["rank"] + 1, bits=rows["relay_after"])  # removed 1 … nodes−1 (one node left)
    curve = pd.concat([start, later], ignore_index=True).astype({"delay": str})
    return mean_interval(curve, ["arch", "task", "delay", "concept", "removed"], "bits", interval)


def score_curves(scores: pd.DataFrame, interval: str = "ci95") -> pd.DataFrame:
    """The lines of Fig 13: each score against the number of removed nodes, over replicates.

    Per replicate the relay curve and the mean over draws of the random curves; then over replicates
    `irn.stats.mean_interval`: the arithmetic mean for the silhouette, the geometric mean (mean and
    interval of log10, transformed back) for the scores in `LOG_SCALE`, whose values span orders of
    magnitude (values ≤ 0 — a Davies–Bouldin of 0 for clusters without spread — cannot enter a
    geometric mean and are left out; ``n`` counts what entered).

    Parameters
    ----------
    scores : pandas.DataFrame
        `removal_scores` output.
    interval : {"ci95", "se"}, optional
        As in `irn.stats.mean_interval`.

    Returns
    -------
    pandas.DataFrame
        Columns arch, task, delay, concept, order, removed, score, mean, lo, hi, n, scale
        ("linear" / "log").
    """
    keys = ["arch", "task", "delay", "concept", "order", "removed", "score"]
    missing = [c for c in [*keys, "replicate", "value"] if c not in scores]
    if missing:
        raise ValueError(f"scores must be a removal_scores table; it lacks {missing}")
    per = scores.groupby([*keys, "replicate"], sort=False, observed=True)["value"].mean().reset_index()
    on_log = per.score.isin(LOG_SCALE)
    linear = mean_interval(per[~on_log].dropna(subset=["value"]), keys, "value", interval)
    logged = per[on_log & (per.value > 0)].assign(value=lambda d: np.log10(d.value))
    log = mean_interval(logged, keys, "value", interval)
    log[["mean", "lo", "hi"]] = 10.0 ** log[["mean", "lo", "hi"]]
    return pd.concat([linear.assign(scale="linear"), log.assign(scale="log")], ignore_index=True)


def removal_area(scores: pd.DataFrame) -> pd.DataFrame:
    """Each replicate's mean score over the removal steps (area under the curve / steps), relay
    order against the mean of the random orders.

    The random curve is the mean over draws at each removal step (NaN draws skipped); steps where
    either curve is NaN are left out of both areas.

    Parameters
    ----------
    scores : pandas.DataFrame
        `removal_scores` output.

    Returns
    -------
    pandas.DataFrame
        Columns arch, task, delay, replicate, concept, score, relay, random, better (relay −
        random, signed so that positive = relay order separates better, whatever the score's
        direction).
    """
    keys = ["arch", "task", "delay", "replicate", "concept", "score", "removed"]
    missing = [c for c in [*keys, "order", "value"] if c not in scores]
    if missing:
        raise ValueError(f"scores must be a removal_scores table; it lacks {missing}")
    curves = scores.groupby([*keys, "order"], sort=False, observed=True)["value"].mean().unstack("order")
    if set(curves.columns) != set(ORDERS):
        raise ValueError(f"scores must hold both orders {ORDERS}, got {list(curves.columns)}")
    curves = curves.dropna()
    area = curves.groupby(level=keys[:-1], sort=False, observed=True).mean().reset_index()
    sign = area.score.map(HIGHER_IS_BETTER).map({True: 1.0, False: -1.0})
    area["better"] = sign * (area["relay"] - area["random"])
    area.columns.name = None
    return area[[*keys[:-1], "relay", "random", "better"]]


def removal_test(area: pd.DataFrame) -> pd.DataFrame:
    """Wilcoxon signed-rank test over replicates of relay against random removal, per condition,
    concept and score.

    Parameters
    ----------
    area : pandas.DataFrame
        `removal_area` output.

    Returns
    -------
    pandas.DataFrame
        Columns arch, task, delay, concept, score, higher_is_better, relay, random (mean areas),
        better (mean of relay − random signed so positive = relay order better), p_value, n.
    """
    rows = []
    for key, g in area.groupby(["arch", "task", "delay", "concept", "score"], sort=False, observed=True):
        test = paired_test(g.better, np.zeros(len(g)))
        rows.append((*key, HIGHER_IS_BETTER[key[-1]], g.relay.mean(), g.random.mean(),
                     test.difference, test.p_value, test.n))
    return pd.DataFrame(rows, columns=["arch", "task", "delay", "concept", "score", "higher_is_better",
                                       "relay", "random", "better", "p_value", "n"])
