"""A small training loop for sequence tasks that records what the book needs to see (chapters 1, 3-7).

It records the loss and the gradient norm of every step, takes an optional gradient transform
(clipping, chapter 4), evaluates on fresh sequences, and treats divergence as a result:
a non-finite loss or gradient stops the run with ``status == "diverged"`` and the step,
instead of raising. Progress is shown with ``tqdm.auto``; set ``RNNLIB_PROGRESS=0``
(as the book's build does) or pass ``progress=False`` to hide it.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
from tqdm.auto import tqdm

from rnnlib._validate import in_range, one_of, positive
from rnnlib.device import torch_generator


@dataclass
class TrainResult:
    """What a run did: per-step loss and gradient norm, evaluations, and how it ended."""

    losses: list = field(default_factory=list)
    grad_norms: list = field(default_factory=list)
    evals: list = field(default_factory=list)  # (step, error on fresh sequences)
    status: str = "budget"  # "solved", "budget" or "diverged"
    diverged_at: int | None = None
    solved_at: int | None = None
    steps: int = 0
    seconds: float = 0.0

    @property
    def final_error(self) -> float:
        return self.evals[-1][1] if self.evals else float("nan")

    @property
    def best_error(self) -> float:
        return min((e for _, e in self.evals), default=float("nan"))

    def summary(self) -> str:
        if self.status == "diverged":
            return f"diverged at step {self.diverged_at} (non-finite loss or gradient)"
        if self.status == "solved":
            return f"solved at step {self.solved_at} (error {self.final_error:.3f})"
        return f"budget of {self.steps} steps used; final error {self.final_error:.3f}"

    def __repr__(self) -> str:
        return f"TrainResult({self.summary()})"


def grad_norm(model: torch.nn.Module) -> float:
    """Euclidean norm of all parameter gradients together (inf or nan if any entry is)."""
    grads = [p.grad.detach().flatten() for p in model.parameters() if p.grad is not None]
    if not grads:
        return 0.0
    return float(torch.linalg.vector_norm(torch.cat(grads)))


def _progress_enabled(progress: bool | None) -> bool:
    if progress is None:
        return os.environ.get("RNNLIB_PROGRESS", "1") not in ("0", "false", "no")
    return bool(progress)


def _model_device(model: torch.nn.Module, device) -> torch.device:
    """The device to compute on: ``device`` when given (the model is moved there), else the model's own."""
    if device is None:
        return next(model.parameters()).device
    dev = torch.device(device)
    model.to(dev)
    return dev


def _check_model(model) -> None:
    """``model`` must be a module with parameters that maps u (T, B, I) to (y, h)."""
    if not (callable(model) and hasattr(model, "parameters")):
        raise TypeError(f"model must be a torch.nn.Module mapping u (T, B, I) to (y, h), such as an rnnlib model, "
                        f"got {type(model).__name__}")
    if next(iter(model.parameters()), None) is None:
        raise ValueError(f"model must have parameters to train, got {type(model).__name__} with none")


def _check_task(task) -> None:
    """``task`` must offer sample(batch_size, generator), loss(y, target) and error(y, target)."""
    missing = [m for m in ("sample", "loss", "error") if not callable(getattr(task, m, None))]
    if missing:
        raise TypeError(f"task must be an rnnlib task (rnnlib.tasks) with sample(batch_size, generator), "
                        f"loss(y, target) and error(y, target), got {type(task).__name__}"
                        + ("" if task is None else f" without {', '.join(missing)}"))


def _model_input_size(model) -> int | None:
    """The number of input features per step ``model`` expects, read from rnnlib's models (None if unknown)."""
    for get in (lambda m: m.n_in, lambda m: m.cell.n_in, lambda m: m.d_model, lambda m: m.rnn.input_size,
                lambda m: m.input_size, lambda m: m.W_xh.shape[-1]):
        try:
            value = get(model)
        except AttributeError:
            continue
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _check_callable(name: str, fn) -> None:
    """A hook must be a callable taking the model, not an rnnlib factory that builds one (``clip.norm_clipper``)."""
    if fn is None:
        return
    if not callable(fn):
        raise TypeError(f"{name} must be a callable or None, got {type(fn).__name__}")
    example = getattr(fn, "__dict__", {}).get("rnnlib_factory")    # set on the factories, not on what they build
    if example is not None:
        raise TypeError(f"{name} got the factory {getattr(fn, '__name__', fn)!r} itself; call it to build the "
                        f"{name}: {name}={example}")


def evaluate(model, task, *, size: int = 1000, seed: int = 12345, device=None) -> float:
    """Error of ``model`` on ``size`` fresh sequences drawn with ``seed``.

    Computes on the model's own device; an explicit ``device`` moves the model there first (and leaves it there).
    """
    _check_model(model)
    _check_task(task)
    size = positive("size", size, integer=True)
    dev = _model_device(model, device)
    gen = torch_generator(seed)
    with torch.no_grad():
        u, target = task.sample(size, gen)
        y, _ = model(u.to(dev, next(model.parameters()).dtype))
        return task.error(y, target.to(dev))


