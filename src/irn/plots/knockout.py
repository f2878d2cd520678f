"""Charts of chapter 4: knockout curves (paper Fig 4 memory, Fig 5 block) and their effect sizes."""

from __future__ import annotations

import altair as alt
import pandas as pd

from irn import tasks
from irn.plots.style import ARCH_COLORS, ARCH_ORDER

CONCEPT_RANGE = ["#1b9e77", "#d95f02", "#7570b3"]  # first, second, third concept of a task
RANDOM_PANEL = "random sets"


def concept_colors(task: str) -> alt.Scale:
    """One colour per concept of ``task`` (the same three colours for both tasks).

    Parameters
    ----------
    task : {"memory", "block"}
        The task whose concept names make the scale's domain.

    Returns
    -------
    altair.Scale
        Concept name → colour.
    """
    return alt.Scale(domain=list(tasks.CONCEPTS[tasks.check_task(task)]), range=CONCEPT_RANGE)


def knockout_curves(curves: pd.DataFrame, task: str, width: int = 110, height: int = 90) -> alt.Chart:
    """Paper Fig 4 (memory) / Fig 5 (block): accuracy of each concept against knockout set size.

    Rows are architectures; a column per target concept (its most relaying nodes knocked out,
    largest set on the left) and a last column with random sets of the same sizes. Lines are means
    over replicates, bands 95 % CIs. The legend sits below the panels, so the default size stays
    within the book's text column.

    Parameters
    ----------
    curves : pandas.DataFrame
        `irn.knockout.curves` output.
    task : {"memory", "block"}
        The task, for the concepts' names and colours.
    width, height : int, optional
        Size of one panel in pixels.

    Returns
    -------
    altair.Chart
        One panel per architecture (rows) and target (columns).
    """
    data = curves[curves.task == tasks.check_task(task)]
    if data.empty:
        raise ValueError(f"curves holds no rows for task {task!r}")
    data = data.assign(panel=data.target_concept.where(data.kind == "relay", RANDOM_PANEL))
    panels = [f"{c}" for c in tasks.CONCEPTS[task]] + [RANDOM_PANEL]
    largest = int(data.set_size.max())
    legend = alt.Legend(orient="bottom", symbolOpacity=1)  # one legend for lines and bands
    base = alt.Chart().encode(
        x=alt.X("set_size:Q", scale=alt.Scale(reverse=True, domain=[0, largest]),
                axis=alt.Axis(values=list(range(0, largest + 1, 3))), title="nodes knocked out"))
    band = base.mark_area(opacity=0.18).encode(
        y=alt.Y("lo:Q", title="accuracy", scale=alt.Scale(domain=[0.3, 1.05], clamp=True)), y2="hi:Q",
        fill=alt.Fill("concept:N", scale=concept_colors(task), title="accuracy of", legend=legend))
    line = base.mark_line(point=alt.OverlayMarkDef(size=14)).encode(
        y="mean:Q",
        color=alt.Color("concept:N", scale=concept_colors(task), title="accuracy of",
                        legend=legend),
        tooltip=["arch", "panel", "set_size", "concept", alt.Tooltip("mean:Q", format=".3f"),
                 alt.Tooltip("lo:Q", format=".3f"), alt.Tooltip("hi:Q", format=".3f"), "n"])
    return alt.layer(band, line, data=data).properties(width=width, height=height).facet(
        row=alt.Row("arch:N", sort=ARCH_ORDER, title=None, header=alt.Header(labelExpr="upper(datum.value)")),
        column=alt.Column("panel:N", sort=panels, title="knocked out: most relaying nodes of … / random"),
        spacing=8)


def knockout_effects(effects: pd.DataFrame) -> alt.Chart:
    """Per-replicate effect sizes: the target concept's accuracy drop minus the other concepts'
    drop, and minus its drop under random sets (each averaged over set sizes and target concepts).

    Points are replicates, the bar their mean; above 0 means knocking out a concept's relay nodes
    hurts that concept more.

    Parameters
    ----------
    effects : pandas.DataFrame
        `irn.knockout.effects` output.

    Returns
    -------
    altair.Chart
        One panel per effect.
    """
    per_rep = effects.groupby(["task", "arch", "replicate"], sort=False)[
        ["target_drop", "other_drop", "random_drop"]].mean().reset_index()
    long = pd.concat([
        per_rep.assign(comparison="target − other concepts", value=per_rep.target_drop - per_rep.other_drop),
        per_rep.assign(comparison="target − random sets", value=per_rep.target_drop - per_rep.random_drop),
    ], ignore_index=True)[["task", "arch", "replicate", "comparison", "value"]]
    long["jitter"] = (long.replicate * 0.618034) % 1.0  # fixed spread, so redraws look the same
    x = alt.X("arch:N", sort=ARCH_ORDER, title=None)
    points = alt.Chart().mark_circle(size=28, opacity=0.55).encode(
        x=x, xOffset=alt.XOffset("jitter:Q"), y=alt.Y("value:Q", title="difference in accuracy drop"),
        color=alt.Color("arch:N", scale=ARCH_COLORS, legend=None),
        tooltip=["task", "arch", "replicate", alt.Tooltip("value:Q", format=".3f")],
    )
    mean = alt.Chart().mark_tick(thickness=3, size=30, color="#555").encode(x=x, y="mean(value):Q")
    zero = alt.Chart().mark_rule(strokeDash=[4, 3], color="#999").encode(y=alt.datum(0))
    return alt.layer(zero, points, mean, data=long).properties(width=150, height=150).facet(
        row=alt.Row("task:N", title=None, sort=list(tasks.TASKS)), column=alt.Column("comparison:N", title=None))
