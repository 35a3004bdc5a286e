"""Replica exchange and explicit schedules: ladders, coupled sublattices reaching the exhaustively enumerated
ground state, fresh energies, the CLI options; small-cell enumeration checked against full enumeration."""
import json

import numpy as np
import pytest

from core.cli import main
from core.energy.ewald import get_engine
from core.errors import LayerStudioError
from core.orderings.enumeration import enumerate_orderings, small_cell_ground_states
from core.orderings.montecarlo import run_anneal, schedule_temperatures
from core.structure.model import Model


def test_ladders():
    t = schedule_temperatures(10, 8.0, 0.5, "tempering", replicas=5)
    assert t.shape == (5, 10) and np.allclose(t[:, 0], t[:, -1])
    assert t[0, 0] == pytest.approx(0.5) and t[-1, 0] == pytest.approx(8.0)
    assert np.allclose(t[1:, 0] / t[:-1, 0], 2.0)  # geometric: (8 / 0.5)^(1/4) = 2
    a = schedule_temperatures(50, 8.0, 0.5, "geometric", replicas=3, spread=4.0)
    assert a[2, 0] == pytest.approx(8.0) and a[0, -1] == pytest.approx(0.5)
    assert np.allclose(a[2] / a[0], 4.0) and np.allclose(a[1] / a[0], 2.0)
    lin = schedule_temperatures(5, 5.0, 1.0, "linear")
    assert lin.tolist() == [[5.0, 4.0, 3.0, 2.0, 1.0]]
    for bad in ({"schedule": "slow"}, {"replicas": 0}, {"spread": 0.5}):
        with pytest.raises(LayerStudioError):
            schedule_temperatures(10, 1.0, 0.1, **bad)


def _coupled_small():
    # 3x4 cell: 12 TM sites (10 Mn4+, 2 vacancies) under 12 alkali sites (8 Li): neutral
    return Model.build("O3", "Li", [[3, 0], [0, 4]], tm_spec="Mn:5/6,Va:1/6", alkali_spec="Li:2/3", seed=4)


def test_small_cell_enumeration_is_the_exhaustive_minimum():
    """On a cell that is itself small, the small-cell search must equal exhaustive enumeration of the
    same sublattice (an independent code path: symmetry classes over every arrangement)."""
    m = Model.build("O3", "Li", "3x3", tm_spec="Li:1/3,Mn:2/3", seed=0)
    cells = small_cell_ground_states(m, "tm", max_index=9)
    full = enumerate_orderings(m, "tm")
    assert cells[0]["energy_eV"] == pytest.approx(full[0]["energy_eV"], abs=1e-6)
    t = m.copy()
    t.set_occupancy(cells[0]["occupancy"])
    assert get_engine(m.supercell).energy(t.charges()) == pytest.approx(cells[0]["energy_eV"], abs=1e-6)
    assert {c["index"] for c in cells} <= {1, 3, 9}


@pytest.mark.parametrize("seed", range(3))
def test_replica_exchange_reaches_coupled_ground_state(seed):
    m = _coupled_small()
    ref = small_cell_ground_states(m, "all", max_index=12)[0]
    assert ref["arrangements"] == 66 * 495      # C(12, 2) TM x C(12, 8) alkali: the whole cell
    res = run_anneal(m, sweeps=1500, seed=seed, sublattice="all", replicas=8, schedule="tempering")
    assert res.replicas == 8 and 0.0 < res.exchange_acceptance <= 1.0
    assert res.best_energy == pytest.approx(ref["energy_eV"], abs=1e-6)
    t = m.copy()
    t.set_occupancy(res.best_occupancy)
    assert get_engine(m.supercell).energy(t.charges()) == pytest.approx(res.best_energy, abs=1e-6)
    sc = m.supercell
    for sites in (sc.tm_sites, sc.alkali_sites):
        assert sorted(res.best_occupancy[sites]) == sorted(m.occupancy[sites])
    # every progress record carries the whole ladder
    assert all(len(r.temperatures) == 8 and len(r.energies) == 8 for r in res.trace)


def test_replica_annealing_schedule_and_reproducible():
    m = _coupled_small()
    a = run_anneal(m, sweeps=400, seed=3, sublattice="all", replicas=4, schedule="geometric")
    b = run_anneal(m, sweeps=400, seed=3, sublattice="all", replicas=4, schedule="geometric")
    assert a.best_energy == b.best_energy and np.array_equal(a.final_occupancy, b.final_occupancy)
    assert a.trace[0].temperatures[0] < a.trace[0].temperatures[-1]


def test_cli_replicas_and_schedule(tmp_path, capsys):
    src = tmp_path / "m.json"
    assert main(["build", "--stacking", "O3", "--alkali", "Li:2/3", "--tm", "Mn:5/6,Va:1/6",
                 "--supercell", "3,0,0,4", "-o", str(src)]) == 0
    capsys.readouterr()
    out = tmp_path / "a.json"
    code = main(["anneal", str(src), "-o", str(out), "--sublattice", "all", "--replicas", "4", "--sweeps", "300",
                 "--schedule", "tempering", "--t-start", "8", "--t-end", "0.02", "--json"])
    text, _ = capsys.readouterr()
    assert code == 0
    d = json.loads(text)
    assert d["replicas"] == 4 and d["schedule"] == "tempering"
    assert d["kT_start_eV"] == 8.0 and d["kT_end_eV"] == 0.02
    code = main(["anneal", str(src), "-o", str(out), "--replicas", "0"])
    _, err = capsys.readouterr()
    assert code == 2 and "replicas" in err   # a bad argument: argparse, exit 2
    # the library refuses it too, in one line
    with pytest.raises(LayerStudioError, match="replicas"):
        run_anneal(_coupled_small(), sweeps=10, replicas=0)


def test_cli_help_documents_options(capsys):
    assert main(["anneal", "--help"]) == 0
    text = capsys.readouterr().out
    for word in ("--replicas", "--schedule", "tempering", "--sublattice", "mixed", "kT in eV"):
        assert word in text


@pytest.mark.parametrize("seed", range(3))
def test_plain_cli_anneal_of_coupled_vacancies_defaults_to_replica_exchange(tmp_path, capsys, seed):
    """`anneal --sublattice all` without --replicas on TM vacancies + a partly filled Li layer reaches the
    exhaustively enumerated ground state (plain annealing stopped above it)."""
    m = _coupled_small()
    ref = small_cell_ground_states(m, "all", max_index=12)[0]["energy_eV"]
    src, out = tmp_path / "m.json", tmp_path / "a.json"
    from core.io.project import save_project
    save_project(src, m)
    assert main(["anneal", str(src), "-o", str(out), "--sublattice", "all", "--sweeps", "1500", "--seed", str(seed),
                 "--json"]) == 0
    d = json.loads(capsys.readouterr()[0])
    assert d["replicas"] >= 8 and d["exchange_acceptance"] > 0
    assert d["best_energy_eV"] == pytest.approx(ref, abs=1e-6)
