"""Gradient clipping, the authors' NaN guard, and the three initialisations of Pascanu et al. (2013) (chapter 4).

Norm clipping is Algorithm 1 of Pascanu, Mikolov & Bengio (2013):

    g <- dE/dtheta;   if ||g|| >= threshold:  g <- (threshold / ||g||) g

with ||g|| the Euclidean norm of ALL parameter gradients together. It shortens the step and keeps its
direction. (The authors' code tests ``>``; at equality both give the same g.) Value clipping clamps
every entry to [-threshold, threshold], which bounds each coordinate but turns the direction.

``norm_clipper`` / ``value_clipper`` build the ``grad_transform`` that ``rnnlib.train.train`` calls after
backward and before the optimizer step; ``nan_guard`` builds its ``nan_guard``. The guard is the one in the
authors' training loop: when the gradient norm is NaN, inf, negative or above 1e10, the update is replaced
by a pure shrink of the recurrent matrix (dE/dW_hh := 0.02 W_hh, every other gradient 0).

The initialisations (``init_pascanu_``, ``pascanu_rnn``) follow the paper's section 4.1.1 and the code;
weights are drawn in the code's row-vector layout (``h @ W``) and transposed into ``ElmanRNN``'s
column-vector layout (``W @ h``):

* ``"sigmoid"``: logistic units, every weight N(0, 0.01^2), biases 0;
* ``"basic_tanh"``: tanh units, every weight N(0, 0.1^2);
* ``"smart_tanh"``: tanh units, weights N(0, 0.01^2); the recurrent matrix keeps 15 random non-zeros per
  row of the code's layout (per column of ours: the outgoing weights of a unit), then is rescaled to
  spectral radius 0.95.
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np
import torch

from rnnlib._validate import one_of, positive
from rnnlib.models.elman import ElmanRNN, spectral_radius
from rnnlib.models.ensemble import PARAMS, ElmanEnsemble
from rnnlib.device import torch_generator

GUARD_MAX_NORM = 1e10  # the code distrusts float32 gradients with a norm above this
GUARD_SHRINK = 0.02    # ... and uses dE/dW_hh := 0.02 W_hh instead (a pure shrink)


# --- pure functions on lists of gradients ---------------------------------------------------------

def _grad_list(grads, name: str = "grads") -> list:
    """``grads`` as a list of tensors: an iterable of gradient tensors (or arrays), none of them None."""
    if grads is None or isinstance(grads, (str, bytes)) or not isinstance(grads, Iterable):
        raise TypeError(f"{name} must be an iterable of gradient tensors, such as [p.grad for p in "
                        f"model.parameters()], got {type(grads).__name__}")
    out = []
    for i, g in enumerate(grads):
        if g is None:
            raise TypeError(f"{name}[{i}] is None: a parameter without a gradient (run backward first, or leave "
                            f"out parameters whose .grad is None)")
        try:
            out.append(torch.as_tensor(g))
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(f"{name}[{i}] must be a gradient tensor, got {type(g).__name__}") from None
    return out


def global_norm(grads: Iterable[torch.Tensor]) -> torch.Tensor:
    """||g|| = sqrt(sum over all tensors and entries of g^2), as a 0-d tensor."""
    grads = _grad_list(grads)
    if not grads:
        return torch.tensor(0.0)
    return torch.sqrt(sum((g.double() ** 2).sum() for g in grads)).to(grads[0].dtype)


def clip_norm(grads, threshold: float, *, eps: float = 0.0) -> list:
    """Algorithm 1: rescale all gradients together to norm ``threshold`` if their norm reaches it.

    Returns new tensors (a list). ``eps`` is added to the norm in the factor, as
    ``torch.nn.utils.clip_grad_norm_`` does (1e-6 there); the paper has none.
    """
    positive("threshold", threshold)
    positive("eps", eps, allow_zero=True)
    grads = _grad_list(grads)
    norm = global_norm(grads)
    if not torch.isfinite(norm) or norm < threshold:
        return [g.clone() for g in grads]
    scale = threshold / (norm + eps)              # g <- threshold / ||g|| * g
    return [g * scale for g in grads]


def clip_value(grads, threshold: float) -> list:
    """Element-wise clipping: every entry clamped to [-threshold, threshold]."""
    positive("threshold", threshold)
    return [g.clamp(-threshold, threshold) for g in _grad_list(grads)]


def _params_with_grad(params) -> list:
    if isinstance(params, torch.nn.Module):
        params = params.parameters()
    elif isinstance(params, torch.Tensor):
        params = [params]
    elif params is None or not isinstance(params, Iterable):
        raise TypeError(f"params must be a torch.nn.Module or an iterable of parameters, got {type(params).__name__}")
    return [p for p in params if p.grad is not None]


def clip_norm_(params, threshold: float, *, eps: float = 0.0) -> float:
    """In-place Algorithm 1 on ``p.grad`` for a module or an iterable of parameters.

    Returns the norm before clipping (as ``torch.nn.utils.clip_grad_norm_`` does).
    """
    positive("threshold", threshold)
    positive("eps", eps, allow_zero=True)
    ps = _params_with_grad(params)
    norm = global_norm([p.grad for p in ps])
    if torch.isfinite(norm) and norm >= threshold:
        scale = threshold / (norm + eps)
        for p in ps:
            p.grad.mul_(scale.to(p.grad.dtype))
    return float(norm)


def clip_value_(params, threshold: float) -> None:
    """In-place element-wise clipping of ``p.grad`` to [-threshold, threshold]."""
    positive("threshold", threshold)
    for p in _params_with_grad(params):
        p.grad.clamp_(-threshold, threshold)


# --- the authors' NaN guard -------------------------------------------------------------------------

class NaNGuard:
    """The guard of the authors' loop, usable as ``train(..., nan_guard=guard)``.

    ``guard(model)`` replaces the gradients by the shrink dE/dW_hh := ``shrink`` * W_hh (all others 0), so
    the SGD step becomes W_hh <- (1 - lr * shrink) W_hh. ``guard.triggered(norm)`` says whether a norm is
    untrustworthy (NaN, inf, negative, or above ``max_norm``). ``count`` counts the rewrites.
    """

    def __init__(self, shrink: float = GUARD_SHRINK, max_norm: float = GUARD_MAX_NORM):
        self.shrink = positive("shrink", shrink)
        self.max_norm = positive("max_norm", max_norm)
        self.count = 0
        self.pending = False  # set when the guard rewrote this step's gradients (clipping then skips)

    def triggered(self, norm: float) -> bool:
        norm = float(norm)
        return not math.isfinite(norm) or norm < 0 or norm > self.max_norm

    def __call__(self, model: torch.nn.Module) -> None:
        with torch.no_grad():
            for name, p in model.named_parameters():
                if name == "W_hh":
                    p.grad = self.shrink * p.detach().clone()  # gW_hh := 0.02 W_hh
                elif p.grad is not None:
                    p.grad.zero_()
        self.count += 1
        self.pending = True

    def __repr__(self) -> str:
        return f"NaNGuard(shrink={self.shrink}, max_norm={self.max_norm:g}, count={self.count})"


def nan_guard(shrink: float = GUARD_SHRINK, max_norm: float = GUARD_MAX_NORM) -> NaNGuard:
    """A fresh :class:`NaNGuard` (one per run: it counts)."""
    return NaNGuard(shrink, max_norm)


nan_guard.rnnlib_factory = "clip.nan_guard()"
NaNGuard.rnnlib_factory = "clip.NaNGuard()"


# --- grad_transform factories for rnnlib.train -------------------------------------------------------

class NormClipper:
    """``grad_transform`` doing the authors' update rule: norm clipping at ``threshold``, then the guard.

    As in the code, the guard (when given) also fires when the norm is finite but above its ``max_norm``,
    and a step the guard rewrote is not clipped. ``n_calls`` and ``n_clipped`` count steps; ``norms``
    keeps every pre-clip norm.
    """

    def __init__(self, threshold: float, guard: NaNGuard | None = None):
        self.threshold = positive("threshold", threshold)
        self.guard = guard
        self.n_calls = 0
        self.n_clipped = 0
        self.norms: list[float] = []

    def __call__(self, model: torch.nn.Module) -> None:
        self.n_calls += 1
        if self.guard is not None and self.guard.pending:  # train() already called the guard this step
            self.guard.pending = False
            self.norms.append(float("nan"))
            return
        norm = float(global_norm([p.grad for p in _params_with_grad(model)]))
        self.norms.append(norm)
        if self.guard is not None and self.guard.triggered(norm):
            self.guard(model)
            self.guard.pending = False
            return
        if norm >= self.threshold:
            clip_norm_(model, self.threshold)
            self.n_clipped += 1

    @property
    def fraction_clipped(self) -> float:
        return self.n_clipped / max(self.n_calls, 1)

    def __repr__(self) -> str:
        return f"NormClipper(threshold={self.threshold}, clipped {self.n_clipped} of {self.n_calls} steps)"


def norm_clipper(threshold: float = 1.0, *, guard: NaNGuard | None = None) -> NormClipper:
    """``grad_transform`` for ``rnnlib.train``: Algorithm 1 at ``threshold`` (the paper uses 1)."""
    if isinstance(threshold, torch.nn.Module):
        raise TypeError("norm_clipper(threshold) builds a grad_transform; it was given a model: pass "
                        "grad_transform=clip.norm_clipper(1.0) to rnnlib.train, not clip.norm_clipper")
    return NormClipper(threshold, guard)


def value_clipper(threshold: float = 1.0):
    """``grad_transform`` for ``rnnlib.train``: every gradient entry clamped to [-threshold, threshold]."""
    if isinstance(threshold, torch.nn.Module):
        raise TypeError("value_clipper(threshold) builds a grad_transform; it was given a model: pass "
                        "grad_transform=clip.value_clipper(1.0) to rnnlib.train, not clip.value_clipper")
    positive("threshold", threshold)

    def transform(model: torch.nn.Module) -> None:
        clip_value_(model, threshold)

    return transform


# rnnlib.train refuses these factories passed uncalled, and says how to call them.
norm_clipper.rnnlib_factory = "clip.norm_clipper(1.0)"
value_clipper.rnnlib_factory = "clip.value_clipper(1.0)"
NormClipper.rnnlib_factory = "clip.NormClipper(1.0)"


# --- the paper's three initialisations ------------------------------------------------------------------

INITS = {"sigmoid": ("sigmoid", 0.01), "basic_tanh": ("tanh", 0.1), "smart_tanh": ("tanh", 0.01)}
SMART_NONZEROS = 15
SMART_RADIUS = 0.95


def _generator(seed) -> torch.Generator:
    if isinstance(seed, torch.Generator):
        return seed
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or a torch.Generator, got {seed!r}")
    return torch_generator(seed)


def pascanu_weights(n_in: int, n_hidden: int, n_out: int, scheme: str, *, seed=0,
                    dtype: torch.dtype = torch.float64) -> dict:
    """The five weights of one initialisation, in ``ElmanRNN``'s layout (W_xh (H, I), W_hh (H, H), ...).

    Drawn in the code's order and row layout: W_uh (I, H), W_hh (H, H), [sparsify + rescale], W_hy (H, O).
    """
    one_of("scheme", scheme, INITS)
    n_in = positive("n_in", n_in, integer=True)
    n_hidden = positive("n_hidden", n_hidden, integer=True)
    n_out = positive("n_out", n_out, integer=True)
    gen = _generator(seed)
    _, std = INITS[scheme]
    kw = dict(generator=gen, dtype=torch.float64)
    W_uh = torch.randn(n_in, n_hidden, **kw) * std
    W_rec = torch.randn(n_hidden, n_hidden, **kw) * std     # row layout: h_t = act(h_{t-1} @ W_rec + ...)
    if scheme == "smart_tanh":
        for row in range(n_hidden):                          # keep 15 random entries of every row
            drop = torch.randperm(n_hidden, generator=gen)[SMART_NONZEROS:]
            W_rec[row, drop] = 0.0
        W_rec = SMART_RADIUS * W_rec / spectral_radius(W_rec)  # spectral radius 0.95
    W_hy = torch.randn(n_hidden, n_out, **kw) * std
    return {"W_xh": W_uh.T.to(dtype).contiguous(), "W_hh": W_rec.T.to(dtype).contiguous(),
            "b_h": torch.zeros(n_hidden, dtype=dtype), "W_hy": W_hy.T.to(dtype).contiguous(),
            "b_y": torch.zeros(n_out, dtype=dtype)}


def pascanu_ensemble(task, scheme: str, seeds, *, n_hidden: int = 50, dtype=torch.float32, device=None):
    """An ``ElmanEnsemble`` with one member per seed, member i initialised as ``pascanu_rnn(task, scheme, seed=seeds[i])``."""
    one_of("scheme", scheme, INITS)
    ws = [pascanu_weights(task.n_in, n_hidden, task.n_out, scheme, seed=int(s), dtype=dtype) for s in seeds]
    p = {k: torch.stack([w[k] for w in ws]).to(device) for k in PARAMS}
    return ElmanEnsemble(p, activation=INITS[scheme][0], readout=task.readout)

def init_pascanu_(model: ElmanRNN, scheme: str, *, seed=0) -> ElmanRNN:
    """Overwrite ``model``'s weights with one of the paper's initialisations (in place; returns it).

    The model's activation must match: sigmoid units for ``"sigmoid"``, tanh for the two tanh schemes.
    """
    one_of("scheme", scheme, INITS)
    act = INITS[scheme][0]
    if model.activation != act:
        raise ValueError(f"scheme {scheme!r} needs activation {act!r}, the model has {model.activation!r}")
    w = pascanu_weights(model.W_xh.shape[1], model.n_hidden, model.W_hy.shape[0], scheme, seed=seed,
                        dtype=model.W_hh.dtype)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(w[name].to(p.device))
    return model


def pascanu_rnn(task, scheme: str = "smart_tanh", *, n_hidden: int = 50, seed=0,
                dtype: torch.dtype = torch.float32) -> ElmanRNN:
    """A fresh ``ElmanRNN`` for ``task`` (its n_in, n_out, readout) with the paper's initialisation."""
    one_of("scheme", scheme, INITS)
    model = ElmanRNN(task.n_in, n_hidden, task.n_out, activation=INITS[scheme][0], readout=task.readout,
                     dtype=dtype)
    return init_pascanu_(model, scheme, seed=seed)


