"""Ordering presets: neighbour statistics of reference sections 2-5 and honeycomb space groups."""
import numpy as np
import pytest

from core.errors import OrderingError
from core.model import Model
from core.orderings import PRESETS, preset_occupancy
from core.species import CODE

LI, MN, NI, MG = CODE["Li"], CODE["Mn"], CODE["Ni"], CODE["Mg"]


def _apply(model, name, **kw):
    model.set_occupancy(preset_occupancy(model, name, **kw))
    return model


def _nn_counts(model, sites, code):
    """Number of first-shell in-plane neighbours of each site holding `code`."""
    nn = model.supercell.inplane_shell(sites, 1)
    return (model.occupancy[nn] == code).sum(axis=1)


def _spacegroup(model):
    spglib = pytest.importorskip("spglib")
    sc = model.supercell
    keep = np.isin(sc.role, ["tm", "O"])  # reference section 2 tabulates TM + O frameworks
    cell = (sc.lattice, sc.frac[keep], model.occupancy[keep].astype(int))
    return spglib.get_symmetry_dataset(cell, symprec=1e-3).number


def test_presets_have_descriptions():
    assert {"honeycomb", "ribbon", "capped_honeycomb", "flower", "zigzag", "stripe",
            "li_excess_composite", "random"} <= set(PRESETS)
    assert all(isinstance(v, str) and v for v in PRESETS.values())


@pytest.mark.parametrize("minority", ["Li", "Mg", "Ni"])
def test_honeycomb_neighbour_statistics(minority):
    m = _apply(Model.build("O3", "Li", "6x6", tm_spec=f"{minority}:1/3,Mn:2/3", seed=3), "honeycomb")
    sc = m.supercell
    code = CODE[minority]
    mino = sc.tm_sites[m.occupancy[sc.tm_sites] == code]
    mn = sc.tm_sites[m.occupancy[sc.tm_sites] == MN]
    assert len(mino) == 12 and len(mn) == 24  # composition kept
    assert (_nn_counts(m, mino, MN) == 6).all()
    assert (_nn_counts(m, mn, code) == 3).all() and (_nn_counts(m, mn, MN) == 3).all()
    # every O has exactly one minority among its three TM-layer neighbours
    idx, _ = sc.o_cations
    tm_nb = np.where(idx >= 0, np.isin(sc.role[np.maximum(idx, 0)], ["tm"]), False)
    n_min = ((m.occupancy[np.maximum(idx, 0)] == code) & tm_nb).sum(axis=1)
    assert (n_min == 1).all()


@pytest.mark.parametrize("layers,stacking,number", [
    (1, None, 12), (3, None, 12), (6, "C2/m", 12), (3, "P3_112", 151), (3, "P3_212", 153),
    (2, "C2/c", 15), (6, "C2/c", 15)])
def test_honeycomb_stacking_space_groups_o3(layers, stacking, number):
    m = Model.build("O3", "Li", "sqrt3", layers=layers, tm_spec="Li:1/3,Mn:2/3")
    kw = {} if stacking is None else {"stacking": stacking}
    assert _spacegroup(_apply(m, "honeycomb", **kw)) == number


@pytest.mark.parametrize("stacking,number", [("eclipsed", 193), ("staggered", 182)])
def test_honeycomb_stacking_space_groups_p2(stacking, number):
    # reference section 2 gives P6_3/mcm eclipsed (reproduced) and P6_3/m staggered; spglib finds P6_322:
    # a horizontal mirror at the Na plane would map minority onto minority, which staggering forbids
    m = Model.build("P2", "Na", "sqrt3", layers=2, tm_spec="Mg:1/3,Mn:2/3", alkali_spec="Na:2/3")
    assert _spacegroup(_apply(m, "honeycomb", stacking=stacking)) == number


def test_honeycomb_faults_are_seeded_and_keep_layers_perfect():
    m = Model.build("O3", "Li", "sqrt3", layers=12, tm_spec="Li:1/3,Mn:2/3")
    a = preset_occupancy(m, "honeycomb", stacking="faults", fault_probability=0.5, seed=1)
    b = preset_occupancy(m, "honeycomb", stacking="faults", fault_probability=0.5, seed=1)
    assert np.array_equal(a, b)
    m.set_occupancy(a)
    mino = m.supercell.tm_sites[a[m.supercell.tm_sites] == LI]
    assert (_nn_counts(m, mino, MN) == 6).all()
    assert _spacegroup(m) != 12  # faults break the monoclinic symmetry


def test_honeycomb_errors():
    with pytest.raises(OrderingError, match="1:2"):
        preset_occupancy(Model.build("O3", "Li", "6x6", tm_spec="Ni:1/2,Mn:1/2"), "honeycomb")
    with pytest.raises(OrderingError, match="commensurate"):
        preset_occupancy(Model.build("O3", "Li", "3,0,0,4",
                                     tm_spec="Li:1/3,Mn:2/3"), "honeycomb")
    with pytest.raises(OrderingError, match="multiple of 3"):
        preset_occupancy(Model.build("O3", "Li", "sqrt3", layers=2, tm_spec="Li:1/3,Mn:2/3"),
                         "honeycomb", stacking="P3_112")
    with pytest.raises(OrderingError, match="unknown"):
        preset_occupancy(Model.build("O3", "Li", "sqrt3", tm_spec="Li:1/3,Mn:2/3"), "nonsense")
