"""The batched trainer of the sweeps: many Elman networks, each with its own update rule, trained at once (chapter 4).

``train_ensemble`` trains every member of an ``rnnlib.models.ensemble.ElmanEnsemble`` with its own ``Method``
(optimiser, learning rate, clipping threshold, Omega weight), with BPTT written out by hand. Everything that is
per network in a single run stays per member: the gradient norm that clipping uses, the NaN guard, Omega, the
learning rate and the optimiser. Members that solve the task or diverge are dropped, so the rest run faster.
``tests/test_ensemble.py`` checks every member against ``ElmanRNN`` + autograd + ``rnnlib.remedies.clip``.
``train_cell`` is one grid cell of the Pascanu sweeps (methods x seeds on one task, from one initialisation), with
its JSON-ready summary.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from rnnlib._validate import one_of, positive
from rnnlib.device import torch_generator
from rnnlib.models.ensemble import ElmanEnsemble
from rnnlib.remedies.clip import GUARD_MAX_NORM, GUARD_SHRINK, pascanu_ensemble
from rnnlib.remedies.regularizer import BOUND, omega_grad
from rnnlib.train import _progress_enabled


@dataclass(frozen=True)
class Method:
    """One update rule: ``optimizer`` ("sgd" or "adam"), ``lr``, norm-clipping ``clip`` threshold (None:
    no clipping and no guard, plain MSGD), regulariser weight ``alpha`` (0: none)."""

    optimizer: str = "sgd"
    lr: float = 0.01
    clip: float | None = None
    alpha: float = 0.0

    def __post_init__(self):
        one_of("optimizer", self.optimizer, ("sgd", "adam"))
        positive("lr", self.lr)
        if self.clip is not None:
            positive("clip", self.clip)
        positive("alpha", self.alpha, allow_zero=True)


# The paper's three methods (lr 0.01, no momentum, threshold 1, alpha 4), plus Adam with clipping.
METHODS = {
    "MSGD": Method("sgd", 0.01),
    "MSGD-C": Method("sgd", 0.01, clip=1.0),
    "MSGD-CR": Method("sgd", 0.01, clip=1.0, alpha=4.0),
    "Adam-C": Method("adam", 1e-3, clip=1.0),
}


def member_losses(task, y: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Each member's loss (M,) for the pathological tasks' three output kinds (and rnnlib.tasks.LagTask).

    y (M, B, O) or (T, M, B, O); target (M, B[, O]) or (T, M, B)."""
    kind = getattr(task, "kind", None)
    if kind == "lastSoftmax":
        M, B, O = y.shape
        return F.cross_entropy(y.reshape(M * B, O), target.reshape(-1), reduction="none").view(M, B).mean(1)
    if kind == "lastLinear":
        return ((target.to(y.dtype) - y) ** 2).mean(1).sum(-1)
    if kind == "softmax":
        T, M, B, O = y.shape
        ce = F.cross_entropy(y.reshape(-1, O), target.reshape(-1), reduction="none").view(T, M, B)
        return ce.mean((0, 2))
    return torch.stack([task.loss(y[m], target[m]) for m in range(y.shape[0])])


