"""A window or a state: what one prediction costs as the context grows (chapter 1).

A model that predicts from the last L inputs (a feedforward network over a window, or a Transformer-like
attention layer) must keep those inputs, or their keys and values, and touch all of them for every
prediction; a recurrent model keeps one state of fixed size and does the same work at every step, however
long the history. This module gives

* ``prediction_cost``: the formulas, floats carried between predictions and multiply-adds per prediction,
  for ``COST_KINDS`` = window MLP, attention re-encoding the window, attention with a key/value cache, RNN;
* small torch predictors of each kind (``make_predictor``; random weights, they exist to be measured) that
  consume one input at a time, and ``measure_prediction``, which counts the FLOPs of one prediction with
  torch's FlopCounterMode, times it, and counts the floats the predictor carries on;
* ``plot_cost``: the chapter's figure of both against the context length.

Inputs are rows: one step is u_t of shape (1, I), so code computes ``u_t @ W.T``.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from rnnlib._validate import memory_guard, one_of, positive
from rnnlib.device import best_time
from rnnlib.device import torch_generator

__all__ = ["COST_KINDS", "prediction_cost", "WindowMLP", "WindowAttention", "RecurrentPredictor",
           "make_predictor", "measure_prediction"]


# --- a window versus a state: the cost of one prediction -------------------------------------------------

COST_KINDS = ("window_mlp", "attention_recompute", "attention_cached", "rnn")


def prediction_cost(kind: str, context: int, *, n_in: int, n_hidden: int, n_out: int = 1) -> dict:
    """Floats carried from one prediction to the next (``memory``) and multiply-adds (``macs``) of the
    matrix products in one prediction, for a model that sees the last ``context`` inputs:

    * ``window_mlp``: an MLP on the concatenated window: memory L I, macs L I H + H O;
    * ``attention_recompute``: one single-head attention layer of width H re-encoding the whole window
      (as an encoder like BERT does when the window slides): memory L I,
      macs L I H (embed) + 3 L H^2 (queries, keys, values) + 2 L^2 H (scores, mixing) + H O;
    * ``attention_cached``: the same layer keeping the keys and values of the last L inputs:
      memory 2 L H, macs I H + 3 H^2 + 2 L H + H O;
    * ``rnn``: the Elman network, memory H, macs H I + H^2 + H O, whatever L is.
    """
    one_of("kind", kind, COST_KINDS)
    L = positive("context", context, integer=True)
    I = positive("n_in", n_in, integer=True)
    H = positive("n_hidden", n_hidden, integer=True)
    O = positive("n_out", n_out, integer=True)
    if kind == "window_mlp":
        return {"memory": L * I, "macs": L * I * H + H * O}
    if kind == "attention_recompute":
        return {"memory": L * I, "macs": L * I * H + 3 * L * H * H + 2 * L * L * H + H * O}
    if kind == "attention_cached":
        return {"memory": 2 * L * H, "macs": I * H + 3 * H * H + 2 * L * H + H * O}
    return {"memory": H, "macs": H * I + H * H + H * O}


class _Predictor(nn.Module):
    """Streaming predictor: ``reset()`` fills what it carries with random content, ``predict(u_t)``
    takes one input (1, I) and returns one output (1, O); ``carried`` lists the tensors kept between
    predictions. Weights are random: these models exist to be timed, not trained."""

    def __init__(self, n_in, n_hidden, n_out, seed):
        super().__init__()
        self.n_in = positive("n_in", n_in, integer=True)
        self.n_hidden = positive("n_hidden", n_hidden, integer=True)
        self.n_out = positive("n_out", n_out, integer=True)
        self._gen = torch_generator(seed)

    def _guard(self, what: str, n_floats: float) -> None:
        memory_guard(f"{type(self).__name__}: {what}", n_floats, bytes_per_element=4,
                     names="context, n_in or n_hidden")

    def _w(self, *shape):
        return nn.Parameter(torch.randn(*shape, generator=self._gen) / math.sqrt(shape[-1]), requires_grad=False)

    def carried(self) -> list:
        raise NotImplementedError

    def state_floats(self) -> int:
        """Floats carried from one prediction to the next (counted on the tensors themselves)."""
        return sum(t.numel() for t in self.carried())


class WindowMLP(_Predictor):
    """y_t = W_2 tanh(W_1 [u_{t-L+1}; ...; u_t]): a feedforward network over the last L inputs."""

    def __init__(self, n_in, n_hidden, n_out, context, *, seed=0):
        super().__init__(n_in, n_hidden, n_out, seed)
        self.context = positive("context", context, integer=True)
        L, I, H = self.context, self.n_in, self.n_hidden
        self._guard(f"a ({H}, {L} x {I}) first layer and a window", float(H) * L * I + 3.0 * L * I)
        self.W1, self.W2 = self._w(n_hidden, context * n_in), self._w(n_out, n_hidden)
        self.reset()

    def reset(self):
        self.window = torch.randn(self.context, self.n_in, generator=self._gen)

    def carried(self):
        return [self.window]

    @torch.no_grad()
    def predict(self, u_t):
        # drop the oldest input, append u_t: the window holds the last L inputs, (L, I)
        self.window = torch.cat([self.window[1:], u_t])
        # one hidden layer on the flattened window: (1, L I) @ (L I, H)
        z = torch.tanh(self.window.reshape(1, -1) @ self.W1.T)
        return z @ self.W2.T


class WindowAttention(_Predictor):
    """One single-head self-attention layer over the last L inputs (no positional code: cost only).

    ``cache=False`` re-encodes the whole window for every prediction; ``cache=True`` keeps the keys and
    values of the last L inputs in a ring buffer and computes only the new token's.
    """

    def __init__(self, n_in, n_hidden, n_out, context, *, cache=True, seed=0):
        super().__init__(n_in, n_hidden, n_out, seed)
        self.context = positive("context", context, integer=True)
        if not isinstance(cache, (bool, np.bool_)):
            raise ValueError(f"cache must be True or False, got {cache!r} ({type(cache).__name__})")
        self.cache = bool(cache)
        L, I, H = self.context, self.n_in, self.n_hidden
        if self.cache:
            self._guard(f"keys and values of {L} x {H}", 2.0 * L * H + 4.0 * H * H)
        else:  # every prediction re-encodes the window: (L, 3H) projections and the (L, L) attention matrix
            self._guard(f"a ({L}, {L}) attention matrix per prediction", 2.0 * L * L + L * (I + 5.0 * H) + 4.0 * H * H)
        self.W_e, self.W_qkv, self.W_o = self._w(H, n_in), self._w(3 * H, H), self._w(n_out, H)
        self.reset()

    def reset(self):
        L, H = self.context, self.n_hidden
        if self.cache:
            self.K = torch.randn(L, H, generator=self._gen)
            self.V = torch.randn(L, H, generator=self._gen)
            self.pos = 0
        else:
            self.window = torch.randn(L, self.n_in, generator=self._gen)

    def carried(self):
        return [self.K, self.V] if self.cache else [self.window]

    @torch.no_grad()
    def predict(self, u_t):
        H = self.n_hidden
        if self.cache:
            q, k, v = ((u_t @ self.W_e.T) @ self.W_qkv.T).split(H, dim=1)    # (1, H) each
            self.K[self.pos], self.V[self.pos] = k[0], v[0]                 # overwrite the oldest entry
            self.pos = (self.pos + 1) % self.context
            p = torch.softmax((q @ self.K.T) / math.sqrt(H), dim=-1)         # (1, L) attention weights
            return (p @ self.V) @ self.W_o.T
        self.window = torch.cat([self.window[1:], u_t])
        q, k, v = ((self.window @ self.W_e.T) @ self.W_qkv.T).split(H, dim=1)  # (L, H) each
        p = torch.softmax((q @ k.T) / math.sqrt(H), dim=-1)                  # (L, L): every position
        return (p @ v)[-1:] @ self.W_o.T                                     # read out the newest one


class RecurrentPredictor(_Predictor):
    """y_t = W_hy h_t with h_t = tanh(W_hh h_{t-1} + W_xh u_t): carries only h (1, H)."""

    def __init__(self, n_in, n_hidden, n_out, context=None, *, seed=0):
        super().__init__(n_in, n_hidden, n_out, seed)
        if context is not None:
            positive("context", context, integer=True)
        self._guard(f"a ({self.n_hidden}, {self.n_hidden}) recurrent matrix", float(self.n_hidden) ** 2)
        self.context = context     # not used: the state stands in for the whole history
        self.W_xh, self.W_hh, self.W_hy = self._w(n_hidden, n_in), self._w(n_hidden, n_hidden), self._w(n_out, n_hidden)
        self.reset()

    def reset(self):
        self.h = torch.tanh(torch.randn(1, self.n_hidden, generator=self._gen))

    def carried(self):
        return [self.h]

    @torch.no_grad()
    def predict(self, u_t):
        # h_t = tanh(W_hh h_{t-1} + W_xh u_t): the state (1, H) is all that is carried
        self.h = torch.tanh(self.h @ self.W_hh.T + u_t @ self.W_xh.T)
        return self.h @ self.W_hy.T


def make_predictor(kind: str, context: int, *, n_in: int, n_hidden: int, n_out: int = 1, seed: int = 0):
    """The torch predictor whose cost ``prediction_cost(kind, ...)`` describes."""
    one_of("kind", kind, COST_KINDS)
    if kind == "window_mlp":
        return WindowMLP(n_in, n_hidden, n_out, context, seed=seed)
    if kind == "rnn":
        positive("context", context, integer=True)
        return RecurrentPredictor(n_in, n_hidden, n_out, context, seed=seed)
    return WindowAttention(n_in, n_hidden, n_out, context, cache=(kind == "attention_cached"), seed=seed)


def measure_prediction(predictor: _Predictor, *, repeats: int = 20, seed: int = 0) -> dict:
    """Measure one prediction: ``flops`` counted by torch's FlopCounterMode (matrix products; 2 per
    multiply-add), ``seconds`` (the fastest of ``repeats`` timed calls, the least disturbed by other
    load), and ``memory``, the floats the predictor carries to the next prediction."""
    from torch.utils.flop_counter import FlopCounterMode

    if not isinstance(predictor, _Predictor):
        raise ValueError(f"predictor must be one of make_predictor's models, got {type(predictor).__name__}")
    repeats = positive("repeats", repeats, integer=True)
    gen = torch_generator(seed)
    inputs = torch.randn(repeats + 2, 1, predictor.n_in, generator=gen)
    with FlopCounterMode(display=False) as counter:
        predictor.predict(inputs[0])
    predictor.predict(inputs[1])                   # warm-up
    steps = iter(inputs[2:])                        # a fresh input for every timed call
    best = best_time(lambda: predictor.predict(next(steps)), repeats=repeats, warmup=0)
    return {"flops": int(counter.get_total_flops()), "seconds": best, "memory": predictor.state_floats()}


LABELS = {"window_mlp": "MLP over the window", "attention_recompute": "attention, re-encoding the window",
          "attention_cached": "attention with a key/value cache", "rnn": "RNN (fixed-size state)"}


def measure_sweep(contexts, *, kinds=COST_KINDS, n_in: int = 4, n_hidden: int = 64, n_out: int = 1,
                  repeats: int = 20, max_context: dict | None = None, seed: int = 0) -> dict:
    """``measure_prediction`` for every kind and context length: {kind: {"context": [...], "flops": [...],
    "seconds": [...], "memory": [...], "macs_formula": [...], "memory_formula": [...]}}.
    ``max_context`` caps the context per kind (re-encoding a long window is slow)."""
    max_context = max_context or {}
    if not isinstance(max_context, dict):
        raise ValueError(f"max_context must be a dict kind -> longest context, got {max_context!r}")
    if isinstance(contexts, (str, bytes)) or not hasattr(contexts, "__iter__"):
        raise ValueError(f"contexts must be a list of context lengths (integers >= 1), got {contexts!r}")
    if isinstance(kinds, (str, bytes)):
        raise ValueError(f"kinds must be a list of names from {COST_KINDS}, got the string {kinds!r}")
    out = {}
    for kind in kinds:
        one_of("kind", kind, COST_KINDS)
        rows = {k: [] for k in ("context", "flops", "seconds", "memory", "macs_formula", "memory_formula")}
        for L in contexts:
            if L > max_context.get(kind, math.inf):
                continue
            m = measure_prediction(make_predictor(kind, L, n_in=n_in, n_hidden=n_hidden, n_out=n_out, seed=seed),
                                   repeats=repeats, seed=seed)
            f = prediction_cost(kind, L, n_in=n_in, n_hidden=n_hidden, n_out=n_out)
            for key, val in (("context", L), ("flops", m["flops"]), ("seconds", m["seconds"]),
                             ("memory", m["memory"]), ("macs_formula", f["macs"]), ("memory_formula", f["memory"])):
                rows[key].append(val)
        out[kind] = {k: np.asarray(v) for k, v in rows.items()}
    return out
