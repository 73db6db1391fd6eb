"""The recurrence, its dynamics, and what a state saves over a window (chapter 1).

A recurrent model is one update rule applied again and again,

    x_t = F(x_{t-1}, u_t, theta),        t = 1, ..., T,

and the Elman network is the case F(h, u, theta) = tanh(W_hh h + W_xh u + b_h). This module has

* ``run_recurrence`` (any F, numpy or torch) and ``elman_update`` (the Elman F, with the parameter
  names of ``rnnlib.models.elman.ElmanRNN``);
* the autonomous network ``h_t = Phi(h_{t-1}) = tanh(W h_{t-1} + b)`` as a discrete dynamical system:
  ``random_weights`` with a weight scale g (W_ij ~ N(0, g^2 / n), so the spectral radius is close to g;
  ``exact_radius=True`` makes it exactly g),
  ``trajectory``, ``map_jacobian``, fixed points by plain iteration and by Newton's method
  (``fixed_point_iteration``, ``newton_step``, ``newton_fixed_point``, ``find_fixed_points``), their
  stability from the eigenvalues of the Jacobian, the largest Lyapunov exponent (``lyapunov_exponent``,
  ``lyapunov_sweep``), and ``attractor``, which names what a trajectory settles on (fixed point, cycle,
  quasi-periodic motion, chaos), and ``regimes`` / ``regime_kinds``, the same for one start at several
  weight scales; ``leading_eigenvalue``, and ``first_network``, which picks an example network by a stated rule;
* ``scalar_fixed_points``: every fixed point of one unit, x = tanh(w x + b), with its slope;
* ``memory_function``: how much of the input k steps back a linear read-out of the state still
  recovers (the state as a lossy, fixed-size summary of the past);
* ``plot_dynamics``, ``plot_regimes`` and ``plot_scalar_map``: the chapter's figures of trajectories and
  fixed points.

The cost of a window model against a recurrent one lives in ``rnnlib.theory.context_cost``.

Dynamics are numpy float64. Batches of states are rows, h of shape (..., n), computed as ``h @ W.T``;
functions of one state (Jacobian, Newton, fixed points) take h of shape (n,) and write ``W @ h`` as the
math does.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Callable

import numpy as np
import torch

from rnnlib._validate import array, in_range, memory_guard, number, positive
from rnnlib.device import numpy_rng

__all__ = ["run_recurrence", "elman_update", "random_weights", "autonomous_map", "trajectory", "map_jacobian",
           "FixedPoint", "fixed_point_iteration", "newton_step", "newton_fixed_point", "find_fixed_points",
           "lyapunov_exponent", "lyapunov_sweep", "attractor", "scalar_fixed_points", "memory_function",
           "leading_plane", "leading_eigenvalue", "first_network", "regimes", "regime_kinds", "memory_curves"]


# --- the generic recurrence ------------------------------------------------------------------------

def run_recurrence(F: Callable, x0, inputs, theta=None):
    """Apply ``x_t = F(x_{t-1}, u_t, theta)`` along ``inputs`` (T, ...); return every state.

    The result has shape (T + 1, *x0.shape) with x_0 first: a torch tensor when ``x0`` is
    one, a numpy array otherwise. The same F and the same theta act at every step.
    """
    if not callable(F):
        raise ValueError(f"F must be callable as F(x, u, theta), got {F!r}")
    xs = [x0]
    x = x0
    for u_t in inputs:
        x = F(x, u_t, theta)                       # x_t = F(x_{t-1}, u_t, theta)
        xs.append(x)
    if isinstance(x0, torch.Tensor):
        return torch.stack(xs)
    return np.stack([np.asarray(v) for v in xs])


def elman_update(h, u, theta: dict):
    """The Elman F: ``h_t = tanh(W_hh h_{t-1} + W_xh u_t + b_h)`` for h (..., H), u (..., I).

    ``theta`` holds ``W_hh`` (H, H), ``W_xh`` (H, I) and ``b_h`` (H,), as in ``ElmanRNN.numpy_params()``.
    """
    tanh = torch.tanh if isinstance(h, torch.Tensor) else np.tanh
    return tanh(h @ theta["W_hh"].T + u @ theta["W_xh"].T + theta["b_h"])


# --- the autonomous network as a dynamical system -----------------------------------------------------

def random_weights(n: int, scale: float, *, seed: int = 0, exact_radius: bool = False) -> np.ndarray:
    """A random (n, n) matrix with entries N(0, scale^2 / n), whose eigenvalues fill a disc of radius ~ scale
    (the circular law). With ``exact_radius`` the matrix is rescaled so that its spectral radius is exactly
    ``scale``: then the origin of h -> tanh(W h) is stable exactly when scale < 1."""
    n = positive("n", n, integer=True)
    positive("scale", scale, allow_zero=True)
    # W, and with exact_radius the eigenvalue computation's complex copies
    memory_guard(f"random_weights: a ({n}, {n}) matrix", float(n) ** 2, bytes_per_element=40 if exact_radius else 8,
                 names="n")
    W = numpy_rng(seed).normal(0.0, scale / math.sqrt(n), (n, n))
    if exact_radius and scale > 0:
        W *= scale / np.max(np.abs(np.linalg.eigvals(W)))     # rho(W) = scale
    return W


def _check_Wb(W, b):
    W = array("W", W, what="a square (n, n) matrix of finite real numbers", complex_ok=False).astype(float)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be a square (n, n) matrix, got shape {W.shape}")
    if b is None:
        return W, np.zeros(W.shape[0])
    b = array("b", b, what=f"None, a number or a vector of {W.shape[0]} finite numbers", complex_ok=False).astype(float)
    try:
        b = np.broadcast_to(b, (W.shape[0],))
    except ValueError:
        raise ValueError(f"b must be a number or a vector of n = {W.shape[0]} biases, got shape {b.shape}") from None
    return W, b


def _state(name: str, h, n: int) -> np.ndarray:
    """A state (or a batch of states) whose last axis has the n units of the network."""
    h = array(name, h, what=f"an array of finite numbers ending in n = {n} units", complex_ok=False).astype(float)
    if h.ndim == 0 or h.shape[-1] != n:
        raise ValueError(f"{name} must end in n = {n} units, got shape {h.shape}")
    return h


def autonomous_map(h, W, b=None) -> np.ndarray:
    """Phi(h) = tanh(W h + b): one step of the network with no (or a constant) input; h (..., n)."""
    W, b = _check_Wb(W, b)
    return np.tanh(np.asarray(h, dtype=float) @ W.T + b)


def trajectory(W, b, h0, steps: int) -> np.ndarray:
    """States h_0..h_steps of h_t = tanh(W h_{t-1} + b), shape (steps + 1, *h0.shape)."""
    W, b = _check_Wb(W, b)
    steps = positive("steps", steps, integer=True, allow_zero=True)
    h = _state("h0", h0, W.shape[0])
    memory_guard(f"trajectory: {steps + 1} states of shape {h.shape}", (steps + 1.0) * h.size, bytes_per_element=8,
                 names="steps or h0")
    out = np.empty((steps + 1,) + h.shape)
    out[0] = h
    for t in range(1, steps + 1):
        h = np.tanh(h @ W.T + b)                   # h_t = tanh(W h_{t-1} + b)
        out[t] = h
    return out


def map_jacobian(W, b, h) -> np.ndarray:
    """dPhi/dh at h: diag(1 - tanh(W h + b)^2) W, shape (n, n) (h is one state of shape (n,))."""
    W, b = _check_Wb(W, b)
    a = W @ _state("h", h, W.shape[0]) + b
    return (1.0 - np.tanh(a) ** 2)[:, None] * W    # J = diag(tanh'(a)) W


@dataclass
class FixedPoint:
    """A (candidate) fixed point h* = Phi(h*) and how it was found; stability from the Jacobian there."""

    h: np.ndarray
    converged: bool
    iterations: int
    residual: float                # ||h - Phi(h)||_inf
    jacobian: np.ndarray           # dPhi/dh at h

    @cached_property
    def eigenvalues(self) -> np.ndarray:
        """Eigenvalues of the Jacobian at h, largest modulus first."""
        eig = np.linalg.eigvals(self.jacobian)
        return eig[np.argsort(-np.abs(eig))]

    @property
    def spectral_radius(self) -> float:
        return float(np.abs(self.eigenvalues[0]))

    @property
    def stable(self) -> bool:
        """Linearly stable: every eigenvalue of the Jacobian inside the unit circle."""
        return self.spectral_radius < 1.0

    def __repr__(self) -> str:
        kind = "stable" if self.stable else "unstable"
        return (f"FixedPoint({kind}, |h|={np.linalg.norm(self.h):.3g}, max|eig|={self.spectral_radius:.3f}, "
                f"residual={self.residual:.1e}, iterations={self.iterations}, converged={self.converged})")


def _fixed_point(W, b, h, converged, iterations) -> FixedPoint:
    res = float(np.max(np.abs(h - np.tanh(W @ h + b)))) if h.size else 0.0
    return FixedPoint(h=h, converged=bool(converged), iterations=int(iterations), residual=res,
                      jacobian=map_jacobian(W, b, h))


def fixed_point_iteration(W, b, h0, *, max_iter: int = 10_000, tol: float = 1e-12) -> FixedPoint:
    """Run the network until ``||h_t - h_{t-1}||_inf < tol``: finds attracting fixed points only."""
    W, b = _check_Wb(W, b)
    max_iter = positive("max_iter", max_iter, integer=True)
    positive("tol", tol)
    h = _state("h0", h0, W.shape[0]).copy()
    for k in range(1, max_iter + 1):
        h_new = np.tanh(W @ h + b)                 # h_k = Phi(h_{k-1})
        if np.max(np.abs(h_new - h)) < tol:
            return _fixed_point(W, b, h_new, True, k)
        h = h_new
    return _fixed_point(W, b, h, False, max_iter)


def newton_step(h, W, b) -> np.ndarray:
    """One Newton step on R(h) = h - tanh(W h + b) = 0 (column-vector math, h of shape (n,)):

    h_new = h - (I - diag(1 - tanh(W h + b)^2) W)^{-1} (h - tanh(W h + b)).
    """
    W, b = _check_Wb(W, b)
    h = _state("h", h, W.shape[0])
    phi = np.tanh(W @ h + b)
    dR = np.eye(len(h)) - (1.0 - phi ** 2)[:, None] * W     # dR/dh = I - dPhi/dh
    return h - np.linalg.solve(dR, h - phi)


def newton_fixed_point(W, b, h0, *, max_iter: int = 50, tol: float = 1e-12) -> FixedPoint:
    """Newton's method for h = Phi(h): converges quadratically near any fixed point, stable or not."""
    W, b = _check_Wb(W, b)
    max_iter = positive("max_iter", max_iter, integer=True)
    positive("tol", tol)
    h = _state("h0", h0, W.shape[0]).copy()
    for k in range(1, max_iter + 1):
        try:
            h_new = newton_step(h, W, b)
        except np.linalg.LinAlgError:              # singular dR/dh: give up from this start
            return _fixed_point(W, b, h, False, k)
        if not np.all(np.isfinite(h_new)):
            return _fixed_point(W, b, h, False, k)
        step = np.max(np.abs(h_new - h))
        h = h_new
        if step < tol or np.max(np.abs(h - np.tanh(W @ h + b))) < tol:
            return _fixed_point(W, b, h, True, k)
    return _fixed_point(W, b, h, False, max_iter)


