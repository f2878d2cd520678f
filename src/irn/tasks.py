"""The memory and block tasks (paper §II.A, Fig 1).

Both tasks present three binary *concepts* during an input phase of ``INPUT_STEPS`` steps, then
``delay`` all-zero input vectors, and the answer (±1 per concept) is read at the last step.

* ``memory``: three sensor channels A, B, C. Concept A's sign appears on channel A at time point
  4, B's on channel B at time point 7 and C's on channel C at time point 10 (1-based, as in the
  paper's Fig 6); every other input is zero.
* ``block``: a one-dimensional camera of ``CAMERA_WIDTH`` pixels watches a block that is small
  (``SMALL`` pixels) or large (``LARGE`` pixels), dark (``DARK``) or bright (``BRIGHT``), and moves
  one pixel per step to the left or to the right, starting from one of ``len(BLOCK_STARTS)`` offsets.
  The concepts are size, direction and brightness.
* ``flipflop`` (the 3-bit flip-flop of Sussillo & Barak 2013, the benchmark of the attractor
  chapter; not a task of the paper): three channels; at every input step each channel carries a
  pulse of +1 or −1 with probability ``FLIPFLOP_RATE`` (each channel gets at least one), and each
  output must hold the sign of its channel's last pulse. Its sequences are random, not a finite
  set of patterns, so it has no ``patterns``/``distinct`` and trains on sampled batches;
  ``flipflop_stream`` gives long sequences with a target at every step for its own evaluation.

Delays are fixed (1…5) or ``"random"``: drawn per sequence from [1, 5]. Any delay 0…9 can be
asked for when evaluating. Time steps are 0-based in code: the answer of a sequence with delay d
is read at step ``INPUT_STEPS - 1 + d`` and ``INPUT_STEPS`` is the first step after all inputs.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import torch

from irn import params
from irn.params import check_count

TASKS = ("memory", "block")  # the paper's tasks: chapters 1–7 and train.paper_conditions use these
ALL_TASKS = (*TASKS, "flipflop")  # every task irn can train
CONCEPTS = {"memory": ("A", "B", "C"), "block": ("size", "direction", "brightness"),
            "flipflop": ("bit1", "bit2", "bit3")}
FLIPFLOP_RATE = 0.2  # chance of a pulse per channel and input step
INPUT_STEPS = 10
TRAIN_DELAYS = (1, 2, 3, 4, 5)
DELAY_REGIMES = (1, 2, 3, 4, 5, "random")
EVAL_DELAYS = tuple(range(10))
MAX_DELAY = max(EVAL_DELAYS)

MEMORY_STEPS = (3, 6, 9)  # 0-based steps at which A, B, C appear (time points 4, 7, 10)

CAMERA_WIDTH = 8
SMALL, LARGE = 2, 4
DARK, BRIGHT = 0.5, 1.0
BLOCK_STARTS = (-3, -2, -1)  # left edge of a right-moving block at step 0


def check_delay(delay, name: str = "delay", allow_random: bool = True):
    """Check a delay: an int 0…9 or ``"random"``.

    Parameters
    ----------
    delay : int or str
        The delay to check.
    name : str, optional
        The parameter's name in the error message.
    allow_random : bool, optional
        Whether ``"random"`` is allowed.

    Returns
    -------
    int or str
        ``delay`` as an int 0…9, or ``"random"``.

    Raises
    ------
    ValueError
        For anything else.
    """
    if allow_random and delay == "random":
        return "random"
    if isinstance(delay, (bool, np.bool_)) or not isinstance(delay, (int, np.integer)):
        allowed = "an integer 0…9 or 'random'" if allow_random else "an integer 0…9"
        raise ValueError(f"{name} must be {allowed}, got {delay!r}")
    if not 0 <= int(delay) <= MAX_DELAY:
        raise ValueError(f"{name} must be between 0 and {MAX_DELAY}, got {delay}")
    return int(delay)


def check_task(task: str) -> str:
    """Check a task name.

    Parameters
    ----------
    task : str
        One of `ALL_TASKS`.

    Returns
    -------
    str
        ``task``.

    Raises
    ------
    ValueError
        For any other value.
    """
    return params.require(task, "task", params.one_of(ALL_TASKS))


def enumerable(task: str) -> bool:
    """Whether ``task`` has a finite set of distinct clean sequences (`patterns`, `distinct`).

    Parameters
    ----------
    task : str
        One of `ALL_TASKS`.

    Returns
    -------
    bool
        True for the paper's tasks (memory, block), False for flipflop.
    """
    return check_task(task) in TASKS


def _check_enumerable(task: str) -> None:
    if not enumerable(task):
        raise ValueError(f"task must be one of {TASKS} here: {task!r} has no finite set of distinct "
                         "sequences (use sample)")


def delays_of(delay) -> tuple[int, ...]:
    """The delays a regime draws from.

    Parameters
    ----------
    delay : int or str
        A fixed delay 0…9, or ``"random"``.

    Returns
    -------
    tuple of int
        ``(delay,)`` for a fixed delay, ``(1, 2, 3, 4, 5)`` for ``"random"``.
    """
    delay = check_delay(delay)
    return TRAIN_DELAYS if delay == "random" else (delay,)


@dataclass(frozen=True)
class Patterns:
    """The distinct noise-free input phases of a task.

    Attributes
    ----------
    inputs : ndarray, shape (patterns, INPUT_STEPS, n_inputs)
        float32 inputs of the input phase.
    targets : ndarray, shape (patterns, 3)
        The answers, ±1 per concept.
    state : ndarray, shape (patterns,)
        The combination of the three concepts, 0…7 (bit k set = concept k is +1).
    """

    inputs: np.ndarray
    targets: np.ndarray
    state: np.ndarray


def _memory_patterns() -> Patterns:
    signs = np.array(list(itertools.product((-1.0, 1.0), repeat=3)), dtype=np.float32)
    inputs = np.zeros((len(signs), INPUT_STEPS, 3), dtype=np.float32)
    for k, step in enumerate(MEMORY_STEPS):
        inputs[:, step, k] = signs[:, k]
    return Patterns(inputs, signs, _state(signs))


def block_frame(size: int, right: bool, bright: bool, start: int) -> np.ndarray:
    """The camera images of one block moving over the input phase.

    Parameters
    ----------
    size : int
        The block's width in pixels (`SMALL` or `LARGE`).
    right : bool
        Whether it moves to the right (else to the left), one pixel per step.
    bright : bool
        Whether it is bright (`BRIGHT`, else `DARK`).
    start : int
        Its first pixel.

    Returns
    -------
    ndarray, shape (INPUT_STEPS, CAMERA_WIDTH)
        float32 pixel values.
    """
    frames = np.zeros((INPUT_STEPS, CAMERA_WIDTH), dtype=np.float32)
    for t in range(INPUT_STEPS):
        left = start + t
        lo, hi = max(left, 0), min(left + size, CAMERA_WIDTH)
        if hi > lo:  # otherwise the block is outside the camera's view
            frames[t, lo:hi] = BRIGHT if bright else DARK
    return frames if right else frames[:, ::-1].copy()


def _block_patterns() -> Patterns:
    inputs, targets = [], []
    for big, right, bright in itertools.product((False, True), repeat=3):
        for start in BLOCK_STARTS:
            inputs.append(block_frame(LARGE if big else SMALL, right, bright, start))
            targets.append([1.0 if big else -1.0, 1.0 if right else -1.0, 1.0 if bright else -1.0])
    targets = np.array(targets, dtype=np.float32)
    return Patterns(np.stack(inputs), targets, _state(targets))


def _state(targets: np.ndarray) -> np.ndarray:
    return ((targets > 0) * np.array([1, 2, 4])).sum(axis=1).astype(np.int64)


def patterns(task: str) -> Patterns:
    """All distinct noise-free input phases of a task.

    Parameters
    ----------
    task : {"memory", "block"}
        The task.

    Returns
    -------
    Patterns
        Inputs, targets and concept combination of every distinct input phase.
    """
    _check_enumerable(task)
    return _memory_patterns() if task == "memory" else _block_patterns()


def n_inputs(task: str) -> int:
    """Number of input channels of a task.

    Parameters
    ----------
    task : str
        One of `ALL_TASKS`.

    Returns
    -------
    int
        `CAMERA_WIDTH` for block, 3 otherwise.
    """
    return CAMERA_WIDTH if check_task(task) == "block" else 3


@dataclass(frozen=True)
class Batch:
    """Sequences padded with zeros to a common length.

    Attributes
    ----------
    inputs : torch.Tensor, shape (batch, steps, n_inputs)
        float32 inputs.
    targets : torch.Tensor, shape (batch, 3)
        The answers, ±1 per concept.
    delay : torch.Tensor, shape (batch,)
        int delay of each sequence; it answers at ``answer_step = INPUT_STEPS - 1 + delay``.
    state : torch.Tensor, shape (batch,)
        The concept combination 0…7.
    weight : torch.Tensor, shape (batch,)
        How many sequences each row stands for.
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    delay: torch.Tensor
    state: torch.Tensor
    weight: torch.Tensor

    @property
    def answer_step(self) -> torch.Tensor:
        """The 0-based step at which each sequence is answered, shape (batch,)."""
        return INPUT_STEPS - 1 + self.delay

    def __len__(self) -> int:
        return self.inputs.shape[0]


