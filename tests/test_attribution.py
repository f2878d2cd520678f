"""irn.attribution: on planted networks every ranking finds what it can find (and the ones that
cannot, cannot); captum's attributions equal those of the same replicate built as torch modules and,
summed over sequences, derivatives of the stacked model's own knockout; integrated gradients are
complete; knockout scores equal irn.knockout's; reruns repeat; bad input is refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats as sps

from irn import analysis, attribution, info, knockout, networks, tasks, zoo
from irn.attribution.data import margins
from irn.models import Knockout, Stacked

@pytest.fixture(scope="module")
def planted():
    return attribution.planted(replicates=4, distractors=2, samples=400, held_out=128, seed=3)


@pytest.fixture(scope="module")
def planted_comparison(planted):
    return attribution.compare(planted.model, planted.sets, seed=0, ig_steps=16)


# -- planted networks: what each ranking can and cannot find ----------------------------------------
FINDS = ("relay", "relay_random_ties", "mutual_information", "readout", "probe", "saliency", "grad_x_act",
         "integrated_gradients", "ablation")


def test_planted_network_answers_every_concept_and_its_relays_carry_it(planted):
    acc = planted.sets.held_out.accuracy(planted.model)
    assert (acc == 1).all()
    both = planted.truth.groupby(["replicate", "concept"]).node.apply(list)
    for (r, concept), nodes in both.items():
        with knockout.knockout(planted.model, [nodes if i == r else [] for i in range(4)], at=analysis.RELAY_STEP,
                               n_steps=planted.sets.held_out.inputs.shape[1]):
            lost = planted.sets.held_out.accuracy(planted.model)[r]
        k = list(tasks.CONCEPTS["memory"]).index(concept)
        chance = (planted.sets.held_out.bits[:, k] == 0).mean()  # the output is 0, read as "no" for every sequence
        assert lost[k] == pytest.approx(chance) and np.delete(lost, k).min() == 1


def test_every_ranking_that_can_find_the_planted_nodes_names_them_first(planted, planted_comparison):
    found = attribution.precision_at_k(planted_comparison.ranking.table, planted.truth)
    by_method = found.groupby("method").precision
    for method in FINDS:
        assert by_method.min()[method] == 1.0, method
    assert set(planted_comparison.ranking.relay.estimator) == {"plug-in"}


def test_activity_rankings_cannot_find_them_the_louder_distractors_come_first(planted, planted_comparison):
    """Variance and mean |h| rank nodes by activity; the distractors (noise copies read by nothing)
    are louder than the relays, so these two rankings name them first — an honest failure."""
    table = planted_comparison.ranking.table
    found = attribution.precision_at_k(table, planted.truth).groupby("method").precision.max()
    assert found["variance"] == 0 and found["mean_abs"] == 0
    for method in ("variance", "mean_abs"):
        for r, loud in planted.distractors.groupby("replicate").node:
            first = table[(table.method == method) & (table.replicate == r) & (table["rank"] < len(loud))]
            assert set(first.node) == set(loud)


def test_random_ranking_is_a_permutation_that_finds_the_planted_nodes_only_by_chance():
    big = attribution.planted(replicates=12, distractors=2, samples=64, held_out=32, seed=5)
    table = attribution.rank(big.model, big.sets, methods=["random"], seed=1).table
    assert all(sorted(g) == list(range(12)) for _, g in table.groupby(["replicate", "concept"])["rank"])
    found = attribution.precision_at_k(table, big.truth).precision
    assert found.mean() < 0.4 and (found < 1).sum() > len(found) / 2  # chance is 2 / 12


def test_probe_remedy_takes_over_when_the_guard_fires_and_still_finds_the_relays():
    crowded = attribution.planted(replicates=2, distractors=6, samples=400, held_out=64, seed=1)
    ranking = attribution.rank(crowded.model, crowded.sets, methods=["relay"], seed=0)
    assert set(ranking.relay.estimator) == {"probe"}
    assert (ranking.relay.patterns * 4 > ranking.relay.samples).all()
    assert (attribution.precision_at_k(ranking.table, crowded.truth).precision == 1).all()


def test_relay_ranking_is_chapter_4s_relay_order(planted):
    """The relay ranking is irn.analysis's greedy order (rank 0 = its last survivor)."""
    ranking = attribution.rank(planted.model, planted.sets, methods=["relay"], seed=0).table
    fit = planted.sets.fit
    rec = analysis.record_model(planted.model, fit.inputs, fit.bits, fit.answer_step,
                                concepts=fit.concepts)
    paper = analysis.relay_of_recording(rec, [analysis.RELAY_STEP])
    merged = ranking.merge(paper, on=["replicate", "concept", "node"], suffixes=("", "_paper"))
    assert (merged["rank"] == planted.model.nodes - 1 - merged["rank_paper"]).all()


