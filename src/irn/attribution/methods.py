"""Node rankings: which nodes of a network matter for a concept, by twelve methods.

``rank`` ranks the nodes of every replicate of a ``Stacked`` model, per concept and knockout step,
on the ``fit`` sequences of a ``Sets``, by each of ``METHODS``:

* ``relay``: the greedy relay order of ``irn.relay`` (Hintze, Najam & Schossau, arXiv 2510.01271,
  §II.C) on the median-binarised hidden state; where the pattern guard fires (fewer than
  ``irn.relay.SAMPLES_PER_PATTERN`` samples per distinct pattern, where plug-in information
  collapses) the probe remedy ``irn.relay.probe_greedy`` orders the nodes instead
  (``Ranking.relay`` says which estimator ranked each replicate). These are the relay tables of
  chapters 3–5 (``irn.analysis.relay_of_recording``): tied candidates leave lowest index first.
* ``relay_random_ties``: the same with ties broken at random — contributions averaged over random
  relabelings of the nodes (``tie_break="random"``, chapter 4.6), so tied nodes share the credit.
* ``mutual_information``: plug-in I(node bit; concept bit), the binarised node alone.
* ``variance`` and ``mean_abs``: the node's activation variance and mean |h| at the step — the same
  ranking for every concept (Morcos et al. 2018 ablate units by such statistics).
* ``readout``: |W_out| of the concept's output. The readout reads only the last layer, so the nodes
  of lower layers score 0 and come last.
* ``probe``: |coefficient| of an L1-penalised logistic regression (scikit-learn, liblinear, classes
  balanced) from the standardised hidden state to the concept bit (Alain & Bengio 2016).
* ``saliency``, ``grad_x_act``, ``integrated_gradients``: captum's ``Saliency`` (|∂F/∂h|),
  ``InputXGradient`` (h·∂F/∂h) and ``IntegratedGradients`` (zero baseline: every node knocked out)
  of F, the concept's signed margin at the answer, with respect to the state at the knockout step —
  a forward function of one replicate exposing h_t (and c_t for an LSTM, whose attributions are added
  per node, as a knockout zeroes both). Averaged over sequences with both values of the concept
  weighted equally (saliency unsigned; the other two signed: a node that helps the right answer
  scores high). For a deep network the state of every layer at the step is an input, so a lower
  node is credited through the steps after it (a knockout also changes the layers above at the step).
* ``ablation``: the oracle. Greedy knockout search on the fitted sequences: the node whose
  knockout costs the concept most accuracy (ties: most margin), then the next given the first, … up
  to ``oracle_size`` nodes; after the first round only the ``shortlist`` nodes with the largest
  single-node cost are candidates (exact greedy up to ``shortlist`` nodes). Nodes past the search
  follow their cost in its last round.
* ``random``: a random order (the book's control so far).

Rank 0 is the node a method names first (knocked out first). ``score`` is the method's own number
(higher = more important), except ``relay`` (its greedy contribution) and ``ablation`` (the concept's
accuracy lost once the node joins the knockout set), whose order comes from their search.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from irn import analysis, params, relay
from irn.attribution.data import Rows, Sets, balanced_weights, concept_scores, distinct_rows, margins
from irn.attribution.replay import Replay, groups
from irn.models import KNOCKOUT_STATES, Stacked

METHODS = ("relay", "relay_random_ties", "mutual_information", "variance", "mean_abs", "readout", "probe",
           "saliency", "grad_x_act", "integrated_gradients", "ablation", "random")
#: Names for tables and legends.
LABELS = {"relay": "relay (greedy)", "relay_random_ties": "relay (ties at random)",
          "mutual_information": "single-node MI", "variance": "variance", "mean_abs": "mean |h|",
          "readout": "readout |W|", "probe": "L1 probe", "saliency": "saliency",
          "grad_x_act": "gradient × activation", "integrated_gradients": "integrated gradients",
          "ablation": "ablation oracle", "random": "random"}
#: Methods whose order comes from a search rather than from sorting a score.
SEARCHES = ("relay", "relay_random_ties", "ablation")
GRADIENTS = ("saliency", "grad_x_act", "integrated_gradients")
SPANS = ("step", "onward")
BINARIZE = "median"
IG_STEPS = 32  # integrated gradients' quadrature points (Gauss–Legendre, captum's default method)
PROBE_C = 1.0  # inverse L1 strength of the probe (on standardised nodes)
ORACLE_SIZE = 16  # nodes the ablation oracle picks one by one at most
SHORTLIST = 32  # candidates of the oracle's later rounds
ORACLE_SEQUENCES = 256  # distinct ranking sequences the oracle's knockouts run on (a seeded subset beyond)
IG_ROWS = 1 << 17  # rows of one integrated-gradients pass (memory bound)
DECIMALS = 9  # scores equal to this many decimals tie (lower node first)


@dataclass(frozen=True)
class Ranking:
    """Node rankings of every replicate, concept, step and method (``rank``).

    Attributes
    ----------
    table : DataFrame
        One row per replicate × concept × step × method × node: replicate, concept, step, method,
        node, rank (0 = named first), score (the method's own number; and layer for a deep network).
    cost : DataFrame
        method, seconds (CPU time of this process, after one-off imports and compilation), networks.
    relay : DataFrame
        replicate, samples, patterns (distinct binarised states), estimator ("plug-in" or "probe"),
        step, method — which estimator ranked each replicate.
    completeness : DataFrame
        replicate, concept, delta (the largest |Σ attributions − (F(h) − F(0))| of integrated
        gradients over the sequences), step.
    steps : tuple of int
    align : {"start", "answer"}
        Where the nodes were ranked.
    """

    table: pd.DataFrame
    cost: pd.DataFrame
    relay: pd.DataFrame
    completeness: pd.DataFrame
    steps: tuple
    align: str


def check_model(model) -> Stacked:
    """Check that attribution can run a model.

    Parameters
    ----------
    model : Stacked
        The model to check.

    Returns
    -------
    Stacked
        ``model``, when it is a ``Stacked`` whose replicates torch's own modules can replay
        (``Stacked.to_torch``: no leak rate).

    Raises
    ------
    ValueError
        Naming ``model``, otherwise.
    """
    if not isinstance(model, Stacked):
        raise ValueError(f"model must be an irn.models.Stacked, got {type(model).__name__}")
    if getattr(model, "leak", 1.0) != 1.0:
        raise ValueError(f"model must have no leak rate (leak=1.0; torch's nn.RNN, which replays each replicate, "
                         f"has none), got leak={model.leak}")
    return model


def _check(model, sets, methods, steps, seed, ig_steps, probe_c, oracle_size, shortlist, span, state,
           oracle_sequences):
    check_model(model)
    if not isinstance(sets, Sets):
        raise ValueError(f"sets must be an irn.attribution.Sets (from attribution.sets), got {type(sets).__name__}")
    params.require(methods, "methods", params.list_of(METHODS))
    if model.nodes < 2:
        raise ValueError(f"model must have at least 2 nodes to rank, got {model.nodes}")
    if sets.fit.inputs.shape[-1] != model.n_inputs or len(sets.concepts) > model.n_outputs:
        raise ValueError(f"sets must hold sequences of {model.n_inputs} inputs and at most {model.n_outputs} "
                         "concepts (one per output of the model)")
    shortest = int(min(sets.fit.answer_step.min(), sets.held_out.answer_step.min()))
    steps = [sets.step] if steps is None else steps
    params.require(steps, "steps", params.sequence(params.integer(0, shortest), min_length=1))
    params.require(seed, "seed", params.SEED)
    params.require(ig_steps, "ig_steps", params.integer(2, 4096))
    params.require(probe_c, "probe_c", params.number(0, None, closed=False))
    params.require(oracle_size, "oracle_size", params.optional(params.integer(1, model.nodes)))
    params.require(shortlist, "shortlist", params.integer(1))
    params.require(oracle_sequences, "oracle_sequences", params.integer(low=1))
    params.require(span, "span", params.one_of(SPANS))
    params.require(state, "state", params.one_of(KNOCKOUT_STATES))
    if state == "c" and model.arch != "lstm":
        raise ValueError(f"state must be 'h' or 'both' for a {model.arch} (only an LSTM has c), got 'c'")
    return [int(s) for s in dict.fromkeys(steps)]


def rank(model: Stacked, sets: Sets, methods=METHODS, steps=None, seed: int = 0, ig_steps: int = IG_STEPS,
         probe_c: float = PROBE_C, oracle_size: int | None = None, shortlist: int = SHORTLIST,
         span: str = "step", state: str = "both", oracle_sequences: int = ORACLE_SEQUENCES) -> Ranking:
    """Rank every replicate's nodes per concept and step by each method, on ``sets.fit``.

    Every argument is checked before any work.

    Parameters
    ----------
    model : Stacked
        R replicates of any architecture, layers and readout.
    sets : Sets
        ``irn.attribution.sets`` (only ``fit`` is used here).
    methods : sequence of str
        Names from ``METHODS``.
    steps : sequence of int, optional
        Knockout steps, counted as ``sets.align`` says (default ``[sets.step]``).
    seed : int
        Random orders, the probe remedy's folds and the L1 probe.
    ig_steps : int
        Integrated gradients' quadrature points.
    probe_c : float
        The L1 probe's inverse regularisation strength C.
    oracle_size : int, optional
        Nodes the ablation oracle picks one by one (default ``min(nodes − 1, ORACLE_SIZE)``).
    shortlist : int
        The oracle's candidates after its first round.
    span, state : str
        The oracle's knockouts, as ``irn.knockout``.
    oracle_sequences : int
        The oracle's knockouts run on at most this many distinct ranking sequences (a subset drawn
        with ``seed`` beyond): its cost grows with them.

    Returns
    -------
    Ranking
    """
    steps = _check(model, sets, list(methods) if isinstance(methods, tuple) else methods, steps, seed,
                   ig_steps, probe_c, oracle_size, shortlist, span, state, oracle_sequences)
    oracle_size = min(model.nodes - 1, ORACLE_SIZE) if oracle_size is None else oracle_size
    _warm_up(methods)
    parts, cost, relays, complete = [], dict.fromkeys(methods, 0.0), [], []
    for step in steps:
        rows = distinct_rows(sets.fit, sets.at(sets.fit, step))
        hidden, cell, output = _record(model, rows)
        for method in methods:
            start = time.process_time()
            score, order, extra = _METHOD[method](model=model, rows=rows, hidden=hidden, cell=cell, output=output,
                                                  seed=seed, step=step, ig_steps=ig_steps, probe_c=probe_c,
                                                  oracle_size=oracle_size, shortlist=shortlist, span=span,
                                                  state=state, concepts=len(sets.concepts),
                                                  oracle_sequences=oracle_sequences)
            cost[method] += time.process_time() - start
            parts.append(_tidy(score, order, method, step, sets.concepts, model))
            if method in ("relay", "relay_random_ties"):
                relays.append(extra.assign(step=step, method=method))
            if method == "integrated_gradients":
                complete.append(extra.assign(step=step))
    table = pd.concat(parts, ignore_index=True)
    cost_frame = pd.DataFrame({"method": list(cost), "seconds": list(cost.values()), "networks": model.replicates})
    relay_frame = pd.concat(relays, ignore_index=True) if relays else pd.DataFrame(
        columns=["replicate", "samples", "patterns", "estimator", "step"])
    complete_frame = pd.concat(complete, ignore_index=True) if complete else pd.DataFrame(
        columns=["replicate", "concept", "delta", "step"])
    if len(complete_frame):
        complete_frame["concept"] = np.asarray(sets.concepts)[complete_frame.concept.to_numpy(int)]
    return Ranking(table, cost_frame, relay_frame, complete_frame, tuple(steps), sets.align)


def _warm_up(methods) -> None:
    """Import the libraries and load the compiled relay kernels a method needs before its clock
    starts: each method's time is then its own work, not a one-off import or compilation."""
    if any(m in GRADIENTS for m in methods):
        import captum.attr  # noqa: F401
    if "probe" in methods:
        import sklearn.linear_model  # noqa: F401
    if any(m.startswith("relay") for m in methods):
        bits = np.random.default_rng(0).integers(0, 2, size=(16, 3)).astype(np.uint8)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", relay.RelayEntropyWarning)
            relay.pattern_count(bits)
            relay.greedy_many(bits[:, 0][None], bits[:, 1][None], bits[None])
            relay.probe_greedy(bits[:, 0], bits[:, 1], bits)


