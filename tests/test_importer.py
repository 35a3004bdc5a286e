"""CIF/POSCAR import: stacking recognition, lattice, layer assignment, partial occupancies, round trips.

Expected numbers come from docs/science.md (cells, Wyckoff positions, distances),
from pymatgen/spglib, or from hand arithmetic written next to the assertion.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from reference_models import honeycomb_by_hand

from core.errors import StructureImportError
from core.io.importer import import_structure, largest_remainder, read_structure
from core.structure.hosts import ROLE_PRISM_E, ROLE_PRISM_F
from core.structure.model import Model
from core.structure.species import CODE, SPECIES

FIX = Path(__file__).parent / "fixtures" / "structures"
LI, MN = CODE["Li"], CODE["Mn"]

pytestmark = pytest.mark.filterwarnings("ignore")


def export(model: Model, path: Path) -> np.ndarray:
    """Write the model's occupied sites as a P1 CIF or a POSCAR with pymatgen; returns their site indices."""
    from pymatgen.core import Lattice, Structure
    from pymatgen.io.cif import CifWriter
    from pymatgen.io.vasp import Poscar

    sc = model.supercell
    keep = np.flatnonzero(model.occupancy != 0)
    s = Structure(Lattice(sc.lattice), [SPECIES[c] for c in model.occupancy[keep]], sc.frac[keep])
    if path.suffix == ".cif":
        CifWriter(s).write_file(str(path))
    else:
        Poscar(s).write_file(str(path))
    return keep


def same_lattice_2d(M1, M2) -> bool:
    X = np.asarray(M1, float) @ np.linalg.inv(np.asarray(M2, float))
    return np.allclose(X, np.round(X)) and abs(round(np.linalg.det(X))) == 1


# ------------------------------------------------------------------------------------------------ LiCoO2
def test_licoo2_r3m_cif_is_o3_with_reference_lattice_and_layers():
    model, rep = import_structure(FIX / "LiCoO2_R-3m.cif")
    sc = model.supercell
    assert rep["stacking"] == "O3" and sc.host.stacking == "O3"
    assert sc.host.a == pytest.approx(2.8156, abs=1e-4)
    assert sc.host.c == pytest.approx(14.0542, abs=1e-4)
    # O height above the Co plane: (z(O) - 1/6) c with Li on 3a and Co on 3b (docs/science.md §1)
    assert sc.host.o_height == pytest.approx((0.2396 - 1 / 6) * 14.0542, abs=1e-4)
    assert rep["max_displacement"] < 1e-6
    # every Co in the TM layer, every Li in the alkali layer, one Li layer per TM layer
    assert model.counts(sc.tm_sites) == {"Co": len(sc.tm_sites)}
    assert model.counts(sc.alkali_sites) == {"Li": len(sc.alkali_sites)}
    assert sorted(set(sc.layer[sc.alkali_sites])) == sorted(set(sc.layer[sc.tm_sites]))
    assert model.formula() == "LiCoO2"
    # Co-O 1.922 and Li-O 2.092 Angstrom (docs/science.md §1, [calc])
    _, v = sc.neighbours(sc.tm_sites, "O", n=6)
    assert np.allclose(np.linalg.norm(v, axis=2), 1.922, atol=2e-3)
    _, v = sc.neighbours(sc.alkali_sites, "O", n=6)
    assert np.allclose(np.linalg.norm(v, axis=2), 2.092, atol=2e-3)
    from core.structure.symmetry import space_group
    assert space_group(model).number == 166


def test_licoo2_hexagonal_poscar_keeps_its_three_layer_cell_and_site_order():
    path = FIX / "POSCAR_LiCoO2_hex"
    model, rep = import_structure(path)
    sc = model.supercell
    assert rep["format"] == "POSCAR" and not rep["reduced_to_primitive"]
    assert rep["stacking"] == "O3"
    assert sc.matrix.tolist() == [[1, 0], [0, 1]] and sc.layers == 3
    assert sc.host.c == pytest.approx(14.0542, abs=1e-6)
    structure = read_structure(path)[0]
    species = [site.specie.symbol for site in structure]
    assert [SPECIES[c] for c in model.occupancy[rep.site_map]] == species
    assert len(set(rep.site_map.tolist())) == len(species)


