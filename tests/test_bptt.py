"""rnnlib.theory.bptt (numpy BPTT) against torch autograd, in float64."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from rnnlib.theory import bptt
from rnnlib.models.elman import ElmanRNN
from rnnlib.theory.plots import plot_contribution_matrix


def problem(seed, T=7, B=3, I=2, H=5, O=2, last_only=False):
    rng = np.random.default_rng(seed)
    params = bptt.init_params(I, H, O, scale=1.5, seed=seed)
    params["b_h"] = rng.normal(0, 0.3, H)
    params["b_y"] = rng.normal(0, 0.3, O)
    u = rng.normal(size=(T, B, I))
    target = rng.normal(size=(T, B, O))
    mask = np.zeros((T, B)) if last_only else rng.integers(0, 2, (T, B)).astype(float)
    if last_only:
        mask[-1] = 1
    return params, u, target, mask


def torch_grads(params, u, target, mask, activation, truncate=None):
    model = ElmanRNN.from_numpy(params, activation=activation, readout="all")
    ut = torch.tensor(u)
    y, h = model(ut)
    E = 0.5 * (torch.tensor(mask)[..., None] * (y - torch.tensor(target)) ** 2).sum() / u.shape[1]
    E.backward()
    return float(E.detach()), {k: v.grad.numpy() for k, v in model.named_parameters()}, h


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "linear", "relu"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_full_bptt_equals_autograd(activation, seed):
    params, u, target, mask = problem(seed)
    ours = bptt.bptt(params, u, target, mask=mask, activation=activation)
    E, ref, _ = torch_grads(params, u, target, mask, activation)
    assert ours.loss == pytest.approx(E, rel=1e-12)
    for name in bptt.NAMES:
        np.testing.assert_allclose(ours.grads[name], ref[name], rtol=1e-10, atol=1e-13)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), T=st.integers(1, 12), H=st.integers(1, 6),
       activation=st.sampled_from(["tanh", "sigmoid"]))
def test_random_problems_equal_autograd(seed, T, H, activation):
    params, u, target, mask = problem(seed, T=T, H=H)
    ours = bptt.bptt(params, u, target, mask=mask, activation=activation)
    _, ref, _ = torch_grads(params, u, target, mask, activation)
    for name in bptt.NAMES:
        np.testing.assert_allclose(ours.grads[name], ref[name], rtol=1e-10, atol=1e-13)


def test_dh_is_total_derivative_wrt_states():
    params, u, target, mask = problem(3)
    ours = bptt.bptt(params, u, target, mask=mask)
    model = ElmanRNN.from_numpy(params, readout="all")
    h0 = torch.zeros(u.shape[1], 5, dtype=torch.float64, requires_grad=True)
    # dE/dh_0 through autograd
    y, _ = model(torch.tensor(u), h0)
    E = 0.5 * (torch.tensor(mask)[..., None] * (y - torch.tensor(target)) ** 2).sum() / u.shape[1]
    E.backward()
    np.testing.assert_allclose(ours.dh[0], h0.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_per_step_contributions_sum_to_gradient_and_match_a_direct_computation():
    params, u, target, mask = problem(4, last_only=True)
    ours = bptt.bptt(params, u, target, mask=mask)
    for name in bptt.RECURRENT:
        np.testing.assert_allclose(ours.per_step[name].sum(0), ours.grads[name], rtol=1e-12)
    # contribution of step k to dE/dW_hh = (dE/da_k) h_{k-1}^T, with dE/da_k from autograd
    model = ElmanRNN.from_numpy(params, readout="all")
    ut = torch.tensor(u)
    h = torch.zeros(u.shape[1], 5, dtype=torch.float64)
    pre = []
    for t in range(u.shape[0]):
        a = h @ model.W_hh.T + ut[t] @ model.W_xh.T + model.b_h
        a.retain_grad()
        pre.append((a, h.detach().clone()))
        h = torch.tanh(a)
    y = h @ model.W_hy.T + model.b_y
    E = 0.5 * ((y - torch.tensor(target[-1])) ** 2).sum() / u.shape[1]
    E.backward()
    for k, (a, hprev) in enumerate(pre):
        np.testing.assert_allclose(ours.per_step["W_hh"][k], a.grad.T.numpy() @ hprev.numpy(), rtol=1e-9, atol=1e-15)


def test_truncated_bptt_matches_autograd_with_detached_states():
    params, u, target, mask = problem(5, T=9)
    k = 2
    ours = bptt.bptt(params, u, target, mask=mask, truncate=k)
    # reference: E_t computed from h_{t-k-1} detached, unrolled for k+1 steps
    model = ElmanRNN.from_numpy(params, readout="all")
    ut = torch.tensor(u)
    with torch.no_grad():
        _, hs = model(ut)
    E = 0
    for t in range(u.shape[0]):
        start = max(t - k, 0)
        h = hs[start].detach()
        for s in range(start, t + 1):
            h = model.step(h, ut[s])
        y = h @ model.W_hy.T + model.b_y
        E = E + 0.5 * (torch.tensor(mask[t])[:, None] * (y - torch.tensor(target[t])) ** 2).sum() / u.shape[1]
    E.backward()
    for name in bptt.NAMES:
        np.testing.assert_allclose(ours.grads[name], getattr(model, name).grad.numpy(), rtol=1e-10, atol=1e-13)
    full = bptt.bptt(params, u, target, mask=mask)
    assert not np.allclose(ours.grads["W_hh"], full.grads["W_hh"])
    longest = bptt.bptt(params, u, target, mask=mask, truncate=u.shape[0])
    np.testing.assert_allclose(longest.grads["W_hh"], full.grads["W_hh"], rtol=1e-12)


def test_contribution_matrix_rows_match_single_loss_bptt():
    params, u, target, _ = problem(6, T=6)
    C = bptt.contribution_matrix(params, u, target)
    assert np.allclose(np.triu(C, 1), 0)
    t = 4
    mask = np.zeros(u.shape[:2]); mask[t] = 1
    g = bptt.bptt(params, u, target, mask=mask)
    np.testing.assert_allclose(C[t], np.linalg.norm(g.per_step["W_hh"], axis=(1, 2)), rtol=1e-10, atol=1e-15)


def test_numerical_gradient_agrees():
    params, u, target, mask = problem(7, T=4, H=3)
    g = bptt.bptt(params, u, target, mask=mask, activation="sigmoid")
    num = bptt.numerical_gradient(params, u, target, "W_hh", mask=mask, activation="sigmoid")
    np.testing.assert_allclose(g.grads["W_hh"], num, rtol=1e-6, atol=1e-9)


def test_bad_arguments_name_the_parameter():
    params, u, target, mask = problem(0)
    with pytest.raises(ValueError, match="activation"):
        bptt.bptt(params, u, target, activation="softsign")
    with pytest.raises(ValueError, match="truncate"):
        bptt.bptt(params, u, target, truncate=-1)
    with pytest.raises(ValueError, match="u must have shape"):
        bptt.forward(params, u[0])
    with pytest.raises(ValueError, match="mask"):
        bptt.bptt(params, u, target, mask=mask[:-1])
    with pytest.raises(ValueError, match="spectral_radius"):
        bptt.init_params(2, 3, 1, spectral_radius=-1)
    with pytest.raises(ValueError, match="params is missing"):
        bptt.forward({"W_hh": params["W_hh"]}, u)


# --- input gradients, the Jacobian product, cost and truncated training (chapter 2) ---------------

def test_input_gradient_equals_autograd():
    params, u, target, mask = problem(8)
    ours = bptt.bptt(params, u, target, mask=mask)
    model = ElmanRNN.from_numpy(params, readout="all")
    ut = torch.tensor(u, requires_grad=True)
    y, _ = model(ut)
    E = 0.5 * (torch.tensor(mask)[..., None] * (y - torch.tensor(target)) ** 2).sum() / u.shape[1]
    E.backward()
    np.testing.assert_allclose(ours.du, ut.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(ours.delta.sum(1), ours.per_step["b_h"], rtol=1e-12)


@settings(max_examples=30, deadline=None)
@given(lag=st.integers(1, 9), k=st.integers(0, 9), seed=st.integers(0, 1000))
def test_truncated_input_gradient_vanishes_exactly_beyond_the_window(lag, k, seed):
    """Last-step loss: with truncate=k the gradient reaches u_{T-k}, ..., u_T and nothing earlier."""
    u, target, mask = bptt.lag_batch(lag, 4, seed=seed)
    params = bptt.init_params(1, 6, 1, scale=1.2, seed=seed)
    T = u.shape[0]
    cause = T - 1 - lag
    g = bptt.bptt(params, u, target, mask=mask, truncate=k)
    full = bptt.bptt(params, u, target, mask=mask)
    reached = np.any(g.du[:, :, 0] != 0, axis=1)
    assert not reached[: max(T - 1 - k, 0)].any()                 # exactly zero before the window
    assert reached[max(T - 1 - k, 0):].all()
    assert (np.all(g.du[cause] == 0)) == (lag > k)
    assert np.all(full.du[cause] != 0)
    if lag <= k:
        np.testing.assert_allclose(g.du[cause], full.du[cause], rtol=1e-12)


def test_lag_batch_target_is_the_input_lag_steps_back():
    u, target, mask = bptt.lag_batch(3, 50, length=9, seed=4)
    assert u.shape == (9, 50, 1) and target.shape == (9, 50, 1) and mask.shape == (9, 50)
    np.testing.assert_array_equal(target[-1], u[9 - 1 - 3])
    assert mask[-1].all() and not mask[:-1].any()
    assert set(np.unique(u)) == {-1.0, 1.0}


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
@pytest.mark.parametrize("t, k", [(5, 1), (6, 0), (3, 3), (4, 2)])
def test_jacobian_product_equals_autograd(activation, t, k):
    rng = np.random.default_rng(t * 10 + k)
    params = bptt.init_params(2, 4, 1, scale=1.4, seed=k)
    params["b_h"] = rng.normal(0, 0.5, 4)
    u = rng.normal(size=(6, 3, 2))
    J = bptt.jacobian_product(params, u, t, k, activation=activation)
    model = ElmanRNN.from_numpy(params, activation=activation)
    ut = torch.tensor(u)
    with torch.no_grad():
        hk = model.states(ut)[k]
    for b in range(3):
        def run(h):
            h = h[None]
            for i in range(k, t):
                h = model.step(h, ut[i, b:b + 1])
            return h[0]
        ref = torch.autograd.functional.jacobian(run, hk[b]).numpy()
        np.testing.assert_allclose(J[b], ref, rtol=1e-10, atol=1e-14)
    if t == k:
        np.testing.assert_array_equal(J, np.broadcast_to(np.eye(4), J.shape))


def test_jacobian_product_chains_and_bad_arguments():
    rng = np.random.default_rng(1)
    params = bptt.init_params(1, 3, 1, seed=2)
    u = rng.normal(size=(7, 2, 1))
    J72, J20 = bptt.jacobian_product(params, u, 7, 2), bptt.jacobian_product(params, u, 2, 0)
    np.testing.assert_allclose(J72 @ J20, bptt.jacobian_product(params, u, 7, 0), rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match="t must be in"):
        bptt.jacobian_product(params, u, 8, 0)
    with pytest.raises(ValueError, match="k must be in"):
        bptt.jacobian_product(params, u, 3, 4)


def test_relative_error():
    b = np.array([1.0, -4.0, 2.0])
    assert bptt.relative_error(b + np.array([0, 0.004, 0]), b) == pytest.approx(1e-3)
    assert bptt.relative_error(b, b) == 0.0
    assert bptt.relative_error(np.zeros(2), np.zeros(2)) == 0.0
    assert bptt.relative_error(np.ones(2), np.zeros(2)) == float("inf")
    with pytest.raises(ValueError, match="a and b"):
        bptt.relative_error(np.ones(2), np.ones(3))


def test_bptt_cost_memory_is_exactly_linear_in_T():
    B, H, O = 4, 8, 2
    c = bptt.bptt_cost([3, 6, 12], n_in=3, n_hidden=H, n_out=O, batch_size=B, repeats=1)
    np.testing.assert_array_equal(c["T"], [3, 6, 12])
    # a (T,B,H) + h (T+1,B,H) + y (T,B,O), float64
    np.testing.assert_array_equal(c["stored_bytes"], [8 * B * ((2 * T + 1) * H + T * O) for T in (3, 6, 12)])
    took = np.asarray(c["seconds"], dtype=float)           # a timing: its shape and finiteness, not its size
    assert took.shape == (3,) and np.isfinite(took).all()
    with pytest.raises(ValueError, match="lengths"):
        bptt.bptt_cost([0, 5])
    with pytest.raises(ValueError, match="repeats"):
        bptt.bptt_cost([5], repeats=0)


def test_autograd_saves_two_states_and_one_input_per_step():
    B, H, I = 5, 6, 2
    model = ElmanRNN(I, H, 1, dtype=torch.float64, seed=0)
    sizes = [bptt.autograd_saved_bytes(model, torch.zeros(T, B, I, dtype=torch.float64)) for T in (4, 8, 16)]
    # per step: h_{t-1} (for dE/dW_hh), h_t (for tanh') and u_t, all float64
    per_step = 8 * (2 * B * H + B * I)
    assert sizes[1] - sizes[0] == 4 * per_step
    assert sizes[2] - sizes[1] == 8 * per_step


def test_train_lag_is_reproducible_and_bad_arguments():
    r1 = bptt.train_lag(2, steps=6, eval_every=3, eval_size=20, seed=3)
    r2 = bptt.train_lag(2, steps=6, eval_every=3, eval_size=20, seed=3)
    np.testing.assert_array_equal(r1["loss"], r2["loss"])
    np.testing.assert_array_equal(r1["steps"], [3, 6])
    assert r1["loss"].shape == (6,) and np.all((0 <= r1["error"]) & (r1["error"] <= 1))
    with pytest.raises(ValueError, match="steps"):
        bptt.train_lag(2, steps=0)
    with pytest.raises(ValueError, match="lr"):
        bptt.train_lag(2, lr=-1.0)


@pytest.mark.slow
def test_full_bptt_learns_a_lag_that_truncation_cannot():
    full = bptt.train_lag(8, steps=800, eval_every=800, seed=0)
    cut = bptt.train_lag(8, truncate=2, steps=800, eval_every=800, seed=0)
    assert full["error"][-1] < 0.05
    assert cut["error"][-1] > 0.2


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_untied_copies_give_the_per_step_contributions(activation):
    params, u, target, mask = problem(9, T=6)
    ours = bptt.bptt(params, u, target, mask=mask, activation=activation)
    untied = bptt.untied_gradients(params, u, target, mask=mask, activation=activation)
    for name in bptt.RECURRENT:
        np.testing.assert_allclose(untied[name], ours.per_step[name], rtol=1e-10, atol=1e-14)
    _, ref, _ = torch_grads(params, u, target, mask, activation)
    np.testing.assert_allclose(untied["W_hh"].sum(0), ref["W_hh"], rtol=1e-10, atol=1e-14)
    with pytest.raises(ValueError, match="activation"):
        bptt.untied_gradients(params, u, target, activation="gelu")


def test_random_problem_and_contribution_plot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    params, u, target = bptt.random_problem(5, n_in=2, n_hidden=3, batch_size=4, spectral_radius=0.7, seed=1)
    assert u.shape == (5, 4, 2) and target.shape == (5, 4, 1)
    assert np.max(np.abs(np.linalg.eigvals(params["W_hh"]))) == pytest.approx(0.7)
    again = bptt.random_problem(5, n_in=2, n_hidden=3, batch_size=4, spectral_radius=0.7, seed=1)
    np.testing.assert_array_equal(again[1], u)
    C = bptt.contribution_matrix(params, u, target, param="W_xh")
    fig, ax = plt.subplots()
    im = plot_contribution_matrix(C, ax, title="x")
    arr = im.get_array()
    assert arr.mask[0, 1] and not arr.mask[1, 0]                    # upper triangle (k > t) is blank
    assert arr.max() == 0.0 and arr.min() >= -12
    plt.close(fig)
    with pytest.raises(ValueError, match="T must"):
        bptt.random_problem(0)


def test_unrolled_graph_draws_the_truncated_backward_path():
    """rnnlib.book.figures.unrolled_graph (chapter 2's figures): red backward arrows = the steps BPTT reaches."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgba
    from matplotlib.patches import FancyArrowPatch

    from rnnlib.book.figures import COLORS, unrolled_graph

    red = to_rgba(COLORS["red"])

    def red_arrows(**kw):
        fig, ax = plt.subplots()
        unrolled_graph(ax, T=5, folded=False, highlight_path=True, **kw)
        n = sum(isinstance(p, FancyArrowPatch) and p.get_edgecolor() == red for p in ax.patches)
        plt.close(fig)
        return n

    assert red_arrows() == 5 + 1                  # h_5 -> ... -> h_0, plus the arrow from the loss
    assert red_arrows(truncate=2) == 2 + 1
    assert red_arrows(truncate=0) == 0 + 1
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="T must"):
        unrolled_graph(ax, T=0)
    with pytest.raises(ValueError, match="truncate"):
        unrolled_graph(ax, T=3, truncate=-1)
    plt.close(fig)


