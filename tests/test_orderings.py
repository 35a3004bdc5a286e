"""Ordering presets: neighbour statistics of docs/science.md §2-5 and honeycomb space groups."""
import numpy as np
import pytest

from core.errors import OrderingError
from core.orderings import PRESETS, preset_occupancy
from core.structure.model import Model
from core.structure.species import CODE

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
    keep = np.isin(sc.role, ["tm", "O"])  # docs/science.md §2 tabulates TM + O frameworks
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
    # docs/science.md §2 gives P6_3/mcm eclipsed (reproduced) and P6_3/m staggered; spglib finds P6_322:
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
    with pytest.raises(OrderingError, match="does not fit a 3x4 supercell"):
        preset_occupancy(Model.build("O3", "Li", "3,0,0,4",
                                     tm_spec="Li:1/3,Mn:2/3"), "honeycomb")
    with pytest.raises(OrderingError, match="multiple of 3"):
        preset_occupancy(Model.build("O3", "Li", "sqrt3", layers=2, tm_spec="Li:1/3,Mn:2/3"),
                         "honeycomb", stacking="P3_112")
    with pytest.raises(OrderingError, match="unknown"):
        preset_occupancy(Model.build("O3", "Li", "sqrt3", tm_spec="Li:1/3,Mn:2/3"), "nonsense")


def _tm_of(model, code):
    sc = model.supercell
    return sc.tm_sites[model.occupancy[sc.tm_sites] == code]


def _o_tm_minority_counts(model, code):
    """Per O: number of TM-layer neighbours holding `code` (among its TM-layer cations)."""
    sc = model.supercell
    idx, _ = sc.o_cations
    safe = np.maximum(idx, 0)
    tm_nb = (idx >= 0) & (sc.role[safe] == "tm")
    return ((model.occupancy[safe] == code) & tm_nb).sum(axis=1)


@pytest.mark.parametrize("stacking,cell,layers,alkali", [("O3", "ribbon", 1, None), ("O3", "10x10", 1, None),
                                                          ("P3", "5,0,2,1", 3, "Na:3/5")])
def test_ribbon_neighbour_statistics(stacking, cell, layers, alkali):
    m = _apply(Model.build(stacking, "Li" if stacking[0] == "O" else "Na", cell, layers=layers,
                           tm_spec="Li:1/5,Mn:4/5", alkali_spec=alkali), "ribbon")
    li, mn = _tm_of(m, LI), _tm_of(m, MN)
    assert (_nn_counts(m, li, MN) == 6).all()
    # Mn rows have 2, 1, 1, 2 Li neighbours: half the Mn see one Li, half see two
    hist = np.bincount(_nn_counts(m, mn, LI), minlength=7)
    assert hist[1] == hist[2] == len(mn) // 2 and hist[1] + hist[2] == len(mn)
    # Li rows along a sqrt3 direction: each Li has exactly two Li at sqrt3 a
    nn2 = m.supercell.inplane_shell(li, 2)
    assert ((m.occupancy[nn2] == LI).sum(axis=1) == 2).all()
    # 60 % of O have exactly one TM-layer Li among their TM-layer neighbours (honeycomb: 100 %)
    assert np.mean(_o_tm_minority_counts(m, LI) == 1) == pytest.approx(0.6)


@pytest.mark.parametrize("name,like", [("zigzag", 2), ("stripe", 2)])
def test_zigzag_and_stripe_have_two_like_neighbours(name, like):
    m = _apply(Model.build("O3", "Li", "4x4", tm_spec="Ni:1/2,Mn:1/2"), name)
    ni, mn = _tm_of(m, NI), _tm_of(m, MN)
    assert len(ni) == len(mn) == 8
    assert (_nn_counts(m, ni, NI) == like).all() and (_nn_counts(m, mn, MN) == like).all()
    # geometry of the two like neighbours: opposite in a stripe (straight rows), 120 deg in a zigzag
    sc = m.supercell
    ij = np.array([(1, 0), (0, 1), (-1, -1), (-1, 0), (0, -1), (1, 1)])
    vec = ij[:, :1] * sc.host.a1[:2] + ij[:, 1:] * sc.host.a2[:2]
    same = m.occupancy[sc.inplane_shell(ni, 1)] == NI
    summed = np.linalg.norm(same.astype(float) @ vec, axis=1) / sc.host.a
    expected = 0.0 if name == "stripe" else 1.0
    assert np.allclose(summed, expected, atol=1e-9)


