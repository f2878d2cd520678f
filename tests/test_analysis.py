"""Tests of irn.analysis: recordings, the relay table and the agreement of node rankings.

One tiny condition (2 LSTM replicates on the memory task, fixed delay 2) is trained once per module;
at a fixed delay the 0.98 criterion means every clean sequence is answered right.
"""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
import torch

from irn import analysis, info, knockout, relay, tasks, train
from irn.models import Stacked

CONDITION = train.Condition("lstm", "memory", 2)
SAMPLES = 200
STEPS = [analysis.RELAY_STEP, analysis.RELAY_STEP + 1]
COLUMNS = ["arch", "task", "delay", "replicate", "step", "concept", "node", "contribution", "rank",
           "relay", "relay_after"]
GROUP = ["replicate", "step", "concept"]


@pytest.fixture(scope="module")
def trained():
    config = train.TrainConfig(replicates=2, max_epochs=300)
    return train.train(CONDITION, config, progress=False)[0]


@pytest.fixture(scope="module")
def recording(trained):
    return analysis.record(trained, samples=SAMPLES, seed=1)


@pytest.fixture(scope="module")
def frame(recording):
    return analysis.relay_of_recording(recording, STEPS)


def test_relay_frame_columns_and_shape(trained, frame):
    table = analysis.relay_frame(trained, steps=STEPS, samples=SAMPLES, seed=1)
    assert list(table.columns) == COLUMNS
    hidden = trained.config.hidden
    assert len(table) == 2 * len(STEPS) * 3 * hidden
    assert set(table.concept) == set(tasks.CONCEPTS["memory"])
    assert set(table.step) == set(STEPS)
    assert (table[["arch", "task", "delay"]].drop_duplicates().values.tolist()
            == [["lstm", "memory", "2"]])
    pd.testing.assert_frame_equal(table, frame)  # same recording seed, same table


def test_rank_is_a_permutation_per_replicate_step_concept(frame):
    hidden = frame.node.nunique()
    for _, group in frame.groupby(GROUP):
        assert sorted(group["rank"]) == list(range(hidden))
        assert sorted(group["node"]) == list(range(hidden))
        assert group.relay.nunique() == 1


def test_relay_after_is_the_relay_of_the_remaining_nodes(recording, frame):
    """relay_after of the node at rank k is I_R of the nodes ranked above k (recomputed)."""
    step, concept = analysis.RELAY_STEP, 1
    bits = relay.binarize(recording.hidden[:, :, step], "median")
    for replicate in range(2):
        group = frame[(frame.replicate == replicate) & (frame.step == step)
                      & (frame.concept == recording.concepts[concept])].sort_values("rank")
        for k, after in enumerate(group.relay_after):
            remaining = group.node.to_numpy()[k + 1:]
            expected = (relay.relay_information(recording.x_in[concept], recording.x_out[replicate, concept],
                                                bits[replicate], remaining) if remaining.size else 0.0)
            assert after == pytest.approx(expected, abs=1e-9)


def test_contribution_accumulates_the_losses_of_the_greedy_curve(frame):
    for _, group in frame.groupby(GROUP):
        group = group.sort_values("rank")
        loss = group.relay.to_numpy() - group.relay_after.to_numpy()  # after each removal
        expected = np.concatenate([[0.0], np.cumsum(loss[:-1])])  # survived removals 1..rank
        np.testing.assert_allclose(group.contribution, expected, atol=1e-9)


def test_all_nodes_relay_more_than_half_a_bit_for_every_memory_concept(frame):
    at_relay_step = frame[frame.step == analysis.RELAY_STEP]
    relay_all = at_relay_step.groupby(["replicate", "concept"]).relay.first()
    assert len(relay_all) == 2 * 3
    assert (relay_all > 0.5).all(), relay_all


def test_bad_state_steps_and_samples_raise(trained, recording):
    with pytest.raises(ValueError, match="state"):
        analysis.record(trained, samples=10, state="cell")
    gru = Stacked("gru", 1, tasks.n_inputs("memory"))
    batch = tasks.sample("memory", 5, delay=2)
    with pytest.raises(ValueError, match="state"):
        analysis.record_model(gru, batch.inputs, batch.targets, batch.answer_step, state="c")
    with pytest.raises(ValueError, match="samples"):
        analysis.record(trained, samples=0)
    for steps in ([recording.steps], [-1], [], [True], [2.5]):
        with pytest.raises(ValueError, match="steps"):
            analysis.relay_of_recording(recording, steps)
    with pytest.raises(ValueError, match="steps"):
        analysis.relay_frame(trained, steps=[99], samples=10)


