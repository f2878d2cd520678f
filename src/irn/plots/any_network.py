"""Charts of the page on networks beyond the paper's (chapter 3b): the relay matrix of every layer,
relay per layer over time, and the knockout test of any model (``irn.knockout.experiment_on``)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from irn import stats
from irn.plots.relay import CONTRIBUTION_TITLE, LEGEND, RELAY_SCALE

KIND_COLORS = alt.Scale(domain=["its relay nodes", "random nodes"], range=["#d62728", "#777777"])


def layer_relay_matrix(frame: pd.DataFrame, width: int = 250) -> alt.Chart:
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


def relay_by_layer(share: pd.DataFrame, width: int = 420) -> alt.Chart:
    """The share of a concept's top relay nodes that sit in each layer, over time.

    Parameters
    ----------
    share : pandas.DataFrame
        Columns step, layer, mean, lo, hi (`irn.stats.mean_interval` over replicates).
    width : int, optional
        Width of the chart in pixels.

    Returns
    -------
    altair.Chart
        One line with a band per layer.
    """
    base = alt.Chart(share).encode(x=alt.X("step:O", title="time step (0-based)"),
                                   color=alt.Color("layer:N", title="layer", legend=LEGEND))
    band = base.mark_area(opacity=0.15).encode(y=alt.Y("lo:Q", title="share of top relay nodes",
                                                       scale=alt.Scale(domain=[0, 1])), y2="hi:Q",
                                               fill=alt.Fill("layer:N", legend=None))
    return alt.layer(band, base.mark_line(point=True).encode(y="mean:Q")).properties(width=width, height=160)


def knockout_target_vs_random(frame: pd.DataFrame, width: int = 420) -> alt.Chart:
    """Accuracy on a concept when its k most relaying nodes are knocked out, against k random nodes.

    Relay sets are scored on their own concept; random sets on every concept. Means over concepts,
    draws and replicates; bands are 95 % CIs over replicates.

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
        color=alt.Color("kind:N", scale=KIND_COLORS, title="knocked out", legend=LEGEND))
    band = base.mark_area(opacity=0.18).encode(y=alt.Y("lo:Q", title="accuracy on the concept"), y2="hi:Q",
                                               fill=alt.Fill("kind:N", scale=KIND_COLORS, legend=None))
    line = base.mark_line().encode(y="mean:Q", tooltip=["kind", "set_size", alt.Tooltip("mean:Q", format=".3f")])
    return alt.layer(band, line).properties(width=width, height=180)
