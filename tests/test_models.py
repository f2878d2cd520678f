import json

import numpy as np
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


# -- one cell: Stacked.step, its Jacobians, the leak rate ------------------------------------------
CELL_VARIANTS = [("rnn", "tanh"), ("rnn", "relu"), ("gru", "tanh"), ("lstm", "tanh")]
TORCH_CELLS = {"rnn": nn.RNNCell, "gru": nn.GRUCell, "lstm": nn.LSTMCell}


def _state(model, points, dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(model.replicates, points, model.state_size, generator=g, dtype=dtype) * 0.7,
            torch.randn(model.replicates, points, model.n_inputs, generator=g, dtype=dtype))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("arch,nonlinearity", CELL_VARIANTS)
def test_step_equals_torch_cells(arch, nonlinearity, dtype):
    """Stacked.step equals torch's nn.RNNCell / GRUCell / LSTMCell with the same weights."""
    model = Stacked(arch, 3, 4, 5, seeds=[1, 2, 3], nonlinearity=nonlinearity)
    x, u = _state(model, 7, dtype)
    nxt = model.step(x, u)
    assert nxt.dtype == dtype and nxt.shape == (3, 7, model.state_size)
    tol = {"atol": 1e-6, "rtol": 1e-5} if dtype == torch.float32 else {"atol": 1e-13, "rtol": 1e-12}
    for r in range(3):
        cell = TORCH_CELLS[arch](4, 5, **({"nonlinearity": nonlinearity} if arch == "rnn" else {})).to(dtype)
        with torch.no_grad():
            for name, value in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), model.layer_weights(0)):
                getattr(cell, name).copy_(value[r])
            if arch == "lstm":
                want = torch.cat(cell(u[r], (x[r, :, :5], x[r, :, 5:])), -1)
            else:
                want = cell(u[r], x[r])
        torch.testing.assert_close(nxt[r].detach(), want, **tol)


@pytest.mark.parametrize("arch,nonlinearity,leak", [*[(a, n, 1.0) for a, n in CELL_VARIANTS],
                                                    ("rnn", "tanh", 0.3), ("rnn", "relu", 0.6)])
