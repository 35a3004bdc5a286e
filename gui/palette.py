"""Element palette: the species a click or a drag places (one exclusive button per cation and Va).

Keys 1-9 and 0 select the first ten entries when the palette's window has focus (shortcuts are created
by the main window through `shortcut_keys()`).
"""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QButtonGroup, QGridLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from core.structure.species import CODE, DEFAULT_OXIDATION, ELEMENT, SPECIES, VACANCY

from .colors import species_color

#: Palette order: common TM-layer species first, then alkali, then the rest, vacancy last. Element
#: buttons place the element at the model's (possibly average) state, shown on the button.
PALETTE_ORDER = ("Mn", "Li", "Ni", "Co", "Mg", "Na", "Fe", "Al", "Ti", "Va")
#: Integer oxidation states as occupants (fixed charge per site), below the elements.
ION_ORDER = ("Ni2+", "Ni3+", "Ni4+", "Mn2+", "Mn3+", "Mn4+", "Co2+", "Co3+", "Co4+", "Fe2+", "Fe3+", "Ti3+")


def species_icon(symbol: str, scheme: str | None = None, size: int = 22) -> QIcon:
    pm = QPixmap(size, size)
    pm.fill(Qt.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.Antialiasing)
    col = species_color(symbol, scheme)
    if symbol == "Va":
        pen = QPen(col)
        pen.setWidthF(2.0)
        p.setPen(pen)
        p.setBrush(Qt.NoBrush)
    else:
        p.setPen(QPen(QColor(40, 40, 40)))
        p.setBrush(col)
    p.drawEllipse(2, 2, size - 4, size - 4)
    p.end()
    return QIcon(pm)


def _element_text(sym: str, ox: float) -> str:
    """Element button text: the element with the (table, possibly average) state it places, e.g.
    'Ni (2+)' or 'Ni (2.875+)', told apart from the integer-state buttons below ('Ni3+')."""
    return f"{sym} ({ox:g}+)"


class ElementPalette(QWidget):
    """Signal sigSpeciesChanged(code) when the selected species changes."""

    sigSpeciesChanged = Signal(int)

    def __init__(self, parent=None, scheme: str | None = None):
        super().__init__(parent)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.buttons: dict[int, QToolButton] = {}
        grid = QGridLayout()
        grid.setSpacing(2)
        for n, sym in enumerate(PALETTE_ORDER):
            code = CODE[sym] if sym != "Va" else VACANCY
            b = QToolButton()
            b.setCheckable(True)
            b.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
            b.setIconSize(QSize(18, 18))
            b.setText(sym if sym == "Va" else _element_text(sym, DEFAULT_OXIDATION[sym]))
            key = (n + 1) % 10
            b.setToolTip(f"{'Vacancy' if sym == 'Va' else sym} (key {key})")
            b.setMinimumWidth(64)
            self.group.addButton(b, code)
            self.buttons[code] = b
            grid.addWidget(b, n // 2, n % 2)
        ions = QGridLayout()
        ions.setSpacing(2)
        for n, lab in enumerate(ION_ORDER):
            code = CODE[lab]
            b = QToolButton()
            b.setCheckable(True)
            b.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
            b.setIconSize(QSize(14, 14))
            b.setText(lab)
            b.setToolTip(f"{lab}: {ELEMENT[code]} with a fixed charge of {lab[len(ELEMENT[code]):-1]}+ on the site")
            b.setObjectName(f"palette_{lab}")
            self.group.addButton(b, code)
            self.buttons[code] = b
            ions.addWidget(b, n // 2, n % 2)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(grid)
        states = QLabel("Oxidation states")
        states.setStyleSheet("color: #666;")
        lay.addWidget(states)
        lay.addLayout(ions)
        self.hint = QLabel("Click: place\nDrag: paint\nRight click: menu\nShift+drag: pan, wheel: zoom")
        self.hint.setStyleSheet("color: #666;")
        lay.addWidget(self.hint)
        lay.addStretch(1)
        self.set_scheme(scheme)
        self.group.idToggled.connect(self._toggled)
        self.set_species(CODE["Mn"])

    def _toggled(self, code: int, checked: bool) -> None:
        if checked:
            self.sigSpeciesChanged.emit(code)

    def set_scheme(self, scheme: str | None) -> None:
        for code, b in self.buttons.items():
            b.setIcon(species_icon(SPECIES[code], scheme))

    def species(self) -> int:
        return self.group.checkedId()

    def set_species(self, code: int) -> None:
        if code in self.buttons:
            self.buttons[code].setChecked(True)

    def oxidation_labels(self, oxidation: dict[str, float]) -> None:
        """Show the model's oxidation states on the buttons (e.g. Ni3+ after an override)."""
        for code, b in self.buttons.items():
            sym = SPECIES[code]
            if sym != "Va" and sym in DEFAULT_OXIDATION:
                b.setText(_element_text(sym, oxidation.get(sym, DEFAULT_OXIDATION[sym])))

    @staticmethod
    def shortcut_keys() -> list[tuple[str, int]]:
        out = []
        for n, sym in enumerate(PALETTE_ORDER):
            out.append((str((n + 1) % 10), CODE[sym] if sym != "Va" else VACANCY))
        return out
