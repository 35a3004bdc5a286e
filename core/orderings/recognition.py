"""Recognising the cation ordering of the TM layer: neighbour statistics, Warren-Cowley short-range
order and a motif label with a confidence. Vectorised numpy on neighbour tables cached per supercell,
cheap enough to run on every click (about a millisecond on 24 x 24).

Motifs (in-plane shells 1 = a, 2 = sqrt3 a, 3 = 2a; docs/science.md §2, §3, §5). A site of the
*centre* species (the least abundant one among those above 5 %; for 1:1 layers each site) matches when:
  honeycomb: six first neighbours all of one other species, six second neighbours all centre species;
  ribbon:    six first neighbours of one other species, exactly two centre species among the second
             neighbours and they are opposite, none in the third shell;
  flower:    six first neighbours all species X, six second neighbours all species Y (X, Y, centre
             distinct) (Li ringed by Mn inside a Ni net);
  stripe:    (1:1) exactly two like first neighbours, opposite; six like third neighbours;
  zigzag:    (1:1) exactly two like first neighbours at 120 degrees; two like third neighbours.
The confidence of a motif is the fraction of centre sites that match, so one misplaced ion in a
painted honeycomb lowers it by a few per cent. Below 0.35 for every motif the layer is `disordered`
when all |Warren-Cowley alpha| of the first three shells are below max(0.15, 3 sigma) (sigma: the binomial
scatter of a random arrangement of this size; confidence 1 - max |alpha| / threshold), otherwise
`short-range order`.

Periodicity (`core.orderings.superlattice`): for every TM layer and for the stack of them, the
smallest superlattice in which the arrangement repeats (tolerating defects), its Wood name and the
fraction of sites fitting the majority decoration of each coset. The label is the motif when one
applies (a honeycomb whose trans alkali-layer sites hold TM ions is a `capped honeycomb`), else the
superlattice name (e.g. `sqrt3 x sqrt3 R30` for NMC111), else `disordered` / `short-range order` from
the Warren-Cowley parameters. The confidence is the superlattice fit when one was found, else the motif
score, else the best normalised overlap of the layer with a translated copy of itself (low for a random
arrangement).
"""
from __future__ import annotations

import weakref
from functools import lru_cache

import numpy as np

from core.orderings.superlattice import find_superlattice
from core.structure.species import CODE, ELEMENT_CODE, SPECIES, VACANCY

MOTIFS = ("honeycomb", "ribbon", "flower", "zigzag", "stripe")
LABELS = MOTIFS + ("capped honeycomb", "disordered", "short-range order", "other")
MOTIF_THRESHOLD = 0.35
SRO_DISORDER = 0.15

# directions of the first-shell columns of `Supercell.inplane_shell`: (1,0) (0,1) (-1,-1) (-1,0) (0,-1) (1,1)
_ANGLES = np.radians([0.0, 120.0, 240.0, 180.0, 300.0, 60.0])
_COS, _SIN = np.cos(_ANGLES), np.sin(_ANGLES)

_TABLES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _tables(supercell, layer):
    """(sites (n,), shells: list of three (n, 6) arrays of positions into `sites`), cached."""
    per = _TABLES.setdefault(supercell, {})
    key = -1 if layer is None else int(layer)
    if key not in per:
        sites = supercell.tm_sites if layer is None else supercell.layer_sites(int(layer))
        pos = -np.ones(supercell.n_sites, dtype=np.int64)
        pos[sites] = np.arange(len(sites))
        shells = [pos[supercell.inplane_shell(sites, s)] for s in (1, 2, 3)]
        per[key] = (sites, shells)
    return per[key]


