"""Gradients through time: Jacobian products, per-step gradient norms and Pascanu's bound (chapter 3).

Chapter 3 uses the form of the recurrence that Pascanu, Mikolov & Bengio (2013) analyse,

    x_t = W sigma(x_{t-1}) + W_in u_t + b,

where x_t is the *pre-activation* (``a_t`` of ``rnnlib.models.elman.ElmanRNN``: the two forms are the same
network). One step back through time multiplies by the Jacobian (column-vector convention)

    J_t = dx_t / dx_{t-1} = W diag(sigma'(x_{t-1})),

so the state k steps back sees the product dx_t/dx_k = J_t J_{t-1} ... J_{k+1}, and the error of a
loss E_T that depends on x_T reaches x_k as the row vector dE_T/dx_k = dE_T/dx_T J_T ... J_{k+1}.
Written entry by entry, that product is Hochreiter's (1991) sum over all paths of products of
``w sigma'`` factors (:func:`path_sum`). With |sigma'| <= gamma (gamma = 1 for tanh and the identity,
1/4 for the logistic sigmoid) every factor has norm at most eta = gamma * sigma_max(W), hence

    ||dE_T/dx_k|| <= eta^(T-k) ||dE_T/dx_T||           (Pascanu et al. 2013, eq. 7)

Everything here is float64 NumPy, except the ``*_autograd`` functions, which compute the same
quantities with torch autograd as an independent check. Time is first: states are (T + 1, H) or
(T + 1, B, H) with x_0 first.
"""
from __future__ import annotations

import itertools

import numpy as np
import torch

from rnnlib._validate import array, in_range, memory_guard, number, one_of, positive
from rnnlib.theory.bptt import activation_fn
from rnnlib.device import numpy_rng

ACTIVATIONS = ("linear", "tanh", "sigmoid")
# gamma = sup_x |sigma'(x)|: tanh'(0) = 1, sigmoid'(0) = 1/4, the identity has slope 1 everywhere
GAMMA = {"linear": 1.0, "tanh": 1.0, "sigmoid": 0.25}
_TORCH_ACT = {"linear": lambda x: x, "tanh": torch.tanh, "sigmoid": torch.sigmoid}


def gamma(activation: str) -> float:
    """The bound gamma >= |sigma'(x)| for every x (1 for tanh and linear, 1/4 for the sigmoid)."""
    return GAMMA[one_of("activation", activation, ACTIVATIONS)]


def _square(W) -> np.ndarray:
    W = array("W", W, what="a square (H, H) matrix of finite real numbers", complex_ok=False).astype(float)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be a square (H, H) matrix, got shape {W.shape}")
    return W


def _states(x, H: int, *, single: bool = False) -> np.ndarray:
    """States x (T + 1, H) (or (T + 1, B, H) unless ``single``), x_0 first, as float64."""
    x = array("x", x, what="an array of finite states, time first", complex_ok=False).astype(float)
    if (x.ndim != 2 if single else x.ndim not in (2, 3)) or x.shape[-1] != H:
        raise ValueError(f"x must be {'a single trajectory of shape' if single else 'states of shape'} "
                         f"(T + 1, {'' if single else '[B,] '}H = {H}), got {x.shape}")
    return x


def _span(x: np.ndarray, k, t) -> tuple[int, int]:
    """Steps 0 <= k <= t <= T of the states x (T + 1, ...)."""
    T = x.shape[0] - 1
    t = positive("t", t, integer=True, allow_zero=True)
    in_range("t", t, 0, T)
    k = positive("k", k, integer=True, allow_zero=True)
    in_range("k", k, 0, t)
    return k, t


def sigma_max(W) -> float:
    """Largest singular value of W (the operator 2-norm)."""
    return float(np.linalg.norm(_square(W), 2))


def spectral_radius(W) -> float:
    """Largest |eigenvalue| of W."""
    return float(np.max(np.abs(np.linalg.eigvals(_square(W)))))


