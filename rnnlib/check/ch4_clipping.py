"""Exercise checkers of Chapter 4 (gradient clipping and the regulariser): ``check_clip_norm``, ``check_omega_term``.

Tests: ``tests/test_check_ch4.py``.
"""
from __future__ import annotations

import numpy as np

from rnnlib.check.feedback import Feedback, compare_functions, _cases


def _clip_norm_ref(g, threshold):
    n = np.linalg.norm(g)
    return g * (threshold / n) if n >= threshold else g.copy()   # Algorithm 1: g <- threshold/||g|| g


def _clip_norm_case(rng):
    g = rng.normal(size=int(rng.integers(2, 9))) * rng.choice([0.05, 1.0, 30.0])
    return g, float(rng.choice([0.5, 1.0, 2.0]))


def check_clip_norm(fn) -> Feedback:
    """Exercise: norm clipping (Pascanu et al.'s Algorithm 1). ``fn(g, threshold)`` takes a gradient vector
    g (n,) and returns it rescaled to norm ``threshold`` if ||g|| >= threshold, unchanged otherwise."""
    hints = [   # the first one before value clipping: on a long gradient with small entries both leave g unchanged
        (lambda g, c: g * c / np.linalg.norm(g) if np.max(np.abs(g)) >= c else g,
         "The test must compare the norm with the threshold, np.linalg.norm(g) >= threshold, not the largest entry: "
         "a gradient can be longer than the threshold with every entry below it."),
        (lambda g, c: np.clip(g, -c, c),
         "That is value clipping (each entry clamped), which turns the direction. Norm clipping rescales the whole "
         "vector: g * threshold / ||g||."),
        (lambda g, c: g * c / np.linalg.norm(g),
         "Rescale only when ||g|| >= threshold; a small gradient must pass unchanged (you lengthened it)."),
        (lambda g, c: g / np.linalg.norm(g) if np.linalg.norm(g) >= c else g,
         "The rescaled gradient should have norm threshold, not 1: multiply by threshold / ||g||."),
        (lambda g, c: g * np.linalg.norm(g) / c if np.linalg.norm(g) >= c else g,
         "The factor is upside down: use threshold / ||g||, which is below 1 when clipping."),
        (lambda g, c: g * c / np.sum(np.abs(g)) if np.linalg.norm(g) >= c else g,
         "Use the Euclidean norm np.linalg.norm(g), not the sum of absolute values."),
        (lambda g, c: g * c / np.sum(g ** 2) if np.linalg.norm(g) >= c else g,
         "You divided by the squared norm np.sum(g ** 2): the norm is its square root, np.linalg.norm(g). "
         "Check: the clipped gradient's norm should equal threshold."),
        (lambda g, c: g * c / np.max(np.abs(g)) if np.linalg.norm(g) >= c else g,
         "Use the Euclidean norm np.linalg.norm(g), not the largest absolute entry (the max-norm)."),
    ]
    cases = _cases(_clip_norm_case, n=10, seed=41) + [(np.array([3.0, 4.0]), 5.0)]
    return compare_functions(fn, _clip_norm_ref, cases, name="clip_norm", rtol=1e-10, atol=1e-12, hints=hints)


def _omega_term_ref(d, J):
    # Omega_k = (||d J||^2 / ||d||^2 - 1)^2 with d = dE/dx_{k+1} (row vector), J = dx_{k+1}/dx_k
    v = d @ J
    return (float(v @ v) / float(d @ d) - 1.0) ** 2


def _omega_term_case(rng):
    H = int(rng.integers(2, 7))
    return rng.normal(size=H), rng.normal(size=(H, H)) * rng.uniform(0.2, 1.5) / np.sqrt(H)


def check_omega_term(fn) -> Feedback:
    """Exercise: one term of Pascanu et al.'s regulariser as the authors' code computes it,
    Omega_k = (||d J||^2 / ||d||^2 - 1)^2, for the row vector d = dE/dx_{k+1} (H,) and the Jacobian
    J = dx_{k+1}/dx_k (H, H). ``fn(d, J)`` returns a float."""
    sq = lambda v: float(v @ v)  # noqa: E731
    hints = [
        (lambda d, J: (sq(J @ d) / sq(d) - 1.0) ** 2,
         "J @ d pushes d forward; the error travels backwards as a row vector: d @ J (= J.T @ d)."),
        (lambda d, J: (np.sqrt(sq(d @ J) / sq(d)) - 1.0) ** 2,
         "That is eq. 9 of the paper with plain norms; the authors' code (and eq. 10) uses squared norms: "
         "||d J||^2 / ||d||^2."),
        (lambda d, J: sq(d @ J) / sq(d) - 1.0,
         "Square the deviation: the regulariser penalises (ratio - 1)^2, so growing and shrinking both cost."),
        (lambda d, J: (sq(d @ J) - 1.0) ** 2,
         "Divide by ||d||^2: the ratio measures how much the Jacobian changes the error's norm, whatever its size."),
        (lambda d, J: (sq(d @ J) / sq(d) - 1.0) ** 2 / len(d),
         "No average over units here: Omega_k is one number per time step (the average is over steps)."),
        (lambda d, J: (sq(d) / sq(d @ J) - 1.0) ** 2,
         "The ratio is upside down: ||d J||^2 / ||d||^2 compares the error after the step (d J) with the error "
         "before it (d)."),
        (lambda d, J: (sq(d @ J) - sq(d)) ** 2,
         "Compare with a ratio, not a difference: (||d J||^2 / ||d||^2 - 1)^2 does not depend on the size of d, "
         "(||d J||^2 - ||d||^2)^2 grows with ||d||^4."),
    ]
    return compare_functions(fn, _omega_term_ref, _cases(_omega_term_case, n=8, seed=42), name="omega_term",
                             rtol=1e-9, atol=1e-12, hints=hints)
