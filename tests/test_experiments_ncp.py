"""Chapter 7's shipped sweep ``ncp-lag`` (rnnlib/data/ncp_lag.json): one point re-runs, and the file is complete.

The re-runs must agree with the shipped file on any machine. Measured on 2 CPU cores (avx2, no avx512) in eight
arithmetic variants (ATEN_CPU_CAPABILITY avx2 and default, one and two threads, MKL_CBWR=COMPATIBLE, and every
initial weight moved by one float32 ulp, four different draws):

* the connectivity at initialisation (float32 LTC, unrounded in the file) moved by at most 1.1e-7 relative under
  other kernels and 2.1e-6 with the one-ulp starts: rtol 1e-5, 5x the worst;
* training outcomes: LTC-NCP at lag 1 solves with both seeds of the file, seed 0 at update 250 in every variant,
  at 0 % final error; the status is compared exactly, "solved_at" to one evaluation (50 updates) either way and the
  final error to 0.01. The trained connectivity moved by at most 3.8e-6 relative: rtol 1e-4, 25x that;
* the recent-past errors (1000 test sequences) did not change in any variant: 0.01 (10 sequences) of slack.
"""
import numpy as np
import pytest

from rnnlib.sweeps import results as experiments, ncp_memory


@pytest.fixture(scope="module")
def shipped():
    return experiments.load("ncp_lag")


def _record(data, model, lag, seed):
    return next(r for r in data["records"] if (r["model"], r["lag"], r["seed"]) == (model, lag, seed))


def test_one_lag_point_reproduces(shipped, one_thread):
    assert [r["status"] for r in shipped["records"] if (r["model"], r["lag"]) == ("ltc-ncp", 1)] == ["solved"] * 2
    old = _record(shipped, "ltc-ncp", 1, 0)
    new = ncp_memory.run_point("ltc-ncp", 1, 0, steps=shipped["settings"]["budget"]["steps"])
    assert new["params"] == old["params"] and new["length"] == old["length"]
    np.testing.assert_allclose(new["conn_init"], old["conn_init"], rtol=1e-5, atol=0)
    assert new["status"] == old["status"] == "solved"
    assert abs(new["solved_at"] - old["solved_at"]) <= shipped["settings"]["budget"]["eval_every"]
    assert new["steps"] == new["solved_at"]
    assert new["final_error"] == pytest.approx(old["final_error"], abs=0.01)
    np.testing.assert_allclose(new["conn_trained"], old["conn_trained"], rtol=1e-4, atol=0)


def test_one_recent_point_reproduces(shipped, one_thread):
    old = next(r for r in shipped["recent"]["records"] if (r["model"], r["seed"]) == ("rnn", 0))
    new = ncp_memory.run_recent_point("rnn", 0, steps=shipped["recent"]["settings"]["steps"])
    np.testing.assert_allclose(new["errors"], old["errors"], rtol=0, atol=0.01)


def test_shipped_file_is_complete_and_consistent(shipped):
    s = shipped["settings"]
    assert s["models"] == list(ncp_memory.MODELS) and s["lags"] == list(ncp_memory.LAGS)
    assert s["seeds"] == list(ncp_memory.SEEDS) and s["budget"] == ncp_memory.BUDGET
    assert len(shipped["records"]) == len(s["models"]) * len(s["lags"]) * len(s["seeds"])
    for r in shipped["records"]:
        assert r["status"] in ("solved", "budget", "diverged")
        assert len(r["conn_init"]) == len(r["conn_trained"]) == r["lag"] + 5
        assert (r["status"] == "solved") == (r["solved_at"] is not None)
        assert r["status"] != "solved" or r["final_error"] < 0.01
    recent = shipped["recent"]
    assert recent["settings"]["test_lengths"] == list(ncp_memory.RECENT["test_lengths"])
    assert len(recent["records"]) == len(ncp_memory.MODELS) * len(ncp_memory.RECENT["seeds"])
