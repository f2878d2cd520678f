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

Checks that tell the estimator from the network (DESIGN §18):

* :func:`dpi_violations` — for a deterministic T = f(X), I(T;Y) ≤ I(X;T) (data processing); an
  estimator whose I(X;T) falls below its I(T;Y) measures itself, and is left out of any count of
  compression;
* :func:`snr_floor` — with B minibatches per epoch, gradients of pure noise have ‖mean‖/‖std‖ ≈
  1/√(B − 1): the diffusion phase is an SNR near that floor, not merely below 1;
* :func:`compression_trend` — does I(X;T) fall over the later half of training? A Spearman test
  per trajectory, for the verdict rule;
* :func:`compression_control` — a positive control: a narrow tanh network of Shwartz-Ziv &
  Tishby's kind (every pattern of a few ±1 input bits, a binary label) whose binned I(X;T) falls
  as its units saturate (Saxe et al. 2018), run through the same code.

Binning and the KDE bound are written here (a few lines each over ``irn.info`` and numpy) because
no maintained package implements them for stacked replicates; KSG is irn's own, shared with the
information-flow chapter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats as sps
from scipy.spatial.distance import cdist

from irn import info, params

__all__ = ["Binning", "KDE", "KSG", "LIMITS", "estimators", "information_plane", "compression", "compression_trend",
           "dpi_violations", "snr_floor", "compression_control", "CompressionControl", "gaussian_mixture_entropy"]

LN2 = math.log(2.0)


def _check_hidden(hidden, name: str = "hidden") -> np.ndarray:
    hidden = params.array(hidden, name, ndim=2, min_samples=2)
    params.require(hidden.shape[1], f"the number of nodes (columns) of {name}", params.integer(low=1))
    return hidden


def _check_labels(values, name: str, samples: int) -> np.ndarray:
    values = params.array(values, name, ndim=(1, 2), kind="any")
    params.require(values.shape[0], f"the number of samples of {name}", params.rule(
        lambda n: n == samples, f"{samples} (one per sample of hidden)"))
    return values


def _codes(values) -> np.ndarray:
    """(samples,) integer code of each row's distinct value (rows of a 2-D array, float or int)."""
    values = np.asarray(values)
    if values.ndim == 1:
        values = values[:, None]
    return np.unique(values, axis=0, return_inverse=True)[1].ravel()


#: Binning limits that are not numbers: per snapshot, or over a network's whole training record.
LIMITS = (None, "record")


@dataclass(frozen=True)
class Binning:
    """Plug-in MI of the binned hidden state (Shwartz-Ziv & Tishby 2017).

    bins: equal-width bins per node over ``limits``: (lo, hi) fixed limits — (-1, 1) for tanh
    units, as Shwartz-Ziv & Tishby bin them (30 bins); "record" — the smallest and largest activity
    of the whole training record of the network, the same at every epoch (``information_plane``
    fills them in; Saxe et al.'s convention for unbounded ReLU units); None — each snapshot's own
    range (bins that move with the activity: not comparable over epochs).
    Measures: how many distinct binned states the layer uses and how they line up with X and Y —
    clustering at the scale of one bin, not the information of the continuous T.
    """

    bins: int = 30
    limits: tuple[float, float] | str | None = None

    def __post_init__(self):
        params.check_count(self.bins, "bins", 2)
        if self.limits not in LIMITS:
            params.require(self.limits, "limits", params.rule(
                lambda v: isinstance(v, (tuple, list)) and len(v) == 2 and all(params.number().ok(x) for x in v)
                and v[0] < v[1], "(lo, hi) with lo < hi, 'record' or None"))
            object.__setattr__(self, "limits", (float(self.limits[0]), float(self.limits[1])))

    @property
    def label(self) -> str:
        return f"binning ({self.bins} bins)"

    @property
    def measures(self) -> str:
        where = ("each snapshot's range" if self.limits is None else "the run's range" if self.limits == "record"
                 else f"fixed limits ({self.limits[0]:g}, {self.limits[1]:g})")
        return f"distinct binned states over {where} (clustering at one bin's scale)"

    def binned(self, hidden) -> np.ndarray:
        """(samples,) code of each sample's binned state; hidden: (samples, nodes)."""
        hidden = _check_hidden(hidden)
        if self.limits == "record":
            raise ValueError("limits 'record' needs the whole record: run the estimator through information_plane")
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


