"""Figures of the mathematics in ``rnnlib.theory``: trajectories and regimes (chapter 1), BPTT contributions (chapter 2),
backpropagated norms, bifurcations and the error surface (chapter 3), the memory closed forms (chapter 6).

Computation modules import no matplotlib; their figures live here.
"""
from __future__ import annotations

import math
import numpy as np
from rnnlib._validate import array, in_range, number, positive
from rnnlib.device import numpy_rng
from rnnlib.theory.context_cost import LABELS
from rnnlib.theory.dynamics import bifurcation_points, crossing_bias, fixed_point_branches, iterate, sensitivities, sensitivity_grid, slope_critical_points
from rnnlib.theory.dynamics import dsigmoid
from rnnlib.theory.gradients import driven_network, eta, pascanu_bound
from rnnlib.theory.memory import mean_square_sensitivity, mean_square_state
from rnnlib.theory.recurrence import _check_Wb, attractor, find_fixed_points, leading_plane, regimes, scalar_fixed_points, trajectory
from rnnlib.theory.surface import STEPS, X0, derivatives, grid, wall_bias, wall_profile


def plot_dynamics(W, b=None, *, n_starts: int = 5, steps: int = 100, seed: int = 0, plane=None,
                  n_units: int = 3, title: str | None = None):
    """Two panels for the autonomous network h_t = tanh(W h_{t-1} + b): the activity of ``n_units`` units
    over time (from the first of ``n_starts`` random initial states), and every trajectory projected onto
    ``plane`` (default: ``leading_plane(W)``, pass it to save an eigen-decomposition) with the fixed points
    Newton finds from their end points (star: stable, open circle: unstable). The title names the attractor
    and its Lyapunov exponent. Light enough to redraw live (a few tens of ms of numerics).
    """
    import matplotlib.pyplot as plt

    from rnnlib.book.figures import COLORS

    W, b = _check_Wb(W, b)
    n_starts = positive("n_starts", n_starts, integer=True)
    rng = numpy_rng(seed)
    h0 = rng.uniform(-1, 1, (n_starts, W.shape[0]))
    hs = trajectory(W, b, h0, steps)                                   # (steps + 1, n_starts, n)
    P = leading_plane(W) if plane is None else np.asarray(plane, dtype=float)
    att = attractor(W, b, hs[-1, 0], burn_in=200, lyap_steps=300)
    ends = hs[-1]
    keep = [e for i, e in enumerate(ends) if all(np.max(np.abs(e - f)) > 1e-3 for f in ends[:i])]
    fps = find_fixed_points(W, b, n_starts=0, starts=np.array(keep), max_iter=20)

    fig = plt.figure(figsize=(8.4, 3.3))
    ax1, ax2 = fig.add_axes((0.07, 0.14, 0.42, 0.64)), fig.add_axes((0.56, 0.14, 0.42, 0.64))
    ax1.plot(hs[:, 0, :min(n_units, W.shape[0])], lw=1.2)
    ax1.set(xlabel="step t", ylabel=f"h_t, units 1 to {min(n_units, W.shape[0])}", ylim=(-1.05, 1.05),
            xlim=(0, steps), yticks=[-1, 0, 1], xticks=[0, steps // 2, steps], title="activity over time (one start)")
    proj = hs @ P                                                      # (steps + 1, n_starts, 2)
    gap = np.full((1, n_starts, 2), np.nan)                            # NaN rows split the lines
    allp = np.concatenate([proj, gap]).transpose(1, 0, 2).reshape(-1, 2)
    tail = np.concatenate([proj[-30:], gap]).transpose(1, 0, 2).reshape(-1, 2)
    ax2.plot(allp[:, 0], allp[:, 1], lw=0.8, alpha=0.7, color=COLORS["grey"])
    ax2.plot(tail[:, 0], tail[:, 1], lw=1.2, color=COLORS["blue"])
    ax2.plot(proj[0, :, 0], proj[0, :, 1], "o", ms=3, color=COLORS["grey"])
    st = np.array([fp.h @ P for fp in fps if fp.stable]).reshape(-1, 2)
    un = np.array([fp.h @ P for fp in fps if not fp.stable]).reshape(-1, 2)
    ax2.plot(st[:, 0], st[:, 1], "*", ms=13, color=COLORS["orange"], mec="k", mew=0.6)
    ax2.plot(un[:, 0], un[:, 1], "o", ms=8, mfc="white", mec=COLORS["red"], mew=1.5)
    ax2.set(xlabel="leading direction 1", ylabel="leading direction 2", xticks=[], yticks=[],
            title=f"{n_starts} trajectories (last 30 steps blue); fixed points:\n"
                  "stable (star), unstable (circle)")
    kind = att["kind"] + (f" (period {att['period']})" if att["kind"] == "periodic" else "")
    fig.suptitle(title or f"settles on: {kind};  largest Lyapunov exponent {att['lyapunov']:+.3f}", fontsize=10.5,
                 y=0.985, fontweight="bold")
    return fig


def plot_scalar_map(ws=None, *, b: float = 0.0, examples=((0.5, 0.9), (2.0, 0.05)), n_starts: int = 6,
                    burn_in: int = 300, keep: int = 8):
    """The one-unit network x_t = tanh(w x_{t-1} + b).

    Left: the map for each ``(w, x_0)`` in ``examples`` against the diagonal, with the first steps from x_0
    drawn as a cobweb; fixed points are the crossings (filled: stable, open: unstable). Right: over a grid
    ``ws``, the states the unit settles on from ``n_starts`` starts (blue; two values for one w is a
    period-2 oscillation) and the fixed points (black: stable, red: unstable).
    """
    import matplotlib.pyplot as plt

    from rnnlib.book.figures import COLORS, CYCLE

    ws = np.linspace(-3, 3, 301) if ws is None else np.asarray(ws, dtype=float)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.4, 3.3), layout="constrained")
    x = np.linspace(-1.3, 1.3, 200)
    ax1.plot(x, x, color="k", lw=0.8, ls=":", label="diagonal $x_t = x_{t-1}$")
    for (w, x0), color in zip(examples, CYCLE):
        ax1.plot(x, np.tanh(w * x + b), color=color, label=f"w = {w:g}, from $x_0$ = {x0:g}")
        xs = [x0]
        for _ in range(12):
            xs.append(math.tanh(w * xs[-1] + b))
        path = np.repeat(xs, 2)                         # cobweb: (x0,x0) -> (x0,x1) -> (x1,x1) -> (x1,x2) ...
        ax1.plot(path[:-1], path[1:], color=color, lw=0.8, alpha=0.8)
        for r, slope in scalar_fixed_points(w, b):
            stable = abs(slope) < 1
            ax1.plot(r, r, "o", ms=4 if stable else 9, color=color, mfc=color if stable else "none", mew=1.5,
                     zorder=4 if stable else 3)
    ax1.set(xlabel="$x_{t-1}$", ylabel="$x_t$", title=r"the map $x_t = \tanh(w\,x_{t-1}" + (f"{b:+g}" if b else "") + ")$",
            ylim=(-1.2, 1.2), xlim=(-1.3, 1.3))
    ax1.legend(fontsize=7, loc="upper left")
    # where the unit settles: iterate every w from several starts at once
    xs = np.tile(np.linspace(-0.9, 0.9, n_starts), (len(ws), 1))        # (n_w, n_starts)
    for _ in range(burn_in):
        xs = np.tanh(ws[:, None] * xs + b)
    settled = []
    for _ in range(keep):
        xs = np.tanh(ws[:, None] * xs + b)
        settled.append(np.stack([np.repeat(ws, n_starts), xs.ravel()], axis=1))
    settled = np.concatenate(settled)
    ax2.plot(settled[:, 0], settled[:, 1], "o", ms=4, color=COLORS["sky"], alpha=0.3, mew=0,
             label="where the unit settles")
    stable, unstable = [], []
    for w in ws:
        for r, slope in scalar_fixed_points(w, b):
            (stable if abs(slope) < 1 else unstable).append((w, r))
    stable, unstable = np.array(stable).reshape(-1, 2), np.array(unstable).reshape(-1, 2)
    ax2.plot(stable[:, 0], stable[:, 1], ".", ms=2, color="k", label="stable fixed point")
    ax2.plot(unstable[:, 0], unstable[:, 1], ".", ms=2, color=COLORS["red"], label="unstable fixed point")
    ax2.set(xlabel="recurrent weight w", ylabel="x", title="fixed points and long-run states", ylim=(-1.1, 1.1))
    ax2.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, markerscale=2)   # below: no data hidden
    return fig


