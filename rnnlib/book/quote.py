"""Quote a live run's numbers in the prose: a thin wrapper over myst-nb's ``glue``.

A sentence such as "solved after {glue:text}`solved_at` updates" must always quote the run printed
beside it, on whatever machine, thread count or seed offset the page was built. ``quote`` stores the
value's text in the cell's output under ``name``; the markdown inserts it with ``{glue:text}`name```.
The assert next to it checks the robust claim the sentence makes (an order, a margin, k of n seeds).

Where myst-nb is not installed (Colab, a reader's own environment) ``quote`` stores nothing; the
value is still returned, so the cell runs the same.
"""
from __future__ import annotations

import math
import re

__all__ = ["quote"]

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _readable(text: str, value, fmt: str | None) -> str:
    """How a number reads in a sentence: ``5.4e-06`` as ``5.4 × 10⁻⁶``; thousands separated by a narrow space
    (a comma would turn 1,695 into a pair); a float of a million or more without a format in scientific form."""
    if fmt is None and isinstance(value, float) and math.isfinite(value) and value != 0 and abs(value) >= 1e6:
        text = format(value, ".3g")
    if fmt and "," in fmt:
        text = text.replace(",", "\u202f")

    def power(m):                                   # mantissa e[+-]exponent -> mantissa × 10^exponent
        exponent = ("-" if m.group(2) == "-" else "") + m.group(3)
        return f"{m.group(1)} × 10" + exponent.translate(_SUPERSCRIPT)

    return re.sub(r"(\d(?:\.\d+)?)e([+-])0*(\d+)", power, text)


class _Text:
    """An object whose plain-text display is exactly ``text`` (a str would be shown with quotes)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def quote(name: str, value, fmt: str | None = None):
    """Glue ``format(value, fmt)`` (or ``str(value)``) under ``name`` without displaying it; return ``value``.

    ``fmt`` is a format spec such as ``".2f"``, ``".1e"``, ``".0%"`` or ``","``.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be a Python-identifier-like string, got {name!r}")
    if fmt is not None and not isinstance(fmt, str):
        raise ValueError(f"fmt must be a format spec string such as '.2f' or None, got {fmt!r}")
    try:
        text = format(value, fmt) if fmt else str(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"fmt {fmt!r} cannot format {value!r} ({type(value).__name__}): {exc}") from None
    text = _readable(text, value, fmt)
    try:
        from myst_nb import glue
    except ImportError:   # no myst-nb: nothing to glue into, the value is still returned
        return value
    glue(name, _Text(text), display=False)
    return value
