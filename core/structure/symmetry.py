"""spglib's symmetry search: space group of a model or a pymatgen Structure.

For a Model, core.structure.lattice_symmetry gives the same answer in milliseconds (docs/science.md §17);
the window asks spglib only when that cannot decide.

Results are cached on a hashable key (occupancy bytes + lattice + basis heights, or the structure's
lattice, coordinates and species), so asking again for an unchanged model is free. spglib reports
failure by returning None (or raising `SpglibError` in its new error mode); both become
`core.errors.SymmetryError`. spglib >= 2.5 datasets are read by attribute.
"""
from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.errors import SymmetryError
from core.structure.species import VACANCY

# spglib's C library prints "spglib: ... failed" lines on stderr when a tolerance does not work; we
# report failures ourselves (SymmetryError, export notes), and the CLI promises one stderr line.
os.environ.setdefault("SPGLIB_WARNING", "OFF")

DEFAULT_SYMPREC = 1e-3  # Angstrom; the tolerance used for the reference-file space groups
_CACHE_SIZE = 256
_cache: OrderedDict[tuple, SpaceGroupInfo] = OrderedDict()


@dataclass(frozen=True)
class SpaceGroupInfo:
    """International (Hermann-Mauguin) symbol, number 1-230, and the tolerance used (Angstrom)."""

    symbol: str
    number: int
    symprec: float

    def __str__(self) -> str:
        return f"{self.symbol} ({self.number}), symprec {self.symprec:g} A"

    def to_dict(self) -> dict:
        return {"symbol": self.symbol, "number": self.number, "symprec": self.symprec}


