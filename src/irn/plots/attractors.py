"""Charts of chapter 8, excitable network attractors (Ceni, Ashwin & Livi): the state space with
fixed points and connections (hover a stable point for the thresholds of the connections leaving
it), the landing map of one network, thresholds against the task's pulse, the bifurcation diagram
under a held input, transitions under input noise, and the network during training.

Every chart fits the book's text column (``irn.plots.style.COLUMN``) with at most two panels side
by side; on a phone the book's style sheet shrinks it to the column.
"""

from __future__ import annotations


import altair as alt
import numpy as np
import pandas as pd

from irn.plots.style import ACTIONS, ARCH_ORDER, AXIS, COLUMN, SPACING

#: Line styles for up to five bands (``irn.plots.style.DASHES`` and one more).
DASHES = [[1, 0], [6, 3], [2, 2], [8, 3, 2, 3], [1, 3]]
#: Architectures of chapter 8: the paper's three and echo state networks.
CLASS_ORDER = [*ARCH_ORDER, "esn"]
CLASS_NAMES = {"rnn": "RNN", "gru": "GRU", "lstm": "LSTM", "esn": "ESN"}
CLASS_COLORS = alt.Scale(domain=[CLASS_NAMES[a] for a in CLASS_ORDER],
                         range=["#222222", "#d62728", "#1f77b4", "#2ca02c"])
TYPE_DOMAIN = ["stable", "saddle", "slow"]
SHAPE_SCALE = alt.Scale(domain=TYPE_DOMAIN, range=["circle", "cross", "triangle"])
#: One colour scale for the state-space panels: input channels (arrows, dark2) and fixed points.
MAP_COLORS = alt.Scale(domain=["channel 1", "channel 2", "channel 3", *TYPE_DOMAIN],
                       range=["#1b9e77", "#d95f02", "#7570b3", "#222222", "#d62728", "#e6ab02"])
LEGEND = alt.Legend(orient="bottom", direction="horizontal", titleLimit=500)
#: Legends of line styles: a short stroke per entry, so that its dash shows.
LINE_LEGEND = alt.Legend(orient="bottom", direction="horizontal", titleLimit=500, symbolType="stroke",
                         symbolStrokeWidth=2, symbolSize=300)


def _panel_width(columns: int, axes: int = 1) -> int:
    """The width of each of ``columns`` panels side by side, ``axes`` y axes drawn in the row."""
    return (COLUMN - ACTIONS - AXIS * axes - SPACING * (columns - 1)) // columns


def _arrows(edges: pd.DataFrame, x_domain, y_domain, width: int, height: int, at: float = 0.82) -> pd.DataFrame:
    """Where each edge's arrowhead sits (``at`` of the way from source to target) and its angle in
    screen degrees (clockwise from up), for a panel of the given size and domains."""
    e = edges.copy()
    e["hx"], e["hy"] = e.x + at * (e.x2 - e.x), e.y + at * (e.y2 - e.y)
    dx = (e.x2 - e.x) / (x_domain[1] - x_domain[0]) * width
    dy = -(e.y2 - e.y) / (y_domain[1] - y_domain[0]) * height  # screen y grows downwards
    e["angle"] = np.degrees(np.arctan2(dx, -dy)) % 360
    return e


def _domain(values: pd.Series, pad: float = 0.08) -> list[float]:
    lo, hi = float(values.min()), float(values.max())
    span = hi - lo if hi > lo else 1.0
    return [lo - pad * span, hi + pad * span]