def _planted_deep():
    """Two ReLU layers: layer-0 node k copies input k at step 0 and holds it; layer-1 node 3 + k
    copies layer-0 node k at every step (no memory of its own); the readout reads layer 1. Knocking
    out layer-0 node k at step 0 loses concept k for good; layer-1 node 3 + k is rebuilt next step."""
    model = Stacked("rnn", 1, 2, 3, n_outputs=2, layers=2, readout="linear", nonlinearity="relu")
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.weight_ih[0, 0, 0] = model.weight_ih[0, 1, 1] = 1.0
        model.weight_hh[0, 0, 0] = model.weight_hh[0, 1, 1] = 1.0
        model.weight_ih_l1[0] = torch.eye(3)
        model.readout_weight[0, 0, 0] = model.readout_weight[0, 1, 1] = 1.0
        model.readout_bias[0] = -0.5
    return model


def test_deep_network_readout_weights_see_only_the_last_layer_knockouts_and_gradients_see_through():
    model = _planted_deep()
    bits = np.random.default_rng(0).integers(0, 2, size=(64, 2))
    x = torch.zeros(64, 3, 2)
    x[:, 0] = torch.as_tensor(bits, dtype=torch.float32)
    probe = analysis.probe(model, x, bits, 2, concepts=["left", "right"])
    sets = attribution.sets(probe, probe, 0)
    table = attribution.rank(model, sets, methods=["readout", "ablation", "saliency", "grad_x_act",
                                                   "integrated_gradients"], seed=0).table
    truth = pd.DataFrame({"replicate": 0, "concept": ["left", "right"], "node": [0, 1]})
    found = attribution.precision_at_k(table, truth).set_index(["method", "concept"]).precision
    for method in ("ablation", "saliency", "grad_x_act", "integrated_gradients"):
        assert (found[method] == 1).all(), method
    assert (found["readout"] == 0).all()
    readout = table[table.method == "readout"]
    assert (readout[readout.layer == 0].score == 0).all()  # the readout reads the last layer only
    assert readout[readout["rank"] == 0].node.tolist() == [3, 4]  # the copies it reads, not the nodes that matter


# -- captum: equal to the same replicate as torch modules; complete; the stacked model's derivatives --
def _random_sets(arch, layers, replicates=3, seed=0):
    model = Stacked(arch, replicates, 3, 5, seeds=range(10 * seed, 10 * seed + replicates), layers=layers)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(3.0)  # livelier than the default init, so every node matters somewhat
    return model, attribution.task_sets(model, "memory", samples=48, held_out_delays=(2, 4), seed=seed)


