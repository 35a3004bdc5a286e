"""3D view of the supercell (pyqtgraph.opengl): shaded sphere sprites, unit-cell box, axis views, picking.

Atoms are drawn by one `SphereSprites` item: a `GLScatterPlotItem` (pxMode=False, sizes in Angstrom) whose
fragment shader shades each point sprite as a lit sphere. On Mesa llvmpipe this stays at ~10 ms per frame
up to 8,000 atoms (measured on Mesa llvmpipe), where one merged sphere mesh costs 10-30x more.

The camera is "orthographic-like": a 2 degree field of view seen from far away, so layers stay parallel
and the view along a lattice vector shows clean columns.

The surface is a `QOpenGLWindow` in a window container, not a `QOpenGLWidget`: the latter makes Qt compose
the whole main window through OpenGL (every repaint of every view about twice as slow under software GL).

`make_view3d(parent)` returns a `View3D`, or a plain `QLabel` saying why when no OpenGL context can be made
(the offscreen platform, a missing driver): the rest of the window never depends on OpenGL.
"""
from __future__ import annotations

import functools
import operator
import os

import numpy as np
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QGuiApplication, QOffscreenSurface, QOpenGLContext, QSurfaceFormat, QWindow
from PySide6.QtWidgets import QLabel

from core.structure.species import ELEMENT, VACANCY

from .style import species_rgba

#: Display radii in Angstrom (ball-and-stick scale: about 0.45 x Shannon radius, O smaller than ionic so
#: the cations inside the octahedra stay visible).
DISPLAY_RADIUS = {"Li": 0.42, "Na": 0.52, "Mg": 0.40, "Ni": 0.38, "Co": 0.36, "Mn": 0.36, "Al": 0.34,
                  "Ti": 0.38, "Fe": 0.38, "O": 0.30, "Va": 0.0}

FOV_DEG = 2.0  # small field of view + far camera: nearly orthographic


def opengl_unavailable_reason() -> str | None:
    """None if an OpenGL context can be created on this platform, else a one-line reason."""
    if os.environ.get("LAYERSTUDIO_NO_3D"):
        return "switched off (LAYERSTUDIO_NO_3D is set)"
    app = QGuiApplication.instance()
    platform = QGuiApplication.platformName() if app else ""
    if platform in ("offscreen", "minimal", "vnc"):
        return f"the '{platform}' Qt platform has no OpenGL"
    try:
        ctx = QOpenGLContext()
        ctx.setFormat(QSurfaceFormat.defaultFormat())
        if not ctx.create():
            return "no OpenGL context could be created (driver missing?)"
        surf = QOffscreenSurface()
        surf.create()
        ok = ctx.makeCurrent(surf)
        if ok:
            ctx.doneCurrent()
        return None if ok else "the OpenGL context could not be made current"
    except Exception as exc:  # pragma: no cover - depends on the driver
        return f"OpenGL failed: {exc}"


def fallback_label(reason: str, parent=None) -> QLabel:
    label = QLabel(f"3D view unavailable: {reason}.\nThe 2D editor and every readout work without it.",
                   parent)
    label.setObjectName("view3dFallback")
    label.setAlignment(Qt.AlignCenter)
    label.setWordWrap(True)
    return label


def prepare_view3d() -> str | None:
    """None if a 3D view can be made (its OpenGL modules are then imported, so making it later is quick),
    else the reason why not."""
    reason = opengl_unavailable_reason()
    if reason is None:
        try:
            _make_view_class()
        except Exception as exc:  # pragma: no cover - driver dependent
            return f"OpenGL failed: {exc}"
    return reason


def make_view3d(parent=None, checked: bool = False):
    """A `View3D`, or a `QLabel` with the reason when OpenGL is unavailable (`checked`: the caller already
    asked `prepare_view3d`). Never raises."""
    reason = None if checked else opengl_unavailable_reason()
    if reason is not None:
        return fallback_label(reason, parent)
    try:
        return _make_view_class()(parent)
    except Exception as exc:  # pragma: no cover - driver dependent
        return fallback_label(f"OpenGL failed: {exc}", parent)


