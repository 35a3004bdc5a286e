"""State-of-charge model: compensation order, cationic/anionic split, electrostatics of every state."""
import json
import time

import numpy as np
import pytest
from reference_models import li2mno3_by_hand

from core import Model
from core.analysis.capacity import capacity
from core.analysis.charge import ChargeModel, charge_table
from core.analysis.oxygen import OxygenEnvironments
from core.energy import ewald
from core.errors import LayerStudioError
from core.structure.species import CODE, SPECIES


def honeycomb_li2mno3(cell="3", layers=1):
    return li2mno3_by_hand(cell, layers)


def pymatgen_energy(model, occ, q):
    """Independent oracle: pymatgen EwaldSummation of the occupied sites with per-site charges."""
    from pymatgen.analysis.ewald import EwaldSummation
    from pymatgen.core import Lattice, Species, Structure

    sc = model.supercell
    keep = np.flatnonzero(occ != 0)
    s = Structure(Lattice(sc.lattice), [Species(SPECIES[occ[i]], float(q[i])) for i in keep], sc.frac[keep])
    return EwaldSummation(s).total_energy


def test_licoo2_is_all_cationic():
    m = Model.build("O3", "Li", "3", tm_spec="Co")
    before = m.occupancy.copy()
    cm = ChargeModel(m)
    assert np.array_equal(m.occupancy, before)  # the model itself is untouched
    assert cm.n_steps == 9
    co = np.flatnonzero(m.occupancy == CODE["Co"])
    for k in range(1, cm.n_steps + 1):
        st = cm.state(k)
        assert st.active_couple == "Co3+/Co4+"
        assert st.anionic_mAh_g == 0 and st.cationic_share == 1.0 and len(st.oxidised_o) == 0
        assert (st.charges[co] == 4).sum() == k  # one Co4+ per Li removed
        assert st.charges.sum() == pytest.approx(0.0, abs=1e-9)
    final = cm.state(cm.n_steps)
    assert final.x_removed == pytest.approx(1.0)
    assert final.capacity_mAh_g == pytest.approx(273.8, abs=0.2)  # docs/science.md §8
    assert (final.occupancy[m.supercell.alkali_sites] == 0).all()


def test_li2mno3_is_all_anionic_with_o_minus_appearing():
    m = honeycomb_li2mno3("3")
    cm = ChargeModel(m)
    mn = np.flatnonzero(m.occupancy == CODE["Mn"])
    for k in range(cm.n_steps + 1):
        st = cm.state(k)
        assert len(st.oxidised_o) == k  # one O2- -> O- per Li removed
        assert np.allclose(st.charges[st.oxidised_o], -1.0)
        assert (st.charges[mn] == 4).all()
        assert st.cationic_mAh_g == 0
        if k:
            assert st.active_couple == "O2-/O-" and st.anionic_share == 1.0
    final = cm.state(cm.n_steps)
    assert final.x_removed == pytest.approx(4 / 3)
    assert final.capacity_mAh_g == pytest.approx(458.9, abs=0.2)
    assert final.anionic_mAh_g == pytest.approx(458.9, abs=0.2)


