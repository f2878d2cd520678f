"""The information plane of a recurrent layer: I(X;T) and I(T;Y) during training.

Shwartz-Ziv & Tishby (2017) follow each hidden layer T of a network through the *information
plane* — its information about the input, I(X;T), against its information about the label,
I(T;Y) — and report a fitting phase (both rise) followed by a compression phase (I(X;T) falls).
The third seed (Ivanovic, Kha & Muruganantham, §1 questions 3–5) asks whether this holds for
recurrent networks. Two critiques shape what is measured here (DESIGN §12):

* Saxe et al. (ICLR 2018): compression appears with tanh units and not with ReLU, and is not tied
  to generalisation;
* Goldfeld et al. (ICML 2019): for a deterministic network and a continuous X the true I(X;T) is
  infinite (and for a discrete X it is the constant H(X) as soon as T is injective), so any finite,
  changing estimate measures how the estimator sees T, mostly how *clustered* the hidden states are.

So every estimate here is labelled with what it measures, and the chapter shows several side by side.
Three estimator strategies share one call signature ``estimator(hidden, x, y) -> (i_xt, i_ty)``
in bits, and :func:`information_plane` runs any of them over a training record:

* :class:`Binning` (Shwartz-Ziv & Tishby): every node's activity cut into ``bins`` equal bins; the
  plug-in I(X;T_bin) and I(T_bin;Y) of ``irn.info``. With one sample per input, I(X;T_bin) =
  H(T_bin) ≤ log2(samples): the number of distinct binned states;
* :class:`KDE` (Kolchinsky & Tracey 2017 as used by Saxe et al.): T is replaced by T + Gaussian
  noise of variance ``noise``; the pairwise-KL upper bound on the entropy of that Gaussian mixture
  minus the known noise entropy bounds I(X;T+noise); I(T;Y) is the same bound's H(T) − H(T|Y);
* :class:`KSG` (Kraskov, Stögbauer & Grassberger 2004) through ``irn.ksg``: a k-nearest-neighbour
  estimate on the z-scored continuous T, against the input sequences for I(X;T) and against the
  ±1 label bits for I(T;Y) (with a discrete Y, whose ties the added jitter breaks, it comes close to
  Ross's 2014 estimator for a discrete and a continuous variable).

Binning and the KDE bound are written here (a few lines each over ``irn.info`` and numpy) because
no maintained package implements them for stacked replicates; KSG is irn's own, shared with the
information-flow chapter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial.distance import cdist

from irn import info, params

__all__ = ["Binning", "KDE", "KSG", "information_plane", "compression", "gaussian_mixture_entropy"]

LN2 = math.log(2.0)


def _check_hidden(hidden) -> np.ndarray:
    hidden = np.asarray(hidden, dtype=np.float64)
    if hidden.ndim != 2 or hidden.shape[0] < 2 or hidden.shape[1] < 1:
        raise ValueError(f"hidden must be a (samples, nodes) array with at least 2 samples and 1 node, "
                         f"got shape {hidden.shape}")
    if not np.all(np.isfinite(hidden)):
        raise ValueError("hidden must hold finite values")
    return hidden


def _check_labels(values, name: str, samples: int) -> np.ndarray:
    values = np.asarray(values)
    if values.ndim not in (1, 2) or values.shape[0] != samples:
        raise ValueError(f"{name} must be (samples,) or (samples, k) with {samples} samples, "
                         f"got shape {values.shape}")
    return values


def _codes(values) -> np.ndarray:
    """(samples,) integer code of each row's distinct value (rows of a 2-D array, float or int)."""
    values = np.asarray(values)
    if values.ndim == 1:
        values = values[:, None]
    return np.unique(values, axis=0, return_inverse=True)[1].ravel()


