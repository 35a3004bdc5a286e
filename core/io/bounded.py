"""Bounded reading of user files: regular files only, a size cap checked before reading.

A path that is (or links to) a device such as /dev/zero, a FIFO, a socket or a directory is refused
without opening it for reading (opening a FIFO would block until a writer appears); the size is
checked on the opened descriptor, and at most ``max_bytes + 1`` bytes are ever read, so a file that
grows while it is read cannot exhaust memory either.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

#: Largest structure file (CIF, POSCAR, pymatgen JSON) read: a P1 CIF of 100,000 sites is ~6 MB.
MAX_STRUCTURE_BYTES = 50_000_000
#: Largest project file read: a 110,000-site project is ~0.2 MB, its snapshots ~0.3 MB each.
MAX_PROJECT_BYTES = 64 * 1024 * 1024
#: Largest number of atoms a structure file may list (checked before any per-atom allocation).
MAX_STRUCTURE_ATOMS = 200_000

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def read_bytes(path, max_bytes: int, error, what: str = "file") -> bytes:
    """The bytes of the regular file `path` (symlinks followed), at most `max_bytes` of them.

    error: the LayerStudioError subclass raised (one line naming the path and the problem) for a
    missing, unreadable, special or oversized file.
    """
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise error(f"cannot read {what} {path}: no such file") from None
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise error(f"cannot read {what} {path}: it is {_kind(st.st_mode)}, not a regular {what}")
    if st.st_size > max_bytes:
        raise error(_too_big(path, st.st_size, max_bytes, what))
    try:
        # O_NONBLOCK: if the path was swapped for a FIFO since the stat, open does not wait for a writer
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise error(f"cannot read {what} {path}: it is {_kind(st.st_mode)}, not a regular {what}")
        chunks, total = [], 0
        while total <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if total > max_bytes:
        raise error(_too_big(path, total, max_bytes, what))
    return b"".join(chunks)


def _too_big(path: Path, size: int, max_bytes: int, what: str) -> str:
    return (f"{path.name}: {size / 1e6:.1f} MB is larger than the {max_bytes / 1e6:.0f} MB Layer Studio reads "
            f"for a {what}")


__all__ = ["read_bytes", "MAX_STRUCTURE_BYTES", "MAX_PROJECT_BYTES", "MAX_STRUCTURE_ATOMS"]
