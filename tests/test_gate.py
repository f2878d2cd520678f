"""One gate: the bad calls a probe of the public API found getting through (issue 19) now get one
clear ValueError naming the parameter, before any work, file or folder."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from irn import analysis, parallel, params, sweep, tasks, train, zoo
from irn.models import Stacked


@pytest.fixture
def model():
    return Stacked("rnn", 2, 3, 4)


@pytest.fixture
def batch():
    return tasks.sample("memory", 8, delay=2, seed=0)


def _nan(batch):
    x = batch.inputs.clone()
    x[0, 0, 0] = float("nan")
    return x


def test_nan_inputs_are_refused_before_training_or_recording(model, batch):
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match="^inputs must hold finite numbers"):
        train.fit(model, _nan(batch), batch.targets, answer_step=batch.answer_step, epochs=2, progress=False)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    for call in (analysis.probe, analysis.record_model):
        with pytest.raises(ValueError, match="^inputs must hold finite numbers"):
            call(model, _nan(batch), batch.targets, answer_step=batch.answer_step)
    inf = batch.inputs.clone()
    inf[1, 2, 0] = float("inf")
    with pytest.raises(ValueError, match="^inputs must hold finite"):
        analysis.probe(model, inf, batch.targets, answer_step=batch.answer_step)


def test_fractional_answer_step_is_refused_not_truncated(model, batch):
    with pytest.raises(ValueError, match="^answer_step must hold integer values"):
        analysis.probe(model, batch.inputs, batch.targets, answer_step=2.5)
    with pytest.raises(ValueError, match="^answer_step must hold integer values"):
        train.fit(model, batch.inputs, batch.targets, answer_step=np.full(8, 6.5), epochs=1, progress=False)
    exact = analysis.probe(model, batch.inputs, batch.targets, answer_step=6.0)  # 6.0 is step 6
    assert (exact.answer_step == 6).all()


def test_seeds_and_rules():
    with pytest.raises(ValueError, match="^seed must be an integer >= 0, got -1"):
        tasks.sample("memory", 4, seed=-1)
    with pytest.raises(ValueError, match="^seed must be"):
        tasks.flipflop_stream(2, seed=-3)
    with pytest.raises(ValueError, match="would allow nothing"):
        params.number(1, 0)
    with pytest.raises(ValueError, match="would allow nothing"):
        params.number(1, 1, closed=False)
    assert params.index(5).ok(2.0) and not params.index(5).ok(2.5) and not params.index(5).ok(True)
    assert params.one_of(("rnn",)).ok(np.str_("rnn")) and not params.one_of((1,)).ok(True)
    assert params.one_of((2,)).ok(np.int64(2)) and not params.one_of(("2",)).ok(2)


def test_work_units_and_grids(tmp_path):
    with pytest.raises(ValueError, match="^units must be a list or tuple, each a tuple"):
        parallel.run_units([1, 2], print)
    ran = []
    with pytest.raises(ValueError, match="^on_result must be None or a callable"):
        parallel.run_units([(1,), (2,)], ran.append, on_result=5)
    assert ran == []  # refused before the first unit ran
    with pytest.raises(ValueError, match="^executor must be"):
        parallel.run_units([(1,)], print, executor=5)
    with pytest.raises(ValueError, match="^hidden must be a list or tuple"):
        sweep.grid(hidden=4)
    with pytest.raises(ValueError, match="^archs must be"):
        sweep.grid(archs="rnn")


def test_sweep_and_zoo_paths_are_checked_before_work(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    units = sweep.grid(archs=("rnn",), task_names=("memory",), hidden=[4], replicates=1)
    config = train.TrainConfig(replicates=1, max_epochs=1)
    for store in (a_file, a_file / "below"):
        with pytest.raises(ValueError, match="^store must be None or a folder path"):
            sweep.run(units, config, store=str(store), zoo_dir=str(tmp_path / "zoo"), progress=False)
    with pytest.raises(ValueError, match="^executor must be"):
        sweep.run(units, config, executor=5, store=str(tmp_path / "store"), zoo_dir=str(tmp_path / "zoo"))
    with pytest.raises(ValueError, match="^analyse must be"):
        sweep.run(units, config, analyse=3, store=str(tmp_path / "store"), zoo_dir=str(tmp_path / "zoo"))
    with pytest.raises(ValueError, match="^zoo_dir must be"):
        sweep.run(units, config, store=str(tmp_path / "store"), zoo_dir=str(a_file))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]  # no store, no zoo created
    condition = train.Condition("rnn", "memory", 2)
    with pytest.raises(ValueError, match="^zoo must be None or a folder path"):
        zoo.load_or_train([condition], config, zoo=str(a_file), progress=False)
    with pytest.raises(ValueError, match="^zoo must be"):
        zoo.cached("toy", {"a": 1}, lambda: None, zoo=str(a_file / "z"))


def test_cached_build_of_the_wrong_type_leaves_nothing_behind(tmp_path):
    with pytest.raises(ValueError, match=r"^build must return \(irn.models.Stacked, dict\), got int"):
        zoo.cached("toy", {"a": 1}, lambda: 3, zoo=str(tmp_path / "zoo"))
    assert list((tmp_path / "zoo").iterdir()) == []
    with pytest.raises(ValueError, match="^build must be a callable"):
        zoo.cached("toy", {"a": 1}, 3, zoo=str(tmp_path / "zoo2"))
    assert not (tmp_path / "zoo2").exists()
    good = zoo.cached("toy", {"a": 1}, lambda: (Stacked("rnn", 1, 3, 4), {"epochs": 1}), zoo=str(tmp_path / "zoo"))
    assert isinstance(good[0], Stacked) and pd.Series([p.suffix for p in (tmp_path / "zoo").iterdir()]).isin(
        [".json", ".safetensors", ".lock"]).all()
