"""Excitable connections: where an input pulse carries the state from a stable point, and the
smallest pulse that carries it to each place.

From a stable point i, a pulse of amplitude a and a sign on one input channel for ``pulse_steps``
steps, then input-free steps until the state settles, lands somewhere: back at i, at another stable
point j, or nowhere listed. The *landing map* a ↦ landing point is a step function; every stable
point j it reaches is an excitable connection i → j with its own *threshold*, the smallest a that
lands at j (Ceni, Ashwin & Livi's excitability threshold, reconstructed: a grid scan of a, then a
bisection of the first step into j). ``network`` lists one connection per (source, target, channel,
sign); ``landing_map`` gives the map itself; ``transition_probabilities`` gives where input noise
alone carries the state, as the noise grows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from irn import params
from irn.attractors.maps import _as_states, _check_model, _Map, _settle, state_size
from irn.attractors.points import (
    MIN_TOL,
    SETTLE_MIN,
    _capture,
    _channels,
    _check_pulse,
    _label,
    _pad,
    _signs,
    _stable_lists,
    saddles,
)
from irn.models import Stacked

#: Landing codes besides a stable point's index: the state came back to where it started, or
#: settled (or not) somewhere that is no listed stable point.
STAYED, ELSEWHERE = -2, -1
EDGE_COLUMNS = ["replicate", "source", "target", "channel", "sign", "pulse_steps", "threshold", "first",
                "saddle", "probability"]
LANDING_COLUMNS = ["replicate", "source", "channel", "sign", "start", "end", "target"]


@dataclass(frozen=True)
class _Scan:
    """The checked settings of a threshold scan (see ``threshold``)."""

    pulse_steps: int
    max_amplitude: float
    grid: int
    tol: float
    settle_steps: int
    match_tol: float

    @property
    def levels(self) -> np.ndarray:
        return np.linspace(0, self.max_amplitude, self.grid + 1)[1:]

    @property
    def bisections(self) -> int:
        """Halvings that bring one grid step below ``tol`` (a count, so the loop always ends)."""
        return max(0, int(np.ceil(np.log2(self.max_amplitude / self.grid / self.tol))))


def _scan_settings(pulse_steps=1, max_amplitude=4.0, grid=40, tol=1e-4, settle_steps=300, match_tol=1e-2) -> _Scan:
    """Check the settings every scan shares, before any work, and return them.

    pulse_steps ≥ 1; max_amplitude > 0; grid ≥ 1 levels; tol ≥ ``MIN_TOL`` (a bisection stops at a
    tolerance float64 can resolve); settle_steps ≥ ``SETTLE_MIN`` (settling is checked every 10
    steps, so fewer would judge a state still in flight); match_tol > 0.
    """
    params.check_count(pulse_steps, "pulse_steps", 1)
    params.require(max_amplitude, "max_amplitude", params.number(0, closed=False))
    params.check_count(grid, "grid", 1)
    params.require(tol, "tol", params.number(MIN_TOL))
    params.check_count(settle_steps, "settle_steps", SETTLE_MIN)
    params.require(match_tol, "match_tol", params.number(0, closed=False))
    return _Scan(int(pulse_steps), float(max_amplitude), int(grid), float(tol), int(settle_steps), float(match_tol))


#: Scans whose bisection tolerance is at least this run in float32 (twice as fast; a settled run's
#: rounding moves a landing decision by ~1e-6 of an amplitude); finer tolerances run in float64.
FLOAT32_TOL = 1e-5


class _Probe:
    """What every pulse of one scan shares: the map (float32 or float64, see ``FLOAT32_TOL``), the
    settings, the listed stable points (per replicate, as start states padded to (R, P, D) and as
    capture points for settling)."""

    def __init__(self, model: Stacked, points: pd.DataFrame | None, scan: _Scan):
        self.dtype = torch.float32 if scan.tol >= FLOAT32_TOL else torch.float64
        self.model, self.scan, self.m = model, scan, _Map(model, self.dtype)
        self.stable, self.ids = _stable_lists(model, points)
        start, self.valid = _pad(self.stable, state_size(model))
        self.start = start.to(self.dtype)
        capture = _capture(self.stable, state_size(model), scan.match_tol)
        self.capture = None if capture is None else (capture[0].to(self.dtype), capture[1])

    @property
    def empty(self) -> bool:
        return not any(len(s) for s in self.stable)

    def direction(self, channel: int, sign: int) -> torch.Tensor:
        """The input vector of a unit pulse: sign on ``channel`` (n_inputs,)."""
        d = torch.zeros(self.model.n_inputs, dtype=torch.float64)
        d[channel] = sign
        return d

    def pulse(self, start: torch.Tensor, direction: torch.Tensor, amplitude: torch.Tensor) -> torch.Tensor:
        """start (R, P, D), direction (n_inputs,) or (R, P, n_inputs), amplitude (R, P) → the settled
        state (R, P, D) after ``pulse_steps`` steps of the input amplitude · direction."""
        u = amplitude[..., None].to(start.dtype) * direction.to(start.dtype)
        x = start
        for _ in range(self.scan.pulse_steps):
            x = self.m(x, u)
        return self.settle(x)

    def settle(self, x: torch.Tensor) -> torch.Tensor:
        return _settle(self.m, x, self.scan.settle_steps, None, self.capture)[0]

    def landing(self, end: torch.Tensor, start: torch.Tensor) -> np.ndarray:
        """Where each settled state landed: a stable point's index, ``STAYED`` or ``ELSEWHERE``."""
        lab = _label(end, self.stable, self.scan.match_tol)
        stayed = ((end - start).norm(dim=-1) <= self.scan.match_tol).numpy()
        return np.where(stayed, STAYED, lab)

    def grid(self, pulses: list) -> np.ndarray:
        """Landing of every stable point at every grid level for every (channel, sign) of
        ``pulses``, in one run: (R, pulses, P, levels)."""
        r, p, d = self.start.shape
        levels = self.scan.levels
        n = len(pulses) * p * len(levels)
        many = self.start.repeat_interleave(len(levels), dim=1).repeat(1, len(pulses), 1)
        amp = torch.from_numpy(np.tile(levels, p * len(pulses)))[None].expand(r, n).clone()
        way = torch.stack([self.direction(c, s) for c, s in pulses]).repeat_interleave(p * len(levels), dim=0)
        end = self.pulse(many, way[None].expand(r, n, -1), amp)
        return self.landing(end, many).reshape(r, len(pulses), p, len(levels))

    def bisect(self, start, direction, lo, hi, wanted) -> np.ndarray:
        """Smallest amplitude in (lo, hi] that lands on ``wanted`` (a landing code per start) for
        every start (R, P, D) pulsed along ``direction`` (R, P, n_inputs): it holds at hi and not at
        lo; ``scan.bisections`` halvings, all problems in one run each."""
        lo, hi = lo.copy(), hi.copy()
        for _ in range(self.scan.bisections):
            mid = (lo + hi) / 2
            hit = self.landing(self.pulse(start, direction, torch.from_numpy(mid)), start) == wanted
            hi, lo = np.where(hit, mid, hi), np.where(hit, lo, mid)
        return hi


