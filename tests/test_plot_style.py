"""irn.plots.style: panels sized by ``grid``/``panel_width`` fit the book's text column as Vega draws
them (vl-convert, the renderer the book's bundle comes from), and ``highlight`` selects by legend."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import pytest

from irn.plots import style

pytest.importorskip("vl_convert")


def _frame(panels: int) -> pd.DataFrame:
    steps = np.arange(10)
    return pd.DataFrame([{"panel": f"network {p}", "epoch": int(t), "value": float(1000 * p + t * t),
                          "delay": ["1", "5", "random"][t % 3]} for p in range(panels) for t in steps])


def _base(legend: bool) -> alt.Chart:
    color = {"color": alt.Color("delay:N", title="training delay")} if legend else {}
    return alt.Chart().mark_line().encode(x=alt.X("epoch:Q", title="epoch"),
                                          y=alt.Y("value:Q", title="I(X;T) [bits]"), **color)


@pytest.mark.parametrize("legend", [True, False])
@pytest.mark.parametrize("shared_y", [True, False])
@pytest.mark.parametrize("panels", [1, 2, 3, 5, 7, 28])
def test_grid_fits_the_column(panels, shared_y, legend):
    layout = style.grid(panels, legend=legend, shared_y=shared_y)
    chart = _base(legend).properties(width=layout.width, height=60).facet(
        data=_frame(panels), facet=alt.Facet("panel:N"), columns=layout.columns)
    if not shared_y:
        chart = chart.resolve_scale(y="independent")
    drawn = style.drawn_width(chart)
    assert drawn <= style.COLUMN - style.ACTIONS
    assert drawn >= 0.85 * (style.COLUMN - style.ACTIONS), "the grid wastes the column"
    assert layout.width >= style.MIN_PANEL or layout.columns == 1
    assert layout.columns * layout.rows >= panels > layout.columns * (layout.rows - 1)


def test_grid_prefers_more_columns_and_respects_the_caps():
    assert style.grid(2, legend=False).columns == 2
    many = style.grid(28)
    assert many.columns > 1 and many.width >= style.MIN_PANEL
    assert style.grid(28, max_columns=2).columns == 2
    narrow = style.grid(3, column=style.PHONE_COLUMN)
    assert narrow.columns == 1


@pytest.mark.parametrize("panels", [1, 2, 3])
def test_panel_width_fits_a_concatenation(panels):
    width = style.panel_width(panels, shared_y=False, legend=False)
    chart = alt.hconcat(*[_base(False).properties(data=_frame(1), width=width, height=60)] * panels)
    assert style.drawn_width(chart) <= style.COLUMN - style.ACTIONS


@pytest.mark.parametrize(("call", "name"), [
    (lambda: style.grid(0), "panels"),
    (lambda: style.grid(3, min_width=5), "min_width"),
    (lambda: style.grid(3, max_columns=0), "max_columns"),
    (lambda: style.panel_width(40), "panels"),
    (lambda: style.panel_width(2, legend="yes"), "legend"),
    (lambda: style.highlight(""), "field"),
    (lambda: style.highlight("arch", on="hover"), "on"),
    (lambda: style.highlight("arch", fade=2), "fade"),
    (lambda: style.drawn_width("chart"), "chart"),
])
def test_bad_arguments_name_the_parameter(call, name):
    with pytest.raises(ValueError, match=f"^{name} "):
        call()


def test_highlight_binds_the_legend_and_fades_the_rest():
    select, opacity = style.highlight("delay", fade=0.2)
    chart = _base(True).properties(data=_frame(1)).encode(opacity=opacity).add_params(select)
    spec = chart.to_dict()
    param = spec["params"][0]
    assert param["bind"] == "legend" and param["select"]["fields"] == ["delay"]
    assert param["select"]["on"] == "pointerover" and param["select"]["clear"] == "dblclick"
    assert spec["encoding"]["opacity"]["condition"]["value"] == 1.0
    assert spec["encoding"]["opacity"]["value"] == 0.2
    assert style.drawn_width(chart) > 0  # Vega accepts the spec


def test_a_log_axis_takes_its_extra_room_once_per_axis_drawn():
    """Each panel of an independent-y facet loses LOG_AXIS; panels sharing one axis split it."""
    assert style.panel_width(2, shared_y=False, log_y=True) == style.panel_width(2, shared_y=False) - style.LOG_AXIS
    assert style.panel_width(2, log_y=True) == (style.panel_width(2) * 2 - style.LOG_AXIS) // 2
    assert style.grid(3, shared_y=False, log_y=True).width < style.grid(3, shared_y=False).width
    with pytest.raises(ValueError, match="^log_y "):
        style.panel_width(2, log_y="yes")