def plot_regimes(W, scales, b=None, *, steps: int = 80, n_units: int = 3, seed: int = 0):
    """One small panel per weight scale g: the activity of ``n_units`` units of h_t = tanh(g W h_{t-1} + b)
    from one random start, titled with what the trajectory settles on (``regimes``)."""
    import matplotlib.pyplot as plt

    W, b = _check_Wb(W, b)
    scales = np.atleast_1d(array("scales", scales, what="a list of finite weight scales", complex_ok=False)).tolist()
    n_units = positive("n_units", n_units, integer=True)
    h0 = numpy_rng(seed).uniform(-1, 1, W.shape[0])
    fig, axes = plt.subplots(1, len(scales), figsize=(2.4 * len(scales) + 0.4, 2.4), sharey=True,
                             layout="constrained")
    for ax, g, att in zip(np.atleast_1d(axes), scales, regimes(W, scales, b, seed=seed)):
        hs = trajectory(g * W, b, h0, steps)
        ax.plot(hs[:, :n_units], lw=1.1)
        kind = att["kind"] + (f" {att['period']}" if att["kind"] == "periodic" else "")
        ax.set(title=f"ρ = {g:g}: {kind}", xlabel="step t", ylim=(-1.05, 1.05), yticks=[-1, 0, 1])
    np.atleast_1d(axes)[0].set_ylabel("h_t (3 units)")
    return fig


