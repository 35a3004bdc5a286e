"""Snapshot actions on a document: take, rename, delete (bookkeeping, not undo steps) and go to one
(an edit: one undo step). The snapshot data and the states they describe are core.analysis.snapshots.
"""
from __future__ import annotations

import numpy as np

from core.analysis.snapshots import (
    KEY,
    SnapshotError,
    make_snapshot,
    snapshot_model,
    snapshot_state,
    snapshots,
    unique_name,
)
from core.errors import EditError

from ..commands import OxidationCommand

__all__ = ["SnapshotError", "snapshots", "make_snapshot", "snapshot_state", "snapshot_model", "unique_name",
           "add_snapshot", "remove_snapshot", "rename_snapshot", "go_to_snapshot"]


def add_snapshot(doc, name: str, on_change=None) -> dict:
    snap = make_snapshot(doc.model, unique_name(doc.model, name))
    doc.set_snapshots(KEY, snapshots(doc.model) + [snap])
    if on_change:
        on_change()
    return snap


def remove_snapshot(doc, index: int, on_change=None) -> None:
    lst = snapshots(doc.model)
    if not 0 <= index < len(lst):
        raise SnapshotError(f"no snapshot number {index + 1}")
    doc.set_snapshots(KEY, lst[:index] + lst[index + 1:])
    if on_change:
        on_change()


def rename_snapshot(doc, index: int, name: str, on_change=None) -> None:
    lst = [dict(s) for s in snapshots(doc.model)]
    if not 0 <= index < len(lst):
        raise SnapshotError(f"no snapshot number {index + 1}")
    old = lst[index].get("name")
    lst[index]["name"] = unique_name(doc.model, name) if name != old else name
    doc.set_snapshots(KEY, lst)
    if on_change:
        on_change()


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