def find_fixed_points(W, b=None, *, n_starts: int = 30, spread: float = 1.0, seed: int = 0,
                      starts=None, max_iter: int = 50, tol: float = 1e-10) -> list[FixedPoint]:
    """Newton from the origin, from ``n_starts`` random states in [-spread, spread]^n and from any extra
    ``starts`` (k, n) (states visited by trajectories are good ones); the distinct converged fixed points,
    sorted by their norm (two count as the same when they agree to 1e-6). Newton finds unstable fixed
    points too, but no search of this kind is guaranteed to find them all."""
    W, b = _check_Wb(W, b)
    n_starts = positive("n_starts", n_starts, integer=True, allow_zero=True)
    positive("spread", spread)
    rng = numpy_rng(seed)
    all_starts = [np.zeros(W.shape[0])] + [rng.uniform(-spread, spread, W.shape[0]) for _ in range(n_starts)]
    if starts is not None:
        all_starts += list(_state("starts", starts, W.shape[0]).reshape(-1, W.shape[0]))
    found: list[FixedPoint] = []
    for h0 in all_starts:
        fp = newton_fixed_point(W, b, h0, max_iter=max_iter, tol=tol)
        if fp.converged and fp.residual < 1e-8 and not any(np.max(np.abs(fp.h - f.h)) < 1e-6 for f in found):
            found.append(fp)
    return sorted(found, key=lambda f: float(np.linalg.norm(f.h)))


