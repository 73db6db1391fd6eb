"""The built website in a real browser (Debian's chromium, driven by Playwright) with the network cut.

Run after the site is built into ``_build/html`` (``make test`` builds it first). For every page in
the table of contents: it loads without console errors or blocked requests to the outside,
math is typeset (no raw ``$$`` or ``\\(`` left), every image has loaded, every interactive scrubber
changes its frame when a control moves, and exercise solutions stay hidden until clicked. At a desktop width
(1280 px) every display equation fits its column; on a phone (390 px) an equation or a table may scroll
sideways but is never cut.
"""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")

pytestmark = pytest.mark.browser


def toc_pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part.get("chapters", [])]
    return [f + ".html" for f in files]


@pytest.fixture(scope="module")
def server():
    if not (SITE / "index.html").exists():
        pytest.fail("the site is not built: run `make book` (or the README's test command) first")
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium not found at {CHROMIUM}: install Debian's chromium (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


def open_page(browser, server, path, width: int = 1280):
    ctx = browser.new_context(viewport={"width": width, "height": 900})
    page = ctx.new_page()
    errors, blocked = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r):
        url = r.request.url
        if url.startswith(server) or url.startswith("data:"):
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    page.route("**/*", route)
    page.goto(f"{server}/{path}", wait_until="load")
    return ctx, page, errors, blocked


@pytest.mark.parametrize("path", toc_pages())
def test_page(browser, server, path):
    ctx, page, errors, blocked = open_page(browser, server, path)
    try:
        # math: wait until MathJax has typeset every math element on the page
        n_math = page.locator(".math").count()
        if n_math:
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise"
                                   " && document.querySelectorAll('mjx-container').length > 0", timeout=20000)
            page.evaluate("() => MathJax.startup.promise")
            n_typeset = page.locator("mjx-container").count()
            assert n_typeset >= n_math, f"{path}: {n_typeset} typeset of {n_math} math elements"
        text = page.evaluate("""() => { const main = document.querySelector('main') || document.body;
            const c = main.cloneNode(true); c.querySelectorAll('pre, code, script, style, mjx-container, .highlight')
            .forEach(e => e.remove()); return c.innerText; }""")
        assert "$$" not in text and "\\(" not in text and "\\[" not in text, f"{path}: raw LaTeX left on the page"
        # images
        page.wait_for_load_state("networkidle")
        broken = page.evaluate("""() => Array.from(document.images)
            .filter(i => !(i.complete && i.naturalWidth > 0)).map(i => (i.src || '').slice(0, 80))""")
        assert not broken, f"{path}: images that did not load: {broken}"
        # interactive scrubbers
        for k in range(page.locator(".rnnlib-explorer").count()):
            root = page.locator(".rnnlib-explorer").nth(k)
            img = root.locator("img.rnnlib-frame")
            controls = root.locator("[data-control]")
            assert controls.count() >= 1
            for c in range(controls.count()):
                ctl = controls.nth(c)
                before = img.get_attribute("data-key"), img.get_attribute("src")
                tag = ctl.evaluate("e => e.tagName")
                if tag == "SELECT":
                    options = ctl.locator("option")
                    if options.count() < 2:
                        continue
                    current = ctl.input_value()
                    other = next(options.nth(i).get_attribute("value") for i in range(options.count())
                                 if options.nth(i).get_attribute("value") != current)
                    ctl.select_option(other)
                else:
                    hi = int(ctl.get_attribute("max"))
                    if hi < 1:
                        continue
                    new = 0 if int(ctl.input_value()) != 0 else hi
                    ctl.fill(str(new))  # sets the value and fires input/change
                after = img.get_attribute("data-key"), img.get_attribute("src")
                assert after[0] != before[0], f"{path}: scrubber {k} control {c} did not change the frame key"
                assert after[1] != before[1], f"{path}: scrubber {k} control {c} did not change the image"
        # solutions: hidden until their toggle is clicked
        sols = page.locator("div.solution")
        for s in range(sols.count()):
            sol = sols.nth(s)
            body = sol.locator(".admonition-title ~ *, section").first
            assert not body.is_visible(), f"{path}: solution {s} is visible before it is clicked"
            # click the toggle button (the middle of the title holds a link to the exercise)
            button = sol.locator("button.toggle-button")
            (button.first if button.count() else sol.locator(".admonition-title").first).click()
            page.wait_for_timeout(350)
            assert body.is_visible(), f"{path}: solution {s} did not open when clicked"
        assert not blocked, f"{path}: the page asked for outside resources: {blocked[:5]}"
        assert not errors, f"{path}: console errors: {errors[:5]}"
    finally:
        ctx.close()


