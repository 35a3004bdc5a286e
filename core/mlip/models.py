"""Energy models behind one interface: anything that can hand out an ASE calculator.

    get_energy_model("ewald")                  # formal point charges (the app's live energy), no forces
    get_energy_model("chgnet", threads=2)      # CHGNet pretrained (Deng et al., Nat. Mach. Intell. 2023)
    get_energy_model(my_ase_calculator)        # any ASE calculator a user brings
    get_energy_model("/path/model.pth.tar")    # a CHGNet model file (fine-tuned weights)

`EnergyModel.calculator()` returns the (cached) ASE calculator; `key` identifies the model in caches;
`forces` says whether it can relax a structure. torch is imported only when a CHGNet model is made,
with its thread count set explicitly (torch otherwise takes every core).
"""
from __future__ import annotations

import contextlib
import os
import sys
import threading

import numpy as np

from core.errors import LayerStudioError


class EnergyModelError(LayerStudioError):
    """An energy model that cannot be made (package missing, unreadable model file, bad name)."""


class EnergyModel:
    """An ASE calculator plus what the rest of `core.mlip` needs to know about it.

    name: short label for readouts ("CHGNet 0.3.0", "Ewald"); key: cache key (str); forces: True if the
    calculator gives forces (relaxation and NEB need them); magmoms: True if it predicts magnetic moments;
    device: "cpu" / "cuda" / "-".
    """

    forces = True
    magmoms = False
    device = "-"

    def __init__(self, calculator=None, name: str = "calculator", key: str | None = None):
        self._calc = calculator
        self.name = name
        self.key = key or f"{name}:{id(calculator)}"
        self._lock = threading.Lock()

    def calculator(self):
        return self._calc

    @property
    def lock(self) -> threading.Lock:
        """One calculation at a time per model (ASE calculators keep state between calls)."""
        return self._lock

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} on {self.device}>"


class EwaldModel(EnergyModel):
    """Formal point charges (atoms' ``initial_charges``) summed exactly by `core.energy.ewald`.

    Energy only: without a short-range repulsion point charges collapse, so relaxing with it is refused.
    """

    forces = False

    def __init__(self):
        super().__init__(None, "Ewald (formal charges)", "ewald")

    def calculator(self):
        if self._calc is None:
            self._calc = _ewald_calculator()
        return self._calc


def _ewald_calculator():
    from ase.calculators.calculator import Calculator, all_changes

    class EwaldCalculator(Calculator):
        """ASE calculator: Ewald energy (eV) of the atoms' initial_charges (e)."""

        implemented_properties = ("energy",)

        def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            from core.energy.ewald import EwaldEngine
            from core.energy.tables import Layout

            a = self.atoms
            n = len(a)
            eye = np.eye(3, dtype=np.int64)
            layout = Layout(prim=np.array(a.cell[:], float), basis_cart=a.get_positions(), S=eye, A=eye,
                            orders=np.ones(3, np.int64), site_basis=np.arange(n, dtype=np.int64),
                            site_group=np.zeros((n, 3), np.int64))
            q = np.asarray(a.get_initial_charges(), float)
            self.results["energy"] = float(EwaldEngine(layout=layout).energy(q))
            self.results["free_energy"] = self.results["energy"]

    return EwaldCalculator()


def set_threads(threads: int | None) -> int:
    """Set torch's intra-op thread count (default: env LAYERSTUDIO_THREADS, else 1). Returns it."""
    n = int(threads or os.environ.get("LAYERSTUDIO_THREADS", 1) or 1)
    import torch

    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


def best_device(device: str | None = None) -> str:
    """"cuda" when torch sees a GPU (unless `device` says otherwise), else "cpu"."""
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


_CHGNET: dict[tuple, EnergyModel] = {}
_CHGNET_LOCK = threading.Lock()


class CHGNetModel(EnergyModel):
    """CHGNet pretrained universal potential (energy, forces, stress, magnetic moments)."""

    magmoms = True

    def __init__(self, path: str | None = None, threads: int | None = None, device: str | None = None):
        try:
            import chgnet  # noqa: F401
        except ImportError as exc:
            raise EnergyModelError("CHGNet is not installed: pip install 'layer-studio[mlip]' "
                                   "(or pip install chgnet)") from exc
        self.threads = set_threads(threads)
        self.device = best_device(device)
        from chgnet.model import CHGNet
        from chgnet.model.dynamics import CHGNetCalculator

        # CHGNet prints its device on stdout: keep stdout clean for the CLI's JSON line
        with contextlib.redirect_stdout(sys.stderr):
            try:
                net = CHGNet.from_file(path) if path else CHGNet.load(verbose=False, use_device=self.device)
            except (OSError, RuntimeError, KeyError, ValueError) as exc:
                raise EnergyModelError(f"cannot read the CHGNet model file {path}: {exc}") from exc
            calc = CHGNetCalculator(net, use_device=self.device, on_isolated_atoms="ignore")
        name = f"CHGNet {getattr(net, 'version', '') or ''}".strip()
        super().__init__(calc, name, f"chgnet:{path or getattr(net, 'version', 'default')}")


def get_energy_model(spec="ewald", *, threads: int | None = None, device: str | None = None) -> EnergyModel:
    """An `EnergyModel` from a name ("ewald", "chgnet"), a CHGNet model file, an ASE calculator or an
    EnergyModel (returned as is). CHGNet models are loaded once per (file, device) and shared."""
    if isinstance(spec, EnergyModel):
        return spec
    if spec is None or (isinstance(spec, str) and spec.lower() in ("ewald", "")):
        return EwaldModel()
    if isinstance(spec, (str, os.PathLike)):
        s = str(spec)
        path = None if s.lower() == "chgnet" else s
        if path is not None and not os.path.exists(path):
            raise EnergyModelError(f"unknown energy model {s!r}: use ewald, chgnet or a CHGNet model file")
        key = (path, device)
        with _CHGNET_LOCK:
            if key not in _CHGNET:
                _CHGNET[key] = CHGNetModel(path, threads=threads, device=device)
            else:
                set_threads(threads if threads else _CHGNET[key].threads)
            return _CHGNET[key]
    if hasattr(spec, "get_potential_energy") or hasattr(spec, "calculate"):
        m = EnergyModel(spec, type(spec).__name__)
        m.magmoms = "magmoms" in getattr(spec, "implemented_properties", ())
        m.forces = "forces" in getattr(spec, "implemented_properties", ("forces",))
        return m
    raise EnergyModelError(f"not an energy model: {spec!r}")


def have_chgnet() -> bool:
    """True when the optional CHGNet package is importable (without importing torch)."""
    import importlib.util

    return importlib.util.find_spec("chgnet") is not None


__all__ = ["EnergyModel", "EwaldModel", "CHGNetModel", "EnergyModelError", "get_energy_model",
           "set_threads", "best_device", "have_chgnet"]
