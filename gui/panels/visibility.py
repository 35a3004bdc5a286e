"""Whether a panel is really on screen.

`QWidget.isVisible()` is True for every page of a tabified dock whose window is shown, not only for
the page on top, so panels that computed "when visible" all computed after every edit. A covered
page has an empty visible region; the dock's `visibilityChanged(bool)` says when its tab comes to the
top (the panel host forwards that to `OnScreen.screen_changed`).
"""
from __future__ import annotations


def on_screen(widget) -> bool:
    """True if some of `widget` is on screen (shown, and not covered by another tab)."""
    return widget.isVisible() and not widget.visibleRegion().isEmpty()
