"""rnnlib.device, seeding, argument checks, the torch Elman RNN and the lag task."""
import importlib
import types

import numpy as np
import pytest
import torch

import rnnlib
from rnnlib import _validate
from rnnlib.theory import bptt
from rnnlib.models.elman import ElmanRNN, set_spectral_radius, spectral_radius
from rnnlib.tasks import LagTask


def test_device_env_var_forces_cpu(monkeypatch):
    monkeypatch.setenv("RNNLIB_DEVICE", "cpu")
    assert rnnlib.device().type == "cpu"
    monkeypatch.setenv("RNNLIB_DEVICE", "tpu")
    with pytest.raises(ValueError, match="device must be one of"):
        rnnlib.device()
    monkeypatch.delenv("RNNLIB_DEVICE")
    assert rnnlib.device().type in ("cpu", "cuda", "mps")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="cuda"):
            rnnlib.device("cuda")


def test_seed_everything_makes_all_generators_repeat():
    rnnlib.seed_everything(3)
    a = (np.random.rand(), torch.rand(1).item(), __import__("random").random())
    g1 = rnnlib.seed_everything(3)
    b = (np.random.rand(), torch.rand(1).item(), __import__("random").random())
    assert a == b
    assert g1.random() == np.random.default_rng(3).random()
    with pytest.raises(ValueError, match="seed"):
        rnnlib.seed_everything(-1)


