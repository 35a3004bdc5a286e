"""3D view: OpenGL tests run under Xvfb (marked `gl`, skipped on the offscreen platform); the fallback
message test runs everywhere."""
import numpy as np
import pytest

pytest.importorskip("pytestqt")

from core.structure.model import Model  # noqa: E402


def small_model(layers=1):
    return Model.build("O3", "Li", supercell="3", layers=layers, tm_spec="Li:1/3,Mn:2/3", seed=2)


def test_fallback_message_without_opengl(qtbot, monkeypatch):
    from PySide6.QtWidgets import QLabel

    from gui.panels import view3d

    monkeypatch.setattr(view3d.QGuiApplication, "platformName", staticmethod(lambda: "offscreen"))
    w = view3d.make_view3d()
    qtbot.addWidget(w)
    assert isinstance(w, QLabel)
    assert "3D view unavailable" in w.text() and "offscreen" in w.text()


def test_cell_edges_and_camera_angles():
    from gui.panels.view3d import camera_angles, cell_edges
    lat = np.diag([2.0, 3.0, 5.0])
    e = cell_edges(lat).reshape(12, 2, 3)
    lengths = np.sort(np.linalg.norm(e[:, 1] - e[:, 0], axis=1))
    assert np.allclose(lengths, [2] * 4 + [3] * 4 + [5] * 4)
    assert camera_angles([0, 0, 1])[0] == pytest.approx(90.0)
    assert camera_angles([0, 1, 0]) == pytest.approx((0.0, 90.0))


@pytest.fixture
def view(qtbot):
    from gui.panels.view3d import make_view3d
    v = make_view3d()
    if not hasattr(v, "set_model"):
        pytest.skip(f"no OpenGL: {v.text()}")
    qtbot.addWidget(v)
    v.resize(500, 400)
    v.show()
    qtbot.waitExposed(v)
    return v


@pytest.mark.gl
def test_atoms_drawn_and_rendered(qtbot, view, tmp_path):
    m = small_model()
    m.apply([(int(m.supercell.tm_sites[0]), 0)])  # one vacancy: not drawn
    view.set_model(m)
    assert len(view._sites) == np.count_nonzero(m.occupancy)
    img = view.grabFramebuffer()
    arr = np.array([[img.pixelColor(x, y).red() for x in range(0, img.width(), 7)]
                    for y in range(0, img.height(), 7)])
    assert (arr < 200).mean() > 0.02  # atoms cover part of the white background
    big = view.render_image(2)
    surface = view.surface     # the OpenGL window under the one-line key
    assert (big.width(), big.height()) == (2 * surface.width(), 2 * surface.height())
    from gui.panels.figures import export_figure, image_size
    out = export_figure(view, tmp_path / "view3d.png", 4)
    assert image_size(out) == (4 * surface.width(), 4 * surface.height())


@pytest.mark.gl
def test_view_along_axes_projects_lattice_vector_to_a_point(qtbot, view):
    from gui.panels.view3d import project_points
    m = small_model(layers=3)
    view.set_model(m)
    lat = m.supercell.lattice
    p = m.supercell.cart[0]
    for axis, vec in (("a", lat[0]), ("b", lat[1]), ("c", lat[2]), ("stacking", np.array([0, 0, 1.0]))):
        view.view_along(axis)
        xy, depth = project_points(view, np.array([p, p + vec]))
        # nearly orthographic (2 degree field of view, far camera): the two ends of the viewing
        # vector nearly coincide; a 60 degree camera at the usual distance would put them ~30 % of
        # their distance from the centre apart
        off_centre = np.linalg.norm(xy[0] - [view.width() / 2, view.height() / 2])
        assert np.linalg.norm(xy[0] - xy[1]) < 0.03 * off_centre + 1.0, axis
        assert depth[0] > depth[1]  # the camera sits on the +vector side, looking down it


@pytest.mark.gl
def test_click_picks_site(qtbot, view):
    from PySide6.QtCore import Qt
    m = small_model()
    view.set_model(m)
    view.view_along("stacking")
    qtbot.wait(50)
    # the front-most atom in a column seen along the stacking normal is the highest one
    site = int(np.argmax(m.supercell.cart[:, 2]))
    pos = view.site_screen_pos(site).toPoint()
    with qtbot.waitSignal(view.sigSitePicked, timeout=2000) as sig:
        qtbot.mouseClick(view.surface, Qt.LeftButton, pos=pos)   # the OpenGL window gets the mouse
    assert sig.args[0] == site


@pytest.mark.gl
def test_pick_in_3d_selects_site_in_2d_editor(qtbot, tmp_path):
    from gui import settings
    from gui.mainwindow import MainWindow
    from gui.panels.overlay import wrapped_xy

    settings.use_settings_dir(tmp_path / "settings")
    try:
        w = MainWindow(small_model(layers=3))
        qtbot.addWidget(w, before_close_func=lambda win: win.document.mark_saved())
        w.resize(1200, 800)
        w.show()
        qtbot.waitExposed(w)
        host = w.panels
        assert host.has_3d
        sc = w.document.model.supercell
        site = int(sc.alkali_sites[sc.layer[sc.alkali_sites] == 1][0])   # an alkali site, layer 2
        host.show_dock("view3d")
        host.view3d.view_along("perspective")
        qtbot.wait(50)
        selected = []
        w.sigSiteSelected.connect(selected.append)
        host.view3d.sigSitePicked.emit(site)
        assert selected == [site]
        lv = w.layer_view
        assert (lv.layer_kind, lv.layer_index) == ("alkali", 1)
        x, y = host.overlay.pick_item.getData()
        assert np.allclose([x[0], y[0]], wrapped_xy(sc, [site])[0])
        assert host.overlay.pick_item.isVisible()
    finally:
        settings.use_settings_dir(None)