def lyapunov_exponent(W, b, h0, *, steps: int = 1000, burn_in: int = 200, seed: int = 0) -> float:
    """Largest Lyapunov exponent of h_t = tanh(W h_{t-1} + b) along the trajectory from h0.

    A tangent vector v is carried along, v <- J_t v with J_t = diag(1 - h_t^2) W, and renormalised each
    step; lambda = mean log growth per step. lambda < 0: nearby trajectories merge (a stable fixed point or
    cycle); lambda > 0: they separate exponentially (chaos). At a stable fixed point lambda = log max|eig J|.
    """
    W, b = _check_Wb(W, b)
    steps = positive("steps", steps, integer=True)
    burn_in = positive("burn_in", burn_in, integer=True, allow_zero=True)
    h = _state("h0", h0, W.shape[0]).copy()
    if h.ndim != 1:
        raise ValueError(f"h0 must be one state of shape (n,) = ({W.shape[0]},), got shape {h.shape}")
    rng = numpy_rng(seed)
    for _ in range(burn_in):
        h = np.tanh(W @ h + b)
    v = rng.normal(size=W.shape[0])
    v /= np.linalg.norm(v)
    total = 0.0
    for _ in range(steps):
        h = np.tanh(W @ h + b)
        v = (1.0 - h ** 2) * (W @ v)               # v_t = diag(1 - h_t^2) W v_{t-1}
        norm = np.linalg.norm(v)
        if norm == 0.0:
            return -math.inf
        total += math.log(norm)
        v /= norm
    return total / steps


