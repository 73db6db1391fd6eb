"""Exercise checkers: friendly, specific feedback on a reader's answer (every chapter).

A checker is a plain function ``check_<exercise>(answer) -> Feedback``. ``Feedback`` is truthy
when the answer is right, so a solution cell can ``assert check_xxx(answer)``; in a notebook it
renders as a short coloured message that says what is wrong and how to look for the mistake.
Checkers compare the reader's function with rnnlib's own implementation on fixed random cases,
and recognise typical mistakes (a missing transpose, a forgotten derivative) to name them.
Each checker is tested both ways in ``tests/test_check*.py``: it accepts the reference answer
and rejects typical wrong ones.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
from .device import numpy_rng


@dataclass
class Feedback:
    """The verdict on an answer: ``ok`` and a message (plus optional details)."""

    ok: bool
    message: str
    details: list = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.ok)

    def __str__(self) -> str:
        head = ("Correct: " if self.ok else "Not yet: ") + self.message
        return "\n".join([head] + [f"  - {d}" for d in self.details])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        color, mark = ("#1b7a3d", "&#10004; Correct") if self.ok else ("#a3361a", "&#10008; Not yet")
        items = "".join(f"<li>{html.escape(d)}</li>" for d in self.details)
        return (f'<div class="rnnlib-feedback" style="border-left:4px solid {color};padding:4px 10px;margin:4px 0">'
                f'<strong style="color:{color}">{mark}</strong>: {html.escape(self.message)}'
                f'{"<ul>" + items + "</ul>" if items else ""}</div>')


def _fmt_shape(x) -> str:
    return str(np.shape(x))


def compare_functions(user_fn: Callable | None, reference_fn: Callable, cases: Sequence[tuple], *,
                      name: str, rtol: float = 1e-6, atol: float = 1e-8,
                      hints: Sequence[tuple[Callable, str]] = ()) -> Feedback:
    """Run ``user_fn`` and ``reference_fn`` on every argument tuple in ``cases`` and compare.

    ``hints`` is a list of ``(wrong_fn, message)``: when the reader's output matches ``wrong_fn``
    on a case, the message names that typical mistake.
    """
    if user_fn is None:
        return Feedback(False, f"`{name}` is still None: define it and run the check again.")
    if not callable(user_fn):
        return Feedback(False, f"`{name}` must be a function, got a {type(user_fn).__name__}.")
    for i, args in enumerate(cases):
        copies = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]
        try:
            got = user_fn(*copies)
        except NotImplementedError:
            return Feedback(False, f"`{name}` is not implemented yet (it raised NotImplementedError).")
        except Exception as exc:  # the reader's code failed: say how, without a traceback wall
            return Feedback(False, f"`{name}` raised {type(exc).__name__}: {exc}",
                            [f"on test case {i + 1} with argument shapes {[ _fmt_shape(a) for a in args]}"])
        want = reference_fn(*args)
        if got is None:
            return Feedback(False, f"`{name}` returned None. Did you forget a `return`?")
        if np.shape(got) != np.shape(want):
            return Feedback(False, f"`{name}` returned shape {_fmt_shape(got)}, expected {_fmt_shape(want)}.",
                            [f"test case {i + 1}"])
        got_a = np.asarray(got, dtype=complex if np.iscomplexobj(got) or np.iscomplexobj(want) else float)
        if not np.all(np.isfinite(got_a)):
            return Feedback(False, f"`{name}` returned NaN or inf on test case {i + 1}.")
        if not np.allclose(got_a, want, rtol=rtol, atol=atol):
            for wrong_fn, message in hints:
                try:
                    if np.allclose(got_a, wrong_fn(*args), rtol=rtol, atol=atol):
                        return Feedback(False, message, [f"test case {i + 1}"])
                except Exception:
                    continue
            err = float(np.max(np.abs(got_a - want)))
            return Feedback(False, f"`{name}` gives wrong values: the largest absolute error is {err:.3g}.",
                            [f"test case {i + 1} with argument shapes {[_fmt_shape(a) for a in args]}"])
    return Feedback(True, f"`{name}` agrees with the reference on all {len(cases)} test cases.")


def _cases(make: Callable[[np.random.Generator], tuple], n: int = 5, seed: int = 0) -> list:
    rng = numpy_rng(seed)
    return [make(rng) for _ in range(n)]


def check_value(answer, expected: float, *, name: str, rtol: float = 1e-3, hint: str = "") -> Feedback:
    """Compare a number the reader computed with the expected value."""
    if answer is None:
        return Feedback(False, f"`{name}` is still None: compute it and run the check again.")
    try:
        a = float(answer)
    except (TypeError, ValueError):
        return Feedback(False, f"`{name}` must be a number, got {answer!r}.")
    if np.isclose(a, expected, rtol=rtol, atol=0):
        return Feedback(True, f"`{name}` = {a:.6g} is right.")
    return Feedback(False, f"`{name}` = {a:.6g} is not right." + (f" {hint}" if hint else ""))

# --- Chapter 1: RNN basics -----------------------------------------------------------------------

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
    ]
    return compare_functions(fn, _elman_step_ref, _cases(_elman_case), name="elman_step", hints=hints)


def _newton_step_ref(h, W, b):
    # Newton on G(h) = h - tanh(W h + b):  h_new = h - (I - diag(1 - tanh(W h + b)^2) W)^{-1} G(h)
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
    eye = lambda h: np.eye(len(h))
    hints = [
        (lambda h, W, b: np.tanh(W @ h + b),
         "That is one step of plain iteration, h <- tanh(W h + b). Newton solves the linearised equation: "
         "h_new = h - (dG/dh)^{-1} G(h) with G(h) = h - tanh(W h + b)."),
        (_newton_with(lambda h, W, phi: -(1 - phi ** 2)[:, None] * W),
         "dG/dh is missing the identity: G(h) = h - tanh(W h + b), so dG/dh = I - diag(1 - tanh(W h + b)^2) W."),
        (_newton_with(lambda h, W, phi: eye(h) - (1 - h ** 2)[:, None] * W),
         "tanh' must be taken at the pre-activation a = W h + b: use 1 - tanh(W h + b)^2, not 1 - h^2 "
         "(the two agree only at the fixed point itself)."),
        (_newton_with(lambda h, W, phi: eye(h) - (1 - phi ** 2)[:, None] * W, sign=+1.0),
         "The step has the wrong sign: Newton moves to h - (dG/dh)^{-1} G(h)."),
        (_newton_with(lambda h, W, phi: eye(h) - (1 - phi ** 2)[:, None] * W.T),
         "W is transposed: with column vectors d tanh(W h + b)/dh = diag(1 - tanh(W h + b)^2) W."),
        (_newton_with(lambda h, W, phi: eye(h) - W * (1 - phi ** 2)[None, :]),
         "The diagonal factor multiplies W from the wrong side: it is diag(tanh'(a)) @ W (scale the rows of W)."),
        (_newton_with(lambda h, W, phi: eye(h) - np.diag(1 - phi ** 2)),
         "dG/dh is missing W: the chain rule gives d tanh(W h + b)/dh = diag(1 - tanh(W h + b)^2) W."),
    ]
    return compare_functions(fn, _newton_step_ref, _cases(_newton_case, n=5, seed=3), name="newton_step",
                             rtol=1e-7, atol=1e-9, hints=hints)


KV_CACHE_SHAPE = {"layers": 12, "width": 768, "window": 512}


def check_kv_cache_floats(answer) -> Feedback:
    """Exercise: the floats a Transformer of BERT-base's shape (12 layers, width 768) keeps in its key/value
    cache at a full 512-token window: 2 (keys and values) x 12 x 512 x 768."""
    L, d, T = KV_CACHE_SHAPE["layers"], KV_CACHE_SHAPE["width"], KV_CACHE_SHAPE["window"]
    expected = 2 * L * T * d
    if answer is None:
        return Feedback(False, "`kv_cache_floats` is still None: compute it and run the check again.")
    if callable(answer) or isinstance(answer, (str, bytes, bool)) or np.ndim(answer) != 0:
        return Feedback(False, f"`kv_cache_floats` must be one number, got {type(answer).__name__}.")
    try:
        a = float(answer)
    except (TypeError, ValueError):
        return Feedback(False, f"`kv_cache_floats` must be a number, got {answer!r}.")
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
    }
    hint = known.get(a, "Count: (keys and values) x layers x tokens in the window x width.")
    return Feedback(False, f"`kv_cache_floats` = {a:,.0f} is not right. {hint}")


# --- Chapter 2: BPTT ----------------------------------------------------------------------------

def _bptt_step_ref(delta_next, g_out, a, W_hh):
    # delta_t = (W_hy^T dy_t + W_hh^T delta_{t+1}) * tanh'(a_t)
    return (g_out + W_hh.T @ delta_next) * (1.0 - np.tanh(a) ** 2)


def _bptt_case(rng):
    H = 5
    return rng.normal(size=H), rng.normal(size=H), rng.normal(size=H), rng.normal(size=(H, H))


def check_bptt_step(fn) -> Feedback:
    """Exercise: one backward step of BPTT for a tanh RNN,
    delta_t = (W_hy^T dy_t + W_hh^T delta_{t+1}) * (1 - tanh(a_t)^2)."""
    hints = [
        (lambda d, g, a, W: (g + W @ d) * (1 - np.tanh(a) ** 2),
         "W_hh should be transposed in the backward pass: the error flows back through W_hh^T."),
        (lambda d, g, a, W: g + W.T @ d, "The derivative of tanh is missing: multiply by 1 - tanh(a)^2."),
        (lambda d, g, a, W: (g + W.T @ d) * (1 - a ** 2),
         "Use tanh'(a) = 1 - tanh(a)^2; 1 - a^2 is the formula in terms of h = tanh(a), not of a."),
        (lambda d, g, a, W: (W.T @ d) * (1 - np.tanh(a) ** 2),
         "The error coming from the output at this step (g_out) is missing."),
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
        from . import bptt  # local import: check.py stays light

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


def check_central_difference(fn) -> Feedback:
    """Exercise: a finite-difference gradient check. ``fn(f, x, eps)`` returns the array of
    (f(x + eps e_i) - f(x - eps e_i)) / (2 eps), one entry per entry of ``x``; it must agree with the
    exact gradient to about eps^2 (checked with eps = 1e-4 on a smooth function and on an RNN loss)."""
    hints = [
        (lambda f, x, e: _one_sided(f, x, e),
         "This is a one-sided (forward) difference (f(x + eps) - f(x)) / eps: its error is of order eps, "
         "far larger than the central difference's eps^2. Evaluate f at x + eps and at x - eps."),
        (lambda f, x, e: _one_sided(f, x, e, -1.0),
         "This is a one-sided (backward) difference: evaluate f at both x + eps and x - eps."),
        (lambda f, x, e: _central(f, x, e, 1.0),
         "The result is twice the gradient: the two evaluation points are 2 eps apart, so divide by 2 * eps."),
    ]
    return compare_functions(fn, _central_difference_ref, _cases(_fd_case, n=4, seed=2), name="central_difference",
                             rtol=1e-6, atol=1e-7, hints=hints)


# --- Chapter 3: exploding and vanishing gradients ---------------------------------------------------

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
    ]
    return compare_functions(fn, _step_jacobian_ref, _cases(_step_jacobian_case, seed=31), name="step_jacobian",
                             rtol=1e-10, atol=1e-12, hints=hints)


def _bifurcation_ref(w):
    from .dynamics import bifurcation_points

    return np.array(bifurcation_points(float(w)))


def check_bifurcation_points(fn) -> Feedback:
    """Exercise: the closed-form bifurcation points of x_t = w sigmoid(x_{t-1}) + b. ``fn(w)`` (w > 4) returns
    (b_1, b_2) with b_1 < b_2: the biases where w sigmoid'(x) = 1 and x = w sigmoid(x) + b hold together."""
    from .dynamics import logit, sigmoid, slope_critical_points

    hints = [
        (lambda w: np.array(slope_critical_points(w)),
         "These are the *states* x where the slope w sigma'(x) is 1; the bifurcation points are the biases "
         "b = x - w sigma(x) at those states."),
        (lambda w: np.array(_bifurcation_ref(w)[::-1]), "Right values, wrong order: return (b_1, b_2) with b_1 < b_2."),
        (lambda w: np.sort([x + w * float(sigmoid(x)) for x in slope_critical_points(w)]),
         "Sign slip: from x = w sigma(x) + b the bias is b = x - w sigma(x)."),
        (lambda w: np.sort([float(logit(s)) - w * s for s in ((1 - np.sqrt(1 / w)) / 2, (1 + np.sqrt(1 / w)) / 2)]),
         "Solve sigma(1 - sigma) = 1/w: sigma = (1 +- sqrt(1 - 4/w)) / 2."),
    ]
    cases = [(w,) for w in (4.5, 5.0, 6.0, 8.0, 12.0)]
    return compare_functions(fn, _bifurcation_ref, cases, name="bifurcation_points", rtol=1e-7, atol=1e-9,
                             hints=hints)


def _eta_ref(W, activation):
    from .gradients import eta

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
    ]
    return compare_functions(fn, _eta_ref, _cases(_eta_case, n=8, seed=33), name="pascanu_eta", rtol=1e-9,
                             hints=hints)


# --- Chapters 4 to 7: their checkers live in rnnlib/check_remedies.py and are re-exported here ---------------
from .check_remedies import (  # noqa: E402  (after the framework they import)
    check_clip_norm,
    check_omega_term,
    check_gru_step,
    check_forget_product,
    check_scan_combine,
    check_white_noise_state,
    check_fused_step,
    check_count_synapses,
)
