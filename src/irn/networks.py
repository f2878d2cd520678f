"""Trained networks that more than one chapter uses, one library call each (DESIGN §6, §10, §13).

A chapter that trains a network of its own shape stores it in the zoo with ``irn.zoo.cached`` under a
hash of everything that determines its weights. A later chapter that reuses it must rebuild exactly
that description, or it trains a second copy; so the description and the training live here, and
every chapter calls the same function:

* ``pulse_task`` / ``pulse_networks``: chapter 3b's five-class pulse task (a class pulse, two
  distractors, a delay, then the answer) and its deep networks (two GRU layers of 32 nodes, a
  linear readout, cross-entropy); chapter 4b ranks their nodes.
* ``dataset_networks``: chapter 11's classifiers of a real data set (``irn.datasets``) of one
  architecture; chapter 4b ranks their nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from irn import datasets, params, train, zoo
from irn.models import ARCHS, Stacked

#: Steps of the pulse task: the class pulse, then two distractor pulses of half its size.
PULSE_STEPS = (3, 6, 9)
DISTRACTOR = 0.5
PULSE_FIT = {"loss": "cross_entropy", "lr": 0.01, "epochs": 1500, "criterion": 0.99}


@dataclass(frozen=True)
class Networks:
    """Trained replicates from the zoo.

    Attributes
    ----------
    model : Stacked
    meta : dict
        The training record (epochs, reached …).
    entry : str
        The zoo entry's name, for ``irn.provenance.reproducibility``.
    """

    model: Stacked
    meta: dict
    entry: str


@dataclass(frozen=True)
class PulseTask:
    """The five-class pulse task (chapter 3b).

    Attributes
    ----------
    x_train : Tensor, shape (samples, 10 + delay, classes)
        Random training sequences.
    y_train : ndarray, shape (samples,)
        Their classes.
    x_test : Tensor, shape (classes³, 10 + delay, classes)
        Every distinct sequence once.
    y_test : ndarray, shape (classes³,)
    answer : int
        The answer step.
    names : tuple of str
        The concepts' names ("class 0" …).
    """

    x_train: torch.Tensor
    y_train: np.ndarray
    x_test: torch.Tensor
    y_test: np.ndarray
    answer: int
    names: tuple


def pulses(label, first, second, delay: int, classes: int) -> torch.Tensor:
    """The pulse task's inputs: a +1 pulse on the class's channel at step 3 and distractors of half that
    size at steps 6 and 9.

    Parameters
    ----------
    label, first, second : array of int, shape (n,)
        The class, and the channels of the two distractors.
    delay : int
        Empty steps before the answer.
    classes : int

    Returns
    -------
    Tensor, shape (n, 10 + delay, classes)
    """
    label, first, second = (np.asarray(v, dtype=np.int64) for v in (label, first, second))
    x = np.zeros((len(label), 10 + delay, classes), np.float32)
    for t, channel, size in zip(PULSE_STEPS, (label, first, second), (1.0, DISTRACTOR, DISTRACTOR)):
        x[np.arange(len(label)), t, channel] += size
    return torch.from_numpy(x)


def pulse_task(classes: int = 5, delay: int = 4, samples: int = 1000, seed: int = 0) -> PulseTask:
    """Chapter 3b's pulse task: training sequences and every distinct sequence.

    Parameters
    ----------
    classes : int
    delay : int
    samples : int
        Random training sequences, drawn with ``seed``.
    seed : int

    Returns
    -------
    PulseTask
    """
    params.require(classes, "classes", params.integer(2, 20))
    params.require(delay, "delay", params.integer(0, 50))
    params.require(samples, "samples", params.integer(low=10))
    params.require(seed, "seed", params.SEED)
    draw = np.random.default_rng(seed).integers(0, classes, size=(3, samples))
    every = np.indices((classes,) * 3).reshape(3, -1)
    return PulseTask(pulses(*draw, delay, classes), draw[0], pulses(*every, delay, classes), every[0], 9 + delay,
                     tuple(f"class {k}" for k in range(classes)))


def pulse_networks(arch: str = "gru", layers: int = 2, hidden: int = 32, classes: int = 5, delay: int = 4,
                   samples: int = 1000, replicates: int = 10, seed: int = 0) -> Networks:
    """Chapter 3b's deep classifiers of the pulse task, from the zoo (trained once when missing).

    ``replicates`` networks of ``layers`` × ``hidden`` nodes and a linear readout of ``classes``
    outputs, trained side by side with cross-entropy (Adam, lr 0.01) until 0.99 training accuracy
    or 1500 epochs, from initial seeds ``1000 · seed + r``.

    Parameters
    ----------
    arch, layers, hidden, classes, delay, samples, replicates, seed
        As chapter 3b's parameters (its full protocol by default).

    Returns
    -------
    Networks
    """
    name, spec = pulse_spec(arch, layers, hidden, classes, delay, samples, replicates, seed)
    task = pulse_task(classes, delay, samples, seed)

    def build():
        net = Stacked(arch, replicates, classes, hidden, n_outputs=classes, layers=layers, readout="linear",
                      seeds=[seed * 1000 + r for r in range(replicates)])
        result = train.fit(net, task.x_train, task.y_train, task.answer, loss=PULSE_FIT["loss"], lr=PULSE_FIT["lr"],
                           epochs=PULSE_FIT["epochs"], criterion=PULSE_FIT["criterion"], seed=seed)
        return result.model, {"epochs": result.epochs, "reached": result.reached}

    model, meta = zoo.cached(name, spec, build)
    return Networks(model, meta, zoo.cached_key(name, spec))


def pulse_spec(arch: str = "gru", layers: int = 2, hidden: int = 32, classes: int = 5, delay: int = 4,
               samples: int = 1000, replicates: int = 10, seed: int = 0) -> tuple[str, dict]:
    """The zoo entry of ``pulse_networks``: everything that determines the weights.

    Parameters
    ----------
    arch, layers, hidden, classes, delay, samples, replicates, seed
        As ``pulse_networks``.

    Returns
    -------
    name : str
    spec : dict
        For ``irn.zoo.cached`` (a changed setting never loads another setting's networks).
    """
    params.require(arch, "arch", params.one_of(ARCHS))
    params.require(layers, "layers", params.integer(1, 8))
    params.require(hidden, "hidden", params.integer(2, 512))
    params.require(classes, "classes", params.integer(2, 20))
    params.require(delay, "delay", params.integer(0, 50))
    params.require(samples, "samples", params.integer(low=10))
    params.require(replicates, "replicates", params.integer(low=1))
    params.require(seed, "seed", params.SEED)
    return f"any-network-{arch}{layers}x{hidden}", {
        "data": "five-class pulses v2", "classes": classes, "delay": delay, "samples": samples, "seed": seed,
        "arch": arch, "layers": layers, "hidden": hidden, "replicates": replicates, "fit": dict(PULSE_FIT)}


def dataset_networks(data: datasets.Dataset, arch: str, replicates: int = 8, hidden: int = 12, max_epochs: int = 300,
                     lr: float = 1e-2, criterion: float = 1.0, seed: int = 0) -> Networks:
    """Chapter 11's classifiers of a real data set, from the zoo (trained once when missing).

    ``replicates`` networks of one architecture with ``hidden`` nodes and a linear readout (one
    output per class), trained with cross-entropy on the training split (full batch, Adam, ``lr``)
    until every training sequence is right (``criterion``) or ``max_epochs`` have passed, from
    initial seeds ``1000 · seed + r``.

    Parameters
    ----------
    data : irn.datasets.Dataset
    arch : {"rnn", "gru", "lstm"}
    replicates, hidden, max_epochs, lr, criterion, seed
        As chapter 11's parameters (its full protocol by default).

    Returns
    -------
    Networks
    """
    if not isinstance(data, datasets.Dataset):
        raise ValueError(f"data must be an irn.datasets.Dataset (from datasets.load), got {type(data).__name__}")
    name, spec = dataset_spec(data.name, arch, replicates, hidden, max_epochs, lr, criterion, seed)

    def build():
        model = Stacked(arch, replicates, data.n_inputs, hidden, seeds=[1000 * seed + r for r in range(replicates)],
                        n_outputs=data.n_classes, readout="linear")
        fitted = train.fit(model, data.train.inputs, data.train.labels, data.train.answer_step, loss="cross_entropy",
                           epochs=max_epochs, lr=lr, criterion=criterion, seed=seed, progress=False)
        return fitted.model, {"epochs": fitted.epochs, "reached": fitted.reached}

    model, meta = zoo.cached(name, spec, build)
    return Networks(model, meta, zoo.cached_key(name, spec))


def dataset_spec(dataset: str, arch: str, replicates: int = 8, hidden: int = 12, max_epochs: int = 300,
                 lr: float = 1e-2, criterion: float = 1.0, seed: int = 0) -> tuple[str, dict]:
    """The zoo entry of ``dataset_networks`` for the data set named ``dataset``.

    Parameters
    ----------
    dataset : str
        One of ``irn.datasets.BUNDLED``.
    arch, replicates, hidden, max_epochs, lr, criterion, seed
        As ``dataset_networks``.

    Returns
    -------
    name : str
    spec : dict
    """
    params.require(dataset, "dataset", params.one_of(datasets.BUNDLED))
    params.require(arch, "arch", params.one_of(ARCHS))
    params.require(replicates, "replicates", params.integer(low=1))
    params.require(hidden, "hidden", params.integer(low=2))
    params.require(max_epochs, "max_epochs", params.integer(low=1))
    params.require(lr, "lr", params.number(0, None, closed=False))
    params.require(criterion, "criterion", params.SHARE)
    params.require(seed, "seed", params.SEED)
    return f"{dataset.lower()}-{arch}", {
        "dataset": dataset, "data": "irn.datasets: train-standardised, padded after the end", "arch": arch,
        "replicates": replicates, "hidden": hidden, "readout": "linear", "loss": "cross_entropy",
        "max_epochs": max_epochs, "lr": lr, "criterion": criterion, "seed": seed}