def cell_corners(lattice: np.ndarray) -> np.ndarray:
    """(8, 3) Angstrom: the corners of the parallelepiped spanned by the rows of `lattice` (corner k has
    fractional coordinates given by the bits of k, highest first)."""
    return np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)], float) @ lattice


def cell_edges(lattice: np.ndarray) -> np.ndarray:
    """(24, 3) Angstrom: the 12 edges of the parallelepiped spanned by the rows of `lattice`, as pairs."""
    corners = cell_corners(lattice)
    pairs = []
    for a in range(8):
        for b in range(a + 1, 8):
            ia = np.array([(a >> 2) & 1, (a >> 1) & 1, a & 1])
            ib = np.array([(b >> 2) & 1, (b >> 1) & 1, b & 1])
            if np.abs(ia - ib).sum() == 1:
                pairs += [corners[a], corners[b]]
    return np.array(pairs)


def camera_angles(direction: np.ndarray) -> tuple[float, float]:
    """(elevation, azimuth) in degrees of a GLViewWidget camera placed along +direction (looking down it)."""
    d = np.asarray(direction, float)
    d = d / np.linalg.norm(d)
    elev = float(np.degrees(np.arcsin(np.clip(d[2], -1, 1))))
    azim = float(np.degrees(np.arctan2(d[1], d[0])))
    return elev, azim


