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
    with pytest.raises(ValueError, match="bidirectional"):
        Stacked.from_torch([(nn.GRU(3, 5, bidirectional=True, batch_first=True), nn.Linear(5, 3))])
    with pytest.raises(ValueError, match="proj_size"):
        Stacked.from_torch([(nn.LSTM(3, 5, proj_size=2, batch_first=True), nn.Linear(2, 3))])
    with pytest.raises(ValueError, match="one nn.Linear"):
        Stacked.from_torch([(nn.GRU(3, 5), nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3)))])
    with pytest.raises(ValueError, match="hidden_size 5"):
        Stacked.from_torch([(nn.GRU(3, 5), nn.Linear(6, 3))])
    with pytest.raises(ValueError, match="nn.RNN, nn.GRU or nn.LSTM"):
        Stacked.from_torch([(nn.Linear(3, 5), nn.Linear(5, 3))])
    with pytest.raises(ValueError, match="same architecture"):
        Stacked.from_torch([(nn.GRU(3, 5), nn.Linear(5, 3)), (nn.GRU(3, 5, num_layers=2), nn.Linear(5, 3))])
    with pytest.raises(ValueError, match="readout must be one of"):
        Stacked.from_torch([(nn.GRU(3, 5), nn.Linear(5, 3))], readout="softmax")

    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn, self.a, self.b = nn.GRU(3, 5), nn.Linear(5, 3), nn.Linear(5, 3)

    with pytest.raises(ValueError, match="exactly one recurrent layer and one nn.Linear"):
        Stacked.from_torch(TwoHeads())


# every arch (and the relu RNN) × layers × readout × K, forward and gradients against torch
VARIANTS = [(arch, nl, layers, readout, k)
            for arch, nl in [("rnn", "tanh"), ("rnn", "relu"), ("gru", "tanh"), ("lstm", "tanh")]
            for layers in (1, 2, 3) for readout in ("tanh", "linear") for k in (1, 3, 9)]