def test_step_jacobians_equal_autograd(arch, nonlinearity, leak):
    """The closed-form ∂F/∂x and ∂F/∂u equal torch.func.jacrev of step itself (float64)."""
    model = Stacked(arch, 2, 3, 4, seeds=[7, 8], nonlinearity=nonlinearity, leak=leak)
    x, u = _state(model, 3, torch.float64, seed=4)
    out = model.step(x, u, jacobian=True)
    torch.testing.assert_close(out.next, model.step(x, u), atol=0, rtol=0)
    jx = torch.func.jacrev(lambda v: model.step(v, u))(x)  # (R, N, D, R, N, D)
    ju = torch.func.jacrev(lambda v: model.step(x, v))(u)
    d = model.state_size
    assert out.dx.shape == (2, 3, d, d) and out.du.shape == (2, 3, d, 3)
    for r in range(2):
        for n in range(3):
            torch.testing.assert_close(out.dx[r, n], jx[r, n, :, r, n, :], atol=1e-12, rtol=1e-10)
            torch.testing.assert_close(out.du[r, n], ju[r, n, :, r, n, :], atol=1e-12, rtol=1e-10)


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("arch,nonlinearity", CELL_VARIANTS)
def test_forward_equals_stepping_by_hand(arch, nonlinearity, layers):
    """The forward pass is the step map iterated from zero: layer l steps on the h of layer l − 1."""
    model = Stacked(arch, 2, 3, 4, seeds=[5, 6], nonlinearity=nonlinearity, layers=layers)
    inputs = torch.randn(5, 6, 3, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        trace = model(inputs)
        states = [torch.zeros(2, 5, model.state_size) for _ in range(layers)]
        for t in range(6):
            below = inputs[:, t]
            for layer in range(layers):
                states[layer] = model.step(states[layer], below, layer=layer)
                below = states[layer][..., :4]
                torch.testing.assert_close(states[layer][..., :4], trace.hidden[:, :, t, layer * 4:(layer + 1) * 4],
                                           atol=1e-6, rtol=1e-5)
                if arch == "lstm":
                    torch.testing.assert_close(states[layer][..., 4:], trace.cell[:, :, t, layer * 4:(layer + 1) * 4],
                                               atol=1e-6, rtol=1e-5)


def _leaky_by_hand(model, x, u):
    """(1 − α) x + α act(W_ih u + b_ih + W_hh x + b_hh) in numpy, replicate by replicate."""
    w_ih, w_hh, b_ih, b_hh = (w.detach().double().numpy() for w in model.layer_weights(0))
    act = np.tanh if model.nonlinearity == "tanh" else (lambda v: np.maximum(v, 0))
    a = np.einsum("rgi,rni->rng", w_ih, u) + np.einsum("rgh,rnh->rng", w_hh, x) + (b_ih + b_hh)[:, None]
    return (1 - model.leak) * x + model.leak * act(a)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_leaky_step_and_forward_equal_a_hand_written_update(nonlinearity):
    model = Stacked("rnn", 2, 3, 6, seeds=[1, 2], nonlinearity=nonlinearity, leak=0.25)
    x, u = _state(model, 4, torch.float64, seed=1)
    np.testing.assert_allclose(model.step(x, u).detach().numpy(), _leaky_by_hand(model, x.numpy(), u.numpy()),
                               atol=1e-14, rtol=1e-12)
    inputs = torch.randn(4, 9, 3, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        hidden = model(inputs).hidden
    h = np.zeros((2, 4, 6))
    for t in range(9):
        h = _leaky_by_hand(model, h, inputs[:, t].double().numpy()[None].repeat(2, 0))
        np.testing.assert_allclose(hidden[:, :, t].numpy(), h, atol=1e-6)


def test_leak_one_is_torchs_rnn_and_only_leak_one_converts():
    plain, leak1 = Stacked("rnn", 1, 3, 5, seeds=[4]), Stacked("rnn", 1, 3, 5, seeds=[4], leak=1.0)
    x = torch.randn(2, 7, 3)
    rnn, linear = leak1.to_torch(0)
    assert torch.equal(plain(x).output, leak1(x).output)
    torch.testing.assert_close(leak1(x).output[0], torch.tanh(linear(rnn(x)[0])))
    leaky = Stacked("rnn", 1, 3, 5, seeds=[4], leak=0.5)
    assert leaky.shape_kwargs()["leak"] == 0.5 and leaky.signature() != plain.signature()
    assert not torch.allclose(leaky(x).hidden, plain(x).hidden)
    with pytest.raises(ValueError, match="leak=0.5"):
        leaky.to_torch(0)
    assert Stacked.from_torch([(rnn, linear)]).leak == 1.0
    assert leaky.select([0]).leak == 0.5 and Stacked.concat([leaky, leaky]).leak == 0.5
    with pytest.raises(ValueError, match="leak"):
        Stacked.concat([leaky, plain])


@pytest.mark.parametrize("leak", [0, 0.0, -0.1, 1.5, float("nan"), True, "0.5", None])
def test_bad_leak_is_refused(leak):
    with pytest.raises(ValueError, match=r"leak must be a number in \(0, 1\]"):
        Stacked("rnn", 1, 3, leak=leak)


def test_leak_applies_to_the_rnn_only():
    with pytest.raises(ValueError, match="leak applies to arch 'rnn' only"):
        Stacked("gru", 1, 3, leak=0.5)


def test_concat_of_nothing_is_one_clear_error():
    with pytest.raises(ValueError, match="models must be a list or tuple of at least 1 item"):
        Stacked.concat([])
    with pytest.raises(ValueError, match="models must be"):
        Stacked.concat([Stacked("rnn", 1, 3), "a model"])


def test_step_refuses_bad_arguments():
    model = Stacked("lstm", 2, 3, 4)
    x = torch.zeros(5, 8)
    with pytest.raises(ValueError, match=r"x must have shape \(points, 8\) or \(2, points, 8\)"):
        model.step(torch.zeros(5, 4), torch.zeros(5, 3))
    with pytest.raises(ValueError, match=r"u must have shape \(points, 3\)"):
        model.step(x, torch.zeros(5, 4))
    with pytest.raises(ValueError, match="u must have as many points"):
        model.step(x, torch.zeros(6, 3))
    with pytest.raises(ValueError, match="x must have shape"):
        model.step(torch.zeros(3, 5, 8), None)
    with pytest.raises(ValueError, match="layer must be an integer in 0…0"):
        model.step(x, layer=1)
    with pytest.raises(ValueError, match="jacobian must be True or False"):
        model.step(x, jacobian=1)
    with pytest.raises(ValueError, match="x must hold numbers"):
        model.step(np.array([["a"] * 8]))
    with pytest.raises(ValueError, match="dtype must be a floating torch dtype"):
        model.cell(0, torch.int64)
    out = model.step(np.zeros((5, 8), np.float32))  # an array keeps its float dtype; None is zero input
    assert out.dtype == torch.float32 and out.shape == (2, 5, 8)
    assert model.step([[0.0] * 8]).dtype == torch.float64


def test_a_leaky_model_round_trips_through_the_zoo(tmp_path):
    from irn import zoo

    built = Stacked("rnn", 2, 3, 5, seeds=[1, 2], readout="linear", leak=0.4)
    model, _ = zoo.cached("leaky-test", {"what": "a leaky rnn"}, lambda: (built, {}), zoo=tmp_path)
    assert model is built
    again, _ = zoo.cached("leaky-test", {"what": "a leaky rnn"}, lambda: pytest.fail("rebuilt"), zoo=tmp_path)
    assert again is not built and again.leak == 0.4 and again.signature() == built.signature()
    x = torch.randn(3, 6, 3)
    assert torch.equal(again(x).output, built(x).output)
    # an entry written before models had a leak rate (no "leak" in its shape) loads with leak 1
    sidecar = next(tmp_path.glob("leaky-test-*.json"))
    record = json.loads(sidecar.read_text())
    del record["shape"]["leak"]
    record["shape"]["readout"] = "linear"
    sidecar.write_text(json.dumps(record))
    old, _ = zoo.cached("leaky-test", {"what": "a leaky rnn"}, lambda: pytest.fail("rebuilt"), zoo=tmp_path)
    assert old.leak == 1.0
