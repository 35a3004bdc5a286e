"""`layerstudio screen`: spec validation, task names, serial vs Dask tables, resume after a kill, failures."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow.parquet as pq
import pytest
from conftest import ROOT

from core.cli import main
from core.screen import ScreenSpecError, dry_run, load_results, load_spec, parse_spec_text, run_screen
from core.screen.task import RESULT_COLUMNS, TIMING_COLUMNS

EXAMPLE = ROOT / "examples" / "screen.toml"

SMALL = """
[grid]
tm = ["Li:1/3,Mn:2/3", "Mg:1/3,Mn:2/3"]
alkali = ["Li"]
supercell = ["3"]
seed = [1, 2]

[anneal]
sweeps = 3000
"""


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def comparable(table):
    return table.drop([c for c in TIMING_COLUMNS if c in table.column_names])


# ---------------------------------------------------------------------------------------------- spec
def test_example_spec_expands_to_the_grid():
    spec = load_spec(EXAMPLE)
    tasks = spec.tasks()
    assert spec.n_tasks == len(tasks) == 2 * 3
    # last key fastest: seeds 1, 2, 3 for the first composition, then the second
    assert [(t.params["tm"], t.params["seed"]) for t in tasks[:4]] == [
        ("Li:1/3,Mn:2/3", 1), ("Li:1/3,Mn:2/3", 2), ("Li:1/3,Mn:2/3", 3), ("Li:1/3,Ni:1/6,Mn:1/2", 1)]
    assert len({t.name for t in tasks}) == 6


def test_task_names_are_content_hashes():
    a = parse_spec_text(SMALL).tasks()
    b = parse_spec_text("# the same grid written differently\n" + SMALL.replace('seed = [1, 2]', 'seed = [2, 1]'))
    assert {t.name for t in a} == {t.name for t in b.tasks()}  # order and layout do not matter
    more = parse_spec_text(SMALL.replace("sweeps = 3000", "sweeps = 3001")).tasks()
    assert not {t.name for t in a} & {t.name for t in more}   # any parameter that changes the result does
    grown = parse_spec_text(SMALL.replace("seed = [1, 2]", "seed = [1, 2, 3]")).tasks()
    assert {t.name for t in a} < {t.name for t in grown}      # a grown grid keeps the finished names


@pytest.mark.parametrize("text, expected", [
    ("[grid]\ntm = ['Co']\n", "[grid] supercell: missing"),
    ("[grid]\ntm = ['Co']\nsupercell = ['2']\n[anealing]\nsweeps = 1\n", "anealing: unknown section"),
    ("[grid]\ntm = ['Co']\nsupercell = ['2']\nstackng = ['O3']\n", "[grid] stackng: unknown key"),
    ("[grid]\ntm = ['Co', 'Li:1/3,Mn:x']\nsupercell = ['2']\n", "[grid] tm[1]:"),
    ("[grid]\ntm = ['Co']\nsupercell = ['2']\nstacking = ['O4']\n", "[grid] stacking[0]: unknown stacking"),
    ("[grid]\ntm = ['Co']\nsupercell = ['2']\nseed = [1, 'two']\n", "[grid] seed[1]: 'two' is not an integer"),
    ("[grid]\ntm = ['Co']\nsupercell = []\n", "[grid] supercell: is empty"),
    ("[grid]\ntm = ['Co']\nsupercell = ['2x']\n", "[grid] supercell[0]:"),
    ("[grid]\ntm = ['Co']\nsupercell = ['2']\nordering = ['honeycom']\n", "[grid] ordering[0]: unknown ordering"),
    ("[grid]\ntm = ['Co']\nsupercell = ['2']\n[anneal]\nsublattice = 'tmm'\n", "[anneal] sublattice"),
    ("[grid]\ntm = ['Co']\nsupercell = ['2']\n[anneal]\nsweeps = 'many'\n", "[anneal] sweeps"),
    ("[grid]\ntm = ['Co']\nsupercell = ['2']\n[relax]\nfmax = -1\n", "[relax] fmax"),
    ("[grid]\ntm = ['Co'\n", "not valid TOML"),
])
def test_bad_spec_one_line_naming_the_key(tmp_path, capsys, text, expected):
    with pytest.raises(ScreenSpecError, match=None) as info:
        parse_spec_text(text, source="s.toml")
    assert expected in str(info.value)
    path = tmp_path / "s.toml"
    path.write_text(text)
    code, out, err = run_cli(capsys, "screen", path, "-o", tmp_path / "out")
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("layerstudio screen: error:") and expected in lines[0]
    assert not (tmp_path / "out").exists()


def test_missing_spec_file(tmp_path, capsys):
    code, _, err = run_cli(capsys, "screen", tmp_path / "nope.toml", "-o", tmp_path / "out")
    assert code == 1 and "no such spec file" in err and len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------------------------------------- runs
def pmg_ewald_per_MO2(model):
    """Independent oracle: pymatgen's EwaldSummation of the model with formal charges."""
    from pymatgen.analysis.ewald import EwaldSummation

    from core.io.pmg import to_structure
    return EwaldSummation(to_structure(model, charges=True)).total_energy / model.formula_units()


