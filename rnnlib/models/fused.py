"""One recurrent network on torch's fused kernels (``nn.RNN``, ``nn.LSTM``, ``nn.GRU``) with rnnlib's interface (chapter 5).

Not an ensemble: one network, batched over sequences, for the runs where speed matters (the ``gated-lag`` sweep
and the price of remembering). The fused kernels are
faster on a CPU than the step-by-step cells of ``rnnlib.models.lstm`` and ``rnnlib.models.elman`` (measured for one
forward and backward pass, T = 25, batch 32, H = 32: about 10x for the LSTM, 2x for the GRU, 1.3x for tanh).
``FastRecurrent.to_rnnlib()`` returns the gate-by-gate model holding the same weights; the tests check
that the two compute the same outputs, so the sweep measures the models the chapter reads.

The models (hidden size ``H``):

* ``tanh``: ``h_t = tanh(W_hh h_{t-1} + W_xh u_t + b)``, ``W_hh ~ N(0, 1/H)`` (spectral radius about 1),
  as ``rnnlib.models.elman.ElmanRNN``'s default;
* ``orthogonal``: the same network with ``W_hh`` a random orthogonal matrix (every singular value 1),
  orthogonal at initialisation only (Arjovsky et al. 2016 keep it unitary throughout; see
  ``rnnlib.models.orthogonal.constrain_orthogonal``);
* ``lstm``: torch's initialisation with the forget-gate bias set to ``forget_bias`` (1 by default);
* ``gru``: torch's initialisation;
* ``lstm1997``: the LSTM without forget gate (Hochreiter & Schmidhuber 1997), run by the fused kernel with
  the forget gate pinned open (``SATURATED_BIAS``; float32 only, where this is exact).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from rnnlib import _validate
from rnnlib.device import manual_seed, torch_generator
from rnnlib.models.lstm import GRU, LSTM, set_forget_bias
from rnnlib.models.orthogonal import random_orthogonal
from rnnlib.models.elman import ElmanRNN, check_state, float_dtype, model_input

KINDS = ("tanh", "orthogonal", "lstm", "gru", "lstm1997")
# σ(30) rounds to exactly 1.0 in float32, and so σ'(30) = σ(1 - σ) to exactly 0: an nn.LSTM whose
# forget pre-activation is 30 + (zero weights) has f ≡ 1 and forget parameters that never move.
SATURATED_BIAS = 30.0


class FastRecurrent(nn.Module):
    """A one-layer fused torch recurrent network plus a linear head, with rnnlib's interface.

    ``kind`` in ``KINDS``; ``forget_bias`` is used by the LSTM only. ``forward(u (T, B, I)) -> (y, out)``: ``y (B, O)`` for ``readout="last"``
    or ``(T, B, O)`` for ``"all"``, ``out (T, B, H)`` the hidden outputs.
    """

    def __init__(self, kind: str, n_in: int, n_hidden: int, n_out: int, *, readout: str = "last",
                 forget_bias: float = 1.0, seed: int = 0, dtype=torch.float32):
        super().__init__()
        self.kind = _validate.one_of("kind", kind, KINDS)
        self.readout = _validate.one_of("readout", readout, ("last", "all"))
        n_in = _validate.positive("n_in", n_in, integer=True)
        H = _validate.positive("n_hidden", n_hidden, integer=True)
        n_out = _validate.positive("n_out", n_out, integer=True)
        _validate.positive("seed", seed, integer=True, allow_zero=True)
        dtype = float_dtype(dtype)
        n_gates = {"tanh": 1, "orthogonal": 1, "lstm": 4, "gru": 3, "lstm1997": 4}[kind]
        _validate.memory_guard(f"the {kind} network's weights", n_gates * H * (H + n_in + 2) + n_out * (H + 1),
                               bytes_per_element=dtype.itemsize, names="n_hidden")
        if kind == "lstm":
            _validate.number("forget_bias", forget_bias)
        manual_seed(seed)  # torch's modules initialise from the global generator
        if kind == "lstm1997" and dtype != torch.float32:
            raise ValueError(f"dtype must be torch.float32 for kind='lstm1997' (f == 1 exactly), got {dtype}")
        cls = {"tanh": nn.RNN, "orthogonal": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU, "lstm1997": nn.LSTM}[kind]
        self.rnn = cls(n_in, H, dtype=dtype)
        self.head = nn.Linear(H, n_out, dtype=dtype)
        gen = torch_generator(seed)
        with torch.no_grad():
            if kind in ("tanh", "orthogonal"):
                W = (random_orthogonal(H, seed=seed) if kind == "orthogonal"
                     else torch.randn(H, H, generator=gen, dtype=torch.float64) / math.sqrt(H))
                self.rnn.weight_hh_l0.copy_(W)                                     # W_hh
                self.rnn.weight_ih_l0.copy_(torch.randn(H, n_in, generator=gen, dtype=torch.float64)
                                            / math.sqrt(n_in))                     # W_xh ~ N(0, 1/I)
                self.rnn.bias_ih_l0.zero_()
                self.rnn.bias_hh_l0.zero_()                                        # b_h = 0
            if kind in ("lstm", "lstm1997"):
                set_forget_bias(self.rnn, forget_bias if kind == "lstm" else SATURATED_BIAS)
            if kind == "lstm1997":
                self.rnn.weight_ih_l0[H:2 * H].zero_()                             # W_xf = 0
                self.rnn.weight_hh_l0[H:2 * H].zero_()                             # W_hf = 0  => f ≡ σ(30) = 1

    def forward(self, u: torch.Tensor, state=None):
        """``u (T, B, I)`` (a tensor or NumPy array, converted to the model's dtype); ``state``: None (zeros),
        h0 (B, H), or for the LSTMs the pair (h0, c0)."""
        u = model_input("u", u, like=self.head.weight, width=self.rnn.input_size, layout="(T, B, I), time first")
        if state is not None:
            state = self._check_state(state, u)
        out, _ = self.rnn(u, state)
        y = self.head(out[-1] if self.readout == "last" else out)
        return y, out

    def _check_state(self, state, u: torch.Tensor):
        """An initial state in torch's layout (one layer: (1, B, H) per tensor), from (B, H) or (1, B, H)."""
        B, H = u.shape[1], self.rnn.hidden_size

        def one(name, h):
            if isinstance(h, torch.Tensor) and h.dim() == 3 and h.shape[0] == 1:
                h = h[0]
            return check_state(name, h, (B, H), u.dtype)[None]

        if self.kind in ("lstm", "lstm1997"):
            if not isinstance(state, (tuple, list)) or len(state) != 2:
                got = f"a tensor of shape {tuple(state.shape)}" if isinstance(state, torch.Tensor) else type(state).__name__
                raise ValueError(f"state must be a pair (h, c) of tensors, each (B, H) = ({B}, {H}), got {got}; "
                                 "an LSTM carries a cell state c besides h")
            return one("state[0] (h)", state[0]), one("state[1] (c)", state[1])
        return one("state", state)

    def to_rnnlib(self) -> nn.Module:
        """The step-by-step rnnlib model (``ElmanRNN``, ``lstm.LSTM`` or ``lstm.GRU``) with these weights."""
        if self.kind in ("lstm", "gru"):
            return (LSTM if self.kind == "lstm" else GRU).from_torch(self.rnn, self.head, readout=self.readout)
        if self.kind == "lstm1997":
            full = LSTM.from_torch(self.rnn, self.head, readout=self.readout)
            old = LSTM(full.cell.n_in, full.cell.n_hidden, self.head.out_features, readout=self.readout,
                       forget_gate=False, dtype=self.head.weight.dtype).to(self.head.weight.device)
            old.load_state_dict({k: v for k, v in full.state_dict().items() if not k.endswith("f")})
            return old
        r = self.rnn
        params = {"W_xh": r.weight_ih_l0, "W_hh": r.weight_hh_l0, "b_h": r.bias_ih_l0 + r.bias_hh_l0,
                  "W_hy": self.head.weight, "b_y": self.head.bias}
        params = {k: v.detach().cpu().double().numpy() for k, v in params.items()}
        return ElmanRNN.from_numpy(params, activation="tanh", readout=self.readout,
                                   dtype=self.head.weight.dtype).to(self.head.weight.device)
