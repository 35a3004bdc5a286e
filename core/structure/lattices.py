"""Lattice parameters from the composition: a small table of end members and Vegard's law between them.

Each end member gives a (in-plane, Angstrom) and the slab thickness d = c / (slabs per conventional c)
of one layered oxide, with its source. For a model's TM-layer composition the end members of the same
alkali and layer family (octahedral O-type or prismatic P-type alkali layer) are mixed with
non-negative weights that reproduce the composition as closely as possible (non-negative least
squares on the element fractions), and a and d are the weighted means (Vegard's law). c is then d
times the slabs of the requested stacking, so an O2 or P3 cell follows from O3 or P2 end members.
Only end members whose elements all occur in the composition take part. Elements no end member
holds leave a residual: the remaining weight falls back to the host default
(`core.structure.hosts.DEFAULTS`), which the source string names. O heights stay the host defaults.

Values are room-temperature powder-diffraction lattice parameters on hexagonal axes (monoclinic
Li2MnO3 converted: a_hex = mean(a_m / sqrt 3, b_m / 3), c_hex = 3 c_m sin beta); see docs/science.md §13.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import radians, sin, sqrt

from core.structure.composition import parse_spec
from core.structure.species import ELEMENT, VACANCY


@dataclass(frozen=True)
class EndMember:
    name: str
    alkali: str
    family: str  # "O" (octahedral alkali: O3/O2) or "P" (prismatic: P2/P3)
    tm: dict  # TM-layer element fractions
    a: float
    slab: float  # c / slabs per conventional cell (Angstrom)
    source: str


def _li2mno3() -> tuple[float, float]:
    am, bm, cm, beta = 4.9246, 8.5216, 5.0245, 109.398
    return (am / sqrt(3) + bm / 3) / 2, cm * sin(radians(beta))


_LMO_A, _LMO_D = _li2mno3()

#: The end-member table (extend here). slab = c / 3 for O3/P3 and c / 2 for P2/O2 cells.
END_MEMBERS: tuple[EndMember, ...] = (
    EndMember("LiCoO2", "Li", "O", {"Co": 1}, 2.8156, 14.0542 / 3,
              "Orman & Wiseman, Acta Cryst. C 40 (1984) 12"),
    EndMember("LiNiO2", "Li", "O", {"Ni": 1}, 2.878, 14.19 / 3,
              "Dahn et al., Solid State Ionics 44 (1990) 87 (typical values)"),
    EndMember("Li2MnO3", "Li", "O", {"Li": Fraction(1, 3), "Mn": Fraction(2, 3)}, _LMO_A, _LMO_D,
              "C2/m a 4.9246 b 8.5216 c 5.0245 beta 109.398 (J. Appl. Cryst. 1997), hexagonal equivalent"),
    EndMember("LiNi1/2Mn1/2O2", "Li", "O", {"Ni": Fraction(1, 2), "Mn": Fraction(1, 2)}, 2.889, 14.29 / 3,
              "Lu, MacNeil & Dahn, Electrochem. Solid-State Lett. 4 (2001) A191 (approx.)"),
    EndMember("LiAlO2", "Li", "O", {"Al": 1}, 2.799, 14.18 / 3,
              "alpha-LiAlO2, Marezio & Remeika, J. Chem. Phys. 44 (1966) 3143 (approx.)"),
    EndMember("NaCoO2", "Na", "O", {"Co": 1}, 2.889, 15.60 / 3,
              "O3 NaCoO2, Fouassier et al., J. Solid State Chem. 6 (1973) 532 (approx.)"),
    EndMember("NaNi1/2Mn1/2O2", "Na", "O", {"Ni": Fraction(1, 2), "Mn": Fraction(1, 2)}, 2.96, 15.9 / 3,
              "O3 NaNi0.5Mn0.5O2, Komaba et al. (2009) (approx.)"),
    EndMember("NaxCoO2 (P2)", "Na", "P", {"Co": 1}, 2.833, 10.88 / 2,
              "P2 Na0.7CoO2, Fouassier et al., J. Solid State Chem. 6 (1973) 532 (approx.)"),
    EndMember("Na2/3Ni1/3Mn2/3O2 (P2)", "Na", "P", {"Ni": Fraction(1, 3), "Mn": Fraction(2, 3)}, 2.885,
              11.16 / 2, "Lu & Dahn, J. Electrochem. Soc. 148 (2001) A1225"),
    EndMember("Na2/3Mg1/3Mn2/3O2 (P2)", "Na", "P", {"Mg": Fraction(1, 3), "Mn": Fraction(2, 3)}, 2.895,
              11.15 / 2, "Yabuuchi et al., Adv. Energy Mater. 4 (2014) 1301453 (approx.)"),
)

#: slabs per conventional c for each stacking.
SLABS = {"O3": 3, "P3": 3, "P2": 2, "O2": 2}


@dataclass(frozen=True)
class LatticeEstimate:
    a: float
    c: float
    weights: dict  # end-member name -> weight (sum 1, including "default" for unexplained weight)
    source: str


def composition_lattice(stacking: str, alkali: str, tm_spec: str) -> LatticeEstimate | None:
    """a and c from the TM-layer composition by Vegard's law over `END_MEMBERS` (module docstring).

    None when no end member of the alkali and family shares an element with the composition (the
    caller keeps the host defaults)."""
    import numpy as np
    from scipy.optimize import nnls

    from core.structure.hosts import DEFAULTS

    st = stacking.strip().upper()
    family = "P" if st.startswith("P") else "O"
    alk = alkali.strip().capitalize()
    members = [m for m in END_MEMBERS if m.alkali == alk and m.family == family]
    if st not in SLABS or not members:
        return None
    x: dict[str, float] = {}
    for code, f in parse_spec(tm_spec).items():
        if code != VACANCY:
            el = ELEMENT[code]
            x[el] = x.get(el, 0) + float(f)
    # only end members made of elements the composition holds (no Ni-bearing member for a Ni-free layer)
    members = [m for m in members if set(m.tm) <= set(x)]
    if not members:
        return None
    elements = sorted(set(x) | {e for m in members for e in m.tm})
    A = np.array([[float(m.tm.get(e, 0)) for m in members] for e in elements])
    b = np.array([x.get(e, 0.0) for e in elements])
    w, _res = nnls(A, b)
    explained = float(w.sum())
    if explained < 1e-6:
        return None
    da, dc, _dh = DEFAULTS[(st, alk)]
    d_default = dc / SLABS[st]
    rest = max(0.0, 1.0 - explained)
    wsum = explained + rest
    a = (float(w @ [m.a for m in members]) + rest * da) / wsum
    d = (float(w @ [m.slab for m in members]) + rest * d_default) / wsum
    weights = {m.name: round(float(wi) / wsum, 4) for m, wi in zip(members, w) if wi > 1e-9}
    if rest > 1e-6:
        weights["host default"] = round(rest / wsum, 4)
    parts = " + ".join(f"{v:g} {k}" for k, v in weights.items())
    refs = "; ".join(f"{m.name}: {m.source}" for m, wi in zip(members, w) if wi > 1e-9)
    return LatticeEstimate(a=a, c=d * SLABS[st], weights=weights,
                           source=f"Vegard's law: {parts} ({refs})")


__all__ = ["END_MEMBERS", "EndMember", "LatticeEstimate", "composition_lattice", "SLABS"]
