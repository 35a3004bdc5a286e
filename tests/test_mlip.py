"""Energy models (Ewald, CHGNet, any ASE calculator): single points, relaxations, moments, cache, CLI.

CHGNet tests use <= 16-atom cells and few steps (one torch thread); they skip when CHGNet is absent.
"""
import json
import threading

import numpy as np
import pytest

from core.mlip.moments import moment_analysis, oxidation_from_moment
from core.mlip.relax import CACHE, model_atoms, relax, run, single_point
from core.mlip.rerank import spearman
from core.orderings import preset_occupancy
from core.structure.model import Model
from core.structure.species import VACANCY


def li2mno3():
    """Honeycomb Li[Li1/3Mn2/3]O2 (Li2MnO3), one sqrt3 x sqrt3 layer: 12 atoms."""
    m = Model.build("O3", "Li", "sqrt3", 1, tm_spec="Li:1/3,Mn:2/3")
    m.set_occupancy(preset_occupancy(m, "honeycomb"))
    return m


@pytest.fixture(scope="module")
def chgnet():
    pytest.importorskip("chgnet")
    from core.mlip.models import get_energy_model

    return get_energy_model("chgnet", threads=1)


# ---------------------------------------------------------------------------------------------- no CHGNet
def test_ewald_model_matches_pymatgen():
    from pymatgen.analysis.ewald import EwaldSummation

    from core.io.pmg import to_structure

    m = li2mno3()
    res = single_point(m, "ewald", cache=False)
    ref = EwaldSummation(to_structure(m, charges=True)).total_energy
    assert res.energy_eV == pytest.approx(ref, abs=1e-6)
    assert res.formula_units == 3


def test_ewald_cannot_relax():
    from core.mlip.relax import RelaxError

    with pytest.raises(RelaxError, match="no forces"):
        run(relax(li2mno3(), "ewald"))


def test_model_atoms_keep_site_indices():
    m = li2mno3()
    m.apply([(int(m.supercell.alkali_sites[0]), VACANCY)])
    atoms = model_atoms(m)
    assert len(atoms) == 11
    assert int(m.supercell.alkali_sites[0]) not in atoms.arrays["site_index"]
    assert np.allclose(atoms.get_positions(), m.supercell.cart[atoms.arrays["site_index"]], atol=1e-9) or \
        np.allclose(atoms.get_scaled_positions(wrap=False), m.supercell.frac[atoms.arrays["site_index"]])


def test_oxidation_from_spin_only_moments():
    # spin-only 2S: Mn4+ d3 = 3, Mn3+ high-spin d4 = 4, Ni2+ d8 = 2, Co3+ low-spin d6 = 0
    assert oxidation_from_moment("Mn", 2.9) == 4
    assert oxidation_from_moment("Mn", 3.8) == 3
    assert oxidation_from_moment("Ni", 1.7) == 2
    assert oxidation_from_moment("Co", 0.1) == 3
    assert oxidation_from_moment("Fe", 4.0, prefer=2) == 2  # Fe2+ and Fe4+ tie at 4 muB
    a = moment_analysis(["Mn", "Mn", "O", "O", "Li"], [3.0, 3.9, 0.1, 0.5, 0.0])
    assert a["oxidation_counts"] == {"Mn3+": 1, "Mn4+": 1}
    assert a["o_mean"] == pytest.approx(0.3)


def test_spearman_matches_scipy():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(1)
    a, b = rng.normal(size=9), rng.normal(size=9)
    assert spearman(a, b) == pytest.approx(spearmanr(a, b).statistic)


@pytest.mark.slow
def test_user_calculator_is_an_energy_model():
    from ase.build import bulk
    from ase.calculators.emt import EMT

    from core.mlip.models import get_energy_model

    em = get_energy_model(EMT())
    atoms = bulk("Cu", "fcc", a=3.7, cubic=True)
    res = run(relax(atoms, em, fmax=0.01, steps=50, cell=True, cache=False))
    # EMT copper's equilibrium lattice parameter is about 3.59 Angstrom (Jacobsen et al. 1996)
    assert res.energy_eV < res.initial_energy_eV
    assert res.atoms.cell.lengths()[0] == pytest.approx(3.59, abs=0.03)


