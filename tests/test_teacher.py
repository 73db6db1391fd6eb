"""rnnlib.sweeps.teacher: the convolution trick equals the recursion, the hand-written batched Adam equals torch's,
and the Hessian at the optimum equals the Gauss-Newton matrix computed independently (float64)."""
import math

import numpy as np
import pytest
import torch

from rnnlib.sweeps import teacher as TS


def _simulate(system, x):
    """Naive float64 recursion h_t = A h_{t-1} + B x_t, y_t = C h_t + D x_t for x (T, batch)."""
    h = torch.zeros(system.A.shape[0], x.shape[1], dtype=torch.float64)
    ys = []
    for t in range(x.shape[0]):
        h = system.A @ h + system.B * x[t]
        ys.append((system.C @ h)[0] + system.D * x[t])
    return torch.stack(ys)


@pytest.mark.parametrize("nu0", [0.36, 0.9, 0.99])
def test_teacher_eigenvalues_lie_in_the_ring(nu0):
    t = TS.make_teacher(nu0, seed=5)
    mod = np.abs(np.linalg.eigvals(t.A.numpy()))
    assert mod.min() >= nu0 - 1e-9 and mod.max() < 1.0
    assert t.A.dtype == torch.float64 and t.A.shape == (10, 10)


def test_remap_eigenvalues_moves_moduli_and_keeps_phases_at_max_phase_pi():
    A = np.random.default_rng(0).standard_normal((8, 8)) / math.sqrt(8)
    l0 = np.linalg.eigvals(A)
    l1 = np.linalg.eigvals(TS.remap_eigenvalues(A, min_nu=0.5))
    np.testing.assert_allclose(np.sort(np.abs(l1)), np.sort(0.5 + 0.5 * np.tanh(np.abs(l0))), rtol=1e-9)
    np.testing.assert_allclose(np.sort(np.angle(l1)), np.sort(np.angle(l0)), atol=1e-9)
    # a smaller max_phase scales the phases of complex pairs (real eigenvalues > 0 stay real)
    P = np.random.default_rng(1).standard_normal((4, 4))
    rot = lambda r, p: r * np.array([[np.cos(p), -np.sin(p)], [np.sin(p), np.cos(p)]])  # noqa: E731
    blocks = np.zeros((4, 4))
    blocks[:2, :2], blocks[2:, 2:] = rot(0.5, 1.0), rot(0.8, 2.0)
    l2 = np.linalg.eigvals(TS.remap_eigenvalues(P @ blocks @ np.linalg.inv(P), min_nu=0.0, max_phase=math.pi / 4))
    np.testing.assert_allclose(np.sort(np.abs(np.angle(l2))), [0.25, 0.25, 0.5, 0.5], atol=1e-9)


