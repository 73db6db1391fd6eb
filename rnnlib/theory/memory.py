"""The curse of memory in one dimension: closed forms and Monte-Carlo checks (chapter 6).

Zucchet & Orvieto (2024) study the scalar recurrence

    h_{t+1} = lam h_t + x_t,      h_0 = 0,      E[x_t] = 0,  E[x_t x_s] = rho^|t-s|,

in the limit t -> infinity. Two second moments tell the story:

    E[h^2]            = (1 + rho lam) / ((1 - rho lam)(1 - lam^2))                        (the state)
    E[(d_lam h)^2]    = ((1 + lam^2)(1 - lam^2 rho^2) + 2 lam rho (1 - lam^2))
                        / ((1 - lam^2)^3 (1 - lam rho)^2)                                 (its sensitivity)

For white noise (rho = 0) the state grows like (1 - lam)^-1 as lam -> 1, the sensitivity like (1 - lam)^-3:
the longer the memory, the more a small change of lam moves the output, with no exploding gradient in the
classical sense (|lam| < 1). The remedies of the LRU rescale these moments: the input normalisation
gamma(lam) = sqrt(1 - lam^2) multiplies both by gamma^2, and the parametrisation lam = exp(-exp(nu))
multiplies the sensitivity by (d lam / d nu)^2 = (lam log lam)^2.

The teacher-student loss L(lam, lam*) = 1/2 E[(h_t - h*_t)^2] has a closed form for i.i.d. inputs (mean mu,
variance sigma^2), also for complex lam; its curvature at the optimum is the sensitivity above.

Every closed form accepts numpy arrays, Python numbers or torch tensors (so autograd can differentiate it).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from rnnlib import _validate
from rnnlib.device import numpy_rng

# monte_carlo_moments picks T from lam; a lam this close to 1 would need more steps than that (hours of work)
MAX_DEFAULT_STEPS = 10**7

__all__ = [
    "mean_square_state", "mean_square_sensitivity", "gamma", "dlambda_dnu", "monte_carlo_moments",
    "loss_1d", "loss_1d_normalised", "curvature_1d", "ar1_inputs",
]


def _torch(*xs) -> bool:
    return any(isinstance(x, torch.Tensor) for x in xs)


def _conj(x):
    return x.conj() if isinstance(x, torch.Tensor) else np.conj(x)


def _abs2(x):
    return (x * _conj(x)).real  # |x|^2, real for real or complex x


def _sqrt(x):
    return torch.sqrt(x) if isinstance(x, torch.Tensor) else np.sqrt(x)


def _log(x):
    return torch.log(x) if isinstance(x, torch.Tensor) else np.log(x)


def _check_rho(rho):
    if not _torch(rho):
        r = _validate.array("rho", rho, what="a number in [0, 1] (or an array of them)", complex_ok=False)
        if np.any((r < 0) | (r > 1)):
            raise ValueError(f"rho must be in [0, 1], got {rho!r}")


def _check_lam(lam, *, name: str = "lam", real: bool = True, positive: bool = False):
    """A stationary recurrence needs |lam| < 1 (and 0 < lam < 1 where log lam enters); tensors pass unchecked."""
    if _torch(lam):
        return
    rng = "in (0, 1)" if positive else "with |lam| < 1"
    a = _validate.array(name, lam, what=f"a {'real ' if real else ''}number {rng} (or an array of them)",
                        complex_ok=not real)
    bad = (a <= 0) | (a >= 1) if positive else np.abs(a) >= 1
    if np.any(bad):
        raise ValueError(f"{name} must be {'in (0, 1)' if positive else 'inside the unit circle, |' + name + '| < 1'}, "
                         f"got {a[bad].ravel()[0].item()!r}" + (" among its values" if a.ndim else ""))


def _flag(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")
    return bool(value)


def gamma(lam):
    """Input normalisation gamma(lam) = sqrt(1 - |lam|^2)."""
    _check_lam(lam, real=False)
    return _sqrt(1 - _abs2(lam))


def dlambda_dnu(lam):
    """d lam / d nu for lam = exp(-exp(nu)), written in terms of lam: -exp(nu) lam = lam log lam."""
    _check_lam(lam, positive=True)
    return lam * _log(lam)


def mean_square_state(lam, rho=0.0, *, normalised: bool = False):
    """Stationary E[h^2] for h_{t+1} = lam h_t + gamma x_t, input autocorrelation rho^|dt|, real |lam| < 1.

    ``normalised=False``: gamma = 1, E[h^2] = (1 + rho lam) / ((1 - rho lam)(1 - lam^2)).
    ``normalised=True``: gamma = sqrt(1 - lam^2), which multiplies E[h^2] by 1 - lam^2 (exactly 1 at rho = 0).
    """
    _check_lam(lam)
    _check_rho(rho)
    _flag("normalised", normalised)
    h2 = (1 + rho * lam) / ((1 - lam * rho) * (1 - lam**2))
    return h2 * (1 - lam**2) if normalised else h2


def mean_square_sensitivity(lam, rho=0.0, *, normalised: bool = False, param: str = "lambda"):
    """Stationary E[(d h / d p)^2] for the parameter p of the recurrence (real 0 < lam < 1 for ``param="exp"``).

    ``param="lambda"``: p = lam, the closed form in the module docstring.
    ``param="exp"``: p = nu with lam = exp(-exp(nu)); multiplies by (lam log lam)^2.
    ``normalised=True``: h_{t+1} = lam h_t + gamma x_t with gamma = sqrt(1 - lam^2) treated as a constant when
    differentiating (as in Zucchet & Orvieto's Fig. 2); multiplies by 1 - lam^2.
    """
    _validate.one_of("param", param, ("lambda", "exp"))
    _check_lam(lam, positive=param == "exp")
    _check_rho(rho)
    _flag("normalised", normalised)
    num = (1 + lam**2) * (1 - lam**2 * rho**2) + 2 * lam * rho * (1 - lam**2)
    dh2 = num / ((1 - lam**2) ** 3 * (1 - lam * rho) ** 2)
    if normalised:
        dh2 = dh2 * (1 - lam**2)
    if param == "exp":
        dh2 = dh2 * dlambda_dnu(lam) ** 2
    return dh2


def ar1_inputs(T: int, n: int, rho: float, *, rng: np.random.Generator) -> np.ndarray:
    """Stationary Gaussian AR(1) inputs with unit variance and E[x_t x_s] = rho^|t-s|, shape (T, n)."""
    T = _validate.positive("T", T, integer=True)
    n = _validate.positive("n", n, integer=True)
    _validate.in_range("rho", rho, 0.0, 1.0)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator (rnnlib.device.numpy_rng(seed)), got {rng!r}")
    _validate.memory_guard(f"ar1_inputs: {T} x {n} float64 inputs", float(T) * n, bytes_per_element=8 + 2,
                           names="T or n")
    x = np.empty((T, n))
    x[0] = rng.standard_normal(n)
    innov = math.sqrt(max(0.0, 1.0 - rho**2))
    for t in range(1, T):
        x[t] = rho * x[t - 1] + innov * rng.standard_normal(n)  # x_t = rho x_{t-1} + sqrt(1 - rho^2) eps_t
    return x


def monte_carlo_moments(lam, rho: float, *, n_samples: int = 4000, T: int | None = None, seed: int = 0) -> dict:
    """Monte-Carlo estimates of E[h_T^2] and E[(d_lam h_T)^2] for each real lam in ``lam``.

    Simulates h_{t+1} = lam h_t + x_t together with its derivative d_{t+1} = lam d_t + h_t (d = d h / d lam),
    from h_0 = d_0 = 0, for T steps (default: long enough that the transient has decayed below 1e-8), on
    ``n_samples`` independent AR(1) input sequences shared by all lam. Returns arrays ``h2``, ``dh2`` and their
    standard errors ``h2_se``, ``dh2_se`` (shape of ``lam``), plus ``T`` and ``n_samples``.
    """
    lam = np.atleast_1d(_validate.array("lam", lam, what="a real number with |lam| < 1 (or an array of them)",
                                        complex_ok=False).astype(float))
    if np.any(np.abs(lam) >= 1):
        raise ValueError(f"lam must satisfy |lam| < 1, got {lam}")
    _validate.in_range("rho", rho, 0.0, 1.0)
    n = _validate.positive("n_samples", n_samples, integer=True)
    if T is None:
        T = int(math.ceil(12.0 / (1.0 - np.abs(lam).max()))) + 20  # Gamma(3) tail at 24: < 1e-8
        if T > MAX_DEFAULT_STEPS:
            raise ValueError(f"lam = {np.abs(lam).max()!r} needs T = {T} steps for its transient to decay "
                             f"(more than {MAX_DEFAULT_STEPS}); use |lam| <= 1 - 1e-5 or pass T")
    T = _validate.positive("T", T, integer=True)
    # h, d, their squares and the step's temporaries, all (len(lam), n_samples) float64
    _validate.memory_guard(f"monte_carlo_moments: {lam.size} values of lam x {n} samples", float(lam.size) * n,
                           bytes_per_element=8 * 8, names="lam or n_samples")
    rng = numpy_rng(seed)
    innov = math.sqrt(max(0.0, 1.0 - rho**2))
    x = rng.standard_normal(n)
    h = np.zeros((lam.size, n))
    d = np.zeros((lam.size, n))
    lam_col = lam[:, None]
    for _ in range(T):
        d = lam_col * d + h  # d_{t+1} = lam d_t + h_t   (derivative of the line below)
        h = lam_col * h + x  # h_{t+1} = lam h_t + x_t
        x = rho * x + innov * rng.standard_normal(n)
    h2, dh2 = h**2, d**2
    se = lambda v: v.std(axis=1, ddof=1) / math.sqrt(n)  # noqa: E731
    return {"h2": h2.mean(1), "dh2": dh2.mean(1), "h2_se": se(h2), "dh2_se": se(dh2), "T": T, "n_samples": n}


def loss_1d(lam, lam_star, *, mu: float = 0.0, sigma: float = 1.0):
    """Teacher-student loss 1/2 E[(h - h*)^2] as t -> infinity, i.i.d. inputs of mean mu and variance sigma^2.

    L = 1/2 [ mu^2 |1/(1-lam) - 1/(1-lam*)|^2
              + sigma^2 (1/(1-|lam|^2) + 1/(1-|lam*|^2) - 2 Re 1/(1 - lam conj(lam*))) ]
    lam and lam* may be complex (|.| < 1); the student's h is complex and the loss uses |h - h*|^2.
    """
    _check_lam(lam, real=False)
    _check_lam(lam_star, name="lam_star", real=False)
    _validate.number("mu", mu)
    _validate.number("sigma", sigma)
    mean_part = _abs2(1 / (1 - lam) - 1 / (1 - lam_star))
    var_part = 1 / (1 - _abs2(lam)) + 1 / (1 - _abs2(lam_star)) - 2 * (1 / (1 - lam * _conj(lam_star))).real
    return 0.5 * (mu**2 * mean_part + sigma**2 * var_part)


def loss_1d_normalised(lam, lam_star):
    """Loss with input normalisation on both sides (h_{t+1} = lam h_t + gamma(lam) x_t), white unit inputs:

    L_gamma = 1 - Re( gamma(lam) gamma(lam*) / (1 - lam conj(lam*)) ).
    """
    _check_lam(lam, real=False)
    _check_lam(lam_star, name="lam_star", real=False)
    return 1 - (gamma(lam) * gamma(lam_star) / (1 - lam * _conj(lam_star))).real


def curvature_1d(lam_star, *, direction: str = "radial", normalised: bool = False, param: str = "lambda"):
    """Second derivative of the 1-D loss (white unit inputs) at the optimum lam = lam* = r, real 0 < r < 1.

    direction ``"radial"``  (along real lam):        (1 + r^2) / (1 - r^2)^3;  normalised: 1 / (1 - r^2)^2
    direction ``"phase"``   (lam = r e^{i theta}):  r^2 (1 + r^2) / (1 - r^2)^3;  normalised: r^2 (1 + r^2) / (1 - r^2)^2
    ``param="exp"`` (radial only): in the coordinate nu with r = exp(-exp(nu)), times (r log r)^2.
    At the optimum the gradient vanishes, so the curvature is the Gauss-Newton term E[(d h)^2].
    """
    _validate.one_of("direction", direction, ("radial", "phase"))
    _validate.one_of("param", param, ("lambda", "exp"))
    if param == "exp" and direction == "phase":
        raise ValueError("param='exp' is defined here for direction='radial' only")
    _check_lam(lam_star, name="lam_star", positive=param == "exp")
    _flag("normalised", normalised)
    r2 = lam_star**2
    if direction == "radial":
        c = 1 / (1 - r2) ** 2 if normalised else (1 + r2) / (1 - r2) ** 3
    else:
        c = r2 * (1 + r2) / (1 - r2) ** (2 if normalised else 3)
    return c * dlambda_dnu(lam_star) ** 2 if param == "exp" else c
