"""irn.reservoir: echo state networks as Stacked models, checked against hand-written numpy
reservoirs and scikit-learn's Ridge (DESIGN §17)."""

import dataclasses

import numpy as np
import pytest
import torch
from sklearn.linear_model import Ridge

from irn import reservoir as rs
from irn.models import Stacked
from irn.train import evaluate_flipflop

SMALL = rs.EchoStateConfig(hidden=20, spectral_radius=0.8, density=0.3, input_scaling=0.7, bias_scaling=0.2,
                           leak=0.6, ridge=1e-3, washout=5, seed=3)


def _weights(model, r):
    """Replicate r's float32 weights as float64 arrays: W (H, H), W_in (H, I), b (H,)."""
    return (model.weight_hh[r].detach().double().numpy(), model.weight_ih[r].detach().double().numpy(),
            (model.bias_ih[r] + model.bias_hh[r]).detach().double().numpy())


def _by_hand(w, w_in, b, leak, inputs, feedback=None, teacher=None, readout=None):
    """x[t] = (1 − α) x[t−1] + α tanh(W x[t−1] + W_in u[t] + W_fb y[t−1] + b) in numpy from x = 0; y[t−1]
    is teacher[:, t−1] (teacher forcing, 0 before the first step) or, with readout = (W_out, b_out),
    the network's own output W_out x[t−1] + b_out."""
    batch, steps, _ = inputs.shape
    x = np.zeros((batch, len(w)))
    y = None if feedback is None else np.zeros((batch, feedback.shape[1]))
    if readout is not None:  # the closed loop's output before the first step is that of the zero state
        y = y + readout[1]
    out = []
    for t in range(steps):
        pre = x @ w.T + inputs[:, t] @ w_in.T + b
        if feedback is not None:
            pre = pre + y @ feedback.T
        x = (1 - leak) * x + leak * np.tanh(pre)
        if feedback is not None:
            y = teacher[:, t] if readout is None else x @ readout[0].T + readout[1]
        out.append(x)
    return np.stack(out, 1)


def _data(seed=0, batch=6, steps=40, k=2):
    rng = np.random.default_rng(seed)
    inputs = rng.normal(size=(batch, steps, 3))
    targets = np.tanh(np.cumsum(inputs[..., :k], axis=1) / 3)
    return inputs, targets


def test_readout_equals_a_ridge_regression_on_hand_computed_states():
    model = rs.echo_state_network(SMALL, 3, 2, replicates=2)
    inputs, targets = _data()
    mask = np.random.default_rng(1).random(inputs.shape[:2]) < 0.8
    fit = rs.fit_readout(model, inputs, targets, ridge=SMALL.ridge, washout=SMALL.washout, mask=mask)
    keep = mask.copy()
    keep[:, :SMALL.washout] = False
    assert fit.samples == keep.sum()
    for r in range(2):
        states = _by_hand(*_weights(model, r), SMALL.leak, inputs)
        np.testing.assert_allclose(rs.collect_states(model, inputs)[r], states, atol=1e-13)
        ref = Ridge(alpha=SMALL.ridge).fit(states[keep], targets[keep])
        np.testing.assert_allclose(fit.weight[r], ref.coef_, atol=1e-8, rtol=0)
        np.testing.assert_allclose(fit.bias[r], ref.intercept_, atol=1e-8, rtol=0)
        # the same solution from the normal equations on centred data
        xs, ys = states[keep], targets[keep]
        xc, yc = xs - xs.mean(0), ys - ys.mean(0)
        coef = np.linalg.solve(xc.T @ xc + SMALL.ridge * np.eye(SMALL.hidden), xc.T @ yc).T
        np.testing.assert_allclose(fit.weight[r], coef, atol=1e-8, rtol=0)
        assert fit.train_mse[r] == pytest.approx(np.mean((ref.predict(xs) - ys) ** 2), rel=1e-10)
    torch.testing.assert_close(fit.model.readout_weight, torch.from_numpy(fit.weight).float())
    torch.testing.assert_close(fit.model.readout_bias, torch.from_numpy(fit.bias).float())
    torch.testing.assert_close(fit.model.weight_hh, model.weight_hh, atol=0, rtol=0)  # no feedback: reservoir kept
    assert torch.equal(model.readout_weight, torch.zeros_like(model.readout_weight))  # the input model is untouched


