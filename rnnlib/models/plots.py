"""Figures of the models in ``rnnlib.models``: a wiring drawn as a layered graph (chapter 7).

Computation modules import no matplotlib; their figures live here.
"""
from __future__ import annotations

import numpy as np
from rnnlib.book.figures import COLORS
from rnnlib.models.wiring import Wiring, node_positions

# One colour mapping for every drawing of a wiring (Fig. 7.3 and the wiring explorer): neuron kinds and synapse
# polarities, from the book's colour-blind-safe palette.
NEURON_COLORS = {"sensory": COLORS["grey"], "inter": COLORS["blue"], "command": COLORS["purple"],
                 "motor": COLORS["orange"]}
SYNAPSE_COLORS = {1: COLORS["green"], -1: COLORS["red"]}


def _edge_path(p, q, same_layer: bool, n: int = 12) -> np.ndarray:
    """Points along an edge: a straight segment, or for two neurons of one layer a quadratic Bezier arc
    bulging to the right (so that recurrent synapses do not run along the column)."""
    if not same_layer:
        return np.stack([p, q])
    ctrl = (p + q) / 2 + np.array([0.25 + 0.3 * abs(q[1] - p[1]), 0.0])
    s = np.linspace(0, 1, n)[:, None]
    return (1 - s) ** 2 * p + 2 * s * (1 - s) * ctrl + s**2 * q


