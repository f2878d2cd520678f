"""irn.flow: transfer entropy against the closed form of a linear-Gaussian pair, trophic levels on
graphs with known levels, the direction, edges and layers of simulated tanh networks whose answer is
known (pairwise and multivariate transfer entropy with false-discovery control), the layer test on a
layered graph, and the choices of the analysis (condition time, history, edges into inputs)."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from irn import flow, ksg


def chain_system(samples=1500, seed=0):
    """x (i.i.d. input) → a → b, one step each; b does not feed back."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=samples)
    a, b = np.zeros(samples), np.zeros(samples)
    for t in range(1, samples):
        a[t] = np.tanh(1.5 * x[t - 1]) + 0.3 * rng.normal()
        b[t] = 0.9 * a[t - 1] + 0.3 * rng.normal()
    return np.column_stack([x, a, b])


def linear_pair(samples=4000, a=0.6, b=0.5, c=0.8, seed=0):
    """x[t] = a x[t−1] + ε, y[t] = b y[t−1] + c x[t−1] + η (unit noises) and the closed-form
    transfer entropy x → y = ½ log₂(Var(y[t] | y[t−1]) / Var(y[t] | y[t−1], x[t−1])) in bits."""
    rng = np.random.default_rng(seed)
    x, y = np.zeros(samples + 200), np.zeros(samples + 200)
    for t in range(1, len(x)):
        x[t] = a * x[t - 1] + rng.normal()
        y[t] = b * y[t - 1] + c * x[t - 1] + rng.normal()
    # stationary covariance of (x, y): Σ = A Σ Aᵀ + I, solved as a linear system
    A = np.array([[a, 0.0], [c, b]])
    sigma = np.linalg.solve(np.eye(4) - np.kron(A, A), np.eye(2).ravel()).reshape(2, 2)
    cov_lag = A @ sigma  # Cov(z[t], z[t−1]) = A Σ
    var_given_past = sigma[1, 1] - cov_lag[1, 1] ** 2 / sigma[1, 1]
    return np.column_stack([x, y])[200:], 0.5 * np.log2(var_given_past / 1.0)


def test_transfer_entropy_of_a_linear_gaussian_pair_matches_the_closed_form():
    activity, expected = linear_pair()
    te = flow.transfer_entropy(activity, [1]).set_index(["source", "target"])["value"]
    assert te[(0, 1)] == pytest.approx(expected, abs=0.03)
    assert abs(te[(1, 0)]) < 0.02  # y never drives x


def test_condition_time_and_history_match_hand_built_estimates():
    sim = flow.driven_chain(3, 600, seed=4)
    a = ksg.prepare(sim.activity, normalize=True, noise=0.0)  # z-scored whole columns, as the library does
    reference = dict(k=3, normalize=False, noise=0.0)
    # 1 → 2 at lag 1, history 2: rows t = 2 … n − 1; the input conditioned at the target's time t …
    te = flow.transfer_entropy(sim.activity, [1], conditions=[0], condition_time="target", history=2)
    z = np.column_stack([a[1:-1, 2], a[:-2, 2], a[2:, 0]])
    assert te.set_index(["source", "target"]).loc[(1, 2), "value"] == pytest.approx(
        ksg.conditional_mutual_information(a[1:-1, 1], a[2:, 2], z, **reference), abs=1e-6)
    # … or at the source's time t − 1
    te = flow.transfer_entropy(sim.activity, [1], conditions=[0], condition_time="source", history=2)
    z = np.column_stack([a[1:-1, 2], a[:-2, 2], a[1:-1, 0]])
    assert te.set_index(["source", "target"]).loc[(1, 2), "value"] == pytest.approx(
        ksg.conditional_mutual_information(a[1:-1, 1], a[2:, 2], z, **reference), abs=1e-6)


