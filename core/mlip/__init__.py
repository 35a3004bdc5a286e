"""Realistic energies beside Ewald: any ASE calculator (CHGNet by default when installed) for single
points, relaxations, magnetic moments and NEB barriers of a model.

    em = get_energy_model("chgnet", threads=2)       # or "ewald", an ASE calculator, or a model file
    res = run(relax(model, em, fmax=0.05, steps=50))   # generator: yields progress dicts
    res.energy_eV, res.energy_eV_per_MO2, res.magmoms

Sits above `core.io` (it reads models and writes structures) and below `core.report`/`core.cli`.
torch, CHGNet and ASE are imported inside functions: importing this package is cheap.
"""
