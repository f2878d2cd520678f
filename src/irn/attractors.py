"""Excitable network attractors: fixed points, their stability, and the input pulses that move the
state between them (A. Ceni, P. Ashwin, L. Livi, "Interpreting recurrent neural networks behaviour
via excitable network attractors", arXiv 1807.10478; DESIGN §11).

A trained network's behaviour is read from its input-free dynamics ``x ↦ F(x, 0)``: its stable
fixed points are the states it can hold, and an *excitable connection* i → j exists when a pulse
on one input channel kicks the state from stable point i into the basin of stable point j. The
smallest amplitude that does so is the connection's *threshold*. The stable points and
connections together form the *excitable network*, compared with the automaton the task asks for
(``compare``).

The full text of the paper was not available; what is reconstructed here (DESIGN §11) is:

1. ``fixed_points``: candidate states recorded on the network's own trajectories at input-free
   steps (``sample_states``) plus jitter; q(x) = ½‖F(x, 0) − x‖² minimised for all candidates of
   all replicates at once (Adam, float32), then polished in float64 with Levenberg–Marquardt on
   F(x, 0) − x = 0 (cheap at 12–24 dimensions); points with q < ``fixed_tol`` are fixed points,
   points with q < ``slow_tol`` are kept as slow points; duplicates (closer than ``merge_tol``)
   are merged keeping the lowest q; stability from the eigenvalues of ∂F/∂x (stable iff every
   |λ| < 1; ``unstable_dims`` counts |λ| > 1), confirmed by iterating F forward from a perturbed
   point.
2. ``threshold``: from a stable point, a pulse ``sign · a`` on one channel for ``pulse_steps``
   steps, then input-free steps until the state settles; the threshold is the smallest a on a
   grid that lands away from the start, refined by bisection to ``tol``.
3. ``network`` scans every stable point × channel × sign; ``compare`` labels the stable points
   with the automaton's states (where the network's own trajectories through each state settle)
   and counts correct, missing and spurious edges and the margin (task amplitude / threshold).

The state x is h for RNN and GRU and [h, c] (2H dimensions) for LSTM. Only one-layer networks are
analysed (``layers > 1`` is refused). Everything runs on all replicates of an ``irn.models.Stacked``
at once. It is written here rather than taken from a library because the public fixed-point
finders (mattgolub/fixed-point-finder, computation-thru-dynamics) handle one network and one
point at a time, do not support the LSTM's (h, c) state in their PyTorch version, and compute no
excitable thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from irn import params
from irn.models import Stacked
from irn.optim import StackedAdam
from irn.params import check_count

KINDS = ("fixed", "slow")


# -- the map F(x, u) ------------------------------------------------------------------------------
def _check_model(model) -> Stacked:
    if not isinstance(model, Stacked):
        raise ValueError(f"model must be an irn.models.Stacked, got {type(model).__name__}")
    layers = getattr(model, "layers", 1)
    if layers != 1:
        raise ValueError(f"model must have one recurrent layer for irn.attractors, got layers={layers}")
    return model


def state_size(model: Stacked) -> int:
    """Dimension of the state x: H (RNN, GRU) or 2H (LSTM: [h, c])."""
    _check_model(model)
    return 2 * model.hidden if model.arch == "lstm" else model.hidden


def state_names(model: Stacked) -> list[str]:
    """Column names of a state in this module's frames: h0…h{H-1} (then c0…c{H-1} for LSTM)."""
    names = [f"h{j}" for j in range(model.hidden)]
    return names + [f"c{j}" for j in range(model.hidden)] if model.arch == "lstm" else names


def _as_states(model: Stacked, x, name: str, dtype=torch.float64) -> torch.Tensor:
    """x: (R, N, D), or (N, D) shared by all replicates → (R, N, D) tensor."""
    x = (x if torch.is_tensor(x) else torch.from_numpy(np.array(x, dtype=np.float64))).to(dtype)
    d = state_size(model)
    if x.dim() == 2:
        x = x[None].expand(model.replicates, -1, -1)
    if x.dim() != 3 or x.shape[0] != model.replicates or x.shape[-1] != d:
        raise ValueError(f"{name} must have shape (points, {d}) or ({model.replicates}, points, {d}) "
                         f"(state = {'[h, c]' if model.arch == 'lstm' else 'h'}), got {tuple(x.shape)}")
    return x


def step_map(model: Stacked, x, u=None, jacobian: bool = False):
    """F(x, u): one step of every replicate from states ``x`` with inputs ``u``.

    x: (replicates, points, D) or (points, D) shared; D = H, or 2H for LSTM ([h, c]).
    u: (replicates, points, n_inputs), (points, n_inputs) or None (input-free).
    Returns ``StepMap(next, dx, du)`` in x's float dtype (float64 unless x is float32):
    next (R, N, D); with ``jacobian=True`` also dx = ∂F/∂x (R, N, D, D) and du = ∂F/∂u
    (R, N, D, n_inputs) in closed form (``Stacked.step``: the model's own cell), else None.
    """
    _check_model(model)
    dtype = x.dtype if torch.is_tensor(x) and x.dtype in (torch.float32, torch.float64) else torch.float64
    x = _as_states(model, x, "x", dtype)
    if u is None:
        u = x.new_zeros(*x.shape[:2], model.n_inputs)
    else:
        u = (u if torch.is_tensor(u) else torch.from_numpy(np.array(u, dtype=np.float64))).to(dtype)
        if u.dim() == 2:
            u = u[None].expand(model.replicates, -1, -1)
        if u.shape != (*x.shape[:2], model.n_inputs):
            raise ValueError(f"u must have shape (points, {model.n_inputs}) or "
                             f"({model.replicates}, {x.shape[1]}, {model.n_inputs}), got {tuple(u.shape)}")
    if not isinstance(jacobian, bool):
        raise ValueError(f"jacobian must be True or False, got {jacobian!r}")
    with torch.no_grad():
        if not jacobian:
            return StepMap(model.step(x, u), None, None)
        cell = model.step(x, u, jacobian=True)
        return StepMap(cell.next, cell.dx, cell.du)


