"""Charts of chapter 9: the temperature records, forecasts, the source's measure between neuron
groups, the positive controls' edges, the flow graph placed by trophic level (interactive: edge
values on hover), the histograms of levels by role, the direction under every examined choice, and
the bridge to the relay nodes (Ivanovic, Kha & Muruganantham, report §4).

Every chart fits the book's text column (676 px at a 1280-px window, with the legend and
vega-embed's menu) and is shrunk whole to a 390-px phone; categories use the tableau10 palette."""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd

from irn.plots.style import DASHES, panel_width

ROLE_COLORS = alt.Scale(domain=["input", "hidden", "output"], range=["#1f77b4", "#7f7f7f", "#d62728"])
PART_COLORS = alt.Scale(domain=["train", "validation", "test"], range=["#4c78a8", "#f58518", "#54a24b"])
KIND_TITLES = {"stacked": "stacked forecaster", "fully_recurrent": "fully recurrent network"}
MEASURE_TITLES = {"transfer": "transfer entropy", "delayed": "the source's measure",
                  "multivariate": "multivariate transfer entropy"}
SHORT_MEASURES = {"transfer": "TE", "delayed": "source's", "multivariate": "multivariate TE"}
def records_chart(measured: pd.DataFrame, normals: pd.DataFrame, measured_units: str, normal_units: str,
                  ) -> alt.VConcatChart:
    """The measured record coloured by part of the split (top) and the climatological normal (bottom),
    both as daily values.

    Parameters
    ----------
    measured : DataFrame
        date, temperature, part (one row per day).
    normals : DataFrame
        date, temperature (hourly rows, aggregated here to daily means).
    measured_units, normal_units : str
        The two records' units.

    Returns
    -------
    altair.VConcatChart
    """
    width = panel_width(1)
    daily = normals.assign(day=normals["date"].dt.floor("D")).groupby("day", as_index=False)["temperature"].mean()
    top = alt.Chart(measured).mark_line(strokeWidth=0.8).encode(
        x=alt.X("date:T", title="date"),
        y=alt.Y("temperature:Q", title=f"daily maximum ({measured_units})", scale=alt.Scale(zero=False)),
        color=alt.Color("part:N", scale=PART_COLORS, title="part (measured)"),
        tooltip=[alt.Tooltip("date:T"), alt.Tooltip("temperature:Q", format=".1f"), "part"],
    ).properties(width=width, height=150, title="measured: Seattle, daily maxima")
    bottom = alt.Chart(daily).mark_line(strokeWidth=1.2, color="#7f7f7f").encode(
        x=alt.X("day:T", title="date"),
        y=alt.Y("temperature:Q", title=f"daily mean ({normal_units})", scale=alt.Scale(zero=False)),
        tooltip=[alt.Tooltip("day:T"), alt.Tooltip("temperature:Q", format=".2f")],
    ).properties(width=width, height=110, title="a climatological normal ('seattle-temps')")
    return alt.vconcat(top, bottom).resolve_scale(color="independent")


def forecast_chart(frame: pd.DataFrame, units: str) -> alt.Chart:
    """One stretch of the test part: the truth and each forecast of the next value, told apart in one
    legend (below the chart) by colour and line style.

    Parameters
    ----------
    frame : DataFrame
        date, forecast (name), temperature; the first name is the truth.
    units : str

    Returns
    -------
    altair.Chart
    """
    order = list(dict.fromkeys(frame["forecast"]))
    colors = ["#000000", "#d62728", "#1f77b4", "#2ca02c", "#ff7f0e"][:len(order)]
    dashes = [[1, 0], *DASHES][:len(order)]
    legend = alt.Legend(orient="bottom", columns=2, symbolStrokeWidth=2, labelLimit=260)
    return alt.Chart(frame).mark_line(strokeWidth=1.4).encode(
        x=alt.X("date:T", title="date"),
        y=alt.Y("temperature:Q", title=f"daily maximum ({units})", scale=alt.Scale(zero=False)),
        color=alt.Color("forecast:N", sort=order, title="series", scale=alt.Scale(domain=order, range=colors),
                        legend=legend),
        strokeDash=alt.StrokeDash("forecast:N", sort=order, title="series", legend=legend,
                                  scale=alt.Scale(domain=order, range=dashes)),
        tooltip=[alt.Tooltip("date:T"), "forecast", alt.Tooltip("temperature:Q", format=".1f")],
    ).properties(width=panel_width(1, legend=False), height=190)


