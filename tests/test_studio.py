"""`gui.Studio` scripting API, and a seeded random session through it in which every entry of
`state()` (read from the widgets) equals what core computes from scratch for the displayed state.

From scratch means: a new EwaldEngine (not the cached one the window uses), recognise(), spglib with an
empty cache, capacity_summary(), oxygen_summary() on a detached copy of the displayed state.
"""
import json

import numpy as np
import pytest

from core.analysis.snapshots import with_state
from core.structure.model import Model
from core.structure.species import CODE, VACANCY

PAINT = ["Li", "Mn", "Ni", "Co", "Va"]
PRESETS = ["honeycomb", "random", "zigzag"]


def expected_readouts(model: Model, charges=None) -> dict:
    """The readouts of `model` (per-site `charges` if the state has holes on particular ions) from scratch."""
    from core.analysis.capacity import capacity_summary
    from core.analysis.oxygen import oxygen_summary
    from core.energy.ewald import EwaldEngine
    from core.errors import LayerStudioError
    from core.orderings.recognition import recognise
    from core.structure.symmetry import clear_cache, space_group

    q = model.charges() if charges is None else charges
    fu = model.formula_units()
    try:
        cap = capacity_summary(model)["capacity_mAh_g"]
        cap = {k: cap[k] for k in ("total", "cationic", "anionic")}
    except LayerStudioError:
        cap = None
    clear_cache()
    sg = space_group(model)
    r = recognise(model)
    ox = oxygen_summary(model)
    return {"formula": model.formula(), "layer_formula": model.layer_formula(),
            "ewald_eV_per_MO2": EwaldEngine(model.supercell).energy(q) / fu,
            "net_charge": float(np.sum(q)), "capacity_mAh_g": cap,
            "ordering_label": r["label"], "ordering_confidence": r.get("confidence"),
            "space_group": {"symbol": sg.symbol, "number": sg.number},
            "li_o_li_mean": ox["li_o_li_mean_per_O"], "histogram": list(ox["li_o_li_histogram"])}


def check_state(st, model, charges=None, where=""):
    s = st.state()
    json.dumps(s)   # JSON-serialisable
    got, want = s["readouts"], expected_readouts(model, charges)
    assert s["layer_shown"] == s["layer_selected"], where
    for key in ("formula", "layer_formula", "ordering_label", "space_group"):
        assert got[key] == want[key], f"{where}: {key} {got[key]} != {want[key]}"
    for key in ("ewald_eV_per_MO2", "net_charge", "ordering_confidence"):
        assert got[key] == pytest.approx(want[key], abs=1e-7), f"{where}: {key}"
    if want["capacity_mAh_g"] is None:
        assert got["capacity_mAh_g"] is None, where
    else:
        for k, v in want["capacity_mAh_g"].items():
            assert got["capacity_mAh_g"][k] == pytest.approx(v, abs=1e-6), f"{where}: capacity {k}"
    assert got["oxygen"]["li_o_li_mean"] == pytest.approx(want["li_o_li_mean"], abs=1e-6), where
    if want["histogram"] is not None and len(want["histogram"]) == len(got["oxygen"]["histogram"]):
        assert got["oxygen"]["histogram"] == want["histogram"], where
    return s


@pytest.fixture
def studio(qtbot, isolated_settings, messages):
    from gui import Studio
    st = Studio(model=Model.build("O3", "Li", "3", layers=2, tm_spec="Li:1/3,Mn:2/3", seed=1))
    qtbot.addWidget(st.window, before_close_func=lambda win: win.document.mark_saved())
    yield st
    st.close()


def test_studio_api_round_trip(studio, tmp_path):
    st = studio
    st.set_layer("alkali", 2)
    assert st.state()["layer_shown"] == ["alkali", 2] == st.state()["layer_selected"]
    li = np.flatnonzero(st.model.supercell.role == "alkali")[:2]
    st.paint(li, "Va")
    assert np.all(st.model.occupancy[li] == VACANCY)
    st.wait_idle()
    check_state(st, st.model, where="after paint")
    st.undo()
    assert np.all(st.model.occupancy[li] == CODE["Li"])
    st.redo()
    st.undo()
    st.apply_preset("honeycomb")
    st.wait_idle()
    s = check_state(st, st.model, where="honeycomb")
    assert s["readouts"]["space_group"]["number"] == 12    # C2/m, Li2MnO3 (Strobel & Lambert-Andron 1988)
    path = tmp_path / "s.json"
    st.save(path)
    st.paint([int(np.flatnonzero(st.model.supercell.role == "tm")[0])], "Ni")
    st.open(path)
    assert st.state()["undo"]["can_undo"] is False
    check_state(st, st.model, where="after open")
    png = st.screenshot(tmp_path / "w.png")
    assert png.stat().st_size > 1000
    from core.errors import LayerStudioError
    with pytest.raises(LayerStudioError):
        st.open(tmp_path / "missing.json")
    with pytest.raises(LayerStudioError):
        st.set_layer("tm", 9)


