"""rnnlib.models.lstm: the gate-by-gate LSTM and GRU equal torch's fused nn.LSTM / nn.GRU given the same weights."""
import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch import nn

from rnnlib.models.lstm import GRU, LSTM, GRUCell, LSTMCell, set_forget_bias
from rnnlib.check import ch5_gates

TOL = {torch.float64: 1e-12, torch.float32: 1e-6}
sizes = st.tuples(st.integers(1, 9), st.integers(1, 4), st.integers(1, 4), st.integers(1, 7))  # T, B, I, H


def _max_diff(a, b):
    return float((a - b).detach().abs().max())


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@settings(max_examples=15, deadline=None)
@given(shape=sizes, seed=st.integers(0, 10_000))
def test_lstm_equals_torch(dtype, shape, seed):
    T, B, I, H = shape
    torch.manual_seed(seed)
    ref = nn.LSTM(I, H, dtype=dtype)
    with torch.no_grad():  # make the forget slices matter more than U(-1/sqrt(H), 1/sqrt(H)) would
        ref.bias_ih_l0[H:2 * H].add_(1.0)
    head = nn.Linear(H, 2, dtype=dtype)
    u = torch.randn(T, B, I, dtype=dtype)
    h0, c0 = torch.randn(1, B, H, dtype=dtype), torch.randn(1, B, H, dtype=dtype)
    out, (hT, cT) = ref(u, (h0, c0))
    model = LSTM.from_torch(ref, head, readout="all")
    y, (hs, cs) = model(u, (h0[0], c0[0]))
    assert hs.shape == cs.shape == (T + 1, B, H)
    assert _max_diff(hs[1:], out) < TOL[dtype]
    assert _max_diff(hs[-1], hT[0]) < TOL[dtype]
    assert _max_diff(cs[-1], cT[0]) < TOL[dtype]
    assert _max_diff(y, head(out)) < TOL[dtype]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@settings(max_examples=15, deadline=None)
@given(shape=sizes, seed=st.integers(0, 10_000))
def test_gru_equals_torch(dtype, shape, seed):
    T, B, I, H = shape
    torch.manual_seed(seed)
    ref = nn.GRU(I, H, dtype=dtype)
    u = torch.randn(T, B, I, dtype=dtype)
    h0 = torch.randn(1, B, H, dtype=dtype)
    out, hT = ref(u, h0)
    y, hs = GRU.from_torch(ref)(u, h0[0])
    assert hs.shape == (T + 1, B, H)
    assert _max_diff(hs[1:], out) < TOL[dtype]
    assert _max_diff(y, hT[0]) < TOL[dtype]


def test_gradients_equal_torch():
    torch.manual_seed(1)
    u = torch.randn(12, 3, 2, dtype=torch.float64)
    for ref, cls in ((nn.LSTM(2, 5, dtype=torch.float64), LSTM), (nn.GRU(2, 5, dtype=torch.float64), GRU)):
        x1, x2 = u.clone().requires_grad_(), u.clone().requires_grad_()
        (ref(x1)[0][-1] ** 2).sum().backward()
        (cls.from_torch(ref)(x2)[0] ** 2).sum().backward()
        assert _max_diff(x1.grad, x2.grad) < 1e-12
        assert float(x1.grad.abs().max()) > 1e-6  # the comparison is not between zeros


def test_cells_from_torch_cells():
    torch.manual_seed(2)
    x, h, c = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 6, dtype=torch.float64), torch.randn(4, 6, dtype=torch.float64)
    ref = nn.LSTMCell(3, 6, dtype=torch.float64)
    h1, c1 = ref(x, (h, c))
    mh, mc = LSTMCell.from_torch(ref)(x, (h, c))
    assert _max_diff(h1, mh) < 1e-12 and _max_diff(c1, mc) < 1e-12
    gref = nn.GRUCell(3, 6, dtype=torch.float64)
    assert _max_diff(gref(x, h), GRUCell.from_torch(gref)(x, h)) < 1e-12


def test_second_layer_and_no_bias():
    torch.manual_seed(3)
    ref = nn.LSTM(2, 4, num_layers=2, dtype=torch.float64)
    u = torch.randn(6, 2, 2, dtype=torch.float64)
    out, _ = ref(u)
    first = LSTM.from_torch(ref)
    second = LSTM(4, 4, dtype=torch.float64)
    second.cell = LSTMCell.from_torch(ref, layer=1)
    _, (h1, _) = first(u)
    _, (h2, _) = second(h1[1:])
    assert _max_diff(h2[1:], out) < 1e-12
    ref = nn.GRU(2, 4, bias=False, dtype=torch.float64)
    assert _max_diff(GRU.from_torch(ref, readout="all")(u)[0], ref(u)[0]) < 1e-12


