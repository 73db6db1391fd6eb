"""The lag sweep (chapter 3): the batched model equals its members; re-run points reproduce rnnlib/data/lag.json.

The shipped file was computed on one machine; the re-runs must agree with it on any. Two kinds of comparison:

* The gradient that reaches the cause at initialisation is deterministic but not bit-for-bit portable. It is computed
  in float64, from the float32 initial weights that ``torch.randn`` draws, and randn's CPU kernel depends on the
  SIMD level: under ``ATEN_CPU_CAPABILITY=default`` some weights come out one float32 ulp away from the ``avx2``
  draws. The backward pass through T = lag + 5 steps amplifies that roughly in proportion to T. Measured against
  the shipped file (2 CPU cores, avx2, no avx512): default kernels 6e-8 (lag 2) to 4.2e-6 (lag 40) relative, at
  most 9.3e-8 per step of T; MKL_CBWR=COMPATIBLE (another BLAS code path) at most 1.8e-15; two threads 0;
  another machine differed in the 16th digit. ``cause_rtol`` allows 1e-6 per step, ten times the worst.
* Training outcomes follow the float32 training trajectory, which those last-bit differences move, so they are
  compared where they do not depend on it, or with the slack the measurements call for. Measured in eight to ten
  variants per lag (avx2 and default kernels, one and two threads, MKL_CBWR=COMPATIBLE, and every initial weight
  moved by one float32 ulp, four to six different draws): every seed solves at lag 2 (8 variants) and lag 12 (10).
  Around the boundary the success rate is a draw: at lag 14 the shipped 3 of 5 became 4, 3, 2, 1 and even 0 of 5
  (8 variants; another machine got 2); at lag 16 (shipped: none) up to 2 seeds solved (10); at lag 20 (none) one
  variant of 8 had one late solver. So the tests re-run lags 2 and 12 (all seeds solve: compared exactly) and lag 20
  (at most one seed solves), not lag 14.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnlib.sweeps import results as experiments, lag_sweep
from rnnlib.models.elman import ElmanRNN
from rnnlib.models.ensemble import ElmanEnsemble
from rnnlib.tasks import LagTask


def test_registered():
    assert experiments.SWEEPS["lag"] == "rnnlib.sweeps.lag_sweep:run"
    assert experiments.resolve("lag") is lag_sweep.run


def test_batched_model_equals_separate_models_and_gradients_stay_separate():
    seeds = [0, 3, 5]
    model = ElmanEnsemble.from_seeds(seeds, 1, 8, 1, dtype=torch.float64).requires_grad_()
    task = LagTask(4)
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    u, y = lag_sweep._sample(task, gens, 6)
    logits, _ = model.forward(u.double())
    loss = F.binary_cross_entropy_with_logits(logits, y.double(), reduction="none").mean((1, 2)).sum()
    loss.backward()
    for i, s in enumerate(seeds):
        ref = ElmanRNN(1, 8, 1, seed=s, dtype=torch.float64)    # the same initialisation as the sweep's member
        out, _ = ref(u[:, i].double())
        torch.testing.assert_close(logits[i], out, rtol=1e-12, atol=1e-12)
        F.binary_cross_entropy_with_logits(out, y[i].double()).backward()
        for name, p in ref.named_parameters():
            torch.testing.assert_close(model.p[name].grad[i], p.grad, rtol=1e-10, atol=1e-12)


def cause_rtol(lag: int) -> float:
    """Relative tolerance of the cause gradient at ``lag``: 1e-6 per step of the sequence (see the module docstring)."""
    return 1e-6 * LagTask(lag).length


def _shipped(lag):
    data = experiments.load("lag")
    assert data["settings"] == lag_sweep.SETTINGS, "the shipped file was made with other settings: regenerate it"
    assert data["grid"] == lag_sweep.GRID
    return next(p for p in data["points"] if p["lag"] == lag), data["grid"]["seeds"]


def _same_start(point, shipped):
    """The deterministic part of a re-run: the seeds and the gradient that reaches the cause at initialisation."""
    assert point["lag"] == shipped["lag"]
    assert [r["seed"] for r in point["runs"]] == [r["seed"] for r in shipped["runs"]]
    rtol = cause_rtol(point["lag"])
    assert point["cause_gradient_init"] == pytest.approx(shipped["cause_gradient_init"], rel=rtol, abs=0)
    np.testing.assert_allclose([r["cause_gradient_init"] for r in point["runs"]],
                               [r["cause_gradient_init"] for r in shipped["runs"]], rtol=rtol, atol=0)


def _rerun(lag):
    shipped, seeds = _shipped(lag)
    point = lag_sweep.run_point(lag=lag, seeds=seeds, device=torch.device("cpu"))
    _same_start(point, shipped)
    return point, shipped


def test_shipped_file_shape():
    data = experiments.load("lag")
    lags = [p["lag"] for p in data["points"]]
    assert lags == data["grid"]["lags"] == lag_sweep.GRID["lags"]
    assert data["meta"].get("seed_offset", 0) == 0              # shipped files are made without an offset
    for p in data["points"]:
        assert [r["seed"] for r in p["runs"]] == data["grid"]["seeds"]
        assert p["success_rate"] == sum(r["status"] == "solved" for r in p["runs"]) / len(p["runs"])
        for r in p["runs"]:
            assert r["status"] in ("solved", "budget", "diverged")
            assert (r["status"] == "solved") == (r["solved_at"] is not None)
            assert r["solved_at"] is None or r["solved_at"] % data["settings"]["eval_every"] == 0
    rates = np.array([p["success_rate"] for p in data["points"]])
    assert rates[0] == 1.0 and rates[-1] == 0.0                 # short lags learnt, long lags not


def test_cause_gradient_of_every_shipped_lag_recomputes(one_thread):
    """No training: the initial networks of every seed, and the median over 256 sequences at every lag of the file."""
    data = experiments.load("lag")
    model = lag_sweep.seeded_ensemble(data["grid"]["seeds"], data["settings"]["hidden"])
    for p in data["points"]:
        mine = [lag_sweep.cause_gradient(model.member(i, dtype=torch.float64), p["lag"]) for i in range(len(p["runs"]))]
        np.testing.assert_allclose(mine, [r["cause_gradient_init"] for r in p["runs"]], rtol=cause_rtol(p["lag"]),
                                   atol=0, err_msg=f"lag {p['lag']}")
        assert p["cause_gradient_init"] == pytest.approx(float(np.median(mine)), rel=cause_rtol(p["lag"]), abs=0)


def test_rerun_short_lag_matches_shipped_file(one_thread):
    point, shipped = _rerun(2)
    # Far from the boundary: every seed solves, on every machine. Each was at 0 % error (threshold 1 %) at the
    # first evaluation, step 25, in all eight variants; "solved_at" is allowed one evaluation either way all the same.
    eval_every = lag_sweep.SETTINGS["eval_every"]
    assert point["success_rate"] == shipped["success_rate"] == 1.0
    for mine, theirs in zip(point["runs"], shipped["runs"]):
        assert mine["status"] == theirs["status"] == "solved"
        assert abs(mine["solved_at"] - theirs["solved_at"]) <= eval_every
        assert mine["final_error"] == pytest.approx(theirs["final_error"], abs=0.02)   # 0.0 everywhere, measured


@pytest.mark.slow
def test_rerun_below_the_boundary_matches_shipped_file(one_thread):
    """Lag 12: every seed solves, in all ten variants measured, by update 375 of 1000 at the latest.

    Which update a seed solves at is not compared: it moved by up to five evaluations (125 updates), and a solved
    seed's final error is wherever training left it when the last seed solved (0.152 for seed 4 in the shipped
    file, up to 0.444 in the variants)."""
    point, shipped = _rerun(12)
    assert point["success_rate"] == shipped["success_rate"] == 1.0
    for mine in point["runs"]:
        assert mine["status"] == "solved" and mine["solved_at"] % lag_sweep.SETTINGS["eval_every"] == 0


@pytest.mark.slow
def test_rerun_beyond_the_boundary_matches_shipped_file(one_thread):
    """Lag 20: the shipped run solved no seed. Late solvers happen even here: one variant of the eight measured had one
    seed at 1 % error by update 925 of 1000 (at lag 16 up to two seeds solved, so that is still boundary territory).
    Compared with one seed of slack, the tolerance the measurements allow; every other seed runs out of budget."""
    point, shipped = _rerun(20)
    assert shipped["success_rate"] == 0.0
    solved = [r for r in point["runs"] if r["status"] == "solved"]
    assert len(solved) <= 1
    assert all(r["status"] == "budget" and r["solved_at"] is None for r in point["runs"] if r not in solved)


def test_bad_inputs():
    with pytest.raises(ValueError, match="lag"):
        lag_sweep.run_point(lag=0)
    with pytest.raises(ValueError, match="seeds"):
        ElmanEnsemble.from_seeds([])
    with pytest.raises(ValueError, match="u"):
        ElmanEnsemble.from_seeds([0, 1], 1, 4, 1).forward(torch.zeros(3, 1, 2, 1))
