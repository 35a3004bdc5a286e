"""The preset catalogue: names, one-line descriptions and the dispatcher `preset_occupancy`.

Each preset is a function ``fn(model, *, seed=0, **params) -> occupancy`` in `core.orderings.honeycomb` or
`core.orderings.patterns`; this module only names them, so neither of those imports the other's dispatcher.
"""
from __future__ import annotations

import inspect

import numpy as np

from core.errors import OrderingError
from core.orderings import patterns
from core.orderings.honeycomb import honeycomb

#: Preset name -> one-line description (for menus, `--ordering` help and the report).
PRESETS: dict[str, str] = {
    "honeycomb": "sqrt3 x sqrt3 honeycomb: 1/3 minority (Li, Mg, Ni...) each ringed by six majority "
                 "(Mn); stacking C2/m, P3_112, P3_212, C2/c, faults (O3) or eclipsed/staggered (P2)",
    "ribbon": "Li1/5Mn4/5 ribbon (-Li-4Mn-Li-) on the index-5 cell [[5,0],[2,1]]",
    "capped_honeycomb": "honeycomb plus TM 'caps' on the alkali-layer site trans between two "
                        "honeycomb-centre minority ions (cap_fraction of the centres)",
    "flower": "LiNi0.5Mn0.5O2 flower on 2sqrt3 x 2sqrt3: Li ringed by six Mn in the TM layer, "
              "Li/Ni exchange 1/12",
    "zigzag": "1:1 zigzag chains (lower-valent where (2i + j) mod 4 in {0, 1})",
    "stripe": "1:1 stripes / rows (lower-valent where j mod 2 == 0)",
    "li_excess_composite": "Li2MnO3-like honeycomb domains (domain_size in a) in a random LiMO2 matrix, "
                           "e.g. Li[Li0.2Ni0.2Mn0.6]O2",
    "random": "random arrangement of each sublattice's composition (seeded)",
}

_FUNCTIONS = {"honeycomb": honeycomb, "ribbon": patterns.ribbon, "capped_honeycomb": patterns.capped_honeycomb,
              "flower": patterns.flower, "zigzag": patterns.zigzag, "stripe": patterns.stripe,
              "li_excess_composite": patterns.li_excess_composite, "random": patterns.random_occupancy}


def preset_occupancy(model, name: str, *, seed: int = 0, **params) -> np.ndarray:
    """New occupancy (N,) int8 of `model` arranged in the named preset (see `PRESETS`).

    The species counts of each sublattice (TM layer, alkali layer; for flower and capped honeycomb
    the two together) are those of ``model.occupancy``; the model itself is not changed.
    Raises OrderingError if the preset does not fit the composition, supercell or stacking.
    """
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    key = {"capped": "capped_honeycomb", "composite": "li_excess_composite", "li_excess": "li_excess_composite",
           "row": "stripe", "stripes": "stripe", "ribbons": "ribbon"}.get(key, key)
    if key not in PRESETS:
        raise OrderingError(f"unknown ordering {name!r}; choose one of {', '.join(PRESETS)}")
    fn = _FUNCTIONS[key]
    accepted = [p for p in inspect.signature(fn).parameters if p not in ("model", "seed")]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise OrderingError(f"{key} has no parameter {', '.join(unknown)}; its parameters: "
                            f"{', '.join(accepted) or 'none'} (and seed)")
    occ = fn(model, seed=seed, **params)
    return np.asarray(occ, dtype=np.int8)


__all__ = ["PRESETS", "preset_occupancy"]
