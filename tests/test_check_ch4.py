"""Chapter 4 checkers, both ways: they accept right answers and reject typical wrong ones with a specific hint."""
import numpy as np
import pytest
import torch

from rnnlib import check

from rnnlib.remedies import clip


def test_clip_norm_accepts_right_answers():
    def mine(g, c):
        n = np.sqrt(np.sum(g ** 2))
        return g * min(1.0, c / n)

    assert check.check_clip_norm(mine)
    assert check.check_clip_norm(lambda g, c: clip.clip_norm([torch.from_numpy(g)], c)[0].numpy())


@pytest.mark.parametrize("wrong,needle", [
    (lambda g, c: np.clip(g, -c, c), "value clipping"),
    (lambda g, c: g * c / np.linalg.norm(g), "pass unchanged"),
    (lambda g, c: g / np.linalg.norm(g) if np.linalg.norm(g) >= c else g, "norm threshold, not 1"),
    (lambda g, c: g * np.linalg.norm(g) / c if np.linalg.norm(g) >= c else g, "upside down"),
    (lambda g, c: g * c / np.abs(g).sum() if np.linalg.norm(g) >= c else g, "Euclidean"),
    (lambda g, c: 0.5 * g, "wrong values"),
    (None, "still None"),
    (lambda g, c: None, "returned None"),
])
def test_clip_norm_rejects_typical_mistakes(wrong, needle):
    fb = check.check_clip_norm(wrong)
    assert not fb and needle in fb.message


def test_omega_term_accepts_right_answers():
    def mine(d, J):
        r = np.linalg.norm(J.T @ d) ** 2 / np.linalg.norm(d) ** 2
        return (r - 1) ** 2

    assert check.check_omega_term(mine)
    # rnnlib.remedies.regularizer on the same one-step, one-example case (linear activation: J = W_hh)
    from rnnlib.remedies import regularizer as R

    def via_library(d, J):
        H = len(d)
        dd = torch.zeros(2, 1, H, dtype=torch.float64)
        dd[1, 0] = torch.from_numpy(d)
        hh = torch.zeros(2, 1, H, dtype=torch.float64)
        return float(R.omega(dd, hh, torch.from_numpy(J), "linear")[0])

    assert check.check_omega_term(via_library)


@pytest.mark.parametrize("wrong,needle", [
    (lambda d, J: (np.sum((J @ d) ** 2) / np.sum(d ** 2) - 1) ** 2, "row vector"),
    (lambda d, J: (np.linalg.norm(d @ J) / np.linalg.norm(d) - 1) ** 2, "squared norms"),
    (lambda d, J: np.sum((d @ J) ** 2) / np.sum(d ** 2) - 1, "Square the deviation"),
    (lambda d, J: (np.sum((d @ J) ** 2) - 1) ** 2, "Divide by"),
    (lambda d, J: (np.sum((d @ J) ** 2) / np.sum(d ** 2) - 1) ** 2 / len(d), "No average"),
    (lambda d, J: 0.0, "wrong values"),
])
def test_omega_term_rejects_typical_mistakes(wrong, needle):
    fb = check.check_omega_term(wrong)
    assert not fb and needle in fb.message


# --- issue 14: hints for the mistakes a reader tried -------------------------------------------------

@pytest.mark.parametrize("wrong,needle", [
    (lambda g, c: g * c / np.sum(g ** 2) if np.linalg.norm(g) >= c else g, "squared norm"),
    (lambda g, c: g * c / np.max(np.abs(g)) if np.linalg.norm(g) >= c else g, "largest absolute entry"),
    (lambda g, c: g * c / np.linalg.norm(g) if np.max(np.abs(g)) >= c else g, "compare the norm"),
])
def test_clip_norm_names_wrong_norms(wrong, needle):
    assert check.check_clip_norm(lambda g, c: g * min(1.0, c / np.linalg.norm(g)))
    fb = check.check_clip_norm(wrong)
    assert not fb and needle in fb.message, fb.message


@pytest.mark.parametrize("wrong,needle", [
    (lambda d, J: (np.sum(d ** 2) / np.sum((d @ J) ** 2) - 1) ** 2, "upside down"),
    (lambda d, J: (np.sum((d @ J) ** 2) - np.sum(d ** 2)) ** 2, "ratio, not a difference"),
])
def test_omega_term_names_an_inverted_ratio_and_a_difference(wrong, needle):
    assert check.check_omega_term(lambda d, J: (np.sum((d @ J) ** 2) / np.sum(d ** 2) - 1) ** 2)
    fb = check.check_omega_term(wrong)
    assert not fb and needle in fb.message, fb.message
