"""Charts of chapter 12 (scale): planted-relay recovery against network size, and the knockout
test of chapter 4 at hidden sizes beyond the paper's 12 nodes."""

from __future__ import annotations

import altair as alt
import pandas as pd

from irn.plots.style import ARCH_COLORS, ARCH_ORDER

METHOD_ORDER = ["plug-in", "probe"]
METHOD_COLORS = alt.Scale(domain=METHOD_ORDER, range=["#222222", "#e6550d"])
KO_ORDER = ["plug-in order", "probe order", "random"]


def planted_recovery(recovery: pd.DataFrame, width: int = 230, height: int = 150) -> alt.Chart:
    """Fraction of planted relay nodes among the greedy's last survivors, against the number of
    nodes (log scale), one panel per sample count, one line per estimator.

    Parameters
    ----------
    recovery : pandas.DataFrame
        Columns nodes, samples, method ("plug-in" | "probe"), recovered (mean over random seeds).
    width, height : int, optional
        Size of one panel in pixels.

    Returns
    -------
    altair.Chart
        One panel per sample count.
    """
    needed = {"nodes", "samples", "method", "recovered"}
    if not needed <= set(recovery.columns):
        raise ValueError(f"recovery must have columns {sorted(needed)}, got {list(recovery.columns)}")
    return alt.Chart(recovery).mark_line(point=True).encode(
        x=alt.X("nodes:Q", scale=alt.Scale(type="log", base=2), title="nodes H"),
        y=alt.Y("recovered:Q", scale=alt.Scale(domain=[0, 1]), title="planted relays recovered"),
        color=alt.Color("method:N", scale=METHOD_COLORS, sort=METHOD_ORDER, title="estimator",
                        legend=alt.Legend(orient="bottom")),
        tooltip=["nodes", "samples", "method", alt.Tooltip("recovered:Q", format=".2f")],
    ).properties(width=width, height=height).facet(
        column=alt.Column("samples:O", title="samples N"), spacing=8)


def knockout_by_size(summary: pd.DataFrame, width: int = 150, height: int = 110) -> alt.Chart:
    """Mean accuracy drop of a concept when k = H/4 of its nodes are knocked out — its top relay
    nodes by the plug-in order, by the probe order, or random nodes — against hidden size.

    Parameters
    ----------
    summary : pandas.DataFrame
        Columns task, arch, hidden, kind (``KO_ORDER``), drop (mean over replicates and concepts).
    width, height : int, optional
        Size of one panel in pixels.

    Returns
    -------
    altair.Chart
        Rows are tasks, columns architectures.
    """
    needed = {"task", "arch", "hidden", "kind", "drop"}
    if not needed <= set(summary.columns):
        raise ValueError(f"summary must have columns {sorted(needed)}, got {list(summary.columns)}")
    return alt.Chart(summary).mark_line(point=True).encode(
        x=alt.X("hidden:Q", scale=alt.Scale(type="log", base=2), title="hidden nodes H"),
        y=alt.Y("drop:Q", title="accuracy lost"),
        strokeDash=alt.StrokeDash("kind:N", sort=KO_ORDER, title="knocked out",
                                  legend=alt.Legend(orient="bottom")),
        color=alt.Color("arch:N", scale=ARCH_COLORS, sort=ARCH_ORDER, legend=None),
        tooltip=["task", "arch", "hidden", "kind", alt.Tooltip("drop:Q", format=".3f")],
    ).properties(width=width, height=height).facet(
        row=alt.Row("task:N", title=None), column=alt.Column("arch:N", sort=ARCH_ORDER, title=None,
                                                             header=alt.Header(labelExpr="upper(datum.value)")),
        spacing=8)
