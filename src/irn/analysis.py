"""From trained replicates to relay tables (paper §II.C, §III).

``record`` runs a condition's replicates on analysis sequences and keeps what the relay method
needs: the hidden activity at every step, each concept's true bit (``X_in``) and the network's
answer bit for it (``X_out``, the sign of its output at the answer step). ``relay_frame`` runs the
greedy ordering of ``irn.relay`` for every replicate, time step and concept and returns one tidy
DataFrame, the table every later chapter starts from. ``ranking_agreement`` compares the node
rankings of several such tables (e.g. one per binarisation method).

Ties. When the binarised hidden state takes few patterns (the memory task has 8 concept
combinations), ``I_R`` soon drops to 0 and every remaining candidate ties; DESIGN §7's rule (and
the paper's code) then removes the lowest node index first, so the last survivors — the largest
contributions — are the highest-indexed nodes. ``tie_break="index"`` keeps that rule (faithful
reproduction, the default); ``tie_break="random"`` averages the greedy contributions over
``draws`` random relabelings of the nodes, so tied nodes share the credit instead.

Analysis sequences are clean sequences of the task drawn at random. Their delay is the training
delay of a fixed-delay condition and ``max(TRAIN_DELAYS)`` (5) for random-delay training, so a
sequence has 15 steps as in the paper's Fig 6. ``RELAY_STEP`` is the step after all inputs, where
the paper computes relay information and knocks nodes out.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from irn import params, relay, tasks
from irn.models import Stacked, check_choice, check_inputs
from irn.train import Trained

RELAY_STEP = tasks.INPUT_STEPS  # 0-based: the first step after all information was presented
STATES = ("h", "c", "hc")
ANALYSIS_SAMPLES = 1000
TIE_BREAKS = ("index", "random")
CUSTOM_TASK = "custom"  # the task label of recordings of your own model and data
#: Random relabelings of the nodes averaged by ``tie_break="random"``.
TIE_DRAWS = 10
RANK_DECIMALS = 9  # contributions equal to this many decimals tie when ranked


def analysis_delay(delay) -> int:
    """The delay of analysis sequences for a training-delay regime (5 for ``"random"``)."""
    return max(tasks.TRAIN_DELAYS) if delay == "random" else tasks.check_delay(delay)


@dataclass(frozen=True)
class Recording:
    """What a condition's replicates did on the analysis sequences.

    hidden: (replicates, samples, steps, nodes) float32 — h, c, or both side by side ("hc"; all
    layers of a deep model, node ``l * hidden_size + j``); x_in: (concepts, samples) uint8 true bits;
    x_out: (replicates, concepts, samples) uint8 answer bits; state: (samples,) concept combination
    (bit k = concept k); correct: (replicates, concepts) accuracy; answer_step: (samples,) the step
    each sample's answer was read at; layer: (nodes,) the layer of each node column.
    """

    trained: Trained | None
    hidden: np.ndarray
    x_in: np.ndarray
    x_out: np.ndarray
    state: np.ndarray
    delay: int | None
    correct: np.ndarray
    concepts: tuple = ()
    labels: dict | None = None  # arch, task, delay columns of relay tables
    answer_step: np.ndarray | None = None
    layer: np.ndarray | None = None

    @property
    def steps(self) -> int:
        return self.hidden.shape[2]

    def aligned(self, steps: int | None = None) -> "Recording":
        """The same recording with time counted back from each sample's answer step.

        Column ``k`` of the result holds every sample's state ``steps − 1 − k`` steps before its own
        answer step (the last column: the answer step itself), so sequences of different lengths
        line up at their answers. Steps before a sequence began hold the initial state 0.
        steps: how many steps to keep (default: the longest answer step + 1).
        """
        answer = np.broadcast_to(np.asarray(self.answer_step), (self.hidden.shape[1],))
        longest = int(answer.max()) + 1
        steps = longest if steps is None else tasks.check_count(steps, "steps", 1)
        source = answer[:, None] - (steps - 1 - np.arange(steps))[None, :]  # (samples, steps)
        valid = source >= 0
        index = np.clip(source, 0, None)
        out = np.take_along_axis(self.hidden, index[None, :, :, None], axis=2) * valid[None, :, :, None]
        return dataclasses.replace(self, hidden=out.astype(self.hidden.dtype),
                                   answer_step=np.full(len(answer), steps - 1))


def record(trained: Trained, samples: int = ANALYSIS_SAMPLES, seed: int = 0, state: str = "h",
           delay=None, noise: float = 0.0) -> Recording:
    """Run every replicate of ``trained`` on ``samples`` sequences and record them.

    state: "h" (hidden state, default), "c" (LSTM cell state) or "hc" (both, 2×nodes columns).
    delay: analysis delay (default ``analysis_delay`` of the training regime).
    noise: std of Gaussian noise added to every input value (``irn.tasks.sample``; 0 = clean, the
    default). Clean memory-task sequences give at most 8 distinct hidden states per step; noisy
    ones give every sample its own.
    """
    tasks.check_count(samples, "samples", 1)
    delay = analysis_delay(trained.condition.delay) if delay is None else tasks.check_delay(delay, allow_random=False)
    task = trained.condition.task
    batch = tasks.sample(task, samples, delay=delay, noise=noise, seed=seed)
    rec = record_model(trained.model, batch.inputs, batch.targets, batch.answer_step, state=state,
                       concepts=tasks.CONCEPTS[task])
    c = trained.condition
    return dataclasses.replace(rec, trained=trained, state=batch.state.numpy(), delay=delay,
                               labels={"arch": c.arch, "task": c.task, "delay": str(c.delay)})


def best_replicate(trained: Trained, samples: int = ANALYSIS_SAMPLES, seed: int = 0) -> int:
    """The replicate whose worst concept is answered best on the analysis sequences (the lowest
    index among equals): an example network that is as close to perfect as the condition has.

    trained: one condition's replicates; samples, seed: analysis sequences of ``record``.
    """
    if not isinstance(trained, Trained):
        raise ValueError(f"trained must be one irn.train.Trained condition, got {type(trained).__name__}")
    worst = record(trained, samples=samples, seed=seed).correct.min(axis=1)  # (replicates,)
    return int(np.argmax(worst))


DECISIONS = ("auto", "sign", "argmax")


@dataclass(frozen=True)
class Probe:
    """Data to record a model on, with its concepts (validated by :func:`probe`).

    inputs: (samples, steps, n_inputs) float32; bits: (samples, concepts) uint8 true bit of every
    concept; answer_step: (samples,) int64; concepts: names; decision: "sign" or "argmax".
    """

    inputs: torch.Tensor
    bits: np.ndarray
    answer_step: torch.Tensor
    concepts: tuple
    decision: str

    def decide(self, output: torch.Tensor) -> np.ndarray:
        """(replicates, concepts, samples) uint8 decisions from the model's full output trace
        (replicates, samples, steps, n_outputs), read at each sample's answer step."""
        at = output[:, torch.arange(len(self.inputs)), self.answer_step]  # (R, samples, K)
        if self.decision == "argmax":
            chosen = at.argmax(dim=-1)  # (R, samples)
            out = (chosen[:, None, :] == torch.arange(len(self.concepts))[None, :, None])
        else:
            out = (at[..., :len(self.concepts)] > 0).transpose(1, 2)
        return out.numpy().astype(np.uint8)

    def accuracy(self, model: Stacked) -> np.ndarray:
        """(replicates, concepts) fraction of samples whose decision matches the concept's bit,
        with whatever knockout ``model`` carries."""
        with torch.no_grad():
            decided = self.decide(model(self.inputs).output)
        return (decided == self.bits.T[None]).mean(axis=2)


