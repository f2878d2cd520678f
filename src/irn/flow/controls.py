"""Positive controls of the flow analysis: simulated tanh networks whose connections, direction and
layers are known (a driven chain, a network built in layers, a recurrent network with known sparse
weights, graded copies of the input), and the recovery of their edges (precision, recall)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats as sps

from irn import params
from irn.flow._shared import MEASURES, _neurons
from irn.flow.graph import flow_graph, level_clustering, trophic_levels
from irn.flow.pipeline import Choices
from irn.flow.significance import flow_significance


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
