"""Hostile and oversized input: nothing named in a file is imported, reading is bounded, nothing is guessed.

Each test is one of the crafted cases (a pymatgen JSON naming a module, /dev/zero behind a project
path, a 1 kB POSCAR claiming 600 million atoms, Xx in a CIF, ...) and asserts the refusal message names
the offending value; the fuzzing over all loaders is in tests/test_loader_fuzz.py.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core.cli import main as cli_main
from core.errors import ProjectFileError, StructureImportError, SupercellError
from core.io.importer import import_structure
from core.io.project import clean_stale_temps, load_project, open_model, save_project
from core.structure import limits
from core.structure.model import Model

ROOT = Path(__file__).resolve().parents[1]
FIX = Path(__file__).parent / "fixtures" / "structures"
pytestmark = pytest.mark.filterwarnings("ignore")


def _run(code: str, tmp_path: Path, extra_path: Path | None = None) -> str:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(str(p) for p in (ROOT, extra_path) if p))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


# ---------------------------------------------------------------------------------------------- code from a file
def _licoo2_json() -> dict:
    from pymatgen.core import Structure
    return Structure.from_file(FIX / "POSCAR_LiCoO2_hex").as_dict()


def _with_payload(doc: dict, module: str) -> dict:
    payload = {"@module": module, "@class": "X", "@version": None}
    doc["sites"][0]["properties"] = {"evil": payload}
    doc["properties"] = {"evil": payload}
    doc["sites"][1]["species"][0]["@module"] = module
    return doc


def test_pmg_json_naming_a_module_imports_nothing(tmp_path):
    """The module a file names is never imported; pymatgen's own decoder (the control) would import it."""
    (tmp_path / "evilmod.py").write_text("open('IMPORTED', 'w').write('ran')\nclass X: pass\n")
    (tmp_path / "evil.pmg.json").write_text(json.dumps(_with_payload(_licoo2_json(), "evilmod")))
    (tmp_path / "gravity.pmg.json").write_text(json.dumps(_with_payload(_licoo2_json(), "antigravity")))
    out = _run("import sys, json\n"
               "from core.cli import main\n"
               "rc1 = main(['info', 'evil.pmg.json', '--json'])\n"
               "rc2 = main(['export', 'gravity.pmg.json', '-o', 'out.cif'])\n"
               "import os\n"
               "print(json.dumps([rc1, rc2, 'evilmod' in sys.modules, 'antigravity' in sys.modules,\n"
               "                  os.path.exists('IMPORTED')]))", tmp_path, tmp_path).splitlines()[-1]
    assert json.loads(out) == [0, 0, False, False, False]
    # control: pymatgen's Structure.from_dict runs the named module (so the assertion above can fail)
    out = _run("import json\nfrom pymatgen.core import Structure\n"
               "try:\n    Structure.from_dict(json.load(open('evil.pmg.json')))\nexcept Exception:\n    pass\n"
               "import os\nprint(os.path.exists('IMPORTED'))", tmp_path, tmp_path)
    assert out.splitlines()[-1] == "True"


def test_pmg_json_decodes_the_documented_fields(tmp_path):
    from pymatgen.core import Structure
    ref = Structure.from_file(FIX / "Li2MnO3_C2m.cif")  # oxidation states from the CIF
    (tmp_path / "a.pmg.json").write_text(json.dumps(ref.as_dict()))
    from core.io.structure_json import read_structure_json
    got = read_structure_json(tmp_path / "a.pmg.json")
    assert len(got) == len(ref) and got.composition == ref.composition
    assert np.allclose(got.lattice.matrix, ref.lattice.matrix) and np.allclose(got.frac_coords, ref.frac_coords)
    assert [str(s.specie) for s in got] == [str(s.specie) for s in ref]  # 'Mn4+' kept