def test_false_discovery_control_is_benjamini_hochberg_over_the_edges():
    activity = chain_system(600)
    # 2 true edges among 12: BH needs p ≤ 2 · 0.05 / 12, so more surrogates than 12 / (2 · 0.05) − 1
    table = flow.flow_significance(activity, "transfer", [1, 2], surrogates=199, seed=1)
    assert len(table) == 2 * 6
    np.testing.assert_allclose(table["p_adjusted"], sps.false_discovery_control(table["p_value"], method="bh"))
    assert set(table.loc[table["significant"], ["source", "target"]].itertuples(index=False, name=None)) >= {(0, 1), (1, 2)}
    raw = flow.flow_significance(activity, "transfer", [1, 2], surrogates=39, correction=None, seed=1)
    np.testing.assert_allclose(raw["p_adjusted"], raw["p_value"])
    assert raw["significant"].sum() >= 2 and table["significant"].sum() <= raw["significant"].sum()
    # edges that cannot reach p ≤ alpha stop drawing surrogates early, and so do edges settled far above
    # their surrogates (with the smallest p-value); the other significant ones get all 199
    chosen = table[table["significant"]]
    assert ((chosen["surrogates_used"] == 199) | np.isclose(chosen["p_value"], 1 / 200)).all()
    assert table["surrogates_used"].min() < 199


def test_an_edge_far_above_its_surrogates_is_settled_with_the_smallest_p_value():
    """Cantelli's inequality: 1 / (1 + z²) of any null lies z standard deviations above its mean."""
    from irn.flow import _shared

    rng = np.random.default_rng(0)
    drawn = rng.normal(size=(19, 3))
    values = np.array([50.0, 3.0, -1.0])  # 50 sd out; 3 sd; below
    assert _shared._settled(values, drawn, 99).tolist() == [True, False, False]
    assert _shared._settle_z(99) == 20 and _shared._settle_z(999) == pytest.approx(2 * np.sqrt(1000))
    p = _shared._p_settled(values, drawn, np.array([True, False, False]), 99)
    assert p[0] == pytest.approx(1 / 100) and p[1] == pytest.approx(1 / 20) and p[2] > 0.5
    activity = chain_system(600)
    table = flow.flow_significance(activity, "transfer", [1], surrogates=99, correction=None, seed=2)
    strong = table.set_index(["source", "target"]).loc[(0, 1)]
    assert strong["surrogates_used"] == 19 and strong["p_value"] == pytest.approx(0.01)


def test_multivariate_transfer_entropy_recovers_the_driven_chain():
    """The issue's positive control: a driven chain of 6 tanh units; pairwise TE reports indirect
    links, multivariate TE with FDR recovers the chain (precision and recall ≥ 0.8) and its direction."""
    sim = flow.driven_chain(6, 600, seed=0)
    kwargs = dict(roles=sim.roles, conditions=[0], surrogates=99, seed=0)
    multivariate = flow.flow_significance(sim.activity, "multivariate", [1], **kwargs)
    found = flow.edge_recovery(multivariate, sim.connections, exogenous=[0])
    assert found.precision >= 0.8 and found.recall >= 0.8
    pairwise = flow.edge_recovery(flow.flow_significance(sim.activity, "transfer", [1], **kwargs),
                                  sim.connections, exogenous=[0])
    assert pairwise.recall >= 0.8 and pairwise.precision < found.precision  # the indirect links
    levels = flow.trophic_levels(flow.flow_graph(multivariate, 7, exogenous=[0])).levels
    assert np.all(np.diff(levels) > 0.5)  # input, u1, …, u6 climb the chain
    assert set(multivariate.columns) >= {"selected", "target_p", "p_adjusted", "significant"}
    chosen = multivariate[multivariate["significant"]]
    assert (chosen["p_adjusted"] <= 0.05).all() and chosen["selected"].all()


def test_planted_layers_are_recovered():
    sim = flow.planted_layers((3, 3), 600, seed=0)
    table = flow.flow_significance(sim.activity, "multivariate", [1], roles=sim.roles, conditions=[0],
                                   surrogates=99, seed=0)
    weights = flow.flow_graph(table, len(sim.roles), exogenous=[0])
    levels = flow.trophic_levels(weights).levels
    for layer in range(sim.layers.max()):  # every neuron of a layer sits below every neuron of the next
        assert levels[sim.layers == layer].max() < levels[sim.layers == layer + 1].min()
    layers = flow.level_clustering(weights, permutations=99)
    assert layers.p_value <= 0.05
    assert flow.edge_recovery(table, sim.connections, exogenous=[0]).precision >= 0.8


