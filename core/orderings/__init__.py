"""Cation orderings: presets (`presets`, `honeycomb`, `patterns`), recognition, enumeration and Monte Carlo.

The package face re-exports the preset API, so ``from core.orderings import preset_occupancy`` works.
"""
from core.orderings.honeycomb import O_STACKINGS, P2_STACKINGS, honeycomb, honeycomb_minority_mask, honeycomb_offsets
from core.orderings.presets import PRESETS, preset_occupancy

__all__ = ["PRESETS", "preset_occupancy", "honeycomb", "honeycomb_offsets", "honeycomb_minority_mask",
           "O_STACKINGS", "P2_STACKINGS"]
