"""Charts of the information-plane chapter: trajectories in the plane, SNR and I(X;T) over epochs."""

from __future__ import annotations

import altair as alt
import pandas as pd


def trajectories(frame: pd.DataFrame, networks: list[str], estimators: list[str]) -> alt.Chart:
    """Shwartz-Ziv & Tishby Fig 3: each network's path through the information plane, coloured by
    epoch, one panel per estimator (rows) and network (columns); axes labelled by estimator.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns network, estimator, epoch, i_xt, i_ty (e.g. means over replicates).
    networks : list of str
        The networks in column order.
    estimators : list of str
        The estimators in row order.

    Returns
    -------
    altair.Chart
        One panel per estimator and network, each with its own axes.
    """
    color = alt.Color("epoch:Q", scale=alt.Scale(scheme="viridis", type="symlog"), title="epoch")
    base = alt.Chart().encode(
        x=alt.X("i_xt:Q", title="I(X;T) [bits]", scale=alt.Scale(zero=False)),
        y=alt.Y("i_ty:Q", title="I(T;Y) [bits]", scale=alt.Scale(zero=False)),
        order="epoch:Q",
        tooltip=["network", "estimator", "epoch", alt.Tooltip("i_xt:Q", format=".2f"),
                 alt.Tooltip("i_ty:Q", format=".2f")])
    return alt.layer(base.mark_line(color="#bbbbbb", strokeWidth=1), base.mark_circle(size=28).encode(color=color),
                     data=frame).properties(width=150, height=120).facet(
        row=alt.Row("estimator:N", sort=estimators, title=None, header=alt.Header(labelAngle=0, labelAlign="left")),
        column=alt.Column("network:N", sort=networks, title=None),
    ).resolve_scale(x="independent", y="independent")


def over_epochs(summary: pd.DataFrame, networks: list[str], value_title: str, color: str,
                log_y: bool = False, rule: float | None = None, color_title: str | None = None,
                row: str | None = None, row_sort: list[str] | None = None) -> alt.Chart:
    """A mean over replicates with its 95 % band against the epoch, one panel per network
    (columns) and, with ``row``, per value of that column (rows, each with its own y axis).

    Parameters
    ----------
    summary : pandas.DataFrame
        `irn.stats.mean_interval` output with network, epoch, ``color``, mean, lo, hi.
    networks : list of str
        The networks in column order.
    value_title : str
        The y axis title.
    color : str
        The column that colours the lines.
    log_y : bool, optional
        A log y axis.
    rule : float or None, optional
        Draw a dashed horizontal line at this value (e.g. SNR = 1).
    color_title : str or None, optional
        The colour legend's title (default: ``color``).
    row : str or None, optional
        A column whose values make rows of panels.
    row_sort : list of str or None, optional
        The order of the rows.

    Returns
    -------
    altair.Chart
        One panel per network (and row value).
    """
    scale = alt.Scale(type="log") if log_y else alt.Scale(zero=False)
    base = alt.Chart().encode(x=alt.X("epoch:Q", title="epoch", scale=alt.Scale(type="symlog")),
                              color=alt.Color(f"{color}:N", title=color_title or color,
                                              legend=alt.Legend(orient="bottom")))
    layers = [base.mark_area(opacity=0.2).encode(y=alt.Y("lo:Q", title=value_title, scale=scale), y2="hi:Q"),
              base.mark_line().encode(y="mean:Q", tooltip=["network", color, "epoch",
                                                            alt.Tooltip("mean:Q", format=".3g")])]
    if rule is not None:
        layers.append(alt.Chart().mark_rule(strokeDash=[4, 4], color="gray").encode(y=alt.datum(rule)))
    facet = {"column": alt.Column("network:N", sort=networks, title=None)}
    if row is not None:
        facet["row"] = alt.Row(f"{row}:N", sort=row_sort, title=None,
                               header=alt.Header(labelAngle=0, labelAlign="left"))
    chart = alt.layer(*layers, data=summary).properties(width=150, height=110 if row else 130).facet(**facet)
    return chart.resolve_scale(y="independent") if row is not None else chart


def turn_epochs(frame: pd.DataFrame, networks: list[str]) -> alt.Chart:
    """Per replicate: the epoch where the SNR drops (x) against the epoch where I(X;T) turns (y),
    one colour per estimator; points on the diagonal would mean the two coincide.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns network, estimator, replicate, drop_epoch, peak_epoch.
    networks : list of str
        The networks, in the order of their point shapes.

    Returns
    -------
    altair.Chart
        A scatter plot with the diagonal.
    """
    top = float(max(frame.drop_epoch.max(), frame.peak_epoch.max(), 1))
    diagonal = pd.DataFrame({"drop_epoch": [1.0, top], "peak_epoch": [1.0, top]})
    points = alt.Chart(frame).mark_point().encode(
        x=alt.X("drop_epoch:Q", title="epoch where the SNR drops below 1", scale=alt.Scale(type="symlog")),
        y=alt.Y("peak_epoch:Q", title="epoch where I(X;T) peaks", scale=alt.Scale(type="symlog")),
        color=alt.Color("estimator:N", legend=alt.Legend(orient="bottom")),
        shape=alt.Shape("network:N", sort=networks),
        tooltip=["network", "estimator", "replicate", "drop_epoch", "peak_epoch"])
    line = alt.Chart(diagonal).mark_line(strokeDash=[4, 4], color="gray").encode(x="drop_epoch:Q", y="peak_epoch:Q")
    return (line + points).properties(width=320, height=240)
