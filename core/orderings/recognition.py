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
`other` (confidence 1 - threshold / max |alpha|).
"""
from __future__ import annotations

import weakref

import numpy as np

from core.structure.species import CODE, ELEMENT_CODE, SPECIES, VACANCY

LABELS = ("honeycomb", "ribbon", "flower", "zigzag", "stripe", "disordered", "other")
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
      label (one of LABELS), confidence (0..1), motif_scores {motif: fraction of centre sites matching},
      composition {species: fraction of TM sites}, minority / majority (symbols; least / most abundant),
      isolated_minority_fraction (minority sites whose six first neighbours are all majority),
      neighbour_counts {A: {B: histogram (7,) of how many B first neighbours each A site has}},
      mean_neighbours {"A-B": mean number of B first neighbours of an A site},
      warren_cowley {"A-B": [alpha_1, alpha_2, alpha_3]} with alpha = 1 - P(B | A neighbour) / c_B,
      n_sites, layer.
    """
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
    ns = len(SPECIES)
    wc = {}
    alphas = []  # |alpha| / threshold, threshold = max(SRO_DISORDER, 3 sigma of a random arrangement)
    for s in range(3):
        pair = np.bincount((occ[:, None] * ns + nb[s]).ravel(), minlength=ns * ns).reshape(ns, ns)
        for _ia, a in enumerate(codes):
            row = pair[a].sum()
            for ib, b in enumerate(codes):
                alpha = 1.0 - (pair[a, b] / row) / frac[ib] if row else 0.0
                wc.setdefault(f"{SPECIES[a]}-{SPECIES[b]}", []).append(float(alpha))
                if len(codes) > 1 and row:
                    # binomial estimate of P(B | A neighbour) from `row` neighbour draws
                    sigma = np.sqrt(frac[ib] * (1.0 - frac[ib]) / row) / frac[ib]
                    alphas.append(abs(alpha) / max(SRO_DISORDER, 3.0 * sigma))
    out["warren_cowley"] = wc
    if len(codes) > 1:
        iso = (nb[0][occ == minority] == majority).all(axis=1).mean()
    else:
        iso = 0.0
    out["isolated_minority_fraction"] = float(iso)
    scores = _motif_scores(occ, nb, codes, counts, minority)
    out["motif_scores"] = scores
    best = max(scores, key=scores.get) if scores else None
    max_alpha = max(alphas) if alphas else 0.0
    if best is not None and scores[best] >= MOTIF_THRESHOLD:
        out["label"], out["confidence"] = best, float(scores[best])
    elif len(codes) < 2:
        out["label"], out["confidence"] = "other", 0.0
    elif max_alpha < 1.0:
        out["label"], out["confidence"] = "disordered", float(1.0 - max_alpha)
    else:
        out["label"], out["confidence"] = "other", float(1.0 - 1.0 / max_alpha)
    return out


def _motif_scores(occ, nb, codes, counts, minority) -> dict[str, float]:
    scores: dict[str, float] = {}
    if len(codes) < 2:
        return scores
    c = occ == minority
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


__all__ = ["recognise", "LABELS"]
