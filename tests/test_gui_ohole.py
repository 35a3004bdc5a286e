"""The O-hole map: O sites coloured by a moment on a heat scale with a colour bar, in the layer view (the
shown layer's O, following layer changes) and the 3D view; an edit clears it (the moments belong to the
configuration they were computed for). Moments are given here, so no force field is needed."""
import numpy as np
import pytest

pytest.importorskip("pytestqt")

from core.structure.hosts import ROLE_O  # noqa: E402
from core.structure.model import Model  # noqa: E402
from tests.gui_helpers import make_window  # noqa: E402


def expected_rgba(moments):
    import pyqtgraph as pg
    t = np.round(np.clip(np.abs(moments), 0.0, 1.0) * 15) / 15   # 16 levels over 0..1 muB
    return pg.colormap.get("CET-L3").map(t, mode="byte")


def two_layer_window(qtbot):
    w = make_window(qtbot, Model.build("O3", "Li", "2", layers=2, tm_spec="Co"), install_panels=True)
    sc = w.document.model.supercell
    o = np.asarray(sc.o_sites)
    moments = np.linspace(0.0, 1.3, len(o))   # beyond 1 muB saturates at the top of the scale
    return w, sc, o, moments


def test_o_moments_coloured_in_the_layer_view_with_a_colour_bar(qtbot):
    w, sc, o, moments = two_layer_window(qtbot)
    overlay = w.panels.overlay
    w.panels.forcefield.sigOxygenMoments.emit(o, moments)
    for layer in (0, 1):
        w.layer_view.set_layer("tm", layer)
        shown = np.array(list(overlay.o_moment_item.data["data"]), np.int64)
        mine = o[sc.layer[o] == layer]
        assert sorted(shown) == sorted(mine) and (sc.role[shown] == ROLE_O).all()
        index = {int(s): i for i, s in enumerate(o)}
        want = expected_rgba(moments[[index[int(s)] for s in shown]])
        assert np.array_equal(overlay.o_moment_brushes(), want)
    assert overlay.o_moment_bar.isVisible()
    assert tuple(overlay.o_moment_bar.levels()) == (0.0, 1.0)   # the scale the colours were drawn on
    # an edit: the map belonged to the configuration before it
    w.document.edit([(int(sc.alkali_sites[0]), 0)], "remove Li")
    assert not overlay.o_moment_item.isVisible() and not overlay.o_moment_bar.isVisible()


@pytest.mark.gl
def test_o_moments_coloured_in_the_3d_view(qtbot):
    w, sc, o, moments = two_layer_window(qtbot)
    view = w.panels.view3d
    if not hasattr(view, "set_model"):
        pytest.skip("no OpenGL")
    w.panels.forcefield.sigOxygenMoments.emit(o, moments)
    drawn = view.atoms.color
    slot = {int(s): i for i, s in enumerate(view._sites)}
    got = np.array([drawn[slot[int(s)]] for s in o])
    assert np.allclose(got, expected_rgba(moments) / 255.0, atol=1e-6)
    w.panels.forcefield.sigOxygenMoments.emit(None, None)
    assert not np.allclose(np.array([view.atoms.color[slot[int(s)]] for s in o]), got)
