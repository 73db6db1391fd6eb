"""The Elman recurrent network in torch, the model the book trains from chapter 1 on.

    h_t = sigma(W_hh h_{t-1} + W_xh u_t + b_h)        (state update)
    y_t = W_hy h_t + b_y                              (linear readout)

Pascanu et al. (2013) write the same network with the non-linearity moved:
x_t = W_rec sigma(x_{t-1}) + W_in u_t + b. Both have the Jacobian product that chapter 3 studies.
Shapes are time first: inputs ``u`` are (T, B, I), hidden states (T + 1, B, H) including h_0.
The parameter names match ``rnnlib.theory.bptt`` so weights move between the numpy and torch versions.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from rnnlib._validate import memory_guard, one_of, positive, tensor
from rnnlib.device import torch_generator

ACTIVATIONS = {
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "linear": lambda a: a,
}


class ElmanRNN(nn.Module):
    """A single-layer Elman RNN with a linear readout (Python loop over time, so every step is visible).

    ``readout="last"`` returns y_T only, shape (B, O): tasks scored at the end of the sequence.
    ``readout="all"`` returns y_1..y_T, shape (T, B, O).
    """

    def __init__(self, n_in: int, n_hidden: int, n_out: int, *, activation: str = "tanh",
                 readout: str = "last", init_scale: float | None = None, seed: int | None = None,
                 dtype: torch.dtype = torch.float32):
        super().__init__()
        n_in = positive("n_in", n_in, integer=True)
        n_hidden = positive("n_hidden", n_hidden, integer=True)
        n_out = positive("n_out", n_out, integer=True)
        self.activation = one_of("activation", activation, ACTIVATIONS)
        self.readout = one_of("readout", readout, ("last", "all"))
        dtype = float_dtype(dtype)
        if init_scale is not None:
            positive("init_scale", init_scale, allow_zero=True)
        memory_guard("ElmanRNN's weights", n_hidden * (n_hidden + n_in + n_out + 1) + n_out,
                     bytes_per_element=dtype.itemsize, names="n_hidden")
        gen = torch_generator(seed) if seed is not None else None
        # Default scale 1/sqrt(fan_in): the usual choice, and the one torch.nn.RNN uses (as a uniform bound).
        s_in = init_scale if init_scale is not None else 1.0 / np.sqrt(n_in)
        s_h = init_scale if init_scale is not None else 1.0 / np.sqrt(n_hidden)
        kw = dict(generator=gen, dtype=dtype)
        self.W_xh = nn.Parameter(torch.randn(n_hidden, n_in, **kw) * s_in)
        self.W_hh = nn.Parameter(torch.randn(n_hidden, n_hidden, **kw) * s_h)
        self.b_h = nn.Parameter(torch.zeros(n_hidden, dtype=dtype))
        self.W_hy = nn.Parameter(torch.randn(n_out, n_hidden, **kw) * s_h)
        self.b_y = nn.Parameter(torch.zeros(n_out, dtype=dtype))

    @property
    def n_hidden(self) -> int:
        return self.W_hh.shape[0]

    def step(self, h: torch.Tensor, u_t: torch.Tensor) -> torch.Tensor:
        """One update h_t = sigma(W_hh h_{t-1} + W_xh u_t + b_h); h (B, H), u_t (B, I)."""
        return ACTIVATIONS[self.activation](h @ self.W_hh.T + u_t @ self.W_xh.T + self.b_h)

    def states(self, u: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
        """All hidden states (T + 1, B, H), h_0 first. ``u`` (T, B, I): a tensor or NumPy array, converted to
        the model's dtype; ``h0`` (B, H) or None (zeros)."""
        u = model_input("u", u, like=self.W_hh, width=self.W_xh.shape[1], layout="(T, B, I)")
        T, B, _ = u.shape
        h = u.new_zeros(B, self.n_hidden) if h0 is None else check_state("h0", h0, (B, self.n_hidden), u.dtype)
        hs = [h]
        for t in range(T):
            h = self.step(h, u[t])
            hs.append(h)
        return torch.stack(hs)

    def forward(self, u: torch.Tensor, h0: torch.Tensor | None = None):
        """Return (y, h): y is (B, O) for readout "last" or (T, B, O) for "all"; h is (T + 1, B, H)."""
        h = self.states(u, h0)
        y = (h[-1] if self.readout == "last" else h[1:]) @ self.W_hy.T + self.b_y
        return y, h

    # --- moving weights between the numpy (rnnlib.theory.bptt) and torch versions ---
    def numpy_params(self) -> dict:
        """The weights as a dict of float64 numpy arrays, in rnnlib.theory.bptt's layout."""
        return {k: v.detach().cpu().double().numpy().copy() for k, v in self.named_parameters()}

    @classmethod
    def from_numpy(cls, params: dict, *, activation: str = "tanh", readout: str = "last",
                   dtype: torch.dtype = torch.float64) -> "ElmanRNN":
        """Build a model holding exactly ``params`` (the dict used by rnnlib.theory.bptt)."""
        H, I = params["W_xh"].shape
        O = params["W_hy"].shape[0]
        model = cls(I, H, O, activation=activation, readout=readout, dtype=dtype)
        with torch.no_grad():
            for name, p in model.named_parameters():
                p.copy_(torch.as_tensor(np.asarray(params[name]), dtype=dtype))
        return model


