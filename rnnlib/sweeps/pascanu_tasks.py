"""Pascanu et al.'s six pathological problems (2013, section 4.1.2) at CPU scale: the second chapter 4 sweep.

    python -m rnnlib.sweeps pascanu-tasks          # the full grid (writes rnnlib/data/pascanu_tasks.json)
    python -m rnnlib.sweeps pascanu-tasks --quick  # a smoke test of a few minutes

Every task of ``rnnlib.tasks.pathological`` (temporal order, 3-bit temporal order, addition, multiplication,
random permutation, noiseless memorisation in its 5-bit version; the 23-bit version at L = 10 only) at two
lengths, each trained with
MSGD-C, MSGD-CR and Adam-C (``rnnlib.sweeps.trainer.METHODS``) from 5 seeds: 50 tanh units with the smart tanh
initialisation (the default of the authors' code), minibatch 20, at most ``GRID["steps"]`` updates; a run is solved
when at most 1 % of 10 000 fresh sequences are answered wrongly (the paper's test; screened every 100 updates on
200). One cell = one (task, length): its 3 methods x 5 seeds = 15 networks train together as one
``rnnlib.models.ensemble.ElmanEnsemble``; seed s gives the three methods the same weights and minibatches.
``run_point(task=..., length=...)`` recomputes a cell.

The paper: one model per task for lengths 50 to 200 (memorisation: one per length), up to 5 million updates.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from rnnlib._validate import one_of, positive
from rnnlib.device import device as default_device
from rnnlib.sweeps.trainer import METHODS, chosen_seeds, train_cell
from rnnlib.tasks.pathological import make

NAME = "pascanu_tasks"
INIT = "smart_tanh"

# task key -> (generator name in rnnlib.tasks.pathological, its keyword arguments)
TASKS = {
    "temporal_order": ("temporal_order", {}),
    "temporal_order_3bit": ("temporal_order_3bit", {}),
    "addition": ("addition", {}),
    "multiplication": ("multiplication", {}),
    "random_permutation": ("random_permutation", {}),
    "memorization_5bit": ("memorization", {"n_values": 2, "n_pos": 5}),
    "memorization": ("memorization", {"n_values": 5, "n_pos": 10}),
}
TITLES = {"temporal_order": "temporal order", "temporal_order_3bit": "3-bit temporal order",
          "addition": "addition", "multiplication": "multiplication", "random_permutation": "random permutation",
          "memorization_5bit": "memorisation, 5 bits", "memorization": "memorisation, 23 bits"}

GRID = {"cells": (("temporal_order", 10), ("temporal_order", 20),
                  ("temporal_order_3bit", 10), ("temporal_order_3bit", 20),
                  ("addition", 10), ("addition", 20),
                  ("multiplication", 10), ("multiplication", 20),
                  ("random_permutation", 20), ("random_permutation", 50),
                  ("memorization_5bit", 10), ("memorization_5bit", 20),
                  ("memorization", 10)),
        "seeds": 5, "methods": ("MSGD-C", "MSGD-CR", "Adam-C"), "steps": 15_000}
QUICK = {"cells": (("temporal_order_3bit", 10), ("random_permutation", 10)), "seeds": 2,
         "methods": ("MSGD-C", "MSGD-CR", "Adam-C"), "steps": 1000}
SETTINGS = {"init": INIT, "n_hidden": 50, "batch_size": 20, "eval_every": 100, "eval_size": 10_000,
            "screen_size": 200, "solve_threshold": 0.01}


def task_of(key: str, length: int):
    """The task object of a grid key (one of ``TASKS``) at nominal length ``length``."""
    one_of("task", key, TASKS)
    name, kwargs = TASKS[key]
    return make(name, length, **kwargs)


def run_point(*, task: str = "temporal_order_3bit", length: int = 10, seeds: int = GRID["seeds"],
              methods=GRID["methods"], steps: int = GRID["steps"], only_seeds=None, traces: bool = False,
              device=None, progress: bool | None = None) -> dict:
    """Train one grid cell (``task`` one of ``TASKS``) and return its results (a JSON-ready dict).

    ``only_seeds`` trains just those seeds of the cell, on the cell's data stream (so the runs are the same as
    in the full cell); ``traces=True`` adds the ``EnsembleResult`` under "result" (not JSON-ready)."""
    tk = task_of(task, positive("length", length, integer=True))
    seeds = positive("seeds", seeds, integer=True)
    steps = positive("steps", steps, integer=True)
    chosen = chosen_seeds(seeds, only_seeds)           # train_cell checks the methods
    dev = device or default_device()
    cell, res = train_cell(tk, INIT, methods, chosen, n_batches=seeds, steps=steps, settings=SETTINGS,
                           seed=1000 + length, device=dev, progress=progress)
    out = {"task": task, "length": length, "seeds": seeds, "n_steps_max": tk.max_steps(length), **cell}
    if traces:
        out["result"] = res
    return out


def run(out_dir=None, *, quick: bool = False, device=None, progress: bool = True) -> Path:
    """Run the whole grid and write ``<out_dir>/pascanu_tasks.json``."""
    from rnnlib.sweeps.results import DATA_DIR, metadata, write_json

    grid = QUICK if quick else GRID
    device = torch.device(device) if device is not None else default_device()
    t0, c0 = time.perf_counter(), time.process_time()
    cells = []
    for task, length in grid["cells"]:
        cell = run_point(task=task, length=length, seeds=grid["seeds"], methods=grid["methods"],
                         steps=grid["steps"], device=device, progress=progress)
        cells.append(cell)
        if progress:
            rates = ", ".join(f"{m} {v:.0%}" for m, v in cell["success"].items())
            print(f"{task:20s} L={length:3d}: {rates}  ({cell['seconds']:.0f} s)", flush=True)
    payload = {"meta": metadata(device=device, sweep=NAME, quick=quick, seconds=round(time.perf_counter() - t0, 1),
                                cpu_seconds=round(time.process_time() - c0, 1), threads=torch.get_num_threads()),
               "grid": {"cells": [list(c) for c in grid["cells"]], "seeds": grid["seeds"],
                        "methods": list(grid["methods"]), "steps": grid["steps"]},
               "settings": {**SETTINGS, "methods": {m: METHODS[m].__dict__ for m in grid["methods"]},
                            "tasks": {k: {"generator": v[0], **v[1]} for k, v in TASKS.items()}},
               "cells": cells}
    return write_json(Path(out_dir or DATA_DIR) / f"{NAME}.json", payload)


def cell_of(data: dict, task: str, length: int) -> dict:
    """The cell (task, length) of a results file."""
    for c in data["cells"]:
        if c["task"] == task and c["length"] == length:
            return c
    raise ValueError(f"no cell task={task!r}, length={length!r} in this file: it has "
                     f"{[(c['task'], c['length']) for c in data['cells']]}")


def solved_at(data: dict, task: str, length: int, method: str) -> list[int]:
    """The updates at which the solved runs of one (task, length, method) succeeded, in seed order."""
    return [r["solved_at"] for r in cell_of(data, task, length)["runs"] if r["method"] == method and r["solved_at"]]


def summary(data: dict) -> list[dict]:
    """One row per (task, length, method): solved seeds, median updates to success, median final error."""
    rows = []
    for c in data["cells"]:
        for m in data["grid"]["methods"]:
            rs = [r for r in c["runs"] if r["method"] == m]
            at = [r["solved_at"] for r in rs if r["status"] == "solved"]
            err = [r["final_error"] for r in rs if r["final_error"] is not None]
            rows.append({"task": c["task"], "length": c["length"], "method": m, "solved": len(at), "runs": len(rs),
                         "median_updates": float(np.median(at)) if at else None,
                         "median_error": float(np.median(err)) if err else None,
                         "diverged": sum(r["status"] == "diverged" for r in rs)})
    return rows


def summary_markdown(data: dict) -> str:
    """The grid as a Markdown table: per task and length, each method's solved seeds (median updates) and
    median final error."""
    methods = data["grid"]["methods"]
    lines = ["| task | L | " + " | ".join(methods) + " |", "|---|---:|" + "---|" * len(methods)]
    rows = summary(data)
    for c in data["cells"]:
        cells = []
        for m in methods:
            r = next(x for x in rows if x["task"] == c["task"] and x["length"] == c["length"] and x["method"] == m)
            at = f" ({r['median_updates']:,.0f})".replace(",", "\u202f") if r["solved"] else ""
            err = f"{100 * r['median_error']:.0f}\u00a0%" if r["median_error"] is not None else "–"
            cells.append(f"{r['solved']}/{r['runs']}{at}, {err}")
        lines.append(f"| {TITLES[c['task']]} | {c['length']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
