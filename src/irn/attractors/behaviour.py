"""The excitable network read from behaviour: the transitions a network makes on the task's own
input streams, set against the connections found by probing, and where its task errors fall.

Ceni, Ashwin & Livi extract the network attractor "directly from the trajectory of a neural network
while solving tasks". Here every input pulse of a stream is one observed transition: the state just
before the pulse and the state right after it are each left to settle without input, and the
stable points they settle on are the transition's source and target (a deterministic map sends a
state and every later input-free state of it to the same place, so one settling per pulse suffices).
``used_graph`` compares those transitions with the landing map at the task's amplitude, and
``error_events`` charges every wrong output of the stream to the transition it followed, so a test
(``errors_on_flawed``) can ask whether errors fall after switches the probed network lacks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from scipy.stats import fisher_exact

from irn import params
from irn.attractors.automata import Comparison, flipflop_name
from irn.attractors.connections import LANDING_COLUMNS
from irn.attractors.maps import _check_inputs, _check_model, _Map, _settle
from irn.attractors.points import _capture, _label, _stable_lists
from irn.models import Stacked

EVENT_COLUMNS = ["replicate", "sequence", "step", "channel", "sign", "source", "target"]
GRAPH_COLUMNS = ["replicate", "source", "target", "channel", "sign", "used", "probed", "kind"]
GRAPH_KINDS = ("seen", "probed only", "used only")


def transitions(model: Stacked, points: pd.DataFrame, inputs, *, settle_steps: int = 300,
                match_tol: float = 1e-2) -> pd.DataFrame:
    """Every input pulse of ``inputs`` as a transition between stable points.

    Parameters
    ----------
    model : irn.models.Stacked
    points : pandas.DataFrame
        A ``fixed_points`` frame of ``model`` (its stable points name the transitions' ends).
    inputs : array, shape (batch, steps, n_inputs)
        The task's input streams (e.g. ``tasks.flipflop_stream(...).inputs``).
    settle_steps, match_tol
        How long a state is left to settle, and how close it must come to a stable point.

    Returns
    -------
    pandas.DataFrame
        One row per (replicate, pulse): replicate, sequence, step, channel (−1 when several channels
        pulse at once), sign (of that channel's pulse; 0 for several), source and target (``point``
        numbers of the stable points the state before and after the pulse settle on; −1 none listed).
    """
    _check_model(model)
    x_in = _check_inputs(model, inputs)
    params.check_count(settle_steps, "settle_steps", 10)
    params.require(match_tol, "match_tol", params.number(0, closed=False))
    stable, ids = _stable_lists(model, points)
    with torch.no_grad():
        trace = model(x_in)
    states = trace.hidden if trace.cell is None else torch.cat([trace.hidden, trace.cell], -1)
    # (R, B, T, D), float32 as the model ran it: the settled states only name stable points
    states = states.float()
    pulse = (x_in != 0).any(-1).numpy()  # (B, T)
    seq, step = np.nonzero(pulse)
    if len(seq) == 0:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    m = _Map(model, torch.float32)
    after = states[:, torch.from_numpy(seq), torch.from_numpy(step)]  # (R, E, D)
    first = np.r_[True, seq[1:] != seq[:-1]]
    before = torch.zeros(model.replicates, int(first.sum()), states.shape[-1], dtype=torch.float32)
    lead = step[first] > 0
    before[:, torch.from_numpy(lead)] = states[:, torch.from_numpy(seq[first][lead]), torch.from_numpy(step[first][lead] - 1)]
    capture = _capture(stable, states.shape[-1], match_tol)
    ends, _ = _settle(m, torch.cat([after, before], 1), settle_steps, None,
                      None if capture is None else (capture[0].float(), capture[1]))
    lab = _label(ends, stable, match_tol)
    e = len(seq)
    target = lab[:, :e]
    source = np.empty_like(target)
    source[:, first] = lab[:, e:]
    source[:, ~first] = target[:, np.flatnonzero(~first) - 1]
    ch_count = (x_in != 0).sum(-1).numpy()[seq, step]
    channel = np.where(ch_count == 1, (x_in != 0).int().argmax(-1).numpy()[seq, step], -1)
    sign = np.where(channel >= 0, np.sign(x_in.numpy()[seq, step, np.maximum(channel, 0)]), 0).astype(int)
    named = [np.array([ids[r][k] if k >= 0 else -1 for k in row], dtype=np.int64) for r, row in enumerate(source)]
    named_t = [np.array([ids[r][k] if k >= 0 else -1 for k in row], dtype=np.int64) for r, row in enumerate(target)]
    frames = [pd.DataFrame({"replicate": r, "sequence": seq, "step": step, "channel": channel, "sign": sign,
                            "source": named[r], "target": named_t[r]}) for r in range(model.replicates)]
    return pd.concat(frames, ignore_index=True)[EVENT_COLUMNS]


def used_graph(events: pd.DataFrame, landing: pd.DataFrame, amplitude: float = 1.0) -> pd.DataFrame:
    """The transitions a network makes on its streams against those its probes predict.

    A probed connection is where the pulse of ``amplitude`` carries the state from a stable point
    (single-channel pulses that move it).

    Parameters
    ----------
    events : pandas.DataFrame
        ``transitions`` output.
    landing : pandas.DataFrame
        ``landing_map`` output of the same network.
    amplitude : float
        The task's pulse size.

    Returns
    -------
    pandas.DataFrame
        One row per connection in either graph: replicate, source, target, channel, sign, used (how
        many stream pulses made it), probed (the probe predicts it), kind ("seen": both, "probed
        only": never used on the streams, "used only": made on the streams but not by the probe's
        pulse from the stable point itself).
    """
    for name, frame, cols in (("events", events, EVENT_COLUMNS), ("landing", landing, LANDING_COLUMNS)):
        if not isinstance(frame, pd.DataFrame) or any(c not in frame for c in cols):
            raise ValueError(f"{name} must be a DataFrame with columns {cols}")
    params.require(amplitude, "amplitude", params.number(0, closed=False))
    keys = ["replicate", "source", "target", "channel", "sign"]
    moved = events[(events.channel >= 0) & (events.source >= 0) & (events.source != events.target)]
    used = moved.groupby(keys).size().rename("used").reset_index()
    at = landing[(landing.start < amplitude) & (landing.end >= amplitude) & (landing.target != landing.source)]
    probed = at[keys].drop_duplicates().assign(probed=True)
    out = used.merge(probed, on=keys, how="outer")
    out["used"] = out.used.fillna(0).astype(int)
    out["probed"] = out.probed.fillna(False).astype(bool)
    out["kind"] = np.where(out.probed & (out.used > 0), "seen", np.where(out.probed, "probed only", "used only"))
    return out.sort_values(keys, ignore_index=True)[GRAPH_COLUMNS]


# -- task errors on the graph ---------------------------------------------------------------------
ERROR_COLUMNS = ["replicate", "sequence", "step", "kind", "source_state", "target_state", "channel", "sign",
                 "status", "task_status", "observed", "observed_ok", "scored", "errors", "held_errors"]


def error_events(model: Stacked, events: pd.DataFrame, stream, comparison: Comparison,
                 points: pd.DataFrame) -> pd.DataFrame:
    """Every flip-flop stream pulse with the task errors that follow it, located on the automaton.

    Each wrong output of the stream (a scored step whose output sign differs from the held sign) is
    charged to the pulse that started it: the latest pulse at or before the first step of its run
    of wrong outputs of that bit (so a bit left wrong by one pulse is not charged to the pulses
    that follow while it stays wrong). The pulse's expected switch comes
    from the task's targets: held signs just before → just after the pulse ("switch" when they
    differ on one channel; "hold" when the pulse repeats the held sign; "incomplete" before every
    channel has been pulsed once; "multi" when several channels pulse at once).

    Parameters
    ----------
    model : irn.models.Stacked
    events : pandas.DataFrame
        ``transitions`` output for ``stream.inputs``.
    stream : irn.tasks.Stream
        The flip-flop streams (inputs and targets, each (batch, steps, 3)).
    comparison : Comparison
        ``compare`` output for the same network (its edges give each switch's status).
    points : pandas.DataFrame
        The labelled ``fixed_points`` frame (names the observed target).

    Returns
    -------
    pandas.DataFrame
        One row per (replicate, pulse): replicate, sequence, step, kind, source_state and
        target_state (automaton states; "" unless a switch or hold), channel, sign, status and
        task_status (of the expected switch in ``comparison``; "" unless a switch), observed (the
        state the network actually settled on after the pulse, "" none), observed_ok, scored
        (scored output values charged to the pulse), errors (wrong ones), held_errors (wrong ones
        two or more steps after the pulse).
    """
    _check_model(model)
    if not isinstance(comparison, Comparison):
        raise ValueError(f"comparison must be an irn.attractors.Comparison, got {type(comparison).__name__}")
    inputs = _check_inputs(model, getattr(stream, "inputs", None), "stream.inputs")
    targets = params.array(getattr(stream, "targets", None), "stream.targets", shape=tuple(inputs.shape))
    with torch.no_grad():
        out = model(inputs).output.numpy()  # (R, B, T, K)
    scored = targets != 0
    wrong = scored[None] & ((out > 0) != (targets[None] > 0))  # (R, B, T, K)
    x = inputs.numpy()
    pulse = (x != 0).any(-1)
    seq, step = np.nonzero(pulse)
    n_b, n_t = pulse.shape
    steps = np.arange(n_t)
    latest = np.maximum.accumulate(np.where(pulse, steps[None], -1), axis=1)  # latest pulse at or before t
    event_of = np.full((n_b, n_t), -1)
    event_of[seq, step] = np.arange(len(seq))
    n_events = len(seq)
    # scored outputs between a pulse and the next one are its denominator
    bi, ti = np.nonzero(latest >= 0)
    total = np.bincount(event_of[bi, latest[bi, ti]], weights=scored[bi, ti].sum(-1), minlength=n_events).astype(int)
    # a run of wrong outputs of one bit is charged to the latest pulse at or before the run's first step
    before = np.concatenate([np.zeros_like(wrong[:, :, :1]), wrong[:, :, :-1]], axis=2)
    onset = np.where(wrong & ~before, steps[None, None, :, None], -1)
    run_start = np.maximum.accumulate(onset, axis=2)
    r_i, b_i, t_i, k_i = np.nonzero(wrong)
    owner = latest[b_i, run_start[r_i, b_i, t_i, k_i]]
    keep = owner >= 0
    r_i, b_i, t_i, owner = r_i[keep], b_i[keep], t_i[keep], owner[keep]
    charged = event_of[b_i, owner]
    held = (t_i - owner) >= 2
    # the expected switch of each pulse, from the task's targets
    before = np.where((step > 0)[:, None], targets[seq, np.maximum(step - 1, 0)], 0.0)
    after = targets[seq, step]
    n_channels = (x[seq, step] != 0).sum(-1)
    kind = np.where(n_channels > 1, "multi", np.where((before == 0).any(-1), "incomplete",
                                                        np.where((before == after).all(-1), "hold", "switch")))
    named = np.isin(kind, ("switch", "hold"))
    src = np.array([flipflop_name(v) if ok else "" for v, ok in zip(before, named)], dtype=object)
    tgt = np.array([flipflop_name(v) if ok else "" for v, ok in zip(after, named)], dtype=object)
    channel = np.where(n_channels == 1, (x[seq, step] != 0).argmax(-1), -1)
    sign = np.where(n_channels == 1, np.sign(x[seq, step, np.maximum(channel, 0)]), 0).astype(int)
    frames = []
    for r in range(model.replicates):
        mine = r_i == r
        frames.append(pd.DataFrame({
            "replicate": r, "sequence": seq, "step": step, "kind": kind, "source_state": src, "target_state": tgt,
            "channel": channel, "sign": sign, "scored": total,
            "errors": np.bincount(charged[mine], minlength=n_events).astype(int),
            "held_errors": np.bincount(charged[mine], weights=held[mine], minlength=n_events).astype(int)}))
    table = pd.concat(frames, ignore_index=True)
    status = comparison.edges[["replicate", "source", "target", "status", "task_status"]].rename(
        columns={"source": "source_state", "target": "target_state"})
    table = table.merge(status, on=["replicate", "source_state", "target_state"], how="left")
    switch = table.kind == "switch"
    table["status"] = table.status.where(switch, "").fillna("")
    table["task_status"] = table.task_status.where(switch, "").fillna("")
    names = points[["replicate", "point", "label"]].rename(columns={"point": "target"})
    seen = events[["replicate", "sequence", "step", "target"]].merge(names, on=["replicate", "target"], how="left")
    table = table.merge(seen.drop(columns="target").rename(columns={"label": "observed"}),
                        on=["replicate", "sequence", "step"], how="left")
    table["observed"] = table.observed.fillna("")
    table["observed_ok"] = (table.target_state != "") & (table.observed == table.target_state)
    return table[ERROR_COLUMNS]


TEST_COLUMNS = ["replicate", "flawed", "flawed_with_errors", "sound", "sound_with_errors", "difference", "p_value"]


def errors_on_flawed(table: pd.DataFrame, by: str = "task_status") -> pd.DataFrame:
    """Per network: do task errors follow switches the probed network lacks more often than sound ones?

    Among "switch" pulses, a pulse is *flawed* when its status is not "correct", *sound* otherwise; a
    pulse is followed by errors when any output charged to it is wrong. Fisher's exact test
    (two-sided) per network that has both kinds.

    Parameters
    ----------
    table : pandas.DataFrame
        ``error_events`` output.
    by : str
        "task_status" (the switch as the task's own pulse makes it from the stable point) or
        "status" (the per-connection threshold).

    Returns
    -------
    pandas.DataFrame
        replicate, flawed, flawed_with_errors, sound, sound_with_errors, difference (share with
        errors, flawed − sound), p_value (NaN when a network lacks either kind).
    """
    if not isinstance(table, pd.DataFrame) or any(c not in table for c in ERROR_COLUMNS):
        raise ValueError(f"table must be error_events output with columns {ERROR_COLUMNS}")
    params.require(by, "by", params.one_of(("task_status", "status")))
    rows = []
    for r, g in table[table.kind == "switch"].groupby("replicate"):
        flawed = g[g[by] != "correct"]
        sound = g[g[by] == "correct"]
        fe, se = int((flawed.errors > 0).sum()), int((sound.errors > 0).sum())
        if len(flawed) and len(sound):
            p = float(fisher_exact([[fe, len(flawed) - fe], [se, len(sound) - se]]).pvalue)
            diff = fe / len(flawed) - se / len(sound)
        else:
            p, diff = np.nan, np.nan
        rows.append((int(r), len(flawed), fe, len(sound), se, diff, p))
    return pd.DataFrame(rows, columns=TEST_COLUMNS)


__all__ = [
    "ERROR_COLUMNS",
    "EVENT_COLUMNS",
    "GRAPH_COLUMNS",
    "GRAPH_KINDS",
    "TEST_COLUMNS",
    "error_events",
    "errors_on_flawed",
    "transitions",
    "used_graph",
]
