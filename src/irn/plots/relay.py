"""Charts of chapter 3, the relay method: the greedy curve and node contributions (paper Fig 3),
the nodes × concepts relay matrix, greedy against exhaustive search, the shuffle null, and the
agreement of node rankings between binarisations."""

from __future__ import annotations

import altair as alt
import pandas as pd

# blue for relayed information as in the paper's relay matrices (Fig 6); negative contributions
# (removals that raised I_R, i.e. synergy) in red
RELAY_SCALE = alt.Scale(scheme="redblue", domainMid=0)
BAR_COLOR = "#1f77b4"
NULL_COLOR = "#d62728"
#: A node's contribution sums the losses I_R(all) − I_R(now) of every removal it survived.
CONTRIBUTION_TITLE = "accumulated contribution (bits)"
LEGEND = alt.Legend(orient="bottom")  # the book's column is narrow: legends below the chart


def _concept_order(frame: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(frame["concept"]))


def greedy_curves(frame: pd.DataFrame, width: int = 165) -> alt.VConcatChart:
    """Paper Fig 3 for one network: the relay information ``I_R`` of the nodes still in ``Y_R`` as
    nodes are removed in greedy order, down to one node (top; the node removed at each step is
    written in a row above the curve), and each node's accumulated contribution (bottom), one
    column per concept.

    Parameters
    ----------
    frame : pandas.DataFrame
        `irn.analysis.relay_frame` rows of one replicate at one step with ``tie_break="index"``
        (columns concept, node, rank, contribution, relay, relay_after).
    width : int, optional
        Width of one panel in pixels.

    Returns
    -------
    altair.VConcatChart
        The curves above the contributions.
    """
    concepts = _concept_order(frame)
    n_nodes = frame["node"].nunique()
    start = frame.drop_duplicates("concept").assign(removed=0, node_removed="")[
        ["concept", "removed", "relay", "node_removed"]]
    removals = frame[frame["rank"] < n_nodes - 1]  # the empty set after the last removal is I_R = 0 by definition
    steps = removals.assign(removed=removals["rank"] + 1, relay=removals["relay_after"],
                            node_removed=removals["node"].astype(str))[list(start.columns)]
    curve = pd.concat([start, steps], ignore_index=True)
    column = alt.Column("concept:N", sort=concepts, title=None)
    x_removed = alt.X("removed:Q", title="nodes removed", scale=alt.Scale(domain=[0, n_nodes - 1]),
                      axis=alt.Axis(values=list(range(0, n_nodes, 2))))
    base = alt.Chart(curve).encode(x=x_removed)
    line = base.mark_line(color="black", point=alt.OverlayMarkDef(color="black")).encode(
        y=alt.Y("relay:Q", title="I_R of the rest (bits)"),
        tooltip=["concept", "removed", alt.Tooltip("node_removed:N", title="node removed"),
                 alt.Tooltip("relay:Q", format=".3f")])
    labels = base.mark_text(fontSize=9, color="#555555").encode(y=alt.value(-7), text="node_removed:N")
    top = alt.layer(line, labels).properties(width=width, height=120).facet(
        column=column.header(labelPadding=14))
    bars = alt.Chart(frame).mark_bar(color=BAR_COLOR).encode(
        x=alt.X("node:O", title="node"),
        y=alt.Y("contribution:Q", title=CONTRIBUTION_TITLE),
        tooltip=["concept", "node", "rank", alt.Tooltip("contribution:Q", format=".3f")],
    ).properties(width=width, height=110).facet(column=column)
    return alt.vconcat(top, bars)


def relay_matrix(frame: pd.DataFrame, columns: int = 4, by: str | None = None,
                 width: int | None = None) -> alt.Chart:
    """The nodes × concepts relay matrix (node contributions) as a heat map; one panel per value
    of ``by`` (default: per replicate when ``frame`` holds several).

    Parameters
    ----------
    frame : pandas.DataFrame
        `irn.analysis.relay_frame` rows at one step (columns replicate, concept, node,
        contribution, and ``by`` if given).
    columns : int, optional
        Panels per row.
    by : str or None, optional
        The column that splits the panels (default: replicate, when there are several).
    width : int or None, optional
        Width of one panel in pixels (default 360 for a single matrix, 120 for panels).

    Returns
    -------
    altair.Chart
        One heat map, or a faceted chart of them.
    """
    if by is None and frame["replicate"].nunique() > 1:
        by = "replicate"
    if by is not None and by not in frame:
        raise ValueError(f"by must name a column of frame, got {by!r}")
    panels = by is not None and frame[by].nunique() > 1
    chart = alt.Chart(frame).mark_rect().encode(
        x=alt.X("node:O", title="node"),
        y=alt.Y("concept:N", sort=_concept_order(frame), title=None),
        color=alt.Color("contribution:Q", scale=RELAY_SCALE, title=CONTRIBUTION_TITLE, legend=LEGEND),
        tooltip=[*([by] if panels and by != "replicate" else []), "replicate", "concept", "node", "rank",
                 alt.Tooltip("contribution:Q", format=".3f")],
    ).properties(width=width or (120 if panels else 360), height=45 if panels and width is None else 90)
    if panels:
        return chart.facet(facet=alt.Facet(f"{by}:N", title=by.replace("_", " "),
                                           sort=list(dict.fromkeys(frame[by]))), columns=columns)
    return chart


