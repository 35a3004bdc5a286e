"""Dialogs: new model (stacking, lattice, supercell, compositions, ordering) and export options.

The new-model dialog only collects and checks parameters (`params()`); the window builds the model
in a worker with `build_model(params)` because presets on big cells can take a moment.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
)

from core.errors import LayerStudioError
from core.orderings import PRESETS
from core.structure.hosts import DEFAULTS, STACKINGS

#: Candidate in-plane matrices tried when suggesting commensurate supercells (besides n x n).
NAMED_CANDIDATES = ("sqrt3", "2sqrt3", "ribbon")


def build_model(params: dict, neutral: bool = True):
    """Build a core Model from dialog parameters (runs in a worker; raises LayerStudioError).

    neutral: make it neutral along the redox ladder (`core.energy.valence`), integer charges placed by
    Ewald energy unless params["valence"] == "average"; params["oxidation"] fixes states ('Ni:3')."""
    from core.structure.model import Model
    model = Model.build(params["stacking"], params["alkali"], params["supercell"], layers=params["layers"],
                        alkali_spec=params["alkali_spec"] or None, tm_spec=params["tm_spec"],
                        a=params["a"], c=params["c"], o_height=params["o_height"], seed=params["seed"])
    ordering = params.get("ordering") or "random"
    if ordering != "random" and PRESETS:
        from core.orderings import preset_occupancy
        model.set_occupancy(preset_occupancy(model, ordering, seed=params["seed"]))
    model.metadata["ordering"] = ordering
    if neutral:
        from core.energy.valence import neutral_by_default
        neutral_by_default(model, valence=params.get("valence") or "integer",
                           overrides=params.get("oxidation") or None, seed=params["seed"])
    return model


def commensurate_sizes(params: dict, limit: int = 6) -> list[str]:
    """Supercell specs (strings) on which the composition and ordering of `params` can be realised,
    found by trying them on a one-repeat model (fast: at most ~20 small builds)."""
    from core.structure.hosts import make_host
    host = make_host(params["stacking"], params["alkali"])
    min_layers = host.slabs_per_prim
    out = []
    trial = dict(params, layers=min_layers)
    for spec in [str(n) for n in range(1, 13)] + list(NAMED_CANDIDATES):
        trial["supercell"] = spec
        try:
            build_model(trial, neutral=False)
        except LayerStudioError:
            continue
        except Exception:  # a preset that cannot handle a tiny cell at all
            continue
        out.append(spec if not spec.isdigit() else f"{spec}x{spec}")
        if len(out) >= limit:
            break
    return out


def cell_sites(spec: str) -> int:
    """Number of primitive cells per layer of an in-plane supercell spec ('6x6' -> 36, 'sqrt3' -> 3)."""
    from core.structure.supercell import parse_supercell_spec
    M = parse_supercell_spec(spec)
    return abs(int(round(float(M[0, 0] * M[1, 1] - M[0, 1] * M[1, 0]))))


def nearest_fitting_cell(params: dict) -> str | None:
    """The supercell closest in size to `params["supercell"]` on which the composition and ordering
    can be realised (ties: the larger one), or None when no small cell fits."""
    sizes = commensurate_sizes(params, limit=12)
    if not sizes:
        return None
    try:
        want = cell_sites(params["supercell"])
    except LayerStudioError:
        want = 36
    return min(sizes, key=lambda s: (abs(cell_sites(s) - want), -cell_sites(s)))


def model_params(model, ordering: str = "random") -> dict:
    """New-model dialog parameters describing `model` (stacking, lattice, layers, compositions)."""
    from fractions import Fraction

    from core.structure.species import SPECIES
    sc = model.supercell
    host = sc.host

    def spec(sites) -> str:
        codes, counts = np.unique(model.occupancy[sites], return_counts=True)
        n = len(sites)
        return ",".join(f"{SPECIES[c]}:{Fraction(int(k), n)}" for c, k in zip(codes, counts))

    M = sc.matrix
    cell = f"{M[0, 0]}x{M[1, 1]}" if M[0, 1] == 0 and M[1, 0] == 0 else ",".join(str(int(v)) for v in M.ravel())
    return {"stacking": host.stacking, "alkali": host.alkali, "a": host.a, "c": host.c,
            "o_height": host.o_height, "supercell": cell, "layers": sc.layers, "tm_spec": spec(sc.tm_sites),
            "alkali_spec": spec(model.default_alkali_sites()), "ordering": ordering, "seed": 0}


class NewModelDialog(QDialog):
    def __init__(self, parent=None, defaults: dict | None = None):
        super().__init__(parent)
        self.setWindowTitle("New model")
        self.setMinimumWidth(500)
        d = {"stacking": "O3", "alkali": "Li", "supercell": "6", "layers": 3, "tm_spec": "Li:1/3,Mn:2/3",
             "alkali_spec": "", "ordering": "honeycomb" if "honeycomb" in PRESETS else "random", "seed": 0}
        d.update(defaults or {})
        form = QFormLayout()
        self.stacking = QComboBox()
        self.stacking.addItems(list(STACKINGS))
        self.stacking.setCurrentText(d["stacking"])
        self.alkali = QComboBox()
        self.alkali.addItems(["Li", "Na"])
        self.alkali.setCurrentText(d["alkali"])
        self.a = self._spin(1.6, 5.9, 4, " Å")
        self.c = self._spin(3.0, 70.0, 3, " Å")
        self.o_height = self._spin(0.31, 4.0, 4, " Å")
        self.supercell = QLineEdit(d["supercell"])
        self.supercell.setToolTip("N, NxM, a 2x2 matrix 'a,b,c,d' or sqrt3, 2sqrt3, ribbon")
        self.layers = QSpinBox()
        self.layers.setRange(1, 24)
        self.layers.setValue(d["layers"])
        self.tm_spec = QLineEdit(d["tm_spec"])
        self.tm_spec.setToolTip("fractions of the TM-layer sites, e.g. Li:1/3,Mn:2/3 or Ni:0.5,Mn:0.5")
        self.alkali_spec = QLineEdit(d["alkali_spec"])
        self.alkali_spec.setPlaceholderText("default: alkali fills the alkali layer")
        self.ordering = QComboBox()
        self.ordering.addItem("random")
        for name, desc in PRESETS.items():
            if name != "random":
                self.ordering.addItem(name)
                self.ordering.setItemData(self.ordering.count() - 1, desc, Qt.ToolTipRole)
        self.ordering.setCurrentText(d["ordering"])
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(d["seed"])
        self.valence = QComboBox()
        self.valence.addItems(["integer", "average"])
        self.valence.setToolTip("Mixed valence as integer charges on sites (Ni2+/Ni3+ placed by Ewald energy) "
                                "or one average state per element")
        self.oxidation = QLineEdit(d.get("oxidation", ""))
        self.oxidation.setPlaceholderText("e.g. Ni:3,Mn:4 (default: neutral along the redox ladder)")
        self.lattice_source = QLabel("")
        self.lattice_source.setWordWrap(True)
        self.lattice_source.setStyleSheet("color: #355; font-size: 10px;")
        self._estimate = None
        self.suggest = QLabel("")
        self.suggest.setWordWrap(True)
        self.suggest.setStyleSheet("color: #355;")
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #C00000;")
        self.use_cell = QPushButton("")   # "Use 6x6": the nearest cell that fits, after a refusal
        self.use_cell.setVisible(False)
        self.use_cell.clicked.connect(self._use_suggested_cell)
        form.addRow("Stacking:", self.stacking)
        form.addRow("Alkali:", self.alkali)
        form.addRow("a:", self.a)
        form.addRow("c (conventional):", self.c)
        form.addRow("O height above TM plane:", self.o_height)
        form.addRow("", self.lattice_source)
        form.addRow("In-plane supercell:", self.supercell)
        form.addRow(self.suggest)   # the whole width: the list of fitting cells must not be cut
        form.addRow("TM layers:", self.layers)
        form.addRow("TM layer composition:", self.tm_spec)
        form.addRow("Alkali layer composition:", self.alkali_spec)
        form.addRow("Initial ordering:", self.ordering)
        form.addRow("Random seed:", self.seed)
        form.addRow("Mixed valence:", self.valence)
        form.addRow("Oxidation states:", self.oxidation)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(self.use_cell)
        lay.addWidget(buttons)
        self._set_lattice_defaults()
        for key, box in (("a", self.a), ("c", self.c), ("o_height", self.o_height)):
            if d.get(key) is not None:   # a re-opened dialog keeps the lattice the user typed
                box.setValue(float(d[key]))
        self._suggest_timer = QTimer(self)
        self._suggest_timer.setSingleShot(True)
        self._suggest_timer.setInterval(300)
        self._suggest_timer.timeout.connect(self.update_suggestions)
        self.stacking.currentTextChanged.connect(self._set_lattice_defaults)
        self.alkali.currentTextChanged.connect(self._set_lattice_defaults)
        for w in (self.stacking, self.alkali, self.ordering):
            w.currentTextChanged.connect(lambda *_: self._suggest_timer.start())
        for w in (self.tm_spec, self.alkali_spec):
            w.textChanged.connect(lambda *_: self._suggest_timer.start())
        self.tm_spec.textChanged.connect(self._set_lattice_defaults)
        self._suggest_timer.start()

    @staticmethod
    def _spin(lo, hi, decimals, suffix):
        s = QDoubleSpinBox()
        s.setRange(lo, hi)
        s.setDecimals(decimals)
        s.setSingleStep(0.01)
        s.setSuffix(suffix)
        return s

    def _set_lattice_defaults(self, *_):
        """Lattice parameters follow the composition (Vegard's law over literature end members,
        `core.structure.lattices`); the fields stay editable."""
        from core.structure.lattices import composition_lattice

        key = (self.stacking.currentText(), self.alkali.currentText())
        a, c, h = DEFAULTS[key]
        try:
            est = composition_lattice(key[0], key[1], self.tm_spec.text().strip() or "Co")
        except LayerStudioError:
            est = None
        if est is not None:
            a, c = est.a, est.c
        self._estimate = (round(a, 4), round(c, 3))
        self.lattice_source.setText(est.source if est else f"host default for {key[0]} {key[1]}")
        self.a.setValue(a)
        self.c.setValue(c)
        self.o_height.setValue(h)
        st = self.stacking.currentText()
        if st in ("P2", "O2") and self.layers.value() % 2:
            self.layers.setValue(max(2, self.layers.value() + 1))

    def params(self) -> dict:
        # untouched estimates go as None, so the model records where they came from (info, readouts)
        same = self._estimate == (round(self.a.value(), 4), round(self.c.value(), 3))
        return {"stacking": self.stacking.currentText(), "alkali": self.alkali.currentText(),
                "a": None if same else self.a.value(), "c": None if same else self.c.value(),
                "o_height": self.o_height.value(),
                "valence": self.valence.currentText(), "oxidation": self.oxidation.text().strip(),
                "supercell": self.supercell.text().strip(), "layers": self.layers.value(),
                "tm_spec": self.tm_spec.text().strip(), "alkali_spec": self.alkali_spec.text().strip(),
                "ordering": self.ordering.currentText(), "seed": self.seed.value()}

    def update_suggestions(self) -> None:
        try:
            sizes = commensurate_sizes(self.params())
        except LayerStudioError as exc:
            self._set_wrapped(self.suggest, str(exc))
            return
        if sizes:
            self._set_wrapped(self.suggest, f"Supercells that fit {self.ordering.currentText()}: " + ", ".join(sizes))
        else:
            self._set_wrapped(self.suggest, "No small supercell fits this composition and ordering")

    def _set_wrapped(self, label: QLabel, text: str) -> None:
        """Set a word-wrapped label's text and give it the height its lines need at the dialog's width
        (a form layout does not grow wrapped rows by itself)."""
        label.setText(text)
        width = max(label.width(), self.width() - 30, 440)
        label.setMinimumHeight(label.heightForWidth(width) if text else 0)

    def show_refusal(self, message: str) -> str | None:
        """The model could not be built: say why in the dialog (inputs kept) and offer the nearest
        supercell that fits as a one-click fix. Returns that cell spec (or None)."""
        self._set_wrapped(self.error, message)
        cell = None
        try:
            cell = nearest_fitting_cell(self.params())
        except LayerStudioError:
            pass
        if cell and cell != self.supercell.text().strip():
            self.use_cell.setText(f"Use a {cell} supercell (the nearest that fits)")
            self.use_cell.setProperty("cell", cell)
            self.use_cell.setVisible(True)
        else:
            self.use_cell.setVisible(False)
        return cell

    def _use_suggested_cell(self) -> None:
        cell = self.use_cell.property("cell")
        if cell:
            self.supercell.setText(cell)
            self.error.setText("")
            self.use_cell.setVisible(False)

    def accept(self) -> None:
        """Check the parameters cheaply (supercell spec, compositions) before closing."""
        from core.structure.composition import parse_spec
        from core.structure.hosts import make_host
        from core.structure.supercell import parse_supercell_spec
        p = self.params()
        try:
            host = make_host(p["stacking"], p["alkali"], a=p["a"] or self.a.value(), c=p["c"] or self.c.value(),
                             o_height=p["o_height"])
            if p["oxidation"]:
                from core.energy.valence import parse_oxidation
                parse_oxidation(p["oxidation"])
            parse_supercell_spec(p["supercell"])
            parse_spec(p["tm_spec"])
            if p["alkali_spec"]:
                parse_spec(p["alkali_spec"])
            if p["layers"] % host.slabs_per_prim:
                raise LayerStudioError(f"{p['stacking']} repeats every {host.slabs_per_prim} layers: "
                                       f"choose a multiple of {host.slabs_per_prim}")
        except LayerStudioError as exc:
            self.error.setText(str(exc))
            return
        super().accept()


class ExportDialog(QDialog):
    """Choose what to export: structure (CIF P1, CIF symmetrized, POSCAR) or picture (PNG 2x/4x, SVG)."""

    CHOICES = (("cif", "CIF (P1, every site explicit)"),
               ("cif-sym", "CIF symmetrized (spglib, tolerance below)"),
               ("poscar", "VASP POSCAR"),
               ("png2", "Layer view as PNG, 2x"),
               ("png4", "Layer view as PNG, 4x"),
               ("svg", "Layer view as SVG (vector, for slides)"))
    SUFFIX = {"cif": ".cif", "cif-sym": ".cif", "poscar": ".vasp", "png2": ".png", "png4": ".png", "svg": ".svg"}

    def __init__(self, parent=None, choice: str = "cif"):
        super().__init__(parent)
        self.setWindowTitle("Export")
        lay = QVBoxLayout(self)
        self.group = QButtonGroup(self)
        self.buttons = {}
        for n, (key, text) in enumerate(self.CHOICES):
            b = QRadioButton(text)
            self.group.addButton(b, n)
            self.buttons[key] = b
            lay.addWidget(b)
        self.buttons.get(choice, self.buttons["cif"]).setChecked(True)
        form = QFormLayout()
        self.symprec = QDoubleSpinBox()
        self.symprec.setRange(1e-5, 0.5)
        self.symprec.setDecimals(5)
        self.symprec.setValue(1e-3)
        self.symprec.setSuffix(" Å")
        form.addRow("Symmetry tolerance:", self.symprec)
        lay.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def choice(self) -> str:
        return self.CHOICES[self.group.checkedId()][0]

    def options(self) -> dict:
        c = self.choice()
        return {"kind": c, "symprec": self.symprec.value() if c == "cif-sym" else None,
                "suffix": self.SUFFIX[c]}


# ---------------------------------------------------------------------------------------- messages
# Every message box goes through these functions so tests can replace them (monkeypatch) and no
# modal dialog ever blocks a test run.

def show_error(parent, title: str, text: str) -> None:
    """A short error message (never a traceback)."""
    from PySide6.QtWidgets import QMessageBox
    QMessageBox.warning(parent, title, text)


def show_info(parent, title: str, text: str) -> None:
    from PySide6.QtWidgets import QMessageBox
    QMessageBox.information(parent, title, text)


def ask_save_changes(parent, name: str) -> str:
    """'save', 'discard' or 'cancel' for a document with unsaved changes."""
    from PySide6.QtWidgets import QMessageBox
    r = QMessageBox.question(parent, "Unsaved changes", f"Save changes to {name}?",
                             QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)
    return {QMessageBox.Save: "save", QMessageBox.Discard: "discard"}.get(r, "cancel")


def ask_yes_no(parent, title: str, text: str) -> bool:
    from PySide6.QtWidgets import QMessageBox
    return QMessageBox.question(parent, title, text, QMessageBox.Yes | QMessageBox.No,
                                QMessageBox.Yes) == QMessageBox.Yes
