"""Knockouts: the context manager restores the model, empty and total knockouts behave as they
must, and on a planted network the nodes of one concept carry that concept only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from irn import analysis, tasks
from irn import knockout as ko
from irn.models import Knockout, Stacked
from irn.train import Condition, TrainConfig, Trained

HIDDEN = 12
# planted pairs: replicate r holds concept k (A, B, C) in nodes PAIRS[r][k]
PAIRS = [[[0, 1], [2, 3], [4, 5]], [[9, 4], [0, 11], [6, 2]]]


def planted(pairs=PAIRS) -> Stacked:
    """A memory-task RNN per replicate that copies each concept into its own pair of nodes and
    holds it there with a self-loop; the readout of a concept sums its pair. Other nodes stay 0."""
    model = Stacked("rnn", len(pairs), 3, HIDDEN)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        for r, concept_nodes in enumerate(pairs):
            for k, nodes in enumerate(concept_nodes):
                for n in nodes:
                    model.weight_ih[r, n, k] = 5.0
                    model.weight_hh[r, n, n] = 3.0
                    model.readout_weight[r, k, n] = 2.0
    return model


def planted_trained(pairs=PAIRS) -> Trained:
    n = len(pairs)
    return Trained(Condition("rnn", "memory", "random"), TrainConfig(replicates=n), planted(pairs),
                   epochs=[0] * n, restarts=[0] * n, seeds=list(range(n)), accuracy=[1.0] * n)


def planted_relay(pairs=PAIRS, step=analysis.RELAY_STEP) -> pd.DataFrame:
    """A relay table that ranks each concept's planted pair highest (rank 11 and 10)."""
    rows = []
    for r, concept_nodes in enumerate(pairs):
        for k, concept in enumerate(tasks.CONCEPTS["memory"]):
            top = concept_nodes[k]
            rest = [n for n in range(HIDDEN) if n not in top]
            for rank, node in enumerate(rest + top[::-1]):
                rows.append(("rnn", "memory", "random", r, step, concept, node, rank))
    return pd.DataFrame(rows, columns=["arch", "task", "delay", "replicate", "step", "concept", "node", "rank"])


def _answer_output(model, batch):
    return model(batch.inputs).output[:, torch.arange(len(batch)), batch.answer_step]


def test_planted_network_is_perfect():
    acc = ko.accuracy(planted(), task="memory")
    assert (acc.accuracy == 1.0).all()


@pytest.mark.parametrize("arch", ["rnn", "gru", "lstm"])
def test_knockout_of_no_nodes_changes_nothing(arch):
    model = Stacked(arch, 3, 8, HIDDEN, seeds=[1, 2, 3])
    batch = tasks.distinct("block", 5)
    with torch.no_grad():
        plain = model(batch.inputs)
        with ko.knockout(model, []):
            knocked = model(batch.inputs)
    torch.testing.assert_close(knocked.output, plain.output, rtol=0, atol=0)
    torch.testing.assert_close(knocked.hidden, plain.hidden, rtol=0, atol=0)
    base = ko.concept_accuracy(model, batch)
    np.testing.assert_array_equal(ko.accuracy(model, [], task="block").accuracy.to_numpy(), base.reshape(-1))


@pytest.mark.parametrize("arch", ["rnn", "gru", "lstm"])
def test_knockout_of_all_nodes_at_answer_step_gives_constant_output(arch):
    model = Stacked(arch, 2, 3, HIDDEN, seeds=[7, 8])
    batch = tasks.distinct("memory", 5)
    answer = int(batch.answer_step[0])
    with torch.no_grad(), ko.knockout(model, list(range(HIDDEN)), at=answer):
        out = _answer_output(model, batch)
    expected = torch.tanh(model.readout_bias)[:, None, :].expand_as(out)
    torch.testing.assert_close(out, expected)
    # a constant answer is right for exactly the half of the 8 memory sequences with that sign
    acc = ko.accuracy(model, list(range(HIDDEN)), at=answer, task="memory")
    assert np.allclose(acc.accuracy, 0.5)
    assert (acc.n_nodes == HIDDEN).all()


