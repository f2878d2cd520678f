"""Charts of chapter 9: the temperature record, forecasts, delayed information between neurons,
the flow graph placed by trophic level, and the histograms of levels by role (Ivanovic, Kha &
Muruganantham, report §4)."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

ROLE_COLORS = alt.Scale(domain=["input", "hidden", "output"], range=["#1f77b4", "#7f7f7f", "#d62728"])
PART_COLORS = alt.Scale(domain=["train", "validation", "test"], range=["#4c78a8", "#f58518", "#54a24b"])
KIND_TITLES = {"stacked": "stacked forecaster", "fully_recurrent": "fully recurrent"}


def temperature_chart(frame: pd.DataFrame, units: str, width: int = 560) -> alt.Chart:
    """The record as daily means, coloured by part of the time split.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns date, temperature, part (one row per sample; aggregated here to days).
    units : str
        The temperature's units for the axis title.
    width : int, optional
        Width of the chart in pixels.

    Returns
    -------
    altair.Chart
        A line chart.
    """
    daily = (frame.assign(day=frame["date"].dt.floor("D"))
             .groupby(["day", "part"], sort=False, as_index=False)["temperature"].mean())
    return alt.Chart(daily).mark_line(strokeWidth=1).encode(
        x=alt.X("day:T", title="date"),
        y=alt.Y("temperature:Q", title=f"daily mean temperature ({units})", scale=alt.Scale(zero=False)),
        color=alt.Color("part:N", scale=PART_COLORS, title="part"),
        tooltip=[alt.Tooltip("day:T"), alt.Tooltip("temperature:Q", format=".1f"), "part"],
    ).properties(width=width, height=160)


def forecast_chart(frame: pd.DataFrame, units: str, width: int = 560) -> alt.Chart:
    """One stretch of the test part: the truth and each forecast of the next value.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns date, forecast (name), temperature.
    units : str
        The temperature's units for the axis title.
    width : int, optional
        Width of the chart in pixels.

    Returns
    -------
    altair.Chart
        One line per forecast.
    """
    order = list(dict.fromkeys(frame["forecast"]))
    return alt.Chart(frame).mark_line(strokeWidth=1.2).encode(
        x=alt.X("date:T", title="date"),
        y=alt.Y("temperature:Q", title=f"temperature ({units})", scale=alt.Scale(zero=False)),
        color=alt.Color("forecast:N", sort=order, title="series",
                        scale=alt.Scale(domain=order, range=["#000000", "#d62728", "#9467bd", "#8c8c8c", "#ff7f0e"][:len(order)])),
        strokeDash=alt.StrokeDash("forecast:N", sort=order, legend=None,
                                  scale=alt.Scale(domain=order, range=[[1, 0], [1, 0], [1, 0], [4, 3], [2, 2]][:len(order)])),
        tooltip=[alt.Tooltip("date:T"), "forecast", alt.Tooltip("temperature:Q", format=".2f")],
    ).properties(width=width, height=180)


def delayed_curves(frame: pd.DataFrame, width: int = 200) -> alt.FacetChart:
    """The source's measure, delayed − undelayed MI, against the lag, one line per role pair.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns kind, pair ("input → hidden", …), lag, mean, lo, hi (over replicates).
    width : int, optional
        Width of one panel in pixels.

    Returns
    -------
    altair.FacetChart
        One panel per kind of network.
    """
    base = alt.Chart(frame).encode(
        x=alt.X("lag:O", title="lag ℓ (steps)"),
        color=alt.Color("pair:N", title="source → target", scale=alt.Scale(scheme="tableau10")))
    band = base.mark_area(opacity=0.15).encode(y="lo:Q", y2="hi:Q")
    line = base.mark_line(point=True).encode(
        y=alt.Y("mean:Q", title="I(s[t−ℓ]; u[t]) − I(s[t]; u[t])  (bits, KSG k=3)"),
        tooltip=["pair", "lag", alt.Tooltip("mean:Q", format=".3f")])
    return alt.layer(band, line).properties(width=width, height=180).facet(
        column=alt.Column("kind:N", title=None, header=alt.Header(labelExpr="replace(datum.value, '_', ' ')")))


def flow_graph_chart(levels: pd.DataFrame, edges: pd.DataFrame, title: str, width: int = 260) -> alt.LayerChart:
    """One flow graph: neurons placed left to right by trophic level, stacked by role; an arrow
    stem per significant edge (source → target), darker for more information.

    Parameters
    ----------
    levels : pandas.DataFrame
        Columns neuron, role, level (one replicate).
    edges : pandas.DataFrame
        Columns source, target, weight (bits).
    title : str
        The chart's title.
    width : int, optional
        Width of the chart in pixels.

    Returns
    -------
    altair.LayerChart
        Edges, arrowheads and neurons.
    """
    nodes = levels.dropna(subset=["level"]).copy()
    order = {"input": 0, "hidden": 1, "output": 2}
    nodes = nodes.sort_values(["level"]).assign(row=lambda d: d.groupby("role").cumcount())
    nodes["y"] = nodes["role"].map(order) * 10 + nodes["row"]
    position = nodes.set_index("neuron")[["level", "y"]]
    e = edges[edges["source"].isin(position.index) & edges["target"].isin(position.index)].copy()
    e[["x", "y"]] = position.loc[e["source"]].to_numpy()
    e[["x2", "y2"]] = position.loc[e["target"]].to_numpy()
    rules = alt.Chart(e).mark_rule().encode(
        x=alt.X("x:Q", title="trophic level"), y=alt.Y("y:Q", axis=None), x2="x2:Q", y2="y2:Q",
        opacity=alt.Opacity("weight:Q", title="edge (bits)", scale=alt.Scale(range=[0.1, 0.9])),
        tooltip=["source", "target", alt.Tooltip("weight:Q", format=".3f")])
    heads = alt.Chart(e).mark_point(shape="triangle-right", size=30, filled=True, color="#444").encode(
        x="x2:Q", y="y2:Q", opacity=alt.Opacity("weight:Q", legend=None, scale=alt.Scale(range=[0.1, 0.9])))
    points = alt.Chart(nodes).mark_circle(size=120, opacity=1).encode(
        x="level:Q", y="y:Q", color=alt.Color("role:N", scale=ROLE_COLORS, title="neuron"),
        tooltip=["neuron", "role", alt.Tooltip("level:Q", format=".2f")])
    return alt.layer(rules, heads, points).properties(width=width, height=200, title=title)


def level_histogram(levels: pd.DataFrame, width: int = 220) -> alt.VConcatChart:
    """Histograms of trophic levels by role over all replicates (the report's histogram of
    "progression along the network"); levels scaled to 0…1 within each replicate, one row per
    role and one column per kind of network.

    Parameters
    ----------
    levels : pandas.DataFrame
        Columns kind, replicate, neuron, role, level.
    width : int, optional
        Width of one panel in pixels.

    Returns
    -------
    altair.VConcatChart
        One row per role.
    """
    scaled = levels.dropna(subset=["level"]).copy()
    top = scaled.groupby(["kind", "replicate"])["level"].transform("max").replace(0, np.nan)
    scaled["progression"] = (scaled["level"] / top).fillna(0)
    scaled["bin"] = np.minimum(np.floor(scaled["progression"] * 10), 9) / 10
    counts = scaled.groupby(["kind", "role", "bin"], as_index=False).size().rename(columns={"size": "neurons"})
    counts["bin_end"] = counts["bin"] + 0.1
    rows = []
    for role in ("input", "hidden", "output"):
        part = counts[counts["role"] == role]
        if part.empty:
            continue
        rows.append(alt.Chart(part).mark_bar(opacity=0.8).encode(
            x=alt.X("bin:Q", scale=alt.Scale(domain=[0, 1]), title="level / highest level in its network"),
            x2="bin_end:Q",
            y=alt.Y("neurons:Q", title=f"{role} neurons", scale=alt.Scale(domainMin=0)), y2=alt.datum(0),
            color=alt.Color("role:N", scale=ROLE_COLORS, title="neuron"),
            tooltip=["kind", "role", "bin", "neurons"],
        ).properties(width=width, height=110).facet(
            column=alt.Column("kind:N", title=None, sort=list(KIND_TITLES),
                              header=alt.Header(labelExpr="replace(datum.value, '_', ' ')"))))
    return alt.vconcat(*rows)


def bridge_chart(frame: pd.DataFrame, width: int = 160) -> alt.FacetChart:
    """Mean path width of relay nodes against the other hidden nodes, one line per network and
    one panel per architecture (chapter 9).

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns arch, replicate, group ("relay nodes" / "other hidden nodes"), width (bits), on_path.
    width : int, optional
        Width of one panel in pixels.

    Returns
    -------
    altair.FacetChart
        One panel per architecture.
    """
    groups = ["other hidden nodes", "relay nodes"]
    base = alt.Chart(frame).encode(
        x=alt.X("group:N", sort=groups, title=None),
        y=alt.Y("width:Q", title="mean path width (bits)", scale=alt.Scale(domainMin=0)),
        detail="replicate:N")
    lines = base.mark_line(opacity=0.5, color="gray")
    points = base.mark_point(filled=True, size=50).encode(
        color=alt.Color("group:N", sort=groups, title=None),
        tooltip=["arch", "replicate", "group", alt.Tooltip("width:Q", format=".3f"),
                 alt.Tooltip("on_path:Q", format=".0%", title="share on a path")])
    return alt.layer(lines, points).properties(width=width, height=200).facet(
        column=alt.Column("arch:N", title=None, sort=["rnn", "gru", "lstm"]))
