"""The chapter 1 exercise checkers accept right answers and reject the typical wrong ones."""
import numpy as np
import pytest
import torch

from rnnlib import check
from rnnlib.check import ch1_basics


# --- check_elman_step ----------------------------------------------------------------------------

from rnnlib.theory import recurrence

def elman_right(h, u, W_hh, W_xh, b):
    return np.tanh(W_hh @ h + W_xh @ u + b)


def test_elman_step_accepts_the_reference_and_the_torch_model():
    assert check.check_elman_step(elman_right)

    def via_rnnlib(h, u, W_hh, W_xh, b):   # rnnlib's row-vector form gives the same numbers
        return recurrence.elman_update(h, u, {"W_hh": W_hh, "W_xh": W_xh, "b_h": b})

    assert check.check_elman_step(via_rnnlib)


@pytest.mark.parametrize("wrong, fragment", [
    (None, "still None"),
    (lambda h, u, W, V, b: 1 / 0, "raised ZeroDivisionError"),
    (lambda h, u, W, V, b: W @ h + V @ u + b, "non-linearity"),
    (lambda h, u, W, V, b: np.tanh(W.T @ h + V @ u + b), "transposed"),
    (lambda h, u, W, V, b: np.tanh(W @ h + V @ u), "bias"),
    (lambda h, u, W, V, b: np.tanh(V @ u + b), "recurrent term"),
    (lambda h, u, W, V, b: np.tanh(W @ h + V @ u + b)[None, :], "shape"),
    (lambda h, u, W, V, b: np.tanh(W @ h + V @ u + 2 * b), "wrong values"),
])
def test_elman_step_rejects_typical_mistakes(wrong, fragment):
    fb = check.check_elman_step(wrong)
    assert not fb and fragment in fb.message


# --- check_newton_step ---------------------------------------------------------------------------

def newton_right(h, W, b):
    phi = np.tanh(W @ h + b)
    J = np.diag(1 - phi ** 2) @ W
    return h - np.linalg.inv(np.eye(len(h)) - J) @ (h - phi)


def test_newton_step_accepts_the_reference_and_an_autograd_version():
    assert check.check_newton_step(newton_right)
    assert check.check_newton_step(recurrence.newton_step)

    def via_autograd(h, W, b):
        Wt, bt = torch.tensor(W), torch.tensor(b)
        G = lambda x: x - torch.tanh(Wt @ x + bt)
        ht = torch.tensor(h)
        dG = torch.autograd.functional.jacobian(G, ht)
        return (ht - torch.linalg.solve(dG, G(ht))).numpy()

    assert check.check_newton_step(via_autograd)


def _step(dG, sign=-1.0):
    def f(h, W, b):
        phi = np.tanh(W @ h + b)
        return h + sign * np.linalg.solve(dG(h, W, phi), h - phi)
    return f


@pytest.mark.parametrize("wrong, fragment", [
    (None, "still None"),
    (lambda h, W, b: np.linalg.solve(np.zeros((len(h), len(h))), h), "raised LinAlgError"),
    (lambda h, W, b: (_ for _ in ()).throw(NotImplementedError), "not implemented"),
    (lambda h, W, b: None, "returned None"),
    (lambda h, W, b: np.tanh(W @ h + b), "plain iteration"),
    (_step(lambda h, W, p: -np.diag(1 - p ** 2) @ W), "identity"),
    (_step(lambda h, W, p: np.eye(len(h)) - np.diag(1 - h ** 2) @ W), "pre-activation"),
    (_step(lambda h, W, p: np.eye(len(h)) - np.diag(1 - p ** 2) @ W, sign=+1.0), "wrong sign"),
    (_step(lambda h, W, p: np.eye(len(h)) - np.diag(1 - p ** 2) @ W.T), "transposed"),
    (_step(lambda h, W, p: np.eye(len(h)) - W @ np.diag(1 - p ** 2)), "wrong side"),
    (_step(lambda h, W, p: np.eye(len(h)) - np.diag(1 - p ** 2)), "missing W"),
    (lambda h, W, b: newton_right(h, W, b)[:-1], "shape"),
    (lambda h, W, b: newton_right(h, W, b) + 1e-3, "wrong values"),
    ("newton", "must be a function"),
])
def test_newton_step_rejects_typical_mistakes(wrong, fragment):
    fb = check.check_newton_step(wrong)
    assert not fb and fragment in fb.message


def test_newton_step_reference_really_is_newton():
    """Independent of the checker: iterating the reference converges quadratically to h = tanh(W h + b)."""
    rng = np.random.default_rng(0)
    W, b = rng.normal(0, 0.5, (6, 6)), rng.normal(0, 0.3, 6)
    h = np.zeros(6)
    errs = []
    for _ in range(6):
        h = newton_right(h, W, b)
        errs.append(np.max(np.abs(h - np.tanh(W @ h + b))))
    assert errs[-1] < 1e-14
    assert errs[2] < errs[1] ** 1.5 or errs[1] < 1e-12      # quadratic convergence


# --- check_kv_cache_floats -----------------------------------------------------------------------

