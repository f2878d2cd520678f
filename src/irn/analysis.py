"""From trained replicates to relay tables (paper §II.C, §III).

``record`` runs a condition's replicates on analysis sequences and keeps what the relay method
needs: the hidden activity at every step, each concept's true bit (``X_in``) and the network's
answer bit for it (``X_out``, the sign of its output at the answer step). ``relay_frame`` runs the
greedy ordering of ``irn.relay`` for every replicate, time step and concept and returns one tidy
DataFrame, the table every later chapter starts from. ``ranking_agreement`` compares the node
rankings of several such tables (e.g. one per binarisation method).

Ties. When the binarised hidden state takes few patterns (the memory task has 8 concept
combinations), ``I_R`` soon drops to 0 and every remaining candidate ties; the rule of the
paper's code then removes the lowest node index first, so the last survivors — the largest
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
    """The delay of analysis sequences for a training-delay regime.

    Parameters
    ----------
    delay : int or str
        The training delay, or "random".

    Returns
    -------
    int
        The training delay of a fixed-delay regime, 5 for "random".
    """
    return max(tasks.TRAIN_DELAYS) if delay == "random" else tasks.check_delay(delay)


@dataclass(frozen=True)
class Recording:
    """What a condition's replicates did on the analysis sequences.

    Attributes
    ----------
    trained : irn.train.Trained or None
        The replicates recorded (None for a model of your own, `record_model`).
    hidden : ndarray, shape (replicates, samples, steps, nodes)
        float32 hidden activity: h, c, or both side by side ("hc"); all layers of a deep model,
        node ``l * hidden_size + j``.
    x_in : ndarray, shape (concepts, samples)
        uint8 true bits.
    x_out : ndarray, shape (replicates, concepts, samples)
        uint8 answer bits.
    state : ndarray, shape (samples,)
        The concept combination (bit k = concept k).
    delay : int or None
        The analysis delay (None for data of your own).
    correct : ndarray, shape (replicates, concepts)
        Accuracy.
    concepts : tuple of str
        The concepts' names.
    labels : dict or None
        arch, task, delay.
    answer_step : ndarray, shape (samples,) or None
        The step each sample's answer was read at.
    layer : ndarray, shape (nodes,) or None
        The layer of each node column.
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
        """Number of recorded time steps."""
        return self.hidden.shape[2]

    def aligned(self, steps: int | None = None) -> "Recording":
        """The same recording with time counted back from each sample's answer step.

        Column ``k`` of the result holds every sample's state ``steps − 1 − k`` steps before its own
        answer step (the last column: the answer step itself), so sequences of different lengths line
        up at their answers. Steps before a sequence began hold the initial state 0.

        Parameters
        ----------
        steps : int or None, optional
            How many steps to keep (default: the longest answer step + 1).

        Returns
        -------
        Recording
            The aligned recording.
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
    """Run every replicate of a condition on analysis sequences and record them.

    Clean memory-task sequences give at most 8 distinct hidden states per step; noisy ones give
    every sample its own.

    Parameters
    ----------
    trained : irn.train.Trained
        The replicates.
    samples : int, optional
        Analysis sequences.
    seed : int, optional
        Random seed of the sequences.
    state : {"h", "c", "hc"}, optional
        "h" (hidden state, default), "c" (LSTM cell state) or "hc" (both, 2 × nodes columns).
    delay : int or None, optional
        Analysis delay (default `analysis_delay` of the training regime).
    noise : float, optional
        Standard deviation of Gaussian noise added to every input value (`irn.tasks.sample`; 0 =
        clean, the default).

    Returns
    -------
    Recording
        Hidden activity, true and answer bits.
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
    """The replicate whose worst concept is answered best on the analysis sequences: an example
    network that is as close to perfect as the condition has (the lowest index among equals).

    Parameters
    ----------
    trained : irn.train.Trained
        One condition's replicates.
    samples : int, optional
        Analysis sequences, as in `record`.
    seed : int, optional
        Random seed of the sequences.

    Returns
    -------
    int
        The replicate's index.
    """
    if not isinstance(trained, Trained):
        raise ValueError(f"trained must be one irn.train.Trained condition, got {type(trained).__name__}")
    worst = record(trained, samples=samples, seed=seed).correct.min(axis=1)  # (replicates,)
    return int(np.argmax(worst))


