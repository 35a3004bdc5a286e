"""Named snapshots of a model's state, kept in ``model.metadata["snapshots"]`` (saved verbatim in the
project file) as a list of ``{"name": str, "occupancy": list[int] (N,), "oxidation": {species: float}}``.

Adding, renaming and removing a snapshot and going to one are undoable commands on the document's stack,
so the unsaved-changes flag sees them and Ctrl+Z takes them back.
"""
from __future__ import annotations

import weakref

import numpy as np
from PySide6.QtGui import QUndoCommand

from core.errors import EditError, LayerStudioError

KEY = "snapshots"


class SnapshotError(LayerStudioError):
    """A snapshot that does not fit the current model (other supercell) or does not exist."""


def snapshots(model) -> list[dict]:
    """The model's snapshot list (the live list in its metadata; empty if none)."""
    snaps = model.metadata.get(KEY)
    return snaps if isinstance(snaps, list) else []


def make_snapshot(model, name: str) -> dict:
    return {"name": str(name), "occupancy": [int(c) for c in model.occupancy],
            "oxidation": {k: float(v) for k, v in model.oxidation.items()}}


def snapshot_state(model, snap: dict) -> tuple[np.ndarray, dict]:
    """(occupancy (N,) int8, oxidation dict) of a snapshot, checked against the model's supercell."""
    occ = np.asarray(snap.get("occupancy", []), dtype=np.int64)
    if occ.shape != (model.supercell.n_sites,):
        raise SnapshotError(f"snapshot {snap.get('name')!r} has {occ.size} sites; this model has "
                            f"{model.supercell.n_sites} (it was taken on another supercell)")
    ox = dict(model.oxidation)
    ox.update({k: float(v) for k, v in (snap.get("oxidation") or {}).items()})
    return occ.astype(np.int8), ox


def unique_name(model, base: str) -> str:
    names = {s.get("name") for s in snapshots(model)}
    if base not in names:
        return base
    k = 2
    while f"{base} ({k})" in names:
        k += 1
    return f"{base} ({k})"


class _SnapshotListCommand(QUndoCommand):
    """Replace the snapshot list (metadata only; the occupancy is untouched)."""

    def __init__(self, doc, new_list: list[dict], label: str, on_change=None):
        super().__init__(label)
        self.doc = doc
        self.old = [dict(s) for s in snapshots(doc.model)]
        self.new = [dict(s) for s in new_list]
        self.on_change = on_change

    def _set(self, lst):
        self.doc.model.metadata[KEY] = [dict(s) for s in lst]
        if self.on_change:
            self.on_change()

    def redo(self):
        self._set(self.new)

    def undo(self):
        self._set(self.old)


_OX_LISTENERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def register_oxidation_listener(doc, fn) -> None:
    """Call fn() after an `OxidationCommand` changes `doc`'s oxidation table (readouts that cache a
    charge table refresh it then; the model's own notification only lists the sites)."""
    _OX_LISTENERS.setdefault(doc, []).append(fn)


class OxidationCommand(QUndoCommand):
    """Set the per-species oxidation table (undoable); registered listeners are told afterwards."""

    def __init__(self, doc, oxidation: dict, label: str):
        super().__init__(label)
        self.doc = doc
        self.old = dict(doc.model.oxidation)
        self.new = dict(oxidation)

    def _set(self, table):
        model = self.doc.model
        changed = [s for s in table if model.oxidation.get(s) != table[s]]
        for sym in changed:
            model.set_oxidation(sym, table[sym])
        if changed:
            for fn in list(_OX_LISTENERS.get(self.doc, [])):
                fn()

    def redo(self):
        self._set(self.new)

    def undo(self):
        self._set(self.old)


def add_snapshot(doc, name: str, on_change=None) -> dict:
    snap = make_snapshot(doc.model, unique_name(doc.model, name))
    doc.undo_stack.push(_SnapshotListCommand(doc, snapshots(doc.model) + [snap],
                                             f"Snapshot '{snap['name']}'", on_change))
    return snap


def remove_snapshot(doc, index: int, on_change=None) -> None:
    lst = snapshots(doc.model)
    if not 0 <= index < len(lst):
        raise SnapshotError(f"no snapshot number {index + 1}")
    name = lst[index].get("name")
    doc.undo_stack.push(_SnapshotListCommand(doc, lst[:index] + lst[index + 1:],
                                             f"Delete snapshot '{name}'", on_change))


def rename_snapshot(doc, index: int, name: str, on_change=None) -> None:
    lst = [dict(s) for s in snapshots(doc.model)]
    if not 0 <= index < len(lst):
        raise SnapshotError(f"no snapshot number {index + 1}")
    old = lst[index].get("name")
    lst[index]["name"] = unique_name(doc.model, name) if name != old else name
    doc.undo_stack.push(_SnapshotListCommand(doc, lst, f"Rename snapshot '{old}'", on_change))


def go_to_snapshot(doc, index: int) -> bool:
    """Make the document's state that of snapshot `index` as ONE undo step. False if already there."""
    lst = snapshots(doc.model)
    if not 0 <= index < len(lst):
        raise SnapshotError(f"no snapshot number {index + 1}")
    occ, ox = snapshot_state(doc.model, lst[index])
    label = f"Go to snapshot '{lst[index].get('name')}'"
    ox_changed = any(doc.model.oxidation.get(k) != v for k, v in ox.items())
    occ_changed = bool(np.any(occ != doc.model.occupancy))
    if not (ox_changed or occ_changed):
        return False
    try:
        doc.undo_stack.beginMacro(label)
        if ox_changed:
            doc.undo_stack.push(OxidationCommand(doc, ox, label))
        if occ_changed:
            doc.set_occupancy(occ, label)
    except EditError as exc:
        raise SnapshotError(f"snapshot {lst[index].get('name')!r} is invalid: {exc}") from None
    finally:
        doc.undo_stack.endMacro()
    return True
