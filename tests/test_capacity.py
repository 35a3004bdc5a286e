"""Theoretical capacity and its cationic/anionic split against docs/science.md §8, and the
oxidation-state neutralisation."""
import math

import numpy as np
import pytest

from core import Model
from core.analysis.capacity import capacity, capacity_summary, neutralise_oxidation_states
from core.errors import LayerStudioError, OxidationStateError

F = 96485.33212
NA = 6.02214076e23

# docs/science.md §8: compound, build arguments, M (g/mol per formula), n, Q total, cationic, anionic
TABLE = [
    ("LiCoO2", ("O3", "Li", "1", None, "Co"), 97.873, 1, 273.8, 273.8, 0.0),
    ("LiNiO2", ("O3", "Li", "1", None, "Ni"), 97.633, 1, 274.5, 274.5, 0.0),
    ("LiNi0.5Mn0.5O2", ("O3", "Li", "2", None, "Ni:1/2,Mn:1/2"), 95.756, 1, 279.9, 279.9, 0.0),
    ("Li2MnO3", ("O3", "Li", "sqrt3", None, "Li:1/3,Mn:2/3"), 116.818, 2, 458.9, 0.0, 458.9),
    ("Na2/3Mg1/3Mn2/3O2", ("P2", "Na", "sqrt3", "Na:2/3", "Mg:1/3,Mn:2/3"), 92.052, 2 / 3, 194.1, 0.0, 194.1),
    ("Na2/3Ni1/3Mn2/3O2", ("P2", "Na", "sqrt3", "Na:2/3", "Ni:1/3,Mn:2/3"), 103.515, 2 / 3, 172.6, 172.6, 0.0),
]


def build(args):
    st, alk, cell, aspec, tspec = args
    return Model.build(st, alk, cell, alkali_spec=aspec, tm_spec=tspec)


@pytest.mark.parametrize("name,args,M,n,q,qc,qa", TABLE, ids=[t[0] for t in TABLE])
def test_reference_capacity_table(name, args, M, n, q, qc, qa):
    cap = capacity(build(args))
    assert cap.total == pytest.approx(q, abs=0.2)
    assert cap.cationic == pytest.approx(qc, abs=0.2)
    assert cap.anionic == pytest.approx(qa, abs=0.2)
    # molar mass per 2 O scaled to the reference formula unit (n_ref / n per 2 O)
    assert cap.molar_mass * n / cap.n_alkali == pytest.approx(M, abs=0.01)
    assert cap.cationic + cap.anionic == pytest.approx(cap.total)


def test_reference_oxidation_states_used():
    """Na2/3Ni1/3Mn2/3O2 keeps Ni2+/Mn4+, LiNi0.5Mn0.5O2 Ni2+/Mn4+, LiNiO2 becomes Ni3+."""
    assert capacity(build(TABLE[5][1])).oxidation == {"Na": 1, "Ni": 2, "Mn": 4, "O": -2}
    assert capacity(build(TABLE[2][1])).oxidation == {"Li": 1, "Ni": 2, "Mn": 4, "O": -2}
    s = capacity_summary(build(TABLE[1][1]))
    assert s["oxidation_states"]["Ni"] == 3
    assert "Ni 2+ -> 3+" in s["oxidation_note"]
    assert set(s["capacity_mAh_g"]) == {"total", "cationic", "anionic"}


def test_volumetric_capacity_from_lattice():
    """LiCoO2: density from a = 2.8156, c = 14.0542 Angstrom (Z = 3 per hexagonal cell) x 273.8 mAh/g."""
    m = Model.build("O3", "Li", "2", 3, tm_spec="Co")
    v_hex = math.sqrt(3) / 2 * 2.8156 ** 2 * 14.0542 * 1e-24  # cm3
    density = 3 * (6.94 + 58.933194 + 2 * 15.999) / NA / v_hex
    assert density == pytest.approx(5.05, abs=0.01)  # known X-ray density of LiCoO2
    assert capacity(m).total_mAh_cm3 == pytest.approx(273.84 * density, rel=1e-3)


def test_alkali_layer_only_switch():
    """Li[Li1/3Mn2/3]O2: 1 Li per 2 O in the alkali layer, 4/3 in all."""
    m = build(TABLE[3][1])
    M = 4 / 3 * 6.94 + 2 / 3 * 54.938043 + 2 * 15.999
    assert capacity(m, alkali_layer_only=True).total == pytest.approx(F / (3.6 * M), abs=0.05)
    assert capacity(m).total == pytest.approx(4 / 3 * F / (3.6 * M), abs=0.05)