@dataclass(frozen=True)
class Binning:
    """Plug-in MI of the binned hidden state (Shwartz-Ziv & Tishby 2017).

    bins: equal-width bins per node over ``limits`` (lo, hi); ``limits=None`` takes the smallest and
    largest activity of the hidden states given (the ReLU convention of Saxe et al.; for tanh units
    pass (-1, 1), the convention of Shwartz-Ziv & Tishby).
    Measures: how many distinct binned states the layer uses and how they line up with X and Y —
    clustering at the scale of one bin, not the information of the continuous T.
    """

    bins: int = 30
    limits: tuple[float, float] | None = None

    def __post_init__(self):
        params.check_count(self.bins, "bins", 2)
        if self.limits is not None and (len(self.limits) != 2 or not self.limits[0] < self.limits[1]):
            raise ValueError(f"limits must be None or (lo, hi) with lo < hi, got {self.limits!r}")

    @property
    def label(self) -> str:
        return f"binning ({self.bins} bins)"

    measures = "distinct binned states (clustering at one bin's scale)"

    def binned(self, hidden) -> np.ndarray:
        """(samples,) code of each sample's binned state; hidden: (samples, nodes)."""
        hidden = _check_hidden(hidden)
        lo, hi = (hidden.min(), hidden.max()) if self.limits is None else self.limits
        if hi <= lo:
            return np.zeros(len(hidden), dtype=np.int64)
        index = np.clip(np.floor((hidden - lo) / (hi - lo) * self.bins), 0, self.bins - 1).astype(np.int64)
        return np.unique(index, axis=0, return_inverse=True)[1].ravel()

    def __call__(self, hidden, x, y) -> tuple[float, float]:
        """(I(X;T), I(T;Y)) in bits. hidden: (samples, nodes); x, y: (samples,) or (samples, k)."""
        hidden = _check_hidden(hidden)
        t = self.binned(hidden)
        x = _codes(_check_labels(x, "x", len(hidden)))
        y = _codes(_check_labels(y, "y", len(hidden)))
        return info.mutual_information(x, t), info.mutual_information(t, y)


def _check_variance(variance) -> float:
    return float(params.require(variance, "variance", params.number(0, closed=False)))


def _kernel(centres: np.ndarray, variance: float) -> np.ndarray:
    """(samples, samples) exp(−‖c_i − c_j‖² / 2σ²): 1 on the diagonal, so no overflow or underflow
    of a row's sum."""
    return np.exp(-cdist(centres, centres, "sqeuclidean") / (2 * variance))


def _mixture_entropy(kernel: np.ndarray, d: int, variance: float) -> float:
    """The pairwise-KL bound in bits from a kernel matrix of the mixture's centres."""
    return float((d / 2 * math.log(2 * math.pi * math.e * variance) - np.log(kernel.mean(1)).mean()) / LN2)


def gaussian_mixture_entropy(centres, variance: float) -> float:
    """Pairwise-KL upper bound on the entropy (bits) of an equal-weight mixture of Gaussians.

    centres: (samples, d); each component has covariance ``variance`` · I (Kolchinsky & Tracey 2017):
    H ≤ d/2·log(2πeσ²) − mean_i log( mean_j exp(−‖c_i − c_j‖² / 2σ²) ).
    """
    centres = _check_hidden(centres)
    variance = _check_variance(variance)
    return _mixture_entropy(_kernel(centres, variance), centres.shape[1], variance)


@dataclass(frozen=True)
class KDE:
    """Upper bound on the MI of the noise-added hidden state T + N(0, noise·I) (Saxe et al. 2018).

    I(X;T+ε) ≤ H_KL(T+ε) − H(ε): the pairwise-KL bound of :func:`gaussian_mixture_entropy` minus
    the noise entropy (X determines T, so H(T+ε | X) = H(ε)); I(T+ε;Y) ≈ H_KL(T+ε) − Σ_y p(y)
    H_KL(T+ε | Y=y). Measures: how many clusters of width ≈ √noise the states form — a smooth
    version of binning whose scale is ``noise``. At most log2(samples) bits.
    """

    noise: float = 0.1

    def __post_init__(self):
        if not (isinstance(self.noise, (int, float, np.floating)) and not isinstance(self.noise, bool)
                and math.isfinite(self.noise) and self.noise > 0):
            raise ValueError(f"noise must be a positive variance, got {self.noise!r}")

    @property
    def label(self) -> str:
        return f"KDE bound (noise {self.noise:g})"

    measures = "information of the noise-added state (clusters of width √noise)"

    def __call__(self, hidden, x, y) -> tuple[float, float]:
        """(I(X;T+ε), I(T+ε;Y)) in bits. hidden: (samples, nodes); x, y: (samples,) or (samples, k)."""
        hidden = _check_hidden(hidden)
        _check_labels(x, "x", len(hidden))
        y = _codes(_check_labels(y, "y", len(hidden)))
        d = hidden.shape[1]
        kernel = _kernel(hidden, self.noise)  # one kernel matrix; each label's mixture is a block of it
        h = _mixture_entropy(kernel, d, self.noise)
        noise_entropy = d / 2 * math.log(2 * math.pi * math.e * self.noise) / LN2
        conditional = 0.0
        for label in np.unique(y):
            members = np.flatnonzero(y == label)
            conditional += len(members) / len(hidden) * _mixture_entropy(
                kernel[np.ix_(members, members)], d, self.noise)
        return h - noise_entropy, h - conditional


