"""Species vocabulary: integer codes, default formal oxidation states, masses.

An occupancy is an integer array of species codes (`SPECIES.index(symbol)`); code 0 is the vacancy.
Oxygen is a species too (sites of role ``O`` hold it) so that the charge model can change its state.
"""
from __future__ import annotations

from fractions import Fraction

from core.errors import SpeciesError

#: Species codes, in order. Code 0 is a vacancy ("Va").
SPECIES: tuple[str, ...] = ("Va", "Li", "Na", "Mg", "Ni", "Co", "Mn", "Al", "Ti", "Fe", "O")
CODE: dict[str, int] = {s: i for i, s in enumerate(SPECIES)}
VACANCY = 0
OXYGEN = CODE["O"]

#: Default formal oxidation states Li+ Na+ Mg2+ Ni2+ Co3+ Mn4+ Al3+ Ti4+ Fe3+ O2-.
DEFAULT_OXIDATION: dict[str, float] = {
    "Va": 0.0, "Li": 1.0, "Na": 1.0, "Mg": 2.0, "Ni": 2.0, "Co": 3.0, "Mn": 4.0,
    "Al": 3.0, "Ti": 4.0, "Fe": 3.0, "O": -2.0,
}

#: Highest oxidation state reached by cationic redox in layered oxides (docs/science.md §8).
#: Species absent here are redox-inert (Li, Na, Mg, Al, Ti).
MAX_OXIDATION: dict[str, float] = {"Ni": 4.0, "Co": 4.0, "Mn": 4.0, "Fe": 4.0}

#: Lowest reasonable oxidation state, used when restoring neutrality by reduction.
MIN_OXIDATION: dict[str, float] = {"Ni": 2.0, "Co": 2.0, "Mn": 2.0, "Fe": 2.0}

#: Standard atomic weights (g/mol, IUPAC 2021 abridged).
ATOMIC_MASS: dict[str, float] = {
    "Va": 0.0, "Li": 6.94, "Na": 22.98976928, "Mg": 24.305, "Ni": 58.6934, "Co": 58.933194,
    "Mn": 54.938043, "Al": 26.9815385, "Ti": 47.867, "Fe": 55.845, "O": 15.999,
}

ALKALI = frozenset({"Li", "Na"})
CATIONS: tuple[str, ...] = SPECIES[1:-1]


def code_of(symbol: str) -> int:
    """Species code for a symbol such as ``"Mn"``; accepts ``"Va"``/``"vac"``/``"X"`` for a vacancy."""
    s = symbol.strip()
    if s.lower() in ("va", "vac", "vacancy", "x", "*"):
        return VACANCY
    s = s[:1].upper() + s[1:].lower()
    if s not in CODE:
        raise SpeciesError(
            f"unknown species {symbol!r}; known species: {', '.join(SPECIES[1:])} and Va (vacancy)")
    return CODE[s]


def oxidation_table(overrides: dict[str, float] | None = None) -> dict[str, float]:
    """Oxidation state per species: the defaults updated with `overrides` (checked)."""
    table = dict(DEFAULT_OXIDATION)
    for sym, val in (overrides or {}).items():
        code = code_of(sym)
        try:
            v = float(Fraction(str(val))) if isinstance(val, str) else float(val)
        except (TypeError, ValueError):
            raise SpeciesError(f"oxidation state of {SPECIES[code]} is not a number: {val!r}") from None
        if code == VACANCY and v != 0:
            raise SpeciesError("a vacancy carries no charge")
        table[SPECIES[code]] = v
    return table


def charge_by_code(table: dict[str, float]):
    """numpy array (len(SPECIES),) of charges indexed by species code."""
    import numpy as np

    missing = [s for s in SPECIES if s not in table]
    if missing:
        raise SpeciesError(f"missing oxidation state for {', '.join(missing)}")
    return np.array([table[s] for s in SPECIES], dtype=float)
