"""The loop of a child process started by gui.processes (Qt-free, so the child imports no Qt).

Started as `python -c ...` with two inherited pipe descriptors rather than through multiprocessing's
spawn, which would import the parent's __main__ again: a user's script without an
`if __name__ == "__main__"` guard would open a second window in every child.
"""
from __future__ import annotations

import inspect
import os
import queue
import sys
import threading
import time

PROGRESS_S = 0.05


def warm_monte_carlo() -> bool:
    """Import numba and load the compiled Monte Carlo kernels (a one-sweep run on a tiny cell), so the
    user's first run starts at once (numba's import holds the GIL for about a second)."""
    from core.orderings.montecarlo import anneal
    from core.structure.model import Model

    model = Model.build("O3", "Li", "3", layers=1, tm_spec="Li:1/3,Mn:2/3", seed=0)
    for _ in anneal(model, sublattice="tm", sweeps=2, seed=0):
        pass
    return True


def charge_model(model, order: str = "electrostatic"):
    """core.analysis.charge.ChargeModel of a detached model, without its Ewald engine (the states
    are precomputed; the engine holds a weak reference and stays in the child)."""
    from core.analysis.charge import ChargeModel
    cm = ChargeModel(model, order=order)
    cm._engine = None
    return cm


def anneal_with_labels(model, **kw):
    """core.orderings.montecarlo.anneal (a generator: progress records, then the AnnealResult) whose
    AnnealResult also carries `ordering_labels`, one per best configuration: recognising them costs tens of
    milliseconds each, which belongs here rather than on the GUI thread."""
    from core.analysis.snapshots import with_state
    from core.orderings.montecarlo import anneal
    from core.report import ordering_text

    for item in anneal(model, **kw):
        if hasattr(item, "configurations"):   # the AnnealResult, last
            item.ordering_labels = [ordering_text(with_state(model, occ)) for _e, occ in item.configurations]
        yield item


def migration_paths(model):
    """(paths ranked cheapest first, groups) of core.migration.search for a detached model."""
    from core.migration.search import find_paths, group_paths
    paths = find_paths(model)
    return paths, group_paths(paths)


def _drain(gen, send):
    last, sent = None, 0.0
    try:
        while True:
            last = next(gen)
            now = time.monotonic()
            if now - sent >= PROGRESS_S:
                sent = now
                send(last)
    except StopIteration as stop:
        return stop.value if stop.value is not None else last


def _die_with_parent() -> None:
    """Linux: end this child when the window's process ends, even when it is killed (a closed pipe
    is noticed only between jobs, and a pattern or a space group can take minutes)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class _Inbox:
    """Reads the parent's messages on a thread: jobs queue up here, and an ("abort", job id) message
    sets the abort event of that job while it runs (cooperative lanes) or marks it to be skipped."""

    def __init__(self, rx):
        self.rx = rx
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.abort = threading.Event()
        self.current = None
        self.dropped: set = set()
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True, name="layerstudio-child-inbox").start()

    def _read(self) -> None:
        while True:
            try:
                msg = self.rx.recv()
            except (EOFError, OSError):
                msg = None
            if isinstance(msg, tuple) and len(msg) == 2 and msg[0] == "abort":
                with self.lock:
                    self.dropped.add(msg[1])
                    if self.current == msg[1]:
                        self.abort.set()
                continue
            self.jobs.put(msg)
            if msg is None:   # the parent is closing (or gone): a running cooperative job stops too
                self.abort.set()
                return

    def start(self, job_id) -> bool:
        """Make `job_id` the running job; False if it was dropped before it started."""
        with self.lock:
            self.current = job_id
            self.abort.clear()
            return job_id not in self.dropped


def main(read_fd: int, write_fd: int) -> None:
    """Receive (job id, fn, args[, cooperative]); send (job id, "ok"|"error", value); stop on None or a
    closed pipe. A cooperative job's fn gets `abort` (a threading.Event set by an ("abort", job id)
    message) when it has that parameter, and the child outlives the abort.

    If fn returns a generator (a core computation that yields progress), its items are sent as
    (job id, "progress", item), at most every PROGRESS_S seconds, and its return value (or last item)
    is the result."""
    from multiprocessing.connection import Connection

    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    _die_with_parent()
    nice = int(os.environ.get("LAYERSTUDIO_NICE", "0") or 0)
    if nice:
        try:
            os.nice(nice)   # automatic recomputation yields the cores to the user's jobs
        except OSError:
            pass
    from core.errors import LayerStudioError

    inbox = _Inbox(Connection(read_fd, writable=False))
    tx = Connection(write_fd, readable=False)
    while True:
        msg = inbox.jobs.get()
        if msg is None:
            return
        job_id, fn, args = msg[:3]
        if not inbox.start(job_id):
            continue   # superseded while it waited: nobody wants its answer
        kwargs = {}
        if len(msg) > 3 and msg[3] and "abort" in _parameters(fn):
            kwargs["abort"] = inbox.abort
        try:
            value = fn(*args, **kwargs)
            if inspect.isgenerator(value):
                value = _drain(value, lambda item, j=job_id: tx.send((j, "progress", item)))
            out = (job_id, "ok", value)
        except LayerStudioError as exc:
            out = (job_id, "error", str(exc))
        except MemoryError:
            out = (job_id, "error", "out of memory; try a smaller supercell")
        except Exception as exc:  # a bug: one line for the user
            out = (job_id, "error", f"{type(exc).__name__}: {exc}")
        try:
            tx.send(out)
        except (BrokenPipeError, OSError):
            return
        except Exception as exc:  # a result that cannot be pickled: a bug, reported in one line
            tx.send((job_id, "error", f"the result could not be returned: {type(exc).__name__}: {exc}"))


def _parameters(fn) -> tuple:
    try:
        return tuple(inspect.signature(fn).parameters)
    except (TypeError, ValueError):  # builtins without a signature
        return ()
