"""Run slow core work on a QThreadPool with progress and cancel; results arrive on the GUI thread.

A task is either a plain function or a generator function from `core` (Monte Carlo, presets on big
cells) that yields progress items. Workers never touch widgets: they emit signals of a `TaskSignals`
object that lives in the GUI thread, so the connected slots run there (queued connections).

    task = runner.submit(core_fn, arg, label="Space group", on_result=show)
    task.cancel()   # sets the abort event; a generator is closed at its next yield

Progress items from generators are forwarded as they come (throttled to ~20 per second); a yielded
dict with a "progress" key in 0..1 drives the progress bar. The generator's return value (or, if it
returns None, its last yielded item) is the result.
"""
from __future__ import annotations

import inspect
import logging
import threading
import time
import traceback
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from core.errors import LayerStudioError

log = logging.getLogger(__name__)


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
        from pyqtgraph.util.garbage_collector import GarbageCollector
        _GUI_THREAD_GC = GarbageCollector(interval=1.0)


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
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self.tasks: list[Task] = []
        self.closed = False

    def submit(self, fn: Callable, *args, label: str = "", on_result=None, on_error=None,
               on_progress=None, on_finished=None, priority: int = 0, **kwargs) -> Task:
        """Run fn(*args, **kwargs) on the pool; higher `priority` tasks start first when the pool is
        busy (the live-energy engine outranks analysis panels). Callbacks run on the GUI thread."""
        task = Task(fn, *args, label=label, **kwargs)
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
        self.pool.start(task, priority)
        return task

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
        self.pool.waitForDone(timeout_ms)

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
        if not self.tasks:
            self.sigBusy.emit(False)
        else:
            self.sigProgress.emit(self.tasks[-1].label, -1.0, "")

    def cancel_all(self) -> None:
        for t in list(self.tasks):
            t.cancel()

    def busy(self) -> bool:
        return bool(self.tasks)

    def wait(self, timeout_ms: int = 30000) -> bool:
        """Block until all tasks are done (tests, shutdown). Pending signals still need an event loop."""
        return self.pool.waitForDone(timeout_ms)
