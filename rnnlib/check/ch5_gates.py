"""Exercise checkers of Chapter 5 (LSTM, GRU and orthogonal RNNs): ``check_gru_step``, ``check_forget_product``.

Tests: ``tests/test_lstm.py`` and ``tests/test_connectivity.py`` (both ways), ``tests/test_check_robust.py`` (junk answers).
"""
from __future__ import annotations

import numpy as np

from rnnlib.check.feedback import Feedback, compare_functions, sigmoid_for_tanh, _cases, _sigmoid


def _gru_step_ref(x, h, W_ih, W_hh, b_ih, b_hh):
    # rnnlib.models.lstm.GRUCell loaded with torch's layout: gates (r, z, n), b_hn inside the reset product
    import torch

    from rnnlib.models.lstm import GRUCell

    H, I = W_hh.shape[1], W_ih.shape[1]
    ref = torch.nn.GRUCell(I, H, dtype=torch.float64)
    with torch.no_grad():
        for name, value in (("weight_ih", W_ih), ("weight_hh", W_hh), ("bias_ih", b_ih), ("bias_hh", b_hh)):
            getattr(ref, name).copy_(torch.as_tensor(value))
    with torch.no_grad():
        return GRUCell.from_torch(ref)(torch.as_tensor(x), torch.as_tensor(h)).numpy()


_sig = _sigmoid


def _gru_variant(x, h, W_ih, W_hh, b_ih, b_hh, *, order=(0, 1, 2), reset_before=False, bias_outside=False,
                 swap_z=False, candidate=np.tanh, no_b_hh=False):
    H = W_hh.shape[1]
    if no_b_hh:
        b_hh = np.zeros_like(b_hh)
    gi, gh = [W_ih[k * H:(k + 1) * H] for k in order], [W_hh[k * H:(k + 1) * H] for k in order]
    bi, bh = [b_ih[k * H:(k + 1) * H] for k in order], [b_hh[k * H:(k + 1) * H] for k in order]
    r = _sig(gi[0] @ x + bi[0] + gh[0] @ h + bh[0])
    z = _sig(gi[1] @ x + bi[1] + gh[1] @ h + bh[1])
    if reset_before:
        n = candidate(gi[2] @ x + bi[2] + gh[2] @ (r * h) + bh[2])
    elif bias_outside:
        n = candidate(gi[2] @ x + bi[2] + r * (gh[2] @ h) + bh[2])
    else:
        n = candidate(gi[2] @ x + bi[2] + r * (gh[2] @ h + bh[2]))
    return z * n + (1 - z) * h if swap_z else (1 - z) * n + z * h


def _gru_case(rng):
    I, H = int(rng.integers(1, 4)), int(rng.integers(2, 5))
    return (rng.normal(size=I), rng.normal(size=H), rng.normal(size=(3 * H, I)), rng.normal(size=(3 * H, H)),
            rng.normal(size=3 * H), rng.normal(size=3 * H))


