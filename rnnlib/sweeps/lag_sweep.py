"""Short against long dependencies: a tanh RNN's success against the lag, with one fixed budget (chapter 3).

The lag task (``rnnlib.tasks.LagTask``) asks for the input bit seen ``lag`` steps before the end:
the "mouse now, cat later" dependency of the NCP blog. Every grid point trains the same tanh Elman
network (``rnnlib.models.elman.ElmanRNN``'s initialisation, hidden size 32) with the same optimiser, learning
rate, batch size and number of updates, and no gradient clipping (that is chapter 4), and records
whether each seed reaches at most 1 % error on fresh sequences within the budget. With the budget it also
records, at initialisation, how much of the answer's gradient reaches the cause: the median over
sequences of ||dy_T/dh_{T-lag}|| (``rnnlib.theory.gradients.output_sensitivity``).

Speed: the seeds of one lag are *one* batched model, ``rnnlib.models.ensemble.ElmanEnsemble``, whose weights
carry a leading seed axis, so one ``bmm`` per time step advances every seed; autograd trains it. The seeds stay independent:
the loss is a sum over seeds, so each seed's parameters get exactly their own gradient, and Adam
acts element-wise. Each seed draws its own data from its own generator. ``run_point(lag=...)``
recomputes one lag (all seeds); ``python -m rnnlib.sweeps lag`` regenerates ``rnnlib/data/lag.json``
on ``rnnlib.device()`` (a GPU when present).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from rnnlib._validate import positive
from rnnlib.models.elman import ElmanRNN
from rnnlib.models.ensemble import ElmanEnsemble
from rnnlib.tasks.lag import LagTask
from rnnlib.device import torch_generator

SETTINGS = dict(hidden=32, steps=1000, lr=1e-2, optimizer="adam", batch_size=32, eval_every=25, eval_size=500,
                solve_threshold=0.01)
GRID = dict(lags=[1, 2, 4, 6, 8, 10, 12, 14, 16, 20, 25, 30, 40], seeds=[0, 1, 2, 3, 4])
QUICK_GRID = dict(lags=[2, 10], seeds=[0, 1])


def seeded_ensemble(seeds, n_hidden: int = 32) -> ElmanEnsemble:
    """The sweep's networks: member i holds exactly the weights of ``ElmanRNN(1, n_hidden, 1, seed=seeds[i])``."""
    return ElmanEnsemble.from_seeds(seeds, 1, n_hidden, 1, activation="tanh")


def _sample(task: LagTask, gens, batch_size: int):
    pairs = [task.sample(batch_size, g) for g in gens]
    return torch.stack([u for u, _ in pairs], 1), torch.stack([y for _, y in pairs], 0)   # (T,S,B,1), (S,B,1)


def cause_gradient(net: ElmanRNN, lag: int, *, n: int = 256, seed: int = 0) -> float:
    """Median over n lag-task sequences of ||dy_T/dh_{T-lag}||: how much of the answer's gradient reaches the cause."""
    from rnnlib.theory.gradients import output_sensitivity

    task = LagTask(lag)
    u, _ = task.sample(n, torch_generator(seed))
    sens = output_sensitivity(net, u.double())                 # (T + 1, n), row k = state h_k
    return float(np.median(sens[task.length - lag]))           # h after reading the cause u_{T-lag}


