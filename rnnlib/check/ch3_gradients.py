"""Exercise checkers of Chapter 3 (exploding and vanishing gradients): ``check_step_jacobian``, ``check_bifurcation_points``, ``check_pascanu_eta``.

Tests: ``tests/test_check_ch3.py``.
"""
from __future__ import annotations

import numpy as np

from rnnlib.check.feedback import Feedback, compare_functions, sigmoid_for_tanh, _cases, _sigmoid


def _step_jacobian_ref(W, x_prev):
    # J_t = dx_t/dx_{t-1} = W diag(tanh'(x_{t-1})) for x_t = W tanh(x_{t-1}) + W_in u_t + b
    return W * (1.0 - np.tanh(x_prev) ** 2)[None, :]


def _step_jacobian_case(rng):
    H = int(rng.integers(2, 6))
    return rng.normal(size=(H, H)), rng.normal(size=H)


def check_step_jacobian(fn) -> Feedback:
    """Exercise: one step Jacobian of x_t = W tanh(x_{t-1}) + W_in u_t + b, i.e. J = W diag(tanh'(x_{t-1})).
    ``fn(W, x_prev)`` takes W (H, H) and x_prev (H,) and returns J (H, H)."""
    d = lambda x: 1.0 - np.tanh(x) ** 2  # noqa: E731
    hints = [
        (lambda W, x: d(x)[:, None] * W,
         "diag(tanh') is on the wrong side: here the non-linearity acts on x_{t-1} *before* W, so J = W diag(tanh'(x_{t-1})), "
         "which scales the columns of W. (diag(tanh') W is the Jacobian of the other form, h_t = tanh(W h_{t-1} + ...).)"),
        (lambda W, x: W.T * d(x)[None, :], "W is transposed: with column vectors dx_t/dx_{t-1} = W diag(tanh'(x_{t-1}))."),
        (lambda W, x: W, "The derivative of tanh is missing: multiply column j of W by tanh'(x_{t-1}[j])."),
        (lambda W, x: W * np.tanh(x)[None, :], "You multiplied by tanh(x), not by its derivative 1 - tanh(x)^2."),
        (lambda W, x: W * (1.0 - x ** 2)[None, :],
         "1 - x^2 is tanh' written in terms of tanh(x); with the pre-activation x use 1 - tanh(x)^2."),
        (lambda W, x: W * (_sigmoid(x) * (1 - _sigmoid(x)))[None, :],
         sigmoid_for_tanh("the recurrence x_t = W tanh(x_{t-1}) + ...", derivative=True)),
    ]
    return compare_functions(fn, _step_jacobian_ref, _cases(_step_jacobian_case, seed=31), name="step_jacobian",
                             rtol=1e-10, atol=1e-12, hints=hints)


def _bifurcation_ref(w):
    from rnnlib.theory.dynamics import bifurcation_points

    return np.array(bifurcation_points(float(w)))


def _sigma_roots(w):
    """The two values s = sigma(x_c) with w s (1 - s) = 1: the sigmoid's values where the slope is 1."""
    r = np.sqrt(1.0 - 4.0 / w)
    return (1.0 - r) / 2.0, (1.0 + r) / 2.0


