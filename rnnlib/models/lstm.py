"""LSTM and GRU cells written gate by gate, and time-first sequence models built on them (chapter 5).

Chapter 5 ("LSTM, GRU and orthogonal RNNs") reads these cells line by line, so every gate is its own
line with the equation beside it. The conventions are torch's, so that ``from_torch`` can load the
weights of ``torch.nn.LSTM`` / ``torch.nn.GRU`` and the tests can check equality:

* LSTM gates in the order (i, f, g, o); GRU gates in the order (r, z, n).
* torch keeps two bias vectors per gate (``bias_ih`` and ``bias_hh``). They simply add up, except for
  the GRU's candidate ``n``, whose hidden bias ``b_hn`` sits *inside* the reset product
  ``r * (W_hn h + b_hn)``. The LSTM cell therefore keeps one bias per gate; the GRU keeps ``b_in`` and
  ``b_hn`` apart.
* Weights act on column vectors in the math (``W_xi u_t``), so code computes ``x @ W_xi.T``.
* Sequences are time first: inputs ``(T, B, I)``; state trajectories ``(T+1, B, H)`` including the
  initial state.

``LSTMCell(..., forget_gate=False)`` is the original 1997 LSTM (Hochreiter & Schmidhuber), whose cell
state only ever accumulates: ``c_t = c_{t-1} + i_t * g_t``. With the forget gate (Gers et al. 2000)
``c_t = f_t * c_{t-1} + i_t * g_t``, and along the direct path ``dc_t/dc_{t-1} = diag(f_t)``.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from rnnlib import _validate
from rnnlib.device import torch_generator
from rnnlib.models.elman import check_state, float_dtype, model_input

__all__ = ["LSTMCell", "GRUCell", "LSTM", "GRU", "set_forget_bias"]

_LSTM_GATES = ("i", "f", "g", "o")
_GRU_GATES = ("r", "z", "n")


def _uniform_(tensor: torch.Tensor, bound: float, generator: torch.Generator | None) -> torch.Tensor:
    """Fill ``tensor`` with U(-bound, bound) draws, in place, from ``generator``."""
    with torch.no_grad():
        tensor.copy_((torch.rand(tensor.shape, generator=generator, dtype=torch.float64) * 2 - 1) * bound)
    return tensor


def _generator(seed: int | None) -> torch.Generator | None:
    if seed is None:
        return None
    _validate.positive("seed", seed, integer=True, allow_zero=True)
    return torch_generator(seed)


class _GatedCell(nn.Module):
    """Shared plumbing: one (W_x, W_h, b) triple per gate, torch's uniform initialisation."""

    def __init__(self, n_in: int, n_hidden: int, gates: tuple[str, ...], *, extra_biases: tuple[str, ...] = (),
                 seed: int | None = None, dtype=torch.float32):
        super().__init__()
        self.n_in = _validate.positive("n_in", n_in, integer=True)
        self.n_hidden = _validate.positive("n_hidden", n_hidden, integer=True)
        self.gates = tuple(gates)
        H, I = self.n_hidden, self.n_in
        dtype = float_dtype(dtype)
        _validate.memory_guard(f"the {type(self).__name__.removesuffix('Cell')} weights",
                               len(self.gates) * H * (H + I + 1) + len(extra_biases) * H,
                               bytes_per_element=dtype.itemsize, names="n_hidden")
        for name in extra_biases:
            self.register_parameter(name, nn.Parameter(torch.empty(H, dtype=dtype)))
        for gate in self.gates:
            self.register_parameter(f"W_x{gate}", nn.Parameter(torch.empty(H, I, dtype=dtype)))
            self.register_parameter(f"W_h{gate}", nn.Parameter(torch.empty(H, H, dtype=dtype)))
            self.register_parameter(f"b_{gate}", nn.Parameter(torch.empty(H, dtype=dtype)))
        self.reset_parameters(seed=seed)

    def reset_parameters(self, *, seed: int | None = None) -> None:
        """torch's default: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H))."""
        gen = _generator(seed)
        for p in self.parameters():
            _uniform_(p, 1.0 / math.sqrt(self.n_hidden), gen)

    @property
    def first_weight(self) -> torch.Tensor:
        """One weight of the cell (``W_x`` of the first gate): its dtype and device are the cell's."""
        return getattr(self, f"W_x{self.gates[0]}")

    def _check_input(self, x: torch.Tensor) -> None:
        if x.shape[-1] != self.n_in:
            raise ValueError(f"x must have {self.n_in} features in its last dimension, got shape {tuple(x.shape)}")

    def _zeros(self, x: torch.Tensor) -> torch.Tensor:
        return x.new_zeros(x.shape[:-1] + (self.n_hidden,))


