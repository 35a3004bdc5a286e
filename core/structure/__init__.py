"""Host lattices, supercells, species, compositions and the Model (occupancy array + flips); spglib wrapper."""
