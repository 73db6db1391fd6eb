"""The two shipped sweeps of Pascanu et al.'s problems are regenerable: the six tasks (rnnlib/data/pascanu_tasks.json)
and Fig. 7 at lengths 50 and 100 (rnnlib/data/temporal_order_long.json).

Deterministic parts (the grid, the task generators, the initial weights and the success arithmetic) are compared
exactly. Training outcomes are compared as issue 8 asks of a run re-made on another machine: the re-run runs here
lie far from the success boundary, so their verdict (solved or not) must agree, and the step at which they solve
must lie within ``TOLERANCE`` of the shipped one (another CPU's rounding moves a long run by some evaluations).
"""
import json

import numpy as np
import pytest

from rnnlib.sweeps import pascanu_tasks as PT
from rnnlib.sweeps import results
from rnnlib.sweeps import temporal_order as TO
from rnnlib.tasks import pathological

TASKS = results.load("pascanu_tasks")
LONG = results.load("temporal_order_long")


def _check_cells(data, key):
    g = data["grid"]
    for c in data["cells"]:
        assert len(c["runs"]) == g["seeds"] * len(g["methods"]) and c["steps"] == g["steps"]
        for m in g["methods"]:
            rate = np.mean([r["status"] == "solved" for r in c["runs"] if r["method"] == m])
            assert c["success"][m] == pytest.approx(rate)
        for r in c["runs"]:
            assert (r["solved_at"] is not None) == (r["status"] == "solved")
            if r["status"] == "solved":
                assert r["final_error"] <= data["settings"]["solve_threshold"] and r["solved_at"] <= g["steps"]
            assert len(r["error_trace"]) <= len(c["eval_steps"])
    assert [[c[key], c["length"]] for c in data["cells"]] == g["cells"]


def test_six_task_file_covers_its_grid():
    _check_cells(TASKS, "task")
    assert TASKS["grid"]["cells"] == [list(c) for c in PT.GRID["cells"]]
    assert TASKS["grid"]["steps"] == PT.GRID["steps"] and TASKS["grid"]["methods"] == list(PT.GRID["methods"])
    assert {c["task"] for c in TASKS["cells"]} == set(PT.TASKS)
    # every generator of rnnlib.tasks.pathological is in the grid, each at two lengths (the 23-bit variant aside)
    assert {PT.TASKS[c["task"]][0] for c in TASKS["cells"]} == set(pathological.TASKS)
    for name in pathological.TASKS:
        assert len({c["length"] for c in TASKS["cells"] if PT.TASKS[c["task"]][0] == name}) >= 2
    assert TASKS["meta"]["quick"] is False and TASKS["meta"]["seed_offset"] == 0
    assert "pascanu-tasks" in results.SWEEPS and "temporal-order-long" in results.SWEEPS


def test_long_file_covers_its_grid():
    _check_cells(LONG, "init")
    assert LONG["grid"]["cells"] == [list(c) for c in TO.LONG["cells"]]
    assert min(c["length"] for c in LONG["cells"]) >= 50
    assert LONG["meta"]["quick"] is False and LONG["meta"]["seed_offset"] == 0


def test_every_task_is_solved_by_some_method():
    """The issue's criterion: each of the six problems is solved by at least one method at some length."""
    solved = {PT.TASKS[c["task"]][0] for c in TASKS["cells"] if max(c["success"].values()) > 0}
    assert solved == set(pathological.TASKS)


def test_summary_rows_agree_with_the_runs():
    rows = PT.summary(TASKS)
    assert len(rows) == len(TASKS["cells"]) * len(TASKS["grid"]["methods"])
    for row in rows:
        cell = PT.cell_of(TASKS, row["task"], row["length"])
        at = [r["solved_at"] for r in cell["runs"] if r["method"] == row["method"] and r["status"] == "solved"]
        assert row["solved"] == len(at) == round(cell["success"][row["method"]] * row["runs"])
        if at:
            assert row["median_updates"] == np.median(at)
    table = PT.summary_markdown(TASKS)
    assert table.count("\n") == len(TASKS["cells"]) + 1
    with pytest.raises(ValueError, match="no cell"):
        PT.cell_of(TASKS, "addition", 999)


