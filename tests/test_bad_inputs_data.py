"""Issue 16: every bad input answered clearly, for the data side of rnnlib (tasks, wirings, theory, seeds, widgets).

One regression test per finding of the review (strings for numbers, allocations that cannot fit, a 10,000-frame
explorer, slow dense wirings, seeds outside the one policy, a results file that does not exist), then one
parametrised test per kind of bad value (strings, None, bools, 2.5 for an integer, NaN) over the public
constructors and functions. Every error must be a ValueError (or FileNotFoundError) that names the parameter.
Nothing here trains or allocates much: the size guards refuse before allocating.
"""
from __future__ import annotations

import importlib
import re

import numpy as np
import pytest
import torch

import rnnlib.book.widgets as widgets
from rnnlib.models import wiring as Wr
from rnnlib.sweeps import results
from rnnlib.tasks import LagTask, RecentPastTask, SineTask
from rnnlib.tasks import pathological as P
from rnnlib.theory import connectivity as C
from rnnlib.theory import context_cost as CC
from rnnlib.theory import dynamics as D
from rnnlib.theory import gradients as G
from rnnlib.theory import memory as M
from rnnlib.theory import recurrence as R
from rnnlib.theory import surface as S

dev = importlib.import_module("rnnlib.device")   # the module (rnnlib.device is also the function)

SEED_POLICY = r"seed must be an integer in \[0, 2\*\*63 - 1\]"


# --- 1. strings where numbers are expected ------------------------------------------------------------------

def test_lag_task_string_lag_names_lag():
    with pytest.raises(ValueError, match=r"lag must be an integer >= 0, got '3' \(str\)"):
        LagTask(lag="3")


def test_lag_task_sample_string_batch_names_batch_size():
    with pytest.raises(ValueError, match=r"batch_size must be an integer >= 1, got '8' \(str\)"):
        LagTask(3).sample("8")


@pytest.mark.parametrize("name", sorted(P.TASKS))
def test_pathological_string_length_names_length(name):
    with pytest.raises(ValueError, match=r"length must be an integer >= 1, got '50' \(str\)"):
        P.make(name, "50")
    with pytest.raises(ValueError, match=r"length must be an integer >= 1, got '60' \(str\)"):
        P.make(name, 50).sample(4, length="60")


def test_memorisation_pattern_too_large_for_one_integer_names_both():
    with pytest.raises(ValueError, match=r"n_values \*\* n_pos"):
        P.NoiselessMemorization(50, n_values=100, n_pos=20)


# --- 2. size guards: refuse before allocating, with the estimate and the limit ------------------------------

GUARD = r"would need about [\d.e+]+ GB, over rnnlib's limit of [\d.e+]+ GB"


def test_lag_task_huge_batch_is_refused_with_estimate_and_limit():
    with pytest.raises(ValueError, match=GUARD) as info:
        LagTask(3).sample(10**9)
    assert "batch_size" in str(info.value) and "length" in str(info.value)
    assert "RNNLIB_MEMORY_LIMIT_GB" in str(info.value)


@pytest.mark.parametrize("task", [RecentPastTask(), RecentPastTask(answer="sign"), SineTask()],
                         ids=["recent-mean", "recent-sign", "sine"])
def test_other_tasks_huge_batch_is_refused(task):
    with pytest.raises(ValueError, match="batch_size"):
        task.sample(10**9)


@pytest.mark.parametrize("name", sorted(P.TASKS))
def test_pathological_huge_batch_or_length_is_refused(name):
    task = P.make(name, 50)
    with pytest.raises(ValueError, match=GUARD + ".*batch_size or length"):
        task.sample(10**9)
    with pytest.raises(ValueError, match=GUARD):
        task.sample(10, length=10**9)


def test_sine_task_huge_length_is_refused_at_construction():
    with pytest.raises(ValueError, match="length"):
        SineTask(10**11)


def test_memory_limit_env_var_is_honoured(monkeypatch):
    monkeypatch.setenv("RNNLIB_MEMORY_LIMIT_GB", "0.0001")       # 100 kB
    with pytest.raises(ValueError, match=r"limit of 0.0001 GB"):
        LagTask(3).sample(10_000)
    monkeypatch.delenv("RNNLIB_MEMORY_LIMIT_GB")
    assert LagTask(3).sample(10_000)[0].shape == (8, 10_000, 1)


