"""Species legend: which colour is which ion, with its oxidation state, drawn inside a pyqtgraph view.

The legend is a pyqtgraph `LegendItem` in the view's scene, so it is part of everything the view
draws: the screen, lab-meeting mode, `File > Export` (PNG/SVG through pyqtgraph's exporters) and the
4x figures (`gui.panels.figures.render_widget`).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from core.structure.species import SPECIES, VACANCY

from .colors import SpeciesStyle


def oxidation_text(value: float) -> str:
    """'4+', '2−', '0', '1.5−': a formal charge written as chemists write it."""
    if abs(value) < 1e-9:
        return "0"
    sign = "+" if value > 0 else "−"
    mag = abs(value)
    num = f"{mag:.0f}" if abs(mag - round(mag)) < 1e-6 else f"{mag:.2f}".rstrip("0")
    return f"{num}{sign}"


def legend_entries(model, sites=None, with_oxygen: bool = False, occupancy=None) -> list[tuple[int, str]]:
    """(species code, label) for each species present on `sites` (default: every site of the model),
    in the order of `core.structure.species.SPECIES`; O added if `with_oxygen`. Labels carry the
    oxidation state of the model ("Mn4+", "O2−"); a vacancy reads "vacancy". `occupancy`: use this
    (N,) array instead of the model's own (a preview)."""
    occ = model.occupancy if occupancy is None else np.asarray(occupancy)
    occ = occ if sites is None else occ[np.asarray(sites, dtype=np.int64)]
    codes = sorted(set(int(c) for c in np.unique(occ)))
    if with_oxygen and SPECIES.index("O") not in codes:
        codes.append(SPECIES.index("O"))
    out = []
    for code in codes:
        if code == VACANCY:
            out.append((code, "vacancy"))
            continue
        sym = SPECIES[code]
        ox = model.oxidation.get(sym)
        out.append((code, sym + oxidation_text(ox) if ox is not None else sym))
    return out


class SpeciesLegend(pg.LegendItem):
    """A colour key of the species shown in a view (anchored to a corner of its ViewBox).

    `set_entries(entries, scheme)`: entries from `legend_entries`. `set_scale(f)` enlarges text and
    discs (lab-meeting mode)."""

    def __init__(self, viewbox, corner=(1, 1), offset=(-8, -8)):
        super().__init__(offset=offset, labelTextSize="10pt", brush=pg.mkBrush(255, 255, 255, 225),
                         pen=pg.mkPen(190, 190, 190), verSpacing=-4,
                         labelTextColor="k")
        self.setParentItem(viewbox)
        self.anchor(itemPos=corner, parentPos=corner, offset=offset)
        self.setZValue(1000)
        self._scale = 1.0
        self._entries: list[tuple[int, str]] = []
        self._scheme = None

    def set_entries(self, entries, scheme: str | None = None) -> None:
        if list(entries) == self._entries and scheme == self._scheme:
            return
        self._entries, self._scheme = list(entries), scheme
        self._redraw()

    def set_scale(self, factor: float) -> None:
        self._scale = float(factor)
        self._redraw()

    def labels(self) -> list[str]:
        return [label.text for _sample, label in self.items]

    def _redraw(self) -> None:
        """Restyle the existing rows in place and add or drop rows at the end: rebuilding every row
        (a sample and a LabelItem each, ~2.5 ms a row) would sit in the click -> repaint path."""
        style = SpeciesStyle(self._scheme)
        font = f"{10 * self._scale:.0f}pt"
        if self.opts["labelTextSize"] != font:
            self.clear()
            self.opts["labelTextSize"] = font
        while len(self.items) > len(self._entries):
            self.removeItem(self.items[-1][0].item)
        size = 12 * self._scale
        for row, (code, text) in enumerate(self._entries):
            if row < len(self.items):
                sample, label = self.items[row]
                sample.item.setBrush(style.brushes[code])
                sample.item.setPen(style.pens[code])
                sample.item.setSize(size)
                sample.update()
                if label.text != text:
                    label.setText(text)
            else:
                self.addItem(pg.ScatterPlotItem(symbol="o", size=size, brush=style.brushes[code],
                                                pen=style.pens[code]), text)
        self.updateSize()
        self.setVisible(bool(self._entries))


def legend_html(entries, colors) -> str:
    """Rich text of the entries: a coloured disc and the label each; `colors[code]` a QColor or '#rrggbb'."""
    parts = []
    for code, text in entries:
        c = colors[code]
        name = c.name() if hasattr(c, "name") else str(c)
        parts.append(f"<span style='color:{name}; font-size:large'>&#9679;</span>&nbsp;{text}")
    return "&nbsp;&nbsp; ".join(parts)


def paint_legend(image, entries, colors, scale: float = 1.0) -> None:
    """Draw the entries as a boxed key in the bottom-right corner of `image` (a QImage, in place);
    `scale`: the export factor (text, discs and margins grow with it)."""
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QPainter, QPen

    if not entries:
        return
    p = QPainter(image)
    p.setRenderHint(QPainter.Antialiasing)
    p.setRenderHint(QPainter.TextAntialiasing)
    font = QFont()
    font.setPixelSize(max(int(13 * scale), 8))
    p.setFont(font)
    fm = p.fontMetrics()
    row = fm.height() * 1.25
    disc = fm.height() * 0.8
    pad = 6 * scale
    w = pad * 3 + disc + max(fm.horizontalAdvance(t) for _c, t in entries)
    h = pad * 2 + row * len(entries)
    box = QRectF(image.width() - w - 8 * scale, image.height() - h - 8 * scale, w, h)
    p.setPen(QPen(QColor(190, 190, 190), max(scale, 1.0)))
    p.setBrush(QColor(255, 255, 255, 225))
    p.drawRect(box)
    for k, (code, text) in enumerate(entries):
        y = box.top() + pad + k * row
        col = colors[code]
        p.setPen(QPen(QColor(40, 40, 40), max(scale, 1.0)))
        p.setBrush(QColor(col))
        p.drawEllipse(QRectF(box.left() + pad, y + (row - disc) / 2, disc, disc))
        p.setPen(Qt.black)
        p.drawText(QRectF(box.left() + 2 * pad + disc, y, w, row), Qt.AlignVCenter | Qt.AlignLeft, text)
    p.end()
