"""Many independent Elman RNNs evaluated as one model: the book's one batched Elman ensemble (chapters 1-4).

``ElmanEnsemble`` stacks M networks with the same shapes (W_xh (M, H, I), W_hh (M, H, H), b_h (M, H),
W_hy (M, O, H), b_y (M, O)) and runs them together with batched matrix products: member m sees its own
batch u[:, m] (time first: u (T, M, B, I), states (T + 1, M, B, H)). The members never share a parameter,
so a sum of their losses gives each member exactly its own gradient. Two ways to train it:

* with autograd (``requires_grad_()``, then any torch optimiser over ``parameters()``): the lag sweep of
  chapters 1 and 3 (``rnnlib.sweeps.lag_sweep``);
* with BPTT written out by hand (``backward``; no autograd graph, several times cheaper on a CPU), which the
  multi-method trainer of chapter 4 uses (``rnnlib.sweeps.trainer``):

    h_t = sigma(W_hh h_{t-1} + W_xh u_t + b_h),    y = W_hy h_T + b_y   (or every step)
    d_T = d+_T,   delta_t = d_t * sigma'(h_t),   d_{t-1} = d+_{t-1} + delta_t W_hh
    dE/dW_hh = sum_t delta_t^T h_{t-1},  dE/dW_xh = sum_t delta_t^T u_t,  dE/db_h = sum_t delta_t

``tests/test_ensemble.py`` checks every member against ``ElmanRNN`` + autograd.
"""
from __future__ import annotations

import torch

from rnnlib._validate import memory_guard, one_of, positive
from rnnlib.models.elman import ACTIVATIONS, ElmanRNN, activation_derivative, model_input

PARAMS = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")