# --- autograd_macs: torch's FLOP counter against a hand count ------------------------------------------

def _elman_macs(T, B, I, H, O, *, readout="last", states_only=False, u_grad=False, h0_grad=False):
    """Multiply-adds of ElmanRNN's matrix products, forward and backward, counted by hand.

    Forward, per step: h_{t-1} W_hh^T (B H H) and u_t W_xh^T (B I H); readout h W_hy^T (B H O per scored step).
    Backward of a product A W^T: dW = dOut^T A (the same size) and dA = dOut W (the same size), the latter only
    when A needs a gradient: never for h_0 = 0 or u (unless they require grad), always for h_1..h_{T-1}
    and for the scored states.
    """
    scored = 0 if states_only else (T if readout == "all" else 1)
    fwd = T * B * H * (H + I) + scored * B * H * O
    bwd = (T * B * H * I * (2 if u_grad else 1)                 # dW_xh (+ du)
           + (2 * T - (0 if h0_grad else 1)) * B * H * H        # dW_hh every step, dh_{t-1} for t >= 2 (and dh_0)
           + 2 * scored * B * H * O)                            # dW_hy and dh_t at the scored steps
    return fwd + bwd


@pytest.mark.parametrize("T, B, I, H, O", [(1, 1, 1, 1, 1), (1, 2, 3, 4, 5), (3, 2, 3, 4, 5), (6, 3, 2, 7, 1)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_autograd_macs_of_an_elman_rnn_equal_a_hand_count(T, B, I, H, O, dtype):
    u = torch.randn(T, B, I, dtype=dtype)
    last = ElmanRNN(I, H, O, dtype=dtype, seed=0)
    assert bptt.autograd_macs(last, u) == _elman_macs(T, B, I, H, O)
    every = ElmanRNN(I, H, O, dtype=dtype, seed=0, readout="all")
    assert bptt.autograd_macs(every, u) == _elman_macs(T, B, I, H, O, readout="all")
    assert bptt.autograd_macs(last.states, u) == _elman_macs(T, B, I, H, O, states_only=True)   # a bound method
    assert bptt.autograd_macs(last, u.clone().requires_grad_()) == _elman_macs(T, B, I, H, O, u_grad=True)
    h0 = torch.zeros(B, H, dtype=dtype, requires_grad=True)
    assert bptt.autograd_macs(lambda x: last(x, h0), u) == _elman_macs(T, B, I, H, O, h0_grad=True)


def test_autograd_macs_forward_part_is_the_elman_formula_and_grows_linearly_in_T():
    """Chapter 2's count: each step costs B H (I + H) multiply-adds forward, and the backward pass ~2x that."""
    B, I, H = 4, 1, 8
    model = ElmanRNN(I, H, 1, dtype=torch.float64, seed=1)
    macs = [bptt.autograd_macs(model.states, torch.zeros(T, B, I, dtype=torch.float64)) for T in (2, 4, 8)]
    per_step = B * H * (I + H) + B * H * (I + 2 * H)          # forward + backward of one step
    assert macs[1] - macs[0] == 2 * per_step and macs[2] - macs[1] == 4 * per_step


def test_autograd_macs_of_a_linear_layer_count_two_flops_per_multiply_add():
    """nn.Linear: y = x W^T + b is one (B, I) x (I, O) product forward and dW = dy^T x backward (x needs none)."""
    B, I, O = 5, 7, 3
    x = torch.randn(B, I)
    for bias in (False, True):
        lin = torch.nn.Linear(I, O, bias=bias)
        assert bptt.autograd_macs(lin, x) == 2 * B * I * O
        assert bptt.autograd_macs(lin, x.clone().requires_grad_()) == 3 * B * I * O


def test_autograd_macs_clear_the_gradients_they_leave():
    model = ElmanRNN(2, 5, 1, dtype=torch.float64, seed=0)
    u = torch.randn(4, 3, 2, dtype=torch.float64)
    bptt.autograd_macs(model, u)
    assert all(p.grad is None for p in model.parameters())
    bptt.autograd_macs(model.states, u)                         # a bound method: its module is cleared too
    assert all(p.grad is None for p in model.parameters())
    # and the count does not change the model's output
    before = model(u)[0].detach().clone()
    bptt.autograd_macs(model, u)
    torch.testing.assert_close(model(u)[0].detach(), before, rtol=0, atol=0)


# --- train_lag_seeds against train_lag, seed by seed ---------------------------------------------------

@pytest.mark.parametrize("truncate", [None, 0, 1, 3, 50])
def test_train_lag_seeds_equal_train_lag_run_per_seed(truncate):
    seeds = [0, 4, 11]
    kw = dict(truncate=truncate, steps=40, eval_every=15, eval_size=60, n_hidden=8, lr=0.3, batch_size=10)
    runs = bptt.train_lag_seeds(3, seeds, **kw)
    singles = [bptt.train_lag(3, seed=s, **kw) for s in seeds]
    assert set(runs) == {"seeds", "steps", "error", "loss", "status", "diverged_at", "solved_at"}
    np.testing.assert_array_equal(runs["seeds"], seeds)
    np.testing.assert_array_equal(runs["steps"], [15, 30, 40])
    np.testing.assert_array_equal(runs["steps"], singles[0]["steps"])
    assert runs["loss"].shape == (3, 40) and runs["error"].shape == (3, 3)
    for i, single in enumerate(singles):
        np.testing.assert_allclose(runs["loss"][i], single["loss"], rtol=0, atol=1e-12)
        np.testing.assert_array_equal(runs["error"][i], single["error"])
        assert (runs["status"][i], runs["diverged_at"][i], runs["solved_at"][i]) == \
            (single["status"], single["diverged_at"], single["solved_at"])


def test_train_lag_seeds_truncation_and_options_reach_every_run():
    """A longer sequence (length), more units and an unusual spectral radius: still train_lag per seed; and the
    truncation is not ignored (full and truncate=0 give different losses)."""
    kw = dict(length=9, n_hidden=5, spectral_radius=1.3, steps=25, eval_every=25, eval_size=30, batch_size=6, lr=0.2)
    full = bptt.train_lag_seeds(4, [2, 7], **kw)
    cut = bptt.train_lag_seeds(4, [2, 7], truncate=0, **kw)
    for i, s in enumerate([2, 7]):
        np.testing.assert_allclose(full["loss"][i], bptt.train_lag(4, seed=s, **kw)["loss"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(cut["loss"][i], bptt.train_lag(4, seed=s, truncate=0, **kw)["loss"],
                                   rtol=0, atol=1e-12)
    assert np.max(np.abs(full["loss"][:, 1:] - cut["loss"][:, 1:])) > 1e-6
    np.testing.assert_array_equal(full["loss"][:, 0], cut["loss"][:, 0])         # the first loss is before any update


def test_train_lag_seeds_first_loss_is_the_loss_of_the_initial_weights():
    """Independent of both trainers: step 1's loss is bptt.loss of init_params(seed) on step 1's batch."""
    seeds = [1, 5]
    runs = bptt.train_lag_seeds(2, seeds, steps=1, eval_every=1, eval_size=40, n_hidden=6, batch_size=8,
                                spectral_radius=0.8)
    for i, s in enumerate(seeds):
        params = bptt.init_params(1, 6, 1, spectral_radius=0.8, seed=s)
        u, target, mask = bptt.lag_batch(2, 8, seed=s * 1_000_003 + 1)
        assert runs["loss"][i, 0] == pytest.approx(bptt.loss(params, u, target, mask=mask), rel=1e-13)
    assert np.all((runs["error"] >= 0) & (runs["error"] <= 1))


def test_train_lag_seeds_runs_are_independent_of_their_neighbours():
    kw = dict(steps=20, eval_every=10, eval_size=30, n_hidden=6, batch_size=8)
    alone = bptt.train_lag_seeds(3, [6], **kw)
    together = bptt.train_lag_seeds(3, [9, 6, 6], **kw)
    np.testing.assert_allclose(together["loss"][1], alone["loss"][0], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(together["loss"][1], together["loss"][2])      # a repeated seed repeats its run
    np.testing.assert_array_equal(together["error"][1], alone["error"][0])
    assert not np.allclose(together["loss"][0], together["loss"][1])
    # seeds may be any iterable of integers (a range, numpy integers, integral floats)
    r = bptt.train_lag_seeds(3, np.array([6]), **kw)
    np.testing.assert_array_equal(r["loss"], alone["loss"])
    assert r["seeds"].tolist() == [6]


@pytest.mark.parametrize("args, kw, name", [
    ((2, []), {}, "seeds"),
    ((2, [0, -1]), {}, "seed"),
    ((2, [1.5]), {}, "seed"),
    ((2, [True]), {}, "seed"),
    ((2, [0]), dict(steps=0), "steps"),
    ((2, [0]), dict(steps=2.5), "steps"),
    ((2, [0]), dict(lr=0.0), "lr"),
    ((2, [0]), dict(lr=-0.1), "lr"),
    ((2, [0]), dict(eval_every=0), "eval_every"),
    ((2, [0]), dict(truncate=-1), "truncate"),
    ((2, [0]), dict(truncate=1.5), "truncate"),
    ((2, [0]), dict(n_hidden=0), "n_hidden"),
    ((-1, [0]), {}, "lag"),
    ((6, [0]), dict(length=4), "lag"),
    ((2, [0]), dict(batch_size=0), "batch_size"),
])
def test_train_lag_seeds_bad_arguments(args, kw, name):
    with pytest.raises(ValueError, match=name):
        bptt.train_lag_seeds(*args, **kw)
