"""The sequences a comparison runs on: one set ranks the nodes, a held-out set scores the ranking.

A ``Sets`` pairs two ``irn.analysis.Probe`` s of one model — ``fit`` (the sequences every method
ranks the nodes on) and ``held_out`` (the sequences the knockout scores run on, never seen by any
ranking) — with the step where nodes are ranked and knocked out. ``align="start"`` counts that step
from the start of every sequence (the paper's networks: ``irn.analysis.RELAY_STEP``, right after the
inputs); ``align="answer"`` counts it back from each sequence's own answer step (sequences of different
lengths, chapter 11). Three ways to build one: ``sets`` from two probes of your own, ``task_sets`` for
the paper's tasks, ``split_sets`` for one set of sequences split at random.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from irn import analysis, params, tasks
from irn.models import Stacked

ALIGNS = ("start", "answer")
#: Training delays of the paper's random-delay networks that ``task_sets`` holds out (the ranking
#: sees delay ``max(TRAIN_DELAYS)``, the analysis delay of chapters 3–5).
HELD_OUT_DELAYS = (1, 2, 3, 4)


@dataclass(frozen=True)
class Sets:
    """Where a comparison ranks nodes and where it scores the rankings (``sets``).

    Attributes
    ----------
    fit : irn.analysis.Probe
        The sequences the methods rank on.
    held_out : irn.analysis.Probe
        The sequences the knockout scores run on (the same concepts and decision rule).
    step : int
    align : {"start", "answer"}
        The knockout step, counted from the start or back from each sequence's answer step.
    description : str
        What the two sets are, in words.
    """

    fit: analysis.Probe
    held_out: analysis.Probe
    step: int
    align: str
    description: str = ""

    @property
    def concepts(self) -> tuple:
        return self.fit.concepts

    def at(self, probe: analysis.Probe, step: int | None = None) -> np.ndarray:
        """(samples,) the knockout step of every sequence of ``probe`` (at ``step``, counted as
        ``align`` says; default ``self.step``)."""
        step = self.step if step is None else int(step)
        answer = probe.answer_step.numpy()
        return answer - step if self.align == "answer" else np.full(len(answer), step)


def sets(fit: analysis.Probe, held_out: analysis.Probe, step: int, align: str = "start",
         description: str = "", limit: int | None = None, seed: int = 0) -> Sets:
    """Check two probes of one model and the knockout step; return a ``Sets``.

    Parameters
    ----------
    fit, held_out : irn.analysis.Probe
        The sequences that rank and those that score (``irn.analysis.probe``; the same concepts
        and decision rule).
    step : int
        The knockout step: 0-based from the start with ``align="start"``, or steps before each
        sequence's answer with ``align="answer"`` (0: the answer step itself). It must lie at or
        before every sequence's answer step.
    align : {"start", "answer"}
    description : str
        What the two sets are, in words.
    limit : int or None
        Keep at most this many sequences of each set, a random subset drawn with ``seed`` (the
        costly methods and the knockouts grow with the sequences); None keeps all.
    seed : int

    Returns
    -------
    Sets
    """
    params.require(limit, "limit", params.optional(params.integer(low=2)))
    params.require(seed, "seed", params.SEED)
    if limit is not None:
        fit, held_out = (_subset(p, limit, seed + i) for i, p in enumerate((fit, held_out)))
    for name, probe in (("fit", fit), ("held_out", held_out)):
        if not isinstance(probe, analysis.Probe):
            raise ValueError(f"{name} must be an irn.analysis.Probe (from analysis.probe), got {type(probe).__name__}")
    if fit.concepts != held_out.concepts or fit.decision != held_out.decision:
        raise ValueError("fit and held_out must have the same concepts and decision, got "
                         f"{fit.concepts}/{fit.decision} and {held_out.concepts}/{held_out.decision}")
    if fit.inputs.shape[-1] != held_out.inputs.shape[-1]:
        raise ValueError(f"fit and held_out must have the same inputs, got {fit.inputs.shape[-1]} and "
                         f"{held_out.inputs.shape[-1]} channels")
    params.require(align, "align", params.one_of(ALIGNS))
    shortest = int(min(fit.answer_step.min(), held_out.answer_step.min()))
    params.require(step, "step", params.integer(0, shortest))
    params.require(description, "description", params.rule(lambda v: isinstance(v, str), "a string"))
    return Sets(fit, held_out, int(step), align, description)


def task_sets(model: Stacked, task: str, step: int = analysis.RELAY_STEP, samples: int = analysis.ANALYSIS_SAMPLES,
              held_out_delays=HELD_OUT_DELAYS, seed: int = 0, noise: float = 0.0,
              held_out_samples: int | None = None) -> Sets:
    """The paper's tasks: rank on the analysis sequences, score on the answers at other delays.

    A clean task has only 8 (memory) or 24 (block) distinct sequences per delay, so the held-out
    sequences share their inputs up to the knockout step with the fitted ones; what the ranking
    never saw is the network's answer at those delays, read 1–4 steps after the knockout
    instead of 5.

    Parameters
    ----------
    model : Stacked
        Networks of ``task`` (their inputs are checked).
    task : {"memory", "block"}
    step : int
        Knockout step, from the start (default ``irn.analysis.RELAY_STEP``, right after the inputs).
    samples : int
        Fitted sequences: clean, at the analysis delay of random-delay training (5), drawn with
        ``seed`` as chapters 3 and 4 draw them (the sequences of their relay tables).
    held_out_delays : sequence of int
        Every distinct clean sequence at each of these delays is held out.
    seed : int
    noise : float
        Standard deviation of Gaussian noise on every input value (``irn.tasks.sample``; 0 =
        clean). With noise every sequence is its own, so the held-out sequences are fresh noisy
        draws (seed + 1 + i for delay i), ``held_out_samples`` of them spread over the delays —
        networks trained with input noise (chapter 12) are analysed so.
    held_out_samples : int, optional
        Noisy held-out sequences (default ``samples``); unused without noise.

    Returns
    -------
    Sets
        ``align="start"``.
    """
    tasks.check_task(task)
    if not tasks.enumerable(task):
        raise ValueError(f"task must be one of {tasks.TASKS}, got {task!r}")
    params.require(samples, "samples", params.integer(low=1))
    params.require(seed, "seed", params.SEED)
    delays = params.require(held_out_delays, "held_out_delays",
                            params.sequence(params.integer(0, tasks.MAX_DELAY), min_length=1))
    fit_delay = analysis.analysis_delay("random")
    if not isinstance(model, Stacked) or model.n_inputs != tasks.n_inputs(task):
        raise ValueError(f"model must be an irn.models.Stacked with {tasks.n_inputs(task)} inputs (task {task!r})")
    params.require(step, "step", params.integer(0, tasks.INPUT_STEPS - 1 + min(fit_delay, *delays)))
    noise = tasks.check_noise(noise)
    held_out_samples = samples if held_out_samples is None else params.require(
        held_out_samples, "held_out_samples", params.integer(low=len(delays)))
    concepts = tasks.CONCEPTS[task]
    batch = tasks.sample(task, samples, delay=fit_delay, noise=noise, seed=seed)
    fit = analysis.probe(model, batch.inputs, batch.targets, batch.answer_step, concepts=concepts)
    if noise:
        each = np.diff(np.linspace(0, held_out_samples, len(delays) + 1).round().astype(int))
        parts = [tasks.sample(task, int(n), delay=int(d), noise=noise, seed=seed + 1 + i)
                 for i, (d, n) in enumerate(zip(delays, each))]
    else:
        parts = [tasks.distinct(task, int(d)) for d in delays]
    longest = max(p.inputs.shape[1] for p in parts)
    inputs = torch.cat([torch.nn.functional.pad(p.inputs, (0, 0, 0, longest - p.inputs.shape[1])) for p in parts])
    held = analysis.probe(model, inputs, torch.cat([p.targets for p in parts]),
                          torch.cat([p.answer_step for p in parts]), concepts=concepts)
    kind = f"fresh sequences with input noise σ = {noise}" if noise else "distinct sequences"
    text = (f"ranked on {samples} sequences at delay {fit_delay}; scored on {len(inputs)} {kind} at delays "
            f"{', '.join(map(str, delays))}")
    return sets(fit, held, step, "start", text)


def split_sets(model: Stacked, inputs, targets, answer_step, step: int, align: str = "start", concepts=None,
               held_out: float = 0.5, seed: int = 0) -> Sets:
    """One set of sequences split at random into a fitted part and a held-out part.

    Parameters
    ----------
    model : Stacked
    inputs : array, shape (samples, steps, n_inputs)
    targets, answer_step, concepts
        As ``irn.analysis.probe``: class labels (samples,) or a concept matrix (samples, K); an int
        or (samples,) answer steps; the concepts' names.
    step : int
    align : {"start", "answer"}
        As ``sets``.
    held_out : float
        Share of the sequences kept for scoring, in (0, 1).
    seed : int
        Draws the split.

    Returns
    -------
    Sets
    """
    params.require(held_out, "held_out", params.number(0, 1, closed=False))
    params.require(seed, "seed", params.SEED)
    whole = analysis.probe(model, inputs, targets, answer_step, concepts=concepts)
    n = len(whole.inputs)
    order = np.random.default_rng(seed).permutation(n)
    cut = int(round(n * (1 - held_out)))
    if not 0 < cut < n:
        raise ValueError(f"held_out={held_out} leaves no sequences on one side of {n}")
    parts = [np.sort(order[:cut]), np.sort(order[cut:])]
    fit, held = (analysis.Probe(whole.inputs[p], whole.bits[p], whole.answer_step[p], whole.concepts, whole.decision)
                 for p in parts)
    return sets(fit, held, step, align, f"{n} sequences split at random: {cut} ranked on, {n - cut} held out")


def _subset(probe, limit: int, seed: int):
    if not isinstance(probe, analysis.Probe) or len(probe.inputs) <= limit:
        return probe
    keep = np.sort(np.random.default_rng(seed).choice(len(probe.inputs), limit, replace=False))
    return analysis.Probe(probe.inputs[keep], probe.bits[keep], probe.answer_step[keep], probe.concepts, probe.decision)


# -- inside a comparison ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Rows:
    """The distinct sequences of a probe, each with how often it occurs (``distinct_rows``).

    Attributes
    ----------
    inputs : Tensor, shape (distinct, steps, n_inputs)
    bits : ndarray, shape (distinct, concepts)
        uint8 concept values.
    answer, at : ndarray, shape (distinct,)
        Answer and knockout steps.
    weight : ndarray, shape (distinct,)
        Occurrences.
    inverse : ndarray, shape (samples,)
        The distinct row of every original sequence.
    decision : {"sign", "argmax"}
    """

    inputs: torch.Tensor
    bits: np.ndarray
    answer: np.ndarray
    at: np.ndarray
    weight: np.ndarray
    inverse: np.ndarray
    decision: str

    @property
    def samples(self) -> int:
        return len(self.inverse)


def distinct_rows(probe: analysis.Probe, at: np.ndarray) -> Rows:
    """Merge repeated sequences (same inputs, answer and knockout step, bits) into weighted rows.

    Parameters
    ----------
    probe : irn.analysis.Probe
    at : ndarray, shape (samples,)
        Each sequence's knockout step.

    Returns
    -------
    Rows
        In the order in which the distinct sequences first appear.
    """
    flat = probe.inputs.reshape(len(probe.inputs), -1).numpy()
    key = np.concatenate([flat, probe.answer_step.numpy()[:, None], at[:, None], probe.bits], axis=1)
    _, first, inverse, counts = np.unique(key, axis=0, return_index=True, return_inverse=True, return_counts=True)
    order = np.argsort(first)  # keep the order in which sequences first appear
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    keep = first[order]
    return Rows(probe.inputs[keep], probe.bits[keep], probe.answer_step.numpy()[keep], at[keep],
                counts[order].astype(np.float64), rank[inverse.ravel()], probe.decision)


def concept_scores(output: torch.Tensor, rows: Rows, concepts: int):
    """Per concept: accuracy and mean signed margin of outputs, weighted by the rows' counts.

    Accuracy is the share of sequences whose decision matches the concept ("sign": output > 0
    says 1, as ``irn.analysis.Probe``; "argmax": for class concepts the recall of the class, the
    share of its sequences answered with it). The margin is ``margins`` averaged with both values
    of the concept weighted equally.

    Parameters
    ----------
    output : Tensor, shape (..., distinct, n_outputs)
        The network's outputs at each row's answer step.
    rows : Rows
    concepts : int

    Returns
    -------
    accuracy, margin : ndarray, shape (..., concepts)
    """
    bits = torch.as_tensor(rows.bits, dtype=output.dtype)
    margin = margins(output, bits, rows.decision, concepts)
    w = torch.as_tensor(rows.weight, dtype=output.dtype)[:, None]
    if rows.decision == "argmax":  # recall: the class's sequences answered with the class
        said = output.argmax(dim=-1, keepdim=True) == torch.arange(output.shape[-1])
        correct = said[..., :concepts].to(output.dtype)
        which = w * bits
    else:  # the decision of irn.analysis.Probe: output > 0 says 1
        correct = ((output[..., :concepts] > 0).to(output.dtype) == bits).to(output.dtype)
        which = w * torch.ones_like(bits)
    accuracy = (correct * which).sum(-2) / which.sum(0).clamp_min(1e-12)
    balance = balanced_weights(rows)
    return accuracy.numpy(), (margin * torch.as_tensor(balance.T, dtype=output.dtype)).sum(-2).numpy()


def balanced_weights(rows: Rows) -> np.ndarray:
    """Weights that average over sequences with both values of each concept counted equally.

    Parameters
    ----------
    rows : Rows

    Returns
    -------
    ndarray, shape (concepts, distinct)
        Summing to 1 per concept: each value of the concept's bit gets half (all of it when the
        bit never changes), spread over its rows by their counts.
    """
    bits = rows.bits.T.astype(bool)
    w = np.broadcast_to(rows.weight, bits.shape)
    pos, neg = (w * bits).sum(1, keepdims=True), (w * ~bits).sum(1, keepdims=True)
    share = np.where(pos > 0, 0.5, 0.0) + np.where(neg > 0, 0.0, 0.5)
    return np.where(bits, w * share / np.maximum(pos, 1e-12), w * (1 - share) / np.maximum(neg, 1e-12))


def margins(output: torch.Tensor, bits: torch.Tensor, decision: str, concepts: int) -> torch.Tensor:
    """Signed margins, positive when the network decides a concept correctly: F of the gradient
    methods (differentiable).

    Parameters
    ----------
    output : Tensor, shape (..., n_outputs)
    bits : Tensor, shape (..., concepts)
        0/1 concept values.
    decision : {"sign", "argmax"}
        "sign": (2·bit − 1) · output_k; "argmax": (2·bit − 1) · (z_k − logsumexp of the other
        outputs).
    concepts : int

    Returns
    -------
    Tensor, shape (..., concepts)
    """
    sign = 2 * bits - 1
    if decision == "argmax":
        k = output.shape[-1]
        others = output.unsqueeze(-2).expand(*output.shape[:-1], k, k)
        eye = torch.eye(k, dtype=torch.bool)
        rest = torch.logsumexp(others.masked_fill(eye, float("-inf")), dim=-1)
        return sign * (output - rest)[..., :concepts]
    return sign * output[..., :concepts]
