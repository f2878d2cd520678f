"""irn.forecast: the bundled record loads without network, the split is by time, windows
shift by one step, the baselines match hand computations, the fully recurrent network keeps its
output unit as the output through training."""

import socket

import numpy as np
import pytest
import torch

from irn import forecast, train


def test_record_loads_offline(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the record must not be downloaded")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    hourly = forecast.temperature("seattle-temps")
    assert len(hourly) == 8759 and hourly.date.is_monotonic_increasing
    assert hourly.temperature.between(20, 110).all()  # °F at Seattle
    daily = forecast.temperature("seattle-weather")
    assert len(daily) == 1461 and daily.temperature.between(-10, 45).all()  # °C


def test_split_is_by_time_and_uses_training_statistics():
    values = np.arange(100.0)
    split = forecast.split_series(values, train=0.6, validation=0.2)
    assert (len(split.train), len(split.validation), len(split.test)) == (60, 20, 20)
    assert split.mean == pytest.approx(29.5) and split.std == pytest.approx(values[:60].std())
    restored = np.concatenate([split.train, split.validation, split.test]) * split.std + split.mean
    np.testing.assert_allclose(restored, values)


def test_windows_target_is_the_next_value():
    inputs, targets = forecast.windows(np.arange(11.0), 3)
    assert inputs.shape == targets.shape == (3, 3, 1)
    np.testing.assert_array_equal(targets[..., 0], inputs[..., 0] + 1)
    np.testing.assert_array_equal(inputs[:, 0, 0], [0, 3, 6])


def test_baselines_match_hand_computations():
    rng = np.random.default_rng(0)
    x = np.zeros(3000)
    for t in range(2, len(x)):  # AR(2) with known coefficients
        x[t] = 1.2 * x[t - 1] - 0.5 * x[t - 2] + rng.normal()
    split = forecast.split_series(x)
    table = forecast.baseline_errors(split, order=2).set_index(["model", "part"])
    test = split.test
    assert table.loc[("persistence", "test"), "rmse"] == pytest.approx(np.sqrt(np.mean((test[2:] - test[1:-1]) ** 2)))
    # the fitted AR(2) reaches the innovation noise (sd 1 in original units)
    assert table.loc[("autoregression", "test"), "rmse_units"] == pytest.approx(1.0, abs=0.08)
    assert table.loc[("autoregression", "test"), "rmse"] < table.loc[("persistence", "test"), "rmse"]


def test_fully_recurrent_output_unit_stays_the_output():
    model = forecast.fully_recurrent(2, 4, seeds=[0, 1])
    inputs, targets = forecast.windows(np.sin(np.arange(400) / 5), 20)
    fitted = train.fit(model, inputs, targets, None, epochs=30, progress=False, on_step=forecast.freeze_readout)
    trained = fitted.model
    expected = torch.zeros(2, 1, 4)
    expected[:, 0, 3] = forecast.OUTPUT_GAIN
    assert torch.equal(trained.readout_weight.detach(), expected)
    assert torch.equal(trained.readout_bias.detach(), torch.zeros(2, 1))
    assert not torch.equal(trained.weight_hh, model.weight_hh)  # the recurrent layer did train
    prediction, hidden = forecast.predict(trained, np.sin(np.arange(50) / 5))
    np.testing.assert_allclose(prediction, forecast.OUTPUT_GAIN * hidden[:, :, 3], rtol=1e-6, atol=1e-6)
    activity = forecast.neuron_activity(trained, np.sin(np.arange(50) / 5), "fully_recurrent", warmup=10)
    assert activity.values.shape == (2, 40, 5)
    assert list(activity.roles) == ["input", "hidden", "hidden", "hidden", "output"]
    np.testing.assert_allclose(activity.values[:, :, 0], np.broadcast_to(np.sin(np.arange(10, 50) / 5), (2, 40)))


@pytest.mark.parametrize("call, message", [
    (lambda: forecast.temperature("el-nino"), "source must"),
    (lambda: forecast.split_series(np.arange(10.0)), "values must"),
    (lambda: forecast.split_series(np.arange(100.0), train=0.9, validation=0.2), "train \\+ validation"),
    (lambda: forecast.windows(np.arange(10.0), 0), "steps must"),
    (lambda: forecast.fully_recurrent(2, 1), "hidden must"),
    (lambda: forecast.neuron_activity(forecast.fully_recurrent(1, 3), np.zeros(50), "elman"), "kind must"),
    (lambda: forecast.forecasters("stacked", forecast.split_series(np.arange(100.0)), 0), "replicates must"),
])
def test_bad_input_is_rejected(call, message):
    with pytest.raises(ValueError, match=message):
        call()
