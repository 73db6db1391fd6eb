"""Diagonal linear recurrences and the Linear Recurrent Unit (chapter 6).

A diagonal (element-wise) linear recurrence is

    h_t = lam * h_{t-1} + b_t,        t = 1..T,   h_0 given (zero by default),

where ``lam`` is a vector of real or complex eigenvalues and ``b_t`` the already projected input
(``gamma * B x_t`` in the LRU). Because every state coordinate evolves on its own, the same
states can be computed three ways, which the chapter compares for speed and the tests for equality:

* ``linear_recurrence_loop``: the sequential definition (T dependent steps, O(T) work);
* ``linear_recurrence_scan``: a parallel prefix scan with the associative operator
  ``(a1, b1) . (a2, b2) = (a2 a1, a2 b1 + b2)`` by Hillis-Steele doubling (log2 T dependent steps,
  O(T log T) work);
* ``linear_recurrence_conv``: the convolution view h_t = sum_j lam^j b_{t-j}, by FFT or by an explicit
  causal Toeplitz product.

``LRU`` is the Linear Recurrent Unit of Orvieto et al. (2023): ring initialisation, the exponential
parametrisation lam = exp(-exp(nu_log) + i exp(theta_log)), the normalisation gamma = sqrt(1 - |lam|^2)
and the read-out y_t = Re(C h_t) + D * u_t.

Shapes are time first: inputs (T, B, F), states (T, B, N). ``lam`` is (N,) (time-invariant) or, for the
loop and the scan only, (T, B, N) (time-varying, as in selective state-space models).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from rnnlib import _validate
from rnnlib.device import manual_seed, torch_generator
from rnnlib.models.elman import check_state, float_dtype, model_input

__all__ = [
    "scan_combine", "linear_recurrence_loop", "linear_recurrence_scan", "linear_recurrence_conv",
    "linear_recurrence", "recurrence_kernel", "ring_init", "lambda_from_exp", "LRU",
]

METHODS = ("loop", "scan", "fft", "toeplitz")


def _check(lam: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None, *, time_varying_ok: bool = True):
    """Validate shapes and return ``lam`` promoted to the common dtype of ``lam`` and ``b``."""
    if not isinstance(b, torch.Tensor) or b.dim() != 3:
        raise ValueError(f"b must be a tensor of shape (T, B, N), got {getattr(b, 'shape', type(b))}")
    if b.shape[0] < 1:
        raise ValueError("b must have at least one time step (T >= 1)")
    lam = torch.as_tensor(lam, device=b.device)  # a list, an array or a tensor elsewhere follows b
    if lam.dim() == 1:
        if lam.shape[0] != b.shape[-1]:
            raise ValueError(f"lam must have N = {b.shape[-1]} entries to match b, got {lam.shape[0]}")
    elif lam.dim() == 3 and time_varying_ok:
        if lam.shape[0] != b.shape[0] or lam.shape[-1] != b.shape[-1]:
            raise ValueError(f"lam (time-varying) must have shape (T, B or 1, N) = {tuple(b.shape)}, got {tuple(lam.shape)}")
    else:
        allowed = "(N,) or (T, B, N)" if time_varying_ok else "(N,) (time-invariant)"
        raise ValueError(f"lam must have shape {allowed}, got {tuple(lam.shape)}")
    if h0 is not None and (h0.dim() != 2 or h0.shape[-1] != b.shape[-1]):
        raise ValueError(f"h0 must have shape (B, N) with N = {b.shape[-1]}, got {tuple(h0.shape)}")
    return lam.to(torch.promote_types(lam.dtype, b.dtype))


def scan_combine(a1, b1, a2, b2):
    """The associative operator of a linear recurrence.

    An element (a, b) stands for the affine map h -> a h + b. Applying (a1, b1) first and (a2, b2)
    second gives h -> a2 (a1 h + b1) + b2, i.e. the element (a2 a1, a2 b1 + b2). Composition of maps is
    associative, which is all a parallel scan needs.
    """
    return a2 * a1, a2 * b1 + b2


def linear_recurrence_loop(lam, b: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
    """Reference implementation: h_t = lam * h_{t-1} + b_t for t = 1..T. Returns h_1..h_T, (T, B, N)."""
    lam = _check(lam, b, h0)
    h = torch.zeros_like(b[0]) if h0 is None else h0.to(b.device, b.dtype)
    out = []
    for t in range(b.shape[0]):
        a_t = lam if lam.dim() == 1 else lam[t]
        h = a_t * h + b[t]  # h_t = lam * h_{t-1} + b_t
        out.append(h)
    return torch.stack(out)


def linear_recurrence_scan(lam, b: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
    """Parallel prefix scan by Hillis-Steele doubling; same result as the loop, (T, B, N).

    After the step with offset d, position t holds the composition of the elements t-2d+1..t.
    For a time-invariant ``lam`` the accumulated multiplier of every position that is combined at
    offset d is exactly lam^d, so only b needs updating:  b_t <- b_t + lam^d b_{t-d}  (t >= d).
    """
    lam = _check(lam, b, h0)
    if h0 is not None:  # fold the initial state into the first input: h_1 = lam h_0 + b_1
        a0 = lam if lam.dim() == 1 else lam[0]
        b = torch.cat([(b[0] + a0 * h0.to(b.device, b.dtype))[None], b[1:]])
    T = b.shape[0]
    d = 1
    if lam.dim() == 1:
        lam_d = lam  # lam^d
        if torch.is_grad_enabled() and (lam.requires_grad or b.requires_grad):
            while d < T:  # out-of-place, so autograd can differentiate through every level
                b = torch.cat([b[:d], b[d:] + lam_d * b[:-d]])
                lam_d = lam_d * lam_d
                d *= 2
            return b
        b = b.clone()
        while d < T:  # in place: the right-hand side is evaluated before b[d:] is written
            b[d:] += lam_d * b[:-d]  # b_t <- b_t + lam^d b_{t-d}
            lam_d = lam_d * lam_d
            d *= 2
        return b
    a = lam.expand_as(b) if lam.shape != b.shape else lam
    while d < T:
        a_new, b_new = scan_combine(a[:-d], b[:-d], a[d:], b[d:])  # (a_{t-d}, b_{t-d}) . (a_t, b_t)
        a, b = torch.cat([a[:d], a_new]), torch.cat([b[:d], b_new])
        d *= 2
    return b


def recurrence_kernel(lam, T: int) -> torch.Tensor:
    """The impulse response K_j = lam^j for j = 0..T-1, shape (T, N) (by cumulative products), on ``lam``'s device."""
    T = _validate.positive("T", T, integer=True)
    lam = torch.as_tensor(lam)
    if lam.dim() != 1:
        raise ValueError(f"lam must have shape (N,), got {tuple(lam.shape)}")
    powers = torch.cumprod(lam.expand(T - 1, -1), dim=0) if T > 1 else lam[:0].expand(0, -1)
    return torch.cat([torch.ones_like(lam)[None], powers])