def test_edge_recovery_counts_by_hand():
    truth = np.zeros((3, 3), dtype=bool)
    truth[0, 1] = truth[1, 2] = True
    table = pd.DataFrame({"source": [0, 0, 1, 2, 2], "target": [1, 2, 2, 0, 1],
                          "significant": [True, True, False, True, False]})
    got = flow.edge_recovery(table, truth)
    assert (got.true_positives, got.false_positives, got.false_negatives) == (1, 2, 1)
    assert got.precision == pytest.approx(1 / 3) and got.recall == pytest.approx(0.5)
    into_input_dropped = flow.edge_recovery(table, truth, exogenous=[0])
    assert into_input_dropped.false_positives == 1


def test_flow_graph_drops_edges_into_exogenous_neurons():
    table = pd.DataFrame({"source": [0, 1, 2], "target": [1, 0, 0], "value": [0.5, 0.3, 0.2],
                          "null_mean": [0.0, 0.1, 0.0], "significant": [True, True, True]})
    assert flow.flow_graph(table, 3)[1, 0] == pytest.approx(0.2)
    dropped = flow.flow_graph(table, 3, exogenous=[0])
    assert dropped[:, 0].sum() == 0 and dropped[0, 1] == pytest.approx(0.5)


def test_direction_tests_and_the_verdict():
    rng = np.random.default_rng(0)
    rows = []
    for r in range(8):
        for neuron, (role, level) in enumerate([("input", 0.0), ("hidden", 1.0), ("hidden", 1.2), ("output", 2.0)]):
            rows.append((r, neuron, role, level + 0.1 * rng.normal()))
    levels = pd.DataFrame(rows, columns=["replicate", "neuron", "role", "level"])
    tests = flow.direction_tests(levels)
    assert list(tests["comparison"]) == ["output − hidden", "hidden − input"]
    assert (tests["difference"] > 0.7).all() and (tests["p_value"] < 0.05).all() and (tests["low"] > 0).all()
    assert flow.direction_verdict(tests)[0] == "reproduced"
    flipped = levels.assign(level=-levels["level"])
    assert flow.direction_verdict(flow.direction_tests(flipped))[0] == "contradicted"
    few = levels[levels["replicate"] < 5]  # over 5 replicates the smallest p, 1/16, fails Holm over 2 tests
    assert flow.direction_verdict(flow.direction_tests(few))[0] == "no verdict"


def test_direction_sensitivity_names_the_choices_that_change_the_verdict():
    sims = [flow.driven_chain(3, 200, seed=s) for s in range(8)]  # 8: a signed-rank test can pass Holm over 2
    activity = np.stack([s.activity for s in sims])
    base = flow.Choices(surrogates=19, correction=None, permutations=1)
    found = flow.direction_sensitivity(activity, sims[0].roles, base, {"into_inputs": [True], "history": [2]})
    assert set(found.table["choice"]) == {"baseline", "into_inputs", "history"}
    assert len(found.table) == 3 * 2
    assert found.baseline == "reproduced" and found.robust and found.depends_on == ()
    # a choice that does change it is named: with a single surrogate no edge can be significant
    blind = flow.direction_sensitivity(activity, sims[0].roles, base, {"surrogates": [1]})
    assert not blind.robust and blind.depends_on == ("surrogates",)


def test_replicate_flow_with_the_sources_measure():
    sims = [flow.driven_chain(2, 300, seed=s) for s in range(2)]
    result = flow.replicate_flow(np.stack([s.activity for s in sims]), sims[0].roles, measure="delayed",
                                 surrogates=19, permutations=9)
    assert result.choices.measure == "delayed" and len(result.graphs) == 2
    assert set(result.levels.columns) == {"replicate", "neuron", "role", "level"}
    assert result.edges.groupby("replicate").size().tolist() == [6, 6]


def test_hidden_io_information_against_the_estimator():
    sim = flow.driven_chain(3, 500, seed=2)
    table = flow.hidden_io_information(sim.activity, sim.roles)
    assert list(table["neuron"]) == [1, 2]
    direct = ksg.mutual_information(sim.activity[:, 1], sim.activity[:, 0])
    assert table.loc[0, "i_input"] == pytest.approx(direct, abs=2e-3)
    assert table.loc[1, "i_output"] == pytest.approx(ksg.mutual_information(sim.activity[:, 2], sim.activity[:, 3]),
                                                     abs=2e-3)