def check_gru_step(fn) -> Feedback:
    """Exercise: one GRU update in torch's convention, for column vectors x (I,) and h (H,), with
    W_ih (3H, I), W_hh (3H, H), b_ih (3H,), b_hh (3H,) stacking the gates in the order (r, z, n), in the
    chapter's notation: r = σ(W_xr x + W_hr h + b_r), z = σ(...), n = tanh(W_xn x + b_n + r ⊙ (W_hn h + b_hn)),
    h' = (1 - z) ⊙ n + z ⊙ h (W_xn, b_n: the last thirds of W_ih, b_ih; W_hn, b_hn: those of W_hh, b_hh)."""
    hints = [
        (lambda *a: _gru_variant(*a, bias_outside=True),
         "b_hn belongs inside the reset product: n = tanh(W_xn x + b_n + r * (W_hn h + b_hn)), where "
         "W_hn h + b_hn are the last thirds of W_hh @ h + b_hh."),
        (lambda *a: _gru_variant(*a, reset_before=True),
         "You reset h before the matrix product, W_hn (r * h), as in Cho et al. (2014); torch and rnnlib "
         "reset after it: r * (W_hn h + b_hn)."),
        (lambda *a: _gru_variant(*a, swap_z=True),
         "z and 1 - z are swapped: z is the share of the OLD state, h' = (1 - z) * n + z * h."),
        (lambda *a: _gru_variant(*a, order=(1, 0, 2)),
         "The gates are stacked in the order (r, z, n): rows 0..H-1 are the reset gate, H..2H-1 the update gate."),
        (lambda *a: _gru_variant(*a, candidate=_sigmoid), sigmoid_for_tanh("the GRU's candidate n")),
        (lambda *a: _gru_variant(*a, no_b_hh=True),
         "The hidden-side bias b_hh is missing: torch's layout has two biases, b_ih and b_hh, and every gate adds "
         "both (b_r and b_z are the sums of their thirds; b_hn stays inside the reset product)."),
    ]
    return compare_functions(fn, _gru_step_ref, _cases(_gru_case, seed=5), name="gru_step", rtol=1e-9,
                             atol=1e-12, hints=hints)


def _forget_product_ref(f):
    import torch

    from rnnlib.theory.connectivity import forget_product

    return forget_product(torch.as_tensor(f)).numpy()


def _forget_case(rng):
    T, B, H = int(rng.integers(1, 8)), int(rng.integers(1, 3)), int(rng.integers(1, 4))
    return (rng.uniform(0.0, 1.0, size=(T, B, H)),)


def check_forget_product(fn) -> Feedback:
    """Exercise ``forget_path`` (ex-forget-product): the direct cell path. ``fn(f)`` takes forget-gate values
    f (T, B, H) and returns dc_t/dc_0 along the direct path for t = 0..T, i.e. the running products
    f_t ⊙ ... ⊙ f_1, with an all-ones entry for t = 0: shape (T+1, B, H)."""
    ones = lambda f: np.ones_like(f[:1])  # noqa: E731
    hints = [
        (lambda f: np.concatenate([ones(f), np.cumsum(f, axis=0)]),
         "This is a running sum; the Jacobians of successive steps multiply: use a running product."),
        (lambda f: np.concatenate([ones(f), np.cumprod(f[::-1], axis=0)]),
         "The product runs forward in time from step 1: f_1, f_2 f_1, f_3 f_2 f_1, ... (you reversed time)."),
        (lambda f: np.concatenate([ones(f), np.cumprod(f, axis=-1)]),
         "The running product runs over the units (the last axis); it runs over time, axis 0 of f (T, B, H): "
         "np.cumprod(f, axis=0)."),
        (lambda f: np.concatenate([ones(f), np.cumprod(f, axis=1)]),
         "The running product runs over the batch (axis 1); it runs over time, axis 0 of f (T, B, H): "
         "np.cumprod(f, axis=0)."),
        (lambda f: np.concatenate([np.cumprod(f, axis=0), ones(f)]),
         "The row of ones belongs first: entry 0 is t = 0, where dc_0/dc_0 is the identity (all ones); "
         "entry t is f_t ... f_1."),
        (lambda f: np.concatenate([ones(f), np.cumprod(1 - f, axis=0)]),
         "The forget gate f is the share of the cell that is *kept* (c_t = f_t c_{t-1} + ...): multiply f itself, "
         "not 1 - f."),
        (lambda f: np.concatenate([ones(f), ones(f), np.cumprod(f[:-1], axis=0)]),
         "Off by one step: your entry t is f_{t-1} ... f_1. Entry t is the product of t gates, f_t ... f_1 "
         "(entry 1 is f_1), so the last entry includes f_T."),
    ]
    return compare_functions(fn, _forget_product_ref, _cases(_forget_case, seed=6), name="forget_path",
                             rtol=1e-12, atol=1e-14, hints=hints)
