"""Real time-series classification data as irn batches (chapter 11; the paper's abstract).

The paper's abstract says the relay method was applied "to both synthetic and real-world time
series classification tasks"; its body shows only the synthetic ones. This module brings real
data sets in from the archives of the UCR (Dau et al., "The UCR time series archive", IEEE/CAA J.
Autom. Sinica 6:1293, 2019) and the UEA (Bagnall et al., "The UEA multivariate time series
classification archive, 2018", arXiv 1811.00075), as they ship *inside* the aeon package: the
files are read with aeon's own loader from its bundled copy and nothing is ever downloaded.

It is a thin adapter, not a second loader: aeon returns (cases, channels, timepoints) arrays (a
list of (channels, timepoints) arrays when lengths differ); irn wants (batch, steps, inputs)
tensors. :func:`load` gives a :class:`Dataset` whose ``train`` and ``test`` :class:`Split` are
the archive's own partition, and

* standardises every channel with the mean and standard deviation of the *training* split's
  observed values (the test split never influences them);
* pads every sequence with zeros *after* its end to the longest sequence of both splits and
  records its own answer step (its last observed step, ``length - 1``): a recurrent network is
  causal, so the padding is never read before the answer;
* keeps the class labels as integers 0…K−1 (``classes`` names them, in the archive's sorted
  order) and gives the K one-vs-rest concepts of irn's relay method with :meth:`Split.concepts`.

:func:`nearest_neighbour` is the baseline the chapter reports beside trained networks: aeon's
1-nearest-neighbour classifier with Euclidean or DTW distance on the archive's raw series (the
baselines the archive papers publish), so a reader sees whether the networks learned anything.
Written here rather than taken from a library: nothing else turns aeon's arrays into padded
tensors with per-sequence answer steps and train-only standardisation.

**aeon is an optional dependency: irn's ``data`` extra** (``pip install "irn[data]"``; the
``book`` and ``test`` extras include it). aeon is well kept (the scikit-learn-style toolkit of
the archives' maintainers, JMLR 2024) and ships the data files, so nothing is downloaded; but it
is 34 MB, requires numpy >= 2 and caps numpy, pandas, scipy, scikit-learn and numba below their
next releases, so as a core dependency it would hold back the scientific stack of every irn user
for the one chapter that reads real data. ``import irn.datasets`` works without it; the first
call that needs the data (:func:`load`, :func:`raw`, :func:`nearest_neighbour`,
:func:`baselines`) raises one ``ModuleNotFoundError`` that names the extra (:data:`INSTALL`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

#: Data sets the chapter uses by default: (classes, channels, length, train, test) as the
#: archives describe them.
DATASETS = {
    "JapaneseVowels": "UEA: 9 speakers, 12 cepstrum coefficients, 7–29 frames, 270 train / 370 test",
    "BasicMotions": "UEA: 4 activities, 6 accelerometer/gyroscope channels, 100 steps, 40 / 40",
    "ItalyPowerDemand": "UCR: 2 seasons of daily electricity demand, 24 hours, 67 / 1029",
}
#: Every data set irn accepts: the ones above plus other small ones aeon bundles.
BUNDLED = (*DATASETS, "GunPoint", "ArrowHead")
SPLITS = ("train", "test")
#: The 1-NN baselines' distances (`nearest_neighbour`).
DISTANCES = ("euclidean", "dtw")
#: How to install what this module needs beyond irn's core: aeon, in irn's ``data`` extra.
INSTALL = 'pip install "irn[data]"'
_ARCHIVE = {"JapaneseVowels": "UEA", "BasicMotions": "UEA", "ItalyPowerDemand": "UCR",
            "GunPoint": "UCR", "ArrowHead": "UCR"}


def check_name(name) -> str:
    """Check a data set's name.

    Parameters
    ----------
    name : str
        One of `BUNDLED`.

    Returns
    -------
    str
        ``name``.

    Raises
    ------
    ValueError
        For any other name.
    """
    if name not in BUNDLED:
        raise ValueError(f"name must be one of {BUNDLED} (data sets bundled with aeon), got {name!r}")
    return name


def archive(name: str) -> str:
    """The archive a data set comes from (cite Dau et al. 2019 for UCR, Bagnall et al. 2018 for UEA).

    Parameters
    ----------
    name : str
        One of `BUNDLED`.

    Returns
    -------
    str
        "UCR" or "UEA".
    """
    return _ARCHIVE[check_name(name)]


def require_aeon():
    """aeon's ``datasets`` module, or one ``ModuleNotFoundError`` that says how to install it.

    aeon ships the UCR/UEA data sets and the 1-NN classifier; it is irn's ``data`` extra
    (:data:`INSTALL`), not part of the core install.

    Returns
    -------
    module
        ``aeon.datasets``.

    Raises
    ------
    ModuleNotFoundError
        When aeon is not installed; the message names ``pip install "irn[data]"``.
    """
    try:
        import aeon.datasets
    except ImportError as err:
        raise ModuleNotFoundError(
            "irn.datasets needs aeon, which ships the UCR/UEA data sets (offline) and the 1-NN baselines, "
            f"and it is not installed. Install irn's data extra: {INSTALL} (or: pip install aeon)",
            name="aeon") from err
    return aeon.datasets


def _bundled_dir() -> Path:
    return Path(require_aeon().__file__).parent / "data"


@functools.lru_cache(maxsize=None)
def _raw(name: str, split: str):
    """aeon's arrays of one split, read from the copy bundled with aeon (never downloaded):
    a list of (channels, timepoints) float64 arrays and a (cases,) array of class names."""
    folder = _bundled_dir()  # refuses first, with the extra to install, when aeon is missing
    from aeon.datasets import load_classification

    if not (folder / name / f"{name}_{split.upper()}.ts").exists():
        raise ValueError(f"name {name!r}: aeon's bundled copy has no {split} split in {folder / name}; "
                         "irn never downloads data")
    # with extract_path pointing at the bundled folder aeon finds the files and does not download
    x, y = load_classification(name, split=split, extract_path=str(folder), return_metadata=False)
    return tuple(np.asarray(s, dtype=np.float64) for s in x), np.asarray(y).astype(str)


def raw(name: str, split: str) -> tuple[list[np.ndarray], np.ndarray]:
    """One split as aeon gives it.

    Parameters
    ----------
    name : str
        One of `BUNDLED`.
    split : {"train", "test"}
        The archive's partition.

    Returns
    -------
    series : list of ndarray, shape (channels, timepoints)
        One array per case.
    labels : ndarray, shape (cases,)
        The class names.
    """
    check_name(name)
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    series, labels = _raw(name, split)
    return [s.copy() for s in series], labels.copy()


@dataclass(frozen=True)
class Split:
    """One partition of a data set, ready for irn.

    Attributes
    ----------
    inputs : torch.Tensor, shape (samples, steps, channels)
        float32, standardised, zero after each sequence's end.
    labels : torch.Tensor, shape (samples,)
        int64 class index 0…K−1.
    length : torch.Tensor, shape (samples,)
        int64 number of observed steps.
    n_classes : int
        K.
    """

    inputs: torch.Tensor
    labels: torch.Tensor
    length: torch.Tensor
    n_classes: int

    @property
    def answer_step(self) -> torch.Tensor:
        """(samples,) 0-based step at which each sequence is answered: its last observed step."""
        return self.length - 1

    def concepts(self) -> np.ndarray:
        """The one-vs-rest concepts of the classes.

        Returns
        -------
        ndarray, shape (samples, K)
            uint8; column k is 1 where the class is k.
        """
        return (self.labels.numpy()[:, None] == np.arange(self.n_classes)).astype(np.uint8)

    def __len__(self) -> int:
        return self.inputs.shape[0]


@dataclass(frozen=True)
class Dataset:
    """A real classification data set in irn's layout.

    Attributes
    ----------
    name : str
        One of `BUNDLED`.
    classes : tuple of str
        The archive's class names, sorted (label k is ``classes[k]``).
    mean, std : ndarray, shape (channels,)
        The standardisation fitted on the training split.
    train, test : Split
        The archive's partition.
    """

    name: str
    classes: tuple[str, ...]
    mean: np.ndarray
    std: np.ndarray
    train: Split
    test: Split

    @property
    def n_classes(self) -> int:
        """Number of classes K."""
        return len(self.classes)

    @property
    def n_inputs(self) -> int:
        """Number of input channels."""
        return self.train.inputs.shape[2]

    @property
    def steps(self) -> int:
        """Steps of the padded sequences (the longest sequence of either split)."""
        return self.train.inputs.shape[1]

    def split(self, which: str) -> Split:
        """One split, or both.

        Parameters
        ----------
        which : {"train", "test", "all"}
            "all" gives both, training sequences first.

        Returns
        -------
        Split
            The sequences.
        """
        if which not in (*SPLITS, "all"):
            raise ValueError(f"which must be one of {(*SPLITS, 'all')}, got {which!r}")
        if which != "all":
            return getattr(self, which)
        a, b = self.train, self.test
        return Split(torch.cat([a.inputs, b.inputs]), torch.cat([a.labels, b.labels]),
                     torch.cat([a.length, b.length]), a.n_classes)

    def summary(self) -> dict:
        """One row of facts about the data set.

        Returns
        -------
        dict
            name, archive, classes, channels, steps (min–max), train, test.
        """
        lengths = torch.cat([self.train.length, self.test.length])
        lo, hi = int(lengths.min()), int(lengths.max())
        return {"dataset": self.name, "archive": archive(self.name), "classes": self.n_classes,
                "channels": self.n_inputs, "length": f"{lo}" if lo == hi else f"{lo}–{hi}",
                "train": len(self.train), "test": len(self.test)}


def standardiser(series: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation over every observed value.

    Parameters
    ----------
    series : list of ndarray, shape (channels, timepoints)
        The training cases.

    Returns
    -------
    mean, std : ndarray, shape (channels,)
        A constant channel gets std 1.
    """
    values = np.concatenate([s for s in series], axis=1)  # (channels, all timepoints)
    mean, std = values.mean(axis=1), values.std(axis=1)
    return mean, np.where(std > 0, std, 1.0)


