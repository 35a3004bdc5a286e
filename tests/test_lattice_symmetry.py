"""Space groups from the host lattice's operations (core.structure.lattice_symmetry) against spglib
on the same cells, from scratch: every stacking, ordered and random occupancies, the TM + O framework,
supercells whose lattice breaks the host's symmetry; and the cases handed back to spglib."""
import numpy as np
import pytest

from core.orderings import preset_occupancy
from core.structure.lattice_symmetry import (
    decoration_space_group,
    framework_occupancy,
    quick_space_groups,
    roles_told_apart,
)
from core.structure.model import Model
from core.structure.symmetry import clear_cache, space_group

CELLS = [("O3", "Li", "Li:1/3,Mn:2/3", "3", 3), ("O3", "Li", "Co", "3", 1), ("O3", "Li", "Ni:1/2,Mn:1/2", "2x4", 1),
         ("P2", "Na", "Ni:1/3,Mn:2/3", "3", 2), ("P2", "Na", "Co", "2x1", 2), ("P3", "Na", "Ni:1/3,Mn:2/3", "3", 1),
         ("O2", "Li", "Li:1/3,Mn:2/3", "3", 2)]


# the honeycomb preset needs a 1:2 TM layer on a cell commensurate with sqrt3 x sqrt3
CASES = [c + ("random",) for c in CELLS] + [c + ("honeycomb",) for c in CELLS if "1/3" in c[2]]


@pytest.mark.parametrize("stacking,alkali,spec,matrix,layers,ordering", CASES)
def test_same_group_as_spglib(stacking, alkali, spec, matrix, layers, ordering):
    model = Model.build(stacking, alkali, matrix, layers=layers, tm_spec=spec, seed=4)
    if ordering == "honeycomb":
        model.occupancy[:] = preset_occupancy(model, "honeycomb")
    for occ in (model.occupancy, framework_occupancy(model)):
        m = model.copy()
        m.occupancy[:] = occ
        clear_cache()
        ref = space_group(m)
        got = decoration_space_group(m)
        assert (got.symbol, got.number) == (ref.symbol, ref.number)


def test_known_groups_and_hand_back():
    # Li2MnO3 honeycomb, three layers: C2/m (Strobel & Lambert-Andron 1988); the random cell: P1
    m = Model.build("O3", "Li", "6", layers=3, tm_spec="Li:1/3,Mn:2/3", seed=1)
    m.occupancy[:] = preset_occupancy(m, "honeycomb")
    q = quick_space_groups(m)
    assert q["space_group"].number == 12 and q["framework_space_group"].number == 12
    rnd = Model.build("O3", "Li", "6", layers=3, tm_spec="Ni:1/3,Mn:1/3,Co:1/3", seed=3)
    assert quick_space_groups(rnd)["space_group"].number == 1
    # Li on every octahedral site: the layers cannot be told apart, spglib decides
    li = Model.build("O3", "Li", "3", layers=3, tm_spec="Li")
    assert not roles_told_apart(li)
    q = quick_space_groups(li)
    assert q["space_group"] is None and "spglib" in q["reason"]
    assert q["framework_space_group"].symbol == "R-3m"      # CdI2-type Li-O layers, ABC stacked
    with pytest.raises(Exception, match="empty"):
        decoration_space_group(li, np.zeros_like(li.occupancy))
