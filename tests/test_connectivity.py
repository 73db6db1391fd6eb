"""rnnlib.theory.connectivity: ||dy_T/du_t|| and ||dc_t/dc_0||, checked against torch.autograd.functional.jacobian."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch import nn

from rnnlib.theory.connectivity import cell_path_norms, connectivity, forget_product, lookback
from rnnlib.models.lstm import GRU, LSTM, LSTMCell
from rnnlib.models.elman import ElmanRNN


def _jacobian_norms(fn, u):
    """Reference: the full Jacobian of every sequence's final output, one sequence at a time."""
    T, B, _ = u.shape
    out = np.zeros((T, B))
    for b in range(B):
        J = torch.autograd.functional.jacobian(lambda x: fn(x[:, None, :])[0], u[:, b, :])  # (O, T, I)
        out[:, b] = torch.linalg.vector_norm(J, dim=(0, 2)).numpy()
    return out


@pytest.mark.parametrize("make", [
    lambda: LSTM(2, 5, 3, seed=0, dtype=torch.float64),
    lambda: GRU(2, 5, 3, seed=1, dtype=torch.float64),
    lambda: ElmanRNN(2, 5, 3, seed=2, dtype=torch.float64),
])
def test_connectivity_matches_jacobian(make):
    model = make()
    u = torch.randn(9, 4, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    ref = _jacobian_norms(lambda x: model(x)[0], u)
    got = connectivity(model, u, reduce="none")
    assert got.shape == (9, 4)
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(connectivity(model, u), ref.mean(axis=1), rtol=1e-10)


def test_connectivity_of_a_torch_module_and_a_lambda():
    torch.manual_seed(0)
    rnn, head = nn.GRU(1, 4, dtype=torch.float64), nn.Linear(4, 1, dtype=torch.float64)
    fn = lambda x: head(rnn(x)[0][-1])  # noqa: E731
    u = torch.randn(12, 3, 1, dtype=torch.float64)
    np.testing.assert_allclose(connectivity(fn, u), _jacobian_norms(fn, u).mean(1), rtol=1e-10)


def test_connectivity_of_a_delay_line_is_exact():
    """y_T = sum_k a_k u_{T-k}: the connectivity is |a_k| at lag k and zero elsewhere."""
    a = torch.tensor([0.5, -2.0, 0.0, 3.0], dtype=torch.float64)

    def fir(u):
        return sum(a[k] * u[-1 - k] for k in range(4))           # (B, 1)
    conn = connectivity(fir, torch.randn(10, 2, 1, dtype=torch.float64))
    np.testing.assert_allclose(conn[::-1][:4], a.abs().numpy())
    assert np.all(conn[::-1][4:] == 0)
    assert lookback(conn) == 3


def test_lookback():
    conn = np.array([1e-5, 1e-3, 0.05, 0.5, 1.0])
    assert lookback(conn, threshold=0.01) == 2
    assert lookback(conn, threshold=0.5) == 1
    assert lookback(np.zeros(4)) == 0


@settings(max_examples=20, deadline=None)
@given(T=st.integers(1, 12), B=st.integers(1, 3), H=st.integers(1, 5), seed=st.integers(0, 1000))
def test_forget_product_is_the_cumulative_product(T, B, H, seed):
    f = torch.rand(T, B, H, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    P = forget_product(f)
    assert P.shape == (T + 1, B, H) and torch.equal(P[0], torch.ones(B, H, dtype=torch.float64))
    ref = torch.ones(B, H, dtype=torch.float64)
    for t in range(T):
        ref = ref * f[t]
        assert torch.allclose(P[t + 1], ref, rtol=1e-14)


@pytest.mark.parametrize("forget_gate", [True, False])
def test_cell_path_all_paths_matches_autograd_jacobian(forget_gate):
    cell = LSTMCell(2, 5, seed=3, forget_gate=forget_gate, forget_bias=1.0 if forget_gate else None,
                    dtype=torch.float64)
    u = torch.randn(8, 3, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    got = cell_path_norms(cell, u)
    assert got.shape == (9,) and got[0] == 1

    def c_T(c0, T, b):
        h, c = torch.zeros(1, 5, dtype=torch.float64), c0[None]
        for t in range(T):
            h, c = cell(u[t, b:b + 1], (h, c))
        return c[0]
    for T in (1, 4, 8):
        ref = np.mean([float(torch.linalg.matrix_norm(torch.autograd.functional.jacobian(
            lambda c0: c_T(c0, T, b), torch.zeros(5, dtype=torch.float64)), ord=2)) for b in range(3)])
        assert got[T] == pytest.approx(ref, rel=1e-10)


def test_direct_path_is_max_forget_product():
    cell = LSTMCell(1, 4, seed=0, dtype=torch.float64)
    with torch.no_grad():
        cell.W_xf.zero_()
        cell.W_hf.zero_()
        cell.b_f.copy_(torch.tensor([-1.0, 0.0, 2.0, 3.0], dtype=torch.float64))
    got = cell_path_norms(cell, torch.randn(30, 2, 1, dtype=torch.float64), paths="direct")
    f_max = float(torch.sigmoid(torch.tensor(3.0, dtype=torch.float64)))
    np.testing.assert_allclose(got, f_max ** np.arange(31), rtol=1e-12)


def test_constant_error_carousel_preserves_the_norm_exactly():
    """1997 LSTM whose gates do not read h: dc_T/dc_0 = I, so the norm is 1 for every T."""
    cell = LSTMCell(2, 6, forget_gate=False, seed=0, dtype=torch.float64)
    with torch.no_grad():
        for k in "igo":
            getattr(cell, f"W_h{k}").zero_()
    u = torch.randn(50, 2, 2, dtype=torch.float64)
    assert np.array_equal(cell_path_norms(cell, u), np.ones(51))
    # with the recurrent gate weights back, other paths appear and the norm moves away from 1
    cell2 = LSTMCell(2, 6, forget_gate=False, seed=0, dtype=torch.float64)
    assert np.abs(cell_path_norms(cell2, u)[1:] - 1).max() > 1e-3


def test_torch_cell_is_accepted():
    ref = nn.LSTMCell(2, 3, dtype=torch.float64)
    u = torch.randn(5, 2, 2, dtype=torch.float64)
    np.testing.assert_allclose(cell_path_norms(ref, u), cell_path_norms(LSTMCell.from_torch(ref), u), rtol=1e-14)


def test_bad_inputs():
    model = LSTM(1, 3, 1)
    with pytest.raises(ValueError, match="u must have shape"):
        connectivity(model, torch.randn(5, 1))
    with pytest.raises(ValueError, match="reduce"):
        connectivity(model, torch.randn(5, 2, 1), reduce="sum")
    with pytest.raises(ValueError, match="model_fn must return"):
        connectivity(lambda u: u, torch.randn(5, 2, 1))
    with pytest.raises(ValueError, match="threshold"):
        lookback(np.ones(3), threshold=0)
    with pytest.raises(ValueError, match="conn"):
        lookback(np.ones((2, 2)))
    with pytest.raises(ValueError, match="f must have shape"):
        forget_product(torch.rand(3, 4))
    with pytest.raises(ValueError, match="paths"):
        cell_path_norms(LSTMCell(1, 2), torch.randn(3, 1, 1), paths="some")
    with pytest.raises(ValueError, match="cell"):
        cell_path_norms(nn.GRUCell(1, 2), torch.randn(3, 1, 1))


def test_check_forget_product_accepts_the_right_answer_and_names_slips():
    from rnnlib import check

    ones = lambda f: np.ones_like(f[:1])  # noqa: E731
    assert check.check_forget_product(lambda f: np.concatenate([ones(f), np.cumprod(f, 0)]))
    fb = check.check_forget_product(lambda f: np.concatenate([ones(f), np.cumsum(f, 0)]))
    assert not fb and "running sum" in fb.message
    fb = check.check_forget_product(lambda f: np.concatenate([ones(f), np.cumprod(f[::-1], 0)]))
    assert not fb and "reversed time" in fb.message
    fb = check.check_forget_product(lambda f: np.cumprod(f, 0))
    assert not fb and "shape" in fb.message
