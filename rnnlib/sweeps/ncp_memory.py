"""How long neural circuit policies remember: the model zoo, the lag sweep and a recent-past task (chapter 7).

Chapter 7 tests the NCP blog's claim that the LTC neuron "suffers from a vanishing gradient", so NCPs
suit tasks that need only the recent past. Three tools:

* :func:`make_model` builds the five models compared throughout, all with 16 state units, one input
  and one output logit read at the last step: an LTC on a fully connected wiring (``"ltc-dense"``),
  an LTC on an AutoNCP wiring (``"ltc-ncp"``), a CfC (``"cfc"``), a tanh Elman RNN (``"rnn"``) and an
  LSTM (``"lstm"``).
* :func:`run` is the ``ncp-lag`` sweep: train every model on chapter 3's lag task at increasing lags
  with one fixed budget (Adam, global-norm clipping at 1, as in the ncps example) and record success,
  the input-output connectivity ||dy_T/du_t|| at initialisation and after training, and the time.
  ``python -m rnnlib.sweeps ncp-lag`` regenerates ``rnnlib/data/ncp_lag.json``.
* :func:`run_recent_point`: train on ``rnnlib.tasks.RecentPastTask(answer="sign")``, where the answer depends only on
  the last few inputs and everything older is a distractor, as in lane keeping.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from rnnlib._validate import in_range, one_of, positive
from rnnlib.theory.connectivity import connectivity
from rnnlib.device import best_time
from rnnlib.models.lstm import LSTM
from rnnlib.models.ncp import LTC, CfC
from rnnlib.models.elman import ElmanRNN
from rnnlib.tasks.lag import LagTask
from rnnlib.tasks.recent_past import RecentPastTask
from rnnlib.models.wiring import AutoNCP, FullyConnected
from rnnlib.device import manual_seed, torch_generator

MODELS = ("ltc-dense", "ltc-ncp", "cfc", "rnn", "lstm")
LABELS = {"ltc-dense": "LTC (dense)", "ltc-ncp": "LTC (NCP wiring)", "cfc": "CfC", "rnn": "tanh RNN",
          "lstm": "LSTM"}
UNITS = 16

# the sweep's fixed budget
LAGS = (1, 2, 4, 8, 16, 32)
SEEDS = (0, 1)
BUDGET = {"steps": 400, "lr": 0.01, "optimizer": "adam", "batch_size": 32, "eval_every": 50, "eval_size": 500,
          "clip": 1.0}
QUICK = {"lags": (1, 4), "seeds": (0,), "steps": 60}
# the recent-past experiment: train on windows alone, test with a history in front of them
RECENT = {"window": 2, "train_length": 2, "test_lengths": (2, 4, 10, 30, 100), "seeds": (0, 1, 2), "steps": 300,
          "test_size": 1000}


def make_model(kind: str, *, n_in: int = 1, n_out: int = 1, units: int = UNITS, seed: int = 0,
               readout: str = "last") -> torch.nn.Module:
    """One of :data:`MODELS`, with ``units`` state units, returning ``(y, h)`` for time-first input.

    The LTCs use the ncps defaults (6 unfolds, softplus constraints, unit timespan); the CfC has a
    32-unit backbone (ncps' default is 128) and a linear projection to ``n_out``.
    """
    one_of("kind", kind, MODELS)
    if kind == "ltc-dense":
        return LTC(n_in, FullyConnected(units, n_out), readout=readout, seed=seed)
    if kind == "ltc-ncp":
        return LTC(n_in, AutoNCP(units, n_out, seed=22222 + seed), readout=readout, seed=seed)
    if kind == "cfc":
        return CfC(n_in, units, backbone_units=32, proj_size=n_out, readout=readout, seed=seed)
    if kind == "rnn":
        return ElmanRNN(n_in, units, n_out, readout=readout, seed=seed)
    return LSTM(n_in, units, n_out, readout=readout, seed=seed)


def parameter_count(model: torch.nn.Module) -> int:
    """Trainable numbers that can change the output: masked-out synapses of an LTC are not counted."""
    if isinstance(model, LTC):
        syn, sens = model.wiring.synapse_count, model.wiring.sensory_synapse_count
        per_neuron = 3 * model.units                                  # gleak, vleak, cm
        maps = sum(p.numel() for n, p in model.named_parameters() if n.startswith(("input_", "output_")))
        return 4 * syn + 4 * sens + per_neuron + maps                 # w, sigma, mu, erev per synapse
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def connectivity_profile(model: torch.nn.Module, T: int, *, batch: int = 64, seed: int = 0) -> np.ndarray:
    """||dy_T/du_t|| for t = 1..T (index t-1), averaged over ``batch`` random +-1 sequences, float64 (T,)."""
    gen = torch_generator(seed)
    u = 2 * torch.randint(0, 2, (T, batch, 1), generator=gen).float() - 1
    p = next(model.parameters())
    return connectivity(lambda x: model(x)[0], u.to(p.device, p.dtype))


def _clip(value: float):
    return lambda model: torch.nn.utils.clip_grad_norm_(model.parameters(), value)


def run_point(model: str, lag: int, seed: int, *, steps: int = BUDGET["steps"], device=None) -> dict:
    """Train ``model`` on ``LagTask(lag)`` with the fixed budget and return one record of the sweep."""
    from rnnlib.train import train

    lag = positive("lag", lag, integer=True)
    task = LagTask(lag)
    manual_seed(seed)                    # nothing should read it; set so a stray global draw is repeatable
    net = make_model(model, seed=seed)
    T = task.length
    conn0 = connectivity_profile(net, T, seed=seed)
    res = train(net, task, steps=steps, lr=BUDGET["lr"], optimizer=BUDGET["optimizer"],
                batch_size=BUDGET["batch_size"], grad_transform=_clip(BUDGET["clip"]),
                eval_every=BUDGET["eval_every"], eval_size=BUDGET["eval_size"], seed=seed, progress=False,
                device=device or torch.device("cpu"))
    net = net.cpu()
    conn1 = connectivity_profile(net, T, seed=seed)
    return {"model": model, "lag": lag, "seed": seed, "length": T, "status": res.status,
            "solved_at": res.solved_at, "diverged_at": res.diverged_at, "final_error": res.final_error,
            "best_error": res.best_error,
            "steps": res.steps, "seconds": round(res.seconds, 2), "params": parameter_count(net),
            "conn_init": conn0.tolist(), "conn_trained": conn1.tolist()}


def run_recent_point(model: str, seed: int, *, steps: int = RECENT["steps"], device=None) -> dict:
    """Train on :class:`rnnlib.tasks.RecentPastTask` (``answer="sign"``) sequences that hold only the window, then test with history in front.

    Training never shows the model anything older than the window, so it never has to learn to forget;
    at test time ``length - window`` older inputs come first. Returns the error at every test length, and the
    training run's ``status`` and ``diverged_at`` (as ``rnnlib.train`` reports them).
    """
    from rnnlib.train import train

    window = RECENT["window"]
    net = make_model(model, seed=seed)
    res = train(net, RecentPastTask(window=window, length=RECENT["train_length"], answer="sign"), steps=steps,
                lr=BUDGET["lr"], optimizer=BUDGET["optimizer"], batch_size=BUDGET["batch_size"],
                grad_transform=_clip(BUDGET["clip"]), eval_every=steps, eval_size=100, seed=seed, progress=False,
                stop_when_solved=False, device=device or torch.device("cpu"))
    net = net.cpu()
    errors = []
    for length in RECENT["test_lengths"]:
        u, target = RecentPastTask(window=window, length=length, answer="sign").sample(RECENT["test_size"], torch_generator(4242))
        with torch.no_grad():
            y, _ = net(u)
        errors.append(float(((y > 0).float() != target).float().mean()))
    return {"model": model, "seed": seed, "errors": errors, "status": res.status, "diverged_at": res.diverged_at}


def run(out_dir=None, *, quick: bool = False, device=None, progress: bool = True) -> Path:
    """The ``ncp-lag`` sweep: every model x lag x seed; writes ``ncp_lag.json`` (quick: ``ncp_lag_quick.json``).

    Trains on ``device`` (default: the CPU; ``python -m rnnlib.sweeps`` passes ``--device``), and the
    file's ``meta`` records that device. Connectivity profiles are always measured on the CPU.
    """
    from tqdm.auto import tqdm

    from rnnlib.sweeps.results import DATA_DIR, metadata, write_json

    lags, seeds, steps = (QUICK["lags"], QUICK["seeds"], QUICK["steps"]) if quick else (LAGS, SEEDS, BUDGET["steps"])
    device = torch.device(device) if device is not None else torch.device("cpu")   # the CPU unless asked
    grid = [(m, lag, s) for lag in lags for s in seeds for m in MODELS]
    t0, c0 = time.perf_counter(), time.process_time()
    records = []
    for m, lag, s in tqdm(grid, disable=not progress, desc="ncp-lag"):
        records.append(run_point(m, lag, s, steps=steps, device=device))
    recent_seeds, recent_steps = ((0,), 30) if quick else (RECENT["seeds"], RECENT["steps"])
    recent = [run_recent_point(m, s, steps=recent_steps, device=device)
              for s in recent_seeds for m in tqdm(MODELS, disable=not progress, desc="recent")]
    payload = {"meta": metadata(device=device, sweep="ncp-lag", seconds=round(time.perf_counter() - t0, 1),
                                cpu_seconds=round(time.process_time() - c0, 1), threads=torch.get_num_threads()),
               "settings": {"models": list(MODELS), "labels": LABELS, "lags": list(lags), "seeds": list(seeds),
                            "units": UNITS, "task": "LagTask(lag), length = lag + 5",
                            "budget": {**BUDGET, "steps": steps}, "solve_threshold": 0.01},
               "records": records,
               "recent": {"settings": {**RECENT, "seeds": list(recent_seeds), "steps": recent_steps,
                                       "task": 'RecentPastTask(window=window, length=length, answer="sign")'}, "records": recent}}
    name = "ncp_lag_quick.json" if quick else "ncp_lag.json"
    return write_json(Path(out_dir or DATA_DIR) / name, payload)


def success_table(data: dict) -> dict:
    """``{model: [fraction of seeds solved at each lag]}`` from a loaded sweep file."""
    lags, seeds = data["settings"]["lags"], data["settings"]["seeds"]
    table = {}
    for m in data["settings"]["models"]:
        rows = [r for r in data["records"] if r["model"] == m]
        table[m] = [sum(r["status"] == "solved" for r in rows if r["lag"] == lag) / len(seeds) for lag in lags]
    return table


def lag_table(data: dict, key: str = "final_error", *, reduce=np.mean) -> dict:
    """``{model: [reduce over seeds of a record field at each lag]}`` from a loaded sweep file.

    ``key`` is a number field such as ``"final_error"``, or ``"conn_init"`` / ``"conn_trained"``, which
    are reduced through :func:`relative_connectivity` at the record's own lag.
    """
    lags = data["settings"]["lags"]
    table = {}
    for m in data["settings"]["models"]:
        row = []
        for lag in lags:
            recs = [r for r in data["records"] if r["model"] == m and r["lag"] == lag]
            vals = [relative_connectivity(r[key], lag) if key.startswith("conn") else r[key] for r in recs]
            row.append(float(reduce(vals)))
        table[m] = row
    return table


def recent_errors(data: dict) -> dict:
    """``{model: mean error over seeds at each test length}`` of the recent-past experiment in a sweep file."""
    recs = data["recent"]["records"]
    return {m: np.mean([r["errors"] for r in recs if r["model"] == m], axis=0) for m in data["settings"]["models"]}


def relative_connectivity(profile, lag: int) -> float:
    """||dy_T/du_{T-lag}|| / max_t ||dy_T/du_t||: the influence of the input ``lag`` steps back, relative to
    the most influential input (in a layered NCP the peak is not at lag 0: the signal needs a few hops)."""
    profile = np.asarray(profile, dtype=float)
    in_range("lag", lag, 0, len(profile) - 1)
    peak = profile.max()
    return float(profile[-1 - lag] / peak) if peak > 0 else float("nan")


def decay_per_step(profile, lags: tuple = (4, 24)) -> float:
    """The factor by which ||dy_T/du_{T-k}|| shrinks per step of lag k, fitted (log-linear) over ``lags``."""
    profile = np.asarray(profile, dtype=float)
    lo, hi = lags
    in_range("lags", hi, lo + 1, len(profile) - 1)
    k = np.arange(lo, hi + 1)
    vals = profile[::-1][k]
    keep = vals > 0
    slope = np.polyfit(k[keep], np.log(vals[keep]), 1)[0]
    return float(np.exp(slope))


def time_per_step(model: torch.nn.Module, *, T: int = 20, batch: int = 32, n_in: int = 1, repeats: int = 5,
                  seed: int = 0) -> float:
    """Best wall-clock milliseconds per time step of a forward and backward pass over (T, batch, n_in).

    Runs on the model's device; on a GPU each timed call waits for the queued work (``rnnlib.device.best_time``).
    A measurement of this machine at this moment, for tables: it is never asserted in tests.
    """
    T = positive("T", T, integer=True)
    u = torch.randn(T, batch, n_in, generator=torch_generator(seed))
    p = next(model.parameters())
    u = u.to(p.device, p.dtype)

    def once():
        y, _ = model(u)
        model.zero_grad(set_to_none=True)
        (y.float() ** 2).mean().backward()

    return 1000 * best_time(once, repeats=positive("repeats", repeats, integer=True), device=p.device) / T