# -- one threshold -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Threshold:
    """The smallest pulse from each start state that moves it (or lands it on its target).

    Attributes
    ----------
    amplitude : ndarray, shape (R, P)
        The threshold (NaN: no amplitude up to ``max_amplitude`` did).
    target : ndarray, shape (R, P)
        ``point`` number of the stable point where the state lands at that amplitude (−1 when it
        lands on no listed stable point, or when ``points`` was not given).
    landed : ndarray, shape (R, P, D)
        The state reached at the threshold after settling (NaN where there is no threshold).
    """

    amplitude: np.ndarray
    target: np.ndarray
    landed: np.ndarray


def threshold(model: Stacked, start, channel: int, sign: int = 1, pulse_steps: int = 1, *, target=None,
              points: pd.DataFrame | None = None, max_amplitude: float = 4.0, grid: int = 40, tol: float = 1e-4,
              settle_steps: int = 300, match_tol: float = 1e-2) -> Threshold:
    """The smallest pulse on one input channel that moves the state from ``start`` — or, with
    ``target``, that lands it on ``target``.

    Parameters
    ----------
    model : irn.models.Stacked
    start : array, shape (R, P, D) or (P, D)
        Start states (normally stable points).
    channel, sign, pulse_steps
        The pulse: ``sign · a`` on ``channel`` for ``pulse_steps`` steps, then up to ``settle_steps``
        input-free steps.
    target : array shaped like ``start``, or None
        None: the state must merely end farther than ``match_tol`` from its start. Given: it must
        end within ``match_tol`` of its row of ``target`` (the per-connection threshold).
    points : pandas.DataFrame or None
        A ``fixed_points`` frame of ``model``, to name where the state lands (its stable points).
    max_amplitude, grid, tol, settle_steps, match_tol
        a is scanned on ``grid`` equal steps up to ``max_amplitude``; the first that succeeds is
        refined by bisection until the bracket is narrower than ``tol``.

    Returns
    -------
    Threshold
        amplitude, target and landed state per start (NaN amplitude: no amplitude succeeded).
    """
    _check_model(model)
    _check_pulse(model, channel, sign, pulse_steps)
    scan = _scan_settings(pulse_steps, max_amplitude, grid, tol, settle_steps, match_tol)
    start = _as_states(model, start, "start")
    goal = None if target is None else _as_states(model, target, "target")
    if goal is not None and goal.shape != start.shape:
        raise ValueError(f"target must have the shape of start {tuple(start.shape)}, got {tuple(goal.shape)}")
    probe = _Probe(model, points, scan)
    way = probe.direction(int(channel), int(sign))
    exact = start
    start = start.to(probe.dtype)
    goal = None if goal is None else goal.to(probe.dtype)
    r, p, _ = start.shape
    levels = scan.levels

    def success(end, begin, wanted):
        if wanted is None:
            return ((end - begin).norm(dim=-1) > scan.match_tol).numpy()
        return ((end - wanted).norm(dim=-1) <= scan.match_tol).numpy()

    many = start.repeat_interleave(len(levels), dim=1)
    amp = torch.from_numpy(np.tile(levels, p))[None].expand(r, -1).clone()
    hit = success(probe.pulse(many, way, amp), many,
                  None if goal is None else goal.repeat_interleave(len(levels), dim=1)).reshape(r, p, len(levels))
    found = hit.any(-1)
    first = hit.argmax(-1)
    hi = np.where(found, levels[first], 0.0)
    lo = np.where(found & (first > 0), levels[np.maximum(first - 1, 0)], 0.0)
    for _ in range(scan.bisections):
        mid = np.where(found, (lo + hi) / 2, 0.0)
        ok = success(probe.pulse(start, way, torch.from_numpy(mid)), start, goal)
        hi, lo = np.where(found & ok, mid, hi), np.where(found & ~ok, mid, lo)
    u = torch.from_numpy(hi)[..., None] * way
    m, end = _Map(model), exact
    for _ in range(scan.pulse_steps):
        end = m(end, u)
    end = _settle(m, end, scan.settle_steps, None)[0]  # in float64, all the way: ``landed`` is the settled state
    lab = _label(end, probe.stable, scan.match_tol)
    named = np.array([[probe.ids[q][k] if k >= 0 else -1 for k in row] for q, row in enumerate(lab)],
                     dtype=np.int64).reshape(lab.shape)
    return Threshold(np.where(found, hi, np.nan), np.where(found, named, -1),
                     np.where(found[..., None], end.numpy(), np.nan))


