"""Bad inputs to the models, the training loop and clipping get clear errors; divergence is reported, not raised.

The book's rules: a bad argument gets an error that names the parameter and its valid range, and divergence
(NaN or inf) is a result that training helpers report with the step. One regression test per case of issue 16
(models, ``rnnlib.train``, ``rnnlib.remedies.clip``, ``rnnlib.theory.bptt`` and the sweep trainers), and
parametrised checks over every model: wrong width, float64 input to a float32 model, NumPy input, zero length,
wrong rank or type, and strings or None for numeric constructor arguments.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from rnnlib.models.elman import ElmanRNN
from rnnlib.models.ensemble import ElmanEnsemble
from rnnlib.models.fused import FastRecurrent
from rnnlib.models.lstm import GRU, LSTM
from rnnlib.models.ncp import LTC, CfC
from rnnlib.models import ssm
from rnnlib.models.ssm import LRU, SequenceLayer
from rnnlib.remedies import clip
from rnnlib.remedies.regularizer import VanishingRegularizer
from rnnlib.tasks.lag import LagTask
from rnnlib.theory import bptt
from rnnlib.train import train

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")   # overflow on the way to divergence

# --- every model, with the name of its input and how to call it ---------------------------------------------

N_IN = 2


def _ensemble():
    ens = ElmanEnsemble.from_seeds([0, 1], N_IN, 4, 1)
    return ens.forward


MODELS = {
    "elman": (lambda: ElmanRNN(N_IN, 4, 1, seed=0), "u"),
    "lstm": (lambda: LSTM(N_IN, 4, 1, seed=0), "u"),
    "gru": (lambda: GRU(N_IN, 4, 1, seed=0), "u"),
    "fast-tanh": (lambda: FastRecurrent("tanh", N_IN, 4, 1), "u"),
    "fast-lstm": (lambda: FastRecurrent("lstm", N_IN, 4, 1), "u"),
    "ltc": (lambda: LTC(N_IN, 4), "u"),
    "cfc": (lambda: CfC(N_IN, 4, backbone_units=8), "u"),
    "lru": (lambda: LRU(N_IN, 4), "u"),
    "sequence-layer": (lambda: SequenceLayer(N_IN, "lru", (0.5, 0.9)), "x"),
    "ensemble": (_ensemble, "u"),
}


def _model(kind):
    make, name = MODELS[kind]
    return make(), name


def _out(result):
    return result[0]


@pytest.mark.parametrize("kind", MODELS)
def test_wrong_width_names_the_input_and_the_width(kind):
    model, name = _model(kind)
    with pytest.raises(ValueError, match=rf"{name} must have {N_IN} input feature\(s\)"):
        model(torch.zeros(3, 2, N_IN + 3))


@pytest.mark.parametrize("kind", MODELS)
def test_wrong_rank_names_the_input_and_the_layout(kind):
    model, name = _model(kind)
    with pytest.raises(ValueError, match=rf"{name} must have shape \(T"):
        model(torch.zeros(3, N_IN))


@pytest.mark.parametrize("kind", MODELS)
def test_zero_length_sequence_is_refused(kind):
    model, name = _model(kind)
    with pytest.raises(ValueError, match=rf"{name} must have at least one time step"):
        model(torch.zeros(0, 2, N_IN))


@pytest.mark.parametrize("kind", MODELS)
def test_not_a_tensor_is_refused_with_the_layout(kind):
    model, name = _model(kind)
    with pytest.raises(TypeError, match=rf"{name} must be a torch.Tensor of shape \(T"):
        model({"u": 1})
    with pytest.raises(TypeError, match=rf"{name} must be a torch.Tensor"):
        model(None)


@pytest.mark.parametrize("kind", MODELS)
def test_float64_input_is_converted_to_the_models_dtype(kind):
    model, _ = _model(kind)
    u = torch.randn(3, 2, N_IN, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        want = _out(model(u))
        got = _out(model(u.double()))
    assert got.dtype == want.dtype == torch.float32
    assert torch.equal(got, want)


@pytest.mark.parametrize("kind", MODELS)
def test_numpy_input_is_converted(kind):
    model, _ = _model(kind)
    u = np.random.default_rng(0).normal(size=(3, 2, N_IN))
    with torch.no_grad():
        want = _out(model(torch.as_tensor(u, dtype=torch.float32)))
        got = _out(model(u))
    assert torch.equal(got, want)


@pytest.mark.parametrize("kind", MODELS)
def test_integer_input_is_converted(kind):
    model, _ = _model(kind)
    u = torch.ones(3, 2, N_IN, dtype=torch.int64)
    with torch.no_grad():
        assert torch.equal(_out(model(u)), _out(model(u.float())))


def test_ensemble_checks_the_member_axis():
    ens = ElmanEnsemble.from_seeds([0, 1], N_IN, 4, 1)
    with pytest.raises(ValueError, match=r"u must have shape \(T, M=2, B, I=2\).*one batch per member"):
        ens.forward(torch.zeros(3, 5, 4, N_IN))


# --- initial states ----------------------------------------------------------------------------------------

def test_lstm_state_must_be_a_pair():
    u = torch.zeros(3, 2, N_IN)
    h = torch.zeros(2, 4)
    with pytest.raises(ValueError, match=r"state must be a pair \(h, c\).*got a tensor of shape \(2, 4\)"):
        LSTM(N_IN, 4, 1)(u, state=h)
    with pytest.raises(ValueError, match=r"state must be a pair \(h, c\)"):
        LSTM(N_IN, 4, 1).gate_trajectory(u, state=h)
    with pytest.raises(ValueError, match=r"state must be a pair \(h, c\)"):
        FastRecurrent("lstm", N_IN, 4, 1)(u, state=h)
    with pytest.raises(ValueError, match=r"state\[1\] \(c\) must have shape \(B, H\) = \(2, 4\)"):
        LSTM(N_IN, 4, 1)(u, state=(h, torch.zeros(2, 5)))
    y, (hs, cs) = LSTM(N_IN, 4, 1)(u, state=(h, h))                  # a pair is fine
    assert hs.shape == cs.shape == (4, 2, 4)


def test_fast_recurrent_state_in_either_layout():
    u = torch.randn(3, 2, N_IN)
    net = FastRecurrent("gru", N_IN, 4, 1)
    h0 = torch.randn(2, 4)
    a, _ = net(u, h0)
    b, _ = net(u, h0[None])
    assert torch.equal(a, b)


@pytest.mark.parametrize("make", [lambda: ElmanRNN(N_IN, 4, 1), lambda: GRU(N_IN, 4, 1), lambda: LTC(N_IN, 4),
                                  lambda: CfC(N_IN, 4, backbone_units=8)])
def test_initial_state_of_the_wrong_shape_names_h0(make):
    with pytest.raises(ValueError, match=r"h0 must have shape \(B, (H|units)\) = \(2, 4\), got \(3, 4\)"):
        make()(torch.zeros(3, 2, N_IN), torch.zeros(3, 4))


def test_lru_refuses_complex_input_and_checks_h0():
    with pytest.raises(ValueError, match="u must be real"):
        LRU(N_IN, 4)(torch.zeros(3, 2, N_IN, dtype=torch.complex64))
    with pytest.raises(ValueError, match=r"h0 must have shape \(B, N = d_hidden\)"):
        LRU(N_IN, 4)(torch.zeros(3, 2, N_IN), torch.zeros(2, 3))


# --- constructors -----------------------------------------------------------------------------------------

NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("build, name", [
    (lambda: ElmanRNN("3", 8, 1), "n_in"),
    (lambda: ElmanRNN(1, None, 1), "n_hidden"),
    (lambda: ElmanRNN(1, 8, "1"), "n_out"),
    (lambda: ElmanRNN(1, 8, 1, init_scale="1"), "init_scale"),
    (lambda: ElmanRNN(1, 8, 1, init_scale=NAN), "init_scale"),
    (lambda: ElmanRNN(1, 8, 1, init_scale=INF), "init_scale"),
    (lambda: ElmanRNN(1, 8, 1, init_scale=-1.0), "init_scale"),
    (lambda: ElmanRNN(1, 8, 1, dtype="float32"), "dtype"),
    (lambda: ElmanRNN(1, 8, 1, dtype=torch.int64), "dtype"),
    (lambda: ElmanRNN(1, 8, 1, seed="0"), "seed"),
    (lambda: ElmanEnsemble.from_seeds([0], None, 4, 1), "n_in"),
    (lambda: ElmanEnsemble.from_seeds([0], 1, "4", 1), "n_hidden"),
    (lambda: LSTM(None, 8), "n_in"),
    (lambda: LSTM(1, "8"), "n_hidden"),
    (lambda: LSTM(1, 8, forget_bias="1"), "forget_bias"),
    (lambda: LSTM(1, 8, dtype=None), "dtype"),
    (lambda: GRU(1, 8, "1"), "n_out"),
    (lambda: GRU(1, 8, seed=-1), "seed"),
    (lambda: FastRecurrent("lstm", 1, None, 1), "n_hidden"),
    (lambda: FastRecurrent("lstm", 1, 8, 1, forget_bias=NAN), "forget_bias"),
    (lambda: FastRecurrent("tanh", "1", 8, 1), "n_in"),
    (lambda: FastRecurrent("tanh", 1, 8, 1, dtype="float64"), "dtype"),
    (lambda: LTC(None, 4), "n_in"),
    (lambda: LTC(1, "4"), "wiring"),
    (lambda: LTC(1, 4, ode_unfolds="6"), "ode_unfolds"),
    (lambda: LTC(1, 4, epsilon=None), "epsilon"),
    (lambda: CfC(1, "8"), "units"),
    (lambda: CfC(1, 8, backbone_units=None), "backbone_units"),
    (lambda: CfC(1, 8, backbone_layers="1"), "backbone_layers"),
    (lambda: CfC(1, 8, proj_size=0), "proj_size"),
    (lambda: CfC(1, 8, proj_size="2"), "proj_size"),
    (lambda: CfC(1, 8, proj_size=-1), "proj_size"),
    (lambda: LRU("2", 4), "d_model"),
    (lambda: LRU(2, None), "d_hidden"),
    (lambda: LRU(2, 4, r_min="0.5"), "r_min"),
    (lambda: LRU(2, 4, r_max=NAN), "r_max"),
    (lambda: LRU(2, 4, dtype="float32"), "dtype"),
    (lambda: SequenceLayer(None, "lru", (0.5, 0.9)), "d_model"),
    (lambda: SequenceLayer(2, "gru", (0.5, 1.0)), "r_max"),
    (lambda: SequenceLayer(2, "lru", 0.5), "nu_range"),
])
def test_bad_constructor_arguments_name_the_parameter(build, name):
    with pytest.raises(ValueError, match=name):
        build()


def test_cfc_proj_size_none_means_no_projection():
    assert CfC(1, 8, backbone_units=8, proj_size=None).fc is None
    assert CfC(1, 8, backbone_units=8, proj_size=3).n_out == 3
    with pytest.raises(ValueError, match=r"proj_size must be None \(no projection\) or an integer >= 1, got 0"):
        CfC(1, 8, proj_size=0)


def test_init_scale_zero_is_allowed():
    model = ElmanRNN(1, 4, 1, init_scale=0.0)
    assert torch.count_nonzero(model.W_hh) == 0


@pytest.mark.parametrize("build, name", [
    (lambda: ElmanRNN(1, 10**6, 1), "n_hidden"),
    (lambda: LSTM(1, 10**6), "n_hidden"),
    (lambda: GRU(1, 10**6), "n_hidden"),
    (lambda: FastRecurrent("gru", 1, 10**6, 1), "n_hidden"),
    (lambda: LTC(1, 10**5), "wiring"),
    (lambda: CfC(1, 10**5, backbone_units=10**5), "units or backbone_units"),
    (lambda: LRU(10**5, 10**5), "d_model or d_hidden"),
    (lambda: SequenceLayer(10**5, "lru", (0.5, 0.9)), "d_model"),
    (lambda: ElmanEnsemble.from_seeds(range(100), 1, 10**5, 1), "n_hidden"),
])
def test_huge_models_are_refused_before_allocating(build, name):
    with pytest.raises(ValueError, match=rf"would need about .* GB, over rnnlib's limit .*reduce {name}"):
        build()


def test_memory_limit_can_be_raised(monkeypatch):
    monkeypatch.setenv("RNNLIB_MEMORY_LIMIT_GB", "0.000001")       # 1 kB: a 16-unit Elman RNN is over it
    with pytest.raises(ValueError, match="n_hidden"):
        ElmanRNN(1, 16, 1)
    monkeypatch.setenv("RNNLIB_MEMORY_LIMIT_GB", "1")
    ElmanRNN(1, 16, 1)


def test_toeplitz_at_large_T_is_refused():
    T = 60_000
    b = torch.zeros(T, 1, 1)
    lam = torch.full((1,), 0.5)
    with pytest.raises(ValueError, match=r"causal Toeplitz tensor \(T, T, N\) = \(60000, 60000, 1\).*reduce T"):
        ssm.linear_recurrence_conv(lam, b, method="toeplitz")
    with pytest.raises(ValueError, match="method='fft'"):
        LRU(1, 1, method="toeplitz")(torch.zeros(T, 1, 1))
    h = ssm.linear_recurrence_conv(lam, b, method="fft")            # the FFT needs O(T N): fine
    assert h.shape == (T, 1, 1)


def test_teacher_toeplitz_at_large_T_is_refused():
    from rnnlib.sweeps import teacher

    T = 60_000
    with pytest.raises(ValueError, match=r"causal Toeplitz matrix \(T, T\) = \(60000, 60000\).*reduce T"):
        teacher.causal_conv(torch.zeros(T), torch.zeros(T, 1))


# --- rnnlib.train -------------------------------------------------------------------------------------------

QUIET = dict(steps=2, lr=0.1, progress=False, eval_every=2, eval_size=10, batch_size=4)


@pytest.mark.parametrize("task", [None, object(), "lag"])
def test_train_needs_a_task(task):
    with pytest.raises(TypeError, match=r"task must be an rnnlib task .*sample\(batch_size, generator\)"):
        train(ElmanRNN(1, 4, 1), task, **QUIET)


def test_train_names_what_a_task_lacks():
    class NoSample:
        def loss(self, y, t):
            return 0.0

        def error(self, y, t):
            return 0.0

    with pytest.raises(TypeError, match="task must be .* got NoSample without sample"):
        train(ElmanRNN(1, 4, 1), NoSample(), **QUIET)


@pytest.mark.parametrize("model", [None, "ElmanRNN", torch.zeros(3)])
def test_train_needs_a_model(model):
    with pytest.raises(TypeError, match=r"model must be a torch.nn.Module"):
        train(model, LagTask(1), **QUIET)


@pytest.mark.parametrize("kw, name", [({"lr": "0.01"}, "lr"), ({"lr": None}, "lr"), ({"lr": NAN}, "lr"),
                                      ({"eval_size": 0}, "eval_size"), ({"eval_size": "10"}, "eval_size"),
                                      ({"steps": "5"}, "steps"), ({"batch_size": None}, "batch_size"),
                                      ({"eval_every": 0}, "eval_every"), ({"momentum": "0.9"}, "momentum")])
def test_train_names_the_bad_argument(kw, name):
    with pytest.raises(ValueError, match=rf"^{name} must be"):
        train(ElmanRNN(1, 4, 1), LagTask(1), **{**QUIET, **kw})


def test_train_says_the_model_and_task_widths_differ():
    with pytest.raises(ValueError, match=r"model expects 3 input feature\(s\) per step but task LagTask gives 1"):
        train(ElmanRNN(3, 8, 1), LagTask(3), **QUIET)
    for model in (LSTM(3, 4, 1), FastRecurrent("gru", 3, 4, 1), LTC(3, 4, readout="last"), LRU(3, 4)):
        with pytest.raises(ValueError, match="model expects 3 input"):
            train(model, LagTask(3), **QUIET)


@pytest.mark.parametrize("factory, hook, call", [
    (clip.norm_clipper, "grad_transform", r"clip\.norm_clipper\(1\.0\)"),
    (clip.value_clipper, "grad_transform", r"clip\.value_clipper\(1\.0\)"),
    (clip.NormClipper, "grad_transform", r"clip\.NormClipper\(1\.0\)"),
    (clip.nan_guard, "nan_guard", r"clip\.nan_guard\(\)"),
    (VanishingRegularizer, "before_step", r"regularizer\.VanishingRegularizer\(alpha=4\.0\)"),
])
def test_train_says_to_call_a_factory(factory, hook, call):
    with pytest.raises(TypeError, match=rf"{hook} got the factory .*call it.*{hook}={call}"):
        train(ElmanRNN(1, 4, 1), LagTask(1), **QUIET, **{hook: factory})


def test_train_accepts_what_the_factories_build():
    res = train(ElmanRNN(1, 4, 1), LagTask(1), grad_transform=clip.norm_clipper(1.0), nan_guard=clip.nan_guard(),
                before_step=VanishingRegularizer(2.0), **QUIET)
    assert res.steps == 2
    with pytest.raises(TypeError, match="grad_transform must be a callable or None, got float"):
        train(ElmanRNN(1, 4, 1), LagTask(1), grad_transform=1.0, **QUIET)


def test_factories_given_a_model_say_how_to_use_them():
    with pytest.raises(TypeError, match=r"grad_transform=clip\.norm_clipper\(1\.0\)"):
        clip.norm_clipper(ElmanRNN(1, 4, 1))


# --- clipping ------------------------------------------------------------------------------------------------

def test_clip_norm_refuses_a_negative_eps():
    g = [torch.full((3,), 10.0)]
    with pytest.raises(ValueError, match=r"eps must be a finite number >= 0, got -5"):
        clip.clip_norm(g, 1.0, eps=-5)
    model = ElmanRNN(1, 4, 1)
    model(torch.ones(3, 2, 1))[0].sum().backward()
    with pytest.raises(ValueError, match="eps"):
        clip.clip_norm_(model, 1.0, eps=-1e-6)
    out = clip.clip_norm(g, 1.0, eps=0.0)
    assert math.isclose(float(clip.global_norm(out)), 1.0, rel_tol=1e-6)


@pytest.mark.parametrize("fn", [clip.clip_norm, clip.clip_value])
def test_clip_names_the_gradients(fn):
    with pytest.raises(TypeError, match=r"grads must be an iterable of gradient tensors.*got NoneType"):
        fn(None, 1.0)
    with pytest.raises(TypeError, match=r"grads\[1\] is None"):
        fn([torch.ones(2), None], 1.0)
    with pytest.raises(TypeError, match=r"grads must be an iterable"):
        clip.global_norm(3.0)


def test_in_place_clipping_names_params():
    with pytest.raises(TypeError, match="params must be a torch.nn.Module or an iterable of parameters"):
        clip.clip_norm_(None, 1.0)


# --- divergence in rnnlib.theory.bptt -----------------------------------------------------------------------

def test_train_lag_reports_divergence_and_keeps_finite_weights():
    res = bptt.train_lag(3, lr=1e3, steps=60)
    assert res["status"] == "diverged"
    k = res["diverged_at"]
    assert isinstance(k, int) and 1 <= k <= 60
    assert all(np.isfinite(v).all() for v in res["params"].values())
    assert res["loss"].shape == (60,)
    assert np.isfinite(res["loss"][:k - 1]).all() and not np.isfinite(res["loss"][k - 1])
    assert np.isnan(res["loss"][k:]).all()
    np.testing.assert_array_equal(res["steps"], [60])
    assert np.isnan(res["error"]).all()                              # the only evaluation came after the stop


def test_train_lag_healthy_run_reports_its_status():
    res = bptt.train_lag(2, steps=6, eval_every=3, eval_size=20, seed=3)
    assert res["status"] in ("budget", "solved") and res["diverged_at"] is None
    assert (res["solved_at"] is None) == (res["status"] == "budget")


def _poisoned_lag_batch(monkeypatch, seed, step):
    """Make ``bptt.lag_batch`` give NaN inputs to run ``seed`` at update ``step`` (and nowhere else)."""
    real = bptt.lag_batch

    def lag_batch(lag, batch_size, *, length=None, seed=0):
        u, target, mask = real(lag, batch_size, length=length, seed=seed)
        if seed == poisoned:
            u = np.full_like(u, np.nan)
        return u, target, mask

    poisoned = seed * 1_000_003 + step
    monkeypatch.setattr(bptt, "lag_batch", lag_batch)


def test_train_lag_seeds_freezes_a_diverged_seed_and_the_others_go_on(monkeypatch):
    kw = dict(steps=12, eval_every=4, eval_size=40, n_hidden=6, lr=0.3, batch_size=8)
    clean = bptt.train_lag_seeds(3, [5, 2], **kw)                  # before the poison: same shapes (S = 2)
    single_2 = bptt.train_lag(3, seed=2, **kw)
    _poisoned_lag_batch(monkeypatch, seed=5, step=7)
    runs = bptt.train_lag_seeds(3, [5, 2], **kw)
    single_5 = bptt.train_lag(3, seed=5, **kw)
    assert runs["status"][0] == single_5["status"] == "diverged"
    assert runs["diverged_at"] == [7, None] and single_5["diverged_at"] == 7
    assert runs["status"][1] == clean["status"][1] and runs["diverged_at"][1] is None
    # the healthy seed: unchanged, bit for bit, and still equal to its own train_lag
    np.testing.assert_array_equal(runs["loss"][1], clean["loss"][1])
    np.testing.assert_array_equal(runs["error"][1], clean["error"][1])
    np.testing.assert_allclose(runs["loss"][1], single_2["loss"], rtol=0, atol=1e-12)
    # the diverged seed: its run up to the stop, then NaN, as train_lag reports it
    np.testing.assert_array_equal(runs["loss"][0][:6], clean["loss"][0][:6])
    assert np.isnan(runs["loss"][0][6:]).all() and np.isnan(single_5["loss"][6:]).all()
    np.testing.assert_allclose(runs["loss"][0][:6], single_5["loss"][:6], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(runs["error"][0][:1], clean["error"][0][:1])   # the evaluation at step 4
    assert np.isnan(runs["error"][0][1:]).all() and np.isnan(single_5["error"][1:]).all()
    np.testing.assert_array_equal(single_5["steps"], runs["steps"])
    assert all(np.isfinite(v).all() for v in single_5["params"].values())


def test_train_lag_seeds_at_a_huge_learning_rate_reports_every_seed():
    runs = bptt.train_lag_seeds(3, [0, 1], lr=1e3, steps=60, eval_every=30, eval_size=40)
    assert runs["status"] == ["diverged", "diverged"]
    assert all(isinstance(k, int) and 1 <= k <= 60 for k in runs["diverged_at"])
    assert runs["loss"].shape == (2, 60) and runs["error"].shape == (2, 2)


# --- divergence in the sweeps ------------------------------------------------------------------------------

def test_lag_sweep_reports_divergence_per_seed():
    from rnnlib.sweeps import lag_sweep

    out = lag_sweep.run_point(lag=2, seeds=[0, 1], device="cpu",
                              settings=dict(hidden=4, steps=6, lr=1e38, optimizer="sgd", eval_every=6, eval_size=20,
                                            batch_size=4))
    for r in out["runs"]:
        assert r["status"] == "diverged" and isinstance(r["diverged_at"], int) and 1 <= r["diverged_at"] <= 6
    assert out["success_rate"] == 0.0


def test_lag_sweep_freezes_the_weights_of_a_diverged_seed(monkeypatch):
    """One seed fed a NaN batch diverges; its weights stay finite and the other seed trains as without it."""
    from rnnlib.sweeps import lag_sweep

    settings = dict(hidden=4, steps=6, eval_every=3, eval_size=20, batch_size=4)
    clean = lag_sweep.run_point(lag=2, seeds=[0, 1], device="cpu", settings=settings)
    real, calls, models = lag_sweep._sample, {"n": 0}, []

    def sample(task, gens, batch_size):
        u, y = real(task, gens, batch_size)
        if batch_size == settings["batch_size"]:
            calls["n"] += 1
            if calls["n"] == 3:
                u = u.clone()
                u[:, 0] = float("nan")                                # seed 0's batch at update 3
        return u, y

    real_ens = lag_sweep.seeded_ensemble

    def seeded(seeds, n_hidden=32):
        models.append(real_ens(seeds, n_hidden))
        return models[-1]

    monkeypatch.setattr(lag_sweep, "_sample", sample)
    monkeypatch.setattr(lag_sweep, "seeded_ensemble", seeded)
    out = lag_sweep.run_point(lag=2, seeds=[0, 1], device="cpu", settings=settings)
    assert (out["runs"][0]["status"], out["runs"][0]["diverged_at"]) == ("diverged", 3)
    assert out["runs"][1]["status"] == clean["runs"][1]["status"] and out["runs"][1]["diverged_at"] is None
    assert out["runs"][1]["final_error"] == clean["runs"][1]["final_error"]


def test_train_ensemble_keeps_a_diverged_members_last_finite_weights():
    from rnnlib.sweeps.trainer import Method, train_ensemble

    def run(lrs):
        ens = ElmanEnsemble.from_seeds([0, 1], 1, 4, 1)
        return train_ensemble(ens, LagTask(2), [Method("sgd", lr) for lr in lrs], [0, 1], n_batches=2, steps=6,
                              batch_size=4, eval_every=3, eval_size=20, screen_size=10, progress=False)

    res = run([1e38, 0.01])
    alone = run([0.01, 0.01])
    assert res.status[0] == "diverged" and isinstance(res.diverged_at[0], int)
    assert res.status[1] != "diverged" and res.diverged_at[1] is None
    assert all(torch.isfinite(v).all() for v in res.params[0].values())
    for k in res.params[1]:
        assert torch.equal(res.params[1][k], alone.params[1][k])      # the other member: unchanged


def test_gated_lag_run_point_reports_divergence():
    from rnnlib.sweeps import gated_lag

    r = gated_lag.run_point(model="tanh", seed=0, task="lag", length=2,
                            settings={"hidden": 4, "steps": 6, "lr": 3e37, "eval_every": 6, "eval_size": 20,
                                      "batch_size": 4, "clip": 1e30})
    assert r["status"] == "diverged" and isinstance(r["diverged_at"], int) and 1 <= r["diverged_at"] <= 6


def test_ncp_memory_run_point_reports_divergence(monkeypatch):
    from rnnlib.sweeps import ncp_memory

    monkeypatch.setitem(ncp_memory.BUDGET, "lr", 1e38)
    monkeypatch.setitem(ncp_memory.BUDGET, "optimizer", "sgd")
    monkeypatch.setitem(ncp_memory.BUDGET, "eval_size", 20)
    monkeypatch.setitem(ncp_memory.BUDGET, "batch_size", 4)
    monkeypatch.setitem(ncp_memory.BUDGET, "clip", 1e38)
    r = ncp_memory.run_point("rnn", 2, 0, steps=6)
    assert r["status"] == "diverged" and isinstance(r["diverged_at"], int) and 1 <= r["diverged_at"] <= 6
    rec = ncp_memory.run_recent_point("rnn", 0, steps=4)
    assert rec["status"] == "diverged" and isinstance(rec["diverged_at"], int)


def test_teacher_student_reports_divergence_and_keeps_finite_weights():
    from rnnlib.sweeps import teacher

    runs = teacher.train_students("rnn", 0.5, [1e30, 1e-3], [0], steps=6, T=20, batch_size=4, d_hidden=4)
    bad, good = runs
    assert bad["status"] == "diverged" and isinstance(bad["diverged_at"], int)
    assert all(bool(torch.isfinite(v).all()) for v, _ in bad["state"].values())
    assert good["status"] == "done" and good["diverged_at"] is None


def test_price_of_remembering_reports_status_per_seed():
    from rnnlib.sweeps import forgetting
    from rnnlib.tasks.recent_past import RecentPastTask

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = forgetting.price_of_remembering(variants={"tanh": ("tanh", {})}, seeds=(0, 1), steps=5, hidden=4,
                                              lr=1e37, early=2, long_length=20,
                                              task=RecentPastTask(length=10, window=3, event_rate=0.1))
    r = out["tanh"]
    assert r["status"] == ["diverged", "diverged"]
    assert all(isinstance(k, int) and 1 <= k <= 5 for k in r["diverged_at"])
    assert r["losses"].shape == (2, 5)
    for net in r["models"]:
        assert all(torch.isfinite(p).all() for p in net.parameters())
