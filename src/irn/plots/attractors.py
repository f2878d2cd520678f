"""Charts of chapter 8: fixed points and excitable connections on the PCA of a network's
trajectories, and thresholds against the task's input amplitude (Ceni, Ashwin & Livi)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from irn.plots.style import ARCH_COLORS, ARCH_ORDER

TYPE_SCALE = alt.Scale(domain=["stable", "saddle", "slow"], range=["#222222", "#d62728", "#ff7f0e"])


def state_maps(maps: dict, width: int = 190) -> alt.HConcatChart:
    """One panel per network: visited states in grey, fixed points by type, excitable connections as
    lines labelled with their threshold.

    Parameters
    ----------
    maps : dict of str to irn.attractors.Map
        The panels' titles → the maps to draw.
    width : int, optional
        Width (and height) of one panel in pixels.

    Returns
    -------
    altair.HConcatChart
        The panels side by side.
    """
    panels = []
    for title, m in maps.items():
        base = alt.Chart(m.trajectory).mark_circle(size=6, color="#bbbbbb", opacity=0.4).encode(
            x=alt.X("pc1:Q", title="PC 1"), y=alt.Y("pc2:Q", title="PC 2"))
        layers = [base]
        if len(m.edges):
            edges = m.edges.assign(label=m.edges.threshold.map("{:.2f}".format))
            layers.append(alt.Chart(edges).mark_rule(color="#1f77b4", opacity=0.6).encode(
                x="x:Q", y="y:Q", x2="x2:Q", y2="y2:Q",
                tooltip=["source", "target", "channel", "sign", alt.Tooltip("threshold:Q", format=".3f")]))
            layers.append(alt.Chart(edges).mark_text(fontSize=8, color="#1f77b4").encode(
                x="mx:Q", y="my:Q", text="label:N"))
        layers.append(alt.Chart(m.points).mark_point(filled=True, size=60).encode(
            x="pc1:Q", y="pc2:Q", color=alt.Color("type:N", scale=TYPE_SCALE, title="fixed point"),
            shape=alt.Shape("type:N", scale=alt.Scale(domain=["stable", "saddle", "slow"],
                                                       range=["circle", "cross", "triangle"]), title="fixed point"),
            tooltip=["point", "type", "unstable_dims", alt.Tooltip("spectral_radius:Q", format=".3f"),
                     "label"] if "label" in m.points else ["point", "type", "unstable_dims"]))
        panels.append(alt.layer(*layers).properties(width=width, height=width,
                                                     title=f"{title} ({m.explained:.0%} of variance)"))
    return alt.hconcat(*panels)


def margins(frame: pd.DataFrame, width: int = 150) -> alt.FacetChart:
    """Thresholds of the expected transitions, one panel per task: a point per (replicate, edge),
    by architecture; the dashed line is the task's input amplitude.

    Parameters
    ----------
    frame : pandas.DataFrame
        `irn.attractors.Comparison` edges with columns arch, task, threshold, amplitude.
    width : int, optional
        Width of one panel in pixels.

    Returns
    -------
    altair.FacetChart
        One panel per task.
    """
    data = frame.dropna(subset=["threshold"])
    points = alt.Chart().mark_tick(opacity=0.5, thickness=1).encode(
        x=alt.X("arch:N", sort=ARCH_ORDER, title=None, axis=alt.Axis(labelExpr="upper(datum.value)")),
        y=alt.Y("threshold:Q", title="threshold (pulse amplitude)"),
        color=alt.Color("arch:N", scale=ARCH_COLORS, legend=None))
    line = alt.Chart().mark_rule(strokeDash=[4, 3], color="#555555").encode(y="amplitude:Q")
    return alt.layer(points, line, data=data).properties(width=width, height=200).facet(
        column=alt.Column("task:N", title=None))