def test_cell_state_recording_has_both_states_side_by_side(trained):
    both = analysis.record(trained, samples=20, state="hc")
    h = analysis.record(trained, samples=20, state="h")
    assert both.hidden.shape[-1] == 2 * h.hidden.shape[-1]
    np.testing.assert_array_equal(both.hidden[..., : h.hidden.shape[-1]], h.hidden)


# ----------------------------------------------------------------------------------------
# ranking_agreement on hand-made tables


def ranking_table(contributions, analysis_name):
    """A relay table of one replicate/step/concept with the given contributions per node."""
    contributions = np.asarray(contributions, dtype=float)
    order = np.lexsort((np.arange(contributions.size), contributions))  # ties: lower node first
    rank = np.empty(contributions.size, dtype=int)
    rank[order] = np.arange(contributions.size)
    return pd.DataFrame({"arch": "lstm", "task": "memory", "delay": "2", "replicate": 0, "step": 10,
                         "concept": "A", "node": np.arange(contributions.size),
                         "contribution": contributions, "rank": rank, "relay": 1.0,
                         "relay_after": 0.0, "method": analysis_name})


def test_ranking_agreement_of_identical_and_reversed_rankings():
    up = np.arange(8.0)
    frame = pd.concat([ranking_table(up, "a"), ranking_table(up, "b"), ranking_table(-up, "c")])
    result = analysis.ranking_agreement(frame, between="method", top=3).set_index("pair")
    assert list(result.index) == ["a–b", "a–c", "b–c"]
    assert result.loc["a–b", "spearman"] == pytest.approx(1.0)
    assert result.loc["a–b", "jaccard"] == pytest.approx(1.0)
    assert result.loc["a–c", "spearman"] == pytest.approx(-1.0)
    assert result.loc["a–c", "jaccard"] == pytest.approx(0.0)


def test_ranking_agreement_matches_scipy_with_ties_and_counts_top_overlap():
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 4, size=12).astype(float), rng.integers(0, 4, size=12).astype(float)
    b[0] += 1e-15  # float noise must not break a tie
    frame = pd.concat([ranking_table(a, "median"), ranking_table(b, "sign")])
    result = analysis.ranking_agreement(frame, top=4).iloc[0]
    assert result.spearman == pytest.approx(sps.spearmanr(a, b.round(9)).statistic)
    top_a = set(frame[(frame.method == "median") & (frame["rank"] >= 8)].node)
    top_b = set(frame[(frame.method == "sign") & (frame["rank"] >= 8)].node)
    assert result.jaccard == pytest.approx(len(top_a & top_b) / len(top_a | top_b))


def test_ranking_agreement_of_a_constant_ranking_is_nan():
    frame = pd.concat([ranking_table(np.zeros(6), "a"), ranking_table(np.arange(6.0), "b")])
    assert np.isnan(analysis.ranking_agreement(frame).spearman.iloc[0])


def test_ranking_agreement_rejects_bad_input():
    frame = pd.concat([ranking_table(np.arange(6.0), "a"), ranking_table(np.arange(6.0), "b")])
    with pytest.raises(ValueError, match="between"):
        analysis.ranking_agreement(frame, between="binarisation")
    with pytest.raises(ValueError, match="at least two"):
        analysis.ranking_agreement(frame[frame.method == "a"])
    for top in (0, 6, 2.0, True):
        with pytest.raises(ValueError, match="top"):
            analysis.ranking_agreement(frame, top=top)


# ----------------------------------------------------------------------------------------
# tie_break: the greedy order among candidates that leave the same I_R


def planted_recording(hidden, x_in, x_out):
    """A Recording of one concept from hand-made data.

    hidden: (replicates, samples, steps, nodes); x_in: (samples,); x_out: (samples,) 0/1.
    """
    replicates = hidden.shape[0]
    return analysis.Recording(None, np.asarray(hidden, dtype=float), x_in[None].astype(np.uint8),
                              np.repeat(x_out[None, None], replicates, axis=0).astype(np.uint8),
                              np.zeros(x_in.size, dtype=int), None, np.ones((replicates, 1)), ("A",),
                              {"arch": "test", "task": "custom", "delay": "n/a"})


