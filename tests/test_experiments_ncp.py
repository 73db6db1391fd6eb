"""Chapter 7's shipped sweep ``ncp-lag`` (book/data/ncp_lag.json): one point re-runs, and the file is complete."""
import numpy as np
import pytest
import torch

from rnnlib import experiments, ncp_memory


@pytest.fixture(scope="module")
def shipped():
    return experiments.load("ncp_lag")


def _record(data, model, lag, seed):
    return next(r for r in data["records"] if (r["model"], r["lag"], r["seed"]) == (model, lag, seed))


def test_one_lag_point_reproduces(shipped):
    torch.set_num_threads(1)
    old = _record(shipped, "ltc-ncp", 1, 0)
    new = ncp_memory.run_point("ltc-ncp", 1, 0, steps=shipped["settings"]["budget"]["steps"])
    assert (new["status"], new["solved_at"], new["steps"]) == (old["status"], old["solved_at"], old["steps"])
    assert new["final_error"] == pytest.approx(old["final_error"], abs=0.01)
    assert new["params"] == old["params"]
    np.testing.assert_allclose(new["conn_init"], old["conn_init"], rtol=1e-4, atol=1e-12)
    np.testing.assert_allclose(new["conn_trained"], old["conn_trained"], rtol=1e-2, atol=1e-9)


def test_one_recent_point_reproduces(shipped):
    torch.set_num_threads(1)
    old = next(r for r in shipped["recent"]["records"] if (r["model"], r["seed"]) == ("rnn", 0))
    new = ncp_memory.run_recent_point("rnn", 0, steps=shipped["recent"]["settings"]["steps"])
    np.testing.assert_allclose(new["errors"], old["errors"], atol=0.01)


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
