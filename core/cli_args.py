"""Argument types of the command line with their stated limits (`core.cli` uses them as ``type=``).

Each type turns a command-line string into a value or raises `argparse.ArgumentTypeError` with one line
that names the value and the allowed range, so argparse reports ``argument --sweeps: ...`` and exits 2.
Limits that depend on memory (the number of sites of a cell) are checked later, when the cell is
known (`core.structure.limits`); the fixed ranges here keep every number finite, non-negative where it
counts something, and small enough that the arrays it sizes cannot exhaust memory.
"""
from __future__ import annotations

import argparse
import math

from core.analysis.charge import MAX_STEPS
from core.io.bounded import MAX_PROJECT_BYTES, MAX_STRUCTURE_ATOMS, MAX_STRUCTURE_BYTES
from core.orderings.montecarlo import MAX_SWEEPS
from core.structure.limits import MAX_MATRIX_ENTRY, MEMORY_FRACTION, SITE_BYTES

#: Seeds: numpy's generators take any non-negative integer; 32 bits is plenty and prints short.
SEED_MAX = 2**32 - 1
#: Monte Carlo sweeps (attempted swaps per site) and rows of the state-of-charge table: the core's limits.
SWEEPS_MAX = MAX_SWEEPS
STEPS_MAX = MAX_STEPS
#: TM layers along c (the cell must also fit in memory).
LAYERS_MAX = 1_000
#: Rows printed by `paths`.
LIMIT_MAX = 1_000_000
#: Longest supercell spec accepted ('a,b,c,d' with 6-digit entries is 27 characters).
SPEC_MAX_CHARS = 40


def int_range(lo: int, hi: int):
    """An integer type accepting lo..hi (inclusive)."""
    def parse(text: str) -> int:
        t = text.strip().replace("_", "")
        try:
            value = int(t)
        except ValueError:
            try:
                f = float(t)
            except ValueError:
                f = math.nan
            if math.isfinite(f) and f == int(f):
                value = int(f)  # '1e6' written for a million
            else:
                raise argparse.ArgumentTypeError(f"invalid int value: {_show(text)} (a whole number {lo:,}..{hi:,})") \
                    from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{_show(text)} is out of range: allowed {lo:,}..{hi:,}")
        return value
    parse.__name__ = "integer"
    return parse


def float_range(lo: float, hi: float, *, lo_open: bool = True, unit: str = ""):
    """A finite float type in (lo, hi] (or [lo, hi] with lo_open=False)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid float value: {_show(text)}") from None
        ok = math.isfinite(value) and (value > lo if lo_open else value >= lo) and value <= hi
        if not ok:
            left = "(" if lo_open else "["
            raise argparse.ArgumentTypeError(f"{_show(text)} is out of range: allowed {left}{lo:g}, {hi:g}]{unit}")
        return value
    parse.__name__ = "number"
    return parse


def supercell_spec(text: str) -> str:
    """A supercell spec string of reasonable length (its meaning is checked by parse_supercell_spec)."""
    if len(text) > SPEC_MAX_CHARS:
        raise argparse.ArgumentTypeError(f"{_show(text)} is too long for a supercell spec (N, NxM, a,b,c,d, "
                                         "sqrt3 ...)")
    return text


def _show(text: str) -> str:
    t = str(text)
    return repr(t if len(t) <= 30 else t[:12] + "..." + f"({len(t)} characters)")


seed = int_range(0, SEED_MAX)
sweeps = int_range(1, SWEEPS_MAX)
steps = int_range(1, STEPS_MAX)
layers = int_range(1, LAYERS_MAX)
limit = int_range(0, LIMIT_MAX)
length = float_range(0.0, 1000.0, unit=" Angstrom")
symprec = float_range(0.0, 5.0, unit=" Angstrom")
kT = float_range(0.0, 1000.0, unit=" eV")
epsilon = float_range(0.0, 1000.0)

#: One line for --help epilogs.
LIMITS_HELP = (f"Limits: --seed 0..{SEED_MAX:,}; --sweeps 1..{SWEEPS_MAX:,}; --steps 1..{STEPS_MAX:,}; "
               f"--layers 1..{LAYERS_MAX:,}; supercell entries within +-{MAX_MATRIX_ENTRY:,}, and a cell must fit "
               f"in memory (about {SITE_BYTES / 1024:.0f} kB per site, at most {MEMORY_FRACTION:.0%} of the memory "
               f"available). Files: regular files only; structures up to {MAX_STRUCTURE_BYTES / 1e6:.0f} MB and "
               f"{MAX_STRUCTURE_ATOMS:,} atoms, projects up to {MAX_PROJECT_BYTES / 2**20:.0f} MiB. Nothing named "
               "in a file is imported or run.")

__all__ = ["int_range", "float_range", "supercell_spec", "seed", "sweeps", "steps", "layers", "limit", "length",
           "symprec", "kT", "epsilon", "LIMITS_HELP"]
