"""The built-in demo model: honeycomb-ordered Li2MnO3 = Li[Li1/3Mn2/3]O2 in an O3 host.

Built with `core` (never stored as numbers): a 6 x 6 in-plane cell (commensurate with the sqrt3 x sqrt3
honeycomb) with 3 TM layers, Li on the (i + j) mod 3 == 0 coset of every TM layer (docs/science.md §2),
so every Li has six Mn neighbours and every Mn three Li.
"""
from __future__ import annotations

import numpy as np

DEMO_TITLE = "Li2MnO3 honeycomb (O3, 6x6x3)"


def build_demo_model(size: int = 6, layers: int = 3):
    """Model of honeycomb Li[Li1/3Mn2/3]O2 (O3); `size` must be a multiple of 3."""
    from core.structure.model import Model
    from core.structure.species import CODE

    model = Model.build("O3", "Li", str(size), layers=layers, tm_spec="Li:1/3,Mn:2/3")
    occ = None
    try:
        from core.orderings import preset_occupancy
        occ = preset_occupancy(model, "honeycomb")
    except ImportError:
        pass
    if occ is None:
        sc = model.supercell
        tm = sc.tm_sites
        i, j = sc.ijk[tm, 0], sc.ijk[tm, 1]
        occ = model.occupancy.copy()
        occ[tm] = np.where((i + j) % 3 == 0, CODE["Li"], CODE["Mn"]).astype(np.int8)
    model.set_occupancy(occ)
    model.metadata["title"] = DEMO_TITLE
    return model
