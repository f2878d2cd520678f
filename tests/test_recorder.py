"""Tests of irn.recorder: minibatch-gradient statistics and probe snapshots."""

import numpy as np
import pandas as pd
import pytest
import torch

from irn import recorder, tasks
from irn.models import Stacked

BATCHES = 4


def data(seed=0, n=32, delay=2):
    batch = tasks.sample("memory", n, delay, noise=0.3, seed=seed)
    return batch.inputs, batch.targets, int(batch.answer_step[0])


def stacked_loss(model, x, y, step):
    """Sum over replicates of each replicate's mean squared error at the answer step."""
    out = model(x).output[:, :, step]
    return ((out - y) ** 2).mean(dim=(1, 2)).sum()


def reference_statistics(model, x, y, step, minibatches, lr=None, orders=None):
    """Per replicate, one torch nn.RNN + nn.Linear at a time: ‖mean‖ and ‖std‖ of the minibatch
    gradients of each weight matrix, computed with numpy. With ``lr``, torch.optim.Adam steps after
    every minibatch (as in training); ``orders[r]`` then gives replicate r's own minibatches."""
    names = {"input": "weight_ih_l0", "recurrent": "weight_hh_l0"}
    rows = []
    for r in range(model.replicates):
        rnn, linear = model.to_torch(r)
        adam = torch.optim.Adam([*rnn.parameters(), *linear.parameters()], lr=lr) if lr else None
        grads = {"input": [], "recurrent": [], "readout": []}
        for index in (minibatches if orders is None else orders[r]):
            rnn.zero_grad()
            linear.zero_grad()
            out = torch.tanh(linear(rnn(x[index])[0][:, step]))
            ((out - y[index]) ** 2).mean().backward()
            for kind in names:
                grads[kind].append(getattr(rnn, names[kind]).grad.numpy().ravel().copy())
            grads["readout"].append(linear.weight.grad.numpy().ravel().copy())
            if adam is not None:
                adam.step()
        for kind, g in grads.items():
            g = np.array(g, dtype=np.float64)
            rows.append((r, kind, np.linalg.norm(g.mean(0)), np.linalg.norm(g.std(0))))
    return pd.DataFrame(rows, columns=["replicate", "matrix", "mean_norm", "std_norm"])


@pytest.mark.parametrize("arch", ["rnn"])
def test_gradient_statistics_equal_a_slow_per_minibatch_computation(arch):
    x, y, step = data()
    model = Stacked(arch, 3, 3, hidden=5, seeds=[1, 2, 3])
    minibatches = np.array_split(np.random.default_rng(0).permutation(len(x)), BATCHES)
    rec = recorder.Recorder(x, step)
    for index in minibatches:
        model.zero_grad()
        stacked_loss(model, x[index], y[index], step).backward()
        rec.on_step(1, model)
    rec.on_epoch(1, model)
    got = rec.result().gradients
    assert set(got.matrix) == {"input", "recurrent", "readout"}
    assert (got.batches == BATCHES).all()
    expected = reference_statistics(model, x, y, step, minibatches)
    merged = got.merge(expected, on=["replicate", "matrix"], suffixes=("", "_ref"))
    assert len(merged) == 9
    assert np.allclose(merged.mean_norm, merged.mean_norm_ref, rtol=1e-5, atol=1e-8)
    assert np.allclose(merged.std_norm, merged.std_norm_ref, rtol=1e-5, atol=1e-8)
    assert np.allclose(merged.snr, merged.mean_norm / merged.std_norm)


def test_snapshots_hold_the_probe_state_at_its_step():
    x, _, step = data(n=10)
    model = Stacked("gru", 2, 3, hidden=4)
    rec = recorder.Recorder(x, step, record_epochs=[2])
    rec.snapshot(0, model)
    rec.on_epoch(1, model)  # not a record epoch
    with torch.no_grad():
        model.weight_hh.mul_(0.5)
    rec.on_epoch(2, model)
    out = rec.result()
    assert list(out.epochs) == [0, 2]
    with torch.no_grad():
        trace = model(x)
    assert out.hidden.shape == (2, 2, 10, 4) and out.output.shape == (2, 2, 10, 3)
    assert np.allclose(out.hidden[1], trace.hidden[:, :, step].numpy())
    assert np.allclose(out.output[1], trace.output[:, :, step].numpy())
    assert not np.allclose(out.hidden[0], out.hidden[1])


def test_matrix_names():
    assert recorder.matrix_of("weight_ih") == "input"
    assert recorder.matrix_of("weight_hh_l0") == "recurrent"
    assert recorder.matrix_of("weight_hh_l1") == "recurrent_l1"
    assert recorder.matrix_of("readout_weight") == "readout"
    assert recorder.matrix_of("bias_ih") is None