@pytest.mark.parametrize("call, names", [
    (lambda: R.random_weights(1000, 1.0), "n"),
    (lambda: R.trajectory(np.eye(3), None, np.zeros(3), 10**6), "steps"),
    (lambda: G.random_recurrent(1000), "n"),
    (lambda: G.nonnormal_recurrent(1000), "n"),
    (lambda: G.run_states(np.eye(3), np.zeros(3), 10**6), "T"),
    (lambda: G.step_jacobians(np.eye(100), np.zeros((101, 100))), "T"),
    (lambda: G.linear_modes(np.eye(3), np.ones(3), 10**6), "n_max"),
    (lambda: M.ar1_inputs(1000, 1000, 0.5, rng=np.random.default_rng(0)), "T or n"),
    (lambda: M.monte_carlo_moments(np.linspace(0, 0.5, 100), 0.0, n_samples=10_000, T=10), "n_samples"),
    (lambda: D.iterate(0.0, 5.0, np.zeros(10**4), 100, path=True), "T"),
    (lambda: D.sensitivity_grid(0.5, 5.0, (-3, -1), n=10**6), "n"),
    (lambda: S.grid(shape=(1000, 1000)), "shape"),
    (lambda: S.derivatives(np.zeros((1000, 1000)), 0.0), "w and b"),
    (lambda: S.wall_profile(np.linspace(4, 8, 1000)), "w_values"),
    (lambda: CC.make_predictor("attention_recompute", 10**4, n_in=4, n_hidden=8), "context"),
    (lambda: CC.make_predictor("window_mlp", 10**4, n_in=4, n_hidden=64), "context"),
    (lambda: CC.make_predictor("attention_cached", 10**5, n_in=4, n_hidden=64), "context"),
], ids=["random_weights", "trajectory", "random_recurrent", "nonnormal", "run_states", "step_jacobians",
        "linear_modes", "ar1_inputs", "monte_carlo", "iterate", "sensitivity_grid", "surface_grid",
        "derivatives", "wall_profile", "attention_recompute", "window_mlp", "attention_cached"])
def test_theory_allocations_are_guarded(monkeypatch, call, names):
    monkeypatch.setenv("RNNLIB_MEMORY_LIMIT_GB", "0.001")         # 1 MB: every call above needs more
    with pytest.raises(ValueError, match=GUARD) as info:
        call()
    assert names in str(info.value)


def test_attention_window_is_guarded_at_the_default_limit():
    # re-encoding a 10^6-step window needs a 10^6 x 10^6 attention matrix: refused, not attempted
    with pytest.raises(ValueError, match=GUARD + ".*context"):
        CC.WindowAttention(1, 8, 1, 10**6, cache=False)


def test_monte_carlo_refuses_a_lam_that_needs_an_endless_simulation():
    with pytest.raises(ValueError, match="lam .* needs T = "):
        M.monte_carlo_moments(1 - 1e-12, 0.0, n_samples=2)


# --- 3. an explorer that would draw thousands of frames ---------------------------------------------------

def test_explore_refuses_a_huge_grid_before_drawing():
    calls = []

    def draw(a, b):
        calls.append((a, b))
        raise AssertionError("no frame may be drawn")

    with pytest.raises(ValueError, match=r"a \(100 values\) x b \(100 values\) = 10000 frames") as info:
        widgets.explore(draw, {"a": list(range(100)), "b": list(np.linspace(0, 1, 100))})
    assert f"MAX_FRAMES = {widgets.MAX_FRAMES}" in str(info.value)
    assert calls == []


def test_explore_frame_limit_leaves_room_for_the_chapters():
    # the largest explorer of the book (chapter 3: 5 x 3 x 3 = 45 frames) is far below the limit
    assert 45 <= widgets.MAX_FRAMES <= 1000
    ex = widgets.Explorer(lambda a: None, {"a": list(range(widgets.MAX_FRAMES))})   # the limit itself is allowed
    assert ex.n_frames == widgets.MAX_FRAMES


@pytest.mark.parametrize("kw, match", [({"dpi": "72"}, "dpi"), ({"dpi": 0}, "dpi"), ({"title": 3}, "title"),
                                       ({"name": ["x"]}, "name")])
