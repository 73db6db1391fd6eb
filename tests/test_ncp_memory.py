"""rnnlib.sweeps.ncp_memory: the model zoo, the tasks and the table helpers of chapter 7's memory experiments."""
import numpy as np
import pytest
import torch

from rnnlib.sweeps import ncp_memory as M
from rnnlib.tasks.recent_past import RecentPastTask
from rnnlib.tasks.sine import SineTask


@pytest.mark.parametrize("kind", M.MODELS)
def test_every_model_reads_one_logit_at_the_last_step(kind):
    model = M.make_model(kind, seed=3)
    y, _ = model(torch.randn(7, 5, 1))
    assert y.shape == (5, 1)
    assert M.parameter_count(model) > 0


def test_parameter_count_counts_only_live_synapses():
    dense, ncp = M.make_model("ltc-dense"), M.make_model("ltc-ncp")
    # dense: 16 x 16 synapses, 16 sensory, 4 numbers each; 3 per neuron; input_w, input_b, output_w, output_b
    assert M.parameter_count(dense) == 4 * 256 + 4 * 16 + 48 + 4
    assert M.parameter_count(ncp) == 4 * ncp.wiring.synapse_count + 4 * ncp.wiring.sensory_synapse_count + 48 + 4
    assert M.parameter_count(M.make_model("rnn")) == 16 + 256 + 16 + 16 + 1


def test_connectivity_profile_matches_direct_autograd():
    model = M.make_model("ltc-ncp", seed=1).double()
    prof = M.connectivity_profile(model, 6, batch=4, seed=2)
    gen = torch.Generator().manual_seed(2)
    u = (2 * torch.randint(0, 2, (6, 4, 1), generator=gen).float() - 1).double().requires_grad_(True)
    y, _ = model(u)
    (g,) = torch.autograd.grad(y.sum(), u)                   # one output: the gradient is the Jacobian row
    assert np.allclose(prof, g.abs().squeeze(-1).mean(1).numpy(), rtol=1e-10)
    assert M.relative_connectivity(prof, int(np.argmax(prof[::-1]))) == 1.0
    assert M.relative_connectivity(prof, 3) == pytest.approx(prof[-4] / prof.max())
    with pytest.raises(ValueError, match="lag"):
        M.relative_connectivity(prof, 6)


def test_decay_per_step_recovers_a_geometric_rate():
    profile = 3.0 * 0.4 ** np.arange(40)[::-1]             # index t has lag T - 1 - t
    assert M.decay_per_step(profile, (2, 30)) == pytest.approx(0.4, rel=1e-10)
    with pytest.raises(ValueError, match="lags"):
        M.decay_per_step(profile, (5, 50))


def test_recent_sign_task_labels_depend_only_on_the_window():
    task = RecentPastTask(window=3, length=10, answer="sign")
    u, target = task.sample(200, torch.Generator().manual_seed(0))
    assert u.shape == (10, 200, 1) and target.shape == (200, 1)
    assert torch.equal(target, (u[-3:].sum(0) > 0).float())
    changed = u.clone()
    changed[:7] = 100.0                                     # anything before the window does not matter
    assert torch.equal((changed[-3:].sum(0) > 0).float(), target)
    assert 0.4 < target.mean() < 0.6
    assert task.error(torch.where(target > 0, 1.0, -1.0), target) == 0.0
    with pytest.raises(ValueError, match="window"):
        RecentPastTask(window=5, length=3, answer="sign")


def test_sine_task_is_the_ncps_example():
    u, y = SineTask().sample(1)
    assert u.shape == (48, 1, 2) and y.shape == (48, 1, 1)
    s = np.linspace(0, 3 * np.pi, 48)
    assert np.allclose(u[:, 0, 0].numpy(), np.sin(s), atol=1e-6)
    assert np.allclose(u[:, 0, 1].numpy(), np.cos(s), atol=1e-6)
    assert np.allclose(y[:, 0, 0].numpy(), np.sin(np.linspace(0, 6 * np.pi, 48)), atol=1e-6)


def test_success_table_from_records():
    data = {"settings": {"models": ["a", "b"], "lags": [1, 2], "seeds": [0, 1]},
            "records": [{"model": "a", "lag": 1, "seed": 0, "status": "solved"},
                        {"model": "a", "lag": 1, "seed": 1, "status": "budget"},
                        {"model": "a", "lag": 2, "seed": 0, "status": "budget"},
                        {"model": "a", "lag": 2, "seed": 1, "status": "diverged"},
                        {"model": "b", "lag": 1, "seed": 0, "status": "solved"},
                        {"model": "b", "lag": 1, "seed": 1, "status": "solved"},
                        {"model": "b", "lag": 2, "seed": 0, "status": "solved"},
                        {"model": "b", "lag": 2, "seed": 1, "status": "budget"}]}
    assert M.success_table(data) == {"a": [0.5, 0.0], "b": [1.0, 0.5]}
    for i, r in enumerate(data["records"]):
        r["final_error"] = i / 10
        r["conn_init"] = [0.0, 0.5 * (i + 1), 1.0 * (i + 1)]         # lag 1 -> 0.5 of the peak, lag 2 -> 0
    assert M.lag_table(data) == {"a": [pytest.approx(0.05), pytest.approx(0.25)],
                                 "b": [pytest.approx(0.45), pytest.approx(0.65)]}
    assert M.lag_table(data, "conn_init", reduce=np.median) == {"a": [0.5, 0.0], "b": [0.5, 0.0]}
    data["recent"] = {"records": [{"model": "a", "seed": 0, "errors": [0.1, 0.3]},
                                  {"model": "a", "seed": 1, "errors": [0.3, 0.5]},
                                  {"model": "b", "seed": 0, "errors": [0.0, 0.2]}]}
    rec = M.recent_errors(data)
    assert np.allclose(rec["a"], [0.2, 0.4]) and np.allclose(rec["b"], [0.0, 0.2])


def test_bad_arguments():
    with pytest.raises(ValueError, match="kind"):
        M.make_model("gru")
    with pytest.raises(ValueError, match="lag"):
        M.run_point("rnn", 0, 0, steps=1)
