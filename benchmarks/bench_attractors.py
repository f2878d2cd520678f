"""Fixed points of many networks: irn.attractors (all replicates × all seeds at once, damped Newton
with the closed-form Jacobian) against the per-point way of public fixed-point finders (one network,
one starting state at a time, here scipy.optimize.minimize (L-BFGS-B) on q(x) = ½‖F(x, 0) − x‖²
with its exact gradient in numpy), and how irn's time grows with the LSTM's size (state 2H).

    .venv/bin/python benchmarks/bench_attractors.py [--replicates 20] [--seeds 1000] [--loop-seeds 100]

Both sides run in one process on one pinned thread (``harness.pin``), timed in CPU seconds; the
per-point loop is timed on ``--loop-seeds`` seeds of every replicate (all 20 000 take minutes) and
scaled to all seeds. The networks are the flip-flop RNNs of chapter 8 from the zoo (trained if
missing). "Same points": every fixed point scipy reached is in irn's list, and irn's stable points
are the ones scipy's runs settle on.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from harness import cpu, header, pin, ratio_line
from scipy.optimize import minimize

from irn import attractors, tasks, train, zoo
from irn.models import Stacked


def per_point(w_hh, b, x0):
    """One scipy minimisation of q from x0 for a tanh RNN with recurrent weights w_hh, bias b."""
    def fun(x):
        f = np.tanh(w_hh @ x + b)
        g = f - x
        jac = (1 - f ** 2)[:, None] * w_hh - np.eye(len(x))
        return 0.5 * g @ g, jac.T @ g

    res = minimize(fun, x0, jac=True, method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 1e-20, "maxiter": 2000})
    return res.x, res.fun


def scipy_loop(model, seeds, loop):
    w_hh = model.weight_hh.detach().double().numpy()
    b = (model.bias_ih + model.bias_hh).detach().double().numpy()
    return [(r, *per_point(w_hh[r], b[r], seeds[r, s])) for r in range(model.replicates) for s in range(loop)]


def same_points(found, batched, names, fixed_tol=1e-14, match=1e-6):
    """(points scipy reached that irn also lists, points scipy reached)."""
    hits = reached = 0
    for r, x, q in found:
        if q < fixed_tol:
            reached += 1
            pts = batched[(batched.replicate == r) & (batched.kind == "fixed")][names].to_numpy()
            hits += bool(len(pts)) and np.linalg.norm(pts - x, axis=1).min() < match
    return hits, reached


def lstm_scaling(sizes, replicates=4, seeds=128):
    """CPU seconds of fixed_points for random LSTMs with self-exciting cells, per hidden size."""
    out = []
    for h in sizes:
        m = Stacked("lstm", replicates, 3, hidden=h, seeds=list(range(replicates)))
        with torch.no_grad():  # the cell input excites itself, forget ≈ 0, input and output gates ≈ 1
            m.weight_hh[:, 2 * h:3 * h] += 3.0 * torch.eye(h)
            m.bias_hh[:, :h], m.bias_hh[:, h:2 * h], m.bias_hh[:, 3 * h:] = 4.0, -4.0, 4.0
        start = np.random.default_rng(0).uniform(-1, 1, size=(replicates, seeds, 2 * h))
        attractors.fixed_points(m, start[:, :8])  # warm-up
        found, seconds = cpu(attractors.fixed_points, m, start)
        out.append((h, seconds, len(found)))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--loop-seeds", type=int, default=100)
    parser.add_argument("--sizes", type=int, nargs="+", default=[12, 24, 48, 96])
    args = parser.parse_args()
    threads = pin(1)
    header("Fixed points: irn.attractors.fixed_points against scipy L-BFGS-B per point", threads,
           ("irn (batched Newton)", "scipy (per point)"))
    config = train.TrainConfig(replicates=args.replicates, noise=0.1, criterion=1.0)
    model = zoo.load_or_train(train.Condition("rnn", "flipflop", "random"), config, progress=False)[0].model
    stream = tasks.flipflop_stream(50, 100)
    seeds = attractors.sample_states(model, stream.inputs, n=args.seeds, seed=0)

    attractors.fixed_points(model, seeds[:, :16])  # warm-up
    batched, t_batched = cpu(attractors.fixed_points, model, seeds)
    loop = min(args.loop_seeds, args.seeds)
    scipy_loop(model, seeds, 1)  # warm-up
    found, t_loop = cpu(scipy_loop, model, seeds, loop)
    t_loop *= args.seeds / loop

    names = attractors.state_names(model)
    hits, reached = same_points(found, batched, names)
    n_fixed = int((batched.kind == "fixed").sum())
    print(f"{model.replicates} replicates × {args.seeds} seeds (RNN, {model.hidden} nodes)")
    print(f"irn fixed_points (batched Newton): {t_batched:8.2f} s CPU ({n_fixed} distinct fixed points, "
          f"{int(batched.stable.sum())} stable)")
    print(f"scipy, one point at a time:        {t_loop:8.2f} s CPU (timed on {loop} seeds per replicate, scaled)")
    print(ratio_line("ratio (scipy / irn)", t_loop, t_batched))
    print(f"same points: {hits} of the {reached} fixed points scipy reached are in irn's list")

    rows = lstm_scaling(args.sizes)
    print("\nLSTM fixed points against hidden size (4 replicates × 128 seeds, state 2H):")
    for h, seconds, n in rows:
        print(f"  H = {h:4d} (state {2 * h:4d}): {seconds:7.2f} s CPU, {n} points")
    h, t = np.log([r[0] for r in rows]), np.log([max(r[1], 1e-9) for r in rows])
    print(f"log–log slope (time against H): {np.polyfit(h, t, 1)[0]:.2f}")


if __name__ == "__main__":
    main()
