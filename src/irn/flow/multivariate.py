"""Multivariate transfer entropy: per target, the greedy selection of sources conditioned on those
already chosen (max statistic), pruning (min statistic) and an omnibus test — the algorithm of
Lizier & Rubinov (2012) and Novelli et al. (Network Neuroscience 3:827, 2019) as IDTxl runs it,
written on ``irn.ksg.conditional_scan`` (IDTxl is GPL)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from irn import ksg
from irn.flow._shared import COLUMNS, _bh, _p_settled, _scan


@dataclass
class _Round:
    remaining: list
    value: np.ndarray
    surrogate: np.ndarray
    p_value: np.ndarray


def _multivariate_target(prepared, target, lags, history, conditions, condition_time, surrogates, min_shift,
                         alpha, k, theiler, seed):
    """One target's greedy source selection (Novelli et al. 2019, as IDTxl runs it).

    Every other neuron at every lag is a candidate (an input that drives several neurons is chosen
    for each of them, which conditions its common drive away); the target's past is always
    conditioned on, and with ``condition_time="target"`` so are the condition neurons at the
    target's own time t (for targets that are not conditions themselves). Returns candidates
    [(source, lag)], value, null_mean, p_value (n_candidates,), chosen (bool) and the target's
    omnibus p-value (the first round's max-statistic p when nothing was chosen)."""
    neurons = prepared.shape[1]
    candidates = [(s, lag) for lag in lags for s in range(neurons) if s != target]
    base = [(target, h) for h in range(1, history + 1)]
    if condition_time == "target" and target not in conditions:
        base += [(int(c), 0) for c in conditions]
    n_c = len(candidates)
    options = {"start": max(max(lags), history), "k": k, "theiler": theiler, "surrogates": surrogates,
               "min_shift": min_shift, "alpha": alpha}
    calls = iter(range(10 ** 6))

    def scan(members, given, stop):
        return _scan(prepared, target, members, given, stop=stop, seed=seed * 10007 + target * 1009 + next(calls),
                     **options)

    def select_round(selected):
        remaining = [c for c in range(n_c) if c not in selected]
        v, sur, settled = scan([candidates[c] for c in remaining], base + [candidates[c] for c in selected], "max")
        maxima = sur.max(axis=1)  # the max statistic: the best candidate of each surrogate
        p = ksg.p_values(v, maxima[:, None])
        return _Round(remaining, v, sur, np.where(settled, 1.0 / (1 + surrogates), p))

    selected: list[int] = []
    last, first_p = None, 1.0
    while len(selected) < n_c:
        last = select_round(selected)
        best = int(np.argmax(last.value))
        if not selected:
            first_p = float(last.p_value[best])
        if last.p_value[best] > alpha:
            break
        selected.append(last.remaining[best])
    value, null_mean, p_value = np.zeros(n_c), np.zeros(n_c), np.ones(n_c)
    while selected:  # prune the weakest chosen source while it fails the min statistic given the rest
        found = [scan([candidates[c]], base + [candidates[o] for o in selected if o != c], None) for c in selected]
        v = np.array([f[0][0] for f in found])
        sur = np.column_stack([f[1][:, 0] for f in found])
        weakest = int(np.argmin(v))
        if (1 + np.count_nonzero(sur.min(axis=1) >= v[weakest])) / (1 + len(sur)) <= alpha:
            value[selected], null_mean[selected] = v, sur.mean(axis=0)
            p_value[selected] = ksg.p_values(v, sur)  # each chosen source against its own surrogates
            break
        selected.pop(weakest)
    unchosen = [c for c in range(n_c) if c not in selected]
    if unchosen:  # the candidates left out, given the final choice
        if last is None or set(last.remaining) != set(unchosen):
            last = select_round(selected)
        value[last.remaining], null_mean[last.remaining] = last.value, last.surrogate.mean(axis=0)
        p_value[last.remaining] = last.p_value
    omnibus = first_p if not selected else float(p_value[selected[0]])  # one source: its own test
    if len(selected) > 1:  # all chosen sources together against jointly shifted surrogates
        v, sur, settled = scan([[candidates[c] for c in selected]], base, "each")
        omnibus = float(_p_settled(v, sur, settled, surrogates)[0])
    chosen = np.zeros(n_c, dtype=bool)
    chosen[selected] = True
    return candidates, value, null_mean, p_value, chosen, omnibus


def _multivariate(activity, roles, lags, conditions, k, history, condition_time, surrogates, min_shift, alpha,
                  correction, theiler, noise, seed) -> pd.DataFrame:
    neurons = activity.shape[1]
    prepared = ksg.prepare(activity, True, noise, seed)  # z-scored once, with the tie-breaking noise of seed
    rows, omnibus = [], np.ones(neurons)
    for u in range(neurons):
        candidates, value, null_mean, p_value, chosen, omnibus[u] = _multivariate_target(
            prepared, u, lags, history, conditions, condition_time, surrogates, min_shift, alpha, k, theiler, seed)
        rows += [(lag, s, u, v, m, p, bool(c)) for (s, lag), v, m, p, c in zip(candidates, value, null_mean,
                                                                               p_value, chosen)]
    table = pd.DataFrame(rows, columns=["lag", "source", "target", "value", "null_mean", "p_value", "selected"])
    table["source_role"] = roles[table["source"]]
    table["target_role"] = roles[table["target"]]
    adjusted = _bh(omnibus) if correction == "bh" else omnibus  # IDTxl's network FDR: over the targets
    table["target_p"] = omnibus[table["target"]]
    table["p_adjusted"] = np.where(table["selected"], adjusted[table["target"]], 1.0)
    table["significant"] = table["selected"] & (table["p_adjusted"] <= alpha)
    table = table.sort_values(["lag", "source", "target"], ignore_index=True)
    return table[[*COLUMNS, "selected", "target_p"]]