class ElmanEnsemble:
    """M Elman RNNs of the same shape, as stacked tensors (autograd only after ``requires_grad_()``)."""

    def __init__(self, params: dict, *, activation: str = "tanh", readout: str = "last"):
        self.activation = one_of("activation", activation, ACTIVATIONS)
        self.readout = one_of("readout", readout, ("last", "all"))
        missing = [k for k in PARAMS if k not in params]
        if missing:
            raise ValueError(f"params must hold {PARAMS}, missing {missing}")
        self.p = {k: params[k] for k in PARAMS}
        M, H, _ = self.p["W_hh"].shape
        if self.p["W_xh"].shape[:2] != (M, H) or self.p["W_hy"].shape[::2] != (M, H):
            raise ValueError("params must share M and H: W_xh (M, H, I), W_hh (M, H, H), W_hy (M, O, H)")

    # --- construction ---
    @classmethod
    def from_models(cls, models: list) -> "ElmanEnsemble":
        """Stack copies of ``ElmanRNN`` models (same shapes, activation and readout)."""
        if not models:
            raise ValueError("models must be a non-empty list of ElmanRNN")
        p = {k: torch.stack([getattr(m, k).detach().clone() for m in models]) for k in PARAMS}
        return cls(p, activation=models[0].activation, readout=models[0].readout)

    @classmethod
    def from_seeds(cls, seeds, n_in: int = 1, n_hidden: int = 32, n_out: int = 1, *, activation: str = "tanh",
                   readout: str = "last", dtype=torch.float32) -> "ElmanEnsemble":
        """One member per seed: member i holds exactly the weights of ``ElmanRNN(n_in, n_hidden, n_out, seed=seeds[i])``."""
        seeds = [positive("seed", s, integer=True, allow_zero=True) for s in seeds]
        if not seeds:
            raise ValueError("seeds must be a non-empty list of integers >= 0")
        for name, v in (("n_in", n_in), ("n_hidden", n_hidden), ("n_out", n_out)):
            positive(name, v, integer=True)
        memory_guard(f"an ensemble of {len(seeds)} Elman RNNs", len(seeds) * n_hidden * (n_hidden + n_in + n_out + 1),
                     bytes_per_element=dtype.itemsize if isinstance(dtype, torch.dtype) else 4,
                     names="n_hidden or the number of seeds")
        return cls.from_models([ElmanRNN(n_in, n_hidden, n_out, activation=activation, readout=readout, seed=s,
                                         dtype=dtype) for s in seeds])

    def requires_grad_(self, flag: bool = True) -> "ElmanEnsemble":
        """Track gradients of the stacked weights with autograd (for a torch optimiser over ``parameters()``)."""
        for v in self.p.values():
            v.requires_grad_(flag)
        return self

    def parameters(self) -> list:
        """The stacked weight tensors, in the order of ``PARAMS``."""
        return [self.p[k] for k in PARAMS]

    def to(self, device) -> "ElmanEnsemble":
        """The ensemble on ``device`` (a new ensemble; gradient tracking is kept)."""
        p = {k: v.detach().to(device).requires_grad_(v.requires_grad) for k, v in self.p.items()}
        return ElmanEnsemble(p, activation=self.activation, readout=self.readout)

    @property
    def size(self) -> int:
        return self.p["W_hh"].shape[0]

    def member(self, i: int, dtype=None) -> ElmanRNN:
        """Member ``i`` as an ``ElmanRNN``, on the ensemble's device."""
        W = self.p["W_hh"][i]
        m = ElmanRNN(self.p["W_xh"].shape[2], W.shape[0], self.p["W_hy"].shape[1], activation=self.activation,
                     readout=self.readout, dtype=dtype or W.dtype).to(W.device)
        with torch.no_grad():
            for k in PARAMS:
                getattr(m, k).copy_(self.p[k][i])
        return m

    def select(self, index) -> "ElmanEnsemble":
        """The members at ``index`` (a new ensemble; tensors are copied)."""
        index = torch.as_tensor(index, dtype=torch.long, device=self.p["W_hh"].device)
        return ElmanEnsemble({k: v.index_select(0, index) for k, v in self.p.items()},
                             activation=self.activation, readout=self.readout)

    # --- forward and BPTT ---
    # Internally the states live member-first, (M, T + 1, B, H), so that the weight gradients are single
    # batched products over (time x batch) without copies; callers see time-first views (T + 1, M, B, H).
    def forward(self, u: torch.Tensor, *, keep_states: bool = True):
        """u (T, M, B, I), or (T, B, I) shared by all members. Returns (y, h): y (M, B, O) or (T, M, B, O);
        h (T + 1, M, B, H) (only h_T, shape (M, B, H), when ``keep_states`` is False)."""
        M, I = self.size, self.p["W_xh"].shape[2]
        layout = f"(T, M={M}, B, I={I}) or (T, B, I={I})"
        u = model_input("u", u, like=self.p["W_hh"], dims=(3, 4), width=I, layout=layout)
        if u.dim() == 4 and u.shape[1] != M:
            raise ValueError(f"u must have shape {layout}: one batch per member on axis 1, got {tuple(u.shape)}")
        act = ACTIVATIONS[self.activation]
        tanh = self.activation == "tanh" and not self.p["W_hh"].requires_grad   # the in-place fast path
        p = self.p
        eq = "tmbi,mhi->tmbh" if u.dim() == 4 else "tbi,mhi->tmbh"
        xin = torch.einsum(eq, u, p["W_xh"]) + p["b_h"][None, :, None, :]   # W_xh u_t + b_h
        T, M, B, H = xin.shape
        WT = p["W_hh"].transpose(1, 2)
        h = xin.new_zeros(M, B, H)
        if keep_states:
            hs = xin.new_zeros(M, T + 1, B, H)
        ys = []
        for t in range(T):
            h = _step(xin[t], h, WT, act, tanh)                              # h_t = sigma(W_hh h_{t-1} + ...)
            if keep_states:
                hs[:, t + 1] = h
            elif self.readout == "all":
                ys.append(torch.baddbmm(p["b_y"][:, None, :], h, p["W_hy"].transpose(1, 2)))
        if self.readout == "last":
            y = torch.baddbmm(p["b_y"][:, None, :], h, p["W_hy"].transpose(1, 2))   # y = W_hy h_T + b_y
        elif keep_states:
            y = (torch.bmm(hs[:, 1:].reshape(M, T * B, H), p["W_hy"].transpose(1, 2)) + p["b_y"][:, None, :])
            y = y.view(M, T, B, -1).transpose(0, 1)
        else:
            y = torch.stack(ys)
        return y, (hs.transpose(0, 1) if keep_states else h)

    def backward(self, u: torch.Tensor, h: torch.Tensor, dy: torch.Tensor):
        """BPTT by hand. Returns (grads dict like the params, d) with d_t = dE/dh_t (T + 1, M, B, H)."""
        p = self.p
        hm = h.transpose(0, 1).contiguous()                                 # (M, T + 1, B, H); a view if from forward
        M, T1, B, H = hm.shape
        T = T1 - 1
        if u.dim() == 3:
            u = u[:, None].expand(-1, M, -1, -1)
        sp = activation_derivative(hm[:, 1:], self.activation)              # sigma'(h_t), t = 1..T
        g = {}
        if self.readout == "last":
            g["W_hy"] = dy.transpose(1, 2) @ hm[:, -1]                      # dy^T h_T
            g["b_y"] = dy.sum(1)
            direct = None
        else:
            dym = dy.transpose(0, 1).reshape(M, T * B, -1)
            g["W_hy"] = torch.bmm(dym.transpose(1, 2), hm[:, 1:].reshape(M, T * B, H))
            g["b_y"] = dym.sum(1)
            direct = torch.bmm(dym, p["W_hy"]).view(M, T, B, H)             # d+_t, t = 1..T
        d = hm.new_zeros(M, T1, B, H)
        delta = hm.new_empty(M, T, B, H)
        dt = dy @ p["W_hy"] if direct is None else direct[:, T - 1]         # d_T = d+_T
        d[:, T] = dt
        W = p["W_hh"]
        for t in range(T, 0, -1):
            dl = dt * sp[:, t - 1]                                          # delta_t = d_t * sigma'(h_t)
            delta[:, t - 1] = dl
            dt = torch.bmm(dl, W)                                           # d_{t-1} = delta_t W_hh (+ d+_{t-1})
            if direct is not None and t > 1:
                dt = dt + direct[:, t - 2]
            d[:, t - 1] = dt
        dm = delta.view(M, T * B, H).transpose(1, 2)                        # (M, H, T B)
        g["W_hh"] = torch.bmm(dm, hm[:, :-1].reshape(M, T * B, H))          # sum_t delta_t^T h_{t-1}
        g["W_xh"] = torch.bmm(dm, u.to(dm.dtype).transpose(0, 1).reshape(M, T * B, -1))
        g["b_h"] = dm.sum(2)
        return g, d.transpose(0, 1)


def to_model(params: dict, *, activation: str = "tanh", readout: str = "last") -> ElmanRNN:
    """An ``ElmanRNN`` holding one member's weights (e.g. ``EnsembleResult.params[i]``)."""
    return ElmanEnsemble({k: v[None] for k, v in params.items()}, activation=activation,
                         readout=readout).member(0)


def _step(xin_t, h, WT, act, tanh: bool):
    """sigma(xin_t + h W_hh^T). tanh is computed as 2 sigmoid(2a) - 1, the same function, because torch's
    CPU tanh is several times slower than its sigmoid (and the forward pass is most of a step). In place, so it
    is used only when autograd does not track the weights."""
    if tanh:
        return torch.baddbmm(xin_t, h, WT, beta=2.0, alpha=2.0).sigmoid_().mul_(2.0).sub_(1.0)
    return act(torch.baddbmm(xin_t, h, WT))
