"""rnnlib.recurrence: the generic recurrence, the autonomous tanh network as a dynamical system, the memory function."""
import math

import matplotlib
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

matplotlib.use("Agg")

from rnnlib import recurrence as R
from rnnlib.rnn import ElmanRNN


# --- the recurrence --------------------------------------------------------------------------------

def test_elman_update_through_run_recurrence_equals_the_torch_model():
    model = ElmanRNN(3, 7, 2, seed=4, dtype=torch.float64)
    with torch.no_grad():
        model.b_h.copy_(torch.linspace(-0.5, 0.5, 7, dtype=torch.float64))
    theta = model.numpy_params()
    u = np.random.default_rng(0).normal(size=(11, 5, 3))
    h0 = np.random.default_rng(1).uniform(-1, 1, (5, 7))
    ours = R.run_recurrence(R.elman_update, h0, u, theta)
    with torch.no_grad():
        _, ref = model(torch.tensor(u), torch.tensor(h0))
    assert ours.shape == (12, 5, 7)
    np.testing.assert_allclose(ours, ref.numpy(), rtol=1e-12, atol=1e-14)
    # the torch path of run_recurrence gives the same states
    th = {k: torch.tensor(v) for k, v in theta.items()}
    ours_t = R.run_recurrence(R.elman_update, torch.tensor(h0), torch.tensor(u), th)
    assert isinstance(ours_t, torch.Tensor)
    np.testing.assert_allclose(ours_t.numpy(), ref.numpy(), rtol=1e-12, atol=1e-14)


@settings(max_examples=30, deadline=None)
@given(a=st.floats(-0.99, 0.99), x0=st.floats(-5, 5), T=st.integers(0, 40), seed=st.integers(0, 1000))
def test_run_recurrence_equals_the_closed_form_of_a_moving_average(a, x0, T, seed):
    """x_t = a x_{t-1} + (1 - a) u_t  =>  x_T = a^T x_0 + (1 - a) sum_t a^(T - t) u_t."""
    u = np.random.default_rng(seed).normal(size=T)
    xs = R.run_recurrence(lambda x, u_t, th: th * x + (1 - th) * u_t, np.float64(x0), u, a)
    closed = a ** T * x0 + (1 - a) * sum(a ** (T - t) * u[t - 1] for t in range(1, T + 1))
    assert xs.shape == (T + 1,)
    assert xs[-1] == pytest.approx(closed, rel=1e-9, abs=1e-9)


def test_run_recurrence_rejects_a_non_callable():
    with pytest.raises(ValueError, match="F must be callable"):
        R.run_recurrence("tanh", np.zeros(2), np.zeros((3, 2)))


# --- weights, trajectories, Jacobians --------------------------------------------------------------

def test_random_weights_have_the_requested_scale():
    W = R.random_weights(400, 1.5, seed=3)
    assert W.std() * math.sqrt(400) == pytest.approx(1.5, rel=0.02)
    rho = np.max(np.abs(np.linalg.eigvals(W)))
    assert rho == pytest.approx(1.5, rel=0.08)                 # circular law: eigenvalues fill a disc of radius g
    assert np.array_equal(W, R.random_weights(400, 1.5, seed=3))
    assert not np.array_equal(W, R.random_weights(400, 1.5, seed=4))


@pytest.mark.parametrize("kw, name", [(dict(n=0, scale=1.0), "n"), (dict(n=3, scale=-1.0), "scale"),
                                      (dict(n=3, scale=1.0, seed=-1), "seed"), (dict(n=2.5, scale=1.0), "n")])
def test_random_weights_bad_input(kw, name):
    with pytest.raises(ValueError, match=name):
        R.random_weights(**kw)


def test_trajectory_equals_a_plain_loop_and_keeps_batch_shapes():
    W, b = R.random_weights(6, 1.3, seed=0), np.linspace(-0.2, 0.2, 6)
    h0 = np.random.default_rng(0).uniform(-1, 1, (2, 3, 6))
    traj = R.trajectory(W, b, h0, 9)
    assert traj.shape == (10, 2, 3, 6)
    h = h0[1, 2]
    for _ in range(9):
        h = np.tanh(W @ h + b)                                   # column-vector form
    np.testing.assert_allclose(traj[-1, 1, 2], h, rtol=1e-13)
    np.testing.assert_allclose(R.autonomous_map(traj[3], W, b), traj[4], rtol=1e-13)