def test_flower_composition_and_rings():
    m = _apply(Model.build("O3", "Li", "2sqrt3", layers=3, tm_spec="Ni:1/2,Mn:1/2"), "flower")
    assert m.layer_formula() == "Li11/12Ni1/12[Li1/12Ni5/12Mn1/2]O2"
    li = _tm_of(m, LI)
    assert (_nn_counts(m, li, MN) == 6).all()          # Li ringed by six Mn
    nn2 = m.supercell.inplane_shell(li, 2)
    assert (m.occupancy[nn2] == NI).all()               # the rest of the sqrt3 sublattice is Ni
    assert m.counts() == {"Li": 36, "Ni": 18, "Mn": 18, "O": 72}  # LiNi0.5Mn0.5O2 kept


def test_capped_honeycomb_caps_sit_trans_between_centres():
    from core.orderings.patterns import trans_cap_sites
    # placed mode: 1/6 of the alkali layer is Mn, i.e. one cap per two honeycomb centres
    m = Model.build("O3", "Li", "6x6", layers=3, tm_spec="Li:1/3,Mn:2/3", alkali_spec="Li:5/6,Mn:1/6")
    m = _apply(m, "capped_honeycomb", seed=2)
    sc = m.supercell
    caps = sc.alkali_sites[m.occupancy[sc.alkali_sites] == MN]
    assert len(caps) == 18
    centres = np.zeros(sc.n_sites, bool)
    centres[_tm_of(m, LI)] = True
    sites, pairs = trans_cap_sites(m, centres)
    assert set(caps) <= set(sites.tolist())
    assert len(sites) == 36  # C2/m: one trans site per centre (the 2c site of Li2MnO3)
    # each cap: the two centres are on opposite sides, collinear through the cap
    d1 = sc.cart[pairs[:, 0]] - sc.cart[sites]
    d2 = sc.cart[pairs[:, 1]] - sc.cart[sites]
    f1 = d1 @ np.linalg.inv(sc.lattice)
    f2 = d2 @ np.linalg.inv(sc.lattice)
    d1 = (f1 - np.round(f1)) @ sc.lattice
    d2 = (f2 - np.round(f2)) @ sc.lattice
    assert np.allclose(d1 + d2, 0.0, atol=1e-6)
    assert (np.sign(d1[:, 2]) != np.sign(d2[:, 2])).all()
    # the TM layer stays a perfect honeycomb
    assert (_nn_counts(m, _tm_of(m, LI), MN) == 6).all()


def test_capped_honeycomb_moved_mode_keeps_composition():
    m = Model.build("O3", "Li", "6x6", layers=3, tm_spec="Li:1/3,Mn:2/3")
    before = m.counts()
    occ = preset_occupancy(m, "capped_honeycomb", cap_fraction=0.25, seed=1)
    m.set_occupancy(occ)
    assert m.counts() == before
    assert (m.occupancy[m.supercell.alkali_sites] == MN).sum() == 9  # 0.25 of 36 cap sites


def test_li_excess_composite():
    m = Model.build("O3", "Li", "15x15", tm_spec="Li:1/5,Ni:1/5,Mn:3/5")
    m = _apply(m, "li_excess_composite", domain_size=8, seed=4)
    li = _tm_of(m, LI)
    assert len(li) == 45
    assert (_nn_counts(m, li, MN) == 6).all()  # every TM-layer Li in a LiMn6 ring
    with pytest.raises(OrderingError):
        preset_occupancy(Model.build("O3", "Li", "6x6", tm_spec="Li:1/3,Mn:2/3"), "li_excess_composite")


