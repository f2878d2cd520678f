"""irn.attractors on hand-built networks with known answers (DESIGN §11)."""

import itertools

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.optimize import brentq

from irn import attractors as at
from irn.models import Stacked

X_STAR = 0.9575040240772687  # the positive root of x = tanh(2x)


def _rnn(w_hh, w_ih, b=None, replicates=1):
    """A Stacked RNN with the given (H, H) and (H, I) weights in every replicate."""
    w_hh, w_ih = torch.as_tensor(w_hh, dtype=torch.float32), torch.as_tensor(w_ih, dtype=torch.float32)
    m = Stacked("rnn", replicates, w_ih.shape[1], hidden=w_hh.shape[0])
    with torch.no_grad():
        m.weight_hh.copy_(w_hh.expand_as(m.weight_hh))
        m.weight_ih.copy_(w_ih.expand_as(m.weight_ih))
        m.bias_ih.zero_()
        m.bias_hh.copy_(torch.zeros_like(m.bias_hh) if b is None else torch.as_tensor(b).expand_as(m.bias_hh))
    return m


@pytest.fixture
def one_node():
    return _rnn([[2.0]], [[1.0]])


@pytest.fixture
def cube():
    return _rnn(2 * np.eye(3), np.eye(3))


def _grid(d, lim=1.2, n=7):
    return np.array(list(itertools.product(np.linspace(-lim, lim, n), repeat=d)))


def test_fixed_point_closed_form():
    # independent reference: the root of x − tanh(2x) found by scipy
    assert np.isclose(brentq(lambda x: x - np.tanh(2 * x), 0.5, 1.5), X_STAR)


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


def test_three_units_27_points_and_the_cube(cube):
    fp = at.fixed_points(cube, _grid(3))
    assert len(fp) == 27 and (fp.kind == "fixed").all()
    assert fp.groupby("unstable_dims").size().to_dict() == {0: 8, 1: 12, 2: 6, 3: 1}
    assert fp.stable.sum() == 8
    net = at.network(cube, fp)
    assert len(net) == 24 and (net.target >= 0).all()
    assert np.allclose(net.threshold, 2 * X_STAR, atol=1e-3)
    automaton = at.flipflop_automaton()
    labelled = at.label_points(cube, fp, automaton)
    assert sorted(labelled[labelled.stable].label) == sorted(automaton.states)
    result = at.compare(net, labelled, automaton)
    row = result.summary.iloc[0]
    assert row.states_found == 8 and row.edges_correct == 24 and row.edges_spurious == 0 and row.cube
    assert row.margin_min == pytest.approx(1 / (2 * X_STAR), rel=1e-3)


def test_broken_cube_is_reported(cube):
    """Cut one unit's input weight: its 8 edges go missing (no pulse moves that bit)."""
    with torch.no_grad():
        cube.weight_ih[0, 2, 2] = 0.0
    fp = at.fixed_points(cube, _grid(3))
    automaton = at.flipflop_automaton()
    result = at.compare(at.network(cube, fp), at.label_points(cube, fp, automaton), automaton)
    # probes cannot set bit 3 either, so only the 4 states with the default bit-3 value... none:
    # at h=0 the unit stays at the unstable 0 → its probe states settle nowhere listed
    assert result.summary.edges_correct.iloc[0] < 24
    assert not result.summary.cube.iloc[0]


