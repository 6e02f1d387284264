"""The ``gdlab playground`` subcommand: its arguments and its run (hooked into the CLI)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["add_parser", "run"]


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected int, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535, got {text!r}")
    return value


def add_parser(sub: Any) -> None:
    """Add ``playground`` to the ``gdlab`` subparsers."""
    p = sub.add_parser(
        "playground",
        help="steer gradient descent in the browser (a local web app)",
        description="Serve the playground: optimizers' paths on 2-D functions, and small "
        "networks trained live on 2-D points, computed by gdlab. Prints the URL and opens "
        "nothing unless --open is given. Needs `pip install 'gdlab[playground]'`.",
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    p.add_argument(
        "--port", type=_port, default=8050, help="port (default: %(default)s; 0 = any free port)"
    )
    p.add_argument(
        "--view", choices=["surface", "network"], default="surface", help="the view to open"
    )
    p.add_argument("--open", action="store_true", help="open the page in the default browser")


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C; exit 1 with the reason when the extra is missing or the port taken."""
    try:
        from gdlab.playground.server import page_url, serve
    except ImportError as exc:
        print(f"gdlab playground: {exc}", file=sys.stderr)
        return 1

    def ready(port: int) -> None:
        shown = page_url(args.host, port, args.view)
        print(f"gdlab playground: serving on {shown} (Ctrl-C to stop)", flush=True)
        if args.open:
            import webbrowser

            webbrowser.open(shown)

    try:
        serve(args.host, args.port, on_ready=ready)
    except (ImportError, OSError) as exc:
        print(f"gdlab playground: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