def test_simulated_networks_have_the_stated_structure():
    chain = flow.driven_chain(4, 200, seed=0)
    assert chain.activity.shape == (200, 5) and chain.connections.sum() == 4
    assert list(chain.roles) == ["input", "hidden", "hidden", "hidden", "output"]
    layered = flow.planted_layers((2, 3), 200)
    assert list(layered.layers) == [0, 1, 1, 2, 2, 2, 3]
    assert layered.connections[0, 1:3].all() and layered.connections[1:3, 3:6].all() and layered.connections[3:6, 6].all()
    assert layered.connections.sum() == 2 + 6 + 3
    known = flow.known_network(6, 200, inputs_per_unit=2, driven=2)
    assert known.connections[1:, 1:].sum(axis=0).tolist() == [2] * 6 and known.connections[0].sum() == 2


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
    table = flow.flow_significance(activity, "transfer", lags=[1], roles=roles, surrogates=19, correction=None)
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
    found = flow.level_clustering(layered, permutations=99)
    assert found.incoherence == pytest.approx(0) and found.p_value <= 0.05
    assert found.groups == 3 and len(set(found.labels[:4])) == len(set(found.labels[4:8])) == 1
    rng = np.random.default_rng(3)
    flagged = 0
    for _ in range(20):  # a random graph is as coherent as its rewirings: p ≤ 0.05 about 1 time in 20
        random = (rng.random((9, 9)) < 0.3) * rng.uniform(0.1, 1, (9, 9))
        np.fill_diagonal(random, 0)
        flagged += flow.level_clustering(random, permutations=39, seed=int(rng.integers(1000))).p_value <= 0.05
    assert flagged <= 4
    assert np.isnan(flow.level_clustering(np.zeros((3, 3)), permutations=3).p_value)
    untouched = layered.copy()
    np.fill_diagonal(untouched, 2.0)
    flow.level_clustering(untouched, permutations=3)
    assert np.all(np.diag(untouched) == 2.0)  # the caller's matrix is not changed


def test_rewiring_keeps_every_degree():
    rng = np.random.default_rng(5)
    w = (rng.random((10, 10)) < 0.3) * rng.uniform(0.1, 1, (10, 10))
    np.fill_diagonal(w, 0)
    rewired = flow.graph._rewired(w, np.random.default_rng(0))
    assert np.array_equal((rewired > 0).sum(0), (w > 0).sum(0)) and np.array_equal((rewired > 0).sum(1), (w > 0).sum(1))
    assert sorted(rewired[rewired > 0]) == pytest.approx(sorted(w[w > 0])) and not np.any(np.diag(rewired))
    assert not np.array_equal(rewired > 0, w > 0)


