"""Simulated powder XRD of a model (pymatgen's XRDCalculator, Cu K-alpha) and the honeycomb window.

The honeycomb (sqrt3 x sqrt3) superlattice reflections of Li2MnO3-type layers fall at 2-theta ~ 20-30
degrees for Cu K-alpha (Bréger et al., J. Solid State Chem. 178, 2575 (2005); Boulineau et al., Chem.
Mater. 21, 4216 (2009); docs/science.md §11); a disordered layer shows none. pymatgen holds the GIL for the whole pattern
(25-35 s on a 24x24x3 cell): a GUI runs `simulate_xrd` in a child process.
"""
from __future__ import annotations

import numpy as np

WINDOW = (20.0, 30.0)      # superlattice window, degrees 2-theta
RANGE = (10.0, 80.0)       # computed range, degrees 2-theta
FWHM = 0.25                # degrees, Gaussian broadening of a displayed profile (display only)
PROFILE_POINTS = 3500      # grid points of the broadened profile


def simulate_xrd(model, two_theta_range=RANGE) -> dict:
    """Powder pattern of the model's supercell with pymatgen's XRDCalculator (Cu K-alpha, 1.54184 A).

    Returns {"two_theta": (P,) deg, "intensity": (P,) scaled so the strongest peak is 100,
    "hkl": list of P labels, "window_sum": summed intensity in WINDOW, "window_max": strongest
    peak in WINDOW (same scale), "grid": (G,) deg and "profile": (G,) the peaks broadened by FWHM
    (for display; a big cell has thousands of peaks, so this is done here, not per redraw)}.
    """
    from pymatgen.analysis.diffraction.xrd import XRDCalculator

    from core.io.pmg import to_structure

    pattern = XRDCalculator("CuKa").get_pattern(to_structure(model), two_theta_range=two_theta_range)
    x = np.asarray(pattern.x, float)
    y = np.asarray(pattern.y, float)
    w = (x >= WINDOW[0]) & (x <= WINDOW[1])
    hkl = [", ".join("".join(str(i) for i in h["hkl"]) for h in fam) for fam in pattern.hkls]
    grid = np.linspace(*two_theta_range, PROFILE_POINTS)
    return {"two_theta": x, "intensity": y, "hkl": hkl, "window_sum": float(y[w].sum()),
            "window_max": float(y[w].max()) if w.any() else 0.0,
            "grid": grid, "profile": broadened(x, y, grid)}


def broadened(two_theta: np.ndarray, intensity: np.ndarray, grid: np.ndarray, fwhm: float = FWHM):
    """Sum of unit-height Gaussians (FWHM in degrees) at the peaks, on `grid` (deg)."""
    sigma = fwhm / 2.3548
    out = np.zeros_like(grid)
    for x0, h in zip(two_theta, intensity):
        lo, hi = np.searchsorted(grid, [x0 - 5 * sigma, x0 + 5 * sigma])
        out[lo:hi] += h * np.exp(-0.5 * ((grid[lo:hi] - x0) / sigma) ** 2)
    return out


__all__ = ["simulate_xrd", "broadened", "WINDOW", "RANGE", "FWHM"]
