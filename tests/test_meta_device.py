"""Device placement without a GPU: the core paths run with model and inputs on torch's ``meta`` device.

``meta`` tensors have shapes but no data, and torch refuses to mix them with CPU tensors exactly as it
refuses to mix CUDA and CPU tensors ("... is not on the expected device", "Expected all tensors to be on
the same device"). A library tensor created without ``device=`` lands on the CPU and meets the model's
meta tensors, so these tests find the bugs a GPU would find, on any machine. rnnlib's default device
(``rnnlib.device.device``, and every module that imported it by name) is forced to ``meta`` as well, so a
path that reaches for the default device instead of the model's also shows up.

Operations that need data (``.item()``, ``float()``, ``bool()`` of a tensor, copying to the CPU) cannot run
on meta. Paths that contain one are run up to it: the data error is expected, a device-mix error is not
(``_until_data``). The last tests check the experiments command: ``--device``, the device and seed offset
recorded in each file's provenance, and the refusal to write a shipped file with a seed offset.
"""
import importlib
import json
import sys

import pytest
import torch

import rnnlib
from rnnlib import tasks
from rnnlib.models import lstm, ncp, orthogonal, ssm
from rnnlib.remedies.clip import pascanu_ensemble
from rnnlib.sweeps import cli, trainer
from rnnlib.sweeps import results as experiments, ncp_memory
from rnnlib.tasks.pathological import TemporalOrder
from rnnlib.models.elman import ElmanRNN
from rnnlib.train import evaluate, train

META = torch.device("meta")
MIXED = ("is not on the expected device", "Expected all tensors to be on the same device",
         "found at least two devices")
NEEDS_DATA = ("cannot be called on meta tensors", "Cannot copy out of meta tensor", "torch.nonzero()")
device_module = importlib.import_module("rnnlib.device")   # `rnnlib.device` itself is the function


@pytest.fixture(autouse=True)
def default_device_is_meta(monkeypatch):
    """rnnlib's default device is ``meta`` everywhere it is looked up (module attribute or imported name)."""
    real = device_module.device

    def fake(prefer=None):
        return META if prefer in (None, "auto") else real(prefer)

    for name, module in list(sys.modules.items()):
        if name == "rnnlib" or name.startswith("rnnlib."):
            for attr, value in list(vars(module).items()):
                if value is real:
                    monkeypatch.setattr(module, attr, fake)
    monkeypatch.delenv("RNNLIB_SEED_OFFSET", raising=False)
    monkeypatch.setenv("RNNLIB_PROGRESS", "0")
    assert device_module.device() == META


def _until_data(fn):
    """Run ``fn``; an error because meta tensors hold no data is fine, a device mix is a failure."""
    try:
        return fn()
    except (RuntimeError, NotImplementedError) as exc:
        msg = str(exc)
        assert not any(m in msg for m in MIXED), f"device mix: {msg}"
        assert any(m in msg for m in NEEDS_DATA), f"unexpected error: {msg}"
        return None


def _on_meta(*tensors):
    for t in tensors:
        assert t.device == META, t.device


def _u(T=5, B=3, n_in=2, dtype=torch.float32):
    return torch.randn(T, B, n_in, device=META, dtype=dtype)


def _no_cpu_params(model):
    assert {p.device for p in model.parameters()} == {META}
    assert all(b.device == META for b in model.buffers())


# --- the models -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("readout", ["last", "all"])
def test_elman(readout):
    model = ElmanRNN(2, 8, 1, readout=readout, seed=0).to(META)
    y, h = model(_u())
    y.sum().backward()
    _on_meta(y, h, model.W_hh.grad)


@pytest.mark.parametrize("cls", [lstm.LSTM, lstm.GRU])
def test_lstm_gru(cls):
    model = cls(2, 8, 1, seed=0).to(META)
    y, state = model(_u())
    y.sum().backward()
    _on_meta(y, *(state if isinstance(state, tuple) else (state,)))
    _on_meta(*model.gate_trajectory(_u()).values())


@pytest.mark.parametrize("cls, torch_cls", [(lstm.LSTM, torch.nn.LSTM), (lstm.GRU, torch.nn.GRU)])
def test_from_torch_keeps_the_device(cls, torch_cls):
    model = cls.from_torch(torch_cls(2, 8).to(META), torch.nn.Linear(8, 1).to(META))
    _no_cpu_params(model)
    y, _ = model(_u())
    _on_meta(y)


