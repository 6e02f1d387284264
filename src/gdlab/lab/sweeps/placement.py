"""Where a command's trials run: the four options every sweeping command shares.

A command's config (``CompareConfig``, ``SuiteConfig``, ``ReproduceConfig``) inherits these
fields and ``--threads``; they decide only where and how fast the trials run, never their
results, so they are left out of the settings a run saves as its experiment.
"""

from __future__ import annotations

import dataclasses

from gdlab.lab.config import Threads, nonneg_int, option, positive_int
from gdlab.lab.sweeps.executors import EXECUTORS, Executor, make_executor

__all__ = ["PLACEMENT_FIELDS", "Placement"]


@dataclasses.dataclass
class Placement(Threads):
    """The executor and its workers (``--executor``, ``--jobs``, ``--address``, ``--retries``)
    and the threads each trial computes with (``--threads``, also in worker processes)."""

    executor: str = option(
        "serial", "--executor", choices=EXECUTORS,
        help="where trials run: serial (this process), processes (--jobs local workers), "
        "dask or ray (a cluster at --address, else a local one with --jobs workers)",
    )  # fmt: skip
    jobs: int = option(2, "--jobs", type=positive_int, help="workers of a local executor")
    address: str | None = option(
        None, "--address", metavar="URL",
        help="a running cluster: tcp://host:8786 (dask) or auto / ray://host:10001 (ray)",
    )  # fmt: skip
    retries: int = option(
        2, "--retries", type=nonneg_int, help="times a trial is rerun when its worker dies"
    )

    def make_executor(self) -> Executor:
        """The executor these settings name (a context manager: it frees its workers)."""
        return make_executor(self.executor, jobs=self.jobs, address=self.address,
                             retries=self.retries, threads=self.threads)  # fmt: skip


PLACEMENT_FIELDS = frozenset(f.name for f in dataclasses.fields(Placement))
