"""Figures of the models in ``rnnlib.models``: a wiring drawn as a layered graph (chapter 7).

Computation modules import no matplotlib; their figures live here.
"""
from __future__ import annotations

import numpy as np
from rnnlib.models.wiring import Wiring, _TYPE_COLORS, node_positions


def _edge_path(p, q, same_layer: bool, n: int = 12) -> np.ndarray:
    """Points along an edge: a straight segment, or for two neurons of one layer a quadratic Bezier arc
    bulging to the right (so that recurrent synapses do not run along the column)."""
    if not same_layer:
        return np.stack([p, q])
    ctrl = (p + q) / 2 + np.array([0.25 + 0.3 * abs(q[1] - p[1]), 0.0])
    s = np.linspace(0, 1, n)[:, None]
    return (1 - s) ** 2 * p + 2 * s * (1 - s) * ctrl + s**2 * q


def draw_wiring(wiring: Wiring, ax=None, *, node_size: float = 60, alpha: float = 0.5):
    """Draw a built wiring as a layered graph: inputs, then each layer, left to right.

    Excitatory synapses are green, inhibitory ones red, each with an arrowhead near its target;
    recurrent synapses inside a layer bend to the right as arcs; self-synapses are not drawn. All edges
    go into one line collection and one set of arrowheads, so even dense wirings draw in milliseconds.
    Returns the matplotlib Axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    pos = node_positions(wiring)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    palette = {1: "#2ca02c", -1: "#d62728"}
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
    ax.scatter(*pos["sensory"].T, s=node_size, color=_TYPE_COLORS["sensory"], zorder=3, label="sensory")
    types = [wiring.neuron_type(i) for i in range(wiring.units)]
    for kind in ("inter", "command", "motor"):
        ids = [i for i, t in enumerate(types) if t == kind]
        if ids:
            ax.scatter(*pos["neurons"][ids].T, s=node_size, color=_TYPE_COLORS[kind], zorder=3, label=kind)
    ax.set_xlim(-0.4, len(wiring.layers) + 0.4)
    ax.set_ylim(-1.3, 1.3)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for side in ax.spines.values():
        side.set_visible(False)
    return ax
