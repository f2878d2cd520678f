"""Tests of irn.plane: information-plane estimators on cases with known answers."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from irn import info, plane

N_PATTERNS = 8
REPEATS = 64


def discrete_case(seed=0, spacing=1.0):
    """x: each of 8 patterns REPEATS times; hidden: a deterministic invertible map of x
    (3 nodes, well separated points)."""
    rng = np.random.default_rng(seed)
    x = np.repeat(np.arange(N_PATTERNS), REPEATS)
    centres = rng.permutation(np.array(np.meshgrid(*[[0.0, spacing]] * 3)).reshape(3, -1).T)
    return x, centres[x]


@pytest.mark.parametrize("bins", [2, 10, 30, 100])
def test_binning_of_invertible_map_gives_entropy_of_x(bins):
    x, hidden = discrete_case()
    i_xt, i_ty = plane.Binning(bins)(hidden, x, x)
    assert i_xt == pytest.approx(info.entropy(x)) == pytest.approx(3.0)
    assert i_ty == pytest.approx(3.0)


def test_binning_of_independent_noise_is_near_zero():
    rng = np.random.default_rng(1)
    x = rng.integers(0, N_PATTERNS, 20000)
    hidden = rng.normal(size=(20000, 1))
    i_xt, i_ty = plane.Binning(4)(hidden, x, x)
    # plug-in bias (|X|-1)(|T|-1) / (2 N ln 2) ≈ 0.0008 bits
    assert 0 <= i_xt < 0.005 and 0 <= i_ty < 0.005


def test_binning_merges_states_within_one_bin():
    x, hidden = discrete_case(spacing=0.01)
    far = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])  # stretch the range: 8 states fall into 1 bin
    i_xt, _ = plane.Binning(10)(np.vstack([hidden, far]), np.r_[x, 8, 9], np.r_[x, 8, 9])
    n = len(x) + 2
    # T takes three values: the merged cluster (n - 1 samples, one of them from `far`) and the far corner
    expected = info.entropy(np.r_[np.zeros(n - 1, int), 1])
    assert i_xt == pytest.approx(expected)


def test_binning_fixed_limits_match_manual_bins():
    rng = np.random.default_rng(2)
    hidden = rng.uniform(-1, 1, (500, 2))
    codes = plane.Binning(4, limits=(-1.0, 1.0)).binned(hidden)
    manual = info.joint_code(np.minimum(((hidden + 1) / 2 * 4).astype(int), 3))
    assert np.array_equal(codes, manual)


def test_gaussian_mixture_entropy_of_one_component_is_closed_form():
    centres = np.zeros((50, 4))
    expected = 4 / 2 * math.log2(2 * math.pi * math.e * 0.3)
    assert plane.gaussian_mixture_entropy(centres, 0.3) == pytest.approx(expected)


def test_gaussian_mixture_entropy_is_an_upper_bound():
    """Against a Monte-Carlo estimate of the true entropy of a 1-D mixture with overlapping parts."""
    centres = np.array([[0.0], [0.5], [1.5], [1.6]])
    var = 0.2
    rng = np.random.default_rng(3)
    draws = centres[rng.integers(0, 4, 200000), 0] + rng.normal(0, math.sqrt(var), 200000)
    density = np.mean([sps.norm.pdf(draws, c, math.sqrt(var)) for c in centres[:, 0]], axis=0)
    true = -np.mean(np.log2(density))
    bound = plane.gaussian_mixture_entropy(centres, var)
    assert true - 0.01 < bound < true + 1.0


def test_kde_of_invertible_map_gives_entropy_of_x():
    x, hidden = discrete_case(spacing=20.0)
    i_xt, i_ty = plane.KDE(0.1)(hidden, x, x)
    assert i_xt == pytest.approx(3.0, abs=1e-9)
    assert i_ty == pytest.approx(3.0, abs=1e-9)


def test_kde_of_states_much_closer_than_the_noise_is_near_zero():
    rng = np.random.default_rng(4)
    x = rng.integers(0, N_PATTERNS, 400)
    hidden = rng.normal(0, 1e-3, (400, 3))
    i_xt, i_ty = plane.KDE(1.0)(hidden, x, x)
    assert 0 <= i_xt < 1e-4 and abs(i_ty) < 1e-4


def test_kde_shrinks_with_noise():
    x, hidden = discrete_case(spacing=1.0)
    values = [plane.KDE(v)(hidden, x, x)[0] for v in (0.01, 0.1, 1.0, 10.0)]
    assert all(a > b for a, b in zip(values, values[1:]))


def test_information_plane_runs_every_estimator_on_every_record():
    x, hidden = discrete_case()
    rng = np.random.default_rng(5)
    stack = np.stack([np.stack([hidden, rng.normal(size=hidden.shape)])] * 3)  # (3 epochs, 2 reps, ...)
    frame = plane.information_plane(stack, x, x, [plane.Binning(30), plane.KDE(0.1)], epochs=[0, 5, 10])
    assert len(frame) == 2 * 3 * 2
    assert set(frame.estimator) == {"binning (30 bins)", "KDE bound (noise 0.1)"}
    first = frame[(frame.replicate == 0) & (frame.estimator == "binning (30 bins)")]
    assert np.allclose(first.i_xt, 3.0) and list(first.epoch) == [0, 5, 10]


def test_compression_finds_the_peak_and_the_drop():
    frame = pd.DataFrame({"estimator": "e", "replicate": [0] * 5 + [1] * 5, "epoch": list(range(5)) * 2,
                          "i_xt": [1.0, 2.0, 3.0, 2.5, 2.0] + [1.0, 2.0, 3.0, 3.0, 3.05]})
    out = plane.compression(frame, tolerance=0.1).set_index("replicate")
    assert out.loc[0, "peak_epoch"] == 2 and out.loc[0, "drop"] == pytest.approx(1.0) and out.loc[0, "compresses"]
    assert out.loc[1, "peak_epoch"] == 4 and not out.loc[1, "compresses"]


@pytest.mark.parametrize("call, message", [
    (lambda: plane.Binning(1), "bins"),
    (lambda: plane.Binning(10, limits=(1, 0)), "limits"),
    (lambda: plane.Binning(10, limits="run"), "limits"),
    (lambda: plane.Binning(10, limits="record").binned(np.zeros((5, 2))), "limits 'record'"),
    (lambda: plane.snr_floor(1), "batches"),
    (lambda: plane.dpi_violations(pd.DataFrame({"i_xt": [1.0]})), "plane"),
    (lambda: plane.KDE(0), "noise"),
    (lambda: plane.KSG(0), "k"),
    (lambda: plane.Binning()(np.zeros(5), np.arange(5), np.arange(5)), "hidden"),
    (lambda: plane.Binning()(np.zeros((5, 2)), np.arange(4), np.arange(5)), "x"),
    (lambda: plane.gaussian_mixture_entropy(np.zeros((5, 2)), -1.0), "variance"),
    (lambda: plane.information_plane(np.zeros((2, 5, 2)), np.arange(5), np.arange(5), [plane.KDE()]), "hidden"),
    (lambda: plane.information_plane(np.zeros((1, 1, 5, 2)), np.arange(5), np.arange(5), []), "estimators"),
    (lambda: plane.compression(pd.DataFrame({"epoch": [0]})), "plane"),
])
def test_bad_input_is_rejected(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_ksg_matches_the_gaussian_closed_form():
    rng = np.random.default_rng(6)
    rho = 0.8
    x = rng.normal(size=(2000, 1))
    hidden = rho * x + np.sqrt(1 - rho ** 2) * rng.normal(size=(2000, 1))
    i_xt, _ = plane.KSG(3)(hidden, x, np.sign(x))
    assert i_xt == pytest.approx(-0.5 * np.log2(1 - rho ** 2), abs=0.05)


def test_ksg_of_label_bits_recovers_a_clustered_code():
    """Eight tight, well-separated clusters, one per 3-bit label: I(T;Y) ≈ H(Y) = 3 bits."""
    x, hidden = discrete_case(spacing=10.0)
    hidden = hidden + np.random.default_rng(7).normal(0, 0.1, hidden.shape)
    bits = np.array([[(v >> k) & 1 for k in range(3)] for v in x]) * 2.0 - 1
    _, i_ty = plane.KSG(3)(hidden, hidden, bits)
    assert i_ty == pytest.approx(3.0, abs=0.1)


def test_binning_with_fixed_limits_against_a_hand_count():
    """Three tanh-like nodes, six samples, 4 bins over (−1, 1): edges at −0.5, 0 and 0.5."""
    hidden = np.array([[-0.9, 0.1, 0.6],     # bins 0, 2, 3
                       [-0.6, 0.2, 0.9],     # bins 0, 2, 3  (same state as the first)
                       [0.4, -0.2, -0.99],   # bins 2, 1, 0
                       [0.45, -0.3, -0.7],   # bins 2, 1, 0  (same)
                       [0.45, -0.3, 0.99],   # bins 2, 1, 3
                       [1.0, 1.0, 1.0]])     # the upper limit falls in the last bin: 3, 3, 3
    estimator = plane.Binning(4, limits=(-1.0, 1.0))
    codes = estimator.binned(hidden)
    assert codes[0] == codes[1] and codes[2] == codes[3] and len(set(codes)) == 4
    # I(X;T) with one sample per x is H(T): counts 2, 2, 1, 1 of 6
    p = np.array([2, 2, 1, 1]) / 6
    i_xt, i_ty = estimator(hidden, np.arange(6), np.array([0, 0, 1, 1, 1, 0]))
    assert i_xt == pytest.approx(-(p * np.log2(p)).sum())
    # T → Y: states {0,1}→0, {2,3}→1, {4}→1, {5}→0: Y is a function of T, so I(T;Y) = H(Y) = 1 bit
    assert i_ty == pytest.approx(1.0)


def test_fixed_limits_do_not_move_with_the_activity_but_record_limits_are_shared():
    rng = np.random.default_rng(8)
    small = rng.uniform(-0.1, 0.1, (200, 2))
    assert len(set(plane.Binning(30, (-1.0, 1.0)).binned(small))) <= 16  # 4 of the 30 fixed bins per node
    assert len(set(plane.Binning(30).binned(small))) > 50  # per-snapshot limits stretch it over all bins
    stack = np.stack([np.stack([small]), np.stack([small * 10])])  # two epochs, one replicate
    frame = plane.information_plane(stack, np.arange(200), np.zeros(200, int), [plane.Binning(30, "record")])
    early, late = frame.i_xt.to_numpy()
    assert late > early + 2  # over the run's range the small early states share few bins


def test_snr_floor_of_pure_noise_gradients():
    """Pure-noise minibatch gradients through the recorder's own statistics: ‖mean‖/‖std‖ ≈ 1/√(B − 1)."""
    import torch

    from irn.recorder import Recorder

    class Noise(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight_hh = torch.nn.Parameter(torch.zeros(3, 40, 40))

    model, rng = Noise(), torch.Generator().manual_seed(0)
    for batches in (4, 16):
        recorder = Recorder(torch.zeros(2, 1, 1), 0, record_epochs=[])
        recorder.snapshot = lambda epoch, model: None  # no probe to run on this stand-in model
        for epoch in range(20):
            for _ in range(batches):
                model.weight_hh.grad = torch.randn(3, 40, 40, generator=rng)
                recorder.on_step(epoch, model)
            recorder.on_epoch(epoch, model)
        rows = pd.DataFrame(recorder._rows, columns=["replicate", "epoch", "matrix", "batches", "mean", "std", "snr"])
        assert (rows.batches == batches).all()
        assert rows.snr.to_numpy() == pytest.approx(plane.snr_floor(batches), rel=0.12)
        assert rows.snr.mean() == pytest.approx(plane.snr_floor(batches), rel=0.02)
    assert plane.snr_floor(4) == pytest.approx(0.5774, abs=1e-4)


def test_dpi_violations_flag_an_estimator_whose_i_xt_falls_below_i_ty():
    frame = pd.DataFrame({"estimator": ["a", "a", "b", "b"], "i_xt": [3.0, 2.5, 0.4, 0.6], "i_ty": [2.0, 2.5, 3.0, 0.5]})
    table = plane.dpi_violations(frame).set_index("estimator")
    assert not table.loc["a", "flagged"] and table.loc["b", "flagged"]
    assert table.loc["b", "violations"] == 1 and table.loc["b", "largest"] == pytest.approx(2.6)


def test_compression_trend_is_spearman_over_the_late_snapshots():
    epochs = np.arange(10)
    frame = pd.DataFrame({"estimator": "e", "replicate": 0, "epoch": epochs,
                          "i_xt": [1, 2, 3, 4, 5, 5.0, 4.5, 4.0, 3.5, 3.0]})
    trend = plane.compression_trend(frame)
    assert trend.loc[0, "snapshots"] == 5 and trend.loc[0, "rho"] == pytest.approx(-1.0)
    assert trend.loc[0, "p_value"] < 0.05 and trend.loc[0, "drop"] == pytest.approx(2.0)
    flat = frame.assign(i_xt=1.0)
    assert plane.compression_trend(flat).loc[0, "p_value"] == 1.0


def test_the_positive_control_compresses():
    control = plane.compression_control(bits=8, hidden=3, replicates=3, epochs=80, batch=16, snapshots=12)
    assert control.batches == 16 and (control.accuracy > 0.95).all()
    assert ((control.trend.rho < 0) & (control.trend.p_value < 0.05)).all()
    first = control.plane[control.plane.epoch == 0].i_xt.mean()
    last = control.plane[control.plane.epoch == control.plane.epoch.max()].i_xt.mean()
    assert first - last > 1.0  # bits


def test_diffusion_epochs_against_the_floor():
    epochs = np.arange(1, 41)
    floor = plane.snr_floor(16)
    falling = np.r_[np.full(10, 3.0), np.geomspace(3.0, floor, 10), np.full(20, floor)]  # drift, then the floor
    flat = np.full(40, 3.0)
    gradients = pd.concat([pd.DataFrame({"network": n, "replicate": 0, "matrix": "recurrent", "epoch": epochs, "snr": v})
                           for n, v in (("falls", falling), ("stays", flat))], ignore_index=True)
    table = plane.diffusion_epochs(gradients, 16, 2.0).set_index("network")
    assert table.loc["falls", "floor"] == pytest.approx(floor) and table.loc["falls", "band"] == pytest.approx(2 * floor)
    # the running median over 5 epochs enters 2 × floor a few epochs after the raw curve does
    first = epochs[np.flatnonzero(falling <= 2 * floor)[0]]
    assert first <= table.loc["falls", "diffusion_epoch"] <= first + 4
    assert table.loc["falls", "rho"] < 0 and table.loc["falls", "end_snr"] == pytest.approx(floor)
    assert np.isnan(table.loc["stays", "diffusion_epoch"]) and np.isnan(table.loc["stays", "rho"])


def test_learning_correlation_and_the_nonlinearity_test():
    frame = pd.DataFrame({"network": "n", "estimator": "e", "replicate": 0, "epoch": range(6),
                          "i_ty": [0.1, 0.5, 0.9, 1.2, 1.5, 2.0], "accuracy": [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]})
    got = plane.learning_correlation(frame)
    assert got.loc[0, "rho"] == pytest.approx(1.0) and got.loc[0, "p_value"] < 0.01
    trend = pd.DataFrame({"network": ["rnn-tanh"] * 5 + ["rnn-relu"] * 5, "estimator": "e",
                          "rho": [-0.9, -0.8, -0.95, -0.7, -0.85, 0.2, 0.1, 0.3, 0.0, 0.25]})
    versus = plane.nonlinearity_test(trend)
    assert versus.loc[0, "difference"] == pytest.approx(-0.84 - 0.17) and versus.loc[0, "p_value"] < 0.05


def test_coincidence_against_random_pairings():
    rng = np.random.default_rng(0)
    peaks = rng.choice([2, 4, 8, 16, 32, 64, 128], size=30).astype(float)
    together = pd.DataFrame({"estimator": "e", "peak_epoch": peaks, "diffusion_epoch": peaks * 1.2})
    found = plane.coincidence_test(together, permutations=199)
    assert found.observed == 30 and found.expected < 15 and found.p_value < 0.01 and found.reachable
    apart = together.assign(diffusion_epoch=rng.permutation(peaks))
    assert plane.coincidence_test(apart, permutations=199).p_value > 0.01
    assert not plane.coincidence_test(together.iloc[:3], permutations=19).reachable


def test_record_runs_and_the_plane_of_every_run():
    rng = np.random.default_rng(1)
    inputs = rng.normal(size=(64, 4, 3)).astype(np.float32)
    targets = np.sign(inputs[:, 0, :]).astype(np.float32)
    runs = plane.record_runs(["rnn-tanh", "rnn-relu"], inputs, targets, 3, inputs[:32], 3, replicates=2, hidden=4,
                             epochs=4, batch=16, snapshots=3)
    assert set(runs) == {(n, t) for n in ("rnn-tanh", "rnn-relu") for t in ("minibatch", "full batch")}
    assert (runs["rnn-tanh", "minibatch"].gradients.batches == 4).all()
    assert (runs["rnn-tanh", "full batch"].gradients.batches == 1).all()
    scored = plane.scores(runs, targets[:32])
    assert scored.accuracy.between(0, 1).all() and len(scored) == 4 * 2 * len(runs["rnn-tanh", "minibatch"].epochs)
    frame = plane.runs_plane(runs, np.arange(32), (targets[:32] > 0).astype(int), bins=(30,), kde_noise=(0.1,),
                             ksg_k=None)
    assert set(frame.estimator) == {"binning (30 bins)", "KDE bound (noise 0.1)"}
    entropy = plane.neuron_entropy_over_training({k: v for k, v in runs.items() if k[1] == "minibatch"},
                                                 rng.normal(size=32))
    assert set(entropy.role) == {"input", "hidden", "output"}
    assert entropy.groupby(["network", "epoch", "replicate"]).size().eq(4 + 3 + 1).all()


def test_snr_references_per_panel():
    lines = plane.snr_references(["a", "b"], 5, 2.0)
    assert len(lines) == 6 and set(lines.network) == {"a", "b"}
    assert sorted(lines[lines.network == "a"].value) == pytest.approx(sorted([1.0, 0.5, 1.0]))


def test_the_planted_learning_case_tells_which_estimators_can_see_tracking():
    frame = plane.planted_learning(plane.estimators((2, 30), (0.1,), 3), samples=256, snapshots=12)
    accuracy = frame.groupby("epoch").accuracy.first()
    assert accuracy.iloc[0] < 0.6 and accuracy.iloc[-1] > 0.95
    tracks = plane.learning_correlation(frame.assign(network="planted"), "i_ty").set_index("estimator")
    for seen in ("binning (2 bins)", "KDE bound (noise 0.1)", "KSG (k = 3)"):
        assert tracks.loc[seen, "rho"] > 0.8 and tracks.loc[seen, "p_value"] < 0.01
    # 30 bins per node on 256 samples: every state has its own bin, I(T;Y) = H(Y) from the start
    assert not tracks.loc["binning (30 bins)", "p_value"] < 0.05
