"""The lag task: recall one input bit from a known number of steps back (chapters 1, 2, 3, 5 and 7).

The task protocol every task in ``rnnlib.tasks`` follows is described in the package's docstring.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from rnnlib._validate import in_range, memory_guard, positive


def check_generator(generator) -> None:
    """A task's ``generator`` must be None (torch's global generator) or a ``torch.Generator``."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator or None, got {generator!r} ({type(generator).__name__}); "
                         "rnnlib.device.torch_generator(seed) makes one from a seed")


def guard_batch(task: str, batch_size: int, length: int, width: int, bytes_per_element: int) -> None:
    """Refuse a batch of ``batch_size`` sequences of ``length`` steps and ``width`` channels that would not fit,
    before anything is drawn (``bytes_per_element``: every tensor ``sample`` makes, per input value)."""
    memory_guard(f"{task}.sample: a batch of {batch_size} x {length} steps x {width} channel(s)",
                 float(batch_size) * length * width, bytes_per_element=bytes_per_element,
                 names="batch_size or length")


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
        batch_size = positive("batch_size", batch_size, integer=True)
        check_generator(generator)
        # the int64 bits, their float copy, the inputs, and the noise with its sum
        guard_batch("LagTask", batch_size, self.length, self.n_in, 8 + 4 + 4 + (8 if self.noise > 0 else 0))
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
