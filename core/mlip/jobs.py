"""Whole force-field jobs as single generator functions (what the window runs in the worker process)."""
from __future__ import annotations

from core.mlip.moments import result_moments
from core.mlip.relax import relax, single_point


def relax_with_moments(model, spec="chgnet", fmax: float = 0.05, steps: int = 100, cell: bool = False,
                       abort=None):
    """Generator: single point (steps == 0) or relaxation of `model`; returns (EnergyResult, moment analysis)."""
    if steps == 0:
        res = single_point(model, spec)
    else:
        res = yield from relax(model, spec, fmax=fmax, steps=steps, cell=cell, abort=abort)
    return res, result_moments(res, model)


__all__ = ["relax_with_moments"]
