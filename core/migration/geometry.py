"""Geometry of cation migration paths in a supercell (docs/science.md §7), independent of occupancy.

Every candidate path is a moving-ion site, a destination site, an optional tetrahedral intermediate,
the sites that must be empty for the path to be open (the other cations sharing a face with the
tetrahedron, or with a prismatic destination), and image positions relative to the start. The table is
built once per supercell from `Supercell.neighbours` and classified for any occupancy in O(n_paths).

Kinds (the geometry; the moving species is a separate field):
  inplane_edge     TM-layer octahedron -> adjacent TM-layer octahedron, straight through the shared O-O
                   edge (jump a).
  inplane_tet      the same jump via the TM-layer tetrahedron that shares faces with both; its third
                   face-sharing TM octahedron and its face-sharing alkali-layer site must be empty.
  out_of_plane     TM-layer octahedron -> face-sharing alkali-layer tetrahedron -> alkali-layer
                   octahedron; the tetrahedron's two other alkali-layer octahedra must be empty.
  into_tm_layer    the reverse: alkali-layer octahedron -> tetrahedron -> face-sharing TM-layer octahedron.
  alkali_tet       alkali-layer octahedron -> tetrahedron -> adjacent octahedron (tetrahedral-site hop:
                   the tetrahedron's third octahedron must be empty too, i.e. a divacancy).
  alkali_dumbbell  alkali-layer octahedron -> adjacent octahedron straight through the shared O-O edge
                   (oxygen-dumbbell hop).
  prism_hop        P-type: prism -> adjacent prism through the shared rectangular face; the destination's
                   other face-sharing prisms (1.67 Angstrom away) must be empty.
"""
from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import numpy as np

from core.structure.hosts import (
    ALKALI_ROLES,
    CATION_ROLES,
    ROLE_ALKALI_OCT,
    ROLE_PRISM,
    ROLE_PRISM_E,
    ROLE_PRISM_F,
    ROLE_TET_ALKALI,
    ROLE_TET_TM,
    ROLE_TM,
)

KINDS: dict[str, str] = {
    "inplane_edge": "TM layer: octahedron -> adjacent octahedron through the shared O-O edge",
    "inplane_tet": "TM layer: octahedron -> TM-layer tetrahedron -> adjacent octahedron",
    "out_of_plane": "TM-layer octahedron -> alkali-layer tetrahedron -> alkali-layer octahedron",
    "into_tm_layer": "alkali-layer octahedron -> alkali-layer tetrahedron -> TM-layer octahedron",
    "alkali_tet": "alkali layer: octahedron -> tetrahedron -> adjacent octahedron (divacancy hop)",
    "alkali_dumbbell": "alkali layer: octahedron -> adjacent octahedron through the O-O edge (dumbbell)",
    "prism_hop": "P-type alkali layer: prism -> prism through the shared rectangular face",
}
#: Kinds whose intermediate is a tetrahedral interstitial (index into supercell.inter_*).
TET_KINDS = ("inplane_tet", "out_of_plane", "into_tm_layer", "alkali_tet")
PRISM_ROLES = (ROLE_PRISM, ROLE_PRISM_E, ROLE_PRISM_F)

N_IMAGES = 9


def straight(vec: np.ndarray, n: int) -> np.ndarray:
    """(k, n, 3) images t * vec for t = 0..1 in n equal steps; vec (k, 3) Angstrom."""
    t = np.linspace(0.0, 1.0, n)
    return t[None, :, None] * vec[:, None, :]


def via(v1: np.ndarray, v2: np.ndarray, n: int) -> np.ndarray:
    """(k, n, 3) images start -> start + v1 (the intermediate, image (n-1)/2) -> start + v1 + v2."""
    if n < 3 or n % 2 == 0:
        raise ValueError("a path through an intermediate needs an odd number of images >= 3")
    h = (n - 1) // 2
    t = np.linspace(0.0, 1.0, h + 1)
    first = t[None, :, None] * v1[:, None, :]
    second = v1[:, None, :] + t[None, 1:, None] * v2[:, None, :]
    return np.concatenate([first, second], axis=1)


def _shell(sc, src, roles, *, src_int=False, dst_int=False, nmax=12, rel=1.1, inplane=False,
           rmax=4.0):
    """Nearest neighbours of `src` among `roles`: those within `rel` x the row's nearest distance.

    Returns (idx (len(src), nmax) -1 padded, vec (len(src), nmax, 3) NaN padded)."""
    idx, vec = sc.neighbours(src, roles, n=nmax, rmax=rmax, src_interstitial=src_int,
                             dst_interstitial=dst_int, inplane=inplane)
    d = np.linalg.norm(vec, axis=2)
    dmin = np.nanmin(np.where(idx >= 0, d, np.inf), axis=1, keepdims=True)
    far = ~(d <= rel * dmin)
    idx[far] = -1
    vec[far] = np.nan
    return idx, vec


