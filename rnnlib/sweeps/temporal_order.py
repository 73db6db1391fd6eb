"""The temporal-order experiment of Pascanu et al. (2013, Fig. 7) at CPU scale: the chapter 4 sweep.

    python -m rnnlib.sweeps temporal-order          # the full grid (writes rnnlib/data/temporal_order.json)
    python -m rnnlib.sweeps temporal-order --quick  # a smoke test
    python -m rnnlib.sweeps temporal-order-long     # lengths 50 and 100, up to 15 000 updates (run_long)

Grid: {MSGD, MSGD-C, MSGD-CR, Adam-C} x {sigmoid, basic tanh, smart tanh} x lengths {10, 15, 20, 30}
x 5 seeds, 50 hidden units, minibatch 20, lr 0.01 (Adam 0.001), threshold 1, alpha 4, at most 3000 updates;
a run is solved when at most 1 % of 2000 fresh sequences are answered wrongly (checked every 100 updates).
The paper: lengths 50-200 and more, up to 5M updates, 10 000 test sequences.

One grid cell = one (init, length): its 4 methods x 5 seeds = 20 networks train together as one
``rnnlib.models.ensemble.ElmanEnsemble`` (trained by ``rnnlib.sweeps.trainer``). Seed s gives the same initial weights and the same minibatches to all
four methods, so they are compared on equal terms. ``run_point(init=..., length=...)`` recomputes a cell.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from rnnlib._validate import one_of, positive
from rnnlib.remedies.clip import INITS
from rnnlib.device import device as default_device
from rnnlib.remedies.clip import pascanu_ensemble
from rnnlib.sweeps.trainer import BLOCK, METHODS, Method, chosen_seeds, rounded as _round, train_cell, train_ensemble
from rnnlib.tasks.pathological import TemporalOrder

NAME = "temporal_order"
GRID = {"inits": ("sigmoid", "basic_tanh", "smart_tanh"), "lengths": (10, 15, 20, 30), "seeds": 5,
        "methods": ("MSGD", "MSGD-C", "MSGD-CR", "Adam-C"), "steps": 3000}
QUICK = {"inits": ("smart_tanh",), "lengths": (10, 15), "seeds": 2,
         "methods": ("MSGD", "MSGD-C", "MSGD-CR", "Adam-C"), "steps": 300}
SETTINGS = {"n_hidden": 50, "batch_size": 20, "eval_every": 100, "eval_size": 2000, "screen_size": 200,
            "solve_threshold": 0.01}


def run_point(*, init: str = "smart_tanh", length: int = 10, seeds: int = GRID["seeds"],
              methods=GRID["methods"], steps: int = GRID["steps"], only_seeds=None, traces: bool = False,
              device=None, progress: bool | None = None) -> dict:
    """Train one grid cell and return its results (a JSON-ready dict).

    ``only_seeds`` trains just those seeds of the cell (with the cell's data stream, so the runs are the
    same as in the full cell); ``traces=True`` adds the ``EnsembleResult`` under "result" (not JSON-ready).
    """
    one_of("init", init, INITS)
    length = positive("length", length, integer=True)
    seeds = positive("seeds", seeds, integer=True)
    chosen = chosen_seeds(seeds, only_seeds)           # train_cell checks the methods
    dev = device or default_device()
    cell, res = train_cell(TemporalOrder(length), init, methods, chosen, n_batches=seeds, steps=steps,
                           settings=SETTINGS, seed=1000 + length, device=dev, progress=progress)
    out = {"init": init, "length": length, "seeds": seeds, **cell}
    if traces:
        out["result"] = res
    return out


# --- two smaller experiments of the chapter, at a 10x larger learning rate where explosions bite ---------
THRESHOLD = {"init": "smart_tanh", "length": 20, "lr": 0.1, "probe_steps": 300, "steps": 800, "seeds": 5,
             "multipliers": (0.05, 0.5, 1, 2, 10, 100)}
FOOTNOTE4 = {"init": "smart_tanh", "length": 20, "lr": 0.1, "alpha": 4.0, "steps": 800, "seeds": 8}


def _summary(res, i) -> dict:
    gn = res.grad_norms[:, i].astype(float)
    return {"status": res.status[i], "solved_at": res.solved_at[i], "diverged_at": res.diverged_at[i],
            "final_error": _round([res.final_error[i]])[0],
            "max_norm": _round([float(np.nanmax(gn))])[0], "guard_count": res.guard_count[i],
            "error_trace": _round(res.evals[:, i]), "eval_steps": list(res.eval_steps)}


def average_norm_probe(*, init: str = "smart_tanh", length: int = 20, lr: float = 0.1, steps: int = 300,
                       seeds=(0,), device=None) -> float:
    """The threshold heuristic's input: the average gradient norm of unclipped SGD over ``steps`` updates
    (one run per seed, all averaged)."""
    task = TemporalOrder(length)
    ens = pascanu_ensemble(task, init, list(seeds), n_hidden=SETTINGS["n_hidden"], device=device)
    res = train_ensemble(ens, task, [Method("sgd", lr)] * len(seeds), list(range(len(seeds))),
                         n_batches=len(seeds), steps=steps, eval_every=10 * steps, eval_size=10, screen_size=10,
                         seed=2000 + length, progress=False, device=device)
    return float(np.nanmean(res.grad_norms))


def _train_kw():
    return {k: SETTINGS[k] for k in ("batch_size", "eval_every", "eval_size", "screen_size", "solve_threshold")}


def run_threshold(*, seeds: int = THRESHOLD["seeds"], multipliers=THRESHOLD["multipliers"],
                  steps: int = THRESHOLD["steps"], only_seeds=None, probe_seeds=(0,), traces: bool = False,
                  device=None, progress: bool | None = None) -> dict:
    """Norm clipping at threshold = k x (average unclipped norm), for every k in ``multipliers``.

    The average norm comes from unclipped runs of ``probe_seeds`` (``THRESHOLD["probe_steps"]`` updates each),
    by default seed 0 alone, as in the shipped sweep. One seed can be a network that barely moves (its norm
    stays far below the others'); averaging over several seeds makes the threshold robust to such a draw.
    """
    c = THRESHOLD
    chosen = chosen_seeds(seeds, only_seeds)
    probe_seeds = [int(s) for s in probe_seeds]
    if not probe_seeds:
        raise ValueError("probe_seeds must name at least one seed")
    avg = average_norm_probe(init=c["init"], length=c["length"], lr=c["lr"], steps=c["probe_steps"],
                             seeds=probe_seeds, device=device)
    task = TemporalOrder(c["length"])
    mult_of = [k for k in multipliers for _ in chosen]
    seed_of = [s for _ in multipliers for s in chosen]
    ens = pascanu_ensemble(task, c["init"], seed_of, n_hidden=SETTINGS["n_hidden"], device=device)
    res = train_ensemble(ens, task, [Method("sgd", c["lr"], clip=k * avg) for k in mult_of], seed_of,
                         n_batches=seeds, steps=steps, seed=1000 + c["length"], progress=progress, device=device,
                         **_train_kw())
    runs = [{"multiplier": k, "seed": s, **_summary(res, i)} for i, (k, s) in enumerate(zip(mult_of, seed_of))]
    success = [float(np.mean([r["status"] == "solved" for r in runs if r["multiplier"] == k])) for k in multipliers]
    out = {**{k: v for k, v in c.items() if k != "multipliers"}, "multipliers": list(multipliers), "seeds": seeds,
           "steps": steps, "average_norm": avg, "success": success, "runs": runs}
    if traces:
        out["result"] = res
    return out


def run_footnote4(*, seeds: int = FOOTNOTE4["seeds"], steps: int = FOOTNOTE4["steps"], only_seeds=None,
                  traces: bool = False, device=None, progress: bool | None = None) -> dict:
    """The regulariser without clipping (MSGD-R) against with clipping (MSGD-CR), same seeds and data."""
    c = FOOTNOTE4
    chosen = chosen_seeds(seeds, only_seeds)
    task = TemporalOrder(c["length"])
    names = ("MSGD-R", "MSGD-CR")
    rules = {"MSGD-R": Method("sgd", c["lr"], alpha=c["alpha"]), "MSGD-CR": Method("sgd", c["lr"], 1.0, c["alpha"])}
    name_of = [n for n in names for _ in chosen]
    seed_of = [s for _ in names for s in chosen]
    ens = pascanu_ensemble(task, c["init"], seed_of, n_hidden=SETTINGS["n_hidden"], device=device)
    res = train_ensemble(ens, task, [rules[n] for n in name_of], seed_of, n_batches=seeds, steps=steps,
                         seed=1000 + c["length"], progress=progress, device=device, **_train_kw())
    runs = [{"method": n, "seed": s, **_summary(res, i)} for i, (n, s) in enumerate(zip(name_of, seed_of))]
    success = {n: float(np.mean([r["status"] == "solved" for r in runs if r["method"] == n])) for n in names}
    out = {**c, "seeds": seeds, "steps": steps, "success": success, "runs": runs}
    if traces:
        out["result"] = res
    return out


def run(out_dir=None, *, quick: bool = False, device=None, progress: bool = True) -> Path:
    """Run the whole grid and write ``<out_dir>/temporal_order.json``."""
    def extras(device):
        out = {"threshold": run_threshold(seeds=2 if quick else THRESHOLD["seeds"],
                                          steps=200 if quick else THRESHOLD["steps"], device=device,
                                          progress=progress),
               "footnote4": run_footnote4(seeds=2 if quick else FOOTNOTE4["seeds"],
                                          steps=200 if quick else FOOTNOTE4["steps"], device=device,
                                          progress=progress)}
        if progress:
            print("threshold x average norm:", dict(zip(out["threshold"]["multipliers"], out["threshold"]["success"])))
            print("footnote 4:", out["footnote4"]["success"], flush=True)
        return out

    return _run_grid(QUICK if quick else GRID, NAME, out_dir, quick=quick, device=device, progress=progress,
                     extras=extras)


# --- Fig. 7 at lengths 50 and 100 (the paper's single-model runs used 50-200), with a 5x longer budget -------
LONG = {"cells": (("smart_tanh", 50), ("smart_tanh", 100), ("basic_tanh", 50), ("basic_tanh", 100),
                  ("sigmoid", 50)),
        "seeds": 5, "methods": ("MSGD-C", "MSGD-CR", "Adam-C"), "steps": 15_000}
LONG_QUICK = {"cells": (("smart_tanh", 50),), "seeds": 2, "methods": ("MSGD-C", "MSGD-CR"), "steps": 300}
LONG_NAME = "temporal_order_long"


def run_long(out_dir=None, *, quick: bool = False, device=None, progress: bool = True) -> Path:
    """Fig. 7 at lengths 50 and 100 (``LONG``; the sigmoid init at 50 only) with a budget of ``LONG["steps"]``
    updates, without plain MSGD (which solved nothing at L = 30 already); writes
    ``<out_dir>/temporal_order_long.json``. A cell is recomputed by ``run_point(init=..., length=...,
    methods=LONG["methods"], steps=LONG["steps"])``; the settings are those of the short grid."""
    return _run_grid(LONG_QUICK if quick else LONG, LONG_NAME, out_dir, quick=quick, device=device,
                     progress=progress)


def _run_grid(grid: dict, name: str, out_dir, *, quick: bool, device, progress: bool, extras=None) -> Path:
    from rnnlib.sweeps.results import DATA_DIR, metadata, write_json

    device = torch.device(device) if device is not None else default_device()   # one device for every part
    t0, c0 = time.perf_counter(), time.process_time()
    cells = []
    pairs = grid["cells"] if "cells" in grid else [(i, L) for i in grid["inits"] for L in grid["lengths"]]
    for init, length in pairs:
        cell = run_point(init=init, length=length, seeds=grid["seeds"], methods=grid["methods"],
                         steps=grid["steps"], device=device, progress=progress)
        cells.append(cell)
        if progress:
            rates = ", ".join(f"{m} {v:.0%}" for m, v in cell["success"].items())
            print(f"{init:10s} L={length:3d}: {rates}  ({cell['seconds']:.0f} s)", flush=True)
    more = extras(device) if extras else {}
    payload = {"meta": metadata(device=device, sweep=name, quick=quick, seconds=round(time.perf_counter() - t0, 1),
                                cpu_seconds=round(time.process_time() - c0, 1), threads=torch.get_num_threads()),
               "grid": {k: ([list(x) if isinstance(x, tuple) else x for x in v] if isinstance(v, tuple) else v)
                        for k, v in grid.items()},
               "settings": {**SETTINGS, "block": BLOCK,
                            "methods": {m: METHODS[m].__dict__ for m in grid["methods"]}},
               "cells": cells, **more}
    return write_json(Path(out_dir or DATA_DIR) / f"{name}.json", payload)


def success_table(data: dict) -> dict:
    """{init: {method: [success rate per length]}} from a results file."""
    table = {}
    for c in data["cells"]:
        row = table.setdefault(c["init"], {})
        for m in data["grid"]["methods"]:           # the grid's order (the file stores keys sorted)
            row.setdefault(m, []).append(c["success"][m])
    return table


# --- figures ----------------------------------------------------------------------------------------------

STYLE = {"MSGD": ("black", "o", "-"), "MSGD-C": ("blue", "s", "-"), "MSGD-CR": ("red", "^", "-"),
         "Adam-C": ("grey", "d", ":"), "MSGD-R": ("purple", "v", "--")}
INIT_TITLES = {"sigmoid": "sigmoid", "basic_tanh": "basic tanh", "smart_tanh": "smart tanh"}


def success_markdown(data: dict) -> str:
    """The success-rate table of a results file as Markdown (rows: init and method, columns: lengths; a dash
    where the grid has no such cell)."""
    lengths = sorted({c["length"] for c in data["cells"]})
    lines = ["| init | method | " + " | ".join(f"L = {L}" for L in lengths) + " |",
             "|---|---|" + "---:|" * len(lengths)]
    for init in dict.fromkeys(c["init"] for c in data["cells"]):
        cells = {c["length"]: c for c in data["cells"] if c["init"] == init}
        for m in data["grid"]["methods"]:
            rates = [f"{100 * cells[L]['success'][m]:.0f} %" if L in cells else "–" for L in lengths]
            lines.append(f"| {INIT_TITLES[init]} | {m} | " + " | ".join(rates) + " |")
    return "\n".join(lines)
