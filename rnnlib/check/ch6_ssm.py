"""Exercise checkers of Chapter 6 (state-space models and the LRU): ``check_scan_combine``, ``check_white_noise_state``.

Tests: ``tests/test_check_ch6.py``.
"""
from __future__ import annotations

import numpy as np

from rnnlib.device import numpy_rng
from rnnlib.check.feedback import FLOAT32_RTOL, Feedback, compare_functions, _cases, _short, _to_numpy


def _scan_combine_ref(a1, b1, a2, b2):
    return a2 * a1, a2 * b1 + b2  # apply h -> a1 h + b1 first, then h -> a2 h + b2


def _scan_combine_case(rng):
    z = lambda: rng.standard_normal(4) + 1j * rng.standard_normal(4)  # noqa: E731
    return z(), z(), z(), z()


def _doubling_scan(combine, lam, b):
    """Hillis-Steele inclusive scan over the elements (lam, b_t), built on a given operator; returns the b part.

    ``combine`` may return NumPy arrays or torch tensors; a result of the wrong shape raises ValueError.
    Also returns whether any of its results was float32 (or complex64), which the check then allows for."""
    a, b, d, low = np.broadcast_to(lam, b.shape).copy(), b.copy(), 1, False
    while d < len(b):
        a_new, b_new = (_to_numpy(part) for part in combine(a[:-d], b[:-d], a[d:], b[d:]))
        if a_new.shape != a[d:].shape or b_new.shape != b[d:].shape:
            raise ValueError(f"on inputs of shape {a[d:].shape} it returned shapes {a_new.shape} and {b_new.shape}")
        low |= any(x.dtype.type in (np.float16, np.float32, np.complex64) for x in (a_new, b_new))
        a, b, d = np.concatenate([a[:d], a_new]), np.concatenate([b[:d], b_new]), 2 * d
    return b, low


def check_scan_combine(fn) -> Feedback:
    """Exercise: the associative operator of a linear recurrence, combine(a1, b1, a2, b2) -> (a, b), where (a, b)
    stands for the map h -> a h + b and (a1, b1) is applied first. Also runs a doubling scan built on it."""
    hints = [
        (lambda a1, b1, a2, b2: (a1 * a2, a1 * b2 + b1),
         "The maps are composed in the wrong order: (a1, b1) acts first, so h -> a2 (a1 h + b1) + b2."),
        (lambda a1, b1, a2, b2: (a2 * a1, b1 + b2),
         "The offset b1 of the first map must also be multiplied by a2 when the second map acts on it."),
        (lambda a1, b1, a2, b2: (a1 + a2, a2 * b1 + b2),
         "Multipliers multiply: applying h -> a1 h twice in a row gives a1^2 h, not 2 a1 h."),
        (lambda a1, b1, a2, b2: (a2 * a1, a1 * b1 + b2),
         "b1 is multiplied by the wrong multiplier: the second map h -> a2 h + b2 acts on a1 h + b1, so b1 is "
         "scaled by a2: a2 (a1 h + b1) + b2 = (a2 a1) h + (a2 b1 + b2)."),
        (lambda a1, b1, a2, b2: (a2 * b1 + b2, a2 * a1),
         "Right pair, swapped: return (a, b), the multiplier first, then the offset."),
    ]
    fb = compare_functions(fn, _scan_combine_ref, _cases(_scan_combine_case, n=5, seed=6), name="combine",
                           rtol=1e-10, atol=1e-12, hints=hints)
    if not fb:
        return fb
    rng = numpy_rng(7)
    lam = 0.95 * np.exp(1j * rng.uniform(-3, 3, 3))
    b = rng.standard_normal((37, 3)) + 1j * rng.standard_normal((37, 3))
    h, loop = np.zeros(3, dtype=complex), []
    for b_t in b:
        h = lam * h + b_t  # h_t = lam h_{t-1} + b_t
        loop.append(h)
    try:  # the reader's combine runs again here, on (n, 3) arrays: any failure is feedback too
        scanned, low = _doubling_scan(fn, lam, b)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001
        return Feedback(False, f"`combine` matches on single pairs, but a doubling scan built on it fails: "
                               f"{type(exc).__name__}: {_short(exc)}. Does it work element-wise on arrays of "
                               f"any shape (here (n, 3))?")
    loop = np.array(loop)
    # float32 results, and float64 ones carrying float32 rounding, get float32 tolerance (relative to the largest
    # state), as in compare_functions
    f32 = (FLOAT32_RTOL, FLOAT32_RTOL * np.max(np.abs(loop)))
    if not low and np.allclose(scanned, loop, rtol=1e-9, atol=1e-9):
        return Feedback(True, "`combine` composes the maps correctly, and a doubling scan built on it reproduces the "
                              "sequential loop over 37 steps.")
    if not np.allclose(scanned, loop, rtol=f32[0], atol=f32[1]):
        return Feedback(False, "`combine` matches on single pairs, but a doubling scan built on it does not reproduce "
                               "the sequential loop. Does it work element-wise on arrays?")
    return Feedback(True, "`combine` composes the maps correctly, and a doubling scan built on it reproduces the "
                          "sequential loop over 37 steps to float32 precision.")


def _white_state_ref(lam):
    return 1.0 / (1.0 - np.abs(lam) ** 2)  # sum_k |lam|^{2k}


def _white_state_case(rng):
    r = rng.uniform(0.0, 0.995, 6)
    return (r * np.exp(1j * rng.uniform(-np.pi, np.pi, 6)),)


def check_white_noise_state(fn) -> Feedback:
    """Exercise: E|h|^2 in the stationary regime of h_{t+1} = lam h_t + x_t for white, unit-variance real x_t and
    complex |lam| < 1, as a function of an array of lam."""
    hints = [
        (lambda lam: 1.0 / (1.0 - lam**2), "For complex lam the terms are |lam^k|^2 = |lam|^(2k): use the modulus."),
        (lambda lam: 1.0 / (1.0 - np.abs(lam)), "The sum is geometric in |lam|^2, not in |lam| (you need E|h|^2)."),
        (lambda lam: np.abs(lam) ** 2 / (1.0 - np.abs(lam) ** 2),
         "Off by one term: h_{t+1} contains x_t with weight lam^0 = 1, so the sum starts at k = 0."),
        (lambda lam: 1.0 / np.abs(1.0 - lam) ** 2,
         "That is the answer for a constant input (rho = 1), where all cross terms survive. For white noise they vanish."),
        (lambda lam: 1.0 / (1.0 - np.abs(lam)) ** 2,
         "(1 - |lam|)^2 is not 1 - |lam|^2: the sum of |lam|^(2k) over k >= 0 is 1 / (1 - |lam|^2)."),
        (lambda lam: 1.0 / np.sqrt(1.0 - np.abs(lam) ** 2),
         "That is the root mean square, sqrt(E|h|^2); the exercise asks for E|h|^2 itself, 1 / (1 - |lam|^2)."),
    ]
    return compare_functions(fn, _white_state_ref, _cases(_white_state_case, n=5, seed=8), name="white_noise_state",
                             rtol=1e-8, atol=1e-10, hints=hints)