# ------------------------------------------------------------------------------------------------ Li2MnO3
def test_li2mno3_c2m_maps_to_sqrt3_honeycomb():
    model, rep = import_structure(FIX / "Li2MnO3_C2m.cif")
    sc = model.supercell
    assert rep["stacking"] == "O3"
    assert same_lattice_2d(sc.matrix, [[2, 1], [-1, 1]]) and sc.layers == 1
    # in-plane a from the monoclinic cell: area a_m b_m holds 6 triangular cells
    a_hex = np.sqrt(4.9246 * 8.5216 / (6 * np.sqrt(3) / 2))
    assert sc.host.a == pytest.approx(a_hex, abs=1e-3)
    # c (3 slabs) = 3 c_m sin(beta)
    assert sc.host.c == pytest.approx(3 * 5.0245 * np.sin(np.radians(109.398)), abs=1e-3)
    assert rep["max_displacement"] < 0.3  # refined positions deviate slightly from the ideal host
    assert model.formula() == "Li2MnO3"
    tm = sc.tm_sites
    li_tm = tm[model.occupancy[tm] == LI]
    mn = tm[model.occupancy[tm] == MN]
    assert len(li_tm) == 1 and len(mn) == 2
    assert np.all(model.occupancy[sc.inplane_shell(li_tm)] == MN)  # LiMn6 rings
    nn_of_mn = model.occupancy[sc.inplane_shell(mn)]
    assert np.all((nn_of_mn == LI).sum(axis=1) == 3) and np.all((nn_of_mn == MN).sum(axis=1) == 3)
    assert model.counts(sc.alkali_sites) == {"Li": len(sc.alkali_sites)}
    # oxidation states from the file's atom_type loop
    assert model.oxidation["Mn"] == 4 and model.oxidation["O"] == -2
    assert rep["oxidation"] == {"Li": 1.0, "Mn": 4.0, "O": -2.0}
    from core.structure.symmetry import space_group
    assert space_group(model).number == 12
    assert rep["file_space_group"]["number"] == 12
    assert rep["layer_formula"] == "Li[Li1/3Mn2/3]O2"


def test_li2mno3_in_a_chosen_supercell_and_an_incommensurate_one():
    model, rep = import_structure(FIX / "Li2MnO3_C2m.cif", supercell="6")
    sc = model.supercell
    assert sc.matrix.tolist() == [[6, 0], [0, 6]]
    assert model.counts() == {"Li": 36 + 12, "Mn": 24, "O": 72}
    li_tm = sc.tm_sites[model.occupancy[sc.tm_sites] == LI]
    assert np.all(model.occupancy[sc.inplane_shell(li_tm)] == MN)
    with pytest.raises(StructureImportError, match=r"does not contain.*3x3"):
        import_structure(FIX / "Li2MnO3_C2m.cif", supercell="2")


# ------------------------------------------------------------------------------------------------ P2
def test_p2_partial_na_realised_with_exact_largest_remainder_counts():
    model, rep = import_structure(FIX / "Na067Ni033Mn067O2_P2.cif", supercell="6", seed=5)
    sc = model.supercell
    assert rep["stacking"] == "P2" and sc.layers == 2
    assert sc.host.a == pytest.approx(2.885, abs=1e-4) and sc.host.c == pytest.approx(11.16, abs=1e-4)
    assert rep["partial_occupancy"]
    # 6 x 6 x 2 layers: 72 Na_f, 72 Na_e, 72 TM sites.
    # Na_f: 0.26667 (4/15) x 72 = 19.2 -> 19; Na_e: 0.4 x 72 = 28.8 -> 29; Ni 24, Mn 48 exactly.
    na_f = sc.sites_with_role(ROLE_PRISM_F)
    na_e = sc.sites_with_role(ROLE_PRISM_E)
    assert len(na_f) == len(na_e) == len(sc.tm_sites) == 72
    assert model.counts(na_f) == {"Na": 19}
    assert model.counts(na_e) == {"Na": 29}
    assert model.counts(sc.tm_sites) == {"Ni": 24, "Mn": 48}
    assert model.counts()["Na"] == 48  # 2/3 per formula unit of 72
    by_role = {e["role"]: e for e in rep["sublattices"]}
    assert by_role["prism_f"]["requested"]["Na"] == pytest.approx(19.2, abs=1e-3)
    assert by_role["prism_f"]["realised"]["Na"] == 19
    assert by_role["prism_e"]["requested"]["Na"] == pytest.approx(28.8, abs=1e-3)
    assert by_role["tm"]["exact"] and not by_role["prism_f"]["exact"]
    seq = rep["o_plane_sequence"].split()
    assert len(seq) == 2 and seq[0][1] == seq[1][0] and seq[1][1] == seq[0][0]  # prismatic: XY YX