def eta(W, activation: str) -> float:
    """Pascanu's eta = gamma * sigma_max(W): a bound on ||J_t|| at every step."""
    return gamma(activation) * sigma_max(W)


def random_recurrent(n: int, *, spectral_radius: float | None = None, sigma_max: float | None = None,
                     seed: int = 0) -> np.ndarray:
    """A Gaussian (n, n) matrix N(0, 1/n), rescaled to a given spectral radius *or* largest singular value."""
    n = positive("n", n, integer=True)
    if spectral_radius is not None and sigma_max is not None:
        raise ValueError("give spectral_radius or sigma_max, not both")
    memory_guard(f"random_recurrent: a ({n}, {n}) matrix", float(n) ** 2, bytes_per_element=40, names="n")
    W = numpy_rng(seed).normal(0.0, 1.0 / np.sqrt(n), (n, n))
    if spectral_radius is not None:
        W *= positive("spectral_radius", spectral_radius) / np.max(np.abs(np.linalg.eigvals(W)))
    if sigma_max is not None:
        W *= positive("sigma_max", sigma_max) / np.linalg.norm(W, 2)
    return W


def run_states(W, x0, T: int, *, activation: str = "tanh", inputs=None, b=None) -> np.ndarray:
    """Iterate x_t = W sigma(x_{t-1}) + inputs_t + b for t = 1..T.

    ``x0`` is (H,) or (B, H); ``inputs`` (already multiplied by W_in) is (T, H) or (T, B, H).
    Returns the states (T + 1, H) or (T + 1, B, H), x_0 first.
    """
    W = _square(W)
    T = positive("T", T, integer=True)
    sigma, _ = activation_fn(one_of("activation", activation, ACTIVATIONS))
    x0 = array("x0", x0, what="a finite state (H,) or batch of states (B, H)", complex_ok=False).astype(float)
    if x0.ndim not in (1, 2) or x0.shape[-1] != W.shape[0]:
        raise ValueError(f"x0 must have shape (H,) or (B, H) with H = {W.shape[0]}, got shape {x0.shape}")
    if inputs is not None:
        inputs = array("inputs", inputs, what="finite inputs (T, H) or (T, B, H)", complex_ok=False)
        if inputs.ndim == 0 or inputs.shape[0] != T:
            raise ValueError(f"inputs must have T = {T} rows (time first), got shape {inputs.shape}")
    if b is not None:
        b = array("b", b, what="a finite bias (H,)", complex_ok=False)
    memory_guard(f"run_states: {T + 1} states of shape {x0.shape}", (T + 1.0) * x0.size, bytes_per_element=8,
                 names="T or x0")
    x = np.empty((T + 1,) + x0.shape)
    x[0] = x0
    for t in range(1, T + 1):
        x[t] = sigma(x[t - 1]) @ W.T                        # x_t = W sigma(x_{t-1}) ...
        if inputs is not None:
            x[t] += inputs[t - 1]                           # ... + W_in u_t
        if b is not None:
            x[t] += b                                       # ... + b
    return x


def step_jacobians(W, x, *, activation: str = "tanh") -> np.ndarray:
    """J_t = dx_t/dx_{t-1} = W diag(sigma'(x_{t-1})) for t = 1..T, from the states x (T + 1, H); shape (T, H, H)."""
    W = _square(W)
    _, dsigma = activation_fn(one_of("activation", activation, ACTIVATIONS))
    x = _states(x, W.shape[0], single=True)
    H = W.shape[0]
    memory_guard(f"step_jacobians: {x.shape[0] - 1} Jacobians of ({H}, {H})", (x.shape[0] - 1.0) * H * H,
                 bytes_per_element=8 * 2, names="the length of x (T) or H")
    return W[None] * dsigma(x[:-1])[:, None, :]             # W diag(s): column j scaled by s_j


