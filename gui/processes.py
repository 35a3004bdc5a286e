"""Child processes for core work that holds the GIL for long (spglib on big cells, pymatgen's XRD).

A thread is no use for such work: spglib's `get_symmetry_dataset` and pymatgen's XRD calculator keep
the GIL for their whole run (seconds on a 24x24x3 cell), and the GUI thread stops for as long. A
`ProcessLane` owns one child process (a fresh interpreter running gui.process_child) that runs one job
at a time. A lane holds at most one job: a new
job supersedes the running one, whose child is killed (its result would be stale anyway) and
restarted on demand. A *cooperative* lane (`ProcessLane(name, cooperative=True)`, for jobs that honour
an abort flag and keep expensive state in the child, such as a loaded force field) is not killed: it
sends the child an abort message, the job stops at its next step and the child takes the next job with
its state intact. Results come back through a pipe polled by a GUI-thread timer, so callbacks run
on the GUI thread.

The function must be importable by name in the child (a module-level function of `core`) and its
arguments and result picklable. The child is a fresh interpreter (forking a process that runs Qt
threads is unsafe) started without multiprocessing's spawn, which would re-run the parent's
__main__ (a user's script) in the child.
"""
from __future__ import annotations

import itertools
import json
import logging
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection

from PySide6.QtCore import QObject, QTimer, Signal

log = logging.getLogger(__name__)
POLL_MS = 10
#: lanes of automatic recomputation: their children run at a lower CPU priority (nice), so on a busy
#: machine a job the user asked for (a Monte Carlo run, a migration refresh) and the GUI itself get
#: the cores first (two cores here: five CPU-bound children after one edit delayed a run by seconds)
BACKGROUND_LANES = frozenset({"symmetry", "symmetry-quick", "xrd", "charge"})
#: lanes of short jobs whose child keeps caches worth more than the job: a newer job waits for the
#: running one (at most one waits; an older waiting one is dropped) instead of killing its child
WAITING_LANES = frozenset({"symmetry-quick"})
BACKGROUND_NICE = 10


def _write(tx: Connection, outbox: queue.SimpleQueue) -> None:
    """One writer per child, so messages (jobs, aborts) arrive whole and in order."""
    while (payload := outbox.get()) is not None:
        try:
            tx.send_bytes(payload)
        except (BrokenPipeError, OSError):  # the child was killed meanwhile (superseded): nothing to do
            return


class ProcessJob:
    """A job handed to a lane: `cancel()` drops it (and kills the child if it is running)."""

    def __init__(self, lane: ProcessLane, job_id: int, label: str, on_result, on_error, on_finished,
                 on_progress=None):
        self.lane, self.id, self.label = lane, job_id, label
        self.on_result, self.on_error, self.on_finished = on_result, on_error, on_finished
        self.on_progress = on_progress
        self.started_at = time.monotonic()
        self.warm_up = False
        self.done = False
        self.cancelled = False

    def cancel(self) -> None:
        if self.done:
            return
        if self.lane.queued is not None and self.lane.queued[0] is self:
            self.lane._drop_queued()
        elif self.lane.job is self:
            self.lane.cancel()


