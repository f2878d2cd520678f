"""The information plane of a recurrent layer: I(X;T) and I(T;Y) during training.

Shwartz-Ziv & Tishby (2017) follow each hidden layer T of a network through the *information
plane* — its information about the input, I(X;T), against its information about the label,
I(T;Y) — and report a fitting phase (both rise) followed by a compression phase (I(X;T) falls).
The information-flow report (Ivanovic, Kha & Muruganantham, §1 questions 3–5) asks whether this holds for
recurrent networks. Two critiques shape what is measured here:

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

Checks that tell the estimator from the network:

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

__all__ = ["Binning", "KDE", "KSG", "LIMITS", "NETWORKS", "NETWORK_NAMES", "estimators", "information_plane", "compression",
           "compression_trend", "dpi_violations", "snr_floor", "diffusion_epochs", "record_runs", "scores",
           "runs_plane", "neuron_entropy_over_training", "learning_correlation", "snr_references",
           "coincidence_test", "Coincidence", "nonlinearity_test", "planted_learning", "compression_control",
           "CompressionControl",
           "gaussian_mixture_entropy"]

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

    Measures how many distinct binned states the layer uses and how they line up with X and Y —
    clustering at the scale of one bin, not the information of the continuous T.

    Attributes
    ----------
    bins : int
        Equal-width bins per node.
    limits : tuple of float, str or None
        (lo, hi) fixed limits — (−1, 1) for tanh units, as Shwartz-Ziv & Tishby bin them (30 bins);
        "record": the smallest and largest activity of the network's whole training record, the same
        at every epoch (``information_plane`` fills them in; Saxe et al.'s convention for unbounded
        ReLU units); None: each snapshot's own range (bins that move with the activity).
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
        """The estimator's name in tables and figures, e.g. "binning (30 bins)".
        """
        return f"binning ({self.bins} bins)"

    @property
    def measures(self) -> str:
        """What the estimate measures, in words (depends on the limits).
        """
        where = ("each snapshot's range" if self.limits is None else "the run's range" if self.limits == "record"
                 else f"fixed limits ({self.limits[0]:g}, {self.limits[1]:g})")
        return f"distinct binned states over {where} (clustering at one bin's scale)"

    def binned(self, hidden) -> np.ndarray:
        """The code of each sample's binned state.

        Parameters
        ----------
        hidden : ndarray, shape (samples, nodes)

        Returns
        -------
        ndarray of int, shape (samples,)
        """
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
    """The chapter's estimator families.

    Parameters
    ----------
    bins : sequence of int
        Bin counts of ``Binning``.
    kde_noise : sequence of float
        Noise variances of ``KDE``.
    ksg_k : int or None
        Neighbours of ``KSG`` (None: no KSG).
    limits : tuple of float or str
        Limits of every ``Binning``: (−1, 1) for tanh-bounded units (tanh RNN, GRU and LSTM hidden
        states), "record" for ReLU units.

    Returns
    -------
    list
        ``Binning``, ``KDE`` and ``KSG`` estimators.
    """
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

    H ≤ d/2·log(2πeσ²) − mean_i log( mean_j exp(−‖c_i − c_j‖² / 2σ²) ) (Kolchinsky & Tracey 2017).

    Parameters
    ----------
    centres : ndarray, shape (samples, d)
    variance : float
        Each component's covariance is ``variance`` · I.

    Returns
    -------
    float
    """
    centres = _check_hidden(centres)
    variance = _check_variance(variance)
    return _mixture_entropy(_kernel(centres, variance), centres.shape[1], variance)