@pytest.mark.slow
def test_serial_run_finds_the_honeycomb_and_writes_everything(tmp_path, capsys):
    from core.io.project import load_project
    from core.orderings import preset_occupancy
    from core.report import info
    from core.structure.model import Model

    spec = tmp_path / "s.toml"
    spec.write_text(SMALL)
    code, out, err = run_cli(capsys, "screen", spec, "-o", tmp_path / "out", "--json")
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert {k: summary[k] for k in ("tasks", "ran", "skipped", "failed")} == {
        "tasks": 4, "ran": 4, "skipped": 0, "failed": 0}
    table = load_results(tmp_path / "out")
    assert table.num_rows == 4
    assert table.column_names[:4] == ["tm", "alkali", "supercell", "seed"]  # grid columns as in the spec
    assert set(RESULT_COLUMNS) <= set(table.column_names)
    rows = table.to_pylist()
    assert [r["error"] for r in rows] == [None] * 4
    # 1:2 minority:Mn4+ anneals to the honeycomb, whose Ewald energy pymatgen gives independently
    for r in rows:
        assert r["ordering_label"] == "honeycomb" and r["ordering_confidence"] > 0.95
        hc = Model.build("O3", "Li", "3", 1, alkali_spec="Li", tm_spec=r["tm"], seed=0)
        hc.set_occupancy(preset_occupancy(hc, "honeycomb"))
        assert r["ewald_eV_per_MO2"] == pytest.approx(pmg_ewald_per_MO2(hc), abs=1e-6)
        assert r["ewald_eV_per_MO2"] < r["anneal_start_eV_per_MO2"]
        model = load_project(tmp_path / "out" / r["model_path"])
        assert pmg_ewald_per_MO2(model) == pytest.approx(r["ewald_eV_per_MO2"], abs=1e-6)
        assert (tmp_path / "out" / r["cif_path"]).read_text().startswith(("#", "data_"))
        assert model.metadata["screen_task"] == r["task"]
        # the superlattice columns mirror `info` when it reports one (null otherwise)
        sl = (info(model).get("ordering") or {}).get("superlattice")
        if isinstance(sl, dict) and sl.get("name"):
            assert r["superlattice"] == sl["name"]
            assert json.loads(r["superlattice_matrix"]) == np.asarray(sl["matrix"]).tolist()
        else:
            assert r["superlattice"] is None and r["superlattice_matrix"] is None
        # hand count on 9 MO2: Li+ [Li+ 1/3 Mn4+ 2/3] O2 is neutral; Li+ [Mg2+ 1/3 Mn4+ 2/3] O2 has +1/3 e each
        assert r["net_charge"] == pytest.approx(0.0 if r["tm"].startswith("Li") else 9 / 3)
        assert r["chgnet_eV_per_MO2"] is None
    li = [r for r in rows if r["tm"].startswith("Li")]
    # Li2MnO3: 458.9 mAh/g, all anionic; exactly one Li-O-Li axis per O (reference tables)
    assert li[0]["capacity_total_mAh_g"] == pytest.approx(458.9, abs=0.2)
    assert li[0]["capacity_cationic_mAh_g"] == pytest.approx(0.0, abs=0.2)
    assert li[0]["li_o_li_mean"] == pytest.approx(1.0)
    man = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert man["spec_text"] == SMALL and man["n_tasks"] == 4
    assert {"python", "numpy", "pyarrow"} <= set(man["versions"])
    # rerun: everything skipped, same table
    code, out, _ = run_cli(capsys, "screen", spec, "-o", tmp_path / "out", "--json")
    again = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and (again["ran"], again["skipped"]) == (0, 4)
    assert load_results(tmp_path / "out").equals(table)


