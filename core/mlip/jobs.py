"""Whole force-field jobs as single generator functions with positional arguments: what the window runs in
its force-field child process (one process that keeps the loaded CHGNet between jobs)."""
from __future__ import annotations

from core.mlip.models import get_energy_model
from core.mlip.moments import result_moments, soc_moments
from core.mlip.neb import neb_path
from core.mlip.relax import relax, single_point
from core.mlip.rerank import rerank


def load_model(spec="chgnet") -> str:
    """Load the energy model once in this process (later jobs reuse it); returns its name."""
    return get_energy_model(spec).name


def relax_with_moments(model, spec="chgnet", fmax: float = 0.05, steps: int = 100, cell: bool = False,
                       abort=None):
    """Generator: single point (steps == 0) or relaxation of `model`; returns (EnergyResult, moment analysis)."""
    if steps == 0:
        res = single_point(model, spec)
    else:
        res = yield from relax(model, spec, fmax=fmax, steps=steps, cell=cell, abort=abort)
    return res, result_moments(res, model)


def neb_job(model, path, spec="chgnet", n_images: int = 5, fmax: float = 0.1, steps: int = 150,
            out_dir=None, abort=None):
    """Generator: `core.mlip.neb.neb_path` of `path` in `model`, saving (and resuming) the band in `out_dir`;
    `steps` bounds each end-point relaxation and the band alike."""
    return (yield from neb_path(model, path, spec, out_dir=out_dir, n_images=n_images, fmax=fmax, steps=steps,
                                endpoint_steps=steps, abort=abort))


def rerank_job(model, occupancies, spec="chgnet", abort=None):
    """Generator: `core.mlip.rerank.rerank` (single points on the ideal lattice)."""
    return (yield from rerank(model, occupancies, spec, abort=abort))


def soc_job(model, spec="chgnet", steps: int = 4, order: str = "electrostatic", abort=None):
    """Generator: `core.mlip.moments.soc_moments` along the state-of-charge path of `model`."""
    return (yield from soc_moments(model, spec, steps=steps, abort=abort, order=order))


__all__ = ["load_model", "relax_with_moments", "neb_job", "rerank_job", "soc_job"]