def test_explore_bad_options(kw, match):
    with pytest.raises(ValueError, match=match):
        widgets.Explorer(lambda a: None, {"a": [1, 2]}, **kw)


def test_explore_control_names_must_be_parameter_names():
    with pytest.raises(ValueError, match="controls"):
        widgets.Explorer(lambda a: None, {3: [1, 2]})


# --- 4. wirings: vectorised, the same matrices, n^2 memory guarded ------------------------------------------

def _reference_fully_connected(units, output_dim, seed, self_connections, n_in):
    """The synapse-by-synapse construction of ncps.wirings.FullyConnected (what rnnlib did before)."""
    rng = np.random.default_rng(seed)
    A = np.zeros((units, units), dtype=np.int32)
    for src in range(units):
        for dest in range(units):
            if src == dest and not self_connections:
                continue
            A[src, dest] = int(rng.choice((-1, 1, 1)))
    S = np.zeros((n_in, units), dtype=np.int32)
    for src in range(n_in):
        for dest in range(units):
            S[src, dest] = int(rng.choice((-1, 1, 1)))
    return A, S


def _reference_random(units, sparsity, seed, n_in):
    """The synapse-by-synapse construction of ncps.wirings.Random."""
    rng = np.random.default_rng(seed)
    A = np.zeros((units, units), dtype=np.int32)
    pairs = np.array([(i, j) for i in range(units) for j in range(units)])
    for src, dest in rng.choice(pairs, size=int(np.round(units**2 * (1 - sparsity))), replace=False):
        A[src, dest] = int(rng.choice((-1, 1, 1)))
    S = np.zeros((n_in, units), dtype=np.int32)
    pairs = np.array([(k, j) for k in range(n_in) for j in range(units)])
    for src, dest in rng.choice(pairs, size=int(np.round(n_in * units * (1 - sparsity))), replace=False):
        rng.choice((-1, 1, 1))
        S[src, dest] = int(rng.choice((-1, 1, 1)))
    return A, S


@pytest.mark.parametrize("units, out, seed, self_conn, n_in", [(1, 1, 0, True, 1), (7, 3, 5, False, 3),
                                                             (40, 10, 1111, True, 5), (23, 23, 2**62, False, 2)])
def test_vectorised_fully_connected_equals_the_synapse_loop(units, out, seed, self_conn, n_in):
    w = Wr.FullyConnected(units, out, seed=seed, self_connections=self_conn).build(n_in)
    A, S_ = _reference_fully_connected(units, out, seed, self_conn, n_in)
    assert np.array_equal(w.adjacency, A) and np.array_equal(w.sensory_adjacency, S_)


@pytest.mark.parametrize("units, sparsity, seed, n_in", [(1, 0.0, 0, 1), (9, 0.5, 3, 4), (30, 0.9, 77, 6),
                                                        (12, 0.25, 2**40, 2)])
def test_vectorised_random_sparse_equals_the_synapse_loop(units, sparsity, seed, n_in):
    w = Wr.RandomSparse(units, 1, sparsity, seed=seed).build(n_in)
    A, S_ = _reference_random(units, sparsity, seed, n_in)
    assert np.array_equal(w.adjacency, A) and np.array_equal(w.sensory_adjacency, S_)


def test_dense_wiring_of_thousands_of_units_builds(monkeypatch):
    """Vectorised: the per-synapse method is never called for a dense wiring (it was 4 million calls here)."""
    calls = []
    monkeypatch.setattr(Wr.Wiring, "add_synapse", lambda self, *a, **k: calls.append(a))
    w = Wr.FullyConnected(2000).build(1)
    assert w.synapse_count == 2000**2 and not calls


def test_auto_ncp_of_thousands_of_units_builds():
    w = Wr.AutoNCP(2000, 10, 0.5).build(4)          # the synapse-by-synapse loop took about 15 s at this size
    assert w.units == 2000 and w.synapse_count > 0


@pytest.mark.parametrize("make", [lambda: Wr.FullyConnected(10**6), lambda: Wr.RandomSparse(10**6, 1, 0.5),
                                  lambda: Wr.Wiring(10**6)], ids=["dense", "random", "custom"])
