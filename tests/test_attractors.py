"""irn.attractors on hand-built networks with known answers (DESIGN §11, §17)."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.optimize import brentq, minimize, minimize_scalar

from irn import attractors as at
from irn import tasks
from irn.models import Stacked

X_STAR = 0.9575040240772687  # the positive root of x = tanh(2x)


def _rnn(w_hh, w_ih, b=None, replicates=1, readout=None):
    """A Stacked RNN with the given (H, H) and (H, I) weights in every replicate (readout: (K, H))."""
    w_hh, w_ih = torch.as_tensor(w_hh, dtype=torch.float32), torch.as_tensor(w_ih, dtype=torch.float32)
    k = w_hh.shape[0] if readout is None else np.asarray(readout).shape[0]
    m = Stacked("rnn", replicates, w_ih.shape[1], hidden=w_hh.shape[0], n_outputs=k)
    with torch.no_grad():
        m.weight_hh.copy_(w_hh.expand_as(m.weight_hh))
        m.weight_ih.copy_(w_ih.expand_as(m.weight_ih))
        m.bias_ih.zero_()
        m.bias_hh.copy_(torch.zeros_like(m.bias_hh) if b is None else torch.as_tensor(b).expand_as(m.bias_hh))
        if readout is not None:
            m.readout_weight.copy_(torch.as_tensor(readout, dtype=torch.float32).expand_as(m.readout_weight))
            m.readout_bias.zero_()
    return m


@pytest.fixture
def one_node():
    return _rnn([[2.0]], [[1.0]])


@pytest.fixture
def cube():
    return _rnn(2 * np.eye(3), np.eye(3))


def _grid(d, lim=1.2, n=7):
    return np.array(list(itertools.product(np.linspace(-lim, lim, n), repeat=d)))


def _x_star():
    return brentq(lambda x: x - np.tanh(2 * x), 0.5, 1.5)  # independent of the library


def test_fixed_point_closed_form():
    assert np.isclose(_x_star(), X_STAR)


def test_one_node_fixed_points_and_jacobians(one_node):
    fp = at.fixed_points(one_node, np.linspace(-1.5, 1.5, 31)[:, None])
    assert (fp.kind == "fixed").all()
    got = np.sort(fp.h0.to_numpy())
    assert np.allclose(got, [-X_STAR, 0.0, X_STAR], atol=1e-10)
    by_x = fp.set_index(fp.h0.round(6))
    assert by_x.loc[0.0, "spectral_radius"] == pytest.approx(2.0)
    assert not by_x.loc[0.0, "stable"] and by_x.loc[0.0, "unstable_dims"] == 1
    slope = 2 * (1 - X_STAR ** 2)
    assert slope == pytest.approx(0.1663721, abs=1e-7)
    for x in (X_STAR, -X_STAR):
        row = by_x.loc[round(x, 6)]
        assert row.stable and row.unstable_dims == 0 and row.spectral_radius == pytest.approx(slope)
    sm = at.step_map(one_node, np.array([[X_STAR]]), np.array([[0.3]]), jacobian=True)
    g = 1 - np.tanh(2 * X_STAR + 0.3) ** 2
    assert sm.next.item() == pytest.approx(np.tanh(2 * X_STAR + 0.3))
    assert sm.dx.item() == pytest.approx(2 * g) and sm.du.item() == pytest.approx(g)


def test_fixed_points_under_a_held_input(one_node):
    """F(x, u) = x for x' = tanh(2x + 0.3): the three roots, found independently with brentq."""
    fp = at.fixed_points(one_node, np.linspace(-1.5, 1.5, 31)[:, None], u=[0.3])
    f = lambda x: x - np.tanh(2 * x + 0.3)  # noqa: E731
    roots = [brentq(f, a, b) for a, b in ((-1, -0.6), (-0.6, 0), (0.5, 1.2))]
    assert np.allclose(np.sort(fp.h0), roots, atol=1e-10)
    assert fp.sort_values("h0").stable.tolist() == [True, False, True]


def test_one_node_threshold_is_2x_star(one_node):
    fp = at.fixed_points(one_node, np.linspace(-1.5, 1.5, 31)[:, None])
    low = fp[fp.stable & (fp.h0 < 0)]
    th = at.threshold(one_node, low[["h0"]].to_numpy(), channel=0, sign=1, points=fp, tol=1e-7)
    # one step from −x* with input u lands above 0 (the unstable point) iff u > 2x*
    assert th.amplitude[0, 0] == pytest.approx(2 * X_STAR, abs=2e-7)
    high = int(fp[fp.stable & (fp.h0 > 0)].point.iloc[0])
    assert th.target[0, 0] == high and th.landed[0, 0, 0] == pytest.approx(X_STAR, abs=1e-6)
    # the wrong sign never moves it
    assert np.isnan(at.threshold(one_node, low[["h0"]].to_numpy(), 0, sign=-1).amplitude[0, 0])


