"""Gated and orthogonal RNNs head to head on long-range tasks (chapter 5): the ``gated-lag`` sweep.

Chapter 5 trains five recurrent models (``CONTENDERS``: a tanh RNN, an orthogonal RNN, LSTMs with forget
bias 1 and 3, a GRU) on three tasks at increasing lengths: chapter 3's lag task (``rnnlib.tasks.LagTask``:
report the bit seen ``lag`` steps ago) and two of Pascanu et al.'s problems from chapter 4
(``rnnlib.tasks.pathological``: temporal order and addition, at nominal length L). Within a task every model gets
the same budget: number of updates, optimiser, learning rate, batch size, clipping threshold, hidden size.
Each run records whether and when it solved the task, and how far back the model looks before and after
training (``connectivity_profile``). ``python -m rnnlib.sweeps gated-lag`` regenerates
``rnnlib/data/gated_lag.json``, spreading the runs over the CPU cores; ``run_point`` recomputes one run
(``tests/test_experiments_gated.py`` checks the shipped file with it). ``summarize``, ``success_table``,
``plot_success``, ``find`` and ``plot_lookback`` read the shipped file. ``rnnlib.sweeps.forgetting`` uses the same
models for the price of remembering.

Training uses torch's fused kernels through ``rnnlib.models.fused.FastRecurrent`` (the models are described there).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from rnnlib import _validate
from rnnlib.device import torch_generator
from rnnlib.models.fused import KINDS, FastRecurrent

__all__ = ["KINDS", "CONTENDERS", "LABELS", "TASK_LABELS", "FastRecurrent", "make_task", "cause_spans",
           "connectivity_profile", "run_point", "run", "marked_steps", "gates_on_marks", "find", "at_cause", "reaches_cause", "summarize",
           "success_table"]

# The sweep's contenders: name -> (kind, keyword arguments). The LSTM appears twice: with the usual
# forget-gate bias 1 (f ~ σ(1) = 0.73 at the start) and with bias 3 (f ~ σ(3) = 0.95), which
# remembers by default; chapter 5 explains why that matters at long lags.
CONTENDERS = {"tanh": ("tanh", {}), "orthogonal": ("orthogonal", {}), "lstm": ("lstm", {"forget_bias": 1.0}),
              "lstm_fb3": ("lstm", {"forget_bias": 3.0}), "gru": ("gru", {})}
# One budget for every model (the numbers the chapter quotes come from the shipped file's "settings").
# Chapter 3's lag budget (rnnlib.sweeps.lag_sweep: hidden 32, 1000 Adam updates, lr 1e-2, batch 32) plus chapter 4's
# clipping; the two tasks of Pascanu et al. (chapter 4) get twice the updates.
SETTINGS = dict(hidden=32, steps={"lag": 1000, "temporal_order": 2000, "addition": 2000}, lr=1e-2, batch_size=32,
                clip=1.0, eval_every=50, eval_size=500)
GRID = dict(tasks={"lag": [5, 10, 15, 20, 30, 40], "temporal_order": [10, 20, 40, 80], "addition": [10, 20, 40, 80]},
            seeds=[0, 1, 2, 3, 4])
QUICK_GRID = dict(tasks={"lag": [5], "temporal_order": [10]}, seeds=[0])


def _clip(threshold: float):
    def transform(model):
        torch.nn.utils.clip_grad_norm_(model.parameters(), threshold)    # g <- g * min(1, threshold/||g||)
    return transform


# --- The tasks of the sweep ------------------------------------------------------------------------------

TASK_LABELS = {"lag": "lag task", "temporal_order": "temporal order", "addition": "addition"}


def make_task(task: str, length: int):
    """The task object for ``task`` (a key of ``TASK_LABELS``) at ``length``: the lag for the lag task
    (sequences of ``lag + 5`` steps), the nominal sequence length L for temporal order and addition."""
    from rnnlib.tasks.pathological import Addition, TemporalOrder
    from rnnlib.tasks.lag import LagTask

    _validate.one_of("task", task, TASK_LABELS)
    length = _validate.positive("length", length, integer=True)
    return {"lag": LagTask, "temporal_order": TemporalOrder, "addition": Addition}[task](length)


def cause_spans(task: str, length: int, T: int) -> list[list[int]]:
    """Where the answer's causes can sit in a sequence of ``T`` steps, as ``[k_lo, k_hi]`` ranges of
    k = steps before the end (the output's own step is k = 0), following the generators' position draws."""
    _validate.one_of("task", task, TASK_LABELS)
    if task == "lag":
        return [[length, length]]
    if task == "temporal_order":                                   # p in [int(s L), int(s L) + int(0.1 L))
        starts = [int(s * T) for s in (0.1, 0.5)]
        return [[T - 1 - (p + max(int(0.1 * T), 1) - 1), T - 1 - p] for p in starts]
    a, b = int(0.1 * T), int(0.4 * T)                              # addition: p0 in [0, a), p1 in [a, a + b)
    return [[T - a, T - 1], [T - a - b, T - 1 - a]]


def connectivity_profile(model: nn.Module, task, *, n: int = 64, seed: int = 0) -> np.ndarray:
    """``||dy_T/du_t||`` of ``model`` averaged over ``n`` sequences of ``task`` (a task object, or a lag
    for ``LagTask(lag)``), one entry per step ``t`` (lag ``T - 1 - t``)."""
    from rnnlib.theory.connectivity import connectivity

    if isinstance(task, (int, np.integer)):
        task = make_task("lag", int(task))
    u, _ = task.sample(n, torch_generator(seed))
    p = next(model.parameters())
    return connectivity(model, u.to(p.device, p.dtype))


def _sig(x, digits: int = 4) -> list:
    return [float(f"{v:.{digits}g}") for v in np.asarray(x, dtype=float).ravel()]


def run_point(*, model: str, seed: int, task: str = "lag", length: int | None = None, lag: int | None = None,
              settings: dict | None = None, device=None, progress: bool = False, return_model: bool = False):
    """Train one contender ``model`` (a key of ``CONTENDERS``) on ``task`` at ``length`` with ``seed``.

    ``task`` is "lag" (``length`` = the lag; ``lag=`` is accepted as its alias), "temporal_order" or
    "addition" (``length`` = the nominal length L). Returns a dict with ``status`` ("solved" / "budget" /
    "diverged"), ``solved_at`` (update or None), ``final_error``, ``best_error``, ``seconds``, ``evals``
    ([step, error] pairs), the connectivity profile ``||dy_T/du_t||`` before and after training (index
    ``t``; k = ``T - 1 - t`` steps before the end) and ``causes``, the ranges of k where the answer's
    inputs can sit (``cause_spans``). With ``return_model`` the trained ``FastRecurrent`` is returned
    too, as ``(dict, model)``.
    """
    from rnnlib.train import train

    _validate.one_of("model", model, CONTENDERS)
    _validate.one_of("task", task, TASK_LABELS)
    if lag is not None:
        if task != "lag" or (length is not None and length != lag):
            raise ValueError(f"lag is an alias of length for task='lag' only, got task={task!r}, lag={lag!r}")
        length = lag
    if length is None:
        raise ValueError("length must be given (the lag, or the nominal sequence length L)")
    s = {**SETTINGS, **(settings or {})}
    steps = s["steps"][task] if isinstance(s["steps"], dict) else s["steps"]
    the_task = make_task(task, length)
    kind, kwargs = CONTENDERS[model]
    net = FastRecurrent(kind, the_task.n_in, s["hidden"], the_task.n_out, seed=seed, **kwargs)
    dev = torch.device(device) if device is not None else torch.device("cpu")
    net.to(dev)
    conn0 = connectivity_profile(net, the_task)
    cpu0 = time.process_time()
    res = train(net, the_task, steps=steps, lr=s["lr"], optimizer="adam", batch_size=s["batch_size"],
                grad_transform=_clip(s["clip"]), eval_every=s["eval_every"], eval_size=s["eval_size"],
                seed=seed, progress=progress, device=dev)
    conn1 = connectivity_profile(net, the_task)
    out = {"task": task, "model": model, "length": length, "seed": seed, "status": res.status,
           "solved_at": res.solved_at, "diverged_at": res.diverged_at, "final_error": res.final_error,
           "best_error": res.best_error, "seconds": round(res.seconds, 2),
           "cpu_seconds": round(time.process_time() - cpu0, 2), "updates": res.steps,
           "evals": [[int(a), round(float(b), 5)] for a, b in res.evals],
           "causes": cause_spans(task, length, len(conn0)),
           "connectivity_init": _sig(conn0), "connectivity_trained": _sig(conn1)}
    return (out, net) if return_model else out


def _cells(grid: dict) -> list[tuple]:
    return [(task, length, m, seed) for task, lengths in grid["tasks"].items() for length in lengths
            for m in CONTENDERS for seed in grid["seeds"]]


def _run_cell(cell, device=None) -> dict:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)            # one core per worker: the small models run fastest that way
    try:
        task, length, model, seed = cell
        return run_point(model=model, task=task, length=length, seed=seed, device=device)
    finally:
        torch.set_num_threads(threads)  # the caller's setting, when the cell runs in the calling process


def run(out_dir: Path | None = None, *, quick: bool = False, device=None, progress: bool = True,
        workers: int | None = None) -> Path:
    """The whole grid (tasks x lengths x models x seeds); writes ``<out_dir>/gated_lag.json``.

    On a CPU the runs are spread over ``workers`` processes (default: every core this process may use),
    one thread each; on a GPU (``device`` or ``rnnlib.device()``) they run one after the other in this
    process. The results do not depend on the number of workers: every run is seeded on its own.
    """
    import os
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial
    from multiprocessing import get_context

    from tqdm.auto import tqdm

    from rnnlib.device import device as default_device
    from rnnlib.sweeps.results import DATA_DIR, metadata, write_json

    grid = QUICK_GRID if quick else GRID
    dev = torch.device(device) if device is not None else default_device()
    if dev.type != "cpu":
        workers = 1
    workers = _validate.positive("workers", workers if workers is not None else len(os.sched_getaffinity(0)),
                                 integer=True)
    cells = _cells(grid)
    # Longest first, so that the last runs to finish are short ones (the GRU's CPU kernel is the slowest).
    order = sorted(cells, key=lambda c: -(c[1] + 5 * (c[0] == "lag")) * SETTINGS["steps"][c[0]]
                   * (3 if c[2] == "gru" else 1))
    t0, cpu0 = time.perf_counter(), time.process_time()
    job = partial(_run_cell, device=str(dev))
    bar = tqdm(total=len(cells), disable=not progress, desc="gated-lag")
    done = {}
    if workers == 1:
        for cell in order:
            done[cell] = job(cell)
            bar.update()
    else:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            for cell, result in zip(order, pool.map(job, order)):
                done[cell] = result
                bar.update()
    bar.close()
    results = [done[c] for c in cells]
    worker_cpu = sum(r["cpu_seconds"] for r in results)
    payload = {"meta": metadata(device=dev, sweep="gated-lag", quick=quick, seconds=round(time.perf_counter() - t0, 1),
                                cpu_seconds=round(time.process_time() - cpu0 + (worker_cpu if workers > 1 else 0), 1),
                                workers=workers, threads_per_worker=1),
               "settings": SETTINGS, "grid": {**grid, "models": list(CONTENDERS)},
               "contenders": {k: [kind, kw] for k, (kind, kw) in CONTENDERS.items()}, "results": results}
    return write_json(Path(out_dir or DATA_DIR) / ("gated_lag_quick.json" if quick else "gated_lag.json"), payload)


def marked_steps(task: str, u: torch.Tensor) -> torch.Tensor:
    """``(T, B)`` booleans: where a temporal-order or addition input ``u (T, B, I)`` carries a marked input
    (symbol A or B; a flagged value). The lag task marks nothing."""
    _validate.one_of("task", task, ("temporal_order", "addition"))
    return (u[:, :, :2].sum(-1) > 0) if task == "temporal_order" else (u[:, :, 0] > 0)


def gates_on_marks(model: nn.Module, task: str, length: int, *, n: int = 200, seed: int = 7) -> dict:
    """How a gated model's gates treat marked and unmarked steps of ``n`` fresh sequences of ``task``.

    ``model`` is a ``FastRecurrent`` GRU or LSTM (or an rnnlib ``GRU`` / ``LSTM``). Returns, for each gate
    (r, z for the GRU; i, f, o for the LSTM), ``{"marked": mean, "unmarked": mean, "unit_gap": (H,) array of
    per-unit mean(unmarked) - mean(marked)}``.
    """
    from rnnlib.models.lstm import GRU, LSTM

    net = model.to_rnnlib() if isinstance(model, FastRecurrent) else model
    if not isinstance(net, (GRU, LSTM)):
        raise ValueError(f"model must be a GRU or an LSTM, got {type(model).__name__}")
    u, _ = make_task(task, length).sample(n, torch_generator(seed))
    mark = marked_steps(task, u)
    p = next(net.parameters())
    traj = net.gate_trajectory(u.to(p.device, p.dtype))
    out = {}
    for g in (("r", "z") if isinstance(net, GRU) else ("i", "f", "o")):
        v = traj[g].cpu()
        out[g] = {"marked": float(v[mark].mean()), "unmarked": float(v[~mark].mean()),
                  "unit_gap": (v[~mark].mean(0) - v[mark].mean(0)).double().numpy()}
    return out


# --- Reading the shipped sweep ---------------------------------------------------------------------------

LABELS = {"tanh": "tanh RNN", "orthogonal": "orthogonal RNN", "lstm": "LSTM, forget bias 1", "lstm_fb3": "LSTM, forget bias 3",
          "gru": "GRU"}


def _length_label(task: str, length: int) -> str:
    return f"lag {length}" if task == "lag" else f"L = {length}"


def find(data: dict, model: str, length: int, seed: int = 0, *, task: str = "lag") -> dict:
    """The result of one run (``task``, ``model``, ``length``, ``seed``) in a loaded sweep file; ``model`` is a
    key of ``CONTENDERS`` or its label in ``LABELS``."""
    model = {label: key for key, label in LABELS.items()}.get(model, model)
    for r in data["results"]:
        if (r["task"], r["model"], r["length"], r["seed"]) == (task, model, length, seed):
            return r
    raise ValueError(f"no run with task={task!r}, model={model!r}, length={length}, seed={seed} in this sweep")


def at_cause(result: dict, key: str = "connectivity_trained", which: int = 0) -> float:
    """Connectivity of one run at its ``which``-th cause (0: the earliest): the largest entry of the profile
    ``result[key]`` ("connectivity_init" or "connectivity_trained") over the steps where that cause can sit."""
    _validate.one_of("key", key, ("connectivity_init", "connectivity_trained"))
    lo, hi = result["causes"][which]
    return float(max(result[key][::-1][lo:hi + 1]))


def reaches_cause(result: dict, *, threshold: float = 0.01) -> bool:
    """Whether the trained model still looks at the earliest cause: its connectivity there (``at_cause``) is at
    least ``threshold`` times the peak of its profile."""
    _validate.in_range("threshold", threshold, 0.0, 1.0, inclusive=(False, True))
    return at_cause(result) >= threshold * max(result["connectivity_trained"])


def summarize(data: dict, task: str = "lag") -> dict:
    """``{model: {length: {"solved": k, "runs": n, "updates": [solved_at of each solved run]}}}`` for ``task``."""
    _validate.one_of("task", task, data["grid"]["tasks"])
    out = {m: {} for m in data["grid"]["models"]}
    for r in data["results"]:
        if r["task"] != task:
            continue
        cell = out[r["model"]].setdefault(r["length"], {"solved": 0, "runs": 0, "updates": []})
        cell["runs"] += 1
        if r["status"] == "solved":
            cell["solved"] += 1
            cell["updates"].append(r["solved_at"])
    return out


def success_table(data: dict, task: str = "lag") -> str:
    """An HTML table for ``task``: solved seeds / seeds (and the mean number of updates to solve) per model and length."""
    import html

    summary = summarize(data, task)
    lengths = data["grid"]["tasks"][task]
    pad = ' style="padding: 2px 6px; white-space: nowrap"'
    head = "".join(f"<th{pad}>{_length_label(task, n)}</th>" for n in lengths)
    rows = []
    for m, cells in summary.items():
        entries = []
        for n in lengths:
            c = cells[n]
            mean = f" ({np.mean(c['updates']):.0f})" if c["updates"] else ""
            entries.append(f"<td{pad}>{c['solved']}/{c['runs']}{mean}</td>")
        rows.append(f'<tr><td style="padding: 2px 6px">{html.escape(LABELS.get(m, m))}</td>{"".join(entries)}</tr>')
    return (f'<table class="table rnnlib-table"><caption>{html.escape(TASK_LABELS[task])}: seeds solved '
            f"(mean updates to solve)</caption><thead><tr><th{pad}>model</th>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")
