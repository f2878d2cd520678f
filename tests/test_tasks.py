import numpy as np
import pytest
import torch

from irn import tasks


@pytest.mark.parametrize("task", tasks.TASKS)
def test_patterns_cover_every_concept_combination(task):
    pat = tasks.patterns(task)
    assert set(pat.state.tolist()) == set(range(8))
    assert pat.inputs.shape[1] == tasks.INPUT_STEPS
    assert set(np.unique(pat.targets)) == {-1.0, 1.0}


def test_memory_signs_appear_at_time_points_4_7_10():
    pat = tasks.patterns("memory")
    for k, step in enumerate(tasks.MEMORY_STEPS):
        assert np.array_equal(pat.inputs[:, step, k], pat.targets[:, k])
    mask = np.ones_like(pat.inputs, dtype=bool)
    for k, step in enumerate(tasks.MEMORY_STEPS):
        mask[:, step, k] = False
    assert np.all(pat.inputs[mask] == 0)


def test_block_lights_only_the_pixels_it_covers():
    for size in (tasks.SMALL, tasks.LARGE):
        for start in tasks.BLOCK_STARTS:
            frames = tasks.block_frame(size, right=True, bright=True, start=start)
            for t, row in enumerate(frames):
                covered = [p for p in range(tasks.CAMERA_WIDTH) if start + t <= p < start + t + size]
                assert np.flatnonzero(row).tolist() == covered


def test_block_concepts_are_visible_in_the_pixels():
    pat = tasks.patterns("block")
    size, direction, bright = pat.targets.T
    brightest = pat.inputs.max(axis=(1, 2))
    assert np.all((brightest == tasks.BRIGHT) == (bright > 0))
    widest = (pat.inputs > 0).sum(axis=2).max(axis=1)
    assert np.all((widest == tasks.LARGE) == (size > 0))
    centre = [(np.argwhere(x > 0)[:, 1].mean(), np.argwhere(x > 0)[:, 0].mean()) for x in pat.inputs]
    # the block's centre of mass moves right over time iff direction = +1
    slope = [np.polyfit(np.argwhere(x > 0)[:, 0], np.argwhere(x > 0)[:, 1], 1)[0] for x in pat.inputs]
    assert np.all((np.array(slope) > 0) == (direction > 0))
    assert len(centre) == len(pat.targets)


@pytest.mark.parametrize("task", tasks.TASKS)
def test_sample_delays_and_padding(task):
    b = tasks.sample(task, 500, delay="random", seed=3)
    assert set(b.delay.tolist()) == set(tasks.TRAIN_DELAYS)
    assert b.inputs.shape[1] == tasks.INPUT_STEPS + 5
    assert torch.all(b.inputs[:, tasks.INPUT_STEPS:] == 0)
    fixed = tasks.sample(task, 10, delay=7, seed=3)
    assert fixed.inputs.shape[1] == tasks.INPUT_STEPS + 7
    assert torch.all(fixed.answer_step == tasks.INPUT_STEPS + 6)


def test_sample_is_seeded_and_noise_is_added():
    a = tasks.sample("memory", 64, delay=2, seed=1)
    b = tasks.sample("memory", 64, delay=2, seed=1)
    c = tasks.sample("memory", 64, delay=2, seed=2)
    assert torch.equal(a.inputs, b.inputs) and not torch.equal(a.targets, c.targets)
    noisy = tasks.sample("memory", 64, delay=2, seed=1, noise=0.5)
    assert torch.equal(noisy.targets, a.targets)
    assert 0.3 < (noisy.inputs - a.inputs).std() < 0.7


def test_distinct_lists_every_sequence_once():
    b = tasks.distinct("memory", "random")
    assert len(b) == 8 * 5
    assert len({(tuple(x.flatten().tolist()), int(d)) for x, d in zip(b.inputs, b.delay)}) == 40


@pytest.mark.parametrize("kwargs, word", [
    ({"task": "maze"}, "task"),
    ({"task": "memory", "delay": 10}, "delay"),
    ({"task": "memory", "delay": -1}, "delay"),
    ({"task": "memory", "delay": "sometimes"}, "delay"),
    ({"task": "memory", "delay": 2.5}, "delay"),
    ({"task": "memory", "noise": -0.1}, "noise"),
    ({"task": "memory", "noise": float("nan")}, "noise"),
    ({"task": "memory", "n": 0}, "n"),
    ({"task": "memory", "steps": 3}, "steps"),
])
def test_bad_parameters_raise_one_clear_error(kwargs, word):
    kwargs = {"n": 4, **kwargs}
    with pytest.raises(ValueError, match=word):
        tasks.sample(**kwargs)


def test_flipflop_targets_hold_the_last_pulse():
    b = tasks.sample("flipflop", 300, delay="random", seed=4)
    x = b.inputs[:, :tasks.INPUT_STEPS].numpy()
    assert set(np.unique(x)) <= {-1.0, 0.0, 1.0} and (x != 0).any(axis=1).all()  # every channel pulses
    for i in range(len(b)):
        for k in range(3):
            last = x[i, np.flatnonzero(x[i, :, k])[-1], k]
            assert b.targets[i, k] == last
    assert torch.all(b.inputs[:, tasks.INPUT_STEPS:] == 0)
    assert set(b.state.tolist()) == set(range(8))


def test_flipflop_stream_targets_are_zero_before_the_first_pulse():
    s = tasks.flipflop_stream(20, 60, seed=1)
    x, y = s.inputs.numpy(), s.targets.numpy()
    for i in range(20):
        for k in range(3):
            pulses = np.flatnonzero(x[i, :, k])
            first = pulses[0] if len(pulses) else 60
            assert np.all(y[i, :first, k] == 0) and np.all(y[i, first:, k] != 0)
            for t in pulses:
                assert y[i, t, k] == x[i, t, k]


def test_flipflop_is_not_a_paper_task():
    assert "flipflop" not in tasks.TASKS and "flipflop" in tasks.ALL_TASKS
    with pytest.raises(ValueError, match="distinct"):
        tasks.patterns("flipflop")
    with pytest.raises(ValueError, match="rate"):
        tasks.flipflop_stream(3, 10, rate=0.0)
