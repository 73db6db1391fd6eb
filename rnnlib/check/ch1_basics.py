"""Exercise checkers of Chapter 1 (RNN basics): ``check_elman_step``, ``check_newton_step``, ``check_kv_cache_floats``.

Tests: ``tests/test_check_ch1.py``.
"""
from __future__ import annotations

import numpy as np

from rnnlib.check.feedback import Feedback, compare_functions, sigmoid_for_tanh, _as_number, _cases, _sigmoid


def _elman_step_ref(h, u, W_hh, W_xh, b):
    return np.tanh(W_hh @ h + W_xh @ u + b)  # h_t = tanh(W_hh h_{t-1} + W_xh u_t + b)


def _elman_case(rng):
    H, I = 4, 3
    return (rng.normal(size=H), rng.normal(size=I), rng.normal(size=(H, H)), rng.normal(size=(H, I)),
            rng.normal(size=H))


def check_elman_step(fn) -> Feedback:
    """Exercise: one Elman update h_t = tanh(W_hh h_{t-1} + W_xh u_t + b) for column vectors."""
    hints = [
        (lambda h, u, W, V, b: W @ h + V @ u + b, "You forgot the non-linearity: apply np.tanh to the pre-activation."),
        (lambda h, u, W, V, b: np.tanh(W.T @ h + V @ u + b), "W_hh is transposed: with column vectors the update is W_hh @ h."),
        (lambda h, u, W, V, b: np.tanh(W @ h + V @ u), "The bias b is missing."),
        (lambda h, u, W, V, b: np.tanh(V @ u + b), "The recurrent term W_hh @ h is missing: without it there is no memory."),
        (lambda h, u, W, V, b: _sigmoid(W @ h + V @ u + b), sigmoid_for_tanh("the Elman step")),
        (lambda h, u, W, V, b: np.tanh(W @ h) + V @ u + b,
         "tanh is applied to the recurrent term only: it acts on the whole pre-activation, "
         "np.tanh(W_hh @ h + W_xh @ u + b). Check the brackets."),
    ]
    return compare_functions(fn, _elman_step_ref, _cases(_elman_case), name="elman_step", hints=hints)


def _newton_step_ref(h, W, b):
    # Newton on R(h) = h - tanh(W h + b):  h_new = h - (I - diag(1 - tanh(W h + b)^2) W)^{-1} R(h)
    phi = np.tanh(W @ h + b)
    return h - np.linalg.solve(np.eye(len(h)) - (1.0 - phi ** 2)[:, None] * W, h - phi)


def _newton_case(rng):
    n = 4
    return rng.uniform(-0.9, 0.9, size=n), rng.normal(0.0, 1.5 / np.sqrt(n), size=(n, n)), rng.normal(0.0, 0.3, size=n)


def _newton_with(dG_fn, sign=-1.0):
    def step(h, W, b):
        phi = np.tanh(W @ h + b)
        return h + sign * np.linalg.solve(dG_fn(h, W, phi), h - phi)
    return step


