"""Knockouts: do the nodes that relay a concept matter for it? (paper §III, Fig 4 and 5).

A *knockout* sets chosen hidden nodes to 0.0 right after a time step is computed — by default
``irn.analysis.RELAY_STEP``, the step after all information has been presented, where relay is
computed — and lets the zeroed state propagate (``span="step"``), or holds the nodes at 0 from that
step on (``span="onward"``).

``knockout`` is a context manager that installs a ``irn.models.Knockout`` on a ``Stacked`` model
and always restores what was there before; ``accuracy`` is the pure-function form that returns the
per-concept accuracy of every replicate with nodes knocked out. ``experiment`` runs the paper's
protocol: for each concept, knock out the k nodes that relay it most (k = 12, 11, …, 1, by the
greedy relay order at the knockout step) and, as controls, k random nodes, and measure every
concept's accuracy. ``curves`` summarises it with 95 % CIs over replicates, ``effects`` and
``compare`` turn it into per-replicate effect sizes and Wilcoxon tests.

LSTM: the default ``state="both"`` zeroes the nodes' hidden state h *and* cell state c. Zeroing
only h leaves the information in c, from which the next step rebuilds h; the paper's LSTM analysis
attributes the information the LSTM keeps to its cell, so a knockout that spares c would not
remove it. ``"h"`` and ``"c"`` are available to ask which of the two carries what.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from contextlib import contextmanager

import numpy as np
import pandas as pd
import torch

from irn import analysis, params, stats, tasks
from irn.models import ARCHS, KNOCKOUT_STATES, Knockout, Stacked
from irn.train import Trained, concept_accuracy

SPANS = ("step", "onward")
KINDS = ("relay", "random")
MAX_STEPS = tasks.INPUT_STEPS + tasks.MAX_DELAY  # steps of the longest sequence of the tasks
RANDOM_DRAWS = 10
NO_TARGET = "none"  # target_concept of random sets: they follow no concept's relay order
STATE_BUDGET = 50_000_000  # recorded state values per stacked pass of a knockout experiment (~200 MB)


# -- one knockout -------------------------------------------------------------------------------
def _is_int(x) -> bool:
    return params.index(low=None).ok(x)  # integer-valued (2.0 is 2; 2.5 and True are not)


def _node_lists(nodes, replicates: int, hidden: int) -> list[list[int]]:
    """One list of node indices per replicate from one shared list or one list per replicate."""
    if isinstance(nodes, (str, bytes)) or not isinstance(nodes, Iterable):
        raise ValueError(f"nodes must be a list of node indices or one such list per replicate, got {nodes!r}")
    items = list(nodes.tolist() if isinstance(nodes, np.ndarray) else nodes)
    if all(_is_int(i) for i in items):
        per = [items] * replicates
    elif all(isinstance(i, (Iterable, np.ndarray)) and not isinstance(i, (str, bytes)) for i in items):
        if len(items) != replicates:
            raise ValueError(f"nodes: one list per replicate needs {replicates} lists, got {len(items)}")
        per = [list(i.tolist() if isinstance(i, np.ndarray) else i) for i in items]
    else:
        raise ValueError("nodes must be a list of node indices or one such list per replicate, "
                         f"not a mix, got {nodes!r}")
    for ns in per:
        bad = [i for i in ns if not _is_int(i) or not 0 <= i < hidden]
        if bad:
            raise ValueError(f"nodes must be node indices in 0…{hidden - 1}, got {bad}")
    return [[int(i) for i in ns] for ns in per]


def _check_step(at, n_steps: int, name: str = "at") -> int:
    if not _is_int(at) or not 0 <= at < n_steps:
        raise ValueError(f"{name} must be a 0-based time step in 0…{n_steps - 1}, got {at!r}")
    return int(at)


def _check_span(span) -> str:
    if span not in SPANS:
        raise ValueError(f"span must be one of {SPANS}, got {span!r}")
    return span


def _check_state(state, arch: str) -> str:
    if state not in KNOCKOUT_STATES:
        raise ValueError(f"state must be one of {KNOCKOUT_STATES}, got {state!r}")
    if state == "c" and arch != "lstm":
        raise ValueError(f"state 'c' needs an LSTM; a {arch} has only h (use 'h' or 'both')")
    return state


def plan(model: Stacked, nodes=(), at: int = analysis.RELAY_STEP, span: str = "step",
         state: str = "both", n_steps: int = MAX_STEPS) -> Knockout:
    """The `Knockout` that zeroes some nodes of every replicate of a model (validated, pure).

    Parameters
    ----------
    model : irn.models.Stacked
        The replicates.
    nodes : sequence of int, or sequence of sequences of int, optional
        Node indices shared by all replicates (``[3, 7]``), or one list per replicate
        (``[[3, 7], [0], ...]``, ``model.replicates`` lists); ``[]`` knocks out nothing. In a model
        with several layers node ``l * hidden + j`` is node j of layer l (``Stacked.layer_of``).
    at : int, optional
        The 0-based step after which the nodes are zeroed.
    span : {"step", "onward"}, optional
        "step" (zero once, the zeroed state then evolves freely) or "onward" (zero after every step
        from ``at`` to ``n_steps - 1``).
    state : {"both", "h", "c"}, optional
        For an LSTM, which state is zeroed (an RNN or GRU has only h, so "h" and "both" are the
        same).
    n_steps : int, optional
        Length of the sequences the model will run (``at`` must lie inside).

    Returns
    -------
    Knockout
        ``keep`` (replicates, nodes) 0/1, the steps and the state.
    """
    if not isinstance(model, Stacked):
        raise ValueError(f"model must be an irn.models.Stacked, got {type(model).__name__}")
    if not _is_int(n_steps) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
    at = _check_step(at, n_steps)
    span, state = _check_span(span), _check_state(state, model.arch)
    keep = torch.ones(model.replicates, model.nodes)
    for r, ns in enumerate(_node_lists(nodes, model.replicates, model.nodes)):
        keep[r, ns] = 0.0
    steps = frozenset([at]) if span == "step" else frozenset(range(at, n_steps))
    return Knockout(keep=keep, steps=steps, state=state)


@contextmanager
def installed(model: Stacked, ko: Knockout | None):
    """Run the body of a ``with`` block with ``model.knockout = ko``; restore the previous value on
    exit or error.

    Parameters
    ----------
    model : irn.models.Stacked
        The replicates.
    ko : Knockout or None
        The knockout to install (None: none).

    Yields
    ------
    Knockout or None
        ``ko``.
    """
    previous = model.knockout
    model.knockout = ko
    try:
        yield ko
    finally:
        model.knockout = previous


@contextmanager
def knockout(model: Stacked, nodes=(), at: int = analysis.RELAY_STEP, span: str = "step",
             state: str = "both", n_steps: int = MAX_STEPS):
    """Knock nodes out of a model inside a ``with`` block; the model is restored afterwards.

    ``with knockout(model, [3, 7], at=10): trace = model(inputs)``. On exit — also after an
    exception — ``model.knockout`` is set back to what it was before.

    Parameters
    ----------
    model : irn.models.Stacked
        The replicates.
    nodes : sequence of int, or sequence of sequences of int, optional
        Node indices shared by all replicates (``[3, 7]``), or one list per replicate
        (``[[3, 7], [0], ...]``, ``model.replicates`` lists); ``[]`` knocks out nothing. In a model
        with several layers node ``l * hidden + j`` is node j of layer l (``Stacked.layer_of``).
    at : int, optional
        The 0-based step after which the nodes are zeroed.
    span : {"step", "onward"}, optional
        "step" (zero once, the zeroed state then evolves freely) or "onward" (zero after every step
        from ``at`` to ``n_steps - 1``).
    state : {"both", "h", "c"}, optional
        For an LSTM, which state is zeroed (an RNN or GRU has only h, so "h" and "both" are the
        same).
    n_steps : int, optional
        Length of the sequences the model will run.

    Yields
    ------
    Knockout
        The installed knockout.
    """
    with installed(model, plan(model, nodes, at, span, state, n_steps)) as ko:
        yield ko


def _evaluation(model, task, delay) -> tuple[Stacked, str, tasks.Batch]:
    if isinstance(model, Trained):
        task = model.condition.task if task is None else task
        delay = analysis.analysis_delay(model.condition.delay) if delay is None else delay
        model = model.model
    elif not isinstance(model, Stacked):
        raise ValueError(f"model must be an irn.models.Stacked or irn.train.Trained, got {type(model).__name__}")
    if task is None:
        raise ValueError(f"task must be one of {tasks.TASKS} when model is a bare Stacked")
    tasks.check_task(task)
    if model.n_inputs != tasks.n_inputs(task):
        raise ValueError(f"task {task!r} has {tasks.n_inputs(task)} inputs, the model {model.n_inputs}")
    delay = analysis.analysis_delay("random") if delay is None else delay
    return model, task, tasks.distinct(task, delay)


def accuracy(model: Stacked | Trained, nodes=(), at: int = analysis.RELAY_STEP, span: str = "step",
             state: str = "both", task: str | None = None, delay=None,
             data: analysis.Probe | None = None) -> pd.DataFrame:
    """Per-concept accuracy of every replicate with nodes knocked out (pure: the model is untouched).

    Evaluated exactly, on every distinct clean sequence of ``task`` at ``delay`` — or, for any other
    model and data, on ``data`` (accuracy is then the fraction of samples whose decision, sign or
    argmax, matches each concept). ``at`` must not lie after the (earliest) answer step.

    Parameters
    ----------
    model : irn.models.Stacked or irn.train.Trained
        The replicates (a ``Trained`` brings its task and delay).
    nodes : sequence of int, or sequence of sequences of int, optional
        Node indices shared by all replicates (``[3, 7]``), or one list per replicate
        (``[[3, 7], [0], ...]``, ``model.replicates`` lists); ``[]`` knocks out nothing. In a model
        with several layers node ``l * hidden + j`` is node j of layer l (``Stacked.layer_of``).
    at : int, optional
        The 0-based step after which the nodes are zeroed.
    span : {"step", "onward"}, optional
        "step" (zero once, the zeroed state then evolves freely) or "onward" (zero after every step
        from ``at`` to ``n_steps - 1``).
    state : {"both", "h", "c"}, optional
        For an LSTM, which state is zeroed (an RNN or GRU has only h, so "h" and "both" are the
        same).
    task : str or None, optional
        The task (default: the trained condition's).
    delay : int or str or None, optional
        The evaluation delay (default: the analysis delay of the training regime,
        `irn.analysis.analysis_delay`; 5 for a bare Stacked).
    data : irn.analysis.Probe or None, optional
        Data of your own to score on (`irn.analysis.probe`).

    Returns
    -------
    pandas.DataFrame
        Columns replicate, concept, accuracy, n_nodes, at, span, state.
    """
    if data is not None:
        if not isinstance(data, analysis.Probe):
            raise ValueError(f"data must be an irn.analysis.Probe (from analysis.probe), got {type(data).__name__}")
        if isinstance(model, Trained):
            model = model.model
        if not isinstance(model, Stacked):
            raise ValueError(f"model must be an irn.models.Stacked or irn.train.Trained, got {type(model).__name__}")
        inputs, answer, concepts, score = data.inputs, int(data.answer_step.min()), data.concepts, data.accuracy
    else:
        model, task, batch = _evaluation(model, task, delay)
        inputs, answer, concepts = batch.inputs, int(batch.answer_step.min()), tasks.CONCEPTS[task]
        score = lambda m: concept_accuracy(m, batch)  # noqa: E731
    if _is_int(at) and at > answer:
        raise ValueError(f"at must be a step 0…{answer} (at or before the answer step), got {at}")
    with knockout(model, nodes, at, span, state, n_steps=inputs.shape[1]) as ko:
        acc = score(model)
    r, c = acc.shape
    return pd.DataFrame({
        "replicate": np.repeat(np.arange(r), c), "concept": np.tile(concepts, r),
        "accuracy": acc.reshape(-1),
        "n_nodes": np.repeat((ko.keep == 0).sum(dim=1).numpy(), c),
        "at": at, "span": span, "state": state,
    })


# -- the paper's experiment ---------------------------------------------------------------------
def relay_orders(relay: pd.DataFrame, trained: Trained, step: int) -> np.ndarray:
    """Each concept's nodes from most to least relaying at one step.

    Parameters
    ----------
    relay : pandas.DataFrame
        `irn.analysis.relay_frame` output holding ``trained``'s condition at ``step``.
    trained : irn.train.Trained
        The replicates.
    step : int
        The 0-based step.

    Returns
    -------
    ndarray, shape (replicates, concepts, nodes)
        Node indices, most relaying first.
    """
    c = trained.condition
    rows = relay[(relay.arch == c.arch) & (relay.task == c.task) & (relay.delay == str(c.delay))]
    return _orders(rows, step, trained.model.replicates, tasks.CONCEPTS[c.task], trained.model.nodes, c.label)


def _orders(rows: pd.DataFrame, step: int, replicates: int, concepts, nodes: int, what: str) -> np.ndarray:
    rows = rows[rows.step == step]
    concepts = list(concepts)
    if len(rows) != replicates * len(concepts) * nodes or not rows.concept.isin(concepts).all():
        raise ValueError(f"relay must hold step {step} of {what} for {replicates} replicates × "
                         f"concepts {concepts} × {nodes} nodes, found {len(rows)} rows")
    rank = np.zeros((replicates, len(concepts), nodes), dtype=np.int64)
    rank[rows.replicate.to_numpy(), rows.concept.map(concepts.index).to_numpy(), rows.node.to_numpy()] = rows["rank"]
    return np.argsort(-rank, axis=-1, kind="stable")


def _condition_seed(seed: int, trained: Trained) -> np.random.SeedSequence:
    c = trained.condition
    return np.random.SeedSequence([seed, tasks.TASKS.index(c.task), ARCHS.index(c.arch),
                                   0 if c.delay == "random" else int(c.delay) + 1])


def experiment(trained: list[Trained] | Trained, random_draws: int = RANDOM_DRAWS,
               at: int = analysis.RELAY_STEP, span: str = "step", state: str = "both",
               seed: int = 0, relay: pd.DataFrame | None = None,
               samples: int = analysis.ANALYSIS_SAMPLES) -> pd.DataFrame:
    """Knock out each concept's most relaying nodes, and random nodes, and score every concept
    (the paper's Fig 4, 5).

    For every condition, replicate and target concept, the sets are the k most relaying nodes at
    step ``at`` (greedy relay order of `irn.analysis.relay_frame`; rank nodes−1 = most relaying)
    for k = nodes, nodes−1, …, 1, 0 (0 = intact network). Controls: ``random_draws`` random node
    orders per replicate, each giving nested random sets of the same sizes (shared by all target
    concepts: their ``target_concept`` is ``"none"``). Accuracy is exact, on every distinct clean
    sequence at the condition's analysis delay. All sets of a condition run as one stacked model.

    Parameters
    ----------
    trained : irn.train.Trained or list of irn.train.Trained
        The conditions.
    random_draws : int, optional
        Random node orders per replicate.
    at : int, optional
        The 0-based step after which nodes are zeroed.
    span : {"step", "onward"}, optional
        As in `plan`.
    state : {"both", "h", "c"}, optional
        As in `plan`.
    seed : int, optional
        Random seed of the random sets (and of the relay frame computed here).
    relay : pandas.DataFrame or None, optional
        A precomputed `irn.analysis.relay_frame` holding step ``at`` (default: computed here with
        ``samples`` and ``seed``).
    samples : int, optional
        Sequences of the relay frame computed here.

    Returns
    -------
    pandas.DataFrame
        Columns task, arch, delay, replicate, target_concept, set_size, kind ("relay" / "random"),
        draw (0 for relay sets), concept, accuracy.
    """
    trained = [trained] if isinstance(trained, Trained) else list(trained)
    if not trained or not all(isinstance(t, Trained) for t in trained):
        raise ValueError("trained must be a Trained or a non-empty list of Trained")
    random_draws = tasks.check_count(random_draws, "random_draws", 0)
    seed = tasks.check_count(seed, "seed", 0)
    span = _check_span(span)
    for t in trained:
        _check_state(state, t.condition.arch)
        _check_step(at, int(tasks.distinct(t.condition.task, analysis.analysis_delay(t.condition.delay))
                            .answer_step.min()) + 1)
    if relay is None:
        relay = analysis.relay_frame(trained, steps=[at], samples=samples, seed=seed)
    return pd.concat([_condition_experiment(t, relay, random_draws, at, span, state, seed)
                      for t in trained], ignore_index=True)


def _condition_experiment(t: Trained, relay, draws, at, span, state, seed) -> pd.DataFrame:
    cond = t.condition
    batch = tasks.distinct(cond.task, analysis.analysis_delay(cond.delay))
    frame = _sets_experiment(t.model, relay_orders(relay, t, at), tasks.CONCEPTS[cond.task], draws,
                             np.random.default_rng(_condition_seed(seed, t)), at, span, state,
                             batch.inputs.shape[1], len(batch), lambda m: concept_accuracy(m, batch))
    frame.insert(0, "delay", str(cond.delay))
    frame.insert(0, "arch", cond.arch)
    frame.insert(0, "task", cond.task)
    return frame


def _sets_experiment(model: Stacked, order, concepts, draws, rng, at, span, state, n_steps, samples,
                     score) -> pd.DataFrame:
    """Score every relay set and random control set of one model, stacked into as few models as fit
    in memory.

    order: (R, C, N) each concept's nodes from most to least relaying; score(model) → (R', C);
    samples, n_steps: the size of the data ``score`` runs."""
    r, h = model.replicates, model.nodes
    random_order = rng.permuted(np.broadcast_to(np.arange(h), (r, draws, h)), axis=-1)
    # (target_concept, set_size, kind, draw, orders (R, N)): sets are the first set_size nodes
    sets = [(concepts[c], k, "relay", 0, order[:, c]) for c in range(len(concepts)) for k in range(h, -1, -1)]
    sets += [(NO_TARGET, k, "random", d, random_order[:, d]) for d in range(draws) for k in range(h, -1, -1)]
    n = len(sets)
    rows = np.repeat(np.arange(r), n)  # replicate-major: row = rep * n + set
    nodes = [s[4][rep, :s[1]] for rep in range(r) for s in sets]
    # as many knocked-out copies per pass as keep the recorded states within STATE_BUDGET values
    per_copy = max(1, samples * n_steps * model.nodes * (2 if model.arch == "lstm" else 1))
    chunk = max(1, STATE_BUDGET // per_copy)
    parts = []
    for start in range(0, len(rows), chunk):
        big = model.select(rows[start:start + chunk].tolist())
        with knockout(big, nodes[start:start + chunk], at, span, state, n_steps=n_steps):
            parts.append(score(big))
    acc = np.concatenate(parts).reshape(r, n, len(concepts))
    meta = pd.DataFrame([s[:4] for s in sets], columns=["target_concept", "set_size", "kind", "draw"])
    idx = np.indices(acc.shape).reshape(3, -1)
    frame = meta.iloc[idx[1]].reset_index(drop=True)
    frame.insert(0, "replicate", idx[0])
    frame["concept"] = np.asarray(concepts)[idx[2]]
    frame["accuracy"] = acc.reshape(-1)
    return frame


def experiment_on(model: Stacked, data: analysis.Probe, relay: pd.DataFrame, at: int,
                  random_draws: int = RANDOM_DRAWS, span: str = "step", state: str = "both",
                  seed: int = 0) -> pd.DataFrame:
    """The paper's knockout experiment (see `experiment`) for any model on any data.

    Sets of every size are drawn from all ``model.nodes`` nodes (every layer).

    Parameters
    ----------
    model : irn.models.Stacked
        E.g. your own network via ``Stacked.from_torch``.
    data : irn.analysis.Probe
        The data to score on (`irn.analysis.probe`).
    relay : pandas.DataFrame
        `irn.analysis.relay_of_recording` of the same model holding step ``at`` (every replicate ×
        concept of ``data`` × node).
    at : int
        The step after which nodes are zeroed (at or before the earliest answer step).
    random_draws : int, optional
        Random node orders per replicate.
    span : {"step", "onward"}, optional
        As in `plan`.
    state : {"both", "h", "c"}, optional
        As in `plan`.
    seed : int, optional
        Random seed of the random sets.

    Returns
    -------
    pandas.DataFrame
        Columns replicate, target_concept, set_size, kind, draw, concept, accuracy — the columns of
        `experiment` without task, arch and delay — ready for `curves` and `effects` after adding
        those labels (``frame.assign(task=..., arch=..., delay=...)``).
    """
    if not isinstance(model, Stacked):
        raise ValueError(f"model must be an irn.models.Stacked, got {type(model).__name__}")
    if not isinstance(data, analysis.Probe):
        raise ValueError(f"data must be an irn.analysis.Probe (from analysis.probe), got {type(data).__name__}")
    random_draws = tasks.check_count(random_draws, "random_draws", 0)
    seed = tasks.check_count(seed, "seed", 0)
    span, state = _check_span(span), _check_state(state, model.arch)
    at = _check_step(at, int(data.answer_step.min()) + 1)
    order = _orders(relay, at, model.replicates, data.concepts, model.nodes, "the model")
    return _sets_experiment(model, order, data.concepts, random_draws, np.random.default_rng(seed), at, span,
                            state, data.inputs.shape[1], len(data.inputs), data.accuracy)


# -- summaries ----------------------------------------------------------------------------------
CONDITION = ["task", "arch", "delay"]


def _check_frame(frame: pd.DataFrame):
    need = CONDITION + ["replicate", "target_concept", "set_size", "kind", "draw", "concept", "accuracy"]
    missing = [c for c in need if c not in frame]
    if missing:
        raise ValueError(f"frame must be the output of irn.knockout.experiment; missing columns {missing}")


def curves(frame: pd.DataFrame, interval: str = "ci95") -> pd.DataFrame:
    """Mean accuracy of every concept per condition, kind, target concept and set size, with an
    interval over replicates (random draws are first averaged within each replicate).

    Parameters
    ----------
    frame : pandas.DataFrame
        `experiment` output.
    interval : {"ci95", "se"}, optional
        As in `irn.stats.mean_interval`.

    Returns
    -------
    pandas.DataFrame
        task, arch, delay, kind, target_concept, set_size, concept, mean, lo, hi, n.
    """
    _check_frame(frame)
    keys = CONDITION + ["kind", "target_concept", "set_size", "concept"]
    per_rep = frame.groupby(keys + ["replicate"], sort=False, observed=True)["accuracy"].mean().reset_index()
    return stats.mean_interval(per_rep, keys, "accuracy", interval=interval)


def effects(frame: pd.DataFrame, max_size: int | None = None) -> pd.DataFrame:
    """Per replicate and target concept: how much knocking out its relay nodes costs.

    Drops are accuracy lost against the intact network (set size 0), averaged over set sizes
    1…max_size: target_drop — the target concept's drop when its relay sets are knocked out;
    other_drop — the mean drop of the other concepts under the same sets; random_drop — the target
    concept's drop under random sets (mean over draws).

    Parameters
    ----------
    frame : pandas.DataFrame
        `experiment` output.
    max_size : int or None, optional
        The largest set size averaged (default nodes−1: every set but the whole layer, which is the
        same for all).

    Returns
    -------
    pandas.DataFrame
        task, arch, delay, replicate, target_concept, target_drop, other_drop, random_drop.
    """
    _check_frame(frame)
    hidden = int(frame.set_size.max())
    max_size = hidden - 1 if max_size is None else max_size
    if not _is_int(max_size) or not 1 <= max_size <= hidden:
        raise ValueError(f"max_size must be an integer in 1…{hidden}, got {max_size!r}")
    by_rep = CONDITION + ["replicate", "concept"]
    base = frame[frame.set_size == 0].groupby(by_rep, sort=False)["accuracy"].mean().rename("base")
    f = frame[(frame.set_size >= 1) & (frame.set_size <= max_size)].join(base, on=by_rep)
    f = f.assign(drop=f.base - f.accuracy)
    relay = f[f.kind == "relay"]
    own = relay.concept == relay.target_concept
    keys = CONDITION + ["replicate", "target_concept"]
    target = relay[own].groupby(keys, sort=False)["drop"].mean().rename("target_drop")
    other = relay[~own].groupby(keys, sort=False)["drop"].mean().rename("other_drop")
    rnd = f[f.kind == "random"].groupby(CONDITION + ["replicate", "concept"], sort=False)["drop"].mean()
    rnd = rnd.rename("random_drop").rename_axis(index={"concept": "target_concept"})
    return pd.concat([target, other, rnd], axis=1).reset_index()


def compare(effect: pd.DataFrame, by=("task", "arch")) -> pd.DataFrame:
    """Wilcoxon signed-rank tests over replicates of the output of `effects`.

    Each replicate's drops are first averaged over the target concepts not in ``by`` (so n =
    replicates). specific = target_drop − other_drop (p_specific), vs_random = target_drop −
    random_drop (p_random).

    Parameters
    ----------
    effect : pandas.DataFrame
        `effects` output.
    by : sequence of str, optional
        The grouping columns, one test per group.

    Returns
    -------
    pandas.DataFrame
        ``by`` + target_drop, other_drop, random_drop, specific, p_specific, vs_random, p_random,
        n.
    """
    by = [by] if isinstance(by, str) else list(by)
    allowed = CONDITION + ["target_concept"]
    if not by or any(b not in allowed for b in by):
        raise ValueError(f"by must list columns among {allowed}, got {by}")
    cols = ["target_drop", "other_drop", "random_drop"]
    per_rep = effect.groupby(by + ["replicate"], sort=False)[cols].mean().reset_index()
    rows = []
    for key, g in per_rep.groupby(by, sort=False):
        spec = stats.paired_test(g.target_drop, g.other_drop)
        rand = stats.paired_test(g.target_drop, g.random_drop)
        rows.append({**dict(zip(by, key if isinstance(key, tuple) else (key,))),
                     **{c: g[c].mean() for c in cols},
                     "specific": spec.difference, "p_specific": spec.p_value,
                     "vs_random": rand.difference, "p_random": rand.p_value, "n": spec.n})
    return pd.DataFrame(rows)


def table(verdict: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """The output of `compare` as a table that fits a page.

    The grouping columns are the index, the three mean drops sit under *drop*, and each difference
    with its p-value under *target − other* and *target − random* (Δ, p). ``n`` (replicates per
    row) is left out: say it in the text.

    Parameters
    ----------
    verdict : pandas.DataFrame
        `compare` output.
    digits : int, optional
        Decimals of drops and differences; p-values keep two significant digits, so a small one
        never reads 0.0.

    Returns
    -------
    pandas.DataFrame
        The table, with two header rows.
    """
    keys = [c for c in verdict.columns if c in CONDITION + ["target_concept", "dataset"]]
    missing = [c for c in ("target_drop", "other_drop", "random_drop", "specific", "p_specific",
                           "vs_random", "p_random") if c not in verdict.columns]
    if missing or not keys:
        raise ValueError("verdict must be the output of knockout.compare (grouped by task, arch, "
                         f"target_concept or dataset); it lacks {missing or 'a grouping column'}")
    tasks.check_count(digits, "digits", 0)
    p = lambda column: verdict[column].map("{:.2g}".format)  # noqa: E731
    out = pd.DataFrame({
        ("drop", "target"): verdict.target_drop.round(digits),
        ("drop", "other"): verdict.other_drop.round(digits),
        ("drop", "random"): verdict.random_drop.round(digits),
        ("target − other", "Δ"): verdict.specific.round(digits),
        ("target − other", "p"): p("p_specific"),
        ("target − random", "Δ"): verdict.vs_random.round(digits),
        ("target − random", "p"): p("p_random"),
    })
    out.index = pd.MultiIndex.from_frame(verdict[keys]) if len(keys) > 1 else pd.Index(verdict[keys[0]])
    return out


# -- classifiers on variable-length data: knock out at each sequence's own answer (DESIGN §13) -------
def class_accuracy(model: Stacked, data: analysis.Probe) -> np.ndarray:
    """Per-class accuracy (recall) of every replicate, with whatever knockout the model carries.

    A class's accuracy is the fraction of its sequences that the network answers with that class
    (argmax of its outputs at each sequence's answer step). A class without sequences in ``data``
    scores 0.

    Parameters
    ----------
    model : irn.models.Stacked
        The replicates.
    data : irn.analysis.Probe
        `irn.analysis.probe` of class labels.

    Returns
    -------
    ndarray, shape (replicates, classes)
        The recalls.
    """
    _check_class_probe(data)
    answer = data.answer_step
    with torch.no_grad():
        if bool((answer == answer[0]).all()):  # one answer step: record only it (far less memory)
            at = int(answer[0])
            out = model(data.inputs[:, :at + 1], record_steps=[at]).output  # (R, samples, 1, K)
            decided = dataclasses.replace(data, answer_step=torch.zeros_like(answer)).decide(out)
        else:
            decided = data.decide(model(data.inputs).output)  # (R, classes, samples)
    hits = (decided * data.bits.T[None]).sum(axis=2)
    return hits / np.maximum(data.bits.sum(axis=0), 1)[None]


def _check_class_probe(data) -> None:
    if not isinstance(data, analysis.Probe) or data.decision != "argmax":
        raise ValueError("data must be an irn.analysis.Probe of class labels (decision 'argmax'), "
                         "from analysis.probe(model, inputs, labels, answer_step)")


def class_experiment(model: Stacked, data: analysis.Probe, relay: pd.DataFrame, step: int, lag: int = 0,
                     random_draws: int = RANDOM_DRAWS, span: str = "step", state: str = "both",
                     seed: int = 0) -> pd.DataFrame:
    """`experiment_on` for a classifier on sequences of different lengths.

    Every sequence is knocked out at its own step ``answer_step − lag`` (lag 0: right before the
    readout reads the state), since with variable lengths one step of the padded batch is a
    different moment of every sequence. The sets are the relay sets of ``relay`` at ``step`` — a
    relay table of the recording aligned at the answer steps (``Recording.aligned``), whose step
    ``step`` is ``lag`` steps before the answer — and random sets of the same sizes (the same sets
    for every sequence). A class's accuracy is its recall (`class_accuracy`): with K classes a
    one-vs-rest score is dominated by the K−1 classes that are not the target.

    Parameters
    ----------
    model : irn.models.Stacked
        The replicates.
    data : irn.analysis.Probe
        `irn.analysis.probe` of class labels.
    relay : pandas.DataFrame
        The aligned relay table.
    step : int
        Its step ``lag`` steps before the answer.
    lag : int, optional
        Steps before each sequence's answer at which nodes are zeroed.
    random_draws : int, optional
        Random node orders per replicate.
    span : {"step", "onward"}, optional
        As in `plan`.
    state : {"both", "h", "c"}, optional
        As in `plan`.
    seed : int, optional
        Random seed of the random sets.

    Returns
    -------
    pandas.DataFrame
        The columns of `experiment_on`.
    """
    if not isinstance(model, Stacked):
        raise ValueError(f"model must be an irn.models.Stacked, got {type(model).__name__}")
    _check_class_probe(data)
    random_draws = tasks.check_count(random_draws, "random_draws", 0)
    seed = tasks.check_count(seed, "seed", 0)
    span, state = _check_span(span), _check_state(state, model.arch)
    shortest = int(data.answer_step.min())
    if not _is_int(lag) or not 0 <= lag <= shortest:
        raise ValueError(f"lag must be an integer in 0…{shortest} (the shortest sequence's answer step), got {lag!r}")
    order = _orders(relay, step, model.replicates, data.concepts, model.nodes, "the model")
    at = (data.answer_step - lag).numpy()
    n_steps = data.inputs.shape[1]
    groups = []  # sequences knocked out at the same step, cut after their last answer
    for t in np.unique(at):
        rows = np.flatnonzero(at == t)
        answer = data.answer_step[rows]
        groups.append((int(t), dataclasses.replace(data, inputs=data.inputs[rows, :int(answer.max()) + 1],
                                                   bits=data.bits[rows], answer_step=answer)))

    def score(big: Stacked) -> np.ndarray:  # big carries the sets' knockout; move it to each group's step
        ko, hits = big.knockout, 0.0
        for t, group in groups:
            steps = frozenset([t]) if span == "step" else frozenset(range(t, n_steps))
            with installed(big, dataclasses.replace(ko, steps=steps)):
                hits = hits + class_accuracy(big, group) * group.bits.sum(axis=0)  # correct answers per class
        return hits / np.maximum(data.bits.sum(axis=0), 1)

    largest = max(len(group.inputs) for _, group in groups)  # the most sequences one pass runs
    return _sets_experiment(model, order, data.concepts, random_draws, np.random.default_rng(seed), int(at.min()),
                            span, state, n_steps, largest, score)