def ring_centres(model, sites: np.ndarray) -> np.ndarray:
    """Sites among `sites` (one layer) holding a minority ion whose six in-plane neighbours are all the
    majority species (Mn when present, else the most common one): the centres of honeycomb/ribbon
    LiMn6-type rings that the layer view outlines. Returns site indices (k,)."""
    occ = ELEMENT_CODE[model.occupancy]  # cation orderings: Mn3+ and Mn4+ are both Mn
    layer_occ = occ[sites]
    present = layer_occ[layer_occ != VACANCY]
    if not len(present):
        return np.zeros(0, dtype=np.int64)
    mn = CODE["Mn"]
    major = mn if (present == mn).any() else np.bincount(present).argmax()
    nn = model.supercell.tm_nn[sites]
    is_centre = (layer_occ != major) & (layer_occ != VACANCY) & np.all(occ[nn] == major, axis=1)
    return np.asarray(sites)[is_centre]


def recognise(model, layer: int | None = None) -> dict:
    """Ordering statistics and label of the TM layer(s) of `model` (all TM layers pooled by default).

    Returns a JSON-friendly dict:
      label (a motif of LABELS, a superlattice name such as "sqrt3 x sqrt3 R30", "disordered",
      "short-range order"), confidence (0..1), motif (or None), superlattice {matrix (2, 2) basis rows
      in a1, a2 units, name, index, hnf} (values None when nothing periodic fits), periodic_fit,
      per_layer [{layer, label, confidence, motif, superlattice}], motif_scores {motif: fraction of centre sites matching},
      composition {species: fraction of TM sites}, minority / majority (symbols; least / most abundant),
      isolated_minority_fraction (minority sites whose six first neighbours are all majority),
      neighbour_counts {A: {B: histogram (7,) of how many B first neighbours each A site has}},
      mean_neighbours {"A-B": mean number of B first neighbours of an A site},
      warren_cowley {"A-B": [alpha_1, alpha_2, alpha_3]} with alpha = 1 - P(B | A neighbour) / c_B,
      n_sites, layer.
    """
    return _analyse(model, layer, True)


def _analyse(model, layer, with_layers: bool) -> dict:
    sc = model.supercell
    sites, shells = _tables(sc, layer)
    occ = ELEMENT_CODE[model.occupancy[sites]].astype(np.int64)  # by element: Ni2+/Ni3+ are Ni
    n = len(occ)
    codes, counts = np.unique(occ, return_counts=True)
    frac = counts / n
    order = np.argsort(counts, kind="stable")
    # a stray painted ion must not become the "minority": ignore species below 5 % when choosing it
    major = [k for k in order if frac[k] >= 0.05] or list(order)
    minority, majority = int(codes[major[0]]), int(codes[order[-1]])
    out = {"n_sites": int(n), "layer": layer,
           "composition": {SPECIES[c]: float(f) for c, f in zip(codes, frac)},
           "minority": SPECIES[minority], "majority": SPECIES[majority]}
    nb = [occ[s] for s in shells]  # (n, 6) species of the neighbours per shell
    # neighbour histograms and Warren-Cowley parameters from pair counts
    like_counts = {int(b): (nb[0] == b).sum(axis=1) for b in codes}
    out["neighbour_counts"] = {
        SPECIES[a]: {SPECIES[b]: np.bincount(like_counts[b][occ == a], minlength=7).tolist() for b in codes}
        for a in codes}
    out["mean_neighbours"] = {f"{SPECIES[a]}-{SPECIES[b]}": float(like_counts[b][occ == a].mean())
                              for a in codes for b in codes}
    wc, max_alpha = _warren_cowley(occ, nb, codes, frac)
    out["warren_cowley"] = wc
    if len(codes) > 1:
        iso = (nb[0][occ == minority] == majority).all(axis=1).mean()
    else:
        iso = 0.0
    out["isolated_minority_fraction"] = float(iso)
    layers = list(range(sc.layers)) if layer is None else [int(layer)]
    sl = find_superlattice(sc, [ELEMENT_CODE[model.occupancy[sc.layer_sites(L)]] for L in layers])
    interior = None
    if sl.get("domain_of") is not None and len(sl["domain_of"]) == len(layers):
        # antiphase domains: judge motifs on the sites inside a domain (first two shells in one registry)
        reg = np.concatenate(sl["domain_of"])
        interior = np.all([(reg[sh] == reg[:, None]).all(axis=1) for sh in shells[:2]], axis=0)
    scores = _motif_scores(occ, nb, codes, counts, minority, interior)
    out["motif_scores"] = scores
    out["superlattice"] = {k: sl.get(k) for k in ("matrix", "name", "index", "hnf", "domains", "whole_cell")}
    out["periodic_fit"] = sl["fit"]
    motif = _motif_of(scores)
    if motif in (None, "honeycomb") and _capped(model, layer, sl):
        motif = "capped honeycomb"
    out["motif"] = motif
    out["label"], out["confidence"] = _label(motif, scores, sl, len(codes), max_alpha)
    if with_layers:
        if len(layers) == 1:
            out["per_layer"] = [_layer_entry(out, layers[0])]
        else:
            out["per_layer"] = [_layer_entry(_analyse(model, L, False), L) for L in layers]
        out["per_layer"] += [alkali_layer(model, L) for L in layers]
    return out