# -- the landing map and the network --------------------------------------------------------------
def _intervals(land: np.ndarray, levels: np.ndarray) -> list[tuple[float, float, int]]:
    """Runs of equal landing along the grid: (start, end, landing) with start the level before the
    run (0 for the first) and end its last level."""
    out, begin = [], 0
    for k in range(1, len(land) + 1):
        if k == len(land) or land[k] != land[begin]:
            out.append((float(levels[begin - 1]) if begin else 0.0, float(levels[k - 1]), int(land[begin])))
            begin = k
    return out


def _check_points(points) -> None:
    if not isinstance(points, pd.DataFrame):
        raise ValueError(f"points must be a fixed_points DataFrame, got {type(points).__name__}")


def _landing_rows(probe: _Probe, pulses: list, land: np.ndarray) -> pd.DataFrame:
    rows = []
    for j, (ch, s) in enumerate(pulses):
        for r, k in zip(*np.nonzero(probe.valid)):
            src = int(probe.ids[r][k])
            for lo, hi, t in _intervals(land[r, j, k], probe.scan.levels):
                rows.append((int(r), src, ch, s, lo, hi,
                             src if t == STAYED else int(probe.ids[r][t]) if t >= 0 else -1))
    return pd.DataFrame(rows, columns=LANDING_COLUMNS)


