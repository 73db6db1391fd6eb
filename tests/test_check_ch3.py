"""Chapter 3 checkers, both ways: they accept right answers and reject typical wrong ones with a specific hint."""
import numpy as np
import pytest

from rnnlib import check

from rnnlib.theory import dynamics, gradients


def tanh_prime(x):
    return 1 - np.tanh(x) ** 2


def test_step_jacobian_accepts_right_answers():
    assert check.check_step_jacobian(lambda W, x: W @ np.diag(tanh_prime(x)))
    assert check.check_step_jacobian(lambda W, x: gradients.step_jacobians(W, np.stack([x, x]))[0])


@pytest.mark.parametrize("wrong,needle", [
    (lambda W, x: np.diag(tanh_prime(x)) @ W, "wrong side"),
    (lambda W, x: W.T @ np.diag(tanh_prime(x)), "transposed"),
    (lambda W, x: W, "derivative of tanh is missing"),
    (lambda W, x: W @ np.diag(np.tanh(x)), "not by its derivative"),
    (lambda W, x: W @ np.diag(1 - x ** 2), "1 - tanh(x)^2"),
    (lambda W, x: 2 * W, "wrong values"),
])
def test_step_jacobian_rejects_typical_mistakes(wrong, needle):
    fb = check.check_step_jacobian(wrong)
    assert not fb and needle in fb.message


def test_bifurcation_points_both_ways():
    def mine(w):
        s = (1 + np.array([-1, 1]) * np.sqrt(1 - 4 / w)) / 2
        x = np.log(s / (1 - s))
        return tuple(sorted(x - w * s))

    assert check.check_bifurcation_points(mine)
    assert check.check_bifurcation_points(dynamics.bifurcation_points)
    fb = check.check_bifurcation_points(lambda w: dynamics.slope_critical_points(w))
    assert not fb and "states" in fb.message
    fb = check.check_bifurcation_points(lambda w: dynamics.bifurcation_points(w)[::-1])
    assert not fb and "order" in fb.message
    fb = check.check_bifurcation_points(lambda w: (-w / 2, -w / 2))
    assert not fb
    assert not check.check_bifurcation_points(None)


def test_pascanu_eta_both_ways():
    gam = {"tanh": 1.0, "sigmoid": 0.25, "linear": 1.0}
    assert check.check_pascanu_eta(lambda W, a: gam[a] * np.linalg.svd(W, compute_uv=False)[0])
    fb = check.check_pascanu_eta(lambda W, a: gam[a] * max(abs(np.linalg.eigvals(W))))
    assert not fb and "singular" in fb.message
    fb = check.check_pascanu_eta(lambda W, a: np.linalg.norm(W, 2))
    assert not fb and "gamma is missing" in fb.message
    fb = check.check_pascanu_eta(lambda W, a: gam[a] * np.linalg.norm(W))
    assert not fb and "Frobenius" in fb.message


def test_unfinished_stubs_get_a_friendly_message():
    def stub(W, x):
        raise NotImplementedError

    fb = check.check_step_jacobian(stub)
    assert not fb and "not implemented" in fb.message
    fb = check.check_pascanu_eta(lambda W, a: None)
    assert not fb and "None" in fb.message


# --- issue 14: hints for the mistakes a reader tried -------------------------------------------------

def _sig(x):
    return 1 / (1 + np.exp(-x))


def test_step_jacobian_names_the_sigmoid_slope():
    assert check.check_step_jacobian(lambda W, x: W @ np.diag(tanh_prime(x)))
    fb = check.check_step_jacobian(lambda W, x: W @ np.diag(_sig(x) * (1 - _sig(x))))
    assert not fb and "sigmoid's derivative" in fb.message


def _bif_from(b_of):
    """A bifurcation_points answer that solves sigma (1 - sigma) = 1/w right and then gets b wrong."""
    def answer(w):
        s = (1 + np.array([-1.0, 1.0]) * np.sqrt(1 - 4 / w)) / 2
        return tuple(sorted(b_of(s, w)))
    return answer


@pytest.mark.parametrize("wrong, needle", [
    (_bif_from(lambda s, w: s - w * s), "logit is missing"),                      # sigma's value used as the state
    (_bif_from(lambda s, w: s - w * _sig(s)), "logit is missing"),
    (_bif_from(lambda s, w: -w * s), "state x_c is missing"),
    (_bif_from(lambda s, w: np.log(s) - w * s), "not log(s)"),
    (_bif_from(lambda s, w: np.log((1 - s) / s) - w * s), "upside down"),
])
def test_bifurcation_points_names_a_missing_logit(wrong, needle):
    assert check.check_bifurcation_points(_bif_from(lambda s, w: np.log(s / (1 - s)) - w * s))
    fb = check.check_bifurcation_points(wrong)
    assert not fb and needle in fb.message, fb.message


@pytest.mark.parametrize("wrong, needle", [
    (lambda W, a: {"tanh": 1, "sigmoid": 0.5, "linear": 1}[a] * np.linalg.norm(W, 2), "1/4"),
    (lambda W, a: {"tanh": 1, "sigmoid": 0.25, "linear": 1}[a] * np.max(np.linalg.eigvalsh(W.T @ W)), "square root"),
    (lambda W, a: {"tanh": 1, "sigmoid": 0.25, "linear": 1}[a] * np.linalg.svd(W)[1][-1], "smallest"),
])
def test_pascanu_eta_names_wrong_gamma_and_wrong_singular_value(wrong, needle):
    assert check.check_pascanu_eta(lambda W, a: {"tanh": 1, "sigmoid": 0.25, "linear": 1}[a] * np.linalg.norm(W, 2))
    fb = check.check_pascanu_eta(wrong)
    assert not fb and needle in fb.message, fb.message