def jacobian_product(W, x, k: int, t: int, *, activation: str = "tanh") -> np.ndarray:
    """dx_t/dx_k = J_t J_{t-1} ... J_{k+1} (the identity when t == k); shape (H, H)."""
    W = _square(W)
    x = _states(x, W.shape[0], single=True)
    k, t = _span(x, k, t)
    J = step_jacobians(W, x[k:t + 1], activation=activation)   # J_{k+1} .. J_t only
    P = np.eye(W.shape[0])
    for i in range(k + 1, t + 1):
        P = J[i - k - 1] @ P                                    # dx_i/dx_k = J_i dx_{i-1}/dx_k
    return P


def path_sum(W, x, k: int, t: int, *, activation: str = "tanh") -> np.ndarray:
    """Hochreiter's form of dx_t/dx_k: a sum over every path of units l_k -> l_{k+1} -> ... -> l_t.

    (dx_t/dx_k)[i, j] = sum over l_{k+1..t-1} of prod_{m=k+1..t} W[l_m, l_{m-1}] sigma'(x_{m-1}[l_{m-1}]),
    with l_k = j and l_t = i: H^(t-k-1) products of t - k factors each. Exponential cost, small H only.
    """
    W = _square(W)
    _, dsigma = activation_fn(one_of("activation", activation, ACTIVATIONS))
    x = _states(x, W.shape[0], single=True)
    k, t = _span(x, k, t)
    if (t - k) > 0 and W.shape[0] ** (t - k - 1) > 200_000:
        raise ValueError(f"t - k must keep H^(t-k-1) <= 200000 paths, got H={W.shape[0]}, t-k={t - k}")
    H = W.shape[0]
    out = np.zeros((H, H))
    if t == k:
        return np.eye(H)
    for i, j in itertools.product(range(H), range(H)):
        total = 0.0
        for middle in itertools.product(range(H), repeat=t - k - 1):
            path = (j, *middle, i)                          # l_k, ..., l_t
            prod = 1.0
            for m in range(1, len(path)):                   # factor of step k + m
                prod *= W[path[m], path[m - 1]] * dsigma(x[k + m - 1][path[m - 1]])
            total += prod
        out[i, j] = total
    return out


def backprop_norms(W, x, v, *, activation: str = "tanh") -> np.ndarray:
    """||dE_T/dx_k|| for k = 0..T, for a loss with dE_T/dx_T = v (a row vector) and states x (T + 1, H).

    Backward recursion: g_T = v, g_{k-1} = g_k J_k, i.e. g_{k-1} = (g_k @ W) * sigma'(x_{k-1}).
    """
    W = _square(W)
    _, dsigma = activation_fn(one_of("activation", activation, ACTIVATIONS))
    x = _states(x, W.shape[0])
    T = x.shape[0] - 1
    g = array("v", v, what="a finite row vector dE_T/dx_T", complex_ok=False).astype(float)
    if g.ndim == 0 or g.shape[-1] != W.shape[0]:
        raise ValueError(f"v must end in H = {W.shape[0]}, got shape {g.shape}")
    norms = np.empty(T + 1)
    norms[T] = np.linalg.norm(g)
    for k in range(T, 0, -1):
        g = (g @ W) * dsigma(x[k - 1])                      # dE/dx_{k-1} = dE/dx_k W diag(sigma'(x_{k-1}))
        norms[k - 1] = np.linalg.norm(g)
    return norms


def pascanu_bound(W, T: int, *, activation: str = "tanh", v_norm: float = 1.0) -> np.ndarray:
    """eta^(T-k) ||dE_T/dx_T|| for k = 0..T (the bound on :func:`backprop_norms`)."""
    T = positive("T", T, integer=True, allow_zero=True)
    positive("v_norm", v_norm, allow_zero=True)
    return v_norm * eta(W, activation) ** (T - np.arange(T + 1.0))


