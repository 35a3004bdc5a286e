"""Colours shared by the panels: the editor's species colour schemes (gui/colors.py), with the VESTA
VESTA colours (docs/science.md §10) as a fallback, so 2D and 3D views agree."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from core.structure.species import ELEMENT, SPECIES

#: VESTA colours (pymatgen vis/ElementColorSchemes.yaml); vacancy light grey.
VESTA_HEX = {"Va": "#D8D8D8", "Li": "#86DF73", "Na": "#F9DC3C", "Mg": "#FB7B15", "Ni": "#B7BBBD",
             "Co": "#0000AF", "Mn": "#A7089D", "Al": "#81B2D6", "Ti": "#78CAFF", "Fe": "#B57100",
             "O": "#FE0300"}

#: Curve colours for energy plots (colour-blind safe, Okabe-Ito).
CURVE = {"coulomb": "#0072B2", "repulsion": "#D55E00", "total": "#000000", "current": "#0072B2",
         "best": "#D55E00", "window": (230, 159, 0, 60)}


def _hex_to_rgba(h: str) -> tuple[float, float, float, float]:
    h = h.lstrip("#")
    return tuple(int(h[i:i + 2], 16) / 255.0 for i in (0, 2, 4)) + (1.0,)


def _editor_table(scheme: str | None = None):
    """(len(SPECIES), 4) float RGBA from the editor's colour schemes (gui/colors.py), else None."""
    from gui import colors
    try:
        out = [colors.species_color(sym, scheme).getRgbF() for sym in SPECIES]
    except Exception:  # resources missing in an unusual install: fall back to VESTA below
        return None
    return np.array(out, np.float32)


@lru_cache(maxsize=8)
def species_rgba(scheme: str | None = None) -> np.ndarray:
    """(len(SPECIES), 4) float32 RGBA in 0..1, indexed by species code (read-only, cached)."""
    table = _editor_table(scheme)
    if table is not None:
        return table
    return np.array([_hex_to_rgba(VESTA_HEX.get(el, "#808080")) for el in ELEMENT], np.float32)
