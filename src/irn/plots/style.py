"""Colours, orders and sizes shared by every chart of the book.

Colours follow the paper's figures (Hintze, Najam & Schossau, arXiv 2510.01271: RNN black, GRU
red, LSTM blue). Sizes follow the book's page: the text column is `COLUMN` pixels wide in a
1280-pixel window, and a chart laid out wider than that is cut off behind a scroll bar (or,
with the book's style sheet, shrunk until its text is hard to read). `grid` and
`panel_width` size the panels of a faceted or concatenated chart from the column, so a chart
fits by construction; `tools/check_charts.py` measures every chart of the built book in a
browser and names the ones that do not. `highlight` adds the one interaction the book uses:
hovering over (or clicking) a legend entry or a mark brings its group forward.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import altair as alt

from irn.params import boolean, integer, number, one_of, optional, require, rule

ARCH_ORDER = ["rnn", "gru", "lstm"]
ARCH_COLORS = alt.Scale(domain=ARCH_ORDER, range=["#222222", "#d62728", "#1f77b4"])
DELAY_ORDER = ["1", "2", "3", "4", "5", "random"]
#: Categorical palettes with enough contrast for lines and points (not pale tints): up to 10
#: categories, and up to 8 on a white page with dark marks.
CATEGORY_SCHEME = "tableau10"
DARK_SCHEME = "dark2"
#: Line styles a legend can tell apart (``strokeDash`` values), in order of use.
DASHES = [[1, 0], [6, 3], [2, 2], [8, 3, 2, 3]]

#: Width in pixels of the book's text column in a 1280-pixel browser window: every chart must
#: fit it (measured in chromium on the built book by ``tools/check_charts.py``: the article is
#: 740 px wide, less 32 px of padding on each side).
COLUMN = 676
#: Width in pixels of the text column on a 390-pixel phone (measured the same way). A chart
#: wider than that is shrunk to fit; one laid out within `COLUMN` is drawn at half size or more.
PHONE_COLUMN = 343
#: Gap between two panels (Vega-Lite's 20-px spacing and the facet cells' own margins).
SPACING = 26
#: Room a y axis takes left of its panel (tick labels and the axis title) with the chart's outer
#: padding (`PADDING`).
AXIS = 76
#: Further room a logarithmic y axis takes: its labels (0.0001, 1e-5, …) run wider than the linear
#: labels `AXIS` is measured on.
LOG_AXIS = 12
#: Vega's padding around the whole chart, counted once in `AXIS`.
PADDING = 20
#: Room a legend takes right of the chart (its title, symbols and labels).
LEGEND = 140
#: Room vega-embed's action menu ("…" at the top right of every chart) takes (measured).
ACTIONS = 28
#: The narrowest panel that still shows a line chart's shape.
MIN_PANEL = 120


@dataclass(frozen=True)
class Grid:
    """How to lay out the panels of one chart so that it fits a column.

    Attributes
    ----------
    columns : int
        Panels per row (pass it to ``facet(..., columns=columns)``).
    rows : int
        Rows of panels.
    width : int
        Width of one panel in pixels (pass it to ``properties(width=width)``).
    """

    columns: int
    rows: int
    width: int


def _check_layout(*, panels, column, legend, shared_y, extra, log_y) -> None:
    require(panels, "panels", integer(low=1))
    require(column, "column", integer(low=1))
    require(legend, "legend", boolean())
    require(shared_y, "shared_y", boolean())
    require(log_y, "log_y", boolean())
    require(extra, "extra", integer(low=0))


def _room(column: int, legend: bool, extra: int) -> int:
    return column - ACTIONS - (LEGEND if legend else 0) - extra


def _width(columns: int, column: int, legend: bool, shared_y: bool, extra: int, log_y: bool) -> int:
    """Panel width when ``columns`` panels stand in a row (axes calibrated with `drawn_width`)."""
    axes = AXIS + (0 if shared_y else (AXIS - PADDING) * (columns - 1))
    axes += LOG_AXIS * (1 if shared_y else columns) if log_y else 0
    return (_room(column, legend, extra) - axes - SPACING * (columns - 1)) // columns


def panel_width(panels: int, *, column: int = COLUMN, legend: bool = True, shared_y: bool = True,
                extra: int = 0, log_y: bool = False) -> int:
    """Width of each panel when ``panels`` panels stand side by side in one row of the column.

    Parameters
    ----------
    panels : int
        Number of panels in the row (at least 1).
    column : int, optional
        Width in pixels the whole chart must fit, `COLUMN` by default.
    legend : bool, optional
        Reserve `LEGEND` pixels for a legend right of the panels.
    shared_y : bool, optional
        True when the panels share one y axis (a facet with a shared scale); False when each
        panel draws its own (``resolve_scale(y="independent")`` or a concatenation).
    extra : int, optional
        Further pixels to reserve, e.g. for row headers left of a facet grid.
    log_y : bool, optional
        The y axis is logarithmic: reserve `LOG_AXIS` more pixels for each y axis drawn.

    Returns
    -------
    int
        The width in pixels to give each panel (``properties(width=...)``).

    Raises
    ------
    ValueError
        When the column is too narrow for ``panels`` panels of at least 20 pixels.
    """
    _check_layout(panels=panels, column=column, legend=legend, shared_y=shared_y, extra=extra, log_y=log_y)
    width = _width(panels, column, legend, shared_y, extra, log_y)
    if width < 20:
        raise ValueError(f"panels must fit the {column}-px column at 20 px or more each, "
                         f"got {panels} panels of {width} px: wrap them into rows with grid()")
    return width


def grid(panels: int, *, min_width: int = MIN_PANEL, max_columns: int | None = None,
         column: int = COLUMN, legend: bool = True, shared_y: bool = True, extra: int = 0,
         log_y: bool = False) -> Grid:
    """The widest layout of ``panels`` panels that fits the column with every panel at least
    ``min_width`` wide: as many panels per row as fit, then each panel as wide as the row allows.

    Use it for a facet: ``g = grid(7)`` then ``.properties(width=g.width).facet(...,
    columns=g.columns)``; for a concatenation, ``alt.concat(*panels, columns=g.columns)``.

    Parameters
    ----------
    panels : int
        Number of panels (at least 1).
    min_width : int, optional
        Narrowest acceptable panel in pixels, `MIN_PANEL` by default.
    max_columns : int or None, optional
        At most this many panels per row (e.g. 2 or 3 so that a phone shows whole rows).
    column : int, optional
        Width in pixels the whole chart must fit, `COLUMN` by default.
    legend : bool, optional
        Reserve `LEGEND` pixels for a legend right of the panels.
    shared_y : bool, optional
        True when each row shares one y axis; False when every panel draws its own.
    extra : int, optional
        Further pixels to reserve, e.g. for row headers.
    log_y : bool, optional
        The y axis is logarithmic: reserve `LOG_AXIS` more pixels for each y axis drawn.

    Returns
    -------
    Grid
        Panels per row, number of rows and the width of one panel.
    """
    _check_layout(panels=panels, column=column, legend=legend, shared_y=shared_y, extra=extra, log_y=log_y)
    require(min_width, "min_width", integer(low=20))
    require(max_columns, "max_columns", optional(integer(low=1)))
    most = min(panels, max_columns or panels)
    for columns in range(most, 0, -1):
        width = _width(columns, column, legend, shared_y, extra, log_y)
        if width >= min_width or columns == 1:
            if width < 20:
                raise ValueError(f"column must leave at least 20 px for one panel, got {column} px")
            return Grid(columns=columns, rows=math.ceil(panels / columns), width=width)
    raise AssertionError("unreachable: one column always returns")


def drawn_width(chart: alt.TopLevelMixin) -> int:
    """Width in pixels of ``chart`` as Vega draws it, without vega-embed's action menu (`ACTIONS`).

    Renders the chart to SVG with vl-convert (the book extra: tests and the build have it, a
    chapter kernel does not), so a test can check a chart builder against `COLUMN` without a
    browser. The browser check of the built book (``tools/check_charts.py``) is the final word.

    Parameters
    ----------
    chart : altair.TopLevelMixin
        Any Altair chart (single, layered, faceted or concatenated).

    Returns
    -------
    int
        The drawn width in pixels, rounded up.
    """
    try:
        import vl_convert
    except ModuleNotFoundError as error:  # pragma: no cover - the book extra is missing
        raise ModuleNotFoundError("drawn_width needs vl-convert-python (pip install -e \".[book]\")") from error
    if not isinstance(chart, alt.TopLevelMixin):
        raise ValueError(f"chart must be an Altair chart, got {type(chart).__name__}")
    svg = vl_convert.vegalite_to_svg(chart.to_dict())
    found = re.search(r'<svg[^>]*\swidth="([0-9.]+)"', svg)
    return math.ceil(float(found.group(1)))


def highlight(field: str, *, on: str = "pointerover", fade: float = 0.15,
              name: str | None = None) -> tuple[alt.Parameter, alt.Parameter]:
    """A hover highlight: pointing at a mark or at its legend entry brings every mark of the same
    ``field`` value forward and fades the rest; a click keeps the selection, a double click
    clears it. Drawn by Vega in the page, so it works offline like every chart of the book.

    Use: ``select, opacity = highlight("arch")`` then
    ``chart.encode(opacity=opacity).add_params(select)`` (on every layer that should fade).

    Parameters
    ----------
    field : str
        The column whose values are highlighted together (the one the legend shows).
    on : str, optional
        The Vega event that selects: ``"pointerover"`` (hover, the default) or ``"click"``.
    fade : float, optional
        Opacity of the marks that are not selected, between 0 and 1.
    name : str or None, optional
        Name of the selection parameter (unique within a chart); default ``"pick_<field>"``.

    Returns
    -------
    select : altair.Parameter
        The point selection, bound to the legend; add it with ``add_params``.
    opacity : altair.Parameter
        The conditional opacity to encode: 1 for selected marks (all of them when nothing is
        selected), ``fade`` for the others.
    """
    require(field, "field", rule(lambda v: isinstance(v, str) and v != "", "a column name"))
    require(on, "on", one_of(("pointerover", "click")))
    require(fade, "fade", number(0, 1))
    require(name, "name", optional(rule(lambda v: isinstance(v, str) and re.fullmatch(r"[A-Za-z_]\w*", v),
                                        "an identifier (letters, digits, _)")))
    select = alt.selection_point(fields=[field], on=on, bind="legend", clear="dblclick",
                                 name=name or f"pick_{re.sub(r'[^0-9A-Za-z_]', '_', field)}")
    opacity = alt.condition(select, alt.value(1.0), alt.value(fade))
    return select, opacity