def plot_bifurcation(w: float = 5.0, *, starts=(-3.0, 0.5, 3.0), T: int = 50, b_range=(-3.2, -1.8)):
    """Pascanu et al. (2013) Fig. 3 redrawn: the diagram (left) and |dx_T/db| against b (right). Returns the figure."""
    from rnnlib.book.figures import COLORS, fig_axes

    w = number("w", w)
    T = positive("T", T, integer=True)
    b_range = tuple(array("b_range", b_range, what="(low, high), two finite numbers", complex_ok=False).tolist())
    b = np.linspace(*b_range, 701)
    br = fixed_point_branches(w, b)
    b1, b2 = bifurcation_points(w)
    fig, (ax, bx) = fig_axes(1, 2, width=10, height=3.7)
    ax.plot(b, br["low"], color=COLORS["blue"], label="attractors (stable fixed points)")
    ax.plot(b, br["high"], color=COLORS["blue"])
    ax.plot(b, br["unstable"], "--", color=COLORS["red"], label="unstable fixed point = basin boundary")
    coarse = b[::14]
    for s, mk in ((-5.0, "v"), (5.0, "^")):
        ax.plot(coarse, iterate(s, w, coarse, 2000), mk, ms=3, color=COLORS["black"], alpha=0.6,
                label=f"$x_{{2000}}$ from $x_0={s:+g}$ (iterated)")
    for bb, name in ((b1, "$b_1$"), (b2, "$b_2$")):
        ax.axvline(bb, color=COLORS["grey"], lw=1, ls=":")
        ax.text(bb + 0.01, -3.45, name, ha="left", fontsize=9)
    c_lo, c_hi = slope_critical_points(w)
    ax.plot([b1, b2], [c_hi, c_lo], "o", color=COLORS["black"], ms=6, label="an attractor disappears (bifurcation)")
    colors = (COLORS["orange"], COLORS["green"], COLORS["purple"])
    for x0, c in zip(starts, colors):
        ax.plot([b_range[0]], [x0], ">", color=c, ms=7, clip_on=False)
        bc = crossing_bias(x0, w)
        if b1 < bc < b2:
            ax.plot([bc], [x0], "o", mfc="none", mec=c, ms=7, mew=1.5,
                    label=f"$x_0 = {x0:g}$ on the basin boundary")
    ax.set(xlabel="bias $b$", ylabel=r"asymptotic state $x_\infty$", title=f"bifurcation diagram, $w = {w:g}$",
           ylim=(-3.6, 4.5), xlim=b_range)
    ax.legend(loc="upper left", fontsize=7, bbox_to_anchor=(0.02, 0.98))
    for x0, c in zip(starts, colors):
        bg = sensitivity_grid(x0, w, b_range)
        bx.semilogy(bg, np.abs(sensitivities(x0, w, bg, T)["dx_db"]), color=c, lw=1.2, label=f"$x_0 = {x0:g}$")
    for bb in (b1, b2):
        bx.axvline(bb, color=COLORS["grey"], lw=1, ls=":")
    bx.set(xlabel="bias $b$", ylabel=r"$|\partial x_T / \partial b|$", xlim=b_range,
           title=rf"sensitivity of $x_{{{T}}}$ to $b$ from three starting states")
    bx.legend(fontsize=7, loc="upper right")
    return fig


