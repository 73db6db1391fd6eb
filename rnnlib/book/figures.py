"""The book's figure style and the figure helpers several chapters share.

``use_style()`` is called once in every chapter's setup cell. Figures are small (they also become
frames of the static interactive views), labelled, and use the colour-blind-safe palette ``COLORS``.
Each package's own figures live in its ``plots`` module (``rnnlib.theory.plots``, ...); what several chapters draw lives here.
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
        axes[1].set_title(f"gradient norm: diverged at step {result.diverged_at}", color=COLORS["red"])
    return fig


def unrolled_graph(ax, T: int = 4, *, folded: bool = True, labels=("u", "h", "y"), highlight_path: bool = False,
                   losses: bool = False, truncate: int | None = None):
    """Draw an RNN folded (a loop) and unrolled over ``T`` steps, with the shared weights labelled.

    Every horizontal arrow of the unrolled chain is the same matrix W_hh (drawn in one colour), every
    input arrow W_xh and every output arrow W_hy. ``losses`` adds the per-step losses E_t above the
    outputs. ``highlight_path`` draws BPTT's backward path from the last loss (or output) back to h_0 in red:
    the chain of Jacobians dh_t/dh_{t-1}. With ``truncate=K`` that path stops after K recurrent steps,
    marked by a cut, and the steps it no longer reaches are drawn grey and dashed. Returns ``ax``.
    """
    from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

    T = int(T)
    if not 1 <= T <= 10:
        raise ValueError(f"T must be an integer in [1, 10], got {T!r}")
    if truncate is not None and (int(truncate) != truncate or truncate < 0):
        raise ValueError(f"truncate must be None or an integer >= 0, got {truncate!r}")
    u, h, y = labels
    blue, red, grey, black = COLORS["blue"], COLORS["red"], COLORS["grey"], COLORS["black"]
    dx, r, ys = 1.75, 0.34, {"u": -1.45, "h": 0.0, "y": 1.45, "E": 2.75}
    ax.set_axis_off()
    ax.set_aspect("equal")

    def node(x, row, text, *, kind="plain"):
        yy = ys[row]
        if kind == "state":
            p = Circle((x, yy), r, fc="#dbe9f6", ec=blue, lw=1.3)
        elif kind == "init":
            p = Circle((x, yy), r, fc="white", ec=grey, lw=1.1, ls="--")
        else:
            p = FancyBboxPatch((x - r * 0.85, yy - r * 0.75), 1.7 * r, 1.5 * r, boxstyle="round,pad=0.02,rounding_size=0.12",
                               fc="#fff4d6" if row == "E" else "white", ec=black, lw=1.0)
        ax.add_patch(p)
        ax.text(x, yy, text, ha="center", va="center", fontsize=11 if kind != "plain" else 10, zorder=5)
        return p

    def arrow(pa, pb, *, color=black, lw=1.1, ls="-", rad=0.0, style="-|>", A=None, B=None, z=2):
        ax.add_patch(FancyArrowPatch(pa, pb, patchA=A, patchB=B, arrowstyle=style, mutation_scale=9, color=color,
                                     lw=lw, ls=ls, connectionstyle=f"arc3,rad={rad}", shrinkA=1, shrinkB=1, zorder=z))

    x_end = 0.0
    if folded:
        hn = node(0.0, "h", f"${h}_t$", kind="state")
        un, yn = node(0.0, "u", f"${u}_t$"), node(0.0, "y", f"${y}_t$")
        arrow((0, ys["u"]), (0, 0), A=un, B=hn)
        arrow((0, 0), (0, ys["y"]), A=hn, B=yn)
        ax.text(0.1, -0.78, r"$W_{xh}$", fontsize=8, color=grey)
        ax.text(0.1, 0.62, r"$W_{hy}$", fontsize=8, color=grey)
        # self-loop on the right of the state: leaves at +35 degrees, comes back at -35 degrees
        c, s = np.cos(np.radians(40)), np.sin(np.radians(40))
        arrow((r * c, r * s), (r * c, -r * s), color=blue, lw=1.4, rad=-2.4)
        ax.text(1.0, 0.0, r"$W_{hh}$", color=blue, fontsize=9, va="center")
        if losses:
            en = node(0.0, "E", "$E_t$")
            arrow((0, ys["y"]), (0, ys["E"]), A=yn, B=en)
        ax.annotate("", (2.55, 0), (1.65, 0), arrowprops=dict(arrowstyle="-|>", lw=2.2, color=grey, mutation_scale=14))
        ax.text(2.1, 0.22, "unroll", ha="center", va="bottom", fontsize=8, color=grey)
        x_end = 2.4
    x0 = x_end + 0.9                                                     # position of h_0
    xs = [x0 + dx * t for t in range(T + 1)]
    hs = [node(xs[0], "h", f"${h}_0$", kind="init")]
    ins, outs = [None], [None]
    reach = T if truncate is None else max(T - int(truncate), 1)         # earliest state the red path reaches
    for t in range(1, T + 1):
        x = xs[t]
        hs.append(node(x, "h", f"${h}_{{{t}}}$", kind="state"))
        ins.append(node(x, "u", f"${u}_{{{t}}}$"))
        outs.append(node(x, "y", f"${y}_{{{t}}}$"))
        arrow((x, ys["u"]), (x, 0), A=ins[t], B=hs[t])
        arrow((x, 0), (x, ys["y"]), A=hs[t], B=outs[t])
        if t == 1 or not highlight_path:                                 # fewer labels beside a red path
            ax.text(x + 0.09, -0.8, r"$W_{xh}$", fontsize=7, color=grey)
            ax.text(x + 0.09, 0.6, r"$W_{hy}$", fontsize=7, color=grey)
        arrow((xs[t - 1], 0.05), (x, 0.05), A=hs[t - 1], B=hs[t], color=blue, lw=1.5)
        ax.text((xs[t - 1] + x) / 2, 0.13, r"$W_{hh}$", color=blue, fontsize=8, ha="center", va="bottom")
        if losses:
            en = node(x, "E", f"$E_{{{t}}}$")
            arrow((x, ys["y"]), (x, ys["E"]), A=outs[t], B=en)
    if highlight_path:
        top = ys["E"] if losses else ys["y"]
        xT = xs[T] + 0.5
        # from the last loss (or output) down to h_T, drawn beside the forward arrows
        arrow((xT, top), (xT - 0.16, 0.0), color=red, lw=1.7, rad=-0.25, z=3)
        for t in range(T, 0, -1):
            inside = truncate is None or t - 1 >= T - int(truncate)
            arrow((xs[t], -0.12), (xs[t - 1], -0.12), A=hs[t], B=hs[t - 1], z=3,
                  color=red if inside else grey, lw=1.7 if inside else 1.0, ls="-" if inside else (0, (3, 2)))
        if truncate is not None and int(truncate) < T:
            xc = (xs[reach] + xs[reach - 1]) / 2
            ax.plot([xc, xc], [-0.55, -0.02], color=red, lw=2.0, zorder=4)
            ax.text(xc, -0.62, f"cut, $K={int(truncate)}$", ha="center", va="top", fontsize=8, color=red)
        t_lab = T if T > 1 else 1
        ax.text((xs[t_lab] + xs[t_lab - 1]) / 2, -0.22,
                rf"$\partial {h}_{{{t_lab}}}/\partial {h}_{{{t_lab - 1}}}$", color=red, fontsize=7.5,
                ha="center", va="top")
    ax.set_xlim(-0.7 if folded else x0 - 0.7, xs[-1] + 0.9)
    ax.set_ylim(ys["u"] - 0.6, (ys["E"] if losses else ys["y"]) + 0.6)
    return ax


def stacked_unrolled_graph(ax, T: int = 3, layers: int = 2, *, highlight_path: bool = True):
    """Draw a network of ``layers`` stacked recurrent layers unrolled over ``T`` steps (chapter 2).

    Layer l has its own recurrent matrix W_hh^[l] (the horizontal arrows of row l, one colour per layer) and
    its own input matrix W_xh^[l] (the vertical arrows into row l; W_xh^[1] reads the input u_t), and the top
    layer feeds the output y_t and the loss E_t. With ``highlight_path`` two of the backward paths from
    the last loss E_T to the first input u_1 are drawn in red: up through the layers first, then along
    time in the top layer, and along time in the bottom layer first, then up. Every such path crosses
    T - 1 recurrent steps and ``layers`` - 1 steps of depth. Returns ``ax``.
    """
    from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

    T, layers = int(T), int(layers)
    if not 1 <= T <= 8:
        raise ValueError(f"T must be an integer in [1, 8], got {T!r}")
    if not 1 <= layers <= 4:
        raise ValueError(f"layers must be an integer in [1, 4], got {layers!r}")
    red, grey, black = COLORS["red"], COLORS["grey"], COLORS["black"]
    layer_colors = [COLORS[c] for c in ("blue", "green", "purple", "sky")]
    dx, dy, r = 1.9, 1.45, 0.36
    ax.set_axis_off()
    ax.set_aspect("equal")
    rows = ["u"] + [f"h{l}" for l in range(1, layers + 1)] + ["y", "E"]
    ypos = {name: i * dy for i, name in enumerate(rows)}
    xs = [dx * t for t in range(T + 1)]                                  # xs[0]: the initial states
    patches = {}

    def node(t, row, text, kind):
        x, y = xs[t], ypos[row]
        if kind == "state":
            l = int(row[1:])
            p = Circle((x, y), r, fc="#eef4fa", ec=layer_colors[(l - 1) % 4], lw=1.3)
        elif kind == "init":
            p = Circle((x, y), r, fc="white", ec=grey, lw=1.0, ls="--")
        else:
            p = FancyBboxPatch((x - r * 0.85, y - r * 0.7), 1.7 * r, 1.4 * r,
                               boxstyle="round,pad=0.02,rounding_size=0.12",
                               fc="#fff4d6" if row == "E" else "white", ec=black, lw=1.0)
        ax.add_patch(p)
        ax.text(x, y, text, ha="center", va="center", fontsize=9.5, zorder=5)
        patches[(t, row)] = p
        return p

    def arrow(a, b, *, color=black, lw=1.1, ls="-", off=(0.0, 0.0), z=2):
        (ta, ra), (tb, rb) = a, b
        pa = (xs[ta] + off[0], ypos[ra] + off[1])
        pb = (xs[tb] + off[0], ypos[rb] + off[1])
        ax.add_patch(FancyArrowPatch(pa, pb, patchA=patches[a], patchB=patches[b], arrowstyle="-|>",
                                     mutation_scale=9, color=color, lw=lw, ls=ls, shrinkA=1, shrinkB=1, zorder=z))

    for l in range(1, layers + 1):
        node(0, f"h{l}", f"$h^{{[{l}]}}_0$", "init")
    for t in range(1, T + 1):
        node(t, "u", f"$u_{{{t}}}$", "plain")
        for l in range(1, layers + 1):
            node(t, f"h{l}", f"$h^{{[{l}]}}_{{{t}}}$", "state")
        node(t, "y", f"$y_{{{t}}}$", "plain")
        node(t, "E", f"$E_{{{t}}}$", "plain")
        below = ["u"] + [f"h{l}" for l in range(1, layers + 1)]
        for l in range(1, layers + 1):
            arrow((t, below[l - 1]), (t, f"h{l}"), color=grey)
            arrow((t - 1, f"h{l}"), (t, f"h{l}"), color=layer_colors[(l - 1) % 4], lw=1.5)
            if t == 1:
                ax.text(xs[t] + 0.08, (ypos[below[l - 1]] + ypos[f"h{l}"]) / 2, f"$W^{{[{l}]}}_{{xh}}$",
                        fontsize=7.5, color=grey, va="center")
            ax.text((xs[t - 1] + xs[t]) / 2, ypos[f"h{l}"] + 0.1, f"$W^{{[{l}]}}_{{hh}}$", fontsize=7.5,
                    color=layer_colors[(l - 1) % 4], ha="center", va="bottom")
        arrow((t, f"h{layers}"), (t, "y"), color=grey)
        arrow((t, "y"), (t, "E"), color=grey)
    if highlight_path and T > 1:
        top, bottom = f"h{layers}", "h1"
        kw = dict(color=red, lw=1.6, z=3)
        # path A: E_T down to the top layer, back in time along the top layer, then down the layers at step 1
        arrow((T, "E"), (T, "y"), off=(0.22, 0), **kw)
        arrow((T, "y"), (T, top), off=(0.22, 0), **kw)
        for t in range(T, 1, -1):
            arrow((t, top), (t - 1, top), off=(0, -0.13), **kw)
        for l in range(layers, 0, -1):
            arrow((1, f"h{l}"), (1, "u" if l == 1 else f"h{l - 1}"), off=(-0.22, 0), **kw)
        # path B: down the layers at step T first, then back in time along the bottom layer (dashed)
        kwb = dict(color=red, lw=1.3, ls=(0, (3, 2)), z=3)
        for l in range(layers, 1, -1):
            arrow((T, f"h{l}"), (T, f"h{l - 1}"), off=(0.22, 0), **kwb)
        for t in range(T, 1, -1):
            arrow((t, bottom), (t - 1, bottom), off=(0, -0.13), **kwb)
    ax.set_xlim(-0.7, xs[-1] + 0.8)
    ax.set_ylim(-0.6, ypos["E"] + 0.6)
    return ax
