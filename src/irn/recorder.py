"""A record of training: hidden states on a probe set and minibatch-gradient statistics per epoch.

The information plane (``irn.plane``) needs the hidden states of a fixed probe set at many
points of training, and the drift/diffusion picture of Shwartz-Ziv & Tishby (2017, §4) needs,
for every weight matrix, the mean and the spread of the minibatch gradients within each epoch:
‖mean‖, ‖std‖ and their ratio, the signal-to-noise ratio (SNR). While SNR ≫ 1 the gradients
agree (*drift*); once the noise dominates (SNR < 1) training is a random walk (*diffusion*). The
third seed (Ivanovic, Kha & Muruganantham, §1 question 5) asks whether recurrent networks show the
same two phases.

A :class:`Recorder` is a pair of hooks for ``irn.train.fit`` (``on_step`` after every
minibatch's backward pass, ``on_epoch`` after every epoch), so every replicate of a ``Stacked``
model is recorded at once by the same training loop that trains it; :func:`record_fit` runs
``fit`` with one. The statistics follow artemyk/ibsgd's ``loggingreporter.py``: per replicate and
matrix, the element-wise mean and (population) standard deviation of the epoch's minibatch
gradients, each reduced to its Euclidean norm. Hand-written because the statistics need the
gradient of every minibatch of every replicate, which no optimiser or logger keeps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from irn import params
from irn.train import fit

__all__ = ["Recorder", "TrainingRecord", "record_fit", "matrix_of", "snr_drop"]


def matrix_of(name: str) -> str | None:
    """The weight matrix a parameter name belongs to: "input", "recurrent", "readout" (with
    "_l{layer}" for layers above the first), or None for biases."""
    if name == "readout_weight":
        return "readout"
    for prefix, kind in (("weight_ih", "input"), ("weight_hh", "recurrent")):
        if name.startswith(prefix):
            layer = name[len(prefix):].lstrip("_l")
            return kind if layer in ("", "0") else f"{kind}_l{layer}"
    return None


@dataclass(frozen=True)
class TrainingRecord:
    """What a :class:`Recorder` saw.

    epochs: (E,) the epochs of the snapshots (0 = before training);
    hidden: (E, replicates, samples, nodes) hidden state of the probe set at ``probe_step``;
    output: (E, replicates, samples, n_outputs) the network's output there;
    gradients: columns replicate, epoch, matrix, batches, mean_norm, std_norm, snr — one row per
    replicate × trained epoch × weight matrix;
    history: ``irn.train.fit``'s history (replicate, epoch, loss[, accuracy]) or None.
    """

    epochs: np.ndarray
    hidden: np.ndarray
    output: np.ndarray
    gradients: pd.DataFrame
    history: pd.DataFrame | None = None


class Recorder:
    """Hooks for ``irn.train.fit`` that record one training run of every replicate.

    probe: (samples, steps, n_inputs) inputs whose hidden states are snapshotted;
    probe_step: the 0-based step read (an int, or a (samples,) vector of per-sample steps);
    record_epochs: the epochs whose end is snapshotted (default: every epoch).
    Call ``snapshot(0, model)`` before training for the untrained state.
    """

    def __init__(self, probe, probe_step, record_epochs=None):
        probe = torch.as_tensor(probe, dtype=torch.float32)
        if probe.dim() != 3 or probe.shape[0] < 1:
            raise ValueError(f"probe must be (samples, steps, n_inputs), got shape {tuple(probe.shape)}")
        step = torch.as_tensor(probe_step, dtype=torch.long)
        if step.dim() == 0:
            step = step.expand(probe.shape[0])
        if step.shape != (probe.shape[0],) or bool(((step < 0) | (step >= probe.shape[1])).any()):
            raise ValueError(f"probe_step must be an int or a (samples,) vector of steps in "
                             f"0…{probe.shape[1] - 1}")
        self.probe, self.probe_step = probe, step
        self.record_epochs = None if record_epochs is None else {int(e) for e in record_epochs}
        self._grads: dict[str, list[torch.Tensor]] = {}
        self._rows: list[tuple] = []
        self._snaps: list[tuple[int, np.ndarray, np.ndarray]] = []

    def on_step(self, epoch: int, model) -> None:
        """Keep every weight matrix's gradient (replicates first) of one minibatch."""
        for name, p in model.named_parameters():
            kind = matrix_of(name)
            if kind is not None and p.grad is not None:
                self._grads.setdefault(kind, []).append(p.grad.detach().reshape(p.shape[0], -1).clone())

    def on_epoch(self, epoch: int, model) -> None:
        """Reduce the epoch's minibatch gradients to mean/std norms; snapshot the probe if due."""
        for kind, grads in self._grads.items():
            g = torch.stack(grads).double()  # (batches, replicates, weights)
            mean_norm = g.mean(0).norm(dim=1)
            std_norm = g.std(0, unbiased=False).norm(dim=1)
            snr = mean_norm / std_norm
            for r in range(g.shape[1]):
                self._rows.append((r, int(epoch), kind, g.shape[0], float(mean_norm[r]),
                                   float(std_norm[r]), float(snr[r])))
        self._grads = {}
        if self.record_epochs is None or int(epoch) in self.record_epochs:
            self.snapshot(epoch, model)

    @torch.no_grad()
    def snapshot(self, epoch: int, model) -> None:
        """Record the probe's hidden state and output at ``probe_step`` now."""
        trace = model(self.probe)
        rows = torch.arange(self.probe.shape[0])
        self._snaps.append((int(epoch), trace.hidden[:, rows, self.probe_step].numpy().copy(),
                            trace.output[:, rows, self.probe_step].numpy().copy()))

    def result(self, history: pd.DataFrame | None = None) -> TrainingRecord:
        """The record so far, snapshots in epoch order."""
        if not self._snaps:
            raise ValueError("nothing recorded yet: call snapshot or run fit with these hooks first")
        snaps = sorted(self._snaps, key=lambda s: s[0])
        gradients = pd.DataFrame(self._rows, columns=["replicate", "epoch", "matrix", "batches",
                                                      "mean_norm", "std_norm", "snr"])
        return TrainingRecord(np.array([s[0] for s in snaps]), np.stack([s[1] for s in snaps]),
                              np.stack([s[2] for s in snaps]), gradients, history)


