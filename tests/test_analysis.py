"""Tests of irn.analysis: recordings, the relay table and the agreement of node rankings.

One tiny condition (2 LSTM replicates on the memory task, fixed delay 2) is trained once per module;
at a fixed delay the 0.98 criterion means every clean sequence is answered right.
"""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from irn import analysis, relay, tasks, train
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
