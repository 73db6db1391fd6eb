"""Chapter 6 checkers, both ways: they accept right answers and reject typical wrong ones with a specific hint."""
import numpy as np
import pytest

from rnnlib import check

from rnnlib.theory import memory

from rnnlib.models import ssm


def test_scan_combine_accepts_right_answers():
    assert check.check_scan_combine(ssm.scan_combine)
    assert check.check_scan_combine(lambda a1, b1, a2, b2: (a1 * a2, b1 * a2 + b2))


@pytest.mark.parametrize("wrong,needle", [
    (lambda a1, b1, a2, b2: (a1 * a2, a1 * b2 + b1), "wrong order"),
    (lambda a1, b1, a2, b2: (a2 * a1, b1 + b2), "multiplied by a2"),
    (lambda a1, b1, a2, b2: (a1 + a2, a2 * b1 + b2), "Multipliers multiply"),
    (lambda a1, b1, a2, b2: (a2 * a1, a2 * b1 - b2), "wrong values"),
    (None, "still None"),
])
def test_scan_combine_rejects_typical_mistakes(wrong, needle):
    fb = check.check_scan_combine(wrong)
    assert not fb and needle in fb.message


def test_scan_combine_that_only_works_on_scalars_is_caught():
    def scalar_only(a1, b1, a2, b2):
        out = ssm.scan_combine(a1, b1, a2, b2)
        if np.ndim(a1) > 1:
            return out[0], np.zeros_like(out[1])
        return out

    fb = check.check_scan_combine(scalar_only)
    assert not fb and "doubling scan" in fb.message


def test_white_noise_state_accepts_right_answers():
    assert check.check_white_noise_state(lambda lam: memory.mean_square_state(np.abs(lam), 0.0))
    assert check.check_white_noise_state(lambda lam: 1 / (1 - lam * np.conj(lam)).real)


@pytest.mark.parametrize("wrong,needle", [
    (lambda lam: 1 / (1 - lam**2), "modulus"),
    (lambda lam: 1 / (1 - np.abs(lam)), "geometric in |lam|^2"),
    (lambda lam: np.abs(lam) ** 2 / (1 - np.abs(lam) ** 2), "Off by one"),
    (lambda lam: 1 / np.abs(1 - lam) ** 2, "constant input"),
    (lambda lam: 2 / (1 - np.abs(lam) ** 2), "wrong values"),
])
def test_white_noise_state_rejects_typical_mistakes(wrong, needle):
    fb = check.check_white_noise_state(wrong)
    assert not fb and needle in fb.message


# --- issue 14: hints for the mistakes a reader tried -------------------------------------------------

@pytest.mark.parametrize("wrong,needle", [
    (lambda a1, b1, a2, b2: (a2 * a1, a1 * b1 + b2), "wrong multiplier"),
    (lambda a1, b1, a2, b2: (a2 * b1 + b2, a2 * a1), "swapped"),
])
def test_scan_combine_names_the_wrong_multiplier_and_a_swapped_pair(wrong, needle):
    assert check.check_scan_combine(lambda a1, b1, a2, b2: (a2 * a1, a2 * b1 + b2))
    fb = check.check_scan_combine(wrong)
    assert not fb and needle in fb.message, fb.message


def test_scan_combine_accepts_a_float32_computation_with_a_complex128_result():
    def mixed(a1, b1, a2, b2):
        a1, b1, a2, b2 = (np.asarray(x).astype(np.complex64) for x in (a1, b1, a2, b2))
        return (a2 * a1).astype(complex), (a2 * b1 + b2).astype(complex)

    fb = check.check_scan_combine(mixed)
    assert fb and "float32" in fb.message, str(fb)


@pytest.mark.parametrize("wrong,needle", [
    (lambda lam: 1 / (1 - np.abs(lam)) ** 2, "is not 1 - |lam|^2"),
    (lambda lam: 1 / np.sqrt(1 - np.abs(lam) ** 2), "root mean square"),
])
def test_white_noise_state_names_a_squared_difference_and_the_rms(wrong, needle):
    assert check.check_white_noise_state(lambda lam: 1 / (1 - np.abs(lam) ** 2))
    fb = check.check_white_noise_state(wrong)
    assert not fb and needle in fb.message, fb.message