@pytest.mark.parametrize("T", [1, 2, 7, 64, 300])
def test_kernel_and_convolution_equal_the_recursion(T):
    teacher = TS.make_small_teacher(seed=1)
    x = torch.randn(T, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(T))
    K = teacher.kernel(T)
    naive = torch.stack([(teacher.C @ torch.linalg.matrix_power(teacher.A, j) @ teacher.B)[0, 0] for j in range(T)])
    naive[0] += teacher.D[0]
    torch.testing.assert_close(K, naive, rtol=1e-12, atol=1e-12)
    y = _simulate(teacher, x)
    torch.testing.assert_close(TS.causal_conv(K, x), y, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(TS.causal_conv(K, x, method="fft"), y, rtol=1e-9, atol=1e-9)


def test_lru_student_kernel_equals_its_recursion():
    model = TS.make_student("lru", 0.9, d_hidden=8, seed=2, dtype=torch.float64)
    x = torch.randn(50, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    y, _ = model(x[..., None])
    torch.testing.assert_close(TS.causal_conv(TS.student_kernel(model, 50), x), y[..., 0], rtol=1e-10, atol=1e-10)


def test_expected_loss_equals_the_average_sampled_loss():
    T = 40
    K, K_star = TS.make_teacher(0.5, seed=0).kernel(T), TS.make_teacher(0.6, seed=1).kernel(T)
    x = torch.randn(T, 100_000, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    per_seq = 0.5 * (TS.causal_conv(K - K_star, x) ** 2).mean(0)
    se = per_seq.std().item() / math.sqrt(per_seq.numel())
    assert abs(per_seq.mean().item() - TS.expected_loss(K, K_star).item()) < 4.5 * se


@pytest.mark.parametrize("kind,schedule", [("rnn", "constant"), ("lru", "cosine")])
def test_batched_adam_equals_torch_adam(kind, schedule):
    """The sweep's vmapped Adam (written by hand) against torch.optim.Adam + CosineAnnealingLR on the same data."""
    steps, T, bs, lr, nu0 = 6, 30, 8, 1e-2, 0.7
    res = TS.train_student(kind, nu0, lr, seed=3, steps=steps, T=T, batch_size=bs, d_hidden=6, schedule=schedule)
    model = TS.make_student(kind, nu0, d_hidden=6, seed=3)
    K_star = TS.make_teacher(nu0, seed=2023 + 3).kernel(T).float()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=1e-7)
    gen = torch.Generator().manual_seed(1 + 3)
    for _ in range(steps):
        x = torch.randn(T, bs, generator=gen)
        loss = 0.5 * (TS.causal_conv(TS.student_kernel(model, T) - K_star, x) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if schedule == "cosine":
            sched.step()
    for name, p in model.named_parameters():
        torch.testing.assert_close(res["state"][name][0], p.detach(), rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(res["state"][name][1], opt.state[p]["exp_avg_sq"] / (1 - 0.999**steps),
                                   rtol=1e-3, atol=1e-12)


def test_runs_in_a_group_equal_runs_alone_and_divergence_is_isolated():
    kw = dict(steps=40, T=50, batch_size=16, d_hidden=8)
    group = TS.train_students("rnn", 0.36, [1e-3, 1e3], [0, 1], **kw)
    assert [r["status"] for r in group] == ["done", "done", "diverged", "diverged"]
    assert all(r["diverged_at"] is not None and r["test_loss"] is None for r in group[2:])
    for r in group[:2]:
        alone = TS.train_student("rnn", 0.36, 1e-3, seed=r["seed"], **kw)
        assert alone["test_loss"] == pytest.approx(r["test_loss"], rel=1e-4)


def test_training_reduces_the_test_loss():
    kw = dict(steps=80, T=60, batch_size=16, d_hidden=8)
    for kind, lr in (("rnn", 3e-3), ("lru", 0.03)):
        before = TS.train_student(kind, 0.5, 1e-12, **kw)["test_loss"]
        after = TS.train_student(kind, 0.5, lr, **kw)["test_loss"]
        assert after < before / 5, kind


def test_hessian_at_the_optimum_is_the_gauss_newton_matrix():
    teacher = TS.make_small_teacher(seed=0)
    T, bs = 120, 16
    for kind, n_params in (("dense", 25), ("diagonal", 25)):
        res = TS.hessian_at_teacher(teacher, kind, T=T, batch_size=bs)
        H = res["hessian"]
        assert H.shape == (n_params, n_params) and len(res["groups"]) == n_params
        assert res["loss"] < 1e-20
        np.testing.assert_allclose(H, H.T, atol=1e-9 * np.abs(H).max())
        assert res["eigvals"][-1] > -1e-8 * res["eigvals"][0]  # PSD at a zero-residual optimum
        assert np.all(np.diff(res["eigvals"]) <= 1e-9 * res["eigvals"][0])
    # independent Gauss-Newton for the dense student: J^T J / n with J the Jacobian of the outputs
    x = torch.randn(T, bs, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    flat0 = torch.cat([getattr(teacher, n).reshape(-1) for n in "ABCD"])

    def outputs(flat):
        A, B, C, D = flat[:16].reshape(4, 4), flat[16:20].reshape(4, 1), flat[20:24].reshape(1, 4), flat[24:]
        return TS.causal_conv(TS.dense_kernel(A, B, C, D, T), x).reshape(-1)

    J = torch.autograd.functional.jacobian(outputs, flat0)
    np.testing.assert_allclose(TS.hessian_at_teacher(teacher, "dense", T=T, batch_size=bs)["hessian"],
                               (J.T @ J / J.shape[0]).numpy(), rtol=1e-7, atol=1e-9)


def test_adam_effective_lr_has_one_rate_per_parameter():
    res = TS.adam_effective_lr("lru", nu0=0.9, steps=20, T=50, batch_size=8, d_hidden=8)
    assert set(res) >= {"nu_log", "theta_log", "gamma_log", "B_re", "C_im", "D", "test_loss"}
    assert res["nu_log"].shape == (8,) and res["B_re"].shape == (8,)
    assert all(np.all((v > 0) & (v <= 1e-3 / 1e-8 + 1)) for k, v in res.items() if k != "test_loss")


def test_bad_arguments():
    with pytest.raises(ValueError, match="nu0"):
        TS.make_teacher(1.0)
    with pytest.raises(ValueError, match="d_hidden"):
        TS.make_small_teacher(d_hidden=3)
    with pytest.raises(ValueError, match="kind"):
        TS.make_student("transformer", 0.5)
    with pytest.raises(ValueError, match="method"):
        TS.causal_conv(torch.ones(3), torch.ones(3, 2), method="wavelet")
    with pytest.raises(ValueError, match="K"):
        TS.causal_conv(torch.ones(4), torch.ones(3, 2))
    with pytest.raises(ValueError, match="lr"):
        TS.train_student("rnn", 0.5, -1.0, steps=2)
    with pytest.raises(ValueError, match="schedule"):
        TS.train_student("rnn", 0.5, 1e-3, steps=2, schedule="step")
    with pytest.raises(ValueError, match="kind"):
        TS.hessian_at_teacher(TS.make_small_teacher(), "banded")


def test_shift_false_ignores_the_seed_offset_and_shift_true_follows_it(monkeypatch):
    """The shipped sweep's teachers were drawn with offset 0; ``shift=False`` rebuilds them under any offset."""
    base = TS.make_teacher(0.9, seed=3)
    small = TS.make_small_teacher(seed=1)
    monkeypatch.setenv("RNNLIB_SEED_OFFSET", "2")
    assert torch.equal(TS.make_teacher(0.9, seed=3, shift=False).A, base.A)
    assert torch.equal(TS.make_small_teacher(seed=1, shift=False).A, small.A)
    assert torch.equal(TS.make_teacher(0.9, seed=3).A, TS.make_teacher(0.9, seed=5, shift=False).A)   # 3 + 2
    assert not torch.equal(TS.make_teacher(0.9, seed=3).A, base.A)
