"""``python -m gdlab``: the same as the ``gdlab`` command."""

from __future__ import annotations

import sys

from gdlab.cli import main

if __name__ == "__main__":
    sys.exit(main())
