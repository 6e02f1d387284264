"""Executors: where a sweep's trials run. Serial, local processes, Dask or Ray.

Every executor takes trial specs and yields each :class:`Completed` trial as soon as it
finishes, in completion order. A trial whose function raises is a failure at once (rerunning
deterministic code gives the same error); a trial whose *worker* dies (killed, out of memory)
is retried up to ``retries`` times, then recorded as failed. BLAS libraries get one thread
per worker, so ``jobs`` workers never oversubscribe the cores.

An executor is a context manager: a Dask cluster or Ray instance it starts lives until
``close()``, so several sweeps (a learning-rate search, then the final seeds) share it.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from gdlab.lab.sweeps.store import TrialFailure
from gdlab.lab.sweeps.trial import TrialSpec, run_trial

__all__ = [
    "EXECUTORS",
    "Completed",
    "DaskExecutor",
    "Executor",
    "ProcessExecutor",
    "RayExecutor",
    "SerialExecutor",
    "make_executor",
]


@dataclass(frozen=True)
class Completed:
    """A finished trial: its result, or the failure that ended it."""

    spec: TrialSpec
    result: Any = None
    failure: TrialFailure | None = None


def _failure(spec: TrialSpec, error: BaseException, attempts: int) -> Completed:
    reason = f"{type(error).__name__}: {error}"
    return Completed(spec, failure=TrialFailure(spec, reason, attempts))


def _check_jobs(jobs: int) -> int:
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    return jobs


def _check_retries(retries: int) -> int:
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise ValueError(f"retries must be a non-negative integer, got {retries!r}")
    return retries


class Executor:
    """The interface: ``run(specs)`` yields :class:`Completed` trials; ``close()`` frees."""

    name = "executor"
    jobs = 1

    def run(self, specs: Iterable[TrialSpec]) -> Iterator[Completed]:
        raise NotImplementedError

    def close(self) -> None:
        """Release workers, clusters and pools (nothing to do by default)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialExecutor(Executor):
    """One trial after another in this process: today's behaviour, and the reference."""

    name = "serial"

    def run(self, specs: Iterable[TrialSpec]) -> Iterator[Completed]:
        for spec in specs:
            try:
                result = run_trial(spec)
            except Exception as e:  # a trial's own error is its result, not the sweep's end
                yield _failure(spec, e, 1)
            else:
                yield Completed(spec, result)