def linear_recurrence_conv(lam, b: torch.Tensor, h0: torch.Tensor | None = None, *,
                           method: str = "fft") -> torch.Tensor:
    """Convolution view h_t = sum_{j=0}^{t-1} lam^j b_{t-j} (+ lam^t h0); (T, B, N).

    ``method="fft"`` multiplies spectra (zero-padded to avoid wrap-around, O(T log T) work);
    ``method="toeplitz"`` forms the (T, T, N) causal Toeplitz tensor K_{t-s} (O(T^2 N) memory: small T only).
    Needs a time-invariant ``lam`` of shape (N,) with |lam| <= 1 for a well-conditioned result.
    """
    _validate.one_of("method", method, ("fft", "toeplitz"))
    lam = _check(lam, b, h0, time_varying_ok=False)
    T = b.shape[0]
    K = recurrence_kernel(lam, T + 1)  # lam^0 .. lam^T
    if method == "toeplitz":                # M (T, T, N) in b's dtype, plus the (T, T) int64 lag index
        N = b.shape[-1]
        _validate.memory_guard(f"the causal Toeplitz tensor (T, T, N) = ({T}, {T}, {N})", T * T,
                               bytes_per_element=N * torch.promote_types(lam.dtype, b.dtype).itemsize + 8,
                               names="T (or use method='fft', which needs O(T N) memory)")
        idx = torch.arange(T, device=b.device)
        lag = idx[:, None] - idx[None, :]  # t - s
        M = K[lag.clamp(min=0)] * (lag >= 0)[..., None]  # M[t, s, n] = lam_n^(t-s) for s <= t
        h = torch.einsum("tsn,sbn->tbn", M.to(b.dtype), b)
    else:
        n = 1 << (2 * T - 1).bit_length()  # >= 2T - 1: linear, not circular, convolution
        bt, Kt = b.permute(1, 2, 0), K[:T].T  # time last, so each FFT runs over contiguous memory
        if lam.is_complex() or b.is_complex():
            cdtype = torch.promote_types(b.dtype, torch.complex64)
            spec = torch.fft.fft(bt.to(cdtype), n=n) * torch.fft.fft(Kt.to(cdtype), n=n)  # conv = product of spectra
            h = torch.fft.ifft(spec, n=n)[..., :T].permute(2, 0, 1)
        else:
            spec = torch.fft.rfft(bt, n=n) * torch.fft.rfft(Kt.to(b.dtype), n=n)
            h = torch.fft.irfft(spec, n=n)[..., :T].permute(2, 0, 1)
    if h0 is not None:
        h = h + K[1:, None, :] * h0.to(h.device, h.dtype)  # + lam^t h_0
    return h


