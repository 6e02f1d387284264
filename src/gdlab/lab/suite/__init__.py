"""The optimizer benchmark suite (``gdlab suite``): AlgoPerf's method on a laptop.

Workloads (``workloads``, ``problems``) with validation targets and step budgets; optimizers
with declared search spaces (``optimizers``); trials run through the sweep layer
(``trial``, ``protocol``); AlgoPerf's performance-profile score (``score``); the leaderboard
(``report``). The protocol and the findings are written down in docs/suite.md.

Example:
    >>> cfg = SuiteConfig(optimizers=["nadamw", "adam"], workloads=["logistic"], trials=2)
    >>> result = run_suite(cfg, "runs/suite")
    >>> result.scores[0]
"""

from gdlab.lab.suite.config import DEFAULT_SUITE_OPTIMIZERS, SuiteConfig
from gdlab.lab.suite.protocol import SuiteResult, calibrate, run_suite
from gdlab.lab.suite.score import TAU_MAX, scores
from gdlab.lab.suite.workloads import WORKLOADS, Workload

__all__ = [
    "DEFAULT_SUITE_OPTIMIZERS",
    "TAU_MAX",
    "WORKLOADS",
    "SuiteConfig",
    "SuiteResult",
    "Workload",
    "calibrate",
    "run_suite",
    "scores",
]
