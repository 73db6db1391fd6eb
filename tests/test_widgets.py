"""rnnlib.book.widgets: one call gives a live widget and a static, self-contained scrubber of the same frames."""
import json
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest

from rnnlib.book.widgets import Explorer, explore


def draw(scale, kind):
    fig, ax = plt.subplots(figsize=(3, 2))
    x = np.linspace(-2, 2, 20)
    ax.plot(x, np.tanh(scale * x) if kind == "tanh" else scale * x)
    return fig


def test_static_html_has_every_frame_and_distinct_images():
    ex = explore(draw, {"scale": [0.5, 1.0, 2.0], "kind": ["tanh", "linear"]}, title="demo")
    html = ex.html()
    data = json.loads(re.search(r'<script type="application/json" class="rnnlib-data">(.*?)</script>', html).group(1))
    assert data["keys"] == ["scale", "kind"]
    assert len(data["frames"]) == 6 == ex.n_frames
    assert len(set(data["frames"].values())) == 6  # every setting draws something different
    assert 'type="range"' in html and "<select" in html
    assert "http" not in html.replace("http://www.w3.org", "")  # nothing fetched from outside
    # the first frame shown is the default setting (middle of numeric controls)
    assert ex.defaults() == {"scale": 1.0, "kind": "tanh"}
    assert 'data-key="1-0"' in html
    timed = ex.latencies_ms              # one latency per drawn frame (reported by benchmarks/, never compared)
    assert len(timed) == 6
    ex.html()
    timed = ex.latencies_ms
    assert len(timed) == 6  # frames are drawn once


def test_mimebundle_without_kernel_is_html_only():
    ex = explore(draw, {"scale": [1.0, 2.0], "kind": ["tanh"]})
    bundle = ex._repr_mimebundle_()
    assert "text/html" in bundle and "application/vnd.jupyter.widget-view+json" not in bundle


def test_live_widget_calls_fn_with_the_grid_values():
    seen = []

    def fn(a, b):
        seen.append((a, b))
        return draw(a, b)

    ex = Explorer(fn, {"a": [1.0, 3.0], "b": ["tanh", "linear"]})
    w = ex.widget()
    assert len(seen) == 1
    assert seen[-1] == (3.0, "tanh")  # drawn once on creation, at the default setting
    slider, dropdown = w.children[0].children
    slider.value = 1.0
    dropdown.value = "linear"
    assert seen[-1] == (1.0, "linear")


def test_errors_in_the_callback_surface_immediately():
    def bad(scale):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        explore(bad, {"scale": [1, 2]})  # raised by the call itself, not later at display time
    with pytest.raises(TypeError, match="matplotlib Figure"):
        explore(lambda scale: 3, {"scale": [1]})


@pytest.mark.parametrize("controls, match", [({}, "controls"), ({"a": []}, r"controls\['a'\]"),
                                             ({"a": 3}, r"controls\['a'\]")])
def test_bad_controls(controls, match):
    with pytest.raises(ValueError, match=match):
        explore(draw, controls)


def test_bench_log(tmp_path, monkeypatch):
    log = tmp_path / "log.jsonl"
    monkeypatch.setenv("RNNLIB_BENCH_LOG", str(log))
    monkeypatch.setenv("RNNLIB_NOTEBOOK", "book/x")
    explore(draw, {"scale": [1.0, 2.0], "kind": ["tanh"]}, name="demo").html()
    rec = json.loads(log.read_text())
    assert rec["notebook"] == "book/x" and rec["explorer"] == "demo" and rec["frames"] == 2


def test_a_live_kernel_gets_the_widget_and_the_fallback():
    """Execute a cell in a real kernel: the output carries the ipywidgets view and the static HTML."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import matplotlib.pyplot as plt, rnnlib\n"
        "def f(a):\n    fig, ax = plt.subplots(figsize=(2, 2)); ax.plot([0, a]); return fig\n"
        "rnnlib.book.widgets.explore(f, {'a': [1.0, 2.0]})")]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    out = [o for o in nb.cells[0].outputs if o.output_type == "execute_result"][0]
    assert "application/vnd.jupyter.widget-view+json" in out.data
    assert "rnnlib-explorer" in out.data["text/html"]
