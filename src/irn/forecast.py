"""Forecasting a real temperature series: the data, its time split, the baselines, and the
networks whose neurons the information-flow analysis records.

Ivanovic, Kha & Muruganantham ("Analyzing Information in RNNs", CS 294-131 report, §3) study a
recurrent network that predicts an airport's next temperature from the past ones. irn uses a
public-domain NOAA record that ships inside the ``vega_datasets`` package, so nothing downloads
(DESIGN §12): ``seattle-temps``, hourly temperatures at Seattle in 2010 (8759 hours, °F), or
``seattle-weather``, daily maxima 2012–2015 (1461 days, °C).

* ``temperature`` loads a record; ``split_series`` cuts it by time into training, validation and
  test parts and standardises all three with the training mean and standard deviation;
  ``windows`` cuts a part into sequences whose target at every step is the next value.
* ``baseline_errors`` gives the two forecasts a network must beat: persistence (tomorrow = today)
  and a linear autoregression fitted by least squares on the training part.
* Two kinds of network, both ``irn.models.Stacked`` with a linear readout:
  ``"stacked"`` — the paper-style forecaster, a recurrent layer and a trained ``Linear(hidden, 1)``;
  ``"fully_recurrent"`` — the seed's network: one all-to-all recurrent layer in which the input
  neuron is clamped to the series, the other units receive it through ``weight_ih``, and the last
  unit *is* the output (``fully_recurrent`` fixes the readout to that unit times ``OUTPUT_GAIN``;
  ``freeze_readout`` keeps it fixed during ``irn.train.fit``). So input, hidden and output neurons
  are units of one recurrent layer and any layer-like structure has to emerge.
* ``neuron_activity`` runs a network along a whole part and returns every neuron's activity with
  its role (input, hidden, output), the input of ``irn.flow``.

Hand-written because the baselines are three lines of numpy (statsmodels' AutoReg would be a
large dependency for one least-squares fit).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from irn import train, zoo
from irn.models import Stacked, check_arch
from irn.params import check_count

__all__ = [
    "SOURCES",
    "KINDS",
    "OUTPUT_GAIN",
    "temperature",
    "Split",
    "split_series",
    "windows",
    "rmse",
    "baseline_errors",
    "fully_recurrent",
    "freeze_readout",
    "forecasters",
    "predict",
    "neuron_activity",
    "Activity",
]

SOURCES = {
    "seattle-temps": ("temp", "°F", "hourly temperature at Seattle, 2010 (NOAA, public domain; "
                                    "vega_datasets 'seattle-temps')"),
    "seattle-weather": ("temp_max", "°C", "daily maximum temperature at Seattle, 2012–2015 (NOAA, "
                                          "public domain; vega_datasets 'seattle-weather')"),
}
KINDS = ("stacked", "fully_recurrent")
OUTPUT_GAIN = 3.0  # fixed readout of the fully recurrent network: forecast = 3 × output unit (tanh)


def temperature(source: str = "seattle-temps") -> pd.DataFrame:
    """The temperature record ``source`` (a key of ``SOURCES``) from the copy bundled with
    vega_datasets — no network access. Columns: date, temperature (units in ``SOURCES``)."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {tuple(SOURCES)}, got {source!r}")
    from vega_datasets import local_data

    column = SOURCES[source][0]
    frame = getattr(local_data, source.replace("-", "_"))()
    return pd.DataFrame({"date": pd.to_datetime(frame["date"]),
                         "temperature": frame[column].astype(float)}).sort_values("date", ignore_index=True)


@dataclass(frozen=True)
class Split:
    """A series cut by time and standardised with the training part's mean and std.

    train, validation, test: 1-D float arrays (standardised, in this order in time);
    mean, std: of the training part, in the record's units (value = standardised × std + mean).
    """

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    mean: float
    std: float

    def part(self, name: str) -> np.ndarray:
        if name not in ("train", "validation", "test"):
            raise ValueError(f"name must be 'train', 'validation' or 'test', got {name!r}")
        return getattr(self, name)