def test_random_is_seeded_and_keeps_each_sublattice():
    m = Model.build("P2", "Na", "6x6", tm_spec="Mg:1/3,Mn:2/3", alkali_spec="Na:2/3")
    a, b, c = (preset_occupancy(m, "random", seed=s) for s in (5, 5, 6))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    for role in ("tm", "prism_e", "prism_f"):
        s = m.supercell.sites_with_role(role)
        assert sorted(a[s]) == sorted(m.occupancy[s])


@pytest.mark.parametrize("name,tm", [("ribbon", "Li:1/3,Mn:2/3"), ("zigzag", "Li:1/3,Mn:2/3"),
                                     ("flower", "Li:1/3,Mn:2/3")])
def test_incompatible_presets_raise(name, tm):
    with pytest.raises(OrderingError):
        preset_occupancy(Model.build("O3", "Li", "12x12", tm_spec=tm), name)


def test_incommensurate_cells_name_working_cells():
    with pytest.raises(OrderingError, match="5x5"):
        preset_occupancy(Model.build("O3", "Li", "4x5", tm_spec="Li:1/5,Mn:4/5"), "ribbon")


@pytest.mark.parametrize("name,args", [
    ("honeycomb", ["--tm", "Li:1/3,Mn:2/3", "--supercell", "sqrt3", "--layers", "3", "--param", "stacking=P3_112"]),
    ("ribbon", ["--tm", "Li:1/5,Mn:4/5", "--supercell", "ribbon"]),
    ("capped_honeycomb", ["--tm", "Li:1/3,Mn:2/3", "--alkali", "Li:5/6,Mn:1/6", "--supercell", "6"]),
    ("flower", ["--tm", "Ni:1/2,Mn:1/2", "--supercell", "2sqrt3"]),
    ("zigzag", ["--tm", "Ni:1/2,Mn:1/2", "--supercell", "4"]),
    ("stripe", ["--tm", "Ni:1/2,Mn:1/2", "--supercell", "4"]),
    ("li_excess_composite", ["--tm", "Li:0.2,Ni:0.2,Mn:0.6", "--supercell", "10", "--param", "domain_size=6"]),
    ("random", ["--tm", "Li:1/3,Mn:2/3", "--supercell", "6"]),
])
def test_cli_build_every_preset(tmp_path, capsys, name, args):
    import json

    from core.cli import main
    out = tmp_path / "m.json"
    assert main(["build", *args, "--ordering", name, "-o", str(out)]) == 0
    capsys.readouterr()
    assert main(["info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    expected = {"ribbon": "ribbon", "flower": "flower", "zigzag": "zigzag", "stripe": "stripe",
                "honeycomb": "honeycomb", "capped_honeycomb": "capped honeycomb"}.get(name)
    if expected:
        assert info["ordering"]["label"] == expected
    if name == "honeycomb":
        assert info["space_group"]["number"] == 151
    assert main(["build", *args, "--ordering", "no_such", "-o", str(out)]) == 1


def test_cli_anneal(tmp_path, capsys):
    import json

    from core.cli import main
    src, out = tmp_path / "r.json", tmp_path / "a.json"
    assert main(["build", "--tm", "Li:1/3,Mn:2/3", "--supercell", "6", "-o", str(src)]) == 0
    assert main(["anneal", str(src), "-o", str(out), "--sweeps", "3000", "--seed", "1", "--json"]) == 0
    d = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert d["best_energy_eV"] < d["start_energy_eV"]
    assert d["ordering"]["label"] == "honeycomb" and d["ordering"]["isolated_minority_fraction"] == 1.0
    assert main(["anneal", str(src), "-o", str(out), "--sublattice", "oxygen"]) == 2
