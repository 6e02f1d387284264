"""Running the playground: in the foreground (``gdlab playground``), in a background thread
(tests, scripts) or inside a Jupyter notebook.

In a notebook ``notebook()`` starts the same server in a background thread and returns an
object that Jupyter displays as an ``<iframe>`` on it: the same app, the same sessions, no
second implementation and no Jupyter extension to install. The page is fetched by the
browser from ``127.0.0.1``, so this works where the notebook's browser runs on the same
machine as its kernel (a local Jupyter, not a remote JupyterHub).

Example:
    >>> server = start_server(port=0)       # a free port
    >>> server.url
    'http://127.0.0.1:41234/'
    >>> server.stop()
"""

from __future__ import annotations

import html
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from gdlab.playground.app import EXTRA_HINT, create_app

__all__ = ["PlaygroundFrame", "RunningServer", "notebook", "page_url", "serve", "start_server"]

VIEWS = ("surface", "network")


def _uvicorn() -> Any:
    try:
        import uvicorn
    except ImportError as exc:
        raise ImportError(f"{exc}; {EXTRA_HINT}") from None
    return uvicorn


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 lets the system choose a free one (no race with others)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"playground: cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(64)
    return sock


def page_url(host: str, port: int, view: str = "surface") -> str:
    """The page's address, opened on ``view`` ("surface" or "network")."""
    if view not in VIEWS:
        raise ValueError(f"page_url: view must be one of {', '.join(VIEWS)}, got {view!r}")
    shown = f"[{host}]" if ":" in host else host
    query = "" if view == "surface" else "?" + urlencode({"view": view})
    return f"http://{shown}:{port}/{query}"


def _config(host: str) -> Any:
    uvicorn = _uvicorn()
    return uvicorn.Config(create_app(), host=host, log_level="warning", ws="websockets-sansio")


def serve(host: str = "127.0.0.1", port: int = 8050, *, on_ready: Any = None) -> None:
    """Serve in the foreground until Ctrl-C; ``on_ready(port)`` is called once it listens."""
    uvicorn = _uvicorn()
    sock = _bind(host, port)
    server = uvicorn.Server(_config(host))
    if on_ready is not None:
        on_ready(sock.getsockname()[1])
    server.run(sockets=[sock])


@dataclass
class RunningServer:
    """A playground server in a background thread."""

    host: str
    port: int
    server: Any
    thread: threading.Thread

    @property
    def url(self) -> str:
        return page_url(self.host, self.port)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the server to finish and wait for its thread."""
        self.server.should_exit = True
        self.thread.join(timeout)


def start_server(host: str = "127.0.0.1", port: int = 0, timeout: float = 20.0) -> RunningServer:
    """Start a server in a daemon thread and return once it accepts connections."""
    uvicorn = _uvicorn()
    sock = _bind(host, port)
    server = uvicorn.Server(_config(host))
    server.install_signal_handlers = lambda: None  # only the main thread may; not ours to take
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="gdlab-playground"
    )
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"playground: the server did not start within {timeout:g} s")
        time.sleep(0.02)
    return RunningServer(host, sock.getsockname()[1], server, thread)


@dataclass(frozen=True)
class PlaygroundFrame:
    """What ``notebook()`` returns: Jupyter shows it as the playground in an iframe."""

    url: str
    width: str
    height: int

    def _repr_html_(self) -> str:
        src = html.escape(self.url, quote=True)
        return (
            f'<iframe src="{src}" width="{html.escape(self.width, quote=True)}" '
            f'height="{self.height}" style="border:1px solid #ddd"></iframe>'
        )


_NOTEBOOK_SERVER: list[RunningServer] = []  # one per kernel, started on first use


def notebook(view: str = "surface", *, width: str = "100%", height: int = 820) -> PlaygroundFrame:
    """The playground inside a notebook cell (the server starts once per kernel).

    Example:
        >>> from gdlab.playground import notebook
        >>> notebook("network")          # the cell shows the networks view
    """
    if not _NOTEBOOK_SERVER or not _NOTEBOOK_SERVER[0].thread.is_alive():
        _NOTEBOOK_SERVER[:] = [start_server()]
    running = _NOTEBOOK_SERVER[0]
    return PlaygroundFrame(page_url(running.host, running.port, view), width, int(height))