def test_wiring_n_squared_memory_is_guarded(make):
    with pytest.raises(ValueError, match=GUARD + ".*units"):
        make()


def test_wiring_sensory_memory_is_guarded():
    with pytest.raises(ValueError, match=GUARD + ".*input_dim"):
        Wr.FullyConnected(100).build(10**9)


# --- 5. seeds: one policy, an integer in [0, 2**63 - 1] -----------------------------------------------------

def test_seed_everything_refuses_a_seed_above_the_range():
    with pytest.raises(ValueError, match=SEED_POLICY + ", got 1180591620717411303424"):
        dev.seed_everything(2**70)


def test_seed_everything_refuses_a_negative_seed():
    with pytest.raises(ValueError, match=SEED_POLICY + ", got -1"):
        dev.seed_everything(-1)


def test_seed_policy_holds_at_both_ends():
    dev.numpy_rng(0), dev.numpy_rng(2**63 - 1), dev.torch_generator(2**63 - 1)
    Wr.NCP(4, 3, 2, 2, 2, 2, 2, seed=2**63 - 1).build(2)     # beyond RandomState's 2**32 - 1, still accepted
    assert dev.check_seed(np.int64(5)) == 5


def test_seed_offset_pushing_a_seed_out_of_range_is_explained(monkeypatch):
    monkeypatch.setenv("RNNLIB_SEED_OFFSET", "10")
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2\*\*63 - 1\] after adding"):
        dev.shift_seed(2**63 - 5)


SEED_TAKERS = {
    "seed_everything": lambda s: dev.seed_everything(s),
    "numpy_rng": lambda s: dev.numpy_rng(s),
    "torch_generator": lambda s: dev.torch_generator(s),
    "manual_seed": lambda s: dev.manual_seed(s),
    "FullyConnected": lambda s: Wr.FullyConnected(4, seed=s),
    "RandomSparse": lambda s: Wr.RandomSparse(4, 1, 0.5, seed=s),
    "NCP": lambda s: Wr.NCP(4, 3, 2, 2, 2, 2, 2, seed=s),
    "AutoNCP": lambda s: Wr.AutoNCP(10, 2, seed=s),
    "baseline_error": lambda s: P.baseline_error(P.Addition(10), size=4, seed=s),
    "random_weights": lambda s: R.random_weights(3, 1.0, seed=s),
    "find_fixed_points": lambda s: R.find_fixed_points(np.eye(2) * 0.5, n_starts=1, seed=s),
    "lyapunov_exponent": lambda s: R.lyapunov_exponent(np.eye(2) * 0.5, None, np.zeros(2), steps=2, seed=s),
    "random_recurrent": lambda s: G.random_recurrent(3, seed=s),
    "driven_network": lambda s: G.driven_network(0.9, T=3, H=2, seed=s),
    "monte_carlo_moments": lambda s: M.monte_carlo_moments(0.5, 0.0, n_samples=2, T=2, seed=s),
    "make_predictor": lambda s: CC.make_predictor("rnn", 3, n_in=1, n_hidden=2, seed=s),
    "measure_prediction": lambda s: CC.measure_prediction(CC.make_predictor("rnn", 3, n_in=1, n_hidden=2),
                                                          repeats=1, seed=s),
}
BAD_SEEDS = {"negative": -1, "2**63": 2**63, "2**70": 2**70, "float": 2.5, "integral float": 3.0, "string": "7",
             "None": None, "bool": True, "nan": float("nan")}


@pytest.mark.parametrize("seed", list(BAD_SEEDS.values()), ids=list(BAD_SEEDS))
@pytest.mark.parametrize("taker", list(SEED_TAKERS.values()), ids=list(SEED_TAKERS))
def test_every_seed_follows_the_one_policy(taker, seed):
    with pytest.raises(ValueError, match=SEED_POLICY):
        taker(seed)


# --- 6. a results file that does not exist ------------------------------------------------------------------

def test_load_nonexistent_lists_the_shipped_names_and_suggests_no_failing_command():
    with pytest.raises(FileNotFoundError) as info:
        results.load("nonexistent")
    msg = str(info.value)
    assert "'nonexistent'" in msg
    for name in results.shipped():
        assert repr(name) in msg
    assert "rnnlib.sweeps nonexistent" not in msg
    assert "`python -m rnnlib.sweeps --list`" in msg


