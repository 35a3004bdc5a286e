"""Ewald engine: totals against pymatgen and docs/science.md §6, incremental updates against full sums."""
import warnings

import numpy as np
import pytest

from core import Model, Supercell, make_host
from core.energy.ewald import EwaldEngine, charges_of, ewald_summary, get_engine, structure_charges, structure_energy
from core.energy.live import LiveEwald
from core.errors import ResourceLimitError, SpeciesError
from core.structure.species import SPECIES, code_of


def pmg_structure(sc, q, frac=None):
    """pymatgen Structure of the charged sites (vacancies omitted), charges as the 'charge' property."""
    from pymatgen.core import Lattice, Structure

    keep = np.flatnonzero(q != 0)
    frac = sc.frac if frac is None else frac
    return Structure(Lattice(sc.lattice), ["H"] * len(keep), frac[keep],
                     site_properties={"charge": q[keep].tolist()})


def pmg_energy(sc, q, frac=None) -> float:
    from pymatgen.analysis.ewald import EwaldSummation

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return EwaldSummation(pmg_structure(sc, q, frac=frac)).total_energy


def random_model(stacking, alkali, matrix, layers, seed, tm_spec="Li:1/3,Mn:1/3,Ni:1/3", alkali_spec=None):
    host = make_host(stacking, alkali)
    sc = Supercell(host, matrix, layers)
    m = Model(sc)
    rng = np.random.default_rng(seed)
    codes = [code_of(s.split(":")[0]) for s in tm_spec.split(",")]
    m.occupancy[sc.tm_sites] = rng.choice(codes, size=len(sc.tm_sites))
    alk = m.default_alkali_sites()
    m.occupancy[alk] = rng.choice([code_of(alkali), 0], size=len(alk), p=[0.7, 0.3])
    return m


CELLS = [("O3", "Li", "3", 1), ("O3", "Li", "sqrt3", 3), ("O3", "Li", [[5, 0], [2, 1]], 1),
         ("P2", "Na", "2", 2), ("P3", "Na", "sqrt3", 3), ("O2", "Li", "2x3", 2)]


def test_group_map_sends_supercell_vectors_to_identity():
    for st, alk, mat, layers in CELLS:
        sc = Supercell(make_host(st, alk), mat, layers)
        key = set(zip(sc.basis_local.tolist(), map(tuple, sc.group.tolist())))
        assert len(key) == sc.n_sites
        # a site shifted by a supercell vector is the same site: same basis, same group element
        idx = sc.index_of(sc.basis_local, sc.ijk + sc.S[0])
        assert np.array_equal(sc.group[idx], sc.group)


@pytest.mark.parametrize("cell", CELLS, ids=lambda c: f"{c[0]}-{c[2]}-{c[3]}")
def test_total_matches_pymatgen_neutral_and_charged(cell):
    m = random_model(*cell, seed=1)
    eng = EwaldEngine(m.supercell)
    q = charges_of(m)
    for _ in range(2):  # as built (charged in general), then neutralised on one O site
        assert eng.energy(q) == pytest.approx(pmg_energy(m.supercell, q), abs=1e-6)
        q = q.copy()
        q[m.supercell.o_sites[0]] -= q.sum()
    assert abs(q.sum()) < 1e-12


def test_matrix_is_symmetric_and_block_circulant():
    sc = Supercell(make_host("O3", "Li"), "sqrt3", 3)
    eng = EwaldEngine(sc)
    M = eng.dense_matrix()
    assert np.allclose(M, M.T, atol=1e-12)
    # pair energy from pymatgen's matrix for one pair of unit charges in a charge-neutral pair
    i, j = sc.tm_sites[0], sc.o_sites[4]
    q = np.zeros(sc.n_sites)
    q[i], q[j] = 1.0, -1.0
    assert 0.5 * q @ M @ q == pytest.approx(pmg_energy(sc, q), abs=1e-8)


def test_energy_does_not_depend_on_eta():
    m = random_model("P2", "Na", "2", 2, seed=3)
    q = charges_of(m)
    e1 = EwaldEngine(m.supercell, eta=0.05).energy(q)
    e2 = EwaldEngine(m.supercell, eta=0.4).energy(q)
    assert abs(q.sum()) > 0.5  # charged: the background must be eta-free too
    assert e1 == pytest.approx(e2, abs=1e-8)