@dataclass(frozen=True)
class StepMap:
    """F(x, u) and, when asked, its Jacobians: next (R, N, D), dx (R, N, D, D), du (R, N, D, I)."""

    next: torch.Tensor
    dx: torch.Tensor | None
    du: torch.Tensor | None


def speed(model: Stacked, x) -> np.ndarray:
    """q(x) = ½‖F(x, 0) − x‖² for states x (R, N, D) or (N, D): (R, N) float64."""
    x = _as_states(model, x, "x")
    return (0.5 * ((step_map(model, x).next - x) ** 2).sum(-1)).numpy()


SETTLED = 1e-10  # an input-free run stops early once no coordinate moves more than this in a step


def iterate(model: Stacked, x, steps: int, u=None, settle: bool = False) -> torch.Tensor:
    """Run the map ``steps`` times: x (R, N, D); u: None (input-free) or a sequence of (R, N, I)
    inputs, one per step (shorter than ``steps``: input-free afterwards). settle: stop early once
    the inputs are over and no coordinate moves more than ``SETTLED`` in a step (checked every 10
    steps). Returns (R, N, D) float64."""
    _check_model(model)
    x = _as_states(model, x, "x")
    zero = x.new_zeros(*x.shape[:2], model.n_inputs)
    u = [] if u is None else list(u)
    with torch.no_grad():
        cell = model.cell(0, x.dtype)  # the model's step (Stacked.step), built once for the loop
        for t in range(steps):
            new = cell.step(x, u[t] if t < len(u) else zero)
            if settle and t >= len(u) and t % 10 == 0 and (new - x).abs().max() <= SETTLED:
                return new
            x = new
    return x


# -- seeds from the network's own trajectories ----------------------------------------------------
def trajectory_states(model: Stacked, inputs) -> tuple[torch.Tensor, np.ndarray]:
    """Every state a model visits on ``inputs`` (batch, steps, n_inputs), and which were input-free.

    Returns states (R, batch·steps, D) float32 (h, or [h, c] for LSTM, after each step) and a
    (batch·steps,) bool mask: True where that step's input was all zero.
    """
    _check_model(model)
    inputs = torch.as_tensor(inputs, dtype=torch.float32)
    if inputs.dim() != 3 or inputs.shape[-1] != model.n_inputs:
        raise ValueError(f"inputs must have shape (batch, steps, {model.n_inputs}), got {tuple(inputs.shape)}")
    with torch.no_grad():
        trace = model(inputs)
    x = trace.hidden if trace.cell is None else torch.cat([trace.hidden, trace.cell], -1)
    x = x.reshape(model.replicates, -1, x.shape[-1])
    free = (inputs == 0).all(-1).reshape(-1).numpy()
    return x, free


def sample_states(model: Stacked, inputs, n: int = 256, jitter: float = 0.05, seed: int = 0) -> np.ndarray:
    """Seeds for ``fixed_points``: ``n`` states per replicate drawn from the model's input-free
    steps on ``inputs`` (batch, steps, n_inputs), plus Gaussian jitter of standard deviation
    ``jitter`` (in state units). Returns (replicates, n, D) float64."""
    check_count(n, "n", 1)
    if not isinstance(jitter, (int, float)) or isinstance(jitter, bool) or not np.isfinite(jitter) or jitter < 0:
        raise ValueError(f"jitter must be a finite number >= 0, got {jitter!r}")
    check_count(seed, "seed", 0)
    x, free = trajectory_states(model, inputs)
    if not free.any():
        raise ValueError("inputs must contain input-free (all-zero) steps to seed from")
    x = x[:, torch.from_numpy(np.flatnonzero(free))].double().numpy()
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, x.shape[1], size=(model.replicates, n))
    out = np.take_along_axis(x, pick[..., None], axis=1)
    return out + rng.normal(0.0, jitter, size=out.shape)


def _check_positive(value, name: str) -> float:
    return float(params.require(value, name, params.number(0, closed=False)))


# -- fixed points ---------------------------------------------------------------------------------
def _adam(model: Stacked, x: torch.Tensor, steps: int, lr: float) -> torch.Tensor:
    """Minimise q for every point at once (float32). The loss is a sum of independent terms and
    Adam is element-wise, so each point follows the path it would follow alone."""
    x = x.float().clone().requires_grad_(True)
    zero = x.new_zeros(*x.shape[:2], model.n_inputs)
    with torch.no_grad():
        cell = model.cell(0, torch.float32)  # the model's step with constant weights: gradients reach x only
    opt = StackedAdam([x], lr=lr)  # torch.optim.Adam's rule, without importing torch's compiler
    for _ in range(steps):
        opt.zero_grad()
        q = 0.5 * ((cell.step(x, zero) - x) ** 2).sum()
        q.backward()
        opt.step()
    return x.detach().double()