def attractor(W, b, h0, *, burn_in: int = 500, max_period: int = 64, tol: float = 1e-6,
              lyap_steps: int = 400) -> dict:
    """What the trajectory from h0 settles on after ``burn_in`` steps.

    ``kind`` is "fixed point" (Newton from the last state lands on a stable fixed point that the trajectory
    has reached, to 1e-3, or is still approaching),
    "periodic" (the orbit repeats after ``period`` <= ``max_period`` steps to ``tol``), "chaotic"
    (largest Lyapunov exponent > 0.01) or "quasi-periodic" (none of these: |lambda| ~ 0, a motion on a
    torus or a very long cycle). Also returns ``lyapunov``, ``h`` (the last state) and ``fixed_point``.
    """
    W, b = _check_Wb(W, b)
    burn_in = positive("burn_in", burn_in, integer=True, allow_zero=True)
    max_period = positive("max_period", max_period, integer=True)
    positive("tol", tol)
    lyap_steps = positive("lyap_steps", lyap_steps, integer=True)
    h = trajectory(W, b, h0, burn_in)[-1]
    lam = lyapunov_exponent(W, b, h, steps=lyap_steps, burn_in=0)
    orbit = trajectory(W, b, h, max_period)
    fp = newton_fixed_point(W, b, h, max_iter=20)
    if fp.converged and fp.stable:
        d0, d_late = np.max(np.abs(h - fp.h)), np.max(np.abs(orbit[max_period // 2:] - fp.h))
        if d0 < 1e-3 or d_late < 0.9 * d0:             # at a stable fixed point, or still closing in on it
            return {"kind": "fixed point", "period": 1, "lyapunov": lam, "h": h, "fixed_point": fp}
    dist = np.max(np.abs(orbit[1:] - orbit[0]), axis=-1)
    hits = np.flatnonzero(dist < tol)
    if hits.size:
        kind, period = "periodic", int(hits[0]) + 1
    else:
        kind, period = ("chaotic" if lam > 0.01 else "quasi-periodic"), None
    return {"kind": kind, "period": period, "lyapunov": lam, "h": h, "fixed_point": None}


def lyapunov_sweep(scales, *, n: int = 100, seeds=(0, 1, 2, 3, 4), bias: float = 0.0, steps: int = 600,
                   burn_in: int = 300) -> np.ndarray:
    """Largest Lyapunov exponent of h -> tanh(g W_s h + bias z) for every scale g and every network W_s
    (``random_weights(n, 1, seed=s, exact_radius=True)``, so rho(g W_s) = g; z ~ N(0, 1) per unit, fixed).
    Returns an array (len(seeds), len(scales)); each run starts from a random state of its own."""
    scales = np.atleast_1d(array("scales", scales, what="a list of finite weight scales", complex_ok=False))
    n = positive("n", n, integer=True)
    number("bias", bias)
    seeds = list(seeds)
    out = np.empty((len(seeds), len(scales)))
    z = numpy_rng(7).normal(size=n)
    for i, s in enumerate(seeds):
        W0 = random_weights(n, 1.0, seed=s, exact_radius=True)
        h0 = numpy_rng(1000 + s).uniform(-1, 1, n)
        for j, g in enumerate(scales):
            out[i, j] = lyapunov_exponent(g * W0, bias * z, h0, steps=steps, burn_in=burn_in, seed=s)
    return out


def scalar_fixed_points(w: float, b: float = 0.0) -> list[tuple[float, float]]:
    """Every fixed point of the one-unit map x -> tanh(w x + b), as (x*, slope) with slope = w (1 - x*^2).

    Fixed points are roots of g(x) = tanh(w x + b) - x on (-1, 1); they are bracketed on a fine grid and
    refined by bisection. |slope| < 1: stable; the root at a tangency (slope exactly 1) may be missed.
    """
    w, b = number("w", w), number("b", b)
    g = lambda x: np.tanh(w * x + b) - x
    grid = np.linspace(-1.0, 1.0, 4001)
    gv = g(grid)
    roots = [float(x) for x, v in zip(grid, gv) if v == 0.0]
    for i in np.flatnonzero(np.sign(gv[:-1]) * np.sign(gv[1:]) < 0):
        lo, hi = grid[i], grid[i + 1]
        for _ in range(60):                        # bisection to machine precision
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if np.sign(g(mid)) == np.sign(g(lo)) else (lo, mid)
        roots.append(0.5 * (lo + hi))
    roots = sorted(set(round(r, 13) for r in roots))
    return [(r, w * (1.0 - math.tanh(w * r + b) ** 2)) for r in roots]


# --- what the state remembers ----------------------------------------------------------------------

def memory_function(h, u, max_delay: int, *, train_fraction: float = 0.5) -> np.ndarray:
    """How much of the input u_{t-k} a linear read-out of the state h_t recovers, for k = 0..max_delay.

    ``h`` (T, B, H) are the states after each input and ``u`` (T, B) the scalar inputs. For each delay k a
    least-squares map from [h_t, 1] to u_{t-k} is fitted on the first ``train_fraction`` of the sequences;
    m(k) is the squared correlation between its prediction and u_{t-k} on the other sequences
    (1 = the state still holds that input exactly, 0 = nothing of it is left, at least not linearly).
    The sum over k is Jaeger's short-term memory capacity.
    """
    h = array("h", h, what="an array (T, B, H) of finite states", complex_ok=False).astype(float)
    u = array("u", u, what="an array (T, B) of finite inputs", complex_ok=False).astype(float)
    if h.ndim != 3 or u.shape != h.shape[:2]:
        raise ValueError(f"h must be (T, B, H) and u (T, B), got shapes {h.shape} and {u.shape}")
    T, B, _ = h.shape
    max_delay = positive("max_delay", max_delay, integer=True, allow_zero=True)
    in_range("max_delay", max_delay, 0, T - 2)
    in_range("train_fraction", train_fraction, 0.0, 1.0, inclusive=(False, False))
    n_train = int(round(train_fraction * B))
    if not 0 < n_train < B:
        raise ValueError(f"train_fraction must leave sequences on both sides, got {train_fraction} of B={B}")
    m = np.empty(max_delay + 1)
    for k in range(max_delay + 1):
        X = np.concatenate([h[k:], np.ones(h[k:].shape[:2] + (1,))], axis=-1)   # [h_t, 1] for t >= k
        y = u[:T - k]                                                              # u_{t-k}
        coef, *_ = np.linalg.lstsq(X[:, :n_train].reshape(-1, X.shape[-1]), y[:, :n_train].reshape(-1), rcond=None)
        pred, truth = (X[:, n_train:] @ coef).ravel(), y[:, n_train:].ravel()
        c = np.corrcoef(pred, truth)[0, 1] if np.std(pred) > 0 and np.std(truth) > 0 else 0.0
        m[k] = float(c ** 2)                                                       # m(k) = corr(read-out, u_{t-k})^2
    return m


# --- the chapter's figures ---------------------------------------------------------------------------

def leading_plane(W) -> np.ndarray:
    """An orthonormal basis (n, 2) of the plane where W's largest-modulus eigenvalues act: the real
    eigenvectors of the two leading eigenvalues, or the real and imaginary parts of a complex leading one.
    Scaling W does not move this plane, so it is a fixed view of one network at every weight scale."""
    W, _ = _check_Wb(W, None)
    if W.shape[0] < 2:
        raise ValueError(f"W must be at least 2 x 2 to have a plane, got shape {W.shape}")
    vals, vecs = np.linalg.eig(W)
    order = np.argsort(-np.abs(vals))
    v1 = vecs[:, order[0]]
    if abs(v1.imag).max() > 1e-12:
        basis = np.stack([v1.real, v1.imag], axis=1)
    else:
        basis = np.stack([v1.real, vecs[:, order[1]].real], axis=1)
    q, _ = np.linalg.qr(basis)
    return q


def leading_eigenvalue(W) -> complex:
    """The eigenvalue of W with the largest modulus. For a real W a real eigenvalue has imaginary part exactly 0;
    a complex one comes with its conjugate, so its sign of the imaginary part is arbitrary."""
    W, _ = _check_Wb(W, None)
    eigenvalues = np.linalg.eigvals(W)
    return complex(eigenvalues[np.argmax(np.abs(eigenvalues))])


def first_network(criterion: Callable, *, n: int = 100, seeds=range(50)) -> tuple[int, np.ndarray]:
    """The first seed s in ``seeds`` whose matrix ``random_weights(n, 1.0, seed=s, exact_radius=True)`` (spectral
    radius exactly 1) satisfies ``criterion(W)``, and that matrix: an example network picked by a stated rule,
    not by the luck of one draw. Raises ValueError when no seed qualifies."""
    if not callable(criterion):
        raise ValueError(f"criterion must be callable as criterion(W) -> bool, got {criterion!r}")
    for s in seeds:
        W = random_weights(n, 1.0, seed=s, exact_radius=True)
        if criterion(W):
            return int(s), W
    raise ValueError(f"no seed in {seeds!r} gives a network that satisfies the criterion")


def regime_kinds(W, scales, b=None, *, seed: int = 0) -> list[str]:
    """The names of what ``regimes`` finds at each scale, with a fixed point at the origin (every |h_i| < 1e-6)
    named "origin" rather than "fixed point"."""
    return ["origin" if a["kind"] == "fixed point" and np.max(np.abs(a["fixed_point"].h)) < 1e-6 else a["kind"]
            for a in regimes(W, scales, b, seed=seed)]


def regimes(W, scales, b=None, *, seed: int = 0) -> list[dict]:
    """What h_t = tanh(g W h_{t-1} + b) settles on from one random start (uniform in [-1, 1]^n, drawn with
    ``seed``), for every g in ``scales``: one ``attractor`` dict per scale (burn-in 300 steps, Lyapunov
    exponent over 300). These are the names ``plot_regimes`` puts in its panel titles."""
    W, b = _check_Wb(W, b)
    scales = np.atleast_1d(array("scales", scales, what="a list of finite weight scales", complex_ok=False))
    h0 = numpy_rng(seed).uniform(-1, 1, W.shape[0])
    return [attractor(g * W, b, h0, burn_in=300, lyap_steps=300) for g in scales]


def memory_curves(rho: float, H: int = 32, *, input_scale: float = 0.5, steps: int = 300, batch: int = 40,
                  max_delay: int = 40, seed: int = 1) -> dict:
    """Chapter 1's memory function m(n), n = 0..max_delay, of a random H-unit Elman network with spectral
    radius ``rho`` (``random_weights(H, rho, seed=seed, exact_radius=True)``, input weights N(0, input_scale^2),
    no bias) driven by random +-1 inputs, and of its linear twin (the same weights without the tanh,
    h_t = W_hh h_{t-1} + W_xh u_t). Returns ``{"tanh": m, "linear": m}``, with ``"linear": None`` for rho > 1,
    where the linear twin grows without bound; the first 20 steps are skipped."""
    rho, H = positive("rho", rho), positive("H", H, integer=True)
    rng = numpy_rng(0)
    u = rng.choice([-1.0, 1.0], size=(steps, batch))
    theta = {"W_hh": random_weights(H, rho, seed=seed, exact_radius=True),
             "W_xh": rng.normal(0.0, input_scale, (H, 1)), "b_h": np.zeros(H)}
    linear = lambda h, u_t, th: h @ th["W_hh"].T + u_t @ th["W_xh"].T        # the Elman F without tanh
    out = {"linear": None}
    for name, F in (("tanh", elman_update), ("linear", linear))[:1 if rho > 1 else 2]:
        h = run_recurrence(F, np.zeros((batch, H)), u[:, :, None], theta)[1:]
        out[name] = memory_function(h[20:], u[20:], max_delay=max_delay)
    return out
