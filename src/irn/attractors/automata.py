"""The automaton a task asks for, and the excitable network compared with it.

A task with a finite set of held states and switches between them is an automaton: the 3-bit
flip-flop is the cube (8 states, 24 switches), the memory task a tree of held states
(1 → 2 → 4 → 8). ``label_points`` names a network's stable points after the states whose probe
inputs settle on them; ``compare`` counts, per network, the states found and each expected
switch as correct (a connection of that channel and sign joins the two states' points), wrong
(the pulse only lands elsewhere) or missing; ``held_states`` asks whether the states a network is
asked to hold only for a few steps are slow points of its dynamics rather than fixed points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from irn import params
from irn.attractors.connections import EDGE_COLUMNS, LANDING_COLUMNS
from irn.attractors.maps import _check_model, _Map, _settle, state_size
from irn.attractors.points import _adam, _capture, _label, _newton, _speed, _stable_lists
from irn.models import Stacked

#: The memory task's state before any input (the tree's root).
ROOT = "start"
STATUSES = ("correct", "wrong", "missing")


@dataclass(frozen=True)
class Automaton:
    """The states a task asks a network to hold and the input pulses that switch between them.

    Attributes
    ----------
    name : str
        "flipflop", "memory" or a name of yours.
    states : tuple of str
        Names of the held states.
    edges : pandas.DataFrame
        The switches: source, target (state names), channel, sign.
    amplitude : float
        The task's pulse size (for the margin).
    probes : dict of str to ndarray, shape (n, steps, n_inputs), float32
        Per state, input sequences after which the network should hold it (a stable point takes the
        state's name when the probes' trajectories settle on it).
    """

    name: str
    states: tuple
    edges: pd.DataFrame
    amplitude: float
    probes: dict


def flipflop_automaton(n_inputs: int = 3, probe_steps: int = 8, amplitude: float = 1.0) -> Automaton:
    """The flip-flop's automaton: the n-cube.

    2^n states (a sign per channel, named like "+−+") and n·2^n switches: a pulse of sign s on
    channel k flips bit k to s (a pulse equal to the held sign is no switch). Probes: every channel
    pulsed once with its state's sign, then input-free steps.

    Parameters
    ----------
    n_inputs : int
        Channels (bits).
    probe_steps : int
        Input-free steps after the pulses of each probe.
    amplitude : float
        The task's pulse size (> 0).

    Returns
    -------
    Automaton
    """
    params.check_count(n_inputs, "n_inputs", 1)
    params.check_count(probe_steps, "probe_steps", 1)
    params.require(amplitude, "amplitude", params.number(0, closed=False))
    combos = [tuple(1 if (b >> k) & 1 else -1 for k in range(n_inputs)) for b in range(2 ** n_inputs)]
    edges = []
    for c in combos:
        for k in range(n_inputs):
            flipped = tuple(-v if j == k else v for j, v in enumerate(c))
            edges.append((flipflop_name(c), flipflop_name(flipped), k, flipped[k]))
    probes = {}
    for c in combos:
        x = np.zeros((1, n_inputs + probe_steps, n_inputs), np.float32)
        for k, v in enumerate(c):
            x[0, k, k] = amplitude * v
        probes[flipflop_name(c)] = x
    return Automaton("flipflop", tuple(flipflop_name(c) for c in combos),
                     pd.DataFrame(edges, columns=["source", "target", "channel", "sign"]), float(amplitude), probes)


def flipflop_name(signs) -> str:
    """The flip-flop state of held signs.

    Parameters
    ----------
    signs : sequence of ±1
        The held sign of each channel.

    Returns
    -------
    str
        E.g. (1, −1, 1) → "+−+".
    """
    return "".join("+" if v > 0 else "−" for v in signs)


def memory_automaton(steps=(3, 6, 9), probe_steps: int = 8, amplitude: float = 1.0) -> Automaton:
    """The memory task's automaton: a tree of held states, ``ROOT`` (nothing yet) → A± → A±B± →
    A±B±C± (1 → 2 → 4 → 8), with the edge from a level-k state on channel k with the pulse's sign.

    Parameters
    ----------
    steps : sequence of 3 int
        0-based steps of the three pulses (the task's 3, 6, 9). Each probe holds the task's inputs up
        to the pulse that enters its state, then input-free steps until the next pulse.
    probe_steps : int
        Input-free steps after the last pulse in the probes of the final states.
    amplitude : float
        The task's pulse size (> 0).

    Returns
    -------
    Automaton
    """
    params.require(steps, "steps", params.rule(
        lambda s: isinstance(s, (list, tuple)) and len(s) == 3 and all(params.integer(low=0).ok(v) for v in s)
        and list(s) == sorted(set(s)), "3 increasing non-negative steps"))
    params.check_count(probe_steps, "probe_steps", 1)
    params.require(amplitude, "amplitude", params.number(0, closed=False))
    steps = tuple(int(s) for s in steps)
    letters = "ABC"

    def name(c):
        return "".join(f"{letters[k]}{'+' if v > 0 else '−'}" for k, v in enumerate(c)) or ROOT

    levels = [[()]]
    for _ in range(3):
        levels.append([c + (v,) for c in levels[-1] for v in (-1, 1)])
    states, edges, probes = [], [], {}
    ends = [steps[0], steps[1], steps[2], steps[2] + 1 + probe_steps]
    for k, level in enumerate(levels):
        for c in level:
            states.append(name(c))
            x = np.zeros((1, ends[k], 3), np.float32)
            for j, v in enumerate(c):
                x[0, steps[j], j] = amplitude * v
            probes[name(c)] = x
            if k < 3:
                for v in (-1, 1):
                    edges.append((name(c), name(c + (v,)), k, v))
    return Automaton("memory", tuple(states), pd.DataFrame(edges, columns=["source", "target", "channel", "sign"]),
                     float(amplitude), probes)


def state_level(name: str) -> int:
    """How many inputs a memory-task state has seen.

    Parameters
    ----------
    name : str
        A state of ``memory_automaton``.

    Returns
    -------
    int
        ``ROOT`` 0, "A+" 1, "A+B−" 2, "A+B−C+" 3.
    """
    return 0 if name == ROOT else len(name) // 2


def _check_automaton(model: Stacked, automaton) -> Automaton:
    if not isinstance(automaton, Automaton):
        raise ValueError(f"automaton must be an irn.attractors.Automaton, got {type(automaton).__name__}")
    for probe in automaton.probes.values():
        if np.asarray(probe).shape[-1] != model.n_inputs:
            raise ValueError(f"automaton {automaton.name!r} has {np.asarray(probe).shape[-1]} inputs, "
                             f"model has {model.n_inputs}")
    return automaton


def _probe_ends(model: Stacked, automaton: Automaton) -> dict:
    """state → (R, n, D) float64 state at the end of its probes."""
    out = {}
    for state, probe in automaton.probes.items():
        with torch.no_grad():
            trace = model(torch.as_tensor(probe, dtype=torch.float32))
        last = trace.hidden[:, :, -1] if trace.cell is None else torch.cat([trace.hidden[:, :, -1],
                                                                             trace.cell[:, :, -1]], -1)
        out[state] = last.double()
    return out


def label_points(model: Stacked, points: pd.DataFrame, automaton: Automaton, settle_steps: int = 300,
                 match_tol: float = 1e-2) -> pd.DataFrame:
    """Name the stable points after the automaton's states.

    Parameters
    ----------
    model : irn.models.Stacked
    points : pandas.DataFrame
        A ``fixed_points`` frame of ``model``.
    automaton : Automaton
    settle_steps, match_tol
        Input-free steps after each probe, and how close the settled state must come to a stable
        point.

    Returns
    -------
    pandas.DataFrame
        ``points`` with a ``label`` column: the state whose probe trajectories settle on that stable
        point ("" for none). A stable point reached from several states' probes is labelled with all
        of them joined by "|" (they are merged: the network cannot tell those states apart).
    """
    _check_model(model)
    _check_automaton(model, automaton)
    params.check_count(settle_steps, "settle_steps", 10)
    params.require(match_tol, "match_tol", params.number(0, closed=False))
    stable, ids = _stable_lists(model, points)
    m = _Map(model)
    capture = _capture(stable, state_size(model), match_tol)
    reached = {}
    for state, last in _probe_ends(model, automaton).items():
        end, _ = _settle(m, last, settle_steps, None, capture)
        lab = _label(end, stable, match_tol)
        for r in range(model.replicates):
            for k in lab[r][lab[r] >= 0]:
                reached.setdefault((r, int(ids[r][k])), []).append(state)
    out = points.copy()
    out["label"] = ["|".join(dict.fromkeys(reached.get((r, p), []))) if s else ""
                    for r, p, s in zip(points.replicate, points.point, points.stable)]
    return out


# -- found against expected -----------------------------------------------------------------------
@dataclass(frozen=True)
class Comparison:
    """Found against expected, per network and per expected switch.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per replicate — expected_states, stable_points, states_found (automaton states with
        a stable point of their own), merged (stable points carrying several states),
        edges_expected, edges_correct, edges_wrong, edges_missing, edges_spurious (connections
        between labelled points the automaton does not have), spurious_below (of those, with a
        threshold below the task's amplitude: the task's own pulse would take them),
        edges_resolved (correct switches whose smallest moving pulse lands elsewhere: marked wrong
        by a threshold that is not per connection), task_correct (switches the task's own pulse
        makes), cube (every state found, every switch correct), cube_first (the same judged by the
        first landing only), margin_min and margin_median (task amplitude / threshold over correct
        switches).
    edges : pandas.DataFrame
        One row per (replicate, expected switch) — source, target, channel, sign, status
        ("correct", "wrong", "missing"), threshold (of the connection to the target; else of the
        first landing), margin, first_target (the state where the smallest moving pulse lands; ""
        none labelled), first_status, task_target (where the task's own pulse lands; "" when no
        landing map was given), task_status, saddle (the index-1 saddle between the two points, −1
        none).
    """

    summary: pd.DataFrame
    edges: pd.DataFrame


def _check_frame(name: str, frame, columns, producer: str) -> None:
    if not isinstance(frame, pd.DataFrame) or any(c not in frame for c in columns):
        raise ValueError(f"{name} must be a DataFrame with columns {columns} ({producer} output)")


def compare(net: pd.DataFrame, points: pd.DataFrame, automaton: Automaton, landing: pd.DataFrame | None = None,
            replicates: int | None = None) -> Comparison:
    """Compare an excitable network with a task's automaton.

    Parameters
    ----------
    net : pandas.DataFrame
        ``network`` output (one row per source, target, channel and sign).
    points : pandas.DataFrame
        Its ``fixed_points`` frame labelled by ``label_points``.
    automaton : Automaton
    landing : pandas.DataFrame or None
        ``landing_map`` output, to say where the task's own pulse (``automaton.amplitude``) lands.
    replicates : int or None
        Number of networks (default: the replicates that appear in ``points``).

    Returns
    -------
    Comparison
        An expected switch source → target (channel, sign) is *correct* when the source state's
        stable point has a connection on that channel and sign to the target state's point, *wrong*
        when its pulses only land elsewhere, *missing* when the source state has no stable point of
        its own or no amplitude up to the scan's maximum moves it.
    """
    if not isinstance(automaton, Automaton):
        raise ValueError(f"automaton must be an irn.attractors.Automaton, got {type(automaton).__name__}")
    _check_frame("net", net, EDGE_COLUMNS, "network")
    _check_frame("points", points, ["replicate", "point", "stable", "label"], "label_points")
    if landing is not None:
        _check_frame("landing", landing, LANDING_COLUMNS, "landing_map")
    params.require(replicates, "replicates", params.optional(params.integer(low=1)))
    ids = range(replicates) if replicates is not None else sorted(points.replicate.unique())
    amplitude = automaton.amplitude
    expected = {(x.source, x.target, x.channel, x.sign) for x in automaton.edges.itertuples()}
    # connections by (replicate, source, channel, sign), lowest threshold first
    by_pulse: dict = {}
    for e in net.sort_values("threshold").itertuples():
        by_pulse.setdefault((e.replicate, e.source, e.channel, e.sign), []).append(e)
    task_lands = {}
    if landing is not None:
        at = landing[(landing.start < amplitude) & (landing.end >= amplitude)]
        task_lands = {(r, s, c, g): t for r, s, c, g, t in zip(at.replicate, at.source, at.channel, at.sign, at.target)}
    stable = points[points.stable.astype(bool)]
    rows, summary = [], []
    for r in ids:
        pts = stable[stable.replicate == r]
        own = {lab: int(p) for p, lab in zip(pts.point, pts.label) if lab and "|" not in lab}
        label_of = {int(p): lab for p, lab in zip(pts.point, pts.label)}
        mine = []
        for x in automaton.edges.itertuples():
            src, tgt = own.get(x.source), own.get(x.target)
            row = {"replicate": r, "source": x.source, "target": x.target, "channel": x.channel, "sign": x.sign,
                   "status": "missing", "threshold": np.nan, "margin": np.nan, "first_target": "",
                   "first_status": "missing", "task_target": "", "task_status": "missing", "saddle": -1}
            hits = by_pulse.get((r, src, x.channel, x.sign), []) if src is not None else []
            if hits:
                first = hits[0]
                to_target = [h for h in hits if tgt is not None and h.target == tgt]
                chosen = to_target[0] if to_target else first
                row.update(status="correct" if to_target else "wrong", threshold=float(chosen.threshold),
                           first_target=label_of.get(int(first.target), ""),
                           first_status="correct" if tgt is not None and first.target == tgt else "wrong",
                           saddle=int(chosen.saddle))
                if to_target:
                    row["margin"] = amplitude / float(chosen.threshold)
            if src is not None and (r, src, x.channel, x.sign) in task_lands:
                t = int(task_lands[(r, src, x.channel, x.sign)])
                row["task_target"] = "(stays)" if t == src else label_of.get(t, "")
                row["task_status"] = "correct" if tgt is not None and t == tgt else "wrong"
            mine.append(row)
        rows += mine
        spurious = [h for key, hs in by_pulse.items() if key[0] == r for h in hs
                    if label_of.get(int(h.source)) and label_of.get(int(h.target))
                    and (label_of[int(h.source)], label_of[int(h.target)], h.channel, h.sign) not in expected]
        margins = [row["margin"] for row in mine if row["status"] == "correct"]
        count = {s: sum(row["status"] == s for row in mine) for s in STATUSES}
        n_edges = len(automaton.edges)
        all_states = len(own) == len(automaton.states)
        summary.append({
            "replicate": r, "expected_states": len(automaton.states), "stable_points": len(pts),
            "states_found": len(own), "merged": int(sum("|" in lab for lab in pts.label)),
            "edges_expected": n_edges, "edges_correct": count["correct"], "edges_wrong": count["wrong"],
            "edges_missing": count["missing"], "edges_spurious": len(spurious),
            "spurious_below": sum(h.threshold < amplitude for h in spurious),
            "edges_resolved": sum(row["status"] == "correct" and row["first_status"] != "correct" for row in mine),
            "task_correct": sum(row["task_status"] == "correct" for row in mine),
            "cube": all_states and count["correct"] == n_edges,
            "cube_first": all_states and all(row["first_status"] == "correct" for row in mine),
            "margin_min": min(margins) if margins else np.nan,
            "margin_median": float(np.median(margins)) if margins else np.nan})
    return Comparison(pd.DataFrame(summary), pd.DataFrame(rows, columns=[
        "replicate", "source", "target", "channel", "sign", "status", "threshold", "margin", "first_target",
        "first_status", "task_target", "task_status", "saddle"]))


# -- held states: fixed or slow points? -------------------------------------------------------------
HELD_COLUMNS = ["replicate", "state", "level", "q_held", "kind", "q_point", "distance", "point", "own"]


def held_states(model: Stacked, automaton: Automaton, *, fixed_tol: float = 1e-14, slow_tol: float = 1e-4,
                near: float = 0.25, merge_tol: float = 1e-2, adam_steps: int = 200, lr: float = 1e-3,
                newton_steps: int = 30) -> pd.DataFrame:
    """Each state the automaton asks for, as the network holds it: its speed, and the fixed or slow
    point it sits on.

    For every state, the state reached at the end of its probe (where the task holds it) has speed
    q_held = ½‖F(x) − x‖². From there, q is descended locally (``adam_steps`` of Adam at ``lr``, then
    damped Newton) to the nearest minimum of q: a fixed point (q < ``fixed_tol``), a slow point
    (q < ``slow_tol``) or none, when the minimum is higher or farther than ``near`` (state units)
    from the held state.

    Parameters
    ----------
    model : irn.models.Stacked
    automaton : Automaton
        Its probes end where the task holds each state.
    fixed_tol, slow_tol
        q below which a minimum is a fixed point, a slow point.
    near : float
        The farthest a minimum may lie from the held state (state units).
    merge_tol : float
        Points closer than this (relative to max(1, ‖x‖)) are one point.
    adam_steps, lr, newton_steps
        The local descent.

    Returns
    -------
    pandas.DataFrame
        One row per (replicate, state): replicate, state, level (inputs seen, for the memory task;
        0 otherwise), q_held, kind ("fixed", "slow" or "none"), q_point, distance (from the held
        state to the point), point (a number per distinct point of the replicate, −1 for none), own
        (the point is held for this state alone).
    """
    _check_model(model)
    _check_automaton(model, automaton)
    for name, value in (("fixed_tol", fixed_tol), ("slow_tol", slow_tol), ("near", near), ("merge_tol", merge_tol),
                        ("lr", lr)):
        params.require(value, name, params.number(0, closed=False))
    if slow_tol < fixed_tol:
        raise ValueError(f"slow_tol must be >= fixed_tol ({fixed_tol}), got {slow_tol}")
    params.check_count(adam_steps, "adam_steps", 0)
    params.check_count(newton_steps, "newton_steps", 1)
    ends = _probe_ends(model, automaton)
    names = list(ends)
    held = torch.cat([ends[s][:, :1] for s in names], 1)  # (R, S, D): one probe per state
    m = _Map(model)
    q_held = _speed(m, held, None)
    x = _adam(model, held, None, adam_steps, lr) if adam_steps else held
    x = _newton(m, x, None, newton_steps, damping=1e-2)
    q = _speed(m, x, None)
    dist = (x - held).norm(dim=-1)
    kind = np.where(q.numpy() < fixed_tol, "fixed", np.where(q.numpy() < slow_tol, "slow", "none"))
    kind = np.where(dist.numpy() > near, "none", kind)
    rows = []
    for r in range(model.replicates):
        pts = x[r].numpy()
        group = np.full(len(names), -1)
        for i in range(len(names)):
            if kind[r, i] == "none":
                continue
            for j in range(i):
                if group[j] >= 0 and np.linalg.norm(pts[i] - pts[j]) <= merge_tol * max(1.0, np.linalg.norm(pts[i])):
                    group[i] = group[j]
                    break
            else:
                group[i] = group.max() + 1
        for i, s in enumerate(names):
            shared = group[i] >= 0 and (group == group[i]).sum() > 1
            rows.append((r, s, state_level(s) if automaton.name == "memory" else 0, float(q_held[r, i]), kind[r, i],
                         float(q[r, i]), float(dist[r, i]), int(group[i]), bool(group[i] >= 0 and not shared)))
    return pd.DataFrame(rows, columns=HELD_COLUMNS)


__all__ = [
    "HELD_COLUMNS",
    "ROOT",
    "STATUSES",
    "Automaton",
    "Comparison",
    "compare",
    "flipflop_automaton",
    "flipflop_name",
    "held_states",
    "label_points",
    "memory_automaton",
    "state_level",
]