@pytest.mark.parametrize("args, name", [
    ((np.ones((2, 3)), None, np.zeros(3), 4), "W must be a square"),
    ((np.eye(3), None, np.zeros(2), 4), "h0"),
    ((np.eye(3), None, np.zeros(3), -1), "steps"),
])
def test_trajectory_bad_input(args, name):
    with pytest.raises(ValueError, match=name):
        R.trajectory(*args)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 8), g=st.floats(0.1, 3.0), seed=st.integers(0, 500))
def test_map_jacobian_equals_autograd(n, g, seed):
    rng = np.random.default_rng(seed)
    W, b, h = R.random_weights(n, g, seed=seed), rng.normal(size=n), rng.uniform(-1, 1, n)
    J = torch.autograd.functional.jacobian(lambda x: torch.tanh(torch.tensor(W) @ x + torch.tensor(b)),
                                           torch.tensor(h))
    np.testing.assert_allclose(R.map_jacobian(W, b, h), J.numpy(), rtol=1e-12, atol=1e-14)


# --- fixed points -----------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 10), norm=st.floats(0.05, 0.95), seed=st.integers(0, 1000))
def test_a_contraction_has_one_fixed_point_that_both_methods_find(n, norm, seed):
    """||W||_2 < 1: Phi is a contraction, so iteration and Newton must agree on its unique, stable fixed point."""
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, n))
    W = norm * A / np.linalg.norm(A, 2)
    b = rng.normal(size=n)
    it = R.fixed_point_iteration(W, b, rng.uniform(-1, 1, n))
    nt = R.newton_fixed_point(W, b, rng.uniform(-1, 1, n))
    assert it.converged and nt.converged
    assert nt.residual < 1e-12 and it.residual < 1e-11
    np.testing.assert_allclose(nt.h, it.h, atol=1e-10)
    assert nt.stable and nt.spectral_radius <= norm + 1e-12   # |eig J| <= ||diag(tanh')|| ||W|| <= norm
    assert nt.iterations < it.iterations or it.iterations <= 10
    assert len(R.find_fixed_points(W, b, n_starts=5, seed=seed)) == 1


def test_newton_finds_the_unstable_origin_that_iteration_leaves():
    W = R.random_weights(30, 2.0, seed=1)
    fp = R.newton_fixed_point(W, 0.0, np.full(30, 1e-3))
    assert fp.converged and np.max(np.abs(fp.h)) < 1e-12
    # the Jacobian at the origin is W itself (tanh'(0) = 1), so max|eig| is W's spectral radius
    assert fp.spectral_radius == pytest.approx(np.max(np.abs(np.linalg.eigvals(W))), rel=1e-12)
    assert not fp.stable
    away = R.trajectory(W, 0.0, np.full(30, 1e-3), 200)[-1]
    assert np.linalg.norm(away) > 1.0                          # iteration runs away from it


def test_newton_step_is_one_newton_update():
    rng = np.random.default_rng(2)
    W, b, h = R.random_weights(5, 1.4, seed=2), rng.normal(size=5), rng.uniform(-1, 1, 5)
    G = lambda x: x - np.tanh(W @ x + b)
    eps = 1e-6
    dG = np.stack([(G(h + eps * e) - G(h - eps * e)) / (2 * eps) for e in np.eye(5)], axis=1)
    np.testing.assert_allclose(R.newton_step(h, W, b), h - np.linalg.solve(dG, G(h)), rtol=1e-7, atol=1e-8)


