"""Oxidation states in the window, with real clicks: place Ni3+ from the palette, change it to Ni2+ with
the right-click menu, readouts (net charge, states, energy) follow; neutralise as one undo step."""
from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import assert_close, click_site, drag_sites, fresh_energy, make_window, neighbour_path, wait_engine
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from core.structure.model import Model
from core.structure.species import CODE


def _menu_action(menu, text):
    for act in menu.actions():
        if act.text() == text:
            return act
        if act.menu() is not None:
            found = _menu_action(act.menu(), text)
            if found is not None:
                return found
    return None


@pytest.mark.slow
def test_place_ni3_then_right_click_to_ni2_readouts_follow(qtbot, isolated_settings, messages, monkeypatch):
    from gui import editing

    model = Model.build("O3", "Li", "3", 1, tm_spec="Co", seed=0)  # LiCoO2: neutral with Co3+
    w = make_window(qtbot, model)
    wait_engine(qtbot, w)
    view = w.layer_view
    site = int(view.sites[4])
    assert model.occupancy[site] == CODE["Co"]

    # the palette lists the oxidation states: a real click on its Ni3+ button, then on the site
    button = w.palette.buttons[CODE["Ni3+"]]
    assert button.text() == "Ni3+"
    qtbot.mouseClick(button, Qt.LeftButton)
    assert w.palette.species() == CODE["Ni3+"]
    click_site(qtbot, view, site)
    assert model.occupancy[site] == CODE["Ni3+"]
    QApplication.processEvents()
    assert w.readouts.lab_charge.text() == "0 (neutral)"          # Co3+ -> Ni3+ keeps the balance
    qtbot.waitUntil(lambda: "1 Ni3+" in w.readouts.lab_states.text(), timeout=3000)
    assert_close(w.readouts.energy_eV, fresh_energy(model))

    # a real right click opens the site menu; "Set oxidation state" offers the Ni states
    shown = []
    monkeypatch.setattr(editing, "popup_menu", lambda menu, pos: shown.append(menu))
    click_site(qtbot, view, site, button=Qt.RightButton)
    assert shown
    sub = next(a.menu() for a in shown[-1].actions() if a.text() == "Set oxidation state")
    labels = [a.text() for a in sub.actions()]
    assert {"Ni2+", "Ni3+", "Ni4+"} <= set(labels)
    _menu_action(sub, "Ni2+").trigger()
    assert model.occupancy[site] == CODE["Ni2+"]
    assert "oxidation state" in w.document.undo_stack.undoText()
    QApplication.processEvents()
    # one Ni3+ -> Ni2+: the cell is 1 e short, and the readouts say so and how to fix it
    qtbot.waitUntil(lambda: "-1.000 e" in w.readouts.lab_charge.text(), timeout=3000)
    qtbot.waitUntil(lambda: "1 Ni2+" in w.readouts.lab_states.text(), timeout=3000)
    assert "To neutralise" in w.readouts.lab_states.text()
    assert_close(w.readouts.energy_eV, fresh_energy(model))

    # Neutralise from the same menu: one undo step, back to zero net charge
    n = w.document.undo_stack.count()
    click_site(qtbot, view, site, button=Qt.RightButton)
    sub = next(a.menu() for a in shown[-1].actions() if a.text() == "Set oxidation state")
    _menu_action(sub, "Neutralise the model (redox ladder)").trigger()
    QApplication.processEvents()
    assert abs(model.net_charge) < 1e-9 and w.document.undo_stack.count() == n + 1
    qtbot.waitUntil(lambda: w.readouts.lab_charge.text() == "0 (neutral)", timeout=3000)
    assert_close(w.readouts.energy_eV, fresh_energy(model))
    w.document.undo_stack.undo()
    assert model.occupancy[site] == CODE["Ni2+"] and abs(model.net_charge + 1) < 1e-9


