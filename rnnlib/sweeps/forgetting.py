"""The price of remembering (chapter 5): a task where old events are noise, and a model must learn to forget.

The blog series accompanying the neural circuit policies paper (part 4) argues that a memory which keeps
everything by default pays for it wherever the past is irrelevant. ``price_of_remembering`` measures that:
it trains several recurrent models, with one budget, on ``rnnlib.tasks.RecentPastTask`` (the target is
the mean of the last few inputs; rare large events are noise once they leave that window) and reports
how fast each learns, how well it ends, and how it behaves on a much longer stream. ``mean_forget_gate``
reads how open a trained LSTM's forget gate is. The models are ``rnnlib.models.fused.FastRecurrent``.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from rnnlib.models.fused import FastRecurrent
from rnnlib.sweeps.gated_lag import _clip
from rnnlib.tasks.recent_past import RecentPastTask
from rnnlib.device import torch_generator

__all__ = ["FORGETTING_VARIANTS", "price_of_remembering", "mean_forget_gate"]

FORGETTING_VARIANTS = {"tanh RNN": ("tanh", {}), "LSTM, forget bias 0": ("lstm", {"forget_bias": 0.0}),
                       "LSTM, forget bias 5": ("lstm", {"forget_bias": 5.0}), "LSTM 1997 (no forget gate)": ("lstm1997", {})}


def price_of_remembering(*, variants: dict | None = None, seeds=(0, 1), task=None, steps: int = 300,
                         hidden: int = 16, lr: float = 1e-2, batch_size: int = 20, clip: float = 1.0,
                         early: int = 100, long_length: int = 1000) -> dict:
    """Train each variant on ``task`` (default ``RecentPastTask(length=50, window=3, event_rate=0.1)``).

    ``variants`` maps a label to ``(kind, kwargs)`` for :class:`FastRecurrent` (default
    ``FORGETTING_VARIANTS``). Every variant and seed gets the same budget (Adam, ``steps`` updates,
    clipping at ``clip``). Returns ``{label: {"losses": (seeds, steps) array, "early": mean training
    loss over the first ``early`` updates, "final": test MSE on 500 fresh sequences, "long": test MSE on
    a ``long_length``-step stream (continual prediction), "models": the trained models}}``; the three
    numbers are averaged over seeds. Per seed it also reports ``"status"`` ("budget", "solved" or "diverged", as
    ``rnnlib.train`` does) and ``"diverged_at"`` (the update whose loss or gradient was not finite, else None); a
    diverged run keeps its last finite weights, and its losses after that update are NaN.
    """
    from rnnlib.train import train

    task = task or RecentPastTask(length=50, window=3, event_rate=0.1)
    long_task = RecentPastTask(length=long_length, window=task.window, event_rate=task.event_rate,
                               event_size=task.event_size, signal=task.signal, tolerance=task.tolerance)
    u_test, y_test = task.sample(500, torch_generator(10_001))
    u_long, y_long = long_task.sample(50, torch_generator(10_002))
    out = {}
    for label, (kind, kwargs) in (variants or FORGETTING_VARIANTS).items():
        losses, finals, longs, models, status, diverged_at = [], [], [], [], [], []
        for seed in seeds:
            net = FastRecurrent(kind, task.n_in, hidden, task.n_out, readout="all", seed=seed, **kwargs)
            res = train(net, task, steps=steps, lr=lr, optimizer="adam", batch_size=batch_size,
                        grad_transform=_clip(clip), eval_every=steps, eval_size=100, seed=seed,
                        stop_when_solved=False, progress=False, device=torch.device("cpu"))
            with torch.no_grad():
                finals.append(float(task.loss(net(u_test)[0], y_test)))
                longs.append(float(task.loss(net(u_long)[0], y_long)))
            losses.append(res.losses + [float("nan")] * (steps - len(res.losses)))   # a diverged run stopped early
            models.append(net)
            status.append(res.status)
            diverged_at.append(res.diverged_at)
        losses = np.array(losses)
        out[label] = {"losses": losses, "early": float(losses[:, :early].mean()), "final": float(np.mean(finals)),
                      "long": float(np.mean(longs)), "models": models, "status": status, "diverged_at": diverged_at}
    return out


def mean_forget_gate(model: nn.Module, u: torch.Tensor) -> float:
    """Mean forget-gate value of an LSTM (``FastRecurrent`` of kind "lstm" or rnnlib ``LSTM``) over inputs ``u (T, B, I)``."""
    from rnnlib.models.lstm import LSTM

    net = model.to_rnnlib() if isinstance(model, FastRecurrent) else model
    if not isinstance(net, LSTM):
        raise ValueError(f"model must be an LSTM (rnnlib LSTM or FastRecurrent of kind 'lstm'), got {type(model).__name__}")
    p = next(net.parameters())
    return float(net.gate_trajectory(u.to(p.device, p.dtype))["f"].mean())