def _simulate_landing(w_hh, w_ih, start, amplitude, steps=400):
    """Where one pulse of ``amplitude`` on channel 0 carries a tanh RNN from ``start`` (numpy)."""
    x = np.tanh(w_hh @ start + w_ih[:, 0] * amplitude)
    for _ in range(steps):
        x = np.tanh(w_hh @ x)
    return x


def test_per_connection_thresholds_two_nodes():
    """Two decoupled bistable units, one input channel driving them with weights 1 and 1/2: from
    (−x*, −x*) a pulse above 2x* flips the first unit only, a pulse above 4x* flips both. The
    connection (−,−) → (+,+) has its own threshold, above the smallest moving pulse."""
    w_hh, w_ih = 2 * np.eye(2), np.array([[1.0], [0.5]])
    m = _rnn(w_hh, w_ih)
    fp = at.fixed_points(m, _grid(2))
    assert fp.stable.sum() == 4
    xs = _x_star()
    low = np.array([[-xs, -xs]])
    # the truth, independently: a numpy simulation on a fine grid of amplitudes
    amps = np.linspace(0.01, 5.0, 500)
    ends = np.array([_simulate_landing(w_hh, w_ih, low[0], a) for a in amps])
    first_plus_minus = amps[np.argmax((ends[:, 0] > 0) & (ends[:, 1] < 0))]
    first_plus_plus = amps[np.argmax((ends[:, 0] > 0) & (ends[:, 1] > 0))]
    assert first_plus_minus == pytest.approx(2 * xs, abs=0.011) and first_plus_plus == pytest.approx(4 * xs, abs=0.011)
    net = at.network(m, fp, max_amplitude=5.0, tol=1e-6)
    names = at.state_names(m)
    where = {tuple(np.sign(r[names].to_numpy(float)).astype(int)): int(r.point) for _, r in fp[fp.stable].iterrows()}
    src = where[(-1, -1)]
    out = net[(net.source == src) & (net.channel == 0) & (net.sign == 1)].set_index("target")
    assert set(out.index) == {where[(1, -1)], where[(1, 1)]}
    assert out.loc[where[(1, -1)], "threshold"] == pytest.approx(2 * xs, abs=1e-5)
    assert out.loc[where[(1, 1)], "threshold"] == pytest.approx(4 * xs, abs=1e-5)
    assert out.loc[where[(1, -1)], "first"] and not out.loc[where[(1, 1)], "first"]
    # threshold(target=...) gives the same per-connection number; without target, the smallest move
    both = at.threshold(m, low, 0, points=fp, target=np.array([[xs, xs]]), max_amplitude=5.0, tol=1e-6)
    assert both.amplitude[0, 0] == pytest.approx(4 * xs, abs=1e-5) and both.target[0, 0] == where[(1, 1)]
    assert at.threshold(m, low, 0, max_amplitude=5.0, tol=1e-6).amplitude[0, 0] == pytest.approx(2 * xs, abs=1e-5)
    # the landing map is the step function −,− → +,− → +,+
    lm = at.landing_map(m, fp, channels=[0], signs=[1], max_amplitude=5.0, grid=50)
    steps = lm[lm.source == src].sort_values("start")
    assert steps.target.tolist() == [src, where[(1, -1)], where[(1, 1)]]
    assert steps.end.iloc[0] == pytest.approx(np.floor(2 * xs * 10) / 10)