def plot_surface(paths=(), *, labels=(), w_range=(1.0, 8.0), b_range=(-5.5, 0.5), shape=(300, 350), ax=None):
    """E(w, b) as an image with the wall (dashed, closed form) and gradient-descent ``paths`` (``SGDPath``) on top.

    A step that leaves the window is drawn as an arrow to the border, labelled with where it landed.
    Returns the figure.
    """
    from rnnlib.book.figures import COLORS, fig_axes

    if ax is None:
        fig, ax = fig_axes(1, 1, width=6.2, height=4.4)
    else:
        fig = ax.figure
    g = grid(w_range, b_range, shape)
    im = ax.pcolormesh(g["w"], g["b"], g["E"], cmap="viridis", shading="auto", rasterized=True)
    fig.colorbar(im, ax=ax, label=r"$E(w, b) = (\sigma(x_{50}) - 0.7)^2$")
    ww = np.linspace(1.0 / dsigmoid(X0), w_range[1], 50)
    ax.plot(ww, wall_bias(ww), "--", color="white", lw=1.2, label=r"wall: $b = x_0 - w\,\sigma(x_0)$")
    colors = [COLORS["red"], COLORS["orange"], COLORS["sky"], COLORS["purple"]]
    for k, path in enumerate(paths):
        c = colors[k % len(colors)]
        pts = path.points
        inside = ((pts[:, 0] >= w_range[0]) & (pts[:, 0] <= w_range[1]) &
                  (pts[:, 1] >= b_range[0]) & (pts[:, 1] <= b_range[1]))
        n_in = int(np.argmin(inside)) if not inside.all() else len(pts)
        ax.plot(pts[:n_in, 0], pts[:n_in, 1], ".-", color=c, ms=3, lw=0.9,
                label=labels[k] if k < len(labels) else None)
        ax.plot(*pts[0], "o", color=c, ms=6, mec="white")
        if n_in < len(pts):                                    # thrown out of the window
            p0, p1 = pts[n_in - 1], pts[n_in]
            d = (p1 - p0) / np.linalg.norm(p1 - p0)
            span = min((w_range[1] - p0[0]) / d[0] if d[0] > 0 else (w_range[0] - p0[0]) / d[0] if d[0] < 0 else np.inf,
                       (b_range[1] - p0[1]) / d[1] if d[1] > 0 else (b_range[0] - p0[1]) / d[1] if d[1] < 0 else np.inf)
            tip = p0 + 0.97 * span * d
            ax.annotate("", tip, p0, arrowprops=dict(arrowstyle="-|>", color=c, lw=1.6))
            ax.text(*(p0 + 0.6 * span * d), f"step {n_in}: thrown to\n$(w, b)$ = ({p1[0]:.4g}, {p1[1]:.4g})  ",
                    color="white", fontsize=8, va="center", ha="right")
    ax.set(xlim=w_range, ylim=b_range, xlabel="recurrent weight $w$", ylabel="bias $b$")
    ax.grid(False)
    ax.legend(loc="lower left", fontsize=7, frameon=True, facecolor="#404040", framealpha=0.9, labelcolor="white")
    return fig


def plot_wall(w: float = 5.0, *, w_values=None, half_width: float = 2e-3):
    """Two views of the wall: E and ||grad E|| across it at a fixed w (left), and its height against w
    next to lambda^(T-1), lambda = w sigma'(x_0) the slope of the map at the unstable fixed point (right)."""
    from rnnlib.book.figures import COLORS, fig_axes

    w = number("w", w)
    positive("half_width", half_width)
    fig, (ax, bx) = fig_axes(1, 2, width=10, height=3.4)
    bc = float(wall_bias(w))
    off = np.linspace(-half_width, half_width, 4001)
    d = derivatives(w, bc + off)
    l1, = ax.plot(1e3 * off, d["E"], color=COLORS["blue"], label="$E$ (left axis)")
    ax.set(xlabel=rf"$(b - b_{{wall}}) \times 10^3$ at $w = {w:g}$", ylabel="$E$", title="across the wall")
    ax2 = ax.twinx()
    l2, = ax2.semilogy(1e3 * off, np.hypot(d["dw"], d["db"]), color=COLORS["red"], lw=1,
                       label=r"$\|\nabla E\|$ (right axis)")
    ax2.set_ylabel(r"$\|\nabla E\|$", color=COLORS["red"])
    ax2.grid(False)
    ax2.spines["right"].set_visible(True)
    ax.legend(handles=[l1, l2], loc="center left", fontsize=7)
    wv = np.linspace(4.4, 8.0, 37) if w_values is None else np.atleast_1d(
        array("w_values", w_values, what="an array of finite weights", complex_ok=False)).astype(float)
    prof = wall_profile(wv)
    lam = wv * dsigmoid(X0)
    bx.semilogy(wv, prof["grad"], "o-", ms=3, color=COLORS["red"], label=r"largest $\|\nabla E\|$ on the wall")
    bx.semilogy(wv, prof["curv"], "s-", ms=3, color=COLORS["purple"], label="largest curvature there")
    bx.semilogy(wv, lam ** (STEPS - 1), "--", color=COLORS["black"], lw=1,
                label=rf"$\lambda^{{{STEPS - 1}}}$, $\lambda = w\,\sigma'(x_0)$")
    bx.set(xlabel="recurrent weight $w$", title="height of the wall")
    bx.legend(fontsize=7)
    return fig