def _polish(model: Stacked, x: torch.Tensor, iterations: int) -> torch.Tensor:
    """Levenberg–Marquardt on G(x) = F(x, 0) − x = 0 for every point at once (float64)."""
    d = x.shape[-1]
    eye = torch.eye(d, dtype=x.dtype)
    mu = torch.full(x.shape[:2], 1e-3, dtype=x.dtype)
    for _ in range(iterations):
        sm = step_map(model, x, jacobian=True)
        g = sm.next - x
        jg = sm.dx - eye
        q = 0.5 * (g ** 2).sum(-1)
        jt = jg.transpose(-1, -2)
        a = jt @ jg + mu[..., None, None] * eye
        dx = torch.linalg.solve(a, -(jt @ g[..., None]))[..., 0]
        trial = x + dx
        q_trial = 0.5 * ((step_map(model, trial).next - trial) ** 2).sum(-1)
        better = q_trial < q
        x = torch.where(better[..., None], trial, x)
        mu = torch.where(better, (mu / 10).clamp(min=1e-12), (mu * 10).clamp(max=1e8))
    return x


def fixed_points(model: Stacked, seeds=None, *, inputs=None, n_seeds: int = 256, jitter: float = 0.05,
                 adam_steps: int = 300, lr: float = 1e-2, polish_steps: int = 30,
                 fixed_tol: float = 1e-14, slow_tol: float = 1e-4, merge_tol: float = 1e-3,
                 confirm_steps: int = 500, seed: int = 0) -> pd.DataFrame:
    """Fixed and slow points of every replicate's input-free dynamics.

    seeds: (replicates, S, D) or (S, D) starting states (D = H, or 2H for LSTM), e.g. a grid for a
    hand-built network; None: ``sample_states(model, inputs, n_seeds, jitter, seed)``.
    Adam (``adam_steps`` at ``lr``) then ``polish_steps`` Levenberg–Marquardt steps in float64.
    A point is "fixed" if q < ``fixed_tol``, "slow" if q < ``slow_tol``; others are dropped. Points
    closer than ``merge_tol`` (Euclidean, relative to max(1, ‖x‖)) are one point (the lowest q).
    ``stable`` = every |λ| of ∂F/∂x < 1 **and** a perturbed copy (1e-6) iterated ``confirm_steps``
    steps ends no farther away than it started (for fixed points only; slow points are never stable).

    Returns one row per (replicate, point): replicate, point (0… per replicate, fixed points
    first, then by q), kind, q, stable, unstable_dims (number of |λ| > 1), spectral_radius, and the
    state in columns ``state_names(model)``.
    """
    _check_model(model)
    for name, value, minimum in (("n_seeds", n_seeds, 1), ("adam_steps", adam_steps, 0),
                                 ("polish_steps", polish_steps, 0), ("confirm_steps", confirm_steps, 1),
                                 ("seed", seed, 0)):
        check_count(value, name, minimum)
    for name, value in (("lr", lr), ("fixed_tol", fixed_tol), ("slow_tol", slow_tol), ("merge_tol", merge_tol)):
        _check_positive(value, name)
    if slow_tol < fixed_tol:
        raise ValueError(f"slow_tol must be >= fixed_tol ({fixed_tol}), got {slow_tol}")
    if seeds is None:
        if inputs is None:
            raise ValueError("seeds or inputs must be given: seeds as (replicates, S, D) states, "
                             "or inputs (batch, steps, n_inputs) to sample seeds from")
        seeds = sample_states(model, inputs, n_seeds, jitter, seed)
    x = _as_states(model, seeds, "seeds")
    torch.manual_seed(seed)
    if adam_steps:
        x = _adam(model, x, adam_steps, lr)
    x = _polish(model, x, polish_steps)
    q = 0.5 * ((step_map(model, x).next - x) ** 2).sum(-1)
    keep = [_merge(x[r].numpy(), q[r].numpy(), fixed_tol, slow_tol, merge_tol) for r in range(model.replicates)]
    pts, valid = _pad([x[r, k] for r, k in enumerate(keep)], x.shape[-1])
    eig = torch.linalg.eigvals(step_map(model, pts, jacobian=True).dx).abs().numpy()  # (R, W, D)
    confirmed = _confirm(model, pts, confirm_steps)
    names = state_names(model)
    rows = []
    for r, kept in enumerate(keep):
        for k, i in enumerate(kept):
            kind = "fixed" if q[r, i] < fixed_tol else "slow"
            rho = float(eig[r, k].max())
            rows.append({"replicate": r, "point": k, "kind": kind, "q": float(q[r, i]),
                         "stable": bool(kind == "fixed" and rho < 1 and confirmed[r, k]),
                         "unstable_dims": int((eig[r, k] > 1).sum()), "spectral_radius": rho,
                         **dict(zip(names, pts[r, k].numpy().tolist()))})
    cols = ["replicate", "point", "kind", "q", "stable", "unstable_dims", "spectral_radius", *names]
    return pd.DataFrame(rows, columns=cols)