def probe(model: Stacked, inputs, targets, answer_step, concepts=None, decision: str = "auto") -> Probe:
    """Check data for ``model`` and turn its targets into binary concepts.

    inputs: (samples, steps, n_inputs). targets: either a (samples,) vector of integer class labels
    0…K−1 — K one-vs-rest concepts, one per class, named by ``concepts`` (the class names; default
    "0", "1", …) — or a (samples, K) concept matrix of ±1 or 0/1 values (K ≤ the model's outputs).
    answer_step: an int or a (samples,) vector: the 0-based step at which each sample's answer is
    read (sequences of different lengths: pad the inputs, give each its own last step).
    decision: how the network's answer bit X_out is read from its outputs at the answer step —
    "sign": output k > 0 (the sign of a tanh output, or of a logit for a 0/1 concept);
    "argmax": argmax over outputs == k (the decision of a softmax-style classifier: it says "class k"
    for exactly one k); "auto" (default): "argmax" for class labels, "sign" for a concept matrix.
    """
    check_choice(decision, "decision", DECISIONS)
    if not isinstance(model, Stacked):
        raise ValueError(f"model must be an irn.models.Stacked, got {type(model).__name__}")
    inputs = check_inputs(inputs, model.n_inputs)
    targets = params.array(targets, "targets", ndim=(1, 2), kind="any")
    if targets.ndim not in (1, 2) or len(targets) != len(inputs):
        raise ValueError("targets must be (samples,) class labels or a (samples, concepts) concept matrix "
                         f"for the {len(inputs)} samples of inputs, got shape {targets.shape}")
    if targets.ndim == 1:
        if targets.dtype.kind not in "iu" or targets.min() < 0 or targets.max() >= model.n_outputs:
            raise ValueError(f"targets as class labels must be integers 0…{model.n_outputs - 1} "
                             f"(the model has {model.n_outputs} outputs)")
        k = model.n_outputs
        bits = (targets[:, None] == np.arange(k)[None, :]).astype(np.uint8)
        decision = "argmax" if decision == "auto" else decision
    else:
        if not np.isin(targets, (-1, 0, 1)).all():
            raise ValueError("targets as a concept matrix must hold ±1 or 0/1 values")
        k = targets.shape[1]
        if k > model.n_outputs:
            raise ValueError(f"targets has {k} concepts but the model only {model.n_outputs} outputs")
        bits = (targets > 0).astype(np.uint8)
        decision = "sign" if decision == "auto" else decision
        if decision == "argmax" and k != model.n_outputs:
            raise ValueError("decision 'argmax' needs one concept per output "
                             f"({model.n_outputs}), got {k}")
    answer = tasks.check_answer_steps(answer_step, len(inputs), inputs.shape[1])
    names = tuple(str(i) for i in range(k)) if concepts is None else tuple(str(c) for c in concepts)
    if len(names) != k:
        raise ValueError(f"concepts must name {k} concepts, got {names}")
    return Probe(inputs, bits, answer, names, decision)


