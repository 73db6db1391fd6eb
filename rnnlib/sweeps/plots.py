"""Figures of the sweeps' results in ``rnnlib.sweeps`` (chapters 3 to 6), from a shipped file or a live run.

Computation modules import no matplotlib; their figures live here.
"""
from __future__ import annotations

import numpy as np
from rnnlib.sweeps.gated_lag import LABELS, TASK_LABELS, _length_label, summarize
from rnnlib.sweeps.lag_sweep import table
from rnnlib.sweeps.pascanu_tasks import TITLES as TASK_TITLES
from rnnlib.sweeps.temporal_order import INIT_TITLES, STYLE, success_table


def plot_lag_sweep(data: dict):
    """Success rate against lag (left) and the gradient reaching the cause at initialisation (right)."""
    from rnnlib.book.figures import COLORS, fig_axes

    rows = table(data)
    lags = np.array([r["lag"] for r in rows])
    fig, (ax, bx) = fig_axes(1, 2, width=10, height=3.2)
    ax.plot(lags, [r["success_rate"] for r in rows], "o-", color=COLORS["blue"])
    s = data["settings"]
    ax.set(xlabel="lag (steps between cause and answer)", ylabel=f"fraction of {rows[0]['seeds']} seeds solved",
           ylim=(-0.05, 1.05), title=f"tanh RNN, {s['steps']} {s['optimizer']} steps, H = {s['hidden']}")
    bx.semilogy(lags, [r["cause_gradient_init"] for r in rows], "s-", color=COLORS["red"])
    bx.set(xlabel="lag", ylabel=r"median $\|\partial y_T / \partial h_{T-\mathrm{lag}}\|$",
           title="gradient that reaches the cause (at initialisation)")
    return fig


def plot_temporal_order(data: dict):
    """Paper Fig. 7 at our scale: success rate against length, one panel per initialisation."""
    from rnnlib.book.figures import COLORS, fig_axes

    table = success_table(data)
    lengths = data["grid"]["lengths"]
    inits = list(table)
    fig, axes = fig_axes(1, len(inits), width=10, height=3.0, sharey=True)
    axes = np.atleast_1d(axes)
    n = data["grid"]["seeds"]
    for ax, init in zip(axes, inits):
        for k, (m, rates) in enumerate(table[init].items()):
            col, mk, ls = STYLE[m]
            jitter = (k - 1.5) * 0.25                              # keep overlapping curves visible
            ax.plot(np.array(lengths) + jitter, 100 * np.array(rates), marker=mk, ls=ls, color=COLORS[col], label=m)
        ax.set(title=INIT_TITLES[init], xlabel="sequence length L", xticks=lengths, ylim=(-5, 105))
    axes[0].set_ylabel(f"success rate (%) over {n} seeds")
    axes[-1].legend(fontsize=7, loc="center right")
    return fig


def plot_fig7_long(short: dict, long: dict):
    """Fig. 7 over both budgets: success rate against length, one panel per initialisation; lengths 10-30
    from the short grid (solid markers, its budget) and 50-100 from the long one (open markers, its budget)."""
    from rnnlib.book.figures import COLORS, fig_axes

    t_short, t_long = success_table(short), success_table(long)
    inits = [i for i in t_short if i in t_long] + [i for i in t_long if i not in t_short]
    fig, axes = fig_axes(1, len(inits), width=10, height=3.2, sharey=True)
    axes = np.atleast_1d(axes)
    for ax, init in zip(axes, inits):
        methods = list(dict.fromkeys(list(t_short.get(init, {})) + list(t_long.get(init, {}))))
        for k, m in enumerate(methods):
            col, mk, ls = STYLE[m]
            jitter = 1 + (k - 1.5) * 0.012                         # a multiplicative nudge on the log axis
            for table, data, fill in ((t_short, short, True), (t_long, long, False)):
                rates = table.get(init, {}).get(m)
                if rates is None:
                    continue
                L = np.array([c["length"] for c in data["cells"] if c["init"] == init]) * jitter
                ax.plot(L, 100 * np.array(rates), marker=mk, ls=ls, color=COLORS[col], mfc=COLORS[col] if fill else "white",
                        label=m if table is t_long or m not in t_long.get(init, {}) else None)
        ax.axvspan(40, 125, color=COLORS["grey"], alpha=0.1, lw=0)
        ax.set_xscale("log")
        ax.set(title=INIT_TITLES[init], xlabel="sequence length L (log scale)", ylim=(-5, 105), xlim=(8.5, 125))
        ax.set_xticks([10, 15, 20, 30, 50, 100], ["10", "15", "20", "30", "50", "100"])
        ax.minorticks_off()
    axes[0].set_ylabel(f"success rate (%) over {long['grid']['seeds']} seeds")
    n = lambda k: f"{k:,}".replace(",", "\u202f")
    budgets = f"filled: up to {n(short['grid']['steps'])} updates\nopen, shaded: up to {n(long['grid']['steps'])}"
    axes[0].legend(*axes[-1].get_legend_handles_labels(), fontsize=7, loc="center right", title=budgets,
                   title_fontsize=7)
    return fig


