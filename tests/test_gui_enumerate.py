"""Enumeration panel through real clicks: the count and class counts shown before running agree with
core computed on an independently built cell, the parent crystal and the isolated layer reduce
differently, cancel, preview through the displayed state, Apply as one undo step, clear refusals,
CSV export and the force field's re-rank of the list."""
import csv
from math import factorial

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from core.orderings.enumeration import count_configurations, enumerate_orderings
from core.orderings.recognition import recognise
from core.structure.model import Model
from gui.document import Document

NMC = "Ni:1/3,Co:1/3,Mn:1/3"


def _panel(qtbot, runner, model):
    from gui.panels.enumerate_panel import EnumeratePanel

    doc = Document(model)
    panel = EnumeratePanel(doc, runner)
    qtbot.addWidget(panel)
    panel.resize(520, 760)
    panel.show()
    qtbot.waitExposed(panel)
    return doc, panel


def _set_index(qtbot, panel, n: int):
    panel.index.setFocus()
    panel.index.selectAll()
    qtbot.keyClicks(panel.index, str(n))
    qtbot.keyClick(panel.index, Qt.Key_Enter)
    assert panel.index.value() == n


def _choose(qtbot, combo, text: str):
    """Pick the entry whose text starts with `text` with the keyboard (Home, then Down)."""
    target = next(i for i in range(combo.count()) if combo.itemText(i).startswith(text))
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key_Home)
    for _ in range(target):
        qtbot.keyClick(combo, Qt.Key_Down)
    assert combo.currentIndex() == target


def _type_composition(qtbot, panel, spec: str):
    panel.composition.setFocus()
    panel.composition.selectAll()
    qtbot.keyClicks(panel.composition, spec)
    qtbot.keyClick(panel.composition, Qt.Key_Return)


def _estimated(qtbot, panel, n_symmetries: int):
    qtbot.waitUntil(lambda: len(panel.values()["classes"]) == n_symmetries or bool(panel.values()["problem"]),
                    timeout=20000)


def _click_row(qtbot, table, row: int):
    rect = table.visualRect(table.model().index(row, 1))
    qtbot.mouseClick(table.viewport(), Qt.LeftButton, pos=rect.center())


def test_counts_before_running_match_core_and_parent_differs_from_layer(qtbot, runner):
    """NMC111 in the 3 x 3 cell: 9!/(3! 3! 3!) = 1680 arrangements. The O3 crystal (R-3m) keeps only the
    three-fold axis of a TM layer (the layers above and below sit over one of the two triangle sets),
    the isolated layer is six-fold with a horizontal mirror (P6/mmm): three times the permutations,
    so fewer classes. The panel's numbers must be core's on a 3 x 3 model built here from scratch."""
    doc, panel = _panel(qtbot, runner, Model.build("O3", "Li", "6", layers=1, tm_spec=NMC, seed=3))
    _set_index(qtbot, panel, 9)
    _choose(qtbot, panel.cells, "3 x 3")
    _choose(qtbot, panel.symmetry, "both")
    _estimated(qtbot, panel, 2)
    small = Model.build("O3", "Li", "3", layers=1, tm_spec=NMC, seed=0)
    assert panel.values()["count"] == factorial(9) // factorial(3) ** 3 == count_configurations(small, "tm")
    parent = enumerate_orderings(small, "tm", symmetry="parent")
    layer = enumerate_orderings(small, "tm", symmetry="layer")
    shown = panel.values()["classes"]
    assert shown == {"parent": len(parent), "layer": len(layer)}
    assert shown["layer"] < shown["parent"]
    text = panel.estimate_label.text()
    assert "1,680 arrangements" in text and "R-3m" in text and "P6/mmm" in text and "estimated" in text

    with qtbot.waitSignal(panel.sigFinished, timeout=60000):
        qtbot.mouseClick(panel.run_btn, Qt.LeftButton)
    assert panel.rows.rowCount() == len(parent)
    assert sum(c["multiplicity"] for c in panel.classes()) == 1680
    e = [c["energy_eV_per_MO2"] for c in panel.classes()]
    assert e == sorted(e) and e[0] == pytest.approx(parent[0]["energy_eV_per_MO2"], abs=1e-9)
    # the NMC111 ground state of point charges is the sqrt3 x sqrt3 R30 superlattice (Koyama et al. 2003)
    assert panel.rows.index(0, 4).data().startswith("sqrt3 x sqrt3 R30")
    _choose(qtbot, panel.shown, "isolated layer")
    assert panel.rows.rowCount() == len(layer)


