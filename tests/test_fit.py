"""irn.train.fit: any Stacked model on any data, checked against plain torch training."""

import numpy as np
import pytest
import torch
from torch import nn

from irn.models import Stacked
from irn.train import fit


def _data(samples=40, steps=5, n_inputs=3, classes=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(samples, steps, n_inputs, generator=g)
    labels = torch.randint(0, classes, (samples,), generator=g)
    return x, labels


@pytest.mark.parametrize("arch,layers", [("rnn", 1), ("gru", 2), ("lstm", 2)])
def test_full_batch_cross_entropy_equals_torch_adam(arch, layers):
    x, labels = _data()
    model = Stacked(arch, 2, 3, 6, n_outputs=4, layers=layers, readout="linear", seeds=[5, 6])
    result = fit(model, x, labels, answer_step=4, loss="cross_entropy", epochs=15, lr=0.01, progress=False)
    for r in range(2):
        rnn, head = model.to_torch(r)
        opt = torch.optim.Adam([*rnn.parameters(), *head.parameters()], lr=0.01)
        for _ in range(15):
            opt.zero_grad()
            nn.functional.cross_entropy(head(rnn(x)[0][:, 4]), labels).backward()
            opt.step()
        mine, my_head = result.model.to_torch(r)
        for name, p in rnn.named_parameters():
            torch.testing.assert_close(getattr(mine, name), p, atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(my_head.weight, head.weight, atol=1e-5, rtol=1e-4)
    assert result.history.epoch.max() == 14 and len(result.history) == 30
    for name, p in model.named_parameters():  # the model passed in is untouched
        assert torch.equal(p, Stacked(arch, 2, 3, 6, n_outputs=4, layers=layers, readout="linear",
                                      seeds=[5, 6]).state_dict()[name])


def test_forecasting_every_step_mse_equals_torch():
    x = torch.randn(12, 8, 1)
    y = torch.roll(x, -1, dims=1)
    model = Stacked("rnn", 1, 1, 5, n_outputs=1, readout="linear", nonlinearity="relu")
    result = fit(model, x, y, answer_step=None, epochs=10, lr=0.02, progress=False)
    rnn, head = model.to_torch(0)
    opt = torch.optim.Adam([*rnn.parameters(), *head.parameters()], lr=0.02)
    for _ in range(10):
        opt.zero_grad()
        ((head(rnn(x)[0]) - y) ** 2).mean().backward()
        opt.step()
    torch.testing.assert_close(result.model.to_torch(0)[0].weight_hh_l0, rnn.weight_hh_l0, atol=1e-5, rtol=1e-4)
    assert result.history.accuracy.isna().all()


def test_stacked_replicates_equal_single_runs_with_minibatches():
    x, labels = _data(samples=30)
    model = Stacked("gru", 3, 3, 5, n_outputs=4, readout="linear", seeds=[1, 2, 3])
    both = fit(model, x, labels, 4, loss="cross_entropy", epochs=6, batch=8, seed=7, progress=False)
    alone = fit(model.select([2]), x, labels, 4, loss="cross_entropy", epochs=6, batch=8, seed=7, progress=False)
    # replicate r's minibatch order depends on (seed, r): replicate 2 alone is replicate 0 of its stack
    first = fit(model.select([0]), x, labels, 4, loss="cross_entropy", epochs=6, batch=8, seed=7, progress=False)
    for name, p in both.model.named_parameters():
        torch.testing.assert_close(p[0], getattr(first.model, name)[0], atol=1e-6, rtol=1e-5)
    assert not torch.allclose(both.model.weight_hh[2], alone.model.weight_hh[0])  # other order, other path
    again = fit(model, x, labels, 4, loss="cross_entropy", epochs=6, batch=8, seed=7, progress=False)
    for name, p in both.model.named_parameters():
        assert torch.equal(p, getattr(again.model, name))  # same seed, same weights


def test_criterion_snapshots_each_replicate_when_it_is_reached():
    x = torch.zeros(8, 2, 1)
    x[:4, 0, 0] = 1.0
    y = torch.where(x[:, 0, :] > 0, 1.0, -1.0)  # (8, 1) ±1: the sign of the first input
    model = Stacked("rnn", 2, 1, 4, n_outputs=1, seeds=[0, 1])
    result = fit(model, x, y, 1, epochs=300, lr=0.05, criterion=1.0, progress=False)
    assert all(result.reached)
    for r in range(2):
        out = result.model.select([r])(x).output[0, :, 1]
        assert ((out > 0) == (y > 0)).all()
        hist = result.history[result.history.replicate == r]
        assert hist.epoch.max() == result.epochs[r] - 1 and (hist.accuracy < 1).all()


def test_bad_fit_arguments_are_refused_before_training():
    x, labels = _data()
    model = Stacked("rnn", 1, 3, 4, n_outputs=4, readout="linear")
    cases = [
        (dict(loss="hinge"), "loss"),
        (dict(targets=labels.float()), "integer class labels"),
        (dict(targets=labels[:5]), "targets must have shape"),
        (dict(answer_step=9), "answer_step must lie"),
        (dict(epochs=0), "epochs"),
        (dict(batch=0), "batch"),
        (dict(lr=-1), "lr"),
        (dict(criterion=1.5), "criterion"),
        (dict(answer_step=None, targets=torch.zeros(40, 5, dtype=torch.long), criterion=0.9), "criterion needs"),
        (dict(on_step=3), "on_step"),
    ]
    for change, message in cases:
        kwargs = dict(targets=labels, answer_step=4, loss="cross_entropy", epochs=2, progress=False)
        kwargs.update(change)
        targets = kwargs.pop("targets")
        with pytest.raises(ValueError, match=message):
            fit(model, x, targets, **kwargs)
    with pytest.raises(ValueError, match="inputs"):
        fit(model, np.zeros((4, 5, 2)), np.zeros(4, dtype=int), 4, loss="cross_entropy")