def project_points(view, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project (P, 3) Angstrom points into widget pixels: returns (xy (P, 2) device-independent px,
    depth (P,) camera distance). Uses the view's own projection and view matrices (a `View3D`'s surface)."""
    view = getattr(view, "surface", view)
    w, h = max(view.width(), 1), max(view.height(), 1)
    vp = (0, 0, w, h)
    proj = np.array(view.projectionMatrix(vp, vp).data(), float).reshape(4, 4).T
    mv = np.array(view.viewMatrix().data(), float).reshape(4, 4).T
    hom = np.column_stack([pts, np.ones(len(pts))])
    eye = hom @ mv.T
    clip = eye @ proj.T
    ndc = clip[:, :3] / clip[:, 3:4]
    x = (ndc[:, 0] + 1) * 0.5 * w
    y = (1 - ndc[:, 1]) * 0.5 * h
    return np.column_stack([x, y]), -eye[:, 2]


# The GL classes live behind a function so that importing this module never needs pyqtgraph.opengl.
_classes = {}


def _gl_classes():
    if _classes:
        return _classes
    import pyqtgraph.opengl as gl
    from OpenGL import GL
    from OpenGL.GL import shaders
    from pyqtgraph.opengl.items import GLScatterPlotItem as scatter_mod

    vert = scatter_mod.SHADER_CORE[GL.GL_VERTEX_SHADER]
    frag_core = """
        #ifdef GL_ES
        precision mediump float;
        #endif
        in vec4 v_color;
        out vec4 fragColor;
        void main()
        {
            // sphere impostor: the sprite's disc seen as a hemisphere lit from the upper left
            vec2 xy = (gl_PointCoord - 0.5) * 2.0;
            float r2 = dot(xy, xy);
            if (r2 > 1.0) discard;
            vec3 n = vec3(xy.x, -xy.y, sqrt(1.0 - r2));
            vec3 l = normalize(vec3(-0.4, 0.5, 0.8));
            float diff = max(dot(n, l), 0.0);
            float spec = pow(max(dot(reflect(-l, n), vec3(0.0, 0.0, 1.0)), 0.0), 24.0);
            vec3 c = v_color.rgb * (0.30 + 0.75 * diff) + vec3(0.35) * spec;
            // thin dark rim separates touching spheres of the same colour
            c *= mix(1.0, 0.55, smoothstep(0.80, 1.0, r2));
            fragColor = vec4(c, v_color.a);
        }
    """
    frag_legacy = frag_core.replace("in vec4 v_color;", "varying vec4 v_color;").replace(
        "out vec4 fragColor;", "").replace("fragColor", "gl_FragColor")

    class SphereSprites(gl.GLScatterPlotItem):
        """GLScatterPlotItem whose sprites are shaded as spheres; sizes are diameters in Angstrom."""

        def getShaderProgram(self):  # noqa: N802 - pyqtgraph's name
            # programs belong to one GL context: cache per view (pyqtgraph caches per class, which
            # breaks as soon as a second GLViewWidget with its own context appears)
            cache = self.view().__dict__.setdefault("_ls_programs", {})
            if "spheres" in cache:
                return cache["spheres"]
            ctx = QOpenGLContext.currentContext()
            fmt = ctx.format()
            if not ctx.isOpenGLES() and fmt.version() >= (3, 1):
                srcs = {GL.GL_VERTEX_SHADER: vert, GL.GL_FRAGMENT_SHADER: frag_core}
                version = "#version 140\n"
            else:
                srcs = {GL.GL_VERTEX_SHADER: scatter_mod.SHADER_LEGACY[GL.GL_VERTEX_SHADER],
                        GL.GL_FRAGMENT_SHADER: frag_legacy}
                version = "#version 120\n"
            compiled = [shaders.compileShader([version, src], kind) for kind, src in srcs.items()]
            program = shaders.compileProgram(*compiled)
            GL.glBindAttribLocation(program, 0, "a_position")
            GL.glBindAttribLocation(program, 1, "a_color")
            GL.glBindAttribLocation(program, 2, "a_size")
            GL.glLinkProgram(program)
            cache["spheres"] = program
            return program

    class Lines(gl.GLLinePlotItem):
        """GLLinePlotItem whose shader program is cached per view (see SphereSprites)."""

        def getShaderProgram(self):  # noqa: N802
            cache = self.view().__dict__.setdefault("_ls_programs", {})
            if "lines" not in cache:
                # build through pyqtgraph's code path, then forget its class-wide cache
                gl.GLLinePlotItem._shaderProgram = None
                cache["lines"] = gl.GLLinePlotItem.getShaderProgram()
                gl.GLLinePlotItem._shaderProgram = None
            return cache["lines"]

    _classes.update(gl=gl, SphereSprites=SphereSprites, Lines=Lines)
    return _classes


def _make_view_class():
    if "View3D" in _classes:
        return _classes["View3D"]
    cls = _gl_classes()
    SphereSprites = cls["SphereSprites"]
    Lines = cls["Lines"]
    from pyqtgraph.opengl.GLViewWidget import GLViewMixin
    from PySide6.QtCore import QEvent
    from PySide6.QtOpenGL import QOpenGLWindow
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    class _Surface(GLViewMixin, QOpenGLWindow):
        """The OpenGL surface: a `QOpenGLWindow`, embedded in the widget tree by `View3D` through
        `QWidget.createWindowContainer`. A `QOpenGLWidget` would make Qt compose the whole main window
        through OpenGL, which under software GL doubles the cost of every repaint of every other view
        (a click on 24x24: 18 -> 51 ms); a window container keeps the rest of the window raster.

        Signals: picked(int) - the user clicked (without dragging) on the atom of this site index.
        """

        picked = Signal(int)

        def __init__(self, parent):
            super().__init__(parent=parent)
            self.setBackgroundColor((255, 255, 255, 255))
            self.opts["fov"] = FOV_DEG
            self.model = None
            self._occ = None  # occupancy drawn (the model's, or a preview)
            self._site_colours = None  # (sites, (k, 4) float RGBA) drawn instead of the species colour
            self._sites = np.zeros(0, np.int64)  # site index of each drawn atom
            self._pos = np.zeros((0, 3))
            self._press = None
            self._axis = "perspective"
            self._user_camera = False  # the user rotated/zoomed: do not refit on resize
            self.under_mouse = False
            self.atoms = SphereSprites(pxMode=False, glOptions="opaque")
            self.box = Lines(mode="lines", color=(0.2, 0.2, 0.2, 1.0), width=1.5, antialias=True)
            self.highlight_item = SphereSprites(pxMode=False, glOptions="translucent")
            self.marker = SphereSprites(pxMode=False, glOptions="opaque")
            self.path_item = Lines(mode="line_strip", color=(0.05, 0.05, 0.05, 1.0), width=4, antialias=True)
            self.path_item.setVisible(False)
            for item in (self.atoms, self.box, self.highlight_item, self.marker, self.path_item):
                self.addItem(item)
            self.marker.setVisible(False)
            self.highlight_item.setVisible(False)

        def paintGL(self):  # noqa: N802
            if not getattr(self, "_first_frame_done", False) and len(self._pos) > 64:
                # the first frame compiles the shaders (Mesa's llvmpipe JIT): do it on a handful of atoms
                # and draw the whole cell in the next frame, so the two costs come in two turns of the
                # event loop (24x24x3 first show: one stall of ~120 ms before)
                self._first_frame_done = True
                a = self.atoms
                pos, colour, size = a.pos, a.color, a.size
                a.setData(pos=pos[:8], color=colour[:8], size=size[:8])
                box = self.box.visible()
                self.box.setVisible(False)      # the lines' shader in the next frame too (~10 ms)
                super().paintGL()
                self.box.setVisible(box)
                a.setData(pos=pos, color=colour, size=size)    # asks for the next frame
                return
            self._first_frame_done = True
            super().paintGL()

        # a QWindow has devicePixelRatio(), where pyqtgraph's mixin asks a QWidget's devicePixelRatioF()
        def deviceWidth(self):  # noqa: N802
            return int(self.width() * self.devicePixelRatio())

        def deviceHeight(self):  # noqa: N802
            return int(self.height() * self.devicePixelRatio())

        def initializeGL(self):  # noqa: N802
            # a new context (the surface was destroyed and made again): buffers, vertex arrays and shader
            # programs of the old one are invalid there
            from PySide6.QtOpenGL import QOpenGLBuffer, QOpenGLVertexArrayObject
            self.__dict__.pop("_ls_programs", None)
            if getattr(self, "_gl_initialised", False):
                self.default_vao = QOpenGLVertexArrayObject(self)
                for item in self.items:
                    for name in [n for n in vars(item) if n.startswith("m_vbo_")]:
                        setattr(item, name, QOpenGLBuffer(QOpenGLBuffer.Type.VertexBuffer))
                    flags = type(item.dirty_bits)
                    attrs = {"POSITION": "pos", "COLOR": "color", "SIZE": "size"}
                    item.dirty_bits = functools.reduce(
                        operator.or_, [f for f in flags if isinstance(getattr(item, attrs.get(f.name, ""), None),
                                                                     np.ndarray)], flags(0))
            self._gl_initialised = True
            super().initializeGL()

        def event(self, ev):
            if ev.type() == QEvent.Enter:
                self.under_mouse = True
            elif ev.type() == QEvent.Leave:
                self.under_mouse = False
            return super().event(ev)

        # ------------------------------------------------------------ content
        def set_occupancy(self, occupancy: np.ndarray) -> None:
            sc = self.model.supercell
            occ = np.asarray(occupancy)
            self._occ = occ.copy()
            sites = np.flatnonzero(occ != VACANCY)
            self._sites = sites
            self._pos = sc.cart[sites]
            codes = occ[sites]
            table = species_rgba()
            radius = np.array([DISPLAY_RADIUS.get(s, 0.4) for s in ELEMENT], np.float32)
            colour = table[codes]
            if self._site_colours is not None and self._site_colours[2] is sc:   # not on another supercell
                slot = -np.ones(sc.n_sites, np.int64)
                slot[sites] = np.arange(len(sites))
                where = slot[self._site_colours[0]]
                colour = colour.copy()
                colour[where[where >= 0]] = self._site_colours[1][where >= 0]
            self.atoms.setData(pos=self._pos, color=colour, size=2.0 * radius[codes])

        # ------------------------------------------------------------ camera
        def view_along(self, axis: str) -> None:
            """Look down 'a', 'b', 'c' (supercell vectors), 'stacking' (the layer normal) or 'perspective'."""
            if self.model is None:
                return
            lat = self.model.supercell.lattice
            directions = {"a": lat[0], "b": lat[1], "c": lat[2], "stacking": np.array([0.0, 0.0, 1.0]),
                          "perspective": np.array([0.55, -1.0, 0.35])}
            if axis not in directions:
                raise ValueError(f"unknown view axis {axis!r}")
            self._axis = axis
            self._user_camera = False
            elev, azim = camera_angles(directions[axis])
            c = lat.sum(axis=0) / 2
            from pyqtgraph import Vector
            self.setCameraPosition(pos=Vector(*c), distance=1.0, elevation=elev, azimuth=azim)
            # fit the cell as seen from there: its corners' half-extents across and up the view (eye
            # coordinates do not depend on the distance); the field of view is horizontal, the vertical
            # one h/w of it; 8 % margin covers the slight perspective of the 2-degree camera
            corners = cell_corners(lat)
            mv = np.array(self.viewMatrix().data(), float).reshape(4, 4).T
            eye = np.column_stack([corners, np.ones(8)]) @ mv.T
            pad = max(DISPLAY_RADIUS.values())        # atoms on the cell's faces stick out by their radius
            half_w = float(np.abs(eye[:, 0]).max()) + pad
            half_h = float(np.abs(eye[:, 1]).max()) + pad
            aspect = self.width() / max(self.height(), 1)
            dist = 1.08 * max(half_w, half_h * aspect) / np.tan(np.radians(FOV_DEG / 2))
            self.setCameraPosition(distance=dist)
            self.opts["fov"] = FOV_DEG
            self.update()

        # ------------------------------------------------------------ picking
        def pick(self, x: float, y: float, tolerance_px: float = 12.0) -> int | None:
            """Site index of the front-most atom whose projected disc contains window point (x, y)."""
            if not len(self._pos):
                return None
            xy, depth = project_points(self, self._pos)
            d = np.hypot(xy[:, 0] - x, xy[:, 1] - y)
            # projected radius in px of each atom (sprites are sized in Angstrom)
            px_per_A = self.height() / (2 * depth * np.tan(np.radians(self.opts["fov"] / 2)))
            occ = self._occ[self._sites]
            radius = np.array([DISPLAY_RADIUS.get(s, 0.4) for s in ELEMENT])[occ] * px_per_A
            hit = np.flatnonzero(d <= np.maximum(radius, 3.0))
            if not len(hit):
                near = np.flatnonzero(d <= tolerance_px)
                if not len(near):
                    return None
                return int(self._sites[near[np.argmin(d[near])]])
            return int(self._sites[hit[np.argmin(depth[hit])]])

        def mousePressEvent(self, ev):  # noqa: N802
            self._press = ev.position()
            super().mousePressEvent(ev)

        def mouseMoveEvent(self, ev):  # noqa: N802
            if ev.buttons():
                self._user_camera = True
            super().mouseMoveEvent(ev)

        def wheelEvent(self, ev):  # noqa: N802
            self._user_camera = True
            super().wheelEvent(ev)

        def resizeEvent(self, ev):  # noqa: N802
            super().resizeEvent(ev)
            # keep the whole cell in view as the dock is resized, unless the user moved the camera
            if self.model is not None and not self._user_camera:
                self.view_along(self._axis)

        def mouseReleaseEvent(self, ev):  # noqa: N802
            super().mouseReleaseEvent(ev)
            if self._press is None or ev.button() != Qt.LeftButton:
                return
            moved = (ev.position() - self._press).manhattanLength()
            self._press = None
            if moved <= 4:
                site = self.pick(ev.position().x(), ev.position().y())
                if site is not None:
                    self.picked.emit(site)

        def width(self):  # noqa: D401 - Qt override used by the sprite size computation
            ew = getattr(self, "_export_width", None)
            return ew if ew else super().width()

    class _View3D(QWidget):
        """The supercell in 3D: a one-line key of the colours above the OpenGL surface.

        Camera, items and picking live on `surface` (`orbit`, `atoms`, `path_item`, `grabFramebuffer`...
        are read through to it). Signals: sigSitePicked(int) - the user clicked (without dragging) on the
        atom of this site index.
        """

        sigSitePicked = Signal(int)

        def __init__(self, parent=None):
            super().__init__(parent)
            self.setObjectName("view3d")
            # made with a parent window, so Qt owns the surface: the container deletes it. Owned by Python,
            # PySide's clean-up at exit would delete it before its container, which then crashes.
            holder = QWindow()
            self.surface = _Surface(holder)
            self.container = QWidget.createWindowContainer(self.surface, self)   # re-parents the surface
            del holder
            self.container.setObjectName("view3dSurface")
            self.container.setMinimumSize(40, 40)
            self.legend = QLabel()
            self.legend.setObjectName("view3dLegend")
            self.legend.setWordWrap(True)
            self.legend.setContentsMargins(4, 1, 4, 1)
            lay = QVBoxLayout(self)
            lay.setContentsMargins(0, 0, 0, 0)
            lay.setSpacing(0)
            lay.addWidget(self.legend)
            lay.addWidget(self.container, 1)
            self.legend_entries = []
            self.surface.picked.connect(self.sigSitePicked)

        def __getattr__(self, name):
            # only for names the widget itself lacks: the surface's camera, items and GL calls
            if name in ("surface", "container") or name.startswith("__"):
                raise AttributeError(name)
            return getattr(self.surface, name)

        @property
        def model(self):
            return self.surface.model

        def hasFocus(self) -> bool:  # noqa: N802
            return super().hasFocus() or QGuiApplication.focusWindow() is self.surface

        def underMouse(self) -> bool:  # noqa: N802
            return super().underMouse() or self.surface.under_mouse

        # ------------------------------------------------------------ content
        def set_model(self, model, occupancy=None) -> None:
            """Draw `model` (with `occupancy` instead of the model's own, for previews)."""
            s = self.surface
            first = s.model is None or s.model.supercell is not model.supercell
            s.model = model
            s.box.setData(pos=cell_edges(model.supercell.lattice))
            self.set_occupancy(model.occupancy if occupancy is None else occupancy)
            if first:
                s.view_along("perspective")

        def set_occupancy(self, occupancy: np.ndarray) -> None:
            """Redraw the atoms for this occupancy (vacancies are not drawn)."""
            self.surface.set_occupancy(occupancy)
            self._update_legend(self.surface._occ)

        def _legend_colors(self):
            from PySide6.QtGui import QColor
            return [QColor.fromRgbF(*map(float, rgba)) for rgba in species_rgba()]

        def _update_legend(self, occ) -> None:
            from gui.legend import legend_entries, legend_html
            entries = [e for e in legend_entries(self.model, occupancy=occ) if e[0] != VACANCY]
            if entries != self.legend_entries:
                self.legend_entries = entries
                self.legend.setText(legend_html(entries, self._legend_colors()))
            self.legend.setVisible(bool(entries))

        def set_site_colours(self, sites, rgba, supercell=None) -> None:
            """Draw `sites` (k,) of `supercell` (default: the one shown) in colours (k, 4) RGBA 0..1 instead of
            their species colour (the O-hole map), whenever that supercell is shown; None: species colours."""
            s = self.surface
            if sites is None or s.model is None:
                s._site_colours = None
            else:
                s._site_colours = (np.asarray(sites, np.int64), np.asarray(rgba, float),
                                   supercell if supercell is not None else s.model.supercell)
            if s.model is not None and s._occ is not None:
                self.set_occupancy(s._occ)

        def refresh(self, sites=None) -> None:
            """The model's occupancy changed (cheap enough to redraw everything: one buffer upload)."""
            if self.model is not None:
                self.set_occupancy(self.model.occupancy)

        def highlight(self, sites) -> None:
            """Draw translucent halos around these sites (empty: none)."""
            s = self.surface
            sites = np.asarray(list(sites) if sites is not None else [], dtype=np.int64)
            if s.model is None or not len(sites):
                s.highlight_item.setVisible(False)
                return
            s.highlight_item.setData(pos=s.model.supercell.cart[sites], color=(1.0, 0.85, 0.0, 0.45), size=1.7)
            s.highlight_item.setVisible(True)

        def set_marker(self, position, code: int | None = None) -> None:
            """Show a moving ion at `position` (3,) Angstrom (None hides it); `code` picks its colour."""
            s = self.surface
            if position is None:
                s.marker.setVisible(False)
                return
            rgba = species_rgba()[code if code is not None else 1]
            radius = DISPLAY_RADIUS.get(ELEMENT[code], 0.4) if code is not None else 0.4
            s.marker.setData(pos=np.asarray(position, float).reshape(1, 3), color=rgba[None, :],
                             size=2.0 * radius * 1.15)
            s.marker.setVisible(True)

        def set_path(self, images) -> None:
            """Draw a migration path through (k, 3) Angstrom images; None hides it."""
            s = self.surface
            if images is None:
                s.path_item.setVisible(False)
                return
            s.path_item.setData(pos=np.asarray(images, float))
            s.path_item.setVisible(True)

        def site_screen_pos(self, site: int) -> QPointF:
            """Position (px, in the surface's coordinates) of a site's atom, for tests and tooltips."""
            xy, _ = project_points(self.surface, self.model.supercell.cart[[site]])
            return QPointF(float(xy[0, 0]), float(xy[0, 1]))

        def repaint(self) -> None:
            """Draw the key and the surface now, as QWidget.repaint would (an update request delivered at
            once: the surface renders and swaps before this returns)."""
            super().repaint()
            if self.surface.isExposed():
                QGuiApplication.sendEvent(self.surface, QEvent(QEvent.UpdateRequest))

        def render_image(self, scale: int = 1, key: bool = True):
            """QImage of the current frame at `scale` x the surface size, with the key painted in its corner
            unless not `key` (figure export; screenshots, since `grab()` cannot see into an OpenGL window)."""
            from PySide6.QtGui import QImage
            s = self.surface
            w, h = max(s.width(), 1) * scale, max(s.height(), 1) * scale
            # sprite sizes are computed from the surface width: report the export width while rendering
            s._export_width = w
            try:
                arr = s.renderToArray((w, h))  # (h, w, 4) BGRA
            finally:
                s._export_width = None
            arr = np.ascontiguousarray(arr)
            img = QImage(arr.data, w, h, 4 * w, QImage.Format_ARGB32).copy()
            if key and self.legend_entries:
                from gui.legend import paint_legend
                paint_legend(img, self.legend_entries, self._legend_colors(), scale)
            return img

    _classes["View3D"] = _View3D
    return _View3D


def __getattr__(name):
    # View3D is built on first use so that `import gui.panels.view3d` does not import OpenGL
    if name == "View3D":
        cls = _make_view_class()
        globals()["View3D"] = cls
        return cls
    raise AttributeError(name)
