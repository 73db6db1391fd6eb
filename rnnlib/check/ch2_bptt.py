"""Exercise checkers of Chapter 2 (unrolling and BPTT): ``check_bptt_step``, ``check_jacobian_product``, ``check_central_difference``.

Tests: ``tests/test_check_ch2.py``.
"""
from __future__ import annotations

import numpy as np

from rnnlib.device import numpy_rng
from rnnlib.check.feedback import Feedback, compare_functions, sigmoid_for_tanh, _cases, _sigmoid


def _bptt_step_ref(delta_next, g_out, a, W_hh):
    # delta_t = (W_hy^T dy_t + W_hh^T delta_{t+1}) * tanh'(a_t)
    return (g_out + W_hh.T @ delta_next) * (1.0 - np.tanh(a) ** 2)


def _bptt_case(rng):
    H = 5
    return rng.normal(size=H), rng.normal(size=H), rng.normal(size=H), rng.normal(size=(H, H))


def check_bptt_step(fn) -> Feedback:
    """Exercise: one backward step of BPTT for a tanh RNN,
    delta_t = (W_hy^T e_t + W_hh^T delta_{t+1}) * (1 - tanh(a_t)^2), with g_out = W_hy^T e_t."""
    d = lambda a: 1.0 - np.tanh(a) ** 2  # noqa: E731
    hints = [
        (lambda d, g, a, W: (g + W @ d) * (1 - np.tanh(a) ** 2),
         "W_hh should be transposed in the backward pass: the error flows back through W_hh^T."),
        (lambda d, g, a, W: g + W.T @ d, "The derivative of tanh is missing: multiply by 1 - tanh(a)^2."),
        (lambda d, g, a, W: (g + W.T @ d) * (1 - a ** 2),
         "Use tanh'(a) = 1 - tanh(a)^2; 1 - a^2 is the formula in terms of h = tanh(a), not of a."),
        (lambda d, g, a, W: (W.T @ d) * (1 - np.tanh(a) ** 2),
         "The error coming from the output at this step (g_out) is missing."),
        (lambda dn, g, a, W: g * d(a) + W.T @ dn,
         "tanh'(a_t) multiplies only the output path: both errors, g_out and W_hh^T delta_next, reach a_t through "
         "h_t = tanh(a_t), so add them first and multiply the sum: (g_out + W_hh.T @ delta_next) * (1 - tanh(a)^2)."),
        (lambda dn, g, a, W: g + (W.T @ dn) * d(a),
         "tanh'(a_t) multiplies only the recurrent path: both errors, g_out and W_hh^T delta_next, reach a_t through "
         "h_t = tanh(a_t), so add them first and multiply the sum: (g_out + W_hh.T @ delta_next) * (1 - tanh(a)^2)."),
        (lambda dn, g, a, W: g + W.T @ (dn * d(a)),
         "tanh' is applied to delta_next before W_hh^T, at the wrong step: delta_{t+1} already carries tanh'(a_{t+1}). "
         "Here the sum g_out + W_hh^T delta_next is multiplied by this step's tanh'(a_t)."),
        (lambda dn, g, a, W: g * d(a),
         "The recurrent term W_hh^T delta_next is missing: the error from all later steps reaches h_t "
         "through h_{t+1}."),
        (lambda dn, g, a, W: (g + W.T @ dn) * np.tanh(a),
         "You multiplied by tanh(a_t), not by its derivative 1 - tanh(a_t)^2."),
        (lambda dn, g, a, W: (g + W.T @ dn) * _sigmoid(a) * (1 - _sigmoid(a)),
         sigmoid_for_tanh("the tanh network's backward step", derivative=True)),
    ]
    return compare_functions(fn, _bptt_step_ref, _cases(_bptt_case), name="bptt_step", hints=hints)


def _jacobian_product_ref(W_hh, a):
    # dh_t/dh_k = diag(tanh'(a_t)) W_hh ... diag(tanh'(a_{k+1})) W_hh, the latest step on the left
    J = np.eye(W_hh.shape[0])
    for a_i in a:
        J = ((1.0 - np.tanh(a_i) ** 2)[:, None] * W_hh) @ J
    return J


def _jacobian_case(rng):
    H, n = int(rng.integers(2, 5)), int(rng.integers(1, 5))
    return rng.normal(size=(H, H)), rng.normal(size=(n, H))


def _product(factors, *, reverse=False):
    J = np.eye(factors[0].shape[0])
    for F in (factors[::-1] if reverse else factors):
        J = F @ J
    return J


