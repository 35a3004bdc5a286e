"""Species vocabulary: integer codes, oxidation states, masses.

An occupancy is an integer array (int8) of species codes; code 0 is the vacancy. Oxygen is a species
too (sites of role ``O`` hold it) so that the charge model can change its state.

Two kinds of occupant describe mixed valence, the two forms researchers use:

* an *element* code (``"Ni"``): its charge is the model's oxidation table entry for that element,
  which may be fractional (the average-valence form, e.g. Ni 2.875+ in LiNi0.8Co0.1Mn0.1O2);
* an *ion* code (``"Ni2+"``, ``"Ni3+"``): a fixed integer charge on that site. Ni2+ and Ni3+ are
  distinct occupants, so an edit, the palette or Monte Carlo can move charges like any other species.

`STATES` below is the one table to extend: add an element (or a state) there and every code, label,
charge and mass follows. Existing codes keep their numbers (new entries are appended), because project
files store labels but in-memory occupancies and caches store codes.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from core.errors import SpeciesError

#: element -> (default state, all integer states of the layered-oxide world, atomic weight g/mol).
#: Default states: the element code's charge unless the model overrides it. Integer states: one ion code
#: each when there is more than one. Weights: IUPAC 2021 abridged standard atomic weights.
STATES: dict[str, tuple[float, tuple[int, ...], float]] = {
    "Li": (1, (1,), 6.94), "Na": (1, (1,), 22.98976928), "Mg": (2, (2,), 24.305),
    "Ni": (2, (2, 3, 4), 58.6934), "Co": (3, (2, 3, 4), 58.933194), "Mn": (4, (2, 3, 4), 54.938043),
    "Al": (3, (3,), 26.9815385), "Ti": (4, (3, 4), 47.867), "Fe": (3, (2, 3, 4), 55.845),
    "O": (-2, (-2,), 15.999),
    "K": (1, (1,), 39.0983), "Zn": (2, (2,), 65.38), "Cu": (2, (2,), 63.546), "Ga": (3, (3,), 69.723),
    "Cr": (3, (3,), 51.9961), "V": (3, (3, 4, 5), 50.9415), "Sn": (4, (4,), 118.71),
    "Zr": (4, (4,), 91.224), "Ru": (4, (4, 5), 101.07), "Ir": (4, (4, 5), 192.217),
    "Nb": (5, (5,), 92.90637), "Sb": (5, (5,), 121.76), "Te": (6, (6,), 127.60), "W": (6, (6,), 183.84),
}

#: Element codes in their historical order, then the elements added later; then the ion codes.
_ELEMENTS: tuple[str, ...] = ("Va",) + tuple(STATES)


def ion_label(element: str, state: int) -> str:
    """'Ni', 3 -> 'Ni3+'; 'O', -2 -> 'O2-'."""
    return f"{element}{abs(int(state))}{'+' if state >= 0 else '-'}"


_IONS: tuple[tuple[str, str, int], ...] = tuple(
    (ion_label(el, s), el, s) for el, (_d, states, _m) in STATES.items() if len(states) > 1 for s in states)

#: Species labels indexed by code: 'Va', element symbols, then ion labels such as 'Ni3+'.
SPECIES: tuple[str, ...] = _ELEMENTS + tuple(lab for lab, _e, _s in _IONS)
CODE: dict[str, int] = {s: i for i, s in enumerate(SPECIES)}
if len(SPECIES) > 127:  # pragma: no cover - guard for whoever extends STATES
    raise RuntimeError("species codes must fit in int8")
VACANCY = 0
OXYGEN = CODE["O"]

#: Element of every code ('Va' for the vacancy), and the fixed integer charge of ion codes (NaN for
#: element codes, whose charge comes from the oxidation table).
ELEMENT: tuple[str, ...] = _ELEMENTS + tuple(el for _lab, el, _s in _IONS)
FIXED_CHARGE: np.ndarray = np.array([np.nan] * len(_ELEMENTS) + [float(s) for _l, _e, s in _IONS])
ELEMENT_CODE: np.ndarray = np.array([CODE[e] for e in ELEMENT], dtype=np.int8)
IS_ION: np.ndarray = ~np.isnan(FIXED_CHARGE)

#: Default formal oxidation state of each element code (Li+ Na+ Mg2+ Ni2+ Co3+ Mn4+ Al3+ Ti4+ Fe3+ O2- ...).
DEFAULT_OXIDATION: dict[str, float] = {"Va": 0.0, **{el: float(d) for el, (d, _s, _m) in STATES.items()}}

#: Highest oxidation state reached by cationic redox in layered oxides (docs/science.md §8).
#: Species absent here are redox-inert (alkali, Mg, Al, Zn, Ga, ...).
MAX_OXIDATION: dict[str, float] = {"Ni": 4.0, "Co": 4.0, "Mn": 4.0, "Fe": 4.0, "V": 5.0, "Ti": 4.0,
                                   "Ru": 5.0, "Ir": 5.0}

#: Lowest state each multivalent element may be reduced to when a cell is neutralised.
MIN_OXIDATION: dict[str, float] = {el: float(min(s)) for el, (_d, s, _m) in STATES.items() if len(s) > 1}

#: Standard atomic weights (g/mol) per element, and per species label (ions weigh as their element).
ATOMIC_MASS: dict[str, float] = {"Va": 0.0, **{el: m for el, (_d, _s, m) in STATES.items()},
                                 **{lab: STATES[el][2] for lab, el, _s in _IONS}}

ALKALI = frozenset({"Li", "Na", "K"})
#: Cation element symbols in display/formula order (O and the vacancy excluded).
CATIONS: tuple[str, ...] = tuple(e for e in _ELEMENTS if e not in ("Va", "O"))


def code_of(symbol: str) -> int:
    """Species code for ``"Mn"`` (element), ``"Ni3+"`` / ``"Ni+3"`` (ion), or ``"Va"``/``"vac"``/``"X"``.

    An element with a single state written with that state (``"Al3+"``) gives the element code.
    Unknown elements and states are named in the SpeciesError."""
    s = str(symbol).strip()
    if s.lower() in ("va", "vac", "vacancy", "x", "*"):
        return VACANCY
    el, state = split_label(s)
    el = el[:1].upper() + el[1:].lower()
    if el not in STATES:
        raise SpeciesError(
            f"unknown species {symbol!r}; known elements: {', '.join(STATES)} and Va (vacancy)")
    if state is None:
        return CODE[el]
    states = STATES[el][1]
    if state not in states:
        raise SpeciesError(f"{el}{abs(state)}{'+' if state >= 0 else '-'} is not a state of {el} in the "
                           f"species table; {el} takes {', '.join(ion_label(el, v) for v in states)}")
    if len(states) == 1:
        return CODE[el]
    return CODE[ion_label(el, state)]


def split_label(label: str) -> tuple[str, int | None]:
    """'Ni3+' -> ('Ni', 3); 'Ni+3' -> ('Ni', 3); 'O2-' -> ('O', -2); 'Ni' -> ('Ni', None)."""
    s = str(label).strip()
    i = 0
    while i < len(s) and s[i].isalpha():
        i += 1
    el, rest = s[:i], s[i:]
    if not rest:
        return el, None
    sign = -1 if "-" in rest else 1
    digits = rest.replace("+", "").replace("-", "")
    try:
        n = int(digits) if digits else 1
    except ValueError:
        raise SpeciesError(f"cannot read the oxidation state in {label!r}; write e.g. Ni3+") from None
    return el, sign * n


def codes_of_element(element: str) -> list[int]:
    """All codes of an element: the element code first, then its ion codes."""
    return [c for c, e in enumerate(ELEMENT) if e == element]


def oxidation_table(overrides: dict[str, float] | None = None) -> dict[str, float]:
    """Oxidation state per element code: the defaults updated with `overrides` (checked)."""
    table = dict(DEFAULT_OXIDATION)
    for sym, val in (overrides or {}).items():
        code = code_of(sym)
        if IS_ION[code]:
            continue  # an ion's charge is fixed by its label; tables written with ion keys stay readable
        try:
            v = float(Fraction(str(val))) if isinstance(val, str) else float(val)
        except (TypeError, ValueError):
            raise SpeciesError(f"oxidation state of {SPECIES[code]} is not a number: {val!r}") from None
        if code == VACANCY and v != 0:
            raise SpeciesError("a vacancy carries no charge")
        table[SPECIES[code]] = v
    return table


def charge_by_code(table: dict[str, float]) -> np.ndarray:
    """numpy array (len(SPECIES),) of charges indexed by species code: the table's state for element
    codes, the fixed integer charge for ion codes."""
    missing = [s for s in _ELEMENTS if s not in table]
    if missing:
        raise SpeciesError(f"missing oxidation state for {', '.join(missing)}")
    out = FIXED_CHARGE.copy()
    out[:len(_ELEMENTS)] = [table[s] for s in _ELEMENTS]
    return out


#: The one redox ladder: cation couples (element, lower state, upper state) in order of increasing usual
#: potential vs Li/Li+ in oxides (indicative): Ti3+/4+ (~1.5 V), V3+/4+, V4+/5+, Co2+/3+, Fe2+/3+,
#: Mn2+/3+ (< 3 V, only met after a reducing neutralisation), Mn3+/4+ (~3.0 V), Ni2+/3+ (~3.7 V),
#: Ni3+/4+ (~3.9 V), Co3+/4+ (~4.0-4.5 V), Fe3+/4+ (> 4 V, strongly mixed with O 2p), Ru4+/5+ and
#: Ir4+/5+ (Li-rich 4d/5d oxides, ~4 V and above). Oxidation (charging, neutralising a negative cell)
#: climbs it from the bottom; reduction (neutralising a positive cell) descends from the top. The
#: O2-/O- couple lies above all of them (`core.analysis.charge`).
REDOX_LADDER: tuple[tuple[str, float, float], ...] = (
    ("Ti", 3.0, 4.0), ("V", 3.0, 4.0), ("V", 4.0, 5.0),
    ("Co", 2.0, 3.0), ("Fe", 2.0, 3.0), ("Mn", 2.0, 3.0),
    ("Mn", 3.0, 4.0), ("Ni", 2.0, 3.0), ("Ni", 3.0, 4.0), ("Co", 3.0, 4.0), ("Fe", 3.0, 4.0),
    ("Ru", 4.0, 5.0), ("Ir", 4.0, 5.0),
)