def spglib_cell(model_or_structure) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lattice (3, 3) Angstrom rows, fractional positions (n, 3), type numbers (n,)) for spglib.

    For a Model the types are species codes of the occupied sites (vacancies dropped); for a
    pymatgen Structure they index the distinct species (so Mn3+ and Mn4+ count as different).
    """
    if hasattr(model_or_structure, "occupancy") and hasattr(model_or_structure, "supercell"):
        sc = model_or_structure.supercell
        occ = np.asarray(model_or_structure.occupancy)
        keep = occ != VACANCY
        return (np.asarray(sc.lattice, float), np.asarray(sc.frac, float)[keep],
                occ[keep].astype(np.int32))
    if hasattr(model_or_structure, "lattice") and hasattr(model_or_structure, "frac_coords"):
        s = model_or_structure
        kinds: dict[str, int] = {}
        types = np.array([kinds.setdefault(str(site.species), len(kinds) + 1) for site in s],
                         dtype=np.int32)
        return np.asarray(s.lattice.matrix, float), np.asarray(s.frac_coords, float), types
    raise TypeError(f"expected a Model or a pymatgen Structure, not {type(model_or_structure).__name__}")


def _key(cell, symprec: float) -> tuple:
    lattice, positions, types = cell
    return (np.round(lattice, 9).tobytes(), np.round(positions, 9).tobytes(), types.tobytes(),
            float(symprec))


#: Largest cell (atoms) given to spglib: its time grows faster than linearly (measured here: 8 s at
#: 15,552 atoms, 26 s at 27,648, more than 10 minutes at 110,592), and it holds the GIL, so a window
#: computing it in a worker would freeze.
MAX_ATOMS = 20_000


def space_group(model_or_structure, symprec: float = DEFAULT_SYMPREC) -> SpaceGroupInfo:
    """Space group of a Model (occupied sites) or a pymatgen Structure at tolerance `symprec`.

    Raises SymmetryError when the cell is empty or larger than MAX_ATOMS, the tolerance is not
    positive, or spglib finds no space group (e.g. overlapping atoms at this tolerance).
    """
    try:
        symprec = float(symprec)
    except (TypeError, ValueError):
        raise SymmetryError(f"symmetry tolerance {symprec!r} is not a number") from None
    if not symprec > 0 or not np.isfinite(symprec):
        raise SymmetryError(f"symmetry tolerance must be a positive length in Angstrom, not {symprec}")
    cell = spglib_cell(model_or_structure)
    if len(cell[2]) == 0:
        raise SymmetryError("no atoms: the space group of an empty cell is undefined")
    if len(cell[2]) > MAX_ATOMS:
        raise SymmetryError(f"not computed for {len(cell[2]):,} atoms (spglib takes minutes above {MAX_ATOMS:,}, "
                            "holding the interpreter); the same ordering in a smaller cell has the same group")
    key = _key(cell, symprec)
    hit = _cache.get(key)
    if hit is not None:
        _cache.move_to_end(key)
        return hit
    info = _spglib_space_group(cell, symprec)
    _cache[key] = info
    if len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return info


def cached_space_group(model_or_structure, symprec: float = DEFAULT_SYMPREC):
    """(cached SpaceGroupInfo or None, spglib cell) without calling spglib: callers that run spglib
    elsewhere (a child process: it holds the GIL for seconds on big cells) ask here first and
    `remember` the answer, so going back to a configuration seen before is free."""
    cell = spglib_cell(model_or_structure)
    hit = _cache.get(_key(cell, float(symprec))) if len(cell[2]) else None
    return hit, cell


def cell_space_group(cell, symprec: float = DEFAULT_SYMPREC) -> SpaceGroupInfo:
    """Space group of a spglib cell (lattice (3, 3), fractional positions (n, 3), types (n,)): the
    picklable entry point for a child process. SymmetryError as for `space_group`."""
    if len(cell[2]) == 0:
        raise SymmetryError("no atoms: the space group of an empty cell is undefined")
    return _spglib_space_group(cell, float(symprec))


def remember(cell, info: SpaceGroupInfo) -> None:
    """Store a result computed elsewhere (see `cached_space_group`)."""
    _cache[_key(cell, info.symprec)] = info
    if len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)


def _spglib_space_group(cell, symprec: float) -> SpaceGroupInfo:
    import warnings

    import spglib

    try:
        with warnings.catch_warnings():
            # old-style error handling warns before returning None; we raise our own error instead
            warnings.simplefilter("ignore")
            dataset = spglib.get_symmetry_dataset(cell, symprec=symprec)
    except Exception as exc:  # spglib.SpglibError in the new error mode, or a bad cell
        raise SymmetryError(f"spglib could not determine a space group at symprec {symprec:g}: {exc}") from None
    if dataset is None:
        raise SymmetryError(f"spglib could not determine a space group at symprec {symprec:g} A; "
                            "try a smaller tolerance")
    return SpaceGroupInfo(str(dataset.international), int(dataset.number), symprec)


def symmetry_operations(lattice, frac, types, symprec: float = DEFAULT_SYMPREC):
    """(rotations (k, 3, 3) int, translations (k, 3)) of a cell in fractional coordinates (spglib).

    Added for core.orderings.enumeration (site permutations of a parent cell); SymmetryError if spglib fails."""
    import warnings

    import spglib

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cell: Any = (np.asarray(lattice), np.asarray(frac), np.asarray(types))
            ops = spglib.get_symmetry(cell,
                                      symprec=symprec)
    except Exception as exc:
        raise SymmetryError(f"spglib could not find symmetry operations at symprec {symprec:g}: {exc}") from None
    if ops is None:
        raise SymmetryError(f"spglib could not find symmetry operations at symprec {symprec:g} A")
    return np.asarray(ops["rotations"]), np.asarray(ops["translations"])


def space_group_of_cell(lattice, frac, types, symprec: float = DEFAULT_SYMPREC) -> SpaceGroupInfo:
    """Space group of a bare cell (lattice rows, fractional positions, integer types); SymmetryError
    if spglib fails. For cells that are not a Model, e.g. one sublattice on its own."""
    cell = (np.asarray(lattice, float), np.asarray(frac, float), np.asarray(types, dtype=np.int32))
    return _spglib_space_group(cell, symprec)


def clear_cache() -> None:
    _cache.clear()


__all__ = ["SpaceGroupInfo", "space_group", "space_group_of_cell", "spglib_cell", "clear_cache",
           "DEFAULT_SYMPREC", "cached_space_group", "cell_space_group", "remember"]
