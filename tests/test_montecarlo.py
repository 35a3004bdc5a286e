"""Simulated annealing: reaches the honeycomb from random starts (O3 Li/Mn, P2 Mg/Mn), is reproducible,
keeps compositions, agrees with fresh and pymatgen energies, honours abort."""
import threading

import numpy as np
import pytest

from core.energy.ewald import get_engine
from core.errors import LayerStudioError
from core.orderings import preset_occupancy
from core.orderings.montecarlo import AnnealProgress, AnnealResult, anneal, make_temperatures, run_anneal
from core.orderings.recognition import recognise
from core.structure.model import Model


def _honeycomb_energy(model):
    h = model.copy()
    h.set_occupancy(preset_occupancy(h, "honeycomb"))
    return get_engine(h.supercell).energy(h.charges())


@pytest.mark.parametrize("seed", range(3))
def test_anneal_li_mn_o3_reaches_honeycomb(seed):
    m = Model.build("O3", "Li", "6x6", tm_spec="Li:1/3,Mn:2/3", seed=10 + seed)
    assert recognise(m)["label"] != "honeycomb"
    res = run_anneal(m, sweeps=3000, seed=seed)
    assert res.best_energy == pytest.approx(_honeycomb_energy(m), abs=1e-6)
    m.set_occupancy(res.best_occupancy)
    r = recognise(m)
    assert r["label"] == "honeycomb" and r["confidence"] == 1.0


@pytest.mark.parametrize("seed", range(2))
def test_anneal_mg_mn_p2_reaches_honeycomb(seed):
    # Na and TM layers anneal together: a frozen random Na:2/3 layer would pin honeycomb domains
    m = Model.build("P2", "Na", "6x6", tm_spec="Mg:1/3,Mn:2/3", alkali_spec="Na:2/3", seed=3 + seed)
    res = run_anneal(m, sweeps=4000, seed=seed, sublattice="all")
    m.set_occupancy(res.best_occupancy)
    r = recognise(m)
    assert r["label"] == "honeycomb" and r["confidence"] == 1.0
    assert r["isolated_minority_fraction"] == 1.0


def test_reproducible_composition_kept_and_energy_fresh():
    m = Model.build("P2", "Na", "3x3", tm_spec="Mg:1/3,Mn:2/3", alkali_spec="Na:2/3", seed=2)
    a = run_anneal(m, sweeps=300, seed=7, sublattice="all")
    b = run_anneal(m, sweeps=300, seed=7, sublattice="all")
    c = run_anneal(m, sweeps=300, seed=8, sublattice="all")
    assert np.array_equal(a.final_occupancy, b.final_occupancy) and a.best_energy == b.best_energy
    assert a.attempts == b.attempts and not np.array_equal(a.final_occupancy, c.final_occupancy)
    eng = get_engine(m.supercell)
    sc = m.supercell
    for occ, e in [(a.final_occupancy, a.final_energy)] + [(o, e) for e, o in a.configurations]:
        t = m.copy()
        t.set_occupancy(occ)
        assert eng.energy(t.charges()) == pytest.approx(e, abs=1e-6)  # accumulated dE == fresh energy
        for sites in (sc.tm_sites, sc.alkali_sites):  # "all": each sublattice swaps within itself
            assert sorted(occ[sites]) == sorted(m.occupancy[sites])
    energies = [e for e, _ in a.configurations]
    assert energies == sorted(energies) and np.all(np.diff(energies) > 1e-6)


def test_energy_matches_pymatgen():
    pytest.importorskip("pymatgen")
    from pymatgen.analysis.ewald import EwaldSummation

    from core.io.pmg import to_structure
    m2 = Model.build("O3", "Li", "3x3", tm_spec="Li:1/3,Mn:2/3", seed=4)
    res = run_anneal(m2, sweeps=500, seed=0)
    m2.set_occupancy(res.best_occupancy)
    e_pmg = EwaldSummation(to_structure(m2, charges=True)).total_energy
    assert res.best_energy == pytest.approx(e_pmg, abs=1e-4)


