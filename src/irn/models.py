"""Recurrent networks with a replicate dimension (paper §II.B; DESIGN §10).

``Stacked`` holds R independent networks of one shape: ``layers`` recurrent layers (``"rnn"``,
``"gru"`` or ``"lstm"``; the RNN with tanh or ReLU) of ``hidden`` nodes each, then a readout
``Linear(hidden → n_outputs)`` of the top layer with tanh (the paper's classifier) or no activation
(``readout="linear"``: logits for a softmax-style classifier, or forecasts). The paper's networks are
the defaults: one layer of 12 nodes, three tanh outputs. Weights carry a leading replicate
dimension and use torch's own layout and gate order, so replicate r is exactly
``torch.nn.RNN/GRU/LSTM(num_layers=layers)`` + ``torch.nn.Linear`` with the same weights
(``to_torch`` / ``from_torch`` convert both ways, tested forward and backward).

Nodes. Every forward pass records the hidden state h (and the LSTM cell state c) of every layer at
every step, side by side: node id ``l * hidden + j`` is node j of layer l (``layer_of``), so a
one-layer model's node ids are its 12 nodes as before and every analysis (relay, knockout, PCA)
sees all layers at once. A knockout zeroes chosen nodes of any layer at chosen steps (the
knockout of paper §III, used through ``irn.knockout``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from irn import params
from irn.params import check_count

ARCHS = ("rnn", "gru", "lstm")
GATES = {"rnn": 1, "gru": 3, "lstm": 4}
N_OUTPUTS = 3  # the paper's three concepts: the default readout size
READOUTS = ("tanh", "linear")
NONLINEARITIES = ("tanh", "relu")
KNOCKOUT_STATES = ("h", "c", "both")
LAYER_PARAMETERS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
_TORCH_CLASSES = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


def check_arch(arch: str) -> str:
    """Return ``arch`` if it is one of ``ARCHS``; one ValueError naming ``arch`` otherwise."""
    return params.require(arch, "arch", params.one_of(ARCHS))


def check_choice(value, name: str, allowed: tuple) -> str:
    """Return ``value`` if it is one of ``allowed``; raise one ValueError naming ``name`` otherwise."""
    return params.require(value, name, params.one_of(allowed))


def check_inputs(inputs, n_inputs: int, name: str = "inputs") -> torch.Tensor:
    """Checked model inputs as a float32 tensor (samples, steps, n_inputs): finite numbers (NaN or
    inf in the inputs would train or record NaN silently), at least one sample and one step."""
    x = params.array(inputs, name)
    if x.ndim != 3 or x.shape[-1] != n_inputs or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name} must be (samples, steps, {n_inputs}) with at least one sample and step, "
                         f"got shape {x.shape}")
    return torch.from_numpy(x.astype(np.float32))


def layer_parameter(name: str, layer: int) -> str:
    """The attribute name of one layer's parameter: ``weight_ih`` for layer 0 (the paper's
    one-layer networks keep their names), ``weight_ih_l1`` … for the layers above."""
    return name if layer == 0 else f"{name}_l{layer}"


@dataclass(frozen=True)
class Trace:
    """What a forward pass recorded.

    output: (replicates, batch, steps, n_outputs) readout at every step (tanh or linear);
    hidden: (replicates, batch, steps, layers·hidden) h of every layer after every step (after any
    knockout), layer-major: node ``l * hidden + j``; cell: same shape for LSTM cell states, else None.
    """

    output: torch.Tensor
    hidden: torch.Tensor
    cell: torch.Tensor | None


@dataclass(frozen=True)
class Knockout:
    """Zero nodes during a forward pass.

    keep: (replicates, nodes) with 0 for knocked-out nodes and 1 elsewhere (nodes = layers·hidden);
    steps: the 0-based steps after which the state is zeroed; state: "h", "c" or "both"
    (for RNN and GRU only h exists, so every choice zeroes h).
    """

    keep: torch.Tensor
    steps: frozenset
    state: str = "both"


class Stacked(nn.Module):
    """R independent recurrent networks of one shape evaluated as one module.

    arch: "rnn", "gru" or "lstm"; replicates: R; n_inputs: I; hidden: H nodes per layer;
    seeds: one initialisation seed per replicate (default 0…R−1); n_outputs: K readout units;
    layers: L ≥ 1 stacked recurrent layers; readout: "tanh" (the paper) or "linear";
    nonlinearity: "tanh" or "relu" (RNN only; GRU and LSTM use their own gates).

    Parameters (torch's names and gate order, with a leading replicate dimension), for layer l
    (named by ``layer_parameter``: ``weight_ih`` for l = 0, ``weight_ih_l1`` …):
    weight_ih (R, G·H, I for l = 0 else H), weight_hh (R, G·H, H), bias_ih (R, G·H), bias_hh (R, G·H);
    then readout_weight (R, K, H), readout_bias (R, K); G = 1 (rnn), 3 (gru: r, z, n), 4 (lstm: i, f, g, o).
    Initialisation is torch's (uniform ±1/√H for every parameter), drawn per replicate from its seed
    in the order above, so a one-layer model equals the paper's networks of earlier irn versions.
    """

    def __init__(self, arch: str, replicates: int, n_inputs: int, hidden: int = 12,
                 seeds=None, *, n_outputs: int = N_OUTPUTS, layers: int = 1, readout: str = "tanh",
                 nonlinearity: str = "tanh"):
        super().__init__()
        self.arch = check_arch(arch)
        self.replicates = check_count(replicates, "replicates", 1)
        self.n_inputs = check_count(n_inputs, "n_inputs", 1)
        self.hidden = check_count(hidden, "hidden", 1)
        self.n_outputs = check_count(n_outputs, "n_outputs", 1)
        self.layers = check_count(layers, "layers", 1)
        self.readout = check_choice(readout, "readout", READOUTS)
        self.nonlinearity = check_choice(nonlinearity, "nonlinearity", NONLINEARITIES)
        if arch != "rnn" and nonlinearity != "tanh":
            raise ValueError(f"nonlinearity applies to arch 'rnn' only ({arch} uses its gates); got {nonlinearity!r}")
        seeds = list(range(self.replicates)) if seeds is None else [int(s) for s in seeds]
        if len(seeds) != self.replicates:
            raise ValueError(f"seeds must hold one seed per replicate ({self.replicates}), got {len(seeds)}")
        g = GATES[arch] * hidden
        shapes = {}
        for layer in range(self.layers):
            width = n_inputs if layer == 0 else hidden
            for name, shape in zip(LAYER_PARAMETERS, ((g, width), (g, hidden), (g,), (g,))):
                shapes[layer_parameter(name, layer)] = shape
        shapes.update(readout_weight=(self.n_outputs, hidden), readout_bias=(self.n_outputs,))
        bound = 1.0 / math.sqrt(hidden)  # torch's default for both the cell and Linear(hidden, K)
        values = {k: torch.empty((self.replicates, *s)) for k, s in shapes.items()}
        for r, seed in enumerate(seeds):
            gen = torch.Generator().manual_seed(seed)
            for k, s in shapes.items():
                values[k][r] = torch.rand(s, generator=gen) * (2 * bound) - bound
        for k, v in values.items():
            setattr(self, k, nn.Parameter(v))
        self.knockout: Knockout | None = None

    # -- shape -----------------------------------------------------------------------------
    @property
    def nodes(self) -> int:
        """Recorded nodes per state: layers × hidden."""
        return self.layers * self.hidden

    def layer_of(self, nodes) -> np.ndarray:
        """The layer (0 = first) of each node id (ints or an array of ints in 0…nodes−1)."""
        nodes = np.asarray(nodes)
        if nodes.dtype.kind not in "iu" or (nodes.size and (nodes.min() < 0 or nodes.max() >= self.nodes)):
            raise ValueError(f"nodes must be node ids in 0…{self.nodes - 1}")
        return nodes // self.hidden

    def shape_kwargs(self) -> dict:
        """The keyword arguments that rebuild a model of this shape (with ``arch``, R, I, H)."""
        return {"n_outputs": self.n_outputs, "layers": self.layers, "readout": self.readout,
                "nonlinearity": self.nonlinearity}

    def _like(self, replicates: int) -> "Stacked":
        return Stacked(self.arch, replicates, self.n_inputs, self.hidden, **self.shape_kwargs())

    def layer_weights(self, layer: int) -> tuple[torch.Tensor, ...]:
        """(weight_ih, weight_hh, bias_ih, bias_hh) of one layer, each with the replicate dimension."""
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 0 <= layer < self.layers:
            raise ValueError(f"layer must be in 0…{self.layers - 1}, got {layer!r}")
        return tuple(getattr(self, layer_parameter(n, int(layer))) for n in LAYER_PARAMETERS)

    # -- forward -------------------------------------------------------------------------
    def forward(self, inputs: torch.Tensor, record_steps=None) -> Trace:
        """Run every replicate on ``inputs``.

        inputs: (batch, steps, n_inputs), shared by all replicates, or
        (replicates, batch, steps, n_inputs), one batch per replicate.
        record_steps: record only these 0-based steps (a list or 1-D tensor; default: every step) —
        training reads just the answer steps.
        """
        if inputs.shape[-1] != self.n_inputs:
            raise ValueError(f"inputs must have {self.n_inputs} features, got {inputs.shape[-1]}")
        if inputs.dim() == 3:
            pattern = "bti,rgi->trbg"
        elif inputs.dim() == 4 and inputs.shape[0] == self.replicates:
            pattern = "rbti,rgi->trbg"
        else:
            raise ValueError("inputs must have shape (batch, steps, n_inputs) or "
                             f"({self.replicates}, batch, steps, n_inputs), got {tuple(inputs.shape)}")
        ko = self.knockout
        hs_layers, cs_layers = [], []
        below = inputs
        for layer in range(self.layers):
            keep = None if ko is None else ko.keep[:, None, layer * self.hidden:(layer + 1) * self.hidden]
            hs, cs = self._layer(layer, below, pattern, keep)
            hs_layers.append(hs)
            cs_layers.append(cs)
            if layer + 1 < self.layers:
                below, pattern = torch.stack(hs, dim=2), "rbti,rgi->trbg"  # (R, B, T, H)
        if record_steps is not None:
            hs_layers = [[hs[int(t)] for t in record_steps] for hs in hs_layers]
            cs_layers = [[cs[int(t)] for t in record_steps] for cs in cs_layers] if cs_layers[0] else cs_layers
        hidden = torch.cat([torch.stack(hs, dim=2) for hs in hs_layers], dim=-1)
        top = hidden[..., -self.hidden:] if self.layers > 1 else hidden
        output = torch.einsum("rbth,roh->rbto", top, self.readout_weight) + self.readout_bias[:, None, None, :]
        if self.readout == "tanh":
            output = torch.tanh(output)
        cell = torch.cat([torch.stack(cs, dim=2) for cs in cs_layers], dim=-1) if cs_layers[0] else None
        return Trace(output, hidden, cell)

    def _layer(self, layer: int, below: torch.Tensor, pattern: str, keep):
        """One recurrent layer over all steps: lists of h (and c) per step, each (R, B, H)."""
        w_ih, w_hh, b_ih, b_hh = self.layer_weights(layer)
        n = self.hidden
        if self.arch == "lstm":  # torch's gate order i, f, g, o → i, f, o, g (one sigmoid block)
            perm = torch.cat([torch.arange(2 * n), torch.arange(3 * n, 4 * n), torch.arange(2 * n, 3 * n)])
            w_ih, w_hh, b_ih, b_hh = w_ih[:, perm], w_hh[:, perm], b_ih[:, perm], b_hh[:, perm]
        split = {"rnn": None, "gru": [2 * n, n], "lstm": [3 * n, n]}[self.arch]
        xproj = torch.einsum(pattern, below, w_ih)
        # time-major, unbound once: indexing xproj[t] in the loop would make autograd write a
        # full-size zero tensor per step in the backward pass
        # (RNN and LSTM add both biases here once; GRU needs b_hh inside its reset gate)
        fold = b_ih if self.arch == "gru" else b_ih + b_hh
        xs = (xproj + fold[None, :, None, :]).unbind(0)
        r, b = xs[0].shape[0], xs[0].shape[1]
        h = xs[0].new_zeros(r, b, n)
        c = xs[0].new_zeros(r, b, n) if self.arch == "lstm" else None
        w_hh_t = w_hh.transpose(1, 2)
        bias_hh = b_hh[:, None, :]
        act = torch.relu if self.nonlinearity == "relu" else torch.tanh
        ko = self.knockout
        hs, cs = [], []
        for t, x in enumerate(xs):
            if self.arch == "rnn":
                h = act(torch.baddbmm(x, h, w_hh_t))
            elif self.arch == "gru":  # gates r, z, n; one sigmoid over r and z together
                hh = torch.baddbmm(bias_hh, h, w_hh_t)
                x_rz, x_n = x.split(split, dim=-1)
                h_rz, h_n = hh.split(split, dim=-1)
                reset, update = torch.sigmoid(x_rz + h_rz).chunk(2, dim=-1)
                new = torch.tanh(x_n + reset * h_n)
                h = new + update * (h - new)
            else:  # gates reordered to i, f, o | g: one sigmoid, one tanh
                sig, g = torch.baddbmm(x, h, w_hh_t).split(split, dim=-1)
                i, f, o = torch.sigmoid(sig).chunk(3, dim=-1)
                c = f * c + i * torch.tanh(g)
                h = o * torch.tanh(c)
            if keep is not None and t in ko.steps:
                k = keep.to(h.dtype)
                if self.arch != "lstm" or ko.state in ("h", "both"):
                    h = h * k
                if c is not None and ko.state in ("c", "both"):
                    c = c * k
            hs.append(h)
            if c is not None:
                cs.append(c)
        return hs, cs

    # -- replicates ----------------------------------------------------------------------
    def select(self, index) -> "Stacked":
        """A new ``Stacked`` holding copies of the replicates at ``index`` (a list of ints)."""
        index = [int(i) for i in index]
        bad = [i for i in index if not 0 <= i < self.replicates]
        if not index or bad:
            raise ValueError(f"index must list replicates 0…{self.replicates - 1}, got {index}")
        out = self._like(len(index))
        with torch.no_grad():
            for name, p in self.named_parameters():
                getattr(out, name).copy_(p[index])
        return out

    def signature(self) -> tuple:
        """Everything but the replicate count that two models must share to be stacked together."""
        return (self.arch, self.n_inputs, self.hidden, *self.shape_kwargs().values())

    @staticmethod
    def concat(models: list["Stacked"]) -> "Stacked":
        """One ``Stacked`` with the replicates of all ``models`` (same arch and shape)."""
        first = models[0]
        for m in models:
            if m.signature() != first.signature():
                raise ValueError("models must share arch, n_inputs, hidden, n_outputs, layers, readout and "
                                 f"nonlinearity to be concatenated, got {m.signature()} and {first.signature()}")
        out = first._like(sum(m.replicates for m in models))
        out.load_state_dict({k: torch.cat([m.state_dict()[k] for m in models])
                             for k in first.state_dict()})
        return out

    # -- torch interop -------------------------------------------------------------------
    def to_torch(self, replicate: int = 0, batch_first: bool = True) -> tuple[nn.Module, nn.Linear]:
        """Replicate ``replicate`` as ``(nn.RNN/GRU/LSTM(num_layers=layers), nn.Linear)``.

        The network's output is ``linear(rnn(x)[0])``, passed through tanh when ``readout="tanh"``.
        """
        if isinstance(replicate, bool) or not isinstance(replicate, (int, np.integer)) \
                or not 0 <= replicate < self.replicates:
            raise ValueError(f"replicate must be in 0…{self.replicates - 1}, got {replicate!r}")
        cls = _TORCH_CLASSES[self.arch]
        kwargs = {"nonlinearity": self.nonlinearity} if self.arch == "rnn" else {}
        rnn = cls(self.n_inputs, self.hidden, num_layers=self.layers, batch_first=bool(batch_first), **kwargs)
        linear = nn.Linear(self.hidden, self.n_outputs)
        with torch.no_grad():
            for layer in range(self.layers):
                for name, value in zip(LAYER_PARAMETERS, self.layer_weights(layer)):
                    getattr(rnn, f"{name}_l{layer}").copy_(value[replicate])
            linear.weight.copy_(self.readout_weight[replicate])
            linear.bias.copy_(self.readout_bias[replicate])
        return rnn, linear

    @classmethod
    def from_torch(cls, networks, readout: str = "tanh") -> "Stacked":
        """Stack trained torch networks as replicates.

        networks: one network or a list of them (all of one shape); a network is a pair
        ``(rnn, linear)`` — an ``nn.RNN`` (tanh or relu), ``nn.GRU`` or ``nn.LSTM`` of any
        ``num_layers``, ``batch_first`` either way, and the ``nn.Linear(hidden, K)`` that reads its
        output sequence — or a module of yours whose only children are such an rnn and such a linear
        and whose ``forward`` is "rnn, take its output, linear" (irn cannot see a ``forward``: pass
        the pair when in doubt). readout: "tanh" if your network applies tanh to the linear's output
        (the paper's classifier), "linear" if it does not (logits, forecasts).
        Refused, with the attribute named: bidirectional layers, ``proj_size``, any readout that is
        not one ``nn.Linear`` reading the last layer. Missing biases (``bias=False``) become zeros.
        """
        readout = check_choice(readout, "readout", READOUTS)
        if isinstance(networks, (tuple, nn.Module)) and not isinstance(networks, nn.ModuleList):
            networks = [networks]
        networks = [_as_pair(net, i) for i, net in enumerate(list(networks))]
        if not networks:
            raise ValueError("networks must hold at least one (rnn, linear) pair")
        shapes = {(_arch_of(rnn), rnn.input_size, rnn.hidden_size, rnn.num_layers,
                   getattr(rnn, "nonlinearity", "tanh"), linear.out_features) for rnn, linear in networks}
        if len(shapes) != 1:
            raise ValueError("networks must all have the same architecture, input size, hidden size, "
                             f"num_layers, nonlinearity and readout size; got {sorted(shapes, key=str)}")
        arch, n_inputs, hidden, layers, nonlinearity, n_outputs = shapes.pop()
        out = cls(arch, len(networks), n_inputs, hidden, n_outputs=n_outputs, layers=layers,
                  readout=readout, nonlinearity=nonlinearity)
        with torch.no_grad():
            for r, (rnn, linear) in enumerate(networks):
                for layer in range(layers):
                    for name, target in zip(LAYER_PARAMETERS, out.layer_weights(layer)):
                        value = getattr(rnn, f"{name}_l{layer}", None)
                        target[r] = 0.0 if value is None else value
                out.readout_weight[r] = linear.weight
                out.readout_bias[r] = 0.0 if linear.bias is None else linear.bias
        return out


def _arch_of(rnn) -> str:
    return next(a for a, k in _TORCH_CLASSES.items() if type(rnn) is k)


SUPPORTED = ("a network is (rnn, linear): nn.RNN (tanh or relu), nn.GRU or nn.LSTM of any num_layers, "
             "unidirectional, without proj_size, read by one nn.Linear(hidden_size, K)")


def _as_pair(net, index: int) -> tuple[nn.Module, nn.Linear]:
    """Validate one network of ``from_torch`` and return it as (rnn, linear)."""
    where = f"networks[{index}]"
    if isinstance(net, nn.Module) and not isinstance(net, tuple(_TORCH_CLASSES.values())):
        children = list(net.children())
        rnns = [c for c in children if type(c) in _TORCH_CLASSES.values()]
        linears = [c for c in children if isinstance(c, nn.Linear)]
        others = [type(c).__name__ for c in children if c not in rnns and c not in linears]
        if len(rnns) != 1 or len(linears) != 1 or others:
            raise ValueError(f"{where}: a module of yours must have exactly one recurrent layer and one "
                             f"nn.Linear as its children, found {[type(c).__name__ for c in children]}; "
                             f"pass an (rnn, linear) pair instead ({SUPPORTED})")
        net = (rnns[0], linears[0])
    if not isinstance(net, tuple) or len(net) != 2:
        raise ValueError(f"{where}: expected an (rnn, linear) pair, got {type(net).__name__} ({SUPPORTED})")
    rnn, linear = net
    if type(rnn) not in _TORCH_CLASSES.values():
        raise ValueError(f"{where}: the recurrent layer must be nn.RNN, nn.GRU or nn.LSTM, "
                         f"got {type(rnn).__name__} ({SUPPORTED})")
    if rnn.bidirectional:
        raise ValueError(f"{where}: bidirectional=True is not supported ({SUPPORTED})")
    if getattr(rnn, "proj_size", 0):
        raise ValueError(f"{where}: proj_size={rnn.proj_size} is not supported ({SUPPORTED})")
    if not isinstance(linear, nn.Linear):
        raise ValueError(f"{where}: the readout must be one nn.Linear, got {type(linear).__name__} ({SUPPORTED})")
    if linear.in_features != rnn.hidden_size:
        raise ValueError(f"{where}: the readout nn.Linear reads {linear.in_features} features but the "
                         f"recurrent layer has hidden_size {rnn.hidden_size} ({SUPPORTED})")
    return rnn, linear