def state_maps(maps: dict, columns: int = 2, height: int = 260) -> alt.VConcatChart:
    """The state space of a few networks, interactive: visited states in grey, fixed points by
    type, excitable connections as arrows coloured by input channel. Hovering over a stable point
    brings forward the connections leaving it and writes their thresholds; every arrow and point
    has a tooltip.

    Parameters
    ----------
    maps : dict of str to irn.attractors.StateMap
        One panel per entry, titled by its key.
    columns : int
        Panels per row.
    height : int
        Height of a panel in pixels.

    Returns
    -------
    altair.VConcatChart
    """
    width = _panel_width(columns, axes=columns)
    panels = []
    for i, (title, m) in enumerate(maps.items()):
        xs = pd.concat([m.trajectory.pc1, m.points.pc1])
        ys = pd.concat([m.trajectory.pc2, m.points.pc2])
        xd, yd = _domain(xs), _domain(ys)
        x = alt.X("pc1:Q", title="PC 1", scale=alt.Scale(domain=xd, nice=False))
        y = alt.Y("pc2:Q", title="PC 2", scale=alt.Scale(domain=yd, nice=False))
        hover = alt.selection_point(name=f"hover{i}", fields=["source"], on="pointerover", nearest=True,
                                    empty=False, clear="pointerout")
        layers = [alt.Chart(m.trajectory).mark_circle(size=5, color="#bbbbbb", opacity=0.35).encode(x=x, y=y)]
        points = m.points.assign(source=m.points.point, state=m.points.get("label", ""))
        if len(m.edges):
            e = _arrows(m.edges, xd, yd, width, height)
            names = dict(zip(points.point, points.state.replace("", np.nan).fillna(points.point.astype(str))))
            e["from"], e["to"] = e.source.map(names), e.target.map(names)
            e["pulse"] = [f"channel {c + 1}, {'+' if s > 0 else '−'}" for c, s in zip(e.channel, e.sign)]
            e["label"] = e.threshold.map("{:.2f}".format)
            e["mx"], e["my"] = e.x + 0.45 * (e.x2 - e.x), e.y + 0.45 * (e.y2 - e.y)
            tip = [alt.Tooltip("from:N"), alt.Tooltip("to:N"), alt.Tooltip("pulse:N"),
                   alt.Tooltip("threshold:Q", format=".3f")]
            color = alt.Color("channel_name:N", scale=MAP_COLORS, title="arrows: input channel; points: fixed point",
                              legend=LEGEND)
            e["channel_name"] = "channel " + (e.channel + 1).astype(str)
            opacity = alt.condition(hover, alt.value(1.0), alt.value(0.55))
            layers.append(alt.Chart(e).mark_rule(strokeWidth=2).encode(
                x=alt.X("x:Q", scale=alt.Scale(domain=xd, nice=False), title="PC 1"), y=alt.Y("y:Q", title="PC 2"),
                x2="x2:Q", y2="y2:Q", color=color, opacity=opacity, tooltip=tip))
            layers.append(alt.Chart(e).mark_point(shape="triangle-up", filled=True, size=55).encode(
                x="hx:Q", y="hy:Q", angle=alt.Angle("angle:Q", scale=None), color=color, opacity=opacity,
                tooltip=tip))
            layers.append(alt.Chart(e).mark_text(fontSize=10, fontWeight="bold", dy=-6).encode(
                x="mx:Q", y="my:Q", text="label:N", color=color).transform_filter(hover))
        layers.append(alt.Chart(points).mark_point(filled=True, size=70).encode(
            x="pc1:Q", y="pc2:Q",
            color=alt.Color("type:N", scale=MAP_COLORS, title="arrows: input channel; points: fixed point",
                            legend=LEGEND),
            shape=alt.Shape("type:N", scale=SHAPE_SCALE, title="fixed point", legend=None),
            tooltip=[alt.Tooltip("state:N", title="task state"), "type:N", alt.Tooltip("unstable_dims:Q",
                     title="unstable directions"), alt.Tooltip("spectral_radius:Q", format=".3f")]).add_params(hover))
        panels.append(alt.layer(*layers).properties(width=width, height=height,
                                                     title=f"{title} ({m.explained:.0%} of variance)"))
    rows = [alt.hconcat(*panels[k:k + columns]) for k in range(0, len(panels), columns)]
    return alt.vconcat(*rows)


LANDING_ORDER = ["stays", "the expected switch", "another task state", "no listed state"]
LANDING_SCALE = alt.Scale(domain=LANDING_ORDER, range=["#cccccc", "#1b9e77", "#d95f02", "#7570b3"])