def record_model(model: Stacked, inputs, targets, answer_step, state: str = "h",
                 concepts=None, decision: str = "auto") -> Recording:
    """Record any stacked model — e.g. your own network via ``Stacked.from_torch`` — on any data.

    Arguments as in :func:`probe` (class labels or a concept matrix, per-sample answer steps, how the
    network's decision ``X_out`` is read: the sign of each output, or argmax == the concept's class).
    state: "h", "c" (LSTM cell state) or "hc" (both side by side). Every layer is recorded.
    """
    check_choice(state, "state", STATES)
    if state != "h" and model.arch != "lstm":
        raise ValueError(f"state {state!r} needs an LSTM; {model.arch} has only h")
    data = probe(model, inputs, targets, answer_step, concepts, decision)
    with torch.no_grad():
        trace = model(data.inputs)
    parts = {"h": [trace.hidden], "c": [trace.cell], "hc": [trace.hidden, trace.cell]}[state]
    hidden = torch.cat(parts, dim=-1).numpy()
    x_in = np.ascontiguousarray(data.bits.T)
    x_out = data.decide(trace.output)
    state_id = (data.bits.astype(np.int64) * (2 ** np.arange(data.bits.shape[1]))).sum(axis=1)
    layer = np.tile(np.repeat(np.arange(model.layers), model.hidden), len(parts))
    return Recording(None, hidden, x_in, x_out, state_id, None, (x_out == x_in[None]).mean(axis=2),
                     data.concepts, {"arch": model.arch, "task": CUSTOM_TASK, "delay": "n/a"},
                     answer_step=data.answer_step.numpy(), layer=layer)


