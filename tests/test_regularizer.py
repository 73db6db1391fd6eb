"""rnnlib.remedies.regularizer: Omega as in the authors' code, checked against a direct evaluation of eq. 10 with
autograd Jacobians, its closed-form gradient against autograd, and the before_step hook."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from rnnlib.remedies import clip as C
from rnnlib.tasks import pathological as P
from rnnlib.remedies import regularizer as R
from rnnlib.models.elman import ElmanRNN


def random_orthogonal(n, seed):
    g = torch.Generator().manual_seed(seed)
    q, r = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))
    return q * torch.sign(torch.diagonal(r))


def batch(task, B=6, seed=0):
    u, t = task.sample(B, torch.Generator().manual_seed(seed))
    return u.double(), t


def unrolled_with_probes(model, u):
    """States h_t = step(h_{t-1}) + z_t with zero probes z_t: dE/dz_t is the TOTAL derivative dE/dh_t."""
    T, B, _ = u.shape
    z = torch.zeros(T + 1, B, model.n_hidden, dtype=torch.float64, requires_grad=True)
    h = z[0] + 0
    hs = [h]
    for t in range(T):
        h = model.step(h, u[t]) + z[t + 1]
        hs.append(h)
    return torch.stack(hs), z


def eq10_direct(model, task, u, target):
    """sum_k (||d_{k+1} J_{k+1}||^2 / ||d_{k+1}||^2 - 1)^2 / (number of valid steps), J from autograd."""
    h, z = unrolled_with_probes(model, u)
    y = h[-1] @ model.W_hy.T + model.b_y if model.readout == "last" else h[1:] @ model.W_hy.T + model.b_y
    (d,) = torch.autograd.grad(task.loss(y, target), z)
    total, n = 0.0, 0.0
    B = u.shape[1]
    for t in range(1, u.shape[0] + 1):
        for b in range(B):
            step = lambda hp: model.step(hp[None], u[t - 1, b][None])[0]
            J = torch.autograd.functional.jacobian(step, h[t - 1, b].detach())   # dh_t / dh_{t-1} (H, H)
            dt = d[t, b]
            if float(dt @ dt) < 1e-20:       # the code's bound: such a pair is not a valid step
                continue
            total += (float((dt @ J) @ (dt @ J)) / float(dt @ dt) - 1.0) ** 2 / B
            n += 1.0 / B
    return total / n, d


@pytest.mark.parametrize("name, scheme", [("temporal_order", "smart_tanh"), ("addition", "sigmoid"),
                                          ("memorization", "basic_tanh")])
def test_omega_matches_direct_eq10(name, scheme):
    task = P.make(name, 10) if name != "memorization" else P.make(name, 3, n_values=2, n_pos=2)
    model = C.pascanu_rnn(task, scheme, n_hidden=7, seed=1, dtype=torch.float64)
    with torch.no_grad():
        model.W_hh.mul_(30.0)   # away from the tiny init, so the ratios differ clearly from 1
    u, t = batch(task, 4)
    want, d_direct = eq10_direct(model, task, u, t)
    out = R.state_grads(model, task, u, t)
    assert torch.allclose(out["d"], d_direct.detach(), rtol=1e-10, atol=1e-14)   # total derivatives
    assert out["omega"] == pytest.approx(want, rel=1e-9)
    assert want > 1e-3


def test_omega_is_zero_for_linear_orthogonal_rnn():
    task = P.TemporalOrder(15)
    model = ElmanRNN(6, 9, 4, activation="linear", dtype=torch.float64, seed=0)
    with torch.no_grad():
        model.W_hh.copy_(random_orthogonal(9, 2))
    u, t = batch(task)
    out = R.state_grads(model, task, u, t)
    assert out["omega"] == pytest.approx(0.0, abs=1e-24)
    assert torch.allclose(out["ratios"], torch.ones_like(out["ratios"]), atol=1e-12)
    _, g = R.omega_grad(out["d"], out["h"], model.W_hh, "linear")
    assert float(g.abs().max()) < 1e-12
    with torch.no_grad():                    # a non-orthogonal matrix is penalised
        model.W_hh.mul_(0.5)
    assert R.state_grads(model, task, u, t)["omega"] == pytest.approx(0.75 ** 2, rel=1e-9)  # r = 0.25


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 1000), scale=st.floats(0.1, 3.0), act=st.sampled_from(["tanh", "sigmoid"]))
def test_closed_form_gradient_equals_autograd(seed, scale, act):
    g = torch.Generator().manual_seed(seed)
    T, B, H = 5, 3, 4
    W = torch.randn(H, H, generator=g, dtype=torch.float64) * scale
    h = torch.tanh(torch.randn(T + 1, B, H, generator=g, dtype=torch.float64))
    if act == "sigmoid":
        h = (h + 1) / 2
    d = torch.randn(T + 1, B, H, generator=g, dtype=torch.float64)
    d[2, 1] = 0.0                                         # an invalid (time, example) pair
    Wv = W.clone().requires_grad_(True)
    value, _ = R.omega(d, h, Wv, act)
    (want,) = torch.autograd.grad(value, Wv)
    v2, got = R.omega_grad(d, h, W, act)
    assert float(v2) == pytest.approx(float(value.detach()), rel=1e-12)
    assert torch.allclose(got, want, rtol=1e-9, atol=1e-14)
    assert float(value.detach()) >= 0
    v3, _ = R.omega(7.5 * d, h, W, act)                  # r is invariant to the scale of the error
    assert float(v3) == pytest.approx(float(value.detach()), rel=1e-9)


def test_mean_over_valid_steps_and_bound():
    g = torch.Generator().manual_seed(0)
    T, B, H = 4, 2, 3
    W = 2.0 * torch.eye(H, dtype=torch.float64)           # linear: r = 4 for every valid step
    h = torch.zeros(T + 1, B, H, dtype=torch.float64)
    d = torch.randn(T + 1, B, H, generator=g, dtype=torch.float64)
    d[1:3] = 0.0                                          # steps 1, 2: ||d||^2 < bound -> r = 1, not valid
    value, frac = R.omega(d, h, W, "linear")
    assert float(value) == pytest.approx(9.0)             # (4 - 1)^2 averaged over the 2 valid steps
    assert float(frac) == pytest.approx(0.5)
    assert torch.isnan(R.step_ratios(d, h, W, "linear")[:2]).all()


def test_stacked_members_equal_single():
    g = torch.Generator().manual_seed(3)
    T, M, B, H = 6, 3, 4, 5
    W = torch.randn(M, H, H, generator=g, dtype=torch.float64)
    h = torch.tanh(torch.randn(T + 1, M, B, H, generator=g, dtype=torch.float64))
    d = torch.randn(T + 1, M, B, H, generator=g, dtype=torch.float64)
    vals, grads = R.omega_grad(d, h, W, "tanh")
    for m in range(M):
        v, gr = R.omega_grad(d[:, m], h[:, m], W[m], "tanh")
        assert float(vals[m]) == pytest.approx(float(v), rel=1e-12)
        assert torch.allclose(grads[m], gr, rtol=1e-10, atol=1e-14)
    dm = R.total_state_grads(W, h, d, "tanh")
    assert torch.allclose(dm[:, 1], R.total_state_grads(W[1], h[:, 1], d[:, 1], "tanh"), rtol=1e-12)


def test_before_step_adds_the_gradient_to_W_hh_only():
    task = P.TemporalOrder(12)
    model = C.pascanu_rnn(task, "basic_tanh", n_hidden=10, seed=0, dtype=torch.float64)
    u, t = batch(task, 8, seed=1)
    y, h = model(u)
    h.retain_grad()
    task.loss(y, t).backward()
    before = {n: p.grad.clone() for n, p in model.named_parameters()}
    reg = R.VanishingRegularizer(alpha=4.0)
    reg(model, u, t, y, h)
    # independent reference: autograd of Omega w.r.t. W_hh with d and h detached
    h2, z = unrolled_with_probes(model, u)
    (d,) = torch.autograd.grad(task.loss(h2[-1] @ model.W_hy.T + model.b_y, t), z)
    Wv = model.W_hh.detach().clone().requires_grad_(True)
    value, _ = R.omega(d.detach(), h2.detach(), Wv, "tanh")
    (gom,) = torch.autograd.grad(value, Wv)
    for n, p in model.named_parameters():
        if n == "W_hh":
            assert torch.allclose(p.grad, before[n] + 4.0 * gom, rtol=1e-9, atol=1e-15)
            assert float((p.grad - before[n]).abs().max()) > 0
        else:
            assert torch.equal(p.grad, before[n])
    assert reg.values[0] == pytest.approx(float(value.detach()), rel=1e-10)
    assert 0 < reg.valid_fraction[0] <= 1


def test_regulariser_in_train_is_clipped_afterwards():
    """The norm that train records includes alpha dOmega/dW (before_step runs before the norm)."""
    from rnnlib.train import train
    task = P.TemporalOrder(10)
    kw = dict(steps=2, lr=0.01, eval_every=2, eval_size=20, progress=False, device="cpu", seed=0)
    plain = train(C.pascanu_rnn(task, "basic_tanh", n_hidden=8, seed=0), task, **kw)
    reg = R.VanishingRegularizer(alpha=1e4)
    clipper = C.norm_clipper(1.0)
    big = train(C.pascanu_rnn(task, "basic_tanh", n_hidden=8, seed=0), task, before_step=reg,
                grad_transform=clipper, **kw)
    assert big.grad_norms[0] > 10 * plain.grad_norms[0]
    assert clipper.n_clipped == 2 and len(reg.values) == 2


def test_bad_input():
    with pytest.raises(ValueError, match="activation"):
        R.activation_derivative(torch.zeros(2), "gelu")
    with pytest.raises(ValueError, match="alpha"):
        R.VanishingRegularizer(alpha=-1)
    with pytest.raises(ValueError, match="bound"):
        R.omega(torch.zeros(3, 1, 2), torch.zeros(3, 1, 2), torch.eye(2), "tanh", bound=0)