def linear_modes(W, v, n_max: int) -> np.ndarray:
    """||v (W)^n|| for n = 0..n_max through the eigen-decomposition W = Q Lambda Q^-1 (linear case).

    The row vector v W^n = (v Q) Lambda^n Q^-1: each eigen-direction is scaled by lambda_i^n, so the
    largest |lambda_i| (the spectral radius) decides between growth and decay for large n.
    """
    W = _square(W)
    n_max = positive("n_max", n_max, integer=True, allow_zero=True)
    v = array("v", v, what="a finite row vector", complex_ok=True)
    if v.shape != (W.shape[0],):
        raise ValueError(f"v must have shape (H,) = ({W.shape[0]},), got {v.shape}")
    memory_guard(f"linear_modes: {n_max + 1} powers of {W.shape[0]} eigenvalues", (n_max + 1.0) * W.shape[0],
                 bytes_per_element=16 * 3, names="n_max")
    lam, Q = np.linalg.eig(W)
    c = v.astype(complex) @ Q                    # coordinates of v in the left basis
    Qinv = np.linalg.inv(Q)
    n = np.arange(n_max + 1)[:, None]
    return np.linalg.norm((c[None, :] * lam[None, :] ** n) @ Qinv, axis=1)   # ||c Lambda^n Q^-1||


def nonnormal_recurrent(n: int, *, spectral_radius: float = 0.9, sigma_max: float = 4.0, seed: int = 0) -> np.ndarray:
    """A non-normal W = Q (rho I + c N) Q^T: every eigenvalue equals ``spectral_radius`` (N is strictly upper
    triangular, so it does not move them), while c is set by bisection so that the largest singular value is
    ``sigma_max``. Its powers grow for a while (||W^n|| can exceed 1) and then decay like rho^n."""
    n = positive("n", n, integer=True)
    rho = positive("spectral_radius", spectral_radius)
    number("sigma_max", sigma_max)
    memory_guard(f"nonnormal_recurrent: ({n}, {n}) matrices", float(n) ** 2, bytes_per_element=8 * 8, names="n")
    if not sigma_max >= rho:
        raise ValueError(f"sigma_max must be >= spectral_radius = {rho}, got {sigma_max!r}")
    rng = numpy_rng(seed)
    N = np.triu(rng.normal(size=(n, n)), k=1)
    Q, R = np.linalg.qr(rng.normal(size=(n, n)))
    Q = Q * np.sign(np.diag(R))
    smax = lambda c: np.linalg.norm(rho * np.eye(n) + c * N, 2)
    lo, hi = 0.0, 1.0
    while smax(hi) < sigma_max:
        hi *= 2
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if smax(mid) < sigma_max else (lo, mid)
    return Q @ (rho * np.eye(n) + 0.5 * (lo + hi) * N) @ Q.T


# --- the same quantities by torch autograd (independent checks) ---------------------------------

def _torch_run(W, x_k, steps_inputs, activation):
    act = _TORCH_ACT[activation]
    x = x_k
    for extra in steps_inputs:
        x = act(x) @ W.T + extra                            # x_t = W sigma(x_{t-1}) + extra_t
    return x


def jacobian_autograd(W, x, k: int, t: int, *, activation: str = "tanh", inputs=None, b=None) -> np.ndarray:
    """dx_t/dx_k by torch autograd, re-running the recurrence from x_k (same inputs and bias)."""
    W = _square(W)
    one_of("activation", activation, ACTIVATIONS)
    x = _states(x, W.shape[0], single=True)
    k, t = _span(x, k, t)
    H = W.shape[0]
    extras = []
    for i in range(k + 1, t + 1):
        e = np.zeros(H)
        if inputs is not None:
            e = e + inputs[i - 1]
        if b is not None:
            e = e + b
        extras.append(torch.as_tensor(e, dtype=torch.float64))
    Wt = torch.as_tensor(W, dtype=torch.float64)
    f = lambda xk: _torch_run(Wt, xk, extras, activation)
    return torch.autograd.functional.jacobian(f, torch.as_tensor(x[k], dtype=torch.float64)).numpy()


