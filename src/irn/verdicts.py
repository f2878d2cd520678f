"""The tests behind the verdicts of chapters 2–7, and the planted cases of their controls (DESIGN §16).

Every claim of Hintze, Najam & Schossau (arXiv 2510.01271) that chapters 2–7 test is decided by
``irn.claims.record`` from an ``Evidence``: how many tests of the claim's family support it, how
many contradict it, and the main effect with a 95 % bootstrap interval over replicates. The
functions here turn a chapter's tables into that evidence, one per claim, with the family and the
correction the registry (``irn.claims.REGISTRY``) states. The same function then runs on planted
data with a known answer — its *controls*: a positive control holds the effect (the test must find
it), a negative control does not (the test must not), so a verdict says something only once both
behaved (``irn.claims.Control``).

How each claim counts (the registry says the same in words):

* ``random_delay_generalises`` (chapter 2): one Mann–Whitney test per architecture × task pair,
  Holm-corrected. Controls: fixed-delay networks relabelled as random-delay ones, with their errors
  shrunk by a planted share (positive) or left as they are (negative) — ``relabelled_regime``.
* ``greedy_matches_exhaustive`` (chapter 3), no p-values: a network × concept case supports the
  claim when fewer than ``GREEDY_BEATEN`` of the node subsets beat the greedy set of their size
  (Hintze & Adami 2023), and contradicts it when ``MISS_FACTOR`` times as many do. Controls: a
  planted recording where every concept sits on known copies (greedy is exactly optimal there),
  and a random removal order on the chapter's own networks.
* ``knockout_hits_own_concept`` (chapter 4): two Wilcoxon tests per pair (target concept against
  the other concepts, and against random sets), Holm. Controls: ``latch_network``, a hand-built RNN
  whose concepts sit on known nodes, with its relay order (positive) and with its relay ranks
  shuffled among the nodes (negative, ``shuffled_ranks``).
* ``gated_keep_information_in_place`` / ``rnn_lower_overlap`` (chapter 5): Mann–Whitney, RNN
  against GRU and against LSTM in every fixed-delay task × delay condition, Holm. Controls: relay
  tables (``planted_relay_frame``) whose RNN carriers move to other nodes at every step while the
  gated networks' stay (positive), or stay in all three (negative).
* ``rnn_random_delay_localises`` (chapter 5): the random-delay RNN against the fixed-delay RNN
  (support: higher) and against the random-delay GRU and LSTM (a significant gap below them
  contradicts), Holm.
* ``concepts_spread_over_nodes`` (chapter 6), no p-values: per architecture × task pair, the share
  of concepts with two or more carriers supports the claim when its bootstrap interval over
  replicates lies above one half and contradicts it when it lies below.
  ``nodes_relay_several_concepts`` is a claim of existence ("some nodes"): a pair supports it when
  the share of networks with a node carrying two or more concepts has an interval above 0, and
  contradicts it when no network of the pair has such a node. Controls: planted relay
  matrices with spread and single carriers, and with and without shared nodes.
* ``pca_resolves_states`` (chapter 7), no p-values: a replicate supports the claim when its closest
  pair of states is at least ``resolved_at`` of the median distance apart and contradicts it when
  the pair has collapsed (below ``resolved_at / MISS_FACTOR``). Controls: ``planted_states``, eight
  states on a circle in a plane (positive) and at the corners of a flat box (negative).
* ``relay_removal_sharpens_clusters`` (chapter 7): Wilcoxon per concept × score, Holm. Controls: a
  planted recording with its relay order (positive) and with shuffled ranks (negative).

The effect of each claim is a mean over replicates: a replicate's value is averaged over the
family's conditions first (e.g. the six architecture × task pairs), then
``irn.claims.bootstrap_interval`` gives its 95 % interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from irn import (
    analysis,
    claims,
    dynamics,
    knockout,
    latent,
    models,
    params,
    tasks,
    train,
)

#: Hintze & Adami (2023): fewer than 0.3 % of node subsets beat the greedy set of their size.
GREEDY_BEATEN = 0.003
#: A threshold claim is contradicted where it misses by this factor (an order of magnitude).
MISS_FACTOR = 10
#: The share that a majority must exceed.
MAJORITY = 0.5
#: Positive control of chapter 2: the relabelled networks' errors shrink by this share.
PLANTED_GAIN = 0.3
#: Random node orders of the planted knockout and removal controls.
CONTROL_DRAWS = 5
#: Standard deviation of the noise on planted relay contributions and hidden states.
PLANTED_NOISE = 0.1


def _spec(claim_id: str) -> claims.ClaimSpec:
    return claims.REGISTRY[claim_id]


def _per_replicate(values: pd.Series, replicate) -> np.ndarray:
    """One value per replicate: the mean over the family's conditions."""
    return values.groupby(np.asarray(replicate)).mean().to_numpy(dtype=float)


def _tested(claim_id: str, differences, p_values, effects, expected_sign: int, alpha: float,
            effect_name: str) -> claims.Evidence:
    return claims.evidence(np.asarray(differences, float), np.asarray(p_values, float), effects,
                           expected_sign=expected_sign, alpha=alpha, correction=_spec(claim_id).correction,
                           effect_name=effect_name)