def test_validate_messages_name_parameter_and_range():
    with pytest.raises(ValueError, match=r"lr must be a finite number > 0, got -1"):
        _validate.positive("lr", -1)
    with pytest.raises(ValueError, match=r"steps must be an integer"):
        _validate.positive("steps", 2.5, integer=True)
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\], got 2"):
        _validate.in_range("p", 2, 0, 1)
    with pytest.raises(ValueError, match=r"mode must be one of \('a', 'b'\)"):
        _validate.one_of("mode", "c", ("a", "b"))
    assert _validate.positive("n", 0, allow_zero=True, integer=True) == 0


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "linear"])
def test_torch_rnn_matches_numpy_forward(activation):
    params = bptt.init_params(3, 6, 2, scale=1.2, seed=1)
    u = np.random.default_rng(0).normal(size=(9, 4, 3))
    ref = bptt.forward(params, u, activation=activation)
    model = ElmanRNN.from_numpy(params, activation=activation, readout="all")
    y, h = model(torch.tensor(u))
    np.testing.assert_allclose(h.detach().numpy(), ref["h"], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(y.detach().numpy(), ref["y"], rtol=1e-12, atol=1e-14)
    model_last = ElmanRNN.from_numpy(params, activation=activation, readout="last")
    y_last, _ = model_last(torch.tensor(u))
    np.testing.assert_allclose(y_last.detach().numpy(), ref["y"][-1], rtol=1e-12, atol=1e-14)
    back = model.numpy_params()
    for k in bptt.NAMES:
        np.testing.assert_array_equal(back[k], params[k])


def test_torch_rnn_shapes_seed_and_errors():
    a = ElmanRNN(2, 5, 3, seed=7)
    b = ElmanRNN(2, 5, 3, seed=7)
    assert torch.equal(a.W_hh, b.W_hh)
    y, h = a(torch.zeros(4, 6, 2))
    assert y.shape == (6, 3) and h.shape == (5, 6, 5)
    with pytest.raises(ValueError, match="activation"):
        ElmanRNN(2, 5, 3, activation="gelu")
    with pytest.raises(ValueError, match="n_hidden"):
        ElmanRNN(2, 0, 3)
    with pytest.raises(ValueError, match=r"u must have shape \(T, B, I\)"):
        a(torch.zeros(4, 2))
    set_spectral_radius(a, 0.9)
    assert spectral_radius(a.W_hh) == pytest.approx(0.9, rel=1e-6)
    with pytest.raises(ValueError, match="radius"):
        set_spectral_radius(a, 0)


@pytest.mark.parametrize("lag", [0, 1, 5, 20])
def test_lag_task_target_is_the_input_lag_steps_back(lag):
    task = LagTask(lag=lag)
    assert task.length == lag + 5
    u, target = task.sample(500, torch.Generator().manual_seed(lag))
    assert u.shape == (lag + 5, 500, 1) and target.shape == (500, 1)
    assert set(u.unique().tolist()) == {-1.0, 1.0}
    np.testing.assert_array_equal((u[task.length - 1 - lag] > 0).float(), target)
    assert 0.4 < target.mean() < 0.6  # classes balanced
    # the error of the perfect answer is 0, of the inverted answer 1, and of a constant about 1/2
    logit = 10 * u[task.cause_index]
    assert task.error(logit, target) == 0.0
    assert task.error(-logit, target) == 1.0
    assert 0.4 < task.error(torch.ones(500, 1), target) < 0.6
    assert float(task.loss(logit, target)) < 1e-3


def test_lag_task_noise_and_errors():
    u, _ = LagTask(lag=2, noise=0.5).sample(100, torch.Generator().manual_seed(0))
    assert len(u.unique()) > 2
    with pytest.raises(ValueError, match="lag"):
        LagTask(lag=-1)
    with pytest.raises(ValueError, match="lag must be in"):
        LagTask(lag=10, length=5)
    with pytest.raises(ValueError, match="batch_size"):
        LagTask(lag=1).sample(0)


def test_show_source_returns_the_library_code():
    code = rnnlib.show_source(bptt.bptt)
    assert "def bptt(" in code.data
    with pytest.raises(ValueError, match="obj"):
        rnnlib.show_source(3)


def test_lazy_module_access():
    assert rnnlib.sweeps.results.SWEEPS is not None
    assert rnnlib.theory.gradients.eta is not None and rnnlib.check.check_gru_step is not None
    with pytest.raises(AttributeError, match="its packages are book, models"):
        rnnlib.not_a_module
    with pytest.raises(AttributeError, match="its modules are"):
        rnnlib.theory.not_a_module


def test_best_time_takes_the_fastest_call_after_the_warmup(monkeypatch):
    """A fake clock that moves only when fn() says so: no assert reads the machine's clock."""
    from rnnlib.device import best_time, time_once

    now = [1000.0]
    device_module = importlib.import_module("rnnlib.device")       # rnnlib.device is also the name of a function
    monkeypatch.setattr(device_module, "time", types.SimpleNamespace(perf_counter=lambda: now[0]))
    calls, durations = [], iter([0.0, 0.5, 0.25])
    def fn():
        calls.append(1)
        now[0] += next(durations, 0.0)
    t = best_time(fn, repeats=2, warmup=1)        # the warm-up call (0.0) is not timed; timed: 0.5, then 0.25
    assert len(calls) == 3 and t == 0.25
    once = time_once(lambda: now.__setitem__(0, now[0] + 0.125))
    assert once == 0.125
    with pytest.raises(ValueError, match="repeats"):
        best_time(fn, repeats=0)
    with pytest.raises(ValueError, match="warmup"):
        best_time(fn, repeats=1, warmup=-1)


def test_the_seed_offset_shifts_every_seed_rnnlib_hands_out(monkeypatch):
    import numpy as np
    import torch
    from rnnlib.device import manual_seed, numpy_rng, seed_offset, shift_seed, torch_generator
    from rnnlib.models.elman import ElmanRNN

    base = (torch.rand(3, generator=torch_generator(4)), numpy_rng(4).normal(), ElmanRNN(1, 4, 1, seed=4).W_hh)
    monkeypatch.setenv("RNNLIB_SEED_OFFSET", "3")
    assert seed_offset() == 3 and shift_seed(4) == 7
    assert torch.equal(torch.rand(3, generator=torch_generator(1)), base[0])          # 1 + 3 draws as 4 did
    assert numpy_rng(1).normal() == base[1]
    assert torch.equal(ElmanRNN(1, 4, 1, seed=1).W_hh, base[2])
    assert not torch.equal(torch.rand(3, generator=torch_generator(4)), base[0])
    manual_seed(1)
    a = torch.rand(2)
    torch.manual_seed(4)
    assert torch.equal(a, torch.rand(2))


@pytest.mark.parametrize("raw", ["-1", "one", "1.5"])
def test_a_bad_seed_offset_names_the_variable(monkeypatch, raw):
    from rnnlib.device import seed_everything

    monkeypatch.setenv("RNNLIB_SEED_OFFSET", raw)
    with pytest.raises(ValueError, match="RNNLIB_SEED_OFFSET must be an integer >= 0"):
        seed_everything(0)
