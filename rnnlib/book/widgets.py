"""Interactive experiments that work with and without a kernel (every chapter).

``explore(fn, controls)`` is the one call a chapter makes. ``fn(**params)`` draws a matplotlib
figure for one setting of the controls; ``controls`` maps each parameter to the list of values
the reader may pick (numbers get a slider, strings a drop-down).

* At a live kernel (JupyterLab, VS Code, Colab) the reader gets a real ipywidgets control that
  calls ``fn`` on every change.
* On the static website there is no kernel, so the same ``fn`` is evaluated once on the whole
  grid while the book is built, and the page carries the frames with a small, self-contained
  HTML/JavaScript scrubber (no CDN, works offline).

Both views come from one output whose MIME bundle holds the widget view and the HTML fallback;
the book's configuration tells the HTML builder to prefer the fallback. Building every frame also
runs ``fn`` on every grid point, so an error in the callback fails the build. Static frames are drawn at
twice the figures' resolution; a live kernel redraws at the figures' own resolution, about twice as fast.
The time each static frame takes is kept in ``Explorer.latencies_ms``, the time of a live redraw (the
latency a live reader feels) in ``Explorer.live_latencies_ms``; when the environment variable
``RNNLIB_BENCH_LOG`` names a file, both are appended to it for ``benchmarks/``.
"""
from __future__ import annotations

import base64
import html
import io
import itertools
import json
import math
import os
import time
import uuid
from typing import Callable

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from rnnlib.book.figures import STYLE

_COUNTER = itertools.count()
# The resolution the book's static figures are shown at (rnnlib.book.figures.STYLE["savefig.dpi"]); frames are
# drawn at twice it and shown at its size.
DISPLAY_DPI = STYLE["savefig.dpi"]

# The most frames one explorer may draw. Every grid point is a frame drawn while the book builds (tens of ms
# each) and carried by the static page (about 4 kB each): 400 frames is some 20 s and under 2 MB, while two
# 100-value controls (10,000 frames) would take a quarter of an hour and a page of over 40 MB.
MAX_FRAMES = 400


def _label(v) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.4g}"
    return str(v)


def _share_mathtext_cache() -> None:
    """Let every Agg renderer share one mathtext parser, so its parse cache survives from frame to frame.

    Matplotlib's Agg renderer builds a new ``MathTextParser`` for every figure, and the parser's cache
    is per instance; a frame of an explorer is a new figure, so every ``$...$`` label and every log-axis
    tick label was parsed again (about 10 ms each, half of a frame's time). Sharing one parser makes
    the cache work across frames. Only the Agg renderer's parser factory is replaced; if matplotlib
    changes its internals this silently does nothing.
    """
    try:
        from matplotlib.backends import backend_agg
        from matplotlib.mathtext import MathTextParser

        if backend_agg.MathTextParser is MathTextParser:
            shared: dict = {}
            backend_agg.MathTextParser = lambda output: shared.setdefault(output, MathTextParser(output))
    except Exception:  # pragma: no cover - a different matplotlib: keep its behaviour
        pass


def _is_numeric(values) -> bool:
    return all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in values)


