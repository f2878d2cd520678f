"""Training throughput per network-epoch: irn's stacked replicates vs torch modules one at a time.

Same work on both sides: one epoch = one Adam step on a batch of 512 memory/block sequences
(training delay random 1…5, 15 steps). Baseline: one ``nn.RNN/GRU/LSTM`` + ``nn.Linear`` per
network, as in the paper's protocol. irn: ``replicates`` networks stacked in one module, each
running the distinct sequences of the batch weighted by their counts (``irn.train``'s epoch).
Run from the repository root: ``.venv/bin/python benchmarks/bench_training.py [--threads 1]``.
Times are CPU seconds of this process (``harness.cpu``) with torch's, numba's and the BLAS thread
pools pinned to ``--threads`` on both sides (``harness.pin``); the header prints the machine's
load and which side runs first (per arch × task: the torch module, then the stack).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from harness import cpu, header, pin
from torch import nn

from irn import tasks
from irn.models import Stacked
from irn.train import Cells, StackedAdam

CLASSES = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


def torch_epoch_seconds(arch, task, epochs):
    batch = tasks.sample(task, 512, "random", seed=0)
    rnn = CLASSES[arch](tasks.n_inputs(task), 12, batch_first=True)
    linear = nn.Linear(12, 3)
    opt = torch.optim.Adam([*rnn.parameters(), *linear.parameters()], lr=1e-2)
    rows = torch.arange(len(batch))

    def epoch():
        opt.zero_grad()
        out = torch.tanh(linear(rnn(batch.inputs)[0]))[rows, batch.answer_step]
        nn.functional.mse_loss(out, batch.targets).backward()
        opt.step()

    epoch()
    return cpu(_repeat, epoch, epochs)[1] / epochs


def _repeat(function, times):
    for _ in range(times):
        function()


def stacked_epoch_seconds(arch, task, replicates, epochs):
    cells = Cells.of(task, tasks.TRAIN_DELAYS)
    model = Stacked(arch, replicates, tasks.n_inputs(task))
    opt = StackedAdam(model.parameters(), lr=1e-2)
    rng = np.random.default_rng(0)
    p = np.full(cells.shape[0] * cells.shape[1], 1 / (cells.shape[0] * cells.shape[1]))
    counts = torch.from_numpy(rng.multinomial(512, p, size=replicates).astype(np.float32))
    counts = counts.reshape(replicates, *cells.shape)

    def epoch():
        opt.zero_grad()
        cells.loss(cells.outputs(model), counts, 512).backward()
        opt.step()

    epoch()
    return cpu(_repeat, epoch, epochs)[1] / epochs / replicates


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=120, help="networks per stack (paper: 6 delay regimes × 20)")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    threads = pin(args.threads)
    header("training throughput: irn's stacked replicates against torch modules one at a time", threads,
           ("torch module", "irn stack"))
    print(f"per network-epoch (512 sequences, delay random 1…5, CPU ms), stack of {args.replicates}")
    print(f"{'arch':5} {'task':7} {'torch module (ms)':>18} {'irn stacked (ms)':>17} {'ratio':>7}")
    total_base = total_mine = 0.0
    for task in tasks.TASKS:
        for arch in CLASSES:
            base = torch_epoch_seconds(arch, task, args.epochs)
            mine = stacked_epoch_seconds(arch, task, args.replicates, args.epochs)
            total_base, total_mine = total_base + base, total_mine + mine
            print(f"{arch:5} {task:7} {base * 1e3:18.3f} {mine * 1e3:17.3f} {base / mine:6.1f}×")
    print(f"{'all six (one epoch of each arch × task)':31} {total_base * 1e3:7.3f} {total_mine * 1e3:17.3f} "
          f"{total_base / total_mine:6.1f}×")


if __name__ == "__main__":
    main()
