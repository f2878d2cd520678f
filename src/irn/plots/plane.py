"""Charts of the information-plane chapter (10): trajectories in the plane, I(X;T) and the gradient
SNR over epochs with the pure-noise floor, the epochs of the two phases, the positive control, and
every neuron's entropy over training.

Every chart fits the book's text column (676 px at a 1280-px window, with vega-embed's menu):
panels wrap into rows of at most three, legends sit below the panels, and categories use the
tableau10 and dark2 palettes."""

from __future__ import annotations

import altair as alt
import pandas as pd

from irn.plane import NETWORK_NAMES as NAMES
from irn.plots.style import panel_width


def _named(frame: pd.DataFrame, names: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """The frame with readers' network names, and the order of those names."""
    if "network" in frame:
        frame = frame.assign(network=frame["network"].map(lambda n: NAMES.get(n, n)))
    return frame, [NAMES.get(n, n) for n in names]

def _width(columns: int, independent_y: bool = True, log_y: bool = False) -> int:
    """Panel width for ``columns`` panels per row (legends below the panels take no width)."""
    return panel_width(columns, legend=False, shared_y=not independent_y, log_y=log_y)


def trajectories(frame: pd.DataFrame, networks: list[str], estimators: list[str], columns: int = 3) -> alt.FacetChart:
    """Shwartz-Ziv & Tishby Fig 3: each network's path through the information plane, coloured by epoch,
    one panel per network × estimator (wrapped into rows of ``columns``); each panel has its own axes
    (the estimators do not share a scale).

    Parameters
    ----------
    frame : DataFrame
        network, estimator, epoch, i_xt, i_ty (e.g. means over replicates).
    networks : list of str
        The networks shown, in order.
    estimators : list of str
        The estimators shown, in order.
    columns : int
        Panels per row.

    Returns
    -------
    altair.FacetChart
    """
    frame = frame[frame["estimator"].isin(estimators) & frame["network"].isin(networks)].copy()
    frame, networks = _named(frame, networks)
    order = [f"{n} · {e}" for n in networks for e in estimators]
    frame["panel"] = frame["network"] + " · " + frame["estimator"]
    color = alt.Color("epoch:Q", scale=alt.Scale(scheme="viridis", type="symlog"), title="epoch",
                      legend=alt.Legend(orient="bottom", gradientLength=220))
    base = alt.Chart().encode(
        x=alt.X("i_xt:Q", title="I(X;T) [bits]", scale=alt.Scale(zero=False)),
        y=alt.Y("i_ty:Q", title="I(T;Y) [bits]", scale=alt.Scale(zero=False)),
        order="epoch:Q",
        tooltip=["network", "estimator", "epoch", alt.Tooltip("i_xt:Q", format=".2f"), alt.Tooltip("i_ty:Q", format=".2f")])
    width = _width(columns)
    return alt.layer(base.mark_line(color="#999999", strokeWidth=1), base.mark_circle(size=26).encode(color=color),
                     data=frame).properties(width=width, height=int(width * 0.8)).facet(
        facet=alt.Facet("panel:N", sort=order, title=None, header=alt.Header(labelFontSize=10)), columns=columns
    ).resolve_scale(x="independent", y="independent")


def over_epochs(summary: pd.DataFrame, panels: list[str], value_title: str, color: str, *, panel: str = "network",
                log_y: bool = False, references: pd.DataFrame | None = None, color_title: str | None = None,
                columns: int = 2, scheme: str = "dark2") -> alt.FacetChart:
    """A mean over replicates with its 95 % band against the epoch, one panel per value of ``panel``
    (wrapped into rows of ``columns``), one colour per value of ``color``.

    Parameters
    ----------
    summary : DataFrame
        ``irn.stats.mean_interval`` output with ``panel``, epoch, ``color``, mean, lo, hi.
    panels : list of str
        The panels, in order.
    value_title : str
        The y axis title (with units).
    color : str
        The column told apart by colour.
    panel : str
        The column of the panels.
    log_y : bool
    references : DataFrame, optional
        Horizontal lines: ``panel``, reference (its name, in a line-style legend), value — e.g. SNR = 1
        and the pure-noise floor 1/√(B − 1) of each panel.
    color_title : str, optional
    columns : int
        Panels per row.
    scheme : str
        A categorical Vega scheme (dark2, tableau10).

    Returns
    -------
    altair.FacetChart
    """
    if panel == "network":
        summary, panels = _named(summary, panels)
        references = None if references is None else _named(references, [])[0]
    scale = alt.Scale(type="log") if log_y else alt.Scale(zero=False)
    x = alt.X("epoch:Q", title="epoch", scale=alt.Scale(type="symlog"))
    colour = alt.Color(f"{color}:N", title=color_title or color, scale=alt.Scale(scheme=scheme),
                       legend=alt.Legend(orient="bottom", columns=4))
    # the line first and the band with the same colour encoding: one legend, drawn from the lines' strong marks
    layers = [alt.Chart().mark_line().encode(x=x, y=alt.Y("mean:Q", title=value_title, scale=scale), color=colour,
                                             tooltip=[panel, color, "epoch", alt.Tooltip("mean:Q", format=".3g")]),
              alt.Chart().mark_area(opacity=0.2).encode(x=x, y="lo:Q", y2="hi:Q", color=colour)]
    data = summary
    if references is not None:
        data = pd.concat([summary, references.rename(columns={"value": "reference_value"})], ignore_index=True)
        names = list(dict.fromkeys(references["reference"]))
        layers.append(alt.Chart().transform_filter("isValid(datum.reference)").mark_rule(color="#555").encode(
            y="reference_value:Q",
            strokeDash=alt.StrokeDash("reference:N", title="reference", sort=names,
                                      scale=alt.Scale(domain=names, range=[[4, 4], [1, 0], [2, 2]][:len(names)]),
                                      legend=alt.Legend(orient="bottom", columns=1)),
            tooltip=["reference", alt.Tooltip("reference_value:Q", format=".3g", title="value")]))
    width = _width(columns, log_y=log_y)
    return alt.layer(*layers, data=data).properties(width=width, height=130).facet(
        facet=alt.Facet(f"{panel}:N", sort=panels, title=None), columns=columns).resolve_scale(y="independent")


def turn_epochs(frame: pd.DataFrame, networks: list[str]) -> alt.LayerChart:
    """Per replicate: the epoch the SNR enters the diffusion band (x) against the epoch I(X;T) peaks
    (y), one colour per estimator and one shape per network; on the diagonal the two coincide.

    Parameters
    ----------
    frame : DataFrame
        network, estimator, replicate, diffusion_epoch, peak_epoch.
    networks : list of str

    Returns
    -------
    altair.LayerChart
    """
    frame, networks = _named(frame, networks)
    top = float(max(frame.diffusion_epoch.max(), frame.peak_epoch.max(), 1)) if len(frame) else 1.0
    diagonal = pd.DataFrame({"diffusion_epoch": [1.0, top], "peak_epoch": [1.0, top]})
    points = alt.Chart(frame).mark_point(filled=True, size=50).encode(
        x=alt.X("diffusion_epoch:Q", title="epoch the SNR enters the diffusion band", scale=alt.Scale(type="symlog")),
        y=alt.Y("peak_epoch:Q", title="epoch I(X;T) peaks", scale=alt.Scale(type="symlog")),
        color=alt.Color("estimator:N", scale=alt.Scale(scheme="tableau10"), legend=alt.Legend(orient="bottom", columns=3)),
        shape=alt.Shape("network:N", sort=networks, legend=alt.Legend(orient="bottom")),
        tooltip=["network", "estimator", "replicate", "diffusion_epoch", "peak_epoch"])
    line = alt.Chart(diagonal).mark_line(strokeDash=[4, 4], color="gray").encode(x="diffusion_epoch:Q", y="peak_epoch:Q")
    return (line + points).properties(width=_width(1), height=240)


def control_chart(frame: pd.DataFrame) -> alt.HConcatChart:
    """The positive control: binned I(X;T) of each replicate against the epoch (left) and its path
    through the plane (right).

    Parameters
    ----------
    frame : DataFrame
        epoch, replicate, i_xt, i_ty (``irn.plane.CompressionControl.plane``).

    Returns
    -------
    altair.HConcatChart
    """
    width = _width(2)
    color = alt.Color("replicate:N", scale=alt.Scale(scheme="dark2"), legend=alt.Legend(orient="bottom"))
    left = alt.Chart(frame).mark_line(point=True).encode(
        x=alt.X("epoch:Q", scale=alt.Scale(type="symlog"), title="epoch"),
        y=alt.Y("i_xt:Q", title="I(X;T) [bits], 30 bins over (−1, 1)", scale=alt.Scale(zero=False)), color=color,
        tooltip=["replicate", "epoch", alt.Tooltip("i_xt:Q", format=".2f")]).properties(width=width, height=170)
    right = alt.Chart(frame).mark_line(point=True).encode(
        x=alt.X("i_xt:Q", title="I(X;T) [bits]", scale=alt.Scale(zero=False)),
        y=alt.Y("i_ty:Q", title="I(T;Y) [bits]", scale=alt.Scale(zero=False)), order="epoch:Q", color=color,
        tooltip=["replicate", "epoch", alt.Tooltip("i_xt:Q", format=".2f"), alt.Tooltip("i_ty:Q", format=".2f")]
    ).properties(width=width, height=170)
    return alt.hconcat(left, right)


ROLE_COLORS = alt.Scale(domain=["input", "hidden", "output"], range=["#1f77b4", "#7f7f7f", "#d62728"])


def entropy_chart(summary: pd.DataFrame, networks: list[str]) -> alt.FacetChart:
    """Every neuron's entropy over training by role (the median over neurons and replicates), one panel
    per network.

    Parameters
    ----------
    summary : DataFrame
        network, epoch, role, entropy.
    networks : list of str

    Returns
    -------
    altair.FacetChart
    """
    summary, networks = _named(summary, networks)
    return alt.Chart(summary).mark_line(point=True).encode(
        x=alt.X("epoch:Q", scale=alt.Scale(type="symlog"), title="epoch"),
        y=alt.Y("entropy:Q", title="entropy [bits] (Kozachenko–Leonenko)", scale=alt.Scale(zero=False)),
        color=alt.Color("role:N", scale=ROLE_COLORS, title="neuron", legend=alt.Legend(orient="bottom")),
        tooltip=["network", "role", "epoch", alt.Tooltip("entropy:Q", format=".2f")],
    ).properties(width=_width(2), height=150).facet(
        facet=alt.Facet("network:N", sort=networks, title=None), columns=2).resolve_scale(y="independent")
