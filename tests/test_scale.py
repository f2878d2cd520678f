"""Relay at scale (DESIGN §14): the fast kernel, the guard, the probe remedy."""

import contextlib
import warnings

import numpy as np
import pytest

from irn import relay
from irn.info import conditional_mutual_information


@contextlib.contextmanager
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", relay.RelayEntropyWarning)
        yield


def _reference_greedy(x_in, x_out, bits):
    """Greedy straight from the definition with irn.info (independent of the kernel)."""
    nodes = list(range(bits.shape[1]))
    full = conditional_mutual_information(x_in, x_out, bits)
    relay_set, order, curve = list(nodes), [], [conditional_mutual_information(x_in, x_out, bits[:, []]) - full]
    while len(relay_set) > 1:
        values = []
        for j in relay_set:
            rest = [k for k in nodes if k not in relay_set or k == j]
            values.append(conditional_mutual_information(x_in, x_out, bits[:, sorted(rest)]) - full)
        best = max(values)
        pick = next(i for i, v in enumerate(values) if v >= best - relay.TIE_TOLERANCE)
        order.append(relay_set.pop(pick))
        curve.append(values[pick])
    return np.array(order + relay_set), np.array(curve)


@pytest.mark.parametrize("samples,nodes,seed", [(300, 10, 0), (2000, 24, 1), (500, 16, 2)])
def test_kernel_matches_definition_on_high_entropy_states(samples, nodes, seed):
    # planted data: most rows settle after a few removals, so the pruning path is exercised
    data = relay.planted_relays(samples, nodes, relays=3, seed=seed)
    with _quiet():
        result = relay.greedy(data.x_in, data.x_out, data.hidden_bits)
        plain = relay.greedy_many(data.x_in[None], data.x_out[None], data.hidden_bits[None], deduplicate=False)
    order, curve = _reference_greedy(data.x_in, data.x_out, data.hidden_bits)
    np.testing.assert_array_equal(result.order, order)
    np.testing.assert_allclose(result.curve, curve, atol=1e-9)
    np.testing.assert_array_equal(plain.order[0], order)


def test_pattern_count_matches_numpy_unique():
    rng = np.random.default_rng(0)
    bits = (rng.random((3, 200, 9)) < 0.3).astype(np.uint8)
    expected = [np.unique(b, axis=0).shape[0] for b in bits]
    np.testing.assert_array_equal(relay.pattern_count(bits), expected)


def test_guard_fires_on_high_entropy_states():
    data = relay.planted_relays(1000, 64, relays=4, seed=0)
    with pytest.warns(relay.RelayEntropyWarning, match=r"1000 distinct binarised patterns among 1000 samples"):
        relay.greedy(data.x_in, data.x_out, data.hidden_bits)
    with pytest.warns(relay.RelayEntropyWarning):
        relay.greedy_many(data.x_in[None], data.x_out[None], data.hidden_bits[None])
    with pytest.warns(relay.RelayEntropyWarning):
        relay.relay_null(data.x_in, data.x_out, data.hidden_bits, shuffles=3)


def test_guard_is_silent_on_low_entropy_states():
    # a paper-like state: 12 nodes driven by 3 concept bits (8 patterns) over 1000 samples
    rng = np.random.default_rng(1)
    concepts = rng.integers(0, 2, (1000, 3))
    hidden = np.tanh((2 * concepts - 1) @ rng.normal(size=(3, 12)))
    bits = relay.binarize(hidden)
    assert relay.pattern_count(bits) <= 8
    with warnings.catch_warnings():
        warnings.simplefilter("error", relay.RelayEntropyWarning)
        relay.greedy(concepts[:, 0], concepts[:, 0], bits)


