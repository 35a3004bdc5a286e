"""Recognition from periodicity: superlattice matrix, Wood name, confidence; independent of the origin
and orientation of the pattern; defects tolerated; random layers get no superlattice."""
import time

import numpy as np
import pytest

from core.orderings import preset_occupancy
from core.orderings.recognition import recognise
from core.orderings.superlattice import hnf_2d, metric_norm2, wood_name
from core.structure.model import Model
from core.structure.species import CODE, VACANCY


def _model(name, cell="12x12", layers=None, tm="Li:1/3,Mn:2/3", alkali=None, host="O3", **kw):
    m = Model.build(host, "Li" if host[0] == "O" else "Na", cell, layers=layers, tm_spec=tm,
                    alkali_spec=alkali, seed=1)
    m.set_occupancy(preset_occupancy(m, name, **kw))
    return m


# Wood's notation worked out by hand on the triangular lattice (a1, a2 at 120 degrees):
# sqrt3 lattice spanned by 2a1 + a2 (at 30 deg, length sqrt3); sqrt7 by 3a1 + a2 (|.|^2 = 9 + 1 - 3 = 7,
# at atan(sqrt3/2 / 2.5) = 19.1 deg); sqrt13 by 4a1 + a2 (13, 13.9 deg); 2sqrt3 by twice the sqrt3 vectors.
@pytest.mark.parametrize("rows,name", [
    ([[2, 1], [-1, 1]], "sqrt3 x sqrt3 R30"),
    ([[2, 0], [0, 2]], "2 x 2"),
    ([[2, 0], [0, 1]], "2 x 1"),
    ([[1, 0], [0, 2]], "2 x 1"),
    ([[3, 1], [-1, 2]], "sqrt7 x sqrt7 R19.1"),
    ([[1, 3], [-3, -2]], "sqrt7 x sqrt7 R19.1"),    # the mirror image
    ([[4, 1], [-1, 3]], "sqrt13 x sqrt13 R13.9"),
    ([[4, 2], [-2, 2]], "2sqrt3 x 2sqrt3 R30"),
    ([[3, 0], [0, 3]], "3 x 3"),
    ([[2, 0], [1, 2]], "(2 x sqrt3) rect"),
])
def test_wood_names_by_hand(rows, name):
    got, basis = wood_name(rows)
    assert got == name
    # the reported basis spans the same lattice
    assert hnf_2d(basis).tolist() == hnf_2d(rows).tolist()
    assert abs(round(np.linalg.det(basis))) == abs(round(np.linalg.det(np.array(rows))))


def test_hnf_of_generators():
    assert hnf_2d([[6, 0], [0, 6], [2, 1], [-1, 1]]).tolist() == [[3, 0], [2, 1]]
    assert metric_norm2(np.array([1, 1])) == 1  # a1 + a2 is a nearest neighbour


PRESET_CASES = [
    ("honeycomb", {}, "honeycomb", "sqrt3 x sqrt3 R30"),
    ("honeycomb", {"layers": 3, "cell": "6x6", "tm": "Ni:1/3,Mn:2/3", "stacking": "P3_112"},
     "honeycomb", "sqrt3 x sqrt3 R30"),
    ("honeycomb", {"host": "P2", "cell": "6x6", "tm": "Mg:1/3,Mn:2/3", "alkali": "Na:2/3"},
     "honeycomb", "sqrt3 x sqrt3 R30"),
    ("ribbon", {"cell": "10x10", "tm": "Li:1/5,Mn:4/5"}, "ribbon", None),
    ("flower", {"tm": "Ni:1/2,Mn:1/2"}, "flower", "2sqrt3 x 2sqrt3 R30"),
    ("zigzag", {"tm": "Ni:1/2,Mn:1/2"}, "zigzag", "(2 x sqrt3) rect"),
    ("stripe", {"tm": "Ni:1/2,Mn:1/2"}, "stripe", "2 x 1"),
    ("capped_honeycomb", {"cell": "6x6", "layers": 3, "alkali": "Li:5/6,Mn:1/6"}, "capped honeycomb",
     "sqrt3 x sqrt3 R30"),
]


def _build(name, kw):
    return _model(name, **kw)


