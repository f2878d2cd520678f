"""A network whose relay nodes are known: the positive control of the comparison (DESIGN §14, §19).

``planted`` builds, by hand, memory-task RNNs in the spirit of ``irn.relay.planted_relays``: for each
concept, ``relays`` nodes copy the concept's input bit when it arrives and hold it (a self-loop), and
the concept's output reads their sum — the planted relay nodes. ``distractors`` more nodes each copy
a channel of pure noise at every step, loud (large, saturated activity) but read by nothing; any
other node stays silent. Every replicate places the nodes at its own random positions. Knocking out
one relay of a concept leaves the other to carry it (the sign of the sum holds, only the margin
shrinks); knocking out all of them leaves the concept at chance.

What each method can see here: the relay nodes are the only nodes that carry a concept and the
only ones its output depends on, so relay, single-node information, readout weights, the probe, the
gradients and the ablation oracle can find them; activation variance and mean |h| cannot — the
distractors are louder — and random cannot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from irn import analysis, params, tasks
from irn.attribution.data import Sets, sets, task_sets
from irn.models import Stacked

TASK = "memory"
COPY = 1.0  # input weight of a relay node
HOLD = 1.2  # self-loop of a relay node: it holds ±0.66 (the fixed point of tanh(1.2 h))
LOUD = 6.0  # input weight of a distractor on its noise channel: |h| near 1
READ = 2.0  # readout weight of a relay node


@dataclass(frozen=True)
class Planted:
    """Hand-built networks with known relay nodes.

    Attributes
    ----------
    model : Stacked
        The replicates: RNNs with ``3 + distractors`` inputs (the memory task's channels, then one
        noise channel per distractor).
    sets : Sets
        Fitted and held-out sequences, knocked out at ``irn.analysis.RELAY_STEP``.
    truth : DataFrame
        replicate, concept, node: the planted relay nodes.
    distractors : DataFrame
        replicate, node: nodes that look like relays and are not — the loud nodes nothing reads
        (``planted``), or the trained network's own nodes (``transplant``).
    """

    model: Stacked
    sets: Sets
    truth: pd.DataFrame
    distractors: pd.DataFrame


def planted(replicates: int = 8, hidden: int = 12, relays: int = 2, distractors: int = 4, samples: int = 1000,
            held_out: int = 256, seed: int = 0) -> Planted:
    """Memory-task RNNs with planted relay nodes and loud distractors (see the module).

    Parameters
    ----------
    replicates : int
        Networks; each places its nodes at its own random positions.
    hidden : int
        Nodes per network (at least ``3 · relays + distractors``).
    relays : int
        Relay nodes per concept.
    distractors : int
        Noise nodes nothing reads.
    samples : int
        Fitted sequences: the analysis delay (5), with fresh noise.
    held_out : int
        Held-out sequences, drawn independently (seed + 1).
    seed : int

    Returns
    -------
    Planted
    """
    params.require(replicates, "replicates", params.integer(low=1))
    params.require(relays, "relays", params.integer(low=1))
    params.require(distractors, "distractors", params.integer(low=0))
    concepts = tasks.CONCEPTS[TASK]
    params.require(hidden, "hidden", params.integer(low=max(2, relays * len(concepts) + distractors)))
    params.require(samples, "samples", params.integer(low=2))
    params.require(held_out, "held_out", params.integer(low=2))
    params.require(seed, "seed", params.SEED)
    channels = tasks.n_inputs(TASK)
    model = Stacked("rnn", replicates, channels + distractors, hidden)
    rng = np.random.default_rng(seed)
    truth, loud = [], []
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        for r in range(replicates):
            place = rng.permutation(hidden)
            for k, concept in enumerate(concepts):
                for node in place[k * relays:(k + 1) * relays]:
                    model.weight_ih[r, node, k] = COPY
                    model.weight_hh[r, node, node] = HOLD
                    model.readout_weight[r, k, node] = READ
                    truth.append((r, concept, int(node)))
            for j, node in enumerate(place[len(concepts) * relays:len(concepts) * relays + distractors]):
                model.weight_ih[r, node, channels + j] = LOUD
                loud.append((r, int(node)))
    delay = analysis.analysis_delay("random")

    def draw(n: int, s: int) -> analysis.Probe:
        batch = tasks.sample(TASK, n, delay=delay, seed=s)
        noise = torch.from_numpy(np.random.default_rng([s, 1]).standard_normal(
            (n, batch.inputs.shape[1], distractors)).astype(np.float32))
        inputs = torch.cat([batch.inputs, noise], dim=-1)
        return analysis.probe(model, inputs, batch.targets, batch.answer_step, concepts=concepts)

    text = (f"{samples} sequences with fresh noise ranked on, {held_out} more held out")
    return Planted(model, sets(draw(samples, seed), draw(held_out, seed + 1), analysis.RELAY_STEP, "start", text),
                   pd.DataFrame(truth, columns=["replicate", "concept", "node"]),
                   pd.DataFrame(loud, columns=["replicate", "node"]))


def transplant(model: Stacked, concept: int = 0, copies: int = 2, seed: int = 0) -> Planted:
    """A trained memory-task RNN with hand-planted copy nodes that take over one concept's answer.

    Every replicate gains ``copies`` nodes that copy the concept's input when it arrives and hold it
    (as in ``planted``); the concept's output is rewired to read only them, so the trained nodes
    still carry the concept — they were trained to — but its answer no longer uses them. The other
    concepts and all trained dynamics are untouched (nothing feeds back from the copies). Nodes are
    then shuffled per replicate, so no ranking finds the copies by their index. Knocking out the
    copies is what hurts the concept now: a ranking by use finds them, a ranking by information
    sees them beside every trained node that carries the concept.

    Parameters
    ----------
    model : Stacked
        Trained one-layer tanh RNNs of the memory task (3 inputs), e.g. ``irn.zoo`` networks.
    concept : int
        The concept whose answer moves to the copies (0 = A).
    copies : int
    seed : int
        The shuffles of the nodes and the sequences (``task_sets``).

    Returns
    -------
    Planted
        truth: the copies of ``concept``; distractors: the trained nodes.
    """
    if not isinstance(model, Stacked) or model.arch != "rnn" or model.layers != 1 or model.nonlinearity != "tanh" \
            or model.n_inputs != tasks.n_inputs(TASK) or model.readout != "tanh" or getattr(model, "leak", 1.0) != 1:
        raise ValueError("model must be a one-layer tanh irn.models.Stacked RNN of the memory task (3 inputs, tanh "
                         "readout); copies that hold a value are planted in such a network only")
    concepts = tasks.CONCEPTS[TASK]
    params.require(concept, "concept", params.integer(0, len(concepts) - 1))
    params.require(copies, "copies", params.integer(low=1))
    params.require(seed, "seed", params.SEED)
    h, n = model.hidden, model.hidden + copies
    out = Stacked("rnn", model.replicates, model.n_inputs, n, n_outputs=model.n_outputs)
    rng = np.random.default_rng([seed, 7])
    truth, trained = [], []
    with torch.no_grad():
        for p in out.parameters():
            p.zero_()
        for r in range(model.replicates):
            w_ih, w_hh = torch.zeros(n, model.n_inputs), torch.zeros(n, n)
            b_ih, b_hh, read = torch.zeros(n), torch.zeros(n), torch.zeros(model.n_outputs, n)
            w_ih[:h], w_hh[:h, :h] = model.weight_ih[r], model.weight_hh[r]
            b_ih[:h], b_hh[:h], read[:, :h] = model.bias_ih[r], model.bias_hh[r], model.readout_weight[r]
            bias = model.readout_bias[r].clone()
            w_ih[h:, concept] = COPY
            w_hh[h:, h:] = HOLD * torch.eye(copies)
            read[concept] = 0.0
            read[concept, h:] = READ
            bias[concept] = 0.0
            place = torch.as_tensor(rng.permutation(n))  # node j of the new network is old node place[j]
            out.weight_ih[r], out.weight_hh[r] = w_ih[place], w_hh[place][:, place]
            out.bias_ih[r], out.bias_hh[r] = b_ih[place], b_hh[place]
            out.readout_weight[r], out.readout_bias[r] = read[:, place], bias
            where = torch.argsort(place)  # old node i sits at where[i]
            truth += [(r, concepts[concept], int(where[i])) for i in range(h, n)]
            trained += [(r, int(where[i])) for i in range(h)]
    return Planted(out, task_sets(out, TASK, seed=seed), pd.DataFrame(truth, columns=["replicate", "concept", "node"]),
                   pd.DataFrame(trained, columns=["replicate", "node"]))
