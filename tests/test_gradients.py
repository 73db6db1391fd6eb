"""rnnlib.theory.gradients: Jacobians through time (analytic = autograd = finite differences), Hochreiter's path sum,
per-step gradient norms, Pascanu's bound, and the linear eigen-decomposition."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from rnnlib.theory import bptt
from rnnlib.theory import gradients as G
from rnnlib.models.elman import ElmanRNN

ACTS = ["linear", "tanh", "sigmoid"]


def trajectory(seed, H=4, T=6, activation="tanh", radius=1.3):
    rng = np.random.default_rng(seed)
    W = G.random_recurrent(H, spectral_radius=radius, seed=seed)
    inputs = rng.normal(0, 0.5, (T, H))
    b = rng.normal(0, 0.3, H)
    x0 = rng.normal(size=H)
    return W, x0, inputs, b, G.run_states(W, x0, T, activation=activation, inputs=inputs, b=b)


@pytest.mark.parametrize("activation", ACTS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_jacobian_product_equals_autograd(activation, seed):
    W, x0, inputs, b, x = trajectory(seed, activation=activation)
    for k, t in [(0, 6), (2, 5), (3, 3), (5, 6)]:
        ours = G.jacobian_product(W, x, k, t, activation=activation)
        ref = G.jacobian_autograd(W, x, k, t, activation=activation, inputs=inputs, b=b)
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("activation", ACTS)
def test_jacobian_product_equals_finite_differences(activation):
    W, x0, inputs, b, x = trajectory(7, activation=activation)
    eps = 1e-6
    fd = np.zeros((4, 4))
    for j in range(4):
        e = np.zeros(4)
        e[j] = eps
        plus = G.run_states(W, x0 + e, 6, activation=activation, inputs=inputs, b=b)[-1]
        minus = G.run_states(W, x0 - e, 6, activation=activation, inputs=inputs, b=b)[-1]
        fd[:, j] = (plus - minus) / (2 * eps)
    np.testing.assert_allclose(G.jacobian_product(W, x, 0, 6, activation=activation), fd, rtol=1e-6, atol=1e-8)


def test_step_jacobian_is_W_times_diag_derivative():
    W, _, _, _, x = trajectory(3, activation="tanh")
    J = G.step_jacobians(W, x, activation="tanh")
    np.testing.assert_allclose(J[2], W @ np.diag(1 - np.tanh(x[2]) ** 2), rtol=1e-14)


@pytest.mark.parametrize("activation", ACTS)
def test_hochreiter_path_sum_equals_matrix_product(activation):
    W, _, _, _, x = trajectory(4, H=3, T=5, activation=activation)
    for k, t in [(0, 5), (1, 4), (2, 3), (2, 2)]:
        np.testing.assert_allclose(G.path_sum(W, x, k, t, activation=activation),
                                   G.jacobian_product(W, x, k, t, activation=activation), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("activation", ACTS)
def test_backprop_norms_equal_autograd(activation):
    W, x0, inputs, b, x = trajectory(5, H=6, T=30, activation=activation)
    v = np.random.default_rng(0).normal(size=6)
    ours = G.backprop_norms(W, x, v, activation=activation)
    ref = G.backprop_norms_autograd(W, x0, 30, v, activation=activation, inputs=inputs, b=b)
    np.testing.assert_allclose(ours, ref, rtol=1e-11, atol=1e-300)
    assert ours[-1] == pytest.approx(np.linalg.norm(v))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), H=st.integers(1, 12), T=st.integers(1, 60),
       activation=st.sampled_from(ACTS), radius=st.floats(0.1, 6.0))
def test_pascanu_bound_holds_at_every_step(seed, H, T, activation, radius):
    rng = np.random.default_rng(seed)
    W = G.random_recurrent(H, spectral_radius=radius, seed=seed)
    x = G.run_states(W, rng.normal(size=H), T, activation=activation, inputs=rng.normal(size=(T, H)))
    v = rng.normal(size=H)
    norms = G.backprop_norms(W, x, v, activation=activation)
    bound = G.pascanu_bound(W, T, activation=activation, v_norm=np.linalg.norm(v))
    assert np.all(norms <= bound * (1 + 1e-9) + 1e-300)


def test_sufficient_condition_means_vanishing():
    for activation in ACTS:
        g = G.gamma(activation)
        W = G.random_recurrent(16, sigma_max=0.9 / g, seed=1)     # eta = 0.9
        x = G.run_states(W, np.ones(16), 200, activation=activation)
        norms = G.backprop_norms(W, x, np.ones(16) / 4, activation=activation)
        assert norms[0] <= 0.9 ** 200 and norms[0] < 1e-9


def test_gamma_is_the_largest_derivative():
    a = np.linspace(-10, 10, 200_001)
    for activation in ACTS:
        _, d = bptt.activation_fn(activation)
        assert np.max(d(a)) == pytest.approx(G.gamma(activation), rel=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_linear_modes_equal_repeated_products(seed):
    W = G.random_recurrent(7, spectral_radius=1.05, seed=seed)
    v = np.random.default_rng(seed).normal(size=7)
    x = G.run_states(W, np.zeros(7), 40, activation="linear")
    direct = G.backprop_norms(W, x, v, activation="linear")[::-1]            # ||v W^n||, n = 0..40
    np.testing.assert_allclose(G.linear_modes(W, v, 40), direct, rtol=1e-9)
    # the average growth rate per step tends to the spectral radius (a complex pair makes single steps wobble)
    big = G.linear_modes(W, v, 2000)
    assert (big[-1] / big[-1001]) ** (1 / 1000) == pytest.approx(G.spectral_radius(W), rel=2e-3)


def test_random_recurrent_scales():
    assert G.spectral_radius(G.random_recurrent(20, spectral_radius=0.7, seed=3)) == pytest.approx(0.7)
    assert G.sigma_max(G.random_recurrent(20, sigma_max=2.5, seed=3)) == pytest.approx(2.5)
    assert G.eta(G.random_recurrent(20, sigma_max=2.0, seed=3), "sigmoid") == pytest.approx(0.5)


def test_output_sensitivity_equals_bptt():
    net = ElmanRNN(1, 5, 1, seed=0, dtype=torch.float64, init_scale=0.8)
    u = torch.randn(9, 3, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    ours = G.output_sensitivity(net, u)
    params = net.numpy_params()
    y = bptt.forward(params, u.numpy())["y"]
    B = u.shape[1]
    target = y - B                                               # makes dE/dy_T = (y - target) / B = 1
    mask = np.zeros((9, B))
    mask[-1] = 1
    dh = bptt.bptt(params, u.numpy(), target, mask=mask).dh                 # (T + 1, B, H)
    np.testing.assert_allclose(ours, np.linalg.norm(dh, axis=-1), rtol=1e-10)


def test_bad_inputs():
    with pytest.raises(ValueError, match="activation"):
        G.gamma("relu")
    with pytest.raises(ValueError, match="n"):
        G.random_recurrent(0)
    with pytest.raises(ValueError, match="spectral_radius"):
        G.random_recurrent(3, spectral_radius=-1)
    with pytest.raises(ValueError, match="W"):
        G.run_states(np.ones((2, 3)), np.zeros(2), 3)
    with pytest.raises(ValueError, match="T"):
        G.run_states(np.eye(2), np.zeros(2), 0)
    x = G.run_states(np.eye(2), np.zeros(2), 3)
    with pytest.raises(ValueError, match="k"):
        G.jacobian_product(np.eye(2), x, 3, 2)
    with pytest.raises(ValueError, match="t - k"):
        G.path_sum(np.eye(20), G.run_states(np.eye(20), np.zeros(20), 9), 0, 9)
    with pytest.raises(ValueError, match="u"):
        G.output_sensitivity(ElmanRNN(1, 2, 1), torch.zeros(3, 1))
