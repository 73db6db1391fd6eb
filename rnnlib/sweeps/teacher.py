"""Linear teacher-student ("linear system identification") for chapter 6 (Zucchet & Orvieto 2024, Figs. 3-4).

A dense linear teacher h_t = A h_{t-1} + B x_t, y_t = C h_t + D x_t (d = 10, one input, one output) whose
eigenvalue moduli lie in [nu0, 1) is imitated by a student: a dense linear RNN, or an LRU (``rnnlib.models.ssm.LRU``).
With h_0 = 0 every such system is a causal convolution,

    y_t = sum_{j=0}^{t-1} K_j x_{t-j},    K_0 = C B + D,  K_j = C A^j B   (dense),
                                          K_j = Re(sum_n C_n gamma_n B_n lam_n^j) (+ D at j = 0)   (LRU),

so one training step is a kernel computation (log2 T matrix products for the dense model) and one causal Toeplitz
matrix product, differentiated by autograd: exact, and fast enough for a CPU sweep. ``run`` is the sweep
registered as ``teacher-student`` in ``rnnlib.sweeps.results``; ``run_point`` recomputes one of its cells.

Also here: the Hessian of the loss at the optimum for a small (d = 4) teacher, for a dense and a complex
diagonal student (Fig. 4A-B), and Adam's effective per-parameter learning rates after a short run (Fig. 4C-D).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from rnnlib import _validate
from rnnlib.models.ssm import LRU, recurrence_kernel
from rnnlib.device import numpy_rng, torch_generator

__all__ = [
    "LinearSystem", "remap_eigenvalues", "make_teacher", "make_small_teacher", "dense_kernel", "causal_conv", "expected_loss",
    "DenseLinearRNN", "make_student", "student_kernel", "train_student", "train_students", "run_point", "run",
    "hessian_at_teacher", "adam_effective_lr", "NU0_GRID", "LR_GRID",
]

NU0_GRID = (0.36, 0.68, 0.84, 0.92, 0.96, 0.98, 0.99)
LR_GRID = {"rnn": (1e-3, 3.2e-4, 1e-4), "lru": (0.1, 0.032, 0.01)}
SETTINGS = dict(steps=600, T=300, batch_size=64, d_hidden=64)
SEEDS = (0, 1, 2)


@dataclass
class LinearSystem:
    """h_t = A h_{t-1} + B x_t, y_t = C h_t + D x_t with A (d, d), B (d, 1), C (1, d), D (1,), float64."""
    A: torch.Tensor
    B: torch.Tensor
    C: torch.Tensor
    D: torch.Tensor

    def kernel(self, T: int) -> torch.Tensor:
        return dense_kernel(self.A, self.B, self.C, self.D, T)


def remap_eigenvalues(A: np.ndarray, *, min_nu: float, max_nu: float = 1.0, max_phase: float = math.pi) -> np.ndarray:
    """Move the eigenvalues l of a real matrix to |l| <- min_nu + (max_nu - min_nu) tanh|l|, arg l <- arg l * max_phase / pi.

    The map commutes with complex conjugation, so A = V diag(l) V^-1 stays real (up to rounding, which Re removes),
    except for negative real eigenvalues when max_phase < pi (they become unpaired complex ones; the real part
    then only approximates the target spectrum, as in the reference code). The book uses max_phase = pi.
    """
    _validate.in_range("min_nu", min_nu, 0.0, 1.0)
    l, V = np.linalg.eig(A)
    l_new = (min_nu + (max_nu - min_nu) * np.tanh(np.abs(l))) * np.exp(1j * np.angle(l) * max_phase / math.pi)
    return np.real(V @ np.diag(l_new) @ np.linalg.inv(V))


def _teacher_rng(seed, shift: bool) -> np.random.Generator:
    """``numpy_rng(seed)`` (shifted by $RNNLIB_SEED_OFFSET), or with ``shift=False`` the generator of ``seed`` as given."""
    if shift:
        return numpy_rng(seed)
    return np.random.default_rng(_validate.positive("seed", seed, integer=True, allow_zero=True))


def make_teacher(nu0: float, *, d_hidden: int = 10, max_phase: float = math.pi, seed: int = 2023,
                 shift: bool = True) -> LinearSystem:
    """The dense teacher of Zucchet & Orvieto's Fig. 3: A ~ N(0, 1/d) remapped to moduli in [nu0, 1),
    B ~ N(0, 1), C ~ N(0, 1/d), D ~ N(0, 1).

    ``shift=False`` ignores ``$RNNLIB_SEED_OFFSET``: it rebuilds exactly the teachers of a shipped sweep
    (``rnnlib/data/teacher-student.json`` was made with offset 0), whatever offset the build runs with."""
    _validate.in_range("nu0", nu0, 0.0, 1.0, inclusive=(True, False))
    d = _validate.positive("d_hidden", d_hidden, integer=True)
    rng = _teacher_rng(seed, shift)
    A = remap_eigenvalues(rng.standard_normal((d, d)) / math.sqrt(d), min_nu=nu0, max_phase=max_phase)
    B = rng.standard_normal((d, 1))
    C = rng.standard_normal((1, d)) / math.sqrt(d)
    D = rng.standard_normal(1)
    return LinearSystem(*(torch.as_tensor(m, dtype=torch.float64) for m in (A, B, C, D)))


def make_small_teacher(*, d_hidden: int = 4, seed: int = 0, shift: bool = True) -> LinearSystem:
    """Fig. 4's teacher: d/2 complex-conjugate pairs with |l| = 0.99 + 0.003 U(0,1), phase 2 pi U(0,1),
    A = P blockdiag(|l| R(arg l)) P^-1 with P ~ N(0, 1) real (so the eigenvalues are exact).

    ``shift=False`` ignores ``$RNNLIB_SEED_OFFSET``: a fixed example (chapter 6 discusses one such teacher in detail)."""
    d = _validate.positive("d_hidden", d_hidden, integer=True)
    if d % 2:
        raise ValueError(f"d_hidden must be even (conjugate pairs), got {d}")
    rng = _teacher_rng(seed, shift)
    blocks = np.zeros((d, d))
    for k in range(d // 2):
        r, phi = 0.99 + 0.003 * rng.uniform(), 2 * math.pi * rng.uniform()
        blocks[2 * k:2 * k + 2, 2 * k:2 * k + 2] = r * np.array([[math.cos(phi), -math.sin(phi)], [math.sin(phi), math.cos(phi)]])
    P = rng.standard_normal((d, d))
    A = P @ blocks @ np.linalg.inv(P)
    B, C, D = rng.standard_normal((d, 1)), rng.standard_normal((1, d)) / math.sqrt(d), rng.standard_normal(1)
    return LinearSystem(*(torch.as_tensor(m, dtype=torch.float64) for m in (A, B, C, D)))


def dense_kernel(A: torch.Tensor, B: torch.Tensor, C: torch.Tensor, D: torch.Tensor, T: int) -> torch.Tensor:
    """K_j = C A^j B (+ D at j = 0) for j = 0..T-1, shape (T,), by doubling: [B] -> [B, AB] -> [B, AB, A^2B, A^3B] ..."""
    T = _validate.positive("T", T, integer=True)
    P, A_pow = B, A  # columns A^j B for j < P.shape[1]; A_pow = A^{P.shape[1]}
    while P.shape[1] < T:
        P = torch.cat([P, A_pow @ P], dim=1)
        A_pow = A_pow @ A_pow
    K = (C @ P[:, :T])[0]
    return K + D * (torch.arange(T, device=K.device) == 0).to(K.dtype)


def causal_conv(K: torch.Tensor, x: torch.Tensor, *, method: str = "toeplitz") -> torch.Tensor:
    """y_t = sum_{s <= t} K_{t-s} x_s for x (T, B), K (T,), shape (T, B).

    ``"toeplitz"``: one causal Toeplitz matrix product (exact); ``"fft"``: product of real FFTs of length 2T
    (linear, not circular, convolution; same result up to float rounding, about 3x cheaper at T = 300).
    """
    _validate.one_of("method", method, ("toeplitz", "fft"))
    T = x.shape[0]
    if K.shape != (T,):
        raise ValueError(f"K must have shape ({T},) to match x, got {tuple(K.shape)}")
    if method == "fft":
        n = 2 * T
        return torch.fft.irfft(torch.fft.rfft(x.T, n=n) * torch.fft.rfft(K, n=n), n=n)[:, :T].T
    _validate.memory_guard(f"the causal Toeplitz matrix (T, T) = ({T}, {T})", T * T,
                           bytes_per_element=K.element_size() + 8, names="T (or use method='fft')")
    t = torch.arange(T, device=x.device)
    lag = t[:, None] - t[None, :]
    M = K[lag.clamp(min=0)] * (lag >= 0)  # M[t, s] = K_{t-s} below the diagonal
    return M @ x


def expected_loss(K: torch.Tensor, K_star: torch.Tensor) -> torch.Tensor:
    """Exact E[1/2 mean_t (y_t - y*_t)^2] over white unit inputs: (1/2T) sum_j (K_j - K*_j)^2 (T - j).

    y_t - y*_t = sum_{j<t} (K_j - K*_j) x_{t-j} has variance sum_{j<t} (K_j - K*_j)^2 for independent x."""
    T = K.shape[0]
    weights = (T - torch.arange(T, device=K.device, dtype=K.dtype)) / T
    return 0.5 * ((K - K_star) ** 2 * weights).sum()


class DenseLinearRNN(nn.Module):
    """Dense linear RNN student: h_t = A h_{t-1} + B x_t, y_t = C h_t + D x_t, one input and one output.

    A ~ N(0, 1/d) with eigenvalues remapped (min_nu = 0, max_phase), B ~ N(0, 1), C ~ N(0, 1/d), D ~ N(0, 1)
    (LeCun-normal dense layers, as in the reference code)."""

    def __init__(self, d_hidden: int = 64, *, min_nu: float = 0.0, max_phase: float = math.pi, seed: int = 0,
                 dtype=torch.float32):
        super().__init__()
        d = _validate.positive("d_hidden", d_hidden, integer=True)
        rng = numpy_rng(seed)
        A = remap_eigenvalues(rng.standard_normal((d, d)) / math.sqrt(d), min_nu=min_nu, max_phase=max_phase)
        self.A = nn.Parameter(torch.as_tensor(A, dtype=dtype))
        self.B = nn.Parameter(torch.as_tensor(rng.standard_normal((d, 1)), dtype=dtype))
        self.C = nn.Parameter(torch.as_tensor(rng.standard_normal((1, d)) / math.sqrt(d), dtype=dtype))
        self.D = nn.Parameter(torch.as_tensor(rng.standard_normal(1), dtype=dtype))

    def kernel(self, T: int) -> torch.Tensor:
        return dense_kernel(self.A, self.B, self.C, self.D, T)


def make_student(kind: str, nu0: float, *, d_hidden: int = 64, seed: int = 0, dtype=torch.float32) -> nn.Module:
    """``"rnn"``: DenseLinearRNN (min_nu = 0); ``"lru"``: LRU with r_min = nu0, r_max = 1, max_phase = pi, exp + gamma;
    ``"cdiag"``: complex diagonal RNN (LRU with the real/imaginary parametrisation and no gamma)."""
    _validate.one_of("kind", kind, ("rnn", "lru", "cdiag"))
    if kind == "rnn":
        return DenseLinearRNN(d_hidden, seed=seed, dtype=dtype)
    if kind == "lru":
        return LRU(1, d_hidden, r_min=nu0, r_max=1.0, max_phase=math.pi, seed=seed, dtype=dtype)
    return LRU(1, d_hidden, r_min=nu0, r_max=1.0, max_phase=math.pi, parametrization="real_imag", gamma="none",
               seed=seed, dtype=dtype)


def student_kernel(model: nn.Module, T: int) -> torch.Tensor:
    """The (T,) convolution kernel of a one-input, one-output student."""
    return model.kernel(T)[:, 0, 0] if isinstance(model, LRU) else model.kernel(T)


class _KernelOf(nn.Module):
    """forward(T) = the student's kernel, so torch.func.functional_call / vmap can evaluate it for stacked parameters."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, T: int) -> torch.Tensor:
        return student_kernel(self.model, T)


