"""What every irn benchmark does the same way, so a loaded machine cannot fool a ratio.

* ``pin(threads)``: one (or ``threads``) thread for every pool a side could use — torch's intra-op
  pool, numba, and the BLAS/OpenMP pools (threadpoolctl) — on *both* sides of a comparison, and the
  environment variables that child processes read. Call it before anything is timed.
* ``cpu(fn, *args)``: run ``fn`` and return (result, CPU seconds of this process,
  ``time.process_time``), so other jobs on a shared machine do not inflate either side.
* ``header(title, threads)``: prints the machine's load average, the threads used and the order in
  which the sides run (the first side pays for cold caches; the ratio says which ran first).

Run a benchmark from the repository root: ``python benchmarks/bench_ksg.py``.
"""

from __future__ import annotations

import os
import platform
import sys
import time

ENV_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
_limits = None  # keeps threadpoolctl's limit alive for the whole run


def pin(threads: int = 1) -> int:
    """Limit every thread pool to ``threads`` (torch, numba, BLAS/OpenMP); returns ``threads``."""
    global _limits
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be an integer >= 1, got {threads!r}")
    for name in ENV_THREADS:
        if name == "NUMBA_NUM_THREADS" and "numba" in sys.modules:
            continue  # numba read it at import; changing it now breaks every later compilation
        os.environ[name] = str(threads)
    from threadpoolctl import threadpool_limits

    _limits = threadpool_limits(limits=threads)
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        pass
    try:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    except ImportError:
        pass
    return threads


def cpu(fn, *args, **kwargs):
    """(fn(*args, **kwargs), CPU seconds this process spent in it)."""
    start = time.process_time()
    result = fn(*args, **kwargs)
    return result, time.process_time() - start


def header(title: str, threads: int, order: tuple[str, ...]) -> None:
    """Print what a reader needs to trust the ratios: machine, load, threads, which side ran first."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"
    print(title)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {load} (1, 5, 15 min)")
    print(f"threads: {threads} per side (torch, numba, BLAS pinned); times are CPU seconds of this process")
    print(f"order: {' → '.join(order)} (each side timed after a warm-up call)")


def ratio_line(label: str, peer_seconds: float, irn_seconds: float) -> str:
    """"label: peer / irn = 23.4×"."""
    return f"{label}: {peer_seconds:.2f} s / {irn_seconds:.2f} s = {peer_seconds / max(irn_seconds, 1e-12):.1f}×"
