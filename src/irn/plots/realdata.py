"""Charts of chapter 11: networks on real data sets (irn.datasets) — test accuracy against the
1-NN baselines, per-class relay matrices at the answer step, relay against its shuffle null over
time, knockout effects and stability by architecture."""

from __future__ import annotations

import altair as alt
import pandas as pd

from irn.plots.style import ARCH_COLORS, ARCH_ORDER

LEGEND = alt.Legend(orient="bottom", symbolOpacity=1)


def _arch_color(legend=LEGEND) -> alt.Color:
    return alt.Color("arch:N", scale=ARCH_COLORS, sort=ARCH_ORDER, title="architecture", legend=legend)


def accuracy_vs_baselines(accuracy: pd.DataFrame, baselines: pd.DataFrame) -> alt.Chart:
    """Test accuracy of every replicate (points) and its mean (tick) per data set and architecture,
    with the 1-NN baselines as dashed rules (one dash per distance) and chance as a grey rule.

    Parameters
    ----------
    accuracy : pandas.DataFrame
        Columns dataset, arch, replicate, test (accuracy), chance (1 / classes).
    baselines : pandas.DataFrame
        Columns dataset, distance, accuracy.

    Returns
    -------
    altair.Chart
        One panel per data set.
    """
    data = pd.concat([accuracy[["dataset", "arch", "replicate", "test", "chance"]].assign(layer="network"),
                      baselines.rename(columns={"accuracy": "test"}).assign(layer="baseline")],
                     ignore_index=True)
    x = alt.X("arch:N", sort=ARCH_ORDER, title=None)
    y = alt.Y("test:Q", title="test accuracy", scale=alt.Scale(domain=[0, 1]))
    nets = alt.Chart().transform_filter(alt.datum.layer == "network")
    points = nets.mark_circle(size=30, opacity=0.6).encode(
        x=x, y=y, color=_arch_color(None), tooltip=["dataset", "arch", "replicate", alt.Tooltip("test:Q", format=".3f")])
    mean = nets.mark_tick(thickness=3, size=26, color="#555").encode(x=x, y="mean(test):Q")
    chance = nets.mark_rule(color="#ccc").encode(y="mean(chance):Q")
    rules = alt.Chart().transform_filter(alt.datum.layer == "baseline").mark_rule(color="#888").encode(
        y="test:Q", strokeDash=alt.StrokeDash("distance:N", title="1-NN baseline", legend=LEGEND),
        tooltip=["dataset", "distance", alt.Tooltip("test:Q", format=".3f")])
    return alt.layer(chance, rules, points, mean, data=data).properties(width=150, height=170).facet(
        column=alt.Column("dataset:N", title=None))


def relay_matrices(frame: pd.DataFrame, width: int = 150) -> alt.Chart:
    """Per-class relay matrices (class × node, colour = accumulated contribution) of one example
    network per data set (rows) and architecture (columns).

    Parameters
    ----------
    frame : pandas.DataFrame
        `irn.analysis.relay_of_recording` rows at one step with an extra column ``dataset``.
    width : int, optional
        Width of one panel in pixels.

    Returns
    -------
    altair.Chart
        One heat map per data set and architecture.
    """
    return alt.Chart(frame).mark_rect().encode(
        x=alt.X("node:O", title="node"), y=alt.Y("concept:N", title="class", sort=None),
        color=alt.Color("contribution:Q", scale=alt.Scale(scheme="redblue", domainMid=0),
                        title="accumulated contribution (bits)", legend=alt.Legend(orient="bottom")),
        tooltip=["dataset", "arch", "replicate", "concept", "node", alt.Tooltip("contribution:Q", format=".3f")],
    ).properties(width=width, height=90).facet(
        row=alt.Row("dataset:N", title=None), column=alt.Column("arch:N", sort=ARCH_ORDER, title=None,
                                                                 header=alt.Header(labelExpr="upper(datum.value)"))
    ).resolve_scale(y="independent", color="independent")


def relay_against_null(summary: pd.DataFrame) -> alt.Chart:
    """Relay of all nodes (solid) and its shuffle-null mean (dashed) by steps before the answer,
    means over replicates and classes, one panel per data set; the colour is the architecture.

    Parameters
    ----------
    summary : pandas.DataFrame
        Columns dataset, arch, before (steps before the answer), kind ("observed" / "shuffle
        null"), value (bits).

    Returns
    -------
    altair.Chart
        One panel per data set.
    """
    return alt.Chart(summary).mark_line(point=alt.OverlayMarkDef(size=16)).encode(
        x=alt.X("before:Q", scale=alt.Scale(reverse=True), title="steps before the answer"),
        y=alt.Y("value:Q", title="relay of all nodes (bits)"),
        color=_arch_color(), strokeDash=alt.StrokeDash("kind:N", title=None, legend=LEGEND),
        tooltip=["dataset", "arch", "before", "kind", alt.Tooltip("value:Q", format=".3f")],
    ).properties(width=150, height=140).facet(column=alt.Column("dataset:N", title=None)).resolve_scale(y="independent")


def by_architecture(per_replicate: pd.DataFrame, value: str, title: str) -> alt.Chart:
    """One point per replicate and the mean (tick) of ``value`` per data set and architecture,
    with a dashed rule at 0.

    Parameters
    ----------
    per_replicate : pandas.DataFrame
        Columns dataset, arch, replicate and ``value``.
    value : str
        The column to draw.
    title : str
        The y axis title.

    Returns
    -------
    altair.Chart
        One panel per data set.
    """
    x = alt.X("arch:N", sort=ARCH_ORDER, title=None)
    points = alt.Chart().mark_circle(size=28, opacity=0.6).encode(
        x=x, y=alt.Y(f"{value}:Q", title=title), color=_arch_color(None),
        tooltip=["dataset", "arch", "replicate", alt.Tooltip(f"{value}:Q", format=".3f")])
    mean = alt.Chart().mark_tick(thickness=3, size=26, color="#555").encode(x=x, y=f"mean({value}):Q")
    zero = alt.Chart().mark_rule(strokeDash=[4, 3], color="#999").encode(y=alt.datum(0))
    return alt.layer(zero, points, mean, data=per_replicate).properties(width=150, height=150).facet(
        column=alt.Column("dataset:N", title=None))