def average_norm(norms, *, skip: int = 0) -> float:
    """Mean of the finite gradient norms after the first ``skip`` steps (the threshold heuristic's input)."""
    a = np.asarray(norms, dtype=float)[skip:]
    a = a[np.isfinite(a)]
    if a.size == 0:
        raise ValueError("norms must contain at least one finite value after skip")
    return float(a.mean())


# --- the 2-D picture of chapter 4 ----------------------------------------------------------------------------

def turning_angle(g, threshold: float) -> float:
    """Angle in degrees between g and its value-clipped version (norm clipping gives 0)."""
    g = torch.as_tensor(g, dtype=torch.float64)
    (v,) = clip_value([g], threshold)
    cos = float(v @ g) / (float(torch.linalg.norm(v)) * float(torch.linalg.norm(g)))
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def largest_turn(norm: float, threshold: float = 1.0, *, n_angles: int = 361) -> float:
    """The largest turning angle (degrees) of value clipping over 2-D gradients of length ``norm`` whose
    direction runs from 0 to 90 degrees in ``n_angles`` steps."""
    positive("norm", norm)
    angles = np.radians(np.linspace(0.0, 90.0, int(n_angles)))
    return max(turning_angle([norm * np.cos(a), norm * np.sin(a)], threshold) for a in angles)
