"""Backpropagation through time, from scratch in NumPy (chapter 2; reused in chapter 3).

The network is the Elman RNN of ``rnnlib.models.elman`` written with column vectors:

    a_t = W_hh h_{t-1} + W_xh u_t + b_h,    h_t = sigma(a_t),    y_t = W_hy h_t + b_y

with the loss E = (1/B) sum_b sum_t m_t 1/2 ||y_t - y*_t||^2, where the mask m (T, B) says which
steps are scored (all of them, or only the last for a "many-to-one" task).

Arrays are time first: ``u`` (T, B, I), ``target`` (T, B, O), states ``h`` (T + 1, B, H) with h_0 first.
Parameters are a dict of arrays with the names of ``rnnlib.models.elman.ElmanRNN``.

Backward pass (g_t = dE/dh_t, delta_t = dE/da_t):

    g_T = W_hy^T dy_T,   g_t = W_hy^T dy_t + W_hh^T delta_{t+1},   delta_t = g_t * sigma'(a_t)
    dE/dW_hh = sum_t delta_t h_{t-1}^T,   dE/dW_xh = sum_t delta_t u_t^T,   dE/db_h = sum_t delta_t

The term of the sum with index t is "the contribution of step t"; ``bptt`` returns each one.

Also here, for chapter 2: an autograd reference with one weight copy per step (``untied_gradients``),
the Jacobian product dh_t/dh_k (``jacobian_product``), the cost of BPTT against T (``bptt_cost``,
``autograd_saved_bytes``, ``autograd_macs``), and plain SGD on the lag task with full or truncated BPTT
(``train_lag``; ``train_lag_seeds`` runs several seeds side by side).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnlib._validate import in_range, one_of, positive
from rnnlib.device import numpy_rng, torch_generator

RECURRENT = ("W_xh", "W_hh", "b_h")
NAMES = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")


def activation_fn(name: str):
    """Return (sigma, sigma') for ``name`` in {"tanh", "sigmoid", "relu", "linear"}."""
    one_of("activation", name, ("tanh", "sigmoid", "relu", "linear"))
    if name == "tanh":
        return np.tanh, lambda a: 1.0 - np.tanh(a) ** 2
    if name == "sigmoid":
        sig = lambda a: 0.5 * (1.0 + np.tanh(0.5 * a))  # numerically safe logistic
        return sig, lambda a: sig(a) * (1.0 - sig(a))
    if name == "relu":
        return (lambda a: np.maximum(a, 0.0)), (lambda a: (a > 0).astype(a.dtype))
    return (lambda a: a), np.ones_like


def init_params(n_in: int, n_hidden: int, n_out: int, *, scale: float = 1.0,
                spectral_radius: float | None = None, seed: int = 0) -> dict:
    """Gaussian weights N(0, scale^2 / fan_in), zero biases; W_hh optionally rescaled to a spectral radius."""
    for name, v in (("n_in", n_in), ("n_hidden", n_hidden), ("n_out", n_out)):
        positive(name, v, integer=True)
    positive("scale", scale)
    rng = numpy_rng(seed)
    p = {
        "W_xh": rng.normal(0, scale / np.sqrt(n_in), (n_hidden, n_in)),
        "W_hh": rng.normal(0, scale / np.sqrt(n_hidden), (n_hidden, n_hidden)),
        "b_h": np.zeros(n_hidden),
        "W_hy": rng.normal(0, scale / np.sqrt(n_hidden), (n_out, n_hidden)),
        "b_y": np.zeros(n_out),
    }
    if spectral_radius is not None:
        positive("spectral_radius", spectral_radius)
        p["W_hh"] *= spectral_radius / np.max(np.abs(np.linalg.eigvals(p["W_hh"])))
    return p


def _check_inputs(params, u, target=None, mask=None):
    missing = [n for n in NAMES if n not in params]
    if missing:
        raise ValueError(f"params is missing {missing}; expected keys {NAMES}")
    if np.ndim(u) != 3:
        raise ValueError(f"u must have shape (T, B, I), got {np.shape(u)}")
    T, B, _ = np.shape(u)
    if target is not None and np.shape(target)[:2] != (T, B):
        raise ValueError(f"target must have shape (T, B, O) = ({T}, {B}, O), got {np.shape(target)}")
    if mask is not None and np.shape(mask) != (T, B):
        raise ValueError(f"mask must have shape (T, B) = ({T}, {B}), got {np.shape(mask)}")


def forward(params: dict, u: np.ndarray, *, h0: np.ndarray | None = None,
            activation: str = "tanh") -> dict:
    """Run the recurrence. Returns {"a": (T,B,H), "h": (T+1,B,H), "y": (T,B,O)}."""
    _check_inputs(params, u)
    sigma, _ = activation_fn(activation)
    T, B, _ = u.shape
    H = params["W_hh"].shape[0]
    h = np.zeros((T + 1, B, H)) if h0 is None else np.concatenate([h0[None], np.zeros((T, B, H))])
    a = np.zeros((T, B, H))
    for t in range(T):
        a[t] = h[t] @ params["W_hh"].T + u[t] @ params["W_xh"].T + params["b_h"]  # a_t = W_hh h_{t-1} + W_xh u_t + b
        h[t + 1] = sigma(a[t])                                                     # h_t = sigma(a_t)
    y = h[1:] @ params["W_hy"].T + params["b_y"]                                   # y_t = W_hy h_t + b_y
    return {"a": a, "h": h, "y": y}


def loss(params: dict, u: np.ndarray, target: np.ndarray, *, mask: np.ndarray | None = None,
         activation: str = "tanh", h0: np.ndarray | None = None) -> float:
    """E = (1/B) sum_b sum_t m_t 1/2 ||y_t - y*_t||^2."""
    _check_inputs(params, u, target, mask)
    y = forward(params, u, h0=h0, activation=activation)["y"]
    m = np.ones(u.shape[:2]) if mask is None else mask
    return float(0.5 * np.sum(m[..., None] * (y - target) ** 2) / u.shape[1])


@dataclass
class Gradients:
    """The result of :func:`bptt`.

    ``grads``: dE/dtheta for every parameter. ``per_step``: for W_xh, W_hh and b_h, an array
    (T, *shape) whose row t is the contribution of step t (they sum to ``grads``). ``dh``: the
    total derivative dE/dh_t, shape (T + 1, B, H) (full BPTT only; None when truncated).
    ``delta``: dE/da_t as BPTT computed it (truncated or not), shape (T, B, H). ``du``: the
    gradient with respect to the inputs, dE/du_t = W_xh^T delta_t, shape (T, B, I).
    """

    loss: float
    grads: dict
    per_step: dict
    dh: np.ndarray | None
    delta: np.ndarray | None = None
    du: np.ndarray | None = None


def bptt(params: dict, u: np.ndarray, target: np.ndarray, *, mask: np.ndarray | None = None,
         activation: str = "tanh", h0: np.ndarray | None = None, truncate: int | None = None) -> Gradients:
    """Gradients of the loss by backpropagation through time.

    ``truncate=None`` is full BPTT. ``truncate=k`` is truncated BPTT in the sense of Williams and
    Peng: the error of the output at step t flows back through at most k recurrent steps, so it
    reaches states h_t, ..., h_{t-k} and nothing earlier. ``truncate=0`` keeps only the
    immediate term of every step.
    """
    _check_inputs(params, u, target, mask)
    if truncate is not None:
        truncate = positive("truncate", truncate, integer=True, allow_zero=True)
    _, dsigma = activation_fn(activation)
    fw = forward(params, u, h0=h0, activation=activation)
    a, h, y = fw["a"], fw["h"], fw["y"]
    T, B, _ = u.shape
    m = np.ones((T, B)) if mask is None else np.asarray(mask, dtype=float)
    dy = m[..., None] * (y - target) / B                              # dE/dy_t, (T, B, O)
    E = float(0.5 * np.sum(m[..., None] * (y - target) ** 2) / B)
    W_hh = params["W_hh"]
    ds = dsigma(a)                                                    # sigma'(a_t), (T, B, H)
    grads = {"W_hy": np.einsum("tbo,tbh->oh", dy, h[1:]), "b_y": dy.sum((0, 1))}
    delta = np.zeros_like(a)                                          # dE/da_t summed over all losses
    dh = None
    if truncate is None:
        dh = np.zeros_like(h)
        g_next = np.zeros((B, W_hh.shape[0]))                         # W_hh^T delta_{t+1}
        for t in range(T - 1, -1, -1):
            dh[t + 1] = dy[t] @ params["W_hy"] + g_next               # g_t = W_hy^T dy_t + W_hh^T delta_{t+1}
            delta[t] = dh[t + 1] * ds[t]                              # delta_t = g_t * sigma'(a_t)
            g_next = delta[t] @ W_hh
        dh[0] = g_next                                                # dE/dh_0
    else:
        for t in range(T):                                            # one backward chain per scored step
            if not np.any(m[t]):
                continue
            d = (dy[t] @ params["W_hy"]) * ds[t]
            delta[t] += d
            for k in range(t - 1, max(t - truncate, 0) - 1, -1):
                d = (d @ W_hh) * ds[k]                                # delta_k = (W_hh^T delta_{k+1}) * sigma'(a_k)
                delta[k] += d
    per_step = {
        "W_hh": np.matmul(delta.transpose(0, 2, 1), h[:-1]),          # delta_t h_{t-1}^T, (T, H, H)
        "W_xh": np.matmul(delta.transpose(0, 2, 1), u),               # delta_t u_t^T, (T, H, I)
        "b_h": delta.sum(1),
    }
    grads.update({k: v.sum(0) for k, v in per_step.items()})
    du = delta @ params["W_xh"]                                       # dE/du_t = W_xh^T delta_t
    return Gradients(loss=E, grads=grads, per_step=per_step, dh=dh, delta=delta, du=du)


def contribution_matrix(params: dict, u: np.ndarray, target: np.ndarray, *,
                        mask: np.ndarray | None = None, activation: str = "tanh",
                        param: str = "W_hh") -> np.ndarray:
    """C[t, k] = || contribution of step k to dE_t/d(param) ||_F, a lower-triangular (T, T) array (zero for k > t).

    Row t shows how the error made at step t is spread over the earlier steps k <= t that it
    reaches by BPTT: the "sum over time" inside the gradient.
    """
    _check_inputs(params, u, target, mask)
    one_of("param", param, RECURRENT)
    _, dsigma = activation_fn(activation)
    fw = forward(params, u, activation=activation)
    a, h, y = fw["a"], fw["h"], fw["y"]
    T, B, _ = u.shape
    m = np.ones((T, B)) if mask is None else mask
    ds = dsigma(a)
    dy = m[..., None] * (y - target) / B
    C = np.zeros((T, T))
    for t in range(T):
        d = (dy[t] @ params["W_hy"]) * ds[t]
        for k in range(t, -1, -1):
            if param == "W_hh":
                c = d.T @ h[k]
            elif param == "W_xh":
                c = d.T @ u[k]
            else:
                c = d.sum(0)
            C[t, k] = np.linalg.norm(c)
            if k > 0:
                d = (d @ params["W_hh"]) * ds[k - 1]
    return C


def random_problem(T: int, *, n_in: int = 1, n_hidden: int = 32, n_out: int = 1, batch_size: int = 8,
                   scale: float = 1.0, spectral_radius: float | None = None, seed: int = 0):
    """(params, u, target): :func:`init_params` weights and N(0, 1) inputs and targets of length T."""
    T = positive("T", T, integer=True)
    batch_size = positive("batch_size", batch_size, integer=True)
    params = init_params(n_in, n_hidden, n_out, scale=scale, spectral_radius=spectral_radius, seed=seed)
    rng = numpy_rng(seed + 7919)
    return params, rng.normal(size=(T, batch_size, n_in)), rng.normal(size=(T, batch_size, n_out))


def numerical_gradient(params: dict, u: np.ndarray, target: np.ndarray, name: str, *,
                       eps: float = 1e-6, **kw) -> np.ndarray:
    """Central finite differences of :func:`loss` with respect to ``params[name]`` (slow; for checks)."""
    one_of("name", name, NAMES)
    g = np.zeros_like(params[name])
    for idx in np.ndindex(*g.shape):
        p_plus = {k: v.copy() for k, v in params.items()}
        p_minus = {k: v.copy() for k, v in params.items()}
        p_plus[name][idx] += eps
        p_minus[name][idx] -= eps
        g[idx] = (loss(p_plus, u, target, **kw) - loss(p_minus, u, target, **kw)) / (2 * eps)
    return g


def untied_gradients(params: dict, u: np.ndarray, target: np.ndarray, *, mask: np.ndarray | None = None,
                     activation: str = "tanh") -> dict:
    """Torch autograd on the unrolled graph with one private copy of W_xh, W_hh and b_h per step.

    Returns {name: (T, *shape)}: the gradient of the loss with respect to step t's copy. Untying
    the weights does not change the forward pass, so these are exactly the per-step contributions
    of :func:`bptt`, and their sum over t is the gradient of the shared weight. An independent
    check of ``bptt(...).per_step`` (float64).
    """
    import torch

    _check_inputs(params, u, target, mask)
    one_of("activation", activation, ("tanh", "sigmoid", "relu", "linear"))
    f = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu, "linear": lambda a: a}[activation]
    P = {k: torch.tensor(np.asarray(v, dtype=float)) for k, v in params.items()}
    T, B, _ = u.shape
    copies = {n: [P[n].clone().requires_grad_() for _ in range(T)] for n in RECURRENT}  # step t's weights
    ut, yt = torch.tensor(u, dtype=torch.float64), torch.tensor(target, dtype=torch.float64)
    m = torch.ones(T, B, dtype=torch.float64) if mask is None else torch.tensor(mask, dtype=torch.float64)
    h, E = torch.zeros(B, P["W_hh"].shape[0], dtype=torch.float64), 0.0
    for t in range(T):
        h = f(h @ copies["W_hh"][t].T + ut[t] @ copies["W_xh"][t].T + copies["b_h"][t])
        y = h @ P["W_hy"].T + P["b_y"]
        E = E + 0.5 * (m[t, :, None] * (y - yt[t]) ** 2).sum() / B   # E = sum_t E_t
    E.backward()
    return {n: np.stack([c.grad.numpy() for c in copies[n]]) for n in RECURRENT}