@pytest.mark.parametrize("mutate,problem", [
    (lambda d: d["sites"][0]["species"][0].update(element="Xx"), "unknown element 'Xx'"),
    (lambda d: d["sites"][0]["species"][0].update(occu=-0.5), "occupancy -0.5"),
    (lambda d: d["lattice"].update(matrix=[[1, 0, 0], [2, 0, 0], [0, 0, 5]]), "volume 0"),
    (lambda d: d.update({"@class": "Molecule"}), "only 'Structure'"),
    (lambda d: d["sites"][0].update(abc=[1e400, 0, 0]), "finite numbers"),
])
def test_pmg_json_bad_values_are_named(tmp_path, mutate, problem):
    doc = _licoo2_json()
    mutate(doc)
    path = tmp_path / "bad.pmg.json"
    path.write_text(json.dumps(doc).replace("Infinity", "1e400"))
    with pytest.raises(StructureImportError, match=problem):
        open_model(path)


# ---------------------------------------------------------------------------------------------- bounded reading
@pytest.mark.parametrize("name", ["p.json", "x.cif", "POSCAR", "s.pmg.json"])
def test_special_files_are_refused_without_reading(tmp_path, name):
    link = tmp_path / name
    link.symlink_to("/dev/zero")
    t = time.perf_counter()
    with pytest.raises((ProjectFileError, StructureImportError), match="character device"):
        open_model(link)
    fifo = tmp_path / f"fifo_{name}"
    os.mkfifo(fifo)  # opening a FIFO for reading would wait for a writer for ever
    with pytest.raises((ProjectFileError, StructureImportError), match="FIFO"):
        open_model(fifo)
    with pytest.raises((ProjectFileError, StructureImportError), match="directory"):
        open_model(tmp_path)
    assert time.perf_counter() - t < 5


@pytest.mark.parametrize("name,size", [("big.json", 64 * 2**20 + 1), ("big.cif", 50_000_001)])
def test_size_cap_is_checked_before_reading(tmp_path, name, size):
    path = tmp_path / name
    with open(path, "wb") as fh:  # sparse: no disk used
        fh.truncate(size)
    with pytest.raises((ProjectFileError, StructureImportError), match=r"larger than the \d+ MB"):
        open_model(path)


def test_poscar_claiming_600_million_atoms_is_refused_before_allocation(tmp_path):
    text = (FIX / "POSCAR_LiCoO2_hex").read_text().replace("3 3 6", "200000000 200000000 200000000")
    (tmp_path / "POSCAR").write_text(text)
    assert (tmp_path / "POSCAR").stat().st_size < 1100
    t = time.perf_counter()
    with pytest.raises(StructureImportError, match="declares 600,000,000 atoms"):
        import_structure(tmp_path / "POSCAR")
    text = (FIX / "POSCAR_LiCoO2_hex").read_text().replace("3 3 6", "3 3 60")
    (tmp_path / "POSCAR").write_text(text)
    with pytest.raises(StructureImportError, match="declares 66 atoms but has only 13"):
        import_structure(tmp_path / "POSCAR")
    assert time.perf_counter() - t < 2


def test_symmetrized_cif_expanding_past_the_atom_limit_is_refused_before_expansion(tmp_path):
    rows = "".join(f"O{k} O {k / 3000:.6f} 0.1 0.2\n" for k in range(1100))
    cif = (f"data_x\n_symmetry_space_group_name_H-M 'F m -3 m'\n_cell_length_a 40\n_cell_length_b 40\n"
           "_cell_length_c 40\n_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n"
           f"loop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n"
           f"_atom_site_fract_z\n{rows}")
    (tmp_path / "x.cif").write_text(cif)
    t = time.perf_counter()
    with pytest.raises(StructureImportError, match=r"1100 atom rows x 192 symmetry operations"):
        import_structure(tmp_path / "x.cif")
    assert time.perf_counter() - t < 2


# ---------------------------------------------------------------------------------------------- no silent guesses
def _cif(tmp_path, body, cell="_cell_length_a 2.8156\n_cell_length_b 2.8156\n_cell_length_c 14.0542\n"
                             "_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 120\n"):
    text = (f"data_x\n_symmetry_space_group_name_H-M 'P 1'\n{cell}loop_\n_atom_site_label\n"
            "_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n"
            f"_atom_site_occupancy\n{body}")
    p = tmp_path / "t.cif"
    p.write_text(text)
    return p