def landing_map(frame: pd.DataFrame, amplitude: float = 1.0, width: int = 420) -> alt.LayerChart:
    """The landing map of one network: for every stable point and pulse (one row each), the
    amplitudes (x) grouped into runs that land in the same place, coloured by what that place is;
    the dashed line is the task's pulse.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``irn.attractors.landing_frame`` output: columns row, start, end, kind (one of
        ``LANDING_ORDER``), target_state.
    amplitude : float
        The task's pulse.
    width : int
        Width in pixels.

    Returns
    -------
    altair.LayerChart
    """
    rows = list(dict.fromkeys(frame["row"]))
    bars = alt.Chart(frame).mark_bar(height=10).encode(
        x=alt.X("start:Q", title="pulse amplitude", scale=alt.Scale(domain=[0, float(frame.end.max())])),
        x2="end:Q", y=alt.Y("row:N", sort=rows, title="task state and pulse"),
        color=alt.Color("kind:N", scale=LANDING_SCALE, title="the pulse lands", legend=LEGEND),
        tooltip=[alt.Tooltip("row:N", title="from, pulse"), alt.Tooltip("start:Q", title="above", format=".2f"),
                 alt.Tooltip("end:Q", title="up to", format=".2f"), alt.Tooltip("target_state:N", title="lands on")])
    rule = alt.Chart(pd.DataFrame({"amplitude": [amplitude]})).mark_rule(strokeDash=[4, 3], color="#333333").encode(
        x="amplitude:Q")
    return alt.layer(bars, rule).properties(width=width, height=12 * len(rows))


def margins(frame: pd.DataFrame, height: int = 200) -> alt.FacetChart:
    """Thresholds of the expected transitions, one panel per task: a tick per (network, edge), by
    network class; the dashed line is the task's pulse amplitude.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``Comparison.edges`` rows with columns arch (a key of ``CLASS_NAMES``), task, source,
        target, threshold, amplitude (rows without a threshold are left out).
    height : int
        Height of a panel in pixels.

    Returns
    -------
    altair.FacetChart
    """
    data = frame.dropna(subset=["threshold"]).assign(network=lambda d: d.arch.map(CLASS_NAMES))
    tasks = list(dict.fromkeys(data.task))
    width = _panel_width(max(len(tasks), 1)) - 40
    order = [CLASS_NAMES[a] for a in CLASS_ORDER if CLASS_NAMES[a] in set(data.network)]
    ticks = alt.Chart().mark_tick(opacity=0.5, thickness=1).encode(
        x=alt.X("network:N", sort=order, title=None),
        y=alt.Y("threshold:Q", title="threshold (pulse amplitude)"),
        color=alt.Color("network:N", scale=CLASS_COLORS, legend=None),
        tooltip=["network:N", "source:N", "target:N", alt.Tooltip("threshold:Q", format=".3f")])
    line = alt.Chart().mark_rule(strokeDash=[4, 3], color="#555555").encode(y="amplitude:Q")
    return alt.layer(ticks, line, data=data).properties(width=width, height=height).facet(
        column=alt.Column("task:N", title=None, sort=tasks))


def bifurcation(diagram: pd.DataFrame, thresholds: pd.DataFrame, height: int = 240) -> alt.LayerChart:
    """Fixed points of one network under a held input (x: its amplitude; y: the readout of the
    channel's bit), stable and unstable, with the one-step pulse thresholds of the connections that
    leave the stable points on that channel (dashed, one per connection).

    Parameters
    ----------
    diagram : pandas.DataFrame
        ``irn.attractors.diagram`` rows with a column ``readout``.
    thresholds : pandas.DataFrame
        Columns threshold and connection (a label).
    height : int
        Height in pixels.

    Returns
    -------
    altair.LayerChart
    """
    d = diagram.assign(type=np.where(diagram.stable, "stable", "unstable"))
    points = alt.Chart(d).mark_point(filled=True, size=22).encode(
        x=alt.X("amplitude:Q", title="held input on the channel (amplitude)"),
        y=alt.Y("readout:Q", title="readout of the channel's bit"),
        color=alt.Color("type:N", scale=alt.Scale(domain=["stable", "unstable"], range=["#222222", "#d62728"]),
                        title="fixed point", legend=LEGEND),
        shape=alt.Shape("type:N", scale=alt.Scale(domain=["stable", "unstable"], range=["circle", "cross"]),
                        title="fixed point", legend=LEGEND),
        tooltip=[alt.Tooltip("amplitude:Q", format=".2f"), alt.Tooltip("readout:Q", format=".3f"), "type:N"])
    rules = alt.Chart(thresholds).mark_rule(strokeDash=[4, 3], color="#1f77b4").encode(
        x="threshold:Q", tooltip=["connection:N", alt.Tooltip("threshold:Q", format=".3f")])
    return alt.layer(points, rules).properties(width=COLUMN - ACTIONS - AXIS - 60, height=height)


