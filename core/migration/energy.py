"""Electrostatic estimate of migration energies: one ion moved against the fixed rest of the cell.

Everything here is an *electrostatic estimate* (formal point charges, rigid lattice, no relaxation,
no polarisation): useful to rank paths and to see the direction of an effect (a vacancy opens a path,
a cap raises it), not a barrier to compare with NEB/DFT numbers (docs/science.md §7 gives those).

Coulomb part. Moving ion i from r0 to r in a periodic cell (its images move with it, the cell's net
charge Q is unchanged) changes the Ewald energy by exactly

    dE_coul(r) = q_i [phi_rest(r) - phi_rest(r0)]

where phi_rest is the Ewald potential of every other charge (with the uniform neutralising background
pymatgen uses for charged cells). The self-image and background terms of ion i do not depend on where
it is, so this equals the difference of pymatgen `EwaldSummation.total_energy` of the two
configurations (tested to 1e-6 eV). Off the path kernel (`core.migration.kernel`), phi_rest comes from
the project's Ewald engine, `core.energy.ewald.EwaldEngine.point_potential` with a per-point excluded site.

Short-range part. A Born-Mayer repulsion between the moving cation and every O within `BM_CUTOFF`,
E = sum_O A exp(-r / rho), so that squeezing through an O-O edge is not rewarded by the Coulomb
attraction of the two O. Parameters (eV, Angstrom) in `BORN_MAYER`; reported relative to the start.

Units: Angstrom, elementary charges, V for potentials, eV for energies.
"""
from __future__ import annotations

import weakref

import numpy as np

from core.energy.tables import CONV

#: e^2 / (4 pi eps0) in eV Angstrom: the Ewald engine's CODATA 2022 constant (14.39964548 to 10 digits).
COULOMB_EV_A = CONV

#: Cation-O Born-Mayer parameters (A eV, rho Angstrom), keyed by (species, formal charge).
#: Li+-O: Lewis & Catlow, J. Phys. C 18 (1985) 1149 (A 426.480, rho 0.3000; the Li-O term of the
#: LiMn2O4 shell-model sets). Mn4+-O (3087.826, 0.2642) and Mn3+-O (1686.125, 0.2962): the Mn-O
#: terms used with it for LiMn2O4 (Ammundsen, Roziere & Islam, J. Phys. Chem. B 101 (1997) 8156).
#: Mg2+, Ni2+, Al3+, Fe3+, Ti4+: Lewis & Catlow 1985 values quoted from memory [mem], to verify.
#: Anything else uses `BORN_MAYER_GENERIC`.
BORN_MAYER: dict[tuple[str, int], tuple[float, float]] = {
    ("Li", 1): (426.480, 0.3000),
    ("Mn", 4): (3087.826, 0.2642),
    ("Mn", 3): (1686.125, 0.2962),
    ("Mg", 2): (1428.5, 0.2945),
    ("Ni", 2): (683.5, 0.3332),
    ("Al", 3): (1474.4, 0.3006),
    ("Fe", 3): (1102.4, 0.3299),
    ("Ti", 4): (754.2, 0.3879),
}
#: Generic cation-O Born-Mayer term (eV, Angstrom) for species/charges not in `BORN_MAYER`:
#: of the size of the tabulated ones (~1 eV per O at a typical 2.0 Angstrom bond).
BORN_MAYER_GENERIC: tuple[float, float] = (1000.0, 0.3000)
#: O farther than this from an image point are left out of the repulsion (A e^{-r/rho} < 1e-4 eV).
BM_CUTOFF = 5.0


def born_mayer_params(species: str, charge: float) -> tuple[float, float, str]:
    """(A eV, rho Angstrom, source) of the cation-O repulsion for a species at a formal charge."""
    key = (species, int(round(charge)))
    if key in BORN_MAYER and abs(charge - round(charge)) < 1e-9:
        return (*BORN_MAYER[key], "tabulated")
    return (*BORN_MAYER_GENERIC, "generic")


def _replicate(lattice: np.ndarray, cart: np.ndarray, r_cut: float) -> tuple[np.ndarray, np.ndarray]:
    """Periodic copies of `cart` (n, 3) covering the cell padded by r_cut: (positions (m, 3), tag (m,))."""
    inv = np.linalg.inv(lattice)
    frac = cart @ inv
    frac -= np.floor(frac)
    # plane spacings of the cell: number of copies needed along each axis
    heights = 1.0 / np.linalg.norm(inv, axis=0)
    reach = np.ceil(r_cut / heights).astype(int)
    rng = [np.arange(-r, r + 1) for r in reach]
    shifts = np.array(np.meshgrid(*rng, indexing="ij")).reshape(3, -1).T
    pos = (frac[None, :, :] + shifts[:, None, :]).reshape(-1, 3)
    tag = np.tile(np.arange(len(cart)), len(shifts))
    # keep copies within r_cut of the cell (in fractional terms, a slab of r_cut / height per axis)
    pad = r_cut / heights
    keep = np.all((pos >= -pad) & (pos <= 1 + pad), axis=1)
    return pos[keep] @ lattice, tag[keep]