LICOO2_ROWS = [("Li", 0, 0, 0), ("Li", 2 / 3, 1 / 3, 1 / 3), ("Li", 1 / 3, 2 / 3, 2 / 3),
               ("Co", 0, 0, 0.5), ("Co", 2 / 3, 1 / 3, 5 / 6), ("Co", 1 / 3, 2 / 3, 1 / 6),
               ("O", 0, 0, 0.2396), ("O", 0, 0, 0.7604), ("O", 2 / 3, 1 / 3, 0.5729333),
               ("O", 2 / 3, 1 / 3, 0.0937333), ("O", 1 / 3, 2 / 3, 0.9062667), ("O", 1 / 3, 2 / 3, 0.4270667)]


def _rows(replace=None):
    out = []
    for k, (el, x, y, z) in enumerate(LICOO2_ROWS):
        occ = 1
        if replace and k == 0:
            el, occ = replace
        out.append(f"{el}{k} {el} {x:.7f} {y:.7f} {z:.7f} {occ}\n")
    return "".join(out)


def test_licoo2_p1_cif_imports(tmp_path):
    model, report = import_structure(_cif(tmp_path, _rows()))
    assert model.formula() == "LiCoO2" and report["stacking"] == "O3"


@pytest.mark.parametrize("replace,problem", [
    (("Xx", 1), "unknown element 'Xx'"),
    (("Li", -0.5), "occupancy -0.5"),
    (("Li", 1.7), "occupancy 1.7"),
    (("Li", "nan"), "not a finite number"),
])
def test_bad_atoms_are_refused_naming_the_value(tmp_path, replace, problem):
    with pytest.raises(StructureImportError, match=problem):
        import_structure(_cif(tmp_path, _rows(replace)))


@pytest.mark.parametrize("cell,problem", [
    ("_cell_length_a -2.8156\n_cell_length_b 2.8156\n_cell_length_c 14.0542\n_cell_angle_alpha 90\n"
     "_cell_angle_beta 90\n_cell_angle_gamma 120\n", "length a = -2.8156"),
    ("_cell_length_a 2.8156\n_cell_length_b 2.8156\n_cell_length_c 0\n_cell_angle_alpha 90\n"
     "_cell_angle_beta 90\n_cell_angle_gamma 120\n", "length c = 0"),
    ("_cell_length_a 2.8156\n_cell_length_b 2.8156\n_cell_length_c 14\n_cell_angle_alpha 120\n"
     "_cell_angle_beta 120\n_cell_angle_gamma 120\n", "volume 0"),
    ("_cell_length_a 2.8156\n_cell_length_b 2.8156\n_cell_length_c 14\n_cell_angle_alpha 90\n"
     "_cell_angle_beta 90\n_cell_angle_gamma 190\n", "angle gamma = 190"),
])
def test_non_physical_cells_are_refused(tmp_path, cell, problem):
    with pytest.raises(StructureImportError, match=problem):
        import_structure(_cif(tmp_path, _rows(), cell=cell))


def test_poscar_unknown_element_and_zero_volume(tmp_path):
    text = (FIX / "POSCAR_LiCoO2_hex").read_text()
    (tmp_path / "POSCAR").write_text(text.replace("Li Co O", "Xx Co O"))
    with pytest.raises(StructureImportError, match="unknown element 'Xx'"):
        import_structure(tmp_path / "POSCAR")
    (tmp_path / "POSCAR").write_text(text.replace("0.0000000000   0.0000000000  14.0542000000",
                                                  "0.0000000000   0.0000000000   0.0000000000"))
    with pytest.raises(StructureImportError, match="volume 0"):
        import_structure(tmp_path / "POSCAR")


# ---------------------------------------------------------------------------------------------- gemmi == pymatgen
FIXTURES = sorted(p.name for p in FIX.glob("*.cif"))


