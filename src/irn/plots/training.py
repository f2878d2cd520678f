"""Charts of chapters 1–2: task inputs (paper Fig 1), training effort, accuracy by delay (Fig 2)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from irn.plots.style import ARCH_COLORS, ARCH_ORDER, DELAY_ORDER

DELAY_RANGE = ["#440154", "#3b528b", "#21918c", "#5ec962", "#b5de2b", "#d62728"]  # 1…5, then random


def input_sequences(frame: pd.DataFrame, width: int = 220) -> alt.Chart:
    """Paper Fig 1: example inputs as step × channel heat maps, one panel per example.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns example (the panel's title), step, channel, value.
    width : int, optional
        Width of one panel in pixels.

    Returns
    -------
    altair.Chart
        A faceted chart, two panels per row.
    """
    return alt.Chart(frame).mark_rect().encode(
        x=alt.X("step:O", title="time step"),
        y=alt.Y("channel:O", title="input channel", sort="descending"),
        color=alt.Color("value:Q", scale=alt.Scale(scheme="redblue", domain=[-1, 1], reverse=True),
                        title="input"),
        tooltip=["example", "step", "channel", alt.Tooltip("value:Q", format=".2f")],
    ).properties(width=width, height=90).facet(
        facet=alt.Facet("example:N", title=None), columns=2
    ).configure_legend(orient="bottom")


def training_effort(summary: pd.DataFrame) -> alt.Chart:
    """Epochs to criterion per training-delay regime: box plots per architecture and task.

    Parameters
    ----------
    summary : pandas.DataFrame
        One row per replicate with arch, task, delay, epochs.

    Returns
    -------
    altair.Chart
        One panel per architecture (columns) and task (rows).
    """
    return alt.Chart(summary).mark_boxplot(extent="min-max").encode(
        x=alt.X("delay:N", sort=DELAY_ORDER, title="training delay"),
        y=alt.Y("epochs:Q", title="epochs to criterion", scale=alt.Scale(type="log")),
        color=alt.Color("arch:N", scale=ARCH_COLORS, legend=None),
    ).properties(width=150, height=140).facet(
        row=alt.Row("task:N", title=None, sort="descending"),  # memory above block, as in the paper
        column=alt.Column("arch:N", title=None, sort=ARCH_ORDER))


def accuracy_by_delay(summary: pd.DataFrame) -> alt.Chart:
    """Paper Fig 2: accuracy at evaluation delays 0…9, a line per training-delay regime with a
    band of ± one standard error over replicates; the dashed line is chance (0.5).

    Parameters
    ----------
    summary : pandas.DataFrame
        `irn.stats.mean_interval` output with arch, task, delay, eval_delay, mean, lo, hi.

    Returns
    -------
    altair.Chart
        One panel per architecture (columns) and task (rows).
    """
    # fixed delays on a dark-to-light ramp, random delays in red: delay 5 and random stay apart
    color = alt.Color("delay:N", sort=DELAY_ORDER, title="training delay",
                      scale=alt.Scale(domain=DELAY_ORDER, range=DELAY_RANGE), legend=alt.Legend(orient="bottom"))
    base = alt.Chart().encode(x=alt.X("eval_delay:O", title="evaluation delay"), color=color)
    band = base.mark_area(opacity=0.2).encode(y=alt.Y("lo:Q", title="accuracy", scale=alt.Scale(domain=[0, 1])),
                                              y2="hi:Q")
    line = base.mark_line(point=True).encode(
        y="mean:Q", tooltip=["arch", "task", "delay", "eval_delay", alt.Tooltip("mean:Q", format=".3f")])
    chance = alt.Chart().mark_rule(strokeDash=[4, 4], color="gray").encode(y=alt.datum(0.5))
    return alt.layer(band, line, chance, data=summary).properties(width=150, height=150).facet(
        row=alt.Row("task:N", title=None, sort="descending"),  # memory above block, as in the paper
        column=alt.Column("arch:N", title=None, sort=ARCH_ORDER))