def delayed_curves(frame: pd.DataFrame) -> alt.FacetChart:
    """The source's measure, delayed − undelayed MI, against the lag, one line per role pair.

    Parameters
    ----------
    frame : DataFrame
        kind, pair ("input → hidden", …), lag, mean, lo, hi (over replicates).

    Returns
    -------
    altair.FacetChart
    """
    frame = frame.assign(network=frame["kind"].map(KIND_TITLES).fillna(frame["kind"]))
    color = alt.Color("pair:N", title="source → target", scale=alt.Scale(scheme="tableau10"))
    base = alt.Chart().encode(x=alt.X("lag:O", title="lag ℓ (days)"))
    band = base.mark_area(opacity=0.15).encode(y="lo:Q", y2="hi:Q", color=alt.Color("pair:N", legend=None))
    line = base.mark_line(point=True).encode(
        y=alt.Y("mean:Q", title="I(s[t−ℓ]; u[t]) − I(s[t]; u[t]) (bits)"), color=color,
        tooltip=["network", "pair", "lag", alt.Tooltip("mean:Q", format=".3f")])
    return alt.layer(band, line, data=frame).properties(width=panel_width(2), height=180).facet(
        column=alt.Column("network:N", title=None, sort=list(KIND_TITLES.values())))


def control_edges_chart(frame: pd.DataFrame) -> alt.FacetChart:
    """The positive controls: every ordered pair of neurons as a cell, marked by what the test found
    against the truth, one panel per network × measure (three to a row).

    Parameters
    ----------
    frame : DataFrame
        network, measure, source, target, outcome ("true edge found", "true edge missed", "spurious
        edge", "no edge").

    Returns
    -------
    altair.FacetChart
    """
    outcomes = ["true edge found", "true edge missed", "spurious edge", "no edge"]
    frame = frame.assign(panel=frame["network"] + " · " + frame["measure"])
    order = list(dict.fromkeys(frame["panel"]))
    width = panel_width(3, legend=False, shared_y=False) - 6
    return alt.Chart(frame).mark_rect(stroke="white", strokeWidth=0.5).encode(
        x=alt.X("target:O", title="target neuron"),
        y=alt.Y("source:O", title="source neuron"),
        color=alt.Color("outcome:N", title="edge", sort=outcomes, legend=alt.Legend(orient="bottom", columns=4),
                        scale=alt.Scale(domain=outcomes, range=["#1b9e77", "#7570b3", "#d95f02", "#eeeeee"])),
        tooltip=["network", "measure", "source", "target", "outcome"],
    ).properties(width=width, height=width).facet(
        facet=alt.Facet("panel:N", sort=order, title=None, header=alt.Header(labelFontSize=10)), columns=3
    ).resolve_scale(x="independent", y="independent")


def _names(roles) -> list[str]:
    """"input", "hidden 1", "hidden 2", …, "output" (numbered when a role has several neurons)."""
    roles = list(roles)
    seen = {role: 0 for role in set(roles)}
    names = []
    for role in roles:
        seen[role] += 1
        names.append(role if roles.count(role) == 1 else f"{role} {seen[role]}")
    return names