def record_fit(model, inputs, targets, answer_step=None, *, probe, probe_step, record_epochs=None,
               **fit_options) -> TrainingRecord:
    """Train ``model`` with ``irn.train.fit`` while a :class:`Recorder` watches.

    inputs, targets, answer_step and ``fit_options`` (loss, epochs, lr, batch, criterion, seed,
    progress) go to ``fit`` unchanged; probe, probe_step, record_epochs to the ``Recorder``.
    Epochs in the record count completed epochs: snapshot 0 is the untrained state, gradients of
    epoch e are those of fit's e-th epoch (fit's own 0-based ``epoch`` + 1), and ``record_epochs``
    uses the same count. Returns the ``TrainingRecord`` with fit's history (its 0-based epochs:
    loss during epoch e + 1 and accuracy before it). fit trains a copy; ``model`` is left untouched.
    """
    for hook in ("on_step", "on_epoch"):
        if hook in fit_options:
            raise ValueError(f"record_fit sets {hook} itself; pass fit_options without it")
    recorder = Recorder(probe, probe_step, record_epochs)
    recorder.snapshot(0, model)
    # fit numbers epochs from 0; the record counts completed epochs, so 0 is the untrained state
    result = fit(model, inputs, targets, answer_step, on_step=lambda e, m: recorder.on_step(e + 1, m),
                 on_epoch=lambda e, m: recorder.on_epoch(e + 1, m), **fit_options)
    return recorder.result(result.history)


def snr_drop(gradients: pd.DataFrame, threshold: float = 1.0, window: int = 5,
             by=("replicate", "matrix")) -> pd.DataFrame:
    """The drift → diffusion transition: the first epoch where the SNR falls below ``threshold``.

    gradients: ``TrainingRecord.gradients`` (other grouping columns may be added to ``by``);
    the SNR is smoothed by a running median over ``window`` epochs first (single epochs are noisy).
    Returns ``by`` + drop_epoch (NaN when the SNR never falls below it), start_snr (median of the
    first ``window`` epochs), end_snr (median of the last ``window``).
    """
    missing = [c for c in (*by, "epoch", "snr") if c not in gradients]
    if missing:
        raise ValueError(f"gradients must have columns {[*by, 'epoch', 'snr']}; it lacks {missing}")
    if not (isinstance(threshold, (int, float)) and threshold > 0):
        raise ValueError(f"threshold must be a positive number, got {threshold!r}")
    params.check_count(window, "window", 1)
    rows = []
    for key, g in gradients.sort_values("epoch").groupby(list(by), sort=False):
        smooth = g.snr.rolling(window, min_periods=1).median().to_numpy()
        below = np.flatnonzero(smooth < threshold)
        rows.append((*(key if isinstance(key, tuple) else (key,)),
                     float(g.epoch.iloc[below[0]]) if len(below) else np.nan,
                     float(g.snr.iloc[:window].median()), float(g.snr.iloc[-window:].median())))
    return pd.DataFrame(rows, columns=[*by, "drop_epoch", "start_snr", "end_snr"])
