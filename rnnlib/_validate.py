"""Argument checks shared by rnnlib: every error names the parameter and its valid range."""
from __future__ import annotations

import math
from typing import Iterable


def positive(name: str, value, *, integer: bool = False, allow_zero: bool = False):
    """Check ``value > 0`` (or ``>= 0`` with ``allow_zero``), optionally an integer."""
    if integer and (isinstance(value, bool) or not float(value).is_integer()):
        raise ValueError(f"{name} must be an integer {'>= 0' if allow_zero else '>= 1'}, got {value!r}")
    if value is None or not math.isfinite(float(value)) or (value < 0 if allow_zero else value <= 0):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return int(value) if integer else value


def in_range(name: str, value, low, high, *, inclusive=(True, True)):
    """Check ``low <= value <= high`` (brackets set by ``inclusive``)."""
    lo_ok = value >= low if inclusive[0] else value > low
    hi_ok = value <= high if inclusive[1] else value < high
    if value is None or not math.isfinite(float(value)) or not (lo_ok and hi_ok):
        lb = "[" if inclusive[0] else "("
        rb = "]" if inclusive[1] else ")"
        raise ValueError(f"{name} must be in {lb}{low}, {high}{rb}, got {value!r}")
    return value


def one_of(name: str, value, options: Iterable):
    """Check that ``value`` is one of ``options``."""
    options = tuple(options)
    if value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value
