"""Training to criterion with replicates stacked into one module (paper §II.B).

Each replicate is trained with Adam on the mean squared error of its tanh outputs at the answer
step, one batch of ``batch`` sequences per epoch, until its accuracy reaches ``criterion`` (0.98)
or ``max_epochs`` (2000) have passed. Its weights are snapshotted at the epoch it reached the
criterion. A replicate that never reaches it is replaced by a fresh network with a new seed (a
*restart*, recorded) until every replicate qualifies.

Two choices make the 720 networks of the paper train in minutes on a CPU:

* replicates are a tensor dimension (``irn.models.Stacked``); the loss is the **sum** over
  replicates of each replicate's own mean, and ``StackedAdam`` is element-wise, so every replicate
  follows exactly the trajectory it would follow alone;
* without input noise a task has few distinct sequences (8 per delay for memory), so an epoch's
  batch of 512 is run as its distinct sequences weighted by how often each was drawn — the same
  loss and gradient at a fraction of the work.

Accuracy is the fraction of (sequence, concept) pairs whose output sign matches the target. With
clean inputs the criterion is checked on every distinct sequence of the training regime (the
exact expected accuracy); with noisy inputs, on the epoch's batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as nn_functional
from tqdm import tqdm

from irn import tasks
from irn.models import Stacked, check_arch, check_inputs
from irn.optim import StackedAdam

TRAINING_CODE_VERSION = 3  # bump when a change alters trained weights; old zoo entries are not reused


@dataclass(frozen=True)
class Condition:
    """One experimental condition: architecture, task and training-delay regime."""

    arch: str
    task: str
    delay: int | str

    def __post_init__(self):
        check_arch(self.arch)
        tasks.check_task(self.task)
        d = tasks.check_delay(self.delay)
        if d == 0:
            raise ValueError("delay must be 1…9 or 'random' for training, got 0")

    @property
    def label(self) -> str:
        return f"{self.arch}-{self.task}-delay{self.delay}"


def paper_conditions(archs=("rnn", "gru", "lstm"), task_names=tasks.TASKS,
                     delays=tasks.DELAY_REGIMES) -> list[Condition]:
    """The paper's grid: every architecture × task × delay regime (36 conditions)."""
    return [Condition(a, t, d) for a in archs for t in task_names for d in delays]


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters shared by all replicates (defaults: the paper's protocol)."""

    replicates: int = 20
    hidden: int = 12
    lr: float = 1e-2
    max_epochs: int = 2000
    criterion: float = 0.98
    batch: int = 512
    noise: float = 0.0
    seed: int = 0
    max_restarts: int = 100

    def __post_init__(self):
        for name in ("replicates", "hidden", "max_epochs", "batch", "max_restarts"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < (0 if name == "max_restarts" else 1):
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")
        if not (isinstance(self.criterion, (int, float)) and 0 < self.criterion <= 1):
            raise ValueError(f"criterion must be in (0, 1], got {self.criterion!r}")
        tasks.check_noise(self.noise)
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")


@dataclass
class Trained:
    """The replicates of one condition: a ``Stacked`` model and how each was obtained.

    epochs[r]: epochs (weight updates) the kept network needed to reach the criterion;
    restarts[r]: networks discarded before it; seeds[r]: the seed of the kept network;
    accuracy[r]: its training-regime accuracy at the snapshot.
    """

    condition: Condition
    config: TrainConfig
    model: Stacked
    epochs: list[int]
    restarts: list[int]
    seeds: list[int]
    accuracy: list[float]
    meta: dict = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """One row per replicate: condition, epochs, restarts, seed, accuracy."""
        c = self.condition
        return pd.DataFrame({"arch": c.arch, "task": c.task, "delay": str(c.delay),
                             "replicate": range(len(self.epochs)), "epochs": self.epochs,
                             "restarts": self.restarts, "seed": self.seeds, "accuracy": self.accuracy})


def replicate_seed(seed: int, condition: Condition, replicate: int, attempt: int) -> int:
    """The seed of one network: a function of the run seed, condition, slot and attempt only."""
    words = [seed, tasks.ALL_TASKS.index(condition.task), ("rnn", "gru", "lstm").index(condition.arch),
             0 if condition.delay == "random" else int(condition.delay) + 1, replicate, attempt]
    return int(np.random.SeedSequence(words).generate_state(1)[0] & 0x7FFFFFFF)


def _check_group(conditions: list[Condition]) -> tuple[str, str]:
    if not conditions:
        raise ValueError("conditions must hold at least one Condition")
    if len({(c.arch, c.task, _universe(c.delay)) for c in conditions}) != 1:
        raise ValueError("conditions trained together must share arch, task and delay universe")
    if len(set(conditions)) != len(conditions):
        raise ValueError("conditions must not repeat")
    return conditions[0].arch, conditions[0].task


def train(conditions: list[Condition] | Condition, config: TrainConfig = TrainConfig(),
          progress: bool = True) -> list[Trained]:
    """Train ``config.replicates`` networks for each condition; return one ``Trained`` per condition.

    Conditions sharing arch and task are trained in one stack; others one group after another.
    Same seed, same machine → identical weights. Every network's seeds and batches depend only on
    its own condition and slot, so it follows the same trajectory whatever is stacked alongside
    (up to float rounding of the larger stacked matrix products).
    """
    if isinstance(conditions, Condition):
        conditions = [conditions]
    conditions = list(conditions)
    done: dict[Condition, Trained] = {}
    for group in training_groups(conditions):
        for t in _train_group(group, config, progress):
            done[t.condition] = t
    return [done[c] for c in conditions]


def training_groups(conditions: list[Condition]) -> list[list[Condition]]:
    """The conditions ``train`` stacks together (same arch, task and delay universe), in order of
    first appearance; each group is one unit of training work."""
    groups: dict[tuple, list[Condition]] = {}
    for c in conditions:
        if not isinstance(c, Condition):
            raise ValueError(f"conditions must hold Condition objects, got {c!r}")
        groups.setdefault((c.arch, c.task, _universe(c.delay)), []).append(c)
    return list(groups.values())


def _train_group(conditions: list[Condition], config: TrainConfig, progress: bool) -> list[Trained]:
    arch, task = _check_group(conditions)
    slots = [(ci, r) for ci in range(len(conditions)) for r in range(config.replicates)]
    attempt = {s: 0 for s in slots}
    found: dict[tuple[int, int], tuple[dict, int, float, int]] = {}
    pending = list(slots)
    bar = tqdm(total=len(slots), desc=f"training {arch} {task}", unit="net",
               disable=not progress, leave=False)
    while pending:
        if max(attempt[s] for s in pending) > config.max_restarts:
            raise RuntimeError(f"{arch} {task}: some replicates did not reach accuracy "
                               f"{config.criterion} after {config.max_restarts} restarts; "
                               "raise max_epochs or lr, or lower criterion")
        seeds = [replicate_seed(config.seed, conditions[ci], r, attempt[(ci, r)]) for ci, r in pending]
        results = _train_round(arch, task, [conditions[ci].delay for ci, _ in pending], seeds, config, bar)
        still = []
        for slot, seed, res in zip(pending, seeds, results):
            if res is None:
                attempt[slot] += 1
                still.append(slot)
            else:
                found[slot] = (res[0], res[1], res[2], seed)
        pending = still
    bar.close()
    out = []
    for ci, cond in enumerate(conditions):
        rows = [found[(ci, r)] for r in range(config.replicates)]
        model = Stacked(arch, config.replicates, tasks.n_inputs(task), config.hidden)
        model.load_state_dict({k: torch.stack([row[0][k] for row in rows]) for k in rows[0][0]})
        out.append(Trained(cond, config, model, epochs=[row[1] for row in rows],
                           restarts=[attempt[(ci, r)] for r in range(config.replicates)],
                           seeds=[row[3] for row in rows], accuracy=[row[2] for row in rows]))
    return out


def _train_round(arch, task, delays, seeds, config: TrainConfig, bar):
    """Train one network per seed until each reaches the criterion or max_epochs pass.

    Returns, per network, ``(weights, epochs, accuracy)`` or None if it failed.
    """
    n = len(seeds)
    model = Stacked(arch, n, tasks.n_inputs(task), config.hidden, seeds=seeds)
    opt = StackedAdam(model.parameters(), lr=config.lr)
    rngs = [np.random.default_rng(s) for s in seeds]
    universe = _universe(delays[0])
    steps = tasks.INPUT_STEPS + max(universe)
    clean = config.noise == 0 and tasks.enumerable(task)  # else: sampled batches
    if clean:
        cells = Cells.of(task, universe)
        allowed = np.stack([np.isin(cells.delays, tasks.delays_of(d)) for d in delays])  # (n, D)
        allowed = np.broadcast_to(allowed[:, None, :], (n, cells.n_patterns, len(universe))).reshape(n, -1)
        prob = allowed / allowed.sum(axis=1, keepdims=True)
    active = list(range(n))  # original index of each row of the current stack
    results: list = [None] * n
    chunk = 50
    for epoch in range(config.max_epochs + 1):
        if clean:
            if epoch % chunk == 0:
                counts = np.stack([rngs[i].multinomial(config.batch, prob[i], size=chunk) for i in active], axis=1)
                counts = torch.from_numpy(counts.astype(np.float32)).reshape(chunk, len(active), *cells.shape)
            out = cells.outputs(model)
            loss = cells.loss(out, counts[epoch % chunk], config.batch)
            with torch.no_grad():
                mask = torch.from_numpy(allowed[active].astype(np.float32)).reshape(len(active), *cells.shape)
                acc = (cells.hits(out) * mask).sum((1, 2)) / mask.sum((1, 2))
        else:
            batches = [tasks.sample(task, config.batch, delays[i], config.noise,
                                    seed=int(rngs[i].integers(2 ** 31)), steps=steps) for i in active]
            x = torch.stack([b.inputs for b in batches])
            y = torch.stack([b.targets for b in batches])
            ans = torch.stack([b.answer_step for b in batches])
            trace = model(x)
            out = torch.gather(trace.output, 2, ans[:, :, None, None].expand(-1, -1, 1, 3))[:, :, 0]
            loss = ((out - y) ** 2).mean(dim=(1, 2)).sum()
            with torch.no_grad():
                acc = ((out > 0) == (y > 0)).float().mean(dim=(1, 2))
        reached = [k for k in range(len(active)) if acc[k] >= config.criterion]
        for k in reached:
            results[active[k]] = ({name: p[k].detach().clone() for name, p in model.named_parameters()},
                                  epoch, float(acc[k]))
        bar.update(len(reached))
        remaining = [k for k in range(len(active)) if results[active[k]] is None]
        if not remaining or epoch == config.max_epochs:
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
        if len(remaining) < len(active):  # replicates are independent: drop the finished rows
            model = opt.keep(model, remaining)
            active = [active[k] for k in remaining]
            if clean:
                counts = counts[:, remaining]
    return results


def _universe(delay) -> tuple[int, ...]:
    """The delays whose sequences a condition's stack runs (its weights are zero off-regime).

    Fixed per condition, so a replicate's arithmetic does not depend on what is stacked with it.
    """
    return tasks.TRAIN_DELAYS if set(tasks.delays_of(delay)) <= set(tasks.TRAIN_DELAYS) \
        else tuple(range(1, tasks.MAX_DELAY + 1))


@dataclass(frozen=True)
class Cells:
    """The distinct clean sequences of a task under a set of delays, run once.

    A sequence with delay d is the first ``INPUT_STEPS + d`` steps of the zero-padded sequence
    with the longest delay, so every pattern is run once and read at each delay's answer step.
    inputs: (patterns, steps, n_inputs); targets: (patterns, 3); delays: (D,); answer: (D,).
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    delays: np.ndarray
    answer: torch.Tensor

    @classmethod
    def of(cls, task: str, delays) -> "Cells":
        delays = np.array(sorted(delays))
        pat = tasks.patterns(task)
        x = np.zeros((len(pat.targets), tasks.INPUT_STEPS + delays.max(), pat.inputs.shape[2]), np.float32)
        x[:, :tasks.INPUT_STEPS] = pat.inputs
        return cls(torch.from_numpy(x), torch.from_numpy(pat.targets), delays,
                   torch.from_numpy(tasks.INPUT_STEPS - 1 + delays))

    @property
    def n_patterns(self) -> int:
        return self.inputs.shape[0]

    @property
    def shape(self) -> tuple[int, int]:
        return self.n_patterns, len(self.delays)

    def outputs(self, model: Stacked) -> torch.Tensor:
        """(replicates, patterns, delays, 3) outputs at each delay's answer step."""
        return model(self.inputs, record_steps=self.answer).output

    def loss(self, out: torch.Tensor, counts: torch.Tensor, batch: int) -> torch.Tensor:
        """Sum over replicates of the batch-mean squared error; counts: (replicates, patterns, delays)."""
        sq = ((out - self.targets[None, :, None, :]) ** 2).mean(-1)
        return ((sq * counts).sum((1, 2)) / batch).sum()

    def hits(self, out: torch.Tensor) -> torch.Tensor:
        """(replicates, patterns, delays) fraction of concepts answered with the right sign."""
        return ((out > 0) == (self.targets[None, :, None, :] > 0)).float().mean(-1)


def concept_accuracy(model: Stacked, batch: tasks.Batch) -> np.ndarray:
    """(replicates, 3) fraction of ``batch``'s sequences whose output sign matches each concept,
    with whatever knockout ``model`` carries."""
    with torch.no_grad():
        out = model(batch.inputs).output[:, torch.arange(len(batch)), batch.answer_step]
    return ((out > 0) == (batch.targets > 0)).float().mean(dim=1).numpy()


def evaluate(model: Stacked, task: str, delays=tasks.EVAL_DELAYS, noise: float = 0.0,
             n: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Accuracy of every replicate at every evaluation delay.

    Clean inputs: exact, over every distinct sequence. Noisy inputs (or the flip-flop task): ``n``
    sampled sequences. Returns columns replicate, eval_delay, accuracy.
    """
    tasks.check_task(task)
    noise = tasks.check_noise(noise)
    rows = []
    for d in delays:
        d = tasks.check_delay(d, name="delays", allow_random=False)
        batch = tasks.distinct(task, d) if noise == 0 and tasks.enumerable(task) \
            else tasks.sample(task, n, d, noise, seed=seed)
        acc = concept_accuracy(model, batch).mean(axis=1)
        rows += [{"replicate": r, "eval_delay": d, "accuracy": float(a)} for r, a in enumerate(acc)]
    return pd.DataFrame(rows)


def evaluate_flipflop(model: Stacked, n: int = 200, steps: int = 100, seed: int = 0) -> pd.DataFrame:
    """The flip-flop's own evaluation: every step of ``n`` long sequences (``tasks.flipflop_stream``).

    Scores each (sequence, step, channel) after the channel's first pulse: output sign = held sign.
    Returns columns replicate, accuracy (all scored steps), held_accuracy (only steps at least two
    after the channel's last pulse: the state is being held, not switched), perfect (share of
    sequences answered right at every scored step).
    """
    if not isinstance(model, Stacked) or model.n_inputs != 3:
        raise ValueError("model must be an irn.models.Stacked with 3 inputs (the flip-flop's channels)")
    stream = tasks.flipflop_stream(n, steps, seed=seed)
    with torch.no_grad():
        out = model(stream.inputs).output
    scored = stream.targets != 0
    hit = ((out > 0) == (stream.targets > 0)) & scored
    accuracy = hit.sum((1, 2, 3)).float() / scored.sum()
    pulse = stream.inputs != 0
    recent = pulse | torch.nn.functional.pad(pulse[:, :-1], (0, 0, 1, 0))  # pulse now or one step ago
    held = scored & ~recent
    held_accuracy = (hit & held).sum((1, 2, 3)).float() / held.sum()
    perfect = (hit == scored).all(-1).all(-1).float().mean(1)
    return pd.DataFrame({"replicate": range(model.replicates), "accuracy": accuracy.numpy(),
                         "held_accuracy": held_accuracy.numpy(), "perfect": perfect.numpy()})


def evaluate_all(trained: list[Trained], delays=tasks.EVAL_DELAYS) -> pd.DataFrame:
    """``evaluate`` for every condition: columns arch, task, delay (training regime, as text),
    replicate, eval_delay, accuracy."""
    frames = []
    for t in trained:
        df = evaluate(t.model, t.condition.task, delays)
        frames.append(df.assign(arch=t.condition.arch, task=t.condition.task, delay=str(t.condition.delay)))
    return pd.concat(frames, ignore_index=True)[["arch", "task", "delay", "replicate", "eval_delay", "accuracy"]]


GENERALISATION_DELAYS = ("unseen", "all")


def generalisation(accuracy: pd.DataFrame, delays: str = "unseen") -> pd.DataFrame:
    """Does random-delay training generalise better than fixed-delay training?

    accuracy: the output of ``evaluate_all``. Each replicate is scored by its mean accuracy over
    the evaluation delays that ``delays`` names: "unseen" (default) — only those no compared
    network was trained on (outside 1…5: 0 and 6…9), so a regime gets no credit for delays it
    trained on; "all" — every evaluation delay. Per arch and task, random-delay replicates are
    compared with the replicates of all fixed regimes pooled (Mann–Whitney U). Returns arch,
    task, random, fixed, difference, p_value, eval_delays (the delays averaged, as text).
    """
    from irn.stats import independent_test

    if delays not in GENERALISATION_DELAYS:
        raise ValueError(f"delays must be one of {GENERALISATION_DELAYS}, got {delays!r}")
    missing = {"arch", "task", "delay", "replicate", "eval_delay", "accuracy"} - set(accuracy.columns)
    if missing:
        raise ValueError(f"accuracy must be the output of evaluate_all; it lacks {sorted(missing)}")
    if delays == "unseen":
        trained_on = {d for regime in accuracy.delay.unique() for d in tasks.delays_of(
            regime if regime == "random" else int(regime))}
        accuracy = accuracy[~accuracy.eval_delay.isin(trained_on)]
    shown = ", ".join(str(d) for d in sorted(accuracy.eval_delay.unique()))
    score = accuracy.groupby(["arch", "task", "delay", "replicate"], sort=False)["accuracy"].mean().reset_index()
    rows = []
    for (arch, task), g in score.groupby(["arch", "task"], sort=False):
        rnd, fixed = g[g.delay == "random"].accuracy, g[g.delay != "random"].accuracy
        if len(rnd) == 0 or len(fixed) == 0:
            continue
        test = independent_test(rnd, fixed)
        rows.append({"arch": arch, "task": task, "random": rnd.mean(), "fixed": fixed.mean(),
                     "difference": test.difference, "p_value": test.p_value, "eval_delays": shown})
    return pd.DataFrame(rows)


# -- any model on any data (DESIGN §10) ------------------------------------------------------------
LOSSES = ("mse", "cross_entropy")


@dataclass
class Fit:
    """What ``fit`` returns.

    model: the trained replicates (each at the epoch it reached ``criterion``, else after the last
    epoch); epochs[r]: weight updates' epochs replicate r trained for; reached[r]: whether it reached
    the criterion (always False without one); history: one row per replicate × epoch with the
    epoch's mean training loss and the training-set accuracy before that epoch's updates (NaN for
    forecasting, where no accuracy is defined).
    """

    model: Stacked
    epochs: list[int]
    reached: list[bool]
    history: pd.DataFrame


def _check_fit_data(model, inputs, targets, answer_step, loss):
    if not isinstance(model, Stacked):
        raise ValueError(f"model must be an irn.models.Stacked, got {type(model).__name__}")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    x = check_inputs(inputs, model.n_inputs)
    s, t = x.shape[0], x.shape[1]
    k = model.n_outputs
    y = torch.as_tensor(np.asarray(targets.numpy() if isinstance(targets, torch.Tensor) else targets))
    per_step = answer_step is None
    want = ((s, t) if per_step else (s,)) if loss == "cross_entropy" else ((s, t, k) if per_step else (s, k))
    if tuple(y.shape) != want:
        raise ValueError(f"targets must have shape {want} for loss {loss!r} "
                         f"{'at every step' if per_step else 'at the answer step'}, got {tuple(y.shape)}")
    if loss == "cross_entropy":
        if y.dtype.is_floating_point or y.min() < 0 or y.max() >= k:
            raise ValueError(f"targets for cross_entropy must be integer class labels 0…{k - 1}")
        y = y.long()
    else:
        y = y.float()
        if not torch.isfinite(y).all():
            raise ValueError("targets must be finite numbers")
    ans = None
    if not per_step:
        ans = tasks.check_answer_steps(answer_step, s, t)
    return x, y, ans


def fit(model: Stacked, inputs, targets, answer_step=None, *, loss: str = "mse", epochs: int = 500,
        lr: float = 1e-2, batch: int | None = None, criterion: float | None = None, seed: int = 0,
        progress: bool = True, on_step=None, on_epoch=None) -> Fit:
    """Train every replicate of ``model`` (a copy; ``model`` is untouched) on the same data.

    inputs: (samples, steps, n_inputs). With ``answer_step`` (an int or (samples,) steps) the loss is
    read at each sample's answer step: targets (samples, K) values for ``loss="mse"`` (e.g. ±1 with a
    tanh readout, the paper's protocol) or (samples,) class labels 0…K−1 for ``"cross_entropy"`` (on
    the raw outputs: use ``readout="linear"``). With ``answer_step=None`` targets cover every step:
    (samples, steps, K) or (samples, steps) — sequence-to-sequence, e.g. forecasting.
    batch: None trains full batch (one update per epoch); an int gives shuffled minibatches of that
    size, each replicate its own order (seeded by ``seed`` and the replicate index).
    criterion: stop a replicate, keeping its weights, once its training accuracy (sign of each output
    for mse, argmax for cross_entropy; not defined without answer_step) reaches it; finished
    replicates leave the stack, so hooks then see fewer rows. None: train for ``epochs`` epochs.
    on_step(epoch, model): after every minibatch's backward pass, before the update (gradients in
    ``p.grad``, replicate = dim 0); on_epoch(epoch, model): after every epoch's updates.
    Optimiser: Adam (``StackedAdam``: element-wise, so each replicate trains exactly as alone); the
    loss is the sum over replicates of each replicate's mean.
    """
    x, y, ans = _check_fit_data(model, inputs, targets, answer_step, loss)
    epochs = tasks.check_count(epochs, "epochs", 1)
    seed = tasks.check_count(seed, "seed", 0)
    if batch is not None:
        batch = tasks.check_count(batch, "batch", 1)
    if not (isinstance(lr, (int, float)) and not isinstance(lr, bool) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if criterion is not None:
        if ans is None:
            raise ValueError("criterion needs answer_step (accuracy is defined at answer steps only)")
        if isinstance(criterion, bool) or not isinstance(criterion, (int, float)) or not 0 < criterion <= 1:
            raise ValueError(f"criterion must be None or a number in (0, 1], got {criterion!r}")
    for name, hook in (("on_step", on_step), ("on_epoch", on_epoch)):
        if hook is not None and not callable(hook):
            raise ValueError(f"{name} must be a callable (epoch, model) or None")
    n_samples, reps = len(x), model.replicates
    work = model.select(range(reps))
    opt = StackedAdam(work.parameters(), lr=lr)
    rngs = [np.random.default_rng([seed, r]) for r in range(reps)]
    size = n_samples if batch is None else min(batch, n_samples)
    active = list(range(reps))
    done: dict[int, tuple[dict, int]] = {}
    rows = []

    def outputs(m, index):  # index: (R', b) sample indices → outputs (R', b, [steps,] K) and targets
        xb = x[index] if index.dim() == 2 else x
        trace = m(xb)
        out = trace.output
        yb = y[index] if index.dim() == 2 else y.expand(m.replicates, *y.shape)
        if ans is not None:
            a = ans[index] if index.dim() == 2 else ans.expand(m.replicates, -1)
            out = out[torch.arange(m.replicates)[:, None], torch.arange(a.shape[1])[None, :], a]
        return out, yb

    def loss_of(out, yb):  # (R',) mean loss per replicate
        if loss == "cross_entropy":
            per = nn_functional.cross_entropy(out.reshape(-1, out.shape[-1]), yb.reshape(-1), reduction="none")
            return per.reshape(yb.shape).flatten(1).mean(1)
        return ((out - yb) ** 2).flatten(1).mean(1)

    def accuracy_of(out, yb):
        if ans is None:
            return torch.full((out.shape[0],), float("nan"))
        if loss == "cross_entropy":
            return (out.argmax(-1) == yb).float().flatten(1).mean(1)
        return ((out > 0) == (yb > 0)).float().flatten(1).mean(1)

    whole = torch.arange(n_samples)
    bar = tqdm(total=epochs, desc=f"fitting {reps} {model.arch}", unit="epoch", disable=not progress, leave=False)
    for epoch in range(epochs):
        with torch.no_grad():
            acc = accuracy_of(*outputs(work, whole)) if ans is not None else torch.full((len(active),), float("nan"))
        if criterion is not None:
            reached = [k for k in range(len(active)) if acc[k] >= criterion]
            for k in reached:
                done[active[k]] = ({name: p[k].detach().clone() for name, p in work.named_parameters()}, epoch)
            remaining = [k for k in range(len(active)) if k not in reached]
            if not remaining:
                break
            if reached:
                work = opt.keep(work, remaining)
                active = [active[k] for k in remaining]
                acc = acc[remaining]
        perms = torch.from_numpy(np.stack([rngs[r].permutation(n_samples) for r in active]))
        losses = torch.zeros(len(active))
        n_batches = 0
        for start in range(0, n_samples, size):
            index = perms[:, start:start + size] if batch is not None else whole
            out, yb = outputs(work, index)
            per = loss_of(out, yb)
            opt.zero_grad()
            per.sum().backward()
            if on_step is not None:
                on_step(epoch, work)
            opt.step()
            losses += per.detach()
            n_batches += 1
        rows += [{"replicate": r, "epoch": epoch, "loss": float(losses[k] / n_batches),
                  "accuracy": float(acc[k])} for k, r in enumerate(active)]
        if on_epoch is not None:
            on_epoch(epoch, work)
        bar.update(1)
    bar.close()
    final = {name: p.detach() for name, p in work.named_parameters()}
    trained = model.select(range(reps))
    epochs_of, reached_of = [epochs] * reps, [False] * reps
    with torch.no_grad():
        for k, r in enumerate(active):
            if r not in done:
                for name, p in trained.named_parameters():
                    p[r] = final[name][k]
        for r, (state, epoch) in done.items():
            for name, p in trained.named_parameters():
                p[r] = state[name]
            epochs_of[r], reached_of[r] = epoch, True
    return Fit(trained, epochs_of, reached_of, pd.DataFrame(rows, columns=["replicate", "epoch", "loss", "accuracy"]))
