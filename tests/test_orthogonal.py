"""rnnlib.models.orthogonal: orthogonal/identity recurrences and norm preservation through Jacobian products."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch import nn

from rnnlib.models.orthogonal import (constrain_orthogonal, init_recurrent_, irnn, jacobian_product_svals,
                               orthogonal_rnn, orthogonality_error, random_orthogonal)
from rnnlib.models.elman import ElmanRNN


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 40), seed=st.integers(0, 10_000))
def test_random_orthogonal_is_orthogonal(n, seed):
    Q = random_orthogonal(n, seed=seed)
    assert orthogonality_error(Q) < 1e-12
    assert torch.allclose(Q @ Q.T, torch.eye(n, dtype=torch.float64), atol=1e-12)
    # an orthogonal map preserves every vector's norm
    v = torch.randn(n, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    assert torch.allclose(torch.linalg.norm(Q @ v, dim=0), torch.linalg.norm(v, dim=0), rtol=1e-12)


def test_orthogonality_error_detects_non_orthogonal():
    assert orthogonality_error(2 * torch.eye(3)) == pytest.approx(3.0)
    assert orthogonality_error(torch.tensor([[1.0, 1.0], [0.0, 1.0]])) > 0.5


def test_haar_sign_fix_spreads_the_determinant():
    dets = [float(torch.linalg.det(random_orthogonal(3, seed=s))) for s in range(200)]
    assert np.allclose(np.abs(dets), 1, atol=1e-12)
    assert 60 < sum(d > 0 for d in dets) < 140  # both components of O(3), about half each


@settings(max_examples=15, deadline=None)
@given(n=st.integers(2, 16), T=st.integers(1, 60), seed=st.integers(0, 1000))
def test_linear_orthogonal_products_preserve_norm_exactly(n, T, seed):
    """Linear RNN with orthogonal W: every singular value of J_T...J_1 = W^T is 1, for every T."""
    s = jacobian_product_svals(random_orthogonal(n, seed=seed), T, activation="linear", seed=seed)
    assert np.allclose(s["max"], 1, atol=1e-10) and np.allclose(s["min"], 1, atol=1e-10)


def test_nonlinearity_breaks_norm_preservation():
    Q = random_orthogonal(16, seed=0)
    tanh = jacobian_product_svals(Q, 40, activation="tanh", seed=0)
    assert np.all(np.diff(tanh["max"]) <= 1e-12)           # tanh' <= 1: never grows
    assert tanh["max"][-1] < 1e-2                           # and shrinks a lot over 40 steps
    # and the independent route: the same product built with autograd on the unrolled map
    W = Q.clone()
    gen = torch.Generator().manual_seed(0)
    xs = [torch.randn(16, generator=gen, dtype=torch.float64) for _ in range(5)]

    def unroll(h0):
        h = h0
        for x in xs:
            h = torch.tanh(W @ h + x)
        return h
    J = torch.autograd.functional.jacobian(unroll, torch.zeros(16, dtype=torch.float64))
    s5 = jacobian_product_svals(Q, 5, activation="tanh", seed=0)
    assert s5["max"][-1] == pytest.approx(float(torch.linalg.svdvals(J)[0]), rel=1e-10)
    assert s5["min"][-1] == pytest.approx(float(torch.linalg.svdvals(J)[-1]), rel=1e-10)


def test_contracting_and_expanding_linear_maps():
    Q = random_orthogonal(6, seed=1)
    assert jacobian_product_svals(0.9 * Q, 10)["max"][-1] == pytest.approx(0.9 ** 10, rel=1e-10)
    assert jacobian_product_svals(1.1 * Q, 10)["min"][-1] == pytest.approx(1.1 ** 10, rel=1e-10)


def test_init_recurrent_on_elman_and_torch():
    m = init_recurrent_(ElmanRNN(1, 8, 1, seed=0, dtype=torch.float64), "orthogonal", gain=1.0, seed=3)
    assert orthogonality_error(m.W_hh.detach()) < 1e-12
    r = init_recurrent_(nn.RNN(1, 8), "identity", gain=0.5, zero_bias=True)
    assert torch.equal(r.weight_hh_l0.detach(), 0.5 * torch.eye(8))
    assert float((r.bias_hh_l0.abs().sum() + r.bias_ih_l0.abs().sum()).detach()) == 0
    m = orthogonal_rnn(2, 10, 1, seed=4)
    assert orthogonality_error(m.W_hh.detach().double()) < 1e-6
    q = irnn(2, 10, 1, seed=4)
    assert q.activation == "relu" and torch.equal(q.W_hh.detach(), torch.eye(10))
    assert float(q.b_h.detach().abs().sum()) == 0 and float(q.W_xh.detach().abs().max()) < 0.01


def test_constrained_rnn_stays_orthogonal_under_training():
    torch.manual_seed(0)
    model = constrain_orthogonal(init_recurrent_(nn.RNN(1, 6, dtype=torch.float64), seed=0))
    W0 = model.weight_hh_l0.detach().clone()
    assert orthogonality_error(W0) < 1e-12
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(20):
        out, _ = model(torch.randn(10, 4, 1, dtype=torch.float64))
        loss = (out[-1] - 1).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    W = model.weight_hh_l0.detach()
    assert float((W - W0).abs().max()) > 1e-3          # it did move
    assert orthogonality_error(W) < 1e-10              # and stayed orthogonal


def test_bad_inputs():
    with pytest.raises(ValueError, match="n"):
        random_orthogonal(0)
    with pytest.raises(ValueError, match="scheme"):
        init_recurrent_(nn.RNN(1, 3), "unitary")
    with pytest.raises(ValueError, match="gain"):
        init_recurrent_(nn.RNN(1, 3), gain=-1)
    with pytest.raises(ValueError, match="model"):
        init_recurrent_(nn.Linear(3, 3))
    with pytest.raises(ValueError, match="activation"):
        jacobian_product_svals(torch.eye(3), 4, activation="softplus")
    with pytest.raises(ValueError, match="W must be a square"):
        jacobian_product_svals(torch.ones(2, 3), 4)
    with pytest.raises(ValueError, match="T"):
        jacobian_product_svals(torch.eye(3), 0)
    with pytest.raises(ValueError, match="W must be a square"):
        orthogonality_error(torch.ones(3))