@dataclass
class CandidateTable:
    """All candidate paths of a supercell (geometry only).

    kind (n,) int index into `names`; src, dst (n,) site indices; inter (n,) interstitial index or -1;
    block (n, k) sites that must be empty (-1 padded); disp (n, n_img, 3) Angstrom image positions
    relative to the start site's Cartesian position.
    """

    names: tuple[str, ...]
    kind: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    inter: np.ndarray
    block: np.ndarray
    disp: np.ndarray

    def __len__(self) -> int:
        return len(self.src)


def _pack(parts: list[dict], n_img: int) -> CandidateTable:
    names = tuple(KINDS)
    kb = max([p["block"].shape[1] for p in parts] + [1])
    kind, src, dst, inter, block, disp = [], [], [], [], [], []
    for p in parts:
        n = len(p["src"])
        if n == 0:
            continue
        kind.append(np.full(n, names.index(p["kind"]), np.int64))
        src.append(p["src"])
        dst.append(p["dst"])
        inter.append(p["inter"])
        b = -np.ones((n, kb), np.int64)
        b[:, :p["block"].shape[1]] = p["block"]
        block.append(b)
        disp.append(p["disp"])
    if not kind:
        z = np.zeros(0, np.int64)
        return CandidateTable(names, z, z, z, z, -np.ones((0, kb), np.int64), np.zeros((0, n_img, 3)))
    return CandidateTable(names, np.concatenate(kind), np.concatenate(src), np.concatenate(dst),
                          np.concatenate(inter), np.concatenate(block), np.concatenate(disp))


def _flatten(src, idx, vec):
    """Rows (src, neighbour, vector) for every valid entry of a neighbour table."""
    r, c = np.nonzero(idx >= 0)
    return src[r], idx[r, c], vec[r, c], r, c


def _others(idx, vec, exclude_vecs):
    """For each row, the entries of (idx, vec) whose vector differs from every vector in
    exclude_vecs (rows, k, 3): returns idx with excluded entries set to -1."""
    out = idx.copy()
    for k in range(exclude_vecs.shape[1]):
        same = np.linalg.norm(vec - exclude_vecs[:, k:k + 1, :], axis=2) < 1e-3
        out[same] = -1
    out[np.isnan(vec[..., 0])] = -1
    return out


def _via_each(s, t, v1, cand, cand_v, n_img, extra_block=None):
    """Paths from sites s through tetrahedra t (s -> t vectors v1) on to each valid candidate
    octahedron in cand (n, k), -1 padded, with t -> candidate vectors cand_v (n, k, 3). A path's blockers
    are the tetrahedron's other candidates (face-sharing) plus `extra_block` (n, m).
    Returns (src, dst, inter, block, disp) for `part`."""
    src_l, dst_l, int_l, blk_l, d1_l, d2_l = [], [], [], [], [], []
    for c in range(cand.shape[1]):
        ok = cand[:, c] >= 0
        others = cand.copy()
        others[:, c] = -1
        blk = others if extra_block is None else np.concatenate([others, extra_block], axis=1)
        src_l.append(s[ok])
        dst_l.append(cand[ok, c])
        int_l.append(t[ok])
        blk_l.append(blk[ok])
        d1_l.append(v1[ok])
        d2_l.append(cand_v[ok, c])
    v1a, v2a = np.concatenate(d1_l), np.concatenate(d2_l)
    disp = via(v1a, v2a, n_img) if len(v1a) else np.zeros((0, n_img, 3))
    return (np.concatenate(src_l), np.concatenate(dst_l), np.concatenate(int_l), np.concatenate(blk_l), disp)