def test_gru_reset_bias_sits_inside_the_reset_product():
    """Moving b_hn outside r * (.) (i.e. into b_n) changes the output: the placement is tested, not assumed."""
    torch.manual_seed(4)
    ref = nn.GRU(2, 5, dtype=torch.float64)
    u = torch.randn(8, 3, 2, dtype=torch.float64)
    good = GRU.from_torch(ref, readout="all")
    wrong = GRU.from_torch(ref, readout="all")
    with torch.no_grad():
        wrong.cell.b_n.add_(wrong.cell.b_hn)
        wrong.cell.b_hn.zero_()
    assert _max_diff(good(u)[0], ref(u)[0]) < 1e-12
    assert _max_diff(wrong(u)[0], ref(u)[0]) > 1e-4


def test_gate_values_match_the_equations():
    torch.manual_seed(5)
    cell = LSTMCell(3, 4, seed=0, dtype=torch.float64)
    x, h, c = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64)
    with torch.no_grad():
        v = cell.gate_values(x, (h, c))
    assert torch.allclose(v["c"], v["f"] * c + v["i"] * v["g"], atol=1e-14)
    assert torch.allclose(v["h"], v["o"] * torch.tanh(v["c"]), atol=1e-14)
    for k in "ifo":
        assert float(v[k].min()) > 0 and float(v[k].max()) < 1
    gcell = GRUCell(3, 4, seed=0, dtype=torch.float64)
    gv = gcell.gate_values(x, h)
    assert torch.allclose(gv["h"], (1 - gv["z"]) * gv["n"] + gv["z"] * h, atol=1e-14)


def test_lstm_1997_accumulates():
    cell = LSTMCell(2, 3, forget_gate=False, seed=0, dtype=torch.float64)
    names = {n for n, _ in cell.named_parameters()}
    assert not any(n.endswith("f") for n in names) and len(names) == 9
    u = torch.randn(20, 2, 2, dtype=torch.float64)
    h, c = cell.init_state(u[0])
    for t in range(20):
        v = cell.gate_values(u[t], (h, c))
        assert torch.equal(v["f"], torch.ones_like(c))
        assert torch.allclose(v["c"] - c, v["i"] * v["g"], atol=1e-14)   # c_t = c_{t-1} + i_t g_t
        h, c = v["h"], v["c"]
    with pytest.raises(ValueError, match="forget_bias"):
        cell.set_forget_bias(1.0)


def test_1997_state_grows_on_a_constant_stream_but_not_with_forget_gate():
    u = torch.ones(400, 1, 1, dtype=torch.float64)
    old = LSTM(1, 4, forget_gate=False, seed=0, dtype=torch.float64)
    new = LSTM(1, 4, forget_bias=0.0, seed=0, dtype=torch.float64)
    with torch.no_grad():
        c_old, c_new = old(u)[1][1], new(u)[1][1]
    assert float(c_old[-1].abs().max()) > 5 * float(c_old[40].abs().max())   # ~linear growth, 10x in theory
    # with the gate: |pre-activation of f| <= (|u| + sum|h|) / sqrt(H) = 2.5, so f <= σ(2.5) and
    # |c_t| <= f |c_{t-1}| + 1 stays below 1 / (1 - σ(2.5)) for ever
    assert float(c_new.abs().max()) < 1.0 / (1 - torch.sigmoid(torch.tensor(2.5)))


def test_set_forget_bias_torch_and_rnnlib():
    ref = nn.LSTM(3, 5, num_layers=2)
    set_forget_bias(ref, 2.5)
    for layer in (0, 1):
        b = LSTMCell.from_torch(ref, layer=layer).b_f
        assert torch.allclose(b, torch.full_like(b, 2.5))
    cell = nn.LSTMCell(3, 5)
    set_forget_bias(cell, -1.0)
    assert torch.allclose(LSTMCell.from_torch(cell).b_f, torch.full((5,), -1.0))
    model = LSTM(3, 5, 1, forget_bias=4.0)
    assert torch.equal(model.cell.b_f, torch.full((5,), 4.0))
    assert model.cell.b_i.abs().max() < 1 / 5 ** 0.5 + 1e-7  # the other biases keep the default init