@pytest.mark.parametrize("name", FIXTURES)
def test_gemmi_reader_gives_pymatgens_structure(tmp_path, name):
    """Every fixture written as P1 by pymatgen reads back through gemmi as the structure pymatgen reads."""
    from pymatgen.io.cif import CifWriter

    from core.io.cif_reader import parse_cif, parse_cif_pymatgen, read_table
    text = (FIX / name).read_text()
    ref, _ = parse_cif_pymatgen(text, name)
    table = read_table(text, name)  # the original file: same cell as pymatgen
    assert np.allclose(table.lattice_matrix(), ref.lattice.matrix, atol=1e-6)
    p1 = str(CifWriter(ref))
    ours, symmetric, _ = parse_cif(p1, name)
    theirs, _ = parse_cif_pymatgen(p1, name)
    assert not symmetric and len(ours) == len(theirs)
    assert np.allclose(ours.lattice.matrix, theirs.lattice.matrix, atol=1e-6)
    for a, b in zip(ours, theirs):
        assert np.allclose(a.frac_coords % 1 % (1 - 1e-9), b.frac_coords % 1 % (1 - 1e-9), atol=1e-6)
        assert {str(k): round(v, 6) for k, v in a.species.items()} == {str(k): round(v, 6) for k, v in b.species.items()}


@pytest.mark.parametrize("name", [n for n in FIXTURES if n not in ("NaCl.cif", "rutile_TiO2.cif",
                                                                    "rocksalt_disordered_LiCoO2.cif")])
def test_gemmi_and_pymatgen_give_the_same_model(tmp_path, name, monkeypatch):
    from pymatgen.io.cif import CifWriter

    import core.io.importer as importer
    from core.io.cif_reader import parse_cif_pymatgen
    ref, _ = parse_cif_pymatgen((FIX / name).read_text(), name)
    path = tmp_path / name
    path.write_text(str(CifWriter(ref)))
    m1, r1 = import_structure(path, seed=3)
    monkeypatch.setattr(importer, "LIGHT_ABOVE", 0)  # the light structure used for large P1 files
    m3, r3 = import_structure(path, seed=3)
    monkeypatch.setattr(importer, "_parse_cif", lambda text, nm, *a: (*parse_cif_pymatgen(text, nm)[:1], False,
                                                                      parse_cif_pymatgen(text, nm)[1]))
    m2, r2 = import_structure(path, seed=3)
    for m, r in ((m2, r2), (m3, r3)):
        assert np.array_equal(m1.occupancy, m.occupancy) and m1.supercell.n_sites == m.supercell.n_sites
        assert r1["stacking"] == r["stacking"] and r1["sublattices"] == r["sublattices"]
        assert r1["file_formula"] == r["file_formula"] and r1["max_displacement"] == r["max_displacement"]


@pytest.mark.slow
def test_large_own_export_reimports_fast(tmp_path):
    """The app's own 36 x 36 x 3 export (15,552 atoms) imports in a few seconds (pymatgen's parser: ~60 s)."""
    model = Model.build("O3", "Li", "36", 3, tm_spec="Co")
    from core.io.export import export_model
    export_model(model, tmp_path / "big.cif")
    t = time.perf_counter()
    back, report = import_structure(tmp_path / "big.cif")
    elapsed = time.perf_counter() - t
    assert back.supercell.n_sites == 15552 and back.formula() == "LiCoO2"
    assert np.array_equal(np.sort(back.occupancy), np.sort(model.occupancy))
    assert elapsed < 6, elapsed  # 1.7 s measured alone; margin for a loaded CI machine


# ---------------------------------------------------------------------------------------------- limits from memory
def test_cells_limited_by_memory_not_by_a_site_count(monkeypatch):
    m = Model.build("O3", "Li", "96", 3, tm_spec="Co")  # 110,592 sites: was refused above 60,000
    assert m.supercell.n_sites == 110_592
    monkeypatch.setattr(limits, "available_bytes", lambda: 200 * 10**6)  # a machine with 200 MB free
    with pytest.raises(SupercellError, match=r"110,592 sites needs about 453 MB of memory; 200 MB is available"):
        Model.build("O3", "Li", "96", 3, tm_spec="Co")
    Model.build("O3", "Li", "24", 3, tm_spec="Co")  # 6,912 sites x 4 kB = 28 MB fits