def run_point(*, lag: int, seeds=None, settings: dict | None = None, device=None) -> dict:
    """Train one batched model (all ``seeds``) on ``LagTask(lag)``; return per-seed results and the cause gradient.

    Each run reports ``status`` ("solved", "budget" or "diverged") and ``diverged_at``: the first update whose loss
    or gradient was not finite; from then on that seed keeps its last finite weights while the others train on.
    """
    from rnnlib.device import device as default_device

    lag = positive("lag", lag, integer=True)
    cfg = {**SETTINGS, **(settings or {})}
    seeds = list(GRID["seeds"] if seeds is None else seeds)
    dev = device or default_device()
    task = LagTask(lag)
    model = seeded_ensemble(seeds, cfg["hidden"])
    cause0 = [cause_gradient(model.member(i, dtype=torch.float64), lag) for i in range(len(seeds))]
    model = model.to(dev).requires_grad_()
    opt = (torch.optim.Adam(model.parameters(), lr=cfg["lr"]) if cfg["optimizer"] == "adam"
           else torch.optim.SGD(model.parameters(), lr=cfg["lr"]))
    gens = [torch_generator(s) for s in seeds]
    u_ev, y_ev = _sample(task, [torch_generator(s + 1_000_003) for s in seeds], cfg["eval_size"])
    u_ev, y_ev = u_ev.to(dev), y_ev.to(dev)
    S = len(seeds)
    solved_at = [None] * S
    diverged_at = [None] * S
    frozen = {}                                                # seed index -> its weights when it diverged
    params = model.parameters()
    errors = [[] for _ in range(S)]
    t0 = time.perf_counter()
    for step in range(1, cfg["steps"] + 1):
        u, y = _sample(task, gens, cfg["batch_size"])
        logits, _ = model.forward(u.to(dev), keep_states=False)
        per_seed = F.binary_cross_entropy_with_logits(logits, y.to(dev), reduction="none").mean((1, 2))   # (S,)
        opt.zero_grad(set_to_none=True)
        per_seed.sum().backward()                              # seeds do not share parameters: own gradients
        bad = ~torch.isfinite(per_seed.detach())               # a seed's loss or gradient not finite: it diverged
        for prm in params:
            bad |= ~torch.isfinite(prm.grad).flatten(1).all(1)
        for i in torch.nonzero(bad).flatten().tolist():
            if diverged_at[i] is None:
                diverged_at[i] = step
                frozen[i] = [prm.detach()[i].clone() for prm in params]   # its last finite weights
        opt.step()
        if frozen:                                             # a diverged seed takes no further update
            with torch.no_grad():
                for i, weights in frozen.items():
                    for prm, w in zip(params, weights):
                        prm[i] = w
        if step % cfg["eval_every"] == 0 or step == cfg["steps"]:
            with torch.no_grad():
                err = ((model.forward(u_ev, keep_states=False)[0] > 0).float() != y_ev).double().mean((1, 2)).cpu().tolist()
            for i, e in enumerate(err):
                errors[i].append((step, e))
                if e <= cfg["solve_threshold"] and solved_at[i] is None and diverged_at[i] is None:
                    solved_at[i] = step
            if all(s is not None or d is not None for s, d in zip(solved_at, diverged_at)):
                break
    per = []
    for i, s in enumerate(seeds):
        status = "diverged" if diverged_at[i] else "solved" if solved_at[i] else "budget"
        per.append({"seed": s, "status": status, "solved_at": solved_at[i], "diverged_at": diverged_at[i],
                    "final_error": errors[i][-1][1], "cause_gradient_init": cause0[i]})
    return {"lag": lag, "success_rate": sum(p["status"] == "solved" for p in per) / S,
            "cause_gradient_init": float(np.median(cause0)), "seconds": round(time.perf_counter() - t0, 2),
            "runs": per}


def run(out_dir: Path | None = None, *, quick: bool = False, device=None, progress: bool = True) -> Path:
    """The whole grid; writes ``<out_dir>/lag.json`` (``lag_quick.json`` with ``quick``) and returns its path."""
    from tqdm.auto import tqdm

    from rnnlib.device import device as default_device
    from rnnlib.sweeps.results import DATA_DIR, metadata, write_json

    grid = QUICK_GRID if quick else GRID
    dev = torch.device(device) if device is not None else default_device()
    t0 = time.perf_counter()
    points = [run_point(lag=lag, seeds=grid["seeds"], device=dev)
              for lag in tqdm(grid["lags"], disable=not progress, desc="lag")]
    payload = {"meta": metadata(device=dev, sweep="lag", quick=quick, seconds=round(time.perf_counter() - t0, 1),
                                threads=torch.get_num_threads()),
               "settings": SETTINGS, "grid": grid, "points": points}
    return write_json(Path(out_dir or DATA_DIR) / ("lag_quick.json" if quick else "lag.json"), payload)


def table(data: dict) -> list[dict]:
    """One row per lag of a results file: lag, seeds solved / seeds, success rate, median solving step, cause gradient."""
    rows = []
    for p in data["points"]:
        steps = [r["solved_at"] for r in p["runs"] if r["status"] == "solved"]
        rows.append({"lag": p["lag"], "solved": sum(r["status"] == "solved" for r in p["runs"]), "seeds": len(p["runs"]),
                     "success_rate": p["success_rate"], "median_solved_at": float(np.median(steps)) if steps else None,
                     "cause_gradient_init": p["cause_gradient_init"]})
    return rows
