"""Figures of the tasks in ``rnnlib.tasks``: one example sequence of a pathological problem (chapter 4).

Computation modules import no matplotlib; their figures live here.
"""
from __future__ import annotations

import torch
from rnnlib.device import torch_generator
from rnnlib.tasks.pathological import PathologicalTask, _Order


def plot_example(task: PathologicalTask, *, seed: int = 0, ax=None):
    """One sequence of ``task`` as an image (channels x time) with its answer in the title."""
    from rnnlib.book.figures import fig_axes

    if ax is None:
        fig, ax = fig_axes(1, 1, width=5, height=2.2)
    else:
        fig = ax.figure
    u, t = task.sample(1, torch_generator(seed))
    x = u[:, 0].T.numpy()
    ax.imshow(x, aspect="auto", cmap="Greys", interpolation="nearest", vmin=0, vmax=1)
    ax.set(xlabel="time step", ylabel="channel")
    ax.grid(False)
    if task.kind == "lastLinear":
        marks = torch.nonzero(u[:, 0, 0]).flatten().tolist()
        for p in marks:
            ax.axvline(p, color="#D55E00", lw=0.8, alpha=0.6)
        ax.set_yticks([0, 1], ["marker", "value"])
        answer = f"{float(t[0, 0]):.3f} from {', '.join(f'{float(u[p, 0, 1]):.2f}' for p in marks)}"
    elif task.kind == "softmax":
        ax.set_yticks(range(task.n_in), [str(k) for k in range(task.n_values)] + ["blank", "cue"])
        answer = "blanks, then " + "".join(str(int(v)) for v in t[-task.n_pos:, 0])
    elif isinstance(task, _Order):
        ax.set_yticks(range(6), list("ABcdef"))
        bits = [(int(t[0]) >> k) & 1 for k in range(len(task.starts))]
        answer = "".join("AB"[b] for b in bits)            # class = v0 + 2 v1 (+ 4 v2): the symbols in order
    else:
        answer = f"the first symbol, {int(t[0])}"
    ax.set_title(f"{task.name} (L = {task.length}); answer: {answer}", fontsize=8.5)
    return fig
