"""Numbered figure captions that carry the figure's data as a CSV download.

Each figure of the book gets a caption — "Figure 5.1. … Reproduces the paper's Fig 6 (left)." —
and a link that saves the numbers behind it as CSV. The link holds the CSV itself (a ``data:``
URL), so it works on the built pages offline, in Jupyter and on Colab alike, with no file to ship
beside the page. Hand-written: it is an HTML paragraph; no plotting library offers it.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass

import pandas as pd

_NUMBER = re.compile(r"^[0-9]+[a-z]?(\.[0-9]+)*[a-z]?$")
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
#: The largest table offered for download (the charts aggregate to fewer rows).
MAX_ROWS = 100_000


@dataclass(frozen=True)
class Caption:
    """A numbered caption; shown as HTML in notebooks and on the book's pages.

    Attributes
    ----------
    number : str
        The figure number, e.g. "5.1".
    text : str
        The caption.
    csv : str
        The figure's data as CSV text ("" for no download).
    name : str
        The download's file name without ``.csv``.
    """

    number: str
    text: str
    csv: str
    name: str

    def _repr_html_(self) -> str:
        link = ""
        if self.csv:
            data = base64.b64encode(self.csv.encode("utf-8")).decode("ascii")
            link = (f' <a download="{self.name}.csv" href="data:text/csv;base64,{data}">'
                    f"Download the data (CSV)</a>")
        return (f'<p class="irn-caption"><b>Figure {html.escape(self.number)}.</b> '
                f"{html.escape(self.text)}{link}</p>")

    def _repr_markdown_(self) -> str:
        return f"**Figure {self.number}.** {self.text}"


def caption(number: str, text: str, data: pd.DataFrame | None = None, name: str | None = None) -> Caption:
    """The caption of a figure, with the figure's data offered as a CSV download.

    Parameters
    ----------
    number : str
        The figure number, e.g. "5.1" or "3b.2".
    text : str
        The caption (not empty).
    data : pandas.DataFrame or None, optional
        The figure's tidy table (any rows × columns, at most `MAX_ROWS` rows); None: no download.
    name : str or None, optional
        The download's file name without ``.csv`` (letters, digits, "_", "-", "."); default
        ``figure_5_1`` for figure 5.1.

    Returns
    -------
    Caption
        Shown as "**Figure 5.1.** text" with a "Download the data (CSV)" link.
    """
    if not isinstance(number, str) or not _NUMBER.match(number):
        raise ValueError(f"number must be a figure number like '5.1', got {number!r}")
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"text must be a non-empty string, got {text!r}")
    if data is not None and not isinstance(data, pd.DataFrame):
        raise ValueError(f"data must be a pandas DataFrame or None, got {type(data).__name__}")
    if data is not None and len(data) > MAX_ROWS:
        raise ValueError(f"data must have at most {MAX_ROWS} rows (aggregate it first), got {len(data)}")
    name = f"figure_{number.replace('.', '_')}" if name is None else name
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"name must be a file name of letters, digits, '_', '-' or '.', got {name!r}")
    csv = "" if data is None else data.to_csv(index=False)
    return Caption(number, text.strip(), csv, name)
