"""Orthogonal and identity recurrences, and the norm of Jacobian products through them (chapter 5).

Backpropagation through time multiplies the error by one Jacobian per step. For the plain RNN
``h_t = φ(W h_{t-1} + U u_t + b)`` that Jacobian is ``J_t = diag(φ'(a_t)) W``. If ``φ`` is the identity
and ``W`` is orthogonal (unitary, in the complex case of Arjovsky, Shah & Bengio 2016), every singular
value of ``J_T ... J_1 = W^T`` is exactly 1: the error keeps its norm for any number of steps. A
saturating nonlinearity puts ``diag(φ'(a_t))`` with entries ``< 1`` between the factors, and the
preservation is gone.

This module gives

* ``random_orthogonal`` (Haar-distributed) and ``orthogonality_error``;
* ``init_recurrent_``: orthogonal or identity initialisation of the recurrent matrix of an rnnlib
  ``ElmanRNN`` (``W_hh``) or a torch ``nn.RNN`` (``weight_hh_l0``); ``orthogonal_rnn`` and ``irnn``
  (Le, Jaitly & Hinton 2015: ReLU, ``W_hh = I``, zero bias) build such models;
* ``constrain_orthogonal``: keeps the recurrent matrix orthogonal *during training* through torch's
  orthogonal parametrisation, a real-valued cousin of the unitary RNN;
* ``jacobian_product_svals``: the extreme singular values of ``J_t ... J_1`` along a trajectory, in
  float64, for the linear and the nonlinear case.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from rnnlib import _validate
from rnnlib.device import torch_generator

__all__ = ["random_orthogonal", "orthogonality_error", "init_recurrent_", "orthogonal_rnn", "irnn",
           "constrain_orthogonal", "jacobian_product_svals"]

_ACTIVATIONS = ("linear", "tanh", "relu", "sigmoid")


def random_orthogonal(n: int, *, seed: int = 0, dtype=torch.float64) -> torch.Tensor:
    """A Haar-random orthogonal ``(n, n)`` matrix: QR of a Gaussian matrix with the signs of R fixed."""
    n = _validate.positive("n", n, integer=True)
    _validate.positive("seed", seed, integer=True, allow_zero=True)
    gen = torch_generator(seed)
    a = torch.randn(n, n, generator=gen, dtype=torch.float64)
    q, r = torch.linalg.qr(a)                       # A = QR
    q = q * torch.sign(torch.diagonal(r))           # sign fix makes Q Haar-distributed
    return q.to(dtype)


def orthogonality_error(W: torch.Tensor) -> float:
    """``max |W^T W - I|``: zero (up to rounding) exactly when ``W`` is orthogonal."""
    W = torch.as_tensor(W)
    if W.dim() != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be a square matrix, got shape {tuple(W.shape)}")
    eye = torch.eye(W.shape[0], dtype=W.dtype, device=W.device)
    return float((W.T @ W - eye).abs().max())


def _recurrent_weight(model: nn.Module) -> torch.Tensor:
    if isinstance(model, nn.RNN):
        return model.weight_hh_l0
    if hasattr(model, "W_hh"):
        return model.W_hh
    raise ValueError(f"model must be an rnnlib ElmanRNN (W_hh) or a torch nn.RNN, got {type(model).__name__}")


def init_recurrent_(model: nn.Module, scheme: str = "orthogonal", *, gain: float = 1.0, seed: int = 0,
                    zero_bias: bool = False) -> nn.Module:
    """Set the recurrent matrix of ``model`` to ``gain * Q`` (Q orthogonal) or ``gain * I``, in place.

    ``model`` is an rnnlib ``ElmanRNN`` (its ``W_hh``) or a one-layer torch ``nn.RNN``
    (``weight_hh_l0``). ``zero_bias`` also zeroes the recurrent biases (as the IRNN does). Returns
    ``model``.
    """
    _validate.one_of("scheme", scheme, ("orthogonal", "identity"))
    _validate.positive("gain", gain)
    W = _recurrent_weight(model)
    n = W.shape[0]
    new = random_orthogonal(n, seed=seed) if scheme == "orthogonal" else torch.eye(n, dtype=torch.float64)
    with torch.no_grad():
        W.copy_(gain * new.to(W.device))
        if zero_bias:
            for name in ("b_h", "bias_ih_l0", "bias_hh_l0"):
                if getattr(model, name, None) is not None:
                    getattr(model, name).zero_()
    return model


def orthogonal_rnn(n_in: int, n_hidden: int, n_out: int, *, activation: str = "tanh", readout: str = "last",
                   seed: int = 0) -> nn.Module:
    """An rnnlib ``ElmanRNN`` whose ``W_hh`` starts as a random orthogonal matrix."""
    from rnnlib.models.elman import ElmanRNN

    model = ElmanRNN(n_in, n_hidden, n_out, activation=activation, readout=readout, seed=seed)
    return init_recurrent_(model, "orthogonal", seed=seed)


def irnn(n_in: int, n_hidden: int, n_out: int, *, readout: str = "last", input_std: float = 1e-3,
         seed: int = 0) -> nn.Module:
    """Le et al. (2015)'s IRNN: ReLU units, ``W_hh = I``, zero bias, small Gaussian input weights."""
    from rnnlib.models.elman import ElmanRNN

    _validate.positive("input_std", input_std)
    model = ElmanRNN(n_in, n_hidden, n_out, activation="relu", readout=readout, seed=seed)
    init_recurrent_(model, "identity", zero_bias=True)
    gen = torch_generator(seed + 1)
    with torch.no_grad():
        model.W_xh.copy_(torch.randn(model.W_xh.shape, generator=gen, dtype=torch.float64).to(model.W_xh.device)
                         * input_std)
    return model


