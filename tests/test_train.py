import numpy as np
import pytest
import torch

from irn import tasks
from irn.models import Stacked
from irn.train import Condition, StackedAdam, TrainConfig, evaluate, train

TINY = TrainConfig(replicates=3, max_epochs=400, seed=1)


def test_tiny_run_reaches_criterion_and_snapshot_is_the_criterion_network():
    (t,) = train(Condition("gru", "memory", 2), TINY, progress=False)
    assert all(a >= 0.98 for a in t.accuracy)
    acc = evaluate(t.model, "memory", delays=[2])
    assert np.allclose(acc.accuracy, t.accuracy)  # the stored weights are the ones that qualified
    assert all(e < TINY.max_epochs for e in t.epochs)


def test_same_seed_gives_identical_weights():
    cfg = TrainConfig(replicates=2, max_epochs=300, seed=5)
    (a,) = train(Condition("rnn", "memory", 3), cfg, progress=False)
    (b,) = train(Condition("rnn", "memory", 3), cfg, progress=False)
    for k, v in a.model.state_dict().items():
        assert torch.equal(v, b.model.state_dict()[k]), k
    (c,) = train(Condition("rnn", "memory", 3), TrainConfig(replicates=2, max_epochs=300, seed=6), progress=False)
    assert not torch.equal(a.model.weight_hh, c.model.weight_hh)


def test_replicates_do_not_depend_on_what_is_stacked_alongside():
    # same seeds and batches; only float rounding of the larger stacked matmuls may differ
    cfg = TrainConfig(replicates=2, max_epochs=300, seed=5)
    (a,) = train(Condition("rnn", "memory", 3), cfg, progress=False)
    b = train([Condition("rnn", "memory", 1), Condition("rnn", "memory", 3)], cfg, progress=False)[1]
    assert a.epochs == b.epochs and a.seeds == b.seeds
    for k, v in a.model.state_dict().items():
        torch.testing.assert_close(v, b.model.state_dict()[k], atol=1e-4, rtol=0)


def test_failed_replicates_are_restarted_with_new_seeds():
    # 20 epochs are too few for some initialisations (median ≈ 20): those must be restarted
    cfg = TrainConfig(replicates=6, max_epochs=20, seed=0)
    (t,) = train(Condition("rnn", "memory", 1), cfg, progress=False)
    assert sum(t.restarts) > 0
    assert all(a >= 0.98 for a in t.accuracy) and all(e <= 20 for e in t.epochs)
    assert len(set(t.seeds)) == 6


def test_gives_up_with_a_clear_error_after_max_restarts():
    cfg = TrainConfig(replicates=1, max_epochs=1, criterion=1.0, max_restarts=2)
    with pytest.raises(RuntimeError, match="restarts"):
        train(Condition("rnn", "block", 5), cfg, progress=False)


def test_noisy_training_runs_on_sampled_batches():
    cfg = TrainConfig(replicates=2, max_epochs=300, noise=0.05, batch=64, seed=2)
    (t,) = train(Condition("lstm", "memory", 1), cfg, progress=False)
    assert evaluate(t.model, "memory", delays=[1]).accuracy.min() > 0.9


def test_weighted_distinct_batch_gives_the_gradient_of_the_full_batch():
    model = Stacked("gru", 1, 3, seeds=[0])
    full = tasks.sample("memory", 512, delay="random", seed=0)
    combos = tasks.distinct("memory", "random")
    key = lambda x, d: (tuple(x[:tasks.INPUT_STEPS].flatten().tolist()), int(d))
    index = {key(x, d): i for i, (x, d) in enumerate(zip(combos.inputs, combos.delay))}
    counts = torch.zeros(len(combos))
    for x, d in zip(full.inputs, full.delay):
        counts[index[key(x, d)]] += 1

    def grad(batch, weight):
        model.zero_grad()
        out = model(batch.inputs).output[0, torch.arange(len(batch)), batch.answer_step]
        (((out - batch.targets) ** 2).mean(-1) * weight).sum().div(512).backward()
        return model.weight_hh.grad.clone()

    torch.testing.assert_close(grad(full, torch.ones(512)), grad(combos, counts), atol=1e-6, rtol=1e-4)


def test_stacked_adam_equals_torch_adam():
    a = torch.nn.Parameter(torch.randn(3, 4))
    b = torch.nn.Parameter(a.detach().clone())
    mine, ref = StackedAdam([a], lr=0.01), torch.optim.Adam([b], lr=0.01)
    for _ in range(5):
        for p, opt in ((a, mine), (b, ref)):
            opt.zero_grad()
            (p ** 3).sum().backward()
            opt.step()
    torch.testing.assert_close(a, b)


@pytest.mark.parametrize("kwargs, word", [
    ({"replicates": 0}, "replicates"), ({"lr": -1.0}, "lr"), ({"criterion": 1.5}, "criterion"),
    ({"noise": -1.0}, "noise"), ({"max_epochs": 0}, "max_epochs"), ({"seed": -3}, "seed"),
])
def test_bad_config(kwargs, word):
    with pytest.raises(ValueError, match=word):
        TrainConfig(**kwargs)


def test_bad_condition():
    with pytest.raises(ValueError, match="arch"):
        Condition("cnn", "memory", 1)
    with pytest.raises(ValueError, match="delay"):
        Condition("rnn", "memory", 0)
    with pytest.raises(ValueError, match="delay"):
        evaluate(Stacked("rnn", 1, 3), "memory", delays=[12])


def test_generalisation_scores_only_delays_no_network_trained_on():
    """A hand-made accuracy table: random-delay replicates are perfect on 1…5 and at chance elsewhere,
    fixed-delay ones the reverse. Over all delays random wins; over unseen delays (0, 6…9) it loses."""
    import pandas as pd

    from irn import tasks
    from irn.train import generalisation

    rows = []
    for regime in ("random", "1", "3"):
        for replicate in range(6):
            for d in tasks.EVAL_DELAYS:
                seen = 1 <= d <= 5
                value = (1.0 if seen else 0.5) if regime == "random" else (0.5 if seen else 0.6)
                rows.append(("rnn", "memory", regime, replicate, d, value + 0.001 * replicate))
    accuracy = pd.DataFrame(rows, columns=["arch", "task", "delay", "replicate", "eval_delay", "accuracy"])
    unseen, everything = generalisation(accuracy), generalisation(accuracy, delays="all")
    assert unseen.eval_delays[0] == "0, 6, 7, 8, 9"
    assert abs(unseen.difference[0] - (0.5 - 0.6)) < 1e-9 and everything.difference[0] > 0
    with pytest.raises(ValueError, match="^delays "):
        generalisation(accuracy, delays="seen")
