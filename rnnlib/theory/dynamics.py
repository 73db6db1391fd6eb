"""The single-unit recurrent map as a dynamical system (chapter 3; after Doya 1993 and Pascanu et al. 2013, Fig. 3).

One hidden unit, no input, the logistic sigmoid:

    x_t = w sigma(x_{t-1}) + b.

For w > 4 the map has a *bistable* range of the bias, b_1 < b < b_2, with two stable fixed points
(attractors) and an unstable one between them, which is the boundary between their basins. The
range ends in saddle-node bifurcations, where a stable and the unstable fixed point meet. At a
fixed point x* = w sigma(x*) + b the slope of the map is w sigma'(x*), so the bifurcations sit where

    w sigma'(x) = 1  <=>  sigma(1 - sigma) = 1/w  <=>  sigma = (1 +- sqrt(1 - 4/w)) / 2,

and b = x - w sigma(x) there (:func:`bifurcation_points`, closed form). The derivative of x_T with
respect to b obeys the forward recursion d_t = w sigma'(x_{t-1}) d_{t-1} + 1 (d_0 = 0): it grows like
a product of slopes, which is large near the unstable fixed point (x_0 close to the basin boundary)
and near the bifurcations (where the slope at the attractor tends to 1). All arrays broadcast.
"""
from __future__ import annotations

import numpy as np

from rnnlib._validate import array, memory_guard, number, positive


def _real(name: str, x) -> np.ndarray:
    return array(name, x, what="a finite real number or an array of them", complex_ok=False).astype(float)