def constrain_orthogonal(model: nn.Module) -> nn.Module:
    """Keep the recurrent matrix orthogonal throughout training (torch's orthogonal parametrisation).

    The optimiser then moves on the set of orthogonal matrices, so the linear part of every step
    preserves norms exactly, as in the unitary RNN of Arjovsky et al. (2016). Works on ``nn.RNN``
    (``weight_hh_l0``) and rnnlib's ``ElmanRNN`` (``W_hh``). An orthogonal current matrix is kept as it
    is; any other is replaced by the Q factor of its QR decomposition. Returns ``model``, changed in place.
    """
    from torch.nn.utils.parametrizations import orthogonal

    name = "weight_hh_l0" if isinstance(model, nn.RNN) else "W_hh"
    _recurrent_weight(model)  # validates the model type
    return orthogonal(model, name)


def _phi_prime(a: torch.Tensor, activation: str) -> torch.Tensor:
    if activation == "linear":
        return torch.ones_like(a)                  # φ(a) = a
    if activation == "tanh":
        return 1 - torch.tanh(a) ** 2              # φ'(a) = 1 - tanh²(a)
    if activation == "relu":
        return (a > 0).to(a.dtype)                 # φ'(a) = 1[a > 0]
    s = torch.sigmoid(a)
    return s * (1 - s)                             # φ'(a) = σ(a)(1 - σ(a))


def jacobian_product_svals(W: torch.Tensor, T: int, *, activation: str = "linear", input_scale: float = 1.0,
                           seed: int = 0) -> dict[str, np.ndarray]:
    """Largest and smallest singular values of ``J_t ... J_1`` for t = 0..T, in float64.

    Runs ``h_t = φ(W h_{t-1} + x_t)`` from ``h_0 = 0`` with inputs ``x_t ~ N(0, input_scale² I)``
    (seeded) and multiplies the step Jacobians ``J_t = diag(φ'(a_t)) W``. Returns
    ``{"max": (T+1,), "min": (T+1,)}``; entry 0 is the empty product (the identity). Computes on ``W``'s
    device (the inputs are drawn on the CPU, so every device sees the same numbers).
    """
    W = torch.as_tensor(W, dtype=torch.float64)
    if W.dim() != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be a square matrix, got shape {tuple(W.shape)}")
    T = _validate.positive("T", T, integer=True)
    _validate.one_of("activation", activation, _ACTIVATIONS)
    _validate.positive("input_scale", input_scale, allow_zero=True)
    n = W.shape[0]
    gen = torch_generator(seed)
    h = torch.zeros(n, dtype=torch.float64, device=W.device)
    P = torch.eye(n, dtype=torch.float64, device=W.device)  # P_0 = I
    s_max, s_min = [1.0], [1.0]
    for _ in range(T):
        x = torch.randn(n, generator=gen, dtype=torch.float64).to(W.device)   # CPU generator, then W's device
        a = W @ h + input_scale * x                         # a_t = W h_{t-1} + x_t
        P = (_phi_prime(a, activation)[:, None] * W) @ P   # P_t = diag(φ'(a_t)) W P_{t-1}
        h = a if activation == "linear" else {"tanh": torch.tanh, "relu": torch.relu,
                                              "sigmoid": torch.sigmoid}[activation](a)
        sv = torch.linalg.svdvals(P)
        s_max.append(float(sv[0]))
        s_min.append(float(sv[-1]))
    return {"max": np.array(s_max), "min": np.array(s_min)}
