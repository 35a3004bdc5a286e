"""Files in the editor: save -> reopen, corrupt files, CIF import, drag-and-drop, recent files,
unsaved-changes prompt, crash recovery. Message boxes are recorded, never shown."""
import json

import numpy as np
import pytest
from gui_helpers import click_site, make_window
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from core.structure.model import Model
from core.structure.species import CODE


def model(seed=2):
    return Model.build("O3", "Li", "3", layers=1, tm_spec="Ni:1/3,Mn:2/3", alkali_spec="Li", seed=seed)


@pytest.fixture
def win(qtbot, isolated_settings, messages):
    w = make_window(qtbot, model())
    return w


def test_save_then_reopen_restores_the_model(qtbot, win, tmp_path):
    w = win
    w.palette.set_species(CODE["Co"])
    site = int(w.layer_view.sites[2])
    click_site(qtbot, w.layer_view, site)
    w.document.model.set_oxidation("Co", 3)
    saved = w.document.model.copy()
    path = tmp_path / "m.json"
    assert w.files.save_to(str(path))
    assert not w.document.modified and w.document.path == str(path)
    assert json.loads(path.read_text())  # a JSON project file
    w.document.set_model(model(seed=9))
    w.files.open_path(str(path), ask=False)
    qtbot.waitUntil(lambda: w.files.opening is None, timeout=10000)
    m = w.document.model
    assert np.array_equal(m.occupancy, saved.occupancy)
    assert np.array_equal(m.supercell.matrix, saved.supercell.matrix)
    assert m.supercell.layers == saved.supercell.layers and m.supercell.host.stacking == "O3"
    assert m.oxidation == saved.oxidation
    assert w.layer_view.model is m


@pytest.mark.parametrize("content", [b"{\"format\": \"layerstudio-project\", \"version\": 1, \"occ",
                                     b"\x00\x01garbage", b"{\"format\": \"something-else\"}"])
def test_corrupt_project_shows_error_and_keeps_model(qtbot, win, messages, tmp_path, content):
    w = win
    w.palette.set_species(CODE["Co"])
    click_site(qtbot, w.layer_view, int(w.layer_view.sites[0]))
    before_model, before_occ = w.document.model, w.document.model.occupancy.copy()
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    w.files.open_path(str(bad), ask=False)
    qtbot.waitUntil(lambda: w.files.opening is None, timeout=10000)
    assert messages and messages[-1][0] == "error"
    assert "Traceback" not in messages[-1][2] and len(messages[-1][2].splitlines()) <= 3
    assert w.document.model is before_model
    assert np.array_equal(w.document.model.occupancy, before_occ)
    assert w.document.undo_stack.count() == 1   # the earlier edit is still undoable


def test_import_cif_and_bad_cif(qtbot, win, messages, tmp_path):
    from core.io.export import export_model
    w = win
    src = Model.build("O3", "Li", "3", layers=3, tm_spec="Co", seed=0)
    cif = tmp_path / "LiCoO2.cif"
    export_model(src, cif)
    w.files.open_path(str(cif), ask=False)
    qtbot.waitUntil(lambda: w.files.opening is None, timeout=30000)
    assert not [m for m in messages if m[0] == "error"], messages
    assert w.document.model.formula() == "LiCoO2"
    assert w.document.path is None   # an import is not a project: Save asks for a name
    current = w.document.model
    bad = tmp_path / "broken.cif"
    bad.write_text("data_x\n_cell_length_a 2.8\nthis is not a cif\n")
    w.files.open_path(str(bad), ask=False)
    qtbot.waitUntil(lambda: w.files.opening is None, timeout=30000)
    assert messages[-1][0] == "error"
    assert w.document.model is current


def test_drop_opens_project_and_recent_files(qtbot, win, tmp_path):
    from core.io.project import save_project
    from gui import settings
    w = win
    other = Model.build("O3", "Li", "3", layers=1, tm_spec="Ni:1/3,Mn:2/3", seed=5)
    path = tmp_path / "dropped.json"
    save_project(path, other)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    ev = QDropEvent(QPointF(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    w.dropEvent(ev)
    qtbot.waitUntil(lambda: w.files.opening is None, timeout=10000)
    assert np.array_equal(w.document.model.occupancy, other.occupancy)
    assert settings.recent_files()[0] == str(path.resolve())
    assert w.recent_menu.actions()[0].text() == str(path.resolve())


def test_unsaved_changes_prompt_on_close(qtbot, win, monkeypatch):
    from gui import dialogs
    w = win
    w.palette.set_species(CODE["Co"])
    click_site(qtbot, w.layer_view, int(w.layer_view.sites[1]))
    assert w.document.modified and w.isWindowModified()
    asked = []
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, name: asked.append(name) or "cancel")
    assert not w.close()
    assert asked and w.isVisible()
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, name: "discard")
    assert w.close()