def _assemble(pat: Patterns, index: np.ndarray, delay: np.ndarray, steps: int,
              noise: float, rng: np.random.Generator | None, weight=None) -> Batch:
    x = np.zeros((len(index), steps, pat.inputs.shape[2]), dtype=np.float32)
    x[:, :INPUT_STEPS] = pat.inputs[index]
    if noise > 0:
        x += rng.normal(0.0, noise, size=x.shape).astype(np.float32)
    weight = np.ones(len(index)) if weight is None else weight
    return Batch(
        inputs=torch.from_numpy(x),
        targets=torch.from_numpy(pat.targets[index].copy()),
        delay=torch.from_numpy(delay.astype(np.int64)),
        state=torch.from_numpy(pat.state[index].copy()),
        weight=torch.as_tensor(weight, dtype=torch.float32),
    )


def check_answer_steps(answer_step, samples: int, steps: int) -> torch.Tensor:
    """Check answer steps: one for all samples or one per sample, each in 0…steps−1.

    Parameters
    ----------
    answer_step : int or array_like, shape (samples,)
        The step(s) at which the answers are read, integer-valued (2.0 is step 2, 2.5 is
        refused rather than truncated).
    samples : int
        Number of samples.
    steps : int
        Number of time steps.

    Returns
    -------
    torch.Tensor, shape (samples,)
        int64 answer steps.
    """
    answer = params.array(answer_step, "answer_step", ndim=(0, 1), kind="integer")
    if answer.ndim == 1 and len(answer) != samples:
        raise ValueError(f"answer_step must be an int or one step per sample ({samples}), got {len(answer)} steps")
    if answer.size and (answer.min() < 0 or answer.max() >= steps):
        raise ValueError(f"answer_step must lie in 0…{steps - 1}, got {answer.min()}…{answer.max()}")
    return torch.from_numpy(np.broadcast_to(answer, (samples,)).copy())