@pytest.mark.slow
def test_local_dask_cluster_of_two_processes_gives_the_serial_table(tmp_path):
    from core.screen.runners import SerialRunner, local_runner

    spec = load_spec(EXAMPLE)  # the spec from the README, as is
    s = run_screen(spec, tmp_path / "serial", SerialRunner())
    runner = local_runner(2)
    try:
        info = runner.client.scheduler_info()["workers"]
        assert len(info) == 2
        pids = runner.client.run(os.getpid)
        assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()  # two worker processes
        envs = runner.client.run(lambda: (os.environ.get("OMP_NUM_THREADS"), os.environ.get("NUMBA_NUM_THREADS")))
        assert set(envs.values()) == {("1", "1")}
        assert runner.dashboard_link and runner.dashboard_link.startswith("http")
        d = run_screen(spec, tmp_path / "dask", runner)
    finally:
        runner.close()
    assert (s["tasks"], s["ran"], s["failed"]) == (d["tasks"], d["ran"], d["failed"]) == (6, 6, 0)
    a, b = load_results(tmp_path / "serial"), load_results(tmp_path / "dask")
    assert a.num_rows == 6
    assert comparable(a).equals(comparable(b))
    # the models on disk are the same too
    for r in a.to_pylist():
        assert (tmp_path / "serial" / r["model_path"]).read_text() == (tmp_path / "dask" / r["model_path"]).read_text()