class Explorer:
    """A parameter grid, a drawing function, and the two ways to show it. Build with :func:`explore`."""

    def __init__(self, fn: Callable, controls: dict, *, name: str | None = None, title: str | None = None,
                 dpi: int = 2 * DISPLAY_DPI, alt: str | None = None, colors: int = 32):
        if not callable(fn):
            raise ValueError(f"fn must be callable and return a matplotlib Figure, got {fn!r}")
        if not isinstance(controls, dict) or not controls:
            raise ValueError("controls must be a non-empty dict mapping parameter name -> list of values")
        for key, values in controls.items():
            if not isinstance(key, str) or not key.isidentifier():
                raise ValueError(f"controls must map parameter names of fn (identifiers) to values, got the key {key!r}")
            if not isinstance(values, (list, tuple, np.ndarray)) or len(values) == 0:
                raise ValueError(f"controls[{key!r}] must be a non-empty list of values, got {values!r}")
        n_frames = math.prod(len(v) for v in controls.values())
        if n_frames > MAX_FRAMES:
            sizes = " x ".join(f"{k} ({len(v)} values)" for k, v in controls.items())
            raise ValueError(f"controls must make at most MAX_FRAMES = {MAX_FRAMES} frames (each is drawn while the book "
                             f"builds and stored in the page), got {sizes} = {n_frames} frames; use fewer values")
        if isinstance(dpi, bool) or not isinstance(dpi, (int, np.integer)) or not 10 <= dpi <= 600:
            raise ValueError(f"dpi must be an integer in [10, 600], got {dpi!r}")
        if isinstance(colors, bool) or not isinstance(colors, (int, np.integer)) or not 2 <= colors <= 256:
            raise ValueError(f"colors must be an integer in [2, 256] (the palette of a quantized frame), got {colors!r}")
        for label, text in (("name", name), ("title", title), ("alt", alt)):
            if text is not None and not isinstance(text, str):
                raise ValueError(f"{label} must be a string or None, got {text!r} ({type(text).__name__})")
        self.fn = fn
        self.controls = {k: list(v) for k, v in controls.items()}
        self.name = name or getattr(fn, "__name__", "explorer")
        self.title = title
        self.dpi = dpi
        self.alt = alt or (title or f"Interactive figure: {self.name}")
        self.colors = colors
        self.latencies_ms: list[float] = []        # drawing a static frame (2x)
        self.live_latencies_ms: list[float] = []   # what a live reader waits for (1x, see widget())
        self._frames: dict | None = None
        self._widget = None
        self._layout = None  # (figure size, number of axes, axes positions) from the first frame
        self._bbox = None  # (same key, the first frame's tight bounding box) for figures without a layout engine

    # --- one frame --------------------------------------------------------
    def defaults(self) -> dict:
        """The starting setting: the middle value of every numeric control, the first of the others."""
        return {k: (v[len(v) // 2] if _is_numeric(v) else v[0]) for k, v in self.controls.items()}

    def render(self, *, quantize: bool = False, dpi: int | None = None, **params) -> bytes:
        """Call ``fn(**params)`` and return the figure as PNG bytes (timed).

        A constrained layout costs a full extra draw per figure. Frames of one explorer share their
        layout, so it is computed for the first frame only: later frames with the same size and
        number of axes reuse those axes positions and skip the layout engine (about half the time).
        """
        _share_mathtext_cache()
        t0 = time.perf_counter()
        fig = self.fn(**params)
        if not isinstance(fig, matplotlib.figure.Figure):
            raise TypeError(f"fn must return a matplotlib Figure, got {type(fig).__name__} for {params}")
        key = (tuple(np.round(fig.get_size_inches(), 4)), len(fig.axes))
        laid_out = fig.get_layout_engine() is not None  # otherwise: the first frame's tight bounding box
        reuse = laid_out and self._layout is not None and self._layout[0] == key
        if reuse:
            fig.set_layout_engine("none")
            for ax, pos in zip(fig.axes, self._layout[1]):
                ax.set_position(pos)
        buf = io.BytesIO()
        if laid_out:
            with matplotlib.rc_context({"savefig.bbox": "standard"}):
                fig.savefig(buf, format="png", dpi=dpi or self.dpi)
            if self._layout is None:
                self._layout = (key, [ax.get_position() for ax in fig.axes])
        elif self._bbox is not None and self._bbox[0] == key:
            # the first frame's tight box, reused: no extra draw, and every frame has the same size
            fig.savefig(buf, format="png", dpi=dpi or self.dpi, bbox_inches=self._bbox[1])
        else:
            pad = max(float(matplotlib.rcParams["savefig.pad_inches"]), 0.15)
            self._bbox = (key, fig.get_tightbbox().padded(pad))
            fig.savefig(buf, format="png", dpi=dpi or self.dpi, bbox_inches=self._bbox[1])
        plt.close(fig)
        (self.latencies_ms if dpi in (None, self.dpi) else self.live_latencies_ms).append(
            1000 * (time.perf_counter() - t0))
        png = buf.getvalue()
        if quantize:
            from PIL import Image

            img = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=self.colors)
            out = io.BytesIO()
            img.save(out, format="png", optimize=True)
            png = out.getvalue() if len(out.getvalue()) < len(png) else png
        return png

    # --- the static scrubber ------------------------------------------------
    def frames(self) -> dict:
        """Every grid point as a PNG data URI, keyed by the control indices joined with '-'."""
        if self._frames is None:
            keys = list(self.controls)
            frames = {}
            for idx in itertools.product(*(range(len(self.controls[k])) for k in keys)):
                params = {k: self.controls[k][i] for k, i in zip(keys, idx)}
                png = self.render(quantize=True, **params)
                frames["-".join(map(str, idx))] = "data:image/png;base64," + base64.b64encode(png).decode()
            self._frames = frames
            self.render(dpi=DISPLAY_DPI, **self.defaults())     # one live (1x) render, for the latency log
            self._log()
        return self._frames

    @property
    def n_frames(self) -> int:
        return int(np.prod([len(v) for v in self.controls.values()]))

    def _display_size(self, uri: str) -> str:
        """The <img> width and height that show a frame at the size of the book's static figures (``DISPLAY_DPI``):
        a frame drawn at 2x (dpi 200) is shown at half its pixel size, so its text is as large as in the other
        figures and twice as sharp (crisp on high-density screens)."""
        png = base64.b64decode(uri.split(",", 1)[1][:64])
        w, h = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")   # the PNG header's IHDR chunk
        scale = DISPLAY_DPI / self.dpi
        return f'width="{round(w * scale)}" height="{round(h * scale)}" '

    def html(self) -> str:
        """Self-contained HTML: controls, an image, the frames as JSON, and a few lines of JavaScript."""
        frames = self.frames()
        uid = f"rnnlib-explorer-{next(_COUNTER)}-{uuid.uuid4().hex[:6]}"
        start = self.defaults()
        rows = []
        for key, values in self.controls.items():
            i0 = values.index(start[key])
            esc = html.escape(key)
            if _is_numeric(values):
                rows.append(
                    f'<label class="rnnlib-control">{esc} '
                    f'<input type="range" data-control="{esc}" min="0" max="{len(values) - 1}" step="1" value="{i0}" '
                    f'aria-label="{esc}"> <output>{html.escape(_label(values[i0]))}</output></label>')
            else:
                opts = "".join(f'<option value="{i}"{" selected" if i == i0 else ""}>{html.escape(_label(v))}</option>'
                               for i, v in enumerate(values))
                rows.append(f'<label class="rnnlib-control">{esc} <select data-control="{esc}" aria-label="{esc}">'
                            f'{opts}</select></label>')
        labels = {k: [_label(v) for v in vs] for k, vs in self.controls.items()}
        first = "-".join(str(self.controls[k].index(start[k])) for k in self.controls)
        title = f'<div class="rnnlib-explorer-title"><strong>{html.escape(self.title)}</strong></div>' if self.title else ""
        data = json.dumps({"keys": list(self.controls), "labels": labels, "frames": frames})
        return (
            f'<div class="rnnlib-explorer" id="{uid}" data-frames="{len(frames)}" '
            f'style="border:1px solid #ddd;border-radius:6px;padding:8px;margin:8px 0;max-width:100%">'
            f'{title}<div class="rnnlib-controls" style="display:flex;flex-wrap:wrap;gap:14px;margin-bottom:6px">'
            f'{"".join(rows)}</div>'
            f'<img class="rnnlib-frame" data-key="{first}" src="{frames[first]}" alt="{html.escape(self.alt)}" '
            f'{self._display_size(frames[first])}style="max-width:100%;height:auto">'
            f'<script type="application/json" class="rnnlib-data">{data}</script>'
            "<script>(function(){"
            f'var root=document.getElementById("{uid}");'
            'var d=JSON.parse(root.querySelector("script.rnnlib-data").textContent);'
            'var img=root.querySelector("img.rnnlib-frame");'
            'function update(){var idx=d.keys.map(function(k){'
            'var el=root.querySelector("[data-control=\\""+k+"\\"]");var i=el.value;'
            'var o=el.parentNode.querySelector("output");if(o){o.textContent=d.labels[k][i];}return i;});'
            'var key=idx.join("-");img.src=d.frames[key];img.setAttribute("data-key",key);}'
            'root.querySelectorAll("[data-control]").forEach(function(el){'
            'el.addEventListener("input",update);el.addEventListener("change",update);});'
            "})();</script></div>"
        )

    # --- the live widget ------------------------------------------------------
    def widget(self):
        """An ipywidgets control bound to ``fn`` (needs a running kernel to respond)."""
        import ipywidgets as W
        from IPython.display import Image, display

        start = self.defaults()
        boxes = {}
        for key, values in self.controls.items():
            opts = [(_label(v), v) for v in values]
            cls = W.SelectionSlider if _is_numeric(values) else W.Dropdown
            boxes[key] = cls(options=opts, value=start[key], description=key,
                             style={"description_width": "initial"}, continuous_update=False) \
                if cls is W.SelectionSlider else cls(options=opts, value=start[key], description=key)
        out = W.Output()

        def redraw(**params):
            png = self.render(dpi=DISPLAY_DPI, **params)      # live: 1x, about twice as fast as a 2x frame
            with out:
                out.clear_output(wait=True)
                display(Image(png))

        W.interactive_output(redraw, boxes)
        head = [W.HTML(f"<b>{html.escape(self.title)}</b>")] if self.title else []
        return W.VBox(head + [W.HBox(list(boxes.values())), out])

    def _live_kernel(self) -> bool:
        try:
            from IPython import get_ipython

            ip = get_ipython()
            return ip is not None and getattr(ip, "kernel", None) is not None
        except Exception:
            return False

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {"text/plain": repr(self), "text/html": self.html()}
        if self._live_kernel():
            try:
                if self._widget is None:
                    self._widget = self.widget()
                bundle.update({k: v for k, v in self._widget._repr_mimebundle_().items() if k != "text/plain"})
            except ImportError:
                pass
        return bundle

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}: {len(v)}" for k, v in self.controls.items())
        return f"<Explorer {self.name!r}: {self.n_frames} frames ({sizes})>"

    # --- measurements ---------------------------------------------------------
    def median_latency_ms(self) -> float:
        return float(np.median(self.latencies_ms)) if self.latencies_ms else float("nan")

    def nbytes(self) -> int:
        return sum(len(v) for v in self.frames().values())

    def _log(self):
        path = os.environ.get("RNNLIB_BENCH_LOG")
        if path:
            with open(path, "a") as fh:
                fh.write(json.dumps({"notebook": os.environ.get("RNNLIB_NOTEBOOK", "?"),
                                     "explorer": self.name, "frames": len(self._frames),
                                     "median_ms": self.median_latency_ms(),
                                     "live_ms": float(np.median(self.live_latencies_ms)) if self.live_latencies_ms
                                     else None,
                                     "bytes": sum(len(v) for v in self._frames.values())}) + "\n")


def explore(fn: Callable, controls: dict, *, name: str | None = None, title: str | None = None,
            dpi: int = 2 * DISPLAY_DPI, alt: str | None = None) -> Explorer:
    """Make an interactive experiment. Put the returned object last in a cell to show it.

    ``fn(**params)`` must return a matplotlib Figure; ``controls`` maps every parameter of ``fn``
    to the list of values the reader may choose. Frames are drawn at ``dpi`` (200: twice the book's figure
    resolution, ``DISPLAY_DPI``) and shown at the figures' size, so their text matches the other figures' and stays
    sharp on high-density screens. Keep the grid small (every point becomes a
    frame of the static page; more than ``MAX_FRAMES`` is refused) and ``fn`` fast (it runs on
    every move of a live control).

    All frames are drawn here, eagerly: IPython swallows exceptions raised while an object is being
    displayed, so drawing at display time would let a broken callback pass the build unnoticed.
    """
    ex = Explorer(fn, controls, name=name, title=title, dpi=dpi, alt=alt)
    ex.frames()
    return ex
