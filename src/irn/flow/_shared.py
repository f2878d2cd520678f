"""What every part of ``irn.flow`` shares: the names of roles, measures and nulls, the argument
checks (through ``irn.params``) and the surrogate p-values with their false-discovery control."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from irn import ksg, params


ROLES = ("input", "hidden", "output")


MEASURES = ("delayed", "transfer", "multivariate")


NULLS = ("edge", "target")


CORRECTIONS = ("bh", None)


CONDITION_TIMES = ("source", "target")


COLUMNS = ["lag", "source", "target", "source_role", "target_role", "value", "null_mean", "p_value",
           "p_adjusted", "significant"]


# -- checks -------------------------------------------------------------------------------------------
def _activity(activity, name: str = "activity") -> np.ndarray:
    array = params.array(activity, name, ndim=2, min_samples=10)
    params.require(array.shape[1], f"the number of neurons (columns) of {name}", params.integer(low=2))
    return array


def _roles(roles, neurons: int) -> np.ndarray:
    if roles is None:
        return np.array(["hidden"] * neurons)
    listed = np.asarray(roles).tolist()
    params.require(listed, "roles", params.rule(
        lambda v: isinstance(v, list) and len(v) == neurons and all(r in ROLES for r in v),
        f"one of {ROLES} for each of the {neurons} neurons"))
    return np.asarray(listed)


def _lags(lags) -> list[int]:
    values = params.require(list(np.atleast_1d(np.asarray(lags, dtype=object)).reshape(-1)), "lags",
                            params.sequence(params.integer(low=1), min_length=1))
    return sorted(set(int(v) for v in values))


def _neurons(values, name: str, neurons: int) -> np.ndarray:
    if values is None:
        return np.zeros(0, dtype=np.int64)
    array = params.array(np.atleast_1d(values), name, ndim=1, kind="integer") if len(np.atleast_1d(values)) \
        else np.zeros(0, dtype=np.int64)
    for v in array:
        params.require(int(v), name, params.integer(0, neurons - 1))
    return np.unique(array).astype(np.int64)


def _common_options(k, history, theiler, noise, seed):
    params.require(k, "k", params.integer(low=1))
    params.require(history, "history", params.integer(low=1))
    params.require(theiler, "theiler", params.integer(low=0))
    params.require(noise, "noise", params.number(low=0))
    params.require(seed, "seed", params.SEED)


def _pairs(values: np.ndarray, lags, roles, name: str) -> pd.DataFrame:
    """(lags, S, T) array → tidy rows lag, source, target, their roles, ``name``."""
    lag, source, target = np.meshgrid(np.asarray(lags), np.arange(values.shape[1]), np.arange(values.shape[2]),
                                      indexing="ij")
    frame = pd.DataFrame({"lag": lag.ravel(), "source": source.ravel(), "target": target.ravel(),
                          name: values.ravel()})
    frame["source_role"] = roles[frame["source"]]
    frame["target_role"] = roles[frame["target"]]
    return frame[frame["source"] != frame["target"]].reset_index(drop=True)


# -- significance -------------------------------------------------------------------------------------
def _bh(p: np.ndarray) -> np.ndarray:
    return sps.false_discovery_control(p, method="bh") if len(p) else p


def _finish(table: pd.DataFrame, alpha: float, correction) -> pd.DataFrame:
    """p_adjusted (Benjamini–Hochberg over the network's edges, or p itself) and significant."""
    table["p_adjusted"] = _bh(table["p_value"].to_numpy()) if correction == "bh" else table["p_value"]
    table["significant"] = (table["p_adjusted"] <= alpha) & (table["value"] > table["null_mean"])
    return table


def _shifts(samples: int, count: int, min_shift: int, rng) -> np.ndarray:
    return ksg.surrogate_offsets(samples, count, min_shift, rng)


def _chunks(surrogates: int) -> list[int]:
    """Surrogates in rounds (19, then 20 at a time): an edge leaves once it cannot reach p ≤ alpha."""
    sizes, done = [], 0
    while done < surrogates:
        size = min(19 if not done else 20, surrogates - done)
        sizes.append(size)
        done += size
    return sizes


def _hopeless(alpha: float, surrogates: int) -> int:
    """The count of surrogates ≥ the value at which p = (1 + count) / (1 + surrogates) > alpha
    whatever the remaining surrogates give (Besag & Clifford's sequential stopping)."""
    return int(np.floor(alpha * (1 + surrogates) - 1 + 1e-9)) + 1


#: An estimate this many standard deviations of its surrogates above their mean stops drawing them:
#: by Cantelli's inequality no distribution with that mean and spread puts more than 1 / (1 + z²)
#: of its mass so far out, a quarter of the smallest p-value, 1 / (S + 1), that S surrogates can show
#: (z = max(SETTLED_Z, 2 √(S + 1))); its p-value is that smallest one.
SETTLED_Z = 20.0


def _settle_z(surrogates: int) -> float:
    return max(SETTLED_Z, 2.0 * np.sqrt(surrogates + 1))


def _settled(values: np.ndarray, drawn: np.ndarray, surrogates: int) -> np.ndarray:
    """Which estimates lie so far above their surrogates (``drawn``, (rounds, candidates), NaN where
    not drawn) that more surrogates could only confirm the smallest p-value (``SETTLED_Z``)."""
    count = np.sum(~np.isnan(drawn), axis=0)
    mean = np.nanmean(np.where(count > 0, drawn, 0.0), axis=0)
    sd = np.sqrt(np.nansum((drawn - mean) ** 2, axis=0) / np.maximum(count - 1, 1))
    return (count > 2) & (sd > 0) & (values - mean >= _settle_z(surrogates) * sd)


def _scan(prepared, target, candidates, conditioning, *, start, k, theiler, surrogates, min_shift, seed, alpha,
          stop=None):
    """I(candidate; target[t] | conditioning) for every candidate, with up to ``surrogates``
    time-shifted surrogates each (``ksg.conditional_scan`` on columns already z-scored with their
    tie-breaking noise).

    candidates: (column, lag) pairs (or lists of pairs: one joint candidate); conditioning: (column,
    lag) pairs; start: the first time step of every estimate. Surrogates come in rounds
    (``_chunks``). stop "each": a candidate stops once it cannot reach p ≤ alpha, or once it is
    settled (``_settled``); "max": the round stops once the best candidate cannot beat the
    surrogates' maxima (the max statistic), or is settled against them; None: every surrogate.
    Returns values (candidates,), null (drawn, candidates), NaN where stopped, and settled
    (candidates,): for "max", only the best candidate can be settled."""
    values, null, done = None, np.full((surrogates, len(candidates)), np.nan), 0
    active = np.ones(len(candidates), dtype=bool)
    settled = np.zeros(len(candidates), dtype=bool)
    for round_, size in enumerate(_chunks(surrogates) if stop else [surrogates]):
        members = np.flatnonzero(active)
        scan = ksg.conditional_scan(prepared, target, [candidates[j] for j in members], list(conditioning), k,
                                    surrogates=size, min_shift=min_shift, start=start, theiler=theiler,
                                    normalize=False, noise=0.0, seed=seed * 1009 + round_)
        if values is None:
            values = scan.values.copy()
        null[done:done + size, members] = scan.null
        done += size
        drawn = null[:done]
        if stop == "each":
            settled |= active & _settled(values, drawn, surrogates)
            active &= ~settled & ((drawn >= values[None, :]).sum(axis=0) < _hopeless(alpha, surrogates))
        elif stop == "max":
            maxima = np.nanmax(drawn, axis=1)[:, None]
            best = int(np.argmax(values))
            if _settled(values[best:best + 1], maxima, surrogates)[0]:
                settled[best] = True
                break
            if np.count_nonzero(maxima >= values[best]) >= _hopeless(alpha, surrogates):
                break
        if not active.any():
            break
    return values, null[:done], settled


def _p_settled(values: np.ndarray, null: np.ndarray, settled: np.ndarray, surrogates: int) -> np.ndarray:
    """(1 + #null ≥ value) / (1 + drawn) per candidate; 1 / (1 + surrogates) where settled."""
    drawn = ~np.isnan(null)
    p = (1 + ((null >= values[None, :]) & drawn).sum(axis=0)) / (1 + drawn.sum(axis=0))
    return np.where(settled, 1.0 / (1 + surrogates), p)
