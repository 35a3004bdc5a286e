"""Analysis and presentation panels for the editor window.

`install(window)` (called by gui.mainwindow at the end of construction) adds docks for Monte Carlo,
migration paths, state of charge, the 3D view, simulated XRD and snapshots; Tools/View/File menu
entries; lab-meeting mode (F11 / Esc, PageUp/PageDown through snapshots); side-by-side compare; and
figure (4x) / animated GIF export. It returns the `PanelHost`, also stored as `window.panels`.

The window contract used by the host (gui/mainwindow.py): window.document, .layer_view, .runner, .docks,
.menus, .add_dock(widget, title, area, name), .add_menu_action(menu, text, slot, shortcut),
.sigSiteSelected(int), .statusBar(). Panels get the document and the runner only; previews go through
the document's displayed state, which the readouts, views and migration paths follow.
"""
from __future__ import annotations

from .host import PanelHost, install

__all__ = ["install", "PanelHost"]