def member_errors(task, y: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Each member's error (M,) on targets shared by all members (B[, O]) or (T, B)."""
    if y.dim() == 4:  # (T, M, B, O)
        return torch.tensor([task.error(y[:, m], target) for m in range(y.shape[1])], dtype=torch.float64)
    return torch.tensor([task.error(y[m], target) for m in range(y.shape[0])], dtype=torch.float64)


@dataclass
class EnsembleResult:
    """Per member: how the run ended, and its traces (NaN where the member had stopped)."""

    methods: list
    status: list                       # "solved" | "budget" | "diverged"
    solved_at: list
    diverged_at: list
    final_error: list
    grad_norms: np.ndarray             # (steps, M) pre-clip norm (with Omega's gradient, as the code logs)
    losses: np.ndarray                 # (steps, M)
    omegas: np.ndarray                 # (steps, M) Omega (NaN for members without the regulariser)
    eval_steps: list = field(default_factory=list)
    evals: np.ndarray | None = None    # (n_evals, M) error on the screening set
    guard_count: list = field(default_factory=list)
    params: list = field(default_factory=list)   # each member's final weights (dict of tensors)
    seconds: float = 0.0

    @property
    def success(self) -> np.ndarray:
        return np.array([s == "solved" for s in self.status])


def _norms(g: dict) -> torch.Tensor:
    """Per-member global gradient norm (M,)."""
    return torch.sqrt(sum((v.reshape(v.shape[0], -1) ** 2).sum(1) for v in g.values()))


def train_ensemble(ens: ElmanEnsemble, task, methods: list, data_index, *, n_batches: int, steps: int,
                   batch_size: int = 20, eval_every: int = 100, eval_size: int = 2000, screen_size: int = 200,
                   solve_threshold: float = 0.01, seed: int = 0, progress: bool | None = None,
                   device=None) -> EnsembleResult:
    """Train every member with its own ``Method`` until it solves the task, diverges, or ``steps`` run out.

    Every update draws ``n_batches`` batches of ``batch_size`` from one stream seeded with ``seed``; member m
    trains on batch ``data_index[m]`` (so members sharing an index see the same data: paired comparisons).
    Every ``eval_every`` updates each running member is scored on ``screen_size`` fresh sequences, and those
    at or under 5 % error on the full ``eval_size`` set; at or below ``solve_threshold`` there it is solved.
    A NaN/inf loss or gradient ends a member without clipping (plain MSGD: "diverged", at that step, whose update
    it does not take, so ``params`` keep its last finite weights); members with
    clipping use the authors' guard (dE/dW_hh := 0.02 W_hh, the rest 0) when the norm is not finite or > 1e10.
    Computes on the ensemble's device, or on ``device`` when given (the weights are moved there first).
    """
    M = ens.size
    if len(methods) != M or len(data_index) != M:
        raise ValueError(f"methods and data_index must have one entry per member ({M})")
    steps = positive("steps", steps, integer=True)
    if device is None:
        dev = ens.p["W_hh"].device
    else:
        dev = torch.device(device)
        ens = ElmanEnsemble({k: v.to(dev) for k, v in ens.p.items()}, activation=ens.activation, readout=ens.readout)
    dtype = ens.p["W_hh"].dtype
    gen = torch_generator(seed)
    ev_gen = torch_generator(seed + 1_000_003)
    u_ev, t_ev = task.sample(eval_size, ev_gen)
    u_ev, t_ev = u_ev.to(dev, dtype), t_ev.to(dev)

    idx = np.arange(M)                                      # original index of each running member
    data_idx = torch.as_tensor(np.asarray(data_index), device=dev)
    lr = torch.tensor([m.lr for m in methods], dtype=dtype, device=dev)
    clip = torch.tensor([m.clip if m.clip else math.inf for m in methods], dtype=dtype, device=dev)
    alpha = torch.tensor([m.alpha for m in methods], dtype=dtype, device=dev)
    adam = torch.tensor([m.optimizer == "adam" for m in methods], device=dev)
    guarded = torch.isfinite(clip)
    state = {k: (torch.zeros_like(v), torch.zeros_like(v)) for k, v in ens.p.items()}  # Adam moments
    b1, b2, eps = 0.9, 0.999, 1e-8

    res = EnsembleResult(methods=list(methods), status=["budget"] * M, solved_at=[None] * M,
                         diverged_at=[None] * M, final_error=[float("nan")] * M,
                         grad_norms=np.full((steps, M), np.nan, np.float32),
                         losses=np.full((steps, M), np.nan, np.float32),
                         omegas=np.full((steps, M), np.nan, np.float32), guard_count=[0] * M,
                         params=[None] * M)
    evals = []
    t0 = time.perf_counter()
    bar = tqdm(range(1, steps + 1), disable=not _progress_enabled(progress), leave=False, desc="ensemble")
    for step in bar:
        u, target = task.sample(n_batches * batch_size, gen)
        u, target = u.to(dev, dtype), target.to(dev)
        T = u.shape[0]
        u = u.view(T, n_batches, batch_size, -1).index_select(1, data_idx)          # (T, M, B, I)
        target = _split_targets(task, target, n_batches, batch_size).index_select(
            1 if task.readout == "all" else 0, data_idx)
        y, h = ens.forward(u)
        yv = y.detach().requires_grad_(True)
        losses = member_losses(task, yv, target)
        (dy,) = torch.autograd.grad(losses.sum(), yv)
        g, d = ens.backward(u, h, dy)
        om = torch.full((len(idx),), float("nan"), dtype=dtype, device=dev)
        reg = torch.nonzero(alpha > 0).flatten()
        if len(reg):  # Omega and its gradient for the regularised members only
            pick = lambda x: x.transpose(0, 1).index_select(0, reg).transpose(0, 1)  # stays member-first
            value, gom = omega_grad(pick(d), pick(h), ens.p["W_hh"].index_select(0, reg), ens.activation,
                                    bound=BOUND)
            g["W_hh"] = g["W_hh"].index_add(0, reg, alpha[reg, None, None] * gom)  # added before clipping
            om[reg] = value
        norm = _norms(g)
        res.grad_norms[step - 1, idx] = norm.cpu().numpy()
        res.losses[step - 1, idx] = losses.detach().cpu().numpy()
        res.omegas[step - 1, idx] = om.cpu().numpy()
        bad = ~torch.isfinite(norm) | (norm > GUARD_MAX_NORM) | ~torch.isfinite(losses.detach())
        # clipping: g <- clip / ||g|| g where ||g|| >= clip (per member; clip = inf for no clipping)
        scale = torch.where(norm >= clip, clip / norm, torch.ones_like(norm))
        fire = bad & guarded
        stop_t = bad & ~guarded                                  # diverged: these members take no update
        stop = stop_t.cpu().numpy()
        any_stop = bool(stop.any())
        for k in g:
            shape = (-1,) + (1,) * (g[k].dim() - 1)
            gk = g[k] * scale.view(shape)
            shrink = GUARD_SHRINK * ens.p[k] if k == "W_hh" else torch.zeros_like(g[k])
            g[k] = torch.where(fire.view(shape), shrink, gk)                          # the authors' guard
        for k, v in ens.p.items():
            shape = (-1,) + (1,) * (v.dim() - 1)
            m1, m2 = state[k]
            m1.mul_(b1).add_((1 - b1) * g[k])
            m2.mul_(b2).add_((1 - b2) * g[k] * g[k])
            upd_adam = (m1 / (1 - b1 ** step)) / ((m2 / (1 - b2 ** step)).sqrt() + eps)
            upd = torch.where(adam.view(shape), upd_adam, g[k])
            step_k = lr.view(shape) * upd
            if any_stop:                                        # keep a diverged member's last finite weights
                step_k = torch.where(stop_t.view(shape), torch.zeros_like(step_k), step_k)
            v.sub_(step_k)                                                             # p <- p - lr * update
        for j in torch.nonzero(fire).flatten().tolist():
            res.guard_count[idx[j]] += 1
        for j in np.nonzero(stop)[0]:
            res.status[idx[j]], res.diverged_at[idx[j]] = "diverged", step
        if step % eval_every == 0 or step == steps:
            with torch.no_grad():
                ye, _ = ens.forward(u_ev[:, :screen_size], keep_states=False)
                err = member_errors(task, ye, t_ev[..., :screen_size] if task.readout == "all"
                                    else t_ev[:screen_size]).numpy()
                close = np.nonzero((err <= 0.05) & ~stop)[0]
                if len(close):
                    sub = ens.select(close)
                    ye, _ = sub.forward(u_ev, keep_states=False)
                    err[close] = member_errors(task, ye, t_ev).numpy()
            row = np.full(M, np.nan)
            row[idx] = err
            evals.append(row)
            res.eval_steps.append(step)
            for j in range(len(idx)):
                if not stop[j]:
                    res.final_error[idx[j]] = float(err[j])
                    if len(close) and j in close and err[j] <= solve_threshold:
                        res.status[idx[j]], res.solved_at[idx[j]] = "solved", step
            done = np.array([res.status[i] != "budget" for i in idx])
            bar.set_postfix(running=int((~done).sum()))
        else:
            done = stop
        if done.any():
            for j in np.nonzero(done)[0]:
                res.params[idx[j]] = {k: v[j].clone() for k, v in ens.p.items()}
            keep = np.nonzero(~done)[0]
            if len(keep) == 0:
                break
            kt = torch.as_tensor(keep, device=dev)
            ens = ens.select(keep)
            state = {k: (a.index_select(0, kt), b.index_select(0, kt)) for k, (a, b) in state.items()}
            lr, clip, alpha, adam, guarded = (x.index_select(0, kt) for x in (lr, clip, alpha, adam, guarded))
            data_idx = data_idx.index_select(0, kt)
            idx = idx[keep]
    bar.close()
    for j, i in enumerate(idx):
        if res.params[i] is None:
            res.params[i] = {k: v[j].clone() for k, v in ens.p.items()}
    res.evals = np.array(evals) if evals else np.zeros((0, M))
    res.seconds = time.perf_counter() - t0
    res.grad_norms = res.grad_norms[:step]
    res.losses = res.losses[:step]
    res.omegas = res.omegas[:step]
    return res


def _split_targets(task, target: torch.Tensor, n_batches: int, batch_size: int) -> torch.Tensor:
    """(n_batches * B, ...) -> (n_batches, B, ...); for per-step targets (T, n_batches * B) -> (T, n, B)."""
    if task.readout == "all":
        return target.view(target.shape[0], n_batches, batch_size, *target.shape[2:])
    return target.view(n_batches, batch_size, *target.shape[1:])


# --- one grid cell of the Pascanu sweeps (temporal_order, pascanu_tasks) ----------------------------------

BLOCK = 100  # gradient-norm summaries are kept per block of this many updates


def rounded(x, digits: int = 4) -> list:
    """Floats to ``digits`` significant digits for a results file (None for NaN and inf)."""
    return [None if (v is None or not np.isfinite(v)) else float(f"{v:.{digits}g}") for v in x]


def chosen_seeds(seeds: int, only_seeds) -> list:
    """The seeds a cell trains: all of range(seeds), or the subset ``only_seeds``."""
    chosen = list(range(seeds)) if only_seeds is None else [int(s) for s in only_seeds]
    if not chosen or any(s < 0 or s >= seeds for s in chosen):
        raise ValueError(f"only_seeds must be a non-empty subset of range({seeds}), got {only_seeds!r}")
    return chosen


def train_cell(task, init: str, methods, chosen, *, n_batches: int, steps: int, settings: dict, seed: int,
               device=None, progress: bool | None = None) -> tuple[dict, EnsembleResult]:
    """Train ``methods`` x ``chosen`` seeds on ``task`` from the paper's ``init`` as one ensemble.

    Seed s gives every method the same initial weights and the same minibatches (batch s of ``n_batches`` per
    update, drawn from the stream ``seed``). ``settings`` holds n_hidden, batch_size, eval_every, eval_size,
    screen_size and solve_threshold. Returns the JSON-ready summary (per run: status, solving step, final error,
    error trace and per-``BLOCK`` gradient-norm median and maximum; success rate per method; wall and CPU
    seconds) and the ``EnsembleResult``."""
    for m in methods:
        one_of("methods", m, METHODS)
    names = [m for m in methods for _ in chosen]
    seed_of = [s for _ in methods for s in chosen]
    ens = pascanu_ensemble(task, init, seed_of, n_hidden=settings["n_hidden"], device=device)
    t0, c0 = time.perf_counter(), time.process_time()
    res = train_ensemble(ens, task, [METHODS[n] for n in names], seed_of, n_batches=n_batches, steps=steps,
                         batch_size=settings["batch_size"], eval_every=settings["eval_every"],
                         eval_size=settings["eval_size"], screen_size=settings["screen_size"],
                         solve_threshold=settings["solve_threshold"], seed=seed, progress=progress, device=device)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    runs = []
    n = res.grad_norms.shape[0]
    for i, (name, s) in enumerate(zip(names, seed_of)):
        gn = res.grad_norms[:, i].astype(float)
        blocks = [gn[k:k + BLOCK] for k in range(0, n, BLOCK)]
        blocks = [b[np.isfinite(b)] for b in blocks]
        runs.append({
            "method": name, "seed": s, "status": res.status[i], "solved_at": res.solved_at[i],
            "diverged_at": res.diverged_at[i], "final_error": rounded([res.final_error[i]])[0],
            "guard_count": res.guard_count[i],
            "error_trace": rounded(res.evals[:, i]),
            "norm_median": rounded([float(np.median(b)) if b.size else np.nan for b in blocks]),
            "norm_max": rounded([float(np.max(b)) if b.size else np.nan for b in blocks]),
        })
    success = {m: float(np.mean([r["status"] == "solved" for r in runs if r["method"] == m])) for m in methods}
    out = {"steps": steps, "eval_steps": res.eval_steps, "success": success, "runs": runs,
           "seconds": round(wall, 2), "cpu_seconds": round(cpu, 2)}
    return out, res
