"""Altair chart builders, one per figure of the book, grouped by chapter.

Each builder takes a tidy DataFrame as the library returns it and gives back an Altair chart;
the chapters only call these. Charts of chapters 1–2 are also available at the top level, and so
is ``caption`` (numbered figure captions with the figure's data as a CSV download).
"""

from irn.plots import figure, style, training
from irn.plots.figure import caption
from irn.plots.training import accuracy_by_delay, input_sequences, training_effort

__all__ = ["caption", "figure", "style", "training", "accuracy_by_delay", "input_sequences", "training_effort"]
