"""Cation migration paths of a model and their electrostatic estimate (docs/science.md §7).

    paths = find_paths(model)                    # open paths, energies attached, cheapest first
    for p in paths[:5]: print(p.summary())
    groups = group_paths(paths)                  # environment-equivalent paths and group sizes

Geometry comes from `core.migration.geometry` (built once per supercell), energies from
`core.migration.energy`: the Coulomb energy of the whole periodic cell as one ion moves against the
fixed rest (equal to differences of pymatgen Ewald energies), plus a Born-Mayer cation-O repulsion.
All energies are an *electrostatic estimate* (formal charges, rigid lattice), relative to the start
(eV). A cell left charged by an edit (e.g. Li removed without oxidising anything) is handled like
pymatgen does, with a uniform neutralising background; the background does not depend on where the
ion is, so it drops out of every path energy.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.errors import MigrationError
from core.migration.energy import born_mayer_params, coulomb_profiles, repulsion_profiles
from core.migration.geometry import KINDS, N_IMAGES, TET_KINDS, candidate_table, environment_table
from core.migration.kernel import path_kernel
from core.structure.species import ALKALI, OXYGEN, SPECIES, VACANCY

LABEL = "electrostatic estimate"
TM_KINDS = ("inplane_edge", "inplane_tet", "out_of_plane", "into_tm_layer")


@dataclass
class Path:
    """One migration path of one ion.

    images: (n_img, 3) Cartesian Angstrom, image 0 at the start site; for paths through a tetrahedron
    the intermediate is image (n_img - 1) / 2. coulomb, repulsion, total: (n_img,) eV relative to the
    start (None when not evaluated, e.g. blocked paths). blockers: occupied sites that close the path.
    """

    kind: str
    species: str
    from_site: int
    to_site: int
    intermediate: int | None
    images: np.ndarray
    open: bool
    reason: str = ""
    blockers: tuple[int, ...] = ()
    group: int = -1
    coulomb: np.ndarray | None = field(default=None, repr=False)
    repulsion: np.ndarray | None = field(default=None, repr=False)
    row: int = field(default=-1, repr=False)  # index in the supercell's candidate table

    @property
    def is_tm(self) -> bool:
        """True when the moving ion is not an alkali (a TM or other non-alkali cation)."""
        return self.species not in ALKALI

    @property
    def total(self) -> np.ndarray | None:
        return None if self.coulomb is None else self.coulomb + self.repulsion

    @property
    def end_eV(self) -> float:
        """End-point energy difference (eV, electrostatic estimate); NaN if not evaluated."""
        return float(self.total[-1]) if self.coulomb is not None else float("nan")

    @property
    def max_eV(self) -> float:
        """Maximum of the total energy along the path (eV, relative to the start): the barrier."""
        return float(self.total.max()) if self.coulomb is not None else float("nan")

    @property
    def barrier_eV(self) -> float:
        return self.max_eV

    def summary(self) -> str:
        via = f" via tet {self.intermediate}" if self.intermediate is not None else ""
        state = "open" if self.open else f"blocked: {self.reason}"
        energy = (f" end {self.end_eV:+.3f} eV, max {self.max_eV:+.3f} eV" if self.coulomb is not None else "")
        return f"{self.kind} {self.species} {self.from_site} -> {self.to_site}{via} [{state}]{energy}"

    def to_dict(self, images: bool = False) -> dict:
        d = {"kind": self.kind, "species": self.species, "from_site": self.from_site,
             "to_site": self.to_site, "intermediate": self.intermediate, "open": self.open,
             "reason": self.reason, "blockers": list(self.blockers), "group": self.group,
             "label": LABEL}
        if self.coulomb is not None:
            d.update(end_eV=self.end_eV, max_eV=self.max_eV,
                     coulomb_end_eV=float(self.coulomb[-1]), coulomb_max_eV=float(self.coulomb.max()),
                     repulsion_end_eV=float(self.repulsion[-1]),
                     repulsion_max_eV=float(self.repulsion.max()))
            if images:
                d.update(coulomb_eV=self.coulomb.tolist(), repulsion_eV=self.repulsion.tolist())
        if images:
            d["images"] = self.images.tolist()
        return d


def _check_kinds(kinds) -> tuple[str, ...]:
    if kinds is None:
        return tuple(KINDS)
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise MigrationError(f"unknown path kind {bad[0]!r}; choose from {', '.join(KINDS)}")
    return kinds


def classify(model, kinds=None, n_images: int = N_IMAGES):
    """Vectorised classification of every candidate path with an ion at its start.

    Returns (table, rows (n,), open (n,) bool, dest_occupied (n,) bool, blocked_by (n, k) sites or -1).
    """
    kinds = _check_kinds(kinds)
    sc = model.supercell
    tab = candidate_table(sc, n_images)
    occ = model.occupancy
    kind_ok = np.isin(np.array(tab.names)[tab.kind] if len(tab) else np.zeros(0, str), kinds)
    has_ion = (occ[tab.src] != VACANCY) & (occ[tab.src] != OXYGEN)
    rows = np.flatnonzero(kind_ok & has_ion)
    dest_occ = occ[tab.dst[rows]] != VACANCY
    blk = tab.block[rows]
    blocked_by = np.where((blk >= 0) & (occ[np.maximum(blk, 0)] != VACANCY), blk, -1)
    is_open = ~dest_occ & ~(blocked_by >= 0).any(axis=1)
    return tab, rows, is_open, dest_occ, blocked_by


def _reason(model, tab, r, dest_occ, blocked_by) -> tuple[str, tuple[int, ...]]:
    occ = model.occupancy
    sc = model.supercell
    parts, sites = [], []
    if dest_occ:
        d = int(tab.dst[r])
        parts.append(f"destination #{d} occupied by {SPECIES[occ[d]]}")
        sites.append(d)
    kind = tab.names[tab.kind[r]]
    for b in blocked_by[blocked_by >= 0].tolist():
        where = ("next to the destination prism" if kind == "prism_hop"
                 else "next to the tetrahedral intermediate")
        parts.append(f"face-sharing {SPECIES[occ[b]]} at #{b} ({sc.role[b]}) {where}")
        sites.append(int(b))
    return "; ".join(parts), tuple(sites)


def find_paths(model, kinds=None, open_only: bool = True, engine=None, *, energies: bool = True,
               n_images: int = N_IMAGES, species=None, epsilon: float = 1.0) -> list[Path]:
    """Migration paths of every cation of `model`, ranked cheapest first (open paths by barrier).

    kinds: subset of `KINDS` (default all). open_only: only paths whose destination and required
    neighbours are empty. engine: optional core.energy.ewald engine with ``point_potential`` (default: the
    supercell's path kernel, else its Ewald engine; both identical to pymatgen's energies).
    energies: attach the Coulomb and Born-Mayer profiles of the open paths. species: restrict to
    moving species (symbols).
    epsilon: relative permittivity dividing the Coulomb term (default 1: bare formal charges, equal
    to pymatgen Ewald differences; ~3-10 mimics electronic screening, a cruder estimate still).
    Each path gets a `group` id (see `group_paths`).
    """
    tab, rows, is_open, dest_occ, blocked_by = classify(model, kinds, n_images)
    occ = model.occupancy
    if species is not None:
        wanted = [species] if isinstance(species, str) else list(species)
        keep = np.isin(np.array(SPECIES)[occ[tab.src[rows]]], wanted)
        rows, is_open, dest_occ, blocked_by = rows[keep], is_open[keep], dest_occ[keep], blocked_by[keep]
    if open_only:
        rows, dest_occ, blocked_by, is_open = rows[is_open], dest_occ[is_open], blocked_by[is_open], is_open[is_open]
    sc = model.supercell
    src = tab.src[rows]
    images = sc.cart[src][:, None, :] + tab.disp[rows]
    sp = [SPECIES[c] for c in occ[src].tolist()]
    paths = []
    for n, r in enumerate(rows.tolist()):
        reason, blockers = ("", ()) if is_open[n] else _reason(model, tab, r, dest_occ[n], blocked_by[n])
        inter = int(tab.inter[r])
        paths.append(Path(tab.names[tab.kind[r]], sp[n], int(tab.src[r]), int(tab.dst[r]),
                          inter if inter >= 0 else None, images[n], bool(is_open[n]), reason, blockers,
                          row=r))
    if energies:
        attach_energies(model, [p for p in paths if p.open], engine=engine, n_images=n_images,
                        epsilon=epsilon)
    _assign_groups(model, paths)
    return rank_paths(paths)


def attach_energies(model, paths: list[Path], engine=None, n_images: int = N_IMAGES,
                    epsilon: float = 1.0) -> None:
    """Fill `coulomb` and `repulsion` (n_img,) eV of each path in place (electrostatic estimate).

    Paths from `find_paths` use the supercell's path kernel (all images at once, from FFTs over the
    translation group); other paths, or an explicit `engine` with ``point_potential``, are evaluated
    point by point. Paths whose destination is occupied are skipped (their end point sits on a
    charge: no finite energy); paths closed only by a face-sharing neighbour are evaluated.
    """
    occ = model.occupancy
    paths = [p for p in paths if occ[p.to_site] == VACANCY or p.to_site == p.from_site]
    if not paths:
        return
    sc = model.supercell
    q = model.charges()
    src = np.array([p.from_site for p in paths], np.int64)
    images = np.stack([p.images for p in paths])
    rows = np.array([p.row for p in paths], np.int64)
    kernel = None
    if engine is None and (rows >= 0).all() and images.shape[1] == n_images:
        kernel = path_kernel(sc, candidate_table(sc, n_images))
    if kernel is not None:
        phi = kernel.path_potentials(q, rows, src)
        coul = q[src][:, None] * (phi - phi[:, :1])
    else:
        coul = coulomb_profiles(sc, q, src, images, engine=engine)
    if not epsilon > 0:
        raise MigrationError(f"relative permittivity must be positive, not {epsilon}")
    coul = coul / float(epsilon)
    rep, _ = repulsion_profiles(model.supercell, model.occupancy, [p.species for p in paths], q[src], images)
    for p, c, b in zip(paths, coul, rep):
        p.coulomb, p.repulsion = c, b


def rank_paths(paths: list[Path]) -> list[Path]:
    """Open evaluated paths by barrier (max along the path), then end-point energy; then the rest."""
    def key(p):
        evaluated = p.coulomb is not None
        return (not p.open, not evaluated, p.max_eV if evaluated else 0.0,
                p.end_eV if evaluated else 0.0, p.kind, p.from_site, p.to_site)
    return sorted(paths, key=key)


def _env_key(model, site: int, exclude: tuple[int, ...]) -> tuple[str, ...]:
    env = environment_table(model.supercell)[site]
    occ = model.occupancy
    return tuple(sorted(SPECIES[occ[s]] for s in env.tolist() if s >= 0 and s not in exclude))


def path_key(model, p: Path) -> tuple:
    """Environment key: kind, species, open state, and the sorted neighbour species of both ends."""
    ends = (p.from_site, p.to_site)
    return (p.kind, p.species, p.open, _env_key(model, p.from_site, ends), _env_key(model, p.to_site, ends))


def _assign_groups(model, paths: list[Path]) -> None:
    ids: dict[tuple, int] = {}
    for p in paths:
        p.group = ids.setdefault(path_key(model, p), len(ids))


def group_paths(paths: list[Path]) -> list[dict]:
    """Groups of environment-equivalent paths (same `group` id from `find_paths`), cheapest first.

    Each dict: group, kind, species, open, size, barrier_min_eV / barrier_max_eV and end_min_eV /
    end_max_eV over the members (NaN when not evaluated; members differ through longer-range
    surroundings), members (list of (from_site, to_site)).
    """
    groups: dict[int, list[Path]] = {}
    for p in paths:
        groups.setdefault(p.group, []).append(p)
    out = []
    for g, members in groups.items():
        bar = np.array([m.max_eV for m in members])
        end = np.array([m.end_eV for m in members])
        ev = ~np.isnan(bar)
        p0 = members[0]
        out.append({"group": g, "kind": p0.kind, "species": p0.species, "open": p0.open,
                    "size": len(members),
                    "barrier_min_eV": float(bar[ev].min()) if ev.any() else float("nan"),
                    "barrier_max_eV": float(bar[ev].max()) if ev.any() else float("nan"),
                    "end_min_eV": float(end[ev].min()) if ev.any() else float("nan"),
                    "end_max_eV": float(end[ev].max()) if ev.any() else float("nan"),
                    "members": [(m.from_site, m.to_site) for m in members]})
    out.sort(key=lambda d: (not d["open"], np.nan_to_num(d["barrier_min_eV"], nan=np.inf), d["kind"]))
    return out


def cheapest(paths: list[Path], kind=None, species=None) -> Path | None:
    """The open, evaluated path with the lowest barrier among `kind`/`species` (None if there is none)."""
    kinds = None if kind is None else ((kind,) if isinstance(kind, str) else tuple(kind))
    sp = None if species is None else ((species,) if isinstance(species, str) else tuple(species))
    best = None
    for p in paths:
        if not p.open or p.coulomb is None:
            continue
        if kinds is not None and p.kind not in kinds:
            continue
        if sp is not None and p.species not in sp:
            continue
        if best is None or p.max_eV < best.max_eV:
            best = p
    return best


def paths_summary(model, paths: list[Path] | None = None) -> dict:
    """Counts per kind (open), number of open TM paths and the cheapest path per kind, for reports."""
    paths = find_paths(model) if paths is None else paths
    per_kind = {}
    for k in KINDS:
        ps = [p for p in paths if p.kind == k and p.open]
        if ps:
            c = cheapest(ps)
            per_kind[k] = {"open": len(ps), "cheapest": c.to_dict() if c else None}
    return {"label": LABEL, "open_paths": sum(p.open for p in paths),
            "open_tm_paths": sum(p.open and p.is_tm for p in paths), "kinds": per_kind}


__all__ = ["Path", "MigrationError", "KINDS", "TET_KINDS", "TM_KINDS", "LABEL", "find_paths",
           "classify", "attach_energies", "rank_paths", "group_paths", "path_key", "cheapest",
           "paths_summary", "born_mayer_params"]