@pytest.mark.parametrize("name,kw,label,wood", PRESET_CASES)
def test_every_preset_named(name, kw, label, wood):
    m = _build(name, kw)
    r = recognise(m)
    assert r["label"] == label and r["confidence"] == pytest.approx(1.0)
    if wood is not None:
        assert r["superlattice"]["name"] == wood
    # the ribbon's lattice (i - 2j) % 5 == 0 has index 5
    assert r["superlattice"]["index"] == {"ribbon": 5, "flower": 12, "zigzag": 4, "stripe": 2}.get(name, 3)
    tm_layers = [p for p in r["per_layer"] if p["kind"] == "tm"]
    assert len(tm_layers) == m.supercell.layers
    assert all(p["label"] == label for p in tm_layers)
    assert len([p for p in r["per_layer"] if p["kind"] == "alkali"]) == m.supercell.layers


def _transformed(m, rot: int, shift):
    """Copy of m whose TM layers are rotated by rot x 60 degrees about a site and shifted by `shift`."""
    sc = m.supercell
    out = m.copy()
    tm = sc.tm_sites
    ijk = sc.ijk[tm].copy()
    i, j = ijk[:, 0].copy(), ijk[:, 1].copy()
    for _ in range(rot):        # 60 degrees: a1 -> a1 + a2, a2 -> -a1
        i, j = i - j, i
    ijk[:, 0], ijk[:, 1] = i + shift[0], j + shift[1]
    dest = sc.index_of(sc.basis_local[tm], ijk)
    occ = out.occupancy.copy()
    occ[dest] = m.occupancy[tm]
    out.set_occupancy(occ)
    return out


@pytest.mark.parametrize("name,kw,label,wood", [c for c in PRESET_CASES if c[0] != "capped_honeycomb"])
def test_name_independent_of_origin_and_rotation(name, kw, label, wood):
    kw = dict(kw)
    kw.pop("layers", None)
    kw.pop("stacking", None)
    kw["cell"] = "12x12" if name != "ribbon" else "10x10"
    if kw.get("host") == "P2":
        kw["cell"] = "6x6"
    m = _build(name, kw)
    ref = recognise(m)
    for rot in range(6):
        for shift in ((0, 0), (1, 0), (2, 3)):
            r = recognise(_transformed(m, rot, shift))
            assert r["label"] == ref["label"] and r["superlattice"]["name"] == ref["superlattice"]["name"]
            assert r["superlattice"]["index"] == ref["superlattice"]["index"]
            assert r["confidence"] == pytest.approx(ref["confidence"])


def test_honeycomb_confident_random_not():
    hc = _model("honeycomb", cell="24x24")
    r = recognise(hc)
    assert r["confidence"] >= 0.95
    for seed in range(3):
        rnd = Model.build("O3", "Li", "24x24", tm_spec="Li:1/3,Mn:2/3", seed=seed)
        r = recognise(rnd)
        assert r["confidence"] <= 0.5 and r["superlattice"]["name"] is None and r["label"] == "disordered"


def test_defects_lower_confidence_but_keep_the_superlattice():
    m = _model("honeycomb", cell="24x24")
    sc = m.supercell
    rng = np.random.default_rng(0)
    li = sc.tm_sites[m.occupancy[sc.tm_sites] == CODE["Li"]]
    mn = sc.tm_sites[m.occupancy[sc.tm_sites] == CODE["Mn"]]
    a, b = rng.choice(li, 10, replace=False), rng.choice(mn, 10, replace=False)
    m.apply([(int(s), CODE["Mn"]) for s in a] + [(int(s), CODE["Li"]) for s in b])
    r = recognise(m)
    # 20 of 576 sites off their coset's majority: fit 556 / 576
    assert r["superlattice"]["name"] == "sqrt3 x sqrt3 R30"
    assert r["confidence"] == pytest.approx(556 / 576)


def test_vacancy_superlattice_in_tm_layer():
    """A perfectly ordered vacancy lattice (one vacancy per sqrt7 cell) is named, not 'disordered'."""
    m = Model.build("O3", "Li", "7x7", tm_spec="Mn")
    sc = m.supercell
    i, j = sc.ijk[sc.tm_sites, 0], sc.ijk[sc.tm_sites, 1]
    # lattice [[3, 1], [-1, 2]]: (i, j) with (i - 3 j) % 7 == 0 (hand-derived: 3 - 3 = 0, -1 - 6 = -7)
    vac = sc.tm_sites[(i - 3 * j) % 7 == 0]
    assert len(vac) == 7
    m.apply([(int(s), VACANCY) for s in vac])
    r = recognise(m)
    assert r["superlattice"]["name"] == "sqrt7 x sqrt7 R19.1" and r["confidence"] == 1.0
    assert r["label"] == "sqrt7 x sqrt7 R19.1"
    rnd = m.copy()
    rnd.set_occupancy(preset_occupancy(m, "random", seed=3))
    assert recognise(rnd)["superlattice"]["name"] is None


