"""A scroll area for dock panels that scrolls only when the panel really cannot fit."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QTimer
from PySide6.QtWidgets import QFrame, QScrollArea


class FitScrollArea(QScrollArea):
    """A scroll area that gives its panel the whole viewport and scrolls only below the panel's
    minimum size. (QScrollArea's resizable mode sizes a panel holding word-wrapped labels to its
    preferred height for the width, which makes a panel scroll although it would fit.)"""

    def __init__(self, widget, parent=None):
        super().__init__(parent)
        self.setFrameShape(QFrame.NoFrame)
        self.setWidgetResizable(False)
        self.setWidget(widget)
        widget.installEventFilter(self)

    def _fit(self) -> None:
        inner = self.widget()
        if inner is None:
            return
        vp = self.maximumViewportSize()
        hint = inner.minimumSizeHint().expandedTo(inner.minimumSize())
        w = max(vp.width(), hint.width())
        h = max(vp.height(), hint.height())
        # a horizontal scroll bar takes height from the viewport (and a vertical one width)
        if w > vp.width():
            h = max(vp.height() - self.horizontalScrollBar().sizeHint().height(), hint.height())
        if h > vp.height():
            w = max(vp.width() - self.verticalScrollBar().sizeHint().width(), hint.width())
        inner.resize(w, h)

    def resizeEvent(self, ev):  # noqa: N802
        super().resizeEvent(ev)
        self._fit()

    def eventFilter(self, obj, ev):  # noqa: N802
        if obj is self.widget() and ev.type() == QEvent.LayoutRequest:
            QTimer.singleShot(0, self._fit)
        return False
