"""Recurrent classifiers with a replicate dimension (paper §II.B).

``Stacked`` holds R independent networks of one architecture (``"rnn"``, ``"gru"`` or
``"lstm"``): one recurrent layer of ``hidden`` nodes (12 in the paper), then ``Linear(hidden → 3)``
and tanh. Weights carry a leading replicate dimension and use torch's own layout and gate order,
so replicate r is exactly ``torch.nn.RNN/GRU/LSTM`` + ``torch.nn.Linear`` with the same weights
(``to_torch`` / ``from_torch`` convert both ways).

Every forward pass records all hidden states (and LSTM cell states) at every step, and can zero
chosen nodes at chosen steps (the knockout of paper §III, used through ``irn.knockout``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

ARCHS = ("rnn", "gru", "lstm")
GATES = {"rnn": 1, "gru": 3, "lstm": 4}
N_OUTPUTS = 3
KNOCKOUT_STATES = ("h", "c", "both")
_TORCH_CLASSES = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


def check_arch(arch: str) -> str:
    if arch not in ARCHS:
        raise ValueError(f"arch must be one of {ARCHS}, got {arch!r}")
    return arch


@dataclass(frozen=True)
class Trace:
    """What a forward pass recorded.

    output: (replicates, batch, steps, 3) tanh readout at every step;
    hidden: (replicates, batch, steps, nodes) h after every step (after any knockout);
    cell: same shape for LSTM cell states, else None.
    """

    output: torch.Tensor
    hidden: torch.Tensor
    cell: torch.Tensor | None


@dataclass(frozen=True)
class Knockout:
    """Zero nodes during a forward pass.

    keep: (replicates, nodes) with 0 for knocked-out nodes and 1 elsewhere;
    steps: the 0-based steps after which the state is zeroed; state: "h", "c" or "both"
    (for RNN and GRU only h exists, so every choice zeroes h).
    """

    keep: torch.Tensor
    steps: frozenset
    state: str = "both"


class Stacked(nn.Module):
    """R independent recurrent classifiers evaluated as one module.

    Parameters (torch's names and gate order, with a leading replicate dimension):
    weight_ih (R, G·H, I), weight_hh (R, G·H, H), bias_ih (R, G·H), bias_hh (R, G·H),
    readout_weight (R, 3, H), readout_bias (R, 3); G = 1 (rnn), 3 (gru: r, z, n), 4 (lstm: i, f, g, o).
    """

    def __init__(self, arch: str, replicates: int, n_inputs: int, hidden: int = 12,
                 seeds=None):
        super().__init__()
        self.arch = check_arch(arch)
        for name, value in (("replicates", replicates), ("n_inputs", n_inputs), ("hidden", hidden)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.replicates, self.n_inputs, self.hidden = int(replicates), int(n_inputs), int(hidden)
        seeds = list(range(replicates)) if seeds is None else [int(s) for s in seeds]
        if len(seeds) != replicates:
            raise ValueError(f"seeds must hold one seed per replicate ({replicates}), got {len(seeds)}")
        g = GATES[arch] * hidden
        shapes = {"weight_ih": (g, n_inputs), "weight_hh": (g, hidden), "bias_ih": (g,),
                  "bias_hh": (g,), "readout_weight": (N_OUTPUTS, hidden), "readout_bias": (N_OUTPUTS,)}
        bound = 1.0 / math.sqrt(hidden)  # torch's default for both the cell and Linear(hidden, 3)
        values = {k: torch.empty((replicates, *s)) for k, s in shapes.items()}
        for r, seed in enumerate(seeds):
            gen = torch.Generator().manual_seed(seed)
            for k, s in shapes.items():
                values[k][r] = torch.rand(s, generator=gen) * (2 * bound) - bound
        for k, v in values.items():
            setattr(self, k, nn.Parameter(v))
        self.knockout: Knockout | None = None

    # -- forward -------------------------------------------------------------------------
    def forward(self, inputs: torch.Tensor, record_steps=None) -> Trace:
        """Run every replicate on ``inputs``.

        record_steps: record only these 0-based steps (a list or 1-D tensor; default: every step) —
        training reads just the answer steps.

        inputs: (batch, steps, n_inputs), shared by all replicates, or
        (replicates, batch, steps, n_inputs), one batch per replicate.
        """
        if inputs.shape[-1] != self.n_inputs:
            raise ValueError(f"inputs must have {self.n_inputs} features, got {inputs.shape[-1]}")
        w_ih, w_hh, b_ih, b_hh = self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh
        n = self.hidden
        if self.arch == "lstm":  # torch's gate order i, f, g, o → i, f, o, g (one sigmoid block)
            perm = torch.cat([torch.arange(2 * n), torch.arange(3 * n, 4 * n), torch.arange(2 * n, 3 * n)])
            w_ih, w_hh, b_ih, b_hh = w_ih[:, perm], w_hh[:, perm], b_ih[:, perm], b_hh[:, perm]
        split = {"rnn": None, "gru": [2 * n, n], "lstm": [3 * n, n]}[self.arch]
        if inputs.dim() == 3:
            xproj = torch.einsum("bti,rgi->trbg", inputs, w_ih)
        elif inputs.dim() == 4 and inputs.shape[0] == self.replicates:
            xproj = torch.einsum("rbti,rgi->trbg", inputs, w_ih)
        else:
            raise ValueError("inputs must have shape (batch, steps, n_inputs) or "
                             f"({self.replicates}, batch, steps, n_inputs), got {tuple(inputs.shape)}")
        # time-major, unbound once: indexing xproj[t] in the loop would make autograd write a
        # full-size zero tensor per step in the backward pass
        # (RNN and LSTM add both biases here once; GRU needs b_hh inside its reset gate)
        fold = b_ih if self.arch == "gru" else b_ih + b_hh
        xs = (xproj + fold[None, :, None, :]).unbind(0)
        steps, r, b = len(xs), xs[0].shape[0], xs[0].shape[1]
        h = xs[0].new_zeros(r, b, self.hidden)
        c = xs[0].new_zeros(r, b, self.hidden) if self.arch == "lstm" else None
        w_hh_t = w_hh.transpose(1, 2)
        bias_hh = b_hh[:, None, :]
        ko = self.knockout
        hs, cs = [], []
        for t, x in enumerate(xs):
            if self.arch == "rnn":
                h = torch.tanh(torch.baddbmm(x, h, w_hh_t))
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
            if ko is not None and t in ko.steps:
                keep = ko.keep[:, None, :].to(h.dtype)
                if self.arch != "lstm" or ko.state in ("h", "both"):
                    h = h * keep
                if c is not None and ko.state in ("c", "both"):
                    c = c * keep
            hs.append(h)
            if c is not None:
                cs.append(c)
        if record_steps is not None:
            hs = [hs[int(t)] for t in record_steps]
            cs = [cs[int(t)] for t in record_steps] if cs else cs
        hidden = torch.stack(hs, dim=2)
        output = torch.tanh(torch.einsum("rbth,roh->rbto", hidden, self.readout_weight)
                            + self.readout_bias[:, None, None, :])
        return Trace(output, hidden, torch.stack(cs, dim=2) if cs else None)

    # -- replicates ----------------------------------------------------------------------
    def select(self, index) -> "Stacked":
        """A new ``Stacked`` holding copies of the replicates at ``index`` (a list of ints)."""
        index = [int(i) for i in index]
        bad = [i for i in index if not 0 <= i < self.replicates]
        if not index or bad:
            raise ValueError(f"index must list replicates 0…{self.replicates - 1}, got {index}")
        out = Stacked(self.arch, len(index), self.n_inputs, self.hidden)
        with torch.no_grad():
            for name, p in self.named_parameters():
                getattr(out, name).copy_(p[index])
        return out

    @staticmethod
    def concat(models: list["Stacked"]) -> "Stacked":
        """One ``Stacked`` with the replicates of all ``models`` (same arch and shapes)."""
        first = models[0]
        for m in models:
            if (m.arch, m.n_inputs, m.hidden) != (first.arch, first.n_inputs, first.hidden):
                raise ValueError("models must share arch, n_inputs and hidden to be concatenated")
        out = Stacked(first.arch, sum(m.replicates for m in models), first.n_inputs, first.hidden)
        out.load_state_dict({k: torch.cat([m.state_dict()[k] for m in models])
                             for k in first.state_dict()})
        return out

    # -- torch interop -------------------------------------------------------------------
    def to_torch(self, replicate: int = 0) -> tuple[nn.Module, nn.Linear]:
        """Replicate ``replicate`` as ``(nn.RNN/GRU/LSTM(batch_first=True), nn.Linear)``.

        The classifier's output is ``tanh(linear(rnn(x)[0]))``.
        """
        if not 0 <= replicate < self.replicates:
            raise ValueError(f"replicate must be in 0…{self.replicates - 1}, got {replicate}")
        cls = _TORCH_CLASSES[self.arch]
        kwargs = {"nonlinearity": "tanh"} if self.arch == "rnn" else {}
        rnn = cls(self.n_inputs, self.hidden, batch_first=True, **kwargs)
        linear = nn.Linear(self.hidden, N_OUTPUTS)
        with torch.no_grad():
            rnn.weight_ih_l0.copy_(self.weight_ih[replicate])
            rnn.weight_hh_l0.copy_(self.weight_hh[replicate])
            rnn.bias_ih_l0.copy_(self.bias_ih[replicate])
            rnn.bias_hh_l0.copy_(self.bias_hh[replicate])
            linear.weight.copy_(self.readout_weight[replicate])
            linear.bias.copy_(self.readout_bias[replicate])
        return rnn, linear

    @classmethod
    def from_torch(cls, networks) -> "Stacked":
        """Stack trained torch networks: ``networks`` is a list of ``(rnn, linear)`` pairs.

        Each ``rnn`` must be a one-layer, unidirectional ``nn.RNN`` (tanh), ``nn.GRU`` or
        ``nn.LSTM`` with biases and no projection; each ``linear`` maps its hidden size to 3.
        """
        if not networks:
            raise ValueError("networks must hold at least one (rnn, linear) pair")
        arch = None
        for rnn, linear in networks:
            kind = next((a for a, k in _TORCH_CLASSES.items() if type(rnn) is k), None)
            if kind is None:
                raise ValueError(f"networks: expected nn.RNN, nn.GRU or nn.LSTM, got {type(rnn).__name__}")
            if arch is not None and kind != arch:
                raise ValueError("networks must all have the same architecture")
            arch = kind
            if rnn.num_layers != 1 or rnn.bidirectional or not rnn.bias \
                    or getattr(rnn, "proj_size", 0) or getattr(rnn, "nonlinearity", "tanh") != "tanh":
                raise ValueError("networks: only one-layer, unidirectional, biased, tanh recurrent "
                                 "layers without projection are supported")
            if not isinstance(linear, nn.Linear) or linear.in_features != rnn.hidden_size \
                    or linear.out_features != N_OUTPUTS or linear.bias is None:
                raise ValueError(f"networks: readout must be nn.Linear({rnn.hidden_size}, {N_OUTPUTS}) with bias")
        rnn0 = networks[0][0]
        out = cls(arch, len(networks), rnn0.input_size, rnn0.hidden_size)
        with torch.no_grad():
            for r, (rnn, linear) in enumerate(networks):
                if (rnn.input_size, rnn.hidden_size) != (out.n_inputs, out.hidden):
                    raise ValueError("networks must all have the same input and hidden sizes")
                out.weight_ih[r] = rnn.weight_ih_l0
                out.weight_hh[r] = rnn.weight_hh_l0
                out.bias_ih[r] = rnn.bias_ih_l0
                out.bias_hh[r] = rnn.bias_hh_l0
                out.readout_weight[r] = linear.weight
                out.readout_bias[r] = linear.bias
        return out
