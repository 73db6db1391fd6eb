"""The pathological long-memory problems of Pascanu, Mikolov & Bengio (2013), as task objects (chapter 4).

Six generators, following the logic of the authors' code (``tempOrder.py``, ``tempOrder3bit.py``,
``addition.py``, ``multiplication.py``, ``permutation.py``, ``memorization.py``), after Hochreiter &
Schmidhuber (1997). Each is a task object for ``rnnlib.train``: ``n_in``, ``n_out``, ``readout``,
``sample(batch_size, generator) -> (u, target)`` with ``u`` time first (T, B, n_in), ``loss(y, target)``,
``error(y, target)`` (fraction of wrongly answered sequences) and ``readout_of(y)``.

Three kinds of output, as the code's ``classifType``:

* ``"lastSoftmax"`` (temporal order, 3-bit temporal order, random permutation): a softmax on the last step;
  loss = mean cross-entropy over the batch; a sequence is wrong iff the arg-max class is wrong.
  Targets are class indices (B,) (the code stores them one-hot).
* ``"lastLinear"`` (addition, multiplication): a linear output on the last step; loss = mean squared error;
  a sequence is wrong iff its squared error exceeds 0.04 (|error| > 0.2). Targets (B, 1).
* ``"softmax"`` (noiseless memorisation): a softmax at every step; loss = cross-entropy averaged over all
  (time, batch) rows; a sequence is wrong iff any step is wrong. Targets (T, B) class indices.

Lengths: ``length`` is the nominal length L. With ``max_length`` > ``length`` each call draws
L = length + randint(max_length - length), as the authors' training loop does (so ``max_length`` itself
never occurs). Addition and multiplication then stretch L once more to l = L + randint(int(0.1 L)).
The paper's success criterion (rnnlib.train's ``solve_threshold=0.01``): at most 1 % of 10 000 fresh
sequences answered wrongly.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from rnnlib._validate import one_of, positive
from rnnlib.device import torch_generator
from rnnlib.tasks.lag import check_generator, guard_batch

SQUARED_ERROR_TOLERANCE = 0.04  # lastLinear: wrong iff (t - y)^2 > 0.04


def _randint(high: int, size, generator) -> torch.Tensor:
    """Integers uniform in [0, high) (numpy's ``randint(high, size)``)."""
    return torch.randint(0, high, size if isinstance(size, tuple) else (size,), generator=generator)


class PathologicalTask:
    """Shared machinery: length drawing, losses, errors and validation of the shared arguments."""

    name = "pathological"
    kind = "lastSoftmax"
    n_in = 1
    n_out = 1
    min_nominal_length = 10  # the generators draw randint(int(0.1 L)), which needs L >= 10

    def __init__(self, length: int, max_length: int | None = None):
        self.length = positive("length", length, integer=True)
        if self.length < self.min_nominal_length:
            raise ValueError(f"length must be an integer >= {self.min_nominal_length} for {self.name}, "
                             f"got {length!r}")
        if max_length is not None:
            max_length = positive("max_length", max_length, integer=True)
            if max_length < self.length:
                raise ValueError(f"max_length must be >= length ({self.length}), got {max_length!r}")
        self.max_length = max_length

    @property
    def readout(self) -> str:
        return "all" if self.kind == "softmax" else "last"

    def __repr__(self) -> str:
        span = f"{self.length}" if not self.max_length else f"{self.length}..{self.max_length - 1}"
        return f"{type(self).__name__}(L={span}, n_in={self.n_in}, n_out={self.n_out}, {self.kind})"

    def draw_length(self, generator=None) -> int:
        """L for one batch: ``length``, or length + randint(max_length - length) when a range is set."""
        if self.max_length is None or self.max_length == self.length:
            return self.length
        return self.length + int(_randint(self.max_length - self.length, 1, generator))

    def max_steps(self, length: int) -> int:
        """The most time steps a sequence of nominal length ``length`` can have."""
        return length

    def sample(self, batch_size: int, generator: torch.Generator | None = None, *, length: int | None = None):
        """A batch ``(u, target)``; ``length`` overrides the drawn nominal length.

        Refuses, before drawing, a batch whose tensors would exceed rnnlib's memory limit: one-hot inputs
        are built through int64 indices, about 12 bytes per input value plus the symbols and targets."""
        batch_size = positive("batch_size", batch_size, integer=True)
        check_generator(generator)
        L = self.draw_length(generator) if length is None else positive("length", length, integer=True)
        if L < self.min_nominal_length:
            raise ValueError(f"length must be an integer >= {self.min_nominal_length}, got {L!r}")
        guard_batch(type(self).__name__, batch_size, self.max_steps(L), self.n_in + 2, 12)
        return self.generate(batch_size, L, generator)

    def generate(self, batch_size: int, length: int, generator=None):  # pragma: no cover - abstract
        raise NotImplementedError

    # --- loss and success criterion, as classifType in the authors' code ---
    def loss(self, y: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.kind == "lastLinear":
            # cost = ((t - y)^2).mean(over batch).sum(over outputs)
            return ((target.to(y.dtype) - y) ** 2).mean(0).sum()
        if self.kind == "softmax":
            # cross-entropy averaged over all T x B rows
            return F.cross_entropy(y.reshape(-1, y.shape[-1]), target.reshape(-1))
        return F.cross_entropy(y, target)  # -(t log softmax(y)).mean over batch

    def wrong(self, y: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Boolean (B,): which sequences are answered wrongly."""
        if self.kind == "lastLinear":
            return ((target.to(y.dtype) - y) ** 2).sum(-1) > SQUARED_ERROR_TOLERANCE
        if self.kind == "softmax":
            return (y.argmax(-1) != target).any(0)  # wrong iff any step is wrong
        return y.argmax(-1) != target

    def error(self, y: torch.Tensor, target: torch.Tensor) -> float:
        """Fraction of wrongly answered sequences."""
        return float(self.wrong(y, target).double().mean())

    def readout_of(self, y: torch.Tensor) -> torch.Tensor:
        """The answer the model gives: class indices, or the linear output itself."""
        return y if self.kind == "lastLinear" else y.argmax(-1)

    @property
    def chance_error(self) -> float:
        """Error of a constant guess of the most frequent answer (what a plateau sits at)."""
        return float("nan")


class _Order(PathologicalTask):
    """Symbols A, B (channels 0, 1) at marked positions among distractors c..f (channels 2..5)."""

    n_in = 6
    kind = "lastSoftmax"
    starts = ()  # each marker position is randint(int(0.1 L)) + int(s L)

    @property
    def n_out(self) -> int:
        return 2 ** len(self.starts)

    @property
    def chance_error(self) -> float:
        return 1.0 - 1.0 / self.n_out

    def generate(self, batch_size, length, generator=None):
        """u (L, B, 6) one-hot; target (B,) = v0 + 2 v1 (+ 4 v2)."""
        cols = torch.arange(batch_size)
        pos, vals = [], []
        for s in self.starts:  # draw order as the code: position, then value, for each marker
            pos.append(_randint(int(0.1 * length), batch_size, generator) + int(s * length))
            vals.append(_randint(2, batch_size, generator))
        symbols = _randint(4, (length, batch_size), generator) + 2  # distractors c, d, e, f
        target = torch.zeros(batch_size, dtype=torch.long)
        for k, (p, v) in enumerate(zip(pos, vals)):
            symbols[p, cols] = v
            target += v * 2 ** k  # class = v0 + 2 v1 + 4 v2
        return F.one_hot(symbols, 6).float(), target


class TemporalOrder(_Order):
    """Temporal order (nin 6, nout 4): which of AA, AB, BA, BB appeared, at p0 in [.1L, .2L) and p1 in
    [.5L, .6L) (the code's ranges; its docstring says [1, L/10]). For L < 20 both positions are fixed."""

    name = "temporal order"
    starts = (0.1, 0.5)


class TemporalOrder3Bit(_Order):
    """3-bit temporal order (nin 6, nout 8): markers at [.1L, .2L), [.3L, .4L), [.6L, .7L)."""

    name = "3-bit temporal order"
    starts = (0.1, 0.3, 0.6)


class _TwoNumbers(PathologicalTask):
    """Two channels: a marker channel (0) and uniform [0, 1) values (1); answer a function of the two
    marked values, p0 in [0, .1l) and p1 in [.1l, .5l), with l = L + randint(int(.1 L))."""

    n_in = 2
    n_out = 1
    kind = "lastLinear"

    @staticmethod
    def combine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def max_steps(self, length: int) -> int:
        return length + int(0.1 * length)

    def generate(self, batch_size, length, generator=None):
        """u (l, B, 2); target (B, 1)."""
        l = int(_randint(int(0.1 * length), 1, generator)) + length  # the actual length, in [L, 1.1 L)
        p0 = _randint(int(0.1 * l), batch_size, generator)
        p1 = _randint(int(0.4 * l), batch_size, generator) + int(0.1 * l)
        u = torch.rand((l, batch_size, 2), generator=generator)
        u[:, :, 0] = 0.0
        cols = torch.arange(batch_size)
        u[p0, cols, 0] = 1.0
        u[p1, cols, 0] = 1.0
        return u, self.combine(u[p0, cols, 1], u[p1, cols, 1]).unsqueeze(-1)

    @property
    def chance_error(self) -> float:
        return float("nan")  # depends on the constant guessed; see baseline_error


class Addition(_TwoNumbers):
    """Addition: target = (x[p0] + x[p1]) / 2."""

    name = "addition"

    @staticmethod
    def combine(a, b):
        return (a + b) / 2


class Multiplication(_TwoNumbers):
    """Multiplication: target = x[p0] * x[p1] (no halving)."""

    name = "multiplication"

    @staticmethod
    def combine(a, b):
        return a * b


class RandomPermutation(PathologicalTask):
    """Random permutation (nin = nout = 100): symbols 2..99 at random; a bit v in {0, 1} is the first
    symbol, and the answer at the last step is v (the code writes v at position 0 and at position L of
    a length L + 1 stream, inputs the first L symbols and scores the symbol after them)."""

    name = "random permutation"
    n_in = 100
    n_out = 100
    kind = "lastSoftmax"
    min_nominal_length = 1

    @property
    def chance_error(self) -> float:
        return 0.5

    def max_steps(self, length: int) -> int:
        return length + 1

    def generate(self, batch_size, length, generator=None):
        """u (L, B, 100) one-hot; target (B,) in {0, 1}."""
        symbols = _randint(98, (length + 1, batch_size), generator) + 2
        v = _randint(2, batch_size, generator)
        symbols[0] = v
        symbols[length] = v
        return F.one_hot(symbols[:length], 100).float(), symbols[length].clone()


class NoiselessMemorization(PathologicalTask):
    """Noiseless memorisation: a pattern of ``n_pos`` symbols from ``n_values`` (one-hot in the first
    ``n_values`` channels), then L blanks (channel -2) with the recall cue (channel -1) at step L + n_pos,
    then n_pos more blanks; the output must be "blank" (class n_values) for the first L + n_pos steps and
    reproduce the pattern over the last n_pos steps. Total length L + 2 n_pos. Defaults (5 values, 10
    positions: 5^10 patterns, 23.2 bits) are the code's; ``n_values=2, n_pos=5`` gives 5 bits."""

    name = "noiseless memorisation"
    kind = "softmax"
    min_nominal_length = 1

    def __init__(self, length: int, max_length: int | None = None, *, n_values: int = 5, n_pos: int = 10):
        self.n_values = positive("n_values", n_values, integer=True)
        self.n_pos = positive("n_pos", n_pos, integer=True)
        if self.n_values < 2:
            raise ValueError(f"n_values must be an integer >= 2, got {n_values!r}")
        if self.n_values ** self.n_pos > 2**63 - 1:
            raise ValueError(f"n_values ** n_pos must be at most 2**63 - 1 (a pattern is drawn as one integer), "
                             f"got n_values={self.n_values}, n_pos={self.n_pos}")
        super().__init__(length, max_length)

    def max_steps(self, length: int) -> int:
        return length + 2 * self.n_pos

    @property
    def n_in(self) -> int:
        return self.n_values + 2

    @property
    def n_out(self) -> int:
        return self.n_values + 1

    @property
    def bits(self) -> float:
        """Information in one pattern: n_pos log2(n_values)."""
        return self.n_pos * math.log2(self.n_values)

    @property
    def chance_error(self) -> float:
        return 1.0 - self.n_values ** -self.n_pos  # guessing the whole pattern

    def generate(self, batch_size, length, generator=None):
        """u (L + 2 n_pos, B, n_values + 2); target (L + 2 n_pos, B) class indices."""
        T, n, k = length + 2 * self.n_pos, self.n_values, self.n_pos
        # the pattern: n_pos digits of one integer drawn uniformly in [0, n^k), least significant first
        index = torch.randint(0, n ** k, (batch_size,), generator=generator)
        digits = torch.stack([(index // n ** j) % n for j in range(k)])  # (n_pos, B)
        u = torch.zeros(T, batch_size, n + 2)
        u[:k] = F.one_hot(digits, n + 2).float()
        u[k:, :, n] = 1.0                      # blank (channel -2) from step n_pos on
        u[length + k, :, n] = 0.0
        u[length + k, :, n + 1] = 1.0          # the recall cue (channel -1)
        target = torch.full((T, batch_size), n, dtype=torch.long)  # "blank" class = n_values
        target[-k:] = digits
        return u, target


TASKS = {
    "temporal_order": TemporalOrder,
    "temporal_order_3bit": TemporalOrder3Bit,
    "addition": Addition,
    "multiplication": Multiplication,
    "random_permutation": RandomPermutation,
    "memorization": NoiselessMemorization,
}


def make(name: str, length: int, max_length: int | None = None, **kwargs) -> PathologicalTask:
    """A task by name (one of ``TASKS``)."""
    one_of("name", name, TASKS)
    return TASKS[name](length, max_length, **kwargs)


def baseline_error(task: PathologicalTask, *, size: int = 10_000, seed: int = 0) -> float:
    """Error of the best constant answer, estimated on ``size`` sequences: for the regression tasks the
    mean target (what a network that ignores the inputs learns); for the classification tasks the most
    frequent class."""
    if not isinstance(task, PathologicalTask):
        raise ValueError(f"task must be a PathologicalTask (see make), got {type(task).__name__}")
    size = positive("size", size, integer=True)
    gen = torch_generator(seed)
    u, t = task.sample(size, gen)
    if task.kind == "lastLinear":
        y = t.float().mean(0, keepdim=True).expand_as(t)
    elif task.kind == "softmax":
        y = F.one_hot(torch.mode(t, dim=1).values, task.n_out).float()[:, None].expand(-1, t.shape[1], -1)
    else:
        y = F.one_hot(torch.mode(t).values, task.n_out).float().expand(t.shape[0], -1)
    return task.error(y, t)
