"""Forecasting a real temperature series: the data, its time split, the baselines, and the
networks whose neurons the information-flow analysis records.

Ivanovic, Kha & Muruganantham ("Analyzing Information in RNNs", CS 294-131 report, §3) study a
recurrent network that predicts an airport's next temperature from the past ones, measured. irn
uses public-domain NOAA records that ship inside the ``vega_datasets`` package, so nothing
downloads:

* ``seattle-weather`` — daily maximum temperatures *measured* at Seattle, 2012–2015 (1461 days,
  °C; from one day to the next the maximum changes by up to about 11 °C);
* ``seattle-normals`` — vega's ``seattle-temps`` file, labelled "hourly temperatures in Seattle
  during 2010". It is not a measurement: its daily means never change by more than half a degree
  Fahrenheit from one day to the next, a smooth seasonal curve with a fixed daily cycle — a
  climatological normal. Kept, under its true name, as the contrast ``record_check`` shows.

* ``temperature`` loads a record; ``record_check`` measures what it is (how far its daily means
  move from one day to the next); ``split_series`` cuts it by time into training, validation and
  test parts and standardises all three with the training mean and standard deviation;
  ``windows`` cuts a part into sequences whose target at every step is the next value.
* ``baseline_errors`` gives the two forecasts a network must match: persistence (tomorrow = today)
  and a linear autoregression fitted by least squares on the training part, its order chosen on
  the validation part (``select_order``); ``compare_with_baseline`` tests each network against it
  on the test part (Diebold–Mariano with the Harvey–Leybourne–Newbold correction).
* Two kinds of network, both ``irn.models.Stacked`` with a linear readout:
  ``"stacked"`` — the paper-style forecaster, a recurrent layer and a trained ``Linear(hidden, 1)``;
  ``"fully_recurrent"`` — the source's network: one all-to-all recurrent layer in which the input
  neuron is clamped to the series, the other units receive it through ``weight_ih``, and the last
  unit *is* the output (``fully_recurrent`` fixes the readout to that unit times ``OUTPUT_GAIN``;
  ``freeze_readout`` keeps it fixed during ``irn.train.fit``). So input, hidden and output neurons
  are units of one recurrent layer and any layer-like structure has to emerge.
* ``neuron_activity`` runs a network along a whole part and returns every neuron's activity with
  its role (input, hidden, output), the input of ``irn.flow``.

Hand-written because the baselines are three lines of numpy (statsmodels' AutoReg would be a
large dependency for one least-squares fit) and the Diebold–Mariano test is a t statistic with a
Newey–West variance.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from scipy import stats as sps

from irn import params, train, zoo
from irn.models import Stacked, check_arch
from irn.params import check_count

__all__ = [
    "SOURCES",
    "KINDS",
    "OUTPUT_GAIN",
    "temperature",
    "record_check",
    "RecordCheck",
    "Split",
    "split_series",
    "windows",
    "rmse",
    "baseline_errors",
    "select_order",
    "ar_forecast",
    "diebold_mariano",
    "compare_with_baseline",
    "Comparison",
    "fully_recurrent",
    "freeze_readout",
    "forecasters",
    "predict",
    "neuron_activity",
    "Activity",
]

SOURCES = {
    "seattle-weather": ("temp_max", "°C", "daily maximum temperature measured at Seattle, 2012–2015 (NOAA, "
                                          "public domain; vega_datasets 'seattle-weather')", "seattle_weather"),
    "seattle-normals": ("temp", "°F", "a climatological normal for Seattle: a smooth hourly curve with a fixed "
                                      "daily cycle, labelled 'hourly temperatures in Seattle during 2010' "
                                      "(NOAA, public domain; vega_datasets 'seattle-temps')", "seattle_temps"),
}
KINDS = ("stacked", "fully_recurrent")
KIND_NAMES = {"stacked": "stacked forecaster", "fully_recurrent": "fully recurrent network"}
OUTPUT_GAIN = 3.0  # fixed readout of the fully recurrent network: forecast = 3 × output unit (tanh)


def temperature(source: str = "seattle-weather") -> pd.DataFrame:
    """The temperature record ``source`` from the copy bundled with vega_datasets (no network access).

    Parameters
    ----------
    source : str
        A key of ``SOURCES``: "seattle-weather" (measured daily maxima) or "seattle-normals".

    Returns
    -------
    DataFrame
        Columns date, temperature (units in ``SOURCES``), sorted by date.
    """
    params.require(source, "source", params.one_of(tuple(SOURCES)))
    from vega_datasets import local_data

    column, _, _, name = SOURCES[source]
    frame = getattr(local_data, name)()
    return pd.DataFrame({"date": pd.to_datetime(frame["date"]),
                         "temperature": frame[column].astype(float)}).sort_values("date", ignore_index=True)


@dataclass(frozen=True)
class RecordCheck:
    """What a record is, measured.

    Attributes
    ----------
    source : str
        The key of ``SOURCES``.
    description : str
        Its description in ``SOURCES``.
    samples : int
        Rows of the record.
    start, end : str
        First and last date (YYYY-MM-DD).
    step : str
        The median time between samples ("1 day", "1 h").
    units : str
        The temperature's units.
    days : int
        Calendar days covered.
    largest_daily_change, median_daily_change : float
        Largest and median absolute change of the daily mean temperature from one day to the next,
        in the record's units.
    """

    source: str
    description: str
    samples: int
    start: str
    end: str
    step: str
    units: str
    days: int
    largest_daily_change: float
    median_daily_change: float


def record_check(source: str) -> RecordCheck:
    """Measure a record before building on it: how far do its daily means move from day to day?

    Measured temperatures jump with the weather (a few degrees on a typical day); a climatological
    normal moves by a small fraction of a degree.

    Parameters
    ----------
    source : str
        A key of ``SOURCES``.

    Returns
    -------
    RecordCheck
    """
    frame = temperature(source)
    daily = frame.groupby(frame["date"].dt.floor("D"))["temperature"].mean()
    change = np.abs(np.diff(daily.to_numpy()))
    step = frame["date"].diff().median()
    return RecordCheck(source, SOURCES[source][2], len(frame), f"{frame.date.min():%Y-%m-%d}",
                       f"{frame.date.max():%Y-%m-%d}", "1 day" if step == pd.Timedelta("1D") else
                       f"{step.total_seconds() / 3600:g} h", SOURCES[source][1], len(daily),
                       float(change.max()), float(np.median(change)))


@dataclass(frozen=True)
class Split:
    """A series cut by time and standardised with the training part's mean and standard deviation.

    Attributes
    ----------
    train, validation, test : ndarray, shape (samples,)
        The standardised parts, in this order in time.
    mean, std : float
        Of the training part, in the record's units (value = standardised × std + mean).
    """

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    mean: float
    std: float

    def part(self, name: str) -> np.ndarray:
        """One part by name.

        Parameters
        ----------
        name : str
            "train", "validation" or "test".

        Returns
        -------
        ndarray, shape (samples,)
        """
        if name not in ("train", "validation", "test"):
            raise ValueError(f"name must be 'train', 'validation' or 'test', got {name!r}")
        return getattr(self, name)


def split_series(values, train: float = 0.6, validation: float = 0.2) -> Split:
    """Cut a series by time and standardise it with its training part's mean and standard deviation.

    Parameters
    ----------
    values : array_like, shape (samples,)
        At least 30 finite values.
    train : float
        Share of the samples (from the start) for training.
    validation : float
        Share of the samples after it for validation; the rest is the test part.

    Returns
    -------
    Split
    """
    values = params.array(values, "values", ndim=1, min_samples=30)
    for name, share in (("train", train), ("validation", validation)):
        params.require(share, name, params.number(0, 1, closed=False))
    if train + validation >= 1:
        raise ValueError(f"train + validation must be < 1 to leave a test part, got {train + validation}")
    a, b = int(len(values) * train), int(len(values) * (train + validation))
    mean, std = values[:a].mean(), values[:a].std()
    if std == 0:
        raise ValueError("values must vary over the training part")
    scaled = (values - mean) / std
    return Split(scaled[:a], scaled[a:b], scaled[b:], float(mean), float(std))


def windows(series, steps: int, stride: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sequences of ``steps`` inputs, each step's target the next value.

    Parameters
    ----------
    series : ndarray, shape (samples,)
    steps : int, the length of a sequence
    stride : int, samples between the starts of consecutive sequences (default ``steps``:
        non-overlapping sequences)

    Returns
    -------
    inputs, targets : ndarray, shape (sequences, steps, 1), float32, with
    targets[i, t] = series[i · stride + t + 1].
    """
    series = np.asarray(series, dtype=np.float32)
    params.require(steps, "steps", params.integer(1, max(1, len(series) - 2)))
    stride = steps if stride is None else params.require(stride, "stride", params.integer(low=1))
    view = np.lib.stride_tricks.sliding_window_view(series, steps + 1)[::stride]
    return view[:, :-1, None].copy(), view[:, 1:, None].copy()