DECISIONS = ("auto", "sign", "argmax")


@dataclass(frozen=True)
class Probe:
    """Data to record a model on, with its concepts (made and checked by `probe`).

    Attributes
    ----------
    inputs : torch.Tensor, shape (samples, steps, n_inputs)
        float32 inputs.
    bits : ndarray, shape (samples, concepts)
        uint8 true bit of every concept.
    answer_step : torch.Tensor, shape (samples,)
        int64 step at which each answer is read.
    concepts : tuple of str
        The concepts' names.
    decision : {"sign", "argmax"}
        How the network's answer bit is read from its outputs.
    """

    inputs: torch.Tensor
    bits: np.ndarray
    answer_step: torch.Tensor
    concepts: tuple
    decision: str

    def decide(self, output: torch.Tensor) -> np.ndarray:
        """The network's answer bits, read at each sample's answer step.

        Parameters
        ----------
        output : torch.Tensor, shape (replicates, samples, steps, n_outputs)
            The model's full output trace.

        Returns
        -------
        ndarray, shape (replicates, concepts, samples)
            uint8 decisions.
        """
        at = output[:, torch.arange(len(self.inputs)), self.answer_step]  # (R, samples, K)
        if self.decision == "argmax":
            chosen = at.argmax(dim=-1)  # (R, samples)
            out = (chosen[:, None, :] == torch.arange(len(self.concepts))[None, :, None])
        else:
            out = (at[..., :len(self.concepts)] > 0).transpose(1, 2)
        return out.numpy().astype(np.uint8)

    def accuracy(self, model: Stacked) -> np.ndarray:
        """Fraction of samples whose decision matches the concept's bit, with whatever knockout the model
        carries.

        Parameters
        ----------
        model : irn.models.Stacked
            The replicates.

        Returns
        -------
        ndarray, shape (replicates, concepts)
            The accuracies.
        """
        with torch.no_grad():
            decided = self.decide(model(self.inputs).output)
        return (decided == self.bits.T[None]).mean(axis=2)