def check_newton_step(fn) -> Feedback:
    """Exercise: one Newton step for a fixed point of h = tanh(W h + b) (column vectors, h of shape (n,)):
    h_new = h - (I - diag(1 - tanh(W h + b)^2) W)^{-1} (h - tanh(W h + b))."""
    eye = lambda h: np.eye(len(h))  # noqa: E731
    phi_jacobian = (
        "You used the Jacobian of Phi(h) = tanh(W h + b), J = diag(1 - tanh(W h + b)^2) W, where Newton needs "
        "the Jacobian of R(h) = h - Phi(h), the function whose zero it seeks: dR/dh = I - J. The identity comes "
        "from the h in R; look at the matrix you pass to np.linalg.solve.")
    hints = [
        (lambda h, W, b: np.tanh(W @ h + b),
         "That is one step of plain iteration, h <- tanh(W h + b). Newton solves the linearised equation: "
         "h_new = h - (dR/dh)^{-1} R(h) with R(h) = h - tanh(W h + b)."),
        (_newton_with(lambda h, W, phi: (1 - phi ** 2)[:, None] * W), phi_jacobian),          # J^{-1} (h - Phi)
        (_newton_with(lambda h, W, phi: -(1 - phi ** 2)[:, None] * W), phi_jacobian),         # J^{-1} (Phi - h)
        (_newton_with(lambda h, W, phi: eye(h) - (1 - h ** 2)[:, None] * W),
         "tanh' must be taken at the pre-activation a = W h + b: use 1 - tanh(W h + b)^2, not 1 - h^2 "
         "(the two agree only at the fixed point itself)."),
        (_newton_slope_of_a,
         "Use tanh'(a) = 1 - tanh(a)^2 at the pre-activation a = W h + b; 1 - a^2 is the formula in terms of "
         "tanh(a), not of a."),
        (_newton_with(lambda h, W, phi: eye(h) - (1 - phi ** 2)[:, None] * W, sign=+1.0),
         "The step has the wrong sign: Newton moves to h - (dR/dh)^{-1} R(h). R and dR/dh must come from the same "
         "R: with R(h) = h - Phi(h), dR/dh = I - J; with R(h) = Phi(h) - h, both change sign, dR/dh = J - I."),
        (_newton_with(lambda h, W, phi: eye(h) - (1 - phi ** 2)[:, None] * W.T),
         "W is transposed: with column vectors d tanh(W h + b)/dh = diag(1 - tanh(W h + b)^2) W."),
        (_newton_with(lambda h, W, phi: eye(h) - W * (1 - phi ** 2)[None, :]),
         "The diagonal factor multiplies W from the wrong side: it is diag(tanh'(a)) @ W (scale the rows of W)."),
        (_newton_with(lambda h, W, phi: eye(h) - np.diag(1 - phi ** 2)),
         "dR/dh is missing W: the chain rule gives d tanh(W h + b)/dh = diag(1 - tanh(W h + b)^2) W."),
        (lambda h, W, b: _newton_step_ref(h, W, np.zeros_like(b)),
         "The bias b is missing: the fixed points of h = tanh(W h + b) depend on it, in R(h) and in tanh'(W h + b)."),
        (_newton_sigmoid, sigmoid_for_tanh("the map Phi(h) = tanh(W h + b)")),
    ]
    return compare_functions(fn, _newton_step_ref, _cases(_newton_case, n=5, seed=3), name="newton_step",
                             rtol=1e-7, atol=1e-9, hints=hints)


def _newton_slope_of_a(h, W, b):
    """Newton's step with tanh' written as 1 - a^2 at the pre-activation a = W h + b."""
    a = W @ h + b
    return h - np.linalg.solve(np.eye(len(h)) - (1 - a ** 2)[:, None] * W, h - np.tanh(a))


def _newton_sigmoid(h, W, b):
    """Newton's step for h = sigma(W h + b): the tanh's map and slope both replaced by the sigmoid's."""
    s = _sigmoid(W @ h + b)
    return h - np.linalg.solve(np.eye(len(h)) - (s * (1 - s))[:, None] * W, h - s)


KV_CACHE_SHAPE = {"layers": 12, "width": 768, "window": 512}


def check_kv_cache_floats(answer) -> Feedback:
    """Exercise: the floats a Transformer of BERT-base's shape (12 layers, width 768) keeps in its key/value
    cache at a full 512-token window: 2 (keys and values) x 12 x 512 x 768."""
    L, d, T = KV_CACHE_SHAPE["layers"], KV_CACHE_SHAPE["width"], KV_CACHE_SHAPE["window"]
    expected = 2 * L * T * d
    if answer is None:
        return Feedback(False, "`kv_cache_floats` is still None: compute it and run the check again.")
    a, what = _as_number(answer)  # Python, NumPy or torch scalar -> float; anything else -> what it is
    if a is None:
        return Feedback(False, f"`kv_cache_floats` must be one number, got {what}.")
    if a == expected:
        return Feedback(True, f"{int(a):,} floats ({4 * a / 2**20:.0f} MiB in float32): "
                              f"{2 * T}x the {L * d:,} floats of one {d}-wide state per layer.")
    known = {
        L * T * d: "Each layer keeps two vectors per token, a key and a value.",
        2 * T * d: "That is one layer: every one of the 12 layers has its own cache.",
        T * d: "Count keys and values (2 per token) in every one of the 12 layers.",
        2 * L * d: "That is the cache for one token; the window holds 512 of them.",
        L * d: "That is what an RNN with a 768-wide state per layer keeps; the cache holds keys and values "
               "for every token of the window.",
        2 * L * T * T * d: "The window length enters once: one key and one value vector per token "
                           "(T x T is the size of the attention matrix, which is not cached).",
        4 * expected: "That is the size in bytes at float32 (4 bytes per float); the question asks for floats.",
        2 * expected: "That is the size in bytes at float16 (2 bytes per float); the question asks for floats.",
        12 * expected: "The 12 attention heads share the width: each head's keys and values are 768 / 12 = 64 wide, "
                       "so a layer's heads together hold 768 floats per token and per key or value; do not multiply "
                       "by the heads again.",
    }
    hint = known.get(a, "Count: (keys and values) x layers x tokens in the window x width.")
    return Feedback(False, f"`kv_cache_floats` = {a:,.0f} is not right. {hint}")