def _plain_log_ticks(ax, ylim):
    """Decade ticks labelled in plain text ("1e-20"): mathtext tick labels cost most of a frame's time."""
    from matplotlib.ticker import FixedLocator, NullLocator

    lo, hi = int(np.log10(ylim[0])), int(np.log10(ylim[1]))
    step = max(1, (hi - lo) // 6)
    ticks = [10.0 ** e for e in range(lo, hi + 1, step)]
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_yticklabels([f"1e{int(np.log10(t))}" if t != 1 else "1" for t in ticks])


def plot_backprop_norms(spectral_radius: float = 1.1, activation: str = "tanh", T: int = 50, *, H: int = 32,
                        seed: int = 0, ylim=(1e-30, 1e30)):
    """||dE_T/dx_k|| against k on a log scale, with Pascanu's bound eta^(T-k) (the chapter's interactive figure)."""
    from matplotlib.figure import Figure

    from rnnlib.book.figures import COLORS

    net = driven_network(spectral_radius, activation, T, H=H, seed=seed)
    e = eta(net["W"], activation)
    k = np.arange(T + 1)
    fig = Figure(figsize=(7.2, 3.0))                          # no pyplot, no layout engine: cheaper frames
    ax = fig.add_axes((0.1, 0.16, 0.56, 0.72))
    ax.axhline(1.0, color=COLORS["grey"], lw=0.8)
    ax.semilogy(k, np.clip(pascanu_bound(net["W"], T, activation=activation), *ylim), "--", color=COLORS["grey"],
                label=f"Pascanu's bound $\\eta^{{T-k}}$ (cut at $10^{{{np.log10(ylim[1]):.0f}}}$),\n$\\eta = \\gamma\\,\\sigma_{{\\max}}$ = {e:.2f}")
    ax.semilogy(k, np.clip(net["norms"], *ylim), color=COLORS["blue"], lw=2, label=r"measured $\|\partial E_T/\partial x_k\|$")
    n0 = net["norms"][0]
    ax.set(xlim=(0, 100), ylim=ylim, xlabel="step k (the loss is at step T)", ylabel="gradient norm",
           title=f"‖∂E_T/∂x_k‖ for {activation}, ρ = {spectral_radius:g}, T = {T}")
    _plain_log_ticks(ax, ylim)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, title=f"norm at k = 0: {n0:.1e}",
              title_fontsize=8)
    return fig


def figure_remedies(lam: float = 0.99, rho: float = 0.0):
    """The chapter's interactive figure: E[h^2] and the sensitivity E[(d_lam h)^2] against lam for one input
    correlation ``rho`` (the book's xi), without and with the zeta normalisation and the exp parametrisation,
    marked at ``lam``. Returns the Figure."""
    import matplotlib.pyplot as plt

    from rnnlib.book.figures import COLORS

    in_range("lam", lam, 0.0, 1.0, inclusive=(False, False))
    in_range("rho", rho, 0.0, 1.0)
    grid = 1 - np.logspace(-4, -0.05, 300)[::-1]  # lam from 0.11 to 0.9999
    x = -np.log10(1 - grid)
    variants = [("plain", dict(), COLORS["red"]), ("ζ-normalised", dict(normalised=True), COLORS["orange"]),
                ("ζ + exp param.", dict(normalised=True, param="exp"), COLORS["blue"])]
    fig, axes = plt.subplots(1, 2, figsize=(7.6, 2.9))
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.16, top=0.9, wspace=0.25)  # fixed layout: fast frames
    for name, kw, color in variants:
        if "param" not in kw:
            axes[0].plot(x, mean_square_state(grid, rho, **kw), color=color, label=name)
        axes[1].plot(x, mean_square_sensitivity(grid, rho, **kw), color=color, label=name)
    here = [mean_square_sensitivity(lam, rho, **kw) for _, kw, _ in variants]
    for ax in axes:
        ax.axvline(-np.log10(1 - lam), color=COLORS["grey"], ls=":")
        ax.set(yscale="log", ylim=(1e-3, 1e17), xlim=(0, 4), xticks=[0, 1, 2, 3, 4], xticklabels=["0", "0.9", "0.99", "0.999", "0.9999"],
               xlabel="λ", yticks=[1e-3, 1, 1e3, 1e6, 1e9, 1e12, 1e15],
               yticklabels=["1e-3", "1", "1e3", "1e6", "1e9", "1e12", "1e15"])  # plain labels: no mathtext, fast
        ax.minorticks_off()
    axes[0].set(title=f"state E[h²], ξ = {rho:g}")
    axes[1].set(title=f"sensitivity; at λ = {lam:g}: " + " / ".join(f"{v:.2g}" for v in here))
    axes[0].legend(loc="upper left")
    axes[1].legend(loc="upper left")
    return fig