def test_initial_weights_and_first_batch_are_deterministic():
    """The deterministic part of a cell: the same seed gives bit-identical initial weights and data."""
    from rnnlib.device import torch_generator
    from rnnlib.remedies.clip import pascanu_ensemble

    task = PT.task_of("memorization_5bit", 10)
    assert (task.n_values, task.n_pos, task.n_in, task.n_out) == (2, 5, 4, 3) and task.bits == 5
    a = pascanu_ensemble(task, PT.INIT, [0, 1])
    b = pascanu_ensemble(task, PT.INIT, [0, 1])
    assert all(np.array_equal(a.p[k].numpy(), b.p[k].numpy()) for k in a.p)
    u1, t1 = task.sample(20, torch_generator(1010))
    u2, t2 = task.sample(20, torch_generator(1010))
    assert np.array_equal(u1.numpy(), u2.numpy()) and np.array_equal(t1.numpy(), t2.numpy())


TOLERANCE = 0.25  # relative, on the solving step (at least one evaluation)


def _same_verdict(got, want, eval_every):
    assert (got["method"], got["seed"], got["status"]) == (want["method"], want["seed"], want["status"])
    if want["status"] == "solved":
        assert abs(got["solved_at"] - want["solved_at"]) <= max(eval_every, TOLERANCE * want["solved_at"])
        assert got["final_error"] <= 0.01


# (task, length, methods, seeds): the whole 3-bit cell at L = 10 (every run solves by update 1100 of 15 000), and
# the regulariser's random-permutation runs at L = 50 that solve at 1000 to 1200 (clipping alone: none of 5)
REGEN_TASK = [("temporal_order_3bit", 10, PT.GRID["methods"], [0, 1, 2, 3, 4]),
              ("random_permutation", 50, ("MSGD-CR",), [1, 2, 3])]


@pytest.mark.slow
@pytest.mark.parametrize("task, length, methods, seeds", REGEN_TASK)
def test_rerun_six_task_runs(task, length, methods, seeds, one_thread):
    want = [r for r in PT.cell_of(TASKS, task, length)["runs"] if r["seed"] in seeds and r["method"] in methods]
    assert all(r["status"] == "solved" for r in want)
    got = PT.run_point(task=task, length=length, methods=methods, only_seeds=seeds, device="cpu",
                       progress=False)["runs"]
    assert len(got) == len(want)
    for a, b in zip(got, want):
        _same_verdict(a, b, TASKS["settings"]["eval_every"])


REGEN_LONG = ("smart_tanh", 50, "Adam-C", 3)     # solved at update 700 of 15 000 (the other Adam-C runs: 900 to 2600)


@pytest.mark.slow
def test_rerun_one_long_temporal_order_run(one_thread):
    init, length, method, seed = REGEN_LONG
    cell = next(c for c in LONG["cells"] if c["init"] == init and c["length"] == length)
    want = [r for r in cell["runs"] if r["method"] == method and r["seed"] == seed]
    got = TO.run_point(init=init, length=length, methods=(method,), only_seeds=[seed],
                       steps=LONG["grid"]["steps"], device="cpu", progress=False)["runs"]
    assert len(got) == len(want) == 1
    _same_verdict(got[0], want[0], LONG["settings"]["eval_every"])


@pytest.mark.slow
def test_quick_sweeps_write_their_files(tmp_path):
    for run, name, n in ((PT.run, "pascanu_tasks", len(PT.QUICK["cells"])),
                         (TO.run_long, "temporal_order_long", len(TO.LONG_QUICK["cells"]))):
        path = run(tmp_path, quick=True, device="cpu", progress=False)
        data = json.loads(path.read_text())
        assert path.name == f"{name}.json" and data["meta"]["quick"] is True and len(data["cells"]) == n


def test_bad_input():
    with pytest.raises(ValueError, match="task"):
        PT.run_point(task="copying")
    with pytest.raises(ValueError, match="methods"):
        PT.run_point(methods=("SGD",))
    with pytest.raises(ValueError, match="only_seeds"):
        PT.run_point(only_seeds=[7])
    with pytest.raises(ValueError, match="length"):
        PT.run_point(length=0)


def test_figures_of_the_shipped_files():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rnnlib.sweeps.plots import plot_fig7_long, plot_pascanu_tasks

    fig = plot_fig7_long(results.load("temporal_order"), LONG)
    assert [ax.get_title() for ax in fig.axes] == ["sigmoid", "basic tanh", "smart tanh"]
    assert all(ax.get_xscale() == "log" for ax in fig.axes)
    fig6 = plot_pascanu_tasks(TASKS)
    drawn = [ax for ax in fig6.axes if ax.get_visible() and ax.axison]
    assert len(drawn) == len({c["task"] for c in TASKS["cells"]})     # one panel per task, the legend in a free one
    lines = sum(len(ax.get_lines()) for ax in drawn)
    runs = sum(len(c["runs"]) for c in TASKS["cells"])
    assert lines == runs + len(drawn)            # one line per run, plus the 1 % line in each panel
    plt.close("all")