def _build(sc, n_img: int) -> CandidateTable:
    parts = []
    tm = sc.tm_sites
    alk_oct = sc.sites_with_role(ROLE_ALKALI_OCT)
    prisms = sc.sites_with_role(*PRISM_ROLES)
    has_tet_tm = bool((sc.inter_role == ROLE_TET_TM).any())
    has_tet_alk = bool((sc.inter_role == ROLE_TET_ALKALI).any())

    def part(kind, src, dst, inter, block, disp):
        parts.append(dict(kind=kind, src=np.asarray(src, np.int64), dst=np.asarray(dst, np.int64),
                          inter=np.asarray(inter, np.int64), block=np.asarray(block, np.int64).reshape(len(src), -1),
                          disp=disp))

    # (a) in-plane, straight through the shared edge
    if len(tm):
        idx, vec = _shell(sc, tm, ROLE_TM, nmax=6, inplane=True)
        s, d, v, _, _ = _flatten(tm, idx, vec)
        part("inplane_edge", s, d, -np.ones(len(s)), np.zeros((len(s), 0)), straight(v, n_img))
    # (a') in-plane via the TM-layer tetrahedron shared by both octahedra
    if len(tm) and has_tet_tm:
        tidx, tvec = _shell(sc, tm, ROLE_TET_TM, dst_int=True, nmax=8)
        s, t, v1, _, _ = _flatten(tm, tidx, tvec)
        ut = np.unique(t)
        oidx, ovec = _shell(sc, ut, ROLE_TM, src_int=True, nmax=4)        # the 3 face-sharing TM oct
        aidx, avec = _shell(sc, ut, ALKALI_ROLES, src_int=True, nmax=3, rmax=2.6)  # face-sharing alkali site
        row = np.searchsorted(ut, t)
        o_i, o_v = oidx[row], ovec[row]
        back = _others(o_i, o_v, -v1[:, None, :])  # drop the start octahedron
        part("inplane_tet", *_via_each(s, t, v1, back, o_v, n_img, extra_block=aidx[row]))
    if has_tet_alk and len(alk_oct):
        # tetrahedra of the alkali layer with their face-sharing TM octahedron and alkali octahedra
        ut = np.flatnonzero(sc.inter_role == ROLE_TET_ALKALI)
        tm_i, tm_v = _shell(sc, ut, ROLE_TM, src_int=True, nmax=1)
        ak_i, ak_v = _shell(sc, ut, ROLE_ALKALI_OCT, src_int=True, nmax=3)
        # (b) TM-layer octahedron -> tetrahedron -> alkali-layer octahedron
        tidx, tvec = _shell(sc, tm, ROLE_TET_ALKALI, dst_int=True, nmax=4)
        s, t, v1, _, _ = _flatten(tm, tidx, tvec)
        row = np.searchsorted(ut, t)
        oi, ov = ak_i[row], ak_v[row]
        part("out_of_plane", *_via_each(s, t, v1, oi, ov, n_img))
        # alkali-layer octahedron -> its face-sharing tetrahedra
        tidx, tvec = _shell(sc, alk_oct, ROLE_TET_ALKALI, dst_int=True, nmax=8)
        s, t, v1, _, _ = _flatten(alk_oct, tidx, tvec)
        row = np.searchsorted(ut, t)
        oi, ov = ak_i[row], ak_v[row]
        rest = _others(oi, ov, -v1[:, None, :])  # the tetrahedron's two other alkali octahedra
        # (b') reverse: -> TM-layer octahedron
        ok = tm_i[row, 0] >= 0
        part("into_tm_layer", s[ok], tm_i[row, 0][ok], t[ok], rest[ok],
             via(v1[ok], tm_v[row, 0][ok], n_img))
        # (c) tetrahedral-site hop within the alkali layer
        part("alkali_tet", *_via_each(s, t, v1, rest, ov, n_img))
    if len(alk_oct):
        # (c') oxygen-dumbbell hop straight through the shared O-O edge
        idx, vec = _shell(sc, alk_oct, ROLE_ALKALI_OCT, nmax=6, inplane=True)
        s, d, v, _, _ = _flatten(alk_oct, idx, vec)
        part("alkali_dumbbell", s, d, -np.ones(len(s)), np.zeros((len(s), 0)), straight(v, n_img))
    if len(prisms):
        # P-type: prism -> face-sharing prism (the nearest prisms, a / sqrt3 away)
        idx, vec = _shell(sc, prisms, PRISM_ROLES, nmax=3)
        s, d, v, _, _ = _flatten(prisms, idx, vec)
        # the destination's other face-sharing prisms must be empty
        ud = np.unique(d)
        nidx, nvec = _shell(sc, ud, PRISM_ROLES, nmax=3)
        row = np.searchsorted(ud, d)
        blk = _others(nidx[row], nvec[row], -v[:, None, :])
        part("prism_hop", s, d, -np.ones(len(s)), blk, straight(v, n_img))
    return _pack(parts, n_img)


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.RLock()


def candidate_table(supercell, n_images: int = N_IMAGES) -> CandidateTable:
    """The cached candidate table of a supercell for `n_images` images per path."""
    with _LOCK:
        per = _CACHE.setdefault(supercell, {})
        if n_images not in per:
            per[n_images] = _build(supercell, int(n_images))
        return per[n_images]


def environment_table(supercell) -> np.ndarray:
    """(N, k) cation sites near every cation site (within 1.2 a: edge- and face-sharing
    polyhedra), -1 padded; rows of O sites are -1. Used to key environment-equivalent paths."""
    with _LOCK:
        per = _CACHE.setdefault(supercell, {})
    if "env" not in per:
        cs = supercell.cation_sites
        idx, _ = supercell.neighbours(cs, CATION_ROLES, n=18, rmax=1.2 * supercell.host.a)
        out = -np.ones((supercell.n_sites, idx.shape[1]), np.int64)
        out[cs] = idx
        per["env"] = out
    return per["env"]


__all__ = ["KINDS", "TET_KINDS", "N_IMAGES", "CandidateTable", "candidate_table", "environment_table",
           "straight", "via"]
