"""One summary of a model: `core.report.info` from scratch (the command line) and from a LiveAnalysis
that followed a series of edits incrementally (the editor's readouts) give the same dict; the How line
of the charges describes the current state."""
import json

import numpy as np
import pytest

from core.analysis.live import LiveAnalysis, build_engine
from core.energy.ewald import EwaldEngine
from core.energy.valence import compensating_flips, compensation_note, how_charged, neutral_by_default
from core.orderings.recognition import recognise
from core.report import info, readout_numbers
from core.structure.model import Model
from core.structure.species import CODE, VACANCY
from core.structure.symmetry import space_group

FAST = ["basics", "cell", "charge", "ewald", "capacity", "oxygen"]


def test_live_summary_after_edits_equals_summary_from_scratch():
    m = Model.build("O3", "Li", "3", 2, tm_spec="Li:1/3,Mn:2/3", seed=3)
    live = LiveAnalysis(m)
    live.attach_engine(*build_engine(m.supercell, m.charges()))
    rng = np.random.default_rng(0)
    sites = np.flatnonzero(m.supercell.role != "O")
    for step in range(25):                      # incremental: Ewald, O environments, capacity cache
        s = rng.choice(sites, size=int(rng.integers(1, 4)), replace=False)
        codes = rng.choice([CODE["Li"], CODE["Mn"], CODE["Ni"], VACANCY], size=len(s))
        m.apply((s, codes))
        live.update(s)
        got, want = info(live=live, sections=FAST), info(m, sections=FAST)
        assert list(got) == list(want)
        for key in want:
            if key.startswith("ewald_"):
                assert got[key] == pytest.approx(want[key], abs=1e-8), (step, key)
            else:
                assert got[key] == want[key], (step, key)
    # an independent energy: a fresh engine, not the cached one
    fresh = EwaldEngine(m.supercell).energy(m.charges()) / m.formula_units()
    assert info(live=live)["ewald_eV_per_MO2"] == pytest.approx(fresh, abs=1e-8)
    # the slow parts are not computed from a live analysis: None until someone puts them there
    d = info(live=live, sections=["ordering", "space_group"])
    assert d["ordering"] is None and d["space_group"] is None
    live.results["ordering"] = recognise(m.copy())
    live.results["space_group"] = space_group(m)
    scratch = info(m)
    d = info(live=live)
    assert d["ordering"] == scratch["ordering"] and d["space_group"] == scratch["space_group"]
    json.dumps(d)
    r = readout_numbers(d)
    assert r["ordering_label"] == recognise(m)["label"] and r["space_group"]["number"] == space_group(m).number
    # an edit clears them again
    m.apply(([int(sites[0])], [CODE["Li"]]))
    live.update([int(sites[0])])
    assert info(live=live, sections=["ordering"])["ordering"] is None


def test_engine_of_another_supercell_is_not_shared():
    a = Model.build("O3", "Li", "3", 1, tm_spec="Co", seed=0)
    b = Model.build("O3", "Li", "2", 1, tm_spec="Co", seed=0)
    la, lb = LiveAnalysis(a), LiveAnalysis(b)
    la.attach_engine(*build_engine(a.supercell, a.charges()))
    lb.share_engine(la)
    assert lb.ewald is None and info(live=lb)["ewald_eV_per_MO2"] is None      # pending, not a's energy
    assert not lb.attach_engine(*build_engine(a.supercell, a.charges()))       # wrong size: refused
    lb.attach_engine(*build_engine(b.supercell, b.charges()))
    assert info(live=lb)["ewald_eV_per_MO2"] == pytest.approx(
        EwaldEngine(b.supercell).energy(b.charges()) / b.formula_units(), abs=1e-8)


def test_how_line_gives_current_counts_and_last_compensation():
    m = Model.build("O3", "Li", "4", 1, tm_spec="Ni", seed=0)        # LiNiO2: 16 Ni3+ once neutral
    note = neutral_by_default(m)
    assert note == "Ni: 16 Ni3+ to neutralise"
    # the counts once, then how they came about
    assert how_charged(m) == "neutral: 16 Ni3+ (last neutralisation: Ni states chosen to neutralise)"
    site = int(m.supercell.tm_sites[0])
    flips = [(site, CODE["Li"])]                                      # Li+ for Ni3+: -2 e
    extra = compensating_flips(m, flips)
    assert len(extra) == 2
    m.metadata["valence"] = {**m.metadata["valence"], "last_edit": compensation_note(m, flips, extra)}
    m.apply(flips + extra)
    n3, n4 = ((m.occupancy == CODE[s]).sum() for s in ("Ni3+", "Ni4+"))
    assert (n3, n4) == (13, 2)
    assert how_charged(m) == "neutral: 13 Ni3+, 2 Ni4+ (last compensating edit: 2 Ni3+ -> Ni4+)"
    assert info(m, sections=["charge"])["oxidation_note"] == how_charged(m)
    # a model never neutralised and holding only element codes: formal states, nothing to say
    assert how_charged(Model.build("O3", "Li", "2", 1, tm_spec="Co", seed=0)) == ""