def test_kv_cache_accepts_the_count_in_any_numeric_type():
    right = 2 * 12 * 512 * 768
    assert right == 9_437_184
    for answer in (right, float(right), np.int64(right), np.float32(right), torch.tensor(right).item()):
        assert check.check_kv_cache_floats(answer)
    assert "MiB" in check.check_kv_cache_floats(right).message


@pytest.mark.parametrize("wrong, fragment", [
    (None, "still None"),
    ("9437184", "one number"),
    (lambda: 9437184, "one number"),
    ([9437184], "one number"),
    (True, "one number"),
    (12 * 512 * 768, "key and a value"),
    (2 * 512 * 768, "one layer"),
    (512 * 768, "every one of the 12 layers"),
    (2 * 12 * 768, "one token"),
    (12 * 768, "RNN"),
    (2 * 12 * 512 * 512 * 768, "attention matrix"),
    (9_437_185, "Count"),
])
def test_kv_cache_rejects_typical_mistakes(wrong, fragment):
    fb = check.check_kv_cache_floats(wrong)
    assert not fb and fragment in fb.message


def test_kv_cache_count_matches_the_measured_cache():
    """The checker's count equals the floats the library's cached attention predictor carries, per layer."""
    shape = ch1_basics.KV_CACHE_SHAPE
    from rnnlib.theory import context_cost
    p = context_cost.make_predictor("attention_cached", shape["window"], n_in=1, n_hidden=shape["width"])
    assert shape["layers"] * p.state_floats() == 9_437_184


# --- issue 14: hints for the mistakes a reader tried -------------------------------------------------

def _sig(x):
    return 1 / (1 + np.exp(-x))


@pytest.mark.parametrize("wrong, fragment", [
    (lambda h, u, W, V, b: _sig(W @ h + V @ u + b), "sigmoid where the Elman step has tanh"),
    (lambda h, u, W, V, b: np.tanh(W @ h) + V @ u + b, "recurrent term only"),
])
def test_elman_step_names_sigmoid_and_partial_tanh(wrong, fragment):
    assert check.check_elman_step(elman_right)
    fb = check.check_elman_step(wrong)
    assert not fb and fragment in fb.message, fb.message


def newton_with_phi_jacobian(h, W, b):
    """Newton's step built from J = dPhi/dh, the Jacobian of Phi(h) = tanh(W h + b), instead of dG/dh = I - J."""
    phi = np.tanh(W @ h + b)
    J = np.diag(1 - phi ** 2) @ W
    return h - np.linalg.solve(J, h - phi)


def newton_with_phi_jacobian_and_g_flipped(h, W, b):
    """The same mistake written with G(h) = Phi(h) - h."""
    phi = np.tanh(W @ h + b)
    J = np.diag(1 - phi ** 2) @ W
    return h - np.linalg.solve(J, phi - h)


def newton_sigmoid(h, W, b):
    s = _sig(W @ h + b)
    return h - np.linalg.solve(np.eye(len(h)) - np.diag(s * (1 - s)) @ W, h - s)


@pytest.mark.parametrize("wrong, fragment", [
    (newton_with_phi_jacobian, "Jacobian of Phi(h) = tanh(W h + b)"),
    (newton_with_phi_jacobian_and_g_flipped, "Jacobian of Phi(h) = tanh(W h + b)"),
    (_step(lambda h, W, p: np.eye(len(h)) - np.diag(1 - (np.arctanh(p)) ** 2) @ W), "1 - a^2"),
    (lambda h, W, b: newton_right(h, W, 0 * b), "bias b is missing"),
    (newton_sigmoid, "sigmoid where the map Phi(h)"),
])
def test_newton_step_names_the_jacobian_of_phi_and_other_slips(wrong, fragment):
    assert check.check_newton_step(newton_right)
    fb = check.check_newton_step(wrong)
    assert not fb and fragment in fb.message, fb.message


def test_newton_step_accepts_a_float32_computation_with_a_float64_result():
    """The reader's case: float32 inputs, np.eye (float64) promotes the result; off by 7e-8. Right to float32."""
    def mixed(h, W, b):
        h, W, b = (a.astype(np.float32) for a in (h, W, b))
        return newton_right(h, W, b)

    assert mixed(*ch1_basics._newton_case(np.random.default_rng(0))).dtype == np.float64
    fb = check.check_newton_step(mixed)
    assert fb, str(fb)
    assert "float32" in fb.message

    def in_float32_as_list(h, W, b):                            # all float32, read back as Python floats
        h, W, b = (a.astype(np.float32) for a in (h, W, b))
        phi = np.tanh(W @ h + b)
        dG = np.eye(len(h), dtype=np.float32) - np.diag(1 - phi ** 2) @ W
        return (h - np.linalg.solve(dG, h - phi)).tolist()

    fb = check.check_newton_step(in_float32_as_list)
    assert fb and "float32" in fb.message


@pytest.mark.parametrize("wrong, fragment", [
    (4 * 2 * 12 * 512 * 768, "bytes at float32"),
    (2 * 2 * 12 * 512 * 768, "bytes at float16"),
    (12 * 2 * 12 * 512 * 768, "heads share the width"),
])
def test_kv_cache_names_bytes_and_heads(wrong, fragment):
    assert check.check_kv_cache_floats(2 * 12 * 512 * 768)
    fb = check.check_kv_cache_floats(wrong)
    assert not fb and fragment in fb.message
