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