@dataclass(frozen=True)
class KDE:
    """Upper bound on the MI of the noise-added hidden state T + N(0, noise·I) (Saxe et al. 2018).

    I(X;T+ε) ≤ H_KL(T+ε) − H(ε): the pairwise-KL bound of ``gaussian_mixture_entropy`` minus the
    noise entropy (X determines T, so H(T+ε | X) = H(ε)); I(T+ε;Y) ≈ H_KL(T+ε) − Σ_y p(y)
    H_KL(T+ε | Y=y). Measures how many clusters of width ≈ √noise the states form — a smooth version
    of binning whose scale is ``noise``. At most log2(samples) bits.

    Attributes
    ----------
    noise : float
        Variance of the added Gaussian noise.
    """

    noise: float = 0.1

    def __post_init__(self):
        params.require(self.noise, "noise", params.number(0, closed=False))  # a variance

    @property
    def label(self) -> str:
        """The estimator's name in tables and figures, e.g. "KDE bound (noise 0.1)".
        """
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

    I(X;T): the z-scored hidden state against the input sequences (a deterministic T = f(X) makes
    the true value infinite, so this measures how far apart the k-neighbourhoods of T are compared
    with those of X); I(T;Y): against the label bits. Measures the neighbourhood structure of the
    continuous state (no bins, no added noise).

    Attributes
    ----------
    k : int
        Neighbours.
    """

    k: int = 3

    def __post_init__(self):
        params.check_count(self.k, "k", 1)

    @property
    def label(self) -> str:
        """The estimator's name in tables and figures, e.g. "KSG (k = 3)".
        """
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

    Parameters
    ----------
    hidden : ndarray, shape (epochs, replicates, samples, nodes)
        E.g. ``TrainingRecord.hidden``.
    x : array_like, shape (samples,) or (samples, features)
        What each sample's input is: ids, or features for ``KSG``.
    y : array_like, shape (samples,) or (samples, k)
        Labels or label bits.
    estimators : list
        ``Binning``, ``KDE`` or ``KSG``; a ``Binning`` with limits "record" bins every epoch over the
        range of the whole ``hidden``.
    epochs : array_like, shape (epochs,), optional
        The epoch of each record (default 0, 1, …).

    Returns
    -------
    DataFrame
        Columns estimator, epoch, replicate, i_xt, i_ty (bits).
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

    Parameters
    ----------
    plane : DataFrame
        ``information_plane`` output (other grouping columns may be added to ``by``).
    tolerance : float
        Bits the final I(X;T) must lie below the peak to count as compression.
    by : sequence of str
        Columns that tell trajectories apart.

    Returns
    -------
    DataFrame
        ``by`` + peak_epoch, peak, final, drop, compresses (drop > tolerance); peak_epoch is where
        compression begins when it does.
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
    """Does I(X;T) fall late in training? Spearman's ρ of I(X;T) with the epoch over the last ``late``
    share of each trajectory's snapshots (at least 3).

    Parameters
    ----------
    plane : DataFrame
        ``information_plane`` output.
    by : sequence of str
        Columns that tell trajectories apart.
    late : float
        Share of the snapshots, from the end, in the window.

    Returns
    -------
    DataFrame
        ``by`` + snapshots (used), rho, p_value (two-sided; 1 when I(X;T) is constant), drop (first
        minus last I(X;T) of the window, bits). Compression: rho < 0 with p < alpha.
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

    An estimator flagged here measures itself, not the network, and is left out of the count of
    compression.

    Parameters
    ----------
    plane : DataFrame
        ``information_plane`` output.
    by : sequence of str
        Columns that tell estimators (and networks) apart.
    tolerance : float
        Bits I(T;Y) may exceed I(X;T) (estimation noise).

    Returns
    -------
    DataFrame
        ``by`` + snapshots, violations (rows with i_ty > i_xt + tolerance), share, largest (the
        largest i_ty − i_xt, bits) and flagged (any violation).
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
    """The gradient SNR ‖mean‖/‖std‖ of pure noise over B minibatches per epoch: 1/√(B − 1).

    The mean of B independent draws has variance σ²/B, their population variance σ²(B − 1)/B;
    0.58 at B = 4, 0.26 at B = 16.

    Parameters
    ----------
    batches : int
        Minibatches per epoch (at least 2).

    Returns
    -------
    float
    """
    batches = params.require(batches, "batches", params.integer(low=2))
    return float(1 / math.sqrt(batches - 1))


@dataclass(frozen=True)
class CompressionControl:
    """The positive control of compression: a tanh network known to compress under binning.

    Attributes
    ----------
    record : irn.recorder.TrainingRecord
    plane : DataFrame
        ``information_plane`` rows of the binning estimator with each snapshot's probe accuracy.
    trend : DataFrame
        ``compression_trend`` per replicate.
    accuracy : ndarray, shape (replicates,)
        Final training accuracy.
    batches : int
        Minibatches per epoch.
    label : ndarray, shape (patterns,)
        The ±1 label.
    """

    record: object
    plane: pd.DataFrame
    trend: pd.DataFrame
    accuracy: np.ndarray
    batches: int
    label: np.ndarray


