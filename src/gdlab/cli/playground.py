"""``gdlab playground``: serve the playground (``gdlab.playground``), a local web app, until
Ctrl-C. It prints the URL and opens nothing unless ``--open`` is given."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any

from gdlab.cli.command import Command
from gdlab.cli.session import Session

__all__ = ["COMMAND", "PlaygroundConfig"]


@dataclass(frozen=True)
class PlaygroundConfig:
    """Where to listen, which view the printed URL opens, and whether to open a browser."""

    host: str = "127.0.0.1"
    port: int = 8050
    view: str = "surface"
    open: bool = False


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected int, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535, got {text!r}")
    return value


def add_parser(sub: Any, command: Command) -> argparse.ArgumentParser:
    p = sub.add_parser(command.name, help=command.help, description=command.description)
    d = PlaygroundConfig()
    p.add_argument("--host", default=d.host, help="address to listen on (default: %(default)s)")
    p.add_argument(
        "--port", type=_port, default=d.port, help="port (default: %(default)s; 0: a free one)"
    )
    p.add_argument(
        "--view",
        choices=("surface", "network"),
        default=d.view,
        help="the view the URL opens (default: %(default)s)",
    )
    p.add_argument("--open", action="store_true", help="open the page in the default browser")
    return p


def configure(ns: argparse.Namespace) -> PlaygroundConfig:
    return PlaygroundConfig(ns.host, ns.port, ns.view, ns.open)


def run(config: PlaygroundConfig, session: Session) -> dict[str, Any]:
    """Serve until Ctrl-C; a missing extra or a taken port fails with the reason (exit 1)."""
    from gdlab.playground.server import page_url, serve

    def ready(port: int) -> None:
        url = page_url(config.host, port, config.view)
        print(f"gdlab playground: serving on {url} (Ctrl-C to stop)", flush=True)
        if config.open:
            import webbrowser

            webbrowser.open(url)

    serve(config.host, config.port, on_ready=ready)
    print("gdlab playground: stopped", file=sys.stderr)
    return {"command": "playground", "text": ""}


COMMAND = Command(
    "playground",
    help="steer gradient descent in the browser (a local web app)",
    description="Serve the playground: optimizers' paths on 2-D functions, and small networks "
    "trained live on 2-D points, computed by gdlab. Prints the URL and opens nothing unless "
    "--open is given. Needs `pip install 'gdlab[playground]'`.",
    config=PlaygroundConfig,
    run=run,
    writes=False,
    custom_parser=add_parser,
    custom_configure=configure,
)
