"""A record of training: hidden states on a probe set and minibatch-gradient statistics per epoch.

The information plane (``irn.plane``) needs the hidden states of a fixed probe set at many
points of training, and the drift/diffusion picture of Shwartz-Ziv & Tishby (2017, §4) needs,
for every weight matrix, the mean and the spread of the minibatch gradients within each epoch:
‖mean‖, ‖std‖ and their ratio, the signal-to-noise ratio (SNR). While SNR ≫ 1 the gradients
agree (*drift*); once the noise dominates (SNR < 1) training is a random walk (*diffusion*). The
information-flow report (Ivanovic, Kha & Muruganantham, §1 question 5) asks whether recurrent networks show the
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
    """The weight matrix a parameter name belongs to.

    Parameters
    ----------
    name : str
        A parameter name of an `irn.models.Stacked`.

    Returns
    -------
    str or None
        "input", "recurrent" or "readout" (with "_l{layer}" for layers above the first), or None
        for biases.
    """
    if name == "readout_weight":
        return "readout"
    for prefix, kind in (("weight_ih", "input"), ("weight_hh", "recurrent")):
        if name.startswith(prefix):
            layer = name[len(prefix):].lstrip("_l")
            return kind if layer in ("", "0") else f"{kind}_l{layer}"
    return None


@dataclass(frozen=True)
class TrainingRecord:
    """What a `Recorder` saw.

    Attributes
    ----------
    epochs : ndarray, shape (E,)
        The epochs of the snapshots (0 = before training).
    hidden : ndarray, shape (E, replicates, samples, nodes)
        Hidden state of the probe set at ``probe_step``.
    output : ndarray, shape (E, replicates, samples, n_outputs)
        The network's output there.
    gradients : pandas.DataFrame
        Columns replicate, epoch, matrix, batches, mean_norm, std_norm, snr — one row per
        replicate × trained epoch × weight matrix.
    history : pandas.DataFrame or None
        `irn.train.fit`'s history (replicate, epoch, loss[, accuracy]) or None.
    """

    epochs: np.ndarray
    hidden: np.ndarray
    output: np.ndarray
    gradients: pd.DataFrame
    history: pd.DataFrame | None = None


class Recorder:
    """Hooks for `irn.train.fit` that record one training run of every replicate.

    Call ``snapshot(0, model)`` before training for the untrained state.

    Parameters
    ----------
    probe : array_like, shape (samples, steps, n_inputs)
        Inputs whose hidden states are snapshotted.
    probe_step : int or array_like, shape (samples,)
        The 0-based step read, for all samples or per sample.
    record_epochs : sequence of int or None, optional
        The epochs whose end is snapshotted (default: every epoch).
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
        """Keep every weight matrix's gradient (replicates first) of one minibatch.

        Parameters
        ----------
        epoch : int
            The epoch (fit's 0-based count).
        model : irn.models.Stacked
            The model being trained, after its backward pass.
        """
        for name, p in model.named_parameters():
            kind = matrix_of(name)
            if kind is not None and p.grad is not None:
                self._grads.setdefault(kind, []).append(p.grad.detach().reshape(p.shape[0], -1).clone())

    def on_epoch(self, epoch: int, model) -> None:
        """Reduce the epoch's minibatch gradients to mean/std norms; snapshot the probe if due.

        Parameters
        ----------
        epoch : int
            The epoch just finished (fit's 0-based count).
        model : irn.models.Stacked
            The model being trained.
        """
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
        """Record the probe's hidden state and output at ``probe_step`` now.

        Parameters
        ----------
        epoch : int
            The number of completed epochs (0 before training).
        model : irn.models.Stacked
            The model.
        """
        trace = model(self.probe)
        rows = torch.arange(self.probe.shape[0])
        self._snaps.append((int(epoch), trace.hidden[:, rows, self.probe_step].numpy().copy(),
                            trace.output[:, rows, self.probe_step].numpy().copy()))

    def result(self, history: pd.DataFrame | None = None) -> TrainingRecord:
        """The record so far, snapshots in epoch order.

        Parameters
        ----------
        history : pandas.DataFrame or None, optional
            `irn.train.fit`'s history to keep with it.

        Returns
        -------
        TrainingRecord
            Snapshots, gradient statistics and the history.
        """
        if not self._snaps:
            raise ValueError("nothing recorded yet: call snapshot or run fit with these hooks first")
        snaps = sorted(self._snaps, key=lambda s: s[0])
        gradients = pd.DataFrame(self._rows, columns=["replicate", "epoch", "matrix", "batches",
                                                      "mean_norm", "std_norm", "snr"])
        return TrainingRecord(np.array([s[0] for s in snaps]), np.stack([s[1] for s in snaps]),
                              np.stack([s[2] for s in snaps]), gradients, history)


def record_fit(model, inputs, targets, answer_step=None, *, probe, probe_step, record_epochs=None,
               **fit_options) -> TrainingRecord:
    """Train a model with `irn.train.fit` while a `Recorder` watches.

    Epochs in the record count completed epochs: snapshot 0 is the untrained state, gradients of
    epoch e are those of fit's e-th epoch (fit's own 0-based ``epoch`` + 1), and ``record_epochs``
    uses the same count. fit trains a copy; ``model`` is left untouched.

    Parameters
    ----------
    model : irn.models.Stacked
        The replicates to train.
    inputs, targets, answer_step
        Passed to `irn.train.fit` unchanged.
    probe : array_like, shape (samples, steps, n_inputs)
        Inputs whose hidden states are snapshotted.
    probe_step : int or array_like, shape (samples,)
        The 0-based step read.
    record_epochs : sequence of int or None, optional
        The epochs whose end is snapshotted (default: every epoch).
    **fit_options
        Passed to `irn.train.fit` (loss, epochs, lr, batch, criterion, seed, progress).

    Returns
    -------
    TrainingRecord
        With fit's history (its 0-based epochs: loss during epoch e + 1 and accuracy before it).
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
    """The drift → diffusion transition: the first epoch where the gradient SNR falls below a threshold.

    The SNR is smoothed by a running median over ``window`` epochs first (single epochs are noisy).

    Parameters
    ----------
    gradients : pandas.DataFrame
        `TrainingRecord.gradients` (other grouping columns may be added to ``by``).
    threshold : float, optional
        The SNR below which training diffuses.
    window : int, optional
        Epochs of the running median.
    by : sequence of str, optional
        The columns of one SNR curve.

    Returns
    -------
    pandas.DataFrame
        ``by`` + drop_epoch (NaN when the SNR never falls below ``threshold``), start_snr (median of
        the first ``window`` epochs), end_snr (median of the last ``window``).
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