def compression_control(bits: int = 10, hidden: int = 3, replicates: int = 5, *, epochs: int = 150,
                        batch: int = 64, lr: float = 0.02, snapshots: int = 15, bins: int = 30,
                        seed: int = 0) -> CompressionControl:
    """A setting known to compress, run through the chapter's code.

    Every pattern of ``bits`` ±1 inputs (one step), a binary label from a fixed random tanh teacher,
    a narrow tanh layer of ``hidden`` units (Shwartz-Ziv & Tishby's kind: 12 bits, tanh, their last
    layers have 3–4 units), Adam with minibatches of ``batch``; I(X;T) binned in ``bins`` bins over
    (−1, 1) falls as the units saturate (Saxe et al. 2018).

    Parameters
    ----------
    bits : int
    hidden : int
    replicates : int
    epochs : int
    batch : int
    lr : float
    snapshots : int
    bins : int
    seed : int

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
    correct = ((record.output[:, :, :, 0] > 0) == (label > 0)).mean(axis=2)  # (snapshots, replicates)
    frame["accuracy"] = correct[np.searchsorted(record.epochs, frame["epoch"]), frame["replicate"]]
    return CompressionControl(record, frame, compression_trend(frame), correct[-1], int(np.ceil(len(patterns) / batch)),
                              label)


#: The networks of the information-plane chapter: name → (arch, nonlinearity of the recurrent layer).
NETWORKS = {"rnn-tanh": ("rnn", "tanh"), "rnn-relu": ("rnn", "relu"), "gru": ("gru", "tanh"), "lstm": ("lstm", "tanh")}
#: Their names for readers (tables and figures).
NETWORK_NAMES = {"rnn-tanh": "tanh RNN", "rnn-relu": "ReLU RNN", "gru": "GRU", "lstm": "LSTM"}


def record_runs(networks, inputs, targets, answer_step, probe, probe_step, *, replicates: int = 5, hidden: int = 12,
                epochs: int = 200, lr: float = 0.005, batch: int | None = None, snapshots: int = 20,
                full_batch: bool = True, readout: str = "tanh", seed: int = 0) -> dict:
    """Train every network while a recorder watches, with minibatches and as a full-batch control.

    With ``full_batch`` each network is trained again from the same initial weights with one step
    per epoch on all samples (the control without gradient noise). Replicate r of network i starts
    from the seeds of ``numpy.random.SeedSequence([seed, i])``.

    Parameters
    ----------
    networks : sequence of str
        Names of ``NETWORKS``.
    inputs : array_like, shape (samples, steps, n_inputs)
    targets : array_like
        (samples, K) with an answer step, or (samples, steps, K) with ``answer_step=None``.
    answer_step : int or None
        As for ``irn.train.fit``.
    probe : array_like, shape (probe samples, steps, n_inputs)
        The probe set whose hidden states are recorded.
    probe_step : int
        The step recorded.
    replicates : int
    hidden : int
        Recurrent units.
    epochs : int
    lr : float
    batch : int or None
        Minibatch size (None: full batch only).
    snapshots : int
        Probe snapshots spaced evenly on a log scale of epochs (plus the untrained state).
    full_batch : bool or sequence of str
        Also train the full-batch control: for every network (True), none (False) or the named ones.
    readout : str
        "tanh" (classification) or "linear" (forecasting).
    seed : int

    Returns
    -------
    dict
        (network, training) → ``irn.recorder.TrainingRecord``; training is "minibatch" or "full batch".
    """
    import torch

    from irn.models import Stacked
    from irn.recorder import record_fit

    params.require(list(networks), "networks", params.list_of(tuple(NETWORKS)))
    for name, value, low in (("replicates", replicates, 1), ("hidden", hidden, 1), ("epochs", epochs, 2),
                             ("snapshots", snapshots, 2), ("seed", seed, 0)):
        params.require(value, name, params.integer(low=low))
    params.require(batch, "batch", params.optional(params.integer(low=1)))
    params.require(full_batch, "full_batch", params.either(params.boolean(), params.sequence(params.one_of(networks))))
    controlled = set(networks) if full_batch is True else set(full_batch or [])
    params.require(readout, "readout", params.one_of(("tanh", "linear")))
    inputs = torch.as_tensor(np.asarray(inputs), dtype=torch.float32)
    targets = torch.as_tensor(np.asarray(targets), dtype=torch.float32)
    at = np.unique(np.geomspace(1, epochs, snapshots).astype(int))
    runs = {}
    for i, name in enumerate(networks):
        arch, nonlinearity = NETWORKS[name]
        seeds = (np.random.SeedSequence([seed, i]).generate_state(replicates) & 0x7FFFFFFF).tolist()
        for training, size in (("minibatch", batch), ("full batch", None))[:2 if name in controlled else 1]:
            model = Stacked(arch, replicates, inputs.shape[2], hidden, seeds=seeds, n_outputs=targets.shape[-1],
                            readout=readout, **({"nonlinearity": nonlinearity} if arch == "rnn" else {}))
            runs[name, training] = record_fit(model, inputs, targets, answer_step, probe=probe, probe_step=probe_step,
                                              record_epochs=at, epochs=epochs, lr=lr, batch=size, seed=seed,
                                              progress=False)
    return runs


def scores(runs: dict, y, kind: str = "sign") -> pd.DataFrame:
    """How well each snapshot of every run does on the probe.

    Parameters
    ----------
    runs : dict
        ``record_runs`` output.
    y : array_like
        ±1 targets (samples, K) for "sign"; values (samples,) or (samples, K) for "mse".
    kind : str
        "sign": the share of output signs matching y; "mse": minus the mean squared error (a
        continuous task has no accuracy).

    Returns
    -------
    DataFrame
        network, training, epoch, replicate, accuracy.
    """
    params.require(kind, "kind", params.one_of(("sign", "mse")))
    y = params.array(y, "y")
    rows = []
    for (name, training), rec in runs.items():
        output = rec.output  # (epochs, replicates, samples, K)
        target = y.reshape(output.shape[2], -1)
        value = ((output > 0) == (target > 0)).mean(axis=(2, 3)) if kind == "sign" else \
            -((output - target) ** 2).mean(axis=(2, 3))
        rows.append(pd.DataFrame({"network": name, "training": training, "epoch": np.repeat(rec.epochs, output.shape[1]),
                                  "replicate": np.tile(np.arange(output.shape[1]), len(rec.epochs)),
                                  "accuracy": value.ravel()}))
    return pd.concat(rows, ignore_index=True)


def runs_plane(runs: dict, x, y, bins=(30,), kde_noise=(0.1,), ksg_k: int | None = 3, *,
               ksg_for=("minibatch",)) -> pd.DataFrame:
    """Every estimator on every snapshot of every run.

    Binning over (−1, 1) for tanh-bounded units and over the run's range for ReLU units, the KDE
    bound, and KSG on the runs whose training is in ``ksg_for`` (it is the slowest).

    Parameters
    ----------
    runs : dict
        ``record_runs`` output.
    x : array_like, shape (samples,) or (samples, features)
    y : array_like, shape (samples,) or (samples, k)
    bins : sequence of int
    kde_noise : sequence of float
    ksg_k : int or None
    ksg_for : sequence of str
        Trainings ("minibatch", "full batch") measured with KSG too.

    Returns
    -------
    DataFrame
        ``information_plane``'s columns + network, training.
    """
    frames = []
    for (name, training), rec in runs.items():
        bounded = NETWORKS.get(name, ("rnn", "tanh"))[1] == "tanh"
        chosen = estimators(bins, kde_noise, ksg_k if training in ksg_for else None,
                            limits=(-1.0, 1.0) if bounded else "record")
        frames.append(information_plane(rec.hidden, x, y, chosen, epochs=rec.epochs).assign(network=name,
                                                                                          training=training))
    return pd.concat(frames, ignore_index=True)


def diffusion_epochs(gradients: pd.DataFrame, batches: int, factor: float = 2.0, *, window: int = 5,
                     by=("network", "replicate", "matrix")) -> pd.DataFrame:
    """The drift → diffusion transition measured against the pure-noise floor.

    Per trajectory: the floor 1/√(B − 1) of ``batches`` minibatches, the first epoch where the SNR
    (running median over ``window`` epochs) falls within ``factor`` × the floor (NaN when never),
    the drift level (the highest running median before that epoch, or over the whole run when it
    never comes), the SNR at the start and the end (medians of the first and last ``window``
    epochs), and Spearman's ρ of the SNR against the epoch with its p-value.

    Parameters
    ----------
    gradients : DataFrame
        ``TrainingRecord.gradients`` rows (epoch, snr and the ``by`` columns).
    batches : int
        Minibatches per epoch.
    factor : float
        The diffusion band is ``factor`` × the floor.
    window : int
        Epochs of the running median.
    by : sequence of str
        Columns that tell trajectories apart.

    Returns
    -------
    DataFrame
        ``by`` + floor, band, diffusion_epoch, drift_snr, start_snr, end_snr, rho, p_value.
    """
    missing = [c for c in (*by, "epoch", "snr") if c not in gradients]
    if missing:
        raise ValueError(f"gradients must have columns {[*by, 'epoch', 'snr']}; it lacks {missing}")
    floor = snr_floor(batches)
    params.require(factor, "factor", params.number(1, closed=True))
    params.require(window, "window", params.integer(low=1))
    rows = []
    for key, g in gradients.sort_values("epoch").groupby(list(by), sort=False):
        snr = g.snr.to_numpy()
        smooth = pd.Series(snr).rolling(window, min_periods=1).median().to_numpy()
        inside = np.flatnonzero(smooth <= factor * floor)
        ok = np.isfinite(snr)
        rho, p = sps.spearmanr(g.epoch[ok], snr[ok]) if ok.sum() > 2 and np.ptp(snr[ok]) > 0 else (np.nan, np.nan)
        before = smooth[:inside[0]] if len(inside) else smooth
        finite = np.isfinite(snr)
        rows.append((*(key if isinstance(key, tuple) else (key,)), floor, factor * floor,
                     float(g.epoch.iloc[inside[0]]) if len(inside) else np.nan,
                     float(np.nanmax(before)) if np.isfinite(before).any() else np.nan,
                     float(np.median(snr[:window][finite[:window]])) if finite[:window].any() else np.nan,
                     float(np.median(snr[-window:][finite[-window:]])) if finite[-window:].any() else np.nan,
                     float(rho), float(p)))
    return pd.DataFrame(rows, columns=[*by, "floor", "band", "diffusion_epoch", "drift_snr", "start_snr", "end_snr",
                                       "rho", "p_value"])


def neuron_entropy_over_training(runs: dict, inputs=None, k: int = 3, *, seed: int = 0) -> pd.DataFrame:
    """The entropy of every neuron of the probe, by role, at every snapshot.

    The source measures each neuron's entropy; here it is followed over training:
    Kozachenko–Leonenko (``irn.ksg``), bits, in each neuron's own units.

    Parameters
    ----------
    runs : dict
        ``record_runs`` output.
    inputs : array_like, shape (samples,), optional
        The input neuron's value at the probe step (its entropy is the same at every epoch).
    k : int
        Neighbours of the estimator.
    seed : int
        Of the tie-breaking noise.

    Returns
    -------
    DataFrame
        network, training, epoch, replicate, role, neuron, entropy.
    """
    from irn import ksg

    rows = []
    input_entropy = None if inputs is None else ksg.entropy(params.array(inputs, "inputs", ndim=1), k, seed=seed)
    for (name, training), rec in runs.items():
        for e, epoch in enumerate(rec.epochs):
            for r in range(rec.hidden.shape[1]):
                for role, values in (("hidden", rec.hidden[e, r]), ("output", rec.output[e, r])):
                    for j in range(values.shape[1]):
                        rows.append((name, training, int(epoch), r, role, j,
                                     ksg.entropy(values[:, j], k, seed=seed)))
                if input_entropy is not None:
                    rows.append((name, training, int(epoch), r, "input", 0, input_entropy))
    return pd.DataFrame(rows, columns=["network", "training", "epoch", "replicate", "role", "neuron", "entropy"])


def learning_correlation(plane: pd.DataFrame, column: str = "i_ty",
                         by=("network", "estimator", "replicate")) -> pd.DataFrame:
    """Does an information quantity indicate learning? Spearman's ρ of ``column`` against the probe
    accuracy over the snapshots of each trajectory.

    Parameters
    ----------
    plane : DataFrame
        ``information_plane`` rows with an accuracy column.
    column : str
        "i_ty" or "i_xt".
    by : sequence of str
        Columns that tell trajectories apart.

    Returns
    -------
    DataFrame
        ``by`` + rho, p_value (NaN ρ and p = 1 when either is constant).
    """
    missing = [c for c in (*by, column, "accuracy") if c not in plane]
    if missing:
        raise ValueError(f"plane must have columns {[*by, column, 'accuracy']}; it lacks {missing}")
    rows = []
    for key, g in plane.groupby(list(by), sort=False):
        if g[column].nunique() < 2 or g["accuracy"].nunique() < 2:
            rho, p = np.nan, 1.0
        else:
            rho, p = sps.spearmanr(g[column], g["accuracy"])
        rows.append((*(key if isinstance(key, tuple) else (key,)), float(rho), float(p)))
    return pd.DataFrame(rows, columns=[*by, "rho", "p_value"])


def snr_references(panels, batches: int, factor: float = 2.0, panel: str = "network") -> pd.DataFrame:
    """The horizontal lines an SNR chart needs, per panel.

    Parameters
    ----------
    panels : sequence of str
        The panels' names.
    batches : int
        Minibatches per epoch.
    factor : float
        The diffusion band is ``factor`` × the floor.
    panel : str
        Name of the panel column.

    Returns
    -------
    DataFrame
        ``panel``, reference (SNR = 1, the pure-noise floor 1/√(B − 1), the diffusion band), value.
    """
    floor = snr_floor(batches)
    params.require(factor, "factor", params.number(low=1))
    lines = (("SNR = 1", 1.0), ("pure-noise floor 1/√(B − 1)", floor), (f"diffusion band ({factor:g} × floor)",
                                                                        factor * floor))
    return pd.DataFrame([(p, name, value) for p in panels for name, value in lines],
                        columns=[panel, "reference", "value"])


@dataclass(frozen=True)
class Coincidence:
    """Do diffusion and compression start together more often than chance pairings give?

    Attributes
    ----------
    pairs : int
        Trajectories where both happen.
    observed : int
        How many start within the factor of each other.
    expected : float
        The mean over random re-pairings (diffusion epochs permuted within each group).
    p_value : float
        (1 + #re-pairings ≥ observed) / (1 + permutations).
    p_fewer : float
        The same for ≤.
    interval : tuple of float
        95 % bootstrap interval (over pairs) of observed − expected.
    reachable : bool
        Enough pairs (5) for the permutation test to mean something.
    """

    pairs: int
    observed: int
    expected: float
    p_value: float
    p_fewer: float
    interval: tuple
    reachable: bool


def coincidence_test(pairs: pd.DataFrame, factor: float = 2.0, permutations: int = 999, *, seed: int = 0,
                     within: str = "estimator") -> Coincidence:
    """Count pairs whose diffusion epoch and I(X;T) peak lie within ``factor`` of each other, against
    random re-pairings of the diffusion epochs among the pairs of the same group.

    Parameters
    ----------
    pairs : DataFrame
        diffusion_epoch, peak_epoch and the ``within`` column, one row per trajectory with both.
    factor : float
    permutations : int
    seed : int
    within : str
        Column whose groups keep their own epochs when re-paired.

    Returns
    -------
    Coincidence
    """
    missing = [c for c in ("diffusion_epoch", "peak_epoch", within) if c not in pairs]
    if missing:
        raise ValueError(f"pairs must have columns diffusion_epoch, peak_epoch, {within}; it lacks {missing}")
    params.require(factor, "factor", params.number(low=1))
    params.require(permutations, "permutations", params.integer(low=1))
    params.require(seed, "seed", params.SEED)
    d = np.log2(np.maximum(pairs["diffusion_epoch"].to_numpy(float), 1))
    peak = np.log2(np.maximum(pairs["peak_epoch"].to_numpy(float), 1))
    groups = [np.flatnonzero((pairs[within] == g).to_numpy()) for g in pairs[within].unique()]
    limit = np.log2(factor)

    def count(diffusion):
        return int((np.abs(diffusion - peak) <= limit).sum())

    observed = count(d)
    rng = np.random.default_rng(seed)
    null = []
    for _ in range(permutations):
        shuffled = d.copy()
        for members in groups:
            shuffled[members] = d[rng.permutation(members)]
        null.append(count(shuffled))
    null = np.asarray(null)
    hits = (np.abs(d - peak) <= limit).astype(float)
    boot = [hits[rng.integers(len(hits), size=len(hits))].sum() - null.mean() for _ in range(999)] if len(hits) else [0]
    return Coincidence(len(pairs), observed, float(null.mean()), float((1 + (null >= observed).sum()) / (1 + permutations)),
                       float((1 + (null <= observed).sum()) / (1 + permutations)),
                       (float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))), len(pairs) >= 5)


def nonlinearity_test(trend: pd.DataFrame, first: str = "rnn-tanh", second: str = "rnn-relu") -> pd.DataFrame:
    """Per estimator: the late I(X;T) trends of one network's seeds against another's (Mann–Whitney U).

    Parameters
    ----------
    trend : DataFrame
        ``compression_trend`` rows with network, estimator and rho.
    first, second : str
        The two networks.

    Returns
    -------
    DataFrame
        estimator, difference (mean ρ first − second; negative: ``first`` compresses more), p_value,
        n (seeds of both).
    """
    from irn.stats import independent_test

    missing = [c for c in ("network", "estimator", "rho") if c not in trend]
    if missing:
        raise ValueError(f"trend must have columns network, estimator, rho; it lacks {missing}")
    rows = []
    for estimator, g in trend.groupby("estimator", sort=False):
        a, b = g.loc[g.network == first, "rho"].dropna(), g.loc[g.network == second, "rho"].dropna()
        if len(a) and len(b):
            test = independent_test(a.to_numpy(), b.to_numpy())
            rows.append((estimator, test.difference, test.p_value, test.n))
    return pd.DataFrame(rows, columns=["estimator", "difference", "p_value", "n"])


def planted_learning(estimators_, samples: int = 512, nodes: int = 3, snapshots: int = 20, *,
                     seed: int = 0) -> pd.DataFrame:
    """A planted case of an information quantity that tracks learning.

    Hidden states drift from noise to a code of the label as "training" goes on. Y: 3 random ±1 bits
    per sample (8 classes); snapshot e's states are T = tanh(s_e · code(Y) + N(0, 1)) with s_e rising
    geometrically from 0.05 to 3 and code(Y) a fixed ±1 pattern per class whose first three nodes are
    the bits; the accuracy is the share of label bits whose sign those nodes give. An estimator that
    cannot see I(T;Y) rise here (e.g. fine bins on few samples, where every state has its own bin
    from the start and the plug-in I(T;Y) sits at H(Y)) cannot tell whether a network's I(T;Y) tracks
    its learning.

    Parameters
    ----------
    estimators_ : list
        ``Binning``, ``KDE`` or ``KSG`` estimators.
    samples : int
    nodes : int
        Nodes of T (at least 3).
    snapshots : int
    seed : int

    Returns
    -------
    DataFrame
        ``information_plane`` rows (estimator, epoch, replicate, i_xt, i_ty) with accuracy.
    """
    params.require(samples, "samples", params.integer(low=16))
    params.require(nodes, "nodes", params.integer(low=3))
    params.require(snapshots, "snapshots", params.integer(low=3))
    params.require(seed, "seed", params.SEED)
    rng = np.random.default_rng([seed, 11])
    bits = rng.choice([-1.0, 1.0], size=(samples, 3))
    label = ((bits > 0) * [1, 2, 4]).sum(axis=1)
    code = rng.choice([-1.0, 1.0], size=(8, nodes))
    code[:, :3] = ((np.arange(8)[:, None] >> np.arange(3)) & 1) * 2.0 - 1  # the first three nodes carry the bits
    noise = rng.normal(size=(samples, nodes))
    strength = np.geomspace(0.05, 3.0, snapshots)
    hidden = np.stack([np.tanh(s * code[label] + noise) for s in strength])[:, None]  # (snapshots, 1, samples, nodes)
    accuracy = np.array([((h[0, :, :3] > 0) == (bits > 0)).mean() for h in hidden])
    frame = information_plane(hidden, np.arange(samples), bits, estimators_, epochs=np.arange(snapshots))
    return frame.assign(accuracy=accuracy[frame["epoch"].to_numpy()])
