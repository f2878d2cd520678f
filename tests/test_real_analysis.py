"""Relay, knockouts and dynamics on data other than irn's tasks: K classes, per-sequence answer
steps (irn.analysis.align / relay_chance, irn.knockout.class_experiment, irn.dynamics)."""

import numpy as np
import pandas as pd
import pytest
import torch

from irn import analysis, dynamics, knockout
from irn.models import Stacked


def _recording(hidden, x_in, x_out, concepts=None):
    r, n = hidden.shape[0], hidden.shape[1]
    concepts = tuple(str(c) for c in range(len(x_in))) if concepts is None else concepts
    return analysis.Recording(None, hidden, x_in, x_out, np.zeros(n, int), None, np.ones((r, len(x_in))),
                              concepts, {"arch": "gru", "task": "custom", "delay": "n/a"})


def test_relay_chance_equals_its_null_when_every_sample_has_its_own_pattern():
    rng = np.random.default_rng(0)
    n, h = 40, 12  # 2**12 patterns for 40 samples: all distinct
    x = rng.integers(0, 2, n).astype(np.uint8)
    hidden = rng.normal(size=(1, n, 1, h)).astype(np.float32)
    table = analysis.relay_chance(_recording(hidden, x[None], x[None, None]), [0], shuffles=50)
    row = table.iloc[0]
    bits = (hidden[0, :, 0] > np.median(hidden[0, :, 0], axis=0)).astype(int)
    assert row.patterns == len({tuple(b) for b in bits}) == n
    # I(X_in; X_out | Y) is 0 for the data and every shuffle: relay = I(X_in; X_out) = its null
    assert row.relay == pytest.approx(row.null_mean) and row.corrected == pytest.approx(0, abs=1e-12)
    assert row.p_value == 1.0


def test_relay_chance_finds_a_planted_relay_far_above_its_null():
    rng = np.random.default_rng(1)
    n = 400
    x = rng.integers(0, 2, n).astype(np.uint8)
    hidden = np.stack([x * 2.0 - 1, rng.normal(size=n)], axis=-1)[None, :, None].astype(np.float32)
    table = analysis.relay_chance(_recording(hidden, x[None], x[None, None]), [0], shuffles=50, seed=3)
    row = table.iloc[0]
    assert row.patterns == 4 and row.samples == n
    p = x.mean()
    entropy = -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
    assert row.relay == pytest.approx(entropy)  # I(X;X) − I(X;X | Y) = H(X) − 0
    assert row.null_mean < 0.05 and row.p_value == pytest.approx(1 / 51)


def _class_network():
    """Node k copies input channel k (h_k = tanh(3 x_k), no recurrence) and output k reads node
    k: the sequence's class is the channel that is on at its last step."""
    model = Stacked("rnn", 1, 3, hidden=3)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.weight_ih[0] = 3 * torch.eye(3)
        model.readout_weight[0] = torch.eye(3)
    return model


def _class_data():
    labels = torch.tensor([0, 1, 2, 0, 1, 2, 1, 2])
    length = torch.tensor([3, 5, 4, 5, 3, 2, 4, 5])
    inputs = torch.zeros(len(labels), 5, 3)
    for i, (k, n) in enumerate(zip(labels, length)):
        inputs[i, :n, k] = 1.0  # class channel on until the end, zeros (padding) after it
    return inputs, labels, length - 1


def _relay_ranks(step=0):
    """A relay table in which each class's own node relays most (rank 2 = last survivor)."""
    ranks = {"a": [2, 0, 1], "b": [0, 2, 1], "c": [0, 1, 2]}
    return pd.DataFrame([{"replicate": 0, "step": step, "concept": c, "node": j, "rank": ranks[c][j]}
                         for c in "abc" for j in range(3)])


def test_class_experiment_knocks_out_each_class_at_its_own_answer_step():
    model = _class_network()
    inputs, labels, answer = _class_data()
    data = analysis.probe(model, inputs, labels, answer, concepts="abc")
    assert knockout.class_accuracy(model, data).tolist() == [[1.0, 1.0, 1.0]]
    frame = knockout.class_experiment(model, data, _relay_ranks(), step=0, random_draws=2)
    assert set(frame.columns) >= {"replicate", "target_concept", "set_size", "kind", "draw", "concept", "accuracy"}
    one = frame[(frame.kind == "relay") & (frame.set_size == 1)].pivot(index="target_concept", columns="concept",
                                                                       values="accuracy")
    # without its node a class's outputs are all 0 and argmax falls to class "a" (index 0)
    assert one.loc["b"].tolist() == [1.0, 0.0, 1.0] and one.loc["c"].tolist() == [1.0, 1.0, 0.0]
    assert one.loc["a"].tolist() == [1.0, 1.0, 1.0]
    whole = frame[frame.set_size == 3].groupby("concept").accuracy.mean()
    assert whole.tolist() == [1.0, 0.0, 0.0]
    assert (frame[frame.set_size == 0].accuracy == 1.0).all()
    labelled = frame.assign(task="toy", arch="rnn", delay="n/a")
    assert set(knockout.effects(labelled, max_size=2).target_concept) == {"a", "b", "c"}
    # one step earlier the knockout is forgotten: this network has no recurrence
    early = knockout.class_experiment(model, data, _relay_ranks(), step=0, lag=1, random_draws=1)
    assert (early.accuracy == 1.0).all()