def linear_recurrence(lam, b: torch.Tensor, h0: torch.Tensor | None = None, *, method: str = "scan") -> torch.Tensor:
    """Dispatch to one of ``METHODS`` = loop, scan, fft, toeplitz. All return h_1..h_T, (T, B, N)."""
    _validate.one_of("method", method, METHODS)
    if method == "loop":
        return linear_recurrence_loop(lam, b, h0)
    if method == "scan":
        return linear_recurrence_scan(lam, b, h0)
    return linear_recurrence_conv(lam, b, h0, method=method)


# ----------------------------------------------------------------------------------------------- LRU


def ring_init(n: int, *, r_min: float = 0.0, r_max: float = 1.0, max_phase: float = 2 * math.pi,
              generator: torch.Generator | None = None, dtype=torch.float64):
    """Eigenvalues uniform (in area) on the ring r_min <= |lam| <= r_max, phases uniform on [0, max_phase).

    |lam|^2 = u1 (r_max^2 - r_min^2) + r_min^2 with u1 ~ U[0, 1), so |lam|^2 is uniform on [r_min^2, r_max^2].
    Returns the LRU's stored parameters (nu_log, theta_log), each (n,), with
    lam = exp(-exp(nu_log) + i exp(theta_log)).
    """
    n = _validate.positive("n", n, integer=True)
    _validate.in_range("r_min", r_min, 0.0, 1.0, inclusive=(True, False))
    _validate.in_range("r_max", r_max, r_min, 1.0, inclusive=(False, True))
    _validate.in_range("max_phase", max_phase, 0.0, 2 * math.pi, inclusive=(False, True))
    u1 = torch.rand(n, generator=generator, dtype=dtype)
    u2 = torch.rand(n, generator=generator, dtype=dtype)
    mod2 = u1 * (r_max**2 - r_min**2) + r_min**2
    mod2 = mod2.clamp(max=1 - torch.finfo(dtype).eps)  # |lam| = 1 exactly would make nu_log = -inf
    nu_log = torch.log(-0.5 * torch.log(mod2))  # -exp(nu_log) = log |lam|
    theta_log = torch.log(max_phase * u2.clamp(min=torch.finfo(dtype).tiny))  # exp(theta_log) = arg lam
    return nu_log, theta_log


def lambda_from_exp(nu_log: torch.Tensor, theta_log: torch.Tensor) -> torch.Tensor:
    """lam = exp(-exp(nu_log) + i exp(theta_log)): |lam| < 1 for every real nu_log."""
    return torch.exp(torch.complex(-torch.exp(nu_log), torch.exp(theta_log)))


