"""Charts of chapter 12 (scale): planted-relay recovery against network size, chapter 4's
knockout test at hidden sizes beyond the paper's 12 nodes, and the same test on high-entropy networks.

Every chart fits the book's ~740-px text column (panels wrap into rows of at most three) and tells
its line styles apart in the legend (line symbols drawn with their dash, not dots).
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from irn.plots.realdata import line_legend, p_text
from irn.plots.style import ARCH_COLORS, ARCH_ORDER

METHOD_ORDER = ["plug-in", "probe"]
METHOD_COLORS = alt.Scale(domain=METHOD_ORDER, range=["#222222", "#e6550d"])
METHOD_DASHES = alt.Scale(domain=METHOD_ORDER, range=[[1, 0], [6, 3]])
KO_ORDER = ["plug-in order", "probe order", "random"]
KO_DASHES = alt.Scale(domain=KO_ORDER, range=[[1, 0], [6, 3], [2, 2]])
#: The high-entropy test's orders (``irn.sweep.ORDERS``) and their colours and dashes.
EXTRA_ORDER = ["probe order", "plug-in order", "random (control)"]
EXTRA_COLORS = alt.Scale(domain=EXTRA_ORDER, range=["#e6550d", "#222222", "#8c8c8c"])
EXTRA_DASHES = alt.Scale(domain=EXTRA_ORDER, range=[[1, 0], [6, 3], [2, 2]])


def _log_nodes(values, title: str) -> alt.X:
    """A log2 x axis of node counts with a tick at every size in the data."""
    return alt.X(f"{values.name}:Q", scale=alt.Scale(type="log", base=2), title=title,
                 axis=alt.Axis(values=sorted(int(v) for v in values.unique()), format="d"))


def _require(frame: pd.DataFrame, needed: set, name: str) -> None:
    if not isinstance(frame, pd.DataFrame) or not needed <= set(frame.columns):
        got = list(frame.columns) if isinstance(frame, pd.DataFrame) else type(frame).__name__
        raise ValueError(f"{name} must be a DataFrame with columns {sorted(needed)}, got {got}")


def planted_recovery(recovery: pd.DataFrame, width: int = 220, height: int = 130, columns: int = 2) -> alt.Chart:
    """Share of planted relay nodes among the greedy's last survivors against the number of nodes
    (log scale), one panel per sample count (``columns`` per row), one line per estimator.

    Parameters
    ----------
    recovery : DataFrame
        ``irn.relay.PlantedStudy.recovery``: nodes, samples, method ("plug-in" | "probe"),
        recovered (mean over data sets).
    width, height, columns : int
        Panel size in pixels and panels per row.

    Returns
    -------
    altair.FacetChart
    """
    _require(recovery, {"nodes", "samples", "method", "recovered"}, "recovery")
    return alt.Chart(recovery).mark_line(point=True).encode(
        x=_log_nodes(recovery.nodes, "nodes H"),
        y=alt.Y("recovered:Q", scale=alt.Scale(domain=[0, 1]), title="planted relays recovered"),
        color=alt.Color("method:N", scale=METHOD_COLORS, sort=METHOD_ORDER, legend=line_legend("estimator")),
        strokeDash=alt.StrokeDash("method:N", scale=METHOD_DASHES, sort=METHOD_ORDER, legend=line_legend("estimator")),
        tooltip=["nodes", "samples", "method", alt.Tooltip("recovered:Q", format=".2f")],
    ).properties(width=width, height=height).facet(
        facet=alt.Facet("samples:O", title="samples N", header=alt.Header(labelExpr="'N = ' + datum.value")),
        columns=columns, spacing=12)


def knockout_by_size(summary: pd.DataFrame, width: int = 150, height: int = 110) -> alt.Chart:
    """Mean accuracy a concept loses when k = H/4 of its nodes are knocked out — its top relay
    nodes by the plug-in order, by the probe order, or random nodes — against hidden size.

    Parameters
    ----------
    summary : DataFrame
        task, arch, hidden, kind (``KO_ORDER``), drop (mean over replicates and concepts). Rows of
        panels are tasks, columns architectures (named in the headers).
    width, height : int
        Panel size in pixels.

    Returns
    -------
    altair.FacetChart
    """
    _require(summary, {"task", "arch", "hidden", "kind", "drop"}, "summary")
    x, y = _log_nodes(summary.hidden, "hidden nodes H"), alt.Y("drop:Q", title="accuracy lost")
    colour = alt.Color("arch:N", scale=ARCH_COLORS, sort=ARCH_ORDER, legend=None)
    lines = alt.Chart().mark_line().encode(
        x=x, y=y, color=colour,
        strokeDash=alt.StrokeDash("kind:N", sort=KO_ORDER, scale=KO_DASHES,
                                  legend=line_legend("knocked out", stroke="#333333")))
    points = alt.Chart().mark_point(filled=True, size=25).encode(
        x=x, y=y, color=colour, tooltip=["task", "arch", "hidden", "kind", alt.Tooltip("drop:Q", format=".3f")])
    return alt.layer(lines, points, data=summary).properties(width=width, height=height).facet(
        row=alt.Row("task:N", title=None), column=alt.Column("arch:N", sort=ARCH_ORDER, title=None,
                                                             header=alt.Header(labelExpr="upper(datum.value)")),
        spacing=8)


def extra_loss_by_size(summary: pd.DataFrame, width: int = 170, height: int = 150, columns: int = 3) -> alt.Chart:
    """Extra accuracy a concept loses when its top relay nodes are knocked out instead of random
    nodes (mean and 95 % interval over replicates × concepts) against hidden size, one line per
    order, one panel per architecture; a dashed rule at 0.

    Parameters
    ----------
    summary : DataFrame
        arch, hidden, order (``EXTRA_ORDER``), mean, lo, hi (``irn.stats.mean_interval`` of
        ``irn.sweep.KnockoutTests.extra``).
    width, height, columns : int
        Panel size in pixels and panels per row.

    Returns
    -------
    altair.FacetChart
    """
    _require(summary, {"arch", "hidden", "order", "mean", "lo", "hi"}, "summary")
    x = _log_nodes(summary.hidden, "hidden nodes H")
    colour = alt.Color("order:N", scale=EXTRA_COLORS, sort=EXTRA_ORDER, legend=line_legend("knocked out", 3))
    dash = alt.StrokeDash("order:N", scale=EXTRA_DASHES, sort=EXTRA_ORDER, legend=line_legend("knocked out", 3))
    band = alt.Chart().mark_errorbar(ticks=True).encode(
        x=x, y=alt.Y("lo:Q", title="extra accuracy lost vs random"), y2="hi:Q", color=colour)
    line = alt.Chart().mark_line(point=True).encode(
        x=x, y="mean:Q", color=colour, strokeDash=dash,
        tooltip=["arch", "hidden", "order", alt.Tooltip("mean:Q", format=".3f"), alt.Tooltip("lo:Q", format=".3f"),
                 alt.Tooltip("hi:Q", format=".3f")])
    zero = alt.Chart().mark_rule(strokeDash=[4, 3], color="#999").encode(y=alt.datum(0))
    return alt.layer(zero, band, line, data=summary).properties(width=width, height=height).facet(
        facet=alt.Facet("arch:N", sort=ARCH_ORDER, title=None, header=alt.Header(labelExpr="upper(datum.value)")),
        columns=columns, spacing=12)


# -- tables that fit the text column ---------------------------------------------------------------
def entropy_display(table: pd.DataFrame, epochs: pd.Series | None = None) -> pd.DataFrame:
    """``irn.sweep.entropy_table`` as the chapter shows it: short headers grouped by estimator.

    Parameters
    ----------
    table : DataFrame
        ``irn.sweep.entropy_table`` output, indexed by its group columns (e.g. hidden, or arch ×
        hidden; an ``arch`` level is shown as "RNN", "GRU", "LSTM").
    epochs : Series, optional
        Median epochs to criterion per group (same index), shown first.

    Returns
    -------
    DataFrame
        Columns (group, measure): ("networks", …), ("patterns", "median" / "most"), and for
        "plug-in" and "probe": "relay", "null" (bits, 3 decimals) and "p < α" (share of values above
        their null).
    """
    _require(table, {"networks", "patterns", "patterns_max", "relay", "null_mean", "above_null", "probe_relay",
                     "probe_null_mean", "probe_above_null"}, "table")
    columns = {("networks", ""): table.networks}
    if epochs is not None:
        columns[("epochs", "median")] = epochs.reindex(table.index).round(0).astype(int)
    columns |= {("patterns", "median"): table.patterns.round(0).astype(int), ("patterns", "most"): table.patterns_max,
                ("plug-in", "relay"): table.relay.round(3), ("plug-in", "null"): table.null_mean.round(3),
                ("plug-in", "p < α"): table.above_null.round(2), ("probe", "relay"): table.probe_relay.round(3),
                ("probe", "null"): table.probe_null_mean.round(3), ("probe", "p < α"): table.probe_above_null.round(2)}
    out = pd.DataFrame(columns)
    return out.rename(index=str.upper, level="arch") if "arch" in (out.index.names or []) else out


def tests_display(tests: pd.DataFrame, index, p_column: str = "p_value", p_title: str = "p") -> pd.DataFrame:
    """One row per group, one (Δ, p) pair of columns per knockout order, p as "p < 0.001" or two
    significant digits.

    Parameters
    ----------
    tests : DataFrame
        ``irn.sweep.KnockoutTests.tests`` (optionally with a corrected p column).
    index : list of str
        The group columns (e.g. ["hidden"] or ["arch", "hidden"]).
    p_column, p_title : str
        The p-value column to show and its header (e.g. "p_holm", "p (Holm)").

    Returns
    -------
    DataFrame
    """
    _require(tests, {*index, "order", "difference", p_column}, "tests")
    shown = tests.assign(p=tests[p_column].map(p_text), Δ=tests.difference.round(3))
    if "arch" in index:
        shown = shown.assign(arch=shown.arch.str.upper())
    out = shown.pivot(index=index, columns="order", values=["Δ", "p"]).swaplevel(axis=1)
    out = out.reindex(pd.MultiIndex.from_frame(shown[index].drop_duplicates()) if len(index) > 1
                      else shown[index[0]].drop_duplicates())
    orders = [o for o in EXTRA_ORDER if o in out.columns.get_level_values(0)]
    return out.reindex(columns=pd.MultiIndex.from_product([orders, ["Δ", "p"]])).rename(columns={"p": p_title}, level=1)