@pytest.mark.parametrize("name", ["gated_lag", "gated-lag", "ncp_lag", "temporal_order", "teacher-student", "lag"])
def test_load_missing_sweep_file_suggests_a_command_that_works(tmp_path, name):
    with pytest.raises(FileNotFoundError) as info:
        results.load(name, data_dir=tmp_path)
    command = re.search(r"`python -m rnnlib\.sweeps (\S+) --out (\S+)`", str(info.value))
    assert command, str(info.value)
    assert callable(results.resolve(command.group(1)))      # the CLI's own look-up accepts the name
    assert command.group(2) == str(tmp_path)


def test_load_bad_name_type():
    with pytest.raises(ValueError, match="name must be one of"):
        results.load(None)


# --- the kinds of bad value, over the public constructors and functions ------------------------------------

TASK = P.Addition(20)
W3 = np.eye(3) * 0.5
X3 = np.zeros((6, 3))


def _draw(a):
    raise AssertionError("not drawn")


# (name, call taking the bad value, the parameter the error must name, None is a valid value)
INTEGERS = [
    ("LagTask.lag", lambda v: LagTask(v), "lag", False),
    ("LagTask.length", lambda v: LagTask(3, length=v), "length", True),
    ("LagTask.sample", lambda v: LagTask(3).sample(v), "batch_size", False),
    ("RecentPastTask.length", lambda v: RecentPastTask(length=v), "length", False),
    ("RecentPastTask.window", lambda v: RecentPastTask(window=v), "window", False),
    ("RecentPastTask.sample", lambda v: RecentPastTask().sample(v), "batch_size", False),
    ("SineTask.length", lambda v: SineTask(v), "length", False),
    ("SineTask.sample", lambda v: SineTask().sample(v), "batch_size", False),
    *[(f"{n}.length", lambda v, n=n: P.make(n, v), "length", False) for n in sorted(P.TASKS)],
    *[(f"{n}.max_length", lambda v, n=n: P.make(n, 20, v), "max_length", True) for n in sorted(P.TASKS)],
    *[(f"{n}.sample", lambda v, n=n: P.make(n, 20).sample(v), "batch_size", False) for n in sorted(P.TASKS)],
    ("memorization.n_values", lambda v: P.NoiselessMemorization(20, n_values=v), "n_values", False),
    ("memorization.n_pos", lambda v: P.NoiselessMemorization(20, n_pos=v), "n_pos", False),
    ("baseline_error.size", lambda v: P.baseline_error(TASK, size=v), "size", False),
    ("FullyConnected.units", lambda v: Wr.FullyConnected(v), "units", False),
    ("FullyConnected.output_dim", lambda v: Wr.FullyConnected(5, v), "output_dim", True),
    ("Wiring.build", lambda v: Wr.FullyConnected(5).build(v), "input_dim", False),
    ("RandomSparse.units", lambda v: Wr.RandomSparse(v), "units", False),
    ("NCP.inter", lambda v: Wr.NCP(v, 3, 2, 2, 2, 2, 2), "inter", False),
    ("NCP.motor_fanin", lambda v: Wr.NCP(4, 3, 2, 2, 2, 2, v), "motor_fanin", False),
    ("auto_ncp_sizes.units", lambda v: Wr.auto_ncp_sizes(v, 2), "units", False),
    ("AutoNCP.output_size", lambda v: Wr.AutoNCP(10, v), "output_size", False),
    ("best_time.repeats", lambda v: dev.best_time(lambda: None, repeats=v), "repeats", False),
    ("best_time.warmup", lambda v: dev.best_time(lambda: None, repeats=1, warmup=v), "warmup", False),
    ("prediction_cost.context", lambda v: CC.prediction_cost("rnn", v, n_in=1, n_hidden=2), "context", False),
    ("make_predictor.n_in", lambda v: CC.make_predictor("window_mlp", 4, n_in=v, n_hidden=3), "n_in", False),
    ("WindowAttention.context", lambda v: CC.WindowAttention(1, 4, 1, v), "context", False),
    ("measure_prediction.repeats",
     lambda v: CC.measure_prediction(CC.make_predictor("rnn", 2, n_in=1, n_hidden=2), repeats=v), "repeats", False),
    ("random_weights.n", lambda v: R.random_weights(v, 1.0), "n", False),
    ("trajectory.steps", lambda v: R.trajectory(W3, None, np.zeros(3), v), "steps", False),
    ("lyapunov_exponent.steps", lambda v: R.lyapunov_exponent(W3, None, np.zeros(3), steps=v), "steps", False),
    ("attractor.max_period", lambda v: R.attractor(W3, None, np.ones(3), max_period=v), "max_period", False),
    ("memory_function.max_delay",
     lambda v: R.memory_function(np.zeros((6, 4, 2)), np.zeros((6, 4)), v), "max_delay", False),
    ("random_recurrent.n", lambda v: G.random_recurrent(v), "n", False),
    ("run_states.T", lambda v: G.run_states(W3, np.zeros(3), v), "T", False),
    ("pascanu_bound.T", lambda v: G.pascanu_bound(W3, v), "T", False),
    ("jacobian_product.k", lambda v: G.jacobian_product(W3, X3, v, 3), "k", False),
    ("jacobian_product.t", lambda v: G.jacobian_product(W3, X3, 0, v), "t", False),
    ("path_sum.t", lambda v: G.path_sum(W3, X3, 0, v), "t", False),
    ("linear_modes.n_max", lambda v: G.linear_modes(W3, np.ones(3), v), "n_max", False),
    ("driven_network.T", lambda v: G.driven_network(0.9, T=v, H=2), "T", False),
    ("driven_network.H", lambda v: G.driven_network(0.9, T=3, H=v), "H", False),
    ("iterate.T", lambda v: D.iterate(0.0, 5.0, -2.5, v), "T", False),
    ("sensitivities.T", lambda v: D.sensitivities(0.0, 5.0, -2.5, v), "T", False),
    ("sensitivity_grid.n", lambda v: D.sensitivity_grid(0.5, 5.0, (-3, -1), n=v), "n", False),
    ("derivatives.T", lambda v: S.derivatives(5.0, -2.0, T=v), "T", False),
    ("grid.shape", lambda v: S.grid(shape=(v, 3)), "shape", False),
    ("linear_derivatives.t", lambda v: S.linear_derivatives(0.5, v), "t", False),
    ("sgd_path.steps", lambda v: S.sgd_path(5.0, -2.0, 0.1, v), "steps", False),
    ("ar1_inputs.T", lambda v: M.ar1_inputs(v, 3, 0.5, rng=np.random.default_rng(0)), "T", False),
    ("monte_carlo_moments.n_samples", lambda v: M.monte_carlo_moments(0.5, 0.0, n_samples=v), "n_samples", False),
    ("monte_carlo_moments.T", lambda v: M.monte_carlo_moments(0.5, 0.0, n_samples=2, T=v), "T", True),
    ("lookback via connectivity.u", lambda v: C.connectivity(lambda u: u[-1], v), "u", False),
    ("Explorer.dpi", lambda v: widgets.Explorer(_draw, {"a": [1]}, dpi=v), "dpi", False),
]

