"""The book's figure style and the figure helpers several chapters share.

``use_style()`` is called once in every chapter's setup cell. Figures are small (they also become
frames of the static interactive views), labelled, and use the colour-blind-safe palette ``COLORS``.
Chapter-specific drawing lives with the chapter's module; what more than one chapter draws lives here.
"""
from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

# Okabe–Ito, colour-blind safe
COLORS = {
    "blue": "#0072B2", "orange": "#E69F00", "green": "#009E73", "red": "#D55E00",
    "purple": "#CC79A7", "sky": "#56B4E9", "yellow": "#F0E442", "black": "#000000", "grey": "#999999",
}
CYCLE = [COLORS[k] for k in ("blue", "orange", "green", "red", "purple", "sky", "black")]

STYLE = {
    "figure.figsize": (6.4, 3.6),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "savefig.bbox": "tight",
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(color=CYCLE),
    "lines.linewidth": 1.6,
    "image.cmap": "viridis",
}


def use_style() -> None:
    """Apply the book's matplotlib style (call once per notebook)."""
    mpl.rcParams.update(STYLE)


def fig_axes(nrows: int = 1, ncols: int = 1, *, width: float | None = None, height: float | None = None,
             **kw):
    """``plt.subplots`` with the book's default size scaled to the grid, and ``constrained`` layout."""
    w = width if width is not None else min(3.4 * ncols + 0.6, 10.0)
    h = height if height is not None else 2.9 * nrows + 0.3
    return plt.subplots(nrows, ncols, figsize=(w, h), layout="constrained", **kw)


def plot_training(result, *, axes=None, label: str | None = None, color=None):
    """Loss and gradient norm per step (log scale), the evaluation error, and a marker where a run diverged.

    Returns the figure. ``result`` is an ``rnnlib.train.TrainResult``.
    """
    if axes is None:
        fig, axes = fig_axes(1, 3, width=10, height=2.8)
    else:
        fig = axes[0].figure
    steps = np.arange(1, len(result.losses) + 1)
    axes[0].plot(steps, result.losses, color=color, label=label)
    axes[0].set(xlabel="step", ylabel="training loss", title="loss")
    axes[1].semilogy(steps, np.where(np.isfinite(result.grad_norms), result.grad_norms, np.nan), color=color)
    axes[1].set(xlabel="step", ylabel=r"$\|\nabla_\theta E\|$", title="gradient norm (before any clipping)")
    if result.evals:
        s, e = zip(*result.evals)
        axes[2].plot(s, e, marker=".", color=color, label=label)
    axes[2].set(xlabel="step", ylabel="error on fresh sequences", title="error", ylim=(-0.02, 1.02))
    if result.status == "diverged":
        for ax in axes:
            ax.axvline(result.diverged_at, color=COLORS["red"], ls="--", lw=1)
        axes[1].annotate(f"diverged at step {result.diverged_at}", (result.diverged_at, 0.5),
                         xycoords=("data", "axes fraction"), ha="right", color=COLORS["red"], fontsize=8)
    return fig


def unrolled_graph(ax, T: int = 4, *, folded: bool = True, labels=("u", "h", "y"), highlight_path: bool = False):
    """Draw an RNN folded (a loop) and unrolled over ``T`` steps, with the shared weights labelled.

    With ``highlight_path`` the backward path from y_T to h_1 is drawn in red (BPTT's Jacobian product).
    """
    u, h, y = labels
    ax.set_axis_off()
    ax.set_aspect("equal")
    box = dict(boxstyle="round,pad=0.3", fc="white", ec=COLORS["black"])
    hbox = dict(boxstyle="round,pad=0.3", fc="#dbe9f6", ec=COLORS["blue"])
    x0 = 0.0
    arrow = dict(arrowstyle="->", color=COLORS["black"], lw=1.1)
    if folded:
        ax.text(0, 0, f"${h}$", ha="center", va="center", bbox=hbox, fontsize=11)
        ax.text(0, -1.3, f"${u}_t$", ha="center", va="center", bbox=box, fontsize=10)
        ax.text(0, 1.3, f"${y}_t$", ha="center", va="center", bbox=box, fontsize=10)
        ax.annotate("", (0, -0.35), (0, -1.0), arrowprops=arrow)
        ax.annotate("", (0, 1.0), (0, 0.35), arrowprops=arrow)
        ax.annotate("", (0.32, 0.1), (0.32, -0.1), arrowprops=dict(arrowstyle="->", color=COLORS["blue"], lw=1.3,
                                                                   connectionstyle="arc3,rad=-2.2"))
        ax.text(0.95, 0, r"$W_{hh}$", color=COLORS["blue"], va="center", fontsize=9)
        ax.text(2.0, 0, "=", fontsize=16, ha="center", va="center")
        x0 = 3.0
    for t in range(1, T + 1):
        x = x0 + 1.8 * (t - 1)
        ax.text(x, 0, f"${h}_{t}$", ha="center", va="center", bbox=hbox, fontsize=11)
        ax.text(x, -1.3, f"${u}_{t}$", ha="center", va="center", bbox=box, fontsize=10)
        ax.text(x, 1.3, f"${y}_{t}$", ha="center", va="center", bbox=box, fontsize=10)
        ax.annotate("", (x, -0.35), (x, -1.0), arrowprops=arrow)
        ax.annotate("", (x, 1.0), (x, 0.35), arrowprops=arrow)
        ax.text(x + 0.12, -0.7, r"$W_{xh}$", fontsize=7, color=COLORS["grey"])
        ax.text(x + 0.12, 0.62, r"$W_{hy}$", fontsize=7, color=COLORS["grey"])
        left = x - 1.8 if t > 1 else x - 1.4
        ax.annotate("", (x - 0.38, 0), (left + (0.38 if t > 1 else 0), 0),
                    arrowprops=dict(arrowstyle="->", color=COLORS["blue"], lw=1.3))
        ax.text(x - 0.9, 0.15, r"$W_{hh}$", color=COLORS["blue"], fontsize=8, ha="center")
        if highlight_path and t > 1:
            ax.annotate("", (x - 1.8 + 0.38, -0.18), (x - 0.38, -0.18),
                        arrowprops=dict(arrowstyle="->", color=COLORS["red"], lw=1.6))
    if T >= 1:
        ax.text(x0 - 1.4, 0.0, "$h_0$", ha="right", va="center", fontsize=10)
    ax.set_xlim(-0.8 if folded else x0 - 2.0, x0 + 1.8 * (T - 1) + 0.8)
    ax.set_ylim(-1.8, 1.8)
    return ax
