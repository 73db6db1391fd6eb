"""Exercise checkers for the chapters on remedies (4: clipping and the regulariser, 5: LSTM/GRU,
6: state-space models, 7: neural circuit policies).

They use the feedback framework of ``rnnlib.check`` and are re-exported there, so a reader always
calls ``rnnlib.check.check_<exercise>(answer)``. Tests: ``tests/test_check_ch4.py`` ... ``ch7.py``.
"""
from __future__ import annotations

import numpy as np

from .check import Feedback, _cases, check_value, compare_functions  # noqa: F401
from .device import numpy_rng

# --- Chapter 4: gradient clipping and the vanishing-gradient regulariser --------------------------------

def _clip_norm_ref(g, threshold):
    n = np.linalg.norm(g)
    return g * (threshold / n) if n >= threshold else g.copy()   # Algorithm 1: g <- threshold/||g|| g


def _clip_norm_case(rng):
    g = rng.normal(size=int(rng.integers(2, 9))) * rng.choice([0.05, 1.0, 30.0])
    return g, float(rng.choice([0.5, 1.0, 2.0]))


def check_clip_norm(fn) -> Feedback:
    """Exercise: norm clipping (Pascanu et al.'s Algorithm 1). ``fn(g, threshold)`` takes a gradient vector
    g (n,) and returns it rescaled to norm ``threshold`` if ||g|| >= threshold, unchanged otherwise."""
    hints = [
        (lambda g, c: np.clip(g, -c, c),
         "That is value clipping (each entry clamped), which turns the direction. Norm clipping rescales the whole "
         "vector: g * threshold / ||g||."),
        (lambda g, c: g * c / np.linalg.norm(g),
         "Rescale only when ||g|| >= threshold; a small gradient must pass unchanged (you lengthened it)."),
        (lambda g, c: g / np.linalg.norm(g) if np.linalg.norm(g) >= c else g,
         "The rescaled gradient should have norm threshold, not 1: multiply by threshold / ||g||."),
        (lambda g, c: g * np.linalg.norm(g) / c if np.linalg.norm(g) >= c else g,
         "The factor is upside down: use threshold / ||g||, which is below 1 when clipping."),
        (lambda g, c: g * c / np.sum(np.abs(g)) if np.linalg.norm(g) >= c else g,
         "Use the Euclidean norm np.linalg.norm(g), not the sum of absolute values."),
    ]
    cases = _cases(_clip_norm_case, n=10, seed=41) + [(np.array([3.0, 4.0]), 5.0)]
    return compare_functions(fn, _clip_norm_ref, cases, name="clip_norm", rtol=1e-10, atol=1e-12, hints=hints)


def _omega_term_ref(d, J):
    # Omega_k = (||d J||^2 / ||d||^2 - 1)^2 with d = dE/dx_{k+1} (row vector), J = dx_{k+1}/dx_k
    v = d @ J
    return (float(v @ v) / float(d @ d) - 1.0) ** 2


def _omega_term_case(rng):
    H = int(rng.integers(2, 7))
    return rng.normal(size=H), rng.normal(size=(H, H)) * rng.uniform(0.2, 1.5) / np.sqrt(H)


def check_omega_term(fn) -> Feedback:
    """Exercise: one term of Pascanu et al.'s regulariser as the authors' code computes it,
    Omega_k = (||d J||^2 / ||d||^2 - 1)^2, for the row vector d = dE/dx_{k+1} (H,) and the Jacobian
    J = dx_{k+1}/dx_k (H, H). ``fn(d, J)`` returns a float."""
    sq = lambda v: float(v @ v)  # noqa: E731
    hints = [
        (lambda d, J: (sq(J @ d) / sq(d) - 1.0) ** 2,
         "J @ d pushes d forward; the error travels backwards as a row vector: d @ J (= J.T @ d)."),
        (lambda d, J: (np.sqrt(sq(d @ J) / sq(d)) - 1.0) ** 2,
         "That is eq. 9 of the paper with plain norms; the authors' code (and eq. 10) uses squared norms: "
         "||d J||^2 / ||d||^2."),
        (lambda d, J: sq(d @ J) / sq(d) - 1.0,
         "Square the deviation: the regulariser penalises (ratio - 1)^2, so growing and shrinking both cost."),
        (lambda d, J: (sq(d @ J) - 1.0) ** 2,
         "Divide by ||d||^2: the ratio measures how much the Jacobian changes the error's norm, whatever its size."),
        (lambda d, J: (sq(d @ J) / sq(d) - 1.0) ** 2 / len(d),
         "No average over units here: Omega_k is one number per time step (the average is over steps)."),
    ]
    return compare_functions(fn, _omega_term_ref, _cases(_omega_term_case, n=8, seed=42), name="omega_term",
                             rtol=1e-9, atol=1e-12, hints=hints)


