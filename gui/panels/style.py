"""Colours shared by the panels: the editor's species colour table when it exists (gui/colors.py), else
the VESTA colours of the reference file (section 10), so 2D and 3D views agree."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from core.species import SPECIES

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


@lru_cache(maxsize=1)
def _editor_table():
    """(len(SPECIES), 4) float RGBA from gui.colors if the editor provides one, else None."""
    try:
        from gui import colors  # noqa: WPS433 - optional sibling module
    except ImportError:
        return None
    for name in ("species_rgba", "rgba_table"):
        fn = getattr(colors, name, None)
        if callable(fn):
            try:
                arr = np.asarray(fn(), dtype=np.float32)
            except TypeError:
                continue
            if arr.shape == (len(SPECIES), 4):
                return arr / 255.0 if arr.max() > 1.0 else arr
    table = getattr(colors, "VESTA", None) or getattr(colors, "SPECIES_COLORS", None)
    if isinstance(table, dict) and all(s in table for s in SPECIES if s != "Va"):
        out = []
        for s in SPECIES:
            c = table.get(s, VESTA_HEX["Va"])
            out.append(_hex_to_rgba(c) if isinstance(c, str) else tuple(np.asarray(c, float)[:4] / 255.0)
                       + ((1.0,) if len(c) == 3 else ()))
        return np.array(out, np.float32)
    return None


def species_rgba() -> np.ndarray:
    """(len(SPECIES), 4) float32 RGBA in 0..1, indexed by species code."""
    table = _editor_table()
    if table is not None:
        return table
    return np.array([_hex_to_rgba(VESTA_HEX[s]) for s in SPECIES], np.float32)


def species_qcolor(code: int):
    from PySide6.QtGui import QColor
    r, g, b, a = species_rgba()[code]
    return QColor.fromRgbF(float(r), float(g), float(b), float(a))