def test_energy_of_every_state_equals_a_fresh_ewald_computation():
    m = Model.build("O3", "Li", "4", tm_spec="Ni:1/2,Mn:1/2", seed=2)
    cm = ChargeModel(m)
    eng = ewald.get_engine(m.supercell)
    for k in range(cm.n_steps + 1):
        st = cm.state(k)
        assert st.energy_eV == pytest.approx(eng.energy(st.charges), abs=1e-7)
    for k in (0, cm.n_steps // 2 + 1, cm.n_steps):
        st = cm.state(k)
        assert st.energy_eV == pytest.approx(pymatgen_energy(m, st.occupancy, st.charges), abs=1e-6)


def test_o_holes_enter_the_electrostatics():
    """Li2MnO3: the per-site O- charges are in the energy (pymatgen oracle with O at -1)."""
    m = honeycomb_li2mno3("sqrt3")
    cm = ChargeModel(m)
    st = cm.state(2)
    assert len(st.oxidised_o) == 2
    assert st.energy_eV == pytest.approx(pymatgen_energy(m, st.occupancy, st.charges), abs=1e-6)


def test_nickel_couples_follow_the_ladder():
    """LiNi0.5Mn0.5O2: every Ni goes 2+ -> 3+ before any 3+ -> 4+; Mn4+ never changes."""
    m = Model.build("O3", "Li", "4", tm_spec="Ni:1/2,Mn:1/2", seed=1)
    cm = ChargeModel(m)
    ni = np.flatnonzero(m.occupancy == CODE["Ni"])
    mn = np.flatnonzero(m.occupancy == CODE["Mn"])
    half = cm.n_steps // 2
    for k in range(1, cm.n_steps + 1):
        st = cm.state(k)
        assert st.active_couple == ("Ni2+/Ni3+" if k <= half else "Ni3+/Ni4+")
        if k <= half:
            assert (st.charges[ni] <= 3).all()
        else:
            assert (st.charges[ni] >= 3).all()
        assert (st.charges[mn] == 4).all()
    assert cm.state(cm.n_steps).cationic_mAh_g == pytest.approx(279.9, abs=0.2)


def test_final_split_equals_the_capacity_split_after_neutralisation():
    """Li1.2Ti0.4Mn0.4O2: Mn3+ (neutralised) -> Mn4+ first, then oxygen; split as `capacity`."""
    m = Model.build("O3", "Li", "5", tm_spec="Li:1/5,Ti:2/5,Mn:2/5")
    cm = ChargeModel(m)
    assert cm.oxidation["Mn"] == 3 and "Mn 4+ -> 3+" in cm.note
    cap = capacity(m)
    final = cm.state(cm.n_steps)
    assert final.cationic_mAh_g == pytest.approx(cap.cationic, abs=1e-6)
    assert final.anionic_mAh_g == pytest.approx(cap.anionic, abs=1e-6)
    labels = [cm.state(k).active_couple for k in range(1, cm.n_steps + 1)]
    first_o = next(i for i, lab in enumerate(labels) if "O2-/O-" in lab)
    assert set(labels[:first_o]) == {"Mn3+/Mn4+"}
    assert set(labels[first_o + 1:]) == {"O2-/O-"}


def test_labile_oxygen_is_oxidised_first():
    """Li[Li0.2Ni0.2Mn0.6]O2: O holes go to O with the most A-O-A' axes before any other O."""
    m = Model.build("O3", "Li", "5", tm_spec="Li:1/5,Ni:1/5,Mn:3/5", seed=4)
    env = OxygenEnvironments(m)
    aoa = np.zeros(m.supercell.n_sites)
    aoa[env.o_sites] = env.a_o_a
    cm = ChargeModel(m)
    order = []
    prev = set()
    for k in range(cm.n_steps + 1):
        cur = set(cm.state(k).oxidised_o.tolist())
        order += sorted(cur - prev)
        prev = cur
    counts = aoa[order]
    assert len(order) > 0 and np.all(np.diff(counts) <= 0)  # non-increasing labile count
    assert counts[0] == env.a_o_a.max()


def test_each_step_removes_the_cheapest_ion_and_places_the_cheapest_hole():
    """Brute force on a small cell: the chosen removal and hole minimise the fresh Ewald energy."""
    m = Model.build("O3", "Li", "4", tm_spec="Ni:1/2,Mn:1/2", seed=3)
    cm = ChargeModel(m)
    eng = ewald.get_engine(m.supercell)
    st1, st2 = cm.state(1), cm.state(2)
    cands = np.flatnonzero(st1.occupancy == CODE["Li"])
    e_remove = []
    for s in cands:
        q = st1.charges.copy()
        q[s] = 0.0
        e_remove.append(eng.energy(q))
    chosen = cm.removal_order[1]
    assert eng.energy(np.where(np.arange(len(q)) == chosen, 0.0, st1.charges)) == pytest.approx(min(e_remove), abs=1e-9)
    q_removed = st1.charges.copy()
    q_removed[chosen] = 0.0
    ni2 = np.flatnonzero((st1.occupancy == CODE["Ni"]) & (st1.charges == 2))
    e_hole = []
    for s in ni2:
        q = q_removed.copy()
        q[s] = 3.0
        e_hole.append(eng.energy(q))
    assert st2.energy_eV == pytest.approx(min(e_hole), abs=1e-9)


def test_removal_orders_and_alkali_layer_only():
    m = honeycomb_li2mno3("3")
    sc = m.supercell
    n_alk = int((m.occupancy[sc.alkali_sites] == CODE["Li"]).sum())
    n_tm = int((m.occupancy[sc.tm_sites] == CODE["Li"]).sum())
    cm = ChargeModel(m, order="alkali_layer")
    assert (sc.role[cm.removal_order[:n_alk]] != "tm").all()
    assert (sc.role[cm.removal_order[n_alk:]] == "tm").all()
    cm = ChargeModel(m, order="tm_layer")
    assert (sc.role[cm.removal_order[:n_tm]] == "tm").all()
    cm = ChargeModel(m, alkali_layer_only=True)
    assert cm.n_steps == n_alk
    assert cm.state(cm.n_steps).capacity_mAh_g == pytest.approx(capacity(m, alkali_layer_only=True).total)
    with pytest.raises(LayerStudioError):
        ChargeModel(m, order="random")


def test_state_by_x_and_bounds():
    m = Model.build("O3", "Li", "4", tm_spec="Co")
    cm = ChargeModel(m)
    assert cm.state(x=0.5).step == 8 and cm.state(x=0.5).x_removed == pytest.approx(0.5)
    assert cm.state(x=5).step == cm.n_steps
    with pytest.raises(LayerStudioError):
        cm.state(cm.n_steps + 1)


def test_charge_table_and_cli(tmp_path, capsys):
    from core.cli import main

    rows = charge_table(honeycomb_li2mno3("3"), steps=4)
    assert len(rows) == 5 and rows[0]["capacity_mAh_g"] == 0
    assert rows[-1]["anionic_mAh_g"] == pytest.approx(458.9, abs=0.2)
    path = tmp_path / "lmo.json"
    assert main(["build", "--tm", "Li:1/3,Mn:2/3", "--ordering", "honeycomb", "--supercell", "sqrt3",
                 "-o", str(path)]) == 0
    capsys.readouterr()
    assert main(["charge", str(path), "--steps", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["x_removed"] for r in out] == pytest.approx([0, 2 / 3, 4 / 3], abs=1e-4)
    assert out[-1]["active_couple"] == "O2-/O-"
    assert main(["charge", str(path), "--order", "tm_layer"]) == 0
    assert "O2-/O-" in capsys.readouterr().out


def test_one_state_on_12x12_takes_milliseconds():
    m = honeycomb_li2mno3("12")
    t0 = time.perf_counter()
    cm = ChargeModel(m)
    setup = time.perf_counter() - t0
    steps = np.linspace(0, cm.n_steps, 25).astype(int)
    t0 = time.perf_counter()
    for k in steps:
        cm.state(int(k))
    per_state = (time.perf_counter() - t0) / len(steps)
    print(f"\n12x12 Li2MnO3: {cm.n_steps} steps precomputed in {setup * 1e3:.0f} ms, "
          f"one state in {per_state * 1e3:.3f} ms")
    assert per_state < 0.02
