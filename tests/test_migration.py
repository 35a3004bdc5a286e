"""Migration paths: geometry against docs/science.md §7, blocking rules against hand counts, energies
against pymatgen Ewald differences and a hand-summed Born-Mayer term, and the direction of the
physical effects of docs/science.md §4 and §7 (vacated honeycomb centres open in-plane Mn migration, a TM cap
raises it). All energies are the electrostatic estimate."""
import json
import math

import numpy as np
import pytest

from core import Model
from core.errors import LayerStudioError, MigrationError
from core.migration.energy import BORN_MAYER
from core.migration.geometry import candidate_table
from core.migration.search import KINDS, LABEL, cheapest, find_paths, group_paths
from core.orderings import preset_occupancy
from core.orderings.patterns import trans_cap_sites
from core.structure.species import SPECIES, code_of

LI, MN = code_of("Li"), code_of("Mn")
A, C = 2.8156, 14.0542  # LiCoO2 defaults (docs/science.md §1)


# ------------------------------------------------------------------------------------- helpers
def pmg_energy(model, site=None, position=None):
    """pymatgen Ewald energy (eV) of the model, optionally with the ion of `site` at `position`."""
    from pymatgen.analysis.ewald import EwaldSummation
    from pymatgen.core import Lattice, Species, Structure

    sc = model.supercell
    keep = np.flatnonzero(model.occupancy != 0)
    cart = sc.cart[keep].copy()
    if site is not None:
        cart[np.flatnonzero(keep == site)[0]] = position
    sp = [Species(SPECIES[c], model.oxidation[SPECIES[c]]) for c in model.occupancy[keep]]
    return EwaldSummation(Structure(Lattice(sc.lattice), sp, cart, coords_are_cartesian=True)).total_energy


def honeycomb_model(cell="6", layers=1, name="honeycomb", tm="Li:1/3,Mn:2/3"):
    m = Model.build("O3", "Li", cell, layers=layers, tm_spec=tm)
    m.set_occupancy(preset_occupancy(m, name))
    return m


def delithiate_tm_layer(m):
    """Remove every TM-layer Li (cell left charged: the Ewald background takes the -1 per site)."""
    sc = m.supercell
    sites = sc.tm_sites[m.occupancy[sc.tm_sites] == LI]
    m.apply([(int(s), 0) for s in sites])
    return sites


def min_image(sc, vec):
    """Shortest periodic image of Cartesian vectors (n, 3)."""
    f = vec @ np.linalg.inv(sc.lattice)
    f -= np.round(f)
    imgs = np.array(np.meshgrid([-1, 0, 1], [-1, 0, 1], [-1, 0, 1])).reshape(3, -1).T
    cand = (f[:, None, :] + imgs[None]) @ sc.lattice
    return cand[np.arange(len(f)), np.argmin(np.linalg.norm(cand, axis=2), axis=1)]


# ------------------------------------------------------------------------------------- geometry
def test_candidate_counts_per_site_match_rocksalt_topology():
    """An O3 octahedron shares 8 faces with tetrahedra: a TM one 6 TM-layer tets (each shared with two
    more TM octahedra) and 2 alkali-layer tets (each with three alkali octahedra), and 6 edges in plane."""
    m = Model.build("O3", "Li", "3", layers=3, tm_spec="Co")
    sc = m.supercell
    tab = candidate_table(sc)
    names = np.array(tab.names)[tab.kind]
    per = {k: np.bincount(tab.src[names == k], minlength=sc.n_sites) for k in KINDS}
    tm, alk = sc.tm_sites, sc.alkali_sites
    expect_tm = {"inplane_edge": 6, "inplane_tet": 12, "out_of_plane": 6}
    expect_alk = {"into_tm_layer": 6, "alkali_tet": 12, "alkali_dumbbell": 6}
    for k, n in expect_tm.items():
        assert (per[k][tm] == n).all() and per[k][alk].sum() == 0
    for k, n in expect_alk.items():
        assert (per[k][alk] == n).all() and per[k][tm].sum() == 0
    assert (names == "prism_hop").sum() == 0