def _pad(groups: list[torch.Tensor], d: int) -> tuple[torch.Tensor, np.ndarray]:
    """Per-replicate point sets (P_r, D) → (R, max P_r, D) padded with a copy of a real point (or
    zeros) and a (R, max P_r) mask of the real rows."""
    width = max(1, max(len(g) for g in groups))
    out = torch.zeros(len(groups), width, d, dtype=torch.float64)
    valid = np.zeros((len(groups), width), bool)
    for r, g in enumerate(groups):
        g = torch.as_tensor(g, dtype=torch.float64)
        out[r, :len(g)] = g
        if len(g):
            out[r, len(g):] = g[0]
        valid[r, :len(g)] = True
    return out, valid


def _merge(x: np.ndarray, q: np.ndarray, fixed_tol, slow_tol, merge_tol) -> list[int]:
    """Indices of distinct points with q < slow_tol (of duplicates, the lowest q), numbered fixed
    before slow and then by their coordinates (rounded to 6 decimals, so that the numbering does not
    depend on rounding noise in q)."""
    ok = np.flatnonzero(q < slow_tol)
    order = ok[np.lexsort((q[ok], q[ok] >= fixed_tol))]
    kept: list[int] = []
    for i in order:
        if kept:
            dist = np.linalg.norm(x[kept] - x[i], axis=1)
            if (dist <= merge_tol * max(1.0, np.linalg.norm(x[i]))).any():
                continue
        kept.append(int(i))
    kept = np.array(kept, dtype=np.int64)
    keys = np.round(x[kept], 6).T[::-1]
    return kept[np.lexsort((*keys, q[kept] >= fixed_tol))].tolist()


def _confirm(model: Stacked, pts: torch.Tensor, steps: int) -> np.ndarray:
    """(R, P): does a copy of each point (R, P, D), moved 1e-6 along a fixed pseudo-random
    direction, come back at least as close within ``steps`` input-free steps?"""
    gen = torch.Generator().manual_seed(0)
    v = torch.randn(pts.shape[1:], generator=gen, dtype=pts.dtype).expand_as(pts)
    v = 1e-6 * v / v.norm(dim=-1, keepdim=True)
    end = iterate(model, pts + v, steps, settle=True)
    return ((end - pts).norm(dim=-1) <= 1e-6).numpy()


def _states_of(points: pd.DataFrame, model: Stacked) -> np.ndarray:
    names = state_names(model)
    missing = [c for c in ("replicate", "point", "stable", *names) if c not in points]
    if missing:
        raise ValueError(f"points must be a fixed_points frame of this model; it lacks {missing[:4]}")
    return points[names].to_numpy(np.float64)


# -- excitable connections ------------------------------------------------------------------------
@dataclass(frozen=True)
class Threshold:
    """Smallest pulse that moves each start state elsewhere.

    amplitude: (R, P) threshold (NaN: no amplitude up to ``max_amplitude`` moved the state);
    target: (R, P) index of the stable point where the state lands at that amplitude (−1 when it
    lands on no listed stable point, or when ``points`` was not given); landed: (R, P, D) the state
    reached at the threshold after settling.
    """

    amplitude: np.ndarray
    target: np.ndarray
    landed: np.ndarray


def _pulse(model, start, channel, sign, pulse_steps, amplitude, settle_steps):
    """start (R, P, D), amplitude (R, P) → settled state (R, P, D) after the pulse."""
    u = start.new_zeros(*start.shape[:2], model.n_inputs)
    u[..., channel] = sign * amplitude
    return iterate(model, start, pulse_steps + settle_steps, [u] * pulse_steps, settle=True)


def _label(end: torch.Tensor, stable: list[np.ndarray], match_tol: float) -> np.ndarray:
    """Index of the nearest listed stable point within ``match_tol`` per replicate, else −1."""
    out = np.full(end.shape[:2], -1, dtype=np.int64)
    e = end.numpy()
    for r, pts in enumerate(stable):
        if len(pts) == 0:
            continue
        d = np.linalg.norm(e[r][:, None, :] - pts[None, :, :], axis=-1)
        best = d.argmin(axis=1)
        out[r] = np.where(d[np.arange(len(best)), best] <= match_tol, best, -1)
    return out


def _check_pulse(model, channel, sign, pulse_steps):
    if isinstance(channel, bool) or not isinstance(channel, (int, np.integer)) \
            or not 0 <= channel < model.n_inputs:
        raise ValueError(f"channel must be an input channel 0…{model.n_inputs - 1}, got {channel!r}")
    if sign not in (1, -1) or isinstance(sign, bool):
        raise ValueError(f"sign must be +1 or -1, got {sign!r}")
    check_count(pulse_steps, "pulse_steps", 1)