def test_orthogonal_paths():
    u = _u()
    for model in (orthogonal.orthogonal_rnn(2, 8, 1, seed=0), orthogonal.irnn(2, 8, 1, seed=0)):
        y, _ = model.to(META)(u)
        _on_meta(y)
    model = ElmanRNN(2, 8, 1, seed=0).to(META)                    # re-initialising a model on the device
    orthogonal.init_recurrent_(model, "orthogonal", seed=1)
    orthogonal.init_recurrent_(model, "identity", zero_bias=True)
    _no_cpu_params(model)
    # torch's orthogonal parametrisation tests orthogonality (data) when it is registered: register on the
    # CPU, then train on the device
    model = orthogonal.constrain_orthogonal(ElmanRNN(2, 8, 1, seed=0)).to(META)
    y, _ = model(u)
    y.sum().backward()
    _on_meta(y)
    W = torch.eye(4, dtype=torch.float64, device=META)
    for act in ("linear", "tanh"):                                # fails at float(singular value): data
        _until_data(lambda: orthogonal.jacobian_product_svals(W, 3, activation=act))


# --- state-space scans and the LRU ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ssm.METHODS)
def test_linear_recurrence(method):
    b = torch.randn(6, 3, 4, device=META)
    h0 = torch.zeros(3, 4, device=META)
    for lam in (torch.rand(4, device=META), [0.5, 0.9, -0.3, 0.1]):    # a tensor, and a list (CPU by itself)
        _on_meta(ssm.linear_recurrence(lam, b, h0, method=method), ssm.linear_recurrence(lam, b, method=method))
    bc = torch.complex(b, b)
    lam_c = torch.complex(torch.rand(4, device=META), torch.rand(4, device=META))
    _on_meta(ssm.linear_recurrence(lam_c, bc, method=method))
    if method in ("loop", "scan"):                                # time-varying eigenvalues
        _on_meta(ssm.linear_recurrence(torch.rand(6, 3, 4, device=META), b, h0, method=method))


@pytest.mark.parametrize("method", ssm.METHODS)
@pytest.mark.parametrize("parametrization", ["exp", "real_imag"])
def test_lru(method, parametrization):
    model = ssm.LRU(2, 4, method=method, parametrization=parametrization).to(META)
    y, h = model(_u())
    y.sum().backward()
    _on_meta(y, h, model.kernel(5), model.B_re.grad)


# --- liquid time-constant networks and CfC --------------------------------------------------------------


@pytest.mark.parametrize("solver", ncp.SOLVERS)
def test_ltc(solver):
    model = ncp.LTC(2, 6, solver=solver, ode_unfolds=1, seed=0).to(META)   # one sub-step: meta ops are slow
    u = _u(T=3)
    y, h = model(u)
    y.sum().backward()
    _on_meta(y, h, model.w.grad)
    with torch.no_grad():
        _on_meta(model.states(u), model.states(u, timespans=0.5))
    _on_meta(model.time_constants(torch.zeros(3, 6, device=META), u[0]))
    _until_data(lambda: model(u, timespans=torch.ones(3, device=META)))   # checks the spans are > 0: data
    _until_data(model.max_rate)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_ltc_with_solver_keeps_device_and_dtype(dtype):
    model = ncp.LTC(2, 6, seed=0).to(META, dtype)
    u = _u(T=3, dtype=dtype)
    for solver in ncp.SOLVERS:
        twin = model.with_solver(solver, 2)
        _no_cpu_params(twin)
        assert twin.w.dtype == dtype and twin.solver == solver and twin.ode_unfolds == 2
        with torch.no_grad():
            _on_meta(twin.states(u))
    # the reference and the first solver run; then isfinite(...).all() needs data
    _until_data(lambda: ncp.solver_errors(model, u, unfolds=(1,), reference=("rk4", 2)))


def test_ltc_with_solver_keeps_float64_weights_exactly():
    model = ncp.LTC(2, 6, seed=0).double()
    with torch.no_grad():
        model.w.add_(1e-12)                                       # not representable in float32
    twin = model.with_solver("rk4", 3)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), twin.state_dict().values()))


def test_from_ncps_keeps_the_device():
    import ncps.torch as nt

    ltc = ncp.LTC.from_ncps(nt.LTC(2, 6, batch_first=False).to(META))
    _no_cpu_params(ltc)
    _on_meta(ltc(_u())[0])
    cfc = ncp.CfC.from_ncps(nt.CfC(2, 6, batch_first=False, backbone_units=8).to(META))
    _no_cpu_params(cfc)
    _on_meta(cfc(_u())[0])


@pytest.mark.parametrize("mode", ["default", "no_gate", "pure"])
def test_cfc(mode):
    model = ncp.CfC(2, 6, backbone_units=8, mode=mode, proj_size=1).to(META)
    y, h = model(_u())
    y.sum().backward()
    _on_meta(y, h)