# ---------------------------------------------------------------------------------------------- CLI options
@pytest.mark.parametrize("argv,problem", [
    (["build", "--seed", "-5", "-o", "x.json"], "--seed: '-5' is out of range"),
    (["build", "--supercell", "1" * 23, "-o", "x.json"], "supercell entry 11111111111111111111111 is out of range"),
    (["build", "--supercell", "1" * 60, "-o", "x.json"], "too long for a supercell"),
    (["build", "--layers", "0", "-o", "x.json"], "--layers: '0' is out of range"),
    (["build", "--a", "inf", "-o", "x.json"], "--a: 'inf' is out of range"),
    (["anneal", "p.json", "-o", "y.json", "--sweeps", "1000000000000"], "--sweeps: '1000000000000' is out of range"),
    (["anneal", "p.json", "-o", "y.json", "--sweeps", "1e8"], "--sweeps: '1e8' is out of range"),
    (["charge", "p.json", "--steps", "1000000000"], "--steps: '1000000000' is out of range"),
    (["paths", "p.json", "--epsilon", "-1"], "--epsilon: '-1' is out of range"),
    (["info", "p.json", "--symprec", "nan"], "--symprec: 'nan' is out of range"),
])
def test_numeric_options_are_validated(tmp_path, monkeypatch, capsys, argv, problem):
    monkeypatch.chdir(tmp_path)
    save_project(tmp_path / "p.json", Model.build("O3", "Li", "2", 1, tm_spec="Co"))
    rc = cli_main(argv)
    err = capsys.readouterr().err.strip()
    assert rc in (1, 2) and problem in err and len(err.splitlines()) == 1 and "internal error" not in err