NUMBERS = [
    ("LagTask.noise", lambda v: LagTask(3, noise=v), "noise", False),
    ("RecentPastTask.signal", lambda v: RecentPastTask(signal=v), "signal", True),
    ("RecentPastTask.event_rate", lambda v: RecentPastTask(event_rate=v), "event_rate", True),
    ("RecentPastTask.event_size", lambda v: RecentPastTask(event_size=v), "event_size", False),
    ("RecentPastTask.drift", lambda v: RecentPastTask(drift=v), "drift", False),
    ("RecentPastTask.tolerance", lambda v: RecentPastTask(tolerance=v), "tolerance", False),
    ("RandomSparse.sparsity", lambda v: Wr.RandomSparse(5, 2, v), "sparsity", False),
    ("auto_ncp_sizes.sparsity", lambda v: Wr.auto_ncp_sizes(10, 2, v), "sparsity", False),
    ("mean_square_state.lam", lambda v: M.mean_square_state(v), "lam", False),
    ("mean_square_state.rho", lambda v: M.mean_square_state(0.5, v), "rho", False),
    ("mean_square_sensitivity.lam", lambda v: M.mean_square_sensitivity(v, param="exp"), "lam", False),
    ("gamma.lam", lambda v: M.gamma(v), "lam", False),
    ("dlambda_dnu.lam", lambda v: M.dlambda_dnu(v), "lam", False),
    ("loss_1d.lam", lambda v: M.loss_1d(v, 0.5), "lam", False),
    ("loss_1d.lam_star", lambda v: M.loss_1d(0.5, v), "lam_star", False),
    ("loss_1d.mu", lambda v: M.loss_1d(0.5, 0.6, mu=v), "mu", False),
    ("loss_1d_normalised.lam", lambda v: M.loss_1d_normalised(v, 0.5), "lam", False),
    ("curvature_1d.lam_star", lambda v: M.curvature_1d(v), "lam_star", False),
    ("monte_carlo_moments.lam", lambda v: M.monte_carlo_moments(v, 0.0, n_samples=2), "lam", False),
    ("monte_carlo_moments.rho", lambda v: M.monte_carlo_moments(0.5, v, n_samples=2), "rho", False),
    ("ar1_inputs.rho", lambda v: M.ar1_inputs(3, 3, v, rng=np.random.default_rng(0)), "rho", False),
    ("random_weights.scale", lambda v: R.random_weights(3, v), "scale", False),
    ("scalar_fixed_points.w", lambda v: R.scalar_fixed_points(v), "w", False),
    ("scalar_fixed_points.b", lambda v: R.scalar_fixed_points(1.0, v), "b", False),
    ("autonomous_map.W", lambda v: R.autonomous_map(np.zeros(3), v), "W", False),
    ("trajectory.h0", lambda v: R.trajectory(W3, None, v, 3), "h0", False),
    ("fixed_point_iteration.tol", lambda v: R.fixed_point_iteration(W3, None, np.zeros(3), tol=v), "tol", False),
    ("lyapunov_sweep.scales", lambda v: R.lyapunov_sweep(v, n=3, seeds=(0,), steps=2, burn_in=0), "scales", False),
    ("random_recurrent.spectral_radius", lambda v: G.random_recurrent(3, spectral_radius=v), "spectral_radius", True),
    ("nonnormal_recurrent.sigma_max", lambda v: G.nonnormal_recurrent(3, sigma_max=v), "sigma_max", False),
    ("sigma_max.W", lambda v: G.sigma_max(v), "W", False),
    ("run_states.x0", lambda v: G.run_states(W3, v, 3), "x0", False),
    ("driven_network.drive", lambda v: G.driven_network(0.9, T=3, H=2, drive=v), "drive", False),
    ("slope_critical_points.w", lambda v: D.slope_critical_points(v), "w", False),
    ("fixed_points.w", lambda v: D.fixed_points(v, -2.5), "w", False),
    ("fixed_points.b", lambda v: D.fixed_points(5.0, v), "b", False),
    ("fixed_point_branches.w", lambda v: D.fixed_point_branches(v, -2.5), "w", False),
    ("iterate.b", lambda v: D.iterate(0.0, 5.0, v, 3), "b", False),
    ("crossing_bias.x0", lambda v: D.crossing_bias(v), "x0", False),
    ("derivatives.w", lambda v: S.derivatives(v, -2.0), "w", False),
    ("derivatives.x0", lambda v: S.derivatives(5.0, -2.0, x0=v), "x0", False),
    ("wall_bias.w", lambda v: S.wall_bias(v), "w", False),
    ("sgd_path.w0", lambda v: S.sgd_path(v, -2.0, 0.1, 3), "w0", False),
    ("sgd_path.lr", lambda v: S.sgd_path(5.0, -2.0, v, 3), "lr", False),
    ("sgd_path.clip", lambda v: S.sgd_path(5.0, -2.0, 0.1, 3, clip=v), "clip", True),
    ("lookback.threshold", lambda v: C.lookback(np.ones(3), threshold=v), "threshold", False),
    ("lookback.conn", lambda v: C.lookback(v), "conn", False),
]