def plot_cost(sweep: dict):
    """Three log-log panels against the context length L: floats carried between predictions, FLOPs per
    prediction (markers: counted by torch; lines: the formulas), and the measured time per prediction."""
    import matplotlib.pyplot as plt

    from rnnlib.book.figures import CYCLE

    fig, axes = plt.subplots(1, 3, figsize=(10, 3.2), layout="constrained")
    for (kind, r), color in zip(sweep.items(), CYCLE):
        L = r["context"]
        axes[0].loglog(L, r["memory"], "o", ms=3.5, color=color, label=LABELS[kind])
        axes[0].loglog(L, r["memory_formula"], "-", lw=1, color=color)
        axes[1].loglog(L, r["flops"], "o", ms=3.5, color=color)
        axes[1].loglog(L, 2 * r["macs_formula"], "-", lw=1, color=color)
        axes[2].loglog(L, 1e6 * r["seconds"], "o-", ms=3.5, lw=1, color=color)
    axes[0].set(xlabel="context length L", ylabel="floats", title="carried to the next prediction")
    axes[1].set(xlabel="context length L", ylabel="FLOPs", title="work per prediction (counted)")
    axes[2].set(xlabel="context length L", ylabel="microseconds", title="time per prediction (measured)")
    axes[0].legend(fontsize=7, loc="upper left")
    return fig


def plot_contribution_matrix(C: np.ndarray, ax, *, title: str | None = None, floor: float = 1e-12,
                             colorbar: bool = True):
    """Heat map of log10(C / max C) for a :func:`contribution_matrix` (rows: loss step t, columns: step k).

    Entries below ``floor`` (relative) share the darkest colour; the empty upper triangle (k > t) is left
    blank. Returns the image.
    """
    C = np.asarray(C, dtype=float)
    if C.ndim != 2 or C.shape[0] != C.shape[1]:
        raise ValueError(f"C must be a square (T, T) matrix, got shape {C.shape}")
    rel = np.log10(np.maximum(C / C.max(), floor)) if C.max() > 0 else np.full(C.shape, np.log10(floor))
    rel = np.ma.masked_where(np.triu(np.ones_like(C, dtype=bool), 1), rel)
    T = C.shape[0]
    im = ax.imshow(rel, origin="upper", vmin=np.log10(floor), vmax=0, cmap="viridis", interpolation="nearest",
                   extent=(0.5, T + 0.5, T + 0.5, 0.5))
    ax.set(xlabel="step k whose weight copy receives it", ylabel="step t of the loss $E_t$")
    ax.grid(False)
    if title:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, shrink=0.85, label=r"$\log_{10}$ (norm / max)")
    return im


# --- chapter 3 ---

def plot_single_unit(w: float = 5.0, x0: float = 0.5, T: int = 50, *, b_range=(-6.5, 0.5), ylim=(1e-1, 1e16)):
    """One sigmoid unit x_t = w sigma(x_{t-1}) + b (chapter 3's explorer): its fixed points against b (left) and
    |dx_T/db| from the starting state ``x0`` against b (right), on the same axes for every w and x0."""
    from matplotlib.figure import Figure

    from rnnlib.book.figures import COLORS

    w, x0 = number("w", w), number("x0", x0)
    T = positive("T", T, integer=True)
    b = np.linspace(*b_range, 701)
    br = fixed_point_branches(w, b)
    fig = Figure(figsize=(9.6, 3.3))                          # no pyplot, no layout engine: cheaper frames
    ax, bx = fig.add_axes((0.07, 0.15, 0.38, 0.72)), fig.add_axes((0.56, 0.15, 0.42, 0.72))
    ax.plot(b, br["low"], color=COLORS["blue"], label="attractors (stable fixed points)")
    ax.plot(b, br["high"], color=COLORS["blue"])
    ax.plot(b, br["unstable"], "--", color=COLORS["red"], label="unstable fixed point (basin boundary)")
    ax.axhline(x0, color=COLORS["orange"], ls=":", lw=1.5, label=f"starting state $x_0 = {x0:g}$")
    bg = sensitivity_grid(x0, w, b_range)
    if w > 4:
        bc, (b1, b2) = crossing_bias(x0, w), bifurcation_points(w)
        if b1 < bc < b2:
            ax.plot([bc], [x0], "o", mfc="none", mec=COLORS["black"], ms=7, mew=1.5,
                    label="$x_0$ on the basin boundary")
        for bb in (b1, b2):
            ax.axvline(bb, color=COLORS["grey"], lw=1, ls=":")
            bx.axvline(bb, color=COLORS["grey"], lw=1, ls=":")
    ax.set(xlim=b_range, ylim=(-7.5, 9.5), xlabel="bias $b$", ylabel="fixed points $x^*$",
           title=f"fixed points of $x_t = {w:g}\\,\\sigma(x_{{t-1}}) + b$")
    ax.legend(loc="upper left", fontsize=7)
    sens = np.abs(sensitivities(x0, w, bg, T)["dx_db"])
    bx.semilogy(bg, np.clip(sens, *ylim), color=COLORS["orange"], lw=1.2, label=f"from $x_0 = {x0:g}$")
    i = int(np.argmax(sens))
    bx.plot([bg[i]], [min(sens[i], ylim[1])], "o", color=COLORS["black"], ms=5,
            label=f"largest: {sens[i]:.1e} at $b = {bg[i]:.3f}$")
    bx.set(xlim=b_range, ylim=ylim, xlabel="bias $b$", ylabel=rf"$|\partial x_{{{T}}} / \partial b|$",
           title=rf"sensitivity of $x_{{{T}}}$ to $b$ (dotted: $b_1$, $b_2$)")
    _plain_log_ticks(bx, ylim)
    bx.legend(loc="upper right", fontsize=7)
    return fig


