"""Export a Model as CIF, POSCAR, pymatgen Structure JSON, ASE files or a project.

The format follows the file name (`export_model`):

=====================================  ==========================================================
``*.cif``                              CIF, P1 (all sites listed); with ``symprec`` a symmetrized
                                       CIF (space-group setting found by spglib at that tolerance,
                                       same cell), checked by re-reading: if the composition or the
                                       site count does not survive, the P1 CIF is written instead
                                       and a note says why.
``POSCAR*``, ``CONTCAR*``, ``*.vasp``,  VASP 5 POSCAR with the species line, direct coordinates
``*.poscar``                           with 10 decimals, atoms grouped by species.
``*.pmg.json``, ``*.structure.json``   pymatgen ``Structure.as_dict()`` JSON (with oxidation states).
``*.json``                             Layer Studio project (`core.io.project`).
``*.xyz``, ``*.extxyz``, ``*.traj``    ASE extended XYZ / trajectory, written by ``ase.io.write``.
=====================================  ==========================================================

Every file is written atomically (temp file + rename). Structure exports list occupied sites only.
"""
from __future__ import annotations

import io
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import ExportError

#: Digits after the decimal point in POSCAR coordinates (>= 8, so a DFT code re-reads the positions to 1e-8 of the cell).
POSCAR_DECIMALS = 10


@dataclass
class ExportResult:
    """What `export_model` wrote: path, format name and human-readable notes (fallbacks, warnings)."""

    path: Path
    format: str
    notes: list[str] = field(default_factory=list)
    space_group: str | None = None


FORMATS = {
    "cif": "CIF",
    "poscar": "VASP POSCAR",
    "pmg-json": "pymatgen Structure JSON",
    "project": "Layer Studio project",
    "ase": "ASE file",
}


def format_for_path(path) -> str:
    """Format key (see FORMATS) for a file name; ExportError for names we cannot map."""
    p = Path(path)
    name = p.name.lower()
    if name.endswith(".cif"):
        return "cif"
    if name.startswith(("poscar", "contcar")) or name.endswith((".vasp", ".poscar")):
        return "poscar"
    if name.endswith((".pmg.json", ".structure.json")):
        return "pmg-json"
    if name.endswith(".json"):
        return "project"
    if name.endswith((".xyz", ".extxyz", ".traj")):
        return "ase"
    raise ExportError(f"cannot tell the export format from {p.name!r}: use .cif, .vasp or POSCAR*, "
                      ".json (project), .pmg.json (pymatgen Structure), .xyz/.extxyz/.traj (ASE)")


# ---------------------------------------------------------------------------------------------- texts
def cif_text(model, symprec: float | None = None) -> tuple[str, list[str], str | None]:
    """CIF text. Returns (text, notes, space-group symbol written or None for P1).

    With symprec (Angstrom) the structure is symmetrized in its own cell (CifWriter with
    refine_struct=False) and re-read; if the re-read composition or site count differs from the model,
    the P1 CIF is returned with a note.
    """
    from pymatgen.io.cif import CifWriter

    from core.io.pmg import to_structure
    from core.structure import symmetry  # noqa: F401  (silences spglib's stderr chatter)

    structure = to_structure(model, charges=True)  # each site's oxidation state (_atom_type loop)
    structure.remove_site_property("site_index")
    notes: list[str] = []
    if symprec is not None:
        symprec = _check_symprec(symprec)
        try:
            text = str(CifWriter(structure, symprec=symprec, refine_struct=False, significant_figures=10))
        except Exception as exc:  # spglib failure inside SpacegroupAnalyzer, degenerate cells
            notes.append(f"symmetrization at symprec {symprec:g} failed ({exc}); wrote P1 instead")
        else:
            problem = _reread_problem(text, structure)
            if problem is None:
                return text, notes, _cif_space_group(text)
            notes.append(f"symmetrized CIF at symprec {symprec:g} did not survive re-reading ({problem}); "
                         "wrote P1 instead")
    return str(CifWriter(structure, significant_figures=10)), notes, None


