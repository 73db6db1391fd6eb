"""rnnlib.models.ensemble: every member of a stacked ensemble behaves exactly like its own ElmanRNN trained by
rnnlib.train with rnnlib.remedies.clip and rnnlib.remedies.regularizer (float64)."""
import numpy as np
import pytest
import torch

from rnnlib.remedies import clip as C
from rnnlib.models.ensemble import PARAMS
from rnnlib.remedies.clip import pascanu_ensemble
from rnnlib.sweeps import trainer as E
from rnnlib.tasks import pathological as P
from rnnlib.remedies import regularizer as R
from rnnlib.train import train


def close(a, b, tol=1e-9):
    """max |a - b| small against max |a| (the ensemble computes tanh as 2 sigmoid(2x) - 1)."""
    return float((a - b).abs().max()) <= tol * float(a.abs().max()) + 1e-300


def tasks():
    return [P.TemporalOrder(12), P.Addition(10), P.NoiselessMemorization(4, n_values=2, n_pos=3)]


@pytest.mark.parametrize("task", tasks(), ids=lambda t: t.name)
@pytest.mark.parametrize("scheme", ["sigmoid", "basic_tanh", "smart_tanh"])
def test_forward_backward_equal_autograd(task, scheme):
    M, B = 3, 4
    ens = pascanu_ensemble(task, scheme, [0, 1, 2], n_hidden=16, dtype=torch.float64)
    with torch.no_grad():
        ens.p["W_hh"].mul_(8.0)            # leave the near-linear regime of the small inits
    u, t = task.sample(M * B, torch.Generator().manual_seed(0))
    u = u.double().view(u.shape[0], M, B, -1)
    tt = E._split_targets(task, t, M, B)
    y, h = ens.forward(u)
    yv = y.detach().requires_grad_(True)
    losses = E.member_losses(task, yv, tt)
    (dy,) = torch.autograd.grad(losses.sum(), yv)
    g, d = ens.backward(u, h, dy)
    for m in range(M):
        model = ens.member(m)
        tm = tt[:, m] if task.readout == "all" else tt[m]
        ym, hm = model(u[:, m])
        assert torch.allclose(ym, y[:, m] if task.readout == "all" else y[m], rtol=1e-10, atol=1e-13)
        hm.retain_grad()
        loss = task.loss(ym, tm)
        assert float(loss.detach()) == pytest.approx(float(losses[m].detach()), rel=1e-10)
        loss.backward()
        for k in PARAMS:
            assert close(getattr(model, k).grad, g[k][m]), k
        dm = R.total_state_grads(model.W_hh, hm, hm.grad, model.activation)
        assert close(dm, d[:, m])
    # Omega for all members at once equals Omega member by member
    vals, grads = R.omega_grad(d, h, ens.p["W_hh"], ens.activation)
    v1, g1 = R.omega_grad(d[:, 1], h[:, 1], ens.p["W_hh"][1], ens.activation)
    assert float(vals[1]) == pytest.approx(float(v1), rel=1e-12)
    assert torch.allclose(grads[1], g1, rtol=1e-10, atol=1e-16)


def single_run(task, method, seed, steps, scheme="basic_tanh", lr=None):
    """The same run through rnnlib.train: ElmanRNN + clip + guard + regulariser."""
    model = C.pascanu_rnn(task, scheme, n_hidden=12, seed=seed, dtype=torch.float64)
    kw = {}
    if method.clip:
        guard = C.nan_guard()
        kw.update(nan_guard=guard, grad_transform=C.norm_clipper(method.clip, guard=guard))
    if method.alpha:
        kw.update(before_step=R.VanishingRegularizer(method.alpha))
    res = train(model, task, steps=steps, lr=lr or method.lr, optimizer=method.optimizer, batch_size=20,
                eval_every=10 * steps, eval_size=10, seed=seed, progress=False, device="cpu",
                stop_when_solved=False, **kw)
    return model, res