def test_linear_map_eigenvalues():
    """A nearly linear map (small weights, tanh ≈ identity near 0): one fixed point at 0 with the
    eigenvalues of W."""
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
    m = Stacked("gru", 3, 3, hidden=6, seeds=[10, 11, 12])
    with torch.no_grad():
        m.weight_hh += 2.0 * torch.eye(6).repeat(3, 1)
    seeds = np.random.default_rng(2).uniform(-1, 1, size=(3, 30, 6))
    together = at.fixed_points(m, seeds)
    for r in range(3):
        alone = at.fixed_points(m.select([r]), seeds[r:r + 1])
        mine = together[together.replicate == r].drop(columns="replicate").reset_index(drop=True)
        alone = alone.drop(columns="replicate")
        pd.testing.assert_frame_equal(mine[["point", "kind", "stable", "unstable_dims"]],
                                      alone[["point", "kind", "stable", "unstable_dims"]])
        names = at.state_names(m)
        assert np.allclose(mine[names], alone[names], atol=1e-9)


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
    xa = a[names].to_numpy()[:, perm]
    xb = b[names].to_numpy()
    assert len(a) == len(b)
    order_a, order_b = np.lexsort(xa.T), np.lexsort(xb.T)
    assert np.allclose(xa[order_a], xb[order_b], atol=1e-9)
    for col in ("stable", "unstable_dims", "kind"):
        assert (a[col].to_numpy()[order_a] == b[col].to_numpy()[order_b]).all()
    assert np.allclose(a.spectral_radius.to_numpy()[order_a], b.spectral_radius.to_numpy()[order_b])


def test_same_seed_same_result():
    m = Stacked("lstm", 2, 3, hidden=4, seeds=[0, 1])
    inputs = torch.from_numpy(np.random.default_rng(0).choice([-1.0, 0.0, 0.0, 1.0], size=(8, 12, 3)).astype(np.float32))
    a = at.fixed_points(m, inputs=inputs, n_seeds=20, seed=5)
    b = at.fixed_points(m, inputs=inputs, n_seeds=20, seed=5)
    pd.testing.assert_frame_equal(a, b)
    s1, s2 = at.sample_states(m, inputs, 10, seed=1), at.sample_states(m, inputs, 10, seed=2)
    assert s1.shape == (2, 10, 8) and not np.allclose(s1, s2)


def test_noise_gives_transition_probabilities(cube):
    fp = at.fixed_points(cube, _grid(3))
    quiet = at.network(cube, fp, noise=0.01, amplitude=3.0, trials=20)
    assert len(quiet) == 24 and np.allclose(quiet.probability, 1.0)
    weak = at.network(cube, fp, noise=0.01, amplitude=0.5, trials=20)  # below 2x*: nothing moves
    assert (weak.threshold.notna()).all() and np.allclose(weak.probability, 0.0)


def test_memory_automaton_tree():
    a = at.memory_automaton()
    assert len(a.states) == 1 + 2 + 4 + 8 and len(a.edges) == 2 + 4 + 8
    assert a.edges.groupby("channel").size().to_dict() == {0: 2, 1: 4, 2: 8}
    assert a.probes["A+B−"].shape == (1, 9, 3) and a.probes["A+B−"][0, 6, 1] == -1


def test_bad_input(one_node, cube):
    fp = at.fixed_points(cube, _grid(3, n=3))
    start = fp[fp.stable][at.state_names(cube)].to_numpy()
    with pytest.raises(ValueError, match="channel"):
        at.threshold(cube, start, channel=3)
    with pytest.raises(ValueError, match="sign"):
        at.threshold(cube, start, channel=0, sign=2)
    with pytest.raises(ValueError, match="pulse_steps"):
        at.threshold(cube, start, channel=0, pulse_steps=0)
    with pytest.raises(ValueError, match="seeds"):
        at.fixed_points(cube, np.zeros((5, 2)))
    with pytest.raises(ValueError, match="start"):
        at.threshold(cube, np.zeros((5, 4)), channel=0)
    with pytest.raises(ValueError, match="seeds or inputs"):
        at.fixed_points(cube)
    with pytest.raises(ValueError, match="slow_tol"):
        at.fixed_points(cube, _grid(3, n=3), fixed_tol=1e-3, slow_tol=1e-6)
    with pytest.raises(ValueError, match="model"):
        at.fixed_points("not a model", _grid(3, n=3))
    with pytest.raises(ValueError, match="noise"):
        at.network(cube, fp, noise=-1.0)


def test_more_than_one_layer_is_refused():
    m = Stacked("rnn", 1, 3, hidden=4, layers=2)
    with pytest.raises(ValueError, match="one recurrent layer"):
        at.fixed_points(m, np.zeros((3, 4)))
