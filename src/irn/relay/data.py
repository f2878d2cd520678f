"""Relay data: binarisation, input checks, the pattern guard, result records and planted test data
with a known answer.

The guard. Plug-in conditional information needs the binarised patterns of the hidden state to
recur: once most samples have a pattern of their own, every conditional information is 0 and the
greedy order is decided by ties (measured on random-bit nodes with 4 planted relays at 64 nodes and
10 000 samples, where the planted nodes are not the last survivors). Every relay function counts
the distinct patterns and warns (``RelayEntropyWarning``) below ``SAMPLES_PER_PATTERN`` samples per
pattern. Planted relays (``planted_relays``) are the test case with a known answer at any size: the
scaling the paper leaves open as its limitation (Hintze, Najam & Schossau, arXiv 2510.01271, §IV).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, fields

import numpy as np

from irn import params
from irn.params import check_count
from irn.relay.kernels import TIE_TOLERANCE, pattern_counts  # noqa: F401 (TIE_TOLERANCE: re-exported)

BINARIZE_METHODS = ("median", "kmeans", "sign")
#: ``exhaustive`` evaluates 2**nodes subsets; beyond this it refuses.
MAX_EXHAUSTIVE_NODES = 16
#: The guard: relay functions warn when the binarised hidden states have fewer than this many
#: samples per distinct pattern (plug-in conditional information then collapses toward 0).
SAMPLES_PER_PATTERN = 4
#: Bins of the probe's held-out prediction in :func:`probe_greedy`.
PROBE_BINS = 8


class RelayEntropyWarning(UserWarning):
    """Warned when the hidden states have nearly as many distinct binarised patterns as samples.

    Plug-in relay values are then unreliable (see :func:`pattern_count` and :func:`probe_greedy`).
    """


# ----------------------------------------------------------------------------------------
# results


def frozen(array: np.ndarray) -> np.ndarray:
    """A read-only copy of an array.

    Parameters
    ----------
    array : array_like
        Any array.

    Returns
    -------
    ndarray
        A copy with ``flags.writeable`` False.
    """
    array = np.array(array)
    array.flags.writeable = False
    return array


class ReadOnlyArrays:
    """Base of the result dataclasses: every field declared ``np.ndarray`` becomes a read-only copy."""

    def __post_init__(self):
        for f in fields(self):
            if f.type == "np.ndarray":
                object.__setattr__(self, f.name, frozen(getattr(self, f.name)))


@dataclass(frozen=True)
class GreedyResult(ReadOnlyArrays):
    """One greedy ordering of ``nodes`` hidden nodes (arrays read-only).

    Attributes
    ----------
    order : ndarray of int, shape (nodes,)
        Removal order, least relaying first; ``order[-1]`` is the final survivor.
    curve : ndarray, shape (nodes,)
        ``I_R`` in bits of ``Y_R`` after 0, 1, ..., nodes − 1 removals; ``curve[0]`` is ``I_R`` of
        all nodes and ``curve[i]`` belongs to a set of ``nodes - i`` nodes.
    contribution : ndarray, shape (nodes,)
        Per node, indexed by node: after removal step ``i`` every node still in ``Y_R`` gains
        ``curve[0] - curve[i]`` (the last survivors score highest).
    """

    order: np.ndarray
    curve: np.ndarray
    contribution: np.ndarray


@dataclass(frozen=True)
class GreedyBatch(ReadOnlyArrays):
    """Many greedy orderings; the leading batch axes follow :func:`greedy_many`'s inputs.

    Attributes
    ----------
    order : ndarray of int, shape (..., nodes)
        Removal orders, as in :class:`GreedyResult`.
    curve : ndarray, shape (..., nodes)
        ``I_R`` curves, as in :class:`GreedyResult`.
    contribution : ndarray, shape (..., nodes)
        Contributions, as in :class:`GreedyResult`.
    """

    order: np.ndarray
    curve: np.ndarray
    contribution: np.ndarray

    def at(self, *index: int) -> GreedyResult:
        """One ordering of the batch.

        Parameters
        ----------
        *index : int
            One index per batch axis, e.g. ``batch.at(step, concept)``.

        Returns
        -------
        GreedyResult
            The ordering at that index.
        """
        if len(index) != self.order.ndim - 1:
            raise ValueError(
                f"index must give one integer per batch axis ({self.order.ndim - 1}), got {index}"
            )
        return GreedyResult(self.order[index], self.curve[index], self.contribution[index])


@dataclass(frozen=True)
class ExhaustiveResult(ReadOnlyArrays):
    """``I_R`` of every node subset (arrays read-only).

    Attributes
    ----------
    values : ndarray, shape (2**nodes,)
        ``values[mask]`` is ``I_R`` in bits with ``Y_R`` = the nodes whose bit is set in ``mask``
        (bit ``j`` is node ``j``); ``values[0] == 0``.
    best : ndarray, shape (nodes + 1,)
        The largest ``I_R`` among subsets of each size 0..nodes.
    best_mask : ndarray of int, shape (nodes + 1,)
        A subset (as a mask) reaching ``best``; ties go to the lowest mask.
    """

    values: np.ndarray
    best: np.ndarray
    best_mask: np.ndarray


    @property
    def sizes(self) -> np.ndarray:
        """(2**nodes,) number of nodes in each subset mask."""
        return popcount(np.arange(self.values.size, dtype=np.int64))


@dataclass(frozen=True)
class RelayNull(ReadOnlyArrays):
    """Shuffle null of one relay value.

    Attributes
    ----------
    observed : float
        ``I_R`` of the data, in bits.
    null : ndarray, shape (shuffles,)
        ``I_R`` with ``(X_in, X_out)`` permuted jointly against the hidden states (read-only).
    null_mean : float
        The mean of ``null``: the estimate of the plug-in bias.
    p_value : float
        ``(1 + #(null >= observed)) / (1 + shuffles)``, values within ``TIE_TOLERANCE`` counting
        as equal.
    corrected : float
        ``observed - null_mean``.
    """

    observed: float
    null: np.ndarray
    null_mean: float
    p_value: float
    corrected: float


@dataclass(frozen=True)
class GreedyNull(ReadOnlyArrays):
    """Shuffle null of a greedy run (arrays read-only).

    Each shuffle is ordered greedily on its own, so the null of ``curve[i]`` is that of the *best
    greedy set* of that size (selection included).

    Attributes
    ----------
    observed : GreedyResult
        The greedy run on the data.
    null_curve : ndarray, shape (shuffles, nodes)
        The greedy curves of the shuffles.
    null_contribution : ndarray, shape (shuffles, nodes)
        The contributions of the shuffles, indexed by node.
    curve_p_value : ndarray, shape (nodes,)
        ``(1 + #(null >= observed)) / (1 + shuffles)`` for each point of the curve.
    contribution_p_value : ndarray, shape (nodes,)
        The same for each node's contribution.
    corrected_curve : ndarray, shape (nodes,)
        The observed curve minus the null mean.
    corrected_contribution : ndarray, shape (nodes,)
        The observed contributions minus the null mean.
    """

    observed: GreedyResult
    null_curve: np.ndarray
    null_contribution: np.ndarray
    curve_p_value: np.ndarray
    contribution_p_value: np.ndarray
    corrected_curve: np.ndarray
    corrected_contribution: np.ndarray


# ----------------------------------------------------------------------------------------
# validation


def binary(values, name: str, ndim: int | None = None, min_ndim: int | None = None):
    """Check a 0/1 array (``irn.params.array``, kind "binary").

    Parameters
    ----------
    values : array_like
        The array, holding 0 and 1 only.
    name : str
        The parameter's name, for the error message.
    ndim : int, optional
        The exact number of dimensions required.
    min_ndim : int, optional
        The least number of dimensions required.

    Returns
    -------
    ndarray of uint8
        ``values``, C-contiguous.

    Raises
    ------
    ValueError
        One, naming ``name``, for other values or dimensions.
    """
    array = params.array(values, name, kind="binary")
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {array.shape}")
    if min_ndim is not None and array.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimensions, got {array.shape}")
    return array


def check_relay_data(x_in, x_out, hidden_bits):
    """Check the data of one relay computation.

    Parameters
    ----------
    x_in : array_like, shape (samples,)
        The concept's bit, 0/1, at least one sample.
    x_out : array_like, shape (samples,)
        The network's output bit, 0/1.
    hidden_bits : array_like, shape (samples, nodes)
        Binarised hidden states, 0/1, at least 2 nodes.

    Returns
    -------
    x_in, x_out, hidden_bits : ndarray of uint8
        The three arrays, C-contiguous.

    Raises
    ------
    ValueError
        One, naming the first parameter that is wrong.
    """
    x_in = binary(x_in, "x_in", ndim=1)
    x_out = binary(x_out, "x_out", ndim=1)
    hidden_bits = binary(hidden_bits, "hidden_bits", ndim=2)
    if x_in.shape[0] == 0:
        raise ValueError("x_in must hold at least one sample")
    if x_out.shape[0] != x_in.shape[0]:
        raise ValueError(
            f"x_out has {x_out.shape[0]} samples but x_in has {x_in.shape[0]}; they must match"
        )
    if hidden_bits.shape[0] != x_in.shape[0]:
        raise ValueError(
            f"hidden_bits has {hidden_bits.shape[0]} samples (rows) but x_in has "
            f"{x_in.shape[0]}; hidden_bits must be (samples, nodes)"
        )
    if hidden_bits.shape[1] < 2:
        raise ValueError(
            f"hidden_bits must have at least 2 nodes (columns), got {hidden_bits.shape[1]}"
        )
    return x_in, x_out, hidden_bits


def check_nodes(nodes, n_nodes: int) -> np.ndarray:
    """Check a subset of node indices.

    Parameters
    ----------
    nodes : array_like of int, shape (k,)
        Distinct node indices (may be empty).
    n_nodes : int
        The number of nodes.

    Returns
    -------
    ndarray of int64, shape (k,)
        ``nodes`` in the order given.

    Raises
    ------
    ValueError
        For anything but distinct integers in 0..n_nodes − 1.
    """
    array = np.asarray(nodes)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise ValueError(f"nodes must be a 1-D sequence of node indices, got {nodes!r}")
    array = array.astype(np.int64)
    if np.any(array < 0) or np.any(array >= n_nodes):
        raise ValueError(f"nodes must be indices in 0..{n_nodes - 1}, got {array.tolist()}")
    if np.unique(array).size != array.size:
        raise ValueError(f"nodes must be unique, got {array.tolist()}")
    return array


def check_null_settings(shuffles, seed) -> None:
    """Check the settings of a shuffle null.

    Parameters
    ----------
    shuffles : int
        The number of permutations, at least 1.
    seed : int
        The random seed, at least 0.

    Raises
    ------
    ValueError
        One, naming the parameter that is wrong.
    """
    check_count(shuffles, "shuffles", 1)
    params.require(seed, "seed", params.SEED)


# ----------------------------------------------------------------------------------------
# binarisation


def _two_means_threshold(hidden: np.ndarray) -> np.ndarray:
    """Exact 1-D two-means threshold per node: (..., samples, nodes) -> (..., 1, nodes).

    Scans every split of the sorted values between two distinct values and keeps the one that
    minimises the within-cluster sum of squares, i.e. maximises ``n1 n2 (m1 - m2)**2``.
    Near-ties (relative 1e-12) go to the lowest threshold. Constant nodes get ``+inf``.
    """
    samples = hidden.shape[-2]
    ordered = np.sort(hidden, axis=-2)
    centred = ordered - ordered.mean(axis=-2, keepdims=True)
    prefix = np.cumsum(centred, axis=-2)[..., :-1, :]
    total = centred.sum(axis=-2, keepdims=True)
    left = np.arange(1, samples, dtype=np.float64)[:, None]
    right = samples - left
    gap = prefix / left - (total - prefix) / right
    score = left * right * gap**2
    valid = ordered[..., 1:, :] > ordered[..., :-1, :]
    score = np.where(valid, score, -np.inf)
    best = score.max(axis=-2, keepdims=True)
    near_best = valid & (score >= best - 1e-12 * np.abs(best))
    split = np.argmax(near_best, axis=-2)[..., None, :]
    threshold = np.take_along_axis(ordered[..., :-1, :], split, axis=-2)
    return np.where(valid.any(axis=-2, keepdims=True), threshold, np.inf)


def binarize(hidden, method: str = "median") -> np.ndarray:
    """Binarise hidden activity per node over all samples.

    Parameters
    ----------
    hidden : array_like, shape (..., samples, nodes)
        Finite real activity; thresholds are computed over the samples axis separately for every
        node (and every leading index, e.g. every time step).
    method : {"median", "kmeans", "sign"}, optional
        ``"median"``: value above the node's median → 1 (the authors' RNN work); when many samples
        sit exactly at the median, as with a saturated node of a deterministic network, the more
        balanced of ``> median`` and ``>= median`` is used, so a node with two values never becomes
        constant. ``"kmeans"``: exact deterministic 1-D two-means, value in the upper cluster → 1
        (the notebook of Hintze & Adami 2023). ``"sign"``: value > 0 → 1.

    Returns
    -------
    ndarray of uint8, shape (..., samples, nodes)
        The bits. A constant node gives all-zero bits for every method.
    """
    if method not in BINARIZE_METHODS:
        raise ValueError(f"method must be one of {BINARIZE_METHODS}, got {method!r}")
    hidden = np.asarray(hidden)
    if hidden.ndim < 2 or hidden.shape[-2] == 0 or hidden.shape[-1] == 0:
        raise ValueError(
            f"hidden must be a (..., samples, nodes) array with samples, nodes >= 1, "
            f"got shape {hidden.shape}"
        )
    if hidden.dtype.kind not in "biuf" or not np.all(np.isfinite(hidden)):
        raise ValueError("hidden must hold finite real numbers")
    hidden = hidden.astype(np.float64, copy=False)
    if method == "median":
        threshold = np.median(hidden, axis=-2, keepdims=True)
    elif method == "kmeans":
        threshold = _two_means_threshold(hidden)
    else:
        threshold = np.zeros(hidden.shape[:-2] + (1, hidden.shape[-1]))
    bits = hidden > threshold
    if method == "median":
        at_or_above = hidden >= threshold
        n = hidden.shape[-2]
        imbalance = lambda b: np.abs(2 * b.sum(axis=-2, keepdims=True) - n)
        bits = np.where(imbalance(at_or_above) < imbalance(bits), at_or_above, bits)
    constant = np.all(hidden == hidden[..., :1, :], axis=-2, keepdims=True)
    return (bits & ~constant).astype(np.uint8)


# ----------------------------------------------------------------------------------------
# the guard: distinct patterns against samples (plug-in information needs recurring patterns)


def pattern_count(hidden_bits) -> np.ndarray:
    """Distinct binarised patterns (rows) of hidden bits.

    Parameters
    ----------
    hidden_bits : array_like, shape (..., samples, nodes)
        Binarised hidden states, 0/1.

    Returns
    -------
    ndarray of int64, shape (...)
        The number of distinct rows of every (samples, nodes) slice (an array of shape () for one
        slice).
    """
    bits = binary(hidden_bits, "hidden_bits", min_ndim=2)
    samples, nodes = bits.shape[-2:]
    counts = pattern_counts(bits.reshape(-1, samples, nodes))
    return counts.reshape(bits.shape[:-2])





def guard(hidden_bits: np.ndarray, stacklevel: int = 3) -> None:
    """Warn when some slice has fewer than ``SAMPLES_PER_PATTERN`` samples per distinct pattern.

    The warning is a ``RelayEntropyWarning``; with fewer than ``SAMPLES_PER_PATTERN`` samples in
    all, nothing is warned.

    Parameters
    ----------
    hidden_bits : ndarray of uint8, shape (..., samples, nodes)
        Validated binarised hidden states.
    stacklevel : int, optional
        The warning's stack level (3: the caller of the relay function that calls ``guard``).
    """
    samples, nodes = hidden_bits.shape[-2:]
    if samples < SAMPLES_PER_PATTERN * 2 ** min(nodes, 62) and samples >= SAMPLES_PER_PATTERN:
        worst = int(pattern_count(hidden_bits).max())
        if worst * SAMPLES_PER_PATTERN > samples:
            warnings.warn(
                f"hidden_bits has {worst} distinct binarised patterns among {samples} samples "
                f"({samples / worst:.1f} samples per pattern, fewer than {SAMPLES_PER_PATTERN}; "
                f"{nodes} nodes): plug-in relay values collapse toward 0 and the greedy order is "
                "decided by ties (see the book's chapter 12). Use more samples, check the shuffle null "
                "(greedy_null), or use probe_greedy.",
                RelayEntropyWarning, stacklevel=stacklevel,
            )


# ----------------------------------------------------------------------------------------
# planted relays and the probe remedy


@dataclass(frozen=True)
class PlantedRelays(ReadOnlyArrays):
    """Synthetic relay data with a known answer (arrays read-only).

    Attributes
    ----------
    x_in : ndarray of uint8, shape (samples,)
        Fair bits.
    x_out : ndarray of uint8, shape (samples,)
        The majority of the relay nodes (a tie goes to the first relay).
    hidden_bits : ndarray of uint8, shape (samples, nodes)
        The ``relays`` nodes are copies of ``x_in``, each bit flipped with probability ``flip``;
        every other node is an independent fair bit.
    relays : ndarray of int, shape (relays,)
        The planted node indices, ascending.
    """

    x_in: np.ndarray
    x_out: np.ndarray
    hidden_bits: np.ndarray
    relays: np.ndarray


def planted_relays(samples: int, nodes: int, relays: int = 4, flip: float = 0.1,
                   seed: int = 0) -> PlantedRelays:
    """Random-bit hidden states with planted relay nodes at random positions.

    The test case with a known answer at any size.

    Parameters
    ----------
    samples : int
        Samples, at least 2.
    nodes : int
        Hidden nodes, at least 2.
    relays : int, optional
        Planted relay nodes, 1..nodes.
    flip : float, optional
        Probability in [0, 0.5) that a relay node's bit differs from ``x_in``.
    seed : int, optional
        Random seed.

    Returns
    -------
    PlantedRelays
    """
    for name, value, low in (("samples", samples, 2), ("nodes", nodes, 2), ("relays", relays, 1)):
        check_count(value, name, low)
    if relays > nodes:
        raise ValueError(f"relays must be at most nodes ({nodes}), got {relays}")
    if not (isinstance(flip, (int, float)) and 0 <= flip < 0.5):
        raise ValueError(f"flip must be a number in [0, 0.5), got {flip!r}")
    check_null_settings(1, seed)
    rng = np.random.default_rng(seed)
    x_in = rng.integers(0, 2, samples).astype(np.uint8)
    bits = rng.integers(0, 2, (samples, nodes)).astype(np.uint8)
    where = np.sort(rng.choice(nodes, relays, replace=False))
    copies = x_in[:, None] ^ (rng.random((samples, relays)) < flip)
    bits[:, where] = copies
    votes = 2 * copies.sum(axis=1).astype(np.int64) - relays
    x_out = np.where(votes == 0, copies[:, 0], votes > 0).astype(np.uint8)
    return PlantedRelays(x_in, x_out, bits, where)


def popcount(masks: np.ndarray) -> np.ndarray:
    """The number of set bits of each subset mask.

    Parameters
    ----------
    masks : ndarray of int
        Masks of at most ``MAX_EXHAUSTIVE_NODES + 1`` bits.

    Returns
    -------
    ndarray of int64, shape of ``masks``
        The set bits of each mask (its subset's size).
    """
    counts = np.zeros(masks.shape, dtype=np.int64)
    for shift in range(MAX_EXHAUSTIVE_NODES + 1):
        counts += (masks >> shift) & 1
    return counts