def test_fixed_points_of_the_odd_map_come_in_pairs():
    """With b = 0, tanh is odd: if h* is a fixed point so is -h*, with the same eigenvalues."""
    W = 1.2 * R.random_weights(100, 1.0, seed=2)
    ends = R.trajectory(W, 0.0, np.random.default_rng(0).uniform(-1, 1, (4, 100)), 300)[-1]
    fps = R.find_fixed_points(W, 0.0, n_starts=2, seed=0, starts=ends)
    assert len(fps) >= 3 and np.linalg.norm(fps[0].h) < 1e-10
    assert any(fp.stable for fp in fps) and not fps[0].stable
    for fp in fps[1:]:
        mirror = R.newton_fixed_point(W, 0.0, -fp.h)
        np.testing.assert_allclose(mirror.h, -fp.h, atol=1e-10)
        assert mirror.spectral_radius == pytest.approx(fp.spectral_radius, rel=1e-9)


def test_fixed_point_bad_input():
    with pytest.raises(ValueError, match="max_iter"):
        R.newton_fixed_point(np.eye(2), None, np.zeros(2), max_iter=0)
    with pytest.raises(ValueError, match="tol"):
        R.fixed_point_iteration(np.eye(2), None, np.zeros(2), tol=-1)
    with pytest.raises(ValueError, match="n_starts"):
        R.find_fixed_points(np.eye(2), n_starts=-1)


@pytest.mark.parametrize("w, b, expected", [
    (0.5, 0.0, [0.0]), (1.0 - 1e-9, 0.0, [0.0]), (-2.0, 0.0, [0.0]),
    (2.0, 0.0, [-0.9575040240772687, 0.0, 0.9575040240772687]),
])
def test_scalar_fixed_points(w, b, expected):
    fps = R.scalar_fixed_points(w, b)
    np.testing.assert_allclose([r for r, _ in fps], expected, atol=1e-12)
    for r, slope in fps:
        assert math.tanh(w * r + b) == pytest.approx(r, abs=1e-12)
        assert slope == pytest.approx(w * (1 - r ** 2), rel=1e-9)


@settings(max_examples=30, deadline=None)
@given(w=st.floats(-4, 4), b=st.floats(-1, 1))
def test_scalar_fixed_points_are_roots_and_stable_ones_attract(w, b):
    fps = R.scalar_fixed_points(w, b)
    assert 1 <= len(fps) <= 3 or abs(abs(w) - 1) < 1e-3
    for r, slope in fps:
        assert abs(math.tanh(w * r + b) - r) < 1e-10
        if abs(slope) < 0.9:                                     # a stable one attracts a nearby start
            x = r + 1e-3
            for _ in range(400):
                x = math.tanh(w * x + b)
            assert abs(x - r) < 1e-8


def test_scalar_fixed_points_bad_input():
    with pytest.raises(ValueError, match="w and b"):
        R.scalar_fixed_points(float("nan"))


# --- Lyapunov exponents and attractors ---------------------------------------------------------------

def test_lyapunov_exponent_at_a_stable_origin_is_log_of_the_contraction():
    """An orthogonal matrix times g < 1 shrinks every direction by g near 0: lambda = log g."""
    Q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(20, 20)))
    lam = R.lyapunov_exponent(0.7 * Q, 0.0, np.full(20, 0.5), steps=500, burn_in=300)
    assert lam == pytest.approx(math.log(0.7), abs=1e-6)
    lam1 = R.lyapunov_exponent(np.array([[0.5]]), 0.0, np.array([0.8]), steps=400, burn_in=200)
    assert lam1 == pytest.approx(math.log(0.5), abs=1e-6)


def test_lyapunov_exponent_is_positive_for_a_strongly_coupled_network():
    W = R.random_weights(100, 3.0, seed=0)
    assert R.lyapunov_exponent(W, 0.0, np.full(100, 0.1), steps=800) > 0.1


@pytest.mark.parametrize("W, b, kind, period", [
    (np.array([[0.5]]), 0.0, "fixed point", 1),
    (np.array([[-2.0]]), 0.0, "periodic", 2),                                   # x -> tanh(-2x): flips sign
    (1.1 * np.array([[math.cos(1.0), -math.sin(1.0)], [math.sin(1.0), math.cos(1.0)]]), 0.0,
     "quasi-periodic", None),                                                   # an invariant circle
    (R.random_weights(100, 3.0, seed=0), 0.0, "chaotic", None),
])
def test_attractor_names_what_the_trajectory_settles_on(W, b, kind, period):
    a = R.attractor(W, b, np.full(W.shape[0], 0.3))
    assert a["kind"] == kind and a["period"] == period
    if kind == "chaotic":
        assert a["lyapunov"] > 0.01
    if kind == "quasi-periodic":
        assert abs(a["lyapunov"]) < 0.01