def landing_map(model: Stacked, points: pd.DataFrame, channels=None, signs=(1, -1), pulse_steps: int = 1, *,
                max_amplitude: float = 4.0, grid: int = 40, settle_steps: int = 300,
                match_tol: float = 1e-2) -> pd.DataFrame:
    """Where a pulse of each amplitude on the grid carries the state from every stable point.

    Parameters
    ----------
    model : irn.models.Stacked
    points : pandas.DataFrame
        A ``fixed_points`` frame of ``model`` (its stable rows are the sources).
    channels, signs, pulse_steps, max_amplitude, grid, settle_steps, match_tol
        As in ``network``.

    Returns
    -------
    pandas.DataFrame
        One row per run of equal landing along the grid of amplitudes (``grid`` levels up to
        ``max_amplitude``): replicate, source (``point``), channel, sign, start and end (the run covers
        amplitudes in (start, end], at the grid's resolution), target (``point`` where the state lands;
        the source itself when it comes back, −1 when it settles on no listed stable point).
    """
    _check_model(model)
    _check_points(points)
    channels, signs = _channels(model, channels), _signs(signs)
    probe = _Probe(model, points, _scan_settings(pulse_steps, max_amplitude, grid, 1e-4, settle_steps, match_tol))
    if probe.empty:
        return pd.DataFrame(columns=LANDING_COLUMNS)
    pulses = [(ch, s) for ch in channels for s in signs]
    return _landing_rows(probe, pulses, probe.grid(pulses))


def network(model: Stacked, points: pd.DataFrame, channels=None, signs=(1, -1), pulse_steps: int = 1, *,
            max_amplitude: float = 4.0, grid: int = 40, tol: float = 1e-4, settle_steps: int = 300,
            match_tol: float = 1e-2, noise: float = 0.0, amplitude: float = 1.0, trials: int = 100,
            seed: int = 0) -> pd.DataFrame:
    """The excitable network: one connection per (source, target, channel, sign) with its threshold.

    Parameters
    ----------
    model : irn.models.Stacked
    points : pandas.DataFrame
        A ``fixed_points`` frame of ``model``: its stable rows are the network's nodes, its index-1
        saddles are matched to the connections they mediate.
    channels, signs, pulse_steps
        Input channels to pulse (default all), signs, and the pulse's length in steps.
    max_amplitude, grid, tol, settle_steps, match_tol
        As in ``threshold``: a grid scan of the amplitude, then a bisection of the first grid step
        into each target.
    noise, amplitude, trials, seed
        With ``noise`` > 0, every stable point also gets ``trials`` pulses of ``amplitude`` (the
        task's input size) with Gaussian noise of that standard deviation on every channel during the
        pulse; probability is the share of trials that land on ``target``.

    Returns
    -------
    pandas.DataFrame
        One row per connection: replicate, source and target (``point`` numbers; target −1: the
        state settles on no listed stable point), channel, sign, pulse_steps, threshold (the
        smallest amplitude landing on ``target``), first (True for the lowest-threshold target of
        its source, channel and sign: the place the smallest moving pulse goes), saddle (the index-1
        saddle whose unstable manifold joins source and target, −1 none found), probability (NaN
        without ``noise``; rows seen only under noise have threshold NaN).
    """
    _check_model(model)
    _check_points(points)
    channels, signs = _channels(model, channels), _signs(signs)
    scan = _scan_settings(pulse_steps, max_amplitude, grid, tol, settle_steps, match_tol)
    params.require(noise, "noise", params.number(0))
    params.require(amplitude, "amplitude", params.number(0, closed=False))
    params.check_count(trials, "trials", 1)
    params.require(seed, "seed", params.SEED)
    edges, _ = _excitable(model, points, channels, signs, scan, noise=noise, amplitude=amplitude, trials=trials,
                          seed=seed)
    return edges


