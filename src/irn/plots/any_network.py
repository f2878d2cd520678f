"""Charts of the page on networks beyond the paper's (chapter 3b): the relay matrix of every layer,
relay per layer over time, and the knockout test of any model (``irn.knockout.experiment_on``)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from irn import stats
from irn.plots.relay import CONTRIBUTION_TITLE, LEGEND, RELAY_SCALE

KIND_COLORS = alt.Scale(domain=["its relay nodes", "random nodes"], range=["#d62728", "#777777"])
#: Legend of a line chart with bands: entries drawn as solid lines, not as the pale bands.
LINE_LEGEND = alt.Legend(orient="bottom", symbolType="stroke", symbolOpacity=1, symbolStrokeWidth=3)


def layer_relay_matrix(frame: pd.DataFrame, width: int = 220) -> alt.Chart:
    """The nodes × concepts relay matrix of one network at one step, one panel per layer.

    Parameters
    ----------
    frame : pandas.DataFrame
        `irn.analysis.relay_of_recording` rows of one replicate at one step (columns concept, node,
        layer, contribution).
    width : int, optional
        Width of one panel in pixels.

    Returns
    -------
    altair.Chart
        One heat map per layer.
    """
    data = frame.assign(node_in_layer=frame.node - frame.layer * (frame.node.max() + 1) // (frame.layer.max() + 1))
    return alt.Chart(data).mark_rect().encode(
        x=alt.X("node_in_layer:O", title="node within layer"),
        y=alt.Y("concept:N", sort=list(dict.fromkeys(frame.concept)), title=None),
        color=alt.Color("contribution:Q", scale=RELAY_SCALE, title=CONTRIBUTION_TITLE, legend=LEGEND),
        tooltip=["layer", "node", "concept", alt.Tooltip("contribution:Q", format=".3f")],
    ).properties(width=width, height=90).facet(
        row=alt.Row("layer:O", title="layer", header=alt.Header(labelExpr="'layer ' + datum.value")))


LAYER_TITLES = {0: "layer 0 (input side)", 1: "layer 1 (output side)"}
#: The panels of Fig 3b.2, top to bottom, with their y-axis titles.
LAYER_PANELS = {"share": "share of top relay nodes", "alone": "relay of the layer alone (bits)",
                "unique": "relay only this layer holds (bits)"}


def relay_by_layer(curves: pd.DataFrame, chance: float, width: int = 270) -> alt.VConcatChart:
    """Where a deep model's information sits, layer by layer, over time: one panel per measure.

    Layers are colours with a legend; every panel is ``width`` px wide (fits a phone).

    Parameters
    ----------
    curves : pandas.DataFrame
        Columns panel (a key of ``LAYER_PANELS``), step, layer, mean, lo, hi (means over replicates
        with 95 % intervals).
    chance : float
        The share of top relay nodes a layer gets when the search picks nodes at random (its share
        of all nodes), drawn as a dashed rule in the top panel.
    width : int, optional
        Width of each panel in pixels.

    Returns
    -------
    altair.VConcatChart
        One panel per measure, stacked.
    """
    data = curves.assign(layer_name=curves.layer.map(lambda k: LAYER_TITLES.get(int(k), f"layer {k}")))
    color = alt.Color("layer_name:N", title=None, scale=alt.Scale(scheme="tableau10"), legend=LINE_LEGEND)
    panels = []
    for key, title in LAYER_PANELS.items():
        part = data[data.panel == key]
        if part.empty:
            continue
        base = alt.Chart(part).encode(x=alt.X("step:O", title="time step (0-based)"), color=color)
        band = base.mark_area(opacity=0.2).encode(y=alt.Y("lo:Q", title=title), y2="hi:Q")
        line = base.mark_line(point=True).encode(
            y="mean:Q", tooltip=["layer_name", "step", alt.Tooltip("mean:Q", format=".3f")])
        layers = [band, line]
        if key == "share":
            layers.append(alt.Chart(pd.DataFrame({"chance": [chance]})).mark_rule(strokeDash=[4, 4], color="#555")
                          .encode(y="chance:Q"))
        panels.append(alt.layer(*layers).properties(width=width, height=120))
    return alt.vconcat(*panels).resolve_scale(color="shared")


def knockout_target_vs_random(frame: pd.DataFrame, width: int = 270) -> alt.Chart:
    """Accuracy on a concept when its k most relaying nodes are knocked out, against k random nodes.

    Relay sets are scored on their own concept; random sets on every concept. Means over concepts,
    draws and replicates; bands are 95 % CIs over replicates; a legend names the red and grey lines.

    Parameters
    ----------
    frame : pandas.DataFrame
        `irn.knockout.experiment_on` output.
    width : int, optional
        Width of the chart in pixels.

    Returns
    -------
    altair.Chart
        Accuracy against k, one line per kind of set.
    """
    own = frame[(frame.kind == "relay") & (frame.concept == frame.target_concept)].assign(kind="its relay nodes")
    rand = frame[frame.kind == "random"].assign(kind="random nodes")
    per_rep = pd.concat([own, rand]).groupby(["kind", "set_size", "replicate"])["accuracy"].mean().reset_index()
    curve = stats.mean_interval(per_rep, ["kind", "set_size"], "accuracy")
    base = alt.Chart(curve).encode(
        x=alt.X("set_size:Q", title="nodes knocked out", scale=alt.Scale(reverse=True)),
        color=alt.Color("kind:N", scale=KIND_COLORS, title="knocked out", legend=LINE_LEGEND))
    band = base.mark_area(opacity=0.18).encode(y=alt.Y("lo:Q", title="accuracy on the concept"), y2="hi:Q")
    line = base.mark_line().encode(y="mean:Q", tooltip=["kind", "set_size", alt.Tooltip("mean:Q", format=".3f")])
    return alt.layer(band, line).properties(width=width, height=180)
