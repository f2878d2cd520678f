"""The claims of the book's sources as this run measured them: one record per claim, for the summary.

Each chapter that tests a claim — of Hintze, Najam & Schossau (arXiv 2510.01271), Ceni, Ashwin &
Livi (arXiv 1807.10478), Ivanovic, Kha & Muruganantham's report, or a question the book adds —
ends with ``record(claim_id, evidence, value_text)``: it writes ``<claim_id>.json`` into the
claims directory (env ``IRN_CLAIMS_DIR``, default ``./_claims`` — chapters of one book build run
in the same folder, so they share it) and glues the claim's value and verdict into the chapter
with myst-nb, where the page can cite them as ``{glue:text}`<claim_id>``` and
``{glue:text}`<claim_id>_verdict``` (``glue`` writes what myst-nb reads, without importing
myst-nb, so chapters run with the core install alone). The summary page reads every record back
with ``load_claims``; a claim whose chapter did not run shows as "not run".

**Each claim states its test before it runs.** ``REGISTRY`` holds, per claim, a ``ClaimSpec``:
its chapter, source and statement, and its primary test — what is compared, the test, the family
of comparisons it counts over, the expected direction, the share of the family that must support
it (``reproduced_at``) and the correction applied within the family (Holm for a few comparisons,
Benjamini–Hochberg for many). Chapters do not re-type any of it.

**The verdict rule**, ``verdict_of(supported, total, contradicted)``:

* a test *supports* the claim when p < alpha with the expected sign (``supports``) and
  *contradicts* it when p < alpha with the opposite sign (``contradicts``); p-values are first
  corrected within the family (``adjust``; ``tally`` does both);
* "reproduced": at least ``reproduced_at`` × total tests support it and none contradicts it;
* "partly": more tests support it than chance gives — with ``total`` two-sided tests at level
  alpha, each points the expected way by chance with probability alpha / 2, so a one-sided
  binomial test of ``supported`` out of ``total`` at rate alpha / 2 must reach p < alpha
  (``chance_p``) — and more support it than contradict it;
* "contradicted": the same holds for ``contradicted``, and more contradict it than support it;
* otherwise "not reproduced"; "no verdict" when the test could not have reached p < alpha at all
  (``can_reach``: a signed-rank test over 4 replicates never does) or has not shown that it can
  see the effect (no positive control), so an underpowered run is not read as a failed reproduction.

``Evidence`` carries the counts with the claim's main effect and its 95 % bootstrap interval over
replicates (``bootstrap_interval``, scipy's percentile bootstrap), and ``record`` decides the verdict
from it with the registry's rule — no chapter types a verdict. A ``Control`` is the same count run
on data with a known answer (a planted effect the test must find, or a null case where it must find
none); ``record(..., controls=...)`` stores them with the claim and gives "no verdict" when one
fails. ``export_table`` gives the claims as plain columns for the summary page's downloads.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as sps

from irn import params
from irn.files import write_atomic

CLAIMS_ENV = "IRN_CLAIMS_DIR"
DEFAULT_DIR = "_claims"
VERDICTS = ("reproduced", "partly", "not reproduced", "contradicted")
NO_VERDICT = "no verdict"  # the run's test could not tell (too few replicates, or no positive control)
NOT_RUN = "not run"

CORRECTIONS = ("holm", "bh")

#: The book's sources, in the order of the summary page.
SOURCES = {
    "hintze": "Hintze, Najam & Schossau (arXiv 2510.01271)",
    "ceni": "Ceni, Ashwin & Livi (arXiv 1807.10478)",
    "ivanovic": "Ivanovic, Kha & Muruganantham (CS 294-131 report)",
    "irn": "Beyond the sources (this book)",
}


_CHAPTER = re.compile(r"^[1-9][0-9]*[a-z]?$")


def _chapter(chapter) -> str:
    text = str(chapter) if isinstance(chapter, (int, np.integer)) and not isinstance(chapter, bool) else chapter
    if not isinstance(text, str) or not _CHAPTER.match(text):
        raise ValueError(f"chapter must be a chapter label such as 4 or '3b', got {chapter!r}")
    return text


@dataclass(frozen=True)
class ClaimSpec:
    """One claim and its primary test, stated before any chapter runs.

    Attributes
    ----------
    chapter : str
        The chapter label ("2", "3b", …).
    source : str
        A key of `SOURCES`.
    statement : str
        The claim.
    compares : str
        What is compared.
    test : str
        The statistical test.
    family : str
        The comparisons it counts over.
    direction : str
        The direction that supports the claim.
    reproduced_at : float
        The share of the family that must support it for "reproduced".
    correction : str or None
        "holm", "bh" or None (one test, or no p-values).
    """

    chapter: str
    source: str
    statement: str
    compares: str
    test: str
    family: str
    direction: str
    reproduced_at: float = 1.0
    correction: str | None = "holm"

    def __post_init__(self):
        _chapter(self.chapter)
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {tuple(SOURCES)}, got {self.source!r}")
        if self.correction not in (*CORRECTIONS, None):
            raise ValueError(f"correction must be one of {CORRECTIONS} or None, got {self.correction!r}")
        params.require(self.reproduced_at, "reproduced_at", params.SHARE)

    @property
    def primary_test(self) -> str:
        """The test in one sentence, for the summary page."""
        corrected = {"holm": "; Holm-corrected within the family",
                     "bh": "; Benjamini–Hochberg-corrected within the family", None: ""}[self.correction]
        share = "all" if self.reproduced_at == 1 else f"≥ {self.reproduced_at * 100:.0f} %"
        return (f"{self.compares} — {self.test}, over {self.family}{corrected}; supports when "
                f"{self.direction}; reproduced when {share} support and none contradicts.")

    def _repr_markdown_(self) -> str:
        """The claim and its test as a chapter shows them (so no chapter re-types them)."""
        return f"**Claim** ({SOURCES[self.source]}): {self.statement}\n\n**Test:** {self.primary_test}"


def _spec(chapter, source, statement, compares, test, family, direction, reproduced_at=1.0, correction="holm"):
    return ClaimSpec(str(chapter), source, statement, compares, test, family, direction, reproduced_at, correction)


# The claims in the order of the summary page: claim_id -> ClaimSpec.
REGISTRY = {
    "random_delay_generalises": _spec(
        2, "hintze", "Training with random delays generalises better over delays than training with a "
                     "fixed delay.",
        "each replicate's mean accuracy over the evaluation delays no network was trained on (0 and 6–9), "
        "random-delay training against the fixed-delay regimes pooled", "Mann–Whitney U over replicates",
        "architecture × task pairs", "random-delay networks are more accurate"),
    "greedy_matches_exhaustive": _spec(
        3, "hintze", "The greedy search finds (nearly) the most relaying node set of every size, as an "
                     "exhaustive search does.",
        "for every network × concept, the share of node subsets of sizes 1–11 that relay more than the greedy "
        "set of their size, from an exhaustive search of all 2^12 subsets", "threshold (no p-value)",
        "networks × concepts", "fewer than 0.3 % of the subsets beat the greedy set (Hintze & Adami 2023); "
        "3 % or more contradicts", reproduced_at=0.9, correction=None),
    "knockout_hits_own_concept": _spec(
        4, "hintze", "Knocking out the nodes that relay a concept lowers the accuracy on that concept more "
                     "than random knockouts of the same size.",
        "each replicate's accuracy drop of the target concept under its relay-node knockouts (sets of 1–11 "
        "nodes), against the other concepts' drop under the same sets and against its own drop under random "
        "sets of the same sizes", "Wilcoxon signed-rank over replicates",
        "architecture × task pairs × (against other concepts, against random sets)", "the target concept loses more"),
    "relay_beats_baselines": _spec(
        "4b", "irn", "Relay ordering finds the nodes whose knockout hurts a concept at least as well as the best "
                     "of the simple baselines.",
        "the knockout area on held-out sequences (accuracy a concept loses as its first 1…k nodes are knocked "
        "out, averaged over k) of the greedy relay order against the family's best one-pass baseline, chosen for "
        "each network from the family's other networks (single-node information, activation variance, mean |h|, "
        "readout weights, L1 probe, saliency, gradient × activation, integrated gradients, random)",
        "Wilcoxon signed-rank over replicates of relay + δ − best baseline (non-inferiority margin δ = 0.01)",
        "network families", "relay is at most δ worse than the best baseline"),
    "gated_keep_information_in_place": _spec(
        5, "hintze", "GRU and LSTM keep a concept's information in the same nodes over time, while the "
                     "RNN moves it between nodes.",
        "each replicate's mean correlation r of the node relay vectors between consecutive steps, RNN against "
        "GRU and against LSTM", "Mann–Whitney U over replicates",
        "fixed-delay task × delay conditions × (GRU, LSTM)", "the RNN's r is lower"),
    "rnn_lower_overlap": _spec(
        5, "hintze", "Relaying nodes overlap less between consecutive steps in the RNN than in GRU and LSTM.",
        "each replicate's mean overlap (Jaccard index) of the carrier nodes between consecutive steps, RNN "
        "against GRU and against LSTM", "Mann–Whitney U over replicates",
        "fixed-delay task × delay conditions × (GRU, LSTM)", "the RNN's overlap is lower"),
    "rnn_random_delay_localises": _spec(
        5, "hintze", "RNNs trained with random delays localise information much like GRUs and LSTMs.",
        "each replicate's mean r and overlap: RNNs trained with random delays against RNNs trained with fixed "
        "delays (pooled), and against GRUs and LSTMs trained with random delays", "Mann–Whitney U over replicates",
        "task × measure × (fixed-delay RNN, random-delay GRU, random-delay LSTM)",
        "the random-delay RNN is above the fixed-delay RNN and not below the gated networks (a significant "
        "gap below them contradicts)"),
    "concepts_spread_over_nodes": _spec(
        6, "hintze", "Concepts are not confined to single nodes but spread over several nodes.",
        "per architecture × task, the share of all concepts with two or more carrier nodes (two-means split "
        "of each network's relay matrix)", "95 % bootstrap interval over replicates against one half (no p-value)",
        "architecture × task pairs", "the interval lies above one half (wholly below one half contradicts)",
        correction=None),
    "nodes_relay_several_concepts": _spec(
        6, "hintze", "Individual nodes may relay information about multiple concepts: some nodes appear to "
                     "store information about more than one concept (smearing).",
        "per architecture × task, the share of networks that have a node carrying two or more concepts (a "
        "claim of existence: 'some nodes')", "95 % bootstrap interval over replicates against 0 (no p-value)",
        "architecture × task pairs", "the interval lies above 0 (no such node in any network of the pair "
        "contradicts)", correction=None),
    "pca_resolves_states": _spec(
        7, "hintze", "A 2-D PCA of an RNN's hidden states resolves the 8 states of the memory task.",
        "per replicate, the closest pair of the 8 state centroids on two principal components, relative to "
        "the median distance between centroids", "threshold resolved_at, the book's choice (no p-value)",
        "replicates", "the closest pair is at least resolved_at apart (below a tenth of it the pair has "
        "collapsed, which contradicts)", reproduced_at=0.9, correction=None),
    "relay_removal_sharpens_clusters": _spec(
        7, "hintze", "Removing nodes least relaying first keeps a concept's clusters better separated than "
                     "removing them at random.",
        "each replicate's cluster scores (silhouette, Davies–Bouldin, Calinski–Harabasz) averaged over the "
        "removal steps, relay order against the mean of random orders", "Wilcoxon signed-rank over replicates",
        "concepts × scores of the chapter's network", "the relay order separates better"),
    "ena_flipflop_cube": _spec(
        8, "ceni", "A network that solves a task with a finite set of held states has them as stable "
                   "attractors joined by excitable connections: for the 3-bit flip-flop 8 stable states and "
                   "the 24 transitions of the cube.",
        "the excitable network found in each network against the flip-flop's automaton (the cube)",
        "count (no p-value)", "networks that solve 100-step streams", "the network has all 8 states and "
        "24 transitions", reproduced_at=0.9, correction=None),
    "ena_margin_above_one": _spec(
        8, "ceni", "The task's input pulses exceed the excitability thresholds of the transitions the task "
                   "needs.",
        "the task's pulse amplitude over each correct transition's threshold", "count (no p-value)",
        "correct transitions of all networks", "the margin exceeds 1", correction=None),
    "ena_errors_on_flawed_transitions": _spec(
        8, "ceni", "Task errors can be traced to wrong transitions of the excitable network: a network errs "
                   "after the switches its excitable network lacks.",
        "share of stream switches followed by a wrong output: switches whose pulse at the task's amplitude "
        "lands wrong or not at all, against switches whose pulse lands right", "Fisher's exact test per network",
        "networks with both kinds of switches", "errors follow the flawed switches more often"),
    "flow_outputs_further_along": _spec(
        9, "ivanovic", "There is a general direction of information flow: outputs sit further along the "
                       "network than hidden neurons, and hidden neurons further than the inputs.",
        "trophic levels in the flow graph of significant transfer-entropy edges (pairwise, the input "
        "conditioned at the target's time, 99 surrogates per edge, Benjamini–Hochberg over each network's "
        "edges, edges into the input dropped): output − hidden and hidden − input",
        "Wilcoxon signed-rank over networks", "role differences × the two kinds of forecaster",
        "the later role sits higher"),
    "flow_direction_delayed_measure": _spec(
        9, "ivanovic", "With the source's own measure — time-delayed minus undelayed mutual information — "
                       "outputs sit further along the network than hidden neurons, and hidden neurons further "
                       "than the inputs.",
        "trophic levels in the flow graph of significant delayed − undelayed mutual information (lag 1, "
        "299 surrogates per edge, Benjamini–Hochberg, edges into the input dropped): output − hidden and "
        "hidden − input", "Wilcoxon signed-rank over networks", "role differences × the two kinds of forecaster",
        "the later role sits higher"),
    "flow_no_clear_layers": _spec(
        9, "ivanovic", "The fully recurrent network shows no clear layer-like structure (the report is "
                       "'not yet sure' it forms layers).",
        "trophic incoherence of each fully recurrent network's transfer-entropy flow graph against 99 "
        "degree-preserving rewirings (a layered graph is coherent); positive control: a network built in layers",
        "permutation test", "networks", "the graph is no more coherent than its rewirings (contradicted: "
        "significantly layered after Benjamini–Hochberg)", reproduced_at=0.75, correction="bh"),
    "ib_hidden_input_output_correlation": _spec(
        9, "ivanovic", "Across the hidden neurons of a forecaster, information about the input and information "
                       "about the output are (slightly) positively correlated — the report's information-"
                       "bottleneck finding.",
        "I(h; input) against I(h; output) at the same step, across the hidden neurons of each forecaster "
        "(KSG, held-out days)", "Spearman correlation per network", "networks of both kinds",
        "a positive correlation", reproduced_at=0.5, correction="bh"),
    "relay_nodes_on_flow_paths": _spec(
        9, "irn", "In the memory-task networks, the relay nodes sit on wider transfer-entropy flow paths from "
                  "the inputs to the outputs than the other hidden nodes.",
        "flow-path width of relay nodes against the other hidden nodes, in networks with an input → output "
        "path (networks without one are counted apart)", "Wilcoxon signed-rank over networks",
        "one pooled comparison", "relay nodes sit on wider paths", correction=None),
    "ib_compression": _spec(
        10, "ivanovic", "After fitting, a recurrent layer compresses: its I(X;T) falls in the information "
                        "plane (Shwartz-Ziv & Tishby 2017; the report's question 3).",
        "I(X;T) over the later half of training, for estimators that respect the data-processing inequality; "
        "positive control: a tanh network that compresses under binning", "Spearman trend over epochs",
        "seeds × networks × estimators", "I(X;T) falls", reproduced_at=0.5, correction="bh"),
    "compression_needs_tanh": _spec(
        10, "ivanovic", "Compression appears with tanh units but not with ReLU units (Saxe et al. 2018).",
        "the late I(X;T) trend (Spearman ρ) of tanh against ReLU RNN seeds", "Mann–Whitney U over seeds",
        "estimators that respect the data-processing inequality", "tanh falls more (a lower ρ)"),
    "information_tracks_learning": _spec(
        10, "ivanovic", "I(T;Y) rises as the network learns, so it indicates learning (the report's question 4).",
        "I(T;Y) against the probe accuracy over epochs", "Spearman correlation", "seeds × networks × estimators",
        "I(T;Y) rises with accuracy", reproduced_at=0.8, correction="bh"),
    "drift_diffusion_phases": _spec(
        10, "ivanovic", "Minibatch training passes from drift (gradient SNR well above the pure-noise floor) to "
                        "diffusion (SNR near the floor 1/√(B − 1)) — Shwartz-Ziv & Tishby 2017; the report's "
                        "question 5.",
        "the recurrent matrix's gradient SNR over epochs, against the floor of B minibatches of pure noise",
        "Spearman trend of the SNR over epochs, ending within twice the floor", "seeds × networks",
        "the SNR falls and ends near the floor", reproduced_at=0.8, correction="bh"),
    "diffusion_starts_compression": _spec(
        10, "ivanovic", "The switch from drift to diffusion coincides with the start of compression "
                        "(Shwartz-Ziv & Tishby 2017).",
        "the epoch the SNR enters twice the noise floor against the epoch I(X;T) peaks, per seed × network "
        "× estimator", "count within a factor of 2 against random pairings of the same epochs (permutation)",
        "one pooled test", "more coincide than random pairings give", correction=None),
    "real_data_learned": _spec(
        11, "irn", "The method applies to real-world time series classification (the paper's abstract): RNN, "
                   "GRU and LSTM networks learn such tasks, within 0.05 of the archives' 1-NN baselines.",
        "test accuracy of each network against the better 1-NN baseline of its data set minus 0.05",
        "Wilcoxon signed-rank over replicates", "data set × architecture pairs",
        "the networks are more accurate than the baseline minus 0.05", correction="bh"),
    "real_data_relay_above_null": _spec(
        11, "irn", "On real time series, relay information at the answer stands clear of what finite samples "
                   "alone give (shuffle null).",
        "relay information of all nodes at the answer minus its shuffle-null mean (per network, mean over "
        "classes); positive control: a concept planted into the same hidden states",
        "Wilcoxon signed-rank over replicates", "data set × architecture pairs",
        "the corrected relay is above zero", correction="bh"),
    "real_data_knockout_hits_own_class": _spec(
        11, "irn", "On real time series, knocking out a class's relay nodes lowers that class's accuracy more "
                   "than the other classes' and more than random knockouts of the same size.",
        "accuracy drop of the target class against the other classes' and against random sets of the same "
        "size (two-class data sets: against random sets only, their two concepts being complements)",
        "Wilcoxon signed-rank over replicates", "data set × architecture pairs × (other classes, random sets)",
        "the target class loses more", correction="bh"),
    "real_data_rnn_moves_information": _spec(
        11, "irn", "On real time series, as on the synthetic tasks, the RNN moves information between nodes "
                   "over time while GRU and LSTM keep it in place.",
        "r and overlap between consecutive steps, RNN against GRU and LSTM", "Mann–Whitney U over replicates",
        "data sets × (GRU, LSTM) × (r, overlap)", "the RNN's values are lower", correction="bh"),
    "relay_holds_at_scale": _spec(
        12, "irn", "The relay method identifies functional nodes beyond the paper's 12 nodes — the paper names "
                   "\"a possible scaling to extremely large networks\" as its limitation: knocking out a "
                   "concept's top relay nodes costs it more than random nodes at every larger size, also where "
                   "the hidden states are high-entropy.",
        "accuracy drop under the knockout of a concept's top relay nodes (probe order) against random nodes of "
        "the same number, in networks trained with input noise whose hidden states are high-entropy (the "
        "guard fires); positive control: planted relays at the same sizes and sample count",
        "Wilcoxon signed-rank over replicates × concepts", "architectures × hidden sizes of 64–256 nodes",
        "relay knockouts cost more"),
}

_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Evidence:
    """What a claim's tests found, ready for the verdict rule.

    Attributes
    ----------
    supported : int
        Tests with p < alpha (after the family's correction) in the expected direction.
    total : int
        Tests in the family.
    contradicted : int
        Tests with p < alpha in the opposite direction.
    effect : float
        The claim's main effect (e.g. the mean extra accuracy lost, target − random).
    low, high : float
        Its 95 % bootstrap interval over replicates (NaN when not computed).
    effect_name : str
        What the effect measures, in words.
    """

    supported: int
    total: int
    contradicted: int = 0
    effect: float = math.nan
    low: float = math.nan
    high: float = math.nan
    effect_name: str = ""

    def __post_init__(self):
        params.check_count(self.total, "total", 1)
        for name in ("supported", "contradicted"):
            params.require(getattr(self, name), name, params.integer(0, self.total))
        if self.supported + self.contradicted > self.total:
            raise ValueError(f"supported + contradicted must be at most total ({self.total}), got "
                             f"{self.supported} + {self.contradicted}")
        for name in ("effect", "low", "high"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
                raise ValueError(f"{name} must be a number (NaN when not computed), got {value!r}")
            object.__setattr__(self, name, float(value))
        if not isinstance(self.effect_name, str):
            raise ValueError(f"effect_name must be a string, got {self.effect_name!r}")

    @property
    def effect_text(self) -> str:
        """"+0.12 [0.05, 0.20]" (or "—" without an effect)."""
        if math.isnan(self.effect):
            return "—"
        interval = "" if math.isnan(self.low) else f" [{_g(self.low)}, {_g(self.high)}]"
        return f"{_g(self.effect, sign=True)}{interval}"


@dataclass(frozen=True)
class Control:
    """A control of a claim's test: the claim's own count, run on data whose answer is known.

    Attributes
    ----------
    planted : str
        What the data held, in words (not empty).
    positive : bool
        True when an effect was planted (the test must find it: the rule gives "reproduced" or
        "partly"), False for a null case (it must not).
    evidence : Evidence
        What the test counted there.
    """

    planted: str
    positive: bool
    evidence: Evidence

    def __post_init__(self):
        if not isinstance(self.planted, str) or not self.planted.strip():
            raise ValueError(f"planted must be a non-empty string, got {self.planted!r}")
        params.require(self.positive, "positive", params.boolean())
        if not isinstance(self.evidence, Evidence):
            raise ValueError(f"evidence must be an irn.claims.Evidence, got {type(self.evidence).__name__}")

    def passed(self, reproduced_at: float = 1.0, alpha: float = params.ALPHA) -> bool:
        """Whether the test behaved as it must: found the planted effect, or found none.

        Parameters
        ----------
        reproduced_at : float, optional
            The claim's ``reproduced_at`` (``ClaimSpec``), passed to `verdict_of`.
        alpha : float, optional
            Significance level of the rule.

        Returns
        -------
        bool
            For a positive control, whether the rule gives "reproduced" or "partly" on its
            evidence; for a negative one, whether it does not.
        """
        e = self.evidence
        found = verdict_of(e.supported, e.total, e.contradicted, reproduced_at=reproduced_at,
                           alpha=alpha) in ("reproduced", "partly")
        return found if self.positive else not found

    def as_dict(self, reproduced_at: float = 1.0, alpha: float = params.ALPHA) -> dict:
        """The control as it is stored with a claim's record (``stats["controls"]``).

        Parameters
        ----------
        reproduced_at : float, optional
            The claim's ``reproduced_at``, for `passed`.
        alpha : float, optional
            Significance level, for `passed`.

        Returns
        -------
        dict
            planted, positive, supported, contradicted, total, effect and passed.
        """
        e = self.evidence
        return {"planted": self.planted, "positive": self.positive, "supported": e.supported,
                "contradicted": e.contradicted, "total": e.total, "effect": e.effect,
                "passed": self.passed(reproduced_at, alpha)}


def _g(value: float, sign: bool = False) -> str:
    text = f"{value:+.3g}" if sign else f"{value:.3g}"
    return text.replace("-", "−")


@dataclass(frozen=True)
class Claim:
    """One claim as measured by one chapter run.

    Attributes
    ----------
    claim_id : str
        A key of `REGISTRY`.
    chapter : str
        The chapter label.
    statement : str
        The claim.
    value_text : str
        The measured result in words and numbers (e.g. "0.41 vs 0.15, p = 0.0001").
    verdict : str
        From `verdict_of` (`record` decides it from ``evidence``).
    stats : dict
        The numbers behind it (JSON-serialisable).
    parameters : dict
        The chapter's run parameters (e.g. fast, replicates).
    recorded : str
        UTC time of the record.
    evidence : dict
        The counts and the effect (`Evidence` as a dict; empty for a record made without one).
    source : str
        A key of `SOURCES`.
    test : str
        The registry's primary test.
    """

    claim_id: str
    chapter: str
    statement: str
    value_text: str
    verdict: str
    stats: dict = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)
    recorded: str = ""
    evidence: dict = field(default_factory=dict)
    source: str = ""
    test: str = ""

    def _repr_markdown_(self) -> str:
        return f"**{self.claim_id}** — *{self.verdict}*: {self.value_text}."


def claims_dir(directory=None) -> Path:
    """The claims directory.

    Parameters
    ----------
    directory : str or os.PathLike or None, optional
        A folder to use instead.

    Returns
    -------
    pathlib.Path
        ``directory``, else env ``IRN_CLAIMS_DIR``, else ``./_claims``.
    """
    if directory is None or directory == "":
        directory = os.environ.get(CLAIMS_ENV) or DEFAULT_DIR
    return Path(directory)


# -- the rule ---------------------------------------------------------------------------------------
def _sign(expected_sign) -> int:
    if isinstance(expected_sign, bool) or expected_sign not in (1, -1):
        raise ValueError(f"expected_sign must be 1 or -1, got {expected_sign!r}")
    return int(expected_sign)


def _alpha(alpha) -> float:
    return float(params.require(alpha, "alpha", params.SIGNIFICANCE))


def supports(difference, p_value, expected_sign: int = 1, alpha: float = params.ALPHA) -> bool:
    """Whether a test backs the claim: p < alpha and the difference has the expected sign.

    Parameters
    ----------
    difference : float
        The test's effect (its sign is compared).
    p_value : float
        Its p-value (after the family's correction).
    expected_sign : {1, -1}, optional
        The sign that supports the claim.
    alpha : float, optional
        The significance level.

    Returns
    -------
    bool
        True when the test supports the claim.
    """
    sign, alpha = _sign(expected_sign), _alpha(alpha)
    difference, p_value = float(difference), float(p_value)
    return bool(p_value < alpha and np.sign(difference) == sign)


def contradicts(difference, p_value, expected_sign: int = 1, alpha: float = params.ALPHA) -> bool:
    """Whether a test significantly points the other way: p < alpha with the opposite sign.

    Parameters
    ----------
    difference : float
        The test's effect (its sign is compared).
    p_value : float
        Its p-value (after the family's correction).
    expected_sign : {1, -1}, optional
        The sign that supports the claim.
    alpha : float, optional
        The significance level.

    Returns
    -------
    bool
        True when the test contradicts the claim.
    """
    return supports(difference, p_value, -_sign(expected_sign), alpha)


def can_reach(n: int, alpha: float = params.ALPHA, paired: bool = True) -> bool:
    """Whether a two-sided rank test over ``n`` replicates can reach p < ``alpha`` at all.

    Its smallest p-value is 2 / 2**n (Wilcoxon signed-rank, ``paired``) or 2 / C(2n, n)
    (Mann–Whitney U with n per group).

    Parameters
    ----------
    n : int
        Replicates (pairs, or per group).
    alpha : float, optional
        The significance level.
    paired : bool, optional
        Signed-rank (True) or Mann–Whitney (False).

    Returns
    -------
    bool
        True when p < alpha is possible.
    """
    params.check_count(n, "n", 1)
    alpha = _alpha(alpha)
    smallest = 2 / 2 ** int(n) if paired else 2 / math.comb(2 * int(n), int(n))
    return smallest < alpha


def chance_p(count: int, total: int, alpha: float = params.ALPHA) -> float:
    """How likely ``count`` or more of ``total`` two-sided tests at level ``alpha`` point one given way
    by chance alone.

    Parameters
    ----------
    count : int
        Tests that point the given way.
    total : int
        Tests in the family.
    alpha : float, optional
        Their level.

    Returns
    -------
    float
        The one-sided binomial tail P(X ≥ count), X ~ Binomial(total, alpha / 2).
    """
    params.check_count(total, "total", 1)
    params.require(count, "count", params.integer(0, total))
    return float(sps.binom.sf(int(count) - 1, int(total), _alpha(alpha) / 2))


def verdict_of(supported: int, total: int, contradicted: int = 0, *, reproduced_at: float = 1.0,
               reachable: bool = True, alpha: float = params.ALPHA) -> str:
    """The verdict on a claim from its tests (the verdict rule of the module docstring).

    "reproduced": at least ``reproduced_at`` × total support it and none contradicts it;
    "partly": more support it than chance gives (``chance_p(supported, total, alpha) < alpha``) and
    more support than contradict it; "contradicted": the same for ``contradicted``, and more
    contradict than support it; otherwise "not reproduced".

    Parameters
    ----------
    supported : int
        Tests that back the claim (`supports`, after the family's correction).
    total : int
        Tests in the family.
    contradicted : int, optional
        Tests that significantly point the other way (`contradicts`).
    reproduced_at : float, optional
        The share of the family that must support it for "reproduced".
    reachable : bool, optional
        False when the test could not have reached significance, or has no positive control.
    alpha : float, optional
        The significance level.

    Returns
    -------
    str
        One of `VERDICTS`, or `NO_VERDICT` when ``reachable`` is False.
    """
    params.check_count(total, "total", 1)
    params.require(supported, "supported", params.integer(0, total))
    params.require(contradicted, "contradicted", params.integer(0, total))
    if supported + contradicted > total:
        raise ValueError(f"supported + contradicted must be at most total ({total}), got {supported} + {contradicted}")
    params.require(reproduced_at, "reproduced_at", params.SHARE)
    params.require(reachable, "reachable", params.boolean())
    alpha = _alpha(alpha)
    if not reachable:
        return NO_VERDICT
    if contradicted == 0 and supported >= reproduced_at * total:
        return "reproduced"
    if supported > contradicted and chance_p(supported, total, alpha) < alpha:
        return "partly"
    if contradicted > supported and chance_p(contradicted, total, alpha) < alpha:
        return "contradicted"
    return "not reproduced"


def adjust(p_values, method: str = "holm") -> np.ndarray:
    """p-values corrected within one family of comparisons.

    NaN p-values (a comparison that could not be made) stay NaN and do not count in the family.

    Parameters
    ----------
    p_values : array_like
        The family's p-values, any shape.
    method : {"holm", "bh"}, optional
        "holm" (Holm's step-down: family-wise error, for a few comparisons) or "bh"
        (Benjamini–Hochberg: false-discovery rate, for many — scipy's ``false_discovery_control``).

    Returns
    -------
    ndarray
        The corrected p-values, in the input's shape.
    """
    params.require(method, "method", params.one_of(CORRECTIONS))
    p = params.array(p_values, "p_values", ndim=1, allow_nan=True)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if (p[ok] < 0).any() or (p[ok] > 1).any():
        raise ValueError("p_values must lie in [0, 1] (or be NaN)")
    q = p[ok]
    if q.size == 0:
        return out
    if method == "bh":
        out[ok] = sps.false_discovery_control(q, method="bh")
        return out
    order = np.argsort(q, kind="stable")
    m = q.size
    stepped = np.maximum.accumulate((m - np.arange(m)) * q[order])
    holm = np.empty(m)
    holm[order] = np.minimum(stepped, 1.0)
    out[ok] = holm
    return out


@dataclass(frozen=True)
class Tally:
    """The tests of one family counted for the rule.

    Attributes
    ----------
    supported : int
        Tests that back the claim.
    contradicted : int
        Tests that significantly point the other way.
    total : int
        Tests with a p-value.
    p_adjusted : ndarray
        The corrected p-values in the input's order.
    """

    supported: int
    contradicted: int
    total: int
    p_adjusted: np.ndarray


def tally(differences, p_values, expected_sign: int = 1, alpha: float = params.ALPHA,
          correction: str | None = "holm") -> Tally:
    """Count a family's tests: correct the p-values (`adjust`), then count `supports` and
    `contradicts`.

    Parameters
    ----------
    differences : array_like, shape (tests,)
        One effect per test.
    p_values : array_like, shape (tests,)
        One p-value per test (NaN: left out).
    expected_sign : {1, -1}, optional
        The sign that supports the claim.
    alpha : float, optional
        The significance level.
    correction : {"holm", "bh"} or None, optional
        The family's correction (None: the p-values as they are).

    Returns
    -------
    Tally
        The counts and the corrected p-values.
    """
    sign, alpha = _sign(expected_sign), _alpha(alpha)
    p = params.array(p_values, "p_values", ndim=1, allow_nan=True)
    d = params.array(differences, "differences", ndim=1, shape=p.shape, allow_nan=True)
    if correction is not None:
        p = adjust(p, correction)
    ok = ~np.isnan(p)
    supported = int(sum(supports(x, y, sign, alpha) for x, y in zip(d[ok], p[ok])))
    contradicted = int(sum(contradicts(x, y, sign, alpha) for x, y in zip(d[ok], p[ok])))
    return Tally(supported, contradicted, int(ok.sum()), p)


def bootstrap_interval(values, statistic=np.mean, level: float = 0.95, resamples: int = 9999,
                       seed: int = 0) -> tuple[float, float, float]:
    """A statistic of per-replicate values and its percentile bootstrap interval
    (``scipy.stats.bootstrap``).

    Fewer than 2 values, or values that are all equal, give a zero-width or NaN interval rather than
    an error.

    Parameters
    ----------
    values : array_like, shape (replicates,)
        One value per replicate.
    statistic : callable, optional
        The statistic (default the mean).
    level : float, optional
        The confidence level.
    resamples : int, optional
        Bootstrap resamples.
    seed : int, optional
        Random seed of the resampling.

    Returns
    -------
    estimate : float
        The statistic of ``values``.
    low, high : float
        The interval's bounds.
    """
    x = params.array(values, "values", ndim=1, allow_nan=True)
    x = x[~np.isnan(x)]
    if not callable(statistic):
        raise ValueError(f"statistic must be a callable such as np.mean, got {statistic!r}")
    params.require(level, "level", params.number(0, 1, closed=False))
    params.check_count(resamples, "resamples", 1)
    params.require(seed, "seed", params.SEED)
    if x.size == 0:
        return math.nan, math.nan, math.nan
    estimate = float(statistic(x))
    if x.size < 2:
        return estimate, math.nan, math.nan
    if np.ptp(x) == 0:
        return estimate, estimate, estimate
    # numpy's reductions take ``axis``: scipy then resamples in one array operation (same draws,
    # same interval, ~20x faster than calling the statistic once per resample)
    vectorized = statistic in (np.mean, np.median, np.nanmean, np.nanmedian)
    result = sps.bootstrap((x,), statistic, confidence_level=level, n_resamples=resamples,
                           method="percentile", random_state=np.random.default_rng(seed), vectorized=vectorized)
    return estimate, float(result.confidence_interval.low), float(result.confidence_interval.high)


def evidence(differences, p_values, effects=None, *, expected_sign: int = 1, alpha: float = params.ALPHA,
             correction: str | None = "holm", effect_name: str = "", seed: int = 0) -> Evidence:
    """`Evidence` from one family of tests: `tally` of the differences and p-values, and the mean
    effect with its bootstrap interval.

    Parameters
    ----------
    differences : array_like, shape (tests,)
        One effect per test.
    p_values : array_like, shape (tests,)
        One p-value per test (NaN: left out).
    effects : array_like or None, optional
        One value per replicate for the main effect (default: the differences).
    expected_sign : {1, -1}, optional
        The sign that supports the claim.
    alpha : float, optional
        The significance level.
    correction : {"holm", "bh"} or None, optional
        The family's correction.
    effect_name : str, optional
        What the effect measures, in words.
    seed : int, optional
        Random seed of the bootstrap.

    Returns
    -------
    Evidence
        The counts, the effect and its interval.
    """
    counted = tally(differences, p_values, expected_sign, alpha, correction)
    if counted.total == 0:
        raise ValueError("p_values must hold at least one test with a p-value")
    values = differences if effects is None else effects
    effect, low, high = bootstrap_interval(values, seed=seed)
    return Evidence(counted.supported, counted.total, counted.contradicted, effect, low, high, effect_name)


def _plain(value):
    """numpy scalars and arrays → plain Python, recursively (for JSON)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(float(value)) else float(value)
    if value is None or isinstance(value, (int, str)):
        return value
    raise ValueError(f"stats and parameters must hold numbers, strings, lists or dicts; got {type(value).__name__}")


def _check_id(claim_id) -> str:
    if not isinstance(claim_id, str) or not _ID.match(claim_id):
        raise ValueError(f"claim_id must be a lower-case identifier (a-z, 0-9, _), got {claim_id!r}")
    return claim_id


def _check_texts_and_dicts(value_text, stats, parameters) -> None:
    if not isinstance(value_text, str) or not value_text.strip():
        raise ValueError(f"value_text must be a non-empty string, got {value_text!r}")
    for name, value in (("stats", stats), ("parameters", parameters)):
        if value is not None and not isinstance(value, dict):
            raise ValueError(f"{name} must be a dict or None, got {type(value).__name__}")
    _plain(stats or {}), _plain(parameters or {})  # refuses what JSON cannot hold, before any write


def _write(claim: Claim, directory) -> Claim:
    folder = claims_dir(directory)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"directory must be a folder for claim records, got the file {folder}")
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / f"{claim.claim_id}.json", json.dumps(asdict(claim), indent=1, ensure_ascii=False))
    glue(claim.claim_id, claim.value_text)
    glue(f"{claim.claim_id}_verdict", claim.verdict)
    return claim


def record(claim_id: str, evidence: Evidence, value_text: str, *, reachable: bool = True,
           alpha: float = params.ALPHA, stats: dict | None = None, parameters: dict | None = None,
           controls=(), directory=None) -> Claim:
    """Decide a registered claim's verdict from its evidence and write its record.

    Unless every positive control found its planted effect and no negative control found one, the
    verdict is "no verdict"; the controls are stored in ``stats["controls"]`` (a claim recorded
    without controls shows none on the summary page).
    Writes ``<claim_id>.json`` into the claims directory (atomically) and glues ``claim_id`` (the
    value) and ``claim_id + "_verdict"`` into the chapter.

    Parameters
    ----------
    claim_id : str
        A key of `REGISTRY` (its chapter, statement and test come from there).
    evidence : Evidence
        The counts and effect (`evidence` or ``Evidence(...)``).
    value_text : str
        The result in words and numbers.
    reachable : bool, optional
        False when the test could not have reached p < alpha or has not shown it can see the effect
        (the verdict is then "no verdict").
    alpha : float, optional
        The chapter's level.
    stats : dict or None, optional
        The numbers behind it (JSON-serialisable).
    parameters : dict or None, optional
        The chapter's run parameters.
    controls : list of Control, optional
        The test's positive and negative control runs.
    directory : str or os.PathLike or None, optional
        The claims directory (default `claims_dir`).

    Returns
    -------
    Claim
        The record written.
    """
    _check_id(claim_id)
    if claim_id not in REGISTRY:
        raise ValueError(f"claim_id must be a registered claim (irn.claims.REGISTRY), got {claim_id!r}")
    if not isinstance(evidence, Evidence):
        raise ValueError(f"evidence must be an irn.claims.Evidence, got {type(evidence).__name__}")
    _check_texts_and_dicts(value_text, stats, parameters)
    params.require(reachable, "reachable", params.boolean())
    alpha = _alpha(alpha)
    controls = list(controls) if isinstance(controls, (list, tuple)) else controls
    if not isinstance(controls, list) or not all(isinstance(c, Control) for c in controls):
        raise ValueError(f"controls must be a list of irn.claims.Control, got {controls!r}")
    spec = REGISTRY[claim_id]
    sound = all(c.passed(spec.reproduced_at, alpha) for c in controls)
    verdict = verdict_of(evidence.supported, evidence.total, evidence.contradicted,
                         reproduced_at=spec.reproduced_at, reachable=reachable and sound, alpha=alpha)
    if controls:
        stats = {**(stats or {}), "controls": [c.as_dict(spec.reproduced_at, alpha) for c in controls]}
    claim = Claim(claim_id, spec.chapter, spec.statement, value_text, verdict, _plain(stats or {}),
                  _plain(parameters or {}), datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  _plain(asdict(evidence)), spec.source, spec.primary_test)
    return _write(claim, directory)


#: The MIME prefix under which myst-nb finds a glued value that is not displayed in its cell.
GLUE_PREFIX = "application/papermill.record/"


def glue(name: str, value) -> None:
    """Glue a value into the running notebook, for ``{glue:text}`name```.

    The output myst-nb's ``glue(name, value, display=False)`` writes — the value's display data under
    the papermill-record MIME prefix, named in ``scrapbook`` metadata — written with IPython alone,
    so a chapter runs where myst-nb (the book extra) is not installed, as on Colab. Nothing happens
    outside a notebook kernel (scripts, tests).

    Parameters
    ----------
    name : str
        The glue name.
    value : object
        The value (shown as its text).
    """
    if not isinstance(name, str) or not _ID.match(name):
        raise ValueError(f"name must be a lower-case identifier (a-z, 0-9, _), got {name!r}")
    try:
        from IPython.core.formatters import format_display_data
        from IPython.core.interactiveshell import InteractiveShell
        from IPython.display import display
    except ImportError:
        return
    if not InteractiveShell.initialized():
        return
    bundle, metadata = format_display_data(value)
    metadata["scrapbook"] = {"name": name, "mime_prefix": GLUE_PREFIX}
    display({GLUE_PREFIX + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)


COLUMNS = ["claim_id", "chapter", "source", "statement", "test", "value_text", "verdict", "evidence",
           "parameters", "recorded"]


def load_claims(directory=None, expected=None) -> pd.DataFrame:
    """Every claim record in the claims directory, plus a "not run" row for each expected claim that
    has none.

    A missing or empty directory gives all "not run".

    Parameters
    ----------
    directory : str or os.PathLike or None, optional
        The claims directory (default `claims_dir`).
    expected : sequence of str or None, optional
        Claim ids that should be there (default: the keys of `REGISTRY`, in that order; other
        records found follow them).

    Returns
    -------
    pandas.DataFrame
        Columns claim_id, chapter (label), source (a key of `SOURCES`), statement, test (the
        registry's primary test), value_text, verdict (one of `VERDICTS`, `NO_VERDICT` or "not
        run"), evidence (dict: supported, total, contradicted, effect, low, high, effect_name; empty
        when not recorded), parameters (dict), recorded (UTC time, "" when not run), stats (dict).
    """
    expected = list(REGISTRY) if expected is None else list(expected)
    folder = claims_dir(directory)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"directory must be a folder of claim records, got the file {folder}")
    found = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            record_ = json.loads(path.read_text(encoding="utf-8"))
            found[record_["claim_id"]] = record_
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError(f"{path} is not a claim record ({error}); delete it or rerun its chapter") from None
    rows = []
    for claim_id in [*expected, *[c for c in found if c not in expected]]:
        spec = REGISTRY.get(claim_id)
        base = {"claim_id": claim_id, "chapter": spec.chapter if spec else None,
                "source": spec.source if spec else "irn", "statement": spec.statement if spec else "",
                "test": spec.primary_test if spec else "", "value_text": "—", "verdict": NOT_RUN,
                "evidence": {}, "stats": {}, "parameters": {}, "recorded": ""}
        if claim_id in found:
            got = {k: v for k, v in found[claim_id].items() if v not in (None, "")}
            base.update(got)
            base["chapter"] = None if base["chapter"] is None else str(base["chapter"])
        rows.append(base)
    return pd.DataFrame(rows, columns=[*COLUMNS, "stats"])


SUMMARY_COLUMNS = ["chapter", "source", "claim", "test", "this run", "supported / contradicted / total",
                   "effect [95 % CI]", "verdict", "controls", "protocol"]


def _protocol(parameters: dict) -> str:
    if not parameters:
        return "—"
    size = f", {parameters['replicates']} replicates" if "replicates" in parameters else ""
    return ("fast preset" if parameters.get("fast") else "full protocol") + size


def _controls(stats) -> str:
    """The controls stored with a record (``record(..., controls=...)``), in words."""
    found = stats.get("controls") if isinstance(stats, dict) else None
    if not found:
        return "none shown"
    words = []
    for c in found:
        if c.get("positive"):
            words.append("planted effect found" if c.get("passed") else "planted effect missed")
        else:
            words.append("null case clean" if c.get("passed") else "null case flagged")
    return "; ".join(words)


def summary_table(table: pd.DataFrame) -> pd.DataFrame:
    """The summary page's table: one row per claim, in order.

    Parameters
    ----------
    table : pandas.DataFrame
        `load_claims` output.

    Returns
    -------
    pandas.DataFrame
        Columns chapter (label, or "—"), source (the source's name), claim (the statement), test
        (the registry's primary test), this run (the measured value), supported / contradicted /
        total (or "—"), effect [95 % CI] (the main effect and its bootstrap interval, with what it
        measures), verdict (one of `VERDICTS`, `NO_VERDICT` or "not run"; a verdict from a
        fast-preset run gets " (fast preset)" appended), protocol ("full protocol, 20 replicates",
        "fast preset, …" or "—"), controls (what the test's positive and negative controls did:
        "planted effect found; null case clean", …, "none shown" for a record without controls, "—"
        when not run).
    """
    missing = [c for c in ("chapter", "statement", "value_text", "verdict", "parameters") if c not in table]
    if missing:
        raise ValueError(f"table must be the output of load_claims; it lacks {missing}")
    rows = []
    for row in table.to_dict("records"):
        parameters = row["parameters"] if isinstance(row["parameters"], dict) else {}
        chapter = "—" if row["chapter"] is None or pd.isna(row["chapter"]) else str(row["chapter"])
        fast = row["verdict"] != NOT_RUN and bool(parameters.get("fast"))
        verdict = row["verdict"] + (" (fast preset)" if fast else "")
        found = row.get("evidence") if isinstance(row.get("evidence"), dict) else {}
        if found.get("total"):
            counts = f"{found['supported']} / {found.get('contradicted', 0)} / {found['total']}"
            ev = Evidence(**{k: (math.nan if found.get(k) is None else found[k]) if k in ("effect", "low", "high")
                             else found.get(k, 0 if k != "effect_name" else "")
                             for k in ("supported", "total", "contradicted", "effect", "low", "high", "effect_name")})
            effect = ev.effect_text + (f" ({ev.effect_name})" if ev.effect_name and ev.effect_text != "—" else "")
        else:
            counts, effect = "—", "—"
        rows.append((chapter, SOURCES.get(row.get("source") or "irn", "—"), row["statement"] or "—",
                     row.get("test") or "—", row["value_text"], counts, effect, verdict,
                     _controls(row.get("stats")) if row["verdict"] != NOT_RUN else "—",
                     _protocol(parameters) if row["verdict"] != NOT_RUN else "—"))
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


EXPORT_COLUMNS = ["claim_id", "chapter", "source", "source_name", "statement", "test", "value", "verdict", "fast",
                  "supported", "contradicted", "total", "effect", "low", "high", "effect_name", "controls",
                  "protocol", "recorded"]


def export_table(table: pd.DataFrame) -> pd.DataFrame:
    """The claims as plain columns, for a CSV or JSON download: one row per claim of ``load_claims``
    output, in its order.

    Parameters
    ----------
    table : DataFrame
        ``load_claims`` output (claims of the registry and any others recorded).

    Returns
    -------
    DataFrame
        Columns ``EXPORT_COLUMNS``: claim_id, chapter ("" when unknown), source (a key of
        ``SOURCES``), source_name, statement, test, value (the measured value in words), verdict,
        fast (the record came from a fast-preset run), supported, contradicted, total (empty when
        the record has no evidence), effect, low, high (NaN when absent), effect_name, controls (as
        on the summary page), protocol, recorded (UTC time, "" when not run).
    """
    missing = [c for c in ("claim_id", "chapter", "statement", "value_text", "verdict", "parameters") if c not in table]
    if missing:
        raise ValueError(f"table must be the output of load_claims; it lacks {missing}")
    shown = summary_table(table)
    rows = []
    for row, human in zip(table.to_dict("records"), shown.to_dict("records")):
        found = row.get("evidence") if isinstance(row.get("evidence"), dict) else {}
        parameters = row["parameters"] if isinstance(row["parameters"], dict) else {}
        source = row.get("source") or "irn"
        number = {k: math.nan if found.get(k) is None else float(found[k]) for k in ("effect", "low", "high")}
        counted = bool(found.get("total"))
        count = {k: int(found.get(k, 0)) if counted else None for k in ("supported", "contradicted", "total")}
        rows.append({
            "claim_id": row["claim_id"], "chapter": "" if human["chapter"] == "—" else human["chapter"],
            "source": source, "source_name": SOURCES.get(source, source), "statement": row["statement"] or "",
            "test": row.get("test") or "", "value": row["value_text"], "verdict": row["verdict"],
            "fast": row["verdict"] != NOT_RUN and bool(parameters.get("fast")),
            **count, **number,
            "effect_name": found.get("effect_name") or "", "controls": human["controls"],
            "protocol": human["protocol"], "recorded": row.get("recorded") or ""})
    return pd.DataFrame(rows, columns=EXPORT_COLUMNS).astype({"supported": "Int64", "contradicted": "Int64",
                                                             "total": "Int64"})
