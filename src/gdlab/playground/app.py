"""The playground's web app: a Starlette ASGI app, one websocket per browser tab.

Routes: ``/`` the page, ``/static/*`` its script and style (shipped in this package),
``/vendor/plotly.min.js`` (Plotly's JavaScript, served from the installed ``plotly`` Python
package: nothing comes from a CDN), ``/ws`` the session.

Every websocket is one tab's session (``Tab``): its own network, its own play loop, nothing
shared with other tabs. The computation (paths, training, boundaries) is gdlab in Python, run
in a worker thread so the server keeps answering other tabs; the page only draws.

The protocol (JSON both ways):

- page → server: ``{"type": "surface", "seq": n, "settings": {...}}``;
  ``{"type": "network", "action": "configure" | "play" | "pause" | "step" | "reset",
  "settings": {...}}``; ``{"type": "drawn"}`` after a frame is on screen (the server sends the
  next frame only then, so frames never queue up behind a slow page).
- server → page: ``contour``, ``paths`` (with ``seq``), ``network_data``, ``frame``,
  ``state`` (playing or not, and why it stopped), ``error`` (a message to show; the session
  goes on).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
from pathlib import Path
from typing import Any

from gdlab.playground import _uses
from gdlab.playground.network import ACTIVATIONS, BATCH_MODES, NetworkSession, NetworkSettings
from gdlab.playground.optimizers import optimizer_names
from gdlab.playground.settings import SettingsError
from gdlab.playground.surface import (
    DEFAULT_OPTIMIZERS,
    SurfaceSettings,
    contour_message,
    function_names,
    paths_message,
)

__all__ = ["STATIC_DIR", "Tab", "catalog_message", "create_app", "plotly_js_path"]

STATIC_DIR = Path(__file__).parent / "static"
MIN_FRAME_SECONDS = 1 / 30  # the play loop never sends more than 30 frames per second
DRAWN_TIMEOUT = 5.0  # a page that stops acknowledging frames does not stall the loop forever
EXTRA_HINT = "the playground needs its extra: pip install 'gdlab[playground]'"


def plotly_js_path() -> Path:
    """plotly.min.js inside the installed ``plotly`` package (its Python wheel ships it)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise ImportError(f"plotly is not installed; {EXTRA_HINT}")
    path = Path(spec.origin).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise ImportError(f"plotly.min.js not found in {path.parent}; {EXTRA_HINT}")
    return path


def catalog_message() -> dict[str, Any]:
    """What the page builds its controls from: functions, optimizers and their defaults."""
    names = optimizer_names()
    return {
        "type": "hello",
        "functions": [
            {"name": n, "description": _uses.get_function(n).description} for n in function_names()
        ],
        "optimizers": [{"name": n, "lr": _uses.OPTIMIZERS[n].lr} for n in names],
        "surface_defaults": [{"name": c.name, "lr": c.lr} for c in DEFAULT_OPTIMIZERS],
        "optimizer_names": names,
        "activations": list(ACTIVATIONS),
        "batch_modes": list(BATCH_MODES),
    }


async def _in_thread(func: Any, *args: Any) -> Any:
    import anyio.to_thread

    return await anyio.to_thread.run_sync(func, *args)


