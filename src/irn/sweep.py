"""Sweeps: a grid of training conditions and the relay analyses of the results, as independent
work units on any executor, for chapter 12 on the paper's named limitation, "a possible scaling to
extremely large networks" (Hintze, Najam & Schossau, arXiv 2510.01271, §IV).

``grid`` turns archs × tasks × delays × hidden sizes × replicate blocks into ``Unit`` s. ``run``
sends every unit to ``irn.parallel.run_units`` — this process by default, a process pool, or a
``dask.distributed.Client`` (``LocalCluster`` here; the same call on a SLURM cluster through
``dask-jobqueue``, see the README) — and gathers the per-unit frames into one tidy DataFrame.

A unit trains (or loads) its replicate block from the zoo, which stores it as soon as it is
trained, then runs ``analyse`` on it. With ``store`` set, each unit's frame is written there as
soon as it arrives (JSON, ``orient="table"``, atomic rename), and a later ``run`` with the same
store loads finished units instead of recomputing them: a sweep killed midway resumes and
recomputes only what had not finished. A unit's file is named by a hash of the unit, the
training config and the analysis, so a changed sweep never reuses a stale result.

``relay_summary`` is the default analysis (the scaling chapter's): per replicate and concept at
the relay step, the distinct binarised patterns against the samples, the relay value with its
shuffle-null mean, and the knockout test of chapter 4 at one set size — the concept's accuracy
with its top relay nodes knocked out (plug-in order and probe order) against random sets.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import json
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from irn import analysis, knockout, params, relay, tasks, zoo
from irn.files import write_atomic
from irn.models import ARCHS
from irn.parallel import check_executor, run_units
from irn.train import Condition, TrainConfig, Trained

__all__ = ["Unit", "SweepResult", "grid", "run", "relay_summary", "learning_rate", "KNOCKOUT_FRACTION",
           "LR_FULL_NODES"]

#: The knockout test removes this fraction of the nodes (at least one): 3 of 12 at H = 12.
KNOCKOUT_FRACTION = 0.25
#: Shuffles of the relay null in ``relay_summary``; random knockout sets per concept.
SUMMARY_SHUFFLES = 50
RANDOM_SETS = 5


#: Up to this many nodes a unit trains with the base learning rate; above, it shrinks as 1/sqrt(H).
LR_FULL_NODES = 32


def learning_rate(base_lr: float, hidden: int) -> float:
    """The learning rate of a unit with ``hidden`` nodes.

    Adam at the paper's 1e-2 is too coarse for wide networks: none of 5 RNNs with 256 nodes reached
    the criterion on the memory task in 300 epochs, while at 3e-3 all did within about 50 (measured
    with irn.train).

    Parameters
    ----------
    base_lr : float
        The learning rate of small networks.
    hidden : int
        Nodes of the recurrent layer.

    Returns
    -------
    float
        ``base_lr`` up to `LR_FULL_NODES` nodes, then ``base_lr * sqrt(LR_FULL_NODES / hidden)``.
    """
    return float(base_lr) * min(1.0, (LR_FULL_NODES / hidden) ** 0.5)


@dataclass(frozen=True)
class Unit:
    """One work unit: ``replicates`` networks of one condition and hidden size, block ``block``.

    Block b trains with random seed ``config.seed + block`` (replicate seeds come from
    `irn.train.replicate_seed`), so blocks hold different networks and every block is one zoo entry.

    Attributes
    ----------
    arch : str
        "rnn", "gru" or "lstm".
    task : str
        The task.
    delay : int or str
        The training delay, or "random".
    hidden : int
        Nodes of the recurrent layer.
    block : int
        The block's index.
    replicates : int
        Networks in the block.
    """

    arch: str
    task: str
    delay: int | str
    hidden: int
    block: int
    replicates: int

    @property
    def condition(self) -> Condition:
        """The unit's `irn.train.Condition` (arch, task, delay)."""
        return Condition(self.arch, self.task, self.delay)

    def config(self, base: TrainConfig) -> TrainConfig:
        """The training config of this unit.

        Parameters
        ----------
        base : irn.train.TrainConfig
            The sweep's protocol.

        Returns
        -------
        irn.train.TrainConfig
            ``base`` with this hidden size, block size, random seed and learning rate
            (`learning_rate`).
        """
        return dataclasses.replace(base, hidden=self.hidden, replicates=self.replicates,
                                   seed=base.seed + self.block, lr=learning_rate(base.lr, self.hidden))

    @property
    def labels(self) -> dict:
        """The unit's labels as a dict (arch, task, delay, hidden, block) for its rows of the frame."""
        return {"arch": self.arch, "task": self.task, "delay": str(self.delay),
                "hidden": self.hidden, "block": self.block}


@dataclass(frozen=True)
class SweepResult:
    """The gathered result of a sweep.

    Attributes
    ----------
    frame : pandas.DataFrame
        The units' frames concatenated (each row labelled arch, task, delay, hidden, block).
    computed : tuple of Unit
        The units computed in this run.
    loaded : tuple of Unit
        The units read back from ``store``.
    """

    frame: pd.DataFrame
    computed: tuple
    loaded: tuple