def test_saddle_of_a_symmetric_bistable_pair():
    """x' = tanh(W x), W = [[1, −1], [−1, 1]]: stable states ±(x*, −x*), one saddle at 0 whose
    unstable eigenvalue is 2 along (1, −1) and whose two sides land on the two states; the pulse
    threshold between them is 4x* (x1 − x2 must change sign in one step)."""
    w = np.array([[1.0, -1.0], [-1.0, 1.0]])
    m = _rnn(w, np.eye(2))
    fp = at.fixed_points(m, _grid(2))
    assert len(fp) == 3 and fp.stable.sum() == 2
    found = at.saddles(m, fp)
    assert len(found) == 1
    row = found.iloc[0]
    saddle = fp[fp.point == row.saddle]
    assert np.allclose(saddle[at.state_names(m)].to_numpy(), 0, atol=1e-12)
    assert abs(row.eigenvalue) == pytest.approx(2.0)
    assert sorted([row.side_a, row.side_b]) == sorted(fp[fp.stable].point.tolist())
    sm = at.step_map(m, np.zeros((1, 2)), jacobian=True)
    lam, vec = np.linalg.eig(sm.dx[0, 0].numpy())
    assert np.allclose(np.abs(vec[:, np.argmax(np.abs(lam))]), [2 ** -0.5, 2 ** -0.5])
    net = at.network(m, fp, max_amplitude=5.0, tol=1e-6)
    assert (net.saddle == row.saddle).all() and len(net) == 4  # each direction on either channel
    assert np.allclose(net.threshold, 4 * _x_star(), atol=1e-5)


def test_fold_of_the_one_node_map(one_node):
    """x' = tanh(2x + u): the lower state meets the saddle and vanishes where 2(1 − x²) = 1, at
    x = −1/√2, u = √2 − atanh(1/√2)."""
    fp = at.fixed_points(one_node, np.linspace(-1.5, 1.5, 31)[:, None])
    folds = at.folds(one_node, fp, channels=[0], signs=[1], tol=1e-5)
    low = int(fp[fp.stable & (fp.h0 < 0)].point.iloc[0])
    high = int(fp[fp.stable & (fp.h0 > 0)].point.iloc[0])
    row = folds.set_index("source").loc[low]
    truth = np.sqrt(2) - np.arctanh(1 / np.sqrt(2))
    assert row.fold == pytest.approx(truth, abs=2e-5) and row.lands == high
    assert np.isnan(folds.set_index("source").loc[high, "fold"])  # pushing up never removes the upper state
    diagram = at.diagram(one_node, fp, 0, 1, amplitudes=[0.0, 0.5, 0.55, 0.6])
    stable_low = diagram[diagram.stable & (diagram.h0 < 0)].groupby("amplitude").size()
    assert stable_low.get(0.5, 0) == 1 and stable_low.get(0.55, 0) == 0


def test_slow_point_is_a_minimum_of_q():
    """Past the fold (u = u_fold + 0.02) only the upper state is left, and the ghost of the lower
    one is a slow point: the minimum of q(x) = ½(tanh(2x + u) − x)², found independently."""
    u = np.sqrt(2) - np.arctanh(1 / np.sqrt(2)) + 0.02
    m = _rnn([[2.0]], [[1.0]], b=[u])
    fp = at.fixed_points(m, np.linspace(-1.0, -0.4, 13)[:, None])
    slow = fp[fp.kind == "slow"]
    ref = minimize_scalar(lambda x: 0.5 * (np.tanh(2 * x + u) - x) ** 2, bounds=(-1, -0.4), method="bounded",
                          options={"xatol": 1e-12})
    # q is nearly flat along a ghost (F' ≈ 1 there), so its minimum is placed to ~1e-5, its value to 1e-5
    assert len(slow) == 1 and slow.h0.iloc[0] == pytest.approx(ref.x, abs=1e-4)
    assert slow.q.iloc[0] == pytest.approx(ref.fun, rel=1e-5) and not slow.stable.iloc[0]


def test_three_units_27_points_and_the_cube(cube):
    fp = at.fixed_points(cube, _grid(3))
    assert len(fp) == 27 and (fp.kind == "fixed").all()
    assert fp.groupby("unstable_dims").size().to_dict() == {0: 8, 1: 12, 2: 6, 3: 1}
    assert fp.stable.sum() == 8
    net = at.network(cube, fp)
    assert len(net) == 24 and (net.target >= 0).all() and net["first"].all()
    assert np.allclose(net.threshold, 2 * X_STAR, atol=1e-3)
    assert (net.saddle >= 0).all() and net.saddle.nunique() == 12  # one index-1 saddle per cube edge
    automaton = at.flipflop_automaton()
    labelled = at.label_points(cube, fp, automaton)
    assert sorted(labelled[labelled.stable].label) == sorted(automaton.states)
    result = at.compare(net, labelled, automaton)
    row = result.summary.iloc[0]
    assert row.states_found == 8 and row.edges_correct == 24 and row.edges_spurious == 0 and row.cube
    assert row.margin_min == pytest.approx(1 / (2 * X_STAR), rel=1e-3)


