"""Sweeps on executors, the zoo under concurrent writers, resume after a kill (DESIGN §14)."""

import functools
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import torch

from irn import parallel, sweep, zoo
from irn.train import Condition, TrainConfig

CFG = TrainConfig(replicates=2, max_epochs=300, seed=1)
COND = Condition("rnn", "memory", 1)


# -- the sweep: in-process and on a dask LocalCluster give the same frame -------------------------
def test_sweep_in_process_equals_local_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    units = sweep.grid(archs=("rnn",), task_names=("memory",), delays=(2,), hidden=(6,), replicates=3, block=2)
    assert [(u.hidden, u.block, u.replicates) for u in units] == [(6, 0, 2), (6, 1, 1)]
    analyse = functools.partial(sweep.relay_summary, samples=300)
    here = sweep.run(units, CFG, analyse=analyse, zoo_dir=tmp_path / "zoo_a", progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        there = sweep.run(units, CFG, analyse=analyse, executor=client, zoo_dir=tmp_path / "zoo_b",
                          progress=False)
    pd.testing.assert_frame_equal(here.frame, there.frame)
    assert len(here.frame) == 3 * 3 and set(here.frame.block) == {0, 1}
    assert (here.frame.patterns <= here.frame.samples).all()


def _thread_count(_):
    return torch.get_num_threads()


def test_workers_run_with_one_torch_thread():
    with parallel.process_pool(2) as pool:
        assert parallel.run_units([(0,), (1,)], _thread_count, executor=pool, progress=False) == [1, 1]


def test_run_units_rejects_a_bad_executor():
    with pytest.raises(ValueError, match="executor"):
        parallel.run_units([(1,)], abs, executor="dask")


def test_grid_rejects_bad_input():
    with pytest.raises(ValueError, match="hidden"):
        sweep.grid(hidden=(0,))
    with pytest.raises(ValueError, match="block"):
        sweep.grid(replicates=4, block=0)


# -- resume after a kill ---------------------------------------------------------------------------
SCRIPT = """
import json, os, sys, time
from irn import sweep
from irn.train import TrainConfig

def analyse(trained):
    if trained.model.hidden == 10 and os.environ.get("HANG"):
        time.sleep(600)  # killed here
    return sweep.relay_summary(trained, samples=200)

units = sweep.grid(archs=("rnn",), task_names=("memory",), delays=(2,), hidden=(6, 8, 10), replicates=2)
result = sweep.run(units, TrainConfig(replicates=2, max_epochs=300, seed=1), analyse=analyse,
                   store=sys.argv[1], zoo_dir=sys.argv[2], progress=False)
print(json.dumps({"computed": [u.hidden for u in result.computed],
                  "loaded": [u.hidden for u in result.loaded], "rows": len(result.frame)}))
"""


def test_killed_sweep_resumes_with_only_unfinished_units(tmp_path):
    script = tmp_path / "run_sweep.py"
    script.write_text(SCRIPT)
    store, zoo_dir = tmp_path / "store", tmp_path / "zoo"
    worker = subprocess.Popen([sys.executable, str(script), str(store), str(zoo_dir)],
                              env={**os.environ, "HANG": "1"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while len(list(store.glob("*.json"))) < 2 and worker.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert worker.poll() is None, worker.stderr.read().decode()
    assert len(list(store.glob("*.json"))) == 2
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    done = subprocess.run([sys.executable, str(script), str(store), str(zoo_dir)], capture_output=True,
                          text=True, check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["computed"] == [10] and sorted(report["loaded"]) == [6, 8]
    assert report["rows"] == 3 * 2 * 3


# -- the zoo with concurrent writers and readers ---------------------------------------------------
def _load_or_train_in_child(path):
    torch.set_num_threads(1)
    (t,) = zoo.load_or_train(COND, CFG, zoo=path, progress=False)
    return {k: v.numpy().tolist() for k, v in t.model.state_dict().items()}


def test_two_processes_training_the_same_entry(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        a, b = pool.map(_load_or_train_in_child, [tmp_path, tmp_path])
    assert a == b
    assert zoo.load(COND, CFG, tmp_path) is not None
    assert not list(tmp_path.glob(".*tmp*"))
    assert len(list(tmp_path.glob("*.safetensors"))) == 1


def _rewrite_many_times(path, rounds):
    (t,) = zoo.load_or_train(COND, CFG, zoo=path, progress=False)
    original = {k: v.clone() for k, v in t.model.state_dict().items()}
    for i in range(rounds):  # alternate two different weight sets under one entry name
        with torch.no_grad():
            for k, p in t.model.named_parameters():
                p.copy_(original[k] + (i % 2))
        t.epochs = [i, i]
        zoo.save(t, path)


def test_reader_during_writes_never_sees_a_mixed_entry(tmp_path):
    zoo.load_or_train(COND, CFG, zoo=tmp_path, progress=False)
    ctx = multiprocessing.get_context("spawn")
    writer = ctx.Process(target=_rewrite_many_times, args=(tmp_path, 150))
    writer.start()
    reads = 0
    while writer.is_alive() or reads == 0:
        t = zoo.load(COND, CFG, tmp_path)  # raises ZooError on a weights/sidecar mismatch
        assert t is not None
        reads += 1
    writer.join()
    assert writer.exitcode == 0 and reads > 1


def test_load_or_train_stores_each_group_as_it_finishes(tmp_path, monkeypatch):
    conditions = [Condition("rnn", "memory", 1), Condition("gru", "memory", 1)]
    real_train = zoo.train

    def train_then_die(group, config, progress=True):
        if group[0].arch == "gru":
            raise KeyboardInterrupt  # the run is killed while training the second group
        return real_train(group, config, progress=progress)

    monkeypatch.setattr(zoo, "train", train_then_die)
    with pytest.raises(KeyboardInterrupt):
        zoo.load_or_train(conditions, CFG, zoo=tmp_path, progress=False)
    assert zoo.load(conditions[0], CFG, tmp_path) is not None
    assert zoo.load(conditions[1], CFG, tmp_path) is None


def test_load_or_train_with_two_workers_matches_one_process(tmp_path):
    conditions = [Condition("rnn", "memory", 1), Condition("rnn", "block", 1)]
    serial = zoo.load_or_train(conditions, CFG, zoo=tmp_path / "a", progress=False)
    pooled = zoo.load_or_train(conditions, CFG, zoo=tmp_path / "b", progress=False, workers=2)
    for s, p in zip(serial, pooled):
        assert s.epochs == p.epochs
        for k, v in s.model.state_dict().items():
            torch.testing.assert_close(v, p.model.state_dict()[k], rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="workers"):
        zoo.load_or_train(conditions, CFG, zoo=tmp_path / "a", workers=0)