@pytest.mark.slow
def test_file_export_for_dft(qtbot, isolated_settings, messages, tmp_path):
    """File > Export for DFT runs Monte Carlo in a worker and writes the lowest configurations (smallest
    cells with oxidation states), their VASP inputs and summary.csv."""
    import csv

    from gui_helpers import wait_idle

    model = Model.build("O3", "Li", "4", 1, tm_spec="Ni:1/2,Mn:1/2", seed=0)
    w = make_window(qtbot, model)
    assert any(a.text() == "Export for &DFT…" for a in w.menus["file"].actions())
    w.files.export_dft_to(str(tmp_path), n=2, sweeps=20)
    wait_idle(qtbot, w)
    qtbot.waitUntil(lambda: (tmp_path / "summary.csv").exists(), timeout=20000)
    rows = list(csv.DictReader((tmp_path / "summary.csv").open()))
    assert 1 <= len(rows) <= 2
    assert (tmp_path / "rank_01.cif").exists() and (tmp_path / "rank_01_vasp" / "INCAR").exists()
    assert "Ni2+" in (tmp_path / "rank_01.cif").read_text()


def test_new_model_dialog_lattice_follows_composition(qtbot, isolated_settings):
    """Typing LiNiO2's TM layer moves a and c to LiNiO2's lattice (a 2.878, c 14.19 Angstrom); the
    source is shown; untouched estimates reach the model with their source."""
    from gui.dialogs import NewModelDialog, build_model

    dlg = NewModelDialog(defaults={"supercell": "2", "layers": 1, "ordering": "random", "tm_spec": "Co"})
    qtbot.addWidget(dlg)
    assert abs(dlg.a.value() - 2.8156) < 1e-4
    dlg.tm_spec.setText("Ni")
    assert abs(dlg.a.value() - 2.878) < 1e-4 and abs(dlg.c.value() - 14.19) < 1e-3
    assert "LiNiO2" in dlg.lattice_source.text()
    m = build_model(dlg.params())
    assert "LiNiO2" in m.metadata["lattice_source"]["a"]
    assert abs(m.net_charge) < 1e-9 and m.species_counts()["Ni3+"] == 4   # built neutral
    dlg.a.setValue(2.9)                                                  # an edited value is the user's
    assert build_model(dlg.params()).metadata["lattice_source"]["a"] == "user"


def test_click_li_on_tm_site_keeps_model_neutral_one_undo_step(qtbot, isolated_settings, messages):
    """Edit > Keep the model neutral (default on): a real click placing Li+ on a Mn4+ site of
    LiNi0.5Mn0.5O2 also turns three Ni2+ into Ni3+ in the same undo step; readouts show a neutral cell
    whose energy equals a fresh engine's; Ctrl+Z restores the occupancy exactly; toggled off, the
    same click leaves the cell charged (-3 e) and the setting is remembered."""
    from gui import settings
    from gui.editing import KEEP_NEUTRAL_SETTING

    model = Model.build("O3", "Li", "4", 1, tm_spec="Ni:1/2,Mn:1/2", seed=0)
    w = make_window(qtbot, model)
    wait_engine(qtbot, w)
    assert w.act_keep_neutral.isChecked() and w.act_keep_neutral in w.menus["edit"].actions()
    view = w.layer_view
    site = next(int(s) for s in view.sites if model.occupancy[s] == CODE["Mn"])
    before = model.occupancy.copy()
    qtbot.mouseClick(w.palette.buttons[CODE["Li"]], Qt.LeftButton)
    n = w.document.undo_stack.count()
    click_site(qtbot, view, site)
    QApplication.processEvents()
    assert model.occupancy[site] == CODE["Li"] and w.document.undo_stack.count() == n + 1
    changed = np.flatnonzero(model.occupancy != before)
    assert len(changed) == 4 and (model.occupancy[changed] == CODE["Ni3+"]).sum() == 3
    assert abs(model.net_charge) < 1e-9
    assert "neutralised: 3 Ni2+ -> Ni3+" in w.statusBar().currentMessage()
    assert "neutralised" in w.document.undo_stack.undoText()
    qtbot.waitUntil(lambda: w.readouts.lab_charge.text() == "0 (neutral)", timeout=3000)
    assert_close(w.readouts.energy_eV, fresh_energy(model))

    qtbot.keyClick(w, Qt.Key_Z, Qt.ControlModifier)
    QApplication.processEvents()
    assert np.array_equal(model.occupancy, before)
    assert_close(w.readouts.energy_eV, fresh_energy(model))

    # a drag over three sites (Li+ for whatever they hold): one undo step, neutral, undone exactly
    path = neighbour_path(view, site, 3, np.random.default_rng(1))
    assert len(path) == 3 and model.occupancy[path[0]] == CODE["Mn"]
    dq = sum(1 - before_q for before_q in model.charges()[path])
    n = w.document.undo_stack.index()
    drag_sites(view, path)
    assert w.document.undo_stack.index() == n + 1 and (model.occupancy[path] == CODE["Li"]).all()
    assert abs(model.net_charge) < 1e-9
    assert len(np.flatnonzero(model.occupancy != before)) == 3 + round(-dq)   # one site per e
    w.document.undo_stack.undo()
    assert np.array_equal(model.occupancy, before)

    w.act_keep_neutral.trigger()                      # Edit > Keep the model neutral: off
    assert not w.editor.keep_neutral and settings.value(KEEP_NEUTRAL_SETTING, True) is False
    click_site(qtbot, view, site)
    QApplication.processEvents()
    assert np.flatnonzero(model.occupancy != before).tolist() == [site]
    assert abs(model.net_charge + 3) < 1e-9
    qtbot.waitUntil(lambda: "-3.000 e" in w.readouts.lab_charge.text(), timeout=3000)
    assert_close(w.readouts.energy_eV, fresh_energy(model))


