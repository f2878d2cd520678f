"""Fixed points of many networks: irn.attractors (all replicates × all seeds at once) against the
per-point way of public fixed-point finders (one network, one starting state at a time, here with
scipy.optimize.minimize (L-BFGS-B) on q(x) = ½‖F(x, 0) − x‖² and its exact gradient in numpy).

    .venv/bin/python benchmarks/bench_attractors.py [--replicates 20] [--seeds 1000] [--loop-seeds 100]

The per-point loop is timed on ``--loop-seeds`` seeds of every replicate (the full 20 000 take
minutes) and scaled to all seeds; both are run side by side in one process, single-threaded.
The networks are the flip-flop RNNs of chapter 8 from the zoo (trained if missing).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from scipy.optimize import minimize

from irn import attractors, tasks, train, zoo


def per_point(w_hh, w_ih_b, x0):
    """One scipy minimisation of q from x0 for a tanh RNN with recurrent weights w_hh, bias b."""
    def fun(x):
        f = np.tanh(w_hh @ x + w_ih_b)
        g = f - x
        jac = (1 - f ** 2)[:, None] * w_hh - np.eye(len(x))
        return 0.5 * g @ g, jac.T @ g

    res = minimize(fun, x0, jac=True, method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 1e-20, "maxiter": 2000})
    return res.x, res.fun


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--loop-seeds", type=int, default=100)
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = train.TrainConfig(replicates=args.replicates, noise=0.1, criterion=1.0)
    model = zoo.load_or_train(train.Condition("rnn", "flipflop", "random"), config, progress=False)[0].model
    stream = tasks.flipflop_stream(50, 100)
    seeds = attractors.sample_states(model, stream.inputs, n=args.seeds, seed=0)

    start = time.perf_counter()
    batched = attractors.fixed_points(model, seeds)
    t_batched = time.perf_counter() - start

    w_hh = model.weight_hh.detach().double().numpy()
    b = (model.bias_ih + model.bias_hh).detach().double().numpy()
    loop = min(args.loop_seeds, args.seeds)
    start = time.perf_counter()
    found = []
    for r in range(model.replicates):
        for s in range(loop):
            x, q = per_point(w_hh[r], b[r], seeds[r, s])
            found.append((r, x, q))
    t_loop = (time.perf_counter() - start) * args.seeds / loop

    # same points: every fixed point scipy reached (q < 1e-14) is in the batched list
    names = attractors.state_names(model)
    hits, reached = 0, 0
    for r, x, q in found:
        if q < 1e-14:
            reached += 1
            pts = batched[(batched.replicate == r) & (batched.kind == "fixed")][names].to_numpy()
            hits += bool(len(pts)) and np.linalg.norm(pts - x, axis=1).min() < 1e-3
    n_fixed = (batched.kind == "fixed").sum()
    print(f"{model.replicates} replicates × {args.seeds} seeds (RNN, {model.hidden} nodes)")
    print(f"batched irn.attractors.fixed_points: {t_batched:8.2f} s  ({n_fixed} distinct fixed points, "
          f"{int(batched.stable.sum())} stable)")
    print(f"scipy, one point at a time:          {t_loop:8.2f} s  (timed on {loop} seeds per replicate, scaled)")
    print(f"ratio (scipy / batched):             {t_loop / t_batched:8.1f}×")
    print(f"same points: {hits} of the {reached} fixed points scipy reached are in the batched list")


if __name__ == "__main__":
    main()