def test_pipeline_finds_the_cube_and_not_in_a_random_network(cube):
    """The positive and negative controls of chapter 8's cube test in one call each."""
    found = at.excitable_network(cube, at.flipflop_automaton(), seeds=_grid(3))
    assert isinstance(found, at.ExcitableNetwork) and found.summary.cube.all()
    with pytest.raises(AttributeError):
        found.points = None  # frozen
    untrained = Stacked("rnn", 2, 3, seeds=[7, 8])
    stream = tasks.flipflop_stream(8, 40, seed=0)
    missed = at.excitable_network(untrained, at.flipflop_automaton(), stream.inputs, n_seeds=32)
    assert not missed.summary.cube.any() and len(missed.summary) == 2


def test_broken_cube_is_reported(cube):
    """Cut one unit's input weight: no pulse moves that bit, its switches go missing."""
    with torch.no_grad():
        cube.weight_ih[0, 2, 2] = 0.0
    fp = at.fixed_points(cube, _grid(3))
    automaton = at.flipflop_automaton()
    result = at.compare(at.network(cube, fp), at.label_points(cube, fp, automaton), automaton)
    assert result.summary.edges_correct.iloc[0] < 24
    assert not result.summary.cube.iloc[0]


def _planted(weak_channel_weight):
    """The cube with input weights 2.5 (threshold 2x*/2.5 < 1) except channel 2 (weight given), and
    a readout that reads each unit's sign."""
    return _rnn(2 * np.eye(3), np.diag([2.5, 2.5, weak_channel_weight]), readout=3 * np.eye(3))


def test_behaviour_and_errors_on_the_graph():
    """Positive control: channel 2's pulses of 1 cannot switch its bit (threshold 2x* > 1), so
    every error starts after a channel-2 switch; negative control: with all channels strong there
    are no flawed switches and no errors."""
    automaton = at.flipflop_automaton()
    stream = tasks.flipflop_stream(40, 120, seed=3)
    for weight, flawed in ((1.0, True), (2.5, False)):
        m = _planted(weight)
        found = at.excitable_network(m, automaton, seeds=_grid(3))
        assert found.summary.cube.iloc[0]  # the per-connection graph has every switch…
        task = found.comparison.edges
        assert ((task.task_status != "correct") == (task.channel == 2) if flawed else task.task_status == "correct").all()
        events = at.transitions(m, found.points, stream.inputs)
        graph = at.used_graph(events, found.landing, automaton.amplitude)
        assert set(graph.kind) <= set(at.GRAPH_KINDS) and (graph.used[graph.kind == "seen"] > 0).all()
        assert (graph[graph.channel == 2].kind != "seen").all() if flawed else (graph.kind != "used only").all()
        table = at.error_events(m, events, stream, found.comparison, found.points)
        switches = table[table.kind == "switch"]
        if flawed:
            assert (switches[switches.channel == 2].task_status == "wrong").all()
            assert switches[switches.errors > 0].channel.eq(2).all() and (switches.errors > 0).any()
            test = at.errors_on_flawed(table)
            assert (test.difference > 0).all() and (test.p_value < 1e-3).all()
        else:
            assert table.errors.sum() == 0 and (switches.task_status == "correct").all()


def test_transitions_follow_the_stream(cube):
    """With input weights 2.5 every pulse switches its bit: the observed transition from each
    pulse goes from the state of the held signs before it to the state after it."""
    m = _planted(2.5)
    automaton = at.flipflop_automaton()
    found = at.excitable_network(m, automaton, seeds=_grid(3))
    stream = tasks.flipflop_stream(10, 60, seed=1)
    events = at.transitions(m, found.points, stream.inputs)
    names = found.points.set_index("point").label
    seen = events[events.channel >= 0].merge(
        pd.DataFrame({"sequence": events.sequence, "step": events.step}).drop_duplicates(), on=["sequence", "step"])
    held = stream.targets.numpy()
    for e in seen.itertuples():
        after = held[e.sequence, e.step]
        if (held[e.sequence, :e.step + 1] != 0).all(0).all():
            assert names[e.target] == at.flipflop_name(after)