def test_snr_drop_finds_the_first_epoch_below_threshold():
    snr = [10, 8, 6, 4, 2, 0.5, 0.4, 0.3, 0.2, 0.2]
    frame = pd.DataFrame({"replicate": [0] * 10 + [1] * 10, "matrix": "recurrent",
                          "epoch": list(range(1, 11)) * 2, "snr": snr + [5.0] * 10})
    out = recorder.snr_drop(frame, threshold=1.0, window=1).set_index("replicate")
    assert out.loc[0, "drop_epoch"] == 6 and np.isnan(out.loc[1, "drop_epoch"])
    smoothed = recorder.snr_drop(frame, threshold=1.0, window=3).set_index("replicate")
    assert smoothed.loc[0, "drop_epoch"] == 7  # median of 2, 0.5, 0.4 is 0.5 at epoch 7


@pytest.mark.parametrize("call, message", [
    (lambda: recorder.Recorder(torch.zeros(5, 3), 0), "probe"),
    (lambda: recorder.Recorder(torch.zeros(5, 4, 3), 4), "probe_step"),
    (lambda: recorder.Recorder(torch.zeros(5, 4, 3), 1).result(), "nothing recorded"),
    (lambda: recorder.snr_drop(pd.DataFrame({"epoch": [1]})), "gradients"),
    (lambda: recorder.snr_drop(pd.DataFrame({"replicate": [0], "matrix": "m", "epoch": [1], "snr": [1.0]}),
                               window=0), "window"),
])
def test_bad_input_is_rejected(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def small_run(seeds, batch, arch="gru"):
    x, y, step = data(n=24)
    model = Stacked(arch, len(seeds), 3, hidden=4, seeds=seeds)
    return recorder.record_fit(model, x, y, step, probe=x[:10], probe_step=step, record_epochs=[1, 3],
                               epochs=3, lr=0.01, batch=batch, seed=5, progress=False)


@pytest.mark.parametrize("batch", [8, None])
def test_stacked_replicates_record_what_single_runs_record(batch):
    """fit shuffles minibatches by replicate index, so with minibatches a replicate alone is
    compared at index 0; full batch has no order, so every replicate is compared."""
    seeds = [11, 12, 13]
    together = small_run(seeds, batch)
    assert list(together.epochs) == [0, 1, 3]
    assert (together.gradients.batches == (3 if batch else 1)).all()
    assert len(together.gradients) == 3 * 3 * 3  # epochs × replicates × matrices
    assert sorted(together.gradients.epoch.unique()) == [1, 2, 3]
    for r, s in enumerate(seeds if batch is None else seeds[:1]):
        alone = small_run([s], batch)
        assert np.allclose(together.hidden[:, r], alone.hidden[:, 0], atol=1e-5)
        assert np.allclose(together.output[:, r], alone.output[:, 0], atol=1e-5)
        mine = together.gradients[together.gradients.replicate == r].drop(columns="replicate").reset_index(drop=True)
        theirs = alone.gradients.drop(columns="replicate").reset_index(drop=True)
        assert np.allclose(mine.mean_norm, theirs.mean_norm, rtol=1e-4, atol=1e-7)
        if batch is not None:
            assert np.allclose(mine.std_norm, theirs.std_norm, rtol=1e-4, atol=1e-7)


def test_record_fit_gradients_are_those_fit_trains_on():
    """The first epoch's minibatch gradients, rebuilt with torch's own RNN and Adam from fit's
    documented order (a permutation by numpy's default_rng([seed, replicate]))."""
    x, y, step = data(n=24)
    model = Stacked("rnn", 2, 3, hidden=4, seeds=[3, 4])
    rec = recorder.record_fit(model, x, y, step, probe=x, probe_step=step, record_epochs=[1],
                              epochs=1, lr=0.01, batch=8, seed=5, progress=False)
    orders = [np.split(np.random.default_rng([5, r]).permutation(24), 3) for r in range(2)]
    expected = reference_statistics(model, x, y, step, None, lr=0.01, orders=orders)
    got = rec.gradients.set_index(["replicate", "matrix"])
    assert len(expected) == 6
    for row in expected.itertuples():
        assert got.loc[(row.replicate, row.matrix), "mean_norm"] == pytest.approx(row.mean_norm, rel=1e-4)
        assert got.loc[(row.replicate, row.matrix), "std_norm"] == pytest.approx(row.std_norm, rel=1e-4)


def test_record_fit_refuses_its_own_hooks():
    x, y, step = data(n=8)
    with pytest.raises(ValueError, match="on_step"):
        recorder.record_fit(Stacked("rnn", 1, 3, hidden=2), x, y, step, probe=x, probe_step=step,
                            epochs=1, on_step=print)