def test_split_6h_na_positions_merge_onto_their_na_e_site():
    model, rep = import_structure(FIX / "Na067_P2_split_6h.cif", supercell="6")
    sc = model.supercell
    assert rep["stacking"] == "P2"
    # 6h (0.72, 1.44) vs 2d (2/3, 1/3): d = (0.0533, 0.1067) in (a1, a2), |d|^2 = a^2 (dx^2 + dy^2 - dx dy)
    dx, dy = 0.72 - 2 / 3, 0.44 - 1 / 3
    assert rep["max_displacement"] == pytest.approx(2.885 * np.sqrt(dx * dx + dy * dy - dx * dy), abs=2e-3)
    # three 6h positions of 0.13333 give 0.4 per Na_e site: 28.8 of 72 -> 29
    assert model.counts(sc.sites_with_role(ROLE_PRISM_E)) == {"Na": 29}
    # 2 % O vacancies: 0.98 x 144 = 141.12 -> 141 O
    assert model.counts(sc.o_sites) == {"O": 141}
    assert any("O site" in w for w in rep["warnings"])


# ------------------------------------------------------------------------------------------------ partial
def test_li09ni01_on_3a_in_6x6_supercell_exact_counts_and_seeded_placement():
    m1, rep = import_structure(FIX / "LiNiO2_3a_mixing.cif", supercell="6", layers=3, seed=1)
    sc = m1.supercell
    assert rep["stacking"] == "O3" and sc.layers == 3
    alk = sc.alkali_sites
    assert len(alk) == 108
    # 0.9 x 108 = 97.2 and 0.1 x 108 = 10.8: floors 97 + 10, the leftover site goes to Ni (0.8 > 0.2)
    assert m1.counts(alk) == {"Li": 97, "Ni": 11}
    assert m1.counts(sc.tm_sites) == {"Ni": 108}
    m2, _ = import_structure(FIX / "LiNiO2_3a_mixing.cif", supercell="6", layers=3, seed=1)
    m3, _ = import_structure(FIX / "LiNiO2_3a_mixing.cif", supercell="6", layers=3, seed=2)
    assert np.array_equal(m1.occupancy, m2.occupancy)
    assert not np.array_equal(m1.occupancy, m3.occupancy) and m3.counts(alk) == {"Li": 97, "Ni": 11}


def test_largest_remainder_by_hand():
    assert largest_remainder({1: 97.2, 4: 10.8}, 108) == {1: 97, 4: 11}
    assert largest_remainder({0: 1.5, 1: 1.5}, 3) == {0: 2, 1: 1}  # tie -> lower code
    assert largest_remainder({1: 3.0}, 3) == {1: 3}


# ------------------------------------------------------------------------------------------------ round trips
ROUND_TRIPS = [
    ("O3", "Li", "sqrt3", 3, "Li:2/3", "Li:1/3,Mn:2/3"),
    ("O3", "Li", "6x4", 1, None, "Ni:1/2,Mn:1/2"),
    ("P2", "Na", "3,1,0,2", 2, "Na:2/3", "Mg:1/3,Mn:2/3"),
    ("P3", "Na", "3", 3, "Na:2/3", "Ni:1/3,Mn:2/3"),
    ("O2", "Li", "4", 2, "Li:3/4", "Co"),
    ("O3", "Na", "ribbon", 3, None, "Li:1/5,Mn:4/5"),
]


