"""Figure export: any view (2D layer view, 3D view, compare mode) at 4x resolution, and animated GIFs
(a migration path, a Monte Carlo run) written with Pillow.

Qt widgets are rendered through a QPainter scaled by the factor, so pyqtgraph items (vector graphics)
are redrawn sharply at the higher resolution rather than upsampled. OpenGL views render themselves
into a framebuffer of the larger size (`View3D.render_image`).
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QBuffer, QIODevice, QPoint, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QWidget

from core.errors import LayerStudioError

SCALE = 4


class FigureExportError(LayerStudioError):
    """A figure or animation could not be written (path, format or an empty animation)."""


PREVIEW_BANNER = "previewBanner"   # objectName of the "preview, not applied" note on a view


@contextmanager
def figure_pens(widget: QWidget, scale: float):
    """Cosmetic pens (a width in screen pixels: rings, cell outline, paths, plot curves) widened by
    `scale` for the duration, so lines keep their on-screen weight in a figure drawn at `scale`x."""
    import pyqtgraph as pg
    saved = []
    views = [v for v in [widget, *widget.findChildren(QWidget)] if isinstance(v, pg.GraphicsView)]
    for view in views:
        for item in view.scene().items():
            if isinstance(item, pg.PlotCurveItem):
                pen = pg.mkPen(item.opts["pen"])
                if pen.isCosmetic() and pen.style() != Qt.NoPen:
                    saved.append((item, pen))
                    wide = pg.mkPen(pen)
                    wide.setWidthF(max(pen.widthF(), 1.0) * scale)
                    item.setPen(wide)
            elif isinstance(item, pg.InfiniteLine):
                pen = pg.mkPen(item.pen)
                saved.append((item, pen))
                wide = pg.mkPen(pen)
                wide.setWidthF(max(pen.widthF(), 1.0) * scale)
                item.setPen(wide)
    try:
        yield
    finally:
        for item, pen in saved:
            item.setPen(pen)


@contextmanager
def without_preview_banner(widget: QWidget, keep: bool = False):
    """Hide the "preview, not applied" banner of `widget` while a figure is drawn (unless `keep`)."""
    hidden = [] if keep else [w for w in widget.findChildren(QWidget, PREVIEW_BANNER) if w.isVisible()]
    for w in hidden:
        w.hide()
    try:
        yield
    finally:
        for w in hidden:
            w.show()


def preview_banner_wanted() -> bool:
    """The user's choice (File > Figures include the preview note); off by default."""
    from gui import settings
    return bool(settings.value(PREVIEW_SETTING, False))


PREVIEW_SETTING = "figures/preview_banner"


def render_widget(widget: QWidget, scale: int = SCALE, preview_banner: bool | None = None) -> QImage:
    """QImage of `widget` (and its children) at `scale` x its size, white background; line widths
    scaled with it; the preview banner left out unless `preview_banner` (None: the user's setting)."""
    if hasattr(widget, "render_image"):  # OpenGL views draw their own framebuffer
        return widget.render_image(scale)
    if preview_banner is None:
        preview_banner = preview_banner_wanted()
    with without_preview_banner(widget, preview_banner), figure_pens(widget, scale):
        return _render(widget, scale)


def _render(widget: QWidget, scale: int) -> QImage:
    w, h = max(widget.width(), 1), max(widget.height(), 1)
    img = QImage(w * scale, h * scale, QImage.Format_ARGB32)
    img.fill(Qt.white)
    painter = QPainter(img)
    painter.setRenderHint(QPainter.Antialiasing)
    painter.setRenderHint(QPainter.TextAntialiasing)
    painter.scale(scale, scale)
    try:
        # QWidget.render explicitly: QGraphicsView (pyqtgraph) overrides render() with a scene-only
        # version; this one paints the whole widget and its children through the scaled painter
        QWidget.render(widget, painter, QPoint(0, 0))
    finally:
        painter.end()
    return img


def export_figure(widget: QWidget, path, scale: int = SCALE, preview_banner: bool | None = None) -> Path:
    """Write `widget` at `scale` x resolution to `path` (.png, .jpg or .tif by suffix); the
    "preview, not applied" banner only with `preview_banner`."""
    path = Path(path)
    if path.suffix.lower() not in (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"):
        raise FigureExportError(f"cannot write a figure as {path.suffix or 'a file without suffix'}: "
                                "use .png, .jpg or .tif")
    img = render_widget(widget, scale, preview_banner)
    if img.isNull() or not img.save(str(path)):
        raise FigureExportError(f"could not write {path} (folder missing or not writable?)")
    return path


def grab_window(window: QWidget) -> QImage:
    """The window as on screen. `QWidget.grab` cannot see into an OpenGL window (the 3D view draws into one
    in a window container), so each one visible is rendered and painted in its place."""
    img = window.grab().toImage()
    surfaces = [w for w in window.findChildren(QWidget) if hasattr(w, "render_image") and hasattr(w, "container")]
    painter = QPainter(img)
    try:
        for view in surfaces:
            box = view.container
            if box.isVisible() and box.window() is window and box.width() > 1 and box.height() > 1:
                painter.drawImage(box.mapTo(window, QPoint(0, 0)), view.render_image(1, key=False))   # key: above it
    finally:
        painter.end()
    return img


def qimage_to_pil(img: QImage):
    """Pillow RGB image of a QImage (through an in-memory PNG: robust to every QImage format)."""
    import io

    from PIL import Image

    buf = QBuffer()
    buf.open(QIODevice.WriteOnly)
    img.save(buf, "PNG")
    data = bytes(buf.data())
    buf.close()
    return Image.open(io.BytesIO(data)).convert("RGB")


def write_gif(frames, path, duration_ms: int = 120, loop: int = 0) -> Path:
    """Animated GIF from a list of QImage or PIL images (all converted to one shared palette size)."""
    path = Path(path)
    if path.suffix.lower() != ".gif":
        raise FigureExportError(f"an animation is written as .gif, not {path.suffix or 'no suffix'}")
    pil = [qimage_to_pil(f) if isinstance(f, QImage) else f.convert("RGB") for f in frames]
    if not pil:
        raise FigureExportError("nothing to animate: the animation has no frames")
    size = pil[0].size
    pil = [p if p.size == size else p.resize(size) for p in pil]
    pal = [p.quantize(colors=255, method=2) for p in pil]  # median cut; GIF has 256 colours
    try:
        pal[0].save(str(path), save_all=True, append_images=pal[1:], duration=duration_ms, loop=loop,
                    optimize=False, disposal=2)
    except OSError as exc:
        raise FigureExportError(f"could not write {path}: {exc}") from None
    return path


def animate(widget: QWidget, set_frame, n_frames: int, path, *, scale: int = 1,
            duration_ms: int = 120, process_events=None) -> Path:
    """Call `set_frame(k)` for k in 0..n_frames-1, grab `widget` after each, and write a GIF."""
    from PySide6.QtWidgets import QApplication

    frames = []
    for k in range(n_frames):
        set_frame(k)
        (process_events or QApplication.processEvents)()
        frames.append(render_widget(widget, scale))
    return write_gif(frames, path, duration_ms=duration_ms)


def gif_frame_count(path) -> int:
    from PIL import Image
    with Image.open(path) as im:
        return int(getattr(im, "n_frames", 1))


def image_size(path) -> tuple[int, int]:
    from PIL import Image
    with Image.open(path) as im:
        return im.size


__all__ = ["render_widget", "export_figure", "write_gif", "animate", "FigureExportError", "SCALE",
           "gif_frame_count", "image_size"]
