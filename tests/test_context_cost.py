"""rnnlib.theory.context_cost: the cost formulas equal what torch counts, and the predictors compute what they claim."""
import math

import matplotlib
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

matplotlib.use("Agg")

from rnnlib.theory import context_cost as C
from rnnlib.theory import recurrence
from rnnlib.theory.plots import plot_cost


@settings(max_examples=20, deadline=None)
@given(kind=st.sampled_from(C.COST_KINDS), L=st.integers(1, 64), I=st.integers(1, 5), H=st.integers(1, 16),
       O=st.integers(1, 3))
def test_counted_flops_and_carried_floats_equal_the_formulas(kind, L, I, H, O):
    p = C.make_predictor(kind, L, n_in=I, n_hidden=H, n_out=O)
    m = C.measure_prediction(p, repeats=1)
    f = C.prediction_cost(kind, L, n_in=I, n_hidden=H, n_out=O)
    assert m["flops"] == 2 * f["macs"]                  # FlopCounterMode counts 2 FLOPs per multiply-add
    assert m["memory"] == f["memory"]
    took = m["seconds"]                                 # a timing: present and a finite float, not compared to a time
    assert isinstance(took, float) and math.isfinite(took)


def test_how_each_cost_grows_with_the_context():
    c = {k: [C.prediction_cost(k, L, n_in=2, n_hidden=8) for L in (10, 20)] for k in C.COST_KINDS}
    assert c["rnn"][0] == c["rnn"][1]                                                  # constant
    assert c["window_mlp"][1]["memory"] == 2 * c["window_mlp"][0]["memory"]           # linear
    assert c["attention_cached"][1]["memory"] == 2 * c["attention_cached"][0]["memory"]
    quad = [C.prediction_cost("attention_recompute", L, n_in=2, n_hidden=8)["macs"] for L in (1000, 2000)]
    assert 3.5 < quad[1] / quad[0] < 4.0                                               # ~ L^2 for long windows


def _feed(p, inputs):
    return [p.predict(u_t) for u_t in inputs]


def test_window_mlp_is_an_mlp_on_the_last_L_inputs():
    L, I = 5, 3
    p = C.WindowMLP(I, 6, 2, L, seed=1)
    xs = torch.randn(9, 1, I, generator=torch.Generator().manual_seed(0))
    y = _feed(p, xs)[-1]
    window = xs[-L:].reshape(1, -1)                                  # oldest first
    ref = torch.tanh(window @ p.W1.T) @ p.W2.T
    torch.testing.assert_close(y, ref)


def test_cached_attention_equals_re_encoding_the_window():
    """One layer: the newest position's output only needs the keys and values of the window, so the cache
    reproduces the full re-encoding once it has seen L inputs."""
    L, I, H = 6, 2, 8
    cached = C.WindowAttention(I, H, 1, L, cache=True, seed=3)
    full = C.WindowAttention(I, H, 1, L, cache=False, seed=3)
    xs = torch.randn(L + 5, 1, I, generator=torch.Generator().manual_seed(1))
    a, b = _feed(cached, xs), _feed(full, xs)
    for ya, yb in zip(a[L - 1:], b[L - 1:]):
        torch.testing.assert_close(ya, yb, rtol=1e-5, atol=1e-6)


def test_recurrent_predictor_is_the_elman_update():
    p = C.RecurrentPredictor(3, 5, 2, seed=0)
    h0 = p.h.clone()
    xs = torch.randn(7, 1, 3, generator=torch.Generator().manual_seed(2))
    y = _feed(p, xs)[-1]
    theta = {"W_hh": p.W_hh.detach().double(), "W_xh": p.W_xh.detach().double(), "b_h": torch.zeros(5, dtype=torch.float64)}
    hs = recurrence.run_recurrence(recurrence.elman_update, h0.double(), xs.double(), theta)
    torch.testing.assert_close(p.h.double(), hs[-1], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(y.double(), hs[-1] @ p.W_hy.detach().double().T, rtol=1e-5, atol=1e-6)
    assert p.state_floats() == 5


def test_measure_sweep_respects_the_caps():
    sw = C.measure_sweep([4, 16, 64], kinds=("window_mlp", "attention_recompute"), n_hidden=8, repeats=2,
                         max_context={"attention_recompute": 16})
    assert list(sw["window_mlp"]["context"]) == [4, 16, 64]
    assert list(sw["attention_recompute"]["context"]) == [4, 16]
    np.testing.assert_array_equal(sw["window_mlp"]["flops"], 2 * sw["window_mlp"]["macs_formula"])
    fig = plot_cost(sw)
    assert len(fig.axes) == 3
    matplotlib.pyplot.close(fig)


@pytest.mark.parametrize("call, name", [
    (lambda: C.prediction_cost("lstm", 4, n_in=1, n_hidden=2), "kind"),
    (lambda: C.prediction_cost("rnn", 0, n_in=1, n_hidden=2), "context"),
    (lambda: C.prediction_cost("rnn", 4, n_in=1, n_hidden=-2), "n_hidden"),
    (lambda: C.prediction_cost("rnn", 4, n_in=0, n_hidden=2), "n_in"),
    (lambda: C.make_predictor("window_mlp", 2.5, n_in=1, n_hidden=2), "context"),
    (lambda: C.make_predictor("rnn", 0, n_in=1, n_hidden=2), "context"),
    (lambda: C.make_predictor("attention", 4, n_in=1, n_hidden=2), "kind"),
    (lambda: C.measure_prediction(C.RecurrentPredictor(1, 2, 1), repeats=0), "repeats"),
])
def test_bad_input(call, name):
    with pytest.raises(ValueError, match=name):
        call()
