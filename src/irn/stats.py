"""Summaries over replicates: means with standard errors or 95 % confidence intervals, and the
tests the chapters use to turn a comparison into a verdict (the verdict rule itself is
:mod:`irn.claims`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

INTERVALS = ("se", "ci95")


def mean_interval(df: pd.DataFrame, by, value: str, interval: str = "ci95") -> pd.DataFrame:
    """Mean of ``value`` per group with ``lo``/``hi`` bounds.

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy table, one row per replicate (and condition).
    by : str or list of str
        The column(s) to group by.
    value : str
        The column to average.
    interval : {"ci95", "se"}, optional
        "ci95" (Student-t 95 % confidence interval of the mean, the default) or "se" (mean ± one
        standard error).

    Returns
    -------
    pandas.DataFrame
        One row per group: the ``by`` columns, then mean, n, lo and hi.
    """
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {INTERVALS}, got {interval!r}")
    if value not in df:
        raise ValueError(f"value {value!r} is not a column of df (columns: {list(df.columns)})")
    g = df.groupby(by, observed=True, sort=False)[value]
    out = g.agg(mean="mean", sd="std", n="count").reset_index()
    se = out["sd"].fillna(0) / np.sqrt(out["n"])
    half = se if interval == "se" else se * sps.t.ppf(0.975, np.maximum(out["n"] - 1, 1))
    out["lo"], out["hi"] = out["mean"] - half, out["mean"] + half
    return out.drop(columns="sd")


@dataclass(frozen=True)
class Comparison:
    """Mean difference a − b with a two-sided p-value from ``test``.

    Attributes
    ----------
    difference : float
        Mean of a − b (paired) or mean of a minus mean of b (independent).
    p_value : float
        Two-sided p-value (1.0 when every difference is zero).
    test : str
        "wilcoxon" or "mann-whitney".
    n : int
        Pairs compared (paired) or values in both samples (independent).
    """

    difference: float
    p_value: float
    test: str
    n: int


def _pair(a, b, paired: bool):
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) == 0 or len(b) == 0:
        raise ValueError("a and b must each hold at least one value")
    if paired and len(a) != len(b):
        raise ValueError(f"paired samples must have equal lengths, got {len(a)} and {len(b)}")
    return a, b


def paired_test(a, b) -> Comparison:
    """Wilcoxon signed-rank test of paired samples (e.g. two measures of the same replicates).

    Parameters
    ----------
    a, b : array_like, shape (n,)
        The paired values, same length.

    Returns
    -------
    Comparison
        Mean difference a − b, the two-sided p-value, "wilcoxon" and n.
    """
    a, b = _pair(a, b, paired=True)
    if np.allclose(a - b, 0):
        return Comparison(0.0, 1.0, "wilcoxon", len(a))
    return Comparison(float((a - b).mean()), float(sps.wilcoxon(a, b, zero_method="zsplit").pvalue),
                      "wilcoxon", len(a))


def independent_test(a, b) -> Comparison:
    """Mann–Whitney U test of independent samples (e.g. two groups of replicates).

    Parameters
    ----------
    a : array_like, shape (n_a,)
        The first group.
    b : array_like, shape (n_b,)
        The second group.

    Returns
    -------
    Comparison
        Mean of a minus mean of b, the two-sided p-value, "mann-whitney" and n_a + n_b.
    """
    a, b = _pair(a, b, paired=False)
    if np.ptp(np.concatenate([a, b])) == 0:
        return Comparison(0.0, 1.0, "mann-whitney", len(a) + len(b))
    return Comparison(float(a.mean() - b.mean()),
                      float(sps.mannwhitneyu(a, b, alternative="two-sided").pvalue),
                      "mann-whitney", len(a) + len(b))