def train(model: torch.nn.Module, task, *, steps: int = 1000, lr: float = 0.01,
          optimizer: str = "sgd", momentum: float = 0.0, batch_size: int = 20,
          grad_transform: Callable | None = None, before_step: Callable | None = None,
          nan_guard: Callable | None = None, eval_every: int = 100, eval_size: int = 1000,
          solve_threshold: float = 0.01, stop_when_solved: bool = True, seed: int = 0,
          progress: bool | None = None, device=None) -> TrainResult:
    """Train ``model`` on ``task`` and return a :class:`TrainResult`.

    ``model(u)`` must return ``(y, h)`` with ``u`` of shape (T, B, I) (rnnlib models do).
    Per step: sample a batch, loss, backward, then

    1. ``before_step(model, u, target, y, h)`` (optional; e.g. adds a regulariser's gradient). ``h`` is the
       stacked (T + 1, B, H) state tensor with its gradient retained: ``h.grad`` holds only the *direct*
       part of dE/dh_t (from the read-out at step t), not the total BPTT derivative, which a hook that
       needs it rebuilds with the recursion (as ``rnnlib.remedies.regularizer`` does),
    2. record the gradient norm; if it or the loss is not finite, call ``nan_guard(model)`` when given
       (it may rewrite the gradients, as Pascanu et al.'s guard does) or stop with status "diverged",
    3. ``grad_transform(model)`` (optional; e.g. norm clipping), then the optimizer step.

    Every ``eval_every`` steps the error on ``eval_size`` fresh sequences is recorded; at or below
    ``solve_threshold`` (default 0.01: at most 1 % wrong) the run counts as solved (and stops if ``stop_when_solved``).

    Device: training runs where the model's parameters are (``next(model.parameters()).device``), so a CPU model
    stays on the CPU even when a GPU is present. ``device=`` (e.g. ``rnnlib.device()``) moves the model there
    first, in place, and it stays there after the run; batches are moved to the model's device every step.
    """
    _check_model(model)
    _check_task(task)
    steps = positive("steps", steps, integer=True)
    positive("lr", lr)
    batch_size = positive("batch_size", batch_size, integer=True)
    eval_every = positive("eval_every", eval_every, integer=True)
    eval_size = positive("eval_size", eval_size, integer=True)
    in_range("solve_threshold", solve_threshold, 0.0, 1.0)
    in_range("momentum", momentum, 0.0, 1.0, inclusive=(True, False))
    one_of("optimizer", optimizer, ("sgd", "adam"))
    for name, fn in (("grad_transform", grad_transform), ("before_step", before_step), ("nan_guard", nan_guard)):
        _check_callable(name, fn)
    n_in, task_in = _model_input_size(model), getattr(task, "n_in", None)
    if n_in is not None and isinstance(task_in, int) and n_in != task_in:
        raise ValueError(f"model expects {n_in} input feature(s) per step but task {type(task).__name__} gives "
                         f"{task_in}: build the model with n_in={task_in} (its first argument)")
    dev = _model_device(model, device)
    dtype = next(model.parameters()).dtype
    opt = (torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum) if optimizer == "sgd"
           else torch.optim.Adam(model.parameters(), lr=lr))
    gen = torch_generator(seed)
    res = TrainResult()
    t0 = time.perf_counter()
    bar = tqdm(range(1, steps + 1), disable=not _progress_enabled(progress), leave=False,
               desc=type(model).__name__)
    for step in bar:
        u, target = task.sample(batch_size, gen)
        u, target = u.to(dev, dtype), target.to(dev)
        y, h = model(u)
        if before_step is not None and h.requires_grad:
            h.retain_grad()
        loss = task.loss(y, target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if before_step is not None:
            before_step(model, u, target, y, h)
        gnorm = grad_norm(model)
        lval = float(loss.detach())
        res.losses.append(lval)
        res.grad_norms.append(gnorm)
        res.steps = step
        if not (math.isfinite(lval) and math.isfinite(gnorm)):
            if nan_guard is None:
                res.status, res.diverged_at = "diverged", step
                break
            nan_guard(model)
        if grad_transform is not None:
            grad_transform(model)
        opt.step()
        if step % eval_every == 0 or step == steps:
            err = evaluate(model, task, size=eval_size, seed=seed + 1_000_003)   # on the model's device, dev
            res.evals.append((step, err))
            bar.set_postfix(loss=f"{lval:.3g}", error=f"{err:.3f}")
            if err <= solve_threshold and res.solved_at is None:
                res.solved_at = step
                res.status = "solved"
                if stop_when_solved:
                    break
    bar.close()
    res.seconds = time.perf_counter() - t0
    return res