def test_guard_is_silent_on_a_trained_paper_network(tmp_path):
    from irn import analysis, zoo
    from irn.train import Condition, TrainConfig

    (trained,) = zoo.load_or_train(Condition("gru", "memory", "random"), TrainConfig(replicates=2, max_epochs=400),
                                   zoo=tmp_path, progress=False)
    rec = analysis.record(trained, samples=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", relay.RelayEntropyWarning)
        analysis.relay_of_recording(rec, [analysis.RELAY_STEP])


def test_probe_agrees_with_plug_in_at_twelve_nodes():
    data = relay.planted_relays(2000, 12, relays=4, seed=3)
    with _quiet():
        plug = relay.greedy(data.x_in, data.x_out, data.hidden_bits)
    probe = relay.probe_greedy(data.x_in, data.x_out, data.hidden_bits)
    assert set(plug.order[-4:]) == set(data.relays)
    assert set(probe.order[-4:]) == set(data.relays)
    assert sorted(probe.order.tolist()) == list(range(12))


@pytest.mark.parametrize("nodes", [64, 128])
def test_probe_recovers_planted_relays_where_plug_in_fails(nodes):
    data = relay.planted_relays(4000, nodes, relays=4, seed=5)
    with _quiet():
        plug = relay.greedy(data.x_in, data.x_out, data.hidden_bits)
    probe = relay.probe_greedy(data.x_in, data.x_out, data.hidden_bits)
    assert set(probe.order[-4:]) == set(data.relays)
    assert set(plug.order[-4:]) != set(data.relays)
    # the probe's relay of all nodes matches the plug-in value at low entropy: I(X_in; X_out)
    assert probe.curve[0] == pytest.approx(plug.curve[0], abs=0.05)


def test_planted_relays_shape_and_truth():
    data = relay.planted_relays(500, 20, relays=3, flip=0.0, seed=1)
    assert data.hidden_bits.shape == (500, 20) and data.relays.size == 3
    for r in data.relays:
        np.testing.assert_array_equal(data.hidden_bits[:, r], data.x_in)
    np.testing.assert_array_equal(data.x_out, data.x_in)


@pytest.mark.parametrize("call,match", [
    (lambda: relay.probe_greedy([0, 1, 0, 1], [0, 1, 0, 1], np.zeros((4, 3)), bins=1), "bins"),
    (lambda: relay.planted_relays(100, 4, relays=5), "relays"),
    (lambda: relay.planted_relays(100, 4, flip=0.7), "flip"),
    (lambda: relay.pattern_count(np.full((3, 2), 2)), "binary"),
])
def test_bad_input_is_rejected(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# -- the planted-relay study (irn.relay.planted) -------------------------------------------------
def test_recovered_counts_planted_nodes_among_the_last_survivors():
    assert relay.recovered([5, 4, 3, 2, 1, 0], [0, 1]) == 1.0
    assert relay.recovered([0, 4, 3, 2, 1, 5], [0, 1]) == 0.5
    assert relay.recovered([0, 1, 2, 3, 4, 5], [0, 1]) == 0.0
    with pytest.raises(ValueError, match="relays"):
        relay.recovered([0, 1], [0, 1, 2])


def test_planted_study_matches_the_runs_it_reports():
    study = relay.planted_study([4, 8, 24], [500, 1000], seeds=2, probe_budget=8 ** 2 * 1000, seed=3)
    runs = study.runs
    assert len(runs) == 3 * 2 * 2 and set(runs.columns) >= {"nodes", "samples", "data_set", "patterns", "plug-in",
                                                             "probe", "seconds_plug-in", "seconds_probe"}
    # each run again by hand: the same planted data (seed 1000 * seed + data set) and the public estimators
    for row in runs.to_dict("records"):
        data = relay.planted_relays(row["samples"], row["nodes"], relays=4, seed=3000 + row["data_set"])
        with _quiet():
            plug = relay.greedy(data.x_in, data.x_out, data.hidden_bits)
        assert row["plug-in"] == relay.recovered(plug.order, data.relays)
        assert row["patterns"] == np.unique(data.hidden_bits, axis=0).shape[0]
        if row["nodes"] ** 2 * row["samples"] <= 8 ** 2 * 1000:
            probe = relay.probe_greedy(data.x_in, data.x_out, data.hidden_bits, seed=row["data_set"])
            assert row["probe"] == relay.recovered(probe.order, data.relays)
        else:  # not run beyond the probe's budget
            assert np.isnan(row["probe"]) and np.isnan(row["seconds_probe"])
    means = runs.groupby(["nodes", "samples"])["plug-in"].mean()
    got = study.recovery[study.recovery.method == "plug-in"].set_index(["nodes", "samples"]).recovered
    np.testing.assert_allclose(got.loc[means.index], means)


def test_planted_study_limits_follow_the_hold_rule():
    study = relay.planted_study([4, 8, 12, 64], [1000], seeds=2, probe_budget=7e7)
    curve = study.recovery[study.recovery.method == "plug-in"].sort_values("nodes")
    assert curve[curve.nodes <= 12].recovered.min() >= study.hold  # DESIGN §14: plug-in holds at the paper's size
    assert curve[curve.nodes == 64].recovered.iloc[0] < study.hold  # and fails on random bits at 64 nodes
    assert study.holds_up_to("plug-in", 1000) == 12
    assert study.holds_up_to("probe", 1000) == 64
    assert np.isnan(study.nodes_per_doubling("plug-in"))  # one sample count: no growth to measure
    with pytest.raises(ValueError, match="samples"):
        study.holds_up_to("plug-in", 250)


def test_nodes_per_doubling_is_the_slope_between_the_first_and_last_limit():
    import pandas as pd

    limits = pd.DataFrame({"samples": [250, 1000, 4000, 16000], "method": "plug-in",
                           "holds_up_to": [8.0, 12.0, 16.0, np.nan]})  # no size holds at 16000
    study = relay.PlantedStudy(pd.DataFrame(), pd.DataFrame(), limits, 0.95, 4, 0.1)
    assert study.nodes_per_doubling("plug-in") == pytest.approx((16 - 8) / 4)  # 250 → 4000: four doublings
    assert study.holds_up_to("plug-in", 1000) == 12 and np.isnan(study.holds_up_to("plug-in", 16000))


@pytest.mark.parametrize("kwargs,match", [
    ({"nodes": [4, 4], "samples": [100]}, "nodes"),
    ({"nodes": [4], "samples": [2]}, "samples"),
    ({"nodes": [3, 8], "samples": [100]}, "relays"),
    ({"nodes": [8], "samples": [100], "methods": ["plugin"]}, "methods"),
    ({"nodes": [8], "samples": [100], "seeds": 0}, "seeds"),
    ({"nodes": [8], "samples": [100], "hold": 1.5}, "hold"),
    ({"nodes": [8], "samples": [100], "flip": 0.5}, "flip"),
])
def test_planted_study_refuses_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        relay.planted_study(**kwargs)


# -- the probe's shuffle null ---------------------------------------------------------------------
def test_probe_null_observed_is_the_probe_relay_and_each_shuffle_a_permuted_probe_relay():
    data = relay.planted_relays(400, 10, relays=3, seed=2)
    null = relay.probe_null(data.x_in, data.x_out, data.hidden_bits, shuffles=5, seed=4)
    assert null.observed == pytest.approx(relay.probe_greedy(data.x_in, data.x_out, data.hidden_bits, seed=4).curve[0])
    rng = np.random.default_rng(4)  # the permutations: the same draws as relay_null's
    for k in range(5):
        perm = rng.permutation(400)
        again = relay.probe_greedy(data.x_in[perm], data.x_out[perm], data.hidden_bits, seed=4).curve[0]
        assert null.null[k] == pytest.approx(again, abs=1e-9)
    assert null.p_value == pytest.approx(1 / 6)  # a planted relay beats every shuffle
    assert null.corrected == pytest.approx(null.observed - null.null.mean())


def test_probe_null_sees_a_relay_where_plug_in_cannot():
    data = relay.planted_relays(1000, 64, relays=4, seed=1)
    with _quiet():
        plug = relay.relay_null(data.x_in, data.x_out, data.hidden_bits, shuffles=30)
    probe = relay.probe_null(data.x_in, data.x_out, data.hidden_bits, shuffles=30)
    assert plug.p_value == 1.0  # every sample its own pattern: data and shuffles alike
    assert probe.p_value == pytest.approx(1 / 31) and probe.corrected > 0.3
    independent = relay.probe_null(data.x_in, np.random.default_rng(0).integers(0, 2, 1000), data.hidden_bits,
                                   shuffles=30)
    assert abs(independent.observed) < 0.05  # nothing to relay


# -- planted concepts in recorded states (controls of a relay-above-null test) --------------------
def _paper_like_bits(samples=600, nodes=12, seed=0):
    rng = np.random.default_rng(seed)
    concepts = rng.integers(0, 2, (samples, 3))
    return relay.binarize(np.tanh((2 * concepts - 1) @ rng.normal(size=(3, nodes)) + rng.normal(0, 0.3, (samples, nodes))))


def test_planted_concept_is_relayed_by_its_node_or_independent():
    bits = _paper_like_bits()
    relayed = relay.planted_concept(bits, relayed=True, flip=0.1, seed=1)
    source = bits[:, relayed.node]
    assert 0.85 < (relayed.x_in == source).mean() < 0.95 and 0.85 < (relayed.x_out == source).mean() < 0.95
    share = bits.mean(axis=0)
    assert relayed.node == int(np.argmax(np.minimum(share, 1 - share)))  # the most balanced node
    alone = relay.planted_concept(bits, relayed=False, flip=0.0, seed=1)
    assert alone.node == -1 and np.array_equal(alone.x_in, alone.x_out)
    assert abs(np.corrcoef(alone.x_in, bits[:, relayed.node])[0, 1]) < 0.15


def test_planted_controls_separate_a_relayed_from_an_independent_concept():
    bits = np.stack([_paper_like_bits(seed=s) for s in range(3)])
    table = relay.planted_controls(bits, shuffles=50, seed=0)
    assert list(table.kind.unique()) == list(relay.planted.CONTROL_KINDS) and len(table) == 6
    relayed, alone = table[table.kind == "relayed"], table[table.kind == "independent"]
    np.testing.assert_allclose(relayed.p_value, 1 / 51)
    assert (relayed.corrected > 0.1).all()
    assert (alone.p_value > 0.05).all()
    # each row is relay_null of the planted concept: an independent reference
    concept = relay.planted_concept(bits[1], relayed=True, seed=1)
    with _quiet():
        again = relay.relay_null(concept.x_in, concept.x_out, bits[1], shuffles=50, seed=0)
    assert relayed.relay.iloc[1] == pytest.approx(again.observed)
    with pytest.raises(ValueError, match="hidden_bits"):
        relay.planted_controls(bits[0])


# -- sweeps at scale: the high-entropy analysis and its tests (irn.sweep) ---------------------------
def _hand_trained(noise=0.0, hidden=8, replicates=2):
    """An untrained stacked GRU wrapped as a Trained (the analysis needs no training)."""
    from irn import models, train

    condition = train.Condition("gru", "memory", "random")
    config = train.TrainConfig(replicates=replicates, hidden=hidden, noise=noise)
    model = models.Stacked("gru", replicates, 3, hidden, seeds=list(range(replicates)))
    return train.Trained(condition, config, model, epochs=[1] * replicates, restarts=[0] * replicates,
                         seeds=list(range(replicates)), accuracy=[1.0] * replicates)


def test_relay_summary_with_noise_is_high_entropy_and_scores_knockouts_on_noisy_data():
    from irn import analysis, knockout, sweep, tasks

    trained = _hand_trained()
    clean = sweep.relay_summary(trained, samples=300)
    noisy = sweep.relay_summary(trained, samples=300, noise=0.5)
    assert clean.patterns.max() <= 8 < noisy.patterns.min()  # clean memory task: at most 8 sequences
    for column in ("null_p", "probe_relay", "probe_null_mean", "probe_p", "ko_control"):
        assert column in noisy and noisy[column].notna().all()
    # clean knockouts are exact on the distinct sequences; noisy ones on fresh noisy sequences (seed + 1)
    exact = knockout.accuracy(trained).set_index(["replicate", "concept"]).accuracy
    np.testing.assert_allclose(clean.intact, exact.loc[list(zip(clean.replicate, clean.concept))])
    batch = tasks.sample("memory", 300, delay=5, noise=0.5, seed=1)
    data = analysis.probe(trained.model, batch.inputs, batch.targets, batch.answer_step, concepts=tasks.CONCEPTS["memory"])
    scored = knockout.accuracy(trained, data=data).set_index(["replicate", "concept"]).accuracy
    np.testing.assert_allclose(noisy.intact, scored.loc[list(zip(noisy.replicate, noisy.concept))])
    # the probe relay is the probe's relay of all nodes on the recorded noisy states
    rec = analysis.record(trained, samples=300, noise=0.5)
    bits = relay.binarize(rec.hidden[:, :, analysis.RELAY_STEP])
    first = relay.probe_greedy(rec.x_in[0], rec.x_out[0, 0], bits[0]).curve[0]
    assert noisy.probe_relay.iloc[0] == pytest.approx(first)
    with pytest.raises(ValueError, match="noise"):
        sweep.relay_summary(trained, noise=-1)


def _summary_frame(extra_probe, extra_control, hidden=(64, 128)):
    """A relay_summary-shaped frame whose knockout losses are known: intact 1, random sets lose 0.1,
    the probe order loses 0.1 + extra_probe, the control set 0.1 + extra_control."""
    import pandas as pd

    rows = []
    for h in hidden:
        for r, (dp, dc) in enumerate(zip(extra_probe, extra_control)):
            for concept in ("A", "B"):
                rows.append({"arch": "gru", "task": "memory", "delay": "random", "hidden": h, "block": 0,
                             "replicate": r, "concept": concept, "intact": 1.0, "ko_random": 0.9,
                             "ko_probe": 0.9 - dp, "ko_relay": 0.9, "ko_control": 0.9 - dc})
    return pd.DataFrame(rows)


def test_knockout_tests_are_wilcoxon_tests_of_the_extra_loss_per_group():
    from scipy import stats as sps

    from irn import sweep

    extra_probe = [0.05, 0.08, 0.02, 0.11, 0.07, 0.03]
    extra_control = [0.01, -0.02, 0.0, 0.03, -0.01, 0.02]
    tests = sweep.knockout_tests(_summary_frame(extra_probe, extra_control), by=["hidden"])
    probe = tests.of("probe order")
    assert probe.hidden.tolist() == [64, 128] and (probe.n == 12).all()
    values = np.repeat(extra_probe, 2)  # two concepts per replicate
    assert probe.difference.iloc[0] == pytest.approx(values.mean())
    assert probe.p_value.iloc[0] == pytest.approx(sps.wilcoxon(values).pvalue)
    control = tests.of("random (control)")
    assert control.p_value.iloc[0] == pytest.approx(sps.wilcoxon(np.repeat(extra_control, 2), zero_method="zsplit").pvalue)
    assert tests.of("plug-in order").p_value.eq(1.0).all()  # the plug-in order loses exactly what random sets lose
    np.testing.assert_allclose(tests.effects("probe order"), np.tile(extra_probe, 2))  # one value per network
    with pytest.raises(ValueError, match="order"):
        tests.of("probe")
    with pytest.raises(ValueError, match="frame"):
        sweep.knockout_tests(_summary_frame(extra_probe, extra_control).drop(columns="ko_control"))


def test_entropy_table_aggregates_patterns_and_nulls_per_group():
    from irn import sweep

    frame = _summary_frame([0.1] * 3, [0.0] * 3).assign(
        samples=1000, patterns=[900, 910, 950, 960, 990, 1000] * 2, relay=0.8, null_mean=0.78,
        null_p=[0.5, 0.01] * 6, probe_relay=0.7, probe_null_mean=0.0, probe_p=0.02)
    table = sweep.entropy_table(frame, by=["hidden"], alpha=0.05).set_index("hidden")
    assert table.loc[64, "networks"] == 3 and table.loc[64, "patterns"] == 955 and table.loc[64, "patterns_max"] == 1000
    assert table.loc[64, "above_null"] == 0.5 and table.loc[64, "probe_above_null"] == 1.0
    with pytest.raises(ValueError, match="alpha"):
        sweep.entropy_table(frame, alpha=0)


def test_run_timed_trains_once_then_loads(tmp_path):
    import functools

    from irn import sweep, train

    units = sweep.grid(["gru"], ["memory"], ["random"], [8], replicates=2)
    config = train.TrainConfig(replicates=2, max_epochs=400)
    analyse = functools.partial(sweep.relay_summary, samples=200)
    first = sweep.run_timed(units, config, analyse, zoo_dir=tmp_path)
    again = sweep.run_timed(units, config, analyse, zoo_dir=tmp_path)
    assert first.trained == 2 and again.trained == 0
    assert first.training.epochs.tolist() == again.training.epochs.tolist() and len(first.training) == 2
    assert first.frame.equals(again.frame)
    assert first.frame.equals(sweep.run(units, config, analyse, zoo_dir=tmp_path, progress=False).frame)
    assert first.train_seconds >= 0 and first.analysis_seconds >= 0
    assert first.entries == tuple(zoo_entry.stem for zoo_entry in sorted(tmp_path.glob("*.safetensors")))
    with pytest.raises(ValueError, match="workers"):
        sweep.run_timed(units, config, workers=0, zoo_dir=tmp_path)


def test_scale_charts_fit_the_column_and_draw_line_legends():
    vl_convert = pytest.importorskip("vl_convert")
    import re

    import pandas as pd

    from irn.plots import scale as sp

    rng = np.random.default_rng(0)
    recovery = pd.DataFrame([{"nodes": h, "samples": n, "method": m, "recovered": rng.random()}
                             for h in (4, 16, 64, 256) for n in (250, 1000, 4000, 16000) for m in sp.METHOD_ORDER])
    drops = pd.DataFrame([{"task": t, "arch": a, "hidden": h, "kind": k, "drop": rng.random()}
                          for t in ("memory", "block") for a in ("rnn", "gru", "lstm") for h in (12, 64, 256)
                          for k in sp.KO_ORDER])
    extra = pd.DataFrame([{"arch": a, "hidden": h, "order": o, "mean": 0.1, "lo": 0.0, "hi": 0.2}
                          for a in ("rnn", "gru", "lstm") for h in (64, 128, 256) for o in sp.EXTRA_ORDER])
    for number, chart in {"12.1": sp.planted_recovery(recovery), "12.2": sp.knockout_by_size(drops),
                          "12.3": sp.extra_loss_by_size(extra)}.items():
        svg = vl_convert.vegalite_to_svg(chart.to_dict())
        assert float(re.search(r'<svg[^>]*\swidth="([0-9.]+)"', svg).group(1)) <= 660, number
    dash = sp.knockout_by_size(drops).to_dict()["spec"]["layer"][0]["encoding"]["strokeDash"]
    assert dash["legend"]["symbolType"] == "stroke" and dash["legend"]["symbolStrokeColor"]  # visible line symbols
    assert len({tuple(d) for d in dash["scale"]["range"]}) == 3  # solid, dashed, dotted


def test_tables_show_p_as_text_and_human_names():
    import pandas as pd

    from irn.plots import scale as sp

    tests = pd.DataFrame([{"arch": "gru", "hidden": 64, "order": o, "difference": 0.05, "p_value": p}
                          for o, p in zip(sp.EXTRA_ORDER, (0.0, 0.004, 0.6))])
    shown = sp.tests_display(tests, ["arch", "hidden"])
    assert shown.loc[("GRU", 64), ("probe order", "p")] == "p < 0.001"
    assert shown.loc[("GRU", 64), ("random (control)", "p")] == "0.6"
    assert not shown.isna().any().any()