def test_noise_gives_transition_probabilities(cube):
    fp = at.fixed_points(cube, _grid(3))
    quiet = at.network(cube, fp, noise=0.01, amplitude=3.0, trials=20)
    assert len(quiet) == 24 and np.allclose(quiet.probability, 1.0)
    weak = at.network(cube, fp, noise=0.01, amplitude=0.5, trials=20)  # below 2x*: nothing moves
    assert (weak.threshold.notna()).all() and np.allclose(weak.probability, 0.0)
    noisy = at.transition_probabilities(cube, fp, [0.5, 3.0], trials=400, seed=1)
    stayed = noisy[noisy.source == noisy.target].set_index(["source", "noise"]).probability
    assert (stayed.xs(0.5, level="noise") > 0.99).all()  # P(|N(0, .5)| > 1.915) ≈ 1e-4 per channel
    # at σ = 3 each bit flips when its channel's noise pushes against it by more than 2x*:
    # P = Φ(−2x*/3) per bit, independently, so the state stays with probability (1 − P)³
    p = 0.5 * (1 + math.erf(-2 * X_STAR / 3 / np.sqrt(2)))
    assert np.allclose(stayed.xs(3.0, level="noise"), (1 - p) ** 3, atol=0.07)


def test_held_states_of_the_cube_are_fixed_points(cube):
    held = at.held_states(cube, at.flipflop_automaton())
    assert (held.kind == "fixed").all() and held.own.all() and (held.q_held < 1e-12).all()


def test_held_state_on_a_ghost_is_a_slow_point():
    """A state held on the ghost of a vanished fixed point (x' = tanh(2x + u) just past its fold) is
    a slow point, not a fixed point: its own probe ends there."""
    u = np.sqrt(2) - np.arctanh(1 / np.sqrt(2)) + 0.005
    m = _rnn([[2.0]], [[1.0]], b=[u])
    ghost = minimize_scalar(lambda x: 0.5 * (np.tanh(2 * x + u) - x) ** 2, bounds=(-1, -0.4), method="bounded").x
    x, trace = 0.0, []
    for t in range(60):  # kick down with −3, then let it crawl up through the ghost
        x = np.tanh(2 * x + u + (-3.0 if t == 0 else 0.0))
        trace.append(x)
    steps = int(np.argmin(np.abs(np.array(trace) - ghost))) + 1
    probe = np.zeros((1, steps, 1), np.float32)
    probe[0, 0, 0] = -3.0
    automaton = at.Automaton("ghost", ("held",), pd.DataFrame(columns=["source", "target", "channel", "sign"]), 1.0,
                             {"held": probe})
    held = at.held_states(m, automaton)
    assert held.kind.iloc[0] == "slow" and held.distance.iloc[0] < 0.05 and held.q_held.iloc[0] < 1e-4


def test_linear_map_eigenvalues():
    """A nearly linear map (small weights): one fixed point at 0 with the eigenvalues of W."""
    rng = np.random.default_rng(0)
    w = rng.normal(size=(4, 4))
    w = 0.5 * w / np.abs(np.linalg.eigvals(w)).max()
    m = _rnn(w, np.eye(4))
    fp = at.fixed_points(m, rng.normal(scale=0.5, size=(20, 4)))
    assert len(fp) == 1 and fp.stable.iloc[0]
    assert np.allclose(fp[at.state_names(m)].to_numpy(), 0, atol=1e-10)
    sm = at.step_map(m, np.zeros((1, 4)), jacobian=True)
    expect = np.sort_complex(np.linalg.eigvals(w.astype(np.float32).astype(np.float64)))
    assert np.allclose(np.sort_complex(torch.linalg.eigvals(sm.dx[0, 0]).numpy()), expect, atol=1e-6)
    assert fp.spectral_radius.iloc[0] == pytest.approx(np.abs(expect).max(), rel=1e-5)


def test_same_points_as_scipy_per_point(cube):
    """Every fixed point scipy's L-BFGS-B reaches from random seeds, one point at a time, is in the
    batched Newton list, and that list is the cube's 27 points (the benchmark's equality on a
    network whose fixed points are all known: ±x* or 0 on every unit)."""
    seeds = np.random.default_rng(4).uniform(-1.2, 1.2, size=(80, 3))
    found = at.fixed_points(cube, seeds)
    fixed = found[found.kind == "fixed"][at.state_names(cube)].to_numpy()
    truth = np.array(list(itertools.product((-_x_star(), 0.0, _x_star()), repeat=3)))
    assert len(fixed) == 27 and all(np.linalg.norm(fixed - t, axis=1).min() < 1e-9 for t in truth)

    def q(x):
        f = np.tanh(2 * x)
        return 0.5 * (f - x) @ (f - x), (2 * (1 - f ** 2) - 1) * (f - x)

    reached = 0
    for s in seeds:
        res = minimize(q, s, jac=True, method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 1e-20, "maxiter": 2000})
        if res.fun < 1e-14:
            reached += 1
            assert np.linalg.norm(fixed - res.x, axis=1).min() < 1e-6
    assert reached > 40


