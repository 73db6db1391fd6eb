"""Figures of the remedies in ``rnnlib.remedies``: norm clipping in two dimensions, and Omega's gradient ratios (chapter 4).

Computation modules import no matplotlib; their figures live here.
"""
from __future__ import annotations

import numpy as np
import torch
from rnnlib.remedies.clip import clip_norm, clip_value, turning_angle


def plot_clipping_2d(angle: float = 20.0, norm: float = 4.0, threshold: float = 1.0, ax=None):
    """A gradient g of length ``norm`` at ``angle`` degrees, its norm-clipped version (on the circle of radius
    ``threshold``, same direction) and its value-clipped version (in the square, direction turned)."""
    import matplotlib.pyplot as plt

    from rnnlib.book.figures import COLORS

    if ax is None:  # a fixed layout (no constrained layout): this is drawn once per frame of the explorer
        fig = plt.figure(figsize=(4.4, 4.0))
        ax = fig.add_axes([0.14, 0.12, 0.82, 0.8])
    else:
        fig = ax.figure
    a = np.radians(angle)
    g = torch.tensor([norm * np.cos(a), norm * np.sin(a)], dtype=torch.float64)
    (n,) = clip_norm([g], threshold)
    (v,) = clip_value([g], threshold)
    t = np.linspace(0, 2 * np.pi, 200)
    ax.plot(threshold * np.cos(t), threshold * np.sin(t), color=COLORS["blue"], lw=1, ls="--",
            label="norm = κ")
    ax.plot([-threshold, threshold, threshold, -threshold, -threshold],
            [-threshold, -threshold, threshold, threshold, -threshold], color=COLORS["orange"], lw=1, ls=":",
            label="|entry| = κ")
    for vec, col, lab, w in ((g, COLORS["black"], "gradient ∇E", 0.012), (n, COLORS["blue"], "norm-clipped", 0.02),
                             (v, COLORS["orange"], f"value-clipped (turned {turning_angle(g, threshold):.0f}°)", 0.02)):
        ax.quiver(0, 0, float(vec[0]), float(vec[1]), angles="xy", scale_units="xy", scale=1, color=col,
                  width=w, label=lab)
    lim = max(norm, threshold) * 1.1
    ax.set(xlim=(-0.3 * lim, lim), ylim=(-0.3 * lim, lim), aspect="equal", xlabel="∂E/∂θ₁", ylabel="∂E/∂θ₂",
           title=f"‖∇E‖ = {norm:g}, direction {angle:g}°")
    ax.legend(loc="upper left", fontsize=7)
    return fig


def plot_ratios(stats: dict, *, ax=None):
    """The per-step ratio q_t (mean over the batch, and its 10-90 % band) for several networks.

    ``stats`` maps a label to the dict returned by :func:`state_grads`."""
    import numpy as np

    from rnnlib.book.figures import CYCLE, fig_axes

    if ax is None:
        fig, ax = fig_axes(1, 1, width=6.4, height=3.2)
    else:
        fig = ax.figure
    for k, (label, st) in enumerate(stats.items()):
        r = st["ratios"].cpu().double().numpy()                       # (T, B)
        t = np.arange(1, r.shape[0] + 1)
        ax.plot(t, np.nanmean(r, 1), color=CYCLE[k], marker=".", label=f"{label}: $\\Omega$ = {st['omega']:.3f}")
        lo, hi = np.nanpercentile(r, [10, 90], axis=1)
        ax.fill_between(t, lo, hi, color=CYCLE[k], alpha=0.15, lw=0)
    ax.axhline(1.0, color="black", lw=0.8, ls=":")
    ax.xaxis.set_major_locator(__import__("matplotlib").ticker.MaxNLocator(integer=True))
    ax.set(xlabel="time step $t$", ylabel=r"$q_t = \|(\partial h_t/\partial h_{t-1})^\top d_t\|^2 / \|d_t\|^2$",
           yscale="log")
    ax.legend(fontsize=7)
    return fig


# --- chapter 4 ---
def plot_threshold_effect(norms, threshold: float, *, average: float | None = None, trace=None,
                          norm_range: tuple = (1e-2, 1e4)):
    """What norm clipping at ``threshold`` would do to the updates of one run (chapter 4's threshold explorer).

    ``norms`` are the gradient norms before clipping of the updates of an (almost) unclipped run, any shape;
    NaNs (updates never made) are dropped. Left: their histogram on a log scale, split into the updates that
    pass unchanged and those that would be clipped. Right: ``trace`` (default: ``norms`` itself, if 1-D), one
    run's norms before and after clipping against the update. Norm clipping never turns a gradient, so the
    length is all that changes. The axes depend only on ``norms`` and ``norm_range``, not on the threshold.
    """
    import matplotlib.pyplot as plt

    from rnnlib.book.figures import COLORS

    g = np.asarray(norms, dtype=float).ravel()
    g = g[np.isfinite(g) & (g > 0)]
    tr = g if trace is None else np.asarray(trace, dtype=float)
    tr = tr[np.isfinite(tr)]
    lo, hi = norm_range
    fig = plt.figure(figsize=(9.0, 3.4))  # a fixed layout: drawn once per frame of the explorer
    ax, bx = fig.add_axes([0.07, 0.15, 0.4, 0.7]), fig.add_axes([0.57, 0.15, 0.4, 0.7])
    bins = np.logspace(np.log10(lo), np.log10(hi), 49)
    counts, _ = np.histogram(g, bins)
    clipped = g >= threshold                                  # Algorithm 1: clip when ||grad E|| >= kappa
    ax.hist(g[~clipped], bins, color=COLORS["blue"], label="passes unchanged")
    ax.hist(g[clipped], bins, color=COLORS["orange"], label="clipped to length κ")
    ax.axvline(threshold, color=COLORS["black"], ls="--", lw=1, label="κ")
    if average is not None:
        ax.axvline(average, color=COLORS["grey"], ls=":", lw=1.2, label="average norm")
    ax.set(xscale="log", xlim=(lo, hi), ylim=(0, 1.1 * counts.max()), xlabel="‖∇E‖ before clipping",
           ylabel="updates", title=f"{np.mean(clipped):.1%} of {g.size} updates clipped")
    ax.legend(loc="upper right", fontsize=7)
    t = np.arange(1, tr.size + 1)
    bx.plot(t, tr, color=COLORS["grey"], lw=0.8, label="before clipping")
    bx.plot(t, np.minimum(tr, threshold), color=COLORS["blue"], lw=1, label="after clipping")
    bx.axhline(threshold, color=COLORS["black"], ls="--", lw=1, label="κ")
    bx.set(yscale="log", ylim=(lo, hi), xlim=(0, tr.size + 1), xlabel="update", ylabel="‖∇E‖",
           title="one run: gradient norm per update")
    bx.legend(loc="upper right", fontsize=7)
    head = f"κ = {threshold:g}" + (f" = {threshold / average:.2g} × the average norm" if average else "")
    fig.suptitle(head, fontsize=10)
    return fig
