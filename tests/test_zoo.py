import json

import pytest
import torch

from irn import zoo
from irn.models import Stacked
from irn.train import Condition, TrainConfig

CFG = TrainConfig(replicates=2, max_epochs=300, seed=3)
COND = Condition("rnn", "memory", 1)


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    path = tmp_path_factory.mktemp("zoo")
    (t,) = zoo.load_or_train(COND, CFG, zoo=path, progress=False)
    return path, t


def _copy(stored, tmp_path):
    path, _ = stored
    for f in path.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    return tmp_path


def test_round_trip(stored):
    path, t = stored
    back = zoo.load(COND, CFG, path)
    for k, v in t.model.state_dict().items():
        assert torch.equal(v, back.model.state_dict()[k])
    assert back.epochs == t.epochs and back.seeds == t.seeds and back.restarts == t.restarts
    meta = json.loads(next(path.glob("*.json")).read_text())
    assert meta["torch_version"] == torch.__version__ and meta["condition"]["arch"] == "rnn"
    assert not list(path.glob(".*tmp*"))  # no temporary files left behind


def test_loads_instead_of_training(stored, monkeypatch):
    path, _ = stored
    monkeypatch.setattr(zoo, "train", lambda *a, **k: pytest.fail("retrained an existing entry"))
    zoo.load_or_train(COND, CFG, zoo=path, progress=False)


def test_config_change_is_not_reused(stored):
    path, _ = stored
    assert zoo.load(COND, TrainConfig(replicates=2, max_epochs=300, seed=4), path) is None
    assert zoo.load(Condition("rnn", "memory", 2), CFG, path) is None
    assert zoo.entry_key(COND, CFG) != zoo.entry_key(COND, TrainConfig(replicates=2, max_epochs=300, seed=3, lr=0.02))


@pytest.mark.parametrize("damage", ["truncate", "flip", "json"])
def test_corrupted_entry_is_detected_and_retrained(stored, tmp_path, damage):
    path = _copy(stored, tmp_path)
    weights = next(path.glob("*.safetensors"))
    sidecar = next(path.glob("*.json"))
    if damage == "truncate":
        weights.write_bytes(weights.read_bytes()[:100])
    elif damage == "flip":
        blob = bytearray(weights.read_bytes())
        blob[-5] ^= 0xFF
        weights.write_bytes(bytes(blob))
    else:
        sidecar.write_text(sidecar.read_text()[:40])
    with pytest.raises(zoo.ZooError, match="corrupted|JSON|truncated"):
        zoo.load(COND, CFG, path)
    with pytest.warns(UserWarning, match="retraining"):
        (t,) = zoo.load_or_train(COND, CFG, zoo=path, progress=False)
    assert zoo.load(COND, CFG, path) is not None
    assert t.epochs == stored[1].epochs  # retraining is deterministic


def test_nothing_is_unpickled():
    source = open(zoo.__file__).read()
    assert "pickle" not in source.replace("unpickled", "") and "torch.load" not in source


def test_smaller_run_reuses_a_larger_entry_without_training(stored, tmp_path, monkeypatch):
    """The first replicate of the stored 2-replicate entry serves a 1-replicate request: same
    weights, seeds and epochs, the source entry named, and nothing trained."""
    path = _copy(stored, tmp_path)
    _, t = stored
    small = TrainConfig(replicates=1, max_epochs=300, seed=3)
    monkeypatch.setattr(zoo, "train", lambda *a, **k: pytest.fail("load_or_train_reusing trained a network"))
    (got,) = zoo.load_or_train_reusing(COND, small, zoo=path, progress=False, larger=[2])
    assert got.config == small and got.seeds == t.seeds[:1] and got.epochs == t.epochs[:1]
    for k, v in got.model.state_dict().items():
        assert torch.equal(v, t.model.state_dict()[k][:1])
    assert got.meta["subset_of"] == zoo.entry_key(COND, CFG)
    with pytest.raises(ValueError, match="^larger "):
        zoo.load_or_train_reusing(COND, small, zoo=path, larger=20)


def test_cached_builds_once_then_loads_the_same_model(tmp_path):
    calls = []

    def build():
        calls.append(1)
        model = Stacked("lstm", 2, 4, 5, n_outputs=7, layers=2, readout="linear", seeds=[3, 4])
        return model, {"note": "built", "epochs": [1, 2]}

    spec = {"data": "toy", "hidden": 5, "layers": 2}
    first, meta = zoo.cached("toy-lstm", spec, build, zoo=tmp_path)
    again, meta2 = zoo.cached("toy-lstm", spec, build, zoo=tmp_path)
    assert calls == [1] and meta2 == meta == {"note": "built", "epochs": [1, 2]}
    assert again.signature() == first.signature() and again.replicates == 2
    for name, p in first.named_parameters():
        assert torch.equal(p, getattr(again, name))
    zoo.cached("toy-lstm", {**spec, "hidden": 6}, build, zoo=tmp_path)  # another spec, another entry
    assert calls == [1, 1]


def test_cached_rebuilds_a_corrupted_entry_and_refuses_bad_arguments(tmp_path):
    build = lambda: (Stacked("rnn", 1, 2, 3), {})  # noqa: E731
    zoo.cached("toy", {"a": 1}, build, zoo=tmp_path)
    weights = tmp_path / f"{zoo.cached_key('toy', {'a': 1})}.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10])
    with pytest.warns(UserWarning, match="SHA-256"):
        zoo.cached("toy", {"a": 1}, build, zoo=tmp_path)
    with pytest.raises(ValueError, match="name"):
        zoo.cached("Bad Name", {}, build, zoo=tmp_path)
    with pytest.raises(ValueError, match="JSON-able"):
        zoo.cached("toy", {"a": object()}, build, zoo=tmp_path)
    with pytest.raises(ValueError, match="build"):
        zoo.cached("toy", {}, 3, zoo=tmp_path)