def flow_graph_chart(levels: pd.DataFrame, edges: pd.DataFrame, title: str, *, height: int = 200,
                     value_title: str = "bits above the surrogate mean", name: str = "graph") -> alt.LayerChart:
    """One flow graph: neurons placed left to right by trophic level, in rows by role (inputs at the
    bottom, outputs on top); an arrow per significant edge (source → target) with an arrowhead near
    its end, darker for more information; hovering an edge highlights it and shows its values.

    Parameters
    ----------
    levels : DataFrame
        neuron, role, level (one network).
    edges : DataFrame
        source, target, weight (bits) and any of value, p_adjusted for the tooltip.
    title : str
    height : int
        Pixels.
    value_title : str
        What the weight is, for the legend and tooltip.
    name : str
        Tells the hover selections of several graphs on a page apart.

    Returns
    -------
    altair.LayerChart
    """
    width = panel_width(1)
    everyone = levels.sort_values("neuron")
    roles = everyone["role"].tolist()
    name = dict(zip(everyone["neuron"], _names(roles)))
    # rows: inputs at the bottom, hidden neurons one row each in the middle, outputs on top
    index = everyone.groupby("role").cumcount().to_numpy()
    hidden_rows = int((everyone["role"] == "hidden").sum())
    rows = np.where(everyone["role"] == "input", index * 0.8,
                    np.where(everyone["role"] == "hidden", 1.5 + index, hidden_rows + 1.5 + index * 0.8))
    nodes = everyone.assign(y=rows, name=everyone["neuron"].map(name)).dropna(subset=["level"])
    position = nodes.set_index("neuron")[["level", "y"]]
    e = edges[edges["source"].isin(position.index) & edges["target"].isin(position.index)].copy()
    x_lo, x_hi = (float(nodes["level"].min()) - 0.15, float(nodes["level"].max()) + 0.15) if len(nodes) else (0, 1)
    y_lo, y_hi = -1.0, (float(nodes["y"].max()) + 1.0) if len(nodes) else 1.0
    e[["x", "y"]] = position.loc[e["source"]].to_numpy()
    e[["x2", "y2"]] = position.loc[e["target"]].to_numpy()
    # an arrowhead 80 % of the way along each edge, turned to the edge's direction on screen
    sx, sy = width / (x_hi - x_lo), height / (y_hi - y_lo)
    e["hx"], e["hy"] = e["x"] + 0.8 * (e["x2"] - e["x"]), e["y"] + 0.8 * (e["y2"] - e["y"])
    e["angle"] = [math.degrees(math.atan2((b - a) * sx, (d - c) * sy)) % 360
                  for a, b, c, d in zip(e["x"], e["x2"], e["y"], e["y2"])]
    e["edge"] = e["source"].map(name) + " → " + e["target"].map(name)
    hover = alt.selection_point(name=f"hover_{name}", on="pointerover", fields=["edge"], empty=False,
                                clear="pointerout")
    x = alt.X("x:Q", title="trophic level", scale=alt.Scale(domain=[x_lo, x_hi], nice=False))
    y = alt.Y("y:Q", scale=alt.Scale(domain=[y_lo, y_hi], nice=False),
              axis=alt.Axis(title="neuron (input, hidden, output)", labels=False, ticks=False, grid=False))
    tooltip = [alt.Tooltip("edge:N", title="edge"), alt.Tooltip("weight:Q", format=".3f", title=value_title)]
    tooltip += [alt.Tooltip(f"{c}:Q", format=".3g", title=t) for c, t in
                (("value", "estimate (bits)"), ("p_adjusted", "p (FDR-adjusted)")) if c in e]
    opacity = alt.condition(hover, alt.value(1.0), alt.Opacity("weight:Q", title=f"edge ({value_title})",
                                                                scale=alt.Scale(range=[0.15, 0.8])))
    rules = alt.Chart(e).mark_rule(strokeWidth=2).encode(
        x=x, y=y, x2="x2:Q", y2="y2:Q", opacity=opacity,
        color=alt.condition(hover, alt.value("#d62728"), alt.value("#333333")), tooltip=tooltip).add_params(hover)
    heads = alt.Chart(e).mark_point(shape="triangle-up", size=60, filled=True).encode(
        x="hx:Q", y="hy:Q", angle=alt.Angle("angle:Q", scale=None),
        opacity=alt.condition(hover, alt.value(1.0), alt.Opacity("weight:Q", legend=None,
                                                                 scale=alt.Scale(range=[0.15, 0.8]))),
        color=alt.condition(hover, alt.value("#d62728"), alt.value("#333333")), tooltip=tooltip)
    points = alt.Chart(nodes).mark_circle(size=140, opacity=1).encode(
        x="level:Q", y="y:Q", color=alt.Color("role:N", scale=ROLE_COLORS, title="neuron"),
        tooltip=["name", "role", alt.Tooltip("level:Q", format=".2f", title="trophic level")])
    labels = alt.Chart(nodes).mark_text(dx=8, align="left", fontSize=9, color="#333").encode(x="level:Q", y="y:Q",
                                                                                        text="name")
    return alt.layer(rules, heads, points, labels).properties(width=width, height=height, title=title)


