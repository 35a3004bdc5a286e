"""core/ is the science and must never load Qt (also through pymatgen or numba)."""
import subprocess
import sys

from conftest import ROOT


def test_import_core_loads_no_qt():
    code = ("import sys, core, core.structure.model, core.structure.supercell, core.structure.composition\n"
            "m = core.Model.build('O3', 'Li', '3', tm_spec='Li:1/3,Mn:2/3')\n"
            "bad = [k for k in sys.modules"
            "       if k.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'PyQt6', 'PyQt5', 'gui')]\n"
            "print(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
