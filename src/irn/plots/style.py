"""Colours and orders shared by every chart (the paper's: RNN black, GRU red, LSTM blue)."""

import altair as alt

ARCH_ORDER = ["rnn", "gru", "lstm"]
ARCH_COLORS = alt.Scale(domain=ARCH_ORDER, range=["#222222", "#d62728", "#1f77b4"])
DELAY_ORDER = ["1", "2", "3", "4", "5", "random"]