class ProcessLane(QObject):
    """One child process, one job at a time; submitting supersedes. Signals: sigIdle() when a job ends
    (result, error or cancellation) and nothing else is waiting."""

    sigIdle = Signal()
    _ids = itertools.count(1)

    def __init__(self, name: str, parent=None, cooperative: bool = False):
        super().__init__(parent)
        self.name = name
        self.cooperative = cooperative
        self._outbox = None    # queue of pickled messages for the child's writer thread
        self._proc = None      # subprocess.Popen of the child
        self._tx = None        # Connection parent -> child
        self._conn = None      # Connection child -> parent
        self.job: ProcessJob | None = None
        self.queued: tuple | None = None    # (job, fn, args) waiting for the running job (WAITING_LANES)
        self.restarts = 0
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    # ------------------------------------------------------------------ child life cycle
    def _alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _ensure_child(self) -> None:
        if self._alive():
            return
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        env = dict(os.environ, LAYERSTUDIO_SYS_PATH=json.dumps([p for p in sys.path if p]))
        if self.name in BACKGROUND_LANES:
            env["LAYERSTUDIO_NICE"] = str(BACKGROUND_NICE)
        code = ("import json, os, sys; sys.path[:0] = json.loads(os.environ['LAYERSTUDIO_SYS_PATH']); "
                f"from gui.process_child import main; main({to_child_r}, {from_child_w})")
        self._proc = subprocess.Popen([sys.executable, "-c", code], pass_fds=(to_child_r, from_child_w),
                                      env=env, stdin=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self._tx = Connection(to_child_w, readable=False)
        self._conn = Connection(from_child_r, writable=False)
        # written from a thread: a fresh child reads only once its imports are done, and a full pipe
        # would block the GUI thread
        self._outbox = queue.SimpleQueue()
        threading.Thread(target=_write, args=(self._tx, self._outbox), daemon=True,
                         name=f"layerstudio-{self.name}-send").start()

    def _kill_child(self) -> None:
        if self._proc is None:
            return
        try:
            self._outbox.put(None)
            self._proc.kill()
            self._proc.wait(2.0)
        except (OSError, subprocess.TimeoutExpired):
            pass
        for c in (self._tx, self._conn):
            try:
                c.close()
            except OSError:
                pass
        self._proc = self._conn = self._tx = None
        self.restarts += 1

    # ------------------------------------------------------------------ jobs
    def submit(self, fn, *args, label: str = "", on_result=None, on_error=None, on_finished=None,
               on_progress=None) -> ProcessJob:
        job = ProcessJob(self, next(self._ids), label or self.name, on_result, on_error, on_finished,
                         on_progress)
        if self.job is not None and not self.job.warm_up:
            if self.name in WAITING_LANES:
                self._drop_queued()
                self.queued = (job, fn, args)
                return job
            self._drop_current()
        return self._send(job, fn, args)

    def _send(self, job: ProcessJob, fn, args) -> ProcessJob:
        # a warm-up still running is not killed: the child takes the job right after it
        self._ensure_child()
        job.started_at = time.monotonic()
        # pickled here: the arguments may change on this thread later
        msg = (job.id, fn, args, True) if self.cooperative else (job.id, fn, args)
        self._outbox.put(pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL))
        self.job = job
        self._timer.start()
        return job

    def _drop_current(self) -> None:
        """The running job is superseded: kill the child (spglib/pymatgen cannot be interrupted), or,
        on a cooperative lane, tell it to stop the job at its next step (its late answers are ignored)."""
        job, self.job = self.job, None
        job.cancelled = job.done = True
        if self.cooperative and self._alive():
            self._outbox.put(pickle.dumps(("abort", job.id)))
        else:
            self._kill_child()
        if job.on_finished:
            job.on_finished()

    def _drop_queued(self) -> None:
        if self.queued is not None:
            job = self.queued[0]
            self.queued = None
            job.cancelled = job.done = True
            if job.on_finished:
                job.on_finished()

    def _next(self) -> None:
        """The running job ended: start the one waiting, if any."""
        if self.queued is not None and self.job is None:
            job, fn, args = self.queued
            self.queued = None
            self._send(job, fn, args)

    def cancel(self) -> None:
        self._drop_queued()
        if self.job is not None:
            self._drop_current()
            self._timer.stop()
            self.sigIdle.emit()

    def warm(self, fn=None, *args) -> None:
        """Start the child now (and run fn(*args) there, e.g. imports), so a later job starts at once."""
        if self._alive():
            return
        self._ensure_child()
        if fn is not None and self.job is None:
            self.submit(fn, *args, label=f"{self.name} (warming up)").warm_up = True

    def busy(self) -> bool:
        return self.job is not None or self.queued is not None

    def _poll(self) -> None:
        job = self.job
        if job is None:
            self._timer.stop()
            return
        try:
            while True:
                if not self._conn.poll():
                    if not self._alive():
                        raise EOFError
                    return
                job_id, status, value = self._conn.recv()
                if job_id != job.id:
                    continue   # an answer to a superseded job that slipped through
                if status != "progress":
                    break
                if job.on_progress:
                    job.on_progress(value)
                if self.job is not job:
                    return     # the progress callback cancelled or replaced the job
        except (EOFError, OSError):
            self.job = None
            self._timer.stop()
            self._kill_child()
            job.done = True
            if job.on_error:
                job.on_error(f"{job.label}: the worker process ended unexpectedly")
            if job.on_finished:
                job.on_finished()
            self._next()
            if self.job is None:
                self.sigIdle.emit()
            return
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
            self._next()
            if self.job is None:
                self.sigIdle.emit()

    def shutdown(self) -> None:
        self._timer.stop()
        self.job = self.queued = None
        if self._proc is None:
            return
        try:
            self._outbox.put(pickle.dumps(None))
            self._proc.wait(0.5)
        except (BrokenPipeError, OSError, subprocess.TimeoutExpired):
            pass
        self._kill_child()