@pytest.mark.parametrize("arch,nonlinearity,layers,readout,k", VARIANTS)
def test_general_stacked_equals_torch(arch, nonlinearity, layers, readout, k):
    torch.manual_seed(layers * 31 + k)
    model = Stacked(arch, 2, 4, 6, seeds=[1, 2], n_outputs=k, layers=layers, readout=readout,
                    nonlinearity=nonlinearity)
    x = torch.randn(5, 7, 4)
    y = torch.randn(5, 7, k)
    trace = model(x)
    assert trace.output.shape == (2, 5, 7, k) and trace.hidden.shape == (2, 5, 7, layers * 6)
    ((trace.output - y) ** 2).mean(dim=(1, 2, 3)).sum().backward()
    act = torch.tanh if readout == "tanh" else (lambda v: v)
    for r in range(2):
        rnn, linear = model.to_torch(r, batch_first=False)
        h, _ = rnn(x.transpose(0, 1))
        out = act(linear(h)).transpose(0, 1)
        torch.testing.assert_close(trace.output[r], out, atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(trace.hidden[r, ..., -6:], h.transpose(0, 1), atol=1e-5, rtol=1e-4)
        ((out - y) ** 2).mean().backward()
        for layer in range(layers):
            mine = model.layer_weights(layer)
            for name, p in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), mine):
                torch.testing.assert_close(p.grad[r], getattr(rnn, f"{name}_l{layer}").grad, atol=1e-5, rtol=1e-3)
        torch.testing.assert_close(model.readout_weight.grad[r], linear.weight.grad, atol=1e-5, rtol=1e-3)
        torch.testing.assert_close(model.readout_bias.grad[r], linear.bias.grad, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize("arch", ["rnn", "gru", "lstm"])
def test_every_layer_is_recorded(arch):
    """The lower layers' states equal those of torch networks cut at that layer."""
    model = Stacked(arch, 1, 3, 5, layers=3)
    rnn, _ = model.to_torch(0)
    x = torch.randn(4, 6, 3)
    trace = model(x)
    below = x
    for layer in range(3):
        cls = type(rnn)
        one = cls(3 if layer == 0 else 5, 5, batch_first=True)
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(one, f"{name}_l0").copy_(getattr(rnn, f"{name}_l{layer}"))
        out, state = one(below)
        torch.testing.assert_close(trace.hidden[0, :, :, layer * 5:(layer + 1) * 5], out, atol=1e-6, rtol=1e-5)
        if arch == "lstm":
            c = [one(below[:, :t + 1])[1][1][0] for t in range(6)]
            torch.testing.assert_close(trace.cell[0, :, :, layer * 5:(layer + 1) * 5], torch.stack(c, 1),
                                       atol=1e-6, rtol=1e-5)
        below = out
    assert list(model.layer_of([0, 4, 5, 14])) == [0, 0, 1, 2]


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("readout", ["tanh", "linear"])
def test_from_torch_any_shape_round_trips(batch_first, readout):
    torch.manual_seed(0)
    nets = [(nn.LSTM(4, 6, num_layers=2, batch_first=batch_first), nn.Linear(6, 5)) for _ in range(2)]
    model = Stacked.from_torch(nets, readout=readout)
    assert (model.layers, model.n_outputs, model.readout, model.nodes) == (2, 5, readout, 12)
    x = torch.randn(3, 8, 4)
    act = torch.tanh if readout == "tanh" else (lambda v: v)
    for r, (rnn, linear) in enumerate(nets):
        xin = x if batch_first else x.transpose(0, 1)
        h = rnn(xin)[0]
        h = h if batch_first else h.transpose(0, 1)
        torch.testing.assert_close(model(x).output[r], act(linear(h)))
        back, lin = model.to_torch(r, batch_first=batch_first)
        assert back.batch_first == batch_first and back.num_layers == 2
        for name, p in rnn.named_parameters():
            torch.testing.assert_close(getattr(back, name), p)
        torch.testing.assert_close(lin.weight, linear.weight)
    again = Stacked.from_torch([model.to_torch(r) for r in range(2)], readout=readout)
    for (name, p), (_, q) in zip(model.named_parameters(), again.named_parameters()):
        assert torch.equal(p, q), name


def test_from_torch_takes_a_users_module_and_relu_and_missing_bias():
    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.RNN(3, 4, nonlinearity="relu", bias=False)
            self.head = nn.Linear(4, 2)

        def forward(self, x):
            return self.head(self.rnn(x)[0])

    torch.manual_seed(3)
    net = Classifier()
    model = Stacked.from_torch(net, readout="linear")
    assert (model.arch, model.nonlinearity, model.n_outputs) == ("rnn", "relu", 2)
    x = torch.randn(7, 5, 3)  # (steps, batch, features): the module is not batch_first
    torch.testing.assert_close(model(x.transpose(0, 1)).output[0], net(x).transpose(0, 1))


def test_knockout_reaches_every_layer():
    model = Stacked("gru", 1, 3, 4, layers=2)
    x = torch.randn(2, 6, 3)
    free = model(x)
    keep = torch.ones(1, 8)
    keep[0, 5] = 0  # node 1 of layer 1
    model.knockout = Knockout(keep, frozenset({3}))
    hit = model(x)
    model.knockout = None
    assert torch.equal(hit.hidden[..., :4], free.hidden[..., :4])  # layer 0 untouched
    assert torch.all(hit.hidden[0, :, 3, 5] == 0)
    assert not torch.allclose(hit.output[:, :, 4:], free.output[:, :, 4:])


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
    with pytest.raises(ValueError, match="layers"):
        Stacked("rnn", 1, 3, layers=0)
    with pytest.raises(ValueError, match="n_outputs"):
        Stacked("rnn", 1, 3, n_outputs=0)
    with pytest.raises(ValueError, match="readout"):
        Stacked("rnn", 1, 3, readout="softmax")
    with pytest.raises(ValueError, match="nonlinearity"):
        Stacked("gru", 1, 3, nonlinearity="relu")


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
