"""irn.flow: trophic levels on graphs with known levels, flow measures on a hand-built chain
with a known direction, layer detection on a layered graph."""

import numpy as np
import pytest

from irn import flow


def chain_system(samples=1500, seed=0):
    """x (i.i.d. input) → a → b, one step each; b does not feed back."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=samples)
    a, b = np.zeros(samples), np.zeros(samples)
    for t in range(1, samples):
        a[t] = np.tanh(1.5 * x[t - 1]) + 0.3 * rng.normal()
        b[t] = 0.9 * a[t - 1] + 0.3 * rng.normal()
    return np.column_stack([x, a, b])


def test_levels_of_a_chain_and_a_cycle():
    chain = np.zeros((3, 3))
    chain[0, 1] = chain[1, 2] = 1
    result = flow.trophic_levels(chain)
    assert result.levels == pytest.approx([0, 1, 2])
    assert result.incoherence == pytest.approx(0)
    cycle = chain.copy()
    cycle[2, 0] = 1
    result = flow.trophic_levels(cycle)
    assert result.levels == pytest.approx([0, 0, 0], abs=1e-12)
    assert result.incoherence == pytest.approx(1)


def test_levels_of_the_feed_forward_triangle():
    # 0 → 1, 0 → 2, 1 → 2: (diag(u) − W − Wᵀ) h = v by hand gives h = v / 3 = (−2, 0, 2) / 3,
    # and every edge misses a one-level step by 1/3: F₀ = 1/9
    w = np.zeros((3, 3))
    w[0, 1] = w[0, 2] = w[1, 2] = 1
    result = flow.trophic_levels(w)
    assert result.levels == pytest.approx([0, 2 / 3, 4 / 3])
    assert result.incoherence == pytest.approx(1 / 9)


def test_levels_follow_node_order_and_components():
    w = np.zeros((6, 6))
    w[0, 1] = w[1, 2] = 2.0  # one chain
    w[3, 4] = 1.0             # a second component; node 5 has no edges
    perm = np.array([4, 2, 0, 5, 1, 3])
    result = flow.trophic_levels(w)
    assert result.levels[:5] == pytest.approx([0, 1, 2, 0, 1])
    assert np.isnan(result.levels[5])
    permuted = flow.trophic_levels(w[np.ix_(perm, perm)])
    np.testing.assert_allclose(permuted.levels, result.levels[perm])


def test_flow_finds_the_direction_of_a_chain():
    activity = chain_system()
    roles = ["input", "hidden", "output"]
    delayed = flow.delayed_information(activity, lags=[1], roles=roles).set_index(["source", "target"])
    assert delayed.loc[(0, 1), "value"] > 0.3 and delayed.loc[(1, 2), "value"] > 0.3
    assert delayed.loc[(1, 0), "value"] < 0.05 and delayed.loc[(2, 1), "value"] < 0.1
    table = flow.flow_significance(activity, "transfer", lags=[1], roles=roles, surrogates=19)
    edges = set(map(tuple, table.loc[table["significant"], ["source", "target"]].to_numpy()))
    assert {(0, 1), (1, 2)} <= edges
    assert not edges & {(1, 0), (2, 1), (2, 0)}
    weights = flow.flow_graph(table, 3)
    levels = flow.trophic_levels(weights).levels
    assert levels[0] < levels[1] < levels[2]


def test_transfer_entropy_conditioned_on_the_input():
    activity = chain_system(seed=1)
    te = flow.transfer_entropy(activity, lags=[1], conditions=[0]).set_index(["source", "target"])
    plain = flow.transfer_entropy(activity, lags=[1]).set_index(["source", "target"])
    # edges from or to the conditioning neuron fall back to the target's past only
    assert te.loc[(0, 1), "value"] == plain.loc[(0, 1), "value"] and te.loc[(0, 1), "value"] > 0.3
    assert te.loc[(2, 0), "value"] == plain.loc[(2, 0), "value"]
    assert te.loc[(1, 2), "value"] > 0.3 and te.loc[(1, 2), "value"] != plain.loc[(1, 2), "value"]


def test_entropy_per_neuron():
    activity = np.random.default_rng(2).normal(scale=[1.0, 2.0], size=(2000, 2))
    table = flow.neuron_entropy(activity)
    expected = 0.5 * np.log2(2 * np.pi * np.e * np.array([1.0, 4.0]))
    assert table["entropy"].to_numpy() == pytest.approx(expected, abs=0.05)
    assert list(table["role"]) == ["hidden", "hidden"]


def test_layers_are_found_in_a_layered_graph_only():
    layered = np.zeros((12, 12))
    for lo in (0, 4):
        layered[lo:lo + 4, lo + 4:lo + 8] = 1.0
    found = flow.level_clustering(layered, permutations=19)
    assert found.groups == 3 and found.p_value <= 0.05
    assert len(set(found.labels[:4])) == len(set(found.labels[4:8])) == 1
    random = (np.random.default_rng(3).random((12, 12)) < 0.3).astype(float)
    np.fill_diagonal(random, 0)
    assert flow.level_clustering(random, permutations=19).p_value > 0.05
    tiny = np.zeros((3, 3))
    tiny[0, 1] = tiny[1, 2] = 1  # three levels, three nodes: no split with 2 ≤ groups < nodes is left
    assert flow.level_clustering(tiny, permutations=3).groups == 2
    assert np.isnan(flow.level_clustering(np.zeros((3, 3)), permutations=3).p_value)


@pytest.mark.parametrize("call, message", [
    (lambda: flow.trophic_levels(np.ones((2, 3))), "square"),
    (lambda: flow.trophic_levels(-np.ones((2, 2))), "non-negative"),
    (lambda: flow.delayed_information(np.ones((5, 2))), "activity must"),
    (lambda: flow.delayed_information(np.ones((50, 2)), lags=[0]), "lags must"),
    (lambda: flow.delayed_information(np.ones((50, 2)), roles=["input", "bias"]), "roles must"),
    (lambda: flow.flow_significance(np.ones((50, 2)), "granger"), "measure must"),
    (lambda: flow.flow_significance(np.ones((50, 2)), alpha=2), "alpha must"),
    (lambda: flow.flow_graph(np.ones(3), 3), "table must"),
])
def test_bad_input_is_rejected(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_one_dimensional_groups_match_sklearn():
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    x = np.random.default_rng(4).normal(size=11)
    for groups in (2, 3, 4):
        ours = flow._groups_1d(x, groups)
        theirs = KMeans(groups, n_init=50, random_state=0).fit_predict(x[:, None])
        inertia = lambda labels: sum(((x[labels == g] - x[labels == g].mean()) ** 2).sum()  # noqa: E731
                                     for g in np.unique(labels))
        assert inertia(ours) <= inertia(theirs) + 1e-12
        assert flow._silhouette(x, ours) == pytest.approx(silhouette_score(x[:, None], ours))