def test_max_oxidation_override_moves_capacity_to_oxygen():
    m = build(TABLE[2][1])  # LiNi0.5Mn0.5O2: Ni2+ -> Ni4+ gives exactly 1 e per 2 O
    cap = capacity(m, max_oxidation={"Ni": 3})
    assert cap.cationic == pytest.approx(279.9 / 2, abs=0.1)
    assert cap.anionic == pytest.approx(279.9 / 2, abs=0.1)
    with pytest.raises(LayerStudioError):
        capacity(m, max_oxidation={"Li": 2})


def test_neutralise_reduces_mn_in_li_excess_titanate():
    m = Model.build("O3", "Li", "5", alkali_spec="Li", tm_spec="Li:1/5,Ti:2/5,Mn:2/5")
    assert m.net_charge == pytest.approx(0.4 * m.formula_units())  # formal Mn4+ leaves it positive
    table, msg = neutralise_oxidation_states(m)
    assert table["Mn"] == 3 and table["Ti"] == 4
    assert "Mn 4+ -> 3+" in msg
    m.oxidation = table
    assert m.net_charge == pytest.approx(0.0)


def test_neutralise_fractional_average_and_neutral_noop():
    m = Model.build("O3", "Li", "10", tm_spec="Ni:4/5,Mn:1/10,Co:1/10")  # NMC811
    table, _ = neutralise_oxidation_states(m)
    # 1 + 0.8 x + 0.3 + 0.4 = 4  ->  x = 2.875, Co and Mn untouched
    assert table["Ni"] == pytest.approx(2.875) and table["Co"] == 3 and table["Mn"] == 4
    table, msg = neutralise_oxidation_states(build(TABLE[0][1]))
    assert table["Co"] == 3 and "nothing changed" in msg


def test_neutralise_impossible_is_a_clear_error():
    m = Model.build("O3", "Li", "1", tm_spec="Mg")
    with pytest.raises(OxidationStateError, match="cannot make LiMgO2 neutral"):
        neutralise_oxidation_states(m)
    # the capacity readout still works and says why the states were kept
    assert "warning" in capacity_summary(m)["oxidation_note"]


def test_capacity_counts_tm_in_alkali_layer_as_redox_active():
    """Ni2+ swapped into the Li layer (antisite) still oxidises: the cationic part stays 1 e per 2 O."""
    m = Model.build("O3", "Li", "4", tm_spec="Ni:1/2,Mn:1/2")
    sc = m.supercell
    li = sc.alkali_sites[0]
    ni = sc.tm_sites[np.flatnonzero(m.occupancy[sc.tm_sites] == 4)[0]]
    m.apply([(li, 4), (ni, 1)])
    cap = capacity(m)
    assert cap.n_alkali == pytest.approx(1.0) and cap.n_cationic == pytest.approx(1.0)


def test_info_json_gains_capacity_and_oxygen_keys(tmp_path, capsys):
    import json

    from core.cli import main

    path = tmp_path / "lno.json"
    assert main(["build", "--tm", "Ni", "--supercell", "2", "-o", str(path)]) == 0
    capsys.readouterr()
    assert main(["info", "--json", str(path)]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["capacity_mAh_g"]["total"] == pytest.approx(274.5, abs=0.2)
    assert d["capacity_mAh_g"]["cationic"] == pytest.approx(274.5, abs=0.2)
    assert d["capacity_mAh_g"]["anionic"] == pytest.approx(0, abs=1e-9)
    assert d["capacity_mAh_cm3"] > 0
    # built neutral: every Ni is a Ni3+ occupant, counted per state with the average
    assert d["oxidation_states"] == {"Li": {"counts": {"Li+": 4}, "average": 1.0},
                                     "Ni": {"counts": {"Ni3+": 4}, "average": 3.0},
                                     "O": {"counts": {"O2-": 8}, "average": -2.0}}
    assert d["net_charge"] == 0
    assert set(d["oxygen"]) == {"li_o_li_histogram", "li_o_li_mean_per_O", "a_o_a_mean_per_O", "tm_to_O_ratio"}
    assert d["oxygen"]["li_o_li_histogram"] == [8, 0, 0, 0]
