"""Charts of chapters 5–6: relay matrices over time (paper Fig 6, 7), their stability between
consecutive steps (Fig 8, 9) and smearing histograms (Fig 10, 11)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from irn import dynamics
from irn.plots.style import ARCH_COLORS, ARCH_ORDER, DELAY_ORDER

#: Node contributions: blue for information carried, red for negative (synergistic) values.
CONTRIBUTION_SCALE = alt.Scale(scheme="redblue", domainMid=0)
#: A contribution sums the I_R losses of the removals a node survived: a score, not information.
CONTRIBUTION_TITLE = "accumulated contribution (bits)"
LEGEND = alt.Legend(orient="bottom")  # the book's column is narrow: legends below the chart


def _contribution_color() -> alt.Color:
    return alt.Color("contribution:Q", scale=CONTRIBUTION_SCALE, title=CONTRIBUTION_TITLE, legend=LEGEND)


def relay_sequence(frame: pd.DataFrame, columns: int = 4) -> alt.Chart:
    """Paper Fig 6 (left): one network's relay matrix (concept × node) at every time step.

    Parameters
    ----------
    frame : pandas.DataFrame
        `irn.analysis.relay_frame` rows of one network (step, concept, node, contribution).
    columns : int, optional
        Time steps per row.

    Returns
    -------
    altair.Chart
        One heat map per time step.
    """
    return alt.Chart(frame).mark_rect().encode(
        x=alt.X("node:O", title="node"),
        y=alt.Y("concept:N", title=None),
        color=_contribution_color(),
        tooltip=["step", "concept", "node", alt.Tooltip("contribution:Q", format=".2f")],
    ).properties(width=125, height=40).facet(
        facet=alt.Facet("step:O", title="time step (0-based)", header=alt.Header(labelExpr="'step ' + datum.label")),
        columns=columns)


def node_time(frame: pd.DataFrame, width: int = 150) -> alt.Chart:
    """Paper Fig 6 (right) and Fig 7: node × time heat maps, one panel per concept (columns) and
    architecture (rows), with a rule at the step each concept arrives.

    Parameters
    ----------
    frame : pandas.DataFrame
        `irn.analysis.relay_frame` rows of one network per architecture (arch, task, step, concept,
        node, contribution).
    width : int, optional
        Width of one panel in pixels.

    Returns
    -------
    altair.Chart
        One panel per concept and architecture.
    """
    arrivals = {(t, c): dynamics.arrival_step(t, c) for t, c in frame[["task", "concept"]].drop_duplicates().itertuples(index=False)}
    data = frame.assign(arrival=[arrivals[k] for k in zip(frame["task"], frame["concept"])])
    heat = alt.Chart().mark_rect().encode(
        x=alt.X("step:O", title="time step"),
        y=alt.Y("node:O", title="node", sort="descending"),
        color=_contribution_color(),
        tooltip=["arch", "concept", "step", "node", alt.Tooltip("contribution:Q", format=".2f")],
    )
    arrival = alt.Chart().mark_rule(color="orange", strokeWidth=2, strokeDash=[4, 2]).encode(
        x=alt.X("arrival:O", bandPosition=0)).transform_filter("datum.node == 0 && datum.step == 0")
    return alt.layer(heat, arrival, data=data).properties(width=width, height=130).facet(
        row=alt.Row("arch:N", sort=ARCH_ORDER, title=None),
        column=alt.Column("concept:N", title=None))


def stability_by_delay(summary: pd.DataFrame, title: str, dash: str | None = None) -> alt.Chart:
    """Paper Fig 8 / Fig 9: a stability measure by training-delay regime, one line per
    architecture with a band of the 95 % CI over replicates, one panel per task.

    Parameters
    ----------
    summary : pandas.DataFrame
        `irn.stats.mean_interval` output with task, arch, delay, mean, lo, hi, n (and the column
        ``dash`` if given).
    title : str
        The measure's axis title.
    dash : str or None, optional
        A column whose values are drawn as solid and dashed lines (e.g. "tie_break"), with one band
        each.

    Returns
    -------
    altair.Chart
        One panel per task.
    """
    if dash is not None and dash not in summary:
        raise ValueError(f"dash must name a column of summary, got {dash!r}")
    color = alt.Color("arch:N", scale=ARCH_COLORS, sort=ARCH_ORDER, title="architecture",
                      legend=alt.Legend(orient="bottom", symbolOpacity=1))
    detail = [alt.Detail(f"{dash}:N")] if dash else []
    base = alt.Chart().encode(*detail, x=alt.X("delay:N", sort=DELAY_ORDER, title="training delay"), color=color)
    band = base.mark_area(opacity=0.12).encode(y=alt.Y("lo:Q", title=title), y2="hi:Q")
    tooltip = ["task", "arch", "delay", *([dash] if dash else []), alt.Tooltip("mean:Q", format=".3f"),
               alt.Tooltip("lo:Q", format=".3f"), alt.Tooltip("hi:Q", format=".3f"), "n"]
    line = base.mark_line().encode(y="mean:Q")
    if dash:  # a line with points shows no dash in its legend: the points are a layer of their own
        line = line.encode(strokeDash=alt.StrokeDash(f"{dash}:N", title=dash.replace("_", " "), legend=alt.Legend(
            orient="bottom", symbolType="stroke", symbolStrokeColor="black", symbolSize=300)))
    points = base.mark_point(filled=True).encode(y="mean:Q", tooltip=tooltip)
    return alt.layer(band, line, points, data=summary).properties(width=230, height=170).facet(
        column=alt.Column("task:N", title=None, sort=["memory", "block"]))


def smearing_histogram(summary: pd.DataFrame) -> alt.Chart:
    """Paper Fig 10 / Fig 11: mean fraction of nodes carrying 0…3 concepts (top row) and of
    concepts carried by 0…12 nodes (bottom row) with 95 % CI bars, one column per architecture.

    Parameters
    ----------
    summary : pandas.DataFrame
        `irn.stats.mean_interval` of `irn.dynamics.smearing` fractions with arch, measure, count,
        mean, lo, hi (one task).

    Returns
    -------
    altair.Chart
        Two rows of bar charts, one column per architecture.
    """
    base = alt.Chart().encode(x=alt.X("count:O", title="count"))
    bars = base.mark_bar().encode(
        y=alt.Y("mean:Q", title="fraction", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("arch:N", scale=ARCH_COLORS, sort=ARCH_ORDER, legend=None),
        tooltip=["arch", "measure", "count", alt.Tooltip("mean:Q", format=".3f"), "n"])
    bars_ci = base.mark_rule(color="gray").encode(y="low:Q", y2="high:Q").transform_calculate(
        low="max(datum.lo, 0)", high="min(datum.hi, 1)")  # a fraction's CI ends inside [0, 1]
    return alt.layer(bars, bars_ci, data=summary).properties(width=170, height=120).facet(
        row=alt.Row("measure:N", title=None, sort=list(dynamics.SMEARING_MEASURES)),
        column=alt.Column("arch:N", title=None, sort=ARCH_ORDER),
    ).resolve_scale(x="independent")