def test_help_states_the_limits(capsys):
    assert cli_main(["--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--sweeps 1..1,000,000" in out and "50 MB" in out and "200,000 atoms" in out and "fit in memory" in out


# ---------------------------------------------------------------------------------------------- project files
def _project_doc(**supercell):
    from core.io.project import project_dict
    doc = json.loads(json.dumps(project_dict(Model.build("O3", "Li", "2", 1, tm_spec="Co"))))
    doc["supercell"].update(supercell)
    return doc


@pytest.mark.parametrize("edit,problem", [
    (lambda d: d["supercell"].update(stacking_shift=[10**30, 0]), "stacking shift 1000000000.* is out of range"),
    (lambda d: d["supercell"].update(stacking_shift=[5000000, 0]), "out of range"),
    (lambda d: d["metadata"].update(snapshots=[{"name": "s", "occupancy": ["Li"] * d["n_sites"], "oxidation": {}}]),
     "snapshot 's': occupancy holds 'Li'"),
    (lambda d: d["metadata"].update(snapshots=[{"name": "s", "occupancy": [1] * d["n_sites"]}]),
     "cations on oxygen sites"),
    (lambda d: d["metadata"].update(snapshots=[{"name": "s", "occupancy": [], "oxidation": {"Co": "x"}}]),
     "oxidation state 'Co'"),
    (lambda d: d["metadata"].update(snapshots="all"), "snapshots must be a list"),
])
def test_project_fields_and_snapshots_are_validated(tmp_path, edit, problem):
    doc = _project_doc()
    edit(doc)
    (tmp_path / "p.json").write_text(json.dumps(doc))
    with pytest.raises(ProjectFileError, match=problem):
        load_project(tmp_path / "p.json")


def test_saving_through_a_symlink_updates_its_target(tmp_path):
    target = tmp_path / "real" / "project.json"
    target.parent.mkdir()
    model = Model.build("O3", "Li", "2", 1, tm_spec="Co")
    save_project(target, model)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    model.set_occupancy(np.where(model.occupancy == model.occupancy[model.supercell.tm_sites[0]],
                                 np.int8(model.occupancy[model.supercell.alkali_sites[0]]), model.occupancy))
    save_project(link, model)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert np.array_equal(load_project(target).occupancy, model.occupancy)
    assert not list(target.parent.glob(".*.tmp")) and not list(tmp_path.glob(".*.tmp"))


def test_stale_temp_files_of_dead_saves_are_removed(tmp_path):
    path = tmp_path / "p.json"
    save_project(path, Model.build("O3", "Li", "2", 1, tm_spec="Co"))
    dead = tmp_path / ".p.json.999999999.abcd1234.tmp"  # pid that cannot exist
    alive = tmp_path / f".p.json.{os.getppid()}.abcd1234.tmp"  # a running process may still be saving
    other = tmp_path / ".q.json.999999999.abcd1234.tmp"
    for p in (dead, alive, other):
        p.write_text("{")
    load_project(path)
    assert not dead.exists() and alive.exists() and other.exists()
    assert clean_stale_temps(tmp_path / "q.json") == [other]


def test_kill_during_save_leaves_the_project_intact_and_no_temp_files(tmp_path):
    path = tmp_path / "p.json"
    save_project(path, Model.build("O3", "Li", "12", 3, tm_spec="Co"))
    code = ("import sys\nfrom core.io.project import save_project\nfrom core.structure.model import Model\n"
            "m = Model.build('O3', 'Li', '12', 3, tm_spec='Co')\nprint('ready', flush=True)\n"
            f"while True:\n    save_project({str(path)!r}, m)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for _ in range(4):
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=env)
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(0.3)
        proc.kill()
        proc.wait()
        proc.stdout.close()
        assert load_project(path).supercell.n_sites == 12 * 12 * 3 * 4
    save_project(path, load_project(path))
    assert not list(tmp_path.glob(".*.tmp"))


# ---------------------------------------------------------------------------------------------- no display
def test_no_display_prints_one_line_and_exits_nonzero(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run([sys.executable, "-c", "import sys; from gui.launch import main; sys.exit(main([]))"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "no display" in lines[0] and "xvfb-run" in lines[0] and "setup.sh run" in lines[0]


def test_display_problem_cases():
    from gui.launch import display_problem
    assert display_problem({}, "linux") == "no display (DISPLAY is not set)"
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert "nothing is listening" in display_problem({"DISPLAY": ":987"}, "linux")
    assert display_problem({"DISPLAY": "remote.example:0"}, "linux") is None
    assert display_problem({}, "darwin") is None


def test_atoms_repeated_at_one_position_are_refused_quickly(tmp_path):
    """A POSCAR with one O line repeated 1000 times (a fuzzing find: the layer search went quadratic)."""
    lines = (FIX / "POSCAR_LiCoO2_hex").read_text().splitlines()
    lines[6] = "3 3 1006"
    lines[-1:] = [lines[-1]] * 1001
    (tmp_path / "POSCAR").write_text("\n".join(lines) + "\n")
    import_structure(FIX / "POSCAR_LiCoO2_hex")  # pymatgen's POSCAR modules loaded before timing
    t = time.perf_counter()
    with pytest.raises(StructureImportError):
        import_structure(tmp_path / "POSCAR")
    assert time.perf_counter() - t < 10


def test_ewald_tables_are_limited_by_available_memory(monkeypatch):
    from core.energy.ewald import EwaldEngine
    from core.errors import ResourceLimitError
    sc = Model.build("O3", "Li", "12", 3, tm_spec="Co").supercell
    EwaldEngine(sc)  # fits
    monkeypatch.setattr(limits, "available_bytes", lambda: 2 * 10**6)  # 2 MB free: 1 MB allowed
    with pytest.raises(ResourceLimitError, match=r"need about \d+ MB, over the 1 MB that half of the available"):
        EwaldEngine(sc)


def test_info_skips_spglib_on_very_large_cells_and_says_so(monkeypatch):
    import core.report as report
    from core.structure import symmetry
    model = Model.build("O3", "Li", "2", 1, tm_spec="Co")
    assert report.info(model, sections=["space_group"])["space_group"]["symbol"] == "R-3m"
    monkeypatch.setattr(symmetry, "MAX_ATOMS", 10)
    sg = report.info(model, sections=["space_group"])["space_group"]
    assert "not computed for 16 atoms" in sg["error"]


def test_pmg_json_messages_and_report_name_the_file(tmp_path):
    doc = _licoo2_json()
    (tmp_path / "ok.pmg.json").write_text(json.dumps(doc))
    model, report = open_model(tmp_path / "ok.pmg.json")
    assert model.formula() == "LiCoO2" and report["source"] == "ok.pmg.json"
    doc["sites"] = [s for s in doc["sites"] if s["species"][0]["element"] != "O"]
    (tmp_path / "no_o.pmg.json").write_text(json.dumps(doc))
    with pytest.raises(StructureImportError, match=r"^no_o.pmg.json: no oxygen"):
        open_model(tmp_path / "no_o.pmg.json")
