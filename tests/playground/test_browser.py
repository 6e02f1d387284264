"""The playground in a real headless Chromium (Debian's, driven by Playwright; no browser is
downloaded): each view opened, a slider moved, a start point clicked, play pressed, and what
the page shows checked against gdlab: the paths' end points equal ``gdlab surface``'s and
``run_trajectory``'s, the loss curve falls, a huge learning rate and a 10,000-neuron layer
get their messages and the app goes on. One screenshot per view is saved (into docs/img/
with GDLAB_SCREENSHOTS=docs).

Skips only where chromium (or the playground's packages) is absent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
sync_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from gdlab.lab import run_trajectory  # noqa: E402
from gdlab.playground.server import start_server  # noqa: E402

# The screenshots a person looks at: into docs/img with GDLAB_SCREENSHOTS=docs (what README
# shows), else beside the test's other temporaries so a test run leaves the checkout clean.
DOCS_IMG = (
    Path(__file__).resolve().parents[2] / "docs" / "img"
    if os.environ.get("GDLAB_SCREENSHOTS") == "docs"
    else Path(tempfile.gettempdir()) / "gdlab-screenshots"
)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update",
         "--disable-sync"]  # fmt: skip
TIMEOUT_MS = 30_000
SETTLED = """() => { const s = window.gdlabPlayground && window.gdlabPlayground.surface;
  return Boolean(s && s.result && !s.inFlight && !s.dirty && s.changeAt === null); }"""


@pytest.fixture(scope="module")
def server():
    running = start_server()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser():
    # Playwright gives every launch a new empty profile (its own --user-data-dir)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 950})
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    errors = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert not errors, errors


def open_surface(page, server, query=""):
    page.goto(f"http://{server.host}:{server.port}/{query}")
    page.wait_for_function(SETTLED)


def end_points(page):
    """{optimizer: (x, y)} from the results table's full-precision attributes."""
    rows = page.query_selector_all("#s-results tbody tr")
    return {
        r.get_attribute("data-optimizer"): (float(r.get_attribute("data-x")),
                                            float(r.get_attribute("data-y")))
        for r in rows
    }  # fmt: skip


def url_state(page):
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def test_surface_end_points_equal_gdlab_surface(page, server, tmp_path, capsys):
    from gdlab.cli import main

    open_surface(page, server, "?fn=ravine&steps=100&opt=sgd:0.1,momentum:0.1,adam:0.1")
    assert page.input_value("#s-function") == "ravine"
    shown = end_points(page)
    argv = ["surface", "--function", "ravine", "--optimizers", "sgd", "momentum", "adam",
            "--lr", "0.1", "--steps", "100", "--no-gif", "--format", "json",
            "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    assert shown == {r["optimizer"]: (r["final_x"], r["final_y"]) for r in results}


def test_surface_slider_click_and_play(page, server):
    open_surface(page, server)
    page.focus("#s-momentum")
    for _ in range(10):  # a person pressing ← on the slider: 0.90 → 0.80
        page.keyboard.press("ArrowLeft")
    page.wait_for_function(SETTLED)
    page.click("#s-contour", position={"x": 150, "y": 330})  # a start point in the valley
    page.wait_for_function(SETTLED)
    state = url_state(page)
    assert state["mom"] == "0.8"
    start = tuple(float(v) for v in state["start"].split(","))
    assert page.inner_text("#s-start") == f"({start[0]:g}, {start[1]:g})"
    extra = {"momentum": {"momentum": 0.8}, "nesterov": {"momentum": 0.8},
             "adam": {"betas": (0.9, 0.999)}}  # fmt: skip
    shown = end_points(page)
    assert list(shown) == ["sgd", "momentum", "nesterov", "rmsprop", "adam"]
    for spec in state["opt"].split(","):
        name, lr = spec.split(":")
        ref = run_trajectory("rosenbrock", name, start, 300, float(lr), **extra.get(name, {}))
        assert shown[name] == tuple(ref.final_point), name
    assert "redrawn" in page.inner_text("#s-timing")
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_IMG / "playground_surface.png"))
    page.click("#s-reset")
    assert page.inner_text("#s-counter") == "0"
    page.click("#s-step")
    assert page.inner_text("#s-counter") == "1"
    page.click("#s-play")
    page.wait_for_function("() => Number(document.getElementById('s-counter').textContent) > 20")
    page.click("#s-play")  # pause
    paused_at = page.inner_text("#s-counter")
    page.wait_for_timeout(300)
    assert page.inner_text("#s-counter") == paused_at and int(paused_at) < 300


