"""The checkers' shared machinery: ``Feedback``, ``compare_functions`` and ``check_value`` (every chapter).

A checker is a plain function ``check_<exercise>(answer) -> Feedback``. ``Feedback`` is truthy
when the answer is right, so a solution cell can ``assert check_xxx(answer)``; in a notebook it
renders as a short coloured message that says what is wrong and how to look for the mistake.
Checkers compare the reader's function with rnnlib's own implementation on fixed random cases,
and recognise typical mistakes (a missing transpose, a forgotten derivative) to name them.
Each checker is tested both ways in ``tests/test_check*.py``: it accepts the reference answer
and rejects typical wrong ones.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
from rnnlib.device import numpy_rng


@dataclass
class Feedback:
    """The verdict on an answer: ``ok`` and a message (plus optional details)."""

    ok: bool
    message: str
    details: list = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.ok)

    def __str__(self) -> str:
        head = ("Correct: " if self.ok else "Not yet: ") + self.message
        return "\n".join([head] + [f"  - {d}" for d in self.details])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        color, mark = ("#1b7a3d", "&#10004; Correct") if self.ok else ("#a3361a", "&#10008; Not yet")
        items = "".join(f"<li>{html.escape(d)}</li>" for d in self.details)
        return (f'<div class="rnnlib-feedback" style="border-left:4px solid {color};padding:4px 10px;margin:4px 0">'
                f'<strong style="color:{color}">{mark}</strong>: {html.escape(self.message)}'
                f'{"<ul>" + items + "</ul>" if items else ""}</div>')


def _fmt_shape(x) -> str:
    return str(np.shape(x))


def compare_functions(user_fn: Callable | None, reference_fn: Callable, cases: Sequence[tuple], *,
                      name: str, rtol: float = 1e-6, atol: float = 1e-8,
                      hints: Sequence[tuple[Callable, str]] = ()) -> Feedback:
    """Run ``user_fn`` and ``reference_fn`` on every argument tuple in ``cases`` and compare.

    ``hints`` is a list of ``(wrong_fn, message)``: when the reader's output matches ``wrong_fn``
    on a case, the message names that typical mistake.
    """
    if user_fn is None:
        return Feedback(False, f"`{name}` is still None: define it and run the check again.")
    if not callable(user_fn):
        return Feedback(False, f"`{name}` must be a function, got a {type(user_fn).__name__}.")
    for i, args in enumerate(cases):
        copies = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]
        try:
            got = user_fn(*copies)
        except NotImplementedError:
            return Feedback(False, f"`{name}` is not implemented yet (it raised NotImplementedError).")
        except Exception as exc:  # the reader's code failed: say how, without a traceback wall
            return Feedback(False, f"`{name}` raised {type(exc).__name__}: {exc}",
                            [f"on test case {i + 1} with argument shapes {[ _fmt_shape(a) for a in args]}"])
        want = reference_fn(*args)
        if got is None:
            return Feedback(False, f"`{name}` returned None. Did you forget a `return`?")
        if np.shape(got) != np.shape(want):
            return Feedback(False, f"`{name}` returned shape {_fmt_shape(got)}, expected {_fmt_shape(want)}.",
                            [f"test case {i + 1}"])
        got_a = np.asarray(got, dtype=complex if np.iscomplexobj(got) or np.iscomplexobj(want) else float)
        if not np.all(np.isfinite(got_a)):
            return Feedback(False, f"`{name}` returned NaN or inf on test case {i + 1}.")
        if not np.allclose(got_a, want, rtol=rtol, atol=atol):
            for wrong_fn, message in hints:
                try:
                    if np.allclose(got_a, wrong_fn(*args), rtol=rtol, atol=atol):
                        return Feedback(False, message, [f"test case {i + 1}"])
                except Exception:
                    continue
            err = float(np.max(np.abs(got_a - want)))
            return Feedback(False, f"`{name}` gives wrong values: the largest absolute error is {err:.3g}.",
                            [f"test case {i + 1} with argument shapes {[_fmt_shape(a) for a in args]}"])
    return Feedback(True, f"`{name}` agrees with the reference on all {len(cases)} test cases.")


def _cases(make: Callable[[np.random.Generator], tuple], n: int = 5, seed: int = 0) -> list:
    rng = numpy_rng(seed)
    return [make(rng) for _ in range(n)]


def check_value(answer, expected: float, *, name: str, rtol: float = 1e-3, hint: str = "") -> Feedback:
    """Compare a number the reader computed with the expected value."""
    if answer is None:
        return Feedback(False, f"`{name}` is still None: compute it and run the check again.")
    try:
        a = float(answer)
    except (TypeError, ValueError):
        return Feedback(False, f"`{name}` must be a number, got {answer!r}.")
    if np.isclose(a, expected, rtol=rtol, atol=0):
        return Feedback(True, f"`{name}` = {a:.6g} is right.")
    return Feedback(False, f"`{name}` = {a:.6g} is not right." + (f" {hint}" if hint else ""))