def check_bifurcation_points(fn) -> Feedback:
    """Exercise: the closed-form bifurcation points of x_t = w sigmoid(x_{t-1}) + b. ``fn(w)`` (w > 4) returns
    (b_1, b_2) with b_1 < b_2: the biases where w sigmoid'(x) = 1 and x = w sigmoid(x) + b hold together."""
    from rnnlib.theory.dynamics import logit, sigmoid, slope_critical_points

    def _from_sigma(b_of_s):
        """(b_1, b_2), sorted, computed from the two roots s = sigma(x_c) by a (wrong) formula b(s, w)."""
        return lambda w: np.sort([b_of_s(s, w) for s in _sigma_roots(w)])

    missing_logit = ("The logit is missing: s = (1 +- sqrt(1 - 4/w)) / 2 is the value sigma(x_c) of the sigmoid, "
                     "not the state x_c. Invert the sigmoid, x_c = logit(s) = log(s / (1 - s)), then "
                     "b = x_c - w s.")
    hints = [
        (lambda w: np.array(slope_critical_points(w)),
         "These are the *states* x where the slope w sigma'(x) is 1; the bifurcation points are the biases "
         "b = x - w sigma(x) at those states."),
        (lambda w: np.array(_bifurcation_ref(w)[::-1]), "Right values, wrong order: return (b_1, b_2) with b_1 < b_2."),
        (lambda w: np.sort([x + w * float(sigmoid(x)) for x in slope_critical_points(w)]),
         "Sign slip: from x = w sigma(x) + b the bias is b = x - w sigma(x)."),
        (lambda w: np.sort([float(logit(s)) - w * s for s in ((1 - np.sqrt(1 / w)) / 2, (1 + np.sqrt(1 / w)) / 2)]),
         "Solve sigma(1 - sigma) = 1/w: sigma = (1 +- sqrt(1 - 4/w)) / 2."),
        (_from_sigma(lambda s, w: s - w * s), missing_logit),                   # x_c = s, sigma(x_c) = s
        (_from_sigma(lambda s, w: s - w * float(sigmoid(s))), missing_logit),   # x_c = s, sigma applied to it
        (_from_sigma(lambda s, w: -w * s),
         "The state x_c is missing from b = x_c - w sigma(x_c): the fixed point x = w sigma(x) + b gives "
         "b = x - w sigma(x), with x_c = logit(s) = log(s / (1 - s))."),
        (_from_sigma(lambda s, w: np.log(s) - w * s),
         "The logit is log(s / (1 - s)), not log(s): it inverts sigma(x) = 1 / (1 + e^-x)."),
        (_from_sigma(lambda s, w: np.log((1 - s) / s) - w * s),
         "The logit is upside down: x_c = log(s / (1 - s)) (sigma(x) > 1/2 for x > 0), not log((1 - s) / s)."),
    ]
    cases = [(w,) for w in (4.5, 5.0, 6.0, 8.0, 12.0)]
    return compare_functions(fn, _bifurcation_ref, cases, name="bifurcation_points", rtol=1e-7, atol=1e-9,
                             hints=hints)


def _eta_ref(W, activation):
    from rnnlib.theory.gradients import eta

    return eta(W, activation)


def _eta_case(rng):
    H = int(rng.integers(2, 7))
    return rng.normal(size=(H, H)) / np.sqrt(H) * rng.uniform(0.5, 4), str(rng.choice(["tanh", "sigmoid", "linear"]))


def check_pascanu_eta(fn) -> Feedback:
    """Exercise: Pascanu's eta = gamma * sigma_max(W), the bound on every step's Jacobian norm.
    ``fn(W, activation)`` with activation in {"tanh", "sigmoid", "linear"} returns a float."""
    g = {"tanh": 1.0, "sigmoid": 0.25, "linear": 1.0}
    hints = [
        (lambda W, a: g[a] * np.max(np.abs(np.linalg.eigvals(W))),
         "That is gamma times the spectral radius. The bound needs the largest *singular* value "
         "(np.linalg.norm(W, 2)), which is the norm of W; the spectral radius can be smaller."),
        (lambda W, a: np.linalg.norm(W, 2), "gamma is missing: multiply sigma_max by 1 (tanh, linear) or 1/4 (sigmoid)."),
        (lambda W, a: g[a] * np.linalg.norm(W), "np.linalg.norm(W) is the Frobenius norm; use np.linalg.norm(W, 2)."),
        (lambda W, a: np.linalg.norm(W, 2) / g[a], "Multiply by gamma, don't divide: eta = gamma * sigma_max."),
        (lambda W, a: {"tanh": 1.0, "sigmoid": 0.5, "linear": 1.0}[a] * np.linalg.norm(W, 2),
         "gamma for the sigmoid is 1/4, its largest slope sigma'(0) = sigma(0) (1 - sigma(0)) = 1/4 (1/2 is sigma(0) "
         "itself)."),
        (lambda W, a: g[a] * np.linalg.norm(W, 2) ** 2,
         "That is gamma times sigma_max^2, the largest eigenvalue of W^T W: sigma_max is its square root, "
         "np.linalg.norm(W, 2)."),
        (lambda W, a: g[a] * np.linalg.svd(W, compute_uv=False)[-1],
         "That is the *smallest* singular value: np.linalg.svd returns them in descending order, so sigma_max is "
         "the first, or use np.linalg.norm(W, 2)."),
    ]
    return compare_functions(fn, _eta_ref, _cases(_eta_case, n=8, seed=33), name="pascanu_eta", rtol=1e-9,
                             hints=hints)