def pad(series: list[np.ndarray], steps: int, mean: np.ndarray, std: np.ndarray):
    """Standardise and zero-pad cases into irn's layout.

    Parameters
    ----------
    series : list of ndarray, shape (channels, timepoints)
        The cases.
    steps : int
        Length to pad to.
    mean, std : ndarray, shape (channels,)
        The standardisation.

    Returns
    -------
    inputs : torch.Tensor, shape (samples, steps, channels)
        float32.
    length : torch.Tensor, shape (samples,)
        int64 observed steps.
    """
    lengths = np.array([s.shape[1] for s in series], dtype=np.int64)
    if lengths.max() > steps:
        raise ValueError(f"steps must be at least the longest sequence ({lengths.max()}), got {steps}")
    out = np.zeros((len(series), steps, len(mean)), dtype=np.float32)
    for i, s in enumerate(series):
        out[i, : s.shape[1]] = ((s - mean[:, None]) / std[:, None]).T
    return torch.from_numpy(out), torch.from_numpy(lengths)


def load(name: str) -> Dataset:
    """One bundled data set, standardised on its training split and padded (see the module notes).

    Both splits are padded to the longest sequence of either.

    Parameters
    ----------
    name : str
        One of `BUNDLED`.

    Returns
    -------
    Dataset
        Both splits with names and standardisation.
    """
    check_name(name)
    (x_train, y_train), (x_test, y_test) = (_raw(name, s) for s in SPLITS)
    classes = tuple(sorted({str(c) for c in (*y_train, *y_test)}, key=_class_key))
    index = {c: k for k, c in enumerate(classes)}
    mean, std = standardiser(list(x_train))
    steps = max(s.shape[1] for s in (*x_train, *x_test))
    splits = []
    for x, y in ((x_train, y_train), (x_test, y_test)):
        inputs, length = pad(list(x), steps, mean, std)
        labels = torch.tensor([index[c] for c in y], dtype=torch.int64)
        splits.append(Split(inputs, labels, length, len(classes)))
    return Dataset(name, classes, mean, std, *splits)