class LSTMCell(_GatedCell):
    """One LSTM step: ``(x (B, I), (h, c) each (B, H)) -> (h', c')``.

    ``forget_gate=False`` gives the 1997 LSTM (no forget gate: the cell state is a pure accumulator,
    the "constant error carousel"). ``forget_bias`` sets ``b_f`` after initialisation (see
    ``set_forget_bias``). Parameters per gate ``k`` in (i, f, g, o): ``W_xk (H, I)``, ``W_hk (H, H)``,
    ``b_k (H,)``.
    """

    def __init__(self, n_in: int, n_hidden: int, *, forget_gate: bool = True, forget_bias: float | None = None,
                 seed: int | None = None, dtype=torch.float32):
        super().__init__(n_in, n_hidden, _LSTM_GATES if forget_gate else ("i", "g", "o"), seed=seed, dtype=dtype)
        self.forget_gate = bool(forget_gate)
        if forget_bias is not None:
            self.set_forget_bias(forget_bias)

    def set_forget_bias(self, value: float) -> "LSTMCell":
        """Set every forget-gate bias to ``value`` (so that f ~ sigmoid(value) at the start)."""
        if not self.forget_gate:
            raise ValueError("forget_bias needs forget_gate=True: the 1997 LSTM has no forget gate")
        value = _validate.number("forget_bias", value)
        with torch.no_grad():
            self.b_f.fill_(value)
        return self

    def init_state(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Zero (h, c) matching the batch shape, dtype and device of the input ``x``."""
        return self._zeros(x), self._zeros(x)

    def gate_values(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None) -> dict:
        """All gate activations of one step, as a dict with keys i, f, g, o, c, h (f is 1 without forget gate)."""
        self._check_input(x)
        h, c = self.init_state(x) if state is None else state
        i = torch.sigmoid(x @ self.W_xi.T + h @ self.W_hi.T + self.b_i)      # i_t = σ(W_xi u_t + W_hi h_{t-1} + b_i)
        if self.forget_gate:
            f = torch.sigmoid(x @ self.W_xf.T + h @ self.W_hf.T + self.b_f)  # f_t = σ(W_xf u_t + W_hf h_{t-1} + b_f)
        else:
            f = torch.ones_like(c)                                           # 1997 LSTM: f_t ≡ 1
        g = torch.tanh(x @ self.W_xg.T + h @ self.W_hg.T + self.b_g)         # g_t = tanh(W_xg u_t + W_hg h_{t-1} + b_g)
        o = torch.sigmoid(x @ self.W_xo.T + h @ self.W_ho.T + self.b_o)      # o_t = σ(W_xo u_t + W_ho h_{t-1} + b_o)
        c_new = f * c + i * g                                                # c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
        h_new = o * torch.tanh(c_new)                                        # h_t = o_t ⊙ tanh(c_t)
        return {"i": i, "f": f, "g": g, "o": o, "c": c_new, "h": h_new}

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None):
        """One step; returns the new ``(h, c)``."""
        v = self.gate_values(x, state)
        return v["h"], v["c"]

    @classmethod
    def from_torch(cls, module: nn.LSTM | nn.LSTMCell, *, layer: int = 0) -> "LSTMCell":
        """A cell holding the weights of ``nn.LSTMCell`` or of layer ``layer`` of a unidirectional ``nn.LSTM``.

        torch stacks the gates (i, f, g, o) along the first axis of ``weight_ih`` (4H, I) and
        ``weight_hh`` (4H, H) and keeps two biases that add up: ``b_k = b_ik + b_hk``.
        """
        w_ih, w_hh, b_ih, b_hh = _torch_weights(module, layer, "LSTM", n_chunks=4)
        cell = cls(w_ih.shape[1], w_hh.shape[1], dtype=w_ih.dtype).to(w_ih.device)   # the module's device
        with torch.no_grad():
            for k, gate in enumerate(_LSTM_GATES):
                getattr(cell, f"W_x{gate}").copy_(w_ih.chunk(4)[k])
                getattr(cell, f"W_h{gate}").copy_(w_hh.chunk(4)[k])
                getattr(cell, f"b_{gate}").copy_(b_ih.chunk(4)[k] + b_hh.chunk(4)[k])
        return cell


class GRUCell(_GatedCell):
    """One GRU step (Cho et al. 2014, torch's convention): ``(x (B, I), h (B, H)) -> h'``.

    Parameters: ``W_xk (H, I)``, ``W_hk (H, H)`` for k in (r, z, n), biases ``b_r``, ``b_z`` (input
    and hidden biases summed), and for the candidate the two biases kept apart: ``b_n`` (input side)
    and ``b_hn`` (hidden side, inside the reset product).
    """

    def __init__(self, n_in: int, n_hidden: int, *, seed: int | None = None, dtype=torch.float32):
        super().__init__(n_in, n_hidden, _GRU_GATES, extra_biases=("b_hn",), seed=seed, dtype=dtype)

    def init_state(self, x: torch.Tensor) -> torch.Tensor:
        return self._zeros(x)

    def gate_values(self, x: torch.Tensor, h: torch.Tensor | None = None) -> dict:
        """All gate activations of one step, as a dict with keys r, z, n, h."""
        self._check_input(x)
        h = self.init_state(x) if h is None else h
        r = torch.sigmoid(x @ self.W_xr.T + h @ self.W_hr.T + self.b_r)              # r_t = σ(W_xr u_t + W_hr h_{t-1} + b_r)
        z = torch.sigmoid(x @ self.W_xz.T + h @ self.W_hz.T + self.b_z)              # z_t = σ(W_xz u_t + W_hz h_{t-1} + b_z)
        n = torch.tanh(x @ self.W_xn.T + self.b_n + r * (h @ self.W_hn.T + self.b_hn))  # n_t = tanh(W_xn u_t + b_n + r_t ⊙ (W_hn h_{t-1} + b_hn))
        h_new = (1 - z) * n + z * h                                                  # h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}
        return {"r": r, "z": z, "n": n, "h": h_new}

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        """One step; returns the new ``h``."""
        return self.gate_values(x, h)["h"]

    @classmethod
    def from_torch(cls, module: nn.GRU | nn.GRUCell, *, layer: int = 0) -> "GRUCell":
        """A cell holding the weights of ``nn.GRUCell`` or of layer ``layer`` of a unidirectional ``nn.GRU``.

        Gates (r, z, n) are stacked along the first axis of ``weight_ih`` (3H, I) / ``weight_hh`` (3H, H).
        """
        w_ih, w_hh, b_ih, b_hh = _torch_weights(module, layer, "GRU", n_chunks=3)
        cell = cls(w_ih.shape[1], w_hh.shape[1], dtype=w_ih.dtype).to(w_ih.device)   # the module's device
        with torch.no_grad():
            for k, gate in enumerate(_GRU_GATES):
                getattr(cell, f"W_x{gate}").copy_(w_ih.chunk(3)[k])
                getattr(cell, f"W_h{gate}").copy_(w_hh.chunk(3)[k])
            cell.b_r.copy_(b_ih.chunk(3)[0] + b_hh.chunk(3)[0])
            cell.b_z.copy_(b_ih.chunk(3)[1] + b_hh.chunk(3)[1])
            cell.b_n.copy_(b_ih.chunk(3)[2])
            cell.b_hn.copy_(b_hh.chunk(3)[2])
        return cell


def _torch_weights(module: nn.Module, layer: int, kind: str, n_chunks: int):
    """(weight_ih, weight_hh, bias_ih, bias_hh) of a torch LSTM/GRU (zeros for missing biases)."""
    seq_cls, cell_cls = (nn.LSTM, nn.LSTMCell) if kind == "LSTM" else (nn.GRU, nn.GRUCell)
    if isinstance(module, cell_cls):
        w_ih, w_hh = module.weight_ih, module.weight_hh
        b_ih, b_hh = (module.bias_ih, module.bias_hh) if module.bias else (None, None)
    elif isinstance(module, seq_cls):
        if module.bidirectional or getattr(module, "proj_size", 0):
            raise ValueError(f"module must be a unidirectional nn.{kind} without projection")
        _validate.in_range("layer", layer, 0, module.num_layers - 1)
        w_ih, w_hh = getattr(module, f"weight_ih_l{layer}"), getattr(module, f"weight_hh_l{layer}")
        b_ih = getattr(module, f"bias_ih_l{layer}") if module.bias else None
        b_hh = getattr(module, f"bias_hh_l{layer}") if module.bias else None
    else:
        raise ValueError(f"module must be an nn.{kind} or nn.{kind}Cell, got {type(module).__name__}")
    w_ih, w_hh = w_ih.detach(), w_hh.detach()
    zeros = torch.zeros(n_chunks * w_hh.shape[1], dtype=w_ih.dtype, device=w_ih.device)
    b_ih = zeros if b_ih is None else b_ih.detach()
    b_hh = zeros if b_hh is None else b_hh.detach()
    return w_ih, w_hh, b_ih, b_hh


class _Sequence(nn.Module):
    """A cell unrolled over time-first inputs, with an optional linear read-out ``y = W_hy h + b_y``."""

    def _setup_readout(self, n_out: int | None, readout: str, dtype, seed: int | None = None) -> None:
        self.readout = _validate.one_of("readout", readout, ("last", "all"))
        self.n_out = None if n_out is None else _validate.positive("n_out", n_out, integer=True)
        H = self.cell.n_hidden
        if self.n_out is not None:
            bound = 1.0 / math.sqrt(H)
            gen = _generator(None if seed is None else seed + 1)
            self.W_hy = nn.Parameter(_uniform_(torch.empty(self.n_out, H, dtype=dtype), bound, gen))
            self.b_y = nn.Parameter(torch.zeros(self.n_out, dtype=dtype))

    def _read(self, hs: torch.Tensor) -> torch.Tensor:
        """Read-out from the hidden trajectory ``hs (T+1, B, H)``: (B, O) for "last", (T, B, O) for "all"."""
        out = hs[-1] if self.readout == "last" else hs[1:]
        if self.n_out is None:
            return out
        return out @ self.W_hy.T + self.b_y                                  # y_t = W_hy h_t + b_y

    def _check_sequence(self, u) -> torch.Tensor:
        """``u`` checked (a tensor or NumPy array of shape (T, B, I), T >= 1) and in the cell's dtype."""
        return model_input("u", u, like=self.cell.first_weight, width=self.cell.n_in, layout="(T, B, I), time first")

    def _check_h0(self, name: str, h, u: torch.Tensor):
        return check_state(name, h, (u.shape[1], self.cell.n_hidden), u.dtype)

    def _replay(self, u: torch.Tensor, state, keys: tuple, next_state) -> dict:
        """Run the cell over ``u`` without gradient, collecting ``gate_values`` under ``keys`` as (T, B, H) tensors;
        ``next_state(values)`` is the state the next step starts from."""
        out = {k: [] for k in keys}
        with torch.no_grad():
            for t in range(u.shape[0]):
                v = self.cell.gate_values(u[t], state)
                state = next_state(v)
                for k in keys:
                    out[k].append(v[k])
        return {k: torch.stack(v) for k, v in out.items()}

    def _check_pair(self, state, u: torch.Tensor):
        """The LSTM's initial state: a pair (h, c), each (B, H), or None (zeros)."""
        if state is None:
            return self.cell.init_state(u[0])
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            got = f"a tensor of shape {tuple(state.shape)}" if isinstance(state, torch.Tensor) else type(state).__name__
            raise ValueError(f"state must be a pair (h, c) of tensors, each (B, H) = ({u.shape[1]}, "
                             f"{self.cell.n_hidden}), got {got}; an LSTM carries a cell state c besides h")
        return self._check_h0("state[0] (h)", state[0], u), self._check_h0("state[1] (c)", state[1], u)


class LSTM(_Sequence):
    """An LSTM over a time-first sequence: ``forward(u (T, B, I), state=None) -> (y, (h, c))``.

    ``h`` and ``c`` are the full trajectories ``(T+1, B, H)`` including the initial state. ``y`` is
    ``(B, O)`` for ``readout="last"`` and ``(T, B, O)`` for ``readout="all"``; with ``n_out=None`` there
    is no linear read-out and ``y`` is the hidden state itself (``h_T`` or ``h_{1..T}``).
    """

    def __init__(self, n_in: int, n_hidden: int, n_out: int | None = None, *, readout: str = "last",
                 forget_gate: bool = True, forget_bias: float | None = None, seed: int | None = None,
                 dtype=torch.float32):
        super().__init__()
        self.cell = LSTMCell(n_in, n_hidden, forget_gate=forget_gate, forget_bias=forget_bias, seed=seed,
                             dtype=dtype)
        self._setup_readout(n_out, readout, dtype, seed)

    def set_forget_bias(self, value: float) -> "LSTM":
        self.cell.set_forget_bias(value)
        return self

    def forward(self, u: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None):
        """``u (T, B, I)`` and ``state`` a pair (h, c) of (B, H) tensors or None -> (y, (h, c) trajectories)."""
        u = self._check_sequence(u)
        h, c = self._check_pair(state, u)
        hs, cs = [h], [c]
        for t in range(u.shape[0]):
            h, c = self.cell(u[t], (h, c))
            hs.append(h)
            cs.append(c)
        hs, cs = torch.stack(hs), torch.stack(cs)
        return self._read(hs), (hs, cs)

    def gate_trajectory(self, u: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None) -> dict:
        """Every gate over a whole sequence: dict of ``(T, B, H)`` tensors i, f, g, o, c, h (no gradient)."""
        u = self._check_sequence(u)
        return self._replay(u, self._check_pair(state, u), ("i", "f", "g", "o", "c", "h"), lambda v: (v["h"], v["c"]))

    @classmethod
    def from_torch(cls, module: nn.LSTM, head: nn.Linear | None = None, *, readout: str = "last") -> "LSTM":
        """An ``LSTM`` with the weights of a one-layer ``nn.LSTM`` (and of a linear ``head``, if given)."""
        cell = LSTMCell.from_torch(module)
        return _wrap(cls, cell, head, readout)


class GRU(_Sequence):
    """A GRU over a time-first sequence: ``forward(u (T, B, I), h0=None) -> (y, h)`` with ``h (T+1, B, H)``."""

    def __init__(self, n_in: int, n_hidden: int, n_out: int | None = None, *, readout: str = "last",
                 seed: int | None = None, dtype=torch.float32):
        super().__init__()
        self.cell = GRUCell(n_in, n_hidden, seed=seed, dtype=dtype)
        self._setup_readout(n_out, readout, dtype, seed)

    def forward(self, u: torch.Tensor, h0: torch.Tensor | None = None):
        """``u (T, B, I)`` and ``h0 (B, H)`` or None -> (y, h trajectory (T+1, B, H))."""
        u = self._check_sequence(u)
        h = self.cell.init_state(u[0]) if h0 is None else self._check_h0("h0", h0, u)
        hs = [h]
        for t in range(u.shape[0]):
            h = self.cell(u[t], h)
            hs.append(h)
        hs = torch.stack(hs)
        return self._read(hs), hs

    def gate_trajectory(self, u: torch.Tensor, h0: torch.Tensor | None = None) -> dict:
        """Every gate over a whole sequence: dict of ``(T, B, H)`` tensors r, z, n, h (no gradient)."""
        u = self._check_sequence(u)
        h = self.cell.init_state(u[0]) if h0 is None else self._check_h0("h0", h0, u)
        return self._replay(u, h, ("r", "z", "n", "h"), lambda v: v["h"])

    @classmethod
    def from_torch(cls, module: nn.GRU, head: nn.Linear | None = None, *, readout: str = "last") -> "GRU":
        """A ``GRU`` with the weights of a one-layer ``nn.GRU`` (and of a linear ``head``, if given)."""
        cell = GRUCell.from_torch(module)
        return _wrap(cls, cell, head, readout)


def _wrap(cls, cell, head: nn.Linear | None, readout: str):
    model = cls.__new__(cls)
    nn.Module.__init__(model)
    model.cell = cell
    model._setup_readout(None if head is None else head.out_features, readout, cell.W_xo.dtype
                         if isinstance(cell, LSTMCell) else cell.W_xn.dtype)
    model.to(next(cell.parameters()).device)                 # the read-out joins the cell before it is loaded
    if head is not None:
        with torch.no_grad():
            model.W_hy.copy_(head.weight)
            model.b_y.copy_(head.bias if head.bias is not None else torch.zeros_like(model.b_y))
    return model


def set_forget_bias(model: nn.Module, value: float) -> nn.Module:
    """Set the forget-gate bias of an rnnlib ``LSTM``/``LSTMCell`` or a torch ``nn.LSTM``/``nn.LSTMCell``.

    For torch modules the effective bias is ``bias_ih + bias_hh``, so the forget slice ``[H:2H]`` of
    ``bias_ih`` is set to ``value`` and that of ``bias_hh`` to 0 (every layer of an ``nn.LSTM``).
    Returns the model, changed in place.
    """
    value = _validate.number("value", value)
    if isinstance(model, (LSTM, LSTMCell)):
        return model.set_forget_bias(value)
    if isinstance(model, (nn.LSTM, nn.LSTMCell)):
        H = model.hidden_size
        names = ["bias_ih", "bias_hh"] if isinstance(model, nn.LSTMCell) else \
            [f"bias_{k}_l{layer}" for layer in range(model.num_layers) for k in ("ih", "hh")]
        if not model.bias:
            raise ValueError("model must have biases (bias=True) to set a forget bias")
        with torch.no_grad():
            for name in names:
                getattr(model, name)[H:2 * H].fill_(float(value) if "ih" in name else 0.0)
        return model
    raise ValueError(f"model must be an rnnlib LSTM/LSTMCell or a torch nn.LSTM/nn.LSTMCell, got {type(model).__name__}")