def relay_frame(trained: list[Trained] | Trained, steps=None, samples: int = ANALYSIS_SAMPLES,
                seed: int = 0, method: str = "median", state: str = "h", tie_break: str = "index",
                draws: int = TIE_DRAWS, noise: float = 0.0) -> pd.DataFrame:
    """Greedy relay ordering for every replicate × time step × concept, as one tidy table.

    steps: 0-based time steps (default: all steps of the analysis sequences);
    seed: the analysis sequences and, with ``tie_break="random"``, the node relabelings;
    method: binarisation of ``irn.relay.binarize`` (per node and step, over samples);
    tie_break, draws: how tied greedy candidates are ordered, see :func:`relay_of_recording`;
    noise: input noise of the analysis sequences (see :func:`record`; 0 = clean).
    Columns: arch, task, delay, replicate, step, concept, node, contribution, rank (0 = removed
    first, nodes−1 = last survivor; with ``tie_break="random"`` the order of the mean
    contribution), relay (I_R of all nodes at that step and concept), relay_after (I_R of the
    nodes still in Y_R once this node is removed: the greedy curve after rank + 1 removals; 0 for
    the last survivor, when Y_R is empty; NaN with ``tie_break="random"``).
    """
    _check_tie_break(tie_break, draws)
    tasks.check_noise(noise)
    trained = [trained] if isinstance(trained, Trained) else list(trained)
    frames = []
    for t in trained:
        rec = record(t, samples=samples, seed=seed, state=state, noise=noise)
        chosen = range(rec.steps) if steps is None else _check_steps(steps, rec.steps)
        frames.append(relay_of_recording(rec, chosen, method, tie_break=tie_break, draws=draws, seed=seed))
    return pd.concat(frames, ignore_index=True)


def _check_steps(steps, n_steps: int) -> list[int]:
    steps = [steps] if isinstance(steps, (int, np.integer)) else list(steps)
    bad = [s for s in steps if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or not 0 <= s < n_steps]
    if not steps or bad:
        raise ValueError(f"steps must be 0-based time steps in 0…{n_steps - 1}, got {steps}")
    return [int(s) for s in steps]


def _check_tie_break(tie_break, draws) -> None:
    if tie_break not in TIE_BREAKS:
        raise ValueError(f"tie_break must be one of {TIE_BREAKS}, got {tie_break!r}")
    tasks.check_count(draws, "draws", 1)


def relay_of_recording(rec: Recording, steps, method: str = "median", tie_break: str = "index",
                       draws: int = TIE_DRAWS, seed: int = 0) -> pd.DataFrame:
    """``relay_frame`` for one recording (see there for the columns; a recording of a model with
    several layers adds ``layer``, the layer of each node id).

    tie_break: ``"index"`` (default; DESIGN §7 and the paper: among candidates whose removal
        leaves the same ``I_R``, the lowest node index is removed first) or ``"random"``: the
        greedy search runs on ``draws`` random relabelings (permutations) of the nodes, drawn
        independently for every replicate × step × concept from ``numpy.random.default_rng(seed)``;
        the results are mapped back to the original nodes and ``contribution`` is their mean over
        draws. ``rank`` is then not a removal order but the order of the mean contribution
        (0 = smallest; equal means, to 9 decimals, by node index), and ``relay_after`` is NaN
        (no single greedy curve). ``relay``, the ``I_R`` of all nodes, does not depend on ties.
    """
    steps = _check_steps(steps, rec.steps)
    _check_tie_break(tie_break, draws)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    hid = rec.hidden[:, :, steps].transpose(0, 2, 1, 3)  # (R, steps, samples, nodes)
    bits = relay.binarize(hid, method=method)
    if tie_break == "index":
        res = relay.greedy_many(rec.x_in[None, None], rec.x_out[:, None], bits[:, :, None])
        contribution, curve, order = res.contribution, res.curve, res.order
    else:
        contribution, curve = _random_ties(rec, bits, draws, seed)
        order = np.argsort(contribution.round(RANK_DECIMALS), axis=-1, kind="stable")  # ties: lower node first
    r, s, c, h = contribution.shape
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(h), axis=-1)
    if tie_break == "index":
        after = np.concatenate([curve[..., 1:], np.zeros(curve.shape[:-1] + (1,))], axis=-1)
        relay_after = np.take_along_axis(after, rank, axis=-1).reshape(-1)
    else:
        relay_after = np.full(r * s * c * h, np.nan)
    idx = np.indices((r, s, c, h)).reshape(4, -1)
    frame = pd.DataFrame({
        **rec.labels, "replicate": idx[0], "step": np.asarray(steps)[idx[1]],
        "concept": np.asarray(rec.concepts)[idx[2]], "node": idx[3],
        "contribution": contribution.reshape(-1), "rank": rank.reshape(-1),
        "relay": np.repeat(curve[..., 0].reshape(-1), h),
        "relay_after": relay_after,
    })
    if rec.layer is not None and rec.layer.max() > 0:  # a deep model: say which layer each node is in
        frame.insert(frame.columns.get_loc("node") + 1, "layer", rec.layer[idx[3]])
    return frame


