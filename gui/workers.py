"""Run slow core work on a QThreadPool with progress and cancel; results arrive on the GUI thread.

A task is either a plain function or a generator function from `core` (Monte Carlo, presets on big
cells) that yields progress items. Workers never touch widgets: they emit signals of a `TaskSignals`
object that lives in the GUI thread, so the connected slots run there (queued connections).

    task = runner.submit(core_fn, arg, label="Space group", on_result=show)
    task.cancel()   # sets the abort event; a generator is closed at its next yield

Progress items from generators are forwarded as they come (throttled to ~20 per second); a yielded
dict with a "progress" key in 0..1 drives the progress bar. The generator's return value (or, if it
returns None, its last yielded item) is the result.

Scheduling (so the window can neither freeze nor starve a user's request):
- automatic recomputation (readouts, panels following edits) runs on the `pool`; a task submitted
  with a `key` supersedes the previous task of that key (dropped if it has not started, told to
  abort if it has);
- user actions (`user=True`: a Monte Carlo run, a migration refresh the user asked for, an open) run
  on their own `user_pool`, so they never wait behind automatic work;
- work that holds the GIL for seconds (spglib on big cells, pymatgen's XRD) runs in a child process
  (`submit_process`, see gui.processes): a thread would stop the GUI thread for as long.
"""
from __future__ import annotations

import gc
import inspect
import logging
import sys
import threading
import time
import traceback
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from core.errors import LayerStudioError

log = logging.getLogger(__name__)
SWITCH_INTERVAL_S = 0.001


def prepare_geometry(model):
    """Build the per-supercell tables the window reads as soon as a model is installed (the O axes
    of the live O environments, the in-plane neighbours of the layer view's rings) in the calling
    worker: on the GUI thread they cost 30 ms on 24x24x3 and over 100 ms on 48x48x3. Returns model."""
    sc = model.supercell
    sc.o_axes  # noqa: B018 (cached properties, built here)
    sc.tm_nn  # noqa: B018
    return model


class TaskCancelled(Exception):
    """Raised inside a task function (via `check_abort`) when the user cancelled it."""


class TaskSignals(QObject):
    sigProgress = Signal(object)   # a progress item (dict, float or str)
    sigResult = Signal(object)
    sigError = Signal(str)         # one-line message for the user
    sigCancelled = Signal()
    sigFinished = Signal()         # always last


