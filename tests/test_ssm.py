"""rnnlib.models.ssm: the three views of a diagonal linear recurrence agree, and the LRU is initialised and
normalised as Orvieto et al. (2023) describe. References are float64/complex128 loops written here."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from rnnlib.models import ssm


def _random_lambda(n, rng, *, complex_, r_max=0.999):
    """Eigenvalues with |lam| < r_max (complex) or in (-r_max, r_max) (real), complex128/float64."""
    r = torch.as_tensor(rng.uniform(0.0, r_max, n))
    if not complex_:
        return r * torch.as_tensor(rng.choice([-1.0, 1.0], n))
    return r * torch.exp(1j * torch.as_tensor(rng.uniform(-math.pi, math.pi, n)))


def _reference(lam, b, h0=None):
    """Independent float64 reference: an explicit double loop over time and coordinates."""
    lam, b = lam.to(torch.complex128), b.to(torch.complex128)
    T, B, N = b.shape
    h = torch.zeros(B, N, dtype=torch.complex128) if h0 is None else h0.to(torch.complex128).clone()
    out = torch.empty(T, B, N, dtype=torch.complex128)
    for t in range(T):
        for n in range(N):
            a = lam[n] if lam.dim() == 1 else lam[t, :, n]
            h[:, n] = a * h[:, n] + b[t, :, n]
        out[t] = h
    return out


DTYPES = {"complex64": (torch.complex64, 2e-5), "complex128": (torch.complex128, 1e-11),
          "float64": (torch.float64, 1e-11), "float32": (torch.float32, 2e-5)}


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), T=st.integers(1, 80), B=st.integers(1, 3), N=st.integers(1, 4),
       dtype=st.sampled_from(sorted(DTYPES)), with_h0=st.booleans(), r_max=st.sampled_from([0.5, 0.99, 0.9999]))
def test_loop_scan_fft_toeplitz_agree(seed, T, B, N, dtype, with_h0, r_max):
    torch_dtype, rtol = DTYPES[dtype]
    rng = np.random.default_rng(seed)
    lam = _random_lambda(N, rng, complex_=torch_dtype.is_complex, r_max=r_max).to(torch_dtype)
    b = torch.as_tensor(rng.standard_normal((T, B, N)) + (1j * rng.standard_normal((T, B, N)) if torch_dtype.is_complex else 0))
    b = b.to(torch_dtype)
    h0 = b[0].clone() * 3 if with_h0 else None
    ref = _reference(lam, b, h0)
    scale = ref.abs().max().item() + 1.0  # relative to the largest state, as rounding errors are
    for method in ssm.METHODS:
        h = ssm.linear_recurrence(lam, b, h0, method=method)
        assert h.shape == (T, B, N) and h.dtype == torch_dtype, method
        err = (h.to(torch.complex128) - ref).abs().max().item()
        assert err <= rtol * scale * max(1.0, math.log2(T + 1)), (method, err, scale)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), T=st.integers(1, 50), B=st.integers(1, 3))
def test_time_varying_scan_matches_loop(seed, T, B):
    rng = np.random.default_rng(seed)
    lam = torch.as_tensor(rng.uniform(0, 1, (T, B, 3)) * np.exp(1j * rng.uniform(-3, 3, (T, B, 3))))
    b = torch.as_tensor(rng.standard_normal((T, B, 3)) + 0j)
    h0 = torch.as_tensor(rng.standard_normal((B, 3)) + 0j)
    ref = _reference(lam, b, h0)
    torch.testing.assert_close(ssm.linear_recurrence_scan(lam, b, h0), ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ssm.linear_recurrence_loop(lam, b, h0), ref, rtol=1e-12, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_scan_combine_is_associative_and_composes_affine_maps(seed):
    rng = np.random.default_rng(seed)
    e = [complex(*rng.standard_normal(2)) for _ in range(7)]
    (a1, b1), (a2, b2), (a3, b3), h = (e[0], e[1]), (e[2], e[3]), (e[4], e[5]), e[6]
    left = ssm.scan_combine(*ssm.scan_combine(a1, b1, a2, b2), a3, b3)
    right = ssm.scan_combine(a1, b1, *ssm.scan_combine(a2, b2, a3, b3))
    assert np.allclose(left, right, rtol=1e-12)
    a12, b12 = ssm.scan_combine(a1, b1, a2, b2)
    assert np.isclose(a12 * h + b12, a2 * (a1 * h + b1) + b2)  # apply map 1, then map 2


def test_gradients_through_scan_and_fft_match_the_loop():
    rng = np.random.default_rng(0)
    lam0 = _random_lambda(4, rng, complex_=True, r_max=0.95)
    b0 = torch.as_tensor(rng.standard_normal((40, 2, 4)) + 1j * rng.standard_normal((40, 2, 4)))
    grads = {}
    for method in ssm.METHODS:
        lam, b = lam0.clone().requires_grad_(), b0.clone().requires_grad_()
        h = ssm.linear_recurrence(lam, b, method=method)
        (h.real ** 3 + h.imag).sum().backward()
        grads[method] = (lam.grad, b.grad)
    for method in ("scan", "fft", "toeplitz"):
        torch.testing.assert_close(grads[method][0], grads["loop"][0], rtol=1e-10, atol=1e-10)
        torch.testing.assert_close(grads[method][1], grads["loop"][1], rtol=1e-10, atol=1e-10)


def test_recurrence_kernel_is_the_impulse_response():
    lam = torch.tensor([0.9, -0.5, 0.0], dtype=torch.float64)
    K = ssm.recurrence_kernel(lam, 6)
    expected = torch.stack([lam ** j for j in range(6)])
    torch.testing.assert_close(K, expected)
    impulse = torch.zeros(6, 1, 3, dtype=torch.float64)
    impulse[0] = 1
    torch.testing.assert_close(ssm.linear_recurrence_loop(lam, impulse)[:, 0], expected)


def _ks_uniform(samples, low, high):
    """Kolmogorov-Smirnov distance between samples and U[low, high]."""
    x = np.sort((np.asarray(samples) - low) / (high - low))
    n = len(x)
    return max(np.max(np.arange(1, n + 1) / n - x), np.max(x - np.arange(n) / n))


@pytest.mark.parametrize("r_min,r_max,max_phase", [(0.0, 1.0, 2 * math.pi), (0.9, 0.999, 2 * math.pi),
                                                   (0.999, 0.9999, math.pi / 10)])
def test_ring_init_modulus_squared_and_phase_are_uniform(r_min, r_max, max_phase):
    g = torch.Generator().manual_seed(1)
    n = 10_000
    nu_log, theta_log = ssm.ring_init(n, r_min=r_min, r_max=r_max, max_phase=max_phase, generator=g)
    lam = ssm.lambda_from_exp(nu_log, theta_log)
    mod2, phase = (lam.abs() ** 2).numpy(), np.mod(lam.angle().numpy(), 2 * math.pi)
    assert mod2.min() >= r_min**2 - 1e-12 and mod2.max() <= r_max**2 + 1e-12
    assert phase.max() <= max_phase + 1e-9
    crit = 1.95 / math.sqrt(n)  # KS critical value at alpha = 0.001
    assert _ks_uniform(mod2, r_min**2, r_max**2) < crit
    assert _ks_uniform(phase, 0.0, max_phase) < crit
    # |lam| itself is *not* uniform when r_min is 0: the area element is r dr
    if r_min == 0.0:
        assert _ks_uniform(np.sqrt(mod2), r_min, r_max) > 10 * crit


def _lru_reference(layer, u):
    """Step-by-step complex128 LRU written from the paper's equations."""
    lam = layer.eigenvalues().detach().to(torch.complex128)
    gam = layer.gamma().detach().double()
    Bc = torch.complex(layer.B_re.detach().double(), layer.B_im.detach().double())
    Cc = torch.complex(layer.C_re.detach().double(), layer.C_im.detach().double())
    D = layer.D.detach().double()
    h = torch.zeros(u.shape[1], layer.d_hidden, dtype=torch.complex128)
    ys = []
    for t in range(u.shape[0]):
        h = lam * h + gam * (u[t].to(torch.complex128) @ Bc.T)
        ys.append((h @ Cc.T).real + D * u[t])
    return torch.stack(ys)