@pytest.mark.parametrize("name", ["MSGD", "MSGD-C", "MSGD-CR", "Adam-C"])
def test_member_training_equals_rnnlib_train(name):
    """One member, one batch stream: the ensemble's update rules equal train() + clip + regulariser."""
    task = P.TemporalOrder(10)
    method = E.METHODS[name]
    # a large lr and a low threshold, so that clipping really acts in 15 steps
    method = E.Method(method.optimizer, 0.5 if method.optimizer == "sgd" else method.lr,
                      0.1 if method.clip else None, method.alpha)
    steps = 15
    model, res = single_run(task, method, seed=3, steps=steps, lr=method.lr)
    ens = pascanu_ensemble(task, "basic_tanh", [3], n_hidden=12, dtype=torch.float64)
    er = E.train_ensemble(ens, task, [method], [0], n_batches=1, steps=steps, eval_every=10 * steps,
                          eval_size=10, screen_size=10, seed=3, progress=False)
    np.testing.assert_allclose(er.grad_norms[:, 0], res.grad_norms, rtol=1e-7)
    np.testing.assert_allclose(er.losses[:, 0], res.losses, rtol=1e-7)
    for k in PARAMS:
        assert torch.allclose(er.params[0][k], getattr(model, k).detach(), rtol=1e-7, atol=1e-10), k
    if method.clip:
        assert max(res.grad_norms) > method.clip                   # clipping did act in this run


def test_members_are_independent():
    """A member that explodes (and is guarded) does not change its neighbour: per-member norms."""
    task = P.TemporalOrder(10)
    calm = E.Method("sgd", 0.01, clip=1.0)
    wild = E.Method("sgd", 50.0, clip=1.0)
    ens2 = pascanu_ensemble(task, "smart_tanh", [0, 0], n_hidden=10, dtype=torch.float64)
    r2 = E.train_ensemble(ens2, task, [calm, wild], [0, 0], n_batches=1, steps=20, eval_every=100,
                          eval_size=10, screen_size=10, seed=1, progress=False)
    ens1 = pascanu_ensemble(task, "smart_tanh", [0], n_hidden=10, dtype=torch.float64)
    r1 = E.train_ensemble(ens1, task, [calm], [0], n_batches=1, steps=20, eval_every=100, eval_size=10,
                          screen_size=10, seed=1, progress=False)
    for k in PARAMS:
        assert torch.allclose(r2.params[0][k], r1.params[0][k], rtol=1e-12, atol=1e-15)
    assert not torch.allclose(r2.params[1]["W_hh"], r1.params[0]["W_hh"])


def test_plain_sgd_diverges_and_the_guard_rescues():
    task = P.Addition(10)
    boom = E.Method("sgd", 1e6)
    guarded = E.Method("sgd", 1e6, clip=1e12)       # the guard only (the threshold never bites)
    ens = pascanu_ensemble(task, "basic_tanh", [0, 0], n_hidden=10, dtype=torch.float32)
    r = E.train_ensemble(ens, task, [boom, guarded], [0, 0], n_batches=1, steps=40, eval_every=40, eval_size=20,
                         screen_size=20, seed=0, progress=False)
    assert r.status[0] == "diverged" and r.diverged_at[0] is not None
    assert r.status[1] != "diverged" and r.guard_count[1] > 0


def test_solving_members_stop_and_record():
    task = P.TemporalOrder(10)
    ens = pascanu_ensemble(task, "basic_tanh", [0, 1], n_hidden=50)
    r = E.train_ensemble(ens, task, [E.METHODS["Adam-C"]] * 2, [0, 1], n_batches=2, steps=600, eval_every=50,
                         eval_size=500, screen_size=100, seed=0, progress=False)
    assert r.status == ["solved", "solved"]
    for i in range(2):
        assert r.final_error[i] < 0.01 and r.solved_at[i] in r.eval_steps
        n = r.solved_at[i]
        assert np.isfinite(r.grad_norms[n - 1, i])
        assert np.isnan(r.grad_norms[n:, i]).all()                  # it stopped there


def test_bad_input():
    task = P.TemporalOrder(10)
    ens = pascanu_ensemble(task, "basic_tanh", [0, 1], n_hidden=5)
    with pytest.raises(ValueError, match="methods"):
        E.train_ensemble(ens, task, [E.METHODS["MSGD"]], [0, 1], n_batches=2, steps=2)
    with pytest.raises(ValueError, match="optimizer"):
        E.Method("rmsprop")
    with pytest.raises(ValueError, match="clip"):
        E.Method("sgd", 0.1, clip=0.0)
    with pytest.raises(ValueError, match="scheme"):
        pascanu_ensemble(task, "xavier", [0])
    with pytest.raises(ValueError, match="models"):
        E.ElmanEnsemble.from_models([])
