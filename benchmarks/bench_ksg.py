"""Benchmark of the all-pairs × lags mutual-information matrix (irn.ksg) against per-pair loops.

Run: ``python benchmarks/bench_ksg.py [--neurons 40] [--samples 2000] [--lags 0 1 2] [--threads 1]``.
Prints, measured side by side in one run on the same data (a random recurrent network's
activity: ``neurons`` coupled AR(1) series):

1. ``irn.ksg.mutual_information_matrix`` — one call for every lag × source × target;
2. ``ennemi.estimate_mi`` in a loop over ordered pairs (one call per pair, all lags at once, as
   a user computing a flow matrix pair by pair would), and ennemi's own vectorised form (one call
   per target with every source column) for reference;
3. scikit-learn's ``mutual_info_regression`` in a loop over targets and lags (it takes every
   source column at once), which clips estimates at 0;

with the time ratios, and the largest difference of the numbers (ennemi: all entries; sklearn:
entries where both are positive, since sklearn clips). Threads: numba and ennemi both limited to
``--threads`` (default 1, a fair single-core comparison); times are CPU seconds of this process
(``time.process_time``), so other jobs on a shared machine do not distort the ratios. The lag-0
diagonal (a neuron with itself, infinite MI) is left out of the differences. The first irn call
is a warm-up (numba compile time excluded).
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np


def activity(neurons: int, samples: int, seed: int = 0) -> np.ndarray:
    """(samples, neurons) of x[t] = tanh(W x[t−1] + noise): a small random recurrent network."""
    rng = np.random.default_rng(seed)
    w = rng.normal(scale=1.2 / np.sqrt(neurons), size=(neurons, neurons))
    x = np.zeros((samples + 100, neurons))
    for t in range(1, len(x)):
        x[t] = np.tanh(w @ x[t - 1] + 0.5 * rng.normal(size=neurons))
    return x[100:]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--neurons", type=int, default=40)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--lags", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-pair-loop", action="store_true",
                        help="skip ennemi's per-pair loop (the slowest part)")
    args = parser.parse_args()

    import ennemi
    from sklearn.feature_selection import mutual_info_regression

    from irn import ksg

    numba.set_num_threads(args.threads)
    data = activity(args.neurons, args.samples)
    n, v, lags = args.samples, args.neurons, list(args.lags)
    start = max(lags)
    pairs = v * (v - 1)
    print(f"{v} neurons × {n} samples, lags {lags}: {len(lags) * v * v} estimates "
          f"({pairs} ordered pairs), k = 3, {args.threads} thread(s)")

    ksg.mutual_information_matrix(data[:300, :3], lags=lags)  # warm-up: compile
    t0 = time.process_time()
    ours = ksg.mutual_information_matrix(data, lags=lags, noise=0) * np.log(2)  # nats
    t_irn = time.process_time() - t0
    print(f"irn.ksg.mutual_information_matrix      {t_irn:8.2f} s")

    keep = np.ones_like(ours, dtype=bool)
    if 0 in lags:
        keep[lags.index(0)][np.eye(v, dtype=bool)] = False

    t0 = time.process_time()
    vector = np.empty_like(ours)
    for target in range(v):
        vector[:, :, target] = ennemi.estimate_mi(data[:, target], data, lag=lags, k=3,
                                                  max_threads=args.threads)
    t_vec = time.process_time() - t0
    diff_vec = np.abs(vector - ours)[keep].max()
    print(f"ennemi, one call per target            {t_vec:8.2f} s   ratio {t_vec / t_irn:6.1f}×   "
          f"max |difference| {diff_vec:.1e} nats")

    if not args.skip_pair_loop:
        t0 = time.process_time()
        loop = np.empty_like(ours)
        for source in range(v):
            for target in range(v):
                loop[:, source, target] = ennemi.estimate_mi(data[:, target], data[:, source], lag=lags,
                                                             k=3, max_threads=args.threads)[:, 0]
        t_loop = time.process_time() - t0
        print(f"ennemi, loop over pairs                {t_loop:8.2f} s   ratio {t_loop / t_irn:6.1f}×   "
              f"max |difference| {np.abs(loop - ours)[keep].max():.1e} nats")

    t0 = time.process_time()
    sk = np.empty_like(ours)
    for li, lag in enumerate(lags):
        sources = data[start - lag:n - lag]
        for target in range(v):
            sk[li, :, target] = mutual_info_regression(sources, data[start:, target], n_neighbors=3,
                                                       random_state=0)
    t_sk = time.process_time() - t0
    both = (sk > 0) & (ours > 0) & keep
    print(f"sklearn mutual_info_regression loop    {t_sk:8.2f} s   ratio {t_sk / t_irn:6.1f}×   "
          f"max |difference| where both > 0 {np.abs(sk - ours)[both].max():.1e} nats "
          f"({(sk == 0).mean():.0%} of its entries clipped to 0)")


if __name__ == "__main__":
    main()
