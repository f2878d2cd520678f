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
shuffle null (plug-in and probe), and the knockout test of chapter 4 at one set size — the
concept's accuracy with its top relay nodes knocked out (plug-in order and probe order) against
random sets; with ``noise`` it analyses networks trained on noisy inputs, whose hidden states are
high-entropy, on noisy sequences. ``training_summary`` only trains (a sweep's training time), and
``knockout_tests`` turns a ``relay_summary`` frame into one test per group (e.g. per hidden size).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import io
import json
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from irn import analysis, knockout, params, relay, tasks, zoo
from irn.files import write_atomic
from irn.models import ARCHS
from irn.parallel import check_executor, process_pool, run_units
from irn.stats import paired_test
from irn.train import Condition, TrainConfig, Trained

__all__ = ["Unit", "SweepResult", "grid", "run", "relay_summary", "training_summary", "KnockoutTests",
           "knockout_tests", "ORDERS", "TimedSweep", "run_timed", "entropy_table", "learning_rate", "KNOCKOUT_FRACTION", "LR_FULL_NODES"]

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


@dataclass(frozen=True)
class TimedSweep:
    """A sweep run in two passes by `run_timed`: training, then analysis.

    Attributes
    ----------
    training : pandas.DataFrame
        `training_summary` of every unit (one row per replicate: epochs, restarts, accuracy,
        labelled with the unit).
    frame : pandas.DataFrame
        The analysis's frame.
    train_seconds, analysis_seconds : float
        Wall time of each pass (loading from the zoo included).
    trained : int
        Networks trained in this run (zoo misses; the rest were loaded).
    entries : tuple of str
        The zoo entry names of the units.
    """

    training: pd.DataFrame
    frame: pd.DataFrame
    train_seconds: float
    analysis_seconds: float
    trained: int
    entries: tuple


def run_timed(units: Sequence[Unit], config: TrainConfig = TrainConfig(), analyse: Callable | None = None,
              workers: int = 1, zoo_dir: Path | str | None = None, progress: bool = False) -> TimedSweep:
    """Train (or load) every unit, then analyse it: two passes of :func:`run` on one pool of
    ``workers`` processes, so the training time and the analysis time are each known.

    Parameters
    ----------
    units : list of Unit
        From :func:`grid`.
    config : TrainConfig
        The training protocol (hidden, replicates, seed and learning rate are set per unit).
    analyse : callable, optional
        A module-level function ``Trained -> DataFrame`` (default :func:`relay_summary`; a
        ``functools.partial`` of it, e.g. with ``noise``).
    workers : int
        Worker processes with one torch thread each (1: this process).
    zoo_dir : path, optional
        The zoo (default ``irn.zoo.default_zoo()``).
    progress : bool
        Show progress bars.

    Returns
    -------
    TimedSweep
    """
    params.require(units, "units", params.sequence(params.rule(lambda u: isinstance(u, Unit), "an irn.sweep.Unit"),
                                                   min_length=1))
    params.require(config, "config", params.rule(lambda v: isinstance(v, TrainConfig), "an irn.train.TrainConfig"))
    analyse = relay_summary if analyse is None else analyse
    params.require(analyse, "analyse", params.rule(callable, "a callable Trained -> DataFrame"))
    params.check_count(workers, "workers", 1)
    params.require(zoo_dir, "zoo_dir", params.optional(params.directory()))
    params.require(progress, "progress", params.boolean())
    units = list(units)
    folder = zoo.default_zoo() if zoo_dir is None else Path(zoo_dir)
    trained = sum(u.replicates for u in units if not _stored(u, config, folder))
    with contextlib.ExitStack() as stack:
        executor = stack.enter_context(process_pool(workers)) if workers > 1 else None
        start = time.perf_counter()
        training = run(units, config, training_summary, executor=executor, zoo_dir=folder, progress=progress)
        middle = time.perf_counter()
        analysed = run(units, config, analyse, executor=executor, zoo_dir=folder, progress=progress)
        end = time.perf_counter()
    entries = tuple(zoo.entry_key(u.condition, u.config(config)) for u in units)
    return TimedSweep(training.frame, analysed.frame, middle - start, end - middle, trained, entries)


def _stored(unit: Unit, config: TrainConfig, folder: Path) -> bool:
    try:
        return zoo.load(unit.condition, unit.config(config), folder) is not None
    except zoo.ZooError:
        return False


def entropy_table(frame: pd.DataFrame, by=("arch", "hidden"), alpha: float = params.ALPHA) -> pd.DataFrame:
    """How far relay stands above its shuffle null, next to the pattern counts, per group.

    Parameters
    ----------
    frame : DataFrame
        A :func:`relay_summary` sweep frame.
    by : sequence of str
        Label columns that define a group.
    alpha : float
        Level at which a relay value counts as above its null (its shuffle p-value below it).

    Returns
    -------
    DataFrame
        One row per group: networks, samples, patterns (median distinct binarised hidden states
        over replicates), patterns_max, relay / null_mean / above_null (plug-in: mean relay of all
        nodes, mean of its shuffle null, share of replicate × concept values with p < alpha) and
        probe_relay / probe_null_mean / probe_above_null (the same for the probe).
    """
    params.require(by, "by", params.sequence(params.one_of(NETWORK), min_length=1))
    params.require(alpha, "alpha", params.SIGNIFICANCE)
    needed = {*by, "replicate", "block", "samples", "patterns", "relay", "null_mean", "null_p", "probe_relay",
              "probe_null_mean", "probe_p"}
    params.require(frame, "frame", params.rule(lambda v: isinstance(v, pd.DataFrame) and needed <= set(v.columns),
                                               f"a relay_summary sweep frame with columns {sorted(needed)}"))
    work = frame.assign(above_null=frame.null_p < alpha, probe_above_null=frame.probe_p < alpha,
                        network=frame.block.astype(str) + "/" + frame.replicate.astype(str))
    return work.groupby(list(by), sort=False).agg(
        networks=("network", "nunique"), samples=("samples", "first"), patterns=("patterns", "median"),
        patterns_max=("patterns", "max"), relay=("relay", "mean"), null_mean=("null_mean", "mean"),
        above_null=("above_null", "mean"), probe_relay=("probe_relay", "mean"),
        probe_null_mean=("probe_null_mean", "mean"), probe_above_null=("probe_above_null", "mean")).reset_index()


# -- the default analysis ------------------------------------------------------------------------
def training_summary(trained: Trained) -> pd.DataFrame:
    """What training cost, per replicate. Run as a sweep's analysis it trains (or loads) every unit
    and nothing more, so that sweep's wall time is the training time.

    Parameters
    ----------
    trained : Trained
        One unit's replicates.

    Returns
    -------
    DataFrame
        ``Trained.summary()``: replicate, epochs, restarts, seed, accuracy (and the condition).
    """
    params.require(trained, "trained", params.rule(lambda v: isinstance(v, Trained), "an irn.train.Trained"))
    return trained.summary()


def relay_summary(trained: Trained, samples: int = analysis.ANALYSIS_SAMPLES, seed: int = 0,
                  noise: float = 0.0, shuffles: int = SUMMARY_SHUFFLES) -> pd.DataFrame:
    """Relay and knockout summary of every replicate and concept at the relay step.

    Parameters
    ----------
    trained : Trained
        One unit's replicates.
    samples : int
        Analysis sequences (``irn.analysis.record``).
    seed : int
        Seed of the analysis sequences, the probe folds, the shuffles and the random knockout sets.
    noise : float
        Standard deviation of Gaussian input noise. 0 (default): clean analysis sequences, and
        knockouts scored exactly on every distinct clean sequence. Above 0 — for networks trained
        with input noise, whose hidden states are high-entropy — the analysis sequences carry this
        noise and knockouts are scored on ``samples`` fresh noisy sequences (seed ``seed + 1``).
    shuffles : int
        Permutations of the shuffle nulls.

    Returns
    -------
    DataFrame
        One row per replicate × concept: replicate, concept, nodes, samples, patterns (distinct
        binarised hidden states), relay (plug-in ``I_R`` of all nodes), null_mean and null_p (its
        shuffle null's mean — the bias — and p-value), probe_relay, probe_null_mean, probe_p (the
        same for the probe's relay of all nodes, ``irn.relay.probe_null``), epochs (training cost
        of the replicate), k (nodes knocked out: ``KNOCKOUT_FRACTION`` of them), intact (concept
        accuracy), ko_relay / ko_probe (accuracy with the concept's top-k nodes of the plug-in /
        probe greedy order knocked out), ko_random (mean over ``RANDOM_SETS`` random k-sets) and
        ko_control (one more random k-set, drawn after those: the negative control of the
        knockout test).
    """
    params.require(trained, "trained", params.rule(lambda v: isinstance(v, Trained), "an irn.train.Trained"))
    noise = tasks.check_noise(noise)
    params.check_count(shuffles, "shuffles", 1)
    rec = analysis.record(trained, samples=samples, seed=seed, noise=noise)
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
                null = relay.relay_null(x_in, x_out, bits[r], shuffles=shuffles, seed=seed)
                probe_null = relay.probe_null(x_in, x_out, bits[r], shuffles=shuffles, seed=seed)
                per_relay.append([int(n) for n in plug.order[-k:]])
                per_probe.append([int(n) for n in probe.order[-k:]])
                rows.append({"replicate": r, "concept": concepts[c], "nodes": h, "samples": samples,
                             "patterns": int(patterns[r]), "relay": float(plug.curve[0]),
                             "null_mean": null.null_mean, "null_p": null.p_value,
                             "probe_relay": probe_null.observed, "probe_null_mean": probe_null.null_mean,
                             "probe_p": probe_null.p_value, "epochs": int(trained.epochs[r]), "k": k})
            relay_sets.append(per_relay)
            probe_sets.append(per_probe)
    frame = pd.DataFrame(rows)
    score = functools.partial(knockout.accuracy, trained, data=_noisy_probe(trained, samples, seed + 1, noise))
    frame["intact"] = _concept_accuracy(score(), frame)
    for name, sets in (("ko_relay", relay_sets), ("ko_probe", probe_sets)):
        values = np.empty(len(frame))
        for c, concept in enumerate(concepts):
            acc = score([sets[r][c] for r in range(r_count)])
            hit = frame.concept == concept
            values[hit.to_numpy()] = _concept_accuracy(acc, frame[hit])
        frame[name] = values
    random_acc = []
    for _ in range(RANDOM_SETS + 1):  # the last draw is the control
        draw = [sorted(rng.choice(h, k, replace=False).tolist()) for _ in range(r_count)]
        random_acc.append(_concept_accuracy(score(draw), frame))
    frame["ko_random"] = np.mean(random_acc[:RANDOM_SETS], axis=0)
    frame["ko_control"] = random_acc[RANDOM_SETS]
    return frame


def _noisy_probe(trained: Trained, samples: int, seed: int, noise: float) -> analysis.Probe | None:
    """Noisy knockout data (``irn.analysis.probe`` of fresh noisy sequences), or None for clean
    inputs (then ``knockout.accuracy`` scores every distinct clean sequence exactly)."""
    if noise == 0:
        return None
    task = trained.condition.task
    batch = tasks.sample(task, samples, delay=analysis.analysis_delay(trained.condition.delay), noise=noise,
                         seed=seed)
    return analysis.probe(trained.model, batch.inputs, batch.targets, batch.answer_step,
                          concepts=tasks.CONCEPTS[task])


#: The knockout orders ``knockout_tests`` compares with random sets: name → column of
#: ``relay_summary``. "random (control)" is a further random set: a test that can tell should
#: not find it costing more than the random sets.
ORDERS = {"probe order": "ko_probe", "plug-in order": "ko_relay", "random (control)": "ko_control"}
NETWORK = ["arch", "task", "delay", "hidden", "block", "replicate"]


@dataclass(frozen=True)
class KnockoutTests:
    """Chapter 4's knockout test on a sweep's `relay_summary` frame.

    Attributes
    ----------
    extra : pandas.DataFrame
        One row per network × concept × order: the network's labels (`NETWORK`), concept, order (a
        key of `ORDERS`) and extra — the accuracy the concept loses with the order's top-k nodes
        knocked out, minus what it loses with random k-sets (mean of `RANDOM_SETS`).
    tests : pandas.DataFrame
        One row per group (``by``) × order: difference (mean extra loss), p_value (Wilcoxon
        signed-rank over the group's replicates × concepts), n (pairs).
    per_network : pandas.DataFrame
        The extra loss averaged over concepts, one row per network × order (the values to bootstrap
        an effect over replicates).
    by : tuple of str
        The columns that define a group (e.g. ("arch", "hidden")).
    """

    extra: pd.DataFrame
    tests: pd.DataFrame
    per_network: pd.DataFrame
    by: tuple

    def of(self, order: str) -> pd.DataFrame:
        """The tests of one order.

        Parameters
        ----------
        order : str
            A key of ``ORDERS``.

        Returns
        -------
        DataFrame
            One row per group: the ``by`` columns, order, difference, p_value, n.
        """
        params.require(order, "order", params.one_of(ORDERS))
        return self.tests[self.tests.order == order].reset_index(drop=True)

    def effects(self, order: str) -> np.ndarray:
        """The per-network extra loss of one order (the values to bootstrap an effect over).

        Parameters
        ----------
        order : str
            A key of ``ORDERS``.

        Returns
        -------
        ndarray, shape (networks,)
        """
        params.require(order, "order", params.one_of(ORDERS))
        return self.per_network[self.per_network.order == order].extra.to_numpy()


def knockout_tests(frame: pd.DataFrame, by=("arch", "hidden")) -> KnockoutTests:
    """Does knocking out a concept's top relay nodes cost it more than random nodes, per group?

    Parameters
    ----------
    frame : DataFrame
        ``run(..., analyse=relay_summary)``'s frame (labelled with arch, task, delay, hidden, block).
    by : sequence of str
        Label columns that define a group; one test per group and order.

    Returns
    -------
    KnockoutTests
    """
    needed = {*NETWORK, "concept", "intact", "ko_random", *ORDERS.values()}
    params.require(frame, "frame", params.rule(lambda v: isinstance(v, pd.DataFrame) and needed <= set(v.columns),
                                               f"a relay_summary sweep frame with columns {sorted(needed)}"))
    params.require(by, "by", params.sequence(params.one_of(NETWORK), min_length=1))
    loss_random = frame.intact - frame.ko_random
    extra = pd.concat([frame[[*NETWORK, "concept"]].assign(order=name, extra=(frame.intact - frame[column]) - loss_random)
                       for name, column in ORDERS.items()], ignore_index=True)
    rows = []
    for keys, g in extra.groupby([*by, "order"], sort=False):
        test = paired_test(g.extra, np.zeros(len(g)))
        rows.append({**dict(zip([*by, "order"], keys)), "difference": test.difference, "p_value": test.p_value,
                     "n": test.n})
    per_network = extra.groupby([*NETWORK, "order"], sort=False, as_index=False).extra.mean()
    return KnockoutTests(extra, pd.DataFrame(rows), per_network, tuple(by))


def _concept_accuracy(acc: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """acc (replicate, concept, accuracy) looked up for every (replicate, concept) row of rows."""
    lookup = acc.set_index(["replicate", "concept"])["accuracy"]
    return lookup.loc[list(zip(rows.replicate, rows.concept))].to_numpy()