def _broadcast(**arrays) -> tuple:
    """The broadcast shape of the named arrays, or an error naming them."""
    try:
        return np.broadcast_shapes(*(np.shape(a) for a in arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{k} {np.shape(v)}" for k, v in arrays.items())
        raise ValueError(f"{', '.join(arrays)} must broadcast together, got shapes {shapes}") from None


def sigmoid(x):
    """The logistic sigmoid 1 / (1 + e^-x), written through tanh so it never overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))


def dsigmoid(x):
    """sigma'(x) = sigma(x) (1 - sigma(x)) <= 1/4."""
    s = sigmoid(x)
    return s * (1.0 - s)


def logit(p):
    """The inverse of the sigmoid, log(p / (1 - p))."""
    p = np.asarray(p, dtype=float)
    return np.log(p) - np.log1p(-p)


def iterate(x0, w, b, T: int, *, path: bool = False):
    """Run x_t = w sigma(x_{t-1}) + b for T steps (x0, w, b broadcast). Returns x_T, or all (T + 1, ...) states."""
    T = positive("T", T, integer=True, allow_zero=True)
    x0, w, b = _real("x0", x0), _real("w", w), _real("b", b)
    shape = _broadcast(x0=x0, w=w, b=b)
    if path:
        memory_guard(f"iterate(path=True): {T + 1} states of shape {shape}", (T + 1.0) * np.prod(shape),
                     bytes_per_element=8, names="T or the size of x0, w, b")
    x = np.asarray(x0 + 0.0 * w + 0.0 * b, dtype=float)
    xs = [x] if path else None
    for _ in range(T):
        x = w * sigmoid(x) + b                               # x_t = w sigma(x_{t-1}) + b
        if path:
            xs.append(x)
    return np.stack(xs) if path else x


def slope_critical_points(w: float) -> tuple[float, float]:
    """The two states where the map's slope w sigma'(x) equals 1 (w > 4): x = logit((1 +- sqrt(1 - 4/w)) / 2)."""
    w = number("w", w, what="a finite number > 4")
    if w <= 4:
        raise ValueError(f"w must be a finite number > 4 for the map to have a bistable range, got {w!r}")
    r = np.sqrt(1.0 - 4.0 / w)
    s_lo, s_hi = (1.0 - r) / 2.0, (1.0 + r) / 2.0            # sigma (1 - sigma) = 1/w
    return float(logit(s_lo)), float(logit(s_hi))


def bifurcation_points(w: float = 5.0) -> tuple[float, float]:
    """Closed-form saddle-node bifurcations (b_1, b_2), b_1 < b_2, of x = w sigma(x) + b (needs w > 4).

    At x_c with w sigma'(x_c) = 1 the fixed-point condition gives b = x_c - w sigma(x_c).
    For b_1 < b < b_2 there are two attractors; outside, one.
    """
    bs = [x - w * float(sigmoid(x)) for x in slope_critical_points(w)]
    return min(bs), max(bs)


def _bisect(f, a, c, n: int = 80):
    """Vectorised bisection for f(a) and f(c) of opposite signs (nan where they are not)."""
    a, c = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(c, dtype=float))
    a, c = a.copy(), c.copy()
    fa = f(a)
    ok = fa * f(c) <= 0
    for _ in range(n):                                        # 80 halvings of an interval < 1e3 wide: < 1e-21
        m = 0.5 * (a + c)
        fm = f(m)
        left = fm * fa > 0
        a = np.where(left, m, a)
        fa = np.where(left, fm, fa)
        c = np.where(left, c, m)
    return np.where(ok, 0.5 * (a + c), np.nan)


def fixed_point_branches(w: float, b) -> dict:
    """The fixed points of x = w sigma(x) + b for every b in an array, as three branches (nan where absent).

    f(x) = w sigma(x) + b - x is monotone between the points where f'(x) = w sigma'(x) - 1 = 0
    (:func:`slope_critical_points`), so bisection on each monotone piece finds every root:
    ``"low"`` (stable, exists for b < b_2), ``"unstable"`` (the basin boundary, b_1 < b < b_2) and
    ``"high"`` (stable, b > b_1). For w <= 4 there is one root, reported as ``"low"`` and ``"high"``.
    """
    w = number("w", w)
    b = _real("b", b)
    f = lambda x: w * sigmoid(x) + b - x
    lo, hi = np.minimum(b, b + w) - 1.0, np.maximum(b, b + w) + 1.0   # every root lies in (b, b + w)
    if w <= 4:
        root = _bisect(f, lo, hi)
        return {"low": root, "unstable": np.full(b.shape, np.nan), "high": root}
    c1, c2 = slope_critical_points(w)
    low = _bisect(f, lo, np.full(b.shape, c1))
    mid = _bisect(f, np.full(b.shape, c1), np.full(b.shape, c2))
    high = _bisect(f, np.full(b.shape, c2), hi)
    return {"low": low, "unstable": mid, "high": high}


def fixed_points(w: float, b: float) -> list[tuple[float, bool]]:
    """All fixed points of x = w sigma(x) + b with their stability, as [(x*, stable), ...] sorted by x*.

    A fixed point is stable when the slope of the map there is less than one: |w sigma'(x*)| < 1.
    """
    w, b = number("w", w), number("b", b)
    br = fixed_point_branches(w, b)
    roots = sorted({float(br[k]) for k in ("low", "unstable", "high") if np.isfinite(br[k])})
    out = []
    for r in roots:
        if not out or abs(r - out[-1][0]) > 1e-9:
            out.append((r, bool(abs(w * dsigmoid(r)) < 1)))
    return out


def basin_boundary(w: float, b) -> np.ndarray:
    """The unstable fixed point that separates the two basins (nan where the map is not bistable)."""
    return fixed_point_branches(w, b)["unstable"]


def sensitivities(x0, w, b, T: int) -> dict:
    """x_T, dx_T/db and dx_T/dx_0 by forward-mode differentiation (exact; arrays broadcast).

    d_t = dx_t/db = w sigma'(x_{t-1}) d_{t-1} + 1,  d_0 = 0;   e_t = dx_t/dx_0 = w sigma'(x_{t-1}) e_{t-1}, e_0 = 1.
    """
    T = positive("T", T, integer=True, allow_zero=True)
    x0, w, b = _real("x0", x0), _real("w", w), _real("b", b)
    shape = _broadcast(x0=x0, w=w, b=b)
    memory_guard(f"sensitivities: arrays of shape {shape}", float(np.prod(shape)), bytes_per_element=8 * 8,
                 names="the size of x0, w, b")
    x = np.asarray(x0 + 0.0 * w + 0.0 * b, dtype=float)
    d = np.zeros_like(x)
    e = np.ones_like(x)
    for _ in range(T):
        slope = w * dsigmoid(x)                              # dx_t/dx_{t-1} = w sigma'(x_{t-1})
        d = slope * d + 1.0
        e = slope * e
        x = w * sigmoid(x) + b
    return {"x": x, "dx_db": d, "dx_dx0": e}


def bistable_mask(w: float, b_grid, *, T: int = 2000, starts=(-5.0, 5.0), tol: float = 1e-3) -> np.ndarray:
    """Numerical bifurcation diagram: True where iterating from the two ``starts`` ends in different states."""
    b_grid = _real("b_grid", b_grid)
    if len(starts) != 2:
        raise ValueError(f"starts must be two initial states, got {starts!r}")
    positive("tol", tol)
    lo = iterate(starts[0], w, b_grid, T)
    hi = iterate(starts[1], w, b_grid, T)
    return np.abs(hi - lo) > tol


def numerical_bifurcation_points(w: float = 5.0, b_grid=None, *, T: int = 2000) -> tuple[float, float]:
    """(first, last) b of the grid where the two attractors differ: the bifurcations, read off the diagram."""
    if b_grid is None:
        b_grid = np.linspace(-4.0, -1.0, 3001)
    b_grid = _real("b_grid", b_grid)
    mask = bistable_mask(w, b_grid, T=T)
    if not mask.any():
        raise ValueError(f"b_grid has no bistable point for w={w}; widen it")
    return float(b_grid[mask][0]), float(b_grid[mask][-1])


def crossing_bias(x0: float, w: float = 5.0) -> float:
    """The bias at which x0 is the unstable fixed point: b = x0 - w sigma(x0) (x0 sits on the basin boundary)."""
    x0, w = number("x0", x0), number("w", w)
    return float(x0 - w * sigmoid(x0))


def sensitivity_grid(x0: float, w: float, b_range, n: int = 1201) -> np.ndarray:
    """A grid over ``b_range`` refined (log-spaced offsets down to 1e-12) around the bifurcations and, when it
    is in range, the bias where x0 lies on the basin boundary: the spikes of dx_T/db are resolved."""
    x0, w = number("x0", x0), number("w", w)
    n = positive("n", n, integer=True)
    b_range = _real("b_range", b_range)
    if b_range.shape != (2,) or not b_range[0] < b_range[1]:
        raise ValueError(f"b_range must be (low, high) with low < high, got {b_range.tolist()!r}")
    memory_guard(f"sensitivity_grid: {n} points", float(n), bytes_per_element=8 * 4, names="n")
    b = list(np.linspace(*b_range, n))
    centres = list(bifurcation_points(w)) if w > 4 else []
    bc = crossing_bias(x0, w)
    if w > 4 and np.isfinite(basin_boundary(w, bc)):
        centres.append(bc)
    offsets = np.logspace(-12, -1, 120)
    for c in centres:
        b += list(c - offsets) + list(c + offsets) + [c]
    b = np.unique(np.asarray(b))
    return b[(b >= b_range[0]) & (b <= b_range[1])]