def _reference(model, sets, replicate, method, ig_steps):
    """captum on a forward function written here around ``Stacked.to_torch(replicate)``: the state
    after step t from the torch module run on the first t + 1 steps, then the module from that state
    to the answer, then the readout; one sequence at a time, concept by concept."""
    from captum.attr import InputXGradient, IntegratedGradients, Saliency

    rnn, linear = model.to_torch(replicate)
    fit, step = sets.fit, sets.step
    seen = {}
    for b in range(len(fit.inputs)):
        key = (fit.inputs[b].numpy().tobytes(), int(fit.answer_step[b]))
        seen.setdefault(key, b)
    rows = list(seen.values())
    out = np.zeros((len(fit.concepts), len(rows), model.nodes))
    lstm = model.arch == "lstm"
    for j, b in enumerate(rows):
        x, answer = fit.inputs[b:b + 1], int(fit.answer_step[b])
        _, state = rnn(x[:, :step + 1])
        h, c = state if lstm else (state, None)
        flat = lambda s: s.transpose(0, 1).reshape(1, -1)  # noqa: E731
        inputs = (flat(h), flat(c)) if lstm else (flat(h),)

        def forward(*states):
            n = states[0].shape[0]
            hs = states[0].reshape(n, model.layers, model.hidden).transpose(0, 1).contiguous()
            later = x[:, step + 1:answer + 1].expand(n, -1, -1)
            if lstm:
                cs = states[1].reshape(n, model.layers, model.hidden).transpose(0, 1).contiguous()
                top = rnn(later, (hs, cs))[0][:, -1] if later.shape[1] else hs[-1]
            else:
                top = rnn(later, hs)[0][:, -1] if later.shape[1] else hs[-1]
            y = torch.tanh(linear(top))
            bits = torch.as_tensor(fit.bits[b], dtype=torch.float32).expand(n, -1)
            return margins(y, bits, "sign", len(fit.concepts))

        for k in range(len(fit.concepts)):
            leaves = tuple(s.detach().clone().requires_grad_() for s in inputs)
            if method == "saliency":
                got = Saliency(forward).attribute(leaves, target=k, abs=True)
            elif method == "grad_x_act":
                got = InputXGradient(forward).attribute(leaves, target=k)
            else:
                got = IntegratedGradients(forward).attribute(leaves, target=k, n_steps=ig_steps)
            out[k, j] = sum(g.detach().numpy()[0].astype(np.float64) for g in got)
    return out


@pytest.mark.parametrize("arch,layers", [("rnn", 1), ("gru", 2), ("lstm", 1), ("lstm", 2)])
@pytest.mark.parametrize("method", ["saliency", "grad_x_act", "integrated_gradients"])
def test_captum_attributions_equal_those_of_the_replicate_built_as_torch_modules(arch, layers, method):
    model, sets = _random_sets(arch, layers)
    for replicate in (0, 2):
        got = attribution.node_attributions(model, sets, replicate, method, ig_steps=24)
        np.testing.assert_allclose(got.values, _reference(model, sets, replicate, method, 24), atol=2e-5, rtol=1e-4)


def _stacked_margin(model, sets, keep=None):
    """(R, concepts, distinct sequences) margins of the stacked model itself (its own cells), with
    ``keep`` multiplying the state at the knockout step (irn.models.Knockout, LSTM h and c)."""
    fit = sets.fit
    _, first = np.unique(fit.inputs.reshape(len(fit.inputs), -1).numpy(), axis=0, return_index=True)
    order = np.sort(first)  # each distinct sequence once, in the order it first appears
    x, answer, bits = fit.inputs[order], fit.answer_step[order], torch.as_tensor(fit.bits[order], dtype=torch.float32)
    model.knockout = None if keep is None else Knockout(keep, frozenset([sets.step]), "both")
    try:
        out = model(x).output[:, torch.arange(len(order)), answer]
    finally:
        model.knockout = None
    return margins(out, bits, "sign", len(fit.concepts)).transpose(1, 2), order


@pytest.mark.parametrize("arch", ["rnn", "gru", "lstm"])
def test_integrated_gradients_are_complete_against_the_stacked_models_own_knockout(arch):
    """Σ attributions = F(h) − F(0) to 1e-4, with F(h) and F(0) from the stacked model (its own
    cells) intact and with every node knocked out at the step."""
    model, sets = _random_sets(arch, 2)
    intact, order = _stacked_margin(model, sets)
    dead, _ = _stacked_margin(model, sets, torch.zeros(model.replicates, model.nodes))
    for replicate in range(model.replicates):
        got = attribution.node_attributions(model, sets, replicate, "integrated_gradients", ig_steps=64)
        completeness = got.values.sum(-1)
        np.testing.assert_allclose(completeness, (intact - dead)[replicate].detach().numpy(), atol=1e-4)
        assert np.abs(got.delta).max() < 1e-4


