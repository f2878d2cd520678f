"""The tests behind the verdicts of chapters 2–7 (irn.verdicts), their controls, and the analyses they
read (analysis.relay_statistics, layer_relay, top_share) — each against an independent reference: a
hand count, irn.relay's own functions, or a planted case whose answer is known."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from irn import analysis, claims, dynamics, relay, verdicts
from irn.plots import summary as summary_plots


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", relay.RelayEntropyWarning)
        yield


# -- the planted cases ----------------------------------------------------------------------------
def test_planted_recording_puts_each_concept_on_its_copies():
    rec = verdicts.planted_recording(3, copies=4, repeats=2, seed=5)
    assert rec.hidden.shape == (3, 16, 1, 12) and rec.x_out.shape == (3, 3, 16)
    bits = relay.binarize(rec.hidden[:, :, 0], "sign")
    for r in range(3):  # every node equals one concept's bit, each concept on exactly 4 nodes
        owners = [next(c for c in range(3) if (bits[r, :, j] == rec.x_in[c]).all()) for j in range(12)]
        assert sorted(np.bincount(owners)) == [4, 4, 4]


def test_greedy_is_optimal_on_the_planted_recording_and_a_blind_order_is_not():
    """The controls of chapter 3: exhaustive search finds nothing better than the greedy set on the planted
    recording (I_R is 1 bit exactly when the set holds all copies), and beats a random order."""
    rec = verdicts.planted_recording(2, seed=1)
    found = analysis.relay_statistics(rec, 0, method="sign", shuffles=5, seed=0)
    assert (found.gaps.n_better == 0).all() and np.allclose(found.gaps.gap, 0)
    assert found.random_gaps.n_better.sum() > 0
    evidence = verdicts.greedy(found.gaps)
    assert (evidence.supported, evidence.contradicted, evidence.total) == (6, 0, 6) and evidence.effect == 0
    blind = verdicts.greedy(found.random_gaps)
    assert blind.supported < 6 and blind.contradicted > 0


def test_relay_statistics_agrees_with_the_relay_functions():
    rec = verdicts.planted_recording(1, copies=3, repeats=3, noise=0.8, seed=2)  # noise: a search that can err
    found = analysis.relay_statistics(rec, 0, method="sign", shuffles=20, seed=3)
    bits = relay.binarize(rec.hidden[:, :, 0], "sign")[0]
    for c, name in enumerate(rec.concepts):
        expected = relay.greedy_gap(relay.greedy(rec.x_in[c], rec.x_out[0, c], bits),
                                    relay.exhaustive(rec.x_in[c], rec.x_out[0, c], bits))
        got = found.gaps[found.gaps.concept == name].reset_index(drop=True)
        assert np.allclose(got[["greedy", "best", "fraction_better"]], expected[["greedy", "best", "fraction_better"]])
        null = relay.relay_null(rec.x_in[c], rec.x_out[0, c], bits, shuffles=20, seed=3)
        row = found.nulls[found.nulls.concept == name].iloc[0]
        assert row.relay == pytest.approx(null.observed) and row.p_value == pytest.approx(null.p_value)
    with pytest.raises(ValueError, match="step"):
        analysis.relay_statistics(rec, 4)


def test_layer_relay_matches_eq_1_and_the_information_left():
    """alone = I(X_in; X_out) − I(X_in; X_out | layer); unique = I_R of the layer's nodes (Eq. 1)."""
    from irn import info

    rec = verdicts.planted_recording(2, copies=2, repeats=3, noise=0.7, seed=4)
    layer = np.array([0, 0, 0, 1, 1, 1])
    rec = analysis.Recording(None, rec.hidden, rec.x_in, rec.x_out, rec.state, None, rec.correct, rec.concepts,
                             rec.labels, answer_step=rec.answer_step, layer=layer)
    got = analysis.layer_relay(rec, [0], method="sign")
    bits = relay.binarize(rec.hidden[:, :, 0], "sign")
    for row in got.itertuples():
        c = rec.concepts.index(row.concept)
        x_in, x_out, y = rec.x_in[c], rec.x_out[row.replicate, c], bits[row.replicate]
        nodes = np.flatnonzero(layer == row.layer)
        assert row.unique == pytest.approx(relay.relay_information(x_in, x_out, y, nodes), abs=1e-12)
        alone = info.mutual_information(x_in, x_out) - info.conditional_mutual_information(x_in, x_out, y[:, nodes])
        assert row.alone == pytest.approx(alone, abs=1e-12)
        assert row.all_nodes == pytest.approx(relay.relay_information(x_in, x_out, y, np.arange(6)), abs=1e-12)
    with pytest.raises(ValueError, match="rec"):
        analysis.layer_relay("not a recording", [0])


