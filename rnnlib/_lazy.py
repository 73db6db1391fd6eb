"""Lazy submodule access for rnnlib's packages: ``rnnlib.theory.gradients`` works after ``import rnnlib``.

Each package's ``__init__`` calls :func:`lazy_modules` with the names of its modules; a module is imported the
first time it is used, so ``import rnnlib`` stays quick and loads nothing a chapter does not need.
"""
from __future__ import annotations

import importlib


def lazy_modules(package: str, names):
    """Return ``(__getattr__, __dir__)`` for ``package`` that import ``package.<name>`` on first use."""
    names = tuple(names)

    def __getattr__(name: str):
        if name in names:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}; its modules are {', '.join(names)}")

    def __dir__():
        return sorted(set(names) | set(importlib.import_module(package).__dict__))

    return __getattr__, __dir__