def _excitable(model, points, channels, signs, scan, *, noise=0.0, amplitude=1.0, trials=100, seed=0,
               found=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``network`` and ``landing_map`` from one grid scan (checked arguments); found: the
    ``saddles`` frame of ``points`` when already computed."""
    probe = _Probe(model, points, scan)
    if probe.empty:
        return pd.DataFrame(columns=EDGE_COLUMNS), pd.DataFrame(columns=LANDING_COLUMNS)
    pulses = [(ch, s) for ch in channels for s in signs]
    land = probe.grid(pulses)
    rows = _connections(probe, pulses, land)
    edges = pd.DataFrame(rows, columns=["replicate", "source", "target", "channel", "sign", "threshold"])
    edges["pulse_steps"] = scan.pulse_steps
    low = edges.groupby(["replicate", "source", "channel", "sign"]).threshold.transform("min")
    edges["first"] = edges.threshold == low
    if found is None:
        found = saddles(model, points, settle_steps=max(scan.settle_steps, 1000), match_tol=scan.match_tol)
    edges["saddle"] = _mediating(found, edges)
    edges["probability"] = np.nan
    if noise > 0:
        edges = _with_probabilities(probe, edges, channels, signs, noise, amplitude, trials, seed)
    edges = edges.sort_values(["replicate", "source", "channel", "sign", "threshold"],
                              ascending=[True, True, True, False, True], ignore_index=True)[EDGE_COLUMNS]
    return edges, _landing_rows(probe, pulses, land)


def _connections(probe: _Probe, pulses: list, land: np.ndarray) -> list[tuple]:
    """Every (source, target) reached by every pulse, with its threshold: the first grid step into
    the target, bisected (all sources, targets and pulses at once)."""
    r_all = probe.start.shape[0]
    levels = probe.scan.levels
    problems = [[] for _ in range(r_all)]  # per replicate: (pulse, k, target code, lo, hi)
    for j in range(len(pulses)):
        for r, k in zip(*np.nonzero(probe.valid)):
            seen = set()
            for i, t in enumerate(land[r, j, k]):
                if t == STAYED or t in seen:
                    continue
                seen.add(int(t))
                problems[r].append((j, int(k), int(t), float(levels[i - 1]) if i else 0.0, float(levels[i])))
    width = max(len(p) for p in problems)
    if width == 0:
        return []
    x = torch.zeros(r_all, width, probe.start.shape[-1], dtype=probe.start.dtype)
    way = torch.zeros(r_all, width, probe.model.n_inputs, dtype=torch.float64)
    lo, hi = np.zeros((r_all, width)), np.zeros((r_all, width))
    wanted = np.full((r_all, width), STAYED - 1)
    for r, probs in enumerate(problems):
        for q, (j, k, t, a, b) in enumerate(probs):
            x[r, q], way[r, q], lo[r, q], hi[r, q], wanted[r, q] = probe.start[r, k], probe.direction(*pulses[j]), a, b, t
    th = probe.bisect(x, way, lo, hi, wanted)
    ids = probe.ids
    return [(r, int(ids[r][k]), int(ids[r][t]) if t >= 0 else -1, *pulses[j], float(th[r, q]))
            for r, probs in enumerate(problems) for q, (j, k, t, _, _) in enumerate(probs)]


def _mediating(found: pd.DataFrame, edges: pd.DataFrame) -> np.ndarray:
    """The index-1 saddle of ``found`` joining each edge's source and target (the lowest-numbered;
    −1 none)."""
    join = {}
    for row in found.itertuples():
        key = (row.replicate, row.side_a, row.side_b)
        join[key] = min(join.get(key, row.saddle), row.saddle)
    return np.array([join.get((r, min(s, t), max(s, t)), -1) if t >= 0 else -1
                     for r, s, t in zip(edges.replicate, edges.source, edges.target)], dtype=np.int64)


def _with_probabilities(probe: _Probe, edges, channels, signs, noise, amplitude, trials, seed) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    r, p, _ = probe.start.shape
    many = probe.start.repeat_interleave(trials, dim=1)
    counts = []
    for ch in channels:
        for s in signs:
            x = many
            for _ in range(probe.scan.pulse_steps):
                u = torch.from_numpy(rng.normal(0.0, noise, size=(r, p * trials, probe.model.n_inputs)))
                x = probe.m(x, (u + amplitude * probe.direction(ch, s)).to(probe.dtype))
            land = probe.landing(probe.settle(x), many).reshape(r, p, trials)
            for rr, k in zip(*np.nonzero(probe.valid)):
                src = int(probe.ids[rr][k])
                for t, n in zip(*np.unique(land[rr, k][land[rr, k] != STAYED], return_counts=True)):
                    counts.append((rr, src, int(probe.ids[rr][t]) if t >= 0 else -1, ch, s, n / trials))
    prob = pd.DataFrame(counts, columns=["replicate", "source", "target", "channel", "sign", "probability"])
    keys = ["replicate", "source", "target", "channel", "sign"]
    out = edges.drop(columns="probability").merge(prob, on=keys, how="outer")
    out["probability"] = out.probability.fillna(0.0)
    out["pulse_steps"] = probe.scan.pulse_steps
    out["first"] = out["first"].fillna(False).astype(bool)
    out["saddle"] = out.saddle.fillna(-1).astype(np.int64)
    return out


# -- noise alone ----------------------------------------------------------------------------------
NOISE_COLUMNS = ["replicate", "source", "target", "noise", "probability"]


def transition_probabilities(model: Stacked, points: pd.DataFrame, noise_levels, *, pulse_steps: int = 1,
                             trials: int = 200, settle_steps: int = 300, match_tol: float = 1e-2,
                             seed: int = 0) -> pd.DataFrame:
    """Where input noise alone carries the state from each stable point, as the noise grows.

    From every stable point, ``trials`` runs of ``pulse_steps`` steps of Gaussian noise of standard
    deviation ``noise`` on every input channel, then input-free steps until the state settles.

    Parameters
    ----------
    model : irn.models.Stacked
    points : pandas.DataFrame
        A ``fixed_points`` frame of ``model``.
    noise_levels : sequence of float
        Standard deviations of the noise (each > 0).
    pulse_steps, trials, settle_steps, match_tol, seed
        Steps of noise, runs per stable point and level, settling, matching, random seed.

    Returns
    -------
    pandas.DataFrame
        replicate, source, target (``point`` numbers; the source itself: the state came back; −1: it
        settled on no listed stable point), noise, probability (share of trials) — one row per
        (source, noise level, target reached).
    """
    _check_model(model)
    _check_points(points)
    levels = params.array(noise_levels, "noise_levels", ndim=1, min_samples=1)
    if (levels <= 0).any():
        raise ValueError("noise_levels must be numbers > 0 (standard deviations of the input noise)")
    params.check_count(trials, "trials", 1)
    params.require(seed, "seed", params.SEED)
    probe = _Probe(model, points, _scan_settings(pulse_steps, 1.0, 1, 1e-4, settle_steps, match_tol))
    if probe.empty:
        return pd.DataFrame(columns=NOISE_COLUMNS)
    rng = np.random.default_rng(seed)
    r, p, _ = probe.start.shape
    many = probe.start.repeat_interleave(trials, dim=1)
    rows = []
    for level in levels:
        x = many
        for _ in range(probe.scan.pulse_steps):
            x = probe.m(x, torch.from_numpy(rng.normal(0.0, level, size=(r, p * trials, model.n_inputs))).to(probe.dtype))
        land = probe.landing(probe.settle(x), many).reshape(r, p, trials)
        for rr, k in zip(*np.nonzero(probe.valid)):
            src = int(probe.ids[rr][k])
            codes, n = np.unique(land[rr, k], return_counts=True)
            for t, c in zip(codes, n):
                rows.append((int(rr), src, src if t == STAYED else int(probe.ids[rr][t]) if t >= 0 else -1,
                             float(level), c / trials))
    return pd.DataFrame(rows, columns=NOISE_COLUMNS)


__all__ = ["ELSEWHERE", "EDGE_COLUMNS", "LANDING_COLUMNS", "NOISE_COLUMNS", "STAYED", "Threshold", "landing_map",
           "network", "threshold", "transition_probabilities"]