def _layer_entry(r: dict, layer: int) -> dict:
    return {"layer": int(layer), "kind": "tm", "label": r["label"], "confidence": r["confidence"],
            "motif": r["motif"], "superlattice": r["superlattice"]}


def _warren_cowley(occ, nb, codes, frac) -> tuple[dict, float]:
    """({"A-B": [alpha_1, alpha_2, alpha_3]}, max |alpha| / threshold) over the first three shells;
    threshold = max(SRO_DISORDER, 3 sigma of a random arrangement of this size)."""
    ns = len(SPECIES)
    wc: dict = {}
    alphas = []
    for s in range(3):
        pair = np.bincount((occ[:, None] * ns + nb[s]).ravel(), minlength=ns * ns).reshape(ns, ns)
        for a in codes:
            row = pair[a].sum()
            for ib, b in enumerate(codes):
                alpha = 1.0 - (pair[a, b] / row) / frac[ib] if row else 0.0
                wc.setdefault(f"{SPECIES[a]}-{SPECIES[b]}", []).append(float(alpha))
                if len(codes) > 1 and row:
                    # binomial estimate of P(B | A neighbour) from `row` neighbour draws
                    sigma = np.sqrt(frac[ib] * (1.0 - frac[ib]) / row) / frac[ib]
                    alphas.append(abs(alpha) / max(SRO_DISORDER, 3.0 * sigma))
    return wc, (max(alphas) if alphas else 0.0)


def _alkali_tables(supercell, layer: int):
    """Alkali-layer sublattices of slab `layer` (one per basis site: one in O3/O2, Na_e and Na_f in P2):
    [(sites (n,) in translation order, role, shells: three (n, 6) positions into sites)], cached."""
    from core.structure.hosts import ALKALI_ROLES
    per = _TABLES.setdefault(supercell, {})
    key = ("alkali", int(layer))
    if key not in per:
        sites = supercell.layer_sites(int(layer), ALKALI_ROLES)
        subs = []
        for b in np.unique(supercell.basis_local[sites]):
            sub = sites[supercell.basis_local[sites] == b]
            pos = -np.ones(supercell.n_sites, dtype=np.int64)
            pos[sub] = np.arange(len(sub))
            subs.append((sub, str(supercell.role[sub[0]]), [pos[supercell.inplane_shell(sub, k)] for k in (1, 2, 3)]))
        per[key] = subs
    return per[key]


ROLE_NAMES = {"prism_e": "Na_e", "prism_f": "Na_f", "alkali_oct": "oct", "prism": "prism"}