@pytest.mark.gl
def test_migration_animation_moves_ion_in_3d(qtbot, tmp_path):
    from core.orderings import preset_occupancy
    from gui import settings
    from gui.mainwindow import MainWindow

    settings.use_settings_dir(tmp_path / "settings")
    try:
        m = small_model()
        m.set_occupancy(preset_occupancy(m, "honeycomb"))
        sc = m.supercell
        m.apply([(int(s), 0) for s in sc.tm_sites[m.occupancy[sc.tm_sites] == 1]])
        w = MainWindow(m)
        qtbot.addWidget(w, before_close_func=lambda win: win.document.mark_saved())
        w.show()
        qtbot.waitExposed(w)
        host = w.panels
        with qtbot.waitSignal(host.migration.sigPathsUpdated, timeout=30000):
            host.migration.refresh()
        host.migration.select_row(0)
        path = host.migration.selected
        assert host.view3d.path_item.visible()
        assert np.allclose(host.view3d.path_item.pos, path.images)
        host.migration.show_frame(3)
        assert host.view3d.marker.visible()
        assert np.allclose(host.view3d.marker.pos[0], path.images[3])
        host.migration.set_animating(False)
        assert not host.view3d.marker.visible()
    finally:
        settings.use_settings_dir(None)


@pytest.mark.gl
def test_species_key_on_screen_and_in_the_figure(qtbot, view):
    """The 3D view names its colours with the model's oxidation states, and exported pictures carry the key."""
    m = small_model()           # Li[Li1/3Mn2/3]O2: Li+, Mn4+ and O2- drawn
    view.set_model(m)
    assert [t for _c, t in view.legend_entries] == ["Li1+", "Mn4+", "O2−"]
    assert view.legend.isVisible() and "Mn4+" in view.legend.text()
    with_key = view.render_image(2)
    entries, view.legend_entries = view.legend_entries, []
    without = view.render_image(2)
    view.legend_entries = entries
    w, h = with_key.width(), with_key.height()
    changed = sum(with_key.pixelColor(x, y) != without.pixelColor(x, y)
                  for x in range(w - 150, w - 10, 3) for y in range(h - 120, h - 10, 3))
    assert changed > 200     # the key's box, discs and text in the bottom-right corner


@pytest.mark.gl
def test_no_opengl_widget_in_the_window(qtbot):
    """An OpenGL widget anywhere in the window makes Qt compose the whole window through OpenGL (every
    repaint about twice as slow under software GL), so the 3D view draws into an OpenGL window in a
    window container, made when its tab first comes up; it then shows the document's model."""
    from gui_helpers import make_window
    from PySide6.QtOpenGL import QOpenGLWindow
    from PySide6.QtOpenGLWidgets import QOpenGLWidget

    w = make_window(qtbot, small_model(), install_panels=True)
    qtbot.wait(500)
    host = w.panels
    assert host.has_3d and host._view3d is None and w.findChildren(QOpenGLWidget) == []
    host.show_dock("view3d")
    qtbot.waitUntil(lambda: host._view3d is not None, timeout=5000)
    assert w.findChildren(QOpenGLWidget) == []
    assert isinstance(host.view3d.surface, QOpenGLWindow) and host.view3d.surface.isExposed()
    assert host.view3d.model is w.document.model


@pytest.mark.gl
def test_window_screenshot_shows_the_3d_atoms(qtbot):
    """`grab()` cannot see into the OpenGL window: screenshots paint the 3D frame in its place."""
    from gui_helpers import make_window
    from PySide6.QtCore import QPoint

    from gui.panels.figures import grab_window

    w = make_window(qtbot, small_model(layers=3), install_panels=True)
    host = w.panels
    host.show_dock("view3d")
    qtbot.waitUntil(lambda: host._view3d is not None and host.view3d.surface.isExposed(), timeout=5000)
    box = host.view3d.container
    origin = box.mapTo(w, QPoint(0, 0))

    def dark_fraction(img):
        px = [img.pixelColor(origin.x() + x, origin.y() + y).red()
              for x in range(0, box.width(), 5) for y in range(0, box.height(), 5)]
        return np.mean(np.array(px) < 200)

    assert dark_fraction(w.grab().toImage()) < 0.005       # what Qt's own grab sees there: nothing
    assert dark_fraction(grab_window(w)) > 0.02            # the atoms


@pytest.mark.gl
@pytest.mark.parametrize("size", [(300, 700), (700, 300)])
def test_view_along_fills_the_view_with_the_whole_cell(qtbot, view, size):
    """From every preset direction, in a tall and in a wide view, the cell's eight corners are on screen
    and span most of the limiting dimension (the 3D view on a projector should show the cell, not a
    small box in the middle)."""
    from gui.panels.view3d import project_points
    view.resize(*size)
    qtbot.waitUntil(lambda: view.surface.width() == size[0])
    m = small_model(layers=3)
    view.set_model(m)
    lat = m.supercell.lattice
    corners = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)], float) @ lat
    w, h = view.surface.width(), view.surface.height()
    for axis in ("a", "b", "c", "stacking", "perspective"):
        view.view_along(axis)
        xy, _ = project_points(view, corners)
        assert (xy[:, 0] >= 0).all() and (xy[:, 0] <= w).all(), axis
        assert (xy[:, 1] >= 0).all() and (xy[:, 1] <= h).all(), axis
        span = max(np.ptp(xy[:, 0]) / w, np.ptp(xy[:, 1]) / h)
        assert span > 0.8, (axis, span)
