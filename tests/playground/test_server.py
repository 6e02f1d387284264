"""The server over a real websocket: the protocol, bad input answered with a message while
the session goes on, tabs that do not share state, the page and its assets served offline,
and the ``gdlab playground`` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
websockets_sync = pytest.importorskip("websockets.sync.client")

from gdlab.playground.server import page_url, start_server  # noqa: E402


@pytest.fixture(scope="module")
def server():
    running = start_server()
    yield running
    running.stop()


class Tab:
    """A websocket client speaking the page's protocol."""

    def __init__(self, ws):
        self.ws = ws
        self.hello = self.receive()

    def send(self, **message):
        self.ws.send(json.dumps(message))

    def receive(self):
        return json.loads(self.ws.recv(timeout=30))

    def until(self, kind):
        """Messages up to and including the first of type ``kind``."""
        seen = []
        while not seen or seen[-1]["type"] != kind:
            seen.append(self.receive())
        return seen


def connect(server):
    return websockets_sync.connect(f"ws://{server.host}:{server.port}/ws", open_timeout=10)


@pytest.fixture
def tab(server):
    with connect(server) as ws:
        yield Tab(ws)


def get(server, path):
    with urllib.request.urlopen(f"http://{server.host}:{server.port}{path}", timeout=30) as r:
        return r.status, r.headers.get("content-type", ""), r.read()


def test_page_and_assets_are_served_locally(server):
    status, kind, body = get(server, "/")
    assert status == 200 and "text/html" in kind
    assert b'src="/vendor/plotly.min.js"' in body and b"http" not in body.split(b"<body>")[0]
    status, kind, body = get(server, "/vendor/plotly.min.js")
    assert status == 200 and len(body) > 1_000_000 and b"plotly" in body[:2000].lower()
    assert get(server, "/static/app.js")[0] == 200


def test_hello_lists_functions_and_optimizers(tab):
    names = [f["name"] for f in tab.hello["functions"]]
    assert "rosenbrock" in names and "rastrigin" in names and "bowl_noisy" in names
    assert [o["name"] for o in tab.hello["optimizers"]][:3] == ["sgd", "momentum", "nesterov"]


def test_surface_round_trip_contour_then_paths(tab):
    tab.send(type="surface", seq=1, settings={"function": "beale", "steps": 20})
    contour, paths = tab.until("paths")
    assert contour["type"] == "contour" and contour["function"] == "beale"
    assert paths["seq"] == 1 and len(paths["paths"]) == 5 and len(paths["paths"][0]["x"]) == 21
    tab.send(type="surface", seq=2, settings={"function": "beale", "steps": 30})
    (again,) = tab.until("paths")  # same function: no second contour
    assert again["seq"] == 2


@pytest.mark.parametrize(
    "message, expected",
    [
        ({"type": "surface", "settings": {"optimizers": [{"name": "sgd", "lr": "nan"}]}},
         "lr of sgd must be a finite number"),
        ({"type": "network", "action": "configure", "settings": {"models": [{"hidden": [10000]}]}},
         "hidden layer 1 must lie in [1, 256], got 10000"),
        ({"type": "network", "action": "dance"}, "unknown network action 'dance'"),
        ({"type": "teleport"}, "unknown message type 'teleport'"),
    ],
)  # fmt: skip
def test_bad_input_gets_a_message_and_the_session_goes_on(tab, message, expected):
    tab.send(**message)
    (error,) = tab.until("error")[-1:]
    assert expected in error["message"]
    tab.send(type="surface", seq=9, settings={"function": "bowl", "steps": 5})
    assert tab.until("paths")[-1]["seq"] == 9


def test_not_json_is_answered(tab):
    tab.ws.send("{not json")
    assert tab.until("error")[-1]["message"].startswith("not JSON")


def test_network_play_streams_frames_until_paused(tab):
    tab.send(type="network", action="configure", settings={"steps_per_frame": 5})
    data, first = tab.until("frame")
    assert data["type"] == "network_data" and first["runs"][0]["step"] == 0
    tab.send(type="network", action="play")
    steps = []
    while len(steps) < 4:
        message = tab.receive()
        if message["type"] == "frame":
            steps.append(message["runs"][0]["step"])
            tab.send(type="drawn")
    assert steps == [5, 10, 15, 20]
    tab.send(type="network", action="pause")
    state = [m for m in tab.until("state") if m["type"] == "state"][-1]
    assert state == {"type": "state", "playing": False, "reason": "paused"}


def test_network_divergence_stops_the_loop_with_a_reason(tab):
    tab.send(type="network", action="configure",
             settings={"models": [{"optimizer": "sgd", "lr": 1e9}]})  # fmt: skip
    tab.until("frame")
    tab.send(type="network", action="play")
    messages = tab.until("frame")
    assert messages[-1]["runs"][0]["diverged"].startswith("diverged at step")
    assert tab.until("state")[-1] == {"type": "state", "playing": False, "reason": "diverged"}


def test_tabs_are_independent_sessions(server):
    with connect(server) as ws1, connect(server) as ws2:
        one, two = Tab(ws1), Tab(ws2)
        for t, lr in ((one, 0.03), (two, 0.5)):
            t.send(type="network", action="configure", settings={"models": [{"lr": lr}]})
            t.until("frame")
        one.send(type="network", action="step")
        assert one.until("frame")[-1]["runs"][0]["step"] == 3
        two.send(type="network", action="step")
        assert two.until("frame")[-1]["runs"][0]["step"] == 3  # not 6: its own network
        one.send(type="network", action="reset")
        assert one.until("frame")[-1]["runs"][0]["step"] == 0
        two.send(type="network", action="step")
        assert two.until("frame")[-1]["runs"][0]["step"] == 6


def test_page_url_names_the_view():
    assert page_url("127.0.0.1", 8050) == "http://127.0.0.1:8050/"
    assert page_url("::1", 80, "network") == "http://[::1]:80/?view=network"
    with pytest.raises(ValueError, match="view must be one of surface, network, got 'nets'"):
        page_url("127.0.0.1", 1, "nets")


def test_notebook_frame_is_an_iframe_on_a_running_server():
    from gdlab.playground import notebook

    frame = notebook("network", height=500)
    html = frame._repr_html_()
    assert html.startswith('<iframe src="http://127.0.0.1:') and 'height="500"' in html
    assert "?view=network" in frame.url
    with urllib.request.urlopen(frame.url, timeout=30) as r:
        assert r.status == 200


def test_cli_prints_the_url_and_serves():
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gdlab", "playground", "--port", "0", "--view", "network"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        line = proc.stdout.readline()
        assert line.startswith("gdlab playground: serving on http://127.0.0.1:")
        url = line.split(" on ", 1)[1].split(" ", 1)[0]
        assert url.endswith("/?view=network")
        with urllib.request.urlopen(url, timeout=30) as r:
            assert r.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_cli_port_taken_is_exit_1_with_the_reason(server):
    from gdlab.cli import main

    assert main(["playground", "--port", str(server.port)]) == 1


def test_cli_bad_port_is_a_usage_error():
    from gdlab.cli import main

    assert main(["playground", "--port", "70000"]) == 2