def backprop_norms_autograd(W, x0, T: int, v, *, activation: str = "tanh", inputs=None, b=None) -> np.ndarray:
    """||dE_T/dx_k|| for k = 0..T with E_T = v . x_T, by autograd through every state (retain_grad)."""
    W = _square(W)
    one_of("activation", activation, ACTIVATIONS)
    T = positive("T", T, integer=True, allow_zero=True)
    act = _TORCH_ACT[activation]
    Wt = torch.as_tensor(W, dtype=torch.float64)
    xs = [torch.as_tensor(np.asarray(x0, dtype=float)).requires_grad_(True)]
    for t in range(1, T + 1):
        x = act(xs[-1]) @ Wt.T
        if inputs is not None:
            x = x + torch.as_tensor(inputs[t - 1], dtype=torch.float64)
        if b is not None:
            x = x + torch.as_tensor(b, dtype=torch.float64)
        x.retain_grad()
        xs.append(x)
    (xs[-1] @ torch.as_tensor(np.asarray(v, dtype=float))).backward()
    return np.array([float(torch.linalg.vector_norm(x.grad)) for x in xs])


def output_sensitivity(model, u: torch.Tensor) -> np.ndarray:
    """||dy_T/dh_k|| for k = 0..T and every sequence, shape (T + 1, B), for an ``ElmanRNN`` with one output.

    The error of the answer at step T reaches the state h_k scaled by exactly this norm (times
    dL/dy_T), so at k = T - lag it measures how much of the target's gradient reaches the cause.
    """
    if not isinstance(u, torch.Tensor):
        raise ValueError(f"u must be a torch.Tensor of shape (T, B, I), got {type(u).__name__}")
    if u.dim() != 3:
        raise ValueError(f"u must have shape (T, B, I), got {tuple(u.shape)}")
    p = next(model.parameters())
    u = u.to(p.device, p.dtype)
    h = u.new_zeros(u.shape[1], model.n_hidden).requires_grad_(True)
    hs = [h]
    for t in range(u.shape[0]):
        h = model.step(h, u[t])                             # h_t = sigma(W_hh h_{t-1} + W_xh u_t + b)
        h.retain_grad()
        hs.append(h)
    y = h @ model.W_hy.T + model.b_y                        # (B, 1): sequences are independent,
    y.sum().backward()                                      # so one backward gives every dy_T^b/dh_k^b
    out = torch.stack([torch.linalg.vector_norm(x.grad, dim=-1) for x in hs])
    model.zero_grad(set_to_none=True)
    return out.detach().cpu().double().numpy()


# --- the chapter's experiments: a driven random network, its regimes, and the interactive figure -------

def driven_network(spectral_radius: float, activation: str = "tanh", T: int = 100, *, H: int = 32,
                   seed: int = 0, drive: float = 0.5) -> dict:
    """A random network W (N(0, 1/H) rescaled to ``spectral_radius``) driven by Gaussian inputs of scale ``drive``
    from x_0 ~ N(0, 1), with a unit readout direction v (dE_T/dx_T = v). Returns W, x (T + 1, H), v and the
    per-step norms ||dE_T/dx_k|| (k = 0..T). The draws depend on ``seed`` only, so only the scale changes with
    ``spectral_radius``."""
    T = positive("T", T, integer=True)
    H = positive("H", H, integer=True)
    number("drive", drive)
    rng = numpy_rng(seed)
    x0 = rng.normal(size=H)
    v = rng.normal(size=H)
    v /= np.linalg.norm(v)
    inputs = drive * rng.normal(size=(T, H))
    W = random_recurrent(H, spectral_radius=spectral_radius, seed=seed)
    x = run_states(W, x0, T, activation=activation, inputs=inputs)
    return {"W": W, "x": x, "v": v, "norms": backprop_norms(W, x, v, activation=activation)}


def growth_per_step(spectral_radius: float, activation: str = "tanh", *, T: int = 100, seeds=range(5), **kw) -> float:
    """Geometric-mean factor per step, ||dE_T/dx_0||^(1/T), averaged (in log) over ``seeds``: < 1 vanishes, > 1 explodes."""
    T = positive("T", T, integer=True)
    logs = [np.log(driven_network(spectral_radius, activation, T, seed=s, **kw)["norms"][0]) / T for s in seeds]
    return float(np.exp(np.mean(logs)))