@pytest.mark.parametrize("name,a,zq,per_fu", [("NaCl", 5.64, 1, -8.92351), ("MgO", 4.2, 2, -47.93202)])
def test_rocksalt_reference_values(name, a, zq, per_fu):
    """docs/science.md §6 (pymatgen EwaldSummation defaults, formal charges)."""
    from pymatgen.core import Lattice, Structure

    cat, an = ("Na", "Cl") if name == "NaCl" else ("Mg", "O")
    fcc = np.array([[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])
    s = Structure(Lattice.cubic(a), [cat] * 4 + [an] * 4, np.vstack([fcc, fcc + [0.5, 0, 0]]) % 1.0)
    s.add_oxidation_state_by_element({cat: zq, an: -zq})
    assert structure_energy(s) / 4 == pytest.approx(per_fu, abs=1e-5)


def test_structure_without_oxidation_states_names_the_element():
    from pymatgen.core import Lattice, Structure

    s = Structure(Lattice.cubic(4.0), ["Mn", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.raises(SpeciesError, match="Mn"):
        structure_charges(s)


def test_missing_oxidation_state_names_species():
    m = random_model("O3", "Li", "3", 1, seed=0)
    m.oxidation.pop("Ni")
    with pytest.raises(SpeciesError, match="Ni"):
        ewald_summary(m)
    m.oxidation["Ni"] = float("nan")
    with pytest.raises(SpeciesError, match="Ni"):
        ewald_summary(m)


def test_too_large_is_refused_with_estimate():
    sc = Supercell(make_host("O3", "Li"), "12", 3)
    with pytest.raises(ResourceLimitError, match=r"\d+ MB"):
        EwaldEngine(sc, memory_budget_mb=1.0)


def test_site_energies_sum_to_total_and_potential_is_gradient():
    m = random_model("O3", "Li", "3", 3, seed=4)
    eng = get_engine(m.supercell)
    q = charges_of(m)
    E = eng.energy(q)
    assert eng.site_energies(q).sum() == pytest.approx(E, abs=1e-8)
    phi = eng.potential(q)
    i = m.supercell.tm_sites[3]
    h = 1e-4
    qp, qm = q.copy(), q.copy()
    qp[i] += h
    qm[i] -= h
    assert (eng.energy(qp) - eng.energy(qm)) / (2 * h) == pytest.approx(phi[i], abs=1e-5)


def test_live_delta_equals_full_difference_and_reverse_negates():
    m = random_model("O3", "Li", "3", 3, seed=5)
    eng = get_engine(m.supercell)
    rng = np.random.default_rng(0)
    live = LiveEwald(eng, charges_of(m))
    cat = m.supercell.cation_sites
    for k in (1, 2, 3, 20):  # 20 takes the matrix path
        for _ in range(5):
            sites = rng.choice(cat, size=k, replace=False)
            new = rng.choice([0.0, 1.0, 2.0, 3.0, 4.0], size=k)
            q0 = live.q
            q1 = q0.copy()
            q1[sites] = new
            d = live.delta(sites, new)
            assert d == pytest.approx(eng.energy(q1) - eng.energy(q0), abs=1e-7)
            assert live.apply(sites, new) == pytest.approx(d, abs=1e-12)
            back = live.apply(sites, q0[sites])
            assert back == pytest.approx(-d, abs=1e-7)
            assert np.array_equal(live.q, q0)
    for _ in range(10):
        i, j = rng.choice(cat, size=2, replace=False)
        q0 = live.q
        q1 = q0.copy()
        q1[[i, j]] = q0[[j, i]]
        d = live.swap_delta(i, j)
        assert d == pytest.approx(eng.energy(q1) - eng.energy(q0), abs=1e-7)
        live.apply_swap(i, j)
        assert live.swap_delta(i, j) == pytest.approx(-d, abs=1e-7)
    assert live.energy == pytest.approx(pmg_energy(m.supercell, live.q), abs=1e-6)


def test_tracked_energy_after_many_edits_equals_fresh_sum():
    m = random_model("O3", "Li", "6", 3, seed=6)
    eng = get_engine(m.supercell)
    live = LiveEwald.from_model(m)
    rng = np.random.default_rng(1)
    tm = m.supercell.tm_sites
    codes = [code_of(s) for s in ("Li", "Mn", "Ni", "Co")]
    for n in range(10_000):
        if n % 2:
            i, j = rng.choice(tm, 2)
            live.apply_swap(int(i), int(j))
        else:
            live.apply_edit([(int(rng.choice(tm)), int(rng.choice(codes)))])
    assert live.energy == pytest.approx(eng.energy(live.q), abs=1e-6)
    assert live.net_charge == pytest.approx(live.q.sum(), abs=1e-9)
    assert np.allclose(live.phi, eng.potential(live.q), atol=1e-9)


def test_delta_edit_in_species_codes_matches_model_edit():
    m = random_model("P3", "Na", "sqrt3", 3, seed=7)
    live = LiveEwald.from_model(m)
    eng = get_engine(m.supercell)
    before = eng.energy(charges_of(m))
    edit = [(int(m.supercell.tm_sites[0]), code_of("Mg")), (int(m.supercell.tm_sites[1]), code_of("Ti"))]
    d = live.delta_edit(edit)
    m.apply(edit)
    assert d == pytest.approx(eng.energy(charges_of(m)) - before, abs=1e-8)


def honeycomb_model(offsets, matrix="sqrt3"):
    sc = Supercell(make_host("O3", "Li"), matrix, 3)
    m = Model(sc)
    m.occupancy[sc.alkali_sites] = code_of("Li")
    tm = sc.tm_sites
    minority = (sc.ijk[tm, 0] + sc.ijk[tm, 1]) % 3 == np.array(offsets)[sc.layer[tm]]
    m.occupancy[tm] = np.where(minority, code_of("Li"), code_of("Mn"))
    return m


def test_honeycomb_stackings_have_equal_energy():
    """docs/science.md §2: ideal honeycomb layers stacked C2/m-like (constant offset) or
    helically (P3_112-like, offsets 0, 1, 2) have the same point-charge energy."""
    c2m = ewald_summary(honeycomb_model((0, 0, 0)))
    helical = ewald_summary(honeycomb_model((0, 1, 2)))
    assert c2m["net_charge"] == 0.0
    assert c2m["ewald_eV"] == pytest.approx(helical["ewald_eV"], abs=1e-6)
    # and it is the ground state of the TM layer: exchanging a Li and an Mn costs energy
    m = honeycomb_model((0, 0, 0), "2sqrt3")
    assert ewald_summary(m)["ewald_eV"] == pytest.approx(4 * c2m["ewald_eV"], abs=1e-6)
    live = LiveEwald.from_model(m)
    tm = m.supercell.tm_sites
    li = tm[m.occupancy[tm] == code_of("Li")][0]
    mn = tm[m.occupancy[tm] == code_of("Mn")][0]
    assert live.swap_delta(int(li), int(mn)) > 0.1


def test_point_potential_gives_energy_of_moving_an_ion():
    m = random_model("O3", "Li", "sqrt3", 3, seed=8)
    sc = m.supercell
    eng = get_engine(sc)
    q = charges_of(m)
    i = int(sc.tm_sites[np.flatnonzero(q[sc.tm_sites] != 0)[0]])
    # at the site itself: the potential of the others is phi_i minus the self term
    here = eng.point_potential(eng.site_cart()[[i]], q, exclude=[i])
    assert here[0] == pytest.approx(eng.potential(q)[i] - eng.matrix_element(i, i) * q[i], abs=1e-8)
    # moving the ion to a general point: compare with pymatgen on the displaced structure
    r = sc.cart[i] + np.array([0.7, -0.4, 0.9])
    frac = sc.frac.copy()
    frac[i] = r @ np.linalg.inv(sc.lattice)
    dE = q[i] * (eng.point_potential(r[None], q, exclude=[i])[0] - here[0])
    assert dE == pytest.approx(pmg_energy(sc, q, frac=frac) - pmg_energy(sc, q), abs=1e-6)


def test_summary_keys_and_cache():
    m = random_model("O3", "Li", "3", 3, seed=9)
    s = ewald_summary(m)
    assert set(s) == {"ewald_eV", "ewald_eV_per_MO2", "ewald_eV_per_atom", "net_charge"}
    assert s["ewald_eV_per_MO2"] == pytest.approx(s["ewald_eV"] / (len(m.supercell.o_sites) / 2))
    assert s["ewald_eV_per_atom"] == pytest.approx(s["ewald_eV"] / np.count_nonzero(m.occupancy))
    assert s["net_charge"] == pytest.approx(m.net_charge)
    assert get_engine(m.supercell) is get_engine(m.supercell)
    assert SPECIES[0] == "Va"


def test_engine_cache_does_not_keep_supercells_alive():
    import gc
    import weakref

    from core.energy import ewald

    sc = Supercell(make_host("O3", "Li"), "2", 3)
    eng = get_engine(sc)
    assert eng.supercell is sc
    ref = weakref.ref(sc)
    n = len(ewald._CACHE)
    del sc
    gc.collect()
    assert ref() is None
    assert len(ewald._CACHE) == n - 1


@pytest.mark.parametrize("cell", [("O3", "Li", "3", 1), ("P2", "Na", "2", 2)], ids=["O3", "P2"])
def test_per_point_exclusion_equals_exclude_that_site(cell):
    """exclude_per_point (one site per point, all in one call) == exclude=[that site], point by point,
    including points on the excluded site itself and on a lattice-shifted copy of it."""
    m = random_model(*cell, seed=2)
    eng = EwaldEngine(m.supercell)
    q = charges_of(m)
    rng = np.random.default_rng(7)
    P = 60
    sites = rng.integers(0, eng.n_sites, P)
    sites[:4] = -1  # no exclusion at these points
    pts = rng.random((P, 3)) @ m.supercell.lattice
    pts[4:10] = eng.site_cart()[sites[4:10]]
    pts[10] = eng.site_cart()[sites[10]] + m.supercell.lattice[0] - m.supercell.lattice[2]
    got = eng.point_potential(pts, q, exclude_per_point=sites)
    ref = np.array([eng.point_potential(r[None], q, exclude=[s] if s >= 0 else None)[0]
                    for r, s in zip(pts, sites)])
    assert np.isfinite(got).all()
    assert np.abs(got - ref).max() < 1e-8
    # with a common exclude list as well: both sites left out at that point
    common = [int(m.supercell.o_sites[0])]
    got2 = eng.point_potential(pts[:4], q, exclude=common, exclude_per_point=sites[4:8])
    ref2 = np.array([eng.point_potential(r[None], q, exclude=common + [int(s)])[0]
                     for r, s in zip(pts[:4], sites[4:8])])
    assert np.abs(got2 - ref2).max() < 1e-8
    with pytest.raises(ValueError):
        eng.point_potential(pts, q, exclude_per_point=sites[:-1])