def level_histogram(levels: pd.DataFrame) -> alt.FacetChart:
    """Histograms of trophic levels by role over all replicates (report §4's histogram of "progression
    along the network"); levels scaled to 0…1 within each replicate, one row per role and one column
    per kind of network.

    Parameters
    ----------
    levels : DataFrame
        kind, replicate, neuron, role, level.

    Returns
    -------
    altair.FacetChart
    """
    scaled = levels.dropna(subset=["level"]).copy()
    top = scaled.groupby(["kind", "replicate"])["level"].transform("max").replace(0, np.nan)
    scaled["progression"] = (scaled["level"] / top).fillna(0)
    scaled["bin"] = np.minimum(np.floor(scaled["progression"] * 10), 9) / 10
    counts = scaled.groupby(["kind", "role", "bin"], as_index=False).size().rename(columns={"size": "neurons"})
    counts["bin_end"] = counts["bin"] + 0.1
    counts["network"] = counts["kind"].map(KIND_TITLES).fillna(counts["kind"])
    return alt.Chart(counts).mark_bar().encode(
        x=alt.X("bin:Q", scale=alt.Scale(domain=[0, 1]), title="level / highest level in its network"),
        x2="bin_end:Q",
        y=alt.Y("neurons:Q", title="neurons", scale=alt.Scale(domainMin=0)), y2=alt.datum(0),
        color=alt.Color("role:N", scale=ROLE_COLORS, title="neuron"),
        tooltip=["network", "role", "bin", "neurons"],
    ).properties(width=panel_width(2), height=90).facet(
        row=alt.Row("role:N", title=None, sort=["input", "hidden", "output"],
                    header=alt.Header(labelAngle=0, labelAlign="left")),
        column=alt.Column("network:N", title=None, sort=list(KIND_TITLES.values()))
    ).resolve_scale(y="independent")


VERDICT_COLORS = alt.Scale(domain=["reproduced", "partly", "not reproduced", "contradicted", "no verdict"],
                           range=["#1b9e77", "#66a61e", "#7f7f7f", "#d95f02", "#bbbbbb"])


def sensitivity_chart(table: pd.DataFrame) -> alt.FacetChart:
    """The direction under every examined choice: each comparison's mean level difference with its 95 %
    bootstrap interval, one row per setting, coloured by the verdict of that setting.

    Parameters
    ----------
    table : DataFrame
        ``irn.flow.Sensitivity.table`` with a label column (the setting in words).

    Returns
    -------
    altair.FacetChart
    """
    order = list(dict.fromkeys(table["label"]))
    base = alt.Chart().encode(y=alt.Y("label:N", sort=order, title=None))
    zero = alt.Chart().mark_rule(color="#999", strokeDash=[4, 3]).encode(x=alt.datum(0))
    bars = base.mark_rule(strokeWidth=2).encode(x=alt.X("low:Q", title="mean level difference (levels)"), x2="high:Q",
                                                color=alt.Color("verdict:N", scale=VERDICT_COLORS, title="verdict"))
    dots = base.mark_point(filled=True, size=50).encode(
        x="difference:Q", color=alt.Color("verdict:N", scale=VERDICT_COLORS, title="verdict"),
        tooltip=["label", "comparison", alt.Tooltip("difference:Q", format="+.2f"),
                 alt.Tooltip("p_value:Q", format=".2g", title="p (Wilcoxon)"), "verdict"])
    return alt.layer(zero, bars, dots, data=table).properties(width=150, height=alt.Step(16)).facet(
        column=alt.Column("comparison:N", title=None, sort=["output − hidden", "hidden − input"]))