# --- the Jacobian product inside BPTT ----------------------------------------------------------

def jacobian_product(params: dict, u: np.ndarray, t: int, k: int, *, activation: str = "tanh",
                     h0: np.ndarray | None = None) -> np.ndarray:
    """dh_t/dh_k = prod_{i=t}^{k+1} diag(sigma'(a_i)) W_hh for every sequence, shape (B, H, H).

    States are numbered as in ``forward``: h_0 is the initial state and h_t follows input u_t,
    so 0 <= k <= t <= T. The factor of step i is the Jacobian dh_i/dh_{i-1}; the latest step
    stands on the left. For t == k the product is empty and the result is the identity.
    """
    _check_inputs(params, u)
    T, B, _ = u.shape
    t = int(in_range("t", t, 0, T))
    k = int(in_range("k", k, 0, t))
    _, dsigma = activation_fn(activation)
    a = forward(params, u, h0=h0, activation=activation)["a"]         # a[i - 1] is a_i
    H = params["W_hh"].shape[0]
    J = np.broadcast_to(np.eye(H), (B, H, H)).copy()
    for i in range(k + 1, t + 1):
        step = dsigma(a[i - 1])[:, :, None] * params["W_hh"]         # dh_i/dh_{i-1} = diag(sigma'(a_i)) W_hh
        J = step @ J                                                  # later steps multiply from the left
    return J


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max |b| (0 when both are zero): a size-aware distance for gradient checks."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    scale = np.max(np.abs(b)) if b.size else 0.0
    diff = np.max(np.abs(a - b)) if a.size else 0.0
    if scale == 0.0:
        return 0.0 if diff == 0.0 else float("inf")
    return float(diff / scale)


