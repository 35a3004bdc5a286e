"""Composition specs such as ``Li:1/3,Mn:2/3`` with exact rational arithmetic.

A spec gives fractions of a sublattice's sites; missing weight is vacancy (``Na:2/3`` -> 1/3 vacant).
"""
from __future__ import annotations

from fractions import Fraction
from math import lcm

from core.errors import CompositionError, LayerStudioError
from core.structure.species import SPECIES, VACANCY, code_of


def parse_spec(spec: str) -> dict[int, Fraction]:
    """Parse ``'Li:1/3,Mn:2/3'`` into {species code: Fraction}; fills up with vacancy to 1.

    Accepts decimals (``Ni:0.5``), a bare symbol (``Co`` = all Co) and ``Va`` for explicit vacancies.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise CompositionError("empty composition; write e.g. 'Li:1/3,Mn:2/3'")
    out: dict[int, Fraction] = {}
    parts = [p for p in spec.replace(";", ",").split(",") if p.strip()]
    for part in parts:
        sym, _, frac = part.partition(":")
        try:
            code = code_of(sym)
        except LayerStudioError as exc:
            raise CompositionError(f"in composition {spec!r}: {exc}") from None
        if code == code_of("O"):
            raise CompositionError("oxygen is fixed by the host; give cation fractions only")
        try:
            x = Fraction(frac.strip()) if frac.strip() else Fraction(1)
        except (ValueError, ZeroDivisionError):
            raise CompositionError(f"cannot read the fraction {frac!r} of {sym.strip()} in {spec!r}") from None
        if x < 0:
            raise CompositionError(f"negative fraction for {sym.strip()} in {spec!r}")
        out[code] = out.get(code, Fraction(0)) + x
    total = sum(out.values(), Fraction(0))
    if total > 1:
        raise CompositionError(f"fractions in {spec!r} add up to {total} > 1")
    if total < 1:
        out[VACANCY] = out.get(VACANCY, Fraction(0)) + (1 - total)
    return {c: x for c, x in out.items() if x != 0}


def host_alkali(spec: str) -> str:
    """The host alkali (Li or Na) named in an alkali-layer composition (the majority one if both are)."""
    fr = parse_spec(spec)
    alk = [SPECIES[c] for c in fr if SPECIES[c] in ("Li", "Na")]
    if len(alk) > 1:
        # mixed Li/Na alkali layers: the host (lattice defaults) follows the majority alkali
        return max(alk, key=lambda s: fr[SPECIES.index(s)])
    if not alk:
        raise CompositionError(f"alkali composition {spec!r} names no alkali (Li or Na); write e.g. Na:2/3")
    return alk[0]


def format_spec(fractions: dict[int, Fraction]) -> str:
    """Inverse of `parse_spec` (vacancy left implicit)."""
    return ",".join(f"{SPECIES[c]}:{x}" for c, x in sorted(fractions.items()) if c != VACANCY and x)


def denominator(fractions: dict[int, Fraction]) -> int:
    """Smallest number of sites on which the fractions are whole numbers."""
    return lcm(*(x.denominator for x in fractions.values())) if fractions else 1


def realise(fractions: dict[int, Fraction], n_sites: int, what: str = "sublattice",
            per_layer: int | None = None) -> dict[int, int]:
    """Integer counts for `n_sites` sites; CompositionError naming working sizes if impossible.

    per_layer: sites per layer of the sublattice, to suggest in-plane supercell sizes.
    """
    counts = {}
    for c, x in fractions.items():
        n = x * n_sites
        if n.denominator != 1:
            L = denominator(fractions)
            hint = ""
            if per_layer:
                layers = n_sites // per_layer
                sizes = [n for n in range(1, 25) if (n * n * layers) % L == 0][:6]
                hint = (f"; in-plane n x n cells with {layers} layer(s) that work: "
                        + ", ".join(f"{n}x{n}" for n in sizes))
            raise CompositionError(
                f"{format_spec(fractions) or 'composition'} cannot be realised on the {n_sites} sites of the "
                f"{what}: the number of sites must be a multiple of {L}{hint}")
        counts[c] = int(n)
    return counts
