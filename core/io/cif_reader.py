"""CIF reading with gemmi's CIF parser; pymatgen only for what needs it (symmetry expansion).

Every CIF is first tokenised by gemmi (a C++ parser: a 15,552-atom P1 file in ~20 ms, against tens of
seconds in pymatgen's pure-Python parser) and checked before any structure is built:

- the cell: a, b, c > 0 Angstrom, angles strictly between 0 and 180 degrees, a positive volume;
- every atom row: a known element (or the vacancy markers X / Va), an occupancy in [0, 1.05]
  ('?' and '.' mean 1), finite coordinates;
- the number of atoms the file will expand to (rows x symmetry operations) against
  `core.io.bounded.MAX_STRUCTURE_ATOMS`, before anything per atom is allocated.

A P1 file (only the identity operation, or space group P 1) becomes a pymatgen Structure directly from
gemmi's table; rows at the same position (a mixed site written as several rows) are merged into one
site, as pymatgen's CifParser does. A symmetrized file goes to pymatgen's CifParser, which expands the
operations and merges equivalent positions. No name in a file is ever imported or executed: a CIF is
data (tags and values), and the species are looked up in a fixed table.
"""
from __future__ import annotations

import math
import re
import warnings

import numpy as np

from core.errors import StructureImportError
from core.io.bounded import MAX_STRUCTURE_ATOMS

#: Symbols that mean "no atom here" (Layer Studio writes X for vacancies when asked to keep them).
VACANCY_MARKERS = ("X", "Va", "Vac")
#: Largest number of symmetry operations of a space group in a conventional setting (Fm-3m).
MAX_SYMMETRY_OPS = 192
OCCUPANCY_TOLERANCE = 1.05

_SYMOP_TAGS = ("_symmetry_equiv_pos_as_xyz", "_space_group_symop_operation_xyz", "_space_group_symop.operation_xyz")
_SYMBOL_TAGS = ("_symmetry_space_group_name_H-M", "_space_group_name_H-M_alt", "_space_group.name_H-M_alt")
_NUMBER_TAGS = ("_symmetry_Int_Tables_number", "_space_group_IT_number", "_space_group.IT_number")
_SPECIES_RE = re.compile(r"^([A-Z][a-z]?)(\d*\.?\d*)([+-]?)$")
_LABEL_RE = re.compile(r"^([A-Z][a-z]?)")


def _elements() -> frozenset[str]:
    from pymatgen.core.periodic_table import Element

    return frozenset(e.symbol for e in Element)


def parse_species(symbol: str) -> tuple[str, float | None]:
    """'Mn4+' -> ('Mn', 4.0); 'O2-' -> ('O', -2.0); 'Li' -> ('Li', None); 'Li+' -> ('Li', 1.0).
    The element part is returned as written (checked by the caller); ValueError if unreadable."""
    s = symbol.strip()
    m = _SPECIES_RE.match(s)
    if not m:
        raise ValueError(symbol)
    el, num, sign = m.groups()
    if not sign:
        if num:  # 'Fe2' style labels: a number without a sign is not a charge
            return el, None
        return el, None
    return el, (float(num) if num else 1.0) * (-1.0 if sign == "-" else 1.0)


class CifTable:
    """What a CIF block says, checked: cell parameters, atom rows, symmetry operations."""

    def __init__(self, name: str, cell: tuple[float, ...], labels: list[str], elements: list[str],
                 oxidation: list[float | None], occupancy: np.ndarray, frac: np.ndarray, symops: list[str],
                 symbol: str, symmetric: bool, notes: list[str]):
        self.name, self.cell, self.labels, self.elements = name, cell, labels, elements
        self.oxidation, self.occupancy, self.frac = oxidation, occupancy, frac
        self.symops, self.symbol, self.symmetric, self.notes = symops, symbol, symmetric, notes

    def lattice_matrix(self) -> np.ndarray:
        return lattice_from_parameters(*self.cell)


def lattice_from_parameters(a, b, c, alpha, beta, gamma) -> np.ndarray:
    """Rows a, b, c (Angstrom) in pymatgen's convention (c along z... as `Lattice.from_parameters`)."""
    from pymatgen.core import Lattice

    return np.asarray(Lattice.from_parameters(a, b, c, alpha, beta, gamma).matrix, float)


def _first_value(block, tags) -> str:
    """The first of `tags` that the CIF block sets, as text ("" if none)."""
    from gemmi import cif

    for tag in tags:
        val = block.find_value(tag)
        if val is not None:
            return cif.as_string(val).strip()
    return ""