def test_weight_scale_one_separates_decay_from_other_behaviour():
    """Below the critical scale every start falls to 0; above it the origin is unstable."""
    W0 = R.random_weights(60, 1.0, seed=5)
    rho = np.max(np.abs(np.linalg.eigvals(W0)))
    starts = np.random.default_rng(0).uniform(-1, 1, (10, 60))
    low = R.trajectory(0.8 / rho * W0, 0.0, starts, 400)[-1]
    assert np.max(np.abs(low)) < 1e-8
    high = R.trajectory(1.2 / rho * W0, 0.0, starts, 400)[-1]
    assert np.min(np.linalg.norm(high, axis=1)) > 0.1


# --- memory function --------------------------------------------------------------------------------

def test_memory_function_of_a_delay_line():
    """A state that is literally [u_t, u_{t-1}, u_{t-2}] remembers 3 inputs exactly and nothing older."""
    rng = np.random.default_rng(0)
    u = rng.choice([-1.0, 1.0], size=(200, 20))
    pad = np.concatenate([np.zeros((2, 20)), u])
    h = np.stack([pad[2:], pad[1:-1], pad[:-2]], axis=-1)        # (T, B, 3)
    m = R.memory_function(h, u, 6)
    np.testing.assert_allclose(m[:3], 1.0, atol=1e-12)
    assert np.all(m[3:] < 0.01)


def test_memory_function_fades_in_a_contracting_network():
    rng = np.random.default_rng(1)
    u = rng.choice([-1.0, 1.0], size=(150, 20))
    theta = {"W_hh": R.random_weights(20, 0.5, seed=0), "W_xh": rng.normal(0, 0.5, (20, 1)), "b_h": np.zeros(20)}
    h = R.run_recurrence(R.elman_update, np.zeros((20, 20)), u[:, :, None], theta)[1:]
    m = R.memory_function(h, u, 30)
    assert m[0] > 0.99 and m[-1] < 0.05
    assert m.sum() < 20                                          # at most one input per unit, linearly


@pytest.mark.parametrize("kw, name", [
    (dict(h=np.zeros((5, 4, 2)), u=np.zeros((5, 3)), max_delay=2), "h must be"),
    (dict(h=np.zeros((5, 4, 2)), u=np.zeros((5, 4)), max_delay=4), "max_delay"),
    (dict(h=np.zeros((5, 4, 2)), u=np.zeros((5, 4)), max_delay=1, train_fraction=1.0), "train_fraction"),
    (dict(h=np.zeros((5, 4, 2)), u=np.zeros((5, 4)), max_delay=1, train_fraction=0.01), "train_fraction"),
])
def test_memory_function_bad_input(kw, name):
    with pytest.raises(ValueError, match=name):
        R.memory_function(**kw)


# --- figures -----------------------------------------------------------------------------------------

def test_leading_plane_is_orthonormal_and_scale_free():
    W = R.random_weights(30, 1.0, seed=2)
    P = R.leading_plane(W)
    np.testing.assert_allclose(P.T @ P, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(np.abs(R.leading_plane(3 * W)), np.abs(P), atol=1e-10)
    with pytest.raises(ValueError, match="W must"):
        R.leading_plane(np.ones((1, 1)))


def test_figures_draw():
    import matplotlib.pyplot as plt

    fig = R.plot_dynamics(R.random_weights(20, 1.5, seed=0), 0.0, steps=30)
    assert len(fig.axes) == 2 and "Lyapunov" in fig._suptitle.get_text()
    plt.close(fig)
    fig = R.plot_scalar_map(np.linspace(-2, 2, 21))
    assert len(fig.axes) == 2
    plt.close(fig)
