"""Import a CIF or POSCAR of a layered oxide (or a pymatgen Structure) as a `core.Model`.

    model, report = import_structure("LiCoO2.cif")
    model, report = import_structure("LiNiO2_mixing.cif", supercell="6", seed=1)

Steps: read with pymatgen (partial occupancies kept); reduce symmetrized CIFs to their primitive cell
(P1 files, POSCARs and Structures keep the cell they describe); find the stacking axis, O planes, TM and
alkali layers (`core.io.layers`); name the stacking from the O-plane letters; build the host with the
file's a, c and O height; map every atom onto its nearest model site (`core.io.mapping`). Sites that
are partially occupied are realised in the chosen supercell with exact counts per sublattice (largest
remainder rounding) placed at random with `seed`.

Every failure caused by the file raises `StructureImportError` with a one-line message.
"""
from __future__ import annotations

import warnings
from collections import defaultdict
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import numpy as np

from core.errors import LayerStudioError, StructureImportError
from core.io.bounded import MAX_STRUCTURE_ATOMS, MAX_STRUCTURE_BYTES, read_bytes
from core.io.cif_reader import VACANCY_MARKERS, LightStructure, parse_cif
from core.io.layers import classify_stacking, find_layer_axis, stacking_letters
from core.io.mapping import MAX_DISPLACEMENT, SiteLocator, nice_matrix, place
from core.structure.hosts import make_host
from core.structure.model import Model, fill_random
from core.structure.species import ALKALI, CODE, OXYGEN, SPECIES, STATES, VACANCY, ion_label
from core.structure.supercell import Supercell, parse_supercell_spec

#: Default tolerance (Angstrom) for reducing a symmetrized CIF to its primitive cell.
DEFAULT_SYMPREC = 0.1
MAX_FILE_BYTES = MAX_STRUCTURE_BYTES
MAX_FILE_SITES = MAX_STRUCTURE_ATOMS
#: Largest automatic cell (sites) chosen for partial occupancies when no supercell is given.
AUTO_SITES = 3000


class ImportReport(dict):
    """The import report (a plain dict of JSON-able values) plus ``site_map``: for every site of the
    (possibly primitive-reduced) file structure, the index of the model site it landed on, or None
    when the model cell is larger than the file cell."""

    site_map: np.ndarray | None = None


