"""Tests of irn.dynamics: carriers from two-means, stability between consecutive steps, smearing."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from irn import analysis, dynamics, tasks
from irn.models import Stacked
from irn.train import Condition, TrainConfig, Trained

NODES = 12
MOVE = 4  # concept A sits on S1 up to this step and on S2 from the next one
S1, S2, SB = [0, 1, 2], [6, 7, 8], [9, 10]


def table(matrices: dict, arch="rnn", task="memory", delay="1", replicate=0) -> pd.DataFrame:
    """A relay_frame-like table from {step: (concepts, nodes) contributions}."""
    concepts = tasks.CONCEPTS[task]
    rows = [{"arch": arch, "task": task, "delay": delay, "replicate": replicate, "step": step,
             "concept": concepts[c], "node": n, "contribution": float(m[c, n])}
            for step, m in matrices.items() for c in range(m.shape[0]) for n in range(m.shape[1])]
    return pd.DataFrame(rows)


def pattern(nodes, peak=5.0) -> np.ndarray:
    """A graded contribution vector that is high on ``nodes`` and zero elsewhere."""
    v = np.zeros(NODES)
    v[nodes] = peak - np.arange(len(nodes))
    return v


def moving_table(**network) -> pd.DataFrame:
    """Memory task, steps 0…6: A on S1 up to step MOVE, on S2 after; B always on SB; C absent."""
    matrices = {}
    for step in range(7):
        a = pattern(S1) if step <= MOVE else pattern(S2)
        matrices[step] = np.stack([a, pattern(SB, 4.5), np.zeros(NODES)])
    return table(matrices, **network)


# ----------------------------------------------------------------------------------------
# arrival


def test_arrival_steps():
    assert [dynamics.arrival_step("memory", c) for c in "ABC"] == list(tasks.MEMORY_STEPS)
    assert {dynamics.arrival_step("block", c) for c in tasks.CONCEPTS["block"]} == {tasks.INPUT_STEPS - 1}


@pytest.mark.parametrize("task, concept", [("memory", "size"), ("maze", "A"), ("block", "B")])
def test_arrival_rejects_unknown(task, concept):
    with pytest.raises(ValueError, match="task|concept"):
        dynamics.arrival_step(task, concept)


# ----------------------------------------------------------------------------------------
# carriers


def test_two_means_finds_the_obvious_split():
    m = np.zeros((3, NODES))
    m[0, [1, 4]] = [6.0, 5.5]
    m[2, 7] = 5.8
    m[1, :] += np.linspace(0, 0.3, NODES)  # small values stay in the low cluster
    out = dynamics.carriers(table({10: m}))
    got = set(out.loc[out.carries, ["concept", "node"]].itertuples(index=False, name=None))
    assert got == {("A", 1), ("A", 4), ("C", 7)}


def test_within_concept_splits_each_concept_separately():
    m = np.zeros((3, NODES))
    m[0, [1, 4]] = 6.0
    m[1, [2, 3]] = 0.5  # invisible next to A's values, clear within B
    joint = dynamics.carriers(table({10: m}))
    alone = dynamics.carriers(table({10: m}), within="concept")
    assert set(joint.loc[joint.carries & (joint.concept == "B"), "node"]) == set()
    assert set(alone.loc[alone.carries & (alone.concept == "B"), "node"]) == {2, 3}
    assert set(alone.loc[alone.carries & (alone.concept == "C"), "node"]) == set()  # constant


def test_constant_matrix_has_no_carriers():
    out = dynamics.carriers(table({10: np.full((3, NODES), 0.7)}))
    assert not out.carries.any()


# ----------------------------------------------------------------------------------------
# stability


def test_move_is_detected_at_its_step_and_stability_elsewhere():
    stable = dynamics.stability(moving_table())
    a = stable[stable.concept == "A"].set_index("step")
    assert list(a.index) == list(range(6))
    assert a.loc[MOVE, "r"] < 0 and a.loc[MOVE, "overlap"] == 0
    others = a.drop(index=MOVE)
    np.testing.assert_allclose(others["r"], 1.0)
    np.testing.assert_allclose(others["overlap"], 1.0)
    assert (a["carriers_before"] == len(S1)).loc[:MOVE].all()
    b = stable[stable.concept == "B"]
    np.testing.assert_allclose(b[["r", "overlap"]], 1.0)
    c = stable[stable.concept == "C"]  # never present: undefined, not zero
    assert c["r"].isna().all() and c["overlap"].isna().all()


def test_arrival_flag_and_replicate_means():
    stable = dynamics.stability(moving_table())
    assert stable.loc[stable.arrived, "concept"].eq("A").all()  # B arrives at 6, C at 9
    assert sorted(stable.loc[stable.arrived, "step"]) == [3, 4, 5]
    per = dynamics.stability_by_replicate(stable)
    r_move = stable.set_index(["concept", "step"]).loc[("A", MOVE), "r"]
    assert len(per) == 1 and per.loc[0, "pairs"] == 3
    assert per.loc[0, "r"] == pytest.approx((2 + r_move) / 3)
    assert per.loc[0, "overlap"] == pytest.approx(2 / 3)
    every = dynamics.stability_by_replicate(stable, arrived_only=False)
    assert every.loc[0, "pairs"] == 18 and every.loc[0, "r_undefined"] == 6
    assert every.loc[0, "overlap_undefined"] == 6


def test_partial_overlap_is_jaccard():
    m1, m2 = np.zeros((3, NODES)), np.zeros((3, NODES))
    m1[0, [0, 1, 2]] = 5.0
    m2[0, [1, 2, 3]] = 5.0
    out = dynamics.stability(table({3: m1, 4: m2}))
    assert out.set_index("concept").loc["A", "overlap"] == pytest.approx(2 / 4)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from(["memory", "block"]), st.sampled_from(["matrix", "concept"]))
def test_identical_matrices_are_perfectly_stable(seed, task, within):
    m = np.random.default_rng(seed).gamma(1.0, 1.0, (3, NODES))
    stable = dynamics.stability(table({s: m for s in range(8, 12)}, task=task), within=within)
    np.testing.assert_allclose(stable["r"], 1.0)
    assert ((stable["overlap"] == 1.0) | (stable["carriers_before"] == 0)).all()
    assert stable["overlap"].notna().any()


def test_networks_and_gaps_are_kept_apart():
    two = pd.concat([moving_table(replicate=0), moving_table(replicate=1, arch="gru")])
    stable = dynamics.stability(two)
    assert len(stable) == 2 * 3 * 6
    gap = moving_table()
    stable = dynamics.stability(gap[gap.step != 2])  # no pair across a missing step
    assert set(stable.step) == {0, 3, 4, 5}


# ----------------------------------------------------------------------------------------
# smearing


def test_smearing_histograms_are_normalised_and_count_carriers():
    m = np.zeros((3, NODES))
    m[0, [0, 1, 2]] = 5.0
    m[1, [0, 3]] = 5.0
    m[2, [0, 1]] = 5.0
    frame = pd.concat([table({10: m}, replicate=r) for r in range(2)] + [moving_table()])
    smear = dynamics.smearing(frame)
    sums = smear.groupby(dynamics.NETWORK + ["measure"]).fraction.sum()
    np.testing.assert_allclose(sums, 1.0)
    hist = smear[smear.replicate == 1].set_index(["measure", "count"]).fraction
    assert hist[("concepts per node", 3)] == pytest.approx(1 / 12)  # node 0
    assert hist[("concepts per node", 2)] == pytest.approx(1 / 12)  # node 1
    assert hist[("concepts per node", 1)] == pytest.approx(2 / 12)  # nodes 2, 3
    assert hist[("concepts per node", 0)] == pytest.approx(8 / 12)
    assert hist[("nodes per concept", 3)] == pytest.approx(1 / 3)
    assert hist[("nodes per concept", 2)] == pytest.approx(2 / 3)
    assert set(hist.loc["nodes per concept"].index) == set(range(NODES + 1))
    summary = dynamics.smearing_summary(smear).set_index("replicate")
    assert summary.loc[1, "shared"] == pytest.approx(2 / 12)
    assert summary.loc[1, "idle"] == pytest.approx(8 / 12)
    assert summary.loc[1, "nodes_per_concept"] == pytest.approx(7 / 3)


# ----------------------------------------------------------------------------------------
# comparisons


def per_replicate(shift: float) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [{"arch": arch, "task": "memory", "delay": delay, "replicate": r,
             "r": rng.normal(0.7 - (shift if arch == "rnn" and delay != "random" else 0), 0.05),
             "overlap": 0.5}
            for arch in ("rnn", "gru", "lstm") for delay in ("1", "random") for r in range(10)]
    return pd.DataFrame(rows)


def test_compare_architectures_and_regimes_find_a_planted_difference():
    per = per_replicate(shift=0.5)
    arch = dynamics.compare_architectures(per, "r").set_index(["delay", "arch"])
    assert arch.loc[("1", "gru"), "difference"] < -0.4 and arch.loc[("1", "gru"), "p_value"] < 0.01
    assert abs(arch.loc[("random", "lstm"), "difference"]) < 0.1
    regime = dynamics.compare_regimes(per, "r").set_index("arch")
    assert regime.loc["rnn", "difference"] > 0.4 and regime.loc["rnn", "p_value"] < 0.01
    same = dynamics.compare_regimes(per, "overlap")
    assert (same["p_value"] == 1.0).all()


# ----------------------------------------------------------------------------------------
# with a real (untrained) network


def test_relay_frame_of_a_network_runs_through():
    cond = Condition("gru", "memory", 2)
    model = Stacked("gru", 2, n_inputs=tasks.sample("memory", 1, delay=2, seed=0).inputs.shape[-1], seeds=[1, 2])
    trained = Trained(cond, TrainConfig(replicates=2), model, [1, 1], [0, 0], [1, 2], [1.0, 1.0])
    frame = analysis.relay_frame(trained, samples=200)
    stable = dynamics.stability(frame)
    assert len(stable) == 2 * 3 * (tasks.INPUT_STEPS + 2 - 1)
    assert stable["r"].dropna().between(-1, 1).all()
    assert stable["overlap"].dropna().between(0, 1).all()
    assert analysis.best_replicate(trained, samples=200) in (0, 1)
    assert len(dynamics.smearing(frame)) == 2 * (4 + 13)


# ----------------------------------------------------------------------------------------
# bad input


def test_bad_inputs_raise():
    good = moving_table()
    with pytest.raises(ValueError, match="DataFrame"):
        dynamics.stability(good.to_dict())
    with pytest.raises(ValueError, match="lacks columns"):
        dynamics.stability(good.drop(columns="contribution"))
    with pytest.raises(ValueError, match="complete relay matrices"):
        dynamics.stability(good.iloc[1:])
    with pytest.raises(ValueError, match="complete relay matrices"):
        dynamics.carriers(good.assign(node=np.where(good.index == 0, 1, good.node)))  # node 1 twice
    with pytest.raises(ValueError, match="at least one"):
        dynamics.stability(good.iloc[:0])
    with pytest.raises(ValueError, match="finite"):
        dynamics.stability(good.assign(contribution=np.where(good.node == 3, np.nan, good.contribution)))
    with pytest.raises(ValueError, match="within must be one of"):
        dynamics.carriers(good, within="node")
    with pytest.raises(ValueError, match="step"):
        dynamics.smearing(good, step=99)
    with pytest.raises(ValueError, match="step"):
        dynamics.smearing(good, step=2.0)
    with pytest.raises(ValueError, match="stable must be"):
        dynamics.stability_by_replicate(good)
    with pytest.raises(ValueError, match="arrived_only"):
        dynamics.stability_by_replicate(dynamics.stability(good), arrived_only="yes")
    with pytest.raises(ValueError, match="no step pairs"):
        dynamics.stability_by_replicate(dynamics.stability(good[good.step <= 2]))
    with pytest.raises(ValueError, match="measure must be one of"):
        dynamics.compare_architectures(per_replicate(0.0), "rank")
    with pytest.raises(ValueError, match="reference must be one of"):
        dynamics.compare_architectures(per_replicate(0.0), "r", reference="transformer")
    with pytest.raises(ValueError, match="random"):
        dynamics.compare_regimes(per_replicate(0.0).query("delay == '1'"), "r")
    with pytest.raises(ValueError, match="smear must be"):
        dynamics.smearing_summary(good)
    with pytest.raises(ValueError, match="trained must be"):
        analysis.best_replicate([])


def test_stability_and_smearing_take_any_nodes_concepts_and_layers():
    """A relay table of your own model (task "custom": every step counts) with 2 layers, 5 classes."""
    import torch

    from irn import analysis
    from irn.models import Stacked

    model = Stacked("gru", 2, 3, 4, n_outputs=5, layers=2, readout="linear", seeds=[0, 1])
    x = torch.randn(200, 6, 3)
    labels = np.arange(200) % 5
    rec = analysis.record_model(model, x, labels, 5)
    frame = analysis.relay_of_recording(rec, range(6))
    stable = dynamics.stability(frame)
    assert set(stable.step) == set(range(5)) and stable.arrived.all()
    assert len(stable) == 2 * 5 * 5  # replicates × concepts × step pairs
    smear = dynamics.smearing(frame, step=5)
    per_node = smear[smear.measure == "concepts per node"]
    assert per_node["count"].max() == 5 and smear[smear.measure == "nodes per concept"]["count"].max() == 8
    assert np.allclose(per_node.groupby("replicate").fraction.sum(), 1.0)