def test_path_geometry_matches_reference_section_7():
    m = Model.build("O3", "Li", "3", layers=3, tm_spec="Co", alkali_spec="Li:2/3")
    m.apply([(int(m.supercell.tm_sites[0]), 0)])
    sc = m.supercell
    paths = find_paths(m, open_only=False, energies=False)
    by_kind = {}
    for p in paths:
        by_kind.setdefault(p.kind, p)
    for _kind, p in by_kind.items():
        assert p.images.shape[0] >= 9 and np.allclose(p.images[0], sc.cart[p.from_site])
        end = min_image(sc, (p.images[-1] - sc.cart[p.to_site])[None])[0]
        assert np.linalg.norm(end) < 1e-9
        if p.intermediate is not None:
            mid = p.images[(len(p.images) - 1) // 2]
            assert np.linalg.norm(min_image(sc, (mid - sc.inter_cart[p.intermediate])[None])) < 1e-9
    jump = {k: np.linalg.norm(p.images[-1] - p.images[0]) for k, p in by_kind.items()}
    for k in ("inplane_edge", "inplane_tet", "alkali_tet", "alkali_dumbbell"):
        assert jump[k] == pytest.approx(A, abs=1e-9)
    # out of plane: sqrt((a / sqrt3)^2 + (c / 6)^2) ~ 2.85 Angstrom
    assert jump["out_of_plane"] == pytest.approx(math.hypot(A / math.sqrt(3), C / 6), abs=1e-9)
    assert jump["out_of_plane"] == pytest.approx(2.85, abs=0.01)
    p = by_kind["out_of_plane"]
    assert np.linalg.norm(p.images[4] - p.images[0]) == pytest.approx(1.68, abs=0.01)   # TM -> tet
    assert np.linalg.norm(p.images[-1] - p.images[4]) == pytest.approx(1.75, abs=0.01)  # tet -> oct
    # straight paths pass through the centre of the shared O-O edge
    for k in ("inplane_edge", "alkali_dumbbell"):
        p = by_kind[k]
        mid = p.images[4]
        d = np.linalg.norm(min_image(sc, sc.cart[sc.o_sites] - mid), axis=1)
        two = np.sort(d)[:2]
        assert two[0] == pytest.approx(two[1], abs=1e-9) and two[1] < np.sort(d)[2] - 0.3
        o = sc.o_sites[np.argsort(d)[:2]]
        centre = mid + 0.5 * (min_image(sc, sc.cart[o[0:1]] - mid) + min_image(sc, sc.cart[o[1:2]] - mid))[0]
        assert np.linalg.norm(centre - mid) < 1e-9


# ------------------------------------------------------------------------------------- energies
def _one_per_kind(paths):
    seen = {}
    for p in paths:
        seen.setdefault(p.kind, p)
    return list(seen.values())


@pytest.mark.parametrize("stacking,alkali,cell,layers,alk_spec,tm_spec,kinds", [
    ("O3", "Li", "3", 1, "Li:1/3", "Co:2/3", {"inplane_edge", "inplane_tet", "out_of_plane",
                                               "into_tm_layer", "alkali_tet", "alkali_dumbbell"}),
    ("P2", "Na", "3", 2, "Na:1/3", "Ni:1/3,Mn:1/2", {"prism_hop", "inplane_edge"}),
    ("O2", "Li", "2", 2, "Li:1/2", "Co:3/4", {"inplane_edge", "alkali_dumbbell", "alkali_tet",
                                               "into_tm_layer"}),
    ("P3", "Na", "3", 1, "Na:1/3", "Ni:1/3,Mn:5/9", {"prism_hop", "inplane_edge"}),
])
def test_coulomb_profile_equals_pymatgen_energy_differences(stacking, alkali, cell, layers, alk_spec,
                                                            tm_spec, kinds):
    """Every image of one open path per kind: q (phi_rest(r) - phi_rest(r0)) == E_pmg(moved) - E_pmg,
    in a cell left charged by vacancies (pymatgen's background term cancels)."""
    m = Model.build(stacking, alkali, cell, layers=layers, alkali_spec=alk_spec, tm_spec=tm_spec, seed=3)
    paths = find_paths(m)
    assert kinds <= {p.kind for p in paths}
    e0 = pmg_energy(m)
    for p in _one_per_kind(paths):
        ref = np.array([pmg_energy(m, p.from_site, r) for r in p.images]) - e0
        assert np.abs(p.coulomb - ref).max() < 1e-6, p.kind


def test_engine_point_potential_contract_gives_the_same_profiles():
    from core.energy.ewald import get_engine

    m = Model.build("O3", "Li", "3", layers=1, alkali_spec="Li:2/3", tm_spec="Co:2/3", seed=1)
    fast = find_paths(m)
    slow = find_paths(m, engine=get_engine(m.supercell))
    assert len(fast) == len(slow) > 0
    for a, b in zip(fast, slow):
        assert (a.from_site, a.to_site, a.kind) == (b.from_site, b.to_site, b.kind)
        assert np.abs(a.coulomb - b.coulomb).max() < 1e-6


def test_born_mayer_term_is_the_hand_sum_over_oxygen():
    m = honeycomb_model("3")
    delithiate_tm_layer(m)
    p = cheapest(find_paths(m), kind="inplane_edge", species="Mn")
    sc = m.supercell
    A_mn, rho = BORN_MAYER[("Mn", 4)]

    shifts = np.array(np.meshgrid(*[np.arange(-2, 3)] * 3)).reshape(3, -1).T @ sc.lattice

    def e_rep(r):  # every periodic image of every O within the 5 Angstrom cutoff
        d = np.linalg.norm(sc.cart[sc.o_sites][:, None, :] + shifts[None] - r, axis=2).ravel()
        return float(np.sum(A_mn * np.exp(-d[d < 5.0] / rho)))

    hand = np.array([e_rep(r) for r in p.images])
    assert np.allclose(p.repulsion, hand - hand[0], atol=1e-9)
    # squeezing through the O-O edge (two O at ~1.31 Angstrom) costs tens of eV in a rigid lattice
    assert p.repulsion[4] > 10.0
    assert np.allclose(p.total, p.coulomb + p.repulsion)


# ------------------------------------------------------------------------------------- blocking
def test_pristine_li2mno3_has_no_open_tm_path_and_delithiation_opens_inplane_mn():
    m = honeycomb_model("6")
    assert m.formula() == "Li2MnO3"
    assert find_paths(m) == []
    blocked = [p for p in find_paths(m, open_only=False, energies=False) if p.is_tm]
    assert blocked and all("occupied" in p.reason or "face-sharing" in p.reason for p in blocked)
    centres = set(delithiate_tm_layer(m).tolist())
    paths = find_paths(m)
    tm_open = [p for p in paths if p.is_tm]
    # 12 vacated centres x their 6 Mn neighbours, all straight through the O-O edge
    assert len(tm_open) == 12 * 6
    assert {(p.kind, p.species) for p in tm_open} == {("inplane_edge", "Mn")}
    assert {p.to_site for p in tm_open} == centres
    groups = group_paths(tm_open)
    assert [g["size"] for g in groups] == [72]
    # the tetrahedral variant stays closed: its tet shares faces with a third Mn and an alkali-layer Li
    tet = [p for p in find_paths(m, kinds="inplane_tet", open_only=False, energies=False)
           if p.to_site in centres]
    assert tet and not any(p.open for p in tet)
    assert all("face-sharing Mn" in p.reason and "(tm)" in p.reason and "Li" in p.reason for p in tet)
    assert all(math.isfinite(p.max_eV) for p in tm_open)


def test_alkali_hops_need_a_vacancy_and_the_tet_hop_a_divacancy():
    m = Model.build("O3", "Li", "4", layers=3, tm_spec="Co")
    sc = m.supercell
    v = int(sc.alkali_sites[0])
    m.apply([(v, 0)])
    paths = find_paths(m)
    assert sorted(p.kind for p in paths) == ["alkali_dumbbell"] * 6
    tet = find_paths(m, kinds="alkali_tet", open_only=False, energies=False)
    into_v = [p for p in tet if p.to_site == v]
    assert len(into_v) == 12 and all("face-sharing Li" in p.reason for p in into_v)
    idx, _ = sc.neighbours([v], "alkali_oct", n=6, inplane=True)
    m.apply([(int(idx[0, 0]), 0)])
    kinds = [p.kind for p in find_paths(m)]
    # two tetrahedra share faces with both vacancies; the Li on each one's third octahedron can hop
    # into either vacancy (4); dumbbell hops: 5 Li neighbours of each vacancy (10)
    assert kinds.count("alkali_tet") == 4 and kinds.count("alkali_dumbbell") == 10


def test_prism_hop_blocked_by_a_face_sharing_neighbour_of_the_destination():
    m = Model.build("P2", "Na", "3", layers=2, alkali_spec="Na:0", tm_spec="Mn")
    sc = m.supercell
    e = sc.sites_with_role("prism_e")
    m.apply([(int(e[0]), code_of("Na"))])
    paths = find_paths(m)
    assert len(paths) == 3 and all(p.kind == "prism_hop" for p in paths)
    assert all(np.linalg.norm(p.images[-1] - p.images[0]) == pytest.approx(2.885 / math.sqrt(3), abs=1e-6)
               for p in paths)
    # occupy another Na_e prism next to one destination Na_f: that hop closes
    dest = paths[0].to_site
    idx, _ = sc.neighbours([dest], "prism_e", n=3)
    other = [int(s) for s in idx[0] if s != e[0]][0]
    m.apply([(other, code_of("Na"))])
    closed = [p for p in find_paths(m, open_only=False, energies=False)
              if p.from_site == e[0] and p.to_site == dest]
    assert len(closed) == 1 and not closed[0].open and f"#{other}" in closed[0].reason


def test_unknown_kind_is_a_user_error():
    m = Model.build("O3", "Li", "2", tm_spec="Co")
    with pytest.raises(MigrationError) as exc:
        find_paths(m, kinds="teleport")
    assert isinstance(exc.value, LayerStudioError) and "inplane_edge" in str(exc.value)


# ------------------------------------------------------------------------------------- effects
def test_tm_cap_raises_inplane_mn_migration_into_its_centre():
    """docs/science.md §4: a Mn on the alkali-layer site trans between two honeycomb centres (C2/m
    2c). After removing TM-layer Li, in-plane Mn migration into a capped centre costs more (electrostatic
    estimate) than without the cap and than into the uncapped centres of the same model."""
    m = honeycomb_model("6", layers=3)
    sc = m.supercell
    centre = np.zeros(sc.n_sites, bool)
    centre[sc.tm_sites] = m.occupancy[sc.tm_sites] == LI
    caps, pairs = trans_cap_sites(m, centre)
    assert len(caps)
    delithiate_tm_layer(m)
    before = {(p.from_site, p.to_site): p for p in find_paths(m, kinds="inplane_edge")}
    cap, capped = int(caps[0]), set(pairs[0].tolist())
    m.apply([(cap, MN)])
    after = find_paths(m, kinds="inplane_edge")
    into = [p for p in after if p.to_site in capped]
    other = [p for p in after if p.to_site not in capped]
    assert len(into) == 12
    rise = np.array([p.max_eV - before[(p.from_site, p.to_site)].max_eV for p in into])
    mid = np.array([p.total[4] - before[(p.from_site, p.to_site)].total[4] for p in into])
    assert (rise > -1e-6).all() and rise.mean() > 5.0 and (rise > 1.0).sum() >= 8
    assert (mid > 1.0).all()  # the cap sits 2.5 Angstrom from every edge midpoint into its centre
    assert min(p.max_eV for p in into) > min(p.max_eV for p in other) + 1.0


def test_ribbon_and_honeycomb_cheapest_inplane_mn_path_at_the_same_state_of_charge(capsys):
    """Both TM layers with all their Li removed (alkali layer full): report the cheapest in-plane Mn
    migration of each (numbers in the closing note)."""
    out = {}
    for name, cell, tm in (("honeycomb", "6", "Li:1/3,Mn:2/3"), ("ribbon", "5", "Li:1/5,Mn:4/5")):
        m = honeycomb_model(cell, layers=3, name=name, tm=tm)
        n_removed = len(delithiate_tm_layer(m))
        assert n_removed == len(m.supercell.tm_sites) // (3 if name == "honeycomb" else 5)
        best = cheapest(find_paths(m), kind=("inplane_edge", "inplane_tet"), species="Mn")
        assert best is not None and math.isfinite(best.max_eV)
        out[name] = (best.kind, best.max_eV, best.end_eV)
    with capsys.disabled():
        print(f"\n[{LABEL}] cheapest in-plane Mn path after TM-layer delithiation: {out}")
    assert set(out) == {"honeycomb", "ribbon"}


# ------------------------------------------------------------------------------------- CLI
def test_cli_paths_json_lists_kind_sites_and_energies(tmp_path, capsys):
    from core.cli import main
    from core.io.project import save_project

    m = honeycomb_model("3")
    delithiate_tm_layer(m)
    path = tmp_path / "lmo.json"
    save_project(path, m)
    assert main(["paths", str(path), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["label"] == "electrostatic estimate" and d["paths"]
    row = d["paths"][0]
    for key in ("kind", "species", "from_site", "to_site", "end_eV", "max_eV", "coulomb_max_eV",
                "repulsion_max_eV"):
        assert key in row
    assert {r["kind"] for r in d["paths"] if r["species"] == "Mn"} == {"inplane_edge"}
    assert main(["paths", str(path), "--kind", "alkali_tet", "--all"]) == 0
    text = capsys.readouterr().out
    assert "blocked" in text and "alkali_tet" in text
