"""The lag sweep (chapter 3): the batched model equals its members, and re-running points reproduces book/data/lag.json."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnlib import experiments, lag_sweep
from rnnlib.rnn import ElmanRNN
from rnnlib.tasks import LagTask


def test_registered():
    assert experiments.SWEEPS["lag"] == "rnnlib.lag_sweep:run"
    assert experiments.resolve("lag") is lag_sweep.run


def test_batched_model_equals_separate_models_and_gradients_stay_separate():
    seeds = [0, 3, 5]
    model = lag_sweep.SeedBatchedElman(seeds, 8, dtype=torch.float64)
    task = LagTask(4)
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    u, y = lag_sweep._sample(task, gens, 6)
    logits = model(u.double())
    loss = F.binary_cross_entropy_with_logits(logits, y.double(), reduction="none").mean((1, 2)).sum()
    loss.backward()
    for i, s in enumerate(seeds):
        ref = ElmanRNN(1, 8, 1, seed=s, dtype=torch.float64)    # the same initialisation as the sweep's member
        out, _ = ref(u[:, i].double())
        torch.testing.assert_close(logits[i], out, rtol=1e-12, atol=1e-12)
        F.binary_cross_entropy_with_logits(out, y[i].double()).backward()
        for name, p in ref.named_parameters():
            torch.testing.assert_close(getattr(model, name).grad[i], p.grad, rtol=1e-10, atol=1e-12)


def _compare(point, shipped):
    assert point["lag"] == shipped["lag"]
    assert point["success_rate"] == shipped["success_rate"]
    assert point["cause_gradient_init"] == pytest.approx(shipped["cause_gradient_init"], rel=1e-6)
    for mine, theirs in zip(point["runs"], shipped["runs"]):
        assert mine["seed"] == theirs["seed"] and mine["status"] == theirs["status"]
        assert mine["solved_at"] == theirs["solved_at"]
        assert mine["final_error"] == pytest.approx(theirs["final_error"], abs=0.02)


def _shipped(lag):
    data = experiments.load("lag")
    assert data["settings"] == lag_sweep.SETTINGS, "the shipped file was made with other settings: regenerate it"
    return next(p for p in data["points"] if p["lag"] == lag), data["grid"]["seeds"]


def test_shipped_file_shape():
    data = experiments.load("lag")
    lags = [p["lag"] for p in data["points"]]
    assert lags == data["grid"]["lags"] == lag_sweep.GRID["lags"]
    rates = np.array([p["success_rate"] for p in data["points"]])
    assert rates[0] == 1.0 and rates[-1] == 0.0                 # short lags learnt, long lags not


def test_rerun_short_lag_matches_shipped_file():
    shipped, seeds = _shipped(2)
    _compare(lag_sweep.run_point(lag=2, seeds=seeds, device=torch.device("cpu")), shipped)


@pytest.mark.slow
def test_rerun_boundary_lag_matches_shipped_file():
    shipped, seeds = _shipped(14)
    _compare(lag_sweep.run_point(lag=14, seeds=seeds, device=torch.device("cpu")), shipped)


def test_bad_inputs():
    with pytest.raises(ValueError, match="lag"):
        lag_sweep.run_point(lag=0)
    with pytest.raises(ValueError, match="seeds"):
        lag_sweep.SeedBatchedElman([])
    with pytest.raises(ValueError, match="u"):
        lag_sweep.SeedBatchedElman([0, 1], 4)(torch.zeros(3, 1, 2, 1))
