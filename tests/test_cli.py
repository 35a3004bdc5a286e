"""The `layerstudio` command line, run in-process through core.cli.main (plus the real entry point once)."""
import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
from conftest import ROOT

from core.cli import main
from core.io.project import load_project
from core.structure.species import code_of
from core.structure.symmetry import space_group


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def read_structure(path):
    from pymatgen.core import Structure

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Structure.from_file(str(path))


def pmg_space_group(structure):
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    return SpacegroupAnalyzer(structure, symprec=1e-3).get_space_group_number()


HONEYCOMB = ["build", "--stacking", "O3", "--alkali", "Li", "--tm", "Li:1/3,Mn:2/3", "--ordering", "honeycomb"]


@pytest.mark.parametrize("cell", [["--supercell", "sqrt3"], ["--supercell", "3", "--layers", "3"],
                                  ["--supercell", "6", "--layers", "3"]])
def test_build_honeycomb_cif_rereads_as_li2mno3_c2m(tmp_path, capsys, cell):
    out = tmp_path / "li2mno3.cif"
    code, stdout, err = run(capsys, *HONEYCOMB, *cell, "--seed", 1, "-o", out)
    assert code == 0, err
    assert "Li2MnO3" in stdout and err == ""
    s = read_structure(out)
    assert s.composition.reduced_formula == "Li2MnO3"
    assert pmg_space_group(s) == 12


def test_build_licoo2_info_json(tmp_path, capsys):
    out = tmp_path / "lco.json"
    assert run(capsys, "build", "--tm", "Co", "--supercell", "3", "--layers", "3", "-o", out)[0] == 0
    code, stdout, err = run(capsys, "info", out, "--json")
    assert code == 0, err
    d = json.loads(stdout)
    assert d["formula"] == "LiCoO2"
    assert d["composition"] == {"Li": 27, "Co": 27, "O": 54} and d["n_atoms"] == 108
    assert d["stacking"] == "O3"
    assert d["space_group"]["symbol"] == "R-3m" and d["space_group"]["number"] == 166
    assert d["net_charge"] == 0
    code, text, _ = run(capsys, "info", out)
    assert code == 0 and "R-3m (166)" in text and "LiCoO2" in text


def test_build_p2_honeycomb_framework_is_p63mcm(tmp_path, capsys):
    out = tmp_path / "p2.json"
    code, _, err = run(capsys, "build", "--stacking", "P2", "--alkali", "Na:2/3", "--tm", "Mg:1/3,Mn:2/3",
                       "--ordering", "honeycomb", "--supercell", "sqrt3", "-o", out)
    assert code == 0, err
    m = load_project(out)
    assert m.supercell.host.alkali == "Na" and m.supercell.layers == 2
    assert m.layer_formula() == "Na2/3[Mg1/3Mn2/3]O2"
    occ = m.occupancy.copy()
    occ[m.supercell.alkali_sites] = 0  # docs/science.md §2 gives the TM + O framework's group
    m.set_occupancy(occ)
    assert space_group(m).number == 193
    # `info` reports the same framework group directly, whatever the Na arrangement
    code, text, err = run(capsys, "info", out, "--json")
    assert code == 0, err
    assert json.loads(text)["framework_space_group"]["number"] == 193


def test_build_poscar_and_vasp_names(tmp_path, capsys):
    for name in ("POSCAR", "POSCAR_lco", "lco.vasp"):
        code, _, err = run(capsys, "build", "--tm", "Co", "--supercell", "2", "-o", tmp_path / name)
        assert code == 0, err
        lines = (tmp_path / name).read_text().splitlines()
        assert lines[5].split() == ["Li", "Co", "O"] and lines[6].split() == ["4", "4", "8"]