# --- chapter 6 ---
def figure_landscape(lam_star: float = 0.9, loss: str = "plain"):
    """Chapter 6's landscape explorer: the 1-D teacher-student loss (white unit inputs) along the real axis and
    along the circle |lam| = lam_star, plain or with input normalisation on both sides, with its quadratic model
    1/2 c (lam - lam*)^2 at the optimum (c = ``curvature_1d``). Fixed axes in every frame. Returns the Figure."""
    import matplotlib.pyplot as plt

    from rnnlib._validate import one_of
    from rnnlib.book.figures import COLORS
    from rnnlib.theory.memory import curvature_1d, loss_1d, loss_1d_normalised

    in_range("lam_star", lam_star, 0.0, 1.0, inclusive=(False, False))
    one_of("loss", loss, ("plain", "normalised"))
    f = loss_1d if loss == "plain" else loss_1d_normalised
    normalised = loss == "normalised"
    lam = np.linspace(0, 1, 2000, endpoint=False)
    omega = np.linspace(-np.pi, np.pi, 2001)
    c_r = curvature_1d(lam_star, normalised=normalised)
    c_p = curvature_1d(lam_star, direction="phase", normalised=normalised)
    fig, axes = plt.subplots(1, 2, figsize=(7.6, 2.9))
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.17, top=0.88, wspace=0.22)  # fixed layout
    for ax, x, y, c, dx in ((axes[0], lam, f(lam, lam_star), c_r, lam - lam_star),
                            (axes[1], omega, f(lam_star * np.exp(1j * omega), lam_star), c_p, omega)):
        ax.plot(x, y, color=COLORS["blue"], label=f"E, {loss}")
        ax.plot(x, 0.5 * c * dx**2, color=COLORS["red"], ls="--", lw=1, label=f"parabola, c = {c:.3g}")
        ax.set(yscale="log", ylim=(1e-4, 1e4), yticks=[1e-4, 1e-2, 1, 1e2, 1e4],
               yticklabels=["1e-4", "0.01", "1", "100", "1e4"])  # plain labels: fast frames
        ax.minorticks_off()
        ax.legend(loc="lower left", fontsize=7)
    axes[0].axvline(lam_star, color=COLORS["grey"], ls=":")
    axes[0].set(xlim=(0, 1), xlabel="student λ (real)", title=f"along the real axis, λ* = {lam_star:g}")
    axes[1].set(xlim=(-np.pi, np.pi), xlabel="phase ω  (λ = λ* exp(iω))", title="along the circle |λ| = λ*")
    return fig


# --- chapter 2 ---

