"""Every exercise checker gives feedback, never an exception, whatever the reader hands it.

A junk answer (None, a string, a function that raises or returns nonsense, a tensor that requires grad)
must come back as a falsy ``Feedback`` with a message; a right answer computed with torch, or in float32,
must be accepted. Also the regression tests for the answers a review found to crash the checkers.
"""
import functools

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from rnnlib import check
from rnnlib.check import ch1_basics, ch2_bptt, ch4_clipping, ch5_gates, ch6_ssm
from rnnlib.models import ssm

CHECKER_NAMES = [n for n in check.__all__ if n.startswith("check_")]


def _checker(name):
    """The checker called ``name``; ``check_value`` (the generic number check) with a fixed expected value."""
    fn = getattr(check, name)
    return functools.partial(fn, expected=3.0, name="x") if name == "check_value" else fn


def _raises(*args):
    raise ValueError("the reader's bug")


def _one_argument(x):
    return x


def _nine_arguments(a, b, c, d, e, f, g, h, i):
    return a


JUNK = {
    "None": None,
    "the int 42": 42,
    "a string": "abc",
    "a function that raises": _raises,
    "returns None": lambda *a: None,
    "returns a str": lambda *a: "x",
    "returns a list": lambda *a: [1, 2],
    "returns a dict": lambda *a: {},
    "returns a 3-d array": lambda *a: np.zeros((7, 7, 7)),
    "returns NaN": lambda *a: np.nan,
    "returns inf": lambda *a: np.inf,
    "returns a complex array": lambda *a: np.full(3, 1 + 2j),
    "returns a tensor requiring grad": lambda *a: torch.ones(3, requires_grad=True) * 2,
    "returns an int": lambda *a: 7,
    "returns a meta tensor": lambda *a: torch.empty(4, device="meta"),   # stands in for "on another device"
    "returns a ragged tuple": lambda *a: (np.ones(2), np.ones(3)),
    "takes one argument": _one_argument,
    "takes no argument": lambda: 0.0,
    "takes nine arguments": _nine_arguments,
}


def test_every_checker_is_covered():
    """Every check_* defined in a chapter module is exported, so the junk tests below reach it."""
    import importlib
    import pkgutil

    defined = set()
    for mod in pkgutil.iter_modules(check.__path__):
        module = importlib.import_module(f"rnnlib.check.{mod.name}")
        defined |= {n for n in vars(module) if n.startswith("check_") and callable(getattr(module, n))}
    assert defined <= set(CHECKER_NAMES)
    assert len(CHECKER_NAMES) >= 18   # 17 exercise checkers (chapters 1-7) plus check_value


@pytest.mark.parametrize("junk", list(JUNK), ids=list(JUNK))
@pytest.mark.parametrize("name", CHECKER_NAMES)
def test_junk_answers_get_negative_feedback_not_an_exception(name, junk):
    fb = _checker(name)(JUNK[junk])
    assert isinstance(fb, check.Feedback)
    assert not fb, (name, junk, str(fb))
    assert isinstance(fb.message, str) and fb.message.strip()
    assert str(fb).startswith("Not yet") and fb._repr_html_()


_values = st.one_of(
    st.none(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5),
    st.lists(st.floats(-1e3, 1e3), max_size=6), st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    hnp.arrays(st.sampled_from([np.float64, np.float32, np.int64, np.complex128, np.bool_]),
               hnp.array_shapes(min_dims=0, max_dims=3, max_side=5)),
    st.tuples(hnp.arrays(np.float64, st.integers(1, 5)), hnp.arrays(np.float64, st.integers(1, 5))),
)


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(CHECKER_NAMES), value=_values, call=st.booleans())
def test_checkers_never_raise_on_random_results(name, value, call):
    """Property: a checker handed a random value, or a function that returns it, answers with Feedback."""
    answer = (lambda *a: value) if call else value
    fb = _checker(name)(answer)
    assert isinstance(fb, check.Feedback) and fb.message


# --- regressions: answers that crashed the checkers ------------------------------------------------

@pytest.mark.parametrize("name", ["check_omega_term", "check_pascanu_eta", "check_fused_step"])
def test_function_returning_a_string_is_told_what_was_expected(name):
    fb = getattr(check, name)(lambda *a: "0.5")
    assert not fb
    assert "returned a str; expected a single number" in fb.message


