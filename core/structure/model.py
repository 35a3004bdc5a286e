"""The document: a supercell plus an occupancy, oxidation states and metadata.

One vocabulary of change: an edit is a sequence of flips ``(site, species code)``. `Model.apply`
performs it and returns the inverse edit, so undo is ``model.apply(inverse)``. Nothing else mutates the
occupancy. Listeners (plain callables, no Qt) are told which sites changed.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from fractions import Fraction

import numpy as np

from core.errors import EditError
from core.structure.composition import parse_spec, realise
from core.structure.hosts import ALKALI_ROLES, ROLE_O, ROLE_TM, Host, make_host
from core.structure.species import (
    ATOMIC_MASS,
    CATIONS,
    ELEMENT,
    OXYGEN,
    SPECIES,
    VACANCY,
    charge_by_code,
    code_of,
    codes_of_element,
    oxidation_table,
)
from core.structure.supercell import Supercell

Flip = tuple[int, int]


def as_flips(edit) -> tuple[np.ndarray, np.ndarray]:
    """Normalise an edit to (sites int64 (n,), codes int8 (n,))."""
    if isinstance(edit, tuple) and len(edit) == 2 and isinstance(edit[0], np.ndarray):
        sites, codes = edit
    else:
        arr = np.array(list(edit), dtype=np.int64).reshape(-1, 2)
        sites, codes = arr[:, 0], arr[:, 1]
    return np.asarray(sites, dtype=np.int64), np.asarray(codes, dtype=np.int8)


class Model:
    """Supercell + occupancy (int8 species codes, one per occupiable site) + oxidation states."""

    def __init__(self, supercell: Supercell, occupancy: np.ndarray | None = None,
                 oxidation: dict[str, float] | None = None, metadata: dict | None = None):
        self.supercell = supercell
        if occupancy is None:
            occupancy = np.zeros(supercell.n_sites, dtype=np.int8)
            occupancy[supercell.o_sites] = OXYGEN
        occupancy = np.asarray(occupancy, dtype=np.int8).copy()
        if occupancy.shape != (supercell.n_sites,):
            raise EditError(f"occupancy has {occupancy.size} entries for {supercell.n_sites} sites")
        self.occupancy = occupancy
        self.oxidation = oxidation_table(oxidation)
        self.metadata = dict(metadata or {})
        self._listeners: list[Callable[[np.ndarray], None]] = []

    # ------------------------------------------------------------------ construction
    @classmethod
    def build(cls, stacking: str = "O3", alkali: str = "Li", supercell="1", layers: int | None = None,
              alkali_spec: str | None = None, tm_spec: str = "Co", a=None, c=None, o_height=None,
              seed: int | None = 0, oxidation: dict | None = None) -> Model:
        """A model with random (seeded) placement of the given compositions on each sublattice.

        alkali_spec defaults to the host alkali filling the alkali layer (O-type) or 2/3 of the
        prismatic layer's Na_e sites (P-type, where only one of the two prism kinds is filled).
        Orderings other than random are applied afterwards (see `core.orderings`).
        """
        from core.structure.hosts import DEFAULTS
        from core.structure.lattices import composition_lattice

        key = (str(stacking).strip().upper(), str(alkali).strip().capitalize())
        default_src = f"host default for {key[0]} {key[1]}"
        source = {"a": "user", "c": "user", "o_height": "user" if o_height is not None else default_src}
        if a is None or c is None:
            est = composition_lattice(stacking, alkali, tm_spec) if key in DEFAULTS else None
            for name, val in (("a", est.a if est else None), ("c", est.c if est else None)):
                if (a if name == "a" else c) is None:
                    source[name] = est.source if est else default_src
                    if name == "a":
                        a = val
                    else:
                        c = val
        host = make_host(stacking, alkali, a=a, c=c, o_height=o_height)
        sc = Supercell(host, supercell, layers)
        model = cls(sc, oxidation=oxidation)
        model.metadata["lattice_source"] = source
        rng = np.random.default_rng(seed)
        tm = sc.tm_sites
        fill_random(model.occupancy, tm, realise(parse_spec(tm_spec), len(tm), "TM layer",
                                                 per_layer=len(tm) // sc.layers), rng)
        alk_sites = model.default_alkali_sites()
        spec = alkali_spec or alkali
        fill_random(model.occupancy, alk_sites,
                    realise(parse_spec(spec), len(alk_sites), "alkali layer",
                            per_layer=len(alk_sites) // sc.layers), rng)
        return model

    def default_alkali_sites(self) -> np.ndarray:
        """The alkali-layer sites a composition is spread over: all octahedral sites in O-type
        hosts; in P2 the Na_e prisms, in P3 one of the two prism kinds (the edge-sharing-below one)."""
        sc = self.supercell
        roles = set(sc.role[sc.alkali_sites])
        if "alkali_oct" in roles:
            return sc.sites_with_role("alkali_oct")
        if "prism_e" in roles:
            return sc.sites_with_role("prism_e")
        # P3: both prism kinds share one role; take the first basis site of the two
        prism = sc.sites_with_role("prism")
        first = sc.basis[prism].min()
        return prism[sc.basis[prism] == first]

    # ------------------------------------------------------------------ editing
    def apply(self, edit) -> list[Flip]:
        """Apply flips; return the inverse edit (previous species of the same sites, reverse order)."""
        sites, codes = as_flips(edit)
        if len(sites) == 0:
            return []
        if sites.min() < 0 or sites.max() >= self.supercell.n_sites:
            raise EditError(f"site index out of range 0..{self.supercell.n_sites - 1}")
        if codes.min() < 0 or codes.max() >= len(SPECIES):
            raise EditError("unknown species code in edit")
        inverse = []
        for s, c in zip(sites.tolist(), codes.tolist()):
            inverse.append((s, int(self.occupancy[s])))
            self.occupancy[s] = c
        inverse.reverse()
        self._notify(np.unique(sites))
        return inverse

    def set_occupancy(self, occupancy: np.ndarray) -> list[Flip]:
        """Replace the whole occupancy (as one edit); returns the inverse edit."""
        occupancy = np.asarray(occupancy, dtype=np.int8)
        changed = np.flatnonzero(occupancy != self.occupancy)
        return self.apply((changed, occupancy[changed]))

    def diff(self, occupancy: np.ndarray) -> list[Flip]:
        """Flips that turn this model's occupancy into `occupancy`."""
        changed = np.flatnonzero(np.asarray(occupancy) != self.occupancy)
        return [(int(s), int(occupancy[s])) for s in changed]

    def add_listener(self, fn: Callable[[np.ndarray], None]) -> None:
        """fn(changed_sites) is called after every applied edit."""
        self._listeners.append(fn)

    def remove_listener(self, fn) -> None:
        self._listeners.remove(fn)

    def _notify(self, sites: np.ndarray) -> None:
        for fn in list(self._listeners):
            fn(sites)

    def set_oxidation(self, symbol: str, value: float) -> None:
        """Override the oxidation state of one element code (all its sites holding the element code;
        ion codes such as Ni3+ keep their own charge)."""
        self.oxidation = oxidation_table({**self.oxidation, symbol: value})
        self._notify(np.flatnonzero(self.occupancy == code_of(symbol)))

    def set_oxidation_table(self, table: dict[str, float]) -> None:
        """Replace the element oxidation table (checked); listeners hear about every site."""
        self.oxidation = oxidation_table(table)
        self._notify(np.arange(self.supercell.n_sites))

    # ------------------------------------------------------------------ derived quantities
    def charges(self) -> np.ndarray:
        """(N,) formal charge of every site (e), from the per-species oxidation states."""
        return charge_by_code(self.oxidation)[self.occupancy]

    @property
    def net_charge(self) -> float:
        return float(self.charges().sum())

    def counts(self, sites: np.ndarray | None = None) -> dict[str, int]:
        """Element -> number of atoms (vacancies excluded) among `sites` (default all); ions such as
        Ni2+ and Ni3+ count as their element. See `species_counts` for the split by occupant."""
        per_code = self._per_code(sites)
        c: Counter = Counter()
        for k in np.flatnonzero(per_code).tolist():
            if k != VACANCY:
                c[ELEMENT[k]] += int(per_code[k])
        return {e: c[e] for e in (*CATIONS, "O") if c.get(e)}

    def species_counts(self, sites: np.ndarray | None = None) -> dict[str, int]:
        """Species label (element or ion, e.g. 'Ni3+') -> number of sites holding it (vacancies excluded)."""
        per_code = self._per_code(sites)
        return {SPECIES[k]: int(per_code[k]) for k in np.flatnonzero(per_code).tolist() if k != VACANCY}

    def _per_code(self, sites=None) -> np.ndarray:
        """(len(SPECIES),) number of sites holding each code among `sites` (default all)."""
        occ = self.occupancy if sites is None else self.occupancy[sites]
        return np.bincount(np.asarray(occ, dtype=np.int64), minlength=len(SPECIES))

    def oxidation_states(self) -> dict[str, dict]:
        """Element -> {"counts": {state label: sites}, "average": mean charge} from the per-site charges
        (the one source of truth used by energy, capacity and exports). States are labelled like
        'Ni3+'; a fractional (average-valence) state like 'Ni2.875+'."""
        per_code = self._per_code()
        qtab = charge_by_code(self.oxidation)
        out: dict[str, dict] = {}
        for el in (*CATIONS, "O"):
            codes = [c for c in codes_of_element(el) if per_code[c]]
            if not codes:
                continue
            counts: dict[str, int] = {}
            for c in sorted(codes, key=lambda c: qtab[c]):
                lab = _state_label(el, float(qtab[c]))
                counts[lab] = counts.get(lab, 0) + int(per_code[c])
            n = sum(int(per_code[c]) for c in codes)
            out[el] = {"counts": counts,
                       "average": round(float(sum(qtab[c] * per_code[c] for c in codes)) / n, 6)}
        return out

    def formula_units(self) -> int:
        """Number of MO2 units (= O sites / 2)."""
        return len(self.supercell.o_sites) // 2

    def composition_per_MO2(self) -> dict[str, Fraction]:
        """Species -> Fraction per formula unit of 2 O (e.g. Li2MnO3 -> Li 4/3, Mn 2/3, O 2)."""
        fu = self.formula_units()
        return {s: Fraction(n, fu) for s, n in self.counts().items()}

    def formula(self) -> str:
        """Reduced formula, cations first then O, like pymatgen's (e.g. 'Li2MnO3')."""
        from math import gcd
        counts = self.counts()
        g = 0
        for n in counts.values():
            g = gcd(g, n)
        order = [s for s in CATIONS if s in counts] + (["O"] if "O" in counts else [])
        return "".join(f"{s}{counts[s] // g if counts[s] // g != 1 else ''}" for s in order)

    def layer_formula(self) -> str:
        """Formula written by layer per 2 O, e.g. 'Li[Li1/3Mn2/3]O2'."""
        sc = self.supercell
        fu = self.formula_units()

        def part(sites):
            counts = self.counts(sites)
            return "".join(f"{s}{_frac(Fraction(n, fu))}" for s, n in counts.items() if s != "O")
        return f"{part(sc.alkali_sites)}[{part(sc.tm_sites)}]O2"

    def molar_mass_per_MO2(self) -> float:
        """g/mol per formula unit of 2 O."""
        return sum(ATOMIC_MASS[s] * n for s, n in self.counts().items()) / self.formula_units()

    def tiled(self, matrix, layers: int) -> Model:
        """The same crystal in a larger supercell: in-plane `matrix` (2x2 or spec) and `layers`.

        The new cell must be a supercell of this one (every new cell vector a lattice vector of the
        current cell). The stacking vector is taken as (layers / current layers) times the current one,
        so a 1-layer O3 cell becomes a 3-layer cell whose third vector may be tilted: the repeat is exact
        (energy per MO2 unchanged), which the default, most-normal stacking vector would not guarantee.
        """
        from core.errors import SupercellError
        from core.structure.supercell import parse_supercell_spec

        sc = self.supercell
        M = parse_supercell_spec(matrix)
        layers = int(layers)
        ratio = M @ np.linalg.inv(sc.matrix.astype(float))
        if (layers < 1 or layers % sc.layers or not np.allclose(ratio, np.round(ratio), atol=1e-9)):
            raise SupercellError(f"{M.tolist()} x {layers} layers is not a multiple of the current cell "
                                 f"{sc.matrix.tolist()} x {sc.layers} layers")
        r = layers // sc.layers
        new = Supercell(sc.host, M, layers, stacking_shift=r * sc.v)
        # every translation of the new cell is one of the old cell (the rows of S_new in the old basis
        # are integers), so each new site maps onto exactly one old site
        assert np.allclose(new.S @ np.linalg.inv(sc.S.astype(float)),
                           np.round(new.S @ np.linalg.inv(sc.S.astype(float))), atol=1e-9)
        occ = self.occupancy[sc.index_of(new.basis_local, new.ijk)]
        return Model(new, occ, dict(self.oxidation), dict(self.metadata))

    def copy(self) -> Model:
        return Model(self.supercell, self.occupancy.copy(), dict(self.oxidation), dict(self.metadata))

    def site_label(self, site: int) -> str:
        sc = self.supercell
        i, j, k = sc.ijk[site]
        # layers counted from 1, as everywhere on screen
        return f"#{site} {SPECIES[self.occupancy[site]]} {sc.role[site]} layer {sc.layer[site] + 1} ({i},{j})"


def _state_label(element: str, v: float) -> str:
    mag = f"{abs(v):.0f}" if abs(v - round(v)) < 1e-6 else f"{abs(v):.4g}"
    return f"{element}{'' if mag == '1' else mag}{'+' if v >= 0 else '-'}"


def _frac(x: Fraction) -> str:
    return "" if x == 1 else (str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}")


def fill_random(occupancy: np.ndarray, sites: np.ndarray, counts: dict[int, int],
                rng: np.random.Generator) -> None:
    """Place species with exact `counts` on `sites` in random order (in place)."""
    codes = np.concatenate([np.full(n, c, dtype=np.int8) for c, n in sorted(counts.items())]) \
        if counts else np.zeros(0, np.int8)
    rng.shuffle(codes)
    occupancy[sites] = codes


__all__ = ["Model", "as_flips", "fill_random", "ROLE_TM", "ROLE_O", "ALKALI_ROLES", "Host"]
