"""How far back a recurrent model looks: input-output connectivity and the LSTM cell path (chapter 5).

``connectivity(model_fn, u)`` measures ``||dy_T / du_t||`` for every step t: how strongly the final
output of a model still depends on the input it saw t steps earlier. It treats the model as a black
box (any function from a time-first input ``(T, B, I)`` to a final output ``(B, O)``), so chapters 5
and 7 use it for rnnlib's ``ElmanRNN``, ``LSTM``, ``GRU`` and for torch or ncps modules alike.

``cell_path_norms(cell, u)`` follows the LSTM's memory: ``||dc_t / dc_0||`` for t = 0..T, either along
every path (through the gates as well) or along the direct path only, where ``dc_t/dc_{t-1} =
diag(f_t)`` and the product is ``forget_product``. With ``f ≡ 1`` and gates that do not read ``h``,
the direct path is the whole story and the norm is exactly 1 for every T: the constant error carousel.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from rnnlib import _validate
from rnnlib.models.lstm import LSTMCell

__all__ = ["connectivity", "lookback", "cell_path_norms", "forget_product"]


def _as_tensor(u, name: str = "u", layout: str = "(T, B, I)") -> torch.Tensor:
    if not isinstance(u, torch.Tensor):
        _validate.array(name, u, what=f"a tensor or array of finite numbers, shape {layout}", complex_ok=False)
    u = torch.as_tensor(u)
    if u.dim() != 3:
        raise ValueError(f"{name} must have shape {layout} (time first), got {tuple(u.shape)}")
    if not u.is_floating_point():
        u = u.to(torch.get_default_dtype())
    return u


def connectivity(model_fn: Callable, u, *, reduce: str = "mean") -> np.ndarray:
    """``||dy_T / du_t||_F`` for every t: the Frobenius norm of the (O, I) Jacobian of the final output.

    ``model_fn`` maps ``u (T, B, I)`` to the final output ``(B, O)`` (a tuple is allowed, its first
    element is used, so an rnnlib model with ``readout="last"`` can be passed directly). Batch
    elements must not interact (no batch statistics), so that one backward pass per output unit gives
    every sequence's Jacobian at once. Returns ``(T,)`` (mean over the batch) for ``reduce="mean"``
    or ``(T, B)`` for ``reduce="none"``, as float64 numpy. Index ``t`` has lag ``T - 1 - t``.
    """
    _validate.one_of("reduce", reduce, ("mean", "none"))
    if not callable(model_fn):
        raise ValueError(f"model_fn must be callable as model_fn(u) -> y_T (B, O), got {model_fn!r}")
    u = _as_tensor(u).detach().clone().requires_grad_(True)
    y = model_fn(u)
    y = y[0] if isinstance(y, (tuple, list)) else y
    B = u.shape[1]
    if y.dim() == 1:
        y = y[:, None]
    if y.dim() != 2 or y.shape[0] != B:
        raise ValueError(f"model_fn must return the final output of shape (B, O) = ({B}, O), got {tuple(y.shape)}")
    sq = torch.zeros(u.shape[:2], dtype=torch.float64, device=u.device)
    for o in range(y.shape[1]):
        # row o of dy_T/du_t for every sequence b: d(sum_b y[b, o]) / du[t, b, :] (batches are independent)
        (g,) = torch.autograd.grad(y[:, o].sum(), u, retain_graph=o + 1 < y.shape[1], allow_unused=True)
        if g is not None:
            sq += (g.detach().to(torch.float64) ** 2).sum(-1)            # ||·||_F^2 = sum over (o, i)
    norms = sq.sqrt().cpu().numpy()
    return norms.mean(axis=1) if reduce == "mean" else norms


def lookback(conn: np.ndarray, *, threshold: float = 0.01) -> int:
    """The longest lag ``k`` whose connectivity is still at least ``threshold`` times the largest value.

    ``conn`` is the ``(T,)`` output of ``connectivity``; lag ``k`` is index ``T - 1 - k``.
    """
    conn = _validate.array("conn", conn, what="a 1-D array of connectivities", complex_ok=False).astype(float)
    if conn.ndim != 1 or conn.size == 0:
        raise ValueError(f"conn must be a non-empty 1-D array, got shape {conn.shape}")
    _validate.in_range("threshold", threshold, 0.0, 1.0, inclusive=(False, True))
    peak = conn.max()
    if not np.isfinite(peak) or peak <= 0:
        return 0
    lags = np.flatnonzero(conn[::-1] >= threshold * peak)            # conn[::-1][k] is lag k
    return int(lags.max())


def forget_product(f) -> torch.Tensor:
    """``prod_{k<=t} f_k`` for t = 0..T: the diagonal of ``dc_t/dc_0`` along the direct cell path.

    ``f (T, B, H)`` are forget-gate values; returns ``(T+1, B, H)`` whose entry 0 is all ones.
    """
    f = _as_tensor(f, "f", "(T, B, H)")
    ones = torch.ones_like(f[:1])
    return torch.cat([ones, torch.cumprod(f, dim=0)])              # dc_t/dc_0 = diag(f_t ⊙ ... ⊙ f_1)


def _lstm_step_jacobian(cell: LSTMCell, x, h, c, eye) -> torch.Tensor:
    """``d[h_t; c_t] / d[h_{t-1}; c_{t-1}]`` of one LSTM step, ``(B, 2H, 2H)``, written out by the chain rule."""
    v = cell.gate_values(x, (h, c))
    i, f, g, o, tc = v["i"], v["f"], v["g"], v["o"], torch.tanh(v["c"])
    col = lambda d: d[..., :, None]                                        # noqa: E731  diag(d) M = d[:, None] * M
    dc_dh = col(g * i * (1 - i)) * cell.W_hi + col(i * (1 - g ** 2)) * cell.W_hg   # via i_t and g_t
    if cell.forget_gate:
        dc_dh = dc_dh + col(c * f * (1 - f)) * cell.W_hf                 # via f_t (absent in the 1997 LSTM)
    dc_dc = col(f) * eye                                                   # the direct path: diag(f_t)
    dh_dh = col(tc * o * (1 - o)) * cell.W_ho + col(o * (1 - tc ** 2)) * dc_dh     # h_t = o_t ⊙ tanh(c_t)
    dh_dc = col(o * (1 - tc ** 2)) * dc_dc
    return torch.cat([torch.cat([dh_dh, dh_dc], -1), torch.cat([dc_dh, dc_dc], -1)], -2)


def cell_path_norms(cell, u, state=None, *, paths: str = "all") -> np.ndarray:
    """``||dc_t / dc_0||_2`` (spectral norm) for t = 0..T along an LSTM trajectory, averaged over the batch.

    ``cell`` is an rnnlib ``LSTMCell`` (a torch ``nn.LSTMCell`` is converted); ``u (T, B, I)``;
    ``state`` the initial ``(h_0, c_0)`` (zeros by default). ``paths="all"`` differentiates through
    every route, including ``c -> h -> gates -> c``, with ``h_0`` held fixed; ``paths="direct"`` keeps
    only ``dc_t/dc_{t-1} = diag(f_t)``, whose product has norm ``max_j prod_k f_kj``.
    Returns float64 numpy ``(T+1,)``; entry 0 is 1.
    """
    _validate.one_of("paths", paths, ("all", "direct"))
    if isinstance(cell, torch.nn.LSTMCell):
        cell = LSTMCell.from_torch(cell)
    if not isinstance(cell, LSTMCell):
        raise ValueError(f"cell must be an rnnlib LSTMCell or a torch nn.LSTMCell, got {type(cell).__name__}")
    u = _as_tensor(u).to(cell.W_xi.dtype).detach()
    h, c = cell.init_state(u[0]) if state is None else (state[0].detach(), state[1].detach())
    H = cell.n_hidden
    B = u.shape[1]
    if paths == "all":   # the running product P and one step's Jacobian and its blocks, (B, 2H, 2H) each
        _validate.memory_guard(f"cell_path_norms: {B} products of ({2 * H}, {2 * H}) Jacobians",
                               float(B) * (2 * H) ** 2, bytes_per_element=u.element_size() * 6,
                               names="the batch of u or the cell's n_hidden")
    out = [np.ones(B)]
    if paths == "direct":
        fs = []
        with torch.no_grad():
            for t in range(u.shape[0]):
                v = cell.gate_values(u[t], (h, c))
                fs.append(v["f"])
                h, c = v["h"], v["c"]
        prods = forget_product(torch.stack(fs))                            # (T+1, B, H)
        return prods.abs().amax(dim=-1).mean(dim=-1).to(torch.float64).cpu().numpy()

    eye = torch.eye(H, dtype=c.dtype, device=c.device)
    P = torch.eye(2 * H, dtype=c.dtype, device=c.device).expand(B, 2 * H, 2 * H)   # d[h_0; c_0] / d[h_0; c_0]
    with torch.no_grad():
        for t in range(u.shape[0]):
            J = _lstm_step_jacobian(cell, u[t], h, c, eye)                 # J_t = d[h_t; c_t] / d[h_{t-1}; c_{t-1}]
            P = J @ P                                                      # d s_t / d s_0 = J_t ... J_1
            h, c = cell(u[t], (h, c))
            out.append(torch.linalg.matrix_norm(P[:, H:, H:], ord=2).cpu().numpy())  # block dc_t / dc_0
    return np.stack(out).astype(np.float64).mean(axis=1)