@pytest.mark.slow
def test_resume_after_kill_no_duplicates_no_recompute(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text("""
[grid]
tm = ["Li:1/3,Mn:2/3", "Mg:1/3,Mn:2/3"]
supercell = ["6"]
seed = [1, 2, 3, 4, 5, 6, 7, 8]

[anneal]
sweeps = 20000
""")
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "core.cli", "screen", str(spec), "-o", str(out), "--json"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    rows = out / "rows"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if rows.is_dir() and len(list(rows.glob("*.json"))) >= 3:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    first = {p.name: p.stat().st_mtime_ns for p in rows.glob("*.json")}
    models = {p: p.stat().st_mtime_ns for p in (out / "models").rglob("*.json")}
    assert 3 <= len(first) < 16, "the run should have been killed midway"
    res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    assert summary["tasks"] == 16 and summary["skipped"] == len(first) and summary["ran"] == 16 - len(first)
    table = pq.read_table(out / "results.parquet")
    names = table.column("task").to_pylist()
    assert len(names) == 16 == len(set(names))
    # finished tasks were not recomputed: their row and model files are untouched
    for p in rows.glob("*.json"):
        if p.name in first:
            assert p.stat().st_mtime_ns == first[p.name]
    for p, t in models.items():
        if p.name in first:
            assert p.stat().st_mtime_ns == t
    assert table.column("error").null_count == 16


def test_failed_task_is_recorded_and_the_rest_go_on(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    # a honeycomb needs 1:2 minority:majority: Co alone cannot take it, the Li/Mn layer can
    spec.write_text("[grid]\ntm = ['Co', 'Li:1/3,Mn:2/3']\nsupercell = ['3']\nordering = ['honeycomb']\n")
    code, out, err = run_cli(capsys, "screen", spec, "-o", tmp_path / "out", "--json")
    summary = json.loads(out.strip().splitlines()[-1])
    assert code == 1 and (summary["ran"], summary["failed"]) == (2, 1)
    rows = load_results(tmp_path / "out").to_pylist()
    assert rows[0]["error"] and "internal error" not in rows[0]["error"] and rows[0]["ewald_eV_per_MO2"] is None
    assert rows[1]["error"] is None and rows[1]["ordering_label"] == "honeycomb"
    # the failure is tried again on a rerun, the success is not
    code, out, _ = run_cli(capsys, "screen", spec, "-o", tmp_path / "out", "--json")
    again = json.loads(out.strip().splitlines()[-1])
    assert (again["ran"], again["skipped"], again["failed"]) == (1, 1, 1)
    assert load_results(tmp_path / "out").num_rows == 2


def test_dry_run_counts_and_estimates_without_writing(tmp_path, capsys):
    code, out, err = run_cli(capsys, "screen", EXAMPLE, "-o", tmp_path / "out", "--dry-run")
    assert code == 0, err
    assert "6 task(s): 0 finished, 6 to run" in out and "estimate" in out
    assert not (tmp_path / "out").exists()
    d = dry_run(load_spec(EXAMPLE), tmp_path / "out", workers=2)
    assert d["tasks"] == 6 and d["sample_seconds"] > 0 and d["estimate_seconds"] >= 0 and d["sample_error"] is None


def test_relax_section_without_a_potential_is_skipped_with_a_note(tmp_path, monkeypatch, capsys):
    import core.screen.relax as relax
    monkeypatch.setattr(relax, "MLIP_MODULES", ("core.no_such_mlip_module",))
    spec = tmp_path / "s.toml"
    spec.write_text("[grid]\ntm = ['Li:1/3,Mn:2/3']\nsupercell = ['sqrt3']\n[relax]\nfmax = 0.2\nsteps = 5\n")
    code, out, err = run_cli(capsys, "screen", spec, "-o", tmp_path / "out", "--json")
    assert code == 0
    assert "relaxation skipped" in err and "core.mlip" in err
    row = load_results(tmp_path / "out").to_pylist()[0]
    assert row["chgnet_eV_per_MO2"] is None and row["error"] is None
    # the unrelaxed task is named as one: a later run with a potential does not take it as relaxed
    s = load_spec(spec)
    assert row["task"] == s.tasks(relax=False)[0].name != s.tasks(relax=True)[0].name


def test_jobqueue_slurm_script_pins_threads_and_takes_options():
    from core.screen.runners import RunnerError, make_jobqueue_cluster, parse_cluster_options

    opts = parse_cluster_options(["queue=short", "walltime=00:30:00", "cores=2", "memory=8GB",
                                  "job-extra-directives=--exclusive", "jobs=4"])
    assert opts["cores"] == 2 and opts["job_extra_directives"] == ["--exclusive"] and opts["jobs"] == 4
    cluster = make_jobqueue_cluster("slurm", opts)
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "#SBATCH -p short" in script and "#SBATCH -t 00:30:00" in script and "#SBATCH --exclusive" in script
    assert "export OMP_NUM_THREADS=2" in script and "export NUMBA_NUM_THREADS=2" in script
    with pytest.raises(RunnerError, match="KEY=VALUE"):
        parse_cluster_options(["queue"])
    with pytest.raises(RunnerError, match="cluster-option"):
        make_jobqueue_cluster("slurm", {"no_such_option": 1})


def test_cluster_option_needs_cluster(tmp_path, capsys):
    code, _, err = run_cli(capsys, "screen", EXAMPLE, "-o", tmp_path / "o", "--cluster-option", "queue=x")
    assert code == 1 and "--cluster-option needs --cluster" in err


def test_unreachable_scheduler_is_one_line(tmp_path, capsys, monkeypatch):
    import core.screen.runners as runners
    monkeypatch.setattr(runners, "CONNECT_TIMEOUT", "2s")
    t0 = time.monotonic()
    code, _, err = run_cli(capsys, "screen", EXAMPLE, "-o", tmp_path / "o", "--scheduler", "tcp://127.0.0.1:9")
    assert code == 1 and "cannot reach the Dask scheduler" in err and len(err.strip().splitlines()) == 1
    assert time.monotonic() - t0 < 30


@pytest.mark.slow
def test_existing_scheduler_address(tmp_path, capsys):
    from distributed import LocalCluster

    spec = tmp_path / "s.toml"
    spec.write_text("[grid]\ntm = ['Li:1/3,Mn:2/3']\nsupercell = ['sqrt3', '3']\n")
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        code, out, err = run_cli(capsys, "screen", spec, "-o", tmp_path / "out", "--scheduler",
                                 cluster.scheduler_address, "--json")
    assert code == 0, err
    assert "Dask dashboard: http" in err
    summary = json.loads(out.strip().splitlines()[-1])
    assert (summary["tasks"], summary["ran"], summary["failed"]) == (2, 2, 0)
    assert load_results(tmp_path / "out").column("supercell").to_pylist() == ["sqrt3", "3"]


@pytest.mark.slow
def test_cli_workers_flag_runs_on_a_local_cluster(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text("[grid]\ntm = ['Li:1/3,Mn:2/3', 'Mg:1/3,Mn:2/3']\nsupercell = ['sqrt3']\n")
    code, out, err = run_cli(capsys, "screen", spec, "-o", tmp_path / "out", "--workers", "2", "--json")
    assert code == 0, err
    assert "Dask dashboard: http" in err and "local Dask cluster, 2 worker process(es)" in err
    summary = json.loads(out.strip().splitlines()[-1])
    assert {k: summary[k] for k in ("tasks", "ran", "skipped", "failed")} == {
        "tasks": 2, "ran": 2, "skipped": 0, "failed": 0}
    assert summary["seconds"] > 0


def test_cluster_without_the_batch_system_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no sbatch / qsub here
    code, _, err = run_cli(capsys, "screen", EXAMPLE, "-o", tmp_path / "o", "--cluster", "slurm",
                           "--cluster-option", "queue=short")
    assert code == 1 and "sbatch is not on PATH" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_relax_section_relaxes_with_chgnet(tmp_path, capsys):
    """With the mlip extra installed, [relax] fills chgnet_eV_per_MO2 with a relaxed energy below the
    unrelaxed CHGNet energy of the same model (computed here directly through core.mlip)."""
    pytest.importorskip("chgnet")
    from core.io.project import load_project
    from core.mlip.relax import single_point

    spec = tmp_path / "s.toml"
    spec.write_text("[grid]\ntm = ['Li:1/3,Mn:2/3']\nsupercell = ['sqrt3']\nordering = ['honeycomb']\n"
                    "[anneal]\nsweeps = 10\n[relax]\nfmax = 0.2\nsteps = 3\n")
    code, out, err = run_cli(capsys, "screen", spec, "-o", tmp_path / "out", "--json")
    assert code == 0, err
    row = load_results(tmp_path / "out").to_pylist()[0]
    assert row["error"] is None and 1 <= row["relax_steps"] <= 3
    model = load_project(tmp_path / "out" / row["model_path"])
    unrelaxed = single_point(model, "chgnet", cache=False)
    assert row["chgnet_eV_per_MO2"] < unrelaxed.energy_eV / unrelaxed.formula_units