def nested_copies(seed, samples=600, nodes=12):
    """Copies of x_in, node j flipped on the first k_j samples of one random order (distinct
    k_j), answered wrong on 10 % of samples: a greedy search without ties."""
    rng = np.random.default_rng(seed)
    x_in = rng.integers(0, 2, samples)
    x_out = x_in.copy()
    x_out[rng.choice(samples, samples // 10, replace=False)] ^= 1
    order = rng.permutation(samples)
    hidden = np.repeat(x_in[:, None], nodes, axis=1)
    for j, k in enumerate(rng.choice(np.arange(10, samples // 2), nodes, replace=False)):
        hidden[order[:k], j] ^= 1
    return hidden, x_in, x_out


def plateau(samples=400, copies=6, constants=6, steps=40, replicates=2, seed=0):
    """Nodes 0…copies−1 copy x_in = x_out, the rest are constant: after the constant nodes, every
    removal of a copy leaves I_R = 0, so all remaining candidates tie."""
    x_in = np.random.default_rng(seed).integers(0, 2, samples)
    one = np.concatenate([np.repeat(x_in[:, None], copies, axis=1), np.zeros((samples, constants))], axis=1)
    hidden = np.broadcast_to(one[None, :, None], (replicates, samples, steps, copies + constants))
    return planted_recording(hidden, x_in, x_in), copies


def index_rank_correlation(frame):
    """Mean over greedy runs of the Pearson correlation of node index and rank (= Spearman)."""
    return frame.groupby(GROUP).apply(lambda g: np.corrcoef(g.node, g["rank"])[0, 1]).mean()


def test_random_ties_without_ties_give_the_index_contributions_and_follow_relabeling():
    hidden, x_in, x_out = nested_copies(seed=0)
    rec = planted_recording(hidden[None, :, None], x_in, x_out)
    index = analysis.relay_of_recording(rec, [0])
    assert index.contribution.round(9).nunique() == len(index)  # distinct: the search met no tie
    random = analysis.relay_of_recording(rec, [0], tie_break="random", draws=5, seed=3)
    np.testing.assert_allclose(random.contribution, index.contribution, atol=1e-9)
    np.testing.assert_array_equal(random.relay, index.relay)
    perm = np.random.default_rng(1).permutation(hidden.shape[1])  # new node j = old node perm[j]
    relabeled = analysis.relay_of_recording(planted_recording(hidden[None, :, None, perm], x_in, x_out), [0],
                                            tie_break="random", draws=5, seed=4)
    np.testing.assert_allclose(relabeled.contribution, random.contribution.to_numpy()[perm], atol=1e-9)
    np.testing.assert_array_equal(relabeled["rank"], random["rank"].to_numpy()[perm])


def test_index_ties_favour_high_indices_and_random_ties_share_the_credit():
    rec, copies = plateau()
    index = analysis.relay_of_recording(rec, range(rec.steps))
    random = analysis.relay_of_recording(rec, range(rec.steps), tie_break="random", draws=20, seed=0)
    bits = float(index.relay.iloc[0])  # I_R of all nodes: H(x_in)
    assert bits > 0.9
    copy_rows = index.node < copies
    # index: the constant nodes go first, then the copies in index order: node j gains j × I_R(all)
    np.testing.assert_allclose(index.contribution[copy_rows], index.node[copy_rows] * bits, atol=1e-9)
    np.testing.assert_array_equal(index["rank"][copy_rows], index.node[copy_rows] + rec.hidden.shape[-1] - copies)
    assert index_rank_correlation(index[copy_rows]) == pytest.approx(1.0)
    # random: every copy gains (copies − 1) / 2 × I_R(all) on average; the constant nodes nothing
    assert (random.contribution[~copy_rows] == 0).all()
    per_node = random[copy_rows].groupby("node").contribution.mean() / bits
    np.testing.assert_allclose(per_node, (copies - 1) / 2, atol=0.25)
    assert abs(index_rank_correlation(random[copy_rows])) < 0.1
    np.testing.assert_array_equal(random.relay, index.relay)
    assert random.relay_after.isna().all()
    for _, group in random.groupby(GROUP):
        assert sorted(group["rank"]) == list(range(rec.hidden.shape[-1]))
        order = group.sort_values("rank")
        assert order.contribution.is_monotonic_increasing  # rank orders the mean contribution


def test_random_ties_follow_a_relabeling_of_the_nodes_on_average():
    rec, copies = plateau(constants=4, copies=8, steps=100, replicates=1)
    perm = np.random.default_rng(2).permutation(rec.hidden.shape[-1])
    relabeled = planted_recording(rec.hidden[..., perm], rec.x_in[0], rec.x_out[0, 0])
    mean = lambda r, seed: analysis.relay_of_recording(r, range(r.steps), tie_break="random", draws=50,
                                                        seed=seed).groupby("node").contribution.mean().to_numpy()
    np.testing.assert_allclose(mean(relabeled, 1), mean(rec, 0)[perm], atol=0.2)  # 5000 draws a node


def test_random_ties_repeat_with_the_seed(trained):
    a = analysis.relay_frame(trained, steps=[analysis.RELAY_STEP], samples=100, tie_break="random", draws=3)
    b = analysis.relay_frame(trained, steps=[analysis.RELAY_STEP], samples=100, tie_break="random", draws=3)
    pd.testing.assert_frame_equal(a, b)
    rec, _ = plateau(steps=2)
    other = [analysis.relay_of_recording(rec, [0, 1], tie_break="random", draws=3, seed=s).contribution
             for s in (0, 1)]
    assert not np.allclose(*other)


def test_bad_tie_break_draws_and_seed_raise(trained, recording):
    for tie_break in ("lowest", None, "Index"):
        with pytest.raises(ValueError, match="tie_break"):
            analysis.relay_of_recording(recording, [0], tie_break=tie_break)
        with pytest.raises(ValueError, match="tie_break"):
            analysis.relay_frame(trained, steps=[0], samples=10, tie_break=tie_break)
    for draws in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="draws"):
            analysis.relay_of_recording(recording, [0], tie_break="random", draws=draws)
        with pytest.raises(ValueError, match="draws"):
            analysis.relay_frame(trained, steps=[0], samples=10, tie_break="random", draws=draws)
    for seed in (-1, 1.5, False):
        with pytest.raises(ValueError, match="seed"):
            analysis.relay_of_recording(recording, [0], tie_break="random", seed=seed)


# -- any network: class labels, per-sample answer steps, several layers (DESIGN §10) -------------
def _planted_deep_model():
    """A 2-layer ReLU RNN that copies input k into node k of layer 0 and node 3 + k of layer 1;
    node 2 (and 5) stay silent. Output k = h1_k − 0.5, so its sign is input bit k."""
    model = Stacked("rnn", 1, 2, 3, n_outputs=2, layers=2, readout="linear", nonlinearity="relu")
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.weight_ih[0, 0, 0] = model.weight_ih[0, 1, 1] = 1.0
        model.weight_ih_l1[0] = torch.eye(3)
        model.readout_weight[0, 0, 0] = model.readout_weight[0, 1, 1] = 1.0
        model.readout_bias[0] = -0.5
    return model


def test_deep_relay_finds_the_planted_nodes_in_both_layers_and_knockout_confirms():
    model = _planted_deep_model()
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2, size=(400, 2))
    x = torch.as_tensor(bits, dtype=torch.float32)[:, None, :]  # one step
    rec = analysis.record_model(model, x, bits, 0, concepts=["left", "right"])
    assert rec.hidden.shape == (1, 400, 1, 6) and list(rec.layer) == [0, 0, 0, 1, 1, 1]
    assert (rec.correct == 1).all()
    table = analysis.relay_of_recording(rec, [0])
    assert "layer" in table and set(table.layer) == {0, 1}
    for concept, planted in (("left", {0, 3}), ("right", {1, 4})):
        rows = table[table.concept == concept]
        top = set(rows.nlargest(2, "rank").node)
        assert top == planted, (concept, top)
        bit = bits[:, ["left", "right"].index(concept)]
        assert np.isclose(rows.relay.iloc[0], info.entropy(bit))  # X_in = X_out: all of H(X_in) relayed
    data = analysis.probe(model, x, bits, 0, concepts=["left", "right"])
    frame = knockout.experiment_on(model, data, table, at=0, random_draws=3)
    one = frame[(frame.kind == "relay") & (frame.target_concept == "left") & (frame.set_size == 1)]
    acc = one.set_index("concept").accuracy
    assert acc["right"] == 1.0 and acc["left"] == pytest.approx((bits[:, 0] == 0).mean())
    assert set(frame.set_size) == set(range(7))


def test_class_labels_become_one_vs_rest_concepts_read_by_argmax():
    model = Stacked("gru", 2, 3, 8, n_outputs=5, readout="linear", seeds=[3, 4])
    x = torch.randn(60, 6, 3)
    labels = np.arange(60) % 5
    rec = analysis.record_model(model, x, labels, 5, concepts=list("abcde"))
    out = model(x).output[:, :, 5].detach()  # (R, samples, 5)
    chosen = out.argmax(-1).numpy()
    assert rec.concepts == tuple("abcde")
    np.testing.assert_array_equal(rec.x_in, (labels[None, :] == np.arange(5)[:, None]))
    for k in range(5):
        np.testing.assert_array_equal(rec.x_out[:, k], chosen == k)
    assert (rec.x_out.sum(axis=1) == 1).all()  # exactly one class decided per sample
    # the same data as a 0/1 concept matrix is read by sign instead
    matrix = analysis.record_model(model, x, rec.x_in.T, 5)
    np.testing.assert_array_equal(matrix.x_out, (out.numpy() > 0).transpose(0, 2, 1))


def test_per_sample_answer_steps_read_each_sequence_at_its_own_end():
    model = Stacked("lstm", 1, 2, 4, n_outputs=1)
    x = torch.randn(30, 9, 2)
    lengths = np.arange(30) % 7 + 3  # 3…9 steps
    for i, n in enumerate(lengths):
        x[i, n:] = 0.0  # padding
    targets = np.where(np.arange(30) % 2 == 0, 1, -1)[:, None]
    rec = analysis.record_model(model, x, targets, lengths - 1)
    out = model(x).output.detach()[0, np.arange(30), lengths - 1, 0]
    np.testing.assert_array_equal(rec.x_out[0, 0], (out > 0).numpy())
    aligned = rec.aligned()
    assert aligned.steps == 9
    for i, n in enumerate(lengths):  # the last aligned column is each sequence's own last step
        np.testing.assert_array_equal(aligned.hidden[0, i, -1], rec.hidden[0, i, n - 1])
        np.testing.assert_array_equal(aligned.hidden[0, i, 9 - n:], rec.hidden[0, i, :n])
        assert (aligned.hidden[0, i, :9 - n] == 0).all()  # before the sequence began


def test_bad_targets_and_answer_steps_are_refused():
    model = Stacked("rnn", 1, 3, 4, n_outputs=3)
    x = torch.zeros(5, 4, 3)
    with pytest.raises(ValueError, match="class labels must be integers 0…2"):
        analysis.record_model(model, x, np.array([0, 1, 2, 3, 0]), 3)
    with pytest.raises(ValueError, match="only 3 outputs"):
        analysis.record_model(model, x, np.ones((5, 4)), 3)
    with pytest.raises(ValueError, match="answer_step"):
        analysis.record_model(model, x, np.zeros(5, dtype=int), [3, 3])
    with pytest.raises(ValueError, match="answer_step must lie"):
        analysis.record_model(model, x, np.zeros(5, dtype=int), 4)
    with pytest.raises(ValueError, match="decision"):
        analysis.record_model(model, x, np.zeros(5, dtype=int), 3, decision="vote")
    with pytest.raises(ValueError, match="inputs must be"):
        analysis.record_model(model, torch.zeros(5, 4, 2), np.zeros(5, dtype=int), 3)


def test_record_with_input_noise_sees_the_noisy_sequences(trained, recording):
    """noise=0 is the clean recording; with noise the hidden states are those of the noisy
    inputs tasks.sample draws (a hand run of the model), and no longer only 8 distinct ones."""
    clean = analysis.record(trained, samples=SAMPLES, seed=1, noise=0.0)
    np.testing.assert_array_equal(clean.hidden, recording.hidden)
    noisy = analysis.record(trained, samples=SAMPLES, seed=1, noise=0.3)
    batch = tasks.sample("memory", SAMPLES, delay=2, noise=0.3, seed=1)
    with torch.no_grad():
        expected = trained.model(batch.inputs).hidden.numpy()
    np.testing.assert_allclose(noisy.hidden, expected, atol=1e-6)
    step = noisy.hidden[0, :, analysis.RELAY_STEP]
    assert len(np.unique(clean.hidden[0, :, analysis.RELAY_STEP].round(6), axis=0)) <= 8 < len(np.unique(step.round(6), axis=0))
    with pytest.raises(ValueError, match="^noise "):
        analysis.relay_frame(trained, steps=STEPS, samples=SAMPLES, noise=-1)