def _check_symprec(symprec) -> float:
    try:
        v = float(symprec)
    except (TypeError, ValueError):
        raise ExportError(f"symprec {symprec!r} is not a number") from None
    if not (v > 0 and v < 5):
        raise ExportError(f"symprec must be a tolerance in Angstrom between 0 and 5, not {symprec}")
    return v


def _reread_problem(text: str, reference) -> str | None:
    """None if the CIF re-reads with the reference's composition and site count, else the problem."""
    from pymatgen.core import Structure

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pymatgen warns about coordinate rounding
            back = Structure.from_str(text, fmt="cif")
    except Exception as exc:
        return f"pymatgen cannot parse it: {exc}"
    if len(back) != len(reference):
        return f"{len(back)} sites instead of {len(reference)}"
    if not back.composition.almost_equals(reference.composition):
        return f"composition {back.composition.formula} instead of {reference.composition.formula}"
    return None


def _cif_space_group(text: str) -> str | None:
    for line in text.splitlines():
        if line.startswith("_symmetry_space_group_name_H-M"):
            return line.split(None, 1)[1].strip().strip("'\"")
    return None


def poscar_text(model) -> str:
    """VASP 5 POSCAR: comment, scale 1, lattice (Angstrom), species line, counts, Direct coordinates."""
    from pymatgen.io.vasp import Poscar

    from core.io.pmg import to_structure

    structure = to_structure(model).get_sorted_structure()
    sc = model.supercell
    comment = (f"{model.formula()} {sc.host.stacking} supercell {sc.matrix.tolist()} x {sc.layers} "
               "layer(s), written by Layer Studio")
    return Poscar(structure, comment=comment).get_str(significant_figures=POSCAR_DECIMALS)


def structure_json_text(model) -> str:
    """pymatgen `Structure.as_dict()` JSON with oxidation states (site property site_index kept)."""
    from core.io.pmg import to_structure

    return json.dumps(to_structure(model, charges=True).as_dict(), indent=1)


# ---------------------------------------------------------------------------------------------- files
def export_model(model, path, *, symprec: float | None = None) -> ExportResult:
    """Write `model` to `path` in the format its name implies (module docstring).

    symprec (Angstrom) only applies to CIF; for other formats it is ignored with a note.
    Raises ExportError (unknown format, unwritable path) or a LayerStudioError from the writers.
    """
    from core.io.project import atomic_write, save_project

    path = Path(path)
    fmt = format_for_path(path)
    notes: list[str] = []
    sg = None
    if symprec is not None and fmt != "cif":
        notes.append(f"symprec applies to CIF only; ignored for {FORMATS[fmt]}")
    if fmt == "project":
        save_project(path, model)
        return ExportResult(path, fmt, notes)
    if fmt == "cif":
        text, more, sg = cif_text(model, symprec)
        notes += more
    elif fmt == "poscar":
        text = poscar_text(model)
    elif fmt == "pmg-json":
        text = structure_json_text(model)
    else:
        text = _ase_bytes(model, path)
    try:
        atomic_write(path, text)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    return ExportResult(path, fmt, notes, sg)


def _ase_bytes(model, path: Path) -> bytes:
    """ASE file content, produced in memory (extxyz) or in a scratch file (traj) for the atomic write."""
    import tempfile

    from ase.io import write

    from core.io.pmg import to_ase

    atoms = to_ase(model)
    if path.suffix.lower() == ".traj":
        with tempfile.TemporaryDirectory() as d:
            scratch = Path(d) / "out.traj"
            write(scratch, atoms, format="traj")
            return scratch.read_bytes()
    buf = io.StringIO()
    write(buf, atoms, format="extxyz")
    return buf.getvalue().encode("utf-8")


__all__ = ["export_model", "ExportResult", "ExportError", "cif_text", "poscar_text", "structure_json_text",
           "format_for_path", "FORMATS", "POSCAR_DECIMALS"]