@pytest.mark.parametrize("arch", ["rnn", "gru", "lstm"])
def test_gradient_methods_sum_to_derivatives_of_the_stacked_knockout_multiplier(arch):
    """With the knockout's keep as a multiplier m on the state at the step, d/dm of the
    sequence-weighted margin at m = 1 is Σ_b w_b h_b ∂F_b/∂h_b (gradient × activation), and
    integrated gradients along m from 0 to 1 is Σ_b w_b IG_b (one layer: the same path)."""
    from captum.attr import IntegratedGradients

    model, sets = _random_sets(arch, 1)
    gxa = [attribution.node_attributions(model, sets, r, "grad_x_act") for r in range(model.replicates)]
    ig = [attribution.node_attributions(model, sets, r, "integrated_gradients", ig_steps=32)
          for r in range(model.replicates)]
    weight = torch.as_tensor(gxa[0].weight, dtype=torch.float32)  # (concepts, sequences)
    for k in range(len(sets.concepts)):
        def total(keep):
            got, _ = _stacked_margin(model, sets, keep)
            return (got[:, k] * weight[k]).sum(-1)

        keep = torch.ones(model.replicates, model.nodes, requires_grad=True)
        total(keep).sum().backward()
        for r in range(model.replicates):
            expected = np.einsum("b,bn->n", gxa[r].weight[k], gxa[r].values[k])
            np.testing.assert_allclose(keep.grad[r].numpy(), expected, atol=1e-5)
        along = IntegratedGradients(total).attribute(torch.ones(model.replicates, model.nodes), n_steps=32,
                                                     internal_batch_size=model.replicates)  # one α per pass
        for r in range(model.replicates):
            expected = np.einsum("b,bn->n", ig[r].weight[k], ig[r].values[k])
            np.testing.assert_allclose(along[r].detach().numpy(), expected, atol=1e-5)


# -- scores: the knockouts are irn.knockout's; agreement is Kendall's τ-b; MI is irn.info's ---------
@pytest.mark.parametrize("arch,layers,span,state", [("gru", 1, "step", "both"), ("lstm", 2, "onward", "h"),
                                                    ("lstm", 1, "step", "c"), ("rnn", 2, "step", "both")])
def test_knockout_curves_equal_irn_knockout_accuracy(arch, layers, span, state):
    model, sets = _random_sets(arch, layers)
    ranking = attribution.rank(model, sets, methods=["random", "variance"], seed=2)
    curves = attribution.knockout_curves(model, sets, ranking, sizes=[1, 3], span=span, state=state)
    held = sets.held_out
    for method in ("random", "variance"):
        for size in (0, 3):
            rows = curves[(curves.method == method) & (curves.target_concept == "B") & (curves["size"] == size)]
            nodes = [ranking.table[(ranking.table.method == method) & (ranking.table.replicate == r)
                                   & (ranking.table.concept == "B") & (ranking.table["rank"] < size)].node.tolist()
                     for r in range(model.replicates)]
            expected = knockout.accuracy(model, nodes, at=sets.step, span=span, state=state, data=held)
            merged = rows.merge(expected, on=["replicate", "concept"], suffixes=("", "_expected"))
            assert len(merged) == model.replicates * 3
            np.testing.assert_allclose(merged.accuracy, merged.accuracy_expected, atol=1e-6)


def test_agreement_is_kendalls_tau_b_and_mutual_information_is_irn_info():
    model, sets = _random_sets("gru", 1, replicates=2)
    ranking = attribution.rank(model, sets, methods=["variance", "mutual_information", "probe", "relay"], seed=0)
    tau = attribution.agreement(ranking.table)
    table = ranking.table
    for (r, concept, a, b), expected in tau.set_index(["replicate", "concept", "a", "b"]).tau.items():
        key = lambda m: (table[(table.replicate == r) & (table.concept == concept) & (table.method == m)]  # noqa: E731
                         .sort_values("node").pipe(lambda g: -g["rank"] if m == "relay" else g.score.round(9)))
        reference = sps.kendalltau(key(a).to_numpy(), key(b).to_numpy()).statistic
        assert expected == pytest.approx(reference, abs=1e-9) or (np.isnan(expected) and np.isnan(reference))
    bits = np.random.default_rng(0).integers(0, 2, size=(2, 300, 5))
    concept = np.random.default_rng(1).integers(0, 2, size=(3, 300))
    concept[0] = bits[0, :, 1] ^ (np.random.default_rng(2).random(300) < 0.2)
    got = attribution.binary_mutual_information(bits.astype(float), concept.astype(float))
    for r in range(2):
        for k in range(3):
            for n in range(5):
                assert got[r, k, n] == pytest.approx(info.mutual_information(bits[r, :, n], concept[k]), abs=1e-12)