def split_series(values, train: float = 0.6, validation: float = 0.2) -> Split:
    """Cut ``values`` (samples,) by time: the first ``train`` share, the next ``validation``
    share, the rest for testing; standardise with the training part's mean and std."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or len(values) < 30 or not np.all(np.isfinite(values)):
        raise ValueError(f"values must be a finite 1-D series of at least 30 samples, got shape {values.shape}")
    for name, share in (("train", train), ("validation", validation)):
        if not isinstance(share, (int, float)) or not 0 < share < 1:
            raise ValueError(f"{name} must be a share in (0, 1), got {share!r}")
    if train + validation >= 1:
        raise ValueError(f"train + validation must be < 1 to leave a test part, got {train + validation}")
    a, b = int(len(values) * train), int(len(values) * (train + validation))
    mean, std = values[:a].mean(), values[:a].std()
    if std == 0:
        raise ValueError("values must vary over the training part")
    scaled = (values - mean) / std
    return Split(scaled[:a], scaled[a:b], scaled[b:], float(mean), float(std))


def windows(series, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping sequences of ``steps`` inputs, each step's target the next value.

    series: (samples,). Returns inputs (sequences, steps, 1) and targets (sequences, steps, 1)
    float32, with targets[:, t] = series[start + t + 1].
    """
    series = np.asarray(series, dtype=np.float32)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 1 <= steps < len(series) - 1:
        raise ValueError(f"steps must be an integer in 1…{len(series) - 2}, got {steps!r}")
    count = (len(series) - 1) // steps
    inputs = series[:count * steps].reshape(count, steps, 1)
    targets = series[1:count * steps + 1].reshape(count, steps, 1)
    return inputs, targets


def rmse(prediction, truth) -> float:
    """Root mean squared error of two arrays of the same shape."""
    prediction, truth = np.asarray(prediction, float), np.asarray(truth, float)
    if prediction.shape != truth.shape:
        raise ValueError(f"prediction {prediction.shape} and truth {truth.shape} must have one shape")
    return float(np.sqrt(np.mean((prediction - truth) ** 2)))


def _lagged(series: np.ndarray, order: int) -> np.ndarray:
    """(samples − order, order + 1): columns x[t−order+1 … t] and a constant."""
    n = len(series)
    cols = [series[order - 1 - j:n - 1 - j] for j in range(order)]
    return np.column_stack([*cols, np.ones(n - order)])


def baseline_errors(split: Split, order: int = 24) -> pd.DataFrame:
    """Persistence and a linear AR(``order``) forecast of the next value, fitted on the training
    part; RMSE per part in standardised units and in the record's units.

    Returns columns model ("persistence", "autoregression"), part, rmse, rmse_units.
    """
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or not 1 <= order < len(split.train) // 2:
        raise ValueError(f"order must be an integer in 1…{len(split.train) // 2 - 1}, got {order!r}")
    design = _lagged(split.train, order)
    coef = np.linalg.lstsq(design, split.train[order:], rcond=None)[0]
    rows = []
    for name in ("train", "validation", "test"):
        x = split.part(name)
        rows.append(("persistence", name, rmse(x[order - 1:-1], x[order:])))
        rows.append(("autoregression", name, rmse(_lagged(x, order) @ coef, x[order:])))
    frame = pd.DataFrame(rows, columns=["model", "part", "rmse"])
    frame["rmse_units"] = frame["rmse"] * split.std
    return frame


