"""Device choice and seeding, used by every chapter's setup cell.

``device()`` picks the fastest backend that is present (CUDA, then Apple's MPS,
then the CPU). Setting the environment variable ``RNNLIB_DEVICE=cpu`` forces the
CPU. ``seed_everything`` seeds Python, NumPy and torch in one call.

Every seed rnnlib hands out goes through ``shift_seed``: the environment variable
``RNNLIB_SEED_OFFSET=k`` (default 0) adds k to it. ``torch_generator``, ``numpy_rng`` and
``manual_seed`` are the three ways the library turns a seed into random numbers, so with k != 0
every live run in the book draws different numbers. The book's build runs every chapter twice, the
second time with an offset: a claim that survives it is about the phenomenon, not about one draw.
Shipped result files are read, never regenerated, so the offset does not touch them.
``time_once`` and ``best_time`` time a callable, waiting for a GPU to finish when there is one.
"""
from __future__ import annotations

import os
import random
import time

import numpy as np
import torch

from rnnlib._validate import positive

ENV_VAR = "RNNLIB_DEVICE"
_VALID = ("auto", "cpu", "cuda", "mps")


def device(prefer: str | None = None) -> torch.device:
    """Return the torch device to compute on.

    ``prefer`` (or the ``RNNLIB_DEVICE`` environment variable when ``prefer`` is
    None) may be ``"auto"`` (the default), ``"cpu"``, ``"cuda"`` or ``"mps"``.
    Asking for an accelerator that is absent raises a clear error rather than
    silently falling back.
    """
    if prefer is not None and not isinstance(prefer, str):
        raise ValueError(f"prefer must be one of {_VALID} or None, got {prefer!r} ({type(prefer).__name__})")
    choice = (prefer if prefer is not None else os.environ.get(ENV_VAR, "auto")).strip().lower()
    if choice not in _VALID:
        if prefer is not None:
            raise ValueError(f"prefer must be one of {_VALID} (the device to compute on), got {prefer!r}")
        raise ValueError(f"device must be one of {_VALID} (from ${ENV_VAR}), got {choice!r}")
    mps_ok = hasattr(torch.backends, "mps") and torch.backends.mps.is_available()
    if choice == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if mps_ok:
            return torch.device("mps")
        return torch.device("cpu")
    if choice == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"{ENV_VAR}=cuda was requested but torch sees no CUDA device")
    if choice == "mps" and not mps_ok:
        raise RuntimeError(f"{ENV_VAR}=mps was requested but torch sees no MPS device")
    return torch.device(choice)


SEED_OFFSET_VAR = "RNNLIB_SEED_OFFSET"


def seed_offset() -> int:
    """The integer in ``$RNNLIB_SEED_OFFSET`` (0 when unset), added to every seed rnnlib hands out."""
    raw = os.environ.get(SEED_OFFSET_VAR, "").strip()
    if raw == "":
        return 0
    try:
        k = int(raw)
    except ValueError:
        raise ValueError(f"${SEED_OFFSET_VAR} must be an integer >= 0, got {raw!r}") from None
    if k < 0:
        raise ValueError(f"${SEED_OFFSET_VAR} must be an integer >= 0, got {raw!r}")
    return k


SEED_RANGE = "an integer in [0, 2**63 - 1]"  # the one seed policy: what every seed rnnlib takes must be


def check_seed(seed, name: str = "seed") -> int:
    """``seed`` as an int, checked against rnnlib's one seed policy: an integer in [0, 2**63 - 1].

    Not a bool, a float (even 3.0) or a string. The error names the parameter (``name``) and the range.
    """
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"{name} must be {SEED_RANGE}, got {seed!r} ({type(seed).__name__})")
    if not 0 <= int(seed) < 2**63:
        raise ValueError(f"{name} must be {SEED_RANGE}, got {int(seed)!r}")
    return int(seed)


def shift_seed(seed, name: str = "seed") -> int:
    """``seed + $RNNLIB_SEED_OFFSET``, checked: an integer in [0, 2**63 - 1] before and after the shift."""
    s = check_seed(seed, name) + seed_offset()
    if not 0 <= s < 2**63:
        raise ValueError(f"{name} must be {SEED_RANGE} after adding ${SEED_OFFSET_VAR} = {seed_offset()}, "
                         f"got {int(seed)!r}")
    return s


def torch_generator(seed, name: str = "seed") -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with ``shift_seed(seed)`` (``name``: the parameter, for the error)."""
    return torch.Generator().manual_seed(shift_seed(seed, name))


def numpy_rng(seed, name: str = "seed") -> np.random.Generator:
    """A ``numpy.random.Generator`` seeded with ``shift_seed(seed)`` (``name``: the parameter, for the error)."""
    return np.random.default_rng(shift_seed(seed, name))


def manual_seed(seed) -> None:
    """Seed torch's global generator with ``shift_seed(seed)``.

    Only for torch's own initialisers (``nn.Linear``, ``nn.GRU``), which draw from the global generator.
    """
    torch.manual_seed(shift_seed(seed))


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python's ``random``, NumPy's legacy global state and torch (CPU and CUDA) with ``shift_seed(seed)``.

    Returns a fresh ``numpy.random.Generator`` seeded the same way; library
    functions take such a generator (or an explicit ``seed``) rather than
    relying on global state.
    """
    s = shift_seed(seed)
    random.seed(s)
    np.random.seed(s % 2**32)
    torch.manual_seed(s)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(s)
    return np.random.default_rng(s)


def time_once(fn, device=None) -> float:
    """Wall-clock seconds of one call ``fn()``; on a CUDA ``device`` the queued GPU work is waited for."""
    if not callable(fn):
        raise ValueError(f"fn must be callable with no arguments, got {fn!r}")
    cuda = device is not None and torch.device(device).type == "cuda"
    if cuda:
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    fn()
    if cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def best_time(fn, *, repeats: int, device=None, warmup: int = 1) -> float:
    """The fastest of ``repeats`` timed calls of ``fn()`` (seconds), after ``warmup`` untimed ones.

    The minimum, not the mean: on a shared machine the other runs only add noise.
    """
    repeats = positive("repeats", repeats, integer=True)
    warmup = positive("warmup", warmup, integer=True, allow_zero=True)
    if not callable(fn):
        raise ValueError(f"fn must be callable with no arguments, got {fn!r}")
    for _ in range(warmup):
        fn()
    return min(time_once(fn, device) for _ in range(repeats))


def describe() -> str:
    """One line saying which device the book computes on, for setup cells."""
    dev = device()
    extra = f" ({torch.cuda.get_device_name(dev)})" if dev.type == "cuda" else ""
    return f"rnnlib computes on: {dev}{extra}; torch {torch.__version__}, {torch.get_num_threads()} CPU threads"
