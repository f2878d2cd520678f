"""irn.datasets: the real data sets bundled with aeon, as irn batches."""

import importlib.util
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from irn import datasets
from irn.models import ARCHS, Stacked

HAVE_AEON = importlib.util.find_spec("aeon") is not None
#: Tests that run without aeon (irn's data extra); every other test here needs it.
WITHOUT_AEON = {"test_a_missing_aeon_names_the_extra_before_any_work"}


@pytest.fixture(autouse=True)
def _needs_aeon(request):
    if not HAVE_AEON and request.node.originalname not in WITHOUT_AEON:
        pytest.skip("aeon (irn's data extra) is not installed")

# the archives' own description of each data set: classes, channels, (min, max) length, train, test
FACTS = {
    "JapaneseVowels": (9, 12, (7, 29), 270, 370),
    "BasicMotions": (4, 6, (100, 100), 40, 40),
    "ItalyPowerDemand": (2, 1, (24, 24), 67, 1029),
}


@pytest.fixture(scope="module", params=list(datasets.DATASETS))
def data(request):
    return datasets.load(request.param)


def test_every_default_data_set_has_its_facts():
    assert set(FACTS) == set(datasets.DATASETS)


def test_shapes_and_labels_match_the_archive(data):
    classes, channels, (lo, hi), n_train, n_test = FACTS[data.name]
    assert data.n_classes == classes and data.n_inputs == channels
    assert (len(data.train), len(data.test)) == (n_train, n_test)
    assert data.steps == hi
    for split, name in ((data.train, "train"), (data.test, "test")):
        assert split.inputs.shape == (len(split), hi, channels) and split.inputs.dtype == torch.float32
        assert split.labels.dtype == torch.int64 and split.labels.shape == (len(split),)
        assert set(split.labels.tolist()) == set(range(classes))  # every class in both splits
        series, names = datasets.raw(data.name, name)
        assert split.length.tolist() == [s.shape[1] for s in series]
        assert [data.classes[k] for k in split.labels.tolist()] == names.tolist()
        assert int(split.length.min()) == lo or name == "train"
        concepts = split.concepts()
        assert concepts.shape == (len(split), classes) and (concepts.sum(axis=1) == 1).all()
        assert (concepts.argmax(axis=1) == split.labels.numpy()).all()