def _random_ties(rec: Recording, bits: np.ndarray, draws: int, seed: int):
    """Greedy contributions averaged over random node relabelings.

    bits: (R, steps, samples, nodes). Returns contribution (R, steps, concepts, nodes), the mean
    over draws in the original node labels, and curve (R, steps, concepts, nodes) of draw 0 (its
    first value, I_R of all nodes, is the same in every draw).
    """
    r, s, samples, h = bits.shape
    n_concepts = rec.x_in.shape[0]
    rng = np.random.default_rng(seed)
    # independent relabelings for every greedy run (R, steps, concepts, draws, nodes), so the same
    # nodes are not favoured at every step or for every concept
    perms = rng.permuted(np.broadcast_to(np.arange(h), (r, s, n_concepts, draws, h)), axis=-1)
    inverse = np.argsort(perms, axis=-1)
    columns = np.ascontiguousarray(bits.transpose(0, 1, 3, 2)).reshape(r * s * h, samples)  # one row per node
    first = (np.arange(r * s) * h).reshape(r, s, 1, 1)
    contribution = np.empty((r, s, n_concepts, h))
    curve = np.empty((r, s, n_concepts, h))
    for c in range(n_concepts):  # one concept at a time keeps the permuted copies of the bits small
        permuted = columns[first + perms[:, :, c]].swapaxes(-1, -2)  # (R, steps, draws, samples, nodes)
        res = relay.greedy_many(rec.x_in[c], rec.x_out[:, None, None, c], permuted)  # (R, steps, draws, nodes)
        contribution[:, :, c] = np.take_along_axis(res.contribution, inverse[:, :, c], axis=-1).mean(axis=2)
        curve[:, :, c] = res.curve[:, :, 0]
    return contribution, curve


RANKING_KEYS = ("arch", "task", "delay", "replicate", "step", "concept")


