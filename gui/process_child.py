"""The loop of a child process started by gui.processes (Qt-free, so the child imports no Qt).

Started as `python -c ...` with two inherited pipe descriptors rather than through multiprocessing's
spawn, which would import the parent's __main__ again: a user's script without an
`if __name__ == "__main__"` guard would open a second window in every child.
"""
from __future__ import annotations

import os


def main(read_fd: int, write_fd: int) -> None:
    """Receive (job id, fn, args); send (job id, "ok"|"error", value); stop on None or a closed pipe."""
    from multiprocessing.connection import Connection

    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    from core.errors import LayerStudioError

    rx = Connection(read_fd, writable=False)
    tx = Connection(write_fd, readable=False)
    while True:
        try:
            msg = rx.recv()
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
        except Exception as exc:  # a bug: one line for the user
            out = (job_id, "error", f"{type(exc).__name__}: {exc}")
        try:
            tx.send(out)
        except (BrokenPipeError, OSError):
            return
