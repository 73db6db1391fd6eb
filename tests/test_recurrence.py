"""rnnlib.theory.recurrence: the generic recurrence, the autonomous tanh network as a dynamical system, the memory function."""
import math

import matplotlib
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

matplotlib.use("Agg")

from rnnlib.theory import recurrence as R
from rnnlib.models.elman import ElmanRNN
from rnnlib.theory.plots import plot_dynamics, plot_scalar_map


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
    with pytest.raises(ValueError, match="w must be a finite number"):
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

    fig = plot_dynamics(R.random_weights(20, 1.5, seed=0), 0.0, steps=30)
    assert len(fig.axes) == 2 and "Lyapunov" in fig._suptitle.get_text()
    plt.close(fig)
    fig = plot_scalar_map(np.linspace(-2, 2, 21))
    assert len(fig.axes) == 2
    plt.close(fig)


# --- leading_eigenvalue, first_network, regimes / regime_kinds ----------------------------------------

def _similar(eigenblock, seed):
    """A dense matrix P D P^-1 whose eigenvalues are those of the block-diagonal D (known by construction)."""
    D = np.asarray(eigenblock, dtype=float)
    P = np.random.default_rng(seed).normal(size=D.shape) + 3 * np.eye(D.shape[0])   # well conditioned
    return P @ D @ np.linalg.inv(P)


def _rot(r, theta):
    """r * rotation(theta): the real 2 x 2 block with eigenvalues r e^{+-i theta}."""
    return r * np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])


def _block(*blocks):
    n = sum(np.atleast_2d(b).shape[0] for b in blocks)
    D, i = np.zeros((n, n)), 0
    for b in blocks:
        b = np.atleast_2d(b)
        D[i:i + b.shape[0], i:i + b.shape[0]] = b
        i += b.shape[0]
    return D


@pytest.mark.parametrize("W, expected", [
    (np.array([[2.5]]), 2.5 + 0j),
    (np.diag([0.5, -3.0, 2.0]), -3.0 + 0j),                                       # largest modulus, not largest value
    (_similar(_block(_rot(0.95, 1.2), [[-0.8]], [[0.5]]), 0), 0.95 * np.exp(1.2j)),  # a complex pair leads
    (_similar(_block(_rot(0.95, 1.2), [[-1.3]], [[0.5]]), 1), -1.3 + 0j),         # a real eigenvalue beats the pair
    (_rot(1.1, 1.0), 1.1 * np.exp(1.0j)),
])
def test_leading_eigenvalue_of_matrices_with_known_spectra(W, expected):
    lam = R.leading_eigenvalue(W)
    assert isinstance(lam, complex)
    # a complex eigenvalue comes with its conjugate: either may be returned
    assert lam.real == pytest.approx(expected.real, abs=1e-10)
    assert abs(lam.imag) == pytest.approx(abs(expected.imag), abs=1e-10)
    if expected.imag == 0:
        assert lam.imag == 0.0                                                    # documented: exactly 0


@pytest.mark.parametrize("seed", range(8))
def test_leading_eigenvalue_equals_numpy_largest_modulus(seed):
    W = np.random.default_rng(seed).normal(size=(12, 12))
    ref = np.linalg.eigvals(W)
    lam = R.leading_eigenvalue(W)
    assert abs(lam) == pytest.approx(np.max(np.abs(ref)), rel=1e-12)
    assert np.min(np.abs(ref - lam)) < 1e-10                                     # it is one of W's eigenvalues
    if abs(lam.imag) > 1e-9:                                                     # complex: its conjugate is one too
        assert np.min(np.abs(ref - lam.conjugate())) < 1e-10
    else:
        assert lam.imag == 0.0


@pytest.mark.parametrize("W", [np.ones(3), np.ones((2, 3)), np.ones((1, 2, 2))])
def test_leading_eigenvalue_bad_input(W):
    with pytest.raises(ValueError, match="W must"):
        R.leading_eigenvalue(W)


def _brute_first(criterion, n, seeds):
    """The first seed whose N(0, 1/n) matrix, rescaled to spectral radius 1 here, meets the criterion."""
    for s in seeds:
        W = R.random_weights(n, 1.0, seed=s)
        W = W / np.max(np.abs(np.linalg.eigvals(W)))
        if criterion(W):
            return s, W
    return None, None