@pytest.mark.parametrize("call, message", [
    (lambda: flow.trophic_levels(np.ones((2, 3))), "square"),
    (lambda: flow.trophic_levels(-np.ones((2, 2))), "non-negative"),
    (lambda: flow.delayed_information(np.ones((5, 2))), "activity must"),
    (lambda: flow.delayed_information(np.ones((50, 2)), lags=[0]), "lags must"),
    (lambda: flow.delayed_information(np.ones((50, 2)), lags=[1.5]), "lags must"),
    (lambda: flow.delayed_information(np.ones((50, 2)), roles=["input", "bias"]), "roles must"),
    (lambda: flow.delayed_information(np.full((50, 2), np.nan)), "activity must"),
    (lambda: flow.flow_significance(np.ones((50, 2)), "granger"), "measure must"),
    (lambda: flow.flow_significance(np.ones((50, 2)), alpha=2), "alpha must"),
    (lambda: flow.flow_significance(np.ones((50, 2)), correction="holm"), "correction must"),
    (lambda: flow.flow_significance(np.ones((50, 2)), null="pooled"), "null must"),
    (lambda: flow.flow_significance(np.ones((50, 2)), conditions=[5]), "conditions must"),
    (lambda: flow.transfer_entropy(np.ones((50, 2)), condition_time="now"), "condition_time must"),
    (lambda: flow.transfer_entropy(np.ones((50, 2)), history=0), "history must"),
    (lambda: flow.flow_graph(np.ones(3), 3), "table must"),
    (lambda: flow.Choices(measure="granger"), "measure must"),
    (lambda: flow.Choices(into_inputs=1), "into_inputs must"),
    (lambda: flow.driven_chain(1), "units must"),
    (lambda: flow.driven_chain(3, autocorrelation=1.0), "autocorrelation must"),
    (lambda: flow.edge_recovery(pd.DataFrame({"source": [0]}), np.zeros((2, 2))), "table must"),
    (lambda: flow.hidden_io_information(np.ones((50, 3)), ["hidden"] * 3), "roles must"),
    (lambda: flow.direction_sensitivity(np.ones((2, 50, 3)), ["input", "hidden", "output"], variations={"colour": [1]}),
     "variations must"),
])
def test_bad_input_is_rejected(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_one_dimensional_groups_match_sklearn():
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    x = np.random.default_rng(4).normal(size=11)
    for groups in (2, 3, 4):
        ours = flow.graph._groups_1d(x, groups)
        theirs = KMeans(groups, n_init=50, random_state=0).fit_predict(x[:, None])
        inertia = lambda labels: sum(((x[labels == g] - x[labels == g].mean()) ** 2).sum()  # noqa: E731
                                     for g in np.unique(labels))
        assert inertia(ours) <= inertia(theirs) + 1e-12
        assert flow.graph._silhouette(x, ours) == pytest.approx(silhouette_score(x[:, None], ours))


def chain_sequences(sequences=150, steps=8, seed=0):
    """Short independent trials of the chain x → a → b (each starts from a fresh random state):
    (sequences, steps, 3). The first step of every trial is unrelated to the last of the one before."""
    rng = np.random.default_rng(seed)
    out = np.zeros((sequences, steps, 3))
    out[:, 0] = rng.normal(size=(sequences, 3))
    for t in range(1, steps):
        out[:, t, 0] = rng.normal(size=sequences)
        out[:, t, 1] = np.tanh(1.5 * out[:, t - 1, 0]) + 0.3 * rng.normal(size=sequences)
        out[:, t, 2] = 0.9 * out[:, t - 1, 1] + 0.3 * rng.normal(size=sequences)
    return out


def test_sequence_flow_uses_transitions_inside_sequences_only():
    activity = chain_sequences()
    table = flow.sequence_flow(activity, ["input", "hidden", "output"], surrogates=19).set_index(["source", "target"])
    # reference: the per-sequence pairs built by hand, one Frenzel–Pompe estimate
    before, after = activity[:, :-1].reshape(-1, 3), activity[:, 1:].reshape(-1, 3)
    reference = ksg.conditional_mutual_information(before[:, 1], after[:, 2], before[:, 2])
    assert table.loc[(1, 2), "value"] == pytest.approx(reference, abs=1e-3)
    joined = activity.reshape(-1, 3)  # the sequences glued end to end: transitions across boundaries
    glued = flow.transfer_entropy(joined, [1]).set_index(["source", "target"]).loc[(1, 2), "value"]
    assert glued != pytest.approx(reference, abs=1e-6)
    edges = set(table.index[table["significant"]])
    assert {(0, 1), (1, 2)} <= edges and not edges & {(1, 0), (2, 1), (2, 0)}
    pooled = flow.sequence_flow(activity, surrogates=10, null="target").set_index(["source", "target"])
    assert pooled["value"].to_numpy() == pytest.approx(table["value"].to_numpy())
    assert pooled["p_value"].min() == pytest.approx(1 / (1 + 10 * 2))  # 10 surrogates × 2 sources per target
    edges = set(pooled.index[pooled["significant"]])
    assert {(0, 1), (1, 2)} <= edges and not edges & {(1, 0), (2, 1), (2, 0)}


def test_path_nodes_of_a_hand_built_graph():
    # 0 input → 1 → 2 → 4 output; 0 → 2 directly (wide); 0 → 3 (a dead end); 5 isolated; 4 → 1
    w = np.zeros((6, 6))
    w[0, 1], w[1, 2], w[2, 4], w[0, 2], w[0, 3], w[4, 1] = 2.0, 0.5, 1.0, 3.0, 1.0, 0.2
    roles = ["input", "hidden", "hidden", "hidden", "output", "hidden"]
    table = flow.path_nodes(w, roles)
    assert table["on_path"].tolist() == [True, True, True, False, True, False]
    assert table["from_input"].tolist() == [True, True, True, True, True, False]
    # widest input → 1 is 2 (direct); 1 → output: 1 → 2 → 4, bottleneck 0.5
    # 2: input → 2 direct (3), 2 → 4 (1): width 1; the input: widest path to the output 0 → 2 → 4 = 1
    assert table["width"].to_numpy() == pytest.approx([1.0, 0.5, 1.0, 0.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="roles must name"):
        flow.path_nodes(w, ["hidden"] * 6)
    with pytest.raises(ValueError, match="activity must"):
        flow.sequence_flow(np.ones((4, 1, 3)))



def test_flow_graph_chart_points_each_arrowhead_along_its_edge():
    from irn.plots import flow as fplots

    levels = pd.DataFrame({"neuron": [0, 1, 2], "role": ["input", "hidden", "output"], "level": [0.0, 1.0, 1.0]})
    edges = pd.DataFrame({"source": [0, 1], "target": [1, 2], "weight": [0.5, 0.2]})
    chart = fplots.flow_graph_chart(levels, edges, "a graph")
    heads = chart.layer[1].data.set_index(["source", "target"])
    # 1 → 2 is straight up the page (same level, the output row above): the triangle is not turned
    assert heads.loc[(1, 2), "angle"] == pytest.approx(0.0)
    # 0 → 1 climbs to the right: turned clockwise by less than a right angle
    assert 0 < heads.loc[(0, 1), "angle"] < 90
    assert heads.loc[(0, 1), "edge"] == "input → hidden" and chart.to_dict()  # a valid Vega-Lite spec


def test_direction_table_has_one_cell_per_comparison():
    from irn.plots import flow as fplots

    rows = pd.DataFrame({"measure": "transfer", "network": "fully recurrent network",
                         "comparison": ["output − hidden", "hidden − input"], "difference": [-0.3, 0.6],
                         "low": [-0.5, 0.4], "high": [-0.1, 0.8], "p_value": [0.0004, 0.02], "n": 8})
    table = fplots.direction_table(rows, {"transfer": "contradicted"})
    assert list(table.columns) == ["output − hidden", "hidden − input", "verdict"]
    assert table.iloc[0, 0] == "-0.30 [-0.50, -0.10], p < 0.001" and table.iloc[0, 1].endswith("p = 0.020")
    assert table.index[0] == ("TE", "fully recurrent")


def test_path_groups_marks_nodes_on_and_off_the_flow_path():
    rng = np.random.default_rng(0)
    out = np.zeros((150, 8, 4))  # x → a → output, b is noise off every path
    out[:, 0] = rng.normal(size=(150, 4))
    for t in range(1, 8):
        out[:, t, 0] = rng.normal(size=150)
        out[:, t, 1] = np.tanh(1.5 * out[:, t - 1, 0]) + 0.3 * rng.normal(size=150)
        out[:, t, 2] = rng.normal(size=150)
        out[:, t, 3] = 0.9 * out[:, t - 1, 1] + 0.3 * rng.normal(size=150)
    table = flow.path_groups(out, ["input", "hidden", "hidden", "output"], [0], surrogates=19)
    assert table["marked"].tolist() == [True, False] and table["has_path"].all()
    assert table.loc[0, "on_path"] and table.loc[0, "width"] > 0.3 and table.loc[1, "width"] == 0


def test_network_activity_records_inputs_hidden_and_outputs():
    import torch

    from irn.models import Stacked

    model = Stacked("gru", 2, 3, 4, seeds=[0, 1])
    inputs = torch.randn(5, 6, 3)
    recorded = flow.network_activity(model, inputs)
    assert recorded.values.shape == (2, 5, 6, 3 + 4 + 3)
    assert list(recorded.roles) == ["input"] * 3 + ["hidden"] * 4 + ["output"] * 3
    with torch.no_grad():
        trace = model(inputs)
    np.testing.assert_allclose(recorded.values[1, :, :, 3:7], trace.hidden[1].numpy(), rtol=1e-6)
    np.testing.assert_allclose(recorded.values[0, :, :, :3], inputs.numpy(), rtol=1e-6)