def fully_recurrent(replicates: int, hidden: int, seeds=None) -> Stacked:
    """The seed's fully recurrent network as a ``Stacked`` RNN: one input neuron clamped to the
    series (driving every unit through ``weight_ih``), ``hidden`` all-to-all tanh units, the last
    of which is the output: the readout is fixed to ``OUTPUT_GAIN`` × that unit, bias 0.

    Train it with ``irn.train.fit(..., on_step=freeze_readout)`` so the readout stays fixed.
    """
    if isinstance(hidden, bool) or not isinstance(hidden, (int, np.integer)) or hidden < 2:
        raise ValueError(f"hidden must be an integer ≥ 2 (at least one hidden unit and the output), got {hidden!r}")
    model = Stacked("rnn", replicates, 1, hidden, seeds, n_outputs=1, readout="linear")
    with torch.no_grad():
        model.readout_weight.zero_()
        model.readout_weight[:, 0, hidden - 1] = OUTPUT_GAIN
        model.readout_bias.zero_()
    return model


def freeze_readout(epoch: int, model: Stacked) -> None:
    """``on_step`` callback of ``irn.train.fit``: zero the readout's gradients, so Adam never moves
    it (its moment estimates stay 0) — the fully recurrent network's output unit stays the output."""
    for p in (model.readout_weight, model.readout_bias):
        if p.grad is not None:
            p.grad.zero_()


def forecasters(kind: str, split: Split, replicates: int, hidden: int = 12, *, arch: str = "rnn",
                steps: int = 48, epochs: int = 400, lr: float = 1e-2, seed: int = 0,
                source: str = "seattle-temps") -> tuple[Stacked, dict]:
    """``replicates`` trained forecasters of one ``kind`` (a key of ``KINDS``), from the zoo or
    trained now with ``irn.train.fit`` (full batch, Adam, mean squared error at every step of
    ``windows(split.train, steps)``, a fixed budget of ``epochs``) and stored.

    kind "fully_recurrent" is always an RNN (``arch`` is ignored); replicate r has seed
    ``seed * 1000 + r``. ``source`` only names the record in the zoo entry (with a digest of the
    training part, so another split never reuses an entry). Returns (model, meta) where meta
    holds the training loss of each replicate and the zoo entry's name (``zoo_entry``).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    check_arch(arch)
    if kind == "fully_recurrent":
        arch = "rnn"
    for name, value, low in (("replicates", replicates, 1), ("hidden", hidden, 2), ("epochs", epochs, 1),
                             ("steps", steps, 2), ("seed", seed, 0)):
        check_count(value, name, low)
    if not isinstance(lr, (int, float)) or not lr > 0:
        raise ValueError(f"lr must be a positive number, got {lr!r}")
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
    """Run every replicate along ``series`` (samples,) as one sequence.

    Returns (predictions (replicates, samples), hidden (replicates, samples, nodes)):
    predictions[:, t] is the forecast of series[t + 1].
    """
    x = torch.as_tensor(np.asarray(series, dtype=np.float32)).reshape(1, -1, 1)
    trace = model(x)
    return trace.output[:, 0, :, 0].numpy().astype(float), trace.hidden[:, 0].numpy().astype(float)


@dataclass(frozen=True)
class Activity:
    """Every neuron of every replicate along a series.

    values: (replicates, samples, neurons); roles: (neurons,) of "input", "hidden", "output";
    kind: "stacked" or "fully_recurrent". Neuron 0 is the input; for "stacked" the last neuron
    is the linear readout, for "fully_recurrent" it is the output unit (the readout is a fixed
    multiple of it, so it is not a separate neuron).
    """

    values: np.ndarray
    roles: np.ndarray
    kind: str


def neuron_activity(model: Stacked, series, kind: str, warmup: int = 0) -> Activity:
    """Record input, hidden and output neurons of ``model`` along ``series`` (samples,).

    warmup: the first ``warmup`` steps are run but not returned (the state settles from zero).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    series = np.asarray(series, dtype=float)
    if isinstance(warmup, bool) or not isinstance(warmup, (int, np.integer)) or not 0 <= warmup < len(series) - 10:
        raise ValueError(f"warmup must be an integer in 0…{len(series) - 11}, got {warmup!r}")
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
