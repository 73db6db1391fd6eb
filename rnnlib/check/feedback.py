"""The checkers' shared machinery: ``Feedback``, ``compare_functions`` and ``check_value`` (every chapter).

A checker is a plain function ``check_<exercise>(answer) -> Feedback``. ``Feedback`` is truthy
when the answer is right, so a solution cell can ``assert check_xxx(answer)``; in a notebook it
renders as a short coloured message that says what is wrong and how to look for the mistake.
Checkers compare the reader's function with rnnlib's own implementation on fixed random cases,
and recognise typical mistakes (a missing transpose, a forgotten derivative) to name them.

A checker never raises, whatever the answer: every step that touches the reader's code or its
result (calling it, reading the result as numbers, checking the shape, comparing) turns a failure
into feedback. Results may be NumPy arrays, Python numbers, lists or tuples of them, or torch
tensors (on any device, requiring grad or not). A float32 result is judged at float32 precision, and so
is a float64 one that carries float32 rounding (part of it was computed in float32), unless the checker
asks for float64 accuracy (``float32_ok=False``: the central difference, whose accuracy is the point).
Each checker is tested both ways in ``tests/test_check*.py``: it accepts the reference answer
and rejects typical wrong ones; ``tests/test_check_robust.py`` feeds every checker junk.
"""
from __future__ import annotations

import html
import inspect
import re
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
from rnnlib.device import numpy_rng

# Relative tolerance (to the largest entry of the expected result) for float32 answers: float32 rounds at
# 1.2e-7, and the exercises' functions amplify that by up to ~25x (1 / (1 - |lam|^2) near |lam| = 1).
FLOAT32_RTOL = 2e-5
_LOW_PRECISION = (np.float16, np.float32, np.complex64)
_AT_FLOAT32 = "float64 at float32 precision"   # _compare_case's verdict on a float64 result with float32 rounding


def _sigmoid(x):
    """The logistic sigmoid, for the hints that recognise a sigmoid where a tanh belongs."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x)))


def sigmoid_for_tanh(where: str, derivative: bool = False) -> str:
    """The hint for a sigmoid used where ``where`` has tanh (``derivative``: sigma' in place of tanh')."""
    if derivative:
        return (f"You used the sigmoid's derivative sigma(a) (1 - sigma(a)) where {where} has "
                f"tanh'(a) = 1 - tanh(a)^2. "
                f"Look for 1 / (1 + np.exp(-a)) (or torch.sigmoid) in your derivative and use np.tanh: this network's "
                f"non-linearity is tanh, whose slope is at most 1 (the sigmoid's is at most 1/4).")
    return (f"You used the sigmoid where {where} has tanh. Look for 1 / (1 + np.exp(-x)) (or torch.sigmoid) and use "
            f"np.tanh: the sigmoid's values lie in (0, 1), tanh's in (-1, 1), so a result that is never negative "
            f"is the telltale sign.")


@dataclass
class Feedback:
    """The verdict on an answer: ``ok`` and a message (plus optional details).

    ``message`` and ``details`` are plain text in which `backticks` mark code; ``str(fb)`` keeps them,
    and the notebook rendering (``_repr_html_``) turns them into ``<code>`` spans.
    """

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
        items = "".join(f"<li>{_html(d)}</li>" for d in self.details)
        return (f'<div class="rnnlib-feedback" style="border-left:4px solid {color};padding:4px 10px;margin:4px 0">'
                f'<strong style="color:{color}">{mark}</strong>: {_html(self.message)}'
                f'{"<ul>" + items + "</ul>" if items else ""}</div>')


def _html(text) -> str:
    """Escape plain feedback text for HTML and render its `code` spans as <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(str(text)))


# --- reading the reader's result -----------------------------------------------------------------

def _is_tensor(x) -> bool:
    return hasattr(x, "detach") and hasattr(x, "cpu") and hasattr(x, "numpy")  # torch, without importing it