def read_table(text: str, name: str, max_atoms: int = MAX_STRUCTURE_ATOMS) -> CifTable:
    """Parse and check the first CIF block that lists atom sites (see the module docstring)."""
    from gemmi import cif

    try:
        doc = cif.read_string(text)
    except (RuntimeError, ValueError, IndexError) as exc:
        msg = " ".join(str(exc).split())[:160]
        raise StructureImportError(f"{name}: not a CIF or POSCAR (CIF syntax: {msg})") from None
    blocks = [b for b in doc if b.find_value("_atom_site_fract_x") is not None
              or b.find_loop("_atom_site_fract_x").tag or b.find_loop("_atom_site_Cartn_x").tag
              or b.find_value("_atom_site_Cartn_x") is not None]
    if not blocks:
        raise StructureImportError(f"{name}: not a CIF or POSCAR: no block lists atom sites")
    notes = []
    if len(blocks) > 1:
        notes.append(f"{len(blocks)} data blocks: the first was imported")
    block = blocks[0]

    def number(tag: str, required: bool = True) -> float | None:
        raw = block.find_value(tag)
        if raw is None:
            if required:
                raise StructureImportError(f"{name}: the cell is incomplete: {tag} is missing")
            return None
        v = cif.as_number(raw)
        if not math.isfinite(v):
            raise StructureImportError(f"{name}: {tag} is {cif.as_string(raw)!r}, not a number")
        return v

    cell = tuple(number(t) for t in ("_cell_length_a", "_cell_length_b", "_cell_length_c",
                                      "_cell_angle_alpha", "_cell_angle_beta", "_cell_angle_gamma"))
    for tag, v in zip(("a", "b", "c"), cell[:3]):
        if not v > 0:
            raise StructureImportError(f"{name}: non-physical cell: length {tag} = {v:g} Angstrom (must be > 0)")
        if v > 10_000:
            raise StructureImportError(f"{name}: non-physical cell: length {tag} = {v:g} Angstrom")
    for tag, v in zip(("alpha", "beta", "gamma"), cell[3:]):
        if not 0 < v < 180:
            raise StructureImportError(f"{name}: non-physical cell: angle {tag} = {v:g} degrees (must be "
                                       "between 0 and 180)")
    ca, cb, cg = (math.cos(math.radians(x)) for x in cell[3:])
    v2 = 1 - ca * ca - cb * cb - cg * cg + 2 * ca * cb * cg
    volume = cell[0] * cell[1] * cell[2] * math.sqrt(max(v2, 0.0))
    if not volume > 1e-6 or v2 < 1e-10:
        shown = "0" if v2 < 1e-10 else f"{volume:.3g}"
        raise StructureImportError(f"{name}: non-physical cell: volume {shown} cubic Angstrom from angles "
                                   f"{cell[3]:g}, {cell[4]:g}, {cell[5]:g}")

    # symmetry operations: listed, or implied by a space-group symbol/number
    symops: list[str] = []
    for tag in _SYMOP_TAGS:
        col = block.find_loop(tag)
        if col.tag:
            symops = [cif.as_string(v) for v in col]
            break
        val = block.find_value(tag)
        if val is not None:
            symops = [cif.as_string(val)]
            break
    symbol = _first_value(block, _SYMBOL_TAGS)
    number_sg = _first_value(block, _NUMBER_TAGS)
    if symops:
        symmetric = len(symops) > 1
    elif symbol:
        symmetric = symbol.replace(" ", "").upper() not in ("P1", "?", ".")
    else:
        symmetric = number_sg not in ("", "1", "?", ".")
    n_ops = len(symops) if symops and symmetric else (MAX_SYMMETRY_OPS if symmetric else 1)
    if len(symops) > MAX_SYMMETRY_OPS:
        raise StructureImportError(f"{name}: {len(symops)} symmetry operations; no space group has more than "
                                   f"{MAX_SYMMETRY_OPS}")

    # atom rows: columns 0 label, 1 type_symbol, 2-4 fract_xyz, 5 occupancy (fractional coordinates), or
    # the same with Cartesian coordinates when a file gives only those
    cart = not (block.find_loop("_atom_site_fract_x").tag or block.find_value("_atom_site_fract_x") is not None)
    coords = ["Cartn_x", "?Cartn_y", "?Cartn_z"] if cart else ["fract_x", "?fract_y", "?fract_z"]
    table = block.find("_atom_site_", coords + ["?label", "?type_symbol", "?occupancy"])
    cols = {"x": 0, "y": 1, "z": 2, "label": 3, "type": 4, "occ": 5}
    n_rows = len(table)
    if n_rows * n_ops > max_atoms:
        what = f"{n_rows} atom rows" + (f" x {n_ops} symmetry operations" if n_ops > 1 else "")
        raise StructureImportError(f"{name}: {what} is more than the {max_atoms:,} atoms Layer Studio reads "
                                   "from one file")
    if not (table.has_column(1) and table.has_column(2)):
        raise StructureImportError(f"{name}: the atom-site loop has no (complete) coordinates")
    if not (table.has_column(3) or table.has_column(4)):
        raise StructureImportError(f"{name}: the atom-site loop has neither labels nor type symbols")

    def column(i: int) -> list[str]:
        return [cif.as_string(v) for v in table.column(i)] if table.has_column(i) else []

    labels = column(cols["label"])
    types = column(cols["type"]) or [""] * n_rows
    if not labels:
        labels = [f"{t}{k + 1}" for k, t in enumerate(types)]
    ox_by_type = _atom_type_oxidation(block, cif)
    known = _elements()
    elements, oxidation = [], []
    for label, typ in zip(labels, types):
        raw = typ if typ not in ("", "?", ".") else label
        try:
            el, ox = parse_species(raw) if typ not in ("", "?", ".") else (_label_element(label), None)
        except ValueError:
            raise StructureImportError(f"{name}: site {label!r}: cannot read the species {raw!r}") from None
        if el not in known and el not in VACANCY_MARKERS:
            raise StructureImportError(f"{name}: site {label!r}: unknown element {el!r} (not in the periodic table)")
        if ox is None and typ in ox_by_type:
            ox = ox_by_type[typ]
        elements.append(el)
        oxidation.append(ox)

    def numbers(i: int, what: str, default: float | None = None) -> np.ndarray:
        if not table.has_column(i):
            return np.full(n_rows, default, float)
        values = list(table.column(i))
        try:  # plain numbers (no '(3)' uncertainties, no '?'): one numpy conversion
            out = np.array(values, dtype=float)
            if np.all(np.isfinite(out)):
                return out
        except ValueError:
            pass
        out = np.empty(n_rows)
        for k, v in enumerate(values):
            x = cif.as_number(v)
            if not math.isfinite(x):
                if default is not None and v in ("?", "."):
                    x = default
                else:
                    raise StructureImportError(f"{name}: site {labels[k]!r}: {what} is {cif.as_string(v)!r}, "
                                               "not a finite number")
            out[k] = x
        return out

    occupancy = numbers(cols["occ"], "occupancy", 1.0)
    bad = np.flatnonzero((occupancy < 0) | (occupancy > OCCUPANCY_TOLERANCE))
    if bad.size:
        k = int(bad[0])
        raise StructureImportError(f"{name}: site {labels[k]!r}: occupancy {occupancy[k]:g} is outside 0..1")
    xyz = np.column_stack([numbers(cols[ax], f"coordinate {ax}") for ax in "xyz"]) if n_rows else np.zeros((0, 3))
    if cart:
        xyz = xyz @ np.linalg.inv(lattice_from_parameters(*cell))
    if np.abs(xyz).max(initial=0.0) > 1e6:
        k = int(np.argmax(np.abs(xyz).max(axis=1)))
        raise StructureImportError(f"{name}: site {labels[k]!r}: coordinates {xyz[k].tolist()} are out of range")
    return CifTable(name, cell, labels, elements, oxidation, occupancy, xyz, symops, symbol, symmetric, notes)


