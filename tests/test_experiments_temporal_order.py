"""The shipped temporal-order sweep (book/data/temporal_order.json) is regenerable: re-run cells and compare."""
import json

import numpy as np
import pytest

from rnnlib import experiments
from rnnlib import temporal_order as TO

DATA = experiments.load("temporal_order")


def shipped_cell(init, length):
    return next(c for c in DATA["cells"] if c["init"] == init and c["length"] == length)


def test_file_covers_the_grid():
    g = DATA["grid"]
    assert {(c["init"], c["length"]) for c in DATA["cells"]} == {(i, L) for i in g["inits"] for L in g["lengths"]}
    for c in DATA["cells"]:
        assert len(c["runs"]) == g["seeds"] * len(g["methods"])
        for m in g["methods"]:
            rate = np.mean([r["status"] == "solved" for r in c["runs"] if r["method"] == m])
            assert c["success"][m] == pytest.approx(rate)
        for r in c["runs"]:
            assert (r["solved_at"] is not None) == (r["status"] == "solved")
            if r["status"] == "solved":
                assert r["final_error"] < 0.01 and r["solved_at"] <= g["steps"]
    assert "temporal-order" in experiments.SWEEPS


@pytest.mark.slow
def test_rerun_one_cell_matches_the_shipped_file():
    if DATA["meta"]["device"] != "cpu":
        pytest.skip("the shipped file was computed on an accelerator; bitwise agreement is a CPU property")
    want = shipped_cell("smart_tanh", 10)
    got = TO.run_point(init="smart_tanh", length=10, device="cpu", progress=False)
    assert got["success"] == want["success"]
    for a, b in zip(got["runs"], want["runs"]):
        assert (a["method"], a["seed"], a["status"], a["solved_at"]) == (b["method"], b["seed"], b["status"], b["solved_at"])
        assert a["final_error"] == pytest.approx(b["final_error"], abs=1e-6)


@pytest.mark.slow
def test_one_seed_of_a_cell_is_the_same_run_as_in_the_full_cell():
    """only_seeds trains a subset on the cell's data stream: seed 1 alone reproduces its shipped rows."""
    want = [r for r in shipped_cell("basic_tanh", 10)["runs"] if r["seed"] == 1]
    got = TO.run_point(init="basic_tanh", length=10, only_seeds=[1], device="cpu", progress=False)["runs"]
    assert [(r["method"], r["status"], r["solved_at"]) for r in got] == \
           [(r["method"], r["status"], r["solved_at"]) for r in want]


@pytest.mark.slow
def test_quick_sweep_writes_a_file(tmp_path):
    path = TO.run(tmp_path, quick=True, device="cpu", progress=False)
    data = json.loads(path.read_text())
    assert data["meta"]["quick"] is True and len(data["cells"]) == len(TO.QUICK["lengths"])
    assert set(data["footnote4"]["success"]) == {"MSGD-R", "MSGD-CR"}
    assert len(data["threshold"]["success"]) == len(TO.THRESHOLD["multipliers"])


def test_bad_input():
    with pytest.raises(ValueError, match="init"):
        TO.run_point(init="xavier")
    with pytest.raises(ValueError, match="methods"):
        TO.run_point(methods=("SGD",))
    with pytest.raises(ValueError, match="only_seeds"):
        TO.run_point(only_seeds=[7])