def test_scores_area_specificity_and_gap_from_hand_made_curves():
    rows = []
    curves = {"relay": ([1.0, 0.8, 0.6], [1.0, 1.0, 0.9]), "ablation": ([1.0, 0.5, 0.5], [1.0, 1.0, 1.0])}
    for method, (own, other) in curves.items():
        for size, (a, o) in enumerate(zip(own, other)):
            rows += [(0, 10, method, "A", size, "A", a), (0, 10, method, "A", size, "B", o)]
    columns = ["replicate", "step", "method", "target_concept", "size", "concept", "accuracy"]
    curves = pd.DataFrame(rows, columns=columns)
    got = attribution.scores(curves).set_index("method")
    assert got.area["relay"] == pytest.approx(0.3) and got.other["relay"] == pytest.approx(0.05)
    assert got.specificity["relay"] == pytest.approx(0.25) and got.gap["relay"] == pytest.approx(-0.2)
    assert got.gap["ablation"] == 0


def test_against_best_leaves_each_network_out_of_choosing_its_baseline():
    """The probe's mean beats variance's only through network 0, so network 0 is compared with
    variance (the best of the others) and every other network with the probe."""
    rows = []
    for r in range(6):
        rows += [(r, "relay", 0.5), (r, "probe", 0.4 + 0.35 * (r == 0)), (r, "variance", 0.45)]
    frame = pd.DataFrame(rows, columns=["replicate", "method", "area"]).assign(target_concept="A", step=0,
                                                                                 family="f")
    got = attribution.against_best(frame, "relay", baselines=("probe", "variance"))
    chosen = got.differences.set_index("replicate").best
    assert chosen[0] == "variance" and (chosen.drop(0) == "probe").all()
    assert got.differences.difference.tolist() == pytest.approx([0.05] + [0.1] * 5)
    assert got.tests.best.iloc[0] == "probe" and got.tests.p_value.iloc[0] < 0.05


# -- reruns and bad input -------------------------------------------------------------------------
def test_rankings_repeat_with_the_seed_and_random_orders_change_with_it(planted):
    first = attribution.rank(planted.model, planted.sets, methods=list(attribution.METHODS), seed=4, ig_steps=8)
    again = attribution.rank(planted.model, planted.sets, methods=list(attribution.METHODS), seed=4, ig_steps=8)
    pd.testing.assert_frame_equal(first.table, again.table)
    other = attribution.rank(planted.model, planted.sets, methods=["random"], seed=5).table
    mine = first.table[first.table.method == "random"].reset_index(drop=True)
    assert not np.array_equal(mine["rank"].to_numpy(), other["rank"].to_numpy())