def test_context_restores_model_also_after_an_exception():
    model = planted()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    earlier = Knockout(keep=torch.ones(2, HIDDEN), steps=frozenset([1]), state="h")
    model.knockout = earlier
    with ko.knockout(model, [0, 1]) as inside:
        assert model.knockout is inside and model.knockout is not earlier
    assert model.knockout is earlier
    with pytest.raises(RuntimeError, match="boom"):
        with ko.knockout(model, [0, 1]):
            raise RuntimeError("boom")
    assert model.knockout is earlier
    model.knockout = None
    ko.accuracy(model, [0, 1], task="memory")
    assert model.knockout is None
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)


def test_knocking_out_one_concepts_planted_nodes_destroys_that_concept_only():
    model = planted()
    for k, concept in enumerate(tasks.CONCEPTS["memory"]):
        nodes = [pairs[k] for pairs in PAIRS]  # one list per replicate
        acc = ko.accuracy(model, nodes, task="memory").set_index(["replicate", "concept"]).accuracy
        for r in range(len(PAIRS)):
            for other in tasks.CONCEPTS["memory"]:
                assert acc[(r, other)] == (0.5 if other == concept else 1.0)


def test_knocking_out_unplanted_nodes_changes_nothing():
    silent = [n for n in range(HIDDEN) if all(n not in p for p in PAIRS[0])]
    acc = ko.accuracy(planted(), silent, task="memory")
    assert (acc[acc.replicate == 0].accuracy == 1.0).all()


def test_span_onward_keeps_nodes_at_zero_while_step_lets_them_recover():
    """A arrives at step 3: zeroing its nodes once at step 2 is undone by the input, holding them
    at zero from step 2 on is not; zeroing once at step 3 sticks because 0 is a fixed point."""
    model = planted()
    a_nodes = [p[0] for p in PAIRS]

    def acc_a(**kw):
        df = ko.accuracy(model, a_nodes, task="memory", **kw)
        return df[df.concept == "A"].accuracy.to_numpy()

    assert (acc_a(at=2, span="step") == 1.0).all()
    assert (acc_a(at=2, span="onward") == 0.5).all()
    assert (acc_a(at=3, span="step") == 0.5).all()


def test_lstm_state_choice_zeroes_h_c_or_both():
    model = Stacked("lstm", 2, 3, HIDDEN, seeds=[3, 4])
    batch = tasks.distinct("memory", 5)
    at, nodes = analysis.RELAY_STEP, [1, 5]
    with torch.no_grad():
        plain = model(batch.inputs)
        traces = {}
        for state in ("h", "c", "both"):
            with ko.knockout(model, nodes, at=at, state=state):
                traces[state] = model(batch.inputs)
    zero = torch.zeros_like(plain.hidden[:, :, at, nodes])
    torch.testing.assert_close(traces["h"].hidden[:, :, at, nodes], zero)
    torch.testing.assert_close(traces["h"].cell[:, :, at], plain.cell[:, :, at])
    torch.testing.assert_close(traces["c"].cell[:, :, at, nodes], zero)
    torch.testing.assert_close(traces["c"].hidden[:, :, at], plain.hidden[:, :, at])
    torch.testing.assert_close(traces["both"].hidden[:, :, at, nodes], zero)
    torch.testing.assert_close(traces["both"].cell[:, :, at, nodes], zero)
    # zeroing h only: the next step rebuilds h from the untouched cell
    assert traces["h"].hidden[:, :, at + 1, nodes].abs().max() > 0


@pytest.mark.parametrize("kwargs, match", [
    ({"nodes": [12]}, "nodes must be node indices"),
    ({"nodes": [-1]}, "nodes must be node indices"),
    ({"nodes": [True]}, "nodes"),
    ({"nodes": [[0], [1], [2]]}, "one list per replicate needs 2"),
    ({"nodes": [0, [1]]}, "not a mix"),
    ({"nodes": "0"}, "nodes must be"),
    ({"nodes": [0], "at": -1}, "at must be"),
    ({"nodes": [0], "at": ko.MAX_STEPS}, "at must be"),
    ({"nodes": [0], "at": 2.5}, "at must be"),  # 2.0 is step 2; 2.5 is not truncated
    ({"nodes": [0], "span": "always"}, "span must be one of"),
    ({"nodes": [0], "state": "x"}, "state must be one of"),
    ({"nodes": [0], "state": "c"}, "needs an LSTM"),
])
def test_bad_inputs_raise(kwargs, match):
    model = planted()
    with pytest.raises(ValueError, match=match):
        with ko.knockout(model, **kwargs):
            pass
    assert model.knockout is None


