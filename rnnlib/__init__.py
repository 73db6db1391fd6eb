"""rnnlib: the small shared library behind the book "Why recurrent networks are hard to train, and what fixes it".

Every chapter imports it. Modules are named after the math they implement:

* ``device``      device choice (CUDA, MPS or CPU; ``RNNLIB_DEVICE=cpu`` forces the CPU) and seeding
* ``bptt``        a from-scratch Elman RNN in NumPy with full and truncated BPTT (chapter 2)
* ``rnn``         the same Elman RNN in torch (chapters 1, 3, 4)
* ``tasks``       sequence tasks with known dependencies (lag task: chapters 1, 3, 5, 7)
* ``train``       a training loop that records losses and gradient norms and reports divergence
* ``plots``       the book's figure style and shared figure helpers
* ``widgets``     interactive experiments: a live ipywidgets control, and a static scrubber for the website
* ``check``       exercise checkers with friendly feedback
* ``experiments`` the command line for the sweeps whose small results ship in ``rnnlib/data``

Chapter modules (import them as ``rnnlib.<name>``; they load on first use):

* chapter 1: ``recurrence`` (trajectories, fixed points, stability), ``context_cost`` (window vs state)
* chapter 3: ``gradients`` (Jacobians through time, the Pascanu bound), ``dynamics`` (the single-unit map and its
  bifurcations), ``surface`` (the error surface and its wall), ``lag_sweep`` (success against lag)
* chapter 4: ``pathological`` (the six tasks), ``clip`` (clipping, initialisations, NaN guard),
  ``regularizer`` (the Omega regulariser), ``ensemble`` and ``temporal_order`` (the batched sweep)
* chapter 5: ``lstm``, ``orthogonal``, ``connectivity``, ``gated_lag`` (the long-range sweep), ``forgetting``
* chapter 6: ``ssm`` (diagonal recurrences, scans, the LRU), ``memory`` (closed forms), ``teacher``
* chapter 7: ``ncp``, ``ltc_fused``, ``wiring``, ``ncp_memory``
"""
from __future__ import annotations

import inspect

import importlib

from . import bptt, check, plots, rnn, tasks, train, widgets
from .device import describe, device, seed_everything

__all__ = ["device", "seed_everything", "describe", "show_source",
           "bptt", "check", "plots", "rnn", "tasks", "train", "widgets"]


def __getattr__(name: str):
    """Import any other rnnlib module on first use, so ``rnnlib.<module>`` works after ``import rnnlib``."""
    if name.startswith("_"):
        raise AttributeError(name)
    try:
        return importlib.import_module(f".{name}", __name__)
    except ModuleNotFoundError as exc:
        if exc.name == f"{__name__}.{name}":
            raise AttributeError(f"module 'rnnlib' has no attribute or module {name!r}") from None
        raise
__version__ = "0.1.0"


def show_source(obj):
    """Display the source code of an rnnlib function, class or method, as the library has it.

    Chapters use this instead of copying code, so the page and the library cannot drift.
    """
    try:
        src = inspect.getsource(obj)
    except (TypeError, OSError) as exc:
        raise ValueError(f"obj must be a function, class or method defined in Python, got {obj!r}") from exc
    from IPython.display import Code

    return Code(src, language="python")
