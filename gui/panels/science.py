"""Thin, Qt-free access to the core analyses the panels display.

Each readout appears only when its core module exists (never a fake number): a missing module gives
`None`/an absent key, not a stand-in value.
"""
from __future__ import annotations

import numpy as np

from core.errors import LayerStudioError
from core.structure.model import Model


def ewald_energy(model: Model, occupancy: np.ndarray | None = None,
                 oxidation: dict | None = None) -> float | None:
    """Total Ewald energy (eV per cell) of `model` or of the same supercell with another occupancy and
    oxidation table; None when core.energy.ewald is not available."""
    try:
        from core.energy.ewald import get_engine
    except ImportError:
        return None
    m = model if occupancy is None and oxidation is None else with_state(model, occupancy, oxidation)
    return float(get_engine(m.supercell).energy(m.charges()))


def with_state(model: Model, occupancy=None, oxidation=None) -> Model:
    """A detached copy of `model` with another occupancy and/or oxidation table (no listeners)."""
    occ = model.occupancy if occupancy is None else np.asarray(occupancy, dtype=np.int8)
    ox = model.oxidation if oxidation is None else oxidation
    return Model(model.supercell, occ.copy(), dict(ox), dict(model.metadata))


def ordering_label(model: Model) -> str | None:
    """'honeycomb (sqrt3 x sqrt3 R30) 94 %' or 'sqrt7 x sqrt7 R19.1 100 %' from
    core.orderings.recognition, or None when it is unavailable."""
    try:
        from core.orderings.recognition import recognise
    except ImportError:
        return None
    try:
        r = recognise(model)
    except Exception:  # recognition of an odd layer must not break a listing
        return None
    label = r.get("label", "?")
    cell = (r.get("superlattice") or {}).get("name")
    if cell and cell != label:      # a motif on its superlattice: "honeycomb (sqrt3 x sqrt3 R30)"
        label = f"{label} ({cell})"
    conf = r.get("confidence")
    return f"{label} {100 * conf:.0f} %" if conf is not None else str(label)


def readouts(model: Model) -> dict[str, str]:
    """Human-readable readouts (name -> text) of a model, for compare mode and lab-meeting captions."""
    out = {"formula": model.layer_formula()}
    fu = model.formula_units()
    e = ewald_energy(model)
    if e is not None:
        out["Ewald energy"] = f"{e / fu:.4f} eV/MO2 (electrostatic only)"
    q = model.net_charge
    out["net charge"] = f"{q:+.2f} e" if abs(q) > 1e-9 else "0 (neutral)"
    lab = ordering_label(model)
    if lab is not None:
        out["ordering"] = lab
    try:
        from core.analysis.capacity import capacity_summary
    except ImportError:
        capacity_summary = None
    if capacity_summary is not None:
        try:
            cap = capacity_summary(model)["capacity_mAh_g"]
            out["capacity"] = (f"{cap['total']:.1f} mAh/g (cationic {cap['cationic']:.1f}, "
                               f"anionic {cap['anionic']:.1f})")
        except LayerStudioError as exc:  # e.g. no extractable alkali: say so instead of a number
            out["capacity"] = str(exc)
    try:
        from core.analysis.oxygen import oxygen_summary
    except ImportError:
        oxygen_summary = None
    if oxygen_summary is not None:
        ox = oxygen_summary(model)
        out["Li-O-Li per O"] = (f"{ox['li_o_li_mean_per_O']:.3f} "
                                f"({100 * ox['fraction_with_li_o_li']:.0f} % of O have one)")
    return out