def test_scan_combine_with_the_wrong_shape():
    fb = check.check_scan_combine(lambda a1, b1, a2, b2: (a2 * a1, (a2 * b1 + b2)[None]))
    assert not fb and "expected a tuple of 2 arrays of shape (4,)" in fb.message
    fb = check.check_scan_combine(lambda a1, b1, a2, b2: np.stack([a2 * a1, a2 * b1 + b2])[:, :2])
    assert not fb and "shape" in fb.message


def test_scan_combine_that_fails_only_inside_the_scan():
    def vectors_only(a1, b1, a2, b2):
        if np.ndim(a1) != 1:
            raise ValueError("expected vectors")
        return ssm.scan_combine(a1, b1, a2, b2)

    fb = check.check_scan_combine(vectors_only)
    assert not fb and "doubling scan" in fb.message and "ValueError: expected vectors" in fb.message

    def wrong_shape_in_scan(a1, b1, a2, b2):   # right on the (4,) cases, flattens the scan's (n, 3) arrays
        a, b = ssm.scan_combine(a1, b1, a2, b2)
        return a.ravel(), b.ravel()

    fb = check.check_scan_combine(wrong_shape_in_scan)
    assert not fb and "doubling scan" in fb.message and "shape" in fb.message


def test_scan_combine_accepts_torch_tensors():
    def via_torch(a1, b1, a2, b2):
        a1, b1, a2, b2 = (torch.from_numpy(np.asarray(x)) for x in (a1, b1, a2, b2))
        return a2 * a1, a2 * b1 + b2

    assert check.check_scan_combine(via_torch)


def gru_via_torch_cell(x, h, W_ih, W_hh, b_ih, b_hh, dtype=torch.float64):
    """A right answer built on torch.nn.GRUCell: the result is a tensor that requires grad."""
    cell = torch.nn.GRUCell(len(x), len(h), dtype=dtype)
    with torch.no_grad():
        for param, value in (("weight_ih", W_ih), ("weight_hh", W_hh), ("bias_ih", b_ih), ("bias_hh", b_hh)):
            getattr(cell, param).copy_(torch.as_tensor(value))
    return cell(torch.as_tensor(x, dtype=dtype), torch.as_tensor(h, dtype=dtype))


def test_gru_step_accepts_an_answer_built_on_torch_gru_cell():
    assert gru_via_torch_cell(np.ones(2), np.ones(3), *(np.ones((9, k)) for k in (2, 3)),
                              np.ones(9), np.ones(9)).requires_grad
    fb = check.check_gru_step(gru_via_torch_cell)
    assert fb, str(fb)
    assert "float32" not in fb.message


# --- float32 answers -------------------------------------------------------------------------------

def _in_float32(fn):
    """``fn`` run on float32 (complex64) copies of its array arguments: right to float32 precision only."""
    def down(a):
        if isinstance(a, np.ndarray) and a.dtype.kind in "fc":
            return a.astype(np.complex64 if a.dtype.kind == "c" else np.float32)
        return a

    return lambda *args: fn(*(down(a) for a in args))


def test_float32_answers_are_accepted_at_float32_precision():
    f32_gru = functools.partial(gru_via_torch_cell, dtype=torch.float32)
    answers = {
        "check_gru_step": f32_gru,                                              # torch float32 (the default)
        "check_elman_step": _in_float32(lambda h, u, W, V, b: np.tanh(W @ h + V @ u + b)),
        "check_white_noise_state": _in_float32(lambda lam: 1 / (1 - np.abs(lam) ** 2)),  # ill-conditioned
        "check_bptt_step": _in_float32(lambda d, g, a, W: (g + W.T @ d) * (1 - np.tanh(a) ** 2)),
        "check_scan_combine": _in_float32(ssm.scan_combine),                    # complex64, and the scan
    }
    for name, answer in answers.items():
        fb = getattr(check, name)(answer)
        assert fb, (name, str(fb))
        assert "float32" in fb.message, (name, fb.message)
    assert f32_gru(*ch5_gates._gru_case(np.random.default_rng(0))).dtype == torch.float32


def test_float32_answer_with_a_known_mistake_still_gets_the_hint():
    fb = check.check_elman_step(_in_float32(lambda h, u, W, V, b: np.tanh(W.T @ h + V @ u + b)))
    assert not fb and "transposed" in fb.message


