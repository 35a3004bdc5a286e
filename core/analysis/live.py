"""The live analysis of a model: everything the editor shows that follows each edit, Qt-free.

    live = LiveAnalysis(model)                   # cheap: composition-level numbers and O environments
    live.attach_engine(*build_engine(model.supercell, model.charges()))   # seconds on big cells: a worker
    changed = live.update(sites)                 # after an edit of these sites: what changed
    core.report.info(live=live)                  # the summary of this state (the same dict as `layerstudio info`)

`update` costs O(k N) for k changed sites (the incremental Ewald update of `core.energy.live`, the O
environments of `core.analysis.oxygen`); the capacity is recomputed from the composition only when
asked (it is cached per version). Edits made before the engine is attached are replayed onto it when
it arrives, so the energy is always that of the current occupancy.

The space group (spglib, seconds on large cells) is not computed here: `symmetry_request()` gives the
spglib cell and the cached answer if this configuration was seen before (`core.structure.symmetry`).
"""
from __future__ import annotations

import numpy as np

from core.analysis.capacity import capacity_summary
from core.analysis.oxygen import OxygenEnvironments
from core.errors import LayerStudioError
from core.structure.species import charge_by_code
from core.structure.symmetry import DEFAULT_SYMPREC, cached_space_group

#: changed-site count beyond which the energy tracker is rebuilt (one FFT) instead of updated (O(k^2))
REBUILD_ABOVE = 256

#: names `update` reports
ENERGY, COMPOSITION, OXYGEN, SYMMETRY, ORDERING = "energy", "composition", "oxygen", "symmetry", "ordering"


def build_engine(supercell, q):
    """(EwaldEngine, LiveEwald, q) for a supercell and its charges q (N,) e: seconds on big cells, so
    callers pass a copy of the charges and build it in a worker."""
    from core.energy.ewald import get_engine
    from core.energy.live import LiveEwald

    q = np.array(q, dtype=float)
    engine = get_engine(supercell)
    engine.tiled_columns()  # otherwise built lazily on the first edit
    return engine, LiveEwald(engine, q), q


class LiveAnalysis:
    """Follows one Model through `update(sites)` / `oxidation_changed()`.

    Attributes: `model`, `engine` and `ewald` (core.energy.live.LiveEwald) or None before
    `attach_engine`, `oxygen` (OxygenEnvironments), `version` (bumps on every change).
    """

    def __init__(self, model):
        self.model = model
        self.engine = None
        self.ewald = None
        self.oxygen = OxygenEnvironments(model)
        self.version = 0
        self._qtable = charge_by_code(model.oxidation)
        self._qtable_src = model.oxidation
        self._site_energies = None
        self._capacity = None
        #: answers computed elsewhere for this version ("space_group": SpaceGroupInfo or error text,
        #: "ordering": recognise() dict or error text); cleared by every change
        self.results: dict = {}

    def share_engine(self, other: LiveAnalysis, charges=None) -> None:
        """Use `other`'s engine: a fresh tracker costs one FFT, not an engine build (nothing happens when
        `other` follows another supercell).

        charges: per-site charges (N,) e when they differ from the species table (a state of charge
        keeps holes on particular O and TM ions; the model holds the species means)."""
        if other.engine is not None and self.ewald is None and other.model.supercell is self.model.supercell:
            from core.energy.live import LiveEwald
            self.engine = other.engine
            q = self.model.charges() if charges is None else np.asarray(charges, dtype=float)
            self.ewald = LiveEwald(other.engine, q)

    # ------------------------------------------------------------------ engine
    def attach_engine(self, engine, ewald, q_then, charges=None) -> bool:
        """Install an engine built for charges `q_then`; edits made since are replayed. False if it
        belongs to another supercell. charges: per-site charges (N,) e when they differ from the
        species table (as in `share_engine`)."""
        if engine.n_sites != self.model.supercell.n_sites:
            return False
        now = self.model.charges() if charges is None else np.asarray(charges, dtype=float)
        changed = np.flatnonzero(now != q_then)
        if len(changed):
            ewald.apply(changed, now[changed])
        self.engine, self.ewald = engine, ewald
        self._site_energies = None
        return True

    # ------------------------------------------------------------------ changes
    def update(self, sites) -> set[str]:
        """The occupancy of `sites` changed (the model is already edited): bring everything up to date
        and say what changed."""
        sites = np.asarray(sites, dtype=np.int64)
        if self._qtable_src is not self.model.oxidation:
            # Model.set_oxidation installs a new table and reports the sites of that species only
            self._qtable_src = self.model.oxidation
            self._qtable = charge_by_code(self.model.oxidation)
        self.version += 1
        self._site_energies = None
        self._capacity = None
        self.results = {}
        self.oxygen.update(sites)
        if self.ewald is not None:
            if len(sites) > REBUILD_ABOVE:
                # an incremental update costs O(k^2) for k changed sites; a fresh potential is one FFT
                self.ewald = type(self.ewald)(self.engine, self.model.charges())
            else:
                self.ewald.apply(sites, self._qtable[self.model.occupancy[sites]])
        return {ENERGY, COMPOSITION, OXYGEN, SYMMETRY, ORDERING}


    # ------------------------------------------------------------------ readouts
    @property
    def energy_eV(self) -> float | None:
        """Ewald energy of the whole cell (eV), None before the engine is attached."""
        return None if self.ewald is None else float(self.ewald.energy)

    def site_energies(self) -> np.ndarray | None:
        """(N,) per-site electrostatic energies (eV) of the current occupancy, or None (no engine)."""
        if self.ewald is None:
            return None
        if self._site_energies is None:
            self._site_energies = np.asarray(self.ewald.site_energies(), float)
        return self._site_energies

    def lioli_counts(self) -> np.ndarray:
        """(N,) Li-O-Li counts on O sites (NaN elsewhere)."""
        return self.oxygen.site_values("li_o_li")

    def capacity(self) -> dict:
        """core.analysis.capacity.capacity_summary of the current state (or {"error": message})."""
        if self._capacity is None:
            try:
                self._capacity = capacity_summary(self.model)
            except LayerStudioError as exc:
                self._capacity = {"error": str(exc)}
        return self._capacity

    def symmetry_request(self, symprec: float = DEFAULT_SYMPREC):
        """(cached SpaceGroupInfo or None, spglib cell) of the current configuration."""
        return cached_space_group(self.model, symprec)


__all__ = ["LiveAnalysis", "build_engine", "REBUILD_ABOVE"]
