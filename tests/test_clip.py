"""rnnlib.remedies.clip: norm clipping equals torch's clip_grad_norm_, the property tests of the guide, the NaN guard
and the paper's three initialisations."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from rnnlib.remedies import clip as C
from rnnlib.tasks import pathological as P
from rnnlib.models.elman import ElmanRNN, spectral_radius
from rnnlib.train import train

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=64)
vectors = arrays(np.float64, st.integers(2, 30), elements=finite)
thresholds = st.floats(1e-3, 1e3, allow_nan=False)


def model_with_grads(seed=0, scale=1.0, dtype=torch.float64):
    m = ElmanRNN(3, 5, 2, seed=seed, dtype=dtype)
    g = torch.Generator().manual_seed(seed + 1)
    for p in m.parameters():
        p.grad = torch.randn(p.shape, generator=g, dtype=dtype) * scale
    return m


@pytest.mark.parametrize("scale", [0.01, 0.3, 1.0, 50.0])
@pytest.mark.parametrize("threshold", [0.5, 1.0, 7.0])
def test_clip_norm_equals_torch(scale, threshold):
    a, b = model_with_grads(scale=scale), model_with_grads(scale=scale)
    n_ours = C.clip_norm_(a, threshold, eps=1e-6)          # torch adds 1e-6 to the norm
    n_torch = torch.nn.utils.clip_grad_norm_(b.parameters(), threshold)
    assert n_ours == pytest.approx(float(n_torch), rel=1e-12)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.allclose(p.grad, q.grad, rtol=1e-12, atol=0)
    c = model_with_grads(scale=scale)                       # without eps: Algorithm 1 exactly
    C.clip_norm_(c, threshold)
    after = float(C.global_norm([p.grad for p in c.parameters()]))
    assert after == pytest.approx(min(n_ours, threshold), rel=1e-12)


def test_clip_value_equals_torch():
    a, b = model_with_grads(scale=3.0), model_with_grads(scale=3.0)
    C.clip_value_(a, 0.7)
    torch.nn.utils.clip_grad_value_(b.parameters(), 0.7)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p.grad, q.grad)


@settings(max_examples=60, deadline=None)
@given(g=vectors, c=thresholds)
def test_norm_clipping_properties(g, c):
    g = torch.from_numpy(g)
    (out,) = C.clip_norm([g], c)
    n, n_out = float(torch.linalg.norm(g)), float(torch.linalg.norm(out))
    assert n_out <= c * (1 + 1e-12) or n_out == pytest.approx(n)        # clipped norm <= threshold
    assert n_out == pytest.approx(min(n, c), rel=1e-9, abs=1e-300)
    if n > 0:                                                            # direction kept: out = k g, k > 0
        cos = float(out @ g) / (n_out * n)
        assert cos == pytest.approx(1.0, abs=1e-9)
    if n < c:
        assert torch.equal(out, g)                                       # below the threshold: untouched


@settings(max_examples=60, deadline=None)
@given(g=vectors, c=thresholds)
def test_value_clipping_bounds_entries_but_not_the_direction(g, c):
    g = torch.from_numpy(g)
    (out,) = C.clip_value([g], c)
    assert float(out.abs().max()) <= c
    assert float(torch.linalg.norm(out)) <= math.sqrt(g.numel()) * c + 1e-12


def test_value_clipping_turns_the_direction():
    g = torch.tensor([10.0, 1.0], dtype=torch.float64)
    (v,) = C.clip_value([g], 1.0)
    (n,) = C.clip_norm([g], 1.0)
    cos = lambda a, b: float(a @ b / (torch.linalg.norm(a) * torch.linalg.norm(b)))
    assert cos(n, g) == pytest.approx(1.0)
    assert cos(v, g) < 0.78                                   # (1, 1) against (10, 1): 45 deg vs 5.7 deg
    assert torch.equal(v, torch.tensor([1.0, 1.0], dtype=torch.float64))


def test_global_norm_is_norm_of_concatenation():
    gs = [torch.randn(3, 4, dtype=torch.float64), torch.randn(5, dtype=torch.float64)]
    assert float(C.global_norm(gs)) == pytest.approx(float(torch.linalg.norm(torch.cat([g.flatten() for g in gs]))))


# --- grad_transform factories and the guard --------------------------------------------------------------

def test_norm_clipper_counts_and_clips():
    clipper = C.norm_clipper(1.0)
    m = model_with_grads(scale=10.0)
    before = float(C.global_norm([p.grad for p in m.parameters()]))
    clipper(m)
    assert clipper.n_clipped == 1 and clipper.norms[0] == pytest.approx(before)
    assert float(C.global_norm([p.grad for p in m.parameters()])) == pytest.approx(1.0)
    small = model_with_grads(scale=1e-3)
    grads = [p.grad.clone() for p in small.parameters()]
    clipper(small)
    assert clipper.n_clipped == 1 and clipper.fraction_clipped == 0.5
    assert all(torch.equal(p.grad, g) for p, g in zip(small.parameters(), grads))


def test_value_clipper():
    m = model_with_grads(scale=10.0)
    C.value_clipper(0.5)(m)
    assert max(float(p.grad.abs().max()) for p in m.parameters()) <= 0.5


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 1e12])
def test_guard_replaces_the_update_by_a_shrink(bad):
    guard = C.nan_guard()
    clipper = C.norm_clipper(1.0, guard=guard)
    m = model_with_grads()
    m.b_h.grad[0] = bad
    W = m.W_hh.detach().clone()
    clipper(m)
    assert guard.count == 1 and not guard.pending
    assert torch.equal(m.W_hh.grad, 0.02 * W)                             # gW_hh := 0.02 W_hh
    assert all(float(p.grad.abs().max()) == 0 for n, p in m.named_parameters() if n != "W_hh")
    assert guard.triggered(bad) and not guard.triggered(5.0) and guard.triggered(-1.0)


def test_guard_in_train_keeps_a_diverging_run_alive():
    """lr = 1e5 makes plain SGD blow up; with the guard and clipping the run goes on to the end."""
    task = P.Addition(10)
    kw = dict(steps=30, lr=1e5, eval_every=30, eval_size=50, progress=False, device="cpu")
    plain = train(C.pascanu_rnn(task, "basic_tanh", n_hidden=8, seed=0), task, **kw)
    guard = C.nan_guard()
    guarded = train(C.pascanu_rnn(task, "basic_tanh", n_hidden=8, seed=0), task, nan_guard=guard,
                    grad_transform=C.norm_clipper(1.0, guard=guard), **kw)
    assert plain.status == "diverged"
    assert guarded.status != "diverged" and guarded.steps == 30


# --- initialisations -----------------------------------------------------------------------------------

@pytest.mark.parametrize("scheme, act, std", [("sigmoid", "sigmoid", 0.01), ("basic_tanh", "tanh", 0.1)])
def test_gaussian_inits(scheme, act, std):
    task = P.TemporalOrder(20)
    m = C.pascanu_rnn(task, scheme, n_hidden=200, seed=3, dtype=torch.float64)
    assert m.activation == act and m.readout == "last"
    for name in ("W_xh", "W_hh", "W_hy"):
        w = getattr(m, name).detach()
        assert float(w.std()) == pytest.approx(std, rel=0.05)
        assert abs(float(w.mean())) < 0.1 * std
    assert float(m.b_h.detach().abs().sum() + m.b_y.detach().abs().sum()) == 0


def test_smart_tanh_init():
    task = P.TemporalOrder(20)
    m = C.pascanu_rnn(task, "smart_tanh", n_hidden=50, seed=4, dtype=torch.float64)
    W = m.W_hh.detach()
    assert spectral_radius(W) == pytest.approx(0.95, rel=1e-10)
    assert ((W != 0).sum(0) == 15).all()              # 15 non-zeros per row of the code's layout = column here
    assert float(m.W_xh.detach().std()) == pytest.approx(0.01, rel=0.1)
    # the same seed gives the same weights; another seed others
    again = C.pascanu_rnn(task, "smart_tanh", n_hidden=50, seed=4, dtype=torch.float64)
    assert torch.equal(again.W_hh, m.W_hh)
    other = C.pascanu_rnn(task, "smart_tanh", n_hidden=50, seed=5, dtype=torch.float64)
    assert not torch.equal(other.W_hh, m.W_hh)


def test_init_bad_input():
    with pytest.raises(ValueError, match="scheme"):
        C.pascanu_rnn(P.TemporalOrder(20), "orthogonal")
    with pytest.raises(ValueError, match="scheme"):
        C.init_pascanu_(ElmanRNN(6, 10, 4, activation="tanh"), "sigmoid")
    with pytest.raises(ValueError, match="seed"):
        C.pascanu_weights(2, 3, 1, "sigmoid", seed=-1)
    with pytest.raises(ValueError, match="threshold"):
        C.norm_clipper(0.0)
    with pytest.raises(ValueError, match="threshold"):
        C.clip_norm([torch.ones(2)], -1.0)
    with pytest.raises(ValueError, match="threshold"):
        C.value_clipper(float("nan"))
    with pytest.raises(ValueError, match="norms"):
        C.average_norm([float("nan")])


def test_average_norm():
    assert C.average_norm([1.0, 2.0, float("inf"), 3.0]) == pytest.approx(2.0)
    assert C.average_norm([100.0, 1.0, 3.0], skip=1) == pytest.approx(2.0)


def test_turning_angles():
    assert C.turning_angle([5.0, 0.0], 1.0) == pytest.approx(0.0, abs=1e-6)   # one component: direction kept
    assert C.turning_angle([3.0, 4.0], 1.0) == pytest.approx(np.degrees(np.arctan2(4, 3)) - 45, abs=1e-9)  # -> (1, 1)
    assert C.largest_turn(1e4) == pytest.approx(45.0, abs=0.5)               # the limit in 2-D
    assert C.largest_turn(0.5) == pytest.approx(0.0, abs=1e-5)               # nothing is clipped
    assert C.largest_turn(2.0) < C.largest_turn(8.0) < 45.0