@pytest.mark.slow
def test_nmc111_annealed_is_sqrt3():
    from core.orderings.montecarlo import run_anneal
    m = Model.build("O3", "Li", "6x6", tm_spec="Ni:1/3,Co:1/3,Mn:1/3", seed=0)
    res = run_anneal(m, sweeps=3000, seed=0, replicas=4)
    m.set_occupancy(res.best_occupancy)
    r = recognise(m)
    assert r["superlattice"]["name"] == "sqrt3 x sqrt3 R30" and r["confidence"] == 1.0
    # each species on its own sqrt3 coset: every Ni has three Co and three Mn first neighbours
    assert r["neighbour_counts"]["Ni"]["Co"] == [0, 0, 0, 12, 0, 0, 0]


def test_recognition_of_24x24_within_10_ms():
    m = _model("honeycomb", cell="24x24")
    recognise(m)
    t = time.perf_counter()
    for _ in range(20):
        recognise(m)
    assert (time.perf_counter() - t) / 20 < 0.010


def test_layer_net_of_a_honeycomb_is_its_sqrt3_cell_by_element():
    """The drawn net: one lattice point per sqrt3 cell (n/3 of the layer), cell area 3 x the primitive
    area, started on a minority ion; Ni2+/Ni3+ on the minority coset give the same net (by element)."""
    from core.orderings.superlattice import layer_net
    from core.structure.species import CODE

    m = Model.build("O3", "Li", "6", tm_spec="Ni:1/3,Mn:2/3", seed=0)
    m.set_occupancy(preset_occupancy(m, "honeycomb"))
    sites = m.supercell.layer_sites(0)
    net = layer_net(m, sites)
    assert net["name"] == "sqrt3 x sqrt3 R30"
    assert net["points"].sum() == len(sites) // 3
    h = m.supercell.host
    prim = abs(np.linalg.det(np.array([h.a1[:2], h.a2[:2]])))
    assert abs(abs(np.linalg.det(net["basis"])) - 3 * prim) < 1e-9
    assert m.occupancy[net["origin"]] not in (CODE["Mn"],)
    mixed = m.copy()
    ni = np.flatnonzero(np.isin(mixed.occupancy, [CODE["Ni"]]))
    occ = mixed.occupancy.copy()
    occ[ni[::2]] = CODE["Ni2+"]
    occ[ni[1::2]] = CODE["Ni3+"]
    mixed.set_occupancy(occ)
    net2 = layer_net(mixed, sites)
    assert net2["name"] == net["name"] and np.array_equal(net2["points"], net["points"])


def test_dft_sized_cells_name_the_cell_itself():
    """NMC111 in the sqrt3 x sqrt3 cell used for DFT, and an alkali ordering in its own 2sqrt3 x 2sqrt3
    cell, repeat only with the supercell: the cell is named (flagged `whole_cell`), not called disordered.
    A large random layer still gets no superlattice."""
    from core.orderings.recognition import recognise
    from core.structure.model import Model

    m = Model.build("O3", "Li", "sqrt3", layers=3, tm_spec="Ni:1/3,Co:1/3,Mn:1/3", seed=0)
    r = recognise(m)
    assert r["superlattice"]["name"] == "sqrt3 x sqrt3 R30" and r["superlattice"]["whole_cell"]
    assert r["label"] == "sqrt3 x sqrt3 R30" and r["confidence"] == 1.0
    big = Model.build("O3", "Li", "12", layers=1, tm_spec="Ni:1/3,Co:1/3,Mn:1/3", seed=0)
    rb = recognise(big)
    assert rb["superlattice"]["name"] is None and not rb["superlattice"]["whole_cell"]
    assert rb["confidence"] <= 0.5


@pytest.mark.parametrize("n", [2, 7, 8, 9, 12])
def test_strip_cells_keep_their_wood_name(n):
    """An n x 1 strip is 'n x 1' for every n (its Wood basis (n, 0), (0, 1) lies beyond a fixed window of
    small coefficients of the reduced basis once n >= 8; it was named '(4sqrt3 x 1) rect', 'sqrt61 x 1
    oblique 86.3')."""
    name, basis = wood_name(np.array([[n, 0], [0, 1]]))
    assert name == f"{n} x 1"
    assert abs(int(round(np.linalg.det(basis)))) == n
