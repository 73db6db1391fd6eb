"""Gated and orthogonal RNNs head to head: long lags, and the price of remembering (chapter 5).

Three parts: (1) the ``gated-lag`` sweep below; (2) ``price_of_remembering``, which trains models on
``rnnlib.tasks.RecentPastTask``, where old events are noise and a model must forget; (3) readers for the
shipped sweep file (``summarize``, ``success_table``, ``find``, ``plot_lookback``).

Chapter 5 trains the four kinds of recurrent model on the lag task of chapter 3 (``rnnlib.tasks.LagTask``:
report the bit seen ``lag`` steps ago) at increasing lags, every model with the same number of updates,
optimiser, learning rate, batch size, clipping threshold and hidden size, and records whether and when
each one solves it. ``python -m rnnlib.experiments gated-lag`` regenerates ``book/data/gated_lag.json``;
``run_point`` recomputes one cell of the grid (``tests/test_experiments_gated.py`` checks the shipped file).

Training uses torch's fused ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` kernels (``FastRecurrent``), which are
faster on a CPU than the step-by-step cells of ``rnnlib.lstm`` and ``rnnlib.rnn`` (measured for one
forward and backward pass, T = 25, batch 32, H = 32: about 10x for the LSTM, 2x for the GRU, 1.3x for tanh).
``FastRecurrent.to_rnnlib()`` returns the gate-by-gate model holding the same weights; the tests check
that the two compute the same outputs, so the sweep measures the models the chapter reads.

The models (hidden size ``H``):

* ``tanh``: ``h_t = tanh(W_hh h_{t-1} + W_xh u_t + b)``, ``W_hh ~ N(0, 1/H)`` (spectral radius about 1),
  as ``rnnlib.rnn.ElmanRNN``'s default;
* ``orthogonal``: the same network with ``W_hh`` a random orthogonal matrix (every singular value 1),
  orthogonal at initialisation only (Arjovsky et al. 2016 keep it unitary throughout; see
  ``rnnlib.orthogonal.constrain_orthogonal``);
* ``lstm``: torch's initialisation with the forget-gate bias set to ``forget_bias`` (1 by default);
* ``gru``: torch's initialisation;
* ``lstm1997``: the LSTM without forget gate (Hochreiter & Schmidhuber 1997), run by the fused kernel with
  the forget gate pinned open (``SATURATED_BIAS``; float32 only, where this is exact).
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import _validate

__all__ = ["KINDS", "CONTENDERS", "FastRecurrent", "run_point", "run", "connectivity_profile"]

KINDS = ("tanh", "orthogonal", "lstm", "gru", "lstm1997")
# σ(30) rounds to exactly 1.0 in float32, and so σ'(30) = σ(1 - σ) to exactly 0: an nn.LSTM whose
# forget pre-activation is 30 + (zero weights) has f ≡ 1 and forget parameters that never move.
SATURATED_BIAS = 30.0
# The sweep's contenders: name -> (kind, keyword arguments). The LSTM appears twice: with the usual
# forget-gate bias 1 (f ~ σ(1) = 0.73 at the start) and with bias 3 (f ~ σ(3) = 0.95), which
# remembers by default; chapter 5 explains why that matters at long lags.
CONTENDERS = {"tanh": ("tanh", {}), "orthogonal": ("orthogonal", {}), "lstm": ("lstm", {"forget_bias": 1.0}),
              "lstm_fb3": ("lstm", {"forget_bias": 3.0}), "gru": ("gru", {})}
# One budget for every model (the numbers the chapter quotes come from the shipped file's "settings").
# Chapter 3's budget (rnnlib.lag_sweep: hidden 32, 1000 Adam updates, lr 1e-2, batch 32) plus chapter 4's clipping.
SETTINGS = dict(hidden=32, steps=1000, lr=1e-2, batch_size=32, clip=1.0, eval_every=50, eval_size=500)
GRID = dict(lags=[5, 10, 15, 20, 30, 40], seeds=[0, 1])
QUICK_GRID = dict(lags=[5, 10], seeds=[0])


class FastRecurrent(nn.Module):
    """A one-layer fused torch recurrent network plus a linear head, with rnnlib's interface.

    ``kind`` in ``KINDS``; ``forget_bias`` is used by the LSTM only. ``forward(u (T, B, I)) -> (y, out)``: ``y (B, O)`` for ``readout="last"``
    or ``(T, B, O)`` for ``"all"``, ``out (T, B, H)`` the hidden outputs.
    """

    def __init__(self, kind: str, n_in: int, n_hidden: int, n_out: int, *, readout: str = "last",
                 forget_bias: float = 1.0, seed: int = 0, dtype=torch.float32):
        super().__init__()
        self.kind = _validate.one_of("kind", kind, KINDS)
        self.readout = _validate.one_of("readout", readout, ("last", "all"))
        n_in = _validate.positive("n_in", n_in, integer=True)
        H = _validate.positive("n_hidden", n_hidden, integer=True)
        n_out = _validate.positive("n_out", n_out, integer=True)
        _validate.positive("seed", seed, integer=True, allow_zero=True)
        torch.manual_seed(seed)  # torch's modules initialise from the global generator
        if kind == "lstm1997" and dtype != torch.float32:
            raise ValueError(f"dtype must be torch.float32 for kind='lstm1997' (f == 1 exactly), got {dtype}")
        cls = {"tanh": nn.RNN, "orthogonal": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU, "lstm1997": nn.LSTM}[kind]
        self.rnn = cls(n_in, H, dtype=dtype)
        self.head = nn.Linear(H, n_out, dtype=dtype)
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            if kind in ("tanh", "orthogonal"):
                from .orthogonal import random_orthogonal

                W = (random_orthogonal(H, seed=seed) if kind == "orthogonal"
                     else torch.randn(H, H, generator=gen, dtype=torch.float64) / math.sqrt(H))
                self.rnn.weight_hh_l0.copy_(W)                                     # W_hh
                self.rnn.weight_ih_l0.copy_(torch.randn(H, n_in, generator=gen, dtype=torch.float64)
                                            / math.sqrt(n_in))                     # W_xh ~ N(0, 1/I)
                self.rnn.bias_ih_l0.zero_()
                self.rnn.bias_hh_l0.zero_()                                        # b_h = 0
            if kind in ("lstm", "lstm1997"):
                from .lstm import set_forget_bias

                set_forget_bias(self.rnn, forget_bias if kind == "lstm" else SATURATED_BIAS)
            if kind == "lstm1997":
                self.rnn.weight_ih_l0[H:2 * H].zero_()                             # W_xf = 0
                self.rnn.weight_hh_l0[H:2 * H].zero_()                             # W_hf = 0  => f ≡ σ(30) = 1

    def forward(self, u: torch.Tensor, state=None):
        if u.dim() != 3:
            raise ValueError(f"u must have shape (T, B, I) (time first), got {tuple(u.shape)}")
        out, _ = self.rnn(u, state)
        y = self.head(out[-1] if self.readout == "last" else out)
        return y, out

    def to_rnnlib(self) -> nn.Module:
        """The step-by-step rnnlib model (``ElmanRNN``, ``lstm.LSTM`` or ``lstm.GRU``) with these weights."""
        if self.kind in ("lstm", "gru"):
            from .lstm import GRU, LSTM

            return (LSTM if self.kind == "lstm" else GRU).from_torch(self.rnn, self.head, readout=self.readout)
        if self.kind == "lstm1997":
            from .lstm import LSTM

            full = LSTM.from_torch(self.rnn, self.head, readout=self.readout)
            old = LSTM(full.cell.n_in, full.cell.n_hidden, self.head.out_features, readout=self.readout,
                       forget_gate=False, dtype=self.head.weight.dtype)
            old.load_state_dict({k: v for k, v in full.state_dict().items() if not k.endswith("f")})
            return old.to(self.head.weight.device)
        from .rnn import ElmanRNN

        r = self.rnn
        params = {"W_xh": r.weight_ih_l0, "W_hh": r.weight_hh_l0, "b_h": r.bias_ih_l0 + r.bias_hh_l0,
                  "W_hy": self.head.weight, "b_y": self.head.bias}
        params = {k: v.detach().cpu().double().numpy() for k, v in params.items()}
        return ElmanRNN.from_numpy(params, activation="tanh", readout=self.readout,
                                   dtype=self.head.weight.dtype).to(self.head.weight.device)


def _clip(threshold: float):
    def transform(model):
        torch.nn.utils.clip_grad_norm_(model.parameters(), threshold)    # g <- g * min(1, threshold/||g||)
    return transform


def connectivity_profile(model: nn.Module, lag: int, *, n: int = 64, seed: int = 0) -> np.ndarray:
    """``||dy_T/du_t||`` of ``model`` on ``n`` lag-task sequences of length ``lag + 5``, shape ``(lag + 5,)``."""
    from .connectivity import connectivity
    from .tasks import LagTask

    u, _ = LagTask(lag).sample(n, torch.Generator().manual_seed(seed))
    p = next(model.parameters())
    return connectivity(model, u.to(p.device, p.dtype))


def run_point(*, model: str, lag: int, seed: int, settings: dict | None = None, device=None,
              progress: bool = False, return_model: bool = False):
    """Train one contender ``model`` (a key of ``CONTENDERS``) on ``LagTask(lag)`` with ``seed``; return a dict.

    The dict holds ``status`` ("solved" / "budget" / "diverged"), ``solved_at`` (update or None),
    ``final_error``, ``best_error``, ``seconds``, ``evals`` ([step, error] pairs) and, before and
    after training, the connectivity profile ``||dy_T/du_t||`` (index ``t``, lag ``T - 1 - t``).
    With ``return_model`` the trained ``FastRecurrent`` is returned too, as ``(dict, model)``.
    """
    from .tasks import LagTask
    from .train import train

    _validate.one_of("model", model, CONTENDERS)
    s = {**SETTINGS, **(settings or {})}
    task = LagTask(lag)
    kind, kwargs = CONTENDERS[model]
    net = FastRecurrent(kind, task.n_in, s["hidden"], task.n_out, seed=seed, **kwargs)
    dev = device or torch.device("cpu")
    net.to(dev)
    conn0 = connectivity_profile(net, lag)
    cpu0 = time.process_time()
    res = train(net, task, steps=s["steps"], lr=s["lr"], optimizer="adam", batch_size=s["batch_size"],
                grad_transform=_clip(s["clip"]), eval_every=s["eval_every"], eval_size=s["eval_size"],
                seed=seed, progress=progress, device=dev)
    out = {"model": model, "lag": lag, "seed": seed, "status": res.status, "solved_at": res.solved_at,
           "final_error": res.final_error, "best_error": res.best_error, "seconds": round(res.seconds, 2),
           "cpu_seconds": round(time.process_time() - cpu0, 2), "updates": res.steps,
           "evals": [[int(a), float(b)] for a, b in res.evals],
           "connectivity_init": conn0.tolist(), "connectivity_trained": connectivity_profile(net, lag).tolist()}
    return (out, net) if return_model else out


def run(out_dir: Path | None = None, *, quick: bool = False, device=None, progress: bool = True) -> Path:
    """The whole grid (models x lags x seeds); writes ``<out_dir>/gated_lag.json`` and returns its path."""
    from tqdm.auto import tqdm

    from .experiments import DATA_DIR, metadata, write_json

    grid = QUICK_GRID if quick else GRID
    cells = [(m, lag, seed) for lag in grid["lags"] for m in CONTENDERS for seed in grid["seeds"]]
    t0, cpu0 = time.perf_counter(), time.process_time()
    results = [run_point(model=m, lag=lag, seed=seed, device=device)
               for m, lag, seed in tqdm(cells, disable=not progress, desc="gated-lag")]
    payload = {"meta": metadata(sweep="gated-lag", quick=quick, seconds=round(time.perf_counter() - t0, 1),
                                cpu_seconds=round(time.process_time() - cpu0, 1), threads=torch.get_num_threads()),
               "settings": SETTINGS, "grid": {**grid, "models": list(CONTENDERS)},
               "contenders": {k: [kind, kw] for k, (kind, kw) in CONTENDERS.items()}, "results": results}
    return write_json(Path(out_dir or DATA_DIR) / ("gated_lag_quick.json" if quick else "gated_lag.json"), payload)


# --- The price of remembering (chapter 5): a task where old events are noise --------------------------

FORGETTING_VARIANTS = {"tanh RNN": ("tanh", {}), "LSTM, forget bias 0": ("lstm", {"forget_bias": 0.0}),
                       "LSTM, forget bias 5": ("lstm", {"forget_bias": 5.0}), "LSTM 1997 (no forget gate)": ("lstm1997", {})}


def price_of_remembering(*, variants: dict | None = None, seeds=(0, 1), task=None, steps: int = 300,
                         hidden: int = 16, lr: float = 1e-2, batch_size: int = 20, clip: float = 1.0,
                         early: int = 100, long_length: int = 1000) -> dict:
    """Train each variant on ``task`` (default ``RecentPastTask(length=50, window=3, event_rate=0.1)``).

    ``variants`` maps a label to ``(kind, kwargs)`` for :class:`FastRecurrent` (default
    ``FORGETTING_VARIANTS``). Every variant and seed gets the same budget (Adam, ``steps`` updates,
    clipping at ``clip``). Returns ``{label: {"losses": (seeds, steps) array, "early": mean training
    loss over the first ``early`` updates, "final": test MSE on 500 fresh sequences, "long": test MSE on
    a ``long_length``-step stream (continual prediction), "models": the trained models}}``; the three
    numbers are averaged over seeds.
    """
    from .tasks import RecentPastTask
    from .train import train

    task = task or RecentPastTask(length=50, window=3, event_rate=0.1)
    long_task = RecentPastTask(length=long_length, window=task.window, event_rate=task.event_rate,
                               event_size=task.event_size, signal=task.signal, tolerance=task.tolerance)
    u_test, y_test = task.sample(500, torch.Generator().manual_seed(10_001))
    u_long, y_long = long_task.sample(50, torch.Generator().manual_seed(10_002))
    out = {}
    for label, (kind, kwargs) in (variants or FORGETTING_VARIANTS).items():
        losses, finals, longs, models = [], [], [], []
        for seed in seeds:
            net = FastRecurrent(kind, task.n_in, hidden, task.n_out, readout="all", seed=seed, **kwargs)
            res = train(net, task, steps=steps, lr=lr, optimizer="adam", batch_size=batch_size,
                        grad_transform=_clip(clip), eval_every=steps, eval_size=100, seed=seed,
                        stop_when_solved=False, progress=False, device=torch.device("cpu"))
            with torch.no_grad():
                finals.append(float(task.loss(net(u_test)[0], y_test)))
                longs.append(float(task.loss(net(u_long)[0], y_long)))
            losses.append(res.losses)
            models.append(net)
        losses = np.array(losses)
        out[label] = {"losses": losses, "early": float(losses[:, :early].mean()), "final": float(np.mean(finals)),
                      "long": float(np.mean(longs)), "models": models}
    return out


# --- Reading the shipped sweep ---------------------------------------------------------------------------

LABELS = {"tanh": "tanh RNN", "orthogonal": "orthogonal RNN", "lstm": "LSTM, forget bias 1", "lstm_fb3": "LSTM, forget bias 3",
          "gru": "GRU"}


def find(data: dict, model: str, lag: int, seed: int = 0) -> dict:
    """The result of one run (``model``, ``lag``, ``seed``) in a loaded sweep file; ``model`` is a key or a label."""
    model = {label: key for key, label in LABELS.items()}.get(model, model)
    for r in data["results"]:
        if (r["model"], r["lag"], r["seed"]) == (model, lag, seed):
            return r
    raise ValueError(f"no run with model={model!r}, lag={lag}, seed={seed} in this sweep")


def summarize(data: dict) -> dict:
    """``{model: {lag: {"solved": k, "runs": n, "updates": [solved_at of each solved run]}}}``."""
    out = {m: {} for m in data["grid"]["models"]}
    for r in data["results"]:
        cell = out[r["model"]].setdefault(r["lag"], {"solved": 0, "runs": 0, "updates": []})
        cell["runs"] += 1
        if r["status"] == "solved":
            cell["solved"] += 1
            cell["updates"].append(r["solved_at"])
    return out


def success_table(data: dict) -> str:
    """An HTML table: solved seeds / seeds (and the mean number of updates to solve) per model and lag."""
    import html

    summary = summarize(data)
    lags = data["grid"]["lags"]
    pad = ' style="padding: 2px 10px; white-space: nowrap"'
    head = "".join(f"<th{pad}>lag {lag}</th>" for lag in lags)
    rows = []
    for m, cells in summary.items():
        entries = []
        for lag in lags:
            c = cells[lag]
            mean = f" ({np.mean(c['updates']):.0f})" if c["updates"] else ""
            entries.append(f"<td{pad}>{c['solved']}/{c['runs']}{mean}</td>")
        rows.append(f"<tr><td{pad}>{html.escape(LABELS.get(m, m))}</td>{''.join(entries)}</tr>")
    return (f'<table class="table rnnlib-table"><thead><tr><th{pad}>model</th>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def plot_lookback(result: dict, *, ax=None, title: str | None = None):
    """Connectivity ``||dy_T/du_{T-k}||`` against ``k`` (steps before the end), at initialisation and trained."""
    import matplotlib.pyplot as plt

    from .plots import COLORS

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 2.8), layout="constrained")
    init = np.asarray(result["connectivity_init"])[::-1]          # index k = steps before the end
    trained = np.asarray(result["connectivity_trained"])[::-1]
    k = np.arange(len(init))
    ax.semilogy(k, np.maximum(init, 1e-30), "--", color=COLORS["grey"], label="at initialisation")
    ax.semilogy(k, np.maximum(trained, 1e-30), color=COLORS["blue"], marker=".", ms=3, label="after training")
    ax.axvline(result["lag"], color=COLORS["red"], lw=1, label="the cause")
    ax.set_xlabel("steps before the output, $k$")
    ax.set_ylabel(r"$\|\partial y_T / \partial u_{T-k}\|$")
    ax.set_ylim(max(1e-16, min(init.min(), trained.min()) / 3), max(init.max(), trained.max()) * 3)
    ax.yaxis.set_major_locator(plt.LogLocator(numticks=6))        # few tick labels: a fast interactive frame
    ax.yaxis.set_minor_locator(plt.NullLocator())
    verdict = (f"solved after {result['solved_at']} updates" if result["status"] == "solved"
               else f"not solved (error {result['final_error']:.2f})")
    ax.set_title(title or f"{LABELS.get(result['model'], result['model'])}, lag {result['lag']}: {verdict}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return ax.figure


def mean_forget_gate(model: nn.Module, u: torch.Tensor) -> float:
    """Mean forget-gate value of an LSTM (``FastRecurrent`` of kind "lstm" or rnnlib ``LSTM``) over inputs ``u (T, B, I)``."""
    from .lstm import LSTM

    net = model.to_rnnlib() if isinstance(model, FastRecurrent) else model
    if not isinstance(net, LSTM):
        raise ValueError(f"model must be an LSTM (rnnlib LSTM or FastRecurrent of kind 'lstm'), got {type(model).__name__}")
    return float(net.gate_trajectory(u)["f"].mean())