# --- Chapter 5: LSTM, GRU and orthogonal RNNs ------------------------------------------------------

def _gru_step_ref(x, h, W_ih, W_hh, b_ih, b_hh):
    # rnnlib.lstm.GRUCell loaded with torch's layout: gates (r, z, n), b_hn inside the reset product
    import torch

    from .lstm import GRUCell

    H, I = W_hh.shape[1], W_ih.shape[1]
    ref = torch.nn.GRUCell(I, H, dtype=torch.float64)
    with torch.no_grad():
        for name, value in (("weight_ih", W_ih), ("weight_hh", W_hh), ("bias_ih", b_ih), ("bias_hh", b_hh)):
            getattr(ref, name).copy_(torch.as_tensor(value))
    with torch.no_grad():
        return GRUCell.from_torch(ref)(torch.as_tensor(x), torch.as_tensor(h)).numpy()


def _sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def _gru_variant(x, h, W_ih, W_hh, b_ih, b_hh, *, order=(0, 1, 2), reset_before=False, bias_outside=False,
                 swap_z=False):
    H = W_hh.shape[1]
    gi, gh = [W_ih[k * H:(k + 1) * H] for k in order], [W_hh[k * H:(k + 1) * H] for k in order]
    bi, bh = [b_ih[k * H:(k + 1) * H] for k in order], [b_hh[k * H:(k + 1) * H] for k in order]
    r = _sig(gi[0] @ x + bi[0] + gh[0] @ h + bh[0])
    z = _sig(gi[1] @ x + bi[1] + gh[1] @ h + bh[1])
    if reset_before:
        n = np.tanh(gi[2] @ x + bi[2] + gh[2] @ (r * h) + bh[2])
    elif bias_outside:
        n = np.tanh(gi[2] @ x + bi[2] + r * (gh[2] @ h) + bh[2])
    else:
        n = np.tanh(gi[2] @ x + bi[2] + r * (gh[2] @ h + bh[2]))
    return z * n + (1 - z) * h if swap_z else (1 - z) * n + z * h


def _gru_case(rng):
    I, H = int(rng.integers(1, 4)), int(rng.integers(2, 5))
    return (rng.normal(size=I), rng.normal(size=H), rng.normal(size=(3 * H, I)), rng.normal(size=(3 * H, H)),
            rng.normal(size=3 * H), rng.normal(size=3 * H))


def check_gru_step(fn) -> Feedback:
    """Exercise: one GRU update in torch's convention, for column vectors x (I,) and h (H,), with
    W_ih (3H, I), W_hh (3H, H), b_ih (3H,), b_hh (3H,) stacking the gates in the order (r, z, n):
    r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(...), n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),
    h' = (1 - z) ⊙ n + z ⊙ h."""
    hints = [
        (lambda *a: _gru_variant(*a, bias_outside=True),
         "b_hn belongs inside the reset product: n = tanh(W_in x + b_in + r * (W_hn h + b_hn))."),
        (lambda *a: _gru_variant(*a, reset_before=True),
         "You reset h before the matrix product, W_hn (r * h), as in Cho et al. (2014); torch and rnnlib "
         "reset after it: r * (W_hn h + b_hn)."),
        (lambda *a: _gru_variant(*a, swap_z=True),
         "z and 1 - z are swapped: z is the share of the OLD state, h' = (1 - z) * n + z * h."),
        (lambda *a: _gru_variant(*a, order=(1, 0, 2)),
         "The gates are stacked in the order (r, z, n): rows 0..H-1 are the reset gate, H..2H-1 the update gate."),
    ]
    return compare_functions(fn, _gru_step_ref, _cases(_gru_case, seed=5), name="gru_step", rtol=1e-9,
                             atol=1e-12, hints=hints)


def _forget_product_ref(f):
    import torch

    from .connectivity import forget_product

    return forget_product(torch.as_tensor(f)).numpy()


def _forget_case(rng):
    T, B, H = int(rng.integers(1, 8)), int(rng.integers(1, 3)), int(rng.integers(1, 4))
    return (rng.uniform(0.0, 1.0, size=(T, B, H)),)


