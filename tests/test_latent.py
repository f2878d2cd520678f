"""Latent space: the batched PCA and cluster scores equal scikit-learn's, rank well-separated
clusters above mixed ones, survive degenerate data, and node removal follows the relay order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn import metrics
from sklearn.decomposition import PCA

from irn import analysis, latent, tasks
from irn.models import Stacked
from irn.train import Condition, TrainConfig, Trained

HIDDEN = 12
PAIRS = [[0, 1], [2, 3], [4, 5]]  # planted: concept k (A, B, C) held in nodes PAIRS[k]


def eight_clusters(seed=0, per=20, spread=0.05):
    """Points around the 8 corners of a cube in 12-D (3 informative dims + 9 of small noise)."""
    rng = np.random.default_rng(seed)
    state = np.repeat(np.arange(8), per)
    corners = ((state[:, None] >> np.arange(3)) & 1) * 2.0 - 1.0
    points = np.concatenate([corners, np.zeros((len(state), HIDDEN - 3))], axis=1)
    return points + rng.normal(0, spread, points.shape), state


@pytest.mark.parametrize("k", [2, 3, 8])
@pytest.mark.parametrize("dims", [1, 2, 5])
def test_scores_equal_sklearn(k, dims):
    rng = np.random.default_rng(k * 10 + dims)
    points = rng.normal(size=(4, 30, dims))
    labels = np.r_[np.arange(k), rng.integers(0, k, 30 - k)]
    got = latent.cluster_scores(points, labels)
    for i in range(4):
        assert got.silhouette[i] == pytest.approx(metrics.silhouette_score(points[i], labels), abs=1e-12)
        assert got.davies_bouldin[i] == pytest.approx(metrics.davies_bouldin_score(points[i], labels), rel=1e-7)
        assert got.calinski_harabasz[i] == pytest.approx(metrics.calinski_harabasz_score(points[i], labels), rel=1e-10)


def test_singleton_cluster_silhouette_is_zero_as_in_sklearn():
    points = np.array([[0.0], [0.1], [0.2], [5.0]])
    labels = np.array([0, 0, 0, 1])
    assert latent.cluster_scores(points, labels).silhouette == pytest.approx(
        metrics.silhouette_score(points, labels))


def test_projection_equals_sklearn_up_to_sign():
    hidden, _ = eight_clusters()
    proj = latent.project(np.stack([hidden, hidden[::-1]]), 2)
    ref = PCA(2).fit(hidden)
    assert proj.points.shape == (2, len(hidden), 2)
    np.testing.assert_allclose(np.abs(proj.points[0]), np.abs(ref.transform(hidden)), atol=1e-10)
    np.testing.assert_allclose(proj.explained[0], ref.explained_variance_ratio_, atol=1e-12)
    np.testing.assert_allclose(proj.explained[1], proj.explained[0], atol=1e-12)


def test_separated_clusters_score_better_than_mixed():
    hidden, state = eight_clusters()
    points = latent.project(hidden, 2).points
    shuffled = np.random.default_rng(1).permutation(state)
    for labels, mixed in ((state, shuffled), (state & 1, shuffled & 1)):
        good, bad = latent.cluster_scores(points, labels), latent.cluster_scores(points, mixed)
        assert good.silhouette > bad.silhouette
        assert good.davies_bouldin < bad.davies_bouldin
        assert good.calinski_harabasz > bad.calinski_harabasz
    assert latent.cluster_scores(hidden, state).silhouette > 0.8


def test_fewer_than_two_nodes():
    hidden, state = eight_clusters()
    one = latent.project(hidden[:, :1], 2)
    assert one.points.shape == (len(hidden), 1) and one.explained == pytest.approx([1.0])
    scores = latent.cluster_scores(one.points, state & 1)  # node 0 carries concept A
    assert scores.silhouette > 0.9
    with pytest.raises(ValueError, match="hidden"):
        latent.project(hidden[:, :0], 2)


def test_degenerate_clusters_give_nan_not_crash():
    same = np.ones((8, 2))
    labels = np.repeat([0, 1], 4)
    s = latent.cluster_scores(same, labels)
    assert np.isnan([s.silhouette, s.davies_bouldin, s.calinski_harabasz]).all()
    assert np.isnan(latent.project(same, 2).explained).all()
    two_points = np.repeat([[0.0, 0.0], [1.0, 2.0]], 4, axis=0)  # no spread inside the clusters
    s = latent.cluster_scores(two_points, labels)
    assert s.silhouette == 1.0 and s.davies_bouldin == 0.0 and np.isnan(s.calinski_harabasz)
    same_centre = np.array([[-1.0], [1.0], [-1.0], [1.0], [-2.0], [2.0], [-2.0], [2.0]])
    s = latent.cluster_scores(same_centre, labels)
    assert np.isnan(s.davies_bouldin) and np.isfinite(s.silhouette)


def test_bad_inputs_raise():
    hidden, state = eight_clusters()
    with pytest.raises(ValueError, match="labels"):
        latent.cluster_scores(hidden, np.zeros(len(hidden)))  # one cluster
    with pytest.raises(ValueError, match="labels"):
        latent.cluster_scores(hidden, state[:-1])
    with pytest.raises(ValueError, match="labels"):
        latent.cluster_scores(hidden[:8], np.arange(8))  # every point its own cluster
    with pytest.raises(ValueError, match="components"):
        latent.project(hidden, 0)
    with pytest.raises(ValueError, match="draws"):
        latent.random_orders(2, 0, 12)


def test_random_orders_are_permutations():
    orders = latent.random_orders(3, 50, HIDDEN, seed=4)
    assert orders.shape == (3, 50, HIDDEN)
    assert (np.sort(orders, axis=-1) == np.arange(HIDDEN)).all()
    assert len({tuple(o) for o in orders.reshape(-1, HIDDEN)}) > 100  # not one order repeated
    np.testing.assert_array_equal(orders, latent.random_orders(3, 50, HIDDEN, seed=4))


def planted_trained(replicates=2) -> Trained:
    """Memory-task RNNs holding concept k in nodes PAIRS[k] (self-loops; A largest, C smallest
    in size so the PCA is not isotropic); the other nodes stay 0."""
    model = Stacked("rnn", replicates, 3, HIDDEN)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        for r in range(replicates):
            for k, nodes in enumerate(PAIRS):
                for n in nodes:
                    model.weight_ih[r, n, k] = 1.5 - 0.4 * k
                    model.weight_hh[r, n, n] = 1.0
                    model.readout_weight[r, k, n] = 2.0
    return Trained(Condition("rnn", "memory", "random"), TrainConfig(replicates=replicates), model,
                   epochs=[0] * replicates, restarts=[0] * replicates, seeds=list(range(replicates)),
                   accuracy=[1.0] * replicates)


@pytest.fixture(scope="module")
def planted():
    trained = planted_trained()
    # k-means binarisation: exact for these two-valued nodes
    relay = analysis.relay_frame(trained, steps=[analysis.RELAY_STEP], samples=400, method="kmeans")
    return trained, relay, latent.removal_scores(trained, relay, draws=20, seed=1)


def test_hidden_states_are_the_distinct_sequences(planted):
    states = latent.hidden_states(planted[0])
    assert states.hidden.shape == (2, 8, HIDDEN)
    assert sorted(states.state) == list(range(8))
    np.testing.assert_array_equal(states.bits, (tasks.patterns("memory").targets.T > 0))


def test_relay_orders_remove_the_concepts_own_nodes_last(planted):
    trained, relay, _ = planted
    orders = latent.relay_orders(relay, latent.hidden_states(trained))
    assert orders.shape == (2, 3, HIDDEN)
    assert (np.sort(orders, axis=-1) == np.arange(HIDDEN)).all()
    for k, nodes in enumerate(PAIRS):
        assert set(orders[:, k, -2:].ravel()) == set(nodes)


def test_removal_scores_table(planted):
    _, _, scores = planted
    assert list(scores.columns) == ["arch", "task", "delay", "replicate", "concept", "order", "draw",
                                    "removed", "score", "value"]
    assert set(scores.removed) == set(range(HIDDEN))
    counts = scores.groupby(["order", "score"]).size()
    assert (counts.loc["relay"] == 2 * 3 * HIDDEN).all()
    assert (counts.loc["random"] == 2 * 3 * 20 * HIDDEN).all()
    # with all nodes the orders agree; with only its own pair left a concept separates perfectly
    first = scores[scores.removed == 0].groupby(["concept", "score"]).value.agg(["min", "max"])
    np.testing.assert_allclose(first["min"], first["max"], atol=1e-9)
    last = scores[(scores.order == "relay") & (scores.removed == HIDDEN - 2)]
    assert (last[last.score == "silhouette"].value == 1.0).all()
    assert (last[last.score == "davies_bouldin"].value == 0.0).all()


def test_relay_order_separates_where_random_orders_do_not(planted):
    _, _, scores = planted
    late = scores[(scores.removed == HIDDEN - 2) & (scores.score == "silhouette")]
    means = late.groupby("order").value.mean()
    assert means["relay"] == 1.0 and means["random"] < 0.8


def test_score_curves(planted):
    curves = latent.score_curves(planted[2])
    assert (curves.score == "silhouette").sum() == 3 * 2 * HIDDEN and (curves.n <= 2).all()
    # a Davies–Bouldin of 0 (the concept's own pair left, no spread) has no logarithm: left out
    db = curves[(curves.score == "davies_bouldin") & (curves.order == "relay")]
    assert HIDDEN - 2 not in set(db.removed) and 0 in set(db.removed)
    assert set(curves[curves.scale == "log"].score) == set(latent.LOG_SCALE)
    assert (curves.lo <= curves["mean"] + 1e-12).all() and (curves["mean"] <= curves.hi + 1e-12).all()
    sil = curves[(curves.score == "silhouette") & (curves.order == "relay") & (curves.removed == HIDDEN - 2)]
    assert (sil["mean"] == 1.0).all()
    with pytest.raises(ValueError, match="removal_scores"):
        latent.score_curves(pd.DataFrame({"value": [1.0]}))


def test_relay_curves_follow_the_greedy_curve(planted):
    _, relay, scores = planted
    curves = latent.relay_curves(relay)
    assert set(curves.removed) == set(scores.removed) and (curves.n == 2).all()
    by = curves.set_index(["concept", "removed"])["mean"]
    for concept in ("A", "B", "C"):
        rows = relay[relay.concept == concept]
        assert by[(concept, 0)] == pytest.approx(rows.relay.mean())
        # the concept's own two nodes are removed last: its information stays until one goes,
        # and the last node relays nothing its removed twin did not already hold
        assert by[(concept, HIDDEN - 2)] == pytest.approx(by[(concept, 0)], abs=0.02) and by[(concept, 0)] > 0.9
        assert by[(concept, HIDDEN - 1)] == pytest.approx(0.0, abs=1e-9)
        # after m removals: the relay_after of each replicate's node of rank m − 1
        m = 5
        assert by[(concept, m)] == pytest.approx(rows[rows["rank"] == m - 1].relay_after.mean())
    with pytest.raises(ValueError, match="step"):
        latent.relay_curves(relay, step=3)
    with pytest.raises(ValueError, match="relay_after"):
        latent.relay_curves(relay.drop(columns="relay_after"))


def test_area_and_test_sign_follow_each_scores_direction():
    """better > 0 means the relay order separates better: higher silhouette / CH, lower DB."""
    rows = []
    for replicate in range(6):
        for removed in range(3):
            for score, relay_value, random_value in (("silhouette", 0.6, 0.2), ("davies_bouldin", 0.5, 1.5),
                                                     ("calinski_harabasz", 2.0, 9.0)):
                for order, draws, value in (("relay", [0], relay_value), ("random", [0, 1], random_value)):
                    rows += [("rnn", "memory", "random", replicate, "A", order, d, removed, score,
                              value + 0.01 * replicate + 0.1 * d) for d in draws]
    scores = pd.DataFrame(rows, columns=["arch", "task", "delay", "replicate", "concept", "order", "draw",
                                         "removed", "score", "value"])
    area = latent.removal_area(scores)
    assert len(area) == 6 * 3
    better = area.groupby("score").better.mean()
    assert better["silhouette"] == pytest.approx(0.6 - 0.25)
    assert better["davies_bouldin"] == pytest.approx(1.55 - 0.5)
    assert better["calinski_harabasz"] == pytest.approx(2.0 - 9.05)
    test = latent.removal_test(area).set_index("score")
    assert (test.n == 6).all() and (test.p_value < 0.05).all()
    assert test.loc["davies_bouldin", "better"] > 0 > test.loc["calinski_harabasz", "better"]
    assert dict(zip(test.index, test.higher_is_better)) == latent.HIGHER_IS_BETTER


def test_state_separation_and_frames(planted):
    trained, relay, _ = planted
    states = latent.hidden_states(trained)
    sep = latent.state_separation(states)
    assert len(sep) == 2 and (sep.separation > 0).all() and (sep.separation <= 1).all()
    frame = latent.projection_frame(states, replicates=[1])
    assert len(frame) == 8 and set(frame.replicate) == {1} and {"pc1", "pc2", "label", "A"} <= set(frame)
    panels = latent.removal_projection(states, relay, replicate=0, removed=(0, 11))
    assert len(panels) == 3 * 2 * 8 and (panels[panels.removed == 11].pc2 == 0).all()
    with pytest.raises(ValueError, match="replicates"):
        latent.projection_frame(states, replicates=[5])
    with pytest.raises(ValueError, match="removed"):
        latent.removal_projection(states, relay, removed=(12,))


def test_removal_inputs_are_checked(planted):
    trained, relay, scores = planted
    with pytest.raises(ValueError, match="relay"):
        latent.removal_scores(trained, relay[relay.concept != "B"])
    with pytest.raises(ValueError, match="relay"):
        latent.removal_scores(trained, relay.drop(columns="rank"))
    with pytest.raises(ValueError, match="draws"):
        latent.removal_scores(trained, relay, draws=0)
    with pytest.raises(ValueError, match="step"):
        latent.hidden_states(trained, step=99)
    with pytest.raises(ValueError, match="orders"):
        latent.removal_area(scores[scores.order == "relay"])
    with pytest.raises(ValueError, match="removal_scores"):
        latent.removal_area(pd.DataFrame({"value": [1.0]}))


def test_removal_scores_take_the_states_of_any_recording():
    import torch

    from irn import analysis
    from irn.models import Stacked

    model = Stacked("rnn", 2, 2, 3, n_outputs=2, layers=2, seeds=[0, 1])
    x = torch.randn(60, 4, 2)
    targets = np.sign(np.random.default_rng(0).normal(size=(60, 2)))
    rec = analysis.record_model(model, x, targets, 3)
    states = latent.states_of(rec, 3)
    assert states.hidden.shape == (2, 60, 6) and states.concepts == ("0", "1")
    relay_table = analysis.relay_of_recording(rec, [3])
    scores = latent.removal_scores(states, relay=relay_table, draws=3)
    assert set(scores.removed) == set(range(6)) and set(scores.concept) == {"0", "1"}
    with pytest.raises(ValueError, match="relay must be given"):
        latent.removal_scores(states)
    with pytest.raises(ValueError, match="step"):
        latent.states_of(rec, 4)