def test_class_experiment_refuses_bad_input():
    model = _class_network()
    inputs, labels, answer = _class_data()
    data = analysis.probe(model, inputs, labels, answer, concepts="abc")
    with pytest.raises(ValueError, match="relay must hold step 1"):
        knockout.class_experiment(model, data, _relay_ranks(), step=1)
    with pytest.raises(ValueError, match="lag must be an integer in 0…1"):
        knockout.class_experiment(model, data, _relay_ranks(), step=0, lag=2)
    concepts = analysis.probe(model, inputs, np.eye(3)[labels.numpy()], answer)
    with pytest.raises(ValueError, match="Probe of class labels"):
        knockout.class_experiment(model, concepts, _relay_ranks(), step=0)


def test_stability_counts_every_step_as_arrived_for_real_data():
    rng = np.random.default_rng(2)
    rows = [{"arch": "rnn", "task": "JapaneseVowels", "delay": "n/a", "replicate": 0, "step": s,
             "concept": c, "node": j, "contribution": rng.random()}
            for s in range(3) for c in ("1", "2") for j in range(4)]
    stable = dynamics.stability(pd.DataFrame(rows))
    assert len(stable) == 4 and stable.arrived.all() and (stable.arrival == 0).all()


# -- chapter 11's charts and tables fit the text column and tell their marks apart -----------------
#: The chart itself may take this many pixels of the ~740-px column (vega-embed's menu takes ~40).
COLUMN_ROOM = 660


def _drawn(chart):
    vl_convert = pytest.importorskip("vl_convert")
    import re

    svg = vl_convert.vegalite_to_svg(chart.to_dict())
    return float(re.search(r'<svg[^>]*\swidth="([0-9.]+)"', svg).group(1))


def _real_frames():
    from irn.plots import realdata as rp

    rng = np.random.default_rng(0)
    datasets = {"JapaneseVowels": [str(i) for i in range(1, 10)], "BasicMotions": ["badminton", "running",
                                                                                    "standing", "walking"],
                "ItalyPowerDemand": ["1", "2"]}
    relay_rows = pd.DataFrame([{"dataset": d, "arch": a, "replicate": 0, "concept": c, "node": n,
                                "contribution": rng.normal()} for d, cs in datasets.items()
                               for a in ("rnn", "gru", "lstm") for c in cs for n in range(12)])
    over_time = pd.DataFrame([{"dataset": d, "arch": a, "before": b, "kind": k, "value": rng.random()}
                              for d in datasets for a in ("rnn", "gru", "lstm") for b in range(6) for k in rp.KIND_ORDER])
    per_rep = pd.DataFrame([{"dataset": d, "arch": a, "replicate": r, "specific": rng.normal(), "vs_random": rng.normal()}
                            for d in datasets for a in ("rnn", "gru", "lstm") for r in range(8)])
    return relay_rows, over_time, per_rep


def test_real_data_charts_fit_the_column():
    from irn.plots import realdata as rp

    relay_rows, over_time, per_rep = _real_frames()
    charts = {"11.2": rp.relay_matrices(relay_rows), "11.3": rp.by_architecture_rows(
        per_rep, {"specific": "target − other", "vs_random": "target − random"}), "11.5": rp.relay_against_null(over_time)}
    for number, chart in charts.items():
        assert _drawn(chart) <= COLUMN_ROOM, number


def test_observed_and_null_are_told_apart_in_the_legend():
    from irn.plots import realdata as rp

    _, over_time, _ = _real_frames()
    spec = rp.relay_against_null(over_time).to_dict()
    lines = spec["spec"]["layer"][0]["encoding"]["strokeDash"]
    assert lines["legend"]["symbolType"] == "stroke"  # line symbols with their dash, not identical dots
    assert lines["scale"]["domain"] == rp.KIND_ORDER and lines["scale"]["range"][0] != lines["scale"]["range"][1]
    points = spec["spec"]["layer"][1]["encoding"]["fill"]
    assert points["condition"]["test"] == "(datum.kind === 'observed')" and points["value"] == "white"


@pytest.mark.parametrize("p,text", [(0.0, "p < 0.001"), (0.0009, "p < 0.001"), (0.0039, "0.0039"), (0.25, "0.25"),
                                    (1.0, "1"), (float("nan"), "—"), (None, "—")])
def test_p_text_never_prints_zero(p, text):
    from irn.plots import realdata as rp

    assert rp.p_text(p) == text