class LRU(nn.Module):
    """Linear Recurrent Unit (Orvieto et al. 2023), one layer, no non-linearity.

        h_t = lam * h_{t-1} + gamma * (B u_t),     y_t = Re(C h_t) + D * u_t,

    with h in C^N, u, y in R^H. ``parametrization="exp"`` stores (nu_log, theta_log);
    ``"real_imag"`` stores Re lam and Im lam directly (the plain complex diagonal RNN of Zucchet & Orvieto).
    ``gamma="learned"`` stores gamma_log, initialised to log sqrt(1 - |lam|^2); ``"none"`` uses gamma = 1.
    Initialisation: B_re, B_im ~ N(0, 1/(2H)), C_re, C_im ~ N(0, 1/N), D ~ N(0, 1).
    """

    def __init__(self, d_model: int, d_hidden: int, *, r_min: float = 0.0, r_max: float = 1.0,
                 max_phase: float = 2 * math.pi, parametrization: str = "exp", gamma: str = "learned",
                 method: str = "scan", seed: int = 0, dtype=torch.float32):
        super().__init__()
        self.d_model = _validate.positive("d_model", d_model, integer=True)
        self.d_hidden = _validate.positive("d_hidden", d_hidden, integer=True)
        self.parametrization = _validate.one_of("parametrization", parametrization, ("exp", "real_imag"))
        self.gamma_mode = _validate.one_of("gamma", gamma, ("learned", "none"))
        self.method = _validate.one_of("method", method, METHODS)
        dtype = float_dtype(dtype)
        _validate.memory_guard("the LRU's weights", 4 * self.d_hidden * self.d_model + 3 * self.d_hidden + self.d_model,
                               bytes_per_element=dtype.itemsize, names="d_model or d_hidden")
        g = torch_generator(seed)
        nu_log, theta_log = ring_init(d_hidden, r_min=r_min, r_max=r_max, max_phase=max_phase, generator=g)
        if parametrization == "exp":
            self.nu_log = nn.Parameter(nu_log.to(dtype))
            self.theta_log = nn.Parameter(theta_log.to(dtype))
        else:
            lam = lambda_from_exp(nu_log, theta_log)
            self.lam_re = nn.Parameter(lam.real.to(dtype))
            self.lam_im = nn.Parameter(lam.imag.to(dtype))
        if gamma == "learned":
            mod2 = torch.exp(-2 * torch.exp(nu_log))  # |lam|^2
            self.gamma_log = nn.Parameter(0.5 * torch.log1p(-mod2).to(dtype))  # log sqrt(1 - |lam|^2)
        H, N = d_model, d_hidden
        self.B_re = nn.Parameter(torch.randn(N, H, generator=g, dtype=torch.float64).to(dtype) / math.sqrt(2 * H))
        self.B_im = nn.Parameter(torch.randn(N, H, generator=g, dtype=torch.float64).to(dtype) / math.sqrt(2 * H))
        self.C_re = nn.Parameter(torch.randn(H, N, generator=g, dtype=torch.float64).to(dtype) / math.sqrt(N))
        self.C_im = nn.Parameter(torch.randn(H, N, generator=g, dtype=torch.float64).to(dtype) / math.sqrt(N))
        self.D = nn.Parameter(torch.randn(H, generator=g, dtype=torch.float64).to(dtype))

    def eigenvalues(self) -> torch.Tensor:
        """The complex eigenvalues lam, shape (N,)."""
        if self.parametrization == "exp":
            return lambda_from_exp(self.nu_log, self.theta_log)
        return torch.complex(self.lam_re, self.lam_im)

    def gamma(self) -> torch.Tensor:
        """The input normalisation gamma, shape (N,) (ones when ``gamma="none"``)."""
        if self.gamma_mode == "learned":
            return torch.exp(self.gamma_log)
        return torch.ones(self.d_hidden, dtype=self.B_re.dtype, device=self.B_re.device)

    def input_matrix(self) -> torch.Tensor:
        """gamma * B as one complex (N, H) matrix."""
        return self.gamma()[:, None] * torch.complex(self.B_re, self.B_im)

    def forward(self, u: torch.Tensor, h0: torch.Tensor | None = None):
        """u (T, B, H) real -> (y (T, B, H) real, h (T, B, N) complex states h_1..h_T).

        ``u``: a tensor or NumPy array, converted to the layer's dtype; ``h0``: None or (B, N) complex."""
        if isinstance(u, torch.Tensor) and u.is_complex():
            raise ValueError(f"u must be real, of shape (T, B, H), got a complex tensor ({u.dtype})")
        u = model_input("u", u, like=self.B_re, width=self.d_model, layout="(T, B, H = d_model)")
        if h0 is not None:
            ctype = torch.promote_types(self.B_re.dtype, torch.complex64)
            h0 = check_state("h0", h0, (u.shape[1], self.d_hidden), ctype, "(B, N = d_hidden)")
        g = self.gamma()[:, None]
        b = torch.complex(u @ (g * self.B_re).T, u @ (g * self.B_im).T)  # gamma * B u_t, (T, B, N)
        h = linear_recurrence(self.eigenvalues(), b, h0, method=self.method)  # h_t = lam h_{t-1} + gamma B u_t
        C = torch.complex(self.C_re, self.C_im)
        y = (h @ C.T).real + self.D * u  # y_t = Re(C h_t) + D * u_t
        return y, h

    def kernel(self, T: int) -> torch.Tensor:
        """Convolution kernel of the layer, (T, H, H): K_0 = Re(C gamma B) + diag(D), K_j = Re(C diag(gamma lam^j) B)."""
        T = _validate.positive("T", T, integer=True)
        if self.parametrization == "exp":  # lam^j = exp(-j exp(nu_log)) e^{i j exp(theta_log)}: no repeated products
            j = torch.arange(T, dtype=self.nu_log.dtype, device=self.nu_log.device)[:, None]
            mod, ang = torch.exp(-j * torch.exp(self.nu_log)), j * torch.exp(self.theta_log)
            p_re, p_im = mod * torch.cos(ang), mod * torch.sin(ang)
        else:
            lam_pow = recurrence_kernel(self.eigenvalues(), T)  # (T, N)
            p_re, p_im = lam_pow.real, lam_pow.imag
        M = torch.complex(self.C_re, self.C_im)[:, :, None] * self.input_matrix()[None]  # M[h, n, k] = C_hn gamma_n B_nk
        K = torch.einsum("tn,hnk->thk", p_re, M.real) - torch.einsum("tn,hnk->thk", p_im, M.imag)  # Re(sum_n M lam^j)
        first = (torch.arange(T, device=K.device) == 0).to(K.dtype)[:, None, None]
        return K + first * torch.diag(self.D)  # the skip D u_t only acts at lag 0