ONE_OF = [
    ("RecentPastTask.answer", lambda v: RecentPastTask(answer=v), "answer"),
    ("make.name", lambda v: P.make(v, 20), "name"),
    ("device.prefer", lambda v: dev.device(v), "prefer"),
    ("prediction_cost.kind", lambda v: CC.prediction_cost(v, 3, n_in=1, n_hidden=2), "kind"),
    ("mean_square_sensitivity.param", lambda v: M.mean_square_sensitivity(0.5, param=v), "param"),
    ("curvature_1d.direction", lambda v: M.curvature_1d(0.5, direction=v), "direction"),
    ("run_states.activation", lambda v: G.run_states(W3, np.zeros(3), 3, activation=v), "activation"),
    ("connectivity.reduce", lambda v: C.connectivity(lambda u: u[-1], torch.zeros(3, 2, 1), reduce=v), "reduce"),
]

KINDS = {"string": "3", "None": None, "bool": True, "nan": float("nan")}


def _cases(table, kinds):
    for name, call, param, none_ok in table:
        for kind, value in kinds.items():
            if value is None and none_ok:
                continue
            yield pytest.param(call, value, param, id=f"{name}-{kind}")


def _check(call, value, param):
    with pytest.raises(ValueError) as info:
        call(value)
    assert re.search(rf"\b{re.escape(param)}\b", str(info.value)), \
        f"the error does not name {param!r}: {info.value}"