def threshold(model: Stacked, start, channel: int, sign: int = 1, pulse_steps: int = 1, *,
              points: pd.DataFrame | None = None, max_amplitude: float = 4.0, grid: int = 40,
              tol: float = 1e-4, settle_steps: int = 300, match_tol: float = 1e-2) -> Threshold:
    """The smallest pulse on one input channel that moves the state from ``start`` elsewhere.

    start: (R, P, D) or (P, D) states (normally stable points); a pulse of ``sign · a`` on
    ``channel`` for ``pulse_steps`` steps, then ``settle_steps`` input-free steps. The state has
    *moved* when it ends farther than ``match_tol`` from ``start``. ``a`` is scanned on ``grid``
    equal steps up to ``max_amplitude``; the first that moves is refined by bisection until the
    bracket is narrower than ``tol`` (the threshold is the bracket's upper end). points: a
    ``fixed_points`` frame of this model, to name where the state lands (its stable points).
    """
    _check_model(model)
    _check_pulse(model, channel, sign, pulse_steps)
    _check_positive(max_amplitude, "max_amplitude")
    check_count(grid, "grid", 1)
    _check_positive(tol, "tol")
    check_count(settle_steps, "settle_steps", 1)
    _check_positive(match_tol, "match_tol")
    start = _as_states(model, start, "start")
    stable, ids = _stable_lists(model, points)
    th = _threshold(model, start, int(channel), int(sign), int(pulse_steps), max_amplitude, grid, tol,
                    settle_steps, match_tol, stable)
    target = np.array([[ids[r][k] if k >= 0 else -1 for k in row] for r, row in enumerate(th.target)],
                      dtype=np.int64).reshape(th.target.shape)
    return Threshold(th.amplitude, target, th.landed)


def _stable_lists(model, points) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per replicate: the stable points' states (P_r, D) and their ``point`` numbers (P_r,)."""
    if points is None:
        return [np.zeros((0, state_size(model)))] * model.replicates, [np.zeros(0, np.int64)] * model.replicates
    if not isinstance(points, pd.DataFrame):
        raise ValueError(f"points must be a fixed_points DataFrame or None, got {type(points).__name__}")
    x = _states_of(points, model)
    masks = [(points.replicate == r).to_numpy() & points.stable.to_numpy().astype(bool)
             for r in range(model.replicates)]
    return [x[m] for m in masks], [points.point.to_numpy()[m].astype(np.int64) for m in masks]


def _threshold(model, start, channel, sign, pulse_steps, max_amplitude, grid, tol, settle_steps,
               match_tol, stable) -> Threshold:
    r, p, d = start.shape
    levels = np.linspace(0, max_amplitude, grid + 1)[1:]
    lo = np.zeros((r, p))
    hi = np.full((r, p), np.nan)
    moved_any = np.zeros((r, p), bool)
    # grid scan: all levels at once, (R, P·levels)
    many = start.repeat_interleave(len(levels), dim=1)
    amp = torch.from_numpy(np.tile(levels, p))[None].expand(r, -1).clone()
    end = _pulse(model, many, channel, sign, pulse_steps, amp, settle_steps)
    moved = ((end - many).norm(dim=-1) > match_tol).numpy().reshape(r, p, len(levels))
    first = moved.argmax(-1)
    moved_any = moved.any(-1)
    hi = np.where(moved_any, levels[first], np.nan)
    lo = np.where(moved_any & (first > 0), levels[np.maximum(first - 1, 0)], 0.0)
    # bisection of every bracket at once
    while np.nanmax(np.where(moved_any, hi - lo, 0.0), initial=0.0) > tol:
        mid = np.where(moved_any, (lo + hi) / 2, 0.0)
        end = _pulse(model, start, channel, sign, pulse_steps, torch.from_numpy(mid), settle_steps)
        mv = ((end - start).norm(dim=-1) > match_tol).numpy()
        hi = np.where(moved_any & mv, mid, hi)
        lo = np.where(moved_any & ~mv, mid, lo)
    end = _pulse(model, start, channel, sign, pulse_steps, torch.from_numpy(np.nan_to_num(hi)), settle_steps)
    target = np.where(moved_any, _label(end, stable, match_tol), -1)
    return Threshold(hi, target, np.where(moved_any[..., None], end.numpy(), np.nan))


# -- the excitable network ------------------------------------------------------------------------
EDGE_COLUMNS = ["replicate", "source", "target", "channel", "sign", "pulse_steps", "threshold", "probability"]


def network(model: Stacked, points: pd.DataFrame, channels=None, signs=(1, -1), pulse_steps: int = 1, *,
            max_amplitude: float = 4.0, grid: int = 40, tol: float = 1e-4, settle_steps: int = 300,
            match_tol: float = 1e-2, noise: float = 0.0, amplitude: float = 1.0, trials: int = 100,
            seed: int = 0) -> pd.DataFrame:
    """The excitable network: every stable point × channel × sign, its threshold and where it lands.

    points: a ``fixed_points`` frame of ``model`` (its stable rows are the network's nodes).
    channels: input channels to pulse (default all). One row per connection that moves the state:
    replicate, source and target (``point`` numbers of ``points``; target −1 = no listed stable
    point), channel, sign, pulse_steps, threshold, probability. Without ``noise`` probability is
    NaN; with ``noise`` > 0, each stable point also gets ``trials`` pulses of ``amplitude`` (the
    task's input size) with Gaussian noise of that standard deviation on every channel during the
    pulse, and probability is the share of trials that land on ``target`` (rows for transitions
    seen only under noise have threshold NaN).
    """
    _check_model(model)
    channels = list(range(model.n_inputs)) if channels is None else list(channels)
    if not channels:
        raise ValueError("channels must list at least one input channel")
    signs = list(signs)
    if not signs:
        raise ValueError("signs must list +1 and/or -1")
    for ch in channels:
        for s in signs:
            _check_pulse(model, ch, s, pulse_steps)
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    _check_positive(amplitude, "amplitude")
    check_count(trials, "trials", 1)
    check_count(seed, "seed", 0)
    if not isinstance(points, pd.DataFrame):
        raise ValueError(f"points must be a fixed_points DataFrame, got {type(points).__name__}")
    stable, ids = _stable_lists(model, points)
    if not any(len(s) for s in stable):
        return pd.DataFrame(columns=EDGE_COLUMNS)
    start, valid = _pad(stable, state_size(model))
    rows = []
    for ch in channels:
        for s in signs:
            th = _threshold(model, start, ch, s, pulse_steps, max_amplitude, grid, tol, settle_steps,
                            match_tol, stable)
            for r, k in zip(*np.nonzero(valid & ~np.isnan(th.amplitude))):
                rows.append((r, int(ids[r][k]), int(ids[r][th.target[r, k]]) if th.target[r, k] >= 0 else -1,
                             ch, s, pulse_steps, float(th.amplitude[r, k]), np.nan))
    edges = pd.DataFrame(rows, columns=EDGE_COLUMNS)
    if noise > 0:
        edges = _with_probabilities(model, start, valid, stable, ids, edges, channels, signs, pulse_steps,
                                    noise, amplitude, trials, settle_steps, match_tol, seed)
    return edges.sort_values(["replicate", "source", "channel", "sign"], ascending=[True, True, True, False],
                             ignore_index=True)