# --- what BPTT costs ---------------------------------------------------------------------------

def stored_bytes(fw: dict) -> int:
    """Bytes of the arrays that ``forward`` keeps for the backward pass (a, h and y)."""
    return int(sum(np.asarray(v).nbytes for v in fw.values()))


def bptt_cost(lengths, *, n_in: int = 1, n_hidden: int = 32, n_out: int = 1, batch_size: int = 16,
              repeats: int = 3, seed: int = 0) -> dict:
    """Measure forward + full BPTT on random problems of each length T in ``lengths``.

    Returns {"T": (n,), "seconds": (n,), "stored_bytes": (n,)}: the fastest of ``repeats`` timings
    of :func:`bptt` (the minimum is the least disturbed by other work on the machine), and the
    bytes of the activations the forward pass stores for the backward pass (float64).
    """
    from rnnlib.device import best_time

    lengths = [positive("lengths", T, integer=True) for T in lengths]
    repeats = positive("repeats", repeats, integer=True)
    seconds, nbytes = [], []
    for T in lengths:
        params, u, target = random_problem(T, n_in=n_in, n_hidden=n_hidden, n_out=n_out,
                                           batch_size=batch_size, seed=seed)
        seconds.append(best_time(lambda: bptt(params, u, target), repeats=repeats, warmup=0))
        nbytes.append(stored_bytes(forward(params, u)))
    return {"T": np.array(lengths), "seconds": np.array(seconds), "stored_bytes": np.array(nbytes)}


