"""Where the session tasks run: a local process pool or a dask.distributed cluster.

Both engines offer the same small interface used by :func:`core.batch.runner.run_batch`:
``submit(fn, arg) -> future``, ``wait(futures, timeout) -> finished futures``,
``cancel(futures) -> futures still running``, ``close()``, and ``workers`` (a count).
No scheduling of our own: :class:`concurrent.futures.ProcessPoolExecutor` or a
``dask.distributed.Client`` does it. Dask is imported only here, only when asked for.
"""
from __future__ import annotations

import concurrent.futures as cf
import os
import signal
from typing import Any, Callable, Iterable, Optional

from core.errors import GenuError

INSTALL_HINT = 'the dask engine needs dask.distributed: pip install "genulab[cluster]"'


def _ignore_sigint() -> None:
    """Worker initialiser: Ctrl+C is the parent's to handle, so a running task finishes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def cpu_count() -> int:
    """CPUs this process may use (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


class LocalEngine:
    """A pool of ``workers`` processes on this machine (spawned: no state copied from a
    parent that may run Qt threads)."""

    name = "local"

    def __init__(self, workers: Optional[int] = None) -> None:
        import multiprocessing
        self.workers = workers or cpu_count()
        self._pool = cf.ProcessPoolExecutor(max_workers=self.workers, initializer=_ignore_sigint,
                                            mp_context=multiprocessing.get_context("spawn"))

    def submit(self, fn: Callable, arg: Any) -> cf.Future:
        return self._pool.submit(fn, arg)

    def wait(self, futures: Iterable, timeout: float) -> set:
        done, _ = cf.wait(list(futures), timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return set(done)

    def cancel(self, futures: Iterable) -> set:
        return {f for f in futures if not f.cancel()}

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def describe(self) -> str:
        return f"local process pool, {self.workers} worker{'s' if self.workers != 1 else ''}"


class DaskEngine:
    """A dask.distributed client: to ``scheduler`` (``tcp://host:8786``) when given, else to
    a LocalCluster of ``workers`` single-threaded worker processes (``processes=False``:
    threads of this process, for tests)."""

    name = "dask"

    def __init__(self, workers: Optional[int] = None, scheduler: Optional[str] = None,
                 processes: bool = True) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise GenuError(INSTALL_HINT) from None
        self._cluster = None
        if scheduler:
            try:
                self._client = Client(scheduler, timeout="10s")
            except (OSError, TimeoutError) as exc:
                raise GenuError(f"cannot reach the dask scheduler at {scheduler}: {exc}") from None
        else:
            self._cluster = LocalCluster(n_workers=workers or cpu_count(), threads_per_worker=1,
                                         processes=processes, dashboard_address=None)
            self._client = Client(self._cluster)
        self.scheduler = scheduler
        self.workers = max(1, sum(w.get("nthreads", 1) for w in self._client.scheduler_info()["workers"].values()))

    def submit(self, fn: Callable, arg: Any):
        return self._client.submit(fn, arg, pure=False)

    def wait(self, futures: Iterable, timeout: float) -> set:
        from distributed import wait
        futures = list(futures)
        try:
            done, _ = wait(futures, timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return set()
        return set(done)

    def cancel(self, futures: Iterable) -> set:
        futures = [f for f in futures if not f.done()]
        if futures:
            self._client.cancel(futures)
        return set()   # a cancelled dask task is forgotten; its output folder is atomic

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def describe(self) -> str:
        where = self.scheduler or "LocalCluster"
        return f"dask ({where}), {self.workers} worker thread{'s' if self.workers != 1 else ''}"


def make_engine(kind: str, workers: Optional[int] = None, scheduler: Optional[str] = None):
    """``"local"`` or ``"dask"`` engine (GenuError for another name or a missing dask)."""
    if kind == "local":
        if scheduler:
            raise GenuError("--scheduler is for --engine dask")
        return LocalEngine(workers)
    if kind == "dask":
        return DaskEngine(workers, scheduler)
    raise GenuError(f"unknown engine {kind!r} (local, dask)")
