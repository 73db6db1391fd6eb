"""The live path, as a reader runs it: JupyterLab from the book's environment, chapter 1 run top to bottom.

Starts ``jupyter lab`` on 127.0.0.1 (a random token, no browser, autosave off) over a temporary copy of
``book/``, so the committed notebooks never receive outputs. Playwright drives Debian's chromium: open
chapter 1, run all cells with the book's kernel, check that every code cell ran and none produced an
error, then move the first live slider of an interactive figure and check that its picture changes.
The server is stopped at the end. About a minute on the 2-core machine.
"""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from test_site import browser  # noqa: F401  (the same headless chromium, network cut, as the site test)

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = "01_rnn_basics.ipynb"

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if shutil.which("jupyter-lab", path=str(Path(sys.executable).parent)) is None:
        pytest.fail("JupyterLab is not installed in this environment: `make venv` installs requirements.txt")
    work = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "book", work / "book")
    # every cell in the page (JupyterLab 4 renders only the visible ones by default), and no autosave
    settings = work / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    docmanager = work / "settings" / "@jupyterlab" / "docmanager-extension"
    docmanager.mkdir(parents=True)
    (docmanager / "plugin.jupyterlab-settings").write_text('{"autosave": false}')
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, RNNLIB_PROGRESS="0", JUPYTER_PLATFORM_DIRS="1",
               JUPYTERLAB_SETTINGS_DIR=str(work / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(work / "ws"),
               JUPYTER_RUNTIME_DIR=str(work / "runtime"))
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work / 'book'}",
           "--ServerApp.open_browser=False", "--LabApp.expose_app_in_browser=True",
           "--ContentsManager.allow_hidden=False"] + (["--allow-root"] if os.geteuid() == 0 else [])
    log = open(work / "lab.log", "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail("jupyter lab exited:\n" + (work / "lab.log").read_text()[-2000:])
                time.sleep(0.5)
        else:
            pytest.fail("jupyter lab did not answer within 60 s:\n" + (work / "lab.log").read_text()[-2000:])
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_chapter_one_runs_in_jupyterlab_and_its_slider_redraws(lab, browser):
    base, token = lab
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    outside = []

    def route(r):
        if r.request.url.startswith(base) or r.request.url.startswith(("data:", "blob:", "ws:")):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(f"{base}/lab/tree/{CHAPTER}?token={token}", wait_until="load")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                           " && window.jupyterapp.shell.currentWidget.sessionContext", timeout=60000)
    # the kernel is the book's own (installed by `make venv`), and it has started
    page.wait_for_function("""() => { const s = window.jupyterapp.shell.currentWidget.sessionContext;
        return s.session && s.session.kernel && s.session.kernel.status === 'idle'; }""", timeout=60000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    # every code cell has an execution count (no "[*]" and no "[ ]" left) and the kernel is idle again
    page.wait_for_function("""() => { const nb = window.jupyterapp.shell.currentWidget;
        const cells = nb.content.model.sharedModel.cells.filter(c => c.cell_type === 'code');
        return cells.length > 0 && cells.every(c => c.execution_count !== null)
            && nb.sessionContext.session.kernel.status === 'idle'; }""", timeout=150000, polling=1000)
    errors = page.evaluate("""() => window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells
        .filter(c => c.cell_type === 'code')
        .flatMap(c => c.outputs.filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue))""")
    assert not errors, f"{CHAPTER} raised in JupyterLab: {errors[:3]}"
    # the interactive figure is a live ipywidgets control here: move its first slider, the picture must change
    handle = page.locator(".jp-OutputArea .widget-slider .noUi-handle").first
    handle.wait_for(state="attached", timeout=30000)
    handle.scroll_into_view_if_needed()
    box = handle.locator("xpath=ancestor::div[contains(@class,'widget-vbox')][1]")
    img = box.locator(".jp-OutputArea img").first
    img.wait_for(timeout=30000)
    before = img.get_attribute("src")
    handle.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("""([el, src]) => { const i = el.querySelector('.jp-OutputArea img');
        return i && i.getAttribute('src') !== src; }""", arg=[box.element_handle(), before], timeout=30000)
    assert not outside, f"JupyterLab asked for outside resources: {outside[:5]}"
    ctx.close()
