"""`gui.Studio` scripting API, and a seeded random session through it in which every entry of
`state()` (read from the widgets) equals what core computes from scratch for the displayed state.

From scratch means: a new EwaldEngine (not the cached one the window uses), recognise(), spglib with an
empty cache, capacity_summary(), oxygen_summary() on a detached copy of the displayed state.
"""
import json

import numpy as np
import pytest
from PySide6.QtCore import Qt

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
    # `layerstudio info --json` of the saved file and the window's readouts say the same
    import contextlib
    import io

    from core.cli import main
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["info", str(path), "--json"]) == 0
    d, r = json.loads(buf.getvalue()), s["readouts"]
    assert (d["formula"], d["layer_formula"], d["ordering"]["label"]) == (r["formula"], r["layer_formula"],
                                                                         r["ordering_label"])
    assert d["space_group"]["number"] == r["space_group"]["number"]
    assert d["ewald_eV_per_MO2"] == pytest.approx(r["ewald_eV_per_MO2"], abs=1e-7)
    assert d["capacity_mAh_g"] == r["capacity_mAh_g"] and d["net_charge"] == r["net_charge"]
    assert d["oxygen"]["li_o_li_histogram"] == r["oxygen"]["histogram"]
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


SCREEN_SPEC = """
[grid]
tm = ["Li:1/3,Mn:2/3", "Mg:1/3,Mn:2/3"]
supercell = ["sqrt3", "3"]
ordering = ["honeycomb"]
seed = [3]
"""


@pytest.fixture(scope="module")
def screening(tmp_path_factory):
    """A small `layerstudio screen` output: four models, each on its own supercell."""
    from core.screen import parse_spec_text, run_screen
    out = tmp_path_factory.mktemp("screen") / "out"
    assert run_screen(parse_spec_text(SCREEN_SPEC), out)["failed"] == 0
    return out


