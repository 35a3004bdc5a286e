"""`Studio`: a Layer Studio window driven from a script or a Jupyter notebook.

    from gui import Studio
    st = Studio("Li2MnO3.cif")            # a window (the demo model without a path)
    st.set_layer("tm", 1)
    st.paint([0, 1, 2], "Ni")
    st.apply_preset("honeycomb")
    st.undo()
    st.wait_idle()
    st.state()["readouts"]["ewald_eV_per_MO2"]
    st.screenshot("view.png")

In Jupyter, run `%gui qt` first: the notebook's event loop then drives the window, which stays
responsive between cells. In a plain script `wait_idle()` runs the event loop until every result is
shown. Actions go through the same code paths as the menus and mouse (one undo step each); errors
that the window would show in a message box raise `LayerStudioError` here instead.

`state()` reads what the widgets show, as numbers (see its docstring); it is JSON-serialisable.
"""
from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

from core.errors import LayerStudioError  # noqa: E402


class Studio:
    """One main window. `path`: a project (.json), CIF or POSCAR to open; None: the demo model."""

    def __init__(self, path=None, *, model=None, show: bool = True):
        from PySide6.QtWidgets import QApplication

        from .settings import APPLICATION, ORGANISATION

        self.app = QApplication.instance() or QApplication([])
        if not self.app.organizationName():
            self.app.setOrganizationName(ORGANISATION)
            self.app.setApplicationName(APPLICATION)
        from resources.demo import build_demo_model

        from .mainwindow import MainWindow
        self.window = MainWindow(model if model is not None else build_demo_model())
        self.window.document.mark_saved()
        if show:
            self.window.show()
        if path is not None:
            self.open(path)
        else:
            self.wait_idle()

    # ------------------------------------------------------------------ errors raise instead of boxes
    @contextlib.contextmanager
    def _errors_raise(self):
        from . import dialogs
        seen: list[str] = []
        saved = dialogs.show_error, dialogs.ask_save_changes
        dialogs.show_error = lambda parent, title, text: seen.append(f"{title}: {text}")
        dialogs.ask_save_changes = lambda parent, name: "discard"
        try:
            yield seen
        finally:
            dialogs.show_error, dialogs.ask_save_changes = saved
        if seen:
            raise LayerStudioError(seen[0])

    # ------------------------------------------------------------------ documents
    @property
    def model(self):
        """The document's core Model (a live object: edit it through Studio methods to keep undo)."""
        return self.window.document.model

    def open(self, path, timeout_s: float = 120.0) -> None:
        """Open a project, CIF or POSCAR (unsaved changes are discarded) and wait until it is shown."""
        with self._errors_raise():
            self.window.files.open_path(str(path), ask=False)
            self.wait_idle(timeout_s)

    def save(self, path) -> None:
        """Save the document as a project file (.json)."""
        with self._errors_raise():
            self.window.files.save_to(str(path))

    def set_layer(self, kind: str, index: int) -> None:
        """Show layer `index` (from 1) of `kind` ("tm" or "alkali") of the displayed state (the document,
        or a preview of another supercell), as the Layer box does."""
        if kind not in ("tm", "alkali"):
            raise LayerStudioError(f"layer kind must be 'tm' or 'alkali', not {kind!r}")
        n = self.window.document.displayed_model.supercell.layers
        if not 1 <= int(index) <= n:
            raise LayerStudioError(f"layer {index} does not exist: this model has {n} (numbered from 1)")
        self.window.layer_combo.setCurrentIndex(int(index) - 1 + (n if kind == "alkali" else 0))
        self._process()

    def paint(self, sites, species) -> None:
        """Put `species` (a symbol such as "Ni", "Li", "Va", or a species code) on `sites`: one undo step,
        as a drag-paint with that palette species."""
        from core.structure.species import CODE, VACANCY
        code = species if isinstance(species, int) else (VACANCY if species in ("Va", "vacancy") else CODE.get(species))
        if code is None:
            raise LayerStudioError(f"unknown species {species!r}")
        with self._errors_raise():
            self.window.palette.set_species(int(code))
            self.window.editor.paint_finished([int(s) for s in sites])
            self._process()

    def apply_preset(self, name: str, timeout_s: float = 120.0, **params) -> None:
        """Arrange the current composition in preset `name` (core.orderings.PRESETS): one undo step."""
        with self._errors_raise():
            self.window.editor.apply_preset(name, **params)
            self.wait_idle(timeout_s)

    def undo(self) -> None:
        self.window.act_undo.trigger()
        self._process()

    def redo(self) -> None:
        self.window.act_redo.trigger()
        self._process()

    # ------------------------------------------------------------------ waiting and looking
    def _process(self) -> None:
        self.app.processEvents()

    def busy(self) -> bool:
        """True while a worker result or a debounced update is still to be shown."""
        w = self.window
        if w.runner.busy() or w.analysis.pending() or w.readouts.pending() or w.editor.overlays_pending():
            return True
        panels = getattr(w, "panels", None)
        if panels is not None:
            for timer in (panels.migration.timer, panels.xrd.timer, panels.charge._debounce):
                if timer.isActive():
                    return True
        return False

    def wait_idle(self, timeout_s: float = 60.0) -> None:
        """Run the event loop until every worker result is shown; TimeoutError after `timeout_s`."""
        end = time.monotonic() + timeout_s
        while True:
            self._process()
            if not self.busy():
                self._process()
                if not self.busy():
                    return
            if time.monotonic() > end:
                raise TimeoutError(f"Layer Studio still busy after {timeout_s:g} s")
            time.sleep(0.005)

    def screenshot(self, path) -> Path:
        """PNG of the whole window."""
        self._process()
        path = Path(path)
        from gui.panels.figures import grab_window
        if not grab_window(self.window).save(str(path)):
            raise LayerStudioError(f"cannot write {path}")
        return path

    def close(self) -> None:
        """Close the window without asking about unsaved changes."""
        self.window.document.mark_saved()
        self.window.close()
        self._process()

    def state(self) -> dict:
        """What the window shows, read from its widgets (JSON-serialisable):

        layer_shown / layer_selected   ["tm" or "alkali", index from 1]: the layer view / the Layer box
        displayed                      "document", or the kind of preview shown: "mc" (a Monte Carlo
                                       candidate), "charge" (a state of charge), "snapshot", "screen"
                                       (a screening result)
        preview                        None, or {kind, title, n_sites, layers} of the preview shown
        readouts                       of the displayed state (core.report.readout_numbers): formula,
                                       layer_formula, ewald_eV_per_MO2, net_charge (e), capacity_mAh_g
                                       {total, cationic, anionic}, ordering_label, ordering_confidence,
                                       superlattice, space_group {symbol, number}, oxygen {...}
                                       (None where a value is still being computed or undefined)
        undo                           {"can_undo", "can_redo", "undo_text"}
        state_of_charge, monte_carlo, migration   what those panels show (None without panels)
        """
        w = self.window
        v = w.layer_view
        sel = w.layer_combo.currentData()
        preview = w.document.preview
        readouts = dict(w.readouts.values)
        st = w.document.undo_stack
        out = {
            "layer_shown": [v.layer_kind, int(v.layer_index) + 1],
            "layer_selected": None if sel is None else [sel[0], int(sel[1]) + 1],
            "displayed": "document" if preview is None else (preview.kind or "preview"),
            "preview": None if preview is None else {
                "kind": preview.kind, "title": preview.title, "n_sites": int(preview.model.supercell.n_sites),
                "layers": int(preview.model.supercell.layers)},
            "readouts": readouts,
            "undo": {"can_undo": st.canUndo(), "can_redo": st.canRedo(), "undo_text": st.undoText()},
            "state_of_charge": None, "monte_carlo": None, "migration": None,
        }
        panels = getattr(w, "panels", None)
        if panels is not None:
            out["state_of_charge"] = panels.charge.values
            out["monte_carlo"] = panels.mc.values()
            out["migration"] = panels.migration.values()
        return out
