"""Charts of chapter 11: networks on real data sets (irn.datasets) — test accuracy against the
1-NN baselines, per-class relay matrices at the answer step, relay against its shuffle null over
time, knockout effects and stability by architecture — and the small formatting helpers its tables
share with chapter 12 (``p_text``, ``arch_name``).

Every chart fits the book's ~740-px text column with at most three panels per row, so it also
shrinks whole onto a phone; line styles are told apart in the legend (``line_legend``).
"""

from __future__ import annotations

import math

import altair as alt
import pandas as pd

from irn import params
from irn.plots.style import ARCH_COLORS, ARCH_ORDER

LEGEND = alt.Legend(orient="bottom", symbolOpacity=1, labelExpr="upper(datum.label)")
#: Width in pixels of one panel of a three-panel row (three panels, an axis and a legend margin
#: fit the ~740-px text column).
PANEL = 150
#: Line styles of the relay-against-null chart: observed solid, shuffle null dashed.
KIND_ORDER = ["observed", "shuffle null"]
KIND_DASHES = alt.Scale(domain=KIND_ORDER, range=[[1, 0], [5, 3]])


def p_text(p) -> str:
    """A p-value as a table shows it.

    Parameters
    ----------
    p : float or None
        A p-value in [0, 1], or NaN/None when there is none.

    Returns
    -------
    str
        "p < 0.001" below 0.001, else two significant digits ("0.0039", "0.25"); "—" when missing.
    """
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "—"
    params.require(p, "p", params.number(0, 1))
    return "p < 0.001" if p < 0.001 else f"{p:.2g}"


def arch_name(arch: str) -> str:
    """The name the book's prose and tables use for an architecture.

    Parameters
    ----------
    arch : str
        "rnn", "gru" or "lstm".

    Returns
    -------
    str
        "RNN", "GRU" or "LSTM".
    """
    return str(arch).upper()


def line_legend(title: str, columns: int | None = None, stroke: str | None = None) -> alt.Legend:
    """A bottom legend whose symbols are short lines drawn with each series' dash (not dots), so
    solid, dashed and dotted lines are told apart.

    Parameters
    ----------
    title : str
        The legend's title.
    columns : int, optional
        Entries per row.
    stroke : str, optional
        Colour of the symbols, for a legend that no colour encoding shares.

    Returns
    -------
    altair.Legend
    """
    extra = {"columns": columns} if columns else {}
    if stroke:
        extra["symbolStrokeColor"] = stroke
    return alt.Legend(title=title, orient="bottom", symbolType="stroke", symbolSize=500, symbolStrokeWidth=2, **extra)


def _arch_color(legend=LEGEND) -> alt.Color:
    return alt.Color("arch:N", scale=ARCH_COLORS, sort=ARCH_ORDER, title="architecture", legend=legend)


def _upper_header() -> alt.Header:
    return alt.Header(labelExpr="upper(datum.value)")


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
    x = alt.X("arch:N", sort=ARCH_ORDER, title=None, axis=alt.Axis(labelExpr="upper(datum.value)"))
    y = alt.Y("test:Q", title="test accuracy", scale=alt.Scale(domain=[0, 1]))
    nets = alt.Chart().transform_filter(alt.datum.layer == "network")
    points = nets.mark_circle(size=30, opacity=0.6).encode(
        x=x, y=y, color=_arch_color(None), tooltip=["dataset", "arch", "replicate", alt.Tooltip("test:Q", format=".3f")])
    mean = nets.mark_tick(thickness=3, size=26, color="#555").encode(x=x, y="mean(test):Q")
    chance = nets.mark_rule(color="#ccc").encode(y="mean(chance):Q")
    rules = alt.Chart().transform_filter(alt.datum.layer == "baseline").mark_rule(color="#888").encode(
        y="test:Q", strokeDash=alt.StrokeDash("distance:N", title="1-NN baseline", legend=line_legend("1-NN baseline", stroke="#888888")),
        tooltip=["dataset", "distance", alt.Tooltip("test:Q", format=".3f")])
    return alt.layer(chance, rules, points, mean, data=data).properties(width=PANEL, height=170).facet(
        column=alt.Column("dataset:N", title=None))


