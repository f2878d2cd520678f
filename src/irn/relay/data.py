"""Relay data: binarisation, input checks, the pattern guard (DESIGN §14), result records and planted
test data with a known answer."""

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
#: samples per distinct pattern (DESIGN §14: plug-in conditional information then collapses).
SAMPLES_PER_PATTERN = 4
#: Bins of the probe's held-out prediction in :func:`probe_greedy`.
PROBE_BINS = 8


class RelayEntropyWarning(UserWarning):
    """The hidden states have nearly as many distinct binarised patterns as samples, so plug-in
    relay values are unreliable (see :func:`pattern_count` and :func:`probe_greedy`)."""


# ----------------------------------------------------------------------------------------
# results


def frozen(array: np.ndarray) -> np.ndarray:
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
    """One greedy ordering of ``nodes`` hidden nodes.

    order: (nodes,) removal order, least relaying first; ``order[-1]`` is the final survivor.
    curve: (nodes,) ``I_R`` of ``Y_R`` after 0, 1, ..., nodes-1 removals; ``curve[0]`` is
        ``I_R`` of all nodes and ``curve[i]`` belongs to a set of ``nodes - i`` nodes.
    contribution: (nodes,) per node, indexed by node: after removal step ``i`` every node
        still in ``Y_R`` gains ``curve[0] - curve[i]`` (the last survivors score highest).
    """

    order: np.ndarray
    curve: np.ndarray
    contribution: np.ndarray


@dataclass(frozen=True)
class GreedyBatch(ReadOnlyArrays):
    """Many greedy orderings; the leading ``batch`` axes follow :func:`greedy_many`'s inputs.

    order, curve, contribution: (*batch, nodes), each as in :class:`GreedyResult`.
    """

    order: np.ndarray
    curve: np.ndarray
    contribution: np.ndarray

    def at(self, *index: int) -> GreedyResult:
        """The :class:`GreedyResult` at one batch index, e.g. ``batch.at(step, concept)``."""
        if len(index) != self.order.ndim - 1:
            raise ValueError(
                f"index must give one integer per batch axis ({self.order.ndim - 1}), got {index}"
            )
        return GreedyResult(self.order[index], self.curve[index], self.contribution[index])


@dataclass(frozen=True)
class ExhaustiveResult(ReadOnlyArrays):
    """``I_R`` of every node subset.

    values: (2**nodes,) ``values[mask]`` is ``I_R`` with ``Y_R`` = the nodes whose bit is set
        in ``mask`` (bit ``j`` is node ``j``); ``values[0] == 0``.
    best: (nodes + 1,) largest ``I_R`` among subsets of each size 0..nodes.
    best_mask: (nodes + 1,) a subset (as a mask) reaching ``best``; ties go to the lowest mask.
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

    observed: ``I_R`` of the data; null: (shuffles,) ``I_R`` with ``(X_in, X_out)`` permuted
    jointly against the hidden states; null_mean: bias estimate; p_value:
    ``(1 + #(null >= observed)) / (1 + shuffles)``; corrected: ``observed - null_mean``.
    """

    observed: float
    null: np.ndarray
    null_mean: float
    p_value: float
    corrected: float