def estimators(bins=(30,), kde_noise=(0.1,), ksg_k: int | None = 3, *, limits=(-1.0, 1.0)) -> list:
    """The chapter's estimator families: ``Binning(b, limits)`` for every bin count, ``KDE(v)``
    for every noise variance and ``KSG(ksg_k)`` (None: no KSG).

    limits: (-1, 1) for tanh-bounded units (tanh RNN, GRU and LSTM hidden states), "record" for
    ReLU units (see ``Binning``)."""
    params.require(list(bins), "bins", params.sequence(params.integer(low=2)))
    params.require(list(kde_noise), "kde_noise", params.sequence(params.number(0, closed=False)))
    params.require(ksg_k, "ksg_k", params.optional(params.integer(low=1)))
    return [Binning(b, limits) for b in bins] + [KDE(v) for v in kde_noise] + ([KSG(ksg_k)] if ksg_k else [])


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
        params.require(self.noise, "noise", params.number(0, closed=False))  # a variance

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
    y: (samples,) labels or (samples, k) label bits; estimators: a list of ``Binning``/``KDE``/``KSG``
    (a ``Binning`` with limits "record" bins every epoch over the range of the whole ``hidden``);
    epochs: (epochs,) the epoch of each record (default 0, 1, …).
    Returns columns estimator, epoch, replicate, i_xt, i_ty (bits).
    """
    hidden = params.array(hidden, "hidden", ndim=4)
    if not estimators or not all(isinstance(e, (Binning, KDE, KSG)) for e in estimators):
        raise ValueError("estimators must be a non-empty list of Binning, KDE or KSG")
    epochs = np.arange(hidden.shape[0]) if epochs is None else params.array(
        epochs, "epochs", shape=(hidden.shape[0],), kind="integer")
    rows = []
    for e in estimators:
        if isinstance(e, Binning) and e.limits == "record":  # the same bins at every epoch
            lo, hi = float(hidden.min()), float(hidden.max())
            e = replace(e, limits=(lo, hi if hi > lo else lo + 1.0))
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
    params.require(tolerance, "tolerance", params.number(low=0))
    rows = []
    for key, g in plane.sort_values("epoch").groupby(list(by), sort=False):
        values = g.i_xt.to_numpy()
        peak = int(np.argmax(values))
        drop = float(values[peak] - values[-1])
        rows.append((*(key if isinstance(key, tuple) else (key,)), int(g.epoch.iloc[peak]),
                     float(values[peak]), float(values[-1]), drop, drop > tolerance))
    return pd.DataFrame(rows, columns=[*by, "peak_epoch", "peak", "final", "drop", "compresses"])


def compression_trend(plane: pd.DataFrame, by=("estimator", "replicate"), late: float = 0.5) -> pd.DataFrame:
    """Does I(X;T) fall late in training? Spearman's rank correlation of I(X;T) with the epoch over
    the last ``late`` share of each trajectory's snapshots (at least 3).

    Returns ``by`` + snapshots (used), rho, p_value (two-sided; 1 when I(X;T) is constant), drop
    (first minus last I(X;T) of the window, bits). Compression: rho < 0 with p < alpha.
    """
    missing = [c for c in (*by, "epoch", "i_xt") if c not in plane]
    if missing:
        raise ValueError(f"plane must have columns {[*by, 'epoch', 'i_xt']}; it lacks {missing}")
    params.require(late, "late", params.number(0, 1, closed=False))
    rows = []
    for key, g in plane.sort_values("epoch").groupby(list(by), sort=False):
        window = g.iloc[-max(3, int(np.ceil(late * len(g)))):]
        values = window.i_xt.to_numpy()
        if np.ptp(values) == 0:
            rho, p = 0.0, 1.0
        else:
            rho, p = sps.spearmanr(window.epoch, values)
        rows.append((*(key if isinstance(key, tuple) else (key,)), len(window), float(rho), float(p),
                     float(values[0] - values[-1])))
    return pd.DataFrame(rows, columns=[*by, "snapshots", "rho", "p_value", "drop"])


def dpi_violations(plane: pd.DataFrame, by=("estimator",), tolerance: float = 0.05) -> pd.DataFrame:
    """Which estimators break the data-processing inequality I(T;Y) ≤ I(X;T) (T = f(X))?

    plane: ``information_plane`` output; tolerance: bits I(T;Y) may exceed I(X;T) (estimation
    noise). Returns ``by`` + snapshots, violations (rows with i_ty > i_xt + tolerance), share,
    largest (the largest i_ty − i_xt, bits) and flagged (any violation): an estimator flagged here
    measures itself, not the network, and is left out of the count of compression.
    """
    missing = [c for c in (*by, "i_xt", "i_ty") if c not in plane]
    if missing:
        raise ValueError(f"plane must have columns {[*by, 'i_xt', 'i_ty']}; it lacks {missing}")
    params.require(tolerance, "tolerance", params.number(low=0))
    excess = plane["i_ty"] - plane["i_xt"]
    table = plane.assign(_bad=excess > tolerance, _excess=excess).groupby(list(by), sort=False).agg(
        snapshots=("_bad", "size"), violations=("_bad", "sum"), largest=("_excess", "max")).reset_index()
    table["share"] = table["violations"] / table["snapshots"]
    table["flagged"] = table["violations"] > 0
    return table[[*by, "snapshots", "violations", "share", "largest", "flagged"]]


def snr_floor(batches) -> float:
    """The gradient SNR ‖mean‖/‖std‖ of pure noise over ``batches`` minibatches per epoch:
    1/√(B − 1) (the mean of B independent draws has variance σ²/B, their population variance
    σ²(B − 1)/B). Defined for B ≥ 2; 0.58 at B = 4, 0.26 at B = 16."""
    batches = params.require(batches, "batches", params.integer(low=2))
    return float(1 / math.sqrt(batches - 1))


@dataclass(frozen=True)
class CompressionControl:
    """The positive control of compression: a tanh network known to compress under binning.

    record: its ``irn.recorder.TrainingRecord``; plane: ``information_plane`` rows (estimator,
    epoch, replicate, i_xt, i_ty) of the binning estimator; trend: ``compression_trend`` per
    replicate; accuracy: (replicates,) final training accuracy; batches: minibatches per epoch.
    """

    record: object
    plane: pd.DataFrame
    trend: pd.DataFrame
    accuracy: np.ndarray
    batches: int


def compression_control(bits: int = 10, hidden: int = 3, replicates: int = 5, *, epochs: int = 150,
                        batch: int = 64, lr: float = 0.02, snapshots: int = 15, bins: int = 30,
                        seed: int = 0) -> CompressionControl:
    """A setting known to compress: every pattern of ``bits`` ±1 inputs (one step), a binary label
    from a fixed random tanh teacher, a narrow tanh layer of ``hidden`` units (Shwartz-Ziv & Tishby's
    kind: 12 bits, tanh, their last layers have 3–4 units), Adam with minibatches of ``batch``;
    I(X;T) binned in ``bins`` bins over (−1, 1) falls as the units saturate (Saxe et al. 2018).

    Returns
    -------
    CompressionControl
    """
    import torch

    from irn.models import Stacked
    from irn.recorder import record_fit

    params.require(bits, "bits", params.integer(2, 14))
    params.require(hidden, "hidden", params.integer(low=1))
    params.require(replicates, "replicates", params.integer(low=1))
    params.require(epochs, "epochs", params.integer(low=2))
    params.require(batch, "batch", params.integer(1, 2 ** bits // 2))
    params.require(lr, "lr", params.number(0, closed=False))
    params.require(snapshots, "snapshots", params.integer(low=3))
    params.require(bins, "bins", params.integer(low=2))
    params.require(seed, "seed", params.SEED)
    patterns = ((np.arange(2 ** bits)[:, None] >> np.arange(bits)) & 1) * 2.0 - 1
    rng = np.random.default_rng([seed, 7])
    label = np.sign(np.tanh(patterns @ rng.normal(size=(bits, 3))) @ rng.normal(size=3))
    label[label == 0] = 1
    x = torch.tensor(patterns[:, None, :], dtype=torch.float32)
    model = Stacked("rnn", replicates, bits, hidden, seeds=[seed * 1000 + r for r in range(replicates)], n_outputs=1)
    at = np.unique(np.geomspace(1, epochs, snapshots).astype(int))
    record = record_fit(model, x, torch.tensor(label[:, None], dtype=torch.float32), 0, probe=x, probe_step=0,
                        record_epochs=at, epochs=epochs, lr=lr, batch=batch, seed=seed, progress=False)
    frame = information_plane(record.hidden, np.arange(len(patterns)), (label > 0).astype(int),
                              [Binning(bins, (-1.0, 1.0))],
                              epochs=record.epochs)
    accuracy = ((record.output[-1, :, :, 0] > 0) == (label > 0)).mean(axis=1)
    return CompressionControl(record, frame, compression_trend(frame), accuracy, int(np.ceil(len(patterns) / batch)))