# ------------------------------------------------------------------------------------------------ reading
def _short(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return msg[:160]


def _read_text(path: Path) -> str:
    data = read_bytes(path, MAX_FILE_BYTES, StructureImportError, "structure file")
    if b"\x00" in data:
        raise StructureImportError(f"{path.name}: not a CIF or POSCAR (binary data)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _looks_like_poscar(name: str) -> bool:
    up = name.upper()
    return up.startswith(("POSCAR", "CONTCAR")) or name.lower().endswith((".vasp", ".poscar"))


#: P1 CIFs with more rows than this are read into a LightStructure by `import_structure` (a pymatgen
#: Structure of 110,000 sites takes ~25 s to build; the space group is not computed above this size).
LIGHT_ABOVE = 2000


def _parse_cif(text: str, name: str, light_above: int | None = None):
    return parse_cif(text, name, MAX_FILE_SITES, light_above)


def _poscar_counts(text: str, name: str) -> None:
    """Check the atom counts a POSCAR declares (line 6, or 7 after a species line) before pymatgen
    allocates anything for them: non-negative, at most MAX_FILE_SITES, and no more than the lines that
    follow. Lines that do not parse are left for the POSCAR parser to report."""
    lines = text.splitlines()
    for row in (5, 6):
        if row >= len(lines):
            return
        tokens = lines[row].split()
        try:
            counts = [int(t) for t in tokens]
        except ValueError:
            continue
        if not counts:
            return
        bad = [c for c in counts if c < 0]
        if bad:
            raise StructureImportError(f"{name}: negative atom count {bad[0]} in the POSCAR counts line")
        total = sum(counts)
        if total > MAX_FILE_SITES:
            raise StructureImportError(f"{name}: the POSCAR declares {total:,} atoms, more than the "
                                       f"{MAX_FILE_SITES:,} Layer Studio reads from one file")
        coord_lines = sum(1 for ln in lines[row + 1:] if ln.strip())
        if total > coord_lines:
            raise StructureImportError(f"{name}: the POSCAR declares {total:,} atoms but has only {coord_lines} "
                                       "further lines (truncated?)")
        if row == 6:
            _poscar_species(lines[5].split(), name)
        return


def _poscar_species(symbols: list[str], name: str) -> None:
    """Refuse species names in a POSCAR that are not elements (pymatgen would guess or use a dummy)."""
    from core.io.cif_reader import _elements

    known = _elements()
    for sym in symbols:
        el = sym.split("_")[0].split("/")[0]  # POTCAR-style names: Li_sv, Mn_pv
        if el not in known and el not in VACANCY_MARKERS:
            raise StructureImportError(f"{name}: unknown element {sym!r} in the POSCAR species line")


def _parse_poscar(text: str, name: str):
    _poscar_counts(text, name)  # before pymatgen: refusing a hostile count costs nothing
    from pymatgen.io.vasp import Poscar

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            structure = Poscar.from_str(text, read_velocities=False).structure
        except Exception as exc:
            raise StructureImportError(f"{name}: not a CIF or POSCAR (POSCAR parser: {_short(exc)})") from None
    return structure, False, sorted({_short(w.message) for w in caught})


def read_structure(source, *, light_above: int | None = None):
    """(pymatgen Structure, format name, symmetrized?, warnings list, display name) for a path or a
    Structure. A CIF is symmetrized when it lists (or names) more than the identity operation.
    light_above: P1 CIFs with more atom rows give a `core.io.cif_reader.LightStructure`."""
    from pymatgen.core import Structure

    if isinstance(source, Structure):
        return source, "Structure", False, [], "Structure"
    if not isinstance(source, (str, Path)):
        raise StructureImportError(f"cannot import a {type(source).__name__}: give a path or a pymatgen Structure")
    path = Path(source)
    text = _read_text(path)
    name = path.name
    if not text.strip():
        raise StructureImportError(f"{name}: not a CIF or POSCAR (empty file)")
    if path.suffix.lower() == ".cif":
        return _finish(_parse_cif(text, name, light_above), "CIF", name)
    if _looks_like_poscar(name):
        return _finish(_parse_poscar(text, name), "POSCAR", name)
    # unknown extension: sniff
    first = "CIF" if "data_" in text[:4000] and "_cell_length" in text else "POSCAR"
    try:
        return _finish(_parse_cif(text, name, light_above) if first == "CIF" else _parse_poscar(text, name), first,
                       name)
    except StructureImportError as first_error:
        if "not a CIF or POSCAR" not in str(first_error):
            raise  # it was read as that format and has a specific problem: say which
        other = "POSCAR" if first == "CIF" else "CIF"
        try:
            return _finish(_parse_poscar(text, name) if other == "POSCAR" else _parse_cif(text, name, light_above),
                           other, name)
        except StructureImportError:
            raise StructureImportError(f"{name}: not a CIF or POSCAR") from None


def _finish(parsed, fmt, name):
    structure, symmetric, notes = parsed
    return structure, fmt, symmetric, notes, name


# ------------------------------------------------------------------------------------------------ species
@lru_cache(maxsize=4096)
def _snap(x: float) -> float:
    """Occupancies written with a few decimals (0.33333, 0.6667) back to the simple fraction they
    stand for (denominator <= 24), so that exact counts stay exact; other values are kept."""
    f = Fraction(x).limit_denominator(24)
    return float(f) if abs(float(f) - x) < 5e-4 else x


def _site_table(structure, name: str):
    """Per-site compositions {code: occupancy}, weights and the oxidation states found in the file."""
    from pymatgen.core import DummySpecies

    comps, unknown = [], set()
    oxi_sum, oxi_w = defaultdict(float), defaultdict(float)
    oxi_seen = defaultdict(set)
    ionic = _ionic_elements(structure)  # several integer states of one element: Ni2+/Ni3+ occupants
    for site in structure:
        comp: dict[int, float] = {}
        for sp, occ in site.species.items():
            if float(occ) < 0:
                raise StructureImportError(f"{name}: negative occupancy {float(occ):g} of {sp} at "
                                           f"{np.round(site.frac_coords, 4).tolist()}")
            if isinstance(sp, DummySpecies):
                if sp.symbol in VACANCY_MARKERS:
                    continue  # a vacancy marker (Layer Studio writes X for vacancies)
                unknown.add(str(sp))
                continue
            sym = sp.symbol
            if sym not in CODE or sym == "Va":
                unknown.add(sym)
                continue
            oxi = getattr(sp, "oxi_state", None)
            code = CODE[ion_label(sym, int(round(oxi)))] if sym in ionic else CODE[sym]
            comp[code] = comp.get(code, 0.0) + _snap(float(occ))
            if oxi is not None and sym not in ionic:
                oxi_sum[sym] += float(oxi) * float(occ)
                oxi_w[sym] += float(occ)
                oxi_seen[sym].add(float(oxi))
        comps.append(comp)
    if unknown:
        raise StructureImportError(
            f"{name}: unsupported element(s) {', '.join(sorted(unknown))}; Layer Studio models "
            f"{', '.join(s for s in STATES if s != 'O')}")
    n = len(comps)
    o_w = np.array([c.get(OXYGEN, 0.0) for c in comps])
    cat_w = np.array([sum(v for k, v in c.items() if k != OXYGEN) for c in comps])
    tm_w = np.array([sum(v for k, v in c.items() if k != OXYGEN and SPECIES[k] not in ALKALI) for c in comps])
    mixed = [i for i in range(n) if o_w[i] > 0 and cat_w[i] > 0]
    if mixed:
        raise StructureImportError(f"{name}: a site holds both oxygen and a cation ({structure[mixed[0]].species})")
    if o_w.sum() == 0:
        raise StructureImportError(f"{name}: no oxygen: not an oxide")
    if cat_w.sum() == 0:
        raise StructureImportError(f"{name}: no cations: nothing to place on the layers")
    if tm_w.sum() == 0:
        raise StructureImportError(
            f"{name}: not a layered oxide: no transition-metal-layer cations (only Li/Na)")
    oxidation, notes = {}, []
    for sym, w in oxi_w.items():
        if w > 0:
            val = oxi_sum[sym] / w
            oxidation[sym] = round(val, 6)
            if len(oxi_seen[sym]) > 1:
                states = ", ".join(f"{s:+g}" for s in sorted(oxi_seen[sym]))
                notes.append(f"{sym} has several oxidation states in the file ({states}): using the mean {val:+.3g}")
    return comps, o_w, tm_w, cat_w, oxidation, notes


def _ionic_elements(structure) -> set:
    """Elements whose sites carry more than one integer oxidation state, all in the species table
    (e.g. Ni2+ and Ni3+ written by Layer Studio): they are read as ion occupants, site by site."""
    seen = defaultdict(set)
    for site in structure:
        for sp in site.species:
            oxi = getattr(sp, "oxi_state", None)
            if oxi is not None and getattr(sp, "symbol", None) in STATES:
                seen[sp.symbol].add(float(oxi))
    return {el for el, st in seen.items() if len(st) > 1
            and all(abs(v - round(v)) < 1e-9 and int(round(v)) in STATES[el][1] for v in st)
            and len(STATES[el][1]) > 1}


def _check_cell(structure, name: str) -> None:
    n = len(structure)
    if n < 2:
        raise StructureImportError(f"{name}: only {n} site(s): not a layered oxide")
    if n > MAX_FILE_SITES:
        raise StructureImportError(f"{name}: {n} sites is more than the {MAX_FILE_SITES} Layer Studio imports")
    lat = np.asarray(structure.lattice.matrix, float)
    if not np.all(np.isfinite(lat)) or not np.all(np.isfinite(structure.frac_coords)):
        raise StructureImportError(f"{name}: the cell or coordinates are not finite numbers")
    vol = abs(np.linalg.det(lat))
    lengths = np.linalg.norm(lat, axis=1)
    if vol < 1e-6:
        raise StructureImportError(f"{name}: non-physical cell: volume {vol:.3g} cubic Angstrom (cell lengths "
                                   f"{np.round(lengths, 4).tolist()} Angstrom)")
    if not (1.0 < vol / n < 500.0):
        raise StructureImportError(f"{name}: implausible cell ({vol / n:.3g} cubic Angstrom per site)")
    if lengths.min() < 1.0 or lengths.max() > 1000.0:
        raise StructureImportError(f"{name}: implausible cell lengths {np.round(lengths, 3).tolist()} Angstrom")


# ------------------------------------------------------------------------------------------------ rounding
def largest_remainder(requested: dict[int, float], total: int) -> dict[int, int]:
    """Integer counts summing to `total` that round `requested` (summing to `total`) by largest remainder.

    Ties go to the lower species code, so the result is deterministic.
    """
    floors = {c: int(np.floor(x + 1e-9)) for c, x in requested.items()}
    left = total - sum(floors.values())
    order = sorted(requested, key=lambda c: (-(requested[c] - floors[c]), c))
    for c in order[:max(left, 0)]:
        floors[c] += 1
    return floors


def _comp_text(comp: dict[int, float]) -> str:
    return ",".join(f"{SPECIES[c]}:{x:.4g}" for c, x in sorted(comp.items())) or "Va"


def _merge_sites(fkeys: np.ndarray, comps: list[dict[int, float]], host, absD: int, name: str):
    """Sum the compositions of file atoms that land on the same model site (split positions, mixed
    sites listed as separate atoms). Returns (sorted unique keys, merged compositions)."""
    uniq, inv_idx = np.unique(fkeys, return_inverse=True)
    merged: list[dict[int, float]] = [dict() for _ in uniq]
    for i, u in enumerate(inv_idx):
        for c, x in comps[i].items():
            merged[u][c] = merged[u].get(c, 0.0) + x
    for u, comp in enumerate(merged):
        tot = sum(comp.values())
        if tot > 1.02:
            role = host.basis[uniq[u] // absD ** 3].role
            raise StructureImportError(f"{name}: overlapping atoms: total occupancy {tot:.3g} on one {role} site")
        if tot > 1.0:  # refinement rounding: scale back to a full site
            merged[u] = {c: x / tot for c, x in comp.items()}
    return uniq, merged


def _auto_multiple(merged, roles, per_file: float) -> tuple[int, str]:
    """In-plane multiple n (n x n times the file cell) for realising partial occupancies when the user
    gave no supercell: the smallest n <= 8 with whole numbers everywhere, else a cell of about
    AUTO_SITES sites (at most 6 x 6). per_file: model cells per file cell."""
    groups = defaultdict(int)
    for role, comp in zip(roles, merged):
        groups[(role, tuple(sorted(comp.items())))] += 1
    n_sites_cell = len(merged) * per_file
    for m in range(1, 9):
        if n_sites_cell * m * m > 4 * AUTO_SITES:
            break
        if all(abs(x * cnt * per_file * m * m - round(x * cnt * per_file * m * m)) < 1e-6
               for (_role, comp), cnt in groups.items() for _, x in comp):
            return m, f"{m}x the file cell in-plane (smallest that realises every occupancy exactly)"
    m = max(1, min(6, int(np.sqrt(AUTO_SITES / max(n_sites_cell, 1)))))
    return m, f"{m}x the file cell in-plane (occupancies rounded: give a supercell to change this)"


def _realise(sc: Supercell, merged, site_src: np.ndarray, rng: np.random.Generator):
    """Occupancy (int8 (N,)) with exact counts per sublattice (sites of one role sharing one file
    composition) by largest remainder, placed at random; and the per-sublattice report entries."""
    occupancy = np.zeros(sc.n_sites, dtype=np.int8)
    groups: dict[tuple, list[int]] = defaultdict(list)
    group_comp: dict[tuple, dict[int, float]] = {}
    for s in range(sc.n_sites):
        comp = merged[site_src[s]] if site_src[s] >= 0 else {}
        key = (str(sc.role[s]), tuple(sorted((c, round(x, 6)) for c, x in comp.items())))
        groups[key].append(s)
        group_comp.setdefault(key, comp)
    sublattices = []
    for key, sites in sorted(groups.items(), key=lambda kv: kv[0]):
        role, comp = key[0], group_comp[key]
        N = len(sites)
        requested = {c: x * N for c, x in comp.items()}
        vac = N - sum(requested.values())
        if vac > 1e-9:
            requested[VACANCY] = vac
        realised = largest_remainder(requested, N)
        fill_random(occupancy, np.array(sites, dtype=np.int64), realised, rng)
        sublattices.append({
            "role": role, "sites": N, "file_occupancy": _comp_text(comp),
            "requested": {SPECIES[c]: round(x, 4) for c, x in sorted(requested.items())},
            "realised": {SPECIES[c]: n for c, n in sorted(realised.items())},
            "exact": all(abs(requested[c] - realised[c]) < 1e-6 for c in requested)})
    return occupancy, sublattices


# ------------------------------------------------------------------------------------------------ import
def import_structure(source, supercell=None, seed: int = 0, symprec: float = DEFAULT_SYMPREC, *,
                     layers: int | None = None, primitive: bool | None = None, name: str | None = None):
    """Import a CIF/POSCAR path or a pymatgen Structure as a (Model, ImportReport).

    supercell: in-plane cell for the model (spec as `parse_supercell_spec`: '6', '6x4', 'a,b,c,d',
    'sqrt3', or a 2x2 matrix); it must contain the file's in-plane cell. None: the file's cell, enlarged
    n x n when partial occupancies would otherwise be rounded. layers: number of TM layers (a multiple
    of the file period); None: the smallest that holds the file's stacking. seed: random placement of
    partially occupied sites. symprec: tolerance (Angstrom) of the primitive-cell reduction of
    symmetrized CIFs. primitive: reduce (True) or keep (False) the file cell; None: reduce symmetrized
    CIFs only, so P1 files and POSCARs keep their supercell and site order. name: shown in messages
    and the report instead of the file name (e.g. the file a Structure was decoded from).

    Raises StructureImportError for files that cannot be read or mapped; SupercellError for a bad
    `supercell` spec.
    """
    user_matrix = parse_supercell_spec(supercell) if supercell is not None else None
    name = name or (Path(source).name if isinstance(source, (str, Path)) else type(source).__name__)
    try:
        return _import(source, user_matrix, seed, symprec, layers, primitive, name)
    except StructureImportError:
        raise
    except LayerStudioError as exc:
        raise StructureImportError(f"{name}: {exc}") from exc
    except Exception as exc:  # never a traceback for a bad file
        raise StructureImportError(f"{name}: cannot import ({type(exc).__name__}: {_short(exc)})") from exc


def _import(source, user_matrix, seed, symprec, layers, primitive, display_name):
    structure, fmt, symmetric, notes, name = read_structure(source, light_above=LIGHT_ABOVE)
    name = display_name or name
    _check_cell(structure, name)
    reduce = symmetric if primitive is None else bool(primitive)
    if reduce and isinstance(structure, LightStructure):
        structure = structure.to_pymatgen()
    if reduce:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            structure = structure.get_primitive_structure(tolerance=float(symprec))
    formula = structure.composition.reduced_formula
    comps, o_w, tm_w, cat_w, oxidation, ox_notes = _site_table(structure, name)
    notes += ox_notes
    lattice = np.asarray(structure.lattice.matrix, float)
    frac = np.mod(np.asarray(structure.frac_coords, float), 1.0)
    try:
        axis = find_layer_axis(lattice, frac, o_w, tm_w, cat_w)
        letters, shift = stacking_letters(lattice, frac, axis)
        stacking, sequence = classify_stacking(letters, shift)
    except StructureImportError as exc:
        raise StructureImportError(f"{name}: {exc}") from None
    li = sum(c.get(CODE["Li"], 0.0) for c in comps)
    na = sum(c.get(CODE["Na"], 0.0) for c in comps)
    alkali = ("Na" if na > li else "Li") if li + na > 0 else ("Na" if stacking.startswith("P") else "Li")
    spc = {"O3": 3, "P3": 3, "P2": 2, "O2": 2}[stacking]
    host = make_host(stacking, alkali, a=axis.a, c=axis.slab * spc, o_height=axis.o_height)
    cart = frac @ lattice
    is_o = o_w > 0
    tm_ref = np.array([np.flatnonzero(axis.tm_plane_of == s)[np.argmax(tm_w[axis.tm_plane_of == s])]
                       for s in range(axis.n_slabs)])
    keep_cell = not reduce
    try:
        pl = place(host, lattice, cart, is_o, axis, tm_ref=tm_ref, user_matrix=user_matrix,
                   keep_cell=keep_cell, layers=layers)
    except StructureImportError as exc:
        raise StructureImportError(f"{name}: {exc}") from None
    loc = SiteLocator(host)
    p, ijk, dist = loc.locate(pl.host_positions(cart), is_o)
    if dist.max() > MAX_DISPLACEMENT:
        i = int(np.argmax(dist))
        raise StructureImportError(
            f"{name}: not a layered oxide: {structure[i].species} at {np.round(frac[i], 4).tolist()} is "
            f"{dist[i]:.2f} Angstrom from the nearest {stacking} site")

    # file sites modulo the file lattice -> merged compositions
    F = pl.F
    D = int(round(np.linalg.det(F)))
    absD = abs(D)
    adj = np.round(np.linalg.inv(F.astype(float)) * D).astype(np.int64)

    def keys(basis, t):
        w = np.mod(t @ adj, absD)
        return ((basis.astype(np.int64) * absD + w[:, 0]) * absD + w[:, 1]) * absD + w[:, 2]

    fkeys = keys(p, ijk)
    uniq, merged = _merge_sites(fkeys, comps, host, absD, name)
    partial = any(abs(x - 1.0) > 1e-6 for comp in merged for x in comp.values()) or any(
        sum(comp.values()) < 1 - 1e-6 for comp in merged)
    matrix, n_layers, choice = pl.matrix, pl.layers, "file cell"
    if user_matrix is not None:
        choice = "requested"
    elif partial:
        m, choice = _auto_multiple(merged, [host.basis[k // absD ** 3].role for k in uniq],
                                   abs(round(np.linalg.det(matrix))) * (n_layers // host.slabs_per_prim) / absD)
        matrix = matrix * m
    sc = Supercell(host, matrix, n_layers, stacking_shift=pl.stacking_shift)
    mkeys = keys(sc.basis, sc.ijk)
    pos = np.minimum(np.searchsorted(uniq, mkeys), len(uniq) - 1)
    site_src = np.where(uniq[pos] == mkeys, pos, -1)
    occupancy, sublattices = _realise(sc, merged, site_src, np.random.default_rng(seed))
    o_missing = int(np.sum(occupancy[sc.o_sites] != OXYGEN))
    if o_missing:
        notes.append(f"{o_missing} O site(s) are vacant in the file")

    model = Model(sc, occupancy, oxidation=oxidation or None,
                  metadata={"import": {"source": name, "format": fmt, "stacking": stacking}})
    report = ImportReport(
        source=str(source) if fmt != "Structure" else (display_name or "Structure"), format=fmt, file_formula=formula,
        reduced_to_primitive=bool(reduce), stacking=stacking, o_plane_sequence=sequence,
        a=round(host.a, 5), c=round(host.c, 5), slab_spacing=round(host.slab, 5),
        o_height=round(host.o_height, 5), layer_planes_hkl=[int(x) for x in axis.hkl],
        file_inplane_cell=nice_matrix(pl.inplane)[0].tolist(), supercell={"matrix": sc.matrix.tolist(), "layers": sc.layers},
        supercell_choice=choice, n_file_sites=len(structure), max_displacement=round(float(dist.max()), 4),
        mean_displacement=round(float(dist.mean()), 4), strain=round(pl.strain, 5),
        partial_occupancy=bool(partial), sublattices=sublattices,
        rounding=f"largest remainder per sublattice, random placement with seed {seed}" if partial else "none",
        oxidation=({k: v for k, v in oxidation.items()} if oxidation else "defaults"),
        formula=model.formula(), layer_formula=model.layer_formula(),
        file_space_group=_space_group(structure, symprec), warnings=notes, seed=int(seed))
    if sc.n_translations == absD:
        report.site_map = _site_map_fast(mkeys, fkeys)
    return model, report


def _space_group(structure, symprec: float):
    """{'symbol', 'number', 'symprec'} of the (reduced) file structure, or None when spglib finds none
    or the cell is large (spglib time grows with the number of sites)."""
    if len(structure) > 2000:
        return None
    from core.structure.symmetry import space_group

    try:
        return space_group(structure, symprec).to_dict()
    except LayerStudioError:
        return None


def _site_map_fast(mkeys: np.ndarray, fkeys: np.ndarray) -> np.ndarray:
    order = np.argsort(mkeys)
    return order[np.searchsorted(mkeys[order], fkeys)]


__all__ = ["import_structure", "read_structure", "largest_remainder", "ImportReport", "DEFAULT_SYMPREC"]