def autograd_saved_bytes(model, u) -> int:
    """Bytes of the distinct tensors torch autograd saves for the backward pass of ``model(u)``.

    Counted with ``torch.autograd.graph.saved_tensors_hooks``; tensors that share storage (the
    weights, which every step reuses, or slices of the input) count once, with their storage.
    """
    import torch

    storages: dict[int, int] = {}

    def pack(t):
        s = t.untyped_storage()
        storages[s.data_ptr()] = s.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(u)
    return int(sum(storages.values()))


def autograd_macs(model, u) -> int:
    """Multiply-adds of the matrix products in the forward pass ``model(u)`` and in autograd's backward pass
    from the sum of its output, as torch's ``FlopCounterMode`` counts them (2 FLOPs per multiply-add).

    A count of operations, not a measurement of time: the same on every machine. ``model`` is a module or
    a bound method such as ``ElmanRNN.states``; the gradients this backward pass leaves in it are cleared.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        out = model(u)
        (out[0] if isinstance(out, tuple) else out).sum().backward()
    owner = getattr(model, "__self__", model)
    if isinstance(owner, torch.nn.Module):
        owner.zero_grad(set_to_none=True)
    return int(counter.get_total_flops()) // 2


# --- training with full or truncated BPTT --------------------------------------------------------

def lag_batch(lag: int, batch_size: int, *, length: int | None = None, seed: int = 0):
    """A batch of ``rnnlib.tasks.LagTask`` as numpy arrays for this module's squared loss.

    Returns (u (T, B, 1) in {-1, +1}, target (T, B, 1), mask (T, B)): only the last step is
    scored, and its target is the input bit ``lag`` steps earlier, u_{T-lag}, as +-1.
    """

    from rnnlib.tasks.lag import LagTask

    task = LagTask(lag, length=length)
    u, bits = task.sample(positive("batch_size", batch_size, integer=True),
                          torch_generator(seed))
    u = u.double().numpy()
    target = np.zeros_like(u)
    target[-1] = 2 * bits.double().numpy() - 1                        # y*_T = u_{T-lag}
    mask = np.zeros(u.shape[:2])
    mask[-1] = 1
    return u, target, mask


SOLVE_THRESHOLD = 0.01   # an evaluation at or below this error counts as solved, as in rnnlib.train


def _all_finite(*arrays) -> bool:
    return all(np.isfinite(a).all() for a in arrays)


@np.errstate(over="ignore", invalid="ignore")     # divergence is reported, not warned about
def train_lag(lag: int, *, truncate: int | None = None, length: int | None = None, n_hidden: int = 16,
              steps: int = 1000, lr: float = 0.1, batch_size: int = 20, spectral_radius: float = 0.9,
              eval_every: int = 100, eval_size: int = 500, seed: int = 0) -> dict:
    """Plain SGD on the lag task with this module's (full or truncated) BPTT; tanh units.

    Returns {"steps": (n,), "error": (n,), "loss": (steps,), "params": final weights, "status", "diverged_at",
    "solved_at"}. The error is the fraction of ``eval_size`` fresh sequences whose last output has the wrong sign
    (0.5 is chance). Every batch is drawn with its own seed, so runs are reproducible.

    Divergence is a result, as in ``rnnlib.train``: a step whose loss, gradient or updated weights are not finite
    stops the run without its update, with ``status == "diverged"`` and ``diverged_at`` that step; ``params``
    keep the last finite weights, ``loss`` holds NaN after that step's (non-finite) loss and ``error`` NaN for the
    evaluations after the stop. Otherwise ``status`` is "solved" (``solved_at``: the first evaluation at or below
    1 % error; training goes on to the end) or "budget".
    """
    steps = positive("steps", steps, integer=True)
    positive("lr", lr)
    eval_every = positive("eval_every", eval_every, integer=True)
    if truncate is not None:
        truncate = positive("truncate", truncate, integer=True, allow_zero=True)
    params = init_params(1, n_hidden, 1, spectral_radius=spectral_radius, seed=seed)
    u_ev, t_ev, _ = lag_batch(lag, eval_size, length=length, seed=10_000_019 + seed)
    rec_steps, errors, losses = [], [], []
    status, diverged_at, solved_at = "budget", None, None
    for step in range(1, steps + 1):
        u, target, mask = lag_batch(lag, batch_size, length=length, seed=seed * 1_000_003 + step)
        g = bptt(params, u, target, mask=mask, truncate=truncate)
        losses.append(g.loss)
        new = {name: params[name] - lr * g.grads[name] for name in NAMES}    # theta <- theta - lr dE/dtheta
        if not (np.isfinite(g.loss) and _all_finite(*g.grads.values(), *new.values())):
            status, diverged_at = "diverged", step                          # keep the last finite weights
            break
        params = new
        if step % eval_every == 0 or step == steps:
            y = forward(params, u_ev)["y"][-1]
            rec_steps.append(step)
            errors.append(float(np.mean(np.sign(y) != t_ev[-1])))
            if errors[-1] <= SOLVE_THRESHOLD and solved_at is None:
                status, solved_at = "solved", step
    if diverged_at is not None:                                             # the shapes of a full run, NaN-padded
        losses += [np.nan] * (steps - len(losses))
        later = [k for k in range(1, steps + 1) if (k % eval_every == 0 or k == steps) and k >= diverged_at]
        rec_steps += later
        errors += [np.nan] * len(later)
    return {"steps": np.array(rec_steps), "error": np.array(errors), "loss": np.array(losses), "params": params,
            "status": status, "diverged_at": diverged_at, "solved_at": solved_at}


@np.errstate(over="ignore", invalid="ignore")     # divergence is reported, not warned about
def train_lag_seeds(lag: int, seeds, *, truncate: int | None = None, length: int | None = None,
                    n_hidden: int = 16, steps: int = 1000, lr: float = 0.1, batch_size: int = 20,
                    spectral_radius: float = 0.9, eval_every: int = 100, eval_size: int = 500) -> dict:
    """:func:`train_lag` for several seeds at once: the same experiment, one run per seed, stacked.

    Seed s starts from ``init_params(..., seed=s)`` and sees exactly the batches and evaluation sequences of
    ``train_lag(..., seed=s)``; the weights carry a leading seed axis, so each numpy product advances every
    run. The runs stay independent (each seed's gradient is its own loss's), and the arithmetic is the same
    up to the order of floating-point sums, so a seed's run agrees with ``train_lag`` until training
    amplifies that rounding. Returns {"seeds": (S,), "steps": (n,), "error": (S, n), "loss": (S, steps),
    "status": [S], "diverged_at": [S], "solved_at": [S]}, per seed as in :func:`train_lag`: a seed whose loss,
    gradient or updated weights stop being finite is frozen at its last finite weights (NaN loss and error from
    then on) while the other seeds go on unchanged.
    """
    seeds = [int(positive("seed", s, integer=True, allow_zero=True)) for s in seeds]
    if not seeds:
        raise ValueError("seeds must be a non-empty list of integers >= 0")
    steps = positive("steps", steps, integer=True)
    positive("lr", lr)
    eval_every = positive("eval_every", eval_every, integer=True)
    if truncate is not None:
        truncate = positive("truncate", truncate, integer=True, allow_zero=True)
    inits = [init_params(1, n_hidden, 1, spectral_radius=spectral_radius, seed=s) for s in seeds]
    p = {name: np.stack([q[name] for q in inits]) for name in NAMES}        # (S, ...) per parameter
    evals = [lag_batch(lag, eval_size, length=length, seed=10_000_019 + s) for s in seeds]
    u_ev, t_ev = np.stack([e[0] for e in evals], 1), np.stack([e[1] for e in evals], 1)   # (T, S, B, 1)

    def run(u):                                                             # u (T, S, B, 1)
        T = u.shape[0]
        h = np.zeros((T + 1,) + u.shape[1:3] + (n_hidden,))
        for t in range(T):
            a = h[t] @ p["W_hh"].transpose(0, 2, 1) + u[t] @ p["W_xh"].transpose(0, 2, 1) + p["b_h"][:, None]
            h[t + 1] = np.tanh(a)                                           # h_t = tanh(W_hh h_{t-1} + W_xh u_t + b)
        return h

    S = len(seeds)
    alive = np.ones(S, dtype=bool)                                          # seeds still training
    status, diverged_at, solved_at = ["budget"] * S, [None] * S, [None] * S
    rec_steps, errors, losses = [], [], []
    for step in range(1, steps + 1):
        batches = [lag_batch(lag, batch_size, length=length, seed=s * 1_000_003 + step) for s in seeds]
        u, target = np.stack([b[0] for b in batches], 1), np.stack([b[1] for b in batches], 1)
        h = run(u)
        T, B = u.shape[0], u.shape[2]
        y = h[-1] @ p["W_hy"].transpose(0, 2, 1) + p["b_y"][:, None]       # only the last step is scored
        dy = (y - target[-1]) / B                                           # dE/dy_T, (S, B, 1)
        loss = 0.5 * np.sum((y - target[-1]) ** 2, axis=(1, 2)) / B
        ds = 1.0 - h[1:] ** 2                                               # tanh'(a_t) = 1 - h_t^2
        delta = np.zeros_like(h[1:])                                        # dE/da_t, (T, S, B, H)
        d = (dy @ p["W_hy"]) * ds[T - 1]
        delta[T - 1] = d
        for k in range(T - 2, (-1 if truncate is None else max(T - 1 - truncate, 0) - 1), -1):
            d = (d @ p["W_hh"]) * ds[k]                                     # delta_k = (W_hh^T delta_{k+1}) * tanh'
            delta[k] = d
        H = n_hidden
        dT = delta.transpose(1, 3, 0, 2).reshape(S, H, T * B)             # delta_t^T, all (t, b) side by side
        grads = {"W_hh": dT @ h[:-1].transpose(1, 0, 2, 3).reshape(S, T * B, H),   # sum_t delta_t h_{t-1}^T
                 "W_xh": dT @ u.transpose(1, 0, 2, 3).reshape(S, T * B, 1),         # sum_t delta_t u_t^T
                 "b_h": delta.sum((0, 2)), "W_hy": dy.transpose(0, 2, 1) @ h[-1], "b_y": dy.sum(1)}
        new = {name: p[name] - lr * grads[name] for name in NAMES}          # theta <- theta - lr dE/dtheta
        ok = np.isfinite(loss)                                              # per seed: loss, gradient, new weights
        for a in (*grads.values(), *new.values()):
            ok &= np.isfinite(a).reshape(S, -1).all(1)
        for i in np.flatnonzero(alive & ~ok):
            status[i], diverged_at[i] = "diverged", step
        losses.append(np.where(alive, loss, np.nan))                        # the diverging step's loss is kept
        alive &= ok
        if alive.all():
            p = new
        else:                                                               # frozen seeds keep their weights
            p = {name: np.where(alive.reshape((S,) + (1,) * (new[name].ndim - 1)), new[name], p[name])
                 for name in NAMES}
        if step % eval_every == 0 or step == steps:
            y_ev = run(u_ev)[-1] @ p["W_hy"].transpose(0, 2, 1) + p["b_y"][:, None]
            rec_steps.append(step)
            err = np.where(alive, np.mean(np.sign(y_ev) != t_ev[-1], axis=(1, 2)), np.nan)
            errors.append(err)
            for i in np.flatnonzero(alive & (err <= SOLVE_THRESHOLD)):
                if solved_at[i] is None:
                    status[i], solved_at[i] = "solved", step
    return {"seeds": np.array(seeds), "steps": np.array(rec_steps), "error": np.array(errors).T,
            "loss": np.array(losses).T, "status": status, "diverged_at": diverged_at, "solved_at": solved_at}


def truncation_errors(params: dict, u: np.ndarray, target: np.ndarray, *, mask=None, param: str = "W_hh",
                      activation: str = "tanh") -> np.ndarray:
    """Relative error (``relative_error``) of the truncated gradient of ``param`` against full BPTT, for
    every truncation length K = 0, ..., T - 1 (an array of T numbers; K = T - 1 is full BPTT, error 0)."""
    full = bptt(params, u, target, mask=mask, activation=activation).grads[param]
    return np.array([relative_error(
        bptt(params, u, target, mask=mask, activation=activation, truncate=K).grads[param], full)
        for K in range(u.shape[0])])
