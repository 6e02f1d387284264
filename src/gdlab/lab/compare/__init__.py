"""``gdlab compare``: optimizers and batch modes compared fairly on networks.

- ``config``: ``CompareConfig``, the settings (parser, function and config.toml share it);
- ``protocol``: ``compare`` / ``run_compare``, tune every variant with the same budget
  (``gdlab.lab.search``), then train it from several seeds;
- ``report``: the metrics files, tables, figures and report of a comparison;
- ``profiles``: Dolan-Moré performance profiles over several data sets.
"""

from __future__ import annotations

from gdlab.lab.compare.config import CompareConfig
from gdlab.lab.compare.protocol import (
    CompareResult,
    Run,
    Variant,
    compare,
    make_variants,
    run_compare,
)
from gdlab.lab.compare.report import write_compare

__all__ = [
    "CompareConfig",
    "CompareResult",
    "Run",
    "Variant",
    "compare",
    "make_variants",
    "run_compare",
    "write_compare",
]