def _to_numpy(x) -> np.ndarray:
    """``x`` as a numeric NumPy array: torch tensors detached and copied to the CPU, lists and tuples stacked.

    Raises (TypeError, ValueError, or torch's own error) when ``x`` cannot be read as numbers.
    """
    if _is_tensor(x):
        t = x.detach().cpu()                        # drops requires_grad; copies from a GPU
        if t.is_conj():
            t = t.resolve_conj()                    # .numpy() refuses lazily conjugated tensors
        if t.is_neg():
            t = t.resolve_neg()
        if str(t.dtype) == "torch.bfloat16":        # NumPy has no bfloat16
            t = t.float()
        arr = t.numpy()
    elif isinstance(x, (list, tuple)):
        parts = [_to_numpy(p) for p in x]
        shapes = {p.shape for p in parts}
        if len(shapes) > 1:
            raise ValueError(f"its parts have different shapes {[p.shape for p in parts]}")
        arr = np.stack(parts) if parts else np.asarray([], dtype=float)
    else:
        arr = np.asarray(x)
    if arr.dtype == object:                         # e.g. Fractions or sympy numbers: try to read them as numbers
        try:
            arr = arr.astype(float)
        except (TypeError, ValueError):
            arr = arr.astype(complex)
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"its entries are {arr.dtype}, not numbers")
    return arr


def _a(word: str) -> str:
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


def _describe(x) -> str:
    """What the reader's function returned, in a few words ("a str", "a torch tensor of shape (3,)")."""
    try:
        if _is_tensor(x):
            return f"a torch tensor of shape {tuple(x.shape)}"
        if isinstance(x, np.ndarray):
            return f"an array of shape {x.shape}" + ("" if x.dtype.kind in "biufc" else f" and dtype {x.dtype}")
        if isinstance(x, (bool, np.bool_)):
            return f"a bool ({x})"
        if isinstance(x, (int, float, complex, np.number)):
            return f"a single number ({type(x).__name__})"
        if isinstance(x, (list, tuple)):
            kind = type(x).__name__
            try:
                arr = _to_numpy(x)
            except Exception:                       # ragged or non-numeric: say what the parts are
                return f"{_a(kind)} of {len(x)} parts ({', '.join(_describe(p) for p in x[:4])})"
            if arr.ndim == 1:
                return f"{_a(kind)} of {len(x)} numbers"
            return f"{_a(kind)} of {len(x)} arrays of shape {arr.shape[1:]}"
        return _a(type(x).__name__)
    except Exception:
        return _a(type(x).__name__)


def _expected(want_raw, want: np.ndarray) -> str:
    """What the reference returns, in words ("an array of shape (5,)", "a single number")."""
    if isinstance(want_raw, (list, tuple)):
        return f"a tuple of {len(want_raw)} arrays of shape {want.shape[1:]}"
    if want.ndim == 0:
        return "a single number"
    return f"an array of shape {want.shape}"


def _fmt_shape(x) -> str:
    try:
        return str(np.shape(x))
    except Exception:                               # np.shape fails on ragged lists
        return type(x).__name__


def _short(exc: BaseException, limit: int = 300) -> str:
    """An exception's message, on one line and at most ``limit`` characters (torch's can be pages long).

    Backticks become quotes, so that the reader's text cannot open a code span in the rendered feedback."""
    text = " ".join(str(exc).split()).replace("`", "'")
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _num(v) -> str:
    return format(complex(v), ".4g") if np.iscomplexobj(v) else format(float(v), ".4g")


def _fmt_values(a: np.ndarray) -> str:
    if a.ndim == 0:
        return _num(a)
    return "[" + ", ".join(_num(v) for v in a.ravel()) + "]"


def _mismatch(want: np.ndarray, got: np.ndarray, bad: np.ndarray, shown: int = 3) -> str:
    """Expected against actual values, compactly: whole arrays when tiny, else the first few wrong entries."""
    if want.size <= 4:
        return f"expected {_fmt_values(want)}, got {_fmt_values(got)}"
    idx = np.argwhere(bad)
    parts = [f"entry [{', '.join(str(int(k)) for k in ix)}] should be {_num(want[tuple(ix)])}, "
             f"got {_num(got[tuple(ix)])}" for ix in idx[:shown]]
    more = len(idx) - shown
    return "; ".join(parts) + (f" (and {more} more of the {want.size} entries are wrong)" if more > 0 else "")


def _arity_problem(user_fn: Callable, args: tuple, reference_fn: Callable, name: str) -> Feedback | None:
    """Feedback when ``user_fn`` cannot take the checker's arguments; None when it can (or we cannot tell)."""
    try:
        sig = inspect.signature(user_fn)
    except Exception:  # noqa: BLE001  some builtins have no signature: just call them
        return None
    try:
        sig.bind(*args)
        return None
    except TypeError:
        pass
    try:
        call = f"{name}({', '.join(inspect.signature(reference_fn).parameters)})"
    except Exception:  # noqa: BLE001
        call = f"{name} with {len(args)} arguments"
    n = len(sig.parameters)
    return Feedback(False, f"`{name}` takes {n} argument{'s' if n != 1 else ''} `{sig}`, but the checker calls it "
                           f"with {len(args)}: `{call}`.")