def _counted(support, contradict, effects, effect_name: str) -> claims.Evidence:
    """Evidence of a family without p-values: one boolean of each kind per member."""
    support, contradict = np.asarray(support, bool), np.asarray(contradict, bool)
    effect, low, high = claims.bootstrap_interval(np.asarray(effects, float))
    return claims.Evidence(int(support.sum()), int(support.size), int((contradict & ~support).sum()),
                           effect, low, high, effect_name)


# -- chapter 2: random delays generalise better --------------------------------------------------
def generalisation(accuracy: pd.DataFrame, alpha: float = params.ALPHA) -> claims.Evidence:
    """Evidence on ``random_delay_generalises`` from ``irn.train.evaluate_all`` output.

    Parameters
    ----------
    accuracy : DataFrame
        Columns arch, task, delay (training regime), replicate, eval_delay, accuracy.
    alpha : float
        Significance level.

    Returns
    -------
    claims.Evidence
        One Mann–Whitney test per architecture × task (``irn.train.generalisation`` over the
        unseen delays), Holm-corrected; effect: each random-delay replicate's mean accuracy over
        the unseen delays minus the fixed-delay mean of its pair, averaged over the pairs.
    """
    gen = train.generalisation(accuracy, delays="unseen")
    unseen = [int(d) for d in gen.eval_delays.iloc[0].split(", ")]
    score = accuracy[accuracy.eval_delay.isin(unseen)].groupby(
        ["arch", "task", "delay", "replicate"], sort=False).accuracy.mean().reset_index()
    fixed = score[score.delay != "random"].groupby(["arch", "task"]).accuracy.mean()
    rnd = score[score.delay == "random"]
    gain = rnd.accuracy.to_numpy() - fixed.loc[list(zip(rnd.arch, rnd.task))].to_numpy()
    return _tested("random_delay_generalises", gen.difference, gen.p_value,
                   _per_replicate(pd.Series(gain), rnd.replicate), 1, alpha,
                   "accuracy at unseen delays, random − fixed")


def relabelled_regime(accuracy: pd.DataFrame, gain: float, seed: int = 0) -> pd.DataFrame:
    """Chapter 2's planted case: fixed-delay networks posing as random-delay ones.

    Per architecture × task, as many fixed-delay networks as there are random-delay replicates are
    drawn at random, relabelled ``delay="random"`` and left out of the fixed pool (the real
    random-delay networks are dropped); their errors shrink by ``gain`` at every evaluation delay
    (accuracy → accuracy + gain · (1 − accuracy)). ``gain=0`` is a null case: nothing separates
    the two groups.

    Parameters
    ----------
    accuracy : DataFrame
        ``irn.train.evaluate_all`` output with random-delay and fixed-delay networks.
    gain : float
        Share of the error removed, in [0, 1).
    seed : int
        Seeds the draw.

    Returns
    -------
    DataFrame
        The columns of ``accuracy``.
    """
    params.require(gain, "gain", params.rule(lambda v: params.number(0, 1).ok(v) and v < 1, "a share in [0, 1)"))
    params.require(seed, "seed", params.SEED)
    rng = np.random.default_rng(seed)
    parts = []
    for _, group in accuracy.groupby(["arch", "task"], sort=False):
        fixed = group[group.delay != "random"]
        networks = fixed[["delay", "replicate"]].drop_duplicates().to_numpy()
        k = group[group.delay == "random"].replicate.nunique()
        picked = networks[rng.choice(len(networks), size=k, replace=False)]
        key = list(zip(fixed.delay, fixed.replicate))
        slot = {tuple(p): i for i, p in enumerate(map(tuple, picked))}
        is_picked = np.array([k_ in slot for k_ in key])
        moved = fixed[is_picked].copy()
        moved["replicate"] = [slot[k_] for k_, p in zip(key, is_picked) if p]
        moved["delay"] = "random"
        moved["accuracy"] = moved.accuracy + gain * (1 - moved.accuracy)
        parts += [fixed[~is_picked], moved]
    return pd.concat(parts, ignore_index=True)[list(accuracy.columns)]


def generalisation_controls(accuracy: pd.DataFrame, alpha: float = params.ALPHA, gain: float = PLANTED_GAIN,
                            seed: int = 0) -> list[claims.Control]:
    """The positive and negative controls of ``random_delay_generalises`` (``relabelled_regime``
    with ``gain`` and with none), counted by :func:`generalisation`."""
    return [claims.Control(f"fixed-delay networks relabelled as random-delay ones, their errors shrunk by "
                           f"{gain:.0%}", True, generalisation(relabelled_regime(accuracy, gain, seed), alpha)),
            claims.Control("fixed-delay networks relabelled as random-delay ones, nothing changed", False,
                           generalisation(relabelled_regime(accuracy, 0.0, seed), alpha))]