def ranking_agreement(frame: pd.DataFrame, between: str = "method", top: int = 3) -> pd.DataFrame:
    """How far the node rankings of several relay analyses of the same networks agree.

    frame: ``relay_frame`` tables stacked with one extra column ``between`` naming the analysis
    (e.g. the binarisation ``method``). For every pair (a, b) of its values and every replicate ×
    step × concept: ``spearman`` is the rank correlation of the node contributions (NaN when one
    of them is constant), ``jaccard`` is |A ∩ B| / |A ∪ B| of the ``top`` last survivors of each
    greedy ordering (the highest ``rank``).
    Returns columns arch, task, delay, replicate, step, concept, a, b, pair ("a–b"), spearman,
    jaccard.
    """
    needed = [*RANKING_KEYS, "node", "contribution", "rank"]
    missing = [c for c in [between, *needed] if c not in frame]
    if missing:
        raise ValueError(f"frame lacks columns {missing}; between must name a column added to "
                         f"relay_frame tables (columns: {list(frame.columns)})")
    levels = list(dict.fromkeys(frame[between]))
    if len(levels) < 2:
        raise ValueError(f"column {between!r} must hold at least two analyses, got {levels}")
    n_nodes = frame["node"].nunique()
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or not 1 <= top < n_nodes:
        raise ValueError(f"top must be an integer in 1…{n_nodes - 1}, got {top!r}")
    keys = list(RANKING_KEYS)
    rows = []
    for i, a in enumerate(levels):
        for b in levels[i + 1:]:
            pair = frame[frame[between] == a][needed].merge(
                frame[frame[between] == b][needed], on=[*keys, "node"], suffixes=("_a", "_b"))
            # Spearman = Pearson of ranks; rounding keeps float noise (~1e-15) from breaking ties
            values = pair[["contribution_a", "contribution_b"]].round(RANK_DECIMALS)
            ranks = values.groupby([pair[k] for k in keys], sort=False, observed=True).rank()
            centred = ranks - ranks.groupby([pair[k] for k in keys], sort=False, observed=True).transform("mean")
            pair["ab"] = centred.contribution_a * centred.contribution_b
            pair["aa"], pair["bb"] = centred.contribution_a ** 2, centred.contribution_b ** 2
            pair["both"] = (pair.rank_a >= n_nodes - top) & (pair.rank_b >= n_nodes - top)
            pair["either"] = (pair.rank_a >= n_nodes - top) | (pair.rank_b >= n_nodes - top)
            sums = pair.groupby(keys, sort=False, observed=True)[["ab", "aa", "bb", "both", "either"]].sum()
            with np.errstate(invalid="ignore", divide="ignore"):
                spearman = sums.ab / np.sqrt(sums.aa * sums.bb)
            rows.append(sums.reset_index()[keys].assign(
                a=a, b=b, pair=f"{a}–{b}", spearman=spearman.where(sums.aa * sums.bb > 0).to_numpy(),
                jaccard=(sums.both / sums.either).to_numpy()))
    return pd.concat(rows, ignore_index=True)[[*keys, "a", "b", "pair", "spearman", "jaccard"]]


# -- real data: per-sequence answer steps and how far a relay value stands above chance ---------
#: Shuffles of the null of every relay value in :func:`relay_chance` (p-values down to 1/101).
NULL_SHUFFLES = 100


def relay_chance(rec: Recording, steps, method: str = "median", shuffles: int = NULL_SHUFFLES,
                 seed: int = 0) -> pd.DataFrame:
    """How much of each relay value finite samples alone would give (DESIGN §7, §13, §14).

    For every replicate × step × concept: the relay information of all nodes, ``I_R(Y)``, with
    its shuffle null (``irn.relay.relay_null``: ``X_in`` and ``X_out`` permuted jointly against the
    hidden states, ``shuffles`` times) and the number of distinct binarised hidden states among
    the samples. When almost every sample has its own pattern, ``I(X_in; X_out | Y)`` is 0 for the
    data and for every shuffle alike, so the relay value equals its null: the plug-in estimate says
    nothing about the nodes.
    steps, method: as in :func:`relay_of_recording`; seed: the permutations.
    Returns the label columns (arch, task, delay) and replicate, step, concept, samples, patterns
    (distinct binarised states), relay (observed I_R of all nodes), null_mean (the bias
    estimate), corrected (relay − null_mean), p_value.
    """
    steps = _check_steps(steps, rec.steps)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    tasks.check_count(shuffles, "shuffles", 1)
    bits = relay.binarize(rec.hidden[:, :, steps].transpose(0, 2, 1, 3), method=method)  # (R, S, N, H)
    rows = []
    for r in range(bits.shape[0]):
        for i, step in enumerate(steps):
            patterns = len(np.unique(bits[r, i], axis=0))
            for c, concept in enumerate(rec.concepts):
                null = relay.relay_null(rec.x_in[c], rec.x_out[r, c], bits[r, i], shuffles=shuffles, seed=seed)
                rows.append({**rec.labels, "replicate": r, "step": step, "concept": concept,
                             "samples": bits.shape[2], "patterns": patterns, "relay": null.observed,
                             "null_mean": null.null_mean, "corrected": null.corrected, "p_value": null.p_value})
    return pd.DataFrame(rows)