class Tab:
    """One browser tab: its surfaces state, its network session and the play loop."""

    def __init__(self, websocket: Any) -> None:
        self.websocket = websocket
        self.function_sent: str | None = None
        self.network: NetworkSession | None = None
        self.player: asyncio.Task | None = None
        self.playing = False
        self.stop_reason = "paused"
        self.drawn = asyncio.Event()
        self.send_lock = asyncio.Lock()
        self.net_lock = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        async with self.send_lock:
            await self.websocket.send_text(json.dumps(message, allow_nan=False))

    async def error(self, view: str, message: str, **extra: Any) -> None:
        await self.send({"type": "error", "view": view, "message": message, **extra})

    # ------------------------------------------------------------------ surfaces
    async def surface(self, message: dict[str, Any]) -> None:
        seq = message.get("seq")
        try:
            settings = SurfaceSettings.from_json(message.get("settings", {}))
        except SettingsError as exc:
            await self.error("surface", str(exc), seq=seq)
            return
        if settings.function != self.function_sent:
            await self.send(await _in_thread(contour_message, settings.function))
            self.function_sent = settings.function
        await self.send(await _in_thread(paths_message, settings) | {"seq": seq})

    # ------------------------------------------------------------------ networks
    async def _send_frame(self) -> None:
        assert self.network is not None
        await self.send(await _in_thread(self.network.frame))

    async def _new_network(self, settings: NetworkSettings) -> None:
        self.network = await _in_thread(NetworkSession, settings)
        await self.send(self.network.data_message())
        await self._send_frame()

    async def network_action(self, message: dict[str, Any]) -> None:
        action = message.get("action")
        if action == "configure" or self.network is None:
            settings = NetworkSettings.from_json(message.get("settings", {}))
            async with self.net_lock:
                if self.network is None:
                    await self._new_network(settings)
                else:
                    fresh = await _in_thread(self.network.configure, settings)
                    if fresh is not self.network:
                        await self._new_network(settings)
        if action == "play":
            self.play()
        elif action == "pause":
            await self.pause("paused")
        elif action == "reset":
            await self.pause("reset")
            async with self.net_lock:
                await self._new_network(self.network.settings)
        elif action == "step" and not self.playing:
            async with self.net_lock:
                await _in_thread(self.network.advance, self.network.settings.steps_per_frame)
                await self._send_frame()
        elif action not in ("configure", "play", "pause", "reset", "step"):
            raise SettingsError(f"unknown network action {action!r}")

    def play(self) -> None:
        if self.player is None or self.player.done():
            self.playing = True
            self.player = asyncio.create_task(self._play())

    async def pause(self, reason: str) -> None:
        """Stop the play loop after its current frame (it then says so, with ``reason``).

        A flag, not ``Task.cancel()``: the loop may be waiting for a worker thread, which a
        cancellation cannot interrupt, and the receive loop must not wait for it either.
        """
        if self.player is not None and not self.player.done():
            self.playing = False
            self.stop_reason = reason
            self.drawn.set()
        else:
            await self.send({"type": "state", "playing": False, "reason": reason})

    async def _play(self) -> None:
        await self.send({"type": "state", "playing": True, "reason": "play"})
        loop = asyncio.get_running_loop()
        self.stop_reason = "paused"
        try:
            while self.playing:
                t0 = loop.time()
                self.drawn.clear()
                async with self.net_lock:  # a reset waits for this frame, so it comes after it
                    network = self.network
                    await _in_thread(network.advance, network.settings.steps_per_frame)
                    await self.send(await _in_thread(network.frame))
                if network.finished:
                    self.stop_reason = "diverged"
                    break
                if not self.playing:
                    break
                try:
                    await asyncio.wait_for(self.drawn.wait(), DRAWN_TIMEOUT)
                except asyncio.TimeoutError:
                    pass
                await asyncio.sleep(max(0.0, MIN_FRAME_SECONDS - (loop.time() - t0)))
            self.playing = False
            await self.send({"type": "state", "playing": False, "reason": self.stop_reason})
        except Exception:  # the tab closed mid-frame: nothing left to tell
            self.playing = False

    # ------------------------------------------------------------------ dispatch
    async def handle(self, text: str) -> None:
        try:
            message = json.loads(text)
            if not isinstance(message, dict):
                raise SettingsError(f"a message must be a JSON object, got {text[:80]!r}")
        except json.JSONDecodeError as exc:
            await self.error("any", f"not JSON: {exc}")
            return
        kind = message.get("type")
        try:
            if kind == "surface":
                await self.surface(message)
            elif kind == "network":
                await self.network_action(message)
            elif kind == "drawn":
                self.drawn.set()
            else:
                raise SettingsError(f"unknown message type {kind!r}")
        except SettingsError as exc:
            await self.error(kind if isinstance(kind, str) else "any", str(exc))
        except Exception as exc:  # the tab must survive anything a page can send
            await self.error(
                kind if isinstance(kind, str) else "any", f"{type(exc).__name__}: {exc}"
            )

    async def close(self) -> None:
        self.playing = False
        self.drawn.set()


def create_app() -> Any:
    """The Starlette app (``uvicorn`` serves it; ``gdlab playground`` does both)."""
    try:
        from starlette.applications import Starlette
        from starlette.responses import FileResponse, Response
        from starlette.routing import Mount, Route, WebSocketRoute
        from starlette.staticfiles import StaticFiles
        from starlette.websockets import WebSocketDisconnect
    except ImportError as exc:
        raise ImportError(f"{exc}; {EXTRA_HINT}") from None
    plotly_js = plotly_js_path()

    async def index(request: Any) -> Any:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-store"})

    async def vendor_plotly(request: Any) -> Any:
        return FileResponse(plotly_js, headers={"Cache-Control": "max-age=86400"})

    async def no_icon(request: Any) -> Any:
        return Response(status_code=204)

    async def session(websocket: Any) -> None:
        await websocket.accept()
        tab = Tab(websocket)
        await tab.send(catalog_message())
        try:
            while True:
                await tab.handle(await websocket.receive_text())
        except WebSocketDisconnect:
            pass
        finally:
            await tab.close()

    routes = [
        Route("/", index),
        Route("/vendor/plotly.min.js", vendor_plotly),
        Route("/favicon.ico", no_icon),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
        WebSocketRoute("/ws", session),
    ]
    return Starlette(routes=routes)