def test_cancel_leaves_everything_unchanged(qtbot, runner):
    """16 TM sites of a 4 x 4 cell holding 2 Li, 4 Ni and 10 Mn: 16!/(2! 4! 10!) = 120120 arrangements,
    seconds of work per reduction; Cancel stops the worker part way."""
    model = Model.build("O3", "Li", "8", layers=1, tm_spec="Li:1/8,Ni:1/4,Mn:5/8", seed=3)
    doc, panel = _panel(qtbot, runner, model)
    before = doc.model.occupancy.copy()
    _set_index(qtbot, panel, 16)
    _choose(qtbot, panel.cells, "4 x 4")
    _choose(qtbot, panel.symmetry, "both")
    _estimated(qtbot, panel, 2)
    assert panel.values()["count"] == factorial(16) // (factorial(2) * factorial(4) * factorial(10)) == 120120
    qtbot.mouseClick(panel.run_btn, Qt.LeftButton)
    assert panel.values()["running"] and panel.cancel_btn.isEnabled()
    qtbot.waitUntil(lambda: 0 < panel.progress.value(), timeout=20000)    # the worker has started
    qtbot.mouseClick(panel.cancel_btn, Qt.LeftButton)
    qtbot.waitUntil(lambda: not panel.values()["running"], timeout=20000)
    assert "Cancelled" in panel.status.text() and panel.progress.value() < 1000
    assert panel.rows.rowCount() == 0 and panel.result is None
    assert np.array_equal(doc.model.occupancy, before) and doc.undo_stack.count() == 0
    assert panel.run_btn.isEnabled()


def test_select_previews_and_apply_is_one_undo_step(qtbot, isolated_settings):
    """Li1/3Mn2/3 in the 3 x 3 cell: the lowest class is the honeycomb (the Ewald ground state of a TM
    layer at 1:2); selecting it shows it on the 6 x 6 model without changing the document."""
    from tests.gui_helpers import make_window, wait_idle

    model = Model.build("O3", "Li", "6", layers=1, tm_spec="Li:1/3,Mn:2/3", seed=5)
    w = make_window(qtbot, model, install_panels=True)
    w.panels.show_dock("enumerate")
    panel, doc = w.panels.enumerate, w.document
    before = doc.model.occupancy.copy()
    _set_index(qtbot, panel, 9)
    _choose(qtbot, panel.cells, "3 x 3")
    _estimated(qtbot, panel, 1)
    with qtbot.waitSignal(panel.sigFinished, timeout=60000):
        qtbot.mouseClick(panel.run_btn, Qt.LeftButton)
    assert "honeycomb" in panel.rows.index(0, 4).data()
    _click_row(qtbot, panel.table, 0)
    assert doc.preview is not None and doc.preview.kind == "enumerate"
    assert np.array_equal(doc.model.occupancy, before)        # the document is untouched
    assert w.panels.overlay.preview_model is doc.preview.model
    qtbot.waitUntil(lambda: w.readouts.preview_banner.isVisible(), timeout=5000)
    assert recognise(doc.preview.model)["label"] == "honeycomb"
    # the 3 x 3 arrangement tiles the 6 x 6 model: same energy per MO2 there
    from core.analysis.snapshots import ewald_energy
    e_tiled = ewald_energy(doc.preview.model) / doc.model.formula_units()
    assert e_tiled == pytest.approx(panel.classes()[0]["energy_eV_per_MO2"], abs=1e-8)

    n = doc.undo_stack.count()
    qtbot.mouseClick(panel.apply_btn, Qt.LeftButton)
    assert doc.undo_stack.count() == n + 1 and doc.preview is None
    assert recognise(doc.model)["label"] == "honeycomb"
    doc.undo_stack.undo()
    assert np.array_equal(doc.model.occupancy, before)
    wait_idle(qtbot, w)


