"""Flow on many short sequences (lag-1 transfer entropy inside each, never across two), the
recording of every neuron of a network on them, and which hidden nodes sit on input → output flow
paths (the bridge from the flow graph to the relay nodes of chapters 1–7)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from irn import ksg, params
from irn.flow._shared import NULLS, _finish, _neurons, _pairs, _roles, _shifts
from irn.flow.graph import flow_graph, path_nodes


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
    table["p_value"] = ksg.p_values(table["value"].to_numpy(), nulls)
    return _finish(table, alpha, None)


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
