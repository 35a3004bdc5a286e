"""Li-O-Li / A-O-A' oxygen environments against docs/science.md §9 and the incremental update."""
import numpy as np
import pytest
from reference_models import li2mno3_by_hand

from core import Model
from core.analysis.oxygen import OxygenEnvironments, oxygen_summary
from core.structure.model import fill_random
from core.structure.species import CODE


def honeycomb_li2mno3(cell="sqrt3", layers=1):
    return li2mno3_by_hand(cell, layers)


def test_licoo2_has_no_li_o_li():
    m = Model.build("O3", "Li", "4", 3, tm_spec="Co")
    env = OxygenEnvironments(m)
    assert (env.li_o_li == 0).all() and (env.a_o_a == 0).all()
    s = oxygen_summary(m)
    assert s["li_o_li_histogram"] == [len(m.supercell.o_sites), 0, 0, 0]
    assert s["tm_to_O_ratio"] == pytest.approx(0.5)
    assert s["fraction_with_li_o_li"] == 0


@pytest.mark.parametrize("cell,layers", [("sqrt3", 1), ("6", 3)])
def test_li2mno3_honeycomb_has_exactly_one_li_o_li_per_o(cell, layers):
    m = honeycomb_li2mno3(cell, layers)
    assert m.formula() == "Li2MnO3"
    env = OxygenEnvironments(m)
    assert (env.li_o_li == 1).all()
    # the Li-O-Li axis runs through the TM-layer Li (the TM end of the axis)
    li_axes = (env.axis_species == CODE["Li"]).all(axis=2)
    assert (m.supercell.role[env.axis_sites[li_axes][:, 0]] == "tm").all()
    s = env.summary()
    assert s["tm_to_O_ratio"] == pytest.approx(1 / 3)
    assert s["li_o_li_mean_per_O"] == 1.0 and s["fraction_with_li_o_li"] == 1.0


def test_random_cation_disordered_li1p2_follows_p_squared():
    """Li1.2M0.8O2 as a cation-disordered rocksalt (docs/science.md §9): Li and M shuffled over
    BOTH the TM and the alkali layer (overall Li fraction p = 0.6); every axis has two random ends,
    so the mean number of Li-O-Li axes per O is 3 p^2 = 1.08."""
    m = Model.build("O3", "Li", "24", 3, tm_spec="Mn")
    cat = m.supercell.cation_sites
    n_li = int(0.6 * len(cat))
    fill_random(m.occupancy, cat, {CODE["Li"]: n_li, CODE["Mn"]: len(cat) - n_li}, np.random.default_rng(7))
    s = oxygen_summary(m)
    assert s["li_o_li_mean_per_O"] == pytest.approx(3 * 0.6 ** 2, rel=0.03)
    # binomial histogram over the three axes, P(k) = C(3,k) q^k (1-q)^(3-k), q = p^2
    q = 0.36
    expected = np.array([(1 - q) ** 3, 3 * q * (1 - q) ** 2, 3 * q * q * (1 - q), q ** 3])
    assert np.allclose(np.array(s["li_o_li_histogram"]) / len(m.supercell.o_sites), expected, atol=0.02)


def test_a_o_a_counts_vacancy_mg_and_na():
    m = Model.build("O3", "Li", "3", tm_spec="Co")
    env = OxygenEnvironments(m)
    pairs = env.axis_sites
    row = 0
    tm_end, alk_end = pairs[row, 0]
    m.apply([(tm_end, CODE["Mg"])])           # Mg-O-Li: A-O-A' but not Li-O-Li
    env.update([tm_end])
    assert env.a_o_a[row] >= 1 and env.li_o_li[row] == 0
    m.apply([(tm_end, CODE["Li"])])           # Li-O-Li
    env.update([tm_end])
    assert env.li_o_li[row] >= 1
    m.apply([(alk_end, CODE["Va"])])          # Li-O-vacancy: A-O-A' again, Li-O-Li gone on that axis
    env.update([alk_end])
    assert (env.axis_species[row, 0] == [CODE["Li"], CODE["Va"]]).all()
    fresh = OxygenEnvironments(m)
    assert np.array_equal(fresh.a_o_a, env.a_o_a) and np.array_equal(fresh.li_o_li, env.li_o_li)


@pytest.mark.parametrize("stacking,alkali", [("O3", "Li"), ("P2", "Na"), ("O2", "Li"), ("P3", "Na")])
def test_incremental_update_equals_fresh_computation(stacking, alkali):
    m = Model.build(stacking, alkali, "4", tm_spec="Li:1/4,Mn:3/4")
    env = OxygenEnvironments(m)
    env.attach()  # follows the model through its listener
    rng = np.random.default_rng(3)
    cat = m.supercell.cation_sites
    codes = [CODE[s] for s in ("Va", "Li", "Na", "Mg", "Mn", "Ni")]
    for _ in range(60):
        sites = rng.choice(cat, size=rng.integers(1, 4), replace=False)
        m.apply([(int(s), int(rng.choice(codes))) for s in sites])
    env.detach()
    fresh = OxygenEnvironments(m)
    assert np.array_equal(env.axis_species, fresh.axis_species)
    assert np.array_equal(env.li_o_li, fresh.li_o_li) and np.array_equal(env.a_o_a, fresh.a_o_a)
    assert env.summary() == fresh.summary()


def test_update_touches_only_the_oxygen_around_a_site():
    m = Model.build("O3", "Li", "6", 3, tm_spec="Co")
    env = OxygenEnvironments(m)
    site = m.supercell.tm_sites[10]
    rows = env.update([site])
    # an octahedral cation is the end of one axis of each of its six O
    assert sorted(env.o_sites[rows].tolist()) == sorted(m.supercell.cation_o[site].tolist())


def test_p2_axes_end_on_edge_sharing_prisms():
    """P2: the far end of every axis is a Na_e prism (nearest to linear), never a face-sharing Na_f."""
    m = Model.build("P2", "Na", "3", alkali_spec="Na:2/3", tm_spec="Ni:1/3,Mn:2/3")
    env = OxygenEnvironments(m)
    assert set(m.supercell.role[env.axis_sites[:, :, 1]].ravel()) == {"prism_e"}
    assert (env.axis_cos < -0.9).all()
