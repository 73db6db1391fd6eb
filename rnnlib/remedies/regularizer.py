"""Pascanu et al.'s vanishing-gradient regulariser Omega, computed as in the authors' code (chapter 4).

The paper (eqs. 9-10) asks every step's Jacobian to preserve the norm of the back-propagated error
along the error's own direction:

    Omega = sum_k ( ||dE/dx_{k+1} . dx_{k+1}/dx_k||^2 / ||dE/dx_{k+1}||^2 - 1 )^2,

taking only the "immediate" derivative with respect to W_rec: dE/dx_{k+1} and x_k are held constant.
The authors' code (``RNN.py``) computes, in ``ElmanRNN``'s notation (h_t = sigma(W_hh h_{t-1} + ...),
d_t = dE/dh_t the TOTAL derivative of the cost, row vectors):

    a_t   = d_t * sigma'(h_t)                       (elementwise; sigma' from the state: 1 - h^2 or h(1 - h))
    r_t   = ||a_t W_hh||^2 / ||d_t||^2              (= ||d_t dh_t/dh_{t-1}||^2 / ||d_t||^2; 1 if ||d_t||^2 < 1e-20)
    Omega = sum_t mean_batch (r_t - 1)^2  /  sum_t mean_batch [||d_t||^2 >= 1e-20]

a mean over the valid (time, example) pairs, for t = 1..T. Its gradient goes into W_hh only, scaled by
``alpha`` and added to dE/dW_hh before the gradient norm is taken and clipped.

rnnlib.train calls ``before_step(model, u, target, y, h)`` after backward with ``h.retain_grad()``; since
``h`` is the stack of the states, ``h.grad`` holds the DIRECT derivatives d+E/dh_t (non-zero only where an
output reads the state). ``total_state_grads`` turns them into the total ones with the BPTT recursion
d_{t-1} = d+_{t-1} + (d_t * sigma'(h_t)) W_hh, which is the code's ``gH``.
All functions also take a stack of M independent networks (W_hh (M, H, H), states (T + 1, M, B, H)).
"""
from __future__ import annotations

import torch

from rnnlib._validate import positive
from rnnlib.models.elman import activation_derivative

BOUND = 1e-20  # the code's state['bound']: steps with ||d_t||^2 below it count as r_t = 1 and are not valid


def total_state_grads(W_hh: torch.Tensor, h: torch.Tensor, direct: torch.Tensor | None,
                      activation: str) -> torch.Tensor:
    """d_t = dE/dh_t for t = 0..T from the direct derivatives (T + 1, ..., B, H).

    d_T = d+_T;  d_{t-1} = d+_{t-1} + (d_t * sigma'(h_t)) @ W_hh   (the BPTT recursion).
    """
    W = W_hh.detach()
    h = h.detach()
    g = torch.zeros_like(h) if direct is None else direct.detach()
    sp = activation_derivative(h, activation)
    d = torch.empty_like(h)
    d[-1] = g[-1]
    for t in range(h.shape[0] - 1, 0, -1):
        d[t - 1] = g[t - 1] + (d[t] * sp[t]) @ W      # d_{t-1} = d+_{t-1} + d_t diag(sigma'_t) W_hh
    return d