# --- the comparison ------------------------------------------------------------------------------

def compare_functions(user_fn: Callable | None, reference_fn: Callable, cases: Sequence[tuple], *,
                      name: str, rtol: float = 1e-6, atol: float = 1e-8,
                      hints: Sequence[tuple[Callable, str]] = (), float32_ok: bool = True) -> Feedback:
    """Run ``user_fn`` and ``reference_fn`` on every argument tuple in ``cases`` and compare.

    ``hints`` is a list of ``(wrong_fn, message)``: when the reader's output matches ``wrong_fn``
    on a case, the message names that typical mistake (hints are tried before any generic message).
    A float32 result is judged at float32 precision; so is a float64 result that agrees only to float32
    precision (computed partly in float32, then converted), unless ``float32_ok`` is False.
    Never raises: whatever ``user_fn`` is, does or returns, the answer is a ``Feedback``.
    """
    if user_fn is None:
        return Feedback(False, f"`{name}` is still None: define it and run the check again.")
    if not callable(user_fn):
        return Feedback(False, f"`{name}` must be a function, got {_a(type(user_fn).__name__)}.")
    if cases:
        problem = _arity_problem(user_fn, cases[0], reference_fn, name)
        if problem is not None:
            return problem
    low_precision_seen = rounded_seen = False
    for i, args in enumerate(cases):
        where = f"test case {i + 1} with argument shapes {[_fmt_shape(a) for a in args]}"
        copies = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]
        try:
            got = user_fn(*copies)
        except NotImplementedError:
            return Feedback(False, f"`{name}` is not implemented yet (it raised NotImplementedError).")
        except KeyboardInterrupt:                   # the reader stopped a long run: let them
            raise
        except BaseException as exc:  # noqa: BLE001  the reader's code failed: say how, without a traceback wall
            return Feedback(False, f"`{name}` raised {type(exc).__name__}: {_short(exc)}", [f"on {where}"])
        want_raw = reference_fn(*args)
        want = _to_numpy(want_raw)
        if got is None:
            return Feedback(False, f"`{name}` returned None. Did you forget a `return`?")
        try:
            got_a = _to_numpy(got)
        except Exception as exc:  # noqa: BLE001  a str, dict, ragged tuple, meta tensor, ...
            if _is_tensor(got) or isinstance(got, np.ndarray):  # the shape may be right: say why it is unreadable
                return Feedback(False, f"`{name}` returned {_describe(got)}, which cannot be read as numbers "
                                       f"({_short(exc)}); expected {_expected(want_raw, want)}.", [where])
            return Feedback(False, f"`{name}` returned {_describe(got)}; expected {_expected(want_raw, want)}.",
                            [f"{where}: it cannot be read as numbers ({_short(exc)})"])
        if got_a.shape != want.shape:
            return Feedback(False, f"`{name}` returned {_describe(got)}; expected {_expected(want_raw, want)}.",
                            [where])
        fb = _compare_case(got_a, want, args, i, where, name=name, rtol=rtol, atol=atol, hints=hints,
                           float32_ok=float32_ok)
        if fb is _AT_FLOAT32:
            rounded_seen = True
        elif fb is not None:
            return fb
        low_precision_seen |= got_a.dtype.type in _LOW_PRECISION
    if low_precision_seen:
        return Feedback(True, f"`{name}` agrees with the reference on all {len(cases)} test cases, to float32 "
                              f"precision (your result is float32; the reference is float64).")
    if rounded_seen:
        return Feedback(True, f"`{name}` agrees with the reference on all {len(cases)} test cases, to float32 "
                              f"precision: your result is float64 but carries float32 rounding, so part of it was "
                              f"computed in float32 (torch's default dtype, or a float32 array). That is fine here; "
                              f"compute in float64 where you need more digits.")
    return Feedback(True, f"`{name}` agrees with the reference on all {len(cases)} test cases.")


