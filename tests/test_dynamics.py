"""rnnlib.theory.dynamics: the single-unit map x_t = w sigma(x_{t-1}) + b (closed forms against numerics)."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from rnnlib.theory import dynamics as D


def test_sigmoid_and_logit():
    x = np.linspace(-30, 30, 101)
    np.testing.assert_allclose(D.sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(D.logit(D.sigmoid(np.linspace(-8, 8, 17))), np.linspace(-8, 8, 17), atol=1e-9)


@pytest.mark.parametrize("w", [4.5, 5.0, 6.0, 8.0])
def test_bifurcation_points_satisfy_both_conditions(w):
    for x_c in D.slope_critical_points(w):
        assert w * D.dsigmoid(x_c) == pytest.approx(1.0, rel=1e-12)     # slope of the map is one
    b1, b2 = D.bifurcation_points(w)
    # at b1 and b2 the fixed point equation has a double root: x_c = w sigma(x_c) + b
    xs = D.slope_critical_points(w)
    residuals = sorted(abs(x - w * D.sigmoid(x) - b) for x in xs for b in (b1, b2))
    assert residuals[0] < 1e-12 and residuals[1] < 1e-12


@pytest.mark.parametrize("w", [5.0, 6.0, 8.0])
def test_closed_form_equals_numerical_diagram(w):
    grid = np.linspace(-w / 2 - 2, -w / 2 + 2, 4001)
    step = grid[1] - grid[0]
    num = D.numerical_bifurcation_points(w, grid, T=3000)
    closed = D.bifurcation_points(w)
    assert abs(num[0] - closed[0]) <= step and abs(num[1] - closed[1]) <= step


def test_w5_values_and_symmetry():
    b1, b2 = D.bifurcation_points(5.0)
    assert b1 == pytest.approx(-2.6556, abs=1e-4) and b2 == pytest.approx(-2.3444, abs=1e-4)


@settings(max_examples=30, deadline=None)
@given(w=st.floats(4.05, 30.0))
def test_bistable_range_is_symmetric_about_minus_w_over_2(w):
    # sigma(-x) = 1 - sigma(x) makes the map symmetric about b = -w/2, so b1 + b2 = -w
    b1, b2 = D.bifurcation_points(w)
    assert b1 < b2
    assert b1 + b2 == pytest.approx(-w, abs=1e-9)


@pytest.mark.parametrize("b", [-3.0, -2.6, -2.5, -2.4, -2.0])
def test_fixed_points_and_their_stability(b):
    w = 5.0
    fps = D.fixed_points(w, b)
    b1, b2 = D.bifurcation_points(w)
    assert len(fps) == (3 if b1 < b < b2 else 1)
    for x, stable in fps:
        assert abs(w * D.sigmoid(x) + b - x) < 1e-10
        # stability by iteration: a small push decays for an attractor and grows for the unstable point
        moved = D.iterate(x + 1e-7, w, b, 60) - x
        assert (abs(moved) < 1e-7) == stable


def test_basin_boundary_separates_the_attractors():
    w, b = 5.0, -2.55
    lo, mid, hi = [x for x, _ in D.fixed_points(w, b)]
    assert D.basin_boundary(w, b) == pytest.approx(mid)
    assert D.iterate(mid - 1e-6, w, b, 3000) == pytest.approx(lo, abs=1e-8)
    assert D.iterate(mid + 1e-6, w, b, 3000) == pytest.approx(hi, abs=1e-8)
    assert np.isnan(D.basin_boundary(w, -2.0))


def test_sensitivities_equal_autograd_and_finite_differences():
    w, T = 5.0, 30
    for x0, b in [(0.5, -2.7), (3.0, -2.2), (-1.0, -3.0)]:
        s = D.sensitivities(x0, w, b, T)
        bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
        xt = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        x = xt
        for _ in range(T):
            x = w * torch.sigmoid(x) + bt
        x.backward()
        assert s["x"] == pytest.approx(x.item(), rel=1e-12)
        assert s["dx_db"] == pytest.approx(float(bt.grad), rel=1e-9)
        assert s["dx_dx0"] == pytest.approx(float(xt.grad), rel=1e-9, abs=1e-300)
        fd = (D.iterate(x0, w, b + 1e-7, T) - D.iterate(x0, w, b - 1e-7, T)) / 2e-7
        assert s["dx_db"] == pytest.approx(fd, rel=1e-5)


def test_sensitivity_on_the_basin_boundary_grows_like_a_geometric_series():
    # x0 on the unstable fixed point stays there, so dx_T/db = sum_{j<T} lambda^j, lambda = w sigma'(x0) > 1
    w, x0, T = 5.0, 0.5, 20
    b = D.crossing_bias(x0, w)
    lam = w * D.dsigmoid(x0)
    assert lam > 1
    assert D.sensitivities(x0, w, b, T)["dx_db"] == pytest.approx((lam ** T - 1) / (lam - 1), rel=1e-6)
    # away from the boundary and the bifurcations it stays tame
    assert abs(D.sensitivities(x0, w, -2.0, 200)["dx_db"]) < 3


def test_branches_exist_where_theory_says():
    w = 5.0
    b1, b2 = D.bifurcation_points(w)
    b = np.array([b1 - 0.1, (b1 + b2) / 2, b2 + 0.1])
    br = D.fixed_point_branches(w, b)
    assert np.isfinite(br["low"]).tolist() == [True, True, False]
    assert np.isfinite(br["high"]).tolist() == [False, True, True]
    assert np.isfinite(br["unstable"]).tolist() == [False, True, False]
    one = D.fixed_point_branches(3.0, np.array([-1.0]))
    assert one["low"][0] == pytest.approx(one["high"][0]) and np.isnan(one["unstable"][0])


def test_bad_inputs():
    with pytest.raises(ValueError, match="w"):
        D.bifurcation_points(3.0)
    with pytest.raises(ValueError, match="T"):
        D.iterate(0.0, 5.0, -2.5, -1)
    with pytest.raises(ValueError, match="b_grid"):
        D.numerical_bifurcation_points(5.0, np.linspace(0, 1, 5))
    with pytest.raises(ValueError, match="w must be a finite number"):
        D.fixed_points(float("nan"), 0.0)
