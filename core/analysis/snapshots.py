"""Named snapshots of a model's state and the states they describe (Qt-free).

Snapshots are kept in ``model.metadata["snapshots"]`` (saved verbatim in the project file) as a list of
``{"name": str, "occupancy": list[int] (N,), "oxidation": {species: float}}``. A snapshot describes a
state of the same supercell; `with_state` makes that state a detached Model for analysis or display.
"""
from __future__ import annotations

import numpy as np

from core.errors import LayerStudioError
from core.structure.model import Model

KEY = "snapshots"


class SnapshotError(LayerStudioError):
    """A snapshot that does not fit the current model (other supercell) or does not exist."""


def with_state(model: Model, occupancy=None, oxidation=None) -> Model:
    """A detached copy of `model` (same supercell object) with another occupancy (N,) and/or oxidation
    table; it has no listeners, so analysing or displaying it never touches the document."""
    occ = model.occupancy if occupancy is None else np.asarray(occupancy, dtype=np.int8)
    ox = model.oxidation if oxidation is None else oxidation
    return Model(model.supercell, occ.copy(), dict(ox), dict(model.metadata))


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


def snapshot_model(model, snap: dict) -> Model:
    """The state a snapshot describes, as a detached Model of `model`'s supercell."""
    occ, ox = snapshot_state(model, snap)
    return with_state(model, occ, ox)


def unique_name(model, base: str) -> str:
    names = {s.get("name") for s in snapshots(model)}
    if base not in names:
        return base
    k = 2
    while f"{base} ({k})" in names:
        k += 1
    return f"{base} ({k})"


def ewald_energy(model: Model) -> float:
    """Total Ewald energy (eV per cell) of a model, from the cached engine of its supercell."""
    from core.energy.ewald import get_engine
    return float(get_engine(model.supercell).energy(model.charges()))


def energy_difference(model: Model, left: dict, right: dict) -> float:
    """E(right) - E(left) of two snapshots of `model`'s supercell, eV per MO2 (electrostatic only)."""
    a, b = snapshot_model(model, left), snapshot_model(model, right)
    return (ewald_energy(b) - ewald_energy(a)) / model.formula_units()


__all__ = ["KEY", "SnapshotError", "with_state", "snapshots", "make_snapshot", "snapshot_state",
           "snapshot_model", "unique_name", "ewald_energy", "energy_difference"]