def _record(model: Stacked, rows: Rows):
    """hidden, cell (LSTM, else None): (R, distinct, nodes) at each row's knockout step; output:
    (R, distinct, n_outputs) at each row's answer."""
    with torch.no_grad():
        trace = model(rows.inputs)
    b = np.arange(len(rows.at))
    hidden = trace.hidden[:, b, rows.at].numpy().astype(np.float64)
    cell = None if trace.cell is None else trace.cell[:, b, rows.at].numpy().astype(np.float64)
    return hidden, cell, trace.output[:, b, rows.answer]


def _tidy(score: np.ndarray, order: np.ndarray, method: str, step: int, concepts, model: Stacked) -> pd.DataFrame:
    """score (R, K, N) by node; order (R, K, N) nodes from first to last → the long table."""
    r, k, n = score.shape
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(n), axis=-1)
    idx = np.indices((r, k, n)).reshape(3, -1)
    frame = pd.DataFrame({"replicate": idx[0], "concept": np.asarray(concepts)[idx[1]], "step": step,
                          "method": method, "node": idx[2], "rank": rank.reshape(-1), "score": score.reshape(-1)})
    if model.layers > 1:
        frame.insert(frame.columns.get_loc("node") + 1, "layer", idx[2] // model.hidden)
    return frame


def by_score(score: np.ndarray) -> np.ndarray:
    """Order nodes by descending score.

    Equal scores (to ``DECIMALS`` decimals) keep the lower node first.

    Parameters
    ----------
    score : ndarray, shape (..., nodes)
        A score per node (higher = more important).

    Returns
    -------
    ndarray of int, shape (..., nodes)
        The nodes, first named first.
    """
    return np.argsort(-np.round(score, DECIMALS), axis=-1, kind="stable")


# -- the methods: each returns score (R, K, N), order (R, K, N), extra ----------------------------
def _decisions(output: torch.Tensor, rows: Rows, concepts: int) -> np.ndarray:
    """(R, K, distinct) the network's answer bit per concept (``irn.analysis.Probe.decide``)."""
    if rows.decision == "argmax":
        said = output.argmax(dim=-1)[:, None, :] == torch.arange(concepts)[None, :, None]
    else:
        said = (output[..., :concepts] > 0).transpose(1, 2)
    return said.numpy().astype(np.uint8)


def _relay(*, model, rows, hidden, output, seed, concepts, ties="index", **_):
    """The greedy relay order of ``irn.analysis.relay_of_recording`` (the relay tables of chapters
    3–5), or ``irn.relay.probe_greedy`` where the pattern guard fires."""
    x_in = np.ascontiguousarray(rows.bits[rows.inverse].T)  # (K, samples)
    x_out = np.ascontiguousarray(_decisions(output, rows, concepts)[:, :, rows.inverse])  # (R, K, samples)
    states = hidden[:, rows.inverse][:, :, None, :].astype(np.float32)  # (R, samples, 1 step, N)
    bits = relay.binarize(states[:, :, 0], method=BINARIZE)  # (R, samples, N)
    samples, (r, _, n) = bits.shape[1], bits.shape
    patterns = relay.pattern_count(bits)
    probe = patterns * relay.SAMPLES_PER_PATTERN > samples  # the pattern guard of irn.relay
    order = np.empty((r, concepts, n), dtype=np.int64)
    score = np.empty((r, concepts, n))
    plug = np.flatnonzero(~probe)
    if plug.size:
        rec = analysis.Recording(None, states[plug], x_in, x_out[plug], np.zeros(samples, np.int64), None,
                                 np.zeros((plug.size, concepts)), tuple(range(concepts)),
                                 {"arch": model.arch, "task": analysis.CUSTOM_TASK, "delay": "n/a"})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", relay.RelayEntropyWarning)
            table = analysis.relay_of_recording(rec, [0], BINARIZE, tie_break=ties, seed=seed)
        where = (plug[table.replicate.to_numpy()], table.concept.to_numpy(int))
        position = n - 1 - table["rank"].to_numpy()  # the last survivor of the greedy search first
        order[where[0], where[1], position] = table.node.to_numpy()
        score[where[0], where[1], table.node.to_numpy()] = table.contribution.to_numpy()
    for i in np.flatnonzero(probe):
        for k in range(concepts):
            res = relay.probe_greedy(x_in[k], x_out[i, k], bits[i], seed=seed)
            order[i, k], score[i, k] = res.order[::-1], res.contribution
    extra = pd.DataFrame({"replicate": np.arange(r), "samples": samples, "patterns": patterns,
                          "estimator": np.where(probe, "probe", "plug-in")})
    return score, order, extra


def _relay_random_ties(**kw):
    return _relay(ties="random", **kw)


def _mutual_information(*, rows, hidden, concepts, **_):
    bits = relay.binarize(hidden[:, rows.inverse], method=BINARIZE).astype(np.float64)  # (R, S, N)
    x = rows.bits[rows.inverse].T.astype(np.float64)  # (K, S)
    score = binary_mutual_information(bits, x)
    return score, by_score(score), None


def binary_mutual_information(bits: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Plug-in I(node; concept) in bits of every node and concept at once.

    Parameters
    ----------
    bits : ndarray, shape (replicates, samples, nodes)
        0/1 node values.
    x : ndarray, shape (concepts, samples)
        0/1 concept values.

    Returns
    -------
    ndarray, shape (replicates, concepts, nodes)
        Equal to ``irn.info.mutual_information`` of each pair (tested).
    """
    s = bits.shape[1]
    p11 = np.einsum("ks,rsn->rkn", x, bits) / s
    p1_ = bits.mean(axis=1)[:, None, :]  # node = 1
    p_1 = x.mean(axis=1)[None, :, None]  # concept = 1
    cells = [(p11, p1_ * p_1), (p1_ - p11, p1_ * (1 - p_1)), (p_1 - p11, (1 - p1_) * p_1),
             (1 - p1_ - p_1 + p11, (1 - p1_) * (1 - p_1))]
    total = np.zeros(np.broadcast_shapes(p11.shape, p1_.shape, p_1.shape))
    for joint, product in cells:
        with np.errstate(divide="ignore", invalid="ignore"):
            total += np.where(joint > 1e-15, joint * np.log2(np.where(joint > 1e-15, joint, 1) /
                                                            np.where(product > 0, product, 1)), 0.0)
    return np.maximum(total, 0.0)


def _statistic(hidden, rows, concepts, which):
    w = rows.weight / rows.weight.sum()
    mean = np.einsum("b,rbn->rn", w, hidden)
    if which == "variance":
        value = np.einsum("b,rbn->rn", w, (hidden - mean[:, None]) ** 2)
    else:
        value = np.einsum("b,rbn->rn", w, np.abs(hidden))
    score = np.repeat(value[:, None, :], concepts, axis=1)
    return score, by_score(score), None


def _variance(*, rows, hidden, concepts, **_):
    return _statistic(hidden, rows, concepts, "variance")


def _mean_abs(*, rows, hidden, concepts, **_):
    return _statistic(hidden, rows, concepts, "mean_abs")


def _readout(*, model, concepts, **_):
    score = np.zeros((model.replicates, concepts, model.nodes))
    top = (model.layers - 1) * model.hidden
    score[:, :, top:] = model.readout_weight.detach().abs().numpy()[:, :concepts]
    return score, by_score(score), None


def _logistic(c: float, seed: int):
    """An L1 logistic regression (scikit-learn ≥ 1.8 names the L1 penalty ``l1_ratio=1``)."""
    import sklearn
    from sklearn.linear_model import LogisticRegression

    major, minor = (int(p) for p in sklearn.__version__.split(".")[:2])
    penalty = {"l1_ratio": 1.0} if (major, minor) >= (1, 8) else {"penalty": "l1"}
    return LogisticRegression(C=c, solver="liblinear", class_weight="balanced", random_state=seed,
                              max_iter=1000, **penalty)


def _probe(*, rows, hidden, seed, probe_c, concepts, **_):
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    r, _, n = hidden.shape
    score = np.zeros((r, concepts, n))
    with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for i in range(r):
            x = hidden[i]
            sd = np.sqrt(np.average((x - np.average(x, axis=0, weights=rows.weight)) ** 2, axis=0,
                                    weights=rows.weight))
            z = (x - np.average(x, axis=0, weights=rows.weight)) / np.where(sd > 0, sd, 1.0)
            for k in range(concepts):
                y = rows.bits[:, k]
                if y.min() == y.max():
                    continue  # a concept that never changes here: nothing to decode
                fitted = _logistic(probe_c, seed).fit(z, y, sample_weight=rows.weight)
                score[i, k] = np.abs(fitted.coef_[0])
    return score, by_score(score), None


@dataclass(frozen=True)
class Attributions:
    """Per-sequence attributions of one replicate (``node_attributions``).

    Attributes
    ----------
    values : ndarray, shape (concepts, sequences, nodes)
        Each node's attribution (h and, for an LSTM, c added).
    margin : ndarray, shape (concepts, sequences)
        F at the recorded state.
    baseline : ndarray, shape (concepts, sequences)
        F with the state zeroed (integrated gradients only; else NaN).
    delta : ndarray, shape (concepts, sequences)
        Completeness error Σ values − (margin − baseline), captum's convergence delta
        (integrated gradients only; else NaN).
    weight : ndarray, shape (concepts, sequences)
        The weights of a ranking's average over sequences (each value of the concept half).
    """

    values: np.ndarray
    margin: np.ndarray
    baseline: np.ndarray
    delta: np.ndarray
    weight: np.ndarray


def node_attributions(model: Stacked, sets: Sets, replicate: int, method: str = "integrated_gradients",
                      step: int | None = None, ig_steps: int = IG_STEPS, probe: str = "fit") -> Attributions:
    """captum's attributions of one replicate's concept margins to its state at the knockout step.

    F is the concept's signed margin at the answer (``irn.attribution.data.margins``), a function
    of the state of every layer (h, and c for an LSTM) after the knockout step, run to the answer by
    torch's own modules of the replicate (``Stacked.to_torch``).

    Parameters
    ----------
    model : Stacked
    sets : Sets
    replicate : int
    method : {"saliency", "grad_x_act", "integrated_gradients"}
    step : int, optional
        As in ``rank`` (default ``sets.step``).
    ig_steps : int
        Integrated gradients' quadrature points.
    probe : {"fit", "held_out"}
        The sequences to attribute (each distinct sequence once, in order of first appearance).

    Returns
    -------
    Attributions
    """
    check_model(model)
    if not isinstance(sets, Sets):
        raise ValueError(f"sets must be an irn.attribution.Sets (from attribution.sets), got {type(sets).__name__}")
    params.require(replicate, "replicate", params.integer(0, model.replicates - 1))
    params.require(method, "method", params.one_of(GRADIENTS))
    params.require(probe, "probe", params.one_of(("fit", "held_out")))
    params.require(ig_steps, "ig_steps", params.integer(2, 4096))
    data = sets.fit if probe == "fit" else sets.held_out
    step = sets.step if step is None else params.require(step, "step", params.integer(0, int(data.answer_step.min())))
    rows = distinct_rows(data, sets.at(data, step))
    return _attribute(Replay(model, replicate), rows, len(sets.concepts), method, ig_steps)


def _attribute(rp: Replay, rows: Rows, concepts: int, method: str, ig_steps: int) -> Attributions:
    from captum.attr import InputXGradient, IntegratedGradients, Saliency

    n_rows = len(rows.at)
    values = np.zeros((concepts, n_rows, rp.layers * rp.hidden))
    margin, baseline, delta = (np.full((concepts, n_rows), np.nan) for _ in range(3))
    bits_all = torch.as_tensor(rows.bits, dtype=torch.float32)

    def each(*args):  # F of every row: the margin of its concept (``which``) at the answer
        *state, later, bits, which = args
        h = state[0].reshape(len(later), rp.layers, rp.hidden).transpose(0, 1).contiguous()
        c = state[1].reshape(len(later), rp.layers, rp.hidden).transpose(0, 1).contiguous() if rp.lstm else None
        return margins(rp.answer_from(h, c, later), bits, rows.decision, concepts).gather(1, which[:, None])[:, 0]

    def total(*args):
        # the rows are independent, so the gradient of their sum is every row's own gradient: one
        # backward pass instead of captum's one per output (torch.unbind over the batch)
        return each(*args).sum()[None]

    for g in groups(rows.at, rows.answer):
        x = rows.inputs[g.rows]
        h, c = rp.state_after(x, g.at + 1)
        later = torch.stack([x[i, a + 1:a + g.length] for i, a in enumerate(g.at)])
        flat = [s.transpose(0, 1).reshape(len(g.rows), -1) for s in ((h, c) if rp.lstm else (h,))]
        inputs = tuple(s.repeat(concepts, 1).requires_grad_() for s in flat)  # concept-major: concept k, sequence b
        which = torch.arange(concepts).repeat_interleave(len(g.rows))
        extra = (later.repeat(concepts, 1, 1), bits_all[g.rows].repeat(concepts, 1), which)
        if method == "saliency":
            out = Saliency(total).attribute(inputs, abs=True, additional_forward_args=extra)
        elif method == "grad_x_act":
            out = InputXGradient(total).attribute(inputs, additional_forward_args=extra)
        else:
            per_pass = max(1, min(ig_steps, IG_ROWS // len(which)))
            out = IntegratedGradients(total).attribute(
                inputs, baselines=tuple(torch.zeros_like(s) for s in inputs), additional_forward_args=extra,
                n_steps=ig_steps, internal_batch_size=len(which) * per_pass)
        out = out if isinstance(out, tuple) else (out,)
        got = sum(o.detach().numpy().astype(np.float64) for o in out)  # h and c of a node added
        values[:, g.rows] = got.reshape(concepts, len(g.rows), -1)
        with torch.no_grad():
            margin[:, g.rows] = each(*inputs, *extra).numpy().reshape(concepts, -1)
            if method == "integrated_gradients":  # completeness: Σ attributions = F(h) − F(0)
                zero = each(*(torch.zeros_like(s) for s in inputs), *extra).numpy().reshape(concepts, -1)
                baseline[:, g.rows] = zero
                delta[:, g.rows] = values[:, g.rows].sum(-1) - (margin[:, g.rows] - zero)
    return Attributions(values, margin, baseline, delta, balanced_weights(rows))


def _gradient(method, *, model, rows, ig_steps, concepts, **_):
    score = np.zeros((model.replicates, concepts, model.nodes))
    deltas = []
    for r in range(model.replicates):
        got = _attribute(Replay(model, r), rows, concepts, method, ig_steps)
        score[r] = np.einsum("kb,kbn->kn", got.weight, got.values)
        if method == "integrated_gradients":
            deltas.append(pd.DataFrame({"replicate": r, "concept": np.arange(concepts),
                                        "delta": np.nanmax(np.abs(got.delta), axis=1)}))
    extra = pd.concat(deltas, ignore_index=True) if deltas else None
    return score, by_score(score), extra


def _saliency(**kw):
    return _gradient("saliency", **kw)


def _grad_x_act(**kw):
    return _gradient("grad_x_act", **kw)


def _integrated_gradients(**kw):
    return _gradient("integrated_gradients", **kw)


class Knockouts:
    """Knockout accuracies of one replicate on fixed sequences, many node sets per pass.

    The steps before each sequence's knockout step run once, when the object is built (``Replay``);
    ``evaluate`` runs only the steps from there to the answer, per node set.

    Parameters
    ----------
    model : Stacked
        The networks (no leak rate).
    replicate : int
        The replicate knocked out.
    rows : irn.attribution.data.Rows
        The distinct sequences, with their weights, answer and knockout steps.
    concepts : int
        The concepts scored (the first outputs).
    span : {"step", "onward"}
        Zero the nodes once at the knockout step, or at every step from it on (as ``irn.knockout``).
    state : {"both", "h", "c"}
        For an LSTM, which state is zeroed.
    """

    def __init__(self, model: Stacked, replicate: int, rows: Rows, concepts: int, span: str, state: str):
        self.replay, self.rows, self.concepts = Replay(model, replicate), rows, concepts
        self.span, self.state = span, state
        self.parts = []
        for g in groups(rows.at, rows.answer):
            x = rows.inputs[g.rows]
            h, c = self.replay.state_after(x, g.at)
            rest = torch.stack([x[i, a:a + g.length] for i, a in enumerate(g.at)])
            self.parts.append((g.rows, h, c, rest))
        self.n_outputs = model.n_outputs

    def evaluate(self, keep: torch.Tensor):
        """Concept accuracy and margin with each node set knocked out.

        Parameters
        ----------
        keep : Tensor, shape (sets, nodes)
            0 = knocked out, 1 = kept; repeated node sets run once.

        Returns
        -------
        accuracy, margin : ndarray, shape (sets, concepts)
            As ``irn.attribution.data.concept_scores``, with the nodes knocked out at each row's
            step as ``irn.knockout`` does.
        """
        unique, inverse = torch.unique(keep, dim=0, return_inverse=True)  # each distinct node set once
        out = torch.empty(unique.shape[0], len(self.rows.at), self.n_outputs)
        for where, h, c, rest in self.parts:
            out[:, where] = self.replay.knocked(h, c, rest, unique, self.span, self.state)
        accuracy, margin = concept_scores(out, self.rows, self.concepts)
        return accuracy[inverse.numpy()], margin[inverse.numpy()]


def _ablation(*, model, rows, concepts, oracle_size, shortlist, span, state, oracle_sequences, seed, **_):
    if len(rows.at) > oracle_sequences:  # a seeded subset of the distinct sequences, weights kept
        keep = np.sort(np.random.default_rng([seed, 11]).choice(len(rows.at), oracle_sequences, replace=False))
        rows = Rows(rows.inputs[keep], rows.bits[keep], rows.answer[keep], rows.at[keep], rows.weight[keep],
                    np.arange(keep.size), rows.decision)
    n = model.nodes
    score = np.zeros((model.replicates, concepts, n))
    order = np.zeros((model.replicates, concepts, n), dtype=np.int64)
    for r in range(model.replicates):
        ko = Knockouts(model, r, rows, concepts, span, state)
        base_acc, base_margin = (v[0] for v in ko.evaluate(torch.ones(1, n)))
        acc, margin = ko.evaluate(1 - torch.eye(n))  # round 1: every single node, shared by all concepts
        drop = base_acc[None] - acc  # (N, K)
        single = [_best_first(drop[:, k], base_margin[k] - margin[:, k], np.arange(n)) for k in range(concepts)]
        chosen = [[int(single[k][0])] for k in range(concepts)]
        gains = [[float(drop[single[k][0], k])] for k in range(concepts)]
        cost = [dict(enumerate(drop[:, k].tolist())) for k in range(concepts)]  # cost in the last round run
        runners = [[int(j) for j in single[k][1:]] for k in range(concepts)]  # that round's others, best first
        shortlists = [[int(j) for j in single[k][:shortlist]] for k in range(concepts)]
        while len(chosen[0]) < oracle_size:  # one pass per round for every concept's candidates
            pools = [np.array([j for j in shortlists[k] if j not in chosen[k]], dtype=np.int64)
                     for k in range(concepts)]
            if any(p.size == 0 for p in pools):
                break
            keep = torch.ones(sum(p.size for p in pools), n)
            offset = 0
            for k, pool in enumerate(pools):
                block = slice(offset, offset + pool.size)
                keep[block, chosen[k]] = 0
                keep[np.arange(block.start, block.stop), pool] = 0
                offset = block.stop
            a, m = ko.evaluate(keep)
            offset = 0
            for k, pool in enumerate(pools):
                block = slice(offset, offset + pool.size)
                offset = block.stop
                d = base_acc[k] - a[block, k]
                best = _best_first(d, base_margin[k] - m[block, k], pool)
                chosen[k].append(int(pool[best[0]]))
                gains[k].append(float(d[best[0]]))
                cost[k].update(zip(pool.tolist(), d.tolist()))
                runners[k] = [int(j) for j in pool[best[1:]]]
        for k in range(concepts):
            tail = runners[k] + [int(j) for j in single[k] if j not in chosen[k] and j not in runners[k]]
            order[r, k] = chosen[k] + tail
            score[r, k, chosen[k]] = gains[k]
            score[r, k, tail] = [cost[k][j] for j in tail]
    return score, order, None


def _best_first(drop: np.ndarray, loss: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Indices into ``nodes`` by accuracy drop, then margin loss (both rounded), then lower node."""
    return np.lexsort((nodes, -np.round(loss, DECIMALS), -np.round(drop, DECIMALS)))


def _random(*, model, seed, step, concepts, **_):
    rng = np.random.default_rng([seed, step])
    score = rng.random((model.replicates, concepts, model.nodes))
    return score, by_score(score), None


_METHOD = {"relay": _relay, "relay_random_ties": _relay_random_ties, "mutual_information": _mutual_information,
           "variance": _variance, "mean_abs": _mean_abs, "readout": _readout, "probe": _probe, "saliency": _saliency,
           "grad_x_act": _grad_x_act, "integrated_gradients": _integrated_gradients, "ablation": _ablation,
           "random": _random}
