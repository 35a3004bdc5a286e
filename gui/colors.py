"""Species colour schemes and the cached QBrush/QPen tables the layer view draws with.

pyqtgraph renders one symbol image per distinct brush/pen object, so every point of one species must
share the *same* QBrush and QPen (a distinct colour per point is about 20x slower to draw).
Continuous overlays (site energy) are quantised to a fixed table of `N_BINS` colours for the same reason.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QPen

from core.structure.species import SPECIES, VACANCY

N_BINS = 32  # colours in a quantised colour map (site-energy and Li-O-Li overlays)


@lru_cache(maxsize=1)
def _config() -> dict:
    return json.loads(resources.files("resources").joinpath("colors.json").read_text())


def scheme_names() -> list[str]:
    return list(_config()["schemes"])


def default_scheme() -> str:
    return _config()["default"]


def extra_color(name: str) -> QColor:
    """A named non-species colour from colors.json (outline, motif_ring, hover)."""
    return QColor(_config()[name])


def species_color(symbol: str, scheme: str | None = None) -> QColor:
    """Colour of a species label. An ion occupant (Ni2+, Ni3+) takes its element's colour, lighter for
    its lower states and darker for its higher ones, so charges stay told apart in one hue."""
    table = _config()["schemes"].get(scheme or default_scheme()) or _config()["schemes"][default_scheme()]
    if symbol in table:
        return QColor(table[symbol])
    from core.structure.species import CODE, ELEMENT, FIXED_CHARGE, STATES

    code = CODE.get(symbol)
    if code is None or ELEMENT[code] == symbol:
        return QColor(table.get(symbol, "#808080"))
    el = ELEMENT[code]
    base = QColor(table.get(el, "#808080"))
    states = STATES[el][1]
    step = states.index(int(FIXED_CHARGE[code])) - (len(states) - 1) / 2
    return base.lighter(int(100 + 35 * -step)) if step < 0 else base.darker(int(100 + 45 * step)) if step > 0 \
        else base


class SpeciesStyle:
    """Per-species QBrush/QPen tables (indexed by species code) for one scheme and fade level.

    `brushes[code]`, `pens[code]`: object arrays (len(SPECIES),). Vacancies get no fill and a thick
    outline (an open circle); everything else a filled disc with a thin dark rim.
    """

    def __init__(self, scheme: str | None = None, alpha: int = 255):
        self.scheme = scheme if scheme in scheme_names() else default_scheme()
        self.alpha = alpha
        self.brushes = np.empty(len(SPECIES), dtype=object)
        self.pens = np.empty(len(SPECIES), dtype=object)
        rim = QColor(40, 40, 40, alpha)
        for code, sym in enumerate(SPECIES):
            col = species_color(sym, self.scheme)
            col.setAlpha(alpha)
            if code == VACANCY:
                self.brushes[code] = QBrush(Qt.NoBrush)
                pen = QPen(col)
                pen.setWidthF(2.0)
            else:
                self.brushes[code] = QBrush(col)
                pen = QPen(rim)
                pen.setWidthF(1.0)
            pen.setCosmetic(True)
            self.pens[code] = pen

    def color(self, code: int) -> QColor:
        return species_color(SPECIES[code], self.scheme)


class ValueColormap:
    """A diverging map quantised to `N_BINS` shared brushes, for per-site values (e.g. eV).

    `brushes_for(values, vmin, vmax)` returns an object array of QBrush (one of N_BINS per value).
    """

    def __init__(self, low: str = "#2166AC", mid: str = "#F7F7F7", high: str = "#B2182B", alpha: int = 255):
        lo, mi, hi = (np.array(QColor(c).getRgb()[:3], float) for c in (low, mid, high))
        t = np.linspace(0.0, 1.0, N_BINS)
        cols = np.where(t[:, None] < 0.5, lo + (mi - lo) * (t[:, None] / 0.5),
                        mi + (hi - mi) * ((t[:, None] - 0.5) / 0.5))
        self.brushes = np.empty(N_BINS, dtype=object)
        for k, (r, g, b) in enumerate(cols.round().astype(int)):
            self.brushes[k] = QBrush(QColor(int(r), int(g), int(b), alpha))

    def bins(self, values: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
        span = vmax - vmin if vmax > vmin else 1.0
        return np.clip(((np.asarray(values) - vmin) / span * (N_BINS - 1)).round(), 0, N_BINS - 1).astype(int)

    def brushes_for(self, values: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
        return self.brushes[self.bins(values, vmin, vmax)]


#: Colours of O sites by number of Li-O-Li (A-O-A') axes, 0..3 (white -> deep red).
LIOLI_COLORS = ("#FFFFFF", "#FDAE61", "#E34A33", "#7F0000")


@lru_cache(maxsize=4)
def lioli_brushes(alpha: int = 255) -> tuple[QBrush, ...]:
    out = []
    for c in LIOLI_COLORS:
        col = QColor(c)
        col.setAlpha(alpha)
        out.append(QBrush(col))
    return tuple(out)