@pytest.mark.parametrize("call, match", [
    (lambda p: attribution.rank(p.model, p.sets, methods=["saliency", "magic"]), "methods must be"),
    (lambda p: attribution.rank(p.model, p.sets, seed=-1), "seed must be"),
    (lambda p: attribution.rank(p.model, p.sets, steps=[99]), "steps must be"),
    (lambda p: attribution.rank(p.model, p.sets, ig_steps=1), "ig_steps must be"),
    (lambda p: attribution.rank(p.model, p.sets, state="c"), "state must be"),
    (lambda p: attribution.rank(p.model, "sets"), "sets must be"),
    (lambda p: attribution.compare(p.model, p.sets, sizes=[0, 2]), "sizes must be"),
    (lambda p: attribution.compare(p.model, p.sets, oracle_size=0), "oracle_size must be"),
    (lambda p: attribution.sets(p.sets.fit, p.sets.held_out, 40), "step must be"),
    (lambda p: attribution.sets(p.sets.fit, p.sets.held_out, 3, align="end"), "align must be"),
    (lambda p: attribution.sets(p.sets.fit, p.sets.held_out, 3, limit=1), "limit must be"),
    (lambda p: attribution.task_sets(p.model, "memory"), "model must be"),
    (lambda p: attribution.planted(hidden=5, relays=2), "hidden must be"),
    (lambda p: attribution.node_attributions(p.model, p.sets, 9), "replicate must be"),
    (lambda p: attribution.node_attributions(p.model, p.sets, 0, "variance"), "method must be"),
    (lambda p: attribution.precision_at_k(pd.DataFrame(), pd.DataFrame({"node": [1]})), "truth must have"),
    (lambda p: attribution.versus(pd.DataFrame(), "relay", "random", margin=-1), "margin must be"),
    (lambda p: networks.pulse_spec(hidden=1), "hidden must be"),
    (lambda p: attribution.rank(Stacked("rnn", 1, 5, 4, leak=0.5), p.sets), "model must have no leak"),
    (lambda p: attribution.rank(p.model, p.sets, oracle_sequences=0), "oracle_sequences must be"),
    (lambda p: attribution.task_sets(Stacked("rnn", 1, 3, 4), "memory", noise=-1), "noise must be"),
    (lambda p: networks.dataset_spec("Iris", "gru"), "dataset must be"),
])
def test_bad_input_is_refused_with_one_message_naming_the_parameter(planted, call, match):
    with pytest.raises(ValueError, match=match):
        call(planted)


# -- the networks chapters share ---------------------------------------------------------------------
def test_shared_networks_keep_the_zoo_entries_of_chapters_3b_and_11():
    """The specs written in chapters 3b and 11 before they moved into irn.networks: the same entries."""
    spec_3b = {"data": "five-class pulses v2", "classes": 5, "delay": 4, "samples": 1000, "seed": 0,
               "arch": "gru", "layers": 2, "hidden": 32, "replicates": 10,
               "fit": {"loss": "cross_entropy", "lr": 0.01, "epochs": 1500, "criterion": 0.99}}
    assert zoo.cached_key(*networks.pulse_spec()) == zoo.cached_key("any-network-gru2x32", spec_3b)
    spec_11 = {"dataset": "JapaneseVowels", "data": "irn.datasets: train-standardised, padded after the end",
               "arch": "lstm", "replicates": 8, "hidden": 12, "readout": "linear", "loss": "cross_entropy",
               "max_epochs": 300, "lr": 1e-2, "criterion": 1.0, "seed": 0}
    assert zoo.cached_key(*networks.dataset_spec("JapaneseVowels", "lstm")) == \
        zoo.cached_key("japanesevowels-lstm", spec_11)


def test_pulse_task_puts_the_class_and_two_distractors_at_their_steps():
    task = networks.pulse_task(classes=3, delay=2, samples=20, seed=1)
    assert task.x_test.shape == (27, 12, 3) and task.answer == 11
    x = task.x_test.numpy()
    for b, label in enumerate(task.y_test):
        assert x[b, 3, label] == 1.0 and x[b, 6].sum() == x[b, 9].sum() == 0.5
        assert x[b].sum() == 2.0


def test_pool_numbers_networks_on_and_combine_labels_families(planted_comparison):
    both = attribution.pool({"first": planted_comparison, "second": planted_comparison})
    n = planted_comparison.ranking.cost.networks.iloc[0]
    assert sorted(both.scores.replicate.unique()) == list(range(2 * n))
    assert (both.cost.networks == 2 * n).all()
    np.testing.assert_allclose(both.cost.seconds.to_numpy(), 2 * planted_comparison.cost.seconds.to_numpy())
    one = attribution.combine({"planted": planted_comparison, "twice": both})
    assert set(one.scores.family) == {"planted", "twice"} and len(one.scores) == 3 * len(planted_comparison.scores)
    shares = attribution.cost_benefit(one).set_index("method")
    assert shares.relative["ablation"] == 1 and (shares.families == 2).all()