def _label_element(label: str) -> str:
    m = _LABEL_RE.match(label.strip())
    if not m:
        raise ValueError(label)
    el = m.group(1)
    if el not in _elements() and len(el) == 2 and el[0] in _elements():
        el = el[0]  # 'OA1', 'CO1'-style labels: pymatgen reads the one-letter element
    return el


def _atom_type_oxidation(block, cif) -> dict[str, float]:
    out = {}
    table = block.find("_atom_type_", ["symbol", "oxidation_number"])
    for row in table:
        x = cif.as_number(row[1])
        if math.isfinite(x) and abs(x) <= 10:
            out[cif.as_string(row[0])] = x
    return out


class LightStructure:
    """Read-only stand-in for a pymatgen Structure of a large P1 file: what the importer reads
    (``len``, iteration over sites with ``species`` {Species: occupancy} and ``frac_coords``,
    ``lattice.matrix``, ``frac_coords``, ``composition``), without building 10^5 pymatgen Site objects
    (about 0.2 ms each). `to_pymatgen()` gives the real Structure."""

    class _Site:
        __slots__ = ("species", "frac_coords")

        def __init__(self, species, frac_coords):
            self.species, self.frac_coords = species, frac_coords

    class _Lattice:
        def __init__(self, matrix):
            self.matrix = matrix

    def __init__(self, matrix: np.ndarray, species: list[dict], frac: np.ndarray):
        self.lattice = self._Lattice(np.asarray(matrix, float))
        self.species = species
        self.frac_coords = np.asarray(frac, float)

    def __len__(self) -> int:
        return len(self.species)

    def __getitem__(self, i: int):
        return self._Site(self.species[i], self.frac_coords[i])

    def __iter__(self):
        return (self._Site(sp, xyz) for sp, xyz in zip(self.species, self.frac_coords))

    @property
    def composition(self):
        from pymatgen.core import Composition

        total: dict = {}
        for comp in self.species:
            for sp, occ in comp.items():
                total[sp] = total.get(sp, 0.0) + occ
        return Composition(total)

    def to_pymatgen(self):
        from pymatgen.core import Lattice, Structure

        return Structure(Lattice(self.lattice.matrix), self.species, self.frac_coords, validate_proximity=False)