def _limit_blas_threads(threads: int) -> None:
    """Worker initializer: BLAS/OpenMP pools of this process get ``threads`` threads."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # the variables above still bind BLAS libraries loaded from now on
        return
    threadpool_limits(limits=threads)


class ProcessExecutor(Executor):
    """``jobs`` worker processes on this machine (``concurrent.futures``, spawned).

    At most ``jobs`` trials are in flight, so every submitted trial is running. When a worker
    dies the pool breaks and takes every running trial with it; those trials are charged an
    attempt and resubmitted to a fresh pool (the dead one cannot be told apart).
    """

    name = "processes"

    def __init__(self, jobs: int = 2, retries: int = 2, threads: int | None = None) -> None:
        self.jobs = _check_jobs(jobs)
        self.retries = _check_retries(retries)
        self.threads = threads  # per worker; None: the usable cores shared out
        self._pool: ProcessPoolExecutor | None = None

    def _fresh_pool(self) -> ProcessPoolExecutor:
        import multiprocessing

        from gdlab.num_threads import usable_cores

        self.close()
        share = max(1, usable_cores() // self.jobs)  # never more threads than cores in all
        threads = share if self.threads is None else min(self.threads, share)
        self._pool = ProcessPoolExecutor(
            self.jobs,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_limit_blas_threads,
            initargs=(threads,),
        )
        return self._pool

    def run(self, specs: Iterable[TrialSpec]) -> Iterator[Completed]:
        queue = deque(specs)
        attempts: dict[str, int] = {}
        pool = self._pool or self._fresh_pool()
        running: dict[Any, TrialSpec] = {}
        while queue or running:
            broken = False
            while queue and len(running) < self.jobs:
                spec = queue[0]
                try:
                    future = pool.submit(run_trial, spec)
                except BrokenProcessPool:  # a worker died since the last wait: nothing ran
                    broken = True
                    break
                queue.popleft()
                attempts[spec.key] = attempts.get(spec.key, 0) + 1
                running[future] = spec
            finished, _ = wait(running, return_when=FIRST_COMPLETED) if running else ((), ())
            for future in finished:
                spec = running.pop(future)
                error = future.exception()
                if error is None:
                    yield Completed(spec, future.result())
                elif isinstance(error, BrokenProcessPool):
                    broken = True
                    if attempts[spec.key] > self.retries:
                        reason = RuntimeError(f"worker died {attempts[spec.key]} times")
                        yield _failure(spec, reason, attempts[spec.key])
                    else:
                        queue.appendleft(spec)
                else:
                    yield _failure(spec, error, attempts[spec.key])
            if broken:
                # The other running trials die with the pool: wait for them, then start again.
                for future in list(running):
                    spec = running.pop(future)
                    if future.exception() is None:
                        yield Completed(spec, future.result())
                    else:
                        queue.appendleft(spec)
                pool = self._fresh_pool()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskExecutor(Executor):
    """Trials as Dask futures: on the cluster at ``address``, or a local ``LocalCluster``.

    A local cluster gets ``jobs`` single-threaded worker processes (Dask's nannies set the BLAS
    thread variables to 1) and lets a task outlive ``retries`` worker deaths
    (``distributed.scheduler.allowed-failures``); on a remote cluster that setting is the
    scheduler's own. Its dashboard works as usual: :attr:`dashboard_link`.
    """

    name = "dask"

    def __init__(self, address: str | None = None, jobs: int = 2, retries: int = 2) -> None:
        self.address = address
        self.jobs = _check_jobs(jobs)
        self.retries = _check_retries(retries)
        self._client: Any = None
        self._cluster: Any = None

    def _connect(self) -> Any:
        if self._client is not None:
            return self._client
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError as e:
            raise ImportError("the dask executor needs Dask: pip install 'gdlab[dask]'") from e
        if self.address:
            self._client = Client(self.address)
        else:
            with dask.config.set({"distributed.scheduler.allowed-failures": self.retries}):
                self._cluster = LocalCluster(
                    n_workers=self.jobs, threads_per_worker=1, processes=True
                )
            self._client = Client(self._cluster)
        return self._client

    @property
    def dashboard_link(self) -> str:
        return str(self._connect().dashboard_link)

    def run(self, specs: Iterable[TrialSpec]) -> Iterator[Completed]:
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        client = self._connect()
        futures = {
            client.submit(run_trial, spec, key=f"gdlab-trial-{spec.key}", pure=False): spec
            for spec in specs
        }
        try:
            for future in as_completed(list(futures)):
                spec = futures.pop(future)
                try:
                    result = future.result()
                except KilledWorker as e:
                    yield _failure(spec, e, self.retries + 1)
                except Exception as e:
                    yield _failure(spec, e, 1)
                else:
                    yield Completed(spec, result)
                future.release()
        finally:
            for future in futures:
                future.cancel()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


class RayExecutor(Executor):
    """Trials as Ray tasks: on the cluster at ``address`` (``"auto"``: the running one), or
    a local Ray instance with ``jobs`` CPUs. Each task takes one CPU (Ray then sets the BLAS
    thread variables to 1) and is retried ``retries`` times if its worker dies.
    """

    name = "ray"

    def __init__(self, address: str | None = None, jobs: int = 2, retries: int = 2) -> None:
        self.address = address
        self.jobs = _check_jobs(jobs)
        self.retries = _check_retries(retries)
        self._started = False

    def _ray(self) -> Any:
        try:
            import ray
        except ImportError as e:
            raise ImportError("the ray executor needs Ray: pip install 'gdlab[ray]'") from e
        if not ray.is_initialized():
            if self.address:
                ray.init(address=self.address, log_to_driver=False)
            else:
                ray.init(num_cpus=self.jobs, log_to_driver=False)
            self._started = True
        return ray

    def run(self, specs: Iterable[TrialSpec]) -> Iterator[Completed]:
        ray = self._ray()
        task = ray.remote(num_cpus=1, max_retries=self.retries)(run_trial)
        pending = {task.remote(spec): spec for spec in specs}
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    spec = pending.pop(ref)
                    try:
                        result = ray.get(ref)
                    except ray.exceptions.RayTaskError as e:
                        yield _failure(spec, e.cause or e, 1)
                    except ray.exceptions.RayError as e:  # the worker died too often
                        yield _failure(spec, e, self.retries + 1)
                    else:
                        yield Completed(spec, result)
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)

    def close(self) -> None:
        if self._started:
            import ray

            ray.shutdown()
            self._started = False


EXECUTORS = ("serial", "processes", "dask", "ray")


def make_executor(
    name: str = "serial", *, jobs: int = 2, address: str | None = None, retries: int = 2,
    threads: int | None = None,
) -> Executor:  # fmt: skip
    """The executor called ``name`` (one of :data:`EXECUTORS`); ``threads``: each local worker
    process's BLAS threads (at most its share of the usable cores)."""
    if name == "serial":
        return SerialExecutor()
    if name == "processes":
        return ProcessExecutor(jobs=jobs, retries=retries, threads=threads)
    if name == "dask":
        return DaskExecutor(address=address, jobs=jobs, retries=retries)
    if name == "ray":
        return RayExecutor(address=address, jobs=jobs, retries=retries)
    raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}; got {name!r}")
