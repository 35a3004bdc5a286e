"""The one adaptor between a `core.Model` and pymatgen (and, through pymatgen, ASE).

pymatgen is imported inside the functions: importing `core` must stay fast.
"""
from __future__ import annotations

import numpy as np

from core.structure.species import ELEMENT, OXYGEN, SPECIES, VACANCY, charge_by_code

#: Symbol of the dummy species used for vacancies when `include_vacancies=True`.
VACANCY_SYMBOL = "X"


def to_structure(model, *, charges: bool = False, include_vacancies: bool = False):
    """A pymatgen `Structure` of the model's occupied sites.

    Lattice = ``model.supercell.lattice`` (Angstrom, rows); coordinates are the fractional
    ``supercell.frac`` of every occupied site, in site-index order (vacancies skipped unless
    `include_vacancies`, then they become the dummy species X with charge 0).
    charges=True gives `Species` with each site's charge (`Model.charges()`: Ni3+ and Ni2+ occupants,
    or an element's average state, e.g. Mn4+, O2-), as pymatgen's
    EwaldSummation and the CIF oxidation-state loop expect; otherwise plain elements.
    Site properties: ``site_index`` (int, index into the model's occupancy).
    """
    from pymatgen.core import DummySpecies, Element, Lattice, Species, Structure

    sc = model.supercell
    occ = np.asarray(model.occupancy)
    keep = np.arange(sc.n_sites) if include_vacancies else np.flatnonzero(occ != VACANCY)
    cache: dict[int, object] = {}
    qtab = charge_by_code(model.oxidation)  # the same per-code charges as Model.charges()

    def species(code: int):
        if code not in cache:
            if code == VACANCY:
                cache[code] = DummySpecies(VACANCY_SYMBOL, 0) if charges else DummySpecies(VACANCY_SYMBOL)
            elif charges:
                cache[code] = Species(ELEMENT[code], _oxi(qtab[code]))
            else:
                cache[code] = Element(ELEMENT[code])
        return cache[code]

    return Structure(Lattice(sc.lattice), [species(int(c)) for c in occ[keep]], sc.frac[keep],
                     site_properties={"site_index": keep.tolist()})


def _oxi(value: float):
    """Integer-valued oxidation states as int, so pymatgen writes 'Mn4+' rather than 'Mn4.0+'."""
    v = float(value)
    return int(round(v)) if abs(v - round(v)) < 1e-9 else v


def to_ase(model, *, charges: bool = False):
    """ASE `Atoms` of the occupied sites (via pymatgen's AseAtomsAdaptor); periodic in 3D.

    With charges=True the formal oxidation states are stored as the ``initial_charges`` array.
    """
    from pymatgen.io.ase import AseAtomsAdaptor

    structure = to_structure(model)
    atoms = AseAtomsAdaptor.get_atoms(structure)
    if charges:
        atoms.set_initial_charges(model.charges()[structure.site_properties["site_index"]])
    return atoms


def composition_counts(model) -> dict[str, int]:
    """Element -> number of atoms in the cell (vacancies excluded), O last; no pymatgen needed."""
    counts = model.counts()
    order = [s for s in SPECIES if s in counts and s != SPECIES[OXYGEN]] + (
        ["O"] if "O" in counts else [])
    return {s: int(counts[s]) for s in order}


__all__ = ["to_structure", "to_ase", "composition_counts", "VACANCY_SYMBOL"]