@pytest.mark.parametrize("parametrization,gamma", [("exp", "learned"), ("real_imag", "none"), ("exp", "none")])
@pytest.mark.parametrize("method", ssm.METHODS)
def test_lru_forward_matches_step_by_step_reference(parametrization, gamma, method):
    layer = ssm.LRU(3, 6, r_min=0.4, r_max=0.99, parametrization=parametrization, gamma=gamma,
                    method=method, seed=3, dtype=torch.float64)
    u = torch.randn(30, 2, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    y, h = layer(u)
    assert y.shape == (30, 2, 3) and h.shape == (30, 2, 6)
    torch.testing.assert_close(y, _lru_reference(layer, u), rtol=1e-10, atol=1e-10)
    # the convolution kernel gives the same outputs: y_t = sum_j K_j u_{t-j}
    K = layer.kernel(30)
    y_conv = torch.stack([sum(u[t - j] @ K[j].T for j in range(t + 1)) for t in range(30)])
    torch.testing.assert_close(y_conv, y, rtol=1e-10, atol=1e-10)


def test_lru_parameters_at_init():
    layer = ssm.LRU(4, 500, r_min=0.5, r_max=0.9, max_phase=1.0, seed=0, dtype=torch.float64)
    lam = layer.eigenvalues().detach()
    assert lam.abs().min() >= 0.5 - 1e-9 and lam.abs().max() <= 0.9 + 1e-9
    assert lam.angle().min() >= 0 and lam.angle().max() < 1.0
    torch.testing.assert_close(layer.gamma().detach(), torch.sqrt(1 - lam.abs() ** 2))
    # exp parametrisation keeps |lam| < 1 for any real parameter values
    far = ssm.lambda_from_exp(torch.linspace(-30, 5, 50, dtype=torch.float64), torch.zeros(50, dtype=torch.float64))
    assert (far.abs() <= 1).all()
    assert layer.B_re.std().item() == pytest.approx(1 / math.sqrt(8), rel=0.1)
    assert layer.C_re.std().item() == pytest.approx(1 / math.sqrt(500), rel=0.1)


@pytest.mark.parametrize("band", [(0.0, 0.5), (0.9, 0.95), (0.98, 0.99)])
def test_gamma_normalisation_keeps_state_variance_near_input_variance(band):
    """White input: E|h_n|^2 = gamma_n^2 E|(Bu)_n|^2 / (1 - |lam_n|^2) = E|(Bu)_n|^2 with gamma; without, 1/(1-|lam|^2) times larger."""
    T, batch, N = 1200, 16, 64
    u = torch.randn(T, batch, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for gamma in ("learned", "none"):
        layer = ssm.LRU(8, N, r_min=band[0], r_max=band[1], gamma=gamma, seed=1, dtype=torch.float64)
        with torch.no_grad():
            _, h = layer(u)
        state = (h[400:].abs() ** 2).mean(dim=(0, 1))  # stationary part, (N,)
        drive = (torch.complex(layer.B_re, layer.B_im).abs() ** 2).sum(1).detach()  # E|(Bu)_n|^2 for white u
        ratio = state / drive
        mod2 = layer.eigenvalues().detach().abs() ** 2
        expected = torch.ones(N, dtype=torch.float64) if gamma == "learned" else 1 / (1 - mod2)
        assert (ratio / expected).mean().item() == pytest.approx(1.0, abs=0.05), gamma
        assert ((ratio / expected - 1).abs() < 0.35).all(), gamma
    assert expected.mean() > 1.0 / (1 - band[0] ** 2) - 1e-9  # without gamma the variance does grow


@pytest.mark.parametrize("kwargs,name", [
    (dict(lam=torch.ones(3), b=torch.ones(5, 2)), "b"),
    (dict(lam=torch.ones(4), b=torch.ones(5, 2, 3)), "lam"),
    (dict(lam=torch.ones(2, 3), b=torch.ones(5, 2, 3)), "lam"),
    (dict(lam=torch.ones(3), b=torch.ones(5, 2, 3), h0=torch.ones(2, 4)), "h0"),
    (dict(lam=torch.ones(3), b=torch.ones(5, 2, 3), method="cuda-magic"), "method"),
])
def test_linear_recurrence_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ssm.linear_recurrence(**kwargs)


def test_conv_rejects_time_varying_lambda_and_kernel_rejects_bad_T():
    with pytest.raises(ValueError, match="lam"):
        ssm.linear_recurrence_conv(torch.ones(5, 2, 3), torch.ones(5, 2, 3))
    with pytest.raises(ValueError, match="T"):
        ssm.recurrence_kernel(torch.ones(3), 0)


@pytest.mark.parametrize("kwargs,name", [
    (dict(r_min=-0.1), "r_min"), (dict(r_min=0.5, r_max=0.4), "r_max"), (dict(r_max=1.5), "r_max"),
    (dict(max_phase=0.0), "max_phase"), (dict(max_phase=7.0), "max_phase"),
    (dict(parametrization="polar"), "parametrization"), (dict(gamma="L7"), "gamma"), (dict(method="magic"), "method"),
])
def test_lru_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ssm.LRU(2, 3, **kwargs)


def test_lru_bad_sizes_and_input():
    with pytest.raises(ValueError, match="d_model"):
        ssm.LRU(0, 3)
    with pytest.raises(ValueError, match="d_hidden"):
        ssm.LRU(2, 2.5)
    with pytest.raises(ValueError, match="u"):
        ssm.LRU(2, 3)(torch.ones(5, 2, 3))


def test_gru_layer_has_orthogonal_recurrence_and_chrono_bias():
    layer = ssm.SequenceLayer(8, "gru", (0.9, 0.95), seed=0)
    W = layer.rec.weight_hh_l0.detach()
    for k in range(3):
        block = W[8 * k:8 * (k + 1)]
        torch.testing.assert_close(block @ block.T, torch.eye(8), atol=1e-5, rtol=0)
    bz = layer.rec.bias_hh_l0.detach()[8:16]
    assert (bz >= math.log(10) - 1e-5).all() and (bz <= math.log(20) + 1e-5).all()  # tau in [1/(1-0.9), 1/(1-0.95)]


def test_signal_propagation_reproduces_the_qualitative_picture():
    """Complex diagonal RNN: activity and lambda-gradients grow with memory; the LRU's activity does not, and of
    its recurrent parameters only the phase gradient grows."""
    kw = dict(d_model=16, T=128, batch_size=4, n_layers=3)
    c1, c30 = ssm.signal_propagation("complex", 1, **kw), ssm.signal_propagation("complex", 30, **kw)
    l1, l30 = ssm.signal_propagation("lru", 1, **kw), ssm.signal_propagation("lru", 30, **kw)
    g = ssm.signal_propagation("gru", 10, **kw)
    assert set(c1["grad2"]) == {"lambda", "other"} and set(l1["grad2"]) == {"nu", "theta", "other"}
    assert set(g["grad2"]) == {"gru", "other"} and len(g["state2"]) == 3 and len(g["out2"]) == 3
    assert c30["state2"][-1] > 10 * c1["state2"][-1]
    assert c30["grad2"]["lambda"] > 1e4 * c1["grad2"]["lambda"]
    assert c30["grad2"]["other"] > 10 * c1["grad2"]["other"]
    assert max(l30["state2"]) < 1.5 * max(l1["state2"])
    assert l30["grad2"]["theta"] > 5 * l1["grad2"]["theta"]
    assert l30["grad2"]["nu"] < 2 * l1["grad2"]["nu"]


def test_signal_propagation_bad_arguments():
    with pytest.raises(ValueError, match="cell"):
        ssm.signal_propagation("lstm", 10)
    with pytest.raises(ValueError, match="norm"):
        ssm.signal_propagation("lru", 10, norm="batch")
    with pytest.raises(ValueError, match="memory"):
        ssm.signal_propagation("lru", 0.5)