@pytest.mark.parametrize("name, criterion", [
    ("complex leading eigenvalue", lambda W: abs(R.leading_eigenvalue(W).imag) > 0.1),
    ("real positive leading eigenvalue", lambda W: R.leading_eigenvalue(W).imag == 0 and R.leading_eigenvalue(W).real > 0),
    ("real negative leading eigenvalue", lambda W: R.leading_eigenvalue(W).imag == 0 and R.leading_eigenvalue(W).real < 0),
    ("positive trace", lambda W: np.trace(W) > 0.5),
])
@pytest.mark.parametrize("seeds", [range(30), [17, 5, 9, 2, 11, 0, 23, 8, 1, 4, 3, 29]])
def test_first_network_is_the_first_qualifying_seed_of_a_brute_force_loop(name, criterion, seeds):
    n = 8
    s_ref, W_ref = _brute_first(criterion, n, seeds)
    assert s_ref is not None
    s, W = R.first_network(criterion, n=n, seeds=seeds)
    assert type(s) is int and s == s_ref
    assert W.shape == (n, n)
    np.testing.assert_allclose(W, W_ref, rtol=1e-12, atol=1e-14)
    assert np.max(np.abs(np.linalg.eigvals(W))) == pytest.approx(1.0, abs=1e-12)   # spectral radius exactly 1
    assert criterion(W)