@dataclass(frozen=True)
class GreedyNull(ReadOnlyArrays):
    """Shuffle null of a greedy run: each shuffle is ordered greedily on its own, so the null
    of ``curve[i]`` is that of the *best greedy set* of that size (selection included).

    observed: the greedy run on the data.
    null_curve, null_contribution: (shuffles, nodes) greedy curves / contributions of the
        shuffles (contribution indexed by node).
    curve_p_value, contribution_p_value: (nodes,) ``(1 + #(null >= observed)) / (1 + shuffles)``.
    corrected_curve, corrected_contribution: (nodes,) observed minus the null mean.
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
    """Check a 0/1 array (``irn.params.array``, kind "binary") and return it as contiguous uint8."""
    array = params.array(values, name, kind="binary")
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {array.shape}")
    if min_ndim is not None and array.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimensions, got {array.shape}")
    return array


def check_relay_data(x_in, x_out, hidden_bits):
    """Validate one (x_in, x_out, hidden_bits) triple; returns uint8 arrays."""
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

    hidden: (..., samples, nodes) float; thresholds are computed over the samples axis
        separately for every node (and every leading index, e.g. every time step).
    method: ``"median"`` (value above the node's median -> 1; the authors' RNN work — when
        many samples sit exactly at the median, as with a saturated node of a deterministic
        network, the more balanced of ``> median`` and ``>= median`` is used, so a node with
        two values never becomes constant),
        ``"kmeans"`` (exact deterministic 1-D two-means, value in the upper cluster -> 1; the
        2023 notebook) or ``"sign"`` (value > 0 -> 1).
    Returns (..., samples, nodes) uint8. A constant node gives all-zero bits for every method.
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
# the guard: distinct patterns against samples (DESIGN §14)


def pattern_count(hidden_bits) -> np.ndarray:
    """Distinct binarised patterns (rows) of hidden bits.

    hidden_bits: (..., samples, nodes) binary. Returns (...,) int64: the number of distinct
    rows of every (samples, nodes) slice (a plain int array of shape () for one slice).
    """
    bits = binary(hidden_bits, "hidden_bits", min_ndim=2)
    samples, nodes = bits.shape[-2:]
    counts = pattern_counts(bits.reshape(-1, samples, nodes))
    return counts.reshape(bits.shape[:-2])





def guard(hidden_bits: np.ndarray, stacklevel: int = 3) -> None:
    """Warn (RelayEntropyWarning) when some slice has fewer than SAMPLES_PER_PATTERN samples
    per distinct pattern; hidden_bits is validated uint8 (..., samples, nodes)."""
    samples, nodes = hidden_bits.shape[-2:]
    if samples < SAMPLES_PER_PATTERN * 2 ** min(nodes, 62) and samples >= SAMPLES_PER_PATTERN:
        worst = int(pattern_count(hidden_bits).max())
        if worst * SAMPLES_PER_PATTERN > samples:
            warnings.warn(
                f"hidden_bits has {worst} distinct binarised patterns among {samples} samples "
                f"({samples / worst:.1f} samples per pattern, fewer than {SAMPLES_PER_PATTERN}; "
                f"{nodes} nodes): plug-in relay values collapse toward 0 and the greedy order is "
                "decided by ties (DESIGN §14). Use more samples, check the shuffle null "
                "(greedy_null), or use probe_greedy.",
                RelayEntropyWarning, stacklevel=stacklevel,
            )


# ----------------------------------------------------------------------------------------
# planted relays and the probe remedy (DESIGN §14)


@dataclass(frozen=True)
class PlantedRelays(ReadOnlyArrays):
    """Synthetic relay data with a known answer.

    x_in: (samples,) fair bits; hidden_bits: (samples, nodes): the ``relays`` nodes are copies
    of ``x_in`` each flipped with probability ``flip``, every other node an independent fair
    bit; x_out: (samples,) the majority of the relay nodes (a tie goes to the first relay);
    relays: (relays,) the planted node indices, ascending.
    """

    x_in: np.ndarray
    x_out: np.ndarray
    hidden_bits: np.ndarray
    relays: np.ndarray


def planted_relays(samples: int, nodes: int, relays: int = 4, flip: float = 0.1,
                   seed: int = 0) -> PlantedRelays:
    """Random-bit hidden states with ``relays`` planted relay nodes at random positions (the
    DESIGN §14 test case). Returns a :class:`PlantedRelays`."""
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
    counts = np.zeros(masks.shape, dtype=np.int64)
    for shift in range(MAX_EXHAUSTIVE_NODES + 1):
        counts += (masks >> shift) & 1
    return counts
