"""Multivariate transfer entropy: per target, the greedy selection of sources conditioned on those
already chosen (max statistic), pruning (min statistic) and an omnibus test — the algorithm of
Lizier & Rubinov (2012) and Novelli et al. (Network Neuroscience 3:827, 2019) as IDTxl runs it,
written on ``irn.ksg`` (IDTxl is GPL; DESIGN §18)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from irn import ksg
from irn.flow._shared import COLUMNS, _bh, _chunks, _hopeless, _p_values, _shifts


# -- multivariate transfer entropy ---------------------------------------------------------------------
def _design(activity, target, lags, history, conditions, condition_time):
    """Aligned columns for one target: candidates (source, lag) | the target's past | fixed
    conditions | the target now; rows t = start … samples − 1 with start = max(lags, history).

    Every other neuron at every lag is a candidate (an input that drives several neurons is chosen
    for each of them, which conditions its common drive away). With ``condition_time="target"``
    the condition neurons at the target's own time t are conditioned on as well (for targets that
    are not conditions themselves)."""
    samples, neurons = activity.shape
    start = max(max(lags), history)
    candidates = [(s, lag) for lag in lags for s in range(neurons) if s != target]
    cols = [activity[start - lag:samples - lag, s] for s, lag in candidates]
    cols += [activity[start - h:samples - h, target] for h in range(1, history + 1)]
    if condition_time == "target" and target not in conditions:
        cols += [activity[start:, c] for c in conditions]
    cols.append(activity[start:, target])
    return np.column_stack(cols), candidates


def _cmi(data, sources, target, given, k, theiler, noise, seed) -> np.ndarray:
    """I(data[:, s]; data[:, target] | data[:, given]) for every s of ``sources`` (aligned columns)."""
    return ksg.mutual_information_matrix(data, [0], k, sources=np.asarray(sources), targets=[target],
                                         conditions=np.asarray(given, dtype=np.int64) if len(given) else None,
                                         theiler=theiler, noise=noise, seed=seed)[0, :, 0]


def _surrogate_values(data, columns, target, givens, k, theiler, noise, seed, rng, surrogates, min_shift):
    """(surrogates, len(columns)): column j rotated by its own random shift in every surrogate and
    conditioned on ``givens[j]``; one kernel call per distinct conditioning set."""
    n = data.shape[0]
    shifts = rng.integers(min_shift, n - min_shift + 1, size=(surrogates, len(columns)))
    out = np.empty((surrogates, len(columns)))
    groups: dict[tuple, list[int]] = {}
    for j in range(len(columns)):
        groups.setdefault(tuple(givens[j]), []).append(j)
    for given, members in groups.items():
        rolled = [np.roll(data[:, columns[j]], shifts[i, j]) for i in range(surrogates) for j in members]
        both = np.concatenate([data, np.column_stack(rolled)], axis=1)
        values = _cmi(both, np.arange(data.shape[1], both.shape[1]), target, list(given), k, theiler, noise, seed)
        out[:, members] = values.reshape(surrogates, len(members))
    return out


@dataclass
class _Round:
    remaining: list
    value: np.ndarray
    surrogate: np.ndarray
    p_value: np.ndarray


def _multivariate_target(activity, target, lags, history, conditions, condition_time, surrogates, min_shift,
                         alpha, k, theiler, noise, seed):
    """One target's greedy source selection (Novelli et al. 2019, as IDTxl runs it).

    Returns candidates [(source, lag)], value, null_mean, p_value (n_candidates,), chosen (bool) and
    the target's omnibus p-value (the first round's max-statistic p when nothing was chosen)."""
    data, candidates = _design(activity, target, lags, history, conditions, condition_time)
    n_c = len(candidates)
    y = data.shape[1] - 1
    base = list(range(n_c, y))  # the target's past and the fixed conditions
    rng = np.random.default_rng([seed, target])
    opts = (k, theiler, noise, seed)

    def select_round(selected):
        remaining = [c for c in range(n_c) if c not in selected]
        given = base + list(selected)
        v = _cmi(data, remaining, y, given, *opts)
        parts = []
        for size in _chunks(surrogates):  # stop once the best candidate cannot reach p ≤ alpha
            parts.append(_surrogate_values(data, remaining, y, [given] * len(remaining), *opts, rng, size,
                                           min_shift))
            maxima = np.concatenate(parts).max(axis=1)  # the max statistic: the best candidate of each surrogate
            if np.count_nonzero(maxima >= v.max()) >= _hopeless(alpha, surrogates):
                break
        p = (1 + (maxima[:, None] >= v[None, :]).sum(axis=0)) / (1 + len(maxima))
        return _Round(remaining, v, np.concatenate(parts), p)

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
        givens = [base + [s for s in selected if s != c] for c in selected]
        v = np.array([_cmi(data, [c], y, g, *opts)[0] for c, g in zip(selected, givens)])
        sur = _surrogate_values(data, selected, y, givens, *opts, rng, surrogates, min_shift)
        weakest = int(np.argmin(v))
        if (1 + np.count_nonzero(sur.min(axis=1) >= v[weakest])) / (1 + surrogates) <= alpha:
            value[selected], null_mean[selected] = v, sur.mean(axis=0)
            p_value[selected] = _p_values(v, sur)  # each chosen source against its own surrogates
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
        x = data[:, selected]
        z = data[:, base] if base else None
        kwargs = dict(k=k, theiler=theiler, noise=noise, seed=seed)

        def joint(xs):
            if z is None:
                return ksg.mutual_information(xs, data[:, y], **kwargs)
            return ksg.conditional_mutual_information(xs, data[:, y], z, **kwargs)

        observed = joint(x)
        null = [joint(np.roll(x, int(s), axis=0)) for s in _shifts(len(data), surrogates, min_shift, rng)]
        omnibus = (1 + np.count_nonzero(np.asarray(null) >= observed)) / (1 + surrogates)
    chosen = np.zeros(n_c, dtype=bool)
    chosen[selected] = True
    return candidates, value, null_mean, p_value, chosen, float(omnibus)


def _multivariate(activity, roles, lags, conditions, k, history, condition_time, surrogates, min_shift, alpha,
                  correction, theiler, noise, seed) -> pd.DataFrame:
    neurons = activity.shape[1]
    rows, omnibus = [], np.ones(neurons)
    for u in range(neurons):
        candidates, value, null_mean, p_value, chosen, omnibus[u] = _multivariate_target(
            activity, u, lags, history, conditions, condition_time, surrogates, min_shift, alpha, k, theiler,
            noise, seed)
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
