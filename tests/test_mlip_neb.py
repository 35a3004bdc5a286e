"""NEB set-up: the band through a tetrahedral intermediate (tetrahedral-site hop) checked by hand
geometry, and the two-stage (plain band, then climbing image) run with resume, on a cheap pair
potential (ASE's Lennard-Jones) so no force-field weights are needed."""
import json

import numpy as np
import pytest

from core.migration.search import find_paths
from core.mlip.neb import NEBError, end_points, initial_band, neb_path
from core.mlip.relax import run
from core.structure.model import Model
from core.structure.species import VACANCY


def divacancy_lco(n: str = "3") -> Model:
    """O3 LiCoO2 n x n x 1 with two nearest-neighbour Li removed."""
    m = Model.build("O3", "Li", n, 1, tm_spec="Co")
    a = int(m.supercell.alkali_sites[0])
    idx, _ = m.supercell.neighbours(np.array([a]), "alkali_oct", n=6, rmax=3.2)
    m.apply([(a, VACANCY), (int(idx[0][idx[0] >= 0][0]), VACANCY)])
    return m


def test_tetrahedral_band_passes_through_the_tetrahedron():
    m = divacancy_lco()
    path = find_paths(m, kinds=("alkali_tet",), species="Li", energies=False)[0]
    assert path.intermediate is not None
    start, end, k = end_points(m, path)
    mid = (len(path.images) - 1) // 2
    via = np.asarray(path.images[mid])
    band = initial_band(start, end, k, 3, via)
    assert len(band) == 5
    a_pos, b_pos = start.positions[k], end.positions[k]
    np.testing.assert_allclose(band[2].positions[k], via, atol=1e-12)
    # t = 1/4 and 3/4: halfway along each straight leg
    np.testing.assert_allclose(band[1].positions[k], 0.5 * (a_pos + via), atol=1e-12)
    np.testing.assert_allclose(band[3].positions[k], 0.5 * (via + b_pos), atol=1e-12)
    # every other atom stays on its straight line (here: does not move, the cell is ideal)
    others = np.arange(len(start)) != k
    np.testing.assert_allclose(band[2].positions[others], start.positions[others], atol=1e-12)

    # hand geometry of the alkali-layer tetrahedron: its centre is the centroid of its four O, three in
    # one O plane (height -d from the Li plane) and one in the other (+d), so it sits d/2 off the Li
    # plane; in-plane it is the centroid of the three Li octahedra it shares faces with (side a), a/sqrt3
    # from each of them.
    a = float(np.linalg.norm(b_pos - a_pos))
    o = np.array([s == "O" for s in start.get_chemical_symbols()])
    from ase.geometry import find_mic

    vec, dist = find_mic(start.positions[o] - via, start.cell, pbc=True)
    near = np.argsort(dist)[:4]
    np.testing.assert_allclose(via + vec[near].mean(axis=0), via, atol=1e-9)
    normal = np.cross(start.cell[0], start.cell[1])
    normal /= np.linalg.norm(normal)
    h = np.sort(vec[near] @ normal)  # O heights relative to the tetrahedron centre
    h1 = h[1:] if abs(h[0] - h[1]) > 1e-6 else h[:3]  # the three in one plane
    h2 = h[0] if abs(h[0] - h[1]) > 1e-6 else h[3]  # the apex in the other
    np.testing.assert_allclose(h1, h1[0], atol=1e-9)
    assert abs(h2 + 3 * h1[0]) < 1e-9  # centroid of three at h1 and one at h2
    off = a_pos - via  # the Li plane lies midway between the two O planes: d/2 from the centre
    assert abs(off @ normal - 0.5 * (h1[0] + h2)) < 1e-9
    assert abs(abs(off @ normal) - abs(h1[0])) < 1e-9
    inplane = off - (off @ normal) * normal
    assert abs(np.linalg.norm(inplane) - a / np.sqrt(3)) < 1e-9


def test_unknown_optimizer_is_one_clear_error():
    m = divacancy_lco("2")
    path = find_paths(m, kinds=("alkali_tet",), species="Li", energies=False)[0]
    from ase.calculators.lj import LennardJones

    with pytest.raises(NEBError, match="choose FIRE, BFGS or MDMin"):
        run(neb_path(m, path, LennardJones(), climb_optimizer="LBFGS"))


def test_via_init_needs_an_intermediate():
    m = Model.build("O3", "Li", "2", 1, tm_spec="Co")
    m.apply([(int(m.supercell.alkali_sites[0]), VACANCY)])
    path = find_paths(m, kinds=("alkali_dumbbell",), species="Li", energies=False)[0]
    from ase.calculators.lj import LennardJones

    with pytest.raises(NEBError, match="no tetrahedral intermediate"):
        run(neb_path(m, path, LennardJones(), init="via"))


def test_plain_band_then_climbing_image_and_resume(tmp_path):
    from ase.calculators.lj import LennardJones

    m = divacancy_lco("2")
    path = find_paths(m, kinds=("alkali_tet",), species="Li", energies=False)[0]
    calc = LennardJones(sigma=1.0, epsilon=0.01, rc=4.0)
    out = tmp_path / "neb"
    gen = neb_path(m, path, calc, out_dir=str(out), n_images=1, fmax=1e-6, steps=3,
                   endpoint_steps=2, climb_below=1e9, maxstep=0.05, climb_optimizer="MDMin",
                   climb_maxstep=0.02)
    climbing = []
    try:
        while True:
            ev = next(gen)
            if ev["stage"] == "band":
                climbing.append(ev["climbing"])
    except StopIteration as stop:
        res = stop.value
    # one plain-band step (fmax below 1e9 at once), then the climbing image takes over
    assert climbing[0] is False and climbing.count(False) == 1 and all(climbing[1:]) and len(climbing) == 4
    assert res.climbing and not res.converged and res.steps == 3
    assert (out / "band_preclimb.traj").exists()  # the plain band kept at the switch
    saved = json.loads((out / "neb.json").read_text())
    assert saved["climbing"] and saved["total_steps"] == 3
    # resume: same band, stays climbing, the step count goes on
    again = run(neb_path(m, path, calc, out_dir=str(out), n_images=1, fmax=1e-6, steps=2,
                         endpoint_steps=2, climb_below=1e9))
    assert again.resumed and again.climbing and again.total_steps == 3 + 1 + 2
