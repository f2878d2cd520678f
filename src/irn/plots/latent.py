"""Charts of chapter 7: PCA of hidden states (paper Fig 12) and node removal guided by relay
information (Fig 13)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from irn.latent import HIGHER_IS_BETTER, LOG_SCALE, SCORES
from irn.plots.style import ARCH_ORDER

SCORE_TITLES = {"silhouette": "silhouette", "davies_bouldin": "Davies–Bouldin",
                "calinski_harabasz": "Calinski–Harabasz"}
ORDER_COLORS = alt.Scale(domain=["relay", "random"], range=["#222222", "#888888"])
ORDER_DASHES = alt.Scale(domain=["relay", "random"], range=[[1, 0], [4, 3]])  # relay solid, random dashed
VALUE_COLORS = alt.Scale(domain=[1, 0], range=["#222222", "#d62728"])  # the paper: black / red


def pca_scatter(frame: pd.DataFrame, width: int = 130) -> alt.VConcatChart:
    """Paper Fig 12: hidden states on the first two principal components, coloured by the
    concept combination, one panel per architecture and a row per task (legend below each row,
    so the default size fits the book's text column).

    Parameters
    ----------
    frame : pandas.DataFrame
        `irn.latent.projection_frame` rows (arch, task, label, pc1, pc2, explained, …).
    width : int, optional
        Width (and height) of one panel in pixels.

    Returns
    -------
    altair.VConcatChart
        One row per task.
    """
    rows = []
    for task, part in frame.groupby("task", sort=False):
        panel = alt.Chart(part).mark_point(filled=True, size=70, opacity=0.85).encode(
            x=alt.X("pc1:Q", title="PC 1"), y=alt.Y("pc2:Q", title="PC 2"),
            color=alt.Color("label:N", title=f"{task} state", scale=alt.Scale(scheme="category10"),
                            sort=sorted(part.label.unique()),
                            legend=alt.Legend(orient="bottom", columns=4)),
            tooltip=["arch", "replicate", "label", "sequence", alt.Tooltip("pc1:Q", format=".3f"),
                     alt.Tooltip("pc2:Q", format=".3f")],
        ).properties(width=width, height=width).facet(
            column=alt.Column("arch:N", sort=ARCH_ORDER, title=f"{task} task",
                              header=alt.Header(labelExpr="upper(datum.value)")),
        ).resolve_scale(x="independent", y="independent")
        rows.append(panel)
    return alt.vconcat(*rows).resolve_scale(color="independent")


def removal_scatter(frame: pd.DataFrame, width: int = 88) -> alt.FacetChart:
    """Left panels of paper Fig 13: one network's PCA after removing its least relaying nodes
    (columns), with the concept whose relay order was used per row; black = the concept is +1
    (true), red = −1.

    Parameters
    ----------
    frame : pandas.DataFrame
        `irn.latent.removal_projection` rows (concept, removed, value, pc1, pc2, label).
    width : int, optional
        Width (and height) of one panel in pixels.

    Returns
    -------
    altair.FacetChart
        One panel per concept (rows) and number of removed nodes (columns).
    """
    return alt.Chart(frame).mark_point(filled=True, size=50, opacity=0.85).encode(
        x=alt.X("pc1:Q", title="PC 1", axis=alt.Axis(labels=False, ticks=False)),
        y=alt.Y("pc2:Q", title="PC 2", axis=alt.Axis(labels=False, ticks=False)),
        color=alt.Color("value:N", scale=VALUE_COLORS, title="concept value",
                        legend=alt.Legend(labelExpr="datum.value == 1 ? '+1' : '−1'", orient="bottom")),
        tooltip=["concept", "removed", "label"],
    ).properties(width=width, height=width).facet(
        row=alt.Row("concept:N", title="relay order of concept", sort=None),
        column=alt.Column("removed:O", title="nodes removed (least relaying first)"),
    ).resolve_scale(x="independent", y="independent")


def removal_curves(summary: pd.DataFrame, information: pd.DataFrame | None = None,
                   width: int = 145) -> alt.VConcatChart:
    """Right panel of paper Fig 13: each score against the number of removed nodes, relay order
    against the mean of the random orders, with a band over replicates.

    A row per score (its better direction in the axis title), a column per concept. The scores of
    `irn.latent.LOG_SCALE` are geometric means on a log axis. The legend sits below.

    Parameters
    ----------
    summary : pandas.DataFrame
        `irn.latent.score_curves` output (concept, order, removed, score, mean, lo, hi, n).
    information : pandas.DataFrame or None, optional
        `irn.latent.relay_curves` output (concept, removed, mean, lo, hi, n) for the paper's black
        line, the relay information of the nodes left, drawn as a first row of its own.
    width : int, optional
        Width of one panel in pixels.

    Returns
    -------
    altair.VConcatChart
        One row per score (and one for the relay information).
    """
    x = alt.X("removed:Q", title="nodes removed", axis=alt.Axis(tickMinStep=1))
    column = alt.Column("concept:N", title=None, sort=None)
    legend = alt.Legend(orient="bottom", symbolType="stroke", symbolStrokeWidth=2.5, symbolSize=400,
                        symbolOpacity=1)  # one legend for colour, fill and dash
    rows = []
    if information is not None:
        base = alt.Chart().encode(x=x)
        band = base.mark_area(opacity=0.2, color="#222222").encode(
            y=alt.Y("lo:Q", title="relay information (bits)", scale=alt.Scale(zero=True)), y2="hi:Q")
        line = base.mark_line(point=alt.OverlayMarkDef(color="#222222"), color="#222222").encode(
            y="mean:Q", tooltip=["concept", "removed", alt.Tooltip("mean:Q", format=".3f"),
                                 alt.Tooltip("lo:Q", format=".3f"), alt.Tooltip("hi:Q", format=".3f"), "n"])
        rows.append(alt.layer(band, line, data=information).properties(width=width, height=100).facet(
            column=column))
    for score in SCORES:
        part = summary[summary.score == score]
        better = "higher" if HIGHER_IS_BETTER[score] else "lower"
        log = score in LOG_SCALE
        y_scale = alt.Scale(type="log") if log else alt.Scale(zero=False)
        title = f"{SCORE_TITLES[score]}{' (log)' if log else ''}, {better} = better"
        base = alt.Chart().encode(x=x)
        band = base.mark_area(opacity=0.2).encode(
            y=alt.Y("lo:Q", scale=y_scale, title=title), y2="hi:Q",
            fill=alt.Fill("order:N", scale=ORDER_COLORS, title="removal order", legend=legend))
        line = base.mark_line(strokeWidth=2).encode(
            y="mean:Q", color=alt.Color("order:N", scale=ORDER_COLORS, title="removal order", legend=legend),
            strokeDash=alt.StrokeDash("order:N", scale=ORDER_DASHES, title="removal order", legend=legend),
            tooltip=["concept", "order", "removed", alt.Tooltip("mean:Q", format=".3g"),
                     alt.Tooltip("lo:Q", format=".3g"), alt.Tooltip("hi:Q", format=".3g"), "n"])
        rows.append(alt.layer(band, line, data=part).properties(width=width, height=110).facet(
            column=column))
    return alt.vconcat(*rows)
