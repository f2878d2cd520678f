"""The network as a map: one step x ↦ F(x, u) of a ``Stacked`` network's recurrent layer, its
Jacobians, runs of it with and without input, and the states a network visits.

The state x is h for RNN and GRU and [h, c] (2H dimensions) for LSTM; every function takes all
replicates at once, as (replicates, points, D) tensors, in float64 unless told otherwise. Only
one-layer networks are analysed (``layers > 1`` is refused with one clear error).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from irn import params
from irn.models import Stacked

#: An input-free run stops early for a point once no coordinate moves more than this in a step.
SETTLED = 1e-10
#: Settling is checked every this many steps.
SETTLE_EVERY = 10


# -- the model and its states ---------------------------------------------------------------------
def _check_model(model) -> Stacked:
    """``model`` if it is a one-layer ``irn.models.Stacked``; one ValueError naming it otherwise."""
    if not isinstance(model, Stacked):
        raise ValueError(f"model must be an irn.models.Stacked, got {type(model).__name__}")
    if model.layers != 1:
        raise ValueError(f"model must have one recurrent layer for irn.attractors, got layers={model.layers}")
    return model


def state_size(model: Stacked) -> int:
    """Dimension D of the state x.

    Parameters
    ----------
    model : irn.models.Stacked
        A one-layer network.

    Returns
    -------
    int
        H for RNN and GRU, 2H for LSTM (x = [h, c]).
    """
    _check_model(model)
    return 2 * model.hidden if model.arch == "lstm" else model.hidden


def state_names(model: Stacked) -> list[str]:
    """Column names of a state in this package's frames.

    Parameters
    ----------
    model : irn.models.Stacked

    Returns
    -------
    list of str
        h0 … h{H−1}, then c0 … c{H−1} for LSTM.
    """
    names = [f"h{j}" for j in range(model.hidden)]
    return names + [f"c{j}" for j in range(model.hidden)] if model.arch == "lstm" else names


def _as_states(model: Stacked, x, name: str, dtype=torch.float64) -> torch.Tensor:
    """States ``x`` of shape (R, N, D), or (N, D) shared by all replicates, as an (R, N, D) tensor;
    one ValueError naming ``name`` for any other shape, NaN or inf."""
    d = state_size(model)
    dims = "[h, c]" if model.arch == "lstm" else "h"
    x = params.array(x, name, ndim=(2, 3))
    if x.shape[-1] != d or (x.ndim == 3 and x.shape[0] != model.replicates) or x.shape[-2] == 0:
        raise ValueError(f"{name} must have shape (points, {d}) or ({model.replicates}, points, {d}) with at least "
                         f"one point (state = {dims}), got {x.shape}")
    out = torch.from_numpy(np.array(x, dtype=np.float64)).to(dtype)
    return out[None].expand(model.replicates, -1, -1) if out.dim() == 2 else out


def _as_inputs(model: Stacked, u, points: int, name: str = "u", dtype=torch.float64) -> torch.Tensor | None:
    """An input for every replicate and point: ``u`` of shape (n_inputs,) (one constant input),
    (points, n_inputs) (shared by the replicates) or (R, points, n_inputs); None stays None (no
    input). Returns an (R, points, n_inputs) tensor."""
    if u is None:
        return None
    i, r = model.n_inputs, model.replicates
    a = params.array(u, name, ndim=(1, 2, 3))
    if a.shape != ((i,), (points, i), (r, points, i))[a.ndim - 1]:
        raise ValueError(f"{name} must have shape ({i},), ({points}, {i}) or ({r}, {points}, {i}), got {a.shape}")
    t = torch.from_numpy(np.array(a, dtype=np.float64)).to(dtype)
    return t.expand(r, points, i) if a.ndim < 3 else t


# -- one step -------------------------------------------------------------------------------------
class _Map:
    """F(x, u) of one model, its cell built once (for loops that call it many times): the model's
    own equations (``Stacked.cell`` / ``Stacked.step``), with its weights read as constants.

    ``m(x, u)`` → next state; ``m.jacobians(x, u)`` → (next, ∂F/∂x, ∂F/∂u). x: (R, N, D) tensor of
    the map's dtype; u: (R, N, I) tensor or None (input-free). No argument checks: the public
    functions check before they build a ``_Map``.
    """

    def __init__(self, model: Stacked, dtype=torch.float64):
        self.model, self.dtype = model, dtype
        with torch.no_grad():  # constant weights: gradients (``differentiable``) reach x only
            self.cell = model.cell(0, dtype)
        self._subsets: dict = {}

    def subset(self, replicates: list[int]) -> "_Map":
        """The map of some replicates only (for runs where the others are done), cached."""
        key = tuple(replicates)
        if key == tuple(range(self.model.replicates)):
            return self
        if key not in self._subsets:
            self._subsets[key] = _Map(self.model.select(list(key)), self.dtype)
        return self._subsets[key]

    def _input(self, x: torch.Tensor, u: torch.Tensor | None) -> torch.Tensor:
        return x.new_zeros(*x.shape[:2], self.model.n_inputs) if u is None else u

    def __call__(self, x: torch.Tensor, u: torch.Tensor | None = None) -> torch.Tensor:
        with torch.no_grad():
            return self.cell.step(x, self._input(x, u))

    def jacobians(self, x: torch.Tensor, u: torch.Tensor | None = None):
        with torch.no_grad():
            out = self.cell.step(x, self._input(x, u), jacobian=True)
        return out.next, out.dx, out.du

    def differentiable(self, x: torch.Tensor, u: torch.Tensor | None = None) -> torch.Tensor:
        """F(x, u) with autograd through x (for gradient descent on the speed)."""
        return self.cell.step(x, self._input(x, u))


@dataclass(frozen=True)
class StepMap:
    """F(x, u) and, when asked, its Jacobians.

    Attributes
    ----------
    next : torch.Tensor, shape (R, N, D)
        F(x, u).
    dx : torch.Tensor, shape (R, N, D, D), or None
        ∂F/∂x (row i: output coordinate i).
    du : torch.Tensor, shape (R, N, D, n_inputs), or None
        ∂F/∂u.
    """

    next: torch.Tensor
    dx: torch.Tensor | None
    du: torch.Tensor | None


def _dtype_of(x) -> torch.dtype:
    return torch.float32 if torch.is_tensor(x) and x.dtype == torch.float32 else torch.float64


def step_map(model: Stacked, x, u=None, jacobian: bool = False) -> StepMap:
    """F(x, u): one step of every replicate from states ``x`` with inputs ``u``.

    Parameters
    ----------
    model : irn.models.Stacked
        A one-layer network (R replicates).
    x : array or tensor, shape (R, N, D) or (N, D)
        States (D = H, or 2H for LSTM: [h, c]); (N, D) is shared by all replicates.
    u : array or tensor, shape (R, N, n_inputs), (N, n_inputs), (R, n_inputs), (n_inputs,) or None
        Inputs (None: input-free).
    jacobian : bool
        Also return ∂F/∂x and ∂F/∂u in closed form.

    Returns
    -------
    StepMap
        next (R, N, D) in x's float dtype (float64 unless x is a float32 tensor); dx (R, N, D, D) and
        du (R, N, D, n_inputs) when ``jacobian``, else None.
    """
    _check_model(model)
    params.require(jacobian, "jacobian", params.boolean())
    dtype = _dtype_of(x)
    x = _as_states(model, x, "x", dtype)
    u = _as_inputs(model, u, x.shape[1], "u", dtype)
    m = _Map(model, dtype)
    if not jacobian:
        return StepMap(m(x, u), None, None)
    return StepMap(*m.jacobians(x, u))


def speed(model: Stacked, x, u=None) -> np.ndarray:
    """The speed q(x) = ½‖F(x, u) − x‖²: zero at fixed points, small at slow points.

    Parameters
    ----------
    model : irn.models.Stacked
    x : array or tensor, shape (R, N, D) or (N, D)
        States.
    u : array or tensor shaped like an input of ``step_map``, or None
        The input (None: input-free).

    Returns
    -------
    numpy.ndarray, shape (R, N), float64
    """
    _check_model(model)
    x = _as_states(model, x, "x")
    u = _as_inputs(model, u, x.shape[1])
    return (0.5 * ((_Map(model)(x, u) - x) ** 2).sum(-1)).numpy()


# -- runs of the map --------------------------------------------------------------------------------
def _gather(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """x (R, N, ...) at per-replicate point indices (R, K) → (R, K, ...)."""
    shape = index.shape + x.shape[2:]
    flat = index.reshape(*index.shape, *([1] * (x.dim() - 2))).expand(shape)
    return torch.gather(x, 1, flat)


def _compact(active: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per replicate, the indices of its active points first: active (R, N) bool → index (R, K) and
    valid (R, K), K = the largest active count of any replicate (rows past a replicate's own count
    hold other, inactive points: not valid)."""
    count = active.sum(1)
    k = max(int(count.max()), 1)
    order = torch.argsort((~active).to(torch.int8), dim=1, stable=True)[:, :k]
    valid = torch.arange(k)[None] < count[:, None]
    return order, valid