def greedy_gap(summary: pd.DataFrame) -> alt.Chart:
    """Fraction of the subsets of each size whose ``I_R`` beats the greedy set of that size, mean
    over replicates with a 95 % CI band, one line per concept.

    Parameters
    ----------
    summary : pandas.DataFrame
        `irn.stats.mean_interval` of `irn.relay.greedy_gap` tables by concept and size (columns
        concept, size, mean, lo, hi).

    Returns
    -------
    altair.Chart
        A line chart with bands.
    """
    color = alt.Color("concept:N", sort=_concept_order(summary), title="concept", legend=LEGEND)
    base = alt.Chart(summary).transform_calculate(lo_clipped="max(datum.lo, 0)").encode(
        x=alt.X("size:O", title="nodes in Y_R"), color=color)
    band = base.mark_area(opacity=0.2).encode(  # a fraction is never negative: the band stops at 0
        y=alt.Y("lo_clipped:Q", title="fraction of subsets better than greedy"), y2="hi:Q")
    line = base.mark_line(point=True).encode(
        y="mean:Q", tooltip=["concept", "size", alt.Tooltip("mean:Q", format=".4f"), "n"])
    return alt.layer(band, line).properties(width=360, height=160)


def contribution_null(frame: pd.DataFrame, width: int = 165) -> alt.FacetChart:
    """Each node's contribution (bars, dark when its shuffle p-value is below ``alpha``) against
    the 95th percentile of its shuffle null (red ticks), one panel per concept.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns concept, node, contribution, null_q95, p_value, significant (bool).
    width : int, optional
        Width of one panel in pixels.

    Returns
    -------
    altair.FacetChart
        One panel per concept.
    """
    base = alt.Chart().encode(x=alt.X("node:O", title="node"))
    bars = base.mark_bar().encode(
        y=alt.Y("contribution:Q", title=CONTRIBUTION_TITLE),
        color=alt.Color("significant:N", scale=alt.Scale(domain=[True, False], range=[BAR_COLOR, "#c6dbef"]),
                        title="p < alpha", legend=LEGEND),
        tooltip=["concept", "node", alt.Tooltip("contribution:Q", format=".3f"),
                 alt.Tooltip("null_q95:Q", format=".3f", title="null 95th pct"),
                 alt.Tooltip("p_value:Q", format=".3f")])
    ticks = base.mark_tick(color=NULL_COLOR, thickness=2).encode(y="null_q95:Q")
    return alt.layer(bars, ticks, data=frame).properties(width=width, height=130).facet(
        column=alt.Column("concept:N", sort=_concept_order(frame), title=None))


def ranking_agreement(summary: pd.DataFrame) -> alt.FacetChart:
    """Agreement of node rankings between binarisations: mean and 95 % CI over replicates of each
    measure (Spearman correlation of contributions, Jaccard index of the top nodes), per pair of
    methods and concept.

    Parameters
    ----------
    summary : pandas.DataFrame
        `irn.stats.mean_interval` output with columns measure, pair, concept, mean, lo, hi.

    Returns
    -------
    altair.FacetChart
        One panel per measure.
    """
    color = alt.Color("concept:N", sort=_concept_order(summary), title="concept", legend=LEGEND)
    base = alt.Chart().encode(y=alt.Y("pair:N", title=None), color=color,
                              yOffset=alt.YOffset("concept:N", sort=_concept_order(summary)))
    rule = base.mark_rule().encode(x=alt.X("lo:Q", title="mean over replicates (95 % CI)"), x2="hi:Q")
    point = base.mark_point(filled=True).encode(
        x="mean:Q", tooltip=["measure", "pair", "concept", alt.Tooltip("mean:Q", format=".3f"), "n"])
    return alt.layer(rule, point, data=summary).properties(width=210, height=120).facet(
        column=alt.Column("measure:N", title=None)).resolve_scale(x="independent")