# ------------------------------------------------------------- deep stacks at initialisation (signal propagation)


class SequenceLayer(nn.Module):
    """One residual block: x + GLU(GELU(rec(norm(x)))), GLU(z) = W1 z * sigmoid(W2 z) (pre-norm, as in the LRU paper).

    ``cell``: ``"complex"`` (complex diagonal RNN: LRU with real/imaginary parametrisation, no gamma), ``"lru"``
    (exp parametrisation + gamma) or ``"gru"`` (``torch.nn.GRU`` with orthogonal recurrent weights and the
    "chrono" update-gate bias log tau, tau ~ U(t_min, t_max), so the gate keeps about 1 - 1/(1 + tau) per step).
    ``nu_range`` = (r_min, r_max) sets the memory of the diagonal cells; the GRU uses t_min, t_max = 1/(1 - r)
    for the same two radii. ``norm``: ``"none"`` or ``"layer"``. ``forward`` returns (output, recurrent states).
    """

    def __init__(self, d_model: int, cell: str, nu_range: tuple[float, float], *, norm: str = "none", seed: int = 0):
        super().__init__()
        d_model = _validate.positive("d_model", d_model, integer=True)
        self.d_model = d_model
        self.cell = _validate.one_of("cell", cell, ("complex", "lru", "gru"))
        _validate.one_of("norm", norm, ("none", "layer"))
        if not isinstance(nu_range, (tuple, list)) or len(nu_range) != 2:
            raise ValueError(f"nu_range must be a pair (r_min, r_max) of radii in [0, 1), got {nu_range!r}")
        _validate.in_range("nu_range[0] (r_min)", nu_range[0], 0.0, 1.0, inclusive=(True, False))
        _validate.in_range("nu_range[1] (r_max)", nu_range[1], nu_range[0], 1.0, inclusive=(True, cell != "gru"))
        _validate.memory_guard("the sequence layer's weights", 6 * d_model * (d_model + 1), names="d_model")
        g = torch_generator(seed)
        self.norm = nn.LayerNorm(d_model) if norm == "layer" else nn.Identity()
        r_min, r_max = nu_range
        if cell == "gru":
            self.rec = nn.GRU(d_model, d_model)
            with torch.no_grad():
                w = torch.linalg.qr(torch.randn(d_model, d_model, generator=g))[0]  # orthogonal recurrent weights
                for k in range(3):
                    self.rec.weight_hh_l0[k * d_model:(k + 1) * d_model] = torch.linalg.qr(torch.randn(d_model, d_model, generator=g))[0] if k else w
                t_min, t_max = 1 / (1 - r_min), 1 / (1 - r_max)
                tau = t_min + (t_max - t_min) * torch.rand(d_model, generator=g)
                self.rec.bias_ih_l0.zero_()
                self.rec.bias_hh_l0.zero_()
                self.rec.bias_hh_l0[d_model:2 * d_model] = torch.log(tau)  # update gate z = sigmoid(log tau)
        else:
            kind = dict(parametrization="real_imag", gamma="none") if cell == "complex" else {}
            self.rec = LRU(d_model, d_model, r_min=r_min, r_max=r_max, max_phase=math.pi, seed=seed, **kind)
        self.glu_a, self.glu_b = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor):
        """x (T, B, d_model) (a tensor or NumPy array, converted to the layer's dtype) -> (output, states)."""
        x = model_input("x", x, like=self.glu_a.weight, width=self.d_model, layout="(T, B, d_model)")
        z = self.norm(x)
        y, h = self.rec(z)  # LRU: (y, complex states); GRU: (states, last state)
        states = y if self.cell == "gru" else h
        y = nn.functional.gelu(y)
        return x + self.glu_a(y) * torch.sigmoid(self.glu_b(y)), states


