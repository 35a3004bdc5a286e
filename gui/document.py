"""The GUI document: one `core.Model`, one QUndoStack, one vocabulary of edits (occupancy flips), and
the one state the window displays.

Every user action becomes one command of gui.commands (or a macro of them) pushed on the stack;
widgets never mutate the model directly. The document re-emits the model's change notification as Qt
signals that say what changed, so views update only that.

The displayed state is the document's model, or a preview (a Monte Carlo candidate, a state of
charge, a snapshot being compared, a screening result) that is shown without being applied. Every
view and readout follows `sigDisplayedChanged`; an edit of the document ends the preview.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from core.structure.model import Model, as_flips

from .commands import FlipCommand


@dataclass
class Preview:
    """A state shown instead of the document. `model` usually shares the document's supercell (a Monte
    Carlo candidate, a state of charge, a snapshot); a screening result has its own. `energy_eV` is
    its Ewald energy (eV per cell) when the producer has it; `charges` (N,) e the per-site charges when
    they differ from the model's species table (holes on particular ions); `oxidised_o` lists O sites
    holding holes."""

    model: Model
    title: str
    kind: str = ""
    energy_eV: float | None = None
    charges: np.ndarray | None = None
    oxidised_o: np.ndarray | None = None
    extra: dict = field(default_factory=dict)


class Document(QObject):
    """Owns the model, its undo stack and the displayed state.

    Signals:
      sigSitesChanged(np.ndarray): occupancy of these site indices changed (after any edit/undo/redo).
      sigOxidationChanged(): the per-species oxidation table changed (charges of many sites).
      sigModelReplaced(): a different model (new supercell, file opened) was installed; views rebuild.
      sigDisplayedChanged(object): a Preview is shown, or None: the document is shown again.
      sigSnapshotsChanged(): the list of named snapshots changed.
      sigPathChanged(str): the file path changed (after save as / open).
    """

    sigSitesChanged = Signal(object)
    sigOxidationChanged = Signal()
    sigModelReplaced = Signal()
    sigDisplayedChanged = Signal(object)
    sigSnapshotsChanged = Signal()
    sigPathChanged = Signal(str)

    def __init__(self, model: Model, parent=None):
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.path: str | None = None
        self.model = None
        self.preview: Preview | None = None
        self._metadata_modified = False
        self.set_model(model)

    # ------------------------------------------------------------------ model
    def set_model(self, model: Model, *, clear_undo: bool = True) -> None:
        """Install a new model (new file, new supercell). The undo history is cleared by default."""
        if self.model is not None:
            self.model.remove_listener(self._on_model_changed)
        self.end_preview()   # views following a preview go back to the document before it changes
        self.model = model
        self._oxidation = model.oxidation
        model.add_listener(self._on_model_changed)
        if clear_undo:
            self.undo_stack.clear()
            self.mark_saved()
        self.sigModelReplaced.emit()

    def _on_model_changed(self, sites: np.ndarray) -> None:
        self.end_preview()
        if self.model.oxidation is not self._oxidation:
            self._oxidation = self.model.oxidation
            self.sigOxidationChanged.emit()
        self.sigSitesChanged.emit(sites)

    # ------------------------------------------------------------------ displayed state
    @property
    def displayed_model(self) -> Model:
        """The model on screen: the preview's, or the document's."""
        return self.model if self.preview is None else self.preview.model

    def show_preview(self, preview: Preview | None) -> None:
        """Show `preview` instead of the document (None: the document again). Its model may have
        another supercell (a screening result): views then rebuild and the layer view is read-only."""
        if preview is None:
            self.end_preview()
            return
        self.preview = preview
        self.sigDisplayedChanged.emit(preview)

    def end_preview(self) -> None:
        if self.preview is not None:
            self.preview = None
            self.sigDisplayedChanged.emit(None)

    # ------------------------------------------------------------------ edits
    def edit(self, flips, label: str, valence: dict | None = None) -> bool:
        """Push one undoable edit. Flips that change nothing are dropped; returns False if empty.
        valence: the model's metadata["valence"] (how its charges came about) after the edit, when the
        edit changes it (a compensation, Neutralise); undo restores the one before."""
        sites, codes = as_flips(flips)
        if len(sites):
            occ = self.model.occupancy
            # keep the last flip per site, drop no-ops
            _, last = np.unique(sites[::-1], return_index=True)
            keep = len(sites) - 1 - last
            sites, codes = sites[keep], codes[keep]
            changed = occ[sites] != codes
            sites, codes = sites[changed], codes[changed]
        if not len(sites):
            return False
        self.undo_stack.push(FlipCommand(self, (sites, codes), label, valence))
        return True

    def set_occupancy(self, occupancy: np.ndarray, label: str, valence: dict | None = None) -> bool:
        """Replace the occupancy as one undoable step (presets, Monte Carlo results)."""
        occupancy = np.asarray(occupancy, dtype=np.int8)
        changed = np.flatnonzero(occupancy != self.model.occupancy)
        return self.edit((changed, occupancy[changed]), label, valence)

    # ------------------------------------------------------------------ snapshots (not edits)
    def set_snapshots(self, key: str, snapshots: list[dict]) -> None:
        """Replace the named snapshots kept in the model's metadata. Not an undo step (Ctrl+Z undoes
        edits, not bookkeeping) but a change to save."""
        self.model.metadata[key] = [dict(s) for s in snapshots]
        self._metadata_modified = True
        self.sigSnapshotsChanged.emit()

    # ------------------------------------------------------------------ saved state
    def mark_saved(self) -> None:
        self.undo_stack.setClean()
        if self._metadata_modified:
            self._metadata_modified = False
            self.sigSnapshotsChanged.emit()

    @property
    def modified(self) -> bool:
        return self._metadata_modified or not self.undo_stack.isClean()