def test_feedback_is_teacher_forced_then_folded_into_the_closed_loop():
    config = dataclasses.replace(SMALL, feedback_scaling=0.4)
    weights = rs.reservoir_weights(config, 3, 2, replicates=2)
    model = rs.echo_state_network(config, 3, 2, replicates=2)
    inputs, targets = _data(seed=2)
    teacher = targets + np.random.default_rng(3).normal(0, 0.1, targets.shape)
    fit = rs.fit_readout(model, inputs, targets, ridge=config.ridge, washout=config.washout,
                         feedback=weights.feedback, teacher=teacher)
    for r in range(2):
        states = _by_hand(*_weights(model, r), config.leak, inputs, weights.feedback[r], teacher)
        ref = Ridge(alpha=config.ridge).fit(states[:, config.washout:].reshape(-1, config.hidden),
                                            targets[:, config.washout:].reshape(-1, 2))
        np.testing.assert_allclose(fit.weight[r], ref.coef_, atol=1e-8, rtol=0)
        # the trained Stacked runs the closed loop: its own output fed back through W_fb
        loop = _by_hand(*_weights(model, r), config.leak, inputs, weights.feedback[r],
                        readout=(fit.weight[r], fit.bias[r]))
        with torch.no_grad():
            trace = fit.model(torch.from_numpy(inputs).float())
        np.testing.assert_allclose(trace.hidden[r].numpy(), loop, atol=2e-5)
        np.testing.assert_allclose(trace.output[r].numpy(), loop @ fit.weight[r].T + fit.bias[r], atol=1e-4)


def test_reservoir_has_the_spectral_radius_and_density_asked_for():
    config = rs.EchoStateConfig(hidden=60, spectral_radius=1.1, density=0.2, seed=5)
    weights = rs.reservoir_weights(config, 3, 3, replicates=3)
    model = rs.echo_state_network(config, 3, 3, replicates=3)
    for r in range(3):
        assert np.abs(np.linalg.eigvals(weights.recurrent[r])).max() == pytest.approx(1.1, abs=1e-12)
        assert np.abs(np.linalg.eigvals(model.weight_hh[r].detach().double().numpy())).max() == pytest.approx(1.1, abs=1e-5)
        share = (weights.recurrent[r] != 0).mean()
        assert abs(share - 0.2) < 4 * np.sqrt(0.2 * 0.8 / 60 ** 2)  # binomial: within 4 standard errors
        assert np.abs(weights.inputs[r]).max() <= config.input_scaling
    assert not np.allclose(weights.recurrent[0], weights.recurrent[1])
    # a replicate's reservoir does not depend on how many are drawn with it
    np.testing.assert_array_equal(rs.reservoir_weights(config, 3, 3, replicates=1).recurrent[0], weights.recurrent[0])


def test_leak_one_is_the_plain_rnn():
    config = dataclasses.replace(SMALL, leak=1.0)
    model = rs.echo_state_network(config, 3, 2, replicates=1)
    rnn, _ = model.to_torch(0)  # a leak-1 reservoir is torch's own RNN
    x = torch.randn(4, 9, 3)
    with torch.no_grad():
        torch.testing.assert_close(model(x).hidden[0], rnn(x)[0])
    leaky = rs.echo_state_network(SMALL, 3, 2, replicates=1)
    with pytest.raises(ValueError, match="torch's nn.RNN has no leak rate"):
        leaky.to_torch(0)


