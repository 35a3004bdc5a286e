"""Supercells of a host: site enumeration, integer coordinates, translation group, neighbour tables.

A supercell is the primitive host cell (a1, a2, c_p) repeated by a 3x3 integer matrix

    S = [[m00, m01, 0], [m10, m11, 0], [v1, v2, K]]

whose rows are the supercell vectors in the primitive basis: an arbitrary in-plane 2x2 matrix M
(n x m diagonal, sqrt3 x sqrt3 R30 = [[2, 1], [-1, 1]], the ribbon cell [[5, 0], [2, 1]] ...) and K
primitive repeats along the stacking vector, with the in-plane integer shift (v1, v2) chosen so that the
third vector is as close to the stacking normal as possible (K = 3 O3 primitive repeats give exactly
the hexagonal c; K = 1 gives the C2/m-type single-slab cell).

Every site is (basis site p, integer translation x = (i, j, k)); `site_group` maps x to the finite
translation group Z^3 / L_S = Z_n1 x Z_n2 x Z_n3 (Smith normal form), in which a pair interaction depends
only on (p, q, g_q - g_p mod n): the block-circulant structure used by the Ewald engine.
"""
from __future__ import annotations

from functools import cached_property

import numpy as np

from core.errors import SupercellError
from core.structure import limits
from core.structure.hosts import ALKALI_ROLES, CATION_ROLES, INTERSTITIAL_ROLES, POSITIONS, ROLE_O, ROLE_TM, Host
from core.structure.lattice_math import coset_representatives_2d, smith_normal_form

#: Common in-plane matrices by name.
NAMED_MATRICES = {
    "sqrt3": ((2, 1), (-1, 1)),
    "2sqrt3": ((4, 2), (-2, 2)),
    "ribbon": ((5, 0), (2, 1)),
}



def parse_supercell_spec(spec) -> np.ndarray:
    """'6' -> 6x6, '6x4' -> diag(6, 4), 'a,b,c,d' -> [[a, b], [c, d]], or a name in NAMED_MATRICES.

    Also accepts an int or a 2x2 nested sequence. Returns a (2, 2) int64 array with det > 0.
    """
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        rows = [[int(spec), 0], [0, int(spec)]]
    elif isinstance(spec, str):
        s = spec.strip().lower().replace(" ", "")
        try:
            if s in NAMED_MATRICES:
                rows = [list(r) for r in NAMED_MATRICES[s]]
            elif "," in s:
                vals = [int(v) for v in s.split(",")]
                if len(vals) != 4:
                    raise ValueError
                rows = [vals[:2], vals[2:]]
            elif "x" in s:
                n, m = (int(v) for v in s.split("x"))
                rows = [[n, 0], [0, m]]
            else:
                rows = [[int(s), 0], [0, int(s)]]
        except ValueError:
            raise SupercellError(
                f"cannot read supercell {spec[:40]!r}: use N, NxM, a 2x2 matrix 'a,b,c,d' or one of "
                f"{', '.join(NAMED_MATRICES)}") from None
    else:
        try:
            rows = [[x for x in r] for r in spec]
            if not (len(rows) == 2 and all(len(r) == 2 for r in rows)
                    and all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for r in rows for x in r)):
                raise TypeError
            rows = [[int(x) for x in r] for r in rows]
        except (TypeError, ValueError):
            raise SupercellError(f"cannot read supercell matrix {str(spec)[:80]}: give 2x2 integers") from None
    big = [x for r in rows for x in r if abs(x) > limits.MAX_MATRIX_ENTRY]
    if big:
        shown = str(big[0]) if len(str(big[0])) <= 30 else f"{str(big[0])[:12]}...({len(str(big[0]))} digits)"
        raise SupercellError(f"supercell entry {shown} is out of range: entries must lie within "
                             f"+-{limits.MAX_MATRIX_ENTRY:,}")
    M = np.array(rows, dtype=np.int64)
    det = int(M[0, 0] * M[1, 1] - M[0, 1] * M[1, 0])
    if det == 0:
        raise SupercellError(f"supercell matrix {M.tolist()} is singular")
    if det < 0:
        raise SupercellError(f"supercell matrix {M.tolist()} has negative determinant; swap its rows")
    return M


