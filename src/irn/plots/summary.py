"""The chart of the reproduction summary: every claim's verdict, by source, at a glance.

One row per source (Hintze, Najam & Schossau; Ceni, Ashwin & Livi; Ivanovic, Kha & Muruganantham;
the book's own questions), one tile per claim in chapter order, labelled with its chapter and
coloured by its verdict. The verdict colours come from the Okabe–Ito palette, which stays distinct
under the common colour-vision deficiencies: blues for reproduced and partly, orange and
vermillion for not reproduced and contradicted, greys for no verdict and not run.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

#: Verdicts in legend order with their colours (Okabe–Ito).
VERDICT_COLORS = {"reproduced": "#0072B2", "partly": "#56B4E9", "not reproduced": "#E69F00",
                  "contradicted": "#D55E00", "no verdict": "#999999", "not run": "#E5E5E5"}
#: Short row labels of the sources (keys of ``irn.claims.SOURCES``).
SOURCE_LABELS = {"hintze": "Hintze et al.", "ceni": "Ceni et al.", "ivanovic": "Ivanovic et al.",
                 "irn": "this book"}
TILE = 26  # px per tile at most
ROW_WIDTH = 220  # px of tiles in the longest row at most: with the row labels it fits a 390-px phone


def verdict_map(claims_table: pd.DataFrame, tile: int = TILE) -> alt.Chart:
    """Tiles of every claim's verdict, one row per source.

    claims_table: ``irn.claims.export_table`` output (claim_id, chapter, source, statement, verdict,
    fast). Claims of unknown sources join the book's row; the label of a verdict from a fast-preset
    run ends with "*". The chart is as wide as its longest row
    (``tile`` px per claim, fewer when a row would exceed ``ROW_WIDTH``, plus the labels), so it fits
    the 740-px text column and a phone.
    """
    needed = ["claim_id", "chapter", "source", "statement", "verdict", "fast"]
    if not isinstance(claims_table, pd.DataFrame) or any(c not in claims_table for c in needed):
        raise ValueError(f"claims_table must be irn.claims.export_table output (columns {needed})")
    data = claims_table.assign(
        row=claims_table.source.map(lambda s: SOURCE_LABELS.get(s, SOURCE_LABELS["irn"])),
        label=claims_table.chapter.replace("", "?") + claims_table.fast.map({True: "*", False: ""}),
        preset=claims_table.fast.map({True: "fast preset", False: "full protocol"}))
    data["position"] = data.groupby("row", sort=False).cumcount()
    rows = [r for r in SOURCE_LABELS.values() if r in set(data.row)]
    base = alt.Chart(data).encode(
        x=alt.X("position:O", axis=None),
        y=alt.Y("row:N", sort=rows, title=None, axis=alt.Axis(labelFontSize=12, ticks=False, domain=False)))
    tooltip = ["chapter", "statement", "verdict", "preset"]
    tiles = base.mark_rect(stroke="#444", strokeWidth=0.6).encode(
        color=alt.Color("verdict:N", title="verdict", legend=alt.Legend(orient="bottom", columns=2),
                        scale=alt.Scale(domain=list(VERDICT_COLORS), range=list(VERDICT_COLORS.values()))),
        tooltip=tooltip)
    labels = base.mark_text(fontSize=10).encode(
        text="label:N", color=alt.condition(alt.FieldOneOfPredicate("verdict", ["reproduced", "contradicted"]),
                                            alt.value("white"), alt.value("black")), tooltip=tooltip)
    longest = int(data.position.max()) + 1 if len(data) else 1
    tile = max(12, min(tile, ROW_WIDTH // longest))
    return alt.layer(tiles, labels).properties(width=longest * tile, height=len(rows) * tile)