def draw_wiring(wiring: Wiring, ax=None, *, node_size: float = 60, alpha: float = 0.5, legend: bool = True):
    """Draw a built wiring as a layered graph: inputs, then each layer, left to right.

    Neurons are coloured by kind (``NEURON_COLORS``), synapses by polarity (``SYNAPSE_COLORS``: excitatory green,
    inhibitory red), each with an arrowhead near its target; with ``legend`` a legend below the graph names both;
    recurrent synapses inside a layer bend to the right as arcs; self-synapses are not drawn. All edges
    go into one line collection and one set of arrowheads, so even dense wirings draw in milliseconds.
    Returns the matplotlib Axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    pos = node_positions(wiring)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    palette = SYNAPSE_COLORS
    paths, colors = [], []
    for k, j in zip(*np.nonzero(wiring.sensory_adjacency)):
        paths.append(_edge_path(pos["sensory"][k], pos["neurons"][j], False))
        colors.append(palette[int(wiring.sensory_adjacency[k, j])])
    for i, j in zip(*np.nonzero(wiring.adjacency)):
        if i == j:
            continue
        same = pos["neurons"][i, 0] == pos["neurons"][j, 0]
        paths.append(_edge_path(pos["neurons"][i], pos["neurons"][j], same))
        colors.append(palette[int(wiring.adjacency[i, j])])
    if paths:
        ax.add_collection(LineCollection(paths, colors=colors, linewidths=0.6, alpha=alpha, zorder=1))
        # arrowheads: a short vector along the last piece of every edge, ending just before the target
        tips = np.array([path[-1] - 0.06 * (path[-1] - path[-2]) / np.linalg.norm(path[-1] - path[-2])
                         for path in paths])
        dirs = np.array([(path[-1] - path[-2]) / np.linalg.norm(path[-1] - path[-2]) for path in paths])
        ax.quiver(*(tips - 0.04 * dirs).T, *(0.04 * dirs).T, color=colors, angles="xy", scale_units="xy",
                  scale=1, width=0.004, headwidth=3, headlength=3, headaxislength=3, alpha=min(1.0, 2 * alpha),
                  zorder=2)
    ax.scatter(*pos["sensory"].T, s=node_size, color=NEURON_COLORS["sensory"], zorder=3, label="sensory")
    types = [wiring.neuron_type(i) for i in range(wiring.units)]
    for kind in ("inter", "command", "motor"):
        ids = [i for i, t in enumerate(types) if t == kind]
        if ids:
            ax.scatter(*pos["neurons"][ids].T, s=node_size, color=NEURON_COLORS[kind], zorder=3, label=kind)
    ax.set_xlim(-0.4, len(wiring.layers) + 0.4)
    ax.set_ylim(-1.3, 1.3)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for side in ax.spines.values():
        side.set_visible(False)
    if legend:
        from matplotlib.lines import Line2D
        handles = ax.get_legend_handles_labels()[0] + [
            Line2D([], [], color=SYNAPSE_COLORS[1], lw=1.2, label="excitatory"),
            Line2D([], [], color=SYNAPSE_COLORS[-1], lw=1.2, label="inhibitory")]
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(handles), fontsize=7,
                  handletextpad=0.4, columnspacing=1.0)
    return ax


# --- chapter 7 ---
def plot_solver_view(t, reference, runs: dict, U: int, *, neuron: int | None = None, ylim=(-1.5, 1.5),
                     error_lim=(1e-9, 3e3), title: str = ""):
    """The solver explorer of chapter 7: one LTC network integrated by each solver.

    ``t`` (T,) times; ``reference`` (T, H) states of an accurate solution; ``runs[solver][U]`` (T, H) states
    with U sub-steps per input step, for every U of a grid. Left: the potential of neuron ``neuron`` (None: the
    neuron whose reference potential varies most) with ``U`` sub-steps, beside the reference, inside the fixed
    ``ylim``; a run whose state exceeds 1e3 somewhere is drawn up to that step and labelled as blown up. Right:
    the largest error against the reference for every U of the grid, capped at ``error_lim[1]``, with ``U``
    marked. Returns the Figure.
    """
    from rnnlib.book.figures import fig_axes

    colors = {"fused": COLORS["blue"], "euler": COLORS["red"], "rk4": COLORS["green"]}
    names = {"fused": "fused", "euler": "explicit Euler", "rk4": "RK4"}
    fig, (ax1, ax2) = fig_axes(1, 2, width=9.0, height=3.0)
    if neuron is None:                                   # the neuron whose reference potential moves most
        neuron = int(np.argmax(np.asarray(reference).std(0)))
    ax1.plot(t, reference[:, neuron], "k", lw=2.5, alpha=0.3, label="reference")
    for s, by_U in runs.items():
        v = np.array(by_U[U][:, neuron], dtype=float)            # a copy: the caller's runs stay untouched
        bad = ~(np.abs(np.asarray(by_U[U])).max(1) < 1e3)      # the whole network's state blown up (or not finite)
        label = names.get(s, s) + (f" (blown up: $|v| > 10^3$ at $t = {t[np.argmax(bad)]:g}$)" if bad.any() else "")
        if bad.any():                                          # drawn up to the blow-up, leaving the chart there
            k = int(np.argmax(bad))
            v[k] = 1e6 if not np.isfinite(v[k]) else float(np.clip(v[k], -1e6, 1e6))
            v[k + 1:] = np.nan
        ax1.plot(t, v, color=colors.get(s), lw=1.2, label=label)
    ax1.set(xlabel="time $t$", ylabel=f"potential $v$ of neuron {neuron}", ylim=ylim, xlim=(t[0], t[-1]),
            title=f"$U = {U}$ sub-steps per input")
    ax1.legend(loc="lower left", fontsize=7)
    grid = sorted(next(iter(runs.values())))
    for s, by_U in runs.items():
        err = [float(np.abs(by_U[k] - reference).max()) if np.isfinite(by_U[k]).all() else np.inf for k in grid]
        ax2.loglog(grid, np.minimum(err, error_lim[1]), "o-", color=colors.get(s), label=names.get(s, s))
    ax2.axvline(U, ls=":", c="grey", label=f"$U = {U}$")
    ax2.set(xlabel="sub-steps per input $U$", ylabel="max error vs reference (capped)", ylim=error_lim,
            title="error of each solver")
    ax2.set_xticks(grid, [str(k) for k in grid])
    ax2.minorticks_off()
    ax2.legend(loc="lower left", fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
