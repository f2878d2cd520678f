"""The whole excitable-network analysis of a model in one call, the same analysis during training,
and the frames the chapter's figures draw.

``excitable_network`` runs fixed points → labels → saddles → connections → landing map → comparison
with the task's automaton and returns them as one ``ExcitableNetwork``; ``during_training`` trains
networks while keeping their weights every few epochs and runs the same analysis on every snapshot
at once (the snapshots are stacked as replicates).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from irn import params, tasks, train
from irn.attractors.automata import (
    Automaton,
    Comparison,
    _check_automaton,
    _probe_ends,
    compare,
    label_points,
)
from irn.attractors.behaviour import error_events, errors_on_flawed, transitions, used_graph
from irn.attractors.connections import _excitable, _scan_settings, transition_probabilities
from irn.attractors.maps import (
    _as_states,
    _check_inputs,
    _check_model,
    _Map,
    _run,
    sample_states,
    state_names,
    state_size,
    trajectory_states,
)
from irn.attractors.points import _states_of, fixed_points, folds, saddles
from irn.models import Stacked


#: Steps each probe's end state is run without input before it joins the seeds of the search.
PROBE_SETTLE = 20


@dataclass(frozen=True)
class ExcitableNetwork:
    """One model's excitable network and how it compares with a task's automaton.

    Attributes
    ----------
    points : pandas.DataFrame
        ``fixed_points`` frame with the automaton's ``label`` column.
    saddles : pandas.DataFrame
        ``saddles`` output (where each index-1 saddle's unstable manifold leads).
    edges : pandas.DataFrame
        ``network`` output (one row per source, target, channel and sign).
    landing : pandas.DataFrame
        ``landing_map`` output.
    comparison : Comparison
        ``compare`` output (``summary`` per network, ``edges`` per expected switch).
    automaton : Automaton
        The automaton compared with.
    """

    points: pd.DataFrame
    saddles: pd.DataFrame
    edges: pd.DataFrame
    landing: pd.DataFrame
    comparison: Comparison
    automaton: Automaton

    @property
    def summary(self) -> pd.DataFrame:
        """``comparison.summary``: one row per network."""
        return self.comparison.summary


def excitable_network(model: Stacked, automaton: Automaton, inputs=None, *, seeds=None, n_seeds: int = 256,
                      seed: int = 0, pulse_steps: int = 1, max_amplitude: float = 4.0, grid: int = 40,
                      tol: float = 1e-4, settle_steps: int = 300, match_tol: float = 1e-2,
                      **search) -> ExcitableNetwork:
    """The excitable network of every replicate of ``model``, compared with ``automaton``.

    Parameters
    ----------
    model : irn.models.Stacked
        A one-layer network (R replicates).
    automaton : Automaton
        The task's automaton (``flipflop_automaton()``, ``memory_automaton()`` or your own).
    inputs : array, shape (batch, steps, n_inputs), or None
        Task inputs whose input-free states seed the fixed-point search.
    seeds : array, shape (R, S, D) or (S, D), or None
        Starting states instead of ``inputs``. Either way the search also starts from the end of
        every probe of the automaton, run ``PROBE_SETTLE`` steps without input: the states the task
        asks the network to hold.
    n_seeds, seed
        Seeds per replicate drawn from ``inputs`` (0: none, only the probes); the random seed.
    pulse_steps, max_amplitude, grid, tol, settle_steps, match_tol
        The connection scan (see ``threshold``).
    **search
        Further ``fixed_points`` options (newton_steps, adam_steps, fixed_tol, slow_tol, …).

    Returns
    -------
    ExcitableNetwork
        points, saddles, edges, landing, comparison and automaton.
    """
    _check_model(model)
    _check_automaton(model, automaton)
    _scan_settings(pulse_steps, max_amplitude, grid, tol, settle_steps, match_tol)
    params.check_count(n_seeds, "n_seeds", 0)
    if seeds is None and inputs is None and n_seeds:
        raise ValueError("inputs or seeds must be given (inputs: (batch, steps, n_inputs) task inputs), "
                         "or n_seeds=0 to search from the automaton's probes alone")
    if inputs is not None:
        _check_inputs(model, inputs)
    scan = _scan_settings(pulse_steps, max_amplitude, grid, tol, settle_steps, match_tol)
    jitter = search.pop("jitter", 0.05)
    if seeds is not None:
        start = _as_states(model, seeds, "seeds").numpy()
    elif n_seeds:
        start = sample_states(model, inputs, n_seeds, jitter, seed)
    else:
        start = np.zeros((model.replicates, 0, state_size(model)))
    held = torch.cat(list(_probe_ends(model, automaton).values()), 1)  # where the task's states are held
    held = _run(_Map(model), held, PROBE_SETTLE, [], None, False).numpy()
    points = fixed_points(model, np.concatenate([start, held], 1), seed=seed, **search)
    points = label_points(model, points, automaton, settle_steps=settle_steps, match_tol=match_tol)
    found = saddles(model, points, settle_steps=max(settle_steps, 1000), match_tol=match_tol)
    edges, landing = _excitable(model, points, list(range(model.n_inputs)), [1, -1], scan, found=found)
    comparison = compare(edges, points, automaton, landing, replicates=model.replicates)
    return ExcitableNetwork(points, found, edges, landing, comparison, automaton)


# -- during training ------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainingSnapshots:
    """The excitable network of networks at snapshots during their training.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per (epoch, network) — the ``compare`` summary columns with epoch, network, accuracy
        (on the training data, with the snapshot's weights) and stream_accuracy (the flip-flop's own
        evaluation).
    reached : pandas.DataFrame
        network, criterion_epoch: the first epoch whose training accuracy reached the criterion
        (NaN: never).
    analysis : ExcitableNetwork
        The analysis of all snapshots (replicate s·R + r is snapshot s of network r).
    """

    summary: pd.DataFrame
    reached: pd.DataFrame
    analysis: ExcitableNetwork


def during_training(arch: str, automaton: Automaton, *, replicates: int = 4, epochs: int = 150, every: int = 10,
                    samples: int = 1024, batch: int = 256, noise: float = 0.1, criterion: float = 1.0,
                    hidden: int = 12, lr: float = 1e-2, seed: int = 0, n_seeds: int = 64,
                    **options) -> TrainingSnapshots:
    """Train ``replicates`` flip-flop networks with ``irn.train.fit`` and analyse them every ``every``
    epochs (epoch 0: untrained).

    Training: ``samples`` flip-flop sequences with input noise ``noise`` (``tasks.sample``), Adam at
    ``lr`` in minibatches of ``batch``, for ``epochs`` epochs (no early stop, so the snapshots run
    past the criterion). Every snapshot's weights are stacked as replicates of one model and
    ``excitable_network`` (with ``n_seeds`` and ``options``) runs on all of them at once, seeded from
    flip-flop streams.

    Parameters
    ----------
    arch : str
        "rnn", "gru" or "lstm".
    automaton : Automaton
        ``flipflop_automaton()``.
    replicates, epochs, every
        Networks trained, epochs, and the snapshot interval.
    samples, batch, noise, criterion, hidden, lr, seed
        The training data, minibatch size, input noise, the accuracy criterion marked in
        ``reached``, nodes, learning rate and seed.
    n_seeds, **options
        Passed to ``excitable_network``.

    Returns
    -------
    TrainingSnapshots
    """
    params.require(arch, "arch", params.one_of(("rnn", "gru", "lstm")))
    if not isinstance(automaton, Automaton) or automaton.name != "flipflop":
        raise ValueError("automaton must be the flip-flop's (irn.attractors.flipflop_automaton())")
    for name, value, low in (("replicates", replicates, 1), ("epochs", epochs, 1), ("every", every, 1),
                             ("samples", samples, 1), ("batch", batch, 1), ("hidden", hidden, 1),
                             ("n_seeds", n_seeds, 1)):
        params.check_count(value, name, low)
    params.require(noise, "noise", params.number(0))
    params.require(criterion, "criterion", params.SHARE)
    params.require(lr, "lr", params.number(0, closed=False))
    params.require(seed, "seed", params.SEED)
    data = tasks.sample("flipflop", samples, "random", noise, seed=seed)
    model = Stacked(arch, replicates, 3, hidden, seeds=[seed * 1000 + r for r in range(replicates)])
    kept = {0: {k: v.detach().clone() for k, v in model.state_dict().items()}}

    def keep(epoch, work):
        if (epoch + 1) % every == 0:
            kept[epoch + 1] = {k: v.detach().clone() for k, v in work.state_dict().items()}

    fit = train.fit(model, data.inputs, data.targets, data.answer_step, epochs=epochs, lr=lr, batch=batch,
                    seed=seed, progress=False, on_epoch=keep)
    epochs_kept = sorted(kept)
    stacked = Stacked(arch, replicates * len(epochs_kept), 3, hidden)
    stacked.load_state_dict({k: torch.cat([kept[e][k] for e in epochs_kept]) for k in kept[0]})
    stream = tasks.flipflop_stream(50, 100, seed=seed)
    analysis = excitable_network(stacked, automaton, stream.inputs, n_seeds=n_seeds, seed=seed, **options)
    history = fit.history
    summary = analysis.summary.copy()
    summary["epoch"] = [epochs_kept[r // replicates] for r in summary.replicate]
    summary["network"] = summary.replicate % replicates
    with torch.no_grad():
        out = stacked(data.inputs).output[:, torch.arange(len(data.inputs)), data.answer_step]
    summary["accuracy"] = ((out > 0) == (data.targets > 0)).float().mean((1, 2)).numpy()[summary.replicate]
    summary["stream_accuracy"] = train.evaluate_flipflop(stacked, seed=seed).accuracy.to_numpy()[summary.replicate]
    reached = history[history.accuracy >= criterion].groupby("replicate").epoch.min()
    reached = pd.DataFrame({"network": range(replicates),
                            "criterion_epoch": [reached.get(r, np.nan) for r in range(replicates)]})
    return TrainingSnapshots(summary, reached, analysis)


# -- controls, behaviour, held inputs, noise -------------------------------------------------------
def planted_flipflop(input_weights=(2.5, 2.5, 2.5), self_weight: float = 2.0, readout: float = 3.0) -> Stacked:
    """A hand-built flip-flop: three decoupled bistable units x_k' = tanh(w x_k + v_k u_k).

    With self-excitation w = 2 each unit holds ±x* (x* = 0.9575, the root of x = tanh(2x)) and a
    one-step pulse flips it above 2x*/v_k: v_k = 2.5 switches with the task's unit pulse (threshold
    0.77), v_k = 1 does not (threshold 1.92). The readout is ``readout`` · x_k per bit. The planted
    case of chapter 8's controls: its 27 fixed points and 24 connections are known in closed form.

    Parameters
    ----------
    input_weights : sequence of 3 float
        v_k, the input weight of each channel.
    self_weight : float
        w, each unit's self-excitation.
    readout : float
        The readout weight of each bit.

    Returns
    -------
    irn.models.Stacked
        One replicate, 3 inputs, 3 nodes, 3 outputs.
    """
    params.require(input_weights, "input_weights", params.sequence(params.number(), min_length=3))
    if len(input_weights) != 3:
        raise ValueError(f"input_weights must hold 3 numbers (one per channel), got {len(input_weights)}")
    params.require(self_weight, "self_weight", params.number())
    params.require(readout, "readout", params.number())
    m = Stacked("rnn", 1, 3, hidden=3)
    with torch.no_grad():
        for p in m.parameters():
            p.zero_()
        m.weight_hh[0] = float(self_weight) * torch.eye(3)
        m.weight_ih[0] = torch.diag(torch.tensor([float(v) for v in input_weights]))
        m.readout_weight[0] = float(readout) * torch.eye(3)
    return m


@dataclass(frozen=True)
class Behaviour:
    """What a network does on the task's own streams, located on its excitable network.

    Attributes
    ----------
    events : pandas.DataFrame
        ``transitions`` output.
    graph : pandas.DataFrame
        ``used_graph`` output.
    errors : pandas.DataFrame
        ``error_events`` output.
    test : pandas.DataFrame
        ``errors_on_flawed`` output (one row per network).
    """

    events: pd.DataFrame
    graph: pd.DataFrame
    errors: pd.DataFrame
    test: pd.DataFrame


def behaviour(model: Stacked, found: ExcitableNetwork, stream) -> Behaviour:
    """Transitions on the flip-flop streams ``stream`` (``irn.tasks.flipflop_stream``), the graph they
    use against the probed one, the task errors per pulse and the test of whether errors follow
    flawed switches, for every replicate of ``model`` (whose ``found`` is its ``excitable_network``).

    Parameters
    ----------
    model : irn.models.Stacked
    found : ExcitableNetwork
        ``excitable_network(model, flipflop_automaton(), …)``.
    stream : irn.tasks.Stream
        Flip-flop streams (inputs and targets).

    Returns
    -------
    Behaviour
    """
    _check_model(model)
    if not isinstance(found, ExcitableNetwork):
        raise ValueError(f"found must be an irn.attractors.ExcitableNetwork, got {type(found).__name__}")
    events = transitions(model, found.points, getattr(stream, "inputs", None))
    graph = used_graph(events, found.landing, found.automaton.amplitude)
    errors = error_events(model, events, stream, found.comparison, found.points)
    return Behaviour(events, graph, errors, errors_on_flawed(errors))


def _names(found: ExcitableNetwork) -> dict:
    return {(r, p): lab for r, p, lab in zip(found.points.replicate, found.points.point, found.points.label)}


def fold_thresholds(model: Stacked, found: ExcitableNetwork, switches: bool = True, **options) -> pd.DataFrame:
    """The held input that removes each stable point (``folds``) beside the one-step pulse that
    moves it (the lowest threshold of the same channel and sign).

    Parameters
    ----------
    model : irn.models.Stacked
    found : ExcitableNetwork
        ``excitable_network`` of ``model``.
    switches : bool
        Continue only the stable points and pulses of the automaton's switches (False: every
        stable point with every channel and sign).
    **options
        Passed to ``folds`` (channels, signs, max_amplitude, step, tol, settle_steps, match_tol).

    Returns
    -------
    pandas.DataFrame
        ``folds`` columns (replicate, source, channel, sign, fold, lands) with threshold and target
        (of the pulse's lowest-threshold connection; NaN and −1 without one), source_state,
        fold_state and pulse_state (the task states of source, ``lands`` and ``target``; "" none).
    """
    _check_model(model)
    if not isinstance(found, ExcitableNetwork):
        raise ValueError(f"found must be an irn.attractors.ExcitableNetwork, got {type(found).__name__}")
    only = options.pop("only", None)
    if switches:
        c = found.comparison.edges
        names = {(r, lab): p for (r, p), lab in _names(found).items() if lab}
        only = pd.DataFrame({"replicate": c.replicate, "source": [names.get((r, s), -1) for r, s in
                                                                   zip(c.replicate, c.source)],
                             "channel": c.channel, "sign": c.sign})
    out = folds(model, found.points, only=only, **options)
    first = found.edges[found.edges["first"]][["replicate", "source", "channel", "sign", "threshold", "target"]]
    out = out.merge(first, on=["replicate", "source", "channel", "sign"], how="left")
    out["target"] = out.target.fillna(-1).astype(int)
    names = _names(found)
    for col, key in (("source_state", "source"), ("fold_state", "lands"), ("pulse_state", "target")):
        out[col] = [names.get((r, p), "") for r, p in zip(out.replicate, out[key])]
    return out


def noise_thresholds(model: Stacked, found: ExcitableNetwork, noise_levels, **options) -> pd.DataFrame:
    """``transition_probabilities`` of every network, each transition source → target beside the
    lowest threshold of any pulse connecting them (NaN: no pulse does).

    Parameters
    ----------
    model : irn.models.Stacked
    found : ExcitableNetwork
        ``excitable_network`` of ``model``.
    noise_levels : sequence of float
        Standard deviations of the input noise.
    **options
        Passed to ``transition_probabilities`` (pulse_steps, trials, settle_steps, match_tol, seed).

    Returns
    -------
    pandas.DataFrame
        replicate, source, target, noise, probability, threshold.
    """
    _check_model(model)
    if not isinstance(found, ExcitableNetwork):
        raise ValueError(f"found must be an irn.attractors.ExcitableNetwork, got {type(found).__name__}")
    out = transition_probabilities(model, found.points, noise_levels, **options)
    low = found.edges.groupby(["replicate", "source", "target"]).threshold.min().rename("threshold").reset_index()
    return out.merge(low, on=["replicate", "source", "target"], how="left")


LANDING_KINDS = ("stays", "the expected switch", "another task state", "no listed state")


def landing_frame(found: ExcitableNetwork, replicate: int = 0) -> pd.DataFrame:
    """The landing map of one replicate with task names, for ``irn.plots.attractors.landing_map``.

    Parameters
    ----------
    found : ExcitableNetwork
    replicate : int
        Which network.

    Returns
    -------
    pandas.DataFrame
        One row per run of the landing map from a labelled stable point: row ("state, channel k±"),
        source_state, channel, sign, start, end, target_state ("" none) and kind (one of
        ``LANDING_KINDS``: back to the source, the automaton's switch for that pulse, another
        task state, or no labelled state).
    """
    if not isinstance(found, ExcitableNetwork):
        raise ValueError(f"found must be an irn.attractors.ExcitableNetwork, got {type(found).__name__}")
    params.require(replicate, "replicate", params.index(int(found.summary.replicate.max())))
    names = _names(found)
    expected = {(x.source, x.channel, x.sign): x.target for x in found.automaton.edges.itertuples()}
    lm = found.landing[found.landing.replicate == replicate].copy()
    lm["source_state"] = [names.get((replicate, p), "") for p in lm.source]
    lm = lm[lm.source_state != ""]
    lm["target_state"] = [names.get((replicate, p), "") for p in lm.target]
    lm["row"] = [f"{s}, channel {c + 1}{'+' if g > 0 else '−'}" for s, c, g in zip(lm.source_state, lm.channel, lm.sign)]
    lm["kind"] = [LANDING_KINDS[0] if t == p else LANDING_KINDS[3] if not lab else
                  LANDING_KINDS[1] if expected.get((s, c, g)) == lab else LANDING_KINDS[2]
                  for t, p, lab, s, c, g in zip(lm.target, lm.source, lm.target_state, lm.source_state, lm.channel,
                                                lm.sign)]
    return lm.sort_values(["source_state", "channel", "sign", "start"], ascending=[True, True, False, True],
                          ignore_index=True)[["row", "source_state", "channel", "sign", "start", "end",
                                              "target_state", "kind"]]


# -- frames for the chapter's figures -------------------------------------------------------------
@dataclass(frozen=True)
class StateMap:
    """One replicate's state space on the first two principal components of its trajectories.

    Attributes
    ----------
    trajectory : pandas.DataFrame
        pc1, pc2 of subsampled visited states.
    points : pandas.DataFrame
        The ``fixed_points`` rows of the replicate with pc1, pc2 and type ("stable", "saddle",
        "slow").
    edges : pandas.DataFrame
        Its ``network`` rows that land on a listed point, with the end points' coordinates (x, y,
        x2, y2).
    explained : float
        Variance share of the two components.
    """

    trajectory: pd.DataFrame
    points: pd.DataFrame
    edges: pd.DataFrame
    explained: float


def state_map(model: Stacked, inputs, points: pd.DataFrame, edges: pd.DataFrame, replicate: int = 0,
              max_states: int = 2000, seed: int = 0) -> StateMap:
    """PCA of the states one replicate visits, with its fixed points and excitable connections
    projected on the same two components (for plotting).

    Parameters
    ----------
    model : irn.models.Stacked
    inputs : array or tensor, shape (batch, steps, n_inputs)
        Task inputs whose visited states define the components.
    points, edges : pandas.DataFrame
        ``fixed_points`` (labelled or not) and ``network`` frames of ``model``.
    replicate : int
        Which network.
    max_states, seed
        How many visited states are kept (a random subset) for the drawing.

    Returns
    -------
    StateMap
    """
    _check_model(model)
    params.require(replicate, "replicate", params.index(model.replicates - 1))
    params.check_count(max_states, "max_states", 2)
    params.require(seed, "seed", params.SEED)
    x, _ = trajectory_states(model, inputs)
    x = x[int(replicate)].double().numpy()
    mean = x.mean(axis=0)
    _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
    explained = float((s[:2] ** 2).sum() / (s ** 2).sum())
    pick = np.random.default_rng(seed).choice(len(x), size=min(max_states, len(x)), replace=False)
    pc = (x[pick] - mean) @ vt[:2].T
    traj = pd.DataFrame({"pc1": pc[:, 0], "pc2": pc[:, 1]})
    pts = points[points.replicate == replicate].copy()
    xy = (_states_of(pts, model) - mean) @ vt[:2].T
    pts["pc1"], pts["pc2"] = xy[:, 0], xy[:, 1]
    pts["type"] = np.where(pts.stable, "stable", np.where(pts.kind == "slow", "slow", "saddle"))
    where = pts.set_index("point")[["pc1", "pc2"]]
    e = edges[(edges.replicate == replicate) & (edges.target >= 0)].copy()
    e["x"], e["y"] = where.pc1.reindex(e.source).to_numpy(), where.pc2.reindex(e.source).to_numpy()
    e["x2"], e["y2"] = where.pc1.reindex(e.target).to_numpy(), where.pc2.reindex(e.target).to_numpy()
    return StateMap(traj, pts.drop(columns=state_names(model)), e, explained)


def movement(model: Stacked, points: pd.DataFrame, net: pd.DataFrame) -> pd.DataFrame:
    """How far each hidden node moves along each channel's excitable connections.

    For every connection of ``net`` that lands on a listed stable point, |h_j(target) − h_j(source)|
    per hidden node j (h only, also for LSTM), averaged per replicate and channel: the bridge to the
    relay method (compare with a concept's relay contributions).

    Parameters
    ----------
    model : irn.models.Stacked
    points, net : pandas.DataFrame
        ``fixed_points`` and ``network`` frames of ``model``.

    Returns
    -------
    pandas.DataFrame
        replicate, channel, node, movement.
    """
    _check_model(model)
    x = _states_of(points, model)[:, :model.hidden]
    where = {(r, p): i for i, (r, p) in enumerate(zip(points.replicate, points.point))}
    rows = []
    for (r, ch), g in net[net.target >= 0].groupby(["replicate", "channel"]):
        d = np.abs(np.stack([x[where[(r, t)]] - x[where[(r, s)]] for s, t in zip(g.source, g.target)])).mean(0)
        rows += [(int(r), int(ch), j, float(v)) for j, v in enumerate(d)]
    return pd.DataFrame(rows, columns=["replicate", "channel", "node", "movement"])


__all__ = ["LANDING_KINDS", "PROBE_SETTLE", "Behaviour", "ExcitableNetwork", "StateMap", "TrainingSnapshots",
           "behaviour", "during_training", "excitable_network", "fold_thresholds", "landing_frame", "movement",
           "noise_thresholds", "planted_flipflop", "state_map"]
