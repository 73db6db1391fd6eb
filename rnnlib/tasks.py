"""Sequence tasks with a known dependency structure (chapters 1, 3, 5 and 7).

A task object samples batches and scores predictions:

* ``task.sample(batch_size, generator)`` returns ``(u, target)`` with ``u`` of shape (T, B, n_in);
* ``task.loss(y, target)`` is the training loss (a scalar tensor);
* ``task.error(y, target)`` is the fraction of wrongly answered sequences (the success criterion).

``readout`` says whether the task scores the last output only (``"last"``) or every step (``"all"``).
The pathological problems of Pascanu et al. (2013) live in ``rnnlib.pathological``.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ._validate import in_range, positive


@dataclass
class LagTask:
    """Delayed recall: at the last step, report the input bit seen ``lag`` steps earlier.

    Every step carries a random bit u_t in {-1, +1}; the answer is the sign of u_{T-lag}
    (time counted 1..T). The ``lag - 1`` bits after the cause and the ones before it are
    distractors, so the only way to succeed is to carry u_{T-lag} for ``lag`` steps: the
    "mouse now, cat later" dependency of the NCP blog. Chance level is an error of 0.5.

    ``length`` defaults to ``lag + 5`` (four distractors before the cause). ``noise`` adds
    Gaussian noise of that standard deviation to every input.
    """

    lag: int
    length: int | None = None
    noise: float = 0.0

    n_in: int = 1
    n_out: int = 1
    readout: str = "last"

    def __post_init__(self):
        self.lag = positive("lag", self.lag, integer=True, allow_zero=True)
        if self.length is None:
            self.length = self.lag + 5
        self.length = positive("length", self.length, integer=True)
        in_range("lag", self.lag, 0, self.length - 1)
        positive("noise", self.noise, allow_zero=True)

    @property
    def cause_index(self) -> int:
        """0-based index of the input the answer depends on."""
        return self.length - 1 - self.lag

    def sample(self, batch_size: int, generator: torch.Generator | None = None):
        """u (T, B, 1) in {-1, +1} (+ noise); target (B, 1) in {0, 1}."""
        positive("batch_size", batch_size, integer=True)
        bits = torch.randint(0, 2, (self.length, batch_size, 1), generator=generator).float()
        u = 2 * bits - 1
        if self.noise > 0:
            u = u + self.noise * torch.randn(u.shape, generator=generator)
        return u, bits[self.cause_index]

    def loss(self, y: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Binary cross-entropy on the logit y (B, 1)."""
        return F.binary_cross_entropy_with_logits(y, target.to(y.dtype))

    def error(self, y: torch.Tensor, target: torch.Tensor) -> float:
        """Fraction of sequences whose sign is wrong."""
        return float(((y > 0).to(target.dtype) != target).double().mean())


@dataclass
class RecentPastTask:
    """Lane keeping, abstracted: the answer depends on the last few inputs only, older ones are noise.

    Every step carries an observation ``u_t = x_t + e_t``: a small signal ``x_t ~ N(0, signal²)`` plus
    rare large events ``e_t = ±event_size`` (probability ``event_rate`` per step; a gust of wind, a
    pothole). The target at every step is the mean of the last ``window`` observations,

        y*_t = (u_t + u_{t-1} + ... + u_{t-window+1}) / window        (u = 0 before the start),

    so an event matters for ``window`` steps and must be forgotten afterwards: a model that keeps it
    longer answers wrongly later (the NCP blog's "price of remembering", chapter 5). Loss: mean squared
    error over every step; ``error``: the fraction of steps whose answer is off by more than
    ``tolerance``. ``u`` and the target are (T, B, 1).
    """

    length: int = 50
    window: int = 3
    event_rate: float = 0.05
    event_size: float = 4.0
    signal: float = 0.5
    tolerance: float = 0.2

    n_in: int = 1
    n_out: int = 1
    readout: str = "all"

    def __post_init__(self):
        self.length = positive("length", self.length, integer=True)
        self.window = positive("window", self.window, integer=True)
        in_range("window", self.window, 1, self.length)
        in_range("event_rate", self.event_rate, 0.0, 1.0)
        positive("event_size", self.event_size, allow_zero=True)
        positive("signal", self.signal, allow_zero=True)
        positive("tolerance", self.tolerance)

    def sample(self, batch_size: int, generator: torch.Generator | None = None):
        """u (T, B, 1) observations; target (T, B, 1) the mean of the last ``window`` of them."""
        positive("batch_size", batch_size, integer=True)
        shape = (self.length, batch_size, 1)
        x = self.signal * torch.randn(shape, generator=generator)                      # x_t ~ N(0, signal²)
        hit = torch.rand(shape, generator=generator) < self.event_rate                 # an event with prob. p
        sign = 2 * torch.randint(0, 2, shape, generator=generator).float() - 1
        u = x + hit.float() * sign * self.event_size                                   # u_t = x_t + e_t
        delayed = [torch.cat([torch.zeros_like(u[:k]), u[:self.length - k]]) for k in range(self.window)]
        target = torch.stack(delayed).sum(0) / self.window                             # mean of u_{t-k}, k < w
        return u, target

    def loss(self, y: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean squared error over every step and sequence."""
        return F.mse_loss(y, target.to(y.dtype))

    def error(self, y: torch.Tensor, target: torch.Tensor) -> float:
        """Fraction of (step, sequence) answers off by more than ``tolerance``."""
        return float(((y - target.to(y.dtype)).abs() > self.tolerance).double().mean())
