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

from rnnlib._validate import one_of, positive
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
        """All hidden states (T + 1, B, H), h_0 first."""
        if u.dim() != 3:
            raise ValueError(f"u must have shape (T, B, I), got {tuple(u.shape)}")
        T, B, _ = u.shape
        h = h0 if h0 is not None else u.new_zeros(B, self.n_hidden)
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
