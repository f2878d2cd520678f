"""Scores of node rankings on held-out sequences: knockout curves and their areas, specificity, the
gap to the ablation oracle, precision against planted nodes, agreement between methods (Kendall's
τ), and paired tests over replicates. The knockout test is that of Hintze, Najam & Schossau
(arXiv 2510.01271, §III, Fig 4 and 5).

``compare`` is the one call a chapter makes per network family: rank (``irn.attribution.rank``),
knock out each method's top-k nodes on ``sets.held_out`` (``knockout_curves``), score the curves
(``scores``) and compare the rankings (``agreement``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from irn import claims, params, stats
from irn.attribution.data import Sets, distinct_rows
from irn.attribution.methods import (IG_STEPS, LABELS, METHODS, ORACLE_SEQUENCES, ORACLE_SIZE, PROBE_C, SEARCHES,
                                     SHORTLIST, SPANS, Knockouts, Ranking, check_model, rank)
from irn.models import KNOCKOUT_STATES, Stacked

#: The comparison's upper bound, and the methods a relay ordering is measured against.
ORACLE = "ablation"
BASELINES = tuple(m for m in METHODS if m not in SEARCHES)
#: Knockout sizes of a curve: every size up to this many, else this many sizes spaced geometrically.
CURVE_POINTS = 12


def sizes_for(nodes: int, largest: int | None = None) -> tuple:
    """The knockout set sizes of a curve for a network of ``nodes`` nodes.

    Parameters
    ----------
    nodes : int
    largest : int, optional
        The largest set (default ``min(nodes − 1, max(11, nodes // 4))``: 1…11 for the paper's 12
        nodes, as chapter 4).

    Returns
    -------
    tuple of int
        1…largest, or ``CURVE_POINTS`` sizes spaced geometrically when there are more.
    """
    params.require(nodes, "nodes", params.integer(low=2))
    largest = min(nodes - 1, max(11, nodes // 4)) if largest is None else params.require(
        largest, "largest", params.integer(1, nodes))
    if largest <= CURVE_POINTS:
        return tuple(range(1, largest + 1))
    return tuple(int(s) for s in np.unique(np.round(np.geomspace(1, largest, CURVE_POINTS)).astype(int)))


def knockout_curves(model: Stacked, sets: Sets, ranking: Ranking, sizes=None, span: str = "step",
                    state: str = "both") -> pd.DataFrame:
    """Every concept's accuracy on ``sets.held_out`` as each method's first k nodes are knocked out.

    For every replicate, step of ``ranking``, method and target concept, the target's k first nodes
    are zeroed at the step (``irn.knockout`` semantics) and every concept is scored: its accuracy,
    or for class concepts the recall of the class. Size 0 is the intact network.

    Parameters
    ----------
    model : Stacked
    sets : Sets
    ranking : Ranking
        From ``rank`` on the same model.
    sizes : sequence of int, optional
        Knockout set sizes (default ``sizes_for(model.nodes)``).
    span, state : str
        As ``irn.knockout``.

    Returns
    -------
    DataFrame
        replicate, step, method, target_concept, size, concept, accuracy.
    """
    check_model(model)
    if not isinstance(sets, Sets) or not isinstance(ranking, Ranking):
        raise ValueError("sets and ranking must be an irn.attribution.Sets and a Ranking (irn.attribution.rank)")
    sizes = sizes_for(model.nodes) if sizes is None else sizes
    params.require(sizes, "sizes", params.sequence(params.integer(1, model.nodes), min_length=1))
    params.require(span, "span", params.one_of(SPANS))
    params.require(state, "state", params.one_of(KNOCKOUT_STATES))
    sizes = np.array(sorted(set(int(s) for s in sizes)))
    concepts = list(sets.concepts)
    table = ranking.table
    methods = list(dict.fromkeys(table.method))
    if set(table.replicate) != set(range(model.replicates)) or table.node.max() >= model.nodes:
        raise ValueError("ranking must come from this model (every replicate, its nodes)")
    frames = []
    for step in ranking.steps:
        rows = distinct_rows(sets.held_out, sets.at(sets.held_out, step))
        at_step = table[table.step == step]
        rank_of = np.zeros((model.replicates, len(methods), len(concepts), model.nodes), dtype=np.int64)
        rank_of[at_step.replicate.to_numpy(), at_step.method.map(methods.index).to_numpy(),
                at_step.concept.map(concepts.index).to_numpy(), at_step.node.to_numpy()] = at_step["rank"]
        for r in range(model.replicates):
            knocked = rank_of[r][:, :, None, :] < sizes[None, None, :, None]  # (M, K, S, N)
            keep = torch.cat([torch.ones(1, model.nodes),
                              torch.as_tensor(~knocked, dtype=torch.float32).reshape(-1, model.nodes)])
            acc, _ = Knockouts(model, r, rows, len(concepts), span, state).evaluate(keep)
            intact, rest = acc[0], acc[1:].reshape(len(methods), len(concepts), len(sizes), len(concepts))
            full = np.concatenate([np.broadcast_to(intact, (len(methods), len(concepts), 1, len(concepts))), rest],
                                  axis=2)
            idx = np.indices(full.shape).reshape(4, -1)
            frames.append(pd.DataFrame({
                "replicate": r, "step": step, "method": np.asarray(methods)[idx[0]],
                "target_concept": np.asarray(concepts)[idx[1]], "size": np.concatenate([[0], sizes])[idx[2]],
                "concept": np.asarray(concepts)[idx[3]], "accuracy": full.reshape(-1)}))
    return pd.concat(frames, ignore_index=True)


def scores(curves: pd.DataFrame, oracle: str = ORACLE) -> pd.DataFrame:
    """Area, specificity and gap to the oracle of every ranking's knockout curve.

    Parameters
    ----------
    curves : DataFrame
        ``knockout_curves`` output (any extra columns, such as family, are kept as labels).
    oracle : str
        The method the gap is measured to.

    Returns
    -------
    DataFrame
        The labels, replicate, step, method, target_concept, and: area — the target concept's
        accuracy drop (intact − knocked out) averaged over the set sizes; other — the same for the
        other concepts (their mean); specificity — area − other; gap — area − the oracle's area for
        the same replicate and target (NaN without the oracle).
    """
    need = ["replicate", "step", "method", "target_concept", "size", "concept", "accuracy"]
    missing = [c for c in need if c not in curves]
    if missing:
        raise ValueError(f"curves must be the output of knockout_curves; it lacks {missing}")
    labels = [c for c in curves.columns if c not in need]
    keys = [*labels, "replicate", "step", "method", "target_concept"]
    base = curves[curves["size"] == 0].groupby([*keys, "concept"], sort=False).accuracy.first().rename("base")
    knocked = curves[curves["size"] > 0].join(base, on=[*keys, "concept"])
    knocked = knocked.assign(drop=knocked.base - knocked.accuracy, own=knocked.concept == knocked.target_concept)
    area = knocked[knocked.own].groupby(keys, sort=False)["drop"].mean().rename("area")
    other = knocked[~knocked.own].groupby(keys, sort=False)["drop"].mean().rename("other")
    out = pd.concat([area, other], axis=1).reset_index()
    out["specificity"] = out.area - out.other
    same = [k for k in keys if k != "method"]
    bound = out.loc[out.method == oracle, [*same, "area"]].rename(columns={"area": "oracle"})
    out = out.merge(bound, on=same, how="left")
    out["gap"] = out.area - out.pop("oracle")
    return out


def per_replicate(frame: pd.DataFrame, value: str = "area") -> pd.DataFrame:
    """One value per network and method: ``value`` averaged over target concepts and steps.

    Parameters
    ----------
    frame : DataFrame
        ``scores`` (or any frame with replicate and method), with label columns such as family.
    value : str

    Returns
    -------
    DataFrame
        The labels, replicate, method, ``value``.
    """
    labels = [c for c in frame.columns if c not in ("replicate", "step", "method", "target_concept", "area", "other",
                                                    "specificity", "gap", "precision", "k", "concept")]
    if value not in frame:
        raise ValueError(f"value must be a column of frame, got {value!r}")
    return frame.groupby([*labels, "replicate", "method"], sort=False)[value].mean().reset_index()


def summary(frame: pd.DataFrame, value: str = "area") -> pd.DataFrame:
    """Mean of ``value`` per method with a Student-t 95 % CI over networks.

    Parameters
    ----------
    frame : DataFrame
        ``scores``; each network is first averaged over its target concepts (``per_replicate``).
    value : str

    Returns
    -------
    DataFrame
        The labels (e.g. family), method, mean, lo, hi, n.
    """
    per = per_replicate(frame, value)
    labels = [c for c in per.columns if c not in ("replicate", "method", value)]
    return stats.mean_interval(per, [*labels, "method"], value)


def agreement(table: pd.DataFrame) -> pd.DataFrame:
    """Kendall's τ-b between the node rankings of every pair of methods.

    A method is compared by its score (ties count as ties), the searches (``SEARCHES``) by their
    order.

    Parameters
    ----------
    table : DataFrame
        ``Ranking.table``.

    Returns
    -------
    DataFrame
        replicate, step, concept, a, b, tau (NaN when one ranking is constant).
    """
    need = ["replicate", "concept", "step", "method", "node", "rank", "score"]
    if any(c not in table for c in need):
        raise ValueError(f"table must be Ranking.table (columns {need})")
    methods = list(dict.fromkeys(table.method))
    key = np.where(table.method.isin(SEARCHES), -table["rank"].to_numpy(float), table.score.to_numpy(float))
    frame = table.assign(key=np.round(key, 9))
    wide = frame.pivot_table(index=["replicate", "step", "concept", "node"], columns="method", values="key",
                             sort=False)[methods]
    pairs = [(i, j) for i in range(len(methods)) for j in range(i + 1, len(methods))]
    rows = []
    for (replicate, step, concept), g in wide.groupby(level=[0, 1, 2], sort=False):
        values = g.to_numpy().T  # (M, N)
        upper = np.triu_indices(values.shape[1], k=1)
        sign = np.sign(values[:, :, None] - values[:, None, :])[:, upper[0], upper[1]]  # (M, pairs of nodes)
        dot = sign @ sign.T
        norm = np.sqrt(np.diag(dot))
        with np.errstate(invalid="ignore", divide="ignore"):
            tau = dot / np.outer(norm, norm)
        rows += [(replicate, step, concept, methods[i], methods[j], tau[i, j]) for i, j in pairs]
    return pd.DataFrame(rows, columns=["replicate", "step", "concept", "a", "b", "tau"])


def precision_at_k(table: pd.DataFrame, truth: pd.DataFrame, k: int | None = None) -> pd.DataFrame:
    """Share of each method's k first nodes that are planted nodes.

    Parameters
    ----------
    table : DataFrame
        ``Ranking.table``.
    truth : DataFrame
        replicate, concept, node: the planted nodes.
    k : int, optional
        Default: the number of planted nodes of that replicate and concept.

    Returns
    -------
    DataFrame
        replicate, concept, step, method, k, precision.
    """
    if any(c not in truth for c in ("replicate", "concept", "node")):
        raise ValueError("truth must have columns replicate, concept, node")
    params.require(k, "k", params.optional(params.integer(low=1)))
    planted = truth.groupby(["replicate", "concept"]).node.apply(frozenset)
    rows = []
    for (replicate, concept, step, method), g in table.groupby(["replicate", "concept", "step", "method"], sort=False):
        nodes = planted.get((replicate, concept))
        if nodes is None:
            continue
        top = k or len(nodes)
        first = set(g.nsmallest(top, "rank").node)
        rows.append((replicate, concept, step, method, top, len(first & nodes) / top))
    return pd.DataFrame(rows, columns=["replicate", "concept", "step", "method", "k", "precision"])


def best_baseline(frame: pd.DataFrame, baselines=BASELINES, value: str = "area") -> pd.Series:
    """The baseline with the largest mean ``value`` in each label group (e.g. family).

    Parameters
    ----------
    frame : DataFrame
        ``scores``.
    baselines : sequence of str
    value : str

    Returns
    -------
    Series
        Label group → method ("all" when there are no labels).
    """
    per = per_replicate(frame[frame.method.isin(baselines)], value)
    labels = [c for c in per.columns if c not in ("replicate", "method", value)]
    means = per.groupby([*labels, "method"], sort=False)[value].mean().reset_index()
    if not labels:
        return pd.Series({"all": means.loc[means[value].idxmax(), "method"]})
    return means.loc[means.groupby(labels, sort=False)[value].idxmax()].set_index(labels)["method"]


def differences(frame: pd.DataFrame, method: str, other, value: str = "area") -> pd.DataFrame:
    """Per network: ``method``'s ``value`` minus ``other``'s, each first averaged over concepts.

    Parameters
    ----------
    frame : DataFrame
        ``scores``.
    method : str
    other : str or Series
        One method, or a label group → method Series such as ``best_baseline``'s.
    value : str

    Returns
    -------
    DataFrame
        The labels, replicate, difference.
    """
    per = per_replicate(frame, value)
    labels = [c for c in per.columns if c not in ("replicate", "method", value)]
    wide = per.pivot_table(index=[*labels, "replicate"], columns="method", values=value, sort=False)
    if isinstance(other, str):
        rival = wide[other]
    else:
        keys = wide.index.droplevel("replicate")
        rival = pd.Series([wide.at[i, other.loc[k]] for i, k in zip(wide.index, keys)], index=wide.index)
    return (wide[method] - rival).rename("difference").reset_index()


@dataclass(frozen=True)
class Against:
    """``method`` against the best of several baselines, per label group (``against_best``).

    Attributes
    ----------
    tests : DataFrame
        The labels, best (the baseline chosen most often), mean (``method``), baseline (mean of the
        baselines chosen per network), difference (mean of ``method`` − chosen baseline), p_value
        (Wilcoxon of difference + margin), n.
    differences : DataFrame
        The labels, replicate, best (chosen for this network), difference.
    """

    tests: pd.DataFrame
    differences: pd.DataFrame


def against_best(frame: pd.DataFrame, method: str = "relay", baselines=BASELINES, value: str = "area",
                 margin: float = 0.0) -> Against:
    """``method`` against the best baseline of each label group, chosen without the network compared.

    For network r the best baseline is the one with the largest mean ``value`` over the group's
    other networks (leave one out), so that choosing the best on the same data does not favour it.

    Parameters
    ----------
    frame : DataFrame
        ``scores`` with label columns (e.g. family).
    method : str
    baselines : sequence of str
    value : str
    margin : float
        Non-inferiority margin δ: the Wilcoxon test is of (``method`` − chosen baseline + δ) over
        networks; p < alpha with a positive difference means ``method`` is at most δ worse, with a
        negative one that it is more than δ worse.

    Returns
    -------
    Against
    """
    params.require(margin, "margin", params.number(0, None))
    per = per_replicate(frame[frame.method.isin([method, *baselines])], value)
    labels = [c for c in per.columns if c not in ("replicate", "method", value)]
    wide = per.pivot_table(index=[*labels, "replicate"], columns="method", values=value, sort=False)
    if method not in wide:
        raise ValueError(f"frame must hold scores of {method!r}")
    pool_ = [b for b in baselines if b in wide]
    if not pool_:
        raise ValueError(f"frame must hold scores of at least one of the baselines {tuple(baselines)}")
    rows, diffs = [], []
    groups = wide.groupby(level=list(range(len(labels))), sort=False) if labels else [("all", wide)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        values = g[pool_].to_numpy()
        total, n = values.sum(axis=0), len(g)
        rest = (total[None, :] - values) / max(n - 1, 1) if n > 1 else values  # leave-one-out means
        chosen = np.asarray(pool_)[np.argmax(rest, axis=1)]
        rival = values[np.arange(n), np.argmax(rest, axis=1)]
        d = g[method].to_numpy() - rival
        test = stats.paired_test(d + margin, np.zeros(n))
        names, counts = np.unique(chosen, return_counts=True)
        rows.append({**dict(zip(labels, key)), "best": names[np.argmax(counts)], "mean": g[method].mean(),
                     "baseline": rival.mean(), "difference": d.mean(), "p_value": test.p_value, "n": n})
        diffs.append(pd.DataFrame({**{lab: k for lab, k in zip(labels, key)},
                                   "replicate": g.index.get_level_values("replicate"), "best": chosen,
                                   "difference": d}))
    return Against(pd.DataFrame(rows), pd.concat(diffs, ignore_index=True))


def verdicts(against: Against, margin: float = 0.0, alpha: float = params.ALPHA) -> pd.DataFrame:
    """Each group's test corrected (Holm over the groups) and counted as ``irn.claims.tally`` does.

    Parameters
    ----------
    against : Against
    margin : float
        The δ of ``against_best``.
    alpha : float

    Returns
    -------
    DataFrame
        ``against.tests`` with p_holm and verdict: "supports" (p_holm < alpha, at most δ worse),
        "contradicts" (p_holm < alpha, more than δ worse) or "neither".
    """
    if not isinstance(against, Against):
        raise ValueError("against must be an irn.attribution.Against (from against_best), "
                         f"got {type(against).__name__}")
    params.require(margin, "margin", params.number(0, None))
    params.require(alpha, "alpha", params.SIGNIFICANCE)
    tests = against.tests.assign(p_holm=claims.adjust(against.tests.p_value.to_numpy(), "holm"))
    tests["verdict"] = ["supports" if claims.supports(d + margin, p, alpha=alpha) else
                        "contradicts" if claims.contradicts(d + margin, p, alpha=alpha) else "neither"
                        for d, p in zip(tests.difference, tests.p_holm)]
    return tests


def verdict_table(tests: pd.DataFrame) -> pd.DataFrame:
    """``verdicts`` as a table for a page.

    Parameters
    ----------
    tests : DataFrame
        ``verdicts`` output.

    Returns
    -------
    DataFrame
        One row per group: best baseline (by name), relay, baseline, Δ (true minus signs), p (Holm)
        as text, verdict.
    """
    need = ["best", "mean", "baseline", "difference", "p_holm", "verdict"]
    if any(c not in tests for c in need):
        raise ValueError(f"tests must be the output of verdicts (columns {need})")
    labels = [c for c in tests.columns if c not in (*need, "p_value", "n")]
    out = pd.DataFrame({"best baseline": tests.best.map(LABELS), "relay": tests["mean"].map(_number),
                        "baseline": tests.baseline.map(_number), "Δ": tests.difference.map(_number),
                        "p (Holm)": tests.p_holm.map(p_text), "verdict": tests.verdict})
    return out.set_index(pd.MultiIndex.from_frame(tests[labels]) if len(labels) > 1 else tests[labels[0]]) \
        if labels else out


def versus(frame: pd.DataFrame, method: str, other, value: str = "area", margin: float = 0.0) -> pd.DataFrame:
    """Paired Wilcoxon tests over networks: ``method`` against ``other`` in each label group.

    Parameters
    ----------
    frame : DataFrame
        ``scores`` (label columns such as family are groups).
    method : str
    other : str or Series
        One method for every group, or a group → method Series (e.g. ``best_baseline``).
    value : str
    margin : float
        Non-inferiority margin δ: the test is of (``method`` + δ) − ``other``, so p < alpha with a
        positive difference means ``method`` is at most δ worse, with a negative one more than δ.

    Returns
    -------
    DataFrame
        The labels, method, other, mean, other_mean, difference (``method`` − ``other``, without δ),
        p_value, n.
    """
    params.require(margin, "margin", params.number(0, None))
    per = per_replicate(frame, value)
    labels = [c for c in per.columns if c not in ("replicate", "method", value)]
    wide = per.pivot_table(index=[*labels, "replicate"], columns="method", values=value, sort=False)
    rows = []
    groups = wide.groupby(level=list(range(len(labels))), sort=False) if labels else [("all", wide)]
    for key, g in groups:
        rival = other if isinstance(other, str) else other.loc[key]
        if method not in g or rival not in g:
            raise ValueError(f"frame must hold scores of {method!r} and {rival!r}")
        a, b = g[method].to_numpy(), g[rival].to_numpy()
        test = stats.paired_test(a + margin, b)
        rows.append({**dict(zip(labels, key if isinstance(key, tuple) else (key,))), "method": method, "other": rival,
                     "mean": a.mean(), "other_mean": b.mean(), "difference": (a - b).mean(),
                     "p_value": test.p_value, "n": len(a)})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Comparison:
    """Everything ``compare`` measured on one network family.

    Attributes
    ----------
    ranking : Ranking
    curves : DataFrame
        ``knockout_curves``.
    scores : DataFrame
        ``scores``.
    agreement : DataFrame
        ``agreement``.
    cost : DataFrame
        method, seconds (CPU), networks, per_network — of the rankings.
    scoring_seconds : float
        CPU time of the knockouts that scored the rankings (the same for every method).
    sizes : tuple of int
        The knockout set sizes.
    """

    ranking: Ranking
    curves: pd.DataFrame
    scores: pd.DataFrame
    agreement: pd.DataFrame
    cost: pd.DataFrame
    scoring_seconds: float
    sizes: tuple

    def labelled(self, **labels) -> "Comparison":
        """The same comparison with label columns added to every table.

        Parameters
        ----------
        **labels : str
            Column name → value, e.g. ``family="GRU, memory"``.

        Returns
        -------
        Comparison
        """
        add = lambda f: f.assign(**labels)  # noqa: E731
        ranking = Ranking(add(self.ranking.table), add(self.ranking.cost), add(self.ranking.relay),
                          add(self.ranking.completeness), self.ranking.steps, self.ranking.align)
        return Comparison(ranking, add(self.curves), add(self.scores), add(self.agreement), add(self.cost),
                          self.scoring_seconds, self.sizes)


def compare(model: Stacked, sets: Sets, methods=METHODS, sizes=None, seed: int = 0, ig_steps: int = IG_STEPS,
            probe_c: float = PROBE_C, oracle_size: int | None = None, shortlist: int = SHORTLIST,
            span: str = "step", state: str = "both", oracle_sequences: int = ORACLE_SEQUENCES) -> Comparison:
    """Rank the nodes by every method and score the rankings: the one call per network family.

    The nodes of ``model`` are ranked on ``sets.fit`` and the rankings scored on ``sets.held_out``.

    Parameters
    ----------
    model : Stacked
    sets : Sets
    methods : sequence of str
    sizes : sequence of int, optional
        Knockout set sizes (default ``sizes_for(model.nodes)``).
    seed, ig_steps, probe_c, shortlist, span, state, oracle_sequences
        As ``rank``.
    oracle_size : int, optional
        The most nodes the ablation oracle picks one by one (default ``ORACLE_SIZE``; never more
        than the largest size).

    Returns
    -------
    Comparison
    """
    check_model(model)
    sizes = sizes_for(model.nodes) if sizes is None else sizes
    params.require(sizes, "sizes", params.sequence(params.integer(1, model.nodes), min_length=1))
    params.require(oracle_size, "oracle_size", params.optional(params.integer(low=1)))
    oracle_size = min(max(sizes), model.nodes - 1, ORACLE_SIZE if oracle_size is None else oracle_size)
    ranking = rank(model, sets, methods, seed=seed, ig_steps=ig_steps, probe_c=probe_c,
                   oracle_size=oracle_size, shortlist=shortlist, span=span, state=state,
                   oracle_sequences=oracle_sequences)
    start = time.process_time()
    curves = knockout_curves(model, sets, ranking, sizes, span, state)
    scoring = time.process_time() - start
    cost = ranking.cost.assign(per_network=ranking.cost.seconds / ranking.cost.networks)
    return Comparison(ranking, curves, scores(curves), agreement(ranking.table), cost, scoring,
                      tuple(sorted(set(int(s) for s in sizes))))


def combine(comparisons: dict) -> Comparison:
    """One ``Comparison`` from several, every table labelled with its family.

    Parameters
    ----------
    comparisons : dict
        Family label → ``Comparison``.

    Returns
    -------
    Comparison
        Tables concatenated with a ``family`` column; ``scoring_seconds`` summed; sizes united.
    """
    if not isinstance(comparisons, dict) or not comparisons or \
            not all(isinstance(c, Comparison) for c in comparisons.values()):
        raise ValueError("comparisons must be a non-empty dict of family label -> irn.attribution.Comparison")
    parts = [c.labelled(family=str(label)) for label, c in comparisons.items()]
    cat = lambda f: pd.concat([f(c) for c in parts], ignore_index=True)  # noqa: E731
    first = parts[0].ranking
    ranking = Ranking(cat(lambda c: c.ranking.table), cat(lambda c: c.ranking.cost), cat(lambda c: c.ranking.relay),
                      cat(lambda c: c.ranking.completeness), first.steps, first.align)
    return Comparison(ranking, cat(lambda c: c.curves), cat(lambda c: c.scores), cat(lambda c: c.agreement),
                      cat(lambda c: c.cost), float(sum(c.scoring_seconds for c in parts)),
                      tuple(sorted(set().union(*(c.sizes for c in parts)))))


def curve_summary(curves: pd.DataFrame) -> pd.DataFrame:
    """The target concept's accuracy drop per knockout size, mean over networks with a 95 % CI.

    Parameters
    ----------
    curves : DataFrame
        ``knockout_curves`` (with label columns such as family); each network is first averaged
        over its target concepts.

    Returns
    -------
    DataFrame
        The labels, method, size, mean, lo, hi, n.
    """
    need = ["replicate", "method", "target_concept", "size", "concept", "accuracy"]
    if any(c not in curves for c in need):
        raise ValueError(f"curves must be the output of knockout_curves (columns {need})")
    labels = [c for c in curves.columns if c not in (*need, "step")]
    own = curves[curves.concept == curves.target_concept]
    keys = [*labels, "replicate", "method", "target_concept"]
    base = own[own["size"] == 0].groupby(keys, sort=False).accuracy.first().rename("base")
    own = own.join(base, on=keys)
    own = own.assign(drop=own.base - own.accuracy)
    per = own.groupby([*labels, "replicate", "method", "size"], sort=False)["drop"].mean().reset_index()
    return stats.mean_interval(per, [*labels, "method", "size"], "drop")


def as_good(frame: pd.DataFrame, cost: pd.DataFrame, reference: str = "relay", margin: float = 0.0,
            alpha: float = params.ALPHA, value: str = "area") -> pd.DataFrame:
    """Which methods find nodes at least as harmful to knock out as ``reference``, and which cost less.

    Parameters
    ----------
    frame : DataFrame
        ``scores`` with label columns (e.g. family).
    cost : DataFrame
        ``Comparison.cost`` (method, seconds, networks and the same labels).
    reference : str
    margin : float
        δ: a method is as good when (method + δ) − reference is significantly positive (paired
        Wilcoxon over networks, Holm over the methods of a group).
    alpha : float
    value : str

    Returns
    -------
    DataFrame
        The labels, method, reference, mean, reference_mean, difference, p_value, n, p_holm,
        as_good, per_network (CPU seconds), cheaper (per_network below the reference's).
    """
    params.require(alpha, "alpha", params.SIGNIFICANCE)
    methods = [m for m in dict.fromkeys(frame.method) if m != reference]
    rows = [versus(frame, m, reference, value, margin) for m in methods]
    out = pd.concat(rows, ignore_index=True).rename(columns={"other": "reference", "other_mean": "reference_mean"})
    labels = [c for c in out.columns if c not in ("method", "reference", "mean", "reference_mean", "difference",
                                                   "p_value", "n")]
    group = out.groupby(labels, sort=False) if labels else [(None, out)]
    out["p_holm"] = np.nan
    for _, g in group:
        out.loc[g.index, "p_holm"] = claims.adjust(g.p_value.to_numpy(), "holm")
    out["as_good"] = (out.p_holm < alpha) & (out.difference + margin > 0)
    per = cost.assign(per_network=cost.seconds / cost.networks)
    keys = [c for c in labels if c in per.columns]
    price = per.set_index([*keys, "method"]).per_network
    out["per_network"] = [price.get(tuple([*(r[k] for k in keys), r["method"]]) if keys else r["method"], np.nan)
                          for _, r in out.iterrows()]
    mine = [price.get(tuple([*(r[k] for k in keys), reference]) if keys else reference, np.nan)
            for _, r in out.iterrows()]
    out["cheaper"] = out.per_network < np.asarray(mine)
    return out


def agreement_matrix(agreement_frame: pd.DataFrame) -> pd.DataFrame:
    """Mean Kendall's τ of every ordered pair of methods over all networks, concepts, steps and families.

    Parameters
    ----------
    agreement_frame : DataFrame
        ``agreement`` output.

    Returns
    -------
    DataFrame
        a, b, tau: both triangles and the diagonal (τ = 1).
    """
    if any(c not in agreement_frame for c in ("a", "b", "tau")):
        raise ValueError("agreement_frame must be the output of agreement (columns a, b, tau)")
    mean = agreement_frame.groupby(["a", "b"], sort=False).tau.mean().reset_index()
    methods = list(dict.fromkeys([*mean.a, *mean.b]))
    both = pd.concat([mean, mean.rename(columns={"a": "b", "b": "a"}),
                      pd.DataFrame({"a": methods, "b": methods, "tau": 1.0})], ignore_index=True)
    return both[["a", "b", "tau"]]


def cost_benefit(comparison: "Comparison", oracle: str = ORACLE) -> pd.DataFrame:
    """Per method: CPU time per network and the share of the oracle's knockout area it reaches.

    Parameters
    ----------
    comparison : Comparison
        Usually ``combine``'s; the share is each family's mean area over the oracle's, then the mean
        over families with a Student-t 95 % CI over families.
    oracle : str

    Returns
    -------
    DataFrame
        method, per_network (CPU seconds, all families together), relative, lo, hi, families.
    """
    if not isinstance(comparison, Comparison):
        raise ValueError(f"comparison must be an irn.attribution.Comparison, got {type(comparison).__name__}")
    means = summary(comparison.scores)
    labels = [c for c in means.columns if c not in ("method", "mean", "lo", "hi", "n")]
    if not labels:
        means = means.assign(family="all")
        labels = ["family"]
    bound = means[means.method == oracle].set_index(labels)["mean"]
    if bound.empty:
        raise ValueError(f"comparison must include the {oracle!r} method (the reference of the shares)")
    means = means.join(bound.rename("oracle"), on=labels)
    means = means.assign(relative=means["mean"] / means.oracle)
    share = stats.mean_interval(means, ["method"], "relative").rename(columns={"mean": "relative", "n": "families"})
    cost = comparison.cost.groupby("method", sort=False)[["seconds", "networks"]].sum()
    share["per_network"] = share.method.map(cost.seconds / cost.networks)
    return share[["method", "per_network", "relative", "lo", "hi", "families"]]


def overview(comparison: "Comparison", reference: str = "relay") -> pd.DataFrame:
    """One row per method over every family of ``comparison``.

    Parameters
    ----------
    comparison : Comparison
        ``combine``'s.
    reference : str
        The method the τ column compares with.

    Returns
    -------
    DataFrame
        Indexed by the methods' names (``LABELS``): share of the oracle's area with its 95 % CI (low,
        high), specificity and gap to the oracle (means over families), mean Kendall's τ with
        ``reference``, CPU milliseconds per network.
    """
    share = cost_benefit(comparison).set_index("method")
    per_family = lambda v: summary(comparison.scores, v).groupby("method", sort=False)["mean"].mean()  # noqa: E731
    tau = comparison.agreement[(comparison.agreement.a == reference) | (comparison.agreement.b == reference)]
    tau = tau.assign(other=np.where(tau.a == reference, tau.b, tau.a)).groupby("other").tau.mean()
    methods = [m for m in METHODS if m in share.index]
    out = pd.DataFrame({
        "share of the oracle's area": share.relative, "low": share.lo, "high": share.hi,
        "specificity": per_family("specificity"), "gap to the oracle": per_family("gap"),
        f"τ with {reference}": tau, "CPU ms per network": 1000 * share.per_network}).loc[methods]
    out.loc[reference, f"τ with {reference}"] = 1.0
    return out.rename(index=LABELS).rename_axis("method")


def pool(comparisons: dict) -> Comparison:
    """One family from comparisons of different models (e.g. one per network size).

    Parameters
    ----------
    comparisons : dict
        Name → ``Comparison`` (the names are not kept).

    Returns
    -------
    Comparison
        Every table concatenated, the replicates numbered on from one model to the next so each
        network stays its own pair in the paired tests; costs summed per method.
    """
    if not isinstance(comparisons, dict) or not comparisons or \
            not all(isinstance(c, Comparison) for c in comparisons.values()):
        raise ValueError("comparisons must be a non-empty dict of name -> irn.attribution.Comparison")
    parts, offset = [], 0
    for c in comparisons.values():
        shift = lambda f, o=offset: f.assign(replicate=f.replicate + o) if "replicate" in f else f  # noqa: E731
        parts.append((c, shift))
        offset += int(c.ranking.cost.networks.iloc[0])
    cat = lambda f: pd.concat([s(f(c)) for c, s in parts], ignore_index=True)  # noqa: E731
    first = parts[0][0].ranking
    cost = pd.concat([c.cost for c, _ in parts]).groupby("method", sort=False)[["seconds", "networks"]].sum()
    cost = cost.reset_index().assign(per_network=lambda f: f.seconds / f.networks)
    ranking = Ranking(cat(lambda c: c.ranking.table), cost[["method", "seconds", "networks"]],
                      cat(lambda c: c.ranking.relay), cat(lambda c: c.ranking.completeness), first.steps, first.align)
    return Comparison(ranking, cat(lambda c: c.curves), cat(lambda c: c.scores), cat(lambda c: c.agreement), cost,
                      float(sum(c.scoring_seconds for c, _ in parts)),
                      tuple(sorted(set().union(*(c.sizes for c, _ in parts)))))


def p_text(p: float) -> str:
    """A p-value for a table.

    Parameters
    ----------
    p : float
        The p-value.

    Returns
    -------
    str
        "< 0.001" below 0.001, else two significant digits.
    """
    return "< 0.001" if p < 0.001 else f"{p:.2g}"


def _number(value: float, digits: int = 3) -> str:
    if pd.isna(value):
        return "—"
    text = f"{value:.{digits}f}"
    return (text[1:] if float(text) == 0 and text.startswith("-") else text).replace("-", "−")  # no "−0.000"


def _cpu_ms(value: float) -> str:
    """Two significant digits, written out (0.013, 4.6, 46, 110), never in exponent form."""
    if pd.isna(value):
        return "—"
    return f"{float(f'{value:.2g}'):g}" if value < 100 else f"{float(f'{value:.2g}'):.0f}"


def overview_table(frame: pd.DataFrame) -> pd.DataFrame:
    """``overview`` as a table for a page.

    Parameters
    ----------
    frame : DataFrame
        ``overview`` output.

    Returns
    -------
    DataFrame
        Text cells: the share with its interval in one cell, signed numbers with a true minus, CPU
        time to two significant digits.
    """
    need = ["share of the oracle's area", "low", "high", "specificity", "gap to the oracle", "CPU ms per network"]
    if any(c not in frame for c in need):
        raise ValueError(f"frame must be the output of overview (columns {need})")
    tau = [c for c in frame.columns if c.startswith("τ with")]
    out = pd.DataFrame(index=frame.index)
    out["share of the oracle's area [95 % CI]"] = [
        f"{_number(m, 2)} [{_number(lo, 2)}, {_number(hi, 2)}]"
        for m, lo, hi in frame[["share of the oracle's area", "low", "high"]].to_numpy()]
    for column in ("specificity", "gap to the oracle", *tau):
        out[column] = frame[column].map(_number)
    out["CPU ms per network"] = frame["CPU ms per network"].map(_cpu_ms)
    return out