def test_first_network_asks_in_order_and_stops_at_the_first_hit():
    asked = []

    def criterion(W):
        asked.append(W.copy())
        return len(asked) == 3                                   # the third seed offered qualifies

    seeds = [12, 4, 7, 1, 9]
    s, W = R.first_network(criterion, n=5, seeds=seeds)
    assert s == 7 and len(asked) == 3
    for seen, seed in zip(asked, seeds):
        ref = R.random_weights(5, 1.0, seed=seed)
        np.testing.assert_allclose(seen, ref / np.max(np.abs(np.linalg.eigvals(ref))), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(W, asked[-1])


@pytest.mark.parametrize("seeds", [range(6), [], [3]])
def test_first_network_raises_when_no_seed_qualifies(seeds):
    asked = []

    def never(W):
        asked.append(1)
        return False

    with pytest.raises(ValueError, match="no seed"):
        R.first_network(never, n=4, seeds=seeds)
    assert len(asked) == len(seeds)                              # every seed was tried before giving up


@pytest.mark.parametrize("args, kw, name", [
    (("not callable",), {}, "criterion"),
    ((None,), {}, "criterion"),
    ((lambda W: True,), dict(n=0), "n must"),
    ((lambda W: True,), dict(n=2.5), "n must"),
    ((lambda W: True,), dict(n=4, seeds=[-1]), "seed"),
    ((lambda W: True,), dict(n=4, seeds=[1.5]), "seed"),
])
def test_first_network_bad_input(args, kw, name):
    with pytest.raises(ValueError, match=name):
        R.first_network(*args, **kw)


def _start(n, seed):
    """The documented start of ``regimes``: uniform in [-1, 1]^n drawn with ``seed``."""
    return np.random.default_rng(seed).uniform(-1, 1, n)


def test_regimes_of_a_contracting_network_settle_at_the_origin():
    """rho(g W) = g < 1 with no bias: the origin is the only fixed point and it attracts every start."""
    W = R.random_weights(30, 1.0, seed=0, exact_radius=True)
    scales = [0.0, 0.3, 0.6, 0.9]
    out = R.regimes(W, scales, seed=2)
    assert len(out) == len(scales)
    for g, a in zip(scales, out):
        assert a["kind"] == "fixed point" and a["period"] == 1
        np.testing.assert_allclose(a["fixed_point"].h, 0.0, atol=1e-12)
        assert a["fixed_point"].stable
        # the state after the documented 300 steps of burn-in from the documented start
        np.testing.assert_allclose(a["h"], R.trajectory(g * W, 0.0, _start(30, 2), 300)[-1], rtol=1e-12, atol=1e-300)
        if g > 0:
            assert a["lyapunov"] < math.log(g) + 0.2             # a contraction: negative exponent
    assert R.regime_kinds(W, scales, seed=2) == ["origin"] * 4


def test_regimes_of_one_unit_follow_the_sign_of_the_start():
    """x -> tanh(2x) has stable fixed points +-x* (x* = tanh(2 x*)); a start in (0, 1] goes to +x*,
    one in [-1, 0) to -x*. x -> tanh(-2x) flips the sign each step: a period-2 cycle on +-x*."""
    x_star = max(r for r, _ in R.scalar_fixed_points(2.0, 0.0))
    assert x_star == pytest.approx(math.tanh(2 * x_star), abs=1e-13) and x_star > 0.9
    W = np.array([[1.0]])
    signs = set()
    for seed in range(6):
        h0 = _start(1, seed)
        signs.add(np.sign(h0[0]))
        fp, cycle, decay = R.regimes(W, [2.0, -2.0, 0.5], seed=seed)
        assert fp["kind"] == "fixed point"
        assert fp["fixed_point"].h[0] == pytest.approx(np.sign(h0[0]) * x_star, abs=1e-10)
        assert cycle["kind"] == "periodic" and cycle["period"] == 2
        assert abs(cycle["h"][0]) == pytest.approx(x_star, abs=1e-8)
        assert decay["kind"] == "fixed point" and abs(decay["fixed_point"].h[0]) < 1e-12
        assert R.regime_kinds(W, [2.0, -2.0, 0.5], seed=seed) == ["fixed point", "periodic", "origin"]
    assert signs == {-1.0, 1.0}                                  # both basins were visited


def test_regimes_with_a_bias_find_a_fixed_point_away_from_the_origin():
    """g = 0: h_1 = tanh(b) and it stays there, a fixed point that is not the origin."""
    W = R.random_weights(10, 1.0, seed=1, exact_radius=True)
    b = np.linspace(-0.5, 0.5, 10)
    (a,) = R.regimes(W, [0.0], b)
    assert a["kind"] == "fixed point"
    np.testing.assert_allclose(a["fixed_point"].h, np.tanh(b), atol=1e-14)
    np.testing.assert_allclose(a["h"], np.tanh(b), atol=1e-14)
    assert R.regime_kinds(W, [0.0, 0.5], b) == ["fixed point", "fixed point"]
    # "origin" is every |h_i| < 1e-6: a tiny bias moves the fixed point less than that, a larger one more
    assert R.regime_kinds(W, [0.5], 1e-9) == ["origin"]
    assert R.regime_kinds(W, [0.5], 1e-4) == ["fixed point"]


def test_regimes_name_cycles_tori_and_chaos_in_the_order_of_the_scales():
    rot = _rot(1.0, 1.0)                                         # g rot: decays for g < 1, invariant circle for g > 1
    assert R.regime_kinds(rot, [1.1, 0.5]) == ["quasi-periodic", "origin"]
    W = R.random_weights(60, 1.0, seed=0, exact_radius=True)
    assert R.regime_kinds(W, [3.0, 0.5]) == ["chaotic", "origin"]
    chaos = R.regimes(W, [3.0])[0]
    assert chaos["kind"] == "chaotic" and chaos["lyapunov"] > 0.01 and chaos["fixed_point"] is None
    assert R.regimes(W, []) == [] and R.regime_kinds(W, []) == []


def test_regimes_start_depends_on_the_seed_only():
    W = R.random_weights(6, 1.0, seed=3, exact_radius=True)
    a0, a1, a0_again = (R.regimes(W, [1.5], seed=s)[0]["h"] for s in (0, 1, 0))
    np.testing.assert_array_equal(a0, a0_again)
    np.testing.assert_allclose(a1, R.trajectory(1.5 * W, 0.0, _start(6, 1), 300)[-1], rtol=1e-12, atol=1e-14)
    assert not np.allclose(a0, a1)


@pytest.mark.parametrize("fn", [R.regimes, R.regime_kinds])
@pytest.mark.parametrize("kw, name", [
    (dict(W=np.ones((2, 3)), scales=[1.0]), "W must"),
    (dict(W=np.ones(3), scales=[1.0]), "W must"),
    (dict(W=np.eye(3), scales=[1.0], seed=-1), "seed"),
    (dict(W=np.eye(3), scales=[1.0], seed=0.5), "seed"),
])
def test_regimes_bad_input(fn, kw, name):
    with pytest.raises(ValueError, match=name):
        fn(**kw)


def test_regimes_reject_a_bias_of_the_wrong_length():
    with pytest.raises(ValueError):                              # numpy's broadcast error: it does not name b
        R.regimes(np.eye(3), [1.0], np.ones(4))


def test_memory_curves_linear_twin_holds_about_as_many_inputs_as_units_and_the_tanh_network_fewer():
    """Chapter 1's memory cliff: without the tanh a random network's memory capacity approaches its number of units
    (a linear reservoir, Jaeger 2002); with the tanh it is several times smaller."""
    from rnnlib.theory.recurrence import memory_curves

    m = memory_curves(0.5, 8)
    assert m["linear"].sum() > 0.7 * 8 and m["tanh"].sum() < m["linear"].sum()
    assert all(0 <= x <= 1 + 1e-9 for x in m["tanh"])
    assert memory_curves(1.5, 8)["linear"] is None                 # rho > 1: the linear twin grows without bound
    with pytest.raises(ValueError, match="rho"):
        memory_curves(-1.0, 8)