@pytest.mark.parametrize("arch", ["gru", "lstm"])
def test_gated_cells_polish_to_float64(arch):
    m = Stacked(arch, 2, 3, hidden=5, seeds=[3, 4])
    with torch.no_grad():  # a strong self-excitation so the map has several fixed points
        if arch == "gru":
            m.weight_hh += 2.0 * torch.eye(5).repeat(3, 1)
        else:  # gates i, f, g, o: the cell input g excites itself, f ≈ 0 (no drift), i, o ≈ 1
            m.weight_hh[:, 10:15] += 3.0 * torch.eye(5)
            m.bias_hh[:, :5], m.bias_hh[:, 5:10], m.bias_hh[:, 15:] = 4.0, -4.0, 4.0
    d = 10 if arch == "lstm" else 5
    seeds = np.random.default_rng(0).uniform(-1, 1, size=(2, 40, d))
    fp = at.fixed_points(m, seeds, fixed_tol=1e-20)
    fixed = fp[fp.kind == "fixed"]
    assert len(fixed) >= 2
    x = fixed[at.state_names(m)].to_numpy()
    nxt = at.step_map(m, _per_replicate(fixed, m)).next
    res = [np.abs(nxt[r, :n].numpy() - x[fixed.replicate.to_numpy() == r]).max()
           for r, n in enumerate(fixed.groupby("replicate").size().reindex(range(2), fill_value=0))]
    assert max(res) < 1e-10
    sm = at.step_map(m, np.zeros((4, d)), np.zeros((4, 3)), jacobian=True)
    assert sm.dx.shape == (2, 4, d, d) and sm.du.shape == (2, 4, d, 3)


def _per_replicate(frame, model):
    """(R, P, D) states of a frame, padded with each replicate's first row."""
    names = at.state_names(model)
    groups = [frame[frame.replicate == r][names].to_numpy() for r in range(model.replicates)]
    width = max(len(g) for g in groups)
    return np.stack([np.concatenate([g, np.repeat(g[:1], width - len(g), 0)]) for g in groups])


@pytest.mark.parametrize("arch", ["rnn", "gru", "lstm"])
def test_jacobian_matches_finite_differences(arch):
    m = Stacked(arch, 2, 3, hidden=4, seeds=[1, 2])
    d = at.state_size(m)
    rng = np.random.default_rng(1)
    x, u = rng.normal(scale=0.5, size=(2, 3, d)), rng.normal(size=(2, 3, 3))
    sm = at.step_map(m, x, u, jacobian=True)
    eps = 1e-6
    for j in range(d):
        e = np.zeros(d)
        e[j] = eps
        fd = (at.step_map(m, x + e, u).next - at.step_map(m, x - e, u).next) / (2 * eps)
        assert torch.allclose(sm.dx[..., j], fd, atol=1e-7)


def test_step_map_equals_the_model():
    """F(x, u) from zero state reproduces the model's own forward pass (h, and c for LSTM)."""
    for arch in ("rnn", "gru", "lstm"):
        m = Stacked(arch, 3, 3, hidden=6, seeds=[5, 6, 7])
        inputs = torch.randn(4, 5, 3)
        trace = m(inputs)
        x = np.zeros((3, 4, at.state_size(m)))
        for t in range(5):
            x = at.step_map(m, x, inputs[:, t].double()).next
        want = trace.hidden[:, :, -1] if trace.cell is None else torch.cat([trace.hidden[:, :, -1], trace.cell[:, :, -1]], -1)
        assert torch.allclose(x.float(), want, atol=1e-5)