@pytest.mark.parametrize("suffix", [".cif", ".vasp"])
@pytest.mark.parametrize("stacking,alkali,cell,layers,alk_spec,tm_spec", ROUND_TRIPS)
def test_layer_studio_export_round_trip_preserves_occupancy(tmp_path, suffix, stacking, alkali, cell, layers,
                                                             alk_spec, tm_spec):
    model = Model.build(stacking, alkali, supercell=cell, layers=layers, alkali_spec=alk_spec,
                        tm_spec=tm_spec, seed=3)
    path = tmp_path / f"model{suffix}"
    keep = export(model, path)
    back, rep = import_structure(path)
    assert rep["stacking"] == stacking
    assert back.supercell.matrix.tolist() == model.supercell.matrix.tolist()
    assert back.supercell.layers == model.supercell.layers
    assert np.array_equal(back.occupancy, model.occupancy)  # same site order
    assert back.supercell.host.a == pytest.approx(model.supercell.host.a, abs=1e-6)
    assert back.supercell.host.c == pytest.approx(model.supercell.host.c, abs=1e-5)
    assert rep["max_displacement"] < 1e-4
    # explicit map: file site i -> model site
    structure = read_structure(path)[0]
    assert [SPECIES[c] for c in back.occupancy[rep.site_map]] == [s.specie.symbol for s in structure]
    if suffix == ".vasp":  # POSCAR keeps the writer's site order
        assert np.array_equal(rep.site_map, keep)


@pytest.mark.parametrize("suffix", [".cif", ".vasp"])
def test_tiled_model_with_tilted_stacking_vector_round_trips(tmp_path, suffix):
    """A 1-layer O3 cell tiled to 3 layers keeps a tilted third vector (Model.tiled); the importer
    must take that cell as it is instead of a 3x larger one with the default stacking vector."""
    model = Model.build("O3", "Li", supercell="3", layers=1, tm_spec="Ni:1/3,Mn:1/3,Co:1/3", seed=1)
    tiled = model.tiled("3", 3)
    assert not np.array_equal(tiled.supercell.v, tiled.supercell.default_shift)
    path = tmp_path / f"tiled{suffix}"
    export(tiled, path)
    back, _rep = import_structure(path)
    assert np.array_equal(back.supercell.S, tiled.supercell.S)
    assert np.array_equal(back.occupancy, tiled.occupancy)


def test_round_trip_through_pymatgen_structure_with_noise_and_reverse_setting():
    from pymatgen.core import Lattice, Structure

    model = Model.build("O3", "Li", supercell="sqrt3", layers=3, tm_spec="Li:1/3,Mn:2/3", seed=1)
    sc = model.supercell
    honeycomb_by_hand(model)
    keep = np.flatnonzero(model.occupancy)
    species = [SPECIES[c] for c in model.occupancy[keep]]
    rng = np.random.default_rng(0)
    noisy = Structure(Lattice(sc.lattice), species, sc.cart[keep] + rng.normal(0, 0.08, (len(keep), 3)),
                      coords_are_cartesian=True)
    back, rep = import_structure(noisy)
    assert np.array_equal(back.occupancy, model.occupancy)
    assert 0.05 < rep["max_displacement"] < 0.6
    # the reverse setting of O3 (rotated 180 degrees about c) is the same stacking
    rev = Structure(Lattice(sc.lattice), species, sc.frac[keep] * np.array([-1, -1, 1]))
    back, rep = import_structure(rev)
    assert rep["stacking"] == "O3" and back.counts() == model.counts()
    li_tm = back.supercell.tm_sites[back.occupancy[back.supercell.tm_sites] == LI]
    assert np.all(back.occupancy[back.supercell.inplane_shell(li_tm)] == MN)


def test_strained_rotated_noisy_p2_supercell_keeps_its_occupancy():
    from pymatgen.core import Lattice, Structure

    model = Model.build("P2", "Na", supercell="6", alkali_spec="Na:2/3", tm_spec="Ni:1/3,Mn:2/3", seed=4)
    sc = model.supercell
    keep = np.flatnonzero(model.occupancy)
    strain = np.array([[1.01, 0.004, 0], [0.004, 0.995, 0], [0, 0, 1.02]])  # ~1 % homogeneous strain
    t = np.radians(35.0)
    rot = np.array([[1, 0, 0], [0, np.cos(t), -np.sin(t)], [0, np.sin(t), np.cos(t)]])  # tilt the layers
    lat = sc.lattice @ strain @ rot.T
    rng = np.random.default_rng(1)
    cart = sc.frac[keep] @ lat + rng.normal(0, 0.05, (len(keep), 3))
    s = Structure(Lattice(lat), [SPECIES[c] for c in model.occupancy[keep]], cart, coords_are_cartesian=True)
    back, rep = import_structure(s)
    assert rep["stacking"] == "P2"
    assert np.array_equal(back.occupancy, model.occupancy)
    assert 0.0 < rep["strain"] < 0.03