def _with_probabilities(model, start, valid, stable, ids, edges, channels, signs, pulse_steps, noise,
                        amplitude, trials, settle_steps, match_tol, seed):
    rng = np.random.default_rng(seed)
    r, p, d = start.shape
    many = start.repeat_interleave(trials, dim=1)
    counts = []
    for ch in channels:
        for s in signs:
            u = []
            for _ in range(pulse_steps):
                step = torch.from_numpy(rng.normal(0.0, noise, size=(r, p * trials, model.n_inputs)))
                step[..., ch] += s * amplitude
                u.append(step)
            end = iterate(model, many, pulse_steps + settle_steps, u, settle=True)
            lab = _label(end, stable, match_tol).reshape(r, p, trials)
            moved = ((end - many).norm(dim=-1) > match_tol).numpy().reshape(r, p, trials)
            for rr, k in zip(*np.nonzero(valid)):
                src = int(ids[rr][k])
                targets = np.where(moved[rr, k], lab[rr, k], -2)  # −2: stayed at the source
                for t_ix, n in zip(*np.unique(targets[targets != -2], return_counts=True)):
                    tgt = int(ids[rr][t_ix]) if t_ix >= 0 else -1
                    counts.append((rr, src, tgt, ch, s, pulse_steps, n / trials))
    prob = pd.DataFrame(counts, columns=["replicate", "source", "target", "channel", "sign", "pulse_steps",
                                         "probability"])
    keys = ["replicate", "source", "target", "channel", "sign", "pulse_steps"]
    out = edges.drop(columns="probability").merge(prob, on=keys, how="outer")
    out["probability"] = out.probability.fillna(0.0)
    return out[EDGE_COLUMNS]


# -- the task's automaton -------------------------------------------------------------------------
@dataclass(frozen=True)
class Automaton:
    """The states a task asks a network to hold and the input pulses that switch between them.

    states: names of the held states; edges: DataFrame source, target (state names), channel,
    sign; amplitude: the task's pulse size (for the margin); probes: one (n, steps, n_inputs)
    float32 array per state — input sequences after which the network should hold that state
    (a stable point is given the state's name when the probes' trajectories settle on it).
    """

    name: str
    states: tuple
    edges: pd.DataFrame
    amplitude: float
    probes: dict


def flipflop_automaton(n_inputs: int = 3, probe_steps: int = 8, amplitude: float = 1.0) -> Automaton:
    """The flip-flop's 2^n states (a sign per channel; named like "+−+") and the n·2^n edges of the
    n-cube: a pulse of sign s on channel k flips bit k to s (a pulse equal to the held sign is no
    transition). Probes: every channel pulsed once with its state's sign, then input-free steps."""
    check_count(n_inputs, "n_inputs", 1)
    check_count(probe_steps, "probe_steps", 1)
    _check_positive(amplitude, "amplitude")
    combos = [tuple(1 if (b >> k) & 1 else -1 for k in range(n_inputs)) for b in range(2 ** n_inputs)]
    name = lambda c: "".join("+" if v > 0 else "−" for v in c)  # noqa: E731
    edges = []
    for c in combos:
        for k in range(n_inputs):
            flipped = tuple(-v if j == k else v for j, v in enumerate(c))
            edges.append((name(c), name(flipped), k, flipped[k]))
    probes = {}
    for c in combos:
        x = np.zeros((1, n_inputs + probe_steps, n_inputs), np.float32)
        for k, v in enumerate(c):
            x[0, k, k] = amplitude * v
        probes[name(c)] = x
    return Automaton("flipflop", tuple(name(c) for c in combos),
                     pd.DataFrame(edges, columns=["source", "target", "channel", "sign"]), amplitude, probes)