def test_autosave_and_recovery_after_crash(qtbot, isolated_settings, messages, monkeypatch):
    from gui import app, dialogs, recovery
    w = make_window(qtbot, model(), autosave_every=3)
    for k in range(3):
        w.palette.set_species([CODE["Co"], CODE["Mg"], CODE["Li"]][k])
        click_site(qtbot, w.layer_view, int(w.layer_view.sites[k]))
    assert w.recovery.path.exists() and w.recovery.saves == 1
    edited = w.document.model.occupancy.copy()
    # pretend the process died: rename the file to a pid that does not exist
    dead = w.recovery.path.with_name("recovery-999999999.json")
    w.recovery.path.rename(dead)
    (w.recovery.path.parent / (w.recovery.path.name + ".info")).rename(str(dead) + ".info")
    assert dead in recovery.orphaned_recoveries()
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: True)
    w2 = app.create_window([])
    qtbot.addWidget(w2, before_close_func=lambda win: win.document.mark_saved())
    assert np.array_equal(w2.document.model.occupancy, edited)
    assert w2.document.modified            # recovered work is unsaved until the user saves it
    assert not dead.exists()               # offered once
    w.document.mark_saved()
    assert not w.recovery.path.exists()    # a clean document needs no recovery file


def test_unreadable_recovery_file_is_reported_and_kept(qtbot, isolated_settings, messages, monkeypatch):
    """A recovery that fails to load must not delete the only copy of the user's work."""
    from gui import app, dialogs, recovery
    from gui.settings import settings_dir
    dead = settings_dir() / "recovery-999999998.json"
    dead.write_text('{"format": "layerstudio-project", "version": 1, "host"')   # truncated
    assert dead in recovery.orphaned_recoveries()
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: True)
    w = app.create_window([])
    qtbot.addWidget(w, before_close_func=lambda win: win.document.mark_saved())
    errors = [m for m in messages if m[0] == "error"]
    assert errors and str(dead) in errors[-1][2]
    assert dead.exists()
    assert not w.document.modified          # the demo model, untouched


def test_cyclic_garbage_is_collected_on_the_gui_thread_only(qtbot):
    """Workers must never run Python's cyclic collector (it can destroy widgets off the GUI thread
    and deadlock against Qt's mutex): automatic collection is off, a GUI-thread timer collects."""
    import gc
    import weakref

    from gui.workers import TaskRunner
    TaskRunner()
    assert not gc.isenabled()

    class Node:
        pass
    a = Node()
    a.me = a                      # a reference cycle: only the cyclic collector frees it
    alive = weakref.ref(a)
    del a
    junk = [[] for _ in range(5000)]   # allocations push generation 0 past its threshold
    assert alive() is not None
    qtbot.waitUntil(lambda: alive() is None, timeout=5000)
    del junk
    # what was alive at the first check (modules, classes, widgets) is frozen out of full collections
    assert gc.get_freeze_count() > 1000


def test_worker_progress_cancel_and_errors(qtbot):
    import threading

    from core.errors import OrderingError
    from gui.workers import TaskRunner
    runner = TaskRunner()
    started = threading.Event()

    def slow_generator(n):
        for k in range(n):
            started.set()
            yield {"progress": k / n, "message": f"step {k}"}
            threading.Event().wait(0.01)
        return "done"

    got = []
    t = runner.submit(slow_generator, 3, label="short", on_result=got.append)
    qtbot.waitUntil(lambda: t.done.is_set() and not runner.busy(), timeout=5000)
    assert got == ["done"]
    progress, results, cancelled = [], [], []
    t = runner.submit(slow_generator, 10_000, label="long", on_progress=progress.append,
                      on_result=results.append)
    t.signals.sigCancelled.connect(lambda: cancelled.append(True))
    assert started.wait(5)
    qtbot.waitUntil(lambda: len(progress) > 0, timeout=5000)
    t.cancel()
    qtbot.waitUntil(lambda: not runner.busy(), timeout=5000)
    assert cancelled and not results
    assert 0 <= progress[-1]["progress"] < 1

    def bad_input():
        raise OrderingError("ribbon needs a multiple of 5 sites")
    errors = []
    runner.submit(bad_input, label="preset", on_error=errors.append)
    qtbot.waitUntil(lambda: not runner.busy(), timeout=5000)
    assert errors == ["ribbon needs a multiple of 5 sites"]
    runner.shutdown()
