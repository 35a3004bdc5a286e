"""Child processes for core work that holds the GIL for long (spglib on big cells, pymatgen's XRD).

A thread is no use for such work: spglib's `get_symmetry_dataset` and pymatgen's XRD calculator keep
the GIL for their whole run (seconds on a 24x24x3 cell), and the GUI thread stops for as long. A
`ProcessLane` owns one spawned child that runs one job at a time. A lane holds at most one job: a new
job supersedes the running one, whose child is killed (its result would be stale anyway) and
restarted on demand. Results come back through a pipe polled by a GUI-thread timer, so callbacks run
on the GUI thread.

The function must be importable by name in the child (a module-level function of `core`) and its
arguments and result picklable. The spawn start method is used: forking a process that runs Qt
threads is unsafe.
"""
from __future__ import annotations

import itertools
import logging
import multiprocessing as mp
import time

from PySide6.QtCore import QObject, QTimer, Signal

log = logging.getLogger(__name__)
POLL_MS = 10


def _child_main(conn) -> None:
    """Loop of the child: receive (job id, fn, args), send (job id, "ok"|"error", value)."""
    import os
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    from core.errors import LayerStudioError
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        job_id, fn, args = msg
        try:
            out = (job_id, "ok", fn(*args))
        except LayerStudioError as exc:
            out = (job_id, "error", str(exc))
        except MemoryError:
            out = (job_id, "error", "out of memory; try a smaller supercell")
        except Exception as exc:  # a bug: one line for the user, the type for the log
            out = (job_id, "error", f"{type(exc).__name__}: {exc}")
        try:
            conn.send(out)
        except (BrokenPipeError, OSError):
            return


class ProcessJob:
    """A job handed to a lane: `cancel()` drops it (and kills the child if it is running)."""

    def __init__(self, lane: ProcessLane, job_id: int, label: str, on_result, on_error, on_finished):
        self.lane, self.id, self.label = lane, job_id, label
        self.on_result, self.on_error, self.on_finished = on_result, on_error, on_finished
        self.started = time.monotonic()
        self.done = False
        self.cancelled = False

    def cancel(self) -> None:
        if not self.done:
            self.lane.cancel()


class ProcessLane(QObject):
    """One child process, one job at a time; submitting supersedes. Signals: sigIdle() when a job ends
    (result, error or cancellation) and nothing else is waiting."""

    sigIdle = Signal()
    _ids = itertools.count(1)

    def __init__(self, name: str, parent=None):
        super().__init__(parent)
        self.name = name
        self._ctx = mp.get_context("spawn")
        self._proc = None
        self._conn = None
        self.job: ProcessJob | None = None
        self.restarts = 0
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    # ------------------------------------------------------------------ child life cycle
    def _ensure_child(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            return
        parent_conn, child_conn = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(target=_child_main, args=(child_conn,), name=f"layerstudio-{self.name}",
                                 daemon=True)
        proc.start()
        child_conn.close()
        self._proc, self._conn = proc, parent_conn

    def _kill_child(self) -> None:
        if self._proc is None:
            return
        try:
            self._proc.kill()
            self._proc.join(2.0)
        except (OSError, ValueError, AssertionError):
            pass
        try:
            self._conn.close()
        except OSError:
            pass
        self._proc = self._conn = None
        self.restarts += 1

    # ------------------------------------------------------------------ jobs
    def submit(self, fn, *args, label: str = "", on_result=None, on_error=None, on_finished=None) -> ProcessJob:
        if self.job is not None:
            self._drop_current()
        self._ensure_child()
        job = ProcessJob(self, next(self._ids), label or self.name, on_result, on_error, on_finished)
        try:
            self._conn.send((job.id, fn, args))
        except (BrokenPipeError, OSError):  # the child died (killed from outside): one restart
            self._kill_child()
            self._ensure_child()
            self._conn.send((job.id, fn, args))
        self.job = job
        self._timer.start()
        return job

    def _drop_current(self) -> None:
        """The running job is superseded: kill the child (spglib/pymatgen cannot be interrupted)."""
        job, self.job = self.job, None
        job.cancelled = job.done = True
        self._kill_child()
        if job.on_finished:
            job.on_finished()

    def cancel(self) -> None:
        if self.job is not None:
            self._drop_current()
            self._timer.stop()
            self.sigIdle.emit()

    def busy(self) -> bool:
        return self.job is not None

    def _poll(self) -> None:
        job = self.job
        if job is None:
            self._timer.stop()
            return
        try:
            if not self._conn.poll():
                if not self._proc.is_alive():
                    raise EOFError
                return
            job_id, status, value = self._conn.recv()
        except (EOFError, OSError):
            self.job = None
            self._timer.stop()
            self._kill_child()
            job.done = True
            if job.on_error:
                job.on_error(f"{job.label}: the worker process ended unexpectedly")
            if job.on_finished:
                job.on_finished()
            self.sigIdle.emit()
            return
        if job_id != job.id:
            return  # an answer to a superseded job that slipped through: ignore
        self.job = None
        self._timer.stop()
        job.done = True
        try:
            if status == "ok":
                if job.on_result:
                    job.on_result(value)
            elif job.on_error:
                job.on_error(value)
        finally:
            if job.on_finished:
                job.on_finished()
            self.sigIdle.emit()

    def shutdown(self) -> None:
        self._timer.stop()
        self.job = None
        if self._conn is not None:
            try:
                self._conn.send(None)
            except (BrokenPipeError, OSError):
                pass
        if self._proc is not None:
            self._proc.join(0.5)
            if self._proc.is_alive():
                self._proc.kill()
                self._proc.join(1.0)
        self._proc = self._conn = None