def test_progress_records_and_abort():
    m = Model.build("O3", "Li", "12x12", tm_spec="Li:1/3,Mn:2/3", seed=0)
    recs = list(anneal(m, sweeps=2000, seed=0, progress_every=0.1))
    prog, result = recs[:-1], recs[-1]
    assert isinstance(result, AnnealResult) and all(isinstance(r, AnnealProgress) for r in prog)
    assert len(prog) >= 5
    assert all(b.step > a.step and b.temperature <= a.temperature for a, b in zip(prog, prog[1:]))
    assert all(r.best_energy <= r.energy + 1e-9 and 0 <= r.acceptance <= 1 for r in prog)
    ev = threading.Event()
    gen = anneal(m, sweeps=10 ** 6, seed=0, abort=ev)
    next(gen)
    ev.set()
    rest = list(gen)
    assert isinstance(rest[-1], AnnealResult) and rest[-1].aborted
    assert rest[-1].attempts < 10 ** 6 * 144
    # a callable abort works too
    res = run_anneal(m, sweeps=10 ** 6, seed=0, abort=lambda: True)
    assert res.aborted and res.attempts == 0 and res.best_energy == res.start_energy


def test_schedule_and_errors():
    t = make_temperatures(100, 10.0, 0.1)
    assert t[0] == pytest.approx(10.0) and t[-1] == pytest.approx(0.1) and np.all(np.diff(t) <= 0)
    m = Model.build("O3", "Li", "3x3", tm_spec="Co")
    with pytest.raises(LayerStudioError, match="nothing to anneal"):
        run_anneal(m, sweeps=10)
    with pytest.raises(LayerStudioError, match="sublattice"):
        run_anneal(Model.build("O3", "Li", "3x3", tm_spec="Li:1/3,Mn:2/3"), sublattice="oxygen")


def test_table_lookup_kernel_agrees_with_dense(monkeypatch):
    import core.orderings.montecarlo as mc
    m = Model.build("O3", "Li", "3x3", layers=3, tm_spec="Li:1/3,Mn:2/3", seed=5)
    dense = run_anneal(m, sweeps=400, seed=3, sublattice="mixed")
    monkeypatch.setattr(mc, "DENSE_MAX_SITES", 0)  # force the W-table kernel used for big cells
    table = run_anneal(m, sweeps=400, seed=3, sublattice="mixed")
    assert table.best_energy == pytest.approx(dense.best_energy, abs=1e-6)
    t = m.copy()
    t.set_occupancy(table.final_occupancy)
    assert get_engine(m.supercell).energy(t.charges()) == pytest.approx(table.final_energy, abs=1e-6)
    # mixed: cations may cross between TM and alkali layers, the total composition is kept
    assert t.counts() == m.counts()


def test_enumeration_small_cells():
    from core.errors import ResourceLimitError
    from core.orderings.enumeration import count_configurations, enumerate_orderings

    m = Model.build("O3", "Li", "3x3", tm_spec="Li:1/3,Mn:2/3")
    assert count_configurations(m) == 84  # C(9, 3)
    classes = enumerate_orderings(m)
    assert sum(c["multiplicity"] for c in classes) == 84
    energies = [c["energy_eV"] for c in classes]
    assert energies == sorted(energies)
    # the ground state is the honeycomb, on any of its three sqrt3 cosets
    assert classes[0]["energy_eV"] == pytest.approx(_honeycomb_energy(m), abs=1e-6)
    assert classes[0]["multiplicity"] == 3
    t = m.copy()
    t.set_occupancy(classes[1]["occupancy"])
    assert get_engine(t.supercell).energy(t.charges()) == pytest.approx(classes[1]["energy_eV"], abs=1e-6)
    # docs/science.md §5: point charges prefer stripes over zigzag at 1:1 Ni2+/Mn4+
    n = Model.build("O3", "Li", "4x4", tm_spec="Ni:1/2,Mn:1/2")
    best = enumerate_orderings(n)[0]
    n.set_occupancy(best["occupancy"])
    assert recognise(n)["label"] == "stripe"
    z = n.copy()
    z.set_occupancy(preset_occupancy(z, "zigzag"))
    assert get_engine(z.supercell).energy(z.charges()) > best["energy_eV"] + 0.1
    with pytest.raises(ResourceLimitError, match="arrangements"):
        enumerate_orderings(Model.build("O3", "Li", "6x6", tm_spec="Li:1/3,Mn:2/3"))
