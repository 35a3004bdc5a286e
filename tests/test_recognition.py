"""recognise(): labels of every preset, disordered random cells, near-perfect painted orderings, speed."""
import time

import pytest

from core.orderings import preset_occupancy
from core.orderings.recognition import LABELS, recognise
from core.structure.model import Model
from core.structure.species import CODE


def _model(name, stacking="O3", cell="12x12", layers=None, tm="Li:1/3,Mn:2/3", alkali=None, **kw):
    m = Model.build(stacking, "Li" if stacking[0] == "O" else "Na", cell, layers=layers, tm_spec=tm,
                    alkali_spec=alkali, seed=1)
    m.set_occupancy(preset_occupancy(m, name, **kw))
    return m


@pytest.mark.parametrize("name,kw,label", [
    ("honeycomb", {}, "honeycomb"),
    ("honeycomb", {"stacking": "O3", "layers": 3, "tm": "Ni:1/3,Mn:2/3"}, "honeycomb"),
    ("honeycomb", {"stacking": "P2", "cell": "6x6", "tm": "Mg:1/3,Mn:2/3", "alkali": "Na:2/3"}, "honeycomb"),
    ("ribbon", {"cell": "10x10", "tm": "Li:1/5,Mn:4/5"}, "ribbon"),
    ("flower", {"tm": "Ni:1/2,Mn:1/2"}, "flower"),
    ("zigzag", {"tm": "Ni:1/2,Mn:1/2"}, "zigzag"),
    ("stripe", {"tm": "Ni:1/2,Mn:1/2"}, "stripe"),
])
def test_presets_are_recognised(name, kw, label):
    r = recognise(_model(name, **kw))
    assert r["label"] == label and r["confidence"] == pytest.approx(1.0)
    assert set(r["motif_scores"]) <= set(LABELS)


@pytest.mark.parametrize("tm,cell", [("Li:1/3,Mn:2/3", "12x12"), ("Ni:1/2,Mn:1/2", "12x12"),
                                     ("Li:1/5,Mn:4/5", "10x10")])
def test_random_cells_are_disordered(tm, cell):
    for seed in range(3):
        r = recognise(_model("random", cell=cell, tm=tm, seed=seed))
        assert r["label"] == "disordered", r


def test_honeycomb_statistics_and_warren_cowley():
    r = recognise(_model("honeycomb"))
    assert r["isolated_minority_fraction"] == 1.0
    assert r["neighbour_counts"]["Li"]["Mn"] == [0, 0, 0, 0, 0, 0, 48]
    assert r["mean_neighbours"]["Mn-Li"] == 3.0 and r["mean_neighbours"]["Mn-Mn"] == 3.0
    # shell 1: no Li-Li pairs, alpha = 1 - 0 / (1/3) = 1; shell 2 (sqrt3 a): all Li-Li, 1 - 1/(1/3) = -2
    assert r["warren_cowley"]["Li-Li"][:2] == pytest.approx([1.0, -2.0])
    assert r["composition"] == pytest.approx({"Li": 1 / 3, "Mn": 2 / 3})


def test_one_misplaced_pair_lowers_confidence_a_little():
    m = _model("honeycomb", cell="24x24")
    sc = m.supercell
    li = sc.tm_sites[m.occupancy[sc.tm_sites] == CODE["Li"]][0]
    mn = sc.tm_sites[m.occupancy[sc.tm_sites] == CODE["Mn"]][100]
    m.apply([(li, CODE["Mn"]), (mn, CODE["Li"])])
    r = recognise(m)
    assert r["label"] == "honeycomb" and 0.9 < r["confidence"] < 1.0
    # a single stray species painted in does not hijack the minority
    m.apply([(sc.tm_sites[5], CODE["Ni"])])
    assert recognise(m)["minority"] == "Li"


def test_layer_selection_and_single_species():
    m = _model("honeycomb", layers=3, cell="6x6")
    assert recognise(m, layer=1)["n_sites"] == 36
    m2 = Model.build("O3", "Li", "4x4", tm_spec="Co")
    assert recognise(m2)["label"] == "other"


def test_fast_enough_for_every_click():
    m = _model("honeycomb", cell="24x24")
    recognise(m)
    t = time.perf_counter()
    for _ in range(20):
        recognise(m)
    assert (time.perf_counter() - t) / 20 < 0.010   # about 1 ms on an idle core


def test_ring_centres_are_the_isolated_minority_of_a_honeycomb():
    """docs/science.md §2: in the ideal honeycomb every Li has six Mn neighbours (a LiMn6 ring);
    one Li swapped onto a Mn site breaks the rings around it."""
    from reference_models import li2mno3_by_hand

    from core.orderings.recognition import ring_centres
    m = li2mno3_by_hand("6", 1)
    tm = m.supercell.tm_sites
    li = tm[m.occupancy[tm] == CODE["Li"]]
    assert set(ring_centres(m, tm)) == set(li)
    mn_nb = m.supercell.tm_nn[li[0]][0]        # a Mn neighbour of the first Li
    m.apply([(int(li[0]), CODE["Mn"]), (int(mn_nb), CODE["Li"])])
    centres = set(ring_centres(m, tm))
    assert int(li[0]) not in centres and int(mn_nb) not in centres
    assert len(centres) < len(li)