def test_build_options_reach_the_model(tmp_path, capsys):
    out = tmp_path / "x.json"
    code, _, err = run(capsys, "build", "--stacking", "o3", "--alkali", "Li:2/3", "--tm", "Ni:1/3,Mn:2/3",
                       "--supercell", "3,0,0,3", "--layers", "3", "--a", "2.87", "--c", "14.3",
                       "--o-height", "1.05", "--seed", "5", "-o", out)
    assert code == 0, err
    m = load_project(out)
    h = m.supercell.host
    assert (h.a, h.c, h.o_height) == (2.87, 14.3, 1.05)
    assert m.counts() == {"Li": 18, "Ni": 9, "Mn": 18, "O": 54}
    assert m.metadata["seed"] == 5 and m.metadata["ordering"] == "random"
    # same seed, same arrangement; another seed, another one
    run(capsys, "build", "--alkali", "Li:2/3", "--tm", "Ni:1/3,Mn:2/3", "--supercell", "3", "--layers", "3",
        "--a", "2.87", "--c", "14.3", "--o-height", "1.05", "--seed", "5", "-o", tmp_path / "y.json")
    run(capsys, "build", "--alkali", "Li:2/3", "--tm", "Ni:1/3,Mn:2/3", "--supercell", "3", "--layers", "3",
        "--seed", "6", "-o", tmp_path / "z.json")
    assert np.array_equal(load_project(tmp_path / "y.json").occupancy, m.occupancy)
    assert not np.array_equal(load_project(tmp_path / "z.json").occupancy, m.occupancy)


def test_export_symmetrized_and_p1(tmp_path, capsys):
    proj = tmp_path / "h.json"
    assert run(capsys, *HONEYCOMB, "--supercell", "3", "--layers", "3", "-o", proj)[0] == 0
    code, stdout, err = run(capsys, "export", proj, "-o", tmp_path / "sym.cif", "--symprec", "0.001")
    assert code == 0 and "C2/m" in stdout, err
    text = (tmp_path / "sym.cif").read_text()
    assert "C2/m" in text
    assert len(read_structure(tmp_path / "sym.cif")) == 108
    code, _, err = run(capsys, "export", proj, "-o", tmp_path / "p1.cif")
    assert code == 0 and "P 1" in (tmp_path / "p1.cif").read_text() or "P1" in (tmp_path / "p1.cif").read_text()
    code, _, err = run(capsys, "export", proj, "-o", tmp_path / "x.vasp", "--symprec", "0.01")
    assert code == 0 and "symprec applies to CIF only" in err


