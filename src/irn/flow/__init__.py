"""Information flow between neurons: delayed information, transfer entropy (pairwise and
multivariate), the flow graph, each neuron's trophic level, and networks with a known answer.

Ivanovic, Kha & Muruganantham ("Analyzing Information in RNNs", CS 294-131 report, §4) record
every neuron of a recurrent network (inputs, hidden, outputs) over time and ask two questions:
is there a general direction of information flow, and does the network form layer-like
structures? Their measure is the time-delayed mutual information between every ordered pair of
neurons minus the undelayed one; they draw a directed flow graph and place each neuron by its
"progression along the network". irn adds the principled forms beside it:

* ``delayed_information`` — the source's measure, ``I(s[t−ℓ]; u[t]) − I(s[t]; u[t])`` (bits);
* ``transfer_entropy`` — ``I(s[t−ℓ]; u[t] | u[t−1 … t−history], c)``: conditioned on the target's
  own past and on chosen neurons c (the input, to remove its common drive) taken at the source's
  time t − ℓ or at the target's time t (``condition_time``); edges from or to those neurons are
  conditioned on the target's past only;
* ``flow_significance`` — any of the three measures (``"delayed"``, ``"transfer"``,
  ``"multivariate"``) against time-shifted surrogates of the source (circular shifts keep each
  series' autocorrelation), one p-value per edge, Benjamini–Hochberg across the edges of the
  network (``correction="bh"``);
* ``"multivariate"`` transfer entropy — the greedy algorithm of Lizier & Rubinov (2012) and
  Novelli et al. (Network Neuroscience 3:827, 2019) as IDTxl runs it, written here on ``irn.ksg``
  (IDTxl is GPL): per target, add the candidate source with the largest transfer entropy
  conditioned on the sources already chosen while it beats the maximum over candidates of its
  surrogates (max statistic), prune chosen sources that no longer beat the minimum statistic given
  the rest, then test all chosen sources together (omnibus); the false-discovery rate is
  controlled over the targets' omnibus p-values. Indirect links (a → b → c seen as a → c) drop out;
* ``flow_graph`` — the directed weighted graph of the significant positive edges (edges into
  exogenous neurons, such as an input clamped to data, can be dropped);
* ``trophic_levels`` — improved trophic levels of MacKay, Johnson & Sansom (R. Soc. Open Sci.
  7:201138, 2020): solve ``(diag(u) − W − Wᵀ) h = v`` with ``u`` = in + out strength and ``v`` =
  in − out strength, and the trophic incoherence ``F₀ = Σ w_mn (h_n − h_m − 1)² / Σ w_mn``
  (0: every edge climbs exactly one level, a perfect hierarchy; 1: no direction at all);
* ``level_clustering`` — do levels fall into layers? The graph's trophic incoherence against
  degree-preserving rewirings of it (a layered graph is coherent: its levels sit on a few values
  one step apart), with the best exact one-dimensional k-means split of the levels as a description;
* ``Choices`` / ``replicate_flow`` / ``direction_tests`` / ``direction_sensitivity`` — the whole
  pipeline (significance → graph → levels → layers) for every replicate of a network under one set
  of analysis choices, the direction test over replicates, and the same verdict under every
  defensible variation of the choices;
* ``driven_chain``, ``planted_layers``, ``known_network`` and ``edge_recovery`` — positive
  controls: simulated tanh networks whose connections, direction and layers are known;
* ``neuron_entropy`` and ``hidden_io_information`` — the source's per-neuron entropy and its
  information-bottleneck test (across hidden neurons, is I(h; input) correlated with I(h; output)?);
* ``sequence_flow`` and ``path_nodes`` — lag-1 transfer entropy on many short sequences, and which
  neurons lie on a flow path from an input to an output.

The package's modules, each one job: ``measures`` (the measures between neurons), ``multivariate``
(the greedy source selection), ``significance`` (surrogates and false-discovery control),
``graph`` (graph, levels, layers, paths), ``pipeline`` (choices, replicates, direction and its
sensitivity), ``controls`` (networks with a known answer) and ``sequences`` (short sequences and the
bridge to the relay nodes); every public name is here at the top. Hand-written because networkx's
``trophic_levels`` is the older definition (Levine 1980), which needs a node without incoming edges
and fails on strongly connected recurrent graphs; the improved definition is a few lines of linear
algebra. The estimators are ``irn.ksg``.
"""

from __future__ import annotations

from irn.flow._shared import CONDITION_TIMES, CORRECTIONS, MEASURES, NULLS, ROLES
from irn.flow.controls import (CONTROL_NAMES, Controls, EdgeRecovery, Simulated, driven_chain, edge_recovery,
                               graded_copies, known_network, planted_layers, positive_controls)
from irn.flow.graph import (LevelClustering, TrophicLevels, flow_graph, level_clustering, path_nodes,
                            trophic_levels)
from irn.flow.measures import (delayed_information, hidden_io_information, io_correlation, neuron_entropy,
                               transfer_entropy)
from irn.flow.pipeline import (Choices, ReplicateFlow, Sensitivity, direction_sensitivity, direction_tests,
                               direction_verdict, replicate_flow)
from irn.flow.sequences import NetworkActivity, network_activity, path_groups, sequence_flow
from irn.flow.significance import flow_significance

__all__ = [
    "ROLES",
    "MEASURES",
    "NULLS",
    "CORRECTIONS",
    "CONDITION_TIMES",
    "CONTROL_NAMES",
    "neuron_entropy",
    "delayed_information",
    "transfer_entropy",
    "hidden_io_information",
    "io_correlation",
    "flow_significance",
    "flow_graph",
    "trophic_levels",
    "TrophicLevels",
    "level_clustering",
    "LevelClustering",
    "path_nodes",
    "Choices",
    "replicate_flow",
    "ReplicateFlow",
    "direction_tests",
    "direction_verdict",
    "direction_sensitivity",
    "Sensitivity",
    "Simulated",
    "driven_chain",
    "planted_layers",
    "known_network",
    "graded_copies",
    "edge_recovery",
    "EdgeRecovery",
    "positive_controls",
    "Controls",
    "sequence_flow",
    "network_activity",
    "NetworkActivity",
    "path_groups",
]
