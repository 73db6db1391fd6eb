"""rnnlib.theory.memory: closed forms of Zucchet & Orvieto (2024) against exact series, Monte-Carlo simulation
and torch autograd (float64 throughout)."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from rnnlib.theory import memory as M


def _series(lam, rho, K=900):
    """Exact truncated double sums: E[h^2] = sum_kl lam^(k+l) rho^|k-l|, E[(dh)^2] = sum_kl k l lam^(k+l-2) rho^|k-l|."""
    k = np.arange(K)
    a, w = lam**k, k * lam ** np.maximum(k - 1, 0)
    R = rho ** np.abs(k[:, None] - k[None, :])
    return a @ R @ a, w @ R @ w


@settings(max_examples=40, deadline=None)
@given(lam=st.floats(-0.95, 0.95), rho=st.floats(0.0, 1.0))
def test_closed_forms_equal_the_exact_series(lam, rho):
    h2, dh2 = _series(lam, rho)
    assert M.mean_square_state(lam, rho) == pytest.approx(h2, rel=1e-9)
    assert M.mean_square_sensitivity(lam, rho) == pytest.approx(dh2, rel=1e-9)


def test_special_cases_white_and_constant_input():
    lam = np.linspace(0.0, 0.999, 50)
    np.testing.assert_allclose(M.mean_square_state(lam, 0.0), 1 / (1 - lam**2))
    np.testing.assert_allclose(M.mean_square_sensitivity(lam, 0.0), (1 + lam**2) / (1 - lam**2) ** 3)
    np.testing.assert_allclose(M.mean_square_state(lam, 1.0), 1 / (1 - lam) ** 2)
    np.testing.assert_allclose(M.mean_square_sensitivity(lam, 1.0), 1 / (1 - lam) ** 4)
    # normalised state is exactly 1 for white noise; the normalised + exp sensitivity stays bounded (-> 1/2)
    np.testing.assert_allclose(M.mean_square_state(lam, 0.0, normalised=True), 1.0)
    near_one = M.mean_square_sensitivity(1 - 1e-6, 0.0, normalised=True, param="exp")
    assert near_one == pytest.approx(0.5, rel=1e-4)


@pytest.mark.parametrize("rho", [0.0, 0.9, 1.0])
def test_monte_carlo_agrees_with_closed_forms(rho):
    lam = np.array([0.5, 0.9, 0.99])
    mc = M.monte_carlo_moments(lam, rho, n_samples=4000, seed=int(rho * 10))
    for key, cf in (("h2", M.mean_square_state(lam, rho)), ("dh2", M.mean_square_sensitivity(lam, rho))):
        z = (mc[key] - cf) / mc[key + "_se"]
        assert np.all(np.abs(z) < 4.5), (key, z)  # stated tolerance: 4.5 standard errors (~2.2 % each)
        assert np.all(np.abs(mc[key] / cf - 1) < 0.12), key


def _per_sample_derivative(f, x0, n):
    """Per-sample derivatives by reverse-mode autograd: one copy of the scalar x0 per sample, so
    d sum_i f_i / d x0_i = d f_i / d x0. Returns (f(x0), d f / d x0), each (n,)."""
    xs = x0.detach().expand(n).clone().requires_grad_()
    out = f(xs)
    (grad,) = torch.autograd.grad(out.sum(), xs)
    return out.detach(), grad


def _simulate_torch(lam, x, gamma=None):
    h = torch.zeros_like(x[0])
    for t in range(x.shape[0]):
        h = lam * h + (x[t] if gamma is None else gamma * x[t])
    return h


def test_sensitivity_by_autograd_matches_closed_form_and_recursion():
    rho, lam0 = 0.9, 0.95
    rng = np.random.default_rng(3)
    x = torch.as_tensor(M.ar1_inputs(400, 3000, rho, rng=rng))
    lam = torch.tensor(lam0, dtype=torch.float64)
    h, dh = _per_sample_derivative(lambda l: _simulate_torch(l, x), lam, x.shape[1])
    # per-sample: autograd equals the hand-derived derivative recursion d_{t+1} = lam d_t + h_t
    d, hh = torch.zeros_like(x[0]), torch.zeros_like(x[0])
    for t in range(x.shape[0]):
        d, hh = lam0 * d + hh, lam0 * hh + x[t]
    torch.testing.assert_close(dh, d, rtol=1e-10, atol=1e-10)
    est, se = (dh**2).mean().item(), (dh**2).std().item() / math.sqrt(dh.numel())
    assert abs(est - M.mean_square_sensitivity(lam0, rho)) < 4.5 * se
    # exp parametrisation: d h / d nu = (lam log lam) d h / d lam
    nu = torch.log(-torch.log(lam))
    _, dh_nu = _per_sample_derivative(lambda n: _simulate_torch(torch.exp(-torch.exp(n)), x), nu, x.shape[1])
    torch.testing.assert_close(dh_nu, M.dlambda_dnu(lam) * dh, rtol=1e-9, atol=1e-12)


def test_normalised_moments_by_simulation():
    """gamma treated as a constant: E[h^2] and E[(dh)^2] both scale by 1 - lam^2."""
    rho, lam0 = 0.5, 0.9
    x = torch.as_tensor(M.ar1_inputs(300, 4000, rho, rng=np.random.default_rng(4)))
    lam = torch.tensor(lam0, dtype=torch.float64)
    g = math.sqrt(1 - lam0**2)
    h, dh = _per_sample_derivative(lambda l: _simulate_torch(l, x, gamma=g), lam, x.shape[1])
    for est, cf in (((h**2), M.mean_square_state(lam0, rho, normalised=True)),
                    ((dh**2), M.mean_square_sensitivity(lam0, rho, normalised=True))):
        assert abs(est.mean().item() - cf) < 4.5 * est.std().item() / math.sqrt(est.numel())


@pytest.mark.parametrize("lam,lam_star,mu,sigma", [(0.8, 0.9, 0.0, 1.0), (0.7 * np.exp(0.4j), 0.9, 0.5, 1.3),
                                                  (0.5 + 0.3j, 0.6 - 0.2j, 1.0, 0.5)])
def test_loss_1d_against_simulation(lam, lam_star, mu, sigma):
    rng = np.random.default_rng(5)
    T, n = 200, 20000
    x = mu + sigma * rng.standard_normal((T, n))
    h, hs = np.zeros(n, dtype=complex), np.zeros(n, dtype=complex)
    for t in range(T):
        h, hs = lam * h + x[t], lam_star * hs + x[t]
    sq = 0.5 * np.abs(h - hs) ** 2
    assert abs(sq.mean() - M.loss_1d(lam, lam_star, mu=mu, sigma=sigma)) < 4.5 * sq.std() / math.sqrt(n)


def test_loss_1d_normalised_against_simulation_and_zero_at_optimum():
    rng = np.random.default_rng(6)
    lam, lam_star, T, n = 0.85 * np.exp(0.2j), 0.95, 400, 20000
    x = rng.standard_normal((T, n))
    g, gs = math.sqrt(1 - abs(lam) ** 2), math.sqrt(1 - lam_star**2)
    h, hs = np.zeros(n, dtype=complex), np.zeros(n, dtype=complex)
    for t in range(T):
        h, hs = lam * h + g * x[t], lam_star * hs + gs * x[t]
    sq = 0.5 * np.abs(h - hs) ** 2
    assert abs(sq.mean() - M.loss_1d_normalised(lam, lam_star)) < 4.5 * sq.std() / math.sqrt(n)
    for r in (0.3, 0.99, 0.3 + 0.5j):
        assert abs(M.loss_1d(r, r)) < 1e-9 and abs(M.loss_1d_normalised(r, r)) < 1e-12


@pytest.mark.parametrize("r", [0.5, 0.9, 0.99, 0.999])
def test_curvatures_against_autograd_hessians(r):
    star = torch.tensor(r, dtype=torch.float64)
    hess = lambda f, x0: torch.autograd.functional.hessian(f, torch.tensor(x0, dtype=torch.float64)).item()  # noqa: E731
    cases = [
        (lambda l: M.loss_1d(l, star), r, dict()),
        (lambda l: M.loss_1d_normalised(l, star), r, dict(normalised=True)),
        (lambda th: M.loss_1d(star * torch.exp(1j * th), star), 0.0, dict(direction="phase")),
        (lambda th: M.loss_1d_normalised(star * torch.exp(1j * th), star), 0.0, dict(direction="phase", normalised=True)),
        (lambda nu: M.loss_1d(torch.exp(-torch.exp(nu)), star), math.log(-math.log(r)), dict(param="exp")),
        (lambda nu: M.loss_1d_normalised(torch.exp(-torch.exp(nu)), star), math.log(-math.log(r)),
         dict(param="exp", normalised=True)),
    ]
    for f, x0, kw in cases:
        assert hess(f, x0) == pytest.approx(M.curvature_1d(r, **kw), rel=1e-6), kw
    # the un-normalised radial curvature is the white-noise sensitivity E[(d_lam h)^2]
    assert M.curvature_1d(r) == pytest.approx(M.mean_square_sensitivity(r, 0.0), rel=1e-12)


def test_growth_rates_as_lambda_tends_to_one():
    """State ~ (1-lam)^-1, sensitivity ~ (1-lam)^-3 for white noise; local log-log slopes near lam = 1."""
    eps = np.array([1e-4, 1e-5])
    slope = lambda f: np.diff(np.log(f(1 - eps))) / np.diff(np.log(eps))  # noqa: E731
    assert slope(lambda l: M.mean_square_state(l, 0.0))[0] == pytest.approx(-1, abs=0.01)
    assert slope(lambda l: M.mean_square_sensitivity(l, 0.0))[0] == pytest.approx(-3, abs=0.01)
    assert slope(lambda l: M.mean_square_sensitivity(l, 0.0, normalised=True))[0] == pytest.approx(-2, abs=0.01)
    assert slope(lambda l: M.mean_square_sensitivity(l, 1.0, normalised=True, param="exp"))[0] == pytest.approx(-1, abs=0.01)


def test_ar1_inputs_have_the_stated_autocorrelation():
    x = M.ar1_inputs(200, 20000, 0.8, rng=np.random.default_rng(0))
    assert x.var() == pytest.approx(1.0, abs=0.02)
    assert (x[100] * x[103]).mean() == pytest.approx(0.8**3, abs=0.03)


def test_bad_arguments():
    with pytest.raises(ValueError, match="rho"):
        M.mean_square_state(0.5, 1.5)
    with pytest.raises(ValueError, match="rho"):
        M.mean_square_sensitivity(0.5, -0.1)
    with pytest.raises(ValueError, match="param"):
        M.mean_square_sensitivity(0.5, 0.0, param="tanh")
    with pytest.raises(ValueError, match="lam"):
        M.monte_carlo_moments([0.5, 1.0], 0.0)
    with pytest.raises(ValueError, match="n_samples"):
        M.monte_carlo_moments(0.5, 0.0, n_samples=0)
    with pytest.raises(ValueError, match="rho"):
        M.monte_carlo_moments(0.5, 2.0)
    with pytest.raises(ValueError, match="direction"):
        M.curvature_1d(0.5, direction="diagonal")
    with pytest.raises(ValueError, match="param"):
        M.curvature_1d(0.5, direction="phase", param="exp")
    with pytest.raises(ValueError, match="T"):
        M.ar1_inputs(0, 3, 0.5, rng=np.random.default_rng(0))