def test_top_share_splits_ties_at_the_edge_of_the_set():
    frame = pd.DataFrame({"replicate": 0, "step": 0, "concept": "A", "node": np.arange(4),
                          "layer": [0, 0, 1, 1], "contribution": [0.0, 0.0, 0.0, 0.0]})
    even = analysis.top_share(frame, 2).set_index("layer").share
    assert even.tolist() == [0.5, 0.5]  # all tied: each layer its share of the nodes, not the highest indices
    frame["contribution"] = [0.9, 0.1, 0.1, 0.1]  # node 0 in; nodes 1–3 tie for the last place
    split = analysis.top_share(frame, 2).set_index("layer").share
    assert split.loc[0] == pytest.approx(0.5 + 0.5 / 3) and split.loc[1] == pytest.approx(2 * 0.5 / 3)
    with pytest.raises(ValueError, match="top"):
        analysis.top_share(frame, 9)


def test_latch_network_holds_each_concept_on_its_latches():
    from irn import knockout, tasks

    net = verdicts.latch_network(4, seed=2)
    batch = tasks.distinct("memory", 5)
    assert (knockout.accuracy(net, task="memory", delay=5).accuracy == 1).all()
    lost = knockout.accuracy(net, [list(net.latches[r, 0]) for r in range(4)], task="memory", delay=5)
    assert (lost[lost.concept == "A"].accuracy == 0.5).all() and (lost[lost.concept != "A"].accuracy == 1).all()
    kept = knockout.accuracy(net, [list(net.latches[r, 0, :2]) for r in range(4)], task="memory", delay=5)
    assert (kept.accuracy == 1).all() and len(batch) == 8  # one latch left holds the concept


def test_shuffled_ranks_moves_values_to_other_nodes():
    frame = verdicts.planted_relay_frame(3, {"arch": "rnn", "task": "memory", "delay": "1"}, steps=[0, 1], seed=1)
    moved = verdicts.shuffled_ranks(frame, seed=2)
    keys = ["replicate", "step", "concept"]
    assert np.allclose(np.sort(moved.groupby(keys).contribution.apply(np.sort).explode().astype(float)),
                       np.sort(frame.groupby(keys).contribution.apply(np.sort).explode().astype(float)))
    assert (moved.sort_values([*keys, "node"]).contribution.to_numpy()
            != frame.sort_values([*keys, "node"]).contribution.to_numpy()).any()


def test_planted_relay_frame_moves_or_keeps_its_carriers():
    labels = {"arch": "rnn", "task": "memory", "delay": "1"}
    still = dynamics.stability(verdicts.planted_relay_frame(2, labels, steps=range(10, 13), noise=0.0, seed=0))
    moving = dynamics.stability(verdicts.planted_relay_frame(2, labels, steps=range(10, 13), move=True, noise=0.0))
    assert (still.overlap == 1).all() and (moving.overlap == 0).all()
    shared = dynamics.smearing_summary(dynamics.smearing(
        verdicts.planted_relay_frame(2, labels, steps=[10], shared=1, noise=0.0), step=10))
    assert (shared.shared > 0).all()


# -- the counts ------------------------------------------------------------------------------------
def test_controls_pass_where_they_must():
    pairs = [("rnn", "memory"), ("gru", "memory"), ("lstm", "block")]
    groups = [verdicts.knockout_controls(12, seed=1), verdicts.architecture_controls("r", 10, seed=1),
              verdicts.architecture_controls("overlap", 10, seed=1), verdicts.random_delay_controls(10, seed=1),
              verdicts.smearing_controls("spread", 10, pairs, 10), verdicts.smearing_controls("several", 10, pairs, 10),
              verdicts.separation_controls(10, 0.1), verdicts.removal_controls(10, seed=1)]
    for positive, negative in groups:
        assert positive.positive and not negative.positive
        assert positive.passed() and negative.passed(), (positive, negative)
    tiny = verdicts.knockout_controls(4)[0]  # 4 replicates: a signed-rank test cannot reach p < 0.05
    assert not tiny.passed()


