"""Chapter 5 checkers, both ways: the hints of issue 14 (the slips a reader tried) and the exercise's names.

The first tests of these checkers live beside the code they check: ``tests/test_lstm.py`` (check_gru_step) and
``tests/test_connectivity.py`` (check_forget_product).
"""
import numpy as np
import pytest

from rnnlib import check
from rnnlib.check import ch5_gates


def gru_right(x, h, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[0]
    a_x, a_h = W_ih @ x + b_ih, W_hh @ h + b_hh
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    r, z = sig(a_x[:H] + a_h[:H]), sig(a_x[H:2 * H] + a_h[H:2 * H])
    return (1 - z) * np.tanh(a_x[2 * H:] + r * a_h[2 * H:]) + z * h


def _gru(candidate=np.tanh, use_b_hh=True):
    """gru_right with the candidate's tanh replaced, or b_hh left out."""
    def step(x, h, W_ih, W_hh, b_ih, b_hh):
        H = h.shape[0]
        a_x, a_h = W_ih @ x + b_ih, W_hh @ h + (b_hh if use_b_hh else 0)
        sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
        r, z = sig(a_x[:H] + a_h[:H]), sig(a_x[H:2 * H] + a_h[H:2 * H])
        return (1 - z) * candidate(a_x[2 * H:] + r * a_h[2 * H:]) + z * h
    return step


@pytest.mark.parametrize("wrong, needle", [
    (_gru(candidate=lambda a: 1 / (1 + np.exp(-a))), "sigmoid where the GRU's candidate n has tanh"),
    (_gru(use_b_hh=False), "b_hh is missing"),
])
def test_gru_step_names_a_sigmoid_candidate_and_a_missing_bias(wrong, needle):
    assert check.check_gru_step(gru_right)
    fb = check.check_gru_step(wrong)
    assert not fb and needle in fb.message, fb.message


def test_gru_step_hint_uses_the_chapters_notation():
    """The exercise writes n = tanh(W_xn x + b_n + r (W_hn h + b_hn)); W_in is Pascanu's input matrix (chapter 3)."""
    fb = check.check_gru_step(lambda *a: ch5_gates._gru_variant(*a, bias_outside=True))
    assert not fb and "W_xn x + b_n" in fb.message and "W_in" not in fb.message


def forget_path(f):
    return np.concatenate([np.ones_like(f[:1]), np.cumprod(f, axis=0)])


def test_forget_product_messages_use_the_exercises_name():
    """The exercise asks for `forget_path`: the checker's messages name it so, not `forget_product`."""
    assert "`forget_path`" in check.check_forget_product(forget_path).message
    for answer in (None, lambda f: None, lambda f: f, lambda f: (_ for _ in ()).throw(NotImplementedError)):
        fb = check.check_forget_product(answer)
        assert not fb and "forget_path" in fb.message and "forget_product" not in fb.message, fb.message


ones = lambda f: np.ones_like(f[:1])  # noqa: E731


@pytest.mark.parametrize("wrong, needle", [
    (lambda f: np.concatenate([ones(f), np.cumprod(f, axis=-1)]), "over the units"),
    (lambda f: np.concatenate([ones(f), np.cumprod(f, axis=1)]), "over the batch"),
    (lambda f: np.concatenate([np.cumprod(f, axis=0), ones(f)]), "row of ones belongs first"),
    (lambda f: np.concatenate([ones(f), np.cumprod(1 - f, axis=0)]), "not 1 - f"),
    (lambda f: np.cumprod(np.concatenate([ones(f), ones(f), f[:-1]]), axis=0), "Off by one step"),
])
def test_forget_product_names_axis_order_and_off_by_one_slips(wrong, needle):
    assert check.check_forget_product(forget_path)
    fb = check.check_forget_product(wrong)
    assert not fb and needle in fb.message, fb.message
