"""rnnlib.check: the feedback framework, and the checkers of chapters 1 and 2, tested both ways."""
import numpy as np
import pytest

from rnnlib import check


def ref_elman(h, u, W_hh, W_xh, b):
    return np.tanh(W_hh @ h + W_xh @ u + b)


def ref_bptt(delta_next, g_out, a, W_hh):
    return (g_out + W_hh.T @ delta_next) * (1 - np.tanh(a) ** 2)


def test_feedback_is_truthy_and_renders():
    ok, bad = check.Feedback(True, "fine"), check.Feedback(False, "wrong <x>", ["case 1"])
    assert ok and not bad
    assert "Correct" in str(ok) and "Not yet" in str(bad) and "case 1" in str(bad)
    assert "&lt;x&gt;" in bad._repr_html_()


def test_compare_functions_reports_each_failure_mode():
    ref = lambda x: 2 * x
    cases = [(np.arange(3.0),)]
    assert check.compare_functions(ref, ref, cases, name="f")
    assert "still None" in check.compare_functions(None, ref, cases, name="f").message
    assert "must be a function" in check.compare_functions(3, ref, cases, name="f").message
    assert "not implemented" in check.compare_functions(lambda x: (_ for _ in ()).throw(NotImplementedError),
                                                        ref, cases, name="f").message
    assert "raised ZeroDivisionError" in check.compare_functions(lambda x: 1 / 0, ref, cases, name="f").message
    assert "returned None" in check.compare_functions(lambda x: None, ref, cases, name="f").message
    assert "shape" in check.compare_functions(lambda x: x[:2], ref, cases, name="f").message
    assert "NaN" in check.compare_functions(lambda x: x * np.nan, ref, cases, name="f").message
    assert "largest absolute error" in check.compare_functions(lambda x: 3 * x, ref, cases, name="f").message
    hinted = check.compare_functions(lambda x: 3 * x, ref, cases, name="f", hints=[(lambda x: 3 * x, "times three")])
    assert hinted.message == "times three"


def test_inputs_are_not_mutated_by_the_readers_function():
    cases = [(np.ones(3),)]

    def sloppy(x):
        x *= 5
        return 2 * x / 5

    assert check.compare_functions(sloppy, lambda x: 2 * x, cases, name="f")
    assert np.all(cases[0][0] == 1)


def test_check_value():
    assert check.check_value(3.0001, 3.0, name="x")
    assert not check.check_value(3.1, 3.0, name="x")
    assert not check.check_value(None, 3.0, name="x")
    assert not check.check_value("abc", 3.0, name="x")


def test_elman_step_checker_both_ways():
    assert check.check_elman_step(ref_elman)
    wrong = {
        "non-linearity": lambda h, u, W, V, b: W @ h + V @ u + b,
        "transposed": lambda h, u, W, V, b: np.tanh(W.T @ h + V @ u + b),
        "bias": lambda h, u, W, V, b: np.tanh(W @ h + V @ u),
        "recurrent": lambda h, u, W, V, b: np.tanh(V @ u + b),
        "wrong values": lambda h, u, W, V, b: np.tanh(2 * W @ h + V @ u + b),
    }
    for key, fn in wrong.items():
        fb = check.check_elman_step(fn)
        assert not fb and key in fb.message, (key, fb.message)
    assert not check.check_elman_step(None)


def test_bptt_step_checker_both_ways():
    assert check.check_bptt_step(ref_bptt)
    wrong = {
        "transposed": lambda d, g, a, W: (g + W @ d) * (1 - np.tanh(a) ** 2),
        "derivative of tanh": lambda d, g, a, W: g + W.T @ d,
        "1 - a^2": lambda d, g, a, W: (g + W.T @ d) * (1 - a ** 2),
        "g_out": lambda d, g, a, W: (W.T @ d) * (1 - np.tanh(a) ** 2),
    }
    for key, fn in wrong.items():
        fb = check.check_bptt_step(fn)
        assert not fb and key in fb.message, (key, fb.message)


# --- every hint can be reached ---------------------------------------------------------------------

def _checkers_with_hints():
    from rnnlib.check import ch1_basics, ch2_bptt, ch3_gradients, ch4_clipping, ch5_gates, ch6_ssm, ch7_ncp

    modules = (ch1_basics, ch2_bptt, ch3_gradients, ch4_clipping, ch5_gates, ch6_ssm, ch7_ncp)
    return [(m, n) for m in modules for n in sorted(vars(m))
            if n.startswith("check_") and "compare_functions" in vars(m) and n != "check_kv_cache_floats"]


@pytest.mark.parametrize("module, name", _checkers_with_hints(), ids=lambda x: getattr(x, "__name__", x))
def test_every_hint_is_reached_by_its_own_mistake(module, name, monkeypatch):
    """Each hint's wrong answer gets that hint, not an earlier one or the generic message (no hint is shadowed)."""
    seen = {}

    def spy(user_fn, reference_fn, cases, **kw):
        seen["hints"] = kw.get("hints", ())
        return check.compare_functions(user_fn, reference_fn, cases, **kw)

    monkeypatch.setattr(module, "compare_functions", spy)
    checker = getattr(module, name)
    checker(lambda *a: None)
    assert seen["hints"], name
    for wrong, message in seen["hints"]:
        fb = checker(wrong)
        assert not fb and fb.message == message, (name, message, fb.message)
