"""The flow analysis of a network's replicates under named ``Choices`` (significance → graph →
levels → layers), the direction test over replicates and its verdict, and the same verdict under
every defensible variation of the choices."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from irn import params
from irn.flow._shared import CONDITION_TIMES, CORRECTIONS, MEASURES, NULLS, ROLES, _lags, _roles
from irn.flow.graph import flow_graph, level_clustering, trophic_levels
from irn.flow.significance import flow_significance


# -- the pipeline over replicates, under named choices ---------------------------------------------------
@dataclass(frozen=True)
class Choices:
    """Every choice the flow analysis makes, named (the defaults are the book's main analysis).

    Attributes
    ----------
    measure : str
        One of ``MEASURES``.
    lags : tuple of int
        Source lags (steps).
    k : int
        KSG neighbours.
    history : int
        Steps of the target's past conditioned on.
    input_time : str
        The inputs are conditioned on at the "source"'s or the "target"'s time.
    into_inputs : bool
        Keep edges *into* input neurons (False: drop them — nothing in the network drives an input
        clamped to data).
    theiler : int
        Theiler window (steps).
    surrogates : int
        Per edge.
    null : str
        "edge" or "target" (pooled over a target's sources).
    correction : str or None
        "bh" or None.
    alpha : float
        The false-discovery rate.
    permutations : int
        Rewirings of the layer test.
    """

    measure: str = "transfer"
    lags: tuple = (1,)
    k: int = 3
    history: int = 1
    input_time: str = "target"
    into_inputs: bool = False
    theiler: int = 0
    surrogates: int = 99
    null: str = "edge"
    correction: str | None = "bh"
    alpha: float = params.ALPHA
    permutations: int = 99

    def __post_init__(self):
        params.require(self.measure, "measure", params.one_of(MEASURES))
        object.__setattr__(self, "lags", tuple(_lags(self.lags)))
        for name, low in (("k", 1), ("history", 1), ("theiler", 0), ("surrogates", 1), ("permutations", 1)):
            params.require(getattr(self, name), name, params.integer(low=low))
        params.require(self.input_time, "input_time", params.one_of(CONDITION_TIMES))
        params.require(self.into_inputs, "into_inputs", params.boolean())
        params.require(self.null, "null", params.one_of(NULLS))
        params.require(self.correction, "correction", params.one_of(CORRECTIONS))
        params.require(self.alpha, "alpha", params.SIGNIFICANCE)

    def describe(self) -> str:
        """The choices in words, e.g. for a table row.

        Returns
        -------
        str
        """
        return (f"{self.measure}, lags {list(self.lags)}, k = {self.k}, history {self.history}, input at the "
                f"{self.input_time}'s time, edges into inputs {'kept' if self.into_inputs else 'dropped'}, "
                f"Theiler {self.theiler}, {self.surrogates} surrogates ({self.null} null), "
                f"{'BH' if self.correction else 'no correction'}")


@dataclass(frozen=True)
class ReplicateFlow:
    """The flow analysis of several replicates of one network under one set of ``Choices``.

    Attributes
    ----------
    edges : DataFrame
        ``flow_significance`` rows with a replicate column.
    levels : DataFrame
        replicate, neuron, role, level (trophic level in the flow graph of significant edges; NaN for
        a neuron without edges).
    graphs : DataFrame
        One row per replicate: edges (significant, after dropping edges into inputs when chosen),
        incoherence, null_incoherence (median over the layer test's rewirings), groups, silhouette,
        layers_p (``level_clustering``).
    choices : Choices
        The choices used.
    """

    edges: pd.DataFrame
    levels: pd.DataFrame
    graphs: pd.DataFrame
    choices: Choices


def replicate_flow(activity, roles, choices: Choices | None = None, *, seed: int = 0, **changes) -> ReplicateFlow:
    """``flow_significance`` → ``flow_graph`` → ``trophic_levels`` and ``level_clustering`` for every
    replicate.

    Parameters
    ----------
    activity : ndarray, shape (replicates, samples, neurons)
    roles : sequence of str
        One of ``ROLES`` per neuron; the "input" neurons are the conditions of the transfer-entropy
        measures and the exogenous neurons of the graph.
    choices : Choices, optional
        Default ``Choices()``.
    seed : int
        Replicate r uses seed + r.
    **changes
        Fields of ``choices`` to replace, e.g. ``replicate_flow(a, r, measure="delayed")``.

    Returns
    -------
    ReplicateFlow
    """
    choices = replace(choices or Choices(), **changes)
    activity = params.array(activity, "activity", ndim=3)
    roles = _roles(roles, activity.shape[2])
    params.require(seed, "seed", params.SEED)
    inputs = np.flatnonzero(roles == "input")
    edges, levels, graphs = [], [], []
    for r, values in enumerate(activity):
        table = flow_significance(values, choices.measure, list(choices.lags), choices.k, roles=roles,
                                  conditions=inputs, history=choices.history, condition_time=choices.input_time,
                                  surrogates=choices.surrogates, null=choices.null, correction=choices.correction,
                                  alpha=choices.alpha, theiler=choices.theiler, seed=seed + r)
        weights = flow_graph(table, len(roles), exogenous=None if choices.into_inputs else inputs)
        trophic = trophic_levels(weights)
        layers = level_clustering(weights, permutations=choices.permutations, seed=seed + r)
        edges.append(table.assign(replicate=r))
        levels.append(pd.DataFrame({"replicate": r, "neuron": np.arange(len(roles)), "role": roles,
                                    "level": trophic.levels}))
        graphs.append({"replicate": r, "edges": int((weights > 0).sum()), "incoherence": trophic.incoherence,
                       "null_incoherence": float(np.median(layers.null)) if len(layers.null) else np.nan,
                       "groups": layers.groups, "silhouette": layers.silhouette, "layers_p": layers.p_value})
    return ReplicateFlow(pd.concat(edges, ignore_index=True), pd.concat(levels, ignore_index=True),
                         pd.DataFrame(graphs), choices)


COMPARISONS = (("output", "hidden"), ("hidden", "input"))


def direction_tests(levels: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
    """Are outputs further along than hidden neurons, and hidden neurons than inputs?

    Per replicate, the mean level of each role; then a Wilcoxon signed-rank test over replicates
    (``irn.stats.paired_test``) of output − hidden and hidden − input.

    Parameters
    ----------
    levels : DataFrame
        ``ReplicateFlow.levels`` (replicate, role, level).
    seed : int
        Of the bootstrap interval.

    Returns
    -------
    DataFrame
        One row per comparison ("output − hidden", "hidden − input"): difference (mean over
        replicates of the per-replicate difference of the roles' mean levels, in levels), low, high
        (its 95 % bootstrap interval), p_value, n (replicates where both roles have levels),
        differences (the per-replicate values, a list).
    """
    from irn.claims import bootstrap_interval
    from irn.stats import paired_test

    if not isinstance(levels, pd.DataFrame) or not {"replicate", "role", "level"} <= set(levels.columns):
        raise ValueError("levels must be a DataFrame with columns replicate, role, level")
    means = levels.groupby(["replicate", "role"])["level"].mean().unstack("role").reindex(columns=list(ROLES))
    rows = []
    for upper, lower in COMPARISONS:
        pair = means[[upper, lower]].dropna()
        name = f"{upper} − {lower}"
        if len(pair) == 0:
            rows.append((name, np.nan, np.nan, np.nan, np.nan, 0, []))
            continue
        differences = (pair[upper] - pair[lower]).to_numpy()
        test = paired_test(pair[upper].to_numpy(), pair[lower].to_numpy())
        _, low, high = bootstrap_interval(differences, seed=seed)
        rows.append((name, test.difference, low, high, test.p_value, test.n, differences.tolist()))
    return pd.DataFrame(rows, columns=["comparison", "difference", "low", "high", "p_value", "n", "differences"])


def direction_verdict(tests: pd.DataFrame, alpha: float = params.ALPHA) -> tuple[str, int, int, int]:
    """The verdict on "outputs sit further along than hidden neurons, hidden further than inputs".

    Holm-corrected within the rows, counted by ``irn.claims.verdict_of``; "no verdict" when no row
    could reach p < alpha after the correction (``claims.can_reach`` at alpha / rows).

    Parameters
    ----------
    tests : DataFrame
        ``direction_tests`` rows (any number of networks).
    alpha : float

    Returns
    -------
    verdict : str
    supported, contradicted, total : int
    """
    from irn import claims

    ok = tests.dropna(subset=["p_value"])
    if ok.empty:
        return claims.NO_VERDICT, 0, 0, 0
    counted = claims.tally(ok["difference"].to_numpy(), ok["p_value"].to_numpy(), alpha=alpha, correction="holm")
    reachable = bool(any(claims.can_reach(int(n), alpha / len(ok)) for n in ok["n"]))  # after Holm
    return (claims.verdict_of(counted.supported, counted.total, counted.contradicted, reachable=reachable,
                              alpha=alpha), counted.supported, counted.contradicted, counted.total)


@dataclass(frozen=True)
class Sensitivity:
    """The direction verdict under every examined choice.

    Attributes
    ----------
    table : DataFrame
        One row per (choice, setting, comparison): choice (the field of ``Choices`` varied, or
        "baseline"), setting (its value in words), comparison, difference, low, high, p_value, n,
        verdict (of the two comparisons together, ``direction_verdict``), same (the verdict equals the
        baseline's).
    baseline : str
        The baseline verdict.
    robust : bool
        Every setting gives it.
    depends_on : tuple of str
        The choices whose settings change it (empty when robust).
    """

    table: pd.DataFrame
    baseline: str
    robust: bool
    depends_on: tuple


def _setting(field: str, value) -> str:
    words = {"input_time": {"source": "at the source's time", "target": "at the target's time"},
             "into_inputs": {True: "kept", False: "dropped"},
             "null": {"edge": "per edge", "target": "pooled per target"}}
    if field in words:
        return words[field][value]
    if field == "lags":
        return ", ".join(map(str, value))
    return str(value)


def direction_sensitivity(activity, roles, base: Choices | None = None, variations: dict | None = None, *,
                          seed: int = 0, alpha: float = params.ALPHA) -> Sensitivity:
    """The direction verdict under the baseline choices and under each single variation.

    Parameters
    ----------
    activity : ndarray, shape (replicates, samples, neurons)
    roles : sequence of str
        One of ``ROLES`` per neuron, as for ``replicate_flow``.
    base : Choices, optional
        The baseline (default ``Choices()``).
    variations : dict, optional
        Field of ``Choices`` → list of values, each tried with the other fields at the baseline
        (default: input time, edges into inputs, history 2 and 3, lags (1, 2), Theiler 5, k 6). A
        variation of ``into_inputs`` reuses the baseline's edges (no new estimates).
    seed : int
    alpha : float
        Level of the direction tests.

    Returns
    -------
    Sensitivity
    """
    base = base or Choices()
    if variations is None:
        variations = {"input_time": ["source"], "into_inputs": [not base.into_inputs], "history": [2, 3],
                      "lags": [(1, 2)], "theiler": [5], "k": [6]}
    if not isinstance(variations, dict) or not all(f in Choices.__dataclass_fields__ for f in variations):
        raise ValueError(f"variations must map fields of Choices ({list(Choices.__dataclass_fields__)}) to lists")
    params.require(alpha, "alpha", params.SIGNIFICANCE)
    activity = params.array(activity, "activity", ndim=3)
    roles = _roles(roles, activity.shape[2])
    runs = [("baseline", "—", base, None)]
    for field, values in variations.items():
        params.require(values, f"variations[{field!r}]", params.sequence(min_length=1))
        runs += [(field, _setting(field, v), replace(base, **{field: v}), field) for v in values]
    baseline = replicate_flow(activity, roles, replace(base, permutations=1), seed=seed)
    rows = []
    for choice, setting, choices, field in runs:
        if field is None:
            result = baseline
        elif field == "into_inputs":  # the same edges in another graph: no new estimates
            result = _regraph(baseline, roles, choices)
        else:
            result = replicate_flow(activity, roles, replace(choices, permutations=1), seed=seed)
        tests = direction_tests(result.levels, seed=seed)
        verdict = direction_verdict(tests, alpha)[0]
        for t in tests.itertuples():
            rows.append((choice, setting, t.comparison, t.difference, t.low, t.high, t.p_value, t.n, verdict))
    table = pd.DataFrame(rows, columns=["choice", "setting", "comparison", "difference", "low", "high", "p_value",
                                        "n", "verdict"])
    baseline = table["verdict"].iloc[0]
    table["same"] = table["verdict"] == baseline
    depends = tuple(dict.fromkeys(table.loc[~table["same"], "choice"]))
    return Sensitivity(table, baseline, not depends, depends)


def _regraph(result: ReplicateFlow, roles, choices: Choices) -> ReplicateFlow:
    """The same edges as ``result`` with another ``into_inputs``: new graphs and levels."""
    inputs = np.flatnonzero(roles == "input")
    levels = []
    for r, table in result.edges.groupby("replicate"):
        weights = flow_graph(table, len(roles), exogenous=None if choices.into_inputs else inputs)
        levels.append(pd.DataFrame({"replicate": r, "neuron": np.arange(len(roles)), "role": roles,
                                    "level": trophic_levels(weights).levels}))
    return ReplicateFlow(result.edges, pd.concat(levels, ignore_index=True), result.graphs, choices)
