"""The error surface of a one-unit RNN and its "wall" (chapter 3, reused with clipping in chapter 4).

Pascanu, Mikolov & Bengio (2013, Fig. 6) look at the smallest recurrent network there is,

    x_t = w sigma(x_{t-1}) + b,   x_0 = 0.5,   E(w, b) = (sigma(x_50) - 0.7)^2,

with sigma the logistic sigmoid, and find that the surface is mostly gentle but cut by a narrow wall
where both the gradient and the curvature are huge: there, x_0 sits on the boundary between the basins
of two attractors (``rnnlib.theory.dynamics``), and a tiny move of (w, b) sends x_50 to the other attractor.
In the linear case (sigma the identity, b = 0) the reason can be written down: x_t = w^t x_0, so

    dx_t/dw = t w^(t-1) x_0,    d^2x_t/dw^2 = t (t - 1) w^(t-2) x_0,

and both grow (or shrink) like w^t: where the gradient explodes, so does the curvature.

Derivatives here are exact (forward-mode recursions for the first and second derivatives, vectorised
over grids of (w, b)); :func:`sgd_path` runs gradient descent on the surface, optionally with norm
clipping, so chapter 4 can draw the clipped and unclipped trajectories side by side.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnlib._validate import array, memory_guard, number, positive
from rnnlib.theory.dynamics import dsigmoid, sigmoid

# derivatives() keeps about 15 arrays of the grid's shape alive (x, p, q, the Hessian terms and temporaries)
_ARRAYS_PER_POINT = 16


def _real(name: str, x) -> np.ndarray:
    return array(name, x, what="a finite real number or an array of them", complex_ok=False).astype(float)


def _guard_points(what: str, n_points: float, names: str) -> None:
    memory_guard(f"{what}: {n_points:.0f} points of (w, b)", float(n_points), bytes_per_element=8 * _ARRAYS_PER_POINT,
                 names=names)

X0, TARGET, STEPS = 0.5, 0.7, 50


def _ddsigmoid(x):
    s = sigmoid(x)
    return s * (1.0 - s) * (1.0 - 2.0 * s)                  # sigma'' = sigma'(1 - 2 sigma)


def derivatives(w, b, *, T: int = STEPS, x0: float = X0, target: float = TARGET) -> dict:
    """E, its gradient (dE/dw, dE/db) and Hessian entries at (w, b) (arrays broadcast), exactly.

    Forward recursions with p = dx/dw, q = dx/db (all zero at t = 0):
        x_t = w s + b,  p_t = s + w s' p,  q_t = 1 + w s' q        (s = sigma(x_{t-1}), s' = sigma'(x_{t-1}))
        p_ww = 2 s' p + w s'' p^2 + w s' p_ww,  p_wb = s' q + w s'' p q + w s' p_wb,  p_bb = w s'' q^2 + w s' p_bb
    then E = (sigma(x_T) - target)^2 by the chain rule.
    """
    T = positive("T", T, integer=True)
    w, b = _real("w", w), _real("b", b)
    x0, target = number("x0", x0), number("target", target)
    try:
        shape = np.broadcast_shapes(w.shape, b.shape)
    except ValueError:
        raise ValueError(f"w and b must broadcast together, got shapes {w.shape} and {b.shape}") from None
    _guard_points("derivatives", np.prod(shape), "the size of w and b")
    x = np.full(shape, float(x0))
    p, q, pww, pwb, pbb = (np.zeros_like(x) for _ in range(5))
    for _ in range(T):
        s, s1, s2 = sigmoid(x), dsigmoid(x), _ddsigmoid(x)
        pww = 2 * s1 * p + w * s2 * p * p + w * s1 * pww
        pwb = s1 * q + w * s2 * p * q + w * s1 * pwb
        pbb = w * s2 * q * q + w * s1 * pbb
        p = s + w * s1 * p                                    # dx_t/dw
        q = 1.0 + w * s1 * q                                  # dx_t/db
        x = w * s + b                                         # x_t = w sigma(x_{t-1}) + b
    s, s1, s2 = sigmoid(x), dsigmoid(x), _ddsigmoid(x)
    r = s - target
    E = r * r
    e1 = 2 * r * s1                                           # dE/dx_T
    e2 = 2 * s1 * s1 + 2 * r * s2                             # d^2E/dx_T^2
    return {"x": x, "E": E, "dw": e1 * p, "db": e1 * q,
            "ww": e2 * p * p + e1 * pww, "wb": e2 * p * q + e1 * pwb, "bb": e2 * q * q + e1 * pbb}


def loss(w, b, **kw):
    """E(w, b) = (sigma(x_50) - 0.7)^2 (arrays broadcast)."""
    return derivatives(w, b, **kw)["E"]


def grad_norm(w, b, **kw):
    """||grad E(w, b)||."""
    d = derivatives(w, b, **kw)
    return np.hypot(d["dw"], d["db"])


def curvature(w, b, **kw):
    """The largest |eigenvalue| of the 2x2 Hessian of E at (w, b)."""
    d = derivatives(w, b, **kw)
    mean, half = (d["ww"] + d["bb"]) / 2, np.hypot((d["ww"] - d["bb"]) / 2, d["wb"])
    return np.maximum(np.abs(mean + half), np.abs(mean - half))


def wall_bias(w, *, x0: float = X0):
    """The wall: the line where x_0 is the unstable fixed point, b = x_0 - w sigma(x_0) (for w sigma'(x_0) > 1)."""
    return number("x0", x0) - _real("w", w) * sigmoid(x0)


def linear_derivatives(w, t: int, *, x0: float = X0) -> dict:
    """The linear case x_t = w^t x_0: dx_t/dw = t w^(t-1) x_0 and d^2x_t/dw^2 = t (t-1) w^(t-2) x_0."""
    w = _real("w", w)
    t = positive("t", t, integer=True, allow_zero=True)
    x0 = number("x0", x0)
    return {"x": w ** t * x0, "dw": t * w ** (t - 1) * x0, "dww": t * (t - 1) * w ** (t - 2.0) * x0}


def grid(w_range=(0.0, 12.0), b_range=(-8.0, 2.0), shape=(400, 500), **kw) -> dict:
    """E, ||grad E|| and the curvature on a (n_b, n_w) grid (rows: b, columns: w)."""
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise ValueError(f"shape must be (n_b, n_w), two integers >= 1, got {shape!r}")
    shape = (positive("shape[0] (n_b)", shape[0], integer=True), positive("shape[1] (n_w)", shape[1], integer=True))
    for name, r in (("w_range", w_range), ("b_range", b_range)):
        r = _real(name, r)
        if r.shape != (2,):
            raise ValueError(f"{name} must be (low, high), got {r.tolist()!r}")
    _guard_points("grid", float(shape[0]) * shape[1], "shape")
    W, B = np.meshgrid(np.linspace(*w_range, shape[1]), np.linspace(*b_range, shape[0]))
    d = derivatives(W, B, **kw)
    mean, half = (d["ww"] + d["bb"]) / 2, np.hypot((d["ww"] - d["bb"]) / 2, d["wb"])
    return {"w": W, "b": B, "E": d["E"], "grad": np.hypot(d["dw"], d["db"]),
            "curv": np.maximum(np.abs(mean + half), np.abs(mean - half))}


def largest_gradient(g: dict) -> dict:
    """Where on a :func:`grid` the gradient norm is largest: {"w", "b", "grad", "curv"}."""
    i = np.unravel_index(np.nanargmax(g["grad"]), g["grad"].shape)
    return {"w": float(g["w"][i]), "b": float(g["b"][i]), "grad": float(g["grad"][i]), "curv": float(g["curv"][i])}


@dataclass
class SGDPath:
    """A gradient-descent trajectory on the surface: ``points`` (n + 1, 2) of (w, b), the loss and the
    gradient norm *before* clipping at each point, and whether the step was clipped."""

    points: np.ndarray
    losses: np.ndarray
    grad_norms: np.ndarray
    clipped: np.ndarray

    @property
    def jumps(self) -> np.ndarray:
        """Length of every step, ||theta_{n+1} - theta_n||, shape (n,)."""
        return np.linalg.norm(np.diff(self.points, axis=0), axis=1)


def sgd_path(w0: float, b0: float, lr: float, steps: int, clip: float | None = None, **kw) -> SGDPath:
    """Plain gradient descent theta <- theta - lr g from (w0, b0); with ``clip`` the gradient is rescaled to norm
    ``clip`` whenever ||g|| > clip (Pascanu et al.'s norm clipping). Stops early if the state becomes non-finite."""
    w0, b0 = number("w0", w0), number("b0", b0)
    positive("lr", lr)
    steps = positive("steps", steps, integer=True)
    if clip is not None:
        positive("clip", clip)
    th = np.array([w0, b0], dtype=float)
    pts, losses, norms, clipped = [th.copy()], [], [], []
    for _ in range(steps + 1):
        d = derivatives(th[0], th[1], **kw)
        g = np.array([float(d["dw"]), float(d["db"])])
        n = float(np.hypot(*g))
        losses.append(float(d["E"]))
        norms.append(n)
        if len(pts) == steps + 1 or not np.isfinite(n):
            break
        c = clip is not None and n > clip
        clipped.append(c)
        th = th - lr * (g * (clip / n) if c else g)          # clipping keeps the direction, caps the length
        pts.append(th.copy())
    return SGDPath(np.array(pts), np.array(losses), np.array(norms), np.array(clipped, dtype=bool))


def wall_profile(w_values, *, offsets=None, **kw) -> dict:
    """The height of the wall: for every w, the largest ||grad E|| across the wall, found on b = wall_bias(w) +- offsets
    (log-spaced from 1e-16 to 1: the wall is far thinner than any plotting grid). Returns arrays "w", "b", "grad", "curv"."""
    w = np.atleast_1d(_real("w_values", w_values)).ravel()[:, None]
    off = np.logspace(-16, 0, 321) if offsets is None else np.atleast_1d(_real("offsets", offsets)).ravel()
    _guard_points("wall_profile", float(w.size) * (2 * off.size + 1), "w_values or offsets")
    off = np.concatenate([-off[::-1], [0.0], off])[None, :]
    b = wall_bias(w, x0=kw.get("x0", X0)) + off
    d = derivatives(w, b, **kw)
    g = np.hypot(d["dw"], d["db"])
    mean, half = (d["ww"] + d["bb"]) / 2, np.hypot((d["ww"] - d["bb"]) / 2, d["wb"])
    curv = np.maximum(np.abs(mean + half), np.abs(mean - half))
    j = np.nanargmax(g, axis=1)
    rows = np.arange(w.shape[0])
    return {"w": w[:, 0], "b": b[rows, j], "grad": g[rows, j], "curv": curv[rows, j]}
