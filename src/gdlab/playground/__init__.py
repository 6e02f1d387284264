"""``gdlab playground``: steer gradient descent in the browser and watch it move.

Two views on gdlab's own optimizers: **surfaces** (optimizers' paths on a 2-D test function,
recomputed as a slider moves) and **networks** (a small classifier trained live on 2-D points,
with its decision boundary, loss curves and per-layer gradient norms; two configurations side
by side). The computation is gdlab in Python; the page (Plotly, served from the installed
package: no CDN) only draws what the server sends over a websocket.

The server needs the extra ``pip install 'gdlab[playground]'`` (Starlette, uvicorn,
websockets, plotly); the views' computations (``surface``, ``network``) need NumPy only.

Example:
    $ gdlab playground                      # prints the URL; --open opens a browser
    >>> from gdlab.playground import notebook
    >>> notebook("network")                 # inside Jupyter
"""

from __future__ import annotations

from gdlab.playground.network import ModelSettings, NetworkSession, NetworkSettings
from gdlab.playground.settings import SettingsError
from gdlab.playground.surface import OptimizerChoice, SurfaceSettings, run_paths

__all__ = [
    "ModelSettings",
    "NetworkSession",
    "NetworkSettings",
    "OptimizerChoice",
    "SettingsError",
    "SurfaceSettings",
    "notebook",
    "run_paths",
    "start_server",
]


def notebook(view: str = "surface", **kwargs: object) -> object:
    """The playground in a notebook cell (see ``gdlab.playground.server.notebook``)."""
    from gdlab.playground.server import notebook as _notebook

    return _notebook(view, **kwargs)


def start_server(host: str = "127.0.0.1", port: int = 0) -> object:
    """A playground server in a background thread (see ``gdlab.playground.server``)."""
    from gdlab.playground.server import start_server as _start

    return _start(host, port)