def test_inputs_are_the_raw_series_standardised_on_train_only(data):
    train, _ = datasets.raw(data.name, "train")
    # the reference: statistics of every observed training value, computed here from aeon's arrays
    values = np.concatenate([s.T for s in train])  # (all train timepoints, channels)
    mean, std = values.mean(axis=0), values.std(axis=0)
    assert np.allclose(data.mean, mean) and np.allclose(data.std, np.where(std > 0, std, 1))
    for split, name in ((data.train, "train"), (data.test, "test")):
        series, _ = datasets.raw(data.name, name)
        for i in (0, len(series) // 2, len(series) - 1):
            n = series[i].shape[1]
            expected = (series[i].T - mean) / np.where(std > 0, std, 1)
            assert np.allclose(split.inputs[i, :n].numpy(), expected, atol=1e-5)
            assert (split.inputs[i, n:] == 0).all()  # padding only after the sequence
    train_values = data.train.inputs[torch.arange(data.steps)[None] < data.train.length[:, None]]
    assert np.allclose(train_values.mean(0), 0, atol=1e-4) and np.allclose(train_values.std(0, unbiased=False), 1, atol=1e-3)


def _fake_raw(test_shift):
    """A hand-made data set of unequal lengths whose test split can be shifted at will."""
    rng = np.random.default_rng(0)
    train = tuple(rng.normal(2.0, 3.0, size=(2, n)) for n in (3, 5, 4, 5))
    test = tuple(rng.normal(2.0, 3.0, size=(2, n)) + test_shift for n in (2, 6, 4))
    labels = {"train": np.array(["b", "a", "b", "a"]), "test": np.array(["a", "b", "b"])}

    def fake(name, split):
        return (train if split == "train" else test), labels[split]
    return fake


def test_test_split_never_reaches_the_standardisation(monkeypatch):
    loaded = []
    for shift in (0.0, 1000.0):
        monkeypatch.setattr(datasets, "_raw", _fake_raw(shift))
        loaded.append(datasets.load("GunPoint"))
    a, b = loaded
    assert np.array_equal(a.mean, b.mean) and np.array_equal(a.std, b.std)
    assert torch.equal(a.train.inputs, b.train.inputs)
    assert not torch.equal(a.test.inputs, b.test.inputs)
    assert a.classes == ("a", "b") and a.train.labels.tolist() == [1, 0, 1, 0]
    assert a.steps == 6 and a.test.answer_step.tolist() == [1, 5, 3]


@pytest.mark.parametrize("arch", ARCHS)
def test_padding_is_never_read_before_the_answer_step(arch):
    data = datasets.load("JapaneseVowels")  # the one with unequal lengths
    split = data.test
    model = Stacked(arch, 2, data.n_inputs, hidden=6, seeds=[1, 2])
    garbage = split.inputs.clone()
    padded = torch.arange(data.steps)[None] > split.answer_step[:, None]
    assert padded.any()
    garbage[padded] = 1e3  # anything in the padding
    rows = torch.arange(len(split))
    with torch.no_grad():
        clean = model(split.inputs).hidden[:, rows, split.answer_step]
        dirty = model(garbage).hidden[:, rows, split.answer_step]
    assert torch.equal(clean, dirty)
    # and the answer step is the last observed one: the step after it is padding (or the end)
    last = split.inputs[rows, split.answer_step]
    assert (last.abs().sum(dim=1) > 0).all()


def test_loading_needs_no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network access during irn.datasets.load")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    datasets._raw.cache_clear()
    for name in datasets.DATASETS:
        assert len(datasets.load(name).train) == FACTS[name][3]


def test_nearest_neighbour_matches_a_brute_force_reference():
    x_train, y_train = datasets.raw("ItalyPowerDemand", "train")
    x_test, y_test = datasets.raw("ItalyPowerDemand", "test")
    a, b = np.stack(x_train).reshape(len(x_train), -1), np.stack(x_test).reshape(len(x_test), -1)
    d = ((b[:, None] - a[None]) ** 2).sum(-1)
    expected = (y_train[d.argmin(axis=1)] == y_test).mean()
    assert datasets.nearest_neighbour("ItalyPowerDemand", "euclidean") == pytest.approx(expected)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="name must be one of"):
        datasets.load("Wafer")
    with pytest.raises(ValueError, match="split must be one of"):
        datasets.raw("BasicMotions", "validation")
    with pytest.raises(ValueError, match="distance must be one of"):
        datasets.nearest_neighbour("BasicMotions", "manhattan")


def test_all_is_train_then_test(data):
    both = data.split("all")
    assert len(both) == len(data.train) + len(data.test)
    assert torch.equal(both.inputs[: len(data.train)], data.train.inputs)
    assert torch.equal(both.labels[len(data.train):], data.test.labels)
    assert data.split("test") is data.test
    with pytest.raises(ValueError, match="which must be one of"):
        data.split("validation")


def test_nearest_neighbour_leaves_torch_threads_alone():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        datasets.nearest_neighbour("BasicMotions", "euclidean")
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


# aeon made unimportable, as after `pip install irn` without the data extra
_WITHOUT_AEON = textwrap.dedent("""
    import importlib.abc, sys

    class NoAeon(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] == "aeon":
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    sys.meta_path.insert(0, NoAeon())
    from irn import datasets  # importing the module needs no aeon
    for call in (lambda: datasets.load("ItalyPowerDemand"), lambda: datasets.raw("GunPoint", "test"),
                 lambda: datasets.nearest_neighbour("BasicMotions"), lambda: datasets.baselines(["GunPoint"])):
        try:
            call()
        except ModuleNotFoundError as error:
            print(type(error).__name__, error.name, "|", error)
        else:
            print("no error")
    try:
        datasets.load("Wafer")  # a bad name is still refused by name first
    except ValueError as error:
        print("ValueError |", error)
""")


def test_a_missing_aeon_names_the_extra_before_any_work():
    out = subprocess.run([sys.executable, "-c", _WITHOUT_AEON], capture_output=True, text=True, timeout=300,
                         check=True).stdout.strip().splitlines()
    assert len(out) == 5, out
    for line in out[:4]:
        assert line.startswith("ModuleNotFoundError aeon |"), line
        assert datasets.INSTALL in line and "irn[data]" in line
    assert out[4].startswith("ValueError | name must be one of")
