"""Picture output of the layer view: PNG at 2x/4x, SVG for slides, and the overlay colour key."""
from __future__ import annotations

from PySide6.QtCore import QRectF, Qt


def export_png(plot_item, path, scale: int = 2) -> None:
    """PNG of a pyqtgraph PlotItem at `scale` times its on-screen size (symbols re-rendered, not
    upscaled: pyqtgraph's export mode draws each point as a path at the target resolution)."""
    from pyqtgraph.exporters import ImageExporter
    exp = ImageExporter(plot_item)
    exp.parameters()["width"] = int(plot_item.sceneBoundingRect().width() * scale)
    exp.parameters()["antialias"] = True
    exp.export(str(path))


def export_svg(plot_item, path) -> None:
    """SVG of a PlotItem with vector symbols.

    pyqtgraph 0.14's SVGExporter cannot parse the path syntax Qt 6.11's QSvgGenerator writes, so the
    scene is painted straight into a QSvgGenerator with the items in export (vector) mode."""
    from pyqtgraph.exporters.Exporter import Exporter
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    class _Svg(Exporter):
        def export(self, fileName=None, toBytes=False, copy=False):
            src = self.getSourceRect()
            gen = QSvgGenerator()
            gen.setFileName(fileName)
            gen.setSize(src.size().toSize())
            gen.setViewBox(QRectF(0, 0, src.width(), src.height()))
            gen.setTitle("Layer Studio layer view")
            painter = QPainter(gen)
            try:
                self.setExportMode(True, {"antialias": True, "background": "w", "painter": painter,
                                          "resolutionScale": 1.0})
                painter.fillRect(QRectF(0, 0, src.width(), src.height()), Qt.white)
                self.render(painter, QRectF(0, 0, src.width(), src.height()), src)
            finally:
                self.setExportMode(False)
                painter.end()

    _Svg(plot_item).export(str(path))


def legend_html(value_range, cmap, show_lioli: bool) -> str:
    """Rich-text colour key: site-energy range (eV) if `value_range` is a (lo, hi) tuple, and the
    Li-O-Li count colours if `show_lioli`. Empty string when no overlay is active."""
    from .colors import LIOLI_COLORS
    parts = []
    if value_range:
        lo, hi = value_range
        low = cmap.brushes[0].color().name()
        high = cmap.brushes[-1].color().name()
        parts.append(f"Site energy: <span style='color:{low}'>&#9679;</span> {lo:.2f} … "
                     f"<span style='color:{high}'>&#9679;</span> {hi:.2f} eV")
    if show_lioli:
        dots = " ".join(f"<span style='color:{c}'>&#9679;</span>{n}" for n, c in enumerate(LIOLI_COLORS))
        parts.append(f"O by Li-O-Li axes: {dots}")
    return "<br>".join(parts)