def memory_automaton(steps=(3, 6, 9), probe_steps: int = 8, amplitude: float = 1.0) -> Automaton:
    """The memory task's tree of held states: "" (nothing yet) → A± → A±B± → A±B±C± (1 → 2 → 4 → 8),
    with the edge from a level-k state on channel k with the pulse's sign. Probes: the task's
    inputs up to the pulse that enters the state (at 0-based ``steps``, the task's 3, 6, 9),
    then input-free steps until the next pulse (``probe_steps`` after the last)."""
    steps = tuple(int(s) for s in steps)
    if len(steps) != 3 or list(steps) != sorted(set(steps)) or steps[0] < 0:
        raise ValueError(f"steps must be 3 increasing non-negative steps, got {steps!r}")
    check_count(probe_steps, "probe_steps", 1)
    _check_positive(amplitude, "amplitude")
    letters = "ABC"
    name = lambda c: "".join(f"{letters[k]}{'+' if v > 0 else '−'}" for k, v in enumerate(c))  # noqa: E731
    levels = [[()]]
    for k in range(3):
        levels.append([c + (v,) for c in levels[-1] for v in (-1, 1)])
    states, edges, probes = [], [], {}
    ends = [steps[0]] + [steps[k + 1] for k in range(2)] + [steps[2] + 1 + probe_steps]
    for k, level in enumerate(levels):
        for c in level:
            states.append(name(c))
            x = np.zeros((1, ends[k], 3), np.float32)
            for j, v in enumerate(c):
                x[0, steps[j], j] = amplitude * v
            probes[name(c)] = x
            if k < 3:
                for v in (-1, 1):
                    edges.append((name(c), name(c + (v,)), k, v))
    return Automaton("memory", tuple(states), pd.DataFrame(edges, columns=["source", "target", "channel", "sign"]),
                     amplitude, probes)


def label_points(model: Stacked, points: pd.DataFrame, automaton: Automaton, settle_steps: int = 300,
                 match_tol: float = 1e-2) -> pd.DataFrame:
    """``points`` with a ``label`` column: the automaton state whose probe trajectories settle (after
    the probe, ``settle_steps`` input-free steps) on that stable point ("" for none). A stable point
    reached from several states' probes is labelled with all of them joined by "|" (they are
    merged: the network cannot tell those states apart)."""
    _check_model(model)
    if not isinstance(automaton, Automaton):
        raise ValueError(f"automaton must be an irn.attractors.Automaton, got {type(automaton).__name__}")
    stable, ids = _stable_lists(model, points)
    reached = {}
    for state, probe in automaton.probes.items():
        probe = torch.as_tensor(probe, dtype=torch.float32)
        if probe.shape[-1] != model.n_inputs:
            raise ValueError(f"automaton {automaton.name!r} has {probe.shape[-1]} inputs, model has {model.n_inputs}")
        with torch.no_grad():
            trace = model(probe)
        last = trace.hidden[:, :, -1] if trace.cell is None else torch.cat([trace.hidden[:, :, -1],
                                                                             trace.cell[:, :, -1]], -1)
        end = iterate(model, last.double(), settle_steps, settle=True)
        lab = _label(end, stable, match_tol)
        for r in range(model.replicates):
            for k in lab[r][lab[r] >= 0]:
                reached.setdefault((r, int(ids[r][k])), []).append(state)
    out = points.copy()
    out["label"] = ["|".join(dict.fromkeys(reached.get((r, p), []))) if s else ""
                    for r, p, s in zip(points.replicate, points.point, points.stable)]
    return out


@dataclass(frozen=True)
class Comparison:
    """Found vs expected, per replicate and per expected edge.

    summary: one row per replicate — expected_states, stable_points, states_found (automaton states
    with a stable point of their own), merged (stable points carrying several states), edges_expected,
    edges_correct, edges_missing, edges_wrong (the expected pulse lands elsewhere), edges_spurious
    (connections between labelled points that the automaton does not have), cube (every state found and
    every edge correct), margin_min and margin_median over correct edges.
    edges: one row per (replicate, expected edge) — source, target, channel, sign, status
    ("correct", "wrong", "missing"), threshold, margin (amplitude / threshold).
    """

    summary: pd.DataFrame
    edges: pd.DataFrame


def compare(net: pd.DataFrame, points: pd.DataFrame, automaton: Automaton) -> Comparison:
    """Compare an excitable network with a task's automaton.

    net: ``network`` output; points: its ``fixed_points`` frame labelled by ``label_points``.
    An expected edge source → target (channel, sign) is *correct* when the source state's stable
    point has a connection on that channel and sign landing on the target state's stable point,
    *wrong* when it lands elsewhere, *missing* when the source state has no stable point or no
    amplitude up to the scan's maximum moves it.
    """
    if not isinstance(automaton, Automaton):
        raise ValueError(f"automaton must be an irn.attractors.Automaton, got {type(automaton).__name__}")
    for name, frame, cols in (("net", net, EDGE_COLUMNS), ("points", points, ["replicate", "point", "stable", "label"])):
        if not isinstance(frame, pd.DataFrame) or any(c not in frame for c in cols):
            raise ValueError(f"{name} must be a DataFrame with columns {cols} "
                             f"({'network' if name == 'net' else 'label_points'} output)")
    rows, summary = [], []
    for r in sorted(points.replicate.unique()):
        pts = points[(points.replicate == r) & points.stable]
        own = {lab: int(p) for p, lab in zip(pts.point, pts.label) if lab and "|" not in lab}
        label_of = dict(zip(pts.point, pts.label))
        e = net[net.replicate == r]
        correct = 0
        matched = set()
        for x in automaton.edges.itertuples():
            status, th = "missing", np.nan
            src, tgt = own.get(x.source), own.get(x.target)
            if src is not None:
                hit = e[(e.source == src) & (e.channel == x.channel) & (e.sign == x.sign)]
                if len(hit):
                    th = float(hit.threshold.iloc[0])
                    status = "correct" if tgt is not None and int(hit.target.iloc[0]) == tgt else "wrong"
                    matched.add(hit.index[0])
            correct += status == "correct"
            rows.append({"replicate": r, "source": x.source, "target": x.target, "channel": x.channel,
                         "sign": x.sign, "status": status, "threshold": th,
                         "margin": automaton.amplitude / th if th == th else np.nan})
        labelled = e[e.source.map(lambda p: bool(label_of.get(p))) & e.target.map(lambda p: bool(label_of.get(p)))]
        spurious = len(labelled.index.difference(list(matched)))
        margins = [row["margin"] for row in rows[-len(automaton.edges):] if row["status"] == "correct"]
        n_edges = len(automaton.edges)
        summary.append({
            "replicate": r, "expected_states": len(automaton.states), "stable_points": len(pts),
            "states_found": len(own), "merged": int(sum("|" in lab for lab in pts.label)),
            "edges_expected": n_edges, "edges_correct": correct,
            "edges_missing": sum(row["status"] == "missing" for row in rows[-n_edges:]),
            "edges_wrong": sum(row["status"] == "wrong" for row in rows[-n_edges:]),
            "edges_spurious": spurious,
            "cube": len(own) == len(automaton.states) and correct == n_edges,
            "margin_min": min(margins) if margins else np.nan,
            "margin_median": float(np.median(margins)) if margins else np.nan})
    return Comparison(pd.DataFrame(summary), pd.DataFrame(rows))


