"""Tests of irn.relay: the relay formula, greedy ordering, exhaustive check, binarisation, nulls."""

from collections import Counter
from itertools import combinations

import dit
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from irn import info, relay

TOLERANCE = 1e-10


# ----------------------------------------------------------------------------------------
# slow, obviously-correct references (8 joint entropies via np.unique on rows)


def joint_entropy(*parts) -> float:
    columns = np.column_stack([np.asarray(p).reshape(len(p), -1) for p in parts])
    if columns.shape[1] == 0:
        return 0.0
    _, counts = np.unique(columns, axis=0, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def eight_entropies(x_in, x_out, hidden_bits, nodes) -> float:
    """``I_R`` from the 8-entropy expansion of DESIGN §7."""
    rest = [j for j in range(hidden_bits.shape[1]) if j not in set(nodes)]
    y_r, y_0 = hidden_bits[:, list(nodes)], hidden_bits[:, rest]
    h = joint_entropy
    return (
        h(x_in, y_0) + h(y_0, x_out) + h(y_r, y_0) - h(y_0)
        - h(x_in, y_r, y_0) - h(x_in, y_0, x_out) - h(y_r, y_0, x_out) + h(x_in, y_r, y_0, x_out)
    )


def reference_greedy(x_in, x_out, hidden_bits):
    """Greedy order, curve and contribution, same tie rule (lowest node within 1e-12)."""
    remaining = list(range(hidden_bits.shape[1]))
    order, curve = [], [eight_entropies(x_in, x_out, hidden_bits, remaining)]
    contribution = np.zeros(hidden_bits.shape[1])
    while len(remaining) > 1:
        values = [
            eight_entropies(x_in, x_out, hidden_bits, [k for k in remaining if k != j])
            for j in remaining
        ]
        best = max(values)
        position = next(k for k, v in enumerate(values) if v >= best - 1e-12)
        order.append(remaining.pop(position))
        curve.append(values[position])
        contribution[remaining] += curve[0] - curve[-1]
    return np.array(order + remaining), np.array(curve), contribution


def random_data(seed, samples=300, nodes=6, flip=0.1):
    """Concept bit, a noisy output and hidden bits where a few nodes carry the concept."""
    rng = np.random.default_rng(seed)
    x_in = rng.integers(0, 2, samples)
    hidden_bits = rng.integers(0, 2, (samples, nodes))
    carriers = rng.choice(nodes, size=max(2, nodes // 3), replace=False)
    hidden_bits[:, carriers] = x_in[:, None] ^ (rng.random((samples, carriers.size)) < flip)
    x_out = hidden_bits[:, carriers[0]] ^ (rng.random(samples) < flip)
    return x_in, x_out, hidden_bits


def planted_relay(seed, samples=500, nodes=10, planted=(2, 5, 7), flip=0.05):
    rng = np.random.default_rng(seed)
    x_in = rng.integers(0, 2, samples)
    hidden_bits = rng.integers(0, 2, (samples, nodes))
    for node in planted:
        hidden_bits[:, node] = x_in ^ (rng.random(samples) < flip)
    x_out = (hidden_bits[:, list(planted)].sum(axis=1) >= 2).astype(int)
    return x_in, x_out, hidden_bits


# ----------------------------------------------------------------------------------------
# the relay formula


binary_data = st.tuples(st.integers(1, 60), st.integers(2, 5), st.integers(0, 2**32 - 1)).map(
    lambda a: (
        np.random.default_rng(a[2]).integers(0, 2, a[0]),
        np.random.default_rng(a[2] + 1).integers(0, 2, a[0]),
        np.random.default_rng(a[2] + 2).integers(0, 2, (a[0], a[1])),
        np.flatnonzero(np.random.default_rng(a[2] + 3).random(a[1]) < 0.5),
    )
)


@settings(max_examples=80, deadline=None)
@given(binary_data)
def test_relay_expansion_equals_conditional_mi_difference(data):
    x_in, x_out, hidden_bits, nodes = data
    rest = np.setdiff1d(np.arange(hidden_bits.shape[1]), nodes)
    value = relay.relay_information(x_in, x_out, hidden_bits, nodes)
    difference = info.conditional_mutual_information(
        x_in, x_out, hidden_bits[:, rest]
    ) - info.conditional_mutual_information(x_in, x_out, hidden_bits)
    assert value == pytest.approx(eight_entropies(x_in, x_out, hidden_bits, nodes), abs=TOLERANCE)
    assert value == pytest.approx(difference, abs=TOLERANCE)


def test_relay_matches_dit_conditional_coinformation():
    x_in, x_out, hidden_bits = random_data(0, samples=200, nodes=4)
    nodes, rest = [1, 3], [0, 2]
    counts = Counter(map(tuple, np.column_stack([x_in, x_out, hidden_bits]).tolist()))
    outcomes = list(counts)
    d = dit.Distribution(outcomes, [counts[o] / 200 for o in outcomes])
    expected = dit.multivariate.coinformation(d, [[0], [1], [2 + n for n in nodes]],
                                              [2 + n for n in rest])
    assert relay.relay_information(x_in, x_out, hidden_bits, nodes) == pytest.approx(
        expected, abs=TOLERANCE
    )


def test_relay_of_no_nodes_is_zero_and_of_all_nodes_is_co_information():
    x_in, x_out, hidden_bits = random_data(1)
    assert relay.relay_information(x_in, x_out, hidden_bits, []) == pytest.approx(0.0, abs=1e-12)
    assert relay.relay_information(x_in, x_out, hidden_bits, range(6)) == pytest.approx(
        info.co_information(x_in, x_out, hidden_bits), abs=TOLERANCE
    )


# ----------------------------------------------------------------------------------------
# greedy


@pytest.mark.parametrize(("seed", "samples", "nodes"), [(0, 300, 6), (1, 1000, 8), (2, 40, 7),
                                                        (3, 2000, 5), (4, 150, 9)])
def test_greedy_matches_reference(seed, samples, nodes):
    x_in, x_out, hidden_bits = random_data(seed, samples, nodes)
    result = relay.greedy(x_in, x_out, hidden_bits)
    order, curve, contribution = reference_greedy(x_in, x_out, hidden_bits)
    np.testing.assert_array_equal(result.order, order)
    np.testing.assert_allclose(result.curve, curve, atol=TOLERANCE)
    np.testing.assert_allclose(result.contribution, contribution, atol=1e-9)


def test_greedy_tie_rule_on_exact_ties():
    # nodes 0..3 are identical copies of the concept and the output, node 4 is independent:
    # node 4 goes first (removing it keeps I_R = 1), then every removal ties at I_R = 0
    x_in = np.array([0, 1] * 8)
    hidden_bits = np.column_stack([x_in] * 4 + [np.array([0, 0, 1, 1] * 4)])
    result = relay.greedy(x_in, x_in, hidden_bits)
    order, curve, _ = reference_greedy(x_in, x_in, hidden_bits)
    np.testing.assert_array_equal(result.order, order)
    np.testing.assert_allclose(result.curve, curve, atol=TOLERANCE)
    np.testing.assert_array_equal(result.order, [4, 0, 1, 2, 3])  # lowest index wins ties


def test_greedy_structure():
    x_in, x_out, hidden_bits = random_data(5, samples=500, nodes=8)
    result = relay.greedy(x_in, x_out, hidden_bits)
    assert sorted(result.order.tolist()) == list(range(8))
    assert result.curve.shape == result.contribution.shape == (8,)
    for i in range(8):  # curve[i] is I_R of the nodes not yet removed
        assert result.curve[i] == pytest.approx(
            relay.relay_information(x_in, x_out, hidden_bits, result.order[i:]), abs=TOLERANCE
        )
    assert result.contribution[result.order[0]] == 0.0
    with pytest.raises(ValueError):
        result.order[0] = 3  # frozen


def test_planted_relay_is_removed_last():
    for seed in range(3):
        x_in, x_out, hidden_bits = planted_relay(seed)
        result = relay.greedy(x_in, x_out, hidden_bits)
        assert set(result.order[-3:].tolist()) == {2, 5, 7}


def test_greedy_many_broadcasts_and_matches_single_runs():
    rng = np.random.default_rng(9)
    steps, concepts, samples, nodes = 4, 3, 200, 6
    x_in = rng.integers(0, 2, (concepts, samples))
    x_out = x_in ^ (rng.random((concepts, samples)) < 0.1)
    hidden_bits = rng.integers(0, 2, (steps, samples, nodes))
    hidden_bits[..., :3] = x_in.T[None] ^ (rng.random((steps, samples, 3)) < 0.2)
    hidden_bits[:2, :100] = hidden_bits[:2, :1]  # repeated rows for de-duplication
    batch = relay.greedy_many(x_in[None], x_out[None], hidden_bits[:, None])
    plain = relay.greedy_many(x_in[None], x_out[None], hidden_bits[:, None], deduplicate=False)
    assert batch.order.shape == batch.curve.shape == (steps, concepts, nodes)
    np.testing.assert_array_equal(batch.order, plain.order)
    np.testing.assert_allclose(batch.curve, plain.curve, atol=1e-12)
    for step in range(steps):
        for concept in range(concepts):
            single = relay.greedy(x_in[concept], x_out[concept], hidden_bits[step])
            np.testing.assert_array_equal(batch.at(step, concept).order, single.order)
            np.testing.assert_allclose(batch.curve[step, concept], single.curve, atol=1e-12)
            np.testing.assert_allclose(
                batch.contribution[step, concept], single.contribution, atol=1e-12
            )


def test_greedy_handles_many_nodes():
    x_in, x_out, hidden_bits = random_data(6, samples=200, nodes=20)
    order, curve, _ = reference_greedy(x_in, x_out, hidden_bits)
    result = relay.greedy(x_in, x_out, hidden_bits)
    np.testing.assert_array_equal(result.order, order)
    np.testing.assert_allclose(result.curve, curve, atol=TOLERANCE)
    x_in, x_out, hidden_bits = random_data(7, samples=400, nodes=128)
    result = relay.greedy(x_in, x_out, hidden_bits)
    assert sorted(result.order.tolist()) == list(range(128))
    for i in (0, 60, 127):
        assert result.curve[i] == pytest.approx(
            relay.relay_information(x_in, x_out, hidden_bits, result.order[i:]), abs=TOLERANCE
        )


# ----------------------------------------------------------------------------------------
# exhaustive


@pytest.mark.parametrize("seed", range(3))
def test_exhaustive_is_at_least_greedy_and_matches_relay_information(seed):
    x_in, x_out, hidden_bits = random_data(seed, samples=400, nodes=7)
    result = relay.exhaustive(x_in, x_out, hidden_bits)
    greedy = relay.greedy(x_in, x_out, hidden_bits)
    assert result.values.shape == (2**7,)
    for size in range(1, 8):
        assert result.best[size] >= greedy.curve[7 - size] - 1e-12
    for nodes in [(), (0,), (1, 4), (0, 2, 3, 6), tuple(range(7))]:
        mask = sum(1 << n for n in nodes)
        assert result.values[mask] == pytest.approx(
            relay.relay_information(x_in, x_out, hidden_bits, nodes), abs=TOLERANCE
        )
    for size in range(8):
        subsets = [sum(1 << n for n in c) for c in combinations(range(7), size)]
        assert result.best[size] == pytest.approx(result.values[subsets].max())
        assert result.sizes[result.best_mask[size]] == size
    gap = relay.greedy_gap(greedy, result)
    assert list(gap.columns) == ["size", "greedy", "best", "n_subsets", "n_better",
                                 "fraction_better"]
    assert gap["n_subsets"].tolist() == [len(list(combinations(range(7), k))) for k in range(1, 8)]
    assert (gap["best"] >= gap["greedy"] - 1e-12).all()
    assert ((gap["n_better"] == 0) == (gap["best"] <= gap["greedy"] + 1e-12)).all()
    assert gap["n_better"].iloc[-1] == 0


def test_exhaustive_refuses_too_many_nodes():
    x_in, x_out, hidden_bits = random_data(0, samples=50, nodes=relay.MAX_EXHAUSTIVE_NODES + 1)
    with pytest.raises(ValueError, match="hidden_bits"):
        relay.exhaustive(x_in, x_out, hidden_bits)


# ----------------------------------------------------------------------------------------
# binarisation


def brute_force_two_means(values):
    """Threshold minimising the within-cluster sum of squares over all splits."""
    candidates = np.unique(values)[:-1]
    sse = [
        ((values[values <= t] - values[values <= t].mean()) ** 2).sum()
        + ((values[values > t] - values[values > t].mean()) ** 2).sum()
        for t in candidates
    ]
    return values > candidates[int(np.argmin(sse))]


def test_binarize_methods():
    rng = np.random.default_rng(0)
    hidden = np.column_stack([
        rng.normal(size=301),
        np.concatenate([rng.normal(-2, 0.3, 200), rng.normal(3, 1.0, 101)]),
        rng.exponential(size=301),
        np.tanh(rng.normal(size=301) * 3),
    ])
    median = relay.binarize(hidden)
    np.testing.assert_array_equal(median, hidden > np.median(hidden, axis=0))
    assert median.dtype == np.uint8
    np.testing.assert_array_equal(relay.binarize(hidden, "sign"), hidden > 0)
    kmeans = relay.binarize(hidden, "kmeans")
    for node in range(hidden.shape[1]):
        np.testing.assert_array_equal(kmeans[:, node], brute_force_two_means(hidden[:, node]))
    assert kmeans[:, 1].sum() == 101


def test_binarize_constant_nodes_and_batches():
    rng = np.random.default_rng(1)
    hidden = rng.normal(size=(3, 50, 4))
    hidden[..., 2] = 0.7
    for method in relay.BINARIZE_METHODS:
        bits = relay.binarize(hidden, method)
        assert bits.shape == hidden.shape
        assert not bits[..., 2].any()
        for step in range(3):
            np.testing.assert_array_equal(bits[step], relay.binarize(hidden[step], method))


# ----------------------------------------------------------------------------------------
# shuffle nulls


def test_null_small_p_for_relay_and_large_p_for_noise():
    x_in, x_out, hidden_bits = planted_relay(0, samples=300, nodes=6, planted=(1, 3, 4))
    real = relay.relay_null(x_in, x_out, hidden_bits, nodes=[1, 3, 4], shuffles=99, seed=1)
    assert real.p_value == pytest.approx(0.01)
    assert real.corrected == pytest.approx(real.observed - real.null_mean)
    assert real.null.shape == (99,)
    rng = np.random.default_rng(2)
    noise = rng.integers(0, 2, (300, 6))
    x_out = x_in ^ (rng.random(300) < 0.1)
    fake = relay.relay_null(x_in, x_out, noise, nodes=[0, 1, 2], shuffles=99, seed=1)
    assert fake.p_value > 0.1
    assert abs(fake.corrected) < 0.1
    full = relay.relay_null(x_in, x_out, noise, shuffles=20)
    assert full.observed == pytest.approx(
        relay.relay_information(x_in, x_out, noise, range(6)), abs=TOLERANCE
    )


def test_greedy_null():
    x_in, x_out, hidden_bits = planted_relay(3, samples=300, nodes=6, planted=(0, 2, 5))
    null = relay.greedy_null(x_in, x_out, hidden_bits, shuffles=49, seed=0)
    assert null.null_curve.shape == null.null_contribution.shape == (49, 6)
    assert set(null.observed.order[-3:].tolist()) == {0, 2, 5}
    assert null.curve_p_value[0] == pytest.approx(0.02)
    assert np.all(null.contribution_p_value[[0, 5]] == pytest.approx(0.02))
    assert np.all((null.contribution_p_value > 0) & (null.contribution_p_value <= 1))
    np.testing.assert_allclose(
        null.corrected_curve, null.observed.curve - null.null_curve.mean(axis=0)
    )
    # the same seed permutes the same way as relay_null
    single = relay.relay_null(x_in, x_out, hidden_bits, shuffles=49, seed=0)
    np.testing.assert_allclose(single.null, null.null_curve[:, 0], atol=TOLERANCE)


# ----------------------------------------------------------------------------------------
# validation


GOOD = random_data(0, samples=20, nodes=4)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: relay.binarize(np.zeros((5, 3)), "otsu"), "method"),
        (lambda: relay.binarize(np.zeros(5)), "hidden"),
        (lambda: relay.binarize(np.full((5, 3), np.nan)), "hidden"),
        (lambda: relay.greedy(GOOD[0][:-1], GOOD[1], GOOD[2]), "x_out"),
        (lambda: relay.greedy(GOOD[0], GOOD[1][:-1], GOOD[2]), "x_out"),
        (lambda: relay.greedy(GOOD[0], GOOD[1], GOOD[2][:-1]), "hidden_bits"),
        (lambda: relay.greedy(GOOD[0] * 2, GOOD[1], GOOD[2]), "x_in"),
        (lambda: relay.greedy(GOOD[0], GOOD[1], GOOD[2] + 0.5), "hidden_bits"),
        (lambda: relay.greedy(GOOD[0], GOOD[1], GOOD[2][:, :1]), "hidden_bits"),
        (lambda: relay.greedy(GOOD[0][:0], GOOD[1][:0], GOOD[2][:0]), "x_in"),
        (lambda: relay.greedy(GOOD[0], GOOD[1], GOOD[2][..., None]), "hidden_bits"),
        (lambda: relay.relay_information(*GOOD, nodes=[0, 4]), "nodes"),
        (lambda: relay.relay_information(*GOOD, nodes=[1, 1]), "nodes"),
        (lambda: relay.relay_information(*GOOD, nodes=[-1]), "nodes"),
        (lambda: relay.relay_information(*GOOD, nodes=[0.5]), "nodes"),
        (lambda: relay.relay_null(*GOOD, shuffles=0), "shuffles"),
        (lambda: relay.relay_null(*GOOD, seed=-1), "seed"),
        (lambda: relay.greedy_null(*GOOD, shuffles=2.5), "shuffles"),
        (lambda: relay.greedy_many(GOOD[0][None], GOOD[1][None], GOOD[2][None, :-1]), "x_in"),
        (lambda: relay.greedy_many(np.stack([GOOD[0]] * 2), GOOD[1],
                                   np.stack([GOOD[2]] * 3)), "broadcast"),
        (lambda: relay.greedy_gap(relay.greedy(*GOOD), None), "exhaustive_result"),
    ],
)
def test_bad_inputs_raise_value_error_naming_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_median_binarisation_keeps_a_two_valued_node_informative():
    # 70 % of samples at the upper value: "> median" alone would make the node constant
    node = np.r_[np.full(70, 0.995), np.full(30, -0.995)][:, None]
    bits = relay.binarize(node, "median")[:, 0]
    assert bits.sum() == 70 and set(bits[:70]) == {1}
    balanced = np.arange(10.0)[:, None]
    assert relay.binarize(balanced, "median")[:, 0].sum() == 5
