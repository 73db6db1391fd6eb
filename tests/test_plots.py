"""The figure functions the chapters' explorers call: each returns a Figure, labels its lines, and keeps its axes
fixed across the explorer's grid (so that moving a control shows change, not rescaling)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rnnlib.book.figures import stacked_unrolled_graph  # noqa: E402
from rnnlib.models.plots import draw_wiring  # noqa: E402
from rnnlib.models.wiring import AutoNCP  # noqa: E402
from rnnlib.theory import bptt  # noqa: E402
from rnnlib.theory.plots import (figure_landscape, plot_backprop_norms, plot_cell_paths, plot_memory,  # noqa: E402
                                 plot_single_unit, plot_truncation)


def limits(fig):
    return [(tuple(np.round(ax.get_xlim(), 9)), tuple(np.round(ax.get_ylim(), 9))) for ax in fig.axes]


def has_legend(ax) -> bool:
    return ax.get_legend() is not None or bool(ax.figure.legends)


@pytest.mark.parametrize("make, grid", [
    (lambda p: plot_memory(p, 8, steps=120, batch=8, max_delay=12), [0.5, 1.5]),
    (lambda p: plot_single_unit(w=p, T=20), [3.0, 8.0]),
    (lambda p: figure_landscape(lam_star=p), [0.5, 0.99]),
    (lambda p: plot_backprop_norms(spectral_radius=p, T=30, H=8), [0.9, 4.0]),
], ids=["memory", "single-unit", "landscape", "backprop-norms"])
def test_explorer_figures_keep_their_axes_and_label_their_lines(make, grid):
    figs = [make(p) for p in grid]
    assert all(isinstance(f, matplotlib.figure.Figure) for f in figs)
    assert limits(figs[0]) == limits(figs[1]), "the axes moved between two settings of the same explorer"
    for f in figs:
        assert any(has_legend(ax) for ax in f.axes)
        plt.close(f)


def test_truncation_errors_vanish_at_full_length_and_the_figure_draws():
    params = bptt.init_params(1, 6, 1, spectral_radius=0.9, seed=0)
    u, target, mask = bptt.lag_batch(3, 4, seed=0)
    errs = bptt.truncation_errors(params, u, target, mask=mask)
    assert errs.shape == (u.shape[0],) and errs[-1] == pytest.approx(0.0, abs=1e-12) and errs[0] > 0
    fig = plot_truncation(params, u, target, 1, mask=mask)
    assert len(fig.axes) == 2
    plt.close(fig)


def test_cell_paths_and_wiring_and_stacked_graph_draw():
    fig = plot_cell_paths(np.geomspace(1, 1e-3, 20), np.geomspace(1, 1e-2, 20), b_f=1.0)
    assert has_legend(fig.axes[0])
    plt.close(fig)
    fig, ax = plt.subplots()
    draw_wiring(AutoNCP(16, 2).build(3), ax=ax)
    assert has_legend(ax)
    fig2, ax2 = plt.subplots()
    stacked_unrolled_graph(ax2, T=3, layers=2)
    assert len(ax2.patches) + len(ax2.texts) > 0
    plt.close("all")