def test_ncp_memory_helpers():
    model = ncp_memory.make_model("ltc-ncp").to(META)
    _until_data(lambda: ncp_memory.connectivity_profile(model, 3, batch=4))   # ends in .cpu().numpy(): data
    assert ncp_memory.time_per_step(model, T=2, batch=2, repeats=1) >= 0      # forward + backward on meta


# --- the ensemble ---------------------------------------------------------------------------------------


def test_ensemble(monkeypatch):
    task = TemporalOrder(10)
    ens = pascanu_ensemble(task, "smart_tanh", [0, 1], n_hidden=8, device=META)
    u, _ = task.sample(4, torch.Generator().manual_seed(0))
    y, h = ens.forward(u.to(META))
    g, d = ens.backward(u.to(META), h, torch.ones_like(y))
    _on_meta(y, h, d, *g.values())
    _on_meta(*ens.select([1]).p.values())
    _no_cpu_params(ens.member(0))
    methods = [trainer.METHODS["MSGD-CR"], trainer.METHODS["Adam-C"]]
    kw = dict(n_batches=2, steps=2, batch_size=4, eval_every=1, eval_size=8, screen_size=4, progress=False)
    # torch.nonzero has no data-free shape; let meta assume every entry is non-zero to get further
    monkeypatch.setattr(torch.fx.experimental._config, "meta_nonzero_assume_all_nonzero", True, raising=False)
    _until_data(lambda: trainer.train_ensemble(ens, task, methods, [0, 1], **kw))       # ends at .cpu()
    cpu_ens = pascanu_ensemble(task, "smart_tanh", [0, 1], n_hidden=8)
    _until_data(lambda: trainer.train_ensemble(cpu_ens, task, methods, [0, 1], device=META, **kw))


@pytest.mark.parametrize("key", ["addition", "memorization_5bit", "random_permutation"])
def test_six_task_cells_on_meta(key, monkeypatch):
    """The other output kinds (a linear last step, a softmax at every step, 100 classes) reach the data-free end
    on the meta device too, through the sweep's own cell (pascanu_tasks.run_point)."""
    from rnnlib.sweeps import pascanu_tasks

    monkeypatch.setattr(torch.fx.experimental._config, "meta_nonzero_assume_all_nonzero", True, raising=False)
    monkeypatch.setitem(pascanu_tasks.SETTINGS, "eval_size", 8)
    monkeypatch.setitem(pascanu_tasks.SETTINGS, "screen_size", 4)
    monkeypatch.setitem(pascanu_tasks.SETTINGS, "n_hidden", 8)
    _until_data(lambda: pascanu_tasks.run_point(task=key, length=10, seeds=2, steps=2, device=META, progress=False))


# --- train() --------------------------------------------------------------------------------------------


def test_train_on_meta():
    model = ElmanRNN(1, 8, 1, seed=0).to(META)
    _until_data(lambda: train(model, tasks.LagTask(3), steps=2, batch_size=4, eval_every=1, eval_size=8))
    _no_cpu_params(model)


def test_train_leaves_a_cpu_model_on_the_cpu():
    """The default device (here meta, on a GPU machine CUDA) does not pull a CPU model away from the CPU."""
    model = ElmanRNN(1, 8, 1, seed=0)
    res = train(model, tasks.LagTask(2), steps=10, batch_size=8, eval_every=5, eval_size=50, optimizer="adam")
    assert res.steps == 10 and len(res.evals) == 2 and res.status in ("solved", "budget")
    assert {p.device.type for p in model.parameters()} == {"cpu"}
    assert 0.0 <= evaluate(model, tasks.LagTask(2), size=50) <= 1.0
    assert {p.device.type for p in model.parameters()} == {"cpu"}
    model(torch.zeros(4, 2, 1))                                   # a later CPU call still works


def test_explicit_device_moves_the_model():
    model = ElmanRNN(1, 8, 1, seed=0)
    _until_data(lambda: evaluate(model, tasks.LagTask(2), size=8, device="meta"))
    _no_cpu_params(model)
    model = ElmanRNN(1, 8, 1, seed=0)
    _until_data(lambda: train(model, tasks.LagTask(2), steps=2, batch_size=4, device=META))
    _no_cpu_params(model)


# --- the experiments command: --device, provenance, the seed offset ------------------------------------


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """``experiments.DATA_DIR`` pointed at an empty folder, so no test can touch rnnlib/data."""
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setattr(experiments, "DATA_DIR", folder)
    return folder


