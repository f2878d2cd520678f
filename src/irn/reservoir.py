"""Echo state networks: a fixed random reservoir of leaky tanh units, only the readout trained
(H. Jaeger 2001; M. Lukoševičius, "A practical guide to applying echo state networks", 2012; the
network class that A. Ceni, P. Ashwin and L. Livi study in "Interpreting recurrent neural networks
behaviour via excitable network attractors", Cognitive Computation 2020; DESIGN §17).

The reservoir of R replicates is an ``irn.models.Stacked`` RNN with a leak rate α, so every irn
analysis (attractors, relay, knockout, …) applies to it unchanged::

    x[t] = (1 − α) x[t−1] + α tanh(W x[t−1] + W_in u[t] + W_fb y[t−1] + b),   y[t] = W_out x[t] + b_out

* ``W`` (``weight_hh``): sparse, a share ``density`` of its entries drawn uniform in [−1, 1], then
  scaled so that its spectral radius is exactly ``spectral_radius`` (ρ).
* ``W_in`` (``weight_ih``): dense uniform in [−``input_scaling``, ``input_scaling``]; ``b``
  (``bias_ih``): uniform in [−``bias_scaling``, ``bias_scaling``]; ``bias_hh`` is zero.
* ``W_fb``: optional output feedback, uniform in [−``feedback_scaling``, ``feedback_scaling``]
  (0 = none). While the readout is fitted, the target of the previous step is fed back (teacher
  forcing; 0 before the first step); afterwards the network feeds back its own output (before the
  first step, that of the zero state: b_out). The readout is linear, so feeding it
  back is exactly ``W + W_fb W_out`` as recurrent weights and ``b + W_fb b_out`` as bias: the
  trained echo state network *is* a ``Stacked`` RNN, and its dynamics are those of the closed loop.
* ``W_out``, ``b_out`` (``readout_weight``, ``readout_bias``): ridge regression of the targets on
  the collected states (scikit-learn's ``Ridge``, which minimises ‖Y − X W_outᵀ − b_out‖² +
  ``ridge`` ‖W_out‖²), in float64, after ``washout`` steps. The readout is linear (the ESN
  convention; the flip-flop is scored by the sign of the output, and only a linear readout folds
  into the recurrent weights).

Each replicate draws its weights from ``numpy.random.default_rng([seed, replicate])``, so a
replicate does not depend on how many others are drawn with it.

The flip-flop. A reservoir with the echo state property forgets its past: without feedback its
input-free dynamics contract to one state, so it holds a bit only as long as its slowest mode
lasts; with output feedback the trained loop can have one stable state per held pattern — the
excitable network attractors Ceni et al. analyse. ``train_flipflop`` trains replicates on
``irn.tasks.flipflop_stream``; ``flipflop_search`` scores a grid of settings on a validation stream
and on ``hold_accuracy`` (does each pattern survive ``HOLD_STEPS`` input-free steps?), with fixed
seeds; ``FLIPFLOP`` is the best cell of ``FLIPFLOP_GRID`` by that search (a test checks it). The
source's own settings are not used: its full text was reachable only up to its introduction, which
names echo state networks (a fixed random reservoir, a trained read-out) as the network class but
not the reservoir size, ρ, leak, input scaling, ridge or whether the flip-flop network fed its
output back. The search's answer is this library's: output feedback, and a small ρ (0.1; the
held patterns live in the feedback loop, not in the reservoir's own memory).

Written here rather than taken from reservoirpy (MIT, the ecosystem's ESN library, whose
``Reservoir``/``Ridge`` nodes follow the same update and conventions) because irn needs the
network as a ``Stacked`` model, which reservoirpy's nodes are not; scikit-learn (already a core
dependency) fits the readout.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import Ridge

from irn import params, tasks
from irn.models import LEAK, Stacked
from irn.train import evaluate_flipflop

POSITIVE = params.number(0, closed=False)
CONFIG = params.rule(lambda v: isinstance(v, EchoStateConfig), "an irn.reservoir.EchoStateConfig")
RESERVOIR = params.rule(lambda v: isinstance(v, Stacked) and v.arch == "rnn" and v.layers == 1,
                        "a one-layer irn.models.Stacked RNN (an echo state network)")
SHARE = params.rule(lambda v: params.number(0, 1).ok(v) and v > 0, "a number in (0, 1]")
NON_NEGATIVE = params.number(0)


@dataclass(frozen=True)
class EchoStateConfig:
    """Everything that determines an echo state network's weights and its readout fit.

    Attributes
    ----------
    hidden : int
        Reservoir units H.
    spectral_radius : float
        ρ > 0: the largest |eigenvalue| of the reservoir matrix W.
    density : float
        Share of nonzero entries of W, in (0, 1].
    input_scaling : float
        W_in is uniform in [−input_scaling, input_scaling] (> 0).
    bias_scaling : float
        b is uniform in [−bias_scaling, bias_scaling] (≥ 0; 0 = no bias).
    feedback_scaling : float
        Output feedback W_fb uniform in [−feedback_scaling, feedback_scaling] (≥ 0; 0 = none).
    teacher_noise : float
        Standard deviation of Gaussian noise added to the targets fed back while the readout is
        fitted (≥ 0; used with feedback only): the closed loop learns to recover from its own errors.
    leak : float
        Leak rate α in (0, 1] (1 = no leak).
    ridge : float
        Ridge penalty of the readout fit (> 0).
    washout : int
        Steps of every sequence left out of the fit (≥ 0): the reservoir forgets its start.
    seed : int
        Seed of the random weights (≥ 0).
    """

    hidden: int = 100
    spectral_radius: float = 0.9
    density: float = 0.1
    input_scaling: float = 1.0
    bias_scaling: float = 0.0
    feedback_scaling: float = 0.0
    teacher_noise: float = 0.0
    leak: float = 1.0
    ridge: float = 1e-6
    washout: int = 20
    seed: int = 0

    def __post_init__(self):
        for name, rule in (("hidden", params.integer(low=1)), ("spectral_radius", POSITIVE), ("density", SHARE),
                           ("input_scaling", POSITIVE), ("bias_scaling", NON_NEGATIVE),
                           ("feedback_scaling", NON_NEGATIVE), ("teacher_noise", NON_NEGATIVE), ("leak", LEAK), ("ridge", POSITIVE),
                           ("washout", params.integer(low=0)), ("seed", params.SEED)):
            params.require(getattr(self, name), name, rule)


@dataclass(frozen=True)
class ReservoirWeights:
    """The random weights of R reservoirs, in float64 (before the model stores them in float32).

    recurrent : ndarray, shape (replicates, hidden, hidden) — W, spectral radius ρ
    inputs : ndarray, shape (replicates, hidden, n_inputs) — W_in
    bias : ndarray, shape (replicates, hidden) — b
    feedback : ndarray, shape (replicates, hidden, n_outputs) — W_fb (zeros without feedback)
    """

    recurrent: np.ndarray
    inputs: np.ndarray
    bias: np.ndarray
    feedback: np.ndarray


def _check_config(config) -> EchoStateConfig:
    return params.require(config, "config", CONFIG)


def reservoir_weights(config: EchoStateConfig, n_inputs: int, n_outputs: int = 3,
                      replicates: int = 1) -> ReservoirWeights:
    """Draw the reservoir, input, bias and feedback weights of ``replicates`` echo state networks.

    Parameters
    ----------
    config : EchoStateConfig
    n_inputs, n_outputs, replicates : int
        Input channels I, readout units K (the fed-back outputs) and replicates R, each ≥ 1.

    Returns
    -------
    ReservoirWeights with recurrent (R, H, H), inputs (R, H, I), bias (R, H), feedback (R, H, K).
    """
    _check_config(config)
    for name, value in (("n_inputs", n_inputs), ("n_outputs", n_outputs), ("replicates", replicates)):
        params.require(value, name, params.integer(low=1))
    h = config.hidden
    out = {k: [] for k in ("recurrent", "inputs", "bias", "feedback")}
    for r in range(replicates):
        rng = np.random.default_rng([config.seed, r])
        w = np.where(rng.random((h, h)) < config.density, rng.uniform(-1.0, 1.0, (h, h)), 0.0)
        radius = np.abs(np.linalg.eigvals(w)).max()
        if radius < 1e-12:
            raise ValueError(f"density {config.density} leaves the {h}-unit reservoir of replicate {r} with "
                             "spectral radius 0 (no cycle to scale); raise density or hidden")
        out["recurrent"].append(w * (config.spectral_radius / radius))
        out["inputs"].append(rng.uniform(-1.0, 1.0, (h, n_inputs)) * config.input_scaling)
        out["bias"].append(rng.uniform(-1.0, 1.0, h) * config.bias_scaling)
        out["feedback"].append(rng.uniform(-1.0, 1.0, (h, n_outputs)) * config.feedback_scaling)
    return ReservoirWeights(**{k: np.stack(v) for k, v in out.items()})


def echo_state_network(config: EchoStateConfig, n_inputs: int, n_outputs: int = 3,
                       replicates: int = 1) -> Stacked:
    """R untrained echo state networks as one ``Stacked`` (arch "rnn", tanh, leak α, linear readout).

    The reservoir weights are those of ``reservoir_weights`` (stored in float32); the readout is zero
    until ``fit_readout`` fits it. Output feedback (``config.feedback_scaling`` > 0) is not part of
    this open-loop model: ``fit_readout(..., feedback=reservoir_weights(...).feedback)`` uses it for
    teacher forcing and folds it into the returned model.

    Parameters
    ----------
    config : EchoStateConfig
    n_inputs, n_outputs, replicates : int
        Input channels I, readout units K, replicates R.

    Returns
    -------
    Stacked with weight_hh (R, H, H) = W, weight_ih (R, H, I) = W_in, bias_ih (R, H) = b,
    bias_hh = 0, readout_weight (R, K, H) = 0, readout_bias (R, K) = 0.
    """
    weights = reservoir_weights(config, n_inputs, n_outputs, replicates)
    model = Stacked("rnn", replicates, n_inputs, config.hidden, n_outputs=n_outputs, readout="linear",
                    leak=config.leak)
    with torch.no_grad():
        model.weight_hh.copy_(torch.from_numpy(weights.recurrent))
        model.weight_ih.copy_(torch.from_numpy(weights.inputs))
        model.bias_ih.copy_(torch.from_numpy(weights.bias))
        for p in (model.bias_hh, model.readout_weight, model.readout_bias):
            p.zero_()
    return model


@dataclass(frozen=True)
class Readout:
    """A fitted readout and the network it completes.

    model : Stacked
        A copy of the reservoir with the readout set (and any output feedback folded into
        weight_hh and bias_ih): the trained echo state networks.
    weight : ndarray, shape (replicates, n_outputs, hidden)
        W_out in float64 (the model holds it rounded to float32).
    bias : ndarray, shape (replicates, n_outputs)
        b_out in float64.
    samples : int
        Rows of the fit per replicate (steps after the washout that the mask kept).
    train_mse : ndarray, shape (replicates,)
        Mean squared error of the fit on those rows (teacher-forced states).
    """

    model: Stacked
    weight: np.ndarray
    bias: np.ndarray
    samples: int
    train_mse: np.ndarray


def collect_states(model: Stacked, inputs, feedback=None, teacher=None) -> np.ndarray:
    """The states of every replicate of a one-layer RNN ``model`` on ``inputs``, in float64.

    With ``feedback`` (replicates, hidden, K) the ``teacher`` (batch, steps, K) of the previous step
    is fed back through it (teacher forcing: y[t−1] = teacher[:, t−1], 0 at t = 0).

    Returns
    -------
    ndarray, shape (replicates, batch, steps, hidden)
    """
    params.require(model, "model", RESERVOIR)
    x = params.array(inputs, "inputs", ndim=3, shape=(None, None, model.n_inputs), min_samples=1)
    if feedback is not None:
        fb = params.array(feedback, "feedback", shape=(model.replicates, model.hidden, None))
        y = params.array(teacher, "teacher", shape=(x.shape[0], x.shape[1], fb.shape[-1]))
        x = np.concatenate([x, np.pad(y, ((0, 0), (1, 0), (0, 0)))[:, :-1]], axis=-1)
    states = []
    for r in range(model.replicates):
        one = Stacked("rnn", 1, x.shape[-1], model.hidden, nonlinearity=model.nonlinearity, leak=model.leak,
                      readout="linear", n_outputs=1).double()
        with torch.no_grad():
            w_ih = model.weight_ih[r].double()
            if feedback is not None:
                w_ih = torch.cat([w_ih, torch.from_numpy(fb[r])], -1)
            one.weight_ih.copy_(w_ih[None])
            for name in ("weight_hh", "bias_ih", "bias_hh"):
                getattr(one, name).copy_(getattr(model, name)[r:r + 1])
            states.append(one(torch.from_numpy(x)).hidden[0].numpy())
    return np.stack(states)


def fit_readout(model: Stacked, inputs, targets, *, ridge: float = 1e-6, washout: int = 0, mask=None,
                feedback=None, teacher=None) -> Readout:
    """Fit the linear readout of every replicate by ridge regression on its collected states.

    Parameters
    ----------
    model : Stacked
        One-layer RNN reservoirs (``echo_state_network``); its readout is ignored.
    inputs : array, shape (batch, steps, n_inputs)
    targets : array, shape (batch, steps, n_outputs)
        The output wanted at every step.
    ridge : float
        The penalty α of scikit-learn's ``Ridge`` (> 0).
    washout : int
        Leading steps of every sequence left out (≥ 0, fewer than steps).
    mask : bool array, shape (batch, steps), optional
        Rows to fit (default: all after the washout).
    feedback : array, shape (replicates, hidden, n_outputs), optional
        Output feedback weights W_fb: the states are collected with the targets fed back (teacher
        forcing) and the returned model feeds back its own output (folded into weight_hh, bias_ih).
    teacher : array, shape (batch, steps, n_outputs), optional
        What is fed back while fitting (default ``targets``; e.g. targets plus noise, which makes
        the closed loop robust to its own errors).

    Returns
    -------
    Readout (model, weight (R, K, H), bias (R, K), samples, train_mse (R,)).
    """
    params.require(model, "model", RESERVOIR)
    x = params.array(inputs, "inputs", ndim=3, shape=(None, None, model.n_inputs), min_samples=1)
    y = params.array(targets, "targets", ndim=3, shape=(x.shape[0], x.shape[1], model.n_outputs))
    params.require(ridge, "ridge", POSITIVE)
    params.require(washout, "washout", params.integer(0, x.shape[1] - 1))
    keep = np.ones(x.shape[:2], bool) if mask is None else \
        params.array(mask, "mask", shape=x.shape[:2], kind="binary").astype(bool)
    if feedback is not None:
        fb = params.array(feedback, "feedback", shape=(model.replicates, model.hidden, model.n_outputs))
        fed = y if teacher is None else params.array(teacher, "teacher", shape=y.shape)
    elif teacher is not None:
        raise ValueError("teacher needs feedback: it is what the feedback weights carry while fitting")
    keep[:, :washout] = False
    if keep.sum() < 2:
        raise ValueError(f"mask must keep at least 2 rows after the washout ({washout} steps), got {int(keep.sum())}")
    states = collect_states(model, x, None if feedback is None else fb, None if feedback is None else fed)
    rows = states[:, keep]  # (R, samples, H)
    weights, biases, mse = [], [], []
    for r in range(model.replicates):
        fit = Ridge(alpha=float(ridge), fit_intercept=True, solver="cholesky").fit(rows[r], y[keep])
        weights.append(fit.coef_)
        biases.append(fit.intercept_)
        mse.append(float(np.mean((fit.predict(rows[r]) - y[keep]) ** 2)))
    weight, bias = np.stack(weights), np.stack(biases)
    out = model.select(range(model.replicates))
    with torch.no_grad():
        out.readout_weight.copy_(torch.from_numpy(weight))
        out.readout_bias.copy_(torch.from_numpy(bias))
        if feedback is not None:  # y[t−1] = W_out x[t−1] + b_out fed back through W_fb
            out.weight_hh.copy_(model.weight_hh.double() + torch.from_numpy(fb @ weight))
            out.bias_ih.copy_(model.bias_ih.double() + torch.from_numpy(np.einsum("rhk,rk->rh", fb, bias)))
    return Readout(out, weight, bias, int(keep.sum()), np.array(mse))


# -- the flip-flop ------------------------------------------------------------------------------------
#: Streams the readout is fitted on, the search validates on, and (train.evaluate_flipflop's default)
#: the book evaluates on: three different seeds, so no setting is chosen or scored on its training data.
TRAIN_STREAM_SEED, VALIDATION_STREAM_SEED = 1, 2
#: Input-free steps a held pattern must survive to count in ``hold_accuracy``.
HOLD_STEPS = 1000


def hold_accuracy(model: Stacked, steps: int = HOLD_STEPS) -> np.ndarray:
    """Does each held pattern last? The share of the 2^K patterns × K outputs still right after
    ``steps`` input-free steps.

    Each pattern of signs is set by one pulse per channel (channel k at step k, with the pattern's
    sign), then the network runs ``steps`` steps without input; an output is right when its sign is
    the pattern's. A state held by a slow point rather than a stable fixed point drifts away within
    such a run; the task's own streams (pulses every ~20 steps) do not show it.

    Parameters
    ----------
    model : Stacked
        Flip-flop networks (K inputs, K outputs).
    steps : int

    Returns
    -------
    ndarray, shape (replicates,)
    """
    params.require(model, "model", params.rule(lambda m: isinstance(m, Stacked) and m.n_inputs == m.n_outputs,
                                               "an irn.models.Stacked with one output per input channel (a flip-flop)"))
    params.require(steps, "steps", params.integer(low=1))
    k = model.n_inputs
    patterns = np.array(list(itertools.product((-1.0, 1.0), repeat=k)))  # (2^K, K)
    x = np.zeros((len(patterns), k + steps, k), np.float32)
    for c in range(k):
        x[:, c, c] = patterns[:, c]
    with torch.no_grad():
        out = model(torch.from_numpy(x), record_steps=[k + steps - 1]).output[:, :, 0].numpy()
    return (np.sign(out) == patterns[None]).mean(axis=(1, 2))


@dataclass(frozen=True)
class EchoState:
    """Echo state networks trained on the flip-flop.

    model : Stacked
        The trained networks (with feedback, the closed loop).
    weights : ReservoirWeights
        Their random weights in float64.
    readout : Readout
        The ridge fit.
    config : EchoStateConfig
    accuracy : DataFrame
        One row per replicate: ``train.evaluate_flipflop`` on the validation stream (accuracy,
        held_accuracy, perfect) and hold (``hold_accuracy``).
    """

    model: Stacked
    weights: ReservoirWeights
    readout: Readout
    config: EchoStateConfig
    accuracy: pd.DataFrame


def train_flipflop(config: EchoStateConfig | None = None, replicates: int = 1, *, n: int = 20,
                   steps: int = 500, eval_n: int = 200, eval_steps: int = 100) -> EchoState:
    """Echo state networks for the 3-bit flip-flop: draw, fit the readout, score.

    The readout is fitted on ``n`` streams of ``steps`` steps (``tasks.flipflop_stream``, seed
    ``TRAIN_STREAM_SEED``), on the steps after ``config.washout`` where every channel has had a
    pulse (before a channel's first pulse the task has no target); with output feedback the targets
    are fed back while fitting, plus Gaussian noise of standard deviation ``config.teacher_noise``.
    Scored with ``train.evaluate_flipflop`` on ``eval_n`` streams of ``eval_steps`` steps of seed
    ``VALIDATION_STREAM_SEED`` and with ``hold_accuracy``.

    Parameters
    ----------
    config : EchoStateConfig, optional
        Default ``FLIPFLOP``.
    replicates : int
        Reservoirs R (replicate r draws from ``[config.seed, r]``).
    n, steps : int
        Training streams and their length (steps > config.washout).
    eval_n, eval_steps : int
        Validation streams and their length.

    Returns
    -------
    EchoState (model, weights, readout, config, accuracy).
    """
    config = FLIPFLOP if config is None else _check_config(config)
    for name, value, low in (("replicates", replicates, 1), ("n", n, 1), ("steps", steps, config.washout + 1),
                             ("eval_n", eval_n, 1), ("eval_steps", eval_steps, 1)):
        params.require(value, name, params.integer(low=low))
    k = len(tasks.CONCEPTS["flipflop"])
    weights = reservoir_weights(config, k, k, replicates)
    model = echo_state_network(config, k, k, replicates)
    stream = tasks.flipflop_stream(n, steps, seed=TRAIN_STREAM_SEED)
    targets = stream.targets.numpy()
    feedback, teacher = None, None
    if config.feedback_scaling > 0:
        feedback = weights.feedback
        noise = np.random.default_rng([config.seed, TRAIN_STREAM_SEED]).normal(size=targets.shape)
        teacher = targets + config.teacher_noise * noise
    readout = fit_readout(model, stream.inputs.numpy(), targets, ridge=config.ridge, washout=config.washout,
                          mask=(targets != 0).all(-1), feedback=feedback, teacher=teacher)
    accuracy = evaluate_flipflop(readout.model, n=eval_n, steps=eval_steps, seed=VALIDATION_STREAM_SEED)
    accuracy["hold"] = hold_accuracy(readout.model)
    return EchoState(readout.model, weights, readout, config, accuracy)


#: What ``flipflop_search`` varies by default (every other field as in ``FLIPFLOP_BASE``): the
#: spectral radius from a nearly feed-forward reservoir to beyond the usual 0.8–1.2, output feedback
#: off / moderate / strong, leaky and not, and the noise on the fed-back teacher (which only acts
#: with feedback).
FLIPFLOP_GRID = {"spectral_radius": (0.1, 0.5, 0.9, 1.2), "feedback_scaling": (0.0, 0.5, 1.0),
                 "leak": (0.5, 1.0), "teacher_noise": (0.1, 0.2)}
#: The fixed fields of the search: 100 units, density 0.1, input scaling 1, no bias, ridge 0.1,
#: washout 20, seed 0.
FLIPFLOP_BASE = EchoStateConfig(ridge=0.1)


def flipflop_search(grid: dict | None = None, base: EchoStateConfig | None = None, replicates: int = 5,
                    **train_kwargs) -> pd.DataFrame:
    """Score every setting of a grid on the flip-flop's validation stream (``train_flipflop``).

    Settings are ranked by ``hold`` (held patterns survive ``HOLD_STEPS`` input-free steps: a
    flip-flop holds its bits indefinitely), then by validation ``accuracy``, then by the ``worst``
    replicate's accuracy. All seeds are fixed: reservoirs ``[base.seed, r]``, training stream
    ``TRAIN_STREAM_SEED``, validation stream ``VALIDATION_STREAM_SEED``.

    Parameters
    ----------
    grid : dict, optional
        ``EchoStateConfig`` field → list of values (default ``FLIPFLOP_GRID``); every combination
        is scored.
    base : EchoStateConfig, optional
        The other fields (default ``FLIPFLOP_BASE``).
    replicates : int
        Reservoirs per setting.
    **train_kwargs
        Passed to ``train_flipflop`` (n, steps, eval_n, eval_steps).

    Returns
    -------
    DataFrame, one row per setting, best first: the grid's fields, hold, accuracy (means over
    replicates), worst (lowest replicate accuracy), held (mean held_accuracy), perfect (mean share of
    perfect streams).
    """
    grid = FLIPFLOP_GRID if grid is None else grid
    base = FLIPFLOP_BASE if base is None else _check_config(base)
    params.require(replicates, "replicates", params.integer(low=1))
    fields = [f.name for f in dataclasses.fields(EchoStateConfig)]
    params.require(grid, "grid", params.rule(
        lambda g: isinstance(g, dict) and g and all(k in fields for k in g)
        and all(params.sequence(min_length=1).ok(v) for v in g.values()),
        f"a dict of EchoStateConfig fields ({', '.join(fields)}) to non-empty lists of values"))
    configs = [dataclasses.replace(base, **dict(zip(grid, values))) for values in itertools.product(*grid.values())]
    rows = []
    for config in configs:
        acc = train_flipflop(config, replicates, **train_kwargs).accuracy
        rows.append({**{k: getattr(config, k) for k in grid}, "hold": acc.hold.mean(),
                     "accuracy": acc.accuracy.mean(), "worst": acc.accuracy.min(),
                     "held": acc.held_accuracy.mean(), "perfect": acc.perfect.mean()})
    return pd.DataFrame(rows).sort_values(["hold", "accuracy", "worst"], ascending=False, ignore_index=True)


#: The flip-flop setting: the best cell of ``flipflop_search()`` (FLIPFLOP_GRID on FLIPFLOP_BASE,
#: 5 replicates; tested in tests/test_reservoir.py).
FLIPFLOP = dataclasses.replace(FLIPFLOP_BASE, spectral_radius=0.1, feedback_scaling=0.5, leak=0.5, teacher_noise=0.2)