def test_float32_rounding_in_a_float64_result_is_accepted_and_named():
    """A float32 computation converted to float64 (.double(), .tolist(), np.eye promoting) is right to float32."""
    fb = check.check_gru_step(lambda *a: gru_via_torch_cell(*a, dtype=torch.float32).double())
    assert fb and "carries float32 rounding" in fb.message, str(fb)
    up = lambda fn: lambda *args: np.asarray(fn(*args), dtype=np.float64)   # noqa: E731
    answers = {
        "check_elman_step": up(_in_float32(ch1_basics._elman_step_ref)),
        "check_newton_step": _in_float32(ch1_basics._newton_step_ref),   # np.eye is float64: off by 7e-8 (issue 14)
        "check_jacobian_product": _in_float32(ch2_bptt._jacobian_product_ref),
        "check_omega_term": _in_float32(ch4_clipping._omega_term_ref),   # float() of a float32 number
        "check_white_noise_state": up(_in_float32(ch6_ssm._white_state_ref)),
    }
    for name, answer in answers.items():
        fb = getattr(check, name)(answer)
        assert fb, (name, str(fb))
        assert "float32" in fb.message, (name, fb.message)


def test_float32_rounding_in_a_float64_result_of_a_known_mistake_still_gets_the_hint():
    transposed = _in_float32(lambda h, u, W, V, b: np.tanh(W.T @ h + V @ u + b))
    fb = check.check_elman_step(lambda *a: transposed(*a).astype(np.float64))
    assert not fb and "transposed" in fb.message


# --- the messages ----------------------------------------------------------------------------------

def test_wrong_values_show_expected_against_actual():
    fb = check.check_elman_step(lambda h, u, W, V, b: np.tanh(W @ h + V @ u + 2 * b))
    assert not fb
    message = fb.message
    assert "wrong values on test case 1: expected [" in message and "got [" in message
    assert message.index("expected") < message.index("largest absolute error")
    fb = check.check_jacobian_product(lambda W, a: 2 * W)      # larger results: the first wrong entries
    assert "entry [0, 0] should be" in fb.message and "more of the" in fb.message


def test_wrong_types_and_shapes_say_what_was_expected():
    assert "returned a list of 2 numbers; expected an array of shape (4,)" in check.check_elman_step(
        lambda *a: [1, 2]).message
    assert "returned a torch tensor of shape (3,); expected an array of shape (4,)" in check.check_elman_step(
        lambda *a: torch.ones(3, requires_grad=True)).message
    assert "returned a dict" in check.check_bptt_step(lambda *a: {}).message
    fb = check.check_elman_step(_one_argument)
    assert "takes 1 argument" in fb.message and "elman_step(h, u, W_hh, W_xh, b)" in fb.message
    assert "complex" in check.check_elman_step(lambda *a: np.full(4, 1j)).message


def test_number_checkers_read_torch_scalars():
    right = 2 * 12 * 512 * 768
    assert check.check_kv_cache_floats(torch.tensor(float(right), requires_grad=True))
    assert check.check_value(torch.tensor(3.0, requires_grad=True), 3.0, name="x")
    assert "complex" in check.check_value(np.complex128(3 + 1j), 3.0, name="x").message


def test_feedback_html_renders_code_spans():
    fb = check.check_elman_step(lambda *a: None)
    assert "`" in fb.message and "`" in str(fb)              # plain text keeps the backticks
    html = fb._repr_html_()
    assert "<code>elman_step</code>" in html and "`" not in html
    assert "&lt;x&gt;" in check.Feedback(False, "`a<x>` and <x>")._repr_html_()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_results_on_a_gpu_are_accepted():
    def on_gpu(h, u, W, V, b):
        t = lambda a: torch.as_tensor(a, device="cuda")   # noqa: E731
        return torch.tanh(t(W) @ t(h) + t(V) @ t(u) + t(b))

    assert check.check_elman_step(on_gpu)


def test_reference_answers_are_still_accepted():
    """Each checker's own reference (or a plain formula) passes: the robustness did not cost correctness."""
    assert check.check_elman_step(ch1_basics._elman_step_ref)
    assert check.check_gru_step(ch5_gates._gru_step_ref)
    assert check.check_scan_combine(ch6_ssm._scan_combine_ref)
    assert check.check_white_noise_state(ch6_ssm._white_state_ref)