def _class_key(label: str):
    """Numeric class names sort as numbers ("2" before "10"), others alphabetically."""
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def nearest_neighbour(name: str, distance: str = "euclidean") -> float:
    """Test accuracy of aeon's 1-nearest-neighbour classifier trained on the training split.

    Runs on the archive's raw series, as the archives' published baselines.

    Parameters
    ----------
    name : str
        One of `BUNDLED`.
    distance : {"euclidean", "dtw"}, optional
        One of `DISTANCES` (DTW with aeon's default, unconstrained window).

    Returns
    -------
    float
        Accuracy on the test split.
    """
    check_name(name)
    if distance not in DISTANCES:
        raise ValueError(f"distance must be one of {DISTANCES}, got {distance!r}")
    require_aeon()
    from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier

    (x_train, y_train), (x_test, y_test) = (_raw(name, s) for s in SPLITS)
    x_train, x_test = _aeon_input(x_train), _aeon_input(x_test)
    # aeon's numba threading sets torch's thread count to the machine's cores as a side effect; with
    # small stacked networks on a shared machine that makes every later forward pass many times slower
    threads = torch.get_num_threads()
    try:
        clf = KNeighborsTimeSeriesClassifier(n_neighbors=1, distance=distance, n_jobs=1).fit(x_train, y_train)
        return float((clf.predict(x_test) == y_test).mean())
    finally:
        torch.set_num_threads(threads)


def _aeon_input(series):
    """aeon's own collection format: one 3-D array when lengths agree, else the list."""
    return np.stack(series) if len({s.shape for s in series}) == 1 else list(series)


def baselines(names=tuple(DATASETS), distances=DISTANCES) -> pd.DataFrame:
    """1-NN test accuracy for every data set and distance.

    Parameters
    ----------
    names : sequence of str, optional
        Data sets (default: the chapter's, `DATASETS`).
    distances : sequence of str, optional
        Distances (default: `DISTANCES`).

    Returns
    -------
    pandas.DataFrame
        Columns dataset, distance, accuracy.
    """
    names = [names] if isinstance(names, str) else list(names)
    distances = [distances] if isinstance(distances, str) else list(distances)
    for n in names:
        check_name(n)
    for d in distances:
        if d not in DISTANCES:
            raise ValueError(f"distances must be among {DISTANCES}, got {d!r}")
    return pd.DataFrame([{"dataset": n, "distance": d, "accuracy": nearest_neighbour(n, d)}
                         for n in names for d in distances])
