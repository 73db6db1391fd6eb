"""rnnlib.models.ncp: the LTC cell against ncps.torch.LTC, the solvers against closed forms, bounds, bad input."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import ncps.torch as nt
import ncps.wirings as nw
from rnnlib.models import wiring as W
from rnnlib.models.ncp import LTC, fused_step

torch.set_num_threads(1)


def _ncps_ltc(n_in, wiring, seed=0, **kw):
    torch.manual_seed(seed)
    return nt.LTC(n_in, wiring, batch_first=False, **kw)


CASES = [  # (wiring factory, ode_unfolds, timespan, implicit constraints)
    (lambda: nw.AutoNCP(16, 2), 6, None, True),
    (lambda: nw.AutoNCP(12, 1, sparsity_level=0.8), 1, 0.3, True),
    (lambda: nw.FullyConnected(8, 3), 3, 2.5, True),
    (lambda: nw.Random(10, 2, sparsity_level=0.5), 10, None, False),
    (lambda: 7, 4, 0.7, False),
]


@pytest.mark.parametrize("make, unfolds, ts, implicit", CASES)
def test_ltc_equals_ncps_float32(make, unfolds, ts, implicit):
    ref = _ncps_ltc(3, make(), ode_unfolds=unfolds, implicit_param_constraints=implicit)
    mine = LTC.from_ncps(ref)
    u = torch.randn(25, 1, 3, generator=torch.Generator().manual_seed(1))
    tsv = None if ts is None else torch.full((25, 1, 1), ts)
    y_ref, h_ref = ref(u, timespans=tsv)
    y, h = mine(u, timespans=tsv)
    assert y.dtype == torch.float32
    assert torch.allclose(y, y_ref, atol=1e-6, rtol=0)
    assert torch.allclose(h[-1], h_ref, atol=1e-6, rtol=0)


def test_ltc_equals_ncps_float64_batched_and_gradients():
    ref = _ncps_ltc(4, nw.AutoNCP(20, 3), seed=2).double()
    mine = LTC.from_ncps(ref)
    gen = torch.Generator().manual_seed(0)
    u = torch.randn(15, 6, 4, generator=gen, dtype=torch.float64)
    h0 = torch.rand(6, 20, generator=gen, dtype=torch.float64) - 0.5
    y_ref, h_ref = ref(u, h0)
    y, h = mine(u, h0)
    assert torch.allclose(y, y_ref, atol=1e-12, rtol=0)
    assert torch.allclose(h[0], h0) and torch.allclose(h[-1], h_ref, atol=1e-12, rtol=0)
    (y_ref ** 2).sum().backward()
    (y ** 2).sum().backward()
    ref_params = dict(ref.rnn_cell.named_parameters())
    for name, p in mine.named_parameters():
        assert torch.allclose(p.grad, ref_params[name].grad, atol=1e-10, rtol=1e-8), name


def test_per_sample_timespans_match_separate_ncps_runs():
    # ncps only broadcasts a per-sample timespan for batch size 1, so compare sample by sample
    ref = _ncps_ltc(2, nw.AutoNCP(10, 1), seed=4, ode_unfolds=5)
    mine = LTC.from_ncps(ref)
    gen = torch.Generator().manual_seed(3)
    u = torch.randn(12, 3, 2, generator=gen)
    ts = 0.2 + 2 * torch.rand(12, 3, generator=gen)
    y, _ = mine(u, timespans=ts)
    for b in range(3):
        y_ref, _ = ref(u[:, b:b + 1], timespans=ts[:, b:b + 1, None])
        assert torch.allclose(y[:, b:b + 1], y_ref, atol=1e-6, rtol=0)
    # a scalar and a (T,) tensor of the same value agree with (T, B, 1)
    y1, _ = mine(u, timespans=0.5)
    y2, _ = mine(u, timespans=torch.full((12,), 0.5))
    y3, _ = mine(u, timespans=torch.full((12, 3, 1), 0.5))
    assert torch.allclose(y1, y2) and torch.allclose(y1, y3)


@pytest.mark.parametrize("mapping", ["linear", "none"])
def test_input_output_mappings(mapping):
    ref = _ncps_ltc(3, nw.AutoNCP(10, 2), input_mapping=mapping, output_mapping=mapping)
    mine = LTC.from_ncps(ref)
    assert mine.input_mapping == mapping and mine.output_mapping == mapping
    u = torch.randn(8, 1, 3)
    assert torch.allclose(mine(u)[0], ref(u)[0], atol=1e-6, rtol=0)


def test_seeded_init_equals_ncps_draws_and_law():
    torch.manual_seed(11)
    ref = nt.LTC(3, nw.AutoNCP(16, 2))
    mine = LTC(3, W.AutoNCP(16, 2), seed=11)
    sd = ref.rnn_cell.state_dict()
    assert set(sd) == set(mine.state_dict())
    for name, value in mine.state_dict().items():
        assert torch.equal(value, sd[name]), name
    assert torch.all((mine.cm >= 0.4) & (mine.cm <= 0.6)) and torch.all(mine.w > 0)
    assert torch.equal(mine.erev, torch.tensor(W.AutoNCP(16, 2).build(3).adjacency, dtype=torch.float32))


def test_explicit_constraints_clip_like_ncps():
    ref = _ncps_ltc(2, nw.FullyConnected(5), implicit_param_constraints=False)
    with torch.no_grad():
        for name in ("w", "cm", "gleak", "sensory_w"):
            getattr(ref.rnn_cell, name).sub_(0.5)
    mine = LTC.from_ncps(ref)
    ref.rnn_cell.apply_weight_constraints()
    mine.apply_weight_constraints()
    for name in ("w", "cm", "gleak", "sensory_w"):
        assert torch.equal(getattr(mine, name), getattr(ref.rnn_cell, name)), name
        assert (getattr(mine, name) >= 0).all()
    u = torch.randn(6, 1, 2)
    assert torch.allclose(mine(u)[0], ref(u)[0], atol=1e-6, rtol=0)


def test_readout_last_and_state_shapes():
    model = LTC(2, W.AutoNCP(12, 3), readout="last")
    y, h = model(torch.randn(9, 4, 2))
    assert y.shape == (4, 3) and h.shape == (10, 4, 12)
    full = LTC(2, W.AutoNCP(12, 3))
    full.load_state_dict(model.state_dict())
    assert torch.allclose(full(torch.zeros(9, 4, 2))[0][-1], model(torch.zeros(9, 4, 2))[0])


def test_fused_step_solves_the_implicit_equation():
    rng = np.random.default_rng(0)
    v, dt, cm, gl, vl = 0.3, 0.17, 0.5, 0.8, -0.1
    g, E = rng.uniform(0, 2, 5), rng.choice([-1.0, 1.0], 5)
    v1 = float(fused_step(v, dt, cm, gl, vl, torch.tensor(g), torch.tensor(E)))
    # C (v1 - v)/dt = g_leak (v_leak - v1) + sum g_k (E_k - v1): residual of the implicit Euler equation
    residual = cm * (v1 - v) / dt - gl * (vl - v1) - np.sum(g * (E - v1))
    assert abs(residual) < 1e-12


def _leak_only(solver, unfolds, dt=1.0):
    """An LTC with no synapses: dv/dt = g (v_leak - v)/C, whose solution is exponential relaxation."""
    model = LTC(1, W.Wiring.from_adjacency(np.zeros((3, 3)), np.zeros((1, 3)), 3), ode_unfolds=unfolds,
                solver=solver, implicit_constraints=False, epsilon=0.0).double()
    with torch.no_grad():
        model.gleak.copy_(torch.tensor([0.5, 2.0, 8.0]))
        model.cm.copy_(torch.tensor([1.0, 0.5, 0.5]))
        model.vleak.copy_(torch.tensor([0.1, -0.2, 0.2]))
    h0 = torch.tensor([[1.0, 1.0, -1.0]], dtype=torch.float64)
    h = model.states(torch.zeros(4, 1, 1, dtype=torch.float64), h0, timespans=dt)
    rate = (model.gleak / model.cm).detach()
    exact = model.vleak.detach() + (h0 - model.vleak.detach()) * torch.exp(-rate * 4 * dt)
    return h[-1].detach(), exact


def test_solvers_converge_to_the_closed_form_at_their_order():
    errs = {s: [float((lambda r: (r[0] - r[1]).abs().max())(_leak_only(s, n))) for n in (20, 40)]
            for s in ("euler", "fused", "rk4")}
    assert 1.7 < errs["euler"][0] / errs["euler"][1] < 2.3     # first order
    assert 1.7 < errs["fused"][0] / errs["fused"][1] < 2.3     # first order
    assert 12 < errs["rk4"][0] / errs["rk4"][1] < 20           # fourth order
    assert errs["rk4"][1] < 1e-6


def test_fused_approaches_rk4_on_a_wired_network_as_unfolds_grow():
    base = LTC(2, W.AutoNCP(12, 2, seed=0), seed=3).double()
    u = torch.randn(10, 3, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)

    def run(solver, n):
        model = LTC(2, W.AutoNCP(12, 2, seed=0), solver=solver, ode_unfolds=n).double()
        model.load_state_dict(base.state_dict())
        return model.states(u).detach()

    ref = run("rk4", 64)
    assert (run("rk4", 32) - ref).abs().max() < 1e-6          # RK4 itself has converged
    errs = [float((run("fused", n) - ref).abs().max()) for n in (6, 24, 96)]
    assert errs[0] > errs[1] > errs[2] and 2.5 < errs[1] / errs[2] < 5.5   # first order: about 4x per 4x


def test_explicit_euler_blows_up_where_fused_is_stable():
    # rate g/C = 16 with dt = 1/6: dt * rate = 2.7 > 2 makes explicit Euler unstable
    h_e, _ = _leak_only("euler", 6, dt=1.0)
    h_f, exact = _leak_only("fused", 6, dt=1.0)
    assert h_e.abs().max() > 10
    assert (h_f - exact).abs().max() < 0.2 and h_f.abs().max() <= 1.0


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), unfolds=st.integers(1, 8), ts=st.floats(0.05, 20.0),
       scale=st.floats(0.1, 30.0))
def test_fused_state_stays_within_reversal_potentials(seed, unfolds, ts, scale):
    # every fused sub-step is a convex combination of v, v_leak and the E's (all in [-1, 1])
    model = LTC(3, W.RandomSparse(8, 2, 0.3, seed=seed), ode_unfolds=unfolds, seed=seed).double()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        model.w.mul_(scale)
        model.sensory_w.mul_(scale)
    u = scale * torch.randn(30, 4, 3, generator=gen, dtype=torch.float64)
    h0 = 2 * torch.rand(4, 8, generator=gen, dtype=torch.float64) - 1
    h = model.states(u, h0, timespans=ts)
    assert h.abs().max() <= 1.0 + 1e-12


def test_bad_arguments_name_the_parameter():
    with pytest.raises(ValueError, match="ode_unfolds"):
        LTC(2, 5, ode_unfolds=0)
    with pytest.raises(ValueError, match="solver"):
        LTC(2, 5, solver="rk45")
    with pytest.raises(ValueError, match="n_in"):
        LTC(0, 5)
    with pytest.raises(ValueError, match="wiring"):
        LTC(2, "dense")
    with pytest.raises(ValueError, match="input_mapping"):
        LTC(2, 5, input_mapping="relu")
    with pytest.raises(ValueError, match="readout"):
        LTC(2, 5, readout="first")
    with pytest.raises(ValueError, match="input_dim"):
        LTC(3, W.AutoNCP(10, 1).build(2))
    model = LTC(2, 5)
    with pytest.raises(ValueError, match=r"u must have 2 input feature\(s\)"):
        model(torch.zeros(4, 3, 3))
    with pytest.raises(ValueError, match="timespans"):
        model(torch.zeros(4, 3, 2), timespans=torch.ones(5, 3))
    with pytest.raises(ValueError, match="timespans"):
        model(torch.zeros(4, 3, 2), timespans=-1.0)
    with pytest.raises(ValueError, match="timespans"):
        model(torch.zeros(4, 3, 2), timespans=torch.zeros(4))


# ---------------------------------------------------------------------------------------------------- CfC
from rnnlib.models.ncp import CfC  # noqa: E402


@pytest.mark.parametrize("kw", [{}, {"proj_size": 2}, {"mode": "no_gate", "backbone_layers": 2, "backbone_units": 16},
                                {"mode": "pure", "activation": "silu"}, {"backbone_layers": 0}])
def test_cfc_equals_ncps(kw):
    torch.manual_seed(0)
    ncps_kw = {k: v for k, v in kw.items() if k != "activation"}
    if "activation" in kw:
        ncps_kw["activation"] = kw["activation"]
    ref = nt.CfC(3, 8, batch_first=False, **ncps_kw)
    mine = CfC.from_ncps(ref)
    u = torch.randn(20, 4, 3, generator=torch.Generator().manual_seed(1))
    y_ref, h_ref = ref(u)
    y, h = mine(u)
    assert torch.allclose(y, y_ref, atol=1e-6, rtol=0)
    assert torch.allclose(h[-1], h_ref, atol=1e-6, rtol=0)


def test_cfc_float64_gradients_timespans_and_seeded_init():
    torch.manual_seed(5)
    ref = nt.CfC(2, 6, batch_first=False, backbone_units=32)
    mine = CfC(2, 6, backbone_units=32, seed=5)
    ref_sd = ref.state_dict()
    for name, value in mine.state_dict().items():
        ncps_name = "rnn_cell." + (f"backbone.{2 * int(name.split('.')[1])}.{name.split('.')[2]}"
                                   if name.startswith("backbone") else name)
        assert torch.equal(value, ref_sd[ncps_name]), name
    ref, mine = ref.double(), mine.double()
    gen = torch.Generator().manual_seed(2)
    u = torch.randn(10, 1, 2, generator=gen, dtype=torch.float64)
    ts = 0.1 + torch.rand(10, 1, 1, generator=gen, dtype=torch.float64)
    y_ref, _ = ref(u, timespans=ts)
    y, _ = mine(u, timespans=ts)
    assert torch.allclose(y, y_ref, atol=1e-12, rtol=0)
    y_ref.sum().backward()
    y.sum().backward()
    assert torch.allclose(mine.ff1.weight.grad, ref.rnn_cell.ff1.weight.grad, atol=1e-10)
    assert torch.allclose(mine.backbone[0].weight.grad, ref.rnn_cell.backbone[0].weight.grad, atol=1e-10)


def test_cfc_default_state_is_between_its_two_branches():
    # h = f1 (1 - gate) + gate f2 with gate in (0, 1) and |f| < 1: the state stays in (-1, 1)
    model = CfC(3, 10, backbone_units=16, seed=1).double()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(3)
    h = model.states(3 * torch.randn(50, 8, 3, dtype=torch.float64))
    assert 0.9 < h.abs().max() < 1.0


def test_cfc_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        CfC(2, 4, mode="fast")
    with pytest.raises(ValueError, match="activation"):
        CfC(2, 4, activation="softsign")
    with pytest.raises(ValueError, match="units"):
        CfC(2, 0)
    with pytest.raises(ValueError, match=r"u must have 2 input feature\(s\)"):
        CfC(2, 4)(torch.zeros(3, 1, 5))


# ------------------------------------------------------------------- the hand-written backward (ltc_fused)
@pytest.mark.parametrize("ts", [None, 0.4, "per-sample"])
def test_fast_backward_equals_autograd_through_the_step(ts):
    model = LTC(3, W.AutoNCP(12, 2, seed=5), seed=1, ode_unfolds=4).double()
    gen = torch.Generator().manual_seed(0)
    u = torch.randn(7, 4, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(4, 12, generator=gen, dtype=torch.float64, requires_grad=True)
    tsv = 0.2 + torch.rand(7, 4, 1, generator=gen, dtype=torch.float64) if ts == "per-sample" else ts
    results = []
    for fast in (True, False):
        model.fast_backward = fast
        model.zero_grad()
        u.grad = h0.grad = None
        y, h = model(u, h0, timespans=tsv)
        (y.sin().sum() + h[3].square().sum()).backward()
        results.append([y.detach(), u.grad, h0.grad] + [p.grad for p in model.parameters()])
    for fast, slow in zip(*results):
        assert torch.allclose(fast, slow, atol=1e-12, rtol=1e-10)


def test_fast_backward_gradcheck():
    from rnnlib.models.ltc_fused import fused_states
    gen = torch.Generator().manual_seed(1)
    B, N, T, K = 2, 4, 3, 2
    args = [torch.rand(*shape, generator=gen, dtype=torch.float64) + lo for shape, lo in
            [((B, N), -0.5), ((N,), 0.5), ((T, B, N), 0.0), ((T, B, N), 1.0),
             ((N, N), 0.1), ((N, N), -0.5), ((N, N), 3.0), ((N, N), 1.0)]]
    for a in args:
        a.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda *xs: fused_states(*xs, K), args)


# ------------------------------------------------------------------ chapter helpers and the exercise checker
from rnnlib.models.ncp import one_neuron, solver_stability  # noqa: E402


def test_one_neuron_steady_state_and_liquid_time_constant():
    model = one_neuron(cm=1.0, g_leak=0.5, v_leak=-0.1, w=2.0, sigma=6.0, mu=0.5, E=1.0)
    u = torch.ones(400, 1, 1, dtype=torch.float64)
    h = model.states(u, timespans=0.1).detach()
    g = 2.0 / (1 + math.exp(-6.0 * 0.5))                  # open synaptic conductance at u = 1
    assert abs(float(h[-1]) - (0.5 * -0.1 + g * 1.0) / (0.5 + g)) < 1e-9
    tau = model.time_constants(h[-1], u[-1]).item()
    assert abs(tau - 1.0 / (0.5 + g)) < 1e-12 and tau < 1.0 / 0.5      # input shortens the time constant


def test_solver_stability_table_shape_and_fused_bound():
    table = solver_stability(units=(4, 40), unfolds=(1, 6), T=10, batch=2)
    assert set(table) == {"fused", "euler", "rk4"} and table["fused"].shape == (2, 2)
    assert (table["fused"] <= 1.0).all()
    assert not np.isfinite(table["euler"][1, 0]) or table["euler"][1, 0] > 10   # one Euler step of 1 with 40 units


def test_check_fused_step_accepts_reference_and_rejects_euler():
    from rnnlib import check

    def mine(v, dt, cm, g_leak, v_leak, g, E):
        return float(fused_step(torch.tensor(v, dtype=torch.float64), dt, cm, g_leak, v_leak,
                                torch.tensor(g), torch.tensor(E)))

    assert check.check_fused_step(mine)
    wrong = check.check_fused_step(lambda v, dt, cm, gl, vl, g, E: v + dt / cm * (gl * (vl - v) + np.sum(g * (E - v))))
    assert not wrong and "explicit Euler" in wrong.message
    assert not check.check_fused_step(None)