def test_the_flipflop_esn_solves_the_task_and_holds_its_states():
    es = rs.train_flipflop(replicates=3)
    assert isinstance(es.model, Stacked) and (es.model.arch, es.model.leak, es.model.readout) == ("rnn", 0.5, "linear")
    test = evaluate_flipflop(es.model, seed=0)  # the book's stream: neither fitted nor searched on
    assert (test.accuracy > 0.99).all()
    assert (es.accuracy.hold == 1.0).all()
    # negative control: without output feedback the reservoir forgets (fading memory), and hold sees it
    forgetful = rs.train_flipflop(dataclasses.replace(rs.FLIPFLOP, feedback_scaling=0.0), replicates=3)
    assert (forgetful.accuracy.hold < 0.75).all() and (forgetful.accuracy.accuracy < 0.95).all()


def test_flipflop_setting_is_the_best_cell_of_the_documented_search():
    best = rs.flipflop_search().iloc[0]
    for field in rs.FLIPFLOP_GRID:
        assert best[field] == getattr(rs.FLIPFLOP, field), field
    assert best.hold == 1.0
    assert dataclasses.replace(rs.FLIPFLOP_BASE, **{f: getattr(rs.FLIPFLOP, f) for f in rs.FLIPFLOP_GRID}) == rs.FLIPFLOP


@pytest.mark.parametrize("field, value", [
    ("spectral_radius", 0), ("spectral_radius", -0.5), ("spectral_radius", float("nan")), ("leak", 0),
    ("leak", 1.5), ("density", 0), ("density", 1.2), ("hidden", 0), ("hidden", 2.5), ("ridge", 0),
    ("washout", -1), ("seed", -1), ("input_scaling", 0), ("bias_scaling", -1), ("feedback_scaling", -0.1),
    ("teacher_noise", -1), ("leak", True)])
def test_bad_config_is_refused(field, value):
    with pytest.raises(ValueError, match=f"^{field} must be"):
        rs.EchoStateConfig(**{field: value})


def test_bad_calls_are_refused_before_any_work(monkeypatch):
    model = rs.echo_state_network(SMALL, 3, 2, replicates=2)
    inputs, targets = _data()

    def no_work(*args, **kwargs):
        raise AssertionError("work started before the arguments were checked")

    monkeypatch.setattr(rs, "collect_states", no_work)
    bad = np.array(inputs)
    bad[0, 0, 0] = np.nan
    for kwargs, word in [({"inputs": bad}, "inputs"), ({"targets": targets[..., :1]}, "targets"),
                         ({"ridge": 0}, "ridge"), ({"washout": 40}, "washout"),
                         ({"mask": np.ones((6, 39), bool)}, "mask"), ({"teacher": targets}, "teacher"),
                         ({"feedback": np.zeros((2, 20, 3))}, "feedback"),
                         ({"mask": np.zeros((6, 40), bool)}, "mask")]:
        call = {"inputs": inputs, "targets": targets, **kwargs}
        with pytest.raises(ValueError, match=word):
            rs.fit_readout(model, call.pop("inputs"), call.pop("targets"), **call)
    with pytest.raises(ValueError, match="one-layer irn.models.Stacked RNN"):
        rs.fit_readout(Stacked("gru", 1, 3), inputs, targets)
    monkeypatch.setattr(rs, "reservoir_weights", no_work)
    for call, word in [(lambda: rs.train_flipflop(replicates=0), "replicates"),
                       (lambda: rs.train_flipflop(SMALL, steps=5), "steps"),
                       (lambda: rs.train_flipflop("fast"), "config"),
                       (lambda: rs.flipflop_search({"radius": [1.0]}), "grid"),
                       (lambda: rs.flipflop_search({"leak": []}), "grid")]:
        with pytest.raises(ValueError, match=word):
            call()
    monkeypatch.undo()
    for kwargs, word in [({"n_inputs": 0}, "n_inputs"), ({"replicates": -1}, "replicates")]:
        with pytest.raises(ValueError, match=word):
            rs.echo_state_network(SMALL, **{"n_inputs": 3, **kwargs})
    with pytest.raises(ValueError, match="spectral radius 0"):
        rs.reservoir_weights(rs.EchoStateConfig(hidden=3, density=0.01), 1)
    with pytest.raises(ValueError, match="one output per input channel"):
        rs.hold_accuracy(Stacked("rnn", 1, 3, n_outputs=2))
