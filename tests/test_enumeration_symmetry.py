"""Enumeration reduced by the parent crystal's or the isolated layer's symmetry; class counts checked by
Burnside's lemma over the site permutations; count and time estimate before running; CLI."""
import itertools

import numpy as np
import pytest

from core.cli import main
from core.orderings.enumeration import enumerate_orderings, estimate_enumeration, site_permutations
from core.orderings.montecarlo import active_sites
from core.structure.model import Model


def _burnside(perms, n, k):
    """Number of orbits of the k-subsets of n sites under the permutation group (average fixed count)."""
    subsets = [np.array(c) for c in itertools.combinations(range(n), k)]
    fixed = 0
    for p in perms:
        for c in subsets:
            x = np.zeros(n, bool)
            x[c] = True
            fixed += bool(np.array_equal(x[p], x))
    return fixed // len(perms)


@pytest.mark.parametrize("symmetry,group", [("parent", "R-3m"), ("layer", "P6/mmm")])
def test_classes_match_burnside(symmetry, group):
    m = Model.build("O3", "Li", "3x3", tm_spec="Li:1/3,Mn:2/3")
    classes, info = enumerate_orderings(m, "tm", symmetry=symmetry, with_info=True)
    assert info["reduced_by"] == symmetry and info["space_group"] == group
    sites, _ = active_sites(m, "tm")
    perms, _ = site_permutations(m, sites, symmetry=symmetry)
    assert len(classes) == _burnside(perms, 9, 3)
    assert sum(c["multiplicity"] for c in classes) == 84      # C(9, 3)
    if symmetry == "parent":   # the crystal's operations keep the energy: one energy per class
        assert all(abs(c["energy_max_eV"] - c["energy_eV"]) < 1e-6 for c in classes)


def test_layer_symmetry_merges_parent_classes():
    """A single O3 TM layer is six-fold on its own but three-fold in the crystal: the layer classes are
    unions of parent classes (fewer, same multiplicity total, the same ground state)."""
    m = Model.build("O3", "Li", "3x3", tm_spec="Li:1/3,Mn:2/3")
    parent = enumerate_orderings(m, "tm", symmetry="parent")
    layer = enumerate_orderings(m, "tm", symmetry="layer")
    assert len(layer) < len(parent)
    assert layer[0]["energy_eV"] == pytest.approx(parent[0]["energy_eV"])
    pe = sorted(round(c["energy_eV"], 6) for c in parent)
    for c in layer:   # every layer class spans energies that are parent-class energies
        assert round(c["energy_eV"], 6) in pe and round(c["energy_max_eV"], 6) in pe


def test_estimate_before_running():
    m = Model.build("O3", "Li", "4x4", tm_spec="Ni:1/2,Mn:1/2")
    est = estimate_enumeration(m, "tm", "layer")
    assert est["count"] == 12870 and est["feasible"]       # C(16, 8)
    assert 0 < est["seconds"] < 60
    assert est["symmetry"]["space_group"] == "P6/mmm"
    big = estimate_enumeration(Model.build("O3", "Li", "6x6", tm_spec="Li:1/3,Mn:2/3"), "tm")
    assert big["count"] == 1251677700 and not big["feasible"]  # C(36, 12)


def test_cli_enumerate(tmp_path, capsys):
    src = tmp_path / "m.json"
    assert main(["build", "--tm", "Li:1/3,Mn:2/3", "--supercell", "3", "-o", str(src)]) == 0
    capsys.readouterr()
    assert main(["enumerate", str(src), "--symmetry", "both"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("84 arrangements") and "parent crystal (R-3m" in out[0] and "estimated" in out[0]
    assert any("isolated layer (P6/mmm" in line for line in out)
    big = tmp_path / "b.json"
    assert main(["build", "--tm", "Li:1/3,Mn:2/3", "--supercell", "6", "-o", str(big)]) == 0
    capsys.readouterr()
    assert main(["enumerate", str(big), "--estimate"]) == 0
    assert capsys.readouterr().out.startswith("1251677700 arrangements")
    assert main(["enumerate", str(big)]) == 1
    err = capsys.readouterr().err
    assert "exceed" in err and len(err.strip().splitlines()) == 1