def float_dtype(dtype) -> torch.dtype:
    """``dtype`` checked: a floating torch dtype (torch.float32, torch.float64, ...)."""
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"dtype must be a floating torch.dtype such as torch.float32 or torch.float64, got {dtype!r}")
    return dtype


def model_input(name: str, u, *, like: torch.Tensor, width: int, layout: str, dims=(3,)) -> torch.Tensor:
    """A model's input ``u`` checked by ``rnnlib._validate.tensor`` (type, rank, width, T >= 1) and in the dtype of
    the weight ``like``; a NumPy array (or nested list) lands on ``like``'s device, a tensor stays where it is."""
    host = not isinstance(u, torch.Tensor)
    u = tensor(name, u, dims=dims, width=width, dtype=like.dtype, layout=layout)
    return u.to(like.device) if host else u


def check_state(name: str, h, shape: tuple, dtype: torch.dtype, layout: str = "(B, H)") -> torch.Tensor:
    """An initial state ``h`` checked against ``shape`` (a tensor or NumPy array; a float dtype is converted)."""
    if isinstance(h, np.ndarray):
        h = torch.as_tensor(h)
    if not isinstance(h, torch.Tensor):
        raise TypeError(f"{name} must be a tensor of shape {layout} = {tuple(shape)}, got {type(h).__name__}")
    if tuple(h.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape {layout} = {tuple(shape)}, got {tuple(h.shape)}")
    return h if h.dtype == dtype else h.to(dtype)


def spectral_radius(W: torch.Tensor | np.ndarray) -> float:
    """max |eig(W)|."""
    W = W.detach().cpu().double().numpy() if isinstance(W, torch.Tensor) else np.asarray(W, dtype=float)
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def set_spectral_radius(model: ElmanRNN, radius: float) -> ElmanRNN:
    """Rescale W_hh in place so that its spectral radius equals ``radius``; returns the model."""
    positive("radius", radius)
    with torch.no_grad():
        model.W_hh.mul_(radius / spectral_radius(model.W_hh))
    return model


def activation_derivative(h: torch.Tensor, activation: str) -> torch.Tensor:
    """sigma'(a_t) written with the state h_t = sigma(a_t): 1 - h^2 (tanh), h (1 - h) (sigmoid)."""
    one_of("activation", activation, tuple(ACTIVATIONS))
    if activation == "tanh":
        return 1.0 - h * h
    if activation == "sigmoid":
        return h * (1.0 - h)
    if activation == "relu":
        return (h > 0).to(h.dtype)
    return torch.ones_like(h)
