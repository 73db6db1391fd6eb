"""rnnlib.theory.surface: exact derivatives of E(w, b) = (sigma(x_50) - 0.7)^2 against autograd, the wall, SGD paths."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from rnnlib.theory import surface as S


def torch_E(wb, T=50):
    w, b = wb[0], wb[1]
    x = torch.tensor(0.5, dtype=torch.float64)
    for _ in range(T):
        x = w * torch.sigmoid(x) + b
    return (torch.sigmoid(x) - 0.7) ** 2


@pytest.mark.parametrize("w,b", [(1.0, -0.5), (3.3, -1.5), (5.0, -2.62), (6.0, -3.2), (-2.0, 1.0), (7.0, -4.0)])
def test_derivatives_equal_autograd(w, b):
    d = S.derivatives(w, b)
    wb = torch.tensor([w, b], dtype=torch.float64, requires_grad=True)
    E = torch_E(wb)
    (g,) = torch.autograd.grad(E, wb)
    Hm = torch.autograd.functional.hessian(torch_E, wb.detach())
    assert float(d["E"]) == pytest.approx(E.item(), rel=1e-10, abs=1e-15)
    scale = max(abs(float(g[0])), abs(float(g[1])), 1e-12)
    assert abs(float(d["dw"]) - float(g[0])) <= 1e-8 * scale
    assert abs(float(d["db"]) - float(g[1])) <= 1e-8 * scale
    hs = float(Hm.abs().max()) + 1e-12
    for key, (i, j) in {"ww": (0, 0), "wb": (0, 1), "bb": (1, 1)}.items():
        assert abs(float(d[key]) - float(Hm[i, j])) <= 1e-7 * hs


def test_grid_broadcasts_like_pointwise():
    g = S.grid((2.0, 6.0), (-4.0, 0.0), (5, 7))
    i, j = 3, 4
    d = S.derivatives(g["w"][i, j], g["b"][i, j])
    assert g["grad"][i, j] == pytest.approx(float(np.hypot(d["dw"], d["db"])))
    assert g["E"][i, j] == pytest.approx(float(S.loss(g["w"][i, j], g["b"][i, j])))


@pytest.mark.parametrize("t", [1, 2, 10, 50])
def test_linear_case_closed_forms(t):
    for w in (0.9, 1.0, 1.1):
        wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
        x = 0.5 * wt ** t
        (d1,) = torch.autograd.grad(x, wt, create_graph=True)
        (d2,) = torch.autograd.grad(d1, wt) if t > 1 else (torch.tensor(0.0),)
        lin = S.linear_derivatives(w, t)
        assert lin["dw"] == pytest.approx(d1.item(), rel=1e-12)
        assert lin["dww"] == pytest.approx(d2.item(), rel=1e-12, abs=1e-300)
    # gradient and curvature explode together: their ratio is (t - 1) / w
    lin = S.linear_derivatives(1.2, t)
    assert lin["dww"] / lin["dw"] == pytest.approx((t - 1) / 1.2)


def test_the_wall_is_the_basin_boundary_and_grows_like_lambda_to_the_T():
    w = np.linspace(5.5, 8.0, 11)
    prof = S.wall_profile(w)
    assert np.all(np.abs(prof["b"] - S.wall_bias(w)) < 1e-4)
    lam = w * S.dsigmoid(S.X0)
    ratio = prof["grad"] / lam ** (S.STEPS - 1)
    assert np.all((ratio > 0.1) & (ratio < 10))
    assert np.all(np.diff(prof["grad"]) > 0)
    assert np.all(prof["curv"] > prof["grad"])                  # the curvature explodes with the gradient
    # E jumps across the wall: the two sides go to different attractors
    for wi in (6.0, 7.0):
        bc = float(S.wall_bias(wi))
        assert abs(float(S.loss(wi, bc - 1e-3)) - float(S.loss(wi, bc + 1e-3))) > 0.3


def test_grid_maximum_is_on_the_wall():
    g = S.grid((1.0, 8.0), (-5.5, 0.5), (120, 140))
    top = S.largest_gradient(g)
    db = np.diff(g["b"][:, 0])[0]
    assert abs(top["b"] - float(S.wall_bias(top["w"]))) < 2 * db
    assert top["grad"] > 100 * np.median(g["grad"])


def test_sgd_is_plain_gradient_descent():
    p = S.sgd_path(3.0, -2.0, 0.5, 5)
    for n in range(5):
        d = S.derivatives(*p.points[n])
        np.testing.assert_allclose(p.points[n + 1], p.points[n] - 0.5 * np.array([d["dw"], d["db"]]), rtol=1e-13)
    assert p.points.shape == (6, 2) and p.losses.shape == (6,) and not p.clipped.any()


@settings(max_examples=25, deadline=None)
@given(w0=st.floats(1.0, 8.0), b0=st.floats(-5.0, 0.0), clip=st.floats(0.05, 2.0), lr=st.floats(0.05, 2.0))
def test_clipping_caps_the_step_and_keeps_the_direction(w0, b0, clip, lr):
    p = S.sgd_path(w0, b0, lr, 8, clip=clip)
    assert np.all(p.jumps <= lr * clip * (1 + 1e-9) + 1e-12)
    for n in range(len(p.jumps)):
        d = S.derivatives(*p.points[n])
        g = np.array([d["dw"], d["db"]], dtype=float)
        step = p.points[n] - p.points[n + 1]
        if np.linalg.norm(g) > 0:
            cos = step @ g / (np.linalg.norm(step) * np.linalg.norm(g) + 1e-300)
            assert cos > 1 - 1e-9


def test_unclipped_sgd_is_thrown_off_the_wall_and_clipping_prevents_it():
    p = S.sgd_path(6.0, -4.5, 1.0, 200)
    k = int(np.argmax(p.jumps))
    assert p.jumps[k] > 100 and p.grad_norms[k] > 100
    assert p.grad_norms[-1] < 1e-8                              # stranded on a plateau
    q = S.sgd_path(6.0, -4.5, 1.0, 400, clip=1.0)
    assert q.jumps.max() <= 1.0 + 1e-12 and q.losses[-1] < 1e-3


def test_bad_inputs():
    with pytest.raises(ValueError, match="lr"):
        S.sgd_path(1.0, 0.0, 0.0, 3)
    with pytest.raises(ValueError, match="clip"):
        S.sgd_path(1.0, 0.0, 0.1, 3, clip=-1.0)
    with pytest.raises(ValueError, match="steps"):
        S.sgd_path(1.0, 0.0, 0.1, 0)
    with pytest.raises(ValueError, match="T"):
        S.derivatives(1.0, 0.0, T=0)
