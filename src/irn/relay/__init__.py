"""The information relay method: which hidden nodes carry a concept from input to output.

Implements Hintze, Najam & Schossau (arXiv 2510.01271), §II.C and Eq. 1, after Hintze & Adami,
"Detecting information relays in deep neural networks", Entropy 25:401 (2023). For one concept
at one time step, ``X_in`` is the concept's true bit, ``X_out`` the network's output bit for it
and ``Y`` the binarised hidden state. For a node subset ``Y_R`` with complement ``Y_0``::

    I_R = I(X_in; X_out; Y_R | Y_0)
        = H(X_in,Y_0) + H(Y_0,X_out) + H(Y_R,Y_0) - H(Y_0)
          - H(X_in,Y_R,Y_0) - H(X_in,Y_0,X_out) - H(Y_R,Y_0,X_out) + H(X_in,Y_R,Y_0,X_out)
        = I(X_in; X_out | Y_0) - I(X_in; X_out | Y)

``I_R`` is not monotone in the subset and can be negative (synergy); it is never clipped.

* :func:`binarize` turns hidden activity into node bits (median, exact 1-D two-means, sign).
* :func:`relay_information` is ``I_R`` of one subset.
* :func:`greedy` removes, one at a time, the node whose removal keeps ``I_R`` largest, and
  accumulates per-node contributions as the authors' code does; :func:`greedy_many` runs many
  greedy orderings (concepts x time steps x networks) in one compiled loop.
* :func:`exhaustive` evaluates every subset (up to :data:`MAX_EXHAUSTIVE_NODES` nodes) and
  :func:`greedy_gap` reports how often a subset beats the greedy curve.
* :func:`relay_null` and :func:`greedy_null` are shuffle nulls (not in the paper): permute
  ``X_in`` and ``X_out`` jointly against the hidden states for a bias estimate and a p-value.
* Scale (DESIGN §14, the paper's named limitation). Plug-in information needs the binarised
  patterns to recur: with ``nodes`` bits and ``samples`` rows, once most rows have a pattern of
  their own every conditional information is 0 and the greedy order is decided by ties. The
  guard: every relay function counts the distinct patterns (:func:`pattern_count`) and warns
  (:class:`RelayEntropyWarning`) below :data:`SAMPLES_PER_PATTERN` samples per pattern. The
  remedy: :func:`probe_greedy` conditions on a cross-fitted linear probe's prediction instead
  of the patterns of ``Y_0`` (:func:`probe_null`: its shuffle null). :func:`planted_relays` makes
  test data with a known answer; :func:`planted_study` runs both estimators on it at every size
  (chapter 12, ``benchmarks/bench_scale.py``) and :func:`planted_controls` plants a relayed and an
  independent concept into recorded hidden states (the controls of a relay-above-null test).

Speed (DESIGN §7): ``Y_R ∪ Y_0`` is always all nodes, so four of the eight entropies are constant
during a greedy run and only ``I(X_in; X_out | Y_0)`` is recomputed. ``Y_0`` is kept as dense
pattern ids updated as ``relabel(zid * 2 + y_j)`` (O(samples), any number of nodes), each
candidate fills one ``nZ x 2 x 2`` count table, ``c log2 c`` comes from a lookup table, and
repeated rows are merged into weighted rows first. Bits are stored node-major (a node's bits side
by side in memory), and rows whose ``Y_0`` group has a constant ``X_in`` or ``X_out`` are dropped:
such a group adds exactly 0 now and after every later split, so on high-entropy states most rows
leave after a few removals (``benchmarks/bench_scale.py``: 40x at 256 nodes and 260x at 1024
nodes, 10 000 samples, against the previous kernel, same orders). Kernels are serial numba
functions: numba's parallel mode was erratic on 2 cores, serial kernels in separate processes
scale better. Nothing here comes from a library because no information-theory package offers the
incremental greedy (``dit`` takes seconds per run at 12 nodes, DESIGN §7).
"""

from __future__ import annotations

from irn.relay.data import (
                            BINARIZE_METHODS,
                            MAX_EXHAUSTIVE_NODES,
                            PROBE_BINS,
                            SAMPLES_PER_PATTERN,
                            TIE_TOLERANCE,
                            ExhaustiveResult,
                            GreedyBatch,
                            GreedyNull,
                            GreedyResult,
                            PlantedRelays,
                            RelayEntropyWarning,
                            RelayNull,
                            binarize,
                            pattern_count,
                            planted_relays,
)
from irn.relay.greedy import (
                            exhaustive,
                            greedy,
                            greedy_gap,
                            greedy_many,
                            relay_information,
)
from irn.relay.nulls import greedy_null, relay_null
from irn.relay.planted import (
                            PlantedConcept,
                            PlantedStudy,
                            planted_concept,
                            planted_controls,
                            planted_study,
                            recovered,
)
from irn.relay.probe import probe_greedy, probe_null

__all__ = [
    "BINARIZE_METHODS",
    "TIE_TOLERANCE",
    "MAX_EXHAUSTIVE_NODES",
    "GreedyResult",
    "GreedyBatch",
    "ExhaustiveResult",
    "RelayNull",
    "GreedyNull",
    "binarize",
    "relay_information",
    "greedy",
    "greedy_many",
    "exhaustive",
    "greedy_gap",
    "relay_null",
    "greedy_null",
    "SAMPLES_PER_PATTERN",
    "RelayEntropyWarning",
    "pattern_count",
    "PlantedRelays",
    "planted_relays",
    "PROBE_BINS",
    "probe_greedy",
    "probe_null",
    "PlantedStudy",
    "planted_study",
    "recovered",
    "PlantedConcept",
    "planted_concept",
    "planted_controls",
]
