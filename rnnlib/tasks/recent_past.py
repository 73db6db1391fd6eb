"""The recent-past task: the answer depends on the last few inputs only, and older inputs are noise (chapters 5, 7).

Lane keeping, abstracted: only the last seconds of road matter, and a model that keeps everything it has
seen pays for it (the NCP blog's "price of remembering"). One task, two ways of asking:

* ``answer="mean"`` (chapter 5): at every step, the mean of the last ``window`` observations. The
  observations are a small Gaussian signal plus rare large events (a gust of wind, a pothole), which
  matter for ``window`` steps and must be forgotten afterwards. Regression: mean squared error; a step
  counts as wrong when its answer is off by more than ``tolerance``.
* ``answer="sign"`` (chapter 7): at the last step only, whether the last ``window`` inputs sum to a
  positive number. Classification: binary cross-entropy on a logit; the error is the fraction of wrong signs.

The observation at step t is ``u_t = signal * x_t + e_t + drift * w_t`` with x_t ~ N(0, 1) i.i.d., e_t = ±event_size
with probability ``event_rate`` (else 0), and w_t a Gaussian random walk (the same slowly wandering offset for the
whole window, part of the signal). The defaults follow the two chapters: signal 0.5 with events at rate 0.05
for ``"mean"``, signal 1 without events for ``"sign"``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from rnnlib._validate import in_range, one_of, positive
from rnnlib.tasks.lag import check_generator, guard_batch

ANSWERS = ("mean", "sign")
_DEFAULTS = {"mean": {"signal": 0.5, "event_rate": 0.05}, "sign": {"signal": 1.0, "event_rate": 0.0}}


@dataclass
class RecentPastTask:
    """Report the mean (every step) or the sign of the sum (last step) of the last ``window`` inputs.

    u and a ``"mean"`` target are (T, B, 1); a ``"sign"`` target is (B, 1) in {0, 1}. ``readout`` is
    ``"all"`` for ``"mean"`` and ``"last"`` for ``"sign"``. See the module docstring for the inputs.
    """

    length: int = 50
    window: int = 3
    answer: str = "mean"
    signal: float | None = None
    event_rate: float | None = None
    event_size: float = 4.0
    drift: float = 0.0
    tolerance: float = 0.2

    n_in: int = 1
    n_out: int = 1
    readout: str = field(init=False)

    def __post_init__(self):
        one_of("answer", self.answer, ANSWERS)
        defaults = _DEFAULTS[self.answer]
        self.signal = defaults["signal"] if self.signal is None else self.signal
        self.event_rate = defaults["event_rate"] if self.event_rate is None else self.event_rate
        self.readout = "all" if self.answer == "mean" else "last"
        self.length = positive("length", self.length, integer=True)
        self.window = positive("window", self.window, integer=True)
        in_range("window", self.window, 1, self.length)
        in_range("event_rate", self.event_rate, 0.0, 1.0)
        positive("event_size", self.event_size, allow_zero=True)
        positive("signal", self.signal, allow_zero=True)
        positive("drift", self.drift, allow_zero=True)
        positive("tolerance", self.tolerance)

    def sample(self, batch_size: int, generator: torch.Generator | None = None):
        """u (T, B, 1) observations, and the target: (T, B, 1) for ``"mean"``, (B, 1) for ``"sign"``."""
        batch_size = positive("batch_size", batch_size, integer=True)
        check_generator(generator)
        # about a dozen (T, B, 1) tensors for the observations, and the window's delayed copies for "mean"
        guard_batch("RecentPastTask", batch_size, self.length, self.n_in,
                    48 + (12 * self.window if self.answer == "mean" else 4))
        shape = (self.length, batch_size, 1)
        u = torch.randn(shape, generator=generator)
        if self.signal != 1.0:
            u = self.signal * u                                                        # signal * x_t
        if self.event_rate > 0:
            hit = torch.rand(shape, generator=generator) < self.event_rate            # an event with prob. p
            sign = 2 * torch.randint(0, 2, shape, generator=generator).float() - 1
            u = u + hit.float() * sign * self.event_size                               # + e_t
        if self.drift > 0:
            u = u + self.drift * torch.randn(shape, generator=generator).cumsum(0)     # + drift * random walk
        if self.answer == "sign":
            return u, (u[-self.window:].sum(0) > 0).float()                            # 1[u_{T-w+1} + ... + u_T > 0]
        delayed = [torch.cat([torch.zeros_like(u[:k]), u[:self.length - k]]) for k in range(self.window)]
        return u, torch.stack(delayed).sum(0) / self.window                           # mean of u_{t-k}, k < w

    def loss(self, y: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean squared error over every step (``"mean"``), or binary cross-entropy on the logit (``"sign"``)."""
        if self.answer == "sign":
            return F.binary_cross_entropy_with_logits(y, target.to(y.dtype))
        return F.mse_loss(y, target.to(y.dtype))

    def error(self, y: torch.Tensor, target: torch.Tensor) -> float:
        """Fraction of answers off by more than ``tolerance`` (``"mean"``), or of wrong signs (``"sign"``)."""
        if self.answer == "sign":
            return float(((y > 0).to(target.dtype) != target).double().mean())
        return float(((y - target.to(y.dtype)).abs() > self.tolerance).double().mean())