def noise_curves(frame: pd.DataFrame, columns: int = 2, height: int = 170) -> alt.FacetChart:
    """Probability that input noise alone carries the state across a connection, against the
    noise's standard deviation, one line per threshold band, one panel per network class.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns network (class name), noise, band (threshold band label), band_order (its rank),
        probability (mean over the connections of the band).
    columns : int
        Panels per row.
    height : int
        Height of a panel in pixels.

    Returns
    -------
    altair.FacetChart
    """
    bands = list(dict.fromkeys(frame.sort_values("band_order").band))
    order = [CLASS_NAMES[a] for a in CLASS_ORDER if CLASS_NAMES[a] in set(frame.network)]
    line = alt.Chart().mark_line(point=True).encode(
        x=alt.X("noise:Q", title="input noise (standard deviation)"),
        y=alt.Y("probability:Q", title="probability of the transition"),
        color=alt.Color("band:N", scale=alt.Scale(domain=bands, scheme="viridis"), title="connection threshold",
                        legend=LINE_LEGEND),
        strokeDash=alt.StrokeDash("band:N", scale=alt.Scale(domain=bands, range=DASHES[:len(bands)]),
                                  title="connection threshold", legend=LINE_LEGEND),
        tooltip=["network:N", "band:N", alt.Tooltip("noise:Q", format=".2f"),
                 alt.Tooltip("probability:Q", format=".3f")])
    return alt.layer(line, data=frame).properties(width=_panel_width(columns) - 20, height=height).facet(
        facet=alt.Facet("network:N", sort=order, title=None), columns=columns)


def training(frame: pd.DataFrame, reached: pd.DataFrame, columns: int = 2, height: int = 150) -> alt.FacetChart:
    """The excitable network of a few networks during training: task states with a stable point of
    their own and correct switches (as shares of the automaton's 8 and 24), and the training
    accuracy, against the epoch; the dashed line is the epoch the accuracy criterion was met.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns network, epoch, measure, value.
    reached : pandas.DataFrame
        Columns network, criterion_epoch.
    columns : int
        Panels per row.
    height : int
        Height of a panel in pixels.

    Returns
    -------
    altair.FacetChart
    """
    measures = list(dict.fromkeys(frame.measure))
    lines = alt.Chart().mark_line(point=alt.OverlayMarkDef(size=18)).encode(
        x=alt.X("epoch:Q", title="training epoch"), y=alt.Y("value:Q", title="share", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("measure:N", scale=alt.Scale(domain=measures, scheme="dark2"), title="measure",
                        legend=LINE_LEGEND),
        strokeDash=alt.StrokeDash("measure:N", scale=alt.Scale(domain=measures, range=DASHES[:len(measures)]),
                                  title="measure", legend=LINE_LEGEND),
        tooltip=["network:N", "epoch:Q", "measure:N", alt.Tooltip("value:Q", format=".3f")])
    rule = alt.Chart().mark_rule(strokeDash=[4, 3], color="#555555").encode(x="criterion_epoch:Q")
    data = frame.merge(reached, on="network", how="left")
    return alt.layer(lines, rule, data=data).properties(width=_panel_width(columns) - 20, height=height).facet(
        facet=alt.Facet("network:N", title=None), columns=columns)