def relay_matrices(frame: pd.DataFrame, width: int = 140) -> alt.Chart:
    """Per-class relay matrices (class × node) of one example network per data set (rows of panels)
    and architecture (columns). Colour: each network's accumulated contribution as a share of its
    largest absolute one, so networks of data sets with different class counts share one legend.

    Parameters
    ----------
    frame : DataFrame
        ``irn.analysis.relay_of_recording`` rows at one step with an extra column ``dataset``.
    width : int
        Width of one panel in pixels.

    Returns
    -------
    altair.VConcatChart
        One row of architecture panels per data set, each row with its own class axis.
    """
    network = ["dataset", "arch", "replicate"]
    scale = frame.groupby(network).contribution.transform(lambda c: c.abs().max())
    data = frame.assign(share=(frame.contribution / scale.where(scale > 0, 1.0)))
    colour = alt.Color("share:Q", scale=alt.Scale(scheme="redblue", domain=[-1, 1], reverse=True),
                       title="contribution, share of the network's largest",
                       legend=alt.Legend(orient="bottom", gradientLength=220, titleLimit=400))
    rows = []
    last = data.dataset.nunique() - 1
    for i, (name, part) in enumerate(data.groupby("dataset", sort=False)):
        header = _upper_header() if i == 0 else alt.Header(labels=False)
        rows.append(alt.Chart(part).mark_rect().encode(
            x=alt.X("node:O", title="node" if i == last else None),
            y=alt.Y("concept:N", title=None, sort=None), color=colour,
            tooltip=["dataset", "arch", "replicate", "concept", "node", alt.Tooltip("contribution:Q", format=".3f"),
                     alt.Tooltip("share:Q", format=".2f")],
        ).properties(width=width, height=12 * part.concept.nunique()).facet(
            column=alt.Column("arch:N", sort=ARCH_ORDER, title=None, header=header), spacing=6,
        ).properties(title=alt.Title(name, anchor="start", fontSize=12)))
    return alt.vconcat(*rows, spacing=6)


def relay_against_null(summary: pd.DataFrame) -> alt.Chart:
    """Relay of all nodes (solid lines, filled points) and its shuffle-null mean (dashed lines,
    open points) by steps before the answer, means over replicates and classes, one panel per data
    set; the colour is the architecture.

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
    x = alt.X("before:Q", scale=alt.Scale(reverse=True), title="steps before the answer",
              axis=alt.Axis(values=sorted(int(b) for b in summary.before.unique()), format="d"))
    y = alt.Y("value:Q", title="relay of all nodes (bits)")
    lines = alt.Chart().mark_line().encode(
        x=x, y=y, color=_arch_color(),
        strokeDash=alt.StrokeDash("kind:N", scale=KIND_DASHES, sort=KIND_ORDER, legend=line_legend("relay", stroke="#333333")),
        detail="kind:N")
    points = alt.Chart().mark_point(size=22).encode(
        x=x, y=y, color=_arch_color(None),
        fill=alt.condition(alt.datum.kind == "observed", alt.Fill("arch:N", scale=ARCH_COLORS, legend=None),
                           alt.value("white")),
        tooltip=["dataset", "arch", "before", "kind", alt.Tooltip("value:Q", format=".3f")])
    return alt.layer(lines, points, data=summary).properties(width=PANEL - 15, height=140).facet(
        column=alt.Column("dataset:N", title=None)).resolve_scale(y="independent")


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
    x = alt.X("arch:N", sort=ARCH_ORDER, title=None, axis=alt.Axis(labelExpr="upper(datum.value)"))
    points = alt.Chart().mark_circle(size=28, opacity=0.6).encode(
        x=x, y=alt.Y(f"{value}:Q", title=title), color=_arch_color(None),
        tooltip=["dataset", "arch", "replicate", alt.Tooltip(f"{value}:Q", format=".3f")])
    mean = alt.Chart().mark_tick(thickness=3, size=26, color="#555").encode(x=x, y=f"mean({value}):Q")
    zero = alt.Chart().mark_rule(strokeDash=[4, 3], color="#999").encode(y=alt.datum(0))
    return alt.layer(zero, points, mean, data=per_replicate).properties(width=PANEL, height=130).facet(
        column=alt.Column("dataset:N", title=None))


def by_architecture_rows(per_replicate: pd.DataFrame, values: dict) -> alt.Chart:
    """:func:`by_architecture` for several measures, one row of data-set panels per measure, stacked
    so the chart stays within the text column.

    Parameters
    ----------
    per_replicate : DataFrame
        dataset, arch, replicate and every column of ``values``.
    values : dict
        Column → axis title, one row of panels each.

    Returns
    -------
    altair.VConcatChart
    """
    params.require(values, "values", params.rule(lambda v: isinstance(v, dict) and len(v) > 0,
                                                 "a non-empty dict of column -> axis title"))
    return alt.vconcat(*(by_architecture(per_replicate, column, title) for column, title in values.items()),
                       spacing=12)