def plot_truncation(params: dict, u: np.ndarray, target: np.ndarray, K: int, *, mask=None, cause: int | None = None,
                    title: str | None = None, floor: float = 1e-7):
    """Two panels for truncated BPTT with truncation length ``K`` on one batch (chapter 2's explorer).

    Left: the relative error of the truncated gradient of W_hh against full BPTT for every K (log scale, errors
    below ``floor`` drawn at it), the chosen K marked. Right: the mean |dE/du_t| of every input, full and truncated.
    Both panels have fixed axes, so that only the data move when K or the weights change. ``cause`` (1-based step)
    draws a dotted line at the input the task asks about. Returns the figure.
    """
    import matplotlib.pyplot as plt
    from rnnlib.book.figures import COLORS, fig_axes
    from rnnlib.theory import bptt as _bptt

    T = u.shape[0]
    K = positive("K", K, integer=True, allow_zero=True)
    errs = np.maximum(_bptt.truncation_errors(params, u, target, mask=mask), floor)
    full = _bptt.bptt(params, u, target, mask=mask)
    cut = _bptt.bptt(params, u, target, mask=mask, truncate=K)
    fig, (ax1, ax2) = fig_axes(1, 2, width=9, height=3.3)
    Ks = np.arange(T)
    ax1.semilogy(Ks, errs, "o-", ms=3.5, color=COLORS["blue"], label=r"error of $dE/dW_{hh}$, every $K$")
    ax1.semilogy([min(K, T - 1)], [errs[min(K, T - 1)]], "o", ms=9, color=COLORS["red"], label=f"$K = {K}$")
    ax1.set(xlabel="truncation length $K$", ylabel=f"relative error vs full BPTT\n(0 drawn at {floor:.0e})", ylim=(floor / 3, 30),
            xlim=(-0.5, T - 0.5), title="truncated against full gradient")
    ax1.yaxis.set_minor_locator(plt.NullLocator())
    ax1.legend(loc="lower left")
    steps = np.arange(1, T + 1)
    g_full = np.abs(full.du[..., 0]).mean(1)
    g_cut = np.abs(cut.du[..., 0]).mean(1)
    ax2.semilogy(steps, g_full, "o-", ms=3.5, color=COLORS["blue"], label="full BPTT")
    ax2.semilogy(steps, np.where(g_cut > 0, g_cut, np.nan), "s--", ms=4, color=COLORS["orange"],
                 label=f"truncated, $K = {K}$")
    if K < T - 1:
        ax2.axvspan(0.5, T - K - 0.5, color=COLORS["grey"], alpha=0.15, label="truncated gradient exactly 0")
    if cause is not None:
        ax2.axvline(cause, color=COLORS["red"], ls=":", label="the cause")
    ax2.set(xlabel="input step $t$", ylabel=r"mean $|dE/du_t|$", xlim=(0.5, T + 0.5), ylim=(1e-9, 1e0),
            title="gradient of the last loss per input")
    ax2.yaxis.set_minor_locator(plt.NullLocator())
    ax2.legend(loc="lower right", fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


# --- chapter 1 explorers ---

def plot_memory(rho: float, H: int = 32, **kwargs):
    """Chapter 1's memory explorer: m(n) of the tanh network and of its linear twin (``memory_curves``),
    on the same axes for every rho and H."""
    from matplotlib.figure import Figure

    from rnnlib.book.figures import COLORS

    from rnnlib.theory.recurrence import memory_curves

    m = memory_curves(rho, H, **kwargs)
    n = np.arange(len(m["tanh"]))
    fig = Figure(figsize=(6.4, 3.2))                          # no pyplot, no layout engine: cheaper frames
    ax = fig.add_axes((0.1, 0.3, 0.86, 0.6))
    ax.plot(n, m["tanh"], ".-", color=COLORS["blue"], label=f"tanh network: capacity {m['tanh'].sum():.1f}")
    if m["linear"] is None:                                   # rho > 1: the linear twin grows without bound
        ax.plot([], [], "--", color=COLORS["grey"], label="same weights, no tanh: grows without bound")
    else:
        ax.plot(n, m["linear"], "--", color=COLORS["grey"],
                label=f"same weights, no tanh: capacity {m['linear'].sum():.1f}")
    ax.set(xlim=(0, n[-1]), ylim=(-0.03, 1.05), xlabel="delay n (steps back)", ylabel="m(n)",
           title=f"H = {H} units, ρ = {rho:g}: how much of $u_{{t-n}}$ a linear read-out of $h_t$ recovers")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=8)
    return fig


# --- chapter 5 ---

def plot_cell_paths(direct, every, *, b_f: float, ax=None, ylim=(1e-36, 1e4), title: str | None = None):
    """An LSTM cell's ``||dc_T/dc_0||_2`` against the number of steps back ``T`` (chapter 5): along the direct path
    (``direct``, from ``connectivity.cell_path_norms(..., paths="direct")``), along every path (``every``, with
    ``paths="all"``), and dotted ``sigma(b_f)^T``, the direct path if every forget gate sat at ``sigma(b_f)``. The
    axes are fixed (``ylim``; values below it are drawn at its floor), so that the frames of an explorer compare.
    Returns the Figure."""
    import matplotlib.pyplot as plt

    from rnnlib.book.figures import COLORS

    direct, every = array("direct", direct), array("every", every)
    b_f = number("b_f", b_f)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.0), layout="constrained")
    T = np.arange(len(direct))
    floor = ylim[0]
    ax.semilogy(T, np.maximum(every, floor), color=COLORS["red"], lw=3.5, alpha=0.5,
                label="all paths")       # wide and under: visible where the two coincide
    ax.semilogy(T, np.maximum(direct, floor), color=COLORS["blue"], label="direct path only")
    ax.semilogy(T, np.maximum((1 / (1 + math.exp(-b_f))) ** T, floor), ":", color=COLORS["blue"], lw=1,
                label=r"$\sigma(b_f)^T$")
    ax.axhline(1.0, color=COLORS["black"], lw=0.6, ls="--", label="norm 1")
    ax.set(xlabel="steps back $T$", ylabel=r"$\|\partial c_T / \partial c_0\|_2$", xlim=(0, T[-1]), ylim=ylim)
    ax.yaxis.set_major_locator(plt.LogLocator(numticks=6))        # few tick labels: a fast interactive frame
    ax.yaxis.set_minor_locator(plt.NullLocator())
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(loc="lower left", fontsize=8)
    return ax.figure