def test_batched_equals_per_replicate():
    """Each point is solved on its own (float64 Newton, the point leaves the batch when done), so a
    replicate's fixed points do not depend on the replicates beside it. Slow points are minima of q
    that are not zero: q is flat there, so their place is defined only to ~√(ε·q) (ε the float64
    rounding, which BLAS kernels chosen by the batch's shape change); they agree to 1e-6."""
    m = Stacked("gru", 3, 3, hidden=6, seeds=[10, 11, 12])
    with torch.no_grad():
        m.weight_hh += 2.0 * torch.eye(6).repeat(3, 1)
    seeds = np.random.default_rng(2).uniform(-1, 1, size=(3, 30, 6))
    together = at.fixed_points(m, seeds)
    names = at.state_names(m)
    for r in range(3):
        alone = at.fixed_points(m.select([r]), seeds[r:r + 1])
        mine = together[together.replicate == r].drop(columns="replicate").reset_index(drop=True)
        alone = alone.drop(columns="replicate")
        pd.testing.assert_frame_equal(mine[["point", "kind", "stable", "unstable_dims"]],
                                      alone[["point", "kind", "stable", "unstable_dims"]])
        fixed = (mine.kind == "fixed").to_numpy()
        assert np.allclose(mine[names][fixed], alone[names][fixed], atol=1e-9, rtol=0)
        assert np.allclose(mine[names][~fixed], alone[names][~fixed], atol=1e-6, rtol=0)


def test_permuting_nodes_permutes_the_answer():
    m = Stacked("rnn", 1, 3, hidden=5, seeds=[4])
    with torch.no_grad():
        m.weight_hh += 2.0 * torch.eye(5)
    perm = np.array([3, 0, 4, 1, 2])
    pm = Stacked("rnn", 1, 3, hidden=5)
    with torch.no_grad():
        pm.weight_hh[0] = m.weight_hh[0][perm][:, perm]
        pm.weight_ih[0] = m.weight_ih[0][perm]
        pm.bias_ih[0], pm.bias_hh[0] = m.bias_ih[0][perm], m.bias_hh[0][perm]
    seeds = np.random.default_rng(3).uniform(-1, 1, size=(60, 5))
    a = at.fixed_points(m, seeds)
    b = at.fixed_points(pm, seeds[:, perm])
    names = at.state_names(m)
    fa, fb = a[a.kind == "fixed"], b[b.kind == "fixed"]
    xa, xb = fa[names].to_numpy()[:, perm], fb[names].to_numpy()
    assert len(fa) == len(fb)
    order_a, order_b = np.lexsort(xa.T), np.lexsort(xb.T)
    assert np.allclose(xa[order_a], xb[order_b], atol=1e-9)
    for col in ("stable", "unstable_dims"):
        assert (fa[col].to_numpy()[order_a] == fb[col].to_numpy()[order_b]).all()
    assert np.allclose(fa.spectral_radius.to_numpy()[order_a], fb.spectral_radius.to_numpy()[order_b])


def test_same_seed_same_result():
    m = Stacked("lstm", 2, 3, hidden=4, seeds=[0, 1])
    inputs = torch.from_numpy(np.random.default_rng(0).choice([-1.0, 0.0, 0.0, 1.0], size=(8, 12, 3)).astype(np.float32))
    a = at.fixed_points(m, inputs=inputs, n_seeds=20, seed=5)
    b = at.fixed_points(m, inputs=inputs, n_seeds=20, seed=5)
    pd.testing.assert_frame_equal(a, b)
    s1, s2 = at.sample_states(m, inputs, 10, seed=1), at.sample_states(m, inputs, 10, seed=2)
    assert s1.shape == (2, 10, 8) and not np.allclose(s1, s2)


def test_memory_automaton_tree():
    a = at.memory_automaton()
    assert len(a.states) == 1 + 2 + 4 + 8 and len(a.edges) == 2 + 4 + 8 and at.ROOT in a.states
    assert a.edges.groupby("channel").size().to_dict() == {0: 2, 1: 4, 2: 8}
    assert a.probes["A+B−"].shape == (1, 9, 3) and a.probes["A+B−"][0, 6, 1] == -1
    assert [at.state_level(s) for s in (at.ROOT, "A+", "A+B−", "A−B+C+")] == [0, 1, 2, 3]


def test_during_training_stacks_snapshots():
    snaps = at.during_training("gru", at.flipflop_automaton(), replicates=2, epochs=4, every=2, samples=64,
                               batch=32, n_seeds=8)
    assert sorted(snaps.summary.epoch.unique()) == [0, 2, 4]
    assert len(snaps.summary) == 6 and set(snaps.reached.network) == {0, 1}
    assert snaps.summary.accuracy.between(0, 1).all() and snaps.summary.stream_accuracy.between(0, 1).all()


