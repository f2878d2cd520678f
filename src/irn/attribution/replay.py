"""One replicate of a ``Stacked`` model run from the state at any step (DESIGN §19).

Attribution needs two things the stacked forward pass does not offer: the hidden state at a step
as a differentiable input (gradients, integrated gradients: "a forward function of one replicate
that exposes h_t") and many knockouts of one network that share everything before the knockout
step. ``Replay`` builds both from torch's own recurrent modules (``Stacked.to_torch``; no recurrent
cell is written here): the steps before the knockout run once, packed so that every sequence stops
at its own step, and only the steps from there to each sequence's answer run again per knockout set.

Knockouts follow ``irn.knockout`` exactly (``span="step"`` or ``"onward"``; LSTM ``state`` "h", "c"
or "both"): at the knockout step the layers are computed bottom to top and each layer's chosen
nodes are zeroed before the layer above reads them, as ``Stacked`` does; ``tests/test_attribution``
checks the accuracies against ``irn.knockout.accuracy``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from irn.models import LAYER_PARAMETERS, Stacked

_TORCH_CLASSES = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


@dataclass(frozen=True)
class Group:
    """Sequences that share the number of steps from the knockout step to the answer.

    Attributes
    ----------
    rows : ndarray, shape (n,)
        Indices into the data.
    at : ndarray, shape (n,)
        Each sequence's knockout step.
    length : int
        Steps from the knockout step to the answer, both included (1: the answer is read at the
        knockout step).
    """

    rows: np.ndarray
    at: np.ndarray
    length: int


def groups(at: np.ndarray, answer: np.ndarray) -> list[Group]:
    """Split sequences by the number of steps from their knockout step to their answer.

    Parameters
    ----------
    at, answer : ndarray of int, shape (samples,)

    Returns
    -------
    list of Group
        Each group runs its remaining steps as one batch.
    """
    span = answer - at
    return [Group(np.flatnonzero(span == s), at[span == s], int(s) + 1) for s in np.unique(span)]


class Replay:
    """Replicate ``replicate`` of ``model`` as torch modules, run from the state at any step.

    ``rnn`` is the whole stack (``nn.RNN/GRU/LSTM(num_layers=L)``), ``cells`` one single-layer module
    per layer with the same weights, ``linear`` the readout. Parameters do not require gradients:
    attributions differentiate with respect to states only.
    """

    def __init__(self, model: Stacked, replicate: int):
        self.arch, self.layers, self.hidden = model.arch, model.layers, model.hidden
        self.tanh = model.readout == "tanh"
        self.rnn, self.linear = model.to_torch(int(replicate), batch_first=True)
        cls = _TORCH_CLASSES[model.arch]
        kwargs = {"nonlinearity": model.nonlinearity} if model.arch == "rnn" else {}
        self.cells = []
        for layer in range(self.layers):
            width = model.n_inputs if layer == 0 else model.hidden
            cell = cls(width, model.hidden, num_layers=1, batch_first=True, **kwargs)
            with torch.no_grad():
                for name in LAYER_PARAMETERS:
                    getattr(cell, f"{name}_l0").copy_(getattr(self.rnn, f"{name}_l{layer}"))
            self.cells.append(cell.requires_grad_(False))
        self.rnn.requires_grad_(False)
        self.linear.requires_grad_(False)

    @property
    def lstm(self) -> bool:
        return self.arch == "lstm"

    # -- states ------------------------------------------------------------------------------
    def state_after(self, inputs: torch.Tensor, steps: np.ndarray):
        """The state of every layer after the first ``steps[b]`` steps of each sequence.

        Parameters
        ----------
        inputs : Tensor, shape (batch, steps, n_inputs)
        steps : ndarray of int, shape (batch,)
            Steps to run (0: the initial zero state); each sequence stops at its own (packed sequences).

        Returns
        -------
        h, c : Tensor, shape (layers, batch, hidden)
            c is None unless the network is an LSTM.
        """
        batch = inputs.shape[0]
        h = inputs.new_zeros(self.layers, batch, self.hidden)
        c = inputs.new_zeros(self.layers, batch, self.hidden) if self.lstm else None
        ran = np.flatnonzero(steps > 0)
        if ran.size:
            packed = pack_padded_sequence(inputs[ran], torch.as_tensor(steps[ran], dtype=torch.int64),
                                          batch_first=True, enforce_sorted=False)
            with torch.no_grad():
                _, last = self.rnn(packed)  # unsorted back to the order of ``ran``
            if self.lstm:
                h[:, ran], c[:, ran] = last
            else:
                h[:, ran] = last
        return h, c

    def read(self, top: torch.Tensor) -> torch.Tensor:
        """The network's output from the top layer's state: (…, hidden) → (…, n_outputs)."""
        out = self.linear(top)
        return torch.tanh(out) if self.tanh else out

    # -- from a state to the answer ------------------------------------------------------------
    def answer_from(self, h: torch.Tensor, c, later: torch.Tensor) -> torch.Tensor:
        """The output at the answer from the state at the knockout step (differentiable in h and c).

        Parameters
        ----------
        h, c : Tensor, shape (layers, batch, hidden)
            c None unless LSTM.
        later : Tensor, shape (batch, steps after the knockout step, n_inputs)
            Possibly 0 steps (the answer is read at the knockout step).

        Returns
        -------
        Tensor, shape (batch, n_outputs)
        """
        if later.shape[1] == 0:
            return self.read(h[-1])
        out, _ = self.rnn(later, (h, c) if self.lstm else h)
        return self.read(out[:, -1])

    def knocked(self, h: torch.Tensor, c, rest: torch.Tensor, keep: torch.Tensor, span: str,
                state: str) -> torch.Tensor:
        """Outputs at the answer with nodes zeroed from the knockout step on, as ``irn.knockout`` does.

        Parameters
        ----------
        h, c : Tensor, shape (layers, batch, hidden)
            The state before the knockout step (c None unless LSTM).
        rest : Tensor, shape (batch, length, n_inputs)
            Inputs from the knockout step to the answer.
        keep : Tensor, shape (sets, layers · hidden)
            0/1, 0 = knocked out.
        span : {"step", "onward"}
        state : {"h", "c", "both"}

        Returns
        -------
        Tensor, shape (sets, batch, n_outputs)
        """
        sets, batch = keep.shape[0], rest.shape[0]
        rows = keep.repeat_interleave(batch, dim=0)  # set-major rows: set s, sequence b → s·batch + b
        below = rest.repeat(sets, 1, 1)
        zero_h = not self.lstm or state in ("h", "both")
        zero_c = self.lstm and state in ("c", "both")
        steps = rest.shape[1]
        for layer, cell in enumerate(self.cells):
            k = rows[:, None, layer * self.hidden:(layer + 1) * self.hidden]  # (rows, 1, hidden)
            s_h = h[layer].repeat(sets, 1)[None]
            s_c = c[layer].repeat(sets, 1)[None] if self.lstm else None
            outputs, start = [], 0
            while start < steps:
                stop = start + 1 if (span == "onward" or start == 0) else steps
                with torch.no_grad():
                    out, last = cell(below[:, start:stop], (s_h, s_c) if self.lstm else s_h)
                s_h, s_c = last if self.lstm else (last, None)
                if start == 0 or span == "onward":
                    if zero_h:
                        s_h = s_h * k.transpose(0, 1)
                        out = out * k
                    if zero_c:
                        s_c = s_c * k.transpose(0, 1)
                outputs.append(out)
                start = stop
            below = torch.cat(outputs, dim=1) if len(outputs) > 1 else outputs[0]
        with torch.no_grad():
            return self.read(below[:, -1]).reshape(sets, batch, -1)