def test_cli_relax_rejects_ewald(tmp_path, capsys):
    from core.cli import main

    proj = tmp_path / "m.json"
    assert main(["build", "--tm", "Li:1/3,Mn:2/3", "--ordering", "honeycomb", "--supercell", "sqrt3",
                 "--layers", "1", "-o", str(proj)]) == 0
    capsys.readouterr()
    assert main(["relax", str(proj), "--model", "ewald", "--json"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no forces" in err[0]
    assert main(["relax", str(proj), "--model", "ewald", "--steps", "0", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["energy_eV"] == out["initial_energy_eV"] and out["species"].count("Mn") == 2


# ---------------------------------------------------------------------------------------------- CHGNet
@pytest.mark.slow
def test_relaxation_lowers_energy_and_export_reproduces_it(chgnet, tmp_path):
    from ase.io import read
    from chgnet.model import CHGNet
    from pymatgen.io.ase import AseAtomsAdaptor

    res = run(relax(li2mno3(), chgnet, fmax=0.1, steps=15, cache=False))
    assert res.steps > 0
    assert res.energy_eV < res.initial_energy_eV - 0.05
    path = tmp_path / "relaxed.vasp"
    from core.mlip.relax import write_structure
    write_structure(res, path)
    # an independent evaluation: CHGNet's own predict_structure on the file read back
    structure = AseAtomsAdaptor.get_structure(read(path))
    pred = CHGNet.load(verbose=False).predict_structure(structure, task="e")
    assert float(pred["e"]) * len(structure) == pytest.approx(res.energy_eV, abs=2e-3)


@pytest.mark.slow
def test_mn4_moments_and_o_holes_on_delithiation(chgnet):
    from core.mlip.moments import result_moments

    m = li2mno3()
    pristine = result_moments(single_point(m, chgnet), m)
    # Mn4+ d3: spin-only 3 muB
    mn = [t["moment"] for t in pristine["tm"]]
    assert len(mn) == 2 and all(abs(x - 3.0) < 0.3 for x in mn)
    assert pristine["oxidation_counts"] == {"Mn4+": 2}
    assert pristine["o_mean"] < 0.15
    m.apply([(int(s), VACANCY) for s in m.supercell.alkali_sites])  # Li[Li1/3Mn2/3]O2 -> [Li1/3Mn2/3]O2
    charged = result_moments(single_point(m, chgnet), m)
    # Mn4+ cannot be oxidised: the holes go to O (moments rise well above the pristine level)
    assert charged["o_mean"] > pristine["o_mean"] + 0.2
    assert all(abs(t["moment"] - 3.0) < 0.4 for t in charged["tm"])


@pytest.mark.slow
def test_o_moments_follow_the_state_of_charge_ladder(chgnet):
    from core.mlip.moments import soc_moments

    rows = run(soc_moments(li2mno3(), chgnet, steps=2, order="alkali_layer", alkali_layer_only=True))
    assert [r["step"] for r in rows][0] == 0 and len(rows) >= 2
    # Li2MnO3: every hole goes to O (Mn4+ stays), so O moments grow with the alkali removed
    assert rows[-1]["o_moment_mean"] > rows[0]["o_moment_mean"] + 0.2
    assert rows[-1]["ladder_oxidised_O_fraction"] > 0 and rows[0]["ladder_oxidised_O_fraction"] == 0
    assert all(set(r["oxidation_counts"]) == {"Mn4+"} for r in rows)


@pytest.mark.slow
def test_abort_stops_a_relaxation(chgnet):
    stop = threading.Event()
    gen = relax(li2mno3(), chgnet, fmax=1e-4, steps=100, abort=stop, cache=False)
    items = [next(gen), next(gen)]
    stop.set()
    res = run(gen)
    assert res.aborted and res.steps <= 3 and len(res.trace) <= 3
    assert [i["step"] for i in items] == [0, 1]


@pytest.mark.slow
def test_cache_returns_without_recomputing(chgnet, monkeypatch):
    CACHE.clear()
    m = li2mno3()
    first = run(relax(m, chgnet, fmax=0.2, steps=3))
    calls = []
    calc = chgnet.calculator()
    original = calc.calculate
    monkeypatch.setattr(calc, "calculate", lambda *a, **k: (calls.append(1), original(*a, **k)))
    again = run(relax(m, chgnet, fmax=0.2, steps=3))
    assert calls == [] and again.cached and again.energy_eV == first.energy_eV
    m.apply([(int(m.supercell.alkali_sites[0]), VACANCY)])  # another configuration: computed
    run(relax(m, chgnet, fmax=0.2, steps=1))
    assert len(calls) > 0


@pytest.mark.slow
def test_cli_relax_json(chgnet, tmp_path, capsys):
    from core.cli import main

    proj = tmp_path / "m.json"
    assert main(["build", "--tm", "Li:1/3,Mn:2/3", "--ordering", "honeycomb", "--supercell", "sqrt3",
                 "--layers", "1", "-o", str(proj)]) == 0
    capsys.readouterr()
    out_file = tmp_path / "r.extxyz"
    assert main(["relax", str(proj), "-o", str(out_file), "--steps", "5", "--fmax", "0.1", "--json", "-q"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["energy_eV"] < out["initial_energy_eV"]
    assert out["energy_eV_per_MO2"] == pytest.approx(out["energy_eV"] / 3)
    assert out["steps"] <= 5 and out["species"].count("Mn") == 2 and len(out["magmoms"]) == 12
    assert out["oxidation_counts"] == {"Mn4+": 2}
    assert out_file.exists()


@pytest.mark.slow
def test_neb_li_hop_and_resume(chgnet, tmp_path, capsys):
    """Li dumbbell hop into a vacancy of LiCoO2 (16 atoms, 1 image, few steps), then a resume."""
    from core.cli import main

    proj = tmp_path / "lco.json"
    assert main(["build", "--tm", "Co", "--supercell", "2", "--layers", "1", "-o", str(proj)]) == 0
    from core.io.project import open_model, save_project

    m, _ = open_model(proj)
    m.apply([(int(m.supercell.alkali_sites[0]), VACANCY)])
    save_project(proj, m)
    capsys.readouterr()
    out_dir = tmp_path / "neb"
    args = ["neb", str(proj), "--path", "0", "-o", str(out_dir), "--images", "1", "--steps", "2", "--json", "-q"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert first["path"]["species"] == "Li" and len(first["energies_eV"]) == 3
    assert first["energies_eV"][0] == 0.0 and first["barrier_eV"] > 0.0
    assert main(args) == 0
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert again["resumed"] and again["endpoint_steps"] == first["endpoint_steps"]