def _settle(m: _Map, x: torch.Tensor, steps: int, u: torch.Tensor | None,
            capture: tuple[torch.Tensor, float] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Run x (R, N, D) ``steps`` steps under the constant input u (or none); every point stops once
    it moved at most ``SETTLED`` in a step (checked every ``SETTLE_EVERY`` steps), whatever the
    other points do. capture: (points (R, P, D), radius) — a point also stops once it is within
    ``radius`` of one of its replicate's points (a stable point it will converge to; pad unused rows
    far away). Points that stop leave the batch, and so do replicates with no point left. Returns
    the end states and a (R, N) bool: settled or captured."""
    r, n, d = x.shape
    out, done = x.clone(), torch.zeros(r, n, dtype=torch.bool)
    reps = torch.arange(r)  # the replicates still in the batch
    index = torch.arange(n)[None].expand(r, -1)  # (reps, K) their points' indices
    valid = torch.ones(r, n, dtype=torch.bool)
    cur, cu, cap, mm, t = x, u, None if capture is None else capture[0], m, 0
    while t < steps:
        k = min(SETTLE_EVERY, steps - t)
        for _ in range(k - 1):
            cur = mm(cur, cu)
        new = mm(cur, cu)
        t += k
        still = (new - cur).abs().amax(-1) <= SETTLED
        if cap is not None:
            still = still | (torch.cdist(new, cap).amin(-1) <= capture[1])
        cur = new
        rows = index[..., None].expand(-1, -1, d)
        out[reps] = out[reps].scatter(1, rows, torch.where(valid[..., None], cur, out[reps].gather(1, rows)))
        done[reps] = done[reps].scatter(1, index, torch.where(valid, still, done[reps].gather(1, index)))
        remaining = valid & ~still
        if not bool(remaining.any()):
            break
        if bool((valid & still).any()):  # drop the settled points, and replicates left with none
            keep = remaining.any(1)
            if not bool(keep.all()):
                reps, index, cur, remaining = reps[keep], index[keep], cur[keep], remaining[keep]
                cu = None if cu is None else cu[keep]
                cap = None if cap is None else cap[keep]
                mm = m.subset(reps.tolist())
            order, valid = _compact(remaining)
            index, cur = index.gather(1, order), _gather(cur, order)
            cu = None if cu is None else _gather(cu, order)
    return out, done


def iterate(model: Stacked, x, steps: int, u=None, settle: bool = False, constant=None) -> torch.Tensor:
    """Run the map ``steps`` times from states ``x``.

    Parameters
    ----------
    model : irn.models.Stacked
    x : array or tensor, shape (R, N, D) or (N, D)
        Start states.
    steps : int
        Steps to run (at least 1).
    u : sequence of arrays or tensors, each shaped like an input of ``step_map``, or None
        One input per step; when shorter than ``steps``, the run continues with ``constant``.
    settle : bool
        After the inputs of ``u``, stop a point early once no coordinate moves more than ``SETTLED``
        in a step (checked every ``SETTLE_EVERY`` steps, point by point).
    constant : array or tensor shaped like an input of ``step_map``, or None
        The input held after ``u`` (None: input-free).

    Returns
    -------
    torch.Tensor, shape (R, N, D), float64
    """
    _check_model(model)
    params.check_count(steps, "steps", 1)
    params.require(settle, "settle", params.boolean())
    x = _as_states(model, x, "x")
    inputs = [] if u is None else [_as_inputs(model, v, x.shape[1], "u") for v in params.require(
        u, "u", params.sequence())]
    held = _as_inputs(model, constant, x.shape[1], "constant")
    return _run(_Map(model), x, steps, inputs, held, settle)


def _run(m: _Map, x: torch.Tensor, steps: int, inputs: list, held, settle: bool) -> torch.Tensor:
    for t in range(min(steps, len(inputs))):
        x = m(x, inputs[t])
    rest = steps - min(steps, len(inputs))
    if rest <= 0:
        return x
    if settle:
        return _settle(m, x, rest, held)[0]
    for _ in range(rest):
        x = m(x, held)
    return x


# -- the states a network visits --------------------------------------------------------------------
def _check_inputs(model: Stacked, inputs, name: str = "inputs") -> torch.Tensor:
    """Task inputs (batch, steps, n_inputs) as a float32 tensor; one ValueError otherwise."""
    a = params.array(inputs, name, ndim=3)
    if a.shape[-1] != model.n_inputs or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"{name} must have shape (batch, steps, {model.n_inputs}), got {a.shape}")
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


def trajectory_states(model: Stacked, inputs) -> tuple[torch.Tensor, np.ndarray]:
    """Every state a model visits on ``inputs``, and which were input-free.

    Parameters
    ----------
    model : irn.models.Stacked
    inputs : array or tensor, shape (batch, steps, n_inputs)

    Returns
    -------
    states : torch.Tensor, shape (R, batch·steps, D), float32
        h (or [h, c] for LSTM) after each step.
    free : numpy.ndarray, shape (batch·steps,), bool
        True where that step's input was all zero.
    """
    _check_model(model)
    inputs = _check_inputs(model, inputs)
    with torch.no_grad():
        trace = model(inputs)
    x = trace.hidden if trace.cell is None else torch.cat([trace.hidden, trace.cell], -1)
    x = x.reshape(model.replicates, -1, x.shape[-1])
    free = (inputs == 0).all(-1).reshape(-1).numpy()
    return x, free


def sample_states(model: Stacked, inputs, n: int = 256, jitter: float = 0.05, seed: int = 0) -> np.ndarray:
    """Seeds for ``fixed_points``: states the model visits at input-free steps, jittered.

    Parameters
    ----------
    model : irn.models.Stacked
    inputs : array or tensor, shape (batch, steps, n_inputs)
        Task inputs with some all-zero steps.
    n : int
        States per replicate.
    jitter : float
        Standard deviation of the Gaussian jitter, in state units (≥ 0).
    seed : int
        Random seed of the draw and the jitter.

    Returns
    -------
    numpy.ndarray, shape (R, n, D), float64
    """
    _check_model(model)
    params.check_count(n, "n", 1)
    params.require(jitter, "jitter", params.number(0))
    params.require(seed, "seed", params.SEED)
    x, free = trajectory_states(model, inputs)
    if not free.any():
        raise ValueError("inputs must contain input-free (all-zero) steps to seed from")
    x = x[:, torch.from_numpy(np.flatnonzero(free))].double().numpy()
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, x.shape[1], size=(model.replicates, n))
    out = np.take_along_axis(x, pick[..., None], axis=1)
    return out + rng.normal(0.0, jitter, size=out.shape)


__all__ = ["SETTLED", "SETTLE_EVERY", "StepMap", "iterate", "sample_states", "speed", "state_names", "state_size", "step_map", "trajectory_states"]