def test_bad_input_gives_one_clear_line(qtbot, runner, messages):
    doc, panel = _panel(qtbot, runner, Model.build("O3", "Li", "6", layers=1, tm_spec=NMC, seed=3))
    # thirds on the 16 sites of a 4 x 4 cell: no whole number of ions
    _set_index(qtbot, panel, 16)
    _choose(qtbot, panel.cells, "4 x 4")
    qtbot.waitUntil(lambda: bool(panel.values()["problem"]), timeout=5000)
    assert "cannot be placed on the 16" in panel.values()["problem"] and "multiple of 3" in panel.values()["problem"]
    assert not panel.run_btn.isEnabled()
    assert panel.run() is False and messages[-1][0] == "error" and "16" in messages[-1][2]
    # 15 sites of thirds: 15!/(5!)^3 = 756756 arrangements, above the enumeration's limit: refused
    _set_index(qtbot, panel, 15)
    qtbot.waitUntil(lambda: "756,756" in panel.values()["problem"], timeout=5000)
    assert "more than the 200,000" in panel.values()["problem"] and not panel.run_btn.isEnabled()
    # a typed composition that does not parse
    _set_index(qtbot, panel, 4)
    _type_composition(qtbot, panel, "Ni:1/2,Xx:1/2")
    qtbot.waitUntil(lambda: "Xx" in panel.values()["problem"], timeout=5000)
    print(panel.values()["problem"])
    assert "Traceback" not in panel.estimate_label.text() and len(panel.values()["problem"].splitlines()) == 1
    # and one that does: Ni/Mn 1:1 on 2 x 2
    panel.composition.clear()
    _type_composition(qtbot, panel, "Ni:1/2,Mn:1/2")
    _choose(qtbot, panel.cells, "2 x 2")
    qtbot.waitUntil(lambda: panel.values()["count"] == 6 and len(panel.values()["classes"]) == 1, timeout=10000)
    assert not panel.values()["problem"] and panel.run_btn.isEnabled()      # C(4, 2) = 6


@pytest.mark.slow
def test_export_csv_and_rerank_of_the_list(qtbot, tmp_path, isolated_settings):
    """The list goes to the force field panel's re-rank; with the Ewald model there, the ranks must agree
    exactly (Spearman 1), which also checks that the panel hands over the list in energy order."""
    from tests.gui_helpers import make_window, wait_idle

    model = Model.build("O3", "Li", "6", layers=1, tm_spec="Li:1/3,Mn:2/3", seed=5)
    w = make_window(qtbot, model, install_panels=True)
    panel = w.panels.enumerate
    w.panels.show_dock("enumerate")
    _set_index(qtbot, panel, 9)
    _choose(qtbot, panel.cells, "3 x 3")
    _estimated(qtbot, panel, 1)
    with qtbot.waitSignal(panel.sigFinished, timeout=60000):
        qtbot.mouseClick(panel.run_btn, Qt.LeftButton)
    n = panel.export_csv(tmp_path / "e.csv")
    rows = list(csv.DictReader(open(tmp_path / "e.csv", encoding="utf-8")))
    assert n == len(rows) == panel.rows.rowCount()
    assert sum(int(r["multiplicity"]) for r in rows) == 84             # C(9, 3)
    assert rows[0]["ordering"].startswith("honeycomb") and rows[0]["arrangement"].split().count("Li") == 3
    ff = w.panels.forcefield
    ff.model_box.setCurrentIndex(ff.model_box.findData("ewald"))
    qtbot.mouseClick(panel.rerank_btn, Qt.LeftButton)
    qtbot.waitUntil(lambda: ff.rerank_table is not None, timeout=60000)
    table = ff.rerank_table
    assert len(table["rows"]) == min(10, len(panel.classes()))
    assert table["spearman"] == pytest.approx(1.0)
    wait_idle(qtbot, w)
    QApplication.processEvents()