def test_bad_input(one_node, cube):
    fp = at.fixed_points(cube, _grid(3, n=3))
    start = fp[fp.stable][at.state_names(cube)].to_numpy()
    bad = [
        (lambda: at.threshold(cube, start, channel=3), "channel"),
        (lambda: at.threshold(cube, start, channel=0, sign=2), "sign"),
        (lambda: at.threshold(cube, start, channel=0, pulse_steps=0), "pulse_steps"),
        (lambda: at.fixed_points(cube, np.zeros((5, 2))), "seeds"),
        (lambda: at.threshold(cube, np.zeros((5, 4)), channel=0), "start"),
        (lambda: at.fixed_points(cube), "seeds or inputs"),
        (lambda: at.fixed_points(cube, _grid(3, n=3), fixed_tol=1e-3, slow_tol=1e-6), "slow_tol"),
        (lambda: at.fixed_points("not a model", _grid(3, n=3)), "model"),
        (lambda: at.network(cube, fp, noise=-1.0), "noise"),
        # issue 19: each of these used to hang, fail inside torch or answer wrongly
        (lambda: at.network(cube, fp, tol=0), "tol"),
        (lambda: at.network(cube, fp, max_amplitude=-1), "max_amplitude"),
        (lambda: at.network(cube, fp, grid=0), "grid"),
        (lambda: at.network(cube, fp, match_tol=-1), "match_tol"),
        (lambda: at.network(cube, fp, settle_steps=0), "settle_steps"),
        (lambda: at.fixed_points(cube, np.full((4, 3), np.nan)), "seeds"),
        (lambda: at.threshold(cube, np.full((1, 3), np.nan), channel=0), "start"),
        (lambda: at.landing_map(cube, fp, grid=0), "grid"),
        (lambda: at.fixed_points(cube, _grid(3, n=3), u=[1.0, 2.0]), "u"),
        (lambda: at.folds(cube, fp, tol=0), "tol"),
        (lambda: at.transition_probabilities(cube, fp, [0.0]), "noise_levels"),
        (lambda: at.excitable_network(cube, "cube", seeds=_grid(3)), "automaton"),
        (lambda: at.excitable_network(cube, at.memory_automaton(), seeds=_grid(3), tol=0), "tol"),
        (lambda: at.compare(fp, fp, at.flipflop_automaton()), "net"),
    ]
    for call, name in bad:
        with pytest.raises(ValueError, match=name):
            call()


def test_more_than_one_layer_is_refused():
    m = Stacked("rnn", 1, 3, hidden=4, layers=2)
    with pytest.raises(ValueError, match="one recurrent layer"):
        at.fixed_points(m, np.zeros((3, 4)))


def test_charts_fit_the_column(cube):
    """Every chart of chapter 8 is drawn no wider than the book's 740-pixel text column."""
    vl_convert = pytest.importorskip("vl_convert")
    import re

    from irn.plots import attractors as aplots

    def width(chart):
        svg = vl_convert.vegalite_to_svg(chart.to_dict())
        return float(re.search(r'<svg[^>]*\swidth="([0-9.]+)"', svg).group(1))

    automaton = at.flipflop_automaton()
    found = at.excitable_network(_planted(2.5), automaton, seeds=_grid(3))
    stream = tasks.flipflop_stream(4, 30, seed=0)
    maps = {name: at.state_map(_planted(2.5), stream.inputs, found.points, found.edges) for name in
            ("RNN", "GRU", "LSTM", "ESN")}
    edges = pd.concat([found.comparison.edges.assign(arch=a, task="flip-flop") for a in ("rnn", "esn")]).assign(
        amplitude=1.0)
    branches = at.diagram(_planted(2.5), found.points, 0, amplitudes=[0.0, 0.3]).assign(readout=lambda d: d.output0)
    curves = pd.DataFrame({"network": ["RNN"] * 2 + ["GRU"] * 2, "noise": [0.5, 1.0] * 2, "band": ["below 1"] * 4,
                           "band_order": 0, "probability": [0.1, 0.5, 0.2, 0.6]})
    progress = pd.DataFrame({"network": [0, 0, 1, 1], "epoch": [0, 10, 0, 10], "measure": ["training accuracy"] * 4,
                             "value": [0.5, 1.0, 0.6, 0.9]})
    charts = [aplots.state_maps(maps), aplots.landing_map(at.landing_frame(found, 0)), aplots.margins(edges),
              aplots.bifurcation(branches, pd.DataFrame({"threshold": [0.77], "connection": ["a → b"]})),
              aplots.noise_curves(curves), aplots.training(progress, pd.DataFrame({"network": [0, 1],
                                                                                   "criterion_epoch": [10, None]}))]
    for chart in charts:
        assert width(chart) <= aplots.COLUMN - aplots.ACTIONS, chart