# -- chapter 3: greedy against exhaustive ------------------------------------------------------------
def greedy(gaps: pd.DataFrame) -> claims.Evidence:
    """Evidence on ``greedy_matches_exhaustive`` from a gap table (``RelayStatistics.gaps``).

    Parameters
    ----------
    gaps : DataFrame
        One row per replicate × concept × subset size with n_better and n_subsets.

    Returns
    -------
    claims.Evidence
        Per replicate × concept, the share of subsets of sizes 1…nodes−1 that beat the set of the
        same size: support below ``GREEDY_BEATEN``, contradiction at ``MISS_FACTOR`` times that or
        more; effect: the share (in %) per replicate, mean over concepts.
    """
    inner = gaps[gaps["size"] < gaps["size"].max()]  # the full set has one subset: nothing to beat
    case = inner.groupby(["replicate", "concept"], sort=False)[["n_better", "n_subsets"]].sum()
    share = case.n_better / case.n_subsets
    return _counted(share < GREEDY_BEATEN, share >= MISS_FACTOR * GREEDY_BEATEN,
                    _per_replicate(100 * share, case.index.get_level_values("replicate")),
                    "% of subsets beating the set of their size")


def greedy_controls(statistics: analysis.RelayStatistics, replicates: int, seed: int = 0) -> list[claims.Control]:
    """The controls of ``greedy_matches_exhaustive``: a planted recording whose concepts sit on
    known copies (the greedy search is exactly optimal there; positive) and a random removal
    order on the chapter's own networks (``statistics.random_gaps``; negative)."""
    planted = planted_recording(replicates, seed=seed)
    found = analysis.relay_statistics(planted, 0, method="sign", shuffles=1, seed=seed)
    return [claims.Control("greedy search on a planted recording: each concept copied onto 4 of 12 nodes",
                           True, greedy(found.gaps)),
            claims.Control("a random removal order on the same networks", False, greedy(statistics.random_gaps))]


# -- chapter 4: knockouts -------------------------------------------------------------------------------
def knockout_evidence(effects: pd.DataFrame, alpha: float = params.ALPHA) -> claims.Evidence:
    """Evidence on ``knockout_hits_own_concept`` from ``irn.knockout.effects`` output.

    Returns
    -------
    claims.Evidence
        Two Wilcoxon tests per architecture × task (``irn.knockout.compare``: target concept against
        the other concepts, and against random sets), Holm-corrected; effect: each replicate's
        extra accuracy lost under its relay sets over random sets, mean over pairs and concepts.
    """
    verdict = knockout.compare(effects)
    extra = effects.target_drop - effects.random_drop
    return _tested("knockout_hits_own_concept", pd.concat([verdict.specific, verdict.vs_random]),
                   pd.concat([verdict.p_specific, verdict.p_random]), _per_replicate(extra, effects.replicate),
                   1, alpha, "accuracy lost, relay − random sets")


def latch_network(replicates: int, copies: int = 3, idle: int = 3, seed: int = 0) -> models.Stacked:
    """A hand-built RNN that solves the memory task with each concept on known nodes.

    Each concept is latched by ``copies`` nodes (self weight 2, input weight 2 from its channel:
    tanh's bistable fixed points ±0.957 hold the sign), read by its output as the sum of its nodes;
    ``idle`` further nodes run weak random dynamics (weights in ±0.3) and are not read. The nodes
    of each replicate are placed by a random permutation from ``seed``. A node knocked out to 0
    stays 0 (no input, no cross-talk), so a concept is lost exactly when all its copies are.

    Parameters
    ----------
    replicates : int
        Networks.
    copies, idle : int
        Latch nodes per concept, and idle nodes; nodes = 3 · copies + idle.
    seed : int
        Seeds the placements and the idle weights.

    Returns
    -------
    models.Stacked
        An "rnn" with 3 inputs, 3 · copies + idle nodes and 3 tanh outputs; its attribute
        ``latches`` is an int array (replicates, 3, copies) of each concept's nodes.
    """
    for name, value, low in (("replicates", replicates, 1), ("copies", copies, 1), ("idle", idle, 0)):
        params.check_count(value, name, low)
    params.require(seed, "seed", params.SEED)
    concepts = len(tasks.CONCEPTS["memory"])
    nodes = concepts * copies + idle
    net = models.Stacked("rnn", replicates, tasks.n_inputs("memory"), nodes, n_outputs=concepts)
    rng = np.random.default_rng(seed)
    latches = np.empty((replicates, concepts, copies), dtype=np.int64)
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
        for r in range(replicates):
            place = rng.permutation(nodes)
            latches[r] = place[:concepts * copies].reshape(concepts, copies)
            rest = place[concepts * copies:]
            net.weight_hh[r][np.ix_(rest, rest)] = torch.from_numpy(rng.uniform(-0.3, 0.3, (idle, idle))).float()
            net.weight_ih[r][rest] = torch.from_numpy(rng.uniform(-0.3, 0.3, (idle, concepts))).float()
            for c in range(concepts):
                for node in latches[r, c]:
                    net.weight_hh[r, node, node] = 2.0
                    net.weight_ih[r, node, c] = 2.0
                    net.readout_weight[r, c, node] = 1.0
    net.latches = latches
    return net


