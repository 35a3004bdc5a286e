"""The GUI document: one `core.Model`, one QUndoStack, one vocabulary of edits (occupancy flips).

Every user action becomes one `FlipCommand` (or a macro of them) pushed on the stack; widgets never
mutate the model directly. The document re-emits the model's change notification as a Qt signal that
says which sites changed, so views recolour only those.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from core.structure.model import Model, as_flips


class FlipCommand(QUndoCommand):
    """Apply a list of (site, species) flips; undo applies the inverse that `Model.apply` returned."""

    def __init__(self, document: Document, flips, label: str):
        super().__init__(label)
        self._doc = document
        sites, codes = as_flips(flips)
        self._flips = (sites.copy(), codes.copy())
        self._inverse = None

    def redo(self):
        self._inverse = self._doc.model.apply(self._flips)

    def undo(self):
        self._doc.model.apply(self._inverse)

    @property
    def n_flips(self) -> int:
        return len(self._flips[0])


class Document(QObject):
    """Owns the model and its undo stack.

    Signals:
      sigSitesChanged(np.ndarray): occupancy of these site indices changed (after any edit/undo/redo).
      sigModelReplaced(): a different model (new supercell, file opened) was installed; views rebuild.
      sigPathChanged(str): the file path changed (after save as / open).
    """

    sigSitesChanged = Signal(object)
    sigModelReplaced = Signal()
    sigPathChanged = Signal(str)

    def __init__(self, model: Model, parent=None):
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.path: str | None = None
        self.model = None
        self.set_model(model)

    # ------------------------------------------------------------------ model
    def set_model(self, model: Model, *, clear_undo: bool = True) -> None:
        """Install a new model (new file, new supercell). The undo history is cleared by default."""
        if self.model is not None:
            self.model.remove_listener(self._on_model_changed)
        self.model = model
        model.add_listener(self._on_model_changed)
        if clear_undo:
            self.undo_stack.clear()
            self.undo_stack.setClean()
        self.sigModelReplaced.emit()

    def _on_model_changed(self, sites: np.ndarray) -> None:
        self.sigSitesChanged.emit(sites)

    # ------------------------------------------------------------------ edits
    def edit(self, flips, label: str) -> bool:
        """Push one undoable edit. Flips that change nothing are dropped; returns False if empty."""
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
        self.undo_stack.push(FlipCommand(self, (sites, codes), label))
        return True

    def set_occupancy(self, occupancy: np.ndarray, label: str) -> bool:
        """Replace the occupancy as one undoable step (presets, Monte Carlo results)."""
        occupancy = np.asarray(occupancy, dtype=np.int8)
        changed = np.flatnonzero(occupancy != self.model.occupancy)
        return self.edit((changed, occupancy[changed]), label)

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()
