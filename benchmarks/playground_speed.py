"""How immediate the playground feels, measured in headless Chromium (issue 19's targets).

1. Surfaces: a slider change → 5 optimizers × 300 steps recomputed by the server and
   redrawn by the page; the page times it from the slider's ``input`` event to the end of
   the redraw (target ≤ 200 ms). The server's compute time is reported beside it.
2. Networks: a 2-8-8-1 tanh network on 500 spirals points (375 train), full batch, Adam,
   played for a few seconds; the page counts frames drawn and steps trained per second over
   its last 30 frames (targets ≥ 30 steps/s and ≥ 10 frames/s), at 3 and 10 steps per frame.

Not part of ``python -m benchmarks`` (nothing to compare with torch). Needs the playground
extra, Playwright and Debian's chromium. Run: ``python -m benchmarks.playground_speed``.
"""

from __future__ import annotations

import os
import shutil
import statistics
import time

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update",
         "--disable-sync"]  # fmt: skip
SETTLED = """() => { const s = window.gdlabPlayground && window.gdlabPlayground.surface;
  return Boolean(s && s.result && !s.inFlight && !s.dirty && s.changeAt === null); }"""


def surface_latency(page: object, url: str, changes: int = 15) -> dict[str, float]:
    page.goto(url)
    page.wait_for_function(SETTLED)
    for i in range(changes):
        value = f"{0.5 + 0.02 * (i % 20):.2f}"
        move = "(el, v) => { el.value = v; el.dispatchEvent(new Event('input')); }"
        page.eval_on_selector("#s-momentum", move, value)
        page.wait_for_function(SETTLED)
        page.wait_for_timeout(100)
    stats = page.evaluate("() => window.gdlabPlayground.stats")
    latencies = stats["surfaceLatencies"][-changes:]
    computes = stats["surfaceComputeMs"][-changes:]
    return {
        "redraw_median_ms": statistics.median(latencies),
        "redraw_p90_ms": sorted(latencies)[int(0.9 * (len(latencies) - 1))],
        "compute_median_ms": statistics.median(computes),
    }


def network_speed(page: object, url: str, steps_per_frame: int, seconds: float = 6.0) -> dict:
    page.goto(f"{url}?view=network&spf={steps_per_frame}")
    page.wait_for_function("() => window.gdlabPlayground.network.history.length === 1")
    page.click("#n-play")
    page.wait_for_timeout(int(seconds * 1000))
    stats = page.evaluate("() => window.gdlabPlayground.stats")
    page.click("#n-play")
    return {"steps_per_s": stats["networkStepsPerSecond"], "frames_per_s": stats["networkFps"]}


def server_cpu() -> dict[str, float]:
    """The server's share in CPU time of this thread (what a busy machine cannot inflate)."""
    from gdlab.playground.network import NetworkSession, NetworkSettings
    from gdlab.playground.surface import SurfaceSettings, paths_message

    surface = SurfaceSettings()
    paths_message(surface)
    t = time.thread_time()
    for _ in range(5):
        paths_message(surface)
    surface_ms = (time.thread_time() - t) / 5 * 1e3
    net = NetworkSession(NetworkSettings())
    t = time.thread_time()
    net.advance(300)
    step_ms = (time.thread_time() - t) / 300 * 1e3
    t = time.thread_time()
    for _ in range(30):
        net.frame()
    frame_ms = (time.thread_time() - t) / 30 * 1e3
    return {"surface_5x300_ms": surface_ms, "network_step_ms": step_ms,
            "network_frame_ms": frame_ms}  # fmt: skip


def main() -> None:
    from playwright.sync_api import sync_playwright

    from gdlab.playground.server import start_server

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    server = start_server()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 950})
            print(f"load average before: {os.getloadavg()[0]:.1f}")
            print("server CPU time:", {k: round(v, 2) for k, v in server_cpu().items()})
            t0 = time.perf_counter()
            surface = surface_latency(page, server.url)
            print("surfaces, 5 optimizers x 300 steps:", {k: round(v) for k, v in surface.items()})
            for spf in (3, 10):
                speed = network_speed(page, server.url, spf)
                print(f"networks, 2-8-8-1 on 500 points, {spf} steps/frame:",
                      {k: round(v, 1) for k, v in speed.items()})  # fmt: skip
            took = time.perf_counter() - t0
            print(f"load average after: {os.getloadavg()[0]:.1f} ({took:.0f} s)")
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