def check_jacobian_product(fn) -> Feedback:
    """Exercise: the Jacobian product inside BPTT for a tanh RNN,
    dh_t/dh_k = prod_{i=t}^{k+1} diag(1 - tanh(a_i)^2) W_hh, from W_hh (H, H) and the
    pre-activations a_{k+1}, ..., a_t stacked in time order as rows of ``a`` (n, H)."""
    d = lambda a: 1.0 - np.tanh(a) ** 2
    hints = [
        (lambda W, a: _product([d(x)[:, None] * W for x in a], reverse=True),
         "The factors are multiplied in the wrong order: the latest step, diag(tanh'(a_t)) W_hh, stands on the left."),
        (lambda W, a: _product([W * d(x)[None, :] for x in a]),
         "Each factor is diag(tanh'(a_i)) W_hh (scale the rows of W_hh), not W_hh diag(tanh'(a_i)) (the columns); "
         "the latter is the Jacobian of Pascanu et al.'s form x_t = W sigma(x_{t-1})."),
        (lambda W, a: _product([d(x)[:, None] * W.T for x in a]),
         "W_hh is transposed: dh_i/dh_{i-1} = diag(tanh'(a_i)) W_hh. (W_hh^T appears when the error flows backwards.)"),
        (lambda W, a: np.linalg.matrix_power(W, len(a)),
         "The derivative of tanh is missing: every factor carries diag(1 - tanh(a_i)^2)."),
        (lambda W, a: _product([(1.0 - x ** 2)[:, None] * W for x in a]),
         "Use tanh'(a) = 1 - tanh(a)^2; 1 - a^2 is the formula in terms of h = tanh(a), not of a."),
        (lambda W, a: _product([d(x)[:, None] * W for x in a[1:]]),
         "One factor is missing (an off-by-one in the loop): there is one factor per row of a, n = t - k in all, "
         "from diag(tanh'(a_{k+1})) W_hh to diag(tanh'(a_t)) W_hh. Loop over every row of a."),
        (lambda W, a: _product([d(x)[:, None] * W for x in a[:-1]]),
         "One factor is missing (an off-by-one in the loop): there is one factor per row of a, n = t - k in all, "
         "from diag(tanh'(a_{k+1})) W_hh to diag(tanh'(a_t)) W_hh. Loop over every row of a."),
        (lambda W, a: _product([np.tanh(x)[:, None] * W for x in a]),
         "You multiplied by tanh(a_i), not by its derivative 1 - tanh(a_i)^2."),
        (lambda W, a: _product([(_sigmoid(x) * (1 - _sigmoid(x)))[:, None] * W for x in a]),
         sigmoid_for_tanh("each factor of the tanh network", derivative=True)),
    ]
    return compare_functions(fn, _jacobian_product_ref, _cases(_jacobian_case), name="jacobian_product",
                             rtol=1e-9, atol=1e-12, hints=hints)


class _Quartic:
    """f(x) = sum(sin(x) x^2) + (sum x)^4 / 8, with its gradient (a smooth test function)."""

    def __call__(self, x):
        return float(np.sum(np.sin(x) * x ** 2) + np.sum(x) ** 4 / 8)

    def grad(self, x):
        return np.cos(x) * x ** 2 + 2 * x * np.sin(x) + np.sum(x) ** 3 / 2

    def __repr__(self):
        return "f(x) = sum(sin(x) x^2) + (sum x)^4 / 8"


class _RNNLoss:
    """The squared loss of a small tanh RNN as a function of its recurrent matrix W_hh (chapter 2)."""

    def __init__(self, seed):
        from rnnlib.theory import bptt

        rng = numpy_rng(seed)
        self._bptt = bptt
        self.params = bptt.init_params(2, 3, 1, scale=1.2, seed=seed)
        self.u = rng.normal(size=(5, 2, 2))
        self.target = rng.normal(size=(5, 2, 1))

    def _with(self, W):
        p = dict(self.params)
        p["W_hh"] = np.asarray(W, dtype=float)
        return p

    def __call__(self, W):
        return self._bptt.loss(self._with(W), self.u, self.target)

    def grad(self, W):
        return self._bptt.bptt(self._with(W), self.u, self.target).grads["W_hh"]

    def __repr__(self):
        return "the loss of a 3-unit tanh RNN as a function of W_hh"


_FD_EPS = 1e-4


def _central_difference_ref(f, x, eps):
    # the exact gradient: a correct central difference agrees with it up to O(eps^2)
    return f.grad(x)