class BornMayer:
    """Cation-O Born-Mayer repulsion at arbitrary points, from the O sites of a supercell."""

    def __init__(self, supercell, cutoff: float = BM_CUTOFF):
        from scipy.spatial import cKDTree

        self.o_sites = supercell.o_sites
        self.cutoff = cutoff
        self.lattice = supercell.lattice
        self.pos, tag = _replicate(supercell.lattice, supercell.cart[self.o_sites], cutoff)
        self.tag = self.o_sites[tag]
        self.tree = cKDTree(self.pos)
        self._inv = np.linalg.inv(supercell.lattice)

    def energy(self, points: np.ndarray, A: np.ndarray, rho: np.ndarray, o_present: np.ndarray) -> np.ndarray:
        """(P,) eV: sum over O within the cutoff of A exp(-r / rho), per point.

        A, rho: (P,) parameters of the ion at each point. o_present: (N,) bool, O sites holding O.
        """
        from scipy.spatial import cKDTree

        pts = np.asarray(points, float).reshape(-1, 3)
        frac = pts @ self._inv
        pts = (frac - np.floor(frac)) @ self.lattice
        pairs = cKDTree(pts).sparse_distance_matrix(self.tree, self.cutoff, output_type="ndarray")
        i, j, d = pairs["i"], pairs["j"], pairs["v"]
        keep = o_present[self.tag[j]]
        i, d = i[keep], d[keep]
        return np.bincount(i, weights=A[i] * np.exp(-d / rho[i]), minlength=len(pts))


_BORN_MAYER: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def born_mayer(supercell) -> BornMayer:
    bm = _BORN_MAYER.get(supercell)
    if bm is None:
        bm = BornMayer(supercell)
        _BORN_MAYER[supercell] = bm
    return bm


def coulomb_profiles(supercell, q: np.ndarray, from_sites: np.ndarray, images: np.ndarray,
                     engine=None) -> np.ndarray:
    """(n_paths, n_img) eV: q_i [phi_rest(r_k) - phi_rest(r_0)] for each path's moving ion.

    from_sites: (n_paths,) moving ion's site; images: (n_paths, n_img, 3) Cartesian, image 0 = the
    site. engine: default `core.energy.ewald.get_engine(supercell)`, all images of all paths in one call
    (``exclude_per_point``); any other object with ``point_potential(points, q, exclude=[site])``
    (core.energy.ewald contract) is called once per distinct moving site.
    """
    from core.energy.ewald import EwaldEngine, get_engine

    n, m, _ = images.shape
    if n == 0:
        return np.zeros((0, m))
    if engine is None or not hasattr(engine, "point_potential"):
        engine = get_engine(supercell)
    if isinstance(engine, EwaldEngine):
        phi = np.asarray(engine.point_potential(images.reshape(-1, 3), q,
                                                exclude_per_point=np.repeat(from_sites, m))).reshape(n, m)
    else:
        phi = np.empty((n, m))
        for s in np.unique(from_sites):
            rows = np.flatnonzero(from_sites == s)
            phi[rows] = np.asarray(engine.point_potential(images[rows].reshape(-1, 3), q,
                                                          exclude=[int(s)])).reshape(len(rows), m)
    return q[from_sites][:, None] * (phi - phi[:, :1])


def repulsion_profiles(supercell, occupancy: np.ndarray, species: list[str], charges: np.ndarray,
                       images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Born-Mayer repulsion of each path's moving cation with the O (n_paths, n_img) eV relative to
    image 0, and the absolute value at image 0 (n_paths,)."""
    from core.structure.species import OXYGEN

    n, m, _ = images.shape
    if n == 0:
        return np.zeros((0, m)), np.zeros(0)
    params = np.array([born_mayer_params(s, c)[:2] for s, c in zip(species, charges)]).reshape(n, 2)
    A = np.repeat(params[:, 0], m)
    rho = np.repeat(params[:, 1], m)
    e = born_mayer(supercell).energy(images.reshape(-1, 3), A, rho, occupancy == OXYGEN).reshape(n, m)
    return e - e[:, :1], e[:, 0]


__all__ = ["COULOMB_EV_A", "BORN_MAYER", "BORN_MAYER_GENERIC", "BM_CUTOFF", "born_mayer_params",
           "BornMayer", "born_mayer", "coulomb_profiles",
           "repulsion_profiles"]
