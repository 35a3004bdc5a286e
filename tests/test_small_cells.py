"""Small cells for enumeration: cells per 6mm orbit against the known counts, Burnside class counts
against brute-force orbits, tiling onto the model at the same energy per MO2, clear refusals."""
import itertools

import numpy as np
import pytest

from core.analysis.snapshots import ewald_energy
from core.errors import CompositionError
from core.orderings.enumeration import enumerate_orderings, hnf_cells, site_permutations
from core.orderings.montecarlo import active_sites
from core.orderings.small_cells import count_classes, distinct_cells, small_cell, tile
from core.structure.model import Model

# Sublattices of index n of the hexagonal (triangular) lattice up to its point group: OEIS A003051
A003051 = [1, 1, 2, 3, 2, 3, 3, 5, 4, 4, 3, 8]


def _sigma(n):
    return sum(d for d in range(1, n + 1) if n % d == 0)


@pytest.mark.parametrize("n", range(1, 13))
def test_distinct_cells_one_per_orbit(n):
    assert len(hnf_cells(n)) == _sigma(n)            # all sublattices of index n of Z^2
    cells = distinct_cells(n)
    assert len(cells) == A003051[n - 1]
    assert len({c["name"] for c in cells}) == len(cells)
    if n == 3:
        assert {c["name"] for c in cells} == {"sqrt3 x sqrt3 R30", "3 x 1"}


def test_burnside_counts_equal_brute_force_orbits():
    """NMC111 on the 9 TM sites of 3 x 3: orbits of the 1680 arrangements found by applying every
    operation to every arrangement (no Burnside), for both reductions."""
    m = Model.build("O3", "Li", "3", layers=1, tm_spec="Ni:1/3,Co:1/3,Mn:1/3")
    sites, _ = active_sites(m, "tm")
    rows = []
    for ni in itertools.combinations(range(9), 3):
        rest = [i for i in range(9) if i not in ni]
        for co in itertools.combinations(rest, 3):
            a = np.full(9, 2)
            a[list(ni)], a[list(co)] = 0, 1
            rows.append(a)
    A = np.array(rows)
    assert len({tuple(a) for a in A}) == 1680
    for sym in ("parent", "layer"):
        perms, _ = site_permutations(m, sites, symmetry=sym)
        keys = (A[:, perms] * 3 ** np.arange(9)).sum(axis=2).min(axis=1)   # smallest image of each
        orbits = set(keys.tolist())
        assert count_classes(perms, [3, 3, 3]) == len(orbits)
        assert len(enumerate_orderings(m, "tm", symmetry=sym)) == len(orbits)


@pytest.mark.parametrize("layers", [1, 3])
def test_small_cell_tiles_the_model_at_the_same_energy(layers):
    """The sqrt3 cell of a 6 x 6 O3 model (one slab, or the three-slab hexagonal cell whose stacking
    vector the small cell must divide): the honeycomb found in the small cell has the same Ewald energy
    per MO2 once tiled onto the model."""
    doc = Model.build("O3", "Li", "6", layers=layers, tm_spec="Li:1/3,Mn:2/3", seed=2)
    cell = small_cell(doc, [[3, 0], [2, 1]], "tm")
    assert cell.tiles and cell.name == "sqrt3 x sqrt3 R30" and cell.counts == {1: 1, 6: 2}
    best = enumerate_orderings(cell.model, "tm")[0]
    occ = tile(cell, best["occupancy"], doc)
    tiled = Model(doc.supercell, occ, doc.oxidation)
    assert ewald_energy(tiled) / doc.formula_units() == pytest.approx(best["energy_eV_per_MO2"], abs=1e-8)
    # the other sites are untouched, the TM layer keeps its composition
    sites, _ = active_sites(doc, "tm")
    other = np.setdiff1d(np.arange(doc.supercell.n_sites), sites)
    assert np.array_equal(occ[other], doc.occupancy[other])
    assert sorted(occ[sites].tolist()) == sorted(doc.occupancy[sites].tolist())


def test_three_layer_o3_cell_tiles_only_where_a_one_slab_stacking_repeats():
    """The hexagonal O3 cell (3 slabs) has its third vector 3 c_p + v: a one-slab small cell tiles it only
    if v - 3 v' lies in the small cell's lattice for some stacking v' of its own. sqrt3 does, 3 x 3 not."""
    doc = Model.build("O3", "Li", "6", layers=3, tm_spec="Ni:1/3,Co:1/3,Mn:1/3")
    marks = {c["name"]: c["tiles"] for c in distinct_cells(9, doc)}
    assert marks["3 x 3"] is False
    assert {c["name"]: c["tiles"] for c in distinct_cells(3, doc)}["sqrt3 x sqrt3 R30"] is True
    cell = small_cell(doc, [[3, 0], [0, 3]], "tm")
    assert not cell.tiles and "stacking vector" in cell.reason
    one = Model.build("O3", "Li", "6", layers=1, tm_spec="Ni:1/3,Co:1/3,Mn:1/3")
    assert {c["name"]: c["tiles"] for c in distinct_cells(9, one)}["3 x 3"] is True


def test_cells_that_do_not_tile_say_why():
    doc = Model.build("O3", "Li", "6", layers=1, tm_spec="Ni:1/2,Mn:1/2")
    cell = small_cell(doc, [[2, 0], [0, 4]], "tm")                   # 2 x 4 does not divide 6 x 6
    assert not cell.tiles and "does not tile the 6x6" in cell.reason
    with pytest.raises(Exception, match="cannot tile"):
        tile(cell, cell.model.occupancy, doc)


def test_composition_that_does_not_fit_is_one_clear_line():
    doc = Model.build("O3", "Li", "6", layers=1, tm_spec="Ni:1/3,Co:1/3,Mn:1/3")
    with pytest.raises(CompositionError, match="16 TM sites of the 4 x 4 cell.*multiple of 3"):
        small_cell(doc, [[4, 0], [0, 4]], "tm")
    with pytest.raises(CompositionError, match="4 TM sites of the 2 x 2 cell"):
        small_cell(doc, [[2, 0], [0, 2]], "tm", "Ni:1/3,Co:1/3,Mn:1/3")


def test_alkali_sublattice_of_p2():
    """Na2/3 on the Na_e prisms of P2 is a third of all prism sites (Na_e and Na_f): the sqrt3 cell
    has two slabs of 3 + 3 prisms, 12 sites, 4 Na."""
    doc = Model.build("P2", "Na", "6", alkali_spec="Na:2/3", tm_spec="Ni:1/3,Mn:2/3")
    cell = small_cell(doc, [[3, 0], [2, 1]], "alkali")
    assert cell.tiles and cell.info["sites"] == 12 and sorted(cell.counts.values()) == [4, 8]
