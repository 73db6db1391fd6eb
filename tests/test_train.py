"""rnnlib.train: records every step, applies gradient transforms, detects divergence without raising."""
import math

import numpy as np
import pytest
import torch

from rnnlib.models.elman import ElmanRNN
from rnnlib.tasks import LagTask
from rnnlib.train import evaluate, grad_norm, train


def test_learns_a_short_lag_and_records_every_step():
    torch.manual_seed(0)
    model = ElmanRNN(1, 16, 1, seed=0)
    res = train(model, LagTask(lag=1), steps=400, lr=0.01, optimizer="adam", batch_size=32,
                eval_every=50, eval_size=500, seed=0, progress=False, device=torch.device("cpu"))
    assert res.status == "solved", res.summary()
    assert res.solved_at == res.steps and res.steps % 50 == 0
    assert len(res.losses) == len(res.grad_norms) == res.steps
    assert res.final_error < 0.01
    assert res.losses[-1] < res.losses[0]
    assert evaluate(model, LagTask(lag=1), size=500) < 0.02


def test_divergence_is_a_result_with_the_step():
    # a linear RNN whose W_hh has spectral radius > 1: the first gradient is huge, the step after is not finite
    model = ElmanRNN(1, 8, 1, activation="linear", init_scale=0.35, seed=0)
    res = train(model, LagTask(lag=30), steps=200, lr=1.0, optimizer="sgd", progress=False,
                device=torch.device("cpu"))
    assert res.status == "diverged"
    assert res.diverged_at is not None and res.diverged_at == res.steps > 1
    assert math.isfinite(res.grad_norms[0]) and res.grad_norms[0] > 1e3
    assert not (math.isfinite(res.losses[-1]) and math.isfinite(res.grad_norms[-1]))
    assert "diverged at step" in res.summary()


def test_grad_transform_and_before_step_are_called_in_order():
    calls = []
    model = ElmanRNN(1, 4, 1, seed=1)

    def before(model, u, target, y, h):
        assert h.grad is not None and h.grad.shape == h.shape  # dE/dh_t is available
        calls.append("before")

    def transform(model):
        calls.append(("transform", grad_norm(model)))
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1e-3)

    res = train(model, LagTask(lag=1), steps=3, lr=0.1, before_step=before, grad_transform=transform,
                progress=False, device=torch.device("cpu"))
    assert calls[0] == "before" and calls[1][0] == "transform"
    assert len(calls) == 6
    # the recorded norm is the one before the transform
    assert res.grad_norms[0] == pytest.approx(calls[1][1])


def test_nan_guard_replaces_stopping():
    model = ElmanRNN(1, 4, 1, seed=2)
    seen = []

    def poison(model):
        model.W_hh.grad.fill_(float("nan"))

    def guard(model):
        seen.append(True)
        for p in model.parameters():
            p.grad = torch.zeros_like(p)

    res = train(model, LagTask(lag=1), steps=5, lr=0.1, before_step=lambda *a: poison(a[0]),
                nan_guard=guard, progress=False, device=torch.device("cpu"))
    assert res.status != "diverged" and len(seen) == 5
    assert all(torch.isfinite(p).all() for p in model.parameters())


@pytest.mark.parametrize("kw, name", [({"steps": 0}, "steps"), ({"lr": -1}, "lr"),
                                      ({"optimizer": "rmsprop"}, "optimizer"), ({"batch_size": 0}, "batch_size"),
                                      ({"solve_threshold": 2}, "solve_threshold"), ({"momentum": 1.0}, "momentum")])
def test_bad_arguments(kw, name):
    args = dict(steps=10, lr=0.1, progress=False)
    args.update(kw)
    with pytest.raises(ValueError, match=name):
        train(ElmanRNN(1, 2, 1), LagTask(lag=1), **args)


class _FixedErrorTask:
    """A stand-in task whose error on fresh sequences is always ``err``."""
    n_in, n_out, readout = 1, 1, "last"

    def __init__(self, err):
        self.err = err

    def sample(self, batch_size, generator=None):
        return torch.zeros(3, batch_size, 1), torch.zeros(batch_size, 1)

    def loss(self, y, target):
        return ((y - target) ** 2).mean()

    def error(self, y, target):
        return self.err


@pytest.mark.parametrize("err, solved", [(0.01, True), (0.0099, True), (0.0101, False)])
def test_solved_means_at_most_the_threshold(err, solved):
    res = train(ElmanRNN(1, 2, 1, seed=0), _FixedErrorTask(err), steps=2, eval_every=1, progress=False,
                device=torch.device("cpu"))
    assert (res.status == "solved") == solved and (res.solved_at == 1) == solved


def test_task_errors_are_exact_fractions():
    # 5 wrong answers out of 500 must be exactly 1 %, not the float32 value just below it
    task = LagTask(lag=1)
    target = torch.zeros(500, 1)
    y = -torch.ones(500, 1)
    y[:5] = 1.0                                   # five sequences answered 1 instead of 0
    assert task.error(y, target) == 0.01
