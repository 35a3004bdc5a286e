"""Models built by hand from docs/science.md, independent of core.orderings (test oracles)."""
from core import Model
from core.structure.species import code_of


def honeycomb_by_hand(model: Model, minority: str = "Li", majority: str = "Mn") -> Model:
    """docs/science.md §2: minority on the TM sites with (i + j) % 3 == 0, majority elsewhere."""
    sc = model.supercell
    tm = sc.tm_sites
    occ = model.occupancy.copy()
    mask = (sc.ijk[tm, 0] + sc.ijk[tm, 1]) % 3 == 0
    occ[tm[mask]] = code_of(minority)
    occ[tm[~mask]] = code_of(majority)
    model.set_occupancy(occ)
    return model


def li2mno3_by_hand(cell="sqrt3", layers: int = 1) -> Model:
    """Li[Li1/3Mn2/3]O2 honeycomb on an O3 host with a full Li layer."""
    return honeycomb_by_hand(Model.build("O3", "Li", cell, layers, tm_spec="Mn"))
