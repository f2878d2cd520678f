"""Planted relays: test cases with a known answer for the relay method at any size (DESIGN §14).

The paper names "a possible scaling to extremely large networks" as its limitation. Whether the
greedy relay search still finds the nodes that carry a concept is a question with a known answer
on *planted* data, where the relay nodes are put in by hand:

* :func:`planted_study` runs the greedy search — with plug-in information (the paper's estimator,
  :func:`irn.relay.greedy`) and with the probe remedy (:func:`irn.relay.probe_greedy`) — on
  random-bit hidden states with ``relays`` planted relay nodes (:func:`irn.relay.planted_relays`)
  at every number of nodes × samples, and reports how many planted nodes each method keeps among
  its last survivors, the distinct binarised patterns, the cost of each run, and up to what size
  each method holds (a :class:`PlantedStudy`). Chapter 12 draws it and ``benchmarks/bench_scale.py``
  times the kernels on it.
* :func:`planted_controls` plants a concept into *recorded* hidden states (a real network's
  binarised states, so the samples, nodes and pattern counts are those of the data): a concept
  relayed by one node, whose relay of all nodes must stand above its shuffle null, and a concept
  independent of the nodes, which must not. It is the positive and negative control of a "relay
  above its null" test (chapter 11).
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from irn import params
from irn.relay.data import RelayEntropyWarning, binary, pattern_count, planted_relays
from irn.relay.greedy import greedy
from irn.relay.nulls import relay_null
from irn.relay.probe import probe_greedy

#: The estimators the study compares, in the order of its tables.
METHODS = ("plug-in", "probe")
#: A method "holds" at a size when it recovers at least this share of the planted relays there
#: (mean over data sets) and at every smaller size.
HOLD = 0.95
#: The study runs the probe only where ``nodes**2 * samples`` is at most this (its cost grows so).
PROBE_BUDGET = 7e7
#: Flip probability of the planted relays (and of the planted controls' copies).
FLIP = 0.1

_SIZES = params.rule(lambda v: isinstance(v, (list, tuple)) and len(v) > 0 and len(set(v)) == len(v)
                     and all(params.integer(low=2).ok(x) for x in v),
                     "a non-empty list of distinct integers >= 2")


def recovered(order, relays) -> float:
    """Share of the planted ``relays`` among the last ``len(relays)`` survivors of a greedy ``order``.

    Parameters
    ----------
    order : ndarray, shape (nodes,)
        Removal order, least relaying first (``GreedyResult.order``).
    relays : ndarray, shape (relays,)
        The planted node indices.

    Returns
    -------
    float
        A share in [0, 1].
    """
    order = params.array(order, "order", ndim=1, kind="integer")
    relays = params.array(relays, "relays", ndim=1, kind="integer")
    if relays.size == 0 or relays.size > order.size:
        raise ValueError(f"relays must hold 1…{order.size} node indices, got {relays.size}")
    return len(set(order[-relays.size:].tolist()) & set(relays.tolist())) / relays.size


@dataclass(frozen=True)
class PlantedStudy:
    """What :func:`planted_study` found.

    runs: one row per nodes × samples × data set: nodes, samples, data_set (0…seeds−1), patterns
        (distinct binarised hidden states), one column per method (share of the planted relays
        among the last survivors; NaN where the method did not run) and ``seconds_<method>`` (wall
        time of that greedy run, for benchmarks; NaN where it did not run).
    recovery: nodes, samples, method, recovered (mean over data sets), data_sets (how many ran).
    limits: samples, method, holds_up_to — the largest number of nodes at which the method recovers
        at least ``hold`` of the planted relays, at that size and every smaller one (NaN: none).
    hold, relays, flip: the study's settings.
    """

    runs: pd.DataFrame
    recovery: pd.DataFrame
    limits: pd.DataFrame
    hold: float
    relays: int
    flip: float

    def holds_up_to(self, method: str, samples: int) -> float:
        """Largest size at which ``method`` holds with ``samples`` samples.

        Parameters
        ----------
        method : str
            A method of the study ("plug-in" or "probe").
        samples : int
            A sample count of the study.

        Returns
        -------
        float
            The number of nodes, or NaN when the method holds at no size.
        """
        params.require(method, "method", params.one_of(self.limits.method.unique()))
        params.require(samples, "samples", params.one_of(self.limits.samples.unique()))
        hit = self.limits[(self.limits.method == method) & (self.limits.samples == samples)]
        return float(hit.holds_up_to.iloc[0])

    def nodes_per_doubling(self, method: str = "plug-in") -> float:
        """How many nodes the limit of ``method`` grows per doubling of the samples.

        Parameters
        ----------
        method : str
            A method of the study.

        Returns
        -------
        float
            (limit at the largest − limit at the smallest sample count) / log2(their ratio), over the
            sample counts at which the method holds at some size; NaN with fewer than two.
        """
        params.require(method, "method", params.one_of(self.limits.method.unique()))
        known = self.limits[(self.limits.method == method)].dropna(subset=["holds_up_to"]).sort_values("samples")
        if len(known) < 2:
            return math.nan
        first, last = known.iloc[0], known.iloc[-1]
        return float((last.holds_up_to - first.holds_up_to) / np.log2(last.samples / first.samples))


def planted_study(nodes, samples, seeds: int = 5, *, relays: int = 4, flip: float = FLIP,
                  methods=METHODS, probe_budget: float = PROBE_BUDGET, hold: float = HOLD,
                  seed: int = 0) -> PlantedStudy:
    """Greedy relay search on planted data at every number of nodes × samples.

    Parameters
    ----------
    nodes : list of int
        Numbers of hidden nodes H (distinct, each >= 2 and >= ``relays``).
    samples : list of int
        Numbers of samples N (distinct, each >= 4: the probe's two folds need two samples each).
    seeds : int
        Planted data sets per nodes × samples; data set ``s`` comes from seed ``1000 * seed + s``
        (:func:`irn.relay.planted_relays`) and its probe folds from seed ``s``.
    relays, flip : int, float
        Planted relay nodes (noisy copies of ``X_in``, each bit flipped with probability ``flip``);
        ``X_out`` is their majority vote.
    methods : list of str
        Any of ``"plug-in"`` (:func:`irn.relay.greedy`) and ``"probe"`` (:func:`irn.relay.probe_greedy`).
    probe_budget : float
        The probe runs only where ``nodes**2 * samples`` is at most this (0: never).
    hold : float
        The share of planted relays a method must recover to "hold" at a size.
    seed : int
        The study's seed.

    Returns
    -------
    PlantedStudy
        ``runs`` (one row per nodes × samples × data set), ``recovery`` (means over data sets) and
        ``limits`` (up to what size each method holds, per sample count).
    """
    params.require(nodes, "nodes", _SIZES)
    params.require(samples, "samples", params.rule(lambda v: _SIZES.ok(v) and min(v) >= 4,
                                                   "a non-empty list of distinct integers >= 4"))
    seeds = params.check_count(seeds, "seeds", 1)
    relays = params.check_count(relays, "relays", 1)
    if relays > min(nodes):
        raise ValueError(f"relays must be at most the smallest number of nodes ({min(nodes)}), got {relays}")
    params.require(flip, "flip", params.rule(lambda v: params.number(0, 0.5).ok(v) and v < 0.5, "a number in [0, 0.5)"))
    params.require(methods, "methods", params.list_of(METHODS))
    params.require(probe_budget, "probe_budget", params.number(low=0))
    params.require(hold, "hold", params.SHARE)
    params.require(seed, "seed", params.SEED)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RelayEntropyWarning)  # the guard; its numbers are `patterns`
        for h in nodes:
            for n in samples:
                for s in range(seeds):
                    data = planted_relays(n, h, relays=relays, flip=flip, seed=seed * 1000 + s)
                    row = {"nodes": int(h), "samples": int(n), "data_set": s,
                           "patterns": int(pattern_count(data.hidden_bits))}
                    for method in METHODS:
                        row[method], row[f"seconds_{method}"] = math.nan, math.nan
                        if method not in methods or (method == "probe" and h ** 2 * n > probe_budget):
                            continue
                        start = time.perf_counter()
                        result = (greedy(data.x_in, data.x_out, data.hidden_bits) if method == "plug-in"
                                  else probe_greedy(data.x_in, data.x_out, data.hidden_bits, seed=s))
                        row[f"seconds_{method}"] = time.perf_counter() - start
                        row[method] = recovered(result.order, data.relays)
                    rows.append(row)
    runs = pd.DataFrame(rows)
    long = runs.melt(id_vars=["nodes", "samples", "data_set"], value_vars=list(methods), var_name="method",
                     value_name="recovered").dropna()
    recovery = long.groupby(["nodes", "samples", "method"], as_index=False).agg(
        recovered=("recovered", "mean"), data_sets=("recovered", "size"))
    limits = pd.DataFrame([{"samples": int(n), "method": m, "holds_up_to": _holds_up_to(recovery, m, n, hold)}
                           for n in samples for m in methods])
    return PlantedStudy(runs, recovery, limits, float(hold), relays, float(flip))


def _holds_up_to(recovery: pd.DataFrame, method: str, samples: int, hold: float) -> float:
    curve = recovery[(recovery.method == method) & (recovery.samples == samples)].sort_values("nodes")
    largest = math.nan
    for nodes, value in zip(curve.nodes, curve.recovered):
        if value < hold:
            break
        largest = float(nodes)
    return largest


# -- controls for a relay-above-null test on recorded states --------------------------------------
#: The two planted concepts of :func:`planted_controls`.
CONTROL_KINDS = ("relayed", "independent")


@dataclass(frozen=True)
class PlantedConcept:
    """A concept planted into recorded hidden bits.

    x_in, x_out: (samples,) uint8; node: the node that relays it (-1: none, the concept is
    independent of the hidden states).
    """

    x_in: np.ndarray
    x_out: np.ndarray
    node: int


def planted_concept(hidden_bits, relayed: bool = True, flip: float = FLIP, seed: int = 0) -> PlantedConcept:
    """Plant a concept into recorded binarised hidden states.

    Parameters
    ----------
    hidden_bits : ndarray, shape (samples, nodes)
        Binarised hidden states (e.g. ``irn.relay.binarize`` of a network's states at one step).
    relayed : bool
        True: the concept is carried by one node — the node whose bit is the most balanced (lowest
        index among equals) — and ``X_in`` and ``X_out`` are two independent noisy copies of that
        bit, so the node relays all that ``X_in`` says about ``X_out`` (``X_in`` and ``X_out`` are
        independent given the hidden state). False: ``X_in`` is a fair coin independent of the
        hidden states and ``X_out`` a noisy copy of it, so nothing passes through the nodes.
    flip : float
        Probability that a copy differs from its source bit, in [0, 0.5).
    seed : int
        Seed of the coins.

    Returns
    -------
    PlantedConcept
    """
    bits = binary(hidden_bits, "hidden_bits", ndim=2)
    params.require(relayed, "relayed", params.boolean())
    params.require(flip, "flip", params.rule(lambda v: params.number(0, 0.5).ok(v) and v < 0.5, "a number in [0, 0.5)"))
    params.require(seed, "seed", params.SEED)
    samples = bits.shape[0]
    rng = np.random.default_rng(seed)
    if relayed:
        share = bits.mean(axis=0)
        node = int(np.argmax(np.minimum(share, 1 - share)))
        source = bits[:, node]
    else:
        node, source = -1, rng.integers(0, 2, samples).astype(np.uint8)
    x_in = source ^ (rng.random(samples) < flip) if relayed else source
    x_out = (x_in if not relayed else source) ^ (rng.random(samples) < flip)
    return PlantedConcept(x_in.astype(np.uint8), x_out.astype(np.uint8), node)


def planted_controls(hidden_bits, shuffles: int = 100, flip: float = FLIP, seed: int = 0) -> pd.DataFrame:
    """Relay of all nodes against its shuffle null for a relayed and an independent planted concept,
    in every network's recorded hidden states: the positive and negative controls of a test that
    relay stands above its null.

    Parameters
    ----------
    hidden_bits : ndarray, shape (networks, samples, nodes)
        Binarised hidden states of each network at one step (e.g. the answer step).
    shuffles : int
        Permutations of the shuffle null (:func:`irn.relay.relay_null`).
    flip : float
        Noise of the planted copies (:func:`planted_concept`).
    seed : int
        Seed of the planted coins (network ``r`` uses ``seed + r``) and of the permutations.

    Returns
    -------
    DataFrame
        One row per network × kind: replicate, kind (``CONTROL_KINDS``), node (the relaying node,
        -1 for none), patterns, relay (observed), null_mean, corrected (relay − null_mean), p_value.
    """
    bits = binary(hidden_bits, "hidden_bits", ndim=3)
    params.check_count(shuffles, "shuffles", 1)
    params.require(seed, "seed", params.SEED)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RelayEntropyWarning)  # reported as `patterns`
        for r in range(bits.shape[0]):
            for kind in CONTROL_KINDS:
                concept = planted_concept(bits[r], relayed=kind == "relayed", flip=flip, seed=seed + r)
                null = relay_null(concept.x_in, concept.x_out, bits[r], shuffles=shuffles, seed=seed)
                rows.append({"replicate": r, "kind": kind, "node": concept.node,
                             "patterns": int(pattern_count(bits[r])), "relay": null.observed,
                             "null_mean": null.null_mean, "corrected": null.corrected, "p_value": null.p_value})
    return pd.DataFrame(rows)