def _fd_case(rng):
    kind = int(rng.integers(0, 2))
    if kind == 0:
        return _Quartic(), rng.normal(size=tuple(rng.integers(2, 4, size=int(rng.integers(1, 3))))), _FD_EPS
    f = _RNNLoss(int(rng.integers(0, 1000)))
    return f, f.params["W_hh"].copy(), _FD_EPS


def _one_sided(f, x, eps, sign=1.0):
    x = np.array(x, dtype=float)
    g = np.zeros_like(x)
    f0 = f(x)
    for idx in np.ndindex(*x.shape):
        xp = x.copy()
        xp[idx] += sign * eps
        g[idx] = sign * (f(xp) - f0) / eps
    return g


def _central(f, x, eps, denom=2.0):
    x = np.array(x, dtype=float)
    g = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += eps
        xm[idx] -= eps
        g[idx] = (f(xp) - f(xm)) / (denom * eps)
    return g


def _no_restore(f, x, eps):
    """Perturbs x in place and never restores it: each entry is left at x_i - eps for the entries after it."""
    x = np.array(x, dtype=float)
    g = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        x[idx] += eps
        f_plus = f(x)
        x[idx] -= 2 * eps
        g[idx] = (f_plus - f(x)) / (2 * eps)
    return g


def _no_restore_plus(f, x, eps):
    """Perturbs x in place, evaluates f(x - eps) first, and leaves each entry at x_i + eps."""
    x = np.array(x, dtype=float)
    g = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        x[idx] -= eps
        f_minus = f(x)
        x[idx] += 2 * eps
        g[idx] = (f(x) - f_minus) / (2 * eps)
    return g


def _undone_before_minus(f, x, eps):
    """x[i] += eps, then x[i] -= eps (back to x, not to x - eps): half of a forward difference."""
    return _one_sided(f, x, eps) / 2


def _all_at_once(f, x, eps):
    """Every entry perturbed together: the derivative along (1, ..., 1) in every entry."""
    x = np.array(x, dtype=float)
    return np.full_like(x, (f(x + eps) - f(x - eps)) / (2 * eps))


def check_central_difference(fn) -> Feedback:
    """Exercise: a finite-difference gradient check. ``fn(f, x, eps)`` returns the array of
    (f(x + eps e_i) - f(x - eps e_i)) / (2 eps), one entry per entry of ``x``; it must agree with the
    exact gradient to about eps^2 (checked with eps = 1e-4 on a smooth function and on an RNN loss).
    Its accuracy is the point, so a float64 result with float32 rounding is not accepted."""
    restore = ("You perturb x in place and never restore it: after entry i, x[i] stays at x[i] {} eps, so every "
               "later entry is differentiated at a shifted point. Save old = x[i] and set x[i] = old after the two "
               "evaluations (or perturb a copy: xp = x.copy()).")
    hints = [
        (lambda f, x, e: _one_sided(f, x, e),
         "This is a one-sided (forward) difference (f(x + eps) - f(x)) / eps: its error is of order eps, "
         "far larger than the central difference's eps^2. Evaluate f at x + eps and at x - eps."),
        (lambda f, x, e: _one_sided(f, x, e, -1.0),
         "This is a one-sided (backward) difference: evaluate f at both x + eps and x - eps."),
        (lambda f, x, e: _central(f, x, e, 1.0),
         "The result is twice the gradient: the two evaluation points are 2 eps apart, so divide by 2 * eps."),
        (_no_restore, restore.format("-")),
        (_no_restore_plus, restore.format("+")),
        (_undone_before_minus,
         "Your 'minus' point is x itself: after x[i] += eps, the step x[i] -= eps brings x back to x, not to "
         "x - eps, so you computed (f(x + eps) - f(x)) / (2 eps), half a forward difference. Set x[i] = old - eps "
         "(or subtract 2 * eps), and restore x[i] = old afterwards."),
        (lambda f, x, e: np.zeros_like(np.asarray(x, dtype=float)),
         "Every entry is 0: f(x + eps e_i) and f(x - eps e_i) were evaluated at the same point. Is x_plus = x "
         "(no copy) the same array as x_minus? Use x.copy(), or perturb and restore x[i] between the evaluations. "
         "(If this is a placeholder, fill in the loop.)"),
        (_all_at_once,
         "You perturbed every entry at once (x + eps adds eps to all of them): that gives the derivative along "
         "(1, ..., 1), the sum of the gradient's entries, in every entry. Perturb one entry at a time, eps e_i."),
    ]
    return compare_functions(fn, _central_difference_ref, _cases(_fd_case, n=4, seed=2), name="central_difference",
                             rtol=1e-6, atol=1e-7, hints=hints, float32_ok=False)