def alkali_layer(model, layer: int) -> dict:
    """Ordering of the alkali layer above TM slab `layer` (ions and vacancies), as a per_layer entry.

    The superlattice is found on all of the layer's sites together (in P2 the Na_e and Na_f
    sublattices share it, so an ordering spread over both is one superlattice). A motif applies when
    one sublattice alone holds the mixture (an O3 Li/vacancy layer, or Na on Na_e sites only); the
    Warren-Cowley parameters of each mixed sublattice decide disordered / short-range order otherwise.
    Returns {layer, kind "alkali", label (a motif, a superlattice name, "disordered", "short-range
    order", "full" or "empty"), confidence, motif, superlattice, sites {role: fraction of its sites
    holding an ion}}.
    """
    sc = model.supercell
    subs = _alkali_tables(sc, layer)
    occs = [ELEMENT_CODE[model.occupancy[sub]].astype(np.int64) for sub, _r, _s in subs]
    out = {"layer": int(layer), "kind": "alkali", "motif": None,
           "sites": {ROLE_NAMES.get(r, r): float((o != VACANCY).mean()) for o, (_s, r, _sh) in zip(occs, subs)}}
    allocc = np.concatenate(occs)
    if len(np.unique(allocc)) < 2:
        full = bool((allocc != VACANCY).all())
        out.update({"label": "full" if full else "empty", "confidence": 1.0,
                    "superlattice": {"matrix": None, "name": None, "index": 1, "hnf": None}})
        return out
    sl = find_superlattice(sc, occs)
    out["superlattice"] = {k: sl.get(k) for k in ("matrix", "name", "index", "hnf", "domains", "whole_cell")}
    mixed = [k for k, o in enumerate(occs) if len(np.unique(o)) > 1]
    scores: dict = {}
    max_alpha = 0.0
    for k in mixed:
        o = occs[k]
        nb = [o[sh] for sh in subs[k][2]]
        codes, counts = np.unique(o, return_counts=True)
        max_alpha = max(max_alpha, _warren_cowley(o, nb, codes, counts / len(o))[1])
        if len(mixed) == 1:
            frac = counts / len(o)
            order = np.argsort(counts, kind="stable")
            major = [c for c in order if frac[c] >= 0.05] or list(order)
            scores = _motif_scores(o, nb, codes, counts, int(codes[major[0]]))
    motif = _motif_of(scores)
    out["motif"] = motif
    out["label"], out["confidence"] = _label(motif, scores, sl, 2, max_alpha)
    return out


def _label(motif, scores, sl, n_species, max_alpha) -> tuple[str, float]:
    if n_species < 2:
        return "other", 0.0
    if motif is not None:
        conf = sl["fit"] if sl["name"] is not None else scores.get(motif, 0.0)
        return motif, float(conf)
    if sl["name"] is not None:
        return sl["name"], float(sl["fit"])
    return ("disordered" if max_alpha < 1.0 else "short-range order"), float(sl["fit"])


def _motif_of(scores: dict) -> str | None:
    best = max(scores, key=scores.get) if scores else None
    return best if best is not None and scores[best] >= MOTIF_THRESHOLD else None


_CAPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _trans_pairs(supercell):
    """(alkali sites (m,), TM site pairs (m, k, 2)) on a straight line through each alkali-layer site
    (one TM neighbour below, one above: the trans 'cap' geometry of Li2MnO3, -1 padded), cached."""
    cached = _CAPS.get(supercell)
    if cached is None:
        from core.structure.hosts import ROLE_TM
        alk = supercell.alkali_sites
        idx, vec = supercell.neighbours(alk, ROLE_TM, n=8, rmax=4.0)
        unit = np.nan_to_num(vec / np.linalg.norm(vec, axis=2, keepdims=True))
        dots = np.einsum("nak,nbk->nab", unit, unit)
        ok = (idx[:, :, None] >= 0) & (idx[:, None, :] >= 0) & (-dots >= 0.99)
        pairs = -np.ones((len(alk), 4, 2), dtype=np.int64)
        for r in range(len(alk)):
            ab = np.argwhere(np.triu(ok[r]))[:4]
            pairs[r, :len(ab)] = idx[r][ab]
        cached = (alk, pairs)
        _CAPS[supercell] = cached
    return cached