def test_seeds_are_reproducible():
    a, b, c = LSTM(2, 3, 1, seed=7), LSTM(2, 3, 1, seed=7), LSTM(2, 3, 1, seed=8)
    for (n, p), q, r in zip(a.named_parameters(), b.parameters(), c.parameters()):
        assert torch.equal(p, q)
        if n != "b_y":
            assert not torch.equal(p, r)


def test_readouts_and_shapes():
    u = torch.randn(7, 3, 2)
    y, (h, c) = LSTM(2, 4, 5)(u)
    assert y.shape == (3, 5) and h.shape == c.shape == (8, 3, 4)
    y, h = GRU(2, 4, readout="all")(u)
    assert y.shape == (7, 3, 4) and h.shape == (8, 3, 4)


def test_bad_inputs():
    with pytest.raises(ValueError, match="n_hidden"):
        LSTMCell(2, 0)
    with pytest.raises(ValueError, match="n_in"):
        GRUCell(1.5, 3)
    with pytest.raises(ValueError, match="readout"):
        LSTM(2, 3, 1, readout="first")
    with pytest.raises(ValueError, match="n_out"):
        GRU(2, 3, -1)
    with pytest.raises(ValueError, match="u must have shape"):
        LSTM(2, 3)(torch.randn(4, 2))
    with pytest.raises(ValueError, match="x must have 2 features"):
        GRUCell(2, 3)(torch.randn(4, 3))
    with pytest.raises(ValueError, match="module"):
        LSTMCell.from_torch(nn.GRU(2, 3))
    with pytest.raises(ValueError, match="module"):
        GRU.from_torch(nn.GRU(2, 3, bidirectional=True))
    with pytest.raises(ValueError, match="layer"):
        LSTMCell.from_torch(nn.LSTM(2, 3), layer=1)
    with pytest.raises(ValueError, match="forget_bias"):
        LSTM(2, 3, forget_bias=float("nan"))
    with pytest.raises(ValueError, match="model"):
        set_forget_bias(nn.GRU(2, 3), 1.0)
    with pytest.raises(ValueError, match="seed"):
        LSTM(2, 3, seed=-1)


def test_gate_trajectory_replays_the_forward_pass():
    model = LSTM(2, 3, 1, seed=0, dtype=torch.float64)
    u = torch.randn(6, 4, 2, dtype=torch.float64)
    _, (hs, cs) = model(u)
    tr = model.gate_trajectory(u)
    assert tr["f"].shape == (6, 4, 3)
    assert torch.allclose(tr["h"], hs[1:], atol=1e-14) and torch.allclose(tr["c"], cs[1:], atol=1e-14)
    assert torch.allclose(tr["c"][1:], tr["f"][1:] * tr["c"][:-1] + tr["i"][1:] * tr["g"][1:], atol=1e-14)


def test_gru_gate_trajectory_replays_the_forward_pass():
    model = GRU(2, 3, 1, seed=0, dtype=torch.float64)
    u = torch.randn(6, 4, 2, dtype=torch.float64)
    _, hs = model(u)
    tr = model.gate_trajectory(u)
    assert set(tr) == {"r", "z", "n", "h"} and tr["z"].shape == (6, 4, 3)
    assert torch.allclose(tr["h"], hs[1:], atol=1e-14)
    h_prev = hs[:-1]
    assert torch.allclose(tr["h"], (1 - tr["z"]) * tr["n"] + tr["z"] * h_prev, atol=1e-14)
    with pytest.raises(ValueError):
        model.gate_trajectory(torch.randn(6, 4, 5, dtype=torch.float64))


def test_check_gru_step_accepts_the_right_answer_and_names_slips():
    import numpy as np

    from rnnlib import check

    assert check.check_gru_step(lambda *a: ch5_gates._gru_variant(*a))
    slips = {"b_hn belongs inside": dict(bias_outside=True), "Cho et al.": dict(reset_before=True),
             "swapped": dict(swap_z=True), "order (r, z, n)": dict(order=(1, 0, 2))}
    for message, kw in slips.items():
        fb = check.check_gru_step(lambda *a, kw=kw: ch5_gates._gru_variant(*a, **kw))
        assert not fb and message in fb.message
    assert not check.check_gru_step(lambda x, h, *w: np.zeros_like(h))
    assert not check.check_gru_step(None)
