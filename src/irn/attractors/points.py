"""Fixed points, slow points and saddles of x ↦ F(x, u), and how the stable points move and vanish
as a held input grows.

``fixed_points`` solves F(x, u) = x for all starting states of all replicates at once with a
damped Newton iteration in float64: the Newton step J⁻¹(x − F) with the closed-form Jacobian
J = ∂F/∂x − I where it lowers the speed q(x) = ½‖F(x, u) − x‖², a Levenberg–Marquardt step
(JᵀJ + μI)⁻¹Jᵀ(x − F) with μ raised until it does where it does not. Each point stops as soon as it
has converged (q < ``CONVERGED``) and leaves the batch, so the work follows the points still moving.
The starts Newton leaves far from any fixed point (q ≥ ``slow_tol`` after ``newton_steps``: its
first steps jump far and can end in a local minimum of q) get ``adam_steps`` of Adam on q from the
same start (the descent of Sussillo & Barak 2013 and of fixed-point-finder, which stays near it) and
a second Newton run. Points with q < ``fixed_tol`` are fixed points, points with q < ``slow_tol``
are slow points; duplicates are merged; stability comes from the eigenvalues of ∂F/∂x, confirmed
by iterating F from a perturbed copy.

``saddles`` follows the unstable direction of every index-1 saddle both ways to the two stable
points its unstable manifold joins: the saddle that mediates an excitable connection between
them. ``folds`` continues every stable point in a held input on one channel until it meets a
saddle and vanishes (a saddle-node: for x' = tanh(w x + u) where w(1 − x²) = 1), and
``diagram`` gives all fixed points on a grid of held inputs (a bifurcation diagram).

Written here rather than taken from a library because the public fixed-point finders
(mattgolub/fixed-point-finder, computation-thru-dynamics) take one network and one point at a time,
their PyTorch version does not support the LSTM's (h, c) state, and none continues points in an input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from irn import params
from irn.attractors.maps import (
    _as_states,
    _check_inputs,
    _check_model,
    _compact,
    _gather,
    _Map,
    _settle,
    sample_states,
    state_names,
    state_size,
)
from irn.models import Stacked
from irn.optim import StackedAdam

KINDS = ("fixed", "slow")
#: A point stops iterating once its speed q is below this (float64 rounding of F is ~1e-16 per
#: coordinate, so a converged point sits far below any ``fixed_tol`` a user would choose).
CONVERGED = 1e-26
#: |λ| within this of 1 is marginal: counted neither as a stable nor as an unstable direction.
EIG_TOL = 1e-6
#: Levenberg–Marquardt damping: first value after a rejected Newton step, and the largest.
MU_START, MU_MAX = 1e-4, 1e8
#: ``refine`` searches between each stable point and this many of its nearest stable points.
NEIGHBOURS = 8
#: The distance a perturbed copy of a point starts at, to confirm its stability by iterating.
NUDGE = 1e-6

FRAME_COLUMNS = ["replicate", "point", "kind", "q", "stable", "unstable_dims", "spectral_radius"]


def _constant_input(model: Stacked, u, name: str = "u") -> torch.Tensor | None:
    """A held input: (n_inputs,) for every replicate, or (R, n_inputs) one per replicate → (R, 1,
    n_inputs) float64 (None stays None: input-free)."""
    if u is None:
        return None
    a = params.array(u, name, ndim=(1, 2))
    i, r = model.n_inputs, model.replicates
    if a.shape not in ((i,), (r, i)):
        raise ValueError(f"{name} must have shape ({i},) or ({r}, {i}), got {a.shape}")
    t = torch.from_numpy(np.array(a, dtype=np.float64))
    return (t.expand(r, i) if a.ndim == 1 else t)[:, None, :]


def _expand(u: torch.Tensor | None, n: int) -> torch.Tensor | None:
    return None if u is None else u.expand(u.shape[0], n, u.shape[-1])


# -- the solver -----------------------------------------------------------------------------------
def _newton(m: _Map, x: torch.Tensor, u: torch.Tensor | None, steps: int, damping: float = 0.0) -> torch.Tensor:
    """Damped Newton / Levenberg–Marquardt on G(x) = F(x, u) − x for every point of x (R, N, D);
    u: (R, N, I) or None; damping: the first μ (0: start with Newton steps). A point leaves the batch once q < ``CONVERGED`` or its damping reaches
    ``MU_MAX`` (no step lowers q any more: a minimum of q that is not a fixed point)."""
    r, n, d = x.shape
    out = x.clone()
    eye = torch.eye(d, dtype=x.dtype)
    index = torch.arange(n)[None].expand(r, -1)
    valid = torch.ones(r, n, dtype=torch.bool)
    cur, cu = x, u
    mu = torch.full((r, n), float(damping), dtype=x.dtype)
    for _ in range(steps):
        f, jg, _ = m.jacobians(cur, cu)
        g = f - cur
        q = 0.5 * (g * g).sum(-1)
        jg.diagonal(dim1=-2, dim2=-1).sub_(1.0)  # J = ∂F/∂x − I, in place
        damped = mu > 0
        if bool(damped.any()):  # Newton rows: J dx = −g; Levenberg–Marquardt rows: (JᵀJ + μI) dx = −Jᵀg
            dx, info = torch.zeros_like(g), torch.zeros(g.shape[:2], dtype=torch.int32)
            plain = ~damped
            if bool(plain.any()):
                dx[plain], info[plain] = torch.linalg.solve_ex(jg[plain], -g[plain])
            j = jg[damped]
            jt = j.transpose(-1, -2)
            dx[damped], info[damped] = torch.linalg.solve_ex(jt @ j + mu[damped][:, None, None] * eye,
                                                             -(jt @ g[damped][..., None])[..., 0])
        else:
            dx, info = torch.linalg.solve_ex(jg, -g)
        ok = (info == 0) & torch.isfinite(dx).all(-1)
        trial = cur + torch.where(ok[..., None], dx, torch.zeros_like(dx))
        gt = m(trial, cu) - trial
        q_trial = 0.5 * (gt * gt).sum(-1)
        better = ok & (q_trial < q)
        cur = torch.where(better[..., None], trial, cur)
        q_now = torch.where(better, q_trial, q)
        mu = torch.where(better, torch.where(mu / 10 < 1e-10, torch.zeros_like(mu), mu / 10),
                         torch.where(mu == 0, torch.full_like(mu, MU_START), mu * 10))
        rows = index[..., None].expand(-1, -1, d)
        out.scatter_(1, rows, torch.where(valid[..., None], cur, out.gather(1, rows)))
        remaining = valid & (q_now >= CONVERGED) & (mu < MU_MAX)
        if not bool(remaining.any()):
            break
        if bool((valid & ~remaining).any()):  # converged or stalled points leave the batch
            order, valid = _compact(remaining)
            index, cur, mu = index.gather(1, order), _gather(cur, order), mu.gather(1, order)
            cu = None if cu is None else _gather(cu, order)
    return out


def _adam(model: Stacked, x: torch.Tensor, u: torch.Tensor | None, steps: int, lr: float) -> torch.Tensor:
    """Adam (``irn.optim.StackedAdam``: torch.optim.Adam's rule) on q for every point at once, in
    float32. The loss is a sum of independent terms and Adam is element-wise, so each point follows
    the path it would follow alone."""
    m = _Map(model, torch.float32)
    x = x.float().clone().requires_grad_(True)
    u = None if u is None else u.float()
    opt = StackedAdam([x], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * ((m.differentiable(x, u) - x) ** 2).sum()).backward()
        opt.step()
    return x.detach().double()


def _speed(m: _Map, x: torch.Tensor, u: torch.Tensor | None) -> torch.Tensor:
    g = m(x, u) - x
    return 0.5 * (g * g).sum(-1)


def _solve(model: Stacked, x: torch.Tensor, u: torch.Tensor | None = None, *, newton_steps: int = 50,
          adam_steps: int = 300, lr: float = 1e-2, slow_tol: float = 1e-4) -> tuple[torch.Tensor, torch.Tensor]:
    """Newton from every start x (R, N, D) (checked tensors; u (R, 1 or N, I) or None); for the
    starts Newton left with q ≥ ``slow_tol`` (its first steps jump far, and can end in a local minimum
    of q), Adam from the same start — a descent that stays near it — then Newton again. Returns the
    points and their q."""
    m = _Map(model)
    ux = _expand(u, x.shape[1])
    start = x
    x = _newton(m, x, ux, newton_steps)
    q = _speed(m, x, ux)
    lost = q >= slow_tol
    if adam_steps and bool(lost.any()):
        order, valid = _compact(lost)
        sub_u = None if ux is None else _gather(ux, order)
        moved = _newton(m, _adam(model, _gather(start, order), sub_u, adam_steps, lr), sub_u, newton_steps)
        rows = order[..., None].expand(-1, -1, x.shape[-1])
        x = x.scatter(1, rows, torch.where(valid[..., None], moved, x.gather(1, rows)))
        q = _speed(m, x, ux)
    return x, q


# -- merging, stability ---------------------------------------------------------------------------
def _merge(x: np.ndarray, q: np.ndarray, fixed_tol: float, slow_tol: float, merge_tol: float) -> list[int]:
    """Indices of distinct points with q < slow_tol: of points closer than ``merge_tol`` (relative to
    max(1, ‖x‖)) the lowest q is kept, fixed points before slow ones. Numbered fixed before slow and
    then by their coordinates rounded to 6 decimals (so that the numbering does not depend on
    rounding noise in q). Points that agree to 1e-8 are grouped first, so the greedy pass runs over
    distinct points only."""
    ok = np.flatnonzero(q < slow_tol)
    if ok.size == 0:
        return []
    slow = q[ok] >= fixed_tol
    order = ok[np.lexsort((q[ok], slow))]
    keys = np.ascontiguousarray(np.round(x[order] * 1e8).astype(np.int64))
    _, first = np.unique(keys.view(np.dtype((np.void, keys.itemsize * keys.shape[1])))[:, 0], return_index=True)
    order = order[np.sort(first)]
    kept: list[int] = []
    for i in order:
        if kept:
            dist = np.linalg.norm(x[kept] - x[i], axis=1)
            if (dist <= merge_tol * max(1.0, float(np.linalg.norm(x[i])))).any():
                continue
        kept.append(int(i))
    kept_a = np.array(kept, dtype=np.int64)
    keys = np.round(x[kept_a], 6).T[::-1]
    return kept_a[np.lexsort((*keys, q[kept_a] >= fixed_tol))].tolist()


def _pad(groups: list, d: int) -> tuple[torch.Tensor, np.ndarray]:
    """Per-replicate point sets (P_r, D) → (R, max P_r, D) padded with a copy of a real point (or
    zeros) and a (R, max P_r) mask of the real rows."""
    width = max(1, max(len(g) for g in groups))
    out = torch.zeros(len(groups), width, d, dtype=torch.float64)
    valid = np.zeros((len(groups), width), bool)
    for r, g in enumerate(groups):
        g = torch.as_tensor(np.asarray(g, dtype=np.float64))
        if len(g):
            out[r, :len(g)] = g
            out[r, len(g):] = g[0]
        valid[r, :len(g)] = True
    return out, valid


def _confirm(m: _Map, pts: torch.Tensor, u: torch.Tensor | None, steps: int) -> np.ndarray:
    """(R, P): does a copy of each point (R, P, D), moved ``NUDGE`` along a fixed pseudo-random
    direction, come back at least as close within ``steps`` steps under u?"""
    gen = torch.Generator().manual_seed(0)
    v = torch.randn(pts.shape[1:], generator=gen, dtype=pts.dtype).expand_as(pts)
    v = NUDGE * v / v.norm(dim=-1, keepdim=True)
    end, _ = _settle(m, pts + v, steps, _expand(u, pts.shape[1]))
    return ((end - pts).norm(dim=-1) <= NUDGE).numpy()


def _check_tolerances(fixed_tol, slow_tol, merge_tol):
    for name, value in (("fixed_tol", fixed_tol), ("slow_tol", slow_tol), ("merge_tol", merge_tol)):
        params.require(value, name, params.number(0, closed=False))
    if slow_tol < fixed_tol:
        raise ValueError(f"slow_tol must be >= fixed_tol ({fixed_tol}), got {slow_tol}")


def fixed_points(model: Stacked, seeds=None, *, u=None, inputs=None, n_seeds: int = 256, jitter: float = 0.05,
                 newton_steps: int = 50, adam_steps: int = 300, lr: float = 1e-2, fixed_tol: float = 1e-14,
                 slow_tol: float = 1e-4, merge_tol: float = 1e-3, confirm_steps: int = 500, refine: bool = True,
                 seed: int = 0) -> pd.DataFrame:
    """Fixed and slow points of every replicate's map x ↦ F(x, u) under a held input u.

    Parameters
    ----------
    model : irn.models.Stacked
        A one-layer network with R replicates.
    seeds : array, shape (R, S, D) or (S, D), or None
        Starting states (D = H, or 2H for LSTM), e.g. a grid for a hand-built network; None:
        ``sample_states(model, inputs, n_seeds, jitter, seed)``.
    u : array, shape (n_inputs,) or (R, n_inputs), or None
        The constant input held while the map runs (None: input-free, the network's own dynamics).
    inputs : array, shape (batch, steps, n_inputs), or None
        Task inputs whose input-free states seed the search when ``seeds`` is None.
    n_seeds, jitter, seed
        Seeds per replicate, their Gaussian jitter (state units) and the random seed.
    newton_steps, adam_steps, lr
        Newton iterations per run; Adam steps (at learning rate ``lr``) for the points Newton leaves
        with q ≥ ``slow_tol`` (0: none).
    fixed_tol, slow_tol, merge_tol
        q below ``fixed_tol``: a fixed point; below ``slow_tol``: a slow point; points closer than
        ``merge_tol`` (Euclidean, relative to max(1, ‖x‖)) are one point (the lowest q).
    confirm_steps : int
        Steps a perturbed copy (``NUDGE`` away) is iterated to confirm stability.
    refine : bool
        Search again from the midpoints between every stable point found and its ``NEIGHBOURS``
        nearest stable points: the index-1 saddles between neighbouring attractors lie near there,
        and few seeds taken from the network's trajectories do.

    Returns
    -------
    pandas.DataFrame
        One row per (replicate, point) the network can reach (h in [−1, 1], or h ≥ 0 for a ReLU
        RNN): replicate, point (0… per replicate, fixed points first, then by their coordinates), kind ("fixed" or "slow"), q, stable (a fixed point with every |λ| of
        ∂F/∂x < 1 whose perturbed copy comes back), unstable_dims (number of |λ| > 1 + ``EIG_TOL``),
        spectral_radius, and the state in columns ``state_names(model)``.
    """
    _check_model(model)
    for name, value, low in (("n_seeds", n_seeds, 1), ("newton_steps", newton_steps, 1),
                             ("adam_steps", adam_steps, 0), ("confirm_steps", confirm_steps, 1)):
        params.check_count(value, name, low)
    params.require(seed, "seed", params.SEED)
    params.require(refine, "refine", params.boolean())
    params.require(lr, "lr", params.number(0, closed=False))
    params.require(jitter, "jitter", params.number(0))
    _check_tolerances(fixed_tol, slow_tol, merge_tol)
    held = _constant_input(model, u)
    if seeds is None:
        if inputs is None:
            raise ValueError("seeds or inputs must be given: seeds as (replicates, S, D) states, "
                             "or inputs (batch, steps, n_inputs) to sample seeds from")
        _check_inputs(model, inputs)
        seeds = sample_states(model, inputs, n_seeds, jitter, seed)
    x = _as_states(model, seeds, "seeds")
    options = {"newton_steps": newton_steps, "adam_steps": adam_steps, "lr": lr, "slow_tol": slow_tol}
    x, q = _solve(model, x, held, **options)
    if refine:
        mids = _midpoints(model, x, q, held, fixed_tol, merge_tol)
        if mids is not None:
            xm, qm = _solve(model, mids, held, **options)
            x, q = torch.cat([x, xm], 1), torch.cat([q, qm], 1)
    return _describe(model, x, q, held, fixed_tol=fixed_tol, slow_tol=slow_tol, merge_tol=merge_tol,
                    confirm_steps=confirm_steps)


def _midpoints(model: Stacked, x: torch.Tensor, q: torch.Tensor, held, fixed_tol: float,
               merge_tol: float) -> torch.Tensor | None:
    """(R, M, D) midpoints of every pair of distinct stable fixed points among the solved x (padded
    with repeats), or None when no replicate has two."""
    keep = [_merge(x[r].numpy(), q[r].numpy(), fixed_tol, fixed_tol, merge_tol) for r in range(model.replicates)]
    pts, valid = _pad([x[r, k].numpy() for r, k in enumerate(keep)], x.shape[-1])
    _, jx, _ = _Map(model).jacobians(pts, _expand(held, pts.shape[1]))
    stable = (torch.linalg.eigvals(jx).abs().amax(-1) < 1).numpy() & valid
    groups = []
    for r in range(model.replicates):
        own = pts[r][torch.from_numpy(stable[r])].numpy()
        dist = np.linalg.norm(own[:, None] - own[None], axis=-1)
        near = np.argsort(dist, axis=1)[:, 1:NEIGHBOURS + 1]  # each stable point's nearest stable points
        pairs = {(min(i, j), max(i, j)) for i in range(len(own)) for j in near[i]}
        groups.append(np.array([(own[i] + own[j]) / 2 for i, j in sorted(pairs)]).reshape(-1, own.shape[1]))
    if not any(len(g) for g in groups):
        return None
    return _pad(groups, x.shape[-1])[0]


#: How far outside the states a network can reach a solution may lie (rounding) and still count.
REACH_TOL = 1e-9


def _reachable(model: Stacked, x: torch.Tensor) -> torch.Tensor:
    """(R, N) bool: x lies where the network's own trajectories can be — h in [−1, 1] for tanh
    RNNs, GRUs and LSTMs (c of an LSTM is unbounded), h ≥ 0 for ReLU RNNs. Newton steps are not
    confined to that region, and outside it a GRU whose update gate saturates has whole continua of
    degenerate solutions that no input can reach."""
    h = x[..., :model.hidden]
    if model.arch == "rnn" and model.nonlinearity == "relu":
        return (h >= -REACH_TOL).all(-1)
    return (h.abs() <= 1 + REACH_TOL).all(-1)


def _describe(model: Stacked, x: torch.Tensor, q: torch.Tensor, held: torch.Tensor | None, *, fixed_tol: float,
             slow_tol: float, merge_tol: float, confirm_steps: int) -> pd.DataFrame:
    """The ``fixed_points`` frame of solved points x (R, N, D) with speeds q (R, N): merged,
    classified and numbered."""
    q = torch.where(_reachable(model, x), q, torch.full_like(q, np.inf))
    keep = [_merge(x[r].numpy(), q[r].numpy(), fixed_tol, slow_tol, merge_tol) for r in range(model.replicates)]
    pts, _ = _pad([x[r, k].numpy() for r, k in enumerate(keep)], x.shape[-1])
    m = _Map(model)
    _, jx, _ = m.jacobians(pts, _expand(held, pts.shape[1]))
    eig = torch.linalg.eigvals(jx).abs().numpy()  # (R, W, D)
    confirmed = _confirm(m, pts, held, confirm_steps)
    names = state_names(model)
    rows = []
    for r, kept in enumerate(keep):
        for k, i in enumerate(kept):
            kind = "fixed" if q[r, i] < fixed_tol else "slow"
            rho = float(eig[r, k].max())
            rows.append((r, k, kind, float(q[r, i]), bool(kind == "fixed" and rho < 1 and confirmed[r, k]),
                         int((eig[r, k] > 1 + EIG_TOL).sum()), rho, *pts[r, k].numpy().tolist()))
    return pd.DataFrame(rows, columns=[*FRAME_COLUMNS, *names])


def _states_of(points: pd.DataFrame, model: Stacked) -> np.ndarray:
    """The state columns of a ``fixed_points`` frame of ``model`` as (rows, D) float64; one
    ValueError when the frame is not one."""
    names = state_names(model)
    if not isinstance(points, pd.DataFrame):
        raise ValueError(f"points must be a fixed_points DataFrame, got {type(points).__name__}")
    missing = [c for c in ("replicate", "point", "stable", *names) if c not in points]
    if missing:
        raise ValueError(f"points must be a fixed_points frame of this model; it lacks {missing[:4]}")
    x = points[names].to_numpy(np.float64)
    if not np.isfinite(x).all():
        raise ValueError("points must hold finite states (a fixed_points frame); found NaN or inf")
    bad = ~points.replicate.isin(range(model.replicates))
    if bad.any():
        raise ValueError(f"points must belong to this model's replicates 0…{model.replicates - 1}, "
                         f"got replicate {points.replicate[bad].iloc[0]!r}")
    return x


def _stable_lists(model: Stacked, points: pd.DataFrame | None) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per replicate: the stable points' states (P_r, D) and their ``point`` numbers (P_r,)."""
    if points is None:
        return [np.zeros((0, state_size(model)))] * model.replicates, [np.zeros(0, np.int64)] * model.replicates
    x = _states_of(points, model)
    masks = [(points.replicate == r).to_numpy() & points.stable.to_numpy().astype(bool)
             for r in range(model.replicates)]
    return [x[mk] for mk in masks], [points.point.to_numpy()[mk].astype(np.int64) for mk in masks]


#: A settling state that comes within ``match_tol`` times this of a listed stable point has landed
#: there (it will converge to it); the run stops for it.
CAPTURE = 0.5
#: Where unused rows of the capture points sit (no state comes near).
_FAR = 1e6


def _capture(stable: list, d: int, match_tol: float) -> tuple[torch.Tensor, float] | None:
    """The stable points of every replicate as capture points for ``_settle`` (None: none listed)."""
    if not any(len(s) for s in stable):
        return None
    width = max(len(s) for s in stable)
    pts = torch.full((len(stable), width, d), _FAR, dtype=torch.float64)
    for r, s in enumerate(stable):
        if len(s):
            pts[r, :len(s)] = torch.as_tensor(np.asarray(s, dtype=np.float64))
    return pts, CAPTURE * match_tol


def _label(end: torch.Tensor, stable: list[np.ndarray], match_tol: float) -> np.ndarray:
    """Index (into each replicate's stable list) of the nearest listed stable point within
    ``match_tol`` of each state end (R, N, D), else −1."""
    out = np.full(end.shape[:2], -1, dtype=np.int64)
    e = end.numpy()
    for r, pts in enumerate(stable):
        if len(pts) == 0:
            continue
        d = np.linalg.norm(e[r][:, None, :] - pts[None, :, :], axis=-1)
        best = d.argmin(axis=1)
        out[r] = np.where(d[np.arange(len(best)), best] <= match_tol, best, -1)
    return out


# -- saddles --------------------------------------------------------------------------------------
SADDLE_COLUMNS = ["replicate", "saddle", "eigenvalue", "side_a", "side_b"]


def saddles(model: Stacked, points: pd.DataFrame, *, u=None, step: float = 1e-3, settle_steps: int = 1000,
            match_tol: float = 1e-2) -> pd.DataFrame:
    """Where the unstable manifold of every index-1 saddle leads.

    From each fixed point with ``unstable_dims == 1``, the state is moved ``step`` (relative to
    max(1, ‖x‖)) both ways along the eigenvector of its one eigenvalue outside the unit circle and
    left to settle under the held input ``u`` (default none); each side lands on a stable point of
    ``points`` (or on none listed). A saddle whose two sides land on stable points i and j sits on
    the boundary between their basins: it mediates the excitable connections i → j and j → i.

    Parameters
    ----------
    model : irn.models.Stacked
    points : pandas.DataFrame
        A ``fixed_points`` frame of ``model`` (under the same ``u``).
    u : array, shape (n_inputs,) or (R, n_inputs), or None
    step, settle_steps, match_tol
        Size of the push off the saddle, steps to settle, and how close a settled state must be to
        a listed stable point to land on it.

    Returns
    -------
    pandas.DataFrame
        One row per index-1 saddle: replicate, saddle (its ``point``), eigenvalue (the unstable one,
        real), side_a and side_b (``point`` numbers of the stable points the two sides land on, the
        smaller first; −1: none listed).
    """
    _check_model(model)
    params.require(step, "step", params.number(0, 1, closed=False))
    params.check_count(settle_steps, "settle_steps", SETTLE_MIN)
    params.require(match_tol, "match_tol", params.number(0, closed=False))
    held = _constant_input(model, u)
    x = _states_of(points, model)
    index1 = (points.unstable_dims.to_numpy() == 1) & (points.kind.to_numpy() == "fixed")
    if not index1.any():
        return pd.DataFrame(columns=SADDLE_COLUMNS)
    groups = [x[index1 & (points.replicate.to_numpy() == r)] for r in range(model.replicates)]
    ids = [points.point.to_numpy()[index1 & (points.replicate.to_numpy() == r)] for r in range(model.replicates)]
    pts, valid = _pad(groups, x.shape[1])
    m = _Map(model)
    _, jx, _ = m.jacobians(pts, _expand(held, pts.shape[1]))
    lam, vec = torch.linalg.eig(jx)
    top = lam.abs().argmax(-1)
    value = lam.gather(-1, top[..., None])[..., 0].real
    v = vec.gather(-1, top[..., None, None].expand(-1, -1, vec.shape[-2], 1))[..., 0].real
    v = v / v.norm(dim=-1, keepdim=True)
    size = step * pts.norm(dim=-1, keepdim=True).clamp(min=1.0)
    both = torch.cat([pts + size * v, pts - size * v], 1)
    stable, stable_ids = _stable_lists(model, points)
    end, _ = _settle(m, both, settle_steps, _expand(held, both.shape[1]), _capture(stable, x.shape[1], match_tol))
    lab = _label(end, stable, match_tol)
    w = pts.shape[1]
    rows = []
    for r, k in zip(*np.nonzero(valid)):
        sides = sorted(int(stable_ids[r][j]) if j >= 0 else -1 for j in (lab[r, k], lab[r, w + k]))
        rows.append((int(r), int(ids[r][k]), float(value[r, k]), sides[0], sides[1]))
    return pd.DataFrame(rows, columns=SADDLE_COLUMNS)


# -- held inputs: folds and the bifurcation diagram -------------------------------------------------
#: The fewest settling steps a scan may ask for: settling is checked every 10 steps.
SETTLE_MIN = 10
FOLD_COLUMNS = ["replicate", "source", "channel", "sign", "fold", "lands"]
#: How far past a fold the input is held to see where the state goes.
PAST_FOLD = 0.01


@dataclass(frozen=True)
class _Branch:
    x: torch.Tensor
    amplitude: torch.Tensor
    alive: torch.Tensor


#: A continuation step is kept when Newton's corrector moves the point less than ``jump`` times the
#: predicted move plus this (state units): it stayed on the branch it followed.
JUMP_SLACK = 0.02


def _continue(model: Stacked, start: torch.Tensor, way: torch.Tensor, max_amplitude: float, first: float,
              tol: float, newton_steps: int = 12, jump: float = 0.5) -> tuple[torch.Tensor, torch.Tensor]:
    """Natural continuation of every stable point in start (R, P, D) in the held input a · way
    (way: (R, P, n_inputs), one direction per point), each with its own step: a step is kept when
    the corrector (chord iterations: Newton with the Jacobian factorised once at the last point, the
    one the tangent predictor also uses) converges near the prediction (within ``jump`` times the
    predicted move plus ``JUMP_SLACK``), else the step is halved; a branch ends (a fold) when its step falls below ``tol``. Near the fold the stable
    branch and its saddle are close and fold together, so the fold is found whichever of the two
    Newton follows there. Points leave the batch when their branch ends. Returns the amplitude where
    each branch was last seen (``max_amplitude`` when it never ended) and the state there."""
    m = _Map(model)
    r, p, d = start.shape
    a_all, x_all = torch.zeros(r, p, dtype=torch.float64), start.clone()
    index = torch.arange(p)[None].expand(r, -1)
    valid = torch.ones(r, p, dtype=torch.bool)
    x, w = start.clone(), way
    a, h = torch.zeros(r, p, dtype=torch.float64), torch.full((r, p), first, dtype=torch.float64)
    eye = torch.eye(d, dtype=x.dtype)
    while True:
        a_try = torch.clamp(a + h, max=max_amplitude)
        _, jx, ju = m.jacobians(x, a[..., None] * w)
        lu, pivots, _ = torch.linalg.lu_factor_ex(jx - eye)  # one factorisation per step, used twice
        tangent = torch.linalg.lu_solve(lu, pivots, -(ju @ w[..., None]))[..., 0]  # dx/da
        tangent = torch.nan_to_num(tangent, nan=0.0, posinf=0.0, neginf=0.0)
        u_try = a_try[..., None] * w
        guess = x + tangent * (a_try - a)[..., None]
        new = guess
        for _ in range(newton_steps):  # chord iterations: Newton with the Jacobian of the last point
            g = m(new, u_try) - new
            if bool(((0.5 * (g * g).sum(-1) < 1e-20) | ~valid).all()):
                break
            new = torch.nan_to_num(new - torch.linalg.lu_solve(lu, pivots, g[..., None])[..., 0], nan=0.0,
                                   posinf=0.0, neginf=0.0)
        # kept when the corrector lands near the predictor (same branch): within a share of the predicted move
        near = (new - guess).norm(dim=-1) <= jump * (guess - x).norm(dim=-1) + JUMP_SLACK
        ok = valid & (_speed(m, new, u_try) < 1e-20) & near
        x = torch.where(ok[..., None], new, x)
        a = torch.where(ok, a_try, a)
        h = torch.where(ok, torch.clamp(h * 2, max=first), h / 2)
        rows = index[..., None].expand(-1, -1, d)
        x_all.scatter_(1, rows, torch.where(valid[..., None], x, x_all.gather(1, rows)))
        a_all.scatter_(1, index, torch.where(valid, a, a_all.gather(1, index)))
        remaining = valid & ~(a >= max_amplitude) & (h >= tol)
        if not bool(remaining.any()):
            return a_all, x_all
        if bool((valid & ~remaining).any()):  # ended branches leave the batch
            order, valid = _compact(remaining)
            index, x, w = index.gather(1, order), _gather(x, order), _gather(w, order)
            a, h = a.gather(1, order), h.gather(1, order)


def folds(model: Stacked, points: pd.DataFrame, channels=None, signs=(1, -1), *, only: pd.DataFrame | None = None,
          max_amplitude: float = 4.0, step: float = 0.25, tol: float = 1e-4, settle_steps: int = 300,
          match_tol: float = 1e-2) -> pd.DataFrame:
    """Where each stable point vanishes as a held input on one channel grows.

    Every stable point of ``points`` (the input-free map) is continued in a constant input
    sign · a on a channel, a = 0 … ``max_amplitude`` (natural continuation with a tangent
    predictor, steps of at most ``step``, Newton corrector; every channel and sign at once); the
    branch ends at a saddle-node, where the stable point meets a saddle (∂F/∂x gets an eigenvalue
    1). ``fold`` is that amplitude (to ``tol``); ``lands`` is the stable point of ``points`` where
    the state settles when the input is held just above the fold (by ``PAST_FOLD``, so that the
    slow passage past the vanished point's ghost ends within ``settle_steps``) until the state
    settles, then released (−1: none listed).

    Parameters
    ----------
    model : irn.models.Stacked
    points : pandas.DataFrame
        A ``fixed_points`` frame of ``model`` (input-free).
    channels, signs
        The held inputs (default every channel, both signs).
    only : pandas.DataFrame or None
        Rows (replicate, source, channel, sign) to continue, e.g. the task's switches; None: every
        stable point with every channel and sign.
    max_amplitude, step, tol, settle_steps, match_tol
        Range and largest step of the continuation, the fold's precision, settling and matching.

    Returns
    -------
    pandas.DataFrame
        replicate, source, channel, sign, fold (NaN: the branch persists up to ``max_amplitude``),
        lands (``point`` number, −1 none listed or no fold).
    """
    _check_model(model)
    channels = _channels(model, channels)
    signs = _signs(signs)
    params.require(max_amplitude, "max_amplitude", params.number(0, closed=False))
    params.require(step, "step", params.number(0, closed=False))
    params.require(tol, "tol", params.number(MIN_TOL))
    params.check_count(settle_steps, "settle_steps", SETTLE_MIN)
    params.require(match_tol, "match_tol", params.number(0, closed=False))
    if only is not None:
        if not isinstance(only, pd.DataFrame) or any(c not in only for c in ("replicate", "source", "channel", "sign")):
            raise ValueError("only must be a DataFrame with columns replicate, source, channel, sign, or None")
    stable, ids = _stable_lists(model, points)
    if not any(len(s) for s in stable):
        return pd.DataFrame(columns=FOLD_COLUMNS)
    wanted = {(int(r), int(k), int(c), int(g)) for r, k, c, g in zip(only.replicate, only.source, only.channel,
                                                                      only.sign)} if only is not None else None
    jobs = [[(k, ch, s) for ch in channels for s in signs for k in range(len(stable[r]))
             if wanted is None or (r, int(ids[r][k]), ch, s) in wanted] for r in range(model.replicates)]
    if not any(jobs):
        return pd.DataFrame(columns=FOLD_COLUMNS)
    width = max(len(j) for j in jobs)
    d = state_size(model)
    start = torch.zeros(model.replicates, width, d, dtype=torch.float64)
    way = torch.zeros(model.replicates, width, model.n_inputs, dtype=torch.float64)
    for r, job in enumerate(jobs):
        for q, (k, ch, s) in enumerate(job):
            start[r, q] = torch.as_tensor(stable[r][k])
            way[r, q, ch] = s
        start[r, len(job):] = start[r, 0] if job else 0.0
    a, x = _continue(model, start, way, float(max_amplitude), float(step), float(tol))
    ended = (a < max_amplitude).numpy()
    m = _Map(model)
    past = a + max(10 * tol, PAST_FOLD)  # just past the fold the branch is gone (and its ghost is passed)
    held, _ = _settle(m, x, settle_steps, past[..., None] * way)
    end, _ = _settle(m, held, settle_steps, None, _capture(stable, d, match_tol))
    lab = _label(end, stable, match_tol)
    rows = []
    for r, job in enumerate(jobs):
        for q, (k, ch, s) in enumerate(job):
            fold = float(a[r, q]) if ended[r, q] else np.nan
            lands = int(ids[r][lab[r, q]]) if ended[r, q] and lab[r, q] >= 0 else -1
            rows.append((r, int(ids[r][k]), ch, s, fold, lands))
    return pd.DataFrame(rows, columns=FOLD_COLUMNS)


def diagram(model: Stacked, points: pd.DataFrame, channel: int, sign: int = 1, amplitudes=None, *,
            replicate: int = 0, jitter: float = 0.05, n_seeds: int = 64, seed: int = 0, **options) -> pd.DataFrame:
    """The fixed points of one replicate under every held input sign · a on ``channel``: a
    bifurcation diagram.

    Each amplitude is searched from the fixed points found at the previous one, the input-free
    ``points`` of the replicate and ``n_seeds`` jittered copies of them.

    Parameters
    ----------
    model : irn.models.Stacked
    points : pandas.DataFrame
        A ``fixed_points`` frame of ``model`` (input-free).
    channel, sign
        The held input's channel and sign.
    amplitudes : sequence of float, or None
        The held amplitudes (≥ 0; default 0 … 2 in steps of 0.05).
    replicate : int
        Which network.
    jitter, n_seeds, seed
        Jittered copies of the input-free points added to the seeds.
    **options
        Further ``fixed_points`` options (default ``adam_steps=0``).

    Returns
    -------
    pandas.DataFrame
        The ``fixed_points`` columns (replicate is the given one), amplitude, and the readout of every
        point, output0 … output{K−1}.
    """
    _check_model(model)
    params.require(replicate, "replicate", params.index(model.replicates - 1))
    _check_pulse(model, channel, sign)
    amplitudes = np.arange(0.0, 2.0 + 1e-9, 0.05) if amplitudes is None else params.array(
        amplitudes, "amplitudes", ndim=1, min_samples=1)
    if (amplitudes < 0).any():
        raise ValueError("amplitudes must be >= 0 (the sign is given by sign)")
    one = model.select([int(replicate)])
    base = _states_of(points, model)[points.replicate.to_numpy() == replicate]
    if len(base) == 0:
        raise ValueError(f"points must hold fixed points of replicate {replicate}")
    options = {"adam_steps": 0, **options}
    rng = np.random.default_rng(seed)
    pick = base[rng.integers(0, len(base), size=n_seeds)] + rng.normal(0, jitter, (n_seeds, base.shape[1]))
    frames, previous = [], np.zeros((0, base.shape[1]))
    for a in amplitudes:
        u = np.zeros(model.n_inputs)
        u[channel] = sign * a
        found = fixed_points(one, np.concatenate([previous, base, pick]), u=u, seed=seed, **options)
        previous = found[state_names(model)].to_numpy()
        frames.append(found.assign(replicate=int(replicate), amplitude=float(a)))
    out = pd.concat(frames, ignore_index=True)
    h = torch.from_numpy(np.array(out[state_names(model)[:model.hidden]].to_numpy(), dtype=np.float64))
    w, b = one.readout_weight[0].detach().double(), one.readout_bias[0].detach().double()
    read = h @ w.T + b
    read = torch.tanh(read) if model.readout == "tanh" else read
    for k in range(model.n_outputs):
        out[f"output{k}"] = read[:, k].numpy()
    return out


# -- shared checks --------------------------------------------------------------------------------
#: The smallest bisection tolerance: float64 rounding of a settled run is ~1e-12 of an amplitude.
MIN_TOL = 1e-10


def _channels(model: Stacked, channels) -> list[int]:
    if channels is None:
        return list(range(model.n_inputs))
    params.require(channels, "channels", params.sequence(params.index(model.n_inputs - 1), min_length=1))
    return [int(c) for c in channels]


def _signs(signs) -> list[int]:
    params.require(signs, "signs", params.sequence(params.one_of((1, -1)), min_length=1))
    return [int(s) for s in signs]


def _check_pulse(model: Stacked, channel, sign, pulse_steps: int = 1) -> None:
    params.require(channel, "channel", params.index(model.n_inputs - 1))
    params.require(sign, "sign", params.one_of((1, -1)))
    params.check_count(pulse_steps, "pulse_steps", 1)


__all__ = ["CONVERGED", "EIG_TOL", "FOLD_COLUMNS", "FRAME_COLUMNS", "KINDS", "MIN_TOL", "NEIGHBOURS", "NUDGE", "SADDLE_COLUMNS", "SETTLE_MIN", "diagram", "fixed_points", "folds", "saddles"]
