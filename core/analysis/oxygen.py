"""Oxygen environments: Li-O-Li and generalised A-O-A' axes (Seo et al., Nat. Chem. 8 (2016) 692).

Every O of a layered oxide has three cation-O-cation axes (`Supercell.o_axes`), each with a TM-layer
end and a partner in the alkali layer. An axis is Li-O-Li when both ends hold Li; it is A-O-A' when
both ends hold a species without a TM d partner for the O 2p orbital along it: alkali, Mg, a d10 ion
(Zn, if the species list gains one) or a vacancy (docs/science.md §9). Such O carry the labile,
unhybridised O 2p states behind oxygen redox.

Geometry of the axes per stacking (what `o_axes` gives and what we do with it):
- O3: every axis is linear to 0.7 deg (cos = -0.993).
- O2: O facing the face-shared LiO6 have partners at ~132 deg (cos -0.667), the others ~173 deg.
- P2/P3: the partner is the nearest-to-linear prism, ~164 deg (cos -0.96); in P2 this is always a
  Na_e prism, since the face-sharing Na_f prisms sit over a TM and are never the far end of an axis.
We count every axis the same whatever its angle (docs/science.md §9: use the nearest-to-180-degree
partner); `axis_cos` exposes the angles. A vacant partner is a vacancy end (an A) even when a nearby
prism of the other kind is occupied.
"""
from __future__ import annotations

import numpy as np

from core.structure.species import CODE, ELEMENT, SPECIES

#: Species that count as A in A-O-A' (no TM partner for the O 2p orbital along the axis).
A_SPECIES: tuple[str, ...] = tuple(s for s in ("Va", "Li", "Na", "Mg", "Zn") if s in CODE)
#: Transition metals counted in the TM/O ratio (Mg, Al and alkali are not).
TM_SPECIES: tuple[str, ...] = ("Ni", "Co", "Mn", "Ti", "Fe", "Cr", "V", "Cu", "Ru", "Ir", "Zr", "Nb", "W")


def _mask(symbols) -> np.ndarray:
    """Codes whose element is in `symbols` (ions such as Ni3+ count as their element)."""
    m = np.zeros(len(SPECIES), dtype=bool)
    m[[c for c, e in enumerate(ELEMENT) if e in symbols]] = True
    return m


_IS_LI = _mask(("Li",))
_IS_A = _mask(A_SPECIES)
_IS_TM = _mask(TM_SPECIES)


