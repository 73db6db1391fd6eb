"""The chapter 2 exercise checkers accept right answers and reject the typical wrong ones."""
import numpy as np
import pytest
import torch

from rnnlib import check
from rnnlib.check import ch2_bptt

from rnnlib.theory import bptt


def _tanh_prime(a):
    return 1.0 - np.tanh(a) ** 2


# --- check_bptt_step -----------------------------------------------------------------------------

def bptt_step_right(delta_next, g_out, a, W_hh):
    return (g_out + W_hh.T @ delta_next) * _tanh_prime(a)


def test_bptt_step_accepts_the_reference_and_an_autograd_version():
    assert check.check_bptt_step(bptt_step_right)

    def via_autograd(delta_next, g_out, a, W_hh):
        # delta_t = dE/da_t for E = g_out . h_t + delta_next . (W_hh h_t), with h_t = tanh(a_t)
        a_t = torch.tensor(a, requires_grad=True)
        h = torch.tanh(a_t)
        E = torch.tensor(g_out) @ h + torch.tensor(delta_next) @ (torch.tensor(W_hh) @ h)
        E.backward()
        return a_t.grad.numpy()

    assert check.check_bptt_step(via_autograd)


@pytest.mark.parametrize("wrong, fragment", [
    (lambda d, g, a, W: (g + W @ d) * _tanh_prime(a), "transposed"),
    (lambda d, g, a, W: g + W.T @ d, "derivative of tanh is missing"),
    (lambda d, g, a, W: (g + W.T @ d) * (1 - a ** 2), "1 - a^2"),
    (lambda d, g, a, W: (W.T @ d) * _tanh_prime(a), "g_out"),
    (lambda d, g, a, W: (g + W.T @ d) * _tanh_prime(a) * 1.01, "wrong values"),
    (lambda d, g, a, W: np.zeros((len(a), 1)), "shape"),
])
def test_bptt_step_rejects_typical_mistakes(wrong, fragment):
    fb = check.check_bptt_step(wrong)
    assert not fb
    assert fragment in fb.message


def test_bptt_step_rejects_none_stubs_and_crashes():
    assert "None" in check.check_bptt_step(None).message

    def stub(delta_next, g_out, a, W_hh):
        raise NotImplementedError

    assert "not implemented" in check.check_bptt_step(stub).message

    def crash(delta_next, g_out, a, W_hh):
        return W_hh @ np.ones(7)

    fb = check.check_bptt_step(crash)
    assert not fb and "raised ValueError" in fb.message
    assert "returned None" in check.check_bptt_step(lambda d, g, a, W: None).message
    assert "must be a function" in check.check_bptt_step(3.0).message


# --- check_jacobian_product ----------------------------------------------------------------------

def jacobian_product_right(W_hh, a):
    J = np.eye(W_hh.shape[0])
    for a_i in a:
        J = np.diag(_tanh_prime(a_i)) @ W_hh @ J
    return J


def test_jacobian_product_accepts_the_reference():
    assert check.check_jacobian_product(jacobian_product_right)


