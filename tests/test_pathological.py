"""rnnlib.tasks.pathological: the six generators of Pascanu et al. (2013) keep their invariants."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from rnnlib.tasks import pathological as P
from rnnlib.models.elman import ElmanRNN


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def one_hot_ok(u):
    return bool(((u == 0) | (u == 1)).all() and (u.sum(-1) == 1).all())


# --- temporal order (2 and 3 markers) -------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(L=st.integers(10, 120), seed=st.integers(0, 10_000), three=st.booleans())
def test_temporal_order_markers_and_target(L, seed, three):
    task = P.TemporalOrder3Bit(L) if three else P.TemporalOrder(L)
    u, t = task.sample(64, gen(seed))
    assert u.shape == (L, 64, 6) and t.shape == (64,) and one_hot_ok(u)
    sym = u.argmax(-1)                                     # (L, B) symbol per step
    starts = (0.1, 0.3, 0.6) if three else (0.1, 0.5)
    for b in range(64):
        pos = torch.nonzero(sym[:, b] < 2).flatten().tolist()   # A or B only at the marker positions
        assert len(pos) == len(starts)
        for p, s in zip(pos, starts):                           # p in [int(sL), int(sL) + int(.1L))
            assert int(s * L) <= p < int(s * L) + int(0.1 * L)
        vals = [int(sym[p, b]) for p in pos]
        assert int(t[b]) == sum(v * 2 ** k for k, v in enumerate(vals))  # v0 + 2 v1 (+ 4 v2)


def test_temporal_order_short_sequences_have_fixed_positions():
    u, _ = P.TemporalOrder(10).sample(200, gen())
    sym = u.argmax(-1)
    assert (sym[1] < 2).all() and (sym[5] < 2).all()
    assert ((sym < 2).sum(0) == 2).all()


@pytest.mark.parametrize("cls, n", [(P.TemporalOrder, 4), (P.TemporalOrder3Bit, 8)])
def test_temporal_order_class_balance_and_distractors(cls, n):
    u, t = cls(40).sample(16_000, gen(1))
    counts = torch.bincount(t, minlength=n).double() / len(t)
    assert torch.allclose(counts, torch.full((n,), 1.0 / n, dtype=torch.float64), atol=0.015)
    sym = u.argmax(-1)
    distractors = torch.bincount(sym[sym >= 2] - 2, minlength=4).double()
    assert torch.allclose(distractors / distractors.sum(), torch.full((4,), 0.25, dtype=torch.float64), atol=0.01)
    assert cls(40).chance_error == pytest.approx(1 - 1 / n)
    assert P.baseline_error(cls(40), size=4000) == pytest.approx(1 - 1 / n, abs=0.03)


# --- addition and multiplication -------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(L=st.integers(10, 150), seed=st.integers(0, 10_000), mul=st.booleans())
def test_two_number_tasks(L, seed, mul):
    task = P.Multiplication(L) if mul else P.Addition(L)
    u, t = task.sample(32, gen(seed))
    l = u.shape[0]
    assert L <= l < L + max(int(0.1 * L), 1)                     # l in [L, 1.1 L)
    assert u.shape[1:] == (32, 2) and t.shape == (32, 1)
    assert ((u[..., 1] >= 0) & (u[..., 1] < 1)).all()
    for b in range(32):
        p = torch.nonzero(u[:, b, 0]).flatten().tolist()
        assert len(p) == 2 and set(u[p, b, 0].tolist()) == {1.0}
        assert 0 <= p[0] < int(0.1 * l) <= p[1] < int(0.1 * l) + int(0.4 * l)
        x0, x1 = float(u[p[0], b, 1]), float(u[p[1], b, 1])
        want = x0 * x1 if mul else (x0 + x1) / 2
        assert float(t[b, 0]) == pytest.approx(want, rel=1e-6)


def test_two_number_target_statistics():
    _, t = P.Addition(50).sample(20_000, gen(2))
    assert float(t.mean()) == pytest.approx(0.5, abs=0.01)       # (x + y)/2, x, y ~ U[0, 1)
    assert float(t.var()) == pytest.approx(1 / 24, rel=0.05)
    _, t = P.Multiplication(50).sample(20_000, gen(3))
    assert float(t.mean()) == pytest.approx(0.25, abs=0.01)      # E[xy] = 1/4
    assert float(t.var()) == pytest.approx(1 / 9 - 1 / 16, rel=0.05)


# --- random permutation ----------------------------------------------------------------------------

@settings(max_examples=20, deadline=None)
@given(L=st.integers(2, 80), seed=st.integers(0, 10_000))
def test_random_permutation(L, seed):
    u, t = P.RandomPermutation(L).sample(32, gen(seed))
    assert u.shape == (L, 32, 100) and one_hot_ok(u)
    sym = u.argmax(-1)
    assert (sym[0] < 2).all() and (sym[1:] >= 2).all()          # the bit only at the first step
    assert torch.equal(t, sym[0])                                # the answer is that first symbol


def test_random_permutation_balance():
    u, t = P.RandomPermutation(20).sample(10_000, gen(4))
    assert float(t.float().mean()) == pytest.approx(0.5, abs=0.02)
    sym = u.argmax(-1)[1:]
    counts = torch.bincount(sym.flatten(), minlength=100)[2:].double()
    assert float(counts.min() / counts.max()) > 0.85             # symbols 2..99 roughly uniform


# --- noiseless memorisation --------------------------------------------------------------------------

@settings(max_examples=20, deadline=None)
@given(L=st.integers(1, 60), n_values=st.integers(2, 6), n_pos=st.integers(1, 10), seed=st.integers(0, 1000))
def test_memorization_layout(L, n_values, n_pos, seed):
    task = P.NoiselessMemorization(L, n_values=n_values, n_pos=n_pos)
    u, t = task.sample(16, gen(seed))
    T = L + 2 * n_pos
    assert u.shape == (T, 16, n_values + 2) and t.shape == (T, 16) and one_hot_ok(u)
    assert task.readout == "all" and task.n_out == n_values + 1
    sym = u.argmax(-1)
    assert (sym[:n_pos] < n_values).all()                        # the pattern
    assert (sym[n_pos:L + n_pos] == n_values).all()              # blanks
    assert (sym[L + n_pos] == n_values + 1).all()                # the recall cue
    assert (sym[L + n_pos + 1:] == n_values).all()
    assert (t[:L + n_pos] == n_values).all()                     # answer "blank" until the cue
    assert torch.equal(t[-n_pos:], sym[:n_pos])                  # then the pattern


def test_memorization_patterns_uniform():
    task = P.NoiselessMemorization(5, n_values=2, n_pos=5)
    assert task.bits == pytest.approx(5.0)
    assert P.NoiselessMemorization(5).bits == pytest.approx(10 * math.log2(5))   # 23.2 bits
    u, _ = task.sample(32_000, gen(5))
    code = (u[:5].argmax(-1) * (2 ** torch.arange(5))[:, None]).sum(0)
    counts = torch.bincount(code, minlength=32).double()
    assert counts.min() > 0.8 * 1000 and counts.max() < 1.2 * 1000


# --- losses and success criteria ---------------------------------------------------------------------

def test_losses_match_the_code_formulas():
    g = gen(6)
    task = P.TemporalOrder(20)
    y = torch.randn(7, 4, generator=g, dtype=torch.float64)
    t = torch.randint(0, 4, (7,), generator=g)
    onehot = torch.nn.functional.one_hot(t, 4).double()
    want = -(onehot * torch.log_softmax(y, -1)).mean(0).sum()   # -(t log y).mean(axis=0).sum()
    assert float(task.loss(y, t)) == pytest.approx(float(want), rel=1e-12)
    y[0] = 0
    y[0, t[0]] = 1
    assert task.wrong(y, t)[0].item() is False
    add = P.Addition(20)
    yl = torch.tensor([[0.5], [0.5], [0.5]], dtype=torch.float64)
    tl = torch.tensor([[0.69], [0.71], [0.31]], dtype=torch.float64)
    assert add.wrong(yl, tl).tolist() == [False, True, False]   # wrong iff (t - y)^2 > 0.04
    assert float(add.loss(yl, tl)) == pytest.approx(float(((tl - yl) ** 2).mean()), rel=1e-12)
    mem = P.NoiselessMemorization(3, n_values=2, n_pos=2)
    u, tm = mem.sample(5, gen(7))
    ym = torch.nn.functional.one_hot(tm, 3).double() * 10
    assert mem.error(ym, tm) == 0.0
    ym[-1, 2] = torch.tensor([10.0, 0, 0]) if tm[-1, 2] != 0 else torch.tensor([0, 10.0, 0])
    assert mem.wrong(ym, tm).tolist() == [False, False, True, False, False]   # one wrong step = wrong


def test_variable_length_draws_like_the_training_loop():
    task = P.TemporalOrder(50, max_length=200)
    g = gen(8)
    lengths = {task.sample(2, g)[0].shape[0] for _ in range(300)}
    assert min(lengths) >= 50 and max(lengths) <= 199 and len(lengths) > 60
    assert P.TemporalOrder(50, max_length=50).sample(2, g)[0].shape[0] == 50


def test_tasks_train_with_an_elman_rnn():
    from rnnlib.train import train
    task = P.TemporalOrder(10)
    model = ElmanRNN(task.n_in, 16, task.n_out, readout=task.readout, seed=0)
    res = train(model, task, steps=3, lr=0.01, eval_every=3, eval_size=50, progress=False, device="cpu")
    assert len(res.losses) == 3 and np.isfinite(res.losses).all()


def test_make_and_bad_input():
    assert isinstance(P.make("addition", 30), P.Addition)
    with pytest.raises(ValueError, match="name"):
        P.make("parity", 30)
    with pytest.raises(ValueError, match="length"):
        P.TemporalOrder(9)
    with pytest.raises(ValueError, match="length"):
        P.Addition(0)
    with pytest.raises(ValueError, match="max_length"):
        P.TemporalOrder(50, max_length=20)
    with pytest.raises(ValueError, match="batch_size"):
        P.TemporalOrder(20).sample(0)
    with pytest.raises(ValueError, match="n_values"):
        P.NoiselessMemorization(5, n_values=1)