def structure_from_table(t: CifTable, merge_tol: float = 1e-4, light: bool = False):
    """pymatgen Structure of a P1 table (rows at one position merged into one mixed site); with
    light=True a `LightStructure` holding the same sites."""
    from pymatgen.core import Element, Lattice, Species, Structure

    keep = [k for k in range(len(t.labels)) if t.elements[k] not in VACANCY_MARKERS and t.occupancy[k] > 0]
    frac = np.mod(t.frac[keep], 1.0) if keep else np.zeros((0, 3))
    # coincident rows: same position within merge_tol (fractional), across the cell boundary too
    grid = np.round(frac / merge_tol).astype(np.int64) % int(round(1 / merge_tol))
    _, first, inverse = np.unique(grid, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    cache: dict[tuple, object] = {}
    species: list[dict] = [dict() for _ in first]
    for j, k in enumerate(keep):
        key = (t.elements[k], t.oxidation[k])
        sp = cache.get(key)
        if sp is None:
            el, ox = key
            sp = cache[key] = Species(el, _oxi(ox)) if ox is not None else Element(el)
        site = species[inverse[j]]
        site[sp] = site.get(sp, 0.0) + float(t.occupancy[k])
    for k, comp in enumerate(species):
        total = sum(comp.values())
        if total > OCCUPANCY_TOLERANCE:
            label = t.labels[keep[int(first[k])]]
            raise StructureImportError(f"{t.name}: site {label!r}: total occupancy {total:.3g} at one position "
                                       "is more than 1")
    order = np.argsort(first, kind="stable")  # file order of each position's first row
    if light:
        return LightStructure(t.lattice_matrix(), [species[k] for k in order], frac[first[order]])
    return Structure(Lattice(t.lattice_matrix()), [species[k] for k in order], frac[first[order]],
                     validate_proximity=False)


def _oxi(v: float):
    return int(round(v)) if abs(v - round(v)) < 1e-9 else v


def parse_cif(text: str, name: str, max_atoms: int = MAX_STRUCTURE_ATOMS, light_above: int | None = None):
    """(pymatgen Structure, symmetrized?, notes) of the first block with atoms; a P1 file of more than
    `light_above` rows gives a `LightStructure` instead."""
    table = read_table(text, name, max_atoms)
    if not table.symmetric:
        light = light_above is not None and len(table.labels) > light_above
        structure = structure_from_table(table, light=light)
        if len(structure) == 0:
            raise StructureImportError(f"{name}: not a CIF or POSCAR: no structure could be read (no atoms)")
        return structure, False, table.notes
    structure, notes = parse_cif_pymatgen(text, name)
    return structure, True, table.notes + notes


def parse_cif_pymatgen(text: str, name: str):
    """(Structure, warnings) of the first block through pymatgen's CifParser (symmetry expansion,
    merging of equivalent positions, partial occupancies)."""
    from pymatgen.io.cif import CifParser

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            parser = CifParser.from_str(text, occupancy_tolerance=OCCUPANCY_TOLERANCE)
            structures = parser.parse_structures(primitive=False, on_error="raise")
        except Exception as exc:  # pymatgen raises ValueError, KeyError, IndexError... on bad CIFs
            msg = " ".join(str(exc).split())[:160] or type(exc).__name__
            raise StructureImportError(f"{name}: not a CIF or POSCAR (CIF parser: {msg})") from None
    notes = sorted({" ".join(str(w.message).split())[:160] for w in caught})
    if not structures:
        why = f" ({notes[0]})" if notes else ""
        raise StructureImportError(f"{name}: not a CIF or POSCAR: no structure could be read{why}")
    return structures[0], notes


__all__ = ["read_table", "parse_cif", "parse_cif_pymatgen", "structure_from_table", "parse_species", "CifTable",
           "LightStructure",
           "VACANCY_MARKERS", "MAX_SYMMETRY_OPS"]
