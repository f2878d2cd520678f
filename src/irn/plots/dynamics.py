"""Charts of chapters 5–6: relay matrices over time (paper Fig 6, 7), their stability between
consecutive steps (Fig 8, 9) and smearing histograms (Fig 10, 11)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from irn import dynamics
from irn.plots.style import ARCH_COLORS, ARCH_ORDER, DELAY_ORDER

#: Node contributions: blue for information carried, red for negative (synergistic) values.
CONTRIBUTION_SCALE = alt.Scale(scheme="redblue", domainMid=0)


def _contribution_color() -> alt.Color:
    return alt.Color("contribution:Q", scale=CONTRIBUTION_SCALE, title="contribution (bits)")


def relay_sequence(frame: pd.DataFrame, columns: int = 5) -> alt.Chart:
    """Paper Fig 6 (left): one network's relay matrix (concept × node) at every time step.

    frame: ``irn.analysis.relay_frame`` rows of one network (step, concept, node, contribution).
    """
    return alt.Chart(frame).mark_rect().encode(
        x=alt.X("node:O", title="node"),
        y=alt.Y("concept:N", title=None),
        color=_contribution_color(),
        tooltip=["step", "concept", "node", alt.Tooltip("contribution:Q", format=".2f")],
    ).properties(width=130, height=40).facet(
        facet=alt.Facet("step:O", title="time step (0-based)", header=alt.Header(labelExpr="'step ' + datum.label")),
        columns=columns)


def node_time(frame: pd.DataFrame) -> alt.Chart:
    """Paper Fig 6 (right) and Fig 7: node × time heat maps, one panel per concept (columns) and
    architecture (rows), with a rule at the step each concept arrives.

    frame: ``irn.analysis.relay_frame`` rows of one network per architecture (arch, task, step,
    concept, node, contribution).
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
    return alt.layer(heat, arrival, data=data).properties(width=200, height=150).facet(
        row=alt.Row("arch:N", sort=ARCH_ORDER, title=None),
        column=alt.Column("concept:N", title=None))


def stability_by_delay(summary: pd.DataFrame, title: str) -> alt.Chart:
    """Paper Fig 8 / Fig 9: a stability measure by training-delay regime, one line per
    architecture with a band of the 95 % CI over replicates, one panel per task.

    summary: ``irn.stats.mean_interval`` output with task, arch, delay, mean, lo, hi, n;
    title: the measure's axis title.
    """
    color = alt.Color("arch:N", scale=ARCH_COLORS, sort=ARCH_ORDER, title="architecture")
    base = alt.Chart().encode(x=alt.X("delay:N", sort=DELAY_ORDER, title="training delay"), color=color)
    band = base.mark_area(opacity=0.15).encode(y=alt.Y("lo:Q", title=title), y2="hi:Q")
    line = base.mark_line(point=True).encode(
        y="mean:Q", tooltip=["task", "arch", "delay", alt.Tooltip("mean:Q", format=".3f"),
                             alt.Tooltip("lo:Q", format=".3f"), alt.Tooltip("hi:Q", format=".3f"), "n"])
    return alt.layer(band, line, data=summary).properties(width=260, height=170).facet(
        column=alt.Column("task:N", title=None, sort=["memory", "block"]))


def smearing_histogram(summary: pd.DataFrame) -> alt.Chart:
    """Paper Fig 10 / Fig 11: mean fraction of nodes carrying 0…3 concepts (top row) and of
    concepts carried by 0…12 nodes (bottom row) with 95 % CI bars, one column per architecture.

    summary: ``irn.stats.mean_interval`` of ``irn.dynamics.smearing`` fractions with arch,
    measure, count, mean, lo, hi (one task).
    """
    base = alt.Chart().encode(x=alt.X("count:O", title="count"))
    bars = base.mark_bar().encode(
        y=alt.Y("mean:Q", title="fraction", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("arch:N", scale=ARCH_COLORS, sort=ARCH_ORDER, legend=None),
        tooltip=["arch", "measure", "count", alt.Tooltip("mean:Q", format=".3f"), "n"])
    bars_ci = base.mark_rule(color="gray").encode(y="low:Q", y2="high:Q").transform_calculate(
        low="max(datum.lo, 0)", high="min(datum.hi, 1)")  # a fraction's CI ends inside [0, 1]
    return alt.layer(bars, bars_ci, data=summary).properties(width=200, height=120).facet(
        row=alt.Row("measure:N", title=None, sort=list(dynamics.SMEARING_MEASURES)),
        column=alt.Column("arch:N", title=None, sort=ARCH_ORDER),
    ).resolve_scale(x="independent")