# -- frames for the chapter's charts --------------------------------------------------------------
@dataclass(frozen=True)
class Map:
    """One replicate's state space on the first two principal components of its trajectories.

    trajectory: pc1, pc2, step (subsampled visited states); points: the ``fixed_points`` rows of the
    replicate with pc1, pc2; edges: its ``network`` rows with the end points' coordinates
    (x, y, x2, y2) and the midpoint (mx, my); explained: variance share of the two components.
    """

    trajectory: pd.DataFrame
    points: pd.DataFrame
    edges: pd.DataFrame
    explained: float


def state_map(model: Stacked, inputs, points: pd.DataFrame, edges: pd.DataFrame, replicate: int = 0,
              max_states: int = 2000, seed: int = 0) -> Map:
    """PCA of the states one replicate visits on ``inputs`` (batch, steps, n_inputs), with its fixed
    points and excitable connections projected on the same two components (for plotting)."""
    _check_model(model)
    if isinstance(replicate, bool) or not isinstance(replicate, (int, np.integer)) \
            or not 0 <= replicate < model.replicates:
        raise ValueError(f"replicate must be in 0…{model.replicates - 1}, got {replicate!r}")
    check_count(max_states, "max_states", 2)
    x, _ = trajectory_states(model, inputs)
    x = x[replicate].double().numpy()
    mean = x.mean(axis=0)
    _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
    explained = float((s[:2] ** 2).sum() / (s ** 2).sum())
    pick = np.random.default_rng(seed).choice(len(x), size=min(max_states, len(x)), replace=False)
    pc = (x[pick] - mean) @ vt[:2].T
    traj = pd.DataFrame({"pc1": pc[:, 0], "pc2": pc[:, 1]})
    pts = points[points.replicate == replicate].copy()
    xy = (_states_of(pts, model) - mean) @ vt[:2].T
    pts["pc1"], pts["pc2"] = xy[:, 0], xy[:, 1]
    pts["type"] = np.where(pts.stable, "stable", np.where(pts.kind == "slow", "slow", "saddle"))
    where = pts.set_index("point")[["pc1", "pc2"]]
    e = edges[(edges.replicate == replicate) & (edges.target >= 0)].copy()
    e["x"], e["y"] = where.pc1.reindex(e.source).to_numpy(), where.pc2.reindex(e.source).to_numpy()
    e["x2"], e["y2"] = where.pc1.reindex(e.target).to_numpy(), where.pc2.reindex(e.target).to_numpy()
    # each arrow's label sits a third of the way from its source, so i → j and j → i do not overlap
    e["mx"], e["my"] = e.x + (e.x2 - e.x) / 3, e.y + (e.y2 - e.y) / 3
    return Map(traj, pts.drop(columns=state_names(model)), e, explained)


def movement(model: Stacked, points: pd.DataFrame, net: pd.DataFrame) -> pd.DataFrame:
    """How far each hidden node moves along each channel's excitable connections.

    For every connection of ``net`` that lands on a listed stable point, |h_j(target) − h_j(source)|
    per hidden node j (h only, also for LSTM); averaged per replicate and channel. Returns
    replicate, channel, node, movement (the bridge to the relay method: compare with a concept's
    relay contributions).
    """
    _check_model(model)
    x = _states_of(points, model)[:, :model.hidden]
    where = {(r, p): i for i, (r, p) in enumerate(zip(points.replicate, points.point))}
    rows = []
    for (r, ch), g in net[net.target >= 0].groupby(["replicate", "channel"]):
        d = np.abs(np.stack([x[where[(r, t)]] - x[where[(r, s)]] for s, t in zip(g.source, g.target)])).mean(0)
        rows += [(int(r), int(ch), j, float(v)) for j, v in enumerate(d)]
    return pd.DataFrame(rows, columns=["replicate", "channel", "node", "movement"])