@pytest.mark.slow
def test_random_session_state_equals_core(studio, tmp_path):
    from gui.panels import snapshots as snap

    st = studio
    rng = np.random.default_rng(20261130)
    panels = st.window.panels
    files = []
    for k, preset in enumerate(("honeycomb", "random")):
        st.apply_preset(preset, seed=k)
        files.append(tmp_path / f"f{k}.json")
        st.save(files[-1])
    n_ops = 40
    counts = {}
    preview = None        # (model, per-site charges) of the state-of-charge preview on screen
    for step in range(n_ops):
        before = (st.model, st.model.occupancy.copy(), dict(st.model.oxidation))
        op = rng.choice(["open", "layer", "paint", "paint", "preset", "undo", "redo", "preview", "snapshot"])
        counts[op] = counts.get(op, 0) + 1
        if op == "open":
            st.open(files[rng.integers(len(files))])
        elif op == "layer":
            kind = ["tm", "alkali"][rng.integers(2)]
            st.set_layer(kind, int(rng.integers(1, st.model.supercell.layers + 1)))
        elif op == "paint":
            layer_sites = st.window.layer_view.site_indices if hasattr(st.window.layer_view, "site_indices") \
                else np.arange(st.model.supercell.n_sites)
            sites = rng.choice(np.asarray(layer_sites), size=int(rng.integers(1, 4)), replace=False)
            sites = [int(s) for s in sites if st.model.supercell.role[s] != "O"]
            if sites:
                st.paint(sites, PAINT[rng.integers(len(PAINT))])
        elif op == "preset":
            try:
                st.apply_preset(PRESETS[rng.integers(len(PRESETS))], seed=int(rng.integers(100)))
            except Exception:  # a preset that does not fit the current composition: one clear error
                pass
        elif op == "undo":
            st.undo()
        elif op == "redo":
            st.redo()
        elif op == "preview":
            # a state-of-charge preview: the charge panel on screen, its slider moved
            panels.show_dock("charge")
            st.wait_idle()
            cm = panels.charge.cm
            if cm is not None and cm.n_steps > 0:
                k = int(rng.integers(1, cm.n_steps + 1))
                panels.charge.slider.setValue(k)
                state = cm.state(k)
                from gui.panels.charge_panel import species_mean_oxidation
                preview = (with_state(st.model, state.occupancy,
                                      {**st.model.oxidation, **species_mean_oxidation(state)}), state.charges)
        elif op == "snapshot":
            if rng.random() < 0.5 or not snap.snapshots(st.model):
                undo_before = st.state()["undo"]
                panels.snapshots.take()
                assert st.state()["undo"] == undo_before      # taking a snapshot is not an edit
            else:
                panels.snapshots.go(int(rng.integers(len(snap.snapshots(st.model)))))
        st.wait_idle()
        changed = (st.model is not before[0] or not np.array_equal(st.model.occupancy, before[1])
                   or st.model.oxidation != before[2])
        if changed:       # any change of the document ends a preview; nothing else does
            preview = None
        shown, charges = preview if preview is not None else (st.model, None)
        s = check_state(st, shown, charges, where=f"step {step} {op}")
        assert s["displayed"] == ("charge" if preview is not None else "document")
        counts["checked_preview"] = counts.get("checked_preview", 0) + (preview is not None)
        sc = s["state_of_charge"]
        if sc is not None:   # the panel shows the charge model of the current document, built from scratch here
            from core.analysis.charge import ChargeModel
            cm = ChargeModel(st.model.copy(), order=panels.charge.order.currentData())
            ref = cm.state(sc["step"])
            assert sc["n_steps"] == cm.n_steps, f"step {step} {op}"
            assert sc["ewald_eV_per_MO2"] == pytest.approx(ref.energy_eV / cm.formula_units, abs=1e-7)
            assert sc["capacity_mAh_g"]["total"] == pytest.approx(ref.capacity_mAh_g, abs=1e-9)
    assert all(counts.get(k) for k in ("open", "layer", "paint", "preset", "undo", "redo", "preview",
                                       "snapshot", "checked_preview")), counts