@pytest.mark.parametrize("argv, problem", [
    (["build", "--tm", "Li:1/3,Mn:2/3", "--supercell", "2", "-o", "{tmp}/x.json"], "multiple of 3"),
    (["build", "--stacking", "Q3", "-o", "{tmp}/x.json"], "invalid choice: 'Q3'"),
    (["build", "--tm", "Unobtainium", "-o", "{tmp}/x.json"], "unknown species"),
    (["build", "--alkali", "Mg", "-o", "{tmp}/x.json"], "names no alkali"),
    (["build", "--supercell", "2x", "-o", "{tmp}/x.json"], "cannot read supercell"),
    (["build", "--ordering", "nonsense", "--tm", "Li:1/3,Mn:2/3", "--supercell", "sqrt3", "-o", "{tmp}/x.json"],
     "nonsense"),
    (["build", "-o", "{tmp}/x.docx"], "cannot tell the export format"),
    (["build", "-o", "{tmp}/no/such/dir/x.json"], "cannot write"),
    (["build", "--tm", "Co"], "required: -o"),
    (["build", "--layers", "two", "-o", "{tmp}/x.json"], "invalid int value"),
    (["info", "{tmp}/missing.json"], "cannot read project file"),
    (["info", "{tmp}/corrupt.json"], "truncated"),
    (["info", "{tmp}/future.json"], "is version 3; this Layer Studio reads up to version 1"),
    (["export", "{tmp}/missing.json", "-o", "{tmp}/x.cif"], "missing.json"),
    (["import", "{tmp}/lco.cif", "-o", "{tmp}/out.cif"], "must be a project file"),
    ([], "no command given"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
])
def test_failures_are_one_line_without_traceback(tmp_path, capsys, argv, problem):
    (tmp_path / "corrupt.json").write_text('{"format": "layerstudio-project", "version": 1, "host": {"st')
    (tmp_path / "future.json").write_text('{"format": "layerstudio-project", "version": 3}')
    (tmp_path / "lco.cif").write_text("data_x\n")
    code, out, err = run(capsys, *[a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and problem in lines[0]
    assert lines[0].startswith("layerstudio")


def test_failed_build_leaves_existing_output_alone(tmp_path, capsys):
    out = tmp_path / "keep.json"
    assert run(capsys, "build", "--tm", "Co", "-o", out)[0] == 0
    before = out.read_bytes()
    code, _, _ = run(capsys, "build", "--tm", "Li:1/3,Mn:2/3", "--supercell", "2", "-o", out)
    assert code == 1 and out.read_bytes() == before


def test_debug_shows_the_exception(tmp_path):
    from core.errors import CompositionError

    with pytest.raises(CompositionError):
        main(["build", "--tm", "Li:1/3,Mn:2/3", "--supercell", "2", "-o", str(tmp_path / "x.json"), "--debug"])


def test_help_and_version(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "build" in out and "info" in out and "export" in out and "import" in out
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("layerstudio ")


def test_info_does_not_load_pymatgen_numba_or_qt(tmp_path, capsys):
    proj = tmp_path / "h.json"
    assert run(capsys, *HONEYCOMB, "--supercell", "sqrt3", "-o", proj)[0] == 0
    code = ("import sys; from core.cli import main; rc = main(['info', sys.argv[1], '--json']);"
            "heavy = sorted({k.split('.')[0] for k in sys.modules} & {'pymatgen', 'numba', 'PySide6', 'ase'});"
            "print(rc, heavy, file=sys.stderr)")
    res = subprocess.run([sys.executable, "-c", code, str(proj)], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert res.stderr.strip().splitlines()[-1] == "0 []", res.stderr
    assert json.loads(res.stdout)["space_group"]["number"] == 12


def test_real_entry_point(tmp_path):
    exe = ROOT / ".venv" / "bin" / "layerstudio"
    if not exe.exists():
        pytest.skip("layerstudio is not installed in .venv (run scripts/setup.sh)")
    out = tmp_path / "lco.cif"
    res = subprocess.run([str(exe), "build", "--tm", "Co", "--supercell", "2", "--layers", "3", "-o", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    res = subprocess.run([str(exe), "info", str(out), "--json"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["space_group"]["number"] == 166
    res = subprocess.run([str(exe), "info", str(tmp_path / "nope.json")], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 1 and res.stderr.strip().count("\n") == 0 and "nope.json" in res.stderr


def test_closed_pipe_is_quiet(tmp_path):
    """`layerstudio info model | head` closes the pipe early: no error message, no traceback."""
    out = tmp_path / "lco.json"
    assert main(["build", "--tm", "Co", "--supercell", "2", "-o", str(out)]) == 0
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # every write to stdout now fails with EPIPE
    try:
        res = subprocess.run([sys.executable, "-m", "core.cli", "info", str(out)], cwd=ROOT, stdout=write_end,
                             stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)
    assert res.stderr == "" and res.returncode == 141


def test_python_dash_m(tmp_path):
    res = subprocess.run([sys.executable, "-m", "core.cli", "build", "--tm", "Co", "-o", str(tmp_path / "a.json")],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert load_project(tmp_path / "a.json").formula() == "LiCoO2"


# ------------------------------------------------------------------------------------------------ import
@pytest.fixture
def importer():
    return pytest.importorskip("core.io.importer")


def _same_occupancy(a, b) -> str:
    """How b reproduces a's occupancy: "identical", "translated" (same cell, sites shifted by one
    lattice translation of the host) or "" if it does not."""
    sa, sb = a.supercell, b.supercell
    if not (sa.host.stacking == sb.host.stacking and sa.n_sites == sb.n_sites
            and np.array_equal(sa.matrix, sb.matrix) and sa.layers == sb.layers):
        return ""
    if np.array_equal(a.occupancy, b.occupancy):
        return "identical"
    shifts = [np.array([i, j, k]) for i, j in sa.reps for k in range(sa.K)]
    for t in shifts:
        perm = sa.index_of(sa.basis_local, sa.ijk + t)  # site s of a -> its image under t
        moved = np.empty_like(a.occupancy)
        moved[perm] = a.occupancy
        if np.array_equal(moved, b.occupancy):
            return "translated"
    return ""


def test_round_trip_project_cif_import(tmp_path, capsys, importer):
    proj = tmp_path / "h.json"
    assert run(capsys, *HONEYCOMB, "--supercell", "3", "--layers", "3", "--seed", 2, "-o", proj)[0] == 0
    assert run(capsys, "export", proj, "-o", tmp_path / "h.cif")[0] == 0
    code, out, err = run(capsys, "import", tmp_path / "h.cif", "-o", tmp_path / "back.json")
    assert code == 0, err
    assert _same_occupancy(load_project(proj), load_project(tmp_path / "back.json"))


def test_round_trip_project_poscar_import(tmp_path, capsys, importer):
    proj = tmp_path / "r.json"
    assert run(capsys, "build", "--alkali", "Li:2/3", "--tm", "Ni:1/3,Mn:1/3,Co:1/3", "--supercell", "3",
               "--layers", "3", "--seed", 4, "-o", proj)[0] == 0
    assert run(capsys, "export", proj, "-o", tmp_path / "POSCAR")[0] == 0
    code, out, err = run(capsys, "import", tmp_path / "POSCAR", "-o", tmp_path / "back.json")
    assert code == 0, err
    assert _same_occupancy(load_project(proj), load_project(tmp_path / "back.json"))


def test_round_trip_single_slab_cell(tmp_path, capsys, importer):
    # the smallest honeycomb cell: sqrt3 x sqrt3, one slab, tilted c (the primitive C2/m cell)
    proj = tmp_path / "h1.json"
    assert run(capsys, *HONEYCOMB, "--supercell", "sqrt3", "-o", proj)[0] == 0
    assert run(capsys, "export", proj, "-o", tmp_path / "h1.cif")[0] == 0
    code, out, err = run(capsys, "import", tmp_path / "h1.cif", "-o", tmp_path / "back.json")
    assert code == 0, err
    assert _same_occupancy(load_project(proj), load_project(tmp_path / "back.json"))


def test_info_reads_cif(tmp_path, capsys, importer):
    assert run(capsys, *HONEYCOMB, "--supercell", "3", "--layers", "3", "-o", tmp_path / "h.cif")[0] == 0
    code, out, err = run(capsys, "info", tmp_path / "h.cif", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["formula"] == "Li2MnO3" and d["space_group"]["number"] == 12


def test_import_garbage_is_one_line(tmp_path, capsys, importer):
    bad = tmp_path / "bad.cif"
    bad.write_bytes(b"\x00\x01 not a cif at all")
    code, out, err = run(capsys, "import", bad, "-o", tmp_path / "x.json")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "x.json").exists()


def test_import_partial_occupancy_in_requested_supercell(tmp_path, capsys, importer):
    from pymatgen.core import Lattice, Structure

    s = Structure.from_spacegroup("R-3m", Lattice.hexagonal(2.89, 14.29),
                                  [{"Li": 1.0}, {"Ni": 0.5, "Mn": 0.5}, "O"],
                                  [[0, 0, 0], [0, 0, 0.5], [0, 0, 0.2412]])
    s.to(filename=str(tmp_path / "lnmo.cif"))
    outs = []
    for seed in (3, 3, 4):
        out = tmp_path / f"lnmo_{len(outs)}.json"
        code, stdout, err = run(capsys, "import", tmp_path / "lnmo.cif", "-o", out, "--supercell", "4", "--seed", seed)
        assert code == 0, err
        assert "partial_occupancy: true" in stdout
        outs.append(load_project(out))
    m = outs[0]
    assert np.array_equal(m.supercell.matrix, [[4, 0], [0, 4]])
    tm = m.supercell.tm_sites
    # Li(Ni0.5Mn0.5)O2: exactly half of the TM sites Ni, half Mn
    assert (m.occupancy[tm] == code_of("Ni")).sum() == (m.occupancy[tm] == code_of("Mn")).sum() == len(tm) // 2
    assert np.array_equal(outs[1].occupancy, m.occupancy)  # same seed, same arrangement
    assert not np.array_equal(outs[2].occupancy, m.occupancy)
