"""rnnlib: the small shared library behind the book "Why recurrent networks are hard to train, and what fixes it".

Every chapter imports it. Its folders say what the code is, from the bottom layer up:

* shared helpers: ``device`` (device choice and seeding), ``train`` (the training loop, with divergence
  reports), ``_validate`` (argument checks)
* ``rnnlib.book``: the book's machinery: figure style, widgets that also work on the static site, quoted numbers
* ``rnnlib.models``: the networks: Elman (and its batched ensemble), LSTM/GRU, orthogonal, fused, SSM/LRU, LTC/CfC, wirings
* ``rnnlib.tasks``: the lag task, the recent-past task, Pascanu et al.'s six problems
* ``rnnlib.theory``: the mathematics the chapters explain: recurrence, BPTT, gradients, dynamics, surfaces, memory
* ``rnnlib.remedies``: clipping, the NaN guard, Pascanu's initialisations, the Omega regulariser
* ``rnnlib.sweeps``: the experiments whose results ship in ``rnnlib/data`` (``python -m rnnlib.sweeps``)
* ``rnnlib.check``: the exercise checkers, one module per chapter

A package imports only packages listed before it (``tests/test_architecture.py`` checks this), so the models
can be read without the experiments, and nothing imports the checkers. Each package's docstring lists its
modules and the chapters that use them. After ``import rnnlib``, ``rnnlib.<package>.<module>`` loads on first use.
"""
from __future__ import annotations

import importlib
import inspect

from rnnlib.device import describe, device, seed_everything

__version__ = "0.3.0"
PACKAGES = ("book", "models", "tasks", "theory", "remedies", "sweeps", "check", "train")

__all__ = ["device", "seed_everything", "describe", "show_source", *PACKAGES]


def __getattr__(name: str):
    """Import rnnlib's packages on first use, so ``rnnlib.theory.gradients`` works after ``import rnnlib``."""
    if name in PACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'rnnlib' has no attribute {name!r}; its packages are {', '.join(PACKAGES)}")


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