def test_surface_huge_lr_shows_the_divergence_and_nan_is_refused(page, server):
    open_surface(page, server)
    page.fill("#s-lr-sgd", "1e9")
    page.press("#s-lr-sgd", "Enter")
    page.wait_for_function(SETTLED)
    message = page.inner_text("#message")
    assert message.startswith("sgd (lr 1e+09) diverged at step 1: its learning rate is too large")
    row = page.query_selector("#s-results tr[data-optimizer=sgd]")
    assert "diverged at step 1" in row.inner_text()
    page.fill("#s-lr-sgd", "nan")
    page.press("#s-lr-sgd", "Enter")
    page.wait_for_function("() => document.getElementById('message').textContent.includes('nan')")
    assert "lr of sgd must be a finite number, got 'nan'" in page.inner_text("#message")
    page.fill("#s-lr-sgd", "0.002")  # the app goes on: a good value is computed again
    page.press("#s-lr-sgd", "Enter")
    page.wait_for_function(SETTLED)
    assert page.is_hidden("#message")
    row = page.query_selector("#s-results tr[data-optimizer=sgd]")
    assert re.search(r"\b0\.002\b", row.inner_text())


def open_network(page, server, query=""):
    page.goto(f"http://{server.host}:{server.port}/?view=network{query}")
    page.wait_for_function("() => document.getElementById('n-stats-a').textContent.length > 0")


def test_network_trains_loss_falls_and_both_configurations_draw(page, server):
    open_network(page, server, "&cmp=1&b.opt=sgd&b.lr=0.3")
    assert page.is_visible("#n-boundary-b")
    page.select_option("#n-spf", "10")
    page.wait_for_function("() => window.gdlabPlayground.network.history.length === 1")
    page.click("#n-play")
    page.wait_for_function("() => Number(document.getElementById('n-counter').textContent) >= 200")
    page.click("#n-play")  # pause
    page.wait_for_function("() => !window.gdlabPlayground.network.playing")
    history = page.evaluate("() => window.gdlabPlayground.network.history")
    for run in range(2):
        first, last = history[0][run], history[-1][run]
        assert last["train"] < 0.5 * first["train"], (run, first, last)
        assert last["test"] < 0.8 * first["test"], (run, first, last)
    plotted = page.evaluate("() => document.getElementById('n-loss').data[0].y")
    assert plotted[-1] < 0.5 * plotted[0]  # the drawn curve falls too
    speed = page.evaluate("() => window.gdlabPlayground.stats")
    assert speed["networkFps"] > 0 and speed["networkStepsPerSecond"] > 0
    assert "test acc" in page.inner_text("#n-stats-a")
    assert url_state(page)["cmp"] == "1"
    page.screenshot(path=str(DOCS_IMG / "playground_network.png"))


def test_network_huge_lr_and_huge_layer_get_messages_and_the_app_goes_on(page, server):
    open_network(page, server)
    page.select_option("#n-a-optimizer", "sgd")
    page.fill("#n-a-lr", "1e9")
    page.press("#n-a-lr", "Enter")
    page.wait_for_function("() => window.gdlabPlayground.network.history.length === 1")
    page.click("#n-play")
    page.wait_for_function("() => document.getElementById('message').textContent.includes('A div')")
    assert "A diverged at step 1" in page.inner_text("#message")
    assert "lr 1e+09 is too large" in page.inner_text("#n-stats-a")
    page.fill("#n-a-hidden", "10000")
    page.press("#n-a-hidden", "Enter")
    page.wait_for_function("() => document.getElementById('message').textContent.includes('256')")
    assert "hidden layer 1 must lie in [1, 256], got 10000" in page.inner_text("#message")
    page.fill("#n-a-hidden", "8,8")
    page.fill("#n-a-lr", "0.03")
    page.press("#n-a-lr", "Enter")
    page.wait_for_function("() => document.getElementById('message').hidden")
    page.click("#n-step")
    page.wait_for_function("() => document.getElementById('n-counter').textContent === '3'")


def test_two_tabs_are_independent(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 950})
    try:
        one, two = context.new_page(), context.new_page()
        for pg in (one, two):
            pg.set_default_timeout(TIMEOUT_MS)
            open_network(pg, server)
        one.click("#n-step")
        one.click("#n-step")
        one.wait_for_function("() => document.getElementById('n-counter').textContent === '6'")
        assert two.inner_text("#n-counter") == "0"
        two.click("#n-step")
        two.wait_for_function("() => document.getElementById('n-counter').textContent === '3'")
        assert one.inner_text("#n-counter") == "6"
    finally:
        context.close()
