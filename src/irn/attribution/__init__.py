"""Which nodes matter? Relay information against the attribution methods researchers already use
(DESIGN §19; the book's chapter 4b).

The book shows that knocking out a concept's relay nodes hurts that concept more than knocking out
random nodes (paper §III, Fig 4/5). Random nodes are the weakest baseline; this package ranks the
nodes of any ``Stacked`` model (any architecture, layers and readout; every replicate) per concept
and step by twelve methods — relay information (``irn.relay``; ties broken as the paper does and
at random), single-node information, activation statistics, readout weights, an L1 probe, captum's
gradient attributions, an ablation oracle and random — and scores each ranking by the knockout
test on held-out sequences.

* ``data``: ``Sets`` — the sequences that rank (``fit``) and those that score (``held_out``), and
  where nodes are knocked out (``sets``, ``task_sets``, ``split_sets``).
* ``replay``: one replicate as torch's own modules, run from the state at any step (knockouts that
  share their past; the state as a differentiable input for captum).
* ``methods``: ``rank`` → ``Ranking`` (a tidy table: replicate, concept, step, method, node, rank,
  score, and each method's CPU time); ``node_attributions`` for one replicate's captum attributions.
* ``scores``: ``knockout_curves``, ``scores`` (area, specificity, gap to the oracle), ``agreement``
  (Kendall's τ), ``precision_at_k``, ``versus`` (paired tests), and ``compare``, the one call per
  network family.
* ``planted``: networks whose relay nodes are known (the positive control): built by hand
  (``planted``), or trained networks with copy nodes planted to take over a concept (``transplant``).

captum (BSD, the PyTorch project's attribution library) computes the gradients: its
``IntegratedGradients`` is the reference implementation people cite, with its convergence delta;
nothing here re-implements it.
"""

from irn.attribution.data import ALIGNS, HELD_OUT_DELAYS, Sets, sets, split_sets, task_sets
from irn.attribution.methods import (GRADIENTS, LABELS, METHODS, SEARCHES, Attributions, Ranking,
                                     binary_mutual_information, node_attributions, rank)
from irn.attribution.planted import Planted, planted, transplant
from irn.attribution.scores import (BASELINES, ORACLE, Against, Comparison, against_best, agreement, agreement_matrix,
                                    as_good, best_baseline, combine, compare, cost_benefit, curve_summary, differences,
                                    knockout_curves, overview, overview_table, p_text, per_replicate, pool,
                                    precision_at_k, scores, sizes_for, summary, verdict_table, verdicts,
                                    versus)

__all__ = ["ALIGNS", "HELD_OUT_DELAYS", "Sets", "sets", "split_sets", "task_sets", "GRADIENTS", "LABELS",
           "METHODS", "SEARCHES", "Attributions", "Ranking", "binary_mutual_information", "node_attributions",
           "rank", "Planted", "planted", "transplant", "BASELINES", "ORACLE", "Against", "Comparison",
           "against_best", "agreement", "agreement_matrix", "as_good", "best_baseline", "combine", "compare",
           "cost_benefit", "curve_summary", "differences", "knockout_curves", "overview", "overview_table", "p_text",
           "per_replicate", "pool", "precision_at_k", "scores", "sizes_for", "summary", "verdict_table", "verdicts",
           "versus"]