def grid(archs=("rnn", "gru", "lstm"), task_names=tasks.TASKS, delays=("random",), hidden=(12,),
         replicates: int = 20, block: int | None = None) -> list[Unit]:
    """Every arch × task × delay × hidden size, with the replicates split into blocks.

    Parameters
    ----------
    archs : sequence of str, optional
        Architectures.
    task_names : sequence of str, optional
        Tasks.
    delays : sequence of int or str, optional
        Training delays.
    hidden : sequence of int, optional
        Hidden sizes.
    replicates : int, optional
        Networks per condition and hidden size.
    block : int or None, optional
        Networks per unit (default: all in one block).

    Returns
    -------
    list of Unit
        The units, blocks innermost.
    """
    params.require(archs, "archs", params.sequence(params.one_of(ARCHS), min_length=1))
    params.require(task_names, "task_names", params.sequence(params.one_of(tasks.ALL_TASKS), min_length=1))
    params.require(delays, "delays", params.sequence(min_length=1))
    params.require(hidden, "hidden", params.sequence(params.integer(low=1), min_length=1))
    tasks.check_count(replicates, "replicates", 1)
    block = replicates if block is None else block
    tasks.check_count(block, "block", 1)
    units = []
    for a in archs:
        for t in task_names:
            for d in delays:
                Condition(a, t, d)  # validates task and delay
                for h in hidden:
                    for b, start in enumerate(range(0, replicates, block)):
                        units.append(Unit(a, t, d, int(h), b, min(block, replicates - start)))
    if not units:
        raise ValueError("the grid is empty: archs, task_names, delays and hidden must be non-empty")
    return units


def _analysis_name(analyse: Callable) -> str:
    """A stable name of the analysis: module.function, with a partial's arguments."""
    if isinstance(analyse, functools.partial):
        return f"{_analysis_name(analyse.func)}{analyse.args!r}{sorted(analyse.keywords.items())!r}"
    return f"{getattr(analyse, '__module__', '')}.{getattr(analyse, '__qualname__', repr(analyse))}"


def _unit_key(unit: Unit, config: TrainConfig, analyse: Callable) -> str:
    spec = {"unit": dataclasses.asdict(unit), "config": dataclasses.asdict(unit.config(config)),
            "analyse": _analysis_name(analyse)}
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"{unit.arch}-{unit.task}-delay{unit.delay}-h{unit.hidden}-b{unit.block}-{digest}"


def _work(unit: Unit, config: TrainConfig, zoo_dir, analyse: Callable) -> pd.DataFrame:
    """One unit: train or load its block (stored in the zoo as soon as trained), then analyse."""
    trained = zoo.load_or_train([unit.condition], unit.config(config), zoo=zoo_dir, progress=False)[0]
    frame = analyse(trained)
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"analyse must return a pandas DataFrame, got {type(frame).__name__}")
    return frame.assign(**unit.labels)


def _write_frame(path: Path, frame: pd.DataFrame) -> None:
    write_atomic(path, frame.to_json(orient="table", index=False))