def test_verdicts_count_supports_and_contradictions_after_holm():
    tests = pd.DataFrame({"family": ["a", "b", "c"], "best": "probe", "mean": 0.5, "baseline": 0.5,
                          "difference": [0.02, -0.2, 0.0], "p_value": [0.001, 0.002, 0.9], "n": 20})
    got = attribution.verdicts(attribution.Against(tests, pd.DataFrame()), margin=0.01, alpha=0.05)
    np.testing.assert_allclose(got.p_holm, [0.003, 0.004, 0.9])
    assert got.verdict.tolist() == ["supports", "contradicts", "neither"]
    shown = attribution.verdict_table(got)
    assert shown.loc["b", "Δ"] == "−0.200" and shown.loc["a", "p (Holm)"] == "0.003"


def test_transplanted_copies_take_over_the_answer_and_use_based_rankings_find_them():
    """A network (here random, as a stand-in for a trained one) with copies planted for concept A:
    A is answered through the copies alone, B and C exactly as before; readout weights, gradients
    and knockouts name the copies first."""
    model = Stacked("rnn", 3, 3, 8, seeds=[1, 2, 3])
    moved = attribution.transplant(model, concept=0, copies=2, seed=4)
    held = moved.sets.held_out
    acc = held.accuracy(moved.model)
    assert (acc[:, 0] == 1).all()
    with torch.no_grad():
        before = model(held.inputs).output[:, torch.arange(len(held.inputs)), held.answer_step]
        after = moved.model(held.inputs).output[:, torch.arange(len(held.inputs)), held.answer_step]
    torch.testing.assert_close(after[..., 1:], before[..., 1:], atol=1e-6, rtol=1e-6)
    copies = moved.truth.groupby("replicate").node.apply(list).tolist()
    with knockout.knockout(moved.model, copies, at=analysis.RELAY_STEP, n_steps=held.inputs.shape[1]):
        lost = held.accuracy(moved.model)
    np.testing.assert_allclose(lost[:, 0], (held.bits[:, 0] == 0).mean())
    table = attribution.rank(moved.model, moved.sets, methods=["readout", "saliency", "integrated_gradients",
                                                               "ablation"], seed=0, ig_steps=16).table
    found = attribution.precision_at_k(table, moved.truth).groupby("method").precision.min()
    assert (found == 1).all(), found
    with pytest.raises(ValueError, match="model must be a one-layer tanh"):
        attribution.transplant(Stacked("gru", 1, 3, 4))


def test_noisy_task_sets_hold_out_fresh_sequences_and_the_oracle_runs_on_a_bounded_subset():
    model = Stacked("gru", 2, 3, 6, seeds=[1, 2])
    noisy = attribution.task_sets(model, "memory", samples=60, held_out_delays=(2, 4), seed=3, noise=0.1,
                                  held_out_samples=20)
    fit, held = noisy.fit.inputs.reshape(60, -1).numpy(), noisy.held_out.inputs
    assert len(held) == 20 and sorted(set(noisy.held_out.answer_step.tolist())) == [11, 13]
    assert len(np.unique(fit, axis=0)) == 60  # noise makes every sequence its own
    ranking = attribution.rank(model, noisy, methods=["ablation"], seed=0, oracle_sequences=8, oracle_size=3)
    again = attribution.rank(model, noisy, methods=["ablation"], seed=0, oracle_sequences=8, oracle_size=3)
    pd.testing.assert_frame_equal(ranking.table, again.table)
    assert all(sorted(g) == list(range(6)) for _, g in ranking.table.groupby(["replicate", "concept"])["rank"])


def test_overview_table_writes_numbers_a_reader_reads():
    """No "−0.000" for a value that rounds to zero, no exponent for a cost of hundreds of ms."""
    frame = pd.DataFrame({"share of the oracle's area": [0.5], "low": [0.4], "high": [0.6],
                          "specificity": [-0.0001], "gap to the oracle": [-0.1], "τ with relay": [0.2],
                          "CPU ms per network": [112.4]}, index=["some method"])
    out = attribution.overview_table(frame).loc["some method"]
    assert out["specificity"] == "0.000" and out["gap to the oracle"] == "−0.100"
    assert out["CPU ms per network"] == "110" and out["share of the oracle's area [95 % CI]"] == "0.50 [0.40, 0.60]"