def check_noise(noise) -> float:
    """Check the standard deviation of Gaussian input noise.

    Parameters
    ----------
    noise : float
        A finite number >= 0.

    Returns
    -------
    float
        ``noise`` as a float.
    """
    return float(params.require(noise, "noise", params.number(low=0)))


def sample(task: str, n: int, delay=4, noise: float = 0.0, seed: int = 0,
           steps: int | None = None) -> Batch:
    """Draw random sequences of a task.

    Parameters
    ----------
    task : str
        One of `ALL_TASKS`.
    n : int
        Number of sequences.
    delay : int or str, optional
        0…9, or ``"random"`` (each sequence draws its own delay from 1…5).
    noise : float, optional
        Standard deviation of Gaussian noise added to every input value (0 = clean).
    seed : int, optional
        Random seed.
    steps : int or None, optional
        Pad every sequence to this many steps (default: the longest one drawn).

    Returns
    -------
    Batch
        ``n`` sequences with weight 1 each.
    """
    check_task(task)
    check_count(n, "n", 1)
    params.require(seed, "seed", params.SEED)
    noise = check_noise(noise)
    choices = delays_of(delay) if delay == "random" else (check_delay(delay),)
    rng = np.random.default_rng(seed)
    pat = patterns(task) if enumerable(task) else _flipflop_patterns(n, rng)
    index = rng.integers(0, len(pat.targets), size=n) if enumerable(task) else np.arange(n)
    d = rng.choice(np.array(choices), size=n)
    steps = _check_steps(steps, int(d.max()))
    return _assemble(pat, index, d, steps, noise, rng)


def _flipflop_pulses(n: int, steps: int, rng: np.random.Generator, rate: float = FLIPFLOP_RATE) -> np.ndarray:
    """(n, steps, 3) float32 random ±1 pulses, each channel pulsed at least once."""
    x = (rng.random((n, steps, 3)) < rate) * rng.choice(np.array([-1.0, 1.0]), size=(n, steps, 3))
    empty = np.argwhere(~x.any(axis=1))  # (sequence, channel) pairs without a pulse
    x[empty[:, 0], rng.integers(0, steps, size=len(empty)), empty[:, 1]] = rng.choice([-1.0, 1.0], size=len(empty))
    return x.astype(np.float32)


def _held(x: np.ndarray) -> np.ndarray:
    """(n, steps, 3) sign of each channel's last pulse up to every step (0 before the first)."""
    held = np.zeros_like(x)
    last = np.zeros(x[:, 0].shape, x.dtype)
    for t in range(x.shape[1]):
        last = np.where(x[:, t] != 0, np.sign(x[:, t]), last)
        held[:, t] = last
    return held