def probe(model: Stacked, inputs, targets, answer_step, concepts=None, decision: str = "auto") -> Probe:
    """Check data for a model and turn its targets into binary concepts.

    Parameters
    ----------
    model : irn.models.Stacked
        The replicates the data is for.
    inputs : array_like, shape (samples, steps, n_inputs)
        The sequences (sequences of different lengths: pad them).
    targets : array_like, shape (samples,) or (samples, K)
        Either integer class labels 0…K−1 — K one-vs-rest concepts, one per class — or a concept
        matrix of ±1 or 0/1 values (K ≤ the model's outputs).
    answer_step : int or array_like, shape (samples,)
        The 0-based step at which each sample's answer is read.
    concepts : sequence of str or None, optional
        The concepts' names (default "0", "1", …).
    decision : {"auto", "sign", "argmax"}, optional
        How the network's answer bit X_out is read from its outputs at the answer step — "sign":
        output k > 0 (the sign of a tanh output, or of a logit for a 0/1 concept); "argmax":
        argmax over outputs == k (the decision of a softmax-style classifier); "auto" (default):
        "argmax" for class labels, "sign" for a concept matrix.

    Returns
    -------
    Probe
        The checked data.
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

    Every layer is recorded.

    Parameters
    ----------
    model : irn.models.Stacked
        The replicates.
    inputs, targets, answer_step
        As in `probe` (class labels or a concept matrix, per-sample answer steps).
    state : {"h", "c", "hc"}, optional
        "h", "c" (LSTM cell state) or "hc" (both side by side).
    concepts : sequence of str or None, optional
        The concepts' names.
    decision : {"auto", "sign", "argmax"}, optional
        How the network's decision ``X_out`` is read, as in `probe`.

    Returns
    -------
    Recording
        Hidden activity, true and answer bits.
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

    Parameters
    ----------
    trained : irn.train.Trained or list of irn.train.Trained
        The conditions.
    steps : sequence of int or None, optional
        0-based time steps (default: all steps of the analysis sequences).
    samples : int, optional
        Analysis sequences.
    seed : int, optional
        Random seed of the analysis sequences and, with ``tie_break="random"``, the node
        relabelings.
    method : str, optional
        Binarisation of `irn.relay.binarize` (per node and step, over samples).
    state : {"h", "c", "hc"}, optional
        Which state, as in `record`.
    tie_break : {"index", "random"}, optional
        How tied greedy candidates are ordered, see `relay_of_recording`.
    draws : int, optional
        Random relabelings with ``tie_break="random"``.
    noise : float, optional
        Input noise of the analysis sequences (see `record`; 0 = clean).

    Returns
    -------
    pandas.DataFrame
        Columns arch, task, delay, replicate, step, concept, node, contribution, rank (0 = removed
        first, nodes−1 = last survivor; with ``tie_break="random"`` the order of the mean
        contribution), relay (I_R of all nodes at that step and concept), relay_after (I_R of the
        nodes still in Y_R once this node is removed: the greedy curve after rank + 1 removals; 0
        for the last survivor, when Y_R is empty; NaN with ``tie_break="random"``).
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
    """`relay_frame` for one recording.

    Parameters
    ----------
    rec : Recording
        From `record` or `record_model`.
    steps : sequence of int or None
        0-based time steps (None: all).
    method : str, optional
        Binarisation of `irn.relay.binarize`.
    tie_break : {"index", "random"}, optional
        "index" (default; the paper's rule: among candidates whose removal leaves the same ``I_R``,
        the lowest node index is removed first) or "random": the greedy search runs on ``draws``
        random relabelings (permutations) of the nodes, drawn independently for every replicate ×
        step × concept from ``numpy.random.default_rng(seed)``; the results are mapped back to the
        original nodes and ``contribution`` is their mean over draws. ``rank`` is then not a removal
        order but the order of the mean contribution (0 = smallest; equal means, to 9 decimals, by
        node index), and ``relay_after`` is NaN (no single greedy curve). ``relay``, the ``I_R`` of
        all nodes, does not depend on ties.
    draws : int, optional
        Random relabelings with ``tie_break="random"``.
    seed : int, optional
        Random seed of the relabelings.

    Returns
    -------
    pandas.DataFrame
        The columns of `relay_frame`; a recording of a model with several layers adds ``layer``,
        the layer of each node id.
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

    For every pair (a, b) of the analyses and every replicate × step × concept: ``spearman`` is the
    rank correlation of the node contributions (NaN when one of them is constant), ``jaccard`` is the
    size of the intersection over the size of the union of the ``top`` last survivors of each greedy
    ordering (the highest ``rank``).

    Parameters
    ----------
    frame : pandas.DataFrame
        `relay_frame` tables stacked with one extra column ``between`` naming the analysis.
    between : str, optional
        That column (e.g. the binarisation ``method``).
    top : int, optional
        Last survivors compared by the Jaccard index.

    Returns
    -------
    pandas.DataFrame
        Columns arch, task, delay, replicate, step, concept, a, b, pair ("a–b"), spearman, jaccard.
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
    """How much of each relay value finite samples alone would give.

    For every replicate × step × concept: the relay information of all nodes, ``I_R(Y)``, with its
    shuffle null (`irn.relay.relay_null`: ``X_in`` and ``X_out`` permuted jointly against the hidden
    states, ``shuffles`` times) and the number of distinct binarised hidden states among the
    samples. When almost every sample has its own pattern, ``I(X_in; X_out | Y)`` is 0 for the data
    and for every shuffle alike, so the relay value equals its null: the plug-in estimate says
    nothing about the nodes (chapters 11 and 12).

    Parameters
    ----------
    rec : Recording
        From `record` or `record_model`.
    steps : sequence of int or None
        As in `relay_of_recording`.
    method : str, optional
        Binarisation, as in `relay_of_recording`.
    shuffles : int, optional
        Permutations of the null.
    seed : int, optional
        Random seed of the permutations.

    Returns
    -------
    pandas.DataFrame
        The label columns (arch, task, delay) and replicate, step, concept, samples, patterns
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


# -- chapter 3: greedy against exhaustive, and the shuffle null, for every network × concept --------
#: Shuffles of the null of every relay value in :func:`relay_statistics` (chapter 3's default).
STATISTICS_SHUFFLES = 200


@dataclass(frozen=True)
class RelayStatistics:
    """How good the greedy search is and how far relay stands above sampling noise, for every
    network × concept of a recording at one step (:func:`relay_statistics`).

    gaps: one row per replicate × concept × subset size 1…nodes — replicate, concept, size,
        greedy (``I_R`` of the greedy set of that size), best (the best ``I_R`` of any subset of
        that size), n_subsets, n_better (subsets relaying more than the greedy set), fraction_better,
        gap (best − greedy), as ``irn.relay.greedy_gap``;
    random_gaps: the same for a random removal order per replicate × concept instead of the greedy
        one (column ``greedy`` then holds that order's ``I_R``): what the comparison says about a
        search that does not look at the data;
    nulls: one row per replicate × concept — replicate, concept, relay (``I_R`` of all nodes), bias
        (mean of the shuffle null), corrected (relay − bias), p_value (``irn.relay.relay_null``).
    """

    gaps: pd.DataFrame
    random_gaps: pd.DataFrame
    nulls: pd.DataFrame


def relay_statistics(rec: Recording, step: int, method: str = "median", shuffles: int = STATISTICS_SHUFFLES,
                     seed: int = 0) -> RelayStatistics:
    """Greedy against exhaustive search, a random removal order against exhaustive search, and the
    shuffle null of every network × concept of ``rec`` at ``step`` (chapter 3, sections 3.4–3.5).

    Parameters
    ----------
    rec : Recording
        A recording (``record`` or ``record_model``) with at most ``irn.relay.MAX_EXHAUSTIVE_NODES``
        nodes; hidden: (replicates, samples, steps, nodes).
    step : int
        0-based time step whose hidden state is binarised.
    method : str
        Binarisation of ``irn.relay.binarize`` ("median", "kmeans" or "sign").
    shuffles : int
        Shuffles of the null of every relay value (p-values down to 1 / (shuffles + 1)).
    seed : int
        Seeds the shuffles and the random removal orders.

    Returns
    -------
    RelayStatistics
        gaps and random_gaps with replicates × concepts × nodes rows, nulls with replicates ×
        concepts rows (see :class:`RelayStatistics`).
    """
    if not isinstance(rec, Recording):
        raise ValueError(f"rec must be an irn.analysis.Recording, got {type(rec).__name__}")
    params.require(step, "step", params.integer(0, rec.steps - 1))
    params.require(method, "method", params.one_of(relay.BINARIZE_METHODS))
    params.require(shuffles, "shuffles", params.integer(1))
    params.require(seed, "seed", params.SEED)
    n_nodes = rec.hidden.shape[-1]
    if n_nodes > relay.MAX_EXHAUSTIVE_NODES:
        raise ValueError(f"rec has {n_nodes} nodes; the exhaustive search takes at most "
                         f"{relay.MAX_EXHAUSTIVE_NODES} (2**nodes subsets)")
    bits = relay.binarize(rec.hidden[:, :, step], method)  # (replicates, samples, nodes)
    rng = np.random.default_rng(seed)
    gaps, random_gaps, nulls = [], [], []
    for r in range(bits.shape[0]):
        for c, name in enumerate(rec.concepts):
            x_in, x_out, y = rec.x_in[c], rec.x_out[r, c], bits[r]
            every = relay.exhaustive(x_in, x_out, y)
            label = {"replicate": r, "concept": name}
            gaps.append(relay.greedy_gap(relay.greedy(x_in, x_out, y), every).assign(**label))
            order = rng.permutation(n_nodes)  # least "relaying" first, as a greedy order
            masks = np.array([np.sum(1 << order[i:]) for i in range(n_nodes)], dtype=np.int64)
            blind = relay.GreedyResult(order, every.values[masks], np.zeros(n_nodes))
            random_gaps.append(relay.greedy_gap(blind, every).assign(**label))
            null = relay.relay_null(x_in, x_out, y, shuffles=shuffles, seed=seed)
            nulls.append({**label, "relay": null.observed, "bias": null.null_mean,
                          "corrected": null.corrected, "p_value": null.p_value})
    columns = ["replicate", "concept", "size", "greedy", "best", "n_subsets", "n_better", "fraction_better"]
    def tidy(parts):
        return pd.concat(parts, ignore_index=True)[columns].assign(gap=lambda g: g.best - g.greedy)

    return RelayStatistics(tidy(gaps), tidy(random_gaps), pd.DataFrame(nulls))


# -- chapter 3b: how much each layer of a deep model relays ---------------------------------------------
def layer_relay(rec: Recording, steps, method: str = "median") -> pd.DataFrame:
    """How much of each concept each layer of a deep model relays, at every step (chapter 3b).

    For every replicate × step × concept and layer: ``alone`` is the relay information of the
    layer's nodes when they are the only nodes, ``I(X_in; X_out) − I(X_in; X_out | layer)`` — what
    the layer holds of the input–output information; ``unique`` is ``I_R`` (Eq. 1) of the layer's
    nodes against the nodes of every other layer, ``I(X_in; X_out | others) − I(X_in; X_out | all)``
    — what the layer holds that the other layers do not. Neither depends on how the greedy search
    breaks ties. Plug-in estimates, as everywhere in irn: ``patterns`` counts the distinct
    binarised states of all nodes, so the caller can check there are enough samples per pattern
    (``irn.relay.SAMPLES_PER_PATTERN``), or that the samples are a whole population of sequences.

    Parameters
    ----------
    rec : Recording
        A recording of a model (``record_model``, which names each node's layer in ``rec.layer``);
        hidden: (replicates, samples, steps, nodes).
    steps : sequence of int
        0-based time steps.
    method : str
        Binarisation of ``irn.relay.binarize``.

    Returns
    -------
    DataFrame
        One row per replicate × step × concept × layer: replicate, step, concept, layer, alone,
        unique, all_nodes (``I_R`` of every node), patterns — information in bits.
    """
    if not isinstance(rec, Recording) or rec.layer is None:
        raise ValueError("rec must be an irn.analysis.Recording of a model (record_model), which names each "
                         "node's layer")
    steps = _check_steps(steps, rec.steps)
    params.require(method, "method", params.one_of(relay.BINARIZE_METHODS))
    layers = np.unique(rec.layer)
    bits = relay.binarize(rec.hidden[:, :, steps].transpose(0, 2, 1, 3), method)  # (R, steps, samples, nodes)
    rows = []
    for r in range(bits.shape[0]):
        for i, step in enumerate(steps):
            y = bits[r, i]
            every = _row_code(y)
            own = {l: _row_code(y[:, rec.layer == l]) for l in layers}
            others = {l: _row_code(y[:, rec.layer != l]) for l in layers}
            patterns = int(every.max()) + 1
            xy = 2 * rec.x_in.astype(np.int64) + rec.x_out[r]  # (concepts, samples)
            left = _cmi_of_codes(xy, every)  # I(X_in; X_out | Y) per concept
            total = _cmi_of_codes(xy, np.zeros_like(every))  # I(X_in; X_out)
            for l in layers:
                alone, unique = total - _cmi_of_codes(xy, own[l]), _cmi_of_codes(xy, others[l]) - left
                rows += [{"replicate": r, "step": step, "concept": concept, "layer": int(l), "alone": alone[c],
                          "unique": unique[c], "all_nodes": total[c] - left[c], "patterns": patterns}
                         for c, concept in enumerate(rec.concepts)]
    return pd.DataFrame(rows).sort_values(["replicate", "step", "concept", "layer"], kind="stable",
                                          ignore_index=True)


def _row_code(bits: np.ndarray) -> np.ndarray:
    """Dense ids 0…k−1 of the distinct rows of (samples, nodes) bits (no columns: all 0)."""
    if bits.shape[1] == 0:
        return np.zeros(bits.shape[0], dtype=np.int64)
    return np.unique(bits, axis=0, return_inverse=True)[1].ravel().astype(np.int64)


def _cmi_of_codes(xy: np.ndarray, code: np.ndarray) -> np.ndarray:
    """I(X; Y | Z) in bits per row of xy = 2·x + y (two bits; (concepts, samples)) given a dense
    code of Z ((samples,)): (concepts,)."""
    concepts, n = xy.shape
    k = int(code.max()) + 1
    keys = (np.arange(concepts)[:, None] * k + code[None]) * 4 + xy
    t = np.bincount(keys.ravel(), minlength=concepts * k * 4).reshape(concepts, k, 2, 2).astype(float)

    def plogp(c):
        return np.where(c > 0, c * np.log2(np.where(c > 0, c, 1)), 0.0)

    return (plogp(t).sum(axis=(1, 2, 3)) + plogp(t.sum(axis=(2, 3))).sum(axis=1)
            - plogp(t.sum(axis=3)).sum(axis=(1, 2)) - plogp(t.sum(axis=2)).sum(axis=(1, 2))) / n


def top_share(frame: pd.DataFrame, top: int, column: str = "layer") -> pd.DataFrame:
    """Where a concept's most relaying nodes lie: for every replicate × step × concept of a relay
    table, the share of its ``top`` largest contributions that fall in each value of ``column``
    (e.g. each layer of a deep model).

    Nodes tied at the boundary of the top set share its remaining places equally — what breaking
    those ties at random gives on average — so a step where every node ties (nothing relayed yet)
    gives each layer its share of the nodes, not the layer with the highest node indices.

    Parameters
    ----------
    frame : DataFrame
        ``relay_of_recording`` output (replicate, step, concept, node, contribution and ``column``),
        complete: every node of every replicate × step × concept.
    top : int
        Size of the top set, 1…nodes.
    column : str
        The column whose values the shares are counted over.

    Returns
    -------
    DataFrame
        One row per replicate × step × concept × value of ``column``: replicate, step, concept,
        ``column``, share (the shares of a replicate × step × concept sum to 1).
    """
    needed = ["replicate", "step", "concept", "node", "contribution", column]
    if not isinstance(frame, pd.DataFrame) or any(c not in frame for c in needed):
        raise ValueError(f"frame must be a relay table (relay_of_recording) with columns {needed}")
    n_nodes = frame["node"].nunique()
    params.require(top, "top", params.integer(1, n_nodes))
    keys = ["replicate", "step", "concept"]
    ordered = frame.sort_values([*keys, "node"], kind="stable")
    if len(ordered) % n_nodes or ordered.duplicated([*keys, "node"]).any():
        raise ValueError("frame must hold every node exactly once per replicate × step × concept")
    values = ordered["contribution"].to_numpy(float).round(RANK_DECIMALS).reshape(-1, n_nodes)
    labels = ordered[column].to_numpy().reshape(-1, n_nodes)
    edge = -np.sort(-values, axis=1)[:, top - 1:top]  # the top-th largest value of every run
    above, tied = values > edge, values == edge
    weight = above + tied * ((top - above.sum(axis=1, keepdims=True)) / tied.sum(axis=1, keepdims=True))
    runs = ordered.iloc[::n_nodes][keys].reset_index(drop=True)
    parts = [runs.assign(**{column: value, "share": (weight * (labels == value)).sum(axis=1) / top})
             for value in np.unique(labels)]
    return pd.concat(parts, ignore_index=True).sort_values([*keys, column], kind="stable", ignore_index=True)
