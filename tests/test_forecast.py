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
    hourly = forecast.temperature("seattle-normals")
    assert len(hourly) == 8759 and hourly.date.is_monotonic_increasing
    assert hourly.temperature.between(20, 110).all()  # °F at Seattle
    daily = forecast.temperature("seattle-weather")
    assert len(daily) == 1461 and daily.temperature.between(-10, 45).all()  # °C
    assert forecast.temperature().equals(daily)  # the measured record is the default


def test_record_check_tells_a_measurement_from_a_normal():
    measured = forecast.record_check("seattle-weather")
    normal = forecast.record_check("seattle-normals")
    assert (measured.samples, measured.days, measured.step) == (1461, 1461, "1 day")
    assert (normal.samples, normal.days, normal.step) == (8759, 365, "1 h")
    # a smooth normal: daily means move by less than half a degree; the weather moves by degrees
    assert normal.largest_daily_change < 0.5 and measured.largest_daily_change > 5
    assert measured.median_daily_change > 10 * normal.median_daily_change
    frame = forecast.temperature("seattle-weather")
    assert measured.largest_daily_change == pytest.approx(np.abs(np.diff(frame.temperature)).max())


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
    inputs, targets = forecast.windows(np.arange(11.0), 3, stride=2)
    np.testing.assert_array_equal(inputs[:, 0, 0], [0, 2, 4, 6])
    np.testing.assert_array_equal(targets[:, -1, 0], [3, 5, 7, 9])


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


def ar2(samples=3000, seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros(samples)
    for t in range(2, len(x)):
        x[t] = 1.2 * x[t - 1] - 0.5 * x[t - 2] + rng.normal()
    return x


def test_order_is_chosen_on_the_validation_part():
    split = forecast.split_series(ar2())
    assert forecast.select_order(split, 10) in (2, 3)


def test_diebold_mariano_against_the_t_test_and_by_construction():
    rng = np.random.default_rng(2)
    reference = rng.normal(size=400)
    statistic, p = forecast.diebold_mariano(reference, reference)
    assert statistic == 0 and p == 0.5
    worse = reference * 1.5
    assert forecast.diebold_mariano(worse, reference)[1] < 1e-6
    assert forecast.diebold_mariano(reference, worse)[1] > 1 - 1e-6
    # independent squared-error differences: close to the one-sided one-sample t-test of d
    other = rng.normal(size=400)
    from scipy import stats as sps
    d = other ** 2 - reference ** 2
    expected = sps.ttest_1samp(d, 0, alternative="greater").pvalue
    assert forecast.diebold_mariano(other, reference)[1] == pytest.approx(expected, abs=0.05)


def test_compare_with_baseline_scores_every_model_on_the_same_days():
    split = forecast.split_series(ar2(1200))
    model = forecast.fully_recurrent(2, 4, seeds=[0, 1])
    result = forecast.compare_with_baseline({"fully_recurrent": model}, split, order=2)
    table = forecast.baseline_errors(split, 2).set_index(["model", "part"])
    errors = result.errors.set_index(["model", "part", "replicate"])
    for part in ("validation", "test"):
        for name in ("persistence", "autoregression"):
            assert errors.loc[(name, part, -1), "rmse"] == pytest.approx(table.loc[(name, part), "rmse"])
    assert result.order == 2 and len(result.tests) == 2
    # an untrained network forecasts worse than the fitted AR(2): significantly, after Holm
    assert (result.tests["ratio"] > 1).all() and result.tests["worse"].all()
    assert result.matches == {"fully_recurrent": False}


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
    (lambda: forecast.temperature("seattle-temps"), "source must"),
    (lambda: forecast.windows(np.arange(10.0), 3, stride=0), "stride must"),
    (lambda: forecast.diebold_mariano(np.zeros(20), np.zeros(19)), "reference must"),
    (lambda: forecast.compare_with_baseline({}, forecast.split_series(np.arange(100.0))), "networks must"),
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