def test_accuracy_and_experiment_reject_bad_inputs():
    model = planted()
    with pytest.raises(ValueError, match="at must be a step 0…14"):
        ko.accuracy(model, [0], at=15, task="memory")
    with pytest.raises(ValueError, match="task must be one of"):
        ko.accuracy(model, [0])
    with pytest.raises(ValueError, match="task 'block' has 8 inputs"):
        ko.accuracy(model, [0], task="block")
    t = planted_trained()
    with pytest.raises(ValueError, match="random_draws"):
        ko.experiment(t, random_draws=-1, relay=planted_relay())
    with pytest.raises(ValueError, match="relay must hold step 11"):
        ko.experiment(t, at=11, relay=planted_relay())
    with pytest.raises(ValueError, match="trained must be"):
        ko.experiment([])
    frame = ko.experiment(t, random_draws=1, relay=planted_relay())
    with pytest.raises(ValueError, match="max_size"):
        ko.effects(frame, max_size=0)
    with pytest.raises(ValueError, match="by must list"):
        ko.compare(ko.effects(frame), by=["node"])


def test_experiment_on_planted_network():
    draws = 3
    frame = ko.experiment(planted_trained(), random_draws=draws, relay=planted_relay())
    n_sets = 3 * (HIDDEN + 1) + draws * (HIDDEN + 1)
    assert len(frame) == len(PAIRS) * n_sets * 3
    assert set(frame.kind) == {"relay", "random"}
    acc = frame.set_index(["replicate", "kind", "target_concept", "set_size", "draw", "concept"]).accuracy
    for r in range(len(PAIRS)):
        for target in tasks.CONCEPTS["memory"]:
            for concept in tasks.CONCEPTS["memory"]:
                assert acc[(r, "relay", target, 0, 0, concept)] == 1.0
                assert acc[(r, "relay", target, HIDDEN, 0, concept)] == 0.5
                # the two most relaying nodes are the planted pair: only the target is lost
                assert acc[(r, "relay", target, 2, 0, concept)] == (0.5 if concept == target else 1.0)
    eff = ko.effects(frame)
    assert (eff.target_drop > eff.other_drop).all()
    assert (eff.target_drop > eff.random_drop).all()
    result = ko.compare(eff)
    assert len(result) == 1 and result.specific.iloc[0] > 0 and result.vs_random.iloc[0] > 0
    shown = ko.table(result)  # the page-width view of the same numbers
    assert shown.index.names == ["task", "arch"]
    row = shown.iloc[0]
    assert row[("target − other", "Δ")] == round(result.specific.iloc[0], 3)
    assert row[("drop", "random")] == round(result.random_drop.iloc[0], 3)
    assert float(row[("target − random", "p")]) == float(f"{result.p_random.iloc[0]:.2g}") > 0
    by_concept = ko.table(ko.compare(eff, by=["task", "arch", "target_concept"]))
    assert by_concept.index.names == ["task", "arch", "target_concept"] and len(by_concept) == 3
    with pytest.raises(ValueError, match="output of knockout.compare"):
        ko.table(result.drop(columns="p_random"))
    with pytest.raises(ValueError, match="digits must be an integer >= 0"):
        ko.table(result, digits=-1)
    curves = ko.curves(frame)
    assert curves.n.max() == len(PAIRS)


def test_experiment_is_reproducible_and_computes_relay_itself():
    t = planted_trained()
    a = ko.experiment(t, random_draws=2, seed=5, samples=200)
    b = ko.experiment(t, random_draws=2, seed=5, samples=200)
    pd.testing.assert_frame_equal(a, b)
    assert set(a.columns) >= {"task", "arch", "replicate", "target_concept", "set_size", "kind",
                              "draw", "concept", "accuracy"}
    c = ko.experiment(t, random_draws=2, seed=6, samples=200)
    rnd = lambda f: f[f.kind == "random"].accuracy.to_numpy()
    assert not np.array_equal(rnd(a), rnd(c))
