"""Argument checks shared by rnnlib: every error names the parameter, its valid range, and what it got.

``positive``, ``in_range`` and ``one_of`` check a value; ``integer`` and ``number`` are what they build on and
reject None, strings and bools with a message such as "lag must be an integer >= 1, got '3' (str)".
``tensor`` checks an input tensor's type, rank, width and dtype (converting NumPy arrays); ``memory_guard``
refuses an allocation that would not fit, before it is attempted, with the estimate and the limit.
"""
from __future__ import annotations

import math
import numbers
import os
from typing import Iterable

import numpy as np
import torch

# The largest single allocation rnnlib attempts without being asked (bytes); $RNNLIB_MEMORY_LIMIT_GB overrides it.
DEFAULT_MEMORY_LIMIT_GB = 4.0


def _got(value) -> str:
    return f"{value!r} ({type(value).__name__})"


def number(name: str, value, *, what: str = "a finite number") -> float:
    """``value`` as a float: a real number (not a bool, string or None) that is finite."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)) and not (
            isinstance(value, (np.ndarray, torch.Tensor)) and value.ndim == 0 and not value.dtype == torch.bool):
        raise ValueError(f"{name} must be {what}, got {_got(value)}")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return x


def integer(name: str, value, *, what: str = "an integer") -> int:
    """``value`` as an int: an integer (or an integral float such as 3.0), not a bool, string or None."""
    x = number(name, value, what=what)
    if not x.is_integer():
        raise ValueError(f"{name} must be {what}, got {_got(value)}")
    return int(x) if not isinstance(value, (numbers.Integral, np.integer)) else int(value)


def positive(name: str, value, *, integer: bool = False, allow_zero: bool = False):
    """Check ``value > 0`` (or ``>= 0`` with ``allow_zero``), optionally an integer; returns it (int if ``integer``)."""
    if integer:
        what = f"an integer {'>= 0' if allow_zero else '>= 1'}"
        x = globals()["integer"](name, value, what=what)
    else:
        what = f"a finite number {'>= 0' if allow_zero else '> 0'}"
        x = number(name, value, what=what)
    if x < 0 if allow_zero else x <= 0:
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return x if integer else value


def in_range(name: str, value, low, high, *, inclusive=(True, True)):
    """Check ``low <= value <= high`` (brackets set by ``inclusive``)."""
    lb = "[" if inclusive[0] else "("
    rb = "]" if inclusive[1] else ")"
    what = f"a number in {lb}{low}, {high}{rb}"
    x = number(name, value, what=what)
    lo_ok = x >= low if inclusive[0] else x > low
    hi_ok = x <= high if inclusive[1] else x < high
    if not (lo_ok and hi_ok):
        raise ValueError(f"{name} must be in {lb}{low}, {high}{rb}, got {value!r}")
    return value


def one_of(name: str, value, options: Iterable):
    """Check that ``value`` is one of ``options``."""
    options = tuple(options)
    try:
        ok = value in options
    except Exception:           # an unhashable or odd value: not one of the options
        ok = False
    if not ok or isinstance(value, bool) and not any(o is value for o in options):
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value


def memory_limit_bytes() -> float:
    """The allocation limit: ``$RNNLIB_MEMORY_LIMIT_GB`` gigabytes, or ``DEFAULT_MEMORY_LIMIT_GB``."""
    raw = os.environ.get("RNNLIB_MEMORY_LIMIT_GB", "")
    try:
        gb = float(raw) if raw.strip() else DEFAULT_MEMORY_LIMIT_GB
    except ValueError:
        raise ValueError(f"$RNNLIB_MEMORY_LIMIT_GB must be a number of gigabytes, got {raw!r}") from None
    return gb * 1e9


def memory_guard(what: str, n_elements: float, *, bytes_per_element: int = 4, names: str = "") -> None:
    """Refuse, before allocating, ``n_elements`` values that would exceed the memory limit.

    ``what`` says what would be allocated and ``names`` which arguments set its size, for the message.
    """
    need = float(n_elements) * bytes_per_element
    limit = memory_limit_bytes()
    if need > limit:
        raise ValueError(f"{what} would need about {need / 1e9:.3g} GB, over rnnlib's limit of {limit / 1e9:.3g} GB"
                         + (f"; reduce {names}" if names else "")
                         + " (set $RNNLIB_MEMORY_LIMIT_GB to raise the limit)")


def tensor(name: str, value, *, dims: Iterable[int] = (3,), width: int | None = None, dtype=None,
           layout: str = "(T, B, n_in)") -> torch.Tensor:
    """``value`` as a tensor of rank in ``dims`` whose last axis is ``width``, in ``dtype`` where given.

    NumPy arrays (and nested lists of numbers) are converted; anything else is refused with the expected layout.
    A dtype mismatch between floating types is converted (float64 input to a float32 model, say).
    """
    dims = tuple(dims)
    if isinstance(value, np.ndarray) or isinstance(value, (list, tuple)):
        try:
            value = torch.as_tensor(np.asarray(value, dtype=np.float64))
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be a tensor of shape {layout}, got {type(value).__name__} that is not numeric") \
                from None
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape {layout}, got {type(value).__name__}")
    if value.dim() not in dims:
        raise ValueError(f"{name} must have shape {layout} ({' or '.join(map(str, dims))} axes), got {tuple(value.shape)}")
    if value.dim() and value.shape[0] == 0:
        raise ValueError(f"{name} must have at least one time step, got shape {tuple(value.shape)}")
    if width is not None and value.shape[-1] != width:
        raise ValueError(f"{name} must have {width} input feature(s) on its last axis {layout}, got shape "
                         f"{tuple(value.shape)}")
    if not (value.is_floating_point() or value.is_complex()):
        value = value.to(dtype or torch.get_default_dtype())
    elif dtype is not None and value.dtype != dtype and not value.is_complex():
        value = value.to(dtype)
    return value


def array(name: str, value, *, what: str = "a finite number or an array of finite numbers",
          complex_ok: bool = True) -> np.ndarray:
    """``value`` as a NumPy array of finite real (or, with ``complex_ok``, complex) numbers.

    None, strings, bools, non-numeric or ragged sequences and NaN or infinite entries are refused, naming ``name``.
    A torch tensor is read (detached) into NumPy; the caller may go on computing with the original value.
    """
    if value is None or isinstance(value, (str, bytes, bool, np.bool_)):
        raise ValueError(f"{name} must be {what}, got {_got(value)}")
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        a = np.asarray(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be {what}, got a {type(value).__name__} that is not a numeric array") from None
    if a.dtype.kind not in ("iufc" if complex_ok else "iuf"):
        raise ValueError(f"{name} must be {what}, got {type(value).__name__} of dtype {a.dtype}"
                         + (f": {value!r}" if a.size <= 4 else ""))
    finite = np.isfinite(a)
    if not finite.all():
        raise ValueError(f"{name} must be {what}, got {a[~finite].ravel()[0].item()!r}" + (" among its values" if a.ndim else ""))
    return a