def train_students(kind: str, nu0: float, lrs, seeds, *, steps: int = 1000, T: int = 300, batch_size: int = 128,
                   d_hidden: int = 64, schedule: str = "cosine") -> list[dict]:
    """Fit one student per (lr, seed) to the teacher ``make_teacher(nu0, seed=2023 + seed)``, all at once.

    Each run: Adam (beta = 0.9, 0.999, eps = 1e-8) on 1/2 MSE over all T steps, fresh white-noise inputs every
    step from its own generator (seed 1 + seed), learning rate lr decayed by a cosine to 1e-7 over ``steps``
    (or constant). The runs are independent; they are stacked (``torch.func.vmap``) only to share the per-step
    overhead, so a run gives the same result alone or in a group (up to float rounding).
    Returns one dict per run: ``train_loss`` (mean of the last 5 % of steps), ``test_loss`` (the exact expected
    loss, ``expected_loss``), ``status`` ("done" or "diverged"), ``diverged_at`` (the 0-based index of the step
    whose loss or gradient was not finite; the run then keeps its last finite weights), a subsampled ``curve``,
    and ``state``: the final parameters and Adam's second-moment estimates, {name: (value, v_hat)}.
    """
    steps = _validate.positive("steps", steps, integer=True)
    _validate.one_of("schedule", schedule, ("cosine", "constant"))
    runs = [(float(_validate.positive("lr", lr)), int(seed)) for lr in lrs for seed in seeds]
    R, dtype = len(runs), torch.float32
    K_star = {s: make_teacher(nu0, seed=2023 + s).kernel(T) for s in seeds}
    K_star_r = torch.stack([K_star[s] for _, s in runs]).to(dtype)  # (R, T)
    models = [_KernelOf(make_student(kind, nu0, d_hidden=d_hidden, seed=s, dtype=dtype)) for _, s in runs]
    params = {k: v.detach().clone() for k, v in torch.func.stack_module_state(models)[0].items()}  # name -> (R, ...)
    kernels = torch.func.vmap(lambda p: torch.func.functional_call(models[0], p, (T,)))
    gens = {s: torch_generator(1 + s) for s in seeds}
    slot = [list(seeds).index(s) for _, s in runs]
    lr0 = torch.tensor([lr for lr, _ in runs], dtype=dtype)
    m = {k: torch.zeros_like(v) for k, v in params.items()}
    v = {k: torch.zeros_like(v) for k, v in params.items()}
    beta1, beta2, eps, lr_end = 0.9, 0.999, 1e-8, 1e-7
    alive = torch.ones(R, dtype=torch.bool)
    losses, diverged_at = [[] for _ in runs], [None] * R
    for step in range(steps):
        x = torch.stack([torch.randn(T, batch_size, generator=gens[s], dtype=dtype) for s in seeds])[slot]  # (R, T, B)
        for p in params.values():
            p.requires_grad_(True)
        K = kernels(params)  # (R, T)
        err = torch.fft.irfft(torch.fft.rfft(x.transpose(1, 2), n=2 * T) * torch.fft.rfft(K - K_star_r, n=2 * T)[:, None],
                              n=2 * T)[..., :T]  # y - y* = (K - K*) * x, causal convolution per run, (R, B, T)
        loss = 0.5 * (err**2).mean(dim=(1, 2))  # (R,)
        finite = torch.isfinite(loss).detach()
        for r in torch.nonzero(alive & ~finite).flatten().tolist():
            diverged_at[r] = step
        alive &= finite
        if not alive.any():
            break
        grads = torch.autograd.grad(torch.where(alive, loss, torch.zeros_like(loss)).sum(), list(params.values()))
        finite = torch.ones(R, dtype=torch.bool)               # a run whose gradient is not finite diverged too
        for g in grads:
            finite &= torch.isfinite(g).reshape(R, -1).all(1)
        for r in torch.nonzero(alive & ~finite).flatten().tolist():
            diverged_at[r] = step
        alive &= finite
        if not alive.any():
            break
        for r in torch.nonzero(alive).flatten().tolist():
            losses[r].append(loss[r].item())
        t = step + 1
        lr_t = lr0 if schedule == "constant" else lr_end + (lr0 - lr_end) * 0.5 * (1 + math.cos(math.pi * step / steps))
        with torch.no_grad():
            for (k, p), g in zip(params.items(), grads):
                shape = (R,) + (1,) * (p.dim() - 1)
                g = torch.where(alive.view(shape), g, torch.zeros_like(g))
                m[k].mul_(beta1).add_(g, alpha=1 - beta1)  # m <- beta1 m + (1 - beta1) g
                v[k].mul_(beta2).addcmul_(g, g, value=1 - beta2)  # v <- beta2 v + (1 - beta2) g^2
                update = (m[k] / (1 - beta1**t)) / ((v[k] / (1 - beta2**t)).sqrt() + eps)
                params[k] = p.detach() - (lr_t * alive).view(shape) * update  # p <- p - lr m_hat / (sqrt(v_hat) + eps)
    with torch.no_grad():
        K_final = kernels({k: p.detach() for k, p in params.items()}).double()
    out = []
    for r, (lr, seed) in enumerate(runs):
        test = expected_loss(K_final[r], K_star[seed]).item() if diverged_at[r] is None else None
        done = test is not None and math.isfinite(test)
        tail = losses[r][-max(1, steps // 20):]
        every = max(1, steps // 50)
        out.append({"kind": kind, "nu0": nu0, "lr": lr, "seed": seed, "status": "done" if done else "diverged",
                    "diverged_at": diverged_at[r], "train_loss": float(np.mean(tail)) if done else None,
                    "test_loss": test if done else None,
                    "curve": [[i, losses[r][i]] for i in range(0, len(losses[r]), every)],
                    "state": {k.removeprefix("model."): (p[r].detach(), (v[k][r] / (1 - beta2 ** max(1, len(losses[r]))))) for k, p in params.items()}})
    return out


def train_student(kind: str, nu0: float, lr: float, *, seed: int = 0, **kwargs) -> dict:
    """One run of ``train_students`` (same keyword arguments)."""
    return train_students(kind, nu0, [lr], [seed], **kwargs)[0]


def run_point(*, kind: str, nu0: float, lr: float, seed: int, **overrides) -> dict:
    """Recompute one cell of the sweep (the sweep's SETTINGS unless overridden), without curve and state."""
    res = train_student(kind, nu0, lr, seed=seed, **{**SETTINGS, **overrides})
    return {k: v for k, v in res.items() if k not in ("curve", "state")}


def run(out_dir=None, *, quick: bool = False, device=None, progress: bool = True) -> Path:
    """Linear RNN vs LRU students over nu0 (reduced Fig. 3). Writes ``teacher-student.json``.

    Grid: nu0 in NU0_GRID, learning rates LR_GRID per model, SEEDS, SETTINGS. The best learning rate per
    (model, nu0) minimises the mean test loss over seeds (a diverged run counts as infinite).
    ``quick``: nu0 in {0.36, 0.99}, one seed, 100 steps. CPU only (tiny matrices; ``device`` is ignored).
    """
    from tqdm.auto import tqdm

    from rnnlib.sweeps.results import DATA_DIR, metadata, write_json

    settings = dict(SETTINGS, steps=100) if quick else dict(SETTINGS)
    nu0s, seeds = ((0.36, 0.99), (0,)) if quick else (NU0_GRID, SEEDS)
    runs = []
    for nu0, kind in tqdm([(n, k) for n in nu0s for k in ("rnn", "lru")], disable=not progress, desc="teacher-student"):
        group = train_students(kind, nu0, LR_GRID[kind], seeds, **settings)
        runs += [{k: v for k, v in res.items() if k not in ("curve", "state")} for res in group]
    best = []
    for kind in ("rnn", "lru"):
        for nu0 in nu0s:
            cell = lambda lr: [r["test_loss"] for r in runs if (r["kind"], r["nu0"], r["lr"]) == (kind, nu0, lr)]  # noqa: E731
            by_lr = {lr: (float(np.mean(cell(lr))) if None not in cell(lr) else math.inf) for lr in LR_GRID[kind]}
            lr_best = min(by_lr, key=by_lr.get)
            best.append({"kind": kind, "nu0": nu0, "lr": lr_best, "test_loss": by_lr[lr_best], "seeds": cell(lr_best)})
    payload = {"metadata": metadata(device="cpu", sweep="teacher-student", quick=quick,  # CPU only: device is ignored
                                    torch_threads=torch.get_num_threads()),
               "settings": settings, "nu0": list(nu0s), "lr_grid": {k: list(v) for k, v in LR_GRID.items()},
               "seeds": list(seeds), "runs": runs, "best": best}
    return write_json(Path(out_dir or DATA_DIR) / "teacher-student.json", payload)


# --------------------------------------------------------------------------------- Fig. 4: Hessian and Adam


def _diagonal_at_teacher(teacher: LinearSystem) -> LRU:
    """A complex diagonal student (LRU with real/imaginary parametrisation, no gamma) equal to the teacher:
    A = V diag(l) V^-1 gives K_j = sum_n (C V)_n l_n^j (V^-1 B)_n, a real sum, so Re() changes nothing."""
    d = teacher.A.shape[0]
    l, V = np.linalg.eig(teacher.A.numpy())
    b, c = np.linalg.solve(V, teacher.B.numpy()), teacher.C.numpy() @ V
    layer = LRU(1, d, parametrization="real_imag", gamma="none", dtype=torch.float64)
    with torch.no_grad():
        for name, val in (("lam_re", l.real), ("lam_im", l.imag), ("B_re", b.real), ("B_im", b.imag),
                          ("C_re", c.real), ("C_im", c.imag), ("D", teacher.D.numpy())):
            getattr(layer, name).copy_(torch.as_tensor(val))
    return layer


def _kernel_from(kind: str, p: dict, T: int) -> torch.Tensor:
    """The student's kernel as a pure function of its parameter tensors ``p`` (so autograd can take a Hessian)."""
    if kind == "dense":
        return dense_kernel(p["A"], p["B"], p["C"], p["D"], T)
    lam_pow = recurrence_kernel(torch.complex(p["lam_re"], p["lam_im"]), T)  # (T, N): lam_n^j
    b, c = torch.complex(p["B_re"], p["B_im"])[:, 0], torch.complex(p["C_re"], p["C_im"])[0]
    K = (lam_pow @ (c * b)).real  # K_j = Re(sum_n c_n lam_n^j b_n)
    return K + p["D"] * (torch.arange(T, device=K.device) == 0).to(K.dtype)


def hessian_at_teacher(teacher: LinearSystem, kind: str, *, T: int = 300, batch_size: int = 64, seed: int = 0) -> dict:
    """Full Hessian of 1/2 MSE at the optimum (student = teacher), float64.

    ``kind="dense"``: parameters (A, B, C, D) of a dense linear RNN; ``"diagonal"``: (Re lam, Im lam, Re B, Im B,
    Re C, Im C, D) of a complex diagonal RNN. Returns the Hessian, the parameter ``groups`` (one name per
    coordinate), its eigenvalues (descending) and eigenvectors (columns), and the loss at the optimum.
    """
    _validate.one_of("kind", kind, ("dense", "diagonal"))
    if kind == "dense":
        p0 = {n: getattr(teacher, n) for n in "ABCD"}
    else:
        layer = _diagonal_at_teacher(teacher)
        p0 = {n: getattr(layer, n).detach() for n in ("lam_re", "lam_im", "B_re", "B_im", "C_re", "C_im", "D")}
    names, shapes = list(p0), [v.shape for v in p0.values()]
    sizes = [int(np.prod(s)) for s in shapes]
    flat0 = torch.cat([v.reshape(-1) for v in p0.values()])
    groups = [n for n, k in zip(names, sizes) for _ in range(k)]
    x = torch.randn(T, batch_size, generator=torch_generator(seed), dtype=torch.float64)
    y_star = causal_conv(teacher.kernel(T), x)

    def loss(flat):
        p = {n: v.reshape(s) for n, v, s in zip(names, torch.split(flat, sizes), shapes)}
        return 0.5 * ((causal_conv(_kernel_from(kind, p, T), x) - y_star) ** 2).mean()

    H = torch.autograd.functional.hessian(loss, flat0)
    evals, evecs = torch.linalg.eigh(H)
    return {"hessian": H.numpy(), "groups": groups, "eigvals": evals.flip(0).numpy(), "eigvecs": evecs.flip(1).numpy(),
            "loss": loss(flat0).item()}


def adam_effective_lr(kind: str, *, nu0: float = 0.99, lr: float = 1e-3, steps: int = 300, seed: int = 0,
                      **train_kwargs) -> dict:
    """Train a student with constant-lr Adam, then read Adam's per-parameter step size lr / (sqrt(v_hat) + eps).

    v_hat is the bias-corrected running mean of squared gradients. Returns {parameter name: flat numpy array}
    and ``test_loss`` (``kind`` as in ``make_student``).
    """
    res = train_student(kind, nu0, lr, seed=seed, steps=steps, schedule="constant", **train_kwargs)
    out = {"test_loss": res["test_loss"]}
    for name, (_, v_hat) in res["state"].items():
        out[name] = (lr / (v_hat.sqrt() + 1e-8)).numpy().ravel()
    return out