def _flipflop_patterns(n: int, rng: np.random.Generator) -> Patterns:
    x = _flipflop_pulses(n, INPUT_STEPS, rng)
    targets = _held(x)[:, -1]
    return Patterns(x, targets, _state(targets))


@dataclass(frozen=True)
class Stream:
    """Long flip-flop sequences with a target at every step.

    Attributes
    ----------
    inputs : torch.Tensor, shape (batch, steps, 3)
        float32 pulses.
    targets : torch.Tensor, shape (batch, steps, 3)
        The sign of each channel's last pulse so far, 0 before a channel's first pulse (those steps
        are not scored).
    """

    inputs: torch.Tensor
    targets: torch.Tensor


def flipflop_stream(n: int, steps: int = 100, rate: float = FLIPFLOP_RATE / 4, seed: int = 0) -> Stream:
    """Flip-flop sequences with pulses at a given rate per channel and step.

    Parameters
    ----------
    n : int
        Number of sequences.
    steps : int, optional
        Steps per sequence.
    rate : float, optional
        Chance of a pulse per channel and step (default a quarter of the training rate, so states
        are held for about 20 steps between pulses).
    seed : int, optional
        Random seed.

    Returns
    -------
    Stream
        Inputs and per-step targets.
    """
    check_count(n, "n", 1)
    check_count(steps, "steps", 1)
    params.require(rate, "rate", params.SHARE)
    params.require(seed, "seed", params.SEED)
    rng = np.random.default_rng(seed)
    x = (rng.random((n, steps, 3)) < rate) * rng.choice(np.array([-1.0, 1.0]), size=(n, steps, 3))
    x = x.astype(np.float32)
    return Stream(torch.from_numpy(x), torch.from_numpy(_held(x)))


def _check_steps(steps, longest: int) -> int:
    need = INPUT_STEPS + longest
    if steps is None:
        return need
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < need:
        raise ValueError(f"steps must be an integer >= {need} (input phase + delay), got {steps!r}")
    return int(steps)


def distinct(task: str, delay=4, steps: int | None = None) -> Batch:
    """Every distinct noise-free sequence of a delay regime, once each (weight 1).

    For ``delay="random"`` each pattern appears once per delay 1…5. Rows are ordered delay-major:
    row = delay_index * n_patterns + pattern.

    Parameters
    ----------
    task : {"memory", "block"}
        The task.
    delay : int or str, optional
        0…9, or ``"random"``.
    steps : int or None, optional
        Pad every sequence to this many steps (default: the longest).

    Returns
    -------
    Batch
        The distinct sequences.
    """
    pat = patterns(task)  # memory or block only
    choices = delays_of(delay) if delay == "random" else (check_delay(delay),)
    p = len(pat.targets)
    index = np.tile(np.arange(p), len(choices))
    d = np.repeat(np.array(choices), p)
    steps = _check_steps(steps, int(d.max()))
    return _assemble(pat, index, d, steps, 0.0, None)


def describe(task: str, targets) -> str:
    """A short label for one sequence's concepts, e.g. ``"A+ B− C+"`` or ``"large, left, dark"``.

    Parameters
    ----------
    task : str
        One of `ALL_TASKS`.
    targets : array_like, shape (3,)
        The sequence's answers, ±1 per concept.

    Returns
    -------
    str
        The label.
    """
    t = np.asarray(targets)
    if check_task(task) != "block":
        return " ".join(f"{c}{'+' if v > 0 else '−'}" for c, v in zip(CONCEPTS[task], t))
    words = (("small", "large"), ("left", "right"), ("dark", "bright"))
    return ", ".join(w[int(v > 0)] for w, v in zip(words, t))


def to_frame(task: str, batch: Batch):
    """Long table of a batch's inputs, for plotting.

    Parameters
    ----------
    task : str
        One of `ALL_TASKS`.
    batch : Batch
        The sequences.

    Returns
    -------
    pandas.DataFrame
        Columns example, step, channel, value.
    """
    import pandas as pd

    rows = []
    for i in range(len(batch)):
        label = f"#{i + 1}: {describe(task, batch.targets[i].numpy())} (delay {int(batch.delay[i])})"
        x = batch.inputs[i].numpy()
        for step in range(x.shape[0]):
            for ch in range(x.shape[1]):
                rows.append((label, step, ch, float(x[step, ch])))
    return pd.DataFrame(rows, columns=["example", "step", "channel", "value"])