class OxygenEnvironments:
    """Per-O axis occupancies and Li-O-Li / A-O-A' counts of a model, updated incrementally.

    Arrays (rows in `supercell.o_sites` order, n_O rows):
      axis_sites (n_O, 3, 2) int64: site indices of the axis ends (TM-layer end first);
      axis_cos (n_O, 3): cosine of each cation-O-cation angle (-1 = linear);
      axis_species (n_O, 3, 2) int8: species codes at the axis ends;
      li_o_li (n_O,) int8: number of Li-O-Li axes (0-3); a_o_a (n_O,) int8: number of A-O-A' axes.
    Call `update(changed_sites)` after an edit (or `attach()` to follow the model automatically).
    """

    def __init__(self, model):
        self.model = model
        sc = model.supercell
        self.o_sites = sc.o_sites
        self.axis_sites, self.axis_cos = sc.o_axes
        n_o = len(self.o_sites)
        # site -> O rows whose axes end on that site: exactly the O an occupancy flip can change
        # (a CSR map built from the axes themselves, so it is also right for prismatic partners)
        ends = self.axis_sites.reshape(n_o, 6)
        flat = ends.ravel()
        rows = np.repeat(np.arange(n_o), 6)
        order = np.argsort(flat, kind="stable")
        self._rows_by_site = rows[order]
        self._ptr = np.searchsorted(flat[order], np.arange(sc.n_sites + 1))
        self.axis_species = np.zeros((n_o, 3, 2), dtype=np.int8)
        self.li_o_li = np.zeros(n_o, dtype=np.int8)
        self.a_o_a = np.zeros(n_o, dtype=np.int8)
        self._hist = np.zeros(4, dtype=np.int64)
        self._aoa_sum = 0
        self._attached = False
        self.recompute()

    # ------------------------------------------------------------------ computation
    def _rows_values(self, rows: np.ndarray):
        spec = self.model.occupancy[self.axis_sites[rows]]
        lioli = _IS_LI[spec].all(axis=2).sum(axis=1).astype(np.int8)
        aoa = _IS_A[spec].all(axis=2).sum(axis=1).astype(np.int8)
        return spec, lioli, aoa

    def recompute(self) -> None:
        """Full recomputation from the model's occupancy (O(n_O))."""
        rows = np.arange(len(self.o_sites))
        self.axis_species, self.li_o_li, self.a_o_a = self._rows_values(rows)
        self._hist = np.bincount(self.li_o_li, minlength=4).astype(np.int64)
        self._aoa_sum = int(self.a_o_a.sum())

    def rows_of_sites(self, sites) -> np.ndarray:
        """O rows (indices into `o_sites`) whose axes end on any of `sites` (sorted, unique)."""
        sites = np.unique(np.asarray(sites, dtype=np.int64).ravel())
        if len(sites) == 0:
            return np.zeros(0, dtype=np.int64)
        parts = [self._rows_by_site[self._ptr[s]:self._ptr[s + 1]] for s in sites.tolist()]
        return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    def update(self, changed_sites) -> np.ndarray:
        """Recompute only the O around `changed_sites` (after the model's occupancy changed).

        Returns the O rows that were recomputed. Cost O(len(changed_sites)), independent of cell size.
        """
        rows = self.rows_of_sites(changed_sites)
        if len(rows) == 0:
            return rows
        old_l, old_a = self.li_o_li[rows], self.a_o_a[rows]
        spec, lioli, aoa = self._rows_values(rows)
        self.axis_species[rows] = spec
        self.li_o_li[rows] = lioli
        self.a_o_a[rows] = aoa
        self._hist += np.bincount(lioli, minlength=4) - np.bincount(old_l, minlength=4)
        self._aoa_sum += int(aoa.sum()) - int(old_a.sum())
        return rows

    def attach(self) -> None:
        """Follow the model: `update` runs after every applied edit until `detach()`."""
        if not self._attached:
            self.model.add_listener(self.update)
            self._attached = True

    def detach(self) -> None:
        if self._attached:
            self.model.remove_listener(self.update)
            self._attached = False

    # ------------------------------------------------------------------ readouts
    @property
    def n_oxygen(self) -> int:
        return len(self.o_sites)

    @property
    def histogram(self) -> list[int]:
        """Number of O with 0, 1, 2, 3 Li-O-Li axes."""
        return [int(v) for v in self._hist]

    @property
    def li_o_li_mean(self) -> float:
        """Mean number of Li-O-Li axes per O."""
        return float(self._hist @ np.arange(4)) / max(self.n_oxygen, 1)

    @property
    def a_o_a_mean(self) -> float:
        """Mean number of A-O-A' axes per O."""
        return self._aoa_sum / max(self.n_oxygen, 1)

    @property
    def fraction_with_li_o_li(self) -> float:
        """Fraction of O with at least one Li-O-Li axis."""
        return float(self._hist[1:].sum()) / max(self.n_oxygen, 1)

    @property
    def tm_to_o_ratio(self) -> float:
        """Transition metals (Ni, Co, Mn, Ti, Fe, both layers) per O."""
        return float(_IS_TM[self.model.occupancy].sum()) / max(self.n_oxygen, 1)

    def site_values(self, kind: str = "li_o_li") -> np.ndarray:
        """(N,) float over all sites: the per-O count ('li_o_li' or 'a_o_a') on O sites, NaN elsewhere
        (for colouring O by environment)."""
        vals = {"li_o_li": self.li_o_li, "a_o_a": self.a_o_a}.get(kind)
        if vals is None:
            raise ValueError("kind must be 'li_o_li' or 'a_o_a'")
        out = np.full(self.model.supercell.n_sites, np.nan)
        out[self.o_sites] = vals
        return out

    def summary(self) -> dict:
        """JSON-ready: li_o_li_histogram [n0, n1, n2, n3], li_o_li_mean_per_O, a_o_a_mean_per_O,
        tm_to_O_ratio, fraction_with_li_o_li."""
        return {
            "li_o_li_histogram": self.histogram,
            "li_o_li_mean_per_O": round(self.li_o_li_mean, 6),
            "a_o_a_mean_per_O": round(self.a_o_a_mean, 6),
            "tm_to_O_ratio": round(self.tm_to_o_ratio, 6),
            "fraction_with_li_o_li": round(self.fraction_with_li_o_li, 6),
        }


def oxygen_summary(model) -> dict:
    """`OxygenEnvironments(model).summary()` for a one-off readout (CLI, report)."""
    return OxygenEnvironments(model).summary()


__all__ = ["OxygenEnvironments", "oxygen_summary", "A_SPECIES", "TM_SPECIES"]