def test_conventional_li2mno3_cell_is_kept_when_not_reduced():
    s = read_structure(FIX / "Li2MnO3_C2m.cif")[0]  # the 24-atom C-centred cell as a Structure
    model, rep = import_structure(s)
    sc = model.supercell
    assert not rep["reduced_to_primitive"] and abs(round(np.linalg.det(sc.matrix))) == 6
    li_tm = sc.tm_sites[model.occupancy[sc.tm_sites] == LI]
    assert len(li_tm) == 2 and np.all(model.occupancy[sc.inplane_shell(li_tm)] == MN)
    reduced, rep2 = import_structure(s, primitive=True)
    assert same_lattice_2d(reduced.supercell.matrix, [[2, 1], [-1, 1]])


def test_structure_from_spacegroup_source():
    from pymatgen.core import Lattice, Structure

    s = Structure.from_spacegroup("R-3m", Lattice.hexagonal(2.8156, 14.0542), ["Li", "Co", "O"],
                                  [[0, 0, 0], [0, 0, 0.5], [0, 0, 0.2396]])
    model, rep = import_structure(s)
    assert rep["stacking"] == "O3" and rep["format"] == "Structure"
    assert model.supercell.layers == 3 and model.formula() == "LiCoO2"


# ------------------------------------------------------------------------------------------------ errors
def _cif(tmp_path, name, body, a=4.2, sg="P 1"):
    text = (f"data_x\n_symmetry_space_group_name_H-M '{sg}'\n_cell_length_a {a}\n_cell_length_b {a}\n"
            f"_cell_length_c {a}\n_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n"
            "loop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n"
            f"_atom_site_fract_z\n{body}")
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize("name,pattern", [
    ("rocksalt_disordered_LiCoO2.cif", "not a layered oxide"),
    ("rutile_TiO2.cif", "not a layered oxide"),
    ("NaCl.cif", "unsupported element"),
])
def test_non_layered_fixtures_are_refused(name, pattern):
    with pytest.raises(StructureImportError, match=pattern):
        import_structure(FIX / name)


def test_clear_messages_for_missing_species_and_bad_files(tmp_path):
    with pytest.raises(StructureImportError, match="no oxygen"):  # CsCl-type LiCo
        import_structure(_cif(tmp_path, "alloy.cif", "Li1 Li 0 0 0\nCo1 Co 0.5 0.5 0.5\n"))
    with pytest.raises(StructureImportError, match="no cations"):
        import_structure(_cif(tmp_path, "oxygen.cif", "O1 O 0 0 0\nO2 O 0.5 0.5 0.5\n", a=3.0))
    fcc = [(0, 0, 0), (0.5, 0.5, 0), (0.5, 0, 0.5), (0, 0.5, 0.5)]
    li2o = "".join(f"O{i} O {x} {y} {z}\n" for i, (x, y, z) in enumerate(fcc)) + "".join(
        f"Li{i}{j} Li {x + dx} {y + dx} {z + dx}\n" for i, (x, y, z) in enumerate(fcc) for j, dx in enumerate((0.25, 0.75)))
    with pytest.raises(StructureImportError, match="only Li/Na"):  # antifluorite Li2O
        import_structure(_cif(tmp_path, "li2o.cif", li2o, a=4.61))
    (tmp_path / "notes.cif").write_text("this is not a crystal structure\njust words\n")
    with pytest.raises(StructureImportError, match="not a CIF or POSCAR"):
        import_structure(tmp_path / "notes.cif")
    (tmp_path / "POSCAR").write_bytes(b"\x00\x01\x02garbage")
    with pytest.raises(StructureImportError, match="not a CIF or POSCAR"):
        import_structure(tmp_path / "POSCAR")
    (tmp_path / "empty.vasp").write_text("")
    with pytest.raises(StructureImportError, match="empty"):
        import_structure(tmp_path / "empty.vasp")
    with pytest.raises(StructureImportError, match="no such file"):
        import_structure(tmp_path / "missing.cif")


def test_report_is_plain_json():
    import json

    _, rep = import_structure(FIX / "Na067Ni033Mn067O2_P2.cif", supercell="3")
    text = json.dumps(rep)
    assert "P2" in text and "site_map" not in rep