def test_cli_passes_the_device(data_dir, monkeypatch, tmp_path):
    seen = {}

    def fake_run(out_dir, *, quick=False, device=None, progress=True):
        seen.update(out=out_dir, device=device)
        return experiments.write_json(out_dir / "fake.json", {"meta": experiments.metadata(device=device)})

    monkeypatch.setattr(experiments, "resolve", lambda name: fake_run)
    assert cli.main(["lag", "--device", "cpu", "--out", str(tmp_path), "--no-progress"]) == 0
    assert seen["device"] == torch.device("cpu")
    assert cli.main(["lag", "--no-progress"]) == 0                  # auto: rnnlib.device() (meta here)
    assert seen["device"] == META and seen["out"] == data_dir
    meta = json.loads((data_dir / "fake.json").read_text())["meta"]
    assert meta["device"] == "meta" and meta["seed_offset"] == 0
    with pytest.raises(SystemExit):
        cli.main(["lag", "--device", "tpu"])


def test_cli_refuses_a_shipped_file_with_a_seed_offset(data_dir, monkeypatch, tmp_path, capsys):
    ran = []
    monkeypatch.setattr(experiments, "resolve", lambda name: lambda *a, **k: ran.append(1))
    monkeypatch.setenv("RNNLIB_SEED_OFFSET", "3")
    with pytest.raises(SystemExit) as exc:
        cli.main(["lag", "--device", "cpu"])
    assert exc.value.code != 0 and not ran
    assert "RNNLIB_SEED_OFFSET" in capsys.readouterr().err
    with pytest.raises(RuntimeError, match="RNNLIB_SEED_OFFSET"):
        experiments.write_json(data_dir / "lag.json", {})
    assert not (data_dir / "lag.json").exists()
    experiments.write_json(tmp_path / "lag.json", {"meta": experiments.metadata(device="cpu")})   # elsewhere: fine
    assert json.loads((tmp_path / "lag.json").read_text())["meta"]["seed_offset"] == 3


def _fake_points(monkeypatch):
    """Replace every sweep's training by a stub, so ``run`` only assembles its file."""
    from rnnlib.sweeps import gated_lag, lag_sweep, pascanu_tasks, teacher, temporal_order

    monkeypatch.setattr(lag_sweep, "run_point", lambda **kw: {"device": str(kw["device"])})
    monkeypatch.setattr(pascanu_tasks, "run_point", lambda **kw: {"device": str(kw["device"]), "success": {},
                                                                  "seconds": 0.0})
    monkeypatch.setattr(temporal_order, "run_point", lambda **kw: {"device": str(kw["device"])})
    monkeypatch.setattr(temporal_order, "run_threshold", lambda **kw: {"device": str(kw["device"])})
    monkeypatch.setattr(temporal_order, "run_footnote4", lambda **kw: {"device": str(kw["device"])})
    monkeypatch.setattr(gated_lag, "run_point", lambda **kw: {"device": str(kw["device"]), "cpu_seconds": 0.0})
    monkeypatch.setattr(ncp_memory, "run_point", lambda m, lag, s, **kw: {"device": str(kw["device"])})
    monkeypatch.setattr(ncp_memory, "run_recent_point", lambda m, s, **kw: {"device": str(kw["device"])})
    monkeypatch.setattr(teacher, "train_students", lambda kind, nu0, lrs, seeds, **kw: [
        {"kind": kind, "nu0": nu0, "lr": lr, "seed": s, "test_loss": 1.0} for lr in lrs for s in seeds])


@pytest.mark.parametrize("sweep, default, given", [
    ("lag", "meta", "meta"), ("temporal-order", "meta", "meta"), ("gated-lag", "meta", "meta"),
    ("temporal-order-long", "meta", "meta"), ("pascanu-tasks", "meta", "meta"),
    ("ncp-lag", "cpu", "meta"),                # trains on the CPU unless a device is passed
    ("teacher-student", "cpu", "cpu"),         # CPU only: a device is ignored
])
def test_provenance_records_the_computing_device(sweep, default, given, monkeypatch, tmp_path):
    _fake_points(monkeypatch)
    run = experiments.resolve(sweep)
    for device, expected in ((None, default), (META, given)):
        path = run(tmp_path / str(device), quick=True, device=device, progress=False)
        data = json.loads(path.read_text())
        meta = data.get("meta") or data["metadata"]
        assert meta["device"] == expected, (sweep, device, meta)
        assert meta["seed_offset"] == 0
        used = {v["device"] for v in _records(data)}
        assert used <= {expected}, (sweep, device, used)


def _records(data):
    for key in ("points", "cells", "results", "records"):
        yield from data.get(key, [])
    for key in ("threshold", "footnote4"):
        if key in data:
            yield data[key]
    yield from data.get("recent", {}).get("records", [])