class Task(QRunnable):
    """One unit of work. `fn(*args, **kwargs)`; if `fn` has `abort`/`progress` parameters they receive
    a threading.Event and a callable(item) so plain functions can report and stop too."""

    def __init__(self, fn: Callable, *args, label: str = "", **kwargs):
        super().__init__()
        self.setAutoDelete(False)  # the runner keeps a reference until sigFinished
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.label = label or getattr(fn, "__name__", "task")
        self.signals = TaskSignals()
        self.abort = threading.Event()
        self.done = threading.Event()
        self.result = None
        self.error: str | None = None
        self._last_emit = 0.0
        self.pool = None               # the QThreadPool it runs on (set by TaskRunner.submit)
        self.started_at: float | None = None
        self.key: str | None = None    # a newer task with this key supersedes it

    def cancel(self) -> None:
        self.abort.set()

    @property
    def cancelled(self) -> bool:
        return self.abort.is_set()

    def _emit(self, name: str, *args) -> None:
        # the window (and with it the signal object) may be gone when a task ends during shutdown
        try:
            getattr(self.signals, name).emit(*args)
        except RuntimeError:
            self.abort.set()

    def _progress(self, item, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_emit > 0.05:
            self._last_emit = now
            self._emit("sigProgress", item)

    def run(self) -> None:
        self.started_at = time.monotonic()   # when a worker picked it up (time.monotonic)
        try:
            kwargs = dict(self.kwargs)
            try:
                params = inspect.signature(self.fn).parameters
            except (TypeError, ValueError):
                params = {}
            if "abort" in params and "abort" not in kwargs:
                kwargs["abort"] = self.abort
            if "progress" in params and "progress" not in kwargs:
                kwargs["progress"] = self._progress
            out = self.fn(*self.args, **kwargs)
            if inspect.isgenerator(out):
                out = self._drain(out)
            if self.abort.is_set():
                self._emit("sigCancelled")
            else:
                self.result = out
                self._emit("sigResult", out)
        except TaskCancelled:
            self._emit("sigCancelled")
        except LayerStudioError as exc:
            self.error = str(exc)
            self._emit("sigError", self.error)
        except MemoryError:
            self.error = f"{self.label}: out of memory; try a smaller supercell"
            self._emit("sigError", self.error)
        except Exception as exc:  # a bug, not user input: log the traceback, show one line
            log.error("task %s failed:\n%s", self.label, traceback.format_exc())
            self.error = f"{self.label} failed: {type(exc).__name__}: {exc}"
            self._emit("sigError", self.error)
        finally:
            self.done.set()
            self._emit("sigFinished")

    def _drain(self, gen):
        last = None
        try:
            while True:
                if self.abort.is_set():
                    gen.close()
                    return last
                item = next(gen)
                last = item
                self._progress(item)
        except StopIteration as stop:
            return stop.value if stop.value is not None else last


_GUI_THREAD_GC = None


def collect_garbage_on_gui_thread_only() -> None:
    """Turn off automatic cyclic garbage collection and collect on a GUI-thread timer instead.

    Python's collector runs in whichever thread happens to allocate. Run in a worker, it can destroy a
    stale QWidget there: ~QObject holds Qt's connection mutex and waits for the GIL while the GUI thread
    holds the GIL and waits for that mutex, and the application freezes (seen in the test suite under
    load: gdb showed ~QMenu on a "Thread (pooled)"). pyqtgraph's GarbageCollector is the standard
    remedy. Called once, from the GUI thread, before any worker starts.
    """
    global _GUI_THREAD_GC
    if _GUI_THREAD_GC is None:
        _GUI_THREAD_GC = _GuiThreadCollector(interval=1.0)


class _GuiThreadCollector:
    """Cyclic garbage collection on a GUI-thread timer, generation by generation as Python's own
    thresholds would (pyqtgraph's GarbageCollector does the same), plus `gc.freeze()` on the first
    check (a second after the first task runner, when the window and its panels exist): the ~150,000
    objects alive then (modules, classes, widgets) are long-lived, and a full collection walking them
    held the GUI thread ~70 ms each time it came round (measured with the demo model open); after the
    freeze it takes well under 1 ms."""

    def __init__(self, interval: float):
        self.threshold = gc.get_threshold()
        self._frozen = False
        gc.disable()
        self.timer = QTimer()
        self.timer.timeout.connect(self.check)
        self.timer.start(int(interval * 1000))

    def check(self) -> None:
        if not self._frozen:
            # the young generations first, so that fresh garbage is not frozen with the rest; a full
            # collection here would itself be the ~70 ms stall, and found nothing more to free at this
            # point (measured on the demo: 0 unreachable of 142,898 objects)
            self._frozen = True
            gc.collect(1)
            gc.freeze()
        counts = gc.get_count()
        for generation in range(3):
            if counts[generation] <= self.threshold[generation]:
                break
            gc.collect(generation)


class TaskRunner(QObject):
    """Owns a QThreadPool and the tasks in flight.

    Signals: sigBusy(bool) when the first task starts / the last one ends; sigProgress(label, fraction
    or -1 for indeterminate, text).
    """

    sigBusy = Signal(bool)
    sigProgress = Signal(str, float, str)

    def __init__(self, parent=None, max_threads: int = 2):
        super().__init__(parent)
        collect_garbage_on_gui_thread_only()
        # a worker running Python code keeps the GIL until the switch interval asks it to drop it; the
        # GUI thread pays that wait for every slot it runs, so keep it short (default 5 ms)
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self.user_pool = QThreadPool(self)
        self.user_pool.setMaxThreadCount(2)
        self.tasks: list[Task] = []
        self.keys: dict[str, Task] = {}
        self.lanes: dict = {}          # name -> gui.processes.ProcessLane, created on first use
        self.closed = False

    def submit(self, fn: Callable, *args, label: str = "", on_result=None, on_error=None,
               on_progress=None, on_finished=None, priority: int = 0, key: str | None = None,
               user: bool = False, **kwargs) -> Task:
        """Run fn(*args, **kwargs) on the pool; higher `priority` tasks start first when the pool is
        busy (the live-energy engine outranks analysis panels). Callbacks run on the GUI thread.

        key: a newer task with the same key supersedes this one (its result is never delivered).
        user: the user asked for this (Monte Carlo run, refresh button): run it on the user pool,
        never queued behind automatic recomputation."""
        if key is not None:
            old = self.keys.get(key)
            if old is not None:
                self.cancel(old)
        task = Task(fn, *args, label=label, **kwargs)
        task.pool = self.user_pool if user else self.pool
        if key is not None:
            self.keys[key] = task
            task.key = key
        sig = task.signals
        if on_result:
            sig.sigResult.connect(self._guard(on_result))
        if on_error:
            sig.sigError.connect(self._guard(on_error))
        if on_progress:
            sig.sigProgress.connect(self._guard(on_progress))
        sig.sigProgress.connect(self._guard(lambda item, t=task: self._forward_progress(t, item)))
        sig.sigFinished.connect(self._guard(lambda t=task: self._finished(t)))
        if on_finished:
            sig.sigFinished.connect(self._guard(on_finished))
        self.tasks.append(task)
        if len(self.tasks) == 1:
            self.sigBusy.emit(True)
        self.sigProgress.emit(task.label, -1.0, "")
        task.pool.start(task, priority)
        return task

    def cancel(self, task: Task) -> None:
        """Abort `task`: a task still queued is taken off its pool and finishes (cancelled) at once."""
        task.cancel()
        pool = getattr(task, "pool", None)
        if pool is not None and pool.tryTake(task):
            task.done.set()
            task.signals.sigCancelled.emit()
            task.signals.sigFinished.emit()

    def lane(self, name: str, cooperative: bool = False):
        """The ProcessLane `name` (created on first use; `cooperative`: aborted by message, its child kept,
        see gui.processes)."""
        from .processes import ProcessLane
        proc = self.lanes.get(name)
        if proc is None:
            proc = self.lanes[name] = ProcessLane(name, self, cooperative=cooperative)
            proc.sigIdle.connect(self._lane_idle)
        return proc

    def submit_process(self, lane: str, fn: Callable, *args, label: str = "", on_result=None,
                       on_error=None, on_finished=None, on_progress=None):
        """Run fn(*args) (a module-level function with picklable arguments) in the child process of
        `lane`; whatever that lane was doing is superseded. Callbacks run on the GUI thread."""
        if self.closed:
            return None
        proc = self.lane(lane)
        was_busy = self.busy()
        job = proc.submit(fn, *args, label=label, on_result=self._guard(on_result) if on_result else None,
                          on_error=self._guard(on_error) if on_error else None,
                          on_finished=self._guard(on_finished) if on_finished else None,
                          on_progress=self._guard(on_progress) if on_progress else None)
        if not was_busy:
            self.sigBusy.emit(True)
        self.sigProgress.emit(label or lane, -1.0, "")
        return job

    def _lane_idle(self) -> None:
        if not self.busy():
            self.sigBusy.emit(False)

    def _guard(self, fn):
        """Deliver a result only while the owner lives: results of tasks that end after the window
        closed (queued signals) are dropped instead of touching deleted widgets."""
        def call(*args):
            if self.closed:
                return
            try:
                fn(*args)
            except RuntimeError as exc:
                msg = str(exc)
                if "already deleted" in msg or "has been deleted" in msg:
                    return
                raise
        return call

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Cancel everything, wait for the threads, and drop any results still queued."""
        self.closed = True
        self.cancel_all()
        for lane in self.lanes.values():
            lane.shutdown()
        self.pool.waitForDone(timeout_ms)
        self.user_pool.waitForDone(timeout_ms)

    def _forward_progress(self, task: Task, item) -> None:
        frac, text = -1.0, ""
        if isinstance(item, dict):
            frac = float(item.get("progress", -1.0))
            text = str(item.get("message", ""))
        elif isinstance(item, (int, float)):
            frac = float(item)
        elif isinstance(item, str):
            text = item
        self.sigProgress.emit(task.label, frac, text)

    def _finished(self, task: Task) -> None:
        if task in self.tasks:
            self.tasks.remove(task)
        key = getattr(task, "key", None)
        if key is not None and self.keys.get(key) is task:
            del self.keys[key]
        if not self.tasks:
            self.sigBusy.emit(False)
        else:
            self.sigProgress.emit(self.tasks[-1].label, -1.0, "")

    def cancel_all(self) -> None:
        for t in list(self.tasks):
            self.cancel(t)
        for lane in self.lanes.values():
            lane.cancel()

    def busy(self) -> bool:
        return bool(self.tasks) or any(lane.busy() for lane in self.lanes.values())

    def wait(self, timeout_ms: int = 30000) -> bool:
        """Block until all thread tasks are done (tests, shutdown). Pending signals still need an event
        loop; process jobs report through it (use `busy()` in a wait loop for those)."""
        return self.pool.waitForDone(timeout_ms) and self.user_pool.waitForDone(timeout_ms)