def _click_row(qtbot, table, row):
    rect = table.visualRect(table.model().index(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.LeftButton, pos=rect.center())


@pytest.mark.slow
def test_random_session_state_equals_core(studio, screening, qtbot, tmp_path):
    """Opens, layer switches, paints, presets, undo/redo, snapshots, and previews of the four kinds
    (Monte Carlo candidate, state of charge, snapshot, screening result on another supercell): after
    every step `state()` describes the displayed state, and its readouts equal core from scratch."""
    from core.io.project import load_project
    from gui.panels.charge_panel import species_mean_oxidation
    from gui.panels.screen_panel import open_screening_results

    st = studio
    rng = np.random.default_rng(20261130)
    panels = st.window.panels
    mc = panels.mc
    files = []
    for k, preset in enumerate(("honeycomb", "random")):
        st.apply_preset(preset, seed=k)
        files.append(tmp_path / f"f{k}.json")
        st.save(files[-1])
    screen = open_screening_results(st.window, str(screening))
    taken: list[tuple[np.ndarray, dict]] = []   # the states snapshots were taken of, recorded here
    n_ops = 60
    counts: dict[str, int] = {}
    preview = None        # (kind, model, per-site charges or None) expected on screen
    for step in range(n_ops):
        before = (st.model, st.model.occupancy.copy(), dict(st.model.oxidation))
        op = str(rng.choice(["open", "layer", "paint", "paint", "preset", "undo", "redo", "snapshot",
                             "charge", "mc", "show_snapshot", "screen"]))
        counts[op] = counts.get(op, 0) + 1
        shown_now = None
        if op == "open":
            st.open(files[rng.integers(len(files))])
            taken = []
        elif op == "layer":
            kind = ["tm", "alkali"][rng.integers(2)]
            st.set_layer(kind, int(rng.integers(1, st.window.document.displayed_model.supercell.layers + 1)))
        elif op == "paint":
            sites = rng.choice(st.model.supercell.n_sites, size=int(rng.integers(1, 4)), replace=False)
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
        elif op == "snapshot":
            undo_before = st.state()["undo"]
            panels.snapshots.take()
            taken.append((st.model.occupancy.copy(), dict(st.model.oxidation)))
            assert st.state()["undo"] == undo_before      # taking a snapshot is not an edit
        elif op == "charge":
            # a state of charge: the charge panel on screen, its slider moved
            panels.show_dock("charge")
            st.wait_idle()
            cm = panels.charge.cm
            if cm is not None and cm.n_steps > 0:
                k = int(rng.integers(1, cm.n_steps + 1))
                panels.charge.slider.setValue(k)
                state = cm.state(k)
                shown_now = ("charge", with_state(st.model, state.occupancy,
                                                  {**st.model.oxidation, **species_mean_oxidation(state)}),
                             state.charges)
        elif op == "mc":
            # a Monte Carlo candidate: run a short search (once per document), select one of its results
            panels.show_dock("mc")
            if not mc.best:
                mc.sweeps.setValue(30)
                qtbot.mouseClick(mc.start_btn, Qt.LeftButton)
                qtbot.waitUntil(lambda: not mc.running(), timeout=120000)
                st.wait_idle()
            if mc.best:
                k = int(rng.integers(len(mc.best)))
                mc.results.setCurrentRow(-1)
                mc.results.setCurrentRow(k)
                shown_now = ("mc", with_state(st.model, mc.best[k][1]), None)
        elif op == "show_snapshot":
            panels.show_dock("snapshots")
            if taken:
                k = int(rng.integers(len(taken)))
                panels.snapshots.list.setCurrentRow(k)
                qtbot.mouseClick(panels.snapshots.preview_btn, Qt.LeftButton)
                occ, ox = taken[k]
                shown_now = ("snapshot", Model(st.model.supercell, occ.copy(), dict(ox)), None)
        elif op == "screen":
            dock = st.window.docks["screen_results"]
            dock.show()
            dock.raise_()
            st.wait_idle()
            row = int(rng.integers(screen.model.n))
            _click_row(qtbot, screen.table, screen.proxy.mapFromSource(screen.model.index(row, 0)).row())
            shown_now = ("screen", load_project(screening / screen.model.value(row, "model_path")), None)
        st.wait_idle()
        changed = (st.model is not before[0] or not np.array_equal(st.model.occupancy, before[1])
                   or st.model.oxidation != before[2])
        if shown_now is not None:
            preview = shown_now
        elif changed or (preview is not None and st.window.document.preview is None):
            preview = None   # any change of the document ends a preview (a covered screening dock too)
        s = st.state()
        where = f"step {step} {op}"
        if preview is None:
            assert s["displayed"] == "document" and s["preview"] is None, where
            check_state(st, st.model, where=where)
        else:
            kind, model, charges = preview
            assert s["displayed"] == kind == s["preview"]["kind"], where
            assert s["preview"]["n_sites"] == model.supercell.n_sites, where
            assert np.array_equal(st.window.layer_view.model.occupancy, model.occupancy), where
            check_state(st, model, charges, where=where)
            counts[f"checked_{kind}"] = counts.get(f"checked_{kind}", 0) + 1
        sc = s["state_of_charge"]
        if sc is not None:   # the panel shows the charge model of the current document, built from scratch here
            from core.analysis.charge import ChargeModel
            cm = ChargeModel(st.model.copy(), order=panels.charge.order.currentData())
            ref = cm.state(sc["step"])
            assert sc["n_steps"] == cm.n_steps, where
            assert sc["ewald_eV_per_MO2"] == pytest.approx(ref.energy_eV / cm.formula_units, abs=1e-7)
            assert sc["capacity_mAh_g"]["total"] == pytest.approx(ref.capacity_mAh_g, abs=1e-9)
    need = ("open", "layer", "paint", "preset", "undo", "redo", "snapshot",
            "checked_charge", "checked_mc", "checked_snapshot", "checked_screen")
    assert all(counts.get(k) for k in need), counts
