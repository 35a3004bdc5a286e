"""DFT-ready output: the smallest periodic cell of a configuration, VASP inputs through pymatgen's input
sets, the structures of a state-of-charge sequence and the N lowest configurations with a CSV summary.

Every structure carries each site's oxidation state (`Model.charges()`, or the per-site charges of a
charge state), so pymatgen's `EwaldSummation` on what is written reproduces the app's energy and
pymatgen's input sets see Ni2+ and Ni3+ as different species (MAGMOM, symmetry).

* `smallest_cell(model)`: spglib's primitive cell of the charged structure (species are compared with
  their oxidation states, so a charge order is kept; no idealisation), Niggli-reduced; the Ewald energy
  per formula unit is unchanged by construction and checked (`SmallestCell.energy_per_fu_eV`).
* `write_vasp(structure, directory)`: `MPRelaxSet` (Materials Project GGA(+U) relaxation): POSCAR,
  KPOINTS and INCAR, MAGMOM from the oxidation states (`initial_magmom`: d-electron count, high spin
  for 3d ions except low-spin Co3+/Co4+/Ni3+/Ni4+, low spin for 4d/5d) and +U where the set applies it
  (Co, Cr, Fe, Mn, Mo, Ni, V, W in oxides). POTCAR files are licensed and not shipped: when pymatgen
  cannot find them (PMG_VASP_PSP_DIR unset) the symbols go to POTCAR.spec and README_POTCAR.txt says
  how to add them.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import ExportError
from core.structure.species import ELEMENT, VACANCY

#: Unpaired d electrons per (element, state) when different from the high-spin count.
_LOW_SPIN = {("Co", 3): 0, ("Co", 4): 1, ("Ni", 3): 1, ("Ni", 4): 0}
_D_GROUP_3D = {"Ti": 4, "V": 5, "Cr": 6, "Mn": 7, "Fe": 8, "Co": 9, "Ni": 10, "Cu": 11}
_D_GROUP_4D5D = {"Zr": 4, "Nb": 5, "Ru": 8, "W": 6, "Ir": 9}


def initial_magmom(element: str, state: float) -> float:
    """Initial magnetic moment (mu_B) of an ion from its d-electron count (rule in the module docstring)."""
    st = int(round(float(state)))
    if element in _D_GROUP_3D:
        n = _D_GROUP_3D[element] - st
        if (element, st) in _LOW_SPIN:
            return float(_LOW_SPIN[(element, st)])
        return float(n if n <= 5 else 10 - n) if 0 <= n <= 10 else 0.0
    if element in _D_GROUP_4D5D:
        n = _D_GROUP_4D5D[element] - st
        return float(n if n <= 3 else 6 - n) if 0 <= n <= 6 else 0.0  # t2g only (low spin)
    return 0.0


def charged_structure(model, occupancy=None, charges=None):
    """pymatgen Structure of the occupied sites with per-site oxidation states (default the model's)
    and a ``magmom`` site property from `initial_magmom`."""
    from pymatgen.core import Lattice, Species, Structure

    sc = model.supercell
    occ = np.asarray(model.occupancy if occupancy is None else occupancy)
    q = np.asarray(model.charges() if charges is None else charges, dtype=float)
    keep = np.flatnonzero(occ != VACANCY)
    species = [Species(ELEMENT[int(c)], _oxi(q[s])) for s, c in zip(keep.tolist(), occ[keep].tolist())]
    mag = [initial_magmom(ELEMENT[int(c)], q[s]) for s, c in zip(keep.tolist(), occ[keep].tolist())]
    return Structure(Lattice(sc.lattice), species, sc.frac[keep], site_properties={"magmom": mag})


def _oxi(v: float):
    v = float(v)
    return int(round(v)) if abs(v - round(v)) < 1e-9 else round(v, 6)


def _primitive(s, symprec: float):
    """spglib's primitive cell of `s` (species with their oxidation states are distinct types; no
    idealisation, so positions are those of the model), Niggli-reduced; `s` itself if spglib finds none."""
    import warnings

    import spglib
    from pymatgen.core import Lattice, Structure

    from core.structure.symmetry import spglib_cell

    lat, frac, types = spglib_cell(s)
    first = {int(t): i for i, t in reversed(list(enumerate(types.tolist())))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = spglib.standardize_cell((lat, frac, types), to_primitive=True, no_idealize=True, symprec=symprec)
    if res is None or len(res[2]) >= len(s):
        return s
    plat, pfrac, ptypes = res
    species = [s[first[int(t)]].specie for t in ptypes]
    mag = [s[first[int(t)]].properties.get("magmom", 0.0) for t in ptypes]
    prim = Structure(Lattice(plat), species, pfrac, site_properties={"magmom": mag})
    return prim.get_reduced_structure()


@dataclass
class SmallestCell:
    structure: object
    n_atoms: int
    n_atoms_model: int
    energy_per_fu_eV: float
    model_energy_per_fu_eV: float
    formula: str


#: Largest reduced cell whose Ewald energy is re-summed as a check (a direct sum costs O(n^2) set-up).
CHECK_MAX_ATOMS = 300


def smallest_cell(model, *, symprec: float = 1e-3, occupancy=None, charges=None) -> SmallestCell:
    """The configuration in its smallest periodic cell (module docstring); ExportError if the Ewald
    energy per formula unit changed by more than 1e-6 eV (it cannot, unless the reduction failed).
    The check sums the reduced cell directly, so it is skipped for cells of more than
    `CHECK_MAX_ATOMS` atoms (and for a cell that does not reduce, whose energy is the model's)."""
    from core.energy.ewald import get_engine, structure_energy

    s = charged_structure(model, occupancy, charges)
    prim = _primitive(s, float(symprec))
    q = np.asarray(model.charges() if charges is None else charges, dtype=float)
    e_model = get_engine(model.supercell).energy(q)
    fu_model = s.composition.get_reduced_composition_and_factor()[1]
    fu_prim = prim.composition.get_reduced_composition_and_factor()[1]
    if len(prim) == len(s) or len(prim) > CHECK_MAX_ATOMS:
        e = e_model / fu_model
        return SmallestCell(prim, len(prim), len(s), e, e, prim.composition.reduced_formula)
    e_prim = structure_energy(prim)
    if abs(e_prim / fu_prim - e_model / fu_model) > 1e-6:
        raise ExportError(f"smallest cell changed the Ewald energy per formula unit "
                          f"({e_prim / fu_prim:.6f} vs {e_model / fu_model:.6f} eV); symprec {symprec} too loose?")
    return SmallestCell(prim, len(prim), len(s), e_prim / fu_prim, e_model / fu_model,
                        prim.composition.reduced_formula)


def write_structure(structure, path, *, symprec: float | None = None) -> Path:
    """CIF (with _atom_type oxidation numbers; symmetrized at symprec if given), POSCAR or pmg JSON."""
    from pymatgen.io.cif import CifWriter
    from pymatgen.io.vasp import Poscar

    from core.io.export import format_for_path
    from core.io.project import atomic_write

    path = Path(path)
    fmt = format_for_path(path)
    s = structure.copy()
    for prop in list(s.site_properties):
        if prop != "magmom" or fmt != "pmg-json":
            s.remove_site_property(prop)
    if fmt == "cif":
        text = str(CifWriter(s, symprec=symprec, significant_figures=10)) if symprec else \
            str(CifWriter(s, significant_figures=10))
    elif fmt == "poscar":
        text = Poscar(s.get_sorted_structure()).get_str(significant_figures=10)
    elif fmt == "pmg-json":
        text = json.dumps(s.as_dict(), indent=1)
    else:
        raise ExportError(f"{path.name}: write DFT structures as .cif, POSCAR/.vasp or .pmg.json")
    try:
        atomic_write(path, text)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


POTCAR_HELP = """POTCAR not written: VASP pseudopotentials are licensed and pymatgen could not find them.
The symbols this input set wants are in POTCAR.spec (one per line, in POSCAR order). To add them:
  1. point pymatgen at your VASP pseudopotential directory once:
       pmg config -p /path/to/vasp/potentials /path/to/pymatgen_psp     (convert the layout)
       pmg config --add PMG_VASP_PSP_DIR /path/to/pymatgen_psp
     then export again, and POTCAR is written next to POSCAR; or
  2. by hand: cat $VASP_PSP/PBE/<symbol>/POTCAR for each symbol of POTCAR.spec, in order, > POTCAR
"""


def write_vasp(structure, directory, *, user_incar_settings: dict | None = None) -> dict:
    """POSCAR, KPOINTS, INCAR (+ POTCAR if pymatgen finds it, else POTCAR.spec + README_POTCAR.txt)
    from `MPRelaxSet`. Returns {"directory", "files", "potcar": bool, "incar": dict subset}."""
    from pymatgen.io.vasp.sets import MPRelaxSet

    d = Path(directory)
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {d}: {exc.strerror or exc}") from None
    vis = MPRelaxSet(structure, user_incar_settings=user_incar_settings or {})
    files = []
    vis.poscar.write_file(d / "POSCAR")
    vis.kpoints.write_file(d / "KPOINTS")
    incar = vis.incar
    incar.write_file(d / "INCAR")
    files += ["POSCAR", "KPOINTS", "INCAR"]
    try:
        vis.potcar.write_file(d / "POTCAR")
        files.append("POTCAR")
        have_potcar = True
    except Exception:  # PmgVaspPspDirError / missing files: licensed data, not an error of the model
        (d / "POTCAR.spec").write_text("\n".join(vis.potcar_symbols) + "\n")
        (d / "README_POTCAR.txt").write_text(POTCAR_HELP)
        files += ["POTCAR.spec", "README_POTCAR.txt"]
        have_potcar = False
    keys = ("MAGMOM", "LDAU", "LDAUU", "ISPIN", "ENCUT")
    return {"directory": str(d), "files": files, "potcar": have_potcar,
            "incar": {k: incar[k] for k in keys if k in incar}, "potcar_symbols": list(vis.potcar_symbols)}


def write_charge_states(model, directory, steps: int = 10, *, fmt: str = "cif", **kwargs) -> list[dict]:
    """Each of `steps` + 1 evenly spaced states of `core.analysis.charge.ChargeModel` written as a
    structure (per-site charges: holes on TM or O included) to DIRECTORY/x_<x>.<fmt>. Rows as
    `charge_table` plus "file"."""
    from core.analysis.charge import ChargeModel, charge_table

    d = Path(directory)
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {d}: {exc.strerror or exc}") from None
    ext = {"cif": ".cif", "poscar": ".vasp", "pmg-json": ".pmg.json"}.get(fmt)
    if ext is None:
        raise ExportError(f"unknown structure format {fmt!r}; choose cif, poscar or pmg-json")
    rows = charge_table(model, steps=steps, **kwargs)
    cm = ChargeModel(model, **kwargs)
    for r in rows:
        st = cm.state(r["step"])
        path = d / f"step{r['step']:04d}_x{r['x_removed']:.4f}{ext}"
        write_structure(charged_structure(model, st.occupancy, st.charges), path)
        r["file"] = path.name
    return rows


def export_configurations(model, configurations, directory, *, smallest: bool = True, fmt: str = "cif",
                          symprec: float = 1e-3, method: str = "", vasp: bool = False) -> list[dict]:
    """Write each (energy eV, occupancy) of `configurations` (lowest first) as rank_NN.<fmt>, in its
    smallest cell if `smallest`, plus summary.csv (rank, energies, cell size, formula, file); with
    `vasp` also VASP inputs in rank_NN_vasp/ (`write_vasp`). Returns the CSV rows."""
    d = Path(directory)
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {d}: {exc.strerror or exc}") from None
    ext = {"cif": ".cif", "poscar": ".vasp", "pmg-json": ".pmg.json"}[fmt]
    fu = model.formula_units()
    trial = model.copy()
    trial._listeners = []
    rows = []
    e0 = configurations[0][0] if configurations else 0.0
    for k, (energy, occ) in enumerate(configurations, 1):
        trial.occupancy[:] = occ
        if smallest:
            sc = smallest_cell(trial, symprec=symprec)
            s = sc.structure
        else:
            s = charged_structure(trial)
        name = f"rank_{k:02d}{ext}"
        write_structure(s, d / name)
        if vasp:
            write_vasp(s, d / f"rank_{k:02d}_vasp")
        rows.append({"rank": k, "energy_eV": round(float(energy), 6),
                     "energy_eV_per_MO2": round(float(energy) / fu, 6),
                     "dE_meV_per_MO2": round((float(energy) - e0) / fu * 1000, 3),
                     "n_atoms": len(s), "formula": s.composition.reduced_formula, "file": name,
                     "method": method})
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    from core.io.project import atomic_write
    atomic_write(d / "summary.csv", buf.getvalue())
    return rows


def lowest_configurations(model, directory, *, n: int = 5, sweeps: int = 2000, seed: int = 0,
                          sublattice: str = "tm", vasp: bool = True, abort=None) -> list[dict]:
    """Monte Carlo (`core.orderings.montecarlo.anneal`, keeping the `n` lowest distinct configurations)
    then `export_configurations` into `directory` (smallest cells, CSV, VASP inputs). Rows as there."""
    from core.orderings.montecarlo import run_anneal

    res = run_anneal(model, sweeps=sweeps, seed=seed, sublattice=sublattice, keep=n, abort=abort)
    return export_configurations(model, res.configurations, directory, vasp=vasp,
                                 method=f"Monte Carlo {sweeps} sweeps seed {seed} ({sublattice})")


__all__ = ["smallest_cell", "lowest_configurations", "SmallestCell", "charged_structure", "write_structure", "write_vasp",
           "write_charge_states", "export_configurations", "initial_magmom", "POTCAR_HELP"]
