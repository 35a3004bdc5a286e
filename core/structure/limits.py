"""Resource limits derived from the memory this machine has free, not from fixed site counts.

A supercell costs about `SITE_BYTES` per occupiable site across everything that scales with the
cell: geometry arrays (~350 B/site measured for a 96 x 96 x 3 O3 cell), neighbour and migration
tables, Monte Carlo and charge arrays, the Ewald engine's per-site vectors and the layer view's
per-point brushes. A cell is refused only when that estimate exceeds `MEMORY_FRACTION` of the memory
available now (``MemAvailable`` on Linux), and the message says how much it needs and how much there is.

Fixed limits remain only where memory is not the question: numbers that must fit an int64 (supercell
matrix entries) and the size of a file the readers accept (`core.io.bounded`).
"""
from __future__ import annotations

import os

from core.errors import ResourceLimitError, SupercellError

#: Estimated bytes per occupiable site for a model in use (geometry, tables, analysis, view).
SITE_BYTES = 4096
#: Share of the available memory one model may take.
MEMORY_FRACTION = 0.5
#: Largest absolute entry of an in-plane supercell matrix and largest layer count (keeps every
#: product of them far inside int64; memory refuses real cells long before).
MAX_MATRIX_ENTRY = 100_000
MAX_LAYERS = 100_000
#: Used when the platform does not report its free memory.
FALLBACK_AVAILABLE_BYTES = 2 * 1024 ** 3


def available_bytes() -> int:
    """Memory available to this process now (bytes): MemAvailable, else free physical pages."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return FALLBACK_AVAILABLE_BYTES


def budget_bytes() -> int:
    """Bytes one model may use: MEMORY_FRACTION of the available memory."""
    return int(available_bytes() * MEMORY_FRACTION)


def max_sites() -> int:
    """Largest supercell (occupiable sites) that fits the current budget."""
    return budget_bytes() // SITE_BYTES


def check_sites(n_sites: int, what: str = "supercell") -> None:
    """CellTooLargeError (a SupercellError and a ResourceLimitError) if a cell of `n_sites` sites will not fit in memory."""
    need = int(n_sites) * SITE_BYTES
    budget = budget_bytes()
    if need > budget:
        raise CellTooLargeError(
            f"{what} with {int(n_sites):,} sites needs about {_mb(need)} of memory; "
            f"{_mb(available_bytes())} is available and one model may use {MEMORY_FRACTION:.0%} of it "
            f"(at most about {budget // SITE_BYTES:,} sites now): choose a smaller cell")


def _mb(n: int) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


class CellTooLargeError(SupercellError, ResourceLimitError):
    """A cell that does not fit the memory budget (a SupercellError and a ResourceLimitError)."""


__all__ = ["SITE_BYTES", "MEMORY_FRACTION", "MAX_MATRIX_ENTRY", "MAX_LAYERS", "available_bytes", "budget_bytes",
           "max_sites", "check_sites", "CellTooLargeError"]
