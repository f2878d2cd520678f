import pytest
import torch
from torch import nn

from irn import tasks
from irn.models import Knockout, Stacked


def _torch_forward(model, r, x):
    rnn, linear = model.to_torch(r)
    h, _ = rnn(x)
    return torch.tanh(linear(h)), h, rnn, linear


@pytest.mark.parametrize("arch", ["rnn", "gru", "lstm"])
def test_stacked_equals_torch_modules_forward_and_gradients(arch):
    model = Stacked(arch, 3, 3, 12, seeds=[4, 5, 6])
    batch = tasks.sample("memory", 20, delay="random", noise=0.2, seed=0)
    y = torch.randn(20, 15, 3)
    trace = model(batch.inputs)
    ((trace.output - y) ** 2).mean(dim=(1, 2, 3)).sum().backward()
    for r in range(3):
        out, h, rnn, linear = _torch_forward(model, r, batch.inputs)
        torch.testing.assert_close(trace.output[r], out, atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(trace.hidden[r], h, atol=1e-6, rtol=1e-5)
        ((out - y) ** 2).mean().backward()
        torch.testing.assert_close(model.weight_hh.grad[r], rnn.weight_hh_l0.grad, atol=1e-6, rtol=1e-4)
        torch.testing.assert_close(model.weight_ih.grad[r], rnn.weight_ih_l0.grad, atol=1e-6, rtol=1e-4)
        torch.testing.assert_close(model.bias_hh.grad[r], rnn.bias_hh_l0.grad, atol=1e-6, rtol=1e-4)
        torch.testing.assert_close(model.readout_weight.grad[r], linear.weight.grad, atol=1e-6, rtol=1e-4)


def test_lstm_cell_state_is_recorded_and_matches_torch():
    model = Stacked("lstm", 2, 8, 12)
    x = tasks.sample("block", 6, delay=3, seed=1).inputs
    trace = model(x)
    rnn, _ = model.to_torch(1)
    c = []
    state = None
    for t in range(x.shape[1]):
        _, state = rnn(x[:, t:t + 1], state)
        c.append(state[1][0])
    torch.testing.assert_close(trace.cell[1], torch.stack(c, 1), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("arch", ["rnn", "gru", "lstm"])
def test_import_from_user_torch_modules_round_trip(arch):
    torch.manual_seed(0)
    cls = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[arch]
    nets = [(cls(3, 7, batch_first=True), nn.Linear(7, 3)) for _ in range(2)]
    model = Stacked.from_torch(nets)
    assert (model.arch, model.replicates, model.hidden) == (arch, 2, 7)
    x = torch.randn(5, 11, 3)
    for r, (rnn, linear) in enumerate(nets):
        torch.testing.assert_close(model(x).output[r], torch.tanh(linear(rnn(x)[0])))


def test_from_torch_rejects_unsupported_networks():
    with pytest.raises(ValueError, match="one-layer"):
        Stacked.from_torch([(nn.GRU(3, 5, num_layers=2, batch_first=True), nn.Linear(5, 3))])
    with pytest.raises(ValueError, match="readout"):
        Stacked.from_torch([(nn.GRU(3, 5, batch_first=True), nn.Linear(5, 2))])
    with pytest.raises(ValueError, match="networks"):
        Stacked.from_torch([(nn.Linear(3, 5), nn.Linear(5, 3))])


def test_knockout_zeroes_chosen_nodes_at_chosen_steps_only():
    model = Stacked("gru", 2, 3, 12)
    x = tasks.sample("memory", 8, delay=4, seed=0).inputs
    free = model(x)
    keep = torch.ones(2, 12)
    keep[0, [1, 5]] = 0
    model.knockout = Knockout(keep, frozenset({10}))
    hit = model(x)
    model.knockout = None
    assert torch.equal(hit.hidden[:, :, :10], free.hidden[:, :, :10])
    assert torch.all(hit.hidden[0, :, 10, [1, 5]] == 0)
    assert not torch.allclose(hit.hidden[0, :, 11], free.hidden[0, :, 11])
    assert torch.equal(hit.hidden[1], free.hidden[1])  # replicate 1 keeps all nodes


def test_bad_model_arguments():
    with pytest.raises(ValueError, match="arch"):
        Stacked("transformer", 1, 3)
    with pytest.raises(ValueError, match="hidden"):
        Stacked("rnn", 1, 3, hidden=0)
    with pytest.raises(ValueError, match="inputs"):
        Stacked("rnn", 2, 3)(torch.zeros(3, 4, 5))


@pytest.mark.parametrize("arch", ["rnn", "gru", "lstm"])
def test_recording_chosen_steps_equals_indexing_the_full_trace(arch):
    model = Stacked(arch, 2, 3, 12)
    x = tasks.sample("memory", 5, delay=5, seed=2).inputs
    full = model(x)
    steps = torch.tensor([10, 12, 14])
    part = model(x, record_steps=steps)
    torch.testing.assert_close(part.output, full.output[:, :, steps])
    torch.testing.assert_close(part.hidden, full.hidden[:, :, steps])
    if arch == "lstm":
        torch.testing.assert_close(part.cell, full.cell[:, :, steps])
