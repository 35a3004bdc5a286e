"""Module-level jobs for child-process tests (importable by name in a fresh interpreter, Qt-free)."""
import os
import time


def counted_steps(n: int, dt: float = 0.05, abort=None):
    """Generator: n steps of `dt` seconds yielding {"step", "pid"}, stopping early when `abort` is set;
    returns (steps done, pid, aborted)."""
    i = 0
    for i in range(n):
        if abort is not None and abort.is_set():
            return i, os.getpid(), True
        time.sleep(dt)
        yield {"step": i, "pid": os.getpid(), "progress": (i + 1) / n}
    return n, os.getpid(), False
