"""Every undoable command of the editor, in one place (one user action = one command or one macro).

    FlipCommand           occupancy flips [(site, species code)]; undo applies the inverse Model.apply returned
    ReplaceModelCommand   another model (supercell change); undo puts the old one back
    OxidationCommand      the per-species oxidation table (state of charge, snapshots)

Commands change the document's model only through `Model.apply`, `Model.set_oxidation` or
`Document.set_model`; the document turns the model's notifications into its signals, so no command
needs a listener of its own. Named snapshots are not edits (Ctrl+Z after taking one undoes the last
edit): they live in the model's metadata and mark the document modified (`Document.set_snapshots`).
"""
from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from core.structure.model import as_flips


class FlipCommand(QUndoCommand):
    """Apply a list of (site, species) flips; undo applies the inverse that `Model.apply` returned.
    `valence`: the model's metadata["valence"] after the flips (how its charges came about: a
    neutralising edit records its compensation there), restored on undo; None leaves it alone."""

    def __init__(self, document, flips, label: str, valence: dict | None = None):
        super().__init__(label)
        self._doc = document
        sites, codes = as_flips(flips)
        self._flips = (sites.copy(), codes.copy())
        self._inverse = None
        self._valence = None if valence is None else (dict(valence), None)

    def _set_valence(self, which: int) -> None:
        # before the flips, so views redrawing on the change read the matching note
        if self._valence is not None:
            md = self._doc.model.metadata
            if which == 0:
                self._valence = (self._valence[0], md.get("valence"))
            value = self._valence[which]
            if value is None:
                md.pop("valence", None)
            else:
                md["valence"] = value

    def redo(self):
        self._set_valence(0)
        self._inverse = self._doc.model.apply(self._flips)

    def undo(self):
        self._set_valence(1)
        self._doc.model.apply(self._inverse)

    @property
    def n_flips(self) -> int:
        return len(self._flips[0])


class ReplaceModelCommand(QUndoCommand):
    """Swap the document's model (a supercell change) keeping the undo history."""

    def __init__(self, document, new_model, label: str):
        super().__init__(label)
        self.doc = document
        self.old = document.model
        self.new = new_model

    def redo(self):
        self.doc.set_model(self.new, clear_undo=False)

    def undo(self):
        self.doc.set_model(self.old, clear_undo=False)


class OxidationCommand(QUndoCommand):
    """Set the per-species oxidation table (species -> charge in e)."""

    def __init__(self, doc, oxidation: dict, label: str):
        super().__init__(label)
        self.doc = doc
        self.old = dict(doc.model.oxidation)
        self.new = dict(oxidation)

    def _set(self, table):
        model = self.doc.model
        for sym in [s for s in table if model.oxidation.get(s) != table[s]]:
            model.set_oxidation(sym, table[sym])

    def redo(self):
        self._set(self.new)

    def undo(self):
        self._set(self.old)