class Supercell:
    """Geometry and connectivity of a supercell (no occupancy).

    Attributes (N = number of occupiable sites: cations and O; NI = interstitials):
      lattice (3, 3) Angstrom rows; frac (N, 3); cart (N, 3); role (N,) str; basis (N,) index into
      ``host.basis``; ijk (N, 3) integer primitive translation; layer (N,) TM slab index counted from 0
      along the stacking; group (N, 3) translation-group coordinates; inter_* the same for interstitials.
    """

    def __init__(self, host: Host, matrix=((1, 0), (0, 1)), layers: int | None = None,
                 stacking_shift=None):
        """stacking_shift: the integer in-plane part (v1, v2) of the third supercell vector; default the
        one closest to the stacking normal. Tiled cells need a specific one (see `Model.tiled`)."""
        self.host = host
        self.matrix = parse_supercell_spec(matrix)
        if layers is None:
            layers = host.slabs_per_prim if host.stacking in ("P2", "O2") else 1
        if isinstance(layers, bool) or not isinstance(layers, (int, np.integer)):
            raise SupercellError(f"the number of TM layers must be an integer, not {layers!r}"[:120])
        layers = int(layers)
        if layers < 1:
            raise SupercellError("the number of TM layers must be at least 1")
        if layers > limits.MAX_LAYERS:
            raise SupercellError(f"{layers} TM layers is out of range (at most {limits.MAX_LAYERS:,})")
        if layers % host.slabs_per_prim:
            raise SupercellError(
                f"{host.stacking} repeats every {host.slabs_per_prim} TM layers: choose a multiple of "
                f"{host.slabs_per_prim} layers, not {layers}")
        self.layers = layers
        self.K = layers // host.slabs_per_prim
        M = self.matrix
        self.det = int(round(np.linalg.det(M)))
        n_occ_basis = sum(1 for s in host.basis if s.role not in INTERSTITIAL_ROLES)
        n_sites = n_occ_basis * self.det * self.K
        limits.check_sites(n_sites)
        # stacking vector: K c_p + v, v the integer in-plane vector minimising the in-plane part
        shift = np.array(host.shift) * self.K
        best: tuple | None = None
        a1, a2 = host.a1, host.a2
        for d1 in (-1, 0, 1):
            for d2 in (-1, 0, 1):
                v = -np.floor(shift).astype(int) + np.array([d1, d2]) - 0
                ip = (shift[0] + v[0]) * a1 + (shift[1] + v[1]) * a2
                key = (round(float(np.linalg.norm(ip)), 9), -v[0], -v[1])
                if best is None or key < best[0]:
                    best = (key, v)
        assert best is not None
        self.default_shift = best[1].astype(np.int64)
        if stacking_shift is None:
            self.v = self.default_shift
        else:
            vals = list(stacking_shift) if isinstance(stacking_shift, (list, tuple, np.ndarray)) else []
            if len(vals) != 2 or not all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in vals):
                raise SupercellError(f"stacking shift must be two integers, not {str(stacking_shift)[:60]}")
            bad = [int(x) for x in vals if abs(int(x)) > limits.MAX_MATRIX_ENTRY]
            if bad:
                raise SupercellError(f"stacking shift {str(bad[0])[:30]} is out of range: entries must lie within "
                                     f"+-{limits.MAX_MATRIX_ENTRY:,}")
            self.v = np.array([int(x) for x in vals], dtype=np.int64)
        self.S = np.array([[M[0, 0], M[0, 1], 0], [M[1, 0], M[1, 1], 0],
                           [self.v[0], self.v[1], self.K]], dtype=np.int64)
        self.lattice = self.S.astype(float) @ host.prim_lattice
        self.volume = float(abs(np.linalg.det(self.lattice)))
        self._adj = np.array([[M[1, 1], -M[0, 1]], [-M[1, 0], M[0, 0]]], dtype=np.int64)
        self.reps = coset_representatives_2d(M)
        self._rep_lo = self.reps.min(axis=0)
        span = self.reps.max(axis=0) - self._rep_lo + 1
        self._rep_lookup = -np.ones(span, dtype=np.int64)
        self._rep_lookup[self.reps[:, 0] - self._rep_lo[0], self.reps[:, 1] - self._rep_lo[1]] = np.arange(self.det)
        U, D, V = smith_normal_form(self.S)
        self.group_orders = np.diag(D).astype(np.int64)
        # U S V = D, so x -> x V maps the lattice rows y S = y U^-1 D to multiples of D: the group map
        self._V = V
        # occupiable basis (cations + O) and interstitial basis, each sorted by height
        self.occ_basis = [p for p, s in enumerate(host.basis) if s.role not in INTERSTITIAL_ROLES]
        self.occ_basis.sort(key=lambda p: host.basis[p].z)
        self.int_basis = [p for p, s in enumerate(host.basis) if s.role in INTERSTITIAL_ROLES]
        self.int_basis.sort(key=lambda p: host.basis[p].z)
        self._local = {}  # host basis index -> (is_interstitial, local index)
        for i, p in enumerate(self.occ_basis):
            self._local[p] = (False, i)
        for i, p in enumerate(self.int_basis):
            self._local[p] = (True, i)
        self._build_sites()

    # ------------------------------------------------------------------ enumeration
    def _enumerate(self, basis_list):
        host = self.host
        nb = len(basis_list)
        T = self.det
        k = np.repeat(np.arange(self.K), nb * T)
        p_local = np.tile(np.repeat(np.arange(nb), T), self.K)
        rep = np.tile(self.reps, (self.K * nb, 1))
        ijk = np.column_stack([rep, k]).astype(np.int64)
        basis = np.array(basis_list, dtype=np.int64)[p_local] if nb else np.zeros(0, np.int64)
        base_cart = np.array([host.cart(host.basis[p]) for p in basis_list]).reshape(nb, 3)
        cart = base_cart[p_local] + ijk.astype(float) @ host.prim_lattice
        frac = cart @ np.linalg.inv(self.lattice)
        frac -= np.floor(frac + 1e-9)
        cart = frac @ self.lattice
        roles = np.array([host.basis[p].role for p in basis_list], dtype=object)[p_local] if nb else np.zeros(0, object)
        basis_layer = np.array([host.basis[p].layer for p in basis_list], dtype=np.int64)
        layer = (k * host.slabs_per_prim + basis_layer[p_local]) if nb else np.zeros(0, np.int64)
        group = (ijk @ self._V) % self.group_orders
        return basis, p_local, ijk, cart, frac, roles.astype(str), layer, group

    def _build_sites(self):
        (self.basis, self.basis_local, self.ijk, self.cart, self.frac, self.role, self.layer,
         self.group) = self._enumerate(self.occ_basis)
        (self.inter_basis, self.inter_basis_local, self.inter_ijk, self.inter_cart, self.inter_frac,
         self.inter_role, self.inter_layer, self.inter_group) = self._enumerate(self.int_basis)
        self.n_sites = len(self.basis)
        self.n_interstitials = len(self.inter_basis)

    # ------------------------------------------------------------------ indexing
    @property
    def n_basis(self) -> int:
        """Occupiable sites per primitive cell (cations + O)."""
        return len(self.occ_basis)

    @property
    def n_translations(self) -> int:
        return self.det * self.K

    def reduce(self, ijk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Reduce integer translations (n, 3) into the cell: returns (rep index (n,), k (n,))."""
        x = np.array(ijk, dtype=np.int64).reshape(-1, 3).copy()
        n3 = np.floor_divide(x[:, 2], self.K)
        x -= n3[:, None] * self.S[2][None, :]
        f = x[:, :2] @ self._adj
        n = np.floor_divide(f, self.det)
        x[:, :2] -= n @ self.matrix
        rep = self._rep_lookup[x[:, 0] - self._rep_lo[0], x[:, 1] - self._rep_lo[1]]
        return rep, x[:, 2]

    def index_of(self, p_local, ijk, interstitial: bool = False) -> np.ndarray:
        """Site (or interstitial) indices of local basis `p_local` (n,) at translations `ijk` (n, 3)."""
        rep, k = self.reduce(ijk)
        nb = len(self.int_basis if interstitial else self.occ_basis)
        return (k * nb + np.asarray(p_local, dtype=np.int64)) * self.det + rep

    # ------------------------------------------------------------------ selections
    def sites_with_role(self, *roles: str) -> np.ndarray:
        return np.flatnonzero(np.isin(self.role, roles))

    @cached_property
    def tm_sites(self) -> np.ndarray:
        return self.sites_with_role(ROLE_TM)

    @cached_property
    def alkali_sites(self) -> np.ndarray:
        return self.sites_with_role(*ALKALI_ROLES)

    @cached_property
    def cation_sites(self) -> np.ndarray:
        return self.sites_with_role(*CATION_ROLES)

    @cached_property
    def o_sites(self) -> np.ndarray:
        return self.sites_with_role(ROLE_O)

    def layer_sites(self, layer: int, roles=(ROLE_TM,)) -> np.ndarray:
        """Sites of the given roles in TM slab `layer` (alkali sites belong to the slab below them)."""
        return np.flatnonzero((self.layer == layer) & np.isin(self.role, roles))

    def inplane_coords(self, sites: np.ndarray) -> np.ndarray:
        """In-plane Cartesian (x, y) positions (Angstrom) of sites, unwrapped to their integer cell.

        Position = position letter offset + i a1 + j a2 (no stacking shift), so one layer draws as a
        parallelogram of the in-plane supercell starting at the origin.
        """
        h = self.host
        sites = np.asarray(sites)
        off = np.array([POSITIONS[h.basis[p].pos] for p in range(len(h.basis))])
        xy = off[self.basis[sites]] + self.ijk[sites, :2]
        return xy[:, :1] * h.a1[:2] + xy[:, 1:2] * h.a2[:2]

    @property
    def inplane_lattice(self) -> np.ndarray:
        """(2, 2) Cartesian in-plane supercell vectors (Angstrom)."""
        return self.lattice[:2, :2]

    # ------------------------------------------------------------------ neighbours
    def _prim_offsets(self, p_host: int, dst_basis: list[int], nmax: int, rmax: float, inplane: bool):
        """Nearest (q_local, dijk, vector) from host basis p to sites of dst_basis, within rmax."""
        h = self.host
        lat = h.prim_lattice
        rng = np.arange(-3, 4)
        kr = np.array([0]) if inplane else np.arange(-2, 3)
        d = np.array(np.meshgrid(rng, rng, kr, indexing="ij")).reshape(3, -1).T
        out = []
        src = h.cart(h.basis[p_host])
        for q_local, q in enumerate(dst_basis):
            if inplane and h.basis[q].z != h.basis[p_host].z:
                continue
            vec = h.cart(h.basis[q]) + d @ lat - src
            dist = np.linalg.norm(vec, axis=1)
            for n in np.flatnonzero((dist > 1e-6) & (dist <= rmax)):
                out.append((dist[n], q_local, tuple(d[n]), tuple(vec[n])))
        out.sort(key=lambda t: (round(t[0], 6), t[1], t[2]))
        return out[:nmax]

    def neighbours(self, src: np.ndarray, dst_roles, *, n: int = 6, rmax: float = 3.5,
                   src_interstitial: bool = False, dst_interstitial: bool = False,
                   inplane: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Up to `n` nearest neighbours of each site in `src` among sites whose role is in `dst_roles`.

        Returns (index (len(src), n) int64 padded with -1, vector (len(src), n, 3) Angstrom, NaN padded),
        sorted by distance. `inplane` restricts to the same plane (same basis height). Built from the
        primitive cell's offsets, so it costs O(len(src) * n) whatever the cell size.
        """
        src = np.asarray(src, dtype=np.int64)
        dst_list = self.int_basis if dst_interstitial else self.occ_basis
        dst_roles = (dst_roles,) if isinstance(dst_roles, str) else tuple(dst_roles)
        dst_basis = [q for q in dst_list if self.host.basis[q].role in dst_roles]
        dst_local = {q: (self.int_basis if dst_interstitial else self.occ_basis).index(q) for q in dst_basis}
        sb = self.inter_basis if src_interstitial else self.basis
        sijk = self.inter_ijk if src_interstitial else self.ijk
        idx = -np.ones((len(src), n), dtype=np.int64)
        vec = np.full((len(src), n, 3), np.nan)
        for p in np.unique(sb[src]):
            offs = self._prim_offsets(int(p), dst_basis, n, rmax, inplane)
            rows = np.flatnonzero(sb[src] == p)
            for col, (_dist, qi, dijk, v) in enumerate(offs):
                q_local = dst_local[dst_basis[qi]]
                idx[rows, col] = self.index_of(np.full(len(rows), q_local), sijk[src[rows]] + np.array(dijk),
                                               interstitial=dst_interstitial)
                vec[rows, col] = v
        return idx, vec

    def inplane_shell(self, sites: np.ndarray, shell: int = 1) -> np.ndarray:
        """(len(sites), 6) same-layer neighbours in in-plane shell 1 (a), 2 (sqrt3 a) or 3 (2a)."""
        offsets = {1: [(1, 0), (0, 1), (-1, -1), (-1, 0), (0, -1), (1, 1)],
                   2: [(2, 1), (1, 2), (-1, 1), (-2, -1), (-1, -2), (1, -1)],
                   3: [(2, 0), (0, 2), (-2, -2), (-2, 0), (0, -2), (2, 2)]}
        if shell not in offsets:
            raise ValueError("shell must be 1, 2 or 3")
        sites = np.asarray(sites, dtype=np.int64)
        out = np.empty((len(sites), 6), dtype=np.int64)
        for c, (di, dj) in enumerate(offsets[shell]):
            out[:, c] = self.index_of(self.basis_local[sites], self.ijk[sites] + np.array([di, dj, 0]))
        return out

    @cached_property
    def tm_nn(self) -> np.ndarray:
        """(N, 6) first-shell in-plane neighbours for every site (rows of non-cation sites unused)."""
        return self.inplane_shell(np.arange(self.n_sites), 1)

    @cached_property
    def cation_o(self) -> np.ndarray:
        """(N, 6): the six O around every cation site (octahedron or prism); -1 rows for O sites."""
        out = -np.ones((self.n_sites, 6), dtype=np.int64)
        cs = self.cation_sites
        out[cs], _ = self.neighbours(cs, ROLE_O, n=6)
        return out

    @cached_property
    def o_cations(self) -> tuple[np.ndarray, np.ndarray]:
        """For every O site (in `o_sites` order): (index (n_O, 9), vector (n_O, 9, 3)) of cation sites
        within 1.3 x the shortest cation-O distance, nearest first, -1 padded (6 in O-type, 9 in P-type)."""
        osites = self.o_sites
        idx, vec = self.neighbours(osites, CATION_ROLES, n=12, rmax=4.0)
        d = np.linalg.norm(vec, axis=2)
        dmin = np.nanmin(d, axis=1, keepdims=True)
        far = ~(d <= 1.3 * dmin)
        idx[far] = -1
        vec[far] = np.nan
        keep = max(int((~far).sum(axis=1).max()), 1)
        return idx[:, :keep], vec[:, :keep]

    @cached_property
    def o_axes(self) -> tuple[np.ndarray, np.ndarray]:
        """The three cation-O-cation axes of every O (rows in `o_sites` order).

        Returns (pairs (n_O, 3, 2) site indices: TM-layer end first, then the most nearly opposite
        cation in the other layer; cos (n_O, 3) of the angle, -1 for linear). In O-type layers
        the axes are linear; in P-type layers the partner is the nearest-to-linear prismatic site.
        """
        idx, vec = self.o_cations
        n_o = len(idx)
        pairs = -np.ones((n_o, 3, 2), dtype=np.int64)
        cos = np.ones((n_o, 3))
        is_tm = np.zeros(idx.shape, dtype=bool)
        valid = idx >= 0
        is_tm[valid] = self.role[idx[valid]] == ROLE_TM
        ob = self.basis[self.o_sites]
        for p in np.unique(ob):  # geometry is the same for every O of one basis site
            rows = np.flatnonzero(ob == p)
            o = rows[0]
            tms = np.flatnonzero(is_tm[o])[:3]
            others = np.flatnonzero(valid[o] & ~is_tm[o])
            for a, t in enumerate(tms):
                vt = vec[o, t] / np.linalg.norm(vec[o, t])
                vo = vec[o, others] / np.linalg.norm(vec[o, others], axis=1)[:, None]
                c = vo @ vt
                best = others[np.argmin(c)]
                pairs[rows, a, 0] = idx[rows, t]
                pairs[rows, a, 1] = idx[rows, best]
                cos[rows, a] = c.min()
        return pairs, cos

    def describe(self) -> str:
        M = self.matrix.tolist()
        return f"{self.host.stacking} {M} x {self.layers} layer(s), {self.n_sites} sites"

    def to_dict(self) -> dict:
        d = {"matrix": self.matrix.tolist(), "layers": self.layers}
        if not np.array_equal(self.v, self.default_shift):
            d["stacking_shift"] = self.v.tolist()
        return d