def plot_pascanu_tasks(data: dict):
    """The six problems: per task (panel) and method (colour), the error on fresh sequences against updates,
    one line per seed, at the longer of the task's lengths (solid) and the shorter (dotted)."""
    import matplotlib.pyplot as plt

    from rnnlib.book.figures import COLORS, fig_axes

    tasks = list(dict.fromkeys(c["task"] for c in data["cells"]))
    ncol = 3
    nrow = -(-(len(tasks) + 1) // ncol)                 # one panel more, for the legend
    fig, axes = fig_axes(nrow, ncol, width=10, height=2.5 * nrow, sharex=True, sharey=True)
    axes = np.atleast_1d(axes).ravel()
    for ax, task in zip(axes, tasks):
        cells = sorted((c for c in data["cells"] if c["task"] == task), key=lambda c: c["length"])
        cells = cells[-2:]
        for c, ls, lw in zip(cells, (":", "-") if len(cells) == 2 else ("-",), (0.8, 1.0)):
            steps = np.array(c["eval_steps"])
            for m in data["grid"]["methods"]:
                col = COLORS[STYLE[m][0]]
                for j, r in enumerate(q for q in c["runs"] if q["method"] == m):
                    e = np.array([np.nan if v is None else v for v in r["error_trace"]], float)
                    ax.plot(steps[:len(e)], 100 * e, ls=ls, lw=lw, color=col, alpha=0.7,
                            label=m if (j == 0 and c is cells[-1]) else None)
        ax.axhline(1, color=COLORS["green"], ls="--", lw=0.8)
        lengths = " (dotted), ".join(str(c["length"]) for c in cells) + (" (solid)" if len(cells) == 2 else "")
        ax.set_title(f"{TASK_TITLES[task]}\nL = {lengths}", fontsize=8.5)
        ax.set_ylim(-3, 103)
    handles, labels = axes[0].get_legend_handles_labels()
    handles.append(plt.Line2D([], [], color=COLORS["green"], ls="--", lw=0.8))
    labels.append("solved: 1 % error")
    for ax in axes[len(tasks):]:
        ax.axis("off")
    if len(tasks) < len(axes):        # the legend in the free panel
        axes[len(tasks)].legend(handles, labels, loc="center", fontsize=8,
                                title=f"one line per seed ({data['grid']['seeds']})", title_fontsize=8)
    else:
        axes[0].legend(handles, labels, fontsize=7, loc="lower left")
    for k, ax in enumerate(axes[:len(tasks)]):
        if k + ncol >= len(tasks):                    # nothing drawn below: label this panel's axis
            ax.xaxis.set_tick_params(labelbottom=True)
            ax.set_xlabel("update")
        ax.xaxis.set_major_locator(plt.MaxNLocator(4))
    for ax in axes[::ncol]:
        ax.set_ylabel("error (%) on fresh sequences")
    return fig


def plot_traces(result, members: dict, *, threshold: float | None = 1.0, chance: float = 0.75):
    """Runs from an ``EnsembleResult`` side by side: gradient norm per update (log scale, before clipping)
    and the error on fresh sequences, with the clipping threshold and the chance level marked.
    ``members`` maps a label to a member index."""
    from rnnlib.book.figures import COLORS, fig_axes

    fig, (ax, bx) = fig_axes(1, 2, width=10, height=3.0)
    for label, i in members.items():
        col = COLORS[STYLE.get(label, ("blue",))[0]]
        gn = result.grad_norms[:, i]
        ax.semilogy(np.arange(1, len(gn) + 1), gn, color=col, lw=0.5, alpha=0.8, label=label)
        bx.plot(result.eval_steps, result.evals[:, i], ".-", color=col, label=label)
    if threshold:
        ax.axhline(threshold, color=COLORS["black"], ls="--", lw=1, label=f"threshold {threshold:g}")
    ax.set(xlabel="update", ylabel=r"$\|\nabla_\theta E\|$ before clipping", title="gradient norm")
    ax.legend(fontsize=7)
    bx.axhline(chance, color=COLORS["grey"], ls=":", lw=1, label=f"chance ({chance:.0%} wrong)")
    bx.axhline(0.01, color=COLORS["green"], ls="--", lw=1, label="solved (≤ 1 %)")
    bx.set(xlabel="update", ylabel="error on fresh sequences", ylim=(-0.03, 1.0), title="error")
    bx.legend(fontsize=7)
    return fig


def plot_threshold(live: dict, shipped: dict):
    """Left: error of the live runs at each threshold multiple; right: the shipped success rate per multiple."""
    from rnnlib.book.figures import CYCLE, COLORS, fig_axes

    fig, (ax, bx) = fig_axes(1, 2, width=10, height=3.0)
    for k, r in enumerate(live["runs"]):
        ax.plot(r["eval_steps"], r["error_trace"], ".-", color=CYCLE[k],
                label=f"threshold = {r['multiplier']:g} x average norm")
    ax.axhline(0.75, color=COLORS["grey"], ls=":", lw=1)
    ax.set(xlabel="update", ylabel="error on fresh sequences", ylim=(-0.03, 1.0), title=f"seed 0, lr {live['lr']:g}")
    ax.legend(fontsize=7)
    labels = [f"{k:g}x" for k in shipped["multipliers"]]
    bx.bar(labels, 100 * np.array(shipped["success"]), color=COLORS["blue"])
    bx.axvspan(0.5, 4.5, color=COLORS["green"], alpha=0.12, label="paper: 0.5x to 10x works")
    bx.set(xlabel="threshold / average norm", ylabel=f"solved in {shipped['steps']} updates (%)",
           title=f"{shipped['seeds']} seeds", ylim=(0, 105))
    bx.legend(fontsize=7, loc="upper left")
    return fig


def plot_gated_lag(data: dict, *, axes=None):
    """Fraction of seeds solved against length, one panel per task of the sweep, one line per model."""
    import matplotlib.pyplot as plt

    from rnnlib.book.figures import CYCLE

    tasks = [t for t in TASK_LABELS if t in data["grid"]["tasks"]]          # the book's order, not the file's
    if axes is None:
        _, axes = plt.subplots(1, len(tasks), figsize=(3.6 * len(tasks), 3.0), layout="constrained", sharey=True)
    models = data["grid"]["models"]
    for ax, task in zip(np.atleast_1d(axes), tasks):
        summary, lengths = summarize(data, task), data["grid"]["tasks"][task]
        x = np.arange(len(lengths))
        for i, (m, color) in enumerate(zip(models, CYCLE)):
            rate = [summary[m][n]["solved"] / summary[m][n]["runs"] for n in lengths]
            ax.plot(x + 0.06 * (i - (len(models) - 1) / 2), rate, marker="o", ms=4, color=color, label=LABELS.get(m, m))
        ax.set_xticks(x, [str(n) for n in lengths])
        ax.set_xlabel("lag" if task == "lag" else "sequence length $L$")
        ax.set_title(TASK_LABELS[task])
        ax.set_ylim(-0.05, 1.05)
    axes = np.atleast_1d(axes)
    axes[0].set_ylabel("fraction of seeds solved")
    axes[-1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return axes[0].figure


def plot_lookback(result: dict, *, ax=None, title: str | None = None):
    """Connectivity ``||dy_T/du_{T-n}||`` against ``n`` (steps before the end), at initialisation and trained,
    with the steps where the answer's causes can sit shaded."""
    import matplotlib.pyplot as plt

    from rnnlib.book.figures import COLORS

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 2.8), layout="constrained")
    init = np.asarray(result["connectivity_init"])[::-1]          # index n = steps before the end
    trained = np.asarray(result["connectivity_trained"])[::-1]
    k = np.arange(len(init))
    ax.semilogy(k, np.maximum(init, 1e-30), "--", color=COLORS["grey"], label="at initialisation")
    ax.semilogy(k, np.maximum(trained, 1e-30), color=COLORS["blue"], marker=".", ms=3, label="after training")
    for i, (lo, hi) in enumerate(result["causes"]):
        label = "where the causes sit" if i == 0 else None
        if lo == hi:
            ax.axvline(lo, color=COLORS["red"], lw=1, label=label)
        else:
            ax.axvspan(lo - 0.5, hi + 0.5, color=COLORS["red"], alpha=0.15, lw=0, label=label)
    ax.set_xlabel("steps before the output, $n$")
    ax.set_ylabel(r"$\|\partial y_T / \partial u_{T-n}\|$")
    ax.set_ylim(max(1e-16, min(init.min(), trained.min()) / 3), max(init.max(), trained.max()) * 3)
    ax.yaxis.set_major_locator(plt.LogLocator(numticks=6))        # few tick labels: a fast interactive frame
    ax.yaxis.set_minor_locator(plt.NullLocator())
    verdict = (f"solved after {result['solved_at']} updates" if result["status"] == "solved"
               else f"not solved (error {result['final_error']:.2f})")
    where = f"{TASK_LABELS[result['task']]}, {_length_label(result['task'], result['length'])}"
    ax.set_title(title or f"{LABELS.get(result['model'], result['model'])}, {where}: {verdict}", fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return ax.figure


def figure_hessians(results: dict):
    """Fig. 4A-B: for each {label: hessian_at_teacher(...)} a row with log10 |H|, the moduli of the top-10
    eigenvectors, and the eigenvalue spectrum. Parameter groups are marked on the axes. Returns the Figure."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(results), 3, figsize=(9.6, 3.0 * len(results)), layout="constrained",
                             gridspec_kw=dict(width_ratios=[1.0, 0.55, 0.9]), squeeze=False)
    for row, (label, res) in zip(axes, results.items()):
        H, groups = np.abs(res["hessian"]), res["groups"]
        starts = [i for i in range(len(groups)) if i == 0 or groups[i] != groups[i - 1]]
        im = row[0].imshow(np.log10(H + 1e-12), cmap="viridis", vmin=-4, vmax=np.log10(H.max()))
        row[1].imshow(np.abs(res["eigvecs"][:, :10]), cmap="Greys", aspect="auto", vmin=0, vmax=1)
        for ax in row[:2]:
            ax.set_yticks(starts, [groups[i] for i in starts], fontsize=7)
            ax.grid(False)
        row[0].set_xticks(starts, [groups[i] for i in starts], fontsize=7, rotation=90)
        row[0].set_title(f"{label}: log10 |Hessian|")
        row[1].set(title="|top-10 eigenvectors|", xlabel="rank")
        fig.colorbar(im, ax=row[0], shrink=0.8)
        ev = np.clip(res["eigvals"], 1e-12, None)
        row[2].semilogy(np.arange(1, len(ev) + 1), ev, "o", ms=3)
        row[2].set(title="eigenvalues", xlabel="rank", ylim=(1e-10, 10 * ev.max()))
    return fig
