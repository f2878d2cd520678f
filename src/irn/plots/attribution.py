"""Charts of chapter 4b: knockout curves per ranking method, their areas with 95 % intervals,
agreement between rankings (Kendall's τ) and what each method costs.

Twelve methods share one legend: the relay rankings in black (solid: ties broken as the paper
does; dashed: at random), the reference rankings dashed or dotted in grey and purple (random, the
ablation oracle), the eight other methods in Paul Tol's colour-blind-safe "muted" palette.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from irn.attribution import LABELS, METHODS

COLORS = {"relay": "#000000", "relay_random_ties": "#000000", "mutual_information": "#117733",
          "variance": "#DDCC77", "mean_abs": "#999933", "readout": "#882255", "probe": "#44AA99",
          "saliency": "#88CCEE", "grad_x_act": "#332288", "integrated_gradients": "#CC6677",
          "ablation": "#AA4499", "random": "#888888"}
DASHES = {"relay_random_ties": [6, 3], "ablation": [2, 2], "random": [5, 4]}
COLUMN = 680  # px: the widest a chart may be and still fit the text column beside the page contents


def _methods(frame: pd.DataFrame) -> list[str]:
    present = set(frame.method)
    return [LABELS[m] for m in METHODS if m in present]


def _legend_scales(frame: pd.DataFrame):
    domain = _methods(frame)
    by_label = {LABELS[m]: m for m in METHODS}
    color = alt.Scale(domain=domain, range=[COLORS[by_label[d]] for d in domain])
    dash = alt.Scale(domain=domain, range=[DASHES.get(by_label[d], [1, 0]) for d in domain])
    return color, dash


def _named(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(name=frame.method.map(LABELS))


def knockout_curves(summary: pd.DataFrame, columns: int = 2, width: int | None = None,
                    height: int = 150) -> alt.Chart:
    """The target concept's accuracy drop against the number of its nodes knocked out: one line per
    method, one panel per family.

    Parameters
    ----------
    summary : DataFrame
        ``irn.attribution.curve_summary`` (means over networks; the tooltip gives the 95 % CI).
    columns : int
        Panels per row.
    width : int, optional
        Of one panel (default: the column shared by ``columns`` panels).
    height : int

    Returns
    -------
    alt.Chart
        x is logarithmic: larger networks are scored at sizes spaced geometrically.
    """
    data = _named(summary[summary["size"] > 0])
    color, dash = _legend_scales(data)
    width = width or (COLUMN - 200) // columns
    legend = alt.Legend(orient="bottom", columns=3, symbolType="stroke", symbolStrokeWidth=2.5, symbolSize=300,
                        title="ranking")
    line = alt.Chart().mark_line(point=alt.OverlayMarkDef(size=12)).encode(
        x=alt.X("size:Q", scale=alt.Scale(type="log", base=2, nice=False), title="nodes knocked out (log scale)"),
        y=alt.Y("mean:Q", title="accuracy lost by the concept"),
        color=alt.Color("name:N", scale=color, legend=legend, sort=_methods(data)),
        strokeDash=alt.StrokeDash("name:N", scale=dash, legend=legend, sort=_methods(data)),
        tooltip=[*(["family"] if "family" in data else []), "name", "size", alt.Tooltip("mean:Q", format=".3f"),
                 alt.Tooltip("lo:Q", format=".3f"), alt.Tooltip("hi:Q", format=".3f"), "n"])
    if "family" not in data:
        return line.properties(data=data, width=width, height=height)
    return line.properties(width=width, height=height).facet(
        facet=alt.Facet("family:N", title=None, sort=list(dict.fromkeys(data.family))), columns=columns,
        data=data).resolve_scale(x="independent", y="independent")


def areas(summary: pd.DataFrame, columns: int = 3, width: int | None = None) -> alt.Chart:
    """Each method's knockout area with its 95 % CI over networks, one panel per family.

    Parameters
    ----------
    summary : DataFrame
        ``irn.attribution.summary`` of ``scores`` with a family column.
    columns : int
    width : int, optional

    Returns
    -------
    alt.Chart
    """
    data = _named(summary)
    color, _ = _legend_scales(data)
    width = width or (COLUMN - 140 - 40 * columns) // columns
    y = alt.Y("name:N", sort=_methods(data), title=None)
    base = alt.Chart().encode(y=y)
    rule = base.mark_rule(strokeWidth=2).encode(x=alt.X("lo:Q", title="knockout area (accuracy lost)"), x2="hi:Q",
                                                color=alt.Color("name:N", scale=color, legend=None))
    dot = base.mark_point(filled=True, size=40).encode(
        x="mean:Q", color=alt.Color("name:N", scale=color, legend=None),
        tooltip=["family", "name", alt.Tooltip("mean:Q", format=".3f"), alt.Tooltip("lo:Q", format=".3f"),
                 alt.Tooltip("hi:Q", format=".3f"), "n"])
    return alt.layer(rule, dot).properties(width=width, height=12 * len(_methods(data))).facet(
        facet=alt.Facet("family:N", title=None, sort=list(dict.fromkeys(data.family))), columns=columns,
        data=data).resolve_scale(x="independent", y="shared")


def agreement(matrix: pd.DataFrame, size: int = 340) -> alt.Chart:
    """Mean Kendall's τ between every pair of rankings, with the value printed in each cell.

    Parameters
    ----------
    matrix : DataFrame
        ``irn.attribution.agreement_matrix``: a, b, tau.
    size : int
        Width and height in pixels.

    Returns
    -------
    alt.Chart
    """
    data = matrix.assign(first=matrix.a.map(LABELS), second=matrix.b.map(LABELS))
    order = [LABELS[m] for m in METHODS if m in set(matrix.a) | set(matrix.b)]
    base = alt.Chart(data).encode(x=alt.X("first:N", sort=order, title=None, axis=alt.Axis(labelAngle=-45)),
                                  y=alt.Y("second:N", sort=order, title=None))
    heat = base.mark_rect().encode(
        color=alt.Color("tau:Q", scale=alt.Scale(scheme="blueorange", domain=[-1, 1]), title="Kendall's τ"),
        tooltip=["first", "second", alt.Tooltip("tau:Q", format=".2f")])
    text = base.mark_text(fontSize=9).encode(
        text=alt.Text("tau:Q", format=".1f"),
        color=alt.condition("abs(datum.tau) > 0.6", alt.value("white"), alt.value("black")))
    return (heat + text).properties(width=size, height=size)


def cost(frame: pd.DataFrame, width: int = 500, height: int = 260) -> alt.Chart:
    """CPU time per network (log scale) against the share of the oracle's knockout area a method reaches.

    Parameters
    ----------
    frame : DataFrame
        ``irn.attribution.cost_benefit``: method, per_network (seconds), relative, lo, hi.
    width, height : int

    Returns
    -------
    alt.Chart
    """
    data = _named(frame).assign(ms=lambda f: 1000 * f.per_network)
    color, _ = _legend_scales(data)
    decades = [10.0 ** e for e in range(-3, 4)]
    base = alt.Chart(data).encode(
        x=alt.X("ms:Q", scale=alt.Scale(type="log"), title="CPU milliseconds per network (log scale)",
                axis=alt.Axis(values=decades, format="~g", grid=True)))
    rule = base.mark_rule(strokeWidth=2).encode(y=alt.Y("lo:Q", title="share of the oracle's knockout area"),
                                                y2="hi:Q", color=alt.Color("name:N", scale=color, legend=None))
    dot = base.mark_point(filled=True, size=60).encode(
        y="relative:Q", color=alt.Color("name:N", scale=color, legend=None),
        tooltip=["name", alt.Tooltip("ms:Q", format=".2g", title="ms per network"),
                 alt.Tooltip("relative:Q", format=".2f")])
    label = base.mark_text(align="left", dx=6, fontSize=10).encode(y="relative:Q", text="name:N")
    return alt.layer(rule, dot, label).properties(width=width, height=height)
