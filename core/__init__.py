"""Layer Studio science core: layered-oxide supercells, occupancy edits, electrostatics, orderings.

Pure science (numpy, pymatgen, spglib, numba); never imports Qt. Heavy modules (pymatgen, spglib,
numba) are imported lazily inside the functions that need them.
"""
from core.errors import LayerStudioError
from core.structure.hosts import STACKINGS, Host, make_host
from core.structure.model import Model
from core.structure.species import SPECIES, code_of
from core.structure.supercell import Supercell, parse_supercell_spec

__all__ = ["LayerStudioError", "Host", "make_host", "STACKINGS", "Model", "SPECIES", "code_of",
           "Supercell", "parse_supercell_spec"]
__version__ = "0.1.0"