@pytest.mark.parametrize("call, value, param", list(_cases(INTEGERS, KINDS)))
def test_integers_refuse_strings_none_bools_and_nan(call, value, param):
    _check(call, value, param)


@pytest.mark.parametrize("call, value, param", list(_cases(INTEGERS, {"2.5": 2.5})))
def test_integers_refuse_fractions(call, value, param):
    _check(call, value, param)


@pytest.mark.parametrize("call, value, param", list(_cases(NUMBERS, KINDS)))
def test_numbers_refuse_strings_none_bools_and_nan(call, value, param):
    _check(call, value, param)


@pytest.mark.parametrize("call, value, param",
                         [pytest.param(c, v, p, id=f"{n}-{k}") for n, c, p in ONE_OF
                          for k, v in {"string": "nonsense", "None": None, "bool": True, "nan": float("nan"),
                                       "number": 2.5}.items()
                          if not (n == "device.prefer" and v is None)])     # prefer=None means $RNNLIB_DEVICE
def test_choices_refuse_anything_else(call, value, param):
    _check(call, value, param)


@pytest.mark.parametrize("call, param", [
    (lambda: LagTask(3).sample(2, generator=0), "generator"),
    (lambda: P.make("addition", 20).sample(2, generator="g"), "generator"),
    (lambda: RecentPastTask().sample(2, generator=np.random.default_rng(0)), "generator"),
    (lambda: P.baseline_error("addition"), "task"),
    (lambda: Wr.FullyConnected(3, self_connections="no"), "self_connections"),
    (lambda: CC.WindowAttention(1, 4, 1, 3, cache="yes"), "cache"),
    (lambda: CC.measure_prediction("rnn"), "predictor"),
    (lambda: M.mean_square_state(0.5, normalised="yes"), "normalised"),
    (lambda: M.ar1_inputs(3, 3, 0.5, rng=0), "rng"),
    (lambda: dev.time_once(3), "fn"),
    (lambda: C.connectivity(3, torch.zeros(3, 2, 1)), "model_fn"),
    (lambda: M.mean_square_state(1.0), "lam"),                       # outside the stationary range
    (lambda: M.mean_square_sensitivity(0.0, param="exp"), "lam"),   # log 0
    (lambda: R.trajectory(W3, None, np.zeros(4), 3), "h0"),            # wrong number of units
    (lambda: G.jacobian_product(W3, X3, 4, 2), "k"),                   # k > t
    (lambda: S.grid(shape=5), "shape"),
], ids=["lag-generator", "pathological-generator", "recent-generator", "baseline-task", "self_connections", "cache",
        "predictor", "normalised", "rng", "time_once-fn", "model_fn", "lam=1", "exp-lam=0", "h0-width", "k>t",
        "grid-shape"])
def test_other_bad_arguments_name_their_parameter(call, param):
    with pytest.raises(ValueError) as info:
        call()
    assert re.search(rf"\b{re.escape(param)}\b", str(info.value)), str(info.value)