def test_jacobian_product_reference_is_the_state_jacobian_of_the_rnn():
    """The checker's reference equals d h_t / d h_k of an actual RNN (torch autograd, float64)."""
    rng = np.random.default_rng(0)
    H, T, k = 4, 6, 2
    params = bptt.init_params(2, H, 1, scale=1.3, seed=1)
    u = rng.normal(size=(T, 1, 2))
    a = bptt.forward(params, u)["a"][:, 0]                         # a[i - 1] = a_i
    h_k = torch.tensor(bptt.forward(params, u)["h"][k, 0])
    W, V = torch.tensor(params["W_hh"]), torch.tensor(params["W_xh"])

    def run(h):
        for i in range(k + 1, T + 1):
            h = torch.tanh(W @ h + V @ torch.tensor(u[i - 1, 0]))
        return h

    J = torch.autograd.functional.jacobian(run, h_k).numpy()
    np.testing.assert_allclose(ch2_bptt._jacobian_product_ref(params["W_hh"], a[k:T]), J, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("wrong, fragment", [
    (lambda W, a: ch2_bptt._product([np.diag(_tanh_prime(x)) @ W for x in a], reverse=True), "wrong order"),
    (lambda W, a: ch2_bptt._product([W @ np.diag(_tanh_prime(x)) for x in a]), "not W_hh diag"),
    (lambda W, a: ch2_bptt._product([np.diag(_tanh_prime(x)) @ W.T for x in a]), "transposed"),
    (lambda W, a: np.linalg.matrix_power(W, len(a)), "derivative of tanh is missing"),
    (lambda W, a: ch2_bptt._product([np.diag(1 - x ** 2) @ W for x in a]), "1 - a^2"),
    (lambda W, a: np.diag(_tanh_prime(a[-1])) @ W, "wrong values"),
])
def test_jacobian_product_rejects_typical_mistakes(wrong, fragment):
    fb = check.check_jacobian_product(wrong)
    assert not fb
    assert fragment in fb.message


def test_jacobian_product_rejects_none_and_crashes():
    assert "None" in check.check_jacobian_product(None).message
    fb = check.check_jacobian_product(lambda W, a: W @ a)         # (H, H) @ (n, H): shapes do not fit
    assert not fb and "raised" in fb.message


# --- check_central_difference --------------------------------------------------------------------

def central_difference_right(f, x, eps):
    g = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        old = x[i]
        x[i] = old + eps
        f_plus = f(x)
        x[i] = old - eps
        f_minus = f(x)
        x[i] = old                                                 # restore before the next entry
        g[i] = (f_plus - f_minus) / (2 * eps)
    return g


def test_central_difference_accepts_the_reference_and_a_smaller_eps():
    assert check.check_central_difference(central_difference_right)
    assert check.check_central_difference(lambda f, x, eps: central_difference_right(f, x, 1e-6))


def test_central_difference_cases_cover_the_rnn_loss():
    cases = ch2_bptt._cases(ch2_bptt._fd_case, n=4, seed=2)
    kinds = {type(f).__name__ for f, _, _ in cases}
    assert kinds == {"_Quartic", "_RNNLoss"}
    f, x, eps = next(c for c in cases if isinstance(c[0], ch2_bptt._RNNLoss))
    np.testing.assert_allclose(f.grad(x), bptt.numerical_gradient(f._with(x), f.u, f.target, "W_hh"),
                               rtol=1e-6, atol=1e-9)


def forgets_to_restore(f, x, eps):
    g = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        x[i] += eps
        f_plus = f(x)
        x[i] -= 2 * eps
        f_minus = f(x)                                             # x[i] is left at x - eps
        g[i] = (f_plus - f_minus) / (2 * eps)
    return g


@pytest.mark.parametrize("wrong, fragment", [
    (lambda f, x, e: ch2_bptt._one_sided(f, x, e), "forward"),
    (lambda f, x, e: ch2_bptt._one_sided(f, x, e, -1.0), "backward"),
    (lambda f, x, e: ch2_bptt._central(f, x, e, 1.0), "twice the gradient"),
    (lambda f, x, e: ch2_bptt._central(f, x, 1e-2), "wrong values"),    # eps far too large
    (forgets_to_restore, "never restore"),
    (lambda f, x, e: f(x), "shape"),
])
def test_central_difference_rejects_typical_mistakes(wrong, fragment):
    fb = check.check_central_difference(wrong)
    assert not fb
    assert fragment in fb.message


def test_central_difference_rejects_none_stubs_and_crashes():
    assert "None" in check.check_central_difference(None).message

    def stub(f, x, eps):
        raise NotImplementedError

    assert "not implemented" in check.check_central_difference(stub).message
    fb = check.check_central_difference(lambda f, x, eps: f(x + eps, x - eps))
    assert not fb and "raised TypeError" in fb.message


# --- issue 14: hints for the mistakes a reader tried -------------------------------------------------

def _sig(x):
    return 1 / (1 + np.exp(-x))


@pytest.mark.parametrize("wrong, fragment", [
    (lambda d, g, a, W: g * _tanh_prime(a) + W.T @ d, "multiplies only the output path"),
    (lambda d, g, a, W: g + (W.T @ d) * _tanh_prime(a), "multiplies only the recurrent path"),
    (lambda d, g, a, W: g + W.T @ (d * _tanh_prime(a)), "at the wrong step"),
    (lambda d, g, a, W: g * _tanh_prime(a), "W_hh^T delta_next is missing"),
    (lambda d, g, a, W: (g + W.T @ d) * np.tanh(a), "not by its derivative"),
    (lambda d, g, a, W: (g + W.T @ d) * _sig(a) * (1 - _sig(a)), "sigmoid's derivative"),
])
def test_bptt_step_names_where_tanh_prime_goes(wrong, fragment):
    assert check.check_bptt_step(bptt_step_right)
    fb = check.check_bptt_step(wrong)
    assert not fb and fragment in fb.message, fb.message


@pytest.mark.parametrize("wrong, fragment", [
    (lambda W, a: jacobian_product_right(W, a[1:]), "One factor is missing"),
    (lambda W, a: jacobian_product_right(W, a[:-1]), "One factor is missing"),
    (lambda W, a: ch2_bptt._product([np.diag(np.tanh(x)) @ W for x in a]), "not by its derivative"),
    (lambda W, a: ch2_bptt._product([np.diag(_sig(x) * (1 - _sig(x))) @ W for x in a]), "sigmoid's derivative"),
])
def test_jacobian_product_names_off_by_one_and_wrong_slopes(wrong, fragment):
    assert check.check_jacobian_product(jacobian_product_right)
    fb = check.check_jacobian_product(wrong)
    assert not fb and fragment in fb.message, fb.message


def forgets_to_restore_minus_first(f, x, eps):
    g = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        x[i] -= eps
        f_minus = f(x)
        x[i] += 2 * eps
        g[i] = (f(x) - f_minus) / (2 * eps)                        # x[i] is left at x + eps
    return g


def undoes_before_minus(f, x, eps):
    g = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        x[i] += eps
        f_plus = f(x)
        x[i] -= eps                                                # back to x, not to x - eps
        g[i] = (f_plus - f(x)) / (2 * eps)
    return g


def aliased_copies(f, x, eps):
    g = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        x_plus = x                                                 # not a copy: the same array
        x_plus[i] += eps
        x_minus = x
        x_minus[i] -= eps
        g[i] = (f(x_plus) - f(x_minus)) / (2 * eps)
    return g


@pytest.mark.parametrize("wrong, fragment", [
    (forgets_to_restore, "never restore it: after entry i, x[i] stays at x[i] - eps"),
    (forgets_to_restore_minus_first, "x[i] stays at x[i] + eps"),
    (undoes_before_minus, "half a forward difference"),
    (aliased_copies, "same point"),
    (lambda f, x, eps: np.full_like(x, (f(x + eps) - f(x - eps)) / (2 * eps)), "every entry at once"),
])
def test_central_difference_names_in_place_perturbation_slips(wrong, fragment):
    assert check.check_central_difference(central_difference_right)
    fb = check.check_central_difference(wrong)
    assert not fb and fragment in fb.message, fb.message


def test_central_difference_still_needs_float64_accuracy():
    """Unlike the others, this checker rejects a float64 result carrying float32 rounding: accuracy is the point."""
    fb = check.check_central_difference(
        lambda f, x, eps: f.grad(x) * (1 + 1e-5))                  # the exact gradient, off by a float32-sized 1e-5
    assert not fb and "float32 precision only" in fb.message


def test_jacobian_product_accepts_a_float32_computation_with_a_float64_result():
    fb = check.check_jacobian_product(lambda W, a: jacobian_product_right(W.astype(np.float32), a.astype(np.float32)))
    assert fb and "float32" in fb.message, str(fb)