# Every display equation and table on a page, with the width its content needs, the width it has, and whether the
# nearest ancestor that limits it scrolls (overflow-x auto/scroll) or clips (hidden/clip, or the page edge).
_MEASURE = """() => {
  const out = [];
  const items = [...document.querySelectorAll('main mjx-container[display="true"]')]
      .map(e => ['equation', e, e.querySelector('mjx-math') || e])
      .concat([...document.querySelectorAll('main table')].map(t => ['table', t, t]));
  items.forEach(([kind, el, content], i) => {
    if (el.getClientRects().length === 0) return;                  // not shown (a collapsed solution)
    const need = Math.max(content.scrollWidth, content.getBoundingClientRect().width);
    let limit = null, scrolls = false;
    for (let a = (kind === 'equation' ? el : el.parentElement); a && a !== document.body; a = a.parentElement) {
      const s = getComputedStyle(a).overflowX;
      if (s === 'auto' || s === 'scroll') { limit = a; scrolls = true; break; }
      if (s === 'hidden' || s === 'clip') { limit = a; break; }
    }
    const r = el.getBoundingClientRect();
    const room = limit ? limit.clientWidth : document.documentElement.clientWidth - Math.max(r.left, 0);
    let tex = '';
    try { tex = MathJax.startup.document.getMathItemsWithin(el)[0].math; } catch (e) { tex = el.textContent; }
    out.push({kind, i, need: Math.round(need), room: Math.round(room), scrolls, text: tex.slice(0, 90)});
  });
  return out;
}"""


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("path", toc_pages())
def test_no_equation_or_table_is_cut(browser, server, path, width):
    ctx, page, errors, blocked = open_page(browser, server, path, width=width)
    try:
        if page.locator(".math").count():
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20000)
            page.evaluate("() => MathJax.startup.promise")
        items = page.evaluate(_MEASURE)
        # cut: wider than its room, and nothing to scroll it with
        cut = [x for x in items if x["need"] > x["room"] + 1 and not x["scrolls"]]
        assert not cut, f"{path} at {width} px: cut off: {cut[:4]}"
        if width >= 1280:  # a desktop reader never has to scroll an equation sideways
            wide = [x for x in items if x["kind"] == "equation" and x["need"] > x["room"] + 1]
            assert not wide, f"{path} at {width} px: equations wider than the column: {wide[:6]}"
    finally:
        ctx.close()


@pytest.mark.parametrize("path", toc_pages())
def test_page_within_the_size_budget(path):
    """Every page with the images it loads stays under the book's budget (benchmarks/report.py measures the same)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("report", ROOT / "benchmarks" / "report.py")
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    if not (SITE / path).exists():
        pytest.fail("the site is not built: run `make book` first")
    size_mb = report.page_bytes(path[:-len(".html")]) / 2**20
    assert size_mb <= report.BUDGET["page_mb"], f"{path}: {size_mb:.2f} MB, over the {report.BUDGET['page_mb']} MB budget"


@pytest.mark.parametrize("path", toc_pages())
def test_markdown_output_is_rendered(path):
    """A cell that returns Markdown (``IPython.display.Markdown``, e.g. a results table) shows as a table, not as
    its raw pipes: the build parses Markdown outputs with MyST (``nb_render_markdown_format``), not CommonMark."""
    import re

    if not (SITE / path).exists():
        pytest.fail("the site is not built: run `make book` first")
    html = re.sub(r"<pre\b.*?</pre>", " ", (SITE / path).read_text(), flags=re.S)     # code may hold "|---|"
    text = re.sub(r"<[^>]+>", " ", html)
    raw = re.findall(r"\|\s*[-\u2013\u2014]+:?\s*\|", text)     # "|---|", or "|—|" after smart quotes
    assert not raw, f"{path}: {len(raw)} Markdown table rule(s) left as raw text, e.g. {raw[0]!r}"
