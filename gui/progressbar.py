"""A progress bar that never paints synchronously.

`QProgressBar.setValue` repaints at once (`QWidget::repaint`) whenever the shown percentage changes.
In a window that also holds an OpenGL view (the 3D dock) every such repaint composes and flushes the
whole window, 50-110 ms on Mesa llvmpipe under Xvfb, so a Monte Carlo run reporting 20 times a
second froze the window. Here the new value is set with updates disabled and the bar is repainted in
the ordinary (batched) paint pass of the event loop.
"""
from __future__ import annotations

from PySide6.QtWidgets import QProgressBar


class ProgressBar(QProgressBar):
    def setValue(self, value: int) -> None:  # noqa: N802 (Qt name)
        if value == self.value():
            return
        on = self.updatesEnabled()
        self.setUpdatesEnabled(False)
        try:
            super().setValue(value)
        finally:
            self.setUpdatesEnabled(on)   # re-enabling schedules an ordinary update()
        if on:
            self.update()