def _rowmat(a: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """a @ W for a (T, B, H), W (H, H), or member-wise for a (T, M, B, H), W (M, H, H) (one bmm)."""
    if W.dim() == 2:
        return a @ W
    T, M, B, H = a.shape
    x = torch.bmm(a.transpose(0, 1).reshape(M, T * B, H), W)
    return x.view(M, T, B, -1).transpose(0, 1)


def _pieces(d, h, W_hh, activation, bound):
    """a_t, x_t = a_t W_hh, ||x_t||^2, ||d_t||^2 and the valid mask, for t = 1..T."""
    dt = d[1:].detach()
    a = dt * activation_derivative(h[1:].detach(), activation)   # a_t = d_t * sigma'(h_t)
    x = _rowmat(a, W_hh)                                           # d_t dh_t/dh_{t-1} = a_t W_hh
    num = (x * x).sum(-1)                                          # ||d_t dh_t/dh_{t-1}||^2
    den = (dt * dt).sum(-1)                                        # ||d_t||^2
    valid = den >= bound
    return a, x, num, den, valid


def step_ratios(d: torch.Tensor, h: torch.Tensor, W_hh: torch.Tensor, activation: str, *,
                bound: float = BOUND) -> torch.Tensor:
    """r_t = ||d_t dh_t/dh_{t-1}||^2 / ||d_t||^2 for t = 1..T, shape (T, ..., B); NaN where not valid."""
    _, _, num, den, valid = _pieces(d, h, W_hh.detach(), activation, bound)
    return torch.where(valid, num / den.clamp_min(bound), torch.full_like(num, float("nan")))


def omega(d: torch.Tensor, h: torch.Tensor, W_hh: torch.Tensor, activation: str, *,
          bound: float = BOUND) -> tuple[torch.Tensor, torch.Tensor]:
    """(Omega, fraction of valid steps): the code's mean over valid steps of (r_t - 1)^2.

    Differentiable in ``W_hh`` only (``d`` and ``h`` are detached): autograd gives the immediate derivative.
    Shapes: d, h (T + 1, [M,] B, H); W_hh ([M,] H, H); results are 0-d (or (M,)).
    """
    positive("bound", bound)
    _, _, num, den, valid = _pieces(d, h, W_hh, activation, bound)
    r = torch.where(valid, num / den.clamp_min(bound), torch.ones_like(num))
    per_step = ((r - 1.0) ** 2).mean(-1)                 # mean over the batch, (T, [M])
    n_valid = valid.to(num.dtype).mean(-1)               # fraction of valid examples per step
    value = per_step.sum(0) / n_valid.sum(0).clamp_min(1e-30)
    return value, n_valid.mean(0)


def omega_grad(d: torch.Tensor, h: torch.Tensor, W_hh: torch.Tensor, activation: str, *,
               bound: float = BOUND) -> tuple[torch.Tensor, torch.Tensor]:
    """(Omega, dOmega/dW_hh) in closed form, with d and h constant.

    With r = ||a W||^2 / ||d||^2:  dr/dW = 2 a^T (a W) / ||d||^2, so
    dOmega/dW = sum_{t,b} [4 (r - 1) / (B N ||d||^2)] a^T (a W),   N = sum_t mean_b valid.
    """
    positive("bound", bound)
    W = W_hh.detach()
    a, x, num, den, valid = _pieces(d, h, W, activation, bound)
    B = num.shape[-1]
    r = torch.where(valid, num / den.clamp_min(bound), torch.ones_like(num))
    N = valid.to(num.dtype).mean(-1).sum(0).clamp_min(1e-30)           # ([M])
    value = ((r - 1.0) ** 2).mean(-1).sum(0) / N
    c = torch.where(valid, 4.0 * (r - 1.0) / den.clamp_min(bound), torch.zeros_like(r)) / B
    c = c / N.unsqueeze(-1) if N.dim() else c / N                        # (T, [M,] B)
    ca = c.unsqueeze(-1) * a
    if W.dim() == 2:
        grad = ca.reshape(-1, ca.shape[-1]).T @ x.reshape(-1, x.shape[-1])  # sum_{t,b} c a^T x
    else:
        M, H = W.shape[0], W.shape[-1]
        grad = torch.bmm(ca.transpose(0, 1).reshape(M, -1, H).transpose(1, 2), x.transpose(0, 1).reshape(M, -1, H))
    return value, grad


class VanishingRegularizer:
    """``before_step`` for ``rnnlib.train``: adds ``alpha`` * dOmega/dW_hh to W_hh's gradient.

    It runs after backward and before the gradient norm is taken, so clipping (a ``grad_transform``)
    clips the regularised gradient, as in the authors' code. ``values`` keeps Omega per step and
    ``valid_fraction`` the code's "steps in the past" (mean fraction of valid steps).
    The paper's temporal-order experiments use ``alpha = 4``; the code's default is 2.
    """

    def __init__(self, alpha: float = 4.0, *, bound: float = BOUND):
        self.alpha = positive("alpha", alpha, allow_zero=True)
        self.bound = positive("bound", bound)
        self.values: list[float] = []
        self.valid_fraction: list[float] = []

    def __call__(self, model, u, target, y, h) -> None:
        d = total_state_grads(model.W_hh, h, h.grad, model.activation)
        value, grad = omega_grad(d, h, model.W_hh, model.activation, bound=self.bound)
        self.values.append(float(value))
        self.valid_fraction.append(float(_valid_fraction(d, self.bound)))
        if self.alpha > 0:
            with torch.no_grad():
                if model.W_hh.grad is None:
                    model.W_hh.grad = torch.zeros_like(model.W_hh)
                model.W_hh.grad.add_(self.alpha * grad.to(model.W_hh.dtype))  # gW_hh += alpha dOmega/dW_hh

    def __repr__(self) -> str:
        last = f", last Omega {self.values[-1]:.3g}" if self.values else ""
        return f"VanishingRegularizer(alpha={self.alpha}{last})"


# rnnlib.train refuses the class passed uncalled as before_step, and says how to build one.
VanishingRegularizer.rnnlib_factory = "regularizer.VanishingRegularizer(alpha=4.0)"


def _valid_fraction(d, bound):
    return ((d[1:] * d[1:]).sum(-1) >= bound).to(d.dtype).mean()


def state_grads(model, task, u: torch.Tensor, target: torch.Tensor) -> dict:
    """Forward and backward one batch; returns the states h, the total d_t = dE/dh_t, the loss,
    the per-step ratios r_t (T, B) and Omega. The model's gradients are left untouched."""
    p = next(model.parameters())
    u = u.to(p.device, p.dtype)
    y, h = model(u)
    loss = task.loss(y, target.to(p.device))
    (g,) = torch.autograd.grad(loss, h, allow_unused=True)
    d = total_state_grads(model.W_hh, h, g, model.activation)
    value, frac = omega(d, h, model.W_hh.detach(), model.activation)
    return {"h": h.detach(), "d": d, "loss": float(loss.detach()), "omega": float(value), "valid_fraction": float(frac),
            "ratios": step_ratios(d, h, model.W_hh, model.activation)}
