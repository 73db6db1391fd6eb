"""The sine task of the ncps documentation's first example: a smooth target to check that a model fits (chapter 7)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from rnnlib._validate import positive
from rnnlib.tasks.lag import check_generator, guard_batch


@dataclass
class SineTask:
    """The first example of the ncps docs: from [sin s, cos s], s in [0, 3 pi], predict sin 2s (48 steps).

    One fixed sequence (batch 1); ``sample`` always returns it, so ``rnnlib.train.train`` can fit it.
    The "error" is the mean squared error itself, so a run counts as solved at or below ``solve_threshold``.
    """

    length: int = 48

    n_in: int = 2
    n_out: int = 1
    readout: str = "all"

    def __post_init__(self):
        self.length = positive("length", self.length, integer=True)
        guard_batch("SineTask", 1, self.length, self.n_in + self.n_out, 4)

    def sample(self, batch_size: int = 1, generator: torch.Generator | None = None):
        """u (T, B, 2) and the target (T, B, 1): ``batch_size`` copies (views) of the one sequence.

        The copies are views, but whatever consumes them computes on all of them, so the batch is
        guarded as if it were materialised."""
        batch_size = positive("batch_size", batch_size, integer=True)
        check_generator(generator)
        guard_batch("SineTask", batch_size, self.length, self.n_in + self.n_out, 4)
        s = torch.linspace(0, 3 * math.pi, self.length)
        u = torch.stack([torch.sin(s), torch.cos(s)], dim=-1)[:, None, :]
        y = torch.sin(torch.linspace(0, 6 * math.pi, self.length))[:, None, None]
        return u.expand(-1, batch_size, -1), y.expand(-1, batch_size, -1)

    def loss(self, y: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(y, target.to(y.dtype))

    def error(self, y: torch.Tensor, target: torch.Tensor) -> float:
        return float(F.mse_loss(y, target.to(y.dtype)))