def _centres(model, layers, hnf) -> np.ndarray:
    """(N,) bool: TM sites on the coset of the sqrt3 superlattice `hnf` whose majority is the least
    abundant species (the ideal honeycomb centres of the fitted pattern, defects ignored)."""
    from core.orderings.superlattice import coset_labels
    sc = model.supercell
    P = np.asarray(hnf, dtype=np.int64)
    out = np.zeros(sc.n_sites + 1, dtype=bool)  # the last entry absorbs -1 padding
    for L in layers:
        sites = sc.layer_sites(L)
        lab = coset_labels(P, sc.ijk[sites, :2])
        occ = ELEMENT_CODE[model.occupancy[sites]].astype(np.int64)
        maj = np.array([np.bincount(occ[lab == k]).argmax() for k in range(3)])
        counts = np.bincount(maj, minlength=int(maj.max()) + 1)
        lone = [k for k in range(3) if counts[maj[k]] == 1]
        if len(lone) == 1:
            out[sites[lab == lone[0]]] = True
    return out


@lru_cache(maxsize=1)
def _tm_like(alkali) -> np.ndarray:
    return np.array([SPECIES[c] not in alkali and SPECIES[c] != "O" and c != VACANCY for c in range(len(SPECIES))])


def _capped(model, layer, sl) -> bool:
    """True for a honeycomb (sqrt3 superlattice, one coset of its own species) with at least half of
    the TM ions in the alkali layers sitting on sites trans between two honeycomb centres."""
    from core.structure.species import ALKALI
    if sl["index"] != 3 or sl["hnf"] is None:
        return False
    sc = model.supercell
    occ = model.occupancy
    tm_like = _tm_like(ALKALI)
    alk, pairs = _trans_pairs(sc)
    held = tm_like[occ[alk]]
    if layer is not None:
        held &= np.isin(sc.layer[alk], [int(layer), (int(layer) - 1) % sc.layers])
    if not held.any():
        return False
    centre = _centres(model, range(sc.layers), sl["hnf"])  # caps of one layer touch its neighbours
    is_cap = (centre[pairs[..., 0]] & centre[pairs[..., 1]] & (pairs[..., 0] >= 0)).any(axis=1)
    return bool(is_cap[held].mean() >= 0.5)


def _motif_scores(occ, nb, codes, counts, minority, interior=None) -> dict[str, float]:
    """Fraction of centre sites matching each motif (centre sites inside a domain when `interior`
    (n,) bool is given and holds some)."""
    scores: dict[str, float] = {}
    if len(codes) < 2:
        return scores
    c = occ == minority
    if interior is not None and (c & interior).any():
        c = c & interior
    n1, n2, n3 = (x[c] for x in nb)
    if c.any():
        same1 = (n1 == n1[:, :1]).all(axis=1) & (n1[:, 0] != minority)
        cen2 = n2 == minority
        k2 = cen2.sum(axis=1)
        opposite2 = (cen2[:, :3] & cen2[:, 3:]).any(axis=1)
        scores["honeycomb"] = float((same1 & (k2 == 6)).mean())
        scores["ribbon"] = float((same1 & (k2 == 2) & opposite2 & ~(n3 == minority).any(axis=1)).mean())
        if len(codes) >= 3:
            same2 = (n2 == n2[:, :1]).all(axis=1) & (n2[:, 0] != minority) & (n2[:, 0] != n1[:, 0])
            scores["flower"] = float((same1 & same2).mean())
    if len(codes) == 2 and counts.min() * 10 >= counts.max() * 9:  # 1:1 within 10 %
        like1 = nb[0] == occ[:, None]
        like3 = (nb[2] == occ[:, None]).sum(axis=1)
        two = like1.sum(axis=1) == 2
        # |u1 + u2|^2 of the two like-neighbour directions: 0 opposite (stripe), 1 at 120 deg (zigzag)
        r2 = (like1 @ _COS) ** 2 + (like1 @ _SIN) ** 2
        scores["stripe"] = float((two & (r2 < 0.5) & (like3 == 6)).mean())
        scores["zigzag"] = float((two & (np.abs(r2 - 1.0) < 0.5) & (like3 == 2)).mean())
    return scores


__all__ = ["recognise", "alkali_layer", "LABELS", "MOTIFS", "ring_centres"]
