"""Independent work units on an executor: this process, a local process pool, or a dask cluster
for chapter 12, on the paper's named limitation, "a possible scaling to extremely large networks"
(Hintze, Najam & Schossau, arXiv 2510.01271, §IV).

A unit is a tuple of arguments for one top-level (importable, so picklable) function. ``run_units``
runs every unit in this process (``executor=None``), on a ``concurrent.futures`` executor (e.g.
``process_pool(2)``) or on a ``dask.distributed.Client`` — a ``LocalCluster`` or a SLURM/PBS
cluster from ``dask-jobqueue``, the same call — and hands each result to ``on_result`` in this
process as soon as it arrives, so a caller can store it before the next one finishes.

Threads: a worker runs its unit with one torch intra-op thread. These networks are small (12–256
nodes): a second thread gains nothing and two processes of two threads on two cores collapse
under contention, so N cores are used by N single-thread processes. In this process
(``executor=None``) the caller's own setting is left alone.

Nothing here is a scheduler of its own: ``concurrent.futures`` and ``dask.distributed`` already
are; this module only adapts both to one loop with progress and per-result callbacks.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures import as_completed as futures_completed

from tqdm import tqdm

from irn import params

__all__ = ["one_thread", "process_pool", "is_dask_client", "check_executor", "run_units"]


def one_thread() -> None:
    """Limit torch to one intra-op thread in this process (the workers' initialiser).

    Returns
    -------
    None
    """
    import torch

    torch.set_num_threads(1)


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of fresh (spawned) processes, each with one torch thread.

    Parameters
    ----------
    workers : int
        Number of processes (at least 1).

    Returns
    -------
    concurrent.futures.ProcessPoolExecutor
        The pool; pass it to `run_units` and shut it down when done (``with process_pool(2) as
        pool: ...``).
    """
    params.check_count(workers, "workers", 1)
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=one_thread)


def is_dask_client(executor) -> bool:
    """Whether ``executor`` is a ``dask.distributed.Client`` (checked without importing dask).

    Parameters
    ----------
    executor : object
        Anything.

    Returns
    -------
    bool
        True for a dask client.
    """
    return type(executor).__module__.split(".")[0] == "distributed" and hasattr(executor, "gather")


EXECUTORS = "None, a concurrent.futures.Executor or a dask.distributed.Client"


def check_executor(executor):
    """Check where work units may run.

    Parameters
    ----------
    executor : object
        None, a ``concurrent.futures.Executor`` or a dask ``Client``.

    Returns
    -------
    object
        ``executor`` unchanged.

    Raises
    ------
    ValueError
        One error naming the parameter, for anything else.
    """
    return params.require(executor, "executor", params.rule(
        lambda e: e is None or isinstance(e, Executor) or is_dask_client(e), EXECUTORS))


def _one_thread_call(work: Callable, args: tuple):
    one_thread()
    return work(*args)


def run_units(units: Sequence[tuple], work: Callable, executor=None, on_result: Callable | None = None,
              progress: bool = True, desc: str = "units") -> list:
    """Run ``work(*unit)`` for every unit; return the results in the order of ``units``.

    Parameters
    ----------
    units : sequence of tuple
        The arguments of each call of ``work``.
    work : callable
        A module-level function (workers import it by name).
    executor : None, concurrent.futures.Executor or dask.distributed.Client, optional
        Where the units run: None (the default) runs them in this process one after another.
    on_result : callable or None, optional
        Called in this process as ``on_result(index, result)`` as each unit finishes (in order of
        completion). An exception in a unit is raised here after the units already finished were
        handed to ``on_result``.
    progress : bool, optional
        Show a progress bar (tqdm), True by default.
    desc : str, optional
        The progress bar's label.

    Returns
    -------
    list
        ``work(*unit)`` for every unit, in the order of ``units``.
    """
    units = params.require(units, "units", params.sequence(
        params.rule(lambda u: isinstance(u, tuple), "a tuple of arguments for work")))
    params.require(work, "work", params.callable_())
    check_executor(executor)
    params.require(on_result, "on_result", params.optional(params.callable_()))
    params.require(progress, "progress", params.boolean())
    results: list = [None] * len(units)
    bar = tqdm(total=len(units), desc=desc, unit="unit", disable=not progress, leave=False)

    def finish(index, result):
        results[index] = result
        if on_result is not None:
            on_result(index, result)
        bar.update()

    try:
        if executor is None:
            for index, unit in enumerate(units):
                finish(index, work(*unit))
        elif is_dask_client(executor):
            from distributed import as_completed as dask_completed

            futures = [executor.submit(_one_thread_call, work, unit, pure=False) for unit in units]
            index_of = {f.key: i for i, f in enumerate(futures)}
            for future in dask_completed(futures):
                finish(index_of[future.key], future.result())
        else:
            futures = {executor.submit(_one_thread_call, work, unit): i for i, unit in enumerate(units)}
            for future in futures_completed(futures):
                finish(futures[future], future.result())
    finally:
        bar.close()
    return results