def check_forget_product(fn) -> Feedback:
    """Exercise: the direct cell path. ``fn(f)`` takes forget-gate values f (T, B, H) and returns
    dc_t/dc_0 along the direct path for t = 0..T, i.e. the running products f_t ⊙ ... ⊙ f_1, with
    an all-ones entry for t = 0: shape (T+1, B, H)."""
    ones = lambda f: np.ones_like(f[:1])  # noqa: E731
    hints = [
        (lambda f: np.concatenate([ones(f), np.cumsum(f, axis=0)]),
         "This is a running sum; the Jacobians of successive steps multiply: use a running product."),
        (lambda f: np.concatenate([ones(f), np.cumprod(f[::-1], axis=0)]),
         "The product runs forward in time from step 1: f_1, f_2 f_1, f_3 f_2 f_1, ... (you reversed time)."),
    ]
    return compare_functions(fn, _forget_product_ref, _cases(_forget_case, seed=6), name="forget_product",
                             rtol=1e-12, atol=1e-14, hints=hints)


# --- Chapter 6: state-space models and the LRU ---------------------------------------------------

def _scan_combine_ref(a1, b1, a2, b2):
    return a2 * a1, a2 * b1 + b2  # apply h -> a1 h + b1 first, then h -> a2 h + b2


def _scan_combine_case(rng):
    z = lambda: rng.standard_normal(4) + 1j * rng.standard_normal(4)  # noqa: E731
    return z(), z(), z(), z()


def _doubling_scan(combine, lam, b):
    """Hillis-Steele inclusive scan over the elements (lam, b_t), built on a given operator; returns the b part."""
    a, b, d = np.broadcast_to(lam, b.shape).copy(), b.copy(), 1
    while d < len(b):
        a_new, b_new = combine(a[:-d], b[:-d], a[d:], b[d:])
        a, b, d = np.concatenate([a[:d], a_new]), np.concatenate([b[:d], b_new]), 2 * d
    return b


def check_scan_combine(fn) -> Feedback:
    """Exercise: the associative operator of a linear recurrence, combine(a1, b1, a2, b2) -> (a, b), where (a, b)
    stands for the map h -> a h + b and (a1, b1) is applied first. Also runs a doubling scan built on it."""
    hints = [
        (lambda a1, b1, a2, b2: (a1 * a2, a1 * b2 + b1),
         "The maps are composed in the wrong order: (a1, b1) acts first, so h -> a2 (a1 h + b1) + b2."),
        (lambda a1, b1, a2, b2: (a2 * a1, b1 + b2),
         "The offset b1 of the first map must also be multiplied by a2 when the second map acts on it."),
        (lambda a1, b1, a2, b2: (a1 + a2, a2 * b1 + b2),
         "Multipliers multiply: applying h -> a1 h twice in a row gives a1^2 h, not 2 a1 h."),
    ]
    fb = compare_functions(fn, _scan_combine_ref, _cases(_scan_combine_case, n=5, seed=6), name="combine",
                           rtol=1e-10, atol=1e-12, hints=hints)
    if not fb:
        return fb
    rng = numpy_rng(7)
    lam = 0.95 * np.exp(1j * rng.uniform(-3, 3, 3))
    b = rng.standard_normal((37, 3)) + 1j * rng.standard_normal((37, 3))
    h, loop = np.zeros(3, dtype=complex), []
    for b_t in b:
        h = lam * h + b_t  # h_t = lam h_{t-1} + b_t
        loop.append(h)
    if not np.allclose(_doubling_scan(fn, lam, b), np.array(loop), rtol=1e-9, atol=1e-9):
        return Feedback(False, "`combine` matches on single pairs, but a doubling scan built on it does not reproduce "
                               "the sequential loop. Does it work element-wise on arrays?")
    return Feedback(True, "`combine` composes the maps correctly, and a doubling scan built on it reproduces the "
                          "sequential loop over 37 steps.")


def _white_state_ref(lam):
    return 1.0 / (1.0 - np.abs(lam) ** 2)  # sum_k |lam|^{2k}


def _white_state_case(rng):
    r = rng.uniform(0.0, 0.995, 6)
    return (r * np.exp(1j * rng.uniform(-np.pi, np.pi, 6)),)


def check_white_noise_state(fn) -> Feedback:
    """Exercise: E|h|^2 in the stationary regime of h_{t+1} = lam h_t + x_t for white, unit-variance real x_t and
    complex |lam| < 1, as a function of an array of lam."""
    hints = [
        (lambda lam: 1.0 / (1.0 - lam**2), "For complex lam the terms are |lam^k|^2 = |lam|^(2k): use the modulus."),
        (lambda lam: 1.0 / (1.0 - np.abs(lam)), "The sum is geometric in |lam|^2, not in |lam| (you need E|h|^2)."),
        (lambda lam: np.abs(lam) ** 2 / (1.0 - np.abs(lam) ** 2),
         "Off by one term: h_{t+1} contains x_t with weight lam^0 = 1, so the sum starts at k = 0."),
        (lambda lam: 1.0 / np.abs(1.0 - lam) ** 2,
         "That is the answer for a constant input (rho = 1), where all cross terms survive. For white noise they vanish."),
    ]
    return compare_functions(fn, _white_state_ref, _cases(_white_state_case, n=5, seed=8), name="white_noise_state",
                             rtol=1e-8, atol=1e-10, hints=hints)