def shuffled_ranks(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """A relay table whose nodes are relabelled at random within every network × step × concept:
    the same values, on the wrong nodes (a null case for tests that follow the relay order).

    Parameters
    ----------
    frame : DataFrame
        ``irn.analysis.relay_frame`` / ``relay_of_recording`` output (replicate, step, concept,
        node, contribution, rank).
    seed : int
        Seeds the relabelling.

    Returns
    -------
    DataFrame
        ``frame`` with contribution and rank moved to randomly chosen nodes.
    """
    params.require(seed, "seed", params.SEED)
    keys = [c for c in ("arch", "task", "delay", "replicate", "step", "concept") if c in frame]
    out = frame.sort_values([*keys, "node"], kind="stable").reset_index(drop=True)
    nodes = out.node.nunique()
    rng = np.random.default_rng(seed)
    perm = rng.permuted(np.broadcast_to(np.arange(nodes), (len(out) // nodes, nodes)), axis=1)
    moved = (perm + np.arange(len(out) // nodes)[:, None] * nodes).reshape(-1)
    for column in ("contribution", "rank"):
        out[column] = out[column].to_numpy()[moved]
    return out


def knockout_controls(replicates: int, alpha: float = params.ALPHA, max_size: int | None = None,
                      seed: int = 0) -> list[claims.Control]:
    """The controls of ``knockout_hits_own_concept`` on ``latch_network``: the knockout experiment
    with its relay order (positive) and with its relay ranks shuffled (negative), counted by
    :func:`knockout_evidence`; ``max_size`` as in ``irn.knockout.effects`` (default nodes − 1)."""
    net = latch_network(replicates, seed=seed)
    batch = tasks.distinct("memory", analysis.analysis_delay("random"))
    rec = analysis.record_model(net, batch.inputs, batch.targets, batch.answer_step, concepts=tasks.CONCEPTS["memory"])
    data = analysis.probe(net, batch.inputs, batch.targets, batch.answer_step, concepts=tasks.CONCEPTS["memory"])
    relay = analysis.relay_of_recording(rec, [analysis.RELAY_STEP])
    labels = {"task": "memory", "arch": "rnn", "delay": "planted"}

    def counted(table):
        frame = knockout.experiment_on(net, data, table, at=analysis.RELAY_STEP, random_draws=CONTROL_DRAWS,
                                       seed=seed).assign(**labels)
        return knockout_evidence(knockout.effects(frame, max_size=max_size), alpha)

    return [claims.Control("a hand-built RNN with each concept latched on 3 known nodes, knocked out in relay order",
                           True, counted(relay)),
            claims.Control("the same RNN with its relay ranks shuffled among the nodes", False,
                           counted(shuffled_ranks(relay, seed)))]


# -- chapter 5: does information stay where it arrived? ------------------------------------------------
def _rnn_minus_gated(per: pd.DataFrame, measure: str, fixed: bool) -> pd.Series:
    """Per RNN replicate: its value minus the gated networks' mean in its task × delay condition,
    averaged over the conditions (fixed delays, or the random-delay ones)."""
    rows = per[(per.delay != "random") == fixed]
    gated = rows[rows.arch != "rnn"].groupby(["task", "delay"])[measure].mean()
    rnn = rows[rows.arch == "rnn"]
    diff = rnn[measure].to_numpy() - gated.loc[list(zip(rnn.task, rnn.delay))].to_numpy()
    return pd.Series(diff).groupby(rnn.replicate.to_numpy()).mean()


def architectures(per: pd.DataFrame, measure: str, alpha: float = params.ALPHA) -> claims.Evidence:
    """Evidence on ``gated_keep_information_in_place`` (measure "r") or ``rnn_lower_overlap``
    ("overlap") from ``irn.dynamics.stability_by_replicate`` output.

    Returns
    -------
    claims.Evidence
        Mann–Whitney tests of the RNN against GRU and against LSTM in every fixed-delay task ×
        delay condition (``irn.dynamics.compare_architectures``), Holm-corrected, supporting when
        the RNN is lower; effect: RNN − gated mean per replicate, averaged over the conditions.
    """
    claim_id = {"r": "gated_keep_information_in_place", "overlap": "rnn_lower_overlap"}[
        params.require(measure, "measure", params.one_of(dynamics.MEASURES))]
    rows = dynamics.compare_architectures(per, measure)
    rows = rows[rows.delay != "random"]
    return _tested(claim_id, rows.difference, rows.p_value, _rnn_minus_gated(per, measure, True).to_numpy(),
                   -1, alpha, f"{measure}, RNN − gated, fixed delays")


def random_delay(per: pd.DataFrame, alpha: float = params.ALPHA) -> claims.Evidence:
    """Evidence on ``rnn_random_delay_localises`` from ``irn.dynamics.stability_by_replicate`` output.

    Returns
    -------
    claims.Evidence
        For r and overlap in every task: the random-delay RNN against the fixed-delay RNN
        (``compare_regimes``; support when higher) and against the random-delay GRU and LSTM
        (``compare_architectures``; a significant gap below them contradicts, one above supports),
        Holm-corrected; effect: random-delay RNN − gated, per replicate, mean over tasks and
        measures.
    """
    regime = pd.concat([dynamics.compare_regimes(per, m) for m in dynamics.MEASURES])
    regime = regime[regime.arch == "rnn"]
    arch = pd.concat([dynamics.compare_architectures(per, m) for m in dynamics.MEASURES])
    arch = arch[arch.delay == "random"]
    gap = pd.concat([_rnn_minus_gated(per, m, False) for m in dynamics.MEASURES])
    return _tested("rnn_random_delay_localises", pd.concat([regime.difference, arch.difference]),
                   pd.concat([regime.p_value, arch.p_value]), gap.groupby(level=0).mean().to_numpy(), 1, alpha,
                   "r and overlap, random-delay RNN − gated")


def planted_relay_frame(replicates: int, labels: dict, steps=(0,), carriers: int = 3, shared: int = 0,
                        move: bool = False, nodes: int = 12, noise: float = PLANTED_NOISE,
                        seed: int = 0) -> pd.DataFrame:
    """Relay tables with a known answer, for the controls of chapters 5 and 6.

    Each of the task's concepts has ``carriers`` carrier nodes whose contribution is about 1 (drawn
    from 1 ± ``noise`` at every step); the others' are about 0 (± ``noise``). Consecutive concepts
    share ``shared`` carriers (a node carrying two concepts). With ``move`` the carriers shift by
    ``carriers`` nodes at every step (information moves between nodes); otherwise they stay.

    Parameters
    ----------
    replicates : int
        Networks.
    labels : dict
        arch, task ("memory" or "block": its concepts) and delay of the networks.
    steps : sequence of int
        0-based steps.
    carriers, shared, nodes : int
        Carriers per concept, carriers shared by consecutive concepts, nodes per network.
    move : bool
        Whether the carriers move at every step.
    noise : float
        Standard deviation of the contributions around 1 and 0.
    seed : int
        Seeds the placements and the noise.

    Returns
    -------
    DataFrame
        The columns of ``irn.analysis.relay_frame`` (arch, task, delay, replicate, step, concept,
        node, contribution, rank).
    """
    params.check_count(replicates, "replicates", 1)
    params.require(labels, "labels", params.rule(lambda v: isinstance(v, dict) and {"arch", "task", "delay"} <= set(v),
                                                 "a dict with arch, task and delay"))
    concepts = tasks.CONCEPTS[labels["task"]]
    params.check_count(carriers, "carriers", 1)
    params.require(shared, "shared", params.integer(0, carriers - 1))
    params.require(nodes, "nodes", params.integer(len(concepts) * (carriers - shared) + shared))
    params.require(move, "move", params.boolean())
    params.require(noise, "noise", params.number(0))
    params.require(seed, "seed", params.SEED)
    steps = [int(params.require(s, "steps", params.integer(0))) for s in steps]
    rng = np.random.default_rng(seed)
    stride = carriers - shared
    n_steps, n_concepts = len(steps), len(concepts)
    place = rng.permuted(np.broadcast_to(np.arange(nodes), (replicates, nodes)), axis=1)  # (R, nodes)
    matrix = rng.normal(0.0, noise, (replicates, n_steps, n_concepts, nodes))
    shift = (np.arange(n_steps) * carriers if move else np.zeros(n_steps, dtype=int))[:, None, None]
    slots = (np.arange(n_concepts)[:, None] * stride + np.arange(carriers)[None, :])[None] + shift  # (S, C, k)
    held = np.take_along_axis(place[:, None, None, :], (slots % nodes)[None].reshape(1, n_steps, -1, 1)
                              .repeat(replicates, 0).reshape(replicates, n_steps, 1, -1), axis=-1)
    held = held.reshape(replicates, n_steps, n_concepts, carriers)
    np.put_along_axis(matrix, held, np.take_along_axis(matrix, held, axis=-1) + 1.0, axis=-1)
    rank = np.argsort(np.argsort(matrix, axis=-1, kind="stable"), axis=-1)
    idx = np.indices(matrix.shape).reshape(4, -1)
    return pd.DataFrame({**labels, "replicate": idx[0], "step": np.asarray(steps)[idx[1]],
                         "concept": np.asarray(concepts)[idx[2]], "node": idx[3],
                         "contribution": matrix.reshape(-1), "rank": rank.reshape(-1)})


def _planted_stability(replicates: int, moving: set, within: str, seed: int) -> pd.DataFrame:
    """Per-replicate stability of planted networks: RNN, GRU and LSTM, fixed delay 1 and random
    delays, memory task, steps 10–14; the (arch, delay) pairs in ``moving`` move their carriers."""
    frames = [planted_relay_frame(replicates, {"arch": a, "task": "memory", "delay": d}, steps=range(10, 15),
                                  move=(a, d) in moving, seed=seed + 7 * i)
              for i, (a, d) in enumerate((a, d) for a in models.ARCHS for d in ("1", "random"))]
    return dynamics.stability_by_replicate(dynamics.stability(pd.concat(frames, ignore_index=True), within=within))


def architecture_controls(measure: str, replicates: int, alpha: float = params.ALPHA, within: str = "matrix",
                          seed: int = 0) -> list[claims.Control]:
    """The controls of :func:`architectures`: planted relay tables whose RNN carriers move at every
    step while GRU's and LSTM's stay (positive), and where all three stay (negative)."""
    return [claims.Control("planted relay tables: the RNN's carriers move to new nodes at every step, GRU's "
                           "and LSTM's stay", True,
                           architectures(_planted_stability(replicates, {("rnn", "1"), ("rnn", "random")}, within,
                                                            seed), measure, alpha)),
            claims.Control("planted relay tables: every architecture's carriers stay", False,
                           architectures(_planted_stability(replicates, set(), within, seed), measure, alpha))]


def random_delay_controls(replicates: int, alpha: float = params.ALPHA, within: str = "matrix",
                          seed: int = 0) -> list[claims.Control]:
    """The controls of :func:`random_delay`: planted tables where only the fixed-delay RNN moves its
    carriers (positive), and where the RNN moves them under both regimes (negative)."""
    return [claims.Control("planted relay tables: the fixed-delay RNN's carriers move, the random-delay RNN's "
                           "stay as GRU's and LSTM's do", True,
                           random_delay(_planted_stability(replicates, {("rnn", "1")}, within, seed), alpha)),
            claims.Control("planted relay tables: the RNN's carriers move under both regimes", False,
                           random_delay(_planted_stability(replicates, {("rnn", "1"), ("rnn", "random")}, within,
                                                           seed), alpha))]


# -- chapter 6: smearing ----------------------------------------------------------------------------------
def _majority(per_network: pd.DataFrame, column: str, effect_name: str) -> claims.Evidence:
    """Support where a pair's share (bootstrap interval over replicates) lies above ``MAJORITY``,
    contradiction where it lies below; effect: the share per replicate, mean over pairs."""
    support, contradict = [], []
    for _, group in per_network.groupby(["task", "arch"], sort=False):
        _, low, high = claims.bootstrap_interval(group[column].to_numpy(float))
        support.append(low > MAJORITY)
        contradict.append(high < MAJORITY)
    return _counted(support, contradict, _per_replicate(per_network[column], per_network.replicate), effect_name)


def spread(smear: pd.DataFrame) -> claims.Evidence:
    """Evidence on ``concepts_spread_over_nodes`` from ``irn.dynamics.smearing`` output: per network
    the share of all concepts with two or more carriers; per architecture × task the share's
    interval against one half (see module docstring)."""
    per_concept = smear[smear.measure == "nodes per concept"]
    share = per_concept[per_concept["count"] >= 2].groupby(dynamics.NETWORK, sort=False).fraction.sum()
    return _majority(share.rename("share").reset_index(), "share", "share of concepts with ≥ 2 carriers")


def several(smear: pd.DataFrame) -> claims.Evidence:
    """Evidence on ``nodes_relay_several_concepts`` from ``irn.dynamics.smearing`` output. The claim is
    one of existence ("some nodes appear to store information about more than one concept"): per
    network whether a node carries two or more concepts; an architecture × task pair supports the
    claim when the share of such networks has a bootstrap interval over replicates above 0 (they are
    found reliably), and contradicts it when no network of the pair has such a node."""
    summary = dynamics.smearing_summary(smear)
    per_network = summary.assign(any_shared=(summary.shared > 0).astype(float))
    support, contradict = [], []
    for _, group in per_network.groupby(["task", "arch"], sort=False):
        _, low, high = claims.bootstrap_interval(group.any_shared.to_numpy(float))
        support.append(low > 0)
        contradict.append(high == 0)
    return _counted(support, contradict, _per_replicate(per_network.any_shared, per_network.replicate),
                    "share of networks with a node carrying ≥ 2 concepts")


def smearing_controls(claim: str, replicates: int, pairs, step: int, within: str = "matrix",
                      seed: int = 0) -> list[claims.Control]:
    """The controls of :func:`spread` (``claim="spread"``: three carriers per concept against one)
    or :func:`several` (``claim="several"``: consecutive concepts sharing a carrier against none),
    on planted relay matrices with the labels of ``pairs`` (arch, task) at ``step``."""
    params.require(claim, "claim", params.one_of(("spread", "several")))
    count = spread if claim == "spread" else several
    cases = {"spread": (("three carriers per concept", {"carriers": 3}), ("one carrier per concept", {"carriers": 1})),
             "several": (("consecutive concepts share one of their three carriers", {"shared": 1}),
                         ("three carriers per concept, none shared", {"shared": 0}))}[claim]

    def counted(settings):
        frames = [planted_relay_frame(replicates, {"arch": a, "task": t, "delay": "planted"}, steps=[step],
                                      seed=seed + i, **settings) for i, (a, t) in enumerate(pairs)]
        return count(dynamics.smearing(pd.concat(frames, ignore_index=True), step=step, within=within))

    return [claims.Control(f"planted relay matrices: {text}", positive, counted(settings))
            for positive, (text, settings) in zip((True, False), cases)]


# -- chapter 7: latent space ---------------------------------------------------------------------------
def separation(sep: pd.DataFrame, resolved_at: float) -> claims.Evidence:
    """Evidence on ``pca_resolves_states`` from ``irn.latent.state_separation`` rows of one condition:
    a replicate supports when its separation is at least ``resolved_at`` and contradicts when it is
    below ``resolved_at / MISS_FACTOR``; effect: the separation, mean over replicates."""
    params.require(resolved_at, "resolved_at", params.number(0, 1, closed=False))
    values = sep.separation.to_numpy(float)
    return _counted(values >= resolved_at, values < resolved_at / MISS_FACTOR, values,
                    "closest pair / median distance")


def planted_states(replicates: int, layout: str, nodes: int = 12, noise: float = PLANTED_NOISE / 4,
                   seed: int = 0) -> latent.States:
    """Eight states with a known answer to "does a 2-D PCA resolve them?".

    layout "circle": the states sit evenly on a circle in a random plane of ``nodes``
    dimensions — two components resolve them. "box": they sit at the corners of a box with axes
    1, 0.8 and 0.3 — two components keep the two long axes and drop the short one, so pairs of
    states fall together. Each coordinate gets Gaussian noise of ``noise``.

    Returns
    -------
    latent.States
        hidden (replicates, 8, nodes), state 0…7, bits (3, 8), the memory task's concepts.
    """
    params.check_count(replicates, "replicates", 1)
    params.require(layout, "layout", params.one_of(("circle", "box")))
    params.require(nodes, "nodes", params.integer(3))
    params.require(seed, "seed", params.SEED)
    state = np.arange(8)
    bits = (state[None, :] >> np.arange(3)[:, None]) & 1  # (3, 8)
    if layout == "circle":
        angle = 2 * np.pi * state / 8
        coords = np.stack([np.cos(angle), np.sin(angle), np.zeros(8)], axis=1)
    else:
        coords = (2 * bits.T - 1) * np.array([1.0, 0.8, 0.3])
    rng = np.random.default_rng(seed)
    hidden = np.empty((replicates, 8, nodes))
    for r in range(replicates):
        basis = np.linalg.qr(rng.normal(size=(nodes, 3)))[0]  # (nodes, 3) orthonormal
        hidden[r] = coords @ basis.T + rng.normal(0.0, noise, (8, nodes))
    return latent.States(hidden, state, bits.astype(np.uint8), tasks.CONCEPTS["memory"],
                         {"arch": "planted", "task": "memory", "delay": layout}, analysis.RELAY_STEP)


def separation_controls(replicates: int, resolved_at: float, seed: int = 0) -> list[claims.Control]:
    """The controls of :func:`separation` (``planted_states``: a circle, positive; a flat box, negative)."""
    cases = (("eight planted states on a circle in a plane", "circle", True),
             ("eight planted states at the corners of a flat box (axes 1, 0.8, 0.3)", "box", False))
    return [claims.Control(text, positive, separation(latent.state_separation(
        planted_states(replicates, layout, seed=seed)), resolved_at)) for text, layout, positive in cases]


def removal(area: pd.DataFrame, alpha: float = params.ALPHA) -> claims.Evidence:
    """Evidence on ``relay_removal_sharpens_clusters`` from ``irn.latent.removal_area`` rows of one
    condition: a Wilcoxon test per concept × score (``irn.latent.removal_test``), Holm-corrected;
    effect: the silhouette's relay − random area per replicate, mean over concepts."""
    test = latent.removal_test(area)
    silhouette = area[area.score == "silhouette"]
    return _tested("relay_removal_sharpens_clusters", test.better, test.p_value,
                   _per_replicate(silhouette.better, silhouette.replicate), 1, alpha,
                   "silhouette, relay − random order")


def planted_recording(replicates: int, copies: int = 4, repeats: int = 4, noise: float = 0.0,
                      seed: int = 0) -> analysis.Recording:
    """A recording with a known answer: each of the memory task's three concepts copied onto
    ``copies`` nodes (3 · copies nodes, placed by a random permutation per replicate), one step.

    The hidden value of a copy is +1 or −1 with its concept's bit, plus Gaussian ``noise``; each of
    the 8 concept combinations appears ``repeats`` times; the network answers every concept right.
    Binarised by sign, every node is its concept's bit: a concept's relay information sits on its
    copies, and the greedy search is exactly optimal.

    Returns
    -------
    analysis.Recording
        hidden (replicates, 8 · repeats, 1, 3 · copies); labels arch "planted", task "memory".
    """
    params.check_count(replicates, "replicates", 1)
    params.check_count(copies, "copies", 1)
    params.check_count(repeats, "repeats", 1)
    params.require(noise, "noise", params.number(0))
    params.require(seed, "seed", params.SEED)
    concepts = tasks.CONCEPTS["memory"]
    state = np.tile(np.arange(8), repeats)
    bits = ((state[None, :] >> np.arange(3)[:, None]) & 1).astype(np.uint8)  # (3, samples)
    nodes = 3 * copies
    rng = np.random.default_rng(seed)
    hidden = np.empty((replicates, state.size, 1, nodes), np.float32)
    for r in range(replicates):
        owner = rng.permutation(np.repeat(np.arange(3), copies))  # the concept each node copies
        hidden[r, :, 0] = 2.0 * bits[owner].T - 1 + rng.normal(0.0, noise, (state.size, nodes))
    x_out = np.broadcast_to(bits, (replicates, *bits.shape)).copy()
    return analysis.Recording(None, hidden, bits, x_out, state, None, np.ones((replicates, 3)), concepts,
                              {"arch": "planted", "task": "memory", "delay": "planted"},
                              answer_step=np.zeros(state.size, dtype=np.int64))


def removal_controls(replicates: int, alpha: float = params.ALPHA, seed: int = 0) -> list[claims.Control]:
    """The controls of :func:`removal` on ``planted_recording`` (noise 0.3): nodes removed in its
    relay order (positive) and in the order of shuffled relay ranks (negative), against
    ``CONTROL_DRAWS`` random orders."""
    rec = planted_recording(replicates, noise=0.3, seed=seed)
    states = latent.states_of(rec, 0)
    relay = analysis.relay_of_recording(rec, [0], "sign")

    def counted(table):
        return removal(latent.removal_area(latent.removal_scores(states, table, draws=CONTROL_DRAWS, seed=seed)), alpha)

    return [claims.Control("a planted recording (each concept on 4 of 12 nodes), nodes removed in relay order",
                           True, counted(relay)),
            claims.Control("the same recording with its relay ranks shuffled among the nodes", False,
                           counted(shuffled_ranks(relay, seed)))]


# -- the verdict in words ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Report:
    """A recorded claim in words: its verdict, the count behind it, its effect and its controls
    (shown as Markdown in a notebook; ``text`` holds the same)."""

    text: str

    def _repr_markdown_(self) -> str:
        return self.text


def _count_text(supported: int, contradicted: int, total: int, unit: str = "test") -> str:
    return (f"{supported} of {total} {unit}{'s' if total != 1 else ''} support{'s' if supported == 1 else ''} "
            f"the claim and {contradicted} contradict{'s' if contradicted == 1 else ''} it")


PHRASES = {"reproduced": "is **reproduced**", "partly": "is **partly** reproduced",
           "not reproduced": "is **not reproduced**", "contradicted": "is **contradicted**",
           claims.NO_VERDICT: "gets **no verdict**"}


def verdict_of(claim_id: str, evidence: claims.Evidence, alpha: float = params.ALPHA, reachable: bool = True) -> str:
    """The verdict the registry's rule gives ``evidence`` for ``claim_id`` (``irn.claims.verdict_of``
    with the claim's ``reproduced_at``), without recording it: for a robustness check that asks a
    claim's own test again on other data (e.g. ties broken at random)."""
    params.require(claim_id, "claim_id", params.one_of(tuple(claims.REGISTRY)))
    if not isinstance(evidence, claims.Evidence):
        raise ValueError(f"evidence must be an irn.claims.Evidence, got {type(evidence).__name__}")
    return claims.verdict_of(evidence.supported, evidence.total, evidence.contradicted,
                             reproduced_at=_spec(claim_id).reproduced_at, reachable=reachable, alpha=alpha)


def phrase(verdict: str) -> str:
    """A verdict as the end of a sentence about a claim: "is **partly** reproduced", "gets **no verdict**"."""
    return PHRASES[params.require(verdict, "verdict", params.one_of(tuple(PHRASES)))]


def report(claim: claims.Claim) -> Report:
    """``claim`` (from ``irn.claims.record``) in words: the verdict, the count and correction behind
    it, the effect with its 95 % interval and what each control did.

    Parameters
    ----------
    claim : claims.Claim
        A record made by ``irn.claims.record`` (with evidence; controls read from its stats).

    Returns
    -------
    Report
        Markdown text.
    """
    if not isinstance(claim, claims.Claim) or not claim.evidence:
        raise ValueError("claim must be an irn.claims.Claim recorded with evidence (irn.claims.record)")
    e = claims.Evidence(**{k: (np.nan if v is None else v) for k, v in claim.evidence.items()})
    spec = claims.REGISTRY.get(claim.claim_id)
    correction = {"holm": " after Holm's correction", "bh": " after the Benjamini–Hochberg correction"}.get(
        spec.correction if spec else None, "")
    unit = "case" if spec and "no p-value" in spec.test else "test"
    text = (f"**Verdict: {claim.verdict}.** {_count_text(e.supported, e.contradicted, e.total, unit)}{correction}; "
            f"effect {e.effect_text}" + (f" ({e.effect_name})" if e.effect_name else "") + ".")
    found = claim.stats.get("controls", [])
    if found:
        parts = []
        for c in found:
            what = ("found the planted effect" if c["passed"] else "**missed** the planted effect") if c["positive"] \
                else ("found no effect" if c["passed"] else "**found an effect**")
            parts.append(f"{what} in {c['planted']} "
                         f"({_count_text(c['supported'], c['contradicted'], c['total'], unit)})")
        sound = all(c["passed"] for c in found)
        text += (" Controls: the test " + "; it ".join(parts) + "."
                 + ("" if sound else " A test that fails its controls gives **no verdict**."))
    else:
        text += " No controls were run, so the verdict rests on the test alone."
    return Report(text)