@dataclass(frozen=True)
class KSG:
    """Kraskov–Stögbauer–Grassberger estimate (``irn.ksg``) with ``k`` neighbours.

    I(X;T): the z-scored hidden state against the input sequences ``x`` (samples, features) —
    a deterministic T = f(X) makes the true value infinite, so this measures how far apart the
    k-neighbourhoods of T are compared with those of X. I(T;Y): against the label bits.
    Measures: neighbourhood structure of the continuous state (no bins, no added noise).
    """

    k: int = 3

    def __post_init__(self):
        params.check_count(self.k, "k", 1)

    @property
    def label(self) -> str:
        return f"KSG (k = {self.k})"

    measures = "k-nearest-neighbour structure of the continuous state"

    def __call__(self, hidden, x, y) -> tuple[float, float]:
        """(I(X;T), I(T;Y)) in bits. hidden: (samples, nodes); x: (samples, features); y: (samples, k)."""
        from irn import ksg  # imported on first use: it compiles numba kernels

        hidden = _check_hidden(hidden)
        x = np.asarray(_check_labels(x, "x", len(hidden)), dtype=np.float64).reshape(len(hidden), -1)
        y = np.asarray(_check_labels(y, "y", len(hidden)), dtype=np.float64).reshape(len(hidden), -1)
        x = x[:, x.std(0) > 0]
        return float(ksg.mutual_information(x, hidden, k=self.k)), \
            float(ksg.mutual_information(hidden, y, k=self.k))


def information_plane(hidden, x, y, estimators, epochs=None) -> pd.DataFrame:
    """Every estimator on every recorded epoch and replicate.

    hidden: (epochs, replicates, samples, nodes) — e.g. ``TrainingRecord.hidden``;
    x: what each sample's input is — (samples,) ids or (samples, features) for ``KSG``;
    y: (samples,) labels or (samples, k) label bits; estimators: a list of ``Binning``/``KDE``/``KSG``;
    epochs: (epochs,) the epoch of each record (default 0, 1, …).
    Returns columns estimator, epoch, replicate, i_xt, i_ty (bits).
    """
    hidden = np.asarray(hidden)
    if hidden.ndim != 4:
        raise ValueError(f"hidden must be (epochs, replicates, samples, nodes), got shape {hidden.shape}")
    if not estimators or not all(isinstance(e, (Binning, KDE, KSG)) for e in estimators):
        raise ValueError("estimators must be a non-empty list of Binning, KDE or KSG")
    epochs = np.arange(hidden.shape[0]) if epochs is None else np.asarray(epochs)
    if epochs.shape != (hidden.shape[0],):
        raise ValueError(f"epochs must hold one epoch per record ({hidden.shape[0]}), got shape {epochs.shape}")
    rows = []
    for e in estimators:
        for i, epoch in enumerate(epochs):
            for r in range(hidden.shape[1]):
                i_xt, i_ty = e(hidden[i, r], x, y)
                rows.append((e.label, int(epoch), r, i_xt, i_ty))
    return pd.DataFrame(rows, columns=["estimator", "epoch", "replicate", "i_xt", "i_ty"])


def compression(plane: pd.DataFrame, tolerance: float = 0.1, by=("estimator", "replicate")) -> pd.DataFrame:
    """Does I(X;T) turn? Per trajectory: the epoch of its peak and how far it falls afterwards.

    plane: the output of :func:`information_plane` (other grouping columns may be added to ``by``);
    tolerance: bits the final I(X;T) must lie below the peak to count as compression.
    Returns ``by`` + peak_epoch, peak, final, drop, compresses (drop > tolerance);
    peak_epoch is the epoch where compression begins when it does.
    """
    missing = [c for c in (*by, "epoch", "i_xt") if c not in plane]
    if missing:
        raise ValueError(f"plane must have columns {[*by, 'epoch', 'i_xt']}; it lacks {missing}")
    if not tolerance >= 0:
        raise ValueError(f"tolerance must be >= 0 bits, got {tolerance!r}")
    rows = []
    for key, g in plane.sort_values("epoch").groupby(list(by), sort=False):
        values = g.i_xt.to_numpy()
        peak = int(np.argmax(values))
        drop = float(values[peak] - values[-1])
        rows.append((*(key if isinstance(key, tuple) else (key,)), int(g.epoch.iloc[peak]),
                     float(values[peak]), float(values[-1]), drop, drop > tolerance))
    return pd.DataFrame(rows, columns=[*by, "peak_epoch", "peak", "final", "drop", "compresses"])