def test_how_line_describes_the_current_state_after_a_compensation(qtbot, isolated_settings, messages):
    """LiNiO2 built neutral (every Ni 3+). A real click putting Li+ on a Ni3+ site leaves the cell -2 e;
    Keep the model neutral oxidises two Ni3+ to Ni4+ in the same step. The Oxidation readout gives the
    current counts (read here from the occupancy) and its "How" line that compensation, not the note
    of the first neutralisation (the counts are not repeated there); Ctrl+Z brings the first note back,
    Ctrl+Y the compensation."""
    from core.energy.valence import neutral_by_default

    model = Model.build("O3", "Li", "4", 1, tm_spec="Ni", seed=0)
    first = neutral_by_default(model)
    assert first and (model.occupancy == CODE["Ni3+"]).sum() == 16
    w = make_window(qtbot, model)
    wait_engine(qtbot, w)
    text = lambda: w.readouts.lab_states.text()  # noqa: E731
    first_state = "Li: 16 Li+; Ni: 16 Ni3+\nHow: last neutralisation: Ni states chosen to neutralise"
    assert text() == first_state
    site = int(w.layer_view.sites[5])
    qtbot.mouseClick(w.palette.buttons[CODE["Li"]], Qt.LeftButton)
    click_site(qtbot, w.layer_view, site)
    n3, n4 = ((model.occupancy == CODE[s]).sum() for s in ("Ni3+", "Ni4+"))
    assert (n3, n4) == (13, 2) and abs(model.net_charge) < 1e-9        # 16 - 1 replaced - 2 oxidised
    expected = f"Li: 17 Li+; Ni: {n3} Ni3+ + {n4} Ni4+ (average +{(3 * n3 + 4 * n4) / (n3 + n4):g})\n" \
               f"How: last compensating edit: 2 Ni3+ -> Ni4+"
    qtbot.waitUntil(lambda: text() == expected, timeout=3000)
    qtbot.keyClick(w, Qt.Key_Z, Qt.ControlModifier)
    qtbot.waitUntil(lambda: text() == first_state, timeout=3000)
    qtbot.keyClick(w, Qt.Key_Y, Qt.ControlModifier)
    qtbot.waitUntil(lambda: text() == expected, timeout=3000)
    # the command line reports the counts and the compensation together for the same state
    from core.report import info
    assert info(model, sections=["charge"])["oxidation_note"] == \
        f"neutral: {n3} Ni3+, {n4} Ni4+ (last compensating edit: 2 Ni3+ -> Ni4+)"