# --- Chapter 7: neural circuit policies ------------------------------------------------------------------

def _fused_step_ref(v, dt, cm, g_leak, v_leak, g, E):
    # v' = (C/dt v + g_leak v_leak + sum_k g_k E_k) / (C/dt + g_leak + sum_k g_k)
    return (cm / dt * v + g_leak * v_leak + np.sum(g * E)) / (cm / dt + g_leak + np.sum(g))


def _fused_step_case(rng):
    k = int(rng.integers(1, 6))
    return (float(rng.uniform(-1, 1)), float(rng.uniform(0.05, 1.0)), float(rng.uniform(0.3, 1.5)),
            float(rng.uniform(0.1, 2.0)), float(rng.uniform(-0.3, 0.3)), rng.uniform(0.0, 3.0, k),
            rng.choice([-1.0, 1.0], k))


def check_fused_step(fn) -> Feedback:
    """Exercise: one fused semi-implicit Euler step of one LTC neuron,
    v' = (C/dt v + g_leak v_leak + sum_k g_k E_k) / (C/dt + g_leak + sum_k g_k)."""
    hints = [
        (lambda v, dt, cm, gl, vl, g, E: v + dt / cm * (gl * (vl - v) + np.sum(g * (E - v))),
         "That is the explicit Euler step. The fused step treats the decay implicitly: solve "
         "C (v' - v)/dt = g_leak (v_leak - v') + sum g (E - v') for v'."),
        (lambda v, dt, cm, gl, vl, g, E: (cm * v + gl * vl + np.sum(g * E)) / (cm + gl + np.sum(g)),
         "The capacitance must be divided by the step: the weight of the old state is C/dt, not C."),
        (lambda v, dt, cm, gl, vl, g, E: (cm / dt * v + np.sum(g * E)) / (cm / dt + np.sum(g)),
         "The leak is missing: add g_leak v_leak above and g_leak below."),
        (lambda v, dt, cm, gl, vl, g, E: (cm / dt * v + gl * vl + np.sum(g * E)) / (cm / dt + gl),
         "The synaptic conductances belong in the denominator too (sum_k g_k): they pull v towards E_k."),
    ]
    return compare_functions(fn, _fused_step_ref, _cases(_fused_step_case, n=8, seed=7), name="fused_step",
                             rtol=1e-7, atol=1e-10, hints=hints)


def _count_synapses_ref(adjacency, sensory_adjacency, n_motor, n_command):
    A, S = np.abs(adjacency), np.abs(sensory_adjacency)
    mot = slice(0, n_motor)                              # neuron ids: [motor | command | inter]
    com = slice(n_motor, n_motor + n_command)
    inter = slice(n_motor + n_command, A.shape[0])
    return np.array([S[:, inter].sum(), A[inter, com].sum(), A[com, com].sum(), A[com, mot].sum()])


def _count_synapses_case(rng):
    from .wiring import AutoNCP

    units = int(rng.integers(10, 30))
    out = int(rng.integers(1, 4))
    w = AutoNCP(units, out, float(rng.uniform(0.2, 0.8)), seed=int(rng.integers(0, 10**6))).build(int(rng.integers(2, 6)))
    return w.adjacency.copy(), w.sensory_adjacency.copy(), out, len(w.command_ids)


def check_count_synapses(fn) -> Feedback:
    """Exercise: count the synapses of an NCP wiring per block, as an array
    [sensory -> inter, inter -> command, command -> command, command -> motor]."""
    hints = [
        (lambda A, S, m, c: _count_synapses_ref(A.T, S, m, c),
         "Rows are the sources and columns the targets: adjacency[i, j] is the synapse i -> j."),
        (lambda A, S, m, c: np.array([S[:, m + c:].sum(), A[m + c:, m:m + c].sum(), A[m:m + c, m:m + c].sum(),
                                      A[m:m + c, :m].sum()]),
         "Inhibitory synapses are stored as -1: count |entries| (or entries != 0), do not add the signs."),
    ]
    return compare_functions(fn, _count_synapses_ref, _cases(_count_synapses_case, n=6, seed=3),
                             name="count_synapses", rtol=0, atol=0, hints=hints)
