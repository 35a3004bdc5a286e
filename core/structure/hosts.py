"""Host prototypes for layered oxides: O3, P2, P3 and O2 stackings.

A host is a primitive cell of the stacking: the in-plane hexagonal vectors a1 = a(1, 0),
a2 = a(-1/2, sqrt3/2) (pymatgen ``Lattice.hexagonal`` convention, docs/science.md §1) and a stacking
vector ``c_p = shift[0] a1 + shift[1] a2 + (c / slabs_per_c) * slabs_per_prim * z``.
Rhombohedral stackings (O3, P3) have one slab per primitive cell and shift (2/3, 1/3); hexagonal
ones (P2, O2) have two slabs and no shift.

Close-packed in-plane positions: A = (0, 0), B = (2/3, 1/3), C = (1/3, 2/3) in units of (a1, a2).
Sites are described layer by layer along the stacking vector; tetrahedral interstitials are derived
from each pair of adjacent oxygen layers with different positions.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from core.errors import SupercellError

POSITIONS = {"A": (0.0, 0.0), "B": (2.0 / 3.0, 1.0 / 3.0), "C": (1.0 / 3.0, 2.0 / 3.0)}

#: Site roles. Occupiable roles hold a species in the occupancy; interstitial roles are geometry only.
ROLE_TM = "tm"                  # TM-layer octahedral site
ROLE_ALKALI_OCT = "alkali_oct"  # alkali-layer octahedral site (O3, O2)
ROLE_PRISM_E = "prism_e"        # P2 Na_e: prism sharing edges with six TMO6
ROLE_PRISM_F = "prism_f"        # P2 Na_f: prism sharing faces with the TMO6 above and below
ROLE_PRISM = "prism"            # P3 prismatic site (face on one side, edges on the other)
ROLE_O = "O"
ROLE_TET_ALKALI = "tet_alkali"  # tetrahedral interstitial in the alkali layer
ROLE_TET_TM = "tet_tm"          # tetrahedral interstitial in the TM layer

ALKALI_ROLES = (ROLE_ALKALI_OCT, ROLE_PRISM_E, ROLE_PRISM_F, ROLE_PRISM)
CATION_ROLES = (ROLE_TM,) + ALKALI_ROLES
INTERSTITIAL_ROLES = (ROLE_TET_ALKALI, ROLE_TET_TM)


@dataclass(frozen=True)
class BasisSite:
    """One site of the primitive cell.

    role: one of the ROLE_* constants. pos: 'A', 'B' or 'C'. z: height along c in Angstrom above the
    first TM plane of the primitive cell. layer: index of the TM slab (0-based within the primitive
    cell) the site belongs to; alkali/prism sites belong to the slab below them.
    """

    role: str
    pos: str
    z: float
    layer: int


@dataclass(frozen=True)
class Host:
    """A stacking prototype with its lattice parameters.

    a, c: hexagonal lattice parameters (Angstrom) of the conventional cell (c spans `slabs_per_c` slabs).
    o_height: height of the O planes above/below the TM plane (Angstrom).
    """

    stacking: str
    alkali: str
    a: float
    c: float
    o_height: float
    slabs_per_c: int
    slabs_per_prim: int
    shift: tuple[float, float]
    basis: tuple[BasisSite, ...] = field(repr=False)

    @property
    def slab(self) -> float:
        """Slab (TM-layer to TM-layer) spacing in Angstrom."""
        return self.c / self.slabs_per_c

    @property
    def a1(self) -> np.ndarray:
        return np.array([self.a, 0.0, 0.0])

    @property
    def a2(self) -> np.ndarray:
        return np.array([-0.5 * self.a, 0.5 * np.sqrt(3.0) * self.a, 0.0])

    @property
    def c_prim(self) -> np.ndarray:
        """Primitive stacking vector (Cartesian, Angstrom)."""
        return (self.shift[0] * self.a1 + self.shift[1] * self.a2
                + np.array([0.0, 0.0, self.slab * self.slabs_per_prim]))

    @property
    def prim_lattice(self) -> np.ndarray:
        """(3, 3) rows a1, a2, c_prim in Angstrom."""
        return np.array([self.a1, self.a2, self.c_prim])

    def cart(self, site: BasisSite) -> np.ndarray:
        x, y = POSITIONS[site.pos]
        return x * self.a1 + y * self.a2 + np.array([0.0, 0.0, site.z])

    def with_params(self, a: float | None = None, c: float | None = None,
                    o_height: float | None = None) -> Host:
        """The same stacking with other lattice parameters (rebuilds the basis)."""
        return make_host(self.stacking, self.alkali, a=a if a is not None else self.a,
                         c=c if c is not None else self.c,
                         o_height=o_height if o_height is not None else self.o_height)

    def to_dict(self) -> dict:
        return {"stacking": self.stacking, "alkali": self.alkali, "a": self.a, "c": self.c,
                "o_height": self.o_height}


STACKINGS = ("O3", "P2", "P3", "O2")

#: Default lattice parameters (a, c, o_height in Angstrom) per (stacking, alkali).
#: O3-Li: LiCoO2 (Orman & Wiseman 1984), o_height from z(O) = 0.2396. O3-Na: NaNi0.5Mn0.5O2.
#: P2-Na: Na2/3Ni1/3Mn2/3O2, z(O) ~ 0.09. P3-Na: Na0.6Li0.2Mn0.8O2-like (c = 3 slabs of ~5.6 A).
#: O2-Li: O2-LiCoO2 (a 2.806, c 9.52). Li in prismatic hosts / Na in O2 are rare: plausible values.
DEFAULTS: dict[tuple[str, str], tuple[float, float, float]] = {
    ("O3", "Li"): (2.8156, 14.0542, 1.0248),
    ("O3", "Na"): (2.96, 15.9, 1.05),
    ("P2", "Na"): (2.885, 11.16, 1.00),
    ("P2", "Li"): (2.85, 10.2, 1.00),
    ("P3", "Na"): (2.88, 16.8, 1.00),
    ("P3", "Li"): (2.85, 15.3, 1.00),
    ("O2", "Li"): (2.806, 9.52, 1.02),
    ("O2", "Na"): (2.96, 10.6, 1.05),
}


def _o3_basis(d: float, h: float) -> list[BasisSite]:
    # alkali at A (z = -d/2 relative to the TM plane), TM at C; alkali at 3a/TM at 3b of R-3m.
    return [
        BasisSite(ROLE_O, "B", -h, 0),
        BasisSite(ROLE_TM, "C", 0.0, 0),
        BasisSite(ROLE_O, "A", h, 0),
        BasisSite(ROLE_ALKALI_OCT, "B", d / 2, 0),
    ]


def _p3_basis(d: float, h: float) -> list[BasisSite]:
    # O stacking A B | B C | C A ...; prisms between two B layers at A (face-shared above) and C
    # (face-shared below).
    return [
        BasisSite(ROLE_O, "A", -h, 0),
        BasisSite(ROLE_TM, "C", 0.0, 0),
        BasisSite(ROLE_O, "B", h, 0),
        BasisSite(ROLE_PRISM, "C", d / 2, 0),
        BasisSite(ROLE_PRISM, "A", d / 2, 0),
    ]


def _p2_basis(d: float, h: float) -> list[BasisSite]:
    # P6_3/mmc: TM 2a at A in both slabs, O 4f, Na_f 2b at A, Na_e 2d at B / C.
    return [
        BasisSite(ROLE_O, "B", -h, 0),
        BasisSite(ROLE_TM, "A", 0.0, 0),
        BasisSite(ROLE_O, "C", h, 0),
        BasisSite(ROLE_PRISM_F, "A", d / 2, 0),
        BasisSite(ROLE_PRISM_E, "B", d / 2, 0),
        BasisSite(ROLE_O, "C", d - h, 1),
        BasisSite(ROLE_TM, "A", d, 1),
        BasisSite(ROLE_O, "B", d + h, 1),
        BasisSite(ROLE_PRISM_F, "A", 1.5 * d, 1),
        BasisSite(ROLE_PRISM_E, "C", 1.5 * d, 1),
    ]


def _o2_basis(d: float, h: float) -> list[BasisSite]:
    # O stacking A B A C; Li octahedra share a face with the TMO6 below and edges with the one above.
    return [
        BasisSite(ROLE_O, "A", -h, 0),
        BasisSite(ROLE_TM, "C", 0.0, 0),
        BasisSite(ROLE_O, "B", h, 0),
        BasisSite(ROLE_ALKALI_OCT, "C", d / 2, 0),
        BasisSite(ROLE_O, "A", d - h, 1),
        BasisSite(ROLE_TM, "B", d, 1),
        BasisSite(ROLE_O, "C", d + h, 1),
        BasisSite(ROLE_ALKALI_OCT, "B", 1.5 * d, 1),
    ]


_LAYOUT = {
    # stacking: (basis builder, slabs per conventional c, slabs per primitive cell, shift)
    "O3": (_o3_basis, 3, 1, (2.0 / 3.0, 1.0 / 3.0)),
    "P3": (_p3_basis, 3, 1, (2.0 / 3.0, 1.0 / 3.0)),
    "P2": (_p2_basis, 2, 2, (0.0, 0.0)),
    "O2": (_o2_basis, 2, 2, (0.0, 0.0)),
}


def _tetrahedral_sites(basis: list[BasisSite], d_prim: float, shift_letter: dict[str, str]) -> list[BasisSite]:
    """Tetrahedral interstitials between adjacent O planes of different position.

    Between an O plane at X (height z1) and the next one up at Y != X there are two tetrahedra:
    one centred over position Y at z1 + (z2 - z1)/4 (base on X, apex Y) and one over X at
    z2 - (z2 - z1)/4. The gap is the alkali layer when an alkali site lies between the planes.
    """
    o_planes = sorted((s.z, s.pos, s.layer) for s in basis if s.role == ROLE_O)
    # close the cycle with the first O plane of the next primitive cell (shifted by c_p)
    z0, p0, l0 = o_planes[0]
    n_layers = max(s.layer for s in basis) + 1
    planes = o_planes + [(z0 + d_prim, shift_letter[p0], l0 + n_layers)]
    out = []
    for (z1, x, l1), (z2, y, _l2) in zip(planes[:-1], planes[1:]):
        if x == y:
            continue  # prismatic gap: no tetrahedra
        between = [s for s in basis if z1 < s.z < z2 and s.role != ROLE_O]
        is_alkali = any(s.role in ALKALI_ROLES for s in between)
        role = ROLE_TET_ALKALI if is_alkali else ROLE_TET_TM
        layer = l1 % n_layers
        out.append(BasisSite(role, y, z1 + (z2 - z1) / 4.0, layer))
        out.append(BasisSite(role, x, z2 - (z2 - z1) / 4.0, layer))
    return out


def make_host(stacking: str = "O3", alkali: str = "Li", a: float | None = None,
              c: float | None = None, o_height: float | None = None) -> Host:
    """Build a host prototype. Missing lattice parameters take the defaults for (stacking, alkali).

    >>> h = make_host("O3", "Li"); round(h.a, 4), round(h.c, 4)
    (2.8156, 14.0542)
    """
    st = stacking.strip().upper()
    if st not in _LAYOUT:
        raise SupercellError(f"unknown stacking {stacking!r}; choose one of {', '.join(STACKINGS)}")
    alk = alkali.strip().capitalize()
    if alk not in ("Li", "Na"):
        raise SupercellError(f"alkali must be Li or Na, not {alkali!r}")
    da, dc, dh = DEFAULTS[(st, alk)]
    a = da if a is None else float(a)
    c = dc if c is None else float(c)
    h = dh if o_height is None else float(o_height)
    builder, slabs_c, slabs_prim, shift = _LAYOUT[st]
    d = c / slabs_c
    if not (1.5 < a < 6.0):
        raise SupercellError(f"in-plane lattice parameter a = {a} Angstrom is outside 1.5-6")
    if not (1.5 * slabs_c < c < 12.0 * slabs_c):
        raise SupercellError(f"c = {c} Angstrom is implausible for {st} ({slabs_c} slabs per c)")
    if not (0.3 < h < d / 2 - 0.3):
        raise SupercellError(
            f"O height {h} Angstrom must lie between 0.3 and {d / 2 - 0.3:.2f} (half the slab minus 0.3)")
    basis = builder(d, h)
    # letter of each position after one primitive stacking translation
    if shift == (0.0, 0.0):
        shift_letter = {"A": "A", "B": "B", "C": "C"}
    else:
        shift_letter = {"A": "B", "B": "C", "C": "A"}
    basis = basis + _tetrahedral_sites(basis, d * slabs_prim, shift_letter)
    return Host(st, alk, a, c, h, slabs_c, slabs_prim, shift, tuple(basis))


def host_from_dict(d: dict) -> Host:
    return make_host(d["stacking"], d.get("alkali", "Li"), a=d.get("a"), c=d.get("c"),
                     o_height=d.get("o_height"))


__all__ = ["Host", "BasisSite", "make_host", "host_from_dict", "STACKINGS", "DEFAULTS", "POSITIONS",
           "ROLE_TM", "ROLE_ALKALI_OCT", "ROLE_PRISM_E", "ROLE_PRISM_F", "ROLE_PRISM", "ROLE_O",
           "ROLE_TET_ALKALI", "ROLE_TET_TM", "ALKALI_ROLES", "CATION_ROLES", "INTERSTITIAL_ROLES",
           "replace"]