def bridge_chart(frame: pd.DataFrame) -> alt.FacetChart:
    """Mean path width of relay nodes against the other hidden nodes, one line per network and one panel
    per architecture; networks with no input → output path drawn apart.

    Parameters
    ----------
    frame : DataFrame
        arch, replicate, group ("relay nodes" / "other hidden nodes"), width (bits), on_path, has_path.

    Returns
    -------
    altair.FacetChart
    """
    groups = ["other hidden nodes", "relay nodes"]
    frame = frame.assign(path=np.where(frame["has_path"], "an input → output path", "no path"))
    base = alt.Chart().encode(
        x=alt.X("group:N", sort=groups, title=None, axis=alt.Axis(labelAngle=0, labelExpr="split(datum.label, ' ')[0]")),
        y=alt.Y("width:Q", title="mean path width (bits)", scale=alt.Scale(domainMin=0)),
        detail="replicate:N")
    lines = base.mark_line(opacity=0.5, color="gray")
    points = base.mark_point(filled=True, size=50).encode(
        color=alt.Color("group:N", sort=groups, title=None, scale=alt.Scale(scheme="dark2")),
        shape=alt.Shape("path:N", title="network", scale=alt.Scale(domain=["an input → output path", "no path"],
                                                                    range=["circle", "cross"])),
        tooltip=["arch", "replicate", "group", alt.Tooltip("width:Q", format=".3f"),
                 alt.Tooltip("on_path:Q", format=".0%", title="share on a path"), "path"])
    return alt.layer(lines, points, data=frame).properties(width=panel_width(3) - 10, height=180).facet(
        column=alt.Column("arch:N", title=None, sort=["rnn", "gru", "lstm"]))


def _p(value: float) -> str:
    return "—" if not np.isfinite(value) else "< 0.001" if value < 0.001 else f"{value:.3f}"


def direction_table(direction: pd.DataFrame, verdicts: dict) -> pd.DataFrame:
    """The direction tests as a compact table: one row per measure × network, one column per comparison
    ("−0.45 [−0.46, −0.43], p = 0.250"), and the measure's verdict.

    Parameters
    ----------
    direction : DataFrame
        ``irn.flow.direction_tests`` rows with measure and network columns.
    verdicts : dict
        Measure → verdict.

    Returns
    -------
    DataFrame
    """
    def cell(r):
        if not np.isfinite(r.difference):
            return "—"
        interval = f" [{r.low:+.2f}, {r.high:+.2f}]" if np.isfinite(r.low) else ""
        return f"{r.difference:+.2f}{interval}, p {'= ' if r.p_value >= 0.001 else ''}{_p(r.p_value)}"

    rows = direction.assign(cell=[cell(r) for r in direction.itertuples()])
    table = rows.pivot_table(index=["measure", "network"], columns="comparison", values="cell", aggfunc="first",
                             sort=False)[["output − hidden", "hidden − input"]]
    table["verdict"] = [verdicts[m] for m, _ in table.index]
    short = {"stacked forecaster": "stacked", "fully recurrent network": "fully recurrent"}
    table.index = pd.MultiIndex.from_tuples([(SHORT_MEASURES.get(m, m), short.get(n, n)) for m, n in table.index],
                                            names=["measure", "network"])
    return table.rename_axis(columns=None)