def test_generalisation_counts_and_relabelling():
    rng = np.random.default_rng(0)
    rows = []
    for regime, mean in (("random", 0.9), ("1", 0.6), ("2", 0.6)):
        for r in range(8):
            for d in (0, 1, 2, 6, 9):
                rows.append({"arch": "rnn", "task": "memory", "delay": regime, "replicate": r, "eval_delay": d,
                             "accuracy": float(np.clip(mean + rng.normal(0, 0.02), 0, 1))})
    accuracy = pd.DataFrame(rows)
    found = verdicts.generalisation(accuracy)
    assert (found.supported, found.total) == (1, 1) and found.effect == pytest.approx(0.3, abs=0.03)
    null = verdicts.relabelled_regime(accuracy, 0.0, seed=1)
    assert (null.delay == "random").sum() == 8 * 5 and len(null) == 16 * 5  # 8 of 16 fixed networks moved
    positive, negative = verdicts.generalisation_controls(accuracy, gain=0.5, seed=1)
    assert positive.passed() and negative.passed()


def test_majority_rule_uses_the_interval_against_one_half():
    rows = [{"arch": "rnn", "task": t, "delay": "random", "replicate": r, "share": v}
            for t, v in (("memory", 0.9), ("block", 0.1)) for r in range(10)]
    frame = pd.DataFrame(rows)
    found = verdicts._majority(frame, "share", "share")
    assert (found.supported, found.contradicted, found.total) == (1, 1, 2) and found.effect == pytest.approx(0.5)


def test_separation_counts_collapsed_pairs_against_the_claim():
    sep = pd.DataFrame({"separation": [0.5, 0.2, 0.05, 0.001]})
    found = verdicts.separation(sep, 0.1)
    assert (found.supported, found.contradicted, found.total) == (2, 1, 4)


def test_report_and_phrase(tmp_path):
    evidence = claims.Evidence(5, 6, 0, 0.2, 0.1, 0.3, "drop")
    controls = [claims.Control("planted", True, claims.Evidence(2, 2)), claims.Control("null", False, claims.Evidence(0, 2))]
    claim = claims.record("knockout_hits_own_concept", evidence, "x", controls=controls, directory=tmp_path)
    text = verdicts.report(claim).text
    assert claim.verdict == "partly" and "**Verdict: partly.**" in text and "found the planted effect" in text
    failing = [claims.Control("planted", True, claims.Evidence(0, 2)), controls[1]]
    claim = claims.record("knockout_hits_own_concept", evidence, "x", controls=failing, directory=tmp_path)
    assert claim.verdict == claims.NO_VERDICT and "**missed**" in verdicts.report(claim).text
    assert claim.stats["controls"][0] == {"planted": "planted", "positive": True, "supported": 0, "contradicted": 0,
                                          "total": 2, "effect": None, "passed": False}
    assert verdicts.phrase("partly") == "is **partly** reproduced"
    assert verdicts.verdict_of("pca_resolves_states", claims.Evidence(18, 20)) == "reproduced"
    with pytest.raises(ValueError, match="verdict"):
        verdicts.phrase("maybe")


def test_summary_table_export_and_chart_show_every_claim(tmp_path, monkeypatch):
    claims.record("pca_resolves_states", claims.Evidence(18, 20, 0, 0.3, 0.2, 0.4, "separation"), "18 of 20",
                  controls=[claims.Control("circle", True, claims.Evidence(20, 20))], parameters={"fast": True},
                  directory=tmp_path)
    later = claims.ClaimSpec("4b", "irn", "A claim another chapter adds.", "c", "t", "f", "d")
    monkeypatch.setitem(claims.REGISTRY, "some_later_claim", later)
    claims.record("some_later_claim", claims.Evidence(0, 9, 9), "42", directory=tmp_path)
    monkeypatch.delitem(claims.REGISTRY, "some_later_claim")
    table = claims.load_claims(tmp_path)
    export = claims.export_table(table)
    assert list(export.columns) == claims.EXPORT_COLUMNS and len(export) == len(claims.REGISTRY) + 1
    row = export.set_index("claim_id").loc["pca_resolves_states"]
    assert (row.supported, row.total, row.fast, row.controls) == (18, 20, True, "planted effect found")
    assert export.set_index("claim_id").loc["some_later_claim"].chapter == "4b"
    assert math.isnan(export.set_index("claim_id").loc["ena_flipflop_cube"].effect)
    shown = claims.summary_table(table).set_index("claim")
    assert shown.loc[claims.REGISTRY["pca_resolves_states"].statement, "controls"] == "planted effect found"
    assert shown.loc["A claim another chapter adds.", "controls"] == "none shown"
    chart = summary_plots.verdict_map(export).to_dict()
    data = pd.DataFrame(next(iter(chart["datasets"].values())))
    assert len(data) == len(export) and set(data.verdict) <= set(summary_plots.VERDICT_COLORS)
    assert chart["width"] <= 740 - 120  # the longest row plus its labels fits the text column