def _compare_case(got: np.ndarray, want: np.ndarray, args: tuple, i: int, where: str, *, name: str,
                  rtol: float, atol: float, hints: Sequence[tuple[Callable, str]],
                  float32_ok: bool = True) -> Feedback | str | None:
    """The verdict on one case whose result has the right shape: None when it agrees, ``_AT_FLOAT32`` when a
    float64 result agrees to float32 precision only and ``float32_ok`` accepts that, else the feedback."""
    if got.dtype.kind in "biu":
        got = got.astype(float)
    with np.errstate(all="ignore"):
        finite = bool(np.all(np.isfinite(got)))
    if not finite:
        return Feedback(False, f"`{name}` returned NaN or inf on test case {i + 1}; expected finite numbers.",
                        [where])
    scale = float(np.max(np.abs(want))) if want.size else 0.0
    low = got.dtype.type in _LOW_PRECISION
    if low:                                         # float32 result: allow for float32 rounding
        rtol, atol = max(rtol, FLOAT32_RTOL), max(atol, FLOAT32_RTOL * scale)
    with np.errstate(all="ignore"):
        if np.allclose(got, want, rtol=rtol, atol=atol):
            return None
        hinted = _match_hint(got, args, i, hints, rtol=rtol, atol=atol)   # recognised mistakes first
        if hinted is not None:
            return hinted
        if np.iscomplexobj(got) and not np.iscomplexobj(want) and np.max(np.abs(got.imag)) > atol + rtol * scale:
            return Feedback(False, f"`{name}` returned complex numbers on test case {i + 1}; expected real ones.",
                            [f"the largest imaginary part is {np.max(np.abs(got.imag)):.3g}", where])
        err = float(np.max(np.abs(got - want)))
        f32_tol = dict(rtol=max(rtol, FLOAT32_RTOL), atol=max(atol, FLOAT32_RTOL * scale))
        if not low and np.allclose(got, want, **f32_tol):
            # a float64 result off by about float32 rounding: most likely computed in float32 and converted back
            if float32_ok:
                return _AT_FLOAT32
            return Feedback(False, f"`{name}` is right to float32 precision only: the largest absolute error is "
                                   f"{err:.3g} on test case {i + 1}, the check needs float64 accuracy. If you computed "
                                   f"in float32 (torch's default dtype), compute in float64; if not, look for a "
                                   f"small slip.", [where])
        if not low and float32_ok:                  # a known mistake computed partly in float32
            hinted = _match_hint(got, args, i, hints, **f32_tol)
            if hinted is not None:
                return hinted
        bad = ~np.isclose(got, want, rtol=rtol, atol=atol)
    details = [where]
    if low:
        details.append("your result is float32; even allowing for float32 rounding it is off")
    return Feedback(False, f"`{name}` gives wrong values on test case {i + 1}: {_mismatch(want, got, bad)}. "
                           f"The largest absolute error is {err:.3g}.", details)


def _match_hint(got: np.ndarray, args: tuple, i: int, hints: Sequence[tuple[Callable, str]], *,
                rtol: float, atol: float) -> Feedback | None:
    """The feedback of the first hint whose wrong answer ``got`` reproduces on this case; None if none does."""
    for wrong_fn, message in hints:
        try:
            wrong = _to_numpy(wrong_fn(*args))
            if wrong.shape == got.shape and np.allclose(got, wrong, rtol=rtol, atol=atol):
                return Feedback(False, message, [f"test case {i + 1}"])
        except Exception:  # noqa: BLE001  a hint that does not apply to this case
            continue
    return None


def _cases(make: Callable[[np.random.Generator], tuple], n: int = 5, seed: int = 0) -> list:
    rng = numpy_rng(seed)
    return [make(rng) for _ in range(n)]


def _as_number(answer) -> tuple[float | None, str]:
    """``answer`` as one real float, or (None, what it is instead). Accepts Python, NumPy and torch scalars."""
    if callable(answer) or isinstance(answer, (str, bytes, bool, np.bool_, dict, set)):
        return None, _a(type(answer).__name__)
    try:
        if _is_tensor(answer):
            answer = _to_numpy(answer)
        if np.ndim(answer) != 0:
            return None, _describe(answer)
        if np.iscomplexobj(answer):
            return None, f"a complex number, {complex(answer):g}"
        return float(np.asarray(answer).item() if isinstance(answer, np.ndarray) else answer), ""
    except Exception:  # noqa: BLE001  anything float() cannot read
        return None, _a(type(answer).__name__)


def check_value(answer, expected: float, *, name: str, rtol: float = 1e-3, hint: str = "") -> Feedback:
    """Compare a number the reader computed with the expected value."""
    if answer is None:
        return Feedback(False, f"`{name}` is still None: compute it and run the check again.")
    a, what = _as_number(answer)
    if a is None:
        return Feedback(False, f"`{name}` must be a number, got {what}.")
    if np.isclose(a, expected, rtol=rtol, atol=0):
        return Feedback(True, f"`{name}` = {a:.6g} is right.")
    return Feedback(False, f"`{name}` = {a:.6g} is not right." + (f" {hint}" if hint else ""))