def _normalised(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as it reads back from the store (same dtypes computed or loaded)."""
    return pd.read_json(io.StringIO(frame.to_json(orient="table", index=False)), orient="table")


def _read_frame(path: Path) -> pd.DataFrame | None:
    try:
        return pd.read_json(io.StringIO(path.read_text()), orient="table")
    except (OSError, ValueError):
        return None


def run(units: Sequence[Unit], config: TrainConfig = TrainConfig(), analyse: Callable | None = None,
        executor=None, store: Path | str | None = None, zoo_dir: Path | str | None = None,
        progress: bool = True) -> SweepResult:
    """Run a sweep and gather its frame.

    The same units, config and random seeds give the same frame whatever the executor.

    Parameters
    ----------
    units : sequence of Unit
        From `grid`.
    config : irn.train.TrainConfig, optional
        The training protocol (hidden, replicates and seed are set per unit).
    analyse : callable or None, optional
        A module-level function ``Trained -> DataFrame`` (default `relay_summary`).
    executor : None, concurrent.futures.Executor or dask.distributed.Client, optional
        None runs in this process; an executor such as ``irn.parallel.process_pool(2)`` or a dask
        client runs units in workers with one torch thread each.
    store : str or os.PathLike or None, optional
        A folder for per-unit results, so a killed sweep resumes; None keeps nothing.
    zoo_dir : str or os.PathLike or None, optional
        The zoo (default `irn.zoo.default_zoo`); it must be shared by all workers.
    progress : bool, optional
        Show a progress bar.

    Returns
    -------
    SweepResult
        The frame and which units were computed or loaded.
    """
    units = list(units)
    if not units or not all(isinstance(u, Unit) for u in units):
        raise ValueError("units must be a non-empty list of irn.sweep.Unit (from irn.sweep.grid)")
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be an irn.train.TrainConfig, got {type(config).__name__}")
    analyse = relay_summary if analyse is None else analyse
    params.require(analyse, "analyse", params.rule(callable, "a callable Trained -> DataFrame"))
    check_executor(executor)
    params.require(store, "store", params.optional(params.directory()))
    params.require(zoo_dir, "zoo_dir", params.optional(params.directory()))
    params.require(progress, "progress", params.boolean())
    zoo_dir = str(zoo.default_zoo() if zoo_dir is None else zoo_dir)
    frames: dict[int, pd.DataFrame] = {}
    paths: dict[int, Path] = {}
    if store is not None:  # created when the first unit's result is written, not before
        store = Path(store)
        for i, u in enumerate(units):
            paths[i] = store / f"{_unit_key(u, config, analyse)}.json"
            if paths[i].exists():
                frame = _read_frame(paths[i])
                if frame is not None:
                    frames[i] = frame
    loaded = tuple(units[i] for i in sorted(frames))
    todo = [i for i in range(len(units)) if i not in frames]

    def keep(k, frame):
        i = todo[k]
        frames[i] = frame = _normalised(frame)
        if store is not None:
            store.mkdir(parents=True, exist_ok=True)
            _write_frame(paths[i], frame)

    run_units([(units[i], config, zoo_dir, analyse) for i in todo], _work, executor=executor,
              on_result=keep, progress=progress, desc="sweep")
    frame = pd.concat([frames[i] for i in range(len(units))], ignore_index=True)
    return SweepResult(frame, tuple(units[i] for i in todo), loaded)


# -- the default analysis ------------------------------------------------------------------------
def relay_summary(trained: Trained, samples: int = analysis.ANALYSIS_SAMPLES, seed: int = 0) -> pd.DataFrame:
    """Relay and knockout summary of every replicate and concept at the relay step.

    Parameters
    ----------
    trained : irn.train.Trained
        The trained replicates of one unit.
    samples : int, optional
        Sequences evaluated.
    seed : int, optional
        Random seed of the sequences, nulls and random knockout sets.

    Returns
    -------
    pandas.DataFrame
        Columns replicate, concept, nodes, samples, patterns (distinct binarised hidden states),
        relay (plug-in ``I_R`` of all nodes), null_mean (its shuffle-null mean, the bias), epochs
        (training cost of the replicate), k (nodes knocked out), intact (concept accuracy),
        ko_relay / ko_probe (accuracy with the concept's top-k nodes of the plug-in / probe greedy
        order knocked out), ko_random (mean over random k-sets).
    """
    rec = analysis.record(trained, samples=samples, seed=seed)
    step = analysis.RELAY_STEP
    bits = relay.binarize(rec.hidden[:, :, step])  # (R, samples, nodes)
    r_count, _, h = bits.shape
    k = max(1, int(round(KNOCKOUT_FRACTION * h)))
    concepts = list(rec.concepts) if rec.concepts else list(tasks.CONCEPTS[trained.condition.task])
    rng = np.random.default_rng(seed)
    patterns = relay.pattern_count(bits)
    relay_sets, probe_sets, rows = [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", relay.RelayEntropyWarning)  # reported as `patterns`
        for r in range(r_count):
            per_relay, per_probe = [], []
            for c in range(len(concepts)):
                x_in, x_out = rec.x_in[c], rec.x_out[r, c]
                plug = relay.greedy(x_in, x_out, bits[r])
                probe = relay.probe_greedy(x_in, x_out, bits[r], seed=seed)
                null = relay.relay_null(x_in, x_out, bits[r], shuffles=SUMMARY_SHUFFLES, seed=seed)
                per_relay.append([int(n) for n in plug.order[-k:]])
                per_probe.append([int(n) for n in probe.order[-k:]])
                rows.append({"replicate": r, "concept": concepts[c], "nodes": h, "samples": samples,
                             "patterns": int(patterns[r]), "relay": float(plug.curve[0]),
                             "null_mean": null.null_mean, "epochs": int(trained.epochs[r]), "k": k})
            relay_sets.append(per_relay)
            probe_sets.append(per_probe)
    frame = pd.DataFrame(rows)
    intact = knockout.accuracy(trained)
    frame["intact"] = _concept_accuracy(intact, frame)
    for name, sets in (("ko_relay", relay_sets), ("ko_probe", probe_sets)):
        values = np.empty(len(frame))
        for c, concept in enumerate(concepts):
            acc = knockout.accuracy(trained, [sets[r][c] for r in range(r_count)])
            hit = frame.concept == concept
            values[hit.to_numpy()] = _concept_accuracy(acc, frame[hit])
        frame[name] = values
    random_acc = []
    for _ in range(RANDOM_SETS):
        draw = [sorted(rng.choice(h, k, replace=False).tolist()) for _ in range(r_count)]
        random_acc.append(_concept_accuracy(knockout.accuracy(trained, draw), frame))
    frame["ko_random"] = np.mean(random_acc, axis=0)
    return frame


def _concept_accuracy(acc: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """acc (replicate, concept, accuracy) looked up for every (replicate, concept) row of rows."""
    lookup = acc.set_index(["replicate", "concept"])["accuracy"]
    return lookup.loc[list(zip(rows.replicate, rows.concept))].to_numpy()
