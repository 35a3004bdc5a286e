"""File > Open screening results: the results dock, with real clicks (table, header, scatter point, Apply)."""
import numpy as np
import pytest
from gui_helpers import click_site, make_window, wait_idle
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication, QFileDialog

from core.energy.ewald import EwaldEngine
from core.io.project import load_project
from core.screen import load_results, parse_spec_text, run_screen
from core.structure.model import Model
from core.structure.species import CODE

SPEC = """
[grid]
tm = ["Li:1/3,Mn:2/3", "Mg:1/3,Mn:2/3"]
supercell = ["sqrt3", "3"]
ordering = ["random", "honeycomb"]
seed = [4]
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("screen") / "out"
    summary = run_screen(parse_spec_text(SPEC), out)
    assert summary["ran"] == 8 and summary["failed"] == 0
    return out


def click_cell(qtbot, table, row, col):
    rect = table.visualRect(table.model().index(row, col))
    qtbot.mouseClick(table.viewport(), Qt.LeftButton, pos=rect.center())


def click_header(qtbot, table, col):
    h = table.horizontalHeader()
    x = h.sectionViewportPosition(col) + h.sectionSize(col) // 2
    qtbot.mouseClick(h.viewport(), Qt.LeftButton, pos=QPointF(x, h.height() / 2).toPoint())


def test_screening_results_dock(qtbot, results, monkeypatch, isolated_settings):
    start = Model.build("O3", "Li", "2", 2, tm_spec="Co", seed=0)
    w = make_window(qtbot, start, install_panels=True)
    w.layer_combo.setCurrentIndex(3)   # alkali layer 2: the results have one layer
    doc_occ = w.document.model.occupancy.copy()
    # File > Open screening results, the file dialog answering with the results table
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(results / "results.parquet"), "")))
    w.act_open_screen.trigger()
    dock = w.docks["screen_results"]
    panel = dock.widget()
    assert dock.isVisible()
    table = load_results(results).to_pylist()
    view = panel.table
    assert view.model().rowCount() == len(table) == 8

    # sort by the Ewald energy with a click on its header: lowest first, highest after a second click
    col = panel.model.columns.index("ewald_eV_per_MO2")
    click_header(qtbot, view, col)
    energies = sorted(r["ewald_eV_per_MO2"] for r in table)
    shown = [panel.model.value(r, "ewald_eV_per_MO2") for r in panel.visible_rows()]
    assert shown == energies or shown == energies[::-1]
    if shown != energies:
        click_header(qtbot, view, col)
        assert [panel.model.value(r, "ewald_eV_per_MO2") for r in panel.visible_rows()] == energies

    # filter: the Mg rows by text, then a numeric comparison on the chosen column
    qtbot.keyClicks(panel.filter_edit, "Mg:")
    assert view.model().rowCount() == sum(r["tm"].startswith("Mg") for r in table) == 4
    assert len(panel.scatter.data) == 4  # the scatter shows the filtered rows
    panel.filter_edit.clear()
    panel.filter_column.setCurrentText("ewald_eV_per_MO2")
    cut = float(np.median(energies))
    qtbot.keyClicks(panel.filter_edit, f"< {cut}")
    assert view.model().rowCount() == sum(r["ewald_eV_per_MO2"] < cut for r in table)
    panel.filter_edit.clear()
    assert view.model().rowCount() == 8

    # a click on a row previews that model in the editor; the document is untouched
    w.act_energy_overlay.trigger()          # View > Colour by site energy: follows the preview too
    click_cell(qtbot, view, 0, 0)
    row = panel.visible_rows()[0]
    task = panel.model.value(row, "task")
    saved = load_project(results / panel.model.value(row, "model_path"))
    assert panel.preview_task == task
    assert w.layer_view.model is not w.document.model
    assert np.array_equal(w.layer_view.model.occupancy, saved.occupancy)
    assert np.array_equal(w.document.model.occupancy, doc_occ) and not w.document.modified
    # it is the window's one displayed state: the readouts and the Layer box follow it (another supercell,
    # another number of layers), its energy from a fresh engine of the saved model, not the table's value
    assert w.document.preview.kind == "screen" and w.document.preview.model.supercell.n_sites == saved.supercell.n_sites
    assert w.layer_combo.count() == 2 * saved.supercell.layers != 2 * start.supercell.layers
    assert w.layer_combo.currentData() == (w.layer_view.layer_kind, w.layer_view.layer_index) == ("alkali", 0)
    qtbot.waitUntil(lambda: w.readouts.values["ewald_eV_per_MO2"] is not None, timeout=20000)
    assert w.readouts.values["formula"] == saved.formula() != start.formula()
    fresh = EwaldEngine(saved.supercell).energy(saved.charges()) / saved.formula_units()
    assert abs(w.readouts.values["ewald_eV_per_MO2"] - fresh) < 1e-7
    assert "screening result" in w.readouts.preview_banner.text() and w.readouts.preview_banner.isVisible()
    qtbot.waitUntil(lambda: w.layer_view._site_values is not None
                    and len(w.layer_view._site_values) == saved.supercell.n_sites, timeout=5000)
    assert np.allclose(w.layer_view._site_values, EwaldEngine(saved.supercell).site_energies(saved.charges()))
    # clicks on the editor during a preview do not edit the document
    click_site(qtbot, w.layer_view, int(w.layer_view.sites[0]))
    assert np.array_equal(w.document.model.occupancy, doc_occ) and w.document.undo_stack.count() == 0
    # Back to document
    qtbot.mouseClick(panel.btn_back, Qt.LeftButton)
    assert w.layer_view.model is w.document.model and panel.preview_task is None
    assert w.layer_combo.count() == 4 and w.layer_combo.currentData() == (w.layer_view.layer_kind,
                                                                         w.layer_view.layer_index)
    assert w.readouts.values["formula"] == start.formula() and not w.readouts.preview_banner.isVisible()
    w.layer_combo.setCurrentIndex(0)   # TM layer 1
    qtbot.waitUntil(lambda: w.layer_view._site_values is not None
                    and len(w.layer_view._site_values) == start.supercell.n_sites, timeout=5000)
    w.act_energy_overlay.trigger()
    # any document change during a preview (an edit, undo, another panel's result) ends it
    click_cell(qtbot, view, 1, 0)
    assert panel.preview_task is not None and w.layer_view.model is not w.document.model
    site = int(w.document.model.supercell.tm_sites[0])
    assert w.document.edit([(site, CODE["Ni"])], "test edit")
    assert w.layer_view.model is w.document.model and panel.preview_task is None
    w.document.undo_stack.undo()
    assert np.array_equal(w.document.model.occupancy, doc_occ)
    # clicks reach the document again once the preview is over
    click_site(qtbot, w.layer_view, site)
    assert w.document.model.occupancy[site] == w.palette.species() != doc_occ[site]
    w.document.undo_stack.undo()
    assert np.array_equal(w.document.model.occupancy, doc_occ)
    # closing the dock ends a preview too
    click_cell(qtbot, view, 1, 0)
    dock.close()
    qtbot.waitUntil(lambda: panel.preview_task is None, timeout=2000)
    assert w.layer_view.model is w.document.model
    dock.show()

    # a click on a scatter point previews its task (data -> scene -> viewport, as a real mouse would)
    target = max(panel.visible_rows(), key=lambda r: panel.model.value(r, "ewald_eV_per_MO2"))
    x, y = (panel.model.value(target, c) for c in (panel.x_combo.currentText(), panel.y_combo.currentText()))
    vb = panel.plot.getPlotItem().getViewBox()
    panel.plot.show()
    QApplication.processEvents()
    pt = panel.plot.mapFromScene(vb.mapViewToScene(QPointF(x, y)))
    qtbot.mouseClick(panel.plot.viewport(), Qt.LeftButton, pos=pt)
    assert panel.preview_task == panel.model.value(target, "task")
    sel = view.selectionModel().selectedRows()
    assert sel and panel.proxy.mapToSource(sel[0]).row() == target

    # "Open as document" opens it in place of the document (one step, like File > Open)
    expected = load_project(results / panel.model.value(target, "model_path"))
    qtbot.mouseClick(panel.btn_apply, Qt.LeftButton)
    qtbot.waitUntil(lambda: w.document.model.metadata.get("screen_task") == panel.model.value(target, "task"),
                    timeout=10000)
    wait_idle(qtbot, w)
    assert np.array_equal(w.document.model.occupancy, expected.occupancy)
    assert w.layer_view.model is w.document.model
    assert w.document.path.endswith(".json")


def test_open_results_where_there_are_none(qtbot, tmp_path, messages, isolated_settings):
    w = make_window(qtbot, Model.build("O3", "Li", "2", 1, tm_spec="Co", seed=0))
    assert w.open_screening_results(str(tmp_path)) is None
    assert "screen_results" not in w.docks
    assert len(messages) == 1 and messages[0][0] == "error" and "no screening results" in messages[0][2]
