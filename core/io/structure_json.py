"""pymatgen Structure JSON (``Structure.as_dict()``, what `export` writes as ``*.pmg.json``), read safely.

pymatgen's own ``Structure.from_dict`` passes site and structure properties through monty's
``MontyDecoder``, which imports whatever module an ``"@module"`` key names: a file could make the app
import (and so run) any installed module. This reader never imports, looks up or calls anything named
in the file. It decodes only the documented fields:

- ``lattice.matrix``: 3 x 3 finite numbers (Angstrom, rows);
- ``sites[*].species``: ``[{"element": "Mn", "occu": 1.0, "oxidation_state": 4}, ...]``, elements
  from the periodic table (or the vacancy marker X), occupancies in [0, 1.05], oxidation states in
  [-10, 10];
- ``sites[*].abc`` (fractional) or, without it, ``sites[*].xyz`` (Cartesian, Angstrom).

Everything else (``properties``, ``label``, ``@module``/``@class``, ``charge``) is ignored, and the
top-level ``@class`` must say ``Structure`` (or be absent).
"""
from __future__ import annotations

import json
import math

import numpy as np

from core.errors import StructureImportError
from core.io.bounded import MAX_STRUCTURE_ATOMS, MAX_STRUCTURE_BYTES, read_bytes
from core.io.cif_reader import VACANCY_MARKERS, _elements

OCCUPANCY_TOLERANCE = 1.05


def read_structure_json(path, max_atoms: int = MAX_STRUCTURE_ATOMS):
    """pymatgen Structure from a ``*.pmg.json`` file (see the module docstring); StructureImportError
    naming the file and the problem otherwise."""
    from pathlib import Path

    path = Path(path)
    data = read_bytes(path, MAX_STRUCTURE_BYTES, StructureImportError, "structure file")
    try:
        doc = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        raise StructureImportError(f"{path.name}: not UTF-8 text (byte {exc.start}): not a pymatgen "
                                   "Structure JSON") from None
    except RecursionError:
        raise StructureImportError(f"{path.name}: JSON nested too deeply") from None
    except ValueError as exc:
        raise StructureImportError(f"{path.name}: not a pymatgen Structure JSON ({_short(exc)})") from None
    return structure_from_dict(doc, path.name, max_atoms)


def structure_from_dict(doc, name: str = "<memory>", max_atoms: int = MAX_STRUCTURE_ATOMS):
    """Decode a ``Structure.as_dict()`` document without monty (nothing named in it is imported)."""
    from pymatgen.core import DummySpecies, Element, Lattice, Species, Structure

    def bad(problem: str) -> StructureImportError:
        return StructureImportError(f"{name}: {problem}")

    if not isinstance(doc, dict):
        raise bad("not a pymatgen Structure JSON (expected an object at the top level)")
    cls = doc.get("@class", "Structure")
    if cls != "Structure":
        raise bad(f"not a pymatgen Structure JSON (@class is {str(cls)[:40]!r}; only 'Structure' is read)")
    lat = doc.get("lattice")
    matrix = lat.get("matrix") if isinstance(lat, dict) else None
    matrix = _finite_array(matrix, (3, 3), "lattice.matrix", bad)
    vol = abs(float(np.linalg.det(matrix)))
    if vol < 1e-6:
        raise bad(f"non-physical cell: volume {vol:.3g} cubic Angstrom")
    sites = doc.get("sites")
    if not isinstance(sites, list):
        raise bad("'sites' must be a list of sites")
    if len(sites) > max_atoms:
        raise bad(f"{len(sites):,} sites is more than the {max_atoms:,} atoms Layer Studio reads from one file")
    known = _elements()
    cache: dict[tuple, object] = {}
    species_list, coords = [], np.empty((len(sites), 3))
    inv = None
    for k, site in enumerate(sites):
        where = f"site {k}"
        if not isinstance(site, dict):
            raise bad(f"{where} is not an object")
        entries = site.get("species")
        if not isinstance(entries, list) or not entries:
            raise bad(f"{where}: 'species' must be a non-empty list")
        comp: dict = {}
        for e in entries:
            if not isinstance(e, dict):
                raise bad(f"{where}: a species entry is not an object")
            el = e.get("element")
            if not isinstance(el, str):
                raise bad(f"{where}: element must be a symbol, found {str(el)[:20]!r}")
            if el not in known and el not in VACANCY_MARKERS:
                raise bad(f"{where}: unknown element {el[:20]!r}")
            occ = e.get("occu", 1.0)
            if not _is_number(occ):
                raise bad(f"{where}: occupancy {str(occ)[:20]!r} is not a number")
            if occ < 0 or occ > OCCUPANCY_TOLERANCE:
                raise bad(f"{where}: occupancy {occ:g} of {el} is outside 0..1")
            ox = e.get("oxidation_state")
            if ox is not None and (not _is_number(ox) or abs(ox) > 10):
                raise bad(f"{where}: oxidation state {str(ox)[:20]!r} of {el} is not a number in -10..10")
            key = (el, None if ox is None else float(ox))
            sp = cache.get(key)
            if sp is None:
                if el in VACANCY_MARKERS:
                    sp = DummySpecies("X", 0 if ox is None else key[1])
                else:
                    sp = Species(el, _oxi(key[1])) if ox is not None else Element(el)
                cache[key] = sp
            comp[sp] = comp.get(sp, 0.0) + float(occ)
        if sum(comp.values()) > OCCUPANCY_TOLERANCE:
            raise bad(f"{where}: total occupancy {sum(comp.values()):.3g} is more than 1")
        if "abc" in site:
            coords[k] = _finite_array(site["abc"], (3,), f"{where}.abc", bad)
        elif "xyz" in site:
            inv = np.linalg.inv(matrix) if inv is None else inv
            coords[k] = _finite_array(site["xyz"], (3,), f"{where}.xyz", bad) @ inv
        else:
            raise bad(f"{where}: no coordinates ('abc' or 'xyz')")
        if np.abs(coords[k]).max() > 1e6:
            raise bad(f"{where}: coordinates {coords[k].tolist()} are out of range")
        species_list.append(comp)
    return Structure(Lattice(matrix), species_list, coords, validate_proximity=False)


def _finite_array(value, shape, label, bad) -> np.ndarray:
    ok = isinstance(value, list)
    if ok:
        flat = value if len(shape) == 1 else [x for row in value if isinstance(row, list) for x in row]
        ok = (len(value) == shape[0] and len(flat) == int(np.prod(shape))
              and all(_is_number(x) for x in flat))
    if not ok:
        raise bad(f"{label} must be {' x '.join(map(str, shape))} finite numbers, found {str(value)[:60]}")
    return np.array(flat, float).reshape(shape)


def _is_number(v) -> bool:
    """A JSON number that converts to a finite float (huge integers do not)."""
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return False
    try:
        return math.isfinite(float(v))
    except OverflowError:
        return False


def _oxi(v: float):
    return int(round(v)) if abs(v - round(v)) < 1e-9 else v


def _reject_constant(token: str):
    raise ValueError(f"non-finite number {token} is not allowed")


def _short(exc) -> str:
    return " ".join(str(exc).split())[:160]


__all__ = ["read_structure_json", "structure_from_dict"]
