"""Run `core.mlip` generators in one long-lived worker process, as a generator in the caller.

CHGNet builds its crystal graph in Python and keeps the GIL for stretches that grow with the cell
(bench/mlip.py measures stalls of a 5 ms heartbeat thread: about 0.1 s at 12-48 atoms, 0.7-1.1 s at
108-192 atoms on a loaded 2-core machine), long enough to freeze a window. So the GUI runs force-field jobs here:

    for item in in_process("core.mlip.relax:relax", model, "chgnet", fmax=0.05, abort=event): ...

The process is started once (spawn) and keeps its loaded models between jobs; progress items, the
result and errors come back through a queue; setting `abort` (threading.Event or callable) stops the
job at its next step. Arguments and results must pickle (models, paths, ASE Atoms, numpy arrays do).
"""
from __future__ import annotations

import atexit
import importlib
import itertools
import queue
import threading

from core.errors import LayerStudioError

_LOCK = threading.Lock()
_WORKER = None
_IDS = itertools.count(1)


def _child(jobs, results, abort) -> None:  # pragma: no cover - runs in the worker process
    import inspect
    import pickle

    while True:
        job = jobs.get()
        if job is None:
            return
        job_id, target, args, kwargs = job
        abort.clear()
        try:
            module, name = target.split(":")
            fn = getattr(importlib.import_module(module), name)
            if "abort" in inspect.signature(fn).parameters:
                kwargs["abort"] = abort
            out = fn(*args, **kwargs)
            if inspect.isgenerator(out):
                while True:
                    try:
                        item = next(out)
                    except StopIteration as stop:
                        out = stop.value
                        break
                    results.put((job_id, "progress", item))
            pickle.dumps(out)  # fail here, reported, rather than silently in the queue's feeder thread
            results.put((job_id, "result", out))
        except LayerStudioError as exc:
            results.put((job_id, "user_error", (type(exc).__name__, str(exc))))
        except Exception as exc:
            results.put((job_id, "error", f"{type(exc).__name__}: {exc}"))


class _Worker:
    def __init__(self):
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        self.jobs, self.results, self.abort = ctx.Queue(), ctx.Queue(), ctx.Event()
        self.proc = ctx.Process(target=_child, args=(self.jobs, self.results, self.abort), daemon=True,
                                name="layerstudio-mlip")
        self.proc.start()
        self.busy = threading.Lock()

    def stop(self) -> None:
        try:
            self.jobs.put(None)
            self.proc.join(5)
        finally:
            if self.proc.is_alive():
                self.proc.terminate()
                self.proc.join(2)


def _worker() -> _Worker:
    global _WORKER
    with _LOCK:
        if _WORKER is None or not _WORKER.proc.is_alive():
            _WORKER = _Worker()
        return _WORKER


def shutdown() -> None:
    """Stop the worker process (started again on the next job)."""
    global _WORKER
    with _LOCK:
        if _WORKER is not None:
            _WORKER.stop()
            _WORKER = None


atexit.register(shutdown)


class WorkerError(LayerStudioError):
    """The worker process failed or died."""


def in_process(target: str, *args, abort=None, **kwargs):
    """Generator: run ``module:function(*args, **kwargs)`` in the worker process, yielding its progress
    items; returns its result. A `LayerStudioError` raised there is raised here with the same message."""
    w = _worker()
    job_id = next(_IDS)
    with w.busy:  # one job at a time; a second caller waits for the first
        w.jobs.put((job_id, target, args, kwargs))
        stopping = False
        try:
            while True:
                if not stopping and abort is not None and (abort() if callable(abort) else abort.is_set()):
                    w.abort.set()
                    stopping = True
                try:
                    jid, kind, payload = w.results.get(timeout=0.1)
                except queue.Empty:
                    if not w.proc.is_alive():
                        raise WorkerError("the force-field worker process stopped unexpectedly") from None
                    continue
                if jid != job_id:
                    continue  # a late message of an abandoned job
                if kind == "progress":
                    yield payload
                elif kind == "result":
                    return payload
                elif kind == "user_error":
                    raise WorkerError(payload[1])
                else:
                    raise WorkerError(f"force-field job failed: {payload}")
        except GeneratorExit:
            # the caller dropped us (cancelled task): stop the job and wait for its end so the worker
            # is free for the next one
            w.abort.set()
            _drain_until_done(w, job_id)
            raise


def _drain_until_done(w: _Worker, job_id: int, timeout: float = 120.0) -> None:
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end and w.proc.is_alive():
        try:
            jid, kind, _ = w.results.get(timeout=0.2)
        except queue.Empty:
            continue
        if jid == job_id and kind != "progress":
            return


__all__ = ["in_process", "shutdown", "WorkerError"]
