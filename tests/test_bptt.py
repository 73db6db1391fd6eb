"""rnnlib.bptt (numpy BPTT) against torch autograd, in float64."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from rnnlib import bptt
from rnnlib.rnn import ElmanRNN


def problem(seed, T=7, B=3, I=2, H=5, O=2, last_only=False):
    rng = np.random.default_rng(seed)
    params = bptt.init_params(I, H, O, scale=1.5, seed=seed)
    params["b_h"] = rng.normal(0, 0.3, H)
    params["b_y"] = rng.normal(0, 0.3, O)
    u = rng.normal(size=(T, B, I))
    target = rng.normal(size=(T, B, O))
    mask = np.zeros((T, B)) if last_only else rng.integers(0, 2, (T, B)).astype(float)
    if last_only:
        mask[-1] = 1
    return params, u, target, mask


def torch_grads(params, u, target, mask, activation, truncate=None):
    model = ElmanRNN.from_numpy(params, activation=activation, readout="all")
    ut = torch.tensor(u)
    y, h = model(ut)
    E = 0.5 * (torch.tensor(mask)[..., None] * (y - torch.tensor(target)) ** 2).sum() / u.shape[1]
    E.backward()
    return float(E.detach()), {k: v.grad.numpy() for k, v in model.named_parameters()}, h


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "linear", "relu"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_full_bptt_equals_autograd(activation, seed):
    params, u, target, mask = problem(seed)
    ours = bptt.bptt(params, u, target, mask=mask, activation=activation)
    E, ref, _ = torch_grads(params, u, target, mask, activation)
    assert ours.loss == pytest.approx(E, rel=1e-12)
    for name in bptt.NAMES:
        np.testing.assert_allclose(ours.grads[name], ref[name], rtol=1e-10, atol=1e-13)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), T=st.integers(1, 12), H=st.integers(1, 6),
       activation=st.sampled_from(["tanh", "sigmoid"]))
def test_random_problems_equal_autograd(seed, T, H, activation):
    params, u, target, mask = problem(seed, T=T, H=H)
    ours = bptt.bptt(params, u, target, mask=mask, activation=activation)
    _, ref, _ = torch_grads(params, u, target, mask, activation)
    for name in bptt.NAMES:
        np.testing.assert_allclose(ours.grads[name], ref[name], rtol=1e-10, atol=1e-13)


def test_dh_is_total_derivative_wrt_states():
    params, u, target, mask = problem(3)
    ours = bptt.bptt(params, u, target, mask=mask)
    model = ElmanRNN.from_numpy(params, readout="all")
    h0 = torch.zeros(u.shape[1], 5, dtype=torch.float64, requires_grad=True)
    # dE/dh_0 through autograd
    y, _ = model(torch.tensor(u), h0)
    E = 0.5 * (torch.tensor(mask)[..., None] * (y - torch.tensor(target)) ** 2).sum() / u.shape[1]
    E.backward()
    np.testing.assert_allclose(ours.dh[0], h0.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_per_step_contributions_sum_to_gradient_and_match_a_direct_computation():
    params, u, target, mask = problem(4, last_only=True)
    ours = bptt.bptt(params, u, target, mask=mask)
    for name in bptt.RECURRENT:
        np.testing.assert_allclose(ours.per_step[name].sum(0), ours.grads[name], rtol=1e-12)
    # contribution of step k to dE/dW_hh = (dE/da_k) h_{k-1}^T, with dE/da_k from autograd
    model = ElmanRNN.from_numpy(params, readout="all")
    ut = torch.tensor(u)
    h = torch.zeros(u.shape[1], 5, dtype=torch.float64)
    pre = []
    for t in range(u.shape[0]):
        a = h @ model.W_hh.T + ut[t] @ model.W_xh.T + model.b_h
        a.retain_grad()
        pre.append((a, h.detach().clone()))
        h = torch.tanh(a)
    y = h @ model.W_hy.T + model.b_y
    E = 0.5 * ((y - torch.tensor(target[-1])) ** 2).sum() / u.shape[1]
    E.backward()
    for k, (a, hprev) in enumerate(pre):
        np.testing.assert_allclose(ours.per_step["W_hh"][k], a.grad.T.numpy() @ hprev.numpy(), rtol=1e-9, atol=1e-15)


def test_truncated_bptt_matches_autograd_with_detached_states():
    params, u, target, mask = problem(5, T=9)
    k = 2
    ours = bptt.bptt(params, u, target, mask=mask, truncate=k)
    # reference: E_t computed from h_{t-k-1} detached, unrolled for k+1 steps
    model = ElmanRNN.from_numpy(params, readout="all")
    ut = torch.tensor(u)
    with torch.no_grad():
        _, hs = model(ut)
    E = 0
    for t in range(u.shape[0]):
        start = max(t - k, 0)
        h = hs[start].detach()
        for s in range(start, t + 1):
            h = model.step(h, ut[s])
        y = h @ model.W_hy.T + model.b_y
        E = E + 0.5 * (torch.tensor(mask[t])[:, None] * (y - torch.tensor(target[t])) ** 2).sum() / u.shape[1]
    E.backward()
    for name in bptt.NAMES:
        np.testing.assert_allclose(ours.grads[name], getattr(model, name).grad.numpy(), rtol=1e-10, atol=1e-13)
    full = bptt.bptt(params, u, target, mask=mask)
    assert not np.allclose(ours.grads["W_hh"], full.grads["W_hh"])
    longest = bptt.bptt(params, u, target, mask=mask, truncate=u.shape[0])
    np.testing.assert_allclose(longest.grads["W_hh"], full.grads["W_hh"], rtol=1e-12)


def test_contribution_matrix_rows_match_single_loss_bptt():
    params, u, target, _ = problem(6, T=6)
    C = bptt.contribution_matrix(params, u, target)
    assert np.allclose(np.triu(C, 1), 0)
    t = 4
    mask = np.zeros(u.shape[:2]); mask[t] = 1
    g = bptt.bptt(params, u, target, mask=mask)
    np.testing.assert_allclose(C[t], np.linalg.norm(g.per_step["W_hh"], axis=(1, 2)), rtol=1e-10, atol=1e-15)


def test_numerical_gradient_agrees():
    params, u, target, mask = problem(7, T=4, H=3)
    g = bptt.bptt(params, u, target, mask=mask, activation="sigmoid")
    num = bptt.numerical_gradient(params, u, target, "W_hh", mask=mask, activation="sigmoid")
    np.testing.assert_allclose(g.grads["W_hh"], num, rtol=1e-6, atol=1e-9)


def test_bad_arguments_name_the_parameter():
    params, u, target, mask = problem(0)
    with pytest.raises(ValueError, match="activation"):
        bptt.bptt(params, u, target, activation="softsign")
    with pytest.raises(ValueError, match="truncate"):
        bptt.bptt(params, u, target, truncate=-1)
    with pytest.raises(ValueError, match="u must have shape"):
        bptt.forward(params, u[0])
    with pytest.raises(ValueError, match="mask"):
        bptt.bptt(params, u, target, mask=mask[:-1])
    with pytest.raises(ValueError, match="spectral_radius"):
        bptt.init_params(2, 3, 1, spectral_radius=-1)
    with pytest.raises(ValueError, match="params is missing"):
        bptt.forward({"W_hh": params["W_hh"]}, u)