def signal_propagation(cell: str, memory: float, *, norm: str = "none", n_layers: int = 4, d_model: int = 64,
                       T: int = 256, batch_size: int = 16, rho: float = 0.9, seed: int = 0) -> dict:
    """Zucchet & Orvieto's Fig. 5 at reduced scale: a deep stack at initialisation on AR(1) inputs.

    Encoder (d_model -> d_model), ``n_layers`` SequenceLayers whose eigenvalue radii lie in
    [1 - 1/memory, 1 - 1/(2 memory)], decoder; loss 1/2 mean (prediction_t - x_{t+1})^2 (next-step prediction).
    Returns ``state2`` (E|h|^2 of the recurrent states per layer), ``out2`` (E[x^2] of each block's output) and
    ``grad2``: mean squared gradient per parameter group (``"lambda"`` = Re/Im lam for ``complex``; ``"nu"``,
    ``"theta"`` for ``lru``; ``"gru"`` = all GRU weights; ``"other"`` = every other parameter).
    """
    _validate.positive("memory", memory)
    if memory < 1:
        raise ValueError(f"memory must be >= 1 (a time constant in steps), got {memory}")
    _validate.in_range("rho", rho, 0.0, 1.0, inclusive=(True, False))
    manual_seed(seed)  # nn.Linear / nn.GRU default initialisers draw from torch's global generator
    nu_range = (1 - 1 / memory, 1 - 1 / (2 * memory))
    enc, dec = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)
    layers = nn.ModuleList([SequenceLayer(d_model, cell, nu_range, norm=norm, seed=seed + 1 + i) for i in range(n_layers)])
    g = torch_generator(seed)
    u = torch.empty(T, batch_size, d_model)
    u[0] = torch.randn(batch_size, d_model, generator=g)
    for t in range(1, T):  # AR(1): unit variance, autocorrelation rho^|dt|
        u[t] = rho * u[t - 1] + math.sqrt(1 - rho**2) * torch.randn(batch_size, d_model, generator=g)
    x, state2, out2 = enc(u), [], []
    for layer in layers:
        x, states = layer(x)
        state2.append((states.abs() ** 2).mean().item())
        out2.append((x**2).mean().item())
    loss = 0.5 * ((dec(x)[:-1] - u[1:]) ** 2).mean()
    loss.backward()
    groups: dict[str, list[torch.Tensor]] = {}
    for module in (enc, dec, layers):
        for name, p in module.named_parameters():
            leaf = name.split(".")[-1]
            key = ("lambda" if leaf in ("lam_re", "lam_im") else "nu" if leaf == "nu_log" else
                   "theta" if leaf == "theta_log" else "gru" if ".rec." in f".{name}" and cell == "gru" else "other")
            groups.setdefault(key, []).append(p.grad.reshape(-1))
    grad2 = {k: (torch.cat(v) ** 2).mean().item() for k, v in groups.items()}
    return {"cell": cell, "memory": memory, "norm": norm, "state2": state2, "out2": out2, "grad2": grad2,
            "loss": loss.item()}
