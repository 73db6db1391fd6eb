"""Many independent Elman RNNs trained at once, for multi-seed, multi-method sweeps (chapter 4).

``ElmanEnsemble`` stacks M networks with the same shapes (W_xh (M, H, I), W_hh (M, H, H), b_h (M, H),
W_hy (M, O, H), b_y (M, O)) and runs them together with batched matrix products: member m sees its own
batch u[:, m] (time first: u (T, M, B, I), states (T + 1, M, B, H)). Forward and BPTT are written out by
hand (no autograd graph), which on a CPU is several times cheaper than looping over separate models:

    h_t = sigma(W_hh h_{t-1} + W_xh u_t + b_h),    y = W_hy h_T + b_y   (or every step)
    d_T = d+_T,   delta_t = d_t * sigma'(h_t),   d_{t-1} = d+_{t-1} + delta_t W_hh
    dE/dW_hh = sum_t delta_t^T h_{t-1},  dE/dW_xh = sum_t delta_t^T u_t,  dE/db_h = sum_t delta_t

Everything that is per network in a single run stays per member: the gradient norm that clipping uses,
the NaN guard, Omega, the learning rate and the optimiser (each member follows its own ``Method``).
Members that solve the task or diverge are dropped, so the rest run faster.
``tests/test_ensemble.py`` checks every member against ``ElmanRNN`` + autograd + ``rnnlib.clip``.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ._validate import one_of, positive
from .clip import GUARD_MAX_NORM, GUARD_SHRINK, pascanu_weights, INITS
from .regularizer import BOUND, activation_derivative, omega_grad
from .rnn import ACTIVATIONS, ElmanRNN
from .train import _progress_enabled
from .device import torch_generator

PARAMS = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")


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


class ElmanEnsemble:
    """M Elman RNNs of the same shape, as stacked tensors (no autograd)."""

    def __init__(self, params: dict, *, activation: str = "tanh", readout: str = "last"):
        self.activation = one_of("activation", activation, ACTIVATIONS)
        self.readout = one_of("readout", readout, ("last", "all"))
        missing = [k for k in PARAMS if k not in params]
        if missing:
            raise ValueError(f"params must hold {PARAMS}, missing {missing}")
        self.p = {k: params[k] for k in PARAMS}
        M, H, _ = self.p["W_hh"].shape
        if self.p["W_xh"].shape[:2] != (M, H) or self.p["W_hy"].shape[::2] != (M, H):
            raise ValueError("params must share M and H: W_xh (M, H, I), W_hh (M, H, H), W_hy (M, O, H)")

    # --- construction ---
    @classmethod
    def from_models(cls, models: list) -> "ElmanEnsemble":
        """Stack copies of ``ElmanRNN`` models (same shapes, activation and readout)."""
        if not models:
            raise ValueError("models must be a non-empty list of ElmanRNN")
        p = {k: torch.stack([getattr(m, k).detach().clone() for m in models]) for k in PARAMS}
        return cls(p, activation=models[0].activation, readout=models[0].readout)

    @classmethod
    def pascanu(cls, task, scheme: str, seeds, *, n_hidden: int = 50, dtype=torch.float32,
                device=None) -> "ElmanEnsemble":
        """One member per seed, initialised as ``rnnlib.clip.pascanu_rnn(task, scheme, seed=s)``."""
        one_of("scheme", scheme, INITS)
        ws = [pascanu_weights(task.n_in, n_hidden, task.n_out, scheme, seed=int(s), dtype=dtype) for s in seeds]
        p = {k: torch.stack([w[k] for w in ws]).to(device) for k in PARAMS}
        return cls(p, activation=INITS[scheme][0], readout=task.readout)

    @property
    def size(self) -> int:
        return self.p["W_hh"].shape[0]

    def member(self, i: int, dtype=None) -> ElmanRNN:
        """Member ``i`` as an ``ElmanRNN``, on the ensemble's device."""
        W = self.p["W_hh"][i]
        m = ElmanRNN(self.p["W_xh"].shape[2], W.shape[0], self.p["W_hy"].shape[1], activation=self.activation,
                     readout=self.readout, dtype=dtype or W.dtype).to(W.device)
        with torch.no_grad():
            for k in PARAMS:
                getattr(m, k).copy_(self.p[k][i])
        return m

    def select(self, index) -> "ElmanEnsemble":
        """The members at ``index`` (a new ensemble; tensors are copied)."""
        index = torch.as_tensor(index, dtype=torch.long, device=self.p["W_hh"].device)
        return ElmanEnsemble({k: v.index_select(0, index) for k, v in self.p.items()},
                             activation=self.activation, readout=self.readout)

    # --- forward and BPTT ---
    # Internally the states live member-first, (M, T + 1, B, H), so that the weight gradients are single
    # batched products over (time x batch) without copies; callers see time-first views (T + 1, M, B, H).
    def forward(self, u: torch.Tensor, *, keep_states: bool = True):
        """u (T, M, B, I), or (T, B, I) shared by all members. Returns (y, h): y (M, B, O) or (T, M, B, O);
        h (T + 1, M, B, H) (only h_T, shape (M, B, H), when ``keep_states`` is False)."""
        act = ACTIVATIONS[self.activation]
        tanh = self.activation == "tanh"
        p = self.p
        eq = "tmbi,mhi->tmbh" if u.dim() == 4 else "tbi,mhi->tmbh"
        xin = torch.einsum(eq, u, p["W_xh"]) + p["b_h"][None, :, None, :]   # W_xh u_t + b_h
        T, M, B, H = xin.shape
        WT = p["W_hh"].transpose(1, 2)
        h = xin.new_zeros(M, B, H)
        if keep_states:
            hs = xin.new_zeros(M, T + 1, B, H)
        ys = []
        for t in range(T):
            h = _step(xin[t], h, WT, act, tanh)                              # h_t = sigma(W_hh h_{t-1} + ...)
            if keep_states:
                hs[:, t + 1] = h
            elif self.readout == "all":
                ys.append(torch.baddbmm(p["b_y"][:, None, :], h, p["W_hy"].transpose(1, 2)))
        if self.readout == "last":
            y = torch.baddbmm(p["b_y"][:, None, :], h, p["W_hy"].transpose(1, 2))   # y = W_hy h_T + b_y
        elif keep_states:
            y = (torch.bmm(hs[:, 1:].reshape(M, T * B, H), p["W_hy"].transpose(1, 2)) + p["b_y"][:, None, :])
            y = y.view(M, T, B, -1).transpose(0, 1)
        else:
            y = torch.stack(ys)
        return y, (hs.transpose(0, 1) if keep_states else h)

    def backward(self, u: torch.Tensor, h: torch.Tensor, dy: torch.Tensor):
        """BPTT by hand. Returns (grads dict like the params, d) with d_t = dE/dh_t (T + 1, M, B, H)."""
        p = self.p
        hm = h.transpose(0, 1).contiguous()                                 # (M, T + 1, B, H); a view if from forward
        M, T1, B, H = hm.shape
        T = T1 - 1
        if u.dim() == 3:
            u = u[:, None].expand(-1, M, -1, -1)
        sp = activation_derivative(hm[:, 1:], self.activation)              # sigma'(h_t), t = 1..T
        g = {}
        if self.readout == "last":
            g["W_hy"] = dy.transpose(1, 2) @ hm[:, -1]                      # dy^T h_T
            g["b_y"] = dy.sum(1)
            direct = None
        else:
            dym = dy.transpose(0, 1).reshape(M, T * B, -1)
            g["W_hy"] = torch.bmm(dym.transpose(1, 2), hm[:, 1:].reshape(M, T * B, H))
            g["b_y"] = dym.sum(1)
            direct = torch.bmm(dym, p["W_hy"]).view(M, T, B, H)             # d+_t, t = 1..T
        d = hm.new_zeros(M, T1, B, H)
        delta = hm.new_empty(M, T, B, H)
        dt = dy @ p["W_hy"] if direct is None else direct[:, T - 1]         # d_T = d+_T
        d[:, T] = dt
        W = p["W_hh"]
        for t in range(T, 0, -1):
            dl = dt * sp[:, t - 1]                                          # delta_t = d_t * sigma'(h_t)
            delta[:, t - 1] = dl
            dt = torch.bmm(dl, W)                                           # d_{t-1} = delta_t W_hh (+ d+_{t-1})
            if direct is not None and t > 1:
                dt = dt + direct[:, t - 2]
            d[:, t - 1] = dt
        dm = delta.view(M, T * B, H).transpose(1, 2)                        # (M, H, T B)
        g["W_hh"] = torch.bmm(dm, hm[:, :-1].reshape(M, T * B, H))          # sum_t delta_t^T h_{t-1}
        g["W_xh"] = torch.bmm(dm, u.to(dm.dtype).transpose(0, 1).reshape(M, T * B, -1))
        g["b_h"] = dm.sum(2)
        return g, d.transpose(0, 1)


def to_model(params: dict, *, activation: str = "tanh", readout: str = "last") -> ElmanRNN:
    """An ``ElmanRNN`` holding one member's weights (e.g. ``EnsembleResult.params[i]``)."""
    return ElmanEnsemble({k: v[None] for k, v in params.items()}, activation=activation,
                         readout=readout).member(0)


def _step(xin_t, h, WT, act, tanh: bool):
    """sigma(xin_t + h W_hh^T). tanh is computed as 2 sigmoid(2a) - 1, the same function, because torch's
    CPU tanh is several times slower than its sigmoid (and the forward pass is most of a step)."""
    if tanh:
        return torch.baddbmm(xin_t, h, WT, beta=2.0, alpha=2.0).sigmoid_().mul_(2.0).sub_(1.0)
    return act(torch.baddbmm(xin_t, h, WT))


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
    A NaN/inf loss or gradient ends a member without clipping (plain MSGD: "diverged"); members with
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
            v.sub_(lr.view(shape) * upd)                                               # p <- p - lr * update
        for j in torch.nonzero(fire).flatten().tolist():
            res.guard_count[idx[j]] += 1
        stop = (bad & ~guarded).cpu().numpy()
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