def rmse(prediction, truth) -> float:
    """Root mean squared error of two arrays of the same shape.

    Parameters
    ----------
    prediction, truth : array_like
        The same shape.

    Returns
    -------
    float
    """
    prediction = params.array(prediction, "prediction")
    truth = params.array(truth, "truth", shape=prediction.shape)
    return float(np.sqrt(np.mean((prediction - truth) ** 2)))


def _lagged(series: np.ndarray, order: int) -> np.ndarray:
    """(samples − order, order + 1): columns x[t−order+1 … t] and a constant."""
    n = len(series)
    cols = [series[order - 1 - j:n - 1 - j] for j in range(order)]
    return np.column_stack([*cols, np.ones(n - order)])


def _fit_ar(series: np.ndarray, order: int) -> np.ndarray:
    design = _lagged(series, order)
    return np.linalg.lstsq(design, series[order:], rcond=None)[0]


def _ar_forecast(series: np.ndarray, coef: np.ndarray, order: int) -> np.ndarray:
    """Forecasts of series[order:] (each from the ``order`` values before it)."""
    return _lagged(series, order) @ coef


def _check_order(order, split: Split) -> int:
    return int(params.require(order, "order", params.integer(1, len(split.train) // 2 - 1)))


def baseline_errors(split: Split, order: int = 24) -> pd.DataFrame:
    """Persistence and a linear AR(``order``) forecast of the next value, fitted on the training part.

    Each part is scored after its first ``order`` values.

    Parameters
    ----------
    split : Split
    order : int
        Lags of the autoregression (1 … half the training part).

    Returns
    -------
    DataFrame
        Columns model ("persistence", "autoregression"), part, rmse (standardised units), rmse_units
        (the record's units).
    """
    order = _check_order(order, split)
    coef = _fit_ar(split.train, order)
    rows = []
    for name in ("train", "validation", "test"):
        x = split.part(name)
        rows.append(("persistence", name, rmse(x[order - 1:-1], x[order:])))
        rows.append(("autoregression", name, rmse(_ar_forecast(x, coef, order), x[order:])))
    frame = pd.DataFrame(rows, columns=["model", "part", "rmse"])
    frame["rmse_units"] = frame["rmse"] * split.std
    return frame


def ar_forecast(split: Split, order: int, series) -> np.ndarray:
    """Run the autoregression of ``order`` (fitted on the training part) along a series.

    Parameters
    ----------
    split : Split
    order : int
    series : array_like, shape (samples,)
        Standardised values.

    Returns
    -------
    ndarray, shape (samples − order,)
        The forecasts of series[order:], each made from the ``order`` values before it.
    """
    order = _check_order(order, split)
    series = params.array(series, "series", ndim=1, min_samples=order + 1)
    return _ar_forecast(series, _fit_ar(split.train, order), order)


def select_order(split: Split, max_order: int = 30) -> int:
    """The autoregression order with the smallest RMSE on the validation part.

    Each order is fitted on the training part and scored on the same validation days (those after
    the first ``max_order``); the test part is not looked at.

    Parameters
    ----------
    split : Split
    max_order : int
        Orders 1 … max_order are tried.

    Returns
    -------
    int
    """
    max_order = params.require(max_order, "max_order", params.integer(1, len(split.train) // 2 - 1))
    if len(split.validation) <= max_order + 2:
        raise ValueError(f"max_order must leave validation samples to score, got {max_order} with "
                         f"{len(split.validation)} validation samples")
    # every order scored on the same validation days: those after the first max_order
    errors = [rmse(_ar_forecast(split.validation, _fit_ar(split.train, p), p)[max_order - p:],
                   split.validation[max_order:]) for p in range(1, max_order + 1)]
    return int(np.argmin(errors)) + 1


def diebold_mariano(errors, reference) -> tuple[float, float]:
    """Is a forecast worse than a reference? The Diebold–Mariano test of equal squared error.

    Parameters
    ----------
    errors, reference : ndarray, shape (samples,), one-step forecast errors of the same days

    Returns
    -------
    (statistic, p_value): the Harvey–Leybourne–Newbold corrected statistic of d = errors² −
    reference² (Newey–West variance, bandwidth ⌊4 (n / 100)^(2/9)⌋) and the one-sided p-value of
    "errors are larger" from Student's t with n − 1 degrees of freedom.
    """
    e = params.array(errors, "errors", ndim=1, min_samples=10)
    r = params.array(reference, "reference", ndim=1, shape=(len(e),))
    d = e ** 2 - r ** 2
    n = len(d)
    centred = d - d.mean()
    variance = centred @ centred / n
    for lag in range(1, int(4 * (n / 100) ** (2 / 9)) + 1):
        variance += 2 * (1 - lag / (int(4 * (n / 100) ** (2 / 9)) + 1)) * (centred[lag:] @ centred[:-lag]) / n
    if variance <= 0:
        return 0.0, 0.5
    statistic = d.mean() / np.sqrt(variance / n) * np.sqrt((n - 1) / n)  # HLN correction, horizon 1
    return float(statistic), float(sps.t.sf(statistic, n - 1))


@dataclass(frozen=True)
class Comparison:
    """Networks against the autoregression on the test part.

    Attributes
    ----------
    errors : DataFrame
        model, part, replicate, rmse, rmse_units for every network replicate and both baselines
        (replicate −1), on the validation and test parts.
    tests : DataFrame
        kind, replicate, rmse_units, baseline_units (the autoregression's), ratio (network /
        autoregression), statistic, p_value (Diebold–Mariano, one-sided "the network is worse"),
        p_adjusted (Holm over a kind's replicates), worse (p_adjusted < alpha).
    order : int
        The autoregression's order.
    matches : dict
        Kind → True when no replicate of that kind is significantly worse than the autoregression.
    """

    errors: pd.DataFrame
    tests: pd.DataFrame
    order: int
    matches: dict


def compare_with_baseline(networks: dict, split: Split, order: int | None = None, *,
                          alpha: float = params.ALPHA) -> Comparison:
    """Forecast errors of every network replicate against persistence and the autoregression.

    Parameters
    ----------
    networks : dict
        Kind → ``irn.models.Stacked`` forecaster (``forecasters``' model); each is run along the
        validation and test parts as one sequence (the state settles over the validation part).
    split : Split
    order : int, optional
        The autoregression's order (default ``select_order(split)``).
    alpha : float
        Level of the Diebold–Mariano tests after Holm's correction over a kind's replicates.

    Returns
    -------
    Comparison
        Every model is scored on the same days: each part after its first ``order`` days.
    """
    from irn.claims import adjust

    params.require(alpha, "alpha", params.SIGNIFICANCE)
    if not isinstance(networks, dict) or not networks or not all(isinstance(m, Stacked) for m in networks.values()):
        raise ValueError("networks must be a non-empty dict of kind → irn.models.Stacked forecaster")
    order = select_order(split) if order is None else _check_order(order, split)
    coef = _fit_ar(split.train, order)
    evaluation = np.concatenate([split.validation, split.test])
    parts = {"validation": slice(0, len(split.validation)), "test": slice(len(split.validation), len(evaluation))}
    rows, tests = [], []
    for name, part in parts.items():
        x = evaluation[part]
        truth = x[order:]
        ar_error = _ar_forecast(x, coef, order) - truth
        rows.append(("persistence", name, -1, rmse(x[order - 1:-1], truth)))
        rows.append(("autoregression", name, -1, rmse(ar_error, 0 * truth)))
        for kind, model in networks.items():
            prediction = predict(model, evaluation)[0][:, part][:, order - 1:-1]  # forecast of t + 1 made at t
            for r, guess in enumerate(prediction):
                rows.append((kind, name, r, rmse(guess, truth)))
                if name == "test":
                    statistic, p = diebold_mariano(guess - truth, ar_error)
                    tests.append((kind, r, rmse(guess, truth) * split.std, rmse(ar_error, 0 * truth) * split.std,
                                  statistic, p))
    errors = pd.DataFrame(rows, columns=["model", "part", "replicate", "rmse"])
    errors["rmse_units"] = errors["rmse"] * split.std
    tests = pd.DataFrame(tests, columns=["kind", "replicate", "rmse_units", "baseline_units", "statistic", "p_value"])
    tests.insert(4, "ratio", tests["rmse_units"] / tests["baseline_units"])
    tests["p_adjusted"] = np.concatenate([adjust(g.to_numpy(), "holm") for _, g in
                                          tests.groupby("kind", sort=False)["p_value"]])
    tests["worse"] = tests["p_adjusted"] < alpha
    matches = {kind: not bool(g["worse"].any()) for kind, g in tests.groupby("kind", sort=False)}
    return Comparison(errors, tests, order, matches)


def fully_recurrent(replicates: int, hidden: int, seeds=None) -> Stacked:
    """The source's fully recurrent network as a ``Stacked`` RNN.

    One input neuron clamped to the series (driving every unit through ``weight_ih``), ``hidden``
    all-to-all tanh units, the last of which is the output: the readout is fixed to
    ``OUTPUT_GAIN`` × that unit, bias 0. Train it with ``irn.train.fit(..., on_step=freeze_readout)``
    so the readout stays fixed.

    Parameters
    ----------
    replicates : int
    hidden : int
        Units including the output unit (at least 2).
    seeds : sequence of int, optional
        One initialisation seed per replicate.

    Returns
    -------
    irn.models.Stacked
    """
    params.require(hidden, "hidden", params.integer(low=2))  # at least one hidden unit and the output
    model = Stacked("rnn", replicates, 1, hidden, seeds, n_outputs=1, readout="linear")
    with torch.no_grad():
        model.readout_weight.zero_()
        model.readout_weight[:, 0, hidden - 1] = OUTPUT_GAIN
        model.readout_bias.zero_()
    return model


def freeze_readout(epoch: int, model: Stacked) -> None:
    """``on_step`` callback of ``irn.train.fit`` that keeps the readout fixed.

    It zeroes the readout's gradients, so Adam never moves it (its moment estimates stay 0): the fully
    recurrent network's output unit stays the output.

    Parameters
    ----------
    epoch : int
        The epoch (unused; the callback's signature).
    model : irn.models.Stacked
    """
    for p in (model.readout_weight, model.readout_bias):
        if p.grad is not None:
            p.grad.zero_()


def forecasters(kind: str, split: Split, replicates: int, hidden: int = 12, *, arch: str = "rnn",
                steps: int = 48, epochs: int = 400, lr: float = 1e-2, seed: int = 0,
                source: str = "seattle-weather") -> tuple[Stacked, dict]:
    """Trained forecasters of one kind, from the zoo or trained now and stored.

    Training: ``irn.train.fit`` (full batch, Adam, mean squared error at every step of
    ``windows(split.train, steps)``, a fixed budget of ``epochs``). Replicate r has seed
    ``seed * 1000 + r``.

    Parameters
    ----------
    kind : str
        A key of ``KINDS``; "fully_recurrent" is always an RNN (``arch`` is ignored).
    split : Split
    replicates : int
    hidden : int
        Recurrent units.
    arch : str
        "rnn", "gru" or "lstm" (stacked forecasters).
    steps : int
        Length of a training sequence.
    epochs : int
    lr : float
        Adam's learning rate.
    seed : int
    source : str
        Names the record in the zoo entry (with a digest of the training part, so another split never
        reuses an entry).

    Returns
    -------
    model : irn.models.Stacked
    meta : dict
        The training loss of each replicate (train_loss) and the zoo entry's name (zoo_entry).
    """
    params.require(kind, "kind", params.one_of(KINDS))
    check_arch(arch)
    if kind == "fully_recurrent":
        arch = "rnn"
    for name, value, low in (("replicates", replicates, 1), ("hidden", hidden, 2), ("epochs", epochs, 1),
                             ("steps", steps, 2), ("seed", seed, 0)):
        check_count(value, name, low)
    params.require(lr, "lr", params.number(0, closed=False))
    inputs, targets = windows(split.train, steps)
    digest = hashlib.sha256(np.ascontiguousarray(split.train).tobytes()).hexdigest()[:16]
    spec = {"kind": kind, "arch": arch, "replicates": replicates, "hidden": hidden, "steps": steps,
            "epochs": epochs, "lr": lr, "seed": seed, "source": source, "train": digest,
            "output_gain": OUTPUT_GAIN if kind == "fully_recurrent" else None}
    seeds = [seed * 1000 + r for r in range(replicates)]

    def build():
        if kind == "fully_recurrent":
            model = fully_recurrent(replicates, hidden, seeds)
            on_step = freeze_readout
        else:
            model = Stacked(arch, replicates, 1, hidden, seeds, n_outputs=1, readout="linear")
            on_step = None
        fitted = train.fit(model, inputs, targets, None, loss="mse", epochs=epochs, lr=lr, seed=seed,
                           progress=False, on_step=on_step)
        last = fitted.history.sort_values("epoch").groupby("replicate")["loss"].last()
        return fitted.model, {"train_loss": [float(v) for v in last]}

    model, meta = zoo.cached(f"forecast-{kind}", spec, build)
    return model, {**meta, "zoo_entry": zoo.cached_key(f"forecast-{kind}", spec)}


@torch.no_grad()
def predict(model: Stacked, series) -> tuple[np.ndarray, np.ndarray]:
    """Run every replicate along a series as one sequence.

    Parameters
    ----------
    model : irn.models.Stacked
    series : array_like, shape (samples,)

    Returns
    -------
    predictions : ndarray, shape (replicates, samples)
        predictions[:, t] is the forecast of series[t + 1].
    hidden : ndarray, shape (replicates, samples, nodes)
    """
    x = torch.as_tensor(np.asarray(series, dtype=np.float32)).reshape(1, -1, 1)
    trace = model(x)
    return trace.output[:, 0, :, 0].numpy().astype(float), trace.hidden[:, 0].numpy().astype(float)


@dataclass(frozen=True)
class Activity:
    """Every neuron of every replicate along a series.

    Neuron 0 is the input; for "stacked" the last neuron is the linear readout, for
    "fully_recurrent" it is the output unit (the readout is a fixed multiple of it, so it is not a
    separate neuron).

    Attributes
    ----------
    values : ndarray, shape (replicates, samples, neurons)
    roles : ndarray, shape (neurons,)
        "input", "hidden" or "output".
    kind : str
        "stacked" or "fully_recurrent".
    """

    values: np.ndarray
    roles: np.ndarray
    kind: str


def neuron_activity(model: Stacked, series, kind: str, warmup: int = 0) -> Activity:
    """Record the input, hidden and output neurons of a forecaster along a series.

    Parameters
    ----------
    model : irn.models.Stacked
    series : array_like, shape (samples,)
    kind : str
        A key of ``KINDS`` (tells which neuron is the output).
    warmup : int
        The first ``warmup`` steps are run but not returned (the state settles from zero).

    Returns
    -------
    Activity
    """
    params.require(kind, "kind", params.one_of(KINDS))
    series = params.array(series, "series", ndim=1, min_samples=11)
    params.require(warmup, "warmup", params.integer(0, len(series) - 11))
    prediction, hidden = predict(model, series)
    r, n = hidden.shape[0], hidden.shape[1]
    inputs = np.broadcast_to(series[None, :, None], (r, n, 1))
    if kind == "stacked":
        values = np.concatenate([inputs, hidden, prediction[:, :, None]], axis=2)
        roles = ["input"] + ["hidden"] * hidden.shape[2] + ["output"]
    else:
        values = np.concatenate([inputs, hidden], axis=2)
        roles = ["input"] + ["hidden"] * (hidden.shape[2] - 1) + ["output"]
    return Activity(np.ascontiguousarray(values[:, warmup:]), np.array(roles), kind)
